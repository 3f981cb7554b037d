"""Server-side validation of a parsed request against the model, with AWS's wording.

boto3 checks only required members and types; other clients check nothing. AWS's services check
required members, lengths, ranges, enums and patterns and answer, in the form their request layer
uses::

    1 validation error detected: Value 'x!' at 'streamName' failed to satisfy constraint: Member must
    satisfy regular expression pattern: [a-zA-Z0-9_.-]+

Several failures are joined with ``; `` and counted. Member paths are the member names with a lower-
case first letter. Only a list of structures gets a path per element (``records.1.member.partitionKey``);
a list of scalars, and a map's keys and values, are reported once at the collection's path, with every
constraint any of its elements broke::

    Value '{=1}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must
    have length greater than or equal to 1]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.specs import Shape

_MAX_ERRORS = 10


def validate(shape: Shape, params: dict[str, Any]) -> list[str]:
    """The constraint failures of ``params`` (an input structure), in model order."""
    check = _checker(shape)
    if check is None or check(params):
        return []  # the common case, answered by the shape's compiled check
    errors: list[str] = []
    _structure(shape, params, "", errors)
    return errors[:_MAX_ERRORS]


# -- compiled checks: whether a value is valid, without saying why ---------------------------------
#
# Each shape is compiled once into a function that answers True for a valid value (None: every value
# is valid). Only a request that fails it is walked again below to word its errors.

Check = Callable[[Any], bool]
_checks: dict[int, Check | None] = {}


def _checker(shape: Shape) -> Check | None:
    key = id(shape)  # shapes are made once per model and live as long as it
    if key in _checks:
        return _checks[key]
    _checks[key] = lambda value: _checks[key](value)  # type: ignore[misc]  # for recursive shapes
    found = _checks[key] = _build_check(shape)
    return found


def _build_check(shape: Shape) -> Check | None:
    kind = shape.type
    low, high = shape.min, shape.max
    if kind == "structure":
        if shape.is_document:
            return None
        required = [name for name in shape.members if name in shape.required]
        members = [(name, check) for name, m in shape.members.items() if (check := _checker(m.shape)) is not None]
        if not required and not members:
            return None
        return _structure_check(required, members)
    if kind in ("integer", "long", "float", "double"):
        if low is None and high is None:
            return None
        return lambda value: (low is None or value >= low) and (high is None or value <= high)
    sized = _size_check(low, high, java_length if kind == "string" else len)
    if kind == "blob":
        return sized
    if kind == "string":
        enum = frozenset(shape.enum) if shape.enum is not None else None
        pattern = shape.pattern
        if sized is None and enum is None and pattern is None:
            return None

        def string(value: str) -> bool:
            if sized is not None and not sized(value):
                return False
            if enum is not None:
                return value in enum
            return pattern is None or pattern.fullmatch(value) is not None

        return string
    if kind == "list":
        element = _checker(shape.member.shape)

        def list_(value: list[Any]) -> bool:
            if sized is not None and not sized(value):
                return False
            if None in value:
                return False
            return element is None or all(element(item) for item in value)

        return list_
    if kind == "map":
        key_check, value_check = _checker(shape.key.shape), _checker(shape.value.shape)

        def map_(value: dict[str, Any]) -> bool:
            if sized is not None and not sized(value):
                return False
            if key_check is not None and not all(key_check(key) for key in value):
                return False
            if None in value.values():
                return False
            return value_check is None or all(value_check(item) for item in value.values())

        return map_
    return None


def _structure_check(required: list[str], members: list[tuple[str, Check]]) -> Check:
    """A structure's check as straight-line code (as the JSON protocol writes its decoders)."""
    lines = ["def check(value):", "    get = value.get"]
    namespace: dict[str, Any] = {}
    for name in required:
        lines += [f"    if get({name!r}) is None:", "        return False"]
    for index, (name, check) in enumerate(members):
        namespace[f"check_{index}"] = check
        lines += [
            f"    item = get({name!r})",
            f"    if item is not None and not check_{index}(item):",
            "        return False",
        ]
    lines.append("    return True")
    exec("\n".join(lines), namespace)  # member names are the model's, written as literals by repr()
    return namespace["check"]


def _size_check(low: float | None, high: float | None, size: Callable[[Any], int] = len) -> Check | None:
    if low is None and high is None:
        return None
    return lambda value: (low is None or size(value) >= low) and (high is None or size(value) <= high)


def java_length(text: str) -> int:
    """A string's length as AWS's Java services count it: in UTF-16 code units (an emoji is two)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def summary(errors: list[str]) -> str:
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(errors)


def _path(prefix: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{prefix}.{name}" if prefix else name


_MAX_RENDERED = 1024  # characters of a value quoted in a message; a 10 MiB request is not echoed back


def _render(shape: Shape, value: Any) -> str:
    """A value as AWS's Java services print it in a message: ``'abc'``, ``null``, ``'[a, b]'``."""
    if value is None:
        return "null"
    text = _java_text(value)
    if len(text) > _MAX_RENDERED:
        text = text[:_MAX_RENDERED] + "..."
    return f"'{text}'"


def _java_text(value: Any) -> str:
    """Java's ``toString`` of a value: byte buffers, lists and maps as the JDK writes them."""
    if value is None:
        return "null"
    if isinstance(value, (bytes, bytearray)):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={_java_text(item)}" for key, item in value.items()) + "}"
    return str(value)


