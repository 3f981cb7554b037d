"""Scheduled rules: AWS's ``rate(...)`` and ``cron(...)`` expressions, and their firing on the
emulator's clock.

Expressions. No library on PyPI reads AWS's dialect: croniter takes a sixth field as seconds (not the
year), numbers the days of the week from 0 = Sunday (so ``2#1`` is a Tuesday), and refuses ``LW``,
``6L`` and years; pyawscron refuses ``LW``, fails on a range that wraps (``20-2``) and accepts what AWS
refuses (``*/60``, ``*`` in both day fields). So the parser is written here, from AWS's reference:

- ``rate(value unit)``: a positive value, the unit singular for 1 and plural above (``minute(s)``,
  ``hour(s)``, ``day(s)``). It counts from the rule's creation (AWS: "A rate expression starts when
  you create the scheduled event rule"), on whole minutes: the n-th tick is the minute the rule was
  created in plus n periods.
- ``cron(minutes hours day-of-month month day-of-week year)``, in UTC: values 0-59, 0-23, 1-31,
  1-12 or JAN-DEC, 1-7 or SUN-SAT (1 = Sunday), 1970-2199; in each field ``,`` lists, ``-`` ranges
  (a range whose end is below its start wraps around: hours ``20-2`` are 20..23 and 0..2), ``*``
  all, ``/`` increments (``0/15``, ``*/5``, ``10-40/10``; at most the field's largest value, so
  ``*/60`` is refused as AWS refuses it); exactly one of day-of-month and day-of-week is ``?``.
  Day-of-month also takes ``L`` (the last day), ``LW`` (the last weekday) and ``15W`` (the weekday
  nearest the 15th, within the month); day-of-week takes ``L`` (Saturday, the week's last day),
  ``6L`` (the month's last Friday) and ``3#2`` (its second Tuesday). These forms stand alone in their
  field (AWS: "3#1,6#3" is not valid). Names are read in any case, as AWS reads them.

Anything else is AWS's one answer, ``ValidationException`` "Parameter ScheduleExpression is not
valid." (raised by ``rules.py`` from ``InvalidSchedule``).

Firing. ``Scheduler`` keeps one entry per ENABLED rule with a schedule (the hooks in ``rules.py`` add,
replace and drop them) and a heap of their next ticks. Its one thread waits on a condition: for the
next tick's real-time deadline while the clock runs, indefinitely while it is frozen, and
``clock.on_change`` wakes it when a test moves the clock. For each rule that is due it delivers, in
order, every tick from the last one fired up to now: the "Scheduled Event" AWS sends (source
``aws.events``, detail-type ``Scheduled Event``, the rule's ARN in ``resources``, ``time`` the tick's
minute, an empty ``detail``), through ``dispatch.deliver`` to the rule's targets, so the targets' input
settings, retry policies and dead letters apply. A rule's first tick is the first after it was
created, enabled or given a new expression. A move of the clock past more than ``MAX_CATCH_UP`` ticks
of one rule delivers the first ``MAX_CATCH_UP`` of them and resumes at the first tick after the
clock's new time (the rest are skipped, and a warning is logged): a jump of a year does not flood
the delivery log with half a million events of a ``rate(1 minute)`` rule.

The thread starts with the first scheduled rule and stops on the provider's reset and close.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import heapq
import itertools
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from emulator import clock
from emulator.context import RequestContext
from emulator.services.events import dispatch

if TYPE_CHECKING:
    from emulator.services.events.models import EventsStore, Rule

log = logging.getLogger("emulator.events")

MAX_CATCH_UP = 1440  # ticks of one rule delivered per wake: a day of rate(1 minute)
_STOP_WITHIN = 1.0  # real seconds stop() waits for the thread
_LONGEST_WAIT = 3600.0  # real seconds the thread sleeps at most before it looks at the heap again


class InvalidSchedule(ValueError):
    """A schedule expression AWS would refuse."""


# ------------------------------------------------------------------------------------------ rates

_RATE = re.compile(r"rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}


def _minute_of(moment: float) -> float:
    """The start of the minute ``moment`` lies in."""
    return float(int(moment // 60) * 60)


@dataclass(frozen=True)
class Rate:
    """``rate(value unit)``: every ``period`` seconds from the minute the rule was created in."""

    period: int

    def anchor(self, moment: float) -> float:
        return _minute_of(moment)

    def next_tick(self, anchor: float, after: float) -> float | None:
        """The first tick strictly after ``after``."""
        periods = max(int((after - anchor) // self.period) + 1, 1)
        return anchor + periods * self.period


def _parse_rate(text: str) -> Rate | None:
    match = _RATE.fullmatch(text)
    if match is None:
        return None
    value, unit = int(match.group(1)), match.group(2)
    if value < 1 or (value == 1) == unit.endswith("s"):
        raise InvalidSchedule(text)
    return Rate(value * _UNIT_SECONDS[unit.rstrip("s")])


# ------------------------------------------------------------------------------------------ crons

_CRON = re.compile(r"cron\((.*)\)", re.DOTALL)
_MONTHS = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
_DAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
_SATURDAY = 7
_FIRST_YEAR, _LAST_YEAR = 1970, 2199


@dataclass(frozen=True)
class _Field:
    low: int
    high: int
    names: dict[str, int] = field(default_factory=dict)
    wraps: bool = True  # a range a-b with b < a goes round (not for years)
    max_step: int | None = None  # the largest increment (the field's highest value); None: any


_MINUTE = _Field(0, 59, max_step=59)
_HOUR = _Field(0, 23, max_step=23)
_DAY_OF_MONTH = _Field(1, 31, max_step=31)
_MONTH = _Field(1, 12, _MONTHS, max_step=12)
_DAY_OF_WEEK = _Field(1, 7, _DAYS, max_step=7)
_YEAR = _Field(_FIRST_YEAR, _LAST_YEAR, wraps=False)


def _value(text: str, spec: _Field) -> int:
    if text in spec.names:
        return spec.names[text]
    if text.isdigit() and text.isascii() and spec.low <= int(text) <= spec.high:
        return int(text)
    raise InvalidSchedule(text)


def _item(item: str, spec: _Field) -> list[int]:
    """The values of one comma-separated item: ``*``, ``5``, ``1-5``, ``20-2``, with ``/step``."""
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not (step_text.isdigit() and step_text.isascii()):
            raise InvalidSchedule(item)
        step = int(step_text)
        if step < 1 or (spec.max_step is not None and step > spec.max_step):
            raise InvalidSchedule(item)
    if base == "*":
        start, end = spec.low, spec.high
    else:
        first, dash, last = base.partition("-")
        start = _value(first, spec)
        end = _value(last, spec) if dash else (spec.high if slash else start)
    if start <= end:
        return list(range(start, end + 1, step))
    if not spec.wraps:
        raise InvalidSchedule(item)
    return (list(range(start, spec.high + 1)) + list(range(spec.low, end + 1)))[::step]


def _values(text: str, spec: _Field) -> tuple[int, ...]:
    values: set[int] = set()
    for item in text.split(","):
        values.update(_item(item, spec))
    return tuple(sorted(values))


@dataclass(frozen=True)
class _Days:
    """Which days of a month match: the day-of-month field, or (when it is ``?``) the day-of-week one."""

    kind: str  # "all", "dom" (days), "last", "last-weekday", "nearest-weekday" (day), "dow" (weekdays),
    #            "last-of" (weekday), "nth" (weekday, nth)
    values: tuple[int, ...] = ()
    nth: int = 0

    def of(self, year: int, month: int) -> list[int]:
        length = calendar.monthrange(year, month)[1]
        if self.kind == "all":
            return list(range(1, length + 1))
        if self.kind == "dom":
            return [day for day in self.values if day <= length]
        if self.kind == "last":
            return [length]
        if self.kind == "last-weekday":
            return [_nearest_weekday(year, month, length, length)]
        if self.kind == "nearest-weekday":
            day = self.values[0]
            return [_nearest_weekday(year, month, day, length)] if day <= length else []
        first = _weekday(year, month, 1)  # 1 = Sunday ... 7 = Saturday
        if self.kind == "dow":
            return [day for day in range(1, length + 1) if (first + day - 2) % 7 + 1 in self.values]
        offset = (self.values[0] - first) % 7 + 1  # the first such weekday of the month
        if self.kind == "last-of":
            return [offset + 7 * ((length - offset) // 7)]
        day = offset + 7 * (self.nth - 1)  # "nth"
        return [day] if day <= length else []


def _weekday(year: int, month: int, day: int) -> int:
    """AWS's number of the day's weekday: 1 = Sunday ... 7 = Saturday."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, day: int, length: int) -> int:
    """The weekday (Monday to Friday) nearest ``day`` without leaving the month."""
    weekday = _weekday(year, month, day)
    if weekday == _SATURDAY:
        return day - 1 if day > 1 else day + 2
    if weekday == 1:  # Sunday
        return day + 1 if day < length else day - 2
    return day


