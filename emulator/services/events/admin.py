"""EventBridge's inspection endpoint under ``/_emulator/events/`` (JSON).

It takes ``account`` and ``region`` query arguments (default: the server's ``--default-account`` and
``--default-region``) and sees only the deliveries made by that account's rules in that Region.

- ``GET /_emulator/events/deliveries[?bus=&rule=&target=&targetArn=&eventId=&state=&deadLetter=true]``:
  every delivery of an event to a rule's target, oldest first, each with

  - ``info``: ``bus``, ``rule``, ``ruleArn``, ``target`` (the target's Id), ``targetArn``, ``eventId``,
    and for a dead letter also ``deadLetter: true`` and ``failedTargetArn``;
  - ``target``: how it was sent (``{"type": "service", "service": "kinesis", ...}`` for the streams,
    topics and buses the emulator runs; ``{"type": "record", "arn": ...}`` for the others);
  - ``state``: queued, running, retrying (waiting on the emulator's clock for its next attempt),
    delivered, failed or dropped (by a reset);
  - ``attempts``: each attempt's time (``at``, the emulator's clock), ``ok``, ``error`` (the dead
    letter's error code and the target's message, e.g. ``NO_RESOURCE: ResourceNotFoundException:
    ...``) and ``ms``;
  - ``payload``, for the targets the emulator does not run (SQS, Lambda, Step Functions, CloudWatch
    Logs, Firehose, Batch, ECS, ...): exactly what would have been sent (``targetArn``, ``service``,
    ``input``, ``roleArn``, ``messageGroupId``, the target's ``HttpParameters`` and other
    ``*Parameters``, ``traceHeader``); for a dead letter, the SQS message the queue would receive
    (``queueArn``, ``MessageBody``, ``MessageAttributes`` with ``RULE_ARN``, ``TARGET_ARN``,
    ``ERROR_CODE``, ``ERROR_MESSAGE``, ``RETRY_ATTEMPTS``, ``EXHAUSTED_RETRY_CONDITION``).

It runs on the event loop: it reads one bounded delivery log.
"""

from __future__ import annotations

from typing import Any

from emulator.services.events.common import EventsBase

_FILTERS = ("bus", "rule", "target", "targetArn", "eventId")


class AdminMixin(EventsBase):
    registry: Any

    def admin(self, method: str, path: str, args: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        if path != "deliveries":
            return 404, {"error": f"no admin endpoint /_emulator/events/{path}"}
        if method != "GET":
            return 405, {"error": f"method {method} not allowed on /_emulator/events/{path}"}
        account = args.get("account") or self.config.default_account
        region = args.get("region") or self.config.default_region
        wanted = {key: args[key] for key in _FILTERS if args.get(key)}
        if args.get("deadLetter"):
            wanted["deadLetter"] = True
        entries = self.registry.delivery.log(account, region, source="events", **wanted)
        if args.get("state"):
            entries = [entry for entry in entries if entry.get("state") == args["state"]]
        return 200, {"deliveries": entries}
