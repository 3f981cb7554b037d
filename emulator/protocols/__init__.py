"""Wire protocols: parse what botocore serializes, serialize what botocore parses.

One class per protocol, driven by the service model; nothing here knows a single operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.protocols.base import Protocol
    from emulator.specs import ServiceSpec


def for_spec(spec: ServiceSpec, cbor: bool = False) -> Protocol:
    """The protocol of a service's model; ``cbor`` for JSON 1.1 operations sent as CBOR."""
    if cbor and spec.protocol == "json":
        from emulator.protocols.cbor import CborProtocol

        return CborProtocol(spec)
    if spec.protocol == "json":
        from emulator.protocols.json import JsonProtocol

        return JsonProtocol(spec)
    if spec.protocol == "query":
        from emulator.protocols.query import QueryProtocol

        return QueryProtocol(spec)
    raise ValueError(f"unsupported protocol {spec.protocol!r}")
