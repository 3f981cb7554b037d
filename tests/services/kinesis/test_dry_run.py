"""DryRun on the five data-plane operations whose model has it (docs: streams/latest/dev/kds-dryrun-validation).

A dry run makes the checks of the real call (input, stream, shard, iterator, subscription slot) and
then answers 400 DryRunOperationException, writing, reading and placing nothing; a dry run that fails
a check answers the error the real call answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator import clock
from tests.rawhttp import json_call
from tests.services.kinesis.conftest import arn, make_stream, read_shard
from tests.services.kinesis.test_cbor import cbor_call

SHARD = "shardId-000000000000"
MESSAGE = "The request would have succeeded without the DryRun parameter."


def outcome(call: Callable[..., Any], **kwargs: Any) -> tuple[int, str, str]:
    """(HTTP status, error code, message) of the ClientError ``call(**kwargs)`` raises."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def _iterator(kinesis: Any, stream: str = "s") -> str:
    return kinesis.get_shard_iterator(StreamName=stream, ShardId=SHARD, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]


def _consumer(kinesis: Any, stream: str = "s") -> str:
    return kinesis.register_stream_consumer(StreamARN=arn(stream), ConsumerName="c")["Consumer"]["ConsumerARN"]


# (operation, the request's members given a client on a stream "s" with one record)
VALID: list[tuple[str, Callable[[Any], dict[str, Any]]]] = [
    ("put_record", lambda k: {"StreamName": "s", "Data": b"new", "PartitionKey": "k"}),
    ("put_records", lambda k: {"StreamName": "s", "Records": [{"Data": b"new", "PartitionKey": "k"}] * 3}),
    ("get_shard_iterator", lambda k: {"StreamName": "s", "ShardId": SHARD, "ShardIteratorType": "LATEST"}),
    ("get_records", lambda k: {"ShardIterator": _iterator(k)}),
    ("subscribe_to_shard", lambda k: {"ConsumerARN": _consumer(k), "ShardId": SHARD,
                                      "StartingPosition": {"Type": "TRIM_HORIZON"}}),
]


@pytest.mark.parametrize(("operation", "members"), VALID, ids=[v[0] for v in VALID])
def test_a_valid_dry_run_answers_dry_run_operation_exception_and_changes_nothing(
    kinesis, provider, operation, members
) -> None:
    make_stream(kinesis, "s")
    kinesis.put_record(StreamName="s", Data=b"old", PartitionKey="k")
    request = members(kinesis)
    assert outcome(getattr(kinesis, operation), **request, DryRun=True) == (400, "DryRunOperationException", MESSAGE)
    assert [r["Data"] for r in read_shard(kinesis, "s", SHARD)] == [b"old"]
    assert all(not store.subscriptions for _, store in provider._stores.items())
    # DryRun false is an ordinary call.
    result = getattr(kinesis, operation)(**request, DryRun=False)
    if operation == "subscribe_to_shard":
        result["EventStream"].close()
    elif operation == "get_records":
        assert [r["Data"] for r in result["Records"]] == [b"old"]


def test_a_dry_run_put_does_not_move_the_auto_strategys_turn(kinesis) -> None:
    kinesis.create_stream(
        StreamName="s", StreamModeDetails={"StreamMode": "ON_DEMAND"}, RecordDistributionStrategy="AUTO"
    )
    first = kinesis.put_record(StreamName="s", Data=b"a")["ShardId"]
    for call, extra in (("put_record", {"Data": b"x"}), ("put_records", {"Records": [{"Data": b"x"}] * 3})):
        assert outcome(getattr(kinesis, call), StreamName="s", DryRun=True, **extra)[1] == "DryRunOperationException"
    second = kinesis.put_record(StreamName="s", Data=b"b")["ShardId"]
    shards = sorted(s["ShardId"] for s in kinesis.list_shards(StreamName="s")["Shards"])
    assert shards.index(second) == (shards.index(first) + 1) % len(shards)


def test_a_dry_run_read_does_not_spend_the_shards_read_budget(kinesis, settings) -> None:
    settings(kinesis_throughput_limits=True)
    make_stream(kinesis, "s")
    iterator = _iterator(kinesis)
    clock.freeze()  # the requests below fall in one second of emulator time
    clock.advance(1 - clock.now() % 1 + 0.01)
    for _ in range(4):
        kinesis.get_records(ShardIterator=iterator)
    assert outcome(kinesis.get_records, ShardIterator=iterator, DryRun=True)[1] == "DryRunOperationException"
    kinesis.get_records(ShardIterator=iterator)  # the fifth real read of the second is still admitted
    code = outcome(kinesis.get_records, ShardIterator=iterator)[1]
    assert code == "ProvisionedThroughputExceededException"  # the sixth is not: the budget is really counted


