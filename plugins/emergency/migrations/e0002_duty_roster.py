"""emergency: duty roster (值班表)

Revision ID: e0002
Revises: e0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import shell.db.base

revision = "e0002"
down_revision = "e0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('emergency_duty_shifts',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('duty_date', sa.Date(), nullable=False),
    sa.Column('shift', sa.String(length=8), nullable=False),
    sa.Column('leader', sa.String(length=50), nullable=False),
    sa.Column('staff', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_emergency_duty_shifts_area_id_core_areas')),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_emergency_duty_shifts_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_duty_shifts')),
    sa.UniqueConstraint('area_id', 'duty_date', 'shift', name='uq_emergency_duty_shifts_area_date_shift')
    )


def downgrade() -> None:
    op.drop_table('emergency_duty_shifts')
