"""EventBridge pattern matching: (pattern, event, expected) tables, every documented example.

Each case runs three ways: the compiled pattern alone (TestEventPattern), a Ruleset holding it
among other rules, and -- where the pattern has no dotted keys -- the reference matcher.
"""

from __future__ import annotations

import json

import pytest

from emulator.patterns import Ruleset, compile_event_pattern, event_matches
from emulator.patterns.reference import reference_matches

EC2 = {
    "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
    "account": "111122223333", "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"},
}


def ev(**detail):
    return {**EC2, "detail": detail}


# (pattern, [(event, expected), ...]) -- grouped by the feature they exercise.
GROUPS = [
    # --- documented examples: "Amazon EventBridge event patterns" -------------------------------
    ({"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"],
      "detail": {"state": ["terminated"]}},
     [(EC2, True), (ev(state="running"), False), ({**EC2, "source": "aws.s3"}, False)]),
    ({"source": ["aws.ec2", "aws.fargate"]},
     [(EC2, True), ({**EC2, "source": "aws.fargate"}, True), ({**EC2, "source": "aws.s3"}, False)]),
    ({"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0", "x"]},
     [(EC2, True), ({**EC2, "resources": ["y", "x"]}, True), ({**EC2, "resources": []}, False)]),
    ({"detail": {"responseElements": [None]}},
     [(ev(responseElements=None), True), (ev(responseElements="null"), False), (ev(), False)]),
    ({"detail": {"eventVersion": [""]}},
     [(ev(eventVersion=""), True), (ev(eventVersion=" "), False), (ev(eventVersion=None), False)]),
    ({"detail": {"severity": {"score": [1]}, "count": [2]}},
     [(ev(severity={"score": 1, "description": "Low"}, count=2), True),
      (ev(severity={"score": 1.0}, count=2.0), True), (ev(severity={"score": 2}, count=2), False)]),
    ({"detail": {"state.status": ["running"]}},  # dots in keys join paths
     [(ev(state={"status": "running"}), True), (ev(state={"status": "stopped"}), False)]),
    ({"detail": {"state": {"status": ["running"]}}},
     [(ev(**{"state.status": {"status": "running"}}), False), (ev(state={"status": "running"}), True)]),
    # --- types -----------------------------------------------------------------------------------
    ({"detail": {"flag": [True]}},
     [(ev(flag=True), True), (ev(flag="true"), False), (ev(flag=1), False), (ev(flag=False), False)]),
    ({"detail": {"n": [5]}},
     [(ev(n=5), True), (ev(n=5.0), True), (ev(n="5"), False), (ev(n=[1, 5]), True), (ev(n=6), False)]),
    ({"detail": {"n": ["5"]}}, [(ev(n="5"), True), (ev(n=5), False)]),
    ({"detail": {"n": [300]}}, [(ev(n=3.0e2), True), (ev(n=299.99), False)]),
    ({"detail": {"a": ["x"]}},
     [(ev(a={"x": 1}), False), (ev(a=[["x"]]), True), (ev(), False), (ev(a=["y", ["z", "x"]]), True)]),
    ({"account": ["111122223333"]}, [(EC2, True), ({**EC2, "account": "1"}, False)]),
    ({"detail": {"k": ["Value"]}}, [(ev(k="value"), False), (ev(k="Value"), True)]),
    ({"detail": {"Key": ["v"]}}, [(ev(key="v"), False), (ev(Key="v"), True)]),
    # --- prefix / suffix / equals-ignore-case -----------------------------------------------------
    ({"time": [{"prefix": "2017-10-02"}]},
     [({**EC2, "time": "2017-10-02T18:43:48Z"}, True), (EC2, False)]),
    ({"source": ["aws.autoscaling"], "region": [{"prefix": "eu-"}]},
     [({**EC2, "source": "aws.autoscaling", "region": "eu-west-1"}, True),
      ({**EC2, "source": "aws.autoscaling", "region": "us-east-1"}, False)]),
    ({"detail": {"f": [{"prefix": ""}]}}, [(ev(f=""), True), (ev(f="x"), True), (ev(f=1), False)]),
    ({"detail": {"FileName": [{"suffix": ".png"}]}},
     [(ev(FileName="a.png"), True), (ev(FileName="a.PNG"), False), (ev(FileName="png"), False)]),
    ({"detail": {"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}},
     [(ev(service="EventBridge"), True), (ev(service="eventbus"), True), (ev(service="sns"), False)]),
    ({"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
     [(ev(FileName="A.PNG"), True), (ev(FileName="a.jpg"), False)]),
    ({"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]},
     [(EC2, True), ({**EC2, "detail-type": "EC2 instance state change"}, False)]),
    ({"detail": {"f": [{"equals-ignore-case": ""}]}}, [(ev(f=""), True), (ev(f=" "), False)]),
    ({"detail": {"f": [{"exactly": "x"}]}}, [(ev(f="x"), True), (ev(f="X"), False)]),
    # --- anything-but -----------------------------------------------------------------------------
    ({"detail": {"state": [{"anything-but": "initializing"}]}},
     [(ev(state="running"), True), (ev(state="initializing"), False), (ev(state=None), True),
      (ev(), False), (ev(state=5), True), (ev(state=["initializing", "x"]), True)]),
    ({"detail": {"x-limit": [{"anything-but": 123}]}},
     [(ev(**{"x-limit": 124}), True), (ev(**{"x-limit": 123.0}), False), (ev(**{"x-limit": "123"}), True)]),
    ({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
     [(ev(state="running"), True), (ev(state="stopped"), False), (ev(state="overloaded"), False)]),
    ({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}},
     [(ev(**{"x-limit": 150}), True), (ev(**{"x-limit": 200}), False), (ev(**{"x-limit": [100, 50]}), True)]),
    ({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
     [(ev(state="running"), True), (ev(state="initializing"), False), (ev(state=12), True),
      (ev(state=None), True)]),
    ({"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}},
     [(ev(FileName="a.txt"), True), (ev(FileName="a.png"), False)]),
    ({"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}},
     [(ev(state="INITIALIZING"), False), (ev(state="running"), True)]),
    ({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["a", "B"]}}]}},
     [(ev(state="b"), False), (ev(state="A"), False), (ev(state="c"), True)]),
    ({"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}},
     [(ev(FilePath="/usr/lib/x"), False), (ev(FilePath="/usr/bin/x"), True)]),
    ({"detail": {"FilePath": [{"anything-but": {"wildcard": ["*/lib/*", "*.tmp"]}}]}},
     [(ev(FilePath="a.tmp"), False), (ev(FilePath="a.txt"), True)]),
    ({"detail": {"state": [{"anything-but": {"prefix": ["a", "b"]}}]}},
     [(ev(state="apple"), False), (ev(state="banana"), False), (ev(state="cherry"), True)]),
    # --- numeric ----------------------------------------------------------------------------------
    ({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}],
                 "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"numeric": ["=", 3.018e2]}]}},
     [(ev(**{"c-count": 5, "d-count": 9.99, "x-limit": 301.8}), True),
      (ev(**{"c-count": 0, "d-count": 9, "x-limit": 301.8}), False),
      (ev(**{"c-count": 1, "d-count": 10, "x-limit": 301.8}), False),
      (ev(**{"c-count": 1, "d-count": 1, "x-limit": "301.8"}), False)]),
    ({"detail": {"n": [{"numeric": [">=", -5, "<", 5]}]}},
     [(ev(n=-5), True), (ev(n=5), False), (ev(n=4.999999), True), (ev(n=True), False), (ev(n=None), False)]),
    ({"detail": {"n": [{"numeric": [">", 1e9]}]}}, [(ev(n=2e9), True), (ev(n=6e9), False)]),
    ({"detail": {"n": [{"numeric": ["<=", 0]}]}}, [(ev(n=0), True), (ev(n=-0.5), True), (ev(n=0.1), False)]),
    ({"detail": {"n": [{"numeric": [">", 0]}, {"numeric": ["<", -10]}]}},
     [(ev(n=-11), True), (ev(n=-5), False), (ev(n=[-5, 3]), True)]),
    # --- cidr and IP values -----------------------------------------------------------------------
    ({"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
     [(ev(sourceIPAddress="10.0.0.255"), True), (ev(sourceIPAddress="10.0.1.0"), False),
      (ev(sourceIPAddress="not-an-ip"), False), (ev(sourceIPAddress=167772161), False)]),
    ({"detail": {"sourceIPAddress": [{"cidr": "2001:db8::/64"}]}},
     [(ev(sourceIPAddress="2001:db8::ff"), True), (ev(sourceIPAddress="2001:db9::1"), False),
      (ev(sourceIPAddress="10.0.0.1"), False)]),
    ({"detail": {"ip": ["2001:db8::1"]}},
     [(ev(ip="2001:0db8:0:0:0:0:0:1"), True), (ev(ip="2001:db8::2"), False)]),
    ({"detail": {"ip": ["10.0.0.1"]}}, [(ev(ip="10.0.0.1"), True), (ev(ip="10.0.0.2"), False)]),
    # --- exists -----------------------------------------------------------------------------------
    ({"detail": {"state": [{"exists": True}]}},
     [(EC2, True), (ev(), False), (ev(state=None), True), (ev(state=[]), False),
      (ev(state={"a": 1}), False), (ev(state=["x"]), True)]),
    ({"detail": {"state": [{"exists": False}]}},
     [(EC2, False), (ev(), True), (ev(state=[]), True), (ev(state={"a": 1}), True), (ev(state=None), False)]),
    ({"detail": {"c-count": [{"exists": False}, 5]}},
     [(ev(), True), (ev(**{"c-count": 5}), True), (ev(**{"c-count": 6}), False)]),
    ({"source": ["aws.ec2"], "detail": {"x": [{"exists": False}], "y": [{"exists": False}]}},
     [(EC2, True), (ev(y=1), False)]),
    # --- wildcard ---------------------------------------------------------------------------------
    ({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
     [({**EC2, "EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/myEventBus"}, True),
      ({**EC2, "EventBusArn": "arn:aws:events:us-west-2:123456789012:event-bus/myEventBus"}, False)]),
    ({"detail": {"f": [{"wildcard": "*Title*"}]}},
     [(ev(f="MyTitle1"), True), (ev(f="Title"), True), (ev(f="title"), False)]),
    ({"detail": {"f": [{"wildcard": "a\\*b"}]}}, [(ev(f="a*b"), True), (ev(f="axb"), False)]),
    ({"detail": {"f": [{"wildcard": "a\\\\*"}]}}, [(ev(f="a\\bc"), True), (ev(f="abc"), False)]),
    ({"detail": {"f": [{"wildcard": "abc"}]}}, [(ev(f="abc"), True), (ev(f="abcd"), False)]),
    ({"detail": {"f": [{"wildcard": "*"}]}}, [(ev(f=""), True), (ev(f="x"), True), (ev(f=1), False)]),
    ({"detail": {"f": [{"wildcard": "a*a*a"}]}}, [(ev(f="aaa"), True), (ev(f="aa"), False), (ev(f="abaca"), True)]),
    # --- $or --------------------------------------------------------------------------------------
    ({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]},
                                            {"namespace": ["AWS/EC2", "AWS/ES"]}]},
     [({**EC2, "source": "aws.cloudwatch", "metricName": "ReadLatency"}, True),
      ({**EC2, "source": "aws.cloudwatch", "namespace": "AWS/ES"}, True),
      ({**EC2, "source": "aws.cloudwatch", "namespace": "AWS/S3"}, False),
      ({**EC2, "metricName": "ReadLatency"}, False)]),
    ({"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                         {"d-count": [{"numeric": ["<", 10]}]},
                         {"x-limit": [{"numeric": ["=", 3.018e2]}]}]}},
     [(ev(**{"c-count": 3}), True), (ev(**{"d-count": 3}), True), (ev(**{"x-limit": 301.8}), True),
      (ev(**{"c-count": 30, "d-count": 30}), False)]),
    ({"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]},
                                            {"$or": [{"metricType": ["MetricType"]},
                                                     {"namespace": ["AWS/EC2"]}]}]},
     [({**EC2, "source": "aws.cloudwatch", "namespace": "AWS/EC2"}, True),
      ({**EC2, "source": "aws.cloudwatch", "metricType": "MetricType"}, True),
      ({**EC2, "source": "aws.cloudwatch"}, False)]),
    ({"$or": [{"a": [{"exists": False}]}, {"b": ["1"]}], "c": ["x"]},
     [({"c": "x"}, True), ({"a": 1, "c": "x"}, False), ({"a": 1, "b": "1", "c": "x"}, True), ({"b": "1"}, False)]),
    ({"detail": {"$or": [{"state": [{"anything-but": "x"}]}, {"n": [{"numeric": [">", 1]}]}]}},
     [(ev(state="x", n=2), True), (ev(state="x", n=0), False), (ev(state="y"), True)]),
    # --- arrays of objects (array-consistent matching) ---------------------------------------------
    ({"detail": {"items": {"b": [1], "c": [2]}}},
     [(ev(items=[{"b": 1, "c": 2}, {"b": 3, "c": 4}]), True),
      (ev(items=[{"b": 1, "c": 4}, {"b": 3, "c": 2}]), False),
      (ev(items={"b": [1, 9], "c": 2}), True)]),
    ({"detail": {"items": {"b": [1]}, "other": ["x"]}},
     [(ev(items=[{"b": 0}, {"b": 1}], other="x"), True), (ev(items=[{"b": 0}], other="x"), False)]),
    ({"detail": {"rows": {"cells": {"v": ["a"], "w": ["b"]}}}},
     [(ev(rows=[{"cells": [{"v": "a", "w": "c"}, {"v": "c", "w": "b"}]}]), False),
      (ev(rows=[{"cells": [{"v": "x"}]}, {"cells": [{"v": "a", "w": "b"}]}]), True)]),
]

CASES = [(p, e, want) for p, pairs in GROUPS for e, want in pairs]


def _has_dotted_key(node) -> bool:
    if isinstance(node, dict):
        return any("." in k or _has_dotted_key(v) for k, v in node.items())
    if isinstance(node, list):
        return any(_has_dotted_key(v) for v in node)
    return False


def test_there_are_at_least_150_matching_cases():
    assert len(CASES) >= 150


@pytest.mark.parametrize("pattern,event,expected", CASES)
def test_pattern_matches_event_as_aws_documents(pattern, event, expected):
    text = json.dumps(pattern)
    compiled = compile_event_pattern(text)
    assert event_matches(compiled, event) is expected
    rules = Ruleset()
    rules.add("decoy-1", compile_event_pattern('{"source": ["nothing.like.this"]}'))
    rules.add("it", compiled)
    rules.add("decoy-2", compile_event_pattern('{"detail": {"never": [{"exists": true}]}}'))
    assert ("it" in rules.matching(event)) is expected
    if not _has_dotted_key(pattern):
        assert reference_matches(pattern, event) is expected
