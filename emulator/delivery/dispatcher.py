"""The dispatcher: a ready queue, worker threads, a scheduler of retries on the emulator's clock, the log.

Producers call ``submit`` on the request thread, often under their store's lock, so submitting costs
a target's ``describe()`` and a few microseconds under the dispatcher's lock: no I/O, no waiting.
Everything slow happens on the workers, with no lock held: the attempt, the retry policy, the
producer's callbacks.

One lock guards all of the state below, with three conditions on it:

- ``_work``: workers wait for a ready job. ``submit`` notifies one per job, so a delivery starts as
  soon as a worker is free, with no polling interval (an SNS publish reaches its HTTP endpoint in a
  few milliseconds). Workers are started on demand, up to ``workers``, the first with the first
  submit: a server that never delivers never starts a thread.
- ``_timer``: the scheduler thread waits for the earliest retry of its heap (ordered by due time on
  the emulator's clock), for ``due - now`` real seconds while the clock runs and indefinitely while
  it is frozen; ``clock.on_change`` wakes it, so a test that moves the clock sees the retry at once.
- ``_settled``: ``wait_idle`` waits for the last running job to settle.

Recorded deliveries (``RecordTarget``, whose attempt only notes the payload, built when the log is
first read) complete inside ``submit`` when nothing is ahead of them in their lane: a worker's wake-up
would cost more than the attempt, and an SNS topic fanning out to many recorded protocols pays for
none.

Ordering keys: deliveries with an equal (source, key) form a lane. Only its head is ever ready,
running or waiting for a retry; the rest wait behind it in submission order, and the next one is made
ready only when the head has been delivered or has failed for good (after its callback). Deliveries
without a key, or on other keys, never wait for a lane.

The log keeps one bounded deque of plain dicts per (account, region). An entry holds what the target
described, never the target itself, so a full log of large messages does not keep their bodies alive.
An entry's values are replaced, never changed in place, so ``log()`` copies only the entries' top level
under the lock (a few milliseconds for a full log of 10,000) and the rest after releasing it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from emulator import clock
from emulator.delivery.model import Delivery, Outcome
from emulator.delivery.targets import Once

log = logging.getLogger("emulator.delivery")

_names = itertools.count(1)
_CLOSE_WITHIN = 1.0  # real seconds close() waits for all its threads together (within the promised two)
_MISSING = object()


class _Job:
    """A submitted delivery with its log entry and its lane; ``cancelled`` once its source was reset."""

    __slots__ = ("delivery", "entry", "lane", "cancelled", "immediate")

    def __init__(self, delivery: Delivery, entry: dict[str, Any], lane: tuple[str, Hashable] | None) -> None:
        self.delivery = delivery
        self.entry = entry
        self.lane = lane
        self.cancelled = False
        # A target whose attempt does nothing but note what it got (``Target.immediate``) completes in
        # submit when nothing has to run after it (no callbacks) and nothing is ahead of it in its lane.
        self.immediate = (getattr(delivery.target, "immediate", False) and delivery.on_success is None
                          and delivery.on_failure is None)

    def set_state(self, state: str) -> None:
        self.delivery.state = state
        self.entry["state"] = state


class _Lane:
    """The deliveries of one ordering key: the head (ready, running or retrying) and those behind it."""

    __slots__ = ("head", "waiting")

    def __init__(self, head: _Job) -> None:
        self.head = head
        self.waiting: deque[_Job] = deque()


class Dispatcher:
    """Runs deliveries on worker threads, retries them on the emulator's clock and logs every attempt."""

    def __init__(self, registry: Any = None, workers: int = 16, log_size: int = 10_000) -> None:
        if workers < 1 or log_size < 1:
            raise ValueError("a dispatcher needs at least one worker and a log of at least one entry")
        self.registry = registry
        self.name = f"delivery-{next(_names)}"  # prefix of its threads' names
        self._max_workers = workers
        self._log_size = log_size
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._timer = threading.Condition(self._lock)
        self._settled = threading.Condition(self._lock)
        self._ready: deque[_Job] = deque()
        self._scheduled: list[tuple[float, int, _Job]] = []  # heap of (due, tie-breaker, job)
        self._sequence = itertools.count()
        self._lanes: dict[tuple[str, Hashable], _Lane] = {}
        self._running: set[_Job] = set()
        self._logs: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        self._workers: list[threading.Thread] = []
        self._waiting_workers = 0
        self._scheduler: threading.Thread | None = None
        self._closed = False
        self._http: Any = None
        self._http_lock = threading.Lock()

    # -- producers ---------------------------------------------------------------------------------

    def submit(self, delivery: Delivery) -> None:
        """Queues one delivery; returns at once."""
        self.submit_many((delivery,))

    def submit_many(self, deliveries: Iterable[Delivery]) -> None:
        """Queues deliveries in the order given (which is their order on a shared ordering key)."""
        now = clock.now()
        jobs = []
        for delivery in deliveries:  # describe() outside the lock: it is the producer's code
            delivery.submitted_at = now
            delivery.state = "queued"
            lane = None if delivery.ordering_key is None else (delivery.source, delivery.ordering_key)
            entry = {"id": delivery.id, "source": delivery.source, "target": delivery.target.describe(),
                     "info": dict(delivery.info), "state": "queued", "submitted": now,
                     "attempts": ()}  # a tuple, replaced on each attempt, so that log() copies it unlocked
            jobs.append(_Job(delivery, entry, lane))
        with self._lock:
            if self._closed:
                for job in jobs:
                    job.set_state("dropped")
                if jobs:
                    log.warning("%d deliveries submitted after shutdown were dropped", len(jobs))
                return
            for job in jobs:
                self._log_of(job.delivery).append(job.entry)
                if job.immediate and (job.lane is None or job.lane not in self._lanes):
                    self._record_now(job, now)  # nothing to wait for and nothing ahead of it
                    continue
                if job.lane is None:
                    self._start(job, now)
                    continue
                lane = self._lanes.get(job.lane)
                if lane is None:
                    self._lanes[job.lane] = _Lane(job)
                    self._start(job, now)
                else:
                    lane.waiting.append(job)

    # -- inspection --------------------------------------------------------------------------------

    def log(self, account: str, region: str, source: str | None = None, **info: Any) -> list[dict[str, Any]]:
        """Copies of the log entries of one account and region, oldest first, of ``source`` if given and
        whose ``info`` has each given key with an equal value."""
        with self._lock:  # only shallow copies under the lock: what they share is never changed in place
            entries = self._logs.get((account, region), ())
            found = [
                dict(entry) for entry in entries
                if (source is None or entry["source"] == source)
                and (not info or all(entry["info"].get(key, _MISSING) == value for key, value in info.items()))
            ]
        for entry in found:
            if isinstance(entry.get("payload"), Once):  # a recorded payload is built when first read
                entry["payload"] = _built(entry["payload"])
            entry["target"] = dict(entry["target"])
            entry["info"] = dict(entry["info"])
            entry["attempts"] = [dict(attempt) for attempt in entry["attempts"]]
        return found

    def idle(self) -> bool:
        """Nothing queued or running and no retry due now. A retry due later does not count (nor the
        deliveries of its lane waiting behind it): with a frozen clock it would never come."""
        with self._lock:
            return self._idle()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Blocks until ``idle()`` (True) or for ``timeout`` real seconds (False)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._idle():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._settled.wait(left)
            return True

    def http(self) -> Any:
        """The urllib3 PoolManager every HttpTarget of this dispatcher shares (keep-alive across
        deliveries). Created on first use: importing urllib3 is not free and start-up must stay fast.

        Certificates are not verified (local receivers are self-signed), so urllib3's
        InsecureRequestWarning, which it would give for every request, is silenced.
        """
        if self._http is None:
            with self._http_lock:
                if self._http is None:
                    import warnings

                    import urllib3

                    warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
                    self._http = urllib3.PoolManager(
                        num_pools=64, maxsize=self._max_workers, block=False,
                        cert_reqs="CERT_NONE", retries=False,
                    )
        return self._http

    # -- reset and shutdown ------------------------------------------------------------------------

    def reset(self, source: str | None = None) -> None:
        """Drops the queued and scheduled deliveries of ``source`` (all, if None) and its log entries.

        An attempt in flight finishes, but it is neither retried nor followed by its callbacks: they
        would act on state the reset has just forgotten.
        """
        def matches(job: _Job) -> bool:
            return source is None or job.delivery.source == source

        with self._lock:
            kept: deque[_Job] = deque()
            for job in self._ready:
                if matches(job):
                    job.set_state("dropped")
                else:
                    kept.append(job)
            self._ready = kept
            scheduled = []
            for item in self._scheduled:
                if matches(item[2]):
                    item[2].set_state("dropped")
                else:
                    scheduled.append(item)
            heapq.heapify(scheduled)
            self._scheduled = scheduled
            for key in [key for key in self._lanes if source is None or key[0] == source]:
                for job in self._lanes.pop(key).waiting:
                    job.set_state("dropped")
            for job in self._running:
                if matches(job):
                    job.cancelled = True
            if source is None:
                self._logs.clear()
            else:
                for place, entries in self._logs.items():
                    if any(entry["source"] == source for entry in entries):
                        self._logs[place] = deque((e for e in entries if e["source"] != source),
                                                  maxlen=self._log_size)
            self._settled.notify_all()
            self._timer.notify()

    def close(self) -> None:
        """Stops the workers and the scheduler, waiting at most about two seconds for them.

        Queued and scheduled work is dropped. A worker in the middle of an attempt (an HTTP request
        that takes its time) is not waited for beyond that: its thread is a daemon and ends after it.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for job in self._ready:
                job.set_state("dropped")
            for item in self._scheduled:
                item[2].set_state("dropped")
            self._ready.clear()
            self._scheduled.clear()
            self._work.notify_all()
            self._timer.notify_all()
            self._settled.notify_all()
            threads = list(self._workers) + ([self._scheduler] if self._scheduler is not None else [])
        clock.remove_listener(self._clock_moved)
        deadline = time.monotonic() + _CLOSE_WITHIN
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._http is not None:
            self._http.clear()

    # -- internals: all but the loops, _process and _attempt run under self._lock -------------------

    def _idle(self) -> bool:
        if self._ready or self._running:
            return False
        return not (self._scheduled and self._scheduled[0][0] <= clock.now())

    def _log_of(self, delivery: Delivery) -> deque[dict[str, Any]]:
        place = (delivery.account, delivery.region)
        entries = self._logs.get(place)
        if entries is None:
            entries = self._logs[place] = deque(maxlen=self._log_size)
        return entries

    def _record_now(self, job: _Job, now: float) -> None:
        """Completes a delivery to an immediate target (a recorded one) in ``submit``: its attempt only
        notes the payload, so a worker's hop would cost more than the attempt itself."""
        outcome = job.delivery.target.attempt(job.delivery, self)
        record = {"at": now, "ok": outcome.ok, "status": outcome.status, "error": outcome.error, "ms": 0.0}
        job.delivery.attempts.append(record)
        job.entry["attempts"] = (record,)
        if outcome.logged:
            job.entry.update(outcome.logged)
        job.set_state("delivered" if outcome.ok else "failed")

    def _start(self, job: _Job, now: float) -> None:
        """A submitted job: ready now, or scheduled for its ``not_before`` (a producer's rate limit)."""
        not_before = job.delivery.not_before
        if not_before is not None and not_before > now:
            self._schedule(job, not_before - now)
        else:
            self._make_ready(job)

    def _make_ready(self, job: _Job) -> None:
        if self._closed:  # a lane passing on, or a retry coming due, while close() waits for the threads
            job.set_state("dropped")
            return
        self._ready.append(job)
        self._work.notify()
        if len(self._ready) > self._waiting_workers and len(self._workers) < self._max_workers:
            worker = self._start_thread(self._work_loop, f"{self.name}-worker-{len(self._workers) + 1}")
            if worker is not None:
                self._workers.append(worker)

    def _start_thread(self, run: Callable[[], None], name: str) -> threading.Thread | None:
        thread = threading.Thread(target=run, name=name, daemon=True)
        try:
            thread.start()
        except RuntimeError:  # the system refuses more threads: the ones running will do the work
            log.exception("could not start %s", name)
            return None
        return thread

    def _schedule(self, job: _Job, delay: float) -> None:
        if delay <= 0:
            self._make_ready(job)
            return
        heapq.heappush(self._scheduled, (clock.now() + delay, next(self._sequence), job))
        if self._scheduler is None:
            self._scheduler = self._start_thread(self._schedule_loop, f"{self.name}-scheduler")
            if self._scheduler is not None:  # it waits for self._lock, so no move of the clock is missed
                clock.on_change(self._clock_moved)
        self._timer.notify()

    def _clock_moved(self) -> None:
        with self._lock:
            self._timer.notify()

    def _schedule_loop(self) -> None:
        with self._lock:
            while not self._closed:
                now = clock.now()
                while self._scheduled and self._scheduled[0][0] <= now:
                    self._make_ready(heapq.heappop(self._scheduled)[2])
                if self._scheduled and not clock.is_frozen():
                    self._timer.wait(self._scheduled[0][0] - now)
                else:
                    self._timer.wait()

    def _work_loop(self) -> None:
        while True:
            with self._lock:
                while not self._ready and not self._closed:
                    self._waiting_workers += 1
                    self._work.wait()
                    self._waiting_workers -= 1
                if self._closed:
                    return
                job = self._ready.popleft()
                self._running.add(job)
                job.set_state("running")
            try:
                self._process(job)
            except Exception:  # a bug of ours: logged, and the job settled, so the worker lives on
                log.exception("delivery %s: internal failure", job.delivery.id)
                with self._lock:
                    if job in self._running:
                        job.set_state("failed")
                        self._finish(job)

    def _process(self, job: _Job) -> None:
        """One attempt of ``job`` and what follows from it: a retry, or its end and its callback."""
        delivery = job.delivery
        started = clock.now()
        began = time.monotonic()
        outcome = self._attempt(delivery)
        record = {"at": started, "ok": outcome.ok, "status": outcome.status, "error": outcome.error,
                  "ms": round((time.monotonic() - began) * 1000, 3)}
        delay = None
        if not outcome.ok and outcome.retryable and not job.cancelled:
            delay = self._next_delay(delivery, outcome)
        with self._lock:
            delivery.attempts.append(record)
            job.entry["attempts"] += (record,)
            if outcome.logged:
                job.entry.update(outcome.logged)
            if job.cancelled or self._closed:
                job.set_state("delivered" if outcome.ok else "dropped")
                self._finish(job)
                return
            if outcome.ok:
                job.set_state("delivered")
                callback = delivery.on_success
            elif delay is not None:
                job.set_state("retrying")
                self._running.discard(job)
                self._schedule(job, delay)
                self._settled.notify_all()
                return
            else:
                job.set_state("failed")
                callback = delivery.on_failure
        if callback is not None:
            try:
                callback(delivery, outcome)
            except Exception:
                log.exception("delivery %s: its %s callback failed", delivery.id, job.entry["state"])
        with self._lock:
            self._finish(job)

    def _attempt(self, delivery: Delivery) -> Outcome:
        try:
            return delivery.target.attempt(delivery, self)
        except Exception as exc:
            log.exception("delivery %s: the target failed", delivery.id)
            return Outcome(ok=False, retryable=True, error=repr(exc))

    def _next_delay(self, delivery: Delivery, outcome: Outcome) -> float | None:
        try:
            return delivery.retry.delay(len(delivery.attempts) + 1, clock.now() - delivery.submitted_at, outcome)
        except Exception:
            log.exception("delivery %s: its retry policy failed; no retry", delivery.id)
            return None

    def _finish(self, job: _Job) -> None:
        """``job`` has ended: it leaves the running set and its lane passes to the next delivery."""
        self._running.discard(job)
        if job.lane is not None:
            lane = self._lanes.get(job.lane)
            if lane is not None and lane.head is job:  # else a reset has dropped the lane
                if lane.waiting:
                    lane.head = lane.waiting.popleft()
                    self._make_ready(lane.head)
                else:
                    del self._lanes[job.lane]
        self._settled.notify_all()


def _built(payload: Once) -> Any:
    """A recorded payload, built on first read; a failure to build it is logged and shown, not raised."""
    try:
        return payload.get()
    except Exception as exc:  # a bug of ours must not break the inspection endpoints
        log.exception("could not build a recorded payload")
        return {"error": f"the payload could not be built: {exc!r}"}
