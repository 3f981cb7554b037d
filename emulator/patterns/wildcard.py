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

# EventBridge refuses a rule when one field's wildcards make the matcher too non-deterministic.
# The measure is event-ruler's (AWS's engine, ``MachineComplexityEvaluator``): the largest number
# of wildcard-pattern *prefixes* one input value can match at once -- "a*b" has the prefixes "a",
# "a*" and "a*b"; "ab" matches two of them -- summed over the patterns of one field's machine.
# ``wildcard_complexity`` computes exactly that (it reproduces every worked example of
# event-ruler's own tests, see tests/patterns/test_wildcard_complexity.py). AWS documents the
# measure, not the number it refuses at; recorded answers bound it: complexity 9 is accepted
# (three "*:stack/<name>/*" values on one field), and so is 7 ("/Users/*/dir/dir/dir/dir/dir/
# doc.txt"), while 11 ("*:*:*:*:*:event-bus/*") and 12 (four "*:stack/<name>/*") are refused.
# The evaluator is capped at its limit and cannot tell the limit from anything above it, so the
# check can only be "reached the cap": with a cap of 10 that refuses 10 and accepts 9, which fits
# every recorded answer. The value 10 itself (rather than 11) is the emulator's reading.
WILDCARD_COMPLEXITY_LIMIT = 10
TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character "
    "sequences after a wildcard character"
)
# A bound on the search below, far beyond what any pattern of EventBridge's size limit reaches
# while staying under the cap; a search that would need more is treated as too complex.
_MAX_SEARCH_STATES = 50_000


class WildcardSyntaxError(ValueError):
    pass


def parse_wildcard(text: str) -> tuple[str, ...]:
    """Split a wildcard value into its literal segments (stars fall between them).

    ``"*.png"`` -> ``("", ".png")``; a value without stars is one segment.
    """
    # surrogatepass: a lone surrogate (an unpaired ``\\uD83D`` escape) is text like any other.
    data = ('"' + text + '"').encode("utf-8", "surrogatepass")
    segments: list[str] = []
    current = bytearray()
    i, n = 1, len(data) - 1  # skip the wrapping quotes, but positions count the opening one
    while i < n:
        b = data[i]
        if b == 0x2A:  # *
            if data[i + 1] == 0x2A:
                raise WildcardSyntaxError(f"Consecutive wildcard characters at pos {i}")
            segments.append(current.decode("utf-8", "surrogatepass"))
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
    segments.append(current.decode("utf-8", "surrogatepass"))
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


def wildcard_complexity(patterns: Iterable[tuple[str, ...]], cap: int = WILDCARD_COMPLEXITY_LIMIT) -> int:
    """The most wildcard-pattern prefixes one input can match at once, over ``patterns``; at most ``cap``.

    ``patterns`` are the wildcard values (as literal segments) that share one machine: one field,
    reached through the same earlier fields of a rule. Identical values count once, as they share
    every state. A pattern is a token list (characters, and ``None`` for a star); the set of its
    prefixes an input matches is an NFA state set (position k: the first k tokens matched; a star
    keeps matching, and is matched by nothing at all). The search walks the reachable state sets,
    branching only on the characters that advance some position (every other character leads to
    the same set), and stops at ``cap``, so it is cheap for the patterns rules actually hold.
    """
    nfas: list[list[str | None]] = []
    for segs in patterns:
        chars: list[str | None] = []
        for k, seg in enumerate(segs):
            if k:
                chars.append(None)
            chars.extend(seg)
        if chars not in nfas:
            nfas.append(chars)
    if not nfas:
        return 0

    def close(pid: int, k: int, into: set[tuple[int, int]]) -> None:
        """Add position k, and the positions after the stars that follow it (a star may match "")."""
        chars = nfas[pid]
        into.add((pid, k))
        while k < len(chars) and chars[k] is None:
            k += 1
            into.add((pid, k))

    def step(state: frozenset[tuple[int, int]], ch: str | None) -> frozenset[tuple[int, int]]:
        """The positions after reading ``ch`` (None: a character no position expects)."""
        nxt: set[tuple[int, int]] = set()
        for pid, k in state:
            chars = nfas[pid]
            if k and chars[k - 1] is None:
                close(pid, k, nxt)  # the star just matched keeps consuming
            if ch is not None and k < len(chars) and chars[k] == ch:
                close(pid, k + 1, nxt)
        return frozenset(nxt)

    start: set[tuple[int, int]] = set()
    for pid in range(len(nfas)):
        close(pid, 0, start)
    todo = [frozenset(start)]
    seen = set(todo)
    best = 0
    while todo:
        state = todo.pop()
        wanted = {nfas[pid][k] for pid, k in state if k < len(nfas[pid])} - {None}
        for ch in (*wanted, None):
            nxt = step(state, ch)
            if not nxt or nxt in seen:
                continue
            # Position 0 (nothing matched yet) is no prefix; every input read so far is non-empty.
            best = max(best, sum(1 for _pid, k in nxt if k))
            if best >= cap or len(seen) >= _MAX_SEARCH_STATES:
                return cap
            seen.add(nxt)
            todo.append(nxt)
    return best
