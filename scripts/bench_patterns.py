#!/usr/bin/env python3
"""Benchmark of the event-pattern engine (not part of the test run).

Measures, in one run and side by side:
* events matched per second by a Ruleset of 10, 100, 1,000 and 10,000 rules of a realistic mix
  (each rule: an exact ``source``, an exact or prefix ``detail-type``, one ``detail`` condition of
  any operator), on events of about 1 KB with nested detail;
* the same for the rules the PutEvents benchmark puts on a bus: ``{"source": ["svc-<i>"],
  "detail-type": [...], "detail": {"x": [i]}}`` with some prefix, numeric and anything-but
  variants, none of which matches the events (each event does reach one rule's ``source``);
* the time to compile and add 10,000 rules;
* one pattern checked against one 1 KB event (TestEventPattern's path), in microseconds.

Usage: python3 scripts/bench_patterns.py
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator.patterns import Ruleset, compile_event_pattern  # noqa: E402

SOURCES = [f"com.example.service{i}" for i in range(200)]
TYPES = [f"Order {verb}" for verb in ("Placed", "Shipped", "Cancelled", "Refunded", "Updated",
                                      "Created", "Deleted", "Paid", "Failed", "Delivered")]
FIELDS = ["status", "amount", "customer.tier", "customer.ip", "region", "sku", "priority", "channel"]


def make_rule(rng: random.Random) -> str:
    detail_type = rng.choice(TYPES)
    dt = [detail_type] if rng.random() < 0.7 else [{"prefix": detail_type.split()[0]}]
    kind = rng.randrange(9)
    value = rng.randrange(1000)
    condition: dict = {
        0: {"status": [f"s{value % 20}"]},
        1: {"amount": [{"numeric": [">", value, "<=", value + 500]}]},
        2: {"customer": {"tier": [{"prefix": f"t{value % 5}"}]}},
        3: {"customer": {"ip": [{"cidr": f"10.{value % 256}.0.0/16"}]}},
        4: {"region": [{"anything-but": ["us-east-1", "eu-west-1"]}]},
        5: {"sku": [{"suffix": f"-{value % 50}"}]},
        6: {"priority": [{"exists": True}]},
        7: {"channel": [{"equals-ignore-case": f"WEB{value % 3}"}]},
        8: {"sku": [{"wildcard": f"sku-*-{value % 50}"}]},
    }[kind]
    return json.dumps({"source": [rng.choice(SOURCES)], "detail-type": dt, "detail": condition})


def make_event(rng: random.Random) -> dict:
    value = rng.randrange(1000)
    return {
        "version": "0", "id": f"{rng.getrandbits(128):032x}", "detail-type": rng.choice(TYPES),
        "source": rng.choice(SOURCES), "account": "123456789012", "time": "2024-05-01T12:00:00Z",
        "region": rng.choice(["us-east-1", "eu-west-1", "ap-south-1"]),
        "resources": [f"arn:aws:example:us-east-1:123456789012:order/{value}"],
        "detail": {
            "status": f"s{value % 20}", "amount": value * 1.5, "sku": f"sku-{value}-{value % 50}",
            "region": rng.choice(["us-east-1", "eu-west-1", "ap-south-1"]),
            "priority": rng.randrange(5), "channel": rng.choice(["web0", "Web1", "WEB2", "mobile"]),
            "customer": {"id": f"c-{value}", "tier": f"t{value % 5}-gold", "ip": f"10.{value % 256}.3.4",
                         "address": {"street": "1 Main Street", "city": "Springfield", "zip": "12345"},
                         "tags": ["loyal", "newsletter", "beta"]},
            "items": [{"sku": f"sku-{value + i}", "qty": i + 1, "price": 9.99 * (i + 1)} for i in range(4)],
            "notes": "x" * 200,
        },
    }


def putevents_rule(i: int) -> str:
    """One of the PutEvents benchmark's non-matching rules (see ``putevents_event``)."""
    detail: dict = {"x": [i]}
    if i % 20 == 1:
        source: list = [{"prefix": f"svc-{i}-"}]
    else:
        source = [f"svc-{i}"]
    if i % 20 == 2:
        detail = {"x": [{"numeric": [">", 1_000_000]}]}
    elif i % 20 == 3:
        detail = {"x": [i], "state": [{"anything-but": ["ok", "failed"]}]}
    return json.dumps({"source": source, "detail-type": ["Order Placed", "Order Shipped"],
                       "detail": detail})


