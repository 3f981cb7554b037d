"""Real local HTTP receivers for delivery tests: a server on a free port that records every request.

``Receiver`` answers each request with the next of its ``statuses`` (the last one repeats), after
``delay`` seconds if set, and records method, path, headers and body. ``wait_for(n)`` blocks the test
(not the emulator) until n requests arrived, so delivery tests need no sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # by lower-case name
    body: bytes
    at: float  # time.monotonic() when it arrived

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    statuses: Sequence[int] = (200,)
    delay: float = 0.0
    respond: Callable[[Received], tuple[int, dict[str, str], bytes]] | None = None
    requests: list[Received] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def _answer(self, received: Received) -> tuple[int, dict[str, str], bytes]:
        if self.respond is not None:
            return self.respond(received)
        with self._cond:
            index = len(self.requests) - 1
        status = self.statuses[min(index, len(self.statuses) - 1)]
        return status, {}, b""

    def _record(self, received: Received) -> None:
        with self._cond:
            self.requests.append(received)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first ``count`` requests, once they have arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.url} received {len(self.requests)} requests, expected {count}")
                self._cond.wait(left)
            return list(self.requests[:count])

    def quiet(self, seconds: float = 0.2) -> list[Received]:
        """Every request so far, after ``seconds`` without a new one (to check that nothing more comes)."""
        with self._cond:
            while True:
                seen = len(self.requests)
                self._cond.wait(seconds)
                if len(self.requests) == seen:
                    return list(self.requests)


@contextmanager
def receiver(statuses: Sequence[int] = (200,), delay: float = 0.0,
             respond: Callable[[Received], tuple[int, dict[str, str], bytes]] | None = None) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 and a free port, until the block ends."""
    state = Receiver(statuses=statuses, delay=delay, respond=respond)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            received = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                body, time.monotonic())
            state._record(received)
            if state.delay:
                time.sleep(state.delay)
            status, headers, payload = state._answer(received)
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the emulator gave up waiting (a timeout test)
                pass

        do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
