"""Delivery policies: AWS's checks, the effective policy, and the retry schedule of the four phases."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest

from emulator.delivery import Delays, Outcome
from emulator.errors import ServiceError
from emulator.services.sns import delivery_policy
from emulator.services.sns.models import Subscription, Topic

RETRY = {"minDelayTarget": 1, "maxDelayTarget": 60, "numRetries": 50}
PREFIX = "Invalid parameter: DeliveryPolicy: "


def topic(policy: dict[str, Any] | None = None) -> Topic:
    attributes = {"DeliveryPolicy": json.dumps(policy)} if policy is not None else {}
    return Topic(name="t", arn="arn:aws:sns:us-east-1:000000000000:t", account="000000000000", region="us-east-1",
                 attributes=attributes)


def subscription(policy: dict[str, Any] | None = None) -> Subscription:
    attributes = {"DeliveryPolicy": json.dumps(policy)} if policy is not None else {}
    return Subscription(arn="arn:aws:sns:us-east-1:000000000000:t:1", topic_arn="t", protocol="http",
                        endpoint="http://x", owner="000000000000", attributes=attributes)


def delays(retry: Any) -> list[float]:
    policy = retry_policy_of(retry)
    return [round(d, 2) for d in policy.delays]


def retry_policy_of(retry: dict[str, Any]) -> Delays:
    result = delivery_policy.retry_policy({"healthyRetryPolicy": retry})
    assert isinstance(result, Delays)
    return result


def test_aws_documented_example_schedule() -> None:
    """The guide's example: 3 immediate, 2 at 1 s, 10 exponential from 1 s to 60 s, 35 at 60 s: 50 retries."""
    retry = {"minDelayTarget": 1, "maxDelayTarget": 60, "numRetries": 50, "numNoDelayRetries": 3,
             "numMinDelayRetries": 2, "numMaxDelayRetries": 35, "backoffFunction": "exponential"}
    schedule = delays(retry)
    assert len(schedule) == 50
    assert schedule[:5] == [0, 0, 0, 1, 1]
    backoff = schedule[5:15]
    assert (backoff[0], backoff[-1]) == (1, 60)
    assert backoff == sorted(backoff)
    assert all(b / a == pytest.approx(backoff[1] / backoff[0], rel=0.01) for a, b in pairwise(backoff))
    assert schedule[15:] == [60] * 35


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        ({}, [20, 20, 20]),  # AWS's default: three retries 20 seconds apart
        ({"minDelayTarget": 10, "maxDelayTarget": 40, "numRetries": 4}, [10, 20, 30, 40]),
        ({"minDelayTarget": 10, "maxDelayTarget": 40, "numRetries": 4, "backoffFunction": "arithmetic"},
         [10, 13.33, 23.33, 40]),
        ({"minDelayTarget": 10, "maxDelayTarget": 40, "numRetries": 4, "backoffFunction": "geometric"},
         [10, 26.67, 36.67, 40]),
        ({"minDelayTarget": 5, "maxDelayTarget": 40, "numRetries": 4, "backoffFunction": "exponential"},
         [5, 10, 20, 40]),
        ({"minDelayTarget": 5, "maxDelayTarget": 9, "numRetries": 1}, [5]),
        ({"minDelayTarget": 5, "maxDelayTarget": 9, "numRetries": 0}, []),
        ({"minDelayTarget": 5, "maxDelayTarget": 9, "numRetries": 3, "numNoDelayRetries": 1,
          "numMaxDelayRetries": 2}, [0, 9, 9]),
    ],
)
def test_retry_schedule(retry: dict[str, Any], expected: list[float]) -> None:
    assert delays({**delivery_policy.DEFAULT_RETRY, **retry}) == expected


def test_retry_policy_stops_after_the_last_retry() -> None:
    policy = delivery_policy.retry_policy(delivery_policy.effective(topic()))
    outcome = Outcome(ok=False)
    assert [policy.delay(n, 0.0, outcome) for n in (1, 2, 3, 4)] == [20, 20, 20, None]


