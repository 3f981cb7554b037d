"""EventBridge rules: PutRule, DescribeRule, ListRules, EnableRule, DisableRule, DeleteRule,
ListRuleNamesByTarget, and the stateless TestEventPattern.

A rule lives in its bus's ``rules`` (by name). PutEvents never walks that dict: it asks
``bus.ruleset`` (one compiled matcher over the patterns of the bus's ENABLED rules), so ``index`` and
``unindex`` below are the only places that change the ruleset, and every operation that changes a
rule's pattern or state goes through them. Each operation is a dict lookup under the store lock; the
listings sort one bus's rules (a few hundred at most, the per-bus quota).

Schedules are validated here by ``schedules.parse``; every change of a rule's schedule or state is
passed to the provider's scheduler (``schedules.py``), which fires the ENABLED ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator import patterns
from emulator.context import RequestContext
from emulator.services.events import schedules
from emulator.services.events.common import (
    EventsBase,
    InvalidEventPatternException,
    LimitExceededException,
    ManagedRuleException,
    ValidationException,
    page_of,
)
from emulator.services.events.models import EventBus, EventsStore, Rule

ENABLED_STATES = frozenset({"ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"})
# Rules per event bus (EventBridge quotas): 300 in these Regions, 100 in the others.
_LARGE_QUOTA_REGIONS = frozenset({"us-east-1", "us-west-2", "eu-west-1"})

INVALID_SCHEDULE = "Parameter ScheduleExpression is not valid."
SCHEDULE_ON_CUSTOM_BUS = "ScheduleExpression is supported only on the default event bus."
PATTERN_OR_SCHEDULE = "Parameter(s) EventPattern or ScheduleExpression must be specified."
RULE_HAS_TARGETS = "Rule can't be deleted since it has targets."
LIMIT_EXCEEDED = "The requested resource exceeds the maximum number allowed."


def rule_quota(region: str, configured: int = 0) -> int:
    """Rules per bus: ``--events-rules-per-bus`` if set (AWS raises the quota on request), else AWS's default."""
    if configured > 0:
        return configured
    return 300 if region in _LARGE_QUOTA_REGIONS else 100


def index(bus: EventBus, rule: Rule) -> None:
    """Brings ``bus.ruleset`` in step with ``rule``: in it exactly while the rule is enabled and has
    a pattern (call under the store lock after any change of pattern or state)."""
    if rule.pattern is not None and rule.state in ENABLED_STATES:
        bus.ruleset.add(rule.name, rule.pattern)
    else:
        bus.ruleset.remove(rule.name)


def unindex(bus: EventBus, rule: Rule) -> None:
    """Takes ``rule`` out of ``bus.ruleset`` (a rule being deleted)."""
    bus.ruleset.remove(rule.name)


def managed_rule(name: str) -> ManagedRuleException:
    """The refusal of a change to a rule another service manages, where ``Force`` would allow it."""
    return ManagedRuleException(f"{name} is a managed rule. Set 'force' parameter to true to override.")


def managed_rule_unforceable(name: str) -> ManagedRuleException:
    """The refusal of a change to a managed rule by an operation that has no ``Force``."""
    return ManagedRuleException(f"{name} is a managed rule.")


# --- schedule expressions ---------------------------------------------------------------------


def validate_schedule_expression(expression: str) -> None:
    """``rate(value unit)`` or a six-field ``cron(...)`` as ``schedules.parse`` reads AWS's dialect,
    with AWS's one message for anything else."""
    try:
        schedules.parse(expression)
    except schedules.InvalidSchedule:
        raise ValidationException(INVALID_SCHEDULE) from None


# --- answers --------------------------------------------------------------------------------------


def _listed(rule: Rule) -> dict[str, Any]:
    """A rule as ListRules shows it (members without a value left out)."""
    entry: dict[str, Any] = {"Name": rule.name, "Arn": rule.arn}
    for key, value in (
        ("EventPattern", rule.event_pattern),
        ("State", rule.state),
        ("Description", rule.description),
        ("ScheduleExpression", rule.schedule_expression),
        ("RoleArn", rule.role_arn),
        ("ManagedBy", rule.managed_by),
    ):
        if value is not None:
            entry[key] = value
    entry["EventBusName"] = rule.bus_name
    return entry


