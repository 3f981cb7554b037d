"""The pure logic under the Kinesis provider: hash ranges, sequence numbers, iterators, lineage."""

from __future__ import annotations

import pytest

from emulator.config import Config
from emulator.context import RequestContext
from emulator.services.kinesis import iterators, sequence, shards
from emulator.services.kinesis.errors import ExpiredIteratorException, InvalidArgumentException
from emulator.services.kinesis.models import Stream
from emulator.services.kinesis.provider import KinesisProvider


@pytest.mark.parametrize(
    ("count", "starts"),
    [
        (1, ["0"]),
        (2, ["0", "170141183460469231731687303715884105728"]),
        (3, ["0", "113427455640312821154458202477256070485", "226854911280625642308916404954512140970"]),
    ],
)
def test_uniform_ranges_split_the_key_space_as_aws_does(count: int, starts: list[str]) -> None:
    ranges = sequence.uniform_ranges(count)
    assert [str(start) for start, _ in ranges] == starts
    assert ranges[-1][1] == 2**128 - 1
    assert all(ranges[i][1] + 1 == ranges[i + 1][0] for i in range(count - 1))


@pytest.mark.parametrize("count", [1, 2, 3, 7, 100, 500])
def test_uniform_ranges_are_contiguous_and_even(count: int) -> None:
    ranges = sequence.uniform_ranges(count)
    sizes = {end - start + 1 for start, end in ranges}
    assert ranges[0][0] == 0 and ranges[-1][1] == sequence.MAX_HASH_KEY
    assert max(sizes) - min(sizes) <= 1


def test_partition_key_hash_is_md5_as_a_128_bit_integer() -> None:
    # md5("a") = 0cc175b9c0f1b6a831c399e269772661
    assert sequence.hash_key("a") == 0x0CC175B9C0F1B6A831C399E269772661


def test_sequence_numbers_decode_to_their_parts_and_order_by_counter() -> None:
    base_a = sequence.shard_base(nonce=7, shard_index=0)
    base_b = sequence.shard_base(nonce=7, shard_index=5)
    numbers = [sequence.make(base_a, 1), sequence.make(base_b, 2), sequence.make(base_a, 3)]
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    assert all(len(n) == 56 for n in numbers)
    assert sequence.decode(numbers[1]) == (2, 7, 5)


@pytest.mark.parametrize("text", ["0", "1", "12345678901234567890", "not a number", str(3 << 184)])
def test_foreign_sequence_numbers_do_not_decode(text: str) -> None:
    assert sequence.decode(text) is None


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("shardId-000000000003", 3),
        ("3", 3),
        ("any-name-0003", 3),
        ("-00002147483647", 2**31 - 1),
        ("shardId-2147483648", None),
        ("shardId-x", None),
        ("shardId-", None),
        ("2.14E4", None),
        ("", None),
    ],
)
def test_shard_ids_parse_like_aws(text: str, index: int | None) -> None:
    assert sequence.shard_index(text) == index


def test_iterator_tokens_round_trip_and_expire_after_five_minutes() -> None:
    token = iterators.encode("stream", 99, 2, 12345, created_ms=1_000_000)
    assert iterators.decode(token, 1_000_000 + 300_000) == (1_000_000, "stream", 99, 2, 12345)
    with pytest.raises(ExpiredIteratorException) as info:
        iterators.decode(token, 1_000_000 + 300_001)
    assert "tolerated delay of 300000 milliseconds" in info.value.message


@pytest.mark.parametrize("mutate", [lambda t: t[:-4] + "AAAA", lambda t: t[:10], lambda t: "!" + t, lambda t: ""])
def test_tampered_iterators_are_invalid(mutate) -> None:
    token = iterators.encode("stream", 1, 0, 0, created_ms=1000)
    with pytest.raises(InvalidArgumentException, match="Invalid ShardIterator."):
        iterators.decode(mutate(token), 1000)


def _stream(count: int) -> Stream:
    stream = Stream(name="s", arn="arn", account="1", region="r", created_at=0.0, nonce=1)
    shards.create_uniform(stream, count, 0.0)
    return stream


@pytest.mark.parametrize(("before", "after"), [(1, 2), (2, 1), (3, 5), (5, 3), (4, 8), (8, 4), (6, 7), (7, 4)])
def test_uniform_rescaling_ends_even_and_keeps_every_child_within_two_parents(before: int, after: int) -> None:
    stream = _stream(before)
    shards.rescale_uniform(stream, after, 1.0)
    opened = stream.open_shards
    assert [(s.start_hash, s.end_hash) for s in opened] == sequence.uniform_ranges(after)
    by_id = {s.shard_id: s for s in stream.shards}
    for shard in stream.shards:
        parents = [by_id[p] for p in (shard.parent, shard.adjacent_parent) if p]
        if parents:  # a child covers exactly its parents' keys (split: a part of one; merge: both)
            assert all(not p.is_open for p in parents)
            assert min(p.start_hash for p in parents) <= shard.start_hash
            assert shard.end_hash <= max(p.end_hash for p in parents)
            assert all(p.end_counter < shard.start_counter for p in parents)


def test_children_start_after_their_parents_end() -> None:
    stream = _stream(2)
    low, high = shards.split(stream, stream.shards[0], 2**126, 1.0)
    parent = stream.shards[0]
    assert parent.end_counter is not None
    assert parent.end_counter < low.start_counter < high.start_counter
    child = shards.merge(stream, low, high, 2.0)
    assert (child.parent, child.adjacent_parent) == (low.shard_id, high.shard_id)
    assert (child.start_hash, child.end_hash) == (parent.start_hash, parent.end_hash)
    assert [c["ShardId"] for c in shards.child_shards(stream, parent)] == [low.shard_id, high.shard_id]


def test_provider_called_directly_writes_and_reads_in_order() -> None:
    provider = KinesisProvider(Config())
    ctx = RequestContext(service="kinesis", account="123456789012", region="eu-west-1")
    provider.create_stream(ctx, stream_name="direct", shard_count=3)
    written = [provider.put_record(ctx, stream_name="direct", data=b"%d" % i, partition_key=str(i)) for i in range(30)]
    assert [int(w["SequenceNumber"]) for w in written] == sorted(int(w["SequenceNumber"]) for w in written)
    for shard_id in {w["ShardId"] for w in written}:
        token = provider.get_shard_iterator(
            ctx, stream_name="direct", shard_id=shard_id, shard_iterator_type="TRIM_HORIZON"
        )["ShardIterator"]
        got = provider.get_records(ctx, shard_iterator=token)["Records"]
        assert [r["SequenceNumber"] for r in got] == [w["SequenceNumber"] for w in written if w["ShardId"] == shard_id]
    provider.close()
