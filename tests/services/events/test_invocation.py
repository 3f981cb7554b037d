"""API destinations invoked for real: a rule's target that is an API destination makes an HTTP request to a
local receiver, with each kind of authorization (OAuth through a token endpoint), the HTTP parameters,
AWS's headers and no others, retries of the statuses AWS retries (Retry-After honoured) on a moved
clock, the dead letter, the rate limit's backlog, and the timeout."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from emulator.services.events import invocation
from emulator.services.events.dispatch import BACKOFF_CAP, EventRetry
from emulator.testing import admin
from tests.receivers import Received, Receiver, receiver
from tests.services.events.conftest import ACCOUNT, REGION

ROLE = f"arn:aws:iam::{ACCOUNT}:role/events"
DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
PATTERN = json.dumps({"source": ["my.app"]})
API_KEY = {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cret"}}
BASIC = {"BasicAuthParameters": {"Username": "user", "Password": "pa55"}}
# What every request carries besides its authorization (Host, Content-Length: set by the HTTP client).
STANDARD = {"host", "user-agent", "content-type", "range", "accept-encoding", "connection", "content-length"}


def entry(number: int = 1) -> dict[str, Any]:
    return {"Source": "my.app", "DetailType": "order", "Detail": json.dumps({"n": number})}


def answers(*statuses: int, headers: dict[str, str] | None = None) -> Callable[[Received], Any]:
    """Answers the n-th request with the n-th status (the last repeats), with ``headers`` on failures."""
    lock, seen = threading.Lock(), [0]

    def respond(received: Received) -> tuple[int, dict[str, str], bytes]:
        with lock:
            index, seen[0] = seen[0], seen[0] + 1
        status = statuses[min(index, len(statuses) - 1)]
        return status, (headers or {}) if status >= 300 else {}, b""

    return respond


def tokens() -> Callable[[Received], Any]:
    """An OAuth token endpoint handing out tok-1, tok-2, ..."""
    lock, count = threading.Lock(), [0]

    def respond(received: Received) -> tuple[int, dict[str, str], bytes]:
        with lock:
            count[0] += 1
            token = f"tok-{count[0]}"
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"access_token": token, "token_type": "Bearer", "expires_in": 3600}).encode()

    return respond


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    with ExitStack() as stack:
        yield lambda **kwargs: stack.enter_context(receiver(**kwargs))


@pytest.fixture
def url(emulator_url: Any, provider: Any) -> Any:
    return emulator_url


def clock(url: Any, **change: Any) -> None:
    admin(url, "/_emulator/clock", "POST", change)


def deliveries(url: Any) -> list[dict[str, Any]]:
    """The deliveries of rule r to its target (not its dead letters), once nothing is due."""
    url.app.registry.delivery.wait_idle()
    found = admin(url, f"/_emulator/events/deliveries?account={ACCOUNT}&rule=r")["deliveries"]
    return [d for d in found if not d["info"].get("deadLetter")]


def setup(events: Any, endpoint: str, *, kind: str = "API_KEY", auth: dict[str, Any] | None = None,
          method: str = "POST", rate: int | None = None, **target: Any) -> str:
    """A connection, an API destination on ``endpoint`` and rule ``r`` targeting it; the destination's ARN."""
    connection = events.create_connection(Name="c", AuthorizationType=kind,
                                          AuthParameters=auth or API_KEY)["ConnectionArn"]
    extra = {"InvocationRateLimitPerSecond": rate} if rate else {}
    destination = events.create_api_destination(Name="d", ConnectionArn=connection, InvocationEndpoint=endpoint,
                                                HttpMethod=method, **extra)["ApiDestinationArn"]
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": destination, "RoleArn": ROLE, **target}])
    return destination


# ----------------------------------------------------------------------------------------- the request

