"""``Ruleset``: many named patterns in one shared state machine.

The shape is AWS's own engine's (aws/event-ruler): every sub-rule is a chain of conditions in path
order from one root state; chains that start with the same conditions share states. Each state
indexes its outgoing conditions per path, so an event value finds every condition it satisfies
in a few lookups whatever the number of rules:

* exact strings, numbers and literals: one dict lookup each (numbers by value, so 5 == 5.0);
* prefixes and suffixes: a character trie walked along the value (forwards or backwards);
* equals-ignore-case and its prefix/suffix forms: the same on the lower-cased value;
* numeric ranges: ``bisect`` into precomputed segments when there are many;
* the rest (wildcard, cidr, anything-but): a short list of predicates per state and path;
* ``exists: true`` always, ``exists: false`` only when the event lacks the path.

A state reached at the end of a chain names the rules whose sub-rule ends there, so rules that
share states never match each other's events. Matching cost grows with the event's fields and the
states actually reached, not with the number of rules.

Concurrency: writers (add, remove) serialize on a lock; readers take no lock. Readers only ever
*look up* dicts and iterate tuples; writers replace tuples (copy-on-write) and only add or delete
dict keys, which is atomic under the GIL. A rule becomes visible when its last state is marked,
so a reader sees a rule either whole or not at all.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter
from typing import Any

from .flatten import Flat, consistent, flatten
from .matchers import FieldCondition, literal_key, looks_like_ip, parse_ip, NUMERIC_LIMIT
from .pattern import Pattern

_LINEAR_RANGES = 8


class _Trie:
    __slots__ = ("children", "states")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.states: tuple[_State, ...] = ()


def _trie_add(root: _Trie, key: str, state: "_State") -> None:
    node = root
    for ch in key:
        child = node.children.get(ch)
        if child is None:
            child = _Trie()
            node.children[ch] = child
        node = child
    node.states = node.states + (state,)


def _trie_remove(root: _Trie, key: str, state: "_State") -> None:
    node = root
    for ch in key:
        node = node.children.get(ch)  # type: ignore[assignment]
        if node is None:
            return
    node.states = tuple(s for s in node.states if s is not state)


def _trie_walk(root: _Trie, chars: Any, out: list) -> None:
    node = root
    if node.states:
        out.extend(node.states)
    for ch in chars:
        node = node.children.get(ch)  # type: ignore[assignment]
        if node is None:
            return
        if node.states:
            out.extend(node.states)


class _Ranges:
    """Immutable index of numeric ranges -> states, rebuilt by writers on change."""

    __slots__ = ("entries", "points", "slots")

    def __init__(self, entries: tuple) -> None:
        self.entries = entries  # (lo, lo_open, hi, hi_open, state)
        self.points: list[float] = []
        self.slots: list[tuple] = []
        if len(entries) > _LINEAR_RANGES:
            points = sorted({e[0] for e in entries} | {e[2] for e in entries})
            slots = []
            # slot 2k is the point points[k]; slot 2k+1 the open gap after it (2k-1 before).
            for k, p in enumerate(points):
                if k:
                    mid = (points[k - 1] + p) / 2
                    slots.append(tuple(e[4] for e in entries if _covers(e, mid)))
                else:
                    slots.append(tuple(e[4] for e in entries if _covers(e, p - 1)))
                slots.append(tuple(e[4] for e in entries if _covers(e, p)))
            slots.append(tuple(e[4] for e in entries if _covers(e, points[-1] + 1)))
            self.points = points
            self.slots = slots

    def find(self, v: float, out: list) -> None:
        if not self.points:
            for e in self.entries:
                if _covers(e, v):
                    out.append(e[4])
            return
        k = bisect_left(self.points, v)
        if k < len(self.points) and self.points[k] == v:
            out.extend(self.slots[2 * k + 1])
        else:
            out.extend(self.slots[2 * k])


def _covers(e: tuple, v: float) -> bool:
    lo, lo_open, hi, hi_open = e[0], e[1], e[2], e[3]
    if v < lo or (lo_open and v == lo):
        return False
    return not (v > hi or (hi_open and v == hi))


_EMPTY_RANGES = _Ranges(())


class _FieldIndex:
    """The transitions out of one state on one path."""

    __slots__ = ("conds", "exact", "numbers", "literals", "ips", "ic", "prefix", "suffix",
                 "prefix_ic", "suffix_ic", "ranges", "preds", "cidrs", "any", "absent", "lower")

    def __init__(self) -> None:
        self.conds: dict[FieldCondition, _State] = {}  # writer bookkeeping
        self.exact: dict[str, tuple] = {}
        self.numbers: dict[float, tuple] = {}
        self.literals: dict[str, tuple] = {}
        self.ips: dict[tuple[int, int], tuple] = {}
        self.ic: dict[str, tuple] = {}
        self.prefix: _Trie | None = None
        self.suffix: _Trie | None = None
        self.prefix_ic: _Trie | None = None
        self.suffix_ic: _Trie | None = None
        self.ranges = _EMPTY_RANGES
        self.preds: tuple = ()
        self.cidrs: tuple = ()  # (family, lo, hi, state): the value's address is parsed once
        self.any: tuple = ()
        self.absent: tuple = ()
        self.lower = False  # any lower-cased lookups needed

    # ------------------------------------------------------------------ reading
    def next_states(self, v: Any, out: list) -> None:
        t = type(v)
        if t is str:
            hit = self.exact.get(v)
            if hit:
                out.extend(hit)
            if (self.ips or self.cidrs) and looks_like_ip(v):
                ip = parse_ip(v)
                if ip is not None:
                    hit = self.ips.get(ip)
                    if hit:
                        out.extend(hit)
                    family, address = ip
                    for fam, lo, hi, state in self.cidrs:
                        if fam == family and lo <= address <= hi:
                            out.append(state)
            if self.prefix is not None:
                _trie_walk(self.prefix, v, out)
            if self.suffix is not None:
                _trie_walk(self.suffix, reversed(v), out)
            if self.lower:
                low = v.lower()
                hit = self.ic.get(low)
                if hit:
                    out.extend(hit)
                if self.prefix_ic is not None:
                    _trie_walk(self.prefix_ic, low, out)
                if self.suffix_ic is not None:
                    _trie_walk(self.suffix_ic, reversed(low), out)
        elif t is int or t is float:
            hit = self.numbers.get(v)
            if hit:
                out.extend(hit)
            if self.ranges.entries and -NUMERIC_LIMIT <= v <= NUMERIC_LIMIT:
                self.ranges.find(v, out)
        else:
            hit = self.literals.get(literal_key(v))  # type: ignore[arg-type]
            if hit:
                out.extend(hit)
        for matcher, state in self.preds:
            if matcher.test(v):
                out.append(state)
        if self.any:
            out.extend(self.any)

    # ------------------------------------------------------------------ writing
    def add(self, cond: FieldCondition, state: "_State") -> None:
        self.conds[cond] = state
        for m in cond.matchers:
            self._apply(m, state, adding=True)
        if cond.absent:
            self.absent = self.absent + (state,)

    def remove(self, cond: FieldCondition) -> None:
        state = self.conds.pop(cond)
        for m in cond.matchers:
            self._apply(m, state, adding=False)
        if cond.absent:
            self.absent = tuple(s for s in self.absent if s is not state)

    def _apply(self, m: Any, state: "_State", adding: bool) -> None:
        kind, arg = m.kind, m.arg
        table = {"str": self.exact, "num": self.numbers, "lit": self.literals,
                 "ip": self.ips, "ic": self.ic}.get(kind)
        if table is not None:
            _dict_update(table, arg, state, adding)
            if kind == "ic":
                self.lower = True
            return
        if kind in ("prefix", "suffix", "prefix_ic", "suffix_ic"):
            trie = getattr(self, kind)
            if trie is None:
                trie = _Trie()
                setattr(self, kind, trie)
            key = arg[::-1] if kind.startswith("suffix") else arg
            (_trie_add if adding else _trie_remove)(trie, key, state)
            if kind.endswith("_ic"):
                self.lower = True
            return
        if kind == "numeric":
            entries = self.ranges.entries
            if adding:
                entries = entries + (arg + (state,),)
            else:
                entries = tuple(e for e in entries if not (e[4] is state and e[:4] == arg))
            self.ranges = _Ranges(entries)
            return
        if kind == "cidr":
            entry = arg + (state,)
            self.cidrs = self.cidrs + (entry,) if adding else tuple(c for c in self.cidrs if c != entry)
            return
        if kind == "exists":
            self.any = self.any + (state,) if adding else tuple(s for s in self.any if s is not state)
            return
        if adding:
            self.preds = self.preds + ((m, state),)
        else:
            self.preds = tuple(p for p in self.preds if not (p[1] is state and p[0] == m))


def _dict_update(table: dict, key: Any, state: "_State", adding: bool) -> None:
    current = table.get(key, ())
    if adding:
        table[key] = current + (state,)
        return
    remaining = tuple(s for s in current if s is not state)
    if remaining:
        table[key] = remaining
    else:
        table.pop(key, None)


class _State:
    __slots__ = ("fields", "order", "absent_paths", "names", "counts", "refs", "__weakref__")

    def __init__(self) -> None:
        self.fields: dict[str, _FieldIndex] = {}
        self.order: tuple[str, ...] = ()
        self.absent_paths: tuple[str, ...] = ()
        self.names: frozenset[str] = frozenset()
        self.counts: Counter[str] = Counter()  # writer bookkeeping: sub-rules ending here
        self.refs = 0  # writer bookkeeping: sub-rules passing through

    def refresh(self) -> None:
        self.order = tuple(sorted(self.fields))
        self.absent_paths = tuple(p for p, idx in sorted(self.fields.items()) if idx.absent)


class Ruleset:
    """Named patterns matched together: ``matching(event)`` returns the names that match.

    ``add`` replaces a pattern already stored under the same name. Safe for any number of
    concurrent readers while one writer at a time changes the set.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._root = _State()
        self._chains: dict[str, list[list[tuple[_State, FieldCondition, _State]]]] = {}
        self._patterns: dict[str, Pattern] = {}

    def __len__(self) -> int:
        return len(self._patterns)

    def __contains__(self, name: object) -> bool:
        return name in self._patterns

    def names(self) -> set[str]:
        return set(self._patterns)

    def add(self, name: str, pattern: Pattern) -> None:
        with self._lock:
            if name in self._chains:
                self._remove_locked(name)
            chains = []
            for sub in pattern.subrules:
                chains.append(self._add_chain(name, sub))
            self._chains[name] = chains
            self._patterns[name] = pattern

    def remove(self, name: str) -> bool:
        """Forget ``name``; False if it was not there."""
        with self._lock:
            if name not in self._chains:
                return False
            self._remove_locked(name)
            return True

    def _add_chain(self, name: str, sub: tuple[FieldCondition, ...]) -> list:
        chain = []
        state = self._root
        for cond in sub:
            idx = state.fields.get(cond.path)
            if idx is None:
                idx = _FieldIndex()
            nxt = idx.conds.get(cond)
            if nxt is None:
                nxt = _State()
                idx.add(cond, nxt)
            if cond.path not in state.fields:
                state.fields[cond.path] = idx
                state.refresh()
            elif cond.absent and cond.path not in state.absent_paths:
                state.refresh()
            nxt.refs += 1
            chain.append((state, cond, nxt))
            state = nxt
        state.counts[name] += 1
        if state.counts[name] == 1:
            state.names = state.names | {name}  # last: the rule becomes visible whole
        return chain

    def _remove_locked(self, name: str) -> None:
        for chain in self._chains.pop(name):
            end = chain[-1][2] if chain else self._root
            end.counts[name] -= 1
            if end.counts[name] <= 0:
                del end.counts[name]
                end.names = end.names - {name}
            for state, cond, nxt in reversed(chain):
                nxt.refs -= 1
                if nxt.refs == 0:
                    idx = state.fields[cond.path]
                    idx.remove(cond)
                    if not idx.conds:
                        del state.fields[cond.path]
                    state.refresh()
        del self._patterns[name]

    # ------------------------------------------------------------------ matching
    def matching(self, event: Any) -> set[str]:
        """Names of the patterns that match the decoded JSON ``event``."""
        return self.matching_flat(flatten(event))

    def matching_flat(self, flat: Flat) -> set[str]:
        result: set[str] = set()
        stack: list[tuple[_State, dict[int, int] | None]] = [(self._root, None)]
        seen: set = set()
        nflat = len(flat)
        while stack:
            state, constraint = stack.pop()
            if state.names:
                result.update(state.names)
            fields = state.fields
            if not fields:
                continue
            order = state.order
            if len(order) <= nflat:
                pairs: Any = order
            else:
                pairs = [p for p in flat if p in fields]
                pairs.extend(p for p in state.absent_paths if p not in flat)
            for path in pairs:
                idx = fields.get(path)
                if idx is None:
                    continue
                values = flat.get(path)
                if values is None:
                    for nxt in idx.absent:
                        _push(stack, seen, nxt, constraint)
                    continue
                for value, trail in values:
                    if trail and constraint and not consistent(constraint, trail):
                        continue
                    out: list[_State] = []
                    idx.next_states(value, out)
                    if not out:
                        continue
                    merged = constraint
                    if trail:
                        merged = dict(constraint) if constraint else {}
                        merged.update(trail)
                    for nxt in out:
                        _push(stack, seen, nxt, merged)
        return result


def _push(stack: list, seen: set, state: _State, constraint: dict[int, int] | None) -> None:
    key: Any = state if not constraint else (state, tuple(sorted(constraint.items())))
    if key in seen:
        return
    seen.add(key)
    stack.append((state, constraint))
