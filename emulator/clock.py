"""The emulator's one source of time.

Real time by default. Tests move it forward (or set it) through ``/_emulator/clock`` instead of
sleeping, so expiry, retention, retries and schedules can be tested at once. Code that waits on time
(the scheduler) registers a wake-up callback so that a move is noticed immediately.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_offset = 0.0
_lock = threading.Lock()
_listeners: list[Callable[[], None]] = []


def now() -> float:
    """Seconds since the epoch, as the emulator sees it."""
    return time.time() + _offset


def now_ms() -> int:
    return int(now() * 1000)


def offset() -> float:
    return _offset


def advance(seconds: float) -> float:
    """Moves the clock forward; returns the new time. Time never goes back."""
    global _offset
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    with _lock:
        _offset += seconds
    _notify()
    return now()


def set_time(epoch_seconds: float) -> float:
    """Sets the clock to an absolute time (not earlier than its current one)."""
    global _offset
    with _lock:
        target = epoch_seconds - time.time()
        if target < _offset:
            raise ValueError("the clock only moves forward")
        _offset = target
    _notify()
    return now()


def reset() -> None:
    """Back to real time (used between test sessions, not by the admin API)."""
    global _offset
    with _lock:
        _offset = 0.0
    _notify()


def on_change(callback: Callable[[], None]) -> None:
    """Calls ``callback`` whenever the clock is moved."""
    with _lock:
        _listeners.append(callback)


def _notify() -> None:
    for callback in list(_listeners):
        try:
            callback()
        except Exception:  # a listener's failure must not break the clock
            pass
