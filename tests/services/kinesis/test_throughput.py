"""The opt-in per-shard throughput limits (--kinesis-throughput-limits)."""

from __future__ import annotations

from emulator import clock
from tests.services.kinesis.conftest import ACCOUNT, error_of, make_stream


def test_without_the_flag_nothing_is_throttled(kinesis) -> None:
    make_stream(kinesis, "s")
    result = kinesis.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 500)
    result2 = kinesis.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 500)
    result3 = kinesis.put_records(StreamName="s", Records=[{"Data": b"x", "PartitionKey": "k"}] * 500)
    assert result["FailedRecordCount"] == result2["FailedRecordCount"] == result3["FailedRecordCount"] == 0


def test_writes_over_a_thousand_records_a_second_fail_per_record(kinesis, settings) -> None:
    settings(kinesis_throughput_limits=True)
    make_stream(kinesis, "s", 2)
    clock.freeze()  # every request below falls in one second of emulator time
    clock.advance(1 - clock.now() % 1 + 0.01)  # the start of a fresh second
    low, high = "0", str(2**127)
    batch = [{"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": low}] * 500
    assert kinesis.put_records(StreamName="s", Records=batch)["FailedRecordCount"] == 0
    assert kinesis.put_records(StreamName="s", Records=batch)["FailedRecordCount"] == 0
    mixed = kinesis.put_records(
        StreamName="s", Records=[batch[0], {"Data": b"y", "PartitionKey": "k", "ExplicitHashKey": high}]
    )
    assert mixed["FailedRecordCount"] == 1
    failed, ok = mixed["Records"]
    assert failed == {
        "ErrorCode": "ProvisionedThroughputExceededException",
        "ErrorMessage": f"Rate exceeded for shard shardId-000000000000 in stream s under account {ACCOUNT}.",
    }
    assert ok["ShardId"] == "shardId-000000000001"
    code, _ = error_of(kinesis.put_record, StreamName="s", Data=b"x", PartitionKey="k", ExplicitHashKey=low)
    assert code == "ProvisionedThroughputExceededException"
    clock.advance(1)
    kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k", ExplicitHashKey=low)


def test_writes_over_a_mebibyte_a_second_are_throttled(kinesis, settings) -> None:
    settings(kinesis_throughput_limits=True)
    make_stream(kinesis, "s")
    clock.freeze()  # the requests below fall in one second of emulator time
    clock.advance(1 - clock.now() % 1 + 0.01)
    kinesis.put_record(StreamName="s", Data=b"x" * 600_000, PartitionKey="k")
    assert (
        error_of(kinesis.put_record, StreamName="s", Data=b"x" * 600_000, PartitionKey="k")[0]
        == "ProvisionedThroughputExceededException"
    )


def test_more_than_five_get_records_a_second_are_throttled(kinesis, settings) -> None:
    settings(kinesis_throughput_limits=True)
    make_stream(kinesis, "s")
    iterator = kinesis.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    clock.freeze()  # the requests below fall in one second of emulator time
    clock.advance(1 - clock.now() % 1 + 0.01)
    for _ in range(5):
        kinesis.get_records(ShardIterator=iterator)
    assert error_of(kinesis.get_records, ShardIterator=iterator)[0] == "ProvisionedThroughputExceededException"
    clock.advance(1)
    kinesis.get_records(ShardIterator=iterator)
