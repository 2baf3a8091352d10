"""The one Norwegian style for what staff read (connectors.norwegian), as the review app, the
decision messages, the invoice receipts and the tjenestebevis findings show it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connectors import norwegian as no

NB = "\u00a0"


@pytest.mark.parametrize("value, text", [
    (1234.5, "1 234,50"), (Decimal("-1234.5"), "\u22121 234,50"), (0, "0,00"), (1234567, "1 234 567,00"),
    (0.005, "0,00"), (None, ""),  # half to even, as Decimal rounds
])
def test_amount(value, text):
    assert no.fmt_amount(value) == text


def test_kroner_and_ore_stay_on_one_line():
    assert no.fmt_kr(2308) == f"2{NB}308,00{NB}kr"
    assert no.fmt_ore(123450) == f"1{NB}234,50{NB}kr"
    assert no.fmt_kr(None) == no.fmt_ore(None) == ""


def test_the_decision_checks_and_the_review_app_share_the_style():
    from review.formatting import fmt_amount
    from workqueue.actions import kr

    assert kr(-26114) == fmt_amount(-26114) == "\u221226 114,00"


@pytest.mark.parametrize("value, text", [
    (date(2026, 3, 1), "01.03.2026"),
    (datetime(2026, 3, 1, 23, 30, tzinfo=UTC), "02.03.2026"),  # Oslo's day
    (datetime(2026, 3, 1, 23, 30), "02.03.2026"),  # naive = UTC (SQLite)
    ("2026-03-01", "01.03.2026"), ("2026-03-01T23:30:00Z", "02.03.2026"),
    ("ikke en dato", "ikke en dato"), ("", ""), (None, ""),
])
def test_date(value, text):
    assert no.fmt_date(value) == text


def test_datetime_in_oslo_summer_and_winter():
    assert no.fmt_datetime(datetime(2026, 7, 1, 10, 5, tzinfo=UTC)) == "01.07.2026 kl. 12:05"
    assert no.fmt_datetime("2026-01-15T10:05:00+00:00") == "15.01.2026 kl. 11:05"
    assert no.fmt_datetime(None) == ""


def test_numbers_percent_sizes_hours():
    assert no.fmt_int(1234567) == "1 234 567"
    assert no.fmt_number(-1234.5, 1) == "\u22121 234,5"
    assert no.fmt_number(-0.01, 1) == "0,0"
    assert no.fmt_percent(0.125) == "12,5 %"
    assert no.fmt_percent(0.8, decimals=None) == "80 %" and no.fmt_percent(0.625, decimals=None) == "62,5 %"
    assert no.fmt_bytes(1234) == "1,2 kB" and no.fmt_bytes(2_500_000) == "2,5 MB"
    assert no.fmt_byte_count(1000) == "1 000 byte"
    assert no.fmt_hours(36) == "1 dag og 12 timer" and no.fmt_hours(720) == "30 dager" and no.fmt_hours(1) == "1 time"