@pytest.mark.parametrize(
    ("policy", "level", "reason"),
    [
        ("{", "topic", "Invalid JSON"),
        ("[]", "topic", "DeliveryPolicy type mismatch, expecting object, received a array"),
        ({"http": {"defaultHealthyRetryPolicy": {"maxDelayTarget": 2, "numRetries": 1}}}, "topic",
         "http.defaultHealthyRetryPolicy.minDelayTarget must be specified"),
        ({"healthyRetryPolicy": {"minDelayTarget": 1, "numRetries": 1}}, "subscription",
         "healthyRetryPolicy.maxDelayTarget must be specified"),
        ({"healthyRetryPolicy": {**RETRY, "minDelayTarget": 0}}, "subscription",
         "healthyRetryPolicy.minDelayTarget must be greater than or equal to 1"),
        ({"healthyRetryPolicy": {**RETRY, "maxDelayTarget": 3601}}, "subscription",
         "healthyRetryPolicy.maxDelayTarget must be less than or equal to 3600"),
        ({"healthyRetryPolicy": {**RETRY, "minDelayTarget": 61}}, "subscription",
         "healthyRetryPolicy.minDelayTarget must be less than or equal to maxDelayTarget"),
        ({"healthyRetryPolicy": {**RETRY, "numRetries": 101}}, "subscription",
         "healthyRetryPolicy.numRetries must be less than or equal to 100"),
        ({"healthyRetryPolicy": {**RETRY, "numRetries": -1}}, "subscription",
         "healthyRetryPolicy.numRetries must be greater than or equal to 0"),
        ({"healthyRetryPolicy": {**RETRY, "numNoDelayRetries": -1}}, "subscription",
         "healthyRetryPolicy.numNoDelayRetries must be greater than or equal to 0"),
        ({"healthyRetryPolicy": {**RETRY, "numRetries": 3, "numNoDelayRetries": 2, "numMaxDelayRetries": 2}},
         "subscription", "healthyRetryPolicy.numRetries must be greater than or equal to the sum of "
                         "numNoDelayRetries, numMinDelayRetries and numMaxDelayRetries"),
        ({"healthyRetryPolicy": {**RETRY, "numRetries": 3, "backoffFunction": "cubic"}}, "subscription",
         "healthyRetryPolicy.backoffFunction must be one of: linear, arithmetic, geometric, exponential"),
        ({"healthyRetryPolicy": {**RETRY, "numRetries": 61, "numMaxDelayRetries": 61}}, "subscription",
         "healthyRetryPolicy total retry time must be less than or equal to 3600 seconds"),
        ({"healthyRetryPolicy": {**RETRY, "numRetries": True}}, "subscription",
         "healthyRetryPolicy.numRetries type mismatch, expecting integer, received a boolean"),
        ({"throttlePolicy": {"maxReceivesPerSecond": 0}}, "subscription",
         "throttlePolicy.maxReceivesPerSecond must be greater than or equal to 1"),
        ({"requestPolicy": {"headerContentType": "image/png"}}, "subscription",
         "requestPolicy.headerContentType must be one of: application/json, application/xml, text/html, "
         "text/plain, text/xml"),
        ({"http": {"disableSubscriptionOverrides": "yes"}}, "topic",
         "http.disableSubscriptionOverrides type mismatch, expecting boolean, received a string"),
        ({"http": {"defaultThrottlePolicy": {"maxReceivesPerSecond": "5"}}}, "topic",
         "http.defaultThrottlePolicy.maxReceivesPerSecond type mismatch, expecting integer, received a string"),
    ],
)
def test_validate_refuses_as_aws_does(policy: Any, level: str, reason: str) -> None:
    text = policy if isinstance(policy, str) else json.dumps(policy)
    with pytest.raises(ServiceError) as caught:
        delivery_policy.validate(text, level)
    assert (caught.value.code, caught.value.message) == ("InvalidParameterException", PREFIX + reason)


def test_validate_words_creation_errors_with_the_given_prefix() -> None:
    with pytest.raises(ServiceError) as caught:
        delivery_policy.validate('{"healthyRetryPolicy":{}}', "subscription",
                                 prefix="Invalid parameter: Attributes Reason: ")
    assert caught.value.message == (
        "Invalid parameter: Attributes Reason: DeliveryPolicy: healthyRetryPolicy.minDelayTarget must be specified"
    )


