"""The schedule parser against AWS's documented examples (the EventBridge user guide's cron and rate
expression references): which minutes each one names, from a fixed start, and what AWS refuses."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from emulator.services.events.schedules import InvalidSchedule, parse

START = "2024-02-01T00:00:30"  # a Thursday, in a leap year


def _ticks(expression: str, count: int, start: str = START) -> list[str]:
    schedule = parse(expression)
    moment = datetime.fromisoformat(start).replace(tzinfo=timezone.utc).timestamp()
    anchor = schedule.anchor(moment)
    ticks = []
    for _ in range(count):
        tick = schedule.next_tick(anchor, moment)
        if tick is None:
            break
        ticks.append(datetime.fromtimestamp(tick, timezone.utc).strftime("%a %Y-%m-%d %H:%M"))
        moment = tick
    return ticks


@pytest.mark.parametrize(("expression", "expected"), [
    # "Run at 10:00 am (UTC+0) every day"
    ("cron(0 10 * * ? *)", ["Thu 2024-02-01 10:00", "Fri 2024-02-02 10:00", "Sat 2024-02-03 10:00"]),
    # "Run at 12:15 pm (UTC+0) every day"
    ("cron(15 12 * * ? *)", ["Thu 2024-02-01 12:15", "Fri 2024-02-02 12:15", "Sat 2024-02-03 12:15"]),
    # "Run at 6:00 pm (UTC+0) every Monday through Friday"
    ("cron(0 18 ? * MON-FRI *)", ["Thu 2024-02-01 18:00", "Fri 2024-02-02 18:00", "Mon 2024-02-05 18:00"]),
    # "Run at 8:00 am (UTC+0) every 1st day of the month"
    ("cron(0 8 1 * ? *)", ["Thu 2024-02-01 08:00", "Fri 2024-03-01 08:00", "Mon 2024-04-01 08:00"]),
    # "Run every 15 minutes"
    ("cron(0/15 * * * ? *)", ["Thu 2024-02-01 00:15", "Thu 2024-02-01 00:30", "Thu 2024-02-01 00:45",
                              "Thu 2024-02-01 01:00"]),
    # "Run every 10 minutes Monday through Friday"
    ("cron(0/10 * ? * MON-FRI *)", ["Thu 2024-02-01 00:10", "Thu 2024-02-01 00:20"]),
    # "Run every 5 minutes Monday through Friday between 8:00 am and 5:55 pm (UTC+0)"
    ("cron(0/5 8-17 ? * MON-FRI *)", ["Thu 2024-02-01 08:00", "Thu 2024-02-01 08:05"]),
    # the hours of a range that wraps round midnight: 20..23 and 0..2, Monday through Friday
    ("cron(0/30 20-2 ? * MON-FRI *)", ["Thu 2024-02-01 00:30", "Thu 2024-02-01 01:00", "Thu 2024-02-01 01:30",
                                       "Thu 2024-02-01 02:00", "Thu 2024-02-01 02:30", "Thu 2024-02-01 20:00"]),
    # "1/10 ... every tenth minute, starting from the first minute of the hour (the 11th, 21st, and 31st)"
    ("cron(1/10 * * * ? *)", ["Thu 2024-02-01 00:01", "Thu 2024-02-01 00:11", "Thu 2024-02-01 00:21"]),
    # "JAN,FEB,MAR includes January, February, and March"
    ("cron(0 0 1 JAN,FEB,MAR ? *)", ["Fri 2024-03-01 00:00", "Wed 2025-01-01 00:00", "Sat 2025-02-01 00:00"]),
    # "1-15 includes days 1 through 15 of the specified month"
    ("cron(0 0 1-15 * ? 2024)", ["Fri 2024-02-02 00:00", "Sat 2024-02-03 00:00"]),
    # "3W specifies the weekday closest to the third day of the month" (3 Feb 2024 is a Saturday;
    # 3 Mar is a Sunday)
    ("cron(0 0 3W * ? *)", ["Fri 2024-02-02 00:00", "Mon 2024-03-04 00:00", "Wed 2024-04-03 00:00"]),
    # a nearest weekday stays in its month: 1 June 2024 is a Saturday, so Monday the 3rd
    ("cron(0 0 1W 6 ? *)", ["Mon 2024-06-03 00:00", "Mon 2025-06-02 00:00"]),
    # "L ... the last day of the month"
    ("cron(0 0 L * ? *)", ["Thu 2024-02-29 00:00", "Sun 2024-03-31 00:00", "Tue 2024-04-30 00:00"]),
    # LW: the last weekday of the month (31 March 2024 is a Sunday)
    ("cron(0 0 LW * ? *)", ["Thu 2024-02-29 00:00", "Fri 2024-03-29 00:00", "Tue 2024-04-30 00:00"]),
    # "L ... the last day of the week": Saturday
    ("cron(0 0 ? * L *)", ["Sat 2024-02-03 00:00", "Sat 2024-02-10 00:00"]),
    # 6L: the last Friday of the month
    ("cron(15 10 ? * 6L 2024-2025)", ["Fri 2024-02-23 10:15", "Fri 2024-03-29 10:15", "Fri 2024-04-26 10:15"]),
    # "3#2 is the second Tuesday of the month"
    ("cron(0 9 ? * 3#2 *)", ["Tue 2024-02-13 09:00", "Tue 2024-03-12 09:00", "Tue 2024-04-09 09:00"]),
    # a fifth weekday that a month lacks is skipped: fifth Mondays of 2024 after February
    ("cron(0 9 ? * MON#5 *)", ["Mon 2024-04-29 09:00", "Mon 2024-07-29 09:00", "Mon 2024-09-30 09:00"]),
    # day-of-week 1 is Sunday
    ("cron(0 9 ? * 1 *)", ["Sun 2024-02-04 09:00", "Sun 2024-02-11 09:00"]),
    # the year field: nothing after the last year
    ("cron(0 0 1 1 ? 2025-2026)", ["Wed 2025-01-01 00:00", "Thu 2026-01-01 00:00"]),
    ("cron(0 0 29 2 ? *)", ["Thu 2024-02-29 00:00", "Tue 2028-02-29 00:00"]),
    ("cron(0 0 31 2 ? *)", []),
    # rates count from the minute they start in
    ("rate(1 minute)", ["Thu 2024-02-01 00:01", "Thu 2024-02-01 00:02"]),
    ("rate(5 minutes)", ["Thu 2024-02-01 00:05", "Thu 2024-02-01 00:10"]),
    ("rate(1 hour)", ["Thu 2024-02-01 01:00", "Thu 2024-02-01 02:00"]),
    ("rate(1 day)", ["Fri 2024-02-02 00:00", "Sat 2024-02-03 00:00"]),
])
def test_documented_examples_fire_at_their_minutes(expression: str, expected: list[str]) -> None:
    assert _ticks(expression, len(expected) or 3) == expected


def test_a_rate_counts_from_its_start_not_from_the_hour() -> None:
    assert _ticks("rate(7 minutes)", 2, start="2024-02-01T10:03:59") == ["Thu 2024-02-01 10:10",
                                                                         "Thu 2024-02-01 10:17"]


@pytest.mark.parametrize("expression", [
    # "rate(1 hours) and rate(5 hour) aren't valid"
    "rate(1 hours)", "rate(5 hour)", "rate(0 minutes)",
    # '"3#1,6#3" is not valid because it is interpreted as two expressions'
    "cron(0 0 ? * 3#1,6#3 *)",
    # "You can't use * in both the Day-of-month and Day-of-week fields"
    "cron(0 0 * * * *)",
    # six required fields
    "cron(0 0 * * ?)", "cron(0 0 0 * * ? *)",
    # out of range
    "cron(60 0 * * ? *)", "cron(0 24 * * ? *)", "cron(0 0 0 * ? *)", "cron(0 0 ? 0 * *)", "cron(0 0 ? * 0 *)",
    "cron(0 0 * * ? 1969)", "cron(0 0 * * ? 2200)",
])
def test_documented_refusals(expression: str) -> None:
    with pytest.raises(InvalidSchedule):
        parse(expression)
