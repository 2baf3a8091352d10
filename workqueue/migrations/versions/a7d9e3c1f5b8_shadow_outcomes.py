"""shadow mode: the robot's would-do outcomes beside the people's, and the owner's sign-offs

Revision ID: a7d9e3c1f5b8
Revises: f6c8d4e2b7a3
Create Date: 2026-12-02 06:40:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'a7d9e3c1f5b8'
down_revision = 'f6c8d4e2b7a3'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'shadow_outcomes',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('process_id', sa.String(length=64), nullable=False),
        sa.Column('side', sa.String(length=16), nullable=False),
        sa.Column('run_id', sa.String(length=128), nullable=False),
        sa.Column('system', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('category', sa.String(length=64), nullable=False),
        sa.Column('amount', sa.Float(), nullable=True),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=True),
        sa.Column('details', _JSON, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_shadow_outcomes_process', 'shadow_outcomes', ['process_id', 'side', 'day'], unique=False)
    op.create_index('ix_shadow_outcomes_run', 'shadow_outcomes', ['run_id'], unique=False)
    op.create_table(
        'shadow_signoffs',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('process_id', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('signed_by', sa.String(length=128), nullable=False),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('process_id', 'key', name='uq_shadow_signoffs_process_key'),
    )


def downgrade() -> None:
    op.drop_table('shadow_signoffs')
    op.drop_index('ix_shadow_outcomes_run', table_name='shadow_outcomes')
    op.drop_index('ix_shadow_outcomes_process', table_name='shadow_outcomes')
    op.drop_table('shadow_outcomes')