def _day_of_month(text: str) -> _Days:
    if text == "*":
        return _Days("all")
    if text == "L":
        return _Days("last")
    if text == "LW":
        return _Days("last-weekday")
    if text.endswith("W"):
        return _Days("nearest-weekday", (_value(text[:-1], _DAY_OF_MONTH),))
    return _Days("dom", _values(text, _DAY_OF_MONTH))


def _day_of_week(text: str) -> _Days:
    if text == "*":
        return _Days("all")
    if text == "L":
        return _Days("dow", (_SATURDAY,))
    if text.endswith("L"):
        return _Days("last-of", (_value(text[:-1], _DAY_OF_WEEK),))
    if "#" in text:
        day, _, nth = text.partition("#")
        if nth not in ("1", "2", "3", "4", "5"):
            raise InvalidSchedule(text)
        return _Days("nth", (_value(day, _DAY_OF_WEEK),), int(nth))
    return _Days("dow", _values(text, _DAY_OF_WEEK))


@dataclass(frozen=True)
class Cron:
    """``cron(...)``: the minutes that match all six fields, in UTC."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: _Days
    months: tuple[int, ...]
    years: tuple[int, ...]

    def anchor(self, moment: float) -> float:
        return moment

    def next_tick(self, anchor: float, after: float) -> float | None:
        """The first matching minute strictly after ``after``; None when none is left (after 2199)."""
        start = datetime.fromtimestamp(_minute_of(after) + 60, tz=timezone.utc)
        for year in self.years[bisect.bisect_left(self.years, start.year):]:
            same_year = year == start.year
            for month in self.months:
                if same_year and month < start.month:
                    continue
                same_month = same_year and month == start.month
                for day in self.days.of(year, month):
                    if same_month and day < start.day:
                        continue
                    same_day = same_month and day == start.day
                    for hour in self.hours:
                        if same_day and hour < start.hour:
                            continue
                        same_hour = same_day and hour == start.hour
                        for minute in self.minutes:
                            if not (same_hour and minute < start.minute):
                                return datetime(year, month, day, hour, minute, tzinfo=timezone.utc).timestamp()
        return None


def _parse_cron(text: str) -> Cron | None:
    match = _CRON.fullmatch(text)
    if match is None:
        return None
    fields = match.group(1).upper().split()
    if len(fields) != 6:
        raise InvalidSchedule(text)
    minutes, hours, day_of_month, months, day_of_week, years = fields
    if (day_of_month == "?") == (day_of_week == "?"):  # exactly one of the two; "?" is no value elsewhere
        raise InvalidSchedule(text)
    days = _day_of_week(day_of_week) if day_of_month == "?" else _day_of_month(day_of_month)
    return Cron(_values(minutes, _MINUTE), _values(hours, _HOUR), days, _values(months, _MONTH),
                _values(years, _YEAR))


Schedule = Rate | Cron


@functools.lru_cache(maxsize=1024)
def parse(expression: str) -> Schedule:
    """The schedule of a rule's ``ScheduleExpression``; ``InvalidSchedule`` for what AWS refuses."""
    schedule = _parse_rate(expression) or _parse_cron(expression)
    if schedule is None:
        raise InvalidSchedule(expression)
    return schedule


