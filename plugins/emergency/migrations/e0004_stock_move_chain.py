"""emergency: tamper evidence — a hash chain on the stock moves (issue 15.9)

Revision ID: e0004
Revises: e0003
Create Date: 2026-12-03 13:40:00
"""
from alembic import op

from shell.core.chain import add_chain, drop_chain

revision = "e0004"
down_revision = "e0003"
branch_labels = None
depends_on = "c0003"   # core_chain_heads

MOVES_MESSAGE = "emergency_stock_moves is append-only: corrections are new moves"   # as e0001


def upgrade() -> None:
    add_chain(op, "emergency_stock_moves", MOVES_MESSAGE)


def downgrade() -> None:
    from shell.db.guards import create_append_only, drop_append_only
    drop_append_only(op, "emergency_stock_moves")
    drop_chain(op, "emergency_stock_moves")
    create_append_only(op, "emergency_stock_moves", MOVES_MESSAGE)
