"""JSON 1.1's operations in CBOR (``application/x-amz-cbor-1.1``), as Kinesis clients built on the
AWS SDK for Java (and the Kinesis Client Library) send them by default.

The same documents as JSON 1.1, encoded with CBOR: blobs are byte strings, and timestamps are
integer epoch milliseconds, the form those SDKs write and expect (a tagged epoch datetime, tag 1, is
accepted on input too). Errors are CBOR maps with ``__type`` and ``message`` (``Message`` for a
``SerializationException``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import cbor2

from emulator.errors import SerializationException
from emulator.protocols.base import to_datetime
from emulator.protocols.json import JsonProtocol, type_mismatch
from emulator.specs import Shape

CBOR_CONTENT_TYPE = "application/x-amz-cbor-1.1"


class CborProtocol(JsonProtocol):
    name = "cbor"
    content_type = CBOR_CONTENT_TYPE
    content_types = frozenset({CBOR_CONTENT_TYPE})

    def _load(self, body: bytes) -> Any:
        """The body's document; one that is not CBOR (an empty one included) is a messageless
        ``SerializationException``, as a body that is not JSON is."""
        try:
            return cbor2.loads(body)
        except (cbor2.CBORDecodeError, ValueError, TypeError, EOFError):
            raise SerializationException("") from None

    @staticmethod
    def _dump(document: Any) -> bytes:
        return cbor2.dumps(document)

    def _decode_blob(self, shape: Shape, raw: Any) -> bytes:
        if isinstance(raw, (bytes, bytearray)):
            return bytes(raw)
        return super()._decode_blob(shape, raw)

    def _decode_timestamp(self, shape: Shape, raw: Any) -> Any:
        if isinstance(raw, datetime):
            return raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise SerializationException(type_mismatch(raw, shape))
        try:
            return datetime.fromtimestamp(raw / 1000.0, tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise SerializationException(type_mismatch(raw, shape)) from None

    def _encode_blob(self, value: Any) -> Any:
        return value if isinstance(value, bytes) else str(value).encode("utf-8")

    def _encode_timestamp(self, value: Any) -> Any:
        moment = to_datetime(value)
        return round(moment.timestamp() * 1000)
