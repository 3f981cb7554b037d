"""A Kinesis queue's delivery state: what each queue has handed out, to whom it may go next, and what
has become a dead-letter record.

A queue never copies the stream's records: it reads them from the shards' arrays (``models.Shard``)
and keeps only its own bookkeeping, all under the store's lock:

- a cursor per shard: the counter of the first record the queue has never delivered. New records
  are taken from the cursors onward, each shard's start found by binary search;
- ``deliveries``: one small ``Delivery`` per record delivered and not yet acknowledged, keyed by the
  record's counter (unique in a stream), with its receive count, generation (which receipt handle is
  in force) and visibility deadline;
- ``deadlines``: a heap of (visible again at, sequence, counter, generation) for in-flight records;
  an entry whose record was acknowledged, received again or given a new timeout since is stale and
  skipped when it comes up;
- ``ready`` and ``dead_ready``: the records that came back (timeout over, or restored) and the
  dead-letter records, in the order they became visible.

So a receive costs O(Limit + entries whose visibility ran out) plus, only when the stream has records
the queue has not yet looked at, two binary searches per shard; an idle long poll that is woken costs
O(1). The retention period is checked against each record when it is about to be delivered (a
binary search for a record that came back), so a queue never extends it: a record that expired is
forgotten instead of delivered.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.services.kinesis.models import Shard, Stream

DEFAULT_VISIBILITY_TIMEOUT = 30
DEFAULT_MAX_RECEIVE_COUNT = 6
MAX_IN_FLIGHT = 120_000  # records in flight per queue ("Quotas and limits for queues")


@dataclass(slots=True)
class Delivery:
    """One record in one queue, from its first receive until it is acknowledged or expires."""

    shard: int
    counter: int
    receives: int = 0
    first_receive: float = 0.0
    # Bumped by every receive and by a change of kind (dead-letter, restored): the receipt handle
    # that carries the current generation is the only one in force.
    generation: int = 0
    visible_at: float = 0.0
    in_flight: bool = False
    dead: bool = False


@dataclass
class Queue:
    name: str
    arn: str
    uid: str
    stream: Stream
    created_at: float
    start_type: str
    start_timestamp: float | None
    status: str = "CREATING"
    ready_at: float = 0.0
    visibility_timeout: int = DEFAULT_VISIBILITY_TIMEOUT
    dead_letter_type: str = "BUILT_IN"
    max_receive_count: int | None = DEFAULT_MAX_RECEIVE_COUNT
    # An UpdateQueue's attributes, in force once the queue is ACTIVE again.
    pending: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # Set when the queue becomes ACTIVE: where delivery starts, and the time the description reports.
    start_counter: int = 0
    effective_timestamp: float | None = None
    cursors: dict[int, int] = field(default_factory=dict)
    # ``stream.counter`` when the last scan found every shard's cursor at its end (no scan until it moves).
    drained_at: int = -1
    rotation: int = 0
    deliveries: dict[int, Delivery] = field(default_factory=dict)
    deadlines: list[tuple[float, int, int, int]] = field(default_factory=list)
    ready: deque[int] = field(default_factory=deque)
    dead_ready: deque[int] = field(default_factory=deque)
    in_flight: int = 0
    sequence: int = 0

    # -- attributes -------------------------------------------------------------------------------

    @property
    def dead_letters_on(self) -> bool:
        return self.dead_letter_type == "BUILT_IN" and self.max_receive_count is not None

    def attributes(self) -> dict[str, Any]:
        """The attributes a description shows: an update's from the moment it is asked for."""
        current = {
            "VisibilityTimeoutSeconds": self.visibility_timeout,
            "TargetType": self.dead_letter_type,
            "MaxReceiveCount": self.max_receive_count,
        }
        current.update(self.pending or {})
        dead_letter: dict[str, Any] = {"TargetType": current["TargetType"]}
        if current["MaxReceiveCount"] is not None:
            dead_letter["MaxReceiveCount"] = current["MaxReceiveCount"]
        return {"VisibilityTimeoutSeconds": current["VisibilityTimeoutSeconds"], "DeadLetterConfiguration": dead_letter}

    def apply_pending(self) -> None:
        if self.pending:
            self.visibility_timeout = self.pending.get("VisibilityTimeoutSeconds", self.visibility_timeout)
            self.dead_letter_type = self.pending.get("TargetType", self.dead_letter_type)
            self.max_receive_count = self.pending.get("MaxReceiveCount", self.max_receive_count)
        self.pending = None

    def activate(self, now: float) -> None:
        """Fixes where delivery starts, as AWS does when the queue becomes ACTIVE."""
        stream = self.stream
        earliest = max(stream.created_at, now - stream.retention_seconds)
        if self.start_type == "LATEST":
            self.start_counter = stream.counter + 1
            self.effective_timestamp = now
        elif self.start_type == "TRIM_HORIZON":
            self.effective_timestamp = earliest
        else:
            self.effective_timestamp = max(self.start_timestamp or 0.0, earliest)

    def describe(self) -> dict[str, Any]:
        position: dict[str, Any] = {"Type": self.start_type}
        if self.status == "CREATING":
            if self.start_type == "AT_TIMESTAMP":
                position["Timestamp"] = self.start_timestamp
        else:
            position["Timestamp"] = self.effective_timestamp
        return {
            "QueueName": self.name,
            "QueueARN": self.arn,
            "QueueStatus": self.status,
            "QueueCreationTimestamp": self.created_at,
            "StreamConfigurationList": [{"StreamARN": self.stream.arn, "StartingPosition": position}],
            "QueueAttributes": self.attributes(),
        }

    def summary(self) -> dict[str, Any]:
        return {
            "QueueName": self.name,
            "QueueARN": self.arn,
            "QueueStatus": self.status,
            "QueueCreationTimestamp": self.created_at,
            "Streams": [{"StreamARN": self.stream.arn, "StreamCreationTimestamp": self.stream.created_at}],
        }

    # -- delivery ---------------------------------------------------------------------------------

    def ripen(self, now: float) -> None:
        """Brings back the in-flight records whose visibility timeout is over (dead-letter records once
        they have been received ``MaxReceiveCount`` times)."""
        deadlines, deliveries = self.deadlines, self.deliveries
        while deadlines and deadlines[0][0] <= now:
            visible_at, _, counter, generation = heapq.heappop(deadlines)
            delivery = deliveries.get(counter)
            if (
                delivery is None
                or not delivery.in_flight
                or delivery.generation != generation
                or delivery.visible_at != visible_at
            ):
                continue  # acknowledged, received again or given another timeout since
            delivery.in_flight = False
            self.in_flight -= 1
            if not delivery.dead and self._spent(delivery):
                self._kill(delivery)
            else:
                (self.dead_ready if delivery.dead else self.ready).append(counter)

    def _spent(self, delivery: Delivery) -> bool:
        return self.dead_letters_on and delivery.receives >= (self.max_receive_count or 0)

    def _kill(self, delivery: Delivery) -> None:
        delivery.dead = True
        delivery.generation += 1  # the handle of its last receive no longer acknowledges it
        self.dead_ready.append(delivery.counter)

    def take(
        self, limit: int, timeout: int, dead: bool, now: float, make: Callable[[Delivery, Shard, int], dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` visible records (dead-letter ones if ``dead``), put in flight for ``timeout``
        seconds; ``make`` builds each answer entry from (delivery, shard, index in the shard)."""
        out: list[dict[str, Any]] = []
        self.ripen(now)
        source = self.dead_ready if dead else self.ready
        while source and len(out) < limit and self.in_flight < MAX_IN_FLIGHT:
            counter = source.popleft()
            delivery = self.deliveries.get(counter)
            if delivery is None or delivery.in_flight or delivery.dead != dead:
                continue  # acknowledged or restored while it waited
            found = self._locate(delivery, now)
            if found is None:
                del self.deliveries[counter]  # out of the stream's retention period
                continue
            if not dead and self._spent(delivery):  # MaxReceiveCount was lowered meanwhile
                self._kill(delivery)
                continue
            out.append(make(self._deliver(delivery, timeout, now), *found))
        if not dead and len(out) < limit and self.stream.counter != self.drained_at:
            self._take_new(limit, timeout, now, make, out)
        return out

    def _locate(self, delivery: Delivery, now: float) -> tuple[Shard, int] | None:
        """Where the record still is in its shard, or None once it has expired."""
        stream = self.stream
        shard = stream.shards[delivery.shard]
        index = shard.index_at_counter(delivery.counter)
        if index >= len(shard.counters) or shard.counters[index] != delivery.counter:
            return None
        if shard.times[index] < stream.horizon(shard, now):
            return None
        return shard, index

    def _cursor(self, shard: Shard) -> int:
        cursor = self.cursors.get(shard.index)
        if cursor is None:
            if self.start_type == "AT_TIMESTAMP":
                index = shard.index_at_time(self.start_timestamp or 0.0)
                cursor = shard.counters[index] if index < len(shard.counters) else self.stream.counter + 1
            else:
                cursor = self.start_counter
            self.cursors[shard.index] = cursor
        return cursor

    def _take_new(
        self,
        limit: int,
        timeout: int,
        now: float,
        make: Callable[[Delivery, Shard, int], dict[str, Any]],
        out: list[dict[str, Any]],
    ) -> None:
        """Records never delivered before, from each shard's cursor (starting at another shard each
        call, so that no shard's records wait behind another's)."""
        stream = self.stream
        shards = stream.shards
        count = len(shards)
        first = self.rotation % count
        self.rotation += 1
        drained = True
        seen_counter = stream.counter
        for step in range(count):
            shard = shards[(first + step) % count]
            counters = shard.counters
            index = max(
                shard.index_at_counter(self._cursor(shard)), shard.index_at_time(stream.horizon(shard, now))
            )
            end = len(counters)
            while index < end and len(out) < limit and self.in_flight < MAX_IN_FLIGHT:
                delivery = Delivery(shard=shard.index, counter=counters[index])
                self.deliveries[delivery.counter] = delivery
                out.append(make(self._deliver(delivery, timeout, now), shard, index))
                index += 1
            if index < end:
                self.cursors[shard.index] = counters[index]
                drained = False
                break
            if end:
                self.cursors[shard.index] = max(self.cursors[shard.index], counters[end - 1] + 1)
        if drained:
            self.drained_at = seen_counter

    def _deliver(self, delivery: Delivery, timeout: int, now: float) -> Delivery:
        delivery.receives += 1
        if delivery.receives == 1:
            delivery.first_receive = now
        delivery.generation += 1
        self._fly(delivery, now + timeout)
        return delivery

    def _fly(self, delivery: Delivery, visible_at: float) -> None:
        if not delivery.in_flight:
            delivery.in_flight = True
            self.in_flight += 1
        delivery.visible_at = visible_at
        self.sequence += 1
        heapq.heappush(self.deadlines, (visible_at, self.sequence, delivery.counter, delivery.generation))

    # -- acting on receipt handles ----------------------------------------------------------------

    def acknowledge(self, delivery: Delivery) -> None:
        del self.deliveries[delivery.counter]
        if delivery.in_flight:
            self.in_flight -= 1

    def change_visibility(self, delivery: Delivery, timeout: int, now: float) -> None:
        self._fly(delivery, now + timeout)
        if timeout == 0:
            self.ripen(now)

    def restore(self, delivery: Delivery) -> None:
        """Back to the normal receive path, with its receive count reset."""
        if delivery.in_flight:
            delivery.in_flight = False
            self.in_flight -= 1
        delivery.dead = False
        delivery.receives = 0
        delivery.generation += 1
        self.ready.append(delivery.counter)
