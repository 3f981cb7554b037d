"""Answers that wait (long polling), kept off the event loop.

The event loop runs each plain request to completion on its one thread, so an operation that may have
to wait for data (Kinesis ``ReceiveQueueRecords`` with ``WaitTimeSeconds``; SQS ``ReceiveMessage``
next) must never wait there. When such an operation has its answer at once it returns it as usual
and costs nothing more. When it has nothing to answer yet, it returns a ``Deferred`` instead of its
result dict. The app then answers with a generator body, which the serving layer moves to a thread of
its own, as it does for SubscribeToShard's event stream. That thread calls ``Deferred.resolve`` and
serializes what it returns, or the ``ServiceError`` it raises, the protocol's usual way: a generator
body may call ``start_response`` on its first step, so the status and headers (``Content-Length``
included) are those of an answer given at once, and a client cannot tell the two apart.

``wait_until`` is the loop every such wait needs: check under a condition variable, sleep on it until
it is notified (new data, or a move of the emulator's clock, which providers relay through
``clock.on_change``) or half a second of real time has passed (a running clock passes the deadline by
itself), and stop when the check answers, the deadline on the emulator's clock is reached, or the
server is stopping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from emulator import clock

T = TypeVar("T")

WAIT_SLICE = 0.5  # real seconds between checks when nothing notifies


class Deferred:
    """An operation's answer that is worked out later, on a thread that may wait.

    ``resolve(stopping)`` returns the operation's result dict (or raises a ``ServiceError``); it is
    called once, off the event loop, with the server's stopping event (or None).
    """

    __slots__ = ("resolve",)

    def __init__(self, resolve: Callable[[threading.Event | None], dict[str, Any]]) -> None:
        self.resolve = resolve


def wait_until(
    condition: threading.Condition,
    check: Callable[[], T | None],
    deadline: float,
    stopping: threading.Event | None = None,
) -> T | None:
    """``check()``'s first answer other than None, or None once the emulator's clock reaches
    ``deadline`` (or the server stops). Call it with ``condition``'s lock held; ``check`` runs under it."""
    while True:
        found = check()
        if found is not None:
            return found
        remaining = deadline - clock.now()
        if remaining <= 0 or (stopping is not None and stopping.is_set()):
            return None
        condition.wait(min(remaining, WAIT_SLICE))
