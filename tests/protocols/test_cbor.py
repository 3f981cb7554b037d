"""Kinesis in CBOR (``application/x-amz-cbor-1.1``), as the AWS SDK for Java and the KCL send it.

Bodies are built here the way those SDKs write them (blobs as byte strings, timestamps as epoch
milliseconds), read by our CBOR protocol, and compared with the generated input; our CBOR answers
are decoded with cbor2 and compared with the output they were made from.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import botocore.session
import cbor2
import pytest

from emulator import specs
from emulator.context import RequestContext
from emulator.errors import ServiceError
from emulator.protocols import for_spec
from emulator.protocols.base import Request

from .generate import Generator
from .test_roundtrip import _normalize

MODEL = botocore.session.get_session().get_service_model("kinesis")
CBOR = "application/x-amz-cbor-1.1"


def _to_wire(shape: Any, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return {name: _to_wire(shape.members[name], item) for name, item in value.items()}
    if kind == "list":
        return [_to_wire(shape.member, item) for item in value]
    if kind == "map":
        return {key: _to_wire(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        return int(value.timestamp() * 1000)
    return value


def _from_wire(shape: Any, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return {name: _from_wire(shape.members[name], item) for name, item in value.items() if name in shape.members}
    if kind == "list":
        return [_from_wire(shape.member, item) for item in value]
    if kind == "map":
        return {key: _from_wire(shape.value, item) for key, item in value.items()}
    if kind == "timestamp":
        assert isinstance(value, int), "timestamps are integer epoch milliseconds"
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    if kind == "blob":
        assert isinstance(value, bytes), "blobs are byte strings"
    return value


def _protocol():
    return for_spec(specs.load("kinesis"), cbor=True)


@pytest.mark.parametrize("operation", MODEL.operation_names)
def test_cbor_requests_decode_to_the_input(operation: str) -> None:
    op = MODEL.operation_model(operation)
    params = Generator(f"cbor-in:{operation}", timestamp_ms=True).value(op.input_shape)
    body = cbor2.dumps(_to_wire(op.input_shape, params))
    request = Request("POST", {"content-type": CBOR, "x-amz-target": f"Kinesis_20131202.{operation}"}, "", body)
    protocol = _protocol()
    assert protocol.operation_name(request) == operation
    assert _normalize(protocol.decode(request, specs.load("kinesis").operation(operation))) == _normalize(params)


@pytest.mark.parametrize("operation", [
    name for name in MODEL.operation_names
    if MODEL.operation_model(name).output_shape is not None and name != "SubscribeToShard"
])
def test_cbor_responses_encode_the_output(operation: str) -> None:
    op = MODEL.operation_model(operation)
    result = Generator(f"cbor-out:{operation}", timestamp_ms=True).value(op.output_shape)
    ctx = RequestContext(service="kinesis", account="000000000000", region="us-east-1")
    response = _protocol().serialize(ctx, specs.load("kinesis").operation(operation), result)
    assert dict(response.headers)["Content-Type"] == CBOR
    assert _normalize(_from_wire(op.output_shape, cbor2.loads(response.body))) == _normalize(result)


def test_cbor_errors_are_cbor_maps_with_type_and_message() -> None:
    ctx = RequestContext(service="kinesis", account="000000000000", region="us-east-1")
    response = _protocol().serialize_error(ctx, ServiceError("gone", code="ResourceNotFoundException"))
    assert response.status == 400
    assert cbor2.loads(response.body) == {"__type": "ResourceNotFoundException", "message": "gone"}


def test_a_body_that_is_not_cbor_is_a_serialization_exception() -> None:
    request = Request("POST", {"content-type": CBOR, "x-amz-target": "Kinesis_20131202.ListStreams"}, "", b"\xff\x00")
    with pytest.raises(ServiceError) as caught:
        _protocol().parse(request, specs.load("kinesis").operation("ListStreams"))
    assert caught.value.code == "SerializationException"
