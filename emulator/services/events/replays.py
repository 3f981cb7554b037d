"""EventBridge replays: StartReplay, DescribeReplay, ListReplays, CancelReplay, and the running of a
replay on the delivery layer.

StartReplay checks the request and records the replay (STARTING) on the request thread, then hands
the work to ``emulator.delivery`` as one ``CallTarget``: the request answers at once however large
the window. On a worker the replay turns RUNNING, takes the window's events from the archive (two
binary searches, see ``archives.py``) and sends them back to the bus in batches of ``BATCH``, each
batch under the store's lock, so requests interleave with a long replay. Each event is the archived
event with ``replay-name`` added, as AWS documents, matched against the bus's ENABLED rules (only
those of ``FilterArns`` when given) and handed to ``dispatch.deliver`` for their targets. Rules whose
pattern holds ``"replay-name": [{"exists": false}]``, among them every archive's managed rule, see
none. ``EventLastReplayedTime`` is the time of the last event sent. Then COMPLETED, with
``ReplayEndTime``.

The window is the events' own ``time`` in [EventStartTime, EventEndTime), replayed oldest first (AWS
replays minute by minute in time order, in no order within a minute). CancelReplay marks a STARTING
or RUNNING replay CANCELLING; the worker sees it before its next batch and stops: CANCELLED. At most
``MAX_ACTIVE`` replays may be active (STARTING, RUNNING or CANCELLING) per account and Region.
Replays are kept for the life of the store (AWS keeps them for a while after they end).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulator import clock
from emulator.context import RequestContext, partition_for
from emulator.delivery import CallTarget, Delivery
from emulator.services.events import dispatch
from emulator.services.events.archives import Archive, filtered_page
from emulator.services.events.common import (
    EventsBase,
    IllegalStatusException,
    LimitExceededException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ValidationException,
    bus_not_found,
    parse_bus_arn,
    rule_not_found,
)
from emulator.services.events.models import EventsStore
from emulator.services.events.rules import LIMIT_EXCEEDED

BATCH = 100  # events sent per hold of the store's lock
MAX_ACTIVE = 10  # "a maximum of 10 active concurrent replays per account per AWS Region"
ACTIVE = frozenset({"STARTING", "RUNNING", "CANCELLING"})
ONE_FILTER = "At most one filter is allowed for ListReplays. Use either : State, EventSourceArn, or NamePrefix."
CROSS_BUS = "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted."
BAD_WINDOW = "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime."
RULE_ELSEWHERE = "Parameter Destination.FilterArns is not valid. Reason: Rule must be on the destination event bus."


def replay_not_found(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Replay {name} does not exist.")


@dataclass
class Replay:
    name: str
    arn: str
    archive_name: str
    archive_arn: str
    bus_name: str
    destination: dict[str, Any]  # the ReplayDestination as given (Arn, FilterArns)
    start: float  # EventStartTime
    end: float  # EventEndTime
    description: str | None = None
    state: str = "STARTING"
    state_reason: str | None = None
    started: float = field(default_factory=clock.now)  # ReplayStartTime
    ended: float | None = None  # ReplayEndTime
    last_replayed: float | None = None  # EventLastReplayedTime

    def finish(self, state: str, reason: str | None = None) -> None:
        self.state, self.state_reason, self.ended = state, reason, clock.now()


def _seconds(moment: datetime | float) -> float:
    return moment.timestamp() if isinstance(moment, datetime) else float(moment)


def _rule_of(arn: str, ctx: RequestContext) -> tuple[str, str] | None:
    """(bus name, rule name) of a rule ARN of this account and Region, else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "events" or parts[3] != ctx.region \
            or parts[4] != ctx.account or not parts[5].startswith("rule/"):
        return None
    path = parts[5][len("rule/"):]
    bus, slash, name = path.rpartition("/")
    return (bus if slash else "default"), name


