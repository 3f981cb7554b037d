"""The event loop: every HTTP/1.x connection on one thread, non-blocking, the app called inline.

Each connection is a small state machine fed by whatever ``recv`` gives: waiting for a request head,
for a ``Content-Length`` body, for a chunked body, lingering after a refusal, or closing once its last
response is written. A complete request runs the WSGI app at once, on this thread; a response that is
a list (or tuple) of bytes is written without blocking, and whatever the socket does not take now is
kept and written when it becomes writable. Until then the connection reads nothing more, so a client
that pipelines requests but does not read its answers holds at most one response in memory, and its
requests are answered in order.

A connection leaves the loop for a thread of its own (``Server.start_thread``) when its first bytes are
the HTTP/2 preface, or when the app's response is any other iterable (a generator that streams events
for minutes must not stop the loop); it does not come back.
"""

from __future__ import annotations

import io
import logging
import selectors
import socket
import time
from typing import TYPE_CHECKING, Any

from emulator.serving.http1 import (
    CONTINUE,
    ERROR_500,
    H2_PREFACE,
    IDLE_TIMEOUT,
    LINGER_SECONDS,
    MAX_HEAD,
    BadRequest,
    ChunkedBody,
    ClientGone,
    H1Connection,
    Request,
    Response,
    close_result,
    refusal_bytes,
    send_result,
    simple_response,
)

if TYPE_CHECKING:
    from emulator.serving import Server

log = logging.getLogger("emulator.serving")

READ = selectors.EVENT_READ
WRITE = selectors.EVENT_WRITE
SWEEP_SECONDS = 0.25  # how often idle and lingering connections are looked at
RECV_SIZE = 65536

# connection states
HEAD, BODY, CHUNKED, LINGER, CLOSING, DETACHED, CLOSED = range(7)


class _Conn:
    __slots__ = ("sock", "addr", "inbuf", "out", "state", "events", "last", "req", "chunks", "eof",
                 "sniffed", "linger_until")

    def __init__(self, sock: socket.socket, addr: Any, now: float) -> None:
        self.sock = sock
        self.addr = addr
        self.inbuf = bytearray()
        self.out = bytearray()  # what the socket has not taken yet; nothing more is read meanwhile
        self.state = HEAD
        self.events = READ
        self.last = now  # the last progress, for IDLE_TIMEOUT
        self.req: Request | None = None
        self.chunks: ChunkedBody | None = None
        self.eof = False
        self.sniffed = False  # the first bytes were not the HTTP/2 preface
        self.linger_until = 0.0


