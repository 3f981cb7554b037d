"""The delivery layer on its own: a Dispatcher built directly, real local HTTP receivers, the clock moved.

No server is needed: producers are the tests themselves. Waiting is done on the receivers
(``wait_for``, ``quiet``) and on ``wait_idle``; time that must pass for a retry is moved on the
emulator's clock, never slept through.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from emulator import clock
from emulator.delivery import (
    NO_RETRY,
    CallTarget,
    Delays,
    Delivery,
    Dispatcher,
    HttpTarget,
    Outcome,
    RecordTarget,
    RetryPolicy,
    ServiceTarget,
)
from emulator.errors import ServiceError
from tests.receivers import Received, receiver

ACCOUNT = "000000000000"
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    yield
    clock.reset()


@pytest.fixture
def dispatcher() -> Iterator[Dispatcher]:
    d = Dispatcher(workers=8)
    yield d
    d.close()


class Callbacks:
    """Records on_success / on_failure calls, thread-safely."""

    def __init__(self) -> None:
        self.successes: list[tuple[Delivery, Outcome]] = []
        self.failures: list[tuple[Delivery, Outcome]] = []
        self._lock = threading.Lock()

    def on_success(self, delivery: Delivery, outcome: Outcome) -> None:
        with self._lock:
            self.successes.append((delivery, outcome))

    def on_failure(self, delivery: Delivery, outcome: Outcome) -> None:
        with self._lock:
            self.failures.append((delivery, outcome))


def http(url: str, body: bytes | Callable[[], bytes] = b"x", *, retry: RetryPolicy = NO_RETRY, key: Any = None,
         callbacks: Callbacks | None = None, source: str = "sns", info: dict[str, Any] | None = None,
         account: str = ACCOUNT, region: str = REGION, **target: Any) -> Delivery:
    return Delivery(
        source=source, account=account, region=region, target=HttpTarget(url, body=body, **target),
        retry=retry, ordering_key=key, info=info or {},
        on_success=callbacks.on_success if callbacks else None,
        on_failure=callbacks.on_failure if callbacks else None,
    )


def entry(dispatcher: Dispatcher, delivery: Delivery) -> dict[str, Any]:
    (found,) = [e for e in dispatcher.log(delivery.account, delivery.region) if e["id"] == delivery.id]
    return found


def answering(*answers: tuple[int, dict[str, str], bytes]) -> Callable[[Received], tuple[int, dict[str, str], bytes]]:
    """A receiver's ``respond``: the next of ``answers`` per request, the last one repeating."""
    count = iter(range(10**9))

    def respond(_: Received) -> tuple[int, dict[str, str], bytes]:
        return answers[min(next(count), len(answers) - 1)]

    return respond


