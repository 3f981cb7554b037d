"""The WSGI app: admin routes under ``/_emulator/``, else an AWS request for one of the services.

An AWS request's path: route (service, account, region) -> the service's protocol parses and
validates it against the model -> the provider's method -> the protocol serializes the result or the
``ServiceError`` raised. A failure inside the emulator is logged with its traceback and answered as
the service's internal error; it never reaches the serving layer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from emulator import __version__, clock
from emulator.config import Config
from emulator.context import RequestContext
from emulator.deferred import Deferred
from emulator.errors import InternalError, InternalFailure, ServiceError, UnknownOperationException, error_class
from emulator.protocols import refusals
from emulator.protocols.base import EnvironHeaders, Protocol, Request, Response
from emulator.routing import route
from emulator.services import SERVICES, Registry

log = logging.getLogger("emulator")

# The largest request body each service accepts, checked from Content-Length before the body is
# read. Kinesis takes up to 10 MiB of records a call (base64 on the wire adds a third); EventBridge's
# PutEvents and SNS's Publish take far less, with room left for encoding.
BODY_LIMITS = {"kinesis": 16 * 1024 * 1024, "events": 2 * 1024 * 1024, "sns": 2 * 1024 * 1024}
MAX_BODY = max(BODY_LIMITS.values())
CBOR_SERVICES = frozenset({"kinesis"})
CBOR_CONTENT_TYPE = "application/x-amz-cbor-1.1"

RequestEntityTooLarge = error_class("RequestEntityTooLarge", 413)

StartResponse = Callable[..., Any]


class App:
    """The emulator as one WSGI callable."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.registry = Registry(self.config)
        self.started = time.monotonic()
        self._protocols: dict[str, Protocol] = {}
        self._lock = threading.Lock()
        from emulator.admin import Admin

        self.admin = Admin(self)

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if self.admin.handles(path):
            return self.admin(environ, start_response)
        response = self.handle(environ)
        if isinstance(response, Later):
            return response.run(start_response)
        start_response(_status_line(response.status), response.headers)
        body = response.body
        return [body] if isinstance(body, bytes) else body

    def admit(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """Refuses, before the body is read, a request whose Content-Length is over its service's limit."""
        length = _content_length(environ)
        if length is None or length <= min(BODY_LIMITS.values()):
            return None
        if self.admin.handles(environ.get("PATH_INFO", "/")):
            return None
        found = route(environ, self.config.default_account, self.config.default_region)
        limit = BODY_LIMITS.get(found.service or "", MAX_BODY)
        if length <= limit:
            return None
        response = self._too_large(environ, found.service, found.account, found.region, limit)
        body = response.body if isinstance(response.body, bytes) else b"".join(response.body)
        return response.status, response.headers, body

    # -- AWS requests --------------------------------------------------------------------------

    def protocol(self, service: str, content_type: str = "") -> Protocol:
        """The service's protocol; Kinesis also speaks CBOR, chosen by the request's content type."""
        cbor = service in CBOR_SERVICES and content_type.lower().startswith(CBOR_CONTENT_TYPE)
        key = service + ("+cbor" if cbor else "")
        protocol = self._protocols.get(key)
        if protocol is None:
            with self._lock:
                protocol = self._protocols.get(key)
                if protocol is None:
                    from emulator import protocols, specs

                    protocol = protocols.for_spec(specs.load(service), cbor=cbor)
                    self._protocols[key] = protocol
        return protocol

    def handle(self, environ: dict[str, Any]) -> Response | Later:
        """The answer to an AWS request; with an ``Origin`` header, it carries AWS's CORS headers."""
        started = time.perf_counter()
        found = route(environ, self.config.default_account, self.config.default_region)
        service = found.service or _fallback_service(environ)
        ctx = RequestContext(
            service=service,
            account=found.account,
            region=found.region,
            base_url=self.config.external_url.rstrip("/") or _base_url(environ),
            signed="HTTP_AUTHORIZATION" in environ or "X-Amz-Credential" in environ.get("QUERY_STRING", ""),
        )
        response = refusals.preflight(environ, ctx.request_id)
        if response is None and found.service != "sns":
            response = refusals.not_an_api_call(environ, ctx.request_id)
        if response is not None:
            log.info("%s - %d (not an API call)", found.service or "-", response.status)
        else:
            response = self._answer(environ, found.service, ctx, started)
        cors = refusals.cors_headers(environ)
        if cors:
            if isinstance(response, Later):
                finish = response.finish
                response = Later(lambda: _with_headers(finish(), cors))
            else:
                response.headers.extend(cors)
        return response

    def _answer(
        self, environ: dict[str, Any], claimed: str | None, ctx: RequestContext, started: float
    ) -> Response | Later:
        service = ctx.service
        try:
            protocol = self.protocol(service, environ.get("CONTENT_TYPE", ""))
        except Exception:
            log.exception("cannot load the %s service", service)
            return Response(500, [("Content-Type", "text/plain")], b"the service could not be loaded\n")
        try:
            if claimed is None and service != "sns":
                raise UnknownOperationException("")
            limit = BODY_LIMITS[service]
            length = _content_length(environ)
            if length is not None and length > limit:
                return self._too_large(environ, service, ctx.account, ctx.region, limit)
            body = _read_body(environ, length, limit)
            if body is None:
                return self._too_large(environ, service, ctx.account, ctx.region, limit)
            request = Request(
                method=environ.get("REQUEST_METHOD", "GET"),
                headers=EnvironHeaders(environ),
                query_string=environ.get("QUERY_STRING", ""),
                body=body,
            )
            if not body and protocol.name in ("json", "cbor"):
                return self._empty_body(environ, ctx, protocol, request)
            ctx.operation = protocol.operation_name(request)
            operation = protocol.spec.operation(ctx.operation)
            assert operation is not None  # operation_name() answered only names of the model
            unsigned = None
            if service != "sns" or ctx.operation not in refusals.UNSIGNED_SNS_OPERATIONS:
                unsigned = refusals.signature_error(environ, query=service == "sns")
            params = protocol.parse(request, operation, None if unsigned is None else _raiser(unsigned))
            result = self.registry.get(service).dispatch(ctx, ctx.operation, params)
            if isinstance(result, Deferred):  # long polling: answered on a thread (emulator/deferred.py)
                stopping = environ.get("emulator.stopping")
                return Later(lambda: self._resolve(ctx, protocol, operation, result, stopping, started))
            response = protocol.serialize(ctx, operation, result)
        except ServiceError as error:
            response = protocol.serialize_error(ctx, error)
        except Exception:
            log.exception("internal error in %s %s", service, ctx.operation or "?")
            # SNS's model names its 500 InternalError; the JSON services answer InternalFailure.
            failure = (InternalError if service == "sns" else InternalFailure)("Internal service error")
            response = protocol.serialize_error(ctx, failure)
        if log.isEnabledFor(logging.INFO):
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1fms", service, ctx.operation or "-", response.status, elapsed)
        return response

    def _empty_body(
        self, environ: dict[str, Any], ctx: RequestContext, protocol: Protocol, request: Request
    ) -> Response:
        """A JSON service's answer to a request with no body: never run as ``{}``. Kinesis answers it in
        CBOR unless the content type is exactly JSON 1.1, the SDKs' default for it being CBOR."""
        try:
            ctx.operation = protocol.operation_name(request)
            error: ServiceError = protocol.empty_body_error(request)  # type: ignore[attr-defined]
        except ServiceError as refused:
            error = refused
        if ctx.service in CBOR_SERVICES and environ.get("CONTENT_TYPE") != "application/x-amz-json-1.1":
            protocol = self.protocol(ctx.service, CBOR_CONTENT_TYPE)
        response = protocol.serialize_error(ctx, error)
        log.info("%s %s %d (empty body)", ctx.service, ctx.operation or "-", response.status)
        return response

    def _resolve(
        self,
        ctx: RequestContext,
        protocol: Protocol,
        operation: Any,
        deferred: Deferred,
        stopping: threading.Event | None,
        started: float,
    ) -> Response:
        """The answer of a ``Deferred``, on the thread that waits for it, serialized as ``handle`` would."""
        try:
            response = protocol.serialize(ctx, operation, deferred.resolve(stopping))
        except ServiceError as error:
            response = protocol.serialize_error(ctx, error)
        except Exception:
            log.exception("internal error in %s %s", ctx.service, ctx.operation)
            failure = (InternalError if ctx.service == "sns" else InternalFailure)("Internal service error")
            response = protocol.serialize_error(ctx, failure)
        if log.isEnabledFor(logging.INFO):
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1fms", ctx.service, ctx.operation, response.status, elapsed)
        return response

    def _too_large(self, environ: dict, service: str | None, account: str, region: str, limit: int) -> Response:
        service = service or _fallback_service(environ)
        ctx = RequestContext(service=service, account=account, region=region)
        error = RequestEntityTooLarge(f"HTTP content length exceeded {limit} bytes.")
        response = self.protocol(service, environ.get("CONTENT_TYPE", "")).serialize_error(ctx, error)
        log.info("%s - %d (request body over %d bytes)", service, response.status, limit)
        return response

    # -- lifecycle -----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        loaded = self.registry.loaded()
        return {
            "version": __version__,
            "services": {name: (loaded[name].health() if name in loaded else "available") for name in SERVICES},
            "uptime": round(time.monotonic() - self.started, 3),
            "time": clock.now(),
        }

    def reset(self, service: str | None = None) -> list[str]:
        """Forgets one service's state, or everything: all services' state and the clock's moves."""
        names = [service] if service else list(SERVICES)
        self.registry.reset(service)
        if service is None:
            clock.reset()
        return names

    def close(self) -> None:
        self.registry.close()


class Later:
    """A response worked out when its generator body is first stepped: the serving layer runs a body
    that is not a list on a thread of its own, so the wait in ``finish`` never holds up the event loop,
    and ``start_response`` may still be called then (before the first byte of the body)."""

    __slots__ = ("finish",)

    def __init__(self, finish: Callable[[], Response]) -> None:
        self.finish = finish

    def run(self, start_response: StartResponse) -> Iterator[bytes]:
        response = self.finish()
        start_response(_status_line(response.status), response.headers)
        body = response.body
        if isinstance(body, bytes):
            yield body
        else:
            yield from body


def _with_headers(response: Response, headers: list[tuple[str, str]]) -> Response:
    response.headers.extend(headers)
    return response


def _raiser(error: ServiceError) -> Callable[[], None]:
    def refuse() -> None:
        raise error

    return refuse


def _fallback_service(environ: dict[str, Any]) -> str:
    """The protocol that answers a request no service claims: JSON for JSON bodies, else SNS's query."""
    content_type = environ.get("CONTENT_TYPE", "")
    return "kinesis" if "json" in content_type or "cbor" in content_type else "sns"


def _base_url(environ: dict[str, Any]) -> str:
    """The URL the client used to reach the server: its scheme and Host header (else the socket's address)."""
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '')}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}"


def _content_length(environ: dict[str, Any]) -> int | None:
    raw = environ.get("CONTENT_LENGTH")
    if not raw:
        return None
    try:
        return max(int(raw), 0)
    except ValueError:
        return None


def _read_body(environ: dict[str, Any], length: int | None, limit: int) -> bytes | None:
    """The request body, never more than ``limit`` bytes; None when it is longer."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length is not None:
        return stream.read(length) if length else b""
    body = stream.read(limit + 1)
    return None if len(body) > limit else body


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Unknown')}"


def make_app(config: Config | None = None) -> App:
    return App(config)



def serve(config: Config) -> int:
    """Runs the emulator until SIGINT or SIGTERM; the process's exit status."""
    import signal
    import sys

    from emulator.serving import Server

    app = make_app(config)
    try:
        server = Server(app, config.host, config.port, admit=app.admit, max_body=MAX_BODY)
    except OSError as exc:
        print(f"error: cannot listen on {config.host}:{config.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1

    def stop(signum: int, frame: Any) -> None:
        log.info("stopping (signal %d)", signum)
        server.shutdown()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    log.info("listening on http://%s:%d", config.host, server.port)
    try:
        server.serve_forever()
    finally:
        server.close()
        app.close()
    return 0