class EventLoop:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.sel = selectors.DefaultSelector()
        self.conns: dict[socket.socket, _Conn] = {}
        self.now = time.monotonic()

    def run(self) -> None:
        server = self.server
        sel = self.sel
        listener = server._listener
        stopping = server.stopping
        sel.register(listener, READ, None)
        sel.register(server._wake_r, READ, None)
        next_sweep = 0.0
        try:
            while not stopping.is_set():
                timeout = max(0.0, next_sweep - time.monotonic()) if self.conns else None
                events = sel.select(timeout)
                self.now = now = time.monotonic()
                for key, mask in events:
                    c = key.data
                    if c is None:
                        if key.fileobj is listener and not stopping.is_set():
                            self._accept(listener)
                        continue
                    try:
                        if mask & READ:
                            self._on_read(c)
                        if mask & WRITE and c.out and c.state < DETACHED:
                            self._on_write(c)
                    except Exception:  # a bug here must not stop the loop: it ends this connection only
                        log.exception("error on a connection from %s", c.addr)
                        self._close(c)
                if now >= next_sweep:
                    self._sweep(now)
                    next_sweep = now + SWEEP_SECONDS
        finally:
            for c in list(self.conns.values()):
                self._close(c)
            sel.close()

    # -- connections --------------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE and the like: log, back off a little, keep serving
                log.warning("accept failed: %s", exc)
                time.sleep(0.05)
                return
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                sock.close()
                continue
            c = _Conn(sock, addr, self.now)
            self.conns[sock] = c
            self.sel.register(sock, READ, c)

    def _close(self, c: _Conn) -> None:
        if c.state >= DETACHED:  # closed already, or a thread's now
            return
        c.state = CLOSED
        self.conns.pop(c.sock, None)
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        try:
            c.sock.close()
        except OSError:
            pass

    def _detach(self, c: _Conn) -> socket.socket:
        """Take ``c`` off the loop: its socket, blocking again, goes to a thread."""
        c.state = DETACHED
        self.conns.pop(c.sock, None)
        self.sel.unregister(c.sock)
        sock = c.sock
        sock.setblocking(True)
        sock.settimeout(IDLE_TIMEOUT)
        return sock

    def _set_events(self, c: _Conn, events: int) -> None:
        if c.events != events:
            c.events = events
            self.sel.modify(c.sock, events, c)

    def _sweep(self, now: float) -> None:
        idle_before = now - IDLE_TIMEOUT
        for c in list(self.conns.values()):
            if c.state == LINGER and not c.out:
                if now >= c.linger_until:
                    self._close(c)
            elif c.last < idle_before:
                self._close(c)

    # -- reading ------------------------------------------------------------------------------

    def _on_read(self, c: _Conn) -> None:
        try:
            data = c.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(c)
            return
        if c.state == LINGER:  # discarded
            if not data:
                if c.out:  # the refusal is still being written: stop reading, finish it
                    c.eof = True
                    self._set_events(c, WRITE)
                else:
                    self._close(c)
            return
        c.last = self.now
        if data:
            c.inbuf += data
        else:
            c.eof = True
        self._advance(c)

    def _advance(self, c: _Conn) -> None:
        """Serve the complete requests in ``c.inbuf``, in order, while the responses are written out."""
        buf = c.inbuf
        while not c.out:
            state = c.state
            if state == HEAD:
                if not c.sniffed:
                    if len(buf) < len(H2_PREFACE) and H2_PREFACE.startswith(buf):
                        break  # more bytes tell
                    if buf.startswith(H2_PREFACE):
                        self._to_http2(c)
                        return
                    c.sniffed = True
                if buf.startswith(b"\r\n"):  # empty lines before a request line are ignored
                    del buf[: len(buf) - len(buf.lstrip(b"\r\n"))]
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD:
                        self._refuse(c, simple_response(431, "request head too large"))
                        return
                    break
                head = buf[:end]
                del buf[: end + 4]
                server = self.server
                try:
                    req = Request(server, head, c.addr)
                except BadRequest as exc:
                    self._refuse(c, simple_response(exc.status, str(exc)))
                    return
                refusal = req.admission(server)  # before any of the body is read
                if refusal is not None:
                    self._refuse(c, refusal)
                    return
                c.req = req
                if req.chunked:
                    c.chunks = ChunkedBody(server.max_body)
                    c.state = CHUNKED
                elif req.length:
                    c.state = BODY
                else:
                    self._respond(c, req, b"")
                    continue
                if req.expect_continue:
                    self._send(c, CONTINUE)
            elif state == BODY:
                req = c.req
                assert req is not None
                length = req.length
                if len(buf) < length:
                    break
                with memoryview(buf) as view:
                    body = bytes(view[:length])
                del buf[:length]
                self._respond(c, req, body)
            elif state == CHUNKED:
                req, chunks = c.req, c.chunks
                assert req is not None and chunks is not None
                try:
                    body = chunks.feed(buf)
                except BadRequest as exc:
                    self._refuse(c, simple_response(exc.status, str(exc)))
                    return
                if body is None:
                    break
                c.chunks = None
                req.env["CONTENT_LENGTH"] = str(len(body))
                self._respond(c, req, body)
            else:
                return
        if c.eof and not c.out and c.state <= CHUNKED:  # no more requests will come
            self._close(c)

    def _to_http2(self, c: _Conn) -> None:
        server = self.server
        addr = c.addr
        initial = bytes(c.inbuf)
        sock = self._detach(c)

        def run() -> None:
            from emulator.serving import http2  # noqa: PLC0415 (h2 is imported on first use)

            http2.H2Connection(server, sock, addr, initial).run()

        server.start_thread(sock, run, "h2-conn")

    # -- responding ---------------------------------------------------------------------------

    def _respond(self, c: _Conn, req: Request, body: bytes) -> None:
        server = self.server
        env = req.env
        env["wsgi.input"] = io.BytesIO(body)
        c.req = None
        pending: list[bytes] = []
        response = Response(req.version, req.keep_alive, env["REQUEST_METHOD"] == "HEAD", server.stopping,
                            pending.append)
        try:
            result = server.app(env, response.start_response)
        except Exception:
            log.exception("error in the WSGI app for %s %s", env["REQUEST_METHOD"], env["PATH_INFO"])
            self._write_last(c, ERROR_500, False)
            return
        rtype = type(result)
        if rtype is not list and rtype is not tuple:
            self._to_thread(c, req, response, result, pending)
            return
        try:
            for chunk in result:
                if chunk:
                    response.write(chunk)
            end = response.end()
        except ClientGone:
            self._close(c)
            return
        except Exception:
            log.exception("error in the WSGI app for %s %s", env["REQUEST_METHOD"], env["PATH_INFO"])
            self._write_last(c, ERROR_500, False)
            return
        if end:
            pending.append(end)
        self._write_last(c, pending[0] if len(pending) == 1 else b"".join(pending), response.keep)

    def _write_last(self, c: _Conn, data: bytes, keep: bool) -> None:
        """Write a request's whole response; then the next request, or the end of the connection."""
        c.state = HEAD if keep else CLOSING
        self._send(c, data)
        if c.state == CLOSING and not c.out:
            self._close(c)

    def _to_thread(self, c: _Conn, req: Request, response: Response, result: Any, pending: list[bytes]) -> None:
        """A streamed response: written on a thread of its own, which keeps the connection after it."""
        server = self.server
        addr = c.addr
        first = bytes(c.out) + b"".join(pending)
        leftover = bytes(c.inbuf)  # requests pipelined behind this one
        sock = self._detach(c)
        env = req.env

        def run() -> None:
            if first:
                try:
                    sock.sendall(first)
                except BaseException:
                    close_result(result)
                    raise
            keep = send_result(response, result, env, sock.sendall)  # closes the result
            if keep and not server.stopping.is_set():
                H1Connection(server, sock, addr, leftover).run()

        server.start_thread(sock, run, "http-stream")

    def _refuse(self, c: _Conn, refusal: tuple[int, list[tuple[str, str]], bytes]) -> None:
        """Answer ``refusal`` and close, discarding (never reading into memory) what the client still sends."""
        c.inbuf.clear()
        c.req = c.chunks = None
        c.state = LINGER
        self._send(c, refusal_bytes(refusal))
        if c.state == LINGER and not c.out:
            self._start_linger(c)

    def _start_linger(self, c: _Conn) -> None:
        """Half-close, then discard what comes for a while: closing with unread data would send RST,
        and a client still sending its body would lose the response it has not read yet."""
        try:
            c.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(c)
            return
        if c.eof:
            self._close(c)
            return
        c.linger_until = self.now + LINGER_SECONDS
        self._set_events(c, READ)

    # -- writing ------------------------------------------------------------------------------

    def _send(self, c: _Conn, data: bytes) -> None:
        """Write ``data`` without blocking; keep what the socket does not take, for ``_on_write``."""
        if c.out:
            c.out += data
            return
        try:
            n = c.sock.send(data)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError:
            self._close(c)
            return
        if n < len(data):
            with memoryview(data) as view:
                c.out = bytearray(view[n:])
            reading = c.state == LINGER and not c.eof
            self._set_events(c, WRITE | READ if reading else WRITE)

    def _on_write(self, c: _Conn) -> None:
        try:
            n = c.sock.send(c.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(c)
            return
        del c.out[:n]
        c.last = self.now
        if c.out:
            return
        state = c.state
        if state == CLOSING:
            self._close(c)
        elif state == LINGER:
            self._start_linger(c)
        else:
            if not c.eof:
                self._set_events(c, READ)
            self._advance(c)
