"""Archives: creation with their managed rule, the events they keep (by pattern, per bus, never the
replayed ones), retention on a moved clock, updates, listings with filters and pages, and AWS's
errors for bad requests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from emulator.services.events.archives import ARCHIVE_MANAGER, ONE_FILTER
from emulator.testing import admin
from tests.services.events.conftest import ACCOUNT, REGION, bus_arn, error_of, rule_arn

DEFAULT_BUS = bus_arn()
ORDER = {"Source": "my.app", "DetailType": "order", "Detail": json.dumps({"id": 1})}
OTHER = {"Source": "other.app", "DetailType": "order", "Detail": json.dumps({"id": 2})}
DAY = 86_400
NO_ARCHIVE = ("ResourceNotFoundException", 400, "Archive missing does not exist.")


def archive_arn(name: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:archive/{name}"


def _put(events: Any, *entries: dict[str, Any], bus: str | None = None) -> None:
    answer = events.put_events(Entries=[dict(entry, EventBusName=bus) if bus else entry for entry in entries])
    assert answer["FailedEntryCount"] == 0


def _count(events: Any, name: str) -> int:
    return events.describe_archive(ArchiveName=name)["EventCount"]


@pytest.fixture
def url(emulator_url: Any, provider: Any) -> Any:
    return emulator_url


def test_create_archive_answers_and_describes_it(events: Any, url: Any) -> None:
    created = events.create_archive(ArchiveName="orders", EventSourceArn=DEFAULT_BUS, Description="all orders",
                                    EventPattern=json.dumps({"source": ["my.app"]}), RetentionDays=7,
                                    KmsKeyIdentifier="alias/archives")
    assert created["ArchiveArn"] == archive_arn("orders")
    assert created["State"] == "ENABLED"
    described = events.describe_archive(ArchiveName="orders")
    assert described["ArchiveArn"] == archive_arn("orders")
    assert described["EventSourceArn"] == DEFAULT_BUS
    assert described["Description"] == "all orders"
    assert json.loads(described["EventPattern"]) == {"source": ["my.app"]}
    assert described["KmsKeyIdentifier"] == "alias/archives"
    assert (described["RetentionDays"], described["EventCount"], described["SizeBytes"]) == (7, 0, 0)
    assert described["CreationTime"] == created["CreationTime"]


def test_retention_days_default_to_zero_and_a_pattern_is_optional(events: Any, url: Any) -> None:
    events.create_archive(ArchiveName="everything", EventSourceArn=DEFAULT_BUS)
    described = events.describe_archive(ArchiveName="everything")
    assert described["RetentionDays"] == 0
    assert "EventPattern" not in described and "Description" not in described


@pytest.mark.parametrize("bus, pattern, expected", [
    ("default", None, {"replay-name": [{"exists": False}]}),
    ("orders-bus", {"source": ["my.app"]}, {"source": ["my.app"], "replay-name": [{"exists": False}]}),
])
def test_an_archive_is_a_managed_rule_on_its_bus_that_excludes_replays(
        events: Any, url: Any, bus: str, pattern: dict[str, Any] | None, expected: dict[str, Any]) -> None:
    if bus != "default":
        events.create_event_bus(Name=bus)
    events.create_archive(ArchiveName="a", EventSourceArn=bus_arn(bus),
                          **({"EventPattern": json.dumps(pattern)} if pattern else {}))
    rule = events.describe_rule(Name="Events-Archive-a", EventBusName=bus)
    assert rule["Arn"] == rule_arn("Events-Archive-a", bus)
    assert rule["ManagedBy"] == ARCHIVE_MANAGER == "prod.vhs.events.aws.internal"
    assert json.loads(rule["EventPattern"]) == expected
    assert rule["State"] == "ENABLED"
    assert [r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]] == ["Events-Archive-a"]


@pytest.mark.parametrize("call, params", [
    ("delete_rule", {"Name": "Events-Archive-a"}),
    ("disable_rule", {"Name": "Events-Archive-a"}),
    ("put_rule", {"Name": "Events-Archive-a", "EventPattern": json.dumps({"source": ["x"]})}),
])
def test_the_managed_rule_cannot_be_changed_by_hand(events: Any, url: Any, call: str, params: dict[str, Any]) -> None:
    events.create_archive(ArchiveName="a", EventSourceArn=DEFAULT_BUS)
    code, status, _ = error_of(getattr(events, call), **params)
    assert (code, status) == ("ManagedRuleException", 400)
    _put(events, ORDER)
    assert _count(events, "a") == 1


def test_events_matching_the_pattern_are_kept_with_their_size(events: Any, url: Any) -> None:
    events.create_archive(ArchiveName="orders", EventSourceArn=DEFAULT_BUS,
                          EventPattern=json.dumps({"source": ["my.app"]}))
    events.create_archive(ArchiveName="all", EventSourceArn=DEFAULT_BUS)
    _put(events, ORDER, OTHER, ORDER)
    orders = events.describe_archive(ArchiveName="orders")
    everything = events.describe_archive(ArchiveName="all")
    assert (orders["EventCount"], everything["EventCount"]) == (2, 3)
    assert 0 < orders["SizeBytes"] < everything["SizeBytes"]


def test_an_archive_keeps_only_its_own_bus_events(events: Any, url: Any) -> None:
    events.create_event_bus(Name="b")
    events.create_archive(ArchiveName="of-b", EventSourceArn=bus_arn("b"))
    _put(events, ORDER)
    assert _count(events, "of-b") == 0
    _put(events, ORDER, bus="b")
    assert _count(events, "of-b") == 1


def test_events_forwarded_from_another_bus_are_kept(events: Any, url: Any) -> None:
    events.create_event_bus(Name="b")
    events.create_archive(ArchiveName="of-b", EventSourceArn=bus_arn("b"))
    events.put_rule(Name="forward", EventPattern=json.dumps({"source": ["my.app"]}))
    events.put_targets(Rule="forward", Targets=[{"Id": "b", "Arn": bus_arn("b")}])
    _put(events, ORDER)
    url.app.registry.delivery.wait_idle()
    assert _count(events, "of-b") == 1


def test_an_event_with_replay_name_is_not_archived(provider: Any, events: Any, url: Any) -> None:
    """Replayed events carry replay-name; the archive's rule refuses them (replays are never re-archived)."""
    events.create_archive(ArchiveName="a", EventSourceArn=DEFAULT_BUS)
    store = provider._stores.get(ACCOUNT, REGION)
    event = {"version": "0", "id": "1", "detail-type": "order", "source": "my.app", "account": ACCOUNT,
             "time": "2024-01-01T00:00:00Z", "region": REGION, "resources": [], "detail": {}}
    with store.lock:
        bus = store.buses["default"]
        assert bus.ruleset.matching({**event, "replay-name": "r"}) == set()
        assert bus.ruleset.matching(event) == {"Events-Archive-a"}