@pytest.mark.parametrize(("kind", "auth", "header", "value"), [
    ("API_KEY", API_KEY, "x-api-key", "s3cret"),
    ("BASIC", BASIC, "authorization", "Basic " + base64.b64encode(b"user:pa55").decode()),
    ("OAUTH_CLIENT_CREDENTIALS", None, "authorization", "Bearer tok-1"),
])
def test_each_authorization_sends_its_header_and_only_the_documented_ones(
        events: Any, url: Any, make_receiver: Callable[..., Receiver], kind: str, auth: dict[str, Any] | None,
        header: str, value: str) -> None:
    destination = make_receiver()
    if auth is None:
        token_endpoint = make_receiver(respond=tokens())
        auth = {"OAuthParameters": {"AuthorizationEndpoint": f"{token_endpoint.url}/oauth", "HttpMethod": "POST",
                                    "ClientParameters": {"ClientID": "id", "ClientSecret": "secret"}}}
    setup(events, f"{destination.url}/hook", kind=kind, auth=auth)
    url.app.registry.delivery.wait_idle()  # an OAuth connection's authorization
    event_id = events.put_events(Entries=[entry()])["Entries"][0]["EventId"]
    request = destination.wait_for(1)[0]
    assert request.method == "POST" and request.path == "/hook"
    assert set(request.headers) == STANDARD | {header}
    assert request.headers[header] == value
    assert request.headers["user-agent"] == "Amazon/EventBridge/ApiDestinations"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["range"] == "bytes=0-1048575"
    assert request.headers["accept-encoding"] == "gzip,deflate"
    assert request.headers["connection"] == "close"
    body = request.json()
    assert body["id"] == event_id and body["detail"] == {"n": 1}
    [delivery] = deliveries(url)
    assert delivery["state"] == "delivered"
    assert delivery["target"]["type"] == "http" and delivery["attempts"][0]["status"] == 200


def test_http_parameters_of_the_target_and_the_connection(events: Any, url: Any,
                                                          make_receiver: Callable[..., Receiver]) -> None:
    destination = make_receiver()
    auth = {**API_KEY, "InvocationHttpParameters": {
        "HeaderParameters": [{"Key": "x-shared", "Value": "from-connection", "IsValueSecret": True},
                             {"Key": "Host", "Value": "evil.example", "IsValueSecret": False}],
        "QueryStringParameters": [{"Key": "shared", "Value": "connection", "IsValueSecret": False}]}}
    setup(events, f"{destination.url}/orgs/*/items/*", auth=auth, method="PUT", HttpParameters={
        "PathParameterValues": ["acme", "42"],
        "HeaderParameters": {"x-shared": "from-target", "x-target": "t", "Content-Type": "text/plain",
                             "User-Agent": "mine", "Range": "bytes=0-1"},
        "QueryStringParameters": {"shared": "target", "only": "target value"}})
    events.put_events(Entries=[entry()])
    request = destination.wait_for(1)[0]
    parts = urlsplit(request.path)
    assert request.method == "PUT" and parts.path == "/orgs/acme/items/42"
    assert sorted(parse_qsl(parts.query)) == [("only", "target value"), ("shared", "connection")]
    assert request.headers["x-shared"] == "from-connection"
    assert request.headers["x-target"] == "t"
    assert request.headers["content-type"] == "text/plain"
    assert request.headers["user-agent"] == "Amazon/EventBridge/ApiDestinations"
    assert request.headers["range"] == "bytes=0-1048575"
    assert request.headers["host"] != "evil.example"


def test_the_body_is_what_the_input_settings_make(events: Any, url: Any,
                                                  make_receiver: Callable[..., Receiver]) -> None:
    destination = make_receiver()
    setup(events, f"{destination.url}/hook", InputTransformer={
        "InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": '{"number": <n>, "rule": "<aws.events.rule-name>"}'})
    events.put_events(Entries=[entry(7)])
    assert destination.wait_for(1)[0].json() == {"number": 7, "rule": "r"}


def test_a_get_request_carries_no_body(events: Any, url: Any, make_receiver: Callable[..., Receiver]) -> None:
    destination = make_receiver()
    setup(events, f"{destination.url}/hook", method="GET")
    events.put_events(Entries=[entry()])
    request = destination.wait_for(1)[0]
    assert request.method == "GET" and request.body == b""


# ----------------------------------------------------------------------------------------- OAuth

def test_the_oauth_token_is_cached_and_refreshed_when_the_destination_answers_401(
        events: Any, url: Any, make_receiver: Callable[..., Receiver]) -> None:
    token_endpoint = make_receiver(respond=tokens())
    destination = make_receiver(respond=answers(401, 200))
    auth = {"OAuthParameters": {"AuthorizationEndpoint": f"{token_endpoint.url}/oauth", "HttpMethod": "POST",
                                "ClientParameters": {"ClientID": "id", "ClientSecret": "secret"}}}
    clock(url, freeze=True)
    setup(events, f"{destination.url}/hook", kind="OAUTH_CLIENT_CREDENTIALS", auth=auth)
    token_endpoint.wait_for(1)
    url.app.registry.delivery.wait_idle()
    events.put_events(Entries=[entry(1)])
    assert destination.wait_for(1)[0].headers["authorization"] == "Bearer tok-1"
    url.app.registry.delivery.wait_idle()
    clock(url, advance=EventRetry.window(1)[1])
    assert destination.wait_for(2)[1].headers["authorization"] == "Bearer tok-2"
    events.put_events(Entries=[entry(2)])
    assert destination.wait_for(3)[2].headers["authorization"] == "Bearer tok-2"  # cached
    assert len(token_endpoint.quiet()) == 2
    assert [d["state"] for d in deliveries(url)] == ["delivered", "delivered"]


