"""``Ruleset``: many named patterns in one shared state machine.

The shape is AWS's own engine's (aws/event-ruler): every sub-rule is a chain of conditions from
one root state (most selective first, see ``Ruleset._order``; AWS uses key order); chains that
start with the same conditions share states. Each state indexes its outgoing conditions per path,
so an event value finds every condition it satisfies in a few lookups whatever the number of rules:
dicts for exact values, prefix/suffix operands by length, ``bisect`` over numeric bounds, short
predicate lists for the rest (see ``index.py``).

A state reached at the end of a chain names the rules whose sub-rule ends there, so rules that
share states never match each other's events. Matching cost grows with the event's fields and the
states actually reached, not with the number of rules.

Concurrency: writers (add, remove) serialize on a lock; readers take no lock. Readers only ever
*look up* dicts and iterate tuples; writers replace tuples (copy-on-write) and only add or delete
dict keys, which is atomic under the GIL. A rule becomes visible when its last state is marked,
so a reader sees a rule either whole or not at all.

Speed: the event is flattened once per call and only along paths some rule mentions (the
ruleset keeps their dotted prefixes), so an event's unused bulk costs a key lookup, not a
``(path, value)`` entry. The walk keeps states reached without array constraints apart from
constrained ones, so the common case pushes bare states and dedups them by identity; and
there, the states one state's probes reach together are walked as one merged state (cached,
dropped by every write), so a path several of them test is probed once (``_walk_single``).
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from .flatten import MAX_FILTER_DEPTH as _MAX_FILTER_DEPTH
from .flatten import Flat, consistent, flatten_split
from .flatten import dotted_prefixes as _prefixes
from .index import _FieldIndex
from .matchers import FieldCondition
from .pattern import Pattern



class _State:
    __slots__ = ("fields", "plan", "absent_paths", "names", "counts", "refs", "__weakref__")

    def __init__(self) -> None:
        self.fields: dict[str, _FieldIndex] = {}
        # For readers: (path, read, absent) per field in path order, rebuilt by writers whenever
        # a field index's ``read`` or ``absent`` changes (one attribute load less per probe).
        self.plan: tuple[tuple[str, Any, tuple], ...] = ()
        self.absent_paths: tuple[str, ...] = ()
        self.names: frozenset[str] = frozenset()
        self.counts: Counter[str] = Counter()  # writer bookkeeping: sub-rules ending here
        self.refs = 0  # writer bookkeeping: sub-rules passing through

    def refresh(self) -> None:
        items = sorted(self.fields.items())
        self.absent_paths = tuple(p for p, idx in items if idx.absent)
        # Interned paths: every plan shares one string object per path, so probing many states
        # touches one (cached) object instead of one per rule that introduced the path.
        self.plan = tuple((sys.intern(p), idx.read, idx.absent) for p, idx in items)


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
        # Paths rules mention, with their dotted prefixes: what ``flatten`` must keep. None (keep
        # everything) while some rule has a path too deep to expand this way.
        self._wanted: set[str] | None = set()
        self._prefix_counts: Counter[str] = Counter()  # writer bookkeeping, per sub-rule condition
        self._deep = 0  # writer bookkeeping: conditions on paths too deep to filter by
        self._operands: dict[str, Counter] = {}  # writer bookkeeping: path -> exact operand uses
        # Readers' cache of merged states (``_walk_single``): reached states -> their union.
        # Writers replace it after every change, so no merged state outlives what it copied.
        self._merged: dict[tuple, Any] = {}

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
                self._count_operands(sub, 1)
                chains.append(self._add_chain(name, self._order(sub)))
            self._chains[name] = chains
            self._patterns[name] = pattern
            self._merged = {}

    def _count_operands(self, sub: tuple[FieldCondition, ...], delta: int) -> None:
        """Keep, per path, how many rules use each exact operand (writer bookkeeping)."""
        for cond in sub:
            if _is_exact(cond):
                counts = self._operands.setdefault(cond.path, Counter())
                for m in cond.matchers:
                    counts[m.arg] += delta
                    if counts[m.arg] <= 0:
                        del counts[m.arg]

    def _order(self, sub: tuple[FieldCondition, ...]) -> tuple[FieldCondition, ...]:
        """Chain order for a new sub-rule: the most selective exact condition first.

        Any order gives the same answers (a sub-rule is an AND, and each is its own chain), but
        the order decides how many states an event visits: a chain should start with the
        condition that the fewest events pass. For an exact condition that is estimated from
        the ruleset itself as (its operands) / (distinct operands rules use on that path): a
        field on which rules name hundreds of different values (``source``) splits the rules
        far more than one with ten (``detail-type``). Ties, and all non-exact conditions, keep
        the compiler's canonical order (exact first, then other positive ones, absences last).
        Rules added early, before the statistics mean much, may be ordered less well; only
        speed depends on it.
        """
        def key(cond: FieldCondition) -> tuple[int, float]:
            if not _is_exact(cond):
                return 1, 0.0
            distinct = len(self._operands.get(cond.path, ())) or 1
            return 0, len(cond.matchers) / distinct

        return tuple(sorted(sub, key=key))

    def remove(self, name: str) -> bool:
        """Forget ``name``; False if it was not there."""
        with self._lock:
            if name not in self._chains:
                return False
            self._remove_locked(name)
            self._merged = {}
            return True

    def _want(self, path: str, delta: int) -> None:
        """Count a condition's path in or out of the flattening filter (before a rule shows)."""
        parts = path.count(".") + 1
        if parts > _MAX_FILTER_DEPTH:
            self._deep += delta
            if self._deep == delta == 1:
                self._wanted = None
            elif self._deep == 0:
                self._wanted = {p for p, n in self._prefix_counts.items() if n > 0}
            return
        wanted = self._wanted
        counts = self._prefix_counts
        for prefix in _prefixes(path):
            counts[prefix] += delta
            if counts[prefix] <= 0:
                del counts[prefix]
                if wanted is not None:
                    wanted.discard(prefix)
            elif wanted is not None and delta > 0:
                wanted.add(prefix)

    def _add_chain(self, name: str, sub: tuple[FieldCondition, ...]) -> list:
        chain = []
        state = self._root
        for cond in sub:
            self._want(cond.path, 1)
            idx = state.fields.get(cond.path)
            fresh = idx is None
            if idx is None:
                idx = _FieldIndex()
            nxt = idx.conds.get(cond)
            changed = False
            if nxt is None:
                nxt = _State()
                read, absent = idx.read, idx.absent
                idx.add(cond, nxt)
                changed = idx.read is not read or idx.absent is not absent
            if fresh:
                state.fields[cond.path] = idx
            if fresh or changed:
                state.refresh()
            nxt.refs += 1
            chain.append((state, cond, nxt))
            state = nxt
        state.counts[name] += 1
        if state.counts[name] == 1:
            state.names = state.names | {name}  # last: the rule becomes visible whole
        return chain

    def _remove_locked(self, name: str) -> None:
        for sub in self._patterns[name].subrules:
            self._count_operands(sub, -1)
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
                self._want(cond.path, -1)
        del self._patterns[name]

    # ------------------------------------------------------------------ matching
    def matching(self, event: Any) -> set[str]:
        """Names of the patterns that match the decoded JSON ``event``."""
        single, multi = flatten_split(event, self._wanted)
        if multi:
            return self._walk(single, multi)
        return self._walk_single(single)

    def matching_flat(self, flat: Flat) -> set[str]:
        """Names matching an already flattened event (all paths, or at least the wanted ones)."""
        single = {p: vs[0][0] for p, vs in flat.items() if len(vs) == 1 and not vs[0][1]}
        multi = {p: vs for p, vs in flat.items() if p not in single}
        return self._walk(single, multi)

    def _walk_single(self, single: dict[str, Any]) -> set[str]:
        """``_walk`` for an event without arrays or repeated paths (most events).

        The states form a tree (a state is created for one condition out of one state) and a
        reader never returns a state twice, so with one value per path no state can be reached
        twice: no ``seen`` set, no per-state constraint.

        The states one state's probes reach together are then walked as one *merged* state
        (``_merged_state``): where several of them test the same path -- the state after an
        exact ``detail-type`` and the one after a ``prefix`` on it, both probing ``detail.*`` --
        the merged state probes that path once, through one index holding both sets of
        conditions. The merge is cached per set of states, built only once a set recurs (so a
        one-off combination costs a dict entry, not a build), and the cache is dropped whenever
        a writer changes the machine.
        """
        result: set[str] = set()
        stack: list[_State] = [self._root]
        pop = stack.pop
        push = stack.append
        get = single.get
        nflat = len(single)
        missing = _MISSING
        merged = self._merged
        while stack:
            state = pop()
            if state.names:
                result.update(state.names)
            plan: Any = state.plan
            if not plan:
                continue
            if len(plan) > nflat:  # a state with more fields than the event: walk the event
                plan = _event_plan(state, single, {})
            reached: Any = None
            for path, read, absent in plan:
                value = get(path, missing)
                hits = absent if value is missing else read(value)
                if hits:
                    reached = hits if reached is None else [*reached, *hits]
            if reached is None:
                continue
            if len(reached) == 1:
                nxt = reached[0]
            else:
                key = tuple(reached)
                nxt = merged.get(key)
                if nxt is None or nxt is _SEEN_ONCE:
                    if nxt is None:
                        if len(merged) >= _MAX_MERGED:
                            merged = self._merged = {}
                        merged[key] = _SEEN_ONCE
                        stack.extend(key)
                        continue
                    nxt = merged[key] = _merged_state(key)
            if nxt.plan:
                push(nxt)
            else:  # the end of every chain it stands for: no need to go round the loop
                result.update(nxt.names)
        return result

    def _walk(self, single: dict[str, Any], multi: Flat) -> set[str]:
        """Depth-first from the root; each state probes its fields with the event's values.

        States reached without array constraints (the usual case) travel bare on ``stack`` and
        are deduplicated by identity; constrained ones carry the array elements they committed to.
        """
        result: set[str] = set()
        stack: list[_State] = [self._root]
        constrained: list[tuple[_State, dict[int, int]]] = []
        seen: set = set()
        get_single = single.get
        get_multi = multi.get
        nflat = len(single) + len(multi)
        missing = _MISSING

        def reach(hits: Iterable[_State], constraint: dict[int, int] | None) -> None:
            """Queues the states a probe reached: bare and once each, or with the elements chosen."""
            if constraint is None:
                for nxt in hits:
                    if nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
            else:
                for nxt in hits:
                    _push(constrained, seen, nxt, constraint)

        while True:
            if stack:
                state = stack.pop()
                constraint = None
            elif constrained:
                state, constraint = constrained.pop()  # type: ignore[assignment]
            else:
                return result
            if state.names:
                result.update(state.names)
            plan: Any = state.plan
            if not plan:
                continue
            if len(plan) > nflat:  # a state with more fields than the event: walk the event
                plan = _event_plan(state, single, multi)
            for path, read, absent in plan:
                value = get_single(path, missing)
                if value is not missing:
                    hits = read(value)
                    if hits:
                        reach(hits, constraint)
                    continue
                values = get_multi(path)
                if values is None:
                    reach(absent, constraint)
                    continue
                for value, trail in values:
                    if trail and constraint and not consistent(constraint, trail):
                        continue
                    hits = read(value)
                    if not hits:
                        continue
                    if trail:
                        merged = dict(constraint) if constraint else {}
                        merged.update(trail)
                        reach(hits, merged)
                    else:
                        reach(hits, constraint)


