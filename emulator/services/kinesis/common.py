"""What every Kinesis operation shares: finding the store and the stream, settling state transitions,
AWS's recurring messages and opaque pagination tokens."""

from __future__ import annotations

import re
from typing import Any

from emulator import clock
from emulator.context import RequestContext, partition_for
from emulator.services import pagination
from emulator.services.kinesis import limits, sequence
from emulator.services.kinesis.errors import (
    ExpiredNextTokenException,
    InvalidArgumentException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from emulator.services.kinesis.models import KinesisStore, Stream
from emulator.store import Stores

_STREAM_ARN = re.compile(r"^arn:[^:]+:kinesis:([^:]*):(\d{12}):stream/([a-zA-Z0-9_.-]+)$")
_CONSUMER_ARN = re.compile(
    r"^arn:[^:]+:kinesis:([^:]*):(\d{12}):stream/([a-zA-Z0-9_.-]+)/consumer/([a-zA-Z0-9_.-]+):(\d+)$"
)


def stream_arn(region: str, account: str, name: str) -> str:
    return f"arn:{partition_for(region)}:kinesis:{region}:{account}:stream/{name}"


def parse_stream_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, stream name) of a stream ARN, else None."""
    match = _STREAM_ARN.match(arn)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def parse_consumer_arn(arn: str) -> tuple[str, str, str, str] | None:
    """(region, account, stream name, consumer name) of a consumer ARN, else None."""
    match = _CONSUMER_ARN.match(arn)
    return (match.group(1), match.group(2), match.group(3), match.group(4)) if match else None


def not_found(name: str, account: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Stream {name} under account {account} not found.")


def normalized_shard_id(shard_id: str, stream_name: str, account: str) -> str:
    """``shard_id`` as AWS names it (``shardId-%012d``). AWS parses the id before it looks the stream
    up, so an id it cannot read is not found even on a stream that does not exist."""
    index = sequence.shard_index(shard_id)
    if index is None:
        raise ResourceNotFoundException(
            f"Could not find shard {shard_id} in stream {stream_name} under account {account}."
        )
    return sequence.shard_id(index)


def check_created_at(stream: Stream, account: str, created: Any) -> None:
    """``StreamCreationTimestamp`` names one incarnation of a stream whose name was used before; a
    stream created at another time is not the one asked for (compared to the second, as clients send it)."""
    if created is not None and int(created.timestamp()) != int(stream.created_at):
        raise not_found(stream.name, account)


def not_active(stream: Stream) -> ResourceInUseException:
    return ResourceInUseException(
        f"Stream {stream.name} under account {stream.account} not ACTIVE, instead in state {stream.status}"
    )


# Pagination tokens are signed by ``emulator.services.pagination`` (a forged, altered or truncated one
# is an ``InvalidArgumentException``, never a 500 or a wrong page); here is what each kind holds.
_NUMBER = (int, float)
_OPTIONAL_STR = (str, type(None))
# What each kind of token holds besides ``kind`` and ``issued`` (a number): member -> accepted types.
_TOKEN_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "streams": {"after": (str,)},
    "shards": {"stream": (str,), "after": (str,), "created": _NUMBER, "filter": (dict, type(None))},
    # The stream (ARN and creation time) and the (creation time, name) of the last consumer given.
    "consumers": {"stream": (str,), "created": _NUMBER, "after": (str,), "after_created": _NUMBER},
}
_FILTER_FIELDS: dict[str, tuple[type, ...]] = {
    "Type": (str,),
    "ShardId": _OPTIONAL_STR,
    "Timestamp": (*_NUMBER, type(None)),
}


def encode_token(payload: dict[str, Any]) -> str:
    return pagination.sign(payload)


def _typed(value: Any, types: tuple[type, ...]) -> bool:
    return isinstance(value, types) and not isinstance(value, bool)


def _well_formed(payload: Any, kind: str) -> bool:
    fields = _TOKEN_FIELDS[kind]
    if not isinstance(payload, dict) or payload.get("kind") != kind or set(payload) != {"kind", "issued", *fields}:
        return False
    if not _typed(payload["issued"], _NUMBER) or not all(_typed(payload[k], t) for k, t in fields.items()):
        return False
    shard_filter = payload.get("filter")
    if isinstance(shard_filter, dict):
        return (
            set(shard_filter) <= set(_FILTER_FIELDS)
            and "Type" in shard_filter
            and all(_typed(v, _FILTER_FIELDS[k]) for k, v in shard_filter.items())
        )
    return True


def decode_token(token: str, kind: str) -> dict[str, Any]:
    """A token we issued for ``kind``; ``InvalidArgumentException`` or ``ExpiredNextTokenException`` else."""
    try:
        payload = pagination.verify(token)
    except pagination.InvalidToken:
        payload = None
    if not _well_formed(payload, kind):
        raise InvalidArgumentException(f"Invalid NextToken: {token}")
    if clock.now() - payload["issued"] > limits.NEXT_TOKEN_LIFETIME:
        raise ExpiredNextTokenException(f"The NextToken has expired: {token}")
    return payload


class KinesisBase:
    """Store lookup and stream resolution, mixed into the provider."""

    config: Any
    _stores: Stores[KinesisStore]

    def _store(self, ctx: RequestContext) -> KinesisStore:
        return self._stores.get(ctx.account, ctx.region)

    def _transition_seconds(self) -> float:
        return max(0.0, float(self.config.kinesis_transition_seconds or 0.0))

    # State transitions complete lazily, on the next look at the stream after their time is over,
    # so no thread is needed and moving the emulator's clock completes them at once.
    def _settle(self, store: KinesisStore, stream: Stream, now: float) -> bool:
        """Completes ``stream``'s transitions that are due; False when the stream is gone."""
        pending = stream.pending
        if pending is not None and now >= pending.ready_at:
            stream.pending = None
            if stream.status == "DELETING":
                if store.streams.get(stream.name) is stream:
                    del store.streams[stream.name]
                    for arn in [a for a in store.policies if a == stream.arn or a.startswith(stream.arn + "/")]:
                        del store.policies[arn]
                store.wake()
                return False
            if pending.apply is not None:
                pending.apply()
            stream.status = "ACTIVE"
            store.wake()
        for consumer in list(stream.consumers.values()):
            if consumer.status != "ACTIVE" and now >= consumer.ready_at:
                if consumer.status == "DELETING":
                    del stream.consumers[consumer.name]
                    store.policies.pop(consumer.arn, None)
                else:
                    consumer.status = "ACTIVE"
                store.wake()
        return True

    def _settle_all(self, store: KinesisStore, now: float) -> None:
        for stream in list(store.streams.values()):
            self._settle(store, stream, now)

    def _stream_name(self, ctx: RequestContext, stream_name: str | None, stream_arn: str | None) -> str:
        """The stream a request names by StreamName, StreamARN or both."""
        if stream_arn:
            parsed = parse_stream_arn(stream_arn)
            if parsed is None:
                raise InvalidArgumentException(f"Invalid StreamARN: {stream_arn}")
            region, account, name = parsed
            if stream_name and stream_name != name:
                raise InvalidArgumentException(
                    f"StreamARN {stream_arn} and StreamName {stream_name} do not refer to the same stream."
                )
            if account != ctx.account or region != ctx.region:
                raise not_found(name, account)
            return name
        if not stream_name:
            raise InvalidArgumentException("Either StreamName or StreamARN should be provided.")
        return stream_name

    def _find(
        self, ctx: RequestContext, store: KinesisStore, stream_name: str | None, stream_arn: str | None, now: float
    ) -> Stream:
        """The stream in any state (call under the store's lock)."""
        name = self._stream_name(ctx, stream_name, stream_arn)
        stream = store.streams.get(name)
        if stream is None or not self._settle(store, stream, now):
            raise not_found(name, ctx.account)
        return stream

    def _active(
        self, ctx: RequestContext, store: KinesisStore, stream_name: str | None, stream_arn: str | None, now: float
    ) -> Stream:
        """A stream that must be ACTIVE for a change (``ResourceInUseException`` else)."""
        stream = self._find(ctx, store, stream_name, stream_arn, now)
        if stream.status != "ACTIVE":
            raise not_active(stream)
        return stream

    def _readable(
        self, ctx: RequestContext, store: KinesisStore, stream_name: str | None, stream_arn: str | None, now: float
    ) -> Stream:
        """A stream that takes reads and writes: ACTIVE or UPDATING (CREATING and DELETING are not found)."""
        stream = self._find(ctx, store, stream_name, stream_arn, now)
        if stream.status not in ("ACTIVE", "UPDATING"):
            raise not_found(stream.name, ctx.account)
        return stream
