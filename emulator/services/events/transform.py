"""What a target receives: the event, ``Input``, ``InputPath``, or an ``InputTransformer``'s output;
and the checks PutTargets makes of them. (being written)"""

from __future__ import annotations

from typing import Any


def validate_target_input(target: dict[str, Any]) -> None:
    """PutTargets' checks of one target's Input / InputPath / InputTransformer (at most one of them;
    valid JSON Input; JSONPath syntax; InputPathsMap keys and count; the template's placeholders),
    raising ``ValidationException`` (or the error AWS answers) with AWS's message."""
    raise NotImplementedError


def render(target: dict[str, Any], event: dict[str, Any], rule_arn: str, rule_name: str,
           ingestion_time: str) -> str:
    """The text the target receives for ``event`` (the event's JSON without Input settings). Raises
    ``TransformError`` (with the reason the delivery log shows) when a template cannot produce what
    AWS would send (e.g. invalid JSON for a JSON template)."""
    raise NotImplementedError


class TransformError(ValueError):
    """The input could not be produced; the delivery fails with this reason, as on AWS."""
