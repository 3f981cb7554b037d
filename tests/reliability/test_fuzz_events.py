"""Fuzzing every EventBridge operation: a client's mistake gets one of AWS's errors, never a 5xx.

For each operation of botocore's model, requests are built from the input shape and sent by a
botocore client without its own parameter validation, in seeded variants: every member random, only
the required ones, each required one missing, empty, huge (10 KB) and unicode strings, extreme
numbers, values of the wrong type, ARNs of other accounts and Regions, and the names of resources
that exist (a bus, rules, a target, an archive, a replay, a connection, an API destination, an
endpoint, a partner event source), so that requests get past "not found". Each answer must be a
success or an error the model lists for the operation (or one every JSON service may answer), never
a 5xx, and the server must log no internal error. A rejected request to a mutating operation must
leave the provider's state as it was.

The regression table at the end keeps the inputs that crashed the server once.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import random
import re
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.model import OperationModel, Shape

from emulator.testing import admin
from tests.protocols.generate import Generator

MODEL = botocore.session.get_session().get_service_model("events")
OPERATIONS = MODEL.operation_names
ACCOUNT = "000000000000"
REGION = "us-east-1"
PARTNER_ACCOUNT = "222233334444"
FOREIGN = [("111122223333", REGION), (ACCOUNT, "eu-west-1"), ("111122223333", "ap-south-1")]
HUGE = "x" * 10_240
UNICODE = "é漢字🙂\u200b\U0001f600\u0000\ud7ff"
NUMBERS = [-1, 0, -(2**31) - 1, 2**31, 2**63, 10**30, -(10**30)]
# Texts that mean something to some member's own parser: an expression, a path, an ARN, a template.
TRICKY = [
    "rate(99999999999999999999 minutes)", "cron(0 0 ? * 7#5 2199)", "$.detail[99999999999999999999]", "$..a",
    f"arn:aws:events:{REGION}:{ACCOUNT}:rule/", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/",
    "arn:aws:sqs:::", "<aws.events.event.json>", "<a><b>", "%00", "../..", "*", "aws.partner/",
]
# The inputs that crashed the server once, by operation (see the tests at the end of the file).
REGRESSIONS: dict[str, list[dict[str, Any]]] = {
    "PutPermission": [{"Policy": "[" * 3000 + "]" * 3000}],
    "PutRule": [{"Name": "forever", "ScheduleExpression": "rate(99999999999999999999 minutes)"}],
    "PutTargets": [{"Rule": "fuzz-rule", "Targets": [{"Id": "deep", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",
                    "InputTransformer": {"InputTemplate": '{"a": ' + "[" * 3000 + "]" * 3000 + "}"}}]}],
}
# JSON nested deeper than Python's decoder goes (it raises RecursionError, not ValueError).
DEEP_JSON = ["[" * 3000 + "]" * 3000, '{"a":' * 1200 + "1" + "}" * 1200]
SEEDS = range(3)

# Errors any operation of a JSON 1.1 service may answer, whatever the model lists for it.
COMMON_ERRORS = {
    "ValidationException",
    "SerializationException",
    "AccessDeniedException",
    "ThrottlingException",
    "UnknownOperationException",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "RequestEntityTooLargeException",
}
# Read-only operations; every other one changes state when it succeeds.
READ_ONLY_PREFIXES = ("Describe", "List", "Test")

PATTERN = json.dumps({"source": ["fuzz"]})
EVENT = json.dumps({
    "id": "1", "account": ACCOUNT, "source": "fuzz", "time": "2024-01-01T00:00:00Z", "region": REGION,
    "resources": [], "detail-type": "d", "detail": {},
})


@dataclasses.dataclass
class World:
    """The resources created before each test, by name and ARN, for requests that name them."""

    bus: str = "fuzz-bus"
    rule: str = "fuzz-rule"
    target_id: str = "fuzz-target"
    archive: str = "fuzz-archive"
    replay: str = "fuzz-replay"
    connection: str = "fuzz-conn"
    destination: str = "fuzz-dest"
    endpoint: str = "fuzz-endpoint"
    source: str = "aws.partner/fuzz.example/source"
    arns: dict[str, str] = dataclasses.field(default_factory=dict)
    endpoint_config: dict[str, Any] = dataclasses.field(default_factory=dict)

    def arn(self, kind: str, account: str = ACCOUNT, region: str = REGION) -> str:
        """The ARN of one of the resources, or of the same name in another account or Region."""
        return self.arns[kind].replace(f":{REGION}:", f":{region}:").replace(f":{ACCOUNT}:", f":{account}:")

    def name_for(self, operation: str) -> str:
        """What ``Name`` means in ``operation``: the resource of the kind the operation is about."""
        for word, name in (("ApiDestination", self.destination), ("Connection", self.connection),
                           ("Endpoint", self.endpoint), ("PartnerEventSource", self.source),
                           ("EventSource", self.source), ("EventBus", self.bus), ("Rule", self.rule)):
            if word in operation:
                return name
        return self.rule

    def existing(self, operation: str, member: str) -> Any:
        """An existing resource for a member, by the member's name; None where none fits."""
        arn_members = {
            "ConnectionArn": self.arns["connection"], "TargetArn": self.arns["queue"],
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/fuzz", "ResourceARN": self.arns["rule"],
            "EventSourceArn": self.arns["archive"] if operation == "StartReplay" else self.arns["bus"],
        }
        creating = operation.startswith("Create") or operation == "StartReplay"
        fresh = {"Name": "aws.partner/fuzz.example/new" if "Partner" in operation else "fuzz-new",
                 "ArchiveName": "fuzz-new", "ReplayName": "fuzz-new"}
        if creating and member in fresh:
            return fresh[member]
        if member == "EventSourceName" and operation == "CreateEventBus":
            return None  # a partner bus must be named as its source: left to the variants that add it
        if "Endpoint" in operation and member in ("RoutingConfig", "EventBuses"):
            return self.endpoint_config[member]
        values: dict[str, Any] = {
            "Name": self.name_for(operation), "EventBusName": self.bus, "Rule": self.rule,
            "ArchiveName": self.archive, "ReplayName": self.replay, "EventSourceName": self.source,
            "Ids": [self.target_id], "EventPattern": PATTERN, "Event": EVENT, "Account": ACCOUNT,
            "Destination": {"Arn": self.arns["bus"]}, "HomeRegion": REGION,
            "InvocationEndpoint": "https://example.com/x", "StatementId": "fuzz-statement",
            "EventStartTime": datetime(2020, 1, 1, tzinfo=timezone.utc),
            "EventEndTime": datetime(2020, 1, 2, tzinfo=timezone.utc),
            **arn_members,
        }
        return values.get(member)


