"""Every Kinesis operation, fed seeded bad input built from the model's shapes: never a 5xx, only
errors the model lists for the operation (or the protocol's own), and a rejected request that
changes something is a bug.

The requests go through botocore with its parameter validation off, so what it serializes reaches
the server's validation; a value botocore itself cannot serialize (a string where a structure
belongs) never leaves the client and is not counted. Each operation runs against a small world of
real resources (two streams, a consumer, a queue with a receipt handle, a channel, a resource
policy), so the requests also get past "not found". After a mutating request succeeds the world is
built again, so the next request meets the same resources.

"Changes nothing" is checked on the provider's own state (every store, every attribute, locks
aside), which is both faster and stricter than reading it back through the API.
"""

from __future__ import annotations

import array
import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError, EndpointResolutionError, ParamValidationError
from botocore.model import OperationModel, Shape

from emulator.testing import admin
from tests.protocols.generate import Generator

MODEL = botocore.session.get_session().get_service_model("kinesis")
ACCOUNT = "000000000000"
REGION = "us-east-1"
HUGE = "x" * 10240
EMOJI = "🙂漢字é\u200b"
READ_ONLY_PREFIXES = ("Describe", "List", "Get")
# Errors any JSON operation may answer besides the ones its model lists.
COMMON_ERRORS = {"ValidationException", "SerializationException", "UnknownOperationException",
                 "AccessDeniedException", "InvalidArgumentException", "RequestEntityTooLarge"}


