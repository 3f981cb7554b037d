"""Writers and resharding at once: nothing acknowledged is lost, nothing is read twice."""

from __future__ import annotations

import threading
from collections import defaultdict

from botocore.exceptions import ClientError

from tests.services.kinesis.conftest import make_stream, read_lineage

WRITERS = 8
BATCHES = 15
BATCH = 20


def test_every_acknowledged_record_is_read_once_while_shards_split_and_merge(aws_client) -> None:
    kinesis = aws_client("kinesis")
    make_stream(kinesis, "busy", 4)
    acknowledged: list[tuple[str, str, bytes]] = []
    ack_lock = threading.Lock()
    errors: list[BaseException] = []
    writing = threading.Event()
    writing.set()

    def writer(number: int) -> None:
        client = aws_client("kinesis")
        try:
            for batch in range(BATCHES):
                records = [
                    {"Data": b"%d-%d-%d" % (number, batch, i), "PartitionKey": f"{number}-{batch}-{i}"}
                    for i in range(BATCH)
                ]
                result = client.put_records(StreamName="busy", Records=records)
                with ack_lock:
                    for record, answer in zip(records, result["Records"], strict=True):
                        if "SequenceNumber" in answer:
                            acknowledged.append((answer["ShardId"], answer["SequenceNumber"], record["Data"]))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def resharder() -> None:
        client = aws_client("kinesis")
        try:
            while writing.is_set():
                shards = client.list_shards(StreamName="busy", ShardFilter={"Type": "AT_LATEST"})["Shards"]
                ordered = sorted(shards, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
                widest = max(
                    ordered,
                    key=lambda s: int(s["HashKeyRange"]["EndingHashKey"]) - int(s["HashKeyRange"]["StartingHashKey"]),
                )
                low, high = int(widest["HashKeyRange"]["StartingHashKey"]), int(widest["HashKeyRange"]["EndingHashKey"])
                try:
                    client.split_shard(
                        StreamName="busy", ShardToSplit=widest["ShardId"], NewStartingHashKey=str((low + high) // 2)
                    )
                    if len(ordered) >= 4:
                        client.merge_shards(
                            StreamName="busy",
                            ShardToMerge=ordered[0]["ShardId"],
                            AdjacentShardToMerge=ordered[1]["ShardId"],
                        )
                except ClientError as error:
                    if error.response["Error"]["Code"] not in ("ResourceInUseException", "LimitExceededException"):
                        raise
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    reshard = threading.Thread(target=resharder)
    reshard.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    writing.clear()
    reshard.join(timeout=60)
    assert not errors, errors
    assert len(acknowledged) == WRITERS * BATCHES * BATCH

    read = list(read_lineage(kinesis, "busy"))
    shard_count = len(kinesis.list_shards(StreamName="busy")["Shards"])
    assert shard_count > 4, "the resharding thread did not reshard"
    read_keys = [(sid, r["SequenceNumber"], r["Data"]) for sid, r in read]
    assert len(read_keys) == len(set(read_keys)), "a record was read twice"
    assert sorted(read_keys) == sorted(acknowledged)
    per_shard: dict[str, list[int]] = defaultdict(list)
    for sid, sequence_number, _ in read_keys:
        per_shard[sid].append(int(sequence_number))
    assert all(seqs == sorted(seqs) and len(set(seqs)) == len(seqs) for seqs in per_shard.values())