def create_world(events: Any, partner: Any, world: World | None = None) -> World:
    """Creates one resource of each kind, each named in ``World`` (``world``, updated in place, when
    given: the variants of a test hold it)."""
    world = world or World()
    world.arns["bus"] = events.create_event_bus(Name=world.bus)["EventBusArn"]
    world.arns["rule"] = events.put_rule(Name=world.rule, EventBusName=world.bus, EventPattern=PATTERN)["RuleArn"]
    events.put_rule(Name=world.rule, EventPattern=PATTERN)  # the same name on the default bus
    world.arns["queue"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:fuzz-queue"
    for bus in (world.bus, "default"):
        events.put_targets(Rule=world.rule, EventBusName=bus,
                           Targets=[{"Id": world.target_id, "Arn": world.arns["queue"]}])
    world.arns["archive"] = events.create_archive(
        ArchiveName=world.archive, EventSourceArn=world.arns["bus"])["ArchiveArn"]
    world.arns["replay"] = events.start_replay(
        ReplayName=world.replay, EventSourceArn=world.arns["archive"],
        EventStartTime=datetime(2020, 1, 1, tzinfo=timezone.utc),
        EventEndTime=datetime(2020, 1, 2, tzinfo=timezone.utc), Destination={"Arn": world.arns["bus"]})["ReplayArn"]
    world.arns["connection"] = events.create_connection(
        Name=world.connection, AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})["ConnectionArn"]
    world.arns["destination"] = events.create_api_destination(
        Name=world.destination, ConnectionArn=world.arns["connection"],
        InvocationEndpoint="https://example.com/x", HttpMethod="POST")["ApiDestinationArn"]
    world.endpoint_config = {
        "RoutingConfig": {"FailoverConfig": {
            "Primary": {"HealthCheck": f"arn:aws:route53:::healthcheck/{'a' * 8}"},
            "Secondary": {"Route": "us-west-2"}}},
        "EventBuses": [{"EventBusArn": world.arns["bus"]},
                       {"EventBusArn": world.arns["bus"].replace(REGION, "us-west-2")}],
    }
    world.arns["endpoint"] = events.create_endpoint(
        Name=world.endpoint, ReplicationConfig={"State": "DISABLED"}, **world.endpoint_config)["Arn"]
    world.arns["source"] = partner.create_partner_event_source(Name=world.source, Account=ACCOUNT)["EventSourceArn"]
    events.put_permission(EventBusName=world.bus, Action="events:PutEvents", Principal="111122223333",
                          StatementId="fuzz-statement")
    return world


