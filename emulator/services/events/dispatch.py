"""From a matched event to deliveries: one per target of each matching rule, through
``emulator.delivery``, with EventBridge's retry policy and dead letters.

PutEvents calls ``deliver`` under the store's lock on the request thread, so this module only builds
``Delivery`` objects (a target, a retry policy, the log's info, a dead-letter callback) and submits
them: a few microseconds per target of a rule that matched, nothing for the rules that did not.
Everything that costs more runs on a delivery worker inside ``EventTarget.attempt``: rendering the
target's input (``transform.render``: the event, ``Input``, ``InputPath`` or the transformer's
output), computing a Kinesis partition key, and the call into the target's service. The rendered
input is kept after the first attempt, so every retry carries exactly the bytes of the first.

Targets, by the service of their ARN:

- ``kinesis`` stream: ``KinesisProvider.deliver_record`` in the stream's account and Region; the
  partition key is the value at ``KinesisParameters.PartitionKeyPath``, else the event id.
- ``sns`` topic: ``SnsProvider.deliver_message`` as ``events.amazonaws.com`` with the rule's ARN as
  source, so the topic's policy must allow EventBridge (``AuthorizationError`` else), as on AWS.
- ``events`` event bus, in this or another account or Region: ``EventsProvider.deliver_event``
  (``putevents.py``), which checks the receiving bus's policy and matches its rules. The event is
  forwarded as it is (same ``id``, ``time``, ``account``, ``region``, ``resources``), and an event
  that arrived from another bus is never forwarded to a third (AWS's documented one-hop rule).
- anything else (SQS, Lambda, Step Functions, CloudWatch Logs, Firehose, Batch, ECS, ...): not run by
  the emulator, so recorded exactly as it would have been sent (ARN, input, SQS message group, HTTP
  and other target parameters) in the delivery's log entry, shown by ``/_emulator/events/deliveries``.

Failures: a missing stream, topic or bus, throttling and internal errors are retried by ``EventRetry``
(exponential back-off with jitter on the emulator's clock, bounded by the target's
``MaximumRetryAttempts`` and ``MaximumEventAgeInSeconds``; AWS's defaults 185 and 24 hours). Missing
permissions, a refused cross-account delivery, an input that cannot be rendered and invalid
parameters are not worth a retry. After the last failure the event goes to the target's
``DeadLetterConfig`` queue, which the emulator records (SQS is not served) with the attributes AWS
adds: ``RULE_ARN``, ``TARGET_ARN``, ``ERROR_CODE``, ``ERROR_MESSAGE``, ``RETRY_ATTEMPTS`` and, when a
limit ended the retries, ``EXHAUSTED_RETRY_CONDITION``.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from emulator import clock
from emulator.context import RequestContext
from emulator.delivery import Delivery, Outcome, RecordTarget, RetryPolicy
from emulator.errors import ServiceError
from emulator.services.events import transform
from emulator.services.events.models import EventBus, EventsStore, Rule, Target

if TYPE_CHECKING:
    from emulator.delivery import Dispatcher

DEFAULT_MAX_RETRIES = 185  # AWS's default RetryPolicy: up to 185 attempts ...
DEFAULT_MAX_AGE = 86_400.0  # ... within 24 hours
# Back-off: the n-th retry waits a random time in [c/2, c] with c = min(CAP, BASE * 2**(n-1)) ("equal
# jitter"). At the cap the mean wait is 450 s, so 185 attempts take about the default 24 hours.
BACKOFF_BASE = 1.0
BACKOFF_CAP = 600.0

EVENTS_PRINCIPAL = "events.amazonaws.com"

# The error a target service answered (its code) -> (the dead letter's ERROR_CODE, worth a retry).
# Unknown client errors are INVALID_PARAMETER and final; unknown server errors INTERNAL_ERROR, retried.
_ERRORS: dict[str, tuple[str, bool]] = {
    "ResourceNotFoundException": ("NO_RESOURCE", True),  # Kinesis stream, event bus
    "NotFoundException": ("NO_RESOURCE", True),  # SNS topic
    "AuthorizationErrorException": ("NO_PERMISSIONS", False),  # SNS topic policy
    "AccessDeniedException": ("NO_PERMISSIONS", False),
    "KMSAccessDeniedException": ("NO_PERMISSIONS", False),
    "ProvisionedThroughputExceededException": ("THROTTLING", True),
    "ThrottledException": ("THROTTLING", True),
    "ThrottlingException": ("THROTTLING", True),
    "KMSThrottlingException": ("THROTTLING", True),
}


def event_time(moment: float) -> str:
    """An event's ``time`` as EventBridge writes it: UTC, to the second, with a ``Z``."""
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_arn(arn: str) -> tuple[str, str, str, str] | None:
    """(service, region, account, resource) of an ARN, else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[2], parts[3], parts[4], parts[5]


# ---------------------------------------------------------------------------------------- retries

@dataclass(frozen=True)
class EventRetry(RetryPolicy):
    """A target's RetryPolicy: exponential back-off with bounded jitter on the emulator's clock.

    The jitter is drawn from a generator seeded by ``seed`` and the attempt number, so the same
    delivery always waits the same times, and every wait lies in ``window(attempt)``: a test that
    moves the clock by the window's upper end sees exactly the next attempt.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    max_age: float = DEFAULT_MAX_AGE
    seed: str = ""

    @classmethod
    def of(cls, spec: dict[str, Any] | None, seed: str) -> EventRetry:
        spec = spec or {}
        retries = spec.get("MaximumRetryAttempts")
        age = spec.get("MaximumEventAgeInSeconds")
        return cls(DEFAULT_MAX_RETRIES if retries is None else int(retries),
                   DEFAULT_MAX_AGE if age is None else float(age), seed)

    @staticmethod
    def window(attempts: int) -> tuple[float, float]:
        """The shortest and longest wait after ``attempts`` attempts (1 after the first)."""
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(attempts - 1, 30))
        return ceiling / 2, ceiling

    def delay(self, attempts: int, age: float, outcome: Outcome) -> float | None:
        if attempts > self.max_retries:
            return None
        low, high = self.window(attempts)
        wait = low + (high - low) * random.Random(f"{self.seed}:{attempts}").random()
        if age + wait > self.max_age:
            return None
        return wait

    def exhausted(self, attempts: int) -> str:
        """Which limit ended the retries of a delivery that failed ``attempts`` times."""
        return "MaximumRetryAttempts" if attempts > self.max_retries else "MaximumEventAgeInSeconds"


