"""The sweeper: forgets records that fell out of their stream's retention period, off the request path.

Reads never return an expired record (they start at the retention horizon), so expiry is only about
memory, and it must happen whether or not anything is written or read afterwards: a closed shard, or
an open one that gets no more writes, would otherwise keep its records until DeleteStream. One daemon
thread, started with the first record written, looks at every shard every ``INTERVAL`` seconds of
real time, and at once when a test moves the emulator's clock.

Every step under a store's lock is bounded by ``STEP`` records, whatever a shard holds, so the event
loop, which needs that lock, never waits long:

1. the data and keys of up to ``STEP`` expired records are dropped (``Shard.forget_data``: a slice
   replaced by one of the same length moves nothing). That is where the memory is: the bytes.
2. once the expired front is at least as long as what is live, the slots themselves go: the live
   records are copied into new arrays ``STEP`` at a time *outside* the lock (records are never
   changed once written, and only this thread blanks or compacts, so the copy is consistent); under
   the lock, the records appended meanwhile are copied too and the new arrays installed. Copying only
   when the dead part is the larger one keeps the copying amortised to O(1) per record.

The old lists are dropped outside the lock, so their objects are freed without holding it.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterable

from emulator import clock
from emulator.services.kinesis.models import KinesisStore, Shard, Stream

INTERVAL = 2.0
STEP = 4096


class Sweeper:
    """One thread per provider; ``stores`` gives the provider's current stores on each pass."""

    def __init__(self, stores: Callable[[], Iterable[KinesisStore]]) -> None:
        self._stores = stores
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.passes = 0  # completed passes, for tests and benchmarks that wait for one

    def ensure_started(self) -> None:
        """Starts the thread on first use (called on every write: after the first, one attribute test)."""
        if self._thread is not None or self._stop:
            return
        with self._start_lock:
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(target=self._run, name="kinesis-expiry", daemon=True)
                self._thread.start()

    def poke(self) -> None:
        """Asks for a pass now (the clock moved: records may have expired)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(INTERVAL)
            self._wake.clear()
            if self._stop:
                return
            try:
                self.sweep()
            except Exception:  # a failed pass is retried on the next; the thread must not die
                continue
            self.passes += 1

    def sweep(self) -> None:
        """One pass over every shard of every stream (also callable directly, as the benchmark does)."""
        for store in list(self._stores()):
            with store.lock:
                streams = list(store.streams.values())
            for stream in streams:
                for shard in list(stream.shards):
                    if self._stop:
                        return
                    _sweep_shard(store, stream, shard)


def _sweep_shard(store: KinesisStore, stream: Stream, shard: Shard) -> None:
    while True:
        with store.lock:
            cut = shard.expired_count(stream.horizon(shard, clock.now()))
            if shard.forget_data(cut, STEP):
                continue  # the next step takes the lock again, so a waiting request gets in between
            live = len(shard.counters) - cut
            if cut == 0 or cut < live or cut < STEP and live:
                return
            if live <= STEP:  # little to copy: do it here
                old = (shard.counters, shard.times, shard.datas, shard.keys)
                shard.replace_records(old[0][cut:], old[1][cut:], old[2][cut:], old[3][cut:])
                break
            counters, times, datas, keys = shard.counters, shard.times, shard.datas, shard.keys
            end = len(counters)
        # Outside the lock: copy the live records [cut, end), which nobody changes.
        new_counters, new_times = array("q"), array("d")
        new_datas: list[bytes] = []
        new_keys: list[str] = []
        for start in range(cut, end, STEP):
            stop = min(end, start + STEP)
            new_counters.extend(counters[start:stop])
            new_times.extend(times[start:stop])
            new_datas.extend(datas[start:stop])
            new_keys.extend(keys[start:stop])
        with store.lock:
            if shard.counters is not counters or store.streams.get(stream.name) is not stream:
                return  # reset or deleted meanwhile
            # Records appended meanwhile (few: only those written during the copy).
            new_counters.extend(counters[end:])
            new_times.extend(times[end:])
            new_datas.extend(datas[end:])
            new_keys.extend(keys[end:])
            shard.replace_records(new_counters, new_times, new_datas, new_keys)
        old = (counters, times, datas, keys)
        break
    _release(old)


def _release(arrays: tuple[array, array, list[bytes], list[str]]) -> None:
    """Frees the old arrays a piece at a time: one ``del`` of a million objects would hold the GIL."""
    for items in arrays:
        while len(items) > STEP:
            del items[-STEP:]
