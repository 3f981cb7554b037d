"""(being written)"""

from __future__ import annotations

from emulator.services.events.common import EventsBase


class TaggingMixin(EventsBase):
    pass
