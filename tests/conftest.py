"""Shared fixtures: boto3 clients against the one in-process server of the test session.

``emulator_url`` (session) and ``emulator_reset`` (function) come from the project's pytest plugin,
``emulator.testing``, registered through the ``pytest11`` entry point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig

DEFAULT_ACCOUNT = "000000000000"


@pytest.fixture
def aws_client(emulator_url: str, emulator_reset: None) -> Callable[..., Any]:
    """A factory of boto3 clients for the in-process server, on a clean state.

    ``aws_client("kinesis")``; ``account=`` picks the account through a 12-digit access key id,
    ``region=`` the region, ``validate=False`` turns off boto3's own parameter validation so that
    requests reach the server's validation.
    """

    def make(
        service: str,
        *,
        region: str = "us-east-1",
        account: str | None = None,
        validate: bool = True,
        **config: Any,
    ) -> Any:
        return boto3.client(
            service,
            endpoint_url=emulator_url,
            region_name=region,
            aws_access_key_id=account or "test",
            aws_secret_access_key="test",
            config=BotoConfig(
                parameter_validation=validate,
                retries={"max_attempts": 1, "mode": "standard"},
                **config,
            ),
        )

    return make
