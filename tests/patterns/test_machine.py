"""The shared machine's speed devices must not change answers.

The Ruleset flattens only the paths its rules mention, keeps single values bare, orders each
chain by how selective its exact conditions are in the current ruleset, and indexes prefixes and
suffixes by operand length; each is checked here against the direct, per-pattern check.
"""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from emulator.patterns import Ruleset, compile_event_pattern
from emulator.patterns.flatten import flatten, flatten_split
from emulator.patterns.machine import _MAX_FILTER_DEPTH

KEYS = ["a", "b", "a.b", "", "c"]
scalars = st.one_of(st.sampled_from(["", "x", "ab", "abc", "10.0.0.5", "B"]), st.sampled_from([0, 1, 2.5]),
                    st.sampled_from([True, None]))
events = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)),
    max_leaves=10,
).map(lambda e: e if isinstance(e, dict) else {"a": e})
leaf = st.sampled_from([["x"], [{"prefix": "a"}], [{"suffix": "b"}], [{"prefix": ""}], [{"exists": False}],
                        [{"exists": True}], [{"numeric": [">", 0]}], [1], [{"anything-but": "x"}],
                        [{"equals-ignore-case": "b"}], ["x", {"prefix": "ab"}, {"suffix": "c"}]])
patterns = st.dictionaries(st.sampled_from(["a", "b", "a.b", "c"]),
                           st.one_of(leaf, st.dictionaries(st.sampled_from(["a", "b"]), leaf, min_size=1,
                                                           max_size=2)),
                           min_size=1, max_size=3)


@settings(derandomize=True, database=None, max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patterns, min_size=1, max_size=6), st.lists(events, min_size=1, max_size=4))
def test_ruleset_agrees_with_each_pattern_alone(pattern_list, event_list):
    """Dotted and empty keys included: the path filter must keep whatever a pattern can see."""
    rules = Ruleset()
    compiled = {f"r{i}": compile_event_pattern(json.dumps(p)) for i, p in enumerate(pattern_list)}
    for name, p in compiled.items():
        rules.add(name, p)
    for event in event_list:
        assert rules.matching(event) == {n for n, p in compiled.items() if p.matches(event)}, event
        assert rules.matching_flat(flatten(event)) == rules.matching(event)
    for name in list(compiled)[::2]:
        rules.remove(name)
        del compiled[name]
    for event in event_list:
        assert rules.matching(event) == {n for n, p in compiled.items() if p.matches(event)}, event


@settings(derandomize=True, database=None, max_examples=200, deadline=None)
@given(events)
def test_flatten_split_holds_the_same_values_as_flatten(event):
    single, multi = flatten_split(event)
    flat = flatten(event)
    assert set(single).isdisjoint(multi)
    assert set(single) | set(multi) == set(flat)
    for path, value in single.items():
        assert flat[path] == [(value, ())]
    for path, values in multi.items():
        assert sorted(map(repr, (v for v, _ in values))) == sorted(map(repr, (v for v, _ in flat[path])))


def test_unmentioned_parts_of_the_event_are_not_flattened():
    rules = Ruleset()
    rules.add("r", compile_event_pattern('{"detail": {"x": ["1"]}}'))
    single, multi = flatten_split({"detail": {"x": "1", "big": {"y": [1, 2]}}, "other": [1]}, rules._wanted)
    assert single == {"detail.x": "1"} and multi == {}
    assert rules.matching({"detail": {"x": "1"}, "other": {"x": "1"}}) == {"r"}
    assert rules.matching({"detail.x": "1"}) == {"r"}  # a dotted key is the same path
    assert rules.matching({"": {"detail": {"x": "1"}}}) == {"r"}  # as flatten() joins an empty key


