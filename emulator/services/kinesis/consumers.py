"""Enhanced fan-out consumers and SubscribeToShard.

A subscription is an iterator of ``SubscribeToShardEvent``s that the protocol layer frames as an
event stream. It waits for records on the store's condition variable (which releases the store's lock
while it waits), sends an event as soon as records arrive, a heartbeat event every few seconds
without them, ends at the end of a closed shard (with ``ChildShards``), after
``--kinesis-subscription-seconds`` of emulator time, or at shutdown, and frees its (consumer, shard)
slot however it ends. A second SubscribeToShard for the slot is in use within 5 seconds (emulator
time) of the call that holds it; 5 seconds or more after it, the new call takes the slot over and the
old subscription ends with a ``ResourceInUseException`` event, as AWS documents.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from typing import Any

from emulator import clock
from emulator.context import RequestContext
from emulator.services.kinesis import limits, sequence, shards
from emulator.services.kinesis.common import (
    KinesisBase,
    check_created_at,
    decode_token,
    encode_token,
    not_active,
    parse_consumer_arn,
    parse_stream_arn,
)
from emulator.services.kinesis.errors import (
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    dry_run_passed,
)
from emulator.services.kinesis.models import Consumer, KinesisStore, Shard, Stream
from emulator.services.kinesis.queues import queues_on
from emulator.services.kinesis.tagging import check_new_tags

HEARTBEAT_SECONDS = 5.0
# A SubscribeToShard call for a (consumer, shard) that is being served is in use within this many
# seconds of the call that started it, and takes the subscription over after them.
TAKEOVER_SECONDS = 5.0
_WAIT_SLICE = 0.5


def _consumer_not_found(name: str, stream: str, account: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Consumer {name} under stream {stream} not found for account {account}.")


class ConsumersMixin(KinesisBase):
    _closing: bool

    def _consumer(
        self,
        ctx: RequestContext,
        store: KinesisStore,
        now: float,
        consumer_arn: str | None,
        stream_arn: str | None,
        consumer_name: str | None,
    ) -> tuple[Stream, Consumer]:
        if consumer_arn:
            parsed = parse_consumer_arn(consumer_arn)
            if parsed is None:
                raise InvalidArgumentException(f"Invalid ConsumerARN: {consumer_arn}")
            region, account, stream_name, name = parsed
            # A ConsumerARN with a StreamARN or ConsumerName beside it must name the same consumer.
            if stream_arn and stream_arn != consumer_arn.split("/consumer/", 1)[0]:
                raise InvalidArgumentException(
                    f"ConsumerARN {consumer_arn} and StreamARN {stream_arn} do not refer to the same stream."
                )
            if consumer_name and consumer_name != name:
                raise InvalidArgumentException(
                    f"ConsumerARN {consumer_arn} and ConsumerName {consumer_name} do not refer to the same consumer."
                )
            stream = store.streams.get(stream_name)
            if account != ctx.account or region != ctx.region or stream is None or not self._settle(store, stream, now):
                raise _consumer_not_found(name, stream_name, ctx.account)
            consumer = stream.consumers.get(name)
            if consumer is None or consumer.arn != consumer_arn:
                raise _consumer_not_found(name, stream_name, ctx.account)
            return stream, consumer
        if not stream_arn or not consumer_name:
            raise InvalidArgumentException("Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
        stream = self._find(ctx, store, None, stream_arn, now)
        consumer = stream.consumers.get(consumer_name)
        if consumer is None:
            raise _consumer_not_found(consumer_name, stream.name, ctx.account)
        return stream, consumer

    def register_stream_consumer(
        self,
        ctx: RequestContext,
        *,
        stream_arn: str,
        consumer_name: str,
        tags: dict[str, str] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        if tags:
            check_new_tags({}, tags, f"consumer {consumer_name} under stream {stream_arn}")
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._find(ctx, store, None, stream_arn, now)
            if stream.status not in ("ACTIVE", "UPDATING"):
                raise not_active(stream)
            if consumer_name in stream.consumers:
                raise ResourceInUseException(
                    f"Consumer {consumer_name} under stream {stream.name} already exists for account {ctx.account}."
                )
            if len(stream.consumers) + queues_on(store, stream) >= limits.CONSUMERS_PER_STREAM:  # queues count too
                raise LimitExceededException(
                    f"Stream {stream.name} under account {ctx.account} already has "
                    f"{limits.CONSUMERS_PER_STREAM} registered consumers, the maximum allowed."
                )
            creating = sum(1 for c in stream.consumers.values() if c.status == "CREATING")
            if creating >= limits.CONSUMERS_CREATING_AT_ONCE:
                raise LimitExceededException(
                    f"Stream {stream.name} under account {ctx.account} already has "
                    f"{limits.CONSUMERS_CREATING_AT_ONCE} consumers in CREATING status, the most that can be "
                    "created at the same time."
                )
            created = float(int(now))
            consumer = Consumer(
                name=consumer_name,
                arn=f"{stream.arn}/consumer/{consumer_name}:{int(created)}",
                stream_arn=stream.arn,
                created_at=created,
                ready_at=now + self._transition_seconds(),
                tags=dict(tags or {}),
            )
            stream.consumers[consumer_name] = consumer
            description = consumer.describe()
            self._settle(store, stream, now)
        return {"Consumer": description}

    def deregister_stream_consumer(
        self,
        ctx: RequestContext,
        *,
        stream_arn: str | None = None,
        consumer_name: str | None = None,
        consumer_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream, consumer = self._consumer(ctx, store, now, consumer_arn, stream_arn, consumer_name)
            consumer.status = "DELETING"
            consumer.ready_at = now + self._transition_seconds()
            store.wake()
            self._settle(store, stream, now)
        return {}

    def describe_stream_consumer(
        self,
        ctx: RequestContext,
        *,
        stream_arn: str | None = None,
        consumer_name: str | None = None,
        consumer_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            _, consumer = self._consumer(ctx, store, clock.now(), consumer_arn, stream_arn, consumer_name)
            return {"ConsumerDescription": consumer.describe(with_stream=True)}

    def list_stream_consumers(
        self,
        ctx: RequestContext,
        *,
        stream_arn: str,
        next_token: str | None = None,
        max_results: int | None = None,
        stream_creation_timestamp: Any = None,
        **_: Any,
    ) -> dict[str, Any]:
        token = decode_token(next_token, "consumers") if next_token else None
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._find(ctx, store, None, stream_arn, now)
            check_created_at(stream, ctx.account, stream_creation_timestamp)
            consumers = sorted(stream.consumers.values(), key=lambda c: (c.created_at, c.name))
            if token is not None:
                # A token names its stream: one from another stream (or an earlier one of this name)
                # is not a place in this list.
                if token["stream"] != stream.arn or token["created"] != stream.created_at:
                    raise InvalidArgumentException(f"Invalid NextToken: {next_token}")
                # Resume after the last consumer given, by its place in the order, so a consumer
                # deregistered between pages does not send the listing back to the start.
                resume = (token["after_created"], token["after"])
                consumers = consumers[bisect_right(consumers, resume, key=lambda c: (c.created_at, c.name)) :]
            page = consumers[: limits.page_size(max_results, limits.LIST_CONSUMERS_DEFAULT)]
            out: dict[str, Any] = {"Consumers": [c.describe() for c in page]}
            if len(consumers) > len(page):
                last = page[-1]
                out["NextToken"] = encode_token(
                    {
                        "kind": "consumers",
                        "stream": stream.arn,
                        "created": stream.created_at,
                        "after": last.name,
                        "after_created": last.created_at,
                        "issued": now,
                    }
                )
        return out

    # -- SubscribeToShard ---------------------------------------------------------------------

    def subscribe_to_shard(
        self,
        ctx: RequestContext,
        *,
        consumer_arn: str,
        shard_id: str,
        starting_position: dict[str, Any],
        dry_run: bool | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Opens the subscription; a dry run makes every check (the slot's holder included) and opens none."""
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream, consumer = self._consumer(ctx, store, now, consumer_arn, None, None)
            if consumer.status != "ACTIVE":
                raise ResourceInUseException(
                    f"Consumer {consumer.name} with creation timestamp {int(consumer.created_at)} under stream: "
                    f"{stream.name} , account {ctx.account} is not in ACTIVE status."
                )
            shard = stream.shard_by_id(shard_id)
            if shard is None:
                raise ResourceNotFoundException(
                    f"Shard {shard_id} in stream {stream.name} under account {ctx.account} does not exist"
                )
            position = self._start_position(  # type: ignore[attr-defined]
                stream,
                shard,
                starting_position["Type"],
                starting_position.get("SequenceNumber"),
                starting_position.get("Timestamp"),
                now,
                "SubscribeToShard",
            )
            slot = (consumer.arn, shard.shard_id)
            holder = store.subscriptions.get(slot)
            if holder is not None and now - holder.started < TAKEOVER_SECONDS:
                raise ResourceInUseException(
                    f"Another active subscription exists for this consumer: "
                    f"{ctx.account}:{stream.name}:{shard.shard_id}:{consumer.name}"
                )
            if dry_run:
                raise dry_run_passed()
            subscription = Subscription(self, store, stream, shard, consumer, position, slot, now)
            if holder is not None:  # 5 seconds or more after it: this call takes the subscription over
                holder.taken_over = True
                store.wake()
            store.subscriptions[slot] = subscription
        return {"EventStream": subscription}


