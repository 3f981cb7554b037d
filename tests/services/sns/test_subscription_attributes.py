"""Subscription attributes: at Subscribe, Get/SetSubscriptionAttributes, and what they do to fan-out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.sns.conftest import ACCOUNT, REGION, error
from tests.services.sns.test_subscriptions import DEVICE, FUNCTION, QUEUE, ROLE, STREAM, sent, the_topic

__all__ = ["sent"]  # the fixture, shared with test_subscriptions

BASE_KEYS = {"Owner", "RawMessageDelivery", "TopicArn", "Endpoint", "SubscriptionPrincipal", "Protocol",
             "PendingConfirmation", "ConfirmationWasAuthenticated", "SubscriptionArn"}


@pytest.fixture
def topic(sns: Any) -> str:
    return sns.create_topic(Name="t")["TopicArn"]


@pytest.fixture
def queue_sub(sns: Any, topic: str) -> str:
    return sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=QUEUE)["SubscriptionArn"]


@pytest.mark.parametrize(("protocol", "endpoint", "attributes", "extra"), [
    ("sqs", QUEUE, {}, set()),
    ("lambda", FUNCTION, {}, set()),
    ("firehose", STREAM, {"SubscriptionRoleArn": ROLE}, {"SubscriptionRoleArn"}),
    ("application", DEVICE, {}, set()),
    ("https", "https://example.com/hook", {}, {"EffectiveDeliveryPolicy"}),
])
def test_get_subscription_attributes_answers_the_keys_of_the_protocol(sns: Any, topic: str, sent: list,
                                                                      protocol: str, endpoint: str,
                                                                      attributes: dict[str, str],
                                                                      extra: set[str]) -> None:
    arn = sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint, Attributes=attributes,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    got = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert set(got) == BASE_KEYS | extra
    assert (got["Owner"], got["TopicArn"], got["SubscriptionArn"]) == (ACCOUNT, topic, arn)
    assert got["SubscriptionPrincipal"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert got["RawMessageDelivery"] == "false"
    if "EffectiveDeliveryPolicy" in extra:
        assert json.loads(got["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 3


SETTABLE = [
    ("RawMessageDelivery", "true", "true"),
    ("RawMessageDelivery", "FALSE", "false"),
    ("FilterPolicy", '{"color": ["red"]}', '{"color": ["red"]}'),
    ("RedrivePolicy", json.dumps({"deadLetterTargetArn": f"{QUEUE}-dlq"}),
     json.dumps({"deadLetterTargetArn": f"{QUEUE}-dlq"})),
]


@pytest.mark.parametrize(("name", "value", "shown"), SETTABLE)
def test_set_subscription_attributes_round_trips(sns: Any, queue_sub: str, name: str, value: str,
                                                 shown: str) -> None:
    sns.set_subscription_attributes(SubscriptionArn=queue_sub, AttributeName=name, AttributeValue=value)
    assert sns.get_subscription_attributes(SubscriptionArn=queue_sub)["Attributes"][name] == shown


BAD_VALUES = [
    ("RawMessageDelivery", "yes", "Invalid parameter: RawMessageDelivery: Invalid value [yes]. Must be true or false."),
    ("FilterPolicyScope", "Body",
     "Invalid parameter: FilterPolicyScope: Invalid filter policy scope, allowed values are MessageAttributes, "
     "MessageBody"),
    ("FilterPolicy", '{"a": "b"}',
     'Invalid parameter: FilterPolicy: "a" must be an object or an array\n at [Source: (String)"{"a": "b"}"; '
     'line: 1, column: 8]'),
    ("FilterPolicy", '{"a": {"b": ["c"]}}',
     "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"),
    ("RedrivePolicy", "{", "Invalid parameter: RedrivePolicy: failed to parse JSON."),
    ("RedrivePolicy", json.dumps({"deadLetterTargetArn": QUEUE, "maxReceiveCount": 3}),
     "Invalid parameter: RedrivePolicy: invalid JSON. Attribute maxReceiveCount is unknown."),
    ("RedrivePolicy", json.dumps({"deadLetterTargetArn": "queue"}),
     "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn"),
    ("SubscriptionRoleArn", "role", "Invalid parameter: SubscriptionRoleArn: Invalid role ARN: role"),
    ("ReplayPolicy", json.dumps({"PointType": "Timestamp", "StartingPoint": "2024-01-01T00:00:00Z"}),
     "Invalid parameter: ReplayPolicy: Replay is only supported on FIFO topics with an ArchivePolicy"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_VALUES)
def test_set_subscription_attributes_rejects_bad_values(raw_sns: Any, queue_sub: str, name: str, value: str,
                                                        message: str) -> None:
    before = raw_sns.get_subscription_attributes(SubscriptionArn=queue_sub)["Attributes"]
    with pytest.raises(ClientError) as excinfo:
        raw_sns.set_subscription_attributes(SubscriptionArn=queue_sub, AttributeName=name, AttributeValue=value)
    assert error(excinfo) == ("InvalidParameter", 400, message)
    assert raw_sns.get_subscription_attributes(SubscriptionArn=queue_sub)["Attributes"] == before


@pytest.mark.parametrize(("name", "value", "message"), BAD_VALUES)
def test_subscribe_rejects_the_same_values_in_its_own_words(raw_sns: Any, topic: str, name: str, value: str,
                                                            message: str) -> None:
    expected = message.replace("Invalid parameter: ", "Invalid parameter: Attributes Reason: ", 1)
    if "does not support nested" in message:
        expected = message  # SNS words this one the same way in both operations
    with pytest.raises(ClientError) as excinfo:
        raw_sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=QUEUE, Attributes={name: value})
    assert error(excinfo) == ("InvalidParameter", 400, expected)
    assert raw_sns.list_subscriptions()["Subscriptions"] == []


def test_an_unknown_attribute_name_is_invalid(raw_sns: Any, queue_sub: str, topic: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        raw_sns.set_subscription_attributes(SubscriptionArn=queue_sub, AttributeName="Color", AttributeValue="red")
    assert error(excinfo) == ("InvalidParameter", 400, "Invalid parameter: AttributeName")
    with pytest.raises(ClientError) as excinfo:
        raw_sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"{QUEUE}2", Attributes={"Color": "red"})
    assert error(excinfo) == ("InvalidParameter", 400, "Invalid parameter: Attributes Reason: Unknown attribute: Color")


@pytest.mark.parametrize("protocol,endpoint", [("lambda", FUNCTION), ("application", DEVICE)])
def test_raw_message_delivery_only_where_aws_allows_it(raw_sns: Any, topic: str, protocol: str, endpoint: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        raw_sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint,
                          Attributes={"RawMessageDelivery": "true"})
    assert error(excinfo) == (
        "InvalidParameter", 400, f"Invalid parameter: Delivery protocol [{protocol}] does not support raw message "
        "delivery.")


def test_filter_policy_moves_the_subscription_between_fanout_sets(sns: Any, provider: Any, topic: str,
                                                                  queue_sub: str) -> None:
    state = the_topic(provider, topic)
    assert queue_sub in state.unfiltered
    sns.set_subscription_attributes(SubscriptionArn=queue_sub, AttributeName="FilterPolicy",
                                    AttributeValue='{"k": ["v"]}')
    assert queue_sub in state.attribute_rules and queue_sub not in state.unfiltered
    sns.set_subscription_attributes(SubscriptionArn=queue_sub, AttributeName="FilterPolicyScope",
                                    AttributeValue="MessageBody")
    assert queue_sub in state.body_rules and queue_sub not in state.attribute_rules
    got = sns.get_subscription_attributes(SubscriptionArn=queue_sub)["Attributes"]
    assert (got["FilterPolicy"], got["FilterPolicyScope"]) == ('{"k": ["v"]}', "MessageBody")
    sns.set_subscription_attributes(SubscriptionArn=queue_sub, AttributeName="FilterPolicy", AttributeValue="")
    assert queue_sub in state.unfiltered and queue_sub not in state.body_rules
    assert "FilterPolicy" not in sns.get_subscription_attributes(SubscriptionArn=queue_sub)["Attributes"]


def test_a_nested_body_policy_needs_the_body_scope_first(raw_sns: Any, provider: Any, topic: str) -> None:
    arn = raw_sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=QUEUE, Attributes={
        "FilterPolicyScope": "MessageBody", "FilterPolicy": '{"a": {"b": ["c"]}}'})["SubscriptionArn"]
    assert arn in the_topic(provider, topic).body_rules
    with pytest.raises(ClientError) as excinfo:
        raw_sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope",
                                            AttributeValue="MessageAttributes")
    assert error(excinfo)[2] == (
        "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy")
    assert arn in the_topic(provider, topic).body_rules


def test_a_topic_holds_at_most_200_filter_policies(sns: Any, raw_sns: Any, topic: str) -> None:
    for i in range(200):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"{QUEUE}{i}",
                      Attributes={"FilterPolicy": '{"k": ["v"]}'})
    with pytest.raises(ClientError) as excinfo:
        raw_sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"{QUEUE}x",
                          Attributes={"FilterPolicy": '{"k": ["v"]}'})
    assert error(excinfo)[:2] == ("FilterPolicyLimitExceeded", 403)
    plain = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"{QUEUE}x")["SubscriptionArn"]
    with pytest.raises(ClientError) as excinfo:
        raw_sns.set_subscription_attributes(SubscriptionArn=plain, AttributeName="FilterPolicy",
                                            AttributeValue='{"k": ["v"]}')
    assert error(excinfo)[:2] == ("FilterPolicyLimitExceeded", 403)


def test_attributes_of_a_missing_subscription(raw_sns: Any, topic: str) -> None:
    missing = f"{topic}:3b1e6a8e-1d3c-4a2b-9a55-0d6c2e1f6c11"
    with pytest.raises(ClientError) as excinfo:
        raw_sns.get_subscription_attributes(SubscriptionArn=missing)
    assert error(excinfo) == ("NotFound", 404, "Subscription does not exist")
    with pytest.raises(ClientError) as excinfo:
        raw_sns.get_subscription_attributes(SubscriptionArn="nonsense")
    assert error(excinfo) == ("InvalidParameter", 400, "Invalid parameter: SubscriptionArn")


def test_attributes_of_another_accounts_subscription_are_not_authorized(aws_client: Any, queue_sub: str) -> None:
    stranger = aws_client("sns", account="111111111111", validate=False)
    with pytest.raises(ClientError) as excinfo:
        stranger.get_subscription_attributes(SubscriptionArn=queue_sub)
    assert error(excinfo)[:2] == ("AuthorizationError", 403)


def test_replay_policy_on_a_fifo_topic_with_an_archive(sns: Any, raw_sns: Any, provider: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.services.sns import fanout

    replayed: list[list[str]] = []
    monkeypatch.setattr(fanout, "replay", lambda p, ctx, t, s, messages: replayed.append(
        [m.message_id for m in messages]))
    fifo = sns.create_topic(Name="t.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    state = the_topic(provider, fifo)
    state.attributes["ArchivePolicy"] = json.dumps({"MessageRetentionPeriod": "30"})
    from emulator.services.sns.models import Message

    state.archive[:] = [Message(message_id=f"m{i}", topic_arn=fifo, message="x", timestamp=1_700_000_000.0 + i * 60)
                        for i in range(5)]
    arn = sns.subscribe(TopicArn=fifo, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q.fifo")[
        "SubscriptionArn"]
    policy = {"PointType": "Timestamp", "StartingPoint": "2023-11-14T22:14:20Z", "EndingPoint": "2023-11-14T22:16:20Z"}
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="ReplayPolicy",
                                    AttributeValue=json.dumps(policy))
    assert replayed == [["m1", "m2", "m3"]]
    got = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert got["ReplayStatus"] == "Completed" and json.loads(got["ReplayPolicy"]) == policy
    for bad, message in [
        ("{", "failed to parse JSON."),
        ([policy], "failed to parse JSON."),
        ({**policy, "Colour": "red"}, "invalid JSON. Attribute Colour is unknown."),
        ({"PointType": "Sequence", "StartingPoint": "2023-11-14T22:14:20Z"}, "PointType must be Timestamp"),
        ({"PointType": "Timestamp"}, "StartingPoint must be an ISO 8601 timestamp"),
        ({"PointType": "Timestamp", "StartingPoint": "2999-01-01T00:00:00Z"}, "StartingPoint cannot be in the future"),
        ({**policy, "EndingPoint": "2023-01-01T00:00:00Z"}, "EndingPoint must be after StartingPoint"),
    ]:
        with pytest.raises(ClientError) as excinfo:
            raw_sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="ReplayPolicy",
                                                AttributeValue=bad if isinstance(bad, str) else json.dumps(bad))
        assert error(excinfo) == ("InvalidParameter", 400, f"Invalid parameter: ReplayPolicy: {message}")
    assert len(replayed) == 1
