"""A thread-safe pacer for requests to one system: an even rate, and a shared pause. Shared by
every client that must keep to a rate: the vehicle registry's lookups (connectors.vegvesen, the
web bot) and the finance API door of invoice attachment upload (the definition's rate limit).

Every thread calls `acquire()` before its request. Slots are handed out `1/rate` seconds
apart (no bursts: the registry counts requests per second, and an even spacing is what lets a
client run at the limit without tripping it). `pause_for(seconds)` moves every future slot past
the pause: one 429 or short 422 stops all threads, not just the one that saw it.

The rate adapts to the registry (additive increase, multiplicative decrease, as TCP does):
`slow_down()` after a 429 lowers it by 5 % (never below `min_rate`) and remembers a ceiling just
under the rate that was refused (98 % of it); `speed_up()` after a run of answered requests raises it by 1 % of
the configured rate up to that ceiling, which itself creeps back up slowly (a tenth as fast)
towards the configured rate. So a registry whose clock counts a little differently from ours
(network and scheduling jitter) costs a few 429s per run, not one every few seconds.

`refused(retry_after, …)` is what a thread calls when the registry refuses with a Retry-After:
a short wait pauses every thread and the request is tried again; a long one (a daily quota
spent), or too many short ones in a run, is the caller's to stop and defer.

With `window=(n, guard)` it also mirrors a registry that counts "at most n requests in any one
second": a slot is never earlier than the *actual* send of the request n places back plus one
second and `guard`. A thread that woke up late (a busy machine) thus never squeezes the next
second's requests together: the registry sees the spacing we meant, not the one the scheduler
left us.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate_per_second: float, *, min_rate: float | None = None,
                 window: tuple[int, float] | None = None, clock: Callable[[], float] = time.monotonic):
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.max_rate = rate_per_second
        self.min_rate = min(min_rate or rate_per_second / 2, rate_per_second)
        self.interval = 1.0 / rate_per_second
        self.ceiling = rate_per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._next = clock()
        self.paused_until = 0.0
        self.acquired = 0
        self.waits = 0           # short pauses waited out (refused, not too fast)
        self.too_fast = 0        # refusals for going too fast (429)
        self._window = window if window and window[0] >= 2 else None
        # Send times of the last n requests: planned when reserved, replaced by the actual time.
        self._sent: deque[list[float]] = deque(maxlen=self._window[0] if self._window else 1)

    @property
    def rate(self) -> float:
        return 1.0 / self.interval

    def _take(self) -> list[float]:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next, self.paused_until)
            if self._window and len(self._sent) == self._sent.maxlen:
                slot = max(slot, self._sent[0][0] + 1.0 + self._window[1])
            self._next = slot + self.interval
            self.acquired += 1
            entry = [slot]
            if self._window:
                self._sent.append(entry)
            return entry

    def reserve(self) -> float:
        """Take the next slot; returns the monotonic time at which it may be used."""
        return self._take()[0]

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait for a slot. Returns False (without waiting it out) when `stop` is set meanwhile."""
        entry = self._take()
        slot = entry[0]
        while True:
            wait = slot - self._clock()
            if wait <= 0:
                entry[0] = max(slot, self._clock())  # the actual send time
                return not (stop and stop.is_set())
            if stop is not None:
                if stop.wait(wait):
                    return False
            else:
                time.sleep(wait)

    def slow_down(self, factor: float = 0.95) -> None:
        with self._lock:
            self._slow_down(factor)

    def _slow_down(self, factor: float = 0.95) -> None:
        refused = 1.0 / self.interval
        self.ceiling = max(self.min_rate, refused * 0.98)
        self.interval = 1.0 / max(refused * factor, self.min_rate)

    def speed_up(self, step: float = 0.01) -> None:
        with self._lock:
            self.ceiling = min(self.max_rate, self.ceiling + self.max_rate * step / 10)
            self.interval = 1.0 / min(1.0 / self.interval + self.max_rate * step, self.ceiling)

    def pause_for(self, seconds: float) -> None:
        """No slot before now + seconds, for every thread."""
        with self._lock:
            self._pause_for(seconds)

    def _pause_for(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self._clock() + max(seconds, 0.0))
        self._next = max(self._next, self.paused_until)

    def refused(self, retry_after: float, *, too_fast: bool, max_wait: float, max_waits: int) -> float | None:
        """The registry refused a request, asking for `retry_after` seconds. None: do not wait (longer
        than `max_wait`, or `max_waits` short pauses already this run); else every thread pauses and
        the request is tried again: the seconds of a pause this call started (0.0 when one was on
        already: the same refusal seen by several threads counts once). `too_fast` (a 429) also
        slows the pace a little: the registry's clock says we are too fast."""
        if retry_after > max_wait:
            return None
        with self._lock:
            already = self.paused_until > self._clock()
            if too_fast:
                self.too_fast += 1
                if not already:
                    self._slow_down()
            elif not already:
                if self.waits >= max_waits:
                    return None
                self.waits += 1
            self._pause_for(retry_after)
        return 0.0 if already else retry_after
