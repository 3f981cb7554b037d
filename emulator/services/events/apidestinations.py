"""EventBridge API destinations: an HTTP endpoint, its method, its invocation rate limit and the connection
that authorizes it, with Create/Describe/List/Update/DeleteApiDestination.

A rule target whose ARN is an API destination makes a real HTTP request (``invocation.py``); this
module keeps the resource and the one piece of delivery state that must be decided on the request
thread, the destination's rate limit: each delivery takes a place in its destination's windows
(``take_slot``: at most InvocationRateLimitPerSecond in any second of the emulator's clock) and
waits for it in the dispatcher (``Delivery.not_before``). A burst beyond the rate therefore builds a
backlog that drains at the rate, never a drop.

A destination is ACTIVE while its connection exists and is authorized (or authorizing), INACTIVE
once the connection was deauthorized or deleted; the state is computed when it is read.

Costs: a dict lookup under the store's lock per operation, one sort for the listings.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from emulator import clock
from emulator.delivery import RateWindow
from emulator.context import RequestContext, partition_for
from emulator.services.events.common import (
    EventsBase,
    LimitExceededException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ValidationException,
    page_of,
)
from emulator.services.events.connections import Connection, valid_endpoint
from emulator.services.events.models import EventsStore

MAX_RATE = 300  # invocations per second, also the default
_CONNECTION_ARN = re.compile(r"^arn:aws[a-z-]*:events:([a-z0-9-]*):([0-9]{12})?:connection/([.\-_A-Za-z0-9]+)/")


@dataclass
class ApiDestination:
    name: str
    arn: str
    connection_arn: str
    endpoint: str
    method: str
    rate: int = MAX_RATE
    description: str | None = None
    created: float = field(default_factory=clock.now)
    modified: float = field(default_factory=clock.now)
    window: RateWindow = field(default_factory=RateWindow)  # InvocationRateLimitPerSecond


def destination_connection(store: EventsStore, destination: ApiDestination) -> Connection | None:
    """The connection a destination names, if it still exists (the same one: its ARN has the id)."""
    match = _CONNECTION_ARN.match(destination.connection_arn)
    found = store.connections.get(match.group(3)) if match else None
    return found if found is not None and found.arn == destination.connection_arn else None


def destination_state(store: EventsStore, destination: ApiDestination) -> str:
    connection = destination_connection(store, destination)
    return "ACTIVE" if connection is not None and connection.state in ("AUTHORIZED", "AUTHORIZING") else "INACTIVE"


def take_slot(destination: ApiDestination) -> float | None:
    """The emulator's time the next invocation of ``destination`` may start (None: now), reserving it:
    at most InvocationRateLimitPerSecond in any second. Call under the store's lock (PutEvents'
    delivery does)."""
    return destination.window.take(clock.now(), destination.rate)


def _not_found(action: str, name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Failed to {action} the api-destination(s). An api-destination '{name}' "
                                     "does not exist.")


def _check(action: str, name: str, endpoint: str | None, rate: int | None) -> None:
    if endpoint is not None and not valid_endpoint(endpoint):
        raise ValidationException(f"Failed to {action} the api-destination(s). Parameter InvocationEndpoint is not "
                                  f"valid. Reason: Endpoint '{endpoint}' is invalid, please provide a valid HTTPS "
                                  "endpoint URL.")
    if rate is not None and rate > MAX_RATE:
        raise LimitExceededException(f"Failed to {action} the api-destination(s). Invalid Invocation Rate Limit: "
                                     f"Rate specified '{rate}' for '{name}' exceeds maximum allowed of '{MAX_RATE}'.")


def _summary(store: EventsStore, destination: ApiDestination) -> dict[str, Any]:
    return {"ApiDestinationArn": destination.arn, "Name": destination.name,
            "ApiDestinationState": destination_state(store, destination),
            "ConnectionArn": destination.connection_arn, "InvocationEndpoint": destination.endpoint,
            "HttpMethod": destination.method, "InvocationRateLimitPerSecond": destination.rate,
            "CreationTime": destination.created, "LastModifiedTime": destination.modified}


def _answer(store: EventsStore, destination: ApiDestination) -> dict[str, Any]:
    return {"ApiDestinationArn": destination.arn, "ApiDestinationState": destination_state(store, destination),
            "CreationTime": destination.created, "LastModifiedTime": destination.modified}


class ApiDestinationsMixin(EventsBase):
    """The API destination operations of the provider."""

    def _api_destination_connection(self, store: EventsStore, action: str, arn: str) -> None:
        match = _CONNECTION_ARN.match(arn)
        found = store.connections.get(match.group(3)) if match else None
        if found is None or found.arn != arn:
            raise ResourceNotFoundException(f"Failed to {action} the api-destination(s). Connection '{arn}' "
                                            "does not exist.")

    def _api_destination(self, store: EventsStore, action: str, name: str) -> ApiDestination:
        found = store.api_destinations.get(name)
        if found is None:
            raise _not_found(action, name)
        return found

    def create_api_destination(self, ctx: RequestContext, *, name: str, connection_arn: str, invocation_endpoint: str,
                               http_method: str, description: str | None = None,
                               invocation_rate_limit_per_second: int | None = None, **_: Any) -> dict[str, Any]:
        _check("create", name, invocation_endpoint, invocation_rate_limit_per_second)
        store = self._store(ctx)
        with store.lock:
            if name in store.api_destinations:
                raise ResourceAlreadyExistsException(f"Failed to create the api-destination(s). An api-destination "
                                                     f"with name '{name}' already exists.")
            self._api_destination_connection(store, "create", connection_arn)
            arn = (f"arn:{partition_for(store.region)}:events:{store.region}:{store.account}:"
                   f"api-destination/{name}/{uuid.uuid4()}")
            destination = ApiDestination(name, arn, connection_arn, invocation_endpoint, http_method,
                                         invocation_rate_limit_per_second or MAX_RATE, description)
            store.api_destinations[name] = destination
            return _answer(store, destination)

    def describe_api_destination(self, ctx: RequestContext, *, name: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            destination = self._api_destination(store, "describe", name)
            result = _summary(store, destination)
            if destination.description is not None:
                result["Description"] = destination.description
            return result

    def list_api_destinations(self, ctx: RequestContext, *, name_prefix: str | None = None,
                              connection_arn: str | None = None, next_token: str | None = None,
                              limit: int | None = None, **_: Any) -> dict[str, Any]:
        if name_prefix is not None and connection_arn is not None:
            raise ValidationException("Failed to list the api-destination(s). Request failed because only one "
                                      "filter is supported per request, either ConnectionArn or NamePrefix.")
        store = self._store(ctx)
        with store.lock:
            found = sorted(
                (d for d in store.api_destinations.values()
                 if d.name.startswith(name_prefix or "") and connection_arn in (None, d.connection_arn)),
                key=lambda d: d.name)
            page, token = page_of(found, lambda d: d.name, next_token, limit,
                                  f"api-destinations/{name_prefix or ''}/{connection_arn or ''}")
            result: dict[str, Any] = {"ApiDestinations": [_summary(store, d) for d in page]}
        if token:
            result["NextToken"] = token
        return result

    def update_api_destination(self, ctx: RequestContext, *, name: str, description: str | None = None,
                               connection_arn: str | None = None, invocation_endpoint: str | None = None,
                               http_method: str | None = None, invocation_rate_limit_per_second: int | None = None,
                               **_: Any) -> dict[str, Any]:
        _check("update", name, invocation_endpoint, invocation_rate_limit_per_second)
        store = self._store(ctx)
        with store.lock:
            destination = self._api_destination(store, "update", name)
            if connection_arn is not None:
                self._api_destination_connection(store, "update", connection_arn)
                destination.connection_arn = connection_arn
            if description is not None:
                destination.description = description
            if invocation_endpoint is not None:
                destination.endpoint = invocation_endpoint
            if http_method is not None:
                destination.method = http_method
            if invocation_rate_limit_per_second is not None:
                destination.rate = invocation_rate_limit_per_second
            destination.modified = clock.now()
            return _answer(store, destination)

    def delete_api_destination(self, ctx: RequestContext, *, name: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            if store.api_destinations.pop(name, None) is None:
                raise _not_found("delete", name)
        return {}