# --- the variants ----------------------------------------------------------------------------------

def _every(kinds: tuple[str, ...], shape: Shape, value: Any, make: Callable[[], Any], depth: int = 0) -> Any:
    """``value`` (built from ``shape``) with every member of one of the ``kinds`` (an enum string
    excepted) replaced by ``make()``."""
    kind = shape.type_name
    if depth > 8:
        return value
    if kind == "structure" and isinstance(value, dict):
        return {key: _every(kinds, shape.members[key], item, make, depth + 1) if key in shape.members else item
                for key, item in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_every(kinds, shape.member, item, make, depth + 1) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _every(kinds, shape.value, item, make, depth + 1) for key, item in value.items()}
    if kind in kinds and not getattr(shape, "enum", None):
        return make()
    return value


def _wrong_type(shape: Shape, rng: random.Random) -> Any:
    """A value of another JSON type than ``shape`` wants, of a kind botocore's serializer lets through
    (it calls ``.items()`` on a structure or map, so those only get other mappings)."""
    kind = shape.type_name
    if kind == "structure":
        return {"NotAMember": 1, **{name: rng.choice([1, True, "x", []]) for name in list(shape.members)[:3]}}
    if kind == "map":
        return {"k": [1, 2]}
    if kind == "list":
        return rng.choice(["abc", [{"a": 1}], [[1]]])
    if kind == "string":
        return rng.choice([5, True, 1.5, ["a"]])
    if kind in ("integer", "long"):
        return rng.choice(["ten", "1", 1.5, True])
    if kind == "boolean":
        return rng.choice(["true", 1, "no"])
    if kind == "timestamp":
        return rng.choice([-1, 10**15, 1.5])
    return rng.choice([1, "x"])


def _with_existing(operation: OperationModel, params: dict[str, Any], world: World) -> dict[str, Any]:
    """``params`` with each top-level member that names a resource set to one that exists."""
    result = dict(params)
    for name in operation.input_shape.members:
        value = world.existing(operation.name, name)
        if value is not None and (name in result or name in operation.input_shape.required_members):
            result[name] = value
    return result


# Values a nested member takes in a baseline, by the member's name, where the first candidate string
# that fits the shape would not get past the operation's own checks.
NESTED = {
    "Input": "{}", "InputPath": "$.detail", "InputTemplate": '{"a": <a>}', "InputPathsMap": {"a": "$.detail"},
    "Detail": "{}", "DetailType": "fuzz", "Source": "fuzz", "Resources": [], "Time": datetime(2024, 1, 1),
    "MessageGroupId": "g", "PartitionKeyPath": "$.id", "ScheduleExpression": None, "Force": False,
}


def _candidates(world: World) -> list[str]:
    """Strings tried in turn for a string member of a baseline: the first that fits its shape wins."""
    return [
        "fuzz", *world.arns.values(), world.source, "fuzz.example", "https://example.com/x", "example.com",
        ACCOUNT, "events:PutEvents", f"arn:aws:iam::{ACCOUNT}:role/fuzz", "arn:aws:route53:::healthcheck/abcdefgh",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:fuzz-secret-abcdef", "$.detail", "us-west-2",
        "fuzz-endpoint-id", "",
    ]


