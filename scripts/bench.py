#!/usr/bin/env python3
"""Benchmarks of the emulator's request path (never part of the test run).

    python scripts/bench.py                        # the emulator's app vs a no-op app, 8 connections
    python scripts/bench.py --seconds 5 --kinds ListStreams,noop
    python scripts/bench.py --app mypkg.mod:app    # any WSGI callable (or factory, see --app)
    python scripts/bench.py --url http://127.0.0.1:4566/ --kinds noop   # drive a running server
    python scripts/bench.py --startup "python -m emulator --port {port}" --startup-path /_emulator/health
    python scripts/bench.py --kinesis              # + PutRecord, GetRecords (Limit 100), PutRecords (100 x 100 B)
    python scripts/bench.py --kinesis-scale 1000000   # Kinesis cost with 1,000 vs 1,000,000 records held
    python scripts/bench.py --kinesis-memory 1000000  # bytes per stored record beyond data and key
    python scripts/bench.py --kinesis-memory-expiry 1000000  # memory held once records expire, after a reshard
    python scripts/bench.py --sns                  # Publish: no subscribers, 1,000 filtered;
                                                   # HTTP latency, 50 subscribers
    python scripts/bench.py --events               # PutEvents: 10 vs 10,000 non-matching rules; -> Kinesis latency

Throughput: the app under test and a no-op WSGI app each run on the project's serving layer
(``emulator.serving.Server``) in a subprocess of their own; client processes (separate from the
server, so they do not share its GIL) keep ``--connections`` keep-alive connections busy with one raw
HTTP/1.1 request kind for ``--seconds``, and the script prints req/s and the ratio to the no-op app
measured in the same run. The client's CPU share is printed too: on a 2-core machine the load
generator competes with the server for CPU, so compare figures from the same machine and run only.

Start-up: ``--startup CMD`` starts CMD (``{port}`` is replaced by a free port), sends GET
``--startup-path`` every few milliseconds until an HTTP response arrives, and reports the time from
process start to that first answer; then it waits ``--idle`` seconds and reports the resident memory
(VmRSS) of the process and its children.

To add a request kind, add an entry to ``REQUEST_KINDS``: a name -> (method, path, headers, body).
"""

from __future__ import annotations

import argparse
import base64
import importlib
import logging
import json
import multiprocessing
import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

_AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/{svc}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)

# name -> (method, path, headers, body). "noop" is what the no-op app is driven with.
REQUEST_KINDS: dict[str, tuple[str, str, dict[str, str], bytes]] = {
    "noop": ("POST", "/", {"Content-Type": "application/x-amz-json-1.1"}, b"{}"),
    "ListStreams": (
        "POST",
        "/",
        {
            "X-Amz-Target": "Kinesis_20131202.ListStreams",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": _AUTH.format(svc="kinesis"),
            "X-Amz-Date": "20240101T000000Z",
        },
        b"{}",
    ),
    "ListTopics": (
        "POST",
        "/",
        {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "Authorization": _AUTH.format(svc="sns"),
            "X-Amz-Date": "20240101T000000Z",
        },
        b"Action=ListTopics&Version=2010-03-31",
    ),
    "ListEventBuses": (
        "POST",
        "/",
        {
            "X-Amz-Target": "AWSEvents.ListEventBuses",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": _AUTH.format(svc="events"),
            "X-Amz-Date": "20240101T000000Z",
        },
        b"{}",
    ),
}
APP_KINDS = ["ListStreams", "ListTopics", "ListEventBuses"]
KINESIS_KINDS = ["PutRecord", "GetRecords", "PutRecords"]
SNS_KINDS = ["Publish", "Publish-1000-filtered"]  # made by scripts/bench_sns.py against the app
EVENTS_KINDS = ["PutEvents-10-rules", "PutEvents-10000-rules"]  # made by scripts/bench_events.py


# -- Kinesis request kinds, which need a stream (and records) first ------------------------------


def _kinesis(operation: str, body: dict) -> tuple[str, str, dict[str, str], bytes]:
    headers = {
        "X-Amz-Target": f"Kinesis_20131202.{operation}",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": _AUTH.format(svc="kinesis"),
        "X-Amz-Date": "20240101T000000Z",
    }
    return "POST", "/", headers, json.dumps(body).encode()


