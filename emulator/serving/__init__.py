"""The serving layer: a threaded HTTP/1.1 + cleartext HTTP/2 server for one WSGI app.

One listening socket, one thread per connection (and, on HTTP/2, one thread per request stream), so a
long-lived streaming response (SubscribeToShard holds one open for up to five minutes) never takes a
worker away from other clients. The first bytes of every connection are sniffed: the HTTP/2 client
preface (``PRI * HTTP/2.0``, "prior knowledge", as the AWS SDK for JavaScript v3 sends to an
``http://`` endpoint) switches it to HTTP/2, anything else is HTTP/1.1 with keep-alive.

HTTP/1.1 is parsed here (request line, headers, ``Content-Length`` or chunked bodies); HTTP/2 framing,
HPACK and flow control come from the ``h2`` library, imported only when the first HTTP/2 connection
arrives, so start-up and idle memory pay nothing for it.

Before a request body is read the optional ``admit(environ)`` hook sees the headers; when it returns
``(status, headers, body)`` that response is sent and the body is never read into memory (on HTTP/1.1
the connection is then closed; on HTTP/2 the stream is reset). Bodies are always read with a bound,
``max_body`` (413 beyond it), whether or not they declare their length.

``shutdown()`` may be called from any thread or a signal handler: it stops accepting, ends open
responses (streaming ones between two chunks; the ``emulator.stopping`` event in the environ lets a
generator that waits for data notice it at once) and ``serve_forever()`` returns within two seconds.
"""

from __future__ import annotations

import io
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import unquote_to_bytes
from typing import Any

log = logging.getLogger("emulator.serving")

AdmitResult = tuple[int, list[tuple[str, str]], bytes] | None
Admit = Callable[[dict[str, Any]], AdmitResult]

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_HEAD = 64 * 1024  # request line + headers
IDLE_TIMEOUT = 120.0  # seconds a keep-alive connection may wait for its next request
SHUTDOWN_GRACE = 1.5  # seconds serve_forever waits for connection threads after shutdown()
LINGER_SECONDS = 2.0  # after refusing a body on HTTP/1.1, discard what the client still sends

_REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
    206: "Partial Content", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    408: "Request Timeout", 409: "Conflict", 410: "Gone", 411: "Length Required",
    412: "Precondition Failed", 413: "Content Too Large", 414: "URI Too Long",
    415: "Unsupported Media Type", 417: "Expectation Failed", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
}
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}
)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _ClientGone(Exception):
    """The peer closed the connection, or the server is stopping."""


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Unknown')}"


