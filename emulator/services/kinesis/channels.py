"""Channels: managed delivery from an on-demand stream to Amazon S3 or to S3 Tables (Apache Iceberg).

CreateChannel, DescribeChannel, ListChannels, UpdateChannel and DeleteChannel, with the states AWS
documents: CREATING and UPDATING end, and DELETING ends in removal, after
``--kinesis-transition-seconds``, settled lazily on the next look like a stream's. FAILED is in the
model but nothing here fails (no bucket, role or schema is checked), so no channel reaches it.

Neither S3 nor S3 Tables is served here, so a channel records what it would have written. A channel
delivers only records that arrive once it is ACTIVE (AWS: no backfill), from every shard of its
stream. A batch opens with the earliest record not yet written and holds every record that arrived
within ``DataFreshnessInSeconds`` of it (default 300, 300 to 900 allowed); it is written once the
emulator's clock passes that interval. With ``JSON`` records, those that are not valid JSON go to the
dead-letter bucket instead, and with ``STRING`` those that are not UTF-8 (AWS validates both).

- S3: one object per batch, records in their source format (no transformation), under the key made
  from ``OutputKeyTemplate`` or AWS's default
  ``kinesis-channel/!{channel-name}/!{channel-id}/!{yyyy}/!{MM}/!{dd}/!{HH}/!{channel-name}-!{channel-id}-!{yyyy}-!{MM}-!{dd}-!{HH}-!{mm}!{extension}``.
  The time is the batch's first arrival, in UTC; ``!{extension}`` is the compression's (``.gz``,
  ``.zst``, none for NONE); other ``!{...}`` are left as written. AWS appends a unique suffix to each
  key; the emulator's is ``-`` and the batch's number in six digits.
- S3 Tables: one commit of Parquet data files per batch to the one table, compressed as configured.

Written batches are computed when they are asked for (the admin endpoint below, or an UpdateChannel
or DeleteChannel that ends an interval), never by a thread. A channel keeps a cursor per shard (the
first counter not yet written), so a look costs a binary search per shard per batch plus the records
written since the last look, however long the stream's history. The last 1,000 batches per channel
are kept, and a deleted channel's batches stay visible (100 deleted channels per account and region).

Admin endpoint (JSON; ``account`` and ``region`` default to the server's defaults):

``GET /_emulator/kinesis/channels?account=&region=&channel=<name or ARN>``: each channel (all of
them, or the one named, including deleted ones, whose status is ``DELETED``) with ``channelName``,
``channelARN``, ``channelId``, ``status``, ``destinationType``, ``streamARN``, ``buffered`` (records
that arrived but are not yet in a batch) and ``batches``, oldest first. A batch has ``sequence``,
``writtenAt`` (epoch seconds), ``deadLetter``, ``destination`` (bucket or table, ``format``, compression,
storage class), ``key`` (S3 objects only) and ``records``, each with ``sequenceNumber``, ``shardId``,
``approximateArrivalTimestamp``, ``partitionKey`` (when it had one), ``data`` (base64), ``text``
(JSON and STRING records that are UTF-8) and ``error`` (dead-lettered records). A named channel that
does not exist answers 404.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from bisect import bisect_left
from datetime import datetime, timezone
from typing import Any

from emulator import clock
from emulator.context import RequestContext, partition_for
from emulator.services import pagination
from emulator.services.kinesis import limits
from emulator.services.kinesis.common import KinesisBase, parse_stream_arn
from emulator.services.kinesis.errors import (
    ExpiredNextTokenException,
    InvalidArgumentException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from emulator.services.kinesis.models import Channel, ChannelBatch, KinesisStore, Shard, Stream, to_millis
from emulator.services.kinesis.tagging import check_tags

# One channel per destination type per stream, so at most two per on-demand stream (AWS, "Delivery
# quotas and limits"): the account's channels are bounded by twice its on-demand streams.
CHANNELS_PER_STREAM = 2
CHANNEL_COUNT_LIMIT = CHANNELS_PER_STREAM * limits.ON_DEMAND_STREAM_LIMIT
DEFAULT_FRESHNESS = 300
MIN_FRESHNESS, MAX_FRESHNESS = 300, 900
LIST_CHANNELS_MAX = 100
DELETED_CHANNELS_KEPT = 100
DEFAULT_KEY_TEMPLATE = (
    "kinesis-channel/!{channel-name}/!{channel-id}/!{yyyy}/!{MM}/!{dd}/!{HH}/"
    "!{channel-name}-!{channel-id}-!{yyyy}-!{MM}-!{dd}-!{HH}-!{mm}!{extension}"
)
DEFAULT_LOG_STREAM = "DestinationDelivery"
_EXTENSIONS = {"NONE": "", "GZIP": ".gz", "ZSTD": ".zst"}
# Which record formats each destination takes (RecordConfiguration's documentation).
_FORMATS = {"S3": ("JSON", "STRING", "BYTE_ARRAY"), "S3_TABLES": ("GSR_JSON", "JSON")}
_CHANNEL_ARN = re.compile(r"^arn:[^:]+:kinesis:([^:]*):(\d{12}):channel/([a-zA-Z0-9_.-]+)$")
_TABLE_BUCKET_REGION = re.compile(r"^arn:[^:]+:s3tables:([^:]+):")
_VARIABLE = re.compile(r"!\{([^}]*)\}")


def channel_not_found(arn: str, account: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Channel {arn} under account {account} not found.")


def _freshness(value: int | None) -> int:
    if value is None:
        return DEFAULT_FRESHNESS
    if not MIN_FRESHNESS <= value <= MAX_FRESHNESS:
        raise InvalidArgumentException(
            f"DataFreshnessInSeconds must be between {MIN_FRESHNESS} and {MAX_FRESHNESS} seconds. "
            f"Specified value was {value}."
        )
    return value


def _logging(name: str, channel_id: str, given: dict[str, Any] | None) -> dict[str, Any]:
    """LoggingConfiguration as described: off unless asked for, with AWS's default group and stream."""
    logs = dict((given or {}).get("CloudWatchLogs") or {"Enabled": False})
    if logs.get("Enabled"):
        logs.setdefault("LogGroupName", f"/aws/kinesis/{name}/{channel_id}")
        logs.setdefault("LogStreamName", DEFAULT_LOG_STREAM)
    return {"CloudWatchLogs": logs}


