"""PutTargets over the socket: Input, InputPath and InputTransformer settings AWS refuses are
refused as a whole-request ValidationException (HTTP 400) and change no target; accepted ones are
kept exactly as given."""

from __future__ import annotations

from typing import Any

import pytest

from tests.services.events.conftest import error_of

QUEUE = "arn:aws:sqs:us-east-1:000000000000:queue"


@pytest.fixture
def rule(events: Any) -> str:
    events.put_rule(Name="transform-rule", EventPattern='{"source": ["test"]}')
    return "transform-rule"


def target(**members: Any) -> dict[str, Any]:
    return {"Id": "t1", "Arn": QUEUE, **members}


@pytest.mark.parametrize("members, message", [
    ({"Input": "{}", "InputPath": "$.detail"},
     "Only one of Input, InputPath, or InputTransformer must be provided for target t1."),
    ({"InputPath": "$.detail", "InputTransformer": {"InputTemplate": '"x"'}},
     "Only one of Input, InputPath, or InputTransformer must be provided for target t1."),
    ({"Input": "{'a': 1}"},
     "JSON syntax error in input for target t1: [Source: (String)\"{'a': 1}\"; line: 1, column: 3]"),
    ({"InputPath": "detail"}, "InputPath for target t1 is invalid."),
    ({"InputTransformer": {"InputPathsMap": {"k": "$..x"}, "InputTemplate": "<k>"}},
     "InputPath for target t1 is invalid."),
    ({"InputTransformer": {"InputPathsMap": {"k": "$.a"}, "InputTemplate": "<k> and <j>"}},
     "InputTemplate for target t1 contains invalid placeholder j."),
    ({"InputTransformer": {"InputTemplate": "<aws.events.event.json>"}},
     "InputTemplate for target t1 contains placeholder aws.events.event.json valid only for JSON template."),
])
def test_put_targets_refuses_bad_input_settings(raw_events: Any, rule: str, members: dict[str, Any],
                                                message: str) -> None:
    assert error_of(raw_events.put_targets, Rule=rule, Targets=[target(**members)]) == (
        "ValidationException", 400, message,
    )
    assert raw_events.list_targets_by_rule(Rule=rule)["Targets"] == []


@pytest.mark.parametrize("transformer, fragment", [
    ({"InputPathsMap": {f"k{i}": "$.a" for i in range(101)}, "InputTemplate": "x"},
     "Member must have length less than or equal to 100"),
    ({"InputPathsMap": {"aws.events.rule-name": "$.a"}, "InputTemplate": "x"},
     "Member must satisfy regular expression pattern: [A-Za-z0-9\\_\\-]+"),
    ({"InputTemplate": "x" * 8193}, "Member must have length less than or equal to 8192"),
    ({"InputPathsMap": {"k": "$." + "a" * 256}, "InputTemplate": "<k>"},
     "Member must have length less than or equal to 256"),
])
def test_put_targets_refuses_what_the_model_limits(raw_events: Any, rule: str, transformer: dict[str, Any],
                                                   fragment: str) -> None:
    code, status, message = error_of(raw_events.put_targets, Rule=rule,
                                     Targets=[target(InputTransformer=transformer)])
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: ") and fragment in message


@pytest.mark.parametrize("members", [
    {"Input": '{"fixed": true}'},
    {"InputPath": "$.detail.items[0]"},
    {"InputTransformer": {"InputPathsMap": {f"k{i}": f"$.detail.f{i}" for i in range(100)},
                          "InputTemplate": '{"first": <k0>, "last": "<k99>", "rule": <aws.events.rule-name>}'}},
    {"InputTransformer": {"InputTemplate": "x" * 8192}},
])
def test_put_targets_keeps_accepted_input_settings_as_given(events: Any, rule: str, members: dict[str, Any]) -> None:
    assert events.put_targets(Rule=rule, Targets=[target(**members)])["FailedEntryCount"] == 0
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == [target(**members)]
