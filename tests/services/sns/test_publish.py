"""Publish over the real socket: validation with AWS's codes and texts, the hand-over to fan-out, FIFO
sequence numbers, deduplication on the emulator's clock, the archive, and cross-account access."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator import clock
from emulator.services.sns import fanout
from emulator.services.sns.models import Message, Topic
from emulator.testing import admin
from tests.services.sns.conftest import ACCOUNT, REGION, topic_arn

OTHER = "111122223333"
SEQUENCE = re.compile(r"^[0-9]{20}$")


def make_topic(provider: Any, name: str, account: str = ACCOUNT, **attributes: str) -> str:
    """A topic put straight into the live store (the test is about Publish, not CreateTopic)."""
    arn = topic_arn(name, account)
    store = provider._stores.get(account, REGION)
    with store.lock:
        store.topics[arn] = Topic(name=name, arn=arn, account=account, region=REGION,
                                  fifo=name.endswith(".fifo"), attributes=dict(attributes), created_at=clock.now())
    return arn


@pytest.fixture
def handed(monkeypatch: pytest.MonkeyPatch) -> list[Message]:
    """The messages Publish hands to fan-out, in order."""
    seen: list[Message] = []
    monkeypatch.setattr(fanout, "publish", lambda provider, ctx, store, topic, message: seen.append(message))
    return seen


@pytest.fixture
def standard(provider: Any) -> str:
    return make_topic(provider, "plain")


@pytest.fixture
def fifo(provider: Any) -> str:
    return make_topic(provider, "ordered.fifo")


def advance(url: str, seconds: float) -> None:
    admin(url, "/_emulator/clock", "POST", {"advance": seconds})


def error_of(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_publish_hands_the_message_to_fanout(sns: Any, standard: str, handed: list[Message]) -> None:
    before = clock.now()
    answer = sns.publish(
        TopicArn=standard, Message="hello", Subject="Greeting",
        MessageAttributes={"color": {"DataType": "String", "StringValue": "red"},
                           "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
    )
    assert uuid.UUID(answer["MessageId"])
    assert "SequenceNumber" not in answer
    [message] = handed
    assert message.message_id == answer["MessageId"]
    assert (message.topic_arn, message.message, message.subject) == (standard, "hello", "Greeting")
    assert message.structure is None
    assert message.attributes == {"color": {"DataType": "String", "StringValue": "red"},
                                  "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
    assert before <= message.timestamp <= clock.now()
    assert message.base_url.startswith("http")
    assert (message.group_id, message.dedup_id, message.sequence_number) == (None, None, None)


def test_target_arn_may_name_a_topic(sns: Any, standard: str, handed: list[Message]) -> None:
    answer = sns.publish(TargetArn=standard, Message="via target")
    assert [m.message_id for m in handed] == [answer["MessageId"]]


def test_json_structure_gives_default_and_per_protocol_texts(sns: Any, standard: str, handed: list[Message]) -> None:
    body = json.dumps({"default": "everyone", "sqs": "queues", "email": 3, "http": None})
    sns.publish(TopicArn=standard, Message=body, MessageStructure="json")
    [message] = handed
    assert message.message == "everyone"
    assert message.structure == {"default": "everyone", "sqs": "queues"}  # non-strings are ignored


def test_other_message_structures_leave_a_plain_message(sns: Any, standard: str, handed: list[Message]) -> None:
    sns.publish(TopicArn=standard, Message='{"no": "default"}', MessageStructure="string")
    assert (handed[0].message, handed[0].structure) == ('{"no": "default"}', None)


@pytest.mark.parametrize("subject", ["x" * 100, "Ünïcödé ✓", "😀" * 50])
def test_subjects_up_to_100_characters_are_accepted(sns: Any, standard: str, handed: list[Message],
                                                    subject: str) -> None:
    sns.publish(TopicArn=standard, Message="m", Subject=subject)
    assert handed[0].subject == subject


@pytest.mark.parametrize("attributes", [
    {"n": {"DataType": "Number", "StringValue": "-12.5e3"}},
    {"n": {"DataType": "Number.float", "StringValue": "0.00000001"}},
    {"n": {"DataType": "Number", "StringValue": "1" + "0" * 40}},  # trailing zeros are not precision
    {"a": {"DataType": "String.Array", "StringValue": '["x", 1, true, null]'}},
    {"s": {"DataType": "String.custom", "StringValue": "v"}},
    {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
    {"under_score-dash.dot": {"DataType": "String", "StringValue": "v"}},
    {"n" * 256: {"DataType": "String", "StringValue": "v"}},
])
def test_valid_message_attributes_are_accepted(raw_sns: Any, standard: str, handed: list[Message],
                                               attributes: dict[str, Any]) -> None:
    raw_sns.publish(TopicArn=standard, Message="m", MessageAttributes=attributes)
    assert handed[0].attributes == attributes


def _attr(data_type: str, value: Any = "v", field: str = "StringValue") -> dict[str, Any]:
    return {"DataType": data_type, field: value}


BAD_PUBLISH: list[tuple[str, dict[str, Any], str, int, str]] = [
    ("no target", {"Message": "m"}, "InvalidParameter", 400,
     "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter"),
    ("two targets", {"Message": "m", "TopicArn": "{standard}", "PhoneNumber": "+15550100"}, "InvalidParameter", 400,
     "Invalid parameter: TopicArn or TargetArn Reason: "
     "Only one of TopicArn, TargetArn or PhoneNumber may be specified"),
    ("empty message", {"TopicArn": "{standard}", "Message": ""}, "InvalidParameter", 400,
     "Invalid parameter: Empty message"),
    ("empty subject", {"TopicArn": "{standard}", "Message": "m", "Subject": ""}, "InvalidParameter", 400,
     "Invalid parameter: Subject"),
    ("long subject", {"TopicArn": "{standard}", "Message": "m", "Subject": "s" * 101}, "InvalidParameter", 400,
     "Invalid parameter: Subject"),
    ("subject line break", {"TopicArn": "{standard}", "Message": "m", "Subject": "a\nb"}, "InvalidParameter", 400,
     "Invalid parameter: Subject"),
    ("subject control", {"TopicArn": "{standard}", "Message": "m", "Subject": "a\x07b"}, "InvalidParameter", 400,
     "Invalid parameter: Subject"),
    ("json unparsable", {"TopicArn": "{standard}", "Message": "{nope", "MessageStructure": "json"},
     "InvalidParameter", 400, "Invalid parameter: Message Structure - JSON message body failed to parse"),
    ("json array", {"TopicArn": "{standard}", "Message": '["default"]', "MessageStructure": "json"},
     "InvalidParameter", 400, "Invalid parameter: Message Structure - JSON message body failed to parse"),
    ("json no default", {"TopicArn": "{standard}", "Message": '{"sqs": "q"}', "MessageStructure": "json"},
     "InvalidParameter", 400, "Invalid parameter: Message Structure - No default entry in JSON message body"),
    ("json default not string", {"TopicArn": "{standard}", "Message": '{"default": 1}', "MessageStructure": "json"},
     "InvalidParameter", 400, "Invalid parameter: Message Structure - No default entry in JSON message body"),
    ("attribute name character", {"TopicArn": "{standard}", "Message": "m",
                                  "MessageAttributes": {"a[b": _attr("String")}},
     "ParameterValueInvalid", 400, "Invalid non-alphanumeric character '#x5B' was found in the message attribute name. "
     "Can only include alphanumeric characters, hyphens, underscores, or dots."),
    ("attribute name reserved", {"TopicArn": "{standard}", "Message": "m",
                                 "MessageAttributes": {"amazon.x": _attr("String")}},
     "ParameterValueInvalid", 400, "Message attribute names starting with 'AWS.' or 'Amazon.' are reserved "
     "for use by Amazon."),
    ("attribute name aws", {"TopicArn": "{standard}", "Message": "m",
                            "MessageAttributes": {"AWS.Mine": _attr("String")}},
     "ParameterValueInvalid", 400, "Message attribute names starting with 'AWS.' or 'Amazon.' are reserved "
     "for use by Amazon."),
    ("attribute name too long", {"TopicArn": "{standard}", "Message": "m",
                                 "MessageAttributes": {"n" * 257: _attr("String")}},
     "ParameterValueInvalid", 400, "Length of message attribute name must be less than 256 bytes."),
    ("attribute type", {"TopicArn": "{standard}", "Message": "m", "MessageAttributes": {"x": _attr("Text")}},
     "ParameterValueInvalid", 400, "The message attribute 'x' has an invalid message attribute type, the set of "
     "supported type prefixes is Binary, Number, and String."),
    ("attribute type case", {"TopicArn": "{standard}", "Message": "m", "MessageAttributes": {"x": _attr("string")}},
     "ParameterValueInvalid", 400, "The message attribute 'x' has an invalid message attribute type, the set of "
     "supported type prefixes is Binary, Number, and String."),
    ("attribute empty", {"TopicArn": "{standard}", "Message": "m", "MessageAttributes": {"x": _attr("String", "")}},
     "ParameterValueInvalid", 400, "The message attribute 'x' must contain non-empty message attribute value for "
     "message attribute type 'String'."),
    ("attribute no value", {"TopicArn": "{standard}", "Message": "m",
                            "MessageAttributes": {"x": {"DataType": "Number"}}},
     "ParameterValueInvalid", 400, "The message attribute 'x' must contain non-empty message attribute value for "
     "message attribute type 'Number'."),
    ("binary as string", {"TopicArn": "{standard}", "Message": "m", "MessageAttributes": {"x": _attr("Binary", "v")}},
     "ParameterValueInvalid", 400, "The message attribute 'x' with type 'Binary' must use field 'Binary'."),
    ("string as binary", {"TopicArn": "{standard}", "Message": "m",
                          "MessageAttributes": {"x": _attr("String", b"v", "BinaryValue")}},
     "ParameterValueInvalid", 400, "The message attribute 'x' with type 'String' must use field 'String'."),
    ("not a number", {"TopicArn": "{standard}", "Message": "m", "MessageAttributes": {"x": _attr("Number", "12a")}},
     "ParameterValueInvalid", 400, "Could not cast message attribute 'x' value to number."),
    ("number nan", {"TopicArn": "{standard}", "Message": "m", "MessageAttributes": {"x": _attr("Number", "NaN")}},
     "ParameterValueInvalid", 400, "Could not cast message attribute 'x' value to number."),
    ("number too big", {"TopicArn": "{standard}", "Message": "m", "MessageAttributes": {"x": _attr("Number", "1e127")}},
     "ParameterValueInvalid", 400, "Message attribute 'x' number value [1e127] must be between 10^-128 and 10^126."),
    ("number too small", {"TopicArn": "{standard}", "Message": "m",
                          "MessageAttributes": {"x": _attr("Number", "1e-129")}},
     "ParameterValueInvalid", 400, "Message attribute 'x' number value [1e-129] must be between 10^-128 and 10^126."),
    ("number precision", {"TopicArn": "{standard}", "Message": "m",
                          "MessageAttributes": {"x": _attr("Number", "1." + "1" * 38)}},
     "ParameterValueInvalid", 400, f"Message attribute 'x' number value [1.{'1' * 38}] "
     "must have at most 38 digits of precision."),
    ("string array not json", {"TopicArn": "{standard}", "Message": "m",
                               "MessageAttributes": {"x": _attr("String.Array", "[a")}},
     "InvalidParameter", 400, "Invalid parameter: Message attribute 'x' of type String.Array must be a JSON array of "
     "strings, numbers, booleans or nulls"),
    ("string array nested", {"TopicArn": "{standard}", "Message": "m",
                             "MessageAttributes": {"x": _attr("String.Array", '[["a"]]')}},
     "InvalidParameter", 400, "Invalid parameter: Message attribute 'x' of type String.Array must be a JSON array of "
     "strings, numbers, booleans or nulls"),
    ("message too long", {"TopicArn": "{standard}", "Message": "m" * 262_145}, "InvalidParameter", 400,
     "Invalid parameter: Message too long"),
    ("multibyte too long", {"TopicArn": "{standard}", "Message": "é" * 131_073}, "InvalidParameter", 400,
     "Invalid parameter: Message too long"),
    ("attributes make it too long", {"TopicArn": "{standard}", "Message": "m" * 262_136,
                                     "MessageAttributes": {"k": _attr("String", "vv")}},
     "InvalidParameter", 400, "Invalid parameter: Message too long"),
    ("dedup id on standard", {"TopicArn": "{standard}", "Message": "m", "MessageDeduplicationId": "d"},
     "InvalidParameter", 400, "Invalid parameter: MessageDeduplicationId Reason: The request includes "
     "MessageDeduplicationId parameter that is not valid for this topic type"),
    ("group id characters", {"TopicArn": "{standard}", "Message": "m", "MessageGroupId": "a b"},
     "InvalidParameter", 400, "Invalid parameter: MessageGroupId Reason: MessageGroupId can only include "
     "alphanumeric and punctuation characters, 1 to 128 in length"),
    ("fifo without group", {"TopicArn": "{fifo}", "Message": "m", "MessageDeduplicationId": "d"},
     "InvalidParameter", 400, "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"),
    ("fifo without dedup", {"TopicArn": "{fifo}", "Message": "m", "MessageGroupId": "g"}, "InvalidParameter", 400,
     "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
     "provided explicitly"),
    ("fifo dedup too long", {"TopicArn": "{fifo}", "Message": "m", "MessageGroupId": "g",
                             "MessageDeduplicationId": "d" * 129},
     "InvalidParameter", 400, "Invalid parameter: MessageDeduplicationId Reason: MessageDeduplicationId can only "
     "include alphanumeric and punctuation characters, 1 to 128 in length"),
    ("missing topic", {"TopicArn": topic_arn("absent"), "Message": "m"}, "NotFound", 404, "Topic does not exist"),
    ("not a topic arn", {"TopicArn": "arn:aws:sqs:us-east-1:000000000000:q", "Message": "m"}, "InvalidParameter", 400,
     "Invalid parameter: TopicArn"),
    ("other region", {"TopicArn": "arn:aws:sns:eu-west-1:000000000000:plain", "Message": "m"}, "InvalidParameter", 400,
     "Invalid parameter: TopicArn"),
]


@pytest.mark.parametrize(("kwargs", "code", "status", "text"), [case[1:] for case in BAD_PUBLISH],
                         ids=[case[0] for case in BAD_PUBLISH])
def test_publish_refuses_bad_input(raw_sns: Any, standard: str, fifo: str, handed: list[Message],
                                   kwargs: dict[str, Any], code: str, status: int, text: str) -> None:
    arns = {"{standard}": standard, "{fifo}": fifo}
    request = {key: arns.get(value, value) if isinstance(value, str) else value for key, value in kwargs.items()}
    assert error_of(raw_sns.publish, **request) == (code, status, text)
    assert handed == []


def test_size_counts_body_and_attributes_not_subject(sns: Any, standard: str, handed: list[Message]) -> None:
    attribute = {"k": {"DataType": "String", "StringValue": "vv"}}  # 1 + 6 + 2 bytes
    sns.publish(TopicArn=standard, Message="m" * 262_144, Subject="s" * 100)
    sns.publish(TopicArn=standard, Message="m" * 262_135, MessageAttributes=attribute)
    assert len(handed) == 2


def test_topic_maximum_message_size_raises_the_limit(raw_sns: Any, provider: Any, handed: list[Message]) -> None:
    arn = make_topic(provider, "large", MaximumMessageSize="1048576")
    raw_sns.publish(TopicArn=arn, Message="m" * 1_048_576)
    assert error_of(raw_sns.publish, TopicArn=arn, Message="m" * 1_048_577)[2] == "Invalid parameter: Message too long"
    assert len(handed) == 1


def test_standard_topics_accept_and_pass_on_a_message_group_id(sns: Any, standard: str,
                                                               handed: list[Message]) -> None:
    answer = sns.publish(TopicArn=standard, Message="m", MessageGroupId="tenant-1")
    assert "SequenceNumber" not in answer
    assert handed[0].group_id == "tenant-1"


def test_fifo_sequence_numbers_increase(sns: Any, fifo: str, handed: list[Message]) -> None:
    numbers = [sns.publish(TopicArn=fifo, Message=f"m{i}", MessageGroupId="g",
                           MessageDeduplicationId=f"d{i}")["SequenceNumber"] for i in range(5)]
    assert all(SEQUENCE.match(number) for number in numbers)
    assert [int(n) for n in numbers] == sorted({int(n) for n in numbers})
    assert [m.sequence_number for m in handed] == numbers
    assert [(m.group_id, m.dedup_id) for m in handed] == [("g", f"d{i}") for i in range(5)]


def test_a_rejected_fifo_publish_consumes_no_sequence_number(raw_sns: Any, fifo: str, handed: list[Message]) -> None:
    first = raw_sns.publish(TopicArn=fifo, Message="a", MessageGroupId="g", MessageDeduplicationId="1")
    with pytest.raises(ClientError):
        raw_sns.publish(TopicArn=fifo, Message="b", MessageDeduplicationId="2")
    with pytest.raises(ClientError):
        raw_sns.publish(TopicArn=fifo, Message="c" * 262_145, MessageGroupId="g", MessageDeduplicationId="3")
    second = raw_sns.publish(TopicArn=fifo, Message="d", MessageGroupId="g", MessageDeduplicationId="3")
    assert int(second["SequenceNumber"]) == int(first["SequenceNumber"]) + 1
    assert [m.message for m in handed] == ["a", "d"]


def test_duplicates_within_five_minutes_are_accepted_but_not_delivered(
    sns: Any, fifo: str, handed: list[Message], emulator_url: str
) -> None:
    first = sns.publish(TopicArn=fifo, Message="once", MessageGroupId="g", MessageDeduplicationId="same")
    advance(emulator_url, 299)
    again = sns.publish(TopicArn=fifo, Message="other body", MessageGroupId="g2", MessageDeduplicationId="same")
    assert (again["MessageId"], again["SequenceNumber"]) == (first["MessageId"], first["SequenceNumber"])
    assert len(handed) == 1
    advance(emulator_url, 2)
    later = sns.publish(TopicArn=fifo, Message="once", MessageGroupId="g", MessageDeduplicationId="same")
    assert later["MessageId"] != first["MessageId"]
    assert int(later["SequenceNumber"]) > int(first["SequenceNumber"])
    assert len(handed) == 2


def test_content_based_deduplication_hashes_the_body(sns: Any, provider: Any, handed: list[Message]) -> None:
    import hashlib

    arn = make_topic(provider, "content.fifo", ContentBasedDeduplication="true")
    first = sns.publish(TopicArn=arn, Message="body", MessageGroupId="g")
    same = sns.publish(TopicArn=arn, Message="body", MessageGroupId="g",
                       MessageAttributes={"a": {"DataType": "String", "StringValue": "different"}})
    other = sns.publish(TopicArn=arn, Message="body 2", MessageGroupId="g")
    explicit = sns.publish(TopicArn=arn, Message="body 3", MessageGroupId="g",
                           MessageDeduplicationId=hashlib.sha256(b"body").hexdigest())
    assert same["MessageId"] == first["MessageId"] == explicit["MessageId"]
    assert other["MessageId"] != first["MessageId"]
    assert [m.dedup_id for m in handed] == [hashlib.sha256(b"body").hexdigest(), hashlib.sha256(b"body 2").hexdigest()]


@pytest.mark.parametrize(("scope", "delivered"), [("Topic", 1), ("MessageGroup", 2)])
def test_fifo_throughput_scope_sets_the_deduplication_scope(sns: Any, provider: Any, handed: list[Message],
                                                           scope: str, delivered: int) -> None:
    arn = make_topic(provider, f"scoped-{scope}.fifo", FifoThroughputScope=scope)
    for group in ("g1", "g2"):
        sns.publish(TopicArn=arn, Message="m", MessageGroupId=group, MessageDeduplicationId="d")
    assert len(handed) == delivered


def test_archive_keeps_accepted_messages_within_retention(sns: Any, provider: Any, handed: list[Message],
                                                         emulator_url: str) -> None:
    arn = make_topic(provider, "kept.fifo", ArchivePolicy='{"MessageRetentionPeriod": "1"}')
    sns.publish(TopicArn=arn, Message="old", MessageGroupId="g", MessageDeduplicationId="1")
    sns.publish(TopicArn=arn, Message="old", MessageGroupId="g", MessageDeduplicationId="1")  # a duplicate
    advance(emulator_url, 86_401)
    sns.publish(TopicArn=arn, Message="new", MessageGroupId="g", MessageDeduplicationId="2")
    topic = provider._stores.get(ACCOUNT, REGION).topics[arn]
    assert [m.message for m in topic.archive] == ["new"]
    assert [m.message for m in handed] == ["old", "new"]


def test_topics_without_archive_policy_keep_nothing(sns: Any, provider: Any, fifo: str, handed: list[Message]) -> None:
    sns.publish(TopicArn=fifo, Message="m", MessageGroupId="g", MessageDeduplicationId="1")
    assert provider._stores.get(ACCOUNT, REGION).topics[fifo].archive == []


def test_cross_account_publish_needs_the_topic_policy(aws_client: Any, provider: Any, handed: list[Message]) -> None:
    arn = make_topic(provider, "shared", account=OTHER)
    caller = aws_client("sns", account=ACCOUNT)
    code, status, text = error_of(caller.publish, TopicArn=arn, Message="m")
    assert (code, status) == ("AuthorizationError", 403)
    assert text == f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: SNS:Publish on resource: {arn}"
    provider._stores.get(OTHER, REGION).topics[arn].attributes["Policy"] = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                       "Action": "SNS:Publish", "Resource": arn}],
    })
    answer = caller.publish(TopicArn=arn, Message="m")
    assert [m.message_id for m in handed] == [answer["MessageId"]]


@pytest.fixture
def direct(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Message, Any]]:
    """The direct publishes handed over: (kind, target, message, payload)."""
    seen: list[tuple[str, str, Message, Any]] = []
    monkeypatch.setattr(fanout, "publish_direct",
                        lambda provider, ctx, kind, target, message, payload, error=None:
                        seen.append((kind, target, message, payload)))
    return seen


@pytest.fixture
def endpoint(sns: Any) -> str:
    application = sns.create_platform_application(Name="app", Platform="GCM",
                                                   Attributes={"PlatformCredential": "key"})["PlatformApplicationArn"]
    return sns.create_platform_endpoint(PlatformApplicationArn=application, Token="device-1")["EndpointArn"]


def test_publish_to_a_platform_endpoint(sns: Any, endpoint: str, direct: list[Any]) -> None:
    body = json.dumps({"GCM": '{"notification": {"title": "hi"}}'})  # no default needed for the endpoint's own key
    answer = sns.publish(TargetArn=endpoint, Message=body, MessageStructure="json")
    [(kind, target, message, payload)] = direct
    assert (kind, target, message.message_id) == ("application", endpoint, answer["MessageId"])
    assert payload == '{"notification": {"title": "hi"}}'


def test_endpoint_json_needs_default_or_the_platform_key(raw_sns: Any, endpoint: str, direct: list[Any]) -> None:
    body = json.dumps({"APNS": "{}"})
    assert error_of(raw_sns.publish, TargetArn=endpoint, Message=body, MessageStructure="json") == (
        "InvalidParameter", 400, "Invalid parameter: JSON must contain an entry for 'default' or 'GCM'.")
    assert direct == []


def test_publish_to_a_phone_number(sns: Any, direct: list[Any]) -> None:
    body = json.dumps({"default": "long text", "sms": "short"})
    answer = sns.publish(PhoneNumber="+15555550100", Message=body, MessageStructure="json")
    [(kind, target, message, payload)] = direct
    assert (kind, target, message.message_id, payload) == ("sms", "+15555550100", answer["MessageId"], "short")
