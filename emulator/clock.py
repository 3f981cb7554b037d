"""The emulator's one source of time.

Real time by default. Tests move it forward (or set it) through ``/_emulator/clock`` instead of
sleeping, so expiry, retention, retries and schedules can be tested at once; they may also freeze it,
so that work that counts time in windows (throughput limits) sees exactly the time the test chose.
Code that waits on time registers a callback with ``on_change`` so that a move is noticed at once.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

# The latest time the clock may show: far enough ahead for any test, early enough that adding a
# retention period or an expiry to it still makes a date (datetime stops at the year 9999).
LATEST = 253_402_300_799.0 - 400 * 86_400 * 366  # about the year 9599

_offset = 0.0
_frozen: float | None = None
_lock = threading.Lock()
_listeners: list[Callable[[], None]] = []


def now() -> float:
    """Seconds since the epoch, as the emulator sees it."""
    frozen = _frozen
    return frozen if frozen is not None else time.time() + _offset


def now_ms() -> int:
    return int(now() * 1000)


def offset() -> float:
    """How far the emulator's time is ahead of real time, in seconds."""
    return now() - time.time()


def is_frozen() -> bool:
    return _frozen is not None


def _check(seconds: float, what: str) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise ValueError(f"{what} must be a finite number of seconds")


def advance(seconds: float) -> float:
    """Moves the clock forward; returns the new time. Time never goes back."""
    global _offset, _frozen
    _check(seconds, "the move")
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    if now() + seconds > LATEST:
        raise ValueError("the clock cannot move past the year 9599")
    with _lock:
        if _frozen is not None:
            _frozen += seconds
        else:
            _offset += seconds
    _notify()
    return now()


def set_time(epoch_seconds: float) -> float:
    """Sets the clock to an absolute time (not earlier than its current one)."""
    global _offset, _frozen
    _check(epoch_seconds, "the time")
    if epoch_seconds > LATEST:
        raise ValueError("the clock cannot move past the year 9599")
    with _lock:
        if epoch_seconds < now():
            raise ValueError("the clock only moves forward")
        if _frozen is not None:
            _frozen = epoch_seconds
        else:
            _offset = epoch_seconds - time.time()
    _notify()
    return now()


def freeze() -> float:
    """Stops the clock where it is; it then moves only when advanced or set."""
    global _frozen
    with _lock:
        if _frozen is None:
            _frozen = time.time() + _offset
    return now()


def unfreeze() -> float:
    """Lets the clock run again from where it stood."""
    global _offset, _frozen
    with _lock:
        if _frozen is not None:
            _offset = _frozen - time.time()
            _frozen = None
    _notify()
    return now()


def reset() -> None:
    """Back to real time, running: the reset of all state takes the clock with it."""
    global _offset, _frozen
    with _lock:
        _offset = 0.0
        _frozen = None
    _notify()


def on_change(callback: Callable[[], None]) -> None:
    """Calls ``callback`` whenever the clock is moved."""
    with _lock:
        _listeners.append(callback)


def remove_listener(callback: Callable[[], None]) -> None:
    """Stops calling ``callback`` on moves (a provider that closes removes its own)."""
    with _lock:
        if callback in _listeners:
            _listeners.remove(callback)


def _notify() -> None:
    for callback in list(_listeners):
        try:
            callback()
        except Exception:  # a listener's failure must not break the clock
            pass
