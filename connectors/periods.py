"""Calendar periods, for any process that counts time spans (employment, claims, leases): join
overlapping or adjoining periods so each day counts once, and their length in years and months,
said in Norwegian.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

__all__ = ["merge_periods", "total_months", "years_and_months", "years_and_months_no"]


def merge_periods(periods: Iterable[tuple[date | None, date | None]], as_of: date) -> list[tuple[date, date]]:
    """Continuous stretches (inclusive) of `(start, end)` periods: overlapping or adjoining ones
    joined; an open end (None) runs to `as_of`; nothing after `as_of`; no start, no period."""
    spans = sorted((start, min(end or as_of, as_of)) for start, end in periods if start and start <= as_of)
    out: list[tuple[date, date]] = []
    for start, end in spans:
        if out and start <= out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def total_months(periods: Iterable[tuple[date | None, date | None]], as_of: date) -> int:
    """The months the periods cover, each day once: whole calendar months per continuous
    stretch, and the days left over in all stretches together counted as 30 per month."""
    months = days = 0
    for start, end in merge_periods(periods, as_of):
        span = relativedelta(end + timedelta(days=1), start)
        months += span.years * 12 + span.months
        days += span.days
    return months + days // 30


def years_and_months(periods: Iterable[tuple[date | None, date | None]], as_of: date) -> tuple[int, int]:
    """(years, months) the periods cover (total_months split)."""
    return divmod(total_months(periods, as_of), 12)


def years_and_months_no(years: int, months: int) -> str:
    """"2 år og 6 måneder", "1 måned", "3 år"."""
    parts = [f"{years} år"] if years else []
    if months or not years:
        parts.append(f"{months} {'måned' if months == 1 else 'måneder'}")
    return " og ".join(parts)
