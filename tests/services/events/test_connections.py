"""Connections: each authorization type, the states AWS moves them through (OAuth through a real token
fetch), secrets hidden by DescribeConnection, updates that merge, deauthorization, deletion, listings,
and AWS's errors for bad input."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.receivers import Received, Receiver, receiver
from tests.services.events.conftest import ACCOUNT, REGION, error_of

API_KEY = {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cret"}}
BASIC = {"BasicAuthParameters": {"Username": "user", "Password": "pa55"}}
HTTP = {"HeaderParameters": [{"Key": "x-open", "Value": "v1", "IsValueSecret": False},
                             {"Key": "x-hidden", "Value": "v2", "IsValueSecret": True}],
        "QueryStringParameters": [{"Key": "q", "Value": "secret-q", "IsValueSecret": True}]}


def token_endpoint(token: str = "tok-1", status: int = 200, expires_in: int | None = 3600) -> Callable[[Received], Any]:
    """A receiver's answer that is an OAuth token endpoint's."""
    import json

    def respond(received: Received) -> tuple[int, dict[str, str], bytes]:
        body: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if expires_in is not None:
            body["expires_in"] = expires_in
        return status, {"Content-Type": "application/json"}, json.dumps(body).encode()

    return respond


def oauth(url: str, **extra: Any) -> dict[str, Any]:
    return {"OAuthParameters": {"AuthorizationEndpoint": f"{url}/token", "HttpMethod": "POST",
                                "ClientParameters": {"ClientID": "client", "ClientSecret": "hush"}, **extra}}


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    with ExitStack() as stack:
        yield lambda **kwargs: stack.enter_context(receiver(**kwargs))


@pytest.fixture
def idle(emulator_url: Any, provider: Any) -> Callable[[], None]:
    return lambda: emulator_url.app.registry.delivery.wait_idle()


# ----------------------------------------------------------------------------------------- create

@pytest.mark.parametrize(("kind", "auth", "shown"), [
    ("API_KEY", API_KEY, {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key"}}),
    ("BASIC", BASIC, {"BasicAuthParameters": {"Username": "user"}}),
])
def test_api_key_and_basic_connections_are_authorized_at_once_and_hide_their_secrets(
        events: Any, kind: str, auth: dict[str, Any], shown: dict[str, Any]) -> None:
    created = events.create_connection(Name="c", AuthorizationType=kind,
                                       AuthParameters={**auth, "InvocationHttpParameters": HTTP})
    assert re.fullmatch(rf"arn:aws:events:{REGION}:{ACCOUNT}:connection/c/[0-9a-f-]{{36}}", created["ConnectionArn"])
    assert created["ConnectionState"] == "AUTHORIZED"
    described = events.describe_connection(Name="c")
    assert described["ConnectionState"] == "AUTHORIZED"
    assert described["AuthorizationType"] == kind
    assert described["LastAuthorizedTime"] == described["CreationTime"]
    assert re.fullmatch(rf"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:events!connection/c/[0-9a-f-]{{36}}"
                        r"-[A-Za-z0-9]{6}", described["SecretArn"])
    assert described["AuthParameters"] == {**shown, "InvocationHttpParameters": {
        "HeaderParameters": [{"Key": "x-open", "Value": "v1", "IsValueSecret": False},
                             {"Key": "x-hidden", "IsValueSecret": True}],
        "QueryStringParameters": [{"Key": "q", "IsValueSecret": True}]}}


def test_an_oauth_connection_authorizes_with_a_token_from_its_endpoint(events: Any, idle: Callable[[], None],
                                                                       make_receiver: Callable[..., Receiver]) -> None:
    endpoint = make_receiver(respond=token_endpoint())
    auth = oauth(endpoint.url, OAuthHttpParameters={
        "BodyParameters": [{"Key": "grant_type", "Value": "client_credentials", "IsValueSecret": False}],
        "QueryStringParameters": [{"Key": "audience", "Value": "api", "IsValueSecret": False}]})
    created = events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=auth)
    assert created["ConnectionState"] == "AUTHORIZING"
    request = endpoint.wait_for(1)[0]
    idle()
    assert request.method == "POST" and request.path == "/token?audience=api"
    assert request.headers["authorization"] == "Basic Y2xpZW50Omh1c2g="  # client:hush
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(request.body.decode()) == [("grant_type", "client_credentials")]
    described = events.describe_connection(Name="o")
    assert described["ConnectionState"] == "AUTHORIZED"
    assert "LastAuthorizedTime" in described
    assert described["AuthParameters"]["OAuthParameters"] == {
        "AuthorizationEndpoint": f"{endpoint.url}/token", "HttpMethod": "POST",
        "ClientParameters": {"ClientID": "client"},
        "OAuthHttpParameters": {"BodyParameters": [{"Key": "grant_type", "Value": "client_credentials",
                                                    "IsValueSecret": False}],
                                "QueryStringParameters": [{"Key": "audience", "Value": "api", "IsValueSecret": False}]}}


@pytest.mark.parametrize("status", [400, 401, 500])
def test_an_oauth_connection_whose_endpoint_refuses_is_deauthorized(events: Any, idle: Callable[[], None],
                                                                    make_receiver: Callable[..., Receiver],
                                                                    status: int) -> None:
    endpoint = make_receiver(respond=token_endpoint(status=status))
    events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=oauth(endpoint.url))
    endpoint.wait_for(1)
    idle()
    described = events.describe_connection(Name="o")
    assert described["ConnectionState"] == "DEAUTHORIZED"
    assert f"HTTP {status}" in described["StateReason"]
    assert "LastAuthorizedTime" not in described


# ----------------------------------------------------------------------------------------- update

def test_an_update_merges_the_parameters_of_the_same_type(events: Any) -> None:
    events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC, Description="old")
    answer = events.update_connection(Name="c", AuthParameters={"BasicAuthParameters": {"Password": "new"}})
    assert answer["ConnectionState"] == "AUTHORIZED"
    described = events.describe_connection(Name="c")
    assert described["AuthParameters"] == {"BasicAuthParameters": {"Username": "user"}}
    assert described["Description"] == "old"
    events.update_connection(Name="c", Description="new")
    assert events.describe_connection(Name="c")["Description"] == "new"


def test_an_update_can_change_the_authorization_type(events: Any) -> None:
    events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)
    events.update_connection(Name="c", AuthorizationType="API_KEY", AuthParameters=API_KEY)
    described = events.describe_connection(Name="c")
    assert described["AuthorizationType"] == "API_KEY"
    assert described["AuthParameters"] == {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key"}}


def test_deauthorize_removes_the_parameters_until_an_update_gives_new_ones(events: Any, raw_events: Any) -> None:
    events.create_connection(Name="c", AuthorizationType="API_KEY", AuthParameters=API_KEY)
    assert events.deauthorize_connection(Name="c")["ConnectionState"] == "DEAUTHORIZING"
    described = events.describe_connection(Name="c")
    assert described["ConnectionState"] == "DEAUTHORIZED"
    assert described["StateReason"]
    assert "SecretArn" not in described and described["AuthParameters"] == {}
    code, status, message = error_of(raw_events.update_connection, Name="c",
                                     AuthParameters={"ApiKeyAuthParameters": {"ApiKeyValue": "only-value"}})
    assert (code, status) == ("ValidationException", 400)
    assert "ApiKeyAuthParameters must be specified" in message
    events.update_connection(Name="c", AuthParameters=API_KEY)
    assert events.describe_connection(Name="c")["ConnectionState"] == "AUTHORIZED"


def test_a_deauthorized_connection_takes_a_new_description(events: Any) -> None:
    events.create_connection(Name="c", AuthorizationType="API_KEY", AuthParameters=API_KEY)
    events.deauthorize_connection(Name="c")
    assert events.update_connection(Name="c", Description="parked")["ConnectionState"] == "DEAUTHORIZED"
    assert events.describe_connection(Name="c")["Description"] == "parked"


def test_a_refused_update_changes_nothing(events: Any, raw_events: Any) -> None:
    events.create_connection(Name="c", AuthorizationType="API_KEY", AuthParameters=API_KEY, Description="kept")
    before = events.describe_connection(Name="c")
    before.pop("ResponseMetadata")
    code, _, message = error_of(raw_events.update_connection, Name="c", Description="lost", AuthParameters=BASIC)
    assert code == "ValidationException"
    assert message == ("Failed to update the connection(s). BasicAuthParameters is not valid for authorization "
                       "type API_KEY.")
    after = events.describe_connection(Name="c")
    after.pop("ResponseMetadata")
    assert after == before


def test_updating_an_oauth_connection_fetches_a_token_with_the_new_credentials(
        events: Any, idle: Callable[[], None], make_receiver: Callable[..., Receiver]) -> None:
    endpoint = make_receiver(respond=token_endpoint())
    events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=oauth(endpoint.url))
    endpoint.wait_for(1)
    idle()
    answer = events.update_connection(Name="o", AuthParameters={
        "OAuthParameters": {"ClientParameters": {"ClientID": "other", "ClientSecret": "new"}}})
    assert answer["ConnectionState"] == "AUTHORIZING"
    assert endpoint.wait_for(2)[1].headers["authorization"] == "Basic b3RoZXI6bmV3"  # other:new
    idle()
    described = events.describe_connection(Name="o")
    assert described["ConnectionState"] == "AUTHORIZED"
    assert described["AuthParameters"]["OAuthParameters"]["AuthorizationEndpoint"] == f"{endpoint.url}/token"


def test_delete_answers_deleting_and_the_connection_is_gone(events: Any, raw_events: Any) -> None:
    events.create_connection(Name="c", AuthorizationType="API_KEY", AuthParameters=API_KEY)
    assert events.delete_connection(Name="c")["ConnectionState"] == "DELETING"
    assert error_of(raw_events.describe_connection, Name="c") == (
        "ResourceNotFoundException", 400, "Failed to describe the connection(s). Connection 'c' does not exist.")


# ----------------------------------------------------------------------------------------- list

def test_list_connections_filters_by_prefix_and_state_and_pages(events: Any) -> None:
    for name in ("a-1", "a-2", "a-3", "b-1"):
        events.create_connection(Name=name, AuthorizationType="API_KEY", AuthParameters=API_KEY)
    events.deauthorize_connection(Name="a-2")
    assert [c["Name"] for c in events.list_connections(NamePrefix="a-")["Connections"]] == ["a-1", "a-2", "a-3"]
    assert [c["Name"] for c in events.list_connections(ConnectionState="DEAUTHORIZED")["Connections"]] == ["a-2"]
    first = events.list_connections(Limit=3)
    assert [c["Name"] for c in first["Connections"]] == ["a-1", "a-2", "a-3"]
    rest = events.list_connections(Limit=3, NextToken=first["NextToken"])
    assert [c["Name"] for c in rest["Connections"]] == ["b-1"] and "NextToken" not in rest
    entry = first["Connections"][0]
    assert set(entry) == {"ConnectionArn", "Name", "ConnectionState", "AuthorizationType", "CreationTime",
                          "LastModifiedTime", "LastAuthorizedTime"}


def test_connections_are_per_account(events: Any, aws_client: Any) -> None:
    events.create_connection(Name="c", AuthorizationType="API_KEY", AuthParameters=API_KEY)
    other = aws_client("events", account="111111111111")
    assert other.list_connections()["Connections"] == []


# ----------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize(("params", "message"), [
    ({"AuthorizationType": "API_KEY", "AuthParameters": BASIC},
     "Failed to create the connection(s). BasicAuthParameters is not valid for authorization type API_KEY."),
    ({"AuthorizationType": "BASIC", "AuthParameters": {}},
     "Failed to create the connection(s). BasicAuthParameters must be specified for authorization type BASIC."),
    ({"AuthorizationType": "OAUTH_CLIENT_CREDENTIALS", "AuthParameters": {"OAuthParameters": {
        "AuthorizationEndpoint": "http://auth.example.com/token", "HttpMethod": "POST",
        "ClientParameters": {"ClientID": "a", "ClientSecret": "b"}}}},
     "Failed to create the connection(s). Parameter AuthorizationEndpoint is not valid. Reason: Endpoint "
     "'http://auth.example.com/token' is invalid, please provide a valid HTTPS endpoint URL."),
])
def test_create_connection_refuses_parameters_that_do_not_fit(raw_events: Any, params: dict[str, Any],
                                                             message: str) -> None:
    assert error_of(raw_events.create_connection, Name="c", **params) == ("ValidationException", 400, message)
    assert raw_events.list_connections()["Connections"] == []


def test_create_connection_refuses_a_name_taken(events: Any, raw_events: Any) -> None:
    events.create_connection(Name="c", AuthorizationType="API_KEY", AuthParameters=API_KEY)
    assert error_of(raw_events.create_connection, Name="c", AuthorizationType="BASIC", AuthParameters=BASIC) == (
        "ResourceAlreadyExistsException", 400, "Connection 'c' already exists.")


@pytest.mark.parametrize("operation", ["describe_connection", "update_connection", "delete_connection",
                                       "deauthorize_connection"])
def test_a_missing_connection_is_not_found(raw_events: Any, operation: str) -> None:
    assert error_of(getattr(raw_events, operation), Name="nope") == (
        "ResourceNotFoundException", 400, "Failed to describe the connection(s). Connection 'nope' does not exist.")


def test_the_model_checks_reach_the_server(raw_events: Any) -> None:
    code, status, _ = error_of(raw_events.create_connection, Name="bad name", AuthorizationType="API_KEY",
                               AuthParameters=API_KEY)
    assert (code, status) == ("ValidationException", 400)
