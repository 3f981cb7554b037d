"""Targets over the wire: PutTargets with its per-kind checks and the five-target limit,
RemoveTargets, ListTargetsByRule."""

from __future__ import annotations

import json

import pytest

from emulator.services.events.models import EventBus
from tests.services.events.conftest import ACCOUNT, REGION, error_of

PATTERN = json.dumps({"source": ["my.app"]})
QUEUE = "arn:aws:sqs:us-east-1:000000000000:q"
FIFO = "arn:aws:sqs:us-east-1:000000000000:q.fifo"
STREAM = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
ROLE = "arn:aws:iam::000000000000:role/events"
TOPIC = "arn:aws:sns:us-east-1:000000000000:t"
API_DESTINATION = "arn:aws:events:us-east-1:000000000000:api-destination/d/0e1a"
API_GATEWAY = "arn:aws:execute-api:us-east-1:000000000000:abc123/prod/POST/orders"
FUNCTION = "arn:aws:lambda:us-east-1:000000000000:function:f"


@pytest.fixture
def rule(events) -> str:
    events.put_rule(Name="r", EventPattern=PATTERN)
    return "r"


def rule_of(provider, name: str = "r", bus: str = "default"):
    return provider._stores.get(ACCOUNT, REGION).buses[bus].rules[name]


