"""Amazon EventBridge."""

from __future__ import annotations

from typing import Any

from emulator import patterns
from emulator.context import RequestContext
from emulator.errors import error_class
from emulator.services.base import Provider
from emulator.services.events.models import EventBus, EventsStore
from emulator.services.pagination import InvalidToken, paginate
from emulator.store import Stores

ValidationException = error_class("ValidationException")
InvalidEventPatternException = error_class("InvalidEventPatternException")

DEFAULT_PAGE = 100


class EventsProvider(Provider):
    service = "events"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stores: Stores[EventsStore] = Stores(EventsStore)

    def reset(self) -> None:
        self.stores.reset()

    def list_event_buses(
        self, ctx: RequestContext, *, name_prefix: str | None = None, next_token: str | None = None,
        limit: int | None = None, **_: Any,
    ) -> dict[str, Any]:
        store = self.stores.get(ctx.account, ctx.region)
        with store.lock:
            buses = sorted(
                (bus for bus in store.buses.values() if not name_prefix or bus.name.startswith(name_prefix)),
                key=lambda bus: bus.name,
            )
        try:
            page, token = paginate(buses, lambda bus: bus.name, next_token, limit or DEFAULT_PAGE, "event-buses")
        except InvalidToken:
            raise ValidationException("The NextToken provided is invalid.") from None
        result: dict[str, Any] = {"EventBuses": [_bus(bus) for bus in page]}
        if token:
            result["NextToken"] = token
        return result

    def test_event_pattern(self, ctx: RequestContext, *, event_pattern: str, event: str, **_: Any) -> dict[str, Any]:
        """Whether ``event`` matches ``event_pattern``; stateless, with AWS's error for a bad pattern or event."""
        try:
            return {"Result": patterns.test_event_pattern(event_pattern, event)}
        except patterns.InvalidEventPatternError as error:
            raise InvalidEventPatternException(error.message) from None
        except patterns.InvalidTestEventError as error:
            raise ValidationException(error.message) from None


def _bus(bus: EventBus) -> dict[str, Any]:
    entry: dict[str, Any] = {"Name": bus.name, "Arn": bus.arn}
    if bus.description:
        entry["Description"] = bus.description
    if bus.policy:
        entry["Policy"] = bus.policy
    entry["CreationTime"] = bus.created
    entry["LastModifiedTime"] = bus.modified
    return entry
