"""What a target receives: the event, ``Input``, ``InputPath``, or an ``InputTransformer``'s output;
and the checks PutTargets makes of them.

Four forms, at most one set per target (PutTargets refuses two):

* nothing: the event as compact JSON;
* ``Input``: a JSON text sent as is (checked at PutTargets with AWS's Jackson-located message);
* ``InputPath``: the part of the event one JSONPath selects, as compact JSON;
* ``InputTransformer``: ``InputPathsMap`` names up to 100 values of the event (model-checked: the
  key pattern ``[A-Za-z0-9_-]+`` has no dot, so a key can never shadow ``aws.events.*``), and
  ``InputTemplate`` places them. A template whose text starts with ``{`` is a *JSON template*:
  a placeholder outside quotes becomes the value's JSON (a string gains quotes), one inside quotes
  the value's bare text. Any other template is a *string template*, where every placeholder takes
  the bare text. Extracted text is never escaped, a path that matches nothing leaves its
  placeholder empty, and a JSON template whose result is not JSON fails the delivery
  (``TransformError``, whose reason the delivery log records); a valid one is sent minified.

Why a JSONPath of our own: AWS evaluates a small subset (``$``, ``.name``, ``[index]``, ``*``
wildcards, and for ``InputPath`` also ``['name']``) and refuses the rest at PutTargets; a JSONPath
library would accept more than AWS does (filters, slices, deep scans) and be a new dependency.

Cost: templates and paths are compiled once and cached by their text, so rendering is a walk of a
few dict lookups per placeholder plus one join; only JSON templates pay a parse of the result.
Nothing here touches state or locks: ``render`` runs on the delivery workers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from emulator.patterns.errors import RuleSyntaxError
from emulator.patterns.jsonscan import END_ARRAY, END_OBJECT, START_ARRAY, START_OBJECT, JsonTokens
from emulator.services.events.common import ValidationException

RULE_ARN = "aws.events.rule-arn"
RULE_NAME = "aws.events.rule-name"
EVENT = "aws.events.event"
EVENT_JSON = "aws.events.event.json"
INGESTION_TIME = "aws.events.event.ingestion-time"
PREDEFINED = frozenset((RULE_ARN, RULE_NAME, EVENT, EVENT_JSON, INGESTION_TIME))

# "<" and ">" cannot be escaped in a template: whatever looks like <name> is a placeholder.
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_MAX_SOURCE = 500  # Jackson echoes at most 500 characters of the source in a location

_MISSING: Any = object()  # a path that matched nothing


class TransformError(ValueError):
    """The input could not be produced; the delivery fails with this reason, as on AWS."""


# ----------------------------------------------------------------------------------- JSONPath

class InvalidPath(ValueError):
    """A JSONPath outside AWS's subset."""


@dataclass(frozen=True)
class JsonPath:
    """A compiled path: steps are str (a member), int (an index) or None (the ``*`` wildcard)."""

    steps: tuple[str | int | None, ...]

    @property
    def definite(self) -> bool:
        """A path without wildcards selects one value (or none); one with them a list."""
        return None not in self.steps

    def select(self, document: Any) -> Any:
        """The value the path selects, a list of them for a wildcard path, or ``_MISSING``."""
        found = [document]
        for step in self.steps:
            found = [child for node in found for child in _children(node, step)]
            if not found:
                break
        if self.definite:
            return found[0] if found else _MISSING
        return found


def _children(node: Any, step: str | int | None) -> list[Any]:
    if step is None:
        if isinstance(node, dict):
            return list(node.values())
        return list(node) if isinstance(node, list) else []
    if isinstance(step, int):
        return [node[step]] if isinstance(node, list) and step < len(node) else []
    return [node[step]] if isinstance(node, dict) and step in node else []


_NAME = r"[^.\[\]'\"*?()\s,]+"
_STEP = re.compile(rf"\.({_NAME})|\.(\*)|\[([0-9]+)\]|\[(\*)\]|\['({_NAME})'\]")


