"""volunteer: tamper evidence — hash chains on the hours and points ledgers and the stock moves (issue 15.9)

Revision ID: v0005
Revises: v0004
Create Date: 2026-12-03 13:40:00
"""
from alembic import op

from shell.core.chain import add_chain, drop_chain

revision = "v0005"
down_revision = "v0004"
branch_labels = None
depends_on = "c0003"   # core_chain_heads

APPEND_ONLY = ("volunteer_hours_ledger", "volunteer_points_ledger", "volunteer_stock_moves")
MESSAGE = "append-only ledger: write a reversal entry instead"   # as v0001 created the guards


def upgrade() -> None:
    for table in APPEND_ONLY:
        add_chain(op, table, f"{table}: {MESSAGE}")


def downgrade() -> None:
    from shell.db.guards import create_append_only, drop_append_only
    for table in APPEND_ONLY:
        drop_append_only(op, table)
        drop_chain(op, table)
        create_append_only(op, table, f"{table}: {MESSAGE}")
