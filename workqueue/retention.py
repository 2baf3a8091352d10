"""Retention in the work-item store: personal data leaves closed cases, finished work items and
their audit events once the process's `retention_days` have passed. Rows are never deleted:
every case, item and audit event stays (the benefits report and the audit trail count them);
only their personal fields are cleared, replaced by a marker saying when and why.

What is cleared, per batch of rows in one transaction, with one `retention.purged` audit event
per batch (counts only):
- a closed case (resolved or dismissed, its decision applied by a run), closed before the
  cutoff: message -> a fixed Norwegian sentence, evidence -> the marker and a section saying so
  on the case page (plus the keys of
  evidence["data"] the process declares free of personal data and needed by later runs),
  search text emptied, the reviewer's comment removed from the decision (the action and the
  decided fields stay), its attachments (screenshots, traces, refused documents) deleted;
- a finished work item (done, business exception or failed) finished before the cutoff and
  not tied to a case that is still open or waiting for its decision to be applied: payload and
  result -> the marker (plus the keys the process declares), last error -> a fixed text;
- the audit events of those cases and items: the event (who, what, when, status change) stays,
  its details keep only the keys known to carry no personal data.

Never touched: open cases (open, in review), cases whose decision no run has applied yet (the
run that applies it needs the evidence), items still waiting or in progress.

Audit events are append-only through the ORM (workqueue.models); clearing their personal
details is the one sanctioned change, made here with a Core UPDATE on the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from connectors.identifiers import FNR_PATTERN, valid_fnr
from connectors.norwegian import fmt_date
from workqueue.models import (
    FINAL_ITEM_STATUSES,
    OPEN_CASE_STATUSES,
    AuditEvent,
    CaseAttachment,
    CaseStatus,
    ExceptionCase,
    WorkItem,
)
from workqueue.store import WorkQueueStore, utcnow

ACTION = "retention.purged"
ACTOR = "retention"
REASON = "oppbevaringstid"
PURGED_MESSAGE = "Personopplysninger slettet etter oppbevaringstiden"
PURGED_ERROR = "Slettet etter oppbevaringstiden"
CLOSED = (CaseStatus.resolved.value, CaseStatus.dismissed.value)
OPEN = OPEN_CASE_STATUSES
FINAL = tuple(s.value for s in FINAL_ITEM_STATUSES)
# Audit details that never hold personal data: kept when an event's personal fields are cleared.
AUDIT_KEYS = frozenset({"category", "kind", "action", "attempt", "run_id", "assignee", "not_before",
                        "door", "outcome", "step", "source", "replaced_by", "paid_in_run", "slettet", "grunn"})
BATCH = 500


def marker(as_of: datetime) -> dict[str, str]:
    """What stands where personal data was: {"slettet": "02.12.2026", "grunn": "oppbevaringstid"}."""
    return {"slettet": fmt_date(as_of), "grunn": REASON}


def purged_sections(as_of: datetime) -> list[dict[str, str]]:
    """What the case page shows where the evidence was."""
    return [{"title": "Slettet etter oppbevaringstid",
             "text": f"Personopplysningene i saken ble slettet {fmt_date(as_of)} fordi oppbevaringstiden "
                     "i prosessdefinisjonen er ute. Saken, beslutningen og historikken er beholdt."}]


@dataclass
class KeepKeys:
    """Keys a process declares free of personal data and needed by its later runs (idempotency:
    which reports and claims were settled). Everything else is cleared."""

    payload: frozenset[str] = frozenset()
    result: frozenset[str] = frozenset()
    evidence_data: frozenset[str] = frozenset()


@dataclass
class Due:
    """What is past the cutoff for one process (ids only; no personal data)."""

    case_ids: list[int] = field(default_factory=list)
    item_ids: list[int] = field(default_factory=list)
    attachments: int = 0
    waiting_for_apply: int = 0  # closed before the cutoff, decision not applied yet: kept

    @property
    def empty(self) -> bool:
        return not (self.case_ids or self.item_ids)


def _closed_at():
    return func.coalesce(ExceptionCase.decided_at, ExceptionCase.updated_at)


def _case_due(process_id: str, cutoff: datetime):
    return and_(ExceptionCase.process_id == process_id, ExceptionCase.status.in_(CLOSED),
                ExceptionCase.decision_applied_at.is_not(None), _closed_at() < cutoff,
                ExceptionCase.message != PURGED_MESSAGE)


def _item_due(process_id: str, cutoff: datetime):
    busy = select(ExceptionCase.item_id).where(
        ExceptionCase.item_id.is_not(None), ExceptionCase.process_id == process_id,
        or_(ExceptionCase.status.in_(OPEN), ExceptionCase.decision_applied_at.is_(None)))
    return and_(WorkItem.process_id == process_id, WorkItem.status.in_(FINAL),
                func.coalesce(WorkItem.finished_at, WorkItem.updated_at) < cutoff,
                or_(WorkItem.last_error.is_(None), WorkItem.last_error != PURGED_ERROR),
                WorkItem.id.not_in(busy))


def find_due(store: WorkQueueStore, process_id: str, cutoff: datetime) -> Due:
    """Cases and items of `process_id` whose personal data is due for removal at `cutoff`."""
    with store.session() as s:
        due = Due(case_ids=list(s.scalars(select(ExceptionCase.id).where(_case_due(process_id, cutoff))
                                          .order_by(ExceptionCase.id))),
                  item_ids=list(s.scalars(select(WorkItem.id).where(_item_due(process_id, cutoff))
                                          .order_by(WorkItem.id))))
        if due.case_ids:
            due.attachments = sum(s.scalar(select(func.count()).select_from(CaseAttachment)
                                           .where(CaseAttachment.case_id.in_(chunk))) or 0
                                  for chunk in _chunks(due.case_ids))
        due.waiting_for_apply = s.scalar(select(func.count()).select_from(ExceptionCase).where(
            ExceptionCase.process_id == process_id, ExceptionCase.status.in_(CLOSED),
            ExceptionCase.decision_applied_at.is_(None), _closed_at() < cutoff)) or 0
    return due


@dataclass
class Purged:
    cases: int = 0
    items: int = 0
    attachments: int = 0
    audit_events: int = 0

    def add(self, other: Purged) -> None:
        self.cases += other.cases
        self.items += other.items
        self.attachments += other.attachments
        self.audit_events += other.audit_events


def purge(store: WorkQueueStore, process_id: str, cutoff: datetime, as_of: datetime,
          keep: KeepKeys | None = None, batch: int = BATCH, actor: str = ACTOR,
          run_id: str | None = None) -> Purged:
    """Clear the personal data of everything `find_due` selects, `batch` rows per transaction.
    Each batch re-checks its rows under lock (a case reopened meanwhile is left alone)."""
    keep = keep or KeepKeys()
    due = find_due(store, process_id, cutoff)
    total = Purged()
    for chunk in _chunks(due.case_ids, batch):
        with store.session() as s:
            done = _purge_cases(s, store, process_id, chunk, cutoff, as_of, keep)
            _record(s, actor, process_id, done, cutoff, run_id)
        total.add(done)
    for chunk in _chunks(due.item_ids, batch):
        with store.session() as s:
            done = _purge_items(s, store, process_id, chunk, cutoff, as_of, keep)
            _record(s, actor, process_id, done, cutoff, run_id)
        total.add(done)
    return total


def _purge_cases(s: Session, store: WorkQueueStore, process_id: str, ids: list[int], cutoff: datetime,
                 as_of: datetime, keep: KeepKeys) -> Purged:
    q = select(ExceptionCase).where(ExceptionCase.id.in_(ids), _case_due(process_id, cutoff)).order_by(
        ExceptionCase.id)
    cases = list(s.scalars(q if store.is_sqlite else q.with_for_update()))
    if not cases:
        return Purged()
    mark = marker(as_of)
    for case in cases:
        data = (case.evidence or {}).get("data") if isinstance(case.evidence, dict) else None
        kept = _pick(data, keep.evidence_data)
        case.evidence = {**mark, "sections": purged_sections(as_of), **({"data": kept} if kept else {})}
        case.message = PURGED_MESSAGE
        case.search_text = ""
        if case.decision is not None:
            case.decision = {**{k: v for k, v in case.decision.items() if k != "comment"}, **mark}
            case.decision = _without_fnr(case.decision)
        case.updated_at = utcnow()
    case_ids = [c.id for c in cases]
    attachments = s.execute(delete(CaseAttachment).where(CaseAttachment.case_id.in_(case_ids))).rowcount or 0
    events = _clear_audit(s, AuditEvent.case_id.in_(case_ids), mark)
    return Purged(cases=len(cases), attachments=attachments, audit_events=events)


def _purge_items(s: Session, store: WorkQueueStore, process_id: str, ids: list[int], cutoff: datetime,
                 as_of: datetime, keep: KeepKeys) -> Purged:
    q = select(WorkItem).where(WorkItem.id.in_(ids), _item_due(process_id, cutoff)).order_by(WorkItem.id)
    items = list(s.scalars(q if store.is_sqlite else q.with_for_update()))
    if not items:
        return Purged()
    mark = marker(as_of)
    for item in items:
        item.payload = {**mark, **_pick(item.payload, keep.payload)}
        item.result = {**mark, **_pick(item.result, keep.result)} if item.result is not None else None
        item.last_error = PURGED_ERROR
    events = _clear_audit(s, AuditEvent.item_id.in_([i.id for i in items]), mark)
    return Purged(items=len(items), audit_events=events)


def _clear_audit(s: Session, where, mark: dict[str, str]) -> int:
    """Keep the event; keep only its details' known non-personal keys. Core UPDATE on the
    connection: the ORM's append-only guard stays in force for everything else."""
    t = AuditEvent.__table__
    conn = s.connection()
    rows = conn.execute(select(t.c.id, t.c.details).where(where).order_by(t.c.id)).all()
    changed = []
    for event_id, details in rows:
        details = details if isinstance(details, dict) else {}
        cleared = {**_without_fnr({k: v for k, v in details.items() if k in AUDIT_KEYS}), **mark}
        if cleared != details:
            changed.append({"b_id": event_id, "b_details": cleared})
    if changed:
        conn.execute(update(t).where(t.c.id == bindparam("b_id")).values(details=bindparam("b_details")), changed)
    return len(changed)