@pytest.mark.parametrize(
    ("policy", "level"),
    [
        ({"http": {"defaultHealthyRetryPolicy": {**RETRY, "numRetries": 3}, "disableSubscriptionOverrides": True,
                   "defaultThrottlePolicy": {"maxReceivesPerSecond": 1},
                   "defaultRequestPolicy": {"headerContentType": "application/json"}}}, "topic"),
        ({}, "topic"),
        ({"healthyRetryPolicy": {**RETRY, "numRetries": 50, "numNoDelayRetries": 3, "numMinDelayRetries": 2,
                                 "numMaxDelayRetries": 35, "backoffFunction": "exponential"},
          "throttlePolicy": {"maxReceivesPerSecond": 10},
          "requestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}, "subscription"),
    ],
)
def test_validate_accepts_documented_policies(policy: dict[str, Any], level: str) -> None:
    assert delivery_policy.validate(json.dumps(policy), level) == policy


def test_effective_topic_policy_defaults() -> None:
    assert delivery_policy.effective(topic()) == {
        "http": {"defaultHealthyRetryPolicy": delivery_policy.DEFAULT_RETRY, "disableSubscriptionOverrides": False}
    }


def test_effective_subscription_policy_layers_defaults_topic_and_subscription() -> None:
    assert delivery_policy.effective(topic(), subscription()) == {
        "healthyRetryPolicy": delivery_policy.DEFAULT_RETRY, "sicklyRetryPolicy": None, "throttlePolicy": None,
        "guaranteed": False,
    }
    owner = topic({"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 2, "maxDelayTarget": 2, "numRetries": 1},
                            "defaultRequestPolicy": {"headerContentType": "application/json"}}})
    inherited = delivery_policy.effective(owner, subscription())
    assert inherited["healthyRetryPolicy"]["numRetries"] == 1
    assert delivery_policy.content_type(inherited) == "application/json"
    own = subscription({"healthyRetryPolicy": {"minDelayTarget": 7, "maxDelayTarget": 9, "numRetries": 2},
                        "throttlePolicy": {"maxReceivesPerSecond": 4}})
    mine = delivery_policy.effective(owner, own)
    assert (mine["healthyRetryPolicy"]["minDelayTarget"], mine["throttlePolicy"]) == (7, {"maxReceivesPerSecond": 4})
    locked = topic({"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 2, "maxDelayTarget": 2, "numRetries": 1},
                             "disableSubscriptionOverrides": True}})
    assert delivery_policy.effective(locked, own)["healthyRetryPolicy"]["minDelayTarget"] == 2


@pytest.mark.parametrize(
    ("effective", "expected"),
    [
        ({}, "text/plain; charset=UTF-8"),
        ({"requestPolicy": {"headerContentType": "text/xml"}}, "text/xml"),
        ({"http": {"defaultRequestPolicy": {"headerContentType": "application/xml"}}}, "application/xml"),
    ],
)
def test_content_type(effective: dict[str, Any], expected: str) -> None:
    assert delivery_policy.content_type(effective) == expected


@pytest.mark.parametrize(("topic_policy", "subscription_policy"), [
    (None, None),
    ({"http": {"defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 2, "maxDelayTarget": 8}}}, None),
    (None, {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1},
            "throttlePolicy": {"maxReceivesPerSecond": 3},
            "requestPolicy": {"headerContentType": "application/json"}}),
    ({"http": {"disableSubscriptionOverrides": True}}, {"throttlePolicy": {"maxReceivesPerSecond": 3}}),
])
def test_the_cached_http_settings_are_those_of_the_effective_policy(topic_policy: Any,
                                                                    subscription_policy: Any) -> None:
    topic = Topic("t", "arn:aws:sns:us-east-1:000000000000:t", "000000000000", "us-east-1")
    subscription = Subscription("arn:s", topic.arn, "http", "http://127.0.0.1/", "000000000000")
    if topic_policy:
        topic.attributes["DeliveryPolicy"] = json.dumps(topic_policy)
    if subscription_policy:
        subscription.attributes["DeliveryPolicy"] = json.dumps(subscription_policy)
    policy = delivery_policy.effective(topic, subscription)
    settings = delivery_policy.http_settings(topic, subscription)
    assert settings.retry == delivery_policy.retry_policy(policy)
    assert settings.content_type == delivery_policy.content_type(policy)
    assert settings.max_receives_per_second == (policy.get("throttlePolicy") or {}).get("maxReceivesPerSecond")
    assert delivery_policy.http_settings(topic, subscription) is settings  # worked out once
