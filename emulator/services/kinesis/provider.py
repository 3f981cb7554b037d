"""The Kinesis Data Streams provider: every operation of the model, one method each.

The operations live in mixins by job (streams, records, resharding, tags, settings, consumers,
queues, channels); this
class joins them with the store of each (account, region) and the provider's life cycle, which
includes the sweeper that forgets expired records (expiry.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator import clock
from emulator.services.base import Provider
from emulator.services.kinesis.channels import ChannelsMixin
from emulator.services.kinesis.consumers import ConsumersMixin
from emulator.services.kinesis.expiry import Sweeper
from emulator.services.kinesis.models import KinesisStore
from emulator.services.kinesis.queues import QueuesMixin
from emulator.services.kinesis.records import RecordsMixin
from emulator.services.kinesis.resharding import ReshardingMixin
from emulator.services.kinesis.settings import SettingsMixin
from emulator.services.kinesis.streams import StreamsMixin
from emulator.services.kinesis.tagging import TaggingMixin
from emulator.store import Stores

if TYPE_CHECKING:
    from emulator.config import Config
    from emulator.services import Registry


class KinesisProvider(
    StreamsMixin,
    RecordsMixin,
    ReshardingMixin,
    TaggingMixin,
    SettingsMixin,
    ConsumersMixin,
    QueuesMixin,
    ChannelsMixin,
    Provider,
):
    service = "kinesis"

    def __init__(self, config: Config, registry: Registry | None = None) -> None:
        super().__init__(config, registry)
        self._stores: Stores[KinesisStore] = Stores(KinesisStore)
        self._closing = False
        self._sweeper = Sweeper(lambda: [store for _, store in self._stores.items()])
        clock.on_change(self._wake_all)

    def _wake_all(self) -> None:
        """Wakes every waiting subscription (records, the clock or shutdown may end its wait) and the
        sweeper (a move of the clock may have expired records)."""
        self._sweeper.poke()
        for _, store in self._stores.items():
            with store.lock:
                store.changed.notify_all()

    def reset(self) -> None:
        old = list(self._stores.items())
        self._stores.reset()
        for _, store in old:  # open subscriptions of the old state end
            with store.lock:
                store.streams.clear()
                store.changed.notify_all()

    def close(self) -> None:
        self._closing = True
        clock.remove_listener(self._wake_all)
        self._sweeper.stop()
        self._wake_all()
        self.reset()
