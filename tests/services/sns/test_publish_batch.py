"""PublishBatch over the real socket: request-level errors, per-entry Failed results beside the
Successful ones, and FIFO order and deduplication across and within batches."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.services.sns.models import Message
from tests.services.sns.conftest import topic_arn
from tests.services.sns.test_publish import error_of, fifo, handed, make_topic, standard  # noqa: F401 (fixtures)


def entries(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"Id": f"e{i}", "Message": f"m{i}", **extra} for i in range(count)]


BAD_BATCH: list[tuple[str, Any, str, int, str]] = [
    ("too many", entries(11), "TooManyEntriesInBatchRequest", 400,
     "The batch request contains more entries than permissible."),
    ("same ids", [{"Id": "a", "Message": "1"}, {"Id": "a", "Message": "2"}], "BatchEntryIdsNotDistinct", 400,
     "Two or more batch entries in the request have the same Id."),
    ("id characters", [{"Id": "a.b", "Message": "1"}], "InvalidBatchEntryId", 400,
     "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
     "It can be at most 80 letters long."),
    ("id too long", [{"Id": "a" * 81, "Message": "1"}], "InvalidBatchEntryId", 400,
     "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
     "It can be at most 80 letters long."),
    ("batch too long", [{"Id": "a", "Message": "x" * 200_000}, {"Id": "b", "Message": "y" * 62_145}],
     "BatchRequestTooLong", 400, "The length of all the batch messages put together is more than the limit."),
]


@pytest.mark.parametrize(("batch", "code", "status", "text"), [case[1:] for case in BAD_BATCH],
                         ids=[case[0] for case in BAD_BATCH])
def test_publish_batch_refuses_bad_requests(raw_sns: Any, standard: str, handed: list[Message],  # noqa: F811
                                            batch: Any, code: str, status: int, text: str) -> None:
    assert error_of(raw_sns.publish_batch, TopicArn=standard, PublishBatchRequestEntries=batch) == (code, status, text)
    assert handed == []


def test_an_empty_batch_is_refused(raw_sns: Any, standard: str) -> None:  # noqa: F811
    assert error_of(raw_sns.publish_batch, TopicArn=standard, PublishBatchRequestEntries=[]) == (
        "EmptyBatchRequest", 400, "The batch request doesn't contain any entries.")


def test_publish_batch_to_a_missing_topic(raw_sns: Any, standard: str) -> None:  # noqa: F811
    assert error_of(raw_sns.publish_batch, TopicArn=topic_arn("absent"), PublishBatchRequestEntries=entries(1)) == (
        "NotFound", 404, "Topic does not exist")


def test_publish_batch_reports_each_entry(raw_sns: Any, standard: str, handed: list[Message]) -> None:  # noqa: F811
    batch = [
        {"Id": "ok-1", "Message": "first", "Subject": "s"},
        {"Id": "empty", "Message": ""},
        {"Id": "bad_attr", "Message": "m", "MessageAttributes": {"x": {"DataType": "Text", "StringValue": "v"}}},
        {"Id": "dedup", "Message": "m", "MessageDeduplicationId": "d"},
        {"Id": "ok-2", "Message": '{"default": "second"}', "MessageStructure": "json"},
    ]
    answer = raw_sns.publish_batch(TopicArn=standard, PublishBatchRequestEntries=batch)
    assert [entry["Id"] for entry in answer["Successful"]] == ["ok-1", "ok-2"]
    assert [entry["MessageId"] for entry in answer["Successful"]] == [m.message_id for m in handed]
    assert [m.message for m in handed] == ["first", "second"]
    assert all("SequenceNumber" not in entry for entry in answer["Successful"])
    assert answer["Failed"] == [
        {"Id": "empty", "Code": "InvalidParameter", "Message": "Invalid parameter: Empty message", "SenderFault": True},
        {"Id": "bad_attr", "Code": "ParameterValueInvalid", "SenderFault": True,
         "Message": "The message attribute 'x' has an invalid message attribute type, the set of supported type "
                    "prefixes is Binary, Number, and String."},
        {"Id": "dedup", "Code": "InvalidParameter", "SenderFault": True,
         "Message": "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                    "parameter that is not valid for this topic type"},
    ]


def test_ten_entries_are_accepted(sns: Any, standard: str, handed: list[Message]) -> None:  # noqa: F811
    answer = sns.publish_batch(TopicArn=standard, PublishBatchRequestEntries=entries(10))
    assert len(answer["Successful"]) == 10 and answer["Failed"] == []
    assert [m.message for m in handed] == [f"m{i}" for i in range(10)]


def test_fifo_batch_keeps_order_and_deduplicates(sns: Any, fifo: str, handed: list[Message]) -> None:  # noqa: F811
    batch = [
        {"Id": "a", "Message": "1", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
        {"Id": "b", "Message": "2", "MessageGroupId": "g", "MessageDeduplicationId": "d2"},
        {"Id": "c", "Message": "3", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},  # within the batch
        {"Id": "d", "Message": "4", "MessageDeduplicationId": "d4"},  # no group
        {"Id": "e", "Message": "5", "MessageGroupId": "g", "MessageDeduplicationId": "d5"},
    ]
    answer = sns.publish_batch(TopicArn=fifo, PublishBatchRequestEntries=batch)
    ok = {entry["Id"]: entry for entry in answer["Successful"]}
    assert list(ok) == ["a", "b", "c", "e"]
    assert (ok["c"]["MessageId"], ok["c"]["SequenceNumber"]) == (ok["a"]["MessageId"], ok["a"]["SequenceNumber"])
    assert int(ok["a"]["SequenceNumber"]) < int(ok["b"]["SequenceNumber"]) < int(ok["e"]["SequenceNumber"])
    assert answer["Failed"] == [{
        "Id": "d", "Code": "InvalidParameter", "SenderFault": True,
        "Message": "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
    }]
    assert [m.message for m in handed] == ["1", "2", "5"]
    # Across batches too.
    again = sns.publish_batch(TopicArn=fifo, PublishBatchRequestEntries=[batch[1]])
    assert again["Successful"][0]["MessageId"] == ok["b"]["MessageId"]
    assert len(handed) == 3


def test_fifo_batch_without_dedup_ids_on_content_based_topic(sns: Any, provider: Any,
                                                             handed: list[Message]) -> None:  # noqa: F811
    arn = make_topic(provider, "cbd.fifo", ContentBasedDeduplication="true")
    answer = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries(3, MessageGroupId="g"))
    assert len(answer["Successful"]) == 3
    assert [m.message for m in handed] == ["m0", "m1", "m2"]