@pytest.mark.parametrize("days, advance, kept", [
    (1, DAY - 60, 1),
    (1, DAY + 60, 0),
    (0, 1000 * DAY, 1),  # 0: kept indefinitely
])
def test_retention_drops_events_once_the_clock_passes_it(events: Any, url: Any, days: int, advance: int,
                                                           kept: int) -> None:
    events.create_archive(ArchiveName="a", EventSourceArn=DEFAULT_BUS, RetentionDays=days)
    _put(events, ORDER)
    admin(url, "/_emulator/clock", "POST", {"advance": advance})
    described = events.describe_archive(ArchiveName="a")
    assert described["EventCount"] == kept
    assert (described["SizeBytes"] > 0) == bool(kept)
    assert [a["EventCount"] for a in events.list_archives()["Archives"]] == [kept]


def test_retention_counts_from_the_event_time(events: Any, url: Any) -> None:
    events.create_archive(ArchiveName="a", EventSourceArn=DEFAULT_BUS, RetentionDays=1)
    old = datetime.now(timezone.utc) - timedelta(days=2)
    _put(events, dict(ORDER, Time=old), ORDER)
    assert _count(events, "a") == 1


def test_update_archive_changes_pattern_retention_and_description(events: Any, url: Any) -> None:
    events.create_archive(ArchiveName="a", EventSourceArn=DEFAULT_BUS, EventPattern=json.dumps({"source": ["my.app"]}))
    _put(events, ORDER, OTHER)
    assert _count(events, "a") == 1
    answer = events.update_archive(ArchiveName="a", EventPattern=json.dumps({"source": ["other.app"]}),
                                   Description="others", RetentionDays=3)
    assert answer["ArchiveArn"] == archive_arn("a") and answer["State"] == "ENABLED"
    _put(events, ORDER, OTHER)
    described = events.describe_archive(ArchiveName="a")
    assert described["EventCount"] == 2  # the kept one stays; only the new other.app event joins it
    assert (described["Description"], described["RetentionDays"]) == ("others", 3)
    assert json.loads(described["EventPattern"]) == {"source": ["other.app"]}
    rule = events.describe_rule(Name="Events-Archive-a")
    assert json.loads(rule["EventPattern"]) == {"source": ["other.app"], "replay-name": [{"exists": False}]}


