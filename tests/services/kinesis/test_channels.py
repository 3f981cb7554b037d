"""Channels: their life cycle and validation over boto3, and what they would have written to S3 or
S3 Tables as /_emulator/kinesis/channels shows it. The clock is frozen and moved, never waited for."""

from __future__ import annotations

import base64
import copy
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator import specs
from emulator.testing import admin
from tests.services.kinesis.conftest import ACCOUNT, arn, error_of

pytestmark = pytest.mark.skipif(
    "CreateChannel" not in specs.load("kinesis").operation_names,
    reason="this botocore's Kinesis model has no channels",
)

ROLE = "arn:aws:iam::000000000000:role/delivery"
BUCKET = "arn:aws:s3:::landing"
TABLE_BUCKET = "arn:aws:s3tables:us-east-1:000000000000:bucket/lake"
S3 = {"StorageConfiguration": {"BucketARN": BUCKET, "ExpectedBucketOwner": ACCOUNT, "CompressionType": "GZIP"}}
TABLES = {
    "DeadLetterQueueS3Configuration": {"BucketARN": "arn:aws:s3:::dlq", "ExpectedBucketOwner": ACCOUNT},
    "S3TablesConfigurationList": [
        {"TableBucketARN": TABLE_BUCKET, "Namespace": "events", "TableName": "clicks", "CompressionType": "ZSTD"}
    ],
}


def _source(record_format: str = "JSON", stream: str = "s", **extra: Any) -> list[dict[str, Any]]:
    return [{"StreamARN": arn(stream), "RecordConfiguration": {"RecordFormatType": record_format, **extra}}]


def _create(kinesis: Any, name: str = "c", record_format: str = "JSON", **extra: Any) -> dict[str, Any]:
    if "S3TablesDestinationConfiguration" not in extra:
        extra.setdefault("S3DestinationConfiguration", S3)
    return kinesis.create_channel(
        ChannelName=name, ServiceExecutionRoleARN=ROLE, StreamConfigurationList=_source(record_format), **extra
    )["ChannelDescription"]


def _channel_arn(name: str = "c") -> str:
    return f"arn:aws:kinesis:us-east-1:{ACCOUNT}:channel/{name}"