# ---------------------------------------------------------------------------------------- targets

class EventTarget:
    """One target of one rule for one event: renders its input and calls (or records) it on a worker.

    ``kind`` is "kinesis", "sns", "bus" or "record". After a failed attempt ``error_code`` holds the
    dead letter's ERROR_CODE and ``error_message`` the target's own message.
    """

    def __init__(self, kind: str, spec: dict[str, Any], event: dict[str, Any], rule: Rule, sender_account: str,
                 ingestion_time: str, base_url: str, trace_header: str | None) -> None:
        self.kind = kind
        self.spec = spec
        self.event = event
        self.rule_arn = rule.arn
        self.rule_name = rule.name
        self.sender_account = sender_account
        self.ingestion_time = ingestion_time
        self.base_url = base_url
        self.trace_header = trace_header
        self.error_code: str | None = None
        self.error_message: str | None = None
        self._input: str | None = None
        self._lock = threading.Lock()

    def describe(self) -> dict[str, Any]:
        arn = self.spec["Arn"]
        parsed = parse_arn(arn) or ("", "", "", "")
        if self.kind == "record":
            return {"type": "record", "arn": arn}
        service, method = {"kinesis": ("kinesis", "deliver_record"), "sns": ("sns", "deliver_message"),
                           "bus": ("events", "deliver_event")}[self.kind]
        return {"type": "service", "service": service, "method": method, "arn": arn,
                "account": parsed[2], "region": parsed[1]}

    def input(self) -> str:
        """The text the target receives, rendered once (``TransformError`` if it cannot be)."""
        with self._lock:
            if self._input is None:
                self._input = transform.render(self.spec, self.event, self.rule_arn, self.rule_name,
                                               self.ingestion_time)
            return self._input

    def attempt(self, delivery: Delivery, dispatcher: Dispatcher) -> Outcome:
        try:
            if self.kind == "bus":  # a bus receives the event itself, never a rendering of it
                return self._call(dispatcher, "events", "deliver_event", bus_arn=self.spec["Arn"],
                                  event=self.event, sender_account=self.sender_account)
            text = self.input()
        except transform.TransformError as exc:
            return self._failed("INVALID_JSON", str(exc), retryable=False)
        if self.kind == "record":
            return Outcome(ok=True, logged={"payload": self.payload(text)})
        if self.kind == "kinesis":
            return self._call(dispatcher, "kinesis", "deliver_record", stream_arn=self.spec["Arn"],
                              data=text.encode("utf-8"), partition_key=self.partition_key())
        group = (self.spec.get("SqsParameters") or {}).get("MessageGroupId")
        return self._call(dispatcher, "sns", "deliver_message", topic_arn=self.spec["Arn"], message=text,
                          service=EVENTS_PRINCIPAL, source_arn=self.rule_arn, message_group_id=group,
                          message_deduplication_id=self.event["id"] if group else None, base_url=self.base_url)

    def partition_key(self) -> str:
        """The value at KinesisParameters.PartitionKeyPath as text, else (no path, or a path that
        selects nothing) the event id, AWS's documented default."""
        path = (self.spec.get("KinesisParameters") or {}).get("PartitionKeyPath")
        if not path:
            return self.event["id"]
        try:
            value = transform.compile_path(path).select(self.event)
        except transform.InvalidPath:
            return self.event["id"]
        if isinstance(value, str):
            return value
        if value is None or isinstance(value, (bool, int, float, list, dict)):
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return self.event["id"]  # the path selected nothing

    def payload(self, text: str) -> dict[str, Any]:
        """What a target the emulator does not run would have been sent."""
        arn = self.spec["Arn"]
        sent: dict[str, Any] = {"targetArn": arn, "service": (parse_arn(arn) or ("",))[0], "input": text}
        if self.spec.get("RoleArn"):
            sent["roleArn"] = self.spec["RoleArn"]
        group = (self.spec.get("SqsParameters") or {}).get("MessageGroupId")
        if group is not None:
            sent["messageGroupId"] = group
        for key, value in self.spec.items():
            if key.endswith("Parameters"):  # HttpParameters, EcsParameters, BatchParameters, ...
                sent[key] = value
        if self.trace_header:
            sent["traceHeader"] = self.trace_header
        return sent

    def _call(self, dispatcher: Dispatcher, provider_name: str, method: str, **kwargs: Any) -> Outcome:
        parsed = parse_arn(kwargs.get("stream_arn") or kwargs.get("topic_arn") or kwargs.get("bus_arn") or "")
        account, region = (parsed[2], parsed[1]) if parsed else ("", "")
        try:
            getattr(dispatcher.registry.get(provider_name), method)(account=account, region=region, **kwargs)
        except ServiceError as exc:
            code, retryable = _ERRORS.get(exc.code) or (
                ("INTERNAL_ERROR", True) if not exc.sender_fault else ("INVALID_PARAMETER", False))
            if self.kind == "bus" and exc.code == "AccessDeniedException":
                code = "CROSS_ACCOUNT_INGESTION_FAILED"
            return self._failed(code, f"{exc.code}: {exc.message}", retryable)
        return Outcome(ok=True)

    def _failed(self, code: str, message: str, retryable: bool) -> Outcome:
        self.error_code, self.error_message = code, message
        return Outcome(ok=False, retryable=retryable, error=f"{code}: {message}")


