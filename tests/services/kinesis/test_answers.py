"""AWS's recorded answers on shard ids, tag characters and UpdateShardCount on an on-demand stream,
over JSON (boto3) and CBOR (as the Java SDK and the KCL speak it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from tests.services.kinesis.conftest import ACCOUNT, arn
from tests.services.kinesis.test_cbor import cbor_call

HALF = 2**127
Call = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]


@pytest.fixture(params=["json", "cbor"])
def call(request: pytest.FixtureRequest, raw_kinesis: Any, emulator_url: str) -> Call:
    """``call(operation, members)`` -> (HTTP status, answer); an error's answer is its code and message."""
    if request.param == "json":

        def by_json(operation: str, members: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            try:
                answer = getattr(raw_kinesis, xform_name(operation))(**members)
            except ClientError as error:
                response = error.response
                return response["ResponseMetadata"]["HTTPStatusCode"], dict(response["Error"])
            return answer["ResponseMetadata"]["HTTPStatusCode"], answer

        return by_json

    def by_cbor(operation: str, members: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, answer, _ = cbor_call(emulator_url, operation, members)
        if status != 200:
            return status, {"Code": answer["__type"], "Message": answer.get("message")}
        return status, answer or {}

    return by_cbor


def not_found(message: str) -> tuple[int, dict[str, str]]:
    return 400, {"Code": "ResourceNotFoundException", "Message": message}


def invalid(message: str) -> tuple[int, dict[str, str]]:
    return 400, {"Code": "InvalidArgumentException", "Message": message}


def errors_only(answer: tuple[int, dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    status, body = answer
    return status, {k: body.get(k) for k in ("Code", "Message")}


# -- shard ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shard_id", ["shardId-000000000001", "shardId-1", "1", "any-name-0001", "-0000000000000001"])
def test_a_shard_id_is_read_from_the_digits_after_its_last_dash(raw_kinesis, call, shard_id) -> None:
    raw_kinesis.create_stream(StreamName="s", ShardCount=2)
    put = raw_kinesis.put_record(StreamName="s", Data=b"one", PartitionKey="k", ExplicitHashKey=str(HALF + 1))
    assert put["ShardId"] == "shardId-000000000001"
    status, answer = call(
        "GetShardIterator", {"StreamName": "s", "ShardId": shard_id, "ShardIteratorType": "TRIM_HORIZON"}
    )
    assert status == 200, answer
    status, page = call("GetRecords", {"ShardIterator": answer["ShardIterator"]})
    assert status == 200 and [r["SequenceNumber"] for r in page["Records"]] == [put["SequenceNumber"]]


def test_split_and_merge_take_shard_ids_in_any_spelling_aws_reads(raw_kinesis, call) -> None:
    raw_kinesis.create_stream(StreamName="s", ShardCount=1)
    assert call("SplitShard", {"StreamName": "s", "ShardToSplit": "0", "NewStartingHashKey": str(HALF)})[0] == 200
    merge = {"StreamName": "s", "ShardToMerge": "child-1", "AdjacentShardToMerge": "shardId-2"}
    assert call("MergeShards", merge)[0] == 200
    shards = raw_kinesis.list_shards(StreamName="s")["Shards"]
    assert [(s["ShardId"], s.get("ParentShardId"), s.get("AdjacentParentShardId")) for s in shards] == [
        ("shardId-000000000000", None, None),
        ("shardId-000000000001", "shardId-000000000000", None),
        ("shardId-000000000002", "shardId-000000000000", None),
        ("shardId-000000000003", "shardId-000000000001", "shardId-000000000002"),
    ]


_UNREADABLE = ["2147483648", "shardId-002147483648", "ABKLFD8", "2.14E4", "shardId-"]


@pytest.mark.parametrize("stream", ["s", "nope"], ids=["known-stream", "unknown-stream"])
@pytest.mark.parametrize("shard_id", _UNREADABLE)
@pytest.mark.parametrize(
    ("operation", "members"),
    [
        ("GetShardIterator", lambda sid: {"ShardId": sid, "ShardIteratorType": "LATEST"}),
        ("SplitShard", lambda sid: {"ShardToSplit": sid, "NewStartingHashKey": str(HALF)}),
        ("MergeShards", lambda sid: {"ShardToMerge": sid, "AdjacentShardToMerge": "shardId-000000000001"}),
        ("MergeShards", lambda sid: {"ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": sid}),
    ],
    ids=["GetShardIterator", "SplitShard", "MergeShards-first", "MergeShards-adjacent"],
)
def test_a_shard_id_aws_cannot_read_is_not_found_before_the_stream_is_looked_up(
    raw_kinesis, call, operation, members, shard_id, stream
) -> None:
    raw_kinesis.create_stream(StreamName="s", ShardCount=2)
    before = raw_kinesis.list_shards(StreamName="s")["Shards"]
    answer = call(operation, {"StreamName": stream, **members(shard_id)})
    message = f"Could not find shard {shard_id} in stream {stream} under account {ACCOUNT}."
    assert errors_only(answer) == not_found(message)
    assert raw_kinesis.list_shards(StreamName="s")["Shards"] == before


@pytest.mark.parametrize(
    ("stream", "operation", "members", "message"),
    [
        (
            "nope",
            "GetShardIterator",
            {"ShardId": "2147483647", "ShardIteratorType": "LATEST"},
            f"Shard shardId-002147483647 in stream nope under account {ACCOUNT} does not exist",
        ),
        (
            "nope",
            "GetShardIterator",
            {"ShardId": "a-00002147483647", "ShardIteratorType": "LATEST"},
            f"Shard shardId-002147483647 in stream nope under account {ACCOUNT} does not exist",
        ),
        (
            "s",
            "GetShardIterator",
            {"ShardId": "shardId-5", "ShardIteratorType": "LATEST"},
            f"Shard shardId-000000000005 in stream s under account {ACCOUNT} does not exist",
        ),
        (
            "nope",
            "SplitShard",
            {"ShardToSplit": "shardId-000000000000", "NewStartingHashKey": str(HALF)},
            f"Stream nope under account {ACCOUNT} not found.",
        ),
        (
            "nope",
            "MergeShards",
            {"ShardToMerge": "0", "AdjacentShardToMerge": "1"},
            f"Stream nope under account {ACCOUNT} not found.",
        ),
        (
            "s",
            "SplitShard",
            {"ShardToSplit": "5", "NewStartingHashKey": str(HALF)},
            f"Could not find shard shardId-000000000005 in stream s under account {ACCOUNT}.",
        ),
        (
            "s",
            "MergeShards",
            {"ShardToMerge": "0", "AdjacentShardToMerge": "x-7"},
            f"Could not find shard shardId-000000000007 in stream s under account {ACCOUNT}.",
        ),
    ],
)
def test_a_readable_shard_id_names_the_normalised_shard_when_it_is_missing(
    raw_kinesis, call, stream, operation, members, message
) -> None:
    raw_kinesis.create_stream(StreamName="s", ShardCount=2)
    assert errors_only(call(operation, {"StreamName": stream, **members})) == not_found(message)


# -- tags --------------------------------------------------------------------------------------------

_INVALID = (
    "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."
)
_STREAM = f"stream s under account {ACCOUNT}"
_PERCENT = (
    "because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, "
    "'_',',','/','=','+','-','@'."
)


def test_tags_take_unicode_letters_digits_spaces_and_the_listed_symbols(raw_kinesis, call) -> None:
    raw_kinesis.create_stream(StreamName="s", ShardCount=1)
    tags = {"ü0 _.": "/=+-@", "Ωμέγα\u00a0٣": "値 1", "a\u2003b": ""}
    assert call("AddTagsToStream", {"StreamName": "s", "Tags": tags})[0] == 200
    listed = raw_kinesis.list_tags_for_stream(StreamName="s")["Tags"]
    assert {t["Key"]: t.get("Value", "") for t in listed} == tags
    assert call("RemoveTagsFromStream", {"StreamName": "s", "TagKeys": list(tags)})[0] == 200
    assert raw_kinesis.list_tags_for_stream(StreamName="s")["Tags"] == []


@pytest.mark.parametrize(
    "text", ["a:b", "aws:owner", "tab\there", "new\nline", "hash#", "semi;colon"],
    ids=["colon", "aws-prefix", "tab", "newline", "hash", "semicolon"],
)
@pytest.mark.parametrize(
    ("operation", "members"),
    [
        ("AddTagsToStream", lambda t: {"StreamName": "s", "Tags": {t: "v"}}),
        ("AddTagsToStream", lambda t: {"StreamName": "s", "Tags": {"k": t}}),
        ("RemoveTagsFromStream", lambda t: {"StreamName": "s", "TagKeys": ["existing", t]}),
        ("TagResource", lambda t: {"ResourceARN": arn("s"), "Tags": {"k": t}}),
        ("UntagResource", lambda t: {"ResourceARN": arn("s"), "TagKeys": [t]}),
        ("CreateStream", lambda t: {"StreamName": "t", "ShardCount": 1, "Tags": {t: "v"}}),
    ],
    ids=["add-key", "add-value", "remove", "tag-resource", "untag-resource", "create-stream"],
)
def test_tags_with_other_characters_are_refused(raw_kinesis, call, operation, members, text) -> None:
    raw_kinesis.create_stream(StreamName="s", ShardCount=1, Tags={"existing": "1"})
    assert errors_only(call(operation, members(text))) == invalid(_INVALID)
    assert raw_kinesis.list_tags_for_stream(StreamName="s")["Tags"] == [{"Key": "existing", "Value": "1"}]
    assert raw_kinesis.list_streams()["StreamNames"] == ["s"]


@pytest.mark.parametrize(
    ("operation", "members", "message"),
    [
        ("AddTagsToStream", {"StreamName": "s", "Tags": {"50%": "v"}}, f"Failed to add tags to {_STREAM}"),
        ("AddTagsToStream", {"StreamName": "s", "Tags": {"k": "100%"}}, f"Failed to add tags to {_STREAM}"),
        (
            "RemoveTagsFromStream",
            {"StreamName": "s", "TagKeys": ["existing", "50%"]},
            f"Failed to remove tags from {_STREAM}",
        ),
        (
            "TagResource",
            {"ResourceARN": arn("s"), "Tags": {"k": "%"}},
            f"Failed to add tags to resource {arn('s')}",
        ),
        (
            "UntagResource",
            {"ResourceARN": arn("s"), "TagKeys": ["%"]},
            f"Failed to remove tags from resource {arn('s')}",
        ),
    ],
    ids=["add-key", "add-value", "remove", "tag-resource", "untag-resource"],
)
def test_a_percent_sign_gets_aws_own_refusal(raw_kinesis, call, operation, members, message) -> None:
    raw_kinesis.create_stream(StreamName="s", ShardCount=1, Tags={"existing": "1"})
    assert errors_only(call(operation, members)) == invalid(f"{message} {_PERCENT}")
    assert raw_kinesis.list_tags_for_stream(StreamName="s")["Tags"] == [{"Key": "existing", "Value": "1"}]


def test_a_character_outside_the_pattern_is_reported_before_a_percent_sign(raw_kinesis, call) -> None:
    raw_kinesis.create_stream(StreamName="s", ShardCount=1)
    answer = call("AddTagsToStream", {"StreamName": "s", "Tags": {"50%": "a:b"}})
    assert errors_only(answer) == invalid(_INVALID)


@pytest.mark.parametrize(
    ("operation", "members"),
    [
        ("AddTagsToStream", {"StreamName": "nope", "Tags": {"a:b": "v"}}),
        ("AddTagsToStream", {"StreamName": "nope", "Tags": {"50%": "v"}}),
        ("RemoveTagsFromStream", {"StreamName": "nope", "TagKeys": ["a\tb"]}),
        ("RemoveTagsFromStream", {"StreamName": "nope", "TagKeys": ["50%"]}),
        ("TagResource", {"ResourceARN": arn("nope"), "Tags": {"a:b": "v"}}),
        ("UntagResource", {"ResourceARN": arn("nope"), "TagKeys": ["50%"]}),
    ],
    ids=["add-colon", "add-percent", "remove-tab", "remove-percent", "tag-resource", "untag-resource"],
)
def test_the_stream_is_looked_up_before_the_tag_characters(call, operation, members) -> None:
    assert errors_only(call(operation, members)) == not_found(f"Stream nope under account {ACCOUNT} not found.")


# -- UpdateShardCount ----------------------------------------------------------------------------------


def test_update_shard_count_on_an_on_demand_stream_is_an_invalid_request(raw_kinesis, call) -> None:
    raw_kinesis.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    before = raw_kinesis.list_shards(StreamName="od")["Shards"]
    answer = call("UpdateShardCount", {"StreamName": "od", "TargetShardCount": 5, "ScalingType": "UNIFORM_SCALING"})
    assert errors_only(answer) == (
        400,
        {
            "Code": "ValidationException",
            "Message": f"Request is invalid. Stream od under account {ACCOUNT} is in On-Demand mode.",
        },
    )
    summary = raw_kinesis.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
    assert (summary["StreamStatus"], summary["StreamModeDetails"]["StreamMode"]) == ("ACTIVE", "ON_DEMAND")
    assert raw_kinesis.list_shards(StreamName="od")["Shards"] == before
