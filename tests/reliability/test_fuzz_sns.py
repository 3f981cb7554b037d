"""Every SNS operation of botocore's model, fed seeded requests built from its input shape: no 5xx, no
"internal error" in the server's log, only error codes the model lists for the operation (or the
query protocol's own), and no state changed by a request the server refused.

Each operation gets a world of real resources first (two topics, a confirmed and a pending
subscription, a permission, a platform application and endpoint, a sandbox phone number), so the
variants that name them get past "not found" into the semantic checks, where crashes live: values of
every JSON attribute (policies, filter policies, delivery and redrive policies) built from AWS's own
keys with values of the wrong type, huge and unicode strings, wrong wire types, ARNs of other
accounts and regions. The variants are seeded by name, so a failure repeats; ``REGRESSIONS`` keeps
the requests that once crashed the server, each as it was found.

"Nothing changed" is read from the provider's stores (the in-process server), as a fingerprint of
every topic, subscription, application, endpoint and SMS setting before and after each refusal.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.model import OperationModel, Shape

from tests.protocols.generate import Generator
from tests.receivers import Receiver, receiver

ACCOUNT = "000000000000"
REGION = "us-east-1"
OTHER_ACCOUNT = "111111111111"
MODEL = botocore.session.get_session().get_service_model("sns")
OPERATIONS = list(MODEL.operation_names)

# The query protocol's own refusals, which any operation may get.
COMMON_CODES = frozenset({
    "InvalidParameter", "ValidationError", "MalformedQueryString", "MissingParameter", "InvalidAction",
    "MissingAction", "InvalidParameterValue", "InvalidQueryParameter", "OptInRequired", "RequestEntityTooLarge",
})

UNICODE = ["🙂", "漢字", "é", "\u202e", "a\u0301", "\ufeff", "𝔘", "ß", "\u00a0", "Ω"]
HUGE = 10 * 1024

# AWS's attribute names, per operation that takes them (topic and subscription attributes from the API
# reference of CreateTopic, SetTopicAttributes, Subscribe and SetSubscriptionAttributes).
TOPIC_ATTRIBUTES = [
    "DeliveryPolicy", "DisplayName", "Policy", "SignatureVersion", "TracingConfig", "KmsMasterKeyId",
    "FifoTopic", "ContentBasedDeduplication", "FifoThroughputScope", "ArchivePolicy", "DataProtectionPolicy",
    "HTTPSuccessFeedbackRoleArn", "SQSFailureFeedbackRoleArn", "LambdaSuccessFeedbackSampleRate",
    "MaximumMessageSize",
]
SUBSCRIPTION_ATTRIBUTES = [
    "DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy",
    "SubscriptionRoleArn", "ReplayPolicy",
]
APPLICATION_ATTRIBUTES = [
    "PlatformCredential", "PlatformPrincipal", "ApplePlatformTeamID", "ApplePlatformBundleID",
    "EventEndpointCreated", "EventDeliveryFailure", "SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate",
]
ENDPOINT_ATTRIBUTES = ["CustomUserData", "Enabled", "Token"]
SMS_ATTRIBUTES = [
    "MonthlySpendLimit", "DeliveryStatusIAMRole", "DeliveryStatusSuccessSamplingRate", "DefaultSenderID",
    "DefaultSMSType", "UsageReportS3Bucket",
]
ATTRIBUTE_NAMES = {
    "CreateTopic": TOPIC_ATTRIBUTES, "SetTopicAttributes": TOPIC_ATTRIBUTES,
    "Subscribe": SUBSCRIPTION_ATTRIBUTES, "SetSubscriptionAttributes": SUBSCRIPTION_ATTRIBUTES,
    "CreatePlatformApplication": APPLICATION_ATTRIBUTES, "SetPlatformApplicationAttributes": APPLICATION_ATTRIBUTES,
    "CreatePlatformEndpoint": ENDPOINT_ATTRIBUTES, "SetEndpointAttributes": ENDPOINT_ATTRIBUTES,
    "SetSMSAttributes": SMS_ATTRIBUTES,
}
# Keys of the JSON documents SNS reads (policies, filter policies, delivery, redrive, replay, archive
# and data protection policies), so that random documents reach the code that reads each key.
JSON_KEYS = [
    "Version", "Id", "Statement", "Sid", "Effect", "Principal", "AWS", "Action", "Resource", "Condition",
    "StringEquals", "ArnLike", "http", "https", "defaultHealthyRetryPolicy", "healthyRetryPolicy",
    "numRetries", "numNoDelayRetries", "minDelayTarget", "maxDelayTarget", "numMinDelayRetries",
    "numMaxDelayRetries", "backoffFunction", "throttlePolicy", "maxReceivesPerSecond", "disableSubscriptionOverrides",
    "defaultThrottlePolicy", "requestPolicy", "headerContentType", "deadLetterTargetArn", "numeric", "prefix",
    "suffix", "anything-but", "exists", "cidr", "equals-ignore-case", "wildcard", "$or", "PointType",
    "StartingPoint", "EndingPoint", "MessageRetentionPeriod", "Name", "Description", "DataIdentifier",
    "Operation", "Audit", "Deny", "SampleRate", "FindingsDestination", "default", "sqs", "email", "GCM",
    "APNS", "sms", "lambda", "application", "firehose",
]
# SNS's documents as AWS's guides show them; ``Fuzzer.mutate`` swaps parts of them for values of any type.
DOCUMENTS: list[Any] = [
    {"Version": "2012-10-17", "Id": "p", "Statement": [{
        "Sid": "s", "Effect": "Allow", "Principal": {"AWS": ["111111111111", "*"]}, "Action": ["SNS:Publish", "sns:*"],
        "Resource": "arn:aws:sns:us-east-1:000000000000:fuzz",
        "Condition": {"StringEquals": {"AWS:SourceOwner": "000000000000"}, "ArnLike": {"aws:SourceArn": "arn:*"}},
    }]},
    {"store": ["a", "b"], "price": [{"numeric": [">", 0, "<=", 150]}], "name": [{"prefix": "x"}, {"suffix": "y"}],
     "ip": [{"cidr": "10.0.0.0/24"}], "c": [{"anything-but": {"prefix": "z"}}], "d": [{"exists": False}],
     "e": [{"equals-ignore-case": "Q"}], "f": [{"wildcard": "a*b"}], "$or": [{"g": [1]}, {"h": [None]}]},
    {"nested": {"deeper": [{"anything-but": ["a", 1]}], "n": [{"numeric": ["=", 3.5]}]}},
    {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 20, "numRetries": 3,
                                            "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
                                            "backoffFunction": "linear"},
              "disableSubscriptionOverrides": False, "defaultThrottlePolicy": {"maxReceivesPerSecond": 1},
              "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}},
    {"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 5, "numRetries": 2},
     "throttlePolicy": {"maxReceivesPerSecond": 2}, "requestPolicy": {"headerContentType": "application/json"}},
    {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"},
    {"PointType": "Timestamp", "StartingPoint": "2020-01-01T00:00:00.000Z", "EndingPoint": "2030-01-01T00:00:00Z"},
    {"MessageRetentionPeriod": "30"},
    {"Name": "p", "Description": "d", "Version": "2021-06-01", "Statement": [
        {"Sid": "a", "DataDirection": "Inbound", "Principal": ["*"],
         "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
         "Operation": {"Audit": {"SampleRate": "99", "FindingsDestination": {}}}},
        {"Sid": "b", "DataDirection": "Outbound", "Principal": ["*"],
         "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress"],
         "Operation": {"Deidentify": {"MaskConfig": {"MaskWithCharacter": "#"}}}},
    ]},
    {"default": "text", "sqs": "q", "email": "e", "http": "h", "GCM": "{\"notification\": {\"body\": 1}}",
     "APNS": "{\"aps\": {\"alert\": \"x\"}}", "sms": "s", "lambda": "l", "application": "a"},
]
# JSON nested past Python's recursion limit (and past the 1000 levels AWS's parser, Jackson, reads).
DEEP = "{\"a\":" * 2000 + "1" + "}" * 2000
DEEP_ARRAY = "[" * 2000 + "]" * 2000
PLATFORMS = ["GCM", "APNS", "APNS_SANDBOX", "ADM", "BAIDU", "MPNS", "WNS", "MACOS", "APNS_VOIP"]
PROTOCOLS = ["http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"]
DATA_TYPES = ["String", "Number", "Binary", "String.Array", "String.x", "Number.float", "Binary.é", "Strin"]


@dataclass
class World:
    """The resources every operation's variants may name."""

    topic: str
    fifo: str
    subscription: str
    pending: str
    fifo_subscription: str
    token: str
    application: str
    endpoint: str
    device_token: str = "device-token-1"
    phone: str = "+15555550100"
    label: str = "fuzz-label"
    receiver_url: str = ""
    queue: str = f"arn:aws:sqs:{REGION}:{ACCOUNT}:fuzz-queue"