def blocked_until(event: threading.Event, status: int = 200) -> Callable[[Received], tuple[int, dict[str, str], bytes]]:
    def respond(_: Received) -> tuple[int, dict[str, str], bytes]:
        event.wait(10)
        return status, {}, b""

    return respond


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# -- HTTP ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("as_mapping", [True, False])
def test_http_delivery_carries_method_path_headers_and_body(dispatcher: Dispatcher, method: str,
                                                            as_mapping: bool) -> None:
    headers = {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification"}
    with receiver() as r:
        delivery = http(r.url + "/hook?x=1", b'{"hello": "world"}', method=method,
                        headers=headers if as_mapping else list(headers.items()))
        dispatcher.submit(delivery)
        (got,) = r.wait_for(1)
        assert dispatcher.wait_idle()
    assert (got.method, got.path, got.body) == (method, "/hook?x=1", b'{"hello": "world"}')
    assert got.headers["content-type"] == "text/plain; charset=UTF-8"
    assert got.headers["x-amz-sns-message-type"] == "Notification"
    assert delivery.state == "delivered"
    assert entry(dispatcher, delivery)["target"] == {"type": "http", "method": method, "url": r.url + "/hook?x=1"}


def test_a_callable_body_is_built_once_and_resent_identically(dispatcher: Dispatcher) -> None:
    built: list[int] = []

    def body() -> bytes:
        built.append(1)
        return b"signed-%d" % len(built)

    with receiver(statuses=(500, 503, 200)) as r:
        dispatcher.submit(http(r.url, body, retry=Delays([0, 0])))
        requests = r.wait_for(3)
        assert dispatcher.wait_idle()
    assert [q.body for q in requests] == [b"signed-1"] * 3
    assert len(built) == 1


@pytest.mark.parametrize("frozen", [True, False])
def test_a_failed_attempt_is_retried_only_when_the_clock_reaches_its_delay(dispatcher: Dispatcher,
                                                                           frozen: bool) -> None:
    if frozen:
        clock.freeze()
    with receiver(statuses=(500, 200)) as r:
        delivery = http(r.url, retry=Delays([30]))
        dispatcher.submit(delivery)
        r.wait_for(1)
        assert dispatcher.wait_idle()  # a retry due later does not count
        assert len(r.quiet(0.2)) == 1
        assert delivery.state == "retrying"
        clock.advance(29)
        assert len(r.quiet(0.2)) == 1
        clock.advance(1)
        r.wait_for(2)
        assert dispatcher.wait_idle()
    attempts = entry(dispatcher, delivery)["attempts"]
    assert [(a["ok"], a["status"]) for a in attempts] == [(False, 500), (True, 200)]
    assert attempts[1]["at"] - attempts[0]["at"] >= 30
    assert delivery.state == "delivered"


def _404_retryable(status: int) -> tuple[bool, bool]:
    return 200 <= status < 300, status == 404


@pytest.mark.parametrize(
    ("answers", "classify", "requests", "state", "last_status"),
    [
        ([200], None, 1, "delivered", 200),
        ([204], None, 1, "delivered", 204),
        ([400], None, 1, "failed", 400),
        ([403], None, 1, "failed", 403),
        ([404], None, 1, "failed", 404),
        ([302], None, 1, "failed", 302),  # redirects are not followed
        ([429, 200], None, 2, "delivered", 200),
        ([500, 200], None, 2, "delivered", 200),
        ([503, 503], None, 2, "failed", 503),  # retried until the policy gives up
        ([404, 200], _404_retryable, 2, "delivered", 200),
        ([500], _404_retryable, 1, "failed", 500),
    ],
)
def test_the_http_status_decides_delivered_retried_or_failed(
    dispatcher: Dispatcher, answers: list[int], classify: Any, requests: int, state: str, last_status: int
) -> None:
    callbacks = Callbacks()
    respond = answering(*[(status, {"Location": "/elsewhere"}, b"") for status in answers])
    with receiver(respond=respond) as r:
        delivery = http(r.url, retry=Delays([0]), callbacks=callbacks, classify=classify)
        dispatcher.submit(delivery)
        r.wait_for(requests)
        assert dispatcher.wait_idle()
        assert len(r.quiet(0.2)) == requests
    assert delivery.state == state
    assert [a["status"] for a in entry(dispatcher, delivery)["attempts"]][-1] == last_status
    if state == "delivered":
        assert [(d, o.status) for d, o in callbacks.successes] == [(delivery, last_status)]
        assert callbacks.failures == []
    else:
        ((failed, outcome),) = callbacks.failures
        assert failed is delivery
        assert (outcome.ok, outcome.status, outcome.error) == (False, last_status, f"HTTP {last_status}")
        assert callbacks.successes == []


@contextmanager
def hanging_up() -> Iterator[str]:
    """A server that reads each request's head and closes the connection without an answer (send it
    requests without a body: unread bytes would turn the close into a reset)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # the listener was closed: the test is over
                return
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(4096)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("endpoint", "error", "retryable"),
    [
        ("refused", "connection refused", True),
        ("hangs up", "connection closed before an answer", True),
        ("http://127.0.0.1:99999/", "invalid endpoint URL: Failed to parse: http://127.0.0.1:99999/", False),
        ("ftp://127.0.0.1/", "invalid endpoint URL: Not supported URL scheme ftp", False),
    ],
)
def test_network_failures_are_retried_by_the_policy_then_fail(dispatcher: Dispatcher, endpoint: str, error: str,
                                                              retryable: bool) -> None:
    callbacks = Callbacks()
    with hanging_up() as hang_up_url:
        url = {"refused": closed_port_url(), "hangs up": hang_up_url}.get(endpoint, endpoint)
        delivery = http(url, b"", retry=Delays([0, 0]), callbacks=callbacks)
        dispatcher.submit(delivery)
        assert dispatcher.wait_idle()
    attempts = entry(dispatcher, delivery)["attempts"]
    assert [(a["ok"], a["status"], a["error"]) for a in attempts] == [(False, None, error)] * (3 if retryable else 1)
    ((_, outcome),) = callbacks.failures
    assert (outcome.retryable, outcome.error) == (retryable, error)
    assert delivery.state == "failed"


def test_a_read_timeout_is_a_retryable_failure(dispatcher: Dispatcher) -> None:
    callbacks = Callbacks()
    with receiver(delay=1.5) as r:
        delivery = http(r.url, timeout=0.3, callbacks=callbacks)
        dispatcher.submit(delivery)
        r.wait_for(1)
        assert dispatcher.wait_idle()
    ((_, outcome),) = callbacks.failures
    assert (outcome.ok, outcome.retryable, outcome.status) == (False, True, None)
    assert outcome.error == "timed out after 0.3 s waiting for the answer"


@pytest.mark.parametrize(
    ("header", "low", "high"),
    [
        ("120", 120, 120),
        (email.utils.formatdate(time.time() + 3600, usegmt=True), 3000, 3600),
        ("soon", None, None),
    ],
)
def test_retry_after_reaches_the_outcome(dispatcher: Dispatcher, header: str, low: float | None,
                                         high: float | None) -> None:
    callbacks = Callbacks()
    with receiver(respond=answering((503, {"Retry-After": header}, b""))) as r:
        dispatcher.submit(http(r.url, callbacks=callbacks))
        assert dispatcher.wait_idle()
    ((_, outcome),) = callbacks.failures
    if low is None:
        assert outcome.retry_after is None
    else:
        assert low <= outcome.retry_after <= high


class HonourRetryAfter(RetryPolicy):
    """A policy that waits what the endpoint asked for (the dispatcher leaves that to the policy)."""

    def delay(self, attempts: int, age: float, outcome: Outcome) -> float | None:
        return outcome.retry_after if attempts == 1 else None


def test_a_policy_decides_to_wait_for_retry_after(dispatcher: Dispatcher) -> None:
    clock.freeze()
    with receiver(respond=answering((429, {"Retry-After": "120"}, b""), (200, {}, b""))) as r:
        delivery = http(r.url, retry=HonourRetryAfter())
        dispatcher.submit(delivery)
        r.wait_for(1)
        assert dispatcher.wait_idle()
        clock.advance(119)
        assert len(r.quiet(0.2)) == 1
        clock.advance(1)
        r.wait_for(2)
        assert dispatcher.wait_idle()
    assert delivery.state == "delivered"


def test_the_start_of_the_answer_is_kept_and_the_connection_reused(dispatcher: Dispatcher) -> None:
    callbacks = Callbacks()
    with receiver(respond=answering((200, {}, b"a" * 1000 + b"b" * 1000))) as r:
        for _ in range(3):  # one after the other, on one key
            dispatcher.submit(http(r.url, callbacks=callbacks, key="one connection"))
        r.wait_for(3)
        assert dispatcher.wait_idle()
        pool = dispatcher.http().connection_from_url(r.url)
    assert [o.body for _, o in callbacks.successes] == [b"a" * 1000 + b"b" * 24] * 3
    assert (pool.num_requests, pool.num_connections) == (3, 1)


def test_https_endpoints_are_reached_without_certificate_verification(dispatcher: Dispatcher,
                                                                      tmp_path: Path) -> None:
    with tls_receiver(tmp_path) as (url, bodies):
        delivery = http(url + "/secure", b"over tls")
        dispatcher.submit(delivery)
        assert dispatcher.wait_idle()
    assert bodies == [b"over tls"]
    assert delivery.state == "delivered"


# -- ordering --------------------------------------------------------------------------------------


def test_deliveries_on_one_key_arrive_in_submission_order(dispatcher: Dispatcher) -> None:
    with receiver() as r:
        dispatcher.submit_many(http(r.url, b"%d" % n, key=("fifo", "sub", "group")) for n in range(100))
        for n in range(100, 200):
            dispatcher.submit(http(r.url, b"%d" % n, key=("fifo", "sub", "group")))
        requests = r.wait_for(200)
    assert [int(q.body) for q in requests] == list(range(200))


def test_other_keys_overtake_a_slow_delivery_while_its_key_waits(dispatcher: Dispatcher) -> None:
    release = threading.Event()
    try:
        with receiver(respond=blocked_until(release)) as slow, receiver() as fast:
            dispatcher.submit(http(slow.url, b"slow-1", key="slow"))
            dispatcher.submit(http(slow.url, b"slow-2", key="slow"))
            slow.wait_for(1)
            dispatcher.submit_many(http(fast.url, b"%d" % n, key=None if n % 2 else f"k{n}") for n in range(20))
            fast.wait_for(20)
            assert [q.body for q in slow.quiet(0.2)] == [b"slow-1"]
            release.set()
            assert [q.body for q in slow.wait_for(2)] == [b"slow-1", b"slow-2"]
    finally:
        release.set()


def test_a_head_waiting_for_its_retry_blocks_its_key(dispatcher: Dispatcher) -> None:
    clock.freeze()
    failed_once: list[bytes] = []

    def respond(received: Received) -> tuple[int, dict[str, str], bytes]:
        if received.body == b"first" and not failed_once:
            failed_once.append(received.body)
            return 500, {}, b""
        return 200, {}, b""

    with receiver(respond=respond) as r:
        dispatcher.submit(http(r.url, b"first", key="group", retry=Delays([10])))
        dispatcher.submit(http(r.url, b"second", key="group"))
        dispatcher.submit(http(r.url, b"other", key="other group"))
        r.wait_for(2)
        assert dispatcher.wait_idle()
        assert sorted(q.body for q in r.quiet(0.2)) == [b"first", b"other"]
        clock.advance(10)
        requests = r.wait_for(4)
    assert [q.body for q in requests if q.body != b"other"] == [b"first", b"first", b"second"]


def test_concurrent_submitters_lose_nothing_and_duplicate_nothing(dispatcher: Dispatcher) -> None:
    threads, per_thread = 8, 125
    start = threading.Barrier(threads)
    with receiver() as r:
        def produce(t: int) -> None:
            start.wait()
            for n in range(per_thread):
                dispatcher.submit(http(r.url, b"%d-%d" % (t, n), key=f"t{t}" if t % 2 == 0 else None))

        producers = [threading.Thread(target=produce, args=(t,)) for t in range(threads)]
        for p in producers:
            p.start()
        for p in producers:
            p.join()
        r.wait_for(threads * per_thread, timeout=30)
        assert dispatcher.wait_idle(10)
        bodies = [q.body.decode() for q in r.quiet(0.2)]
    assert sorted(bodies) == sorted(f"{t}-{n}" for t in range(threads) for n in range(per_thread))
    for t in range(0, threads, 2):  # each keyed producer's deliveries kept their order
        assert [b for b in bodies if b.startswith(f"{t}-")] == [f"{t}-{n}" for n in range(per_thread)]


# -- the log ---------------------------------------------------------------------------------------


def test_the_log_records_every_attempt_as_json(dispatcher: Dispatcher) -> None:
    clock.freeze()
    submitted = clock.now()
    with receiver(statuses=(500, 200)) as r:
        delivery = http(r.url, retry=Delays([5]), info={"topic": "arn:t", "messageId": "m-1"})
        dispatcher.submit(delivery)
        r.wait_for(1)
        assert dispatcher.wait_idle()  # the retry is scheduled before the clock moves
        clock.advance(5)
        r.wait_for(2)
        assert dispatcher.wait_idle()
    (logged,) = dispatcher.log(ACCOUNT, REGION)
    json.dumps(logged)
    assert {k: logged[k] for k in ("id", "source", "info", "state", "submitted")} == {
        "id": delivery.id, "source": "sns", "info": {"topic": "arn:t", "messageId": "m-1"},
        "state": "delivered", "submitted": submitted,
    }
    assert [(a["at"], a["ok"], a["status"], a["error"]) for a in logged["attempts"]] == [
        (submitted, False, 500, "HTTP 500"), (submitted + 5, True, 200, None)]
    assert all(a["ms"] >= 0 for a in logged["attempts"])
    assert "payload" not in logged  # only recorded deliveries carry one
    logged["attempts"].clear()  # a copy: the dispatcher's own entry is untouched
    assert len(entry(dispatcher, delivery)["attempts"]) == 2


def test_the_log_is_bounded_per_account_and_region_and_filtered() -> None:
    d = Dispatcher(workers=2, log_size=5)
    try:
        def record(n: int, source: str = "sns", account: str = ACCOUNT, region: str = REGION) -> Delivery:
            return Delivery(source=source, account=account, region=region, target=RecordTarget(n),
                            info={"n": n, "topic": "even" if n % 2 == 0 else "odd"})

        d.submit_many(record(n) for n in range(8))
        d.submit(record(100, account="111111111111"))
        d.submit(record(200, region="eu-west-1"))
        d.submit(record(300, source="events"))
        assert d.wait_idle()
        assert [e["info"]["n"] for e in d.log(ACCOUNT, REGION)] == [4, 5, 6, 7, 300]
        assert [e["info"]["n"] for e in d.log(ACCOUNT, REGION, "sns")] == [4, 5, 6, 7]
        assert [e["info"]["n"] for e in d.log(ACCOUNT, REGION, "sns", topic="even")] == [4, 6]
        assert [e["info"]["n"] for e in d.log(ACCOUNT, REGION, topic="odd", n=5)] == [5]
        assert d.log(ACCOUNT, REGION, "sns", missing="x") == []
        assert [e["info"]["n"] for e in d.log("111111111111", REGION)] == [100]
        assert [e["info"]["n"] for e in d.log(ACCOUNT, "eu-west-1")] == [200]
        assert d.log("222222222222", REGION) == []
    finally:
        d.close()


def test_a_record_target_keeps_its_payload_in_the_log(dispatcher: Dispatcher) -> None:
    built: list[int] = []

    def payload() -> dict[str, Any]:
        built.append(1)
        return {"to": "+15555550100", "text": "hello"}

    lazy = Delivery(source="sns", account=ACCOUNT, region=REGION,
                    target=RecordTarget(payload, {"type": "sms", "to": "+15555550100"}))
    plain = Delivery(source="sns", account=ACCOUNT, region=REGION, target=RecordTarget("an email body"))
    dispatcher.submit_many([lazy, plain])
    assert dispatcher.wait_idle()
    first, second = dispatcher.log(ACCOUNT, REGION)
    assert (first["payload"], first["target"], first["state"]) == (
        {"to": "+15555550100", "text": "hello"}, {"type": "sms", "to": "+15555550100"}, "delivered")
    assert (second["payload"], second["target"]) == ("an email body", {"type": "record"})
    assert built == [1]


# -- other targets ---------------------------------------------------------------------------------


class FakeKinesis:
    def __init__(self, failures: int = 0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.failures = failures

    def put_record_internal(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        if len(self.calls) <= self.failures:
            raise ServiceError("Stream s under account 000000000000 not found.", code="ResourceNotFoundException")


class FakeRegistry:
    def __init__(self, **providers: Any) -> None:
        self.providers = providers

    def get(self, service: str) -> Any:
        return self.providers[service]


@pytest.mark.parametrize(("failures", "state", "errors"), [
    (0, "delivered", [None]),
    (1, "delivered", ["ResourceNotFoundException: Stream s under account 000000000000 not found.", None]),
    (5, "failed", ["ResourceNotFoundException: Stream s under account 000000000000 not found."] * 2),
])
def test_a_service_target_calls_the_provider_found_in_the_registry(failures: int, state: str,
                                                                  errors: list[str | None]) -> None:
    kinesis = FakeKinesis(failures)
    d = Dispatcher(FakeRegistry(kinesis=kinesis), workers=2)
    try:
        delivery = Delivery(
            source="events", account=ACCOUNT, region=REGION, retry=Delays([0]),
            target=ServiceTarget("kinesis", "put_record_internal", {"stream": "s", "data": b"x"},
                                 "123456789012", "eu-central-1"),
        )
        d.submit(delivery)
        assert d.wait_idle()
        logged = entry(d, delivery)
    finally:
        d.close()
    assert kinesis.calls[0] == {"account": "123456789012", "region": "eu-central-1", "stream": "s", "data": b"x"}
    assert [a["error"] for a in logged["attempts"]] == errors
    assert logged["state"] == state
    assert logged["target"] == {"type": "service", "service": "kinesis", "method": "put_record_internal",
                                "account": "123456789012", "region": "eu-central-1"}


def test_a_call_target_fails_when_its_function_raises(dispatcher: Dispatcher) -> None:
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("not yet")

    delivery = Delivery(source="events", account=ACCOUNT, region=REGION, target=CallTarget(flaky),
                        retry=Delays([0]))
    dispatcher.submit(delivery)
    assert dispatcher.wait_idle()
    assert [(a["ok"], a["error"]) for a in entry(dispatcher, delivery)["attempts"]] == [
        (False, "ValueError('not yet')"), (True, None)]


class BrokenTarget:
    def describe(self) -> dict[str, Any]:
        return {"type": "broken"}

    def attempt(self, delivery: Delivery, dispatcher: Dispatcher) -> Outcome:
        raise RuntimeError("target bug")


def test_failures_in_targets_and_callbacks_never_kill_a_worker(caplog: pytest.LogCaptureFixture) -> None:
    d = Dispatcher(workers=1)

    def explode(delivery: Delivery, outcome: Outcome) -> None:
        raise RuntimeError("callback bug")

    try:
        with caplog.at_level(logging.ERROR, logger="emulator.delivery"):
            broken = Delivery(source="sns", account=ACCOUNT, region=REGION, target=BrokenTarget(), on_failure=explode)
            fine = Delivery(source="sns", account=ACCOUNT, region=REGION, target=RecordTarget("ok"), on_success=explode)
            after = Delivery(source="sns", account=ACCOUNT, region=REGION, target=RecordTarget("still working"))
            d.submit_many([broken, fine, after])
            assert d.wait_idle()
    finally:
        d.close()
    assert (broken.state, fine.state, after.state) == ("failed", "delivered", "delivered")
    assert broken.attempts[0]["error"] == "RuntimeError('target bug')"
    messages = [record.getMessage() for record in caplog.records]
    assert any("the target failed" in m for m in messages)
    assert sum("callback failed" in m for m in messages) == 2


# -- idle, reset, close ----------------------------------------------------------------------------


def delivery_threads(d: Dispatcher) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(d.name + "-")]


def test_no_thread_starts_before_the_first_submit() -> None:
    d = Dispatcher()
    try:
        assert d.idle() and d.wait_idle(0.1)
        assert delivery_threads(d) == []
        d.submit(Delivery(source="sns", account=ACCOUNT, region=REGION, target=CallTarget(lambda: None)))
        assert d.wait_idle()
        assert len(delivery_threads(d)) == 1  # workers start on demand
    finally:
        d.close()


def test_a_recorded_delivery_completes_on_submit_and_builds_its_payload_when_first_read() -> None:
    d = Dispatcher()
    built: list[int] = []

    def payload() -> dict[str, int]:
        built.append(1)
        return {"n": len(built)}

    try:
        d.submit(Delivery(source="sns", account=ACCOUNT, region=REGION, target=RecordTarget(payload)))
        assert delivery_threads(d) == []  # no worker was needed
        assert built == []  # nobody has read it yet
        first, again = d.log(ACCOUNT, REGION)[0], d.log(ACCOUNT, REGION)[0]
        assert first["state"] == "delivered" and len(first["attempts"]) == 1 and first["attempts"][0]["ok"]
        assert first["payload"] == again["payload"] == {"n": 1} and built == [1]  # built once
    finally:
        d.close()


def test_a_recorded_delivery_behind_a_busy_lane_waits_its_turn() -> None:
    d = Dispatcher()
    release = threading.Event()
    try:
        d.submit(Delivery(source="sns", account=ACCOUNT, region=REGION, ordering_key="k",
                          target=CallTarget(release.wait)))
        d.submit(Delivery(source="sns", account=ACCOUNT, region=REGION, ordering_key="k", target=RecordTarget(2)))
        assert [e["state"] for e in d.log(ACCOUNT, REGION)][1] == "queued"
        release.set()
        assert d.wait_idle()
        assert [e["state"] for e in d.log(ACCOUNT, REGION)] == ["delivered", "delivered"]
    finally:
        d.close()


def test_idle_and_wait_idle_follow_work_in_flight(dispatcher: Dispatcher) -> None:
    release = threading.Event()
    try:
        with receiver(respond=blocked_until(release)) as r:
            dispatcher.submit(http(r.url))
            r.wait_for(1)
            assert not dispatcher.idle()
            assert not dispatcher.wait_idle(0.2)
            release.set()
            assert dispatcher.wait_idle()
            assert dispatcher.idle()
    finally:
        release.set()


def test_reset_drops_the_queued_and_scheduled_work_of_its_source(dispatcher: Dispatcher) -> None:
    clock.freeze()
    release = threading.Event()
    try:
        with receiver(statuses=(500, 200)) as sns_retry, receiver(statuses=(500, 200)) as events_retry, \
                receiver(respond=blocked_until(release, 500)) as slow:
            retrying = http(sns_retry.url, retry=Delays([60]))
            kept = http(events_retry.url, retry=Delays([60]), source="events")
            in_flight = http(slow.url, b"head", key="group", retry=Delays([0]))
            behind = [http(slow.url, b"behind", key="group") for _ in range(3)]
            dispatcher.submit_many([retrying, kept])
            sns_retry.wait_for(1)
            events_retry.wait_for(1)
            assert dispatcher.wait_idle()
            assert (retrying.state, kept.state) == ("retrying", "retrying")
            dispatcher.submit_many([in_flight, *behind])
            slow.wait_for(1)
            dispatcher.reset("sns")
            assert [d.state for d in [retrying, *behind]] == ["dropped"] * 4
            assert dispatcher.log(ACCOUNT, REGION, "sns") == []
            assert [e["id"] for e in dispatcher.log(ACCOUNT, REGION)] == [kept.id]
            release.set()  # the attempt in flight ends (500) and is not retried
            clock.advance(60)
            events_retry.wait_for(2)
            assert dispatcher.wait_idle()
            assert len(sns_retry.quiet(0.2)) == 1
            assert [q.body for q in slow.quiet(0.2)] == [b"head"]
        assert (in_flight.state, kept.state) == ("dropped", "delivered")
    finally:
        release.set()


def test_reset_of_everything_clears_every_log_and_queue(dispatcher: Dispatcher) -> None:
    clock.freeze()
    with receiver(statuses=(500,)) as r:
        deliveries = [http(r.url, retry=Delays([60]), source=source, region=region)
                      for source in ("sns", "events") for region in ("us-east-1", "eu-west-1")]
        dispatcher.submit_many(deliveries)
        r.wait_for(4)
        assert dispatcher.wait_idle()
        dispatcher.reset()
        clock.advance(60)
        assert len(r.quiet(0.2)) == 4
    assert [d.state for d in deliveries] == ["dropped"] * 4
    assert dispatcher.log(ACCOUNT, "us-east-1") == dispatcher.log(ACCOUNT, "eu-west-1") == []


def test_close_returns_within_two_seconds_while_an_attempt_is_in_flight() -> None:
    release = threading.Event()
    d = Dispatcher(workers=4)
    try:
        with receiver(respond=blocked_until(release)) as r:
            d.submit(http(r.url, timeout=30))
            d.submit(http(r.url, timeout=30, retry=Delays([600])))
            r.wait_for(2)
            closer = threading.Thread(target=d.close)
            closer.start()
            closer.join(2.0)
            assert not closer.is_alive()
            late = http(r.url)
            d.submit(late)
            assert late.state == "dropped"
            release.set()
    finally:
        release.set()


# -- an HTTPS receiver with a self-signed certificate ----------------------------------------------


@contextmanager
def tls_receiver(tmp_path: Path) -> Iterator[tuple[str, list[bytes]]]:
    """An HTTPS server with a fresh self-signed certificate; yields its URL and the bodies it received."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", bodies
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("rate", "starts", "expected"), [
    (3, [0.0] * 7, [None, None, None, 1.0, 1.0, 1.0, 2.0]),  # a burst: the rate at once, the rest per second
    (2, [0.0, 0.4, 0.9, 1.2, 1.3, 5.0], [None, None, 1.0, None, 2.0, None]),  # full until the window ends
    (1, [0.0, 2.0, 2.5], [None, None, 3.0]),  # an idle gap opens a new window at once
])
def test_a_rate_window_lets_rate_deliveries_start_in_any_second(rate: int, starts: list[float],
                                                                expected: list[float | None]) -> None:
    from emulator.delivery import RateWindow

    window = RateWindow()
    assert [window.take(now, rate) for now in starts] == expected
