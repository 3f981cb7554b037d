"""What every SNS operation shares: its errors, ARNs, and finding the store, topic or subscription a
request names, with the cross-account check of the topic's policy.

SNS words nearly every client error as ``InvalidParameter`` "Invalid parameter: <what>"; ``invalid``
builds those. A topic ARN of another region is "Invalid parameter: TopicArn" (as AWS answers a client
of the wrong region), a topic that does not exist ``NotFound`` "Topic does not exist", and a topic of
another account is reachable only where its policy lets the caller's account do the action
(``policy.allows``), else ``AuthorizationError``.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.context import RequestContext, partition_for
from emulator.errors import ServiceError, error_class
from emulator.services.sns.models import SnsStore, Subscription, Topic
from emulator.store import Stores

# The model's error shapes; the protocol answers each with its wire code and HTTP status.
AuthorizationError = error_class("AuthorizationErrorException")
BatchEntryIdsNotDistinct = error_class("BatchEntryIdsNotDistinctException")
BatchRequestTooLong = error_class("BatchRequestTooLongException")
EmptyBatchRequest = error_class("EmptyBatchRequestException")
EndpointDisabled = error_class("EndpointDisabledException")
FilterPolicyLimitExceeded = error_class("FilterPolicyLimitExceededException")
InvalidBatchEntryId = error_class("InvalidBatchEntryIdException")
InvalidParameter = error_class("InvalidParameterException")
InvalidParameterValue = error_class("InvalidParameterValueException")
InvalidSecurity = error_class("InvalidSecurityException")
InvalidState = error_class("InvalidStateException")
NotFound = error_class("NotFoundException")
OptedOut = error_class("OptedOutException")
PlatformApplicationDisabled = error_class("PlatformApplicationDisabledException")
ResourceNotFound = error_class("ResourceNotFoundException")
StaleTag = error_class("StaleTagException")
SubscriptionLimitExceeded = error_class("SubscriptionLimitExceededException")
TagLimitExceeded = error_class("TagLimitExceededException")
TagPolicy = error_class("TagPolicyException")
Throttled = error_class("ThrottledException")
TooManyEntriesInBatchRequest = error_class("TooManyEntriesInBatchRequestException")
TopicLimitExceeded = error_class("TopicLimitExceededException")
UserError = error_class("UserErrorException")
ValidationException = error_class("ValidationException")


def invalid(what: str) -> ServiceError:
    """SNS's usual client error: ``InvalidParameter`` "Invalid parameter: <what>"."""
    return InvalidParameter(f"Invalid parameter: {what}")


def invalid_value(what: str) -> ServiceError:
    """``ParameterValueInvalid`` "Invalid parameter value: <what>" (as the SMS operations answer)."""
    return InvalidParameterValue(what)


TOPIC_NOT_FOUND = "Topic does not exist"

# What json.loads raises for a document the client sent that it cannot read: ValueError for text that
# is not JSON, RecursionError for nesting deeper than Python's stack allows (AWS's parser, Jackson,
# refuses nesting over 1000 levels too). Every attribute answers both with its "not valid JSON" error.
JSON_ERRORS = (ValueError, RecursionError)

# arn:partition:sns:region:account:name[:subscription-id]
_ARN = re.compile(r"^arn:(aws[a-z-]*):sns:([a-z0-9-]+):([0-9]{12}):([A-Za-z0-9_.-]+)(?::([A-Za-z0-9-]+))?$")


def topic_arn(region: str, account: str, name: str) -> str:
    return f"arn:{partition_for(region)}:sns:{region}:{account}:{name}"


def parse_arn(arn: str) -> tuple[str, str, str, str | None] | None:
    """(region, account, topic or application name, subscription id or None) of an SNS ARN, else None."""
    match = _ARN.match(arn or "")
    if match is None:
        return None
    return match.group(2), match.group(3), match.group(4), match.group(5)


class SnsBase:
    """Store, topic and subscription lookup, mixed into the provider."""

    config: Any
    _stores: Stores[SnsStore]

    def _store(self, ctx: RequestContext) -> SnsStore:
        return self._stores.get(ctx.account, ctx.region)

    def _topic_store(self, ctx: RequestContext, arn: str | None, member: str = "TopicArn") -> SnsStore:
        """The store that holds the topic ``arn`` names: the caller's, or another account's in its region.

        ``InvalidParameter`` "Invalid parameter: TopicArn" for what is not a topic ARN of this region.
        """
        parsed = parse_arn(arn or "")
        if parsed is None or parsed[3] is not None or parsed[0] != ctx.region:
            raise invalid(member)
        return self._stores.get(parsed[1], parsed[0])

    def _topic(self, ctx: RequestContext, arn: str | None, action: str | None = None,
               member: str = "TopicArn") -> tuple[SnsStore, Topic]:
        """The store and topic ``arn`` names (read or change it under ``store.lock``).

        ``action`` (``"Publish"``, ``"Subscribe"``, ...) is checked against the topic's policy when
        the caller is another account; without it, only the owner reaches the topic.
        """
        store = self._topic_store(ctx, arn, member)
        with store.lock:
            topic = store.topics.get(arn or "")
            if topic is None:
                raise NotFound(TOPIC_NOT_FOUND)
            if store.account != ctx.account:
                self._authorize(ctx, topic, action)
        return store, topic

    def _authorize(self, ctx: RequestContext, topic: Topic, action: str | None) -> None:
        """``AuthorizationError`` unless the topic's policy lets the caller's account do ``action``."""
        from emulator.services.sns import policy

        if action is None or not policy.allows(topic, ctx.account, f"SNS:{action}"):
            raise AuthorizationError(
                f"User: arn:{partition_for(ctx.region)}:iam::{ctx.account}:root is not authorized to perform: "
                f"SNS:{action or ctx.operation} on resource: {topic.arn}"
            )

    def _own(self, region: str, subscription: Subscription) -> None:
        """Enters ``subscription`` in its owner's ListSubscriptions index (the owner may be another
        account than the topic's: see ``SnsStore.owned``)."""
        owner = self._stores.get(subscription.owner, region)
        with owner.owned_lock:
            owner.owned[subscription.arn] = subscription

    def _disown(self, region: str, subscription: Subscription) -> None:
        """Takes ``subscription`` out of its owner's ListSubscriptions index."""
        owner = self._stores.get(subscription.owner, region)
        with owner.owned_lock:
            owner.owned.pop(subscription.arn, None)

    def _subscription(self, ctx: RequestContext, arn: str | None,
                      member: str = "SubscriptionArn") -> tuple[SnsStore, Subscription]:
        """The store and subscription ``arn`` names; ``NotFound`` "Subscription does not exist" else."""
        parsed = parse_arn(arn or "")
        if parsed is None or parsed[3] is None or parsed[0] != ctx.region:
            raise invalid(member)
        store = self._stores.get(parsed[1], parsed[0])
        with store.lock:
            subscription = store.subscriptions.get(arn or "")
            if subscription is None:
                raise NotFound("Subscription does not exist")
        return store, subscription
