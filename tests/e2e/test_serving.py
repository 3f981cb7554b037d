"""The serving layer (``emulator.serving.Server``) on a real socket, with a tiny WSGI app."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator.serving import Server

h2_connection = pytest.importorskip("h2.connection")
import h2.config  # noqa: E402
import h2.events  # noqa: E402

TIMEOUT = 10.0  # only to turn a hang into a failure; no test asserts speed
HUGE = bytes(range(256)) * (64 * 1024)  # 16 MiB


class App:
    """Echoes the request; ``/stream`` yields a first chunk, then waits for ``release``."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.threads: list[int] = []  # the thread of each call
        self.stream_threads: list[int] = []  # the thread that iterates each streamed response
        self.release = threading.Event()
        self.stream_closed = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.calls.append(environ)
        self.threads.append(threading.get_ident())
        path = environ["PATH_INFO"]
        if path in ("/stream", "/forever"):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return self._stream(environ, forever=path == "/forever")
        body = environ["wsgi.input"].read()
        if path == "/big":  # larger than HTTP/2's default flow-control window
            out = bytes(range(256)) * 1200
            start_response("200 OK", [("Content-Length", str(len(out)))])
            return [out]
        if path == "/huge":  # more than the socket buffers hold: the write cannot finish at once
            out = HUGE
            start_response("200 OK", [("Content-Length", str(len(out)))])
            return [out]
        out = (
            f"{environ['REQUEST_METHOD']} {path}?{environ['QUERY_STRING']} {environ['SERVER_PROTOCOL']} "
            f"len={len(body)} target={environ.get('HTTP_X_AMZ_TARGET', '')}"
        ).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(out)))])
        return [out]

    def _stream(self, environ: dict[str, Any], forever: bool) -> Iterator[bytes]:
        self.stream_threads.append(threading.get_ident())
        try:
            yield b"first"
            if forever:
                while True:
                    time.sleep(0.05)
                    yield b"."
            self.release.wait(TIMEOUT)
            yield b"second"
        finally:
            self.stream_closed.set()


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[Server, App]]]:
    started: list[tuple[Server, threading.Thread]] = []

    def start(**kwargs: Any) -> tuple[Server, App]:
        app = App()
        server = Server(app, "127.0.0.1", 0, **kwargs)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        return server, app

    yield start
    for server, thread in started:
        server.shutdown()
        thread.join(TIMEOUT)


def connect(server: Server) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    return s


def read_response(s: socket.socket, buf: bytearray) -> tuple[str, dict[str, str], bytes]:
    """One HTTP/1.1 response (Content-Length or chunked) from ``s``; leftovers stay in ``buf``."""
    while b"\r\n\r\n" not in buf:
        data = s.recv(65536)
        assert data, "connection closed before the response head"
        buf += data
    end = buf.index(b"\r\n\r\n")
    lines = buf[:end].decode("latin-1").split("\r\n")
    del buf[: end + 4]
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < n:
            data = s.recv(65536)
            assert data
            buf += data
        body = bytes(buf[:n])
        del buf[:n]
    else:
        assert headers.get("transfer-encoding") == "chunked"
        body = b""
        while True:
            while b"\r\n" not in buf:
                buf += s.recv(65536)
            i = buf.index(b"\r\n")
            size = int(buf[:i], 16)
            while len(buf) < i + 2 + size + 2:
                buf += s.recv(65536)
            body += bytes(buf[i + 2 : i + 2 + size])
            del buf[: i + 2 + size + 2]
            if size == 0:
                break
    return lines[0], headers, body


def read_chunk(s: socket.socket, buf: bytearray) -> bytes:
    """The next chunk of a chunked body whose head has been read."""
    while True:
        if b"\r\n" in buf:
            i = buf.index(b"\r\n")
            size = int(buf[:i], 16)
            if len(buf) >= i + 2 + size + 2:
                chunk = bytes(buf[i + 2 : i + 2 + size])
                del buf[: i + 2 + size + 2]
                return chunk
        data = s.recv(65536)
        assert data, "connection closed"
        buf += data


