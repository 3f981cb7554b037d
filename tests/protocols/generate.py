"""Values generated from botocore's shapes, for the protocol round-trip tests.

Every member of every structure is filled (to a bounded depth), lists and maps get one to three
items, strings mix ASCII, unicode and XML-special characters. Seeded, so a failure repeats.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.model import Shape

ALPHABET = "abcXYZ019 _-./:<>&'\"é漢字🙂\t\n"
MAX_DEPTH = 6


class Generator:
    def __init__(self, seed: str, *, timestamp_ms: bool) -> None:
        self.random = random.Random(seed)
        self.timestamp_ms = timestamp_ms

    def value(self, shape: Shape, depth: int = 0) -> Any:
        kind = shape.type_name
        method = getattr(self, f"_{kind}")
        return method(shape, depth)

    def _structure(self, shape: Shape, depth: int) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            return {}
        return {
            name: self.value(member, depth + 1)
            for name, member in shape.members.items()
            if not member.serialization.get("eventstream") and not member.serialization.get("location")
        }

    def _list(self, shape: Shape, depth: int) -> list[Any]:
        count = 1 if depth > MAX_DEPTH else self.random.randint(1, 3)
        return [self.value(shape.member, depth + 1) for _ in range(count)]

    def _map(self, shape: Shape, depth: int) -> dict[Any, Any]:
        count = 1 if depth > MAX_DEPTH else self.random.randint(1, 3)
        return {self._text(shape.key): self.value(shape.value, depth + 1) for _ in range(count)}

    def _string(self, shape: Shape, depth: int) -> str:
        enum = shape.enum
        if enum:
            return self.random.choice(enum)
        return self._text(shape)

    def _text(self, shape: Shape) -> str:
        size = self.random.randint(1, 12)
        return "".join(self.random.choice(ALPHABET) for _ in range(size)).strip() or "x"

    def _integer(self, shape: Shape, depth: int) -> int:
        return self.random.randint(-(2**31), 2**31 - 1)

    def _long(self, shape: Shape, depth: int) -> int:
        return self.random.randint(-(2**53), 2**53)

    def _float(self, shape: Shape, depth: int) -> float:
        return self.random.choice([0.5, -1.25, 1e10, 3.0])

    _double = _float

    def _boolean(self, shape: Shape, depth: int) -> bool:
        return self.random.random() < 0.5

    def _blob(self, shape: Shape, depth: int) -> bytes:
        return bytes(self.random.randrange(256) for _ in range(self.random.randint(0, 40)))

    def _timestamp(self, shape: Shape, depth: int) -> datetime:
        base = datetime(2020, 1, 1, tzinfo=timezone.utc)
        seconds = self.random.randint(0, 10**8)
        millis = self.random.randint(0, 999) if self.timestamp_ms else 0
        return base + timedelta(seconds=seconds, milliseconds=millis)
