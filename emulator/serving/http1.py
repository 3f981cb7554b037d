"""HTTP/1.x: the request head, bounded bodies, the response, and a connection served by its own thread.

The pieces here are shared by the two ways an HTTP/1.x connection is served: on the event loop
(``loop.py``, non-blocking, the usual case) and on a thread of its own (``H1Connection``, blocking, for
a connection whose response streams). Neither does any I/O through the other's code: parsing and
framing take and give bytes.
"""

from __future__ import annotations

import io
import logging
import socket
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import threading

    from emulator.serving import Server

log = logging.getLogger("emulator.serving")

AdmitResult = tuple[int, list[tuple[str, str]], bytes] | None

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_HEAD = 64 * 1024  # request line + headers
MAX_CHUNK_LINE = 4096  # a chunk-size line, with its extensions
IDLE_TIMEOUT = 120.0  # seconds a connection may make no progress (its next request, a body, a write)
LINGER_SECONDS = 2.0  # after refusing a body, discard what the client still sends

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
_HEX = frozenset(b"0123456789abcdefABCDEF")
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
ERROR_500 = (
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 22\r\nConnection: close\r\n\r\ninternal server error\n"
)


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ClientGone(Exception):
    """The peer closed the connection, or the server is stopping."""


def status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Unknown')}"


