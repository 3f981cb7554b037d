"""Bad requests get AWS's error, over a real socket, and never a 500."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from tests.rawhttp import json_call, query_call, send, signed


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


@pytest.mark.parametrize(("target", "body", "message"), [
    ("AWSEvents.ListEventBuses", '{"Limit": "ten"}', "STRING_VALUE can not be converted to an Integer"),
    ("AWSEvents.ListEventBuses", '{"Limit": true}', "TRUE_VALUE can not be converted to an Integer"),
    ("AWSEvents.ListEventBuses", '{"NamePrefix": 5}', "NUMBER_VALUE can not be converted to a String"),
    ("AWSEvents.ListEventBuses", '{"NamePrefix": false}', "FALSE_VALUE can not be converted to a String"),
    ("AWSEvents.ListEventBuses", '{"NamePrefix": ["a"]}', "Start of list found where not expected"),
    ("AWSEvents.ListEventBuses", '{"NamePrefix": {"a": 1}}', "Start of structure or map found where not expected."),
    ("Kinesis_20131202.GetShardIterator",
     '{"StreamName": "s", "ShardId": "x", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": "2024-01-01T00:00:00Z"}',
     "STRING_VALUE can not be converted to milliseconds since epoch"),
    ("Kinesis_20131202.GetShardIterator",
     '{"StreamName": "s", "ShardId": "x", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": true}',
     "TRUE_VALUE can not be converted to milliseconds since epoch"),
    ("Kinesis_20131202.AddTagsToStream", '{"StreamName": "s", "Tags": "a"}', "Expected map or null"),
    ("Kinesis_20131202.PutRecords", '{"StreamName": "s", "Records": "a"}', "Expected list or null"),
    ("Kinesis_20131202.PutRecord", '{"StreamName": "s", "PartitionKey": "k", "Data": "Foo"}',
     "'Foo' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"),
    ("Kinesis_20131202.PutRecord", '{"StreamName": "s", "PartitionKey": "k", "Data": "Zm9=v"}',
     "'Zm9=v' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
    ("Kinesis_20131202.PutRecord", '{"StreamName": "s", "PartitionKey": "k", "Data": "Zm 9"}',
     "'Zm 9' can not be converted to a Blob: Invalid Base64 character: ' '"),
    ("Kinesis_20131202.PutRecord", '{"StreamName": "s", "PartitionKey": "k", "Data": "QR=="}',
     "'QR==' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"),
    ("Kinesis_20131202.PutRecord", '{"StreamName": "s", "PartitionKey": "k", "Data": 12}',
     "NUMBER_VALUE can not be converted to a Blob"),
])
def test_a_value_of_the_wrong_type_is_a_serialization_exception(url: str, target: str, body: str, message: str) -> None:
    response = json_call(url, target, body)
    assert response.status == 400
    assert response.json() == {"__type": "SerializationException", "Message": message}
    assert response.headers["x-amzn-errortype"] == "SerializationException"


@pytest.mark.parametrize(("body", "message"), [
    ('{"StreamName": "a", "ShardCount": 1e308}', "Value '0' at 'shardCount'"),
    ('{"StreamName": "a", "ShardCount": 2147483648}', "Value '-2147483648' at 'shardCount'"),
    ('{"StreamName": "a", "ShardCount": 4294967296}', "Value '0' at 'shardCount'"),
    ('{"StreamName": "a", "ShardCount": 0.9}', "Value '0' at 'shardCount'"),
    ('{"StreamName": "a", "ShardCount": -1.5}', "Value '-1' at 'shardCount'"),
])
def test_a_number_an_integer_cannot_hold_is_truncated_then_validated(url: str, body: str, message: str) -> None:
    response = json_call(url, "Kinesis_20131202.CreateStream", body)
    assert (response.status, response.json()["__type"]) == (400, "ValidationException")
    assert message + " failed to satisfy constraint: Member must have value greater than or equal to 1" in (
        response.json()["message"])
    assert json_call(url, "Kinesis_20131202.ListStreams", "{}").json()["StreamNames"] == []


def test_a_decimal_where_an_integer_belongs_is_truncated(url: str) -> None:
    response = json_call(url, "Kinesis_20131202.CreateStream", '{"StreamName": "a", "ShardCount": 1.9}')
    assert response.status == 200
    summary = json_call(url, "Kinesis_20131202.DescribeStreamSummary", '{"StreamName": "a"}').json()
    assert summary["StreamDescriptionSummary"]["OpenShardCount"] == 1


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
    response = send(url, "GET", "/?Action=ListTopics&Version=2010-03-31", headers=signed("sns"))
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
    ('{"StreamName": "a", "ShardCount": 1, "Tags": {"team": null}}', "ValidationException"),
    ('{"StreamName": "a", "ShardCount": 1, "Tags": ["team"]}', "SerializationException"),
    ('{"StreamName": null, "ShardCount": 1}', "ValidationException"),
])
def test_nulls_and_wrong_collections_are_client_errors_that_change_nothing(url: str, body: str, code: str) -> None:
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
        **signed("kinesis"), "X-Amz-Target": "Kinesis_20131202.ListStreams",
        "Content-Type": "Application/X-Amz-Cbor-1.1"})
    assert response.status == 200
    assert cbor2.loads(response.body)["StreamNames"] == []


def test_a_partition_key_of_129_emoji_is_too_long_as_on_aws(aws_client) -> None:
    kinesis = aws_client("kinesis", validate=False)
    with pytest.raises(ClientError) as caught:  # 258 UTF-16 code units, over the model's 256
        kinesis.put_record(StreamName="s", Data=b"x", PartitionKey="\U0001f642" * 129)
    assert "at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256" in (
        caught.value.response["Error"]["Message"]
    )


# -- requests that are not an API call, answered as AWS answers them --------------------------------

ACCESS_DENIED = (b"<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized"
                 b"</Message>\n</AccessDeniedException>\n")


@pytest.mark.parametrize(("method", "headers"), [
    ("GET", {}),
    ("GET", {"X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "application/x-amz-json-1.1"}),
    ("PUT", {"X-Amz-Target": "AWSEvents.ListEventBuses", "Content-Type": "application/x-amz-json-1.1"}),
    ("DELETE", {}),
    ("OPTIONS", {}),  # no Origin: not a preflight
    ("POST", {}),  # neither a content type nor a target
])
def test_a_request_that_names_no_operation_is_access_denied(url: str, method: str, headers: dict[str, str]) -> None:
    response = send(url, method, body=b"{}" if method == "POST" else b"", headers={**signed("kinesis"), **headers})
    assert (response.status, response.body) == (403, ACCESS_DENIED)
    assert response.headers["x-amzn-requestid"] and response.headers["x-amz-id-2"]


def test_a_cors_preflight_echoes_what_was_asked(url: str) -> None:
    response = send(url, "OPTIONS", headers={
        "Origin": "http://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target,authorization"})
    assert (response.status, response.body) == (200, b"")
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "POST"
    assert response.headers["access-control-allow-headers"] == "content-type,x-amz-target,authorization"
    assert response.headers["access-control-max-age"] == "172800"


@pytest.mark.parametrize(("target", "body", "status"), [
    ("Kinesis_20131202.ListStreams", "{}", 200),
    ("AWSEvents.ListEventBuses", "{not json", 400),
    ("Kinesis_20131202.Nope", "{}", 400),
])
def test_every_answer_to_a_request_with_an_origin_carries_cors_headers(
    url: str, target: str, body: str, status: int
) -> None:
    response = json_call(url, target, body, Origin="http://app.example")
    assert response.status == status
    assert response.headers["access-control-allow-origin"] == "*"
    assert "x-amzn-RequestId" in response.headers["access-control-expose-headers"]
    assert "access-control-allow-origin" not in json_call(url, target, body).headers


def test_sns_answers_with_an_origin_carry_cors_headers(url: str) -> None:
    response = query_call(url, "Action=ListTopics&Version=2010-03-31", Origin="http://app.example")
    assert response.status == 200 and response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(("content_type", "target", "code"), [
    ("application/x-amz-json-1.1", "Kinesis_20131202.ListStreams", "SerializationException"),
    ("application/x-amz-json-1.1", "Kinesis_20131202.Nope", "UnknownOperationException"),
    ("application/x-amz-json-1.1", "AWSEvents.ListEventBuses", "SerializationException"),
])
def test_an_empty_json_body_is_refused_not_run(url: str, content_type: str, target: str, code: str) -> None:
    response = json_call(url, target, b"", content_type=content_type)
    assert (response.status, response.json()) == (400, {"__type": code})
    assert response.headers["content-type"] == "application/x-amz-json-1.1"


@pytest.mark.parametrize(("content_type", "target", "code"), [
    ("application/x-amz-cbor-1.1", "Kinesis_20131202.ListStreams", "SerializationException"),
    ("application/x-amz-json-1.1; charset=utf-8", "Kinesis_20131202.ListStreams", "SerializationException"),
    ("application/json", "Kinesis_20131202.Nope", "UnknownOperationException"),
])
def test_kinesis_answers_an_empty_body_in_cbor_unless_the_content_type_is_exactly_json(
    url: str, content_type: str, target: str, code: str
) -> None:
    import cbor2

    response = json_call(url, target, b"", content_type=content_type)
    assert response.status == 400
    assert response.headers["content-type"] == "application/x-amz-cbor-1.1"
    assert cbor2.loads(response.body) == {"__type": code}


@pytest.mark.parametrize("body", ["{not json", "{", "   "])
def test_a_body_that_is_not_json_is_a_serialization_exception_without_a_message(url: str, body: str) -> None:
    response = json_call(url, "Kinesis_20131202.ListStreams", body)
    assert (response.status, response.json()) == (400, {"__type": "SerializationException"})


def test_plain_json_that_cannot_be_read_gets_corals_envelope(url: str) -> None:
    response = json_call(url, "AWSEvents.ListEventBuses", "{not json", content_type="application/json")
    assert response.status == 400
    assert response.json() == {"Output": {"__type": "com.amazon.coral.service#SerializationException"},
                               "Version": "1.0"}


def test_an_operation_with_no_output_answers_an_empty_body(aws_client, url: str) -> None:
    aws_client("kinesis").create_stream(StreamName="s", ShardCount=1)
    response = json_call(url, "Kinesis_20131202.AddTagsToStream", '{"StreamName": "s", "Tags": {"a": "b"}}')
    assert (response.status, response.body, response.headers["content-length"]) == (200, b"", "0")
    assert aws_client("kinesis").list_tags_for_stream(StreamName="s")["Tags"] == [{"Key": "a", "Value": "b"}]


@pytest.mark.parametrize("call", [
    lambda url, **h: json_call(url, "Kinesis_20131202.ListStreams", "{}", **h),
    lambda url, **h: json_call(url, "AWSEvents.ListEventBuses", "{}", **h),
])
def test_json_answers_carry_an_amz_id_2(url: str, call) -> None:
    assert len(call(url).headers["x-amz-id-2"]) == 96


@pytest.mark.parametrize(("target", "body", "code"), [
    ("Kinesis_20131202.ListStreams", "{}", "MissingAuthenticationTokenException"),
    ("AWSEvents.ListEventBuses", "{}", "MissingAuthenticationTokenException"),
    ("Kinesis_20131202.CreateStream", '{"ShardCount": 0}', "MissingAuthenticationTokenException"),
    ("Kinesis_20131202.ListStreams", "{not json", "SerializationException"),  # read before authenticated
])
def test_an_unsigned_json_request_is_refused(url: str, target: str, body: str, code: str) -> None:
    response = send(url, body=body.encode(), headers={"X-Amz-Target": target,
                                                      "Content-Type": "application/x-amz-json-1.1"})
    assert (response.status, response.json()["__type"]) == (400, code)
    if code.startswith("Missing"):
        assert response.json()["message"] == "Missing Authentication Token"


@pytest.mark.parametrize(("authorization", "date", "missing"), [
    ("AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host", True,
     "Authorization header requires 'Signature' parameter."),
    ("AWS4-HMAC-SHA256 Signature=00", True,
     "Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' "
     "parameter."),
    ("AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0", False,
     "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."),
])
def test_an_incomplete_authorization_header_is_an_incomplete_signature(
    url: str, authorization: str, date: bool, missing: str
) -> None:
    headers = {"Authorization": authorization, **({"X-Amz-Date": "20260101T000000Z"} if date else {})}
    response = send(url, body=b"{}", headers={
        **headers, "X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "application/x-amz-json-1.1"})
    assert response.status == 400
    assert response.json() == {"__type": "IncompleteSignatureException",
                               "message": f"{missing} Authorization={authorization}"}


def test_an_unsigned_sns_request_is_refused_but_its_confirmation_links_are_not(url: str) -> None:
    refused = send(url, "GET", "/?Action=ListTopics&Version=2010-03-31")
    assert refused.status == 403 and b"<Code>MissingAuthenticationToken</Code>" in refused.body
    link = send(url, "GET", "/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:000000000000:t&Token=x")
    assert b"MissingAuthenticationToken" not in link.body


def test_the_admin_endpoints_stay_unsigned(url: str) -> None:
    assert send(url, "GET", "/_emulator/health").status == 200
