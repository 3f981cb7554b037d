"""What AWS answers before any operation runs: CORS, requests that are not an API call, signatures.

These answers come from AWS's front door, not from a service's model, so they are written here once
for every service:

- a request with an ``Origin`` header gets ``Access-Control-Allow-Origin: *`` and the headers a
  browser may read; ``OPTIONS`` with ``Origin`` is a preflight, answered 200 with an empty body and
  the requested method and headers echoed, so browser apps can call the emulator;
- a JSON service's URL answers GET, PUT, DELETE (anything but POST), and a POST with neither a
  content type nor a target, 403 with a bare XML ``AccessDeniedException``;
- a request with no SigV4 credentials is refused, and an ``Authorization`` header that lacks one of
  its parts too. The signature's value is not checked: the emulator trusts its callers, as local
  endpoints do. SNS's ``ConfirmSubscription`` and ``Unsubscribe`` stay open, since the
  ``SubscribeURL`` and ``UnsubscribeURL`` AWS hands out are unsigned GETs.

Each check reads a few environ keys, so a well-formed request pays next to nothing for them.
"""

from __future__ import annotations

from typing import Any

from emulator.errors import ServiceError
from emulator.protocols.base import Response, amz_id_2

# The response headers AWS lets a browser's script read.
EXPOSE_HEADERS = "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"
PREFLIGHT_MAX_AGE = "172800"  # seconds (two days), as AWS answers a preflight
ACCESS_DENIED_BODY = (
    b"<AccessDeniedException>\n"
    b"  <Message>Unable to determine service/operation name to be authorized</Message>\n"
    b"</AccessDeniedException>\n"
)
UNSIGNED_SNS_OPERATIONS = frozenset({"ConfirmSubscription", "Unsubscribe"})
_AUTH_PARTS = ("Credential", "Signature", "SignedHeaders")


def cors_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The headers every answer to a request with an ``Origin`` carries (none without one)."""
    if "HTTP_ORIGIN" not in environ:
        return []
    return [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSE_HEADERS)]


def preflight(environ: dict[str, Any], request_id: str) -> Response | None:
    """The answer to a CORS preflight (``OPTIONS`` with ``Origin``); None for any other request."""
    if environ.get("REQUEST_METHOD") != "OPTIONS" or "HTTP_ORIGIN" not in environ:
        return None
    headers = [("x-amzn-RequestId", request_id), ("x-amz-id-2", amz_id_2())]
    requested_headers = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
    if requested_headers:
        headers.append(("Access-Control-Allow-Headers", requested_headers))
    requested_method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
    if requested_method:
        headers.append(("Access-Control-Allow-Methods", requested_method))
    headers += [("Access-Control-Max-Age", PREFLIGHT_MAX_AGE), ("Content-Length", "0")]
    return Response(200, headers, b"")


def not_an_api_call(environ: dict[str, Any], request_id: str) -> Response | None:
    """AWS's 403 for a request to a JSON service that names no operation; None for an API call.
    Only for requests no form or query string claims for SNS (which takes GETs)."""
    if environ.get("REQUEST_METHOD") == "POST" and (
        environ.get("CONTENT_TYPE") or environ.get("HTTP_X_AMZ_TARGET")
    ):
        return None
    headers = [("x-amzn-RequestId", request_id), ("x-amz-id-2", amz_id_2()),
               ("Content-Length", str(len(ACCESS_DENIED_BODY)))]
    return Response(403, headers, ACCESS_DENIED_BODY)


def signature_error(environ: dict[str, Any], query: bool) -> ServiceError | None:
    """Why a request's credentials are refused, in the service's protocol (``query``: SNS's codes,
    which drop the ``Exception`` suffix); None when it carries them all."""
    authorization = environ.get("HTTP_AUTHORIZATION")
    if authorization is None:
        if "X-Amz-Credential=" in environ.get("QUERY_STRING", ""):
            return None  # a presigned URL
        if query:
            return ServiceError("Request is missing Authentication Token", code="MissingAuthenticationToken",
                                status=403)
        return ServiceError("Missing Authentication Token", code="MissingAuthenticationTokenException", status=400)
    if "Credential=" in authorization and "Signature=" in authorization and "SignedHeaders=" in authorization:
        missing = []  # the common case, told without splitting the header
    else:
        missing = _missing_parts(authorization)
    if "HTTP_X_AMZ_DATE" not in environ and "HTTP_DATE" not in environ:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if not missing:
        return None
    message = " ".join(missing) + f" Authorization={authorization}"
    code = "IncompleteSignature" if query else "IncompleteSignatureException"
    return ServiceError(message, code=code, status=400)


def _missing_parts(authorization: str) -> list[str]:
    """The parts ``Credential=``, ``Signature=``, ``SignedHeaders=`` an Authorization header lacks,
    each named as AWS names it."""
    _, _, rest = authorization.partition(" ")
    present = {item.split("=", 1)[0].strip() for item in rest.replace(",", " ").split() if "=" in item}
    return [f"Authorization header requires '{part}' parameter." for part in _AUTH_PARTS if part not in present]
