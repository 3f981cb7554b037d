"""Streams over the wire: create, describe, list, delete, status transitions, retention, quotas."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from emulator import clock
from tests.services.kinesis.conftest import ACCOUNT, arn, error_of, make_stream


def test_create_stream_answers_active_stream_with_even_shards_and_real_arn(kinesis) -> None:
    kinesis.create_stream(StreamName="orders", ShardCount=3)
    kinesis.get_waiter("stream_exists").wait(StreamName="orders", WaiterConfig={"Delay": 0, "MaxAttempts": 1})
    description = kinesis.describe_stream(StreamName="orders")["StreamDescription"]
    assert description["StreamStatus"] == "ACTIVE"
    assert description["StreamARN"] == arn("orders")
    assert description["RetentionPeriodHours"] == 24
    assert description["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert description["HasMoreShards"] is False
    assert [s["ShardId"] for s in description["Shards"]] == [f"shardId-00000000000{i}" for i in range(3)]
    assert description["Shards"][1]["HashKeyRange"]["StartingHashKey"] == "113427455640312821154458202477256070485"
    assert all("EndingSequenceNumber" not in s["SequenceNumberRange"] for s in description["Shards"])


def test_on_demand_streams_start_with_four_shards(kinesis) -> None:
    kinesis.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = kinesis.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        (
            {"StreamName": "dup", "ShardCount": 1},
            "ResourceInUseException",
            f"Stream dup under account {ACCOUNT} already exists.",
        ),
        (
            {"StreamName": "big", "ShardCount": 20000},
            "LimitExceededException",
            (
                "This request would exceed the shard limit for the "
                "account 000000000000 in us-east-1. Current shard count "
                "for the account: 1. Limit: 20000. Number of additional "
                "shards that would have resulted from this request: 20000."
            ),
        ),
        ({"StreamName": "nocount"}, "InvalidArgumentException", "ShardCount is required"),
        (
            {"StreamName": "both", "ShardCount": 1, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}},
            "InvalidArgumentException",
            "ShardCount cannot be specified",
        ),
        ({"StreamName": "bad name!", "ShardCount": 1}, "ValidationException", "streamName"),
        ({"StreamName": "zero", "ShardCount": 0}, "ValidationException", "shardCount"),
    ],
)
def test_create_stream_errors(raw_kinesis, kwargs, code, message) -> None:
    make_stream(raw_kinesis, "dup")
    got_code, got_message = error_of(raw_kinesis.create_stream, **kwargs)
    assert got_code == code
    assert message in got_message


def test_shard_quota_depends_on_region_and_is_configurable(aws_client, settings) -> None:
    frankfurt = aws_client("kinesis", region="eu-central-1")
    assert frankfurt.describe_limits()["ShardLimit"] == 1000
    code, message = error_of(frankfurt.create_stream, StreamName="s", ShardCount=1001)
    assert code == "LimitExceededException" and "Limit: 1000." in message
    settings(kinesis_shard_limit=3)
    make_stream(frankfurt, "s", 3)
    limits = frankfurt.describe_limits()
    assert (limits["ShardLimit"], limits["OpenShardCount"]) == (3, 3)
    assert error_of(frankfurt.create_stream, StreamName="t", ShardCount=1)[0] == "LimitExceededException"


def test_on_demand_stream_count_is_limited_to_fifty(kinesis, settings) -> None:
    settings(kinesis_shard_limit=1000)
    for i in range(50):
        kinesis.create_stream(StreamName=f"od{i}", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    limits = kinesis.describe_limits()
    assert (limits["OnDemandStreamCount"], limits["OnDemandStreamCountLimit"]) == (50, 50)
    code, _ = error_of(kinesis.create_stream, StreamName="od50", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert code == "LimitExceededException"


@pytest.mark.parametrize(
    "operation",
    ["describe_stream", "describe_stream_summary", "delete_stream", "list_shards", "list_tags_for_stream"],
)
@pytest.mark.parametrize("by", ["name", "arn", "both"])
def test_operations_find_streams_by_name_arn_or_both(kinesis, operation, by) -> None:
    make_stream(kinesis, "named")
    identity = {
        "name": {"StreamName": "named"},
        "arn": {"StreamARN": arn("named")},
        "both": {"StreamName": "named", "StreamARN": arn("named")},
    }[by]
    getattr(kinesis, operation)(**identity)
    missing = {
        "name": {"StreamName": "nope"},
        "arn": {"StreamARN": arn("nope")},
        "both": {"StreamName": "nope", "StreamARN": arn("nope")},
    }[by]
    assert error_of(getattr(kinesis, operation), **missing) == (
        "ResourceNotFoundException",
        f"Stream nope under account {ACCOUNT} not found.",
    )


def test_name_and_arn_that_disagree_are_rejected(kinesis) -> None:
    make_stream(kinesis, "a")
    make_stream(kinesis, "b")
    code, message = error_of(kinesis.describe_stream_summary, StreamName="a", StreamARN=arn("b"))
    assert code == "InvalidArgumentException"
    assert "a" in message and arn("b") in message


def test_neither_name_nor_arn_is_rejected(kinesis) -> None:
    assert error_of(kinesis.describe_stream)[0] == "InvalidArgumentException"


def test_arn_of_another_account_is_not_found(kinesis) -> None:
    make_stream(kinesis, "mine")
    code, _ = error_of(kinesis.describe_stream, StreamARN=arn("mine", account="111111111111"))
    assert code == "ResourceNotFoundException"


def test_accounts_and_regions_do_not_see_each_others_streams(aws_client) -> None:
    default = aws_client("kinesis")
    other_account = aws_client("kinesis", account="111111111111")
    other_region = aws_client("kinesis", region="eu-west-1")
    make_stream(default, "shared-name")
    assert other_account.list_streams()["StreamNames"] == []
    assert other_region.list_streams()["StreamNames"] == []
    make_stream(other_account, "shared-name")
    described = other_account.describe_stream(StreamName="shared-name")["StreamDescription"]
    assert described["StreamARN"] == arn("shared-name", account="111111111111")


def test_describe_stream_pages_shards(kinesis) -> None:
    make_stream(kinesis, "wide", 5)
    first = kinesis.describe_stream(StreamName="wide", Limit=2)["StreamDescription"]
    assert [s["ShardId"][-1] for s in first["Shards"]] == ["0", "1"] and first["HasMoreShards"] is True
    rest = kinesis.describe_stream(StreamName="wide", ExclusiveStartShardId="shardId-000000000001")["StreamDescription"]
    assert [s["ShardId"][-1] for s in rest["Shards"]] == ["2", "3", "4"] and rest["HasMoreShards"] is False


def test_list_streams_pages_with_summaries_and_tokens(kinesis) -> None:
    for name in ["c", "a", "b"]:
        make_stream(kinesis, name)
    page = kinesis.list_streams(Limit=2)
    assert page["StreamNames"] == ["a", "b"] and page["HasMoreStreams"] is True
    assert page["StreamSummaries"][0]["StreamARN"] == arn("a")
    assert page["StreamSummaries"][0]["StreamStatus"] == "ACTIVE"
    rest = kinesis.list_streams(NextToken=page["NextToken"])
    assert rest["StreamNames"] == ["c"] and rest["HasMoreStreams"] is False and "NextToken" not in rest
    assert kinesis.list_streams(ExclusiveStartStreamName="a")["StreamNames"] == ["b", "c"]
    assert [
        p["StreamNames"] for p in kinesis.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 1})
    ] == [["a"], ["b"], ["c"]]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"NextToken": "garbage"}, "InvalidArgumentException"),
    ],
)
def test_list_streams_bad_token(kinesis, kwargs, code) -> None:
    assert error_of(kinesis.list_streams, **kwargs)[0] == code


def _unsigned(payload: dict) -> str:
    """A token as a client could forge it: the JSON state without our signature."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _altered(token: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[-3] ^= 0x01  # one bit of the JSON body
    return base64.urlsafe_b64encode(bytes(raw)).decode()


