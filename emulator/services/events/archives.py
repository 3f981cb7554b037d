"""EventBridge archives: CreateArchive, DescribeArchive, ListArchives, UpdateArchive, DeleteArchive,
and the keeping of the events a bus receives.

An archive is built as AWS builds it: with a managed rule on its source bus, ``Events-Archive-<name>``
(``ManagedBy: prod.vhs.events.aws.internal``), whose pattern is the archive's ``EventPattern`` (or
none) AND ``"replay-name": [{"exists": false}]``, so that replayed events are never archived again.
The rule sits in the bus's compiled ``ruleset`` like any other, so PutEvents finds the archives an
event belongs to in the same single walk that finds its rules: ``keep`` (called by
``putevents._match_and_deliver`` with the names that matched) costs nothing on a bus without
archives and a dict lookup per matching archive otherwise. ListRules shows the rule, DeleteRule and
DisableRule refuse it as a managed rule, and it counts toward the bus's rule quota, as on AWS.

Events are kept in time order (the event's ``time``, which is what a replay's window selects, see
``replays.py``), so a window is two binary searches and retention drops a prefix. Retention
(``RetentionDays``, 0 = indefinitely) is measured on the emulator's clock from the event's time and
applied lazily: when an event is added and when the archive is read. ``EventCount`` and ``SizeBytes``
(the event's JSON in UTF-8) are exact at once; AWS reconciles them within 24 hours.
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulator import clock, patterns
from emulator.context import RequestContext, partition_for
from emulator.services.events.common import (
    EventsBase,
    InvalidEventPatternException,
    LimitExceededException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ValidationException,
    page_of,
    parse_bus_arn,
)
from emulator.services.events.models import EventBus, EventsStore, Rule
from emulator.services.events.rules import LIMIT_EXCEEDED, index, rule_quota, unindex

RULE_PREFIX = "Events-Archive-"
ARCHIVE_MANAGER = "prod.vhs.events.aws.internal"  # the ManagedBy of an archive's rule
NOT_REPLAYED = {"replay-name": [{"exists": False}]}
DAY = 86_400.0
ONE_FILTER = "At most one filter is allowed for ListArchives. Use either : State, EventSourceArn, or NamePrefix."

_sequence = itertools.count()  # breaks ties between events of the same second, in arrival order


def archive_not_found(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Archive {name} does not exist.")


def event_moment(event: dict[str, Any]) -> float:
    """The event's ``time`` (``2024-05-01T12:00:00Z``) in seconds since the epoch."""
    return datetime.fromisoformat(event["time"]).timestamp()


@dataclass
class Archive:
    name: str
    arn: str
    source_arn: str
    bus_name: str
    event_pattern: str | None = None  # as given, answered by DescribeArchive
    description: str | None = None
    retention_days: int = 0
    kms_key_identifier: str | None = None
    state: str = "ENABLED"
    created: float = field(default_factory=clock.now)
    # (event time, arrival sequence, size in bytes, event), sorted: a window is two bisects.
    events: list[tuple[float, int, int, dict[str, Any]]] = field(default_factory=list)
    size_bytes: int = 0

    @property
    def rule_name(self) -> str:
        return RULE_PREFIX + self.name

    def add(self, event: dict[str, Any], now: float) -> None:
        """Keeps ``event`` (under the store's lock). Events mostly arrive in time order, so this is
        usually an append; one with an earlier ``Time`` is inserted in its place."""
        size = len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        item = (event_moment(event), next(_sequence), size, event)
        if self.events and item < self.events[-1]:
            bisect.insort(self.events, item)
        else:
            self.events.append(item)
        self.size_bytes += size
        self.prune(now)

    def prune(self, now: float) -> None:
        """Drops the events older than the retention (none when it is 0: kept indefinitely)."""
        if not self.retention_days or not self.events:
            return
        cutoff = now - self.retention_days * DAY
        if self.events[0][0] >= cutoff:
            return
        end = bisect.bisect_left(self.events, (cutoff,))
        self.size_bytes -= sum(item[2] for item in self.events[:end])
        del self.events[:end]

    def window(self, start: float, end: float) -> list[tuple[float, int, int, dict[str, Any]]]:
        """The events whose time is in [start, end), oldest first (a copy of the references)."""
        return self.events[bisect.bisect_left(self.events, (start,)):bisect.bisect_left(self.events, (end,))]


