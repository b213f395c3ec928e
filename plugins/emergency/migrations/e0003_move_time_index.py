"""emergency: stock moves by time (issue 9)

The 物资收发汇总 statistic and the all-warehouse 出入库明细账 read the moves of a period across every
warehouse; the (warehouse_id, occurred_at) index cannot serve that, so they scanned the whole
ledger. This index covers the summary (time range → item, kind, qty) without touching the table.

Revision ID: e0003
Revises: e0002
Create Date: 2026-11-22
"""
from alembic import op

revision = "e0003"
down_revision = "e0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_emergency_stock_moves_time_item", "emergency_stock_moves",
                    ["occurred_at", "item_id", "kind", "qty"])


def downgrade() -> None:
    op.drop_index("ix_emergency_stock_moves_time_item", table_name="emergency_stock_moves")
