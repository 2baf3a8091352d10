"""connectors.charts: a chart is a PNG image, with or without the previous period's bars."""

from __future__ import annotations

import pytest

from connectors.charts import compare_bars


@pytest.mark.parametrize("previous", [[0.25, None], [None, None]])
def test_compare_bars_is_a_png(previous):
    png = compare_bars(["Skole", "Totalt"], [0.5, None], previous, title="Andel", x_label="%",
                       now_label="1. tertial 2026", previous_label="Forrige")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
