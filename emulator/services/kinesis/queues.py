"""Queues on ON_DEMAND streams: CreateQueue and its control plane, and the receive, acknowledge,
visibility and dead-letter operations of their consumers.

What a queue remembers and what a receive costs is in ``queue_models.py``. Here: finding a queue by
its ARN (its status settles lazily, like a stream's, so moving the clock completes CREATING, UPDATING
and DELETING), receipt handles, and long polling.

A receipt handle is a signed token (``emulator.services.pagination``) naming the queue, the record
and the generation of the receive that issued it, and whether it came from the dead-letter side.
Nobody can forge one, and one that a later receive, a dead-lettering, a restore or an acknowledgement
has overtaken fails its own entry, never the whole call.

``WaitTimeSeconds`` (the model's default is 9) waits only when nothing is visible at once: the
operation then answers with a ``Deferred`` (``emulator/deferred.py``), whose wait runs on a serving
thread of its own, on the store's condition variable, which PutRecord(s), the clock's moves and the
queue operations that make records visible notify.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

from emulator import clock
from emulator.context import RequestContext, partition_for
from emulator.deferred import Deferred, wait_until
from emulator.services import pagination
from emulator.services.kinesis import limits
from emulator.services.kinesis.common import KinesisBase, not_active
from emulator.services.kinesis.errors import (
    ExpiredNextTokenException,
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from emulator.services.kinesis.models import KinesisStore, Shard, Stream, to_millis
from emulator.services.kinesis.queue_models import Delivery, Queue
from emulator.services.kinesis.tagging import check_new_tags

_QUEUE_ARN = re.compile(r"^arn:[^:]+:kinesis:([^:]*):(\d{12}):queue/(\S+)$")
DEFAULT_LIMIT = 10
DEFAULT_WAIT_SECONDS = 9
TRANSITIONS_PER_ACCOUNT = 5  # queues CREATING or DELETING at once, per account and Region
LIST_QUEUES_DEFAULT = 100
_HANDLE_FIELDS = {"q": str, "c": int, "g": int, "d": bool}
# What an Acknowledge/Update/Restore operation does with one entry's record: None, or why it cannot.
_Act = Callable[[Queue, Delivery, dict[str, Any], float], "str | None"]


def queues_on(store: KinesisStore, stream: Stream) -> int:
    """How many queues a stream has (they count against its registered consumer limit)."""
    return sum(1 for queue in store.queues.values() if queue.stream is stream)


def _queue_not_found(arn: str, account: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Queue {arn} under account {account} not found.")


def _epoch(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _attributes(attributes: dict[str, Any] | None) -> dict[str, Any]:
    """The members of a QueueAttributes structure that were given, checked as the model's text says."""
    out: dict[str, Any] = {}
    if not attributes:
        return out
    if attributes.get("VisibilityTimeoutSeconds") is not None:
        out["VisibilityTimeoutSeconds"] = attributes["VisibilityTimeoutSeconds"]
    dead_letter = attributes.get("DeadLetterConfiguration")
    if dead_letter is not None:
        kind, count = dead_letter["TargetType"], dead_letter.get("MaxReceiveCount")
        if kind == "BUILT_IN" and count is None:
            raise ValidationException("MaxReceiveCount is required when TargetType is BUILT_IN.")
        if kind == "NONE" and count is not None:
            raise ValidationException("MaxReceiveCount can only be specified when TargetType is BUILT_IN.")
        out["TargetType"] = kind
        out["MaxReceiveCount"] = count
    return out


