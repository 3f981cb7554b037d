"""EventBridge state of one account and region."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from emulator import clock
from emulator.context import partition_for


@dataclass
class EventBus:
    name: str
    arn: str
    description: str | None = None
    policy: str | None = None
    created: float = field(default_factory=clock.now)
    modified: float = field(default_factory=clock.now)


class EventsStore:
    """Buses of one account and region; the ``default`` bus always exists."""

    def __init__(self, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self.lock = threading.RLock()
        self.buses: dict[str, EventBus] = {}
        self.buses["default"] = EventBus("default", self.bus_arn("default"))

    def bus_arn(self, name: str) -> str:
        return f"arn:{partition_for(self.region)}:events:{self.region}:{self.account}:event-bus/{name}"
