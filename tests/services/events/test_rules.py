"""Rules over the wire: PutRule and its validation, DescribeRule, ListRules, Enable/DisableRule,
DeleteRule, ListRuleNamesByTarget, and the bus's ruleset that PutEvents matches with."""

from __future__ import annotations

import json

import pytest

from emulator.services.events.models import EventBus
from tests.services.events.conftest import ACCOUNT, REGION, bus_arn, error_of, rule_arn

PATTERN = json.dumps({"source": ["my.app"]})
EVENT = {"id": "1", "detail-type": "t", "source": "my.app", "account": ACCOUNT, "time": "2024-01-01T00:00:00Z",
         "region": REGION, "resources": [], "detail": {}}


@pytest.fixture
def custom_bus(provider) -> EventBus:
    """A custom bus "orders", made in the store directly (CreateEventBus is another module's)."""
    store = provider._stores.get(ACCOUNT, REGION)
    with store.lock:
        bus = store.buses["orders"] = EventBus("orders", store.bus_arn("orders"))
    return bus


def bus_of(provider, name: str = "default") -> EventBus:
    return provider._stores.get(ACCOUNT, REGION).buses[name]


def test_put_rule_creates_and_describe_rule_shows_every_setting(events) -> None:
    arn = events.put_rule(Name="r1", EventPattern=PATTERN, State="DISABLED", Description="d",
                          RoleArn="arn:aws:iam::000000000000:role/x")["RuleArn"]
    assert arn == rule_arn("r1")
    described = events.describe_rule(Name="r1")
    described.pop("ResponseMetadata")
    assert described == {
        "Name": "r1", "Arn": arn, "EventPattern": PATTERN, "State": "DISABLED", "Description": "d",
        "RoleArn": "arn:aws:iam::000000000000:role/x", "EventBusName": "default", "CreatedBy": ACCOUNT,
    }


def test_put_rule_on_a_custom_bus_by_name_or_arn_has_the_bus_in_its_arn(events, custom_bus) -> None:
    by_name = events.put_rule(Name="r", EventPattern=PATTERN, EventBusName="orders")["RuleArn"]
    by_arn = events.put_rule(Name="r", EventPattern=PATTERN, EventBusName=bus_arn("orders"))["RuleArn"]
    assert by_name == by_arn == rule_arn("r", bus="orders")
    assert events.describe_rule(Name="r", EventBusName=bus_arn("orders"))["EventBusName"] == "orders"
    assert "r" not in {rule["Name"] for rule in events.list_rules()["Rules"]}


def test_put_rule_update_replaces_omitted_settings_and_keeps_tags(events, provider) -> None:
    events.put_rule(Name="r", EventPattern=PATTERN, State="DISABLED", Description="d",
                    Tags=[{"Key": "k", "Value": "v"}])
    events.put_rule(Name="r", ScheduleExpression="rate(5 minutes)", Tags=[{"Key": "other", "Value": "x"}])
    described = events.describe_rule(Name="r")
    assert described["ScheduleExpression"] == "rate(5 minutes)"
    assert described["State"] == "ENABLED"
    assert "EventPattern" not in described and "Description" not in described
    assert bus_of(provider).rules["r"].tags == {"k": "v"}


@pytest.mark.parametrize("params", [
    {"EventPattern": PATTERN},
    {"EventPattern": PATTERN, "State": "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"},
])
def test_an_enabled_rule_with_a_pattern_is_in_the_ruleset(events, provider, params) -> None:
    events.put_rule(Name="r", **params)
    assert bus_of(provider).ruleset.matching(EVENT) == {"r"}


@pytest.mark.parametrize("params", [
    {"EventPattern": PATTERN, "State": "DISABLED"},
    {"ScheduleExpression": "rate(1 minute)"},
])
def test_a_disabled_rule_or_one_without_a_pattern_is_not_in_the_ruleset(events, provider, params) -> None:
    events.put_rule(Name="r", **params)
    assert "r" not in bus_of(provider).ruleset


