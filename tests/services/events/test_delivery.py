"""Delivery of matched events, end to end: Kinesis streams read back, EventBridge -> SNS -> HTTP, bus to
bus across accounts, recorded targets, retries on a moved clock into the dead-letter queue, and no
loss under concurrent writers."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any
from urllib.request import urlopen

import pytest

from emulator.delivery import Outcome
from emulator.services.events.dispatch import BACKOFF_CAP, EventRetry
from emulator.testing import admin
from tests.receivers import Receiver, receiver
from tests.services.events.conftest import ACCOUNT, REGION, bus_arn, rule_arn

OTHER = "111111111111"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
ENTRY = {"Source": "my.app", "DetailType": "order", "Detail": json.dumps({"id": "o-1", "total": 5})}
PATTERN = json.dumps({"source": ["my.app"]})
ROLE = f"arn:aws:iam::{ACCOUNT}:role/events"


@pytest.fixture
def url(emulator_url: Any, provider: Any) -> Any:
    return emulator_url


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    """Local HTTP receivers (tests/receivers.py), closed at the end of the test."""
    with ExitStack() as stack:
        yield lambda **kwargs: stack.enter_context(receiver(**kwargs))


def _deliveries(url: Any, account: str = ACCOUNT, **filters: str) -> list[dict[str, Any]]:
    url.app.registry.delivery.wait_idle()
    query = "&".join([f"account={account}"] + [f"{key}={value}" for key, value in filters.items()])
    return admin(url, f"/_emulator/events/deliveries?{query}")["deliveries"]


def _stream(kinesis: Any, name: str = "s") -> str:
    kinesis.create_stream(StreamName=name, ShardCount=1)
    return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def _records(kinesis: Any, name: str = "s") -> list[dict[str, Any]]:
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records: list[dict[str, Any]] = []
    while True:
        answer = kinesis.get_records(ShardIterator=iterator, Limit=1000)
        records += answer["Records"]
        if not answer["Records"]:
            return records
        iterator = answer["NextShardIterator"]


# ---------------------------------------------------------------------------------------- Kinesis

@pytest.mark.parametrize(
    ("parameters", "expected_key"),
    [(None, "event-id"), ({"PartitionKeyPath": "$.detail.id"}, "o-1"), ({"PartitionKeyPath": "$.detail.total"}, "5")],
)
def test_a_kinesis_target_gets_the_event_as_a_record(events: Any, aws_client: Any, url: Any,
                                                     parameters: dict[str, str] | None, expected_key: str) -> None:
    kinesis = aws_client("kinesis")
    stream = _stream(kinesis)
    events.put_rule(Name="r", EventPattern=PATTERN)
    target: dict[str, Any] = {"Id": "k", "Arn": stream, "RoleArn": ROLE}
    if parameters:
        target["KinesisParameters"] = parameters
    events.put_targets(Rule="r", Targets=[target])
    event_id = events.put_events(Entries=[{**ENTRY, "Resources": ["arn:aws:s3:::b"]}])["Entries"][0]["EventId"]
    assert [entry["state"] for entry in _deliveries(url)] == ["delivered"]

    (record,) = _records(kinesis)
    event = json.loads(record["Data"])
    assert record["PartitionKey"] == (event_id if expected_key == "event-id" else expected_key)
    assert event["version"] == "0"
    assert event["id"] == event_id
    assert event["detail-type"] == "order"
    assert event["source"] == "my.app"
    assert event["account"] == ACCOUNT
    assert event["region"] == REGION
    assert event["resources"] == ["arn:aws:s3:::b"]
    assert event["detail"] == {"id": "o-1", "total": 5}
    assert event["time"].endswith("Z") and len(event["time"]) == len("2024-01-01T00:00:00Z")


def test_a_kinesis_target_gets_the_input_path_selection(events: Any, aws_client: Any, url: Any) -> None:
    kinesis = aws_client("kinesis")
    stream = _stream(kinesis)
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "k", "Arn": stream, "RoleArn": ROLE, "InputPath": "$.detail"}])
    events.put_events(Entries=[ENTRY])
    _deliveries(url)
    (record,) = _records(kinesis)
    assert json.loads(record["Data"]) == {"id": "o-1", "total": 5}


def test_eight_concurrent_writers_land_every_acknowledged_event_exactly_once(events: Any, aws_client: Any,
                                                                             url: Any) -> None:
    kinesis = aws_client("kinesis")
    stream = _stream(kinesis)
    for n in range(3):  # rules that match nothing, beside the one that does
        events.put_rule(Name=f"other-{n}", EventPattern=json.dumps({"source": [f"other-{n}"]}))
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "k", "Arn": stream, "RoleArn": ROLE}])
    acknowledged: list[str] = []
    lock = threading.Lock()

    def write(writer: int) -> None:
        client = aws_client("events")
        for batch in range(10):
            entries = [{**ENTRY, "Detail": json.dumps({"writer": writer, "n": batch * 5 + i})} for i in range(5)]
            answer = client.put_events(Entries=entries)
            with lock:
                acknowledged.extend(entry["EventId"] for entry in answer["Entries"] if "EventId" in entry)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(acknowledged) == 400
    assert url.app.registry.delivery.wait_idle(timeout=30)
    landed = [json.loads(record["Data"])["id"] for record in _records(kinesis)]
    assert sorted(landed) == sorted(acknowledged)


# ---------------------------------------------------------------------------------------- SNS

def test_eventbridge_to_sns_to_an_http_subscriber_through_a_filter_policy(events: Any, aws_client: Any, url: Any,
                                                                        make_receiver: Any) -> None:
    sns = aws_client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    policy["Statement"].append({"Sid": "events", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sns:Publish", "Resource": topic})
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    big, small = make_receiver(), make_receiver()
    for subscriber, minimum in ((big, 100), (small, 0)):
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url, Attributes={
            "FilterPolicyScope": "MessageBody",
            "FilterPolicy": json.dumps({"detail": {"total": [{"numeric": [">=", minimum]}]}})})
        urlopen(subscriber.wait_for(1)[0].json()["SubscribeURL"], timeout=5).read()
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": topic}])

    event_id = events.put_events(Entries=[ENTRY])["Entries"][0]["EventId"]  # total 5: only "small" matches
    notification = small.wait_for(2)[1].json()
    assert notification["Type"] == "Notification" and notification["TopicArn"] == topic
    event = json.loads(notification["Message"])
    assert event["id"] == event_id and event["detail"] == {"id": "o-1", "total": 5}
    url.app.registry.delivery.wait_idle()
    assert len(big.quiet()) == 1  # its confirmation only


def test_a_topic_whose_policy_refuses_eventbridge_fails_at_once_to_the_dead_letter(events: Any, aws_client: Any,
                                                                                 url: Any) -> None:
    topic = aws_client("sns").create_topic(Name="closed")["TopicArn"]
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": topic, "DeadLetterConfig": {"Arn": DLQ}}])
    events.put_events(Entries=[ENTRY])
    failed, dead = _deliveries(url, target="t")
    assert failed["state"] == "failed" and len(failed["attempts"]) == 1  # not retried
    assert failed["attempts"][0]["error"].startswith("NO_PERMISSIONS: AuthorizationErrorException")
    attributes = {k: v["StringValue"] for k, v in dead["payload"]["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS" and attributes["RETRY_ATTEMPTS"] == "0"
    assert "EXHAUSTED_RETRY_CONDITION" not in attributes


# ---------------------------------------------------------------------------------------- bus to bus

def test_bus_to_bus_across_accounts_needs_the_receivers_permission(events: Any, aws_client: Any, url: Any) -> None:
    receiver = aws_client("events", account=OTHER)
    receiver.create_event_bus(Name="inbox")
    receiver.put_rule(Name="from-sender", EventBusName="inbox",
                      EventPattern=json.dumps({"account": [ACCOUNT]}))
    receiver.put_targets(Rule="from-sender", EventBusName="inbox",
                         Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{OTHER}:q"}])
    inbox = bus_arn("inbox", account=OTHER)
    events.put_rule(Name="forward", EventPattern=PATTERN)
    events.put_targets(Rule="forward", Targets=[{"Id": "bus", "Arn": inbox, "DeadLetterConfig": {"Arn": DLQ}}])

    events.put_events(Entries=[ENTRY])
    failed = _deliveries(url, target="bus")[0]
    assert failed["state"] == "failed" and len(failed["attempts"]) == 1
    assert failed["attempts"][0]["error"].startswith("CROSS_ACCOUNT_INGESTION_FAILED: AccessDeniedException")
    assert _deliveries(url, account=OTHER) == []

    receiver.put_permission(EventBusName="inbox", Action="events:PutEvents", Principal=ACCOUNT, StatementId="s")
    sent = {**ENTRY, "Resources": ["arn:aws:s3:::b"]}
    event_id = events.put_events(Entries=[sent])["Entries"][0]["EventId"]
    _deliveries(url)
    (arrived,) = _deliveries(url, account=OTHER)
    forwarded = json.loads(arrived["payload"]["input"])
    assert arrived["info"]["bus"] == "inbox" and arrived["info"]["rule"] == "from-sender"
    # The event keeps its id, time, the account and Region it was put in, and its resources.
    assert forwarded["id"] == event_id and forwarded["account"] == ACCOUNT and forwarded["region"] == REGION
    assert forwarded["resources"] == ["arn:aws:s3:::b"] and forwarded["detail"] == {"id": "o-1", "total": 5}


def test_an_event_from_another_bus_is_not_forwarded_to_a_third(events: Any, url: Any) -> None:
    for name in ("second", "third"):
        events.create_event_bus(Name=name)
    events.put_rule(Name="to-second", EventPattern=PATTERN)
    events.put_targets(Rule="to-second", Targets=[{"Id": "b", "Arn": bus_arn("second")}])
    events.put_rule(Name="to-third", EventBusName="second", EventPattern=PATTERN)
    events.put_targets(Rule="to-third", EventBusName="second",
                       Targets=[{"Id": "b", "Arn": bus_arn("third")}, {"Id": "q", "Arn": QUEUE}])
    events.put_rule(Name="on-third", EventBusName="third", EventPattern=PATTERN)
    events.put_targets(Rule="on-third", EventBusName="third", Targets=[{"Id": "q3", "Arn": QUEUE}])
    events.put_events(Entries=[ENTRY])
    _deliveries(url)
    delivered = {(entry["info"]["bus"], entry["info"]["target"]) for entry in _deliveries(url)}
    assert delivered == {("default", "b"), ("second", "q")}


# ---------------------------------------------------------------------------------------- recorded targets

def test_targets_the_emulator_does_not_run_are_recorded_as_they_would_be_sent(events: Any, url: Any) -> None:
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"
    api = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc/prod/POST/orders/*"
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[
        {"Id": "fifo", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q.fifo", "SqsParameters": {"MessageGroupId": "g1"}},
        {"Id": "fn", "Arn": function, "InputTransformer": {
            "InputPathsMap": {"id": "$.detail.id"},
            "InputTemplate": '{"order": <id>, "rule": "<aws.events.rule-name>"}'}},
        {"Id": "api", "Arn": api, "Input": '{"fixed": true}', "HttpParameters": {
            "PathParameterValues": ["o-1"], "HeaderParameters": {"X-Team": "a"}, "QueryStringParameters": {"v": "1"}}},
    ])
    event_id = events.put_events(Entries=[ENTRY])["Entries"][0]["EventId"]
    by_target = {entry["info"]["target"]: entry for entry in _deliveries(url, eventId=event_id)}
    assert set(by_target) == {"fifo", "fn", "api"}
    assert all(entry["state"] == "delivered" and entry["info"]["ruleArn"] == rule_arn("r")
               for entry in by_target.values())
    fifo = by_target["fifo"]["payload"]
    assert fifo["service"] == "sqs" and fifo["messageGroupId"] == "g1" and json.loads(fifo["input"])["id"] == event_id
    assert json.loads(by_target["fn"]["payload"]["input"]) == {"order": "o-1", "rule": "r"}
    api_payload = by_target["api"]["payload"]
    assert api_payload["targetArn"] == api and json.loads(api_payload["input"]) == {"fixed": True}
    assert api_payload["HttpParameters"]["HeaderParameters"] == {"X-Team": "a"}
    assert [entry["info"]["target"] for entry in _deliveries(url, target="fn")] == ["fn"]


# ---------------------------------------------------------------------------------------- retries

def test_a_missing_stream_is_retried_on_the_clock_then_dead_lettered(events: Any, url: Any) -> None:
    missing = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/missing"
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "k", "Arn": missing, "RoleArn": ROLE, "DeadLetterConfig": {"Arn": DLQ},
                                            "RetryPolicy": {"MaximumRetryAttempts": 3}}])
    admin(url, "/_emulator/clock", "POST", {"freeze": True})
    event_id = events.put_events(Entries=[ENTRY])["Entries"][0]["EventId"]
    for attempts in (1, 2, 3, 4):
        (entry,) = _deliveries(url, targetArn=missing)
        assert len(entry["attempts"]) == attempts
        assert entry["attempts"][-1]["error"].startswith("NO_RESOURCE: ResourceNotFoundException")
        if attempts < 4:
            assert entry["state"] == "retrying"
            admin(url, "/_emulator/clock", "POST", {"advance": EventRetry.window(attempts)[1]})
    assert entry["state"] == "failed"
    waits = [b["at"] - a["at"] for a, b in itertools.pairwise(entry["attempts"])]
    assert all(EventRetry.window(n)[0] <= wait <= EventRetry.window(n)[1] for n, wait in enumerate(waits, 1))
    (dead,) = _deliveries(url, deadLetter="true")
    assert dead["info"]["targetArn"] == DLQ and dead["info"]["failedTargetArn"] == missing
    message = dead["payload"]
    assert json.loads(message["MessageBody"])["id"] == event_id
    assert {k: v["StringValue"] for k, v in message["MessageAttributes"].items()} == {
        "RULE_ARN": rule_arn("r"), "TARGET_ARN": missing, "ERROR_CODE": "NO_RESOURCE",
        "ERROR_MESSAGE": entry["attempts"][-1]["error"].removeprefix("NO_RESOURCE: "),
        "RETRY_ATTEMPTS": "3", "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts"}


def test_retries_stop_at_the_maximum_event_age(events: Any, url: Any) -> None:
    missing = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/missing"
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "k", "Arn": missing, "RoleArn": ROLE, "DeadLetterConfig": {"Arn": DLQ},
                                            "RetryPolicy": {"MaximumEventAgeInSeconds": 60}}])
    admin(url, "/_emulator/clock", "POST", {"freeze": True})
    events.put_events(Entries=[ENTRY])
    for _ in range(12):
        admin(url, "/_emulator/clock", "POST", {"advance": 30})
        _deliveries(url)
    (entry,) = _deliveries(url, targetArn=missing)
    assert entry["state"] == "failed"
    assert entry["attempts"][-1]["at"] - entry["attempts"][0]["at"] <= 60
    (dead,) = _deliveries(url, deadLetter="true")
    condition = dead["payload"]["MessageAttributes"]["EXHAUSTED_RETRY_CONDITION"]["StringValue"]
    assert condition == "MaximumEventAgeInSeconds"


def test_a_stream_created_while_retrying_gets_the_event_once(events: Any, aws_client: Any, url: Any) -> None:
    kinesis = aws_client("kinesis")
    arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/late"
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "k", "Arn": arn, "RoleArn": ROLE}])
    admin(url, "/_emulator/clock", "POST", {"freeze": True})
    events.put_events(Entries=[ENTRY])
    assert _deliveries(url)[0]["state"] == "retrying"
    _stream(kinesis, "late")
    admin(url, "/_emulator/clock", "POST", {"advance": BACKOFF_CAP})
    (entry,) = _deliveries(url)
    assert entry["state"] == "delivered" and len(entry["attempts"]) == 2
    admin(url, "/_emulator/clock", "POST", {"advance": BACKOFF_CAP * 4})
    assert len(_records(kinesis, "late")) == 1


@pytest.mark.parametrize(
    ("attempts", "low", "high"), [(1, 0.5, 1.0), (2, 1.0, 2.0), (5, 8.0, 16.0), (10, 256.0, 512.0), (40, 300.0, 600.0)],
)
def test_backoff_doubles_up_to_its_cap_with_bounded_jitter(attempts: int, low: float, high: float) -> None:
    assert EventRetry.window(attempts) == (low, high)
    wait = EventRetry(seed="e").delay(attempts, 0.0, Outcome(ok=False))
    assert wait is not None and low <= wait <= high
    assert wait == EventRetry(seed="e").delay(attempts, 0.0, Outcome(ok=False))  # the same seed, the same wait


def test_the_default_policy_makes_185_attempts_within_a_day() -> None:
    policy = EventRetry.of(None, seed="e")
    age, attempts = 0.0, 1
    while (wait := policy.delay(attempts, age, Outcome(ok=False))) is not None:
        age += wait
        attempts += 1
    assert policy.exhausted(attempts) in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds")
    assert age <= 86_400 and 150 <= attempts <= 186


def test_no_retries_when_the_policy_allows_none() -> None:
    policy = EventRetry.of({"MaximumRetryAttempts": 0}, seed="e")
    assert policy.delay(1, 0.0, Outcome(ok=False)) is None and policy.exhausted(1) == "MaximumRetryAttempts"


def test_an_input_that_cannot_be_rendered_fails_without_retry_to_the_dead_letter(events: Any, url: Any) -> None:
    events.put_rule(Name="r", EventPattern=PATTERN)
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": QUEUE, "DeadLetterConfig": {"Arn": DLQ},
                                            "InputTransformer": {"InputPathsMap": {"t": "$.detail.total"},
                                                                 "InputTemplate": '{"total": "<t>"}'}}])
    # Extracted text is not escaped (as on AWS): a quote in it breaks the JSON template.
    events.put_events(Entries=[{**ENTRY, "Detail": json.dumps({"total": 'a"b'})}])
    entry, dead = _deliveries(url, target="q")
    assert entry["state"] == "failed" and entry["attempts"][0]["error"].startswith("INVALID_JSON: ")
    assert dead["payload"]["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "INVALID_JSON"

