"""Asking a source for many requests at once: WORKERS threads, and retries scheduled, never slept.

A request that must wait before its retry (urllib3's backoff, a Retry-After) does not hold a
worker through the wait: the client raises `http.Backoff` (inside `http.deferred()`), the request
is put aside until its wait is over, and the worker takes the next one. It is then asked again
from the same Retry state, so each request keeps its own budget and its polite backoff. At most
WORKERS requests are on the wire at once.

`stop()` (the source looks down) asks nothing more: the requests never begun are handed back,
and those waiting for a retry are answered with their last error, unasked.

The threads only ask, never write: answers are handed to the one thread that iterates the pool,
which stores them. When that thread stops early (the daemon's stop, Ctrl-C) the workers finish
the attempt they are in and end; nothing they hold is lost, as nothing was stored by them.
"""

import heapq
import itertools
import threading
import time
from collections import deque

from ..errors import Interrupted
from ..sources import http

# Requests asked at once: their waits (an answer that never comes) overlap instead of adding up,
# and four connections stay polite to a public API (a browser opens six per host).
WORKERS = 4
# Requests begun and not answered yet, on the wire or waiting for a retry: a source that fails
# everything meets at most this many before three failures in a row stop the asking.
OPEN = 2 * WORKERS


class Pool:
    """Asks `ask(*request)` for each request and yields (request, rates or the exception raised)
    as each answer arrives, in the order they arrive."""

    def __init__(self, ask, requests: list, workers: int = WORKERS):
        self._ask = ask
        self._planned = deque(requests)  # not asked yet
        self._retries: list = []  # heap of (due, n, request, Retry state): waiting for their backoff
        self._order = itertools.count()
        self._answers: deque = deque()
        self._expected = len(requests)  # answers still to come
        self._open = 0  # begun and not yet taken by the iterating thread
        self._closed = self._stopped = False
        self._lock = threading.Condition()
        self._threads = [threading.Thread(target=self._work, name=f"ask-{n}", daemon=True)
                         for n in range(min(workers, len(requests)))]

    def __enter__(self) -> "Pool":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    def join(self, timeout: float) -> bool:
        """Wait for the workers to end (after the pool was left); whether they all did."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))
        return not any(thread.is_alive() for thread in self._threads)

    def _next(self):
        """(request, Retry state or None) for a worker: a retry whose wait is over first, then the
        next planned request; None when the pool is closed or nothing is left to ask."""
        with self._lock:
            while not self._closed:
                now = time.monotonic()
                if self._retries and self._retries[0][0] <= now:
                    _, _, request, retry, _ = heapq.heappop(self._retries)
                    return request, retry
                # A new request begins once an answer has been taken (as many as WORKERS on the
                # wire or waiting to be taken), or in the place of one waiting for its retry.
                busy = self._open - len(self._retries)
                if self._planned and busy < len(self._threads) and self._open < OPEN:
                    self._open += 1
                    return self._planned.popleft(), None
                if not self._retries and not self._planned:
                    return None  # every request is on a worker or answered
                self._lock.wait(self._retries[0][0] - now if self._retries else None)
            return None

    def _work(self) -> None:
        while (taken := self._next()) is not None:
            request, retry = taken
            try:
                with http.deferred(retry):
                    answer = self._ask(*request)
            except http.Backoff as wait:
                with self._lock:
                    if self._stopped:
                        self._answered(request, wait.error)
                    else:
                        heapq.heappush(self._retries, (time.monotonic() + wait.seconds, next(self._order), request,
                                                       wait.retry, wait.error))
                    self._lock.notify_all()
                continue
            except Exception as exc:  # handed to the taker, who decides
                answer = exc
            with self._lock:
                self._answered(request, answer)
                self._lock.notify_all()

    def _answered(self, request, answer) -> None:
        """(Under the lock.) One request done: its answer for the taker."""
        self._answers.append((request, answer))

    def __iter__(self):
        handed = False  # an answer was given out: its place is free once the taker is back for the next
        while True:
            with self._lock:
                if handed:
                    self._open -= 1
                    self._lock.notify_all()
                while not self._answers and self._expected:
                    if http.STOP.is_set():  # the daemon stops: no waiting out a Retry-After
                        raise Interrupted("stopping")
                    self._lock.wait(0.5)
                if not self._expected:
                    return
                self._expected -= 1
                answer, handed = self._answers.popleft(), True
            yield answer

    def stop(self) -> list:
        """Ask nothing more: returns the requests never begun. Those waiting for a retry arrive
        now with their last error; those on a worker arrive when their attempt ends."""
        with self._lock:
            self._stopped = True
            unasked = list(self._planned)
            self._planned.clear()
            self._expected -= len(unasked)
            while self._retries:
                _, _, request, _, error = heapq.heappop(self._retries)
                self._answered(request, error)
            self._lock.notify_all()
        return unasked
