"""Scheduled rules over the socket: rate and cron rules fire on a moved (frozen) clock, each tick one
"Scheduled Event" to the rule's targets with the target's input settings; disabled, deleted and reset
rules stop firing; huge moves of the clock are capped; bad expressions are refused as AWS refuses them."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from emulator.services.events.schedules import MAX_CATCH_UP
from emulator.testing import admin
from tests.services.events.conftest import ACCOUNT, REGION, error_of, rule_arn

QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
START = "2030-01-02T03:04:30Z"  # half a minute into 03:04, a Wednesday


@pytest.fixture
def url(emulator_url: Any, provider: Any) -> Any:
    """The server with its clock frozen at START (so real time passing cannot add a tick)."""
    admin(emulator_url, "/_emulator/clock", "POST", {"set": START, "freeze": True})
    return emulator_url


def _advance(url: Any, seconds: float) -> None:
    admin(url, "/_emulator/clock", "POST", {"advance": seconds})


def _fired(url: Any, rule: str = "r") -> list[dict[str, Any]]:
    """What the rule's targets received, oldest first, after every due tick was delivered."""
    provider = url.app.registry.get("events")
    if provider._scheduler is not None:
        assert provider._scheduler.wait_idle()
    url.app.registry.delivery.wait_idle()
    entries = admin(url, f"/_emulator/events/deliveries?rule={rule}")["deliveries"]
    return [json.loads(entry["payload"]["input"]) for entry in entries]


def _times(url: Any, rule: str = "r") -> list[str]:
    return [event["time"] for event in _fired(url, rule)]


def _scheduled_rule(events: Any, expression: str, name: str = "r", **target: Any) -> None:
    events.put_rule(Name=name, ScheduleExpression=expression)
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": QUEUE, **target}])


def test_ten_ticks_deliver_ten_scheduled_events_in_order(events: Any, url: Any) -> None:
    _scheduled_rule(events, "rate(1 minute)")
    _advance(url, 600)
    fired = _fired(url)
    assert [event["time"] for event in fired] == [f"2030-01-02T03:{minute:02}:00Z" for minute in range(5, 15)]
    assert len({event["id"] for event in fired}) == 10
    for event in fired:
        assert event == {
            "version": "0", "id": event["id"], "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT, "time": event["time"], "region": REGION, "resources": [rule_arn("r")],
            "detail": {},
        }
        assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region",
                               "resources", "detail"]


def test_nothing_fires_before_the_first_tick(events: Any, url: Any) -> None:
    _scheduled_rule(events, "rate(1 minute)")
    _advance(url, 29)  # 03:04:59
    assert _fired(url) == []
    _advance(url, 1)
    assert _times(url) == ["2030-01-02T03:05:00Z"]


@pytest.mark.parametrize(("expression", "advance", "expected"), [
    # a rate counts from the minute the rule was created in
    ("rate(5 minutes)", 3600, [f"2030-01-02T{h:02}:{m:02}:00Z" for h, m in
                               [(3, 9), (3, 14), (3, 19), (3, 24), (3, 29), (3, 34), (3, 39), (3, 44), (3, 49),
                                (3, 54), (3, 59), (4, 4)]]),
    ("rate(1 hour)", 3 * 3600, ["2030-01-02T04:04:00Z", "2030-01-02T05:04:00Z", "2030-01-02T06:04:00Z"]),
    ("rate(2 days)", 5 * 86400, ["2030-01-04T03:04:00Z", "2030-01-06T03:04:00Z"]),
    # a cron fires at the minutes it names, in UTC
    ("cron(0/15 * * * ? *)", 3600, ["2030-01-02T03:15:00Z", "2030-01-02T03:30:00Z", "2030-01-02T03:45:00Z",
                                    "2030-01-02T04:00:00Z"]),
    ("cron(0 10 * * ? *)", 2 * 86400, ["2030-01-02T10:00:00Z", "2030-01-03T10:00:00Z"]),
    ("cron(30 9 ? * FRI *)", 14 * 86400, ["2030-01-04T09:30:00Z", "2030-01-11T09:30:00Z"]),
    ("cron(0 12 L * ? *)", 62 * 86400, ["2030-01-31T12:00:00Z", "2030-02-28T12:00:00Z"]),
    ("cron(0 9 ? * 2#1 *)", 40 * 86400, ["2030-01-07T09:00:00Z", "2030-02-04T09:00:00Z"]),
    ("cron(4 3 2 1 ? 2030)", 400 * 86400, []),  # 03:04 on 2 January 2030 had passed when the rule came
    ("cron(5 3 2 1 ? 2030-2031)", 400 * 86400, ["2030-01-02T03:05:00Z", "2031-01-02T03:05:00Z"]),
])
def test_a_schedule_fires_at_its_ticks(events: Any, url: Any, expression: str, advance: int,
                                       expected: list[str]) -> None:
    _scheduled_rule(events, expression)
    _advance(url, advance)
    assert _times(url) == expected