class Subscription:
    """The events of one SubscribeToShard call (an iterator; ``close()`` frees the slot at once)."""

    def __init__(
        self,
        provider: Any,
        store: KinesisStore,
        stream: Stream,
        shard: Shard,
        consumer: Consumer,
        position: int,
        slot: tuple[str, str],
        started: float,
    ) -> None:
        self.provider = provider
        self.store = store
        self.stream = stream
        self.shard = shard
        self.consumer = consumer
        self.position = position
        self.slot = slot
        self.started = started
        self.taken_over = False
        self.deadline = started + float(provider.config.kinesis_subscription_seconds)
        self.sent_any = False
        self.last_sent = time.monotonic()
        self.finished = False

    def __iter__(self) -> Subscription:
        return self

    def _gone(self) -> bool:
        stream, store = self.stream, self.store
        if store.streams.get(stream.name) is not stream or not self.provider._settle(store, stream, clock.now()):
            return True
        return stream.consumers.get(self.consumer.name) is not self.consumer or self.consumer.status != "ACTIVE"

    def __next__(self) -> dict[str, Any]:
        if self.finished:
            raise StopIteration
        store = self.store
        with store.lock:
            while True:
                now = clock.now()
                if self.taken_over:
                    self._finish()
                    stream, consumer = self.stream, self.consumer
                    raise ResourceInUseException(
                        f"Another subscription has taken over this one for consumer: "
                        f"{stream.account}:{stream.name}:{self.shard.shard_id}:{consumer.name}"
                    )
                if self.provider._closing or now >= self.deadline or self._gone():
                    self._finish()
                    raise StopIteration
                records, next_position, behind, at_end = self.provider._read(
                    self.stream, self.shard, self.position, 10000, now
                )
                heartbeat = time.monotonic() - self.last_sent >= HEARTBEAT_SECONDS
                if records or at_end or not self.sent_any or heartbeat:
                    break
                store.waiters += 1
                try:
                    store.changed.wait(_WAIT_SLICE)
                finally:
                    store.waiters -= 1
            self.position = next_position
            shard = self.shard
            if records:
                continuation = records[-1]["SequenceNumber"]
            elif at_end and shard.end_counter is not None:
                continuation = sequence.make(shard.base, shard.end_counter)
            else:
                continuation = sequence.make(shard.base, max(next_position - 1, shard.start_counter))
            event: dict[str, Any] = {
                "Records": records,
                "ContinuationSequenceNumber": continuation,
                "MillisBehindLatest": behind,
            }
            if at_end:
                event["ChildShards"] = shards.child_shards(self.stream, shard)
                self._finish()
        self.sent_any = True
        self.last_sent = time.monotonic()
        return {"SubscribeToShardEvent": event}

    def _finish(self) -> None:
        if not self.finished:
            self.finished = True
            with self.store.lock:
                if self.store.subscriptions.get(self.slot) is self:
                    del self.store.subscriptions[self.slot]

    def close(self) -> None:
        self._finish()

    def __del__(self) -> None:  # a subscription that was never iterated still frees its slot
        try:
            self._finish()
        except Exception:
            pass


__all__ = ["ConsumersMixin", "Subscription", "parse_stream_arn"]