class RulesMixin(EventsBase):
    """The rule operations of the provider."""

    # The scheduler's hooks (``schedules.SchedulesMixin``), called under the store lock.
    _track_schedule: Callable[[EventsStore, Rule, bool], None]
    _forget_schedule: Callable[[EventsStore, Rule], None]

    def put_rule(
        self, ctx: RequestContext, *, name: str, schedule_expression: str | None = None,
        event_pattern: str | None = None, state: str | None = None, description: str | None = None,
        role_arn: str | None = None, tags: list[dict[str, str]] | None = None,
        event_bus_name: str | None = None, **_: Any,
    ) -> dict[str, Any]:
        """Creates the rule, or replaces every setting of an existing one (tags are kept: on an
        update AWS ignores the request's tags)."""
        # The request's own checks come first, outside the lock (compiling a pattern is the slow part).
        bus_name = self._bus_name(ctx, event_bus_name)
        if event_pattern is None and schedule_expression is None:
            raise ValidationException(PATTERN_OR_SCHEDULE)
        if schedule_expression is not None:
            if bus_name != "default":
                raise ValidationException(SCHEDULE_ON_CUSTOM_BUS)
            validate_schedule_expression(schedule_expression)
        pattern = None
        if event_pattern is not None:
            try:
                pattern = patterns.compile_event_pattern(event_pattern)
            except patterns.InvalidEventPatternError as error:
                raise InvalidEventPatternException(error.message) from None
        store = self._store(ctx)
        with store.lock:
            bus = self._bus(ctx, store, bus_name)
            rule = bus.rules.get(name)
            if rule is None:
                if len(bus.rules) >= rule_quota(ctx.region, self.config.events_rules_per_bus):
                    raise LimitExceededException(LIMIT_EXCEEDED)
                rule = Rule(name, store.rule_arn(bus.name, name), bus.name, created_by=ctx.account,
                            tags={tag["Key"]: tag["Value"] for tag in tags or ()})
                bus.rules[name] = rule
            elif rule.managed_by:
                raise managed_rule_unforceable(name)
            rule.event_pattern = event_pattern
            rule.pattern = pattern
            rule.schedule_expression = schedule_expression
            rule.state = state or "ENABLED"
            rule.description = description
            rule.role_arn = role_arn
            index(bus, rule)
            self._track_schedule(store, rule, rule.state in ENABLED_STATES)
            return {"RuleArn": rule.arn}

    def describe_rule(self, ctx: RequestContext, *, name: str, event_bus_name: str | None = None,
                      **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            rule = self._rule(ctx, store, name, event_bus_name)
            answer = _listed(rule)
            answer["CreatedBy"] = rule.created_by
            return answer

    def list_rules(
        self, ctx: RequestContext, *, name_prefix: str | None = None, event_bus_name: str | None = None,
        next_token: str | None = None, limit: int | None = None, **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            bus = self._bus(ctx, store, event_bus_name)
            rules = sorted(
                (rule for rule in bus.rules.values() if not name_prefix or rule.name.startswith(name_prefix)),
                key=lambda rule: rule.name,
            )
            page, token = page_of(rules, lambda rule: rule.name, next_token, limit, f"rules/{bus.name}")
            result: dict[str, Any] = {"Rules": [_listed(rule) for rule in page]}
        if token:
            result["NextToken"] = token
        return result

    def enable_rule(self, ctx: RequestContext, *, name: str, event_bus_name: str | None = None,
                    **_: Any) -> dict[str, Any]:
        self._set_state(ctx, name, event_bus_name, "ENABLED")
        return {}

    def disable_rule(self, ctx: RequestContext, *, name: str, event_bus_name: str | None = None,
                     **_: Any) -> dict[str, Any]:
        self._set_state(ctx, name, event_bus_name, "DISABLED")
        return {}

    def _set_state(self, ctx: RequestContext, name: str, event_bus_name: str | None, state: str) -> None:
        store = self._store(ctx)
        with store.lock:
            bus = self._bus(ctx, store, event_bus_name)
            rule = self._rule(ctx, store, name, event_bus_name)
            if rule.managed_by:
                raise managed_rule_unforceable(name)
            rule.state = state
            index(bus, rule)
            self._track_schedule(store, rule, state in ENABLED_STATES)

    def delete_rule(self, ctx: RequestContext, *, name: str, event_bus_name: str | None = None,
                    force: bool | None = None, **_: Any) -> dict[str, Any]:
        """Deletes the rule; deleting one that is not there succeeds, as on AWS (the bus must exist).
        Refused while the rule has targets, and for a managed rule unless ``Force``."""
        store = self._store(ctx)
        with store.lock:
            bus = self._bus(ctx, store, event_bus_name)
            rule = bus.rules.get(name)
            if rule is None:
                return {}
            if rule.managed_by and not force:
                raise managed_rule(name)
            if rule.targets:
                raise ValidationException(RULE_HAS_TARGETS)
            unindex(bus, rule)
            del bus.rules[name]
            self._forget_schedule(store, rule)
        return {}

    def list_rule_names_by_target(
        self, ctx: RequestContext, *, target_arn: str, event_bus_name: str | None = None,
        next_token: str | None = None, limit: int | None = None, **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            bus = self._bus(ctx, store, event_bus_name)
            names = sorted(
                rule.name for rule in bus.rules.values()
                if any(target.arn == target_arn for target in rule.targets.values())
            )
        page, token = page_of(names, lambda item: item, next_token, limit, f"rule-names/{bus.name}/{target_arn}")
        result: dict[str, Any] = {"RuleNames": page}
        if token:
            result["NextToken"] = token
        return result

    def test_event_pattern(self, ctx: RequestContext, *, event_pattern: str, event: str, **_: Any) -> dict[str, Any]:
        """Whether ``event`` matches ``event_pattern``; stateless, with AWS's error for a bad pattern or event."""
        try:
            return {"Result": patterns.test_event_pattern(event_pattern, event)}
        except patterns.InvalidEventPatternError as error:
            raise InvalidEventPatternException(error.message) from None
        except patterns.InvalidTestEventError as error:
            raise ValidationException(error.message) from None