def _fail(errors: list[str], shape: Shape, value: Any, path: str, constraint: str) -> None:
    errors.append(
        f"Value {_render(shape, value)} at '{path}' failed to satisfy constraint: {constraint}"
    )


def _structure(shape: Shape, value: dict[str, Any], prefix: str, errors: list[str]) -> None:
    required = shape.required
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            if name in required:
                _fail(errors, member.shape, None, _path(prefix, name), "Member must not be null")
            continue
        if member.shape.constrained:
            _value(member.shape, item, _path(prefix, name), errors)


def _value(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    kind = shape.type
    if kind == "structure":
        if not shape.is_document:
            _structure(shape, value, path, errors)
        return
    if kind in ("list", "map"):
        _length(shape, value, path, errors)
        _collection(shape, value, path, errors)
        return
    for constraint in _scalar_failures(shape, value):
        _fail(errors, shape, value, path, constraint)


def _scalar_failures(shape: Shape, value: Any) -> list[str]:
    """The constraints a string, blob or number breaks, worded as AWS words them."""
    kind = shape.type
    failures: list[str] = []
    if kind in ("string", "blob"):
        size = java_length(value) if isinstance(value, str) else len(value)
        if shape.min is not None and size < shape.min:
            failures.append(f"Member must have length greater than or equal to {_number(shape.min)}")
        if shape.max is not None and size > shape.max:
            failures.append(f"Member must have length less than or equal to {_number(shape.max)}")
    if kind == "string":
        if shape.enum is not None and value not in shape.enum:
            failures.append("Member must satisfy enum value set: [" + ", ".join(enum_order(shape)) + "]")
        elif shape.pattern is not None and shape.pattern.fullmatch(value) is None:
            failures.append(f"Member must satisfy regular expression pattern: {shape.raw['pattern']}")
    elif kind in ("integer", "long", "float", "double"):
        if shape.min is not None and value < shape.min:
            failures.append(f"Member must have value greater than or equal to {_number(shape.min)}")
        if shape.max is not None and value > shape.max:
            failures.append(f"Member must have value less than or equal to {_number(shape.max)}")
    return failures


def _collection(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    """A list's elements or a map's keys and values: structures one by one at their own paths,
    anything else as one failure at the collection's path listing the constraints broken."""
    if shape.type == "list":
        member = shape.member.shape
        if member.type == "structure":
            for index, item in enumerate(value, 1):
                if item is None:
                    _fail(errors, member, None, f"{path}.{index}.member", "Member must not be null")
                else:
                    _value(member, item, f"{path}.{index}.member", errors)
            return
        _grouped(errors, shape, value, path, "Member must satisfy constraint", member, value)
        return
    _grouped(errors, shape, value, path, "Map keys must satisfy constraint", shape.key.shape, list(value))
    member = shape.value.shape
    if member.type == "structure":
        for key, item in value.items():
            if item is None:
                _fail(errors, member, None, f"{path}.{key}", "Member must not be null")
            else:
                _value(member, item, f"{path}.{key}", errors)
        return
    _grouped(errors, shape, value, path, "Map value must satisfy constraint", member, list(value.values()))


def _grouped(
    errors: list[str], shape: Shape, value: Any, path: str, lead: str, member: Shape, items: list[Any]
) -> None:
    broken: dict[str, None] = {}  # an ordered set
    for item in items:
        if item is None:
            broken["Member must not be null"] = None
        elif member.type in ("list", "map"):
            inner: list[str] = []
            _length(member, item, path, inner)
            _collection(member, item, path, inner)
            broken.update((error.split("failed to satisfy constraint: ", 1)[1], None) for error in inner)
        elif member.constrained:
            broken.update((failure, None) for failure in _scalar_failures(member, item))
    if broken:
        _fail(errors, shape, value, path, f"{lead}: [" + ", ".join(_aws_order(broken)) + "]")


def _aws_order(constraints: dict[str, None]) -> list[str]:
    """The broken constraints in the order AWS lists them: upper bounds before lower ones."""
    return sorted(constraints, key=lambda text: "less than" not in text)  # a stable sort


# The order AWS prints some enums' value sets in, which is not the model's; used while the model's
# values are the same set (a model that adds a value falls back to its own order).
_AWS_ENUM_ORDER: dict[str, tuple[str, ...]] = {
    "ShardIteratorType": ("AFTER_SEQUENCE_NUMBER", "LATEST", "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON"),
    "MetricsName": (
        "IncomingBytes", "OutgoingRecords", "IteratorAgeMilliseconds", "IncomingRecords",
        "ReadProvisionedThroughputExceeded", "WriteProvisionedThroughputExceeded", "OutgoingBytes", "ALL",
    ),
    "EncryptionType": ("KMS", "NONE"),
}


def enum_order(shape: Shape) -> list[str]:
    values = shape.enum or []
    known = _AWS_ENUM_ORDER.get(shape.name)
    if known is not None and frozenset(known) == frozenset(values):
        return list(known)
    return list(values)


def _length(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    """A list's or map's own size against the model's bounds."""
    if shape.min is not None and len(value) < shape.min:
        _fail(errors, shape, value, path, f"Member must have length greater than or equal to {_number(shape.min)}")
    if shape.max is not None and len(value) > shape.max:
        _fail(errors, shape, value, path, f"Member must have length less than or equal to {_number(shape.max)}")


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)