def test_very_deep_paths_switch_the_filter_off_and_back_on():
    rules = Ruleset()
    rules.add("shallow", compile_event_pattern('{"a": ["1"]}'))
    depth = _MAX_FILTER_DEPTH + 1
    deep_text = '{"k":' * depth + '["x"]' + "}" * depth
    deep_event: dict = {"a": "1"}
    node = deep_event
    for _ in range(depth - 1):
        node["k"] = {}
        node = node["k"]
    node["k"] = "x"
    rules.add("deep", compile_event_pattern(deep_text))
    assert rules._wanted is None
    assert rules.matching(deep_event) == {"shallow", "deep"}
    rules.remove("deep")
    assert rules._wanted == {"a"}
    assert rules.matching(deep_event) == {"shallow"}


def test_chain_order_follows_selectivity_without_changing_answers():
    rng = random.Random(3)
    rules = Ruleset()
    compiled = {}
    for i in range(300):
        text = json.dumps({"source": [f"s{rng.randrange(60)}"], "kind": [f"k{rng.randrange(3)}"],
                           "n": [{"numeric": [">", rng.randrange(10)]}]})
        compiled[f"r{i}"] = compile_event_pattern(text)
        rules.add(f"r{i}", compiled[f"r{i}"])
    # The many-valued path leads: the root indexes ``source`` for all but the earliest rules.
    root = rules._root.fields
    kind_chains = len(root["kind"].conds) if "kind" in root else 0
    assert len(root["source"].conds) > 10 * kind_chains
    for _ in range(50):
        event = {"source": f"s{rng.randrange(60)}", "kind": f"k{rng.randrange(3)}", "n": rng.randrange(12)}
        assert rules.matching(event) == {n for n, p in compiled.items() if p.matches(event)}
    for name in compiled:
        rules.remove(name)
    assert rules._root.fields == {} and rules._wanted == set() and rules._operands == {"source": {}, "kind": {}}


def test_prefix_and_suffix_operands_of_many_lengths():
    rules = Ruleset()
    words = ["", "a", "ab", "abc", "abcd", "b", "bc", "zzz"]
    for w in words:
        rules.add(f"p-{w}", compile_event_pattern(json.dumps({"f": [{"prefix": w}]})))
        rules.add(f"s-{w}", compile_event_pattern(json.dumps({"f": [{"suffix": w}]})))
        rules.add(f"pi-{w}", compile_event_pattern(json.dumps({"f": [{"prefix": {"equals-ignore-case": w}}]})))
    for value in ["", "a", "abc", "abcd", "ABCD", "xbc", "zzz", "abcde"]:
        expected = {f"p-{w}" for w in words if value.startswith(w)}
        expected |= {f"s-{w}" for w in words if value.endswith(w)}
        expected |= {f"pi-{w}" for w in words if value.lower().startswith(w)}
        assert rules.matching({"f": value}) == expected, value
    for w in words[::2]:
        rules.remove(f"p-{w}")
    assert rules.matching({"f": "abcd"}) == ({"p-a", "p-abc"} | {f"s-{w}" for w in words if "abcd".endswith(w)}
                                             | {f"pi-{w}" for w in words if "abcd".startswith(w)})


def test_wildcards_indexed_by_last_segment_of_many_lengths():
    wildcards = ["*", "a*", "*b", "a*b", "*bc", "a*c*bc", "x*", "*zzz", "a\\**b", "*\\*"]
    compiled = {w: compile_event_pattern(json.dumps({"f": [{"wildcard": w}]})) for w in wildcards}
    rules = Ruleset()
    for w, p in compiled.items():
        rules.add(w, p)
    values = ["", "a", "ab", "abc", "acbc", "a*b", "a*xb", "zzz", "xzzz", "*", "b*", 5]
    for removed in (wildcards[::2], wildcards[1::2]):
        for value in values:
            expected = {w for w, p in compiled.items() if p.matches({"f": value})}
            assert rules.matching({"f": value}) == expected, value
        assert any(rules.matching({"f": v}) for v in values)
        for w in removed:
            rules.remove(w)
            del compiled[w]
    assert rules._root.fields == {}


