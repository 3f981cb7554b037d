"""Global endpoints: Create/Describe/List/Update/DeleteEndpoint, and the routing PutEvents follows when
it names an ``EndpointId``.

An endpoint pairs two buses of the same name and account in two Regions: the primary, which is the
endpoint's home Region (the one it is created in, and the one its ARN names), and the secondary named
by ``RoutingConfig.FailoverConfig.Secondary.Route``. AWS fails over to the secondary when the primary's
Route 53 health check turns unhealthy; the emulator runs no health checks, so the primary is always
healthy and PutEvents through an endpoint delivers to the primary Region's bus. With replication
ENABLED (the default, which needs a ``RoleArn``) each event also reaches the secondary Region's bus of
the same name, as AWS's managed replication rules send it.

States move on the emulator's clock: CREATING and UPDATING become ACTIVE, and a DELETING endpoint is
gone, ``TRANSITION_SECONDS`` after the request. Like Kinesis streams' transitions they complete
lazily, when the endpoint is next looked at, so no thread waits and a test that moves the clock sees
the next state at once. Only an ACTIVE or UPDATING endpoint routes events; an endpoint that is not
ACTIVE refuses Update and Delete with ``ConcurrentModificationException``.

Costs: each operation is a dict lookup under the store's lock, except ListEndpoints (one sort of at
most ``MAX_ENDPOINTS`` names) and PutEvents' lookup of an EndpointId, which scans the caller's stores
(one per Region it has used, each of at most ``MAX_ENDPOINTS`` endpoints).
"""

from __future__ import annotations

import dataclasses
import secrets
import string
from typing import TYPE_CHECKING, Any

from emulator import clock
from emulator.context import RequestContext, partition_for
from emulator.services.events.common import (
    ConcurrentModificationException,
    EventsBase,
    LimitExceededException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ValidationException,
    page_of,
    parse_bus_arn,
)
from emulator.services.events.models import Endpoint, EventBus, EventsStore

MAX_ENDPOINTS = 100  # per account and Region (AWS's default quota)
TRANSITION_SECONDS = 1.0  # how long an endpoint stays CREATING, UPDATING or DELETING
ROUTABLE = ("ACTIVE", "UPDATING")
_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID_LENGTH = 10


def _new_endpoint_id() -> str:
    """An id shaped as AWS's: a random label then ``.veo`` (``abcde12345.veo``)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH)) + ".veo"


def endpoint_url(endpoint_id: str, region: str) -> str:
    suffix = "amazonaws.com.cn" if partition_for(region) == "aws-cn" else "amazonaws.com"
    return f"https://{endpoint_id}.endpoint.events.{suffix}"


def not_found(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Endpoint {name} does not exist.")


def _busy(endpoint: Endpoint) -> ConcurrentModificationException:
    return ConcurrentModificationException(
        f"Endpoint {endpoint.name} is {endpoint.state}; it can be changed once it is ACTIVE."
    )


def _check_config(
    ctx: RequestContext,
    routing_config: dict[str, Any],
    event_buses: list[dict[str, str]],
    replication_config: dict[str, str],
    role_arn: str | None,
) -> None:
    """What the model cannot check: the two buses, their Regions and the replication role."""
    secondary = routing_config["FailoverConfig"]["Secondary"]["Route"]
    parsed = [parse_bus_arn(bus["EventBusArn"]) for bus in event_buses]
    if any(bus is None for bus in parsed):
        raise ValidationException("EventBusArn must be the ARN of an event bus.")
    buses = [bus for bus in parsed if bus is not None]
    if any(account != ctx.account for _, account, _ in buses):
        raise ValidationException("The event buses of an endpoint must belong to the account creating it.")
    if buses[0][2] != buses[1][2]:
        raise ValidationException("The event buses of an endpoint must have the same name in each Region.")
    if secondary == ctx.region:
        raise ValidationException("The secondary Region must differ from the endpoint's Region.")
    if sorted(region for region, _, _ in buses) != sorted((ctx.region, secondary)):
        raise ValidationException(
            f"One event bus must be in the endpoint's Region ({ctx.region}) and the other in the secondary "
            f"Region ({secondary})."
        )
    if replication_config.get("State", "ENABLED") == "ENABLED" and not role_arn:
        raise ValidationException("RoleArn is required when event replication is ENABLED.")


def _description(endpoint: Endpoint) -> dict[str, Any]:
    """The endpoint as DescribeEndpoint and ListEndpoints answer it."""
    result: dict[str, Any] = {"Name": endpoint.name}
    if endpoint.description:
        result["Description"] = endpoint.description
    result |= {
        "Arn": endpoint.arn,
        "RoutingConfig": endpoint.routing_config,
        "ReplicationConfig": endpoint.replication_config,
        "EventBuses": endpoint.event_buses,
    }
    if endpoint.role_arn:
        result["RoleArn"] = endpoint.role_arn
    region = endpoint.arn.split(":")[3]
    result |= {
        "EndpointId": endpoint.endpoint_id,
        "EndpointUrl": endpoint_url(endpoint.endpoint_id, region),
        "State": endpoint.state,
        "CreationTime": endpoint.created,
        "LastModifiedTime": endpoint.modified,
    }
    return result


def _settle(store: EventsStore, endpoint: Endpoint, now: float) -> bool:
    """Completes ``endpoint``'s transition if it is due (under ``store.lock``); False once it is gone."""
    if endpoint.state == "ACTIVE" or now < endpoint.ready_at:
        return True
    if endpoint.state == "DELETING":
        if store.endpoints.get(endpoint.name) is endpoint:
            del store.endpoints[endpoint.name]
        return False
    endpoint.state = "ACTIVE"
    return True


