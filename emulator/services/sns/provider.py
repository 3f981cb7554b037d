"""The Amazon SNS provider: every operation of the model, one method each.

The operations live in mixins by job (topics, tagging, subscriptions, publish, platform, sms); this
class joins them with the store of each (account, region), the inspection endpoints and the
provider's life cycle. Deliveries leave through ``emulator.delivery`` (``self.registry.delivery``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.services.base import Provider
from emulator.services.sns.admin import AdminMixin
from emulator.services.sns.models import SnsStore
from emulator.services.sns.platform import PlatformMixin
from emulator.services.sns.publish import PublishMixin
from emulator.services.sns.sms import SmsMixin
from emulator.services.sns.subscriptions import SubscriptionsMixin
from emulator.services.sns.tagging import TaggingMixin
from emulator.services.sns.topics import TopicsMixin
from emulator.store import Stores

if TYPE_CHECKING:
    from emulator.config import Config
    from emulator.services import Registry


class SnsProvider(
    TopicsMixin, TaggingMixin, SubscriptionsMixin, PublishMixin, PlatformMixin, SmsMixin, AdminMixin, Provider
):
    service = "sns"

    def __init__(self, config: Config, registry: Registry | None = None) -> None:
        super().__init__(config, registry)
        self._stores: Stores[SnsStore] = Stores(SnsStore)

    def reset(self) -> None:
        self._stores.reset()
