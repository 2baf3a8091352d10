"""Calendar periods, for any process that counts time spans (employment, claims, leases): join
overlapping or adjoining periods so each day counts once, and their length in years and months,
said in Norwegian; the tertial, the period municipal reporting uses (T1 January-April, T2
May-August, T3 September-December); and calendar months (a month is its first day).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

__all__ = ["MONTHS_NB", "Tertial", "add_months", "merge_periods", "month_key", "month_label", "parse_month",
           "total_months", "years_and_months", "years_and_months_no"]

MONTHS_NB = ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september",
             "oktober", "november", "desember"]


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


@dataclass(frozen=True, order=True)
class Tertial:
    year: int
    number: int  # 1, 2, 3

    def __post_init__(self) -> None:
        if self.number not in (1, 2, 3):
            raise ValueError(f"tertial number must be 1, 2 or 3, not {self.number}")

    @classmethod
    def containing(cls, day: date) -> Tertial:
        return cls(day.year, (day.month - 1) // 4 + 1)

    @classmethod
    def for_run(cls, today: date | None = None) -> Tertial:
        """The tertial containing yesterday: the scheduled run on the first day of a tertial reports
        the one that just ended; a run in the middle of a tertial reports the current state."""
        return cls.containing((today or date.today()) - timedelta(days=1))

    @classmethod
    def parse(cls, text: str) -> Tertial:
        """'2018-T3', '2018-3', '3. tertial 2018' or 'T3 2018'."""
        t = text.strip()
        m = (re.fullmatch(r"(\d{4})\s*-?\s*[Tt]?([123])", t) or re.fullmatch(r"[Tt]([123])\s+(\d{4})", t)
             or re.fullmatch(r"([123])\.\s*tertial\s+(\d{4})", t, re.I))
        if not m:
            raise ValueError(f"ukjent periode {text!r}: bruk f.eks. 2026-T1 (tertial 1-3)")
        a, b = m.groups()
        year, number = (int(a), int(b)) if len(a) == 4 else (int(b), int(a))
        return cls(year, number)

    @property
    def code(self) -> str:
        return f"{self.year}-T{self.number}"

    @property
    def label(self) -> str:
        return f"{self.number}. tertial {self.year}"

    @property
    def start(self) -> date:
        return date(self.year, 4 * (self.number - 1) + 1, 1)

    @property
    def end(self) -> date:
        return (date(self.year + 1, 1, 1) if self.number == 3 else date(self.year, 4 * self.number + 1, 1)) \
            - timedelta(days=1)

    def previous(self) -> Tertial:
        return Tertial(self.year - 1, 3) if self.number == 1 else Tertial(self.year, self.number - 1)

    def __str__(self) -> str:
        return self.code


def month_label(month: date) -> str:
    """"oktober 2026"."""
    return f"{MONTHS_NB[month.month - 1]} {month.year}"


def month_key(month: date) -> str:
    """"2026-10"."""
    return f"{month.year:04d}-{month.month:02d}"


def add_months(month: date, n: int) -> date:
    """The first day of the month `n` months after `month`'s (before, for a negative `n`)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def parse_month(value: str) -> date:
    """`2026-10` (or a full date) -> the first day of that month; a clear error otherwise."""
    try:
        if len(value) == 7:
            return datetime.strptime(value, "%Y-%m").date()
        d = date.fromisoformat(value)
        return d.replace(day=1)
    except ValueError:
        raise ValueError(f"month {value!r}: expected YYYY-MM, e.g. 2026-10") from None
