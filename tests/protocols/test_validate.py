"""Model validation with AWS's wording, table-driven against the real models."""

from __future__ import annotations

from typing import Any

import pytest

from emulator import specs
from emulator.protocols.validate import java_length, summary, validate

CASES: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("kinesis", "CreateStream", {"StreamName": "ok", "ShardCount": 1}, []),
    ("kinesis", "CreateStream", {"ShardCount": 1},
     ["Value null at 'streamName' failed to satisfy constraint: Member must not be null"]),
    ("kinesis", "CreateStream", {"StreamName": "bad name", "ShardCount": 0},
     ["Value 'bad name' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression "
      "pattern: [a-zA-Z0-9_.-]+",
      "Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"]),
    ("kinesis", "CreateStream", {"StreamName": "x" * 129, "ShardCount": 1},
     [f"Value '{'x' * 129}' at 'streamName' failed to satisfy constraint: Member must have length less than or "
      "equal to 128"]),
    ("kinesis", "GetShardIterator", {"StreamName": "s", "ShardId": "shardId-0", "ShardIteratorType": "NEWEST"},
     ["Value 'NEWEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: "
      "[AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"]),
    # A list of strings is reported once, at the list's path, with every constraint its elements broke.
    ("kinesis", "EnableEnhancedMonitoring", {"StreamName": "s", "ShardLevelMetrics": ["hi", "ALL", None]},
     ["Value '[hi, ALL, null]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy "
      "constraint: [Member must satisfy enum value set: [IncomingBytes, OutgoingRecords, IteratorAgeMilliseconds, "
      "IncomingRecords, ReadProvisionedThroughputExceeded, WriteProvisionedThroughputExceeded, OutgoingBytes, "
      "ALL], Member must not be null]"]),
    # A map's keys and its values likewise, upper bounds listed before lower ones.
    ("kinesis", "AddTagsToStream", {"StreamName": "s", "Tags": {"": "1", "k" * 129: "2"}},
     [f"Value '{{=1, {'k' * 129}=2}}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: "
      "[Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"]),
    ("kinesis", "AddTagsToStream", {"StreamName": "s", "Tags": {"a": "v" * 257}},
     [f"Value '{{a={'v' * 257}}}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: "
      "[Member must have length less than or equal to 256]"]),
    ("kinesis", "StartStreamEncryption", {"StreamName": "s", "EncryptionType": "AES", "KeyId": "k"},
     ["Value 'AES' at 'encryptionType' failed to satisfy constraint: Member must satisfy enum value set: "
      "[KMS, NONE]"]),
    ("kinesis", "PutRecords", {"StreamName": "s", "Records": [{"Data": b"x", "PartitionKey": "k"},
                                                              {"Data": b"x", "PartitionKey": ""}]},
     ["Value '' at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length greater "
      "than or equal to 1"]),
    ("kinesis", "PutRecords", {"StreamName": "s", "Records": [{"PartitionKey": "k"}]},
     ["Value null at 'records.1.member.data' failed to satisfy constraint: Member must not be null"]),
    ("kinesis", "PutRecords", {"StreamName": "s", "Records": [None]},
     ["Value null at 'records.1.member' failed to satisfy constraint: Member must not be null"]),
    ("kinesis", "PutRecord", {"StreamName": "s", "Data": b"x" * 10485761, "PartitionKey": "k"},
     ["Value 'java.nio.HeapByteBuffer[pos=0 lim=10485761 cap=10485761]' at 'data' failed to satisfy constraint: "
      "Member must have length less than or equal to 10485760"]),
    ("kinesis", "AddTagsToStream", {"StreamName": "s", "Tags": {"team": None}},
     ["Value '{team=null}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: "
      "[Member must not be null]"]),
    ("events", "ListEventBuses", {"Limit": 101},
     ["Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"]),
    ("sns", "Publish", {"TopicArn": "arn"},
     ["Value null at 'message' failed to satisfy constraint: Member must not be null"]),
]


@pytest.mark.parametrize(("service", "operation", "params", "expected"), CASES)
def test_validation_messages(service: str, operation: str, params: dict[str, Any], expected: list[str]) -> None:
    shape = specs.load(service).operation(operation).input
    assert validate(shape, params) == expected


@pytest.mark.parametrize(("errors", "text"), [
    (["a"], "1 validation error detected: a"),
    (["a", "b"], "2 validation errors detected: a; b"),
])
def test_summary_counts_and_joins(errors: list[str], text: str) -> None:
    assert summary(errors) == text


@pytest.mark.parametrize(("text", "length"), [("abc", 3), ("é", 1), ("漢字", 2), ("🙂", 2), ("a🙂b", 4), ("", 0)])
def test_string_lengths_count_utf16_code_units_as_java_does(text: str, length: int) -> None:
    assert java_length(text) == length
