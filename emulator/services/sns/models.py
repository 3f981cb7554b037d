"""SNS state of one account and region: plain dataclasses, changed only under ``SnsStore.lock``.

A topic keeps its subscriptions and, for fan-out, the compiled filter policies of its confirmed
subscriptions in two rulesets (one per ``FilterPolicyScope``) plus the set of confirmed subscriptions
without a policy, so that Publish finds the matching subscriptions in one walk of each ruleset
whatever the number of subscriptions (see ``fanout.py``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from emulator.delivery.model import RateWindow
from emulator.patterns import Pattern, Ruleset


@dataclass
class Subscription:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    owner: str  # the account that subscribed
    # What Get/SetSubscriptionAttributes hold as given: FilterPolicy, FilterPolicyScope,
    # RawMessageDelivery, RedrivePolicy, DeliveryPolicy, SubscriptionRoleArn, ReplayPolicy.
    attributes: dict[str, str] = field(default_factory=dict)
    confirmed: bool = False
    token: str | None = None  # the confirmation token while PendingConfirmation
    confirmation_authenticated: bool = False  # confirmed with AuthenticateOnUnsubscribe=true
    created_at: float = 0.0
    filter: Pattern | None = None  # the compiled FilterPolicy for its scope
    replay_status: str | None = None  # ReplayStatus, once a ReplayPolicy was set
    throttle: RateWindow = field(default_factory=RateWindow)  # throttlePolicy.maxReceivesPerSecond


@dataclass
class Topic:
    name: str
    arn: str
    account: str
    region: str
    fifo: bool = False
    # Settable attributes as given (DisplayName, Policy, DeliveryPolicy, KmsMasterKeyId, ...).
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    data_protection_policy: str | None = None
    created_at: float = 0.0
    subscriptions: OrderedDict[str, Subscription] = field(default_factory=OrderedDict)  # by ARN
    subscriptions_deleted: int = 0
    # Fan-out: confirmed subscriptions by filter scope, and those without a policy.
    attribute_rules: Ruleset = field(default_factory=Ruleset)
    body_rules: Ruleset = field(default_factory=Ruleset)
    unfiltered: dict[str, Subscription] = field(default_factory=dict)
    # Subscribe's idempotency, (protocol, endpoint) -> subscription ARN; confirmation token -> ARN.
    by_endpoint: dict[tuple[str, str], str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    # UnsubscribeConfirmation tokens: token -> (expires at, the subscription its SubscribeURL restores),
    # oldest first, so expiry is pruned from the front.
    unsubscribed: OrderedDict[str, tuple[float, Subscription]] = field(default_factory=OrderedDict)
    # FIFO: deduplication id -> (expires at, message id, sequence number); the topic's sequence.
    dedup: OrderedDict[str, tuple[float, str, str]] = field(default_factory=OrderedDict)
    sequence: int = 0
    # FIFO topics with an ArchivePolicy: the messages kept for replay, oldest first.
    archive: list[Message] = field(default_factory=list)
    archive_since: float = 0.0  # when the ArchivePolicy was set (BeginningArchiveTime never precedes it)


@dataclass
class Message:
    """A published message, as Publish / PublishBatch accepted it, on its way to the subscriptions."""

    message_id: str
    topic_arn: str  # the topic, or the platform endpoint's ARN / the phone number for direct publishes
    message: str  # the default text (MessageStructure=json: the "default" key's)
    structure: dict[str, str] | None = None  # MessageStructure=json: protocol -> text
    subject: str | None = None
    # As the request gave them: {name: {"DataType": ..., "StringValue": ... | "BinaryValue": bytes}}
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    timestamp: float = 0.0  # the emulator's clock when accepted
    group_id: str | None = None  # FIFO
    dedup_id: str | None = None  # FIFO: the given id, or the SHA-256 of the body (content-based)
    sequence_number: str | None = None  # FIFO
    base_url: str = ""  # where this server's UnsubscribeURL and SigningCertURL point


@dataclass
class PlatformApplication:
    name: str
    arn: str
    platform: str
    attributes: dict[str, str] = field(default_factory=dict)
    endpoints: OrderedDict[str, PlatformEndpoint] = field(default_factory=OrderedDict)  # by ARN
    by_token: dict[str, str] = field(default_factory=dict)  # device token -> endpoint ARN (idempotent create)


@dataclass
class PlatformEndpoint:
    arn: str
    application_arn: str
    token: str
    attributes: dict[str, str] = field(default_factory=dict)  # CustomUserData, Enabled, Token


@dataclass
class SmsState:
    attributes: dict[str, str] = field(default_factory=dict)
    opted_out: dict[str, float] = field(default_factory=dict)  # phone number -> when it opted out
    opted_in_at: dict[str, float] = field(default_factory=dict)  # when OptInPhoneNumber last ran, per number
    sandbox_numbers: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)


class SnsStore:
    def __init__(self, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self.lock = threading.RLock()
        self.topics: dict[str, Topic] = {}  # by ARN
        self.subscriptions: dict[str, Subscription] = {}  # by ARN, every topic's
        self.applications: dict[str, PlatformApplication] = {}  # by ARN
        self.endpoints: dict[str, PlatformEndpoint] = {}  # by ARN, every application's
        self.sms = SmsState()
        # ListSubscriptions' index: the subscriptions this account owns (made), in any account's topics
        # of this region, by ARN. Guarded by ``owned_lock`` alone, a leaf lock taken while a topic
        # owner's ``lock`` may be held and never the other way round, so two accounts never deadlock.
        self.owned: dict[str, Subscription] = {}
        self.owned_lock = threading.Lock()
