"""The SNS dialect: subscription filter policies and what they are matched against.

The same compiler as EventBridge, with SNS's operator set and numeric range, then SNS's own
limits: at most 5 keys (every key under the MessageAttributes scope, top-level keys under the
MessageBody scope, per ``$or`` branch), at most 150 value combinations and 256 KB of text.

Combinations are counted per ``$or`` branch and summed over branches. A branch weighs the product,
over its keys, of the key's value count times its nesting depth: SNS's guide multiplies "the number
of nested keys with the values in each array" (``{"a": {"b": {"c": [4 values]}}, "d": {"e": [3
values]}}`` is 3 x 4 x 2 x 3 = 72). Attribute keys cannot nest, so there the depth is always 1.

Messages are turned into one JSON-like document so that one engine matches both scopes:
attributes become ``{name: value}`` (String -> string, Number -> number, String.Array -> list,
Binary attributes left out, as SNS ignores them); a body must be a JSON object, anything else
never matches. Attributes never carry ``null``, so a ``null`` in an attribute policy matches
nothing -- in particular not a message that lacks the attribute (recorded against AWS: only
``{"exists": false}`` matches absence).
"""

from __future__ import annotations

import math
from typing import Any

from .errors import InvalidFilterPolicyError, RuleSyntaxError
from .parse import SNS, RuleCompiler, to_conditions
from .pattern import Pattern
from .strictjson import InvalidJsonError, parse_json_strict

MESSAGE_ATTRIBUTES = "MessageAttributes"
MESSAGE_BODY = "MessageBody"
SCOPES = (MESSAGE_ATTRIBUTES, MESSAGE_BODY)
MAX_KEYS = 5
MAX_COMBINATIONS = 150
MAX_POLICY_BYTES = 256 * 1024

NESTED_IN_ATTRIBUTES = (
    "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"
)


def compile_filter_policy(text: str, scope: str = MESSAGE_ATTRIBUTES) -> Pattern:
    """Validate and compile an SNS filter policy for ``scope``.

    Raises :class:`InvalidFilterPolicyError` (``.message`` is SNS's full text for
    SetSubscriptionAttributes, ``.subscribe_message`` for Subscribe). ``scope`` must be one of
    :data:`SCOPES` (the provider validates FilterPolicyScope itself).
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown filter policy scope {scope!r}")
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        # SNS documents the limit, not its message: emulator's wording.
        raise InvalidFilterPolicyError("Filter policy is too long")
    try:
        compiled = RuleCompiler(text, SNS).compile()
    except RuleSyntaxError as e:
        raise InvalidFilterPolicyError(e.reason) from None
    if scope == MESSAGE_ATTRIBUTES and compiled.nested:
        raise InvalidFilterPolicyError(
            "Filter policy scope MessageAttributes does not support nested filter policy",
            full_message=NESTED_IN_ATTRIBUTES,
        )
    total = 0
    for sub in compiled.subrules:
        if scope == MESSAGE_ATTRIBUTES:
            keys = sub.keys()
            weight = math.prod(count for _m, _a, count in sub.values())
        else:
            keys = {p.split(".", 1)[0] for p in sub}
            weight = math.prod(_depth(path) * count for path, (_m, _a, count) in sub.items())
        if len(keys) > MAX_KEYS:
            raise InvalidFilterPolicyError("Filter policy can not have more than 5 keys")
        total += weight
        if total > MAX_COMBINATIONS:
            raise InvalidFilterPolicyError("Filter policy is too complex")
    subrules = tuple(to_conditions(sub) for sub in compiled.subrules)
    return Pattern(dialect="sns", text=text, subrules=subrules, scope=scope)


def _depth(path: str) -> int:
    """How many keys deep a body path sits (``a.b.c`` -> 3).

    Read from the compiled path, so a dotted key (``"a.b": [...]``) weighs as the nesting it
    stands for, as it also does for the top-level key count above.
    """
    return path.count(".") + 1


def _number(text: str) -> int | float | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        pass
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def attributes_document(attributes: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """SNS message attributes (``{name: {"DataType": ..., "StringValue": ...}}``) as a document."""
    doc: dict[str, Any] = {}
    for name, attr in (attributes or {}).items():
        data_type = str(attr.get("DataType", ""))
        base = data_type.split(".", 1)[0]
        raw = attr.get("StringValue")
        if data_type == "String.Array":
            try:
                value = parse_json_strict(raw) if isinstance(raw, str) else None
            except InvalidJsonError:
                continue
            if isinstance(value, list):
                doc[name] = value
        elif base == "String" and isinstance(raw, str):
            doc[name] = raw
        elif base == "Number" and isinstance(raw, str):
            number = _number(raw)
            if number is not None:
                doc[name] = number
        # Binary (and anything unknown) is ignored by SNS filtering.
    return doc


def body_document(body: str | None) -> dict[str, Any] | None:
    """A message body as a document, or None when it is not a JSON object (never matches).

    Strict JSON (``strictjson``): a body holding ``NaN`` or ``Infinity`` is not a JSON body.
    """
    if not isinstance(body, str):
        return None
    try:
        value = parse_json_strict(body)
    except InvalidJsonError:
        return None
    return value if isinstance(value, dict) else None


def message_document(scope: str, *, message_attributes: dict[str, dict[str, Any]] | None = None,
                     message_body: str | None = None) -> dict[str, Any] | None:
    """What a policy of ``scope`` is matched against (None: nothing can match)."""
    if scope == MESSAGE_BODY:
        return body_document(message_body)
    return attributes_document(message_attributes)


def filter_policy_matches(pattern: Pattern, *, message_attributes: dict[str, dict[str, Any]] | None = None,
                          message_body: str | None = None) -> bool:
    """Does a published message pass the subscription's filter policy?"""
    doc = message_document(pattern.scope or MESSAGE_ATTRIBUTES, message_attributes=message_attributes,
                           message_body=message_body)
    return doc is not None and pattern.matches(doc)
