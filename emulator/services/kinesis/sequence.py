"""Hash keys and sequence numbers.

A record's shard is the one whose hash key range holds the MD5 of its partition key, read as a
128-bit big-endian integer (or its ``ExplicitHashKey``).

Sequence numbers look like AWS's: 56-digit decimal strings. Inside, a stream keeps one counter that
every write (and every shard opening or closing) increments, so sequence numbers are unique, strictly
increase within a shard, are greater than the shard's starting sequence number and are ordered by
arrival across the stream's shards. The number also carries the shard's index and a per-stream nonce,
so a sequence number can be checked against the shard and stream it is used with, as AWS does.
A shard stores only the 8-byte counter of each record; the decimal string is built when answering.

Layout (bits, most significant first): version 2 (4) | counter (64) | stream nonce (32) |
shard index (32) | zero (56).
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

MAX_HASH_KEY = 2**128 - 1
VERSION = 2
_VERSION_SHIFT = 184
_COUNTER_SHIFT = 120
_NONCE_SHIFT = 88
_SHARD_SHIFT = 56
_MASK32 = 2**32 - 1
_MASK64 = 2**64 - 1
MAX_COUNTER = 2**63 - 1  # counters are kept in signed 64-bit arrays
_BASE = VERSION << _VERSION_SHIFT


def hash_key(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def uniform_ranges(count: int, start: int = 0, end: int = MAX_HASH_KEY) -> list[tuple[int, int]]:
    """``count`` contiguous ranges splitting [start, end] evenly, as AWS splits a new stream's keys."""
    span = end - start + 1
    bounds = [start + span * i // count for i in range(count)] + [end + 1]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(count)]


def shard_base(nonce: int, shard_index: int) -> int:
    """The part of a shard's sequence numbers that does not change between its records."""
    return _BASE | ((nonce & _MASK32) << _NONCE_SHIFT) | ((shard_index & _MASK32) << _SHARD_SHIFT)


def make(base: int, counter: int) -> str:
    return str(base | (counter << _COUNTER_SHIFT))


class Decoded(NamedTuple):
    counter: int
    nonce: int
    shard_index: int


def decode(sequence_number: str) -> Decoded | None:
    """The parts of one of our sequence numbers, or None when it is not one."""
    try:
        value = int(sequence_number)
    except (TypeError, ValueError):
        return None
    if value >> _VERSION_SHIFT != VERSION:
        return None
    counter = (value >> _COUNTER_SHIFT) & _MASK64
    if counter > MAX_COUNTER:
        return None
    return Decoded(counter, (value >> _NONCE_SHIFT) & _MASK32, (value >> _SHARD_SHIFT) & _MASK32)


def shard_id(index: int) -> str:
    return f"shardId-{index:012d}"


MAX_SHARD_INDEX = 2**31 - 1
_DIGITS = re.compile(r"[0-9]+")


def shard_index(shard_id_text: str) -> int | None:
    """The index a shard id names, or None when AWS could not parse it.

    AWS reads only the ASCII digits after the last ``-`` (or the whole id when it has none), as a
    Java ``int``: ``shardId-000000000003``, ``shardId-3``, ``3`` and ``any-name-0003`` all name shard 3,
    while ``2.14E4``, ``shardId-`` and ``shardId-002147483648`` (too big) name none.
    """
    text = shard_id_text.rsplit("-", 1)[-1]
    if not _DIGITS.fullmatch(text):
        return None
    index = int(text)
    return index if index <= MAX_SHARD_INDEX else None