def _expired_iterator(kinesis: Any) -> str:
    iterator = _iterator(kinesis)
    clock.advance(301)
    return iterator


def _held_subscription(kinesis: Any) -> dict[str, Any]:
    consumer = _consumer(kinesis)
    request = {"ConsumerARN": consumer, "ShardId": SHARD, "StartingPosition": {"Type": "LATEST"}}
    next(iter(kinesis.subscribe_to_shard(**request)["EventStream"]))
    return request


# (label, operation, the request's members given a client on a stream "s", the expected error code)
INVALID: list[tuple[str, str, Callable[[Any], dict[str, Any]], str]] = [
    ("put-unknown-stream", "put_record",
     lambda k: {"StreamName": "nope", "Data": b"x", "PartitionKey": "k"}, "ResourceNotFoundException"),
    ("put-bad-hash-key", "put_record",
     lambda k: {"StreamName": "s", "Data": b"x", "PartitionKey": "k", "ExplicitHashKey": str(2**128)},
     "InvalidArgumentException"),
    ("put-too-large", "put_record",
     lambda k: {"StreamName": "s", "Data": b"x" * 1048576, "PartitionKey": "k"}, "InvalidArgumentException"),
    ("put-bad-ordering", "put_record",
     lambda k: {"StreamName": "s", "Data": b"x", "PartitionKey": "k", "SequenceNumberForOrdering": "1"},
     "InvalidArgumentException"),
    ("put-no-key", "put_record", lambda k: {"StreamName": "s", "Data": b"x"}, "ValidationException"),
    ("puts-unknown-stream", "put_records",
     lambda k: {"StreamName": "nope", "Records": [{"Data": b"x", "PartitionKey": "k"}]}, "ResourceNotFoundException"),
    ("puts-no-key", "put_records", lambda k: {"StreamName": "s", "Records": [{"Data": b"x"}]}, "ValidationException"),
    ("iterator-unknown-shard", "get_shard_iterator",
     lambda k: {"StreamName": "s", "ShardId": "shardId-000000000009", "ShardIteratorType": "LATEST"},
     "ResourceNotFoundException"),
    ("iterator-missing-sequence", "get_shard_iterator",
     lambda k: {"StreamName": "s", "ShardId": SHARD, "ShardIteratorType": "AT_SEQUENCE_NUMBER"},
     "InvalidArgumentException"),
    ("records-bad-iterator", "get_records", lambda k: {"ShardIterator": "bogus"}, "InvalidArgumentException"),
    ("records-expired-iterator", "get_records",
     lambda k: {"ShardIterator": _expired_iterator(k)}, "ExpiredIteratorException"),
    ("subscribe-unknown-shard", "subscribe_to_shard",
     lambda k: {"ConsumerARN": _consumer(k), "ShardId": "shardId-000000000009", "StartingPosition": {"Type": "LATEST"}},
     "ResourceNotFoundException"),
    ("subscribe-slot-held", "subscribe_to_shard", _held_subscription, "ResourceInUseException"),
]


@pytest.mark.parametrize(("label", "operation", "members", "code"), INVALID, ids=[i[0] for i in INVALID])
def test_an_invalid_dry_run_answers_the_error_of_the_real_call(raw_kinesis, label, operation, members, code) -> None:
    make_stream(raw_kinesis, "s")
    request = members(raw_kinesis)
    call = getattr(raw_kinesis, operation)
    real = outcome(call, **request)
    assert real[1] == code
    assert outcome(call, **request, DryRun=True) == real
    assert read_shard(raw_kinesis, "s", SHARD) == []


def test_dry_runs_over_cbor_and_raw_json(emulator_url, kinesis) -> None:
    make_stream(kinesis, "s")
    status, answer, _ = cbor_call(
        emulator_url, "PutRecord", {"StreamName": "s", "Data": b"x", "PartitionKey": "k", "DryRun": True}
    )
    code = answer["__type"].rpartition("#")[2]
    assert (status, code, answer["message"]) == (400, "DryRunOperationException", MESSAGE)
    status, answer, _ = cbor_call(
        emulator_url, "PutRecord", {"StreamName": "nope", "Data": b"x", "PartitionKey": "k", "DryRun": True}
    )
    assert (status, answer["__type"].rpartition("#")[2]) == (400, "ResourceNotFoundException")
    response = json_call(
        emulator_url, "Kinesis_20131202.PutRecords",
        '{"StreamName": "s", "Records": [{"Data": "eA==", "PartitionKey": "k"}], "DryRun": true}',
    )
    assert response.status == 400 and response.json()["__type"].rpartition("#")[2] == "DryRunOperationException"
    assert read_shard(kinesis, "s", SHARD) == []
