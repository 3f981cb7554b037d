"""The foundation's smoke path over a real socket: listing operations, identity, pagination, 501s."""

from __future__ import annotations

import base64

import pytest
from botocore.exceptions import ClientError


def test_list_event_buses_answers_the_default_bus_of_the_callers_account_and_region(aws_client) -> None:
    events = aws_client("events", account="123456789012", region="eu-west-1")
    buses = events.list_event_buses()["EventBuses"]
    assert [bus["Name"] for bus in buses] == ["default"]
    assert buses[0]["Arn"] == "arn:aws:events:eu-west-1:123456789012:event-bus/default"


def test_an_access_key_that_is_not_12_digits_uses_the_default_account(aws_client) -> None:
    buses = aws_client("events", region="us-west-2").list_event_buses()["EventBuses"]
    assert buses[0]["Arn"] == "arn:aws:events:us-west-2:000000000000:event-bus/default"


def test_list_event_buses_filters_by_name_prefix_and_pages(aws_client) -> None:
    events = aws_client("events")
    assert events.list_event_buses(NamePrefix="nothing-like-this")["EventBuses"] == []
    page = events.list_event_buses(Limit=1)
    assert [bus["Name"] for bus in page["EventBuses"]] == ["default"]
    assert "NextToken" not in page


# Tokens the emulator did not make: garbage, and well-formed but unsigned payloads (one with a key
# of the wrong type, which once compared a number with the bus names and crashed).
FORGED_TOKENS = [
    "not-a-token",
    base64.urlsafe_b64encode(b'["event-buses", 5]').decode(),
    base64.urlsafe_b64encode(b"0" * 16 + b'["topics", "arn:aws:sns:us-east-1:000000000000:t"]').decode(),
]


@pytest.mark.parametrize("token", FORGED_TOKENS)
def test_list_event_buses_rejects_a_token_it_did_not_make(aws_client, token) -> None:
    with pytest.raises(ClientError) as caught:
        aws_client("events").list_event_buses(NextToken=token)
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_list_topics_is_empty_on_a_new_account(aws_client) -> None:
    assert aws_client("sns").list_topics()["Topics"] == []


@pytest.mark.parametrize("token", FORGED_TOKENS)
def test_list_topics_rejects_a_token_it_did_not_make(aws_client, token) -> None:
    with pytest.raises(ClientError) as caught:
        aws_client("sns").list_topics(NextToken=token)
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("InvalidParameter", "Invalid parameter: NextToken")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_list_streams_is_empty_on_a_new_account(aws_client) -> None:
    result = aws_client("kinesis").list_streams()
    assert result["StreamNames"] == []
    assert result["HasMoreStreams"] is False


def test_every_response_carries_a_request_id(aws_client) -> None:
    for service, call in (("events", "list_event_buses"), ("sns", "list_topics"), ("kinesis", "list_streams")):
        metadata = getattr(aws_client(service), call)()["ResponseMetadata"]
        assert metadata["RequestId"]
        assert metadata["HTTPHeaders"]["x-amzn-requestid"] == metadata["RequestId"]


def test_an_operation_a_provider_lacks_answers_501_naming_it(aws_client, emulator_url, monkeypatch) -> None:
    provider = emulator_url.app.registry.get("events")
    monkeypatch.setitem(provider._handlers, "ListEventBuses", None)
    with pytest.raises(ClientError) as caught:
        aws_client("events").list_event_buses()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert caught.value.response["Error"]["Code"] == "NotImplemented"
    assert "ListEventBuses" in str(caught.value) and "events" in str(caught.value)


@pytest.mark.parametrize(("service", "operation", "call", "code"), [
    ("events", "ListEventBuses", "list_event_buses", "InternalFailure"),
    ("sns", "ListTopics", "list_topics", "InternalError"),
])
def test_a_failure_inside_the_emulator_is_the_services_internal_error(
    aws_client, emulator_url, monkeypatch, service, operation, call, code
) -> None:
    def broken(ctx, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setitem(emulator_url.app.registry.get(service)._handlers, operation, broken)
    with pytest.raises(ClientError) as caught:
        getattr(aws_client(service), call)()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert caught.value.response["Error"]["Code"] == code
    monkeypatch.undo()
    getattr(aws_client(service), call)()  # the server goes on serving


def test_each_request_is_logged_once_with_service_operation_status_and_milliseconds(aws_client, caplog) -> None:
    import logging
    import re

    with caplog.at_level(logging.INFO, logger="emulator"):
        aws_client("sns").list_topics()
    lines = [record.getMessage() for record in caplog.records if record.name == "emulator"]
    assert len([line for line in lines if line.startswith("sns ListTopics")]) == 1
    assert any(re.fullmatch(r"sns ListTopics 200 \d+\.\dms", line) for line in lines)


def test_a_dry_run_of_a_handler_without_dry_run_is_refused_as_not_implemented(
    aws_client, emulator_url, monkeypatch
) -> None:
    """A handler that does not declare ``dry_run`` would swallow the flag in its ``**_`` and act: 501."""
    from emulator import specs
    from tests.rawhttp import json_call

    if "DryRun" not in specs.load("kinesis").operation("PutRecord").input.members:
        pytest.skip("this botocore's Kinesis model has no DryRun member")
    provider = emulator_url.app.registry.get("kinesis")
    kinesis = aws_client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    unaware = provider.put_record.__func__  # the real method, called without the keyword it declares

    def put_record(ctx, **members):
        members.pop("dry_run", None)
        return unaware(provider, ctx, **members)

    monkeypatch.setitem(provider._handlers, "PutRecord", put_record)
    response = json_call(emulator_url, "Kinesis_20131202.PutRecord",
                         '{"StreamName": "s", "Data": "eA==", "PartitionKey": "k", "DryRun": true}')
    assert response.status == 501 and "PutRecord with DryRun" in response.json()["message"]
    iterator = kinesis.get_shard_iterator(
        StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert kinesis.get_records(ShardIterator=iterator)["Records"] == []
    kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k", DryRun=False)  # no DryRun: it acts
    assert len(kinesis.get_records(ShardIterator=iterator)["Records"]) == 1
