"""Unit tables for what a target receives (``render``) and what PutTargets refuses
(``validate_target_input``); the rows follow the EventBridge user guide's "Input transformation"
examples on its sample EC2 event."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.errors import ServiceError
from emulator.services.events.transform import (
    TransformError,
    compile_path,
    compile_template,
    render,
    validate_target_input,
)

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {
        "instance-id": "i-0123456789",
        "state": "RUNNING",
        "count": 3,
        "ratio": 1.5,
        "ok": True,
        "none": None,
        "tags": {"env": "prod"},
        "list": [1, "two"],
        "quote": 'say "hi"',
        "items": [{"id": "a"}, {"id": "b"}],
        "path/with/slash": "slashed",
    },
}
RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/example"
PATHS = {
    "timestamp": "$.time",
    "instance": "$.detail.instance-id",
    "state": "$.detail.state",
    "resource": "$.resources[0]",
    "count": "$.detail.count",
    "ratio": "$.detail.ratio",
    "ok": "$.detail.ok",
    "none": "$.detail.none",
    "tags": "$.detail.tags",
    "list": "$.detail.list",
    "quote": "$.detail.quote",
    "missing": "$.detail.nothing-here",
    "ids": "$.detail.items[*].id",
    "slash": "$.detail.path/with/slash",
}
EVENT_JSON = json.dumps(EVENT, separators=(",", ":"))


def transformed(template: str) -> str:
    target = {"Id": "t1", "InputTransformer": {"InputPathsMap": PATHS, "InputTemplate": template}}
    return render(target, EVENT, RULE_ARN, "example", "2015-11-11T21:29:55Z")


@pytest.mark.parametrize("template, expected", [
    # string templates: the text as written, every placeholder's bare text, nothing escaped
    ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
    ('"instance \\"<instance>\\" is in <state>"', '"instance \\"i-0123456789\\" is in RUNNING"'),
    ("<instance> is in state <state>", "i-0123456789 is in state RUNNING"),
    ('"<aws.events.rule-name> triggered"', '"example triggered"'),
    ("<count> <ratio> <ok> <none>", "3 1.5 true null"),
    ("tags=<tags> list=<list>", 'tags={"env":"prod"} list=[1,"two"]'),
    ("[<missing>]", "[]"),
    ("<quote>", 'say "hi"'),
    ("<resource>", "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"),
    ("<slash>", "slashed"),
    ("at <aws.events.event.ingestion-time> by <aws.events.rule-arn>",
     f"at 2015-11-11T21:29:55Z by {RULE_ARN}"),
    ("<aws.events.event>", EVENT_JSON),
    ("no placeholders at all", "no placeholders at all"),
    ("a < b > c", "a < b > c"),
    # JSON templates: placeholders outside quotes take JSON (strings quoted), inside the bare text;
    # the result is minified
    ('{\n  "instance" : <instance>,\n  "state": <state>\n}', '{"instance":"i-0123456789","state":"RUNNING"}'),
    ('{ "instance" : <instance>, "state": "<state>", "instanceStatus": "instance \\"<instance>\\" is in <state>" }',
     '{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \\"i-0123456789\\" is in RUNNING"}'),
    ('{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}',
     '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}'),
    ('{"ruleArn": <aws.events.rule-arn>, "ruleName": <aws.events.rule-name>, "originalEvent": <aws.events.event>}',
     f'{{"ruleArn":"{RULE_ARN}","ruleName":"example","originalEvent":{EVENT_JSON}}}'),
    ('{"e": <aws.events.event.json>}', f'{{"e":{EVENT_JSON}}}'),
    ('{"n": <count>, "f": <ratio>, "b": <ok>, "z": <none>, "o": <tags>, "l": <list>}',
     '{"n":3,"f":1.5,"b":true,"z":null,"o":{"env":"prod"},"l":[1,"two"]}'),
    ('{"n": "<count>", "b": "<ok>", "z": "<none>"}', '{"n":"3","b":"true","z":"null"}'),
    ('{"ids": <ids>, "first": <resource>}',
     '{"ids":["a","b"],"first":"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"}'),
    ('{"m": "[<missing>]", "t": <timestamp>}', '{"m":"[]","t":"2015-11-11T21:29:54Z"}'),
    ('{"text": "keep  inner   spaces", "x": 1.50e3}', '{"text":"keep  inner   spaces","x":1.50e3}'),
    ('  {"lead": "whitespace"}', '{"lead":"whitespace"}'),
])
def test_input_template_renders_as_the_user_guide_shows(template: str, expected: str) -> None:
    assert transformed(template) == expected


@pytest.mark.parametrize("template, why", [
    ('{"t": <tags>"}', "stray quote"),
    ('{"q": <quote>}', "a string value's quotes are not escaped"),
    ('{"m": <missing>}', "a path that matches nothing is left out"),
    ('{"o": "<tags>"}', "an object's JSON inside a string is not escaped"),
    ('{"unclosed": <state>', "unbalanced"),
])
def test_json_template_that_cannot_produce_json_fails_the_delivery(template: str, why: str) -> None:
    with pytest.raises(TransformError, match="InputTemplate for target t1 did not produce valid JSON"):
        transformed(template)


@pytest.mark.parametrize("target, expected", [
    ({"Id": "t"}, EVENT_JSON),
    ({"Id": "t", "Input": '{"fixed": [1, 2]}'}, '{"fixed": [1, 2]}'),
    ({"Id": "t", "Input": '"a string"'}, '"a string"'),
    ({"Id": "t", "InputPath": "$.detail.state"}, '"RUNNING"'),
    ({"Id": "t", "InputPath": "$.detail.tags"}, '{"env":"prod"}'),
    ({"Id": "t", "InputPath": "$.detail.count"}, "3"),
    ({"Id": "t", "InputPath": "$"}, EVENT_JSON),
    ({"Id": "t", "InputPath": "$.resources[0]"}, '"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"'),
    ({"Id": "t", "InputPath": "$['detail']['state']"}, '"RUNNING"'),
    ({"Id": "t", "InputPath": "$.detail.items[*].id"}, '["a","b"]'),
    ({"Id": "t", "InputPath": "$.detail.tags.*"}, '["prod"]'),
    ({"Id": "t", "InputPath": "$.detail.absent"}, "null"),
    ({"Id": "t", "InputPath": "$.resources[5]"}, "null"),
    ({"Id": "t", "InputPath": "$.detail.state.deeper"}, "null"),
])
def test_target_receives_event_input_or_input_path(target: dict[str, Any], expected: str) -> None:
    assert render(target, EVENT, RULE_ARN, "example", "2015-11-11T21:29:55Z") == expected


def test_unicode_is_sent_unescaped() -> None:
    event = {"detail": {"name": "café ☕"}}
    target = {"Id": "t", "InputTransformer": {"InputPathsMap": {"n": "$.detail.name"}, "InputTemplate": '{"n": <n>}'}}
    assert render(target, event, RULE_ARN, "r", "now") == '{"n":"café ☕"}'
    assert render({"Id": "t"}, event, RULE_ARN, "r", "now") == '{"detail":{"name":"café ☕"}}'


def test_templates_and_paths_are_compiled_once() -> None:
    template = '{"cached": <state>}'
    assert compile_template(template) is compile_template(template)
    assert compile_path("$.detail.state") is compile_path("$.detail.state")


def invalid(target: dict[str, Any]) -> str:
    with pytest.raises(ServiceError) as raised:
        validate_target_input(target)
    assert raised.value.code == "ValidationException"
    return raised.value.message


@pytest.mark.parametrize("target", [
    {"Id": "t"},
    {"Id": "t", "Input": '{"a": 1}'},
    {"Id": "t", "Input": "[1, 2, 3]"},
    {"Id": "t", "Input": "42"},
    {"Id": "t", "Input": '{"a": 1} not read'},
    {"Id": "t", "InputPath": "$"},
    {"Id": "t", "InputPath": "$.detail.instance-id"},
    {"Id": "t", "InputPath": "$.detail.a_b.c1[0][*].*"},
    {"Id": "t", "InputPath": "$['detail']"},
    {"Id": "t", "InputTransformer": {"InputTemplate": '"constant"'}},
    {"Id": "t", "InputTransformer": {"InputTemplate": '{"static": true}'}},
    {"Id": "t", "InputTransformer": {"InputPathsMap": {"a-b_1": "$.detail.x/y"}, "InputTemplate": "<a-b_1>"}},
    {"Id": "t", "InputTransformer": {"InputTemplate": "<aws.events.rule-arn> <aws.events.rule-name> "
                                                      "<aws.events.event> <aws.events.event.ingestion-time>"}},
    {"Id": "t", "InputTransformer": {"InputTemplate": '{"e": <aws.events.event.json>}'}},
    {"Id": "t", "InputTransformer": {"InputPathsMap": {"unused": "$.a"}, "InputTemplate": "x"}},
])
def test_put_targets_accepts_documented_input_forms(target: dict[str, Any]) -> None:
    validate_target_input(target)


@pytest.mark.parametrize("target, message", [
    ({"Id": "t1", "Input": "{}", "InputPath": "$"},
     "Only one of Input, InputPath, or InputTransformer must be provided for target t1."),
    ({"Id": "t1", "InputPath": "$", "InputTransformer": {"InputTemplate": "x"}},
     "Only one of Input, InputPath, or InputTransformer must be provided for target t1."),
    ({"Id": "t1", "Input": "{}", "InputTransformer": {"InputTemplate": "x"}},
     "Only one of Input, InputPath, or InputTransformer must be provided for target t1."),
    ({"Id": "t1", "Input": "{'db_name': 1}"},
     "JSON syntax error in input for target t1: [Source: (String)\"{'db_name': 1}\"; line: 1, column: 3]"),
    ({"Id": "t1", "Input": "not json"},
     'JSON syntax error in input for target t1: [Source: (String)"not json"; line: 1, column: 4]'),
    ({"Id": "t1", "Input": '{"a": 1'},
     'JSON syntax error in input for target t1: [Source: (String)"{"a": 1"; line: 1, column: 8]'),
    ({"Id": "t1", "Input": '{\n"a": }'},
     'JSON syntax error in input for target t1: [Source: (String)"{\n"a": }"; line: 2, column: 7]'),
    ({"Id": "t1", "InputPath": "detail.state"}, "InputPath for target t1 is invalid."),
    ({"Id": "t1", "InputPath": "$..state"}, "InputPath for target t1 is invalid."),
    ({"Id": "t1", "InputPath": "$.detail[?(@.a)]"}, "InputPath for target t1 is invalid."),
    ({"Id": "t1", "InputPath": "$.list[0:2]"}, "InputPath for target t1 is invalid."),
    ({"Id": "t1", "InputPath": "$.list[-1]"}, "InputPath for target t1 is invalid."),
    ({"Id": "t1", "InputPath": "$.a b"}, "InputPath for target t1 is invalid."),
    ({"Id": "t1", "InputPath": ""}, "InputPath for target t1 is invalid."),
    ({"Id": "t1", "InputTransformer": {"InputPathsMap": {"k": "detail"}, "InputTemplate": "<k>"}},
     "InputPath for target t1 is invalid."),
    ({"Id": "t1", "InputTransformer": {"InputPathsMap": {"k": "$['detail']"}, "InputTemplate": "<k>"}},
     "InputPath for target t1 is invalid."),
    ({"Id": "t1", "InputTransformer": {"InputTemplate": "<undefined>"}},
     "InputTemplate for target t1 contains invalid placeholder undefined."),
    ({"Id": "t1", "InputTransformer": {"InputPathsMap": {"a": "$.a"}, "InputTemplate": '{"a": <a>, "b": <b>}'}},
     "InputTemplate for target t1 contains invalid placeholder b."),
    ({"Id": "t1", "InputTransformer": {"InputTemplate": "<aws.events.unknown>"}},
     "InputTemplate for target t1 contains invalid placeholder aws.events.unknown."),
    ({"Id": "t1", "InputTransformer": {"InputTemplate": '"<aws.events.event.json>"'}},
     "InputTemplate for target t1 contains placeholder aws.events.event.json valid only for JSON template."),
    ({"Id": "t1", "InputTransformer": {"InputTemplate": "[<aws.events.event.json>]"}},
     "InputTemplate for target t1 contains placeholder aws.events.event.json valid only for JSON template."),
])
def test_put_targets_refuses_bad_input_settings(target: dict[str, Any], message: str) -> None:
    assert invalid(target) == message


def test_long_input_is_echoed_truncated_as_jackson_does() -> None:
    text = "[" + "1," * 300 + "x]"
    message = invalid({"Id": "t1", "Input": text})
    assert message.startswith(f'JSON syntax error in input for target t1: [Source: (String)"{text[:500]}"')
    assert f"[truncated {len(text) - 500} chars]; line: 1, column: 603]" in message
