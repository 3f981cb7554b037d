"""The Amazon EventBridge provider: every operation of the model, one method each.

The operations live in mixins by job (buses, tagging, rules, targets, putevents, archives, replays,
schedules, endpoints, partners, connections, apidestinations); deliveries to the targets leave
through ``emulator.delivery`` (``dispatch.py``, and ``invocation.py`` for API destinations), with input
transformation in ``transform.py``. This class joins them with the store of each (account, region),
the inspection endpoints and the provider's life cycle (the scheduler of scheduled rules stops on
reset and close).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.services.base import Provider
from emulator.services.events.admin import AdminMixin
from emulator.services.events.apidestinations import ApiDestinationsMixin
from emulator.services.events.archives import ArchivesMixin
from emulator.services.events.buses import BusesMixin
from emulator.services.events.connections import ConnectionsMixin
from emulator.services.events.endpoints import EndpointsMixin
from emulator.services.events.models import EventsStore
from emulator.services.events.partners import PartnersMixin
from emulator.services.events.putevents import PutEventsMixin
from emulator.services.events.replays import ReplaysMixin
from emulator.services.events.rules import RulesMixin
from emulator.services.events.schedules import SchedulesMixin
from emulator.services.events.tagging import TaggingMixin
from emulator.services.events.targets import TargetsMixin
from emulator.store import Stores

if TYPE_CHECKING:
    from emulator.config import Config
    from emulator.services import Registry


class EventsProvider(BusesMixin, TaggingMixin, RulesMixin, TargetsMixin, PutEventsMixin, ArchivesMixin,
                     ReplaysMixin, SchedulesMixin, EndpointsMixin, PartnersMixin, ConnectionsMixin,
                     ApiDestinationsMixin, AdminMixin, Provider):
    service = "events"

    def __init__(self, config: Config, registry: Registry | None = None) -> None:
        super().__init__(config, registry)
        self._stores: Stores[EventsStore] = Stores(EventsStore)

    def reset(self) -> None:
        self._stop_schedules()  # first, so that no tick fires from the old state
        self._stores.reset()
