"""volunteer: a covering index (at, kind, points) on the points ledger for the monthly statistics,
replacing the index on ``at`` alone (its prefix)

Revision ID: v0002
Revises: v0001
Create Date: 2026-11-22
"""
from alembic import op

revision = "v0002"
down_revision = "v0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_volunteer_points_ledger_at_kind_points', 'volunteer_points_ledger', ['at', 'kind', 'points'],
                    unique=False)
    op.drop_index('ix_volunteer_points_ledger_at', table_name='volunteer_points_ledger')


def downgrade() -> None:
    op.create_index('ix_volunteer_points_ledger_at', 'volunteer_points_ledger', ['at'], unique=False)
    op.drop_index('ix_volunteer_points_ledger_at_kind_points', table_name='volunteer_points_ledger')
