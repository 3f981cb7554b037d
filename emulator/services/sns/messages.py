"""The documents SNS sends, field for field as AWS sends them, and the HTTP headers that go with them.

- ``notification``: the JSON envelope of a published message (HTTP/S, email-json, SQS, Firehose);
  ``lambda_event`` wraps it the way Lambda receives it (``SigningCertUrl``/``UnsubscribeUrl``
  spelled so, ``Subject`` null when absent, ``MessageAttributes`` always present).
- ``subscription_confirmation`` / ``unsubscribe_confirmation``: the handshake documents.
- ``sqs_message``: what an SQS queue receives (body, message attributes, FIFO group and
  deduplication ids), for SQS subscriptions, Firehose and dead-letter queues.
- ``email_notification`` / ``email_confirmation``: the mail AWS sends.

Field order follows AWS's examples (a subscriber that logs bodies sees the same text). Signing is
not done here: the documents come back with their ``SignatureVersion`` and empty ``Signature`` and
``SigningCertURL`` in place, and the caller signs them on the delivery worker
(``signing.Signer.sign_document``). Messages of FIFO topics carry a
``SequenceNumber`` and no signature fields, as AWS delivers them.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any
from urllib.parse import quote

from emulator.services.sns.models import Message, Topic

USER_AGENT = "Amazon Simple Notification Service Agent"
DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"
EMAIL_SENDER = "no-reply@sns.amazonaws.com"
EMAIL_DEFAULT_SUBJECT = "AWS Notification Message"
EMAIL_DEFAULT_DISPLAY_NAME = "AWS Notifications"
EMAIL_CONFIRMATION_SUBJECT = "AWS Notification - Subscription Confirmation"
_EMAIL_FOOTER = (
    "Please do not reply directly to this email. If you have any questions or comments regarding this "
    "email, please contact us at https://aws.amazon.com/support"
)


def timestamp(epoch: float) -> str:
    """ISO 8601 in UTC with milliseconds, as SNS writes every Timestamp: 2012-04-26T20:45:04.751Z."""
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def subscribe_url(base_url: str, topic_arn: str, token: str) -> str:
    return f"{base_url}/?Action=ConfirmSubscription&TopicArn={quote(topic_arn, safe=':')}&Token={quote(token)}"


def unsubscribe_url(base_url: str, subscription_arn: str) -> str:
    return f"{base_url}/?Action=Unsubscribe&SubscriptionArn={quote(subscription_arn, safe=':')}"


def _b64(binary: Any) -> str:
    return base64.b64encode(binary if isinstance(binary, bytes) else str(binary).encode()).decode("ascii")


def envelope_attributes(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Message attributes as the JSON envelope shows them: ``{name: {"Type", "Value"}}``, binary in base64."""
    shown: dict[str, dict[str, str]] = {}
    for name, attribute in attributes.items():
        binary = attribute.get("BinaryValue")
        if binary is not None:
            value = _b64(binary)
        else:
            value = str(attribute.get("StringValue", ""))
        shown[name] = {"Type": str(attribute.get("DataType", "String")), "Value": value}
    return shown


def to_json(document: dict[str, Any]) -> str:
    """A message document as SNS writes it on the wire (HTTP bodies, SQS message bodies, email-json).

    SNS's documents are printed as Jackson's pretty printer prints them: one member a line, indented
    by two spaces, ``"Name" : value``, text as UTF-8 (not ``\\u`` escapes), and the
    ``MessageAttributes`` object with one compact attribute a line. Subscribers that compare bodies
    or parse them line by line see what they see from AWS.
    """
    lines = []
    for name, value in document.items():
        if isinstance(value, dict):
            members = ",\n".join(
                f"    {json.dumps(key, ensure_ascii=False)} : "
                f"{json.dumps(item, ensure_ascii=False, separators=(',', ':'))}"
                for key, item in value.items()
            )
            text = "{\n" + members + "\n  }" if members else "{ }"
        else:
            text = json.dumps(value, ensure_ascii=False)
        lines.append(f"  {json.dumps(name, ensure_ascii=False)} : {text}")
    return "{\n" + ",\n".join(lines) + "\n}"


def text_for(message: Message, protocol: str) -> str:
    """The text a protocol gets: with MessageStructure=json its own key, else "default"."""
    if message.structure:
        return message.structure.get(protocol, message.structure.get("default", message.message))
    return message.message


def _unsigned(signature_version: str) -> dict[str, Any]:
    """The signature fields in AWS's place, to be filled by ``Signer.sign_document`` before sending."""
    return {"SignatureVersion": signature_version, "Signature": None, "SigningCertURL": None}


def notification(message: Message, text: str, *, subscription_arn: str, base_url: str,
                 signature_version: str, fifo: bool) -> dict[str, Any]:
    """The Notification envelope (unsigned: a standard topic's caller adds Signature and SigningCertURL)."""
    document: dict[str, Any] = {"Type": "Notification", "MessageId": message.message_id}
    if fifo and message.sequence_number is not None:
        document["SequenceNumber"] = message.sequence_number
    document["TopicArn"] = message.topic_arn
    if message.subject is not None:
        document["Subject"] = message.subject
    document["Message"] = text
    document["Timestamp"] = timestamp(message.timestamp)
    if not fifo:
        document.update(_unsigned(signature_version))
    document["UnsubscribeURL"] = unsubscribe_url(base_url, subscription_arn)
    if message.attributes:
        document["MessageAttributes"] = envelope_attributes(message.attributes)
    return document


