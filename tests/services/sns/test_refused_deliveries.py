"""Recorded endpoints that refuse a message for good, and the events of platform applications.

An SMS to a number that opted out is accepted by Publish and its delivery fails ("Phone is currently
opted out"); a push through a topic to a disabled or deleted platform endpoint fails the same way and
publishes the application's EventDeliveryFailure event. An application's EventEndpointCreated /
Deleted / Updated topics receive an event for each endpoint change. The email confirmation's sender
shows the topic's DisplayName of the time it was sent.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from emulator.testing import admin
from tests.services.sns.test_handshake import wait_until

ACCOUNT = "000000000000"
REGION = "us-east-1"
PHONE = "+15550001111"
GCM = {"PlatformCredential": "server-key"}


def opt_out(url: str, phone: str) -> None:
    admin(url, "/_emulator/sns/opt-out", "POST", {"phoneNumber": phone})


def recorded(url: str, **filters: str) -> list[dict[str, Any]]:
    """The recorded deliveries matching ``filters`` (quoted: a phone number's ``+`` must survive)."""
    return admin(url, "/_emulator/sns/messages?" + urlencode(filters))["messages"]


def only(url: str, **filters: str) -> dict[str, Any]:
    found = wait_until(lambda: recorded(url, **filters))
    assert len(found) == 1, found
    return found[0]


# -- SMS to opted-out numbers ------------------------------------------------------------------------

def test_a_direct_sms_to_an_opted_out_number_is_accepted_and_recorded_as_failed(sns: Any,
                                                                                emulator_url: str) -> None:
    opt_out(emulator_url, PHONE)
    message_id = sns.publish(PhoneNumber=PHONE, Message="code 1234")["MessageId"]
    sns.publish(PhoneNumber="+15550002222", Message="code 5678")

    failed = only(emulator_url, endpoint=PHONE)
    assert (failed["messageId"], failed["state"], failed["error"]) == (
        message_id, "failed", "Phone is currently opted out")
    assert failed["payload"] == "code 1234"
    sent = only(emulator_url, endpoint="+15550002222")
    assert (sent["state"], sent["error"]) == ("delivered", None)


def test_an_sms_subscription_of_an_opted_out_number_fails_each_delivery(sns: Any, emulator_url: str) -> None:
    topic_arn = sns.create_topic(Name="alerts")["TopicArn"]
    for phone in (PHONE, "+15550002222"):
        sns.subscribe(TopicArn=topic_arn, Protocol="sms", Endpoint=phone)
    opt_out(emulator_url, PHONE)
    sns.publish(TopicArn=topic_arn, Message="disk full")

    failed = only(emulator_url, endpoint=PHONE)
    assert (failed["state"], failed["error"]) == ("failed", "Phone is currently opted out")
    assert only(emulator_url, endpoint="+15550002222")["state"] == "delivered"

    sns.opt_in_phone_number(phoneNumber=PHONE)
    sns.publish(TopicArn=topic_arn, Message="disk ok")
    states = [entry["state"] for entry in recorded(emulator_url, endpoint=PHONE)]
    assert states == ["failed", "delivered"]


# -- platform endpoints ------------------------------------------------------------------------------

@pytest.fixture
def events_queue(sns: Any) -> tuple[str, str]:
    """A topic for application events with an SQS subscriber (recorded): (topic ARN, queue ARN)."""
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:app-events"
    topic_arn = sns.create_topic(Name="app-events")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"})
    return topic_arn, queue


def events(url: str, queue: str) -> list[dict[str, Any]]:
    return [json.loads(entry["payload"]["MessageBody"]) for entry in recorded(url, endpoint=queue)]


def gcm_app(sns: Any, **event_topics: str) -> str:
    """A GCM application whose event attributes (``EventDeliveryFailure=arn``, ...) name these topics."""
    application = sns.create_platform_application(Name="app", Platform="GCM", Attributes={**GCM, **event_topics})
    return application["PlatformApplicationArn"]


@pytest.mark.parametrize("attribute", ["EventEndpointCreated", "EventEndpointUpdated", "EventEndpointDeleted"])
def test_endpoint_changes_publish_the_applications_events(sns: Any, emulator_url: str,
                                                         events_queue: tuple[str, str], attribute: str) -> None:
    events_topic, queue = events_queue
    app = gcm_app(sns, **{attribute: events_topic})
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1")["EndpointArn"]
    sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1")  # the same: no event
    sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"CustomUserData": "u1"})
    sns.delete_endpoint(EndpointArn=endpoint)
    sns.delete_endpoint(EndpointArn=endpoint)  # already gone: no event

    event_type = attribute.removeprefix("Event")
    received = wait_until(lambda: events(emulator_url, queue))
    assert len(received) == 1, received
    event = received[0]
    assert list(event) == sorted(event)
    assert {k: v for k, v in event.items() if k != "Time"} == {
        "EndpointArn": endpoint, "EventType": event_type, "Resource": app, "Service": "SNS"}
    assert event["Time"].endswith("Z")


