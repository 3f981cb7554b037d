"""Hostile input: deep and large patterns, hostile wildcards, concurrent readers and writers."""

from __future__ import annotations

import json
import threading
import time

import pytest

from emulator.patterns import (
    InvalidEventPatternError, InvalidFilterPolicyError, Ruleset, compile_event_pattern,
    compile_filter_policy,
)
from emulator.patterns.wildcard import parse_wildcard, wildcard_match


def test_deeply_nested_pattern_compiles_without_recursion_error():
    depth = 3000
    text = '{"a":' * depth + '["x"]' + "}" * depth
    event: dict = {}
    node = event
    for _ in range(depth - 1):
        node["a"] = {}
        node = node["a"]
    node["a"] = "x"
    with pytest.raises(InvalidEventPatternError) as err:
        compile_event_pattern(text)
    assert "Document nesting depth (1001) exceeds the maximum allowed (1000" in err.value.message
    ok = compile_event_pattern('{"a":' * 900 + '["x"]' + "}" * 900)
    assert ok.matches(event) is False  # 900 levels deep is a different path
    deep_event: dict = {}
    node = deep_event
    for _ in range(899):
        node["a"] = {}
        node = node["a"]
    node["a"] = ["x"]
    assert ok.matches(deep_event) is True
    rules = Ruleset()
    rules.add("deep", ok)
    assert rules.matching(deep_event) == {"deep"}


def test_or_explosion_is_rejected_not_expanded():
    text = "{" + ", ".join(f'"k{i}": {{"$or": [{{"a": ["1"]}}, {{"b": ["2"]}}]}}' for i in range(12)) + "}"
    with pytest.raises(InvalidEventPatternError):
        compile_event_pattern(text)
    with pytest.raises(InvalidFilterPolicyError) as err:
        compile_filter_policy(text, "MessageBody")
    assert err.value.message == "Invalid parameter: FilterPolicy: Filter policy is too complex"


def test_huge_flat_pattern_and_event_are_fine():
    pattern = {f"k{i}": [f"v{i}", {"prefix": "p"}, {"numeric": [">", i]}] for i in range(300)}
    compiled = compile_event_pattern(json.dumps(pattern))
    event = {f"k{i}": f"v{i}" for i in range(300)}
    assert compiled.matches(event)


def test_wildcard_matching_is_linear_on_hostile_input():
    segments = parse_wildcard("a*" * 30 + "b")
    text = "a" * 200_000
    start = time.perf_counter()
    assert wildcard_match(segments, text) is False
    assert time.perf_counter() - start < 0.5


def test_hostile_wildcard_rule_is_rejected_as_too_complex():
    with pytest.raises(InvalidEventPatternError) as err:
        compile_event_pattern(json.dumps({"f": [{"wildcard": "*a*a*a*a*a*a*a*"}]}))
    assert "Rule is too complex" in err.value.message


def test_readers_see_whole_rules_while_writers_change_the_set():
    rules = Ruleset()
    keep = compile_event_pattern('{"source": ["s"], "detail": {"n": [{"numeric": [">", 0]}]}}')
    churn = compile_event_pattern('{"source": ["s"], "detail": {"x": [{"prefix": "a"}]}}')
    rules.add("keep", keep)
    event = {"source": "s", "detail": {"n": 1, "x": "abc"}}
    errors: list[BaseException] = []
    stop = threading.Event()

    def read():
        try:
            while not stop.is_set():
                got = rules.matching(event)
                assert "keep" in got
                assert got <= {"keep"} | {f"c{i}" for i in range(50)}
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    for _round in range(20):
        for i in range(50):
            rules.add(f"c{i}", churn)
        for i in range(50):
            rules.remove(f"c{i}")
    stop.set()
    for t in readers:
        t.join()
    assert not errors
    assert rules.matching(event) == {"keep"}
    assert rules.remove("keep") and rules.matching(event) == set()
    assert rules._root.fields == {}
