"""A compiled pattern and the direct check of one pattern against one event.

``Pattern`` is what the services keep per rule or subscription. Checking a single pattern
(TestEventPattern, one subscription) does not need the shared machine: each sub-rule's
conditions are tested field by field, and only when array elements are involved is a consistent
choice of elements searched for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .flatten import Flat, Trail, consistent, flatten, wanted_paths
from .matchers import FieldCondition

SubRule = tuple[FieldCondition, ...]


@dataclass(frozen=True, eq=False)
class Pattern:
    """A validated pattern: an OR of sub-rules, each an AND of field conditions.

    ``dialect`` is ``"eventbridge"`` or ``"sns"``; ``scope`` is the SNS filter policy scope
    (``"MessageAttributes"`` or ``"MessageBody"``), None for EventBridge; ``text`` the source.
    """

    dialect: str
    text: str
    subrules: tuple[SubRule, ...]
    scope: str | None = None

    def matches(self, event: Any) -> bool:
        """Does the decoded JSON ``event`` match?"""
        return self.matches_flat(flatten(event, self._wanted))

    @cached_property
    def _wanted(self) -> frozenset[str] | None:
        """The event paths this pattern can see: the rest of an event is not flattened."""
        return wanted_paths({cond.path for sub in self.subrules for cond in sub})

    def matches_flat(self, flat: Flat) -> bool:
        return any(subrule_matches(sub, flat) for sub in self.subrules)


def subrule_matches(conditions: SubRule, flat: Flat) -> bool:
    choices: list[set[Trail]] = []
    simple = True
    for cond in conditions:
        values = flat.get(cond.path)
        if values is None:
            if cond.absent:
                continue
            return False
        matchers = cond.matchers
        trails = {trail for value, trail in values if any(m.test(value) for m in matchers)}
        if not trails:
            return False
        if () not in trails:
            simple = False
        choices.append(trails)
    if simple:
        return True
    return _consistent_choice(choices)


def _consistent_choice(choices: list[set[Trail]]) -> bool:
    """Pick one trail per condition so that shared arrays agree on the element (iterative DFS)."""
    options = [sorted(c, key=len) for c in choices]
    stack: list[tuple[int, dict[int, int]]] = [(0, {})]
    while stack:
        i, constraint = stack.pop()
        if i == len(options):
            return True
        for trail in options[i]:
            if consistent(constraint, trail):
                merged = constraint if not trail else {**constraint, **dict(trail)}
                stack.append((i + 1, merged))
    return False
