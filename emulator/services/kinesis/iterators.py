"""Shard iterators: opaque, signed tokens that say where in which shard the next read starts.

A token carries the time it was made, the stream's name and nonce, the shard's index and a position:
the counter of the first record the next read may return. It holds no state on the server, so any
number of iterators cost nothing, and it expires 5 minutes (of emulator time) after it was made, as
AWS's do. The signature makes a forged or truncated token an ``InvalidArgumentException``, never a
read of the wrong data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
from typing import NamedTuple

from emulator.services.kinesis.errors import ExpiredIteratorException, InvalidArgumentException

ITERATOR_LIFETIME_MS = 300_000
_SECRET = os.urandom(32)
_VERSION = 1
_HEAD = struct.Struct(">BqIIq")  # version, created (ms), stream nonce, shard index, position
_SIGNATURE_LENGTH = 16


class Iterator(NamedTuple):
    created_ms: int
    stream_name: str
    nonce: int
    shard_index: int
    position: int


def _sign(body: bytes) -> bytes:
    return hmac.new(_SECRET, body, hashlib.sha256).digest()[:_SIGNATURE_LENGTH]


def encode(stream_name: str, nonce: int, shard_index: int, position: int, created_ms: int) -> str:
    body = _HEAD.pack(_VERSION, created_ms, nonce, shard_index, position) + stream_name.encode("utf-8")
    return base64.b64encode(body + _sign(body)).decode("ascii")


def decode(token: str, now_ms: int) -> Iterator:
    """The iterator in ``token``; ``InvalidArgumentException`` or ``ExpiredIteratorException`` else."""
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidArgumentException("Invalid ShardIterator.") from None
    if len(raw) <= _HEAD.size + _SIGNATURE_LENGTH:
        raise InvalidArgumentException("Invalid ShardIterator.")
    body, signature = raw[:-_SIGNATURE_LENGTH], raw[-_SIGNATURE_LENGTH:]
    if not hmac.compare_digest(signature, _sign(body)):
        raise InvalidArgumentException("Invalid ShardIterator.")
    version, created_ms, nonce, shard_index, position = _HEAD.unpack_from(body)
    if version != _VERSION:
        raise InvalidArgumentException("Invalid ShardIterator.")
    if now_ms - created_ms > ITERATOR_LIFETIME_MS:
        raise ExpiredIteratorException(
            f"Iterator expired. The iterator was created at time {amz_utc(created_ms)} while right now "
            f"it is {amz_utc(now_ms)} which is further in the future than the tolerated delay of "
            f"{ITERATOR_LIFETIME_MS} milliseconds."
        )
    return Iterator(created_ms, body[_HEAD.size :].decode("utf-8"), nonce, shard_index, position)


def amz_utc(millis: int) -> str:
    """``Thu Jan 22 01:22:02 UTC 2015``: the form of the times in AWS's expiry message."""
    t = time.gmtime(millis / 1000)
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", t)
