"""Wildcard values: parsing with AWS's escapes and errors, linear matching, complexity.

A wildcard value uses ``*`` for any run of characters, ``\\*`` for a literal star and ``\\\\`` for
a literal backslash; any other backslash, or two stars in a row, is an error whose position AWS
reports as a UTF-8 byte offset into the value wrapped in double quotes (the compiler's internal
form), e.g. ``Consecutive wildcard characters at pos 26``.

Matching never uses regular expressions: the literal segments between stars are placed left to
right with ``str.find`` (leftmost placement is always safe for ``*``-only patterns), which is
linear in the input whatever the pattern, so a hostile pattern cannot make matching slow.
"""

from __future__ import annotations

from collections.abc import Iterable

# EventBridge rejects wildcard rules whose automaton can be in too many places at once
# ("Rule is too complex - ..."). The documentation gives the idea, not the number; this limit
# accepts the documented examples ("*.png", "*/lib/*", "arn:aws:events:us-east-1:*:event-bus/*",
# two alternatives on one field) and rejects the ones AWS is recorded rejecting
# ("*:*:*:*:*:event-bus/*", four "*.ext" alternatives on one field). Emulator's choice.
MAX_WILDCARD_COMPLEXITY = 5
TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character "
    "sequences after a wildcard character"
)


class WildcardSyntaxError(ValueError):
    pass


def parse_wildcard(text: str) -> tuple[str, ...]:
    """Split a wildcard value into its literal segments (stars fall between them).

    ``"*.png"`` -> ``("", ".png")``; a value without stars is one segment.
    """
    data = ('"' + text + '"').encode("utf-8")
    segments: list[str] = []
    current = bytearray()
    i, n = 1, len(data) - 1  # skip the wrapping quotes, but positions count the opening one
    while i < n:
        b = data[i]
        if b == 0x2A:  # *
            if data[i + 1] == 0x2A:
                raise WildcardSyntaxError(f"Consecutive wildcard characters at pos {i}")
            segments.append(current.decode("utf-8"))
            current = bytearray()
        elif b == 0x5C:  # backslash
            nxt = data[i + 1]  # the closing quote at worst
            if nxt in (0x2A, 0x5C) and i + 1 < n:
                current.append(nxt)
                i += 2
                continue
            raise WildcardSyntaxError(f"Invalid escape character at pos {i}")
        else:
            current.append(b)
        i += 1
    segments.append(current.decode("utf-8"))
    return tuple(segments)


def wildcard_match(segments: tuple[str, ...], value: str) -> bool:
    """Does ``value`` match the wildcard whose literal segments are ``segments``? Linear time."""
    first = segments[0]
    if len(segments) == 1:
        return value == first
    last = segments[-1]
    if len(value) < len(first) + len(last):
        return False
    if not value.startswith(first) or not value.endswith(last):
        return False
    pos = len(first)
    end = len(value) - len(last)
    for seg in segments[1:-1]:
        if not seg:
            continue
        found = value.find(seg, pos, end)
        if found < 0:
            return False
        pos = found + len(seg)
    return True


def wildcard_complexity(patterns: Iterable[tuple[str, ...]], cap: int = MAX_WILDCARD_COMPLEXITY + 1) -> int:
    """How many automaton positions one input can keep alive at once, over all ``patterns``.

    The patterns are the wildcard values that apply to one field of one rule; they run side by
    side on the same input, as they do in AWS's shared machine. Positions are (pattern, index of
    the next literal character), a star's position staying alive forever once reached. The search
    over reachable sets of positions stops as soon as ``cap`` is reached, so it is cheap.
    """
    nfas = []
    for segs in patterns:
        if len(segs) < 2:
            continue
        # Flatten into a character list with star markers.
        chars: list[str | None] = []
        for k, seg in enumerate(segs):
            if k:
                chars.append(None)
            chars.extend(seg)
        nfas.append(chars)
    if not nfas:
        return 0

    def closure(pid: int, idx: int, into: set[tuple[int, int]]) -> None:
        chars = nfas[pid]
        into.add((pid, idx))
        # A star at idx is a loop state: it is "position idx"; moving past it is free.
        while idx < len(chars) and chars[idx] is None:
            idx += 1
            into.add((pid, idx))

    start: set[tuple[int, int]] = set()
    for pid in range(len(nfas)):
        closure(pid, 0, start)
    alphabet = {c for chars in nfas for c in chars if c is not None}
    alphabet.add("\x00")  # stands for any character no pattern names

    def live(state: frozenset[tuple[int, int]]) -> int:
        # A star and the literal right after it are one state of the machine (a loop plus its
        # way out), so only the star is counted; finished patterns are not states at all.
        count = 0
        for pid, idx in state:
            chars = nfas[pid]
            if idx < len(chars) and not (idx > 0 and chars[idx - 1] is None):
                count += 1
        return count

    seen = {frozenset(start)}
    todo = [frozenset(start)]
    best = live(todo[0])
    while todo and best < cap and len(seen) < 4096:
        state = todo.pop()
        for ch in alphabet:
            nxt: set[tuple[int, int]] = set()
            for pid, idx in state:
                chars = nfas[pid]
                if idx < len(chars) and chars[idx] is None:
                    closure(pid, idx, nxt)  # the star keeps consuming
                elif idx < len(chars) and chars[idx] == ch:
                    closure(pid, idx + 1, nxt)
            frozen = frozenset(nxt)
            if frozen and frozen not in seen:
                seen.add(frozen)
                todo.append(frozen)
                best = max(best, live(frozen))
    return min(best, cap)
