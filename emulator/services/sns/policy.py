"""Topic access policies: the default policy AWS generates, AddPermission / RemovePermission edits, and
whether a policy lets another account do an action.

The emulator's callers are accounts (their root identity), so a policy is evaluated for an account:
the owner may always act on its own topics; another account only where an Allow statement names it
(its id, ``arn:aws:iam::<id>:root``, or ``*``), covers the action (``SNS:Publish``, ``sns:*``, ``*``:
case-insensitive, with wildcards) and the topic (``Resource``), its conditions hold, and no Deny
statement covers the same. The default policy's ``AWS:SourceOwner = <owner>`` condition is what keeps
other accounts out of a new topic: for a direct call the source owner is the calling account.
Conditions the emulator cannot evaluate make their statement not apply (an Allow grants nothing, a
Deny denies nothing), never a 500.

A policy is small and evaluated on the request thread: parsing and walking it costs microseconds.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from emulator import specs
from emulator.context import partition_for
from emulator.services.sns.common import JSON_ERRORS, InvalidParameter
from emulator.services.sns.models import Topic

POLICY_VERSION = "2008-10-17"
DEFAULT_POLICY_ID = "__default_policy_ID"
DEFAULT_STATEMENT_ID = "__default_statement_ID"
# The actions of AWS's default statement, in AWS's order.
DEFAULT_ACTIONS = (
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
)

POLICY_ERROR = "Invalid parameter: Policy Error: null"
OUT_OF_SCOPE = "Invalid parameter: Policy statement action out of service scope!"
STATEMENT_EXISTS = "Invalid parameter: Statement already exists"
STATEMENT_MISSING = "Invalid parameter: Statement doesn't exist"


def _dump(document: dict[str, Any]) -> str:
    """Compact JSON, as AWS returns policy documents."""
    return json.dumps(document, separators=(",", ":"))


def default_document(topic: Topic) -> dict[str, Any]:
    return {
        "Version": POLICY_VERSION,
        "Id": DEFAULT_POLICY_ID,
        "Statement": [
            {
                "Sid": DEFAULT_STATEMENT_ID,
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": list(DEFAULT_ACTIONS),
                "Resource": topic.arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": topic.account}},
            }
        ],
    }


def default_policy(topic: Topic) -> str:
    """The policy JSON AWS gives a new topic."""
    return _dump(default_document(topic))


def current(topic: Topic) -> str:
    """The topic's policy as GetTopicAttributes shows it: the one set, else the default."""
    return topic.attributes.get("Policy") or default_policy(topic)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _is_sns_action(action: Any) -> bool:
    return isinstance(action, str) and (action == "*" or action.lower().startswith("sns:"))


def validate(text: str) -> dict[str, Any]:
    """A Policy attribute, checked as SNS checks one: a JSON policy whose statements each have an
    Effect, a Principal, an Action of SNS and a Resource. ``InvalidParameter`` with AWS's words else."""
    if not text:
        raise InvalidParameter("Invalid parameter: Policy is empty")
    try:
        document = json.loads(text)
    except JSON_ERRORS:
        raise InvalidParameter(POLICY_ERROR) from None
    if not isinstance(document, dict):
        raise InvalidParameter(POLICY_ERROR)
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise InvalidParameter(POLICY_ERROR)
    for statement in statements:
        if (
            not isinstance(statement, dict)
            or statement.get("Effect") not in ("Allow", "Deny")
            or not ("Principal" in statement or "NotPrincipal" in statement)
            or not ("Action" in statement or "NotAction" in statement)
            or not ("Resource" in statement or "NotResource" in statement)
        ):
            raise InvalidParameter(POLICY_ERROR)
        if not all(_is_sns_action(action) for action in _as_list(statement.get("Action", "*"))):
            raise InvalidParameter(OUT_OF_SCOPE)
    return document


def _statements(topic: Topic) -> list[dict[str, Any]]:
    try:
        document = json.loads(current(topic))
    except ValueError:
        return []
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in statements or [] if isinstance(s, dict)]


def _principal_matches(principal: Any, account: str, service: str | None = None) -> bool:
    """Does ``principal`` name the calling account (or, with ``service``, that service principal)?"""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if service is not None:  # {"Service": "events.amazonaws.com"}, or everyone ({"AWS": "*"} is "*")
        return any(value == service for value in _as_list(principal.get("Service"))) or "*" in _as_list(
            principal.get("AWS"))
    if "AWS" not in principal:
        return False  # services and federated principals are never an account's direct call
    for value in _as_list(principal["AWS"]):
        if not isinstance(value, str):
            continue
        if value in ("*", account):
            return True
        parts = value.split(":")
        if len(parts) == 6 and parts[2] == "iam" and parts[4] == account and parts[5] == "root":
            return True
    return False


