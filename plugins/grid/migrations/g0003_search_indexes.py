"""grid: indexes for the large street (issue 9) — prefix searches on PostgreSQL, the resident count

- PostgreSQL only: ``LIKE 'x%'`` can use a plain B-tree index only in a database whose collation is C;
  a township server created with zh_CN.UTF-8 or C.UTF-8 walked the whole person table for a prefix of
  an ID number, a phone or pinyin initials (and the event table for an event number).
  ``varchar_pattern_ops`` indexes serve a prefix in any collation. SQLite needs nothing: its GLOB
  prefix search uses the existing indexes.
- Both engines: (area_id, status) on persons. The resident list counts the active persons of the
  user's scope on every filter; on 200,000 persons that count read the whole table (45–120 ms on
  SQLite), now it reads this narrow index (7–20 ms street-wide, ~1 ms for a community). Not
  (status, area_id): SQLite then served the first page (status = 'active' ORDER BY id) from it and
  sorted 200,000 rows instead of walking the primary key (5 → 50–70 ms).

Revision ID: g0003
Revises: g0002
Create Date: 2026-11-22
"""
from alembic import op

revision = "g0003"
down_revision = "g0002"
branch_labels = None
depends_on = None

# (index, table, column): the same names and options as in plugins/grid/models.py
PATTERN_INDEXES = (("ix_grid_persons_id_number_pattern", "grid_persons", "id_number"),
                   ("ix_grid_persons_phone_pattern", "grid_persons", "phone"),
                   ("ix_grid_persons_initials_pattern", "grid_persons", "name_initials"),
                   ("ix_grid_events_number_pattern", "grid_events", "number"))


def upgrade() -> None:
    op.create_index("ix_grid_persons_area_status", "grid_persons", ["area_id", "status"], unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, column in PATTERN_INDEXES:
        op.create_index(name, table, [column], unique=False, postgresql_ops={column: "varchar_pattern_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _column in PATTERN_INDEXES:
            op.drop_index(name, table_name=table)
    op.drop_index("ix_grid_persons_area_status", table_name="grid_persons")
