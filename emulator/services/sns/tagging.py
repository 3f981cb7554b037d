"""Tags on topics: TagResource, UntagResource, ListTagsForResource, and the checks CreateTopic shares.

A topic holds at most 50 tags; keys under ``aws:`` are AWS's own. The model bounds key and value
lengths (1-128, 0-256), which the protocol layer checks before these methods run. A resource ARN
that is not a topic ARN of the caller's region is ``InvalidParameter``; a topic that does not exist
is ``ResourceNotFound``, as the tagging operations (unlike the others) answer it.
"""

from __future__ import annotations

from typing import Any

from emulator.context import RequestContext
from emulator.services.sns.common import (
    ResourceNotFound,
    SnsBase,
    TagLimitExceeded,
    invalid,
    parse_arn,
)
from emulator.services.sns.models import SnsStore, Topic

MAX_TAGS = 50
TAG_LIMIT_MESSAGE = "Could not complete request: tag quota of per resource exceeded"
RESERVED_PREFIX = "aws:"


def tag_dict(tags: list[dict[str, str]]) -> dict[str, str]:
    """A request's Tags list as a dict (a key given twice keeps its last value)."""
    return {tag["Key"]: tag.get("Value", "") for tag in tags}


def check_new_tags(current: dict[str, str], tags: dict[str, str]) -> None:
    """Whether ``tags`` may join a topic's ``current`` tags: no reserved keys, at most 50 in all."""
    if any(key.lower().startswith(RESERVED_PREFIX) for key in tags):
        raise invalid("Tag keys must not start with 'aws:'")
    if len(set(current) | set(tags)) > MAX_TAGS:
        raise TagLimitExceeded(TAG_LIMIT_MESSAGE)


class TaggingMixin(SnsBase):
    def _tagged_topic(self, ctx: RequestContext, arn: str, action: str) -> tuple[SnsStore, Topic]:
        parsed = parse_arn(arn)
        if parsed is None or parsed[3] is not None or parsed[0] != ctx.region:
            raise invalid("ResourceArn")
        store = self._stores.get(parsed[1], parsed[0])
        with store.lock:
            topic = store.topics.get(arn)
            if topic is None:
                raise ResourceNotFound("Resource does not exist")
            if store.account != ctx.account:
                self._authorize(ctx, topic, action)
        return store, topic

    def tag_resource(
        self, ctx: RequestContext, *, resource_arn: str, tags: list[dict[str, str]], **_: Any
    ) -> dict[str, Any]:
        store, topic = self._tagged_topic(ctx, resource_arn, "TagResource")
        new = tag_dict(tags)
        with store.lock:
            check_new_tags(topic.tags, new)
            topic.tags.update(new)
        return {}

    def untag_resource(
        self, ctx: RequestContext, *, resource_arn: str, tag_keys: list[str], **_: Any
    ) -> dict[str, Any]:
        store, topic = self._tagged_topic(ctx, resource_arn, "UntagResource")
        if any(key.lower().startswith(RESERVED_PREFIX) for key in tag_keys):
            raise invalid("Tag keys must not start with 'aws:'")
        with store.lock:
            for key in tag_keys:
                topic.tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, *, resource_arn: str, **_: Any) -> dict[str, Any]:
        store, topic = self._tagged_topic(ctx, resource_arn, "ListTagsForResource")
        with store.lock:
            return {"Tags": [{"Key": key, "Value": value} for key, value in topic.tags.items()]}
