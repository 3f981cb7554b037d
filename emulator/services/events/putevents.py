"""PutEvents, and the receiving end of a bus-to-bus delivery (``deliver_event``).

Each entry is checked as AWS checks it, and a bad entry fails alone: its result carries ``ErrorCode``
and ``ErrorMessage`` and ``FailedEntryCount`` counts it, while the others are accepted. Only a
request over the size limit fails as a whole. The size is computed as AWS documents it ("Calculating
PutEvents event entry size"): 14 bytes for a ``Time``, plus the UTF-8 bytes of ``Source``,
``DetailType``, ``Detail`` and each of ``Resources``.

An accepted entry becomes the event AWS builds (``version``, ``id``, ``detail-type``, ``source``,
``account``, ``time``, ``region``, ``resources``, ``detail``), is matched against its bus's compiled
ruleset and handed to ``dispatch.deliver`` for the targets of the ENABLED rules that matched.

Cost per entry, under the store's lock: one JSON parse of the detail, one walk of the bus's ruleset
(about the event's fields times the steps taken, whatever the number of rules) and one ``Delivery``
per target of a matching rule; rendering and sending happen on the delivery workers.

Buses: ``EventBusName`` is a name (this account and Region) or an ARN. An ARN may name another
account's bus, which accepts the event only where its resource policy allows the caller's account
(``AccessDeniedException`` for that entry otherwise). An entry for a bus that does not exist is
acknowledged with an event id and goes nowhere, as AWS answers it (recorded in aws/aws-sdk#186 and
aws/aws-cli#9186). With an ``EndpointId`` (a global endpoint) the entries go to the endpoint's primary
Region, and to its secondary Region too when it replicates (``endpoints.py``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from emulator import clock, patterns
from emulator.context import RequestContext
from emulator.services.events import archives, dispatch
from emulator.services.events.buses import bus_allows
from emulator.services.events.common import (
    AccessDeniedException,
    EventsBase,
    ValidationException,
    bus_not_found,
    parse_bus_arn,
)
from emulator.services.events.models import EventBus, EventsStore

MAX_REQUEST_BYTES = 256 * 1024  # the entries of one request, counted as AWS counts them
TIME_BYTES = 14  # what a given Time counts for
TOO_LARGE = "Total size of the entries in the request is over the limit."
MALFORMED_DETAIL = "Detail is malformed."
RESERVED_SOURCE_PREFIX = "aws."  # AWS services' namespace: PutEvents may not use it
REQUIRED = ("Source", "DetailType", "Detail")


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge computes it."""
    size = TIME_BYTES if entry.get("Time") is not None else 0
    for key in REQUIRED:
        if entry.get(key) is not None:
            size += len(entry[key].encode("utf-8"))
    for resource in entry.get("Resources") or ():
        if resource is not None:
            size += len(resource.encode("utf-8"))
    return size


def parse_detail(text: str) -> dict[str, Any] | None:
    """The detail as a JSON object; None when it is not one (invalid JSON, or not an object).
    Read as the engine reads documents: strict JSON, so ``NaN`` and ``Infinity`` are refused."""
    try:
        detail = patterns.parse_json_strict(text)
    except patterns.InvalidJsonError:
        return None
    return detail if isinstance(detail, dict) else None


def _failure(code: str, message: str) -> dict[str, str]:
    return {"ErrorCode": code, "ErrorMessage": message}


def check_entry(
    entry: dict[str, Any], aws_sources: bool = False
) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    """(the parsed detail, None) for an acceptable entry, else (None, its failed result entry).
    ``aws_sources``: the Source may be in AWS's namespace (PutPartnerEvents' ``aws.partner/`` sources)."""
    for key in REQUIRED:
        if not entry.get(key):
            return None, _failure("InvalidArgument",
                                  f"Parameter {key} is not valid. Reason: {key} is a required argument.")
    if not aws_sources and entry["Source"].startswith(RESERVED_SOURCE_PREFIX):
        return None, _failure("NotAuthorizedForSourceException", "Not authorized for the source.")
    detail = parse_detail(entry["Detail"])
    if detail is None:
        return None, _failure("MalformedDetail", MALFORMED_DETAIL)
    return detail, None


