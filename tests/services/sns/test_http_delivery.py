"""HTTP/S notifications: the envelope and headers, raw delivery, filter policies, retries on the
emulator's clock, client errors, dead-letter queues, fan-out width and the delivery log."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from emulator.testing import admin
from tests.receivers import Receiver
from tests.services.sns.test_handshake import deliveries, recorded, subscribe_confirmed, wait_until

ENVELOPE_KEYS = ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
                 "Signature", "SigningCertURL", "UnsubscribeURL", "MessageAttributes"]
DLQ = "arn:aws:sqs:us-east-1:000000000000:dead-letters"


def advance(url: str, seconds: float) -> None:
    admin(url, "/_emulator/clock", "POST", {"advance": seconds})


def entry_for(url: str, message_id: str) -> dict[str, Any] | None:
    found = [d for d in deliveries(url, messageId=message_id) if d["info"]["type"] == "Notification"]
    return found[0] if found else None


def wait_state(url: str, message_id: str, state: str, attempts: int) -> dict[str, Any]:
    """The message's delivery once it reached ``state`` after ``attempts`` attempts."""
    def reached() -> dict[str, Any] | None:
        entry = entry_for(url, message_id)
        return entry if entry and entry["state"] == state and len(entry["attempts"]) == attempts else None
    return wait_until(reached)


def test_notification_envelope_and_headers(sns: Any, http_receiver: Receiver, emulator_url: str) -> None:
    topic_arn = sns.create_topic(Name="orders")["TopicArn"]
    subscription_arn = subscribe_confirmed(sns, topic_arn, http_receiver)
    message_id = sns.publish(TopicArn=topic_arn, Message="an order", Subject="New order", MessageAttributes={
        "color": {"DataType": "String", "StringValue": "red"},
        "count": {"DataType": "Number", "StringValue": "3"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    })["MessageId"]

    request = http_receiver.wait_for(2)[1]
    body = request.json()
    assert request.method == "POST"
    assert {k: request.headers[k] for k in ("x-amz-sns-message-type", "x-amz-sns-message-id",
                                            "x-amz-sns-topic-arn", "x-amz-sns-subscription-arn")} == {
        "x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn, "x-amz-sns-subscription-arn": subscription_arn}
    assert request.headers["content-type"] == "text/plain; charset=UTF-8"
    assert request.headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert "x-amz-sns-rawdelivery" not in request.headers
    assert list(body) == ENVELOPE_KEYS
    assert (body["Type"], body["MessageId"], body["TopicArn"], body["Subject"], body["Message"]) == (
        "Notification", message_id, topic_arn, "New order", "an order")
    assert body["MessageAttributes"] == {
        "color": {"Type": "String", "Value": "red"},
        "count": {"Type": "Number", "Value": "3"},
        "blob": {"Type": "Binary", "Value": base64.b64encode(b"\x00\x01").decode()},
    }


def test_the_body_is_printed_as_sns_prints_it(sns: Any, http_receiver: Receiver) -> None:
    topic_arn = sns.create_topic(Name="orders")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, http_receiver)
    message_id = sns.publish(TopicArn=topic_arn, Message='{"total": "12 €"}', MessageAttributes={
        "color": {"DataType": "String", "StringValue": "red"}})["MessageId"]
    lines = http_receiver.wait_for(2)[1].body.decode("utf-8").split("\n")
    assert lines[:4] == ["{", '  "Type" : "Notification",', f'  "MessageId" : "{message_id}",',
                         f'  "TopicArn" : "{topic_arn}",']
    assert lines[4] == '  "Message" : "{\\"total\\": \\"12 €\\"}",'  # UTF-8 text, quotes escaped
    assert lines[-4:] == ['  "MessageAttributes" : {', '    "color" : {"Type":"String","Value":"red"}', "  }", "}"]


def test_without_subject_and_attributes_those_keys_are_absent(sns: Any, http_receiver: Receiver) -> None:
    topic_arn = sns.create_topic(Name="orders")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, http_receiver)
    sns.publish(TopicArn=topic_arn, Message="plain")
    body = http_receiver.wait_for(2)[1].json()
    assert list(body) == [k for k in ENVELOPE_KEYS if k not in ("Subject", "MessageAttributes")]


