"""SNS state of one account and region."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Topic:
    name: str
    arn: str
    attributes: dict[str, str] = field(default_factory=dict)


class SnsStore:
    def __init__(self, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self.lock = threading.RLock()
        self.topics: dict[str, Topic] = {}  # by ARN