class QueuesMixin(KinesisBase):
    _closing: bool

    # -- finding queues -------------------------------------------------------------------------

    def _settle_queue(self, store: KinesisStore, queue: Queue, now: float) -> bool:
        """Completes the queue's transition when its time is over; False when the queue is gone."""
        if queue.status != "ACTIVE" and now >= queue.ready_at:
            if queue.status == "DELETING":
                if store.queues.get(queue.arn) is queue:
                    del store.queues[queue.arn]
                    store.policies.pop(queue.arn, None)
                store.wake()
                return False
            if queue.status == "CREATING":
                queue.activate(now)
            queue.apply_pending()
            queue.status = "ACTIVE"
            store.wake()
        return True

    def _queue(self, ctx: RequestContext, store: KinesisStore, queue_arn: str, now: float) -> Queue:
        """The queue ``queue_arn`` names, in any state (call under the store's lock)."""
        match = _QUEUE_ARN.match(queue_arn)
        if match is None:
            raise InvalidArgumentException(f"Invalid QueueARN: {queue_arn}")
        queue = store.queues.get(queue_arn)
        if (
            match.group(1) != ctx.region
            or match.group(2) != ctx.account
            or queue is None
            or not self._settle_queue(store, queue, now)
        ):
            raise _queue_not_found(queue_arn, ctx.account)
        return queue

    def _delivering(self, ctx: RequestContext, store: KinesisStore, queue_arn: str, now: float) -> Queue:
        """A queue that delivers: ACTIVE or UPDATING, on a stream that is still there."""
        queue = self._queue(ctx, store, queue_arn, now)
        stream = queue.stream
        if queue.status not in ("ACTIVE", "UPDATING") or store.streams.get(stream.name) is not stream:
            raise _queue_not_found(queue_arn, ctx.account)
        return queue

    def _settle_queues(self, store: KinesisStore, now: float) -> None:
        for queue in list(store.queues.values()):
            self._settle_queue(store, queue, now)

    def _check_transitions(self, ctx: RequestContext, store: KinesisStore, now: float) -> None:
        self._settle_queues(store, now)
        moving = sum(1 for q in store.queues.values() if q.status in ("CREATING", "DELETING"))
        if moving >= TRANSITIONS_PER_ACCOUNT:
            raise LimitExceededException(
                f"Account {ctx.account} already has {TRANSITIONS_PER_ACCOUNT} queues in CREATING or DELETING "
                "state, the maximum allowed."
            )

    # -- control plane --------------------------------------------------------------------------

    def create_queue(
        self,
        ctx: RequestContext,
        *,
        queue_name: str,
        stream_configuration_list: list[dict[str, Any]],
        queue_attributes: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        if len(stream_configuration_list) != 1:
            raise ValidationException("StreamConfigurationList must contain exactly one entry.")
        configuration = stream_configuration_list[0]
        position = configuration.get("StartingPosition") or {"Type": "LATEST"}
        kind, timestamp = position["Type"], position.get("Timestamp")
        if kind == "AT_TIMESTAMP" and timestamp is None:
            raise ValidationException("Timestamp is required when the StartingPosition Type is AT_TIMESTAMP.")
        if kind != "AT_TIMESTAMP" and timestamp is not None:
            raise ValidationException("Timestamp can only be specified when the StartingPosition Type is AT_TIMESTAMP.")
        attributes = _attributes(queue_attributes)
        if tags:
            check_new_tags({}, tags, f"queue {queue_name}")
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._find(ctx, store, None, configuration["StreamARN"], now)
            if stream.status not in ("ACTIVE", "UPDATING"):
                raise not_active(stream)
            if stream.mode != "ON_DEMAND":
                raise InvalidArgumentException(
                    f"Queues are supported only on ON_DEMAND streams. Stream {stream.name} under account "
                    f"{ctx.account} is in {stream.mode} mode."
                )
            self._check_transitions(ctx, store, now)
            if any(q.name == queue_name for q in store.queues.values()):
                raise ResourceInUseException(f"Queue {queue_name} under account {ctx.account} already exists.")
            if len(stream.consumers) + queues_on(store, stream) >= limits.CONSUMERS_PER_STREAM:
                raise LimitExceededException(
                    f"Stream {stream.name} under account {ctx.account} already has "
                    f"{limits.CONSUMERS_PER_STREAM} registered consumers, the maximum allowed."
                )
            uid = uuid.uuid4().hex
            queue = Queue(
                name=queue_name,
                arn=f"arn:{partition_for(ctx.region)}:kinesis:{ctx.region}:{ctx.account}:queue/{uid}",
                uid=uid,
                stream=stream,
                created_at=float(int(now)),
                start_type=kind,
                start_timestamp=None if timestamp is None else to_millis(_epoch(timestamp)),
                ready_at=now + self._transition_seconds(),
                tags=dict(tags or {}),
                pending=attributes or None,
            )
            store.queues[queue.arn] = queue
            description = queue.describe()
            self._settle_queue(store, queue, now)
        return {"QueueDescription": description}

    def describe_queue(self, ctx: RequestContext, *, queue_arn: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            return {"QueueDescription": self._queue(ctx, store, queue_arn, clock.now()).describe()}

    def list_queues(
        self,
        ctx: RequestContext,
        *,
        max_results: int | None = None,
        next_token: str | None = None,
        stream_filter: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        now = clock.now()
        after = self._list_token(next_token, now) if next_token else None
        wanted = [(f["StreamARN"], f.get("StreamCreationTimestamp")) for f in stream_filter or ()]
        store = self._store(ctx)
        with store.lock:
            self._settle_queues(store, now)
            queues = sorted(store.queues.values(), key=lambda q: q.name)
            if wanted:
                queues = [q for q in queues if any(_same_stream(q.stream, a, c) for a, c in wanted)]
            if after is not None:
                queues = [q for q in queues if q.name > after]
            page = queues[: max_results or LIST_QUEUES_DEFAULT]
            out: dict[str, Any] = {"QueueSummaries": [q.summary() for q in page]}
        if len(queues) > len(page):
            out["NextToken"] = pagination.sign({"kind": "queues", "after": page[-1].name, "issued": now})
        return out

    def _list_token(self, token: str, now: float) -> str:
        try:
            payload = pagination.verify(token)
        except pagination.InvalidToken:
            payload = None
        if (
            not isinstance(payload, dict)
            or set(payload) != {"kind", "after", "issued"}
            or payload["kind"] != "queues"
            or not isinstance(payload["after"], str)
            or not isinstance(payload["issued"], (int, float))
        ):
            raise InvalidArgumentException(f"Invalid NextToken: {token}")
        if now - payload["issued"] > limits.NEXT_TOKEN_LIFETIME:
            raise ExpiredNextTokenException(f"The NextToken has expired: {token}")
        return payload["after"]

    def update_queue(
        self, ctx: RequestContext, *, queue_arn: str, queue_attributes: dict[str, Any], **_: Any
    ) -> dict[str, Any]:
        attributes = _attributes(queue_attributes)
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            queue = self._queue(ctx, store, queue_arn, now)
            if queue.status != "ACTIVE":
                raise ResourceInUseException(
                    f"Queue {queue.name} under account {ctx.account} not ACTIVE, instead in state {queue.status}"
                )
            queue.pending = attributes
            queue.status = "UPDATING"
            queue.ready_at = now + self._transition_seconds()
            description = queue.describe()
            self._settle_queue(store, queue, now)
        return {"QueueDescription": description}

    def delete_queue(self, ctx: RequestContext, *, queue_arn: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            queue = self._queue(ctx, store, queue_arn, now)
            if queue.status != "DELETING":
                self._check_transitions(ctx, store, now)
                queue.status = "DELETING"
                queue.ready_at = now + self._transition_seconds()
                store.wake()  # receivers waiting on it answer now
                self._settle_queue(store, queue, now)
        return {}

    # -- receiving ------------------------------------------------------------------------------

    def receive_queue_records(
        self,
        ctx: RequestContext,
        *,
        queue_arn: str,
        limit: int | None = None,
        wait_time_seconds: int | None = None,
        visibility_timeout_seconds: int | None = None,
        **_: Any,
    ) -> dict[str, Any] | Deferred:
        return self._receive(ctx, queue_arn, limit, wait_time_seconds, visibility_timeout_seconds, False)

    def receive_dead_letter_queue_records(
        self,
        ctx: RequestContext,
        *,
        queue_arn: str,
        limit: int | None = None,
        wait_time_seconds: int | None = None,
        visibility_timeout_seconds: int | None = None,
        **_: Any,
    ) -> dict[str, Any] | Deferred:
        return self._receive(ctx, queue_arn, limit, wait_time_seconds, visibility_timeout_seconds, True)

    def _receive(
        self,
        ctx: RequestContext,
        queue_arn: str,
        limit: int | None,
        wait: int | None,
        timeout: int | None,
        dead: bool,
    ) -> dict[str, Any] | Deferred:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            queue = self._delivering(ctx, store, queue_arn, now)
            records = self._take(queue, limit, timeout, dead, now)
        wait = DEFAULT_WAIT_SECONDS if wait is None else wait
        if records or wait <= 0:
            return {"QueueRecords": records}
        deadline = now + wait

        def attempt() -> list[dict[str, Any]] | None:
            moment = clock.now()
            if (
                self._closing
                or store.queues.get(queue.arn) is not queue
                or not self._settle_queue(store, queue, moment)
                or queue.status not in ("ACTIVE", "UPDATING")
                or store.streams.get(queue.stream.name) is not queue.stream
            ):
                return []  # the queue went away while the call waited: nothing to deliver
            return self._take(queue, limit, timeout, dead, moment) or None

        def resolve(stopping: threading.Event | None) -> dict[str, Any]:
            with store.lock:
                store.waiters += 1
                try:
                    found = wait_until(store.changed, attempt, deadline, stopping)
                finally:
                    store.waiters -= 1
            return {"QueueRecords": found or []}

        return Deferred(resolve)

    def _take(
        self, queue: Queue, limit: int | None, timeout: int | None, dead: bool, now: float
    ) -> list[dict[str, Any]]:
        visibility = queue.visibility_timeout if timeout is None else timeout
        return queue.take(limit or DEFAULT_LIMIT, visibility, dead, now, lambda d, s, i: _record(queue, d, s, i))

    # -- acting on receipt handles --------------------------------------------------------------

    def acknowledge_queue_records(
        self, ctx: RequestContext, *, queue_arn: str, entries: list[dict[str, Any]], **_: Any
    ) -> dict[str, Any]:
        return self._each(ctx, queue_arn, entries, False, _acknowledge)

    def acknowledge_dead_letter_queue_records(
        self, ctx: RequestContext, *, queue_arn: str, entries: list[dict[str, Any]], **_: Any
    ) -> dict[str, Any]:
        return self._each(ctx, queue_arn, entries, True, _acknowledge)

    def update_queue_records_visibility(
        self, ctx: RequestContext, *, queue_arn: str, entries: list[dict[str, Any]], **_: Any
    ) -> dict[str, Any]:
        return self._each(ctx, queue_arn, entries, False, _change_visibility)

    def update_dead_letter_queue_records_visibility(
        self, ctx: RequestContext, *, queue_arn: str, entries: list[dict[str, Any]], **_: Any
    ) -> dict[str, Any]:
        return self._each(ctx, queue_arn, entries, True, _change_visibility)

    def restore_dead_letter_queue_records(
        self, ctx: RequestContext, *, queue_arn: str, entries: list[dict[str, Any]], **_: Any
    ) -> dict[str, Any]:
        return self._each(ctx, queue_arn, entries, True, _restore)

    def _each(
        self, ctx: RequestContext, queue_arn: str, entries: list[dict[str, Any]], dead: bool, act: _Act
    ) -> dict[str, Any]:
        """Applies ``act`` to the record of each entry's receipt handle; an entry whose handle is not in
        force, or that ``act`` refuses (its message), fails alone."""
        store = self._store(ctx)
        now = clock.now()
        successful: list[dict[str, str]] = []
        failed: list[dict[str, str]] = []
        with store.lock:
            queue = self._delivering(ctx, store, queue_arn, now)
            queue.ripen(now)
            for entry in entries:
                handle = entry["ReceiptHandle"]
                found = _delivery_for(queue, handle, dead)
                problem = found if isinstance(found, str) else act(queue, found, entry, now)
                if problem:
                    failed.append(
                        {"ReceiptHandle": handle, "ErrorCode": "InvalidArgumentException", "ErrorMessage": problem}
                    )
                else:
                    successful.append({"ReceiptHandle": handle})
            store.wake()  # a record made visible or restored may end a waiting receive
        return {"Successful": successful, "Failed": failed}


def _acknowledge(queue: Queue, delivery: Delivery, entry: dict[str, Any], now: float) -> None:
    queue.acknowledge(delivery)


def _restore(queue: Queue, delivery: Delivery, entry: dict[str, Any], now: float) -> None:
    queue.restore(delivery)


def _change_visibility(queue: Queue, delivery: Delivery, entry: dict[str, Any], now: float) -> str | None:
    if not delivery.in_flight:
        return f"ReceiptHandle {entry['ReceiptHandle']} names a record that is not in flight."
    queue.change_visibility(delivery, entry["VisibilityTimeoutSeconds"], now)
    return None


def _same_stream(stream: Stream, arn: str, created: Any) -> bool:
    if stream.arn != arn:
        return False
    return created is None or int(_epoch(created)) == int(stream.created_at)


def _handle(queue: Queue, delivery: Delivery) -> str:
    return pagination.sign({"q": queue.uid, "c": delivery.counter, "g": delivery.generation, "d": delivery.dead})


def _delivery_for(queue: Queue, handle: str, dead: bool) -> Delivery | str:
    """The delivery a receipt handle acts on, or why it does not (the entry's error message)."""
    try:
        payload = pagination.verify(handle)
    except pagination.InvalidToken:
        payload = None
    if (
        not isinstance(payload, dict)
        or set(payload) != set(_HANDLE_FIELDS)
        or not all(type(payload[k]) is t for k, t in _HANDLE_FIELDS.items())
        or payload["q"] != queue.uid
    ):
        return f"ReceiptHandle {handle} is not a valid receipt handle for queue {queue.arn}."
    if payload["d"] != dead:
        side = "ReceiveDeadLetterQueueRecords" if payload["d"] else "ReceiveQueueRecords"
        return f"ReceiptHandle {handle} was issued by {side}."
    delivery = queue.deliveries.get(payload["c"])
    if delivery is None or delivery.generation != payload["g"] or delivery.dead != dead:
        return f"ReceiptHandle {handle} is no longer valid: the record was acknowledged, received again or expired."
    return delivery


def _record(queue: Queue, delivery: Delivery, shard: Shard, index: int) -> dict[str, Any]:
    """One QueueRecord; its RecordId is the record's sequence number, the same in every queue."""
    out: dict[str, Any] = {
        "ReceiptHandle": _handle(queue, delivery),
        "RecordId": shard.sequence_number(delivery.counter),
        "Data": shard.datas[index],
        "ApproximateArrivalTimestamp": shard.times[index],
        "FirstReceiveTimestamp": delivery.first_receive,
        "ReceiveCount": delivery.receives,
    }
    if shard.keys[index]:  # "" is a record the stream placed itself (AUTO), written without a key
        out["PartitionKey"] = shard.keys[index]
    return out


__all__ = ["QueuesMixin", "queues_on"]