def _arn(kind: str, name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:kinesis:{region}:{account}:{kind}/{name}"


# -- the world of real resources ------------------------------------------------------------------


def build_world(kinesis: Any) -> dict[str, Any]:
    """Creates the resources the requests name, and returns the values that name them."""
    stream, on_demand = "fuzz", "fuzz-od"
    kinesis.create_stream(StreamName=stream, ShardCount=2, Tags={"team": "fuzz"})
    kinesis.create_stream(StreamName=on_demand, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    stream_arn, od_arn = _arn("stream", stream), _arn("stream", on_demand)
    consumer = kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName="fuzz-consumer")["Consumer"]
    queue_arn = kinesis.create_queue(
        QueueName="fuzz-queue",
        StreamConfigurationList=[{"StreamARN": od_arn, "StartingPosition": {"Type": "TRIM_HORIZON"}}],
        QueueAttributes={"DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 1}},
    )["QueueDescription"]["QueueARN"]
    channel_arn = kinesis.create_channel(
        ChannelName="fuzz-channel",
        ServiceExecutionRoleARN=f"arn:aws:iam::{ACCOUNT}:role/fuzz",
        StreamConfigurationList=[{"StreamARN": od_arn, "RecordConfiguration": {"RecordFormatType": "JSON"}}],
        S3DestinationConfiguration={"StorageConfiguration": {
            "BucketARN": "arn:aws:s3:::fuzz", "ExpectedBucketOwner": ACCOUNT, "CompressionType": "GZIP"}},
    )["ChannelDescription"]["ChannelARN"]
    put = kinesis.put_record(StreamName=stream, Data=b"{}", PartitionKey="pk")
    for index in range(6):
        kinesis.put_record(StreamName=on_demand, Data=b"{}", PartitionKey=f"pk{index}")
    kinesis.put_resource_policy(ResourceARN=stream_arn, Policy=_policy(stream_arn))
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    # Three records received with no visibility timeout go to the dead-letter side (at most one receive
    # each); one of them and one of the others are then in flight, and two of each stay visible, so a
    # receive of either kind answers at once instead of waiting.
    kinesis.receive_queue_records(QueueARN=queue_arn, WaitTimeSeconds=1, VisibilityTimeoutSeconds=0, Limit=3)
    received = kinesis.receive_dead_letter_queue_records(QueueARN=queue_arn, WaitTimeSeconds=1, Limit=1)[
        "QueueRecords"] + kinesis.receive_queue_records(QueueARN=queue_arn, WaitTimeSeconds=1, Limit=1)["QueueRecords"]
    assert len(received) == 2
    return {
        "StreamName": [stream, on_demand],
        "StreamARN": [stream_arn, od_arn],
        "ConsumerARN": [consumer["ConsumerARN"]],
        "ConsumerName": [consumer["ConsumerName"]],
        "QueueARN": [queue_arn],
        "QueueName": ["fuzz-queue"],
        "ChannelARN": [channel_arn],
        "ChannelName": ["fuzz-channel"],
        "ResourceARN": [stream_arn, consumer["ConsumerARN"], queue_arn, channel_arn],
        "ShardId": ["shardId-000000000000", "shardId-000000000001"],
        "ShardToMerge": ["shardId-000000000000"],
        "AdjacentShardToMerge": ["shardId-000000000001"],
        "ShardToSplit": ["shardId-000000000000"],
        "ExclusiveStartShardId": ["shardId-000000000000"],
        "ExclusiveStartStreamName": [stream],
        "ShardIterator": [iterator],
        "StartingSequenceNumber": [put["SequenceNumber"]],
        "SequenceNumber": [put["SequenceNumber"]],
        "SequenceNumberForOrdering": [put["SequenceNumber"]],
        "ReceiptHandle": [r["ReceiptHandle"] for r in received],
        "ServiceExecutionRoleARN": [f"arn:aws:iam::{ACCOUNT}:role/fuzz"],
        "BucketARN": ["arn:aws:s3:::fuzz"],
        "KeyId": ["alias/aws/kinesis"],
        "Policy": [_policy(stream_arn)],
        "NewStartingHashKey": [str(2**126)],
        "PartitionKey": ["pk"],
    }


def _policy(resource: str) -> str:
    return (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": '
        f'"arn:aws:iam::{ACCOUNT}:root"}}, "Action": "kinesis:GetRecords", "Resource": "{resource}"}}]}}'
    )


def foreign(arn: str, rng: random.Random) -> str:
    """The same ARN in another account, region or partition: never this caller's resource."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return arn
    choice = rng.randrange(3)
    if choice == 0:
        parts[4] = "111122223333"
    elif choice == 1:
        parts[3] = "eu-west-1"
    else:
        parts[1] = "aws-cn"
    return ":".join(parts)


# -- requests built from the model ----------------------------------------------------------------


class WorldGenerator(Generator):
    """The seeded generator, but a member named like a resource of the world takes a real value (most
    of the time), so requests reach the checks behind "not found"."""

    def __init__(self, seed: str, world: dict[str, Any], real: float = 0.7) -> None:
        super().__init__(seed, timestamp_ms=False)
        self.world = world
        self.real = real

    def _structure(self, shape: Shape, depth: int) -> dict[str, Any]:
        out = super()._structure(shape, depth)
        for name in out:
            if name in self.world and self.random.random() < self.real:
                out[name] = self.random.choice(self.world[name])
        return out

    def required(self, shape: Shape) -> dict[str, Any]:
        """Only the required members, each real where the world has one."""
        out = {}
        for name in shape.required_members:
            member = shape.members[name]
            out[name] = self.random.choice(self.world[name]) if name in self.world else self.value(member, 1)
        return out


class EdgeGenerator(WorldGenerator):
    """Every scalar at an edge: empty, 10 KB, unicode, negative or huge, epoch or far future."""

    def _text(self, shape: Shape) -> str:
        return self.random.choice(["", HUGE, EMOJI, " ", "\x00", "null", "arn:aws:kinesis:::"])

    def _string(self, shape: Shape, depth: int) -> str:
        if shape.enum and self.random.random() < 0.5:
            return self.random.choice(shape.enum)
        return self._text(shape)

    def _integer(self, shape: Shape, depth: int) -> int:
        return self.random.choice([-1, 0, -(2**31), 2**31 - 1, 2**31, 2**63])

    _long = _integer

    def _list(self, shape: Shape, depth: int) -> list[Any]:
        # Long lists only at the top: nested ones would multiply into bodies botocore takes long to build.
        sizes = [1, 2, 501] if depth <= 1 else [1, 2]
        return [] if self.random.random() < 0.3 else [self.value(shape.member, depth + 1)] * self.random.choice(sizes)

    def _timestamp(self, shape: Shape, depth: int) -> datetime:
        return self.random.choice([datetime(1970, 1, 1, tzinfo=timezone.utc),
                                   datetime(9999, 12, 31, tzinfo=timezone.utc)])


def _edges(name: str, member: Shape, rng: random.Random, world: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Values of one member at its edges, and of the wrong type where botocore still sends them."""
    kind = member.type_name
    if kind == "string":
        yield from (("empty", ""), ("huge", HUGE), ("unicode", EMOJI), ("number", 12345), ("list", ["a"]),
                    ("object", {"a": 1}))
        if name.endswith("ARN") and name in world:
            yield "foreign", foreign(rng.choice(world[name]), rng)
    elif kind in ("integer", "long"):
        yield from (("negative", -1), ("min", -(2**63)), ("huge", 2**64), ("text", "5"), ("float", 1.5),
                    ("bool", True))
    elif kind == "boolean":
        yield from (("text", "true"), ("number", 1))
    elif kind == "list":
        yield from (("empty", []), ("many", [rng.choice(world.get(name, ["x"]))] * 1000), ("text", "abc"))
    elif kind in ("structure", "map"):
        yield "empty", {}
    elif kind == "blob":
        yield from (("empty", b""), ("huge", b"\xff" * 10240))
    elif kind == "timestamp":
        yield from (("epoch", 0), ("negative", -1), ("far", 2**40))


def requests_for(operation: OperationModel, world: dict[str, Any], seed: int) -> Iterator[tuple[str, dict]]:
    shape = operation.input_shape
    if shape is None:
        yield "no input", {}
        return
    rng = random.Random(f"{operation.name}-{seed}")
    for index in range(3):
        yield f"random {index}", WorldGenerator(f"{operation.name}-r{seed}-{index}", world).value(shape)
        yield f"edge {index}", EdgeGenerator(f"{operation.name}-e{seed}-{index}", world).value(shape)
    generator = WorldGenerator(f"{operation.name}-q{seed}", world, real=1.0)
    required = generator.required(shape)
    yield "required only", dict(required)
    for name in shape.required_members:
        yield f"without {name}", {k: v for k, v in required.items() if k != name}
    # The base of the one-member variants names a real stream too where the operation takes one, so
    # they reach the checks behind "not found".
    base = dict(required)
    if "StreamName" in shape.members and "StreamARN" not in base:
        base["StreamName"] = world["StreamName"][0]
    for name, member in shape.members.items():
        if name not in base:
            yield f"{name} random", {**base, name: generator.value(member, 1)}
        if member.type_name == "boolean":
            yield f"{name} true", {**base, name: True}
        for label, value in _edges(name, member, rng, world):
            yield f"{name} {label}", {**base, name: value}


# -- the provider's whole state, to compare ------------------------------------------------------


# Watermarks that follow the clock (a shard's retention horizon, raised by whatever looks at it next):
# time passing moves them, whichever request happens to look, and no client can tell.
CLOCK_DERIVED = {"readable_from"}


def dump(value: Any, seen: set[int] | None = None) -> Any:
    """Plain data of an object graph: dataclasses and slotted objects by attribute, locks left out,
    an object met twice named once (queues point at their streams)."""
    seen = set() if seen is None else seen
    if value is None or isinstance(value, (str, int, float, bytes, bool)):
        return value
    if isinstance(value, (threading.Condition, type(threading.RLock()), type(threading.Lock()))) or callable(value):
        return "-"
    if isinstance(value, dict):
        return {repr(k): dump(v, seen) for k, v in value.items()}
    if isinstance(value, (list, tuple, deque, array.array)):
        return [dump(v, seen) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(repr(v) for v in value)
    if id(value) in seen:
        return f"<{type(value).__name__}>"
    seen.add(id(value))
    names = list(getattr(value, "__dict__", {})) + [
        n for cls in type(value).__mro__ for n in getattr(cls, "__slots__", ())
    ]
    return {n: dump(getattr(value, n, None), seen) for n in names if n not in CLOCK_DERIVED}


def state(provider: Any) -> Any:
    return {key: dump(store) for key, store in provider._stores.items()
            if store.streams or store.queues or store.channels or store.policies}


# -- the test -------------------------------------------------------------------------------------


class Fuzzer:
    """Sends the requests of one operation and keeps what went wrong."""

    def __init__(self, url: str, client: Any, provider: Any, caplog: pytest.LogCaptureFixture) -> None:
        self.url, self.client, self.provider, self.caplog = url, client, provider, caplog
        self.sent = False
        client.meta.events.register("before-send", self._mark)
        self.world = self.rebuild(reset=False)

    def _mark(self, **_: Any) -> None:
        self.sent = True

    def rebuild(self, reset: bool = True) -> dict[str, Any]:
        if reset:
            admin(self.url, "/_emulator/reset?service=kinesis", "POST")
        self.world = build_world(self.client)
        return self.world

    def call(self, operation: str, params: dict[str, Any]) -> tuple[int | None, str | None, bool]:
        """(HTTP status, error code, whether the request reached the server)."""
        method: Callable[..., Any] = getattr(self.client, xform_name(operation))
        self.sent = False
        try:
            result = method(**params)
        except ClientError as error:
            meta = error.response["ResponseMetadata"]
            return meta.get("HTTPStatusCode"), error.response["Error"].get("Code"), True
        except (TypeError, AttributeError, ValueError, ParamValidationError, EndpointResolutionError) as error:
            if self.sent:
                raise AssertionError(f"{operation} {_short(params)}: a sent request failed in the client") from error
            return None, None, False
        stream = result.get("EventStream")
        if stream is not None:
            stream.close()
        return 200, None, True

    def run(self, operation: OperationModel, cases: Iterator[tuple[str, dict]]) -> list[str]:
        allowed = COMMON_ERRORS | {e.name for e in operation.error_shapes}
        mutating = not operation.name.startswith(READ_ONLY_PREFIXES)
        problems: list[str] = []
        for label, params in cases:
            before = state(self.provider) if mutating else None
            self.caplog.clear()
            status, code, sent = self.call(operation.name, params)
            errors = [r for r in self.caplog.records if r.name.startswith("emulator") and r.levelno >= logging.ERROR]
            where = f"{operation.name} [{label}] {_short(params)}"
            if errors:
                problems.append(f"{where}: logged {errors[0].getMessage()}")
            if status is not None and status >= 500:
                problems.append(f"{where}: HTTP {status} {code}")
            elif code is not None and code not in allowed:
                problems.append(f"{where}: {code} is not an error of the operation")
            if not sent or not mutating:
                continue
            if code is not None and state(self.provider) != before:
                problems.append(f"{where}: rejected with {code} but changed the state")
            if code is None or errors:
                self.rebuild()
        return problems


def _short(params: dict[str, Any]) -> str:
    text = repr(params)
    return text if len(text) < 300 else text[:300] + "..."


@pytest.fixture
def fuzzer(emulator_url: Any, aws_client: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> Fuzzer:
    app = getattr(emulator_url, "app", None)
    if app is None:
        pytest.skip("needs the in-process server")
    caplog.set_level(logging.ERROR, logger="emulator")
    client = aws_client("kinesis", validate=False, read_timeout=5, connect_timeout=5)
    return Fuzzer(emulator_url, client, app.registry.get("kinesis"), caplog)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("operation", MODEL.operation_names)
def test_bad_input_never_answers_a_5xx_nor_changes_state(fuzzer: Fuzzer, operation: str, seed: int) -> None:
    model = MODEL.operation_model(operation)
    problems = fuzzer.run(model, requests_for(model, fuzzer.world, seed=seed))
    assert not problems, "\n".join(problems)


def test_a_crash_in_the_provider_is_caught(fuzzer: Fuzzer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fuzzer sees a crash both ways: the 500 answered and the traceback logged."""

    def crash(*_: Any, **__: Any) -> None:
        raise KeyError("boom")

    monkeypatch.setitem(fuzzer.provider._handlers, "DescribeLimits", crash)
    problems = fuzzer.run(MODEL.operation_model("DescribeLimits"), iter([("crash", {})]))
    assert [p.split(": ", 1)[1] for p in problems] == [
        "logged internal error in kinesis DescribeLimits", "HTTP 500 InternalFailure"]


@pytest.mark.skipif("DryRun" not in MODEL.operation_model("PutRecord").input_shape.members,
                    reason="this botocore's Kinesis model has no DryRun member")
def test_a_dry_run_that_would_succeed_is_a_dry_run_operation_exception(fuzzer: Fuzzer) -> None:
    """AWS checks a dry run's input and resource and answers 400 DryRunOperationException, writing nothing
    (docs: streams/latest/dev/kds-dryrun-validation)."""
    params = {"StreamName": "fuzz", "Data": b"x", "PartitionKey": "k", "DryRun": True}
    before = state(fuzzer.provider)
    status, code, _ = fuzzer.call("PutRecord", params)
    assert (status, code) == (400, "DryRunOperationException")
    assert state(fuzzer.provider) == before
