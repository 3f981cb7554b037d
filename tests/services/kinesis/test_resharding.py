"""Resharding over the wire: SplitShard, MergeShards, UpdateShardCount, UpdateStreamMode, ListShards."""

from __future__ import annotations

import pytest

from emulator import clock
from emulator.services.kinesis.models import Stream
from tests.services.kinesis.conftest import ACCOUNT, arn, error_of, make_stream, read_lineage

HALF = 2**127


def shard_ids(kinesis, **filters) -> list[str]:
    return [s["ShardId"] for s in kinesis.list_shards(StreamName="s", **filters)["Shards"]]


def test_split_closes_the_parent_and_opens_two_children(kinesis) -> None:
    make_stream(kinesis, "s")
    kinesis.split_shard(StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(HALF))
    shards = {s["ShardId"]: s for s in kinesis.list_shards(StreamName="s")["Shards"]}
    parent, low, high = shards["shardId-000000000000"], shards["shardId-000000000001"], shards["shardId-000000000002"]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert low["ParentShardId"] == high["ParentShardId"] == "shardId-000000000000"
    assert low["HashKeyRange"] == {"StartingHashKey": "0", "EndingHashKey": str(HALF - 1)}
    assert high["HashKeyRange"] == {"StartingHashKey": str(HALF), "EndingHashKey": str(2**128 - 1)}
    assert int(low["SequenceNumberRange"]["StartingSequenceNumber"]) > int(
        parent["SequenceNumberRange"]["EndingSequenceNumber"]
    )


def test_merge_joins_adjacent_shards_in_either_order(kinesis) -> None:
    make_stream(kinesis, "s", 3)
    kinesis.merge_shards(
        StreamName="s", ShardToMerge="shardId-000000000001", AdjacentShardToMerge="shardId-000000000000"
    )
    child = kinesis.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"][-1]
    assert child["ShardId"] == "shardId-000000000003"
    assert (child["ParentShardId"], child["AdjacentParentShardId"]) == ("shardId-000000000001", "shardId-000000000000")
    assert child["HashKeyRange"]["StartingHashKey"] == "0"


