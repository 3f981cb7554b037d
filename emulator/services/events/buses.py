"""Event buses and who may send to them: Create/Describe/List/Update/DeleteEventBus, Put/RemovePermission,
and ``bus_allows``, the check PutEvents makes before it delivers to another account's bus.

Every account and region has the ``default`` bus, which can be updated, tagged and given a policy but
never deleted, and up to 100 buses in all. A custom bus's name has no ``/`` and does not start with
``aws.``; those are kept for partner buses, whose name is their partner event source's (a source a
partner offered to this account: ``partners.py``).

A bus's resource policy is kept as the JSON text DescribeEventBus answers (``EventBus.policy``),
written compactly in the order AWS writes it. PutPermission either adds (or replaces, by Sid) one
statement that lets an account, everyone, or an organization's accounts put events, or replaces the
whole policy with a document of the caller's; RemovePermission takes one statement out by Sid, or all.

Costs: each operation is a dict lookup under the store's lock, except ListEventBuses (one sort of at
most 100 names) and the policy's rewrite (at most 10 KB). ``bus_allows`` reads the policy through a
small cache of parsed documents, so a PutEvents burst parses a policy once.
"""

from __future__ import annotations

import fnmatch
import json
from functools import lru_cache
from typing import Any

from emulator import clock
from emulator.context import RequestContext
from emulator.services.events.common import (
    EventsBase,
    LimitExceededException,
    PolicyLengthExceededException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ValidationException,
    page_of,
    parse_bus_arn,
)
from emulator.services.events.models import EventBus, EventsStore
from emulator.services.events.tagging import check_tags, tag_dict
from emulator.services.events.targets import check_dead_letter_config

MAX_BUSES = 100
MAX_POLICY_LENGTH = 10_240  # characters
POLICY_VERSION = "2012-10-17"
PUT_EVENTS = "events:PutEvents"
ORG_CONDITION = ("StringEquals", "aws:PrincipalOrgID")


# --- who may send -----------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _statements(policy: str) -> tuple[dict[str, Any], ...]:
    """The statements of a policy document (parsed once per distinct text)."""
    try:
        document = json.loads(policy)
    except (ValueError, RecursionError):  # nested deeper than the decoder goes: no statements either
        return ()
    statements = document.get("Statement", ()) if isinstance(document, dict) else ()
    if isinstance(statements, dict):
        statements = [statements]
    return tuple(statement for statement in statements if isinstance(statement, dict))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principal_matches(principal: Any, account: str) -> bool:
    """``*``, ``{"AWS": "*"}``, the account's id or any IAM ARN of that account (this emulator knows
    callers by account only, so a role or user of the account stands for the account)."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _as_list(principal.get("AWS", [])):
        if not isinstance(value, str):
            continue
        if value in ("*", account) or (value.startswith("arn:") and value.split(":")[4:5] == [account]):
            return True
    return False


def _text_matches(patterns: Any, value: str) -> bool:
    """IAM's wildcards (``*``, ``?``), without regard to case, as actions compare."""
    return any(
        isinstance(pattern, str) and fnmatch.fnmatchcase(value.lower(), pattern.lower())
        for pattern in _as_list(patterns)
    )


def _condition_holds(condition: Any, account: str, principal_org: str | None) -> bool:
    """The condition keys an event bus policy can test for a sending account; any other key or
    operator is unknown here, so its statement is taken not to apply."""
    if not isinstance(condition, dict):
        return False
    known = {"aws:principalorgid": principal_org, "aws:principalaccount": account}
    for operator, tests in condition.items():
        if operator not in ("StringEquals", "StringLike") or not isinstance(tests, dict):
            return False
        for key, expected in tests.items():
            actual = known.get(key.lower(), None) if isinstance(key, str) else None
            if actual is None:
                return False
            wanted = _as_list(expected)
            if operator == "StringEquals" and actual not in wanted:
                return False
            if operator == "StringLike" and not any(
                isinstance(pattern, str) and fnmatch.fnmatchcase(actual, pattern) for pattern in wanted
            ):
                return False
    return True


