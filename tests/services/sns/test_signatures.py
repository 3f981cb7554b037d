"""SNS message signatures, verified the way a subscriber verifies them.

The subscriber's side, per AWS's "Verifying the signatures of Amazon SNS messages": fetch the
certificate at ``SigningCertURL`` over HTTP, load it, rebuild the canonical string from the message's
own fields (built here independently of the emulator's code), and check ``Signature`` with SHA1withRSA
for SignatureVersion 1 and SHA256withRSA for 2, for all three message types.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from emulator.services.sns import signing
from tests.receivers import Receiver
from tests.services.sns.test_handshake import http_get, subscribe_confirmed

# What each message type signs, as the AWS guide lists them (independent of signing.py's tables).
SIGNED_FIELDS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
    "UnsubscribeConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
}
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


def string_to_sign(message: dict[str, Any]) -> bytes:
    text = ""
    for name in SIGNED_FIELDS[message["Type"]]:
        if message.get(name) is not None:  # Lambda's events show an absent Subject as null
            text += f"{name}\n{message[name]}\n"
    return text.encode("utf-8")


def verify(message: dict[str, Any]) -> None:
    """Raises InvalidSignature unless the message is signed by the certificate its SigningCertURL serves."""
    status, pem = http_get(message["SigningCertURL"])
    assert status == 200
    certificate = x509.load_pem_x509_certificate(pem)
    certificate.public_key().verify(
        base64.b64decode(message["Signature"]), string_to_sign(message), padding.PKCS1v15(),
        HASHES[message["SignatureVersion"]](),
    )


# -------------------------------------------------------------------------- the subscriber's view
@pytest.mark.parametrize("version", ["1", "2"])
def test_every_message_type_verifies_with_the_served_certificate(sns: Any, http_receiver: Receiver,
                                                                 emulator_url: str, version: str) -> None:
    topic_arn = sns.create_topic(Name="signed", Attributes={"SignatureVersion": version})["TopicArn"]
    subscription_arn = subscribe_confirmed(sns, topic_arn, http_receiver)
    sns.publish(TopicArn=topic_arn, Message="with subject", Subject="Greetings")
    sns.publish(TopicArn=topic_arn, Message='no subject, "quotes" and\nnewlines \u00e9\u6f22')
    http_receiver.wait_for(3)
    sns.unsubscribe(SubscriptionArn=subscription_arn)
    received = [request.json() for request in http_receiver.wait_for(4)]

    assert [m["Type"] for m in received] == ["SubscriptionConfirmation", "Notification", "Notification",
                                              "UnsubscribeConfirmation"]
    for message in received:
        assert message["SignatureVersion"] == version
        assert message["SigningCertURL"].startswith(emulator_url + "/SimpleNotificationService-")
        assert message["SigningCertURL"].endswith(".pem")
        verify(message)
    assert sorted("Subject" in m for m in received[1:3]) == [False, True]


def test_a_tampered_message_fails_verification(sns: Any, http_receiver: Receiver) -> None:
    topic_arn = sns.create_topic(Name="signed")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, http_receiver)
    sns.publish(TopicArn=topic_arn, Message="original")
    message = http_receiver.wait_for(2)[1].json()
    verify(message)
    with pytest.raises(InvalidSignature):
        verify({**message, "Message": "forged"})


def test_signature_version_defaults_to_1(sns: Any, http_receiver: Receiver) -> None:
    topic_arn = sns.create_topic(Name="signed")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=http_receiver.url)
    assert http_receiver.wait_for(1)[0].json()["SignatureVersion"] == "1"


def test_an_unknown_certificate_name_is_404(emulator_url: str) -> None:
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as raised:
        http_get(emulator_url + "/SimpleNotificationService-00000000000000000000000000000000.pem")
    assert raised.value.code == 404


# -------------------------------------------------------------------------- the module itself
class _Holder:
    """Stands in for the provider, which caches its signer."""


@pytest.mark.parametrize(("document", "expected"), [
    ({"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": "hi", "Timestamp": "ts",
      "Subject": "s", "UnsubscribeURL": "u", "SignatureVersion": "1"},
     "Message\nhi\nMessageId\nm\nSubject\ns\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n"),
    ({"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": "hi", "Timestamp": "ts"},
     "Message\nhi\nMessageId\nm\nTimestamp\nts\nTopicArn\nt\nType\nNotification\n"),
    ({"Type": "SubscriptionConfirmation", "MessageId": "m", "Token": "k", "TopicArn": "t", "Message": "hi",
      "SubscribeURL": "s", "Timestamp": "ts"},
     "Message\nhi\nMessageId\nm\nSubscribeURL\ns\nTimestamp\nts\nToken\nk\nTopicArn\nt\n"
     "Type\nSubscriptionConfirmation\n"),
    ({"Type": "UnsubscribeConfirmation", "MessageId": "m", "Token": "k", "TopicArn": "t", "Message": "bye",
      "SubscribeURL": "s", "Timestamp": "ts"},
     "Message\nbye\nMessageId\nm\nSubscribeURL\ns\nTimestamp\nts\nToken\nk\nTopicArn\nt\n"
     "Type\nUnsubscribeConfirmation\n"),
])
def test_canonical_strings(document: dict[str, Any], expected: str) -> None:
    assert signing.canonical_string(document) == expected


def test_the_key_is_made_once_per_provider_and_only_on_first_use() -> None:
    holder = _Holder()
    assert signing.certificate_pem(holder, "SimpleNotificationService-x.pem") is None  # never creates it
    assert not hasattr(holder, "_signer")
    first = signing.signer(holder)
    assert signing.signer(holder) is first
    assert signing.certificate_pem(holder, first.name) == first.pem
    assert signing.certificate_pem(holder, "SimpleNotificationService-other.pem") is None
    assert signing.signer(_Holder()).name != first.name


@pytest.mark.parametrize("version", ["1", "2"])
def test_sign_document_verifies(version: str) -> None:
    holder = _Holder()
    document = {"Type": "Notification", "MessageId": "m", "TopicArn": "t", "Message": "hi", "Timestamp": "ts",
                "SignatureVersion": version, "Signature": None, "SigningCertURL": None}
    signing.signer(holder).sign_document(document, "http://localhost:4566/")
    assert list(document)[-2:] == ["Signature", "SigningCertURL"]
    assert document["SigningCertURL"] == f"http://localhost:4566/{signing.signer(holder).name}"
    key = x509.load_pem_x509_certificate(signing.signer(holder).pem).public_key()
    key.verify(base64.b64decode(document["Signature"]), string_to_sign(document), padding.PKCS1v15(),
               HASHES[version]())
