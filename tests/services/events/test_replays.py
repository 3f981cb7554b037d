"""Replays: a window of an archive's events sent back to its bus on the delivery layer, carrying
replay-name, to all rules or to FilterArns, never to rules that exclude replays and never archived
again; states STARTING -> RUNNING -> COMPLETED, cancelling, the concurrency limit, listings, and AWS's
errors for bad requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from emulator.services.events import replays
from emulator.services.events.replays import BAD_WINDOW, CROSS_BUS, MAX_ACTIVE, ONE_FILTER, RULE_ELSEWHERE
from emulator.testing import admin
from tests.services.events.conftest import ACCOUNT, REGION, bus_arn, error_of, rule_arn

QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
ARCHIVE = f"arn:aws:events:{REGION}:{ACCOUNT}:archive/a"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
NO_REPLAY = ("ResourceNotFoundException", 400, "Replay missing does not exist.")


def _at(minutes: float, n: int = 0) -> dict[str, Any]:
    """An order event whose time is ``minutes`` after T0."""
    return {"Source": "my.app", "DetailType": "order", "Detail": json.dumps({"n": n}),
            "Time": T0 + timedelta(minutes=minutes)}


def _rule(events: Any, name: str, pattern: dict[str, Any], bus: str = "default", queue: str = QUEUE) -> None:
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": queue}])


def _received(url: Any, rule: str | None = None) -> list[dict[str, Any]]:
    """The events the recorded queue received (from ``rule`` if given), oldest first, once settled."""
    url.app.registry.delivery.wait_idle()
    query = f"account={ACCOUNT}&targetArn={QUEUE}" + (f"&rule={rule}" if rule else "")
    entries = admin(url, f"/_emulator/events/deliveries?{query}")["deliveries"]
    return [json.loads(entry["payload"]["input"]) for entry in entries]


def _replay(events: Any, name: str = "r", start: float = 0, end: float = 60, bus: str = "default",
            **destination: Any) -> dict[str, Any]:
    return events.start_replay(ReplayName=name, EventSourceArn=ARCHIVE,
                               EventStartTime=T0 + timedelta(minutes=start), EventEndTime=T0 + timedelta(minutes=end),
                               Destination={"Arn": bus_arn(bus), **destination})


@pytest.fixture
def url(emulator_url: Any, provider: Any) -> Any:
    return emulator_url


@pytest.fixture
def archived(events: Any, url: Any) -> Any:
    """An archive ``a`` of the default bus holding five events, at minutes 0, 10, 20, 30 and 40 after T0."""
    events.create_archive(ArchiveName="a", EventSourceArn=bus_arn())
    events.put_events(Entries=[_at(minutes, n) for n, minutes in enumerate((40, 0, 20, 10, 30))])
    return events


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Holds every replay before its first batch until the test sets the event (outside the store's lock)."""
    release = threading.Event()
    original: Callable[..., bool] = replays._replay_batch

    def held(*args: Any) -> bool:
        assert release.wait(10), "the test never released the replay"
        return original(*args)

    monkeypatch.setattr(replays, "_replay_batch", held)
    yield release
    release.set()


def _until_running(events: Any, name: str) -> None:
    """Waits (for a worker, not for time) until the held replay has turned RUNNING at the gate."""
    for _ in range(2000):
        if events.describe_replay(ReplayName=name)["State"] == "RUNNING":
            return
        threading.Event().wait(0.005)
    raise AssertionError(f"replay {name} never turned RUNNING")


def _wait_state(events: Any, name: str, state: str, url: Any) -> dict[str, Any]:
    url.app.registry.delivery.wait_idle()
    described = events.describe_replay(ReplayName=name)
    assert described["State"] == state
    return described


