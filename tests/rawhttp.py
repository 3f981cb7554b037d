"""Raw HTTP requests for the tests that send what no SDK would."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(url: str, method: str = "POST", path: str = "/", body: bytes = b"", headers: dict[str, str] | None = None,
         timeout: float = 10) -> RawResponse:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return RawResponse(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        conn.close()


def json_call(url: str, target: str, body: bytes | str, content_type: str = "application/x-amz-json-1.1",
              **headers: str) -> RawResponse:
    """A JSON 1.1 call, signed (as every SDK signs) unless ``headers`` give their own Authorization."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    service = {"Kinesis_20131202": "kinesis", "AWSEvents": "events"}.get(target.partition(".")[0], "kinesis")
    return send(url, body=data, headers={
        **signed(service), "X-Amz-Target": target, "Content-Type": content_type, **headers})


def query_call(url: str, body: str, **headers: str) -> RawResponse:
    """An SNS query call, signed unless ``headers`` give their own Authorization."""
    return send(
        url, body=body.encode("utf-8"),
        headers={**signed("sns"), "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", **headers},
    )


def signed(service: str, access_key: str = "000000000000", region: str = "us-east-1") -> dict[str, str]:
    """The headers of a SigV4-signed request, as the emulator reads them (it checks no signature)."""
    return {"Authorization": sigv4_header(access_key, region, service), "X-Amz-Date": "20260101T000000Z"}


def sigv4_header(access_key: str, region: str, service: str) -> str:
    """An Authorization header with the credential scope the emulator reads (it checks no signature)."""
    return (
        f"AWS4-HMAC-SHA256 Credential={access_key}/20260101/{region}/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0000"
    )
