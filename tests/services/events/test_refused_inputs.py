"""Inputs the model lets through but AWS refuses: a target ARN that is no ARN, a bus dead-letter
queue that is no SQS queue, a bus policy whose statements are not objects. Each is refused with a
ValidationException (HTTP 400) and leaves the rule's targets, the buses and the policy as they were."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.services.events.conftest import ACCOUNT, REGION, bus_arn, error_of

QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:inbox"
DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
PATTERN = json.dumps({"source": ["app"]})


@pytest.mark.parametrize("arn", ["arn:", ":::::::", "garbage", "arn:aws:sqs:::", "arn:aws::us-east-1:1:x"])
def test_put_targets_refuses_a_target_arn_that_is_no_arn(raw_events: Any, arn: str) -> None:
    raw_events.put_rule(Name="r", EventPattern=PATTERN)
    raw_events.put_targets(Rule="r", Targets=[{"Id": "kept", "Arn": QUEUE}])

    error = error_of(raw_events.put_targets, Rule="r",
                     Targets=[{"Id": "new", "Arn": QUEUE}, {"Id": "bad", "Arn": arn}])

    assert error == ("ValidationException", 400, "Parameter Arn is not valid.")
    assert [t["Id"] for t in raw_events.list_targets_by_rule(Rule="r")["Targets"]] == ["kept"]


BAD_QUEUES = ["garbage", "arn:", f"arn:aws:sns:{REGION}:{ACCOUNT}:topic", f"arn:aws:sqs:{REGION}:{ACCOUNT}:"]


@pytest.mark.parametrize("arn", BAD_QUEUES)
def test_create_event_bus_refuses_a_dead_letter_queue_that_is_no_queue(raw_events: Any, arn: str) -> None:
    error = error_of(raw_events.create_event_bus, Name="orders", DeadLetterConfig={"Arn": arn})

    assert error == ("ValidationException", 400, "Parameter DeadLetterConfig.Arn is not valid.")
    assert "orders" not in [bus["Name"] for bus in raw_events.list_event_buses()["EventBuses"]]


@pytest.mark.parametrize("arn", BAD_QUEUES)
def test_update_event_bus_refuses_a_dead_letter_queue_that_is_no_queue(raw_events: Any, arn: str) -> None:
    raw_events.create_event_bus(Name="orders", Description="before", DeadLetterConfig={"Arn": DLQ})
    before = raw_events.describe_event_bus(Name="orders")

    error = error_of(raw_events.update_event_bus, Name="orders", DeadLetterConfig={"Arn": arn})

    assert error == ("ValidationException", 400, "Parameter DeadLetterConfig.Arn is not valid.")
    after = raw_events.describe_event_bus(Name="orders")
    assert (after["DeadLetterConfig"], after["Description"], after["LastModifiedTime"]) == (
        before["DeadLetterConfig"], before["Description"], before["LastModifiedTime"])


def test_a_queue_arn_is_still_taken_as_the_bus_dead_letter_queue(raw_events: Any) -> None:
    raw_events.create_event_bus(Name="orders", DeadLetterConfig={"Arn": DLQ})
    raw_events.update_event_bus(Name="orders", DeadLetterConfig={"Arn": f"{DLQ}-2"})

    assert raw_events.describe_event_bus(Name="orders")["DeadLetterConfig"] == {"Arn": f"{DLQ}-2"}


ALLOW = {"Sid": "ok", "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "events:PutEvents",
         "Resource": bus_arn()}


@pytest.mark.parametrize("statement", [5, 1.5, [5], [ALLOW, 7], [ALLOW, "text"], [None], "text", True])
def test_put_permission_refuses_statements_that_are_not_objects(raw_events: Any, statement: Any) -> None:
    raw_events.put_permission(Action="events:PutEvents", Principal="111122223333", StatementId="before")
    before = raw_events.describe_event_bus()["Policy"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": statement})

    error = error_of(raw_events.put_permission, Policy=policy)

    assert error == ("ValidationException", 400, "Parameter Policy is not valid.")
    assert raw_events.describe_event_bus()["Policy"] == before


@pytest.mark.parametrize("statement", [ALLOW, [ALLOW]])
def test_put_permission_still_takes_a_statement_object_or_list(raw_events: Any, statement: Any) -> None:
    raw_events.put_permission(Policy=json.dumps({"Version": "2012-10-17", "Statement": statement}))

    assert json.loads(raw_events.describe_event_bus()["Policy"])["Statement"] == statement