def call(url: str, request: tuple[str, str, dict[str, str], bytes]) -> dict:
    """One request on a fresh connection; the JSON answer (raises on an error status)."""
    import http.client

    method, path, headers, body = request
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status >= 300 and b"ResourceInUseException" not in data:
            raise RuntimeError(f"{headers.get('X-Amz-Target')}: {response.status} {data[:200]!r}")
        return json.loads(data or b"{}")
    finally:
        conn.close()


def _data(size: int = 100) -> str:
    return base64.b64encode(b"x" * size).decode()


def fill(url: str, stream: str, count: int, shards: int = 1) -> list[str]:
    """Creates ``stream`` and writes ``count`` 100-byte records; their sequence numbers, in order."""
    call(url, _kinesis("CreateStream", {"StreamName": stream, "ShardCount": shards}))
    sequence_numbers: list[str] = []
    for start in range(0, count, 500):
        batch = [{"Data": _data(), "PartitionKey": f"pk-{start + i}"} for i in range(min(500, count - start))]
        answer = call(url, _kinesis("PutRecords", {"StreamName": stream, "Records": batch}))
        sequence_numbers += [r["SequenceNumber"] for r in answer["Records"]]
    return sequence_numbers


def setup_kinesis(url: str) -> None:
    """Adds PutRecord, GetRecords and PutRecords to REQUEST_KINDS, against streams made on ``url``."""
    fill(url, "bench-write", 0, shards=4)
    fill(url, "bench-read", 1000)
    iterator = call(url, _kinesis("GetShardIterator", {
        "StreamName": "bench-read", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}))
    REQUEST_KINDS["PutRecord"] = _kinesis(
        "PutRecord", {"StreamName": "bench-write", "Data": _data(), "PartitionKey": "pk"})
    REQUEST_KINDS["GetRecords"] = _kinesis("GetRecords", {"ShardIterator": iterator["ShardIterator"], "Limit": 100})
    REQUEST_KINDS["PutRecords"] = _kinesis("PutRecords", {
        "StreamName": "bench-write", "Records": [{"Data": _data(), "PartitionKey": f"pk-{i}"} for i in range(100)]})