def build_event(ctx: RequestContext, entry: dict[str, Any], detail: dict[str, Any], now: float) -> dict[str, Any]:
    """The event as EventBridge builds it from an entry, its fields in AWS's order."""
    when = entry.get("Time")
    moment = when.timestamp() if isinstance(when, datetime) else now
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": ctx.account,
        "time": dispatch.event_time(moment),
        "region": ctx.region,
        "resources": list(entry.get("Resources") or ()),
        "detail": detail,
    }


def _denied(account: str, bus_arn: str) -> str:
    return (f"User: arn:aws:iam::{account}:root is not authorized to perform: events:PutEvents on resource: "
            f"{bus_arn} because no resource-based policy allows the events:PutEvents action")


class PutEventsMixin(EventsBase):
    registry: Any

    def put_events(self, ctx: RequestContext, *, entries: list[dict[str, Any]], endpoint_id: str | None = None,
                   **_: Any) -> dict[str, Any]:
        if sum(entry_size(entry) for entry in entries) > MAX_REQUEST_BYTES:
            raise ValidationException(TOO_LARGE)
        replica = None
        if endpoint_id is not None:  # a global endpoint: its primary Region, and its replica (endpoints.py)
            ctx, replica = self._through_endpoint(ctx, endpoint_id)
        now = clock.now()
        results = [self._put_entry(ctx, entry, now, replica) for entry in entries]
        return {"FailedEntryCount": sum(1 for result in results if "ErrorCode" in result), "Entries": results}

    def _put_entry(self, ctx: RequestContext, entry: dict[str, Any], now: float,
                   replica: str | None = None) -> dict[str, str]:
        detail, failure = check_entry(entry)
        if failure is not None:
            return failure
        assert detail is not None
        event = build_event(ctx, entry, detail, now)
        store, name = self._target_store(ctx, entry.get("EventBusName"))
        with store.lock:
            bus = store.buses.get(name)
            if bus is not None:
                if not bus_allows(bus, ctx.account):
                    return _failure("AccessDeniedException", _denied(ctx.account, bus.arn))
                self._match_and_deliver(ctx, store, bus, event, forwarded=False,
                                        trace_header=entry.get("TraceHeader"))
        if replica is not None:
            self._replicate(ctx, replica, name, event)
        return {"EventId": event["id"]}

    def _target_store(self, ctx: RequestContext, name_or_arn: str | None) -> tuple[EventsStore, str]:
        """The store and bus name an entry's EventBusName points at (an ARN may name another account
        or Region)."""
        if name_or_arn and name_or_arn.startswith("arn:"):
            parsed = parse_bus_arn(name_or_arn)
            if parsed is not None:
                region, account, name = parsed
                return self._stores.get(account, region), name
        return self._store(ctx), name_or_arn or "default"

    def _match_and_deliver(self, ctx: RequestContext, store: EventsStore, bus: EventBus, event: dict[str, Any],
                           forwarded: bool, trace_header: str | None = None) -> None:
        """Matches ``event`` on ``bus`` and hands it to the matching rules' targets (under ``store.lock``)."""
        if not len(bus.ruleset):
            return
        names = bus.ruleset.matching(event)
        if not names:
            return
        archives.keep(store, bus, names, event)  # the archives whose managed rules matched
        rules = [bus.rules[name] for name in sorted(names) if name in bus.rules]
        dispatch.deliver(self, ctx, store, bus, rules, event, forwarded=forwarded, trace_header=trace_header)

    def deliver_event(self, account: str, region: str, bus_arn: str, event: dict[str, Any],
                      sender_account: str) -> None:
        """An event forwarded by a rule of ``sender_account`` to the bus ``bus_arn``; called by
        ``emulator.delivery`` on a worker, in the receiving bus's account and Region.

        The event keeps its fields (id, time, the account and Region it was put in, resources). A bus
        of another account accepts it only where its policy allows the sender (``AccessDeniedException``
        else, not retried); a missing bus is ``ResourceNotFoundException``, retried by the rule's
        target policy. Its rules' bus targets do not forward it again.
        """
        parsed = parse_bus_arn(bus_arn)
        if parsed is not None:
            region, account, name = parsed
        else:
            name = bus_arn
        store = self._stores.get(account, region)
        ctx = RequestContext(service="events", account=account, region=region, operation="PutEvents")
        with store.lock:
            bus = store.buses.get(name)
            if bus is None:
                raise bus_not_found(name)
            if not bus_allows(bus, sender_account):
                raise AccessDeniedException(_denied(sender_account, bus.arn))
            self._match_and_deliver(ctx, store, bus, event, forwarded=True)