def _applies(statement: dict[str, Any], bus_arn: str, account: str, action: str, principal_org: str | None) -> bool:
    if any(key in statement for key in ("NotPrincipal", "NotAction", "NotResource")):
        return False
    return (
        _principal_matches(statement.get("Principal"), account)
        and _text_matches(statement.get("Action", []), action)
        and ("Resource" not in statement or _text_matches(statement["Resource"], bus_arn))
        and ("Condition" not in statement or _condition_holds(statement["Condition"], account, principal_org))
    )


def bus_allows(
    bus: EventBus, sender_account: str, action: str = PUT_EVENTS, principal_org: str | None = None
) -> bool:
    """Whether ``sender_account`` (of organization ``principal_org``, if any) may ``action`` on ``bus``:
    its owner always; another account when a statement of the bus policy allows it and none denies it."""
    parsed = parse_bus_arn(bus.arn)
    if parsed is not None and parsed[1] == sender_account:
        return True
    if not bus.policy:
        return False
    matching = [
        statement
        for statement in _statements(bus.policy)
        if _applies(statement, bus.arn, sender_account, action, principal_org)
    ]
    if any(statement.get("Effect") == "Deny" for statement in matching):
        return False
    return any(statement.get("Effect") == "Allow" for statement in matching)


# --- policy documents -------------------------------------------------------------------------------


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _statement(bus: EventBus, statement_id: str, principal: str, condition: dict[str, str] | None) -> dict[str, Any]:
    """The statement PutPermission writes, keyed in AWS's order."""
    if principal == "*":
        who: Any = "*"
    else:
        partition = bus.arn.split(":")[1]
        who = {"AWS": f"arn:{partition}:iam::{principal}:root"}
    statement: dict[str, Any] = {
        "Sid": statement_id,
        "Effect": "Allow",
        "Principal": who,
        "Action": PUT_EVENTS,
        "Resource": bus.arn,
    }
    if condition:
        statement["Condition"] = {condition["Type"]: {condition["Key"]: condition["Value"]}}
    return statement


def _parse_policy(policy: str) -> dict[str, Any]:
    """A caller's whole policy document, which must be a JSON object."""
    try:
        document = json.loads(policy)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the decoder goes
        document = None
    if not isinstance(document, dict):
        raise ValidationException("The policy is not a valid JSON document.")
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(statement, dict) for statement in statements):
        # A statement is an object (or a list of them); anything else could never grant or deny.
        raise ValidationException("Parameter Policy is not valid.")
    return document


def _check_length(policy: str) -> None:
    if len(policy) > MAX_POLICY_LENGTH:
        raise PolicyLengthExceededException(
            f"The policy of the event bus would be {len(policy)} characters long; "
            f"at most {MAX_POLICY_LENGTH} are allowed."
        )


def _check_statement_request(
    action: str | None, principal: str | None, statement_id: str | None, condition: dict[str, str] | None
) -> tuple[str, str]:
    """PutPermission's members for one statement, as the model cannot check them together: the
    principal and the statement id."""
    given = (("Action", action), ("Principal", principal), ("StatementId", statement_id))
    missing = [name for name, value in given if not value]
    if missing or principal is None or statement_id is None:
        raise ValidationException(f"Parameter(s) {', '.join(missing)} must be specified when Policy is not.")
    if action != PUT_EVENTS:
        raise ValidationException("Provided value in parameter 'action' is not supported.")
    if condition and (condition["Type"], condition["Key"]) != ORG_CONDITION:
        raise ValidationException(
            "Provided value in parameter 'condition' is not supported: only Type StringEquals with Key "
            "aws:PrincipalOrgID is allowed."
        )
    return principal, statement_id


# --- the operations ---------------------------------------------------------------------------------


