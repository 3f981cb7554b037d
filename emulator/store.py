"""Per-(account, region) state of each service.

A service's state for one account and region is one object with a ``lock``; every change happens
under it. ``Stores`` creates these objects on first use and forgets them all on reset.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Stores(Generic[T]):
    def __init__(self, factory: Callable[[str, str], T]) -> None:
        self._factory = factory
        self._stores: dict[tuple[str, str], T] = {}
        self._lock = threading.Lock()

    def get(self, account: str, region: str) -> T:
        key = (account, region)
        store = self._stores.get(key)
        if store is None:
            with self._lock:
                store = self._stores.get(key)
                if store is None:
                    store = self._factory(account, region)
                    self._stores[key] = store
        return store

    def items(self) -> Iterator[tuple[tuple[str, str], T]]:
        with self._lock:
            return iter(list(self._stores.items()))

    def reset(self) -> None:
        with self._lock:
            self._stores.clear()

    def __len__(self) -> int:
        return len(self._stores)
