"""Amazon SNS."""

from __future__ import annotations

from typing import Any

from emulator.context import RequestContext
from emulator.errors import error_class
from emulator.services.base import Provider
from emulator.services.pagination import InvalidToken, paginate
from emulator.services.sns.models import SnsStore
from emulator.store import Stores

InvalidParameterException = error_class("InvalidParameterException")

TOPICS_PAGE = 100  # ListTopics answers up to 100 topics a call


class SnsProvider(Provider):
    service = "sns"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stores: Stores[SnsStore] = Stores(SnsStore)

    def reset(self) -> None:
        self.stores.reset()

    def list_topics(self, ctx: RequestContext, *, next_token: str | None = None, **_: Any) -> dict[str, Any]:
        store = self.stores.get(ctx.account, ctx.region)
        with store.lock:
            arns = sorted(store.topics)
        try:
            page, token = paginate(arns, lambda arn: arn, next_token, TOPICS_PAGE, "topics")
        except InvalidToken:
            raise InvalidParameterException("Invalid parameter: NextToken") from None
        result: dict[str, Any] = {"Topics": [{"TopicArn": arn} for arn in page]}
        if token:
            result["NextToken"] = token
        return result
