"""Tjenestebevis domain rules, each with a hand-made case: identity, records, length of employment."""

from __future__ import annotations

from datetime import date

import pytest

from connectors.identifiers import fnr_birth_date, fnr_check_digits, normalise_fnr
from connectors.periods import years_and_months, years_and_months_no
from flows.tjenestebevis.certificate import Position, check_identity, check_records


def employment_length(positions: list[Position], as_of: date) -> tuple[int, int]:
    """What the letter states as the total length (flows.tjenestebevis.process.issue)."""
    return years_and_months([(p.start, p.end) for p in positions], as_of)


def fnr(first9: str) -> str:
    """An fnr with valid check digits (the individual number varied until both exist)."""
    for n in range(1000):
        candidate = first9[:6] + f"{(int(first9[6:9]) + n) % 1000:03d}"
        digits = fnr_check_digits(candidate)
        if digits:
            return candidate + digits
    raise AssertionError(first9)


def pos(start: str, end: str | None, percent: float = 100, row: int = 2, title: str = "Konsulent") -> Position:
    d = date.fromisoformat
    return Position(row, "x", "Kari Nordmann", title, "Bydel Frogner", d(start), d(end) if end else None, percent)


@pytest.mark.parametrize("number, born", [
    (fnr("010185123"), date(1985, 1, 1)),          # ordinary, individual number 123 -> 1900s
    (fnr("410185123"), date(1985, 1, 1)),          # D-number: day + 40
    (fnr("015185123"), date(1985, 11, 1)),         # NAV synthetic: month + 40
    (fnr("019185123"), date(1985, 11, 1)),         # Tenor synthetic: month + 80
    (fnr("010105512"), date(2005, 1, 1)),          # 500-999 with year 00-39 -> 2000s
    (fnr("010160950"), date(1960, 1, 1)),          # 900-999 with year 40-99 -> 1900s
    (fnr("010160600"), date(1860, 1, 1)),          # 500-749 with year 54-99 -> 1800s
    (fnr("010145600"), None),                      # 500-749 with year 40-53 names no century
])
def test_birth_date_from_identity_number(number: str, born: date | None) -> None:
    assert fnr_birth_date(number) == born


def test_leading_zero_lost_by_excel_is_put_back() -> None:
    number = fnr("050585123")
    assert normalise_fnr(number.lstrip("0")) == number
    assert fnr_birth_date(normalise_fnr(int(number))) == date(1985, 5, 5)


def test_invalid_check_digits_is_invalid_fnr() -> None:
    bad = fnr("010185123")[:-1] + str((int(fnr("010185123")[-1]) + 1) % 10)
    finding = check_identity(bad)
    assert finding is not None and finding.category == "INVALID_FNR"
    assert "kontrollsifrene" in finding.message


def test_overlapping_positions_counted_once() -> None:
    # 01.01.2020-31.12.2021 full time and 01.01.2021-30.06.2022 part time overlap for a year:
    # employed 01.01.2020-30.06.2022 = 2 years 6 months, not 3 years 6 months.
    positions = [pos("2020-01-01", "2021-12-31", 60), pos("2021-01-01", "2022-06-30", 40, row=3)]
    assert employment_length(positions, date(2026, 1, 1)) == (2, 6)
    assert years_and_months_no(2, 6) == "2 år og 6 måneder"


def test_ongoing_position_runs_to_the_issue_date_and_gaps_are_not_counted() -> None:
    positions = [pos("2019-03-01", "2019-08-31"), pos("2024-01-15", None, row=3)]
    # 6 months, then 15.01.2024-14.03.2026 = 2 years 2 months
    assert employment_length(positions, date(2026, 3, 14)) == (2, 8)


def test_end_before_start_is_inconsistent() -> None:
    finding = check_records([pos("2022-05-01", "2021-04-30", row=7)], 100, date(2026, 1, 1))
    assert finding is not None and finding.category == "INCONSISTENT_RECORDS"
    assert "rad 7" in finding.message and "30.04.2021" in finding.message and "01.05.2022" in finding.message


def test_total_percent_over_the_limit_names_the_day_and_positions() -> None:
    positions = [pos("2020-01-01", None, 80, row=2, title="Sykepleier"),
                 pos("2023-02-01", "2023-12-31", 40, row=3, title="Vikar")]
    finding = check_records(positions, 100, date(2026, 1, 1))
    assert finding is not None and finding.category == "INCONSISTENT_RECORDS"
    assert "120 %" in finding.message and "01.02.2023" in finding.message
    assert "Sykepleier 80 % (rad 2)" in finding.message and "Vikar 40 % (rad 3)" in finding.message
    assert check_records(positions, 120, date(2026, 1, 1)) is None
