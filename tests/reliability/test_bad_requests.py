"""Bad requests get AWS's error, over a real socket, and never a 500."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from tests.rawhttp import json_call, query_call, send


@pytest.fixture
def url(emulator_url: str, emulator_reset: None) -> str:
    return emulator_url


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "\xff\xfe"])
def test_invalid_json_is_a_serialization_exception(url: str, body: str) -> None:
    response = json_call(url, "AWSEvents.ListEventBuses", body.encode("latin-1"))
    assert response.status == 400
    assert response.json()["__type"] == "SerializationException"
    assert response.headers["x-amzn-errortype"] == "SerializationException"
    assert response.headers["x-amzn-requestid"]


@pytest.mark.parametrize(("body", "message"), [
    ('{"Limit": "ten"}', "STRING_VALUE can not be converted to an Integer"),
    ('{"Limit": true}', "BOOLEAN_VALUE can not be converted to an Integer"),
    ('{"Limit": 1.5}', "NUMBER_VALUE can not be converted to an Integer"),
    ('{"NamePrefix": 5}', "NUMBER_VALUE can not be converted to a String"),
    ('{"NamePrefix": ["a"]}', "Start of list found where not expected"),
    ('{"NamePrefix": {"a": 1}}', "Start of structure or map found where not expected."),
])
def test_a_value_of_the_wrong_type_is_a_serialization_exception(url: str, body: str, message: str) -> None:
    response = json_call(url, "AWSEvents.ListEventBuses", body)
    assert response.status == 400
    assert response.json() == {"__type": "SerializationException", "message": message}


@pytest.mark.parametrize(
    "target", ["Kinesis_20131202.NoSuchThing", "AWSEvents.putEvents", "DynamoDB_20120810.GetItem", ""]
)
def test_an_unknown_target_is_an_unknown_operation(url: str, target: str) -> None:
    response = json_call(url, target, "{}")
    assert response.status == 400
    assert response.json()["__type"] == "UnknownOperationException"


def test_a_json_service_answers_a_wrong_content_type_as_aws_does(url: str) -> None:
    response = json_call(url, "Kinesis_20131202.ListStreams", "{}", content_type="application/octet-stream")
    assert response.status == 404
    assert response.body == b"<UnknownOperationException/>\n"


def test_model_validation_uses_awss_wording_for_json_services(aws_client) -> None:
    events = aws_client("events", validate=False)
    with pytest.raises(ClientError) as caught:
        events.list_event_buses(Limit=0, NamePrefix="bad name!")
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "2 validation errors detected: Value 'bad name!' at 'namePrefix' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+; "
        "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    )


def test_model_validation_for_sns_is_a_validation_error(aws_client) -> None:
    sns = aws_client("sns", validate=False)
    with pytest.raises(ClientError) as caught:
        sns.publish(TopicArn="arn:aws:sns:us-east-1:000000000000:t")
    error = caught.value.response["Error"]
    assert (error["Code"], error["Type"]) == ("ValidationError", "Sender")
    assert error["Message"] == (
        "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null"
    )


def test_sns_without_an_action_is_missing_action(url: str) -> None:
    response = query_call(url, "Version=2010-03-31")
    assert response.status == 400
    assert b"<Code>MissingAction</Code>" in response.body and b"<Type>Sender</Type>" in response.body


def test_sns_with_an_unknown_action_is_invalid_action(url: str) -> None:
    response = query_call(url, "Action=MakeCoffee&Version=2010-03-31")
    assert response.status == 400
    assert b"<Code>InvalidAction</Code>" in response.body
    assert b"Could not find operation MakeCoffee for version 2010-03-31" in response.body


def test_sns_answers_get_requests_with_the_action_in_the_query_string(url: str) -> None:
    response = send(url, "GET", "/?Action=ListTopics&Version=2010-03-31")
    assert response.status == 200
    assert b"<ListTopicsResponse" in response.body and b"<Topics" in response.body


def test_sns_rejects_parameters_that_are_not_utf8(url: str) -> None:
    response = query_call(url, "Action=ListTopics&NextToken=%ff%fe")
    assert response.status == 400
    assert b"<Code>MalformedQueryString</Code>" in response.body


@pytest.mark.parametrize(("headers", "error"), [
    ({"X-Amz-Target": "Kinesis_20131202.PutRecords", "Content-Type": "application/x-amz-json-1.1"},
     b'"__type":"RequestEntityTooLarge"'),
    ({"X-Amz-Target": "AWSEvents.PutEvents", "Content-Type": "application/x-amz-json-1.1"},
     b'"__type":"RequestEntityTooLarge"'),
    ({"Content-Type": "application/x-www-form-urlencoded"}, b"<Code>RequestEntityTooLarge</Code>"),
])
def test_a_body_over_the_limit_is_refused_from_its_content_length_before_it_is_read(
    url: str, headers: dict[str, str], error: bytes
) -> None:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        conn.sendall(head.encode())  # and not one byte of the gigabyte announced
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer or error not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
        assert time.monotonic() - started < 10  # answered without waiting for the body
    assert answer.startswith(b"HTTP/1.1 413")
    assert error in answer


def test_a_rejected_request_changes_no_state(aws_client) -> None:
    kinesis = aws_client("kinesis", validate=False)
    with pytest.raises(ClientError):
        kinesis.create_stream(StreamName="bad name!", ShardCount=1)
    assert aws_client("kinesis").list_streams()["StreamNames"] == []


def test_sns_rejects_a_query_string_that_is_not_utf8(url: str) -> None:
    response = send(url, "GET", "/?Action=ListTopics&NextToken=%ff")
    assert response.status == 400
    assert b"<Code>MalformedQueryString</Code>" in response.body


@pytest.mark.parametrize(("body", "code"), [
    ('{"StreamName": "a", "ShardCount": 1e308}', "SerializationException"),
    ('{"StreamName": "a", "ShardCount": 2147483648}', "SerializationException"),
    ('{"StreamName": "a", "ShardCount": 1, "Tags": {"team": null}}', "ValidationException"),
    ('{"StreamName": "a", "ShardCount": 1, "Tags": ["team"]}', "SerializationException"),
    ('{"StreamName": null, "ShardCount": 1}', "ValidationException"),
])
def test_numbers_out_of_range_and_nulls_are_client_errors_that_change_nothing(url: str, body: str, code: str) -> None:
    response = json_call(url, "Kinesis_20131202.CreateStream", body)
    assert (response.status, response.json()["__type"]) == (400, code)
    assert json_call(url, "Kinesis_20131202.ListStreams", "{}").json()["StreamNames"] == []


def test_cbor_map_keys_that_are_not_strings_are_a_serialization_exception(url: str) -> None:
    import cbor2

    body = cbor2.dumps({"StreamName": "a", "ShardCount": 1, "Tags": {1: "x"}})
    response = send(url, body=body, headers={
        "X-Amz-Target": "Kinesis_20131202.CreateStream", "Content-Type": "application/x-amz-cbor-1.1"})
    assert response.status == 400
    assert cbor2.loads(response.body)["__type"] == "SerializationException"


def test_a_validation_message_quotes_large_values_briefly_and_as_java_prints_them(aws_client) -> None:
    kinesis = aws_client("kinesis", validate=False)
    records = [{"Data": b"\x00" * 2000, "PartitionKey": "k"}] * 501
    with pytest.raises(ClientError) as caught:
        kinesis.put_records(StreamName="s", Records=records)
    message = caught.value.response["Error"]["Message"]
    assert message.startswith("1 validation error detected: Value '[{Data=java.nio.HeapByteBuffer[pos=0 lim=2000")
    assert "at 'records' failed to satisfy constraint: Member must have length less than or equal to 500" in message
    assert len(message) < 1500


def test_sns_list_indexes_are_ascii_digits(url: str) -> None:
    arn = "arn:aws:sns:us-east-1:000000000000:t"
    response = query_call(url, f"Action=TagResource&ResourceArn={arn}&Tags.member.\u00b2.Key=a")
    assert response.status != 500  # "²" is not an index: the parameter is ignored, not a crash


@pytest.mark.parametrize("value", ["1\u0662\u0663", "\u0661"])
def test_model_patterns_are_ascii_as_in_java(aws_client, value: str) -> None:
    kinesis = aws_client("kinesis", validate=False)
    with pytest.raises(ClientError) as caught:
        kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="k", ExplicitHashKey=value)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "explicitHashKey" in caught.value.response["Error"]["Message"]


def test_cbor_content_type_is_case_insensitive(url: str) -> None:
    import cbor2

    response = send(url, body=cbor2.dumps({}), headers={
        "X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "Application/X-Amz-Cbor-1.1"})
    assert response.status == 200
    assert cbor2.loads(response.body)["StreamNames"] == []


def test_a_partition_key_of_129_emoji_is_too_long_as_on_aws(aws_client) -> None:
    kinesis = aws_client("kinesis", validate=False)
    with pytest.raises(ClientError) as caught:  # 258 UTF-16 code units, over the model's 256
        kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="\U0001f642" * 129)
    assert "at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256" in (
        caught.value.response["Error"]["Message"]
    )
