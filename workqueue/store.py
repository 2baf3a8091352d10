"""The work-item store: durable items and exception cases with the semantics every trusted
RPA platform shares (unique reference, lease, business vs system exception, abandoned items).

Concurrency: on PostgreSQL a claim is ``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite every
write transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time, WAL for readers), which
gives the same guarantee: no item is claimed by two workers.
"""

from __future__ import annotations

import random
import socket
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, event, func, insert, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from workqueue.models import (
    AuditEvent,
    CaseAttachment,
    CaseKind,
    CaseStatus,
    ExceptionCase,
    ItemStatus,
    ProcessRun,
    WorkItem,
)

SYSTEM = "system"


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Backoff:
    """Retry policy for system exceptions (a process definition's `retry` block maps onto it)."""

    max_attempts: int = 3
    backoff_seconds: float = 30
    backoff_factor: float = 2.0
    max_backoff_seconds: float = 3600
    jitter: float = 0.1  # +-10 %, so workers that failed together do not retry together

    def delay(self, attempt: int) -> float:
        base = min(self.backoff_seconds * self.backoff_factor ** max(attempt - 1, 0), self.max_backoff_seconds)
        return base * (1 + random.uniform(-self.jitter, self.jitter)) if base else 0.0


@dataclass
class NewItem:
    reference: str
    payload: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    deadline: datetime | None = None
    not_before: datetime | None = None


@dataclass
class NewCase:
    """What a flow knows about a case a human must look at."""

    category: str
    message: str  # Norwegian, for staff; no fnr in clear
    evidence: dict[str, Any] = field(default_factory=dict)
    org_unit: str | None = None
    amount: float | None = None
    search_text: str = ""
    sla_hours: float | None = None
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)  # (filename, media type, bytes)


class StoreError(Exception):
    pass


class NotFound(StoreError):
    pass


class InvalidTransition(StoreError):
    pass


class LeaseLost(StoreError):
    """The item is no longer held by this worker (lease expired and someone else took it)."""


def create_engine_for(url: str, echo: bool = False) -> Engine:
    from sqlalchemy import create_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - driver plumbing
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - driver plumbing
            # IMMEDIATE takes the write lock up front: two claimers never read the same rows
            # as free, and no deadlock arises from a read lock upgrading to a write lock.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