def test_a_shorter_retention_drops_what_it_no_longer_covers(events: Any, url: Any) -> None:
    events.create_archive(ArchiveName="a", EventSourceArn=DEFAULT_BUS)
    _put(events, ORDER)
    admin(url, "/_emulator/clock", "POST", {"advance": 2 * DAY})
    events.update_archive(ArchiveName="a", RetentionDays=1)
    assert _count(events, "a") == 0


def test_delete_archive_removes_it_and_its_rule(events: Any, url: Any) -> None:
    events.create_archive(ArchiveName="a", EventSourceArn=DEFAULT_BUS)
    events.delete_archive(ArchiveName="a")
    assert events.list_rules()["Rules"] == []
    assert error_of(events.describe_archive, ArchiveName="a") == (
        "ResourceNotFoundException", 400, "Archive a does not exist.")
    events.create_archive(ArchiveName="a", EventSourceArn=DEFAULT_BUS)  # the name is free again
    _put(events, ORDER)
    assert _count(events, "a") == 1


def test_list_archives_filters_by_one_criterion(events: Any, url: Any) -> None:
    events.create_event_bus(Name="b")
    events.create_archive(ArchiveName="orders-1", EventSourceArn=DEFAULT_BUS)
    events.create_archive(ArchiveName="orders-2", EventSourceArn=bus_arn("b"))
    events.create_archive(ArchiveName="users", EventSourceArn=bus_arn("b"), RetentionDays=2)

    def names(**filters: Any) -> list[str]:
        return [archive["ArchiveName"] for archive in events.list_archives(**filters)["Archives"]]

    assert names() == ["orders-1", "orders-2", "users"]
    assert names(NamePrefix="orders") == ["orders-1", "orders-2"]
    assert names(EventSourceArn=bus_arn("b")) == ["orders-2", "users"]
    assert names(State="ENABLED") == ["orders-1", "orders-2", "users"]
    assert names(State="DISABLED") == []
    listed = events.list_archives(NamePrefix="users")["Archives"][0]
    assert set(listed) == {"ArchiveName", "EventSourceArn", "State", "RetentionDays", "SizeBytes", "EventCount",
                           "CreationTime"}
    assert (listed["EventSourceArn"], listed["RetentionDays"]) == (bus_arn("b"), 2)


