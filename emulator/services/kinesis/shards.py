"""Shard lineage: creating, splitting, merging and uniformly rescaling a stream's shards.

Every change closes parents (their ``EndingSequenceNumber`` is a counter taken after their last
record) and opens children whose starting counter comes after it, so a reader that finishes a parent
before it starts the parent's children reads the stream in order, every record once. ``UpdateShardCount``
is carried out the way AWS documents it: as splits and merges of single shards (which can leave
short-lived shards behind), so that every child has at most a parent and an adjacent parent.
"""

from __future__ import annotations

from bisect import bisect_right

from emulator.services.kinesis import sequence
from emulator.services.kinesis.models import Shard, Stream, to_millis


def _new_shard(
    stream: Stream, start_hash: int, end_hash: int, now: float, parent: str | None = None, adjacent: str | None = None
) -> Shard:
    shard = Shard(len(stream.shards), stream.nonce, start_hash, end_hash, stream.next_counter(), now, parent, adjacent)
    stream.shards.append(shard)
    return shard


def _close(stream: Stream, shard: Shard, now: float) -> None:
    shard.end_counter = stream.next_counter()
    shard.closed_at = to_millis(now)


def create_uniform(stream: Stream, count: int, now: float) -> None:
    for start, end in sequence.uniform_ranges(count):
        _new_shard(stream, start, end, now)
    stream.refresh_open()


def _split(stream: Stream, shard: Shard, new_start: int, now: float) -> tuple[Shard, Shard]:
    _close(stream, shard, now)
    low = _new_shard(stream, shard.start_hash, new_start - 1, now, parent=shard.shard_id)
    high = _new_shard(stream, new_start, shard.end_hash, now, parent=shard.shard_id)
    return low, high


def _merge(stream: Stream, shard: Shard, adjacent: Shard, now: float) -> Shard:
    _close(stream, shard, now)
    _close(stream, adjacent, now)
    return _new_shard(
        stream,
        min(shard.start_hash, adjacent.start_hash),
        max(shard.end_hash, adjacent.end_hash),
        now,
        parent=shard.shard_id,
        adjacent=adjacent.shard_id,
    )


def _set_open(stream: Stream, opened: list[Shard]) -> None:
    """Installs the open shards, already sorted by starting hash key."""
    stream.open_shards = opened
    stream.open_starts = [s.start_hash for s in opened]


def split(stream: Stream, shard: Shard, new_start: int, now: float) -> tuple[Shard, Shard]:
    low, high = _split(stream, shard, new_start, now)
    i = stream.open_shards.index(shard)
    _set_open(stream, [*stream.open_shards[:i], low, high, *stream.open_shards[i + 1 :]])
    return low, high


def merge(stream: Stream, shard: Shard, adjacent: Shard, now: float) -> Shard:
    child = _merge(stream, shard, adjacent, now)
    first = min(stream.open_shards.index(shard), stream.open_shards.index(adjacent))
    _set_open(stream, [*stream.open_shards[:first], child, *stream.open_shards[first + 2 :]])
    return child


def are_adjacent(a: Shard, b: Shard) -> bool:
    return a.end_hash + 1 == b.start_hash or b.end_hash + 1 == a.start_hash


def rescale_uniform(stream: Stream, target: int, now: float) -> None:
    """Ends with ``target`` open shards of even hash key ranges, by single splits then pairwise merges.

    One pass over the open shards in hash key order (linear in the number of shards): first every open
    shard is split at each target boundary strictly inside it, low end first; then, left to right, each
    shard that does not start at a target boundary is merged into the shard before it.
    """
    bounds = [start for start, _ in sequence.uniform_ranges(target)]
    bound_set = set(bounds)
    # 1. Split every open shard at each target boundary strictly inside it.
    split_up: list[Shard] = []
    for shard in stream.open_shards:
        first = bisect_right(bounds, shard.start_hash)
        last = bisect_right(bounds, shard.end_hash)
        current = shard
        for boundary in bounds[first:last]:
            low, current = _split(stream, current, boundary, now)
            split_up.append(low)
        split_up.append(current)
    # 2. Merge neighbours that fall in the same target range until each range is one shard.
    merged: list[Shard] = []
    for shard in split_up:
        if merged and shard.start_hash not in bound_set:
            merged[-1] = _merge(stream, merged[-1], shard, now)
        else:
            merged.append(shard)
    _set_open(stream, merged)


def children_of(stream: Stream, shard: Shard) -> list[Shard]:
    return [s for s in stream.shards if shard.shard_id in (s.parent, s.adjacent_parent)]


def child_shards(stream: Stream, shard: Shard) -> list[dict]:
    """``ChildShards`` as GetRecords and SubscribeToShard report them at the end of a closed shard."""
    out = []
    for child in children_of(stream, shard):
        parents = [p for p in (child.parent, child.adjacent_parent) if p]
        out.append({"ShardId": child.shard_id, "ParentShards": parents, "HashKeyRange": child.hash_range()})
    return out
