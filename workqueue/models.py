"""Tables of the work-item store. Schema changes go through Alembic (workqueue/migrations)."""

from __future__ import annotations

from datetime import datetime
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
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# JSONB on PostgreSQL (indexable), JSON text on SQLite.
Json = JSON().with_variant(JSONB(), "postgresql")
# BIGINT ids on PostgreSQL; SQLite wants INTEGER PRIMARY KEY for its rowid alias.
Id = BigInteger().with_variant(Integer(), "sqlite")


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


class CaseKind(StrEnum):
    business = "business"
    system = "system"


class Base(DeclarativeBase):
    pass


class WorkItem(Base):
    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("process_id", "reference", name="uq_work_items_process_reference"),
        Index("ix_work_items_claimable", "process_id", "status", "priority", "id"),
        Index("ix_work_items_lease", "status", "claimed_until"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    status: Mapped[str] = mapped_column(String(24), default=ItemStatus.new)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_id: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(Json)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ExceptionCase(Base):
    __tablename__ = "exception_cases"
    __table_args__ = (
        Index("ix_cases_queue", "process_id", "status", "category"),
        Index("ix_cases_org_unit", "org_unit", "status"),
        Index("ix_cases_decision", "process_id", "status", "decision_applied_at"),
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
    amount: Mapped[float | None] = mapped_column()
    org_unit: Mapped[str | None] = mapped_column(String(128))
    assignee: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.open)
    decision: Mapped[dict[str, Any] | None] = mapped_column(Json)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    case: Mapped[ExceptionCase] = relationship(back_populates="attachments")


class AuditEvent(Base):
    """Append-only: who did what to which case or item, when. Never updated or deleted."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    process_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(Id)
    item_id: Mapped[int | None] = mapped_column(Id)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class User(Base):
    """Review-app users (the review package owns the logic; the table lives with the store)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(16))  # reviewer | owner | admin
    org_units: Mapped[list[str]] = mapped_column(Json, default=list)
    processes: Mapped[list[str]] = mapped_column(Json, default=list)  # empty = all processes
    password_hash: Mapped[str] = mapped_column(Text)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProcessRun(Base):
    """One run of a process: what the benefits report and SLA alerts read."""

    __tablename__ = "process_runs"
    __table_args__ = (Index("ix_runs_process_started", "process_id", "started_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    process_id: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(String(64), unique=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | completed | failed
    cases_total: Mapped[int] = mapped_column(Integer, default=0)
    cases_automated: Mapped[int] = mapped_column(Integer, default=0)
    exceptions: Mapped[dict[str, int]] = mapped_column(Json, default=dict)  # category -> count
    summary: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
