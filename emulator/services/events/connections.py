"""EventBridge connections: how an API destination authorizes (API key, Basic, OAuth client credentials),
with Create/Describe/List/Update/Delete/DeauthorizeConnection.

A connection keeps its ``AuthParameters`` as given (secrets included: on AWS they live in the Secrets
Manager secret whose ARN DescribeConnection shows) and answers them without the secrets: no
``ApiKeyValue``, ``Password`` or ``ClientSecret``, and no ``Value`` of an HTTP parameter marked
``IsValueSecret``.

States, as AWS moves them:

- API key and Basic connections are AUTHORIZED as soon as they are created (or updated);
- an OAuth connection is AUTHORIZING until EventBridge has fetched a token from its authorization
  endpoint with the client credentials (``invocation.OAuthAuthorization``, a delivery on a worker, so
  the request answers at once), then AUTHORIZED, or DEAUTHORIZED with a ``StateReason`` when the
  endpoint refused or could not be reached;
- DeauthorizeConnection removes the authorization parameters and the secret: it answers DEAUTHORIZING
  and the connection is DEAUTHORIZED from then on, until UpdateConnection gives it new parameters;
- DeleteConnection answers DELETING and the connection is gone.

Endpoints must be HTTPS, as on AWS, with one deliberate exception: plain ``http://`` is accepted for
loopback hosts (127.0.0.0/8 and ``localhost``), so that local receivers can stand in for the
authorization and invocation endpoints in tests.

Costs: every operation is a dict lookup under the store's lock, except the listings (one sort of the
account's connections); a token fetch never runs on the request thread.
"""

from __future__ import annotations

import copy
import ipaddress
import secrets
import string
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from emulator import clock
from emulator.context import RequestContext, partition_for
from emulator.services.events.common import (
    EventsBase,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ValidationException,
    page_of,
)
from emulator.services.events.models import EventsStore

OAUTH = "OAUTH_CLIENT_CREDENTIALS"
# The AuthParameters member each AuthorizationType needs, and the members of it that are secret.
AUTH_MEMBERS = {"API_KEY": "ApiKeyAuthParameters", "BASIC": "BasicAuthParameters", OAUTH: "OAuthParameters"}
_REQUIRED = {"API_KEY": ("ApiKeyName", "ApiKeyValue"), "BASIC": ("Username", "Password"),
             OAUTH: ("AuthorizationEndpoint", "HttpMethod", "ClientParameters")}
_SECRETS = {"ApiKeyAuthParameters": ("ApiKeyValue",), "BasicAuthParameters": ("Password",)}
_HTTP_LISTS = ("HeaderParameters", "QueryStringParameters", "BodyParameters")
DEAUTHORIZED_REASON = ("The authorization parameters were removed from this connection by a "
                       "DeauthorizeConnection operation.")


@dataclass
class Connection:
    name: str
    arn: str
    authorization_type: str
    auth: dict[str, Any]  # AuthParameters as given and updated, secrets included
    description: str | None = None
    kms_key_identifier: str | None = None
    connectivity: dict[str, Any] | None = None  # InvocationConnectivityParameters' ResourceParameters
    state: str = "AUTHORIZED"
    state_reason: str | None = None
    secret_arn: str | None = None
    created: float = field(default_factory=clock.now)
    modified: float = field(default_factory=clock.now)
    last_authorized: float | None = None
    # OAuth: the cached access token, when it expires (emulator clock; None: never), and the
    # generation of the authorization parameters it was fetched with (a token fetched before an
    # update must not be kept after it).
    token: str | None = None
    token_expires: float | None = None
    generation: int = 0
    token_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


def connection_not_found(name: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Failed to describe the connection(s). Connection '{name}' does not exist.")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def valid_endpoint(endpoint: str) -> bool:
    """An HTTPS URL with a host (no ``*`` in it, no user info; the model's pattern already refuses a
    fragment), or ``http`` for a loopback host. A URL without a scheme is taken as HTTPS, as AWS takes it."""
    text = endpoint if "://" in endpoint else f"https://{endpoint}"
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if not host or "*" in host or "@" in parts.netloc:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host))


def endpoint_url(endpoint: str) -> str:
    return endpoint if "://" in endpoint else f"https://{endpoint}"


def _check_auth(action: str, authorization_type: str, auth: dict[str, Any], *, complete: bool) -> None:
    """The AuthParameters of ``authorization_type``: its own member only, and (``complete``) all of it."""
    wanted = AUTH_MEMBERS[authorization_type]
    for member in AUTH_MEMBERS.values():
        if member != wanted and member in auth:
            raise ValidationException(f"Failed to {action} the connection(s). {member} is not valid for "
                                      f"authorization type {authorization_type}.")
    given = auth.get(wanted)
    if complete:
        missing = [key for key in _REQUIRED[authorization_type] if not (given or {}).get(key)]
        if given is None or missing:
            raise ValidationException(f"Failed to {action} the connection(s). {wanted} must be specified "
                                      f"for authorization type {authorization_type}.")
        if authorization_type == OAUTH:
            client = given["ClientParameters"]
            if not client.get("ClientID") or not client.get("ClientSecret"):
                raise ValidationException(f"Failed to {action} the connection(s). ClientParameters must "
                                          "specify ClientID and ClientSecret.")
    endpoint = (given or {}).get("AuthorizationEndpoint")
    if endpoint is not None and not valid_endpoint(endpoint):
        raise ValidationException(f"Failed to {action} the connection(s). Parameter AuthorizationEndpoint is not "
                                  f"valid. Reason: Endpoint '{endpoint}' is invalid, please provide a valid HTTPS "
                                  "endpoint URL.")


