"""SNS filter policies against message attributes and message bodies (documented examples)."""

from __future__ import annotations

import json

import pytest

from emulator.patterns import Ruleset, compile_filter_policy, filter_policy_matches, message_document


def attrs(**kw):
    out = {}
    for name, (dtype, value) in kw.items():
        key = "BinaryValue" if dtype == "Binary" else "StringValue"
        out[name] = {"DataType": dtype, key: value}
    return out


ATTRIBUTE_CASES = [
    ({"store": ["example_corp"]}, attrs(store=("String", "example_corp")), True),
    ({"store": ["example_corp"]}, attrs(store=("String", "other")), False),
    ({"customer_interests": ["rugby", "football", "baseball"]},
     attrs(customer_interests=("String.Array", '["rugby", "tennis"]')), True),
    ({"customer_interests": ["rugby"]}, attrs(customer_interests=("String.Array", '["tennis"]')), False),
    ({"price_usd": [{"numeric": ["=", 301.5]}]}, attrs(price_usd=("Number", "3.015e2")), True),
    ({"price_usd": [{"numeric": [">", 100]}]}, attrs(price_usd=("Number", "99")), False),
    ({"price": [{"anything-but": [100, 500]}]}, attrs(price=("Number", "100.1")), True),
    ({"price": [{"anything-but": [100, 500]}]}, attrs(price=("Number", "100")), False),
    ({"store": [{"exists": True}]}, attrs(store=("Number", "99")), True),
    ({"store": [{"exists": False}]}, attrs(other=("String", "x")), True),
    ({"store": [{"exists": True}]}, attrs(store=("Binary", b"xx")), False),
    ({"store": ["x"]}, attrs(store=("Binary", b"x")), False),
    ({"event": [{"prefix": "order-"}]}, attrs(event=("String", "order-placed")), True),
    ({"event": [{"suffix": "-placed"}]}, attrs(event=("String", "order-placed")), True),
    ({"event": [{"equals-ignore-case": "ORDER"}]}, attrs(event=("String", "order")), True),
    ({"event": [{"anything-but": {"prefix": "order-"}}]}, attrs(event=("String", "order-x")), False),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, attrs(ip=("String", "10.0.0.20")), True),
    # recorded: null never matches an absent attribute; only {"exists": false} matches absence
    ({"attr1": [None, {"anything-but": "whatever"}]}, {}, False),
    ({"attr1": [None]}, {}, False),
    ({"attr1": [None, {"exists": False}]}, {}, True),
    ({"attr1": [None, {"anything-but": "whatever"}]}, attrs(attr1=("String", "other")), True),
    ({"attr1": [None, {"anything-but": "whatever"}]}, attrs(attr1=("String", "whatever")), False),
    ({"attr1": [None]}, attrs(attr1=("String", "null")), False),
    ({"n": [5]}, attrs(n=("String", "5")), False),
    ({"n": [5]}, attrs(n=("Number", "5.0")), True),
    ({"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]},
     attrs(customer_interests=("String", "rugby"), price_usd=("Number", "101")), True),
    ({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}]},
     attrs(source=("String", "aws.cloudwatch"), namespace=("String", "AWS/EC2")), True),
]

BODY_CASES = [
    ({"store": ["example_corp"]}, {"store": "example_corp"}, True),
    ({"object": {"key": [{"prefix": "auto-"}]}}, {"object": {"key": "auto-123"}}, True),
    ({"object": {"key": [{"prefix": "auto-"}]}}, {"object": {"key": "manual"}}, False),
    ({"price": [{"anything-but": [100, 500]}]}, {"price": [100, 50]}, True),
    ({"price_usd": [{"numeric": ["=", 301.5]}]}, {"price_usd": 3.015e2}, True),
    ({"a": [{"exists": False}]}, {"b": 1}, True),
    ({"a": [None]}, {"a": None}, True),
    ({"a": [None]}, {"b": 1}, False),
    ({"a": [None, {"anything-but": "whatever"}]}, {"b": 1}, False),
]


@pytest.mark.parametrize("policy,message_attributes,expected", ATTRIBUTE_CASES)
def test_policy_filters_message_attributes(policy, message_attributes, expected):
    pattern = compile_filter_policy(json.dumps(policy), "MessageAttributes")
    assert filter_policy_matches(pattern, message_attributes=message_attributes) is expected


@pytest.mark.parametrize("policy,body,expected", BODY_CASES)
def test_policy_filters_message_body(policy, body, expected):
    pattern = compile_filter_policy(json.dumps(policy), "MessageBody")
    assert filter_policy_matches(pattern, message_body=json.dumps(body)) is expected


@pytest.mark.parametrize("body", ["not json", '"a string"', "[1, 2]", "", None])
def test_body_that_is_not_a_json_object_never_matches(body):
    pattern = compile_filter_policy('{"a": [{"exists": false}]}', "MessageBody")
    assert filter_policy_matches(pattern, message_body=body) is False


def test_shared_ruleset_agrees_with_single_policy_checks():
    """A topic's subscriptions share one Ruleset: it must give each table case's answer too."""
    cases = [(json.dumps(p), "MessageAttributes", {"message_attributes": a}, want)
             for p, a, want in ATTRIBUTE_CASES]
    cases += [(json.dumps(p), "MessageBody", {"message_body": json.dumps(b)}, want)
              for p, b, want in BODY_CASES]
    rules = Ruleset()
    for i, (text, scope, _message, _want) in enumerate(cases):
        rules.add(f"s{i}", compile_filter_policy(text, scope))
    for i, (text, scope, message, want) in enumerate(cases):
        matched = rules.matching(message_document(scope, **message))
        assert (f"s{i}" in matched) is want, (text, message)