@lru_cache(maxsize=2048)
def compile_path(text: str, *, brackets: bool = True) -> JsonPath:
    """AWS's subset: ``$`` then ``.name``, ``.*``, ``[n]``, ``[*]``; ``['name']`` only where
    ``brackets`` (``InputPath``; the ``InputPathsMap`` documentation requires dot notation)."""
    if not text.startswith("$"):
        raise InvalidPath(text)
    steps: list[str | int | None] = []
    pos = 1
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None:
            raise InvalidPath(text)
        name, dot_star, index, bracket_star, quoted = match.groups()
        if quoted is not None and not brackets:
            raise InvalidPath(text)
        if name is not None or quoted is not None:
            steps.append(name if name is not None else quoted)
        elif index is not None:
            steps.append(int(index))
        else:
            steps.append(None)
        pos = match.end()
    return JsonPath(tuple(steps))


# ----------------------------------------------------------------------------------- templates

@dataclass(frozen=True)
class Template:
    """A compiled InputTemplate: literal text between placeholders.

    ``parts`` alternates literals and placeholders: ``(text, None)`` or ``(name, quoted)`` where
    ``quoted`` says the placeholder sits inside a JSON string (always True in a string template).
    """

    is_json: bool
    parts: tuple[tuple[str, bool | None], ...]

    @property
    def placeholders(self) -> list[str]:
        return [text for text, quoted in self.parts if quoted is not None]


@lru_cache(maxsize=512)
def compile_template(text: str) -> Template:
    """Splits the template once; in a JSON template tracks whether each placeholder is inside a
    string literal (a backslash escapes the next character there)."""
    is_json = text.strip().startswith("{")
    parts: list[tuple[str, bool | None]] = []
    in_string = False
    literal_start = 0
    pos = 0
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch == "<":
            match = _PLACEHOLDER.match(text, pos)
            if match is not None:
                if pos > literal_start:
                    parts.append((text[literal_start:pos], None))
                parts.append((match.group(1), in_string or not is_json))
                pos = literal_start = match.end()
                continue
        elif is_json and ch == '"':
            in_string = not in_string
        elif is_json and in_string and ch == "\\":
            pos += 1
        pos += 1
    if literal_start < n:
        parts.append((text[literal_start:], None))
    return Template(is_json, tuple(parts))


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _bare(value: Any) -> str:
    """The value's text where it is inserted as is (string templates, inside JSON strings)."""
    if value is _MISSING:
        return ""
    return value if isinstance(value, str) else _compact(value)


def _as_json(value: Any) -> str:
    """The value in a JSON position: a string is quoted but, as on AWS, not escaped."""
    if value is _MISSING:
        return ""
    return f'"{value}"' if isinstance(value, str) else _compact(value)


def _minify(text: str) -> str:
    """Drops the whitespace outside strings of a text already known to be JSON, so numbers and
    strings reach the target exactly as the template and the event spelled them."""
    out: list[str] = []
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch not in " \t\n\r":
            out.append(ch)
    return "".join(out)


# ----------------------------------------------------------------------------------- rendering

