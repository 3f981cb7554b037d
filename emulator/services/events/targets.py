"""EventBridge targets: PutTargets, RemoveTargets, ListTargetsByRule.

A target is kept as the PutTargets entry it came from (``Target.spec``), so ListTargetsByRule answers
exactly what was put and the dispatcher reads the same members AWS would. What the model cannot
check is checked here, per target kind (told by the service in its ARN): which ``*Parameters``
members the kind takes, the role some kinds need, a FIFO queue's message group, the dead-letter
queue; ``transform.validate_target_input`` checks Input, InputPath and InputTransformer. AWS answers
these as errors of the whole request, so a rejected request changes no target.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.context import RequestContext
from emulator.services.events import transform
from emulator.services.events.common import EventsBase, LimitExceededException, ValidationException, page_of
from emulator.services.events.models import Target
from emulator.services.events.rules import (
    LIMIT_EXCEEDED,
    managed_rule,
    managed_rule_unforceable,
)

MAX_TARGETS_PER_RULE = 5

# arn:partition:service:region:account:resource
_ARN = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):([0-9]*):(.+)$")
_SQS_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")

# The target-specific parameter members and the target kinds (ARN service, or service/resource
# type) that take them; any other target answers "not valid for target".
_PARAMETER_KINDS: dict[str, frozenset[str]] = {
    "KinesisParameters": frozenset({"kinesis"}),
    "SqsParameters": frozenset({"sqs"}),
    "HttpParameters": frozenset({"events/api-destination", "execute-api"}),
    "EcsParameters": frozenset({"ecs"}),
    "BatchParameters": frozenset({"batch"}),
    "RunCommandParameters": frozenset({"ssm", "ec2"}),
    "RedshiftDataParameters": frozenset({"redshift", "redshift-serverless"}),
    "SageMakerPipelineParameters": frozenset({"sagemaker"}),
    "AppSyncParameters": frozenset({"appsync"}),
}
# Targets EventBridge reaches through an IAM role of the caller's rather than a resource policy.
_ROLE_KINDS = frozenset({
    "kinesis", "firehose", "states", "codebuild", "codepipeline", "ecs", "batch", "events/api-destination",
})


def _kind(arn: str) -> tuple[str, str, str]:
    """(kind, region, account) of a target ARN: the kind is the ARN's service, or service/type for
    the services whose resource types differ as targets (an event bus vs an API destination)."""
    match = _ARN.match(arn)
    if match is None:
        return "", "", ""
    service, region, account, resource = match.groups()
    if service == "events":
        service = f"events/{re.split(r'[/:]', resource, maxsplit=1)[0]}"
    return service, region, account


def check_dead_letter_config(dead_letter: dict[str, Any]) -> None:
    """A dead-letter queue, of a target or of a bus, must be named by an SQS queue ARN: the model
    only bounds its length, and a queue EventBridge cannot parse would lose every event sent to it."""
    if not _SQS_ARN.match(dead_letter.get("Arn") or ""):
        raise ValidationException("Parameter DeadLetterConfig.Arn is not valid.")


def check_target(ctx: RequestContext, entry: dict[str, Any]) -> None:
    """PutTargets' checks of one entry beyond the model's, with AWS's messages."""
    target_id, arn = entry["Id"], entry["Arn"]
    if not _ARN.match(arn):  # the model only bounds the length; a target must be a resource's ARN
        raise ValidationException("Parameter Arn is not valid.")
    kind, region, _account = _kind(arn)
    for member, kinds in _PARAMETER_KINDS.items():
        if member in entry and kind not in kinds:
            raise ValidationException(f"Parameter {member} is not valid for target{target_id}.")
    needs_role = kind in _ROLE_KINDS or (kind == "events/event-bus" and region != ctx.region)
    if needs_role and not entry.get("RoleArn"):
        raise ValidationException(f"RoleArn is required for target {arn}.")
    if kind == "sqs" and arn.endswith(".fifo") and not (entry.get("SqsParameters") or {}).get("MessageGroupId"):
        raise ValidationException(f"Parameter(s) SqsParameters must be specified for target: {target_id}.")
    dead_letter = entry.get("DeadLetterConfig")
    if dead_letter is not None:
        check_dead_letter_config(dead_letter)
    transform.validate_target_input(entry)


class TargetsMixin(EventsBase):
    """The target operations of the provider."""

    def put_targets(self, ctx: RequestContext, *, rule: str, targets: list[dict[str, Any]],
                    event_bus_name: str | None = None, **_: Any) -> dict[str, Any]:
        """Adds the targets, or replaces those with the same Id; at most five per rule."""
        for entry in targets:
            check_target(ctx, entry)
        store = self._store(ctx)
        with store.lock:
            found = self._rule(ctx, store, rule, event_bus_name)
            if found.managed_by:
                raise managed_rule_unforceable(rule)
            added = {entry["Id"] for entry in targets} - found.targets.keys()
            if len(found.targets) + len(added) > MAX_TARGETS_PER_RULE:
                raise LimitExceededException(LIMIT_EXCEEDED)
            for entry in targets:
                found.targets[entry["Id"]] = Target(entry["Id"], entry["Arn"], dict(entry))
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def remove_targets(self, ctx: RequestContext, *, rule: str, ids: list[str], event_bus_name: str | None = None,
                       force: bool | None = None, **_: Any) -> dict[str, Any]:
        """Removes the targets with these Ids; an Id the rule does not have is no failure."""
        store = self._store(ctx)
        with store.lock:
            found = self._rule(ctx, store, rule, event_bus_name)
            if found.managed_by and not force:
                raise managed_rule(rule)
            for target_id in ids:
                found.targets.pop(target_id, None)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def list_targets_by_rule(self, ctx: RequestContext, *, rule: str, event_bus_name: str | None = None,
                             next_token: str | None = None, limit: int | None = None, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            found = self._rule(ctx, store, rule, event_bus_name)
            targets = sorted(found.targets.values(), key=lambda target: target.id)
            page, token = page_of(targets, lambda target: target.id, next_token, limit, f"targets/{found.arn}")
            result: dict[str, Any] = {"Targets": [dict(target.spec) for target in page]}
        if token:
            result["NextToken"] = token
        return result
