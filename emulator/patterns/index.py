"""The transitions out of one state on one path, and how a reader probes them with one value.

One ``_FieldIndex`` holds every condition on one path that leaves one state. Its lookup
structures are sized by the number of distinct operands, and a value finds every condition it
satisfies in a few lookups, whatever the number of rules sharing the state:

* exact strings, numbers and literals: one dict lookup each (numbers by value, so 5 == 5.0);
* prefixes and suffixes: a dict per kind keyed by the operand, probed with the value's slice
  of each distinct operand length (an operand trie flattened by length: one C-level slice and
  lookup per length instead of one interpreted trie step per character -- in Python that is
  several times faster for the short, few-length operands rules actually use, and never worse
  than the character walk in the number of lookups);
* equals-ignore-case and its prefix/suffix forms: the same on the lower-cased value;
* numeric ranges: ``bisect`` into precomputed segments when there are many;
* IP addresses and CIDR blocks: the value is parsed once per probe, then compared as integers;
* wildcards ending in text: by that text, like suffixes, then matched in full;
* the rest (other wildcards, anything-but): a short list of predicates;
* ``exists: true`` always, ``exists: false`` (``absent``) only when the event lacks the path.

Reading cost is dominated by interpreter overhead, not by the lookups, so the writer keeps
``read`` (one argument: the value) pointing at a function specialised for the structures actually
in use -- for an index holding only exact strings, the common case, the dict's own ``get``; else
one generated function (``readers.py``), rebound after every change. States copy ``read`` into
their plans; the writer refreshes a state's plan whenever an index's ``read`` changes.

Concurrency: readers only look dicts up and iterate tuples; writers change dict keys (atomic
under the GIL) and replace tuples and ``read`` wholesale, after the structures they describe
are in place. A reader with a stale ``read`` at worst misses a condition whose rule is
not yet (or no longer) visible.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any, Callable, Sequence

from .matchers import TESTS, FieldCondition, Matcher
from .readers import make_reader

Hits = Sequence[Any] | None

_LINEAR_RANGES = 8


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


def _covers(e: tuple, v: float) -> bool:
    lo, lo_open, hi, hi_open = e[0], e[1], e[2], e[3]
    if v < lo or (lo_open and v == lo):
        return False
    return not (v > hi or (hi_open and v == hi))


_EMPTY_RANGES = _Ranges(())


def _no_hits(v: Any) -> Hits:
    return None


_TABLES = {"str": "exact", "num": "numbers", "lit": "literals", "ip": "ips", "ic": "ic"}
_AFFIXES = ("prefix", "suffix", "prefix_ic", "suffix_ic")


class _FieldIndex:
    """The transitions out of one state on one path."""

    __slots__ = ("conds", "exact", "numbers", "literals", "ips", "ic", "prefix", "suffix",
                 "prefix_ic", "suffix_ic", "prefix_lens", "suffix_lens", "prefix_ic_lens",
                 "suffix_ic_lens", "wild", "wild_lens", "lens", "ranges", "preds", "cidrs", "any", "absent",
                 "shape", "multi", "read")

    def __init__(self) -> None:
        self.conds: dict[FieldCondition, Any] = {}  # writer bookkeeping: condition -> state
        self.exact: dict[str, tuple] = {}
        self.numbers: dict[float, tuple] = {}
        self.literals: dict[str, tuple] = {}
        self.ips: dict[tuple[int, int], tuple] = {}
        self.ic: dict[str, tuple] = {}
        self.prefix: dict[str, tuple] = {}
        self.suffix: dict[str, tuple] = {}
        self.prefix_ic: dict[str, tuple] = {}
        self.suffix_ic: dict[str, tuple] = {}
        self.prefix_lens: tuple[int, ...] = ()
        self.suffix_lens: tuple[int, ...] = ()
        self.prefix_ic_lens: tuple[int, ...] = ()
        self.suffix_ic_lens: tuple[int, ...] = ()
        self.wild: dict[str, tuple] = {}  # last segment -> ((segments, state), ...)
        self.wild_lens: tuple[int, ...] = ()
        self.lens: dict[str, Counter[int]] = {}  # writer bookkeeping: operand lengths per affix kind
        self.ranges = _EMPTY_RANGES
        self.preds: tuple = ()
        self.cidrs: tuple = ()  # (family, lo, hi, state)
        self.any: tuple = ()
        self.absent: tuple = ()
        self.shape: str | None = None
        # Conditions with several matchers: only they can find one state twice in one probe
        # (``["x", {"prefix": "x"}]``), so only then does the reader deduplicate its hits.
        self.multi = 0
        self.read: Callable[[Any], Hits] = _no_hits

    # ------------------------------------------------------------------ writing
    def add(self, cond: FieldCondition, state: Any) -> None:
        self.conds[cond] = state
        if len(cond.matchers) > 1:
            self.multi += 1
        for m in cond.matchers:
            self._apply(m, state, adding=True)
        if cond.absent:
            self.absent = self.absent + (state,)
        self._specialise()

    def remove(self, cond: FieldCondition) -> None:
        state = self.conds.pop(cond)
        if len(cond.matchers) > 1:
            self.multi -= 1
        for m in cond.matchers:
            self._apply(m, state, adding=False)
        if cond.absent:
            self.absent = tuple(s for s in self.absent if s is not state)
        self._specialise()

    @classmethod
    def union(cls, indexes: Sequence["_FieldIndex"]) -> "_FieldIndex":
        """One index answering for several (a merged state's, see ``machine.py``): every
        condition of each, leading to the state it leads to there. Read-only: no ``conds``."""
        merged = cls()
        entries: list[tuple] = []
        for ix in indexes:
            merged.multi += ix.multi
            merged.absent = merged.absent + ix.absent
            entries.extend(ix.ranges.entries)
            for cond, state in ix.conds.items():
                for m in cond.matchers:
                    if m.kind != "numeric":
                        merged._apply(m, state, adding=True)
        merged.ranges = _Ranges(tuple(entries)) if entries else _EMPTY_RANGES
        merged._specialise()
        return merged

    def _specialise(self) -> None:
        """Point ``read`` at a reader generated for the structures now in use (``readers.py``)."""
        only_exact = bool(self.exact) and not (
            self.numbers or self.literals or self.ips or self.cidrs or self.ic or self.prefix
            or self.suffix or self.prefix_ic or self.suffix_ic or self.ranges.entries or self.preds
            or self.any or self.wild)
        if only_exact:
            if self.shape != "exact":  # the common case: the reader is the dict's own lookup
                self.shape = "exact"
                self.read = self.exact.get
            return
        self.shape = None
        empty = not (self.exact or self.numbers or self.literals or self.ips or self.cidrs or self.ic
                     or self.prefix or self.suffix or self.prefix_ic or self.suffix_ic
                     or self.ranges.entries or self.preds or self.any or self.wild)
        self.read = _no_hits if empty else make_reader(self)

    def _apply(self, m: Matcher, state: Any, adding: bool) -> None:
        kind, arg = m.kind, m.arg
        table_name = _TABLES.get(kind)
        if table_name is not None:
            _dict_update(getattr(self, table_name), arg, state, adding)
            return
        if kind in _AFFIXES:
            table = getattr(self, kind)
            had = arg in table
            _dict_update(table, arg, state, adding)
            has = arg in table
            if had != has:  # operand appeared or disappeared: maintain its length
                counts = self.lens.setdefault(kind, Counter())
                counts[len(arg)] += 1 if has else -1
                if counts[len(arg)] <= 0:
                    del counts[len(arg)]
                setattr(self, kind + "_lens", tuple(sorted(counts)))
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
        if kind == "wildcard" and len(arg) > 1 and arg[-1]:
            self._wildcard(arg, state, adding)
            return
        if kind == "exists":
            self.any = self.any + (state,) if adding else tuple(s for s in self.any if s is not state)
            return
        # (test, operand, state): the reader calls the operator's test directly.
        if adding:
            self.preds = self.preds + ((TESTS[kind], arg, state),)
        else:
            self.preds = tuple(p for p in self.preds if not (p[2] is state and p[1] == arg
                                                             and p[0] is TESTS[kind]))


    def _wildcard(self, segments: tuple[str, ...], state: Any, adding: bool) -> None:
        """Index a wildcard that ends in text by that text: a value is tested only against the
        wildcards whose last segment it ends with, found like suffixes by operand length."""
        last = segments[-1]
        entry = (segments, state)
        current = self.wild.get(last, ())
        if adding:
            if entry not in current:
                self.wild[sys.intern(last)] = current + (entry,)
        else:
            remaining = tuple(e for e in current if e != entry)
            if remaining:
                self.wild[last] = remaining
            else:
                self.wild.pop(last, None)
        if bool(current) != (last in self.wild):  # text appeared or disappeared: its length
            counts = self.lens.setdefault("wild", Counter())
            counts[len(last)] += 1 if adding else -1
            if counts[len(last)] <= 0:
                del counts[len(last)]
            self.wild_lens = tuple(sorted(counts))


def _dict_update(table: dict, key: Any, state: Any, adding: bool) -> None:
    current = table.get(key, ())
    if adding:
        if type(key) is str:
            key = sys.intern(key)  # one shared key object per operand: fewer cache misses
        table[key] = current + (state,)
        return
    remaining = tuple(s for s in current if s is not state)
    if remaining:
        table[key] = remaining
    else:
        table.pop(key, None)
