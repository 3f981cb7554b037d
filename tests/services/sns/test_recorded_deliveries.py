"""Deliveries the emulator records instead of sending (SQS, Lambda, Firehose, email, SMS, mobile push):
each payload exactly as AWS would send it, and the admin endpoint that shows them."""

from __future__ import annotations

import json
import urllib.error
from typing import Any

import pytest

from emulator.testing import admin
from tests.services.sns.test_handshake import http_get, recorded, wait_until
from tests.services.sns.test_signatures import verify

QUEUE = "arn:aws:sqs:us-east-1:000000000000:orders"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:handler"
STREAM = "arn:aws:firehose:us-east-1:000000000000:deliverystream/archive"
ROLE = "arn:aws:iam::000000000000:role/firehose"
ATTRIBUTES = {"color": {"DataType": "String", "StringValue": "red"},
              "blob": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}}


def one(url: str, **filters: str) -> dict[str, Any]:
    found = wait_until(lambda: recorded(url, **filters))
    assert len(found) == 1, found
    return found[0]


def test_sqs_receives_the_signed_envelope(sns: Any, emulator_url: str) -> None:
    topic_arn = sns.create_topic(Name="orders")["TopicArn"]
    subscription_arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=QUEUE)["SubscriptionArn"]
    message_id = sns.publish(TopicArn=topic_arn, Message="to a queue", Subject="S",
                             MessageAttributes=ATTRIBUTES)["MessageId"]

    entry = one(emulator_url, protocol="sqs")
    assert {k: entry[k] for k in ("topic", "subscription", "protocol", "endpoint", "messageId", "type")} == {
        "topic": topic_arn, "subscription": subscription_arn, "protocol": "sqs", "endpoint": QUEUE,
        "messageId": message_id, "type": "Notification"}
    assert list(entry["payload"]) == ["MessageBody"]
    envelope = json.loads(entry["payload"]["MessageBody"])
    assert (envelope["Type"], envelope["MessageId"], envelope["Subject"], envelope["Message"]) == (
        "Notification", message_id, "S", "to a queue")
    assert envelope["MessageAttributes"]["blob"] == {"Type": "Binary", "Value": "AQI="}
    assert envelope["UnsubscribeURL"].endswith(f"?Action=Unsubscribe&SubscriptionArn={subscription_arn}")
    verify(envelope)


@pytest.mark.parametrize(("protocol", "endpoint", "extra"), [
    ("sqs", QUEUE, {}),
    ("firehose", STREAM, {"SubscriptionRoleArn": ROLE}),
])
def test_raw_delivery_to_a_queue_or_stream(sns: Any, emulator_url: str, protocol: str, endpoint: str,
                                           extra: dict[str, str]) -> None:
    topic_arn = sns.create_topic(Name="orders")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint,
                  Attributes={"RawMessageDelivery": "true", **extra})
    sns.publish(TopicArn=topic_arn, Message="just this", MessageAttributes=ATTRIBUTES)
    assert one(emulator_url, protocol=protocol)["payload"] == {
        "MessageBody": "just this",
        "MessageAttributes": {"color": {"DataType": "String", "StringValue": "red"},
                              "blob": {"DataType": "Binary", "BinaryValue": "AQI="}},
    }


def test_lambda_receives_the_sns_event(sns: Any, emulator_url: str) -> None:
    topic_arn = sns.create_topic(Name="orders")["TopicArn"]
    subscription_arn = sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=FUNCTION)["SubscriptionArn"]
    message_id = sns.publish(TopicArn=topic_arn, Message="invoke")["MessageId"]

    event = one(emulator_url, protocol="lambda")["payload"]
    record = event["Records"][0]
    assert len(event["Records"]) == 1
    assert (record["EventSource"], record["EventVersion"], record["EventSubscriptionArn"]) == (
        "aws:sns", "1.0", subscription_arn)
    sns_part = record["Sns"]
    assert list(sns_part) == ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                              "SignatureVersion", "Signature", "SigningCertUrl", "UnsubscribeUrl",
                              "MessageAttributes"]
    assert (sns_part["MessageId"], sns_part["Subject"], sns_part["Message"], sns_part["MessageAttributes"]) == (
        message_id, None, "invoke", {})
    verify({**sns_part, "SigningCertURL": sns_part["SigningCertUrl"]})


