"""Opaque pagination tokens shared by the providers.

A token names the last item of the page it ended (by its sort key), so a listing that changes
between calls neither repeats nor skips items that stayed. It is opaque to clients, as AWS's are.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class InvalidToken(ValueError):
    """The token was not made by ``paginate`` for this listing."""


def encode_token(kind: str, key: Any) -> str:
    raw = json.dumps([kind, key], separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_token(kind: str, token: str) -> Any:
    try:
        found_kind, key = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, ValueError, TypeError, UnicodeEncodeError):
        raise InvalidToken(token) from None
    if found_kind != kind:
        raise InvalidToken(token)
    return key


def paginate(
    items: Sequence[T], key: Callable[[T], Any], token: str | None, limit: int, kind: str
) -> tuple[list[T], str | None]:
    """One page of ``items`` (sorted by ``key``) after ``token``, and the token of the next page."""
    start = 0
    if token:
        after = decode_token(kind, token)
        while start < len(items) and key(items[start]) <= after:
            start += 1
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, encode_token(kind, key(page[-1])) if more and page else None
