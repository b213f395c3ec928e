"""partybuilding: organisation tree, members and memberships, transfers, meetings, dues

Revision ID: p0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import shell.db.base

revision = "p0001"
down_revision = None
branch_labels = ("partybuilding",)
depends_on = "c0001"


def upgrade() -> None:
    op.create_table('partybuilding_counters',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_partybuilding_counters'))
    )
    op.create_table('partybuilding_meeting_rules',
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('min_count', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_meeting_rules')),
    sa.UniqueConstraint('kind', name=op.f('uq_partybuilding_meeting_rules_kind'))
    )
    op.create_table('partybuilding_orgs',
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('founded_on', sa.Date(), nullable=True),
    sa.Column('dissolved_on', sa.Date(), nullable=True),
    sa.Column('dissolved_reason', sa.String(length=200), nullable=True),
    sa.Column('secretary', sa.String(length=64), nullable=True),
    sa.Column('has_committee', sa.Boolean(), nullable=False),
    sa.Column('committee_size', sa.Integer(), nullable=True),
    sa.Column('committee_elected_on', sa.Date(), nullable=True),
    sa.Column('households', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_partybuilding_orgs_area_id_core_areas')),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_partybuilding_orgs_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['partybuilding_orgs.id'], name=op.f('fk_partybuilding_orgs_parent_id_partybuilding_orgs'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_orgs'))
    )
    op.create_index(op.f('ix_partybuilding_orgs_area_id'), 'partybuilding_orgs', ['area_id'], unique=False)
    op.create_index(op.f('ix_partybuilding_orgs_parent_id'), 'partybuilding_orgs', ['parent_id'], unique=False)
    op.create_index('ix_partybuilding_orgs_path', 'partybuilding_orgs', ['path'], unique=False)
    op.create_table('partybuilding_meetings',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('host', sa.String(length=64), nullable=True),
    sa.Column('recorder', sa.String(length=64), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('minutes', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_partybuilding_meetings_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['partybuilding_orgs.id'], name=op.f('fk_partybuilding_meetings_org_id_partybuilding_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_meetings'))
    )
    op.create_index(op.f('ix_partybuilding_meetings_held_on'), 'partybuilding_meetings', ['held_on'], unique=False)
    op.create_index(op.f('ix_partybuilding_meetings_org_id'), 'partybuilding_meetings', ['org_id'], unique=False)
    op.create_table('partybuilding_members',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('initials', sa.String(length=64), nullable=False),
    sa.Column('sex', sa.String(length=2), nullable=False),
    sa.Column('ethnicity', sa.String(length=16), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('education', sa.String(length=16), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=True),
    sa.Column('activist_on', sa.Date(), nullable=True),
    sa.Column('candidate_on', sa.Date(), nullable=True),
    sa.Column('admitted_on', sa.Date(), nullable=True),
    sa.Column('extension_months', sa.Integer(), nullable=True),
    sa.Column('extended_on', sa.Date(), nullable=True),
    sa.Column('full_on', sa.Date(), nullable=True),
    sa.Column('job', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('lost_contact_on', sa.Date(), nullable=True),
    sa.Column('mobile_destination', sa.String(length=200), nullable=True),
    sa.Column('mobile_since', sa.Date(), nullable=True),
    sa.Column('income_fen', sa.Integer(), nullable=True),
    sa.Column('fixed_dues_fen', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_partybuilding_members_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['partybuilding_orgs.id'], name=op.f('fk_partybuilding_members_org_id_partybuilding_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_members')),
    sa.UniqueConstraint('id_number', name=op.f('uq_partybuilding_members_id_number'))
    )
    op.create_index(op.f('ix_partybuilding_members_initials'), 'partybuilding_members', ['initials'], unique=False)
    op.create_index(op.f('ix_partybuilding_members_org_id'), 'partybuilding_members', ['org_id'], unique=False)
    op.create_table('partybuilding_org_events',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.String(length=400), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['partybuilding_orgs.id'], name=op.f('fk_partybuilding_org_events_org_id_partybuilding_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_org_events'))
    )
    op.create_index(op.f('ix_partybuilding_org_events_org_id'), 'partybuilding_org_events', ['org_id'], unique=False)
    op.create_table('partybuilding_attendance',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('absence_reason', sa.String(length=200), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['partybuilding_meetings.id'], name=op.f('fk_partybuilding_attendance_meeting_id_partybuilding_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['partybuilding_members.id'], name=op.f('fk_partybuilding_attendance_member_id_partybuilding_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_attendance')),
    sa.UniqueConstraint('meeting_id', 'member_id', name=op.f('uq_partybuilding_attendance_meeting_id'))
    )
    op.create_index(op.f('ix_partybuilding_attendance_meeting_id'), 'partybuilding_attendance', ['meeting_id'], unique=False)
    op.create_index(op.f('ix_partybuilding_attendance_member_id'), 'partybuilding_attendance', ['member_id'], unique=False)
    op.create_table('partybuilding_dues_payments',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('base_fen', sa.Integer(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['partybuilding_members.id'], name=op.f('fk_partybuilding_dues_payments_member_id_partybuilding_members')),
    sa.ForeignKeyConstraint(['recorded_by'], ['core_users.id'], name=op.f('fk_partybuilding_dues_payments_recorded_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_dues_payments')),
    sa.UniqueConstraint('member_id', 'month', name=op.f('uq_partybuilding_dues_payments_member_id'))
    )
    op.create_index(op.f('ix_partybuilding_dues_payments_member_id'), 'partybuilding_dues_payments', ['member_id'], unique=False)
    op.create_table('partybuilding_memberships',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.String(length=100), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['partybuilding_members.id'], name=op.f('fk_partybuilding_memberships_member_id_partybuilding_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['partybuilding_orgs.id'], name=op.f('fk_partybuilding_memberships_org_id_partybuilding_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_memberships'))
    )
    op.create_index(op.f('ix_partybuilding_memberships_member_id'), 'partybuilding_memberships', ['member_id'], unique=False)
    op.create_index(op.f('ix_partybuilding_memberships_org_id'), 'partybuilding_memberships', ['org_id'], unique=False)
    op.create_table('partybuilding_transfers',
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('from_org_id', sa.Integer(), nullable=True),
    sa.Column('to_org_id', sa.Integer(), nullable=True),
    sa.Column('letter_number', sa.String(length=40), nullable=True),
    sa.Column('other_party', sa.String(length=200), nullable=False),
    sa.Column('other_letter_number', sa.String(length=60), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('dues_paid_to', sa.String(length=7), nullable=True),
    sa.Column('receipt_due_on', sa.Date(), nullable=True),
    sa.Column('receipt_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_partybuilding_transfers_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['from_org_id'], ['partybuilding_orgs.id'], name=op.f('fk_partybuilding_transfers_from_org_id_partybuilding_orgs')),
    sa.ForeignKeyConstraint(['member_id'], ['partybuilding_members.id'], name=op.f('fk_partybuilding_transfers_member_id_partybuilding_members')),
    sa.ForeignKeyConstraint(['to_org_id'], ['partybuilding_orgs.id'], name=op.f('fk_partybuilding_transfers_to_org_id_partybuilding_orgs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partybuilding_transfers')),
    sa.UniqueConstraint('letter_number', name=op.f('uq_partybuilding_transfers_letter_number'))
    )
    op.create_index(op.f('ix_partybuilding_transfers_member_id'), 'partybuilding_transfers', ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_table('partybuilding_transfers')
    op.drop_table('partybuilding_memberships')
    op.drop_table('partybuilding_dues_payments')
    op.drop_table('partybuilding_attendance')
    op.drop_table('partybuilding_org_events')
    op.drop_table('partybuilding_members')
    op.drop_table('partybuilding_meetings')
    op.drop_table('partybuilding_orgs')
    op.drop_table('partybuilding_meeting_rules')
    op.drop_table('partybuilding_counters')