@pytest.fixture
def stream(kinesis) -> str:
    kinesis.create_stream(StreamName="s", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    return "s"


@pytest.fixture
def frozen(emulator_url) -> Any:
    """Freezes the emulator's clock; returns advance(seconds)."""
    admin(emulator_url, "/_emulator/clock", "POST", {"freeze": True})
    return lambda seconds: admin(emulator_url, "/_emulator/clock", "POST", {"advance": seconds})


def _written(url: str, channel: str = "c") -> dict[str, Any]:
    (view,) = admin(url, f"/_emulator/kinesis/channels?channel={channel}")["channels"]
    return view


# -- life cycle ------------------------------------------------------------------------------


def test_a_channel_is_creating_then_active_after_the_transition(kinesis, stream, settings, frozen) -> None:
    settings(kinesis_transition_seconds=5)
    created = _create(kinesis)
    assert created["ChannelStatus"] == "CREATING" and created["ChannelARN"] == _channel_arn()
    assert kinesis.describe_channel(ChannelARN=_channel_arn())["ChannelDescription"]["ChannelStatus"] == "CREATING"
    frozen(5)
    assert kinesis.describe_channel(ChannelARN=_channel_arn())["ChannelDescription"]["ChannelStatus"] == "ACTIVE"


def test_the_description_fills_in_aws_defaults(kinesis, stream) -> None:
    _create(kinesis, LoggingConfiguration={"CloudWatchLogs": {"Enabled": True}})
    described = kinesis.describe_channel(ChannelARN=_channel_arn())["ChannelDescription"]
    destination = described["S3DestinationConfiguration"]
    assert destination["DataFreshnessInSeconds"] == 300
    assert destination["DeadLetterQueueS3Configuration"] == {"BucketARN": BUCKET, "ExpectedBucketOwner": ACCOUNT}
    assert destination["StorageConfiguration"] == S3["StorageConfiguration"]
    assert described["LoggingConfiguration"]["CloudWatchLogs"] == {
        "Enabled": True,
        "LogGroupName": f"/aws/kinesis/c/{described['ChannelId']}",
        "LogStreamName": "DestinationDelivery",
    }
    (source,) = described["StreamConfigurationList"]
    assert source["StreamARN"] == arn("s") and source["RecordConfiguration"] == {"RecordFormatType": "JSON"}
    assert "S3TablesDestinationConfiguration" not in described


def _update(kinesis: Any, seconds: int) -> dict[str, Any]:
    return kinesis.update_channel(
        ChannelARN=_channel_arn(), S3DestinationConfiguration={"DataFreshnessInSeconds": seconds}
    )["ChannelDescription"]


def test_update_changes_the_freshness_after_updating(kinesis, stream, settings, frozen) -> None:
    settings(kinesis_transition_seconds=5)
    _create(kinesis)
    frozen(5)
    updated = _update(kinesis, 600)
    assert updated["ChannelStatus"] == "UPDATING"
    assert updated["S3DestinationConfiguration"]["DataFreshnessInSeconds"] == 300
    code, message = error_of(kinesis.update_channel, ChannelARN=_channel_arn(),
                             S3DestinationConfiguration={"DataFreshnessInSeconds": 700})
    assert code == "ResourceInUseException"
    assert message == f"Channel c under account {ACCOUNT} not ACTIVE, instead in state UPDATING"
    frozen(5)
    described = kinesis.describe_channel(ChannelARN=_channel_arn())["ChannelDescription"]
    assert described["ChannelStatus"] == "ACTIVE"
    assert described["S3DestinationConfiguration"]["DataFreshnessInSeconds"] == 600


def test_delete_removes_the_channel_and_frees_the_stream(kinesis, stream, settings, frozen) -> None:
    _create(kinesis)
    code, message = error_of(kinesis.delete_stream, StreamName="s")
    assert code == "ResourceInUseException" and "channels" in message
    summary = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]
    assert summary["ChannelCount"] == 1 and kinesis.describe_limits()["ChannelCount"] == 1
    settings(kinesis_transition_seconds=5)
    kinesis.delete_channel(ChannelARN=_channel_arn())
    assert kinesis.describe_channel(ChannelARN=_channel_arn())["ChannelDescription"]["ChannelStatus"] == "DELETING"
    frozen(5)
    code, message = error_of(kinesis.describe_channel, ChannelARN=_channel_arn())
    assert (code, message) == (
        "ResourceNotFoundException", f"Channel {_channel_arn()} under account {ACCOUNT} not found.")
    assert kinesis.list_channels()["ChannelSummaries"] == []
    kinesis.delete_stream(StreamName="s")


