"""Tables of the work-item store. Schema changes go through Alembic (workqueue/migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column, relationship

# JSONB on PostgreSQL (indexable), JSON text on SQLite.
Json = JSON().with_variant(JSONB(), "postgresql")
# BIGINT ids on PostgreSQL; SQLite wants INTEGER PRIMARY KEY for its rowid alias.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """A point in time, stored in UTC and always read back timezone-aware (UTC).

    SQLite has no time-zone type: SQLAlchemy writes the wall-clock digits and drops the offset,
    and reads back naive datetimes. Without this, an Oslo-time `not_before` would be compared
    as if it were UTC, and Python comparisons with aware datetimes would raise. Naive inputs
    are taken as local time (Python's own convention, `datetime.astimezone`).
    The DDL is plain DateTime(timezone=True), so migrations and autogenerate see no difference.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ItemStatus(StrEnum):
    new = "new"                      # waiting (also: waiting for a retry after backoff)
    in_progress = "in_progress"      # claimed by a worker holding a lease
    done = "done"                    # processed successfully
    business_exception = "business_exception"  # a human must decide; never retried
    failed = "failed"                # system exception after the last attempt: escalated to operators


FINAL_ITEM_STATUSES = {ItemStatus.done, ItemStatus.business_exception, ItemStatus.failed}


class CaseStatus(StrEnum):
    open = "open"
    in_review = "in_review"
    resolved = "resolved"
    dismissed = "dismissed"
    pending_approval = "pending_approval"  # a decision above its limit waits for an attestant


# A case someone must still act on: shown as active, counted against its SLA, opened at most once
# per reference, kept from retention.
OPEN_CASE_STATUSES = (CaseStatus.open.value, CaseStatus.in_review.value)


class CaseKind(StrEnum):
    business = "business"
    system = "system"


class Base(DeclarativeBase):
    pass


class WorkItem(Base):
    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("process_id", "reference", name="uq_work_items_process_reference"),
        # Claimed items only: a completed item's row version needs no entry here (migration b8e2f4a6c1d3).
        Index("ix_work_items_lease", "status", "claimed_until", sqlite_where=text("status = 'in_progress'"),
              postgresql_where=text("status = 'in_progress'")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    status: Mapped[str] = mapped_column(String(24), default=ItemStatus.new)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    run_id: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(Json)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# The claim order (priority high to low, then first in) read straight from an index, and the same
# for items with a deadline (partial index); see WorkQueueStore.claim. Declared after the class
# because the DESC column needs the mapped attribute. Waiting items only: a claimed or finished
# item's row version needs no entry here (migration b8e2f4a6c1d3).
Index("ix_work_items_claimable", WorkItem.process_id, WorkItem.status, WorkItem.priority.desc(), WorkItem.id,
      sqlite_where=text("status = 'new'"), postgresql_where=text("status = 'new'"))
Index("ix_work_items_deadline", WorkItem.process_id, WorkItem.status, WorkItem.priority.desc(), WorkItem.deadline,
      WorkItem.id, sqlite_where=WorkItem.deadline.isnot(None), postgresql_where=WorkItem.deadline.isnot(None))


class ExceptionCase(Base):
    __tablename__ = "exception_cases"
    __table_args__ = (
        Index("ix_cases_queue", "process_id", "status", "category"),
        Index("ix_cases_org_unit", "org_unit", "status"),
        Index("ix_cases_decision", "process_id", "status", "decision_applied_at"),
        # The review app's queue, counts and overview read only these columns: a covering index
        # answers them without touching the wide rows (the evidence JSON). Bounded-size columns
        # only (no search_text), so a PostgreSQL index entry can never exceed its size limit.
        Index("ix_cases_list", "status", "process_id", "org_unit", "category", "assignee", "due_at",
              "created_at", "amount", "reference"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))
    process_id: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default=CaseKind.business)
    category: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # Plain-text words a reviewer searches by (name, amounts, plate); never the fnr.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # HMAC-SHA256 of the case's fnr under settings.database.fnr_hash_key: exact search by a full
    # fnr without the fnr being stored in clear (workqueue.fnr_hash).
    fnr_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    amount: Mapped[float | None] = mapped_column()
    org_unit: Mapped[str | None] = mapped_column(String(128))
    assignee: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.open)
    decision: Mapped[dict[str, Any] | None] = mapped_column(Json)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # workqueue.actions.fingerprint of the case when the decision was taken (stale check at apply).
    decision_basis: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(128))  # the attestant (four-eyes)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    attachments: Mapped[list[CaseAttachment]] = relationship(back_populates="case", lazy="raise")


