"""grid: tenant reporting (出租房屋租客报备, issue 14.6) — when a tenant moved in and was reported

``grid_occupancies`` gains
- ``moved_in_at`` (NOT NULL): the hour of moving in; ``grid.rental_report_hours`` counts from it.
  Existing rows only knew the day: they get ``start_date`` 00:00 Asia/Shanghai, the earliest the
  tenant can have moved in (SQLite: a fixed +8 h; the 1986–1991 summer hours are an hour off there).
- ``reported_at`` (NULL allowed): when the landlord reported the tenant to the grid. Existing tenant
  rows get their ``created_at`` — the moment the grid demonstrably knew of the tenant, the best time
  known — but never earlier than ``moved_in_at`` (a record entered ahead counts as reported on moving
  in). A tenant entered long after moving in therefore shows as reported late: that is what the
  database can prove; a worker who knows better corrects the time (登记报备). Non-tenants stay NULL.
No index: an (is_tenant, end_date) index made SQLite sort every tenant for each page of the list
(newest first by id) and drive the rentals ledger's house → tenant join from it (0.8 s instead of
tens of ms on the medium street); the primary key and house_id indexes serve both better.

SQLite: batch mode (the table is rebuilt to make ``moved_in_at`` NOT NULL after the backfill).

Revision ID: g0004
Revises: g0003
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

import shell.db.base

revision = "g0004"
down_revision = "g0003"
branch_labels = None
depends_on = None

TABLE = "grid_occupancies"


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("moved_in_at", shell.db.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reported_at", shell.db.base.UTCDateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"UPDATE {TABLE} SET moved_in_at = start_date::timestamp AT TIME ZONE 'Asia/Shanghai'")
        op.execute(f"UPDATE {TABLE} SET reported_at = GREATEST(created_at, moved_in_at) WHERE is_tenant")
    else:
        # the text SQLAlchemy's UTCDateTime stores on SQLite: naive UTC with microseconds
        op.execute(f"UPDATE {TABLE} SET moved_in_at = strftime('%Y-%m-%d %H:%M:%f000', start_date, '-8 hours')")
        op.execute(f"UPDATE {TABLE} SET reported_at = max(created_at, moved_in_at) WHERE is_tenant")
    with op.batch_alter_table(TABLE) as batch:
        batch.alter_column("moved_in_at", existing_type=shell.db.base.UTCDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("reported_at")
        batch.drop_column("moved_in_at")
