"""grid: full pinyin beside the pinyin initials for name search (issue 17 §2: "zhang" finds 张)

``grid_persons.name_pinyin`` holds the name's toneless pinyin without spaces (张三 → zhangsan; a surname read
otherwise than its character's first reading as the surname, 曾 → zeng; ü as v), computed by
``shell.text.name_pinyin`` wherever the name is written. A search of Latin letters matches it by prefix
beside the initials, so "zhang", "zhangsan" and "zs" all find 张三. Indexed like the initials: a plain
index (SQLite's GLOB prefix) and, on PostgreSQL, ``varchar_pattern_ops``. Existing rows are filled
here (``shell.db.backfill``: no audit entries, no version change — only how a record is found changed).

Revision ID: g0005
Revises: g0004
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from shell.db.backfill import fill_derived
from shell.text import name_pinyin

revision = "g0005"
down_revision = "g0004"
branch_labels = None
depends_on = None

TABLE = "grid_persons"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("name_pinyin", sa.String(length=255), nullable=False, server_default=""))
    fill_derived(op.get_bind(), TABLE, "name_pinyin", "name", name_pinyin)
    op.create_index("ix_grid_persons_pinyin", TABLE, ["name_pinyin"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_grid_persons_pinyin_pattern", TABLE, ["name_pinyin"], unique=False,
                        postgresql_ops={"name_pinyin": "varchar_pattern_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_grid_persons_pinyin_pattern", table_name=TABLE)
    op.drop_index("ix_grid_persons_pinyin", table_name=TABLE)
    # a plain DROP COLUMN (SQLite 3.35+): a batch rebuild of the table is refused by the foreign keys
    # that point at it
    op.execute(f"ALTER TABLE {TABLE} DROP COLUMN name_pinyin")