def keep(store: EventsStore, bus: EventBus, matched: set[str], event: dict[str, Any]) -> None:
    """Adds ``event``, just received by ``bus``, to the archives whose managed rules matched it (under
    ``store.lock``; ``matched`` is the set of rule names the bus's ruleset answered)."""
    if not store.archives:
        return
    now = 0.0
    for name in matched:
        if not name.startswith(RULE_PREFIX):
            continue
        archive = store.archives.get(name[len(RULE_PREFIX):])
        if archive is not None and archive.bus_name == bus.name:
            now = now or clock.now()
            archive.add(event, now)


def _compile(event_pattern: str) -> None:
    """Validates the archive's own pattern, so that errors point into the text the caller sent."""
    try:
        patterns.compile_event_pattern(event_pattern)
    except patterns.InvalidEventPatternError as error:
        raise InvalidEventPatternException(error.message) from None


def rule_pattern(event_pattern: str | None) -> tuple[str, patterns.Pattern]:
    """The managed rule's pattern: the archive's, AND no ``replay-name`` (replays are never archived)."""
    merged = dict(json.loads(event_pattern)) if event_pattern else {}
    merged.update(NOT_REPLAYED)
    text = json.dumps(merged, separators=(",", ":"))
    return text, patterns.compile_event_pattern(text)


def _listed(archive: Archive) -> dict[str, Any]:
    """An archive as ListArchives shows it."""
    entry: dict[str, Any] = {"ArchiveName": archive.name, "EventSourceArn": archive.source_arn,
                             "State": archive.state, "RetentionDays": archive.retention_days,
                             "SizeBytes": archive.size_bytes, "EventCount": len(archive.events),
                             "CreationTime": archive.created}
    return entry


def filtered_page(items: Iterable[Any], source_of: Callable[[Any], str], kind: str, name_prefix: str | None,
                  source_arn: str | None, state: str | None, next_token: str | None,
                  limit: int | None) -> tuple[list[Any], str | None]:
    """One page, in name order, of the archives or replays that pass ListArchives' / ListReplays'
    one filter (a name prefix, a source ARN or a state); the token is tied to the filter."""
    chosen = sorted(
        (item for item in items
         if (name_prefix is None or item.name.startswith(name_prefix))
         and (source_arn is None or source_of(item) == source_arn)
         and (state is None or item.state == state)),
        key=lambda item: item.name,
    )
    return page_of(chosen, lambda item: item.name, next_token, limit,
                   f"{kind}/{name_prefix or ''}/{source_arn or ''}/{state or ''}")


