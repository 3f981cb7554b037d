"""botocore's service models, loaded lazily and turned into shape plans once.

The models (``botocore/data/<service>/<version>/service-2.json.gz``) are the spec of every
operation, shape and constraint. They are read straight from botocore's data directory, without
importing botocore's client machinery, so that start-up stays fast; each model is loaded on first
use and every shape is built once and cached.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import threading
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

_CAPS_RUN = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_PLURAL_ACRONYM = re.compile(r"([A-Z]{2,})s$")


@cache
def snake_case(name: str) -> str:
    """``PutRecord`` -> ``put_record``, ``StreamARN`` -> ``stream_arn``: the names boto3 uses."""
    if "_" in name:
        return name
    # A trailing plural acronym (``ARNs``) stays one word, as boto3 names it.
    name = _PLURAL_ACRONYM.sub(lambda m: "_" + m.group(1).lower() + "s", name)
    text = _CAPS_RUN.sub(r"\1_\2", name)
    text = _LOWER_UPPER.sub(r"\1_\2", text)
    return text.lower().lstrip("_")


def _data_dir() -> str:
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "data")


def _read_model(service: str) -> dict[str, Any]:
    service_dir = os.path.join(_data_dir(), service)
    version = sorted(os.listdir(service_dir))[-1]
    base = os.path.join(service_dir, version, "service-2.json")
    if os.path.exists(base + ".gz"):
        with gzip.open(base + ".gz", "rb") as fh:
            return json.load(fh)
    with open(base, "rb") as fh:
        return json.load(fh)


@dataclass(eq=False)
class Member:
    """A reference to a shape from a structure, list or map, with the reference's own wire traits."""

    name: str
    shape: Shape
    location_name: str | None = None
    flattened: bool = False

    @property
    def wire_name(self) -> str:
        return self.location_name or self.name


@dataclass(eq=False)
class Shape:
    name: str
    type: str
    raw: dict[str, Any] = field(repr=False)
    spec: ServiceSpec = field(repr=False)

    @cached_property
    def members(self) -> dict[str, Member]:
        return {name: self.spec.member(name, ref) for name, ref in self.raw.get("members", {}).items()}

    @cached_property
    def required(self) -> frozenset[str]:
        return frozenset(self.raw.get("required", ()))

    @cached_property
    def member(self) -> Member:
        return self.spec.member("member", self.raw["member"])

    @cached_property
    def key(self) -> Member:
        return self.spec.member("key", self.raw["key"])

    @cached_property
    def value(self) -> Member:
        return self.spec.member("value", self.raw["value"])

    @property
    def min(self) -> float | None:
        return self.raw.get("min")

    @property
    def max(self) -> float | None:
        return self.raw.get("max")

    @property
    def enum(self) -> list[str] | None:
        return self.raw.get("enum")

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        text = self.raw.get("pattern")
        return _compile_pattern(text) if text else None

    @property
    def flattened(self) -> bool:
        return bool(self.raw.get("flattened"))

    @property
    def is_exception(self) -> bool:
        return bool(self.raw.get("exception"))

    @property
    def is_event_stream(self) -> bool:
        return bool(self.raw.get("eventstream"))

    @property
    def is_document(self) -> bool:
        return bool(self.raw.get("document"))

    @cached_property
    def constrained(self) -> bool:
        """Whether a value of this shape can fail validation (so unconstrained ones are not walked)."""
        return self._constrained(set())

    def _constrained(self, seen: set[str]) -> bool:
        if self.name in seen:
            return False
        seen.add(self.name)
        raw = self.raw
        if any(key in raw for key in ("min", "max", "enum", "pattern")) or raw.get("required"):
            return True
        if self.type == "structure":
            return not self.is_document and any(m.shape._constrained(seen) for m in self.members.values())
        if self.type == "list":
            return self.member.shape._constrained(seen)
        if self.type == "map":
            return True  # a null value is always a failure
        return False

    @cached_property
    def event_stream_member(self) -> str | None:
        """The member of an output structure that carries an event stream (SubscribeToShard)."""
        for name, member in self.members.items():
            if member.shape.is_event_stream:
                return name
        return None

    @cached_property
    def error_code(self) -> str:
        """The code the wire carries for this error shape (the query protocol may rename it)."""
        return (self.raw.get("error") or {}).get("code") or self.name

    @cached_property
    def error_status(self) -> int:
        status = (self.raw.get("error") or {}).get("httpStatusCode")
        if status:
            return int(status)
        return 500 if self.raw.get("fault") else 400

    @property
    def sender_fault(self) -> bool:
        return not self.raw.get("fault") and (self.raw.get("error") or {}).get("httpStatusCode", 400) < 500


