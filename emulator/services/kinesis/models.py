"""Kinesis state: one store per (account, region) holding streams, their shards and consumers.

A shard keeps its records in parallel arrays ordered by sequence number: 8-byte counters and 8-byte
arrival times in ``array``s (so finding a position is a binary search and memory is a few dozen bytes
per record beyond the data and the partition key), the data and partition keys in lists. Appending
never copies a shard's records. Records that fall out of the retention period are forgotten off the
request path, by the sweeper (expiry.py): first their data and keys (in short steps, so memory falls
as soon as they expire), then their slots, once the expired part is as long as the live one.

Every time kept here is cut to the millisecond (``to_millis``) before it is stored: AWS's time stamps
have millisecond precision, and a time answered must compare equal to itself when a client sends it
back (an AT_TIMESTAMP iterator at a record's own ApproximateArrivalTimestamp).

A record written without a partition key (a stream with the AUTO record distribution strategy) keeps
``""`` as its key: a real partition key is at least one character, so the empty string is free to
mean "none", and reads leave ``PartitionKey`` out for it.
"""

from __future__ import annotations

import math
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.services.kinesis import sequence

def to_millis(seconds: float) -> float:
    """``seconds`` cut to the millisecond, as AWS keeps and answers time stamps (the inner rounding
    drops float noise such as ``...122.99999``, so a time already on a millisecond stays on it)."""
    return math.floor(round(seconds * 1000, 3)) / 1000


METRICS = (
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
)


class Shard:
    __slots__ = (
        "index",
        "shard_id",
        "start_hash",
        "end_hash",
        "parent",
        "adjacent_parent",
        "base",
        "start_counter",
        "end_counter",
        "created_at",
        "closed_at",
        "readable_from",
        "blanked",
        "counters",
        "times",
        "datas",
        "keys",
        "window",
        "write_records",
        "write_bytes",
        "read_calls",
        "read_bytes",
        "read_blocked_until",
    )

    def __init__(
        self,
        index: int,
        nonce: int,
        start_hash: int,
        end_hash: int,
        start_counter: int,
        created_at: float,
        parent: str | None = None,
        adjacent_parent: str | None = None,
    ) -> None:
        self.index = index
        self.shard_id = sequence.shard_id(index)
        self.start_hash = start_hash
        self.end_hash = end_hash
        self.parent = parent
        self.adjacent_parent = adjacent_parent
        self.base = sequence.shard_base(nonce, index)
        self.start_counter = start_counter
        self.end_counter: int | None = None
        self.created_at = to_millis(created_at)
        self.closed_at: float | None = None
        # The earliest arrival time a read may return. It never moves back, so increasing the
        # retention period does not bring back records that had expired (AWS documents this).
        self.readable_from = float("-inf")
        # How many records at the front have had their data and key dropped (expired, see forget_data).
        self.blanked = 0
        self.counters = array("q")
        self.times = array("d")
        self.datas: list[bytes] = []
        self.keys: list[str] = []
        # Throughput accounting (only with --kinesis-throughput-limits): the current 1-second window.
        self.window = -1
        self.write_records = 0
        self.write_bytes = 0
        self.read_calls = 0
        self.read_bytes = 0
        # After a GetRecords of more than a second's worth of bytes, reads wait until this time.
        self.read_blocked_until = float("-inf")

    @property
    def is_open(self) -> bool:
        return self.end_counter is None

    def append(self, counter: int, arrival: float, data: bytes, key: str) -> None:
        times = self.times
        if times and arrival < times[-1]:
            arrival = times[-1]  # arrival times never go back within a shard
        self.counters.append(counter)
        times.append(arrival)
        self.datas.append(data)
        self.keys.append(key)

    def index_at_counter(self, counter: int) -> int:
        """Position of the first record whose counter is >= ``counter``."""
        return bisect_left(self.counters, counter)

    def index_after_counter(self, counter: int) -> int:
        return bisect_right(self.counters, counter)

    def index_at_time(self, when: float) -> int:
        return bisect_left(self.times, when)

    def expired_count(self, horizon: float) -> int:
        """How many records at the front arrived before ``horizon`` (a binary search)."""
        times = self.times
        if not times or times[0] >= horizon:
            return 0
        return bisect_left(times, horizon)

    def forget_data(self, upto: int, step: int) -> int:
        """Drops the data and keys of up to ``step`` more expired records before position ``upto``.

        Replacing a slice by one of the same length moves nothing, so this costs ``step``, whatever the
        shard holds. Reads never look at these slots: they start at the retention horizon. Returns how
        many were dropped."""
        start = self.blanked
        stop = min(upto, start + step)
        if stop <= start:
            return 0
        count = stop - start
        self.datas[start:stop] = [b""] * count
        self.keys[start:stop] = [""] * count
        self.blanked = stop
        return count

    def replace_records(self, counters: array, times: array, datas: list[bytes], keys: list[str]) -> None:
        """Installs arrays that hold the records after the blanked front (the sweeper's compaction)."""
        self.counters, self.times, self.datas, self.keys = counters, times, datas, keys
        self.blanked = 0

    def sequence_number(self, counter: int) -> str:
        return sequence.make(self.base, counter)

    @property
    def starting_sequence_number(self) -> str:
        return sequence.make(self.base, self.start_counter)

    @property
    def ending_sequence_number(self) -> str | None:
        return None if self.end_counter is None else sequence.make(self.base, self.end_counter)

    def hash_range(self) -> dict[str, str]:
        return {"StartingHashKey": str(self.start_hash), "EndingHashKey": str(self.end_hash)}

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ShardId": self.shard_id}
        if self.parent:
            out["ParentShardId"] = self.parent
        if self.adjacent_parent:
            out["AdjacentParentShardId"] = self.adjacent_parent
        out["HashKeyRange"] = self.hash_range()
        seq_range = {"StartingSequenceNumber": self.starting_sequence_number}
        if self.end_counter is not None:
            seq_range["EndingSequenceNumber"] = sequence.make(self.base, self.end_counter)
        out["SequenceNumberRange"] = seq_range
        return out