def simple_response(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = (message + "\n").encode()
    return status, [("Content-Type", "text/plain; charset=utf-8")], body


def refusal_bytes(refusal: tuple[int, list[tuple[str, str]], bytes]) -> bytes:
    """A refusal (of ``admit``, or of a malformed request) as a response that closes the connection."""
    status, headers, body = refusal
    lines = [f"HTTP/1.1 {status_line(status)}"]
    lines += [f"{k}: {v}" for k, v in headers if k.lower() not in ("content-length", "connection")]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


class Request:
    """A parsed request head: the environ (no ``wsgi.input`` yet) and how to read the body."""

    __slots__ = ("env", "version", "keep_alive", "chunked", "length", "expect_continue")

    def __init__(self, server: Server, head: bytes | bytearray, addr: Any) -> None:
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ")
        except ValueError:
            raise BadRequest(400, "malformed request line") from None
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            raise BadRequest(505, "HTTP version not supported")
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name[-1] in " \t" or name[0] in " \t":
                raise BadRequest(400, "malformed header line")
            headers.append((name, value.strip(" \t")))
        env = server.environ_for(method, target, version, headers, addr)
        conn_tokens = env.get("HTTP_CONNECTION", "").lower()
        if version == "HTTP/1.1":
            self.keep_alive = "close" not in conn_tokens
        else:
            self.keep_alive = "keep-alive" in conn_tokens
        te = env.pop("HTTP_TRANSFER_ENCODING", None)
        self.chunked = False
        if te is not None:
            if te.strip().lower() != "chunked":
                raise BadRequest(501, "unsupported transfer-encoding")
            if "CONTENT_LENGTH" in env:
                raise BadRequest(400, "both content-length and transfer-encoding")
            self.chunked = True
        self.length = 0
        if "CONTENT_LENGTH" in env:
            cl = env["CONTENT_LENGTH"]
            if not cl.isdigit():
                raise BadRequest(400, "invalid content-length")
            self.length = int(cl)
        self.env = env
        self.version = version
        self.expect_continue = (self.chunked or self.length > 0) and (
            env.get("HTTP_EXPECT", "").lower() == "100-continue"
        )

    def admission(self, server: Server) -> AdmitResult:
        """The ``admit`` hook's refusal, or 413 for a declared length over ``max_body``; None to go on."""
        refusal: AdmitResult = None
        if server.admit is not None:
            try:
                refusal = server.admit(self.env)
            except Exception:
                log.exception("error in the admission hook")
                refusal = simple_response(500, "internal server error")
        if refusal is None and self.length > server.max_body:
            refusal = simple_response(413, "request body too large")
        return refusal


class ChunkedBody:
    """An incremental reader of a chunked body, bounded by ``limit`` bytes of content."""

    __slots__ = ("limit", "parts", "total", "size", "trailers")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.total = 0
        self.size = -1  # -1: a chunk-size line comes next; else the chunk's data and its CRLF
        self.trailers = False

    def feed(self, buf: bytearray) -> bytes | None:
        """Consume what it can of ``buf``; the whole body once its last chunk is in, else None."""
        while True:
            if self.trailers:  # ignored, up to the empty line
                j = buf.find(b"\r\n")
                if j < 0:
                    if len(buf) > MAX_HEAD:
                        raise BadRequest(400, "trailers too large")
                    return None
                del buf[: j + 2]
                if j == 0:
                    return b"".join(self.parts)
                continue
            if self.size < 0:
                i = buf.find(b"\r\n")
                if i < 0:
                    if len(buf) > MAX_CHUNK_LINE:
                        raise BadRequest(400, "malformed chunk size")
                    return None
                size_text = bytes(buf[:i]).split(b";", 1)[0].strip()
                if not size_text or not _HEX.issuperset(size_text):
                    raise BadRequest(400, "malformed chunk size")
                size = int(size_text, 16)
                del buf[: i + 2]
                if size == 0:
                    self.trailers = True
                    continue
                self.total += size
                if self.total > self.limit:
                    raise BadRequest(413, "request body too large")
                self.size = size
            size = self.size
            if len(buf) < size + 2:
                return None
            if buf[size : size + 2] != b"\r\n":
                raise BadRequest(400, "malformed chunk")
            self.parts.append(bytes(buf[:size]))
            del buf[: size + 2]
            self.size = -1


class Response:
    """``start_response`` and the HTTP/1.1 framing of one response; bytes go to ``sink``."""

    __slots__ = (
        "version", "keep_alive", "head_only", "stopping", "sink",
        "status", "headers", "sent", "chunked", "keep", "no_body",
    )

    def __init__(
        self, version: str, keep_alive: bool, head_only: bool, stopping: threading.Event,
        sink: Callable[[bytes], Any],
    ) -> None:
        self.version = version
        self.keep_alive = keep_alive
        self.head_only = head_only
        self.stopping = stopping
        self.sink = sink
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.sent = False
        self.chunked = False
        self.keep = False
        self.no_body = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None and not self.sent:
            raise AssertionError("start_response called twice without exc_info")
        self.status = status
        self.headers = headers
        return self.write

    def head_bytes(self) -> bytes:
        status = self.status
        if status is None:
            raise AssertionError("the response's body came before start_response")
        out = [f"HTTP/1.1 {status}"]
        length = None
        for k, v in self.headers:
            lk = k.lower()
            if lk in _HOP_BY_HOP:
                continue
            if lk == "content-length":
                length = v
            out.append(f"{k}: {v}")
        code = status[:3]
        no_body = code in ("204", "304") or code[0] == "1"
        close_delimited = False
        if length is None and not no_body:
            if self.version == "HTTP/1.1":
                self.chunked = True
                out.append("Transfer-Encoding: chunked")
            else:
                close_delimited = True
        self.keep = self.keep_alive and not close_delimited
        if not self.keep:
            out.append("Connection: close")
        elif self.version == "HTTP/1.0":
            out.append("Connection: keep-alive")
        self.sent = True
        self.no_body = no_body or self.head_only
        out.append("\r\n")
        return "\r\n".join(out).encode("latin-1")

    def frame(self, data: bytes) -> bytes:
        if self.no_body:
            return b""
        if self.chunked:
            return b"%x\r\n%s\r\n" % (len(data), data)
        return data

    def write(self, data: bytes) -> None:
        if self.stopping.is_set():
            raise ClientGone
        if not self.sent:
            out = self.head_bytes()
            if data:
                out += self.frame(data)
            self.sink(out)
        elif data:
            out = self.frame(data)
            if out:
                self.sink(out)

    def end(self) -> bytes:
        """What ends the response once its body is written (and the head, for an empty body)."""
        out = b"" if self.sent else self.head_bytes()
        if self.chunked and not self.no_body:
            out += b"0\r\n\r\n"
        return out


def close_result(result: Any) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            log.exception("error closing the WSGI response")


def send_result(response: Response, result: Iterable[bytes], env: dict[str, Any], sendall: Callable) -> bool:
    """Write ``result`` chunk by chunk as it is produced (blocking); True if the connection may be reused."""
    stopping = response.stopping
    response.sink = sendall
    try:
        for chunk in result:
            if chunk:
                response.write(chunk)
            elif stopping.is_set():
                raise ClientGone
        end = response.end()
        if end:
            sendall(end)
    except (ClientGone, OSError):
        return False
    except Exception:
        log.exception("error in the WSGI app for %s %s", env["REQUEST_METHOD"], env["PATH_INFO"])
        if not response.sent:
            sendall(ERROR_500)
        return False
    finally:
        close_result(result)
    return response.keep


class H1Connection:
    """One HTTP/1.x connection on a thread of its own: requests one after another, blocking I/O."""

    def __init__(self, server: Server, conn: socket.socket, addr: Any, buf: bytes | bytearray) -> None:
        self.server = server
        self.conn = conn
        self.addr = addr
        self.buf = bytearray(buf)

    def _recv(self) -> bytes:
        data = self.conn.recv(65536)
        if not data:
            raise ClientGone
        return data

    def run(self) -> None:
        server = self.server
        buf = self.buf
        while not server.stopping.is_set():
            while True:
                if buf.startswith(b"\r\n"):  # empty lines before a request line are ignored
                    del buf[: len(buf) - len(buf.lstrip(b"\r\n"))]
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
            head = bytes(buf[:end])
            del buf[: end + 4]
            try:
                keep_alive = self._one_request(head)
            except BadRequest as exc:
                return self._refuse(exc.status, str(exc))
            if not keep_alive:
                return

    def _one_request(self, head: bytes) -> bool:
        server = self.server
        conn = self.conn
        req = Request(server, head, self.addr)
        refusal = req.admission(server)
        if refusal is not None:
            self._send_refusal(refusal)
            raise ClientGone
        if req.expect_continue:
            conn.sendall(CONTINUE)
        buf = self.buf
        env = req.env
        if req.chunked:
            reader = ChunkedBody(server.max_body)
            while (body := reader.feed(buf)) is None:
                buf += self._recv()
            env["CONTENT_LENGTH"] = str(len(body))
        elif req.length:
            length = req.length
            while len(buf) < length:
                buf += self._recv()
            body = bytes(buf[:length])
            del buf[:length]
        else:
            body = b""
        env["wsgi.input"] = io.BytesIO(body)
        response = Response(req.version, req.keep_alive, env["REQUEST_METHOD"] == "HEAD", server.stopping,
                            conn.sendall)
        try:
            result = server.app(env, response.start_response)
        except Exception:
            log.exception("error in the WSGI app for %s %s", env["REQUEST_METHOD"], env["PATH_INFO"])
            conn.sendall(ERROR_500)
            return False
        return send_result(response, result, env, conn.sendall) and req.keep_alive

    def _send_refusal(self, refusal: tuple[int, list[tuple[str, str]], bytes]) -> None:
        self.conn.sendall(refusal_bytes(refusal))
        self._linger()

    def _refuse(self, status: int, message: str) -> None:
        try:
            self._send_refusal(simple_response(status, message))
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