class EndpointsMixin(EventsBase):
    if TYPE_CHECKING:  # PutEventsMixin's, joined with this class in the provider
        def _match_and_deliver(self, ctx: RequestContext, store: EventsStore, bus: EventBus,
                               event: dict[str, Any], forwarded: bool, trace_header: str | None = None) -> None: ...

    def _endpoint(self, store: EventsStore, name: str, now: float) -> Endpoint:
        """The endpoint in any state (under ``store.lock``); ``ResourceNotFoundException`` else."""
        endpoint = store.endpoints.get(name)
        if endpoint is None or not _settle(store, endpoint, now):
            raise not_found(name)
        return endpoint

    def create_endpoint(
        self,
        ctx: RequestContext,
        *,
        name: str,
        routing_config: dict[str, Any],
        event_buses: list[dict[str, str]],
        description: str | None = None,
        replication_config: dict[str, str] | None = None,
        role_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        replication = replication_config or {"State": "ENABLED"}
        _check_config(ctx, routing_config, event_buses, replication, role_arn)
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            for existing in list(store.endpoints.values()):
                _settle(store, existing, now)
            if name in store.endpoints:
                raise ResourceAlreadyExistsException(f"Endpoint {name} already exists.")
            if len(store.endpoints) >= MAX_ENDPOINTS:
                raise LimitExceededException("The requested resource exceeds the maximum number allowed.")
            arn = f"arn:{partition_for(ctx.region)}:events:{ctx.region}:{ctx.account}:endpoint/{name}"
            endpoint = Endpoint(
                name, arn, _new_endpoint_id(), routing_config, list(event_buses), replication,
                role_arn=role_arn or None, description=description or None,
                ready_at=now + TRANSITION_SECONDS, created=now, modified=now,
            )
            store.endpoints[name] = endpoint
            return self._answer(endpoint)

    @staticmethod
    def _answer(endpoint: Endpoint) -> dict[str, Any]:
        """What Create and UpdateEndpoint answer: the settings and the state."""
        result: dict[str, Any] = {
            "Name": endpoint.name,
            "Arn": endpoint.arn,
            "RoutingConfig": endpoint.routing_config,
            "ReplicationConfig": endpoint.replication_config,
            "EventBuses": endpoint.event_buses,
        }
        if endpoint.role_arn:
            result["RoleArn"] = endpoint.role_arn
        result["State"] = endpoint.state
        return result

    def describe_endpoint(self, ctx: RequestContext, *, name: str, home_region: str | None = None,
                          **_: Any) -> dict[str, Any]:
        """``HomeRegion`` lets a client of any Region describe the endpoint of another."""
        store = self._stores.get(ctx.account, home_region or ctx.region)
        with store.lock:
            return _description(self._endpoint(store, name, clock.now()))

    def list_endpoints(
        self, ctx: RequestContext, *, name_prefix: str | None = None, home_region: str | None = None,
        next_token: str | None = None, max_results: int | None = None, **_: Any,
    ) -> dict[str, Any]:
        store = self._stores.get(ctx.account, home_region or ctx.region)
        now = clock.now()
        with store.lock:
            endpoints = sorted(
                (endpoint for endpoint in list(store.endpoints.values())
                 if _settle(store, endpoint, now) and endpoint.name.startswith(name_prefix or "")),
                key=lambda endpoint: endpoint.name,
            )
            page, token = page_of(endpoints, lambda endpoint: endpoint.name, next_token, max_results, "endpoints")
            result: dict[str, Any] = {"Endpoints": [_description(endpoint) for endpoint in page]}
        if token:
            result["NextToken"] = token
        return result

    def update_endpoint(
        self,
        ctx: RequestContext,
        *,
        name: str,
        description: str | None = None,
        routing_config: dict[str, Any] | None = None,
        replication_config: dict[str, str] | None = None,
        event_buses: list[dict[str, str]] | None = None,
        role_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Changes the members given and keeps the others; the endpoint is UPDATING for a while."""
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            endpoint = self._endpoint(store, name, now)
            if endpoint.state != "ACTIVE":
                raise _busy(endpoint)
            changed = dataclasses.replace(
                endpoint,
                description=endpoint.description if description is None else description or None,
                routing_config=routing_config or endpoint.routing_config,
                replication_config=replication_config or endpoint.replication_config,
                event_buses=list(event_buses) if event_buses else endpoint.event_buses,
                role_arn=role_arn or endpoint.role_arn,
            )
            _check_config(ctx, changed.routing_config, changed.event_buses, changed.replication_config,
                          changed.role_arn)
            endpoint.description = changed.description
            endpoint.routing_config = changed.routing_config
            endpoint.replication_config = changed.replication_config
            endpoint.event_buses = changed.event_buses
            endpoint.role_arn = changed.role_arn
            endpoint.state, endpoint.ready_at, endpoint.modified = "UPDATING", now + TRANSITION_SECONDS, now
            return self._answer(endpoint) | {
                "EndpointId": endpoint.endpoint_id,
                "EndpointUrl": endpoint_url(endpoint.endpoint_id, ctx.region),
            }

    def delete_endpoint(self, ctx: RequestContext, *, name: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            endpoint = self._endpoint(store, name, now)
            if endpoint.state != "ACTIVE":
                raise _busy(endpoint)
            endpoint.state, endpoint.ready_at, endpoint.modified = "DELETING", now + TRANSITION_SECONDS, now
        return {}

    # --- PutEvents through an endpoint ----------------------------------------------------------------

    def _through_endpoint(self, ctx: RequestContext, endpoint_id: str) -> tuple[RequestContext, str | None]:
        """The context PutEvents delivers in (the endpoint's primary Region) and the Region events are
        replicated to (None when replication is DISABLED)."""
        now = clock.now()
        for (account, _), store in self._stores.items():
            if account != ctx.account:
                continue
            with store.lock:
                for endpoint in list(store.endpoints.values()):
                    if endpoint.endpoint_id != endpoint_id or not _settle(store, endpoint, now):
                        continue
                    if endpoint.state not in ROUTABLE:
                        break
                    secondary = endpoint.routing_config["FailoverConfig"]["Secondary"]["Route"]
                    replica = secondary if endpoint.replication_config.get("State") == "ENABLED" else None
                    return dataclasses.replace(ctx, region=store.region), replica
        raise ResourceNotFoundException(f"Endpoint with id {endpoint_id} does not exist.")

    def _replicate(self, ctx: RequestContext, region: str, bus_name: str, event: dict[str, Any]) -> None:
        """An event put through an endpoint, matched again on the secondary Region's bus of that name."""
        replica = dataclasses.replace(ctx, region=region)
        store = self._stores.get(ctx.account, region)
        with store.lock:
            bus = store.buses.get(bus_name)
            if bus is not None:
                self._match_and_deliver(replica, store, bus, event, forwarded=False)
