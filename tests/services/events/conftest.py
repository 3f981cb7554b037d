"""Fixtures for the EventBridge tests: clients and the provider behind the server.

Other engineers' fixtures go at the end of this file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
REGION = "us-east-1"


def bus_arn(name: str = "default", account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{name}"


def rule_arn(name: str, bus: str = "default", account: str = ACCOUNT, region: str = REGION) -> str:
    path = name if bus == "default" else f"{bus}/{name}"
    return f"arn:aws:events:{region}:{account}:rule/{path}"


def error_of(call: Callable[..., Any], **params: Any) -> tuple[str, int, str]:
    """(code, HTTP status, message) of the error a client call answers; fails if it succeeds."""
    try:
        call(**params)
    except ClientError as error:
        response = error.response
        return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]
    raise AssertionError(f"{call.__name__} succeeded")


@pytest.fixture
def events(aws_client: Callable[..., Any]) -> Any:
    return aws_client("events")


@pytest.fixture
def raw_events(aws_client: Callable[..., Any]) -> Any:
    """A client without boto3's own parameter validation, to reach the server's."""
    return aws_client("events", validate=False)


@pytest.fixture
def provider(emulator_url: str, emulator_reset: None) -> Any:
    """The live EventsProvider behind the in-process server."""
    app = getattr(emulator_url, "app", None)
    if app is None:
        pytest.skip("needs the in-process server")
    return app.registry.get("events")

