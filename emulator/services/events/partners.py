"""Partner event sources and PutPartnerEvents: a SaaS partner's account offers a source to a customer's
account, the customer makes it live by creating a partner event bus of the same name, and the
partner's PutPartnerEvents then reaches that bus's rules.

Both sides see one ``PartnerEventSource``: the partner's store keeps it in ``partner_sources``
(CreatePartnerEventSource, DescribePartnerEventSource, ListPartnerEventSources,
ListPartnerEventSourceAccounts, DeletePartnerEventSource, PutPartnerEvents), the customer's store of
the same Region in ``event_sources`` (DescribeEventSource, ListEventSources, Activate/
DeactivateEventSource, CreateEventBus with ``EventSourceName``). Its state is read from the customer's
side, as AWS defines it:

- ACTIVE: the customer has the matching bus and has not deactivated the source;
- PENDING: no matching bus yet, or the source is deactivated; a source PENDING for more than
  ``EXPIRY_SECONDS`` (two weeks) expires, and PENDING sources answer that moment as ``ExpirationTime``;
- DELETED: the partner deleted the source (or it expired) while the customer's bus remained; the
  source disappears with the bus.

Expiry is computed lazily from the emulator's clock when a source is read, like every other expiry
here. The two stores are locked one after the other, never together, so no two locks are ever held at
once. PutPartnerEvents checks its entries as PutEvents does (``putevents.check_entry``), builds the
event in the customer's account and matches it on the partner bus through PutEvents' own path; an
event for a source the customer has not made ACTIVE is acknowledged and goes nowhere, as PutEvents
treats a bus that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator import clock
from emulator.context import RequestContext, partition_for
from emulator.services.events.common import (
    EventsBase,
    InvalidStateException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ValidationException,
    page_of,
)
from emulator.services.events.models import EventBus, EventsStore, PartnerEventSource
from emulator.services.events.putevents import MAX_REQUEST_BYTES, TOO_LARGE, build_event, check_entry, entry_size

EXPIRY_SECONDS = 14 * 24 * 3600.0  # how long a source may stay PENDING
NOT_AUTHORIZED = ("NotAuthorizedForSourceException", "Not authorized for the source.")


def source_arn(region: str, name: str) -> str:
    """AWS's partner event source ARNs name no account: ``arn:aws:events:<region>::event-source/<name>``."""
    return f"arn:{partition_for(region)}:events:{region}::event-source/{name}"