def test_email_is_the_text_with_subject_and_unsubscribe_link(sns: Any, emulator_url: str) -> None:
    topic_arn = sns.create_topic(Name="news", Attributes={"DisplayName": "Newsroom"})["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="reader@example.com")
    confirmation = one(emulator_url, protocol="email")
    assert confirmation["type"] == "SubscriptionConfirmation"
    mail = confirmation["payload"]
    assert (mail["to"], mail["from"], mail["subject"]) == (
        "reader@example.com", "Newsroom <no-reply@sns.amazonaws.com>", "AWS Notification - Subscription Confirmation")
    link = next(line for line in mail["body"].splitlines() if "Action=ConfirmSubscription" in line)
    http_get(link)  # the reader clicks it

    sns.publish(TopicArn=topic_arn, Message="Today's news", Subject="Headlines")
    sns.publish(TopicArn=topic_arn, Message="No subject")
    mails = wait_until(lambda: [m for m in recorded(emulator_url, protocol="email") if m["type"] == "Notification"]
                       if len(recorded(emulator_url, protocol="email")) == 3 else None)
    assert [m["payload"]["subject"] for m in mails] == ["Headlines", "AWS Notification Message"]
    assert mails[0]["payload"]["body"].startswith("Today's news\n")
    assert "Action=Unsubscribe&SubscriptionArn=" in mails[0]["payload"]["body"]


def test_email_json_is_the_envelope(sns: Any, emulator_url: str) -> None:
    topic_arn = sns.create_topic(Name="news")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email-json", Endpoint="robot@example.com")
    confirmation = json.loads(one(emulator_url, protocol="email-json")["payload"]["body"])
    assert confirmation["Type"] == "SubscriptionConfirmation"
    verify(confirmation)
    sns.confirm_subscription(TopicArn=topic_arn, Token=confirmation["Token"])

    message_id = sns.publish(TopicArn=topic_arn, Message="as json")["MessageId"]
    sent = wait_until(lambda: recorded(emulator_url, protocol="email-json", messageId=message_id))
    envelope = json.loads(sent[0]["payload"]["body"])
    assert (envelope["Type"], envelope["Message"]) == ("Notification", "as json")
    verify(envelope)


def test_sms_subscription_gets_the_text(sns: Any, emulator_url: str) -> None:
    topic_arn = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sms", Endpoint="+15555550100")
    sns.publish(TopicArn=topic_arn, MessageStructure="json",
                Message=json.dumps({"default": "long text", "sms": "short"}))
    assert one(emulator_url, protocol="sms")["payload"] == {"phoneNumber": "+15555550100", "message": "short"}


def test_direct_publish_to_a_phone_number_is_recorded(sns: Any, emulator_url: str) -> None:
    message_id = sns.publish(PhoneNumber="+15555550123", Message="your code is 1234")["MessageId"]
    entry = one(emulator_url, protocol="sms")
    assert (entry["endpoint"], entry["messageId"], entry["subscription"]) == ("+15555550123", message_id, None)
    assert "1234" in json.dumps(entry["payload"])


def test_platform_endpoint_subscription_gets_the_platform_key(sns: Any, emulator_url: str) -> None:
    application = sns.create_platform_application(Name="app", Platform="GCM",
                                                  Attributes={"PlatformCredential": "key"})["PlatformApplicationArn"]
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=application, Token="device-1")["EndpointArn"]
    topic_arn = sns.create_topic(Name="push")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="application", Endpoint=endpoint)
    sns.publish(TopicArn=topic_arn, MessageStructure="json",
                Message=json.dumps({"default": "plain", "GCM": json.dumps({"data": {"k": "v"}})}))
    assert one(emulator_url, protocol="application")["payload"] == {
        "platform": "GCM", "token": "device-1", "message": json.dumps({"data": {"k": "v"}})}


def test_messages_endpoint_filters_by_topic_subscription_and_protocol(sns: Any, emulator_url: str,
                                                                       aws_client: Any) -> None:
    first = sns.create_topic(Name="first")["TopicArn"]
    second = sns.create_topic(Name="second")["TopicArn"]
    queue_sub = sns.subscribe(TopicArn=first, Protocol="sqs", Endpoint=QUEUE)["SubscriptionArn"]
    sns.subscribe(TopicArn=first, Protocol="lambda", Endpoint=FUNCTION)
    sns.subscribe(TopicArn=second, Protocol="sqs", Endpoint=QUEUE)
    sns.publish(TopicArn=first, Message="one")
    sns.publish(TopicArn=second, Message="two")
    wait_until(lambda: len(recorded(emulator_url)) == 3)

    assert len(recorded(emulator_url, topic=first)) == 2
    assert [m["topic"] for m in recorded(emulator_url, protocol="sqs")] == [first, second]
    assert [m["subscription"] for m in recorded(emulator_url, subscription=queue_sub)] == [queue_sub]
    assert recorded(emulator_url, protocol="email") == []
    other = admin(emulator_url, "/_emulator/sns/messages?account=111111111111&region=eu-west-1")["messages"]
    assert other == []

    elsewhere = aws_client("sns", account="111111111111")
    topic = elsewhere.create_topic(Name="first")["TopicArn"]
    elsewhere.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:111111111111:q")
    elsewhere.publish(TopicArn=topic, Message="theirs")
    theirs = wait_until(lambda: admin(emulator_url, "/_emulator/sns/messages?account=111111111111")["messages"])
    assert [m["topic"] for m in theirs] == [topic]
    assert len(recorded(emulator_url)) == 3


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/_emulator/sns/nothing-here", 404),
    ("POST", "/_emulator/sns/messages", 405),
    ("GET", "/_emulator/sns/sandbox-otp", 400),
    ("POST", "/_emulator/sns/opt-out", 400),
])
def test_admin_endpoint_errors(emulator_url: str, emulator_reset: None, method: str, path: str,
                               status: int) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        admin(emulator_url, path, method, {} if method == "POST" else None)
    assert raised.value.code == status
