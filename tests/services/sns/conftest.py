"""Fixtures for the SNS tests: clients, the provider behind the server, and local HTTP receivers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.receivers import Receiver, receiver

ACCOUNT = "000000000000"
REGION = "us-east-1"


def topic_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    """A refusal as (code, HTTP status, message): the three things a test of bad input checks."""
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def fails(call: Any, code: str, message: str, status: int = 400, **kwargs: Any) -> None:
    """Asserts that ``call(**kwargs)`` is refused with this code, message and HTTP status."""
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    assert error(excinfo) == (code, status, message)


@pytest.fixture
def sns(aws_client: Callable[..., Any]) -> Any:
    return aws_client("sns")


@pytest.fixture
def raw_sns(aws_client: Callable[..., Any]) -> Any:
    """A client without boto3's own parameter validation, to reach the server's."""
    return aws_client("sns", validate=False)


@pytest.fixture
def provider(emulator_url: str, emulator_reset: None) -> Any:
    app = getattr(emulator_url, "app", None)
    if app is None:
        pytest.skip("needs the in-process server")
    return app.registry.get("sns")


@pytest.fixture
def http_receiver() -> Iterator[Receiver]:
    """A local HTTP endpoint that answers 200 and records every request."""
    with receiver() as state:
        yield state


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    """Receivers with other answers: ``make_receiver(statuses=(500, 500, 200), delay=0)``."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield lambda **kwargs: stack.enter_context(receiver(**kwargs))
