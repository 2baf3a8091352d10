"""The filtered queue as an Excel workbook staff can sort and sum in.

Norwegian headers; dates are real Excel dates shown dd.mm.åååå; amounts are numbers with the
format `#,##0.00`, which Excel shows as `1 234,50` on a Norwegian machine (the file stores the
locale-neutral code; Excel applies the user's separators). Text cells that start with = + - @
(or a tab/CR) are prefixed with an apostrophe so no spreadsheet ever runs them as a formula
(CSV/formula injection, OWASP). No fnr: messages are scrubbed and the evidence is not exported.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import xlsxwriter

from config.process_definition import ProcessDefinition
from connectors.identifiers import mask_fnrs_in_text
from review.decisions import category_of
from review.formatting import KIND_LABELS, STATUS_LABELS, age_days, to_oslo

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

HEADERS: list[tuple[str, int]] = [
    ("Saksnr.", 9), ("Prosess", 34), ("Kategori", 22), ("Betydning", 44), ("Type", 16), ("Referanse", 26),
    ("Melding", 60), ("Beløp", 14), ("Org.enhet", 22), ("Saksbehandler", 16), ("Status", 16),
    ("Opprettet", 12), ("Frist", 12), ("Alder (dager)", 13), ("Fristbrudd", 11), ("Besluttet av", 16),
    ("Besluttet", 12),
]


def neutralize(value: str | None) -> str:
    text = mask_fnrs_in_text(value or "")
    return "'" + text if text.startswith(FORMULA_START) else text


def _local(value: datetime | None) -> datetime | None:
    local = to_oslo(value)
    return None if local is None else local.replace(tzinfo=None)


def workbook(rows: Iterable[Any], catalogue: dict[str, ProcessDefinition], now: datetime,
             selection: Sequence[tuple[str, str]] = ()) -> bytes:
    """rows: queue rows (review.queries.QUEUE_COLUMNS). selection: (label, value) of the filter used."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    bold = wb.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1, "text_wrap": True, "valign": "top"})
    date_fmt = wb.add_format({"num_format": "dd.mm.yyyy"})
    amount_fmt = wb.add_format({"num_format": "#,##0.00"})
    red = wb.add_format({"font_color": "#B00020", "bold": True})

    ws = wb.add_worksheet("Avvik")
    for col, (title, width) in enumerate(HEADERS):
        ws.write_string(0, col, title, bold)
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 0)
    n = 0
    for n, r in enumerate(rows, start=1):
        d = catalogue.get(r.process_id)
        cat = category_of(d, r.category)
        breached = r.due_at is not None and r.status in ("open", "in_review") and \
            (_local(r.due_at) or now) < (_local(now) or now)
        ws.write_number(n, 0, r.id)
        ws.write_string(n, 1, neutralize(d.name if d else r.process_id))
        ws.write_string(n, 2, neutralize(r.category))
        ws.write_string(n, 3, neutralize(cat.meaning if cat else ""))
        ws.write_string(n, 4, KIND_LABELS.get(r.kind, r.kind))
        ws.write_string(n, 5, neutralize(r.reference))
        ws.write_string(n, 6, neutralize(r.message))
        if r.amount is not None:
            ws.write_number(n, 7, float(r.amount), amount_fmt)
        ws.write_string(n, 8, neutralize(r.org_unit))
        ws.write_string(n, 9, neutralize(r.assignee))
        ws.write_string(n, 10, STATUS_LABELS.get(r.status, r.status))
        for col, value in ((11, r.created_at), (12, r.due_at), (16, r.decided_at)):
            local = _local(value)
            if local is not None:
                ws.write_datetime(n, col, local, date_fmt)
        ws.write_number(n, 13, age_days(r.created_at, now))
        if breached:
            ws.write_string(n, 14, "Ja", red)
        else:
            ws.write_string(n, 14, "Nei")
        ws.write_string(n, 15, neutralize(r.decided_by))
    ws.autofilter(0, 0, max(n, 1), len(HEADERS) - 1)

    info = wb.add_worksheet("Utvalg")
    info.set_column(0, 0, 22)
    info.set_column(1, 1, 60)
    info.write_string(0, 0, "Utvalg", bold)
    info.write_string(0, 1, "Verdi", bold)
    local_now = _local(now)
    lines = [("Eksportert", f"{local_now:%d.%m.%Y kl. %H:%M}" if local_now else ""), ("Antall saker", str(n)),
             *selection]
    for i, (label, value) in enumerate(lines, start=1):
        info.write_string(i, 0, neutralize(label))
        info.write_string(i, 1, neutralize(value))
    wb.close()
    return buf.getvalue()