def test_a_token_about_to_expire_is_refreshed_before_the_invocation(events: Any, url: Any,
                                                                   make_receiver: Callable[..., Receiver]) -> None:
    token_endpoint = make_receiver(respond=tokens())
    destination = make_receiver()
    auth = {"OAuthParameters": {"AuthorizationEndpoint": f"{token_endpoint.url}/oauth", "HttpMethod": "POST",
                                "ClientParameters": {"ClientID": "id", "ClientSecret": "secret"}}}
    clock(url, freeze=True)
    setup(events, f"{destination.url}/hook", kind="OAUTH_CLIENT_CREDENTIALS", auth=auth)
    token_endpoint.wait_for(1)
    url.app.registry.delivery.wait_idle()
    clock(url, advance=3600 - invocation.TOKEN_EARLY + 1)  # tok-1 lasts 3600 s
    events.put_events(Entries=[entry()])
    assert destination.wait_for(1)[0].headers["authorization"] == "Bearer tok-2"


# ----------------------------------------------------------------------------------------- retries

@pytest.mark.parametrize(("status", "retried"), [
    (401, True), (407, True), (409, True), (429, True), (500, True), (503, True),
    (400, False), (403, False), (404, False), (302, False),
])
def test_the_statuses_aws_retries(events: Any, url: Any, make_receiver: Callable[..., Receiver], status: int,
                                  retried: bool) -> None:
    destination = make_receiver(respond=answers(status, 200))
    setup(events, f"{destination.url}/hook", DeadLetterConfig={"Arn": DLQ})
    clock(url, freeze=True)
    events.put_events(Entries=[entry()])
    destination.wait_for(1)
    [delivery] = deliveries(url)
    assert delivery["attempts"][0]["status"] == status
    assert delivery["state"] == ("retrying" if retried else "failed")
    if not retried:
        letter = admin(url, f"/_emulator/events/deliveries?account={ACCOUNT}&deadLetter=true")["deliveries"]
        attributes = letter[0]["payload"]["MessageAttributes"]
        assert attributes["ERROR_CODE"]["StringValue"] == "ERROR_FROM_TARGET"
        assert attributes["RETRY_ATTEMPTS"]["StringValue"] == "0"
        return
    clock(url, advance=EventRetry.window(1)[1])
    destination.wait_for(2)
    assert deliveries(url)[0]["state"] == "delivered"


def test_a_flaky_destination_still_receives_every_event(events: Any, url: Any,
                                                        make_receiver: Callable[..., Receiver]) -> None:
    lock, served, delivered = threading.Lock(), [0], set()

    def half_fail(received: Received) -> tuple[int, dict[str, str], bytes]:
        with lock:
            served[0] += 1
            if served[0] % 2:
                return 500, {}, b""
            delivered.add(received.json()["detail"]["n"])
        return 200, {}, b""

    destination = make_receiver(respond=half_fail)
    setup(events, f"{destination.url}/hook")
    clock(url, freeze=True)
    events.put_events(Entries=[entry(n) for n in range(10)])
    for _ in range(20):
        url.app.registry.delivery.wait_idle()
        with lock:
            if len(delivered) == 10:
                break
        clock(url, advance=BACKOFF_CAP)
    assert delivered == set(range(10))
    log = deliveries(url)
    assert [d["state"] for d in log] == ["delivered"] * 10
    print([a for d in log for a in d["attempts"] if a["status"] is None])
    assert sum(len(d["attempts"]) for d in log) == served[0] >= 11
    assert any(a["status"] == 500 for d in log for a in d["attempts"])


def test_retry_after_is_honoured_when_longer_than_the_policys_wait(events: Any, url: Any,
                                                                  make_receiver: Callable[..., Receiver]) -> None:
    destination = make_receiver(respond=answers(429, 200, headers={"Retry-After": "120"}))
    setup(events, f"{destination.url}/hook")
    clock(url, freeze=True)
    events.put_events(Entries=[entry()])
    destination.wait_for(1)
    url.app.registry.delivery.wait_idle()
    clock(url, advance=60)  # far past the policy's first wait (at most 1 s), short of Retry-After
    assert len(destination.quiet()) == 1
    clock(url, advance=61)
    destination.wait_for(2)
    attempts = deliveries(url)[0]["attempts"]
    assert [a["status"] for a in attempts] == [429, 200]
    assert attempts[1]["at"] - attempts[0]["at"] >= 120


