"""What Subscribe accepts as the endpoint of each protocol, and which subscriptions must be confirmed.

Each protocol names its endpoint its own way: a URL of its scheme (http, https), an email address
(email, email-json), an E.164 phone number (sms), or the ARN of a resource of the right service (sqs,
lambda, firehose, application). SNS rejects the wrong kind with a message per protocol, checked here
before anything is stored.

Confirmation (AWS's Subscribe reference): an http/s or email endpoint must confirm, and so must an
endpoint of another account than the subscriber's (an SQS queue or a Lambda function that the topic's
owner subscribes for someone else). Everything else is confirmed at once.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from emulator.services.sns.common import InvalidParameter, invalid

PROTOCOLS = ("http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose")
# Protocols whose endpoint must confirm whoever subscribes it.
CONFIRMING = frozenset({"http", "https", "email", "email-json"})
# Protocols whose endpoint is an ARN in some account: confirmation when that is not the subscriber's.
ACCOUNT_ENDPOINTS = frozenset({"sqs", "lambda"})
# RawMessageDelivery (AWS: "Amazon SQS, HTTP/S and Firehose endpoints").
RAW_PROTOCOLS = frozenset({"http", "https", "sqs", "firehose"})
# FIFO topics deliver to SQS queues only.
FIFO_PROTOCOLS = frozenset({"sqs"})

_PARTITION = r"aws(?:-[a-z]+)*"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]+"
_ACCOUNT = r"[0-9]{12}"
_SQS = re.compile(rf"^arn:{_PARTITION}:sqs:{_REGION}:({_ACCOUNT}):([A-Za-z0-9_-]{{1,80}}(?:\.fifo)?)$")
_LAMBDA = re.compile(
    rf"^arn:{_PARTITION}:lambda:{_REGION}:({_ACCOUNT}):function:[A-Za-z0-9_-]{{1,64}}(?::[A-Za-z0-9$_-]{{1,128}})?$"
)
_FIREHOSE = re.compile(rf"^arn:{_PARTITION}:firehose:{_REGION}:({_ACCOUNT}):deliverystream/[A-Za-z0-9_.-]{{1,64}}$")
_APPLICATION = re.compile(
    rf"^arn:{_PARTITION}:sns:{_REGION}:({_ACCOUNT}):endpoint/[A-Za-z_]+/[A-Za-z0-9_.-]{{1,256}}/[A-Za-z0-9-]+$"
)
_IAM_ROLE = re.compile(rf"^arn:{_PARTITION}:iam::{_ACCOUNT}:role/[A-Za-z0-9+=,.@_/-]{{1,512}}$")
# local@domain: no spaces, one @, a dot in the domain; what a mail server would take, not RFC 5322.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


def validate(protocol: str, endpoint: str | None, topic_fifo: bool) -> str:
    """The endpoint Subscribe stores for ``protocol``; ``InvalidParameter`` with AWS's message else."""
    text = endpoint or ""
    if protocol in ("http", "https"):
        parts = urlsplit(text)
        if parts.scheme.lower() != protocol:
            raise invalid("Endpoint must match the specified protocol")
        if not parts.hostname:
            raise invalid("Endpoint")
    elif protocol in ("email", "email-json"):
        if not _EMAIL.match(text):
            raise invalid("Email address")
    elif protocol == "sms":
        if not _E164.match(text):
            raise InvalidParameter(f"Invalid SMS endpoint: {text}")
    elif protocol == "sqs":
        match = _SQS.match(text)
        if match is None:
            raise invalid("SQS endpoint ARN")
        if match.group(2).endswith(".fifo") and not topic_fifo:
            raise invalid(
                "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics"
            )
    elif protocol == "lambda":
        if not _LAMBDA.match(text):
            raise invalid("Lambda endpoint ARN")
    elif protocol == "firehose":
        if not _FIREHOSE.match(text):
            raise invalid("Firehose endpoint ARN")
    elif protocol == "application":
        if not _APPLICATION.match(text):
            raise invalid("Application endpoint ARN")
    return text


def endpoint_account(protocol: str, endpoint: str) -> str | None:
    """The account that owns an ARN endpoint of ``protocol`` (sqs, lambda), else None."""
    pattern = {"sqs": _SQS, "lambda": _LAMBDA}.get(protocol)
    match = pattern.match(endpoint) if pattern is not None else None
    return match.group(1) if match else None


def needs_confirmation(protocol: str, endpoint: str, subscriber: str) -> bool:
    """Must the endpoint confirm? http/s and email always; an SQS queue or function of another account."""
    if protocol in CONFIRMING:
        return True
    owner = endpoint_account(protocol, endpoint) if protocol in ACCOUNT_ENDPOINTS else None
    return owner is not None and owner != subscriber


def is_sqs_arn(text: str) -> bool:
    return _SQS.match(text or "") is not None


def is_role_arn(text: str) -> bool:
    return _IAM_ROLE.match(text or "") is not None