def test_raw_delivery_sends_the_message_alone(sns: Any, http_receiver: Receiver) -> None:
    topic_arn = sns.create_topic(Name="orders")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, http_receiver, RawMessageDelivery="true")
    sns.publish(TopicArn=topic_arn, Message='{"raw": true}', Subject="ignored",
                MessageAttributes={"a": {"DataType": "String", "StringValue": "b"}})
    request = http_receiver.wait_for(2)[1]
    assert request.body == b'{"raw": true}'
    assert request.headers["x-amz-sns-rawdelivery"] == "true"
    assert request.headers["x-amz-sns-message-type"] == "Notification"


def test_message_structure_json_picks_the_protocol_key(sns: Any, http_receiver: Receiver) -> None:
    topic_arn = sns.create_topic(Name="orders")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, http_receiver)
    sns.publish(TopicArn=topic_arn, MessageStructure="json",
                Message=json.dumps({"default": "for everyone", "http": "for http", "email": "for email"}))
    sns.publish(TopicArn=topic_arn, MessageStructure="json", Message=json.dumps({"default": "fallback"}))
    received = http_receiver.wait_for(3)
    assert sorted(r.json()["Message"] for r in received[1:]) == ["fallback", "for http"]  # standard: any order


def test_content_type_follows_the_delivery_policy(sns: Any, http_receiver: Receiver) -> None:
    policy = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3},
                       "defaultRequestPolicy": {"headerContentType": "application/json"}}}
    topic_arn = sns.create_topic(Name="orders", Attributes={"DeliveryPolicy": json.dumps(policy)})["TopicArn"]
    subscribe_confirmed(sns, topic_arn, http_receiver)
    sns.publish(TopicArn=topic_arn, Message="typed")
    assert http_receiver.wait_for(2)[1].headers["content-type"] == "application/json"


@pytest.mark.parametrize(("scope", "policy", "publishes", "delivered"), [
    ("MessageAttributes", {"color": ["red"]},
     [("a", {"color": "red"}), ("b", {"color": "blue"}), ("c", {})], ["a"]),
    ("MessageAttributes", {"price": [{"numeric": [">", 10]}]},
     [("cheap", {"price": 5}), ("dear", {"price": 50})], ["dear"]),
    ("MessageBody", {"order": {"color": ["red"]}},
     [('{"order": {"color": "red"}}', {}), ('{"order": {"color": "blue"}}', {}), ("not json", {})],
     ['{"order": {"color": "red"}}']),
])
def test_filter_policies_of_both_scopes(sns: Any, http_receiver: Receiver, scope: str, policy: dict[str, Any],
                                        publishes: list[tuple[str, dict[str, Any]]], delivered: list[str]) -> None:
    topic_arn = sns.create_topic(Name="filtered")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, http_receiver, FilterPolicy=json.dumps(policy), FilterPolicyScope=scope)
    for text, attributes in publishes:
        sns.publish(TopicArn=topic_arn, Message=text, MessageAttributes={
            name: {"DataType": "Number" if isinstance(value, int) else "String", "StringValue": str(value)}
            for name, value in attributes.items()})
    http_receiver.wait_for(1 + len(delivered))
    assert sorted(r.json()["Message"] for r in http_receiver.quiet()[1:]) == sorted(delivered)


