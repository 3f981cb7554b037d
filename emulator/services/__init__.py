"""The registry of service providers, imported lazily so that start-up stays fast."""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.config import Config
    from emulator.services.base import Provider

SERVICES: dict[str, str] = {
    "events": "emulator.services.events.provider:EventsProvider",
    "sns": "emulator.services.sns.provider:SnsProvider",
    "kinesis": "emulator.services.kinesis.provider:KinesisProvider",
}


class Registry:
    """One provider per service, created on first use."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._providers: dict[str, Provider] = {}
        self._lock = threading.Lock()

    def get(self, service: str) -> Provider:
        provider = self._providers.get(service)
        if provider is None:
            with self._lock:
                provider = self._providers.get(service)
                if provider is None:
                    module_name, class_name = SERVICES[service].split(":")
                    cls = getattr(importlib.import_module(module_name), class_name)
                    provider = cls(self.config, self)
                    self._providers[service] = provider
        return provider

    def loaded(self) -> dict[str, Provider]:
        return dict(self._providers)

    def reset(self, service: str | None = None) -> None:
        for name, provider in self.loaded().items():
            if service is None or name == service:
                provider.reset()

    def close(self) -> None:
        for provider in self.loaded().values():
            provider.close()
