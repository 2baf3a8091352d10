"""Letters as PDF, for processes that issue documents to people (certificates, notices).

Text, not images: the letter is searchable, readable by screen readers and testable with pypdf.
fpdf2 lays it out in the PDF core font Helvetica, which covers Norwegian (æøå, Latin-1); the few
typographic characters outside Latin-1 are replaced. (Embedding a TTF font instead cost 2-4 s of
font parsing and subsetting per letter, measured here.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

__all__ = ["ELECTRONICALLY_APPROVED", "Letter", "letter_file", "write_letter"]

ELECTRONICALLY_APPROVED = "Dokumentet er elektronisk godkjent og har derfor ingen signatur."

_LATIN1_STAND_INS = str.maketrans({"–": "-", "—": "-", "’": "'", "“": '"', "”": '"', "…": "..."})


@dataclass
class Letter:
    """One letter: a letterhead, a title, paragraphs, an optional table, place/date and signature
    (`approved_electronically`: the approval line, the unit and the municipality instead of a
    handwritten signature)."""

    sender: str                                  # the municipality (settings.municipality.name)
    unit: str                                    # the issuing unit
    title: str
    paragraphs: list[str] = field(default_factory=list)
    table_header: list[str] = field(default_factory=list)
    table_rows: list[list[str]] = field(default_factory=list)
    table_widths: list[float] = field(default_factory=list)  # share of the text width per column
    closing: list[str] = field(default_factory=list)         # paragraphs after the table
    place: str = ""                              # settings.municipality.place
    dated: date | None = None
    signature: list[str] = field(default_factory=list)
    approved_electronically: bool = False


def letter_file(folder: Path, kind: str, reference: str) -> Path:
    """<folder>/<kind>-<reference>.pdf, the reference (an id from someone's export) made a safe name."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in reference)[:80]
    return folder / f"{kind}-{safe}.pdf"


def write_letter(letter: Letter, path: Path) -> Path:
    """Write `letter` as an A4 PDF at `path` (folders created) and return the path."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(22, 20, 22)
    pdf.set_title(letter.title)
    pdf.set_author(letter.sender)
    font, text = "Helvetica", _latin1
    pdf.add_page()
    pdf.set_font(font, "B", 14)
    pdf.cell(0, 7, text(letter.sender), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 10)
    pdf.cell(0, 6, text(letter.unit), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font(font, "B", 16)
    pdf.multi_cell(0, 8, text(letter.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(font, "", 11)
    _paragraphs(pdf, letter.paragraphs)
    if letter.table_rows:
        widths = letter.table_widths or [1 / len(letter.table_header)] * len(letter.table_header)
        pdf.set_font(font, "", 9.5)
        with pdf.table(col_widths=[round(w * 100) for w in widths], text_align="LEFT",
                       line_height=5.5, first_row_as_headings=bool(letter.table_header)) as table:
            for row in ([letter.table_header] if letter.table_header else []) + letter.table_rows:
                cells = table.row()
                for value in row:
                    cells.cell(text(value))
        pdf.ln(4)
        pdf.set_font(font, "", 11)
    _paragraphs(pdf, letter.closing)
    if letter.place or letter.dated:
        pdf.ln(4)
        place_date = ", ".join(x for x in (letter.place, letter.dated and f"{letter.dated:%d.%m.%Y}") if x)
        pdf.cell(0, 6, text(place_date), new_x="LMARGIN", new_y="NEXT")
    signature = letter.signature or ([ELECTRONICALLY_APPROVED, f"{letter.unit}, {letter.sender}"] if letter.approved_electronically else [])
    if signature:
        pdf.ln(6)
        for line in signature:
            pdf.cell(0, 6, text(line), new_x="LMARGIN", new_y="NEXT")
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def _latin1(text: str) -> str:
    return text.translate(_LATIN1_STAND_INS).encode("latin-1", "replace").decode("latin-1")


def _paragraphs(pdf, texts: list[str]) -> None:
    for paragraph in texts:
        pdf.multi_cell(0, 6, _latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