_FORGED = [
    {"kind": "streams", "after": "a", "issued": "abc"},
    {"kind": "streams", "issued": 0},
    {"kind": "streams", "after": ["a"], "issued": 0},
    {"kind": "shards", "after": "shardId-000000000000", "created": 0, "filter": None, "issued": 0},
    {"kind": "shards", "stream": "s", "after": "shardId-000000000000", "created": "x", "filter": None, "issued": 0},
    {"kind": "shards", "stream": "s", "after": "shardId-000000000000", "created": 0, "filter": "x", "issued": 0},
    {"kind": "consumers", "issued": 0},
    {"kind": "consumers", "after": 7, "issued": 0},
    "a string",
]


@pytest.mark.parametrize("payload", _FORGED, ids=range(len(_FORGED)))
def test_forged_next_tokens_are_invalid_arguments(kinesis, payload) -> None:
    make_stream(kinesis, "s", 2)
    kinesis.register_stream_consumer(StreamARN=arn("s"), ConsumerName="c")
    if isinstance(payload, dict):
        payload = {**payload, "issued": clock.now()} if payload["issued"] == 0 else payload
    token = _unsigned(payload)
    for call, kwargs in [
        (kinesis.list_streams, {}),
        (kinesis.list_shards, {}),
        (kinesis.list_stream_consumers, {"StreamARN": arn("s")}),
    ]:
        code, message = error_of(call, NextToken=token, **kwargs)
        assert (code, message) == ("InvalidArgumentException", f"Invalid NextToken: {token}")


