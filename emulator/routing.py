"""Which service a request is for, and on whose behalf (account and region).

The service comes from the ``X-Amz-Target`` prefix (``AWSEvents.``, ``Kinesis_20131202.``), else
from the SigV4 credential scope's service name, else a form body or query string (``Action=``) means
SNS. The account is the access key id when it is 12 digits, else the configured default; the region
is the credential scope's, else the configured default. Signatures are not checked: this emulator
trusts its callers, as local endpoints do.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import parse_qs

TARGET_PREFIXES = {"AWSEvents": "events", "Kinesis_20131202": "kinesis"}
SCOPE_SERVICES = {"events": "events", "sns": "sns", "kinesis": "kinesis"}

_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")


class Route(NamedTuple):
    service: str | None
    account: str
    region: str


def credential_scope(environ: dict) -> tuple[str, str, str] | None:
    """(access key id, region, service) of the SigV4 Authorization header or presigned URL."""
    authorization = environ.get("HTTP_AUTHORIZATION")
    if authorization:
        start = authorization.find("Credential=")
        if start >= 0:
            end = authorization.find(",", start)
            parts = authorization[start + 11 : end if end >= 0 else None].strip().split("/")
            if len(parts) >= 4:
                return parts[0], parts[2], parts[3]
    query = environ.get("QUERY_STRING", "")
    if "X-Amz-Credential" in query:
        values = parse_qs(query).get("X-Amz-Credential")
        if values:
            parts = values[0].split("/")
            if len(parts) >= 4:
                return parts[0], parts[2], parts[3]
    return None


def route(environ: dict, default_account: str, default_region: str) -> Route:
    scope = credential_scope(environ)
    if scope is None:
        return Route(service_for(environ), default_account, default_region)
    key_id, scope_region, scope_service = scope
    account, region = _identity(key_id, scope_region, default_account, default_region)
    return Route(service_for(environ, scope_service), account, region)


@lru_cache(maxsize=1024)
def _identity(key_id: str, scope_region: str, default_account: str, default_region: str) -> tuple[str, str]:
    """(account, region) of a credential: a client sends the same one on every request."""
    account = key_id if _ACCOUNT.fullmatch(key_id) else default_account
    region = scope_region if _REGION.fullmatch(scope_region) else default_region
    return account, region


def service_for(environ: dict, scope_service: str | None = None) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return TARGET_PREFIXES.get(target.partition(".")[0])
    if scope_service in SCOPE_SERVICES:
        return SCOPE_SERVICES[scope_service]
    content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded" or "Action=" in environ.get("QUERY_STRING", ""):
        return "sns"
    return None