class CaseAttachment(Base):
    """A file kept as evidence (a screenshot, a trace, the document that was refused)."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("exception_cases.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    case: Mapped[ExceptionCase] = relationship(back_populates="attachments")


class AuditEvent(Base):
    """Append-only: who did what to which case or item, when. Never deleted; the one change is
    retention clearing personal details past the retention (workqueue/retention.py)."""

    __tablename__ = "audit_events"
    # ix_audit_case holds case events only: the two events of every item (claim, completion) are
    # found through ix_audit_item and cost no entry here (migration b8e2f4a6c1d3).
    __table_args__ = (Index("ix_audit_case", "case_id", "id", sqlite_where=text("case_id IS NOT NULL"),
                            postgresql_where=text("case_id IS NOT NULL")),
                      Index("ix_audit_item", "item_id", "id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    process_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(Id)
    item_id: Mapped[int | None] = mapped_column(Id)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit event through the ORM."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_events_are_final(_mapper, _connection, target: AuditEvent) -> None:
    raise AppendOnlyError(f"audit event {target.id} is append-only: it cannot be changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_audit_changes(state: ORMExecuteState) -> None:
    # Bulk `update(AuditEvent)` / `delete(AuditEvent)` through a Session bypass the mapper events.
    if (state.is_update or state.is_delete) and any(m.class_ is AuditEvent for m in state.all_mappers):
        raise AppendOnlyError("audit events are append-only: bulk update/delete is not allowed")


class User(Base):
    """Review-app users (the review package owns the logic; the table lives with the store)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(16))  # reviewer | attestant | owner | admin
    org_units: Mapped[list[str]] = mapped_column(Json, default=list)
    processes: Mapped[list[str]] = mapped_column(Json, default=list)  # empty = all processes
    password_hash: Mapped[str] = mapped_column(Text)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewSession(Base):
    """A logged-in browser of the review app. Server-side, so logging out, locking or a new
    password ends it at once; the cookie holds a random token whose SHA-256 is the id."""

    __tablename__ = "review_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessRun(Base):
    """One run of a process: what the benefits report and SLA alerts read."""

    __tablename__ = "process_runs"
    __table_args__ = (Index("ix_runs_process_started", "process_id", "started_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(String(64), unique=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | completed | failed | abandoned
    cases_total: Mapped[int] = mapped_column(Integer, default=0)
    cases_automated: Mapped[int] = mapped_column(Integer, default=0)
    exceptions: Mapped[dict[str, int]] = mapped_column(Json, default=dict)  # category -> count
    summary: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class ProcessActions(Base):
    """The actions a process declares (workqueue.actions.to_json), published by the process kit so
    the review app can render and check them without importing flow code."""

    __tablename__ = "process_actions"

    process_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShadowOutcome(Base):
    """One outcome of a process on one case, for the agreement report (docs/shadow.md):
    side `shadow` what the robot would have done in shadow (it did nothing outside the store),
    side `human` what the people did (imported from their own system's export, source = the file),
    side `live` what the robot did when it acted (kept so a shadow run can be compared with it)."""

    __tablename__ = "shadow_outcomes"
    __table_args__ = (Index("ix_shadow_outcomes_process", "process_id", "side", "day"),
                      Index("ix_shadow_outcomes_run", "run_id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(16))        # shadow | human | live
    run_id: Mapped[str] = mapped_column(String(128))      # the run, or "human:<file>" for an import
    system: Mapped[str] = mapped_column(String(64))       # the external system the write was (or would be) for
    action: Mapped[str] = mapped_column(String(64))       # e.g. offset, upload, archive, update, manual
    key: Mapped[str] = mapped_column(String(128))         # the case it concerns (claim id, document, plate)
    category: Mapped[str] = mapped_column(String(64), default="")
    amount: Mapped[float | None] = mapped_column()
    value: Mapped[str] = mapped_column(Text, default="")  # what is compared besides the amount (voucher, field values)
    day: Mapped[str | None] = mapped_column(String(10))   # ISO date the outcome belongs to (period filter)
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShadowSignOff(Base):
    """The owner's judgement on one disagreement: who was right (robot or human), who said so, when."""

    __tablename__ = "shadow_signoffs"
    __table_args__ = (UniqueConstraint("process_id", "key", name="uq_shadow_signoffs_process_key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(128))
    verdict: Mapped[str] = mapped_column(String(16))      # robot | human | both_wrong
    note: Mapped[str] = mapped_column(Text, default="")
    signed_by: Mapped[str] = mapped_column(String(128))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
