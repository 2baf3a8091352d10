"""The connectors' one Retry-After reader and backoff policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connectors.http_retry import RetryPolicy, parse_retry_after


@pytest.mark.parametrize("value, expected", [
    ("120", 120), (" 7 ", 7), ("1.5", 1.5), ("0", 0), ("-5", 0),  # never negative
    (None, "default"), ("", "default"), ("  ", "default"), ("garbage", "default"),
    ("nan", "default"), ("inf", "default"),
])
def test_delta_seconds_and_unreadable_values(value, expected):
    assert parse_retry_after(value, 5.0) == (5.0 if expected == "default" else expected)


def test_an_http_date_is_the_time_until_then():
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    assert 55 < parse_retry_after(in_a_minute, None) <= 60
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", None) == 0  # in the past: at once


def test_a_date_without_zone_is_utc():
    naive = (datetime.now(UTC) + timedelta(seconds=60)).strftime("%a, %d %b %Y %H:%M:%S -0000")
    assert 55 < parse_retry_after(naive, None) <= 60


def test_backoff_grows_is_capped_and_jittered():
    policy = RetryPolicy(backoff_seconds=0.5, backoff_factor=2, max_backoff_seconds=3)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3, 3]
    jittered = RetryPolicy(backoff_seconds=10, jitter=0.1)
    assert all(9 <= jittered.delay(1) <= 11 for _ in range(50))
    assert RetryPolicy(backoff_seconds=0).delay(3) == 0


def test_the_servers_wait_wins_up_to_its_cap():
    policy = RetryPolicy(backoff_seconds=0.5, max_backoff_seconds=10, jitter=0.1)
    assert policy.delay(1, retry_after=4) == 4  # not jittered: the server said when
    assert policy.delay(1, retry_after=600) == 10  # capped like our own backoff
    assert RetryPolicy(max_backoff_seconds=10, max_retry_after_seconds=30).delay(1, retry_after=600) == 30
    assert RetryPolicy(backoff_seconds=0.5).delay(1, retry_after=None) == 0.5
