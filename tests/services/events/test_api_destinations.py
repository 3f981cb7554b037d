"""API destinations: create, describe, list, update, delete; the state that follows the connection; the
rate limit's bounds; and AWS's errors for bad input."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.services.events.conftest import ACCOUNT, REGION, error_of

API_KEY = {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cret"}}
ENDPOINT = "https://api.example.com/hooks/*"


def _connection(events: Any, name: str = "c") -> str:
    return events.create_connection(Name=name, AuthorizationType="API_KEY", AuthParameters=API_KEY)["ConnectionArn"]


def test_create_and_describe_an_api_destination(events: Any) -> None:
    connection = _connection(events)
    created = events.create_api_destination(Name="d", ConnectionArn=connection, InvocationEndpoint=ENDPOINT,
                                            HttpMethod="POST", Description="hooks")
    assert re.fullmatch(rf"arn:aws:events:{REGION}:{ACCOUNT}:api-destination/d/[0-9a-f-]{{36}}",
                        created["ApiDestinationArn"])
    assert created["ApiDestinationState"] == "ACTIVE"
    described = events.describe_api_destination(Name="d")
    assert {key: described[key] for key in ("Name", "Description", "ConnectionArn", "InvocationEndpoint", "HttpMethod",
                                            "InvocationRateLimitPerSecond", "ApiDestinationState")} == {
        "Name": "d", "Description": "hooks", "ConnectionArn": connection, "InvocationEndpoint": ENDPOINT,
        "HttpMethod": "POST", "InvocationRateLimitPerSecond": 300, "ApiDestinationState": "ACTIVE"}
    assert described["CreationTime"] == described["LastModifiedTime"]


@pytest.mark.parametrize("change", ["deauthorize_connection", "delete_connection"])
def test_a_destination_is_inactive_once_its_connection_is_deauthorized_or_deleted(events: Any, change: str) -> None:
    connection = _connection(events)
    events.create_api_destination(Name="d", ConnectionArn=connection, InvocationEndpoint=ENDPOINT, HttpMethod="PUT")
    getattr(events, change)(Name="c")
    assert events.describe_api_destination(Name="d")["ApiDestinationState"] == "INACTIVE"


def test_a_connection_made_again_with_the_same_name_is_not_the_destinations(events: Any) -> None:
    connection = _connection(events)
    events.create_api_destination(Name="d", ConnectionArn=connection, InvocationEndpoint=ENDPOINT, HttpMethod="PUT")
    events.delete_connection(Name="c")
    _connection(events)
    assert events.describe_api_destination(Name="d")["ApiDestinationState"] == "INACTIVE"


def test_update_changes_only_what_it_is_given(events: Any) -> None:
    first, second = _connection(events, "c1"), _connection(events, "c2")
    events.create_api_destination(Name="d", ConnectionArn=first, InvocationEndpoint=ENDPOINT, HttpMethod="POST",
                                  InvocationRateLimitPerSecond=10)
    answer = events.update_api_destination(Name="d", ConnectionArn=second, HttpMethod="PATCH")
    assert answer["ApiDestinationState"] == "ACTIVE"
    described = events.describe_api_destination(Name="d")
    assert (described["ConnectionArn"], described["HttpMethod"], described["InvocationEndpoint"],
            described["InvocationRateLimitPerSecond"]) == (second, "PATCH", ENDPOINT, 10)
    events.update_api_destination(Name="d", InvocationRateLimitPerSecond=300, InvocationEndpoint="https://b.example/x")
    described = events.describe_api_destination(Name="d")
    assert (described["InvocationRateLimitPerSecond"], described["InvocationEndpoint"]) == (300, "https://b.example/x")


def test_list_api_destinations_filters_and_pages(events: Any, raw_events: Any) -> None:
    first, second = _connection(events, "c1"), _connection(events, "c2")
    for name, connection in (("a-1", first), ("a-2", second), ("b-1", first)):
        events.create_api_destination(Name=name, ConnectionArn=connection, InvocationEndpoint=ENDPOINT,
                                      HttpMethod="GET")
    assert [d["Name"] for d in events.list_api_destinations(NamePrefix="a-")["ApiDestinations"]] == ["a-1", "a-2"]
    assert [d["Name"] for d in events.list_api_destinations(ConnectionArn=first)["ApiDestinations"]] == ["a-1", "b-1"]
    page = events.list_api_destinations(Limit=2)
    assert [d["Name"] for d in page["ApiDestinations"]] == ["a-1", "a-2"]
    assert [d["Name"] for d in events.list_api_destinations(NextToken=page["NextToken"])["ApiDestinations"]] == ["b-1"]
    assert error_of(raw_events.list_api_destinations, NamePrefix="a", ConnectionArn=first) == (
        "ValidationException", 400, "Failed to list the api-destination(s). Request failed because only one filter "
        "is supported per request, either ConnectionArn or NamePrefix.")
    assert error_of(raw_events.list_api_destinations, NextToken="bogus")[0] == "ValidationException"


def test_delete_removes_the_destination(events: Any, raw_events: Any) -> None:
    events.create_api_destination(Name="d", ConnectionArn=_connection(events), InvocationEndpoint=ENDPOINT,
                                  HttpMethod="POST")
    events.delete_api_destination(Name="d")
    assert events.list_api_destinations()["ApiDestinations"] == []
    assert error_of(raw_events.delete_api_destination, Name="d") == (
        "ResourceNotFoundException", 400,
        "Failed to delete the api-destination(s). An api-destination 'd' does not exist.")


@pytest.mark.parametrize(("operation", "verb"), [("describe_api_destination", "describe"),
                                                 ("update_api_destination", "update"),
                                                 ("delete_api_destination", "delete")])
def test_a_missing_destination_is_not_found(raw_events: Any, operation: str, verb: str) -> None:
    assert error_of(getattr(raw_events, operation), Name="nope") == (
        "ResourceNotFoundException", 400,
        f"Failed to {verb} the api-destination(s). An api-destination 'nope' does not exist.")


@pytest.mark.parametrize("endpoint", ["http://api.example.com/x", "https://*.example.com/x", "https://u:p@a.example/x",
                                      "https:///x"])
def test_an_endpoint_that_is_not_https_is_refused(events: Any, raw_events: Any, endpoint: str) -> None:
    connection = _connection(events)
    assert error_of(raw_events.create_api_destination, Name="d", ConnectionArn=connection,
                    InvocationEndpoint=endpoint, HttpMethod="POST") == (
        "ValidationException", 400,
        f"Failed to create the api-destination(s). Parameter InvocationEndpoint is not valid. Reason: Endpoint "
        f"'{endpoint}' is invalid, please provide a valid HTTPS endpoint URL.")


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8080/x", "http://localhost/x",
                                      "api.example.com/no-scheme"])
def test_loopback_http_and_schemeless_endpoints_are_accepted(events: Any, endpoint: str) -> None:
    connection = _connection(events)
    events.create_api_destination(Name="d", ConnectionArn=connection, InvocationEndpoint=endpoint, HttpMethod="POST")
    assert events.describe_api_destination(Name="d")["InvocationEndpoint"] == endpoint


@pytest.mark.parametrize(("rate", "code", "message"), [
    (301, "LimitExceededException", "Failed to create the api-destination(s). Invalid Invocation Rate Limit: Rate "
                                    "specified '301' for 'd' exceeds maximum allowed of '300'."),
    (0, "ValidationException", None),
])
def test_the_rate_limit_is_between_1_and_300(events: Any, raw_events: Any, rate: int, code: str,
                                             message: str | None) -> None:
    connection = _connection(events)
    found = error_of(raw_events.create_api_destination, Name="d", ConnectionArn=connection,
                     InvocationEndpoint=ENDPOINT, HttpMethod="POST", InvocationRateLimitPerSecond=rate)
    assert found[:2] == (code, 400)
    if message:
        assert found[2] == message


def test_create_refuses_a_missing_connection_and_a_taken_name(events: Any, raw_events: Any) -> None:
    connection = _connection(events)
    missing = connection.replace("connection/c/", "connection/other/")
    assert error_of(raw_events.create_api_destination, Name="d", ConnectionArn=missing, InvocationEndpoint=ENDPOINT,
                    HttpMethod="POST") == (
        "ResourceNotFoundException", 400, f"Failed to create the api-destination(s). Connection '{missing}' does not "
        "exist.")
    events.create_api_destination(Name="d", ConnectionArn=connection, InvocationEndpoint=ENDPOINT, HttpMethod="POST")
    assert error_of(raw_events.create_api_destination, Name="d", ConnectionArn=connection,
                    InvocationEndpoint=ENDPOINT, HttpMethod="POST") == (
        "ResourceAlreadyExistsException", 400,
        "Failed to create the api-destination(s). An api-destination with name 'd' already exists.")


def test_update_refuses_a_missing_connection_and_a_rate_too_high(events: Any, raw_events: Any) -> None:
    connection = _connection(events)
    events.create_api_destination(Name="d", ConnectionArn=connection, InvocationEndpoint=ENDPOINT, HttpMethod="POST")
    missing = connection[:-4] + "0000"
    assert error_of(raw_events.update_api_destination, Name="d", ConnectionArn=missing)[:2] == (
        "ResourceNotFoundException", 400)
    assert error_of(raw_events.update_api_destination, Name="d", InvocationRateLimitPerSecond=1000)[:2] == (
        "LimitExceededException", 400)
    assert events.describe_api_destination(Name="d")["ConnectionArn"] == connection
