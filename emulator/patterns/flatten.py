"""Events as AWS's engine sees them: ``path -> [(value, array trail), ...]``.

Nested objects become dot-joined paths (``{"detail": {"state": "x"}}`` -> ``detail.state``; a
pattern key ``"state.status"`` therefore matches a nested ``state``/``status`` pair, as on AWS).
Array elements all sit at the array's own path, so a field "matches if any element matches".

The *trail* of a value lists the arrays it sits in, as ``(array id, index)`` pairs. AWS matches
array-consistently: fields of one sub-rule must come from the same element of an array of
objects, so ``{"a": {"b": [1], "c": [4]}}`` does not match ``{"a": [{"b": 1, "c": 2},
{"b": 3, "c": 4}]}``. Values outside arrays have the empty trail, which costs nothing.

Flattening uses an explicit stack: a deeply nested event cannot raise ``RecursionError``.
"""

from __future__ import annotations

from typing import Any, Container, Iterable

Trail = tuple[tuple[int, int], ...]
Flat = dict[str, list[tuple[Any, Trail]]]
_NO_TRAIL: Trail = ()

# Deeper paths switch path filtering off: their dotted prefixes would cost O(depth^2) memory.
MAX_FILTER_DEPTH = 64


def dotted_prefixes(path: str) -> list[str]:
    """``a.b.c`` -> ``a``, ``a.b``, ``a.b.c``: the event paths flattening must descend through."""
    parts = path.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts) + 1)]


def wanted_paths(paths: Iterable[str]) -> frozenset[str] | None:
    """What ``flatten`` must keep to see ``paths``; None (keep everything) if one is too deep."""
    wanted: set[str] = set()
    for path in paths:
        if path.count(".") + 1 > MAX_FILTER_DEPTH:
            return None
        wanted.update(dotted_prefixes(path))
    return frozenset(wanted)


def flatten(event: Any, wanted: Container[str] | None = None) -> Flat:
    """Flatten a decoded JSON document (a non-object root has no fields): every path's values.

    With ``wanted`` (every path some rule mentions, with its dotted prefixes), objects and
    arrays whose path no rule can reach are skipped unread: most of a large event is usually
    irrelevant to the rules, and skipping it is most of the saving. Empty paths are always kept
    (a key ``""`` at the top contributes no path segment of its own).
    """
    single, multi = flatten_split(event, wanted)
    for path, value in single.items():
        multi[path] = [(value, _NO_TRAIL)]
    return multi


def consistent(constraint: dict[int, int], trail: Trail) -> bool:
    """Can a value with ``trail`` join values already chosen under ``constraint``?"""
    for aid, index in trail:
        if constraint.get(aid, index) != index:
            return False
    return True


def flatten_split(event: Any, wanted: Container[str] | None = None) -> tuple[dict[str, Any], Flat]:
    """``flatten`` for the shared machine: ``(single, multi)``.

    ``single`` maps each path holding exactly one value outside any array to that bare value;
    ``multi`` holds every other path as ``flatten`` would. Most paths of most events are single,
    and keeping them bare saves a list and a tuple per value -- allocations that, at thousands of
    rules, cost more in garbage collection than the lookups they feed.
    """
    single: dict[str, Any] = {}
    multi: Flat = {}
    if type(event) is not dict:
        return single, multi
    stack: list[tuple[Any, str, Trail]] = [(event, "", _NO_TRAIL)]
    next_array = 0
    while stack:
        node, path, trail = stack.pop()
        if type(node) is dict:
            for key, value in node.items():
                full = f"{path}.{key}" if path else key
                if wanted is not None and full not in wanted and full:
                    continue
                t = type(value)
                if t is dict or t is list:
                    stack.append((value, full, trail))
                    continue
                entry = multi.get(full)
                if entry is not None:
                    entry.append((value, trail))
                elif trail:
                    if full in single:
                        multi[full] = [(single.pop(full), _NO_TRAIL), (value, trail)]
                    else:
                        multi[full] = [(value, trail)]
                elif full in single:
                    multi[full] = [(single.pop(full), _NO_TRAIL), (value, _NO_TRAIL)]
                else:
                    single[full] = value
        else:  # a list: its scalar elements all sit at the list's own path
            next_array += 1
            aid = next_array
            for index, value in enumerate(node):
                t = type(value)
                element_trail = trail + ((aid, index),)
                if t is dict or t is list:
                    stack.append((value, path, element_trail))
                    continue
                entry = multi.get(path)
                if entry is None:
                    entry = multi[path] = [(single.pop(path), _NO_TRAIL)] if path in single else []
                entry.append((value, element_trail))
    return single, multi
