"""The HTTP/S subscription handshake end to end, as a real endpoint lives it.

Subscribe -> a SubscriptionConfirmation POST arrives -> the endpoint GETs its SubscribeURL (unsigned,
like a browser) -> the subscription is confirmed -> a Publish arrives with an UnsubscribeURL -> a GET
of it unsubscribes -> an UnsubscribeConfirmation arrives. The helpers here are shared by the other
delivery tests.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.testing import admin
from tests.receivers import Receiver

CONFIRM_TEXT = (
    "You have chosen to subscribe to the topic {arn}.\n"
    "To confirm the subscription, visit the SubscribeURL included in this message."
)


def http_get(url: str) -> tuple[int, bytes]:
    """An unsigned GET, as a subscriber's code (or a browser) visits a SubscribeURL or UnsubscribeURL."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Polls state the emulator changes on its workers (not time passing) until ``predicate`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def subscribe_confirmed(sns: Any, topic_arn: str, receiver: Receiver, **attributes: str) -> str:
    """Subscribes the receiver's URL and confirms it through the SubscribeURL it was sent."""
    before = len(receiver.requests)
    sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=receiver.url, Attributes=attributes)
    confirmation = receiver.wait_for(before + 1)[before].json()
    assert confirmation["Type"] == "SubscriptionConfirmation"
    http_get(confirmation["SubscribeURL"])
    arns = [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
            if s["Endpoint"] == receiver.url]
    assert len(arns) == 1 and arns[0].startswith(topic_arn + ":"), arns
    return arns[0]


def deliveries(url: str, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return admin(url, "/_emulator/sns/deliveries" + (f"?{query}" if query else ""))["deliveries"]


def recorded(url: str, **filters: str) -> list[dict[str, Any]]:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return admin(url, "/_emulator/sns/messages" + (f"?{query}" if query else ""))["messages"]


def test_subscription_confirmation_arrives_with_aws_headers_and_fields(sns: Any, http_receiver: Receiver) -> None:
    topic_arn = sns.create_topic(Name="handshake")["TopicArn"]
    answer = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=http_receiver.url)
    assert answer["SubscriptionArn"] == "pending confirmation"

    request = http_receiver.wait_for(1)[0]
    body = request.json()
    assert request.method == "POST"
    assert request.headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert request.headers["x-amz-sns-message-id"] == body["MessageId"]
    assert request.headers["x-amz-sns-topic-arn"] == topic_arn
    assert "x-amz-sns-subscription-arn" not in request.headers
    assert request.headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert request.headers["content-type"] == "text/plain; charset=UTF-8"
    assert list(body) == ["Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL", "Timestamp",
                          "SignatureVersion", "Signature", "SigningCertURL"]
    assert body["Message"] == CONFIRM_TEXT.format(arn=topic_arn)
    assert body["SubscribeURL"].endswith(f"/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={body['Token']}")
    assert body["Timestamp"].endswith("Z") and len(body["Timestamp"]) == len("2012-04-26T20:45:04.751Z")


def test_handshake_then_publish_then_unsubscribe_url(sns: Any, http_receiver: Receiver, emulator_url: str) -> None:
    topic_arn = sns.create_topic(Name="handshake")["TopicArn"]
    subscription_arn = subscribe_confirmed(sns, topic_arn, http_receiver)
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription_arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"

    sns.publish(TopicArn=topic_arn, Message="hello")
    notification = http_receiver.wait_for(2)[1]
    assert notification.headers["x-amz-sns-subscription-arn"] == subscription_arn
    unsubscribe_url = notification.json()["UnsubscribeURL"]
    assert unsubscribe_url.startswith(emulator_url)
    assert unsubscribe_url.endswith(f"/?Action=Unsubscribe&SubscriptionArn={subscription_arn}")

    status, _ = http_get(unsubscribe_url)
    assert status == 200
    goodbye = http_receiver.wait_for(3)[2]
    body = goodbye.json()
    assert goodbye.headers["x-amz-sns-message-type"] == "UnsubscribeConfirmation"
    assert goodbye.headers["x-amz-sns-subscription-arn"] == subscription_arn
    assert body["Type"] == "UnsubscribeConfirmation"
    assert body["Message"] == (
        f"You have chosen to deactivate subscription {subscription_arn}.\n"
        "To cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
    )
    assert "Action=ConfirmSubscription" in body["SubscribeURL"]
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []

    sns.publish(TopicArn=topic_arn, Message="after unsubscribe")
    assert len(http_receiver.quiet()) == 3


def test_unconfirmed_subscription_gets_no_notification(sns: Any, http_receiver: Receiver) -> None:
    topic_arn = sns.create_topic(Name="handshake")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=http_receiver.url)
    http_receiver.wait_for(1)
    sns.publish(TopicArn=topic_arn, Message="nobody confirmed")
    assert [r.headers["x-amz-sns-message-type"] for r in http_receiver.quiet()] == ["SubscriptionConfirmation"]


