"""From a published message to deliveries: matching subscriptions, the per-protocol payload, and the
hand-over to ``emulator.delivery``. (being written)"""

from __future__ import annotations

from typing import Any

from emulator.context import RequestContext
from emulator.services.sns.models import Subscription, Topic


def send_confirmation(provider: Any, ctx: RequestContext, topic: Topic, subscription: Subscription) -> None:
    """Sends (http/https) or records (every other protocol that confirms) the SubscriptionConfirmation."""
    raise NotImplementedError


def send_unsubscribe_confirmation(provider: Any, ctx: RequestContext, topic: Topic, subscription: Subscription) -> None:
    """Sends an http/https endpoint the UnsubscribeConfirmation after Unsubscribe."""
    raise NotImplementedError
