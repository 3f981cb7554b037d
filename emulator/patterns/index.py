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
* the rest (wildcard, anything-but): a short list of predicates;
* ``exists: true`` always, ``exists: false`` (``absent``) only when the event lacks the path.

Reading cost is dominated by interpreter overhead, not by the lookups, so the writer keeps
``read`` (one argument: the value) pointing at a function specialised for the structures actually
in use -- for an index holding only exact strings, the common case, the dict's own ``get`` -- and
``probes`` listing the specialised functions the general case runs in turn. States copy ``read``
into their plans; the writer refreshes a state's plan whenever an index's ``read`` changes.

Concurrency: readers only look dicts up and iterate tuples; writers change dict keys (atomic
under the GIL) and replace tuples, ``read`` and ``probes`` wholesale, after the structures they
describe are in place. A reader with a stale ``read`` at worst misses a condition whose rule is
not yet (or no longer) visible.
"""

from __future__ import annotations

import sys
from bisect import bisect_left
from functools import partial
from collections import Counter
from typing import Any, Callable, Sequence

from .matchers import NUMERIC_LIMIT, TESTS, FieldCondition, Matcher, literal_key, parse_ip

Hits = Sequence[Any] | None
Reader = Callable[["_FieldIndex", Any], Hits]

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

    def find(self, v: float) -> Hits:
        points = self.points
        if not points:
            return [e[4] for e in self.entries if _covers(e, v)]
        k = bisect_left(points, v)
        if k < len(points) and points[k] == v:
            return self.slots[2 * k + 1]
        return self.slots[2 * k]


def _covers(e: tuple, v: float) -> bool:
    lo, lo_open, hi, hi_open = e[0], e[1], e[2], e[3]
    if v < lo or (lo_open and v == lo):
        return False
    return not (v > hi or (hi_open and v == hi))


_EMPTY_RANGES = _Ranges(())


# ---------------------------------------------------------------------- readers, one per structure
# Each takes the index and one event value and returns the states it leads to (None or empty
# when none). String structures hold only ``str`` keys, so probing them with another type misses.

def _r_exact(ix: "_FieldIndex", v: Any) -> Hits:
    return ix.exact.get(v)


def _r_numbers(ix: "_FieldIndex", v: Any) -> Hits:
    t = type(v)
    if t is int or t is float:  # not bool: True == 1 must not find 1
        return ix.numbers.get(v)
    return None


def _r_literals(ix: "_FieldIndex", v: Any) -> Hits:
    return ix.literals.get(literal_key(v))  # type: ignore[arg-type]


def _by_length(table: dict[str, tuple], lengths: tuple[int, ...], v: str, suffix: bool) -> Hits:
    n = len(v)
    found: Hits = None
    for size in lengths:
        if size > n:
            break
        hit = table.get(v[n - size:] if suffix else v[:size])
        if hit:
            found = hit if found is None else [*found, *hit]
    return found


def _r_prefix(ix: "_FieldIndex", v: Any) -> Hits:
    if type(v) is not str:
        return None
    return _by_length(ix.prefix, ix.prefix_lens, v, False)


def _r_suffix(ix: "_FieldIndex", v: Any) -> Hits:
    if type(v) is not str:
        return None
    return _by_length(ix.suffix, ix.suffix_lens, v, True)


def _r_ic(ix: "_FieldIndex", v: Any) -> Hits:
    if type(v) is not str:
        return None
    return ix.ic.get(v.lower())


def _r_prefix_ic(ix: "_FieldIndex", v: Any) -> Hits:
    if type(v) is not str:
        return None
    return _by_length(ix.prefix_ic, ix.prefix_ic_lens, v.lower(), False)


def _r_suffix_ic(ix: "_FieldIndex", v: Any) -> Hits:
    if type(v) is not str:
        return None
    return _by_length(ix.suffix_ic, ix.suffix_ic_lens, v.lower(), True)


def _r_ip(ix: "_FieldIndex", v: Any) -> Hits:
    if type(v) is not str:
        return None
    ip = parse_ip(v)  # None unless the value looks like an IP literal and is a valid one
    if ip is None:
        return None
    found: list = []
    hit = ix.ips.get(ip)
    if hit:
        found.extend(hit)
    family, address = ip
    for fam, lo, hi, state in ix.cidrs:
        if fam == family and lo <= address <= hi:
            found.append(state)
    return found


def _r_ranges(ix: "_FieldIndex", v: Any) -> Hits:
    t = type(v)
    if not ((t is int or t is float) and -NUMERIC_LIMIT <= v <= NUMERIC_LIMIT):
        return None
    ranges = ix.ranges
    if ranges.points:
        return ranges.find(v)
    found = None
    for lo, lo_open, hi, hi_open, state in ranges.entries:  # few: compare inline
        if (lo < v or (v == lo and not lo_open)) and (v < hi or (v == hi and not hi_open)):
            if found is None:
                found = [state]
            else:
                found.append(state)
    return found


def _r_preds(ix: "_FieldIndex", v: Any) -> Hits:
    found = None
    for test, arg, state in ix.preds:
        if test(arg, v):
            if found is None:
                found = [state]
            else:
                found.append(state)
    return found


def _r_any(ix: "_FieldIndex", v: Any) -> Hits:
    return ix.any


def _no_hits(v: Any) -> Hits:
    return None


def _r_multi(ix: "_FieldIndex", v: Any) -> Hits:
    found: list = []
    for probe in ix.probes:
        hit = probe(ix, v)
        if hit:
            found.extend(hit)
    return found


_TABLES = {"str": "exact", "num": "numbers", "lit": "literals", "ip": "ips", "ic": "ic"}
_AFFIXES = ("prefix", "suffix", "prefix_ic", "suffix_ic")


class _FieldIndex:
    """The transitions out of one state on one path."""

    __slots__ = ("conds", "exact", "numbers", "literals", "ips", "ic", "prefix", "suffix",
                 "prefix_ic", "suffix_ic", "prefix_lens", "suffix_lens", "prefix_ic_lens",
                 "suffix_ic_lens", "lens", "ranges", "preds", "cidrs", "any", "absent",
                 "probes", "read")

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
        self.lens: dict[str, Counter[int]] = {}  # writer bookkeeping: operand lengths per affix kind
        self.ranges = _EMPTY_RANGES
        self.preds: tuple = ()
        self.cidrs: tuple = ()  # (family, lo, hi, state)
        self.any: tuple = ()
        self.absent: tuple = ()
        self.probes: tuple[Reader, ...] = ()
        self.read: Callable[[Any], Hits] = _no_hits

    # ------------------------------------------------------------------ writing
    def add(self, cond: FieldCondition, state: Any) -> None:
        self.conds[cond] = state
        for m in cond.matchers:
            self._apply(m, state, adding=True)
        if cond.absent:
            self.absent = self.absent + (state,)
        self._specialise()

    def remove(self, cond: FieldCondition) -> None:
        state = self.conds.pop(cond)
        for m in cond.matchers:
            self._apply(m, state, adding=False)
        if cond.absent:
            self.absent = tuple(s for s in self.absent if s is not state)
        self._specialise()

    def _specialise(self) -> None:
        """Point ``read`` at the cheapest reader covering the structures now in use."""
        probes: list[Reader] = []
        if self.exact:
            probes.append(_r_exact)
        if self.numbers:
            probes.append(_r_numbers)
        if self.literals:
            probes.append(_r_literals)
        if self.ips or self.cidrs:
            probes.append(_r_ip)
        if self.ic:
            probes.append(_r_ic)
        if self.prefix:
            probes.append(_r_prefix)
        if self.suffix:
            probes.append(_r_suffix)
        if self.prefix_ic:
            probes.append(_r_prefix_ic)
        if self.suffix_ic:
            probes.append(_r_suffix_ic)
        if self.ranges.entries:
            probes.append(_r_ranges)
        if self.preds:
            probes.append(_r_preds)
        if self.any:
            probes.append(_r_any)
        kinds = tuple(probes)
        if kinds == self.probes:
            return  # same structures in use: keep the reader (states cache it in their plans)
        self.probes = kinds
        if not kinds:
            self.read = _no_hits
        elif kinds == (_r_exact,):
            self.read = self.exact.get  # the common case: the reader is the dict's own lookup
        else:
            self.read = partial(kinds[0] if len(kinds) == 1 else _r_multi, self)

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
        if kind == "exists":
            self.any = self.any + (state,) if adding else tuple(s for s in self.any if s is not state)
            return
        # (test, operand, state): the reader calls the operator's test directly.
        if adding:
            self.preds = self.preds + ((TESTS[kind], arg, state),)
        else:
            self.preds = tuple(p for p in self.preds if not (p[2] is state and p[1] == arg
                                                             and p[0] is TESTS[kind]))


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
