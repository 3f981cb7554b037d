"""Generated readers: one function per field index, specialised to the structures it holds.

Matching at thousands of rules costs interpreter frames more than lookups: a chain such as
``partial -> _r_multi -> _r_prefix -> _by_length`` spends four calls to make one dict lookup
(0.4 to 1.8 us per probe, measured; the lookups themselves are ~50 ns). So each index gets one
function whose body is exactly the lookups its structures need, with those structures bound as
closure variables: a single frame per probe. A reader never returns one state twice (indexes
holding conditions with several matchers deduplicate), so the walk needs no ``seen`` set.

The source is generated per *shape* -- which structures are in use, and whether an affix table
holds one operand length or several -- and compiled once per shape; a write then only calls the
cached factory to bind the index's current structures (a closure, a microsecond), never ``exec``.
Shapes are a small closed set (a flag or three-way choice per structure), so the cache stays small.

Concurrency: a reader binds dicts (which writers change key by key) and immutable tuples and
range tables (which writers replace, and then rebind a new reader). A reader holding an older
function sees the tuples of its time: at worst it misses a condition whose rule is not yet
visible, or finds a state whose rule has just lost its name -- as before.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Callable

from .matchers import NUMERIC_LIMIT, literal_key, parse_ip
from .wildcard import wildcard_match

Read = Callable[[Any], Any]

_AFFIX_TABLES = ("prefix", "suffix", "prefix_ic", "suffix_ic", "wild")
_factories: dict[tuple, Callable[[Any], Read]] = {}


def make_reader(ix: Any) -> Read:
    """A reader for ``ix`` as it is now (call again after every change to its structures)."""
    shape = _shape(ix)
    factory = _factories.get(shape)
    if factory is None:
        factory = _factories[shape] = _compile(shape)
    return factory(ix)


def _shape(ix: Any) -> tuple:
    affixes = tuple(
        0 if not getattr(ix, kind) else 1 if len(getattr(ix, kind + "_lens")) == 1 else 2
        for kind in _AFFIX_TABLES
    )
    ranges = 0 if not ix.ranges.entries else 2 if ix.ranges.points else 1
    return (bool(ix.exact), bool(ix.ic), affixes, bool(ix.ips), bool(ix.cidrs), bool(ix.numbers),
            ranges, bool(ix.literals), bool(ix.preds), bool(ix.any), ix.multi > 0)


_ADD = "if h: found = h if found is None else [*found, *h]"


def _affix(kind: str, mode: int, text: str, suffix: bool) -> list[str]:
    """Lines probing one affix table with ``text`` (the value, or its lower-cased form).

    Wildcards are indexed by their last segment: a hit lists candidates to match in full.
    """
    add = [_ADD] if kind != "wild" else [
        "if h:",
        "    for segments, state in h:",
        "        if wildcard_match(segments, v):",
        "            found = [state] if found is None else [*found, state]"]
    if mode == 1:  # one operand length: a shorter value's slice is shorter than every key
        cut = f"{text}[len({text}) - {kind}_len:]" if suffix else f"{text}[:{kind}_len]"
        return [f"h = {kind}_get({cut})", *add]
    cut = f"{text}[n - size:]" if suffix else f"{text}[:size]"
    return [f"n = len({text})",
            f"for size in {kind}_lens:",
            "    if size > n: break",
            f"    h = {kind}_get({cut})",
            *("    " + line for line in add)]


def _compile(shape: tuple) -> Callable[[Any], Read]:
    exact, ic, affixes, ips, cidrs, numbers, ranges, literals, preds, any_, dedup = shape
    bind: list[str] = []
    text: list[str] = []
    if exact:
        bind.append("exact_get = ix.exact.get")
        text += ["h = exact_get(v)", _ADD]
    if ic or affixes[2] or affixes[3]:
        text.append("lv = v.lower()")
    if ic:
        bind.append("ic_get = ix.ic.get")
        text += ["h = ic_get(lv)", _ADD]
    for kind, mode in zip(_AFFIX_TABLES, affixes, strict=True):
        if mode:
            bind += [f"{kind}_get = ix.{kind}.get", f"{kind}_lens = ix.{kind}_lens",
                     f"{kind}_len = {kind}_lens[0]"]
            suffix = kind.startswith("suffix") or kind == "wild"
            text += _affix(kind, mode, "lv" if kind.endswith("_ic") else "v", suffix)
    if ips or cidrs:
        text += ["ip = parse_ip(v)", "if ip is not None:"]
        if ips:
            bind.append("ips_get = ix.ips.get")
            text += ["    h = ips_get(ip)", f"    {_ADD}"]
        if cidrs:
            bind.append("cidrs = ix.cidrs")
            text += ["    family, address = ip",
                     "    for fam, lo, hi, state in cidrs:",
                     "        if fam == family and lo <= address <= hi:",
                     "            found = [state] if found is None else [*found, state]"]
    num: list[str] = []
    if numbers:
        bind.append("numbers_get = ix.numbers.get")
        num += ["h = numbers_get(v)", _ADD]
    if ranges:
        bind.append("ranges = ix.ranges")
        num.append("if -LIMIT <= v <= LIMIT:")
        if ranges == 2:
            bind += ["points = ranges.points", "slots = ranges.slots", "npoints = len(points)"]
            num += ["    k = bisect_left(points, v)",
                    "    h = slots[2 * k + 1] if k < npoints and points[k] == v else slots[2 * k]",
                    f"    {_ADD}"]
        else:
            bind.append("entries = ranges.entries")
            num += ["    for lo, lo_open, hi, hi_open, state in entries:",
                    "        if (lo < v or (v == lo and not lo_open)) and (v < hi or (v == hi and not hi_open)):",
                    "            found = [state] if found is None else [*found, state]"]
    body = ["found = None", "t = type(v)"]
    branch = "if"
    if text:
        body += ["if t is str:", *("    " + line for line in text)]
        branch = "elif"
    if num:
        body += [f"{branch} t is int or t is float:", *("    " + line for line in num)]
        branch = "elif"
    if literals:
        bind.append("literals_get = ix.literals.get")
        body += [f"{branch} t is not str:" if branch == "if" else "else:",
                 "    h = literals_get(literal_key(v))", f"    {_ADD}"]
    if preds:
        bind.append("preds = ix.preds")
        body += ["for test, arg, state in preds:",
                 "    if test(arg, v):",
                 "        found = [state] if found is None else [*found, state]"]
    if any_:
        bind.append("any_states = ix.any")
        body += ["h = any_states", _ADD]
    if dedup:
        body += ["if found is not None and len(found) > 1:", "    found = tuple(dict.fromkeys(found))"]
    body.append("return found")
    source = "\n".join(["def factory(ix):", *("    " + line for line in bind), "    def read(v):",
                        *("        " + line for line in body), "    return read"])
    scope = {"parse_ip": parse_ip, "literal_key": literal_key, "bisect_left": bisect_left,
             "wildcard_match": wildcard_match, "LIMIT": NUMERIC_LIMIT}
    exec(compile(source, f"<reader {shape}>", "exec"), scope)  # noqa: S102 -- trusted, generated
    return scope["factory"]