def _record(s: Session, actor: str, process_id: str, done: Purged, cutoff: datetime, run_id: str | None) -> None:
    if not (done.cases or done.items):
        return
    details: dict[str, Any] = {"cases": done.cases, "items": done.items, "attachments": done.attachments,
                               "audit_events": done.audit_events, "cutoff": cutoff.isoformat()}
    if run_id:
        details["run_id"] = run_id
    s.execute(insert(AuditEvent).values(at=utcnow(), actor=actor, action=ACTION, process_id=process_id,
                                        details=details))


def _pick(data: Any, keys: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict) or not keys:
        return {}
    return _without_fnr({k: v for k, v in data.items() if k in keys})


def _without_fnr(value: Any) -> Any:
    """Belt and braces: a kept value that still holds a valid fnr is dropped."""
    if isinstance(value, dict):
        return {k: v for k, v in ((k, _without_fnr(v)) for k, v in value.items()) if v is not _DROP}
    if isinstance(value, list):
        return [v for v in (_without_fnr(v) for v in value) if v is not _DROP]
    if isinstance(value, str) and holds_fnr(value):
        return _DROP
    return value


_DROP = object()


def holds_fnr(text: str) -> bool:
    """True when `text` contains an 11-digit run with valid fnr check digits."""
    return any(valid_fnr(m.group(0)) for m in FNR_PATTERN.finditer(text))


def _chunks(ids: list[int], size: int = 5000) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def open_references(store: WorkQueueStore, process_id: str) -> set[str]:
    """References of the process's cases still open or waiting for their decision to be applied:
    files they point at must stay."""
    with store.session() as s:
        return set(s.scalars(select(ExceptionCase.reference).where(
            ExceptionCase.process_id == process_id,
            or_(ExceptionCase.status.in_(OPEN), ExceptionCase.decision_applied_at.is_(None)))))


def process_ids(store: WorkQueueStore) -> set[str]:
    """Every process id that has cases or items in the store."""
    with store.session() as s:
        return set(s.scalars(select(ExceptionCase.process_id).distinct())) | set(
            s.scalars(select(WorkItem.process_id).distinct()))


__all__ = ["ACTION", "KeepKeys", "Due", "Purged", "find_due", "purge", "marker", "holds_fnr",
           "open_references", "process_ids", "PURGED_MESSAGE", "PURGED_ERROR"]