@dataclass
class Consumer:
    name: str
    arn: str
    stream_arn: str
    created_at: float
    status: str = "CREATING"
    ready_at: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)

    def describe(self, with_stream: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ConsumerName": self.name,
            "ConsumerARN": self.arn,
            "ConsumerStatus": self.status,
            "ConsumerCreationTimestamp": self.created_at,
        }
        if with_stream:
            out["StreamARN"] = self.stream_arn
        return out


@dataclass
class Pending:
    """A change that completes when the stream's UPDATING (or CREATING/DELETING) time is over."""

    ready_at: float
    apply: Callable[[], None] | None = None


@dataclass
class Stream:
    name: str
    arn: str
    account: str
    region: str
    created_at: float
    nonce: int
    mode: str = "PROVISIONED"
    # The mode an UpdateStreamMode in progress switches to (it counts against the on-demand quota).
    switching_to: str | None = None
    status: str = "CREATING"
    retention_hours: int = 24
    shards: list[Shard] = field(default_factory=list)
    counter: int = 0
    pending: Pending | None = None
    encryption_type: str = "NONE"
    key_id: str | None = None
    # (counter at the change, encryption type): a record's EncryptionType is the one in force when
    # it was written.
    encryption_log: list[tuple[int, str]] = field(default_factory=list)
    metrics: set[str] = field(default_factory=set)
    tags: dict[str, str] = field(default_factory=dict)
    consumers: dict[str, Consumer] = field(default_factory=dict)
    max_record_kib: int = 1024
    # When UpdateShardCount last scaled the stream (AWS allows ten scalings per rolling 24 hours).
    scalings: list[float] = field(default_factory=list)
    warm_throughput_target: int | None = None
    warm_throughput_current: int | None = None
    # The open shards, sorted by starting hash key, with their starting keys for bisect.
    open_shards: list[Shard] = field(default_factory=list)
    open_starts: list[int] = field(default_factory=list)
    # USER_PARTITION_KEY (the default) or AUTO; AUTO places records round-robin over the open shards,
    # ``auto_turn`` counting the records so placed.
    distribution: str = "USER_PARTITION_KEY"
    auto_turn: int = 0

    @property
    def auto_distribution(self) -> bool:
        """Whether the service places records itself: AUTO, which only on-demand streams support."""
        return self.distribution == "AUTO" and self.mode == "ON_DEMAND"

    def next_counter(self) -> int:
        self.counter += 1
        return self.counter

    def refresh_open(self) -> None:
        self.open_shards = sorted((s for s in self.shards if s.is_open), key=lambda s: s.start_hash)
        self.open_starts = [s.start_hash for s in self.open_shards]

    def shard_for_hash(self, key: int) -> Shard:
        return self.open_shards[bisect_right(self.open_starts, key) - 1]

    def shard_by_id(self, shard_id: str) -> Shard | None:
        index = sequence.shard_index(shard_id)
        if index is None or index >= len(self.shards):
            return None
        return self.shards[index]

    @property
    def retention_seconds(self) -> float:
        return self.retention_hours * 3600.0

    def horizon(self, shard: Shard, now: float) -> float:
        """The earliest arrival time ``shard`` may return at ``now``; moves the shard's watermark up."""
        horizon = now - self.retention_seconds
        if horizon > shard.readable_from:
            shard.readable_from = horizon
        return shard.readable_from

    def set_retention(self, hours: int, now: float) -> None:
        """Changes the retention period; what expired under the old one stays expired."""
        for shard in self.shards:
            self.horizon(shard, now)
        self.retention_hours = hours

    def encryption_at(self, counter: int) -> str:
        kind = "NONE"
        for changed_at, value in self.encryption_log:
            if changed_at <= counter:
                kind = value
            else:
                break
        return kind

    def mode_details(self) -> dict[str, str]:
        return {"StreamMode": self.mode}


