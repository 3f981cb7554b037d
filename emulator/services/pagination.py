"""Opaque pagination tokens shared by the providers.

A token is URL-safe base64 of a signature and a JSON payload. The signature (an HMAC with a key made
when the process starts) makes a forged, altered or truncated token fail verification, so providers
answer their service's invalid-token error, never a 500 or a wrong page.

``paginate`` pages a sorted listing with tokens that name the last item of the page they ended (by its
sort key), so a listing that changes between calls neither repeats nor skips items that stayed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

_SECRET = os.urandom(32)
_SIGNATURE_LENGTH = 16


class InvalidToken(ValueError):
    """The token was not made by this process for this listing."""


def _signature(body: bytes) -> bytes:
    return hmac.new(_SECRET, body, hashlib.sha256).digest()[:_SIGNATURE_LENGTH]


def sign(payload: Any) -> str:
    """A token carrying ``payload`` (anything JSON can hold)."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(_signature(body) + body).decode("ascii")


def verify(token: str) -> Any:
    """The payload of a token ``sign`` made; ``InvalidToken`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
        if base64.urlsafe_b64encode(raw).decode("ascii") != token:
            raise ValueError("not the canonical encoding")
        body, signature = raw[_SIGNATURE_LENGTH:], raw[:_SIGNATURE_LENGTH]
        if len(raw) > _SIGNATURE_LENGTH and hmac.compare_digest(signature, _signature(body)):
            return json.loads(body)
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise InvalidToken(token)


def encode_token(kind: str, key: str) -> str:
    return sign([kind, key])


def decode_token(kind: str, token: str) -> str:
    payload = verify(token)
    if not (isinstance(payload, list) and len(payload) == 2 and payload[0] == kind and isinstance(payload[1], str)):
        raise InvalidToken(token)
    return payload[1]


def paginate(
    items: Sequence[T], key: Callable[[T], str], token: str | None, limit: int, kind: str
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
