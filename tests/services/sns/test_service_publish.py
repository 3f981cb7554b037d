"""Publishing on behalf of another service (an EventBridge rule's SNS target): the topic's policy must
name the service principal, as AWS requires; then the message fans out as any Publish does."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.receivers import Receiver

RULE = "arn:aws:events:us-east-1:000000000000:rule/orders"


def _allow_events(sns: Any, topic: str) -> None:
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    policy["Statement"].append({"Sid": "events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sns:Publish", "Resource": topic})
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))


def _deliver(provider: Any, topic: str, **extra: Any) -> dict[str, Any]:
    return provider.deliver_message(account="000000000000", region="us-east-1", topic_arn=topic, message="hello",
                                    service="events.amazonaws.com", source_arn=RULE, **extra)


def test_the_default_policy_does_not_let_eventbridge_publish(sns: Any, provider: Any) -> None:
    from emulator.errors import ServiceError

    topic = sns.create_topic(Name="t")["TopicArn"]
    with pytest.raises(ServiceError) as raised:
        _deliver(provider, topic)
    assert raised.value.code == "AuthorizationErrorException" and "events.amazonaws.com" in raised.value.message


def test_a_missing_topic_fails_the_delivery_with_not_found(provider: Any) -> None:
    from emulator.errors import ServiceError

    with pytest.raises(ServiceError) as raised:
        _deliver(provider, "arn:aws:sns:us-east-1:000000000000:missing")
    assert raised.value.code == "NotFoundException"


def test_an_allowed_service_publish_reaches_the_subscribers(sns: Any, provider: Any, http_receiver: Receiver) -> None:
    from urllib.request import urlopen

    topic = sns.create_topic(Name="t")["TopicArn"]
    _allow_events(sns, topic)
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=http_receiver.url)
    urlopen(http_receiver.wait_for(1)[0].json()["SubscribeURL"], timeout=5).read()
    message_id = _deliver(provider, topic)["MessageId"]
    notification = http_receiver.wait_for(2)[1].json()
    assert notification["Type"] == "Notification" and notification["MessageId"] == message_id
    assert notification["Message"] == "hello" and notification["TopicArn"] == topic
