"""EventBridge state of one account and region: plain dataclasses, changed only under ``EventsStore.lock``.

A bus keeps its rules and, for PutEvents, one compiled ``Ruleset`` of the event patterns of its
ENABLED rules (rule name -> pattern), so matching an event costs about the same whatever the number
of rules (see ``putevents.py``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from emulator import clock
from emulator.context import partition_for
from emulator.patterns import Pattern, Ruleset


@dataclass
class Target:
    id: str
    arn: str
    # The PutTargets entry as given, keyed by the model's member names (Id, Arn, RoleArn, Input,
    # InputPath, InputTransformer, KinesisParameters, SqsParameters, HttpParameters, RetryPolicy,
    # DeadLetterConfig, ...), answered as is by ListTargetsByRule.
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass
class Rule:
    name: str
    arn: str
    bus_name: str
    event_pattern: str | None = None
    schedule_expression: str | None = None
    state: str = "ENABLED"  # ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
    description: str | None = None
    role_arn: str | None = None
    managed_by: str | None = None
    created_by: str = ""  # the account that created the rule
    tags: dict[str, str] = field(default_factory=dict)
    targets: OrderedDict[str, Target] = field(default_factory=OrderedDict)  # by Id
    pattern: Pattern | None = None  # the compiled EventPattern


@dataclass
class EventBus:
    name: str
    arn: str
    description: str | None = None
    kms_key_identifier: str | None = None
    dead_letter_config: dict[str, Any] | None = None
    log_config: dict[str, Any] | None = None  # LogConfig as given (IncludeDetail, Level)
    event_source_name: str | None = None  # a partner event bus's source
    policy: str | None = None  # the resource policy JSON, None when there is none
    tags: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=clock.now)
    modified: float = field(default_factory=clock.now)
    rules: OrderedDict[str, Rule] = field(default_factory=OrderedDict)  # by name
    # The event patterns of the ENABLED rules with one (rule name -> compiled pattern).
    ruleset: Ruleset = field(default_factory=Ruleset)


@dataclass
class Endpoint:
    """A global endpoint (``endpoints.py``); its routing, replication and buses as the request gave them."""

    name: str
    arn: str
    endpoint_id: str
    routing_config: dict[str, Any]
    event_buses: list[dict[str, str]]
    replication_config: dict[str, str]
    role_arn: str | None = None
    description: str | None = None
    state: str = "CREATING"  # CREATING, ACTIVE, UPDATING, DELETING
    ready_at: float = 0.0  # when a CREATING, UPDATING or DELETING endpoint moves on
    created: float = field(default_factory=clock.now)
    modified: float = field(default_factory=clock.now)


@dataclass
class PartnerEventSource:
    """A partner event source (``partners.py``), kept by the partner's store (``partner_sources``) and
    by the store of the account it is offered to (``event_sources``) in the same Region."""

    name: str
    arn: str
    partner_account: str
    account: str  # the customer's
    created: float = field(default_factory=clock.now)
    pending_since: float = field(default_factory=clock.now)  # when it last became PENDING
    deactivated: bool = False
    deleted: bool = False  # by the partner, while the customer's bus remained


class EventsStore:
    """Buses of one account and region; the ``default`` bus always exists."""

    def __init__(self, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self.lock = threading.RLock()
        self.buses: dict[str, EventBus] = {}
        self.buses["default"] = EventBus("default", self.bus_arn("default"))
        self.endpoints: dict[str, Endpoint] = {}  # global endpoints whose home Region this is, by name
        self.partner_sources: dict[str, PartnerEventSource] = {}  # created by this account, by name
        self.event_sources: dict[str, PartnerEventSource] = {}  # offered to this account, by name
        self.connections: dict[str, Any] = {}  # connections.Connection, by name
        self.api_destinations: dict[str, Any] = {}  # apidestinations.ApiDestination, by name
        self.archives: dict[str, Any] = {}  # archives.Archive, by name
        self.replays: dict[str, Any] = {}  # replays.Replay, by name

    def bus_arn(self, name: str) -> str:
        return f"arn:{partition_for(self.region)}:events:{self.region}:{self.account}:event-bus/{name}"

    def rule_arn(self, bus_name: str, name: str) -> str:
        """AWS's rule ARNs: ``rule/<name>`` on the default bus, ``rule/<bus>/<name>`` on others."""
        path = name if bus_name == "default" else f"{bus_name}/{name}"
        return f"arn:{partition_for(self.region)}:events:{self.region}:{self.account}:rule/{path}"
