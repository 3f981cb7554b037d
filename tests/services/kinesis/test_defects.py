"""The defects found by using Kinesis (issue 11): time stamps kept to the millisecond, expired records
forgotten, consumer pagination, documented page-size caps, quotas and the GetRecords pay-back."""

from __future__ import annotations

import time
from typing import Any

import pytest

from emulator import clock
from emulator.services.kinesis import expiry
from tests.services.kinesis.conftest import ACCOUNT, arn, error_of, make_stream, read_shard
from tests.services.kinesis.test_cbor import cbor_call
from tests.services.kinesis.test_queues import make_queue, on_demand

SHARD = "shardId-000000000000"


def _put_spread(kinesis: Any, count: int) -> list[dict]:
    """``count`` records 1.3 ms apart from a time 0.4 ms past a millisecond, so about half of their
    microsecond arrival times would round up to the next millisecond; returns them as read back."""
    clock.freeze()
    clock.advance(1 - clock.now() % 1 + 0.0004)
    for index in range(count):
        kinesis.put_record(StreamName="s", Data=b"%d" % index, PartitionKey="k")
        clock.advance(0.0013)
    return read_shard(kinesis, "s", SHARD)


def test_an_at_timestamp_iterator_at_a_records_own_arrival_starts_at_that_record(kinesis) -> None:
    make_stream(kinesis, "s")
    records = _put_spread(kinesis, 25)
    for record in records:
        iterator = kinesis.get_shard_iterator(
            StreamName="s", ShardId=SHARD, ShardIteratorType="AT_TIMESTAMP",
            Timestamp=record["ApproximateArrivalTimestamp"],
        )["ShardIterator"]
        first = kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"][0]
        assert first["SequenceNumber"] == record["SequenceNumber"]


def test_cbor_at_timestamp_at_a_records_millisecond_arrival_starts_at_that_record(kinesis, emulator_url) -> None:
    make_stream(kinesis, "s")
    _put_spread(kinesis, 20)
    _, iterator, _ = cbor_call(emulator_url, "GetShardIterator", {
        "StreamName": "s", "ShardId": SHARD, "ShardIteratorType": "TRIM_HORIZON"})
    _, page, _ = cbor_call(emulator_url, "GetRecords", {"ShardIterator": iterator["ShardIterator"]})
    for record in page["Records"]:
        _, at, _ = cbor_call(emulator_url, "GetShardIterator", {
            "StreamName": "s", "ShardId": SHARD, "ShardIteratorType": "AT_TIMESTAMP",
            "Timestamp": record["ApproximateArrivalTimestamp"]})
        _, read, _ = cbor_call(emulator_url, "GetRecords", {"ShardIterator": at["ShardIterator"], "Limit": 1})
        assert read["Records"][0]["SequenceNumber"] == record["SequenceNumber"]


def test_subscribe_to_shard_at_a_records_own_arrival_starts_at_that_record(kinesis) -> None:
    make_stream(kinesis, "s")
    records = _put_spread(kinesis, 12)
    consumer = kinesis.register_stream_consumer(StreamARN=arn("s"), ConsumerName="c")["Consumer"]["ConsumerARN"]
    for record in records[1::2]:
        response = kinesis.subscribe_to_shard(
            ConsumerARN=consumer, ShardId=SHARD,
            StartingPosition={"Type": "AT_TIMESTAMP", "Timestamp": record["ApproximateArrivalTimestamp"]},
        )
        event = next(iter(response["EventStream"]))["SubscribeToShardEvent"]
        response["EventStream"].close()
        assert event["Records"][0]["SequenceNumber"] == record["SequenceNumber"]
        clock.advance(5)  # past the takeover time of the subscription just closed


def test_list_shards_takes_the_creation_time_stamp_describe_stream_summary_gave(kinesis) -> None:
    clock.freeze()
    clock.advance(1 - clock.now() % 1 + 0.9996)  # would be answered rounded up into the next second
    make_stream(kinesis, "s")
    created = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    shards = kinesis.list_shards(StreamName="s", StreamCreationTimestamp=created)["Shards"]
    assert [s["ShardId"] for s in shards] == [SHARD]


# -- expired records leave memory ---------------------------------------------------------------