def test_one_condition_matching_a_value_several_ways_matches_once():
    """``["x", {"prefix": "x"}]``: both find the same state; its rule and chain count once."""
    rules = Ruleset()
    rules.add("r", compile_event_pattern('{"a": ["xy", {"prefix": "x"}, {"wildcard": "*y"}], "b": ["1"]}'))
    rules.add("s", compile_event_pattern('{"a": [{"suffix": "y"}, {"equals-ignore-case": "XY"}]}'))
    assert rules.matching({"a": "xy", "b": "1"}) == {"r", "s"}
    assert rules.matching({"a": ["xy", "xyy"], "b": "1"}) == {"r", "s"}
    rules.remove("r")
    assert rules.matching({"a": "xy", "b": "1"}) == {"s"}


@settings(derandomize=True, database=None, max_examples=200, deadline=None)
@given(patterns, events)
def test_a_pattern_alone_reads_only_its_paths_with_the_same_answer(pattern, event):
    compiled = compile_event_pattern(json.dumps(pattern))
    assert compiled.matches(event) == compiled.matches_flat(flatten(event))


# Second conditions on one path "n", for two rules whose first conditions ("a" exact and "a"
# prefix) are met by the same probe: the merged state must answer for both through one index.
MERGED_PATHS = [
    ({"numeric": [">", 1]}, {"numeric": ["<", 9]}, [(5, {"A", "B"}), (0, {"B"}), (10, {"A"})]),
    ({"prefix": "ab"}, {"suffix": "yz"}, [("abyz", {"A", "B"}), ("ab", {"A"}), ("yz", {"B"})]),
    ("v", "w", [("v", {"A"}), ("w", {"B"}), ("x", set())]),
    ({"anything-but": "v"}, {"exists": True}, [("v", {"B"}), ("w", {"A", "B"})]),
    ({"exists": False}, {"exists": False}, [(None, {"A", "B"})]),
    ({"wildcard": "a*z"}, {"equals-ignore-case": "AZ"}, [("az", {"A", "B"}), ("abz", {"A"}), ("Az", {"B"})]),
    ({"cidr": "10.0.0.0/8"}, "10.1.2.3", [("10.1.2.3", {"A", "B"}), ("10.9.9.9", {"A"}), ("11.1.2.3", set())]),
    ({"prefix": {"equals-ignore-case": "AB"}}, {"suffix": {"equals-ignore-case": "YZ"}},
     [("aByZ", {"A", "B"}), ("ABc", {"A"})]),
]


@pytest.mark.parametrize("cond_a, cond_b, cases", MERGED_PATHS, ids=[json.dumps(c[:2]) for c in MERGED_PATHS])
def test_states_reached_together_probe_a_shared_path_once(cond_a, cond_b, cases):
    rules = Ruleset()
    rules.add("A", compile_event_pattern(json.dumps({"a": ["x1"], "n": [cond_a]})))
    rules.add("B", compile_event_pattern(json.dumps({"a": [{"prefix": "x"}], "n": [cond_b]})))
    for value, expected in cases:
        event = {"a": "x1"} if value is None else {"a": "x1", "n": value}
        for _sighting in range(3):  # one by one, then through the merged state
            assert rules.matching(event) == expected, (value, _sighting)
    merged = [v for v in rules._merged.values() if type(v).__name__ == "_State"]
    assert any("n" in m.fields for m in merged)  # the shared path went through one index


def test_merged_states_are_forgotten_on_every_change():
    rules = Ruleset()
    rules.add("exact", compile_event_pattern('{"a": ["Order Placed"], "n": [{"numeric": [">", 1]}]}'))
    rules.add("prefix", compile_event_pattern('{"a": [{"prefix": "Order"}], "n": [{"numeric": ["<", 9]}]}'))
    event = {"a": "Order Placed", "n": 5}
    assert rules.matching(event) == rules.matching(event) == {"exact", "prefix"}
    assert rules._merged
    rules.add("third", compile_event_pattern('{"a": [{"suffix": "Placed"}], "n": [5]}'))
    assert rules._merged == {}
    assert rules.matching(event) == rules.matching(event) == {"exact", "prefix", "third"}
    rules.remove("prefix")
    assert rules._merged == {}
    assert rules.matching(event) == rules.matching(event) == {"exact", "third"}
    assert rules.matching({"a": "Order Placed", "n": 0}) == set()
