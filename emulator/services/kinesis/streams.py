"""Streams: create, delete, describe, list, list shards, retention."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from emulator import clock
from emulator.context import RequestContext
from emulator.services.kinesis import limits, shards
from emulator.services.kinesis.common import (
    KinesisBase,
    check_created_at,
    decode_token,
    encode_token,
    stream_arn,
)
from emulator.services.kinesis.errors import (
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
)
from emulator.services.kinesis.models import Channel, KinesisStore, Pending, Shard, Stream, to_millis
from emulator.services.kinesis.queues import queues_on
from emulator.services.kinesis.tagging import check_new_tags


def auto_needs_on_demand(stream_name: str, account: str) -> str:
    return (
        f"The AUTO record distribution strategy is only supported for streams in ON_DEMAND mode. "
        f"Stream {stream_name} under account {account} is in PROVISIONED mode."
    )


class StreamsMixin(KinesisBase):
    # From the channels mixin (channels.py): the channels that read a stream, settled.
    _channels_of: Callable[[KinesisStore, Stream, float], list[Channel]]

    def _shard_limit(self, region: str) -> int:
        configured = int(self.config.kinesis_shard_limit or 0)
        return configured if configured > 0 else limits.default_shard_limit(region)

    def _open_shard_count(self, store: KinesisStore) -> int:
        return sum(len(s.open_shards) for s in store.streams.values() if s.status != "DELETING")

    def _check_shard_limit(self, ctx: RequestContext, store: KinesisStore, additional: int) -> None:
        current = self._open_shard_count(store)
        limit = self._shard_limit(ctx.region)
        if current + additional > limit:
            raise LimitExceededException(
                f"This request would exceed the shard limit for the account {ctx.account} in {ctx.region}. "
                f"Current shard count for the account: {current}. Limit: {limit}. Number of additional shards "
                f"that would have resulted from this request: {additional}. Refer to the AWS Service Limits page "
                "(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and "
                "how to request higher limits."
            )

    def _check_on_demand_limit(self, ctx: RequestContext, store: KinesisStore) -> None:
        """One more on-demand stream (CreateStream, or UpdateStreamMode to ON_DEMAND) must fit the quota;
        a stream already on its way to ON_DEMAND counts."""
        on_demand = sum(1 for s in store.streams.values() if s.mode == "ON_DEMAND" or s.switching_to == "ON_DEMAND")
        if on_demand >= limits.ON_DEMAND_STREAM_LIMIT:
            raise LimitExceededException(
                f"This request would exceed the limit of {limits.ON_DEMAND_STREAM_LIMIT} on-demand streams "
                f"for the account {ctx.account} in {ctx.region}."
            )

    def create_stream(
        self,
        ctx: RequestContext,
        *,
        stream_name: str,
        shard_count: int | None = None,
        stream_mode_details: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        warm_throughput_mi_bps: int | None = None,
        max_record_size_in_ki_b: int | None = None,
        record_distribution_strategy: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        mode = (stream_mode_details or {}).get("StreamMode", "PROVISIONED")
        if record_distribution_strategy == "AUTO" and mode != "ON_DEMAND":
            raise InvalidArgumentException(auto_needs_on_demand(stream_name, ctx.account))
        if mode == "PROVISIONED" and shard_count is None:
            raise InvalidArgumentException("ShardCount is required for PROVISIONED streams.")
        if mode == "ON_DEMAND" and shard_count is not None:
            raise InvalidArgumentException("ShardCount cannot be specified for ON_DEMAND streams.")
        if tags:
            check_new_tags({}, tags, f"stream {stream_name} under account {ctx.account}")
        count = shard_count if mode == "PROVISIONED" else limits.ON_DEMAND_INITIAL_SHARDS
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            self._settle_all(store, now)
            if stream_name in store.streams:
                raise ResourceInUseException(f"Stream {stream_name} under account {ctx.account} already exists.")
            creating = sum(1 for s in store.streams.values() if s.status == "CREATING")
            if creating >= limits.STREAMS_CREATING_AT_ONCE:
                raise LimitExceededException(
                    "This request would have exceed the limit on the number of streams that can simultaneously "
                    f"be in CREATING or DELETING for the account {ctx.account}. "
                    f"Limit: {limits.STREAMS_CREATING_AT_ONCE}."
                )
            if mode == "ON_DEMAND":
                self._check_on_demand_limit(ctx, store)
            self._check_shard_limit(ctx, store, count)
            stream = Stream(
                name=stream_name,
                arn=stream_arn(ctx.region, ctx.account, stream_name),
                account=ctx.account,
                region=ctx.region,
                created_at=to_millis(now),
                nonce=random.getrandbits(32),
                mode=mode,
                tags=dict(tags or {}),
                max_record_kib=max_record_size_in_ki_b or 1024,
                distribution=record_distribution_strategy or "USER_PARTITION_KEY",
            )
            if mode == "ON_DEMAND" and warm_throughput_mi_bps:
                stream.warm_throughput_target = warm_throughput_mi_bps
                stream.warm_throughput_current = warm_throughput_mi_bps
            shards.create_uniform(stream, count, now)
            stream.pending = Pending(now + self._transition_seconds())
            store.streams[stream_name] = stream
            self._settle(store, stream, now)
        return {}

    def delete_stream(
        self,
        ctx: RequestContext,
        *,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        enforce_consumer_deletion: bool | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._find(ctx, store, stream_name, stream_arn, now)
            if stream.status in ("CREATING", "DELETING"):
                raise ResourceInUseException(
                    f"Stream {stream.name} under account {ctx.account} is in use (state {stream.status})."
                )
            if self._channels_of(store, stream, now):
                raise ResourceInUseException(
                    f"DeleteStream can't delete {ctx.account}:{stream.name} because there are channels "
                    f"associated with this data stream. Delete the channels of {stream.name} with DeleteChannel "
                    "before deleting the stream."
                )
            if queues_on(store, stream):  # whatever EnforceConsumerDeletion says (the model's text)
                raise ResourceInUseException(
                    f"DeleteStream can't delete {ctx.account}:{stream.name} because there are queues "
                    f"associated with this data stream. Delete every queue on {stream.name} with DeleteQueue "
                    "before deleting the stream."
                )
            if stream.consumers and not enforce_consumer_deletion:
                raise ResourceInUseException(
                    f"DeleteStream can't delete {ctx.account}:{stream.name} because there are consumers "
                    f"associated with this data stream. To delete {stream.name} anyway, set the "
                    "EnforceConsumerDeletion parameter to true to force the deletion of all the consumers "
                    "that are associated with it."
                )
            stream.status = "DELETING"
            stream.pending = Pending(now + self._transition_seconds())
            for consumer in stream.consumers.values():
                consumer.status = "DELETING"
            store.wake()
            self._settle(store, stream, now)
        return {}

    def _summary(self, stream: Stream) -> dict[str, Any]:
        out: dict[str, Any] = {
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "StreamStatus": stream.status,
            "RetentionPeriodHours": stream.retention_hours,
            "StreamCreationTimestamp": stream.created_at,
            "EnhancedMonitoring": [{"ShardLevelMetrics": sorted(stream.metrics)}],
            "EncryptionType": stream.encryption_type,
            "StreamModeDetails": stream.mode_details(),
        }
        if stream.key_id:
            out["KeyId"] = stream.key_id
        return out

    def _visible_shards(self, stream: Stream, now: float) -> list[Shard]:
        """Shards within the retention period: open ones, and closed ones that closed within it."""
        return [s for s in stream.shards if s.closed_at is None or s.closed_at >= stream.horizon(s, now)]

    def describe_stream(
        self,
        ctx: RequestContext,
        *,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        limit: int | None = None,
        exclusive_start_shard_id: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._find(ctx, store, stream_name, stream_arn, now)
            visible = self._visible_shards(stream, now)
            if exclusive_start_shard_id:
                visible = [s for s in visible if s.shard_id > exclusive_start_shard_id]
            page = visible[: limits.page_size(limit, limits.DESCRIBE_STREAM_DEFAULT)]
            description = self._summary(stream)
            description["Shards"] = [s.describe() for s in page]
            description["HasMoreShards"] = len(visible) > len(page)
        return {"StreamDescription": description}

    def describe_stream_summary(
        self, ctx: RequestContext, *, stream_name: str | None = None, stream_arn: str | None = None, **_: Any
    ) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._find(ctx, store, stream_name, stream_arn, now)
            summary = self._summary(stream)
            summary["OpenShardCount"] = len(stream.open_shards)
            summary["ConsumerCount"] = len(stream.consumers)
            summary["MaxRecordSizeInKiB"] = stream.max_record_kib
            summary["ChannelCount"] = len(self._channels_of(store, stream, now))
            if stream.mode == "ON_DEMAND":  # documented as present for on-demand streams only
                summary["RecordDistributionStrategy"] = stream.distribution
            if stream.warm_throughput_target is not None:
                summary["WarmThroughput"] = {
                    "TargetMiBps": stream.warm_throughput_target,
                    "CurrentMiBps": stream.warm_throughput_current or 0,
                }
        return {"StreamDescriptionSummary": summary}

    def list_streams(
        self,
        ctx: RequestContext,
        *,
        limit: int | None = None,
        exclusive_start_stream_name: str | None = None,
        next_token: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        after = exclusive_start_stream_name
        if next_token:
            after = decode_token(next_token, "streams")["after"]
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            self._settle_all(store, now)
            streams = sorted(store.streams.values(), key=lambda s: s.name)
            if after:
                streams = [s for s in streams if s.name > after]
            page = streams[: limits.page_size(limit, limits.LIST_STREAMS_DEFAULT)]
            summaries = [
                {
                    "StreamName": s.name,
                    "StreamARN": s.arn,
                    "StreamStatus": s.status,
                    "StreamModeDetails": s.mode_details(),
                    "StreamCreationTimestamp": s.created_at,
                }
                for s in page
            ]
        out: dict[str, Any] = {
            "StreamNames": [s["StreamName"] for s in summaries],
            "HasMoreStreams": len(streams) > len(page),
            "StreamSummaries": summaries,
        }
        if out["HasMoreStreams"]:
            out["NextToken"] = encode_token({"kind": "streams", "after": page[-1].name, "issued": now})
        return out

    def list_shards(
        self,
        ctx: RequestContext,
        *,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        next_token: str | None = None,
        exclusive_start_shard_id: str | None = None,
        max_results: int | None = None,
        stream_creation_timestamp: Any = None,
        shard_filter: dict[str, Any] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        if next_token:
            if stream_name or stream_arn:
                raise InvalidArgumentException("NextToken and StreamName cannot be provided together.")
            if stream_creation_timestamp is not None:
                raise InvalidArgumentException("NextToken and StreamCreationTimestamp cannot be provided together.")
            if exclusive_start_shard_id:
                raise InvalidArgumentException("NextToken and ExclusiveStartShardId cannot be provided together.")
            if shard_filter is not None:  # the token carries the first page's filter
                raise InvalidArgumentException("NextToken and ShardFilter cannot be provided together.")
            token = decode_token(next_token, "shards")
            stream_name, after, created = token["stream"], token["after"], token["created"]
            shard_filter = token.get("filter")
        else:
            if not stream_name and not stream_arn:
                raise InvalidArgumentException("Either NextToken or StreamName should be provided.")
            after, created = exclusive_start_shard_id, None
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._find(ctx, store, stream_name, stream_arn, now)
            check_created_at(stream, ctx.account, stream_creation_timestamp)
            if created is not None and abs(stream.created_at - created) > 1e-6:
                raise InvalidArgumentException(
                    (
                        f"The stream {stream.name} under account {ctx.account} "
                        "was recreated since the NextToken was issued."
                    )
                )
            candidates = self._filter_shards(stream, shard_filter, now)
            if after:
                candidates = [s for s in candidates if s.shard_id > after]
            page = candidates[: limits.page_size(max_results, limits.LIST_SHARDS_DEFAULT)]
            result: dict[str, Any] = {"Shards": [s.describe() for s in page]}
            if len(candidates) > len(page):
                result["NextToken"] = encode_token(
                    {
                        "kind": "shards",
                        "stream": stream.name,
                        "after": page[-1].shard_id,
                        "created": stream.created_at,
                        "filter": _jsonable_filter(shard_filter),
                        "issued": now,
                    }
                )
        return result

    def _filter_shards(self, stream: Stream, shard_filter: dict[str, Any] | None, now: float) -> list[Shard]:
        horizon = max(now - stream.retention_seconds, stream.created_at)
        visible = self._visible_shards(stream, now)
        if not shard_filter:
            return visible
        kind = shard_filter.get("Type")
        shard_id = shard_filter.get("ShardId")
        timestamp = shard_filter.get("Timestamp")
        if kind == "AFTER_SHARD_ID":
            if not shard_id:
                raise InvalidArgumentException("ShardId must be specified when ShardFilter Type is AFTER_SHARD_ID.")
            return [s for s in visible if s.shard_id > shard_id]
        if shard_id:
            raise InvalidArgumentException("ShardId can only be specified when ShardFilter Type is AFTER_SHARD_ID.")
        if kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP"):
            if timestamp is None:
                raise InvalidArgumentException(f"Timestamp must be specified when ShardFilter Type is {kind}.")
            when = max(_seconds(timestamp), horizon)
            if kind == "AT_TIMESTAMP":
                return [s for s in visible if s.created_at <= when and (s.closed_at is None or s.closed_at >= when)]
            return [s for s in visible if s.closed_at is None or s.closed_at >= when]
        if timestamp is not None:
            raise InvalidArgumentException(
                "Timestamp can only be specified when ShardFilter Type is AT_TIMESTAMP or FROM_TIMESTAMP."
            )
        if kind == "AT_LATEST":
            return [s for s in visible if s.is_open]
        if kind == "AT_TRIM_HORIZON":
            return [s for s in visible if s.created_at <= horizon and (s.closed_at is None or s.closed_at >= horizon)]
        return visible  # FROM_TRIM_HORIZON

    def increase_stream_retention_period(
        self,
        ctx: RequestContext,
        *,
        retention_period_hours: int,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        return self._change_retention(ctx, retention_period_hours, stream_name, stream_arn, increase=True)

    def decrease_stream_retention_period(
        self,
        ctx: RequestContext,
        *,
        retention_period_hours: int,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        return self._change_retention(ctx, retention_period_hours, stream_name, stream_arn, increase=False)

    def _change_retention(
        self, ctx: RequestContext, hours: int, stream_name: str | None, stream_arn: str | None, increase: bool
    ) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._active(ctx, store, stream_name, stream_arn, now)
            if hours < limits.MIN_RETENTION_HOURS:
                raise InvalidArgumentException(
                    f"Minimum allowed retention period is {limits.MIN_RETENTION_HOURS} hours. "
                    f"Requested retention period ({hours} hours) is too short."
                )
            if hours > limits.MAX_RETENTION_HOURS:
                raise InvalidArgumentException(
                    f"Maximum allowed retention period is {limits.MAX_RETENTION_HOURS} hours. "
                    f"Requested retention period ({hours} hours) is too long."
                )
            if increase and hours < stream.retention_hours:
                raise InvalidArgumentException(
                    f"Requested retention period ({hours} hours) for stream {stream.name} can not be shorter than "
                    f"existing retention period ({stream.retention_hours} hours). Use DecreaseRetentionPeriod API."
                )
            if not increase and hours > stream.retention_hours:
                raise InvalidArgumentException(
                    f"Requested retention period ({hours} hours) for stream {stream.name} can not be longer than "
                    f"existing retention period ({stream.retention_hours} hours). Use IncreaseRetentionPeriod API."
                )
            stream.set_retention(hours, now)
        return {}


def _seconds(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _jsonable_filter(shard_filter: dict[str, Any] | None) -> dict[str, Any] | None:
    if not shard_filter:
        return None
    out = dict(shard_filter)
    if out.get("Timestamp") is not None:
        out["Timestamp"] = _seconds(out["Timestamp"])
    return out
