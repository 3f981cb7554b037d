"""PutRecord, PutRecords, GetShardIterator and GetRecords: the data plane.

Writes take the store's lock for a few microseconds (find the shard by binary search over the open
shards' starting hash keys, take the next counter, append to the shard's arrays); sequence number
strings are built after the lock is released. Reads find their start by binary search, so their cost
does not depend on how many records a shard holds.

A stream's record distribution strategy decides the shard: USER_PARTITION_KEY (the default) hashes the
partition key (or takes the explicit hash key); AUTO, for on-demand streams only, ignores both and
deals records to the open shards in turn, and lets producers leave the partition key out.

Each of the four takes ``dry_run``: the same checks (input, stream, shard, iterator) run, then
``DryRunOperationException`` is raised before anything is written, read, placed or counted against a
shard's throughput (AWS meters dry runs apart from it; docs: kds-dryrun-validation).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from emulator import clock
from emulator.context import RequestContext
from emulator.services.kinesis import iterators, limits, sequence, shards
from emulator.services.kinesis.common import KinesisBase, normalized_shard_id, parse_stream_arn
from emulator.services.kinesis.errors import (
    InvalidArgumentException,
    ProvisionedThroughputExceededException,
    ResourceNotFoundException,
    ValidationException,
    dry_run_passed,
)
from emulator.services.kinesis.expiry import Sweeper
from emulator.services.kinesis.models import KinesisStore, Shard, Stream, to_millis

_ITERATOR_TYPES_WITH_SEQUENCE = ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


def _epoch(value: Any) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.timestamp()
    return float(value)


def _hash_for(explicit_hash_key: str | None, partition_key: str) -> int:
    if explicit_hash_key is None:
        return sequence.hash_key(partition_key)
    try:
        value = int(explicit_hash_key)
    except ValueError:
        value = -1
    if not 0 <= value <= sequence.MAX_HASH_KEY:
        raise InvalidArgumentException(
            "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
            f"Specified value was {explicit_hash_key}"
        )
    return value


def _auto_shard(stream: Stream) -> Shard:
    """Where the AUTO strategy puts the next record: the open shards in turn, by starting hash key.

    AWS documents only that records are spread "evenly"; round-robin is exactly even and lets a test
    predict the shard of each record. Partition keys and explicit hash keys play no part.
    """
    shard = stream.open_shards[stream.auto_turn % len(stream.open_shards)]
    stream.auto_turn += 1
    return shard


def _rate_exceeded(stream: Stream, shard: Shard) -> str:
    return f"Rate exceeded for shard {shard.shard_id} in stream {stream.name} under account {stream.account}."


class RecordsMixin(KinesisBase):
    _sweeper: Sweeper  # the provider's (expiry.py): started with the first record written

    def _check_record_size(self, stream: Stream, data: bytes, partition_key: str) -> int:
        size = len(data) + len(partition_key.encode("utf-8"))
        maximum = stream.max_record_kib * 1024
        if size > maximum:
            raise InvalidArgumentException(
                f"Record size {size} bytes exceeds the maximum record size of {maximum} bytes "
                f"for stream {stream.name} under account {stream.account}."
            )
        return size

    def _append(self, store: KinesisStore, stream: Stream, shard: Shard, data: bytes, key: str, now: float) -> int:
        """Appends one record arriving at ``now`` (kept to the millisecond, as it will be answered)."""
        counter = stream.next_counter()
        shard.append(counter, to_millis(now), data, key)
        self._sweeper.ensure_started()
        return counter

    def put_record(
        self,
        ctx: RequestContext,
        *,
        data: bytes,
        partition_key: str | None = None,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        explicit_hash_key: str | None = None,
        sequence_number_for_ordering: str | None = None,
        dry_run: bool | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        key_hash = None if partition_key is None else _hash_for(explicit_hash_key, partition_key)
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            stream = self._readable(ctx, store, stream_name, stream_arn, now)
            size = self._check_record_size(stream, data, partition_key or "")
            if stream.auto_distribution:
                if sequence_number_for_ordering is not None:
                    raise InvalidArgumentException(
                        f"SequenceNumberForOrdering cannot be used in PutRecord on stream {stream.name} under "
                        f"account {ctx.account} because the stream uses the AUTO record distribution strategy."
                    )
            elif key_hash is None:
                raise _partition_key_required("partitionKey")
            elif sequence_number_for_ordering is not None:
                decoded = sequence.decode(sequence_number_for_ordering)
                if decoded is None or decoded.counter > stream.counter:
                    raise InvalidArgumentException(
                        f"ExclusiveMinimumSequenceNumber {sequence_number_for_ordering} used in PutRecord on "
                        f"stream {stream.name} under account {ctx.account} is invalid."
                    )
            if dry_run:  # before placing: an AUTO stream's turn must not move
                raise dry_run_passed()
            shard = _auto_shard(stream) if stream.auto_distribution else stream.shard_for_hash(key_hash)  # type: ignore[arg-type]
            if self.config.kinesis_throughput_limits and not limits.admit_write(shard, size, now):
                raise ProvisionedThroughputExceededException(_rate_exceeded(stream, shard))
            counter = self._append(store, stream, shard, data, partition_key or "", now)
            encryption = stream.encryption_type
            store.wake()
        return {
            "ShardId": shard.shard_id,
            "SequenceNumber": sequence.make(shard.base, counter),
            "EncryptionType": encryption,
        }

    def put_records(
        self,
        ctx: RequestContext,
        *,
        records: list[dict[str, Any]],
        stream_name: str | None = None,
        stream_arn: str | None = None,
        dry_run: bool | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        # Hashed before the lock; a record without a partition key has none (AUTO streams place it).
        hashes = [
            None if r.get("PartitionKey") is None else _hash_for(r.get("ExplicitHashKey"), r["PartitionKey"])
            for r in records
        ]
        keys = [r.get("PartitionKey") or "" for r in records]
        store = self._store(ctx)
        now = clock.now()
        limited = self.config.kinesis_throughput_limits
        placed: list[tuple[Shard, int] | str] = []
        with store.lock:
            stream = self._readable(ctx, store, stream_name, stream_arn, now)
            auto = stream.auto_distribution
            if not auto:
                for index, key_hash in enumerate(hashes, 1):
                    if key_hash is None:
                        raise _partition_key_required(f"records.{index}.member.partitionKey")
            sizes = [self._check_record_size(stream, r["Data"], key) for r, key in zip(records, keys, strict=True)]
            maximum = limits.PUT_RECORDS_MAX_BYTES
            if sum(sizes) > maximum:
                raise InvalidArgumentException(
                    f"Records size exceeds {maximum // limits.MIB} MB limit for a PutRecords request "
                    f"to stream {stream.name} under account {ctx.account}."
                )
            if dry_run:
                raise dry_run_passed()
            for record, key, key_hash, size in zip(records, keys, hashes, sizes, strict=True):
                shard = _auto_shard(stream) if auto else stream.shard_for_hash(key_hash)  # type: ignore[arg-type]
                if limited and not limits.admit_write(shard, size, now):
                    placed.append(_rate_exceeded(stream, shard))
                    continue
                placed.append((shard, self._append(store, stream, shard, record["Data"], key, now)))
            encryption = stream.encryption_type
            store.wake()
        results: list[dict[str, Any]] = []
        failed = 0
        for item in placed:
            if isinstance(item, str):
                failed += 1
                results.append({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": item})
            else:
                shard, counter = item
                results.append({"SequenceNumber": sequence.make(shard.base, counter), "ShardId": shard.shard_id})
        return {"FailedRecordCount": failed, "Records": results, "EncryptionType": encryption}

    def deliver_record(self, account: str, region: str, stream_arn: str, data: bytes, partition_key: str) -> dict:
        """PutRecord for other services (an EventBridge target), in the target's account and region.

        Called by ``emulator.delivery`` on a worker. The partition key (from a rule's
        PartitionKeyPath) gets the length check the protocol layer gives a client's; a
        ``ServiceError`` fails the delivery, and the producer's retry policy decides what follows.
        """
        if not 1 <= len(partition_key) <= 256:
            raise InvalidArgumentException(
                f"1 validation error detected: Value '{partition_key[:256]}' at 'partitionKey' failed to satisfy "
                "constraint: Member must have length between 1 and 256"
            )
        parsed = parse_stream_arn(stream_arn)
        if parsed is not None:
            region, account = parsed[0], parsed[1]
        ctx = RequestContext(service="kinesis", account=account, region=region, operation="PutRecord")
        return self.put_record(ctx, stream_arn=stream_arn, data=data, partition_key=partition_key)

    # -- reading --------------------------------------------------------------------------------

    def get_shard_iterator(
        self,
        ctx: RequestContext,
        *,
        shard_id: str,
        shard_iterator_type: str,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        starting_sequence_number: str | None = None,
        timestamp: Any = None,
        dry_run: bool | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        name = self._stream_name(ctx, stream_name, stream_arn)
        padded = normalized_shard_id(shard_id, name, ctx.account)
        missing = f"Shard {padded} in stream {name} under account {ctx.account} does not exist"
        with store.lock:
            try:
                stream = self._readable(ctx, store, stream_name, stream_arn, now)
            except ResourceNotFoundException:
                raise ResourceNotFoundException(missing) from None
            shard = stream.shard_by_id(padded)
            if shard is None:
                raise ResourceNotFoundException(missing)
            position = self._start_position(
                stream, shard, shard_iterator_type, starting_sequence_number, timestamp, now, "GetShardIterator"
            )
        if dry_run:
            raise dry_run_passed()
        token = iterators.encode(stream.name, stream.nonce, shard.index, position, int(now * 1000))
        return {"ShardIterator": token}

    def _start_position(
        self,
        stream: Stream,
        shard: Shard,
        kind: str,
        starting_sequence_number: str | None,
        timestamp: Any,
        now: float,
        operation: str,
    ) -> int:
        """The counter of the first record a reader starting at (kind, sequence number, timestamp) gets."""
        if kind in _ITERATOR_TYPES_WITH_SEQUENCE or (starting_sequence_number and kind != "AT_TIMESTAMP"):
            if not starting_sequence_number or kind not in _ITERATOR_TYPES_WITH_SEQUENCE:
                also = "also a" if starting_sequence_number else "no"
                raise InvalidArgumentException(
                    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber "
                    "or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
                    f"Request specified {kind} and {also} StartingSequenceNumber."
                )
            decoded = sequence.decode(starting_sequence_number)
            where = (
                f"StartingSequenceNumber {starting_sequence_number} used in {operation} on shard {shard.shard_id} "
                f"in stream {stream.name} under account {stream.account} is invalid"
            )
            if decoded is None:
                raise InvalidArgumentException(where + ".")
            if decoded.shard_index != shard.index:
                raise InvalidArgumentException(
                    f"Invalid StartingSequenceNumber. It encodes {sequence.shard_id(decoded.shard_index)}, "
                    f"while it was used in a call to a shard with {shard.shard_id}"
                )
            if decoded.nonce != stream.nonce & 0xFFFFFFFF:
                raise InvalidArgumentException(where + " because it did not come from this stream.")
            return decoded.counter if kind == "AT_SEQUENCE_NUMBER" else decoded.counter + 1
        if kind == "TRIM_HORIZON":
            return 0
        if kind == "LATEST":
            return stream.counter + 1
        if kind == "AT_TIMESTAMP":
            if timestamp is None:
                raise InvalidArgumentException(
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                    "Current request has no timestamp parameter."
                )
            when = to_millis(_epoch(timestamp))
            if when > now:
                raise InvalidArgumentException(
                    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. "
                    f"timestampInMillis: {int(when * 1000)}, currentTimestampInMillis: {int(now * 1000)}"
                )
            index = shard.index_at_time(when)
            return shard.counters[index] if index < len(shard.counters) else stream.counter + 1
        raise InvalidArgumentException(f"Unknown ShardIteratorType {kind}")

    def get_records(
        self,
        ctx: RequestContext,
        *,
        shard_iterator: str,
        limit: int | None = None,
        stream_arn: str | None = None,
        dry_run: bool | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        now = clock.now()
        now_ms = int(now * 1000)
        it = iterators.decode(shard_iterator, now_ms)
        if stream_arn:
            parsed = parse_stream_arn(stream_arn)
            if parsed is None or parsed[2] != it.stream_name:
                raise InvalidArgumentException(
                    f"StreamARN {stream_arn} does not match the stream of the ShardIterator."
                )
        store = self._store(ctx)
        with store.lock:
            stream = store.streams.get(it.stream_name)
            if (
                stream is None
                or not self._settle(store, stream, now)
                or stream.nonce != it.nonce
                or it.shard_index >= len(stream.shards)
                or stream.status not in ("ACTIVE", "UPDATING")
            ):
                raise ResourceNotFoundException(
                    f"Shard {sequence.shard_id(it.shard_index)} in stream {it.stream_name} "
                    f"under account {ctx.account} does not exist"
                )
            if dry_run:  # before the read budget is spent
                raise dry_run_passed()
            shard = stream.shards[it.shard_index]
            limited = self.config.kinesis_throughput_limits
            if limited and not limits.admit_read(shard, now):
                raise ProvisionedThroughputExceededException(_rate_exceeded(stream, shard))
            records, next_position, behind, at_end = self._read(stream, shard, it.position, limit or 10000, now)
            if limited:
                limits.count_read(shard, sum(len(r["Data"]) + len(r.get("PartitionKey", "")) for r in records), now)
            children = shards.child_shards(stream, shard) if at_end else None
        out: dict[str, Any] = {"Records": records, "MillisBehindLatest": behind}
        if at_end:
            out["ChildShards"] = children
        else:
            out["NextShardIterator"] = iterators.encode(stream.name, stream.nonce, shard.index, next_position, now_ms)
        return out

    def _read(
        self, stream: Stream, shard: Shard, position: int, limit: int, now: float
    ) -> tuple[list[dict[str, Any]], int, int, bool]:
        """Up to ``limit`` records (and at most 10 MiB) from ``position``, skipping expired records.

        Returns (records, next position, MillisBehindLatest, whether the closed shard's end was reached).
        """
        counters, times, datas, keys = shard.counters, shard.times, shard.datas, shard.keys
        start = max(shard.index_at_counter(position), shard.index_at_time(stream.horizon(shard, now)))
        stop = min(len(counters), start + limit)
        budget = limits.GET_RECORDS_MAX_BYTES
        records: list[dict[str, Any]] = []
        base = shard.base
        encrypted = bool(stream.encryption_log)
        index = start
        while index < stop:
            data, key = datas[index], keys[index]
            budget -= len(data) + len(key)
            if budget < 0 and records:
                break
            counter = counters[index]
            record = {
                "SequenceNumber": sequence.make(base, counter),
                "ApproximateArrivalTimestamp": times[index],
                "Data": data,
            }
            if key:  # a record written without a partition key (AUTO) is read without one
                record["PartitionKey"] = key
            if encrypted and stream.encryption_at(counter) == "KMS":
                record["EncryptionType"] = "KMS"
            records.append(record)
            index += 1
        if index > start:
            next_position = counters[index - 1] + 1
        elif start < len(counters):
            next_position = counters[start]
        else:
            next_position = max(position, stream.counter + 1) if shard.is_open else position
        remaining = index < len(counters)
        behind = max(0, int((now - times[index]) * 1000)) if remaining else 0
        at_end = not shard.is_open and not remaining
        return records, next_position, behind, at_end


def _partition_key_required(path: str) -> ValidationException:
    """Newer models make PartitionKey optional, for streams whose records AWS distributes itself (the
    AUTO strategy); the default strategy, USER_PARTITION_KEY, still requires it."""
    return ValidationException(
        f"1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null"
    )
