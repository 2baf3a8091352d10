"""The rate limiter (with a fake clock: no timings in tests) and the lookup cache."""

from __future__ import annotations

import threading

from connectors.ratelimit import RateLimiter
from connectors.vegvesen.cache import LookupCache


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


def test_rate_adapts_down_after_429_and_back_up_to_the_limit():
    limiter = RateLimiter(20, clock=FakeClock())
    limiter.slow_down()
    assert round(limiter.rate, 3) == 19.0 and round(limiter.ceiling, 3) == 19.6  # just under what was refused
    for _ in range(10):
        limiter.speed_up()
    assert round(limiter.rate, 3) == round(limiter.ceiling, 3) < 20  # back up to the ceiling, not past it
    for _ in range(100):
        limiter.slow_down()
    assert limiter.rate == 10.0  # never below half the configured rate
    for _ in range(10_000):
        limiter.speed_up()
    assert round(limiter.rate, 6) == 20.0  # the ceiling creeps back to the configured rate, never above


def test_window_mode_keeps_n_per_second_by_actual_send_times():
    clock = FakeClock()
    limiter = RateLimiter(100, window=(3, 0.05), clock=clock)  # even spacing alone would allow 100/s
    first = [limiter.reserve() for _ in range(3)]
    assert limiter.reserve() >= first[0] + 1.05  # the 4th waits for the 1st's second to pass


def test_a_refusal_pauses_every_thread_once_and_too_many_mean_defer():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock)
    assert limiter.refused(300, too_fast=False, max_wait=120, max_waits=5) is None  # the quota: defer
    assert limiter.refused(5, too_fast=False, max_wait=120, max_waits=1) == 5  # a pause starts
    assert limiter.refused(5, too_fast=False, max_wait=120, max_waits=1) == 0.0  # the same pause, seen again
    assert limiter.reserve() >= clock.now + 5
    clock.now += 10
    assert limiter.refused(5, too_fast=False, max_wait=120, max_waits=1) is None  # one short wait per run here
    rate = limiter.rate
    assert limiter.refused(1, too_fast=True, max_wait=120, max_waits=1) == 1  # 429: wait, and slow down
    assert limiter.rate < rate and (limiter.waits, limiter.too_fast) == (1, 1)