def test_server_errors_are_retried_on_the_clock_with_the_same_message(
        sns: Any, make_receiver: Callable[..., Receiver], emulator_url: str) -> None:
    receiver = make_receiver(statuses=(200, 500, 500, 200))  # the confirmation, then the notification
    topic_arn = sns.create_topic(Name="flaky")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, receiver)
    message_id = sns.publish(TopicArn=topic_arn, Message="again")["MessageId"]

    receiver.wait_for(2)
    wait_state(emulator_url, message_id, "retrying", 1)
    advance(emulator_url, 19)
    assert len(receiver.quiet()) == 2  # AWS's default policy waits 20 seconds
    advance(emulator_url, 1)
    receiver.wait_for(3)
    wait_state(emulator_url, message_id, "retrying", 2)
    advance(emulator_url, 20)
    attempts = receiver.wait_for(4)[1:]
    entry = wait_state(emulator_url, message_id, "delivered", 3)

    assert [a.headers["x-amz-sns-message-id"] for a in attempts] == [message_id] * 3
    assert attempts[0].body == attempts[1].body == attempts[2].body  # the same signed bytes
    assert [a["status"] for a in entry["attempts"]] == [500, 500, 200]
    assert len(receiver.quiet()) == 4


@pytest.mark.parametrize("status", [400, 403, 404])
def test_client_errors_are_not_retried(sns: Any, make_receiver: Callable[..., Receiver], emulator_url: str,
                                       status: int) -> None:
    receiver = make_receiver(statuses=(200, status, 200))
    topic_arn = sns.create_topic(Name="refusing")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, receiver)
    message_id = sns.publish(TopicArn=topic_arn, Message="refused")["MessageId"]
    entry = wait_state(emulator_url, message_id, "failed", 1)
    advance(emulator_url, 3600)
    assert len(receiver.quiet()) == 2
    assert entry["attempts"][0]["status"] == status


def test_the_last_failure_goes_to_the_dead_letter_queue(sns: Any, make_receiver: Callable[..., Receiver],
                                                        emulator_url: str) -> None:
    receiver = make_receiver(statuses=(200, 503))
    topic_arn = sns.create_topic(Name="dlq")["TopicArn"]
    subscription_arn = subscribe_confirmed(sns, topic_arn, receiver,
                                           RedrivePolicy=json.dumps({"deadLetterTargetArn": DLQ}))
    message_id = sns.publish(TopicArn=topic_arn, Message="lost")["MessageId"]
    for attempt in (1, 2, 3):  # the default policy: the first attempt and three retries, 20 s apart
        wait_state(emulator_url, message_id, "retrying", attempt)
        assert recorded(emulator_url, endpoint=DLQ) == []
        advance(emulator_url, 20)
    wait_state(emulator_url, message_id, "failed", 4)
    dead = wait_until(lambda: recorded(emulator_url, endpoint=DLQ))
    assert len(receiver.quiet()) == 5

    assert dead[0]["subscription"] == subscription_arn and dead[0]["protocol"] == "sqs"
    assert dead[0]["messageId"] == message_id
    envelope = json.loads(dead[0]["payload"]["MessageBody"])
    assert (envelope["Type"], envelope["MessageId"], envelope["Message"]) == ("Notification", message_id, "lost")


def test_a_client_error_goes_to_the_dead_letter_queue_at_once(sns: Any, make_receiver: Callable[..., Receiver],
                                                              emulator_url: str) -> None:
    receiver = make_receiver(statuses=(200, 400))
    topic_arn = sns.create_topic(Name="dlq")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, receiver, RedrivePolicy=json.dumps({"deadLetterTargetArn": DLQ}),
                        RawMessageDelivery="true")
    sns.publish(TopicArn=topic_arn, Message="raw and lost",
                MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    dead = wait_until(lambda: recorded(emulator_url, endpoint=DLQ))
    assert dead[0]["payload"] == {"MessageBody": "raw and lost",
                                  "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}}


def test_without_a_dead_letter_queue_the_failure_stays_in_the_log(sns: Any, make_receiver: Callable[..., Receiver],
                                                                  emulator_url: str) -> None:
    receiver = make_receiver(statuses=(200, 410))
    topic_arn = sns.create_topic(Name="gone")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, receiver)
    message_id = sns.publish(TopicArn=topic_arn, Message="gone")["MessageId"]
    entry = wait_state(emulator_url, message_id, "failed", 1)
    assert entry["attempts"][0]["error"] == "HTTP 410"
    assert recorded(emulator_url) == []


def test_fifty_subscribers_each_receive_the_message(sns: Any, http_receiver: Receiver, emulator_url: str) -> None:
    topic_arn = sns.create_topic(Name="wide")["TopicArn"]
    endpoints = [f"{http_receiver.url}/subscriber/{i}" for i in range(50)]
    for endpoint in endpoints:
        sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=endpoint)
    from tests.services.sns.test_handshake import http_get

    for request in http_receiver.wait_for(50):
        http_get(request.json()["SubscribeURL"])
    message_id = sns.publish(TopicArn=topic_arn, Message="to all")["MessageId"]
    notifications = http_receiver.wait_for(100)[50:]
    assert sorted(r.path for r in notifications) == sorted(e.removeprefix(http_receiver.url) for e in endpoints)
    assert {r.json()["MessageId"] for r in notifications} == {message_id}
    assert len({r.headers["x-amz-sns-subscription-arn"] for r in notifications}) == 50
    assert len(http_receiver.quiet()) == 100


