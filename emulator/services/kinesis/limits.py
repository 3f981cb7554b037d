"""AWS's Kinesis quotas, and the opt-in per-shard throughput limits.

Throughput is counted in 1-second windows of emulator time per shard: writes up to 1 MiB or 1,000
records a second, reads up to 2 MiB or 5 ``GetRecords`` calls a second. A read may return more than
a second's worth (up to 10 MiB); the shard then pays it back: "If a call returns 10 MiB of data,
subsequent calls made within the next 5 seconds throw ProvisionedThroughputExceededException"
(GetRecords reference), so reads wait size / 2 MiB seconds. Only with ``--kinesis-throughput-limits``;
otherwise nothing is counted.
"""

from __future__ import annotations

from emulator.services.kinesis.models import Shard

MIB = 1024 * 1024
ON_DEMAND_INITIAL_SHARDS = 4
ON_DEMAND_STREAM_LIMIT = 50
CONSUMERS_PER_STREAM = 20
CONSUMERS_CREATING_AT_ONCE = 5  # per stream (RegisterStreamConsumer)
STREAMS_CREATING_AT_ONCE = 5  # per account and region (CreateStream)
MIN_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760
MAX_TAGS_PER_STREAM = 50
MAX_SHARDS_PER_STREAM = 10000
SCALINGS_PER_DAY = 10  # UpdateShardCount calls per stream per rolling 24 hours
GET_RECORDS_MAX_BYTES = 10 * MIB
PUT_RECORDS_MAX_BYTES = 10 * MIB  # the whole request, partition keys included (API reference, PutRecords)
WRITE_BYTES_PER_SECOND = MIB
WRITE_RECORDS_PER_SECOND = 1000
READ_BYTES_PER_SECOND = 2 * MIB
READ_CALLS_PER_SECOND = 5
# Page sizes: each is the default and also the most one page holds, whatever a larger MaxResults or
# Limit asks for (the model: "If you specify a value greater than 1000, at most 1000 results are
# returned"; 100 for DescribeStream, ListStreams and ListStreamConsumers).
LIST_SHARDS_DEFAULT = 1000
DESCRIBE_STREAM_DEFAULT = 100
LIST_STREAMS_DEFAULT = 100
LIST_TAGS_DEFAULT = 50
LIST_CONSUMERS_DEFAULT = 100
NEXT_TOKEN_LIFETIME = 300.0

def page_size(asked: int | None, cap: int) -> int:
    """How many items a page holds: what was asked for, at most ``cap`` (also the default)."""
    return min(asked or cap, cap)


_LARGE_QUOTA_REGIONS = frozenset({"us-east-1", "us-west-2", "eu-west-1"})


def default_shard_limit(region: str) -> int:
    """AWS's default shard quota ("Quotas and limits", Kinesis Data Streams developer guide): 20,000
    shards in us-east-1, us-west-2 and eu-west-1; "1,000 or 6,000" elsewhere, of which the emulator
    takes the lower, since the page does not say which regions have which."""
    return 20000 if region in _LARGE_QUOTA_REGIONS else 1000


def _roll(shard: Shard, now: float) -> None:
    window = int(now)
    if shard.window != window:
        shard.window = window
        shard.write_records = shard.write_bytes = shard.read_calls = shard.read_bytes = 0


def admit_write(shard: Shard, size: int, now: float) -> bool:
    """Counts one record of ``size`` bytes against the shard's write limit; False when over it."""
    _roll(shard, now)
    if shard.write_records + 1 > WRITE_RECORDS_PER_SECOND or shard.write_bytes + size > WRITE_BYTES_PER_SECOND:
        return False
    shard.write_records += 1
    shard.write_bytes += size
    return True


def admit_read(shard: Shard, now: float) -> bool:
    """Counts one GetRecords call; False when over 5 a second, 2 MiB already read this second, or
    while a larger read is being paid back."""
    if now < shard.read_blocked_until:
        return False
    _roll(shard, now)
    if shard.read_calls + 1 > READ_CALLS_PER_SECOND or shard.read_bytes >= READ_BYTES_PER_SECOND:
        return False
    shard.read_calls += 1
    return True


def count_read(shard: Shard, size: int, now: float) -> None:
    """Counts the bytes a GetRecords returned; more than a second's worth blocks reads for as many
    seconds as it is worth (10 MiB: 5 seconds)."""
    shard.read_bytes += size
    if size > READ_BYTES_PER_SECOND:
        shard.read_blocked_until = now + size / READ_BYTES_PER_SECOND
