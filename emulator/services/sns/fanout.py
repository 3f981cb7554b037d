"""From a published message to deliveries: matching subscriptions, the per-protocol payload, and the
hand-over to ``emulator.delivery``.

Publish calls ``publish`` under the store's lock, on the request thread, so this module only decides
*who* gets the message and *how*, then submits: the matching subscriptions come from one walk of each
of the topic's two rulesets (attribute-scoped and body-scoped filter policies) plus the set of
unfiltered subscriptions, so the cost is the message's fields times the steps taken plus one
``Delivery`` per match, whatever the number of subscriptions that do not match. Payloads are
closures evaluated on a delivery worker: JSON encoding and RSA signing never run on the event loop.

Per protocol:
- http/https: a POST with AWS's headers and the signed Notification (or, with RawMessageDelivery,
  the message alone), retried by the subscription's effective delivery policy on the emulator's
  clock; SNS retries server errors (5xx), throttling (429) and failures to connect or answer, not
  other client errors. After the last failure the message goes to the subscription's
  RedrivePolicy dead-letter queue (recorded as that queue would receive it), else the failure
  stays in the delivery log. A ``throttlePolicy.maxReceivesPerSecond`` spaces the subscription's
  at most that many deliveries per second of the emulator's clock (``Delivery.not_before``): the excess
  waits, as on AWS, and is never dropped.
- everything else (sqs, lambda, firehose, email, email-json, sms, application): recorded exactly
  as it would be sent, for the admin endpoint ``/_emulator/sns/messages``. Two of them can refuse
  for good, and are then recorded as failed deliveries without retry: a text to a number that opted
  out of SMS ("Phone is currently opted out"), and a push to a platform endpoint that is disabled or
  gone (or whose application is disabled), which also publishes the application's
  ``EventDeliveryFailure`` event, off the request thread.

FIFO topics order each subscription's deliveries per message group (the dispatcher's ordering key).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from emulator import clock
from emulator.context import RequestContext
from emulator.delivery import NO_RETRY, CallTarget, Delivery, HttpTarget, Outcome, RecordTarget
from emulator.patterns import MESSAGE_ATTRIBUTES, MESSAGE_BODY, message_document
from emulator.services.sns import delivery_policy, signing
from emulator.services.sns import messages as formats
from emulator.services.sns.models import Message, SnsStore, Subscription, Topic

HTTP_PROTOCOLS = frozenset({"http", "https"})
SMS_OPTED_OUT = "Phone is currently opted out"
# A push that cannot reach its endpoint: the log's error, and the DeliveryFailure event's
# (FailureType, FailureMessage).
ENDPOINT_MISSING = ("EndpointNotFound", "Endpoint was not found")
ENDPOINT_DISABLED = ("EndpointDisabled", "Endpoint is disabled")
APPLICATION_DISABLED = ("PlatformApplicationDisabled", "Platform application is disabled")


def classify(status: int) -> tuple[bool, bool]:
    """(delivered, worth a retry) of an HTTP/S endpoint's answer, as SNS reads it: 2xx delivered; 5xx
    and 429 failed and retried by the delivery policy; any other status a client error, failed without
    retry (SNS documents retries for server-side errors only), so it goes to the dead-letter queue."""
    if 200 <= status < 300:
        return True, False
    return False, status >= 500 or status == 429


def _base_url(ctx: RequestContext, message: Message | None = None) -> str:
    return ((message.base_url if message is not None else "") or ctx.base_url).rstrip("/")


def _signature_version(topic: Topic) -> str:
    return topic.attributes.get("SignatureVersion") or "1"


def _raw(subscription: Subscription) -> bool:
    return subscription.attributes.get("RawMessageDelivery", "false").lower() == "true"


def _info(topic_arn: str, subscription: Subscription | None, protocol: str, endpoint: str, message_id: str,
          message_type: str, **extra: Any) -> dict[str, Any]:
    info = {"topic": topic_arn, "subscription": subscription.arn if subscription is not None else None,
            "protocol": protocol, "endpoint": endpoint, "messageId": message_id, "type": message_type}
    info.update(extra)
    return info


def matching(store: SnsStore, topic: Topic, message: Message) -> list[Subscription]:
    """The confirmed subscriptions of ``topic`` whose filter policy (if any) lets ``message`` through."""
    names: set[str] = set(topic.unfiltered)
    if len(topic.attribute_rules):
        document = message_document(MESSAGE_ATTRIBUTES, message_attributes=message.attributes)
        if document is not None:
            names |= topic.attribute_rules.matching(document)
    if len(topic.body_rules):
        document = message_document(MESSAGE_BODY, message_body=message.message)
        if document is not None:
            names |= topic.body_rules.matching(document)
    found = (store.subscriptions.get(name) for name in sorted(names))
    return [sub for sub in found if sub is not None and sub.confirmed]


def publish(provider: Any, ctx: RequestContext, store: SnsStore, topic: Topic, message: Message) -> None:
    """Hands ``message`` to every confirmed subscription of ``topic`` whose filter policy matches.

    Called under ``store.lock`` (so FIFO messages reach the delivery layer in sequence order); only
    builds deliveries and submits them, no I/O and no signing (bodies are built on the workers).
    """
    deliveries = [_delivery(provider, ctx, store, topic, sub, message) for sub in matching(store, topic, message)]
    if deliveries:
        provider.registry.delivery.submit_many(deliveries)


def replay(provider: Any, ctx: RequestContext, topic: Topic, subscription: Subscription,
           messages: list[Message]) -> None:
    """Delivers archived ``messages`` (a ReplayPolicy's window, oldest first) to one subscription again.

    AWS keeps the MessageId, Timestamp and content and marks the envelope ``"Replayed": true``.
    """
    store = provider._stores.get(topic.account, topic.region)
    deliveries = [_delivery(provider, ctx, store, topic, subscription, message, replayed=True)
                  for message in messages]
    if deliveries:
        provider.registry.delivery.submit_many(deliveries)


def publish_direct(provider: Any, ctx: RequestContext, kind: str, target: str, message: Message,
                   payload: Any, error: str | None = None) -> None:
    """Records a direct publish (``kind`` "application" to a platform endpoint ARN, "sms" to a phone
    number) exactly as it would be sent: ``payload`` is the platform's message or the SMS text. With
    ``error`` the delivery is recorded as failed (an opted-out phone number)."""
    provider.registry.delivery.submit(Delivery(
        source="sns", account=ctx.account, region=ctx.region,
        target=RecordTarget(payload, error=error),
        info=_info(message.topic_arn, None, kind, target, message.message_id, "Notification"),
    ))


# ---------------------------------------------------------------------------------- notifications
def _envelope(provider: Any, topic: Topic, sub: Subscription, message: Message, text: str, base_url: str,
              replayed: bool, signature_version: str) -> dict[str, Any]:
    """The Notification document, signed on a standard topic (call on a worker, or when a recorded
    delivery is first read: it signs). Everything it reads was fixed when the delivery was made."""
    document = formats.notification(message, text, subscription_arn=sub.arn, base_url=base_url,
                                     signature_version=signature_version, fifo=topic.fifo)
    if replayed:
        document["Replayed"] = True
    if not topic.fifo:
        signing.signer(provider).sign_document(document, base_url)
    return document


def _delivery(provider: Any, ctx: RequestContext, store: SnsStore, topic: Topic, sub: Subscription,
              message: Message, replayed: bool = False) -> Delivery:
    protocol = sub.protocol
    text = formats.text_for(message, protocol)
    base_url = _base_url(ctx, message)
    raw = _raw(sub)
    signature_version = _signature_version(topic)

    def envelope() -> dict[str, Any]:
        return _envelope(provider, topic, sub, message, text, base_url, replayed, signature_version)

    def body() -> str:
        return text if raw else formats.to_json(envelope())

    extra: dict[str, Any] = {"replayed": True} if replayed else {}
    info = _info(topic.arn, sub, protocol, sub.endpoint, message.message_id, "Notification", **extra)
    ordering = ("sns-fifo", sub.arn, message.group_id) if topic.fifo else None
    common = {"source": "sns", "account": store.account, "region": store.region, "info": info,
              "ordering_key": ordering}
    if protocol in HTTP_PROTOCOLS:
        settings = delivery_policy.http_settings(topic, sub)
        headers = formats.http_headers("Notification", message.message_id, topic.arn, sub.arn,
                                        settings.content_type, raw=raw)
        return Delivery(
            target=HttpTarget(sub.endpoint, headers=headers, body=lambda: body().encode("utf-8"), classify=classify),
            retry=settings.retry,
            on_failure=_dead_letter(provider, topic, sub, message, body, raw),
            not_before=_throttle_slot(sub, settings.max_receives_per_second),
            **common,
        )
    payload = _payload(store, topic, sub, message, text, raw, base_url, envelope, body)
    error = None
    if protocol == "sms" and sub.endpoint in store.sms.opted_out:
        error = SMS_OPTED_OUT
    elif protocol == "application":
        failure = _push_failure(store, sub)
        if failure is not None:
            error = failure[1]
            event = _failure_event(provider, store, sub, message, base_url, failure)
            if event is not None:
                provider.registry.delivery.submit(event)
    return Delivery(target=RecordTarget(payload, error=error),
                    retry=NO_RETRY, **common)


def _push_failure(store: SnsStore, sub: Subscription) -> tuple[str, str] | None:
    """Why a push to an application subscription's endpoint fails for good, or None when it can go."""
    endpoint = store.endpoints.get(sub.endpoint)
    application = store.applications.get(endpoint.application_arn) if endpoint is not None else None
    if endpoint is None or application is None:
        return ENDPOINT_MISSING
    if endpoint.attributes.get("Enabled", "true").lower() != "true":
        return ENDPOINT_DISABLED
    if application.attributes.get("Enabled", "true").lower() != "true":
        return APPLICATION_DISABLED
    return None


def _application_arn(endpoint_arn: str) -> str:
    """The application of an endpoint ARN (``...:endpoint/GCM/app/<id>`` -> ``...:app/GCM/app``)."""
    prefix, _, path = endpoint_arn.partition(":endpoint/")
    return f"{prefix}:app/{path.rpartition('/')[0]}"


def _failure_event(provider: Any, store: SnsStore, sub: Subscription, message: Message, base_url: str,
                   failure: tuple[str, str]) -> Delivery | None:
    """The application's DeliveryFailure event, published on a worker (fan-out runs under the topic's
    lock, and the event topic may be another store's); None without an application, or when the
    failed message came through the event topic itself (its events would feed themselves forever)."""
    application = store.applications.get(_application_arn(sub.endpoint))  # also of an endpoint now deleted
    if application is None or application.attributes.get("EventDeliveryFailure") == sub.topic_arn:
        return None
    ctx = RequestContext(service="sns", account=store.account, region=store.region, operation="Publish",
                         base_url=base_url)
    failure_type, failure_message = failure

    def send() -> None:
        provider._application_event(ctx, application, "DeliveryFailure", sub.endpoint, DeliveryAttempts=1,
                                    FailureMessage=failure_message, FailureType=failure_type,
                                    MessageId=message.message_id)

    return Delivery(source="sns", account=store.account, region=store.region,
                    target=CallTarget(send, {"type": "call", "name": "EventDeliveryFailure"}),
                    info=_info(topic_arn=sub.topic_arn, subscription=sub, protocol="application-event",
                               endpoint=sub.endpoint, message_id=message.message_id, message_type="DeliveryFailure"))


def _throttle_slot(sub: Subscription, rate: int | None) -> float | None:
    """When a delivery may start under the subscription's ``throttlePolicy.maxReceivesPerSecond``: at
    most that many in any second of the emulator's clock (None: at once). Only first attempts take
    part; retries keep their policy's delays. Under the topic's lock."""
    if not rate:
        return None
    return sub.throttle.take(clock.now(), rate)


def _payload(store: SnsStore, topic: Topic, sub: Subscription, message: Message, text: str, raw: bool,
             base_url: str, envelope: Callable[[], dict[str, Any]], body: Callable[[], str]) -> Callable[[], Any]:
    """What a recorded protocol receives, as a closure for the worker."""
    protocol = sub.protocol
    if protocol in ("sqs", "firehose"):
        return lambda: formats.sqs_message(body(), message, raw=raw, fifo=topic.fifo)
    if protocol == "lambda":
        return lambda: formats.lambda_event(sub.arn, envelope())
    if protocol == "email":
        unsubscribe = formats.unsubscribe_url(base_url, sub.arn)
        sender = formats.email_sender(topic)  # the DisplayName of now, not of when the record is read
        return lambda: formats.email_notification(sender, message, text, sub.endpoint, unsubscribe)
    if protocol == "email-json":
        sender = formats.email_sender(topic)
        subject = message.subject or formats.EMAIL_DEFAULT_SUBJECT
        return lambda: {"to": sub.endpoint, "from": sender, "subject": subject, "body": formats.to_json(envelope())}
    if protocol == "application":
        return _application_payload(store, sub, message)
    return lambda: {"phoneNumber": sub.endpoint, "message": text}  # sms


def _application_payload(store: SnsStore, sub: Subscription, message: Message) -> Callable[[], Any]:
    """A platform endpoint's push: with MessageStructure=json the platform's own key, else the default."""
    endpoint = store.endpoints.get(sub.endpoint)
    application = store.applications.get(endpoint.application_arn) if endpoint is not None else None
    platform = application.platform if application is not None else ""
    text = formats.text_for(message, platform) if platform else message.message
    token = endpoint.token if endpoint is not None else None
    return lambda: {"platform": platform, "token": token, "message": text}


def _dead_letter(provider: Any, topic: Topic, sub: Subscription, message: Message, body: Callable[[], str],
                 raw: bool) -> Callable[[Delivery, Outcome], None] | None:
    """After an HTTP/S delivery's last failure: the message to the RedrivePolicy's queue, if there is one."""
    try:
        queue_arn = json.loads(sub.attributes.get("RedrivePolicy") or "{}").get("deadLetterTargetArn")
    except (ValueError, AttributeError):
        queue_arn = None
    if not queue_arn:
        return None

    def send(failed: Delivery, outcome: Outcome) -> None:
        provider.registry.delivery.submit(Delivery(
            source="sns", account=failed.account, region=failed.region,
            target=RecordTarget(formats.sqs_message(body(), message, raw=raw, fifo=topic.fifo)),
            info=_info(topic.arn, sub, "sqs", queue_arn, message.message_id, "Notification",
                       deadLetter=True, error=outcome.error),
        ))

    return send


# ---------------------------------------------------------------------------------- confirmations
def _confirmation_delivery(topic: Topic, sub: Subscription, message_type: str, document: Callable[[], dict[str, Any]],
                           message_id: str, subscription_header: str | None) -> Delivery:
    """The Delivery of a SubscriptionConfirmation or UnsubscribeConfirmation to ``sub``'s endpoint."""
    info = _info(topic.arn, sub, sub.protocol, sub.endpoint, message_id, message_type)
    common = {"source": "sns", "account": topic.account, "region": topic.region, "info": info}
    if sub.protocol in HTTP_PROTOCOLS:
        settings = delivery_policy.http_settings(topic, sub)
        headers = formats.http_headers(message_type, message_id, topic.arn, subscription_header,
                                        settings.content_type)
        return Delivery(
            target=HttpTarget(sub.endpoint, headers=headers, body=lambda: formats.to_json(document()).encode("utf-8"),
                              classify=classify),
            retry=settings.retry, **common,
        )
    # The sender shows the topic's DisplayName of the time of sending, not of when the record is read.
    sender = formats.email_sender(topic)
    if sub.protocol == "email":
        def mail() -> dict[str, str]:
            return formats.email_confirmation(sender, topic.arn, sub.endpoint, document()["SubscribeURL"])
        return Delivery(target=RecordTarget(mail), **common)
    if sub.protocol == "email-json":
        def mail_json() -> dict[str, str]:
            return {"to": sub.endpoint, "from": sender,
                    "subject": formats.EMAIL_CONFIRMATION_SUBJECT, "body": formats.to_json(document())}
        return Delivery(target=RecordTarget(mail_json), **common)
    # An SQS queue (or a Lambda function) of another account receives the document itself.
    return Delivery(target=RecordTarget(lambda: {"MessageBody": formats.to_json(document())}), **common)


def _signed(provider: Any, document: dict[str, Any], base_url: str) -> dict[str, Any]:
    signing.signer(provider).sign_document(document, base_url)
    return document


def send_confirmation(provider: Any, ctx: RequestContext, topic: Topic, subscription: Subscription) -> None:
    """Sends (http/https) or records (every other protocol that confirms) the SubscriptionConfirmation."""
    message_id = str(uuid.uuid4())
    base_url = _base_url(ctx)
    now = clock.now()
    token = subscription.token or ""
    version = _signature_version(topic)

    def document() -> dict[str, Any]:
        return _signed(provider, formats.subscription_confirmation(
            topic_arn=topic.arn, token=token, message_id=message_id, base_url=base_url, now=now,
            signature_version=version), base_url)

    provider.registry.delivery.submit(_confirmation_delivery(
        topic, subscription, "SubscriptionConfirmation", document, message_id, None))


def send_unsubscribe_confirmation(provider: Any, ctx: RequestContext, topic: Topic, subscription: Subscription,
                                  token: str) -> None:
    """Sends an http/https endpoint the UnsubscribeConfirmation after Unsubscribe; ``token`` (in its
    SubscribeURL) is the one ConfirmSubscription accepts to restore the subscription."""
    if subscription.protocol not in HTTP_PROTOCOLS:
        return
    message_id = str(uuid.uuid4())
    base_url = _base_url(ctx)
    now = clock.now()
    version = _signature_version(topic)

    def document() -> dict[str, Any]:
        return _signed(provider, formats.unsubscribe_confirmation(
            topic_arn=topic.arn, subscription_arn=subscription.arn, token=token, message_id=message_id,
            base_url=base_url, now=now, signature_version=version), base_url)

    provider.registry.delivery.submit(_confirmation_delivery(
        topic, subscription, "UnsubscribeConfirmation", document, message_id, subscription.arn))
