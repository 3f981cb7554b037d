"""SplitShard, MergeShards, UpdateShardCount and UpdateStreamMode.

Each puts the stream in UPDATING; the shards change when the transition time is over (at once by
default), as on AWS, where reads and writes go on to the old shards meanwhile.
"""

from __future__ import annotations

from typing import Any

from emulator import clock
from emulator.context import RequestContext
from emulator.services.kinesis import limits, shards
from emulator.services.kinesis.common import KinesisBase, normalized_shard_id, not_active
from emulator.services.kinesis.errors import (
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from emulator.services.kinesis.models import KinesisStore, Pending, Shard, Stream
from emulator.services.kinesis.queues import queues_on


class ReshardingMixin(KinesisBase):
    def _reshardable(self, ctx: RequestContext, stream: Stream, shard_id: str) -> Shard:
        """The shard ``shard_id`` (already normalised) names."""
        shard = stream.shard_by_id(shard_id)
        if shard is None:
            raise ResourceNotFoundException(
                f"Could not find shard {shard_id} in stream {stream.name} under account {ctx.account}."
            )
        return shard

    def _not_eligible(self, ctx: RequestContext, stream: Stream, shard: Shard) -> ResourceInUseException:
        return ResourceInUseException(
            f"Shard {shard.shard_id} in stream {stream.name} under account {ctx.account} has already been merged "
            "or split, and thus is not eligible for merging or splitting."
        )

    def _check_provisioned(self, ctx: RequestContext, stream: Stream, operation: str) -> None:
        """SplitShard and MergeShards are for PROVISIONED streams only."""
        if stream.mode != "PROVISIONED":
            raise InvalidArgumentException(
                f"{operation} is not supported for stream {stream.name} under account {ctx.account} "
                "because it is in ON_DEMAND capacity mode."
            )

    def _schedule(self, store: KinesisStore, stream: Stream, now: float, apply: Any) -> None:
        ready_at = now + self._transition_seconds()
        stream.status = "UPDATING"
        stream.pending = Pending(ready_at, lambda: apply(ready_at))
        self._settle(store, stream, now)

    def split_shard(
        self,
        ctx: RequestContext,
        *,
        shard_to_split: str,
        new_starting_hash_key: str,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        name = self._stream_name(ctx, stream_name, stream_arn)
        shard_id = normalized_shard_id(shard_to_split, name, ctx.account)
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._find(ctx, store, stream_name, stream_arn, now)
            self._check_provisioned(ctx, stream, "SplitShard")
            shard = self._reshardable(ctx, stream, shard_id)
            self._check_shard_limit(ctx, store, 1)  # type: ignore[attr-defined]
            key = int(new_starting_hash_key)
            if not shard.start_hash + 1 < key < shard.end_hash:
                raise InvalidArgumentException(
                    f"NewStartingHashKey {new_starting_hash_key} used in SplitShard() on shard {shard.shard_id} in "
                    f"stream {stream.name} under account {ctx.account} is not both greater than one plus the "
                    f"shard's StartingHashKey {shard.start_hash} and less than the shard's EndingHashKey "
                    f"{shard.end_hash}."
                )
            if stream.status != "ACTIVE":
                raise not_active(stream)
            if not shard.is_open:
                raise self._not_eligible(ctx, stream, shard)
            self._schedule(store, stream, now, lambda at: shards.split(stream, shard, key, at))
        return {}

    def merge_shards(
        self,
        ctx: RequestContext,
        *,
        shard_to_merge: str,
        adjacent_shard_to_merge: str,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        name = self._stream_name(ctx, stream_name, stream_arn)
        first_id = normalized_shard_id(shard_to_merge, name, ctx.account)
        second_id = normalized_shard_id(adjacent_shard_to_merge, name, ctx.account)
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._find(ctx, store, stream_name, stream_arn, now)
            self._check_provisioned(ctx, stream, "MergeShards")
            first = self._reshardable(ctx, stream, first_id)
            second = self._reshardable(ctx, stream, second_id)
            if first is second or not shards.are_adjacent(first, second):
                raise InvalidArgumentException(
                    f"Shards {first.shard_id} and {second.shard_id} in stream {stream.name} under account "
                    f"{ctx.account} are not an adjacent pair of shards eligible for merging"
                )
            if stream.status != "ACTIVE":
                raise not_active(stream)
            for shard in (first, second):
                if not shard.is_open:
                    raise self._not_eligible(ctx, stream, shard)
            self._schedule(store, stream, now, lambda at: shards.merge(stream, first, second, at))
        return {}

    def update_shard_count(
        self,
        ctx: RequestContext,
        *,
        target_shard_count: int,
        scaling_type: str,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._active(ctx, store, stream_name, stream_arn, now)
            if stream.mode != "PROVISIONED":
                # Unlike SplitShard and MergeShards, AWS words this one as a malformed request.
                raise ValidationException(
                    f"Request is invalid. Stream {stream.name} under account {ctx.account} is in On-Demand mode."
                )
            current = len(stream.open_shards)
            counts = f"Current open shard count: {current}, Target shard count: {target_shard_count}"
            limit = min(self._shard_limit(ctx.region), limits.MAX_SHARDS_PER_STREAM)  # type: ignore[attr-defined]
            if target_shard_count > limit:
                raise LimitExceededException(
                    f"Target shard count or number of open shards cannot be greater than {limit}. {counts}"
                )
            if target_shard_count > current * 2:
                raise LimitExceededException(
                    f"UpdateShardCount cannot scale up over double your current open shard count. {counts}"
                )
            if target_shard_count * 2 < current:
                raise LimitExceededException(
                    f"UpdateShardCount cannot scale down below half your current open shard count. {counts}"
                )
            recent = [at for at in stream.scalings if at > now - 86400]
            if len(recent) >= limits.SCALINGS_PER_DAY:
                raise LimitExceededException(
                    f"Stream {stream.name} under account {ctx.account} has already been scaled "
                    f"{limits.SCALINGS_PER_DAY} times in the last 24 hours, the most UpdateShardCount allows."
                )
            if target_shard_count > current:
                self._check_shard_limit(ctx, store, target_shard_count - current)  # type: ignore[attr-defined]
            stream.scalings = [*recent, now]
            self._schedule(store, stream, now, lambda at: shards.rescale_uniform(stream, target_shard_count, at))
        return {
            "StreamName": stream.name,
            "CurrentShardCount": current,
            "TargetShardCount": target_shard_count,
            "StreamARN": stream.arn,
        }

    def update_stream_mode(
        self,
        ctx: RequestContext,
        *,
        stream_arn: str,
        stream_mode_details: dict[str, str],
        warm_throughput_mi_bps: int | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        mode = stream_mode_details["StreamMode"]
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._active(ctx, store, None, stream_arn, now)
            if stream.mode == mode:
                raise InvalidArgumentException(
                    f"Stream {stream.name} under account {ctx.account} is already in {mode} mode."
                )
            if mode == "PROVISIONED" and queues_on(store, stream):
                raise ResourceInUseException(
                    f"Stream {stream.name} under account {ctx.account} has queues. Delete every queue on the "
                    "stream with DeleteQueue before switching it to PROVISIONED mode."
                )

            if mode == "ON_DEMAND":
                self._check_on_demand_limit(ctx, store)  # type: ignore[attr-defined]

            def apply(_: float) -> None:
                stream.mode = mode
                stream.switching_to = None
                if mode == "ON_DEMAND" and warm_throughput_mi_bps:
                    stream.warm_throughput_target = stream.warm_throughput_current = warm_throughput_mi_bps
                if mode == "PROVISIONED":
                    stream.warm_throughput_target = stream.warm_throughput_current = None

            stream.switching_to = mode
            self._schedule(store, stream, now, apply)
        return {}
