"""Fixtures for the Kinesis tests: a client, the provider behind the server, and helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
REGION = "us-east-1"


def arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:kinesis:{region}:{account}:stream/{name}"


@pytest.fixture
def kinesis(aws_client: Callable[..., Any]) -> Any:
    return aws_client("kinesis")


@pytest.fixture
def raw_kinesis(aws_client: Callable[..., Any]) -> Any:
    """A client without boto3's own parameter validation, to reach the server's."""
    return aws_client("kinesis", validate=False)


@pytest.fixture
def provider(emulator_url: str, emulator_reset: None) -> Any:
    app = getattr(emulator_url, "app", None)
    if app is None:
        pytest.skip("needs the in-process server")
    return app.registry.get("kinesis")


@pytest.fixture
def settings(provider: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Changes the provider's config for one test: ``settings(kinesis_transition_seconds=5)``."""

    def change(**values: Any) -> None:
        for name, value in values.items():
            monkeypatch.setattr(provider.config, name, value)

    return change


def error_of(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    """(code, message) of the ClientError ``call(**kwargs)`` raises."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    error = info.value.response["Error"]
    return error["Code"], error["Message"]


def make_stream(kinesis: Any, name: str = "s", shards: int = 1) -> str:
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return name


def read_shard(kinesis: Any, stream: str, shard_id: str, kind: str = "TRIM_HORIZON", **extra: Any) -> list[dict]:
    """Every record from ``kind`` to the end of what the shard holds now."""
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType=kind, **extra)[
        "ShardIterator"
    ]
    records: list[dict] = []
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
        records += page["Records"]
        if not page["Records"]:
            break
        iterator = page.get("NextShardIterator")
    return records


def read_lineage(kinesis: Any, stream: str) -> Iterator[tuple[str, dict]]:
    """Every record of the stream as a consumer reads it: parents to their ends before children."""
    shards = {s["ShardId"]: s for s in kinesis.list_shards(StreamName=stream)["Shards"]}
    done: set[str] = set()
    pending = sorted(shards)
    while pending:
        ready = [
            sid
            for sid in pending
            if all(
                p in done or p not in shards
                for p in (shards[sid].get("ParentShardId"), shards[sid].get("AdjacentParentShardId"))
                if p
            )
        ]
        assert ready, "lineage has a cycle"
        for sid in ready:
            iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=sid, ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"
            ]
            while iterator:
                page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
                for record in page["Records"]:
                    yield sid, record
                iterator = page.get("NextShardIterator")
                if (
                    iterator
                    and not page["Records"]
                    and "EndingSequenceNumber" not in shards[sid]["SequenceNumberRange"]
                ):
                    break  # an open shard: read to its current end
            done.add(sid)
            pending.remove(sid)
