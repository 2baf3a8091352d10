"""Calendar periods (connectors.periods): the tertial."""

from __future__ import annotations

from datetime import date

import pytest

from connectors.periods import Tertial


def test_tertials():
    assert Tertial.for_run(date(2019, 1, 1)) == Tertial(2018, 3)
    assert Tertial.for_run(date(2026, 3, 15)).label == "1. tertial 2026"
    assert Tertial.parse("2018-T3") == Tertial.parse("3. tertial 2018") == Tertial(2018, 3)
    assert Tertial(2026, 1).previous() == Tertial(2025, 3)
    assert (Tertial(2026, 2).start, Tertial(2026, 2).end) == (date(2026, 5, 1), date(2026, 8, 31))
    with pytest.raises(ValueError):
        Tertial.parse("2026-T4")
