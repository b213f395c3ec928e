"""volunteer: full pinyin beside the pinyin initials for name search (issue 17 §2: "zhang" finds 张)

``volunteer_volunteers.name_pinyin`` holds the name's toneless pinyin without spaces (张三 → zhangsan; a surname read
otherwise than its character's first reading as the surname, 曾 → zeng; ü as v), computed by
``shell.text.name_pinyin`` wherever the name is written. A search of Latin letters matches it by prefix
beside the initials, so "zhang", "zhangsan" and "zs" all find 张三. Indexed like the initials: a plain
index (SQLite's GLOB prefix) and, on PostgreSQL, ``varchar_pattern_ops``. Existing rows are filled
here (``shell.db.backfill.add_name_pinyin``: no audit entries, no version change — only how a record
is found changed).

Revision ID: v0006
Revises: v0005
Create Date: 2026-12-04
"""
from alembic import op

from shell.db.backfill import add_name_pinyin, drop_name_pinyin

revision = "v0006"
down_revision = "v0005"
branch_labels = None
depends_on = None

TABLE, INDEX = "volunteer_volunteers", "ix_volunteer_volunteers_name_pinyin"


def upgrade() -> None:
    add_name_pinyin(op, TABLE, INDEX)


def downgrade() -> None:
    drop_name_pinyin(op, TABLE, INDEX)