def subscription_confirmation(*, topic_arn: str, token: str, message_id: str, base_url: str, now: float,
                              signature_version: str) -> dict[str, Any]:
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": (
            f"You have chosen to subscribe to the topic {topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        ),
        "SubscribeURL": subscribe_url(base_url, topic_arn, token),
        "Timestamp": timestamp(now),
        **_unsigned(signature_version),
    }


def unsubscribe_confirmation(*, topic_arn: str, subscription_arn: str, token: str, message_id: str,
                             base_url: str, now: float, signature_version: str) -> dict[str, Any]:
    return {
        "Type": "UnsubscribeConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": (
            f"You have chosen to deactivate subscription {subscription_arn}.\n"
            "To cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
        ),
        "SubscribeURL": subscribe_url(base_url, topic_arn, token),
        "Timestamp": timestamp(now),
        **_unsigned(signature_version),
    }


def http_headers(message_type: str, message_id: str, topic_arn: str, subscription_arn: str | None,
                 content_type: str, raw: bool = False) -> dict[str, str]:
    """The headers of a POST to an HTTP/S endpoint (a SubscriptionConfirmation names no subscription)."""
    headers = {
        "x-amz-sns-message-type": message_type,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
    }
    if subscription_arn is not None:
        headers["x-amz-sns-subscription-arn"] = subscription_arn
    if raw:
        headers["x-amz-sns-rawdelivery"] = "true"
    headers["Content-Type"] = content_type
    headers["User-Agent"] = USER_AGENT
    return headers


def lambda_event(subscription_arn: str, envelope: dict[str, Any]) -> dict[str, Any]:
    """The event a Lambda function subscribed to a topic is invoked with."""
    sns: dict[str, Any] = {
        "Type": envelope["Type"],
        "MessageId": envelope["MessageId"],
    }
    if "SequenceNumber" in envelope:
        sns["SequenceNumber"] = envelope["SequenceNumber"]
    sns["TopicArn"] = envelope["TopicArn"]
    sns["Subject"] = envelope.get("Subject")
    sns["Message"] = envelope["Message"]
    sns["Timestamp"] = envelope["Timestamp"]
    if "SignatureVersion" in envelope:
        sns["SignatureVersion"] = envelope["SignatureVersion"]
        sns["Signature"] = envelope["Signature"]
        sns["SigningCertUrl"] = envelope["SigningCertURL"]
    sns["UnsubscribeUrl"] = envelope["UnsubscribeURL"]
    sns["MessageAttributes"] = envelope.get("MessageAttributes", {})
    return {"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": sns,
    }]}


def sqs_attributes(attributes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """SNS message attributes as SQS message attributes (raw delivery), binary values in base64."""
    converted: dict[str, dict[str, Any]] = {}
    for name, attribute in attributes.items():
        entry: dict[str, Any] = {"DataType": attribute.get("DataType", "String")}
        binary = attribute.get("BinaryValue")
        if binary is not None:
            entry["BinaryValue"] = _b64(binary)
        else:
            entry["StringValue"] = attribute.get("StringValue", "")
        converted[name] = entry
    return converted


def sqs_message(body: str, message: Message, *, raw: bool, fifo: bool) -> dict[str, Any]:
    """What the queue receives: the body, with raw delivery the attributes, on FIFO the group and dedup ids."""
    received: dict[str, Any] = {"MessageBody": body}
    if raw and message.attributes:
        received["MessageAttributes"] = sqs_attributes(message.attributes)
    if fifo:
        received["MessageGroupId"] = message.group_id
        received["MessageDeduplicationId"] = message.dedup_id
    return received


def email_sender(topic: Topic) -> str:
    return f"{topic.attributes.get('DisplayName') or EMAIL_DEFAULT_DISPLAY_NAME} <{EMAIL_SENDER}>"


def email_notification(sender: str, message: Message, text: str, endpoint: str, unsubscribe: str) -> dict[str, str]:
    """The mail of an ``email`` subscription: the text, then AWS's unsubscribe footer."""
    body = (
        f"{text}\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit "
        f"the link below to unsubscribe:\n{unsubscribe}\n\n{_EMAIL_FOOTER}"
    )
    return {"from": sender, "to": endpoint, "subject": message.subject or EMAIL_DEFAULT_SUBJECT,
            "body": body}


def email_confirmation(sender: str, topic_arn: str, endpoint: str, confirm_url: str) -> dict[str, str]:
    """The mail asking an ``email`` subscriber to confirm, with the link that confirms; ``sender`` is
    ``email_sender`` of the topic when the mail was sent."""
    body = (
        f"You have chosen to subscribe to the topic: \n{topic_arn}\n\n"
        "To confirm this subscription, click or visit the link below (If this was in error no action is "
        f"necessary): \n{confirm_url}\n\n{_EMAIL_FOOTER}"
    )
    return {"from": sender, "to": endpoint, "subject": EMAIL_CONFIRMATION_SUBJECT, "body": body}