def _summary(replay: Replay) -> dict[str, Any]:
    """The members ListReplays and DescribeReplay share, those without a value left out."""
    entry: dict[str, Any] = {"ReplayName": replay.name, "EventSourceArn": replay.archive_arn, "State": replay.state}
    for key, value in (
        ("StateReason", replay.state_reason),
        ("EventStartTime", replay.start),
        ("EventEndTime", replay.end),
        ("EventLastReplayedTime", replay.last_replayed),
        ("ReplayStartTime", replay.started),
        ("ReplayEndTime", replay.ended),
    ):
        if value is not None:
            entry[key] = value
    return entry


def _batches(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]


class ReplaysMixin(EventsBase):
    """The replay operations of the provider."""

    registry: Any

    def start_replay(self, ctx: RequestContext, *, replay_name: str, event_source_arn: str,
                     event_start_time: datetime, event_end_time: datetime, destination: dict[str, Any],
                     description: str | None = None, **_: Any) -> dict[str, Any]:
        start, end = _seconds(event_start_time), _seconds(event_end_time)
        store = self._store(ctx)
        with store.lock:
            if replay_name in store.replays:
                raise ResourceAlreadyExistsException(f"Replay {replay_name} already exists.")
            archive = self._replayed_archive(ctx, store, event_source_arn)
            bus_name = self._destination(ctx, store, archive, destination)
            if end <= start:
                raise ValidationException(BAD_WINDOW)
            if sum(replay.state in ACTIVE for replay in store.replays.values()) >= MAX_ACTIVE:
                raise LimitExceededException(LIMIT_EXCEEDED)
            arn = f"arn:{partition_for(ctx.region)}:events:{ctx.region}:{ctx.account}:replay/{replay_name}"
            kept = {"Arn": destination["Arn"]}
            if destination.get("FilterArns"):
                kept["FilterArns"] = list(destination["FilterArns"])
            replay = Replay(replay_name, arn, archive.name, archive.arn, bus_name, kept, start, end,
                            description=description)
            store.replays[replay_name] = replay
        run_ctx = RequestContext(service="events", account=ctx.account, region=ctx.region,
                                 operation="StartReplay", base_url=ctx.base_url)
        self.registry.delivery.submit(Delivery(
            source="events", account=ctx.account, region=ctx.region,
            target=CallTarget(lambda: self._run_replay(run_ctx, store, replay),
                              {"type": "replay", "replay": replay_name, "archive": archive.arn}),
            info={"replay": replay_name, "archive": archive.name, "bus": bus_name},
        ))
        return {"ReplayArn": replay.arn, "State": replay.state, "ReplayStartTime": replay.started}

    def _replayed_archive(self, ctx: RequestContext, store: EventsStore, arn: str) -> Archive:
        """The archive StartReplay's EventSourceArn names (in this account and Region)."""
        name = arn.rsplit("/", 1)[-1]
        prefix = f"arn:{partition_for(ctx.region)}:events:{ctx.region}:{ctx.account}:archive/"
        archive = store.archives.get(name) if arn == prefix + name else None
        if archive is None:
            raise ValidationException(f"Parameter EventSourceArn is not valid. Reason: Archive {name} does not exist.")
        return archive

    def _destination(self, ctx: RequestContext, store: EventsStore, archive: Archive,
                     destination: dict[str, Any]) -> str:
        """The destination bus's name: the archive's own source bus, and FilterArns its rules."""
        arn = destination["Arn"]
        if arn != archive.source_arn:
            parsed = parse_bus_arn(arn)
            if parsed is not None and parsed[:2] == (ctx.region, ctx.account) and parsed[2] not in store.buses:
                raise bus_not_found(parsed[2])
            raise ValidationException(CROSS_BUS)
        bus = store.buses.get(archive.bus_name)
        if bus is None:
            raise bus_not_found(archive.bus_name)
        for rule_arn in destination.get("FilterArns") or ():
            named = _rule_of(rule_arn, ctx)
            if named is None or named[0] != bus.name:
                raise ValidationException(RULE_ELSEWHERE)
            if named[1] not in bus.rules:
                raise rule_not_found(named[1], bus.name)
        return bus.name

    def _run_replay(self, ctx: RequestContext, store: EventsStore, replay: Replay) -> None:
        """The replay itself, on a delivery worker."""
        with store.lock:
            if store.replays.get(replay.name) is not replay:  # the store was reset meanwhile
                return
            if replay.state == "CANCELLING":
                replay.finish("CANCELLED")
                return
            archive = store.archives.get(replay.archive_name)
            if archive is None or archive.arn != replay.archive_arn:
                replay.finish("FAILED", f"Archive {replay.archive_name} does not exist.")
                return
            replay.state = "RUNNING"
            archive.prune(clock.now())
            events = archive.window(replay.start, replay.end)
        for batch in _batches(events):
            if not _replay_batch(self, ctx, store, replay, batch):
                return
        with store.lock:
            if replay.state == "CANCELLING":
                replay.finish("CANCELLED")
            elif replay.state == "RUNNING":
                replay.finish("COMPLETED")

    def describe_replay(self, ctx: RequestContext, *, replay_name: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            replay = store.replays.get(replay_name)
            if replay is None:
                raise replay_not_found(replay_name)
            answer = _summary(replay)
            answer["ReplayArn"] = replay.arn
            answer["Destination"] = dict(replay.destination)
            if replay.description is not None:
                answer["Description"] = replay.description
            return answer

    def list_replays(self, ctx: RequestContext, *, name_prefix: str | None = None, state: str | None = None,
                     event_source_arn: str | None = None, next_token: str | None = None,
                     limit: int | None = None, **_: Any) -> dict[str, Any]:
        if sum(value is not None for value in (name_prefix, event_source_arn, state)) > 1:
            raise ValidationException(ONE_FILTER)
        store = self._store(ctx)
        with store.lock:
            page, token = filtered_page(store.replays.values(), lambda replay: replay.archive_arn, "replays",
                                        name_prefix, event_source_arn, state, next_token, limit)
            result: dict[str, Any] = {"Replays": [_summary(replay) for replay in page]}
        if token:
            result["NextToken"] = token
        return result

    def cancel_replay(self, ctx: RequestContext, *, replay_name: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            replay = store.replays.get(replay_name)
            if replay is None:
                raise replay_not_found(replay_name)
            if replay.state not in ("STARTING", "RUNNING"):
                raise IllegalStatusException(f"Replay {replay_name} is not in a valid state for this operation.")
            replay.state = "CANCELLING"
            return {"ReplayArn": replay.arn, "State": replay.state}


def _replay_batch(provider: Any, ctx: RequestContext, store: EventsStore, replay: Replay,
                  batch: list[tuple[float, int, int, dict[str, Any]]]) -> bool:
    """Sends one batch of archived events back to the bus (under the store's lock); False when the
    replay must stop (cancelled, its bus deleted, or the store reset)."""
    with store.lock:
        if store.replays.get(replay.name) is not replay:
            return False
        if replay.state == "CANCELLING":
            replay.finish("CANCELLED")
            return False
        bus = store.buses.get(replay.bus_name)
        if bus is None:
            replay.finish("FAILED", f"Event bus {replay.bus_name} does not exist.")
            return False
        only = frozenset(replay.destination.get("FilterArns") or ())
        for moment, _seq, _size, archived in batch:
            event = {**archived, "replay-name": replay.name}
            names = bus.ruleset.matching(event) if len(bus.ruleset) else ()
            rules = [bus.rules[name] for name in sorted(names)
                     if name in bus.rules and (not only or bus.rules[name].arn in only)]
            if rules:
                dispatch.deliver(provider, ctx, store, bus, rules, event)
            replay.last_replayed = moment
        return True