@pytest.mark.parametrize(("change", "failure"), [
    ("disable the endpoint", ("EndpointDisabled", "Endpoint is disabled")),
    ("delete the endpoint", ("EndpointNotFound", "Endpoint was not found")),
    ("disable the application", ("PlatformApplicationDisabled", "Platform application is disabled")),
])
def test_a_topic_push_that_cannot_be_delivered_fails_and_raises_the_delivery_failure_event(
        sns: Any, emulator_url: str, events_queue: tuple[str, str], change: str, failure: tuple[str, str]) -> None:
    events_topic, queue = events_queue
    app = gcm_app(sns, EventDeliveryFailure=events_topic)
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1")["EndpointArn"]
    topic_arn = sns.create_topic(Name="news")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="application", Endpoint=endpoint)
    if change == "disable the endpoint":
        sns.set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "false"})
    elif change == "delete the endpoint":
        sns.delete_endpoint(EndpointArn=endpoint)
    else:
        sns.set_platform_application_attributes(PlatformApplicationArn=app, Attributes={"Enabled": "false"})

    message_id = sns.publish(TopicArn=topic_arn, Message="breaking")["MessageId"]

    push = only(emulator_url, protocol="application", topic=topic_arn)
    assert (push["messageId"], push["state"], push["error"]) == (message_id, "failed", failure[1])
    event = wait_until(lambda: events(emulator_url, queue))[0]
    assert {k: v for k, v in event.items() if k != "Time"} == {
        "DeliveryAttempts": 1, "EndpointArn": endpoint, "EventType": "DeliveryFailure",
        "FailureMessage": failure[1], "FailureType": failure[0], "MessageId": message_id,
        "Resource": app, "Service": "SNS"}


def test_a_topic_push_to_an_enabled_endpoint_is_delivered_without_an_event(sns: Any, emulator_url: str,
                                                                          events_queue: tuple[str, str]) -> None:
    events_topic, queue = events_queue
    app = gcm_app(sns, EventDeliveryFailure=events_topic)
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1")["EndpointArn"]
    topic_arn = sns.create_topic(Name="news")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="application", Endpoint=endpoint)
    sns.publish(TopicArn=topic_arn, Message="breaking")

    push = only(emulator_url, protocol="application", topic=topic_arn)
    assert (push["state"], push["payload"]["token"]) == ("delivered", "device-1")
    assert events(emulator_url, queue) == []


# -- email confirmations --------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", ["email", "email-json"])
def test_the_email_confirmation_shows_the_display_name_of_when_it_was_sent(sns: Any, emulator_url: str,
                                                                          protocol: str) -> None:
    topic_arn = sns.create_topic(Name="news", Attributes={"DisplayName": "Before"})["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint="reader@example.com")
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="DisplayName", AttributeValue="After")

    mail = only(emulator_url, protocol=protocol, type="SubscriptionConfirmation")["payload"]
    assert mail["from"] == "Before <no-reply@sns.amazonaws.com>"


def test_a_failed_push_through_the_failure_topic_itself_raises_no_event(sns: Any, emulator_url: str,
                                                                       provider: Any) -> None:
    """Else each event would fail and raise the next one, forever."""
    events_topic = sns.create_topic(Name="app-events")["TopicArn"]
    app = gcm_app(sns, EventDeliveryFailure=events_topic)
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1",
                                            Attributes={"Enabled": "false"})["EndpointArn"]
    sns.subscribe(TopicArn=events_topic, Protocol="application", Endpoint=endpoint)
    sns.publish(TopicArn=events_topic, Message="loop?")

    push = only(emulator_url, protocol="application")
    assert (push["state"], push["error"]) == ("failed", "Endpoint is disabled")
    assert provider.registry.delivery.wait_idle()
    assert len(admin(emulator_url, "/_emulator/sns/messages")["messages"]) == 1
