"""Subscriptions: Subscribe, ConfirmSubscription, Unsubscribe, their attributes and listings, and the
fan-out index that Publish reads.

A confirmed subscription sits in exactly one of its topic's three fan-out sets: ``attribute_rules`` or
``body_rules`` (the compiled FilterPolicy under the subscription's ARN, by FilterPolicyScope) or
``unfiltered``. ``index``/``unindex`` keep that true whenever a subscription is confirmed, changes its
policy or goes away, so fan-out never looks at a subscription's attributes.

Costs, all under the topic owner's ``store.lock``: Subscribe finds an existing subscription of the same
(protocol, endpoint) by a dict lookup (``Topic.by_endpoint``) and ConfirmSubscription its token the same
way (``Topic.tokens``); adding a filter policy to a ruleset is proportional to the policy, not to the
number of subscriptions. Only the listings walk subscriptions, one sort per page.

Pending subscriptions (http/s, email, and endpoints of another account) expire two days after they
were made, as the Subscribe reference says of their tokens; expiry is applied lazily, whenever such a
subscription is looked at, on the emulator's clock. Every request validates everything first and
changes state only once nothing can fail, so a rejected request leaves no trace.
"""

from __future__ import annotations

import bisect
import json
import secrets
import uuid
from datetime import datetime
from typing import Any

from emulator import clock
from emulator.context import RequestContext, partition_for
from emulator.patterns import MESSAGE_ATTRIBUTES, MESSAGE_BODY, InvalidFilterPolicyError, compile_filter_policy
from emulator.services.pagination import InvalidToken, paginate
from emulator.services.sns import endpoints
from emulator.services.sns.common import (
    JSON_ERRORS,
    AuthorizationError,
    FilterPolicyLimitExceeded,
    InvalidParameter,
    NotFound,
    SnsBase,
    invalid,
)
from emulator.services.sns.models import SnsStore, Subscription, Topic

TOKEN_SECONDS = 2 * 86_400  # "Confirmation tokens are valid for two days."
PAGE_SIZE = 100
FILTER_POLICIES_PER_TOPIC = 200
PENDING = "pending confirmation"  # Subscribe's answer for a subscription that must confirm
LISTED_PENDING = "PendingConfirmation"  # how the listings show one
SETTABLE = ("DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy",
            "SubscriptionRoleArn", "ReplayPolicy")
_SUBSCRIBE_PREFIX = "Invalid parameter: Attributes Reason: "
_SET_PREFIX = "Invalid parameter: "


def index(topic: Topic, subscription: Subscription) -> None:
    """Puts a confirmed subscription in the one fan-out set its filter policy calls for (call under the lock)."""
    unindex(topic, subscription)
    if not subscription.confirmed:
        return
    pattern = subscription.filter
    if pattern is None:
        topic.unfiltered[subscription.arn] = subscription
    elif pattern.scope == MESSAGE_BODY:
        topic.body_rules.add(subscription.arn, pattern)
    else:
        topic.attribute_rules.add(subscription.arn, pattern)


def unindex(topic: Topic, subscription: Subscription) -> None:
    """Takes a subscription out of every fan-out set of its topic (call under the lock)."""
    topic.unfiltered.pop(subscription.arn, None)
    for rules in (topic.attribute_rules, topic.body_rules):
        if subscription.arn in rules:
            rules.remove(subscription.arn)


def _true(value: str) -> bool:
    return value.strip().lower() == "true"


