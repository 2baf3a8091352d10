"""partial indexes on the work-item hot path

Each claim and each completion rewrites an item's row (a new row version, so a new entry in every
index whose condition the row meets) and writes an audit event. Indexes that hold only the rows
their queries look for cost nothing for the others:
- ix_work_items_claimable: waiting items only (`status = 'new'`), the claim's read;
- ix_work_items_lease: claimed items only (`status = 'in_progress'`), the expired-lease sweep;
- ix_audit_case: events of a case only (`case_id IS NOT NULL`); an item's events (two per item)
  are read through ix_audit_item.
A query naming the status (or a case id) still uses them, on PostgreSQL and SQLite alike; queries
over finished items read most of a process's rows either way.

Revision ID: b8e2f4a6c1d3
Revises: a7d9e3c1f5b8
Create Date: 2026-12-02 10:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b8e2f4a6c1d3'
down_revision = 'a7d9e3c1f5b8'
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'new'")
CLAIMED = sa.text("status = 'in_progress'")
OF_A_CASE = sa.text("case_id IS NOT NULL")


def _recreate(name: str, table: str, columns: list, where=None) -> None:
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns, unique=False, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    _recreate('ix_work_items_claimable', 'work_items', ['process_id', 'status', sa.text('priority DESC'), 'id'],
              WAITING)
    _recreate('ix_work_items_lease', 'work_items', ['status', 'claimed_until'], CLAIMED)
    _recreate('ix_audit_case', 'audit_events', ['case_id', 'id'], OF_A_CASE)


def downgrade() -> None:
    _recreate('ix_audit_case', 'audit_events', ['case_id', 'id'])
    _recreate('ix_work_items_lease', 'work_items', ['status', 'claimed_until'])
    _recreate('ix_work_items_claimable', 'work_items', ['process_id', 'status', sa.text('priority DESC'), 'id'])
