"""volunteer: volunteers, teams, activities and attendance, hours and points ledgers, reward store,
certificates (ledgers and stock moves append-only by trigger)

Revision ID: v0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import shell.db.base
from shell.db.guards import create_append_only, drop_append_only

revision = "v0001"
down_revision = None
branch_labels = ("volunteer",)
depends_on = "c0001"

# Tables whose rows are never changed or deleted once written.
APPEND_ONLY = ("volunteer_hours_ledger", "volunteer_points_ledger", "volunteer_stock_moves")
MESSAGE = "append-only ledger: write a reversal entry instead"


def upgrade() -> None:
    op.create_table('volunteer_counters',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_volunteer_counters'))
    )
    op.create_table('volunteer_reward_items',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('points_price', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('per_person_limit', sa.Integer(), nullable=False),
    sa.Column('limit_period', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('points_price > 0', name=op.f('ck_volunteer_reward_items_price_positive')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_volunteer_reward_items_stock_nonneg')),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_volunteer_reward_items_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_volunteer_reward_items_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_reward_items')),
    sa.UniqueConstraint('area_id', 'name', name='uq_volunteer_reward_items_area_name')
    )
    op.create_table('volunteer_teams',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('leader_name', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_volunteer_teams_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_volunteer_teams_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_teams')),
    sa.UniqueConstraint('area_id', 'name', name='uq_volunteer_teams_area_name')
    )
    op.create_table('volunteer_volunteers',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('initials', sa.String(length=64), nullable=False),
    sa.Column('gender', sa.String(length=2), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('id_type', sa.String(length=8), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('skills', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('inactive_reason', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_volunteer_volunteers_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_volunteer_volunteers_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_volunteers')),
    sa.UniqueConstraint('id_number', name=op.f('uq_volunteer_volunteers_id_number')),
    sa.UniqueConstraint('number', name=op.f('uq_volunteer_volunteers_number'))
    )
    op.create_index('ix_volunteer_volunteers_area_name', 'volunteer_volunteers', ['area_id', 'name'], unique=False)
    op.create_index('ix_volunteer_volunteers_initials', 'volunteer_volunteers', ['initials'], unique=False)
    op.create_index('ix_volunteer_volunteers_phone', 'volunteer_volunteers', ['phone'], unique=False)
    op.create_table('volunteer_accounts',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('points_balance', sa.Integer(), nullable=False),
    sa.Column('approved_minutes', sa.Integer(), nullable=False),
    sa.CheckConstraint('approved_minutes >= 0', name=op.f('ck_volunteer_accounts_minutes_nonneg')),
    sa.CheckConstraint('points_balance >= 0', name=op.f('ck_volunteer_accounts_points_nonneg')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer_volunteers.id'], name=op.f('fk_volunteer_accounts_volunteer_id_volunteer_volunteers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('volunteer_id', name=op.f('pk_volunteer_accounts'))
    )
    op.create_table('volunteer_activities',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('organiser', sa.String(length=100), nullable=False),
    sa.Column('starts_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('leader_name', sa.String(length=64), nullable=False),
    sa.Column('recorder_name', sa.String(length=64), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('cap_minutes', sa.Integer(), nullable=False),
    sa.Column('points_per_hour', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_volunteer_activities_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_volunteer_activities_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['volunteer_teams.id'], name=op.f('fk_volunteer_activities_team_id_volunteer_teams'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_activities'))
    )
    op.create_index(op.f('ix_volunteer_activities_area_id'), 'volunteer_activities', ['area_id'], unique=False)
    op.create_index('ix_volunteer_activities_starts_at', 'volunteer_activities', ['starts_at'], unique=False)
    op.create_table('volunteer_certificates',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=True),
    sa.Column('period_to', sa.Date(), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['issued_by'], ['core_users.id'], name=op.f('fk_volunteer_certificates_issued_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer_volunteers.id'], name=op.f('fk_volunteer_certificates_volunteer_id_volunteer_volunteers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_certificates')),
    sa.UniqueConstraint('number', name=op.f('uq_volunteer_certificates_number'))
    )
    op.create_index(op.f('ix_volunteer_certificates_volunteer_id'), 'volunteer_certificates', ['volunteer_id'], unique=False)
    op.create_table('volunteer_redemptions',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('total_points', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('handled_by', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', shell.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_volunteer_redemptions_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['handled_by'], ['core_users.id'], name=op.f('fk_volunteer_redemptions_handled_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer_volunteers.id'], name=op.f('fk_volunteer_redemptions_volunteer_id_volunteer_volunteers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_redemptions'))
    )
    op.create_index('ix_volunteer_redemptions_at', 'volunteer_redemptions', ['at'], unique=False)
    op.create_index('ix_volunteer_redemptions_volunteer_id', 'volunteer_redemptions', ['volunteer_id'], unique=False)
    op.create_table('volunteer_team_members',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_volunteer_team_members_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['volunteer_teams.id'], name=op.f('fk_volunteer_team_members_team_id_volunteer_teams'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer_volunteers.id'], name=op.f('fk_volunteer_team_members_volunteer_id_volunteer_volunteers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_team_members'))
    )
    op.create_index('ix_volunteer_team_members_team_volunteer', 'volunteer_team_members', ['team_id', 'volunteer_id'], unique=False)
    op.create_index(op.f('ix_volunteer_team_members_volunteer_id'), 'volunteer_team_members', ['volunteer_id'], unique=False)
    op.create_table('volunteer_attendances',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('enrolled_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signed_in_at', shell.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signed_out_at', shell.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('raw_minutes', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('quality', sa.String(length=16), nullable=False),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('approved_at', shell.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['volunteer_activities.id'], name=op.f('fk_volunteer_attendances_activity_id_volunteer_activities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['approved_by'], ['core_users.id'], name=op.f('fk_volunteer_attendances_approved_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_volunteer_attendances_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer_volunteers.id'], name=op.f('fk_volunteer_attendances_volunteer_id_volunteer_volunteers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_attendances')),
    sa.UniqueConstraint('activity_id', 'volunteer_id', name='uq_volunteer_attendances_activity_volunteer')
    )
    op.create_index('ix_volunteer_attendances_status', 'volunteer_attendances', ['status'], unique=False)
    op.create_index(op.f('ix_volunteer_attendances_volunteer_id'), 'volunteer_attendances', ['volunteer_id'], unique=False)
    op.create_table('volunteer_redemption_lines',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('points_price', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['volunteer_reward_items.id'], name=op.f('fk_volunteer_redemption_lines_item_id_volunteer_reward_items'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['volunteer_redemptions.id'], name=op.f('fk_volunteer_redemption_lines_order_id_volunteer_redemptions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_redemption_lines'))
    )
    op.create_index('ix_volunteer_redemption_lines_item_id', 'volunteer_redemption_lines', ['item_id'], unique=False)
    op.create_index(op.f('ix_volunteer_redemption_lines_order_id'), 'volunteer_redemption_lines', ['order_id'], unique=False)
    op.create_table('volunteer_stock_moves',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('stock_after', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_volunteer_stock_moves_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['volunteer_reward_items.id'], name=op.f('fk_volunteer_stock_moves_item_id_volunteer_reward_items'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['volunteer_redemptions.id'], name=op.f('fk_volunteer_stock_moves_order_id_volunteer_redemptions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_stock_moves'))
    )
    op.create_index('ix_volunteer_stock_moves_at', 'volunteer_stock_moves', ['at'], unique=False)
    op.create_index('ix_volunteer_stock_moves_item_id', 'volunteer_stock_moves', ['item_id', 'id'], unique=False)
    op.create_table('volunteer_hours_ledger',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('service_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('attendance_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attendance_id'], ['volunteer_attendances.id'], name=op.f('fk_volunteer_hours_ledger_attendance_id_volunteer_attendances'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_volunteer_hours_ledger_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reverses_id'], ['volunteer_hours_ledger.id'], name=op.f('fk_volunteer_hours_ledger_reverses_id_volunteer_hours_ledger'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer_volunteers.id'], name=op.f('fk_volunteer_hours_ledger_volunteer_id_volunteer_volunteers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_hours_ledger'))
    )
    op.create_index('ix_volunteer_hours_ledger_at', 'volunteer_hours_ledger', ['at'], unique=False)
    op.create_index('ix_volunteer_hours_ledger_volunteer_id', 'volunteer_hours_ledger', ['volunteer_id', 'id'], unique=False)
    op.create_table('volunteer_points_ledger',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('attendance_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attendance_id'], ['volunteer_attendances.id'], name=op.f('fk_volunteer_points_ledger_attendance_id_volunteer_attendances'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_volunteer_points_ledger_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['volunteer_redemptions.id'], name=op.f('fk_volunteer_points_ledger_order_id_volunteer_redemptions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reverses_id'], ['volunteer_points_ledger.id'], name=op.f('fk_volunteer_points_ledger_reverses_id_volunteer_points_ledger'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteer_volunteers.id'], name=op.f('fk_volunteer_points_ledger_volunteer_id_volunteer_volunteers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_points_ledger'))
    )
    op.create_index('ix_volunteer_points_ledger_at', 'volunteer_points_ledger', ['at'], unique=False)
    op.create_index('ix_volunteer_points_ledger_volunteer_id', 'volunteer_points_ledger', ['volunteer_id', 'id'], unique=False)
    create_append_only_guards()


def create_append_only_guards() -> None:
    for table in APPEND_ONLY:
        create_append_only(op, table, f"{table}: {MESSAGE}")


def drop_append_only_guards() -> None:
    for table in APPEND_ONLY:
        drop_append_only(op, table)


def downgrade() -> None:
    drop_append_only_guards()
    op.drop_table("volunteer_points_ledger")
    op.drop_table("volunteer_hours_ledger")
    op.drop_table("volunteer_stock_moves")
    op.drop_table("volunteer_redemption_lines")
    op.drop_table("volunteer_attendances")
    op.drop_table("volunteer_team_members")
    op.drop_table("volunteer_redemptions")
    op.drop_table("volunteer_certificates")
    op.drop_table("volunteer_activities")
    op.drop_table("volunteer_accounts")
    op.drop_table("volunteer_volunteers")
    op.drop_table("volunteer_teams")
    op.drop_table("volunteer_reward_items")
    op.drop_table("volunteer_counters")