def _simple_response(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = (message + "\n").encode()
    return status, [("Content-Type", "text/plain; charset=utf-8")], body


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
        """Accept connections until ``shutdown()``; then end them and return (within 2 seconds)."""
        import selectors

        listener = self._listener
        listener.setblocking(False)
        sel = selectors.DefaultSelector()
        try:
            sel.register(listener, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while not self.stopping.is_set():
                for key, _ in sel.select():
                    if key.fileobj is listener and not self.stopping.is_set():
                        self._accept()
        finally:
            sel.close()
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

    def _accept(self) -> None:
        while True:
            try:
                conn, addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE and the like: log, back off a little, keep serving
                log.warning("accept failed: %s", exc)
                time.sleep(0.05)
                return
            conn.setblocking(True)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            t = threading.Thread(target=self._handle, args=(conn, addr), daemon=True, name="http-conn")
            with self._lock:
                self._connections[conn] = t
            t.start()

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

    def _handle(self, conn: socket.socket, addr: Any) -> None:
        try:
            conn.settimeout(IDLE_TIMEOUT)
            buf = b""
            while len(buf) < len(H2_PREFACE) and H2_PREFACE.startswith(buf):
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            if buf.startswith(H2_PREFACE):
                from emulator.serving import http2  # noqa: PLC0415 (h2 is imported on first use)

                http2.H2Connection(self, conn, addr, buf).run()
            else:
                _H1Connection(self, conn, addr, buf).run()
        except (OSError, _ClientGone):
            pass
        except Exception:  # a bug here must not kill the server
            log.exception("error on connection from %s", addr)
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


class _H1Connection:
    """One HTTP/1.x connection: requests one after another until either side closes."""

    def __init__(self, server: Server, conn: socket.socket, addr: Any, buf: bytes) -> None:
        self.server = server
        self.conn = conn
        self.addr = addr
        self.buf = buf

    def _recv(self) -> bytes:
        data = self.conn.recv(65536)
        if not data:
            raise _ClientGone
        return data

    def run(self) -> None:
        server = self.server
        while not server.stopping.is_set():
            # -- head
            buf = self.buf
            while True:
                end = buf.find(b"\r\n\r\n")
                if end >= 0:
                    break
                if len(buf) > MAX_HEAD:
                    return self._refuse(431, "request head too large")
                try:
                    data = self.conn.recv(65536)
                except TimeoutError:
                    return
                if not data:
                    return
                buf += data
            head, self.buf = buf[:end], buf[end + 4 :]
            if not head:  # stray CRLF between requests
                continue
            try:
                keep_alive = self._one_request(head)
            except _BadRequest as exc:
                return self._refuse(exc.status, str(exc))
            if not keep_alive:
                return

    def _one_request(self, head: bytes) -> bool:
        server = self.server
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ")
        except ValueError:
            raise _BadRequest(400, "malformed request line") from None
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            raise _BadRequest(505, "HTTP version not supported")
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name[-1] in " \t" or name[0] in " \t":
                raise _BadRequest(400, "malformed header line")
            headers.append((name, value.strip(" \t")))
        env = server.environ_for(method, target, version, headers, self.addr)
        conn_tokens = env.get("HTTP_CONNECTION", "").lower()
        if version == "HTTP/1.1":
            keep_alive = "close" not in conn_tokens
        else:
            keep_alive = "keep-alive" in conn_tokens
        te = env.pop("HTTP_TRANSFER_ENCODING", None)
        chunked = False
        if te is not None:
            if te.strip().lower() != "chunked":
                raise _BadRequest(501, "unsupported transfer-encoding")
            if "CONTENT_LENGTH" in env:
                raise _BadRequest(400, "both content-length and transfer-encoding")
            chunked = True
        length = 0
        if "CONTENT_LENGTH" in env:
            cl = env["CONTENT_LENGTH"]
            if not cl.isdigit():
                raise _BadRequest(400, "invalid content-length")
            length = int(cl)

        # -- admission, before any of the body is read
        refusal: AdmitResult = None
        if server.admit is not None:
            try:
                refusal = server.admit(env)
            except Exception:
                log.exception("error in the admission hook")
                refusal = _simple_response(500, "internal server error")
        if refusal is None and length > server.max_body:
            refusal = _simple_response(413, "request body too large")
        if refusal is not None:
            self._send_refusal(refusal, version)
            raise _ClientGone
        if env.get("HTTP_EXPECT", "").lower() == "100-continue" and (chunked or length):
            self.conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

        # -- body, bounded
        if chunked:
            body = self._read_chunked()
            env["CONTENT_LENGTH"] = str(len(body))
        elif length:
            buf = self.buf
            while len(buf) < length:
                buf += self._recv()
            body, self.buf = buf[:length], buf[length:]
        else:
            body = b""
        env["wsgi.input"] = io.BytesIO(body)
        return self._respond(env, version, keep_alive) and keep_alive

    def _read_chunked(self) -> bytes:
        limit = self.server.max_body
        parts: list[bytes] = []
        total = 0
        buf = self.buf
        while True:
            while (i := buf.find(b"\r\n")) < 0:
                if len(buf) > 4096:
                    raise _BadRequest(400, "malformed chunk size")
                buf += self._recv()
            size_text = buf[:i].split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequest(400, "malformed chunk size") from None
            buf = buf[i + 2 :]
            if size == 0:
                while (j := buf.find(b"\r\n")) != 0:  # trailers, ignored, up to the empty line
                    if j > 0:
                        buf = buf[j + 2 :]
                        continue
                    if len(buf) > MAX_HEAD:
                        raise _BadRequest(400, "trailers too large")
                    buf += self._recv()
                self.buf = buf[2:]
                return b"".join(parts)
            total += size
            if total > limit:
                self.buf = b""
                raise _BadRequest(413, "request body too large")
            while len(buf) < size + 2:
                buf += self._recv()
            if buf[size : size + 2] != b"\r\n":
                raise _BadRequest(400, "malformed chunk")
            parts.append(buf[:size])
            buf = buf[size + 2 :]

    def _send_refusal(self, refusal: tuple[int, list[tuple[str, str]], bytes], version: str) -> None:
        status, headers, body = refusal
        lines = [f"HTTP/1.1 {_status_line(status)}"]
        lines += [f"{k}: {v}" for k, v in headers if k.lower() not in ("content-length", "connection")]
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        self.conn.sendall("\r\n".join(lines).encode("latin-1") + body)
        self._linger()

    def _refuse(self, status: int, message: str) -> None:
        try:
            self._send_refusal(_simple_response(status, message), "HTTP/1.1")
        except OSError:
            pass

    def _linger(self) -> None:
        """Half-close, then discard (never keep) what the client still sends, for a short while.

        Closing a socket with unread data makes the kernel answer RST, and a client that is still
        sending its body would then lose the response it has not read yet.
        """
        conn = self.conn
        try:
            conn.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_SECONDS
            while not self.server.stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                conn.settimeout(min(left, 0.25))
                try:
                    if not conn.recv(65536):
                        break
                except TimeoutError:
                    continue
        except OSError:
            pass

    def _respond(self, env: dict[str, Any], version: str, keep_alive: bool) -> bool:
        """Run the app and write its response; False when the connection cannot be reused."""
        conn = self.conn
        stopping = self.server.stopping
        state: dict[str, Any] = {}
        head_only = env["REQUEST_METHOD"] == "HEAD"

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None:
                try:
                    if state.get("sent"):
                        raise exc_info[1].with_traceback(exc_info[2])
                finally:
                    exc_info = None
            elif "status" in state and not state.get("sent"):
                raise AssertionError("start_response called twice without exc_info")
            state["status"] = status
            state["headers"] = headers
            return write

        def head_bytes() -> bytes:
            status: str = state["status"]
            headers = state["headers"]
            out = [f"HTTP/1.1 {status}"]
            length = None
            for k, v in headers:
                lk = k.lower()
                if lk in _HOP_BY_HOP:
                    continue
                if lk == "content-length":
                    length = v
                out.append(f"{k}: {v}")
            code = status[:3]
            no_body = code in ("204", "304") or code[0] == "1"
            if length is not None or no_body:
                state["mode"] = "length"
            elif version == "HTTP/1.1":
                state["mode"] = "chunked"
                out.append("Transfer-Encoding: chunked")
            else:
                state["mode"] = "close"
            state["keep"] = keep_alive and state["mode"] != "close"
            if not state["keep"]:
                out.append("Connection: close")
            elif version == "HTTP/1.0":
                out.append("Connection: keep-alive")
            state["sent"] = True
            state["no_body"] = no_body or head_only
            out.append("\r\n")
            return "\r\n".join(out).encode("latin-1")

        def frame(data: bytes) -> bytes:
            if state["no_body"]:
                return b""
            if state["mode"] == "chunked":
                return b"%x\r\n%s\r\n" % (len(data), data)
            return data

        def write(data: bytes) -> None:
            if stopping.is_set():
                raise _ClientGone
            if not state.get("sent"):
                out = head_bytes()
                if data:
                    out += frame(data)
                conn.sendall(out)
            elif data:
                out = frame(data)
                if out:
                    conn.sendall(out)

        try:
            result = self.server.call_app(env, start_response)
        except Exception:
            log.exception("error in the WSGI app for %s %s", env["REQUEST_METHOD"], env["PATH_INFO"])
            conn.sendall(self._error_500())
            return False
        try:
            if type(result) is list and len(result) == 1 and not state.get("sent"):  # the common case
                write(result[0])
            else:
                for chunk in result:
                    if chunk:
                        write(chunk)
                    elif stopping.is_set():
                        raise _ClientGone
            if not state.get("sent"):
                write(b"")
            if state["mode"] == "chunked" and not state["no_body"]:
                conn.sendall(b"0\r\n\r\n")
        except (_ClientGone, OSError):
            return False
        except Exception:
            log.exception("error in the WSGI app for %s %s", env["REQUEST_METHOD"], env["PATH_INFO"])
            if not state.get("sent"):
                conn.sendall(self._error_500())
            return False
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.exception("error closing the WSGI response")
        return state["keep"]

    @staticmethod
    def _error_500() -> bytes:
        body = b"internal server error\n"
        return (
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