def test_the_delivery_log_shows_attempts_and_outcomes(sns: Any, http_receiver: Receiver, emulator_url: str) -> None:
    topic_arn = sns.create_topic(Name="logged")["TopicArn"]
    subscription_arn = subscribe_confirmed(sns, topic_arn, http_receiver)
    other = sns.create_topic(Name="other")["TopicArn"]
    message_id = sns.publish(TopicArn=topic_arn, Message="logged")["MessageId"]
    entry = wait_state(emulator_url, message_id, "delivered", 1)

    assert entry["info"] == {"topic": topic_arn, "subscription": subscription_arn, "protocol": "http",
                             "endpoint": http_receiver.url, "messageId": message_id, "type": "Notification"}
    assert entry["target"]["url"] == http_receiver.url
    assert entry["attempts"][0]["status"] == 200 and entry["attempts"][0]["ok"] is True
    assert [d["info"]["type"] for d in deliveries(emulator_url, topic=topic_arn)] == [
        "SubscriptionConfirmation", "Notification"]
    assert deliveries(emulator_url, topic=other) == []
    assert deliveries(emulator_url, account="111111111111") == []


@pytest.mark.parametrize(("rate", "arrivals"), [
    # seconds the clock moves -> notifications received so far (of 5 published at once): at most
    # `rate` in any second, the excess waiting for the next seconds
    # (moves overshoot the window edges: the clock's epoch seconds do not add tenths exactly)
    (2, [(0.0, 2), (0.5, 2), (0.6, 4), (0.8, 4), (0.2, 5)]),
    (1, [(0.0, 1), (1.1, 2), (1.0, 3), (3.0, 5)]),
    (10, [(0.0, 5)]),
])
def test_throttle_policy_limits_deliveries_per_second_of_the_clock(
        sns: Any, http_receiver: Receiver, emulator_url: str, rate: int, arrivals: list[tuple[float, int]]) -> None:
    topic_arn = sns.create_topic(Name="throttled")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, http_receiver,
                        DeliveryPolicy=json.dumps({"throttlePolicy": {"maxReceivesPerSecond": rate}}))
    admin(emulator_url, "/_emulator/clock", "POST", {"freeze": True})
    sent = [sns.publish(TopicArn=topic_arn, Message=f"m{i}")["MessageId"] for i in range(5)]

    for seconds, expected in arrivals:
        if seconds:
            advance(emulator_url, seconds)
        if expected > 1:
            http_receiver.wait_for(1 + expected)
        received = http_receiver.quiet()[1:]
        assert len(received) == expected, (seconds, len(received))
    # A standard topic promises no order: the deliveries a move of the clock frees run in parallel.
    assert sorted(r.json()["MessageId"] for r in http_receiver.requests[1:]) == sorted(sent)


def test_without_a_throttle_policy_a_burst_is_delivered_at_once(sns: Any, http_receiver: Receiver,
                                                               emulator_url: str) -> None:
    topic_arn = sns.create_topic(Name="open")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, http_receiver)
    admin(emulator_url, "/_emulator/clock", "POST", {"freeze": True})
    for i in range(5):
        sns.publish(TopicArn=topic_arn, Message=f"m{i}")
    assert len(http_receiver.wait_for(6)) == 6