def test_ruleset_follows_updates_enable_disable_and_delete(events, provider) -> None:
    ruleset = bus_of(provider).ruleset
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["other"]}))
    assert ruleset.matching(EVENT) == set()
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.disable_rule(Name="r")
    assert events.describe_rule(Name="r")["State"] == "DISABLED"
    assert "r" not in ruleset
    events.enable_rule(Name="r")
    assert events.describe_rule(Name="r")["State"] == "ENABLED"
    assert ruleset.matching(EVENT) == {"r"}
    events.delete_rule(Name="r")
    assert "r" not in ruleset
    assert error_of(events.describe_rule, Name="r") == (
        "ResourceNotFoundException", 400, "Rule r does not exist on EventBus default.")


@pytest.mark.parametrize("expression", [
    "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
    "cron(0 20 * * ? *)", "cron(0/15 * ? * MON-FRI *)", "cron(0 8 1 * ? *)", "cron(15 10 ? * 6L 2022-2023)",
    "cron(0 12 L * ? *)", "cron(0 9 15W * ? *)", "cron(0 9 ? * 2#1 *)", "cron(0,30 1-5 ? JAN,FEB * *)",
    "cron(5/10 * ? * SUN *)",
])
def test_valid_schedule_expressions_are_stored(events, expression) -> None:
    events.put_rule(Name="r", ScheduleExpression=expression)
    assert events.describe_rule(Name="r")["ScheduleExpression"] == expression


@pytest.mark.parametrize("expression", [
    "", "rate(1 minutes)", "rate(3 minute)", "rate(0 minutes)", "rate(5 seconds)", "rate(-1 minutes)",
    "rate(five minutes)", "at(2024-01-01T00:00:00)", "cron(*/1 * * * *)", "cron(0 20 * * * *)",
    "cron(7 20 * * 1-7 *)", "cron(0 20 ? * ? *)", "cron(15 12 ? * -1 *)", "cron(60 * * * ? *)",
    "cron(0 24 * * ? *)", "cron(0 0 32 * ? *)", "cron(0 0 ? 13 * *)", "cron(0 0 ? * 8 *)",
    "cron(0 0 * * ? 1969)", "cron(0/0 * * * ? *)", "cron(0 0 ? * 2#6 *)", "cron(0 0 * * ? * *)",
    "cron(0, 9-18, ?, *, MON-FRI, *)",
])
def test_invalid_schedule_expressions_are_refused(raw_events, expression) -> None:
    assert error_of(raw_events.put_rule, Name="r", ScheduleExpression=expression) == (
        "ValidationException", 400, "Parameter ScheduleExpression is not valid.")
    assert error_of(raw_events.describe_rule, Name="r")[0] == "ResourceNotFoundException"


def test_a_schedule_only_goes_on_the_default_bus(raw_events, custom_bus) -> None:
    assert error_of(raw_events.put_rule, Name="r", ScheduleExpression="rate(5 minutes)", EventBusName="orders") == (
        "ValidationException", 400, "ScheduleExpression is supported only on the default event bus.")


def test_a_rule_needs_a_pattern_or_a_schedule(raw_events) -> None:
    assert error_of(raw_events.put_rule, Name="r", Description="nothing to match") == (
        "ValidationException", 400, "Parameter(s) EventPattern or ScheduleExpression must be specified.")


@pytest.mark.parametrize(("pattern", "reason"), [
    ('{"source": "my.app"}', '"source" must be an object or an array'),
    ("not json", "Event pattern is not valid."),
])
def test_an_invalid_pattern_is_refused_with_the_engines_message(raw_events, pattern, reason) -> None:
    code, status, message = error_of(raw_events.put_rule, Name="r", EventPattern=pattern)
    assert (code, status) == ("InvalidEventPatternException", 400)
    assert message.startswith("Event pattern is not valid.") and reason in message
    assert error_of(raw_events.describe_rule, Name="r")[0] == "ResourceNotFoundException"