class WorkQueueStore:
    """All reads and writes of items, cases and the audit trail go through here."""

    def __init__(self, url: str, echo: bool = False, migrate: bool = True):
        self.url = url
        self.engine = create_engine_for(url, echo=echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            from workqueue.migrate import upgrade

            upgrade(self.engine)

    @classmethod
    def from_settings(cls, settings=None) -> WorkQueueStore:
        from config.settings import get_settings

        s = settings or get_settings()
        return cls(s.database_url, echo=s.database.echo)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as session, session.begin():
            yield session

    # ------------------------------------------------------------------ items

    def add(self, process_id: str, item: NewItem) -> tuple[WorkItem, bool]:
        """Add one item; the same reference twice returns the existing item. -> (item, created)."""
        with self.session() as s:
            existing = s.scalar(select(WorkItem).where(WorkItem.process_id == process_id,
                                                       WorkItem.reference == item.reference))
            if existing:
                return existing, False
            now = utcnow()
            row = WorkItem(process_id=process_id, reference=item.reference, payload=item.payload,
                           priority=item.priority, deadline=item.deadline, not_before=item.not_before,
                           status=ItemStatus.new, attempts=0, created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            return row, True

    def add_many(self, process_id: str, items: Sequence[NewItem], chunk: int = 5000) -> int:
        """Bulk add; references already present are skipped. Returns how many were new."""
        added = 0
        for start in range(0, len(items), chunk):
            part = items[start:start + chunk]
            now = utcnow()
            rows = [dict(process_id=process_id, reference=i.reference, payload=i.payload,
                         priority=i.priority, deadline=i.deadline, not_before=i.not_before,
                         status=ItemStatus.new.value, attempts=0, created_at=now, updated_at=now)
                    for i in part]
            with self.session() as s:
                before = s.scalar(select(func.count()).select_from(WorkItem)
                                  .where(WorkItem.process_id == process_id)) or 0
                s.execute(self._insert_ignore(), rows)
                after = s.scalar(select(func.count()).select_from(WorkItem)
                                 .where(WorkItem.process_id == process_id)) or 0
            added += after - before
        return added

    def _insert_ignore(self):
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        return dialect_insert(WorkItem).on_conflict_do_nothing(index_elements=["process_id", "reference"])

    def claim(self, process_id: str, worker: str | None = None, limit: int = 100,
              lease_seconds: float = 600, run_id: str | None = None) -> list[WorkItem]:
        """Take up to `limit` waiting items (highest priority, then oldest) and lease them."""
        worker = worker or default_worker_id()
        now = utcnow()
        with self.session() as s:
            candidates = (
                select(WorkItem.id)
                .where(WorkItem.process_id == process_id, WorkItem.status == ItemStatus.new,
                       or_(WorkItem.not_before.is_(None), WorkItem.not_before <= now))
                .order_by(WorkItem.priority.desc(), WorkItem.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            ids = list(s.scalars(candidates))
            if not ids:
                return []
            s.execute(
                update(WorkItem).where(WorkItem.id.in_(ids)).values(
                    status=ItemStatus.in_progress, claimed_by=worker,
                    claimed_until=now + timedelta(seconds=lease_seconds),
                    attempts=WorkItem.attempts + 1, updated_at=now, run_id=run_id),
                execution_options={"synchronize_session": False},
            )
            return list(s.scalars(select(WorkItem).where(WorkItem.id.in_(ids))
                                  .order_by(WorkItem.priority.desc(), WorkItem.id)))

    def extend_lease(self, item_ids: Iterable[int], worker: str, lease_seconds: float) -> None:
        now = utcnow()
        with self.session() as s:
            s.execute(update(WorkItem).where(WorkItem.id.in_(list(item_ids)), WorkItem.claimed_by == worker,
                                             WorkItem.status == ItemStatus.in_progress)
                      .values(claimed_until=now + timedelta(seconds=lease_seconds), updated_at=now))

    def complete(self, item_id: int, result: dict[str, Any] | None = None, worker: str | None = None) -> None:
        self.complete_many([(item_id, result)], worker=worker)

    def complete_many(self, results: Sequence[tuple[int, dict[str, Any] | None]], worker: str | None = None) -> int:
        """Mark items done. Items no longer held (lease lost) are left alone; returns how many were done."""
        if not results:
            return 0
        now = utcnow()
        done = 0
        with self.session() as s:
            conn = s.connection()
            stmt = (update(WorkItem.__table__)
                    .where(WorkItem.__table__.c.id == _bind("item_id"),
                           WorkItem.__table__.c.status == ItemStatus.in_progress.value)
                    .values(status=ItemStatus.done.value, result=_bind("result"), finished_at=now,
                            updated_at=now, claimed_until=None))
            if worker:
                stmt = stmt.where(WorkItem.__table__.c.claimed_by == worker)
            rows = [{"item_id": i, "result": r} for i, r in results]
            done = conn.execute(stmt, rows).rowcount
        return done if done is not None and done >= 0 else len(results)

    def business_exception(self, item_id: int, case: NewCase, actor: str = SYSTEM) -> ExceptionCase:
        """The data is wrong or ambiguous: never retried; opens a case for a human."""
        with self.session() as s:
            item = self._item(s, item_id)
            if item.status not in (ItemStatus.in_progress, ItemStatus.new):
                raise InvalidTransition(f"item {item_id} is {item.status}; cannot raise a business exception")
            now = utcnow()
            self._audit(s, actor, "item.business_exception", item.process_id, item_id=item.id,
                        from_status=item.status, to_status=ItemStatus.business_exception,
                        details={"category": case.category})
            item.status = ItemStatus.business_exception
            item.last_error = f"{case.category}: {case.message}"[:2000]
            item.finished_at = now
            item.updated_at = now
            item.claimed_until = None
            return self._open_case(s, item.process_id, item.reference, item.id, CaseKind.business, case, actor)

    def system_exception(self, item_id: int, error: str, backoff: Backoff = Backoff(),
                         actor: str = SYSTEM, escalate_category: str = "SYSTEM_ERROR",
                         evidence: dict[str, Any] | None = None,
                         attachments: list[tuple[str, str, bytes]] | None = None) -> ExceptionCase | None:
        """A timeout, a 5xx, a changed page: retry with backoff; after the last attempt
        the item fails and an operator case opens. Returns the case when escalated."""
        with self.session() as s:
            item = self._item(s, item_id)
            if item.status != ItemStatus.in_progress:
                raise InvalidTransition(f"item {item_id} is {item.status}; only claimed items can fail")
            now = utcnow()
            item.last_error = error[:2000]
            item.updated_at = now
            item.claimed_until = None
            if item.attempts < backoff.max_attempts:
                item.status = ItemStatus.new
                item.not_before = now + timedelta(seconds=backoff.delay(item.attempts))
                self._audit(s, actor, "item.retry_scheduled", item.process_id, item_id=item.id,
                            from_status=ItemStatus.in_progress, to_status=ItemStatus.new,
                            details={"attempt": item.attempts, "not_before": item.not_before.isoformat(),
                                     "error": error[:500]})
                return None
            item.status = ItemStatus.failed
            item.finished_at = now
            self._audit(s, actor, "item.failed", item.process_id, item_id=item.id,
                        from_status=ItemStatus.in_progress, to_status=ItemStatus.failed,
                        details={"attempts": item.attempts, "error": error[:500]})
            case = NewCase(category=escalate_category,
                           message=f"Systemfeil etter {item.attempts} forsøk: {error[:500]}",
                           evidence=evidence or {}, attachments=attachments or [])
            return self._open_case(s, item.process_id, item.reference, item.id, CaseKind.system, case, actor)

    def release(self, item_ids: Iterable[int], actor: str = SYSTEM, reason: str = "released") -> int:
        """Give claimed items back without counting the attempt (e.g. the run pauses for a quota)."""
        now = utcnow()
        with self.session() as s:
            res = s.execute(update(WorkItem).where(WorkItem.id.in_(list(item_ids)),
                                                   WorkItem.status == ItemStatus.in_progress)
                            .values(status=ItemStatus.new, claimed_by=None, claimed_until=None,
                                    attempts=func.max(WorkItem.attempts - 1, 0) if self.is_sqlite
                                    else func.greatest(WorkItem.attempts - 1, 0),
                                    updated_at=now))
            return res.rowcount or 0

    def defer(self, item_ids: Iterable[int], until: datetime, reason: str = "", actor: str = SYSTEM) -> int:
        """Release claimed items and wait until `until` (quota spent: resume after midnight)."""
        ids = list(item_ids)
        self.release(ids, actor=actor, reason=reason)
        with self.session() as s:
            s.execute(update(WorkItem).where(WorkItem.id.in_(ids), WorkItem.status == ItemStatus.new)
                      .values(not_before=until, last_error=reason or None))
        return len(ids)

    def requeue_abandoned(self, backoff: Backoff | None = None, actor: str = SYSTEM) -> int:
        """Items whose lease expired (their worker died) go back to the queue; those out of
        attempts fail and escalate. Returns how many were re-queued or failed."""
        now = utcnow()
        max_attempts = backoff.max_attempts if backoff else None
        with self.session() as s:
            stale = list(s.scalars(select(WorkItem).where(WorkItem.status == ItemStatus.in_progress,
                                                          WorkItem.claimed_until < now)
                                   .with_for_update(skip_locked=True)))
            for item in stale:
                exhausted = max_attempts is not None and item.attempts >= max_attempts
                to_status = ItemStatus.failed if exhausted else ItemStatus.new
                self._audit(s, actor, "item.abandoned", item.process_id, item_id=item.id,
                            from_status=ItemStatus.in_progress, to_status=to_status,
                            details={"claimed_by": item.claimed_by, "attempts": item.attempts})
                item.status = to_status
                item.last_error = f"abandoned by {item.claimed_by} (lease expired)"
                item.claimed_by = None
                item.claimed_until = None
                item.updated_at = now
                if exhausted:
                    item.finished_at = now
                    self._open_case(s, item.process_id, item.reference, item.id, CaseKind.system,
                                    NewCase("ABANDONED", f"Avbrutt {item.attempts} ganger (arbeider døde)"),
                                    actor)
            return len(stale)

    def get_item(self, item_id: int) -> WorkItem:
        with self.session() as s:
            return self._item(s, item_id)

    def find_item(self, process_id: str, reference: str) -> WorkItem | None:
        with self.session() as s:
            return s.scalar(select(WorkItem).where(WorkItem.process_id == process_id,
                                                   WorkItem.reference == reference))

    def items(self, process_id: str, status: str | None = None, limit: int | None = None) -> list[WorkItem]:
        with self.session() as s:
            q = select(WorkItem).where(WorkItem.process_id == process_id).order_by(WorkItem.id)
            if status:
                q = q.where(WorkItem.status == status)
            if limit:
                q = q.limit(limit)
            return list(s.scalars(q))

    def counts(self, process_id: str) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(WorkItem.status, func.count()).where(WorkItem.process_id == process_id)
                             .group_by(WorkItem.status))
            return {status: n for status, n in rows}

    # ------------------------------------------------------------------ cases

    def open_case(self, process_id: str, reference: str, case: NewCase, kind: CaseKind = CaseKind.business,
                  item_id: int | None = None, actor: str = SYSTEM) -> ExceptionCase:
        """A case not tied to a claimed item (e.g. a report-level problem such as a bank total mismatch)."""
        with self.session() as s:
            return self._open_case(s, process_id, reference, item_id, kind, case, actor)

    def open_cases_many(self, process_id: str, cases: Sequence[tuple[str, NewCase]],
                        actor: str = SYSTEM) -> int:
        """Bulk version of open_case for flows that classify thousands of lines at once."""
        now = utcnow()
        with self.session() as s:
            for reference, case in cases:
                self._open_case(s, process_id, reference, None, CaseKind.business, case, actor, now=now)
        return len(cases)

    def _open_case(self, s: Session, process_id: str, reference: str, item_id: int | None, kind: CaseKind,
                   case: NewCase, actor: str, now: datetime | None = None) -> ExceptionCase:
        now = now or utcnow()
        row = ExceptionCase(
            item_id=item_id, process_id=process_id, reference=reference, kind=kind, category=case.category,
            message=case.message, evidence=case.evidence, search_text=case.search_text, amount=case.amount,
            org_unit=case.org_unit, status=CaseStatus.open, created_at=now, updated_at=now,
            due_at=now + timedelta(hours=case.sla_hours) if case.sla_hours else None)
        s.add(row)
        s.flush()
        for filename, media_type, content in case.attachments:
            s.add(CaseAttachment(case_id=row.id, filename=filename, media_type=media_type, size=len(content),
                                 content=content, created_at=now))
        self._audit(s, actor, "case.opened", process_id, case_id=row.id, item_id=item_id,
                    to_status=CaseStatus.open, details={"category": case.category, "kind": str(kind)}, now=now)
        return row

    def get_case(self, case_id: int) -> ExceptionCase:
        with self.session() as s:
            case = s.get(ExceptionCase, case_id)
            if case is None:
                raise NotFound(f"case {case_id} not found")
            return case

    def case_attachments(self, case_id: int) -> list[CaseAttachment]:
        with self.session() as s:
            return list(s.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case_id)
                                  .order_by(CaseAttachment.id)))

    def cases(self, process_id: str | None = None, status: str | Sequence[str] | None = None,
              category: str | None = None, limit: int | None = None) -> list[ExceptionCase]:
        with self.session() as s:
            q = select(ExceptionCase).order_by(ExceptionCase.id)
            if process_id:
                q = q.where(ExceptionCase.process_id == process_id)
            if isinstance(status, str):
                q = q.where(ExceptionCase.status == status)
            elif status:
                q = q.where(ExceptionCase.status.in_(list(status)))
            if category:
                q = q.where(ExceptionCase.category == category)
            if limit:
                q = q.limit(limit)
            return list(s.scalars(q))

    def assign(self, case_id: int, assignee: str | None, actor: str) -> ExceptionCase:
        """Claim ('I'm taking this') or reassign; an open case moves to in_review."""
        with self.session() as s:
            case = self._case(s, case_id)
            self._require_open(case)
            before = case.status
            case.assignee = assignee
            case.status = CaseStatus.in_review if assignee else CaseStatus.open
            case.updated_at = utcnow()
            self._audit(s, actor, "case.assigned", case.process_id, case_id=case.id, from_status=before,
                        to_status=case.status, details={"assignee": assignee})
            return case

    def decide(self, case_id: int, actor: str, action: str, comment: str,
               decision: dict[str, Any] | None = None) -> ExceptionCase:
        """Record a reviewer's decision. `dismiss` closes as dismissed; every other action resolves.
        The flow's next run reads resolved cases with decisions not yet applied."""
        if not comment or not comment.strip():
            raise InvalidTransition("a decision needs a comment")
        with self.session() as s:
            case = self._case(s, case_id)
            self._require_open(case)
            before = case.status
            now = utcnow()
            case.status = CaseStatus.dismissed if action == "dismiss" else CaseStatus.resolved
            case.decision = {"action": action, "comment": comment.strip(), **(decision or {})}
            case.decided_by = actor
            case.decided_at = now
            case.updated_at = now
            self._audit(s, actor, "case.decided", case.process_id, case_id=case.id, from_status=before,
                        to_status=case.status, details=case.decision)
            return case

    def reopen(self, case_id: int, actor: str, comment: str) -> ExceptionCase:
        with self.session() as s:
            case = self._case(s, case_id)
            if case.decision_applied_at:
                raise InvalidTransition(f"case {case_id}: the decision was already applied by a run")
            before = case.status
            case.status = CaseStatus.open
            case.decision = None
            case.updated_at = utcnow()
            self._audit(s, actor, "case.reopened", case.process_id, case_id=case.id, from_status=before,
                        to_status=CaseStatus.open, details={"comment": comment})
            return case

    def pending_decisions(self, process_id: str) -> list[ExceptionCase]:
        """Decided cases whose decision no run has applied yet."""
        with self.session() as s:
            return list(s.scalars(select(ExceptionCase).where(
                ExceptionCase.process_id == process_id,
                ExceptionCase.status.in_([CaseStatus.resolved, CaseStatus.dismissed]),
                ExceptionCase.decision_applied_at.is_(None)).order_by(ExceptionCase.id)))

    def mark_decision_applied(self, case_id: int, actor: str, details: dict[str, Any] | None = None) -> None:
        with self.session() as s:
            case = self._case(s, case_id)
            case.decision_applied_at = utcnow()
            self._audit(s, actor, "case.decision_applied", case.process_id, case_id=case.id,
                        details=details or {})

    def retry_item_of_case(self, case_id: int, actor: str, comment: str) -> WorkItem:
        """'Send back for retry': the case's item goes back to the queue with fresh attempts."""
        with self.session() as s:
            case = self._case(s, case_id)
            if case.item_id is None:
                raise InvalidTransition(f"case {case_id} has no work item to retry")
            item = self._item(s, case.item_id)
            before = item.status
            now = utcnow()
            item.status, item.attempts, item.not_before = ItemStatus.new, 0, None
            item.finished_at, item.updated_at = None, now
            self._audit(s, actor, "item.requeued", case.process_id, case_id=case.id, item_id=item.id,
                        from_status=before, to_status=ItemStatus.new, details={"comment": comment})
            return item

    # ------------------------------------------------------------------ audit

    def audit(self, actor: str, action: str, process_id: str | None = None, case_id: int | None = None,
              item_id: int | None = None, details: dict[str, Any] | None = None) -> None:
        """Record an event that is not a state change (e.g. an fnr revealed, a case viewed)."""
        with self.session() as s:
            self._audit(s, actor, action, process_id, case_id=case_id, item_id=item_id, details=details or {})

    def audit_trail(self, case_id: int | None = None, item_id: int | None = None,
                    limit: int | None = None) -> list[AuditEvent]:
        with self.session() as s:
            q = select(AuditEvent).order_by(AuditEvent.id)
            conds = []
            if case_id is not None:
                conds.append(AuditEvent.case_id == case_id)
            if item_id is not None:
                conds.append(AuditEvent.item_id == item_id)
            if conds:
                q = q.where(or_(*conds))
            if limit:
                q = q.limit(limit)
            return list(s.scalars(q))

    def _audit(self, s: Session, actor: str, action: str, process_id: str | None, *, case_id: int | None = None,
               item_id: int | None = None, from_status: str | None = None, to_status: str | None = None,
               details: dict[str, Any] | None = None, now: datetime | None = None) -> None:
        s.execute(insert(AuditEvent).values(
            at=now or utcnow(), actor=actor, action=action, process_id=process_id, case_id=case_id,
            item_id=item_id, from_status=str(from_status) if from_status else None,
            to_status=str(to_status) if to_status else None, details=details or {}))

    # ------------------------------------------------------------------ runs

    def start_run(self, process_id: str, run_id: str, flow_run_id: str | None = None) -> None:
        with self.session() as s:
            s.add(ProcessRun(process_id=process_id, run_id=run_id, flow_run_id=flow_run_id,
                             started_at=utcnow(), status="running"))

    def finish_run(self, run_id: str, status: str, cases_total: int, cases_automated: int,
                   exceptions: dict[str, int], summary: dict[str, Any] | None = None) -> None:
        with self.session() as s:
            run = s.scalar(select(ProcessRun).where(ProcessRun.run_id == run_id))
            if run is None:
                raise NotFound(f"run {run_id} not found")
            run.finished_at = utcnow()
            run.status = status
            run.cases_total = cases_total
            run.cases_automated = cases_automated
            run.exceptions = exceptions
            run.summary = summary or {}

    def runs(self, process_id: str | None = None, since: datetime | None = None) -> list[ProcessRun]:
        with self.session() as s:
            q = select(ProcessRun).order_by(ProcessRun.started_at)
            if process_id:
                q = q.where(ProcessRun.process_id == process_id)
            if since:
                q = q.where(ProcessRun.started_at >= since)
            return list(s.scalars(q))

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _item(s: Session, item_id: int) -> WorkItem:
        item = s.get(WorkItem, item_id)
        if item is None:
            raise NotFound(f"work item {item_id} not found")
        return item

    @staticmethod
    def _case(s: Session, case_id: int) -> ExceptionCase:
        case = s.get(ExceptionCase, case_id)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        return case

    @staticmethod
    def _require_open(case: ExceptionCase) -> None:
        if case.status not in (CaseStatus.open, CaseStatus.in_review):
            raise InvalidTransition(f"case {case.id} is {case.status}; final states are final")


def _bind(name: str):
    from sqlalchemy import bindparam

    return bindparam(name)


__all__ = ["Backoff", "NewItem", "NewCase", "WorkQueueStore", "StoreError", "NotFound", "InvalidTransition",
           "LeaseLost", "ItemStatus", "CaseStatus", "CaseKind", "and_"]
