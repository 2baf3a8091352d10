"""A thread-safe pacer for requests to one system: an even rate, and a shared pause.

Every lookup thread calls `acquire()` before its request. Slots are handed out `1/rate` seconds
apart (no bursts: the registry counts requests per second, and an even spacing is what lets a
client run at the limit without tripping it). `pause_for(seconds)` moves every future slot past
the pause: one 429 or short 422 stops all threads, not just the one that saw it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate_per_second: float, *, clock: Callable[[], float] = time.monotonic):
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.interval = 1.0 / rate_per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._next = clock()
        self.paused_until = 0.0
        self.acquired = 0

    @property
    def rate(self) -> float:
        return 1.0 / self.interval

    def reserve(self) -> float:
        """Take the next slot; returns the monotonic time at which it may be used."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next, self.paused_until)
            self._next = slot + self.interval
            self.acquired += 1
            return slot

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait for a slot. Returns False (without waiting it out) when `stop` is set meanwhile."""
        slot = self.reserve()
        while True:
            wait = slot - self._clock()
            if wait <= 0:
                return not (stop and stop.is_set())
            if stop is not None:
                if stop.wait(wait):
                    return False
            else:
                time.sleep(wait)

    def pause_for(self, seconds: float) -> None:
        """No slot before now + seconds, for every thread."""
        with self._lock:
            until = self._clock() + max(seconds, 0.0)
            self.paused_until = max(self.paused_until, until)
            self._next = max(self._next, self.paused_until)
