"""What a provider knows about the request it serves."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from emulator import clock


_PREFIX = uuid.uuid4().hex[:20]
_counter = itertools.count(1)


def new_request_id() -> str:
    """A request id shaped like AWS's (a UUID): unique within the process and across restarts."""
    tail = f"{_PREFIX}{next(_counter) & 0xFFFFFFFFFFFF:012x}"
    return f"{tail[:8]}-{tail[8:12]}-{tail[12:16]}-{tail[16:20]}-{tail[20:]}"


@dataclass
class RequestContext:
    service: str
    account: str
    region: str
    operation: str = ""
    request_id: str = field(default_factory=new_request_id)
    protocol: str = ""
    received_at: float = field(default_factory=clock.now)

    def arn(self, service: str, resource: str) -> str:
        """An ARN in this request's partition, region and account."""
        return f"arn:{partition_for(self.region)}:{service}:{self.region}:{self.account}:{resource}"


def partition_for(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
