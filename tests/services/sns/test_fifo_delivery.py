"""FIFO topics: each subscriber gets a message group's messages in publish order, once each, in the
envelope AWS sends for FIFO topics (a SequenceNumber, no signature)."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from typing import Any

from tests.services.sns.test_handshake import recorded, wait_until

QUEUES = ["arn:aws:sqs:us-east-1:000000000000:first.fifo", "arn:aws:sqs:us-east-1:000000000000:second.fifo"]


def fifo_topic(sns: Any, **attributes: str) -> str:
    return sns.create_topic(Name="orders.fifo", Attributes={"FifoTopic": "true", **attributes})["TopicArn"]


def test_the_fifo_envelope_has_a_sequence_number_and_no_signature(sns: Any, emulator_url: str) -> None:
    topic_arn = fifo_topic(sns)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=QUEUES[0])
    answer = sns.publish(TopicArn=topic_arn, Message="first", MessageGroupId="g", MessageDeduplicationId="d1")

    entry = wait_until(lambda: recorded(emulator_url))[0]
    payload = entry["payload"]
    assert (payload["MessageGroupId"], payload["MessageDeduplicationId"]) == ("g", "d1")
    envelope = json.loads(payload["MessageBody"])
    assert list(envelope) == ["Type", "MessageId", "SequenceNumber", "TopicArn", "Message", "Timestamp",
                              "UnsubscribeURL"]
    assert (envelope["MessageId"], envelope["SequenceNumber"]) == (answer["MessageId"], answer["SequenceNumber"])


def test_raw_fifo_delivery_keeps_group_and_deduplication_ids(sns: Any, emulator_url: str) -> None:
    topic_arn = fifo_topic(sns, ContentBasedDeduplication="true")
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=QUEUES[0], Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic_arn, Message="raw", MessageGroupId="g")
    payload = wait_until(lambda: recorded(emulator_url))[0]["payload"]
    assert payload["MessageBody"] == "raw"
    assert payload["MessageGroupId"] == "g"
    assert len(payload["MessageDeduplicationId"]) == 64  # the body's SHA-256, content-based


def test_duplicates_are_not_delivered_again(sns: Any, emulator_url: str) -> None:
    topic_arn = fifo_topic(sns)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=QUEUES[0])
    first = sns.publish(TopicArn=topic_arn, Message="once", MessageGroupId="g", MessageDeduplicationId="same")
    again = sns.publish(TopicArn=topic_arn, Message="once", MessageGroupId="g", MessageDeduplicationId="same")
    sns.publish(TopicArn=topic_arn, Message="next", MessageGroupId="g", MessageDeduplicationId="other")
    assert again["MessageId"] == first["MessageId"]

    delivered = wait_until(lambda: (found := recorded(emulator_url)) and len(found) >= 2 and found)
    assert [json.loads(m["payload"]["MessageBody"])["Message"] for m in delivered] == ["once", "next"]


def test_each_subscriber_gets_each_group_in_publish_order_under_concurrent_publishers(
        sns: Any, emulator_url: str, aws_client: Any) -> None:
    topic_arn = fifo_topic(sns)
    for queue in QUEUES:
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue)
    groups = ["a", "b", "c"]
    per_publisher = 30
    errors: list[BaseException] = []

    def publisher(number: int) -> None:
        client = aws_client("sns")
        try:
            for i in range(per_publisher):
                client.publish(TopicArn=topic_arn, Message=f"p{number}-{i}", MessageGroupId=groups[i % len(groups)],
                               MessageDeduplicationId=f"p{number}-{i}")
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=publisher, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    total = 4 * per_publisher * len(QUEUES)
    entries = wait_until(lambda: (found := recorded(emulator_url)) and len(found) == total and found)
    assert len({e["messageId"] for e in entries}) == total // len(QUEUES)

    lanes: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        lanes[(entry["endpoint"], entry["payload"]["MessageGroupId"])].append(entry)
    assert len(lanes) == len(QUEUES) * len(groups)
    for lane in lanes.values():
        sequence = [int(json.loads(e["payload"]["MessageBody"])["SequenceNumber"]) for e in lane]
        assert sequence == sorted(sequence)  # handed over in publish order (sequence numbers grow)
        by_time = sorted(lane, key=lambda e: e["at"])  # and delivered one after another in that order
        assert [e["messageId"] for e in by_time] == [e["messageId"] for e in lane]
    for queue in QUEUES:  # each publisher's own messages keep their order
        bodies = [json.loads(e["payload"]["MessageBody"])["Message"] for e in entries if e["endpoint"] == queue]
        for number in range(4):
            assert [int(b.split("-")[1]) for b in bodies if b.startswith(f"p{number}-")] == list(range(per_publisher))


def test_replay_redelivers_archived_messages_marked_replayed(sns: Any, emulator_url: str) -> None:
    topic_arn = fifo_topic(sns, ArchivePolicy=json.dumps({"MessageRetentionPeriod": "30"}))
    sent = [sns.publish(TopicArn=topic_arn, Message=f"m{i}", MessageGroupId="g",
                        MessageDeduplicationId=f"d{i}")["MessageId"] for i in range(3)]
    policy = {"PointType": "Timestamp", "StartingPoint": "2000-01-01T00:00:00Z"}
    subscription_arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=QUEUES[0],
                                     Attributes={"ReplayPolicy": json.dumps(policy)})["SubscriptionArn"]
    live = sns.publish(TopicArn=topic_arn, Message="live", MessageGroupId="g", MessageDeduplicationId="d9")

    entries = wait_until(lambda: (found := recorded(emulator_url)) and len(found) == 4 and found)
    envelopes = [json.loads(e["payload"]["MessageBody"]) for e in entries]
    assert [e["MessageId"] for e in envelopes] == [*sent, live["MessageId"]]
    assert [e.get("Replayed") for e in envelopes] == [True, True, True, None]
    assert [e.get("replayed") for e in entries] == [True, True, True, None]
    assert {e["subscription"] for e in entries} == {subscription_arn}
