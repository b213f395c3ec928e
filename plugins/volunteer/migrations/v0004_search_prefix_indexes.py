"""volunteer: prefix searches served by an index on PostgreSQL (issue 9)

A volunteer search by an ID number prefix, a phone prefix, pinyin initials or a 志愿者编号 prefix is
``LIKE 'x%'``; in a database whose collation is not C (zh_CN.UTF-8, C.UTF-8) a plain b-tree index
cannot serve it and the search walked the whole volunteer table. ``varchar_pattern_ops`` indexes
serve a prefix in any collation. SQLite needs nothing: the search uses GLOB there, which the existing
indexes serve.

Revision ID: v0004
Revises: v0003
Create Date: 2026-11-22
"""
from alembic import op

revision = "v0004"
down_revision = "v0003"
branch_labels = None
depends_on = None

COLUMNS = ("id_number", "phone", "initials", "number")   # models.SEARCH_PREFIX_COLUMNS


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.create_index(f"ix_volunteer_volunteers_{column}_pattern", "volunteer_volunteers", [column], unique=False,
                        postgresql_ops={column: "varchar_pattern_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.drop_index(f"ix_volunteer_volunteers_{column}_pattern", table_name="volunteer_volunteers")
