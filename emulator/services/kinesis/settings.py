"""Stream and account settings: encryption, enhanced monitoring, limits, account settings, warm
throughput, maximum record size, record distribution strategy and resource policies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from emulator import clock
from emulator.context import RequestContext
from emulator.services.kinesis import limits
from emulator.services.kinesis.common import KinesisBase, parse_consumer_arn, parse_stream_arn
from emulator.services.kinesis.errors import (
    InvalidArgumentException,
    ResourceNotFoundException,
)
from emulator.services.kinesis.channels import CHANNEL_COUNT_LIMIT
from emulator.services.kinesis.models import METRICS, Channel, KinesisStore, Pending, Stream
from emulator.services.kinesis.streams import auto_needs_on_demand

_COMMITMENT_SECONDS = 24 * 3600.0


class SettingsMixin(KinesisBase):
    # From the channels mixin (channels.py): the store's channels after their due transitions.
    _settled_channels: Callable[[KinesisStore, float], list[Channel]]

    # -- encryption -----------------------------------------------------------------------------

    def start_stream_encryption(
        self,
        ctx: RequestContext,
        *,
        encryption_type: str,
        key_id: str,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        return self._set_encryption(ctx, stream_name, stream_arn, encryption_type, key_id, start=True)

    def stop_stream_encryption(
        self,
        ctx: RequestContext,
        *,
        encryption_type: str,
        key_id: str,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        return self._set_encryption(ctx, stream_name, stream_arn, encryption_type, key_id, start=False)

    def _set_encryption(
        self,
        ctx: RequestContext,
        stream_name: str | None,
        stream_arn: str | None,
        encryption_type: str,
        key_id: str,
        start: bool,
    ) -> dict[str, Any]:
        if encryption_type != "KMS":
            raise InvalidArgumentException(
                f"Invalid EncryptionType {encryption_type}. KMS is the only valid EncryptionType for this request."
            )
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._active(ctx, store, stream_name, stream_arn, now)
            kind = "KMS" if start else "NONE"

            def apply() -> None:
                stream.encryption_type = kind
                stream.key_id = key_id if start else None
                stream.encryption_log.append((stream.counter + 1, kind))

            stream.status = "UPDATING"
            stream.pending = Pending(now + self._transition_seconds(), apply)
            self._settle(store, stream, now)
        return {}

    # -- enhanced monitoring --------------------------------------------------------------------

    def enable_enhanced_monitoring(
        self,
        ctx: RequestContext,
        *,
        shard_level_metrics: list[str],
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        return self._monitoring(ctx, stream_name, stream_arn, shard_level_metrics, enable=True)

    def disable_enhanced_monitoring(
        self,
        ctx: RequestContext,
        *,
        shard_level_metrics: list[str],
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        return self._monitoring(ctx, stream_name, stream_arn, shard_level_metrics, enable=False)

    def _monitoring(
        self, ctx: RequestContext, stream_name: str | None, stream_arn: str | None, metrics: list[str], enable: bool
    ) -> dict[str, Any]:
        chosen = set(METRICS) if "ALL" in metrics else set(metrics)
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._active(ctx, store, stream_name, stream_arn, now)
            current = sorted(stream.metrics)
            stream.metrics = stream.metrics | chosen if enable else stream.metrics - chosen
            desired = sorted(stream.metrics)
        return {
            "StreamName": stream.name,
            "CurrentShardLevelMetrics": current,
            "DesiredShardLevelMetrics": desired,
            "StreamARN": stream.arn,
        }

    # -- limits and account settings -----------------------------------------------------------

    def describe_limits(self, ctx: RequestContext, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            self._settle_all(store, now)
            open_shards = sum(len(s.open_shards) for s in store.streams.values())
            on_demand = sum(1 for s in store.streams.values() if s.mode == "ON_DEMAND")
            channels = len(self._settled_channels(store, now))
        return {
            "ShardLimit": self._shard_limit(ctx.region),  # type: ignore[attr-defined]
            "OpenShardCount": open_shards,
            "OnDemandStreamCount": on_demand,
            "OnDemandStreamCountLimit": limits.ON_DEMAND_STREAM_LIMIT,
            "ChannelCount": channels,
            "ChannelCountLimit": CHANNEL_COUNT_LIMIT,
        }

    def _commitment(self, store: KinesisStore, now: float) -> dict[str, Any]:
        settings = store.settings
        if (
            settings.commitment_status == "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
            and settings.earliest_end_at is not None
            and now >= settings.earliest_end_at
        ):
            settings.commitment_status = "DISABLED"
            settings.ended_at = settings.earliest_end_at
        out: dict[str, Any] = {"Status": settings.commitment_status}
        if settings.commitment_status != "DISABLED" or settings.started_at is not None:
            if settings.started_at is not None:
                out["StartedAt"] = settings.started_at
            if settings.earliest_end_at is not None:
                out["EarliestAllowedEndAt"] = settings.earliest_end_at
            if settings.commitment_status == "DISABLED" and settings.ended_at is not None:
                out["EndedAt"] = settings.ended_at
        return out

    def describe_account_settings(self, ctx: RequestContext, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            return {"MinimumThroughputBillingCommitment": self._commitment(store, clock.now())}

    def update_account_settings(
        self, ctx: RequestContext, *, minimum_throughput_billing_commitment: dict[str, str], **_: Any
    ) -> dict[str, Any]:
        wanted = minimum_throughput_billing_commitment["Status"]
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            settings = store.settings
            self._commitment(store, now)
            if wanted == "ENABLED":
                if settings.commitment_status == "DISABLED":
                    settings.started_at = now
                    settings.earliest_end_at = now + _COMMITMENT_SECONDS
                    settings.ended_at = None
                settings.commitment_status = "ENABLED"
            elif settings.commitment_status != "DISABLED":
                if settings.earliest_end_at is not None and now < settings.earliest_end_at:
                    settings.commitment_status = "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
                else:
                    settings.commitment_status = "DISABLED"
                    settings.ended_at = now
            return {"MinimumThroughputBillingCommitment": self._commitment(store, now)}

    # -- throughput and record size ------------------------------------------------------------

    def update_stream_warm_throughput(
        self,
        ctx: RequestContext,
        *,
        warm_throughput_mi_bps: int,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._active(ctx, store, stream_name, stream_arn, now)
            if stream.mode != "ON_DEMAND":
                raise InvalidArgumentException(
                    f"Warm throughput can only be configured for ON_DEMAND streams. Stream {stream.name} under "
                    f"account {ctx.account} is in PROVISIONED mode."
                )
            stream.warm_throughput_target = warm_throughput_mi_bps
            stream.warm_throughput_current = warm_throughput_mi_bps
            return {
                "StreamARN": stream.arn,
                "StreamName": stream.name,
                "WarmThroughput": {"TargetMiBps": warm_throughput_mi_bps, "CurrentMiBps": warm_throughput_mi_bps},
            }

    def update_max_record_size(
        self,
        ctx: RequestContext,
        *,
        max_record_size_in_ki_b: int,
        stream_arn: str | None = None,
        stream_name: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._active(ctx, store, stream_name, stream_arn, now)
            stream.max_record_kib = max_record_size_in_ki_b
        return {}

    # -- record distribution ------------------------------------------------------------------

    def update_stream_record_distribution_strategy(
        self,
        ctx: RequestContext,
        *,
        stream_arn: str,
        record_distribution_strategy: str,
        **_: Any,
    ) -> dict[str, Any]:
        """Takes effect at once (no UPDATING state): records already written keep their shards."""
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._active(ctx, store, None, stream_arn, now)
            if record_distribution_strategy == "AUTO" and stream.mode != "ON_DEMAND":
                raise InvalidArgumentException(auto_needs_on_demand(stream.name, ctx.account))
            stream.distribution = record_distribution_strategy
        return {}

    # -- resource policies ---------------------------------------------------------------------

    def _policy_resource(self, ctx: RequestContext, store: KinesisStore, resource_arn: str, now: float) -> str:
        """Checks that the stream, consumer or queue exists; returns its ARN."""
        if ":queue/" in resource_arn:  # the model's queue pattern: arn:aws.*:kinesis:.*:\d{12}:queue/\S+
            return self._queue(ctx, store, resource_arn, now).arn  # type: ignore[attr-defined]
        consumer = parse_consumer_arn(resource_arn)
        if consumer is not None:
            _, _, stream_name, consumer_name = consumer
            stream = store.streams.get(stream_name)
            found = (
                stream is not None
                and self._settle(store, stream, now)
                and stream.consumers.get(consumer_name) is not None
                and stream.consumers[consumer_name].arn == resource_arn
            )
            if not found:
                raise ResourceNotFoundException(f"Consumer {resource_arn} not found.")
            return resource_arn
        if parse_stream_arn(resource_arn) is None:
            raise InvalidArgumentException(f"Invalid ResourceARN: {resource_arn}")
        stream: Stream = self._find(ctx, store, None, resource_arn, now)
        return stream.arn

    def put_resource_policy(self, ctx: RequestContext, *, resource_arn: str, policy: str, **_: Any) -> dict[str, Any]:
        try:
            document = json.loads(policy)
        except ValueError:
            document = None
        if not isinstance(document, dict) or "Statement" not in document:
            raise InvalidArgumentException("Policy is not a valid JSON policy document.")
        store = self._store(ctx)
        with store.lock:
            arn = self._policy_resource(ctx, store, resource_arn, clock.now())
            store.policies[arn] = policy
        return {}

    def get_resource_policy(self, ctx: RequestContext, *, resource_arn: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            arn = self._policy_resource(ctx, store, resource_arn, clock.now())
            return {"Policy": store.policies.get(arn, "{}")}

    def delete_resource_policy(self, ctx: RequestContext, *, resource_arn: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            arn = self._policy_resource(ctx, store, resource_arn, clock.now())
            if arn not in store.policies:
                raise ResourceNotFoundException(f"No resource policy found for resource ARN {resource_arn}.")
            del store.policies[arn]
        return {}
