"""The EventBridge dialect: event patterns for rules and ``TestEventPattern``."""

from __future__ import annotations

from typing import Any

from .errors import InvalidEventPatternError, RuleSyntaxError
from .parse import EVENTBRIDGE, Compiled, RuleCompiler, to_conditions
from .pattern import Pattern
from .strictjson import InvalidJsonError, parse_json_strict
from .wildcard import TOO_COMPLEX, WILDCARD_COMPLEXITY_LIMIT, wildcard_complexity

# TestEventPattern's event must be an AWS event envelope; AWS names these fields as mandatory.
REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")
INVALID_EVENT_MESSAGE = "Parameter Event is not valid."


class InvalidTestEventError(ValueError):
    """TestEventPattern's ``Event`` is not an event: answer ``ValidationException`` with
    ``INVALID_EVENT_MESSAGE``."""

    def __init__(self) -> None:
        super().__init__(INVALID_EVENT_MESSAGE)
        self.message = INVALID_EVENT_MESSAGE


def compile_event_pattern(text: str) -> Pattern:
    """Validate and compile an EventBridge event pattern.

    Raises :class:`InvalidEventPatternError` (``.message`` is AWS's full text). The 4096-character
    limit of the ``EventPattern`` member is the protocol layer's to enforce.
    """
    try:
        compiled = RuleCompiler(text, EVENTBRIDGE).compile()
        _check_wildcards(compiled)
    except RuleSyntaxError as e:
        raise InvalidEventPatternError(e.reason) from None
    subrules = tuple(to_conditions(sub) for sub in compiled.subrules)
    return Pattern(dialect="eventbridge", text=text, subrules=subrules)


def _check_wildcards(compiled: Compiled) -> None:
    """AWS refuses rules whose wildcards could keep too many matches in flight at once.

    Complexity is a property of one field's machine in AWS's engine, which adds a sub-rule's
    fields in key order and shares the states of sub-rules (``$or`` branches) that agree on every
    earlier field. So the wildcard values (``wildcard`` and ``anything-but``/``wildcard``) are
    grouped by that position -- the earlier fields with their values, and the field -- and each
    group is measured on its own (``wildcard.py`` says how).
    """
    machines: dict[tuple, list[tuple[str, ...]]] = {}
    for sub in compiled.subrules:
        before: list[tuple] = []
        for path in sorted(sub):
            matchers, absent, _count = sub[path]
            values = [m.arg for m in matchers if m.kind == "wildcard"]
            values += [segs for m in matchers if m.kind == "ab_wildcard" for segs in m.arg]
            if values:
                machines.setdefault((tuple(before), path), []).extend(values)
            before.append((path, matchers, absent))
    for values in machines.values():
        if wildcard_complexity(values) >= WILDCARD_COMPLEXITY_LIMIT:
            raise RuleSyntaxError(TOO_COMPLEX)


def event_matches(pattern: Pattern, event: Any) -> bool:
    """TestEventPattern's answer for a decoded event."""
    return pattern.matches(event)


def parse_test_event(text: str) -> dict[str, Any]:
    """Decode TestEventPattern's ``Event``; it must be a JSON object with the envelope fields.

    Strict JSON: ``NaN`` and ``Infinity`` are not JSON, and AWS answers them as an invalid event.
    """
    try:
        event = parse_json_strict(text)
    except InvalidJsonError:
        raise InvalidTestEventError() from None
    if type(event) is not dict or any(f not in event for f in REQUIRED_EVENT_FIELDS):
        raise InvalidTestEventError()
    return event


def test_event_pattern(event_pattern: str, event: str) -> bool:
    """The whole TestEventPattern operation: ``{"Result": test_event_pattern(...)}``.

    Raises :class:`InvalidEventPatternError` for the pattern (checked first) and
    :class:`InvalidTestEventError` for the event.
    """
    pattern = compile_event_pattern(event_pattern)
    return pattern.matches(parse_test_event(event))


test_event_pattern.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
