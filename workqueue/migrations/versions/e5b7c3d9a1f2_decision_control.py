"""decision control: the case fingerprint a decision was taken on, the attestant who approved it,
and the actions each process declares (published for the review app)

Revision ID: e5b7c3d9a1f2
Revises: d4a8e6f1c2b3
Create Date: 2026-12-02 03:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'e5b7c3d9a1f2'
down_revision = 'd4a8e6f1c2b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('exception_cases') as batch:
        batch.add_column(sa.Column('decision_basis', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('approved_by', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'process_actions',
        sa.Column('process_id', sa.String(length=64), nullable=False),
        sa.Column('actions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('process_id'),
    )


def downgrade() -> None:
    op.drop_table('process_actions')
    with op.batch_alter_table('exception_cases') as batch:
        batch.drop_column('approved_at')
        batch.drop_column('approved_by')
        batch.drop_column('decision_basis')
