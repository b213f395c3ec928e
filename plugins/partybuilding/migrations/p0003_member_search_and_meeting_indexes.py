"""partybuilding: indexes for the street at scale (issue 9) — member search by phone, prefix searches
on PostgreSQL, the newest meetings first

- ``partybuilding_members.phone``: the member search finds a phone number by its start.
- PostgreSQL: ``LIKE 'x%'`` uses a plain B-tree only in a C-collated database; ``varchar_pattern_ops``
  indexes on ID number, phone and pinyin initials serve the prefix in any collation (SQLite's GLOB
  uses the plain indexes).
- ``partybuilding_meetings (held_on, id)``: the 三会一课 list pages newest first by keyset.

Revision ID: p0003
Revises: p0002
Create Date: 2026-11-22
"""
from alembic import op

revision = "p0003"
down_revision = "p0002"
branch_labels = None
depends_on = None

# (index, column): the same names and options as in plugins/partybuilding/models.py (Member.__table_args__)
PATTERN_INDEXES = (("ix_partybuilding_members_id_number_pattern", "id_number"),
                   ("ix_partybuilding_members_phone_pattern", "phone"),
                   ("ix_partybuilding_members_initials_pattern", "initials"))


def upgrade() -> None:
    op.create_index("ix_partybuilding_members_phone", "partybuilding_members", ["phone"], unique=False)
    op.create_index("ix_partybuilding_meetings_held_on_id", "partybuilding_meetings", ["held_on", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for name, column in PATTERN_INDEXES:
            op.create_index(name, "partybuilding_members", [column], unique=False,
                            postgresql_ops={column: "varchar_pattern_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _column in PATTERN_INDEXES:
            op.drop_index(name, table_name="partybuilding_members")
    op.drop_index("ix_partybuilding_meetings_held_on_id", table_name="partybuilding_meetings")
    op.drop_index("ix_partybuilding_members_phone", table_name="partybuilding_members")