def test_many_small_moves_fire_each_tick_once(events: Any, url: Any) -> None:
    _scheduled_rule(events, "rate(1 minute)")
    for _ in range(20):
        _advance(url, 15)
        _fired(url)
    assert _times(url) == [f"2030-01-02T03:{minute:02}:00Z" for minute in range(5, 10)]


def test_the_targets_input_settings_apply(events: Any, url: Any) -> None:
    events.put_rule(Name="r", ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule="r", Targets=[
        {"Id": "constant", "Arn": QUEUE, "Input": json.dumps({"job": "cleanup"})},
        {"Id": "path", "Arn": f"{QUEUE}2", "InputPath": "$.resources[0]"},
        {"Id": "transformer", "Arn": f"{QUEUE}3", "InputTransformer": {
            "InputPathsMap": {"when": "$.time", "kind": "$.detail-type"},
            "InputTemplate": '{"at": <when>, "kind": <kind>, "rule": <aws.events.rule-name>}'}},
    ])
    _advance(url, 60)
    _fired(url)
    entries = admin(url, "/_emulator/events/deliveries?rule=r")["deliveries"]
    inputs = {entry["info"]["target"]: entry["payload"]["input"] for entry in entries}
    assert json.loads(inputs["constant"]) == {"job": "cleanup"}
    assert json.loads(inputs["path"]) == rule_arn("r")
    assert json.loads(inputs["transformer"]) == {"at": "2030-01-02T03:05:00Z", "kind": "Scheduled Event", "rule": "r"}


def test_a_disabled_rule_does_not_fire_and_an_enabled_one_starts_after_enabling(events: Any, url: Any) -> None:
    _scheduled_rule(events, "rate(1 minute)")
    events.disable_rule(Name="r")
    _advance(url, 300)
    assert _fired(url) == []
    events.enable_rule(Name="r")  # at 03:09:30: the first tick after it is 03:10
    _advance(url, 120)
    assert _times(url) == ["2030-01-02T03:10:00Z", "2030-01-02T03:11:00Z"]


def test_a_rule_created_disabled_never_fires(events: Any, url: Any) -> None:
    events.put_rule(Name="r", ScheduleExpression="rate(1 minute)", State="DISABLED")
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": QUEUE}])
    _advance(url, 600)
    assert _fired(url) == []


def test_updating_a_rule_keeps_its_ticks_unless_its_schedule_changes(events: Any, url: Any) -> None:
    _scheduled_rule(events, "rate(5 minutes)")  # ticks at 03:09, 03:14, ...
    _advance(url, 120)  # 03:06:30
    events.put_rule(Name="r", ScheduleExpression="rate(5 minutes)", Description="same schedule")
    _advance(url, 180)  # 03:09:30
    assert _times(url) == ["2030-01-02T03:09:00Z"]
    events.put_rule(Name="r", ScheduleExpression="rate(2 minutes)")  # counts from 03:09 now
    _advance(url, 240)  # 03:13:30
    assert _times(url) == ["2030-01-02T03:09:00Z", "2030-01-02T03:11:00Z", "2030-01-02T03:13:00Z"]


def test_a_rule_turned_into_a_pattern_rule_stops_firing(events: Any, url: Any) -> None:
    _scheduled_rule(events, "rate(1 minute)")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["my.app"]}))
    _advance(url, 300)
    assert _fired(url) == []


def test_a_deleted_rule_stops_firing_and_a_new_one_of_its_name_starts_afresh(events: Any, url: Any) -> None:
    _scheduled_rule(events, "rate(1 minute)")
    _advance(url, 60)
    assert len(_fired(url)) == 1
    events.remove_targets(Rule="r", Ids=["q"])
    events.delete_rule(Name="r")
    _advance(url, 300)
    _scheduled_rule(events, "rate(10 minutes)")  # created at 03:10:30
    _advance(url, 600)
    assert _times(url) == ["2030-01-02T03:05:00Z", "2030-01-02T03:20:00Z"]


def test_each_rule_fires_on_its_own_schedule(events: Any, url: Any) -> None:
    _scheduled_rule(events, "rate(1 minute)", name="fast")
    _scheduled_rule(events, "cron(0 * * * ? *)", name="hourly")
    _advance(url, 3600)
    assert len(_fired(url, "fast")) == 60
    assert _times(url, "hourly") == ["2030-01-02T04:00:00Z"]


def test_a_rule_without_targets_fires_into_nothing_and_keeps_its_ticks(events: Any, url: Any) -> None:
    events.put_rule(Name="r", ScheduleExpression="rate(1 minute)")
    _advance(url, 300)
    assert _fired(url) == []
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": QUEUE}])
    _advance(url, 60)
    assert _times(url) == ["2030-01-02T03:10:00Z"]


