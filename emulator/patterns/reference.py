"""A deliberately simple matcher, the oracle the compiled machine is tested against.

It shares nothing with the compiler or the machine: it walks the (already validated) pattern
JSON and the event side by side, recursing into objects and trying array elements one by one,
and evaluates each operator directly (wildcards by dynamic programming, CIDR with ``ipaddress``).
Array consistency falls out of the recursion: a nested pattern object is matched against one
element at a time. ``exists: false`` is a statement about the whole event (no value at that
path anywhere), as in AWS's engine.

Not for production use: it is slow on purpose and does not handle dotted pattern keys
(``"a.b"`` standing for nested keys), which the property tests do not generate.
"""

from __future__ import annotations

import ipaddress
from typing import Any

LIMIT = 5e9


def reference_matches(pattern: dict[str, Any], event: Any) -> bool:
    """Does the event match the pattern (both decoded JSON)?"""
    if not isinstance(event, dict):
        event = {}
    paths = _leaf_paths(event)
    return _match_object(pattern, event, "", paths)


def _leaf_paths(event: Any) -> set[str]:
    paths: set[str] = set()

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list):
            for v in node:
                walk(v, path)
        elif path:
            paths.add(path)

    walk(event, "")
    return paths


def _objects(node: Any) -> list[dict]:
    if isinstance(node, dict):
        return [node]
    if isinstance(node, list):
        return [o for item in node for o in _objects(item)]
    return []


def _scalars(node: Any) -> list[Any]:
    if isinstance(node, list):
        return [s for item in node for s in _scalars(item)]
    if isinstance(node, dict):
        return []
    return [node]


def _match_object(pattern: dict, obj: dict, prefix: str, paths: set[str]) -> bool:
    for key, spec in pattern.items():
        if key == "$or":
            if not any(_match_object(branch, obj, prefix, paths) for branch in spec):
                return False
            continue
        path = f"{prefix}.{key}" if prefix else key
        value = obj.get(key) if key in obj else None
        if isinstance(spec, dict):
            candidates = _objects(value) + [{}]
            if not any(_match_object(spec, c, path, paths) for c in candidates):
                return False
        else:
            scalars = _scalars(value) if key in obj else []
            if not any(_match_value(s, x, path, paths) for s in spec for x in scalars) and not any(
                isinstance(s, dict) and s.get("exists") is False and path not in paths for s in spec
            ):
                return False
    return True


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _ip(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _match_value(spec: Any, x: Any, path: str, paths: set[str]) -> bool:
    if isinstance(spec, str):
        if not isinstance(x, str):
            return False
        return x == spec or (_ip(spec) is not None and _ip(spec) == _ip(x))
    if spec is None or isinstance(spec, bool):
        return x is spec
    if _is_num(spec):
        return _is_num(x) and x == spec
    (op, arg), = spec.items()
    if op == "exists":
        return arg is True
    if op == "anything-but":
        return not _anything_but_hit(arg, x)
    if op == "numeric":
        return _is_num(x) and -LIMIT <= x <= LIMIT and _numeric(arg, x)
    if not isinstance(x, str):
        return False
    if op == "exactly":
        return x == arg
    if op == "equals-ignore-case":
        return x.lower() == arg.lower()
    if op in ("prefix", "suffix"):
        ignore_case = isinstance(arg, dict)
        text = arg["equals-ignore-case"] if ignore_case else arg
        subject = x.lower() if ignore_case else x
        text = text.lower() if ignore_case else text
        return subject.startswith(text) if op == "prefix" else subject.endswith(text)
    if op == "wildcard":
        return _wildcard(arg, x)
    if op == "cidr":
        ip_text, bits = arg.split("/")
        base, ip = _ip(ip_text), _ip(x)
        if ip is None or ip.version != base.version:
            return False
        width = 32 if base.version == 4 else 128
        lo = int(base)
        return lo <= int(ip) <= lo | ((1 << (width - int(bits))) - 1)
    raise AssertionError(op)


def _anything_but_hit(arg: Any, x: Any) -> bool:
    if isinstance(arg, dict):
        (form, values), = arg.items()
        values = values if isinstance(values, list) else [values]
        if not isinstance(x, str):
            return False
        if form == "prefix":
            return any(x.startswith(v) for v in values)
        if form == "suffix":
            return any(x.endswith(v) for v in values)
        if form == "equals-ignore-case":
            return any(x.lower() == v.lower() for v in values)
        return any(_wildcard(v, x) for v in values)
    values = arg if isinstance(arg, list) else [arg]
    return any((isinstance(v, str) and isinstance(x, str) and v == x)
               or (_is_num(v) and _is_num(x) and v == x) for v in values)


def _numeric(ops: list, x: float) -> bool:
    for i in range(0, len(ops), 2):
        op, v = ops[i], ops[i + 1]
        ok = {"=": x == v, "<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v}[op]
        if not ok:
            return False
    return True


def _wildcard(pattern: str, text: str) -> bool:
    """Classic dynamic programming over (pattern token, text position)."""
    tokens: list[str | None] = []  # None is a star
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            tokens.append(pattern[i + 1])
            i += 2
            continue
        tokens.append(None if ch == "*" else ch)
        i += 1
    reachable = [True] + [False] * len(text)
    for tok in tokens:
        if tok is None:
            for j in range(1, len(text) + 1):
                reachable[j] = reachable[j] or reachable[j - 1]
        else:
            reachable = [False] + [reachable[j] and text[j] == tok for j in range(len(text))]
    return reachable[-1]