class ArchivesMixin(EventsBase):
    """The archive operations of the provider."""

    def _archive_arn(self, ctx: RequestContext, name: str) -> str:
        return f"arn:{partition_for(ctx.region)}:events:{ctx.region}:{ctx.account}:archive/{name}"

    def _archive(self, store: EventsStore, name: str) -> Archive:
        archive = store.archives.get(name)
        if archive is None:
            raise archive_not_found(name)
        return archive

    def create_archive(self, ctx: RequestContext, *, archive_name: str, event_source_arn: str,
                       description: str | None = None, event_pattern: str | None = None,
                       retention_days: int | None = None, kms_key_identifier: str | None = None,
                       **_: Any) -> dict[str, Any]:
        if event_pattern is not None:
            _compile(event_pattern)
        text, compiled = rule_pattern(event_pattern)
        parsed = parse_bus_arn(event_source_arn)
        bus_name = parsed[2] if parsed else event_source_arn.rsplit("/", 1)[-1]
        store = self._store(ctx)
        with store.lock:
            if archive_name in store.archives:
                raise ResourceAlreadyExistsException(f"Archive {archive_name} already exists.")
            bus = self._bus(ctx, store, event_source_arn if parsed else bus_name)
            rule_name = RULE_PREFIX + archive_name
            if rule_name in bus.rules:
                raise ResourceAlreadyExistsException(f"Rule {rule_name} already exists.")
            if len(bus.rules) >= rule_quota(ctx.region, self.config.events_rules_per_bus):
                raise LimitExceededException(LIMIT_EXCEEDED)
            archive = Archive(archive_name, self._archive_arn(ctx, archive_name), bus.arn, bus.name,
                              event_pattern=event_pattern, description=description,
                              retention_days=retention_days or 0, kms_key_identifier=kms_key_identifier)
            rule = Rule(rule_name, store.rule_arn(bus.name, rule_name), bus.name, event_pattern=text,
                        pattern=compiled, managed_by=ARCHIVE_MANAGER, created_by=ctx.account)
            bus.rules[rule_name] = rule
            index(bus, rule)
            store.archives[archive_name] = archive
            return {"ArchiveArn": archive.arn, "State": archive.state, "CreationTime": archive.created}

    def describe_archive(self, ctx: RequestContext, *, archive_name: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            archive = self._archive(store, archive_name)
            archive.prune(clock.now())
            answer: dict[str, Any] = {"ArchiveArn": archive.arn, "ArchiveName": archive.name,
                                      "EventSourceArn": archive.source_arn}
            for key, value in (("Description", archive.description), ("EventPattern", archive.event_pattern)):
                if value is not None:
                    answer[key] = value
            answer["State"] = archive.state
            if archive.kms_key_identifier:
                answer["KmsKeyIdentifier"] = archive.kms_key_identifier
            answer.update(RetentionDays=archive.retention_days, SizeBytes=archive.size_bytes,
                          EventCount=len(archive.events), CreationTime=archive.created)
            return answer

    def list_archives(self, ctx: RequestContext, *, name_prefix: str | None = None,
                      event_source_arn: str | None = None, state: str | None = None,
                      next_token: str | None = None, limit: int | None = None, **_: Any) -> dict[str, Any]:
        if sum(value is not None for value in (name_prefix, event_source_arn, state)) > 1:
            raise ValidationException(ONE_FILTER)
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            if event_source_arn is not None:
                event_source_arn = self._bus(ctx, store, event_source_arn).arn
            page, token = filtered_page(store.archives.values(), lambda archive: archive.source_arn, "archives",
                                        name_prefix, event_source_arn, state, next_token, limit)
            for archive in page:
                archive.prune(now)
            result: dict[str, Any] = {"Archives": [_listed(archive) for archive in page]}
        if token:
            result["NextToken"] = token
        return result

    def update_archive(self, ctx: RequestContext, *, archive_name: str, description: str | None = None,
                       event_pattern: str | None = None, retention_days: int | None = None,
                       kms_key_identifier: str | None = None, **_: Any) -> dict[str, Any]:
        """Changes what is given; a new pattern applies to the events received from now on (the kept
        ones stay), a shorter retention drops the events it no longer covers."""
        compiled = None
        if event_pattern is not None:
            _compile(event_pattern)
            compiled = rule_pattern(event_pattern)
        store = self._store(ctx)
        with store.lock:
            archive = self._archive(store, archive_name)
            if compiled is not None:
                bus = store.buses.get(archive.bus_name)
                rule = bus.rules.get(archive.rule_name) if bus is not None else None
                if bus is not None and rule is not None:
                    rule.event_pattern, rule.pattern = compiled
                    index(bus, rule)
                archive.event_pattern = event_pattern
            if description is not None:
                archive.description = description
            if kms_key_identifier is not None:
                archive.kms_key_identifier = kms_key_identifier or None
            if retention_days is not None:
                archive.retention_days = retention_days
                archive.prune(clock.now())
            return {"ArchiveArn": archive.arn, "State": archive.state, "CreationTime": archive.created}

    def delete_archive(self, ctx: RequestContext, *, archive_name: str, **_: Any) -> dict[str, Any]:
        """Deletes the archive, its events and its managed rule."""
        store = self._store(ctx)
        with store.lock:
            archive = self._archive(store, archive_name)
            bus = store.buses.get(archive.bus_name)
            rule = bus.rules.get(archive.rule_name) if bus is not None else None
            if bus is not None and rule is not None and rule.managed_by == ARCHIVE_MANAGER:
                unindex(bus, rule)
                del bus.rules[archive.rule_name]
            del store.archives[archive_name]
        return {}
