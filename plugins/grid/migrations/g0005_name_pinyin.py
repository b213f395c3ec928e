"""grid: full pinyin beside the pinyin initials for name search (issue 17 §2: "zhang" finds 张)

``grid_persons.name_pinyin`` holds the name's toneless pinyin without spaces (张三 → zhangsan; a surname read
otherwise than its character's first reading as the surname, 曾 → zeng; ü as v), computed by
``shell.text.name_pinyin`` wherever the name is written. A search of Latin letters matches it by prefix
beside the initials, so "zhang", "zhangsan" and "zs" all find 张三. Indexed like the initials: a plain
index (SQLite's GLOB prefix) and, on PostgreSQL, ``varchar_pattern_ops``. Existing rows are filled
here (``shell.db.backfill.add_name_pinyin``: no audit entries, no version change — only how a record
is found changed).

Revision ID: g0005
Revises: g0004
Create Date: 2026-12-04
"""
from alembic import op

from shell.db.backfill import add_name_pinyin, drop_name_pinyin

revision = "g0005"
down_revision = "g0004"
branch_labels = None
depends_on = None

TABLE, INDEX = "grid_persons", "ix_grid_persons_pinyin"


def upgrade() -> None:
    add_name_pinyin(op, TABLE, INDEX)


def downgrade() -> None:
    drop_name_pinyin(op, TABLE, INDEX)
