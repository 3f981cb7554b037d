"""Tags, encryption, enhanced monitoring, account settings, warm throughput and resource policies."""

from __future__ import annotations

import json

import pytest

from emulator import clock
from tests.services.kinesis.conftest import ACCOUNT, arn, error_of, make_stream

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "kinesis:GetRecords",
                "Resource": "*",
            }
        ],
    }
)


def test_stream_tags_add_list_page_and_remove(kinesis) -> None:
    kinesis.create_stream(StreamName="s", ShardCount=1, Tags={"team": "data"})
    kinesis.add_tags_to_stream(StreamName="s", Tags={"env": "prod", "cost": "1"})
    kinesis.add_tags_to_stream(StreamARN=arn("s"), Tags={"env": "dev"})
    page = kinesis.list_tags_for_stream(StreamName="s", Limit=2)
    assert (
        page["Tags"] == [{"Key": "cost", "Value": "1"}, {"Key": "env", "Value": "dev"}] and page["HasMoreTags"] is True
    )
    rest = kinesis.list_tags_for_stream(StreamName="s", ExclusiveStartTagKey="env")
    assert rest["Tags"] == [{"Key": "team", "Value": "data"}] and rest["HasMoreTags"] is False
    kinesis.remove_tags_from_stream(StreamName="s", TagKeys=["env", "absent"])
    assert [t["Key"] for t in kinesis.list_tags_for_stream(StreamName="s")["Tags"]] == ["cost", "team"]


def test_resource_tags_work_for_streams_and_consumers(kinesis) -> None:
    make_stream(kinesis, "s")
    consumer = kinesis.register_stream_consumer(StreamARN=arn("s"), ConsumerName="c", Tags={"a": "1"})["Consumer"][
        "ConsumerARN"
    ]
    kinesis.tag_resource(ResourceARN=arn("s"), Tags={"x": "y"})
    kinesis.tag_resource(ResourceARN=consumer, Tags={"b": "2"})
    assert kinesis.list_tags_for_resource(ResourceARN=arn("s"))["Tags"] == [{"Key": "x", "Value": "y"}]
    assert kinesis.list_tags_for_resource(ResourceARN=consumer)["Tags"] == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "2"},
    ]
    kinesis.untag_resource(ResourceARN=consumer, TagKeys=["a"])
    assert kinesis.list_tags_for_resource(ResourceARN=consumer)["Tags"] == [{"Key": "b", "Value": "2"}]


@pytest.mark.parametrize(
    ("call", "kwargs", "code", "message"),
    [
        (
            "add_tags_to_stream",
            {"StreamName": "s", "Tags": {"bad#key": "v"}},
            "InvalidArgumentException",
            "Some tags contain invalid characters.",
        ),
        (
            "add_tags_to_stream",
            {"StreamName": "s", "Tags": {f"k{i}": "v" for i in range(50)}},
            "InvalidArgumentException",
            "cannot have more than 50 tags",
        ),
        (
            "add_tags_to_stream",
            {"StreamName": "s", "Tags": {"aws:owner": "v"}},
            "InvalidArgumentException",
            "Some tags contain invalid characters.",
        ),
        (
            "add_tags_to_stream",
            {"StreamName": "nope", "Tags": {"k": "v"}},
            "ResourceNotFoundException",
            f"Stream nope under account {ACCOUNT} not found.",
        ),
        ("add_tags_to_stream", {"StreamName": "s", "Tags": {}}, "ValidationException", "tags"),
        (
            "remove_tags_from_stream",
            {"StreamName": "s", "TagKeys": ["bad#key"]},
            "InvalidArgumentException",
            "Some tags contain invalid characters.",
        ),
        ("tag_resource", {"ResourceARN": arn("nope"), "Tags": {"k": "v"}}, "ResourceNotFoundException", "Stream nope"),
        (
            "tag_resource",
            {"ResourceARN": arn("s") + "/consumer/none:1", "Tags": {"k": "v"}},
            "ResourceNotFoundException",
            "Consumer",
        ),
        (
            "list_tags_for_resource",
            {"ResourceARN": "arn:aws:sqs:us-east-1:000000000000:q"},
            "ValidationException",
            "resourceARN",
        ),
    ],
)
def test_tag_errors(raw_kinesis, call, kwargs, code, message) -> None:
    raw_kinesis.create_stream(StreamName="s", ShardCount=1, Tags={"existing": "1"})
    got_code, got_message = error_of(getattr(raw_kinesis, call), **kwargs)
    assert got_code == code and message in got_message, got_message
    assert raw_kinesis.list_tags_for_stream(StreamName="s")["Tags"] == [{"Key": "existing", "Value": "1"}]


