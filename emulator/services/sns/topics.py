"""(being written)"""

from __future__ import annotations

from emulator.services.sns.common import SnsBase


class TopicsMixin(SnsBase):
    pass
