"""Where a delivery goes: an HTTP endpoint, a function, another service's provider, or only the log.

A target makes one attempt when the dispatcher asks and answers an ``Outcome``; retries, ordering
and the log are the dispatcher's. Targets run on the dispatcher's worker threads, never on the event
loop, so the slow parts live here: the HTTP round trip, a body that costs CPU to build (SNS signs its
messages), another provider's call. A body or payload given as a callable is built on the worker at
the first attempt and kept, so every retry carries exactly the bytes of the first, as AWS's retries do.

Constructing a target must stay cheap (producers build them on the request thread, under their
store's lock), and so must importing this module (start-up): urllib3, http.client and email are
imported by the first attempt that needs them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from emulator.delivery.model import Outcome
from emulator.errors import ServiceError

if TYPE_CHECKING:
    from emulator.delivery.dispatcher import Dispatcher
    from emulator.delivery.model import Delivery

BODY_KEPT = 1024  # bytes of an HTTP answer kept in the outcome, for the log
_DRAIN_LIMIT = 64 * 1024  # an answer longer than this is cut off (its connection closed) rather than read


class Target(Protocol):
    """Anything a delivery can be sent to."""

    def attempt(self, delivery: Delivery, dispatcher: Dispatcher) -> Outcome:
        """One try, on a worker thread; may block (within the target's own timeouts)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the log shows as the delivery's target; called on submit, so it must be cheap."""
        ...


class Once:
    """A value given as-is, or as a callable evaluated on first use and then kept.

    A failed evaluation is not kept: the next attempt tries again.
    """

    __slots__ = ("_make", "_value", "_lock")

    def __init__(self, source: Any) -> None:
        self._make: Callable[[], Any] | None = source if callable(source) else None
        self._value = None if callable(source) else source
        self._lock = threading.Lock() if callable(source) else None

    def get(self) -> Any:
        if self._make is not None:
            assert self._lock is not None
            with self._lock:  # a target shared by deliveries still builds its value once
                if self._make is not None:
                    self._value = self._make()
                    self._make = None
        return self._value


def classify_status(status: int) -> tuple[bool, bool]:
    """(ok, retryable) of an HTTP status: 2xx delivered; 429 and 5xx worth retrying; any other failed for good.

    Redirects are not followed (AWS's HTTP deliveries do not follow them), so a 3xx is a failure.
    """
    if 200 <= status < 300:
        return True, False
    return False, status == 429 or status >= 500


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110 section 10.2.3).

    A date is measured against real time, not the emulator's clock: the endpoint lives in real time.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


class HttpTarget:
    """An HTTP or HTTPS endpoint, reached through the dispatcher's one urllib3 pool.

    The pool keeps connections alive between deliveries; urllib3's own retries and redirects are
    off (retries are the dispatcher's, on the emulator's clock; AWS does not follow redirects).
    HTTPS certificates are NOT verified: local receivers use self-signed certificates, and an
    emulator that refused them would be useless for testing https subscriptions. ``timeout`` bounds
    the connection and each read of the answer.
    """

    def __init__(
        self,
        url: str,
        method: str = "POST",
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        body: bytes | Callable[[], bytes] = b"",
        timeout: float = 15.0,
        classify: Callable[[int], tuple[bool, bool]] | None = None,
    ) -> None:
        self.url = url
        self.method = method
        self.headers: list[tuple[str, str]] = list(headers.items() if isinstance(headers, Mapping) else headers)
        self.timeout = timeout
        self.classify = classify or classify_status
        self._body = Once(body)

    def describe(self) -> dict[str, Any]:
        return {"type": "http", "method": self.method, "url": self.url}

    def attempt(self, delivery: Delivery, dispatcher: Dispatcher) -> Outcome:
        from urllib3 import HTTPHeaderDict
        from urllib3.exceptions import HTTPError

        body = self._body.get()
        headers = HTTPHeaderDict()
        for name, value in self.headers:
            headers.add(name, value)
        try:
            response = dispatcher.http().request(
                self.method, self.url, body=body, headers=headers, retries=False, redirect=False,
                timeout=self.timeout, preload_content=False, decode_content=False,
            )
        except (HTTPError, OSError) as exc:
            return Outcome(ok=False, retryable=_retryable(exc), error=_describe_error(exc, self.timeout))
        try:
            answer = _read_start(response)
        except (HTTPError, OSError):  # the status arrived; a body cut short changes nothing
            response.close()
            answer = b""
        ok, retryable = self.classify(response.status)
        return Outcome(
            ok=ok,
            status=response.status,
            error=None if ok else f"HTTP {response.status}",
            retryable=retryable and not ok,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            body=answer,
        )


def _read_start(response: Any) -> bytes:
    """The first ``BODY_KEPT`` bytes; the rest is read and dropped so the connection can be reused,
    unless there is too much of it, when the connection is closed instead."""
    start = response.read(BODY_KEPT)
    drained = 0
    while drained <= _DRAIN_LIMIT:
        chunk = response.read(16 * 1024)
        if not chunk:
            response.release_conn()
            return start
        drained += len(chunk)
    response.close()
    return start


def _retryable(exc: BaseException) -> bool:
    """Network failures are worth another try; a URL that cannot even be parsed is not."""
    from urllib3.exceptions import LocationValueError

    return not isinstance(exc, LocationValueError)


def _describe_error(exc: BaseException, timeout: float) -> str:
    """What went wrong, in the words an operator would use, for the log and the producer's callbacks."""
    from http.client import RemoteDisconnected

    from urllib3.exceptions import (
        ConnectTimeoutError,
        LocationValueError,
        NameResolutionError,
        NewConnectionError,
        ProtocolError,
        ReadTimeoutError,
        SSLError,
    )

    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, NameResolutionError):
        return "could not resolve the endpoint's host name"
    if isinstance(exc, NewConnectionError):  # before ConnectTimeoutError, which it subclasses
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        return f"could not connect: {cause or exc}"
    if isinstance(exc, ConnectTimeoutError):
        return f"connection timed out after {timeout:g} s"
    if isinstance(exc, ReadTimeoutError):
        return f"timed out after {timeout:g} s waiting for the answer"
    if isinstance(exc, SSLError):
        return f"TLS error: {cause or exc}"
    if isinstance(exc, ProtocolError):
        reason = exc.args[1] if len(exc.args) > 1 else cause
        if isinstance(reason, ConnectionResetError) and not isinstance(reason, RemoteDisconnected):
            return "connection reset"
        return "connection closed before an answer"
    if isinstance(exc, LocationValueError):
        return f"invalid endpoint URL: {exc}"
    return f"request failed: {exc}"


class CallTarget:
    """A function run on a worker (a producer's own step that must leave the request thread)."""

    def __init__(self, fn: Callable[[], Any], description: dict[str, Any] | None = None) -> None:
        self.fn = fn
        self.description = description

    def describe(self) -> dict[str, Any]:
        if self.description is not None:
            return self.description
        return {"type": "call", "name": getattr(self.fn, "__qualname__", repr(self.fn))}

    def attempt(self, delivery: Delivery, dispatcher: Dispatcher) -> Outcome:
        try:
            self.fn()
        except Exception as exc:  # the function's failure is the delivery's, never the worker's
            return Outcome(ok=False, retryable=True, error=repr(exc))
        return Outcome(ok=True)


class ServiceTarget:
    """Another service of the emulator, called in process: how one service delivers to another.

    The provider is found through the dispatcher's registry and its method called with the target's
    account and region, never by HTTP to ourselves and never by importing another service's modules.
    A ``ServiceError`` it raises (a missing stream, a throttle) is a failed, retryable attempt.
    """

    def __init__(self, service: str, method: str, kwargs: dict[str, Any], account: str, region: str) -> None:
        self.service = service
        self.method = method
        self.kwargs = kwargs
        self.account = account
        self.region = region

    def describe(self) -> dict[str, Any]:
        return {"type": "service", "service": self.service, "method": self.method,
                "account": self.account, "region": self.region}

    def attempt(self, delivery: Delivery, dispatcher: Dispatcher) -> Outcome:
        provider = dispatcher.registry.get(self.service)
        try:
            getattr(provider, self.method)(account=self.account, region=self.region, **self.kwargs)
        except ServiceError as exc:
            return Outcome(ok=False, retryable=True, error=f"{exc.code}: {exc.message}")
        return Outcome(ok=True)


class RecordTarget:
    """An endpoint the emulator does not serve (email, SMS, Lambda, ...): recorded exactly as it would
    have been sent, and counted as delivered at once. The payload goes into the delivery's log entry as
    ``"payload"``; a callable is evaluated once, when the log is first read (``Dispatcher.log``), so a
    record nobody reads costs nothing more than its entry. It must therefore depend only on what was
    fixed when the delivery was made (SNS's envelopes are: their id, time and signature are).

    With ``error``, the recorded endpoint is one that refuses the message for good (an SMS to a number
    that opted out, a push to a disabled endpoint): the payload is still recorded, and the delivery
    fails at once with that error and no retry, as the service's own delivery would."""

    immediate = True  # the attempt only notes the payload: the dispatcher completes it in submit

    def __init__(self, payload: Any | Callable[[], Any], description: dict[str, Any] | None = None,
                 error: str | None = None) -> None:
        self._payload = Once(payload)
        self.description = description
        self.error = error

    def describe(self) -> dict[str, Any]:
        return self.description if self.description is not None else {"type": "record"}

    def attempt(self, delivery: Delivery, dispatcher: Dispatcher) -> Outcome:
        if self.error is not None:
            return Outcome(ok=False, retryable=False, error=self.error, logged={"payload": self._payload})
        return Outcome(ok=True, logged={"payload": self._payload})
