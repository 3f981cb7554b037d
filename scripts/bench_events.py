"""EventBridge benchmarks, run by ``scripts/bench.py --events`` (never part of the test run).

Three figures, measured side by side in one run because this machine is shared and noisy:

- ``PutEvents`` (1 entry, ~300 B detail) on a bus with 10 rules that do not match it, as a ratio of
  the no-op app's req/s on the same serving layer (bench.py measures both);
- the same on a bus with 10,000 non-matching rules, as a ratio of the 10-rule figure (the bus's
  compiled ruleset should keep it flat);
- latency from sending ``PutEvents`` to the record being readable by GetRecords in the Kinesis
  stream a matching rule targets (p50, p90, max).

AWS allows 300 rules per bus (100 in most Regions) unless it raises the quota on request; bench.py
raises it for the 10,000-rule bus with ``EMULATOR_EVENTS_RULES_PER_BUS``, as a user would with
``--events-rules-per-bus``.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from typing import Any
from urllib.parse import urlsplit

_AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/{svc}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)
ACCOUNT = "000000000000"
KINDS = ["PutEvents-10-rules", "PutEvents-10000-rules"]
ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench"


def request(service: str, target: str, body: dict[str, Any]) -> tuple[str, str, dict[str, str], bytes]:
    """A JSON-protocol request in bench.py's REQUEST_KINDS shape."""
    headers = {
        "X-Amz-Target": target,
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": _AUTH.format(svc=service),
        "X-Amz-Date": "20240101T000000Z",
    }
    return "POST", "/", headers, json.dumps(body).encode()


def events(operation: str, body: dict[str, Any]) -> tuple[str, str, dict[str, str], bytes]:
    return request("events", f"AWSEvents.{operation}", body)


def kinesis(operation: str, body: dict[str, Any]) -> tuple[str, str, dict[str, str], bytes]:
    return request("kinesis", f"Kinesis_20131202.{operation}", body)


def call(conn: http.client.HTTPConnection, req: tuple[str, str, dict[str, str], bytes]) -> Any:
    """One request on a kept connection; the JSON answer (raises on an error status)."""
    method, path, headers, body = req
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise RuntimeError(f"{headers['X-Amz-Target']}: {response.status} {data[:300]!r}")
    return json.loads(data or b"{}")


def _connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)


def _entry(bus: str, source: str = "bench.app") -> dict[str, Any]:
    detail = {"order": "o-123456", "customer": "c-42", "items": [{"sku": f"sku-{i}", "qty": i} for i in range(6)],
              "note": "x" * 60}
    return {"Source": source, "DetailType": "order.placed", "Detail": json.dumps(detail), "EventBusName": bus}


def _rules(conn: http.client.HTTPConnection, bus: str, count: int) -> None:
    """``count`` rules on ``bus`` that the benchmark's events never match (varied, as real rules are)."""
    for i in range(count):
        pattern = {"source": [f"team-{i}.app"], "detail-type": [f"type-{i % 50}"]}
        if i % 3 == 0:
            pattern["detail"] = {"amount": [{"numeric": [">", i]}]}
        call(conn, events("PutRule", {"Name": f"r-{i}", "EventBusName": bus, "EventPattern": json.dumps(pattern)}))


def setup_put_events_kinds(url: str, kinds: dict[str, tuple[str, str, dict[str, str], bytes]]) -> None:
    """Adds ``PutEvents-10-rules`` and ``PutEvents-10000-rules`` to bench.py's request kinds."""
    conn = _connect(url)
    for bus, count in (("bench-10", 10), ("bench-10000", 10_000)):
        call(conn, events("CreateEventBus", {"Name": bus}))
        started = time.perf_counter()
        _rules(conn, bus, count)
        print(f"  {count:,} rules on {bus} in {time.perf_counter() - started:.1f} s", flush=True)
    conn.close()
    body = _entry("bench-10")
    assert 250 <= len(body["Detail"]) <= 350, len(body["Detail"])
    kinds["PutEvents-10-rules"] = events("PutEvents", {"Entries": [body]})
    kinds["PutEvents-10000-rules"] = events("PutEvents", {"Entries": [_entry("bench-10000")]})


def kinesis_latency(url: str, count: int = 200) -> dict[str, float]:
    """PutEvents -> the record readable by GetRecords in a rule's Kinesis target, in milliseconds."""
    conn = _connect(url)
    call(conn, kinesis("CreateStream", {"StreamName": "bench-latency", "ShardCount": 1}))
    stream = call(conn, kinesis("DescribeStreamSummary", {"StreamName": "bench-latency"}))
    arn = stream["StreamDescriptionSummary"]["StreamARN"]
    call(conn, events("CreateEventBus", {"Name": "bench-latency"}))
    call(conn, events("PutRule", {"Name": "to-stream", "EventBusName": "bench-latency",
                                  "EventPattern": json.dumps({"source": ["latency.app"]})}))
    call(conn, events("PutTargets", {"Rule": "to-stream", "EventBusName": "bench-latency",
                                     "Targets": [{"Id": "k", "Arn": arn, "RoleArn": ROLE}]}))
    iterator = call(conn, kinesis("GetShardIterator", {"StreamName": "bench-latency", "ShardId": "shardId-000000000000",
                                                       "ShardIteratorType": "LATEST"}))["ShardIterator"]
    put = events("PutEvents", {"Entries": [_entry("bench-latency", "latency.app")]})
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        event_id = call(conn, put)["Entries"][0]["EventId"]
        while True:
            answer = call(conn, kinesis("GetRecords", {"ShardIterator": iterator}))
            iterator = answer["NextShardIterator"]
            if answer["Records"]:
                break
            if time.perf_counter() - started > 10:
                raise RuntimeError(f"event {event_id} never reached the stream")
        latencies.append((time.perf_counter() - started) * 1000)
    conn.close()
    latencies.sort()
    return {"p50_ms": statistics.median(latencies), "p90_ms": latencies[int(len(latencies) * 0.9)],
            "max_ms": latencies[-1]}
