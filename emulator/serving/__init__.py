"""The serving layer: an HTTP/1.1 + cleartext HTTP/2 server for one WSGI app, on one port.

Plain HTTP/1.x connections are served by one event-loop thread (``loop.py``): non-blocking sockets
watched by a ``selectors`` selector, the request head and body parsed as they arrive, and the app
called inline, on the loop's thread, for each complete request. With many keep-alive connections this
costs one thread's CPU and no more: no thread per connection taking the GIL from the others for every
request. The trade-off: while the app runs for one request, the other connections wait. The app is
meant to be fast and in memory (a request is tens of microseconds); a slow call delays everyone.

Two kinds of connection leave the loop for a thread of their own (``http1.H1Connection``, blocking
I/O, as before the loop existed), so that they never hold it up:

- a response the app gives as anything other than a list or tuple of bytes (a generator: SubscribeToShard
  streams events for up to five minutes) is written chunk by chunk, as produced, by a thread that then
  keeps the connection;
- a connection whose first bytes are the HTTP/2 client preface (``PRI * HTTP/2.0``, "prior knowledge",
  as the AWS SDK for JavaScript v3 sends to an ``http://`` endpoint) is served by ``http2.py``, one
  thread per connection and one per request stream. HTTP/2 framing, HPACK and flow control come from
  the ``h2`` library, imported only when the first HTTP/2 connection arrives, so start-up and idle
  memory pay nothing for it.

A response that the socket does not take at once (a large body, a slow reader) is kept and finished
when the socket becomes writable; that connection reads no further requests meanwhile, so pipelined
requests are answered in order.

HTTP/1.1 is parsed here (``http1.py``: request line, headers, ``Content-Length`` or chunked bodies),
with keep-alive, HTTP/1.0 and ``Expect: 100-continue``. Before a request body is read the optional
``admit(environ)`` hook sees the headers; when it returns ``(status, headers, body)`` that response is
sent and the body is never read into memory (on HTTP/1.1 the connection is then closed, after
discarding what the client still sends for a moment; on HTTP/2 the stream is reset). Bodies are always
read with a bound, ``max_body`` (413 beyond it), whether or not they declare their length.

``shutdown()`` may be called from any thread or a signal handler: it stops accepting, ends open
responses (streaming ones between two chunks; the ``emulator.stopping`` event in the environ lets a
generator that waits for data notice it at once) and ``serve_forever()`` returns within two seconds.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from emulator.serving.http1 import (
    _HOP_BY_HOP,  # noqa: F401 (http2.py's)
    H2_PREFACE,  # noqa: F401
    IDLE_TIMEOUT,  # noqa: F401
    MAX_HEAD,  # noqa: F401
    AdmitResult,
    ClientGone,
    simple_response,
)

log = logging.getLogger("emulator.serving")

Admit = Callable[[dict[str, Any]], AdmitResult]
SHUTDOWN_GRACE = 1.5  # seconds serve_forever waits for connection threads after shutdown()

_simple_response = simple_response  # the name http2.py imports


class Server:
    """Serve ``app`` (a WSGI callable) on ``host:port``; binds at construction (``OSError`` if it cannot)."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        host: str,
        port: int,
        *,
        admit: Admit | None = None,
        max_body: int = 16 * 1024 * 1024,
    ) -> None:
        self.app = app
        self.admit = admit
        self.max_body = max_body
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # create_server sets SO_REUSEADDR (a restarted server may rebind at once) but never
        # SO_REUSEPORT, so a port in use by a listening socket raises EADDRINUSE here.
        self._listener = socket.create_server((host, port), family=family, backlog=1024)
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_w.setblocking(False)
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._base_environ = {
            "SERVER_NAME": host,
            "SERVER_PORT": str(self.port),
            "SCRIPT_NAME": "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "emulator.stopping": self.stopping,
        }

    # -- life cycle -------------------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Serve until ``shutdown()``; then end the connections and return (within 2 seconds)."""
        from emulator.serving.loop import EventLoop  # noqa: PLC0415

        self._listener.setblocking(False)
        try:
            EventLoop(self).run()
        finally:
            self._stop_connections()

    def shutdown(self) -> None:
        """Ask ``serve_forever`` to stop. Thread-safe, idempotent, safe in a signal handler; does not wait."""
        self.stopping.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def close(self) -> None:
        """Release the listening socket (``serve_forever`` does this itself when it returns)."""
        self.stopping.set()
        for s in (self._listener, self._wake_r, self._wake_w):
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.close()

    def _stop_connections(self) -> None:
        self.close()
        with self._lock:
            conns = list(self._connections.items())
        for conn, _ in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)  # wakes threads blocked in recv/send
            except OSError:
                pass
        deadline = time.monotonic() + SHUTDOWN_GRACE
        for _, t in conns:
            t.join(max(0.0, deadline - time.monotonic()))

    def start_thread(self, conn: socket.socket, run: Callable[[], None], name: str) -> None:
        """Serve ``conn`` with ``run()`` on a thread of its own, which closes it at the end."""
        t = threading.Thread(target=self._run_thread, args=(conn, run), daemon=True, name=name)
        with self._lock:
            self._connections[conn] = t
        try:
            t.start()
        except BaseException:  # no thread to be had: drop the connection
            with self._lock:
                self._connections.pop(conn, None)
            conn.close()
            raise

    def _run_thread(self, conn: socket.socket, run: Callable[[], None]) -> None:
        try:
            run()
        except (OSError, ClientGone):
            pass
        except Exception:  # a bug here must not kill the server
            log.exception("error on a connection")
        finally:
            with self._lock:
                self._connections.pop(conn, None)
            try:
                conn.close()
            except OSError:
                pass

    # -- shared by both protocols -----------------------------------------------------------------

    def environ_for(
        self, method: str, target: str, protocol: str, headers: list[tuple[str, str]], addr: Any
    ) -> dict[str, Any]:
        """A WSGI environ from the request line and headers (``wsgi.input`` is set later)."""
        path, _, query = target.partition("?")
        if path.startswith(("http://", "https://")):  # absolute-form
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        env = dict(self._base_environ)
        env["REQUEST_METHOD"] = method
        env["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1") if "%" in path else path
        env["QUERY_STRING"] = query
        env["RAW_URI"] = env["REQUEST_URI"] = target
        env["SERVER_PROTOCOL"] = protocol
        if isinstance(addr, tuple):
            env["REMOTE_ADDR"], env["REMOTE_PORT"] = addr[0], str(addr[1])
        for name, value in headers:
            key = name.upper().replace("-", "_")
            if "_" in name:  # "X_Foo" would pass for "X-Foo" after the rename: drop it (as nginx does)
                continue
            if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
                env[key] = value
                continue
            key = "HTTP_" + key
            if key in env:
                env[key] += ("; " if key == "HTTP_COOKIE" else ", ") + value
            else:
                env[key] = value
        return env

    def call_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.app(environ, start_response)