def test_well_formed_unsigned_and_altered_next_tokens_are_invalid_arguments(kinesis) -> None:
    for name in ["a", "b", "c"]:
        make_stream(kinesis, name, 3)
    kinesis.register_stream_consumer(StreamARN=arn("a"), ConsumerName="c1")
    kinesis.register_stream_consumer(StreamARN=arn("a"), ConsumerName="c2")
    streams = kinesis.list_streams(Limit=1)["NextToken"]
    shards = kinesis.list_shards(StreamName="a", MaxResults=1)["NextToken"]
    consumers = kinesis.list_stream_consumers(StreamARN=arn("a"), MaxResults=1)["NextToken"]
    # The state a token carries, re-encoded without the signature, is not accepted.
    forged = _unsigned({"kind": "streams", "after": "a", "issued": clock.now()})
    assert error_of(kinesis.list_streams, NextToken=forged)[0] == "InvalidArgumentException"
    for call, token, kwargs in [
        (kinesis.list_streams, streams, {}),
        (kinesis.list_shards, shards, {}),
        (kinesis.list_stream_consumers, consumers, {"StreamARN": arn("a")}),
    ]:
        for bad in (_altered(token), token[:-8], token + "AAAA", "ñ" + token):
            assert error_of(call, NextToken=bad, **kwargs)[0] == "InvalidArgumentException"
        call(NextToken=token, **kwargs)  # the genuine token still works
    # A genuine token of one operation is not one of another.
    assert error_of(kinesis.list_shards, NextToken=streams)[0] == "InvalidArgumentException"
    assert error_of(kinesis.list_streams, NextToken=shards)[0] == "InvalidArgumentException"


def test_next_tokens_expire_after_five_minutes(kinesis) -> None:
    for name in ["a", "b"]:
        make_stream(kinesis, name)
    token = kinesis.list_streams(Limit=1)["NextToken"]
    clock.advance(301)
    assert error_of(kinesis.list_streams, NextToken=token)[0] == "ExpiredNextTokenException"


def test_delete_stream_forgets_it(kinesis) -> None:
    make_stream(kinesis, "gone")
    kinesis.delete_stream(StreamName="gone")
    assert error_of(kinesis.describe_stream, StreamName="gone")[0] == "ResourceNotFoundException"
    make_stream(kinesis, "gone")  # the name can be used again


