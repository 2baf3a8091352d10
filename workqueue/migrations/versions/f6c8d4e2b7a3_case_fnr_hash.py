"""cases: keyed hash of the fnr (exact search by a full fnr; the fnr never stored in clear)

Cases opened before this revision have no hash (NULL) and are not found by fnr.

Revision ID: f6c8d4e2b7a3
Revises: e5b7c3d9a1f2
Create Date: 2026-12-02 02:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f6c8d4e2b7a3'
down_revision = 'e5b7c3d9a1f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('exception_cases', sa.Column('fnr_hash', sa.String(length=64), nullable=True))
    op.create_index('ix_exception_cases_fnr_hash', 'exception_cases', ['fnr_hash'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_exception_cases_fnr_hash', table_name='exception_cases')
    with op.batch_alter_table('exception_cases') as batch:
        batch.drop_column('fnr_hash')
