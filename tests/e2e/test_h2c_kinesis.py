"""Kinesis over cleartext HTTP/2 with prior knowledge, as the AWS SDK for JavaScript v3 speaks it to an
``http://`` endpoint: the emulator's own app on its one port, not a stand-in app."""

from __future__ import annotations

import json
from types import SimpleNamespace
from urllib.parse import urlsplit

from emulator.protocols.eventstream import EventStreamError, decode_message
from tests.e2e.test_serving import H2Client
from tests.rawhttp import signed

_SIGNED = [(name.lower(), value) for name, value in signed("kinesis").items()]


def _client(emulator_url: str) -> H2Client:
    return H2Client(SimpleNamespace(port=urlsplit(emulator_url).port))


def _call(client: H2Client, operation: str, body: dict) -> tuple[int, dict]:
    headers = [("x-amz-target", f"Kinesis_20131202.{operation}"), ("content-type", "application/x-amz-json-1.1"),
               *_SIGNED]
    stream = client.request("POST", "/", json.dumps(body).encode(), headers)
    client.pump(lambda: client.responses[stream]["ended"])
    answer = client.responses[stream]
    return int(answer["headers"][b":status"]), json.loads(answer["data"] or b"{}")


def test_records_written_and_read_over_h2c(emulator_url: str, emulator_reset: None) -> None:
    client = _client(emulator_url)
    try:
        assert _call(client, "CreateStream", {"StreamName": "h2", "ShardCount": 1})[0] == 200
        status, put = _call(client, "PutRecord", {"StreamName": "h2", "Data": "aGVsbG8=", "PartitionKey": "k"})
        assert status == 200 and put["ShardId"] == "shardId-000000000000"
        _, iterator = _call(client, "GetShardIterator", {
            "StreamName": "h2", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})
        _, records = _call(client, "GetRecords", {"ShardIterator": iterator["ShardIterator"]})
        assert [r["Data"] for r in records["Records"]] == ["aGVsbG8="]
        status, error = _call(client, "DescribeStream", {"StreamName": "missing"})
        assert status == 400 and error["__type"] == "ResourceNotFoundException"
    finally:
        client.close()


def test_subscribe_to_shard_streams_events_over_h2c(emulator_url: str, emulator_reset: None) -> None:
    client = _client(emulator_url)
    try:
        _call(client, "CreateStream", {"StreamName": "h2", "ShardCount": 1})
        _, stream = _call(client, "DescribeStreamSummary", {"StreamName": "h2"})
        stream_arn = stream["StreamDescriptionSummary"]["StreamARN"]
        _, consumer = _call(client, "RegisterStreamConsumer", {"StreamARN": stream_arn, "ConsumerName": "c"})
        consumer_arn = consumer["Consumer"]["ConsumerARN"]
        _call(client, "DescribeStreamConsumer", {"ConsumerARN": consumer_arn})  # CREATING -> ACTIVE
        _call(client, "PutRecord", {"StreamName": "h2", "Data": "aGVsbG8=", "PartitionKey": "k"})
        headers = [("x-amz-target", "Kinesis_20131202.SubscribeToShard"),
                   ("content-type", "application/x-amz-json-1.1"), *_SIGNED]
        body = {"ConsumerARN": consumer_arn, "ShardId": "shardId-000000000000",
                "StartingPosition": {"Type": "TRIM_HORIZON"}}
        sid = client.request("POST", "/", json.dumps(body).encode(), headers)

        def events() -> list[tuple[dict, bytes]]:
            return _complete_messages(bytes(client.responses[sid]["data"]))

        client.pump(lambda: any(h.get(":event-type") == "SubscribeToShardEvent" for h, _ in events()))
        answer = client.responses[sid]
        assert answer["headers"][b":status"] == b"200"
        assert answer["headers"][b"content-type"] == b"application/vnd.amazon.eventstream"
        kinds = [h[":event-type"] for h, _ in events()]
        assert kinds[0] == "initial-response" and "SubscribeToShardEvent" in kinds
        payload = next(p for h, p in events() if h[":event-type"] == "SubscribeToShardEvent")
        assert [r["Data"] for r in json.loads(payload)["Records"]] == ["aGVsbG8="]
    finally:
        client.close()


def _complete_messages(data: bytes) -> list[tuple[dict, bytes]]:
    """The whole event-stream messages at the start of ``data`` (the last may still be arriving)."""
    messages, position = [], 0
    while position < len(data):
        try:
            headers, payload, consumed = decode_message(data[position:])
        except EventStreamError:
            break
        messages.append((headers, payload))
        position += consumed
    return messages
