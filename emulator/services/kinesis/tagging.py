"""Tags on streams (by name or ARN) and on consumers and queues (by ARN)."""

from __future__ import annotations

import unicodedata
from typing import Any

from emulator import clock
from emulator.context import RequestContext
from emulator.services.kinesis import limits
from emulator.services.kinesis.common import (
    KinesisBase,
    not_active,
    not_found,
    parse_consumer_arn,
    parse_stream_arn,
)
from emulator.services.kinesis.errors import InvalidArgumentException, ResourceNotFoundException
from emulator.services.kinesis.models import KinesisStore, Stream

# What AWS's tag pattern allows besides the symbols: Unicode letters, digits (any number) and white
# space in the sense of the separators, so a tab or a newline is refused like ``:`` or ``#``.
_SYMBOLS = frozenset("_./=+-%@")
_CATEGORIES = frozenset("LNZ")


def _allowed(text: str) -> bool:
    return all(ch in _SYMBOLS or unicodedata.category(ch)[0] in _CATEGORIES for ch in text)


def check_tags(tags: dict[str, str] | list[str], what: str, removing: bool = False) -> None:
    """The characters of tag keys (and values) that would be added to, or removed from, ``what``.

    AWS checks them twice: against the pattern its documentation gives (which lists ``%``), then
    against a stricter rule of its own that refuses ``%`` with another message.
    """
    texts = list(tags) + (list(tags.values()) if isinstance(tags, dict) else [])
    if not all(_allowed(text) for text in texts):
        raise InvalidArgumentException(
            "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, "
            "_ . / = + - % @."
        )
    if any("%" in text for text in texts):
        change = "remove tags from" if removing else "add tags to"
        raise InvalidArgumentException(
            f"Failed to {change} {what} because some tags contained illegal characters. The allowed characters "
            "are Unicode letters, white-spaces, '_',',','/','=','+','-','@'."
        )


def check_new_tags(target: dict[str, str], tags: dict[str, str], what: str) -> None:
    """Whether ``tags`` may be added to a resource (``what``) that has ``target``: characters and at
    most 50 tags in all (TagResource, AddTagsToStream, CreateStream, RegisterStreamConsumer, CreateQueue).
    A key cannot start with the reserved ``aws:``, since ``:`` is not allowed at all."""
    check_tags(tags, what)
    if len(set(target) | set(tags)) > limits.MAX_TAGS_PER_STREAM:
        raise InvalidArgumentException(
            f"Failed to add tags to {what} because a given resource cannot have more than "
            f"{limits.MAX_TAGS_PER_STREAM} tags associated with it."
        )


class TaggingMixin(KinesisBase):
    def _tag_target(self, ctx: RequestContext, store: KinesisStore, resource_arn: str, now: float) -> dict[str, str]:
        """The tag dict of the stream, consumer or queue ``resource_arn`` names."""
        consumer = parse_consumer_arn(resource_arn)
        if consumer is not None:
            region, account, stream_name, consumer_name = consumer
            stream = store.streams.get(stream_name)
            if (
                account != ctx.account
                or region != ctx.region
                or stream is None
                or not self._settle(store, stream, now)
                or stream.consumers.get(consumer_name) is None
                or stream.consumers[consumer_name].arn != resource_arn
            ):
                raise ResourceNotFoundException(f"Consumer {resource_arn} not found.")
            return stream.consumers[consumer_name].tags
        if ":queue/" in resource_arn:
            return self._queue(ctx, store, resource_arn, now).tags  # type: ignore[attr-defined]
        if parse_stream_arn(resource_arn) is None:
            raise InvalidArgumentException(f"Invalid ResourceARN: {resource_arn}")
        return self._taggable(ctx, store, None, resource_arn, now).tags

    def _taggable(
        self, ctx: RequestContext, store: KinesisStore, stream_name: str | None, stream_arn: str | None, now: float
    ) -> Stream:
        """A stream whose tags may change: any state but CREATING (``ResourceInUseException`` then)."""
        stream = self._find(ctx, store, stream_name, stream_arn, now)
        if stream.status == "CREATING":
            raise not_active(stream)
        return stream

    def _add_tags(self, target: dict[str, str], tags: dict[str, str], what: str) -> None:
        check_new_tags(target, tags, what)
        target.update(tags)

    def add_tags_to_stream(
        self,
        ctx: RequestContext,
        *,
        tags: dict[str, str],
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            stream = self._taggable(ctx, store, stream_name, stream_arn, clock.now())
            self._add_tags(stream.tags, tags, f"stream {stream.name} under account {ctx.account}")
        return {}

    def remove_tags_from_stream(
        self,
        ctx: RequestContext,
        *,
        tag_keys: list[str],
        stream_name: str | None = None,
        stream_arn: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            stream = self._taggable(ctx, store, stream_name, stream_arn, clock.now())
            check_tags(tag_keys, f"stream {stream.name} under account {ctx.account}", removing=True)
            for key in tag_keys:
                stream.tags.pop(key, None)
        return {}

    def list_tags_for_stream(
        self,
        ctx: RequestContext,
        *,
        stream_name: str | None = None,
        stream_arn: str | None = None,
        exclusive_start_tag_key: str | None = None,
        limit: int | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            stream = self._find(ctx, store, stream_name, stream_arn, clock.now())
            keys = sorted(stream.tags)
            if exclusive_start_tag_key:
                keys = [k for k in keys if k > exclusive_start_tag_key]
            page = keys[: limit or limits.LIST_TAGS_DEFAULT]
            tags = [{"Key": k, "Value": stream.tags[k]} for k in page]
        return {"Tags": tags, "HasMoreTags": len(keys) > len(page)}

    def tag_resource(self, ctx: RequestContext, *, tags: dict[str, str], resource_arn: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            target = self._tag_target(ctx, store, resource_arn, clock.now())
            self._add_tags(target, tags, f"resource {resource_arn}")
        return {}

    def untag_resource(
        self, ctx: RequestContext, *, tag_keys: list[str], resource_arn: str, **_: Any
    ) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            target = self._tag_target(ctx, store, resource_arn, clock.now())
            check_tags(tag_keys, f"resource {resource_arn}", removing=True)
            for key in tag_keys:
                target.pop(key, None)
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, *, resource_arn: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            target = self._tag_target(ctx, store, resource_arn, clock.now())
            tags = [{"Key": k, "Value": target[k]} for k in sorted(target)]
        return {"Tags": tags}


__all__ = ["TaggingMixin", "check_new_tags", "check_tags", "not_found"]
