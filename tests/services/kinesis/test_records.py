"""Records over the wire: PutRecord(s), GetShardIterator of every type, GetRecords, retention."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from emulator import clock
from tests.services.kinesis.conftest import ACCOUNT, arn, error_of, make_stream, read_shard

HALF = str(2**127)


def shard_for(key: str, shards: int) -> str:
    value = int(hashlib.md5(key.encode()).hexdigest(), 16)
    return f"shardId-{value * shards // 2**128:012d}"


def test_put_record_routes_by_md5_of_the_partition_key(kinesis) -> None:
    make_stream(kinesis, "s", 4)
    for key in ["a", "b", "c", "user-1", "user-2", "ünïcode"]:
        result = kinesis.put_record(StreamName="s", Data=b"x", PartitionKey=key)
        assert result["ShardId"] == shard_for(key, 4)
        assert result["EncryptionType"] == "NONE"


@pytest.mark.parametrize(
    ("hash_key", "shard"),
    [
        ("0", "shardId-000000000000"),
        (str(2**127 - 1), "shardId-000000000000"),
        (HALF, "shardId-000000000001"),
        (str(2**128 - 1), "shardId-000000000001"),
    ],
)
def test_explicit_hash_key_overrides_the_partition_key(kinesis, hash_key, shard) -> None:
    make_stream(kinesis, "s", 2)
    assert kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="a", ExplicitHashKey=hash_key)["ShardId"] == shard


def test_sequence_numbers_increase_within_a_shard_and_across_shards_by_arrival(kinesis) -> None:
    make_stream(kinesis, "s", 3)
    results = [kinesis.put_record(StreamName="s", Data=b"%d" % i, PartitionKey=str(i)) for i in range(40)]
    numbers = [int(r["SequenceNumber"]) for r in results]
    assert numbers == sorted(numbers) and len(set(numbers)) == 40
    starts = {
        s["ShardId"]: int(s["SequenceNumberRange"]["StartingSequenceNumber"])
        for s in kinesis.list_shards(StreamName="s")["Shards"]
    }
    assert all(int(r["SequenceNumber"]) > starts[r["ShardId"]] for r in results)


def test_records_read_back_in_order_with_their_fields(kinesis) -> None:
    make_stream(kinesis, "s")
    sent = [
        kinesis.put_record(StreamName="s", Data=bytes([i]) * i, PartitionKey=f"k{i}")["SequenceNumber"]
        for i in range(5)
    ]
    records = read_shard(kinesis, "s", "shardId-000000000000")
    assert [r["SequenceNumber"] for r in records] == sent
    assert [r["Data"] for r in records] == [bytes([i]) * i for i in range(5)]
    assert [r["PartitionKey"] for r in records] == [f"k{i}" for i in range(5)]
    assert all(abs(r["ApproximateArrivalTimestamp"].timestamp() - clock.now()) < 5 for r in records)


def test_put_records_answers_per_record_in_request_order(kinesis) -> None:
    make_stream(kinesis, "s", 2)
    entries = [{"Data": b"d%d" % i, "PartitionKey": f"p{i}"} for i in range(10)] + [
        {"Data": b"e", "PartitionKey": "x", "ExplicitHashKey": HALF}
    ]
    result = kinesis.put_records(StreamName="s", Records=entries)
    assert result["FailedRecordCount"] == 0 and result["EncryptionType"] == "NONE"
    assert [r["ShardId"] for r in result["Records"][:10]] == [shard_for(f"p{i}", 2) for i in range(10)]
    assert result["Records"][10]["ShardId"] == "shardId-000000000001"
    by_shard = {
        sid: [r["SequenceNumber"] for r in read_shard(kinesis, "s", sid)]
        for sid in ("shardId-000000000000", "shardId-000000000001")
    }
    for answer in result["Records"]:
        assert answer["SequenceNumber"] in by_shard[answer["ShardId"]]


@pytest.mark.parametrize(
    ("call", "kwargs", "code", "message"),
    [
        (
            "put_record",
            {"StreamName": "s", "Data": b"x", "PartitionKey": "k", "ExplicitHashKey": str(2**128)},
            "InvalidArgumentException",
            (
                "Invalid ExplicitHashKey. ExplicitHashKey must be in "
                f"the range: [0, 2^128-1]. Specified value was {2**128}"
            ),
        ),
        (
            "put_records",
            {"StreamName": "s", "Records": [{"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": str(2**128)}]},
            "InvalidArgumentException",
            "Invalid ExplicitHashKey.",
        ),
        (
            "put_record",
            {"StreamName": "s", "Data": b"x", "PartitionKey": "k", "SequenceNumberForOrdering": "123"},
            "InvalidArgumentException",
            f"ExclusiveMinimumSequenceNumber 123 used in PutRecord on stream s under account {ACCOUNT} is invalid.",
        ),
        (
            "put_record",
            {"StreamName": "nope", "Data": b"x", "PartitionKey": "k"},
            "ResourceNotFoundException",
            f"Stream nope under account {ACCOUNT} not found.",
        ),
        (
            "put_records",
            {"StreamName": "nope", "Records": [{"Data": b"x", "PartitionKey": "k"}]},
            "ResourceNotFoundException",
            "Stream nope under account",
        ),
        (
            "put_record",
            {"StreamName": "s", "Data": b"x" * (1024 * 1024), "PartitionKey": "k"},
            "InvalidArgumentException",
            "exceeds the maximum record size of 1048576 bytes",
        ),
        (
            "put_records",
            {"StreamName": "s", "Records": [{"Data": b"x" * 1000000, "PartitionKey": "k"}] * 11},
            "InvalidArgumentException",
            "10 MB limit",
        ),
        ("put_record", {"StreamName": "s", "Data": b"x", "PartitionKey": ""}, "ValidationException", "partitionKey"),
        (
            "put_records",
            {"StreamName": "s", "Records": [{"Data": b"x", "PartitionKey": "k"}] * 501},
            "ValidationException",
            "records",
        ),
        (
            "put_record",
            {"StreamName": "s", "Data": b"x", "PartitionKey": "k", "ExplicitHashKey": "-1"},
            "ValidationException",
            "explicitHashKey",
        ),
    ],
)
def test_put_errors(raw_kinesis, call, kwargs, code, message) -> None:
    make_stream(raw_kinesis, "s")
    got_code, got_message = error_of(getattr(raw_kinesis, call), **kwargs)
    assert (got_code, message in got_message) == (code, True), got_message
    assert raw_kinesis.describe_stream(StreamName="s")["StreamDescription"]["Shards"][0]["SequenceNumberRange"]
    assert read_shard(raw_kinesis, "s", "shardId-000000000000") == []  # a rejected request wrote nothing


def test_sequence_number_for_ordering_accepts_an_earlier_sequence_number(kinesis) -> None:
    make_stream(kinesis, "s")
    first = kinesis.put_record(StreamName="s", Data=b"1", PartitionKey="k")["SequenceNumber"]
    second = kinesis.put_record(StreamName="s", Data=b"2", PartitionKey="k", SequenceNumberForOrdering=first)[
        "SequenceNumber"
    ]
    assert int(second) > int(first)


def test_max_record_size_can_be_raised_to_ten_mib(kinesis) -> None:
    make_stream(kinesis, "s")
    kinesis.update_max_record_size(StreamARN=arn("s"), MaxRecordSizeInKiB=10240)
    kinesis.put_record(StreamName="s", Data=b"x" * (2 * 1024 * 1024), PartitionKey="k")
    assert kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["MaxRecordSizeInKiB"] == 10240


def _iterator(kinesis, kind, **extra):
    return kinesis.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000", ShardIteratorType=kind, **extra)[
        "ShardIterator"
    ]


def test_every_iterator_type_starts_where_aws_says(kinesis) -> None:
    make_stream(kinesis, "s")
    seqs = [kinesis.put_record(StreamName="s", Data=b"%d" % i, PartitionKey="k")["SequenceNumber"] for i in range(3)]
    clock.advance(10)
    middle_time = clock.now()
    seqs += [
        kinesis.put_record(StreamName="s", Data=b"%d" % i, PartitionKey="k")["SequenceNumber"] for i in range(3, 6)
    ]
    latest = _iterator(kinesis, "LATEST")
    later = kinesis.put_record(StreamName="s", Data=b"6", PartitionKey="k")["SequenceNumber"]
    seqs.append(later)

    def read(iterator):
        return [r["SequenceNumber"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]]

    assert read(_iterator(kinesis, "TRIM_HORIZON")) == seqs
    assert read(latest) == [later]
    assert read(_iterator(kinesis, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])) == seqs[2:]
    assert read(_iterator(kinesis, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])) == seqs[3:]
    assert read(_iterator(kinesis, "AT_TIMESTAMP", Timestamp=middle_time)) == seqs[3:]
    assert read(_iterator(kinesis, "AT_TIMESTAMP", Timestamp=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))) == seqs


def test_get_records_pages_with_limit_and_reports_millis_behind(kinesis) -> None:
    make_stream(kinesis, "s")
    seqs = [kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k")["SequenceNumber"] for _ in range(5)]
    clock.advance(60)
    first = kinesis.get_records(ShardIterator=_iterator(kinesis, "TRIM_HORIZON"), Limit=2)
    assert [r["SequenceNumber"] for r in first["Records"]] == seqs[:2]
    assert first["MillisBehindLatest"] >= 60000
    second = kinesis.get_records(ShardIterator=first["NextShardIterator"], Limit=10)
    assert [r["SequenceNumber"] for r in second["Records"]] == seqs[2:]
    assert second["MillisBehindLatest"] == 0
    empty = kinesis.get_records(ShardIterator=second["NextShardIterator"])
    assert empty["Records"] == [] and empty["NextShardIterator"]
    new = kinesis.put_record(StreamName="s", Data=b"y", PartitionKey="k")["SequenceNumber"]
    assert [r["SequenceNumber"] for r in kinesis.get_records(ShardIterator=empty["NextShardIterator"])["Records"]] == [
        new
    ]


def test_get_records_returns_at_most_ten_mib(kinesis) -> None:
    make_stream(kinesis, "s")
    kinesis.update_max_record_size(StreamARN=arn("s"), MaxRecordSizeInKiB=10240)
    for _ in range(3):
        kinesis.put_record(StreamName="s", Data=b"x" * (4 * 1024 * 1024), PartitionKey="k")
    first = kinesis.get_records(ShardIterator=_iterator(kinesis, "TRIM_HORIZON"))
    assert len(first["Records"]) == 2
    assert len(kinesis.get_records(ShardIterator=first["NextShardIterator"])["Records"]) == 1


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        (
            {"ShardId": "shardId-000000000009", "ShardIteratorType": "LATEST"},
            "ResourceNotFoundException",
            f"Shard shardId-000000000009 in stream s under account {ACCOUNT} does not exist",
        ),
        (
            {"StreamName": "nope", "ShardId": "shardId-000000000000", "ShardIteratorType": "LATEST"},
            "ResourceNotFoundException",
            f"Shard shardId-000000000000 in stream nope under account {ACCOUNT} does not exist",
        ),
        (
            {"ShardId": "shardId-000000000000", "ShardIteratorType": "AT_SEQUENCE_NUMBER"},
            "InvalidArgumentException",
            (
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER "
                "and StartingSequenceNumber or (2) TRIM_HORIZON "
                "or LATEST and no StartingSequenceNumber. Request specified "
                "AT_SEQUENCE_NUMBER and no StartingSequenceNumber."
            ),
        ),
        (
            {"ShardId": "shardId-000000000000", "ShardIteratorType": "LATEST", "StartingSequenceNumber": "{seq}"},
            "InvalidArgumentException",
            "Request specified LATEST and also a StartingSequenceNumber.",
        ),
        (
            {
                "ShardId": "shardId-000000000000",
                "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                "StartingSequenceNumber": "12345",
            },
            "InvalidArgumentException",
            (
                "StartingSequenceNumber 12345 used in GetShardIterator on shard "
                f"shardId-000000000000 in stream s under account {ACCOUNT} is invalid."
            ),
        ),
        (
            {
                "ShardId": "shardId-000000000001",
                "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                "StartingSequenceNumber": "{seq}",
            },
            "InvalidArgumentException",
            (
                "Invalid StartingSequenceNumber. It encodes shardId-000000000000, "
                "while it was used in a call to a shard with shardId-000000000001"
            ),
        ),
        (
            {
                "StreamName": "other",
                "ShardId": "shardId-000000000000",
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": "{seq}",
            },
            "InvalidArgumentException",
            "is invalid because it did not come from this stream.",
        ),
        (
            {"ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP"},
            "InvalidArgumentException",
            (
                "Must specify timestampInMillis parameter for iterator of type "
                "AT_TIMESTAMP. Current request has no timestamp parameter."
            ),
        ),
        (
            {"ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 4102444800},
            "InvalidArgumentException",
            "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis.",
        ),
        (
            {"ShardId": "shardId-000000000000", "ShardIteratorType": "SIDEWAYS"},
            "ValidationException",
            "shardIteratorType",
        ),
    ],
)
def test_get_shard_iterator_errors(raw_kinesis, kwargs, code, message) -> None:
    make_stream(raw_kinesis, "s", 2)
    make_stream(raw_kinesis, "other", 1)
    seq = raw_kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k", ExplicitHashKey="0")["SequenceNumber"]
    kwargs = {"StreamName": "s", **{k: (v.format(seq=seq) if isinstance(v, str) else v) for k, v in kwargs.items()}}
    got_code, got_message = error_of(raw_kinesis.get_shard_iterator, **kwargs)
    assert got_code == code and message.format(seq=seq) in got_message, got_message


def test_iterators_expire_after_five_minutes(kinesis) -> None:
    make_stream(kinesis, "s")
    iterator = _iterator(kinesis, "TRIM_HORIZON")
    clock.advance(299)
    kinesis.get_records(ShardIterator=iterator)
    clock.advance(2)
    code, message = error_of(kinesis.get_records, ShardIterator=iterator)
    assert code == "ExpiredIteratorException"
    assert message.startswith("Iterator expired. The iterator was created at time ")
    assert message.endswith("which is further in the future than the tolerated delay of 300000 milliseconds.")


@pytest.mark.parametrize("token", ["not-base64!", "AAAA", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="])
def test_invalid_iterators_are_rejected(kinesis, token) -> None:
    assert error_of(kinesis.get_records, ShardIterator=token) == ("InvalidArgumentException", "Invalid ShardIterator.")


def test_iterator_of_a_deleted_stream_is_not_found(kinesis) -> None:
    make_stream(kinesis, "s")
    iterator = _iterator(kinesis, "TRIM_HORIZON")
    kinesis.delete_stream(StreamName="s")
    make_stream(kinesis, "s")  # a new stream of the same name is not the old one
    assert error_of(kinesis.get_records, ShardIterator=iterator)[0] == "ResourceNotFoundException"


def test_records_past_the_retention_period_are_no_longer_returned(kinesis) -> None:
    make_stream(kinesis, "s")
    old = kinesis.put_record(StreamName="s", Data=b"old", PartitionKey="k")["SequenceNumber"]
    clock.advance(12 * 3600)
    new = kinesis.put_record(StreamName="s", Data=b"new", PartitionKey="k")["SequenceNumber"]
    stale_iterator_time = clock.now()
    assert [r["SequenceNumber"] for r in read_shard(kinesis, "s", "shardId-000000000000")] == [old, new]
    clock.advance(12 * 3600 + 1)
    assert [r["SequenceNumber"] for r in read_shard(kinesis, "s", "shardId-000000000000")] == [new]
    at_old = read_shard(kinesis, "s", "shardId-000000000000", "AT_SEQUENCE_NUMBER", StartingSequenceNumber=old)
    assert [r["SequenceNumber"] for r in at_old] == [new]
    assert stale_iterator_time < clock.now()


def test_longer_retention_keeps_records(kinesis) -> None:
    make_stream(kinesis, "s")
    kinesis.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=48)
    seq = kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k")["SequenceNumber"]
    clock.advance(47 * 3600)
    assert [r["SequenceNumber"] for r in read_shard(kinesis, "s", "shardId-000000000000")] == [seq]


def test_increasing_retention_does_not_bring_back_expired_records(kinesis) -> None:
    # "This operation may result in lost data ... does not make previous, expired data accessible."
    make_stream(kinesis, "s")
    kinesis.put_record(StreamName="s", Data=b"old", PartitionKey="k")
    clock.advance(25 * 3600)
    new = kinesis.put_record(StreamName="s", Data=b"new", PartitionKey="k")["SequenceNumber"]
    kinesis.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=48)
    assert [r["SequenceNumber"] for r in read_shard(kinesis, "s", "shardId-000000000000")] == [new]
    at_time = read_shard(kinesis, "s", "shardId-000000000000", "AT_TIMESTAMP", Timestamp=clock.now() - 40 * 3600)
    assert [r["SequenceNumber"] for r in at_time] == [new]


def test_decreasing_then_increasing_retention_keeps_what_expired_expired(kinesis) -> None:
    make_stream(kinesis, "s")
    kinesis.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=48)
    kinesis.put_record(StreamName="s", Data=b"old", PartitionKey="k")
    clock.advance(30 * 3600)
    new = kinesis.put_record(StreamName="s", Data=b"new", PartitionKey="k")["SequenceNumber"]
    kinesis.decrease_stream_retention_period(StreamName="s", RetentionPeriodHours=24)
    kinesis.increase_stream_retention_period(StreamName="s", RetentionPeriodHours=48)
    assert [r["SequenceNumber"] for r in read_shard(kinesis, "s", "shardId-000000000000")] == [new]
    # records still within the new period stay readable as it grows
    clock.advance(30 * 3600)
    assert [r["SequenceNumber"] for r in read_shard(kinesis, "s", "shardId-000000000000")] == [new]


def test_get_records_with_a_stream_arn_of_another_stream_is_rejected(kinesis) -> None:
    make_stream(kinesis, "s")
    make_stream(kinesis, "t")
    iterator = _iterator(kinesis, "TRIM_HORIZON")
    kinesis.get_records(ShardIterator=iterator, StreamARN=arn("s"))
    assert error_of(kinesis.get_records, ShardIterator=iterator, StreamARN=arn("t"))[0] == "InvalidArgumentException"


@pytest.mark.parametrize(("call", "kwargs", "path"), [
    ("put_record", {"StreamName": "s", "Data": b"x"}, "partitionKey"),
    ("put_records", {"StreamName": "s", "Records": [{"Data": b"x", "PartitionKey": "k"}, {"Data": b"y"}]},
     "records.2.member.partitionKey"),
])
def test_a_record_without_a_partition_key_is_refused_and_nothing_is_written(raw_kinesis, call, kwargs, path) -> None:
    # botocore's newest models make PartitionKey optional (for AWS's AUTO distribution); a stream with
    # the default USER_PARTITION_KEY strategy still requires it, whichever model the server loaded.
    make_stream(raw_kinesis, "s")
    code, message = error_of(getattr(raw_kinesis, call), **kwargs)
    assert code == "ValidationException"
    assert message == (
        f"1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null"
    )
    iterator = raw_kinesis.get_shard_iterator(
        StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert raw_kinesis.get_records(ShardIterator=iterator)["Records"] == []


def test_a_record_delivered_by_another_service_is_read_back(kinesis, provider) -> None:
    from emulator.errors import ServiceError

    kinesis.create_stream(StreamName="target", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="target")["StreamDescriptionSummary"]["StreamARN"]
    put = provider.deliver_record(account="000000000000", region="us-east-1", stream_arn=stream,
                                  data=b'{"id": 1}', partition_key="event-id")
    iterator = kinesis.get_shard_iterator(StreamName="target", ShardId=put["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    [record] = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert record["Data"] == b'{"id": 1}' and record["PartitionKey"] == "event-id"
    assert record["SequenceNumber"] == put["SequenceNumber"]
    for key in ("", "k" * 257):
        with pytest.raises(ServiceError) as raised:
            provider.deliver_record(account="000000000000", region="us-east-1", stream_arn=stream, data=b"x",
                                    partition_key=key)
        assert raised.value.code == "InvalidArgumentException"
    with pytest.raises(ServiceError) as raised:
        provider.deliver_record(account="000000000000", region="us-east-1",
                                stream_arn=stream.replace("target", "missing"), data=b"x", partition_key="k")
    assert raised.value.code == "ResourceNotFoundException"