def _kind(arn: str) -> str:
    parsed = parse_arn(arn)
    if parsed is None:
        return "record"
    service, resource = parsed[0], parsed[3]
    if service == "kinesis" and resource.startswith("stream/"):
        return "kinesis"
    if service == "sns":
        return "sns"
    if service == "events" and resource.startswith("event-bus/"):
        return "bus"
    if service == "events" and resource.startswith("api-destination/"):
        return "api-destination"
    return "record"


# ---------------------------------------------------------------------------------------- deliver

def deliver(provider: Any, ctx: RequestContext, store: EventsStore, bus: EventBus, rules: list[Rule],
            event: dict[str, Any], *, forwarded: bool = False, trace_header: str | None = None) -> None:
    """Hands ``event`` to every target of ``rules`` (the ENABLED rules of ``bus`` that matched).

    Called under ``store.lock`` on the request thread: only builds deliveries and submits them (no I/O;
    inputs are rendered on the workers). ``forwarded``: the event came from another bus, so this bus's
    bus targets do not receive it (AWS forwards an event over one hop only).
    """
    ingestion = event_time(clock.now())
    deliveries = []
    for rule in rules:
        for target in rule.targets.values():
            kind = _kind(target.arn)
            if kind == "bus" and forwarded:
                continue
            deliveries.append(_delivery(provider, store, bus, rule, target, kind, event, ctx, ingestion,
                                        trace_header))
    if deliveries:
        provider.registry.delivery.submit_many(deliveries)


