"""The registry of service providers, imported lazily so that start-up stays fast."""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.config import Config
    from emulator.delivery import Dispatcher
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
        self._delivery: Dispatcher | None = None

    @property
    def delivery(self) -> Dispatcher:
        """The one outbound path (``emulator.delivery``), created with its threads on first use."""
        if self._delivery is None:
            with self._lock:
                if self._delivery is None:
                    from emulator.delivery import Dispatcher

                    self._delivery = Dispatcher(self)
        return self._delivery

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
        if self._delivery is not None:  # queued work and the log go first, so nothing is delivered from old state
            self._delivery.reset(service)
        for name, provider in self.loaded().items():
            if service is None or name == service:
                provider.reset()

    def close(self) -> None:
        if self._delivery is not None:
            self._delivery.close()
        for provider in self.loaded().values():
            provider.close()
