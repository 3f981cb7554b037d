"""(being written)"""

from __future__ import annotations

from emulator.services.kinesis.common import KinesisBase


class ChannelsMixin(KinesisBase):
    pass