def test_list_channels_pages_and_filters_by_stream(kinesis, stream) -> None:
    kinesis.create_stream(StreamName="t", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    _create(kinesis, "a")
    _create(kinesis, "b", S3TablesDestinationConfiguration=TABLES, record_format="GSR_JSON")
    kinesis.create_channel(ChannelName="z", ServiceExecutionRoleARN=ROLE, StreamConfigurationList=_source(stream="t"),
                           S3DestinationConfiguration=S3)
    first = kinesis.list_channels(MaxResults=2)
    assert [c["ChannelName"] for c in first["ChannelSummaries"]] == ["a", "b"]
    rest = kinesis.list_channels(NextToken=first["NextToken"])
    assert [c["ChannelName"] for c in rest["ChannelSummaries"]] == ["z"] and "NextToken" not in rest
    on_s = kinesis.list_channels(StreamFilter=[{"StreamARN": arn("s")}])["ChannelSummaries"]
    assert [(c["ChannelName"], c["ChannelDestinationType"]) for c in on_s] == [("a", "S3"), ("b", "S3_TABLES")]
    assert on_s[0]["Streams"][0]["StreamARN"] == arn("s")
    paged = kinesis.list_channels(StreamFilter=[{"StreamARN": arn("s")}], MaxResults=1)
    assert [c["ChannelName"] for c in kinesis.list_channels(NextToken=paged["NextToken"])["ChannelSummaries"]] == ["b"]
    code, message = error_of(kinesis.list_channels, NextToken="bm90LWEtdG9rZW4=")
    assert (code, message) == ("InvalidArgumentException", "Invalid NextToken: bm90LWEtdG9rZW4=")


def test_an_expired_list_token_is_refused(kinesis, stream, frozen) -> None:
    _create(kinesis, "a")
    _create(kinesis, "b", S3TablesDestinationConfiguration=TABLES, record_format="GSR_JSON")
    token = kinesis.list_channels(MaxResults=1)["NextToken"]
    frozen(301)
    assert error_of(kinesis.list_channels, NextToken=token)[0] == "ExpiredNextTokenException"


# -- bad input --------------------------------------------------------------------------------


def _request(**changes: Any) -> dict[str, Any]:
    request = {"ChannelName": "c", "ServiceExecutionRoleARN": ROLE, "StreamConfigurationList": _source(),
               "S3DestinationConfiguration": copy.deepcopy(S3)}
    for key, value in changes.items():
        if value is None:
            request.pop(key)
        else:
            request[key] = value
    return request


BAD_CREATES = [
    ("both destinations", _request(S3TablesDestinationConfiguration=TABLES), "InvalidArgumentException",
     "Exactly one of S3DestinationConfiguration and S3TablesDestinationConfiguration must be specified."),
    ("no destination", _request(S3DestinationConfiguration=None), "InvalidArgumentException",
     "Exactly one of S3DestinationConfiguration and S3TablesDestinationConfiguration must be specified."),
    ("two streams", _request(StreamConfigurationList=_source() * 2), "InvalidArgumentException",
     "StreamConfigurationList must contain exactly one stream."),
    ("GSR_JSON to S3", _request(StreamConfigurationList=_source("GSR_JSON")), "InvalidArgumentException",
     "RecordFormatType GSR_JSON is not supported for S3 destinations."),
    ("STRING to tables", _request(S3DestinationConfiguration=None, S3TablesDestinationConfiguration=TABLES,
                                  StreamConfigurationList=_source("STRING")), "InvalidArgumentException",
     "RecordFormatType STRING is not supported for S3_TABLES destinations."),
    ("JSON to tables without schema", _request(S3DestinationConfiguration=None,
                                               S3TablesDestinationConfiguration=TABLES),
     "InvalidArgumentException", "GSRSchemaARN is required when RecordFormatType is JSON for S3_TABLES destinations."),
    ("two tables", _request(S3DestinationConfiguration=None, StreamConfigurationList=_source("GSR_JSON"),
                            S3TablesDestinationConfiguration={**TABLES, "S3TablesConfigurationList":
                                                              TABLES["S3TablesConfigurationList"] * 2}),
     "InvalidArgumentException", "S3TablesConfigurationList must contain exactly one table."),
    ("table in another region", _request(
        S3DestinationConfiguration=None, StreamConfigurationList=_source("GSR_JSON"),
        S3TablesDestinationConfiguration={**TABLES, "S3TablesConfigurationList": [
            {**TABLES["S3TablesConfigurationList"][0],
             "TableBucketARN": "arn:aws:s3tables:eu-west-1:000000000000:bucket/lake"}]}),
     "InvalidArgumentException", "TableBucketARN arn:aws:s3tables:eu-west-1:000000000000:bucket/lake is not in "
     "the stream's Region us-east-1. Cross-Region delivery is not supported."),
    ("freshness too short", _request(S3DestinationConfiguration={**S3, "DataFreshnessInSeconds": 299}),
     "InvalidArgumentException",
     "DataFreshnessInSeconds must be between 300 and 900 seconds. Specified value was 299."),
    ("freshness too long", _request(S3DestinationConfiguration={**S3, "DataFreshnessInSeconds": 901}),
     "InvalidArgumentException",
     "DataFreshnessInSeconds must be between 300 and 900 seconds. Specified value was 901."),
    ("the service key", _request(EncryptionConfiguration={"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}),
     "InvalidArgumentException", "The AWS managed key aws/kinesis cannot encrypt a channel's destination. "
     "Specify a customer managed KMS key."),
    ("a missing stream", _request(StreamConfigurationList=_source(stream="nope")), "ResourceNotFoundException",
     f"Stream nope under account {ACCOUNT} not found."),
    ("a provisioned stream", _request(StreamConfigurationList=_source(stream="p")), "InvalidArgumentException",
     f"Channels are only supported for streams in ON_DEMAND mode. Stream p under account {ACCOUNT} "
     "is in PROVISIONED mode."),
    ("a missing role", _request(ServiceExecutionRoleARN=None), "ValidationException", None),
]


@pytest.mark.parametrize(("request_", "code", "message"), [case[1:] for case in BAD_CREATES],
                         ids=[case[0] for case in BAD_CREATES])
def test_bad_channels_are_refused_and_nothing_is_created(raw_kinesis, stream, request_, code, message) -> None:
    raw_kinesis.create_stream(StreamName="p", ShardCount=1)
    with pytest.raises(ClientError) as info:
        raw_kinesis.create_channel(**request_)
    response = info.value.response
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    if message is not None:
        assert response["Error"]["Message"] == message
    assert raw_kinesis.list_channels()["ChannelSummaries"] == []


def test_names_are_unique_and_a_stream_takes_one_channel_per_destination_type(kinesis, stream) -> None:
    _create(kinesis)
    with pytest.raises(ClientError) as info:
        _create(kinesis)
    assert info.value.response["Error"]["Code"] == "ResourceInUseException"
    assert info.value.response["Error"]["Message"] == f"Channel c under account {ACCOUNT} already exists."
    with pytest.raises(ClientError) as info:
        _create(kinesis, "second")
    assert info.value.response["Error"]["Code"] == "LimitExceededException"
    _create(kinesis, "table", S3TablesDestinationConfiguration=TABLES, record_format="GSR_JSON")  # the other type
    assert len(kinesis.list_channels()["ChannelSummaries"]) == 2


@pytest.mark.parametrize(("call", "kwargs"), [
    ("describe_channel", {}),
    ("delete_channel", {}),
    ("update_channel", {"S3DestinationConfiguration": {"DataFreshnessInSeconds": 400}}),
])
@pytest.mark.parametrize("channel", [_channel_arn("nope"), "arn:aws:kinesis:eu-west-1:000000000000:channel/c"])
def test_unknown_channels_are_not_found(kinesis, stream, call, kwargs, channel) -> None:
    _create(kinesis)
    code, message = error_of(getattr(kinesis, call), ChannelARN=channel, **kwargs)
    assert (code, message) == ("ResourceNotFoundException", f"Channel {channel} under account {ACCOUNT} not found.")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "At least one of S3DestinationConfiguration, S3TablesDestinationConfiguration or LoggingConfiguration "
         "must be specified."),
    ({"S3TablesDestinationConfiguration": {"DataFreshnessInSeconds": 400}},
     "Channel c delivers to S3; S3TablesDestinationConfiguration does not apply to it."),
    ({"S3DestinationConfiguration": {"DataFreshnessInSeconds": 100}},
     "DataFreshnessInSeconds must be between 300 and 900 seconds. Specified value was 100."),
])
def test_bad_updates_are_refused_and_change_nothing(kinesis, stream, kwargs, message) -> None:
    _create(kinesis)
    code, text = error_of(kinesis.update_channel, ChannelARN=_channel_arn(), **kwargs)
    assert (code, text) == ("InvalidArgumentException", message)
    described = kinesis.describe_channel(ChannelARN=_channel_arn())["ChannelDescription"]
    assert described["ChannelStatus"] == "ACTIVE"
    assert described["S3DestinationConfiguration"]["DataFreshnessInSeconds"] == 300