def _fits(shape: Shape, text: str) -> bool:
    meta = shape.metadata
    if not meta.get("min", 0) <= len(text) <= meta.get("max", 1 << 30):
        return False
    try:
        return re.fullmatch(meta.get("pattern", ".*"), text, re.DOTALL) is not None
    except re.error:  # a Java-only construct (\p{L}); botocore's model is checked by the server anyway
        return True


def baseline(shape: Shape, world: World, operation: str, name: str = "", depth: int = 0) -> Any:
    """A lean request value that the model's constraints accept: the required members (and at the top
    the members that name the world's resources), so that a mutation of one member, or one optional
    member added (``absent``), reaches the operation's own checks."""
    if depth == 1 and world.existing(operation, name) is not None:
        return world.existing(operation, name)
    if depth > 1 and name in NESTED:
        return NESTED[name]
    kind = shape.type_name
    if kind == "structure":
        if depth > 7:
            return {}
        names = [key for key in shape.members if key in shape.required_members
                 or (depth == 0 and world.existing(operation, key) is not None)]
        if shape.metadata.get("union") and not names:
            names = list(shape.members)[:1]
        return {key: baseline(shape.members[key], world, operation, key, depth + 1) for key in names
                if not shape.members[key].serialization.get("location")}
    if kind == "list":
        count = max(1, shape.metadata.get("min", 1))
        return [baseline(shape.member, world, operation, name, depth + 1) for _ in range(count)]
    if kind == "map":
        return {"fuzz": baseline(shape.value, world, operation, name, depth + 1)}
    if kind == "string":
        if shape.enum:
            return shape.enum[0]
        return next((text for text in _candidates(world) if _fits(shape, text)), "fuzz")
    if kind in ("integer", "long"):
        return max(shape.metadata.get("min", 1), 1)
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return datetime(2020, 1, 1, tzinfo=timezone.utc)
    if kind == "blob":
        return b"fuzz"
    return 1.0


def absent(value: Any, shape: Shape, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str, Shape]]:
    """(path of the structure, member name, member shape) of every optional member ``value`` leaves out."""
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            if key in value:
                yield from absent(value[key], member, (*path, key))
            else:
                yield path, key, member
    elif shape.type_name == "list" and isinstance(value, list) and value:
        yield from absent(value[0], shape.member, (*path, 0))
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from absent(item, shape.value, (*path, key))


