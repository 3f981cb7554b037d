"""Topics: CreateTopic, Get/SetTopicAttributes, DeleteTopic, ListTopics, Add/RemovePermission and the
data protection policy.

A topic keeps the attributes it was given as given (``Topic.attributes``); GetTopicAttributes adds
what SNS computes (owner, counts, the default policy, the effective delivery policy) and the defaults
AWS shows. Every attribute is checked by one function, ``check_attribute``, whether it came with
CreateTopic or SetTopicAttributes; only the message's start differs, as AWS words it ("Invalid
parameter: Attributes Reason: ..." at creation, "Invalid parameter: ..." when set).

CreateTopic is idempotent: the same name with the same attributes and tags answers the existing
topic's ARN. Costs: every operation is a dict lookup under the store's lock, except ListTopics (one
sort of the region's topic ARNs per page) and the topic limit (a count kept per kind).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from emulator import clock
from emulator.context import RequestContext
from emulator.errors import ServiceError
from emulator.services.pagination import InvalidToken, paginate
from emulator.services.sns import delivery_policy, endpoints, policy
from emulator.services.sns.common import (
    JSON_ERRORS,
    InvalidParameter,
    NotFound,
    SnsBase,
    TopicLimitExceeded,
    invalid,
    parse_arn,
    topic_arn,
)
from emulator.services.sns.models import SnsStore, Topic
from emulator.services.sns.tagging import check_new_tags, tag_dict

MAX_STANDARD_TOPICS = 100_000
MAX_FIFO_TOPICS = 1_000
PAGE_SIZE = 100
_DAY = 86_400.0

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
FIFO_NAME_ERROR = (
    "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and "
    "lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
)
SET_PREFIX = "Invalid parameter: "
CREATE_PREFIX = "Invalid parameter: Attributes Reason: "

FEEDBACK_PROTOCOLS = ("HTTP", "Firehose", "Lambda", "Application", "SQS")
_ROLE_ATTRIBUTES = frozenset(
    f"{protocol}{kind}FeedbackRoleArn" for protocol in FEEDBACK_PROTOCOLS for kind in ("Success", "Failure")
)
_SAMPLE_RATES = frozenset(f"{protocol}SuccessFeedbackSampleRate" for protocol in FEEDBACK_PROTOCOLS)
FIFO_ONLY = frozenset({"ContentBasedDeduplication", "FifoThroughputScope", "ArchivePolicy"})
SETTABLE = (
    frozenset({
        "DeliveryPolicy", "DisplayName", "Policy", "SignatureVersion", "TracingConfig", "KmsMasterKeyId",
        "MaximumMessageSize", "DataProtectionPolicy",
    })
    | FIFO_ONLY
    | _ROLE_ATTRIBUTES
    | _SAMPLE_RATES
)
# Values GetTopicAttributes shows for what was never set (and CreateTopic's idempotency compares).
_DEFAULTS = {"DisplayName": "", "SignatureVersion": "1", "TracingConfig": "PassThrough"}
_FIFO_DEFAULTS = {"ContentBasedDeduplication": "false", "FifoThroughputScope": "Topic"}
MIN_MESSAGE_SIZE, MAX_MESSAGE_SIZE = 1024, 1_048_576
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 1, 365


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except JSON_ERRORS:
        return None
    return value if isinstance(value, dict) else None


def _check_archive_policy(value: str) -> None:
    document = _json_object(value)
    if document is None:
        raise invalid("ArchivePolicy")
    for key, retention in document.items():
        if key != "MessageRetentionPeriod":
            raise invalid(f"ArchivePolicy: Unknown attribute: {key}")
        text = str(retention)
        if isinstance(retention, bool) or not text.isdigit() or not (
            MIN_RETENTION_DAYS <= int(text) <= MAX_RETENTION_DAYS
        ):
            raise invalid(
                f"ArchivePolicy: MessageRetentionPeriod must be between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS}"
            )


def check_attribute(name: str, value: str, fifo: bool) -> str:
    """One topic attribute as SetTopicAttributes checks it; the value to keep ("" removes it).

    ``InvalidParameter`` "Invalid parameter: ..." for what AWS refuses (CreateTopic rewrites the start).
    """
    if name not in SETTABLE:
        raise invalid("AttributeName")
    if name in FIFO_ONLY and not fifo:
        if name == "ContentBasedDeduplication":
            raise invalid("Content based deduplication can only be set for FIFO topics")
        raise invalid(name)
    if name == "Policy":
        policy.validate(value)
    elif name == "DeliveryPolicy" and value:
        delivery_policy.validate(value, "topic")
    elif name == "SignatureVersion" and value not in ("1", "2"):
        raise invalid("SignatureVersion")
    elif name == "TracingConfig" and value not in ("PassThrough", "Active"):
        raise invalid("TracingConfig")
    elif name == "ContentBasedDeduplication":
        if value.lower() not in ("true", "false"):
            raise invalid("ContentBasedDeduplication")
        return value.lower()
    elif name == "FifoThroughputScope" and value not in ("Topic", "MessageGroup"):
        raise invalid("FifoThroughputScope")
    elif name == "ArchivePolicy" and value:
        _check_archive_policy(value)
    elif name == "MaximumMessageSize" and not (
        value.isdigit() and MIN_MESSAGE_SIZE <= int(value) <= MAX_MESSAGE_SIZE
    ):
        raise invalid("MaximumMessageSize")
    elif name in _ROLE_ATTRIBUTES and value and not endpoints.is_role_arn(value):
        raise invalid(name)
    elif name in _SAMPLE_RATES and not (value.isdigit() and 0 <= int(value) <= 100):
        raise invalid(name)
    elif name == "DataProtectionPolicy" and value and _json_object(value) is None:
        raise invalid("DataProtectionPolicy")
    return value


def _at_creation(error: ServiceError) -> ServiceError:
    """The same refusal as CreateTopic words it: "Invalid parameter: Attributes Reason: ..."."""
    return InvalidParameter(CREATE_PREFIX + error.message.removeprefix(SET_PREFIX))


def _apply(topic: Topic, name: str, value: str, now: float) -> None:
    """Keeps a checked attribute on the topic (an empty value resets the attribute to its default)."""
    if name == "DataProtectionPolicy":
        topic.data_protection_policy = value or None
        return
    if name == "ArchivePolicy":
        retention = (_json_object(value) or {}).get("MessageRetentionPeriod") if value else None
        if retention is None:
            topic.attributes.pop(name, None)
            topic.archive_since = 0.0
            return
        if not topic.attributes.get(name):
            topic.archive_since = now
    if value == "":
        topic.attributes.pop(name, None)
    else:
        topic.attributes[name] = value


def _shown(topic: Topic, name: str) -> str:
    """An attribute's current value as CreateTopic compares it: the one set, else AWS's default."""
    if name == "Policy":
        return policy.current(topic)
    if name == "DataProtectionPolicy":
        return topic.data_protection_policy or ""
    if name == "FifoTopic":
        return "true" if topic.fifo else "false"
    defaults = {**_DEFAULTS, **(_FIFO_DEFAULTS if topic.fifo else {})}
    return topic.attributes.get(name, defaults.get(name, ""))


def _same(name: str, given: str, existing: str) -> bool:
    if name in ("Policy", "DeliveryPolicy", "ArchivePolicy", "DataProtectionPolicy") and given and existing:
        return _json_object(given) == _json_object(existing)
    return given == existing


def _timestamp(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def topic_attributes(topic: Topic, now: float) -> dict[str, str]:
    """Everything GetTopicAttributes shows for ``topic`` (call under the store's lock)."""
    confirmed = sum(1 for sub in topic.subscriptions.values() if sub.confirmed)
    result = {
        "Policy": policy.current(topic),
        "Owner": topic.account,
        "SubscriptionsPending": str(len(topic.subscriptions) - confirmed),
        "TopicArn": topic.arn,
        "EffectiveDeliveryPolicy": json.dumps(delivery_policy.effective(topic), separators=(",", ":")),
        "SubscriptionsConfirmed": str(confirmed),
        "DisplayName": topic.attributes.get("DisplayName", ""),
        "SubscriptionsDeleted": str(topic.subscriptions_deleted),
    }
    result.update((k, v) for k, v in topic.attributes.items() if k not in result)
    if topic.fifo:
        result["FifoTopic"] = "true"
        result.setdefault("ContentBasedDeduplication", "false")
        archive = topic.attributes.get("ArchivePolicy")
        if archive:
            days = int(str((_json_object(archive) or {}).get("MessageRetentionPeriod", MIN_RETENTION_DAYS)))
            result["BeginningArchiveTime"] = _timestamp(max(topic.archive_since, now - days * _DAY))
    return result


class TopicsMixin(SnsBase):
    def _check_name(self, name: str, fifo: bool) -> None:
        if fifo:
            if not _FIFO_NAME.match(name):
                raise InvalidParameter(FIFO_NAME_ERROR)
        elif not _NAME.match(name):
            raise invalid("Topic Name")

    def create_topic(
        self,
        ctx: RequestContext,
        *,
        name: str,
        attributes: dict[str, str] | None = None,
        tags: list[dict[str, str]] | None = None,
        data_protection_policy: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        given = dict(attributes or {})
        fifo_flag = given.pop("FifoTopic", None)
        if fifo_flag is not None and fifo_flag.lower() not in ("true", "false"):
            raise InvalidParameter(f"{CREATE_PREFIX}FifoTopic")
        fifo = (fifo_flag or "").lower() == "true"
        self._check_name(name, fifo)
        if data_protection_policy is not None:
            given["DataProtectionPolicy"] = data_protection_policy
        checked: dict[str, str] = {}
        for key, value in given.items():
            if key not in SETTABLE:
                raise InvalidParameter(f"{CREATE_PREFIX}Unknown attribute: {key}")
            try:
                checked[key] = check_attribute(key, value, fifo)
            except ServiceError as error:
                raise _at_creation(error) from None
        new_tags = tag_dict(tags or [])
        arn = topic_arn(ctx.region, ctx.account, name)
        store = self._store(ctx)
        now = clock.now()
        with store.lock:
            existing = store.topics.get(arn)
            if existing is not None:
                if (fifo_flag is not None and fifo != existing.fifo) or any(
                    not _same(key, value, _shown(existing, key)) for key, value in checked.items()
                ):
                    raise InvalidParameter(f"{CREATE_PREFIX}Topic already exists with different attributes")
                if tags is not None and new_tags != existing.tags:
                    raise InvalidParameter("Invalid parameter: Tags Reason: Topic already exists with different tags")
                return {"TopicArn": arn}
            check_new_tags({}, new_tags)
            self._check_topic_limit(store, fifo)
            topic = Topic(name=name, arn=arn, account=ctx.account, region=ctx.region, fifo=fifo, created_at=now)
            for key, value in checked.items():
                _apply(topic, key, value, now)
            topic.tags.update(new_tags)
            store.topics[arn] = topic
        return {"TopicArn": arn}

    def _check_topic_limit(self, store: SnsStore, fifo: bool) -> None:
        count = sum(1 for topic in store.topics.values() if topic.fifo == fifo)
        if count >= (MAX_FIFO_TOPICS if fifo else MAX_STANDARD_TOPICS):
            raise TopicLimitExceeded("Topic limit exceeded")

    def get_topic_attributes(self, ctx: RequestContext, *, topic_arn: str, **_: Any) -> dict[str, Any]:
        store, topic = self._topic(ctx, topic_arn, "GetTopicAttributes")
        with store.lock:
            return {"Attributes": topic_attributes(topic, clock.now())}

    def set_topic_attributes(
        self,
        ctx: RequestContext,
        *,
        topic_arn: str,
        attribute_name: str,
        attribute_value: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store, topic = self._topic(ctx, topic_arn, "SetTopicAttributes")
        value = check_attribute(attribute_name, attribute_value or "", topic.fifo)
        with store.lock:
            _apply(topic, attribute_name, value, clock.now())
        return {}

    def delete_topic(self, ctx: RequestContext, *, topic_arn: str, **_: Any) -> dict[str, Any]:
        """Idempotent, as AWS documents it: a topic that does not exist is no error."""
        try:
            store, topic = self._topic(ctx, topic_arn, "DeleteTopic")
        except NotFound:
            return {}
        with store.lock:
            if store.topics.get(topic.arn) is topic:
                del store.topics[topic.arn]
                for subscription_arn, subscription in topic.subscriptions.items():
                    store.subscriptions.pop(subscription_arn, None)
                    self._disown(store.region, subscription)
                topic.subscriptions.clear()
        return {}

    def list_topics(self, ctx: RequestContext, *, next_token: str | None = None, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            arns = sorted(store.topics)
        try:
            page, token = paginate(arns, lambda arn: arn, next_token, PAGE_SIZE, "topics")
        except InvalidToken:
            raise invalid("NextToken") from None
        result: dict[str, Any] = {"Topics": [{"TopicArn": arn} for arn in page]}
        if token:
            result["NextToken"] = token
        return result

    def add_permission(
        self,
        ctx: RequestContext,
        *,
        topic_arn: str,
        label: str,
        aws_account_id: list[str],
        action_name: list[str],
        **_: Any,
    ) -> dict[str, Any]:
        store, topic = self._topic(ctx, topic_arn, "AddPermission")
        with store.lock:
            topic.attributes["Policy"] = policy.add_permission(topic, label, aws_account_id, action_name)
        return {}

    def remove_permission(self, ctx: RequestContext, *, topic_arn: str, label: str, **_: Any) -> dict[str, Any]:
        store, topic = self._topic(ctx, topic_arn, "RemovePermission")
        with store.lock:
            topic.attributes["Policy"] = policy.remove_permission(topic, label)
        return {}

    def get_data_protection_policy(self, ctx: RequestContext, *, resource_arn: str, **_: Any) -> dict[str, Any]:
        store, topic = self._data_protection_topic(ctx, resource_arn, "GetDataProtectionPolicy")
        with store.lock:
            text = topic.data_protection_policy
        return {"DataProtectionPolicy": text} if text else {}

    def put_data_protection_policy(
        self, ctx: RequestContext, *, resource_arn: str, data_protection_policy: str, **_: Any
    ) -> dict[str, Any]:
        store, topic = self._data_protection_topic(ctx, resource_arn, "PutDataProtectionPolicy")
        if _json_object(data_protection_policy) is None:
            raise invalid("DataProtectionPolicy")
        with store.lock:
            topic.data_protection_policy = data_protection_policy
        return {}

    def _data_protection_topic(self, ctx: RequestContext, arn: str, action: str) -> tuple[SnsStore, Topic]:
        parsed = parse_arn(arn)
        if parsed is None or parsed[3] is not None:
            raise invalid("ResourceArn")
        return self._topic(ctx, arn, action, member="ResourceArn")