def test_an_invalid_update_leaves_the_rule_as_it_was(events, raw_events, provider) -> None:
    events.put_rule(Name="r", EventPattern=PATTERN)
    error_of(raw_events.put_rule, Name="r", EventPattern="not json")
    assert events.describe_rule(Name="r")["EventPattern"] == PATTERN
    assert bus_of(provider).ruleset.matching(EVENT) == {"r"}


@pytest.mark.parametrize("operation", ["put_rule", "describe_rule", "list_rules", "delete_rule"])
def test_a_missing_bus_is_not_found(raw_events, operation) -> None:
    params = {} if operation == "list_rules" else {"Name": "r"}
    if operation == "put_rule":
        params["EventPattern"] = PATTERN
    assert error_of(getattr(raw_events, operation), EventBusName="nope", **params) == (
        "ResourceNotFoundException", 400, "Event bus nope does not exist.")


@pytest.mark.parametrize("operation", ["enable_rule", "disable_rule"])
def test_enable_and_disable_a_missing_rule_is_not_found(raw_events, operation) -> None:
    assert error_of(getattr(raw_events, operation), Name="ghost") == (
        "ResourceNotFoundException", 400, "Rule ghost does not exist on EventBus default.")


def test_a_rule_arn_of_another_account_is_not_this_accounts_bus(raw_events) -> None:
    other = "arn:aws:events:us-east-1:111111111111:event-bus/default"
    assert error_of(raw_events.put_rule, Name="r", EventPattern=PATTERN, EventBusName=other)[0] == (
        "ResourceNotFoundException")


def test_the_rule_quota_per_bus(events, raw_events, provider) -> None:
    bus = bus_of(provider)
    for i in range(299):
        events.put_rule(Name=f"r{i:03}", ScheduleExpression="rate(1 day)")
    events.put_rule(Name="last", EventPattern=PATTERN)
    assert len(bus.rules) == 300
    assert error_of(raw_events.put_rule, Name="one-more", EventPattern=PATTERN) == (
        "LimitExceededException", 400, "The requested resource exceeds the maximum number allowed.")
    events.put_rule(Name="last", EventPattern=PATTERN, Description="an update is no new rule")


def test_the_rule_quota_can_be_raised_as_aws_raises_it(events, raw_events, provider, monkeypatch) -> None:
    monkeypatch.setattr(provider.config, "events_rules_per_bus", 2)
    events.put_rule(Name="a", EventPattern=PATTERN)
    events.put_rule(Name="b", EventPattern=PATTERN)
    assert error_of(raw_events.put_rule, Name="c", EventPattern=PATTERN)[0] == "LimitExceededException"


def test_list_rules_by_prefix_in_name_order(events) -> None:
    for name in ("b-2", "a-1", "b-1", "c"):
        events.put_rule(Name=name, EventPattern=PATTERN)
    assert [rule["Name"] for rule in events.list_rules()["Rules"]] == ["a-1", "b-1", "b-2", "c"]
    listed = events.list_rules(NamePrefix="b-")["Rules"]
    assert [rule["Name"] for rule in listed] == ["b-1", "b-2"]
    assert listed[0] == {"Name": "b-1", "Arn": rule_arn("b-1"), "EventPattern": PATTERN, "State": "ENABLED",
                         "EventBusName": "default"}