# -- what a channel writes ---------------------------------------------------------------------


def _put(kinesis: Any, *payloads: bytes) -> None:
    for index, payload in enumerate(payloads):
        kinesis.put_record(StreamName="s", Data=payload, PartitionKey=f"k{index}")


def _default_key(view: dict[str, Any], arrival: float, sequence: int) -> str:
    at = datetime.fromtimestamp(arrival, tz=timezone.utc)
    name, cid = view["channelName"], view["channelId"]
    stamp = f"{at:%Y}-{at:%m}-{at:%d}-{at:%H}-{at:%M}"
    return f"kinesis-channel/{name}/{cid}/{at:%Y/%m/%d/%H}/{name}-{cid}-{stamp}.gz-{sequence:06d}"


def test_records_are_written_once_the_freshness_interval_is_over(kinesis, stream, emulator_url, frozen) -> None:
    _create(kinesis)
    _put(kinesis, b'{"n": 1}', b'{"n": 2}')
    frozen(299)
    assert _written(emulator_url)["batches"] == [] and _written(emulator_url)["buffered"] == 2
    frozen(1)
    view = _written(emulator_url)
    (batch,) = view["batches"]
    assert [base64.b64decode(r["data"]) for r in batch["records"]] == [b'{"n": 1}', b'{"n": 2}']
    assert [r["text"] for r in batch["records"]] == ['{"n": 1}', '{"n": 2}']
    assert [r["partitionKey"] for r in batch["records"]] == ["k0", "k1"]
    arrival = batch["records"][0]["approximateArrivalTimestamp"]
    assert batch["key"] == _default_key(view, arrival, 1)
    assert batch["destination"] == {"type": "S3", "format": "JSON", "StorageClass": "STANDARD",
                                    **S3["StorageConfiguration"]}
    assert batch["deadLetter"] is False and batch["writtenAt"] == pytest.approx(arrival + 300)
    assert view["buffered"] == 0 and _written(emulator_url)["batches"] == [batch]  # written once