def _bus_entry(bus: EventBus) -> dict[str, Any]:
    """A bus as ListEventBuses lists it."""
    entry: dict[str, Any] = {"Name": bus.name, "Arn": bus.arn}
    if bus.description:
        entry["Description"] = bus.description
    if bus.policy:
        entry["Policy"] = bus.policy
    entry["CreationTime"] = bus.created
    entry["LastModifiedTime"] = bus.modified
    return entry


def _settings(bus: EventBus) -> dict[str, Any]:
    """The settable members that are set, keyed as Create/Describe/UpdateEventBus answer them."""
    settings = {
        "Description": bus.description,
        "KmsKeyIdentifier": bus.kms_key_identifier,
        "DeadLetterConfig": bus.dead_letter_config,
        "LogConfig": bus.log_config,
    }
    return {key: value for key, value in settings.items() if value}


class BusesMixin(EventsBase):
    def _check_new_bus_name(self, store: EventsStore, name: str, event_source_name: str | None) -> None:
        """CreateEventBus's checks of the name, in the order AWS makes them."""
        if name in store.buses:
            raise ResourceAlreadyExistsException(f"Event bus {name} already exists.")
        if event_source_name is not None:
            self._claim_event_source(store, name, event_source_name)  # partners.py
            return
        if name.startswith("aws."):
            raise ValidationException("EventBus name starting with 'aws.' is not valid.")
        if "/" in name:
            raise ValidationException("Event bus name must not contain '/'.")

    def create_event_bus(
        self,
        ctx: RequestContext,
        *,
        name: str,
        event_source_name: str | None = None,
        description: str | None = None,
        kms_key_identifier: str | None = None,
        dead_letter_config: dict[str, Any] | None = None,
        log_config: dict[str, Any] | None = None,
        tags: list[dict[str, str]] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        if dead_letter_config:
            check_dead_letter_config(dead_letter_config)
        store = self._store(ctx)
        new_tags = tag_dict(tags)
        with store.lock:
            self._check_new_bus_name(store, name, event_source_name)
            check_tags({}, new_tags)
            if len(store.buses) >= MAX_BUSES:
                raise LimitExceededException("The requested resource exceeds the maximum number allowed.")
            bus = EventBus(
                name,
                store.bus_arn(name),
                description=description or None,
                kms_key_identifier=kms_key_identifier or None,
                dead_letter_config=dead_letter_config or None,
                log_config=log_config or None,
                event_source_name=event_source_name,
                tags=new_tags,
            )
            store.buses[name] = bus
            return {"EventBusArn": bus.arn, **_settings(bus)}

    def describe_event_bus(self, ctx: RequestContext, *, name: str | None = None, **_: Any) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            bus = self._bus(ctx, store, name)
            result: dict[str, Any] = {"Name": bus.name, "Arn": bus.arn, **_settings(bus)}
            if bus.policy:
                result["Policy"] = bus.policy
            result["CreationTime"] = bus.created
            result["LastModifiedTime"] = bus.modified
            return result

    def list_event_buses(
        self, ctx: RequestContext, *, name_prefix: str | None = None, next_token: str | None = None,
        limit: int | None = None, **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            buses = sorted(
                (bus for bus in store.buses.values() if not name_prefix or bus.name.startswith(name_prefix)),
                key=lambda bus: bus.name,
            )
            page, token = page_of(buses, lambda bus: bus.name, next_token, limit, "event-buses")
            result: dict[str, Any] = {"EventBuses": [_bus_entry(bus) for bus in page]}
        if token:
            result["NextToken"] = token
        return result

    def update_event_bus(
        self,
        ctx: RequestContext,
        *,
        name: str | None = None,
        description: str | None = None,
        kms_key_identifier: str | None = None,
        dead_letter_config: dict[str, Any] | None = None,
        log_config: dict[str, Any] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Sets the bus's settings to those given: one left out goes back to its default (an AWS
        owned key, no description, no dead-letter queue, no logging), as for a new bus."""
        if dead_letter_config:
            check_dead_letter_config(dead_letter_config)
        store = self._store(ctx)
        with store.lock:
            bus = self._bus(ctx, store, name)
            bus.description = description or None
            bus.kms_key_identifier = kms_key_identifier or None
            bus.dead_letter_config = dead_letter_config or None
            bus.log_config = log_config or None
            bus.modified = clock.now()
            return {"Arn": bus.arn, "Name": bus.name, **_settings(bus)}

    def delete_event_bus(self, ctx: RequestContext, *, name: str, **_: Any) -> dict[str, Any]:
        """Deleting a bus that does not exist succeeds, as on AWS; the default bus and a bus that
        still has rules stay."""
        if name == "default":
            raise ValidationException("Cannot delete event bus default.")
        store = self._store(ctx)
        with store.lock:
            bus = store.buses.get(name)
            if bus is None:
                return {}
            if bus.rules:
                raise ValidationException("EventBus can't be deleted since it has rules.")
            del store.buses[name]
            if bus.event_source_name:
                self._release_event_source(store, bus)  # partners.py
        return {}

    def put_permission(
        self,
        ctx: RequestContext,
        *,
        event_bus_name: str | None = None,
        action: str | None = None,
        principal: str | None = None,
        statement_id: str | None = None,
        condition: dict[str, str] | None = None,
        policy: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        whole: str | None = None
        if policy is not None:
            if action or principal or statement_id or condition:
                raise ValidationException(
                    "Policy cannot be specified together with Action, Principal, StatementId or Condition."
                )
            whole = _dump(_parse_policy(policy))
        else:
            principal, statement_id = _check_statement_request(action, principal, statement_id, condition)
        store = self._store(ctx)
        with store.lock:
            bus = self._bus(ctx, store, event_bus_name)
            if whole is not None:
                text = whole
            else:
                text = self._with_statement(bus, _statement(bus, statement_id or "", principal or "", condition))
            _check_length(text)
            bus.policy = text
            bus.modified = clock.now()
        return {}

    @staticmethod
    def _with_statement(bus: EventBus, statement: dict[str, Any]) -> str:
        """The bus's policy with ``statement`` added, or in place of the statement of the same Sid."""
        document = json.loads(bus.policy) if bus.policy else {"Version": POLICY_VERSION, "Statement": []}
        statements = document.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else list(statements)
        for index, existing in enumerate(statements):
            if isinstance(existing, dict) and existing.get("Sid") == statement["Sid"]:
                statements[index] = statement
                break
        else:
            statements.append(statement)
        document["Statement"] = statements
        return _dump(document)

    def remove_permission(
        self,
        ctx: RequestContext,
        *,
        statement_id: str | None = None,
        remove_all_permissions: bool | None = None,
        event_bus_name: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        store = self._store(ctx)
        with store.lock:
            bus = self._bus(ctx, store, event_bus_name)
            if remove_all_permissions:
                if not bus.policy:
                    raise ResourceNotFoundException("EventBus does not have a policy.")
                bus.policy = None
            else:
                if not statement_id:
                    raise ValidationException(
                        "Parameter StatementId must be specified when RemoveAllPermissions is not true."
                    )
                bus.policy = self._without_statement(bus, statement_id)
            bus.modified = clock.now()
        return {}

    @staticmethod
    def _without_statement(bus: EventBus, statement_id: str) -> str | None:
        """The bus's policy without the statement ``statement_id`` (None once no statement is left)."""
        document = json.loads(bus.policy) if bus.policy else {}
        statements = document.get("Statement", [])
        statements = [statements] if isinstance(statements, dict) else list(statements)
        kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == statement_id)]
        if len(kept) == len(statements):
            raise ResourceNotFoundException("Statement with the provided id does not exist.")
        if not kept:
            return None
        document["Statement"] = kept
        return _dump(document)
