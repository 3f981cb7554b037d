"""Enhanced fan-out consumers and SubscribeToShard over a real event stream."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import EventStreamError

from emulator import clock
from tests.services.kinesis.conftest import ACCOUNT, arn, error_of, make_stream


def register(kinesis, name: str = "c", stream: str = "s") -> str:
    return kinesis.register_stream_consumer(StreamARN=arn(stream), ConsumerName=name)["Consumer"]["ConsumerARN"]


def test_consumers_register_describe_list_and_deregister(kinesis) -> None:
    make_stream(kinesis, "s")
    registered = kinesis.register_stream_consumer(StreamARN=arn("s"), ConsumerName="c")["Consumer"]
    assert registered["ConsumerStatus"] == "CREATING"
    assert registered["ConsumerARN"].startswith(arn("s") + "/consumer/c:")
    by_arn = kinesis.describe_stream_consumer(ConsumerARN=registered["ConsumerARN"])["ConsumerDescription"]
    by_name = kinesis.describe_stream_consumer(StreamARN=arn("s"), ConsumerName="c")["ConsumerDescription"]
    assert by_arn == by_name and by_arn["ConsumerStatus"] == "ACTIVE" and by_arn["StreamARN"] == arn("s")
    register(kinesis, "d")
    page = kinesis.list_stream_consumers(StreamARN=arn("s"), MaxResults=1)
    assert [c["ConsumerName"] for c in page["Consumers"]] == ["c"]
    assert [
        c["ConsumerName"]
        for c in kinesis.list_stream_consumers(StreamARN=arn("s"), NextToken=page["NextToken"])["Consumers"]
    ] == ["d"]
    assert kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["ConsumerCount"] == 2
    kinesis.deregister_stream_consumer(ConsumerARN=registered["ConsumerARN"])
    kinesis.deregister_stream_consumer(StreamARN=arn("s"), ConsumerName="d")
    assert kinesis.list_stream_consumers(StreamARN=arn("s"))["Consumers"] == []


def test_consumer_status_transitions_take_the_configured_time(kinesis, settings) -> None:
    settings(kinesis_transition_seconds=10)
    make_stream(kinesis, "s")
    clock.advance(10)
    consumer = register(kinesis)
    status = lambda: kinesis.describe_stream_consumer(ConsumerARN=consumer)["ConsumerDescription"]["ConsumerStatus"]  # noqa: E731
    assert status() == "CREATING"
    code, message = error_of(
        kinesis.subscribe_to_shard,
        ConsumerARN=consumer,
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "LATEST"},
    )
    assert code == "ResourceInUseException" and "is not in ACTIVE status" in message
    clock.advance(10)
    assert status() == "ACTIVE"
    kinesis.deregister_stream_consumer(ConsumerARN=consumer)
    assert status() == "DELETING"
    clock.advance(10)
    assert error_of(kinesis.describe_stream_consumer, ConsumerARN=consumer)[0] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("call", "kwargs", "code", "message"),
    [
        (
            "register_stream_consumer",
            {"StreamARN": arn("s"), "ConsumerName": "c"},
            "ResourceInUseException",
            f"Consumer c under stream s already exists for account {ACCOUNT}.",
        ),
        (
            "register_stream_consumer",
            {"StreamARN": arn("nope"), "ConsumerName": "c"},
            "ResourceNotFoundException",
            f"Stream nope under account {ACCOUNT} not found.",
        ),
        (
            "describe_stream_consumer",
            {"StreamARN": arn("s"), "ConsumerName": "zz"},
            "ResourceNotFoundException",
            "Consumer zz",
        ),
        (
            "describe_stream_consumer",
            {"ConsumerARN": arn("s") + "/consumer/c:1"},
            "ResourceNotFoundException",
            "Consumer c",
        ),
        ("describe_stream_consumer", {"StreamARN": arn("s")}, "InvalidArgumentException", "ConsumerARN"),
        (
            "deregister_stream_consumer",
            {"StreamARN": arn("s"), "ConsumerName": "zz"},
            "ResourceNotFoundException",
            "Consumer zz",
        ),
        ("list_stream_consumers", {"StreamARN": arn("nope")}, "ResourceNotFoundException", "Stream nope"),
        (
            "register_stream_consumer",
            {"StreamARN": arn("s"), "ConsumerName": "bad name"},
            "ValidationException",
            "consumerName",
        ),
    ],
)
def test_consumer_errors(raw_kinesis, call, kwargs, code, message) -> None:
    make_stream(raw_kinesis, "s")
    register(raw_kinesis)
    got_code, got_message = error_of(getattr(raw_kinesis, call), **kwargs)
    assert got_code == code and message in got_message, got_message


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ConsumerName": "other"}, "and ConsumerName other do not refer to the same consumer."),
        ({"StreamARN": arn("t")}, f"and StreamARN {arn('t')} do not refer to the same stream."),
        ({"StreamARN": arn("t"), "ConsumerName": "c"}, "do not refer to the same stream."),
    ],
)
def test_consumer_arn_with_a_conflicting_name_or_stream_is_rejected(raw_kinesis, extra, message) -> None:
    make_stream(raw_kinesis, "s")
    make_stream(raw_kinesis, "t")
    consumer = register(raw_kinesis)
    register(raw_kinesis, "other")
    register(raw_kinesis, "c", stream="t")
    for call in (raw_kinesis.describe_stream_consumer, raw_kinesis.deregister_stream_consumer):
        code, got = error_of(call, ConsumerARN=consumer, **extra)
        assert code == "InvalidArgumentException" and got.startswith(f"ConsumerARN {consumer} and ") and message in got
    # nothing was deregistered
    for stream in ("s", "t"):
        listed = raw_kinesis.list_stream_consumers(StreamARN=arn(stream))["Consumers"]
        assert all(c["ConsumerStatus"] == "ACTIVE" for c in listed) and listed
    # the same consumer named twice is fine
    raw_kinesis.describe_stream_consumer(ConsumerARN=consumer, ConsumerName="c", StreamARN=arn("s"))
    raw_kinesis.deregister_stream_consumer(ConsumerARN=consumer, ConsumerName="c", StreamARN=arn("s"))


def test_twenty_consumers_per_stream(kinesis) -> None:
    make_stream(kinesis, "s")
    for i in range(20):
        register(kinesis, f"c{i}")
    assert (
        error_of(kinesis.register_stream_consumer, StreamARN=arn("s"), ConsumerName="c20")[0]
        == "LimitExceededException"
    )


def test_delete_stream_with_consumers_needs_enforce_consumer_deletion(kinesis) -> None:
    make_stream(kinesis, "s")
    register(kinesis)
    code, message = error_of(kinesis.delete_stream, StreamName="s")
    assert code == "ResourceInUseException"
    assert message == (
        f"DeleteStream can't delete {ACCOUNT}:s because there are consumers associated with this data stream. "
        "To delete s anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all the "
        "consumers that are associated with it."
    )
    kinesis.delete_stream(StreamName="s", EnforceConsumerDeletion=True)
    assert kinesis.list_streams()["StreamNames"] == []


def test_subscribe_to_shard_streams_existing_and_new_records(kinesis, aws_client) -> None:
    make_stream(kinesis, "s")
    consumer = register(kinesis)
    first = kinesis.put_record(StreamName="s", Data=b"first", PartitionKey="k")["SequenceNumber"]
    response = kinesis.subscribe_to_shard(
        ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "TRIM_HORIZON"}
    )
    events = iter(response["EventStream"])
    event = next(events)["SubscribeToShardEvent"]
    assert [r["Data"] for r in event["Records"]] == [b"first"]
    assert event["ContinuationSequenceNumber"] == first and event["MillisBehindLatest"] == 0
    writer = aws_client("kinesis")
    threading.Timer(0.2, lambda: writer.put_record(StreamName="s", Data=b"second", PartitionKey="k")).start()
    event = next(events)["SubscribeToShardEvent"]
    assert [r["Data"] for r in event["Records"]] == [b"second"]
    response["EventStream"].close()


def test_subscription_from_a_sequence_number_and_its_end_at_a_closed_shard(kinesis) -> None:
    make_stream(kinesis, "s")
    consumer = register(kinesis)
    seqs = [kinesis.put_record(StreamName="s", Data=b"%d" % i, PartitionKey="k")["SequenceNumber"] for i in range(3)]
    kinesis.split_shard(StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    response = kinesis.subscribe_to_shard(
        ConsumerARN=consumer,
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": seqs[0]},
    )
    events = [e["SubscribeToShardEvent"] for e in response["EventStream"]]
    assert [r["SequenceNumber"] for e in events for r in e["Records"]] == seqs[1:]
    assert [c["ShardId"] for c in events[-1]["ChildShards"]] == ["shardId-000000000001", "shardId-000000000002"]


def test_a_second_subscription_of_the_same_consumer_and_shard_is_in_use(kinesis) -> None:
    make_stream(kinesis, "s", 2)
    consumer = register(kinesis)
    open_one = kinesis.subscribe_to_shard(
        ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"}
    )
    next(iter(open_one["EventStream"]))
    code, message = error_of(
        kinesis.subscribe_to_shard,
        ConsumerARN=consumer,
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "LATEST"},
    )
    assert code == "ResourceInUseException" and "Another active subscription exists for this consumer" in message
    other = kinesis.subscribe_to_shard(
        ConsumerARN=consumer, ShardId="shardId-000000000001", StartingPosition={"Type": "LATEST"}
    )
    other["EventStream"].close()
    open_one["EventStream"].close()


def test_a_subscription_five_seconds_or_more_later_takes_over(kinesis) -> None:
    # "If you call SubscribeToShard 5 seconds or more after a successful call, the second call takes
    # over the subscription and the previous connection expires or fails with a ResourceInUseException."
    make_stream(kinesis, "s")
    consumer = register(kinesis)
    subscribe = dict(ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"})
    first = kinesis.subscribe_to_shard(**subscribe)
    old_events = iter(first["EventStream"])
    next(old_events)
    clock.advance(4.9)
    assert error_of(kinesis.subscribe_to_shard, **subscribe)[0] == "ResourceInUseException"
    clock.advance(0.1)
    second = kinesis.subscribe_to_shard(**subscribe)
    new_events = iter(second["EventStream"])
    next(new_events)
    with pytest.raises(EventStreamError) as info:
        next(old_events)
    assert info.value.response["Error"]["Code"] == "ResourceInUseException"
    # the new subscription holds the slot (the old one ending did not free it): in use for 5 seconds
    # from its own start, and it gets the records
    assert error_of(kinesis.subscribe_to_shard, **subscribe)[0] == "ResourceInUseException"
    kinesis.put_record(StreamName="s", Data=b"after", PartitionKey="k")
    assert [r["Data"] for r in next(new_events)["SubscribeToShardEvent"]["Records"]] == [b"after"]
    second["EventStream"].close()
    first["EventStream"].close()


def test_subscription_ends_after_the_configured_emulator_time(kinesis, settings) -> None:
    settings(kinesis_subscription_seconds=300)
    make_stream(kinesis, "s")
    consumer = register(kinesis)
    response = kinesis.subscribe_to_shard(
        ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"}
    )
    events = iter(response["EventStream"])
    next(events)
    clock.advance(301)
    assert list(events) == []
    # the slot is free again
    again = kinesis.subscribe_to_shard(
        ConsumerARN=consumer, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"}
    )
    again["EventStream"].close()


@pytest.mark.parametrize(
    ("shard", "position", "code"),
    [
        ("shardId-000000000009", {"Type": "LATEST"}, "ResourceNotFoundException"),
        ("shardId-000000000000", {"Type": "AT_SEQUENCE_NUMBER"}, "InvalidArgumentException"),
        ("shardId-000000000000", {"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": "1"}, "InvalidArgumentException"),
        ("shardId-000000000000", {"Type": "AT_TIMESTAMP"}, "InvalidArgumentException"),
    ],
)
def test_subscribe_to_shard_errors(kinesis, shard, position, code) -> None:
    make_stream(kinesis, "s")
    consumer = register(kinesis)
    assert (
        error_of(kinesis.subscribe_to_shard, ConsumerARN=consumer, ShardId=shard, StartingPosition=position)[0] == code
    )


def test_subscribe_with_an_unknown_consumer_is_not_found(kinesis) -> None:
    make_stream(kinesis, "s")
    code, _ = error_of(
        kinesis.subscribe_to_shard,
        ConsumerARN=arn("s") + "/consumer/x:1",
        ShardId="shardId-000000000000",
        StartingPosition={"Type": "LATEST"},
    )
    assert code == "ResourceNotFoundException"
