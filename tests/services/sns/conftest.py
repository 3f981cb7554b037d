"""Fixtures for the SNS tests: clients, the provider behind the server, and local HTTP receivers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.receivers import Receiver, receiver

ACCOUNT = "000000000000"
REGION = "us-east-1"


def topic_arn(name: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


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