def _validated(data: bytes, record_format: str) -> tuple[str | None, str | None]:
    """(text, error) of a record: the checks AWS makes before writing (JSON parses, STRING is UTF-8)."""
    if record_format not in ("JSON", "STRING"):
        return None, None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "The record is not a valid UTF-8 string."
    if record_format == "JSON":
        try:
            json.loads(text)
        except ValueError:
            return text, "The record is not a valid JSON payload."
    return text, None


class ChannelsMixin(KinesisBase):
    # -- state ---------------------------------------------------------------------------------

    def _settle_channel(self, store: KinesisStore, channel: Channel, now: float) -> bool:
        """Completes the channel's due transition; False once it is deleted."""
        if channel.status == "ACTIVE" or now < channel.ready_at:
            return True
        if channel.status == "DELETING":
            if store.channels.get(channel.name) is channel:
                del store.channels[channel.name]
                store.deleted_channels[channel.channel_id] = channel
                if len(store.deleted_channels) > DELETED_CHANNELS_KEPT:
                    del store.deleted_channels[next(iter(store.deleted_channels))]
            return False
        if channel.status == "CREATING":
            channel.active_from = to_millis(channel.ready_at)  # as arrival times are kept
        else:  # UPDATING: batches closed before the change used the old freshness
            self._write_due(store, channel, channel.ready_at, now)
            if channel.pending_freshness is not None:
                channel.config["DataFreshnessInSeconds"] = channel.pending_freshness
            if channel.pending_logging is not None:
                channel.logging = channel.pending_logging
            channel.pending_freshness = channel.pending_logging = None
        channel.status = "ACTIVE"
        return True

    def _settled_channels(self, store: KinesisStore, now: float) -> list[Channel]:
        return [c for c in list(store.channels.values()) if self._settle_channel(store, c, now)]

    def _channels_of(self, store: KinesisStore, stream: Stream, now: float) -> list[Channel]:
        return [
            c
            for c in self._settled_channels(store, now)
            if c.stream_name == stream.name and c.stream_nonce == stream.nonce
        ]

    def _channel(self, ctx: RequestContext, store: KinesisStore, channel_arn: str, now: float) -> Channel:
        match = _CHANNEL_ARN.match(channel_arn)
        channel = store.channels.get(match.group(3)) if match else None
        if (
            match is None
            or match.group(1) != ctx.region
            or match.group(2) != ctx.account
            or channel is None
            or not self._settle_channel(store, channel, now)
        ):
            raise channel_not_found(channel_arn, ctx.account)
        return channel

    # -- what a channel writes ----------------------------------------------------------------

    def _write_due(self, store: KinesisStore, channel: Channel, until: float, now: float) -> None:
        """Cuts the batches whose freshness interval ended by ``until`` (call under the store's lock)."""
        if channel.active_from is None or channel.status not in ("ACTIVE", "UPDATING"):
            return
        stream = store.streams.get(channel.stream_name)
        if stream is None or stream.nonce != channel.stream_nonce:
            return
        freshness = channel.freshness
        while True:
            heads = self._heads(stream, channel, now)
            if not heads:
                return
            opened = min(shard.times[index] for shard, index in heads)
            closes = opened + freshness
            if closes > until:
                return
            picked: list[tuple[float, int, int, Shard]] = []  # (arrival, counter, position, shard)
            for shard, index in heads:
                stop = bisect_left(shard.times, closes, lo=index)
                picked += [(shard.times[at], shard.counters[at], at, shard) for at in range(index, stop)]
                if stop > index:
                    channel.cursors[shard.index] = shard.counters[stop - 1] + 1
            # Counters are the stream's, so (arrival, counter) is the order the records were written in.
            picked.sort(key=lambda r: r[:2])
            self._emit(channel, picked, closes)

    def _heads(self, stream: Stream, channel: Channel, now: float) -> list[tuple[Shard, int]]:
        """(shard, index of its first record not yet written) for the shards that have one."""
        heads = []
        for shard in stream.shards:
            floor = max(channel.active_from or 0.0, stream.horizon(shard, now))
            index = max(shard.index_at_counter(channel.cursors.get(shard.index, 0)), shard.index_at_time(floor))
            if index < len(shard.counters):
                heads.append((shard, index))
        return heads

    def _emit(self, channel: Channel, picked: list[tuple[float, int, int, Shard]], closes: float) -> None:
        """Appends the batch of ``picked`` records (and its dead-lettered ones) as written at ``closes``."""
        record_format = channel.record_configuration["RecordFormatType"]
        good: list[tuple[str, str, float, bytes, str, str | None]] = []
        bad: list[tuple[str, str, float, bytes, str, str | None]] = []
        for arrival, counter, at, shard in picked:
            data = shard.datas[at]
            _, error = _validated(data, record_format)
            number = shard.sequence_number(counter)
            (bad if error else good).append((number, shard.shard_id, arrival, data, shard.keys[at], error))
        for records, dead in ((good, False), (bad, True)):
            if not records:
                continue
            channel.written += 1
            destination, key = self._destination(channel, records[0][2], dead)
            channel.batches.append(ChannelBatch(channel.written, closes, dead, destination, key, records))

    def _destination(self, channel: Channel, first_arrival: float, dead: bool) -> tuple[dict[str, Any], str | None]:
        config = channel.config
        if dead:
            return {"type": "S3", **config["DeadLetterQueueS3Configuration"]}, None
        if channel.destination_type == "S3_TABLES":
            table = config["S3TablesConfigurationList"][0]
            return {"type": "S3_TABLES", "format": "PARQUET", **table}, None
        storage = config["StorageConfiguration"]
        destination = {
            "type": "S3",
            "format": channel.record_configuration["RecordFormatType"],
            "StorageClass": storage.get("StorageClass", "STANDARD"),
            **storage,
        }
        return destination, self._object_key(channel, storage, first_arrival)

    def _object_key(self, channel: Channel, storage: dict[str, Any], first_arrival: float) -> str:
        at = datetime.fromtimestamp(first_arrival, tz=timezone.utc)
        values = {
            "channel-name": channel.name,
            "channel-id": channel.channel_id,
            "yyyy": f"{at.year:04d}",
            "MM": f"{at.month:02d}",
            "dd": f"{at.day:02d}",
            "HH": f"{at.hour:02d}",
            "mm": f"{at.minute:02d}",
            "extension": _EXTENSIONS.get(storage["CompressionType"], ""),
        }
        template = storage.get("OutputKeyTemplate") or DEFAULT_KEY_TEMPLATE
        key = _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), template)
        return f"{key}-{channel.written:06d}"

    def _buffered(self, store: KinesisStore, channel: Channel, now: float) -> int:
        stream = store.streams.get(channel.stream_name)
        if channel.active_from is None or stream is None or stream.nonce != channel.stream_nonce:
            return 0
        return sum(len(shard.counters) - index for shard, index in self._heads(stream, channel, now))

    # -- operations ----------------------------------------------------------------------------

    def create_channel(
        self,
        ctx: RequestContext,
        *,
        channel_name: str,
        service_execution_role_arn: str,
        stream_configuration_list: list[dict[str, Any]],
        s3_destination_configuration: dict[str, Any] | None = None,
        s3_tables_destination_configuration: dict[str, Any] | None = None,
        encryption_configuration: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        logging_configuration: dict[str, Any] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        if (s3_destination_configuration is None) == (s3_tables_destination_configuration is None):
            raise InvalidArgumentException(
                "Exactly one of S3DestinationConfiguration and S3TablesDestinationConfiguration must be specified."
            )
        if len(stream_configuration_list) != 1:
            raise InvalidArgumentException("StreamConfigurationList must contain exactly one stream.")
        source = stream_configuration_list[0]
        kind = "S3" if s3_destination_configuration is not None else "S3_TABLES"
        record_configuration = dict(source["RecordConfiguration"])
        record_format = record_configuration["RecordFormatType"]
        if record_format not in _FORMATS[kind]:
            raise InvalidArgumentException(
                f"RecordFormatType {record_format} is not supported for {kind} destinations."
            )
        if kind == "S3_TABLES":
            if record_format == "JSON" and not record_configuration.get("GSRSchemaARN"):
                raise InvalidArgumentException(
                    "GSRSchemaARN is required when RecordFormatType is JSON for S3_TABLES destinations."
                )
            if len(s3_tables_destination_configuration["S3TablesConfigurationList"]) != 1:  # type: ignore[index]
                raise InvalidArgumentException("S3TablesConfigurationList must contain exactly one table.")
        if encryption_configuration and encryption_configuration["KeyId"] in ("aws/kinesis", "alias/aws/kinesis"):
            raise InvalidArgumentException(
                "The AWS managed key aws/kinesis cannot encrypt a channel's destination. "
                "Specify a customer managed KMS key."
            )
        if tags:
            check_tags(tags, f"channel {channel_name}")
        config = self._destination_config(kind, s3_destination_configuration, s3_tables_destination_configuration)
        stream_arn = source["StreamARN"]
        parsed = parse_stream_arn(stream_arn)
        if parsed is None:
            raise InvalidArgumentException(f"Invalid StreamARN: {stream_arn}")
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._active(ctx, store, None, stream_arn, now)
            if stream.mode != "ON_DEMAND":
                raise InvalidArgumentException(
                    f"Channels are only supported for streams in ON_DEMAND mode. Stream {stream.name} under "
                    f"account {ctx.account} is in {stream.mode} mode."
                )
            if kind == "S3_TABLES":
                self._check_table_region(config, ctx.region)
            live = self._settled_channels(store, now)
            if channel_name in store.channels:
                raise ResourceInUseException(f"Channel {channel_name} under account {ctx.account} already exists.")
            if any(c.destination_type == kind for c in self._channels_of(store, stream, now)):
                raise LimitExceededException(
                    f"Stream {stream.name} under account {ctx.account} already has a channel to {kind}. "
                    "A stream can have one channel per destination type."
                )
            if len(live) >= CHANNEL_COUNT_LIMIT:
                raise LimitExceededException(
                    f"This request would exceed the limit of {CHANNEL_COUNT_LIMIT} channels "
                    f"for the account {ctx.account} in {ctx.region}."
                )
            channel_id = str(uuid.uuid4())
            channel = Channel(
                name=channel_name,
                arn=f"arn:{partition_for(ctx.region)}:kinesis:{ctx.region}:{ctx.account}:channel/{channel_name}",
                channel_id=channel_id,
                created_at=now,
                role_arn=service_execution_role_arn,
                stream_name=stream.name,
                stream_arn=stream.arn,
                stream_nonce=stream.nonce,
                stream_created_at=stream.created_at,
                record_configuration=record_configuration,
                destination_type=kind,
                config=config,
                logging=_logging(channel_name, channel_id, logging_configuration),
                encryption=dict(encryption_configuration) if encryption_configuration else None,
                tags=dict(tags or {}),
                ready_at=now + self._transition_seconds(),
            )
            store.channels[channel_name] = channel
            description = self._describe(channel)  # CREATING, as AWS answers
            self._settle_channel(store, channel, now)
        return {"ChannelDescription": description}

    def _destination_config(
        self, kind: str, s3: dict[str, Any] | None, tables: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The destination as DescribeChannel reports it, defaults filled in."""
        if kind == "S3":
            assert s3 is not None
            storage = dict(s3["StorageConfiguration"])
            # Without a dead-letter bucket, AWS uses the destination bucket (with an error prefix).
            dead_letter = s3.get("DeadLetterQueueS3Configuration") or {
                "BucketARN": storage["BucketARN"],
                "ExpectedBucketOwner": storage["ExpectedBucketOwner"],
            }
            return {
                "DataFreshnessInSeconds": _freshness(s3.get("DataFreshnessInSeconds")),
                "DeadLetterQueueS3Configuration": dict(dead_letter),
                "StorageConfiguration": storage,
            }
        assert tables is not None
        return {
            "DataFreshnessInSeconds": _freshness(tables.get("DataFreshnessInSeconds")),
            "DeadLetterQueueS3Configuration": dict(tables["DeadLetterQueueS3Configuration"]),
            "S3TablesConfigurationList": [dict(t) for t in tables["S3TablesConfigurationList"]],
        }

    def _check_table_region(self, config: dict[str, Any], region: str) -> None:
        """AWS delivers within the stream's Region only; a table bucket's ARN names its Region."""
        bucket = config["S3TablesConfigurationList"][0]["TableBucketARN"]
        match = _TABLE_BUCKET_REGION.match(bucket)
        if match and match.group(1) != region:
            raise InvalidArgumentException(
                f"TableBucketARN {bucket} is not in the stream's Region {region}. "
                "Cross-Region delivery is not supported."
            )

    def _describe(self, channel: Channel) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ChannelName": channel.name,
            "ChannelARN": channel.arn,
            "ChannelId": channel.channel_id,
            "ChannelStatus": channel.status,
            "ChannelCreationTimestamp": channel.created_at,
            "ServiceExecutionRoleARN": channel.role_arn,
            "StreamConfigurationList": [
                {
                    "StreamARN": channel.stream_arn,
                    "StreamCreationTimestamp": channel.stream_created_at,
                    "RecordConfiguration": dict(channel.record_configuration),
                }
            ],
            "LoggingConfiguration": json.loads(json.dumps(channel.logging)),
        }
        member = ("S3DestinationConfiguration" if channel.destination_type == "S3"
                  else "S3TablesDestinationConfiguration")
        out[member] = json.loads(json.dumps(channel.config))
        if channel.encryption:
            out["EncryptionConfiguration"] = dict(channel.encryption)
        return out

    def describe_channel(self, ctx: RequestContext, *, channel_arn: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            return {"ChannelDescription": self._describe(self._channel(ctx, store, channel_arn, clock.now()))}

    def list_channels(
        self,
        ctx: RequestContext,
        *,
        stream_filter: list[dict[str, Any]] | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        wanted = [[f["StreamARN"], _seconds(f.get("StreamCreationTimestamp"))] for f in stream_filter or []] or None
        after = None
        now = clock.now()
        if next_token:
            after, wanted = _decode_list_token(next_token, now)
        store = self._store(ctx)
        with store.lock:
            channels = sorted(self._settled_channels(store, now), key=lambda c: c.name)
            if wanted is not None:
                channels = [c for c in channels if any(_from_stream(c, arn, created) for arn, created in wanted)]
            if after is not None:
                channels = [c for c in channels if c.name > after]
            page = channels[: min(max_results or LIST_CHANNELS_MAX, LIST_CHANNELS_MAX)]
            summaries = [
                {
                    "ChannelName": c.name,
                    "ChannelARN": c.arn,
                    "ChannelId": c.channel_id,
                    "ChannelStatus": c.status,
                    "ChannelCreationTimestamp": c.created_at,
                    "ChannelDestinationType": c.destination_type,
                    "Streams": [{"StreamARN": c.stream_arn, "StreamCreationTimestamp": c.stream_created_at}],
                }
                for c in page
            ]
        out: dict[str, Any] = {"ChannelSummaries": summaries}
        if len(channels) > len(page):
            out["NextToken"] = pagination.sign(
                {"kind": "channels", "after": page[-1].name, "filter": wanted, "issued": now}
            )
        return out

    def update_channel(
        self,
        ctx: RequestContext,
        *,
        channel_arn: str,
        s3_destination_configuration: dict[str, Any] | None = None,
        s3_tables_destination_configuration: dict[str, Any] | None = None,
        logging_configuration: dict[str, Any] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        given = {"S3": s3_destination_configuration, "S3_TABLES": s3_tables_destination_configuration}
        if not any(given.values()) and logging_configuration is None:
            raise InvalidArgumentException(
                "At least one of S3DestinationConfiguration, S3TablesDestinationConfiguration or "
                "LoggingConfiguration must be specified."
            )
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            channel = self._channel(ctx, store, channel_arn, now)
            if channel.status != "ACTIVE":
                raise ResourceInUseException(
                    f"Channel {channel.name} under account {ctx.account} not ACTIVE, instead in state {channel.status}"
                )
            for kind, update in given.items():
                if update is not None and kind != channel.destination_type:
                    member = "S3DestinationConfiguration" if kind == "S3" else "S3TablesDestinationConfiguration"
                    raise InvalidArgumentException(
                        f"Channel {channel.name} delivers to {channel.destination_type}; {member} does not apply to it."
                    )
            update = given[channel.destination_type]
            freshness = _freshness(update["DataFreshnessInSeconds"]) if update is not None else None
            self._write_due(store, channel, now, now)
            channel.pending_freshness = freshness
            if logging_configuration is not None:
                channel.pending_logging = _logging(channel.name, channel.channel_id, logging_configuration)
            channel.status = "UPDATING"
            channel.ready_at = now + self._transition_seconds()
            description = self._describe(channel)  # UPDATING, as AWS answers
            self._settle_channel(store, channel, now)
        return {"ChannelDescription": description}

    def delete_channel(self, ctx: RequestContext, *, channel_arn: str, **_: Any) -> dict[str, Any]:
        """Delivery stops at once: batches whose interval is over are written, the rest is not."""
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            channel = self._channel(ctx, store, channel_arn, now)
            if channel.status != "DELETING":
                self._write_due(store, channel, now, now)
                channel.status = "DELETING"
                channel.ready_at = now + self._transition_seconds()
                self._settle_channel(store, channel, now)
        return {}

    # -- admin ---------------------------------------------------------------------------------

    def admin(self, method: str, path: str, args: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        if path != "channels":
            return 404, {"error": f"no admin endpoint /_emulator/kinesis/{path}"}
        if method != "GET":
            return 405, {"error": f"method {method} not allowed on /_emulator/kinesis/{path}"}
        account = args.get("account") or self.config.default_account
        region = args.get("region") or self.config.default_region
        named = args.get("channel")
        store = self._stores.get(account, region)
        now = clock.now()
        with store.lock:
            live = self._settled_channels(store, now)
            for channel in live:
                self._write_due(store, channel, now, now)
            everyone = list(store.deleted_channels.values()) + live
            if named:
                everyone = [c for c in everyone if named in (c.name, c.arn)]
                if not everyone:
                    return 404, {"error": f"no channel {named} in account {account}, region {region}"}
            return 200, {"channels": [self._admin_view(store, c, now) for c in everyone]}

    def _admin_view(self, store: KinesisStore, channel: Channel, now: float) -> dict[str, Any]:
        deleted = store.channels.get(channel.name) is not channel
        return {
            "channelName": channel.name,
            "channelARN": channel.arn,
            "channelId": channel.channel_id,
            "status": "DELETED" if deleted else channel.status,
            "destinationType": channel.destination_type,
            "streamARN": channel.stream_arn,
            "buffered": 0 if deleted or channel.status == "DELETING" else self._buffered(store, channel, now),
            "batches": [_batch_view(batch, channel) for batch in channel.batches],
        }


def _batch_view(batch: ChannelBatch, channel: Channel) -> dict[str, Any]:
    record_format = channel.record_configuration["RecordFormatType"]
    records = []
    for number, shard_id, arrival, data, key, error in batch.records:
        record: dict[str, Any] = {
            "sequenceNumber": number,
            "shardId": shard_id,
            "approximateArrivalTimestamp": arrival,
            "data": base64.b64encode(data).decode("ascii"),
        }
        if key:
            record["partitionKey"] = key
        text, _ = _validated(data, record_format) if record_format in ("JSON", "STRING") else (None, None)
        if text is not None:
            record["text"] = text
        if error:
            record["error"] = error
        records.append(record)
    out: dict[str, Any] = {
        "sequence": batch.sequence,
        "writtenAt": batch.written_at,
        "deadLetter": batch.dead_letter,
        "destination": batch.destination,
        "records": records,
    }
    if batch.key is not None:
        out["key"] = batch.key
    return out


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _from_stream(channel: Channel, stream_arn: str, created: float | None) -> bool:
    """Whether ``channel`` reads the stream a StreamFilter names (to the second, as clients send it)."""
    return channel.stream_arn == stream_arn and (created is None or int(created) == int(channel.stream_created_at))


def _decode_list_token(token: str, now: float) -> tuple[str, list[list[Any]] | None]:
    """(last name of the previous page, its stream filter) from a ListChannels token we issued."""
    try:
        payload = pagination.verify(token)
    except pagination.InvalidToken:
        payload = None
    well_formed = (
        isinstance(payload, dict)
        and set(payload) == {"kind", "after", "filter", "issued"}
        and payload["kind"] == "channels"
        and isinstance(payload["after"], str)
        and isinstance(payload["issued"], (int, float))
        and (payload["filter"] is None or isinstance(payload["filter"], list))
    )
    if not well_formed:
        raise InvalidArgumentException(f"Invalid NextToken: {token}")
    if now - payload["issued"] > limits.NEXT_TOKEN_LIFETIME:
        raise ExpiredNextTokenException(f"The NextToken has expired: {token}")
    return payload["after"], payload["filter"]
