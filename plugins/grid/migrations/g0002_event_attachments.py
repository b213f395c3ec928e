"""grid: event attachments (photos and files kept in the database)

Revision ID: g0002
Revises: g0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import shell.db.base

revision = "g0002"
down_revision = "g0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('grid_event_attachments',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_name', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_event_attachments_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_event_attachments_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['grid_events.id'], name=op.f('fk_grid_event_attachments_event_id_grid_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['core_users.id'], name=op.f('fk_grid_event_attachments_uploaded_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_event_attachments'))
    )
    op.create_index(op.f('ix_grid_event_attachments_area_id'), 'grid_event_attachments', ['area_id'], unique=False)
    op.create_index(op.f('ix_grid_event_attachments_event_id'), 'grid_event_attachments', ['event_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_grid_event_attachments_event_id'), table_name='grid_event_attachments')
    op.drop_index(op.f('ix_grid_event_attachments_area_id'), table_name='grid_event_attachments')
    op.drop_table('grid_event_attachments')
