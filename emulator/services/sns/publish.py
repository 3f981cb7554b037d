"""Publish and PublishBatch: a message's validation, FIFO ordering and deduplication, and its hand-over
to fan-out (``fanout.publish``) or to the one platform endpoint / phone number it names.

A request runs in two steps. ``_draft`` checks everything that does not depend on the topic (target,
body, Subject, MessageStructure, attributes, id formats) without a lock. ``_accept`` then runs under
the topic's ``store.lock``: the topic's size limit, the FIFO rules, the deduplication window, the
next sequence number, the archive and ``fanout.publish``, so that FIFO messages reach the delivery
layer in sequence order whatever the number of concurrent publishers. Nothing changes before every
check passed: a rejected message consumes no sequence number and leaves no deduplication entry.

Cost of a Publish to a topic with no subscribers: a few string checks, a UUID and ``fanout.publish``
(which finds no subscription). The JSON of ``MessageStructure=json`` is parsed only then, attributes
are walked only when given, SHA-256 is computed only for content-based deduplication, and the
deduplication window is pruned from its oldest end (entries are kept in time order).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator import clock
from emulator.context import RequestContext
from emulator.errors import ServiceError
from emulator.services.sns import fanout, platform
from emulator.services.sns.attributes import validate as validate_attributes
from emulator.services.sns.common import (
    JSON_ERRORS,
    TOPIC_NOT_FOUND,
    AuthorizationError,
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    NotFound,
    SnsBase,
    TooManyEntriesInBatchRequest,
    invalid,
)
from emulator.services.sns.models import Message, PlatformApplication, PlatformEndpoint, SnsStore, Topic

DEFAULT_MAX_SIZE = 262_144  # bytes of body and attributes, unless a topic's MaximumMessageSize says more
DEDUP_WINDOW = 300.0  # seconds: FIFO deduplication interval
BATCH_MAX_ENTRIES = 10
_SUBJECT_MAX = 100  # UTF-16 code units, as AWS's Java service counts
_FIFO_ID = re.compile(r"[!-~]{1,128}")  # alphanumerics and punctuation
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
_SEQUENCE_BASE = 10**19  # sequence numbers are 20-digit decimals that grow per topic
_DAY = 86_400.0


@dataclass(slots=True)
class _Draft:
    """A message that passed every check the topic does not take part in."""

    text: str  # the default text (MessageStructure=json: its "default" entry)
    body: str  # the Message member as sent (what content-based deduplication hashes)
    size: int  # bytes of body and attributes, as the size limit counts them
    structure: dict[str, str] | None = None
    subject: str | None = None
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    group_id: str | None = None
    dedup_id: str | None = None


def _check_subject(subject: str) -> None:
    """Non-empty, no line breaks or other control characters, at most 100 characters (UTF-16 units)."""
    units = 0
    for char in subject:
        code = ord(char)
        if code < 0x20 or 0x7F <= code < 0xA0:
            raise invalid("Subject")
        units += 2 if code > 0xFFFF else 1
    if not units or units > _SUBJECT_MAX:
        raise invalid("Subject")


def _structure(body: str, require_default: bool) -> dict[str, str]:
    """The protocol -> text entries of a MessageStructure=json body; entries that are not strings are
    dropped, as AWS ignores them."""
    try:
        document = json.loads(body)
    except JSON_ERRORS:
        document = None
    if not isinstance(document, dict):
        raise invalid("Message Structure - JSON message body failed to parse")
    entries = {key: value for key, value in document.items() if isinstance(value, str)}
    if require_default and "default" not in entries:
        raise invalid("Message Structure - No default entry in JSON message body")
    return entries


def _sequence_number(counter: int) -> str:
    return str(_SEQUENCE_BASE + counter)


def _max_size(topic: Topic) -> int:
    try:
        return int(topic.attributes.get("MaximumMessageSize") or DEFAULT_MAX_SIZE)
    except ValueError:
        return DEFAULT_MAX_SIZE


def _prune_dedup(window: OrderedDict[str, tuple[float, str, str]], now: float) -> None:
    while window:
        key, (expires, _, _) = next(iter(window.items()))
        if expires > now:
            return
        del window[key]


def _archive(topic: Topic, message: Message, now: float) -> None:
    """Keeps ``message`` for replay when the FIFO topic has an ArchivePolicy; drops the expired."""
    policy = topic.attributes.get("ArchivePolicy")
    if not policy:
        return
    try:
        days = float(json.loads(policy).get("MessageRetentionPeriod"))
    except (ValueError, TypeError, AttributeError):
        return
    topic.archive.append(message)
    cut = now - days * _DAY
    expired = 0
    for kept in topic.archive:
        if kept.timestamp >= cut:
            break
        expired += 1
    if expired:
        del topic.archive[:expired]


class PublishMixin(SnsBase):
    # From PlatformMixin and SmsMixin, joined into the same provider.
    _publish_endpoint: Callable[[RequestContext, str], tuple[PlatformApplication, PlatformEndpoint]]
    _publish_phone: Callable[[RequestContext, str], Any]
    _phone_opted_out: Callable[[RequestContext, str], bool]
    spec: Any

    def publish(
        self,
        ctx: RequestContext,
        *,
        message: str,
        topic_arn: str | None = None,
        target_arn: str | None = None,
        phone_number: str | None = None,
        subject: str | None = None,
        message_structure: str | None = None,
        message_attributes: dict[str, dict[str, Any]] | None = None,
        message_deduplication_id: str | None = None,
        message_group_id: str | None = None,
    ) -> dict[str, Any]:
        given = (topic_arn, target_arn, phone_number)
        count = sum(1 for value in given if value)
        if count == 0:
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        if count > 1:
            raise invalid("TopicArn or TargetArn Reason: "
                          "Only one of TopicArn, TargetArn or PhoneNumber may be specified")
        # A TargetArn may name a topic as well as a platform endpoint.
        endpoint = bool(target_arn) and ":endpoint/" in (target_arn or "")
        draft = self._draft(message, subject, message_structure, message_attributes,
                            message_group_id, message_deduplication_id, require_default=not endpoint)
        if phone_number:
            return self._publish_sms(ctx, phone_number, draft)
        if endpoint:
            return self._publish_application(ctx, target_arn or "", draft)
        arn, member = (topic_arn, "TopicArn") if topic_arn else (target_arn, "TargetArn")
        store = self._topic_store(ctx, arn, member)
        with store.lock:
            _, topic = self._topic(ctx, arn, "Publish", member)
            message_id, sequence_number = self._accept(ctx, store, topic, draft)
        result: dict[str, Any] = {"MessageId": message_id}
        if sequence_number is not None:
            result["SequenceNumber"] = sequence_number
        return result

    def deliver_message(
        self,
        *,
        account: str,
        region: str,
        topic_arn: str,
        message: str,
        service: str,
        source_arn: str,
        subject: str | None = None,
        message_attributes: dict[str, dict[str, Any]] | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
        base_url: str = "",
    ) -> dict[str, Any]:
        """A message published by another service (``service`` "events.amazonaws.com" for an EventBridge
        rule ``source_arn`` of ``account``), called by ``emulator.delivery`` on a worker.

        It goes through Publish's own checks; the topic's policy must allow the service principal to
        publish, as AWS requires of EventBridge targets (``AuthorizationError`` else). A
        ``ServiceError`` fails the delivery, and the producer's retry policy decides what follows.
        """
        from emulator.services.sns import policy

        ctx = RequestContext(service="sns", account=account, region=region, operation="Publish", base_url=base_url)
        store = self._topic_store(ctx, topic_arn)
        with store.lock:
            topic = store.topics.get(topic_arn)
            if topic is None:
                raise NotFound(TOPIC_NOT_FOUND)
            if not policy.allows_service(topic, service, "SNS:Publish", account, source_arn):
                raise AuthorizationError(
                    f"{service} is not authorized to perform: SNS:Publish on resource: {topic_arn} "
                    "(the topic's policy has no statement allowing it)"
                )
        return self.publish(ctx, topic_arn=topic_arn, message=message, subject=subject,
                            message_attributes=message_attributes, message_group_id=message_group_id,
                            message_deduplication_id=message_deduplication_id)

    def publish_batch(
        self, ctx: RequestContext, *, topic_arn: str, publish_batch_request_entries: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        entries = publish_batch_request_entries or []
        if not entries:
            raise EmptyBatchRequest("The batch request doesn't contain any entries.")
        if len(entries) > BATCH_MAX_ENTRIES:
            raise TooManyEntriesInBatchRequest("The batch request contains more entries than permissible.")
        seen: set[str] = set()
        for entry in entries:
            entry_id = entry.get("Id") or ""
            if _BATCH_ID.fullmatch(entry_id) is None:
                raise InvalidBatchEntryId(
                    "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                    "It can be at most 80 letters long."
                )
            if entry_id in seen:
                raise BatchEntryIdsNotDistinct("Two or more batch entries in the request have the same Id.")
            seen.add(entry_id)
        drafts: list[_Draft | ServiceError] = []
        total = 0
        for entry in entries:
            try:
                draft = self._draft(entry.get("Message") or "", entry.get("Subject"), entry.get("MessageStructure"),
                                    entry.get("MessageAttributes"), entry.get("MessageGroupId"),
                                    entry.get("MessageDeduplicationId"), require_default=True)
            except ServiceError as error:
                drafts.append(error)
                total += len((entry.get("Message") or "").encode("utf-8"))
                continue
            drafts.append(draft)
            total += draft.size
        successful: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        store = self._topic_store(ctx, topic_arn)
        with store.lock:
            _, topic = self._topic(ctx, topic_arn, "Publish")
            if total > _max_size(topic):
                raise BatchRequestTooLong("The length of all the batch messages put together is more than the limit.")
            for entry, outcome in zip(entries, drafts, strict=True):
                if isinstance(outcome, _Draft):
                    try:
                        message_id, sequence_number = self._accept(ctx, store, topic, outcome)
                    except ServiceError as error:
                        outcome = error
                    else:
                        success: dict[str, Any] = {"Id": entry["Id"], "MessageId": message_id}
                        if sequence_number is not None:
                            success["SequenceNumber"] = sequence_number
                        successful.append(success)
                        continue
                failed.append(self._batch_failure(entry["Id"], outcome))
        return {"Successful": successful, "Failed": failed}

    def _batch_failure(self, entry_id: str, error: ServiceError) -> dict[str, Any]:
        """A Failed entry carries the error's wire code (``InvalidParameter``), as the XML error would."""
        shape = self.spec.errors_by_code.get(error.code)
        code = shape.error_code if shape is not None else error.code
        return {"Id": entry_id, "Code": code, "Message": error.message, "SenderFault": error.sender_fault}

    def _draft(
        self,
        body: str,
        subject: str | None,
        structure: str | None,
        attributes: dict[str, dict[str, Any]] | None,
        group_id: str | None,
        dedup_id: str | None,
        *,
        require_default: bool,
    ) -> _Draft:
        """Every check of one message that needs no topic; ``ServiceError`` with AWS's text else."""
        if not body:
            raise invalid("Empty message")
        if subject is not None:
            _check_subject(subject)
        entries = None
        text = body
        # AWS reads only "json"; any other MessageStructure leaves the body a plain message.
        if structure == "json":
            entries = _structure(body, require_default)
            text = entries.get("default", "")
        size = len(body) if body.isascii() else len(body.encode("utf-8"))
        if attributes:
            size += validate_attributes(attributes)
        for member, value in (("MessageGroupId", group_id), ("MessageDeduplicationId", dedup_id)):
            if value is not None and _FIFO_ID.fullmatch(value) is None:
                raise invalid(f"{member} Reason: {member} can only include alphanumeric and punctuation "
                              "characters, 1 to 128 in length")
        return _Draft(text=text, body=body, size=size, structure=entries, subject=subject,
                      attributes=attributes or {}, group_id=group_id, dedup_id=dedup_id)

    def _message(self, ctx: RequestContext, target: str, draft: _Draft, now: float, **fifo: Any) -> Message:
        return Message(
            message_id=str(uuid.uuid4()), topic_arn=target, message=draft.text, structure=draft.structure,
            subject=draft.subject, attributes=draft.attributes, timestamp=now, base_url=ctx.base_url, **fifo,
        )

    def _accept(self, ctx: RequestContext, store: SnsStore, topic: Topic, draft: _Draft) -> tuple[str, str | None]:
        """The topic's checks, then the hand-over; (message id, sequence number). Under ``store.lock``.

        A FIFO duplicate within the window is accepted with the first message's id and sequence
        number and is not handed to fan-out again.
        """
        if draft.size > _max_size(topic):
            raise invalid("Message too long")
        now = clock.now()
        if not topic.fifo:
            if draft.dedup_id is not None:
                raise invalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                              "parameter that is not valid for this topic type")
            # MessageGroupId is accepted on standard topics: SQS standard subscriptions get it (fair queues).
            message = self._message(ctx, topic.arn, draft, now, group_id=draft.group_id)
            fanout.publish(self, ctx, store, topic, message)
            return message.message_id, None
        if not draft.group_id:
            raise invalid("The MessageGroupId parameter is required for FIFO topics")
        dedup_id = draft.dedup_id
        if dedup_id is None:
            if topic.attributes.get("ContentBasedDeduplication", "false").lower() != "true":
                raise invalid("The topic should either have ContentBasedDeduplication enabled or "
                              "MessageDeduplicationId provided explicitly")
            dedup_id = hashlib.sha256(draft.body.encode("utf-8")).hexdigest()
        # FifoThroughputScope=MessageGroup deduplicates within each group, else across the topic.
        per_group = topic.attributes.get("FifoThroughputScope") == "MessageGroup"
        key = f"{draft.group_id}\n{dedup_id}" if per_group else dedup_id
        _prune_dedup(topic.dedup, now)
        duplicate = topic.dedup.get(key)
        if duplicate is not None:
            return duplicate[1], duplicate[2]
        counter = topic.sequence + 1
        sequence_number = _sequence_number(counter)
        message = self._message(ctx, topic.arn, draft, now, group_id=draft.group_id, dedup_id=dedup_id,
                                sequence_number=sequence_number)
        fanout.publish(self, ctx, store, topic, message)
        topic.sequence = counter
        topic.dedup[key] = (now + DEDUP_WINDOW, message.message_id, sequence_number)
        _archive(topic, message, now)
        return message.message_id, sequence_number

    def _publish_application(self, ctx: RequestContext, target_arn: str, draft: _Draft) -> dict[str, Any]:
        application, endpoint = self._publish_endpoint(ctx, target_arn)
        entries = draft.structure
        if entries is not None and "default" not in entries and application.platform not in entries:
            raise invalid(f"JSON must contain an entry for 'default' or '{application.platform}'.")
        if draft.size > DEFAULT_MAX_SIZE:
            raise invalid("Message too long")
        if entries is not None and "default" not in entries:
            draft.text = entries[application.platform]
        message = self._message(ctx, endpoint.arn, draft, clock.now())
        payload = platform.platform_payload(application.platform, draft.text, entries)
        fanout.publish_direct(self, ctx, "application", endpoint.arn, message, payload)
        return {"MessageId": message.message_id}

    def _publish_sms(self, ctx: RequestContext, phone_number: str, draft: _Draft) -> dict[str, Any]:
        self._publish_phone(ctx, phone_number)
        if draft.size > DEFAULT_MAX_SIZE:
            raise invalid("Message too long")
        message = self._message(ctx, phone_number, draft, clock.now())
        text = draft.structure.get("sms", draft.text) if draft.structure is not None else draft.text
        # AWS accepts a text to an opted-out number; its delivery then fails, and is recorded so.
        error = fanout.SMS_OPTED_OUT if self._phone_opted_out(ctx, phone_number) else None
        fanout.publish_direct(self, ctx, "sms", phone_number, message, text, error=error)
        return {"MessageId": message.message_id}
