"""The base of every service provider.

A provider has one method per operation, named after it in snake_case (``PutRecord`` ->
``put_record``). It takes the request context and the request's members as keyword arguments in
snake_case, already parsed and validated against the model, and returns a dict keyed exactly by the
output shape's member names. The dispatch table is built from the model once, so an operation the
provider lacks answers ``NotImplementedOperation`` (HTTP 501), never a silent success.

A request with ``DryRun: true`` reaches only a method that declares a ``dry_run`` parameter (and so
promises to check without acting); any other answers 501 rather than perform what was only to be
checked, since a ``**_`` catch-all would otherwise swallow the flag.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator import specs
from emulator.errors import NotImplementedOperation

if TYPE_CHECKING:
    from emulator.config import Config
    from emulator.context import RequestContext
    from emulator.services import Registry

Handler = Callable[..., dict[str, Any] | None]


class Provider:
    service: str = ""

    def __init__(self, config: Config, registry: Registry | None = None) -> None:
        self.config = config
        self.registry = registry
        self.spec = specs.load(self.service)
        self._handlers: dict[str, Handler | None] = {
            name: getattr(self, specs.snake_case(name), None) for name in self.spec.operation_names
        }

    def dispatch(self, ctx: RequestContext, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = self._handlers.get(operation)
        if handler is None:
            raise NotImplementedOperation(self.service, operation)
        if params.get("DryRun") is True and not _honours_dry_run(handler):
            raise NotImplementedOperation(self.service, f"{operation} with DryRun")
        result = handler(ctx, **{specs.snake_case(key): value for key, value in params.items()})
        return result or {}

    def admin(self, method: str, path: str, args: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        """Answers ``/_emulator/<service>/<path>`` (the service's inspection endpoints) as (status, JSON).

        Runs on the event loop like any request: it must be quick. A service without endpoints has none.
        """
        return 404, {"error": f"no admin endpoint /_emulator/{self.service}/{path}"}

    def reset(self) -> None:
        """Forgets all state. Subclasses reset their stores and stop their background work."""

    def close(self) -> None:
        """Stops background work at shutdown."""
        self.reset()

    def health(self) -> str:
        return "running"


def _honours_dry_run(handler: Handler) -> bool:
    """Whether ``handler`` names ``dry_run`` among its parameters."""
    return _declares_dry_run(getattr(handler, "__func__", handler))


@functools.cache
def _declares_dry_run(function: Callable[..., Any]) -> bool:
    """Cached by the plain function, not the bound method, so that no provider is kept alive by it."""
    return "dry_run" in inspect.signature(function).parameters
