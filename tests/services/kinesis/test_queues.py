"""Kinesis queues: the control plane, delivery with receipt handles and visibility timeouts, dead-letter
records, retention, long polling off the event loop and concurrent receivers."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import botocore.session
import cbor2
import pytest
from botocore.exceptions import ClientError

from emulator.testing import admin
from tests.rawhttp import send, signed
from tests.services.kinesis.conftest import arn, error_of

_MODEL = botocore.session.get_session().get_service_model("kinesis")
pytestmark = pytest.mark.skipif(
    "CreateQueue" not in _MODEL.operation_names, reason="this botocore's Kinesis model has no queues"
)

MARKER = "marker"


def advance(url: str, seconds: float) -> None:
    admin(url, "/_emulator/clock", "POST", {"advance": seconds})


def on_demand(kinesis: Any, name: str = "s") -> str:
    kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    return arn(name)


def make_queue(kinesis: Any, stream_arn: str, name: str = "q", start: str = "LATEST", **extra: Any) -> str:
    config: dict[str, Any] = {"StreamARN": stream_arn, "StartingPosition": {"Type": start}}
    if "Timestamp" in extra:
        config["StartingPosition"]["Timestamp"] = extra.pop("Timestamp")
    return kinesis.create_queue(QueueName=name, StreamConfigurationList=[config], **extra)["QueueDescription"][
        "QueueARN"
    ]


def put(kinesis: Any, *datas: bytes, stream: str = "s") -> None:
    for index, data in enumerate(datas):
        kinesis.put_record(StreamName=stream, Data=data, PartitionKey=f"key-{index}-{data!r}")


def visible(kinesis: Any, queue: str, stream: str = "s") -> list[dict]:
    """What the queue hands out now, without waiting: a marker record put last ends the receive at once;
    the marker itself is acknowledged and left out."""
    put(kinesis, MARKER.encode(), stream=stream)
    records = kinesis.receive_queue_records(QueueARN=queue, Limit=10)["QueueRecords"]
    markers = [r for r in records if r["Data"] == MARKER.encode()]
    assert markers, "the marker was not delivered"
    kinesis.acknowledge_queue_records(QueueARN=queue, Entries=[{"ReceiptHandle": r["ReceiptHandle"]} for r in markers])
    return [r for r in records if r["Data"] != MARKER.encode()]


def receive(kinesis: Any, queue: str, limit: int = 10, **extra: Any) -> list[dict]:
    return kinesis.receive_queue_records(QueueARN=queue, Limit=limit, **extra)["QueueRecords"]


def handles(records: list[dict]) -> list[dict[str, str]]:
    return [{"ReceiptHandle": r["ReceiptHandle"]} for r in records]


# -- control plane ------------------------------------------------------------------------------


def test_create_queue_answers_creating_then_describes_active_with_the_documented_defaults(kinesis) -> None:
    stream = on_demand(kinesis)
    created = kinesis.create_queue(QueueName="q", StreamConfigurationList=[{"StreamARN": stream}])["QueueDescription"]
    assert created["QueueStatus"] == "CREATING"
    assert created["QueueARN"].startswith("arn:aws:kinesis:us-east-1:000000000000:queue/")
    assert not created["QueueARN"].endswith("/q")  # the ARN's id is generated, not the name
    assert created["StreamConfigurationList"] == [{"StreamARN": stream, "StartingPosition": {"Type": "LATEST"}}]
    described = kinesis.describe_queue(QueueARN=created["QueueARN"])["QueueDescription"]
    assert described["QueueStatus"] == "ACTIVE"
    assert described["QueueAttributes"] == {
        "VisibilityTimeoutSeconds": 30,
        "DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 6},
    }
    assert "Timestamp" in described["StreamConfigurationList"][0]["StartingPosition"]


def test_queue_states_follow_the_clock_and_only_an_active_queue_delivers(kinesis, emulator_url, settings) -> None:
    settings(kinesis_transition_seconds=5)
    kinesis.create_stream(StreamName="s", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    advance(emulator_url, 5)
    queue = make_queue(kinesis, arn("s"))
    assert kinesis.describe_queue(QueueARN=queue)["QueueDescription"]["QueueStatus"] == "CREATING"
    code, _ = error_of(kinesis.receive_queue_records, QueueARN=queue)
    assert code == "ResourceNotFoundException"
    code, _ = error_of(kinesis.update_queue, QueueARN=queue, QueueAttributes={"VisibilityTimeoutSeconds": 5})
    assert code == "ResourceInUseException"
    advance(emulator_url, 5)
    assert kinesis.describe_queue(QueueARN=queue)["QueueDescription"]["QueueStatus"] == "ACTIVE"

    updated = kinesis.update_queue(QueueARN=queue, QueueAttributes={"VisibilityTimeoutSeconds": 100})
    assert updated["QueueDescription"]["QueueStatus"] == "UPDATING"
    assert updated["QueueDescription"]["QueueAttributes"]["VisibilityTimeoutSeconds"] == 100
    assert updated["QueueDescription"]["QueueAttributes"]["DeadLetterConfiguration"]["MaxReceiveCount"] == 6
    put(kinesis, b"during update")
    assert [r["Data"] for r in receive(kinesis, queue)] == [b"during update"]  # UPDATING still delivers
    advance(emulator_url, 5)
    assert kinesis.describe_queue(QueueARN=queue)["QueueDescription"]["QueueStatus"] == "ACTIVE"

    kinesis.delete_queue(QueueARN=queue)
    assert kinesis.describe_queue(QueueARN=queue)["QueueDescription"]["QueueStatus"] == "DELETING"
    advance(emulator_url, 5)
    code, message = error_of(kinesis.describe_queue, QueueARN=queue)
    assert (code, message) == ("ResourceNotFoundException", f"Queue {queue} under account 000000000000 not found.")


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        (
            {"StreamConfigurationList": [{"StreamARN": arn("s")}, {"StreamARN": arn("s")}]},
            "ValidationException",
            "StreamConfigurationList must contain exactly one entry.",
        ),
        (
            {"StreamConfigurationList": [{"StreamARN": arn("s"), "StartingPosition": {"Type": "AT_TIMESTAMP"}}]},
            "ValidationException",
            "Timestamp is required when the StartingPosition Type is AT_TIMESTAMP.",
        ),
        (
            {"StreamConfigurationList": [
                {"StreamARN": arn("s"), "StartingPosition": {"Type": "LATEST", "Timestamp": 1}}
            ]},
            "ValidationException",
            "Timestamp can only be specified when the StartingPosition Type is AT_TIMESTAMP.",
        ),
        (
            {"QueueAttributes": {"DeadLetterConfiguration": {"TargetType": "BUILT_IN"}}},
            "ValidationException",
            "MaxReceiveCount is required when TargetType is BUILT_IN.",
        ),
        (
            {"StreamConfigurationList": [{"StreamARN": arn("p")}]},
            "InvalidArgumentException",
            "Queues are supported only on ON_DEMAND streams. Stream p under account 000000000000 is in "
            "PROVISIONED mode.",
        ),
        (
            {"StreamConfigurationList": [{"StreamARN": arn("missing")}]},
            "ResourceNotFoundException",
            "Stream missing under account 000000000000 not found.",
        ),
        ({"QueueAttributes": {"VisibilityTimeoutSeconds": 43201}}, "ValidationException", None),
        ({"QueueName": "bad name"}, "ValidationException", None),
    ],
)
def test_create_queue_refuses_bad_input(kinesis, raw_kinesis, change, code, message) -> None:
    on_demand(kinesis)
    kinesis.create_stream(StreamName="p", ShardCount=1)
    request = {"QueueName": "q", "StreamConfigurationList": [{"StreamARN": arn("s")}], **change}
    with pytest.raises(ClientError) as info:
        raw_kinesis.create_queue(**request)
    error = info.value.response["Error"]
    assert error["Code"] == code and info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    if message is not None:
        assert error["Message"] == message
    assert kinesis.list_queues()["QueueSummaries"] == []  # a refused request changes nothing


def test_queue_names_are_unique_per_account_and_region(kinesis, aws_client) -> None:
    make_queue(kinesis, on_demand(kinesis))
    assert error_of(kinesis.create_queue, QueueName="q", StreamConfigurationList=[{"StreamARN": arn("s")}]) == (
        "ResourceInUseException",
        "Queue q under account 000000000000 already exists.",
    )
    other = aws_client("kinesis", region="eu-west-1")
    other.create_stream(StreamName="s", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    make_queue(other, arn("s", region="eu-west-1"))  # the same name in another Region
    assert [q["QueueName"] for q in other.list_queues()["QueueSummaries"]] == ["q"]


def test_a_queue_of_another_account_is_not_found(kinesis, aws_client) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    stranger = aws_client("kinesis", account="111111111111")
    code, _ = error_of(stranger.describe_queue, QueueARN=queue)
    assert code == "ResourceNotFoundException"


def test_queues_share_the_registered_consumer_limit_with_enhanced_fan_out(kinesis) -> None:
    stream = on_demand(kinesis)
    for index in range(19):
        kinesis.register_stream_consumer(StreamARN=stream, ConsumerName=f"c{index}")
    make_queue(kinesis, stream, "q0")
    limit = ("LimitExceededException", "Stream s under account 000000000000 already has 20 registered consumers, "
             "the maximum allowed.")
    assert error_of(kinesis.create_queue, QueueName="q1", StreamConfigurationList=[{"StreamARN": stream}]) == limit
    assert error_of(kinesis.register_stream_consumer, StreamARN=stream, ConsumerName="c19") == limit


def test_a_stream_with_queues_stays_on_demand(kinesis) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    code, _ = error_of(kinesis.update_stream_mode, StreamARN=arn("s"), StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert code == "ResourceInUseException"
    kinesis.delete_queue(QueueARN=queue)
    kinesis.update_stream_mode(StreamARN=arn("s"), StreamModeDetails={"StreamMode": "PROVISIONED"})


def test_list_queues_pages_and_filters_by_stream(kinesis, raw_kinesis) -> None:
    on_demand(kinesis, "a")
    on_demand(kinesis, "b")
    for index in range(5):
        make_queue(kinesis, arn("a" if index % 2 else "b"), f"q{index}")
    names, token = [], None
    while True:
        page = kinesis.list_queues(MaxResults=2, **({"NextToken": token} if token else {}))
        names += [q["QueueName"] for q in page["QueueSummaries"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names == ["q0", "q1", "q2", "q3", "q4"]
    only_a = kinesis.list_queues(StreamFilter=[{"StreamARN": arn("a")}])["QueueSummaries"]
    assert [q["QueueName"] for q in only_a] == ["q1", "q3"]
    assert only_a[0]["Streams"][0]["StreamARN"] == arn("a")
    created = kinesis.describe_stream_summary(StreamName="a")["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    same = kinesis.list_queues(StreamFilter=[{"StreamARN": arn("a"), "StreamCreationTimestamp": created}])
    assert len(same["QueueSummaries"]) == 2
    code, message = error_of(raw_kinesis.list_queues, NextToken="forged")
    assert (code, message) == ("InvalidArgumentException", "Invalid NextToken: forged")


def test_queue_tags_are_kept_and_changed_through_the_resource_operations(kinesis) -> None:
    queue = make_queue(kinesis, on_demand(kinesis), Tags={"team": "a"})
    kinesis.tag_resource(ResourceARN=queue, Tags={"env": "test"})
    kinesis.untag_resource(ResourceARN=queue, TagKeys=["team"])
    assert kinesis.list_tags_for_resource(ResourceARN=queue)["Tags"] == [{"Key": "env", "Value": "test"}]


# -- delivery -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [("LATEST", [b"new"]), ("TRIM_HORIZON", [b"old", b"new"]), ("AT_TIMESTAMP", [b"new"])],
)
def test_a_queue_starts_where_its_starting_position_says(kinesis, emulator_url, start, expected) -> None:
    stream = on_demand(kinesis)
    put(kinesis, b"old")
    advance(emulator_url, 60)
    extra = {"Timestamp": kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"][
        "StreamCreationTimestamp"].timestamp() + 30} if start == "AT_TIMESTAMP" else {}
    queue = make_queue(kinesis, stream, start=start, **extra)
    put(kinesis, b"new")
    assert sorted(r["Data"] for r in visible(kinesis, queue)) == sorted(expected)


def test_every_queue_on_a_stream_sees_every_record(kinesis) -> None:
    stream = on_demand(kinesis)
    first, second = make_queue(kinesis, stream, "one"), make_queue(kinesis, stream, "two")
    put(kinesis, *[b"r%d" % i for i in range(6)])
    got_first, got_second = visible(kinesis, first), visible(kinesis, second)
    everything = [b"r%d" % i for i in range(6)]
    assert sorted(r["Data"] for r in got_first) == sorted(r["Data"] for r in got_second) == everything
    # A record's RecordId is the same in every queue; its receipt handles are not.
    assert {r["RecordId"] for r in got_first} == {r["RecordId"] for r in got_second}
    assert not {r["ReceiptHandle"] for r in got_first} & {r["ReceiptHandle"] for r in got_second}


def test_receive_honours_limit_and_keeps_records_in_flight_until_their_timeout(kinesis, emulator_url) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    put(kinesis, *[b"r%d" % i for i in range(5)])
    first = receive(kinesis, queue, limit=3)
    assert len(first) == 3 and all(r["ReceiveCount"] == 1 for r in first)
    assert first[0]["FirstReceiveTimestamp"] >= first[0]["ApproximateArrivalTimestamp"]
    rest = visible(kinesis, queue)
    assert len(rest) == 2 and not {r["RecordId"] for r in rest} & {r["RecordId"] for r in first}
    advance(emulator_url, 29)
    assert visible(kinesis, queue) == []  # 30 seconds in flight by default
    advance(emulator_url, 1)
    again = visible(kinesis, queue)
    assert sorted(r["RecordId"] for r in again) == sorted(r["RecordId"] for r in first + rest)
    assert {r["ReceiveCount"] for r in again} == {2}
    # The handles of the first receive were overtaken by the second: each fails its own entry only.
    answer = kinesis.acknowledge_queue_records(QueueARN=queue, Entries=handles(first[:1] + again[:1]))
    assert answer["Successful"] == handles(again[:1])
    assert [(f["ReceiptHandle"], f["ErrorCode"]) for f in answer["Failed"]] == [
        (first[0]["ReceiptHandle"], "InvalidArgumentException")
    ]


def test_acknowledged_records_never_come_back_and_a_spent_handle_fails_alone(kinesis, emulator_url) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    put(kinesis, b"a", b"b")
    records = receive(kinesis, queue)
    first = kinesis.acknowledge_queue_records(QueueARN=queue, Entries=handles(records))
    assert first["Successful"] == handles(records) and first["Failed"] == []
    forged = records[0]["ReceiptHandle"][:-4] + "AAAA"
    second = kinesis.acknowledge_queue_records(
        QueueARN=queue, Entries=handles(records[:1]) + [{"ReceiptHandle": forged}]
    )
    assert second["Successful"] == []
    assert [f["ErrorCode"] for f in second["Failed"]] == ["InvalidArgumentException"] * 2
    advance(emulator_url, 3600)
    assert visible(kinesis, queue) == []


def test_a_handle_of_one_queue_does_nothing_in_another(kinesis) -> None:
    stream = on_demand(kinesis)
    first, second = make_queue(kinesis, stream, "one"), make_queue(kinesis, stream, "two")
    put(kinesis, b"x")
    record = receive(kinesis, first)
    answer = kinesis.acknowledge_queue_records(QueueARN=second, Entries=handles(record))
    assert answer["Successful"] == [] and answer["Failed"][0]["ErrorCode"] == "InvalidArgumentException"


def test_visibility_can_be_extended_or_ended_per_record(kinesis, emulator_url) -> None:
    queue = make_queue(kinesis, on_demand(kinesis), QueueAttributes={"VisibilityTimeoutSeconds": 10})
    put(kinesis, b"slow", b"retry")
    records = {r["Data"]: r for r in receive(kinesis, queue)}
    answer = kinesis.update_queue_records_visibility(
        QueueARN=queue,
        Entries=[
            {"ReceiptHandle": records[b"slow"]["ReceiptHandle"], "VisibilityTimeoutSeconds": 100},
            {"ReceiptHandle": records[b"retry"]["ReceiptHandle"], "VisibilityTimeoutSeconds": 0},
        ],
    )
    assert len(answer["Successful"]) == 2 and answer["Failed"] == []
    assert [r["Data"] for r in visible(kinesis, queue)] == [b"retry"]
    advance(emulator_url, 50)
    again = visible(kinesis, queue)
    assert [r["Data"] for r in again] == [b"retry"]  # in flight for 10 s after its second receive; then back
    advance(emulator_url, 50)
    assert sorted(r["Data"] for r in visible(kinesis, queue)) == [b"retry", b"slow"]


def test_a_receive_may_set_its_own_visibility_timeout(kinesis, emulator_url) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    put(kinesis, b"x")
    receive(kinesis, queue, VisibilityTimeoutSeconds=5)
    advance(emulator_url, 5)
    assert [r["Data"] for r in visible(kinesis, queue)] == [b"x"]


def test_an_update_of_the_visibility_timeout_applies_to_later_receives(kinesis, emulator_url) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    put(kinesis, b"before")
    receive(kinesis, queue)
    kinesis.update_queue(QueueARN=queue, QueueAttributes={"VisibilityTimeoutSeconds": 300})
    put(kinesis, b"after")
    receive(kinesis, queue)
    advance(emulator_url, 30)
    assert [r["Data"] for r in visible(kinesis, queue)] == [b"before"]


def test_records_received_max_receive_count_times_become_dead_letters_and_can_be_restored(
    kinesis, emulator_url
) -> None:
    queue = make_queue(
        kinesis, on_demand(kinesis),
        QueueAttributes={"VisibilityTimeoutSeconds": 10,
                         "DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 2}},
    )
    put(kinesis, b"poison")
    assert [r["ReceiveCount"] for r in receive(kinesis, queue)] == [1]
    advance(emulator_url, 10)
    last = receive(kinesis, queue)
    assert [r["ReceiveCount"] for r in last] == [2]
    advance(emulator_url, 10)
    assert visible(kinesis, queue) == []  # dead: only the dead-letter operations see it
    answer = kinesis.acknowledge_queue_records(QueueARN=queue, Entries=handles(last))
    assert answer["Failed"][0]["ErrorCode"] == "InvalidArgumentException"

    dead = kinesis.receive_dead_letter_queue_records(QueueARN=queue)["QueueRecords"]
    assert [r["Data"] for r in dead] == [b"poison"]
    wrong_side = kinesis.acknowledge_queue_records(QueueARN=queue, Entries=handles(dead))
    assert wrong_side["Failed"][0]["ErrorCode"] == "InvalidArgumentException"
    restored = kinesis.restore_dead_letter_queue_records(QueueARN=queue, Entries=handles(dead))
    assert restored["Successful"] == handles(dead)
    back = visible(kinesis, queue)
    assert [(r["Data"], r["ReceiveCount"]) for r in back] == [(b"poison", 1)]  # its receive count reset


def test_dead_letter_records_have_their_own_visibility_and_acknowledgement(kinesis, emulator_url) -> None:
    queue = make_queue(
        kinesis, on_demand(kinesis),
        QueueAttributes={"DeadLetterConfiguration": {"TargetType": "BUILT_IN", "MaxReceiveCount": 1}},
    )
    put(kinesis, b"poison")
    receive(kinesis, queue)
    advance(emulator_url, 30)
    dead = kinesis.receive_dead_letter_queue_records(QueueARN=queue, VisibilityTimeoutSeconds=100)["QueueRecords"]
    changed = kinesis.update_dead_letter_queue_records_visibility(
        QueueARN=queue, Entries=[{"ReceiptHandle": dead[0]["ReceiptHandle"], "VisibilityTimeoutSeconds": 0}]
    )
    assert changed["Successful"] == handles(dead)
    again = kinesis.receive_dead_letter_queue_records(QueueARN=queue)["QueueRecords"]
    assert [r["Data"] for r in again] == [b"poison"]
    acknowledged = kinesis.acknowledge_dead_letter_queue_records(QueueARN=queue, Entries=handles(again))
    assert acknowledged["Successful"] == handles(again)
    restored = kinesis.restore_dead_letter_queue_records(QueueARN=queue, Entries=handles(again))
    assert restored["Failed"][0]["ErrorCode"] == "InvalidArgumentException"


def test_without_dead_letter_handling_a_record_keeps_coming_back(kinesis, emulator_url) -> None:
    queue = make_queue(kinesis, on_demand(kinesis), QueueAttributes={"DeadLetterConfiguration": {"TargetType": "NONE"}})
    put(kinesis, b"x")
    for count in range(1, 9):
        assert [r["ReceiveCount"] for r in visible(kinesis, queue)] == [count]
        advance(emulator_url, 30)


def test_a_queue_never_extends_the_streams_retention(kinesis, emulator_url) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    put(kinesis, b"in flight", b"never received")
    receive(kinesis, queue, limit=1)
    advance(emulator_url, 24 * 3600)
    assert visible(kinesis, queue) == []


def test_records_deleted_with_their_queue_are_gone_for_good(kinesis) -> None:
    stream = on_demand(kinesis)
    queue = make_queue(kinesis, stream)
    put(kinesis, b"x")
    record = receive(kinesis, queue)
    kinesis.delete_queue(QueueARN=queue)
    code, _ = error_of(kinesis.acknowledge_queue_records, QueueARN=queue, Entries=handles(record))
    assert code == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("operation", "request_", "message"),
    [
        ("receive_queue_records", {"Limit": 11}, "at 'limit'"),
        ("receive_queue_records", {"WaitTimeSeconds": 21}, "at 'waitTimeSeconds'"),
        ("receive_queue_records", {"VisibilityTimeoutSeconds": -1}, "at 'visibilityTimeoutSeconds'"),
        ("acknowledge_queue_records", {"Entries": []}, "at 'entries'"),
        ("acknowledge_queue_records", {"Entries": [{"ReceiptHandle": "h"}] * 11}, "at 'entries'"),
    ],
)
def test_data_operations_refuse_bad_input(kinesis, raw_kinesis, operation, request_, message) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    with pytest.raises(ClientError) as info:
        getattr(raw_kinesis, operation)(QueueARN=queue, **request_)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert message in info.value.response["Error"]["Message"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# -- long polling and concurrency ---------------------------------------------------------------


def test_a_waiting_receive_returns_when_a_record_arrives_while_the_server_answers_others(kinesis) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    got: list[list[dict]] = []
    waiting = threading.Thread(target=lambda: got.append(receive(kinesis, queue, WaitTimeSeconds=20)))
    waiting.start()
    # Meanwhile the event loop still answers: the wait is on a thread of its own.
    assert kinesis.describe_queue(QueueARN=queue)["QueueDescription"]["QueueStatus"] == "ACTIVE"
    put(kinesis, b"wake up")
    waiting.join(timeout=15)
    assert not waiting.is_alive()
    assert [r["Data"] for r in got[0]] == [b"wake up"]


def test_a_waiting_receive_ends_empty_when_the_clock_passes_its_wait(kinesis, emulator_url) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    got: list[list[dict]] = []
    started = threading.Event()

    def wait() -> None:
        started.set()
        got.append(receive(kinesis, queue, WaitTimeSeconds=20))

    waiting = threading.Thread(target=wait)
    waiting.start()
    started.wait()
    while waiting.is_alive():  # the clock moves past any wait that began before the move
        advance(emulator_url, 21)
        waiting.join(timeout=0.2)
    assert got == [[]]


def test_a_waiting_receive_gets_a_record_whose_visibility_ran_out(kinesis, emulator_url) -> None:
    queue = make_queue(kinesis, on_demand(kinesis), QueueAttributes={"VisibilityTimeoutSeconds": 15})
    put(kinesis, b"x")
    receive(kinesis, queue)
    got: list[list[dict]] = []
    waiting = threading.Thread(target=lambda: got.append(receive(kinesis, queue, WaitTimeSeconds=20)))
    waiting.start()
    while waiting.is_alive():
        advance(emulator_url, 15)
        waiting.join(timeout=0.2)
    assert [[r["Data"] for r in records] for records in got] == [[b"x"]]


def test_concurrent_receivers_never_share_a_record_within_its_visibility_and_lose_none(kinesis) -> None:
    queue = make_queue(kinesis, on_demand(kinesis), QueueAttributes={"VisibilityTimeoutSeconds": 600})
    total = 300
    kinesis.put_records(StreamName="s", Records=[{"Data": b"%d" % i, "PartitionKey": f"k{i}"} for i in range(total)])

    def drain(_: int) -> list[bytes]:
        mine: list[bytes] = []
        while True:
            records = receive(kinesis, queue, WaitTimeSeconds=1)
            if not records:
                return mine
            mine += [r["Data"] for r in records]
            kinesis.acknowledge_queue_records(QueueARN=queue, Entries=handles(records[: len(records) // 2]))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(drain, range(8)))
    counts = Counter(data for result in results for data in result)
    assert len(counts) == total and set(counts.values()) == {1}


# -- CBOR ---------------------------------------------------------------------------------------


def test_queue_records_in_cbor_carry_bytes_and_millisecond_timestamps(kinesis, emulator_url) -> None:
    queue = make_queue(kinesis, on_demand(kinesis))
    put(kinesis, b"\x00\xffbin")
    response = send(
        emulator_url,
        body=cbor2.dumps({"QueueARN": queue, "Limit": 10}),
        headers={
            **signed("kinesis"),
            "X-Amz-Target": "Kinesis_20131202.ReceiveQueueRecords",
            "Content-Type": "application/x-amz-cbor-1.1",
        },
    )
    assert response.status == 200
    record = cbor2.loads(response.body)["QueueRecords"][0]
    assert record["Data"] == b"\x00\xffbin" and isinstance(record["ApproximateArrivalTimestamp"], int)
    answer = kinesis.acknowledge_queue_records(QueueARN=queue, Entries=[{"ReceiptHandle": record["ReceiptHandle"]}])
    assert answer["Failed"] == []
