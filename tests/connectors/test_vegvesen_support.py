"""The rate limiter (with a fake clock: no timings in tests) and the lookup cache."""

from __future__ import annotations

import threading

from connectors.vegvesen.cache import LookupCache
from connectors.vegvesen.ratelimit import RateLimiter


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_slots_are_evenly_spaced_without_bursts():
    clock = FakeClock()
    limiter = RateLimiter(20, clock=clock)
    slots = [limiter.reserve() for _ in range(5)]
    assert [round(b - a, 6) for a, b in zip(slots, slots[1:], strict=False)] == [0.05] * 4


def test_pause_moves_every_later_slot():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock)
    limiter.reserve()
    limiter.pause_for(30)
    assert limiter.reserve() >= clock.now + 30


def test_acquire_gives_up_when_stopped():
    limiter = RateLimiter(0.01)  # a slot every 100 s
    limiter.reserve()
    stop = threading.Event()
    stop.set()
    assert limiter.acquire(stop) is False


def test_cache_honours_max_age(tmp_path):
    cache = LookupCache(tmp_path / "cache.sqlite")
    cache.put("api", "EK39085", {"a": 1}, fetched_at=1.0)  # long ago
    assert cache.get("api", "EK39085", max_age_seconds=3600) is None
    cache.put("api", "EK39085", {"a": 2})
    assert cache.get("api", "EK39085", max_age_seconds=3600) == {"a": 2}
    assert cache.get("api", "EK39085", max_age_seconds=0) is None  # 0 disables
    assert cache.purge(older_than_seconds=-1) == 1
    cache.close()