def _covers(patterns: Any, value: str) -> bool:
    return any(
        isinstance(pattern, str) and fnmatch.fnmatchcase(value.lower(), pattern.lower())
        for pattern in _as_list(patterns)
    )


def _string_test(operator: str, expected: Any, actual: str | None) -> bool | None:
    """One condition test; None for an operator the emulator does not evaluate."""
    if actual is None:
        return operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    values = [v for v in _as_list(expected) if isinstance(v, str)]
    if base in ("StringEquals", "ArnEquals"):
        return actual in values
    if base == "StringEqualsIgnoreCase":
        return actual.lower() in (v.lower() for v in values)
    if base in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(actual, v) for v in values)
    if base == "StringNotEquals":
        return actual not in values
    if base == "StringNotLike":
        return not any(fnmatch.fnmatchcase(actual, v) for v in values)
    return None


def _conditions_hold(conditions: Any, context: dict[str, str]) -> bool:
    if not conditions:
        return True
    if not isinstance(conditions, dict):
        return False
    for operator, tests in conditions.items():
        if not isinstance(tests, dict):
            return False
        for key, expected in tests.items():
            if _string_test(operator, expected, context.get(key.lower())) is not True:
                return False
    return True


def _applies(statement: dict[str, Any], topic: Topic, account: str, action: str, context: dict[str, str],
             service: str | None = None) -> bool:
    if any(key in statement for key in ("NotPrincipal", "NotAction", "NotResource")):
        return False  # negated forms: not evaluated, so they grant and deny nothing
    return (
        _principal_matches(statement.get("Principal"), account, service)
        and _covers(statement.get("Action"), action)
        and _covers(statement.get("Resource"), topic.arn)
        and _conditions_hold(statement.get("Condition"), context)
    )


def allows(topic: Topic, account: str, action: str) -> bool:
    """Does the topic's policy let ``account`` do ``action`` ("SNS:Publish")? The owner always may."""
    if account == topic.account:
        return True
    # A direct call: the caller is the source, the principal and the source owner of the request.
    context = {"aws:sourceowner": account, "aws:sourceaccount": account, "aws:principalaccount": account}
    allowed = False
    for statement in _statements(topic):
        if not _applies(statement, topic, account, action, context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def allows_service(topic: Topic, service: str, action: str, source_account: str, source_arn: str) -> bool:
    """Does the topic's policy let a service principal (``events.amazonaws.com``) do ``action`` on
    behalf of ``source_arn`` (an EventBridge rule) of ``source_account``?

    Unlike the owner's own calls, a service needs a statement of its own, as AWS documents for
    EventBridge targets: the default policy's ``AWS:SourceOwner`` condition is not met by a service's
    call, whose context carries ``aws:SourceAccount`` and ``aws:SourceArn`` instead.
    """
    context = {"aws:sourceaccount": source_account, "aws:sourcearn": source_arn}
    allowed = False
    for statement in _statements(topic):
        if not _applies(statement, topic, source_account, action, context, service):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _action_names() -> dict[str, str]:
    """The SNS action names AddPermission accepts, by lower case: the model's operations."""
    return {name.lower(): name for name in specs.load("sns").operation_names}


def add_permission(topic: Topic, label: str, accounts: list[str], actions: list[str]) -> str:
    """The topic's policy with AddPermission's statement added (``label`` its Sid)."""
    names = _action_names()
    granted = []
    for action in actions:
        name = names.get(action.removeprefix("SNS:").removeprefix("sns:").lower())
        if name is None and action != "*":
            raise InvalidParameter(OUT_OF_SCOPE)
        granted.append("SNS:*" if name is None else f"SNS:{name}")
    document = json.loads(current(topic))
    statements = _as_list(document.get("Statement", []))
    if any(isinstance(s, dict) and s.get("Sid") == label for s in statements):
        raise InvalidParameter(STATEMENT_EXISTS)
    partition = partition_for(topic.region)
    statements.append(
        {
            "Sid": label,
            "Effect": "Allow",
            "Principal": {"AWS": [f"arn:{partition}:iam::{account}:root" for account in accounts]},
            "Action": granted,
            "Resource": topic.arn,
        }
    )
    document["Statement"] = statements
    return _dump(document)


def remove_permission(topic: Topic, label: str) -> str:
    """The topic's policy without the statement whose Sid is ``label``."""
    document = json.loads(current(topic))
    statements = _as_list(document.get("Statement", []))
    kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == label)]
    if len(kept) == len(statements):
        raise InvalidParameter(STATEMENT_MISSING)
    document["Statement"] = kept
    return _dump(document)
