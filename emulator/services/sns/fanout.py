"""From a published message to deliveries: matching subscriptions, the per-protocol payload, and the
hand-over to ``emulator.delivery``. (being written)"""

from __future__ import annotations

from typing import Any

from emulator.context import RequestContext
from emulator.services.sns.models import Message, SnsStore, Subscription, Topic


def publish(provider: Any, ctx: RequestContext, store: SnsStore, topic: Topic, message: Message) -> None:
    """Hands ``message`` to every confirmed subscription of ``topic`` whose filter policy matches.

    Called under ``store.lock`` (so FIFO messages reach the delivery layer in sequence order); only
    builds deliveries and submits them, no I/O and no signing (bodies are built on the workers).
    """
    raise NotImplementedError


def replay(provider: Any, ctx: RequestContext, topic: Topic, subscription: Subscription,
           messages: list[Message]) -> None:
    """Delivers archived ``messages`` (a ReplayPolicy's window, oldest first) to one subscription again."""
    raise NotImplementedError


def publish_direct(provider: Any, ctx: RequestContext, kind: str, target: str, message: Message,
                   payload: Any) -> None:
    """Records a direct publish (``kind`` "application" to a platform endpoint ARN, "sms" to a phone
    number) exactly as it would be sent: ``payload`` is the platform's message or the SMS text."""
    raise NotImplementedError


def send_confirmation(provider: Any, ctx: RequestContext, topic: Topic, subscription: Subscription) -> None:
    """Sends (http/https) or records (every other protocol that confirms) the SubscriptionConfirmation."""
    raise NotImplementedError


def send_unsubscribe_confirmation(provider: Any, ctx: RequestContext, topic: Topic, subscription: Subscription) -> None:
    """Sends an http/https endpoint the UnsubscribeConfirmation after Unsubscribe."""
    raise NotImplementedError
