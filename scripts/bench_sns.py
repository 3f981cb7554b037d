"""SNS benchmarks, run by ``scripts/bench.py --sns`` (never part of the test run).

Four figures, each measured side by side in one run because this machine is shared and noisy:

- ``Publish`` of 300 bytes to a topic without subscribers, as a ratio of the no-op app's req/s on
  the same serving layer (bench.py measures both);
- ``Publish`` to a topic with 1,000 subscriptions, each with its own filter policy and one of them
  matching, as a ratio of ``Publish`` with none (the topic's compiled ruleset keeps it flat);
- latency from sending ``Publish`` to the POST arriving at a local HTTP subscriber (p50, p90, max);
- one message to 50 local HTTP subscribers: the publisher's answer time against the time until all
  50 have received it.

The subscriptions of the filter benchmark use the ``sqs`` protocol (confirmed at once, no endpoint to
run); the one that matches makes one recorded delivery per Publish, as a real topic would.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

import xmltodict

_AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/sns/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)
HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    "Authorization": _AUTH,
    "X-Amz-Date": "20240101T000000Z",
}
ACCOUNT = "000000000000"


def request(action: str, params: dict[str, str]) -> tuple[str, str, dict[str, str], bytes]:
    """A query-protocol request in bench.py's REQUEST_KINDS shape."""
    body = urlencode({"Action": action, "Version": "2010-03-31", **params}).encode()
    return "POST", "/", HEADERS, body


def call(url: str, action: str, params: dict[str, str], conn: http.client.HTTPConnection | None = None) -> Any:
    """One SNS call; its result element as a dict (raises on an error answer)."""
    parts = urlsplit(url)
    own = conn is None
    conn = conn or http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        method, path, headers, body = request(action, params)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{action}: {response.status} {data[:300]!r}")
        document = xmltodict.parse(data)
        return document[f"{action}Response"].get(f"{action}Result") or {}
    finally:
        if own:
            conn.close()


def _message(size: int = 300) -> str:
    return ("x" * size)[:size]


def setup_publish_kinds(url: str, kinds: dict[str, tuple[str, str, dict[str, str], bytes]]) -> None:
    """Adds ``Publish`` (no subscribers) and ``Publish-1000-filtered`` to bench.py's request kinds."""
    empty = call(url, "CreateTopic", {"Name": "bench-empty"})["TopicArn"]
    filtered = call(url, "CreateTopic", {"Name": "bench-filtered"})["TopicArn"]
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    for i in range(1000):
        call(url, "Subscribe", {
            "TopicArn": filtered, "Protocol": "sqs",
            "Endpoint": f"arn:aws:sqs:us-east-1:{ACCOUNT}:bench-{i}",
            "Attributes.entry.1.key": "FilterPolicy",
            "Attributes.entry.1.value": json.dumps({"customer": [f"c-{i}"], "size": [{"numeric": [">", i]}]}),
        }, conn)
    conn.close()
    attributes = {
        "MessageAttributes.entry.1.Name": "customer",
        "MessageAttributes.entry.1.Value.DataType": "String",
        "MessageAttributes.entry.1.Value.StringValue": "c-500",
        "MessageAttributes.entry.2.Name": "size",
        "MessageAttributes.entry.2.Value.DataType": "Number",
        "MessageAttributes.entry.2.Value.StringValue": "1000",
    }
    kinds["Publish"] = request("Publish", {"TopicArn": empty, "Message": _message(), **attributes})
    kinds["Publish-1000-filtered"] = request("Publish", {"TopicArn": filtered, "Message": _message(), **attributes})


class _Subscriber:
    """A local HTTP subscriber that confirms its subscription and notes when each notification arrives."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # message id -> perf_counter at arrival
        self.cond = threading.Condition()
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.perf_counter()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                document = json.loads(body)
                if document.get("Type") == "SubscriptionConfirmation":
                    threading.Thread(target=_get, args=(document["SubscribeURL"],), daemon=True).start()
                with subscriber.cond:
                    subscriber.arrivals[document["MessageId"]] = now
                    subscriber.cond.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def wait(self, message_id: str, timeout: float = 10.0) -> float:
        deadline = time.perf_counter() + timeout
        with self.cond:
            while message_id not in self.arrivals:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise RuntimeError(f"{self.url} never received {message_id}")
                self.cond.wait(left)
            return self.arrivals[message_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _get(url: str) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", f"{parts.path}?{parts.query}")
    conn.getresponse().read()
    conn.close()


def _subscribe_confirmed(url: str, topic: str, subscribers: list[_Subscriber]) -> None:
    for subscriber in subscribers:
        call(url, "Subscribe", {"TopicArn": topic, "Protocol": "http", "Endpoint": subscriber.url})
    deadline = time.perf_counter() + 20
    while time.perf_counter() < deadline:
        listed = call(url, "ListSubscriptionsByTopic", {"TopicArn": topic})
        members = (listed.get("Subscriptions") or {}).get("member") or []
        members = members if isinstance(members, list) else [members]
        if len(members) == len(subscribers) and all(m["SubscriptionArn"].startswith("arn:") for m in members):
            return
        time.sleep(0.05)
    raise RuntimeError("the subscribers did not confirm")


def http_latency(url: str, count: int = 200) -> dict[str, float]:
    """Publish -> POST received at one local HTTP subscriber, in milliseconds."""
    topic = call(url, "CreateTopic", {"Name": "bench-latency"})["TopicArn"]
    subscriber = _Subscriber()
    try:
        _subscribe_confirmed(url, topic, [subscriber])
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        latencies = []
        for _ in range(count):
            started = time.perf_counter()
            message_id = call(url, "Publish", {"TopicArn": topic, "Message": _message()}, conn)["MessageId"]
            latencies.append((subscriber.wait(message_id) - started) * 1000)
        conn.close()
    finally:
        subscriber.close()
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies),
        "p90_ms": latencies[int(len(latencies) * 0.9)],
        "max_ms": latencies[-1],
    }


def fan_out_50(url: str, rounds: int = 20) -> dict[str, float]:
    """One message to 50 local HTTP subscribers: the Publish answer time and the time until all 50 have it."""
    topic = call(url, "CreateTopic", {"Name": "bench-fifty"})["TopicArn"]
    subscribers = [_Subscriber() for _ in range(50)]
    try:
        _subscribe_confirmed(url, topic, subscribers)
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        answers, everyone = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            message_id = call(url, "Publish", {"TopicArn": topic, "Message": _message()}, conn)["MessageId"]
            answers.append((time.perf_counter() - started) * 1000)
            last = max(s.wait(message_id) for s in subscribers)
            everyone.append((last - started) * 1000)
        conn.close()
        received = sum(len(s.arrivals) for s in subscribers) - 50  # less the confirmations
    finally:
        for s in subscribers:
            s.close()
    return {
        "answer_p50_ms": statistics.median(answers),
        "all_50_p50_ms": statistics.median(everyone),
        "received": received,
        "expected": 50 * rounds,
    }
