"""The JSON 1.1 protocol (EventBridge, Kinesis): ``X-Amz-Target`` names the operation.

Requests: a JSON object keyed by member names; blobs base64, timestamps epoch seconds. Responses:
the same, ``application/x-amz-json-1.1``. Errors: ``{"__type": code, "message": text}`` with the
``X-Amzn-ErrorType`` header. An output with an event stream (``SubscribeToShard``) is answered as
``application/vnd.amazon.eventstream``: an ``initial-response`` message, then one message per event.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from emulator.errors import (
    InternalFailure,
    SerializationException,
    ServiceError,
    UnknownOperationException,
    ValidationException,
)
from emulator.protocols.base import (
    Protocol,
    Request,
    Response,
    b64decode,
    b64encode,
    epoch_seconds,
    parse_timestamp,
)
from emulator.specs import Operation, Shape

if TYPE_CHECKING:
    from emulator.context import RequestContext

log = logging.getLogger(__name__)

JSON_CONTENT_TYPES = frozenset({"application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json"})
EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_DECODER = json.JSONDecoder()

_JSON_TOKEN = {str: "STRING_VALUE", bool: "BOOLEAN_VALUE", int: "NUMBER_VALUE", float: "NUMBER_VALUE"}
_TYPE_NAMES = {
    "string": "String",
    "integer": "Integer",
    "long": "Long",
    "float": "Float",
    "double": "Double",
    "boolean": "Boolean",
    "timestamp": "Date",
    "blob": "ByteBuffer",
}


class UnsupportedContentType(ServiceError):
    """AWS's JSON services answer a request of an unknown content type with a bare XML 404."""

    code = "UnknownOperationException"
    status = 404


