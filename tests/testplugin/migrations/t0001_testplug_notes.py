"""testplug notes

Revision ID: t0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import shell.db.base

revision = "t0001"
down_revision = None
branch_labels = ("testplug",)
depends_on = "c0001"


def upgrade() -> None:
    op.create_table(
        "testplug_notes",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", shell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shell.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["core_areas.id"], name=op.f("fk_testplug_notes_area_id_core_areas")),
        sa.ForeignKeyConstraint(["created_by"], ["core_users.id"], name=op.f("fk_testplug_notes_created_by_core_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_testplug_notes")),
    )


def downgrade() -> None:
    op.drop_table("testplug_notes")