# ----------------------------------------------------------------------------------------- firing

def scheduled_event(store: EventsStore, rule: Rule, tick: float) -> dict[str, Any]:
    """The event EventBridge sends a scheduled rule's targets, its fields in AWS's order."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": store.account,
        "time": dispatch.event_time(tick),
        "region": store.region,
        "resources": [rule.arn],
        "detail": {},
    }


@dataclass(eq=False)
class _Entry:
    """One scheduled rule: ``due`` is its next tick; ticks are counted from ``anchor``."""

    store: EventsStore
    rule: Rule
    expression: str
    schedule: Schedule
    anchor: float
    due: float | None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.store.account, self.store.region, self.rule.name


class Scheduler:
    """Fires the provider's scheduled rules on the emulator's clock, on one thread of its own.

    Lock order: a store's lock, then the scheduler's (the hooks run under the store lock); the thread
    never takes a store lock while it holds its own.
    """

    def __init__(self, provider: Any) -> None:
        self._provider = provider
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._entries: dict[tuple[str, str, str], _Entry] = {}
        self._heap: list[tuple[float, int, _Entry]] = []
        self._sequence = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._firing = False  # the thread holds due entries outside the heap

    # -- the hooks (called under the rule's store lock) -------------------------------------------

    def track(self, store: EventsStore, rule: Rule, enabled: bool) -> None:
        """Follows a rule after PutRule, EnableRule or DisableRule: an enabled rule with a schedule
        fires from its next tick; an unchanged one keeps its ticks; any other is dropped."""
        key = (store.account, store.region, rule.name)
        with self._lock:
            if not enabled or not rule.schedule_expression or self._stopping:
                self._entries.pop(key, None)
                return
            current = self._entries.get(key)
            if current is not None and current.rule is rule and current.expression == rule.schedule_expression:
                return
            schedule = parse(rule.schedule_expression)
            now = clock.now()
            anchor = schedule.anchor(now)
            entry = _Entry(store, rule, rule.schedule_expression, schedule, anchor, schedule.next_tick(anchor, now))
            self._entries[key] = entry
            self._push(entry)
            if self._thread is None:
                self._start()
            self._wake.notify()

    def forget(self, store: EventsStore, rule: Rule) -> None:
        """Drops a deleted rule."""
        with self._lock:
            self._entries.pop((store.account, store.region, rule.name), None)

    # -- life cycle --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Forgets every rule and ends the thread (within a second)."""
        with self._lock:
            self._stopping = True
            self._entries.clear()
            self._heap.clear()
            thread, self._thread = self._thread, None
            self._wake.notify_all()
            self._idle.notify_all()
        clock.remove_listener(self._clock_moved)
        if thread is not None and thread is not threading.current_thread():
            thread.join(_STOP_WITHIN)

    def wait_idle(self, timeout: float = 5.0, until: float | None = None) -> bool:
        """Waits (real time, at most ``timeout``) until every tick due by ``until`` on the clock (default:
        its time now) has been handed to the delivery layer; for tests. A later ``until`` on a running
        clock waits for the clock to get there. False if it timed out."""
        target = clock.now() if until is None else until
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._thread is not None and (
                    clock.now() < target or self._firing or (self._heap and self._heap[0][0] <= target)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                ahead = target - clock.now()
                self._idle.wait(min(remaining, ahead) if ahead > 0 else remaining)
        return True

    def _start(self) -> None:
        thread = threading.Thread(target=self._run, name="events-scheduler", daemon=True)
        thread.start()
        self._thread = thread
        clock.on_change(self._clock_moved)

    def _clock_moved(self) -> None:
        with self._lock:
            self._wake.notify()

    def _push(self, entry: _Entry) -> None:
        """Puts the entry's next tick on the heap. Replaced and dropped entries stay there until popped
        (and are then ignored), so the heap is rebuilt when they outnumber the live ones."""
        if entry.due is not None:
            heapq.heappush(self._heap, (entry.due, next(self._sequence), entry))
        if len(self._heap) > 2 * len(self._entries) + 64:
            self._heap = [(live.due, next(self._sequence), live) for live in self._entries.values()
                          if live.due is not None]
            heapq.heapify(self._heap)

    def _current(self, due: float, entry: _Entry) -> bool:
        """Whether a heap item is the live entry's next tick (not a replaced, dropped or fired one)."""
        return self._entries.get(entry.key) is entry and entry.due == due

    # -- the thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                due = self._wait_for_due()
                if due is None:
                    return
            now = clock.now()
            for entry in due:
                try:
                    self._fire(entry, now)
                except Exception:  # a bug of ours: logged; the rule resumes at its next tick
                    log.exception("scheduled rule %s: firing failed", entry.rule.arn)
                    entry.due = entry.schedule.next_tick(entry.anchor, now)
            with self._lock:
                for entry in due:
                    if self._entries.get(entry.key) is entry:
                        self._push(entry)
                self._firing = False
                self._idle.notify_all()

    def _wait_for_due(self) -> list[_Entry] | None:
        """Under the lock: the current entries whose tick has come (None once stopping)."""
        while not self._stopping:
            now = clock.now()
            due = []
            while self._heap and self._heap[0][0] <= now:
                tick, _, entry = heapq.heappop(self._heap)
                if self._current(tick, entry) and entry not in due:
                    due.append(entry)
            if due:
                self._firing = True
                return due
            self._idle.notify_all()
            if self._heap and not clock.is_frozen():
                # Capped: a tick ages away (rate(99999999999999 days)) is past what a wait can take.
                self._wake.wait(min(self._heap[0][0] - now, _LONGEST_WAIT))
            else:
                self._wake.wait()
        return None

    def _fire(self, entry: _Entry, now: float) -> None:
        """Delivers the entry's ticks up to ``now``, in order, and sets its next one."""
        store, rule = entry.store, entry.rule
        with store.lock:
            with self._lock:
                live = self._entries.get(entry.key) is entry
            bus = store.buses.get("default")
            if not live or bus is None or bus.rules.get(rule.name) is not rule:
                entry.due = None  # replaced or gone: never fires again
                return
            ticks: list[float] = []
            tick = entry.due
            while tick is not None and tick <= now and len(ticks) < MAX_CATCH_UP:
                ticks.append(tick)
                tick = entry.schedule.next_tick(entry.anchor, tick)
            if tick is not None and tick <= now:
                log.warning("scheduled rule %s: the clock moved past more than %d ticks; those after %s up to %s "
                            "are skipped", rule.arn, MAX_CATCH_UP, dispatch.event_time(ticks[-1]),
                            dispatch.event_time(now))
                tick = entry.schedule.next_tick(entry.anchor, now)
            ctx = RequestContext(service="events", account=store.account, region=store.region,
                                 operation="ScheduledEvent")
            for moment in ticks:
                dispatch.deliver(self._provider, ctx, store, bus, [rule], scheduled_event(store, rule, moment))
            entry.due = tick


class SchedulesMixin:
    """The provider's scheduler, created with its first scheduled rule; the hooks ``rules.py`` calls."""

    _scheduler: Scheduler | None = None
    _scheduler_lock = threading.Lock()

    def _schedules(self) -> Scheduler:
        with self._scheduler_lock:
            if self._scheduler is None:
                self._scheduler = Scheduler(self)
            return self._scheduler

    def _track_schedule(self, store: EventsStore, rule: Rule, enabled: bool) -> None:
        """After a rule's schedule or state changed (under ``store.lock``)."""
        if rule.schedule_expression or self._scheduler is not None:
            self._schedules().track(store, rule, enabled)

    def _forget_schedule(self, store: EventsStore, rule: Rule) -> None:
        """After a rule was deleted (under ``store.lock``)."""
        if self._scheduler is not None:
            self._scheduler.forget(store, rule)

    def _stop_schedules(self) -> None:
        """On reset and close: no rule fires any more; the next scheduled rule starts a new thread."""
        with self._scheduler_lock:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.stop()