_MISSING = object()
_SEEN_ONCE = object()  # a set of reached states met once: merged if it comes again
_MAX_MERGED = 4096  # merged states cached per ruleset before the cache starts afresh


def _merged_state(members: tuple[_State, ...]) -> _State:
    """One state standing for ``members`` reached together: their names, and their fields with
    the indexes of a path several of them test joined into one (``_FieldIndex.union``)."""
    merged = _State()
    by_path: dict[str, list[_FieldIndex]] = {}
    for member in members:
        merged.names = merged.names | member.names
        for path, idx in member.fields.items():
            by_path.setdefault(path, []).append(idx)
    for path, indexes in by_path.items():
        merged.fields[path] = indexes[0] if len(indexes) == 1 else _FieldIndex.union(indexes)
    merged.refresh()
    return merged
_EXACT_KINDS = frozenset(("str", "num", "lit", "ip"))


def _is_exact(cond: FieldCondition) -> bool:
    return not cond.absent and all(m.kind in _EXACT_KINDS for m in cond.matchers)


def _event_plan(state: _State, single: dict[str, Any], multi: Flat) -> list:
    """The part of a wide state's plan the event can use: its own paths, and absences."""
    fields = state.fields
    plan = [(p, idx.read, idx.absent) for p in (*single, *multi) if (idx := fields.get(p)) is not None]
    plan.extend((p, idx.read, idx.absent) for p in state.absent_paths
                if p not in single and p not in multi and (idx := fields.get(p)) is not None)
    return plan


def _push(constrained: list, seen: set, state: _State, constraint: dict[int, int]) -> None:
    key = (state, tuple(sorted(constraint.items())))
    if key in seen:
        return
    seen.add(key)
    constrained.append((state, constraint))