def kinesis_scale(url: str, seconds: float, connections: int, large: int) -> None:
    """PutRecord and GetShardIterator(AT_SEQUENCE_NUMBER) + GetRecords with 1,000 vs ``large`` records held."""
    host = urlsplit(url).netloc
    rates: dict[str, dict[str, float]] = {}
    for name, count in (("small", 1000), ("large", large)):
        started = time.perf_counter()
        sequence_numbers = fill(url, f"scale-{name}", count)
        middle = sequence_numbers[len(sequence_numbers) // 2]
        print(f"  {count:,} records written in {time.perf_counter() - started:.1f} s", flush=True)
        iterator_request = _kinesis("GetShardIterator", {
            "StreamName": f"scale-{name}", "ShardId": "shardId-000000000000",
            "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": middle})
        iterator = call(url, iterator_request)["ShardIterator"]
        kinds = {
            "PutRecord": _kinesis("PutRecord", {"StreamName": f"scale-{name}", "Data": _data(), "PartitionKey": "pk"}),
            "GetShardIterator": iterator_request,
            "GetRecords": _kinesis("GetRecords", {"ShardIterator": iterator, "Limit": 100}),
        }
        rates[name] = {}
        for kind, request in kinds.items():
            REQUEST_KINDS[f"{kind}-{name}"] = request
            r = measure_detail(url, raw_request(f"{kind}-{name}", host), seconds, connections)
            rates[name][kind] = r["rps"]
            print(f"  {kind:<18} {count:>9,} records held: {r['rps']:>8,.0f} req/s"
                  + (f"   {r['errors']} non-2xx" if r["errors"] else ""), flush=True)
    for kind in ("PutRecord", "GetShardIterator", "GetRecords"):
        print(f"  {kind}: {large:,} held costs {rates['small'][kind] / rates['large'][kind]:.2f}x the time of 1,000")
    pair = {n: 1 / rates[n]["GetShardIterator"] + 1 / rates[n]["GetRecords"] for n in rates}
    print(f"  GetShardIterator(AT_SEQUENCE_NUMBER) + GetRecords: {pair['large'] / pair['small']:.2f}x")


def kinesis_memory(count: int) -> None:
    """Bytes held per stored record beyond its data and partition key (in-process, by resident memory)."""
    import gc

    from emulator.config import Config
    from emulator.context import RequestContext
    from emulator.services.kinesis.provider import KinesisProvider

    provider = KinesisProvider(Config())
    ctx = RequestContext(service="kinesis", account="000000000000", region="us-east-1")
    provider.create_stream(ctx, stream_name="memory", shard_count=1)
    gc.collect()
    before = _rss_kib(os.getpid())
    payload_bytes = 0
    for start in range(0, count, 500):
        batch = [{"Data": os.urandom(100), "PartitionKey": f"pk-{start + i:09d}"} for i in range(500)]
        payload_bytes += sum(len(r["Data"]) + len(r["PartitionKey"]) for r in batch)
        provider.put_records(ctx, stream_name="memory", records=batch)
        del batch
    gc.collect()
    after = _rss_kib(os.getpid())
    held = (after - before) * 1024
    print(f"  {count:,} records of 100 bytes: {held / count:.0f} bytes each in memory, "
          f"{(held - payload_bytes) / count:.0f} beyond data and partition key")


def kinesis_memory_expiry(count: int) -> None:
    """Memory held by ``count`` records of 200 bytes once they expire on a resharded stream that gets
    no more writes: before the sweeper's pass (what was held until DeleteStream when trimming ran only
    inside writes) and after it, with the longest the pass held the store's lock."""
    import gc

    from emulator import clock
    from emulator.config import Config
    from emulator.context import RequestContext
    from emulator.services.kinesis.expiry import Sweeper
    from emulator.services.kinesis.provider import KinesisProvider

    provider = KinesisProvider(Config())
    ctx = RequestContext(service="kinesis", account="000000000000", region="us-east-1")
    provider.create_stream(ctx, stream_name="expiry", shard_count=1)
    gc.collect()
    empty = _rss_kib(os.getpid())
    for start in range(0, count, 500):
        batch = [{"Data": os.urandom(200), "PartitionKey": f"pk-{start + i:09d}"} for i in range(500)]
        provider.put_records(ctx, stream_name="expiry", records=batch)
        del batch
    provider.split_shard(ctx, stream_name="expiry", shard_to_split="shardId-000000000000",
                         new_starting_hash_key=str(2**127))
    provider._sweeper.stop()  # the pass below is timed alone, not raced by the provider's own thread
    clock.freeze()
    clock.advance(24 * 3600 + 1)
    gc.collect()
    expired = _rss_kib(os.getpid())
    store = provider._stores.get("000000000000", "us-east-1")
    longest = 0.0
    acquire, release = store.lock.acquire, store.lock.release
    held_since = [0.0]

    def timed_acquire(*args: object, **kwargs: object) -> bool:
        got = acquire(*args, **kwargs)
        held_since[0] = time.perf_counter()
        return got

    def timed_release() -> None:
        nonlocal longest
        longest = max(longest, time.perf_counter() - held_since[0])
        release()

    store.lock = _TimedLock(timed_acquire, timed_release)  # type: ignore[assignment]
    started = time.perf_counter()
    Sweeper(lambda: [store]).sweep()
    swept_in = time.perf_counter() - started
    store.lock = _TimedLock(acquire, release)  # type: ignore[assignment]
    gc.collect()
    after = _rss_kib(os.getpid())
    provider.close()
    clock.reset()
    print(f"  {count:,} records of 200 B, resharded, expired: {(expired - empty) / 1024:.0f} MB held before "
          f"the sweep, {(after - empty) / 1024:.0f} MB after it ({swept_in:.2f} s, the lock held at most "
          f"{longest * 1000:.2f} ms at a time)")


class _TimedLock:
    """A stand-in for a store's lock that times each hold (the benchmark's instrument only)."""

    def __init__(self, acquire: Callable[[], bool], release: Callable[[], None]) -> None:
        self._acquire, self._release = acquire, release

    def __enter__(self) -> bool:
        return self._acquire()

    def __exit__(self, *exc: object) -> None:
        self._release()


def raw_request(kind: str, host: str) -> bytes:
    """The bytes of one keep-alive HTTP/1.1 request of ``kind``."""
    method, path, headers, body = REQUEST_KINDS[kind]
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines += [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


# -- the load generator --------------------------------------------------------------------------


def _response_end(buf: bytes | bytearray) -> int:
    """The length of the first complete HTTP/1.1 response in ``buf``, or -1 if it is incomplete."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return -1
    head = bytes(buf[:end]).lower()
    start = end + 4
    i = head.find(b"\r\ncontent-length:")
    if i >= 0:
        j = head.find(b"\r\n", i + 2)
        length = int(head[i + 17 : j if j >= 0 else len(head)])
        return start + length if len(buf) >= start + length else -1
    if b"transfer-encoding: chunked" in head:
        k = buf.find(b"\r\n0\r\n\r\n", start - 2)
        return k + 7 if k >= 0 else -1
    if head.startswith((b"http/1.1 204", b"http/1.1 304")):
        return start
    raise RuntimeError("response without length: the benchmark needs keep-alive responses")


def _client(address: tuple[str, int], raw: bytes, seconds: float, connections: int, out) -> None:
    sel = selectors.DefaultSelector()
    bufs = {}
    for _ in range(connections):
        s = socket.create_connection(address)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        bufs[s] = bytearray()
        sel.register(s, selectors.EVENT_READ)
        s.send(raw)
    count = errors = 0
    t0 = time.perf_counter()
    c0 = os.times()
    deadline = t0 + seconds
    while True:
        now = time.perf_counter()
        if now >= deadline:
            break
        for key, _ in sel.select(deadline - now):
            s = key.fileobj
            data = s.recv(262144)
            if not data:
                raise RuntimeError("the server closed a keep-alive connection")
            buf = bufs[s]
            buf += data
            while (n := _response_end(buf)) >= 0:
                if not buf.startswith(b"HTTP/1.1 2"):
                    errors += 1
                del buf[:n]
                count += 1
                s.send(raw)
    elapsed = time.perf_counter() - t0
    c1 = os.times()
    for s in bufs:
        s.close()
    out.send((count, errors, elapsed, (c1.user - c0.user) + (c1.system - c0.system)))


def measure_detail(
    url: str, raw: bytes, seconds: float, connections: int, processes: int | None = None
) -> dict[str, float]:
    """Drive ``url`` with ``raw`` on ``connections`` keep-alive connections for ``seconds``.

    Returns req/s, the number of non-2xx answers, and the client's CPU share (its CPU seconds per
    wall-clock second, summed over its processes).
    """
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    processes = processes or min(connections, 2)
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    jobs = []
    for i in range(processes):
        share = connections // processes + (1 if i < connections % processes else 0)
        if not share:
            continue
        parent, child = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_client, args=(address, raw, seconds, share, child), daemon=True)
        p.start()
        jobs.append((p, parent))
    results = []
    for p, parent in jobs:
        results.append(parent.recv())
        p.join()
    count = sum(r[0] for r in results)
    elapsed = max(r[2] for r in results)
    return {
        "rps": count / elapsed,
        "errors": sum(r[1] for r in results),
        "client_cpu": sum(r[3] for r in results) / elapsed,
    }


def measure(url: str, raw_request_bytes: bytes, seconds: float, connections: int) -> float:
    """Requests per second of ``raw_request_bytes`` sent on ``connections`` keep-alive connections."""
    return measure_detail(url, raw_request_bytes, seconds, connections)["rps"]


# -- the servers under test ----------------------------------------------------------------------


def noop_app(environ, start_response):
    environ["wsgi.input"].read()
    body = b"{}"
    start_response(
        "200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))]
    )
    return [body]


def load_app(spec: str):
    """``module:attr``; ``module:attr()`` calls a factory (with ``emulator.config.Config()`` if it takes one)."""
    if spec == "noop":
        return noop_app
    module, _, attr = spec.partition(":")
    factory = attr.endswith("()") or attr == "make_app"
    obj = getattr(importlib.import_module(module), attr.removesuffix("()") or "app")
    if not factory:
        return obj
    try:
        from emulator.config import Config

        return obj(Config.from_env())  # EMULATOR_* settings apply, as for `python -m emulator`
    except TypeError:
        return obj()


def _serve(spec: str) -> None:
    """Subprocess entry: serve ``spec`` on a free port, print the port, serve until killed."""
    from emulator.serving import Server

    if spec != "noop":
        # Log as `python -m emulator` does (by default a line per request at INFO, on standard error;
        # EMULATOR_LOG_LEVEL as for the CLI), so the figures include it.
        from emulator.__main__ import configure_logging
        from emulator.config import Config

        configure_logging(getattr(logging, Config.from_env().log_level.upper()))
    server = Server(load_app(spec), "127.0.0.1", 0)
    print(server.port, flush=True)
    server.serve_forever()


class ServedApp:
    """A WSGI app served by the project's serving layer in a subprocess."""

    def __init__(self, spec: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", spec],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError(f"could not serve {spec!r} (exit status {self.proc.returncode})")
        self.url = f"http://127.0.0.1:{int(line)}"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


# -- start-up and memory -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_kib(pid: int) -> int:
    total = 0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def measure_startup(command: str, path: str, idle: float, timeout: float = 10.0) -> dict[str, float]:
    """Seconds from process start to the first HTTP answer on ``path``, and idle RSS in MB."""
    import shlex

    port = _free_port()
    argv = shlex.split(command.replace("{port}", str(port)))
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command!r} exited with status {proc.returncode}")
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"no answer from {command!r} within {timeout} s")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
                    s.sendall(request)
                    if s.recv(16).startswith(b"HTTP/"):
                        break
            except OSError:
                time.sleep(0.002)
        startup = time.perf_counter() - t0
        time.sleep(idle)
        return {"startup_s": startup, "idle_rss_mb": _rss_kib(proc.pid) / 1024}
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


