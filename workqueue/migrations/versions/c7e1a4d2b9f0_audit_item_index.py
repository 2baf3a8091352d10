"""claim and audit indexes

- ix_work_items_claimable in claim order (priority DESC, id), so a claim reads the first
  items from the index instead of sorting every waiting item;
- ix_work_items_deadline: the same for items with a deadline (partial index);
- ix_audit_item: an item's history is read by item_id.

Revision ID: c7e1a4d2b9f0
Revises: b3f0c2a9d417
Create Date: 2026-11-23 20:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c7e1a4d2b9f0'
down_revision = 'b3f0c2a9d417'
branch_labels = None
depends_on = None

HAS_DEADLINE = sa.text("deadline IS NOT NULL")


def upgrade() -> None:
    op.drop_index('ix_work_items_claimable', table_name='work_items')
    op.create_index('ix_work_items_claimable', 'work_items',
                    ['process_id', 'status', sa.text('priority DESC'), 'id'], unique=False)
    op.create_index('ix_work_items_deadline', 'work_items',
                    ['process_id', 'status', sa.text('priority DESC'), 'deadline', 'id'], unique=False,
                    sqlite_where=HAS_DEADLINE, postgresql_where=HAS_DEADLINE)
    op.create_index('ix_audit_item', 'audit_events', ['item_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_item', table_name='audit_events')
    op.drop_index('ix_work_items_deadline', table_name='work_items')
    op.drop_index('ix_work_items_claimable', table_name='work_items')
    op.create_index('ix_work_items_claimable', 'work_items', ['process_id', 'status', 'priority', 'id'],
                    unique=False)
