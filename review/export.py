"""The filtered queue as an Excel workbook staff can sort and sum in.

Norwegian headers; who the case is about (name, masked fnr) and what was decided (decision,
comment, amount, by and when, attested by and when) for follow-up; dates are real Excel dates shown dd.mm.åååå; amounts are numbers with the
format `#,##0.00`, which Excel shows as `1 234,50` on a Norwegian machine (the file stores the
locale-neutral code; Excel applies the user's separators). Written by connectors.spreadsheet: a text
cell that starts with = + - @ (or a tab/CR) gets a leading apostrophe so no spreadsheet ever runs it
as a formula (CSV/formula injection, OWASP). No fnr: texts are scrubbed and the evidence is not exported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from config.process_definition import ProcessDefinition
from connectors.identifiers import mask_fnrs_in_text
from connectors.spreadsheet import DATE, DATE_TIME, KRONER, Cell, Column, Sheet, Table, pairs, workbook_bytes
from review.decisions import category_of, spec
from review.formatting import KIND_LABELS, STATUS_LABELS, age_days, fmt_datetime, to_oslo
from workqueue.models import OPEN_CASE_STATUSES

HEADERS = [
    Column("Saksnr.", 9), Column("Prosess", 30), Column("Kategori", 44), Column("Type", 16), Column("Navn", 24),
    Column("Fødselsnummer (maskert)", 14), Column("Gjelder", 28), Column("Referanse", 26), Column("Melding", 60),
    Column("Beløp", 14, KRONER), Column("Org.enhet", 22), Column("Saksbehandler", 20), Column("Status", 16),
    Column("Opprettet", 12, DATE), Column("Frist", 12, DATE), Column("Alder (dager)", 13), Column("Fristbrudd", 11),
    Column("Beslutning", 30), Column("Kommentar", 50), Column("Besluttet beløp", 14, KRONER),
    Column("Besluttet av", 20), Column("Besluttet", 16, DATE_TIME), Column("Attestert av", 20),
    Column("Attestert", 16, DATE_TIME), Column("Kategorikode", 22),
]


def _text(value: str | None) -> str:
    return mask_fnrs_in_text(value or "")


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
    cases = [_case_row(r, catalogue.get(r.process_id), subjects.get(r.id), names, attestations.get(r.id), now)
             for r in rows]
    local_now = _local(now)
    lines = [("Eksportert", fmt_datetime(local_now)), ("Antall saker", str(len(cases))),
             *selection]
    return workbook_bytes([
        Sheet("Avvik", [Table(HEADERS, cases, freeze=True, autofilter=True)]),
        Sheet("Utvalg", [pairs([(_text(label), _text(value)) for label, value in lines], header=("Utvalg", "Verdi"),
                               widths=(22, 60))]),
    ])


def _case_row(r: Any, d: ProcessDefinition | None, who: Any, names: Mapping[str, str], audit: Any,
              now: datetime) -> list[Any]:
    """One case, in HEADERS' order."""
    cat = category_of(d, r.category)
    breached = r.due_at is not None and r.status in OPEN_CASE_STATUSES and \
        (_local(r.due_at) or now) < (_local(now) or now)
    decision = getattr(r, "decision", None)
    decision = decision if isinstance(decision, dict) else {}
    attested_by, attested_at = _attested(decision, audit)
    amount = decision.get("amount")
    return [r.id, _text(d.name if d else r.process_id), _text(cat.meaning if cat else r.category),
            _text(KIND_LABELS.get(r.kind, r.kind)), _text(who.name if who else ""), _text(who.fnr_masked if who else ""),
            _text(" · ".join(x for x in (who.plate, who.filename, who.period) if x) if who else ""),
            _text(r.reference), _text(r.message), None if r.amount is None else float(r.amount), _text(r.org_unit),
            _text(names.get(r.assignee, r.assignee) if r.assignee else ""), _text(STATUS_LABELS.get(r.status, r.status)),
            _local(r.created_at), _local(r.due_at), age_days(r.created_at, now),
            Cell("Ja", bold=True, alert=True) if breached else "Nei",
            _text(spec(str(decision["action"])).label if decision.get("action") else ""),
            _text(str(decision.get("comment") or "")), float(amount) if isinstance(amount, int | float) else None,
            _text(names.get(r.decided_by, r.decided_by) if r.decided_by else ""), _local(r.decided_at),
            _text(names.get(attested_by, attested_by)), _local(attested_at), _text(r.category)]