# -- command line --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", default="emulator.server:make_app",
                    help="WSGI app as module:attr (module:attr() or make_app for a factory)")
    ap.add_argument("--kinds", default=",".join(APP_KINDS), help="request kinds to send to the app")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--url", help="drive a server that is already running instead of starting one")
    ap.add_argument("--startup", metavar="CMD", help="measure start-up time and idle RSS of CMD")
    ap.add_argument("--startup-path", default="/_emulator/health")
    ap.add_argument("--idle", type=float, default=1.0, help="seconds to wait before reading idle RSS")
    ap.add_argument("--repeat", type=int, default=1, help="start-up measurements to take (best is kept)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    ap.add_argument("--kinesis", action="store_true",
                    help="also PutRecord, GetRecords (Limit 100) and PutRecords (100 x 100 B)")
    ap.add_argument("--kinesis-scale", type=int, metavar="N",
                    help="PutRecord and GetShardIterator + GetRecords with 1,000 vs N records held")
    ap.add_argument("--kinesis-memory", type=int, metavar="N", help="memory per record with N records held")
    ap.add_argument("--kinesis-memory-expiry", type=int, metavar="N",
                    help="memory held by N expired records of a resharded stream, before and after the sweep")
    ap.add_argument("--sns", action="store_true",
                    help="Publish with no subscribers and with 1,000 filtered ones, HTTP delivery latency, "
                    "50 HTTP subscribers (see scripts/bench_sns.py)")
    ap.add_argument("--events", action="store_true",
                    help="PutEvents with 10 and with 10,000 non-matching rules, PutEvents -> Kinesis latency "
                    "(see scripts/bench_events.py)")
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        _serve(args.serve)
        return 0
    if args.kinesis_memory:
        kinesis_memory(args.kinesis_memory)
        return 0
    if args.kinesis_memory_expiry:
        kinesis_memory_expiry(args.kinesis_memory_expiry)
        return 0
    if args.kinesis and args.kinds == ",".join(APP_KINDS):
        args.kinds = ",".join(APP_KINDS + KINESIS_KINDS)
    if args.sns and args.kinds == ",".join(APP_KINDS):
        args.kinds = ",".join(SNS_KINDS)
    if args.events and args.kinds == ",".join(APP_KINDS):
        args.kinds = ",".join(EVENTS_KINDS)
    if set(args.kinds.split(",")) & set(EVENTS_KINDS):
        # 10,000 rules on one bus: the quota AWS raises on request, raised here.
        os.environ.setdefault("EMULATOR_EVENTS_RULES_PER_BUS", "20000")
    if set(args.kinds.split(",")) & set(SNS_KINDS):
        # 1,000 filtered subscriptions on one topic: the quota AWS raises on request, raised here.
        os.environ.setdefault("EMULATOR_SNS_FILTER_POLICIES_PER_TOPIC", "1000")

    results: dict[str, object] = {}
    if args.startup:
        runs = [measure_startup(args.startup, args.startup_path, args.idle) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["startup_s"])
        print(f"start-up to first answer: {best['startup_s']:.3f} s   idle RSS: {best['idle_rss_mb']:.1f} MB"
              f"   ({args.startup})")
        results["startup"] = best
        if args.url is None and not args.kinds:
            return 0

    kinds = [k for k in args.kinds.split(",") if k]
    for k in kinds:
        if k not in REQUEST_KINDS and k not in KINESIS_KINDS + SNS_KINDS + EVENTS_KINDS:
            ap.error(f"unknown request kind {k!r}; known: {', '.join(REQUEST_KINDS)}")

    def run(url: str, kind: str) -> dict[str, float]:
        host = urlsplit(url).netloc
        r = measure_detail(url, raw_request(kind, host), args.seconds, args.connections)
        print(f"  {kind:<16} {r['rps']:>9,.0f} req/s   client CPU {r['client_cpu']:.2f} cores"
              + (f"   {r['errors']} non-2xx answers" if r["errors"] else ""), flush=True)
        return r

    if args.url:
        print(f"{args.url}, {args.connections} keep-alive connections, {args.seconds:g} s each")
        results["url"] = {k: run(args.url, k) for k in kinds}
    else:
        servers = {}
        try:
            servers["noop"] = ServedApp("noop")
            try:
                servers["app"] = ServedApp(args.app)
            except Exception as exc:
                print(f"(app {args.app!r} not available: {exc}; measuring the no-op app only)")
                kinds = []
            if kinds and set(kinds) & set(KINESIS_KINDS):
                setup_kinesis(servers["app"].url)
            if kinds and set(kinds) & set(SNS_KINDS):
                import bench_sns

                bench_sns.setup_publish_kinds(servers["app"].url, REQUEST_KINDS)
            if kinds and set(kinds) & set(EVENTS_KINDS):
                import bench_events

                bench_events.setup_put_events_kinds(servers["app"].url, REQUEST_KINDS)
            if args.kinesis_scale:
                print(f"Kinesis cost against stream size, {args.connections} connections, {args.seconds:g} s each")
                kinesis_scale(servers["app"].url, args.seconds, args.connections, args.kinesis_scale)
                return 0
            print(f"emulator.serving, {args.connections} keep-alive connections, {args.seconds:g} s each")
            noop = run(servers["noop"].url, "noop")["rps"]
            results["noop"] = noop
            for kind in kinds:
                r = run(servers["app"].url, kind)
                r["ratio"] = r["rps"] / noop
                results[kind] = r
            if kinds:
                print("ratio to the no-op app: "
                      + "   ".join(f"{k} {results[k]['ratio']:.0%}" for k in kinds))
            if "Publish" in results and "Publish-1000-filtered" in results:
                ratio = results["Publish-1000-filtered"]["rps"] / results["Publish"]["rps"]
                results["filtered_ratio"] = ratio
                print(f"Publish to 1,000 filtered subscriptions (one matching) / Publish to none: {ratio:.0%}")
            if "PutEvents-10-rules" in results and "PutEvents-10000-rules" in results:
                ratio = results["PutEvents-10000-rules"]["rps"] / results["PutEvents-10-rules"]["rps"]
                results["rules_ratio"] = ratio
                print(f"PutEvents with 10,000 non-matching rules / with 10: {ratio:.0%}")
            if args.events:
                import bench_events

                latency = bench_events.kinesis_latency(servers["app"].url)
                print("PutEvents -> record readable in the Kinesis target: "
                      + "   ".join(f"{k} {v:.2f}" for k, v in latency.items()))
                results["events_kinesis_latency"] = latency
            if args.sns:
                import bench_sns

                latency = bench_sns.http_latency(servers["app"].url)
                print("Publish -> POST received by a local HTTP subscriber: "
                      + "   ".join(f"{k} {v:.2f}" for k, v in latency.items()))
                fifty = bench_sns.fan_out_50(servers["app"].url)
                print(f"one message to 50 HTTP subscribers: Publish answered in {fifty['answer_p50_ms']:.2f} ms (p50),"
                      f" all 50 received in {fifty['all_50_p50_ms']:.2f} ms (p50);"
                      f" {fifty['received']} of {fifty['expected']} deliveries arrived")
                results["sns_latency"], results["sns_fifty"] = latency, fifty
        finally:
            for s in servers.values():
                s.close()
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