class JsonProtocol(Protocol):
    name = "json"
    content_type = "application/x-amz-json-1.1"
    content_types = JSON_CONTENT_TYPES

    def operation_name(self, request: Request) -> str:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in self.content_types:
            raise UnsupportedContentType("")
        target = request.headers.get("x-amz-target", "")
        prefix, _, name = target.partition(".")
        if prefix != self.spec.target_prefix or self.spec.operation(name) is None:
            raise UnknownOperationException("")
        return name

    # -- requests ------------------------------------------------------------------------------

    def validation_error(self, message: str) -> ServiceError:
        return ValidationException(message)

    def decode(self, request: Request, operation: Operation) -> dict[str, Any]:
        document = self._load(request.body)
        shape = operation.input
        if shape is None:
            return {}
        if not isinstance(document, dict):
            raise SerializationException(_mismatch(document, shape))
        return self._structure(shape, document)

    def _structure(self, shape: Shape, document: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, member in shape.members.items():
            raw = document.get(member.wire_name)
            if raw is not None:
                params[name] = self._value(member.shape, raw)
        return params

    def _value(self, shape: Shape, raw: Any) -> Any:
        kind = shape.type
        if kind == "structure":
            if shape.is_document:
                return raw
            if not isinstance(raw, dict):
                raise SerializationException(_mismatch(raw, shape))
            return self._structure(shape, raw)
        if kind == "list":
            if not isinstance(raw, list):
                raise SerializationException(_mismatch(raw, shape))
            member = shape.member.shape
            return [None if item is None else self._value(member, item) for item in raw]
        if kind == "map":
            if not isinstance(raw, dict):
                raise SerializationException(_mismatch(raw, shape))
            value_shape = shape.value.shape
            return {key: None if item is None else self._value(value_shape, item) for key, item in raw.items()}
        if kind == "string":
            if not isinstance(raw, str):
                raise SerializationException(_mismatch(raw, shape))
            return raw
        if kind in ("integer", "long"):
            if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw != int(raw):
                raise SerializationException(_mismatch(raw, shape))
            return int(raw)
        if kind in ("float", "double"):
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                raise SerializationException(_mismatch(raw, shape))
            return float(raw)
        if kind == "boolean":
            if not isinstance(raw, bool):
                raise SerializationException(_mismatch(raw, shape))
            return raw
        if kind == "blob":
            return self._decode_blob(shape, raw)
        if kind == "timestamp":
            return self._decode_timestamp(shape, raw)
        return raw

    # The wire forms that JSON and CBOR write differently.

    def _load(self, body: bytes) -> Any:
        try:
            text = body.decode("utf-8").strip()
            return _DECODER.decode(text) if text else {}
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise SerializationException("Start of structure or map found where not expected.") from None

    @staticmethod
    def _dump(document: Any) -> bytes:
        return _ENCODER.encode(document).encode("utf-8")

    def _decode_blob(self, shape: Shape, raw: Any) -> bytes:
        if not isinstance(raw, str):
            raise SerializationException(_mismatch(raw, shape))
        try:
            return b64decode(raw)
        except ValueError:
            raise SerializationException("Base64 encoded value could not be decoded") from None

    def _decode_timestamp(self, shape: Shape, raw: Any) -> Any:
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise SerializationException(_mismatch(raw, shape))
        try:
            return parse_timestamp(raw)
        except (ValueError, OverflowError, OSError):
            raise SerializationException(_mismatch(raw, shape)) from None

    def _encode_blob(self, value: Any) -> Any:
        return b64encode(value if isinstance(value, bytes) else str(value).encode("utf-8"))

    def _encode_timestamp(self, value: Any) -> Any:
        return epoch_seconds(value)

    # -- responses -----------------------------------------------------------------------------

    def serialize(self, ctx: RequestContext, operation: Operation, result: dict[str, Any]) -> Response:
        shape = operation.output
        if shape is not None and shape.event_stream_member:
            return self._event_stream(ctx, shape, result)
        document = self._out_structure(shape, result) if shape is not None else {}
        return self._json_response(ctx, 200, document)

    def serialize_error(self, ctx: RequestContext, error: ServiceError) -> Response:
        code, status, _ = self.error_status(error)
        if isinstance(error, UnsupportedContentType):
            return Response(
                404,
                [("Content-Type", "application/xml"), ("x-amzn-RequestId", ctx.request_id)],
                b"<UnknownOperationException/>\n",
            )
        document: dict[str, Any] = {"__type": code}
        if error.message:
            document["message"] = error.message
        response = self._json_response(ctx, status, document)
        response.headers.append(("X-Amzn-ErrorType", code))
        return response

    def _json_response(self, ctx: RequestContext, status: int, document: Any) -> Response:
        body = self._dump(document)
        return Response(
            status,
            [
                ("Content-Type", self.content_type),
                ("x-amzn-RequestId", ctx.request_id),
                ("Content-Length", str(len(body))),
            ],
            body,
        )

    def _out_structure(self, shape: Shape, value: dict[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        members = shape.members
        for name, item in value.items():
            member = members.get(name)
            if member is None or item is None:
                continue
            document[member.wire_name] = self._out_value(member.shape, item)
        return document

    def _out_value(self, shape: Shape, value: Any) -> Any:
        kind = shape.type
        if kind == "structure":
            return value if shape.is_document else self._out_structure(shape, value)
        if kind == "list":
            member = shape.member.shape
            return [self._out_value(member, item) for item in value]
        if kind == "map":
            value_shape = shape.value.shape
            return {key: self._out_value(value_shape, item) for key, item in value.items()}
        if kind == "blob":
            return self._encode_blob(value)
        if kind == "timestamp":
            return self._encode_timestamp(value)
        return value

    # -- event streams -------------------------------------------------------------------------

    def _event_stream(self, ctx: RequestContext, shape: Shape, result: dict[str, Any]) -> Response:
        from emulator.protocols.eventstream import encode_message

        stream_name = shape.event_stream_member or ""
        events: Iterable[dict[str, Any]] = result.get(stream_name) or ()
        initial = {name: item for name, item in result.items() if name != stream_name}
        stream_shape = shape.members[stream_name].shape

        def frames() -> Iterator[bytes]:
            yield encode_message(
                {":message-type": "event", ":event-type": "initial-response", ":content-type": self.content_type},
                self._dump(self._out_structure(shape, initial)),
            )
            iterator = iter(events)
            try:
                for event in iterator:
                    for event_type, payload in event.items():
                        member = stream_shape.members[event_type]
                        yield encode_message(
                            {":message-type": "event", ":event-type": event_type, ":content-type": self.content_type},
                            self._dump(self._out_structure(member.shape, payload)),
                        )
            except ServiceError as error:
                code, _, _ = self.error_status(error)
                if code in stream_shape.members:
                    yield encode_message(
                        {":message-type": "exception", ":exception-type": code, ":content-type": self.content_type},
                        self._dump({"message": error.message}),
                    )
                else:
                    yield encode_message(
                        {":message-type": "error", ":error-code": code, ":error-message": error.message}, b""
                    )
            except Exception:
                log.exception("event stream of %s failed", ctx.operation)
                failure = InternalFailure("Internal service error")
                yield encode_message(
                    {":message-type": "error", ":error-code": failure.code, ":error-message": failure.message}, b""
                )
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()

        return Response(
            200,
            [("Content-Type", EVENT_STREAM_CONTENT_TYPE), ("x-amzn-RequestId", ctx.request_id)],
            frames(),
        )


def _mismatch(raw: Any, shape: Shape) -> str:
    """Jackson-style wording for a value of the wrong JSON type, as AWS's JSON services answer it."""
    if isinstance(raw, dict):
        return "Start of structure or map found where not expected."
    if isinstance(raw, list):
        return "Start of list found where not expected"
    token = _JSON_TOKEN.get(type(raw), "VALUE")
    if shape.type in ("structure", "map"):
        return f"Unexpected {token} where a structure or map was expected"
    if shape.type == "list":
        return f"Unexpected {token} where a list was expected"
    type_name = _TYPE_NAMES.get(shape.type, shape.type)
    article = "an" if type_name[0] in "AEIOU" else "a"
    return f"{token} can not be converted to {article} {type_name}"
