"""The JSON 1.1 protocol (EventBridge, Kinesis): ``X-Amz-Target`` names the operation.

Requests: a JSON object keyed by member names; blobs base64, timestamps epoch seconds. Responses:
the same, ``application/x-amz-json-1.1``; an operation with no output answers an empty body. Errors:
``{"__type": code, "message": text}`` (``"Message"`` for a ``SerializationException``, as AWS writes
it) with the ``X-Amzn-ErrorType`` header. A value of the wrong JSON type is worded as Jackson, which
AWS reads requests with, words it; a number an integer cannot hold is narrowed as Java narrows it and
then validated, as AWS does. An output with an event stream (``SubscribeToShard``) is answered as
``application/vnd.amazon.eventstream``: an ``initial-response`` message, then one message per event.
"""

from __future__ import annotations

import binascii
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import orjson

from emulator.errors import (
    InternalFailure,
    SerializationException,
    ServiceError,
    UnknownOperationException,
    ValidationException,
)
from emulator.protocols.base import (
    Protocol,
    amz_id_2,
    Request,
    Response,
    b64decode,
    epoch_seconds,
    parse_timestamp,
)
from emulator.specs import Operation, ServiceSpec, Shape

if TYPE_CHECKING:
    from emulator.context import RequestContext

log = logging.getLogger(__name__)

JSON_CONTENT_TYPES = frozenset({"application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json"})
EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"

# Jackson's names for the JSON token a value was read from, as AWS's messages quote them.
_JSON_TOKEN = {str: "STRING_VALUE", int: "NUMBER_VALUE", float: "NUMBER_VALUE"}
# What a scalar of each model type "can not be converted to", in AWS's words.
_TARGETS = {
    "string": "a String",
    "integer": "an Integer",
    "long": "a Long",
    "float": "a Float",
    "double": "a Double",
    "boolean": "a Boolean",
    "timestamp": "milliseconds since epoch",
    "blob": "a Blob",
}
# Java's int and long: a number out of their range is narrowed to its low bits, as Java's
# ``BigDecimal.intValue()`` does, and then validated like any other value.
_INT_BITS = {"integer": 32, "long": 64}


class UnsupportedContentType(ServiceError):
    """AWS's JSON services answer a request of an unknown content type with a bare XML 404."""

    code = "UnknownOperationException"
    status = 404


class CoralSerializationException(ServiceError):
    """A body sent as plain ``application/json`` that could not be read: AWS answers it in the
    envelope of Coral's own JSON protocol rather than as JSON 1.1."""

    code = "SerializationException"


CORAL_SERIALIZATION_ENVELOPE = (
    b'{"Output":{"__type":"com.amazon.coral.service#SerializationException"},"Version":"1.0"}'
)