def test_a_huge_move_of_the_clock_is_capped_and_resumes_after_it(events: Any, url: Any) -> None:
    _scheduled_rule(events, "rate(1 minute)")
    _advance(url, 3 * 86400)
    times = _times(url)
    assert len(times) == MAX_CATCH_UP
    assert times[0] == "2030-01-02T03:05:00Z" and times[-1] == "2030-01-03T03:04:00Z"
    _advance(url, 60)  # now 2030-01-05T03:05:30
    assert _times(url)[MAX_CATCH_UP:] == ["2030-01-05T03:05:00Z"]


def test_a_running_clock_fires_on_its_own(events: Any, emulator_url: Any, provider: Any) -> None:
    """No move, no freeze: the scheduler's own deadline brings the tick. The clock is set a little before
    a minute, so that real time reaches it within the test."""
    minute = (admin(emulator_url, "/_emulator/clock")["now"] // 60 + 2) * 60
    admin(emulator_url, "/_emulator/clock", "POST", {"set": minute - 1.0})
    _scheduled_rule(events, "cron(* * * * ? *)")
    assert provider._scheduler.wait_idle(timeout=5, until=minute)
    emulator_url.app.registry.delivery.wait_idle()
    fired = admin(emulator_url, "/_emulator/events/deliveries?rule=r")["deliveries"]
    expected = datetime.fromtimestamp(minute, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [json.loads(entry["payload"]["input"])["time"] for entry in fired] == [expected]


def test_a_reset_stops_the_scheduler(events: Any, url: Any, provider: Any) -> None:
    _scheduled_rule(events, "rate(1 minute)")
    thread = provider._scheduler._thread
    assert thread is not None and thread.is_alive()
    admin(url, "/_emulator/reset", "POST")
    thread.join(2)
    assert not thread.is_alive() and provider._scheduler is None
    admin(url, "/_emulator/clock", "POST", {"advance": 600})
    url.app.registry.delivery.wait_idle()
    assert admin(url, "/_emulator/events/deliveries?rule=r")["deliveries"] == []


def test_no_thread_without_a_scheduled_rule(events: Any, url: Any, provider: Any) -> None:
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["my.app"]}))
    assert provider._scheduler is None


# ------------------------------------------------------------------------------------- validation

@pytest.mark.parametrize("expression", [
    "cron(0/30 20-2 ? * MON-FRI *)", "cron(0 8 LW * ? *)", "cron(0 0 1W * ? *)", "cron(0 0 ? * L *)",
    "cron(0 0 ? * fri-mon *)", "cron(0 0 ? * 1/2 *)", "cron(*/59 */23 */31 */12 ? *)", "cron(0 0 1 jan,dec ? *)",
    "rate(1000 days)",
])
def test_more_valid_schedule_expressions(events: Any, expression: str) -> None:
    events.put_rule(Name="r", ScheduleExpression=expression)
    assert events.describe_rule(Name="r")["ScheduleExpression"] == expression


@pytest.mark.parametrize("expression", [
    "cron(*/60 * * * ? *)", "cron(0 */24 * * ? *)", "cron(0 0 */32 * ? *)", "cron(0 0 ? */13 * *)",
    "cron(0 0 ? * */8 *)", "cron(0 0 ? * 3#1,6#3 *)", "cron(0 0 15W,20 * ? *)", "cron(0 0 1,L * ? *)",
    "cron(0 0 L-3 * ? *)", "cron(0 0 ? * 6L,2 *)", "cron(0 0 ? * 1#0 *)", "cron(0 0 ? * 8L *)",
    "cron(0 0 32W * ? *)", "cron(0 0 W * ? *)", "cron(0 0 ? * FOO *)", "cron(0 0 1 JANUARY ? *)",
    "cron(0 0 * * ? 2031-2030)", "cron(0 0 * * ? 2200)", "cron(? 0 * * ? *)", "cron(0 0 ?,1 * ? *)",
    "cron(0 0 * * L *)", "cron(0 0 LW * * *)", "cron(0 0 * * ? */x)", "cron(0 0 * * ? *))", "CRON(0 0 * * ? *)",
    "rate(1.5 hours)", "rate(1 week)", "cron(0 0 ١ * ? *)",
])
def test_more_invalid_schedule_expressions_are_refused(raw_events: Any, expression: str) -> None:
    assert error_of(raw_events.put_rule, Name="r", ScheduleExpression=expression) == (
        "ValidationException", 400, "Parameter ScheduleExpression is not valid.")
    assert error_of(raw_events.describe_rule, Name="r")[0] == "ResourceNotFoundException"