def _timestamp(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


class _Checked:
    """Attribute values after validation, and the filter policy compiled from them."""

    def __init__(self, attributes: dict[str, str], pattern: Any) -> None:
        self.attributes = attributes
        self.pattern = pattern


def _check_attributes(topic: Topic, protocol: str, current: dict[str, str], changes: dict[str, str],
                      prefix: str) -> _Checked:
    """The attributes a subscription has after ``changes``, validated as AWS validates them.

    ``prefix`` is how the operation words its errors: Subscribe says "Invalid parameter: Attributes
    Reason: <name>: ...", SetSubscriptionAttributes "Invalid parameter: <name>: ...".
    """
    merged = dict(current)
    for name, value in changes.items():
        value = "" if value is None else str(value)
        if name == "RawMessageDelivery":
            if value.strip().lower() not in ("true", "false"):
                raise InvalidParameter(f"{prefix}RawMessageDelivery: Invalid value [{value}]. Must be true or false.")
            if _true(value) and protocol not in endpoints.RAW_PROTOCOLS:
                raise invalid(f"Delivery protocol [{protocol}] does not support raw message delivery.")
            value = value.strip().lower()
        elif name == "FilterPolicyScope":
            if value not in (MESSAGE_ATTRIBUTES, MESSAGE_BODY):
                raise InvalidParameter(
                    f"{prefix}FilterPolicyScope: Invalid filter policy scope, "
                    f"allowed values are {MESSAGE_ATTRIBUTES}, {MESSAGE_BODY}"
                )
        elif name == "RedrivePolicy":
            _check_redrive(value, prefix)
        elif name == "DeliveryPolicy":
            if value:
                from emulator.services.sns import delivery_policy

                delivery_policy.validate(value, "subscription", prefix=prefix)
        elif name == "SubscriptionRoleArn":
            if value and not endpoints.is_role_arn(value):
                raise InvalidParameter(f"{prefix}SubscriptionRoleArn: Invalid role ARN: {value}")
        elif name == "ReplayPolicy":
            if value:
                _check_replay(topic, protocol, value, prefix)
        if value == "" and name in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy", "ReplayPolicy"):
            merged.pop(name, None)  # an empty value removes the policy
        else:
            merged[name] = value
    pattern = None
    text = merged.get("FilterPolicy")
    if text:
        try:
            pattern = compile_filter_policy(text, merged.get("FilterPolicyScope", MESSAGE_ATTRIBUTES))
        except InvalidFilterPolicyError as e:
            raise InvalidParameter(e.subscribe_message if prefix == _SUBSCRIBE_PREFIX else e.message) from None
    if protocol == "firehose" and not merged.get("SubscriptionRoleArn"):
        raise invalid("Attributes Reason: SubscriptionRoleArn is required for protocol firehose")
    return _Checked(merged, pattern)


def _policy_object(value: str, label: str, known: tuple[str, ...]) -> dict[str, Any]:
    """A policy attribute's JSON object. Redrive and replay policies are refused alike: text that is
    not a JSON object fails to parse, and the first key not in ``known`` is named as unknown."""
    try:
        policy = json.loads(value)
    except JSON_ERRORS:
        policy = None
    if not isinstance(policy, dict):
        raise InvalidParameter(f"{label}: failed to parse JSON.")
    for key in policy:
        if key not in known:
            raise InvalidParameter(f"{label}: invalid JSON. Attribute {key} is unknown.")
    return policy


def _check_redrive(value: str, prefix: str) -> None:
    if not value:
        return
    policy = _policy_object(value, f"{prefix}RedrivePolicy", ("deadLetterTargetArn",))
    target = policy.get("deadLetterTargetArn")
    if not isinstance(target, str) or not endpoints.is_sqs_arn(target):
        raise InvalidParameter(f"{prefix}RedrivePolicy: deadLetterTargetArn is an invalid arn")


def _check_replay(topic: Topic, protocol: str, value: str, prefix: str) -> None:
    if not topic.fifo or not topic.attributes.get("ArchivePolicy"):
        raise InvalidParameter(f"{prefix}ReplayPolicy: Replay is only supported on FIFO topics with an ArchivePolicy")
    policy = _policy_object(value, f"{prefix}ReplayPolicy", ("PointType", "StartingPoint", "EndingPoint"))
    if policy.get("PointType") != "Timestamp":
        raise InvalidParameter(f"{prefix}ReplayPolicy: PointType must be Timestamp")
    start = _timestamp(policy.get("StartingPoint"))
    if start is None:
        raise InvalidParameter(f"{prefix}ReplayPolicy: StartingPoint must be an ISO 8601 timestamp")
    if start > clock.now():
        raise InvalidParameter(f"{prefix}ReplayPolicy: StartingPoint cannot be in the future")
    if "EndingPoint" in policy:
        end = _timestamp(policy.get("EndingPoint"))
        if end is None:
            raise InvalidParameter(f"{prefix}ReplayPolicy: EndingPoint must be an ISO 8601 timestamp")
        if end < start:
            raise InvalidParameter(f"{prefix}ReplayPolicy: EndingPoint must be after StartingPoint")


def _replay_window(topic: Topic, policy_text: str) -> list[Any]:
    """The archived messages a ReplayPolicy selects (a binary search over the archive, oldest first)."""
    policy = json.loads(policy_text)
    start = _timestamp(policy["StartingPoint"]) or 0.0
    end = _timestamp(policy.get("EndingPoint")) if "EndingPoint" in policy else None
    archive = topic.archive
    low = bisect.bisect_left(archive, start, key=lambda m: m.timestamp)
    high = len(archive) if end is None else bisect.bisect_right(archive, end, key=lambda m: m.timestamp)
    return list(archive[low:high])


def _filter_policy_count(topic: Topic) -> int:
    return len(topic.attribute_rules) + len(topic.body_rules)


class SubscriptionsMixin(SnsBase):
    """Subscribe, ConfirmSubscription, Unsubscribe, Get/SetSubscriptionAttributes and the two listings."""

    def _filter_policies_full(self, topic: Topic) -> bool:
        """Has the topic reached its quota of filter policies (AWS's default 200, raised by a flag as
        AWS raises it on request)?"""
        return _filter_policy_count(topic) >= (self.config.sns_filter_policies_per_topic or FILTER_POLICIES_PER_TOPIC)

    def _expired(self, subscription: Subscription, now: float) -> bool:
        return not subscription.confirmed and now >= subscription.created_at + TOKEN_SECONDS

    def _drop(self, store: SnsStore, topic: Topic | None, subscription: Subscription) -> None:
        """Forgets a subscription everywhere (under the lock)."""
        store.subscriptions.pop(subscription.arn, None)
        self._disown(store.region, subscription)
        if topic is not None:
            topic.subscriptions.pop(subscription.arn, None)
            if topic.by_endpoint.get((subscription.protocol, subscription.endpoint)) == subscription.arn:
                del topic.by_endpoint[(subscription.protocol, subscription.endpoint)]
            if subscription.token is not None:
                topic.tokens.pop(subscription.token, None)
            unindex(topic, subscription)

    def _live(self, store: SnsStore, subscription: Subscription | None, now: float) -> Subscription | None:
        """The subscription, or None once it expired unconfirmed (and is then forgotten)."""
        if subscription is not None and self._expired(subscription, now):
            self._drop(store, store.topics.get(subscription.topic_arn), subscription)
            return None
        return subscription

    def _fanout(self) -> Any:
        from emulator.services.sns import fanout

        return fanout

    # -- Subscribe / ConfirmSubscription / Unsubscribe -------------------------------------------

    def subscribe(self, ctx: RequestContext, topic_arn: str, protocol: str, endpoint: str | None = None,
                  attributes: dict[str, str] | None = None,
                  return_subscription_arn: bool | None = None) -> dict[str, Any]:
        store, topic = self._topic(ctx, topic_arn, "Subscribe")
        if protocol not in endpoints.PROTOCOLS:
            raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")
        if topic.fifo and protocol not in endpoints.FIFO_PROTOCOLS:
            raise invalid(f"Invalid protocol type: {protocol}")
        endpoint = endpoints.validate(protocol, endpoint, topic.fifo)
        given = dict(attributes or {})
        for name in given:
            if name not in SETTABLE:
                raise InvalidParameter(f"{_SUBSCRIBE_PREFIX}Unknown attribute: {name}")
        now = clock.now()
        send_confirmation: Subscription | None = None
        replay: Subscription | None = None
        with store.lock:
            existing = self._live(store, store.subscriptions.get(topic.by_endpoint.get((protocol, endpoint), "")), now)
            if existing is not None:
                checked = _check_attributes(topic, protocol, existing.attributes, given, _SUBSCRIBE_PREFIX)
                if checked.attributes != existing.attributes:
                    raise invalid("Attributes Reason: Subscription already exists with different attributes")
                subscription = existing
                if not subscription.confirmed:
                    send_confirmation = subscription  # AWS sends the confirmation again
            else:
                checked = _check_attributes(topic, protocol, {}, given, _SUBSCRIBE_PREFIX)
                pending = endpoints.needs_confirmation(protocol, endpoint, ctx.account)
                full = self._filter_policies_full(topic)
                if checked.pattern is not None and not pending and full:
                    raise FilterPolicyLimitExceeded("Filter policy limit exceeded")
                subscription = Subscription(
                    arn=f"{topic.arn}:{uuid.uuid4()}", topic_arn=topic.arn, protocol=protocol, endpoint=endpoint,
                    owner=ctx.account, attributes=checked.attributes, confirmed=not pending,
                    token=secrets.token_hex(128) if pending else None,
                    confirmation_authenticated=not pending, created_at=now, filter=checked.pattern,
                )
                store.subscriptions[subscription.arn] = subscription
                topic.subscriptions[subscription.arn] = subscription
                topic.by_endpoint[(protocol, endpoint)] = subscription.arn
                self._own(store.region, subscription)
                if pending:
                    topic.tokens[subscription.token or ""] = subscription.arn
                    send_confirmation = subscription
                else:
                    index(topic, subscription)
                    if "ReplayPolicy" in subscription.attributes:
                        replay = subscription
            answer = subscription.arn if subscription.confirmed or return_subscription_arn else PENDING
        if send_confirmation is not None:
            self._fanout().send_confirmation(self, ctx, topic, send_confirmation)
        if replay is not None:
            self._start_replay(ctx, store, topic, replay)
        return {"SubscriptionArn": answer}

    def confirm_subscription(self, ctx: RequestContext, topic_arn: str, token: str,
                             authenticate_on_unsubscribe: str | None = None) -> dict[str, Any]:
        # The token is the authorization: an unsigned GET of the SubscribeURL confirms too, so the topic
        # is found in its owner's store whoever asks.
        store = self._topic_store(ctx, topic_arn)
        now = clock.now()
        replay = None
        with store.lock:
            topic = store.topics.get(topic_arn)
            if topic is None:
                raise NotFound("Topic does not exist")
            subscription = self._live(store, store.subscriptions.get(topic.tokens.get(token or "", "")), now)
            if subscription is None and token in topic.unsubscribed:
                return {"SubscriptionArn": self._restore(store, topic, token, now)}
            if subscription is None or subscription.topic_arn != topic.arn:
                raise invalid("Token")
            if not subscription.confirmed:
                if subscription.filter is not None and self._filter_policies_full(topic):
                    raise FilterPolicyLimitExceeded("Filter policy limit exceeded")
                subscription.confirmed = True
                subscription.confirmation_authenticated = bool(
                    ctx.signed and authenticate_on_unsubscribe and _true(authenticate_on_unsubscribe)
                )
                index(topic, subscription)
                if "ReplayPolicy" in subscription.attributes:
                    replay = subscription
        if replay is not None:
            self._start_replay(ctx, store, topic, replay)
        return {"SubscriptionArn": subscription.arn}

    def _restore(self, store: SnsStore, topic: Topic, token: str, now: float) -> str:
        """ConfirmSubscription with an UnsubscribeConfirmation's token: the subscription comes back, as
        visiting that message's SubscribeURL restores it on AWS ("To cancel this operation and restore
        the subscription, visit the SubscribeURL"), with its ARN and attributes. Should the endpoint
        have subscribed again meanwhile, that subscription stands and is the answer. Under the lock.
        """
        expires, subscription = topic.unsubscribed[token]
        if now >= expires:
            del topic.unsubscribed[token]
            raise invalid("Token")
        existing = self._live(store, store.subscriptions.get(
            topic.by_endpoint.get((subscription.protocol, subscription.endpoint), "")), now)
        if existing is not None:
            del topic.unsubscribed[token]
            return existing.arn
        if subscription.filter is not None and self._filter_policies_full(topic):
            raise FilterPolicyLimitExceeded("Filter policy limit exceeded")
        del topic.unsubscribed[token]
        store.subscriptions[subscription.arn] = subscription
        topic.subscriptions[subscription.arn] = subscription
        topic.by_endpoint[(subscription.protocol, subscription.endpoint)] = subscription.arn
        self._own(store.region, subscription)
        index(topic, subscription)
        return subscription.arn

    def _restorable(self, topic: Topic, subscription: Subscription, now: float) -> str:
        """A new token whose SubscribeURL restores the unsubscribed ``subscription`` for two days, as a
        confirmation token lasts (under the lock; expired tokens are pruned from the oldest)."""
        while topic.unsubscribed:
            oldest = next(iter(topic.unsubscribed.values()))
            if oldest[0] > now:
                break
            topic.unsubscribed.popitem(last=False)
        token = secrets.token_hex(128)
        topic.unsubscribed[token] = (now + TOKEN_SECONDS, subscription)
        return token

    def unsubscribe(self, ctx: RequestContext, subscription_arn: str) -> None:
        store, subscription = self._subscription(ctx, subscription_arn)
        restore_token = None
        with store.lock:
            topic = store.topics.get(subscription.topic_arn)
            if ctx.signed:
                if ctx.account not in (subscription.owner, store.account):
                    raise AuthorizationError(
                        f"User: arn:{partition_for(ctx.region)}:iam::{ctx.account}:root is not authorized to "
                        f"perform: SNS:Unsubscribe on resource: {subscription.arn}"
                    )
            elif subscription.confirmation_authenticated:
                raise AuthorizationError("Unsubscribe requires authentication. Please sign your request.")
            self._drop(store, topic, subscription)
            if topic is not None:
                topic.subscriptions_deleted += 1
                if subscription.confirmed and subscription.protocol in ("http", "https"):
                    restore_token = self._restorable(topic, subscription, clock.now())
        if topic is not None and restore_token is not None:
            self._fanout().send_unsubscribe_confirmation(self, ctx, topic, subscription, restore_token)

    # -- attributes -------------------------------------------------------------------------------

    def _owned_subscription(self, ctx: RequestContext, arn: str) -> tuple[SnsStore, Subscription]:
        """The subscription, for its owner or its topic's owner; NotFound once expired, else Authorization."""
        store, subscription = self._subscription(ctx, arn)
        with store.lock:
            if self._live(store, subscription, clock.now()) is None:
                raise NotFound("Subscription does not exist")
        if ctx.account not in (subscription.owner, store.account):
            raise AuthorizationError(
                f"User: arn:{partition_for(ctx.region)}:iam::{ctx.account}:root is not authorized to perform: "
                f"SNS:{ctx.operation} on resource: {subscription.arn}"
            )
        return store, subscription

    def get_subscription_attributes(self, ctx: RequestContext, subscription_arn: str) -> dict[str, Any]:
        store, subscription = self._owned_subscription(ctx, subscription_arn)
        with store.lock:
            topic = store.topics.get(subscription.topic_arn)
            stored = subscription.attributes
            partition = partition_for(store.region)
            attributes = {
                "Owner": subscription.owner,
                "RawMessageDelivery": stored.get("RawMessageDelivery", "false"),
                "TopicArn": subscription.topic_arn,
                "Endpoint": subscription.endpoint,
                "SubscriptionPrincipal": f"arn:{partition}:iam::{subscription.owner}:root",
                "Protocol": subscription.protocol,
                "PendingConfirmation": "false" if subscription.confirmed else "true",
                "ConfirmationWasAuthenticated": "true" if subscription.confirmation_authenticated else "false",
                "SubscriptionArn": subscription.arn,
            }
            for name in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy", "SubscriptionRoleArn", "ReplayPolicy"):
                if stored.get(name):
                    attributes[name] = stored[name]
            if stored.get("FilterPolicy"):
                attributes["FilterPolicyScope"] = stored.get("FilterPolicyScope", MESSAGE_ATTRIBUTES)
            if subscription.replay_status is not None:
                attributes["ReplayStatus"] = subscription.replay_status
            if subscription.protocol in ("http", "https") and topic is not None:
                from emulator.services.sns import delivery_policy

                attributes["EffectiveDeliveryPolicy"] = json.dumps(
                    delivery_policy.effective(topic, subscription), separators=(",", ":")
                )
        return {"Attributes": attributes}

    def set_subscription_attributes(self, ctx: RequestContext, subscription_arn: str, attribute_name: str,
                                    attribute_value: str | None = None) -> None:
        if attribute_name not in SETTABLE:
            raise invalid("AttributeName")
        store, subscription = self._owned_subscription(ctx, subscription_arn)
        replay = None
        with store.lock:
            topic = store.topics.get(subscription.topic_arn)
            if topic is None:
                raise NotFound("Subscription does not exist")
            checked = _check_attributes(topic, subscription.protocol, subscription.attributes,
                                        {attribute_name: attribute_value or ""}, _SET_PREFIX)
            adds_policy = checked.pattern is not None and subscription.filter is None
            if adds_policy and subscription.confirmed and self._filter_policies_full(topic):
                raise FilterPolicyLimitExceeded("Filter policy limit exceeded")
            subscription.attributes = checked.attributes
            subscription.filter = checked.pattern
            index(topic, subscription)
            if attribute_name == "ReplayPolicy":
                if "ReplayPolicy" in checked.attributes:
                    replay = subscription if subscription.confirmed else None
                    subscription.replay_status = "Pending"
                else:
                    subscription.replay_status = None
        if replay is not None:
            self._start_replay(ctx, store, topic, replay)

    def _start_replay(self, ctx: RequestContext, store: SnsStore, topic: Topic, subscription: Subscription) -> None:
        """Hands the archived messages of the subscription's ReplayPolicy window to fan-out."""
        with store.lock:
            messages = _replay_window(topic, subscription.attributes["ReplayPolicy"])
            subscription.replay_status = "In progress"
        self._fanout().replay(self, ctx, topic, subscription, messages)
        with store.lock:
            subscription.replay_status = "Completed"

    # -- listings ---------------------------------------------------------------------------------

    def _page(self, live: list[Subscription], next_token: str | None, kind: str) -> dict[str, Any]:
        """One page of ``live`` subscriptions (expired ones already left out), in ARN order."""
        live.sort(key=lambda s: s.arn)
        try:
            page, token = paginate(live, lambda s: s.arn, next_token, PAGE_SIZE, kind)
        except InvalidToken:
            raise invalid("NextToken") from None
        result: dict[str, Any] = {"Subscriptions": [
            {
                "SubscriptionArn": s.arn if s.confirmed else LISTED_PENDING,
                "Owner": s.owner,
                "Protocol": s.protocol,
                "Endpoint": s.endpoint,
                "TopicArn": s.topic_arn,
            }
            for s in page
        ]}
        if token is not None:
            result["NextToken"] = token
        return result

    def list_subscriptions(self, ctx: RequestContext, next_token: str | None = None) -> dict[str, Any]:
        """The requester's subscriptions, as AWS lists them: those this account made, on its own topics
        or another account's, and not those other accounts made on its topics. Read from the owner's
        index (``SnsStore.owned``), so no other account's store is walked or locked; an expired pending
        one is left out here and forgotten when its topic's store next looks at it."""
        store = self._store(ctx)
        now = clock.now()
        with store.owned_lock:
            owned = list(store.owned.values())
        live = [s for s in owned if not self._expired(s, now)]
        return self._page(live, next_token, "sns-subscriptions")

    def list_subscriptions_by_topic(self, ctx: RequestContext, topic_arn: str,
                                    next_token: str | None = None) -> dict[str, Any]:
        store, topic = self._topic(ctx, topic_arn, "ListSubscriptionsByTopic")
        now = clock.now()
        with store.lock:
            live = [s for s in list(topic.subscriptions.values()) if self._live(store, s, now) is not None]
            return self._page(live, next_token, f"sns-subs:{topic.arn}")

