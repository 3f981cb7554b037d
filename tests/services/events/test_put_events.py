"""PutEvents: per-entry checks and results, the request size limit, the event EventBridge builds, and
which bus (by name or ARN, in this or another account) receives it."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.services.events.putevents import MAX_REQUEST_BYTES, entry_size
from emulator.testing import admin
from tests.services.events.conftest import ACCOUNT, REGION, bus_arn

OTHER = "111111111111"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
GOOD = {"Source": "my.app", "DetailType": "order", "Detail": json.dumps({"id": 1})}


def _record_rule(events: Any, bus: str = "default", name: str = "all", pattern: dict[str, Any] | None = None) -> None:
    """A rule on ``bus`` whose only target is an SQS queue (recorded), matching my.app by default."""
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern or {"source": ["my.app"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": QUEUE}])


def _recorded(url: str, account: str = ACCOUNT) -> list[dict[str, Any]]:
    """The events the recorded SQS target received, oldest first, once every delivery has settled."""
    url.app.registry.delivery.wait_idle()
    entries = admin(url, f"/_emulator/events/deliveries?account={account}&targetArn={QUEUE}")["deliveries"]
    return [json.loads(entry["payload"]["input"]) for entry in entries]


@pytest.fixture
def url(emulator_url: Any, provider: Any) -> Any:
    return emulator_url


def test_the_event_is_built_as_aws_builds_it(events: Any, url: Any) -> None:
    _record_rule(events)
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    answer = events.put_events(Entries=[{**GOOD, "Time": when, "Resources": ["arn:aws:s3:::b"]}])
    assert answer["FailedEntryCount"] == 0
    (event,) = _recorded(url)
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources",
                           "detail"]
    assert event == {"version": "0", "id": answer["Entries"][0]["EventId"], "detail-type": "order",
                     "source": "my.app", "account": ACCOUNT, "time": "2024-05-06T07:08:09Z", "region": REGION,
                     "resources": ["arn:aws:s3:::b"], "detail": {"id": 1}}


def test_without_a_time_the_event_has_the_time_of_the_call(events: Any, url: Any) -> None:
    _record_rule(events)
    admin(url, "/_emulator/clock", "POST", {"set": "2030-01-02T03:04:05Z", "freeze": True})
    events.put_events(Entries=[GOOD])
    (event,) = _recorded(url)
    assert event["time"] == "2030-01-02T03:04:05Z" and event["resources"] == []


@pytest.mark.parametrize(
    ("entry", "code", "message"),
    [
        ({"DetailType": "t", "Detail": "{}"}, "InvalidArgument",
         "Parameter Source is not valid. Reason: Source is a required argument."),
        ({"Source": "", "DetailType": "t", "Detail": "{}"}, "InvalidArgument",
         "Parameter Source is not valid. Reason: Source is a required argument."),
        ({"Source": "s", "Detail": "{}"}, "InvalidArgument",
         "Parameter DetailType is not valid. Reason: DetailType is a required argument."),
        ({"Source": "s", "DetailType": "t"}, "InvalidArgument",
         "Parameter Detail is not valid. Reason: Detail is a required argument."),
        ({"Source": "s", "DetailType": "t", "Detail": "{not json"}, "MalformedDetail", "Detail is malformed."),
        ({"Source": "s", "DetailType": "t", "Detail": "[1, 2]"}, "MalformedDetail", "Detail is malformed."),
        ({"Source": "s", "DetailType": "t", "Detail": '"text"'}, "MalformedDetail", "Detail is malformed."),
        ({"Source": "s", "DetailType": "t", "Detail": '{"a": NaN}'}, "MalformedDetail", "Detail is malformed."),
        ({"Source": "aws.ec2", "DetailType": "t", "Detail": "{}"}, "NotAuthorizedForSourceException",
         "Not authorized for the source."),
    ],
)
def test_a_bad_entry_fails_alone(raw_events: Any, url: Any, entry: dict[str, Any], code: str, message: str) -> None:
    _record_rule(raw_events, pattern={"detail-type": ["order"]})
    answer = raw_events.put_events(Entries=[GOOD, entry, GOOD])
    assert answer["FailedEntryCount"] == 1
    first, failed, last = answer["Entries"]
    assert failed == {"ErrorCode": code, "ErrorMessage": message}
    assert "EventId" in first and "EventId" in last
    assert [event["id"] for event in _recorded(url)] == [first["EventId"], last["EventId"]]


def test_every_entry_may_fail(raw_events: Any) -> None:
    answer = raw_events.put_events(Entries=[{"Source": "s"}, {"Source": "s", "DetailType": "t", "Detail": "1"}])
    assert answer["FailedEntryCount"] == 2
    assert [entry["ErrorCode"] for entry in answer["Entries"]] == ["InvalidArgument", "MalformedDetail"]


@pytest.mark.parametrize(
    ("entry", "size"),
    [
        ({"Source": "s", "DetailType": "t", "Detail": "{}"}, 4),
        ({"Source": "s", "DetailType": "t", "Detail": "{}", "Time": datetime.now(timezone.utc)}, 18),
        ({"Source": "é", "DetailType": "t", "Detail": '{"a":"€"}'}, 3 + 1 + 10),
        ({"Source": "s", "DetailType": "t", "Detail": "{}", "Resources": ["ab", "cde"]}, 9),
        ({"Source": "s"}, 1),
    ],
)
def test_entry_size_is_counted_as_aws_documents(entry: dict[str, Any], size: int) -> None:
    assert entry_size(entry) == size


def _sized(total: int, count: int = 2) -> list[dict[str, Any]]:
    """``count`` entries of ``total`` bytes together."""
    each = total // count
    entries = []
    for index in range(count):
        size = each if index < count - 1 else total - each * (count - 1)
        entries.append({"Source": "s", "DetailType": "t", "Detail": '{"x":"' + "x" * (size - 10) + '"}'})
    assert sum(entry_size(entry) for entry in entries) == total
    return entries


def test_entries_up_to_the_limit_are_accepted(events: Any) -> None:
    assert events.put_events(Entries=_sized(MAX_REQUEST_BYTES))["FailedEntryCount"] == 0


def test_entries_over_the_limit_fail_the_request(events: Any) -> None:
    with pytest.raises(ClientError) as raised:
        events.put_events(Entries=_sized(MAX_REQUEST_BYTES + 1))
    error = raised.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["Error"]["Message"] == "Total size of the entries in the request is over the limit."
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("count", [0, 11])
def test_a_request_holds_one_to_ten_entries(raw_events: Any, count: int) -> None:
    with pytest.raises(ClientError) as raised:
        raw_events.put_events(Entries=[GOOD] * count)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_ten_entries_get_ten_distinct_ids_in_order(events: Any, url: Any) -> None:
    _record_rule(events)
    answer = events.put_events(Entries=[{**GOOD, "Detail": json.dumps({"n": n})} for n in range(10)])
    ids = [entry["EventId"] for entry in answer["Entries"]]
    assert len(set(ids)) == 10
    recorded = {event["id"]: event["detail"]["n"] for event in _recorded(url)}
    assert [recorded[event_id] for event_id in ids] == list(range(10))


@pytest.mark.parametrize("how", ["name", "arn"])
def test_the_bus_is_named_by_name_or_arn(events: Any, url: Any, how: str) -> None:
    events.create_event_bus(Name="orders")
    _record_rule(events, bus="orders")
    _record_rule(events, bus="default", name="on-default", pattern={"source": ["nothing"]})
    name = "orders" if how == "name" else bus_arn("orders")
    answer = events.put_events(Entries=[{**GOOD, "EventBusName": name}])
    assert [event["id"] for event in _recorded(url)] == [answer["Entries"][0]["EventId"]]


def test_an_event_for_a_bus_that_does_not_exist_is_acknowledged_and_goes_nowhere(events: Any, url: Any) -> None:
    _record_rule(events)
    answer = events.put_events(Entries=[{**GOOD, "EventBusName": "missing"}])
    assert answer["FailedEntryCount"] == 0 and answer["Entries"][0]["EventId"]
    assert _recorded(url) == []


def test_a_disabled_rule_delivers_nothing(events: Any, url: Any) -> None:
    _record_rule(events)
    events.disable_rule(Name="all")
    events.put_events(Entries=[GOOD])
    assert _recorded(url) == []
    events.enable_rule(Name="all")
    answer = events.put_events(Entries=[GOOD])
    assert [event["id"] for event in _recorded(url)] == [answer["Entries"][0]["EventId"]]


def test_an_event_that_matches_no_rule_is_delivered_nowhere(events: Any, url: Any) -> None:
    _record_rule(events, pattern={"source": ["other.app"]})
    events.put_events(Entries=[GOOD])
    assert _recorded(url) == []


def test_another_accounts_bus_by_arn_needs_its_permission(aws_client: Any, url: Any) -> None:
    owner = aws_client("events", account=OTHER)
    sender = aws_client("events")
    owner.create_event_bus(Name="shared")
    _record_rule(owner, bus="shared")
    target = bus_arn("shared", account=OTHER)

    denied = sender.put_events(Entries=[{**GOOD, "EventBusName": target}])
    assert denied["FailedEntryCount"] == 1
    assert denied["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    assert denied["Entries"][0]["ErrorMessage"] == (
        f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: events:PutEvents on resource: "
        f"{target} because no resource-based policy allows the events:PutEvents action")
    assert _recorded(url, account=OTHER) == []

    owner.put_permission(EventBusName="shared", Action="events:PutEvents", Principal=ACCOUNT, StatementId="s")
    allowed = sender.put_events(Entries=[{**GOOD, "EventBusName": target}])
    assert allowed["FailedEntryCount"] == 0
    (event,) = _recorded(url, account=OTHER)
    assert event["id"] == allowed["Entries"][0]["EventId"] and event["account"] == ACCOUNT