# How many written batches the emulator keeps per channel (the oldest are forgotten first).
CHANNEL_BATCHES_KEPT = 1000


@dataclass
class ChannelBatch:
    """One object a channel would have written to S3 (or one commit to its table), or the records it
    would have sent to its dead-letter bucket. ``records`` hold (sequence number, shard id, arrival,
    data, partition key, error): the error says why a dead-lettered record failed validation."""

    sequence: int
    written_at: float
    dead_letter: bool
    destination: dict[str, Any]
    key: str | None
    records: list[tuple[str, str, float, bytes, str, str | None]]


@dataclass
class Channel:
    """A delivery from one stream to S3 or S3 Tables. ``config`` holds the destination as
    DescribeChannel reports it (``S3DestinationConfiguration`` or ``S3TablesDestinationConfiguration``);
    ``cursors`` maps a shard's index to the first counter not yet written, so each record is
    batched once and reading what was written costs only the records since the last look."""

    name: str
    arn: str
    channel_id: str
    created_at: float
    role_arn: str
    stream_name: str
    stream_arn: str
    stream_nonce: int
    stream_created_at: float
    record_configuration: dict[str, Any]
    destination_type: str
    config: dict[str, Any]
    logging: dict[str, Any]
    encryption: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    status: str = "CREATING"
    ready_at: float = 0.0
    # What UpdateChannel changes when its UPDATING time is over.
    pending_freshness: int | None = None
    pending_logging: dict[str, Any] | None = None
    active_from: float | None = None
    cursors: dict[int, int] = field(default_factory=dict)
    batches: deque[ChannelBatch] = field(default_factory=lambda: deque(maxlen=CHANNEL_BATCHES_KEPT))
    written: int = 0

    @property
    def freshness(self) -> int:
        return int(self.config["DataFreshnessInSeconds"])


@dataclass
class AccountSettings:
    commitment_status: str = "DISABLED"
    started_at: float | None = None
    ended_at: float | None = None
    earliest_end_at: float | None = None


class KinesisStore:
    """One account's streams in one region. ``lock`` guards everything; ``changed`` (on the same lock)
    wakes SubscribeToShard readers when records arrive, a stream changes or the clock moves."""

    def __init__(self, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.streams: dict[str, Stream] = {}
        self.policies: dict[str, str] = {}
        self.settings = AccountSettings()
        # (consumer ARN, shard id) -> the Subscription serving it
        self.subscriptions: dict[tuple[str, str], Any] = {}
        self.waiters = 0
        # queue ARN -> its Queue (queue_models.py); ReceiveQueueRecords long polls wait on ``changed``
        self.queues: dict[str, Any] = {}
        self.channels: dict[str, Channel] = {}
        # Deleted channels by id, kept so what they wrote stays visible (the oldest are forgotten first).
        self.deleted_channels: dict[str, Channel] = {}

    def wake(self) -> None:
        if self.waiters:
            self.changed.notify_all()
