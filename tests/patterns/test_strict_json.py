"""NaN and Infinity are not JSON: no reader of the engine takes them for numbers."""

from __future__ import annotations

import json

import pytest

from emulator.patterns import (
    INVALID_EVENT_MESSAGE,
    MESSAGE_ATTRIBUTES,
    MESSAGE_BODY,
    InvalidJsonError,
    InvalidTestEventError,
    Ruleset,
    compile_event_pattern,
    compile_filter_policy,
    filter_policy_matches,
    parse_json_strict,
    test_event_pattern,
)

ENVELOPE = ('{"id": "1", "account": "123456789012", "source": "app", "time": "2024-01-01T00:00:00Z", '
            '"region": "us-east-1", "detail-type": "t", "detail": {"n": %s}}')
NOT_JSON_NUMBERS = ["NaN", "Infinity", "-Infinity", "[1, NaN]", '{"deep": [Infinity]}']
# Patterns that would all match a NaN if it were let through as a float.
NUMERIC_PATTERNS = [
    {"detail": {"n": [{"numeric": [">", 0]}]}},
    {"detail": {"n": [{"numeric": ["<", 0]}]}},
    {"detail": {"n": [{"numeric": [">=", -1, "<=", 1]}]}},
    {"detail": {"n": [{"anything-but": [1, 2]}]}},
    {"detail": {"n": [{"exists": True}]}},
]


@pytest.mark.parametrize("value", NOT_JSON_NUMBERS)
def test_parse_json_strict_refuses_nan_and_infinity(value):
    with pytest.raises(InvalidJsonError):
        parse_json_strict(ENVELOPE % value)
    assert isinstance(InvalidJsonError("x"), ValueError)


@pytest.mark.parametrize("text, expected", [
    ('{"a": 1e400}', {"a": float("inf")}),  # valid JSON; out of every numeric range
    ('{"a": 1, "a": 2}', {"a": 2}),          # a repeated key keeps its last value
    ('"\\ud83d\\ude00"', "\U0001F600"),
    ("[]", []),
])
def test_parse_json_strict_reads_json(text, expected):
    assert parse_json_strict(text) == expected


@pytest.mark.parametrize("text", ["", "{", "[1,]", "{'a': 1}", "[" * 100_000, "nan", "01"])
def test_parse_json_strict_refuses_what_is_not_json(text):
    with pytest.raises(InvalidJsonError):
        parse_json_strict(text)


@pytest.mark.parametrize("value", NOT_JSON_NUMBERS)
@pytest.mark.parametrize("pattern", NUMERIC_PATTERNS, ids=json.dumps)
def test_test_event_pattern_answers_invalid_event(pattern, value):
    with pytest.raises(InvalidTestEventError) as e:
        test_event_pattern(json.dumps(pattern), ENVELOPE % value)
    assert e.value.message == INVALID_EVENT_MESSAGE == "Parameter Event is not valid."


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("policy", [{"n": [{"numeric": [">", 0]}]}, {"n": [{"exists": True}]},
                                    {"n": [{"anything-but": [1]}]}, {"m": [{"exists": False}]}],
                         ids=json.dumps)
def test_sns_body_with_nan_is_not_a_json_body(policy, value):
    compiled = compile_filter_policy(json.dumps(policy), MESSAGE_BODY)
    assert filter_policy_matches(compiled, message_body='{"n": %s}' % value) is False
    assert filter_policy_matches(compiled, message_body='{"n": 5}') is True  # each would match


def test_string_array_attribute_holding_nan_is_ignored():
    policy = compile_filter_policy('{"tags": [{"exists": true}]}', MESSAGE_ATTRIBUTES)
    bad = {"tags": {"DataType": "String.Array", "StringValue": '["a", NaN]'}}
    good = {"tags": {"DataType": "String.Array", "StringValue": '["a", 1]'}}
    assert filter_policy_matches(policy, message_attributes=bad) is False
    assert filter_policy_matches(policy, message_attributes=good) is True


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("pattern", NUMERIC_PATTERNS[:3], ids=json.dumps)
def test_direct_check_and_ruleset_agree_on_non_finite_numbers(pattern, value):
    """A caller that hands the engine a decoded NaN anyway gets one answer from both paths."""
    compiled = compile_event_pattern(json.dumps(pattern))
    rules = Ruleset()
    rules.add("r", compiled)
    event = {"detail": {"n": value}}
    assert compiled.matches(event) is False
    assert rules.matching(event) == set()