_TOO_MANY = {f"k{i}": "v" for i in range(51)}
_BAD_TAGS = [
    ({"a": "b#c"}, "Some tags contain invalid characters."),
    ({"aws:owner": "me"}, "Some tags contain invalid characters."),
    (_TOO_MANY, "cannot have more than 50 tags associated with it."),
]


@pytest.mark.parametrize(("tags", "message"), _BAD_TAGS, ids=["characters", "aws-prefix", "too-many"])
def test_create_stream_checks_its_tags(raw_kinesis, tags, message) -> None:
    code, got = error_of(raw_kinesis.create_stream, StreamName="s", ShardCount=1, Tags=tags)
    assert code == "InvalidArgumentException" and message in got, got
    assert raw_kinesis.list_streams()["StreamNames"] == []
    raw_kinesis.create_stream(StreamName="s", ShardCount=1, Tags={f"k{i}": "v" for i in range(50)})
    assert len(raw_kinesis.list_tags_for_stream(StreamName="s", Limit=50)["Tags"]) == 50


@pytest.mark.parametrize(("tags", "message"), _BAD_TAGS, ids=["characters", "aws-prefix", "too-many"])
def test_register_stream_consumer_checks_its_tags(raw_kinesis, tags, message) -> None:
    make_stream(raw_kinesis, "s")
    code, got = error_of(raw_kinesis.register_stream_consumer, StreamARN=arn("s"), ConsumerName="c", Tags=tags)
    assert code == "InvalidArgumentException" and message in got, got
    assert raw_kinesis.list_stream_consumers(StreamARN=arn("s"))["Consumers"] == []
    consumer = raw_kinesis.register_stream_consumer(
        StreamARN=arn("s"), ConsumerName="c", Tags={f"k{i}": "v" for i in range(50)}
    )["Consumer"]["ConsumerARN"]
    assert len(raw_kinesis.list_tags_for_resource(ResourceARN=consumer)["Tags"]) == 50


def test_encryption_is_recorded_and_reported_on_records(kinesis) -> None:
    make_stream(kinesis, "s")
    plain = kinesis.put_record(StreamName="s", Data=b"a", PartitionKey="k")
    kinesis.start_stream_encryption(StreamName="s", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    summary = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]
    assert (summary["EncryptionType"], summary["KeyId"]) == ("KMS", "alias/aws/kinesis")
    secret = kinesis.put_record(StreamName="s", Data=b"b", PartitionKey="k")
    assert (plain["EncryptionType"], secret["EncryptionType"]) == ("NONE", "KMS")
    assert kinesis.put_records(StreamName="s", Records=[{"Data": b"c", "PartitionKey": "k"}])["EncryptionType"] == "KMS"
    iterator = kinesis.get_shard_iterator(
        StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [r.get("EncryptionType", "NONE") for r in records] == ["NONE", "KMS", "KMS"]
    kinesis.stop_stream_encryption(StreamName="s", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    assert kinesis.describe_stream(StreamName="s")["StreamDescription"]["EncryptionType"] == "NONE"
    assert kinesis.put_record(StreamName="s", Data=b"d", PartitionKey="k")["EncryptionType"] == "NONE"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"StreamName": "s", "EncryptionType": "NONE", "KeyId": "k"}, "InvalidArgumentException"),
        ({"StreamName": "nope", "EncryptionType": "KMS", "KeyId": "k"}, "ResourceNotFoundException"),
    ],
)
def test_encryption_errors(kinesis, kwargs, code) -> None:
    make_stream(kinesis, "s")
    assert error_of(kinesis.start_stream_encryption, **kwargs)[0] == code


