"""The event-stream framing: our encoder against botocore's own decoder, and our decoder's checks."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from botocore.eventstream import EventStreamBuffer

from emulator.protocols import eventstream


HEADERS = {
    ":message-type": "event",
    "flag-true": True,
    "flag-false": False,
    "byte": eventstream.Int8(-5),
    "short": eventstream.Int16(1234),
    "int": 123456,
    "long": 2**40,
    "bytes": b"\x00\x01",
    "when": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
}


def test_botocore_reads_what_we_write() -> None:
    message = eventstream.encode_message(HEADERS, b'{"a":1}')
    buffer = EventStreamBuffer()
    buffer.add_data(message + message)
    decoded = list(buffer)
    assert len(decoded) == 2
    headers = decoded[0].headers
    assert headers["flag-true"] is True and headers["flag-false"] is False
    assert (headers["byte"], headers["short"], headers["int"], headers["long"]) == (-5, 1234, 123456, 2**40)
    assert headers["bytes"] == b"\x00\x01" and headers["id"] == HEADERS["id"].bytes
    assert decoded[0].payload == b'{"a":1}'


def test_our_decoder_round_trips() -> None:
    message = eventstream.encode_message(HEADERS, b"payload")
    headers, payload, consumed = eventstream.decode_message(message)
    assert consumed == len(message) and payload == b"payload"
    assert headers == {**HEADERS}
    assert list(eventstream.iter_messages(message * 3)) == [(headers, b"payload")] * 3


@pytest.mark.parametrize(
    ("corrupt", "error"),
    [
        (lambda m: m[:5], "incomplete prelude"),
        (lambda m: m[:3] + b"\xff" + m[4:], "prelude CRC mismatch"),
        (lambda m: m[:-1] + bytes([m[-1] ^ 1]), "message CRC mismatch"),
        (lambda m: m[:-3], "incomplete message"),
    ],
)
def test_corrupt_messages_are_rejected(corrupt, error) -> None:
    message = eventstream.encode_event("SubscribeToShardEvent", b"{}")
    with pytest.raises(eventstream.EventStreamError, match=error):
        eventstream.decode_message(corrupt(message))


def test_event_and_exception_messages_carry_the_headers_aws_uses() -> None:
    headers, _, _ = eventstream.decode_message(eventstream.encode_event("SubscribeToShardEvent", b"{}"))
    assert headers == {
        ":event-type": "SubscribeToShardEvent",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    headers, _, _ = eventstream.decode_message(eventstream.encode_exception("ResourceInUseException", b"{}"))
    assert headers[":exception-type"] == "ResourceInUseException" and headers[":message-type"] == "exception"