def _delivery(provider: Any, store: EventsStore, bus: EventBus, rule: Rule, target: Target, kind: str,
              event: dict[str, Any], ctx: RequestContext, ingestion: str, trace_header: str | None) -> Delivery:
    spec = dict(target.spec)  # a later PutTargets replaces the rule's entry, never this delivery's
    spec.setdefault("Arn", target.arn)
    seed = f"{event['id']}/{rule.arn}/{target.id}"
    not_before = None
    if kind == "api-destination":  # a real HTTP request (invocation.py), paced by the destination's rate
        from emulator.services.events.invocation import ApiDestinationRetry, ApiDestinationTarget

        attempt = ApiDestinationTarget(spec, event, rule, store, ingestion, trace_header)
        retry = ApiDestinationRetry.of(spec.get("RetryPolicy"), seed=seed)
        not_before = attempt.not_before
    else:
        attempt = EventTarget(kind, spec, event, rule, store.account, ingestion, ctx.base_url, trace_header)
        retry = EventRetry.of(spec.get("RetryPolicy"), seed=seed)
    info = {"bus": bus.name, "rule": rule.name, "ruleArn": rule.arn, "target": target.id,
            "targetArn": target.arn, "eventId": event["id"]}
    queue = (spec.get("DeadLetterConfig") or {}).get("Arn")
    return Delivery(source="events", account=store.account, region=store.region, target=attempt, retry=retry,
                    info=info, not_before=not_before,
                    on_failure=_dead_letter(provider, queue, attempt, retry, info) if queue else None)


def _dead_letter(provider: Any, queue_arn: str, attempt: EventTarget, retry: EventRetry,
                 info: dict[str, Any]) -> Callable[[Delivery, Outcome], None]:
    """After a delivery's last failure: the event to the target's dead-letter queue, recorded as that
    SQS queue would receive it, with the message attributes EventBridge adds."""

    def send(failed: Delivery, outcome: Outcome) -> None:
        attempts = len(failed.attempts)
        attributes = {
            "RULE_ARN": attempt.rule_arn,
            "TARGET_ARN": attempt.spec["Arn"],
            "ERROR_CODE": attempt.error_code or "INTERNAL_ERROR",
            "ERROR_MESSAGE": attempt.error_message or outcome.error or "",
            "RETRY_ATTEMPTS": str(attempts - 1),
        }
        if outcome.retryable:  # a limit of the RetryPolicy ended it, not an error that is never retried
            attributes["EXHAUSTED_RETRY_CONDITION"] = retry.exhausted(attempts)
        message = {
            "queueArn": queue_arn,
            "MessageBody": json.dumps(attempt.event, separators=(",", ":"), ensure_ascii=False),
            "MessageAttributes": {name: {"DataType": "String", "StringValue": value}
                                  for name, value in sorted(attributes.items())},
        }
        failed_info = {**info, "targetArn": queue_arn, "deadLetter": True, "failedTargetArn": info["targetArn"]}
        provider.registry.delivery.submit(Delivery(
            source="events", account=failed.account, region=failed.region,
            target=RecordTarget(message, {"type": "record", "arn": queue_arn}), info=failed_info,
        ))

    return send

