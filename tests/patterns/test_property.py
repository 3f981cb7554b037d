"""The compiled machine must agree with the reference matcher on random patterns and events."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from emulator.patterns import Ruleset, compile_event_pattern
from emulator.patterns.reference import reference_matches

KEYS = ["a", "b", "c"]
EVENT_KEYS = KEYS + ["d"]
STRINGS = ["", "x", "xy", "abc", "ab", "10.0.0.5", "2001:db8::1", "X", "a*b"]
NUMBERS = [0, 1, 2.5, -3, 100, 5e9, 6e9]

scalars = st.one_of(st.sampled_from(STRINGS), st.sampled_from(NUMBERS), st.sampled_from([True, False, None]))
events = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(EVENT_KEYS), inner, max_size=3)),
    max_leaves=12,
).map(lambda e: e if isinstance(e, dict) else {"a": e})

text = st.sampled_from(["", "x", "a", "ab", "10.0.0.5"])
operators = st.one_of(
    scalars,
    st.builds(lambda t: {"prefix": t}, text),
    st.builds(lambda t: {"suffix": t}, text),
    st.builds(lambda t: {"prefix": {"equals-ignore-case": t}}, text),
    st.builds(lambda t: {"suffix": {"equals-ignore-case": t}}, text),
    st.builds(lambda t: {"equals-ignore-case": t}, st.sampled_from(["x", "AB", ""])),
    st.builds(lambda t: {"wildcard": t}, st.sampled_from(["*", "a*", "*b", "a*b", "x*y*", "a\\*b"])),
    st.builds(lambda t: {"anything-but": t}, st.sampled_from(["x", 1, ["x", "ab"], [0, 2.5]])),
    st.builds(lambda f, t: {"anything-but": {f: t}},
              st.sampled_from(["prefix", "suffix", "equals-ignore-case"]), st.sampled_from(["a", "x"])),
    st.builds(lambda t: {"anything-but": {"wildcard": t}}, st.sampled_from(["a*", "*y"])),
    st.builds(lambda ops: {"numeric": ops},
              st.sampled_from([[">", 0], ["<=", 2.5], ["=", 100], [">=", -3, "<", 2.5], [">", 1e9]])),
    st.builds(lambda c: {"cidr": c}, st.sampled_from(["10.0.0.0/24", "2001:db8::/32"])),
    st.builds(lambda b: {"exists": b}, st.booleans()),
)
patterns = st.recursive(
    st.dictionaries(st.sampled_from(KEYS), st.lists(operators, min_size=1, max_size=3), min_size=1, max_size=2),
    lambda inner: st.one_of(
        st.dictionaries(st.sampled_from(KEYS), inner, min_size=1, max_size=2),
        # The fields beside "$or" use their own key: AWS's compiler lets a branch's field
        # *override* the same path outside the branch, which a plain AND oracle cannot express.
        st.builds(lambda a, b, rest: {**rest, "$or": [a, b]}, inner, inner,
                  st.dictionaries(st.just("d"), st.lists(operators, min_size=1, max_size=2),
                                  max_size=1)),
    ),
    max_leaves=4,
)


def _paths(node: dict, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in node.items():
        if key == "$or":
            for branch in value:
                out |= _paths(branch, prefix)
        elif isinstance(value, dict):
            out |= _paths(value, f"{prefix}{key}.")
        else:
            out.add(prefix + key)
    return out


def _overrides(node: dict, prefix: str = "") -> bool:
    """Does a "$or" branch set a path also set beside it? AWS's compiler lets the branch win."""
    outside = _paths({k: v for k, v in node.items() if k != "$or"}, prefix)
    for branch in node.get("$or", []):
        if outside & _paths(branch, prefix) or _overrides(branch, prefix):
            return True
    return any(isinstance(v, dict) and _overrides(v, f"{prefix}{k}.") for k, v in node.items()
               if k != "$or")


@settings(derandomize=True, database=None, max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(patterns, min_size=1, max_size=4), st.lists(events, min_size=1, max_size=4))
def test_ruleset_agrees_with_reference_matcher(pattern_list, event_list):
    assume(not any(_overrides(p) for p in pattern_list))
    rules = Ruleset()
    compiled = {}
    for i, p in enumerate(pattern_list):
        compiled[f"r{i}"] = compile_event_pattern(json.dumps(p))
        rules.add(f"r{i}", compiled[f"r{i}"])
    for event in event_list:
        expected = {name for name, p in zip(compiled, pattern_list, strict=True) if reference_matches(p, event)}
        assert rules.matching(event) == expected, (pattern_list, event)
        assert {n for n, c in compiled.items() if c.matches(event)} == expected
    for name in list(compiled)[::2]:
        rules.remove(name)
    for event in event_list:
        expected = {name for i, (name, p) in enumerate(zip(compiled, pattern_list, strict=True))
                    if i % 2 == 1 and reference_matches(p, event)}
        assert rules.matching(event) == expected


flat_events = st.dictionaries(
    st.sampled_from(EVENT_KEYS),
    st.one_of(scalars, st.dictionaries(st.sampled_from(KEYS), scalars, max_size=3)),
    max_size=4,
)


@settings(derandomize=True, database=None, max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(patterns, min_size=2, max_size=8), st.lists(flat_events, min_size=1, max_size=4))
def test_merged_states_agree_with_reference_matcher(pattern_list, event_list):
    """Events without arrays take the merging walk: the first sighting of a set of reached
    states walks them one by one, later ones through their merged state; both must be right,
    also after a rule is removed (which must drop the merged states)."""
    assume(not any(_overrides(p) for p in pattern_list))
    rules = Ruleset()
    for i, p in enumerate(pattern_list):
        rules.add(f"r{i}", compile_event_pattern(json.dumps(p)))
    for keep in (range(len(pattern_list)), range(1, len(pattern_list))):
        for _ in range(3):
            for event in event_list:
                expected = {f"r{i}" for i in keep if reference_matches(pattern_list[i], event)}
                assert rules.matching(event) == expected, (pattern_list, event)
        rules.remove("r0")
