"""What a tjenestebevis says, and when a person must look first (pure functions, no I/O).

Arbeidsmiljøloven § 15-15: name, date of birth (never the fnr), what the work consisted of, and
how long the employment lasted. The length counts each day once however many positions cover it
(connectors.periods).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from connectors import norwegian
from connectors.identifiers import fnr_birth_date, valid_fnr


@dataclass(frozen=True)
class Position:
    row: int                 # row in the employment export, as Excel numbers it
    fnr: str
    name: str
    title: str
    unit: str
    start: date | None
    end: date | None         # None: ongoing
    percent: float | None
    duties: str = ""
    problem: str = ""        # a cell that could not be read, in Norwegian


class Finding(NamedTuple):  # why a request goes to HR instead of getting a letter
    category: str
    message: str  # Norwegian, what HR does


def check_identity(fnr: str) -> Finding | None:
    if not valid_fnr(fnr):
        return Finding("INVALID_FNR", "Fødselsnummeret i bestillingen er ugyldig (kontrollsifrene stemmer ikke). "
                                      "Rett fødselsnummeret i bestillingen.")
    if fnr_birth_date(fnr) is None:
        return Finding("INVALID_FNR", "Fødselsnummeret gir ingen gyldig fødselsdato. Rett fødselsnummeret.")
    return None


def check_records(positions: list[Position], max_percent: float, as_of: date) -> Finding | None:
    """INCONSISTENT_RECORDS for unreadable cells, an end before its start, or more than
    `max_percent` stillingsprosent in total on some day (naming the first such day)."""
    problems = [f"rad {p.row}: {p.problem}" for p in positions if p.problem]
    problems += [f"rad {p.row} ({p.title}): sluttdato {norwegian.fmt_date(p.end)} er før startdato {norwegian.fmt_date(p.start)}"
                 for p in positions if p.start and p.end and p.end < p.start]
    if problems:
        return Finding("INCONSISTENT_RECORDS", "Arbeidsforholdene kan ikke brukes som de er: "
                       + "; ".join(problems) + ". Rett registreringen i HR-systemet.")
    day, over = first_day_over(positions, max_percent, as_of)
    if day is not None:
        total = sum(p.percent or 0 for p in over)
        named = ", ".join(f"{p.title} {fmt_percent(p.percent)} (rad {p.row})" for p in over)
        return Finding("INCONSISTENT_RECORDS", f"Samlet stillingsprosent er {fmt_percent(total)} den {norwegian.fmt_date(day)}, "
                       f"over grensen på {fmt_percent(max_percent)}: {named}. Kontroller stillingene i HR-systemet.")
    return None


def first_day_over(positions: list[Position], limit: float, as_of: date) -> tuple[date | None, list[Position]]:
    """The first day the positions held add up to more than `limit`, and those positions."""
    changes = sorted({p.start for p in positions if p.start})
    for day in changes:
        held = [p for p in positions if p.start and p.start <= day <= (p.end or as_of)]
        if sum(p.percent or 0 for p in held) > limit + 1e-9:
            return day, held
    return None, []


def fmt_percent(value: float | None) -> str:
    return "–" if value is None else norwegian.fmt_percent(value / 100, decimals=None)  # 62.5 -> «62,5 %»
