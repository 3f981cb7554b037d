"""What one value in a pattern's list accepts, and the value semantics behind it.

An event value is what JSON decoding gives: ``str``, ``int``/``float``, ``bool`` or ``None``.
AWS compares by kind first: a string pattern never matches a number (``"5"`` vs ``5``), ``true`` is
not ``1``, and numbers compare numerically (``5`` matches ``5.0`` and ``5e0``). String operators
(prefix, suffix, wildcard, equals-ignore-case, cidr) only ever match strings, so every
``anything-but`` form *does* match a value of another kind (``{"anything-but": {"prefix": "x"}}``
matches ``12`` and ``null``) -- as recorded against AWS.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any

from .wildcard import wildcard_match


def is_number(v: Any) -> bool:
    """A JSON number (``bool`` is an ``int`` subclass in Python, but not a number in JSON)."""
    t = type(v)
    return t is int or t is float


def literal_key(v: Any) -> str | None:
    """``"true"``/``"false"``/``"null"`` for the JSON literals, else None."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    return None


# AWS's test for "could be an IP literal": four dot-separated runs of ASCII digits, or only hex
# digits and colons (at least one colon). Regular expressions rather than split-and-check loops:
# event values are tested against these on every probe of an index holding IPs or CIDR blocks.
_LOOKS_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_LOOKS_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")
# An IPv4 literal proper: octets of at most three significant digits (leading zeros allowed);
# checked against 255 after conversion. Longer digit runs can never be an octet <= 255.
_IPV4 = re.compile(r"0*([0-9]{1,3})\.0*([0-9]{1,3})\.0*([0-9]{1,3})\.0*([0-9]{1,3})")


def looks_like_ip(s: str) -> bool:
    """AWS's own test for "could be an IP literal" (digits and dots, or hex digits and colons)."""
    return _LOOKS_IPV4.fullmatch(s) is not None or _LOOKS_IPV6.fullmatch(s) is not None


_pton = socket.inet_pton
_AF_INET = socket.AF_INET
_from_bytes = int.from_bytes

# Canonical octets by text: the usual dotted quad converts with four dict lookups, no int().
_OCTETS = {str(i): i for i in range(256)}


def parse_ip(s: str) -> tuple[int, int] | None:
    """``(4 or 6, address as an integer)`` for an IP literal, else None."""
    try:
        # The usual dotted quad in one C call; inet_pton accepts only canonical octets (no
        # leading zeros, no other forms), so whatever it accepts reads the same below.
        return 4, _from_bytes(_pton(_AF_INET, s), "big")
    except (OSError, ValueError):
        pass
    parts = s.split(".")
    if len(parts) == 4:
        octets = _OCTETS
        a0, b0, c0, d0 = octets.get(parts[0]), octets.get(parts[1]), octets.get(parts[2]), octets.get(parts[3])
        if a0 is not None and b0 is not None and c0 is not None and d0 is not None:
            return 4, (a0 << 24) | (b0 << 16) | (c0 << 8) | d0
    m = _IPV4.fullmatch(s)  # leading zeros, out-of-range octets, and everything else
    if m is not None:
        a, b, c, d = m.groups()
        a4, b4, c4, d4 = int(a), int(b), int(c), int(d)
        if a4 > 255 or b4 > 255 or c4 > 255 or d4 > 255:
            return None
        return 4, (a4 << 24) | (b4 << 16) | (c4 << 8) | d4
    if _LOOKS_IPV6.fullmatch(s) is not None:
        try:
            return 6, int(ipaddress.IPv6Address(s))
        except ValueError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class Matcher:
    """One alternative of a field's list: ``kind`` names the operator, ``arg`` its operand.

    Kinds and operands:
    ``str``/``num``/``lit`` exact string, number, or JSON literal key; ``ip`` (family, int);
    ``prefix``/``suffix``/``ic``/``prefix_ic``/``suffix_ic`` text (lower-cased for ``*_ic``);
    ``wildcard`` literal segments; ``numeric`` (lo, lo_open, hi, hi_open);
    ``cidr`` (family, lo, hi); ``exists`` None;
    ``ab_str``/``ab_num``/``ab_ic`` frozenset; ``ab_prefix``/``ab_suffix`` tuple of texts;
    ``ab_wildcard`` tuple of segment tuples.
    """

    kind: str
    arg: Any

    def test(self, v: Any) -> bool:
        return TESTS[self.kind](self.arg, v)


def _in_range(arg: tuple[float, bool, float, bool], v: Any, limit: float) -> bool:
    # Written as what must hold, not as what must fail: NaN fails every comparison, so a chain
    # of "reject if v < lo" tests would let it through every range.
    if not is_number(v) or not -limit <= v <= limit:
        return False
    lo, lo_open, hi, hi_open = arg
    return (lo < v or (not lo_open and v == lo)) and (v < hi or (not hi_open and v == hi))


# The range a number must be in to take part in numeric comparisons (AWS's ComparableNumber).
NUMERIC_LIMIT = 5e9


def _numeric(arg: tuple[float, bool, float, bool], v: Any) -> bool:
    return _in_range(arg, v, NUMERIC_LIMIT)


def _cidr(arg: tuple[int, int, int], v: Any) -> bool:
    if type(v) is not str:
        return False
    ip = parse_ip(v)
    return ip is not None and ip[0] == arg[0] and arg[1] <= ip[1] <= arg[2]


def _ab_str(arg: frozenset[str], v: Any) -> bool:
    return not (type(v) is str and v in arg)


def _ab_num(arg: frozenset[float], v: Any) -> bool:
    return not (is_number(v) and v in arg)


def _ab_prefix(arg: tuple[str, ...], v: Any) -> bool:
    return not (type(v) is str and v.startswith(arg))


def _ab_suffix(arg: tuple[str, ...], v: Any) -> bool:
    return not (type(v) is str and v.endswith(arg))


def _ab_ic(arg: frozenset[str], v: Any) -> bool:
    return not (type(v) is str and v.lower() in arg)


def _ab_wildcard(arg: tuple[tuple[str, ...], ...], v: Any) -> bool:
    return not (type(v) is str and any(wildcard_match(seg, v) for seg in arg))


TESTS = {
    "str": lambda a, v: type(v) is str and v == a,
    "num": lambda a, v: is_number(v) and v == a,
    "lit": lambda a, v: literal_key(v) == a,
    "ip": lambda a, v: type(v) is str and parse_ip(v) == a,
    "prefix": lambda a, v: type(v) is str and v.startswith(a),
    "suffix": lambda a, v: type(v) is str and v.endswith(a),
    "ic": lambda a, v: type(v) is str and v.lower() == a,
    "prefix_ic": lambda a, v: type(v) is str and v.lower().startswith(a),
    "suffix_ic": lambda a, v: type(v) is str and v.lower().endswith(a),
    "wildcard": lambda a, v: type(v) is str and wildcard_match(a, v),
    "numeric": _numeric,
    "cidr": _cidr,
    "exists": lambda a, v: True,
    "ab_str": _ab_str,
    "ab_num": _ab_num,
    "ab_prefix": _ab_prefix,
    "ab_suffix": _ab_suffix,
    "ab_ic": _ab_ic,
    "ab_wildcard": _ab_wildcard,
}


@dataclass(frozen=True, slots=True)
class FieldCondition:
    """One field of a sub-rule: matched if any value at ``path`` passes any matcher, or, when
    ``absent`` (``{"exists": false}`` among the alternatives), if the event has no value there."""

    path: str
    matchers: tuple[Matcher, ...]
    absent: bool = False
