"""The emulator's own API, under ``/_emulator/`` (JSON in, JSON out).

- ``GET  /_emulator/health``: version, each service's state, uptime.
- ``POST /_emulator/reset[?service=sns]``: forget all state (and put the clock back to real time),
  or one service's state.
- ``GET  /_emulator/clock``: the emulator's time. ``POST /_emulator/clock`` with
  ``{"advance": seconds}`` or ``{"set": epoch seconds or ISO 8601}`` moves it forward;
  ``{"freeze": true}`` stops it (it then moves only when told), ``{"freeze": false}`` lets it run.

- ``/_emulator/<service>/...``: each service's own inspection endpoints (``Provider.admin``).
- ``GET /SimpleNotificationService-<id>.pem``: the certificate SNS signs messages with, at the
  ``SigningCertURL`` its messages carry (the path AWS uses, on this server).

And the URLs that users migrating from other local emulators already call in their CI:
``GET /_localstack/health`` and ``POST /moto-api/reset``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from emulator import clock
from emulator.protocols.base import iso8601, parse_timestamp
from emulator.services import SERVICES

if TYPE_CHECKING:
    from emulator.server import App

PREFIX = "/_emulator/"
COMPAT_PATHS = ("/_localstack/health", "/moto-api/reset")


class Admin:
    def __init__(self, app: App) -> None:
        self.app = app
        self.routes = {
            ("GET", "/_emulator/health"): self.health,
            ("HEAD", "/_emulator/health"): self.health,
            ("POST", "/_emulator/reset"): self.reset,
            ("GET", "/_emulator/clock"): self.get_clock,
            ("POST", "/_emulator/clock"): self.move_clock,
            ("GET", "/_localstack/health"): self.localstack_health,
            ("HEAD", "/_localstack/health"): self.localstack_health,
            ("POST", "/moto-api/reset"): self.moto_reset,
        }

    def handles(self, path: str) -> bool:
        return path.startswith(PREFIX) or path in COMPAT_PATHS or _is_certificate(path)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        handler = self.routes.get((request.method, request.path.rstrip("/") or "/"))
        if handler is None and _is_certificate(request.path):
            handler = self.certificate
        elif handler is None and _service_path(request.path) is not None:
            handler = self.service
        if handler is None:
            known = {path for _, path in self.routes}
            if request.path.rstrip("/") in known:
                response = _json({"error": f"method {request.method} not allowed on {request.path}"}, 405)
            else:
                response = _json({"error": f"no admin endpoint {request.path}"}, 404)
        else:
            try:
                response = handler(request)
            except ValueError as exc:
                response = _json({"error": str(exc)}, 400)
        # A list, not werkzeug's iterable: the serving layer writes lists from its event loop and
        # moves only streamed responses to a thread.
        start_response(response.status, response.headers.to_wsgi_list())
        return [] if request.method == "HEAD" else [response.get_data()]

    def health(self, request: Request) -> Response:
        return _json(self.app.health())

    def reset(self, request: Request) -> Response:
        service = request.args.get("service") or None
        if service is not None and service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; known: {', '.join(SERVICES)}")
        return _json({"reset": self.app.reset(service)})

    def get_clock(self, request: Request) -> Response:
        return _json(_clock_state())

    def move_clock(self, request: Request) -> Response:
        body = _json_body(request)
        advance = body.get("advance", request.args.get("advance"))
        target = body.get("set", request.args.get("set"))
        freeze = body.get("freeze")
        if freeze is not None and not isinstance(freeze, bool):
            raise ValueError('"freeze" must be true or false')
        if advance is not None and target is not None or (advance is None and target is None and freeze is None):
            raise ValueError(
                'give one of "advance" (seconds) or "set" (epoch seconds or ISO 8601), and/or "freeze" (true or false)'
            )
        # Everything is checked before anything changes: a refused move leaves the clock as it was.
        seconds = target_seconds = None
        if advance is not None:
            try:
                if isinstance(advance, bool):
                    raise ValueError(advance)
                seconds = float(advance)
            except (TypeError, ValueError):
                raise ValueError(f'"advance" must be a number of seconds, not {advance!r}') from None
            if not math.isfinite(seconds) or seconds < 0 or clock.now() + seconds > clock.LATEST:
                raise ValueError(f'"advance" must be a finite number of seconds >= 0 within range, not {advance!r}')
        elif target is not None:
            try:
                if isinstance(target, bool):
                    raise ValueError(target)
                target_seconds = parse_timestamp(target).timestamp()
            except (TypeError, ValueError, OverflowError, OSError):
                raise ValueError(f'"set" must be epoch seconds or ISO 8601, not {target!r}') from None
            if not clock.now() <= target_seconds <= clock.LATEST:
                raise ValueError('"set" must not be earlier than the clock, nor later than the year 9599')
        if freeze:
            clock.freeze()
        elif freeze is False:
            clock.unfreeze()
        if seconds is not None:
            clock.advance(seconds)
        elif target_seconds is not None:
            clock.set_time(target_seconds)
        return _json(_clock_state())

    def service(self, request: Request) -> Response:
        """``/_emulator/<service>/<path>``: the service's own inspection endpoints."""
        name, path = _service_path(request.path) or ("", "")
        body = _json_body(request) if request.method in ("POST", "PUT", "DELETE") else {}
        status, document = self.app.registry.get(name).admin(request.method, path, dict(request.args), body)
        return _json(document, status)

    def certificate(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _json({"error": f"method {request.method} not allowed on {request.path}"}, 405)
        pem = self.app.registry.get("sns").certificate_pem(request.path.lstrip("/"))
        if pem is None:
            return _json({"error": f"no certificate {request.path}"}, 404)
        return Response(pem, mimetype="application/x-x509-ca-cert")

    def localstack_health(self, request: Request) -> Response:
        services = {
            name: ("running" if state == "running" else "available")
            for name, state in self.app.health()["services"].items()
        }
        return _json({"services": services, "edition": "community", "version": self.app.health()["version"]})

    def moto_reset(self, request: Request) -> Response:
        self.app.reset()
        return _json({"status": "ok"})


def _is_certificate(path: str) -> bool:
    return path.startswith("/SimpleNotificationService-") and path.endswith(".pem") and path.count("/") == 1


def _service_path(path: str) -> tuple[str, str] | None:
    """(service, rest of the path) of ``/_emulator/<service>/<rest>``, for the services of the registry."""
    if not path.startswith(PREFIX):
        return None
    name, _, rest = path[len(PREFIX):].partition("/")
    return (name, rest.strip("/")) if name in SERVICES else None


def _clock_state() -> dict[str, Any]:
    now = clock.now()
    return {
        "now": now,
        "iso": iso8601(datetime.fromtimestamp(now, tz=timezone.utc)),
        "offset": clock.offset(),
        "frozen": clock.is_frozen(),
    }


def _json_body(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ValueError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document), status=status, mimetype="application/json")
