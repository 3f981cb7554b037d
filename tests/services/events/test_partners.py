"""Partner event sources over the wire: a partner account offers a source, the customer account sees it
PENDING, makes it ACTIVE with a partner bus, deactivates and activates it; PutPartnerEvents reaches the
partner bus's rules; deletion and expiry on the emulator's clock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.services.events.partners import EXPIRY_SECONDS
from emulator.testing import admin
from tests.services.events.conftest import REGION, error_of

PARTNER, CUSTOMER = "222222222222", "333333333333"
NAME = "aws.partner/acme.com/orders/feed-1"
SOURCE_ARN = f"arn:aws:events:{REGION}::event-source/{NAME}"
QUEUE = f"arn:aws:sqs:{REGION}:{CUSTOMER}:q"
ENTRY = {"Source": NAME, "DetailType": "order", "Detail": json.dumps({"id": 7})}


@pytest.fixture
def partner(aws_client: Any) -> Any:
    return aws_client("events", account=PARTNER)


@pytest.fixture
def customer(aws_client: Any) -> Any:
    return aws_client("events", account=CUSTOMER)


def _offer(partner: Any, name: str = NAME) -> None:
    assert partner.create_partner_event_source(Name=name, Account=CUSTOMER)["EventSourceArn"] == (
        f"arn:aws:events:{REGION}::event-source/{name}")


def _partner_bus(customer: Any) -> None:
    """The customer's partner bus, with a rule sending the source's events to a recorded SQS queue."""
    customer.create_event_bus(Name=NAME, EventSourceName=NAME)
    customer.put_rule(Name="all", EventBusName=NAME, EventPattern=json.dumps({"source": [NAME]}))
    customer.put_targets(Rule="all", EventBusName=NAME, Targets=[{"Id": "q", "Arn": QUEUE}])


def _recorded(url: Any) -> list[dict[str, Any]]:
    url.app.registry.delivery.wait_idle()
    path = f"/_emulator/events/deliveries?account={CUSTOMER}&targetArn={QUEUE}"
    return [json.loads(entry["payload"]["input"]) for entry in admin(url, path)["deliveries"]]


def _state(customer: Any) -> str:
    return customer.describe_event_source(Name=NAME)["State"]


def test_an_offered_source_is_pending_for_the_customer_and_listed_for_the_partner(partner: Any,
                                                                                  customer: Any) -> None:
    _offer(partner)
    described = customer.describe_event_source(Name=NAME)
    assert (described["Arn"], described["Name"], described["CreatedBy"], described["State"]) == (
        SOURCE_ARN, NAME, "acme.com", "PENDING")
    assert (described["ExpirationTime"] - described["CreationTime"]).total_seconds() == EXPIRY_SECONDS
    (listed,) = customer.list_event_sources()["EventSources"]
    assert listed == {key: value for key, value in described.items() if key != "ResponseMetadata"}

    assert partner.describe_partner_event_source(Name=NAME)["Arn"] == SOURCE_ARN
    assert partner.list_partner_event_sources(NamePrefix="aws.partner/acme.com/")["PartnerEventSources"] == [
        {"Arn": SOURCE_ARN, "Name": NAME}]
    (account,) = partner.list_partner_event_source_accounts(EventSourceName=NAME)["PartnerEventSourceAccounts"]
    assert (account["Account"], account["State"]) == (CUSTOMER, "PENDING")
    assert partner.list_event_sources()["EventSources"] == []  # offered to the customer, not to the partner


def test_listings_filter_by_prefix_and_page(partner: Any, customer: Any) -> None:
    names = [f"aws.partner/acme.com/orders/feed-{index}" for index in (3, 1, 2)] + ["aws.partner/other.io/x/y"]
    for name in names:
        _offer(partner, name)
    first = customer.list_event_sources(NamePrefix="aws.partner/acme.com/", Limit=2)
    assert [s["Name"] for s in first["EventSources"]] == [names[1], names[2]]
    second = customer.list_event_sources(NamePrefix="aws.partner/acme.com/", Limit=2, NextToken=first["NextToken"])
    assert [s["Name"] for s in second["EventSources"]] == [names[0]] and "NextToken" not in second
    listed = partner.list_partner_event_sources(NamePrefix="aws.partner/other.io/")["PartnerEventSources"]
    assert [s["Name"] for s in listed] == [names[3]]


def test_a_partner_bus_makes_the_source_active_and_deleting_it_makes_it_pending(partner: Any, customer: Any,
                                                                              emulator_url: Any) -> None:
    _offer(partner)
    created = customer.create_event_bus(Name=NAME, EventSourceName=NAME)
    assert created["EventBusArn"] == f"arn:aws:events:{REGION}:{CUSTOMER}:event-bus/{NAME}"
    assert _state(customer) == "ACTIVE" and "ExpirationTime" not in customer.describe_event_source(Name=NAME)
    (account,) = partner.list_partner_event_source_accounts(EventSourceName=NAME)["PartnerEventSourceAccounts"]
    assert account["State"] == "ACTIVE"
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": EXPIRY_SECONDS * 2})
    assert _state(customer) == "ACTIVE"  # an ACTIVE source does not expire
    customer.delete_event_bus(Name=NAME)
    assert _state(customer) == "PENDING"


@pytest.mark.parametrize(
    ("bus_name", "source", "code", "message"),
    [
        (NAME, "aws.partner/acme.com/orders/unknown", "ResourceNotFoundException",
         "Event source aws.partner/acme.com/orders/unknown does not exist."),
        ("aws.partner/acme.com/orders/other", NAME, "ValidationException",
         "Event bus name must match the event source name."),
    ],
)
def test_create_event_bus_takes_only_a_source_offered_to_the_account_under_its_name(
    partner: Any, customer: Any, bus_name: str, source: str, code: str, message: str
) -> None:
    _offer(partner)
    assert error_of(customer.create_event_bus, Name=bus_name, EventSourceName=source) == (code, 400, message)
    assert [bus["Name"] for bus in customer.list_event_buses()["EventBuses"]] == ["default"]


def test_another_account_cannot_claim_the_source(partner: Any, aws_client: Any) -> None:
    _offer(partner)
    stranger = aws_client("events", account="444444444444")
    assert error_of(stranger.create_event_bus, Name=NAME, EventSourceName=NAME) == (
        "ResourceNotFoundException", 400, f"Event source {NAME} does not exist.")
    assert error_of(stranger.describe_event_source, Name=NAME) == (
        "ResourceNotFoundException", 400, f"Event source {NAME} does not exist.")


def test_put_partner_events_reaches_the_customers_partner_bus_only_while_active(
    partner: Any, customer: Any, emulator_url: Any, provider: Any
) -> None:
    _offer(partner)
    before = partner.put_partner_events(Entries=[ENTRY])  # no bus yet: acknowledged, delivered nowhere
    assert before["FailedEntryCount"] == 0 and before["Entries"][0]["EventId"]
    _partner_bus(customer)
    answer = partner.put_partner_events(Entries=[ENTRY])
    assert answer["FailedEntryCount"] == 0
    (event,) = _recorded(emulator_url)
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert (event["source"], event["detail-type"], event["account"], event["region"], event["detail"]) == (
        NAME, "order", CUSTOMER, REGION, {"id": 7})

    customer.deactivate_event_source(Name=NAME)
    assert _state(customer) == "PENDING"
    partner.put_partner_events(Entries=[ENTRY])
    assert len(_recorded(emulator_url)) == 1
    customer.activate_event_source(Name=NAME)
    assert _state(customer) == "ACTIVE"
    partner.put_partner_events(Entries=[ENTRY])
    assert len(_recorded(emulator_url)) == 2


def test_put_partner_events_checks_each_entry(partner: Any, raw_events: Any, aws_client: Any) -> None:
    _offer(partner)
    raw_partner = aws_client("events", account=PARTNER, validate=False)
    answer = raw_partner.put_partner_events(Entries=[
        ENTRY,
        {**ENTRY, "Source": "aws.partner/acme.com/orders/not-mine"},
        {"Source": NAME, "Detail": "{}"},
        {**ENTRY, "Detail": "[1]"},
    ])
    assert answer["FailedEntryCount"] == 3
    assert "EventId" in answer["Entries"][0]
    assert [(e.get("ErrorCode"), e.get("ErrorMessage")) for e in answer["Entries"][1:]] == [
        ("NotAuthorizedForSourceException", "Not authorized for the source."),
        ("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."),
        ("MalformedDetail", "Detail is malformed."),
    ]
    # Only the partner that created a source may put its events.
    other = raw_events.put_partner_events(Entries=[ENTRY])
    assert other["Entries"][0]["ErrorCode"] == "NotAuthorizedForSourceException"


def test_put_partner_events_refuses_a_request_over_the_size_limit(aws_client: Any) -> None:
    raw_partner = aws_client("events", account=PARTNER, validate=False)
    big = {**ENTRY, "Detail": json.dumps({"x": "y" * 200_000})}
    code, status, _ = error_of(raw_partner.put_partner_events, Entries=[big, big])
    assert (code, status) == ("ValidationException", 400)


@pytest.mark.parametrize(
    ("steps", "operation", "message"),
    [
        ([], "activate_event_source", f"Event source {NAME} is not deactivated."),
        (["deactivate_event_source"], "deactivate_event_source", f"Event source {NAME} is already deactivated."),
        (["delete"], "activate_event_source", f"Event source {NAME} has been deleted."),
    ],
)
def test_activate_and_deactivate_refuse_the_wrong_state(partner: Any, customer: Any, steps: list[str],
                                                         operation: str, message: str) -> None:
    _offer(partner)
    customer.create_event_bus(Name=NAME, EventSourceName=NAME)
    for step in steps:
        if step == "delete":
            partner.delete_partner_event_source(Name=NAME, Account=CUSTOMER)
        else:
            getattr(customer, step)(Name=NAME)
    assert error_of(getattr(customer, operation), Name=NAME) == ("InvalidStateException", 400, message)


def test_a_deleted_source_stays_deleted_while_its_bus_remains(partner: Any, customer: Any) -> None:
    _offer(partner)
    customer.create_event_bus(Name=NAME, EventSourceName=NAME)
    partner.delete_partner_event_source(Name=NAME, Account=CUSTOMER)
    assert _state(customer) == "DELETED"
    assert error_of(partner.describe_partner_event_source, Name=NAME) == (
        "ResourceNotFoundException", 400, f"Event source {NAME} does not exist.")
    assert partner.put_partner_events(Entries=[ENTRY])["Entries"][0]["ErrorCode"] == (
        "NotAuthorizedForSourceException")
    customer.delete_event_bus(Name=NAME)
    assert customer.list_event_sources()["EventSources"] == []


def test_deleting_a_source_without_a_bus_removes_it_and_a_missing_one_is_no_error(partner: Any,
                                                                                 customer: Any) -> None:
    _offer(partner)
    partner.delete_partner_event_source(Name=NAME, Account="999999999999")  # not this source's account
    assert _state(customer) == "PENDING"
    partner.delete_partner_event_source(Name=NAME, Account=CUSTOMER)
    assert customer.list_event_sources()["EventSources"] == []
    partner.delete_partner_event_source(Name=NAME, Account=CUSTOMER)
    _offer(partner)  # the name is free again


def test_a_source_left_pending_expires_on_the_clock(partner: Any, customer: Any, emulator_url: Any) -> None:
    _offer(partner)
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": EXPIRY_SECONDS - 60})
    assert _state(customer) == "PENDING"
    admin(emulator_url, "/_emulator/clock", "POST", {"advance": 60})
    assert customer.list_event_sources()["EventSources"] == []
    assert partner.list_partner_event_sources(NamePrefix="aws.partner/acme.com/")["PartnerEventSources"] == []
    assert error_of(customer.create_event_bus, Name=NAME, EventSourceName=NAME)[0] == "ResourceNotFoundException"


def test_create_partner_event_source_twice_answers_already_exists(partner: Any) -> None:
    _offer(partner)
    assert error_of(partner.create_partner_event_source, Name=NAME, Account=CUSTOMER) == (
        "ResourceAlreadyExistsException", 400, f"Event source {NAME} already exists.")


@pytest.mark.parametrize(
    "operation", ["describe_partner_event_source", "describe_event_source", "activate_event_source",
                  "deactivate_event_source"],
)
def test_a_missing_source_is_not_found(partner: Any, operation: str) -> None:
    assert error_of(getattr(partner, operation), Name=NAME) == (
        "ResourceNotFoundException", 400, f"Event source {NAME} does not exist.")


def test_list_partner_event_source_accounts_of_a_missing_source_is_not_found(partner: Any) -> None:
    assert error_of(partner.list_partner_event_source_accounts, EventSourceName=NAME) == (
        "ResourceNotFoundException", 400, f"Event source {NAME} does not exist.")


@pytest.mark.parametrize(
    ("operation", "arguments", "fragment"),
    [
        ("create_partner_event_source", {"Name": "acme.com/orders/feed", "Account": CUSTOMER}, "at 'name'"),
        ("create_partner_event_source", {"Name": NAME, "Account": "123"}, "at 'account'"),
        ("list_partner_event_sources", {"NamePrefix": "acme"}, "at 'namePrefix'"),
        ("list_event_sources", {"Limit": 101}, "at 'limit'"),
        ("put_partner_events", {"Entries": []}, "at 'entries'"),
    ],
)
def test_bad_input_is_refused_as_aws_refuses_it(raw_events: Any, operation: str, arguments: dict[str, Any],
                                                fragment: str) -> None:
    code, status, message = error_of(getattr(raw_events, operation), **arguments)
    assert (code, status) == ("ValidationException", 400) and fragment in message


def test_list_event_sources_refuses_a_forged_token(customer: Any) -> None:
    assert error_of(customer.list_event_sources, NextToken="forged") == (
        "ValidationException", 400, "The NextToken provided is invalid.")