def test_each_interval_is_its_own_batch_and_nothing_before_active_is_written(
    kinesis, stream, emulator_url, settings, frozen
) -> None:
    settings(kinesis_transition_seconds=5)
    _create(kinesis, S3DestinationConfiguration={**S3, "DataFreshnessInSeconds": 600})
    _put(kinesis, b'"before active"')
    frozen(5)
    _put(kinesis, b'"first"')
    frozen(599)
    _put(kinesis, b'"also first"')
    frozen(1)
    _put(kinesis, b'"second"')
    frozen(600)
    batches = _written(emulator_url)["batches"]
    assert [[r["text"] for r in b["records"]] for b in batches] == [['"first"', '"also first"'], ['"second"']]
    assert [b["sequence"] for b in batches] == [1, 2]


def test_invalid_records_go_to_the_dead_letter_bucket(kinesis, stream, emulator_url, frozen) -> None:
    dead_letter = {"BucketARN": "arn:aws:s3:::dlq", "ExpectedBucketOwner": ACCOUNT, "ErrorOutputPrefix": "bad/"}
    _create(kinesis, S3DestinationConfiguration={**S3, "DeadLetterQueueS3Configuration": dead_letter})
    _put(kinesis, b'{"ok": true}', b"{not json", b"\xff\xfe")
    frozen(300)
    good, bad = _written(emulator_url)["batches"]
    assert [r["text"] for r in good["records"]] == ['{"ok": true}']
    assert bad["deadLetter"] is True and "key" not in bad
    assert bad["destination"] == {"type": "S3", **dead_letter}
    assert [(base64.b64decode(r["data"]), r["error"]) for r in bad["records"]] == [
        (b"{not json", "The record is not a valid JSON payload."),
        (b"\xff\xfe", "The record is not a valid UTF-8 string."),
    ]


