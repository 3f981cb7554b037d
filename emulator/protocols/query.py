"""The query protocol (SNS): form-encoded parameters in, XML out.

Requests carry ``Action`` and ``Version`` and the members flattened the way botocore's query
serializer writes them: structures ``A.B``, lists ``A.member.N`` (or ``A.N`` when flattened, using the
member's ``locationName``), maps ``A.entry.N.key`` / ``A.entry.N.value`` (or the key and value
``locationName``, such as SNS's ``MessageAttributes.entry.N.Name`` and ``.Value.DataType``), empty
lists as ``A=``. Responses are ``<OpResponse xmlns=...><OpResult>...</OpResult><ResponseMetadata>``
written by ``_unparse`` (a generic writer of the document shape xmltodict reads, escaping as its SAX
writer does, in a fifth of its time: xmltodict took a third of a Publish); errors are
``<ErrorResponse>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from xml.sax.saxutils import escape, quoteattr

from emulator.errors import ServiceError, error_class
from emulator.protocols.base import (
    Protocol,
    Request,
    Response,
    b64decode,
    b64encode,
    iso8601,
    parse_timestamp,
)
from emulator.specs import Operation, Shape

if TYPE_CHECKING:
    from emulator.context import RequestContext

MissingAction = error_class("MissingAction")
InvalidAction = error_class("InvalidAction")
ValidationError = error_class("ValidationError")
MalformedQueryString = error_class("MalformedQueryString")

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

_Tree = dict[str | None, Any]  # children by path segment; the key None holds the node's own value


class QueryProtocol(Protocol):
    name = "query"

    def _params(self, request: Request) -> dict[str, str]:
        if request.form is not None:
            return request.form
        try:
            pairs = []
            if request.query_string:
                pairs = parse_qsl(request.query_string, keep_blank_values=True, errors="strict")
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if request.body and (content_type == FORM_CONTENT_TYPE or not content_type):
                pairs += parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise MalformedQueryString("The request's parameters are not valid UTF-8 URL-encoded text") from None
        params = dict(pairs)
        request.form = params
        return params

    def operation_name(self, request: Request) -> str:
        params = self._params(request)
        action = params.get("Action")
        if not action:
            raise MissingAction("Missing Action")
        if self.spec.operation(action) is None:
            version = params.get("Version") or self.spec.api_version
            raise InvalidAction(f"Could not find operation {action} for version {version}")
        return action

    # -- requests ------------------------------------------------------------------------------

    def validation_error(self, message: str) -> ServiceError:
        return ValidationError(message)

    def decode(self, request: Request, operation: Operation) -> dict[str, Any]:
        shape = operation.input
        if shape is None:
            return {}
        tree: _Tree = {}
        for key, value in self._params(request).items():
            if key in ("Action", "Version"):
                continue
            node = tree
            for part in key.split("."):
                node = node.setdefault(part, {})
            node[None] = value
        return self._structure(shape, tree, "")

    def _structure(self, shape: Shape, node: _Tree, path: str) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, member in shape.members.items():
            member_shape = member.shape
            if member_shape.type == "list" and (member.flattened or member_shape.flattened):
                child = node.get(member_shape.member.location_name or member.wire_name)
            else:
                child = node.get(member.wire_name)
            if child is not None:
                value = self._value(member_shape, child, f"{path}.{name}" if path else name, member.flattened)
                if value is not None:
                    params[name] = value
        return params

    def _value(self, shape: Shape, node: _Tree, path: str, flattened: bool = False) -> Any:
        kind = shape.type
        if kind == "structure":
            return self._structure(shape, node, path)
        if kind == "list":
            if flattened or shape.flattened:
                items = node
            else:
                items = node.get(shape.member.location_name or "member")
                if items is None:
                    return [] if node.get(None) == "" else None
            return [self._value(shape.member.shape, items[index], path) for index in _indexes(items)]
        if kind == "map":
            entries = node if shape.flattened else node.get("entry")
            if entries is None:
                return {} if node.get(None) == "" else None
            key_name = shape.key.location_name or "key"
            value_name = shape.value.location_name or "value"
            result: dict[str, Any] = {}
            for index in _indexes(entries):
                entry = entries[index]
                key = entry.get(key_name, {}).get(None)
                if key is None:
                    continue
                value_node = entry.get(value_name)
                result[key] = None if value_node is None else self._value(shape.value.shape, value_node, path)
            return result
        text = node.get(None)
        if text is None:
            return None
        return self._scalar(shape, text, path)

    def _scalar(self, shape: Shape, text: str, path: str) -> Any:
        kind = shape.type
        try:
            if kind in ("integer", "long"):
                number = int(text)
                bound = 2**31 if kind == "integer" else 2**63  # Java's int and long, as AWS parses them
                if not -bound <= number < bound:
                    raise ValueError(text)
                return number
            if kind in ("float", "double"):
                return float(text)
            if kind == "boolean":
                lowered = text.lower()
                if lowered not in ("true", "false"):
                    raise ValueError(text)
                return lowered == "true"
            if kind == "blob":
                return b64decode(text)
            if kind == "timestamp":
                return parse_timestamp(text)
        except (ValueError, OverflowError, OSError):
            raise ValidationError(
                f"1 validation error detected: Value '{text}' at '{_lower_first(path)}' failed to satisfy "
                f"constraint: Member must be a valid {kind}"
            ) from None
        return text

    # -- responses -----------------------------------------------------------------------------

    def serialize(self, ctx: RequestContext, operation: Operation, result: dict[str, Any]) -> Response:
        # The envelope is the same for every operation and holds nothing that needs escaping (the
        # namespace is the model's, the request id ours), so it is written directly; ``_unparse``
        # writes and escapes the result's content.
        name = operation.name
        parts = [f'<{name}Response xmlns="{self.spec.xml_namespace}">']
        if operation.output is not None and operation.result_wrapper:
            wrapper = operation.result_wrapper
            content = self._out_structure(operation.output, result)
            if content:
                parts.append(f"<{wrapper}>{_unparse(content)}</{wrapper}>")
            else:
                parts.append(f"<{wrapper}></{wrapper}>")
        parts.append(
            f"<ResponseMetadata><RequestId>{ctx.request_id}</RequestId></ResponseMetadata></{name}Response>"
        )
        return self._response(ctx, 200, "".join(parts))

    def serialize_error(self, ctx: RequestContext, error: ServiceError) -> Response:
        code, status, sender = self.error_status(error)
        document = {
            "ErrorResponse": {
                "@xmlns": self.spec.xml_namespace,
                "Error": {"Type": "Sender" if sender else "Receiver", "Code": code, "Message": error.message},
                "RequestId": ctx.request_id,
            }
        }
        return self._xml(ctx, status, document)

    def _xml(self, ctx: RequestContext, status: int, document: dict[str, Any]) -> Response:
        return self._response(ctx, status, _unparse(document))

    def _response(self, ctx: RequestContext, status: int, text: str) -> Response:
        body = text.encode("utf-8")
        return Response(
            status,
            [
                ("Content-Type", "text/xml"),
                ("x-amzn-RequestId", ctx.request_id),
                ("Content-Length", str(len(body))),
            ],
            body,
        )

    def _out_structure(self, shape: Shape, value: dict[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None or item is None:
                continue
            member_shape = member.shape
            if member_shape.type == "list" and (member.flattened or member_shape.flattened):
                tag = member_shape.member.location_name or member.wire_name
                document[tag] = [self._out_value(member_shape.member.shape, element) for element in item]
            else:
                document[member.wire_name] = self._out_value(member_shape, item)
        return document

    def _out_value(self, shape: Shape, value: Any) -> Any:
        kind = shape.type
        if kind == "structure":
            return self._out_structure(shape, value) or None
        if kind == "list":
            if not value:
                return None
            tag = shape.member.location_name or "member"
            return {tag: [self._out_value(shape.member.shape, element) for element in value]}
        if kind == "map":
            if not value:
                return None
            key_name = shape.key.location_name or "key"
            value_name = shape.value.location_name or "value"
            return {
                "entry": [
                    {key_name: key, value_name: self._out_value(shape.value.shape, item)} for key, item in value.items()
                ]
            }
        if kind == "boolean":
            return "true" if value else "false"
        if kind == "blob":
            return b64encode(value if isinstance(value, bytes) else str(value).encode("utf-8"))
        if kind == "timestamp":
            return iso8601(value)
        return str(value)


def _unparse(document: dict[str, Any]) -> str:
    """XML text of ``document`` in xmltodict's shape: a dict's keys are child elements (``@name``
    attributes, ``#text`` text), a list repeats its element, None is an empty element, anything else
    is text. Tag names come from the model, so only text and attribute values need escaping."""
    parts: list[str] = []
    for tag, value in document.items():
        _element(parts, tag, value)
    return "".join(parts)


def _element(parts: list[str], tag: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _element(parts, tag, item)
    elif isinstance(value, dict):
        attributes = "".join(f" {key[1:]}={quoteattr(str(item))}" for key, item in value.items() if key[:1] == "@")
        parts.append(f"<{tag}{attributes}>")
        for key, item in value.items():
            if key == "#text":
                parts.append(_text(item))
            elif key[:1] != "@":
                _element(parts, key, item)
        parts.append(f"</{tag}>")
    else:
        parts.append(f"<{tag}>{'' if value is None else _text(value)}</{tag}>")


def _text(value: Any) -> str:
    # XML parsers turn a raw carriage return into a line feed; a character reference keeps it.
    return escape(str(value)).replace("\r", "&#13;")


def _indexes(node: _Tree) -> list[str]:
    """The numbered children of a list or map node, in numeric order."""
    return sorted((key for key in node if key is not None and key.isascii() and key.isdigit()), key=int)


def _lower_first(text: str) -> str:
    return ".".join(part[:1].lower() + part[1:] for part in text.split("."))
