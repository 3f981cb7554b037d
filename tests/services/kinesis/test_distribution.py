"""Record distribution strategies: USER_PARTITION_KEY (the default) and AUTO (on-demand streams only),
set by CreateStream or UpdateStreamRecordDistributionStrategy, and where PutRecord(s) place records."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator import specs
from tests.services.kinesis.conftest import ACCOUNT, arn, error_of, read_shard

pytestmark = pytest.mark.skipif(
    "UpdateStreamRecordDistributionStrategy" not in specs.load("kinesis").operation_names,
    reason="this botocore's Kinesis model has no record distribution strategy",
)

ON_DEMAND = {"StreamModeDetails": {"StreamMode": "ON_DEMAND"}}


def _on_demand(kinesis: Any, name: str = "s", **extra: Any) -> str:
    kinesis.create_stream(StreamName=name, **ON_DEMAND, **extra)
    return name


def _open_shards(kinesis: Any, name: str = "s") -> list[str]:
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    shards.sort(key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
    return [s["ShardId"] for s in shards]


def _strategy(kinesis: Any, name: str = "s") -> str | None:
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"].get(
        "RecordDistributionStrategy"
    )


def _auto_message(name: str = "s") -> str:
    return (
        "The AUTO record distribution strategy is only supported for streams in ON_DEMAND mode. "
        f"Stream {name} under account {ACCOUNT} is in PROVISIONED mode."
    )


def test_auto_is_refused_for_a_provisioned_stream_at_creation_and_nothing_is_created(raw_kinesis) -> None:
    with pytest.raises(ClientError) as info:
        raw_kinesis.create_stream(StreamName="s", ShardCount=1, RecordDistributionStrategy="AUTO")
    response = info.value.response
    assert response["Error"]["Code"] == "InvalidArgumentException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Message"] == _auto_message()
    assert raw_kinesis.list_streams()["StreamNames"] == []


def test_auto_is_refused_for_a_provisioned_stream_by_the_update(kinesis) -> None:
    kinesis.create_stream(StreamName="s", ShardCount=2)
    code, message = error_of(
        kinesis.update_stream_record_distribution_strategy, StreamARN=arn("s"), RecordDistributionStrategy="AUTO"
    )
    assert (code, message) == ("InvalidArgumentException", _auto_message())
    assert _strategy(kinesis) is None  # provisioned streams do not report the setting


@pytest.mark.parametrize("how", ["create", "update"])
def test_auto_deals_records_to_the_open_shards_in_turn_ignoring_keys(kinesis, how) -> None:
    if how == "create":
        _on_demand(kinesis, RecordDistributionStrategy="AUTO")
    else:
        _on_demand(kinesis)
        kinesis.update_stream_record_distribution_strategy(StreamARN=arn("s"), RecordDistributionStrategy="AUTO")
    assert _strategy(kinesis) == "AUTO"
    shards = _open_shards(kinesis)
    placed = [
        kinesis.put_record(StreamName="s", Data=f"r{i}".encode(), PartitionKey="same", ExplicitHashKey="0")["ShardId"]
        for i in range(2 * len(shards))
    ]
    assert placed == shards + shards  # one key and one hash key, yet every shard in turn


def test_records_without_a_partition_key_are_read_without_one(kinesis) -> None:
    _on_demand(kinesis, RecordDistributionStrategy="AUTO")
    shard = kinesis.put_record(StreamName="s", Data=b"no key")["ShardId"]
    kinesis.put_record(StreamName="s", Data=b"keyed", PartitionKey="kept")  # the next shard
    records = read_shard(kinesis, "s", shard)
    assert [r["Data"] for r in records] == [b"no key"] and "PartitionKey" not in records[0]
    keyed = [r for sid in _open_shards(kinesis) for r in read_shard(kinesis, "s", sid) if r["Data"] == b"keyed"]
    assert [r["PartitionKey"] for r in keyed] == ["kept"]  # given keys come back, though unused


def test_put_records_spreads_a_batch_evenly_and_accepts_missing_keys(kinesis) -> None:
    _on_demand(kinesis, RecordDistributionStrategy="AUTO")
    shards = _open_shards(kinesis)
    entries = [{"Data": f"{i}".encode()} for i in range(10)] + [{"Data": b"k", "PartitionKey": "x"}] * 2
    result = kinesis.put_records(StreamName="s", Records=entries)
    assert result["FailedRecordCount"] == 0
    counts = Counter(r["ShardId"] for r in result["Records"])
    assert sorted(counts) == sorted(shards) and set(counts.values()) == {len(entries) // len(shards)}


def test_sequence_number_for_ordering_is_refused_under_auto(kinesis) -> None:
    _on_demand(kinesis, RecordDistributionStrategy="AUTO")
    first = kinesis.put_record(StreamName="s", Data=b"a")["SequenceNumber"]
    code, message = error_of(kinesis.put_record, StreamName="s", Data=b"b", SequenceNumberForOrdering=first)
    assert code == "InvalidArgumentException"
    assert message == (
        f"SequenceNumberForOrdering cannot be used in PutRecord on stream s under account {ACCOUNT} "
        "because the stream uses the AUTO record distribution strategy."
    )


def test_switching_back_requires_keys_again_and_keeps_placed_records(kinesis) -> None:
    _on_demand(kinesis, RecordDistributionStrategy="AUTO")
    shards = _open_shards(kinesis)
    for i in range(len(shards)):
        kinesis.put_record(StreamName="s", Data=f"{i}".encode())
    kinesis.update_stream_record_distribution_strategy(
        StreamARN=arn("s"), RecordDistributionStrategy="USER_PARTITION_KEY"
    )
    assert _strategy(kinesis) == "USER_PARTITION_KEY"
    code, message = error_of(kinesis.put_record, StreamName="s", Data=b"x")
    assert code == "ValidationException" and "partitionKey" in message
    code, _ = error_of(kinesis.put_records, StreamName="s", Records=[{"Data": b"x"}])
    assert code == "ValidationException"
    assert [len(read_shard(kinesis, "s", sid)) for sid in shards] == [1] * len(shards)
    same = {kinesis.put_record(StreamName="s", Data=b"k", PartitionKey="one")["ShardId"] for _ in range(4)}
    assert len(same) == 1  # by partition key again


def test_user_partition_key_is_accepted_and_reported_where_documented(kinesis) -> None:
    kinesis.create_stream(StreamName="p", ShardCount=1, RecordDistributionStrategy="USER_PARTITION_KEY")
    kinesis.update_stream_record_distribution_strategy(
        StreamARN=arn("p"), RecordDistributionStrategy="USER_PARTITION_KEY")
    _on_demand(kinesis, "o")
    assert _strategy(kinesis, "p") is None  # "only present for streams that use the on-demand capacity mode"
    assert _strategy(kinesis, "o") == "USER_PARTITION_KEY"


@pytest.mark.parametrize(("stream", "expected"), [
    ("arn:aws:kinesis:us-east-1:000000000000:stream/missing", "ResourceNotFoundException"),
    ("arn:aws:kinesis:eu-west-1:000000000000:stream/s", "ResourceNotFoundException"),
])
def test_update_of_an_unknown_stream_is_not_found(kinesis, stream, expected) -> None:
    _on_demand(kinesis)
    code, _ = error_of(
        kinesis.update_stream_record_distribution_strategy, StreamARN=stream, RecordDistributionStrategy="AUTO"
    )
    assert code == expected
    assert _strategy(kinesis) == "USER_PARTITION_KEY"


def test_update_is_refused_while_the_stream_is_not_active(kinesis, settings) -> None:
    settings(kinesis_transition_seconds=30)
    _on_demand(kinesis)
    code, message = error_of(
        kinesis.update_stream_record_distribution_strategy, StreamARN=arn("s"), RecordDistributionStrategy="AUTO"
    )
    assert code == "ResourceInUseException" and "not ACTIVE, instead in state CREATING" in message
