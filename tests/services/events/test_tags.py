"""Tags on buses and rules: TagResource, UntagResource and ListTagsForResource, with AWS's errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.services.events.models import Rule
from tests.services.events.conftest import ACCOUNT, REGION, bus_arn, rule_arn


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def add_rule(provider: Any, bus: str, name: str, managed_by: str | None = None) -> str:
    """A rule put straight into the store (PutRule belongs to rules.py); answers its ARN."""
    store = provider._stores.get(ACCOUNT, REGION)
    with store.lock:
        rule = Rule(name, store.rule_arn(bus, name), bus, managed_by=managed_by)
        store.buses[bus].rules[name] = rule
    return rule.arn


@pytest.fixture(params=["default-bus", "custom-bus", "rule-on-default", "rule-on-custom"])
def resource(request, events, provider) -> str:
    """The ARN of each kind of taggable resource."""
    if request.param == "default-bus":
        return bus_arn()
    events.create_event_bus(Name="custom")
    if request.param == "custom-bus":
        return bus_arn("custom")
    bus = "default" if request.param == "rule-on-default" else "custom"
    return add_rule(provider, bus, "r1")


def test_tag_list_untag_round_trip(events, resource) -> None:
    events.tag_resource(ResourceARN=resource, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    events.tag_resource(ResourceARN=resource, Tags=[{"Key": "a", "Value": "changed"}, {"Key": "c", "Value": ""}])
    assert events.list_tags_for_resource(ResourceARN=resource)["Tags"] == [
        {"Key": "a", "Value": "changed"}, {"Key": "b", "Value": "2"}, {"Key": "c", "Value": ""}
    ]
    events.untag_resource(ResourceARN=resource, TagKeys=["b", "not-there"])
    assert events.list_tags_for_resource(ResourceARN=resource)["Tags"] == [
        {"Key": "a", "Value": "changed"}, {"Key": "c", "Value": ""}
    ]


def test_rule_arns_name_the_rule_on_its_bus(events, provider) -> None:
    events.create_event_bus(Name="custom")
    add_rule(provider, "default", "same")
    add_rule(provider, "custom", "same")
    events.tag_resource(ResourceARN=rule_arn("same", bus="custom"), Tags=[{"Key": "where", "Value": "custom"}])
    assert events.list_tags_for_resource(ResourceARN=rule_arn("same"))["Tags"] == []
    assert events.list_tags_for_resource(ResourceARN=rule_arn("same", bus="custom"))["Tags"] == [
        {"Key": "where", "Value": "custom"}
    ]


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        (rule_arn("ghost"), "Rule ghost does not exist on EventBus default."),
        (bus_arn("ghost"), "Event bus ghost does not exist."),
        (bus_arn("default", account="111122223333"), "Event bus default does not exist."),
        (bus_arn("default", region="eu-west-1"), "Event bus default does not exist."),
        (rule_arn("r", account="111122223333"), "Rule r does not exist on EventBus default."),
    ],
)
@pytest.mark.parametrize("operation", ["tag", "untag", "list"])
def test_a_missing_resource_is_not_found(raw_events, arn, message, operation) -> None:
    with pytest.raises(ClientError) as caught:
        if operation == "tag":
            raw_events.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}])
        elif operation == "untag":
            raw_events.untag_resource(ResourceARN=arn, TagKeys=["k"])
        else:
            raw_events.list_tags_for_resource(ResourceARN=arn)
    assert error_of(caught) == ("ResourceNotFoundException", message, 400)


def test_a_rule_on_a_missing_bus_is_not_found(raw_events) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.list_tags_for_resource(ResourceARN=rule_arn("r", bus="no-bus"))
    assert error_of(caught) == ("ResourceNotFoundException", "Event bus no-bus does not exist.", 400)


@pytest.mark.parametrize("arn", ["not-an-arn", "arn:aws:sns:us-east-1:000000000000:topic"])
def test_an_arn_that_is_no_bus_or_rule_is_invalid(raw_events, arn) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.list_tags_for_resource(ResourceARN=arn)
    assert error_of(caught) == ("ValidationException", f"Provided ARN is not valid: {arn}", 400)


def test_a_resource_holds_at_most_50_tags(events) -> None:
    events.tag_resource(ResourceARN=bus_arn(), Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    events.tag_resource(ResourceARN=bus_arn(), Tags=[{"Key": "k0", "Value": "replaced"}])  # not a new key
    with pytest.raises(ClientError) as caught:
        events.tag_resource(ResourceARN=bus_arn(), Tags=[{"Key": "k50", "Value": "v"}])
    assert error_of(caught) == ("ValidationException", "A resource can have at most 50 tags.", 400)
    assert len(events.list_tags_for_resource(ResourceARN=bus_arn())["Tags"]) == 50


RESERVED = "Tag keys beginning with 'aws:' are reserved for AWS use."
CHARACTERS = "Tag keys and values may only contain letters, numbers, spaces and the characters . : + = @ _ / -"


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([{"Key": "aws:owner", "Value": "me"}], RESERVED),
        ([{"Key": "semi;colon", "Value": "v"}], CHARACTERS),
        ([{"Key": "k", "Value": "hash#"}], CHARACTERS),
    ],
)
def test_tag_resource_rejects_bad_tags_and_keeps_the_others(raw_events, tags, message) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.tag_resource(ResourceARN=bus_arn(), Tags=[{"Key": "fine", "Value": "v"}, *tags])
    assert error_of(caught) == ("ValidationException", message, 400)
    assert raw_events.list_tags_for_resource(ResourceARN=bus_arn())["Tags"] == []


def test_allowed_characters_include_other_scripts_and_the_listed_symbols(events) -> None:
    tags = [{"Key": "Équipe ünd 名前", "Value": "a.b:c+d=e@f_g/h-i"}]
    events.tag_resource(ResourceARN=bus_arn(), Tags=tags)
    assert events.list_tags_for_resource(ResourceARN=bus_arn())["Tags"] == tags


def test_untag_resource_cannot_remove_reserved_keys(raw_events) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.untag_resource(ResourceARN=bus_arn(), TagKeys=["aws:cloudformation:stack-name"])
    assert error_of(caught) == ("ValidationException", RESERVED, 400)


@pytest.mark.parametrize(
    ("tags", "fragment"),
    [
        ([{"Key": "k" * 129, "Value": "v"}], "Member must have length less than or equal to 128"),
        ([{"Key": "", "Value": "v"}], "Member must have length greater than or equal to 1"),
        ([{"Key": "k", "Value": "v" * 257}], "Member must have length less than or equal to 256"),
    ],
)
def test_tag_lengths_are_checked_against_the_model(raw_events, tags, fragment) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.tag_resource(ResourceARN=bus_arn(), Tags=tags)
    code, message, status = error_of(caught)
    assert (code, status) == ("ValidationException", 400)
    assert fragment in message


def test_create_event_bus_checks_its_tags_like_tag_resource(raw_events) -> None:
    with pytest.raises(ClientError) as caught:
        raw_events.create_event_bus(Name="tagged", Tags=[{"Key": "aws:x", "Value": "y"}])
    assert error_of(caught) == ("ValidationException", RESERVED, 400)
    with pytest.raises(ClientError) as caught:
        raw_events.create_event_bus(Name="tagged", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert error_of(caught) == ("ValidationException", "A resource can have at most 50 tags.", 400)
    assert [bus["Name"] for bus in raw_events.list_event_buses()["EventBuses"]] == ["default"]


def test_a_managed_rule_keeps_its_tags(events, provider) -> None:
    arn = add_rule(provider, "default", "managed", managed_by="aws.example")
    message = "Rule managed is managed by aws.example and cannot be modified."
    for call in (
        lambda: events.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": "v"}]),
        lambda: events.untag_resource(ResourceARN=arn, TagKeys=["k"]),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert error_of(caught) == ("ManagedRuleException", message, 400)
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == []
