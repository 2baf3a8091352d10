"""The filtered queue as an Excel workbook staff can sort and sum in.

Norwegian headers; who the case is about (name, masked fnr) and what was decided (decision,
comment, amount, by and when, attested by and when) for follow-up; dates are real Excel dates shown dd.mm.åååå; amounts are numbers with the
format `#,##0.00`, which Excel shows as `1 234,50` on a Norwegian machine (the file stores the
locale-neutral code; Excel applies the user's separators). Text cells that start with = + - @
(or a tab/CR) are prefixed with an apostrophe so no spreadsheet ever runs them as a formula
(CSV/formula injection, OWASP). No fnr: messages are scrubbed and the evidence is not exported.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import xlsxwriter

from config.process_definition import ProcessDefinition
from connectors.identifiers import mask_fnrs_in_text
from review.decisions import category_of, spec
from review.formatting import KIND_LABELS, STATUS_LABELS, age_days, to_oslo

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

HEADERS: list[tuple[str, int]] = [
    ("Saksnr.", 9), ("Prosess", 30), ("Kategori", 44), ("Type", 16), ("Navn", 24),
    ("Fødselsnummer (maskert)", 14), ("Gjelder", 28), ("Referanse", 26), ("Melding", 60), ("Beløp", 14),
    ("Org.enhet", 22), ("Saksbehandler", 20), ("Status", 16), ("Opprettet", 12), ("Frist", 12),
    ("Alder (dager)", 13), ("Fristbrudd", 11), ("Beslutning", 30), ("Kommentar", 50), ("Besluttet beløp", 14),
    ("Besluttet av", 20), ("Besluttet", 16), ("Attestert av", 20), ("Attestert", 16), ("Kategorikode", 22),
]
COL = {title: i for i, (title, _w) in enumerate(HEADERS)}


def neutralize(value: str | None) -> str:
    text = mask_fnrs_in_text(value or "")
    return "'" + text if text.startswith(FORMULA_START) else text


def _local(value: datetime | None) -> datetime | None:
    local = to_oslo(value)
    return None if local is None else local.replace(tzinfo=None)


def _attested(decision: Any, audit: Mapping[str, Any] | None) -> tuple[str, datetime | None]:
    """Who attested a decision and when: from the decision JSON or the audit trail (four-eyes
    approval, when the process has it); read defensively, blank when there is none."""
    d = decision if isinstance(decision, dict) else {}
    who = d.get("attested_by") or d.get("approved_by") or (audit or {}).get("actor") or ""
    when: Any = d.get("attested_at") or d.get("approved_at") or (audit or {}).get("at")
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            when = None
    return str(who), when if isinstance(when, datetime) else None


def workbook(rows: Iterable[Any], catalogue: dict[str, ProcessDefinition], now: datetime,
             selection: Sequence[tuple[str, str]] = (), subjects: Mapping[int, Any] | None = None,
             names: Mapping[str, str] | None = None, attestations: Mapping[int, Any] | None = None) -> bytes:
    """rows: queue rows (review.queries.QUEUE_COLUMNS + decision). selection: (label, value) of the
    filter used, in words. subjects: who/what per case id (review.queries.subject_of). names: user
    name -> full name. attestations: case id -> the audit event that attested its decision."""
    subjects = subjects or {}
    names = names or {}
    attestations = attestations or {}
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    bold = wb.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1, "text_wrap": True, "valign": "top"})
    date_fmt = wb.add_format({"num_format": "dd.mm.yyyy"})
    time_fmt = wb.add_format({"num_format": "dd.mm.yyyy hh:mm"})
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
        who = subjects.get(r.id)
        decision = getattr(r, "decision", None)
        decision = decision if isinstance(decision, dict) else {}
        def text(title: str, value: str | None, row: int = n) -> None:
            ws.write_string(row, COL[title], neutralize(value))

        ws.write_number(n, COL["Saksnr."], r.id)
        text("Prosess", d.name if d else r.process_id)
        text("Kategori", cat.meaning if cat else r.category)
        text("Type", KIND_LABELS.get(r.kind, r.kind))
        text("Navn", who.name if who else "")
        text("Fødselsnummer (maskert)", who.fnr_masked if who else "")
        text("Gjelder", " · ".join(x for x in (who.plate, who.filename, who.period) if x) if who else "")
        text("Referanse", r.reference)
        text("Melding", r.message)
        if r.amount is not None:
            ws.write_number(n, COL["Beløp"], float(r.amount), amount_fmt)
        text("Org.enhet", r.org_unit)
        text("Saksbehandler", names.get(r.assignee, r.assignee) if r.assignee else "")
        text("Status", STATUS_LABELS.get(r.status, r.status))
        for title, value in (("Opprettet", r.created_at), ("Frist", r.due_at)):
            local = _local(value)
            if local is not None:
                ws.write_datetime(n, COL[title], local, date_fmt)
        ws.write_number(n, COL["Alder (dager)"], age_days(r.created_at, now))
        if breached:
            ws.write_string(n, COL["Fristbrudd"], "Ja", red)
        else:
            ws.write_string(n, COL["Fristbrudd"], "Nei")
        if decision.get("action"):
            text("Beslutning", spec(str(decision["action"])).label)
        text("Kommentar", str(decision.get("comment") or ""))
        if isinstance(decision.get("amount"), int | float):
            ws.write_number(n, COL["Besluttet beløp"], float(decision["amount"]), amount_fmt)
        text("Besluttet av", names.get(r.decided_by, r.decided_by) if r.decided_by else "")
        local = _local(r.decided_at)
        if local is not None:
            ws.write_datetime(n, COL["Besluttet"], local, time_fmt)
        attested_by, attested_at = _attested(decision, attestations.get(r.id))
        text("Attestert av", names.get(attested_by, attested_by))
        local = _local(attested_at)
        if local is not None:
            ws.write_datetime(n, COL["Attestert"], local, time_fmt)
        text("Kategorikode", r.category)
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
