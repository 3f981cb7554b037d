"""What every EventBridge operation shares: its errors, ARNs, and finding the bus or rule a request
names (by name or ARN)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from emulator.context import RequestContext
from emulator.errors import error_class
from emulator.services.events.models import EventBus, EventsStore, Rule
from emulator.services.pagination import InvalidToken, paginate
from emulator.store import Stores

T = TypeVar("T")

# The model's error shapes (JSON 1.1: the code is the shape's name, HTTP 400 unless said otherwise).
AccessDeniedException = error_class("AccessDeniedException")
ConcurrentModificationException = error_class("ConcurrentModificationException")
IllegalStatusException = error_class("IllegalStatusException")
InternalException = error_class("InternalException", 500, sender_fault=False)
InvalidEventPatternException = error_class("InvalidEventPatternException")
InvalidStateException = error_class("InvalidStateException")
LimitExceededException = error_class("LimitExceededException")
ManagedRuleException = error_class("ManagedRuleException")
OperationDisabledException = error_class("OperationDisabledException")
PolicyLengthExceededException = error_class("PolicyLengthExceededException")
ResourceAlreadyExistsException = error_class("ResourceAlreadyExistsException")
ResourceNotFoundException = error_class("ResourceNotFoundException")
ThrottlingException = error_class("ThrottlingException")
ValidationException = error_class("ValidationException")

# arn:partition:events:region:account:event-bus/name
_BUS_ARN = re.compile(r"^arn:(aws[a-z-]*):events:([a-z0-9-]+):([0-9]{12}):event-bus/(.+)$")


DEFAULT_PAGE = 100  # the listings' page when the request gives no Limit
INVALID_TOKEN = "The NextToken provided is invalid."


def page_of(items: Sequence[T], key: Callable[[T], str], next_token: str | None, limit: int | None,
            kind: str) -> tuple[list[T], str | None]:
    """One page of a listing sorted by ``key`` and the next page's token (tied to ``kind``: put a
    listing's filters in it); a token this listing did not issue is AWS's ValidationException."""
    try:
        return paginate(items, key, next_token, limit or DEFAULT_PAGE, kind)
    except InvalidToken:
        raise ValidationException(INVALID_TOKEN) from None


def parse_bus_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, bus name) of an event bus ARN, else None."""
    match = _BUS_ARN.match(arn or "")
    return (match.group(2), match.group(3), match.group(4)) if match else None


def bus_not_found(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Event bus {name} does not exist.")


def rule_not_found(name: str, bus_name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Rule {name} does not exist on EventBus {bus_name}.")


class EventsBase:
    """Store, bus and rule lookup, mixed into the provider."""

    config: Any
    _stores: Stores[EventsStore]

    def _store(self, ctx: RequestContext) -> EventsStore:
        return self._stores.get(ctx.account, ctx.region)

    def _bus_name(self, ctx: RequestContext, name_or_arn: str | None) -> str:
        """The bus a request names by name or ARN (None: the default bus); an ARN of another account
        or region is not found here."""
        if not name_or_arn:
            return "default"
        if name_or_arn.startswith("arn:"):
            parsed = parse_bus_arn(name_or_arn)
            if parsed is None or parsed[0] != ctx.region or parsed[1] != ctx.account:
                raise bus_not_found(parsed[2] if parsed else name_or_arn)
            return parsed[2]
        return name_or_arn

    def _bus(self, ctx: RequestContext, store: EventsStore, name_or_arn: str | None) -> EventBus:
        """The bus (call under ``store.lock``); ``ResourceNotFoundException`` else."""
        name = self._bus_name(ctx, name_or_arn)
        bus = store.buses.get(name)
        if bus is None:
            raise bus_not_found(name)
        return bus

    def _rule(self, ctx: RequestContext, store: EventsStore, name: str, bus_name_or_arn: str | None) -> Rule:
        """The rule on its bus (call under ``store.lock``); ``ResourceNotFoundException`` else."""
        bus = self._bus(ctx, store, bus_name_or_arn)
        rule = bus.rules.get(name)
        if rule is None:
            raise rule_not_found(name, bus.name)
        return rule