def test_tokens_endpoint_lists_pending_confirmations(sns: Any, emulator_url: str, http_receiver: Receiver) -> None:
    topic_arn = sns.create_topic(Name="handshake")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="someone@example.com")
    sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=http_receiver.url)
    token = http_receiver.wait_for(1)[0].json()["Token"]

    pending = admin(emulator_url, f"/_emulator/sns/tokens?topic={topic_arn}")["tokens"]
    by_endpoint = {entry["endpoint"]: entry for entry in pending}
    assert set(by_endpoint) == {"someone@example.com", http_receiver.url}
    assert by_endpoint[http_receiver.url]["token"] == token
    assert by_endpoint[http_receiver.url]["protocol"] == "http"

    email_token = by_endpoint["someone@example.com"]["token"]
    arn = sns.confirm_subscription(TopicArn=topic_arn, Token=email_token)["SubscriptionArn"]
    assert by_endpoint["someone@example.com"]["subscriptionArn"] == arn
    left = admin(emulator_url, f"/_emulator/sns/tokens?topic={topic_arn}")["tokens"]
    assert [entry["endpoint"] for entry in left] == [http_receiver.url]


@pytest.mark.parametrize("protocol", ["https", "http"])
def test_confirmation_to_an_unreachable_endpoint_is_in_the_delivery_log(sns: Any, emulator_url: str,
                                                                       protocol: str) -> None:
    topic_arn = sns.create_topic(Name="handshake")["TopicArn"]
    endpoint = f"{protocol}://127.0.0.1:9/nowhere"  # the discard port: nothing listens
    sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint)
    entries = wait_until(lambda: [d for d in deliveries(emulator_url, endpoint=endpoint) if d.get("attempts")])
    assert entries[0]["info"]["type"] == "SubscriptionConfirmation"
    assert entries[0]["attempts"][0].get("error")


def unsubscribed_with_confirmation(sns: Any, receiver: Receiver) -> tuple[str, str, dict[str, Any]]:
    """A confirmed subscription of ``receiver``, then unsubscribed: (topic, subscription, the
    UnsubscribeConfirmation's body)."""
    topic_arn = sns.create_topic(Name="restore")["TopicArn"]
    subscription_arn = subscribe_confirmed(sns, topic_arn, receiver, RawMessageDelivery="true")
    sns.unsubscribe(SubscriptionArn=subscription_arn)
    goodbye = receiver.wait_for(2)[1].json()
    assert goodbye["Type"] == "UnsubscribeConfirmation"
    return topic_arn, subscription_arn, goodbye


@pytest.mark.parametrize("how", ["visit the SubscribeURL", "ConfirmSubscription"])
def test_the_unsubscribe_confirmations_token_restores_the_subscription(sns: Any, http_receiver: Receiver,
                                                                       how: str) -> None:
    topic_arn, subscription_arn, goodbye = unsubscribed_with_confirmation(sns, http_receiver)
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []

    if how == "ConfirmSubscription":
        restored = sns.confirm_subscription(TopicArn=topic_arn, Token=goodbye["Token"])["SubscriptionArn"]
    else:
        status, body = http_get(goodbye["SubscribeURL"])
        assert status == 200
        restored = body.decode().split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0]

    assert restored == subscription_arn
    listed = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == [subscription_arn]
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription_arn)["Attributes"]
    assert (attributes["PendingConfirmation"], attributes["RawMessageDelivery"]) == ("false", "true")
    sns.publish(TopicArn=topic_arn, Message="welcome back")
    assert http_receiver.wait_for(3)[2].body == b"welcome back"


def test_the_unsubscribe_token_works_once_and_expires_after_two_days(sns: Any, http_receiver: Receiver,
                                                                     emulator_url: str) -> None:
    topic_arn, _, goodbye = unsubscribed_with_confirmation(sns, http_receiver)
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": 2 * 86_400})
    with pytest.raises(ClientError) as caught:
        sns.confirm_subscription(TopicArn=topic_arn, Token=goodbye["Token"])
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]) == (
        "InvalidParameter", 400, "Invalid parameter: Token")
    assert sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"] == []


def test_restoring_after_the_endpoint_subscribed_again_keeps_the_new_subscription(sns: Any,
                                                                                  http_receiver: Receiver) -> None:
    topic_arn, old_arn, goodbye = unsubscribed_with_confirmation(sns, http_receiver)
    new_arn = subscribe_confirmed(sns, topic_arn, http_receiver)
    assert new_arn != old_arn

    assert sns.confirm_subscription(TopicArn=topic_arn, Token=goodbye["Token"])["SubscriptionArn"] == new_arn
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]] == [
        new_arn]


def test_urls_in_messages_use_the_external_url(http_receiver: Receiver) -> None:
    """--external-url (a container's address as its subscribers see it) overrides the request's Host in
    the SubscribeURL and SigningCertURL that subscribers are sent."""
    import boto3
    from botocore.config import Config as BotoConfig

    from emulator.testing import running_server

    external = "http://emulator.example:4566"
    with running_server(external_url=external) as url:
        sns = boto3.client("sns", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                           aws_secret_access_key="test", config=BotoConfig(retries={"max_attempts": 1}))
        topic_arn = sns.create_topic(Name="external")["TopicArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=http_receiver.url)
        confirmation = http_receiver.wait_for(1)[0].json()
    assert confirmation["SubscribeURL"].startswith(external + "/?Action=ConfirmSubscription&")
    assert confirmation["SigningCertURL"].startswith(external + "/SimpleNotificationService-")
