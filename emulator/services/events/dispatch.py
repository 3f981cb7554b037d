"""From a matched event to deliveries: one per target of each matching rule, through
``emulator.delivery``, with EventBridge's retry policy and dead letters. (being written)"""

from __future__ import annotations

from typing import Any

from emulator.context import RequestContext
from emulator.services.events.models import EventBus, EventsStore, Rule


def deliver(provider: Any, ctx: RequestContext, store: EventsStore, bus: EventBus, rules: list[Rule],
            event: dict[str, Any]) -> None:
    """Hands ``event`` to every target of ``rules`` (the ENABLED rules of ``bus`` that matched).

    Called under ``store.lock`` on the request thread: only builds deliveries and submits them (no I/O;
    inputs are rendered on the workers)."""
    raise NotImplementedError