def _merge(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """UpdateConnection's merge: members given replace those kept; nested structures merge in turn,
    lists (HTTP parameters) are replaced whole."""
    merged = copy.deepcopy(current)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _public_http(parameters: dict[str, Any]) -> dict[str, Any]:
    """HTTP parameters as DescribeConnection shows them: a secret value is left out."""
    shown: dict[str, Any] = {}
    for kind in _HTTP_LISTS:
        if kind not in parameters:
            continue
        entries = []
        for entry in parameters[kind]:
            secret = bool(entry.get("IsValueSecret"))
            public = {"Key": entry.get("Key"), "IsValueSecret": secret}
            if not secret and "Value" in entry:
                public["Value"] = entry["Value"]
            entries.append({key: value for key, value in public.items() if value is not None})
        shown[kind] = entries
    return shown


def public_auth(connection: Connection) -> dict[str, Any]:
    """``AuthParameters`` without the secrets."""
    auth = connection.auth
    shown: dict[str, Any] = {}
    for member, hidden in _SECRETS.items():
        if member in auth:
            shown[member] = {key: value for key, value in auth[member].items() if key not in hidden}
    if "OAuthParameters" in auth:
        oauth = auth["OAuthParameters"]
        public: dict[str, Any] = {key: oauth[key] for key in ("AuthorizationEndpoint", "HttpMethod") if key in oauth}
        if "ClientParameters" in oauth:
            public["ClientParameters"] = {"ClientID": oauth["ClientParameters"].get("ClientID")}
        if "OAuthHttpParameters" in oauth:
            public["OAuthHttpParameters"] = _public_http(oauth["OAuthHttpParameters"])
        shown["OAuthParameters"] = public
    if "InvocationHttpParameters" in auth:
        shown["InvocationHttpParameters"] = _public_http(auth["InvocationHttpParameters"])
    if connection.connectivity is not None:
        shown["ConnectivityParameters"] = {"ResourceParameters": connection.connectivity}
    return shown


def _times(connection: Connection) -> dict[str, Any]:
    times: dict[str, Any] = {"CreationTime": connection.created, "LastModifiedTime": connection.modified}
    if connection.last_authorized is not None:
        times["LastAuthorizedTime"] = connection.last_authorized
    return times


def _summary(connection: Connection) -> dict[str, Any]:
    entry: dict[str, Any] = {"ConnectionArn": connection.arn, "Name": connection.name,
                             "ConnectionState": connection.state, "AuthorizationType": connection.authorization_type}
    if connection.state_reason:
        entry["StateReason"] = connection.state_reason
    entry.update(_times(connection))
    return entry


def _secret_arn(store: EventsStore, name: str) -> str:
    suffix = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(6))
    return (f"arn:{partition_for(store.region)}:secretsmanager:{store.region}:{store.account}:secret:"
            f"events!connection/{name}/{uuid.uuid4()}-{suffix}")


def _connectivity(store: EventsStore, parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """A private API's resource configuration, with the service-network association EventBridge makes."""
    if not parameters:
        return None
    association = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(17))
    return {"ResourceConfigurationArn": parameters["ResourceParameters"]["ResourceConfigurationArn"],
            "ResourceAssociationArn": f"arn:{partition_for(store.region)}:vpc-lattice:{store.region}:"
                                      f"{store.account}:servicenetworkresourceassociation/snra-{association}"}