def render(target: dict[str, Any], event: dict[str, Any], rule_arn: str, rule_name: str,
           ingestion_time: str) -> str:
    """The text the target receives for ``event`` (the event's JSON without Input settings). Raises
    ``TransformError`` (with the reason the delivery log shows) when a template cannot produce what
    AWS would send (e.g. invalid JSON for a JSON template)."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath") is not None:
        value = compile_path(target["InputPath"]).select(event)
        # Unconfirmed on AWS: what a path that matches nothing delivers; JSON null keeps every
        # target's payload valid JSON.
        return "null" if value is _MISSING else _compact(value)
    transformer = target.get("InputTransformer")
    if transformer is None:
        return _compact(event)
    template = compile_template(transformer["InputTemplate"])
    paths = transformer.get("InputPathsMap") or {}
    values: dict[str, Any] = {}
    out: list[str] = []
    for text, quoted in template.parts:
        if quoted is None:
            out.append(text)
            continue
        if text not in values:
            values[text] = _value(text, paths, event, rule_arn, rule_name, ingestion_time)
        out.append(_bare(values[text]) if quoted else _as_json(values[text]))
    result = "".join(out)
    if not template.is_json:
        return result
    try:
        json.loads(result)
    except (ValueError, RecursionError) as error:  # RecursionError: nested deeper than the decoder goes
        raise TransformError(
            f"InputTemplate for target {target.get('Id')} did not produce valid JSON ({error}): {result}"
        ) from None
    return _minify(result)


def _value(name: str, paths: dict[str, str], event: dict[str, Any], rule_arn: str, rule_name: str,
           ingestion_time: str) -> Any:
    if name in paths:
        return compile_path(paths[name], brackets=False).select(event)
    if name == RULE_ARN:
        return rule_arn
    if name == RULE_NAME:
        return rule_name
    if name == INGESTION_TIME:
        return ingestion_time
    if name == EVENT or name == EVENT_JSON:
        return event
    return _MISSING  # refused at PutTargets; kept empty should a stored target still hold one


# ----------------------------------------------------------------------------------- PutTargets

def validate_target_input(target: dict[str, Any]) -> None:
    """PutTargets' checks of one target's Input / InputPath / InputTransformer (at most one of them;
    valid JSON Input; JSONPath syntax; the template's placeholders), raising ``ValidationException``
    with AWS's message. Lengths, the 100-entry map and its key pattern are the model's checks,
    made before the provider runs."""
    target_id = target.get("Id")
    given = [name for name in ("Input", "InputPath", "InputTransformer") if target.get(name) is not None]
    if len(given) > 1:
        raise ValidationException(
            f"Only one of Input, InputPath, or InputTransformer must be provided for target {target_id}."
        )
    if target.get("Input") is not None:
        _check_json_input(target["Input"], target_id)
    if target.get("InputPath") is not None:
        _check_path(target["InputPath"], target_id, brackets=True)
    transformer = target.get("InputTransformer")
    if transformer is not None:
        paths = transformer.get("InputPathsMap") or {}
        for path in paths.values():
            _check_path(path, target_id, brackets=False)
        template = compile_template(transformer["InputTemplate"])
        for name in template.placeholders:
            if name not in paths and name not in PREDEFINED:
                raise ValidationException(
                    f"InputTemplate for target {target_id} contains invalid placeholder {name}."
                )
            if name == EVENT_JSON and not template.is_json:
                raise ValidationException(
                    f"InputTemplate for target {target_id} contains placeholder {EVENT_JSON} "
                    "valid only for JSON template."
                )


def _check_path(path: str, target_id: str | None, *, brackets: bool) -> None:
    try:
        compile_path(path, brackets=brackets)
    except InvalidPath:
        raise ValidationException(f"InputPath for target {target_id} is invalid.") from None


def _check_json_input(text: str, target_id: str | None) -> None:
    """AWS reads ``Input`` with Jackson: one JSON value (what follows it is not read), and a syntax
    error answered with Jackson's location of it."""
    tokens = JsonTokens(text)
    depth = 0
    try:
        while True:
            token = tokens.next_token()
            if token is None:
                return
            if token in (START_OBJECT, START_ARRAY):
                depth += 1
            elif token in (END_OBJECT, END_ARRAY):
                depth -= 1
            if depth == 0:
                tokens.text()  # reads a string to its end, where its errors are
                return
    except RuleSyntaxError:
        raise ValidationException(
            f"JSON syntax error in input for target {target_id}: {_location(tokens)}"
        ) from None


def _location(tokens: JsonTokens) -> str:
    """Jackson's ``JsonLocation`` text at the position the reader stopped."""
    src = tokens.src
    source = f'"{src}"'
    if len(src) > _MAX_SOURCE:
        source = f'"{src[:_MAX_SOURCE]}"[truncated {len(src) - _MAX_SOURCE} chars]'
    column = tokens.pos - tokens.line_start + 1
    return f"[Source: (String){source}; line: {tokens.line}, column: {column}]"