def source_not_found(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Event source {name} does not exist.")


def _has_bus(customer: EventsStore, source: PartnerEventSource) -> bool:
    bus = customer.buses.get(source.name)
    return bus is not None and bus.event_source_name == source.name


def source_state(customer: EventsStore, source: PartnerEventSource, now: float) -> str | None:
    """ACTIVE, PENDING or DELETED as the customer sees the source (under ``customer.lock``); None once
    it is gone."""
    has_bus = _has_bus(customer, source)
    if source.deleted or now >= source.pending_since + EXPIRY_SECONDS and (not has_bus or source.deactivated):
        return "DELETED" if has_bus else None
    return "ACTIVE" if has_bus and not source.deactivated else "PENDING"


def _offered(customer: EventsStore, name: str, now: float) -> tuple[PartnerEventSource, str] | None:
    """The source offered to the customer and its state (under ``customer.lock``), forgetting one that
    is gone."""
    source = customer.event_sources.get(name)
    if source is None:
        return None
    state = source_state(customer, source, now)
    if state is None:
        del customer.event_sources[name]
        return None
    return source, state


def _timed(source: PartnerEventSource, state: str) -> dict[str, Any]:
    """CreationTime, ExpirationTime (PENDING only) and State, as both sides' listings show them."""
    result: dict[str, Any] = {"CreationTime": source.created}
    if state == "PENDING":
        result["ExpirationTime"] = source.pending_since + EXPIRY_SECONDS
    result["State"] = state
    return result


def _event_source(source: PartnerEventSource, state: str) -> dict[str, Any]:
    """The source as DescribeEventSource and ListEventSources answer it; CreatedBy is the partner's name."""
    return {"Arn": source.arn, "CreatedBy": source.name.split("/")[1], **_timed(source, state), "Name": source.name}


def _first(item: tuple[str, Any]) -> str:
    return item[0]


class PartnersMixin(EventsBase):
    if TYPE_CHECKING:  # PutEventsMixin's, joined with this class in the provider
        def _match_and_deliver(self, ctx: RequestContext, store: EventsStore, bus: EventBus,
                               event: dict[str, Any], forwarded: bool, trace_header: str | None = None) -> None: ...

    # --- the partner's side ---------------------------------------------------------------------------

    def _live(self, partner: EventsStore, source: PartnerEventSource, now: float) -> str | None:
        """The source's state, read in its customer's store; a source that is gone is forgotten by the
        partner too. Call without holding any store's lock."""
        customer = self._stores.get(source.account, partner.region)
        with customer.lock:
            state = source_state(customer, source, now)
            if state is None and customer.event_sources.get(source.name) is source:
                del customer.event_sources[source.name]
        if state is None or state == "DELETED":
            with partner.lock:
                if partner.partner_sources.get(source.name) is source:
                    del partner.partner_sources[source.name]
            return None
        return state

    def _partner_source(self, ctx: RequestContext, name: str, now: float) -> tuple[PartnerEventSource, str]:
        partner = self._store(ctx)
        with partner.lock:
            source = partner.partner_sources.get(name)
        state = self._live(partner, source, now) if source is not None else None
        if source is None or state is None:
            raise source_not_found(name)
        return source, state

    def create_partner_event_source(self, ctx: RequestContext, *, name: str, account: str,
                                    **_: Any) -> dict[str, Any]:
        now = clock.now()
        partner = self._store(ctx)
        with partner.lock:
            existing = partner.partner_sources.get(name)
        if existing is not None and self._live(partner, existing, now) is not None:
            raise ResourceAlreadyExistsException(f"Event source {name} already exists.")
        customer = self._stores.get(account, ctx.region)
        source = PartnerEventSource(name, source_arn(ctx.region, name), ctx.account, account,
                                    created=now, pending_since=now)
        with customer.lock:
            if _offered(customer, name, now) is not None:
                raise ResourceAlreadyExistsException(f"Event source {name} already exists.")
            customer.event_sources[name] = source
        with partner.lock:
            partner.partner_sources[name] = source
        return {"EventSourceArn": source.arn}

    def describe_partner_event_source(self, ctx: RequestContext, *, name: str, **_: Any) -> dict[str, Any]:
        source, _state = self._partner_source(ctx, name, clock.now())
        return {"Arn": source.arn, "Name": source.name}

    def list_partner_event_sources(self, ctx: RequestContext, *, name_prefix: str, next_token: str | None = None,
                                   limit: int | None = None, **_: Any) -> dict[str, Any]:
        now = clock.now()
        partner = self._store(ctx)
        with partner.lock:
            candidates = sorted(
                (source for source in partner.partner_sources.values() if source.name.startswith(name_prefix)),
                key=lambda source: source.name,
            )
        live = [(source.name, source) for source in candidates if self._live(partner, source, now) is not None]
        page, token = page_of(live, _first, next_token, limit, "partner-event-sources")
        result: dict[str, Any] = {"PartnerEventSources": [{"Arn": s.arn, "Name": s.name} for _, s in page]}
        if token:
            result["NextToken"] = token
        return result

    def list_partner_event_source_accounts(self, ctx: RequestContext, *, event_source_name: str,
                                           next_token: str | None = None, limit: int | None = None,
                                           **_: Any) -> dict[str, Any]:
        source, state = self._partner_source(ctx, event_source_name, clock.now())
        page, token = page_of([(source.account, source)], _first, next_token, limit, "partner-event-source-accounts")
        result: dict[str, Any] = {
            "PartnerEventSourceAccounts": [{"Account": s.account, **_timed(s, state)} for _, s in page]
        }
        if token:
            result["NextToken"] = token
        return result

    def delete_partner_event_source(self, ctx: RequestContext, *, name: str, account: str,
                                    **_: Any) -> dict[str, Any]:
        """Deleting a source that is not there succeeds, as the model has no error for it; the customer
        keeps seeing it as DELETED while its partner bus remains."""
        partner = self._store(ctx)
        with partner.lock:
            source = partner.partner_sources.get(name)
            if source is None or source.account != account:
                return {}
            del partner.partner_sources[name]
        customer = self._stores.get(account, ctx.region)
        with customer.lock:
            source.deleted = True
            if not _has_bus(customer, source) and customer.event_sources.get(name) is source:
                del customer.event_sources[name]
        return {}

    def put_partner_events(self, ctx: RequestContext, *, entries: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        if sum(entry_size(entry) for entry in entries) > MAX_REQUEST_BYTES:
            raise ValidationException(TOO_LARGE)
        now = clock.now()
        results = [self._put_partner_entry(ctx, entry, now) for entry in entries]
        return {"FailedEntryCount": sum(1 for result in results if "ErrorCode" in result), "Entries": results}

    def _put_partner_entry(self, ctx: RequestContext, entry: dict[str, Any], now: float) -> dict[str, str]:
        detail, failure = check_entry(entry, aws_sources=True)
        if failure is not None:
            return failure
        assert detail is not None
        partner = self._store(ctx)
        with partner.lock:
            source = partner.partner_sources.get(entry["Source"])
        if source is None or self._live(partner, source, now) is None:
            return {"ErrorCode": NOT_AUTHORIZED[0], "ErrorMessage": NOT_AUTHORIZED[1]}
        customer_ctx = RequestContext(service="events", account=source.account, region=ctx.region,
                                      operation="PutPartnerEvents", request_id=ctx.request_id)
        event = build_event(customer_ctx, entry, detail, now)
        customer = self._stores.get(source.account, ctx.region)
        with customer.lock:
            if source_state(customer, source, now) == "ACTIVE":
                bus = customer.buses[source.name]
                self._match_and_deliver(customer_ctx, customer, bus, event, forwarded=False)
        return {"EventId": event["id"]}

    # --- the customer's side --------------------------------------------------------------------------

    def _customer_source(self, customer: EventsStore, name: str, now: float) -> tuple[PartnerEventSource, str]:
        found = _offered(customer, name, now)
        if found is None:
            raise source_not_found(name)
        return found

    def describe_event_source(self, ctx: RequestContext, *, name: str, **_: Any) -> dict[str, Any]:
        customer = self._store(ctx)
        with customer.lock:
            return _event_source(*self._customer_source(customer, name, clock.now()))

    def list_event_sources(self, ctx: RequestContext, *, name_prefix: str | None = None,
                           next_token: str | None = None, limit: int | None = None, **_: Any) -> dict[str, Any]:
        now = clock.now()
        customer = self._store(ctx)
        with customer.lock:
            names = sorted(name for name in customer.event_sources if name.startswith(name_prefix or ""))
            live = [(name, found) for name in names if (found := _offered(customer, name, now)) is not None]
        page, token = page_of(live, _first, next_token, limit, "event-sources")
        result: dict[str, Any] = {"EventSources": [_event_source(*found) for _, found in page]}
        if token:
            result["NextToken"] = token
        return result

    def activate_event_source(self, ctx: RequestContext, *, name: str, **_: Any) -> dict[str, Any]:
        customer = self._store(ctx)
        with customer.lock:
            source, state = self._customer_source(customer, name, clock.now())
            if state == "DELETED":
                raise InvalidStateException(f"Event source {name} has been deleted.")
            if not source.deactivated:
                raise InvalidStateException(f"Event source {name} is not deactivated.")
            source.deactivated = False
        return {}

    def deactivate_event_source(self, ctx: RequestContext, *, name: str, **_: Any) -> dict[str, Any]:
        now = clock.now()
        customer = self._store(ctx)
        with customer.lock:
            source, state = self._customer_source(customer, name, now)
            if state == "DELETED":
                raise InvalidStateException(f"Event source {name} has been deleted.")
            if source.deactivated:
                raise InvalidStateException(f"Event source {name} is already deactivated.")
            source.deactivated, source.pending_since = True, now
        return {}

    # --- the hooks of CreateEventBus and DeleteEventBus (called under the customer's lock) ---------------

    def _claim_event_source(self, customer: EventsStore, name: str, event_source_name: str) -> None:
        """CreateEventBus with ``EventSourceName``: the source must be offered to this account, and the
        bus takes its name. The source is ACTIVE once the bus exists."""
        found = _offered(customer, event_source_name, clock.now())
        if found is None or found[1] == "DELETED":
            raise source_not_found(event_source_name)
        if name != event_source_name:
            raise ValidationException("Event bus name must match the event source name.")

    def _release_event_source(self, customer: EventsStore, bus: EventBus) -> None:
        """DeleteEventBus of a partner bus: the source is PENDING again (and no longer deactivated: a new
        bus starts ACTIVE), or gone once the partner has deleted it."""
        source = customer.event_sources.get(bus.event_source_name or "")
        if source is None:
            return
        if source.deleted:
            del customer.event_sources[source.name]
        else:
            source.deactivated, source.pending_since = False, clock.now()
