"""The one outbound path: everything that leaves a request's thread goes through here.

A producer (SNS Publish, EventBridge PutEvents, a schedule tick) builds ``Delivery`` objects, each a
target, a retry policy and an optional ordering key, and hands them to ``Dispatcher.submit``; the
request answers at once. Worker threads attempt them; a failed attempt is rescheduled by its policy
on the emulator's clock (a test that moves the clock sees the retry at once); after the last failure
the delivery's ``on_failure`` runs (the producer's dead letter). Deliveries with the same ordering key
run one at a time, in submission order; the others run in parallel. Every attempt and outcome is
kept in a bounded log per account and region.

Usage::

    dispatcher = registry.delivery                          # one per server, threads on first use
    dispatcher.submit(Delivery(
        source="sns", account=..., region=...,
        target=HttpTarget(url, headers={...}, body=lambda: signed_json_bytes),
        retry=Delays([0, 0, 20.0]),                          # or any RetryPolicy
        ordering_key=("fifo", subscription_arn, group_id),   # or None
        info={"topic": ..., "subscription": ..., "protocol": "http", "messageId": ...},
        on_failure=send_to_dead_letter,                      # called on a worker, never under a lock
    ))
    dispatcher.log("000000000000", "us-east-1", source="sns")   # list of dicts, oldest first

The module names: ``model.py`` (Delivery, Outcome, RetryPolicy), ``targets.py`` (HttpTarget,
CallTarget, ServiceTarget, RecordTarget), ``dispatcher.py`` (queue, scheduler, workers, log).
"""

from __future__ import annotations

from emulator.delivery.dispatcher import Dispatcher
from emulator.delivery.model import NO_RETRY, Delays, Delivery, Outcome, RateWindow, RetryPolicy
from emulator.delivery.targets import CallTarget, HttpTarget, RecordTarget, ServiceTarget, Target, classify_status

__all__ = [
    "NO_RETRY",
    "CallTarget",
    "Delays",
    "Delivery",
    "Dispatcher",
    "HttpTarget",
    "Outcome",
    "RateWindow",
    "RecordTarget",
    "RetryPolicy",
    "ServiceTarget",
    "Target",
    "classify_status",
]
