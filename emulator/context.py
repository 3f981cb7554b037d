"""What a provider knows about the request it serves."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

_RANDOM = uuid.uuid4().hex
_PREFIX = f"{_RANDOM[:8]}-{_RANDOM[8:12]}-{_RANDOM[12:16]}-{_RANDOM[16:20]}-"
_counter = itertools.count(1)


def new_request_id() -> str:
    """A request id shaped like AWS's (a UUID): a random prefix per process and a counter."""
    return f"{_PREFIX}{next(_counter) & 0xFFFFFFFFFFFF:012x}"


@dataclass(slots=True)
class RequestContext:
    service: str
    account: str
    region: str
    operation: str = ""
    request_id: str = field(default_factory=new_request_id)
    # The server's own URL as this client reached it (``--external-url`` wins), for links a service
    # hands out that point back at the emulator (SNS's SubscribeURL, UnsubscribeURL, SigningCertURL).
    base_url: str = ""
    # Whether the request carried SigV4 credentials (SNS lets an unsigned GET of an UnsubscribeURL
    # unsubscribe unless the subscription was confirmed with AuthenticateOnUnsubscribe).
    signed: bool = True


def partition_for(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