def putevents_event(rng: random.Random, n: int) -> dict:
    """An event whose ``source`` names one of ``n`` rules but whose ``detail`` matches none."""
    return {"version": "0", "id": f"{rng.getrandbits(128):032x}", "detail-type": "Order Placed",
            "source": f"svc-{rng.randrange(n)}", "account": "123456789012",
            "time": "2024-05-01T12:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"x": -1, "state": "ok", "payload": "y" * 200}}


def throughput(rules: Ruleset, events: list[dict], seconds: float = 0.25) -> tuple[float, int]:
    """Events per CPU second over one trial (process time: other load on the host does not count)."""
    matched = 0
    done = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        for event in events:
            matched += len(rules.matching(event))
        done += len(events)
    return done / (time.process_time() - start), matched


def best_rates(rulesets: dict[int, Ruleset], events: list[dict], trials: int = 8) -> dict[int, tuple[float, int]]:
    """The best of several trials per size, interleaved so that warm-up and the host's load
    weigh alike on every size (a single first trial once made 10 rules look slower than 1,000)."""
    for rules in rulesets.values():  # warm-up: generated readers, merged states
        for event in events * 2:
            rules.matching(event)
    best: dict[int, tuple[float, int]] = {n: (0.0, 0) for n in rulesets}
    for _ in range(trials):
        for n, rules in rulesets.items():
            rate, matched = throughput(rules, events)
            if rate > best[n][0]:
                best[n] = (rate, matched)
    return best


def report(title: str, rates: dict[int, tuple[float, int]]) -> None:
    print(title)
    for n, (rate, matched) in rates.items():
        print(f"{n:>6} rules: {rate:>9,.0f} events/s  ({matched} matches)")
    print(f"throughput at 10,000 rules = {rates[10_000][0] / rates[10][0]:.0%} of 10 rules")


def main() -> None:
    rng = random.Random(7)
    texts = [make_rule(rng) for _ in range(10_000)]
    events = [make_event(rng) for _ in range(200)]
    size = sum(len(json.dumps(e)) for e in events) / len(events)
    print(f"events: {len(events)}, average size {size:.0f} bytes")

    start = time.perf_counter()
    big = Ruleset()
    for i, text in enumerate(texts):
        big.add(f"rule-{i}", compile_event_pattern(text))
    compile_s = time.perf_counter() - start
    print(f"compile + add 10,000 rules: {compile_s:.2f} s")

    rulesets = {10_000: big}
    for n in (10, 100, 1_000):
        rulesets[n] = Ruleset()
        for i, text in enumerate(texts[:n]):
            rulesets[n].add(f"rule-{i}", compile_event_pattern(text))
    report("realistic mix:", best_rates(dict(sorted(rulesets.items())), events))

    putevents = {}
    for n in (10, 10_000):
        putevents[n] = Ruleset()
        for i in range(n):
            putevents[n].add(f"rule-{i}", compile_event_pattern(putevents_rule(i)))
    pe_events = {n: [putevents_event(rng, n) for _ in range(200)] for n in putevents}
    rates = {n: best_rates({n: putevents[n]}, pe_events[n])[n] for n in putevents}
    report("PutEvents benchmark's rules (none matches):", rates)

    pattern = compile_event_pattern(texts[0])
    event = events[0]
    loops = 20_000
    start = time.perf_counter()
    for _ in range(loops):
        pattern.matches(event)
    single_us = (time.perf_counter() - start) / loops * 1e6
    print(f"single rule vs one {len(json.dumps(event))}-byte event: {single_us:.1f} us")


if __name__ == "__main__":
    main()