class JsonProtocol(Protocol):
    name = "json"
    content_type = "application/x-amz-json-1.1"
    content_types = JSON_CONTENT_TYPES

    def __init__(self, spec: ServiceSpec) -> None:
        super().__init__(spec)
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        self._encoders: dict[str, Callable[[Any], Any] | None] = {}

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

    def empty_body_error(self, request: Request) -> ServiceError:
        """What AWS answers a request with no body at all: it is never run as ``{}``."""
        self.operation_name(request)  # an unknown content type or target is answered as such
        return SerializationException("")

    def decode(self, request: Request, operation: Operation) -> dict[str, Any]:
        try:
            document = self._load(request.body)
        except SerializationException:
            if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json":
                raise CoralSerializationException("") from None
            raise
        shape = operation.input
        if shape is None:
            return {}
        if not isinstance(document, dict):
            raise SerializationException(type_mismatch(document, shape))
        return self._decoder(shape)(document)

    # Each shape is turned once into a function that decodes (or encodes) its values, so a request
    # pays for what its values need and not for walking the model again.

    def _decoder(self, shape: Shape) -> Callable[[Any], Any]:
        found = self._decoders.get(shape.name)
        if found is None:
            self._decoders[shape.name] = lambda raw: self._decoders[shape.name](raw)  # for recursive shapes
            found = self._decoders[shape.name] = self._build_decoder(shape)
        return found

    def _build_decoder(self, shape: Shape) -> Callable[[Any], Any]:
        kind = shape.type

        def mismatch(raw: Any) -> SerializationException:
            return SerializationException(type_mismatch(raw, shape))

        if kind == "structure":
            if shape.is_document:
                return _identity
            return _structure_decoder(
                [(name, m.wire_name, self._decoder(m.shape)) for name, m in shape.members.items()], mismatch
            )
        if kind == "list":
            decode_member = self._decoder(shape.member.shape)

            def list_(raw: Any) -> list[Any]:
                if not isinstance(raw, list):
                    raise mismatch(raw)
                return [None if item is None else decode_member(item) for item in raw]

            return list_
        if kind == "map":
            decode_value = self._decoder(shape.value.shape)

            def map_(raw: Any) -> dict[str, Any]:
                if not isinstance(raw, dict) or not all(isinstance(key, str) for key in raw):
                    raise mismatch(raw)  # CBOR maps may have keys of any type; the model's are strings
                return {key: None if item is None else decode_value(item) for key, item in raw.items()}

            return map_
        if kind == "string":

            def string(raw: Any) -> str:
                if not isinstance(raw, str):
                    raise mismatch(raw)
                return raw

            return string
        if kind in ("integer", "long"):
            bits = _INT_BITS[kind]
            bound, span = 2 ** (bits - 1), 2**bits

            def integer(raw: Any) -> int:
                if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                    raise mismatch(raw)
                value = int(raw)  # a decimal is truncated toward zero
                if -bound <= value < bound:
                    return value
                return (value + bound) % span - bound

            return integer
        if kind in ("float", "double"):

            def number(raw: Any) -> float:
                if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                    raise mismatch(raw)
                return float(raw)

            return number
        if kind == "boolean":

            def boolean(raw: Any) -> bool:
                if not isinstance(raw, bool):
                    raise mismatch(raw)
                return raw

            return boolean
        if kind == "blob":
            return lambda raw: self._decode_blob(shape, raw)
        if kind == "timestamp":
            return lambda raw: self._decode_timestamp(shape, raw)
        return _identity

    # The wire forms that JSON and CBOR write differently.

    def _load(self, body: bytes) -> Any:
        """The body's document; a body that is not JSON (an empty one included) is a
        ``SerializationException`` with no message, as AWS answers it."""
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise SerializationException("") from None

    @staticmethod
    def _dump(document: Any) -> bytes:
        return orjson.dumps(document)

    def _decode_blob(self, shape: Shape, raw: Any) -> bytes:
        if not isinstance(raw, str):
            raise SerializationException(type_mismatch(raw, shape))
        try:
            data = b64decode(raw)
        except ValueError:
            data = None
        # A last quantum whose unused bits are not zero decodes, but AWS refuses it; re-encoding the
        # last four characters tells, whatever the blob's size.
        if data is None or (raw[-1:] == "=" and _encode(b64decode(raw[-4:])) != raw[-4:]):
            raise SerializationException(f"'{raw}' can not be converted to a Blob: {base64_problem(raw)}")
        return data

    def _decode_timestamp(self, shape: Shape, raw: Any) -> Any:
        # Epoch seconds only: the models give these services no ISO 8601 member, and AWS refuses text.
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise SerializationException(type_mismatch(raw, shape))
        try:
            return parse_timestamp(raw)
        except (ValueError, OverflowError, OSError):
            raise SerializationException(type_mismatch(raw, shape)) from None

    def _encode_blob(self, value: Any) -> Any:
        if not isinstance(value, bytes):
            value = str(value).encode("utf-8")
        return binascii.b2a_base64(value, newline=False).decode("ascii")

    def _encode_timestamp(self, value: Any) -> Any:
        if type(value) is float:
            return round(value, 3)
        return epoch_seconds(value)

    # -- responses -----------------------------------------------------------------------------

    def serialize(self, ctx: RequestContext, operation: Operation, result: dict[str, Any]) -> Response:
        shape = operation.output
        if shape is not None and shape.event_stream_member:
            return self._event_stream(ctx, shape, result)
        if shape is None:  # an operation with no output answers an empty body, not {}
            return self._response(ctx, 200, self.content_type, b"")
        return self._json_response(ctx, 200, self._out_structure(shape, result))

    def serialize_error(self, ctx: RequestContext, error: ServiceError) -> Response:
        code, status, _ = self.error_status(error)
        if isinstance(error, UnsupportedContentType):
            return self._response(ctx, 404, "application/xml", b"<UnknownOperationException/>\n")
        if isinstance(error, CoralSerializationException):
            return self._response(ctx, status, "application/json", CORAL_SERIALIZATION_ENVELOPE)
        document: dict[str, Any] = {"__type": code}
        if error.message:
            # Kinesis and EventBridge write a SerializationException's text under "Message".
            document["Message" if code == "SerializationException" else "message"] = error.message
        response = self._json_response(ctx, status, document)
        response.headers.append(("X-Amzn-ErrorType", code))
        return response

    def _json_response(self, ctx: RequestContext, status: int, document: Any) -> Response:
        return self._response(ctx, status, self.content_type, self._dump(document))

    @staticmethod
    def _response(ctx: RequestContext, status: int, content_type: str, body: bytes) -> Response:
        return Response(
            status,
            [
                ("Content-Type", content_type),
                ("x-amzn-RequestId", ctx.request_id),
                ("x-amz-id-2", amz_id_2()),
                ("Content-Length", str(len(body))),
            ],
            body,
        )

    def _out_structure(self, shape: Shape, value: dict[str, Any]) -> dict[str, Any]:
        return self._encoder(shape)(value)  # type: ignore[misc]  # a structure always has one

    def _encoder(self, shape: Shape) -> Callable[[Any], Any] | None:
        """The function that writes values of ``shape``; None when they go out as they are."""
        if shape.name in self._encoders:
            return self._encoders[shape.name]
        self._encoders[shape.name] = lambda value: self._encoders[shape.name](value)  # type: ignore[misc]
        found = self._encoders[shape.name] = self._build_encoder(shape)
        return found

    def _build_encoder(self, shape: Shape) -> Callable[[Any], Any] | None:
        kind = shape.type
        if kind == "structure":
            if shape.is_document:
                return None
            return _structure_encoder(
                [(name, m.wire_name, self._encoder(m.shape)) for name, m in shape.members.items()]
            )
        if kind == "list":
            encode_member = self._encoder(shape.member.shape)
            if encode_member is None:
                return None
            return lambda value: [encode_member(item) for item in value]
        if kind == "map":
            encode_value = self._encoder(shape.value.shape)
            if encode_value is None:
                return None
            return lambda value: {key: encode_value(item) for key, item in value.items()}
        if kind == "blob":
            return self._encode_blob
        if kind == "timestamp":
            return self._encode_timestamp
        return None

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


