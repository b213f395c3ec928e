"""partybuilding: 双报到 (community reports and services) and 党员中心户 links to other plugins' records

Revision ID: p0002
Revises: p0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import shell.db.base

revision = "p0002"
down_revision = "p0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('partybuilding_community_reports',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('workplace', sa.String(length=200), nullable=False),
    sa.Column('workplace_org', sa.String(length=200), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_partybuilding_community_reports_area_id_core_areas')),
    sa.ForeignKeyConstraint(['member_id'], ['partybuilding_members.id'], name=op.f('fk_partybuilding_community_reports_member_id_partybuilding_members')),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_partybuilding_community_reports_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_community_reports'))
    )
    op.create_index(op.f('ix_partybuilding_community_reports_area_id'), 'partybuilding_community_reports', ['area_id'], unique=False)
    op.create_index(op.f('ix_partybuilding_community_reports_member_id'), 'partybuilding_community_reports', ['member_id'], unique=False)
    op.create_table('partybuilding_community_services',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('served_on', sa.Date(), nullable=False),
    sa.Column('content', sa.String(length=200), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['partybuilding_community_reports.id'], name=op.f('fk_partybuilding_community_services_report_id_partybuilding_community_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['core_users.id'], name=op.f('fk_partybuilding_community_services_recorded_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_community_services'))
    )
    op.create_index(op.f('ix_partybuilding_community_services_report_id'), 'partybuilding_community_services', ['report_id'], unique=False)
    op.create_table('partybuilding_household_links',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('record_kind', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['partybuilding_orgs.id'], name=op.f('fk_partybuilding_household_links_org_id_partybuilding_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_household_links')),
    sa.UniqueConstraint('org_id', 'record_kind', 'record_id', name=op.f('uq_partybuilding_household_links_org_id'))
    )
    op.create_index(op.f('ix_partybuilding_household_links_org_id'), 'partybuilding_household_links', ['org_id'], unique=False)


def downgrade() -> None:
    op.drop_table('partybuilding_household_links')
    op.drop_table('partybuilding_community_services')
    op.drop_table('partybuilding_community_reports')