class Fuzzer(Generator):
    """Values of the model's shapes in one ``style``, with members the world can name given real values.

    Styles: ``random`` (the protocol tests' generator), ``empty``, ``huge`` (10 KB), ``unicode``,
    ``numbers`` (extreme numbers, number-like text), ``types`` (values of the wrong wire type where
    botocore's serializer lets them through), ``json`` (JSON documents for every text), ``deep`` (random
    text, but every JSON member nested 2000 levels deep).
    """

    def __init__(self, seed: str, style: str, operation: str, world: World | None) -> None:
        super().__init__(seed, timestamp_ms=False)
        self.style = style
        self.operation = operation
        self.world = world

    def request(self, required_only: bool = False, drop: str | None = None) -> dict[str, Any]:
        shape = MODEL.operation_model(self.operation).input_shape
        if shape is None:
            return {}
        params: dict[str, Any] = {}
        for name, member in shape.members.items():
            if name == drop or (required_only and name not in shape.required_members):
                continue
            hint = self._hint(name)
            params[name] = hint() if hint is not None else self.value(member, 1)
        if self.operation == "Publish" and self.world is not None and self.random.random() < 0.85:
            # Publish takes one destination: keep one, so that the rest of the request is read.
            keep = self.random.choice(["TopicArn", "TopicArn", "TargetArn", "PhoneNumber"])
            for target in ("TopicArn", "TargetArn", "PhoneNumber"):
                if target != keep:
                    params.pop(target, None)
        return params

    # --- leaves in the chosen style ----------------------------------------------------------------

    def _text(self, shape: Shape) -> Any:
        style = self.style
        if style == "empty":
            return ""
        if style == "huge":
            return "x" * HUGE if self.random.random() < 0.5 else "🙂" * (HUGE // 4)
        if style == "unicode":
            return "".join(self.random.choice(UNICODE) for _ in range(self.random.randint(1, 8)))
        if style == "numbers":
            return self.random.choice(["-1", "0", "1e400", "NaN", "-0", "99999999999999999999", "0x10", "1.5", " 7"])
        if style == "json":
            return json.dumps(self.document())
        if style == "types" and self.random.random() < 0.6:
            return self.random.choice([12345, -1, ["a", "b"], True, 1.5, b"bytes"])
        return super()._text(shape)

    def _string(self, shape: Shape, depth: int) -> Any:
        if shape.enum and self.style == "random":
            return self.random.choice(shape.enum)
        return self._text(shape)

    def _integer(self, shape: Shape, depth: int) -> Any:
        if self.style == "numbers":
            return self.random.choice([-1, 0, 2**31, 2**63, -(2**63)])
        if self.style == "types":
            return self.random.choice(["abc", "", "1.5", True])
        return super()._integer(shape, depth)

    def _boolean(self, shape: Shape, depth: int) -> Any:
        if self.style == "types":
            return self.random.choice(["maybe", 2, ""])
        return super()._boolean(shape, depth)

    def _list(self, shape: Shape, depth: int) -> Any:
        if self.style == "types" and self.random.random() < 0.3:
            return "not-a-list"
        if self.style == "empty":
            return []
        if self.style == "huge" and depth <= 1:
            return [self.value(shape.member, depth + 1) for _ in range(self.random.choice([11, 51, 101]))]
        return super()._list(shape, depth)

    def _map(self, shape: Shape, depth: int) -> Any:
        if self.style == "empty":
            return {}
        # Keys stay text whatever the style: botocore cannot serialize a map of other keys.
        key = super()._text if self.style == "types" else self._text
        return {key(shape.key): self.value(shape.value, depth + 1) for _ in range(self.random.randint(1, 3))}

    # --- JSON documents of AWS's keys with values of any type --------------------------------------

    def document(self, depth: int = 0) -> Any:
        roll = self.random.random()
        if depth > 4 or roll < 0.35:
            return self.random.choice([
                None, True, False, 0, -1, 1.5, 10**20, -(10**30), 1e300, "", "x", "*", "arn:aws:sns:us-east-1:1:t",
                ">", "<=", "=", "🙂", [], {}, "1", "numeric", "Allow",
            ])
        if roll < 0.55:
            return [self.document(depth + 1) for _ in range(self.random.randint(0, 3))]
        return {self.random.choice(JSON_KEYS): self.document(depth + 1) for _ in range(self.random.randint(1, 4))}

    def json_text(self) -> str:
        """A document, mostly valid JSON: one of SNS's own documents with parts swapped for values of any
        type, a random document, or something broken, deep or odd at the top."""
        if self.style == "deep":
            return self.random.choice([DEEP, DEEP_ARRAY])
        roll = self.random.random()
        if roll < 0.08:
            return self.random.choice(["{", "[1,", "{\"a\":}", "nul", "{'a': 1}", "\"\\ud800\"", "NaN", "[" * 600])
        if roll < 0.12:
            depth = self.random.choice([50, 200, 2000])
            return "{\"a\":" * depth + "1" + "}" * depth
        if roll < 0.75:
            return json.dumps(self.mutate(self.random.choice(DOCUMENTS)))
        return json.dumps(self.document())

    def mutate(self, template: Any) -> Any:
        """``template`` with about one node in five replaced by a random document."""
        if self.random.random() < 0.2:
            return self.document(2)
        if isinstance(template, dict):
            return {key: self.mutate(value) for key, value in template.items() if self.random.random() < 0.9}
        if isinstance(template, list):
            return [self.mutate(item) for item in template]
        return template

    # --- members the world names ----------------------------------------------------------------------

    def _hint(self, member: str) -> Callable[[], Any] | None:
        world, pick = self.world, self.random.choice
        if world is None:
            return None
        op = self.operation
        hints: dict[str, Callable[[], Any]] = {
            "TopicArn": lambda: pick([world.topic, world.fifo]),
            "ResourceArn": lambda: pick([world.topic, world.fifo, world.application]),
            "SubscriptionArn": lambda: pick([world.subscription, world.pending, world.fifo_subscription]),
            "EndpointArn": lambda: world.endpoint,
            "TargetArn": lambda: pick([world.endpoint, world.topic]),
            "PlatformApplicationArn": lambda: world.application,
            "Label": lambda: pick([world.label, "other-label"]),
            "AWSAccountId": lambda: pick([[OTHER_ACCOUNT], [ACCOUNT, "*"], ["12"]]),
            "ActionName": lambda: pick([["Publish"], ["Subscribe", "GetTopicAttributes"], ["*"], ["Nope"]]),
            "PhoneNumber": lambda: pick([world.phone, "+15555550199", self._text(_STRING)]),
            "phoneNumber": lambda: pick([world.phone, "+15555550199", "+1", self._text(_STRING)]),
            "OneTimePassword": lambda: pick(["123456", "000000", self._text(_STRING)]),
            "Platform": lambda: pick(PLATFORMS + [self._text(_STRING)]),
            "Protocol": lambda: pick(PROTOCOLS + [self._text(_STRING)]),
            "Endpoint": lambda: pick([
                world.receiver_url, world.queue, "user@example.com", world.endpoint, world.phone,
                f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", self._text(_STRING),
            ]),
            "AttributeName": lambda: pick(ATTRIBUTE_NAMES[op]) if self.random.random() < 0.9 else self._text(_STRING),
            "AttributeValue": self._attribute_value,
            "Attributes": lambda: {pick(ATTRIBUTE_NAMES[op]): self._attribute_value() for _ in range(3)},
            "attributes": (lambda: {pick(SMS_ATTRIBUTES): self._attribute_value() for _ in range(3)})
            if op == "SetSMSAttributes" else (lambda: [pick(SMS_ATTRIBUTES), self._text(_STRING)]),
            "DataProtectionPolicy": self.json_text,
            "Message": lambda: pick([self.json_text(), self._text(_STRING)]),
            "MessageStructure": lambda: pick(["json", self._text(_STRING)]),
            "MessageAttributes": self._message_attributes,
            "PublishBatchRequestEntries": self._entries,
            "Tags": lambda: [{"Key": pick(["k", self._text(_STRING)]), "Value": self._text(_STRING)}
                             for _ in range(self.random.randint(0, 3))],
            "TagKeys": lambda: pick([["k"], [self._text(_STRING)], []]),
        }
        if op == "CreateTopic":
            hints["Name"] = lambda: pick(["fuzz", "fuzz.fifo", "fresh", self._text(_STRING)])
        elif op == "CreatePlatformApplication":
            hints["Name"] = lambda: pick(["fuzz-app", "fresh-app", self._text(_STRING)])
        if op == "ConfirmSubscription":
            hints["Token"] = lambda: pick([world.token, self._text(_STRING)])
        elif op == "CreatePlatformEndpoint":
            hints["Token"] = lambda: pick([world.device_token, self._text(_STRING)])
        if op in ("Publish", "PublishBatch") and self.random.random() < 0.5:
            hints["TopicArn"] = lambda: world.topic if self.random.random() < 0.5 else world.fifo
        return hints.get(member)

    def _attribute_value(self) -> Any:
        if self.style == "deep":
            return self.json_text()
        return self.random.choice([
            self.json_text, self.json_text, lambda: self._text(_STRING),
            lambda: self.random.choice(["true", "false", "1", "-1", "2", "", "Active", "Topic", "MessageBody"]),
        ])()

    def _message_attributes(self) -> dict[str, Any]:
        result = {}
        for _ in range(self.random.randint(1, 3)):
            data_type = self.random.choice(DATA_TYPES + [self._text(_STRING)])
            value: dict[str, Any] = {"DataType": data_type}
            if self.random.random() < 0.7:
                value["StringValue"] = self.random.choice([self.json_text(), self._text(_STRING), "1e200", "[1,[2]]"])
            if self.random.random() < 0.4:
                value["BinaryValue"] = bytes(self.random.randrange(256) for _ in range(self.random.randint(0, 8)))
            name = self.random.choice(["a", "AWS.SNS.MOBILE.x", "AWS.SNS.SMS.SMSType", self._text(_STRING)])
            result[name] = value
        return result

    def _entries(self) -> list[dict[str, Any]]:
        shape = MODEL.shape_for("PublishBatchRequestEntry")
        entries = []
        for index in range(self.random.choice([0, 1, 2, 11])):
            entry = {name: self.value(member, 2) for name, member in shape.members.items()
                     if name in shape.required_members or self.random.random() < 0.5}
            entry["Id"] = self.random.choice([f"e{index}", "e0", self._text(_STRING)])
            if self.random.random() < 0.5:
                entry["MessageAttributes"] = self._message_attributes()
            entries.append(entry)
        return entries


_STRING = MODEL.shape_for("String")


# World variants per rich operation; SNS_FUZZ_SEEDS=1000 makes a deeper (slower) search.
SEEDS = int(os.environ.get("SNS_FUZZ_SEEDS", "30"))
# The operations that read documents and many members: more seeds each.
RICH = frozenset({
    "Publish", "PublishBatch", "Subscribe", "SetSubscriptionAttributes", "SetTopicAttributes", "CreateTopic",
    "ConfirmSubscription", "PutDataProtectionPolicy", "AddPermission", "CreatePlatformApplication",
    "SetPlatformApplicationAttributes", "CreatePlatformEndpoint", "SetEndpointAttributes", "SetSMSAttributes",
})


def variants(operation: str) -> Iterator[tuple[str, Callable[[World], dict[str, Any]]]]:
    """(name, request builder) of every variant for ``operation``, seeded by its name."""
    shape = MODEL.operation_model(operation).input_shape
    required = list(shape.required_members) if shape is not None else []

    def build(style: str, seed: int, *, world: bool = True, required_only: bool = False,
              drop: str | None = None) -> Callable[[World], dict[str, Any]]:
        def make(w: World) -> dict[str, Any]:
            fuzzer = Fuzzer(f"{operation}/{style}/{seed}/{drop}", style, operation, w if world else None)
            return fuzzer.request(required_only=required_only, drop=drop)
        return make

    yield "model-all", build("random", 0, world=False)
    yield "model-required", build("random", 0, world=False, required_only=True)
    for member in required:
        yield f"missing-{member}", build("random", 1, drop=member)
    for style in ("empty", "huge", "unicode", "numbers", "types", "json"):
        yield style, build(style, 0, world=False)
    for seed in range(SEEDS if operation in RICH else 6):
        yield f"world-{seed}", build("random", seed)
    for seed in range(4 if operation in RICH else 0):
        yield f"world-deep-{seed}", build("deep", seed)
    yield "world-types", build("types", 0)
    yield "world-unicode", build("unicode", 0)
    yield "world-huge", build("huge", 0)
    yield "foreign", lambda w: foreign(operation, w)


def foreign(operation: str, world: World) -> dict[str, Any]:
    """The world's requests with every ARN moved to another account, region or partition."""
    rng = random.Random(f"{operation}/foreign")
    params = Fuzzer(f"{operation}/foreign", "random", operation, world).request()
    for name, value in params.items():
        if isinstance(value, str) and value.startswith("arn:"):
            parts = value.split(":")
            moved = rng.choice([(4, OTHER_ACCOUNT), (3, "eu-west-1"), (1, "aws-cn"), (4, "12345"), (3, "")])
            parts[moved[0]] = moved[1]
            params[name] = ":".join(parts)
    return params


# Requests that once crashed the server (a RecursionError out of json.loads on nesting deeper than
# Python's stack, a 500 where each attribute answers its "not valid JSON" refusal), with the answer
# they get now: (operation, params with "{topic}" / "{subscription}" for the world's ARNs, code, message).
REGRESSIONS: list[tuple[str, dict[str, Any], str, str]] = [
    ("Publish", {"TopicArn": "{topic}", "Message": DEEP, "MessageStructure": "json"},
     "InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse"),
    ("Publish", {"TopicArn": "{topic}", "Message": "m",
                 "MessageAttributes": {"a": {"DataType": "String.Array", "StringValue": DEEP_ARRAY}}},
     "InvalidParameter", "Invalid parameter: Message attribute 'a' of type String.Array must be a JSON array of "
                         "strings, numbers, booleans or nulls"),
    ("PutDataProtectionPolicy", {"ResourceArn": "{topic}", "DataProtectionPolicy": DEEP},
     "InvalidParameter", "Invalid parameter: DataProtectionPolicy"),
    ("CreateTopic", {"Name": "deep", "DataProtectionPolicy": DEEP},
     "InvalidParameter", "Invalid parameter: Attributes Reason: DataProtectionPolicy"),
    ("CreateTopic", {"Name": "deep", "Attributes": {"Policy": DEEP}},
     "InvalidParameter", "Invalid parameter: Attributes Reason: Policy Error: null"),
    ("CreateTopic", {"Name": "deep", "Attributes": {"DeliveryPolicy": DEEP}},
     "InvalidParameter", "Invalid parameter: Attributes Reason: DeliveryPolicy: Invalid JSON"),
    ("SetTopicAttributes", {"TopicArn": "{topic}", "AttributeName": "Policy", "AttributeValue": DEEP},
     "InvalidParameter", "Invalid parameter: Policy Error: null"),
    ("SetTopicAttributes", {"TopicArn": "{topic}", "AttributeName": "DeliveryPolicy", "AttributeValue": DEEP},
     "InvalidParameter", "Invalid parameter: DeliveryPolicy: Invalid JSON"),
    ("SetTopicAttributes", {"TopicArn": "{topic}", "AttributeName": "DataProtectionPolicy", "AttributeValue": DEEP},
     "InvalidParameter", "Invalid parameter: DataProtectionPolicy"),
    ("SetSubscriptionAttributes",
     {"SubscriptionArn": "{subscription}", "AttributeName": "DeliveryPolicy", "AttributeValue": DEEP},
     "InvalidParameter", "Invalid parameter: DeliveryPolicy: Invalid JSON"),
    ("SetSubscriptionAttributes",
     {"SubscriptionArn": "{subscription}", "AttributeName": "RedrivePolicy", "AttributeValue": DEEP},
     "InvalidParameter", "Invalid parameter: RedrivePolicy: failed to parse JSON."),
    ("Subscribe", {"TopicArn": "{topic}", "Protocol": "sqs", "Endpoint": f"arn:aws:sqs:{REGION}:{ACCOUNT}:other",
                   "Attributes": {"DeliveryPolicy": DEEP}},
     "InvalidParameter", "Invalid parameter: Attributes Reason: DeliveryPolicy: Invalid JSON"),
    ("Subscribe", {"TopicArn": "{topic}", "Protocol": "sqs", "Endpoint": f"arn:aws:sqs:{REGION}:{ACCOUNT}:other",
                   "Attributes": {"RedrivePolicy": DEEP}},
     "InvalidParameter", "Invalid parameter: Attributes Reason: RedrivePolicy: failed to parse JSON."),
]


def allowed_codes(operation: OperationModel) -> set[str]:
    codes = {shape.metadata.get("error", {}).get("code", shape.name) for shape in operation.error_shapes}
    return (codes | COMMON_CODES) - {"InternalError"}


def fingerprint(provider: Any) -> str:
    """Everything a request can change in the provider's stores, as text."""
    state = []
    for key, store in sorted(provider._stores.items()):
        with store.lock:
            topics = {
                arn: (topic.attributes, topic.tags, topic.data_protection_policy, list(topic.subscriptions),
                      topic.by_endpoint, sorted(topic.tokens), list(topic.dedup), topic.sequence, len(topic.archive),
                      len(topic.unsubscribed), sorted(topic.unfiltered))
                for arn, topic in store.topics.items()
            }
            subscriptions = {
                arn: (s.attributes, s.confirmed, s.token, s.topic_arn, s.replay_status)
                for arn, s in store.subscriptions.items()
            }
            applications = {arn: (a.attributes, list(a.endpoints), a.by_token) for arn, a in store.applications.items()}
            endpoints = {arn: e.attributes for arn, e in store.endpoints.items()}
            sms = store.sms
            # A wrong one-time password still counts as a verification attempt (its time starts the
            # 24 hours before the number can be deleted): AWS's documented exception to "no change".
            sandbox = {number: {k: v for k, v in entry.items() if k != "attempt_at"}
                       for number, entry in sms.sandbox_numbers.items()}
            entry = (topics, subscriptions, applications, endpoints, sms.attributes, sms.opted_out,
                     sandbox, sorted(store.owned))
        if any(entry):
            state.append(repr((key, entry)))
    return "\n".join(state)


@pytest.fixture
def provider(emulator_url: str, emulator_reset: None) -> Any:
    """The live SnsProvider behind the in-process server, whose stores ``fingerprint`` reads."""
    app = getattr(emulator_url, "app", None)
    if app is None:
        pytest.skip("needs the in-process server")
    return app.registry.get("sns")


@pytest.fixture(scope="module")
def fuzz_receiver() -> Iterator[Receiver]:
    """One HTTP endpoint for the module's pending subscriptions (a receiver takes half a second to stop)."""
    with receiver() as state:
        yield state


@pytest.fixture
def world(aws_client: Callable[..., Any], provider: Any, fuzz_receiver: Receiver) -> World:
    sns = aws_client("sns")
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:fuzz-queue"
    topic = sns.create_topic(Name="fuzz", Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
    fifo = sns.create_topic(Name="fuzz.fifo", Attributes={
        "FifoTopic": "true", "ArchivePolicy": json.dumps({"MessageRetentionPeriod": "30"})})["TopicArn"]
    fifo_subscription = sns.subscribe(TopicArn=fifo, Protocol="sqs", Endpoint=f"{queue}.fifo",
                                      ReturnSubscriptionArn=True)["SubscriptionArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue,
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
    pending = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=fuzz_receiver.url,
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.add_permission(TopicArn=topic, Label="fuzz-label", AWSAccountId=[OTHER_ACCOUNT], ActionName=["Publish"])
    application = sns.create_platform_application(
        Name="fuzz-app", Platform="GCM", Attributes={"PlatformCredential": "api-key"})["PlatformApplicationArn"]
    endpoint = sns.create_platform_endpoint(PlatformApplicationArn=application, Token="device-token-1")["EndpointArn"]
    sns.create_sms_sandbox_phone_number(PhoneNumber="+15555550100")
    store = provider._stores.get(ACCOUNT, REGION)
    token = next(iter(store.topics[topic].tokens))
    return World(topic=topic, fifo=fifo, subscription=subscription, pending=pending,
                 fifo_subscription=fifo_subscription, token=token,
                 application=application, endpoint=endpoint, receiver_url=fuzz_receiver.url, queue=queue)


def send(client: Any, operation: OperationModel, params: dict[str, Any]) -> tuple[str, int] | None:
    """(error code, HTTP status) of a refusal, None for a success; a client-side failure to build the
    request (a wrong type botocore cannot serialize) is None too, since nothing reached the server."""
    method = getattr(client, botocore.xform_name(operation.name))
    try:
        method(**params)
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]
    except (AttributeError, TypeError):
        return None
    return None


def check(client: Any, provider: Any, caplog: pytest.LogCaptureFixture, operation_name: str,
          cases: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Sends every case; returns what went wrong, one line each (empty when all is well)."""
    operation = MODEL.operation_model(operation_name)
    codes = allowed_codes(operation)
    problems = []
    for name, params in cases:
        before = fingerprint(provider)
        caplog.clear()
        outcome = send(client, operation, params)
        crashes = [r for r in caplog.records if r.name.startswith("emulator") and r.levelno >= logging.ERROR]
        shown = _short(params)
        if crashes:
            trace = (crashes[0].exc_text or "").splitlines()
            problems.append(f"{name}: logged {crashes[0].getMessage()!r} ({' | '.join(trace[-3:])}) for {shown}")
        if outcome is None:
            continue
        code, status = outcome
        if status >= 500:
            problems.append(f"{name}: HTTP {status} {code} for {shown}")
        elif code not in codes:
            problems.append(f"{name}: code {code} not listed for {operation_name} for {shown}")
        elif fingerprint(provider) != before:
            problems.append(f"{name}: refused with {code} but changed state, for {shown}")
    return problems


def _short(params: dict[str, Any]) -> str:
    return repr({name: value if len(repr(value)) < 200 else repr(value)[:200] + "..."
                 for name, value in params.items()})


@pytest.mark.parametrize("operation_name", OPERATIONS)
def test_no_request_built_from_the_model_crashes_the_server(
    aws_client: Callable[..., Any], provider: Any, world: World, caplog: pytest.LogCaptureFixture,
    operation_name: str,
) -> None:
    caplog.set_level(logging.ERROR, logger="emulator")
    client = aws_client("sns", validate=False)
    cases = [(name, build(world)) for name, build in variants(operation_name)]
    assert check(client, provider, caplog, operation_name, cases) == []


@pytest.mark.parametrize(("operation_name", "params", "code", "message"), REGRESSIONS,
                         ids=[f"{case[0]}-{index}" for index, case in enumerate(REGRESSIONS)])
def test_requests_that_once_crashed_the_server_are_refused_as_aws_refuses_them(
    aws_client: Callable[..., Any], provider: Any, world: World, caplog: pytest.LogCaptureFixture,
    operation_name: str, params: dict[str, Any], code: str, message: str,
) -> None:
    caplog.set_level(logging.ERROR, logger="emulator")
    text = json.dumps(params).replace("{topic}", world.topic).replace("{subscription}", world.subscription)
    filled = json.loads(text)
    client = aws_client("sns", validate=False)
    before = fingerprint(provider)
    with pytest.raises(ClientError) as excinfo:
        getattr(client, botocore.xform_name(operation_name))(**filled)
    response = excinfo.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]) \
        == (code, 400, message)
    assert fingerprint(provider) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_checks_see_a_crash_and_a_refusal_that_changed_state(
    aws_client: Callable[..., Any], provider: Any, world: World, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The harness itself can fail: an operation that raises is reported with its 500 and its logged
    traceback, and one that changes the store before refusing is reported too."""
    from emulator.services.sns.common import invalid

    caplog.set_level(logging.ERROR, logger="emulator")

    def broken(ctx: Any, **kwargs: Any) -> None:
        raise KeyError("boom")

    def careless(ctx: Any, **kwargs: Any) -> None:
        provider._stores.get(ACCOUNT, REGION).topics[world.topic].tags["leaked"] = "yes"
        raise invalid("NextToken")

    client = aws_client("sns", validate=False)
    monkeypatch.setitem(provider._handlers, "ListTopics", broken)
    problems = check(client, provider, caplog, "ListTopics", [("broken", {})])
    assert any("HTTP 500 InternalError" in problem for problem in problems)
    assert any("internal error in sns ListTopics" in problem for problem in problems)
    monkeypatch.setitem(provider._handlers, "ListTopics", careless)
    assert check(client, provider, caplog, "ListTopics", [("careless", {})]) == [
        "careless: refused with InvalidParameter but changed state, for {}"
    ]
