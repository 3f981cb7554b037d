"""Bus policies: PutPermission and RemovePermission as DescribeEventBus shows them, and ``bus_allows``."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from emulator.services.events.buses import bus_allows
from emulator.services.events.models import EventBus
from emulator.testing import admin
from tests.services.events.conftest import ACCOUNT, REGION, bus_arn

OTHER = "111122223333"


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def policy_of(events, bus: str = "default") -> dict | None:
    text = events.describe_event_bus(Name=bus).get("Policy")
    return json.loads(text) if text is not None else None


@pytest.mark.parametrize("bus", ["default", "custom"])
def test_put_permission_writes_the_statements_aws_writes(events, bus) -> None:
    if bus != "default":
        events.create_event_bus(Name=bus)
    events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal=OTHER, StatementId="one")
    events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal="*", StatementId="everyone")
    events.put_permission(
        EventBusName=bus, Action="events:PutEvents", Principal="*", StatementId="org",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-abc123"},
    )
    resource = bus_arn(bus)
    text = events.describe_event_bus(Name=bus)["Policy"]
    assert text == json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "one", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
             "Action": "events:PutEvents", "Resource": resource},
            {"Sid": "everyone", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents",
             "Resource": resource},
            {"Sid": "org", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": resource,
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}},
        ],
    }, separators=(",", ":"))


def test_put_permission_with_a_known_statement_id_replaces_that_statement(events) -> None:
    events.put_permission(Action="events:PutEvents", Principal=OTHER, StatementId="s")
    events.put_permission(Action="events:PutEvents", Principal="*", StatementId="s")
    statements = policy_of(events)["Statement"]
    assert [(s["Sid"], s["Principal"]) for s in statements] == [("s", "*")]


def test_put_permission_with_a_policy_replaces_the_whole_policy(events) -> None:
    events.put_permission(Action="events:PutEvents", Principal=OTHER, StatementId="s")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "mine", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                       "Action": "events:ListRules", "Resource": "*"}],
    }
    events.put_permission(Policy=json.dumps(document, indent=2))
    assert events.describe_event_bus()["Policy"] == json.dumps(document, separators=(",", ":"))
    events.put_permission(Action="events:PutEvents", Principal=OTHER, StatementId="added")
    assert [s["Sid"] for s in policy_of(events)["Statement"]] == ["mine", "added"]


def test_put_permission_moves_last_modified(events, emulator_url) -> None:
    before = events.describe_event_bus()["LastModifiedTime"]
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": 30})
    events.put_permission(Action="events:PutEvents", Principal=OTHER, StatementId="s")
    assert (events.describe_event_bus()["LastModifiedTime"] - before).total_seconds() >= 30


def test_remove_permission_takes_out_one_statement_then_the_policy(events) -> None:
    events.put_permission(Action="events:PutEvents", Principal=OTHER, StatementId="a")
    events.put_permission(Action="events:PutEvents", Principal="*", StatementId="b")
    events.remove_permission(StatementId="a")
    assert [s["Sid"] for s in policy_of(events)["Statement"]] == ["b"]
    events.remove_permission(StatementId="b")
    assert policy_of(events) is None


def test_remove_all_permissions_drops_the_policy(events) -> None:
    events.create_event_bus(Name="shared")
    events.put_permission(EventBusName="shared", Action="events:PutEvents", Principal=OTHER, StatementId="a")
    events.remove_permission(EventBusName="shared", RemoveAllPermissions=True)
    assert "Policy" not in events.describe_event_bus(Name="shared")


@pytest.mark.parametrize("policy_exists", [True, False])
def test_remove_permission_of_an_unknown_statement_is_not_found(events, policy_exists) -> None:
    if policy_exists:
        events.put_permission(Action="events:PutEvents", Principal=OTHER, StatementId="a")
    with pytest.raises(ClientError) as caught:
        events.remove_permission(StatementId="nope")
    assert error_of(caught) == ("ResourceNotFoundException", "Statement with the provided id does not exist.", 400)


def test_remove_all_permissions_without_a_policy_is_not_found(events) -> None:
    with pytest.raises(ClientError) as caught:
        events.remove_permission(RemoveAllPermissions=True)
    assert error_of(caught) == ("ResourceNotFoundException", "EventBus does not have a policy.", 400)


@pytest.mark.parametrize("operation", ["put", "remove"])
def test_permissions_of_a_missing_bus_are_not_found(raw_events, operation) -> None:
    with pytest.raises(ClientError) as caught:
        if operation == "put":
            raw_events.put_permission(EventBusName="nope", Action="events:PutEvents", Principal="*", StatementId="s")
        else:
            raw_events.remove_permission(EventBusName="nope", StatementId="s")
    assert error_of(caught) == ("ResourceNotFoundException", "Event bus nope does not exist.", 400)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"Action": "events:PutRule", "Principal": OTHER, "StatementId": "s"},
         "Provided value in parameter 'action' is not supported."),
        ({"Principal": OTHER, "StatementId": "s"}, "Parameter(s) Action must be specified when Policy is not."),
        ({"Action": "events:PutEvents"},
         "Parameter(s) Principal, StatementId must be specified when Policy is not."),
        ({"Action": "events:PutEvents", "Principal": "*", "StatementId": "s",
          "Condition": {"Type": "StringLike", "Key": "aws:PrincipalOrgID", "Value": "o-1"}},
         "Provided value in parameter 'condition' is not supported: only Type StringEquals with Key "
         "aws:PrincipalOrgID is allowed."),
        ({"Policy": "{}", "StatementId": "s"},
         "Policy cannot be specified together with Action, Principal, StatementId or Condition."),
        ({"Policy": "not json"}, "The policy is not a valid JSON document."),
    ],
)
def test_put_permission_rejects_what_aws_rejects(raw_events, arguments, message) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.put_permission(**arguments)
    assert error_of(caught) == ("ValidationException", message, 400)
    assert "Policy" not in raw_events.describe_event_bus()


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"Action": "events:PutEvents", "Principal": "12345", "StatementId": "s"}, "at 'principal'"),
        ({"Action": "events:PutEvents", "Principal": "*", "StatementId": "bad id!"}, "at 'statementId'"),
        ({"Action": "events:PutEvents", "Principal": "*", "StatementId": "s" * 65}, "at 'statementId'"),
    ],
)
def test_put_permission_members_are_checked_against_the_model(raw_events, arguments, fragment) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.put_permission(**arguments)
    code, message, status = error_of(caught)
    assert (code, status) == ("ValidationException", 400)
    assert fragment in message


def test_a_policy_longer_than_10240_characters_is_refused(events) -> None:
    before = None
    with pytest.raises(ClientError) as caught:
        for index in range(200):  # about 150 characters a statement: the limit comes before the end
            events.put_permission(Action="events:PutEvents", Principal=f"{index:012d}", StatementId=f"s{index:03d}")
            before = events.describe_event_bus()["Policy"]
    code, _, status = error_of(caught)
    assert (code, status) == ("PolicyLengthExceededException", 400)
    assert events.describe_event_bus()["Policy"] == before
    assert len(before) <= 10_240


# --- bus_allows, as PutEvents asks it ---------------------------------------------------------------

ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/target"


def statement(**fields) -> dict:
    return {"Effect": "Allow", "Action": "events:PutEvents", "Resource": ARN} | fields


@pytest.mark.parametrize(
    ("statements", "sender", "org", "allowed"),
    [
        ([], ACCOUNT, None, True),  # the owner, with no policy at all
        ([], OTHER, None, False),
        ([statement(Principal={"AWS": f"arn:aws:iam::{OTHER}:root"})], OTHER, None, True),
        ([statement(Principal={"AWS": f"arn:aws:iam::{OTHER}:root"})], "999999999999", None, False),
        ([statement(Principal={"AWS": [OTHER, "222222222222"]})], "222222222222", None, True),
        ([statement(Principal="*")], OTHER, None, True),
        ([statement(Principal={"AWS": "*"})], OTHER, None, True),
        ([statement(Principal={"Service": "events.amazonaws.com"})], OTHER, None, False),
        ([statement(Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}})], OTHER, "o-1", True),
        ([statement(Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}})], OTHER, "o-2", False),
        ([statement(Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}})], OTHER, None, False),
        ([statement(Principal="*", Condition={"StringEquals": {"aws:SourceIp": "1.2.3.4"}})], OTHER, None, False),
        ([statement(Principal="*", Action="events:*")], OTHER, None, True),
        ([statement(Principal="*", Action="events:PutRule")], OTHER, None, False),
        ([statement(Principal="*", Resource="arn:aws:events:*:*:event-bus/*")], OTHER, None, True),
        ([statement(Principal="*", Resource=ARN + "-other")], OTHER, None, False),
        ([statement(Principal="*"), statement(Principal={"AWS": OTHER}, Effect="Deny")], OTHER, None, False),
    ],
)
def test_bus_allows_reads_the_bus_policy(statements, sender, org, allowed) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements}) if statements else None
    bus = EventBus("target", ARN, policy=policy)
    assert bus_allows(bus, sender, principal_org=org) is allowed


def test_bus_allows_sees_the_policy_put_permission_wrote(events, provider) -> None:
    events.create_event_bus(Name="target")
    events.put_permission(
        EventBusName="target", Action="events:PutEvents", Principal="*", StatementId="org",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1"},
    )
    store = provider._stores.get(ACCOUNT, REGION)
    with store.lock:
        bus = store.buses["target"]
    assert bus_allows(bus, OTHER, principal_org="o-1")
    assert not bus_allows(bus, OTHER)
