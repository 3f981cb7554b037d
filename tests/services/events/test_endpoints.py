"""Global endpoints over the wire: their life cycle on the emulator's clock, AWS's checks, and PutEvents
through an EndpointId (to the primary Region's bus, replicated to the secondary's)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.services.events.endpoints import TRANSITION_SECONDS
from emulator.testing import admin
from tests.services.events.conftest import ACCOUNT, bus_arn, error_of

HOME, SECONDARY = "us-east-1", "us-west-2"
HEALTH_CHECK = "arn:aws:route53:::healthcheck/0123-abcd"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/replication"
ROUTING = {"FailoverConfig": {"Primary": {"HealthCheck": HEALTH_CHECK}, "Secondary": {"Route": SECONDARY}}}
BUSES = [{"EventBusArn": bus_arn("orders", region=HOME)}, {"EventBusArn": bus_arn("orders", region=SECONDARY)}]
QUEUE = f"arn:aws:sqs:{HOME}:{ACCOUNT}:q"


def _create(events: Any, name: str = "ep", **extra: Any) -> dict[str, Any]:
    arguments = {"Name": name, "RoutingConfig": ROUTING, "EventBuses": BUSES, "RoleArn": ROLE} | extra
    return events.create_endpoint(**arguments)


def _advance(url: str, seconds: float = TRANSITION_SECONDS) -> None:
    admin(url, "/_emulator/clock", "POST", {"advance": seconds})


def test_create_endpoint_answers_creating_then_describe_shows_it_active_once_the_clock_moves(
    events: Any, emulator_url: str
) -> None:
    created = _create(events, Description="orders everywhere")
    assert {key: value for key, value in created.items() if key != "ResponseMetadata"} == {
        "Name": "ep",
        "Arn": f"arn:aws:events:{HOME}:{ACCOUNT}:endpoint/ep",
        "RoutingConfig": ROUTING,
        "ReplicationConfig": {"State": "ENABLED"},
        "EventBuses": BUSES,
        "RoleArn": ROLE,
        "State": "CREATING",
    }
    assert events.describe_endpoint(Name="ep")["State"] == "CREATING"
    _advance(emulator_url)
    described = events.describe_endpoint(Name="ep")
    assert described["State"] == "ACTIVE"
    assert described["Description"] == "orders everywhere"
    endpoint_id = described["EndpointId"]
    label, suffix = endpoint_id.split(".")
    assert suffix == "veo" and label.isalnum()
    assert described["EndpointUrl"] == f"https://{endpoint_id}.endpoint.events.amazonaws.com"
    assert described["CreationTime"] == described["LastModifiedTime"]


def test_describe_and_list_find_an_endpoint_by_its_home_region_from_another(aws_client: Any) -> None:
    _create(aws_client("events", region=HOME))
    elsewhere = aws_client("events", region=SECONDARY)
    assert elsewhere.list_endpoints()["Endpoints"] == []
    assert elsewhere.describe_endpoint(Name="ep", HomeRegion=HOME)["Name"] == "ep"
    assert [e["Name"] for e in elsewhere.list_endpoints(HomeRegion=HOME)["Endpoints"]] == ["ep"]


def test_list_endpoints_filters_by_prefix_and_pages(events: Any) -> None:
    for name in ("b-two", "a-one", "b-one", "b-three"):
        _create(events, name)
    assert [e["Name"] for e in events.list_endpoints()["Endpoints"]] == ["a-one", "b-one", "b-three", "b-two"]
    first = events.list_endpoints(NamePrefix="b-", MaxResults=2)
    assert [e["Name"] for e in first["Endpoints"]] == ["b-one", "b-three"]
    second = events.list_endpoints(NamePrefix="b-", MaxResults=2, NextToken=first["NextToken"])
    assert [e["Name"] for e in second["Endpoints"]] == ["b-two"] and "NextToken" not in second


def test_update_endpoint_changes_what_it_is_given_and_is_updating_until_the_clock_moves(
    events: Any, emulator_url: str
) -> None:
    _create(events, Description="kept")
    _advance(emulator_url)
    updated = events.update_endpoint(Name="ep", ReplicationConfig={"State": "DISABLED"})
    assert updated["State"] == "UPDATING" and updated["ReplicationConfig"] == {"State": "DISABLED"}
    assert updated["EndpointId"] == events.describe_endpoint(Name="ep")["EndpointId"]
    described = events.describe_endpoint(Name="ep")
    assert described["State"] == "UPDATING" and described["Description"] == "kept"
    assert described["LastModifiedTime"] > described["CreationTime"]
    _advance(emulator_url)
    assert events.describe_endpoint(Name="ep")["State"] == "ACTIVE"


def test_delete_endpoint_is_deleting_then_gone(events: Any, emulator_url: str) -> None:
    _create(events)
    _advance(emulator_url)
    events.delete_endpoint(Name="ep")
    assert events.describe_endpoint(Name="ep")["State"] == "DELETING"
    _advance(emulator_url)
    assert error_of(events.describe_endpoint, Name="ep") == (
        "ResourceNotFoundException", 400, "Endpoint ep does not exist.")
    assert events.list_endpoints()["Endpoints"] == []


@pytest.mark.parametrize("operation", ["update_endpoint", "delete_endpoint"])
def test_an_endpoint_that_is_not_active_refuses_changes(events: Any, operation: str) -> None:
    _create(events)
    code, status, message = error_of(getattr(events, operation), Name="ep")
    assert (code, status) == ("ConcurrentModificationException", 400)
    assert "CREATING" in message


@pytest.mark.parametrize("operation", ["describe_endpoint", "update_endpoint", "delete_endpoint"])
def test_a_missing_endpoint_is_not_found(events: Any, operation: str) -> None:
    assert error_of(getattr(events, operation), Name="nope") == (
        "ResourceNotFoundException", 400, "Endpoint nope does not exist.")


def test_create_endpoint_twice_answers_already_exists(events: Any) -> None:
    _create(events)
    assert error_of(_create, events=events) == ("ResourceAlreadyExistsException", 400, "Endpoint ep already exists.")


def test_the_hundred_and_first_endpoint_exceeds_the_quota(events: Any) -> None:
    for index in range(100):
        _create(events, f"ep{index:03}")
    code, status, _ = error_of(_create, events=events, name="one-more")
    assert (code, status) == ("LimitExceededException", 400)


def _buses(*arns: str) -> list[dict[str, str]]:
    return [{"EventBusArn": arn} for arn in arns]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"EventBuses": _buses(bus_arn("orders", region=HOME), bus_arn("other", region=SECONDARY))},
         "same name"),
        ({"EventBuses": _buses(bus_arn("orders", region=HOME), bus_arn("orders", region="eu-west-1"))},
         "secondary Region (us-west-2)"),
        ({"EventBuses": _buses(bus_arn("orders", region=HOME), bus_arn("orders", region=HOME))},
         "secondary Region (us-west-2)"),
        ({"EventBuses": _buses(bus_arn("orders", region=HOME),
                               bus_arn("orders", account="111111111111", region=SECONDARY))},
         "belong to the account"),
        ({"RoutingConfig": {"FailoverConfig": {"Primary": {"HealthCheck": HEALTH_CHECK},
                                               "Secondary": {"Route": HOME}}}},
         "must differ"),
        ({"RoleArn": None}, "RoleArn is required"),
    ],
)
def test_create_endpoint_checks_its_buses_regions_and_role(raw_events: Any, changes: dict[str, Any],
                                                          fragment: str) -> None:
    arguments = {"Name": "ep", "RoutingConfig": ROUTING, "EventBuses": BUSES, "RoleArn": ROLE} | changes
    arguments = {key: value for key, value in arguments.items() if value is not None}
    code, status, message = error_of(raw_events.create_endpoint, **arguments)
    assert (code, status) == ("ValidationException", 400) and fragment in message
    assert raw_events.list_endpoints()["Endpoints"] == []


def test_replication_disabled_needs_no_role(events: Any) -> None:
    created = events.create_endpoint(Name="ep", RoutingConfig=ROUTING, EventBuses=BUSES,
                                     ReplicationConfig={"State": "DISABLED"})
    assert created["ReplicationConfig"] == {"State": "DISABLED"} and "RoleArn" not in created


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"Name": "bad name!", "RoutingConfig": ROUTING, "EventBuses": BUSES}, "at 'name'"),
        ({"Name": "ep", "RoutingConfig": ROUTING, "EventBuses": BUSES[:1]}, "at 'eventBuses'"),
        ({"Name": "ep", "RoutingConfig": {"FailoverConfig": {"Primary": {"HealthCheck": "not-an-arn"},
                                                             "Secondary": {"Route": SECONDARY}}},
          "EventBuses": BUSES}, "primary.healthCheck'"),
    ],
)
def test_create_endpoint_refuses_what_the_model_refuses(raw_events: Any, arguments: dict[str, Any],
                                                        fragment: str) -> None:
    code, status, message = error_of(raw_events.create_endpoint, **arguments)
    assert (code, status) == ("ValidationException", 400) and fragment in message


# --- PutEvents through an endpoint -------------------------------------------------------------------


def _record_rule(client: Any) -> None:
    """A bus ``orders`` whose rule sends my.app events to a (recorded) SQS queue."""
    client.create_event_bus(Name="orders")
    client.put_rule(Name="all", EventBusName="orders", EventPattern=json.dumps({"source": ["my.app"]}))
    client.put_targets(Rule="all", EventBusName="orders", Targets=[{"Id": "q", "Arn": QUEUE}])


def _recorded(url: Any, region: str) -> list[dict[str, Any]]:
    url.app.registry.delivery.wait_idle()
    path = f"/_emulator/events/deliveries?account={ACCOUNT}&region={region}&targetArn={QUEUE}"
    return [json.loads(entry["payload"]["input"]) for entry in admin(url, path)["deliveries"]]


def _put_events(url: str, endpoint_id: str, entries: list[dict[str, Any]], sigv4a: bool) -> tuple[int, Any]:
    """PutEvents with an EndpointId over the socket. botocore signs these with SigV4a, which needs
    awscrt; the request is the same JSON, signed here with SigV4 or given SigV4a's header shape (its
    credential scope names no Region)."""
    body = json.dumps({"Entries": entries, "EndpointId": endpoint_id})
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.PutEvents"}
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=headers)
    if sigv4a:
        request.headers["X-Amz-Region-Set"] = "*"
        request.headers["Authorization"] = (
            f"AWS4-ECDSA-P256-SHA256 Credential={ACCOUNT}/20240101/events/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=3045"
        )
        request.headers["X-Amz-Date"] = "20240101T000000Z"
    else:
        SigV4Auth(Credentials(ACCOUNT, "secret"), "events", SECONDARY).add_auth(request)
    sent = urllib.request.Request(url + "/", data=body.encode(), headers=dict(request.headers), method="POST")
    try:
        with urllib.request.urlopen(sent, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


GOOD = {"Source": "my.app", "DetailType": "order", "Detail": json.dumps({"n": 1}), "EventBusName": "orders"}


@pytest.mark.parametrize("sigv4a", [False, True], ids=["sigv4", "sigv4a-shaped"])
@pytest.mark.parametrize(("replication", "replicated"), [("ENABLED", True), ("DISABLED", False)])
def test_put_events_through_an_endpoint_reaches_the_primary_bus_and_the_replica(
    aws_client: Any, emulator_url: Any, provider: Any, sigv4a: bool, replication: str, replicated: bool
) -> None:
    primary, secondary = aws_client("events", region=HOME), aws_client("events", region=SECONDARY)
    _record_rule(primary)
    _record_rule(secondary)
    _create(primary, ReplicationConfig={"State": replication})
    _advance(emulator_url)
    endpoint_id = primary.describe_endpoint(Name="ep")["EndpointId"]

    status, answer = _put_events(emulator_url, endpoint_id, [GOOD], sigv4a)
    assert status == 200 and answer["FailedEntryCount"] == 0
    event_id = answer["Entries"][0]["EventId"]
    (event,) = _recorded(emulator_url, HOME)
    assert (event["id"], event["region"], event["account"]) == (event_id, HOME, ACCOUNT)
    assert [e["id"] for e in _recorded(emulator_url, SECONDARY)] == ([event_id] if replicated else [])


def test_put_events_through_an_unknown_or_creating_endpoint_is_not_found(events: Any, emulator_url: str) -> None:
    _record_rule(events)
    status, answer = _put_events(emulator_url, "nothere123.veo", [GOOD], sigv4a=False)
    assert (status, answer["__type"]) == (400, "ResourceNotFoundException")
    assert answer["message"] == "Endpoint with id nothere123.veo does not exist."
    _create(events)
    endpoint_id = events.describe_endpoint(Name="ep")["EndpointId"]
    status, answer = _put_events(emulator_url, endpoint_id, [GOOD], sigv4a=False)
    assert (status, answer["__type"]) == (400, "ResourceNotFoundException")
    assert _recorded(emulator_url, HOME) == []
