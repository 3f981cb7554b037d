"""What every protocol shares: the response type, timestamps, and the protocol interface."""

from __future__ import annotations

import base64
import binascii
import calendar
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from emulator.protocols import validate

if TYPE_CHECKING:
    from emulator.context import RequestContext
    from emulator.errors import ServiceError
    from emulator.specs import Operation, ServiceSpec


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | Iterable[bytes] = b""


class EnvironHeaders:
    """Request headers read straight from a WSGI environ, by lower-case name, without copying them all."""

    __slots__ = ("environ",)

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self.environ = environ

    def get(self, name: str, default: str = "") -> str:
        if name == "content-type":
            key = "CONTENT_TYPE"
        elif name == "content-length":
            key = "CONTENT_LENGTH"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        return self.environ.get(key, default)


@dataclass(slots=True)
class Request:
    """The parts of an HTTP request a protocol reads."""

    method: str
    headers: Mapping[str, str] | EnvironHeaders  # looked up by lower-case name
    query_string: str
    body: bytes
    form: dict[str, str] | None = None  # the query protocol's parameters, once parsed


class Protocol:
    """Parses requests and serializes results and errors of one service, driven by its model."""

    name = ""

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec

    def operation_name(self, request: Request) -> str:
        """The operation a request names (before its body is parsed); raises ServiceError."""
        raise NotImplementedError

    def parse(
        self, request: Request, operation: Operation, authorize: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        """The request's members, keyed by the model's member names, validated; raises ServiceError.

        ``authorize`` runs between reading the body and validating it: AWS answers a body it cannot
        read before a missing signature, and a missing signature before a constraint broken."""
        params = self.decode(request, operation)
        if authorize is not None:
            authorize()
        if operation.input is not None:
            errors = validate.validate(operation.input, params)
            if errors:
                raise self.validation_error(validate.summary(errors))
        return params

    def decode(self, request: Request, operation: Operation) -> dict[str, Any]:
        """The request's members with their wire types decoded, not yet checked against constraints."""
        raise NotImplementedError

    def validation_error(self, message: str) -> ServiceError:
        raise NotImplementedError

    def serialize(self, ctx: RequestContext, operation: Operation, result: dict[str, Any]) -> Response:
        raise NotImplementedError

    def serialize_error(self, ctx: RequestContext, error: ServiceError) -> Response:
        raise NotImplementedError

    def error_status(self, error: ServiceError) -> tuple[str, int, bool]:
        """The wire code, HTTP status and sender fault of an error, from the model's shape if it has one."""
        shape = self.spec.errors_by_code.get(error.code)
        if shape is not None:
            status = error.status or shape.error_status
            return shape.error_code, status, status < 500
        status = error.status or 400
        return error.code, status, error.sender_fault and status < 500


def to_datetime(value: Any) -> datetime:
    """A timestamp value a provider returned (datetime or epoch seconds) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(float(value), tz=timezone.utc)


def epoch_seconds(value: Any) -> float | int:
    if isinstance(value, datetime):
        value = to_datetime(value)
        seconds = calendar.timegm(value.utctimetuple()) + value.microsecond / 1e6
    else:
        seconds = float(value)
    # Milliseconds, as AWS answers; whole seconds as integers.
    seconds = round(seconds, 3)
    return int(seconds) if seconds == int(seconds) else seconds


def iso8601(value: Any) -> str:
    moment = to_datetime(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(value: Any) -> datetime:
    """A timestamp from the wire: epoch seconds (number or numeric string) or ISO 8601 text."""
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    text = str(value).strip()
    try:
        return datetime.fromtimestamp(float(text), tz=timezone.utc)
    except ValueError:
        pass
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str | bytes) -> bytes:
    """Strict base64 (only the alphabet, padding required), as AWS's services decode blobs."""
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(str(exc)) from None


def amz_id_2() -> str:
    """A value for the ``x-amz-id-2`` header AWS's answers carry: 72 random bytes in base64, as long
    as AWS's. Nothing reads it; it is there so that clients that log it find one (not a secret, so
    ``random`` rather than a system call per answer)."""
    return binascii.b2a_base64(random.randbytes(72), newline=False).decode("ascii")
