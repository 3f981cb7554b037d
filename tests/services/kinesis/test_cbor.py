"""Kinesis over the wire in CBOR, as the AWS SDK for Java and the KCL speak it, beside boto3's JSON."""

from __future__ import annotations

import datetime
from typing import Any

import cbor2

from tests.rawhttp import send, signed

CBOR = "application/x-amz-cbor-1.1"


def cbor_call(url: str, operation: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
    response = send(
        url, body=cbor2.dumps(body),
        headers={**signed("kinesis"), "X-Amz-Target": f"Kinesis_20131202.{operation}", "Content-Type": CBOR},
    )
    # An operation with no output (CreateStream) answers an empty body.
    return response.status, cbor2.loads(response.body) if response.body else None, response.headers


def test_records_written_in_cbor_read_back_the_same_in_cbor_and_json(emulator_url, aws_client) -> None:
    kinesis = aws_client("kinesis")
    status, answer, headers = cbor_call(emulator_url, "CreateStream", {"StreamName": "c", "ShardCount": 1})
    assert (status, headers["content-type"]) == (200, CBOR)
    record = {"StreamName": "c", "Data": b"\x00\xffbin", "PartitionKey": "k"}
    status, put, _ = cbor_call(emulator_url, "PutRecord", record)
    assert status == 200 and put["ShardId"] == "shardId-000000000000"
    kinesis.put_record(StreamName="c", Data=b"from json", PartitionKey="k")

    _, iterator, _ = cbor_call(emulator_url, "GetShardIterator", {
        "StreamName": "c", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})
    _, records, _ = cbor_call(emulator_url, "GetRecords", {"ShardIterator": iterator["ShardIterator"]})
    by_json = kinesis.get_records(ShardIterator=kinesis.get_shard_iterator(
        StreamName="c", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"])

    assert [r["Data"] for r in records["Records"]] == [b"\x00\xffbin", b"from json"]
    assert [r["Data"] for r in by_json["Records"]] == [b"\x00\xffbin", b"from json"]
    assert [r["SequenceNumber"] for r in records["Records"]] == [r["SequenceNumber"] for r in by_json["Records"]]
    assert records["Records"][0]["SequenceNumber"] == put["SequenceNumber"]
    # Timestamps are integer epoch milliseconds in CBOR, the same instants boto3 reads from JSON.
    for cbor_record, json_record in zip(records["Records"], by_json["Records"], strict=True):
        millis = cbor_record["ApproximateArrivalTimestamp"]
        assert isinstance(millis, int)
        assert json_record["ApproximateArrivalTimestamp"] == datetime.datetime.fromtimestamp(
            millis / 1000, tz=datetime.timezone.utc)


def test_cbor_describe_stream_matches_json(emulator_url, aws_client) -> None:
    kinesis = aws_client("kinesis")
    kinesis.create_stream(StreamName="d", ShardCount=3)
    _, described, _ = cbor_call(emulator_url, "DescribeStreamSummary", {"StreamName": "d"})
    by_json = kinesis.describe_stream_summary(StreamName="d")["StreamDescriptionSummary"]
    summary = described["StreamDescriptionSummary"]
    assert summary["StreamARN"] == by_json["StreamARN"] and summary["OpenShardCount"] == 3
    _, shards, _ = cbor_call(emulator_url, "ListShards", {"StreamName": "d"})
    assert shards["Shards"] == kinesis.list_shards(StreamName="d")["Shards"]


def test_cbor_errors_come_back_in_cbor(emulator_url, emulator_reset) -> None:
    status, error, headers = cbor_call(emulator_url, "DescribeStream", {"StreamName": "missing"})
    assert (status, headers["content-type"]) == (400, CBOR)
    assert error["__type"] == "ResourceNotFoundException"
    assert "missing" in error["message"]
    status, error, _ = cbor_call(emulator_url, "CreateStream", {"StreamName": "bad name!", "ShardCount": 1})
    assert (status, error["__type"]) == (400, "ValidationException")
    status, error, _ = cbor_call(emulator_url, "PutRecord", {"StreamName": "x", "Data": 5, "PartitionKey": "k"})
    assert (status, error["__type"]) == (400, "SerializationException")