def test_put_targets_stores_each_entry_as_given(events, rule) -> None:
    targets = [
        {"Id": "queue", "Arn": FIFO, "SqsParameters": {"MessageGroupId": "g"},
         "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60},
         "DeadLetterConfig": {"Arn": QUEUE}},
        {"Id": "stream", "Arn": STREAM, "RoleArn": ROLE, "KinesisParameters": {"PartitionKeyPath": "$.id"},
         "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}},
        {"Id": "api", "Arn": API_DESTINATION, "RoleArn": ROLE,
         "HttpParameters": {"HeaderParameters": {"x-a": "1"}, "QueryStringParameters": {"q": "v"}}},
        {"Id": "gateway", "Arn": API_GATEWAY, "HttpParameters": {"PathParameterValues": ["p"]}},
        {"Id": "topic", "Arn": TOPIC},
    ]
    answer = events.put_targets(Rule=rule, Targets=targets)
    assert (answer["FailedEntryCount"], answer["FailedEntries"]) == (0, [])
    listed = events.list_targets_by_rule(Rule=rule)["Targets"]
    assert listed == sorted(targets, key=lambda target: target["Id"])


def test_put_targets_replaces_a_target_with_the_same_id(events, rule, provider) -> None:
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": QUEUE, "RetryPolicy": {"MaximumRetryAttempts": 3}}])
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": TOPIC}])
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == [{"Id": "t", "Arn": TOPIC}]
    assert rule_of(provider).targets["t"].arn == TOPIC


def test_at_most_five_targets_per_rule(events, raw_events, rule, provider) -> None:
    events.put_targets(Rule=rule, Targets=[{"Id": f"t{i}", "Arn": QUEUE} for i in range(4)])
    expected = ("LimitExceededException", 400, "The requested resource exceeds the maximum number allowed.")
    assert error_of(raw_events.put_targets, Rule=rule, Targets=[{"Id": "t8", "Arn": QUEUE},
                                                               {"Id": "t9", "Arn": QUEUE}]) == expected
    assert len(rule_of(provider).targets) == 4
    events.put_targets(Rule=rule, Targets=[{"Id": "t0", "Arn": TOPIC}, {"Id": "t4", "Arn": QUEUE}])
    assert error_of(raw_events.put_targets, Rule=rule, Targets=[{"Id": "t5", "Arn": QUEUE}]) == expected
    events.put_targets(Rule=rule, Targets=[{"Id": "t1", "Arn": TOPIC}])  # an update needs no room


@pytest.mark.parametrize(("target", "message"), [
    ({"Id": "k", "Arn": QUEUE, "KinesisParameters": {"PartitionKeyPath": "$.id"}},
     "Parameter KinesisParameters is not valid for targetk."),
    ({"Id": "s", "Arn": TOPIC, "SqsParameters": {"MessageGroupId": "g"}},
     "Parameter SqsParameters is not valid for targets."),
    ({"Id": "h", "Arn": FUNCTION, "HttpParameters": {"HeaderParameters": {"a": "b"}}},
     "Parameter HttpParameters is not valid for targeth."),
    ({"Id": "c", "Arn": QUEUE, "RunCommandParameters": {"RunCommandTargets": [{"Key": "InstanceIds",
                                                                               "Values": ["i-1"]}]}},
     "Parameter RunCommandParameters is not valid for targetc."),
    ({"Id": "e", "Arn": QUEUE, "EcsParameters": {"TaskDefinitionArn": "arn:aws:ecs:us-east-1:0:task-definition/x"}},
     "Parameter EcsParameters is not valid for targete."),
    ({"Id": "f", "Arn": FIFO}, "Parameter(s) SqsParameters must be specified for target: f."),
    ({"Id": "g", "Arn": FIFO, "SqsParameters": {}}, "Parameter(s) SqsParameters must be specified for target: g."),
    ({"Id": "k", "Arn": STREAM}, f"RoleArn is required for target {STREAM}."),
    ({"Id": "a", "Arn": API_DESTINATION}, f"RoleArn is required for target {API_DESTINATION}."),
    ({"Id": "b", "Arn": "arn:aws:events:eu-west-1:000000000000:event-bus/default"},
     "RoleArn is required for target arn:aws:events:eu-west-1:000000000000:event-bus/default."),
    ({"Id": "m", "Arn": "arn:aws:states:us-east-1:000000000000:stateMachine:w"},
     "RoleArn is required for target arn:aws:states:us-east-1:000000000000:stateMachine:w."),
    ({"Id": "d", "Arn": QUEUE, "DeadLetterConfig": {"Arn": TOPIC}}, "Parameter DeadLetterConfig.Arn is not valid."),
])
def test_target_settings_are_checked_by_target_kind(raw_events, rule, provider, target, message) -> None:
    ok = {"Id": "fine", "Arn": QUEUE}
    assert error_of(raw_events.put_targets, Rule=rule, Targets=[ok, target]) == ("ValidationException", 400, message)
    assert rule_of(provider).targets == {}


@pytest.mark.parametrize("target", [
    {"Id": "bus", "Arn": "arn:aws:events:us-east-1:111111111111:event-bus/default"},
    {"Id": "fifo-role-free", "Arn": FIFO, "SqsParameters": {"MessageGroupId": "g"}},
    {"Id": "fair", "Arn": QUEUE, "SqsParameters": {"MessageGroupId": "g"}},
])
def test_targets_that_need_nothing_more(events, rule, target) -> None:
    assert events.put_targets(Rule=rule, Targets=[target])["FailedEntryCount"] == 0


@pytest.mark.parametrize(("policy", "member"), [
    ({"MaximumRetryAttempts": 186}, "maximumRetryAttempts"),
    ({"MaximumRetryAttempts": -1}, "maximumRetryAttempts"),
    ({"MaximumEventAgeInSeconds": 59}, "maximumEventAgeInSeconds"),
    ({"MaximumEventAgeInSeconds": 86401}, "maximumEventAgeInSeconds"),
])
def test_retry_policy_bounds(raw_events, rule, policy, member) -> None:
    code, status, message = error_of(raw_events.put_targets, Rule=rule,
                                     Targets=[{"Id": "t", "Arn": QUEUE, "RetryPolicy": policy}])
    assert (code, status) == ("ValidationException", 400)
    assert member in message


def test_put_targets_on_a_missing_rule_or_bus(raw_events) -> None:
    target = [{"Id": "t", "Arn": QUEUE}]
    assert error_of(raw_events.put_targets, Rule="ghost", Targets=target) == (
        "ResourceNotFoundException", 400, "Rule ghost does not exist on EventBus default.")
    assert error_of(raw_events.put_targets, Rule="ghost", EventBusName="nope", Targets=target) == (
        "ResourceNotFoundException", 400, "Event bus nope does not exist.")


def test_targets_of_a_rule_on_a_custom_bus(events, provider) -> None:
    store = provider._stores.get(ACCOUNT, REGION)
    with store.lock:
        store.buses["orders"] = EventBus("orders", store.bus_arn("orders"))
    events.put_rule(Name="r", EventPattern=PATTERN, EventBusName="orders")
    events.put_targets(Rule="r", EventBusName="orders", Targets=[{"Id": "t", "Arn": QUEUE}])
    assert events.list_targets_by_rule(Rule="r", EventBusName="orders")["Targets"] == [{"Id": "t", "Arn": QUEUE}]
    assert error_of(events.list_targets_by_rule, Rule="r")[0] == "ResourceNotFoundException"


def test_remove_targets_removes_those_named(events, rule) -> None:
    events.put_targets(Rule=rule, Targets=[{"Id": i, "Arn": QUEUE} for i in ("a", "b", "c")])
    answer = events.remove_targets(Rule=rule, Ids=["a", "c", "not-there"])
    assert (answer["FailedEntryCount"], answer["FailedEntries"]) == (0, [])
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == [{"Id": "b", "Arn": QUEUE}]


def test_list_targets_by_rule_pages(events, rule) -> None:
    events.put_targets(Rule=rule, Targets=[{"Id": f"t{i}", "Arn": QUEUE} for i in range(5)])
    first = events.list_targets_by_rule(Rule=rule, Limit=2)
    second = events.list_targets_by_rule(Rule=rule, Limit=2, NextToken=first["NextToken"])
    third = events.list_targets_by_rule(Rule=rule, Limit=2, NextToken=second["NextToken"])
    ids = [target["Id"] for page in (first, second, third) for target in page["Targets"]]
    assert ids == [f"t{i}" for i in range(5)] and "NextToken" not in third
    assert error_of(events.list_targets_by_rule, Rule=rule, NextToken="forged") == (
        "ValidationException", 400, "The NextToken provided is invalid.")


def test_targets_of_a_managed_rule(events, raw_events, rule, provider) -> None:
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": QUEUE}])
    rule_of(provider).managed_by = "archive.events.amazonaws.com"
    assert error_of(raw_events.put_targets, Rule=rule, Targets=[{"Id": "u", "Arn": QUEUE}]) == (
        "ManagedRuleException", 400, "r is a managed rule.")
    assert error_of(raw_events.remove_targets, Rule=rule, Ids=["t"]) == (
        "ManagedRuleException", 400, "r is a managed rule. Set 'force' parameter to true to override.")
    events.remove_targets(Rule=rule, Ids=["t"], Force=True)
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == []


@pytest.mark.parametrize(("extra", "message"), [
    ({"Input": "{}", "InputPath": "$.detail"},
     "Only one of Input, InputPath, or InputTransformer must be provided for target t."),
    ({"InputPath": "detail"}, "InputPath for target t is invalid."),
    ({"InputTransformer": {"InputPathsMap": {"a": "$.detail"}, "InputTemplate": '"<b>"'}},
     "InputTemplate for target t contains invalid placeholder b."),
])
def test_input_settings_are_checked_at_put_targets(raw_events, rule, provider, extra, message) -> None:
    assert error_of(raw_events.put_targets, Rule=rule, Targets=[{"Id": "t", "Arn": QUEUE, **extra}]) == (
        "ValidationException", 400, message)
    assert rule_of(provider).targets == {}


def test_an_input_that_is_not_json_is_refused(raw_events, rule) -> None:
    code, status, message = error_of(raw_events.put_targets, Rule=rule,
                                     Targets=[{"Id": "t", "Arn": QUEUE, "Input": "{not json"}])
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("JSON syntax error in input for target t: ")