class ConnectionsMixin(EventsBase):
    """The connection operations of the provider."""

    registry: Any

    def _named_connection(self, store: EventsStore, name: str) -> Connection:
        found = store.connections.get(name)
        if found is None:
            raise connection_not_found(name)
        return found

    def _authorize_connection(self, store: EventsStore, connection: Connection) -> None:
        """Puts the connection in its authorized state for its (new) parameters: at once for API key
        and Basic, through a token fetch on a delivery worker for OAuth. Call under ``store.lock``."""
        connection.generation += 1
        connection.token = connection.token_expires = None
        connection.state_reason = None
        if connection.secret_arn is None:
            connection.secret_arn = _secret_arn(store, connection.name)
        if connection.authorization_type != OAUTH:
            connection.state = "AUTHORIZED"
            connection.last_authorized = clock.now()
            return
        from emulator.services.events.invocation import authorization_delivery

        connection.state = "AUTHORIZING"
        self.registry.delivery.submit(authorization_delivery(self, store, connection))

    @staticmethod
    def _update_auth(connection: Connection, authorization_type: str | None, given: dict[str, Any]) -> bool:
        """UpdateConnection's authorization parameters: merged into those kept, or, for a new type or a
        deauthorized connection, all of them anew. True if the connection must authorize again (any
        change but the invocation's HTTP parameters alone)."""
        kind = authorization_type or connection.authorization_type
        fresh = kind != connection.authorization_type or connection.state == "DEAUTHORIZED"
        _check_auth("update", kind, given, complete=fresh)
        if fresh:
            auth = copy.deepcopy(given)
            if "InvocationHttpParameters" not in auth and "InvocationHttpParameters" in connection.auth:
                auth["InvocationHttpParameters"] = connection.auth["InvocationHttpParameters"]
        else:
            auth = _merge(connection.auth, given)
        connection.auth, connection.authorization_type = auth, kind
        return fresh or any(key != "InvocationHttpParameters" for key in given)

    def create_connection(self, ctx: RequestContext, *, name: str, authorization_type: str,
                          auth_parameters: dict[str, Any], description: str | None = None,
                          invocation_connectivity_parameters: dict[str, Any] | None = None,
                          kms_key_identifier: str | None = None, **_: Any) -> dict[str, Any]:
        _check_auth("create", authorization_type, auth_parameters, complete=True)
        store = self._store(ctx)
        with store.lock:
            if name in store.connections:
                raise ResourceAlreadyExistsException(f"Connection '{name}' already exists.")
            arn = (f"arn:{partition_for(store.region)}:events:{store.region}:{store.account}:"
                   f"connection/{name}/{uuid.uuid4()}")
            connection = Connection(name, arn, authorization_type, copy.deepcopy(auth_parameters), description,
                                    kms_key_identifier, _connectivity(store, invocation_connectivity_parameters))
            self._authorize_connection(store, connection)
            store.connections[name] = connection
            return {"ConnectionArn": arn, "ConnectionState": connection.state,
                    "CreationTime": connection.created, "LastModifiedTime": connection.modified}

    def describe_connection(self, ctx: RequestContext, *, name: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            connection = self._named_connection(store, name)
            result = _summary(connection)
            result["AuthParameters"] = public_auth(connection)
            for key, value in (("Description", connection.description), ("SecretArn", connection.secret_arn),
                               ("KmsKeyIdentifier", connection.kms_key_identifier)):
                if value is not None:
                    result[key] = value
            if connection.connectivity is not None:
                result["InvocationConnectivityParameters"] = {"ResourceParameters": dict(connection.connectivity)}
            return result

    def list_connections(self, ctx: RequestContext, *, name_prefix: str | None = None,
                         connection_state: str | None = None, next_token: str | None = None,
                         limit: int | None = None, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            found = sorted(
                (c for c in store.connections.values()
                 if c.name.startswith(name_prefix or "") and (connection_state is None or c.state == connection_state)),
                key=lambda c: c.name)
            page, token = page_of(found, lambda c: c.name, next_token, limit,
                                  f"connections/{name_prefix or ''}/{connection_state or ''}")
            result: dict[str, Any] = {"Connections": [_summary(c) for c in page]}
        if token:
            result["NextToken"] = token
        return result

    def update_connection(self, ctx: RequestContext, *, name: str, description: str | None = None,
                          authorization_type: str | None = None, auth_parameters: dict[str, Any] | None = None,
                          invocation_connectivity_parameters: dict[str, Any] | None = None,
                          kms_key_identifier: str | None = None, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            connection = self._named_connection(store, name)
            reauthorize = False
            if authorization_type is not None or auth_parameters is not None:
                reauthorize = self._update_auth(connection, authorization_type, auth_parameters or {})
            if description is not None:
                connection.description = description
            if kms_key_identifier is not None:
                connection.kms_key_identifier = kms_key_identifier
            if invocation_connectivity_parameters is not None:
                connection.connectivity = _connectivity(store, invocation_connectivity_parameters)
            connection.modified = clock.now()
            if reauthorize:
                self._authorize_connection(store, connection)
            result = {"ConnectionArn": connection.arn, "ConnectionState": connection.state}
            result.update(_times(connection))
            return result

    def deauthorize_connection(self, ctx: RequestContext, *, name: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            connection = self._named_connection(store, name)
            result = {"ConnectionArn": connection.arn, "ConnectionState": "DEAUTHORIZING"}
            result.update(_times(connection))
            connection.auth = {}
            connection.secret_arn = None
            connection.generation += 1
            connection.token = connection.token_expires = None
            connection.state = "DEAUTHORIZED"
            connection.state_reason = DEAUTHORIZED_REASON
            connection.modified = clock.now()
            return result

    def delete_connection(self, ctx: RequestContext, *, name: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            connection = store.connections.pop(name, None)
            if connection is None:
                raise connection_not_found(name)
            connection.generation += 1  # a token fetch still under way is not kept
            connection.state = "DELETING"
            result = {"ConnectionArn": connection.arn, "ConnectionState": "DELETING"}
            result.update(_times(connection))
            return result
