"""The HTTP invocation of an API destination: the request EventBridge makes for a rule's target whose
ARN is an API destination, its authorization, and the token fetch of OAuth connections.

The request (``ApiDestinationTarget.attempt``, on a delivery worker, no lock held while it waits):

- the destination's method and endpoint, each ``*`` of the endpoint replaced in order by the target's
  ``HttpParameters.PathParameterValues``; the query string of the target's and the connection's
  ``QueryStringParameters`` (the connection's win, as AWS documents for every HTTP parameter);
- the body the target's input settings make (``transform.render``), with the connection's
  ``BodyParameters`` added when the body is a JSON object; GET and HEAD requests carry no body;
- the headers AWS documents and no others: ``User-Agent: Amazon/EventBridge/ApiDestinations`` and
  ``Range: bytes=0-1048575`` (neither can be overridden), ``Content-Type: application/json;
  charset=utf-8`` unless a parameter sets it, ``Accept-Encoding: gzip,deflate``, ``Connection: close``,
  ``Content-Length`` and ``Host``; then the target's and the connection's header parameters (those AWS
  removes, such as ``Host`` or ``Content-Length``, are dropped) and the authorization: the API key as
  its own header, ``Authorization: Basic``, or ``Authorization: Bearer`` with the OAuth token;
- AWS's timeout: ``TIMEOUT`` (5 s) to connect and for each read of the answer (a socket timeout,
  so an endpoint that trickles its answer can take longer in all);
- a connection of its own, closed after the answer (``exchange``), as ``Connection: close`` says.

Outcomes, as the "API destinations" page of the user guide documents them: a 2xx delivered; 401, 407,
409, 429 and 5xx retried by the target's RetryPolicy (``ApiDestinationRetry``), a timeout or a
connection failure too; any other status fails for good. A ``Retry-After`` answer waits the longer of
it and the policy's delay, and a negative one stops the retries. Then the dead letter (dispatch.py).
A 401 or 407 drops the OAuth token, so the retry fetches a fresh one.

OAuth tokens come from the connection's authorization endpoint: its method, ``Authorization: Basic``
with the client id and secret (RFC 6749 section 2.3.1), the ``OAuthHttpParameters`` as headers, query
string and a form-encoded body; the answer's ``access_token`` is cached on the connection until
``expires_in`` (less a minute, AWS refreshes a token about to expire) on the emulator's clock, and the
connection's generation guards the cache: a token fetched with parameters since updated is dropped.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from emulator import clock
from emulator.delivery import Delivery, Outcome
from emulator.services.events.apidestinations import ApiDestination, destination_connection, take_slot
from emulator.services.events.connections import OAUTH, Connection, endpoint_url
from emulator.services.events.dispatch import EventRetry, EventTarget, parse_arn
from emulator.services.events.models import EventsStore, Rule

if TYPE_CHECKING:
    from emulator.delivery import Dispatcher

log = logging.getLogger("emulator.events.invocation")

TIMEOUT = 5.0  # seconds: AWS's client execution timeout for API destinations
USER_AGENT = "Amazon/EventBridge/ApiDestinations"
CONTENT_TYPE = "application/json; charset=utf-8"
_FIXED = (("User-Agent", USER_AGENT), ("Range", "bytes=0-1048575"))
_DEFAULTS = (("Accept-Encoding", "gzip,deflate"), ("Connection", "close"))
# Headers EventBridge removes from those a connection or target sets.
_REMOVED = frozenset({
    "a-im", "accept-charset", "accept-datetime", "accept-encoding", "cache-control", "connection",
    "content-encoding", "content-length", "content-md5", "date", "expect", "forwarded", "from", "host",
    "http2-settings", "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since",
    "max-forwards", "origin", "pragma", "proxy-authorization", "range", "referer", "te", "trailer",
    "transfer-encoding", "upgrade", "user-agent", "via", "warning",
})
_RETRIED = frozenset({401, 407, 409, 429})
TOKEN_EARLY = 60.0  # seconds before its expiry a cached token is refreshed
_KEPT = 1024  # bytes of an answer kept for the log
_TOKEN_ANSWER = 64 * 1024  # bytes of a token endpoint's answer read


class Failure(Exception):
    """An invocation that cannot be made; ``code`` is the dead letter's ERROR_CODE."""

    def __init__(self, code: str, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable = code, message, retryable


@dataclass(frozen=True)
class ApiDestinationRetry(EventRetry):
    """The target's RetryPolicy, honouring Retry-After: the more conservative of the two waits."""

    def delay(self, attempts: int, age: float, outcome: Outcome) -> float | None:
        wait = super().delay(attempts, age, outcome)
        if wait is None or outcome.retry_after is None:
            return wait
        wait = max(wait, outcome.retry_after)
        return None if age + wait > self.max_age else wait


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a negative number is kept: it stops the retries)."""
    from emulator.delivery.targets import parse_retry_after

    if value is None:
        return None
    text = value.strip()
    if text.lstrip("-").isdigit():
        return float(text)
    return parse_retry_after(text)


def _params(parameters: dict[str, Any] | None, kind: str) -> list[tuple[str, str]]:
    return [(entry.get("Key", ""), entry.get("Value", "")) for entry in (parameters or {}).get(kind, ())]


def _merged(target: dict[str, str] | None, connection: list[tuple[str, str]],
            fold: Any = str.lower) -> list[tuple[str, str]]:
    """The target's parameters and the connection's; a key both have (compared through ``fold``:
    header names ignore case, query string keys do not) takes the connection's value."""
    keys = {fold(key) for key, _ in connection}
    return [(key, value) for key, value in (target or {}).items() if fold(key) not in keys] + connection