def test_enhanced_monitoring_reports_current_and_desired(kinesis) -> None:
    make_stream(kinesis, "s")
    first = kinesis.enable_enhanced_monitoring(StreamName="s", ShardLevelMetrics=["IncomingBytes"])
    assert (first["CurrentShardLevelMetrics"], first["DesiredShardLevelMetrics"]) == ([], ["IncomingBytes"])
    everything = kinesis.enable_enhanced_monitoring(StreamARN=arn("s"), ShardLevelMetrics=["ALL"])
    assert len(everything["DesiredShardLevelMetrics"]) == 7 and everything["StreamARN"] == arn("s")
    less = kinesis.disable_enhanced_monitoring(StreamName="s", ShardLevelMetrics=["IncomingBytes", "OutgoingBytes"])
    assert len(less["DesiredShardLevelMetrics"]) == 5
    monitoring = kinesis.describe_stream(StreamName="s")["StreamDescription"]["EnhancedMonitoring"]
    assert monitoring == [{"ShardLevelMetrics": less["DesiredShardLevelMetrics"]}]
    assert (
        error_of(kinesis.disable_enhanced_monitoring, StreamName="s", ShardLevelMetrics=["Nonsense"])[0]
        == "ValidationException"
    )


def test_account_settings_commitment_lasts_at_least_a_day(kinesis) -> None:
    assert kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"] == "DISABLED"
    enabled = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "ENABLED"})[
        "MinimumThroughputBillingCommitment"
    ]
    assert enabled["Status"] == "ENABLED"
    assert (enabled["EarliestAllowedEndAt"] - enabled["StartedAt"]).total_seconds() == pytest.approx(86400, abs=1)
    early = kinesis.update_account_settings(MinimumThroughputBillingCommitment={"Status": "DISABLED"})[
        "MinimumThroughputBillingCommitment"
    ]
    assert early["Status"] == "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
    clock.advance(86401)
    assert kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"] == "DISABLED"


def test_warm_throughput_only_for_on_demand_streams(kinesis) -> None:
    make_stream(kinesis, "p")
    kinesis.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    answer = kinesis.update_stream_warm_throughput(StreamARN=arn("od"), WarmThroughputMiBps=100)
    assert answer["WarmThroughput"] == {"TargetMiBps": 100, "CurrentMiBps": 100}
    assert (
        kinesis.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]["WarmThroughput"]["TargetMiBps"]
        == 100
    )
    assert (
        error_of(kinesis.update_stream_warm_throughput, StreamName="p", WarmThroughputMiBps=100)[0]
        == "InvalidArgumentException"
    )


def test_resource_policies_round_trip_for_streams_and_consumers(kinesis) -> None:
    make_stream(kinesis, "s")
    consumer = kinesis.register_stream_consumer(StreamARN=arn("s"), ConsumerName="c")["Consumer"]["ConsumerARN"]
    assert kinesis.get_resource_policy(ResourceARN=arn("s"))["Policy"] == "{}"
    for resource in (arn("s"), consumer):
        kinesis.put_resource_policy(ResourceARN=resource, Policy=POLICY)
        assert json.loads(kinesis.get_resource_policy(ResourceARN=resource)["Policy"]) == json.loads(POLICY)
        kinesis.delete_resource_policy(ResourceARN=resource)
        assert kinesis.get_resource_policy(ResourceARN=resource)["Policy"] == "{}"


@pytest.mark.parametrize(
    ("call", "kwargs", "code"),
    [
        ("put_resource_policy", {"ResourceARN": arn("s"), "Policy": "{not json"}, "InvalidArgumentException"),
        ("put_resource_policy", {"ResourceARN": arn("s"), "Policy": "[]"}, "InvalidArgumentException"),
        ("put_resource_policy", {"ResourceARN": arn("nope"), "Policy": POLICY}, "ResourceNotFoundException"),
        ("get_resource_policy", {"ResourceARN": arn("nope")}, "ResourceNotFoundException"),
        ("delete_resource_policy", {"ResourceARN": arn("s")}, "ResourceNotFoundException"),
    ],
)
def test_resource_policy_errors(kinesis, call, kwargs, code) -> None:
    make_stream(kinesis, "s")
    assert error_of(getattr(kinesis, call), **kwargs)[0] == code
    assert kinesis.get_resource_policy(ResourceARN=arn("s"))["Policy"] == "{}"