def leaves(value: Any, shape: Shape, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Shape]]:
    """(path, shape) of every member of ``value``, containers included, depth first."""
    if path:
        yield path, shape
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                yield from leaves(item, shape.members[key], (*path, key))
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, shape.member, (*path, index))
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, shape.value, (*path, key))


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the item at ``path`` set to ``new`` (or removed where ``new`` is MISSING)."""
    copy = _copy(value)
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    if new is MISSING:
        del holder[path[-1]]
    else:
        holder[path[-1]] = new
    return copy


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


MISSING = object()


def mutations(shape: Shape, rng: random.Random, gen: Generator) -> list[tuple[str, Any]]:
    """(label, new value) of every kind of bad value one member gets (the values drawn by ``rng``)."""
    kinds: list[tuple[str, Any]] = [
        ("missing", MISSING), ("random", gen.value(shape)), ("wrong type", _wrong_type(shape, rng)),
    ]
    if shape.type_name == "string":
        kinds += [("empty", ""), ("huge", HUGE), ("unicode", UNICODE), ("spaces", "  "),
                  ("json", rng.choice(["{", "[]", "null", '{"a": [1, {"b": {}}]}', "1e999", '"x"'])),
                  ("deep json", rng.choice(DEEP_JSON)), ("tricky", rng.choice(TRICKY))]
    if shape.type_name in ("integer", "long"):
        kinds += [("number", rng.choice(NUMBERS)), ("number", rng.choice(NUMBERS))]
    if shape.type_name == "list":
        kinds += [("empty", []), ("many", [gen.value(shape.member) for _ in range(rng.choice([2, 11, 101]))])]
    if shape.type_name == "timestamp":
        kinds += [("far", datetime(9999, 12, 31, tzinfo=timezone.utc)),
                  ("epoch", datetime(1970, 1, 1, tzinfo=timezone.utc))]
    return kinds


def variants(operation: OperationModel, world: World) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, request parameters) of every fuzzed request to ``operation``; seeded."""
    shape = operation.input_shape
    if shape is None:
        yield "no input", {}
        return
    required = shape.required_members
    for seed in SEEDS:
        gen = Generator(f"{operation.name}/{seed}", timestamp_ms=False)
        rng = random.Random(f"{operation.name}/{seed}")
        full = gen.value(shape)
        if operation.name == "PutEvents":  # botocore puts EndpointId in the host name: never sent as is
            full.pop("EndpointId", None)
        yield f"random/{seed}", full
        minimal = {name: full[name] for name in required if name in full}
        yield f"required/{seed}", minimal
        yield f"existing/{seed}", _with_existing(operation, full, world)
        yield f"existing-required/{seed}", _with_existing(operation, minimal, world)
        real = _with_existing(operation, full, world)
        for name in required:
            yield f"missing {name}/{seed}", {key: value for key, value in real.items() if key != name}
        for label, text in (("empty", ""), ("huge", HUGE), ("unicode", UNICODE)):
            yield f"{label}/{seed}", _every(("string",), shape, real, lambda text=text: text)
        yield f"numbers/{seed}", _every(("integer", "long"), shape, real, functools.partial(rng.choice, NUMBERS))
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            yield f"wrong type {name}/{seed}", {**real, name: _wrong_type(member, rng)}
        account, region = FOREIGN[seed % len(FOREIGN)]
        foreign = dict(real)
        for name in shape.members:
            value = real.get(name)
            if isinstance(value, str) and value.startswith("arn:aws:events:"):
                foreign[name] = value.replace(f":{REGION}:", f":{region}:").replace(f":{ACCOUNT}:", f":{account}:")
            elif name == "EventBusName":
                foreign[name] = world.arn("bus", account, region)
        yield f"foreign arns/{seed}", foreign
    base = baseline(shape, world, operation.name)
    yield "baseline", base
    for seed in SEEDS[:1]:
        gen = Generator(f"{operation.name}/leaf/{seed}", timestamp_ms=False)
        rng = random.Random(f"{operation.name}/leaf/{seed}")
        for path, member in list(leaves(base, shape)):
            for kind, new in mutations(member, rng, gen):
                yield f"{'.'.join(map(str, path))} {kind}/{seed}", replaced(base, path, new)
        bare = _with_existing(operation, {name: base[name] for name in required if name in base}, world)
        for path, key, member in list(absent(bare, shape)):
            label = ".".join(map(str, (*path, key)))
            added = baseline(member, world, operation.name, key, len(path) + 1)
            if seed == 0:
                yield f"{label} added", replaced(bare, (*path, key), added)
            for kind, new in mutations(member, rng, gen):
                if new is not MISSING:
                    yield f"{label} added {kind}/{seed}", replaced(bare, (*path, key), new)
    for index, params in enumerate(REGRESSIONS.get(operation.name, ())):
        yield f"regression {index}", params


# --- the checks ------------------------------------------------------------------------------------

def _plain(value: Any, depth: int = 0) -> Any:
    """Provider state as plain data, to compare before and after a request (compiled patterns, locks
    and threads left out: they follow from the rest)."""
    if depth > 12:
        return "..."
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name), depth + 1) for field in dataclasses.fields(value)
                if field.name not in ("pattern", "ruleset")}
    if isinstance(value, dict):
        return {str(key): _plain(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, depth + 1) for item in value]
    if isinstance(value, (str, int, float, bool, type(None), bytes)):
        return value
    return type(value).__name__


def snapshot(provider: Any) -> Any:
    """Everything the EventBridge provider keeps, for every account and Region."""
    state = {}
    for key, store in provider._stores.items():
        with store.lock:
            state[key] = {name: _plain(value) for name, value in vars(store).items() if name != "lock"}
    return state