@pytest.mark.parametrize(("record_format", "payload", "dead"), [
    ("STRING", b"plain text", False),
    ("STRING", b"\xff", True),
    ("BYTE_ARRAY", b"\xff\x00 anything", False),
])
def test_string_and_byte_array_formats(kinesis, stream, emulator_url, frozen, record_format, payload, dead) -> None:
    _create(kinesis, record_format=record_format)
    _put(kinesis, payload)
    frozen(300)
    (batch,) = _written(emulator_url)["batches"]
    assert batch["deadLetter"] is dead and base64.b64decode(batch["records"][0]["data"]) == payload
    assert ("text" in batch["records"][0]) is (record_format == "STRING" and not dead)


def test_a_custom_key_template_names_the_objects(kinesis, stream, emulator_url, frozen) -> None:
    storage = {**S3["StorageConfiguration"], "CompressionType": "NONE",
               "OutputKeyTemplate": "raw/!{yyyy}/!{channel-name}!{extension}", "StorageClass": "GLACIER_IR"}
    _create(kinesis, S3DestinationConfiguration={"StorageConfiguration": storage})
    _put(kinesis, b"{}")
    frozen(300)
    (batch,) = _written(emulator_url)["batches"]
    year = datetime.fromtimestamp(batch["records"][0]["approximateArrivalTimestamp"], tz=timezone.utc).year
    assert batch["key"] == f"raw/{year}/c-000001"
    assert batch["destination"]["StorageClass"] == "GLACIER_IR"


def test_a_table_channel_commits_parquet_to_its_table(kinesis, stream, emulator_url, frozen) -> None:
    _create(kinesis, record_format="GSR_JSON", S3TablesDestinationConfiguration=TABLES)
    _put(kinesis, b"\x03\x00schema-id{}")
    frozen(300)
    (batch,) = _written(emulator_url)["batches"]
    assert batch["destination"] == {"type": "S3_TABLES", "format": "PARQUET", **TABLES["S3TablesConfigurationList"][0]}
    assert "key" not in batch and "text" not in batch["records"][0]


def test_a_channel_reads_every_shard_in_arrival_order_and_auto_records_have_no_key(
    kinesis, stream, emulator_url, frozen
) -> None:
    if "UpdateStreamRecordDistributionStrategy" not in specs.load("kinesis").operation_names:
        pytest.skip("this botocore's Kinesis model has no record distribution strategy")
    kinesis.update_stream_record_distribution_strategy(StreamARN=arn("s"), RecordDistributionStrategy="AUTO")
    _create(kinesis)
    shards = {kinesis.put_record(StreamName="s", Data=f"{i}".encode())["ShardId"] for i in range(8)}
    frozen(300)
    (batch,) = _written(emulator_url)["batches"]
    assert [r["text"] for r in batch["records"]] == [str(i) for i in range(8)]
    assert {r["shardId"] for r in batch["records"]} == shards and len(shards) > 1
    assert all("partitionKey" not in r for r in batch["records"])


def test_deleting_stops_delivery_and_keeps_what_was_written(kinesis, stream, emulator_url, frozen) -> None:
    _create(kinesis)
    _put(kinesis, b"1")
    frozen(300)
    _put(kinesis, b"2")
    kinesis.delete_channel(ChannelARN=_channel_arn())
    frozen(300)
    view = _written(emulator_url)
    assert view["status"] == "DELETED" and [[r["text"] for r in b["records"]] for b in view["batches"]] == [["1"]]
    assert _written(emulator_url, _channel_arn()) == view


def test_the_admin_endpoint_answers_404_for_an_unknown_channel_or_path(emulator_url, stream) -> None:
    import urllib.error

    for path in ("/_emulator/kinesis/channels?channel=nope", "/_emulator/kinesis/other"):
        with pytest.raises(urllib.error.HTTPError) as info:
            admin(emulator_url, path)
        assert info.value.code == 404
    assert admin(emulator_url, "/_emulator/kinesis/channels") == {"channels": []}
