"""Tertials: the climate report's period (T1 January-April, T2 May-August, T3 September-December)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta


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