def test_get_records_at_the_end_of_a_closed_shard_points_to_its_children(kinesis) -> None:
    make_stream(kinesis, "s")
    before = kinesis.put_record(StreamName="s", Data=b"a", PartitionKey="k")["SequenceNumber"]
    kinesis.split_shard(StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(HALF))
    iterator = kinesis.get_shard_iterator(
        StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = kinesis.get_records(ShardIterator=iterator)
    assert [r["SequenceNumber"] for r in page["Records"]] == [before]
    assert "NextShardIterator" not in page
    assert [c["ShardId"] for c in page["ChildShards"]] == ["shardId-000000000001", "shardId-000000000002"]
    assert page["ChildShards"][0]["ParentShards"] == ["shardId-000000000000"]
    # a LATEST iterator on a closed shard also reaches the end at once
    latest = kinesis.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    assert "ChildShards" in kinesis.get_records(ShardIterator=latest)


def test_following_the_lineage_reads_every_record_once_parents_first(kinesis) -> None:
    make_stream(kinesis, "s", 2)
    sent: list[bytes] = []

    def write(n: int) -> None:
        for _ in range(n):
            data = b"%d" % len(sent)
            kinesis.put_record(StreamName="s", Data=data, PartitionKey=data.decode())
            sent.append(data)

    write(20)
    kinesis.split_shard(StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
    write(20)
    kinesis.merge_shards(
        StreamName="s", ShardToMerge="shardId-000000000002", AdjacentShardToMerge="shardId-000000000003"
    )
    write(20)
    kinesis.update_shard_count(StreamName="s", TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    write(20)
    read = [(sid, r) for sid, r in read_lineage(kinesis, "s")]
    assert sorted(r["Data"] for _, r in read) == sorted(sent)
    by_key: dict[str, list[int]] = {}
    for _, record in read:
        by_key.setdefault(record["PartitionKey"], []).append(int(record["SequenceNumber"]))
    assert all(seqs == sorted(seqs) for seqs in by_key.values())


@pytest.mark.parametrize(("start", "target"), [(1, 2), (2, 4), (4, 2), (3, 5), (5, 3), (4, 3)])
def test_update_shard_count_ends_with_uniform_open_shards(kinesis, start, target) -> None:
    make_stream(kinesis, "s", start)
    answer = kinesis.update_shard_count(StreamName="s", TargetShardCount=target, ScalingType="UNIFORM_SCALING")
    assert (answer["CurrentShardCount"], answer["TargetShardCount"], answer["StreamARN"]) == (start, target, arn("s"))
    open_shards = kinesis.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    starts = sorted(int(s["HashKeyRange"]["StartingHashKey"]) for s in open_shards)
    assert starts == [2**128 * i // target for i in range(target)]


def test_large_update_shard_count_keeps_uniform_ranges_and_lineage(kinesis, settings, monkeypatch) -> None:
    settings(kinesis_shard_limit=10000)
    make_stream(kinesis, "s", 1000)
    # The new layout is computed in one pass, not by re-sorting every shard after each split or merge
    # (which made a rescale of thousands of shards take a minute under the store's lock).
    resorts = []
    original = Stream.refresh_open
    monkeypatch.setattr(Stream, "refresh_open", lambda self: (resorts.append(1), original(self))[1])
    kinesis.update_shard_count(StreamName="s", TargetShardCount=1999, ScalingType="UNIFORM_SCALING")
    assert len(resorts) <= 1
    every: list[dict] = []
    token = None
    while True:
        page = kinesis.list_shards(NextToken=token) if token else kinesis.list_shards(StreamName="s")
        every += page["Shards"]
        token = page.get("NextToken")
        if not token:
            break
    by_id = {s["ShardId"]: s for s in every}
    opened = [s for s in every if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
    ranges = sorted(
        (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in opened
    )
    bounds = [2**128 * i // 1999 for i in range(1999)] + [2**128]
    assert ranges == [(bounds[i], bounds[i + 1] - 1) for i in range(1999)]
    for shard in every:
        low, high = int(shard["HashKeyRange"]["StartingHashKey"]), int(shard["HashKeyRange"]["EndingHashKey"])
        parents = [by_id[p] for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId")) if p]
        start = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
        for parent in parents:
            # a parent is closed before its child starts, and covers part of the child's keys
            assert int(parent["SequenceNumberRange"]["EndingSequenceNumber"]) < start
            assert int(parent["HashKeyRange"]["StartingHashKey"]) <= high
            assert int(parent["HashKeyRange"]["EndingHashKey"]) >= low
        if len(parents) == 2:  # a merge: two adjacent parents covering exactly the child's keys
            spans = sorted(
                (int(p["HashKeyRange"]["StartingHashKey"]), int(p["HashKeyRange"]["EndingHashKey"])) for p in parents
            )
            assert (spans[0][0], spans[0][1] + 1, spans[1][1]) == (low, spans[1][0], high)
        elif parents:  # a split: one parent whose range holds the child's
            assert int(parents[0]["HashKeyRange"]["StartingHashKey"]) <= low
            assert int(parents[0]["HashKeyRange"]["EndingHashKey"]) >= high
    # each of the 1000 original shards was split or merged away, and every open shard descends from them
    assert all("EndingSequenceNumber" in by_id["shardId-%012d" % i]["SequenceNumberRange"] for i in range(1000))
    kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k")


@pytest.mark.parametrize(
    ("call", "kwargs", "code", "message"),
    [
        (
            "split_shard",
            {"ShardToSplit": "shardId-000000000007", "NewStartingHashKey": "5"},
            "ResourceNotFoundException",
            f"Could not find shard shardId-000000000007 in stream s under account {ACCOUNT}.",
        ),
        (
            "split_shard",
            {"ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "1"},
            "InvalidArgumentException",
            (
                "NewStartingHashKey 1 used in SplitShard() on shard "
                f"shardId-000000000000 in stream s under account {ACCOUNT} is "
                "not both greater than one plus the shard's StartingHashKey "
                f"0 and less than the shard's EndingHashKey {HALF - 1}."
            ),
        ),
        (
            "split_shard",
            {"ShardToSplit": "shardId-000000000000", "NewStartingHashKey": str(HALF - 1)},
            "InvalidArgumentException",
            "is not both greater than one plus",
        ),
        (
            "split_shard",
            {"ShardToSplit": "shardId-000000000002", "NewStartingHashKey": str(HALF + 5)},
            "ResourceInUseException",
            (
                f"Shard shardId-000000000002 in stream s under account {ACCOUNT} has already "
                "been merged or split, and thus is not eligible for merging or splitting."
            ),
        ),
        (
            "merge_shards",
            {"ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000003"},
            "InvalidArgumentException",
            (
                "Shards shardId-000000000000 and shardId-000000000003 in stream s under "
                f"account {ACCOUNT} are not an adjacent pair of shards eligible for merging"
            ),
        ),
        (
            "merge_shards",
            {"ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000000"},
            "InvalidArgumentException",
            "are not an adjacent pair",
        ),
        (
            "merge_shards",
            {"ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000009"},
            "ResourceNotFoundException",
            "Could not find shard shardId-000000000009",
        ),
        (
            "update_shard_count",
            {"TargetShardCount": 7, "ScalingType": "UNIFORM_SCALING"},
            "LimitExceededException",
            (
                "UpdateShardCount cannot scale up over double your current open "
                "shard count. Current open shard count: 3, Target shard count: 7"
            ),
        ),
        (
            "update_shard_count",
            {"TargetShardCount": 1, "ScalingType": "UNIFORM_SCALING"},
            "LimitExceededException",
            (
                "UpdateShardCount cannot scale down below half your current open "
                "shard count. Current open shard count: 3, Target shard count: 1"
            ),
        ),
        (
            "update_shard_count",
            {"TargetShardCount": 3, "ScalingType": "NONUNIFORM"},
            "ValidationException",
            "scalingType",
        ),
        (
            "split_shard",
            {"ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "x"},
            "ValidationException",
            "newStartingHashKey",
        ),
    ],
)
def test_resharding_errors(raw_kinesis, call, kwargs, code, message) -> None:
    # 0 and 1; split 1 -> 2, 3; merge 2 + 3 -> 4
    make_stream(raw_kinesis, "s", 2)
    raw_kinesis.split_shard(StreamName="s", ShardToSplit="shardId-000000000001", NewStartingHashKey=str(HALF + 2**100))
    raw_kinesis.merge_shards(
        StreamName="s", ShardToMerge="shardId-000000000002", AdjacentShardToMerge="shardId-000000000003"
    )
    # now open: 0 [0, 2^127-1] and 4 [2^127, max]; closed: 1, 2, 3
    raw_kinesis.split_shard(StreamName="s", ShardToSplit="shardId-000000000004", NewStartingHashKey=str(HALF + 2**120))
    # open: 0, 5, 6 (3 shards)
    shards_before = raw_kinesis.list_shards(StreamName="s")["Shards"]
    got_code, got_message = error_of(getattr(raw_kinesis, call), StreamName="s", **kwargs)
    assert got_code == code and message in got_message, got_message
    assert raw_kinesis.list_shards(StreamName="s")["Shards"] == shards_before


def test_resharding_is_limited_by_the_shard_quota(kinesis, settings) -> None:
    settings(kinesis_shard_limit=2)
    make_stream(kinesis, "s", 2)
    code, message = error_of(
        kinesis.split_shard, StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126)
    )
    assert (
        code == "LimitExceededException"
        and "Number of additional shards that would have resulted from this request: 1." in message
    )
    code, message = error_of(
        kinesis.update_shard_count, StreamName="s", TargetShardCount=3, ScalingType="UNIFORM_SCALING"
    )
    assert code == "LimitExceededException"


def test_a_second_change_while_updating_is_in_use(kinesis, settings) -> None:
    settings(kinesis_transition_seconds=5)
    make_stream(kinesis, "s", 2)
    clock.advance(5)
    kinesis.split_shard(StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
    code, message = error_of(
        kinesis.merge_shards,
        StreamName="s",
        ShardToMerge="shardId-000000000000",
        AdjacentShardToMerge="shardId-000000000001",
    )
    assert (code, message) == (
        "ResourceInUseException",
        f"Stream s under account {ACCOUNT} not ACTIVE, instead in state UPDATING",
    )
    assert len(shard_ids(kinesis)) == 2
    clock.advance(5)
    assert len(shard_ids(kinesis)) == 4


def test_split_and_merge_are_not_supported_on_demand(kinesis) -> None:
    kinesis.create_stream(StreamName="s", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    before = kinesis.list_shards(StreamName="s")["Shards"]
    assert error_of(
        kinesis.split_shard, StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**125)
    ) == (
        "InvalidArgumentException",
        f"SplitShard is not supported for stream s under account {ACCOUNT} because it is in ON_DEMAND capacity mode.",
    )
    assert error_of(
        kinesis.merge_shards,
        StreamName="s",
        ShardToMerge="shardId-000000000000",
        AdjacentShardToMerge="shardId-000000000001",
    ) == (
        "InvalidArgumentException",
        f"MergeShards is not supported for stream s under account {ACCOUNT} because it is in ON_DEMAND capacity mode.",
    )
    summary = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE"
    assert kinesis.list_shards(StreamName="s")["Shards"] == before


def test_update_stream_mode_switches_capacity_mode(kinesis) -> None:
    make_stream(kinesis, "s", 2)
    kinesis.update_stream_mode(StreamARN=arn("s"), StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert (
        error_of(kinesis.update_stream_mode, StreamARN=arn("s"), StreamModeDetails={"StreamMode": "ON_DEMAND"})[0]
        == "InvalidArgumentException"
    )
    assert (
        error_of(kinesis.update_shard_count, StreamName="s", TargetShardCount=3, ScalingType="UNIFORM_SCALING")[0]
        == "ValidationException"
    )


def test_list_shards_filters_and_pages(kinesis) -> None:
    make_stream(kinesis, "s", 2)
    created = clock.now()
    clock.advance(60)
    kinesis.split_shard(StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
    split_at = clock.now()
    clock.advance(60)
    all_ids = ["shardId-00000000000%d" % i for i in range(4)]
    assert shard_ids(kinesis) == all_ids
    assert shard_ids(kinesis, ShardFilter={"Type": "FROM_TRIM_HORIZON"}) == all_ids
    assert shard_ids(kinesis, ShardFilter={"Type": "AT_LATEST"}) == all_ids[1:]
    assert shard_ids(kinesis, ShardFilter={"Type": "AT_TRIM_HORIZON"}) == all_ids[:2]
    assert shard_ids(kinesis, ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000001"}) == all_ids[2:]
    assert shard_ids(kinesis, ShardFilter={"Type": "AT_TIMESTAMP", "Timestamp": created + 1}) == all_ids[:2]
    assert shard_ids(kinesis, ShardFilter={"Type": "FROM_TIMESTAMP", "Timestamp": split_at + 1}) == all_ids[1:]
    assert shard_ids(kinesis, ExclusiveStartShardId="shardId-000000000002") == all_ids[3:]
    page = kinesis.list_shards(StreamName="s", MaxResults=3)
    assert [s["ShardId"] for s in page["Shards"]] == all_ids[:3]
    rest = kinesis.list_shards(NextToken=page["NextToken"])
    assert [s["ShardId"] for s in rest["Shards"]] == all_ids[3:] and "NextToken" not in rest
    # closed shards drop out once they closed longer ago than the retention period
    clock.advance(24 * 3600)
    assert shard_ids(kinesis) == all_ids[1:]


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({}, "InvalidArgumentException", "Either NextToken or StreamName should be provided."),
        (
            {"StreamName": "s", "NextToken": "x"},
            "InvalidArgumentException",
            "NextToken and StreamName cannot be provided together.",
        ),
        ({"NextToken": "bad-token"}, "InvalidArgumentException", "Invalid NextToken"),
        (
            {"StreamName": "s", "ShardFilter": {"Type": "AFTER_SHARD_ID"}},
            "InvalidArgumentException",
            "ShardId must be specified",
        ),
        (
            {"StreamName": "s", "ShardFilter": {"Type": "AT_TIMESTAMP"}},
            "InvalidArgumentException",
            "Timestamp must be specified",
        ),
        (
            {"StreamName": "s", "ShardFilter": {"Type": "AT_LATEST", "ShardId": "shardId-000000000000"}},
            "InvalidArgumentException",
            "ShardId can only be specified",
        ),
        ({"StreamName": "s", "MaxResults": 0}, "ValidationException", "maxResults"),
        ({"StreamName": "nope"}, "ResourceNotFoundException", f"Stream nope under account {ACCOUNT} not found."),
    ],
)
def test_list_shards_errors(raw_kinesis, kwargs, code, message) -> None:
    make_stream(raw_kinesis, "s", 2)
    got_code, got_message = error_of(raw_kinesis.list_shards, **kwargs)
    assert got_code == code and message in got_message, got_message


def test_list_shards_rejects_next_token_with_exclusive_start_shard_id(kinesis) -> None:
    make_stream(kinesis, "s", 3)
    token = kinesis.list_shards(StreamName="s", MaxResults=1)["NextToken"]
    assert error_of(kinesis.list_shards, NextToken=token, ExclusiveStartShardId="shardId-000000000001") == (
        "InvalidArgumentException",
        "NextToken and ExclusiveStartShardId cannot be provided together.",
    )
    assert [s["ShardId"] for s in kinesis.list_shards(NextToken=token)["Shards"]] == [
        "shardId-000000000001",
        "shardId-000000000002",
    ]


def test_list_shards_token_expires(kinesis) -> None:
    make_stream(kinesis, "s", 3)
    token = kinesis.list_shards(StreamName="s", MaxResults=1)["NextToken"]
    clock.advance(301)
    assert error_of(kinesis.list_shards, NextToken=token)[0] == "ExpiredNextTokenException"


def test_update_shard_count_allows_ten_scalings_per_rolling_day(kinesis) -> None:
    make_stream(kinesis, "s", 2)
    for target in (3, 2) * 5:
        kinesis.update_shard_count(StreamName="s", TargetShardCount=target, ScalingType="UNIFORM_SCALING")
    code, message = error_of(
        kinesis.update_shard_count, StreamName="s", TargetShardCount=3, ScalingType="UNIFORM_SCALING"
    )
    assert code == "LimitExceededException" and "10 times in the last 24 hours" in message
    assert len(kinesis.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"})["Shards"]) == 2
    clock.advance(86400)
    kinesis.update_shard_count(StreamName="s", TargetShardCount=3, ScalingType="UNIFORM_SCALING")


def test_list_shards_rejects_next_token_with_shard_filter_and_keeps_the_first_pages_filter(kinesis) -> None:
    make_stream(kinesis, "s", 3)
    kinesis.split_shard(StreamName="s", ShardToSplit="shardId-000000000000", NewStartingHashKey="1000")
    first = kinesis.list_shards(StreamName="s", ShardFilter={"Type": "AT_LATEST"}, MaxResults=1)
    code, message = error_of(kinesis.list_shards, NextToken=first["NextToken"], ShardFilter={"Type": "AT_LATEST"})
    assert (code, message) == ("InvalidArgumentException", "NextToken and ShardFilter cannot be provided together.")
    rest = kinesis.list_shards(NextToken=first["NextToken"])["Shards"]
    open_ids = {s["ShardId"] for s in first["Shards"] + rest}
    assert "shardId-000000000000" not in open_ids and len(open_ids) == 4