def test_a_negative_retry_after_stops_the_retries_into_the_dead_letter(events: Any, url: Any,
                                                                      make_receiver: Callable[..., Receiver]) -> None:
    destination = make_receiver(respond=answers(503, headers={"Retry-After": "-1"}))
    setup(events, f"{destination.url}/hook", DeadLetterConfig={"Arn": DLQ})
    events.put_events(Entries=[entry()])
    destination.wait_for(1)
    [delivery] = deliveries(url)
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 1
    letter = admin(url, f"/_emulator/events/deliveries?account={ACCOUNT}&deadLetter=true")["deliveries"][0]
    attributes = letter["payload"]["MessageAttributes"]
    assert attributes["ERROR_MESSAGE"]["StringValue"].startswith("HTTP 503")
    assert "EXHAUSTED_RETRY_CONDITION" not in attributes


def test_retries_end_at_the_policys_limit_then_the_dead_letter(events: Any, url: Any,
                                                               make_receiver: Callable[..., Receiver]) -> None:
    destination = make_receiver(respond=answers(500))
    setup(events, f"{destination.url}/hook", DeadLetterConfig={"Arn": DLQ},
          RetryPolicy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600})
    clock(url, freeze=True)
    events.put_events(Entries=[entry()])
    for attempts in (1, 2):
        destination.wait_for(attempts)
        url.app.registry.delivery.wait_idle()
        clock(url, advance=EventRetry.window(attempts)[1])
    destination.wait_for(3)
    [delivery] = deliveries(url)
    assert delivery["state"] == "failed" and [a["status"] for a in delivery["attempts"]] == [500, 500, 500]
    letter = admin(url, f"/_emulator/events/deliveries?account={ACCOUNT}&deadLetter=true")["deliveries"][0]
    attributes = letter["payload"]["MessageAttributes"]
    assert attributes["RETRY_ATTEMPTS"]["StringValue"] == "2"
    assert attributes["EXHAUSTED_RETRY_CONDITION"]["StringValue"] == "MaximumRetryAttempts"


# ----------------------------------------------------------------------------------------- rate, timeout, state

def test_the_rate_limit_builds_a_backlog_that_drains_at_the_rate(events: Any, url: Any,
                                                                 make_receiver: Callable[..., Receiver]) -> None:
    destination = make_receiver()
    setup(events, f"{destination.url}/hook", rate=1)
    clock(url, freeze=True)
    events.put_events(Entries=[entry(n) for n in range(3)])
    destination.wait_for(1)
    url.app.registry.delivery.wait_idle()
    assert len(destination.quiet()) == 1
    for expected in (2, 3):
        clock(url, advance=1)
        destination.wait_for(expected)
        url.app.registry.delivery.wait_idle()
        assert len(destination.quiet()) == expected
    assert sorted(r.json()["detail"]["n"] for r in destination.requests) == [0, 1, 2]


def test_a_slow_destination_times_out(events: Any, url: Any, make_receiver: Callable[..., Receiver],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invocation, "TIMEOUT", 0.2)
    destination = make_receiver(delay=1.0)
    setup(events, f"{destination.url}/hook", RetryPolicy={"MaximumRetryAttempts": 0})
    events.put_events(Entries=[entry()])
    destination.wait_for(1)
    assert url.app.registry.delivery.wait_idle(timeout=5)
    [delivery] = deliveries(url)
    assert delivery["state"] == "failed"
    assert delivery["attempts"][0]["error"].startswith("TIMEOUT")


def test_a_deauthorized_connection_fails_the_invocation_and_a_deleted_destination_is_retried(
        events: Any, url: Any, make_receiver: Callable[..., Receiver]) -> None:
    destination = make_receiver()
    setup(events, f"{destination.url}/hook")
    clock(url, freeze=True)
    events.deauthorize_connection(Name="c")
    events.put_events(Entries=[entry(1)])
    [failed] = deliveries(url)
    assert failed["state"] == "failed" and failed["attempts"][0]["error"].startswith("NO_PERMISSIONS")
    events.delete_api_destination(Name="d")
    events.put_events(Entries=[entry(2)])
    retrying = deliveries(url)[1]
    assert retrying["state"] == "retrying" and retrying["attempts"][0]["error"].startswith("NO_RESOURCE")
    assert destination.quiet() == []
