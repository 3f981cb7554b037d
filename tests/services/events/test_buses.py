"""Event buses over the wire: create, describe, list, update and delete, with AWS's errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.services.events.models import Rule
from emulator.testing import admin
from tests.services.events.conftest import ACCOUNT, REGION, bus_arn


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def add_rule(provider: Any, bus: str, name: str = "r1") -> None:
    """A rule on ``bus``, put straight into the store (PutRule belongs to rules.py)."""
    store = provider._stores.get(ACCOUNT, REGION)
    with store.lock:
        store.buses[bus].rules[name] = Rule(name, store.rule_arn(bus, name), bus)


def test_the_default_bus_exists_in_every_account_and_region(aws_client) -> None:
    for account, region in (("111122223333", "eu-west-1"), ("444455556666", "ap-southeast-2")):
        described = aws_client("events", account=account, region=region).describe_event_bus()
        assert (described["Name"], described["Arn"]) == (
            "default", f"arn:aws:events:{region}:{account}:event-bus/default"
        )


def test_create_event_bus_answers_its_arn_and_settings_and_describe_shows_them(events) -> None:
    created = events.create_event_bus(
        Name="orders",
        Description="order events",
        KmsKeyIdentifier="alias/orders",
        DeadLetterConfig={"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"},
        Tags=[{"Key": "team", "Value": "shop"}],
    )
    assert created["EventBusArn"] == bus_arn("orders")
    assert created["Description"] == "order events"
    assert created["KmsKeyIdentifier"] == "alias/orders"
    assert created["DeadLetterConfig"] == {"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"}

    described = events.describe_event_bus(Name="orders")
    assert described["Name"] == "orders"
    assert described["Arn"] == bus_arn("orders")
    assert described["Description"] == "order events"
    assert described["KmsKeyIdentifier"] == "alias/orders"
    assert described["DeadLetterConfig"] == {"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"}
    assert "Policy" not in described
    assert described["CreationTime"] == described["LastModifiedTime"]
    assert events.list_tags_for_resource(ResourceARN=bus_arn("orders"))["Tags"] == [
        {"Key": "team", "Value": "shop"}
    ]


def test_a_bus_without_settings_answers_none_of_them(events) -> None:
    assert set(events.create_event_bus(Name="plain")) - {"ResponseMetadata"} == {"EventBusArn"}
    described = events.describe_event_bus(Name="plain")
    assert set(described) - {"ResponseMetadata"} == {"Name", "Arn", "CreationTime", "LastModifiedTime"}


def test_describe_event_bus_takes_a_name_or_an_arn(events) -> None:
    events.create_event_bus(Name="by-arn")
    assert events.describe_event_bus(Name=bus_arn("by-arn"))["Name"] == "by-arn"


@pytest.mark.parametrize(
    ("name", "source", "code", "message"),
    [
        ("default", None, "ResourceAlreadyExistsException", "Event bus default already exists."),
        ("aws.partner/acme.com/123/feed", None, "ValidationException",
         "EventBus name starting with 'aws.' is not valid."),
        ("aws.custom", None, "ValidationException", "EventBus name starting with 'aws.' is not valid."),
        ("team/orders", None, "ValidationException", "Event bus name must not contain '/'."),
        ("aws.partner/acme.com/123/feed", "aws.partner/acme.com/123/feed", "ResourceNotFoundException",
         "Event source aws.partner/acme.com/123/feed does not exist."),
    ],
)
def test_create_event_bus_rejects_names_aws_keeps(raw_events, name, source, code, message) -> None:
    arguments = {"Name": name} | ({"EventSourceName": source} if source else {})
    with pytest.raises(ClientError) as caught:
        raw_events.create_event_bus(**arguments)
    assert error_of(caught) == (code, message, 400)
    assert [bus["Name"] for bus in raw_events.list_event_buses()["EventBuses"]] == ["default"]


def test_create_event_bus_twice_answers_already_exists(events) -> None:
    events.create_event_bus(Name="twice")
    with pytest.raises(ClientError) as caught:
        events.create_event_bus(Name="twice")
    assert error_of(caught) == ("ResourceAlreadyExistsException", "Event bus twice already exists.", 400)


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"Name": "bad name!"}, "at 'name' failed to satisfy constraint: Member must satisfy regular expression"),
        ({"Name": "x" * 257}, "at 'name' failed to satisfy constraint: Member must have length less than or equal"),
        ({"Name": "d", "Description": "x" * 513}, "at 'description' failed to satisfy constraint"),
    ],
)
def test_create_event_bus_validates_its_members_as_the_model_says(raw_events, arguments, fragment) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.create_event_bus(**arguments)
    code, message, status = error_of(caught)
    assert (code, status) == ("ValidationException", 400)
    assert fragment in message


def test_an_account_holds_at_most_100_buses_counting_the_default(events) -> None:
    for index in range(99):
        events.create_event_bus(Name=f"bus-{index:02d}")
    with pytest.raises(ClientError) as caught:
        events.create_event_bus(Name="one-too-many")
    assert error_of(caught) == (
        "LimitExceededException", "The requested resource exceeds the maximum number allowed.", 400
    )
    events.delete_event_bus(Name="bus-00")
    events.create_event_bus(Name="fits-again")


@pytest.mark.parametrize("name", ["missing", bus_arn("missing")])
def test_describe_event_bus_of_a_missing_bus_is_not_found(raw_events, name) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.describe_event_bus(Name=name)
    assert error_of(caught) == ("ResourceNotFoundException", "Event bus missing does not exist.", 400)


def test_describe_event_bus_does_not_reach_another_accounts_bus(aws_client) -> None:
    aws_client("events", account="111122223333").create_event_bus(Name="theirs")
    with pytest.raises(ClientError) as caught:
        aws_client("events").describe_event_bus(Name=bus_arn("theirs", account="111122223333"))
    assert error_of(caught) == ("ResourceNotFoundException", "Event bus theirs does not exist.", 400)


def test_list_event_buses_sorts_filters_by_prefix_and_pages(events) -> None:
    for name in ("team-c", "team-a", "other", "team-b"):
        events.create_event_bus(Name=name, Description=f"{name} bus")
    listed = events.list_event_buses()["EventBuses"]
    assert [bus["Name"] for bus in listed] == ["default", "other", "team-a", "team-b", "team-c"]
    assert listed[2]["Description"] == "team-a bus"
    assert set(listed[2]) == {"Name", "Arn", "Description", "CreationTime", "LastModifiedTime"}

    first = events.list_event_buses(NamePrefix="team-", Limit=2)
    assert [bus["Name"] for bus in first["EventBuses"]] == ["team-a", "team-b"]
    second = events.list_event_buses(NamePrefix="team-", Limit=2, NextToken=first["NextToken"])
    assert [bus["Name"] for bus in second["EventBuses"]] == ["team-c"]
    assert "NextToken" not in second


def test_list_event_buses_shows_a_buss_policy(events) -> None:
    events.put_permission(Action="events:PutEvents", Principal="111122223333", StatementId="s1")
    default = events.list_event_buses(NamePrefix="default")["EventBuses"][0]
    assert default["Policy"] == events.describe_event_bus()["Policy"]


def test_update_event_bus_replaces_the_settings_and_moves_last_modified(events, emulator_url) -> None:
    events.create_event_bus(Name="upd", Description="old", KmsKeyIdentifier="alias/old")
    before = events.describe_event_bus(Name="upd")
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": 60})
    updated = events.update_event_bus(
        Name="upd", Description="new", LogConfig={"IncludeDetail": "FULL", "Level": "INFO"}
    )
    assert updated["Arn"] == bus_arn("upd")
    assert updated["Name"] == "upd"
    assert updated["Description"] == "new"
    assert updated["LogConfig"] == {"IncludeDetail": "FULL", "Level": "INFO"}
    assert "KmsKeyIdentifier" not in updated  # left out: back to an AWS owned key

    after = events.describe_event_bus(Name="upd")
    assert after["Description"] == "new"
    assert after["LogConfig"] == {"IncludeDetail": "FULL", "Level": "INFO"}
    assert "KmsKeyIdentifier" not in after
    assert after["CreationTime"] == before["CreationTime"]
    assert (after["LastModifiedTime"] - before["LastModifiedTime"]).total_seconds() >= 60


def test_update_event_bus_without_a_name_updates_the_default_bus(events) -> None:
    events.update_event_bus(KmsKeyIdentifier="alias/mine")
    assert events.describe_event_bus()["KmsKeyIdentifier"] == "alias/mine"


def test_update_event_bus_of_a_missing_bus_is_not_found(raw_events) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.update_event_bus(Name="missing", Description="x")
    assert error_of(caught) == ("ResourceNotFoundException", "Event bus missing does not exist.", 400)


def test_delete_event_bus_removes_it_with_its_tags(events) -> None:
    events.create_event_bus(Name="gone", Tags=[{"Key": "k", "Value": "v"}])
    events.delete_event_bus(Name="gone")
    assert [bus["Name"] for bus in events.list_event_buses()["EventBuses"]] == ["default"]
    events.create_event_bus(Name="gone")
    assert events.list_tags_for_resource(ResourceARN=bus_arn("gone"))["Tags"] == []


def test_delete_event_bus_of_a_missing_bus_succeeds(events) -> None:
    events.delete_event_bus(Name="never-was")


def test_the_default_bus_cannot_be_deleted(raw_events) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.delete_event_bus(Name="default")
    assert error_of(caught) == ("ValidationException", "Cannot delete event bus default.", 400)
    assert raw_events.describe_event_bus()["Name"] == "default"


def test_a_bus_with_rules_cannot_be_deleted(events, provider) -> None:
    events.create_event_bus(Name="busy")
    add_rule(provider, "busy")
    with pytest.raises(ClientError) as caught:
        events.delete_event_bus(Name="busy")
    assert error_of(caught) == ("ValidationException", "EventBus can't be deleted since it has rules.", 400)
    assert events.describe_event_bus(Name="busy")["Name"] == "busy"
