"""Charts as PNG images, for a report's workbook (`connectors.spreadsheet.Image`) or a page.

`compare_bars`: horizontal bars, one per name, a period's value beside the previous period's
(the previous bars only when there is at least one previous value), each current bar labelled
with its value. Values are shares (0..1) shown as percentages, Norwegian style.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from connectors.norwegian import fmt_percent

__all__ = ["compare_bars"]


def compare_bars(names: Sequence[str], now: Sequence[float | None], previous: Sequence[float | None], *,
                 title: str, x_label: str, now_label: str, previous_label: str,
                 colors: tuple[str, str] = ("#1b7f3b", "#a6d5b3")) -> bytes:
    """The PNG bytes; a missing value is drawn as 0, top to bottom in the order given."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    current = [(v or 0) * 100 for v in now]
    has_previous = any(p is not None for p in previous)
    height = 0.38 if has_previous else 0.6
    offset = height / 2 if has_previous else 0.0
    fig = Figure(figsize=(8.5, 0.42 * len(names) + 1.4), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ys = list(range(len(names)))[::-1]
    ax.barh([y + offset for y in ys], current, height, label=now_label, color=colors[0])
    if has_previous:
        ax.barh([y - offset for y in ys], [(p or 0) * 100 for p in previous], height, label=previous_label,
                color=colors[1])
    for y, value in zip(ys, current, strict=True):
        ax.text(value + 1, y + offset, fmt_percent(value / 100), va="center", fontsize=8)
    ax.set_yticks(ys, list(names), fontsize=8)
    ax.set_xlim(0, 110)
    ax.set_xlabel(x_label)
    ax.set_title(title, fontsize=11)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
