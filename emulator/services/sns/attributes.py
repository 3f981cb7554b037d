"""Message attributes of Publish and PublishBatch: AWS's checks of names, types and values, and the
bytes they add to a message's size.

SNS answers a bad attribute with ``ParameterValueInvalid`` (``InvalidParameterValueException``) in
the words AWS uses for SNS and SQS alike; a ``String.Array`` that is not a JSON array of scalars is
``InvalidParameter``. Names under ``AWS.`` / ``Amazon.`` are AWS's own: only the families SNS reads
(``AWS.SNS.SMS.*``, ``AWS.MM.SMS.*`` for SMS, ``AWS.SNS.MOBILE.*`` for push) may be sent.

Cost: one pass over the attributes, each a few string tests; nothing at all when a message has none.
A ``Number`` is parsed with ``Decimal`` (exact, so AWS's 38 digits and its 10^-128..10^126 range are
checked as AWS states them, which a float could not do).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from emulator.services.sns.common import JSON_ERRORS, invalid, invalid_value

_NAME_MAX_BYTES = 256
_TYPE_MAX_BYTES = 256
_NAME_CHAR = re.compile(r"[^A-Za-z0-9_.\-]")
_RESERVED = ("aws.", "amazon.")
# The reserved names SNS itself reads (SMS settings, push options).
_SNS_OWN = ("AWS.SNS.SMS.", "AWS.MM.SMS.", "AWS.SNS.MOBILE.")
_BASE_TYPES = ("String", "Number", "Binary")
# What AWS accepts as a number's text (Decimal alone would also take "NaN", "Infinity" and "1_0").
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NUMBER_PRECISION = 38
_NUMBER_MIN = Decimal("1e-128")
_NUMBER_MAX = Decimal("1e126")


def validate(attributes: dict[str, dict[str, Any]]) -> int:
    """Checks every attribute as SNS does; returns the bytes they count toward the message size.

    The size is each attribute's name, data type and value (UTF-8 for text, the raw bytes of a
    Binary value), as the API reference counts "all parts of the message attribute".
    """
    size = 0
    for name, attribute in attributes.items():
        _check_name(name)
        data_type = attribute.get("DataType") or ""
        base = _check_type(name, data_type)
        value: Any
        if base == "Binary":
            if attribute.get("StringValue") is not None:
                raise invalid_value(f"The message attribute '{name}' with type '{data_type}' must use field 'Binary'.")
            value = attribute.get("BinaryValue")
            if not value:
                raise _empty(name, data_type)
            size += len(value)
        else:
            if attribute.get("BinaryValue") is not None:
                raise invalid_value(f"The message attribute '{name}' with type '{data_type}' must use field 'String'.")
            value = attribute.get("StringValue")
            if not value:
                raise _empty(name, data_type)
            if base == "Number":
                _check_number(name, value)
            elif data_type == "String.Array":
                _check_array(name, value)
            size += len(value.encode("utf-8"))
        size += len(name.encode("utf-8")) + len(data_type.encode("utf-8"))
    return size


def _check_name(name: str) -> None:
    if not name:
        raise invalid_value("The request must contain non-empty message attribute name.")
    if len(name.encode("utf-8")) > _NAME_MAX_BYTES:
        raise invalid_value("Length of message attribute name must be less than 256 bytes.")
    bad = _NAME_CHAR.search(name)
    if bad is not None:
        raise invalid_value(
            f"Invalid non-alphanumeric character '#x{ord(bad.group()):X}' was found in the message attribute name. "
            "Can only include alphanumeric characters, hyphens, underscores, or dots."
        )
    if name[0] == "." or name[-1] == "." or ".." in name:
        raise invalid_value(
            f"Message attribute name '{name}' is invalid: it must not start or end with a period "
            "and must not have periods in succession."
        )
    if name.lower().startswith(_RESERVED) and not name.startswith(_SNS_OWN):
        raise invalid_value("Message attribute names starting with 'AWS.' or 'Amazon.' are reserved for use by Amazon.")


def _check_type(name: str, data_type: str) -> str:
    """The type's base (String, Number, Binary), or AWS's error for a type of no supported prefix."""
    if len(data_type.encode("utf-8")) > _TYPE_MAX_BYTES:
        raise invalid_value("Length of message attribute type must be less than 256 bytes.")
    base, dot, label = data_type.partition(".")
    if base not in _BASE_TYPES or (dot and not label):
        raise invalid_value(
            f"The message attribute '{name}' has an invalid message attribute type, "
            "the set of supported type prefixes is Binary, Number, and String."
        )
    return base


def _empty(name: str, data_type: str) -> Exception:
    return invalid_value(
        f"The message attribute '{name}' must contain non-empty message attribute value "
        f"for message attribute type '{data_type}'."
    )


def _check_number(name: str, text: str) -> None:
    if _NUMBER.fullmatch(text) is None:
        raise invalid_value(f"Could not cast message attribute '{name}' value to number.")
    try:
        number = Decimal(text)
    except InvalidOperation:  # an exponent beyond Decimal's own range
        number = None
    if number is None or (number and not _NUMBER_MIN <= abs(number) <= _NUMBER_MAX):
        raise invalid_value(f"Message attribute '{name}' number value [{text}] must be between 10^-128 and 10^126.")
    # Trailing zeros are not precision ("Leading and trailing zeroes are trimmed"); normalize() would
    # round to the context's 28 digits, so they are counted off the digits themselves.
    if number and len("".join(map(str, number.as_tuple().digits)).rstrip("0")) > _NUMBER_PRECISION:
        raise invalid_value(
            f"Message attribute '{name}' number value [{text}] must have at most 38 digits of precision."
        )


def _check_array(name: str, text: str) -> None:
    """A String.Array is a JSON array of strings, numbers, true, false or null (no nesting)."""
    try:
        items = json.loads(text)
    except JSON_ERRORS:
        items = None
    if not isinstance(items, list) or any(isinstance(item, (list, dict)) for item in items):
        raise invalid(f"Message attribute '{name}' of type String.Array must be a JSON array of strings, "
                      "numbers, booleans or nulls")