def read_head(s: socket.socket, buf: bytearray) -> str:
    while b"\r\n\r\n" not in buf:
        data = s.recv(65536)
        assert data, "connection closed"
        buf += data
    end = buf.index(b"\r\n\r\n")
    head = buf[:end].decode("latin-1")
    del buf[: end + 4]
    return head


# -- HTTP/1.1 --------------------------------------------------------------------------------------


def test_keep_alive_serves_two_requests_on_one_connection(serve) -> None:
    server, app = serve()
    with connect(server) as s:
        buf = bytearray()
        s.sendall(b"POST /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Amz-Target: T.Op\r\nContent-Length: 3\r\n\r\nabc")
        status, headers, body = read_response(s, buf)
        assert status == "HTTP/1.1 200 OK"
        assert body == b"POST /a?x=1 HTTP/1.1 len=3 target=T.Op"
        assert "close" not in headers.get("connection", "")
        s.sendall(b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n")
        status, _, body = read_response(s, buf)
        assert status == "HTTP/1.1 200 OK"
        assert body == b"GET /b? HTTP/1.1 len=0 target="
    assert len(app.calls) == 2
    env = app.calls[0]
    assert env["CONTENT_LENGTH"] == "3" and env["HTTP_HOST"] == "h" and env["SERVER_PORT"] == str(server.port)


def test_chunked_request_body_within_the_limit_is_read(serve) -> None:
    server, _ = serve(max_body=100)
    with connect(server) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        status, _, body = read_response(s, bytearray())
    assert status == "HTTP/1.1 200 OK"
    assert body.endswith(b"len=5 target=")


def test_streaming_response_sends_the_first_chunk_before_the_generator_finishes(serve) -> None:
    server, app = serve()
    with connect(server) as s:
        buf = bytearray()
        s.sendall(b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
        head = read_head(s, buf)
        assert head.startswith("HTTP/1.1 200") and "Transfer-Encoding: chunked" in head
        assert read_chunk(s, buf) == b"first"
        assert not app.stream_closed.is_set()
        app.release.set()
        assert read_chunk(s, buf) == b"second"
        assert read_chunk(s, buf) == b""
        s.sendall(b"GET /after HTTP/1.1\r\nHost: h\r\n\r\n")  # still keep-alive after a stream
        assert read_response(s, buf)[2].startswith(b"GET /after")


def test_sixty_long_streams_do_not_block_a_normal_request(serve) -> None:
    server, app = serve()
    streams = []
    try:
        for _ in range(60):
            s = connect(server)
            s.sendall(b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
            streams.append(s)
        for s in streams:
            buf = bytearray()
            read_head(s, buf)
            assert read_chunk(s, buf) == b"first"
        with connect(server) as s:
            s.sendall(b"GET /normal HTTP/1.1\r\nHost: h\r\n\r\n")
            status, _, body = read_response(s, bytearray())
        assert status == "HTTP/1.1 200 OK" and body.startswith(b"GET /normal")
    finally:
        app.release.set()
        for s in streams:
            s.close()


def test_admit_refuses_a_large_content_length_without_reading_the_body(serve) -> None:
    seen: list[dict[str, Any]] = []

    def admit(environ: dict[str, Any]):
        seen.append(dict(environ))
        if int(environ.get("CONTENT_LENGTH") or 0) > 1000:
            return 413, [("Content-Type", "application/json")], b'{"message":"too big"}'
        return None

    server, app = serve(admit=admit)
    with connect(server) as s:
        # Only the head is sent: an answer proves the server did not wait for the body.
        s.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000000\r\n\r\n")
        buf = bytearray()
        status, headers, body = read_response(s, buf)
        assert status.startswith("HTTP/1.1 413")
        assert body == b'{"message":"too big"}'
        assert headers["connection"] == "close"
        assert s.recv(100) == b""  # and the connection is closed
    assert app.calls == []
    assert seen[0]["CONTENT_LENGTH"] == "1000000000" and seen[0]["REQUEST_METHOD"] == "POST"
    with connect(server) as s:  # a body under the limit is admitted
        s.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}")
        assert read_response(s, bytearray())[0] == "HTTP/1.1 200 OK"


def test_chunked_body_over_max_body_is_refused_with_413(serve) -> None:
    server, app = serve(max_body=1024)
    with connect(server) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
        s.sendall(chunk + chunk)
        status, _, _ = read_response(s, bytearray())
    assert status.startswith("HTTP/1.1 413")
    assert app.calls == []


def test_content_length_over_max_body_is_refused_without_admit(serve) -> None:
    server, app = serve(max_body=10)
    with connect(server) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n")
        assert read_response(s, bytearray())[0].startswith("HTTP/1.1 413")
    assert app.calls == []


def test_many_connections_are_served_interleaved_by_one_thread(serve) -> None:
    server, app = serve()
    socks = [connect(server) for _ in range(40)]
    try:
        requests = [
            f"POST /c{i}?n={i} HTTP/1.1\r\nHost: h\r\nContent-Length: {i}\r\n\r\n".encode() + b"x" * i
            for i in range(len(socks))
        ]
        for s, raw in zip(socks, requests, strict=True):  # each request arrives in three pieces, the pieces of all
            s.sendall(raw[:7])  # connections interleaved
        for s, raw in zip(reversed(socks), reversed(requests), strict=True):
            s.sendall(raw[7:-3])
        for s, raw in zip(socks, requests, strict=True):
            s.sendall(raw[-3:])
        for i, s in enumerate(socks):
            status, _, body = read_response(s, bytearray())
            assert status == "HTTP/1.1 200 OK"
            assert body == f"POST /c{i}?n={i} HTTP/1.1 len={i} target=".encode()
    finally:
        for s in socks:
            s.close()
    assert len(app.calls) == len(socks)
    assert len(set(app.threads)) == 1  # the event loop's, for every connection


def test_pipelined_requests_are_answered_in_order(serve) -> None:
    server, app = serve()
    with connect(server) as s:
        raw = b"".join(
            [
                b"GET /p0 HTTP/1.1\r\nHost: h\r\n\r\n",
                b"POST /p1 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd",
                b"GET /huge HTTP/1.1\r\nHost: h\r\n\r\n",  # its write stops the pipeline for a while
                b"POST /p3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n",
                b"\r\n",  # a stray CRLF between requests is allowed
                b"HEAD /p4 HTTP/1.1\r\nHost: h\r\n\r\n",
                b"GET /p5 HTTP/1.1\r\nHost: h\r\n\r\n",
            ]
        )
        s.sendall(raw)  # all of it before reading any answer
        buf = bytearray()
        assert read_response(s, buf)[2] == b"GET /p0? HTTP/1.1 len=0 target="
        assert read_response(s, buf)[2] == b"POST /p1? HTTP/1.1 len=4 target="
        assert read_response(s, buf)[2] == HUGE
        assert read_response(s, buf)[2] == b"POST /p3? HTTP/1.1 len=2 target="
        head = read_head(s, buf)  # HEAD: the head only, with the length a GET would have
        assert head.startswith("HTTP/1.1 200") and "Content-Length: 32" in head
        assert read_response(s, buf)[2] == b"GET /p5? HTTP/1.1 len=0 target="
    assert [c["PATH_INFO"] for c in app.calls] == ["/p0", "/p1", "/huge", "/p3", "/p4", "/p5"]


def test_a_slow_reader_of_a_large_response_does_not_block_other_clients(serve) -> None:
    server, _ = serve()
    slow = connect(server)
    try:
        slow.sendall(b"GET /huge HTTP/1.1\r\nHost: h\r\n\r\n")
        slow_buf = bytearray(slow.recv(1000))  # reads a little, then nothing for a while
        assert slow_buf.startswith(b"HTTP/1.1 200 OK")
        for i in range(20):
            with connect(server) as s:
                s.sendall(f"GET /other{i} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
                assert read_response(s, bytearray())[2] == f"GET /other{i}? HTTP/1.1 len=0 target=".encode()
        assert read_response(slow, slow_buf)[2] == HUGE  # the whole body, once it reads
        slow.sendall(b"GET /again HTTP/1.1\r\nHost: h\r\n\r\n")  # and the connection is kept
        assert read_response(slow, slow_buf)[2] == b"GET /again? HTTP/1.1 len=0 target="
    finally:
        slow.close()


def test_a_streaming_response_moves_to_a_thread_while_others_are_served(serve) -> None:
    server, app = serve()
    with connect(server) as s:
        buf = bytearray()
        # a request pipelined behind the stream is answered after it, on the stream's thread
        s.sendall(b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\nGET /behind HTTP/1.1\r\nHost: h\r\n\r\n")
        read_head(s, buf)
        assert read_chunk(s, buf) == b"first"
        others = [connect(server) for _ in range(5)]
        try:
            for _ in range(3):  # keep-alive requests on other connections, while the stream is open
                for i, o in enumerate(others):
                    o.sendall(f"GET /o{i} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
                for i, o in enumerate(others):
                    assert read_response(o, bytearray())[2] == f"GET /o{i}? HTTP/1.1 len=0 target=".encode()
        finally:
            for o in others:
                o.close()
        assert not app.stream_closed.is_set()
        app.release.set()
        assert read_chunk(s, buf) == b"second"
        assert read_chunk(s, buf) == b""
        assert read_response(s, buf)[2] == b"GET /behind? HTTP/1.1 len=0 target="
    loop_thread = app.threads[0]
    assert app.stream_threads and app.stream_threads[0] != loop_thread
    others_threads = {t for env, t in zip(app.calls, app.threads, strict=True) if env["PATH_INFO"].startswith("/o")}
    assert others_threads == {loop_thread}


def test_expect_100_continue_is_answered_only_after_admission(serve) -> None:
    def admit(environ: dict[str, Any]):
        if environ["PATH_INFO"] == "/refused":
            return 403, [("Content-Type", "text/plain")], b"no"
        return None

    server, app = serve(admit=admit)
    with connect(server) as s:
        s.sendall(b"POST /refused HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        status, headers, body = read_response(s, bytearray())
        assert status.startswith("HTTP/1.1 403") and body == b"no" and headers["connection"] == "close"
    with connect(server) as s:
        s.sendall(b"POST /ok HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        buf = bytearray()
        assert read_head(s, buf) == "HTTP/1.1 100 Continue"
        s.sendall(b"hello")
        assert read_response(s, buf)[2] == b"POST /ok? HTTP/1.1 len=5 target="
    assert [c["PATH_INFO"] for c in app.calls] == ["/ok"]


def test_a_refused_upload_still_gets_its_answer_while_the_client_sends(serve) -> None:
    server, app = serve(max_body=1000)
    with connect(server) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4000000\r\n\r\n")

        def upload() -> None:
            try:
                for _ in range(40):
                    s.sendall(b"x" * 100_000)
            except OSError:
                pass

        sender = threading.Thread(target=upload, daemon=True)
        sender.start()
        buf = bytearray()
        status, headers, _ = read_response(s, buf)
        assert status.startswith("HTTP/1.1 413") and headers["connection"] == "close"
        sender.join(TIMEOUT)
    assert app.calls == []


def test_http_1_0_and_malformed_requests(serve) -> None:
    server, _ = serve()
    with connect(server) as s:  # HTTP/1.0 closes unless asked to keep alive
        s.sendall(b"GET /old HTTP/1.0\r\n\r\n")
        status, headers, body = read_response(s, bytearray())
        assert status == "HTTP/1.1 200 OK" and headers["connection"] == "close"
        assert body == b"GET /old? HTTP/1.0 len=0 target="
        assert s.recv(100) == b""
    with connect(server) as s:
        buf = bytearray()
        s.sendall(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        status, headers, _ = read_response(s, buf)
        assert headers["connection"] == "keep-alive"
        s.sendall(b"GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert read_response(s, buf)[2] == b"GET /b? HTTP/1.0 len=0 target="
    for raw, code in [
        (b"GARBAGE\r\n\r\n", "400"),
        (b"GET / HTTP/3.0\r\n\r\n", "505"),
        (b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", "400"),
        (b"POST / HTTP/1.1\r\nContent-Length: x1\r\n\r\n", "400"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "501"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400"),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000, "431"),
    ]:
        with connect(server) as s:
            s.sendall(raw)
            status, headers, _ = read_response(s, bytearray())
            assert status.split(" ")[1] == code, raw[:40]
            assert headers["connection"] == "close"
            assert s.recv(100) == b""


def test_an_idle_connection_is_closed(serve, monkeypatch) -> None:
    from emulator.serving import loop

    monkeypatch.setattr(loop, "IDLE_TIMEOUT", 0.3)
    server, _ = serve()
    with connect(server) as s:
        buf = bytearray()
        s.sendall(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
        read_response(s, buf)
        s.sendall(b"GET /b HTTP/1.1\r\n")  # half a request, then nothing
        assert s.recv(100) == b""


# -- HTTP/2 with prior knowledge -------------------------------------------------------------------


class H2Client:
    def __init__(self, server: Server) -> None:
        self.sock = connect(server)
        self.conn = h2_connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())
        self.responses: dict[int, dict[str, Any]] = {}

    def request(self, method: str, path: str, body: bytes = b"", headers: list | None = None) -> int:
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":path", path), (":scheme", "http"), (":authority", "h")]
        hdrs += headers or []
        self.conn.send_headers(sid, hdrs, end_stream=not body)
        self.sock.sendall(self.conn.data_to_send())
        self.responses[sid] = {"headers": None, "data": b"", "ended": False, "reset": None}
        while body:  # within the flow-control window the server gives
            window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if window <= 0:
                self.pump(lambda: self.conn.local_flow_control_window(sid) > 0)
                continue
            self.conn.send_data(sid, body[:window], end_stream=len(body) <= window)
            body = body[window:]
            self.sock.sendall(self.conn.data_to_send())
        return sid

    def pump(self, until: Callable[[], bool]) -> None:
        while not until():
            data = self.sock.recv(65536)
            assert data, "connection closed"
            for ev in self.conn.receive_data(data):
                r = self.responses.get(getattr(ev, "stream_id", None) or 0)
                if isinstance(ev, h2.events.ResponseReceived):
                    r["headers"] = dict(ev.headers)
                elif isinstance(ev, h2.events.DataReceived):
                    r["data"] += ev.data
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    r["ended"] = True
                elif isinstance(ev, h2.events.StreamReset) and r is not None:
                    r["reset"] = ev.error_code
            out = self.conn.data_to_send()
            if out:
                self.sock.sendall(out)

    def close(self) -> None:
        self.sock.close()


def test_h2c_prior_knowledge_request(serve) -> None:
    server, app = serve()
    client = H2Client(server)
    try:
        a = client.request("POST", "/h2?q=1", b"x" * 3_000_000, [("x-amz-target", "Kinesis.PutRecord")])
        b = client.request("GET", "/other")
        c = client.request("GET", "/big")
        client.pump(lambda: all(client.responses[i]["ended"] for i in (a, b, c)))
    finally:
        client.close()
    assert client.responses[a]["headers"][b":status"] == b"200"
    assert client.responses[a]["data"] == b"POST /h2?q=1 HTTP/2 len=3000000 target=Kinesis.PutRecord"
    assert client.responses[c]["data"] == bytes(range(256)) * 1200
    assert client.responses[b]["data"] == b"GET /other? HTTP/2 len=0 target="
    assert {c["SERVER_PROTOCOL"] for c in app.calls} == {"HTTP/2"}
    assert app.calls[0]["HTTP_HOST"] == "h"


def test_h2c_streaming_response_and_admit(serve) -> None:
    def admit(environ: dict[str, Any]):
        if int(environ.get("CONTENT_LENGTH") or 0) > 1000:
            return 413, [("Content-Type", "text/plain")], b"too big"
        return None

    server, app = serve(admit=admit)
    client = H2Client(server)
    try:
        s = client.request("GET", "/stream")
        client.pump(lambda: client.responses[s]["data"] == b"first")
        assert not client.responses[s]["ended"]
        # another request on the same connection is answered while the stream is open
        big = client.conn.get_next_available_stream_id()
        client.conn.send_headers(
            big, [(":method", "POST"), (":path", "/"), (":scheme", "http"), (":authority", "h"),
                  ("content-length", "5000000")]
        )
        client.sock.sendall(client.conn.data_to_send())
        client.responses[big] = {"headers": None, "data": b"", "ended": False, "reset": None}
        client.pump(lambda: client.responses[big]["ended"])
        assert client.responses[big]["headers"][b":status"] == b"413"
        assert client.responses[big]["data"] == b"too big"
        app.release.set()
        client.pump(lambda: client.responses[s]["ended"])
        assert client.responses[s]["data"] == b"firstsecond"
    finally:
        app.release.set()
        client.close()
    assert [c["PATH_INFO"] for c in app.calls] == ["/stream"]


# -- life cycle ------------------------------------------------------------------------------------


def test_shutdown_returns_while_a_stream_is_open(serve) -> None:
    server, app = serve()
    s = connect(server)
    s2 = H2Client(server)
    try:
        s.sendall(b"GET /forever HTTP/1.1\r\nHost: h\r\n\r\n")
        buf = bytearray()
        read_head(s, buf)
        assert read_chunk(s, buf) == b"first"
        sid = s2.request("GET", "/forever")
        s2.pump(lambda: s2.responses[sid]["data"].startswith(b"first"))
        server.shutdown()
        server.shutdown()  # idempotent
        deadline = time.monotonic() + TIMEOUT
        s.settimeout(TIMEOUT)
        while s.recv(65536):  # the open stream is ended: the connection closes
            assert time.monotonic() < deadline
    finally:
        s.close()
        s2.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_serve_forever_returns_after_shutdown_from_another_thread() -> None:
    app = App()
    server = Server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
    try:
        s.sendall(b"GET /forever HTTP/1.1\r\nHost: h\r\n\r\n")
        buf = bytearray()
        read_head(s, buf)
        read_chunk(s, buf)
        threading.Timer(0.01, server.shutdown).start()
        thread.join(TIMEOUT)
        assert not thread.is_alive()
        assert app.stream_closed.wait(TIMEOUT)  # the generator was closed
    finally:
        s.close()


def test_shutdown_with_connections_mid_request() -> None:
    app = App()
    server = Server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    socks = [connect(server) for _ in range(3)]
    try:
        socks[0].sendall(b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Le")  # half a head
        socks[1].sendall(b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc")  # half a body
        socks[2].sendall(b"GET /huge HTTP/1.1\r\nHost: h\r\n\r\n")  # a response not read
        assert socks[2].recv(100).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        server.shutdown()
        thread.join(TIMEOUT)
        assert not thread.is_alive()
        assert time.monotonic() - started < 2.0
        for s in socks:  # every connection is closed
            s.settimeout(TIMEOUT)
            try:
                while s.recv(1 << 20):
                    pass
            except ConnectionResetError:
                pass
    finally:
        for s in socks:
            s.close()
    assert app.calls[0]["PATH_INFO"] == "/huge" and len(app.calls) == 1


def test_port_in_use_raises_oserror_at_construction() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError):
            Server(App(), "127.0.0.1", port)


def test_port_zero_gives_the_bound_port() -> None:
    server = Server(App(), "127.0.0.1", 0)
    try:
        assert server.port > 0
    finally:
        server.close()
