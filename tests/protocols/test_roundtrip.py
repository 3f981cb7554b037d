"""Every operation of the three models, both directions, against botocore's own code.

Requests: botocore's client serializer writes generated inputs, our protocol reads them back, and
the result must equal the input. Responses: our protocol writes generated outputs, botocore's
response parser reads them, and the result must equal the output. Errors: every error shape of each
model, written by us, is read by botocore as the right code.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import botocore.session
import pytest
from botocore import parsers, serialize
from botocore.model import OperationModel, ServiceModel

from emulator import specs
from emulator.context import RequestContext
from emulator.errors import ServiceError
from emulator.protocols import for_spec
from emulator.protocols.base import Request, Response

from .generate import Generator

SERVICES = ("events", "sns", "kinesis")
_session = botocore.session.get_session()
_models = {name: _session.get_service_model(name) for name in SERVICES}


def _operations() -> list[tuple[str, str]]:
    return [(service, op) for service in SERVICES for op in _models[service].operation_names]


def _errors() -> list[tuple[str, str]]:
    return [(service, shape.name) for service in SERVICES for shape in _models[service].error_shapes]


def _normalize(value: Any) -> Any:
    """Empty containers and absent members are the same on the wire."""
    if isinstance(value, dict):
        cleaned = {key: _normalize(item) for key, item in value.items() if key != "ResponseMetadata"}
        return {key: item for key, item in cleaned.items() if item not in (None, {}, [])}
    if isinstance(value, list):
        return [_normalize(item) for item in value]
    return value


def _request(service: str, op: OperationModel, params: dict[str, Any]) -> Request:
    serializer = serialize.create_serializer(_models[service].protocol, include_validation=False)
    wire = serializer.serialize_to_request(params, op)
    body = wire["body"]
    if isinstance(body, dict):
        body = urlencode(body).encode("utf-8")
    headers = {key.lower(): value for key, value in wire["headers"].items()}
    return Request(method=wire["method"], headers=headers, query_string="", body=body)


def _wire(response: Response) -> dict[str, Any]:
    """Our response as botocore's parsers take it (header names in lower case, as its HTTP layer gives them)."""
    return {
        "status_code": response.status,
        "headers": {name.lower(): value for name, value in response.headers},
        "body": response.body,
    }


@pytest.mark.parametrize(("service", "operation"), _operations())
def test_request_round_trip(service: str, operation: str) -> None:
    model: ServiceModel = _models[service]
    op = model.operation_model(operation)
    if op.input_shape is None:
        pytest.skip("no input")
    params = Generator(f"in:{service}:{operation}", timestamp_ms=False).value(op.input_shape)
    request = _request(service, op, params)
    protocol = for_spec(specs.load(service))
    assert protocol.operation_name(request) == operation
    decoded = protocol.decode(request, specs.load(service).operation(operation))
    assert _normalize(decoded) == _normalize(params)


@pytest.mark.parametrize(("service", "operation"), _operations())
def test_response_round_trip(service: str, operation: str) -> None:
    model: ServiceModel = _models[service]
    op = model.operation_model(operation)
    if op.output_shape is None:
        pytest.skip("no output")
    if any(m.serialization.get("eventstream") for m in op.output_shape.members.values()):
        pytest.skip("event streams are tested with the Kinesis service")
    result = Generator(f"out:{service}:{operation}", timestamp_ms=True).value(op.output_shape)
    protocol = for_spec(specs.load(service))
    ctx = RequestContext(service=service, account="000000000000", region="us-east-1")
    response = protocol.serialize(ctx, specs.load(service).operation(operation), result)
    assert response.status == 200
    parsed = parsers.create_parser(model.protocol).parse(_wire(response), op.output_shape)
    assert parsed["ResponseMetadata"]["RequestId"] == ctx.request_id
    assert _normalize(parsed) == _normalize(result)


@pytest.mark.parametrize(("service", "error"), _errors())
def test_every_error_shape_reaches_botocore_with_its_code(service: str, error: str) -> None:
    model = _models[service]
    shape = model.shape_for(error)
    expected_code = shape.metadata.get("error", {}).get("code", error)
    # A server fault ("fault": true in the model) is a 5xx; botocore keeps that trait only in the raw model.
    server_fault = shape._shape_model.get("fault", False)
    expected_status = shape.metadata.get("error", {}).get("httpStatusCode", 500 if server_fault else 400)
    protocol = for_spec(specs.load(service))
    ctx = RequestContext(service=service, account="000000000000", region="us-east-1")
    response = protocol.serialize_error(ctx, ServiceError("it <failed> & 'why'", code=error))
    assert response.status == expected_status
    parsed = parsers.create_parser(model.protocol).parse(_wire(response), None)
    assert parsed["Error"]["Code"] == expected_code
    assert parsed["Error"]["Message"] == "it <failed> & 'why'"
    # The client's exception factory maps the code to the model's exception class.
    client = _session.create_client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    assert client.exceptions.from_code(parsed["Error"]["Code"]).__name__ == error
