"""The binary ``application/vnd.amazon.eventstream`` framing (SubscribeToShard's response).

A message is a prelude (total length, headers length, both 4-byte big-endian, and the CRC32 of those
8 bytes), the headers, the payload and the CRC32 of everything before it. Each header is a 1-byte name
length, the name, a 1-byte value type and the value. botocore's ``EventStreamBuffer`` reads exactly
this; the decoder here is for our own tests and for anyone checking a captured stream.
"""

from __future__ import annotations

import datetime as _dt
import struct
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

HeaderValue = str | bytes | bool | int | _dt.datetime | uuid.UUID

_PRELUDE = struct.Struct(">II")
_PRELUDE_LENGTH = 12  # two lengths and the prelude CRC
_MAX_HEADERS_LENGTH = 128 * 1024
_MAX_MESSAGE_LENGTH = 16 * 1024 * 1024

# Header value types, as the format numbers them.
_TRUE, _FALSE, _BYTE, _SHORT, _INTEGER, _LONG, _BYTES, _STRING, _TIMESTAMP, _UUID = range(10)


class Int8(int):
    """An int to be written as the 1-byte header type (plain ints use the smallest of int32/int64)."""


class Int16(int):
    """An int to be written as the 2-byte header type."""


class EventStreamError(ValueError):
    """A malformed message: bad lengths or a CRC that does not match."""


def _encode_header(name: str, value: HeaderValue) -> bytes:
    raw_name = name.encode("utf-8")
    if not 0 < len(raw_name) < 256:
        raise ValueError(f"header name {name!r} must be 1 to 255 bytes")
    head = bytes([len(raw_name)]) + raw_name
    if isinstance(value, bool):
        return head + bytes([_TRUE if value else _FALSE])
    if isinstance(value, Int8):
        return head + struct.pack(">Bb", _BYTE, value)
    if isinstance(value, Int16):
        return head + struct.pack(">Bh", _SHORT, value)
    if isinstance(value, int):
        if -(2**31) <= value < 2**31:
            return head + struct.pack(">Bi", _INTEGER, value)
        return head + struct.pack(">Bq", _LONG, value)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return head + struct.pack(">BH", _STRING, len(raw)) + raw
    if isinstance(value, (bytes, bytearray)):
        return head + struct.pack(">BH", _BYTES, len(value)) + bytes(value)
    if isinstance(value, _dt.datetime):
        millis = int(value.timestamp() * 1000)
        return head + struct.pack(">Bq", _TIMESTAMP, millis)
    if isinstance(value, uuid.UUID):
        return head + bytes([_UUID]) + value.bytes
    raise TypeError(f"header {name!r}: unsupported value type {type(value).__name__}")


def encode_headers(headers: dict[str, HeaderValue]) -> bytes:
    return b"".join(_encode_header(name, value) for name, value in headers.items())


def encode_message(headers: dict[str, HeaderValue], payload: bytes) -> bytes:
    """One complete event-stream message."""
    raw_headers = encode_headers(headers)
    total = _PRELUDE_LENGTH + len(raw_headers) + len(payload) + 4
    prelude = _PRELUDE.pack(total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + raw_headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def encode_event(event_type: str, payload: bytes, content_type: str = "application/json") -> bytes:
    """An ``event`` message as AWS frames SubscribeToShard's events (and the initial-response)."""
    return encode_message({":event-type": event_type, ":content-type": content_type, ":message-type": "event"}, payload)


def encode_exception(code: str, payload: bytes, content_type: str = "application/json") -> bytes:
    """An ``exception`` message: an error of the model's event stream, after the stream began."""
    return encode_message(
        {":exception-type": code, ":content-type": content_type, ":message-type": "exception"}, payload
    )


def _decode_headers(raw: bytes) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    pos = 0
    while pos < len(raw):
        name_length = raw[pos]
        pos += 1
        name = raw[pos : pos + name_length].decode("utf-8")
        pos += name_length
        kind = raw[pos]
        pos += 1
        value: Any
        if kind == _TRUE:
            value = True
        elif kind == _FALSE:
            value = False
        elif kind == _BYTE:
            (value,) = struct.unpack_from(">b", raw, pos)
            pos += 1
        elif kind == _SHORT:
            (value,) = struct.unpack_from(">h", raw, pos)
            pos += 2
        elif kind == _INTEGER:
            (value,) = struct.unpack_from(">i", raw, pos)
            pos += 4
        elif kind in (_LONG, _TIMESTAMP):
            (value,) = struct.unpack_from(">q", raw, pos)
            pos += 8
            if kind == _TIMESTAMP:
                value = _dt.datetime.fromtimestamp(value / 1000, tz=_dt.timezone.utc)
        elif kind in (_BYTES, _STRING):
            (length,) = struct.unpack_from(">H", raw, pos)
            pos += 2
            value = raw[pos : pos + length]
            pos += length
            if kind == _STRING:
                value = value.decode("utf-8")
        elif kind == _UUID:
            value = uuid.UUID(bytes=raw[pos : pos + 16])
            pos += 16
        else:
            raise EventStreamError(f"unknown header value type {kind}")
        if pos > len(raw):
            raise EventStreamError("header runs past the headers section")
        headers[name] = value
    return headers


def decode_message(data: bytes | memoryview) -> tuple[dict[str, Any], bytes, int]:
    """Decodes the message at the start of ``data``: (headers, payload, bytes consumed)."""
    if isinstance(data, memoryview):
        data = data.tobytes()
    if len(data) < _PRELUDE_LENGTH:
        raise EventStreamError("incomplete prelude")
    total, headers_length = _PRELUDE.unpack_from(data, 0)
    (prelude_crc,) = struct.unpack_from(">I", data, 8)
    if zlib.crc32(data[:8]) != prelude_crc:
        raise EventStreamError("prelude CRC mismatch")
    if total > _MAX_MESSAGE_LENGTH or headers_length > _MAX_HEADERS_LENGTH:
        raise EventStreamError("message too long")
    if total < _PRELUDE_LENGTH + headers_length + 4 or len(data) < total:
        raise EventStreamError("incomplete message")
    (message_crc,) = struct.unpack_from(">I", data, total - 4)
    if zlib.crc32(data[: total - 4]) != message_crc:
        raise EventStreamError("message CRC mismatch")
    headers = _decode_headers(data[_PRELUDE_LENGTH : _PRELUDE_LENGTH + headers_length])
    payload = data[_PRELUDE_LENGTH + headers_length : total - 4]
    return headers, payload, total


def iter_messages(data: bytes) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Every message in ``data``, which must hold whole messages only."""
    pos = 0
    while pos < len(data):
        headers, payload, consumed = decode_message(data[pos:])
        yield headers, payload
        pos += consumed