def _held(provider: Any, name: str) -> list[int]:
    store = provider._stores.get(ACCOUNT, "us-east-1")
    with store.lock:
        return [len(shard.counters) for shard in store.streams[name].shards]


def _data_held(provider: Any, name: str) -> int:
    store = provider._stores.get(ACCOUNT, "us-east-1")
    with store.lock:
        return sum(len(data) for shard in store.streams[name].shards for data in shard.datas)


def _after_a_sweep(provider: Any) -> None:
    """Moves nothing: waits (bounded) for the sweeper's next complete pass, which a clock move asks for."""
    seen = provider._sweeper.passes
    provider._sweeper.poke()
    deadline = time.monotonic() + 10
    while provider._sweeper.passes < seen + 2:  # one that may have begun before the move, then a full one
        assert time.monotonic() < deadline, "the sweeper made no pass"
        provider._sweeper.poke()
        time.sleep(0.005)


def test_expired_records_of_closed_and_idle_shards_leave_memory(kinesis, provider) -> None:
    make_stream(kinesis, "s")
    clock.freeze()
    kinesis.put_records(StreamName="s", Records=[{"Data": b"x" * 200, "PartitionKey": f"k{i}"} for i in range(300)])
    kinesis.split_shard(StreamName="s", ShardToSplit=SHARD, NewStartingHashKey=str(2**127))
    kinesis.put_records(StreamName="s", Records=[{"Data": b"y" * 200, "PartitionKey": f"k{i}"} for i in range(300)])
    assert sum(_held(provider, "s")) == 600
    clock.advance(24 * 3600 + 1)  # nothing is written or read afterwards
    _after_a_sweep(provider)
    assert _held(provider, "s") == [0, 0, 0]
    assert read_shard(kinesis, "s", "shardId-000000000001") == []


def test_expiry_keeps_the_live_records_intact(kinesis, provider, monkeypatch) -> None:
    monkeypatch.setattr(expiry, "STEP", 8)  # so that the live part is copied in steps, off the lock
    make_stream(kinesis, "s")
    clock.freeze()
    kinesis.put_records(StreamName="s", Records=[{"Data": b"old", "PartitionKey": "k"}] * 100)
    clock.advance(23 * 3600)
    kinesis.put_records(StreamName="s", Records=[{"Data": b"new%d" % i, "PartitionKey": "k"} for i in range(60)])
    clock.advance(3600 + 1)  # the first 100 expire, the 60 do not
    _after_a_sweep(provider)
    assert _held(provider, "s") == [60] and _data_held(provider, "s") == sum(len(b"new%d" % i) for i in range(60))
    assert [r["Data"] for r in read_shard(kinesis, "s", SHARD)] == [b"new%d" % i for i in range(60)]
    kinesis.put_record(StreamName="s", Data=b"after", PartitionKey="k")
    assert read_shard(kinesis, "s", SHARD)[-1]["Data"] == b"after"


def test_expired_data_is_dropped_before_the_live_part_is_short_enough_to_compact(kinesis, provider) -> None:
    make_stream(kinesis, "s")
    clock.freeze()
    kinesis.put_records(StreamName="s", Records=[{"Data": b"o" * 100, "PartitionKey": "k"}] * 10)
    clock.advance(23 * 3600)
    kinesis.put_records(StreamName="s", Records=[{"Data": b"n", "PartitionKey": "k"}] * 20)
    clock.advance(3600 + 1)
    _after_a_sweep(provider)
    assert _held(provider, "s") == [30]  # slots kept while the dead part is the shorter one...
    assert _data_held(provider, "s") == 20  # ...but their data is gone
    assert [r["Data"] for r in read_shard(kinesis, "s", SHARD)] == [b"n"] * 20


# -- ListStreamConsumers pagination ------------------------------------------------------------


def _register(kinesis: Any, stream: str, *names: str) -> None:
    for name in names:
        kinesis.register_stream_consumer(StreamARN=arn(stream), ConsumerName=name)


