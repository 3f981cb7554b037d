"""Tags on event buses and rules: TagResource, UntagResource, ListTagsForResource, and the checks that
CreateEventBus and PutRule share with them (``tag_dict``, ``check_tags``).

EventBridge tags two kinds of resource, both named by ARN: ``event-bus/<name>`` (the default bus too)
and ``rule/<name>`` on the default bus or ``rule/<bus>/<name>`` on another (a partner bus's name holds
slashes, so the rule's name is what follows the last one). A resource holds at most 50 tags; keys
under ``aws:`` are AWS's own and can be neither set nor removed. The model bounds key and value
lengths (1-128, 0-256); the characters AWS allows are checked here. A deleted resource takes its
tags with it, so a bus or rule created again under the same name starts untagged.

Every operation is a dict lookup under the store's lock.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.context import RequestContext
from emulator.services.events.common import (
    EventsBase,
    ManagedRuleException,
    ValidationException,
    bus_not_found,
    rule_not_found,
)
from emulator.services.events.models import EventBus, EventsStore, Rule

MAX_TAGS = 50
RESERVED_PREFIX = "aws:"
# Letters, digits and white space of any script, and . : + = @ _ / -
_ALLOWED_EXTRA = frozenset(".:+=@_/- ")

_RESOURCE_ARN = re.compile(r"^arn:aws[a-z-]*:events:([a-z0-9-]+):([0-9]{12}):(event-bus|rule)/(.+)$")


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    """A request's Tags list as a dict (a key given twice keeps its last value)."""
    return {tag["Key"]: tag.get("Value", "") for tag in tags or ()}


def _allowed(text: str) -> bool:
    return all(char.isalnum() or char.isspace() or char in _ALLOWED_EXTRA for char in text)


def check_reserved(keys: list[str] | dict[str, str]) -> None:
    if any(key.startswith(RESERVED_PREFIX) for key in keys):
        raise ValidationException(f"Tag keys beginning with '{RESERVED_PREFIX}' are reserved for AWS use.")


def check_tags(current: dict[str, str], new: dict[str, str]) -> None:
    """Whether ``new`` may join a resource's ``current`` tags (``ValidationException`` else): allowed
    characters, no reserved key, at most 50 tags in all (keys already present are replaced, not added)."""
    for key, value in new.items():
        if not _allowed(key) or not _allowed(value):
            raise ValidationException(
                "Tag keys and values may only contain letters, numbers, spaces and the characters . : + = @ _ / -"
            )
    check_reserved(new)
    if len(current.keys() | new.keys()) > MAX_TAGS:
        raise ValidationException(f"A resource can have at most {MAX_TAGS} tags.")


class TaggingMixin(EventsBase):
    def _tagged(self, ctx: RequestContext, store: EventsStore, arn: str) -> EventBus | Rule:
        """The bus or rule ``arn`` names in the caller's account and region (call under ``store.lock``)."""
        match = _RESOURCE_ARN.match(arn)
        if match is None:
            raise ValidationException(f"Provided ARN is not valid: {arn}")
        region, account, kind, path = match.groups()
        if kind == "event-bus":
            bus = store.buses.get(path) if (region, account) == (ctx.region, ctx.account) else None
            if bus is None:
                raise bus_not_found(path)
            return bus
        bus_name, _, name = path.rpartition("/")
        bus_name = bus_name or "default"
        if (region, account) != (ctx.region, ctx.account):
            raise rule_not_found(name, bus_name)
        return self._rule(ctx, store, name, bus_name)

    @staticmethod
    def _check_managed(resource: EventBus | Rule) -> None:
        """A rule an AWS service manages keeps the tags that service gave it."""
        if isinstance(resource, Rule) and resource.managed_by:
            raise ManagedRuleException(
                f"Rule {resource.name} is managed by {resource.managed_by} and cannot be modified."
            )

    def tag_resource(
        self, ctx: RequestContext, *, resource_arn: str, tags: list[dict[str, str]], **_: Any
    ) -> dict[str, Any]:
        store = self._store(ctx)
        new = tag_dict(tags)
        with store.lock:
            resource = self._tagged(ctx, store, resource_arn)
            self._check_managed(resource)
            check_tags(resource.tags, new)
            resource.tags.update(new)
        return {}

    def untag_resource(
        self, ctx: RequestContext, *, resource_arn: str, tag_keys: list[str], **_: Any
    ) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            resource = self._tagged(ctx, store, resource_arn)
            self._check_managed(resource)
            check_reserved(tag_keys)
            for key in tag_keys:
                resource.tags.pop(key, None)
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, *, resource_arn: str, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            resource = self._tagged(ctx, store, resource_arn)
            return {"Tags": [{"Key": key, "Value": value} for key, value in resource.tags.items()]}
