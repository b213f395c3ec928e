"""core: the holiday calendar (core_holidays), seeded from chinese-calendar for the years it knows

Revision ID: c0002
Revises: c0001
Create Date: 2026-12-03 12:40:00
"""
import sqlalchemy as sa
from alembic import op

import shell.db.base

revision = 'c0002'
down_revision = 'c0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_holidays',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_core_holidays_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_holidays')),
    sa.UniqueConstraint('day', name=op.f('uq_core_holidays_day'))
    )
    rows = seed_rows()
    if rows:
        table = sa.table('core_holidays', sa.column('day', sa.Date), sa.column('kind', sa.String),
                         sa.column('name', sa.String), sa.column('source', sa.String),
                         sa.column('created_at', shell.db.base.UTCDateTime(timezone=True)),
                         sa.column('updated_at', shell.db.base.UTCDateTime(timezone=True)),
                         sa.column('version_id', sa.Integer))
        op.bulk_insert(table, rows)


def seed_rows() -> list[dict]:
    """The days of every year chinese-calendar knows that differ from Monday–Friday: holidays on a
    weekday (off) and 调休 working weekend days (work), with the holiday's Chinese name."""
    from shell.clock import utcnow
    from shell.core.calendar import package_days

    now = utcnow()
    return [dict(day=day, kind=kind, name=name, source='chinese-calendar', created_at=now, updated_at=now,
                 version_id=1) for day, kind, name in package_days()]


def downgrade() -> None:
    op.drop_table('core_holidays')
