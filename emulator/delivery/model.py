"""What a delivery is: the unit producers hand over, the outcome of one attempt, and retry policies."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.delivery.targets import Target

_ids = itertools.count(1)


@dataclass(slots=True)
class Outcome:
    """The result of one attempt."""

    ok: bool
    status: int | None = None  # the HTTP status, when there was an answer
    error: str | None = None  # what went wrong, in words (connection refused, timed out, HTTP 500, ...)
    retryable: bool = True  # a failure worth another attempt (a 4xx other than 429 is not, for HTTP)
    retry_after: float | None = None  # seconds the target asked to wait (Retry-After), if it did
    body: bytes | None = None  # the start of the answer's body, for the log
    logged: dict[str, Any] | None = None  # fields added to the delivery's log entry (RecordTarget's "payload")


class RetryPolicy:
    """When to try again: ``delay(attempts, age)`` is the wait before the next attempt, or None to stop.

    ``attempts`` counts the attempts made so far (1 after the first), ``age`` the seconds on the
    emulator's clock since the delivery was submitted, ``outcome`` the last attempt's. The dispatcher
    waits exactly the returned delay: a policy that honours a target's Retry-After reads it from
    ``outcome.retry_after`` (``Delays`` does not), so each producer keeps AWS's behaviour for its own.
    """

    def delay(self, attempts: int, age: float, outcome: Outcome) -> float | None:
        raise NotImplementedError


@dataclass(frozen=True)
class Delays(RetryPolicy):
    """A fixed schedule: after attempt N (1-based) wait ``delays[N-1]`` seconds; stop when they run out."""

    delays: Sequence[float] = ()

    def delay(self, attempts: int, age: float, outcome: Outcome) -> float | None:
        return self.delays[attempts - 1] if attempts <= len(self.delays) else None


NO_RETRY = Delays(())


@dataclass(eq=False)
class Delivery:
    """One message for one target, with how to retry it and whom to tell when it finally fails."""

    source: str  # the producing service ("sns", "events"): reset(service) drops its work
    account: str  # whose delivery log it goes into
    region: str
    target: Target
    retry: RetryPolicy = NO_RETRY
    ordering_key: Hashable | None = None  # same key: one at a time, in submission order
    # The emulator's time before which the first attempt must not start (a producer's rate limit, such
    # as SNS's throttlePolicy); honoured when the delivery starts at once or heads its lane.
    not_before: float | None = None
    info: dict[str, Any] = field(default_factory=dict)  # shown in the log (topic, subscription, message id, ...)
    on_success: Callable[[Delivery, Outcome], None] | None = None
    on_failure: Callable[[Delivery, Outcome], None] | None = None  # after the last failed attempt
    id: str = field(default_factory=lambda: f"d-{next(_ids)}")
    # Set by the dispatcher.
    submitted_at: float = 0.0
    attempts: list[dict[str, Any]] = field(default_factory=list)
    state: str = "queued"  # queued, running, retrying, delivered, failed, dropped


@dataclass
class RateWindow:
    """A producer's "per second" rate limit (SNS ``maxReceivesPerSecond``, an API destination's
    ``InvocationRateLimitPerSecond``): at most ``rate`` deliveries start in any one-second window on
    the emulator's clock, so a burst within the rate goes at once and the excess waits for the next
    windows (a backlog, never a drop). ``take`` answers the time the next delivery may start, as its
    ``Delivery.not_before`` (None: now); call it under the producer's lock.
    """

    start: float = float("-inf")
    count: int = 0

    def take(self, now: float, rate: float) -> float | None:
        if self.start + 1.0 <= now:  # the last window is over: a new one opens now
            self.start, self.count = now, 0
        elif self.count >= rate:  # this window is full: the next one, right after it
            self.start, self.count = self.start + 1.0, 0
        self.count += 1
        return self.start if self.start > now else None