def test_consumer_pages_go_on_after_the_consumer_the_token_names_was_deregistered(kinesis) -> None:
    make_stream(kinesis, "s")
    clock.freeze()
    _register(kinesis, "s", "a", "b", "c", "d", "e")
    first = kinesis.list_stream_consumers(StreamARN=arn("s"), MaxResults=2)
    assert [c["ConsumerName"] for c in first["Consumers"]] == ["a", "b"]
    kinesis.deregister_stream_consumer(StreamARN=arn("s"), ConsumerName="b")
    second = kinesis.list_stream_consumers(StreamARN=arn("s"), NextToken=first["NextToken"], MaxResults=2)
    assert [c["ConsumerName"] for c in second["Consumers"]] == ["c", "d"]
    third = kinesis.list_stream_consumers(StreamARN=arn("s"), NextToken=second["NextToken"])
    assert [c["ConsumerName"] for c in third["Consumers"]] == ["e"] and "NextToken" not in third


def test_a_consumer_token_from_another_stream_is_refused(raw_kinesis) -> None:
    make_stream(raw_kinesis, "s")
    make_stream(raw_kinesis, "t")
    _register(raw_kinesis, "s", "a", "b")
    _register(raw_kinesis, "t", "a", "b")
    token = raw_kinesis.list_stream_consumers(StreamARN=arn("s"), MaxResults=1)["NextToken"]
    code, message = error_of(raw_kinesis.list_stream_consumers, StreamARN=arn("t"), NextToken=token)
    assert (code, message) == ("InvalidArgumentException", f"Invalid NextToken: {token}")


# -- documented page-size caps -----------------------------------------------------------------


def test_list_shards_returns_at_most_a_thousand(kinesis) -> None:
    make_stream(kinesis, "s", 1001)
    page = kinesis.list_shards(StreamName="s", MaxResults=5000)
    assert len(page["Shards"]) == 1000
    rest = kinesis.list_shards(NextToken=page["NextToken"])
    assert [s["ShardId"] for s in rest["Shards"]] == ["shardId-000000001000"]


def test_describe_stream_returns_at_most_a_hundred_shards(kinesis) -> None:
    make_stream(kinesis, "s", 101)
    description = kinesis.describe_stream(StreamName="s", Limit=500)["StreamDescription"]
    assert len(description["Shards"]) == 100 and description["HasMoreShards"] is True


def test_list_streams_returns_at_most_a_hundred_names(kinesis) -> None:
    for index in range(101):
        make_stream(kinesis, f"s{index:03d}")
    page = kinesis.list_streams(Limit=500)
    assert len(page["StreamNames"]) == 100 and page["HasMoreStreams"] is True
    assert kinesis.list_streams(NextToken=page["NextToken"])["StreamNames"] == ["s100"]


# -- quotas ------------------------------------------------------------------------------------