def difference(before: Any, after: Any, path: str = "") -> str | None:
    """Where two snapshots first differ (a path and both values), or None when they are equal."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            found = difference(before.get(key), after.get(key), f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return next((found for index, (old, new) in enumerate(zip(before, after, strict=True))
                     if (found := difference(old, new, f"{path}[{index}]"))), None)
    return None if before == after else f"{path}: {before!r:.80} -> {after!r:.80}"


@pytest.fixture
def provider(emulator_url: Any, emulator_reset: None) -> Any:
    app = getattr(emulator_url, "app", None)
    if app is None:
        pytest.skip("needs the in-process server")
    return app.registry.get("events")


@pytest.fixture
def clients(aws_client: Callable[..., Any]) -> tuple[Any, Any]:
    """Validating clients of the customer's account and of the partner's, to build the world."""
    return aws_client("events"), aws_client("events", account=PARTNER_ACCOUNT)


@pytest.fixture
def world(clients: tuple[Any, Any], provider: Any, emulator_url: Any) -> World:
    built = create_world(*clients)
    settle(emulator_url)
    return built


def settle(url: Any) -> None:
    """Waits for the work the world's creation left to the delivery workers (the replay runs there and
    changes its state), so that the snapshots around a request see only what the request did."""
    assert url.app.registry.delivery.wait_idle()


@pytest.fixture
def raw(aws_client: Callable[..., Any]) -> Any:
    return aws_client("events", validate=False)


def call(client: Any, operation: str, params: dict[str, Any]) -> tuple[str, Any]:
    """("ok" | "error" | "unsent", detail) of one request; raises what a sent request raised that is no
    ClientError (an answer botocore could not parse)."""
    sent: list[bool] = []

    def mark(**_: Any) -> None:
        sent.append(True)

    client.meta.events.register("before-send.events", mark)
    try:
        method = getattr(client, botocore_name(operation))
        return "ok", method(**params)
    except ClientError as error:
        return "error", error.response
    except Exception:
        if sent:
            raise
        return "unsent", None  # botocore's serializer refused a value of the wrong type
    finally:
        client.meta.events.unregister("before-send.events", mark)


def botocore_name(operation: str) -> str:
    return botocore.xform_name(operation)


def check(operation: OperationModel, label: str, outcome: str, detail: Any) -> str | None:
    """What is wrong with one answer, or None."""
    if outcome != "error":
        return None
    status = detail["ResponseMetadata"]["HTTPStatusCode"]
    code = detail["Error"]["Code"]
    allowed = {shape.name for shape in operation.error_shapes} | COMMON_ERRORS
    if status >= 500:
        return f"{operation.name} [{label}]: {status} {code}: {detail['Error'].get('Message')}"
    if code not in allowed:
        return f"{operation.name} [{label}]: {code} is not an error of the operation"
    return None


@pytest.mark.parametrize("operation_name", OPERATIONS)
def test_no_request_to_an_operation_gets_a_5xx(
    operation_name: str, raw: Any, world: World, provider: Any, clients: tuple[Any, Any], emulator_url: Any,
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.ERROR, logger="emulator")
    died: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(f"{args.thread}: {args.exc_value!r}"))
    operation = MODEL.operation_model(operation_name)
    mutating = not operation_name.startswith(READ_ONLY_PREFIXES)
    problems: list[str] = []
    for label, params in variants(operation, world):
        before = snapshot(provider) if mutating else None
        outcome, detail = call(raw, operation_name, params)
        problem = check(operation, label, outcome, detail)
        if problem:
            problems.append(problem)
        elif mutating and outcome == "error" and (changed := difference(before, snapshot(provider))):
            code = detail["Error"]["Code"]
            problems.append(f"{operation_name} [{label}]: rejected with {code} but changed {changed}")
        crashes = [record for record in caplog.records if record.levelno >= logging.ERROR]
        if crashes:
            problems.append(f"{operation_name} [{label}]: logged {crashes[0].getMessage()}: {crashes[0].exc_text}")
            caplog.clear()
        if died:
            problems.append(f"{operation_name} [{label}]: a thread died: {died[0]}")
            died.clear()
        if outcome == "ok" and operation_name == "PutTargets":  # the targets get an event to render
            raw.put_events(Entries=[{"Source": "fuzz", "DetailType": "d", "Detail": "{}", "EventBusName": bus}
                                    for bus in ("default", world.bus)])
        if outcome == "ok" and mutating:
            _rebuild(emulator_url, world, *clients)
    settle(emulator_url)  # what the requests left to the delivery workers must not fail either
    problems += [f"{operation_name}: logged {record.getMessage()}" for record in caplog.records
                 if record.levelno >= logging.ERROR]
    assert not problems, "\n".join(problems[:20])


def _rebuild(url: Any, world: World, events: Any, partner: Any) -> World:
    """A fresh world: a request that succeeded may have deleted or changed the resources the next
    ones name, so every variant meets the same state."""
    admin(url, "/_emulator/reset?service=events", "POST")
    create_world(events, partner, world)
    settle(url)
    return world


# --- the inputs that crashed the server once -------------------------------------------------------

def _deliveries(url: Any, query: str) -> list[dict[str, Any]]:
    """What the inspection endpoint shows of the deliveries ``query`` selects, once all were made."""
    provider = url.app.registry.get("events")
    if provider._scheduler is not None:
        assert provider._scheduler.wait_idle()
    assert url.app.registry.delivery.wait_idle()
    return admin(url, f"/_emulator/events/deliveries?{query}")["deliveries"]


@pytest.mark.parametrize(("params", "message"), [
    # json.loads raises RecursionError, not ValueError, past its depth: it was a 500.
    ({"Policy": DEEP_JSON[0]}, "The policy is not a valid JSON document."),
    ({"EventBusName": "fuzz-bus", "Policy": DEEP_JSON[1]}, "The policy is not a valid JSON document."),
    ({"Policy": "[]"}, "The policy is not a valid JSON document."),
])
def test_a_policy_nested_too_deep_is_refused_as_invalid_json(
    raw: Any, world: World, provider: Any, params: dict[str, Any], message: str
) -> None:
    before = snapshot(provider)
    outcome, detail = call(raw, "PutPermission", params)
    assert outcome == "error"
    assert (detail["Error"]["Code"], detail["ResponseMetadata"]["HTTPStatusCode"], detail["Error"]["Message"]) == (
        "ValidationException", 400, message)
    assert difference(before, snapshot(provider)) is None


def test_a_rate_longer_than_a_timed_wait_leaves_the_scheduler_running(
    raw: Any, world: World, emulator_url: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scheduler's thread waited for the next tick with a timeout past threading.TIMEOUT_MAX and
    # died of OverflowError: no scheduled rule of any account fired again.
    died: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: died.append(args.exc_value))
    raw.put_rule(Name="forever", ScheduleExpression="rate(99999999999999999999 minutes)")
    raw.put_rule(Name="minutely", ScheduleExpression="rate(1 minute)")
    raw.put_targets(Rule="minutely", Targets=[{"Id": "q", "Arn": world.arns["queue"]}])
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": 180})
    assert len(_deliveries(emulator_url, "rule=minutely")) >= 2
    assert not died
    assert raw.describe_rule(Name="forever")["ScheduleExpression"] == "rate(99999999999999999999 minutes)"


def test_a_template_rendering_json_nested_too_deep_fails_the_delivery_as_invalid_json(
    raw: Any, world: World, emulator_url: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The rendered template's check raised RecursionError on the delivery worker: logged as our bug.
    caplog.set_level(logging.ERROR, logger="emulator")
    template = '{"a": ' + "[" * 3000 + "<d>" + "]" * 3000 + "}"
    raw.put_targets(Rule=world.rule, Targets=[{"Id": "deep", "Arn": world.arns["queue"], "InputTransformer": {
        "InputPathsMap": {"d": "$.detail"}, "InputTemplate": template}}])
    assert raw.put_events(Entries=[{"Source": "fuzz", "DetailType": "d", "Detail": "{}"}])["FailedEntryCount"] == 0
    [entry] = _deliveries(emulator_url, f"rule={world.rule}&target=deep")
    assert entry["state"] == "failed" and entry["attempts"][0]["error"].startswith("INVALID_JSON: ")
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