# Java's Unicode classes, which Python's ``re`` lacks. Inside a character class, as the models use
# them, ``\\p{L}`` with ``\\p{N}`` is Python's Unicode ``\\w`` (letters, numbers, underscore); ``\\p{Z}`` is
# the separators, listed.
_JAVA_CLASSES = {
    r"\p{L}": r"\w",
    r"\p{N}": r"\d",
    r"\p{Z}": "\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
}


def _compile_pattern(text: str) -> re.Pattern[str] | None:
    """Model patterns are Java regular expressions, matched (by ``fullmatch``) against the whole value.

    Java's ``\\d``, ``\\w`` and ``\\s`` are ASCII-only, so patterns compile with ``re.ASCII``, except the
    few that use Unicode classes (``\\p{...}``), which are spelled out as above.
    """
    flags = re.ASCII
    if r"\p{" in text:
        flags = 0
        for java, python in _JAVA_CLASSES.items():
            text = text.replace(java, python)
    try:
        return re.compile(text, flags)
    except re.error:
        return None


@dataclass(eq=False)
class Operation:
    name: str
    input: Shape | None
    output: Shape | None
    result_wrapper: str | None
    errors: list[Shape]


class ServiceSpec:
    """One service's model: operations and shapes, each built once."""

    def __init__(self, service: str, model: dict[str, Any]) -> None:
        self.service = service
        self.model = model
        self.metadata: dict[str, Any] = model["metadata"]
        self.protocol: str = self.metadata["protocol"]
        self.api_version: str = self.metadata["apiVersion"]
        self.target_prefix: str | None = self.metadata.get("targetPrefix")
        self.json_version: str = self.metadata.get("jsonVersion", "1.1")
        self.xml_namespace: str | None = self.metadata.get("xmlNamespace")
        self.operation_names: list[str] = list(model["operations"])
        self._shapes: dict[str, Shape] = {}
        self._operations: dict[str, Operation] = {}
        self._lock = threading.Lock()

    def shape(self, name: str) -> Shape:
        shape = self._shapes.get(name)
        if shape is None:
            raw = self.model["shapes"][name]
            shape = self._shapes.setdefault(name, Shape(name, raw["type"], raw, self))
        return shape

    def member(self, name: str, ref: dict[str, Any]) -> Member:
        return Member(
            name=name,
            shape=self.shape(ref["shape"]),
            location_name=ref.get("locationName"),
            flattened=bool(ref.get("flattened")),
        )

    def operation(self, name: str) -> Operation | None:
        op = self._operations.get(name)
        if op is None:
            raw = self.model["operations"].get(name)
            if raw is None:
                return None
            output = raw.get("output") or {}
            op = Operation(
                name=name,
                input=self.shape(raw["input"]["shape"]) if raw.get("input") else None,
                output=self.shape(output["shape"]) if output.get("shape") else None,
                result_wrapper=output.get("resultWrapper"),
                errors=[self.shape(ref["shape"]) for ref in raw.get("errors", ())],
            )
            self._operations[name] = op
        return op

    @cached_property
    def errors_by_code(self) -> dict[str, Shape]:
        """Error shapes by the name a provider raises them with and by their wire code."""
        found: dict[str, Shape] = {}
        for name, raw in self.model["shapes"].items():
            if raw.get("exception"):
                shape = self.shape(name)
                found[name] = shape
                found.setdefault(shape.error_code, shape)
        return found


_specs: dict[str, ServiceSpec] = {}
_specs_lock = threading.Lock()


def load(service: str) -> ServiceSpec:
    """The model of ``service`` (events, sns, kinesis), loaded on first use."""
    spec = _specs.get(service)
    if spec is None:
        with _specs_lock:
            spec = _specs.get(service)
            if spec is None:
                spec = ServiceSpec(service, _read_model(service))
                _specs[service] = spec
    return spec