def test_list_archives_pages(events: Any, url: Any) -> None:
    for index in range(5):
        events.create_archive(ArchiveName=f"a{index}", EventSourceArn=DEFAULT_BUS)
    seen, token = [], None
    while True:
        page = events.list_archives(Limit=2, **({"NextToken": token} if token else {}))
        assert len(page["Archives"]) <= 2
        seen += [archive["ArchiveName"] for archive in page["Archives"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == ["a0", "a1", "a2", "a3", "a4"]


@pytest.mark.parametrize("call, params, expected", [
    ("create_archive", {"ArchiveName": "a", "EventSourceArn": bus_arn("missing")},
     ("ResourceNotFoundException", 400, "Event bus missing does not exist.")),
    ("create_archive", {"ArchiveName": "a", "EventSourceArn": bus_arn("default", account="111111111111")},
     ("ResourceNotFoundException", 400, "Event bus default does not exist.")),
    ("create_archive", {"ArchiveName": "taken", "EventSourceArn": DEFAULT_BUS},
     ("ResourceAlreadyExistsException", 400, "Archive taken already exists.")),
    ("describe_archive", {"ArchiveName": "missing"}, NO_ARCHIVE),
    ("update_archive", {"ArchiveName": "missing"}, NO_ARCHIVE),
    ("delete_archive", {"ArchiveName": "missing"}, NO_ARCHIVE),
    ("list_archives", {"NamePrefix": "a", "State": "ENABLED"}, ("ValidationException", 400, ONE_FILTER)),
    ("list_archives", {"EventSourceArn": bus_arn("missing")},
     ("ResourceNotFoundException", 400, "Event bus missing does not exist.")),
    ("list_archives", {"NextToken": "bogus"}, ("ValidationException", 400, "The NextToken provided is invalid.")),
])
def test_bad_archive_requests_answer_aws_errors(events: Any, url: Any, call: str, params: dict[str, Any],
                                                 expected: tuple[str, int, str]) -> None:
    events.create_archive(ArchiveName="taken", EventSourceArn=DEFAULT_BUS)
    assert error_of(getattr(events, call), **params) == expected
    assert [a["ArchiveName"] for a in events.list_archives()["Archives"]] == ["taken"]  # nothing changed


@pytest.mark.parametrize("call", ["create_archive", "update_archive"])
@pytest.mark.parametrize("pattern", ['{"source": "my.app"}', "not json", '{"source": []}'])
def test_an_invalid_pattern_is_refused_and_changes_nothing(events: Any, url: Any, call: str, pattern: str) -> None:
    if call == "update_archive":
        events.create_archive(ArchiveName="a", EventSourceArn=DEFAULT_BUS)
    code, status, message = error_of(getattr(events, call), ArchiveName="a", EventPattern=pattern,
                                     **({"EventSourceArn": DEFAULT_BUS} if call == "create_archive" else {}))
    assert (code, status) == ("InvalidEventPatternException", 400)
    assert message
    rules = events.list_rules()["Rules"]
    if call == "create_archive":
        assert rules == [] and events.list_archives()["Archives"] == []
    else:
        assert json.loads(rules[0]["EventPattern"]) == {"replay-name": [{"exists": False}]}


@pytest.mark.parametrize("params, member", [
    ({"ArchiveName": "a" * 49, "EventSourceArn": DEFAULT_BUS}, "archiveName"),
    ({"ArchiveName": "bad name", "EventSourceArn": DEFAULT_BUS}, "archiveName"),
    ({"ArchiveName": "a", "EventSourceArn": "not-an-arn"}, "eventSourceArn"),
    ({"ArchiveName": "a", "EventSourceArn": DEFAULT_BUS, "RetentionDays": -1}, "retentionDays"),
])
def test_requests_the_model_refuses_reach_the_server_and_fail(raw_events: Any, url: Any, params: dict[str, Any],
                                                             member: str) -> None:
    code, status, message = error_of(raw_events.create_archive, **params)
    assert (code, status) == ("ValidationException", 400)
    assert member in message
    assert raw_events.list_archives()["Archives"] == []


def test_archives_belong_to_their_account_and_region(events: Any, aws_client: Any, url: Any) -> None:
    events.create_archive(ArchiveName="a", EventSourceArn=DEFAULT_BUS)
    elsewhere = aws_client("events", region="eu-west-1")
    assert elsewhere.list_archives()["Archives"] == []
    assert error_of(elsewhere.describe_archive, ArchiveName="a")[0] == "ResourceNotFoundException"