def test_list_rules_pages_with_next_token(events) -> None:
    names = [f"r{i:02}" for i in range(7)]
    for name in names:
        events.put_rule(Name=name, EventPattern=PATTERN)
    seen, token, pages = [], None, 0
    while True:
        page = events.list_rules(Limit=3, **({"NextToken": token} if token else {}))
        seen += [rule["Name"] for rule in page["Rules"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert (seen, pages) == (names, 3)


@pytest.mark.parametrize("operation", ["list_rules", "list_rule_names_by_target"])
def test_a_forged_next_token_is_a_validation_exception(raw_events, operation) -> None:
    params = {"TargetArn": "arn:aws:sqs:us-east-1:000000000000:q"} if operation == "list_rule_names_by_target" else {}
    assert error_of(getattr(raw_events, operation), NextToken="forged", **params) == (
        "ValidationException", 400, "The NextToken provided is invalid.")


def test_delete_rule_is_refused_while_targets_remain(events, raw_events) -> None:
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q"}])
    assert error_of(raw_events.delete_rule, Name="r") == (
        "ValidationException", 400, "Rule can't be deleted since it has targets.")
    events.remove_targets(Rule="r", Ids=["t"])
    events.delete_rule(Name="r")
    assert events.list_rules()["Rules"] == []


def test_deleting_a_missing_rule_succeeds(events) -> None:
    events.delete_rule(Name="never-was")
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.delete_rule(Name="r")
    events.delete_rule(Name="r")


def test_a_managed_rule_needs_force(events, raw_events, provider) -> None:
    events.put_rule(Name="m", EventPattern=PATTERN)
    bus_of(provider).rules["m"].managed_by = "archive.events.amazonaws.com"
    assert events.describe_rule(Name="m")["ManagedBy"] == "archive.events.amazonaws.com"
    assert error_of(raw_events.delete_rule, Name="m") == (
        "ManagedRuleException", 400, "m is a managed rule. Set 'force' parameter to true to override.")
    for call, params in ((raw_events.put_rule, {"EventPattern": PATTERN}), (raw_events.disable_rule, {}),
                         (raw_events.enable_rule, {})):
        assert error_of(call, Name="m", **params) == ("ManagedRuleException", 400, "m is a managed rule.")
    events.delete_rule(Name="m", Force=True)
    assert "m" not in bus_of(provider).rules and "m" not in bus_of(provider).ruleset


def test_list_rule_names_by_target_on_its_bus(events, custom_bus) -> None:
    queue = "arn:aws:sqs:us-east-1:000000000000:q"
    for name in ("z", "a", "m"):
        events.put_rule(Name=name, EventPattern=PATTERN)
    events.put_targets(Rule="z", Targets=[{"Id": "1", "Arn": queue}])
    events.put_targets(Rule="a", Targets=[{"Id": "1", "Arn": "arn:aws:sqs:us-east-1:000000000000:other"},
                                          {"Id": "2", "Arn": queue}])
    events.put_targets(Rule="m", Targets=[{"Id": "1", "Arn": "arn:aws:sqs:us-east-1:000000000000:other"}])
    events.put_rule(Name="elsewhere", EventPattern=PATTERN, EventBusName="orders")
    events.put_targets(Rule="elsewhere", EventBusName="orders", Targets=[{"Id": "1", "Arn": queue}])
    assert events.list_rule_names_by_target(TargetArn=queue)["RuleNames"] == ["a", "z"]
    assert events.list_rule_names_by_target(TargetArn=queue, EventBusName="orders")["RuleNames"] == ["elsewhere"]
    first = events.list_rule_names_by_target(TargetArn=queue, Limit=1)
    assert first["RuleNames"] == ["a"]
    second = events.list_rule_names_by_target(TargetArn=queue, Limit=1, NextToken=first["NextToken"])
    assert second["RuleNames"] == ["z"] and "NextToken" not in second


def test_rules_of_other_regions_and_accounts_are_not_seen(aws_client) -> None:
    aws_client("events").put_rule(Name="r", EventPattern=PATTERN)
    assert aws_client("events", region="eu-west-1").list_rules()["Rules"] == []
    assert aws_client("events", account="111111111111").list_rules()["Rules"] == []
    arn = aws_client("events", region="eu-west-1").put_rule(Name="r", EventPattern=PATTERN)["RuleArn"]
    assert arn == rule_arn("r", region="eu-west-1")
