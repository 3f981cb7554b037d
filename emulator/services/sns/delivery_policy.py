"""HTTP/S delivery policies: validation, the effective policy, and its retry schedule.

A DeliveryPolicy is set on a topic (``{"http": {"defaultHealthyRetryPolicy": ..., ...}}``) or on an
HTTP/S subscription (``{"healthyRetryPolicy": ..., "throttlePolicy": ..., "requestPolicy": ...}``).
The topic's defaults apply to every HTTP/S subscription that has none of its own, unless the topic
says ``disableSubscriptionOverrides``. AWS's defaults fill in the rest: three retries, 20 seconds
apart.

The retry schedule follows AWS's four phases after the first attempt: ``numNoDelayRetries`` at once,
``numMinDelayRetries`` at ``minDelayTarget``, the backoff phase (whatever ``numRetries`` leaves) from
``minDelayTarget`` to ``maxDelayTarget`` along the backoff function, then ``numMaxDelayRetries`` at
``maxDelayTarget``. AWS publishes the backoff functions only as a graph (geometric rises fastest
early, then linear, arithmetic, and exponential latest); the curves here have those shapes and meet
both targets exactly. AWS adds jitter to each delay; the emulator does not, so tests that move the
clock see each retry at a known time.

Errors read as AWS words them: "Invalid parameter: DeliveryPolicy: <path> <problem>", the path from
the policy's root (``http.defaultHealthyRetryPolicy.minDelayTarget`` on a topic,
``healthyRetryPolicy.minDelayTarget`` on a subscription).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Any

from emulator.delivery.model import Delays, RetryPolicy
from emulator.errors import ServiceError
from emulator.services.sns.common import JSON_ERRORS, InvalidParameter
from emulator.services.sns.models import Subscription, Topic

# AWS's defaults, in the order AWS's EffectiveDeliveryPolicy lists them.
DEFAULT_RETRY: dict[str, Any] = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"
BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
# The Content-Type values the delivery policy documentation lists.
CONTENT_TYPES = ("application/json", "application/xml", "text/html", "text/plain", "text/xml")

MAX_DELAY = 3600  # seconds: maxDelayTarget, and the whole retry schedule of an HTTP/S endpoint
MAX_RETRIES = 100
_REQUIRED = ("minDelayTarget", "maxDelayTarget", "numRetries")
_COUNTS = ("numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries")


_PREFIX = "Invalid parameter: "


def _error(reason: str) -> ServiceError:
    return InvalidParameter(f"{_PREFIX}DeliveryPolicy: {reason}")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _error(f"{path} type mismatch, expecting object, received a {_json_type(value)}")
    return value


def _integer(policy: dict[str, Any], key: str, path: str, low: int, high: int | None = None) -> int | None:
    if key not in policy:
        return None
    value = policy[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _error(f"{path}.{key} type mismatch, expecting integer, received a {_json_type(value)}")
    if value < low:
        raise _error(f"{path}.{key} must be greater than or equal to {low}")
    if high is not None and value > high:
        raise _error(f"{path}.{key} must be less than or equal to {high}")
    return value


def _check_retry(policy: Any, path: str) -> None:
    """A (default)HealthyRetryPolicy: its required members, bounds, phase counts and total time."""
    policy = _object(policy, path)
    for key in _REQUIRED:
        if key not in policy:
            raise _error(f"{path}.{key} must be specified")
    low = _integer(policy, "minDelayTarget", path, 1, MAX_DELAY) or 0
    high = _integer(policy, "maxDelayTarget", path, 1, MAX_DELAY) or 0
    retries = _integer(policy, "numRetries", path, 0, MAX_RETRIES) or 0
    if low > high:
        raise _error(f"{path}.minDelayTarget must be less than or equal to maxDelayTarget")
    phases = sum(_integer(policy, key, path, 0) or 0 for key in _COUNTS)
    if phases > retries:
        raise _error(
            f"{path}.numRetries must be greater than or equal to the sum of "
            "numNoDelayRetries, numMinDelayRetries and numMaxDelayRetries"
        )
    backoff = policy.get("backoffFunction", "linear")
    if backoff not in BACKOFF_FUNCTIONS:
        raise _error(f"{path}.backoffFunction must be one of: {', '.join(BACKOFF_FUNCTIONS)}")
    if sum(schedule({**DEFAULT_RETRY, **policy})) > MAX_DELAY:
        raise _error(f"{path} total retry time must be less than or equal to {MAX_DELAY} seconds")


def _check_throttle(policy: Any, path: str) -> None:
    _integer(_object(policy, path), "maxReceivesPerSecond", path, 1)


def _check_request(policy: Any, path: str) -> None:
    policy = _object(policy, path)
    if "headerContentType" in policy:
        value = policy["headerContentType"]
        if not isinstance(value, str):
            raise _error(f"{path}.headerContentType type mismatch, expecting string, received a {_json_type(value)}")
        if value not in CONTENT_TYPES and value != DEFAULT_CONTENT_TYPE:
            raise _error(f"{path}.headerContentType must be one of: {', '.join(CONTENT_TYPES)}")


def validate(text: str, level: str, prefix: str = _PREFIX) -> dict[str, Any]:
    """A topic's (``level="topic"``) or subscription's (``"subscription"``) DeliveryPolicy, checked as AWS
    checks it; ``InvalidParameter`` with AWS's message else.

    ``prefix`` starts the message: "Invalid parameter: " for Set*Attributes, "Invalid parameter:
    Attributes Reason: " where the policy came among CreateTopic's or Subscribe's attributes.
    """
    try:
        return _validate(text, level)
    except ServiceError as error:
        if prefix == _PREFIX:
            raise
        raise InvalidParameter(prefix + error.message.removeprefix(_PREFIX)) from None


def _validate(text: str, level: str) -> dict[str, Any]:
    try:
        policy = json.loads(text)
    except (TypeError, *JSON_ERRORS):
        raise _error("Invalid JSON") from None
    policy = _object(policy, "DeliveryPolicy")
    if level == "topic":
        if "http" in policy:
            http = _object(policy["http"], "http")
            if "defaultHealthyRetryPolicy" in http:
                _check_retry(http["defaultHealthyRetryPolicy"], "http.defaultHealthyRetryPolicy")
            if "disableSubscriptionOverrides" in http and not isinstance(http["disableSubscriptionOverrides"], bool):
                raise _error(
                    "http.disableSubscriptionOverrides type mismatch, expecting boolean, received a "
                    + _json_type(http["disableSubscriptionOverrides"])
                )
            if "defaultThrottlePolicy" in http:
                _check_throttle(http["defaultThrottlePolicy"], "http.defaultThrottlePolicy")
            if "defaultRequestPolicy" in http:
                _check_request(http["defaultRequestPolicy"], "http.defaultRequestPolicy")
        return policy
    if "healthyRetryPolicy" in policy:
        _check_retry(policy["healthyRetryPolicy"], "healthyRetryPolicy")
    if policy.get("throttlePolicy") is not None:
        _check_throttle(policy["throttlePolicy"], "throttlePolicy")
    if "requestPolicy" in policy:
        _check_request(policy["requestPolicy"], "requestPolicy")
    return policy


def _parsed(text: str | None) -> dict[str, Any]:
    """A stored (already validated) policy; none is an empty one."""
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def effective(topic: Topic, subscription: Subscription | None = None) -> dict[str, Any]:
    """The EffectiveDeliveryPolicy document: AWS's defaults, the topic's policy, then the subscription's.

    Without a subscription it is the topic's document (``{"http": {...}}``); with one, the
    subscription's (``healthyRetryPolicy``, ``sicklyRetryPolicy``, ``throttlePolicy``, ``guaranteed``,
    and ``requestPolicy`` where one applies), the subscription's own parts winning unless the topic
    disables overrides.
    """
    http = _parsed(topic.attributes.get("DeliveryPolicy")).get("http") or {}
    default_retry = {**DEFAULT_RETRY, **(http.get("defaultHealthyRetryPolicy") or {})}
    disabled = bool(http.get("disableSubscriptionOverrides", False))
    if subscription is None:
        document: dict[str, Any] = {
            "defaultHealthyRetryPolicy": default_retry,
            "disableSubscriptionOverrides": disabled,
        }
        for key in ("defaultThrottlePolicy", "defaultRequestPolicy"):
            if key in http:
                document[key] = http[key]
        return {"http": document}
    own = {} if disabled else _parsed(subscription.attributes.get("DeliveryPolicy"))
    result: dict[str, Any] = {
        "healthyRetryPolicy": {**default_retry, **own["healthyRetryPolicy"]}
        if own.get("healthyRetryPolicy")
        else default_retry,
        "sicklyRetryPolicy": own.get("sicklyRetryPolicy"),
        "throttlePolicy": own.get("throttlePolicy") or http.get("defaultThrottlePolicy"),
        "guaranteed": bool(own.get("guaranteed", False)),
    }
    request = own.get("requestPolicy") or http.get("defaultRequestPolicy")
    if request:
        result["requestPolicy"] = request
    return result


def _shape(function: str, t: float) -> float:
    """How far (0..1) from minDelayTarget to maxDelayTarget the backoff phase is at ``t`` (0..1)."""
    if function == "arithmetic":
        return t * t
    if function == "geometric":
        return 1 - (1 - t) * (1 - t)
    return t  # linear (exponential is computed as a ratio in ``schedule``)


def schedule(retry: dict[str, Any]) -> list[float]:
    """The delay before each retry, in seconds, for a complete healthyRetryPolicy."""
    low, high = float(retry["minDelayTarget"]), float(retry["maxDelayTarget"])
    immediate, pre, post = (int(retry[key]) for key in _COUNTS)
    backoff = max(int(retry["numRetries"]) - immediate - pre - post, 0)
    function = retry.get("backoffFunction", "linear")
    delays = [0.0] * immediate + [low] * pre
    for index in range(backoff):
        t = index / (backoff - 1) if backoff > 1 else 0.0
        if function == "exponential":
            delays.append(low * math.pow(high / low, t))
        else:
            delays.append(low + (high - low) * _shape(function, t))
    return delays + [high] * post


def _retry_part(effective_policy: dict[str, Any]) -> dict[str, Any]:
    """The healthy retry policy of a subscription's or a topic's effective document."""
    part = effective_policy.get("healthyRetryPolicy") or (effective_policy.get("http") or {}).get(
        "defaultHealthyRetryPolicy"
    )
    return {**DEFAULT_RETRY, **(part or {})}


@dataclass(frozen=True)
class HttpSettings:
    """What an HTTP/S delivery takes from the effective policy: its retries, Content-Type and rate."""

    retry: RetryPolicy
    content_type: str
    max_receives_per_second: int | None


def http_settings(topic: Topic, subscription: Subscription) -> HttpSettings:
    """The delivery settings of ``subscription``, worked out once per pair of policy texts: Publish
    asks for them per HTTP/S subscription under the topic's lock, and they change only when a
    DeliveryPolicy does."""
    return _settings(topic.attributes.get("DeliveryPolicy"), subscription.attributes.get("DeliveryPolicy"))


@functools.lru_cache(maxsize=256)
def _settings(topic_policy: str | None, subscription_policy: str | None) -> HttpSettings:
    topic = Topic("", "", "", "", attributes={"DeliveryPolicy": topic_policy} if topic_policy else {})
    subscription = Subscription("", "", "http", "", "",
                                attributes={"DeliveryPolicy": subscription_policy} if subscription_policy else {})
    policy = effective(topic, subscription)
    rate = (policy.get("throttlePolicy") or {}).get("maxReceivesPerSecond")
    return HttpSettings(retry_policy(policy), content_type(policy), rate or None)


def retry_policy(effective_policy: dict[str, Any]) -> RetryPolicy:
    """The delivery layer's retry schedule for an effective policy's ``healthyRetryPolicy`` phases."""
    return Delays(tuple(schedule(_retry_part(effective_policy))))


def content_type(effective_policy: dict[str, Any]) -> str:
    """The Content-Type an HTTP/S delivery carries: ``requestPolicy.headerContentType`` or AWS's default."""
    request = effective_policy.get("requestPolicy") or (effective_policy.get("http") or {}).get("defaultRequestPolicy")
    return (request or {}).get("headerContentType") or DEFAULT_CONTENT_TYPE
