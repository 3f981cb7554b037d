"""HTTP/2 over cleartext with prior knowledge (h2c), on top of the ``h2`` library.

The connection's thread reads frames; each request stream whose body is complete runs the WSGI app in
a thread of its own, so a long streaming response never blocks the other streams of the connection.
One lock guards the ``h2`` state machine and the socket's writes; a stream that has used its flow-control
window waits on a condition of that lock until the peer's WINDOW_UPDATE arrives.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
from typing import TYPE_CHECKING, Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from emulator.serving import _HOP_BY_HOP, _simple_response

if TYPE_CHECKING:
    from emulator.serving import Server

log = logging.getLogger("emulator.serving")

MAX_CONCURRENT_STREAMS = 128
RECEIVE_WINDOW = 1 << 20  # bytes a client may send ahead, per stream and per connection


class _Stream:
    __slots__ = ("id", "environ", "body", "size", "refused", "closed")

    def __init__(self, stream_id: int, environ: dict[str, Any]) -> None:
        self.id = stream_id
        self.environ = environ
        self.body: list[bytes] = []
        self.size = 0
        self.refused = False
        self.closed = False


class _StreamGone(Exception):
    pass


class H2Connection:
    def __init__(self, server: Server, conn: socket.socket, addr: Any, initial: bytes) -> None:
        self.server = server
        self.sock = conn
        self.addr = addr
        self.initial = initial
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config=config)
        self.lock = threading.Lock()
        self.window_open = threading.Condition(self.lock)
        self.streams: dict[int, _Stream] = {}
        self.workers: set[threading.Thread] = set()
        self.closed = False

    # -- the reading side (the connection's thread) -----------------------------------------------

    def run(self) -> None:
        server = self.server
        with self.lock:
            self.h2.initiate_connection()
            self.h2.update_settings({
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_CONCURRENT_STREAMS,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: RECEIVE_WINDOW,
            })
            self.h2.increment_flow_control_window(RECEIVE_WINDOW)  # the connection's own window
            self._flush()
        data = self.initial
        try:
            while True:
                if data:
                    with self.lock:
                        try:
                            events = self.h2.receive_data(data)
                        except h2.exceptions.ProtocolError:
                            self._flush()
                            return
                        for event in events:
                            self._on_event(event)
                        self._flush()
                    if self.closed:
                        return
                if server.stopping.is_set():
                    return
                try:
                    data = self.sock.recv(65536)
                except TimeoutError:
                    with self.lock:
                        if self.streams or self.workers:
                            data = b""
                            continue
                        self.h2.close_connection()
                        self._flush()
                    return
                if not data:
                    return
        finally:
            with self.lock:
                self.closed = True
                if server.stopping.is_set():
                    try:
                        self.h2.close_connection()
                        self._flush()
                    except Exception:
                        pass
                self.window_open.notify_all()

    def _flush(self) -> None:  # under the lock
        out = self.h2.data_to_send()
        if out:
            self.sock.sendall(out)

    def _on_event(self, event: Any) -> None:  # under the lock
        if isinstance(event, h2.events.RequestReceived):
            self._on_request(event)
        elif isinstance(event, h2.events.DataReceived):
            if event.flow_controlled_length:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            stream = self.streams.get(event.stream_id)
            if stream is None or stream.refused:
                return
            stream.size += len(event.data)
            if stream.size > self.server.max_body:
                self._refuse(stream, _simple_response(413, "request body too large"))
                return
            stream.body.append(event.data)
        elif isinstance(event, h2.events.StreamEnded):
            self._on_end(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            stream = self.streams.pop(event.stream_id, None)
            if stream is not None:
                stream.closed = True
            self.window_open.notify_all()
        elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            self.window_open.notify_all()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.closed = True
            self.window_open.notify_all()

    def _on_request(self, event: h2.events.RequestReceived) -> None:
        pseudo: dict[str, str] = {}
        headers: list[tuple[str, str]] = []
        for name, value in event.headers:
            n = name.decode("latin-1")
            v = value.decode("latin-1")
            if n[0] == ":":
                pseudo[n] = v
            elif n not in ("connection", "te"):
                headers.append((n, v))
        if ":authority" in pseudo:
            headers.insert(0, ("host", pseudo[":authority"]))
        env = self.server.environ_for(
            pseudo.get(":method", "GET"), pseudo.get(":path", "/"), "HTTP/2", headers, self.addr
        )
        stream = _Stream(event.stream_id, env)
        self.streams[event.stream_id] = stream
        refusal = None
        if self.server.admit is not None and event.stream_ended is None:
            try:
                refusal = self.server.admit(env)
            except Exception:
                log.exception("error in the admission hook")
                refusal = _simple_response(500, "internal server error")
        cl = env.get("CONTENT_LENGTH", "")
        if refusal is None and cl.isdigit() and int(cl) > self.server.max_body:
            refusal = _simple_response(413, "request body too large")
        if refusal is not None:
            self._refuse(stream, refusal)

    def _refuse(self, stream: _Stream, refusal: tuple[int, list[tuple[str, str]], bytes]) -> None:
        status, headers, body = refusal
        stream.refused = True
        stream.body = []
        self.streams.pop(stream.id, None)
        out = [(":status", str(status))]
        out += [(k.lower(), v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
        if not any(k == "content-length" for k, _ in out):
            out.append(("content-length", str(len(body))))
        try:
            self.h2.send_headers(stream.id, out, end_stream=not body)
            if body:
                window = self.h2.local_flow_control_window(stream.id)
                self.h2.send_data(stream.id, body[:window], end_stream=len(body) <= window)
            # Stop the client's upload: the response is complete, the rest of the body is not wanted.
            self.h2.reset_stream(stream.id, h2.errors.ErrorCodes.NO_ERROR)
        except h2.exceptions.H2Error:
            pass

    def _on_end(self, stream_id: int) -> None:  # under the lock
        stream = self.streams.get(stream_id)
        if stream is None or stream.refused or "wsgi.input" in stream.environ:
            return
        body = b"".join(stream.body)
        stream.body = []
        stream.environ["wsgi.input"] = io.BytesIO(body)
        if "CONTENT_LENGTH" not in stream.environ and body:
            stream.environ["CONTENT_LENGTH"] = str(len(body))
        t = threading.Thread(target=self._run_stream, args=(stream,), daemon=True, name="h2-stream")
        self.workers.add(t)
        t.start()

    # -- the writing side (one thread per stream) -------------------------------------------------

    def _run_stream(self, stream: _Stream) -> None:
        try:
            self._respond(stream)
        except (_StreamGone, OSError):
            pass
        except Exception:
            log.exception("error on HTTP/2 stream %d", stream.id)
        finally:
            with self.lock:
                self.streams.pop(stream.id, None)
                self.workers.discard(threading.current_thread())

    def _respond(self, stream: _Stream) -> None:
        env = stream.environ
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
            state["status"] = status
            state["headers"] = headers
            return write

        def send_head(end: bool) -> None:
            out = [(":status", state["status"][:3])]
            out += [(k.lower(), v) for k, v in state["headers"] if k.lower() not in _HOP_BY_HOP]
            with self.lock:
                self._check(stream)
                self.h2.send_headers(stream.id, out, end_stream=end)
                self._flush()
            state["sent"] = True

        def write(data: bytes) -> None:
            if stopping.is_set():
                raise _StreamGone
            if not state.get("sent"):
                send_head(False)
            if data and not head_only:
                self._send_data(stream, data)

        try:
            result = self.server.call_app(env, start_response)
        except Exception:
            log.exception("error in the WSGI app for %s %s", env["REQUEST_METHOD"], env["PATH_INFO"])
            state["status"], state["headers"] = "500 Internal Server Error", [("content-length", "0")]
            send_head(True)
            return
        try:
            if type(result) is list and len(result) == 1 and not state.get("sent"):
                body = result[0]
                if not body or head_only:
                    send_head(True)
                    return
                write(body)
            else:
                for chunk in result:
                    if chunk:
                        write(chunk)
                    elif stopping.is_set():
                        raise _StreamGone
                if not state.get("sent"):
                    send_head(True)
                    return
            with self.lock:
                self._check(stream)
                self.h2.end_stream(stream.id)
                self._flush()
        except (_StreamGone, OSError):
            with self.lock:
                try:
                    if not self.closed and not stream.closed:
                        self.h2.reset_stream(stream.id, h2.errors.ErrorCodes.CANCEL)
                        self._flush()
                except (h2.exceptions.H2Error, OSError):
                    pass
        except Exception:
            log.exception("error in the WSGI app for %s %s", env["REQUEST_METHOD"], env["PATH_INFO"])
            with self.lock:
                try:
                    if not state.get("sent"):
                        self.h2.send_headers(stream.id, [(":status", "500"), ("content-length", "0")],
                                             end_stream=True)
                    else:
                        self.h2.reset_stream(stream.id, h2.errors.ErrorCodes.INTERNAL_ERROR)
                    self._flush()
                except (h2.exceptions.H2Error, OSError):
                    pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.exception("error closing the WSGI response")

    def _check(self, stream: _Stream) -> None:  # under the lock
        if self.closed or stream.closed or self.server.stopping.is_set():
            raise _StreamGone

    def _send_data(self, stream: _Stream, data: bytes) -> None:
        view = memoryview(data)
        with self.lock:
            while view:
                self._check(stream)
                try:
                    window = min(
                        self.h2.local_flow_control_window(stream.id), self.h2.max_outbound_frame_size
                    )
                except h2.exceptions.H2Error:
                    raise _StreamGone from None
                if window <= 0:
                    self.window_open.wait(0.5)
                    continue
                try:
                    self.h2.send_data(stream.id, bytes(view[:window]))
                except h2.exceptions.H2Error:
                    raise _StreamGone from None
                view = view[window:]
                self._flush()