def test_update_stream_mode_to_on_demand_counts_against_the_on_demand_quota(raw_kinesis) -> None:
    for index in range(50):
        raw_kinesis.create_stream(StreamName=f"od{index}", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    make_stream(raw_kinesis, "p")
    code, message = error_of(
        raw_kinesis.update_stream_mode, StreamARN=arn("p"), StreamModeDetails={"StreamMode": "ON_DEMAND"}
    )
    assert (code, message) == (
        "LimitExceededException",
        f"This request would exceed the limit of 50 on-demand streams for the account {ACCOUNT} in us-east-1.",
    )
    assert raw_kinesis.describe_stream_summary(StreamName="p")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"


def test_no_more_than_five_streams_may_be_creating(raw_kinesis, settings) -> None:
    settings(kinesis_transition_seconds=10)
    clock.freeze()
    for index in range(5):
        make_stream(raw_kinesis, f"s{index}")
    code, message = error_of(raw_kinesis.create_stream, StreamName="sixth", ShardCount=1)
    assert (code, message) == (
        "LimitExceededException",
        "This request would have exceed the limit on the number of streams that can simultaneously be in "
        f"CREATING or DELETING for the account {ACCOUNT}. Limit: 5.",
    )
    clock.advance(10)
    make_stream(raw_kinesis, "sixth")


def test_no_more_than_five_consumers_may_be_creating_per_stream(raw_kinesis, settings) -> None:
    make_stream(raw_kinesis, "s")
    make_stream(raw_kinesis, "t")
    settings(kinesis_transition_seconds=10)
    clock.freeze()
    _register(raw_kinesis, "s", *"abcde")
    code, message = error_of(raw_kinesis.register_stream_consumer, StreamARN=arn("s"), ConsumerName="f")
    assert (code, message) == (
        "LimitExceededException",
        f"Stream s under account {ACCOUNT} already has 5 consumers in CREATING status, the most that can be "
        "created at the same time.",
    )
    _register(raw_kinesis, "t", "f")  # per stream
    clock.advance(10)
    _register(raw_kinesis, "s", "f")


@pytest.mark.parametrize(("operation", "kwargs"), [
    ("add_tags_to_stream", {"StreamName": "s", "Tags": {"k": "v"}}),
    ("remove_tags_from_stream", {"StreamName": "s", "TagKeys": ["k"]}),
    ("tag_resource", {"ResourceARN": arn("s"), "Tags": {"k": "v"}}),
    ("untag_resource", {"ResourceARN": arn("s"), "TagKeys": ["k"]}),
])
def test_tags_cannot_change_while_a_stream_is_creating(raw_kinesis, settings, operation, kwargs) -> None:
    settings(kinesis_transition_seconds=10)
    clock.freeze()
    raw_kinesis.create_stream(StreamName="s", ShardCount=1, Tags={"k": "before"})
    code, message = error_of(getattr(raw_kinesis, operation), **kwargs)
    assert (code, message) == (
        "ResourceInUseException", f"Stream s under account {ACCOUNT} not ACTIVE, instead in state CREATING"
    )
    clock.advance(10)
    assert raw_kinesis.list_tags_for_stream(StreamName="s")["Tags"] == [{"Key": "k", "Value": "before"}]
    getattr(raw_kinesis, operation)(**kwargs)


# -- GetRecords pays back a large read ---------------------------------------------------------


@pytest.mark.parametrize(("mebibytes", "blocked"), [(6, 3.0), (4, 2.0)])
def test_reads_wait_as_long_as_a_large_get_records_is_worth(kinesis, settings, mebibytes, blocked) -> None:
    make_stream(kinesis, "s")
    record = b"x" * (1024 * 1024 - 1)  # with the one-byte key, exactly 1 MiB
    for _ in range(mebibytes):
        kinesis.put_record(StreamName="s", Data=record, PartitionKey="k")
    settings(kinesis_throughput_limits=True)
    iterator = kinesis.get_shard_iterator(StreamName="s", ShardId=SHARD, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    clock.freeze()
    page = kinesis.get_records(ShardIterator=iterator)
    assert len(page["Records"]) == mebibytes
    clock.advance(blocked - 0.01)
    code, _ = error_of(kinesis.get_records, ShardIterator=page["NextShardIterator"])
    assert code == "ProvisionedThroughputExceededException"
    clock.advance(0.01)
    assert kinesis.get_records(ShardIterator=page["NextShardIterator"])["Records"] == []


# -- queues: DeleteStream and resource policies ---------------------------------------------------


@pytest.mark.parametrize("enforce", [False, True])
def test_a_stream_with_queues_cannot_be_deleted(raw_kinesis, enforce) -> None:
    make_queue(raw_kinesis, on_demand(raw_kinesis))
    code, message = error_of(raw_kinesis.delete_stream, StreamName="s", EnforceConsumerDeletion=enforce)
    assert (code, message) == (
        "ResourceInUseException",
        f"DeleteStream can't delete {ACCOUNT}:s because there are queues associated with this data stream. "
        "Delete every queue on s with DeleteQueue before deleting the stream.",
    )
    assert raw_kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"


def test_a_queue_takes_a_resource_policy(kinesis) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    policy = '{"Version": "2012-10-17", "Statement": []}'
    kinesis.put_resource_policy(ResourceARN=queue, Policy=policy)
    assert kinesis.get_resource_policy(ResourceARN=queue)["Policy"] == policy
    kinesis.delete_resource_policy(ResourceARN=queue)
    assert kinesis.get_resource_policy(ResourceARN=queue)["Policy"] == "{}"
    missing = queue[:-4] + "0000"
    code, _ = error_of(kinesis.get_resource_policy, ResourceARN=missing)
    assert code == "ResourceNotFoundException"
