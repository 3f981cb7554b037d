"""TestEventPattern over the wire: the pattern engine behind EventBridge's stateless operation."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

EVENT = {
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-abcd1111", "state": "pending", "size": 5, "ip": "10.0.0.7"},
}


@pytest.mark.parametrize(("pattern", "expected"), [
    ({"source": ["aws.ec2"]}, True),
    ({"source": ["aws.s3"]}, False),
    ({"detail": {"state": [{"prefix": "pend"}]}}, True),
    ({"detail": {"state": [{"anything-but": ["pending"]}]}}, False),
    ({"detail": {"size": [{"numeric": [">", 4, "<=", 5]}]}}, True),
    ({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, True),
    ({"detail": {"missing": [{"exists": False}]}}, True),
    ({"resources": [{"wildcard": "arn:aws:ec2:*:instance/i-*"}]}, True),
    ({"$or": [{"source": ["aws.s3"]}, {"detail": {"size": [5]}}]}, True),
    ({"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}, True),
])
def test_results_for_each_kind_of_condition(aws_client, pattern, expected) -> None:
    answer = aws_client("events").test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(EVENT))
    assert answer["Result"] is expected


@pytest.mark.parametrize(("pattern", "reason"), [
    ('{"source": "aws.ec2"}', '"source" must be an object or an array'),
    ('{"source": []}', "Empty arrays are not allowed"),
    ('{"detail": {"size": [{"numeric": [">", "five"]}]}}', "Value of > must be numeric"),
    ("not json", "Event pattern is not valid."),
])
def test_an_invalid_pattern_is_an_invalid_event_pattern_exception(aws_client, pattern, reason) -> None:
    with pytest.raises(ClientError) as caught:
        aws_client("events").test_event_pattern(EventPattern=pattern, Event=json.dumps(EVENT))
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidEventPatternException"
    assert error["Message"].startswith("Event pattern is not valid.")
    assert reason in error["Message"]


@pytest.mark.parametrize("event", ["not json", "[]", json.dumps({"source": "aws.ec2"})])
def test_an_event_that_is_not_an_aws_event_is_a_validation_exception(aws_client, event) -> None:
    with pytest.raises(ClientError) as caught:
        aws_client("events").test_event_pattern(EventPattern='{"source": ["aws.ec2"]}', Event=event)
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("ValidationException", "Parameter Event is not valid.")


def test_a_pattern_over_the_models_4096_characters_is_a_validation_exception(aws_client) -> None:
    pattern = json.dumps({"source": ["x" * 4100]})
    with pytest.raises(ClientError) as caught:
        aws_client("events", validate=False).test_event_pattern(EventPattern=pattern, Event=json.dumps(EVENT))
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to 4096" in (
        error["Message"]
    )


@pytest.mark.parametrize("missing", ["EventPattern", "Event"])
def test_both_members_are_required(aws_client, missing) -> None:
    params = {"EventPattern": '{"source": ["aws.ec2"]}', "Event": json.dumps(EVENT)}
    del params[missing]
    with pytest.raises(ClientError) as caught:
        aws_client("events", validate=False).test_event_pattern(**params)
    lowered = missing[0].lower() + missing[1:]
    assert caught.value.response["Error"]["Message"] == (
        f"1 validation error detected: Value null at '{lowered}' failed to satisfy constraint: Member must not be null"
    )
