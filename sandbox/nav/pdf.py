"""A small but valid PDF variant of a settlement report (NAV offers CSV and PDF).

The stand-in's PDF is a one-page summary, not NAV's layout: enough for a client that asks for
``application/pdf`` to get a real PDF.
"""

from __future__ import annotations

from sandbox.pdf import pdf


def simple_pdf(lines: list[str]) -> bytes:
    """One A4 page with `lines` in Helvetica (WinAnsi: æøå print correctly)."""
    return pdf(lines, title="Oppgjørsrapport")