def _structure_encoder(plan: list[tuple[str, str, Callable[[Any], Any] | None]]) -> Callable[[Any], Any]:
    """A structure's encoder as straight-line code, one lookup per member (as dataclasses and
    namedtuple generate theirs): a record of GetRecords costs a third of a loop over its members."""
    lines = ["def encode(value):", "    get = value.get", "    document = {}"]
    namespace: dict[str, Any] = {}
    for index, (name, wire, encode) in enumerate(plan):
        lines += [f"    item = get({name!r})", "    if item is not None:"]
        if encode is None:
            lines.append(f"        document[{wire!r}] = item")
        else:
            namespace[f"encode_{index}"] = encode
            lines.append(f"        document[{wire!r}] = encode_{index}(item)")
    lines.append("    return document")
    exec("\n".join(lines), namespace)  # names and wire names are the model's, written as literals by repr()
    return namespace["encode"]


def _structure_decoder(
    plan: list[tuple[str, str, Callable[[Any], Any]]], mismatch: Callable[[Any], Exception]
) -> Callable[[Any], Any]:
    """A structure's decoder as straight-line code, like ``_structure_encoder``."""
    lines = ["def decode(raw):", "    if not isinstance(raw, dict):", "        raise mismatch(raw)",
             "    get = raw.get", "    params = {}"]
    namespace: dict[str, Any] = {"mismatch": mismatch}
    for index, (name, wire, decode) in enumerate(plan):
        namespace[f"decode_{index}"] = decode
        lines += [
            f"    item = get({wire!r})",
            "    if item is not None:",
            f"        params[{name!r}] = decode_{index}(item)",
        ]
    lines.append("    return params")
    exec("\n".join(lines), namespace)  # names and wire names are the model's, written as literals by repr()
    return namespace["decode"]


def _encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _identity(value: Any) -> Any:
    return value


def type_mismatch(raw: Any, shape: Shape) -> str:
    """Jackson-style wording for a value of the wrong JSON type, as AWS's JSON services answer it."""
    if isinstance(raw, dict):
        return "Start of structure or map found where not expected."
    if isinstance(raw, list):
        return "Start of list found where not expected"
    if shape.type == "list":
        return "Expected list or null"
    if shape.type in ("structure", "map"):
        return "Expected map or null"
    if raw is True or raw is False:
        token = "TRUE_VALUE" if raw else "FALSE_VALUE"
    else:
        token = _JSON_TOKEN.get(type(raw), "VALUE_EMBEDDED_OBJECT")
    return f"{token} can not be converted to {_TARGETS.get(shape.type, shape.type)}"


_BASE64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def base64_problem(text: str) -> str:
    """Why ``text`` is not strict base64, in the words of AWS's blob decoder."""
    if len(text) % 4:
        return f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(text)}"
    body = text.rstrip("=")
    for char in body:
        if ord(char) > 127 or ord(char) not in _BASE64:
            return f"Invalid Base64 character: '{char}'"
    if len(text) - len(body) > 2:
        return "Invalid Base64 character: '='"
    # The padding's bits were not all zero: AWS words it with its own spelling mistake.
    return "Invalid last non-pad Base64 character dectected"
