"""Server-side validation of a parsed request against the model, with AWS's wording.

boto3 checks only required members and types; other clients check nothing. AWS's services check
required members, lengths, ranges, enums and patterns and answer, in the form their request layer
uses::

    1 validation error detected: Value 'x!' at 'streamName' failed to satisfy constraint: Member must
    satisfy regular expression pattern: [a-zA-Z0-9_.-]+

Several failures are joined with ``; `` and counted. Member paths are the member names with a lower-
case first letter; list elements are ``records.1.member.partitionKey``.
"""

from __future__ import annotations

from typing import Any

from emulator.specs import Shape

_MAX_ERRORS = 10


def validate(shape: Shape, params: dict[str, Any]) -> list[str]:
    """The constraint failures of ``params`` (an input structure), in model order."""
    errors: list[str] = []
    _structure(shape, params, "", errors)
    return errors[:_MAX_ERRORS]


def summary(errors: list[str]) -> str:
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(errors)


def _path(prefix: str, name: str) -> str:
    name = name[:1].lower() + name[1:]
    return f"{prefix}.{name}" if prefix else name


def _render(shape: Shape, value: Any) -> str:
    if value is None:
        return "null"
    if shape.type == "blob":
        size = len(value)
        return f"'java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]'"
    if shape.type == "list":
        return "'[" + ", ".join(str(item) for item in value) + "]'"
    if shape.type == "boolean":
        return f"'{str(value).lower()}'"
    return f"'{value}'"


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
    if kind in ("string", "blob", "list", "map"):
        _length(shape, value, path, errors)
    if kind == "string":
        if shape.enum is not None and value not in shape.enum:
            _fail(errors, shape, value, path, "Member must satisfy enum value set: [" + ", ".join(shape.enum) + "]")
        elif shape.pattern is not None and shape.pattern.fullmatch(value) is None:
            _fail(errors, shape, value, path, f"Member must satisfy regular expression pattern: {shape.raw['pattern']}")
    elif kind in ("integer", "long", "float", "double"):
        if shape.min is not None and value < shape.min:
            _fail(errors, shape, value, path, f"Member must have value greater than or equal to {_number(shape.min)}")
        if shape.max is not None and value > shape.max:
            _fail(errors, shape, value, path, f"Member must have value less than or equal to {_number(shape.max)}")
    elif kind == "list":
        member = shape.member.shape
        for index, item in enumerate(value, 1):
            if item is None:
                _fail(errors, member, None, f"{path}.{index}.member", "Member must not be null")
            else:
                _value(member, item, f"{path}.{index}.member", errors)
    elif kind == "map":
        for key, item in value.items():
            _value(shape.key.shape, key, path, errors)
            if item is not None:
                _value(shape.value.shape, item, f"{path}.{key}", errors)


def _length(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    size = len(value)
    if shape.min is not None and size < shape.min:
        _fail(errors, shape, value, path, f"Member must have length greater than or equal to {_number(shape.min)}")
    if shape.max is not None and size > shape.max:
        _fail(errors, shape, value, path, f"Member must have length less than or equal to {_number(shape.max)}")


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)