def test_status_transitions_take_the_configured_time(kinesis, settings) -> None:
    settings(kinesis_transition_seconds=30)
    make_stream(kinesis, "slow", 2)
    status = lambda: kinesis.describe_stream_summary(StreamName="slow")["StreamDescriptionSummary"]["StreamStatus"]  # noqa: E731
    assert status() == "CREATING"
    assert (
        error_of(kinesis.put_record, StreamName="slow", Data=b"x", PartitionKey="k")[0] == "ResourceNotFoundException"
    )
    code, message = error_of(
        kinesis.split_shard, StreamName="slow", ShardToSplit="shardId-000000000000", NewStartingHashKey="1000"
    )
    assert (code, message) == (
        "ResourceInUseException",
        f"Stream slow under account {ACCOUNT} not ACTIVE, instead in state CREATING",
    )
    assert error_of(kinesis.delete_stream, StreamName="slow")[0] == "ResourceInUseException"
    clock.advance(30)
    assert status() == "ACTIVE"
    kinesis.update_shard_count(StreamName="slow", TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert status() == "UPDATING"
    kinesis.put_record(StreamName="slow", Data=b"x", PartitionKey="k")  # writes go on while UPDATING
    assert kinesis.describe_stream_summary(StreamName="slow")["StreamDescriptionSummary"]["OpenShardCount"] == 2
    clock.advance(30)
    summary = kinesis.describe_stream_summary(StreamName="slow")["StreamDescriptionSummary"]
    assert (summary["StreamStatus"], summary["OpenShardCount"]) == ("ACTIVE", 4)
    kinesis.delete_stream(StreamName="slow")
    assert status() == "DELETING"
    clock.advance(30)
    assert error_of(kinesis.describe_stream, StreamName="slow")[0] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("operation", "hours", "message"),
    [
        (
            "increase_stream_retention_period",
            8761,
            "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long.",
        ),
        (
            "decrease_stream_retention_period",
            23,
            "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.",
        ),
        (
            "increase_stream_retention_period",
            30,
            (
                "Requested retention period (30 hours) for stream r can not be shorter than "
                "existing retention period (48 hours). Use DecreaseRetentionPeriod API."
            ),
        ),
        (
            "decrease_stream_retention_period",
            72,
            (
                "Requested retention period (72 hours) for stream r can not be longer than "
                "existing retention period (48 hours). Use IncreaseRetentionPeriod API."
            ),
        ),
    ],
)
def test_retention_period_errors(kinesis, operation, hours, message) -> None:
    make_stream(kinesis, "r")
    kinesis.increase_stream_retention_period(StreamName="r", RetentionPeriodHours=48)
    assert error_of(getattr(kinesis, operation), StreamName="r", RetentionPeriodHours=hours) == (
        "InvalidArgumentException",
        message,
    )
    assert kinesis.describe_stream(StreamName="r")["StreamDescription"]["RetentionPeriodHours"] == 48


def test_retention_period_changes(kinesis) -> None:
    make_stream(kinesis, "r")
    kinesis.increase_stream_retention_period(StreamName="r", RetentionPeriodHours=8760)
    kinesis.decrease_stream_retention_period(StreamARN=arn("r"), RetentionPeriodHours=24)
    assert kinesis.describe_stream(StreamName="r")["StreamDescription"]["RetentionPeriodHours"] == 24


def test_stream_creation_timestamp_is_the_emulator_clock(kinesis) -> None:
    clock.advance(86400 * 10)
    make_stream(kinesis, "later")
    created = kinesis.describe_stream(StreamName="later")["StreamDescription"]["StreamCreationTimestamp"]
    assert abs(created.timestamp() - clock.now()) < 5
    assert created > dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=9)


def test_stream_creation_timestamp_picks_the_incarnation_of_a_reused_name(kinesis) -> None:
    make_stream(kinesis, "s")
    created = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    assert kinesis.list_shards(StreamName="s", StreamCreationTimestamp=created)["Shards"]
    stream_arn = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"]
    assert kinesis.list_stream_consumers(StreamARN=stream_arn, StreamCreationTimestamp=created)["Consumers"] == []
    earlier = created - dt.timedelta(days=1)
    calls = ((kinesis.list_shards, {"StreamName": "s"}), (kinesis.list_stream_consumers, {"StreamARN": stream_arn}))
    for call, kwargs in calls:
        code, message = error_of(call, StreamCreationTimestamp=earlier, **kwargs)
        assert (code, message) == ("ResourceNotFoundException", f"Stream s under account {ACCOUNT} not found.")


def test_stream_creation_timestamp_does_not_go_with_a_next_token(kinesis) -> None:
    make_stream(kinesis, "s", 3)
    created = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    token = kinesis.list_shards(StreamName="s", MaxResults=1)["NextToken"]
    code, message = error_of(kinesis.list_shards, NextToken=token, StreamCreationTimestamp=created)
    assert code == "InvalidArgumentException" and "StreamCreationTimestamp" in message
