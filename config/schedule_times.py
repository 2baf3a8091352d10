"""When a cron schedule runs next, in its own time zone (daylight saving included): the review
app's process console shows the next five run times beside the schedule in words
(config/schedule_text.py)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cronsim import CronSim  # what Prefect's own cron schedules use


def next_runs(cron: str, timezone: str, after: datetime | None = None, count: int = 5) -> list[datetime]:
    """The next `count` times `cron` fires after `after` (default: now), in `timezone`."""
    zone = ZoneInfo(timezone)
    start = (after or datetime.now(UTC)).astimezone(zone)
    it = CronSim(cron, start)
    return [next(it) for _ in range(count)]


def last_run(cron: str, timezone: str, before: datetime) -> datetime | None:
    """The latest time `cron` fires in `timezone` at or before `before`, in UTC (None: never)."""
    with contextlib.suppress(StopIteration):
        return next(CronSim(cron, before.astimezone(ZoneInfo(timezone)), reverse=True)).astimezone(UTC)
    return None