def _lookup(store: EventsStore, name: str, arn: str) -> ApiDestination | None:
    found = store.api_destinations.get(name)
    return found if found is not None and found.arn == arn else None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # by lower-case name
    body: bytes  # its first bytes only


class Unreachable(Exception):
    """No answer: ``code`` is TIMEOUT or CONNECTION_FAILURE."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def exchange(method: str, url: str, headers: list[tuple[str, str]], body: bytes | None, limit: int) -> Answer:
    """One request on a connection of its own, closed after the answer's first ``limit`` bytes.

    Why not the dispatcher's urllib3 pool: EventBridge says ``Connection: close`` and opens a connection
    per request, and a pool would hand the next request a connection the server is about to drop
    (urllib3 returns it to the pool as soon as the answer was read). ``TIMEOUT`` bounds the connection
    and each read; certificates are not verified, as for every HTTP delivery of the emulator.
    """
    import http.client
    import socket
    import ssl

    parts = urlsplit(url)
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=TIMEOUT, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=TIMEOUT)
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None or method in ("POST", "PUT", "PATCH"):
            conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body or None)
        response = conn.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read(limit))
    except (TimeoutError, socket.timeout):
        raise Unreachable("TIMEOUT", f"the endpoint did not answer within {TIMEOUT:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise Unreachable("CONNECTION_FAILURE", f"could not reach the endpoint: {exc!r}") from None
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------- OAuth

def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _with_query(url: str, query: list[tuple[str, str]]) -> str:
    if not query:
        return url
    parts = urlsplit(url)
    joined = "&".join(filter(None, (parts.query, urlencode(query))))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))


def fetch_token(oauth: dict[str, Any]) -> tuple[str, float | None]:
    """(access token, seconds it lasts or None) from the authorization endpoint; ``Failure`` else."""
    client = oauth.get("ClientParameters") or {}
    extra = oauth.get("OAuthHttpParameters")
    headers = [("User-Agent", USER_AGENT), ("Accept-Encoding", "identity"), ("Connection", "close"),
               ("Authorization", _basic(client.get("ClientID", ""), client.get("ClientSecret", "")))]
    headers += [(key, value) for key, value in _params(extra, "HeaderParameters") if key.lower() not in _REMOVED]
    body = urlencode(_params(extra, "BodyParameters")).encode("utf-8")
    if body and not any(key.lower() == "content-type" for key, _ in headers):
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    url = _with_query(endpoint_url(oauth["AuthorizationEndpoint"]), _params(extra, "QueryStringParameters"))
    try:
        response = exchange(oauth["HttpMethod"], url, headers, body or None, _TOKEN_ANSWER)
    except Unreachable as exc:
        raise Failure(exc.code, f"the authorization endpoint could not be reached: {exc.message}", True) from None
    if not 200 <= response.status < 300:
        raise Failure("NO_PERMISSIONS", f"the authorization endpoint answered HTTP {response.status}", True)
    try:
        answer = json.loads(response.body)
        token = answer["access_token"]
        lasts = answer.get("expires_in")
        lasts = float(lasts) if lasts is not None else None
    except (ValueError, KeyError, TypeError):
        raise Failure("NO_PERMISSIONS", "the authorization endpoint's answer has no access_token", True) from None
    if not isinstance(token, str) or not token:
        raise Failure("NO_PERMISSIONS", "the authorization endpoint's answer has no access_token", True)
    return token, lasts


def _store_token(store: EventsStore, connection: Connection, generation: int, token: str,
                 lasts: float | None) -> bool:
    """Keeps a fetched token, unless the connection changed (or went) since; True if kept."""
    with store.lock:
        if connection.generation != generation or store.connections.get(connection.name) is not connection:
            return False
        now = clock.now()
        connection.token = token
        connection.token_expires = now + lasts if lasts is not None else None
        connection.state, connection.state_reason = "AUTHORIZED", None
        connection.last_authorized = now
        return True


def bearer(store: EventsStore, connection: Connection) -> str:
    """The connection's OAuth token: the cached one while it lasts, else a fresh one (one fetch at a time
    per connection, so a burst of invocations asks the endpoint once)."""
    with connection.token_lock:
        with store.lock:
            generation = connection.generation
            oauth = copy.deepcopy(connection.auth.get("OAuthParameters") or {})
            cached, expires = connection.token, connection.token_expires
        if cached and (expires is None or clock.now() < expires - TOKEN_EARLY):
            return cached
        token, lasts = fetch_token(oauth)
        _store_token(store, connection, generation, token, lasts)
        return token


def drop_token(store: EventsStore, connection: Connection, token: str) -> None:
    """The destination refused ``token`` (401/407): the next invocation fetches another."""
    with store.lock:
        if connection.token == token:
            connection.token = connection.token_expires = None


class OAuthAuthorization:
    """Authorizes an OAuth connection on a worker: fetches its first token; AUTHORIZED or DEAUTHORIZED."""

    def __init__(self, store: EventsStore, connection: Connection) -> None:
        self.store = store
        self.connection = connection
        self.generation = connection.generation
        self.url = endpoint_url((connection.auth.get("OAuthParameters") or {}).get("AuthorizationEndpoint", ""))

    def describe(self) -> dict[str, Any]:
        return {"type": "oauth", "connectionArn": self.connection.arn, "url": self.url}

    def attempt(self, delivery: Delivery, dispatcher: Dispatcher) -> Outcome:
        with self.connection.token_lock:  # an invocation that needs the token meanwhile waits for this one
            with self.store.lock:
                if self.connection.generation != self.generation:
                    return Outcome(ok=True)  # superseded by an update, a deauthorization or a deletion
                if self.connection.token is not None:
                    return Outcome(ok=True)  # an invocation fetched it first
                oauth = copy.deepcopy(self.connection.auth.get("OAuthParameters") or {})
            try:
                token, lasts = fetch_token(oauth)
            except Failure as failure:
                with self.store.lock:
                    if self.connection.generation == self.generation:
                        self.connection.state = "DEAUTHORIZED"
                        self.connection.state_reason = f"Failed to authorize the connection: {failure.message}."
                return Outcome(ok=False, retryable=False, error=failure.message)
            _store_token(self.store, self.connection, self.generation, token, lasts)
            return Outcome(ok=True)


def authorization_delivery(provider: Any, store: EventsStore, connection: Connection) -> Delivery:
    """The delivery that authorizes an OAuth connection (submitted by connections.py under the lock)."""
    return Delivery(source="events", account=store.account, region=store.region,
                    target=OAuthAuthorization(store, connection),
                    info={"connection": connection.name, "connectionArn": connection.arn})


# ---------------------------------------------------------------------------------------- invocation

class ApiDestinationTarget(EventTarget):
    """One event for one API destination target: the HTTP request, made on a delivery worker.

    Built on the request thread under the store's lock, where it takes the destination's next rate
    slot (``not_before``); the destination and connection are read again at each attempt, so an update
    or a deauthorization applies to the retries of events already accepted.
    """

    def __init__(self, spec: dict[str, Any], event: dict[str, Any], rule: Rule, store: EventsStore,
                 ingestion_time: str, trace_header: str | None) -> None:
        super().__init__("api-destination", spec, event, rule, store.account, ingestion_time, "", trace_header)
        resource = (parse_arn(spec["Arn"]) or ("", "", "", ""))[3]
        # The rule's own account and Region: an API destination elsewhere is never found (its ARN differs).
        self.account, self.region = store.account, store.region
        self.name = resource.split("/")[1] if "/" in resource else ""
        destination = _lookup(store, self.name, spec["Arn"])
        self.not_before = take_slot(destination) if destination is not None else None
        self.method = destination.method if destination else None
        self.url = destination.endpoint if destination else None

    def describe(self) -> dict[str, Any]:
        return {"type": "http", "arn": self.spec["Arn"], "method": self.method, "url": self.url}

    def attempt(self, delivery: Delivery, dispatcher: Dispatcher) -> Outcome:
        from emulator.services.events import transform

        try:
            text = self.input()
        except transform.TransformError as exc:
            return self._failed("INVALID_JSON", str(exc), retryable=False)
        store = dispatcher.registry.get("events")._stores.get(self.account, self.region)
        try:
            request, connection, token = self._request(store, text)
        except Failure as failure:
            return self._failed(failure.code, failure.message, failure.retryable)
        outcome = self._send(*request)
        if outcome.status in (401, 407) and token is not None:
            drop_token(store, connection, token)
        return outcome

    def _request(self, store: EventsStore,
                 text: str) -> tuple[tuple[str, str, list[tuple[str, str]], bytes | None], Connection, str | None]:
        """(method, url, headers, body), the connection, and the OAuth token used (None for other kinds)."""
        with store.lock:
            destination = _lookup(store, self.name, self.spec["Arn"])
            if destination is None:
                raise Failure("NO_RESOURCE", f"API destination {self.name} does not exist.", True)
            connection = destination_connection(store, destination)
            if connection is None:
                raise Failure("NO_RESOURCE", f"Connection {destination.connection_arn} does not exist.", True)
            if connection.state in ("DEAUTHORIZED", "DEAUTHORIZING"):
                raise Failure("NO_PERMISSIONS", f"Connection {connection.name} is not authorized.", False)
            method, endpoint = destination.method, destination.endpoint
            kind, auth = connection.authorization_type, copy.deepcopy(connection.auth)
        token = bearer(store, connection) if kind == OAUTH else None
        http = self.spec.get("HttpParameters") or {}
        invocation = auth.get("InvocationHttpParameters")
        url = endpoint_url(endpoint)
        for value in http.get("PathParameterValues") or ():
            url = url.replace("*", value, 1)
        query = _merged(http.get("QueryStringParameters"), _params(invocation, "QueryStringParameters"), fold=str)
        url = _with_query(url, query)
        headers: list[tuple[str, str]] = list(_FIXED)
        custom = [(key, value) for key, value in
                  _merged(http.get("HeaderParameters"), _params(invocation, "HeaderParameters"))
                  if key.lower() not in _REMOVED]
        if not any(key.lower() == "content-type" for key, _ in custom):
            headers.append(("Content-Type", CONTENT_TYPE))
        headers += list(_DEFAULTS) + custom
        if kind == "API_KEY":
            key_auth = auth.get("ApiKeyAuthParameters") or {}
            headers.append((key_auth.get("ApiKeyName", ""), key_auth.get("ApiKeyValue", "")))
        elif kind == "BASIC":
            basic = auth.get("BasicAuthParameters") or {}
            headers.append(("Authorization", _basic(basic.get("Username", ""), basic.get("Password", ""))))
        elif token is not None:
            headers.append(("Authorization", f"Bearer {token}"))
        body = None if method in ("GET", "HEAD") else self._body(text, _params(invocation, "BodyParameters"))
        return (method, url, headers, body), connection, token

    @staticmethod
    def _body(text: str, extra: list[tuple[str, str]]) -> bytes:
        """The rendered input, with the connection's body parameters added when it is a JSON object."""
        if extra:
            try:
                document = json.loads(text)
            except (ValueError, RecursionError):  # not a JSON object the parameters can join
                document = None
            if isinstance(document, dict):
                document.update(extra)
                text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")

    def _send(self, method: str, url: str, headers: list[tuple[str, str]],
              body: bytes | None) -> Outcome:
        began = time.monotonic()
        try:
            response = exchange(method, url, headers, body, _KEPT)
        except Unreachable as exc:
            return self._failed(exc.code, exc.message, retryable=True)
        log.debug("api destination %s: %s %s -> %d in %.0f ms", self.name, method, url, response.status,
                  (time.monotonic() - began) * 1000)
        status = response.status
        if 200 <= status < 300:
            return Outcome(ok=True, status=status, body=response.body)
        wait = _retry_after(response.headers.get("retry-after"))
        retryable = (status in _RETRIED or status >= 500) and not (wait is not None and wait < 0)
        code = "THROTTLING" if status == 429 else "ERROR_FROM_TARGET"
        self.error_code, self.error_message = code, f"HTTP {status}: {response.body.decode('utf-8', 'replace')}"
        return Outcome(ok=False, status=status, error=f"{code}: HTTP {status}", retryable=retryable,
                       retry_after=wait if wait is not None and wait >= 0 else None, body=response.body)
