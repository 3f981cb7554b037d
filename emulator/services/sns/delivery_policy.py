"""HTTP/S delivery policies: validation, the effective policy, and its retry schedule. (being written)"""

from __future__ import annotations

from typing import Any

from emulator.delivery import RetryPolicy
from emulator.services.sns.models import Subscription, Topic


def validate(text: str, level: str) -> dict[str, Any]:
    """A topic's (``level="topic"``) or subscription's (``"subscription"``) DeliveryPolicy, checked as AWS
    checks it; ``InvalidParameter`` with AWS's message else."""
    raise NotImplementedError


def effective(topic: Topic, subscription: Subscription | None = None) -> dict[str, Any]:
    """The EffectiveDeliveryPolicy document: AWS's defaults, the topic's policy, then the subscription's."""
    raise NotImplementedError


def retry_policy(effective_policy: dict[str, Any]) -> RetryPolicy:
    """The delivery layer's retry schedule for an effective policy's ``healthyRetryPolicy`` phases."""
    raise NotImplementedError


def content_type(effective_policy: dict[str, Any]) -> str:
    """The Content-Type an HTTP/S delivery carries: ``requestPolicy.headerContentType`` or AWS's default."""
    raise NotImplementedError
