"""Concurrent publishers lose nothing: every message SNS acknowledged reaches the subscriber (at least
once on a standard topic, over real HTTP; exactly once and in publish order per message group on a
FIFO topic), with 8 threads publishing at the same time."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from tests.receivers import receiver
from tests.services.sns.test_handshake import recorded, subscribe_confirmed, wait_until

THREADS = 8
PER_THREAD = 40
GROUPS = ("g1", "g2", "g3")
QUEUE = "arn:aws:sqs:us-east-1:000000000000:orders.fifo"


def run_together(work: Callable[[int], None]) -> None:
    """Runs ``work(i)`` for each of THREADS threads, started together; re-raises the first failure."""
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def body(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures[0]


def test_every_acknowledged_message_reaches_the_http_subscriber(aws_client: Any) -> None:
    with receiver() as http_receiver:
        check_http_fanout(aws_client, http_receiver)


def check_http_fanout(aws_client: Any, http_receiver: Any) -> None:
    sns = aws_client("sns")
    topic_arn = sns.create_topic(Name="busy")["TopicArn"]
    subscribe_confirmed(sns, topic_arn, http_receiver)
    acknowledged: list[str] = []
    lock = threading.Lock()

    def publish(i: int) -> None:
        client = aws_client("sns")
        for n in range(PER_THREAD):
            message_id = client.publish(TopicArn=topic_arn, Message=f"{i}-{n}")["MessageId"]
            with lock:
                acknowledged.append(message_id)

    run_together(publish)

    total = THREADS * PER_THREAD
    notifications = [r.json() for r in http_receiver.wait_for(1 + total, timeout=30)[1:]]
    assert {n["MessageId"] for n in notifications} == set(acknowledged)
    assert len(acknowledged) == total


def test_fifo_delivers_each_message_once_in_order_per_group(aws_client: Any, emulator_url: str) -> None:
    sns = aws_client("sns")
    topic_arn = sns.create_topic(Name="orders.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=QUEUE, Attributes={"RawMessageDelivery": "true"})
    sequence: dict[str, str] = {}  # body -> the SequenceNumber Publish answered
    lock = threading.Lock()

    def publish(i: int) -> None:
        client = aws_client("sns")
        for n in range(PER_THREAD):
            body = f"{i}-{n}"
            group = GROUPS[(i + n) % len(GROUPS)]
            answer = client.publish(TopicArn=topic_arn, Message=body, MessageGroupId=group,
                                    MessageDeduplicationId=body)
            again = client.publish(TopicArn=topic_arn, Message=body, MessageGroupId=group,
                                   MessageDeduplicationId=body)  # a duplicate: acknowledged, not delivered
            assert again["SequenceNumber"] == answer["SequenceNumber"]
            with lock:
                sequence[body] = answer["SequenceNumber"]

    run_together(publish)

    total = THREADS * PER_THREAD
    delivered = wait_until(lambda: (found := recorded(emulator_url, endpoint=QUEUE)) and len(found) >= total and found)
    assert len(delivered) == total
    bodies = [entry["payload"]["MessageBody"] for entry in delivered]
    assert sorted(bodies) == sorted(sequence)  # each acknowledged message once
    by_group: dict[str, list[str]] = defaultdict(list)
    for entry in delivered:
        by_group[entry["payload"]["MessageGroupId"]].append(entry["payload"]["MessageBody"])
    for group, received in by_group.items():
        assert received == sorted(received, key=lambda body: int(sequence[body])), group
    assert sorted(by_group) == sorted(GROUPS)
    assert {entry["state"] for entry in delivered} == {"delivered"}
