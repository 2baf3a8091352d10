"""The one retry arithmetic of the HTTP connectors: exponential backoff, capped and jittered,
and the server's Retry-After (delta-seconds or an HTTP date) read the same way everywhere.

The loops stay in each client, because what is transient differs per system (NAV retries 429,
Statens vegvesen hands a quota 429 to its caller); how long to wait does not.
"""

from __future__ import annotations

import email.utils
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

Default = TypeVar("Default", float, None)


@dataclass(frozen=True)
class RetryPolicy:
    """How often one request is tried and how long to wait before try `attempt + 1`."""

    max_attempts: int = 3
    backoff_seconds: float = 0.5
    backoff_factor: float = 2.0
    max_backoff_seconds: float = 10.0
    max_retry_after_seconds: float | None = None  # None: the server's wait is capped like our own backoff
    jitter: float = 0.0  # +- this fraction, so clients that failed together do not retry together

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based); the server's `retry_after`
        (already parsed) wins over our own backoff, up to the cap."""
        if retry_after is not None:
            cap = self.max_backoff_seconds if self.max_retry_after_seconds is None else self.max_retry_after_seconds
            return min(retry_after, cap)
        base = min(self.backoff_seconds * self.backoff_factor ** (attempt - 1), self.max_backoff_seconds)
        return base * (1 + random.uniform(-self.jitter, self.jitter)) if self.jitter else base


def parse_retry_after(value: str | None, default: Default) -> float | Default:
    """Retry-After as delta-seconds or an HTTP date (a date without zone is UTC), never negative;
    `default` when absent or unreadable."""
    if not value or not value.strip():
        return default
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else default
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