def test_a_replay_sends_the_window_back_with_replay_name(archived: Any, url: Any) -> None:
    _rule(archived, "orders", {"source": ["my.app"]})
    started = _replay(archived, start=10, end=30)
    assert started["ReplayArn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:replay/r"
    assert started["State"] == "STARTING"
    replayed = _received(url)
    assert [event["detail"]["n"] for event in replayed] == [3, 2]  # minutes 10 and 20, oldest first; 30 excluded
    assert {event["replay-name"] for event in replayed} == {"r"}
    assert replayed[0]["time"] == "2024-05-01T12:10:00Z"
    assert replayed[0]["source"] == "my.app" and replayed[0]["account"] == ACCOUNT


def test_a_completed_replay_describes_its_run(archived: Any, url: Any) -> None:
    started = archived.start_replay(ReplayName="r", Description="again", EventSourceArn=ARCHIVE,
                                    EventStartTime=T0, EventEndTime=T0 + timedelta(minutes=25),
                                    Destination={"Arn": bus_arn()})
    described = _wait_state(archived, "r", "COMPLETED", url)
    assert described["ReplayArn"] == started["ReplayArn"]
    assert described["Description"] == "again"
    assert described["EventSourceArn"] == ARCHIVE
    assert described["Destination"] == {"Arn": bus_arn()}
    assert (described["EventStartTime"], described["EventEndTime"]) == (T0, T0 + timedelta(minutes=25))
    assert described["EventLastReplayedTime"] == T0 + timedelta(minutes=20)
    assert described["ReplayStartTime"] == started["ReplayStartTime"]
    assert described["ReplayEndTime"] >= described["ReplayStartTime"]


def test_rules_that_exclude_replays_see_none_and_filter_arns_choose_the_rules(archived: Any, url: Any) -> None:
    _rule(archived, "live", {"source": ["my.app"], "replay-name": [{"exists": False}]})
    _rule(archived, "inspect", {"replay-name": [{"exists": True}]})
    _rule(archived, "other", {"source": ["my.app"]})
    archived.put_events(Entries=[_at(90, 5)])  # a live event after the rules exist, outside the window

    def counts() -> tuple[int, int, int]:
        return len(_received(url, "live")), len(_received(url, "inspect")), len(_received(url, "other"))

    assert counts() == (1, 0, 1)
    _replay(archived, FilterArns=[rule_arn("inspect")])
    _wait_state(archived, "r", "COMPLETED", url)
    assert counts() == (1, 5, 1)  # "other" matches too, but was not in FilterArns
    _replay(archived, name="all")
    _wait_state(archived, "all", "COMPLETED", url)
    assert counts() == (1, 10, 6)


def test_replayed_events_are_not_archived_again(archived: Any, url: Any) -> None:
    archived.create_archive(ArchiveName="second", EventSourceArn=bus_arn())
    _replay(archived)
    _wait_state(archived, "r", "COMPLETED", url)
    assert archived.describe_archive(ArchiveName="a")["EventCount"] == 5
    assert archived.describe_archive(ArchiveName="second")["EventCount"] == 0


def test_a_large_replay_runs_off_the_request_thread_in_batches(events: Any, url: Any) -> None:
    count = 2 * replays.BATCH + 37
    events.create_archive(ArchiveName="a", EventSourceArn=bus_arn())
    for start in range(0, count, 10):
        events.put_events(Entries=[_at(n / 10, n) for n in range(start, min(start + 10, count))])
    _rule(events, "orders", {"replay-name": [{"exists": True}]})
    assert _replay(events)["State"] == "STARTING"
    described = _wait_state(events, "r", "COMPLETED", url)
    assert sorted(event["detail"]["n"] for event in _received(url)) == list(range(count))
    assert described["EventLastReplayedTime"] == T0 + timedelta(minutes=(count - 1) / 10)


def test_states_go_starting_running_cancelling_cancelled(archived: Any, url: Any, gate: threading.Event) -> None:
    _rule(archived, "orders", {"replay-name": [{"exists": True}]})
    assert _replay(archived)["State"] == "STARTING"
    _until_running(archived, "r")
    cancelled = archived.cancel_replay(ReplayName="r")
    assert cancelled == {"ReplayArn": f"arn:aws:events:{REGION}:{ACCOUNT}:replay/r", "State": "CANCELLING",
                         "ResponseMetadata": cancelled["ResponseMetadata"]}
    assert archived.describe_replay(ReplayName="r")["State"] == "CANCELLING"
    gate.set()
    described = _wait_state(archived, "r", "CANCELLED", url)
    assert "ReplayEndTime" in described and "EventLastReplayedTime" not in described
    assert _received(url) == []
    assert error_of(archived.cancel_replay, ReplayName="r") == (
        "IllegalStatusException", 400, "Replay r is not in a valid state for this operation.")


def test_a_completed_replay_cannot_be_cancelled(archived: Any, url: Any) -> None:
    _replay(archived)
    _wait_state(archived, "r", "COMPLETED", url)
    assert error_of(archived.cancel_replay, ReplayName="r") == (
        "IllegalStatusException", 400, "Replay r is not in a valid state for this operation.")


def test_at_most_ten_replays_are_active(archived: Any, url: Any, gate: threading.Event) -> None:
    for index in range(MAX_ACTIVE):
        _replay(archived, name=f"r{index}")
    code, status, _ = error_of(_replay, events=archived, name="one-more")
    assert (code, status) == ("LimitExceededException", 400)
    gate.set()
    url.app.registry.delivery.wait_idle()
    _replay(archived, name="one-more")  # the others have completed
    _wait_state(archived, "one-more", "COMPLETED", url)


def test_list_replays_filters_and_pages(archived: Any, url: Any) -> None:
    archived.create_archive(ArchiveName="b", EventSourceArn=bus_arn())
    for name in ("x1", "x2", "y1"):
        _replay(archived, name=name)
    archived.start_replay(ReplayName="z", EventSourceArn=ARCHIVE.replace("archive/a", "archive/b"),
                          EventStartTime=T0, EventEndTime=T0 + timedelta(minutes=1), Destination={"Arn": bus_arn()})
    url.app.registry.delivery.wait_idle()

    def names(**filters: Any) -> list[str]:
        return [replay["ReplayName"] for replay in archived.list_replays(**filters)["Replays"]]

    assert names() == ["x1", "x2", "y1", "z"]
    assert names(NamePrefix="x") == ["x1", "x2"]
    assert names(EventSourceArn=ARCHIVE) == ["x1", "x2", "y1"]
    assert names(State="COMPLETED") == ["x1", "x2", "y1", "z"]
    assert names(State="RUNNING") == []
    first = archived.list_replays(Limit=3)
    assert [replay["ReplayName"] for replay in first["Replays"]] == ["x1", "x2", "y1"]
    assert names(NextToken=first["NextToken"]) == ["z"]
    listed = archived.list_replays(NamePrefix="z")["Replays"][0]
    assert set(listed) == {"ReplayName", "EventSourceArn", "State", "EventStartTime", "EventEndTime",
                           "ReplayStartTime", "ReplayEndTime"}  # nothing was replayed from b


@pytest.mark.parametrize("params, expected", [
    ({"name": "taken"}, ("ResourceAlreadyExistsException", 400, "Replay taken already exists.")),
    ({"bus": "b"}, ("ValidationException", 400, CROSS_BUS)),
    ({"bus": "missing"}, ("ResourceNotFoundException", 400, "Event bus missing does not exist.")),
    ({"start": 30, "end": 10}, ("ValidationException", 400, BAD_WINDOW)),
    ({"start": 10, "end": 10}, ("ValidationException", 400, BAD_WINDOW)),
    ({"FilterArns": [rule_arn("on-b", "b")]}, ("ValidationException", 400, RULE_ELSEWHERE)),
    ({"FilterArns": ["arn:aws:sqs:us-east-1:000000000000:q"]}, ("ValidationException", 400, RULE_ELSEWHERE)),
    ({"FilterArns": [rule_arn("missing")]},
     ("ResourceNotFoundException", 400, "Rule missing does not exist on EventBus default.")),
])
def test_bad_replays_answer_aws_errors(archived: Any, url: Any, params: dict[str, Any],
                                       expected: tuple[str, int, str]) -> None:
    archived.create_event_bus(Name="b")
    _rule(archived, "on-b", {"source": ["my.app"]}, bus="b")
    _replay(archived, name="taken")
    url.app.registry.delivery.wait_idle()
    assert error_of(_replay, events=archived, **{"name": "r", **params}) == expected
    assert [replay["ReplayName"] for replay in archived.list_replays()["Replays"]] == ["taken"]


@pytest.mark.parametrize("source", [ARCHIVE.replace("archive/a", "archive/missing"),
                                    ARCHIVE.replace(ACCOUNT, "111111111111"),
                                    ARCHIVE.replace(REGION, "eu-west-1")])
def test_a_replay_of_an_archive_that_is_not_here_is_refused(archived: Any, url: Any, source: str) -> None:
    name = source.rsplit("/", 1)[-1]
    assert error_of(archived.start_replay, ReplayName="r", EventSourceArn=source, EventStartTime=T0,
                    EventEndTime=T0 + timedelta(minutes=1), Destination={"Arn": bus_arn()}) == (
        "ValidationException", 400, f"Parameter EventSourceArn is not valid. Reason: Archive {name} does not exist.")


@pytest.mark.parametrize("call, params, expected", [
    ("describe_replay", {"ReplayName": "missing"}, NO_REPLAY),
    ("cancel_replay", {"ReplayName": "missing"}, NO_REPLAY),
    ("list_replays", {"NamePrefix": "a", "State": "RUNNING"}, ("ValidationException", 400, ONE_FILTER)),
    ("list_replays", {"NextToken": "bogus"}, ("ValidationException", 400, "The NextToken provided is invalid.")),
])
def test_bad_replay_reads_answer_aws_errors(events: Any, url: Any, call: str, params: dict[str, Any],
                                            expected: tuple[str, int, str]) -> None:
    assert error_of(getattr(events, call), **params) == expected


@pytest.mark.parametrize("params, member", [
    ({"ReplayName": "a" * 65}, "replayName"),
    ({"ReplayName": "bad name"}, "replayName"),
    ({"EventSourceArn": "not-an-arn"}, "eventSourceArn"),
])
def test_replay_requests_the_model_refuses_fail_on_the_server(raw_events: Any, url: Any, params: dict[str, Any],
                                                             member: str) -> None:
    request = {"ReplayName": "r", "EventSourceArn": ARCHIVE, "EventStartTime": T0,
               "EventEndTime": T0 + timedelta(minutes=1), "Destination": {"Arn": bus_arn()}, **params}
    code, status, message = error_of(raw_events.start_replay, **request)
    assert (code, status) == ("ValidationException", 400)
    assert member in message


def test_a_replay_stops_when_its_bus_is_deleted(events: Any, url: Any, gate: threading.Event) -> None:
    events.create_event_bus(Name="b")
    events.create_archive(ArchiveName="a", EventSourceArn=bus_arn("b"))
    events.put_events(Entries=[dict(_at(1), EventBusName="b")])
    _replay(events, bus="b")
    _until_running(events, "r")
    events.delete_archive(ArchiveName="a")  # the replay already holds its window
    events.delete_event_bus(Name="b")
    gate.set()
    described = _wait_state(events, "r", "FAILED", url)
    assert described["StateReason"] == "Event bus b does not exist."
