"""grid schema: persons, households, houses, occupancy, organisations, events and timeline,
grid staff, special groups, visits, visit logs

Revision ID: g0001
Revises:
Create Date: 2026-11-22
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import shell.db.base

revision = "g0001"
down_revision = None
branch_labels = ("grid",)
depends_on = "c0001"


def upgrade() -> None:
    op.create_table('grid_event_categories',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('deadline_days', sa.Integer(), nullable=False),
    sa.Column('is_dispute', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_event_categories_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_event_categories')),
    sa.UniqueConstraint('name', name=op.f('uq_grid_event_categories_name'))
    )
    op.create_table('grid_events',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('reporter_name', sa.String(length=64), nullable=False),
    sa.Column('reporter_phone', sa.String(length=32), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reported_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('registered_at', shell.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('assignee', sa.String(length=100), nullable=True),
    sa.Column('assignee_user_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', shell.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalations', sa.Integer(), nullable=False),
    sa.Column('reject_reason', sa.String(length=200), nullable=True),
    sa.Column('party_count', sa.Integer(), nullable=True),
    sa.Column('main_parties', sa.String(length=200), nullable=True),
    sa.Column('mediation_method', sa.String(length=16), nullable=True),
    sa.Column('mediation_result', sa.String(length=8), nullable=True),
    sa.Column('satisfaction', sa.String(length=8), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_events_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['assignee_user_id'], ['core_users.id'], name=op.f('fk_grid_events_assignee_user_id_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['category_id'], ['grid_event_categories.id'], name=op.f('fk_grid_events_category_id_grid_event_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_events_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_events')),
    sa.UniqueConstraint('number', name=op.f('uq_grid_events_number'))
    )
    op.create_index(op.f('ix_grid_events_area_id'), 'grid_events', ['area_id'], unique=False)
    op.create_index('ix_grid_events_registered_at', 'grid_events', ['registered_at'], unique=False)
    op.create_index('ix_grid_events_status', 'grid_events', ['status'], unique=False)
    op.create_table('grid_houses',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('building_use', sa.String(length=16), nullable=True),
    sa.Column('floor_area', sa.Float(), nullable=True),
    sa.Column('house_use', sa.String(length=8), nullable=False),
    sa.Column('hazard', sa.String(length=64), nullable=True),
    sa.Column('owner_id_number', sa.String(length=32), nullable=True),
    sa.Column('owner_name', sa.String(length=64), nullable=True),
    sa.Column('owner_phone', sa.String(length=32), nullable=True),
    sa.Column('rental_pledge_on', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_houses_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_houses_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_houses')),
    sa.UniqueConstraint('code', name=op.f('uq_grid_houses_code'))
    )
    op.create_index('ix_grid_houses_address', 'grid_houses', ['address'], unique=False)
    op.create_index(op.f('ix_grid_houses_area_id'), 'grid_houses', ['area_id'], unique=False)
    op.create_table('grid_organisations',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('legal_rep', sa.String(length=64), nullable=True),
    sa.Column('security_head', sa.String(length=64), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('hazard', sa.String(length=64), nullable=True),
    sa.Column('has_party_org', sa.Boolean(), nullable=False),
    sa.Column('party_members', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_organisations_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_organisations_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_organisations')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_grid_organisations_credit_code'))
    )
    op.create_index(op.f('ix_grid_organisations_area_id'), 'grid_organisations', ['area_id'], unique=False)
    op.create_table('grid_event_steps',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['core_users.id'], name=op.f('fk_grid_event_steps_actor_id_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_event_steps_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_event_steps_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['grid_events.id'], name=op.f('fk_grid_event_steps_event_id_grid_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_event_steps'))
    )
    op.create_index(op.f('ix_grid_event_steps_area_id'), 'grid_event_steps', ['area_id'], unique=False)
    op.create_index(op.f('ix_grid_event_steps_event_id'), 'grid_event_steps', ['event_id'], unique=False)
    op.create_table('grid_households',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_households_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_households_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['house_id'], ['grid_houses.id'], name=op.f('fk_grid_households_house_id_grid_houses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_households')),
    sa.UniqueConstraint('number', name=op.f('uq_grid_households_number'))
    )
    op.create_index(op.f('ix_grid_households_area_id'), 'grid_households', ['area_id'], unique=False)
    op.create_table('grid_persons',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id_type', sa.String(length=8), nullable=False),
    sa.Column('id_number', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('name_initials', sa.String(length=64), nullable=False),
    sa.Column('former_name', sa.String(length=64), nullable=True),
    sa.Column('sex', sa.String(length=2), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('nationality', sa.String(length=8), nullable=False),
    sa.Column('ethnicity', sa.String(length=16), nullable=True),
    sa.Column('native_place', sa.String(length=64), nullable=True),
    sa.Column('marital_status', sa.String(length=16), nullable=True),
    sa.Column('political_status', sa.String(length=16), nullable=True),
    sa.Column('education', sa.String(length=16), nullable=True),
    sa.Column('religion', sa.String(length=16), nullable=True),
    sa.Column('occupation_category', sa.String(length=32), nullable=True),
    sa.Column('occupation', sa.String(length=64), nullable=True),
    sa.Column('workplace', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('registered_place', sa.String(length=64), nullable=True),
    sa.Column('registered_address', sa.String(length=200), nullable=True),
    sa.Column('current_place', sa.String(length=64), nullable=True),
    sa.Column('current_address', sa.String(length=200), nullable=True),
    sa.Column('house_id', sa.Integer(), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('relation_to_head', sa.String(length=16), nullable=True),
    sa.Column('residence_match', sa.String(length=16), nullable=True),
    sa.Column('permit_type', sa.String(length=16), nullable=True),
    sa.Column('permit_start', sa.Date(), nullable=True),
    sa.Column('permit_end', sa.Date(), nullable=True),
    sa.Column('dwelling_type', sa.String(length=16), nullable=True),
    sa.Column('inflow_reason', sa.String(length=32), nullable=True),
    sa.Column('key_attention', sa.Boolean(), nullable=False),
    sa.Column('foreign_surname', sa.String(length=64), nullable=True),
    sa.Column('foreign_given_name', sa.String(length=64), nullable=True),
    sa.Column('visit_purpose', sa.String(length=32), nullable=True),
    sa.Column('arrival_date', sa.Date(), nullable=True),
    sa.Column('expected_departure', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_persons_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_persons_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['house_id'], ['grid_houses.id'], name=op.f('fk_grid_persons_house_id_grid_houses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['household_id'], ['grid_households.id'], name=op.f('fk_grid_persons_household_id_grid_households'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_persons')),
    sa.UniqueConstraint('id_number', name=op.f('uq_grid_persons_id_number'))
    )
    op.create_index(op.f('ix_grid_persons_area_id'), 'grid_persons', ['area_id'], unique=False)
    op.create_index(op.f('ix_grid_persons_household_id'), 'grid_persons', ['household_id'], unique=False)
    op.create_index('ix_grid_persons_initials', 'grid_persons', ['name_initials'], unique=False)
    op.create_index('ix_grid_persons_name', 'grid_persons', ['name'], unique=False)
    op.create_index('ix_grid_persons_phone', 'grid_persons', ['phone'], unique=False)
    op.create_table('grid_occupancies',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('relation_to_owner', sa.String(length=16), nullable=False),
    sa.Column('is_tenant', sa.Boolean(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=100), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_occupancies_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_occupancies_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['house_id'], ['grid_houses.id'], name=op.f('fk_grid_occupancies_house_id_grid_houses'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['grid_persons.id'], name=op.f('fk_grid_occupancies_person_id_grid_persons'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_occupancies'))
    )
    op.create_index(op.f('ix_grid_occupancies_area_id'), 'grid_occupancies', ['area_id'], unique=False)
    op.create_index(op.f('ix_grid_occupancies_house_id'), 'grid_occupancies', ['house_id'], unique=False)
    op.create_index(op.f('ix_grid_occupancies_person_id'), 'grid_occupancies', ['person_id'], unique=False)
    op.create_table('grid_special_persons',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('group', sa.String(length=16), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('helper', sa.String(length=64), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('visit_interval_days', sa.Integer(), nullable=False),
    sa.Column('next_visit_date', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_special_persons_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_special_persons_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['grid_persons.id'], name=op.f('fk_grid_special_persons_person_id_grid_persons'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_special_persons'))
    )
    op.create_index(op.f('ix_grid_special_persons_area_id'), 'grid_special_persons', ['area_id'], unique=False)
    op.create_index(op.f('ix_grid_special_persons_next_visit_date'), 'grid_special_persons', ['next_visit_date'], unique=False)
    op.create_index(op.f('ix_grid_special_persons_person_id'), 'grid_special_persons', ['person_id'], unique=False)
    op.create_table('grid_staff',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_staff_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_staff_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['grid_persons.id'], name=op.f('fk_grid_staff_person_id_grid_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['core_users.id'], name=op.f('fk_grid_staff_user_id_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_staff'))
    )
    op.create_index(op.f('ix_grid_staff_area_id'), 'grid_staff', ['area_id'], unique=False)
    op.create_table('grid_visit_logs',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('log_date', sa.Date(), nullable=False),
    sa.Column('worker_name', sa.String(length=64), nullable=False),
    sa.Column('worker_user_id', sa.Integer(), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('finding', sa.Text(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_visit_logs_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_visit_logs_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['grid_events.id'], name=op.f('fk_grid_visit_logs_event_id_grid_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['household_id'], ['grid_households.id'], name=op.f('fk_grid_visit_logs_household_id_grid_households'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['grid_persons.id'], name=op.f('fk_grid_visit_logs_person_id_grid_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['worker_user_id'], ['core_users.id'], name=op.f('fk_grid_visit_logs_worker_user_id_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_visit_logs'))
    )
    op.create_index(op.f('ix_grid_visit_logs_area_id'), 'grid_visit_logs', ['area_id'], unique=False)
    op.create_table('grid_visits',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('special_id', sa.Integer(), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('visitor_name', sa.String(length=64), nullable=False),
    sa.Column('visitor_user_id', sa.Integer(), nullable=True),
    sa.Column('situation', sa.Text(), nullable=False),
    sa.Column('next_visit_date', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_grid_visits_area_id_core_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_grid_visits_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['special_id'], ['grid_special_persons.id'], name=op.f('fk_grid_visits_special_id_grid_special_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visitor_user_id'], ['core_users.id'], name=op.f('fk_grid_visits_visitor_user_id_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_visits'))
    )
    op.create_index(op.f('ix_grid_visits_area_id'), 'grid_visits', ['area_id'], unique=False)
    op.create_index(op.f('ix_grid_visits_special_id'), 'grid_visits', ['special_id'], unique=False)
    # The default event categories (editable afterwards): name, deadline in working days, dispute.
    categories = sa.table("grid_event_categories", sa.column("name", sa.String), sa.column("deadline_days", sa.Integer),
                          sa.column("is_dispute", sa.Boolean), sa.column("active", sa.Boolean),
                          sa.column("sort_order", sa.Integer), sa.column("created_at", shell.db.base.UTCDateTime()),
                          sa.column("updated_at", shell.db.base.UTCDateTime()), sa.column("version_id", sa.Integer))
    now = datetime.now(UTC)
    op.bulk_insert(categories, [
        dict(name=name, deadline_days=days, is_dispute=dispute, active=True, sort_order=i, created_at=now,
             updated_at=now, version_id=1)
        for i, (name, days, dispute) in enumerate((("矛盾纠纷", 10, True), ("安全隐患", 3, False),
                                                   ("民生诉求", 5, False), ("城市管理", 3, False),
                                                   ("其他", 5, False)))
    ])


def downgrade() -> None:
    op.drop_index(op.f('ix_grid_visits_special_id'), table_name='grid_visits')
    op.drop_index(op.f('ix_grid_visits_area_id'), table_name='grid_visits')
    op.drop_table('grid_visits')
    op.drop_index(op.f('ix_grid_visit_logs_area_id'), table_name='grid_visit_logs')
    op.drop_table('grid_visit_logs')
    op.drop_index(op.f('ix_grid_staff_area_id'), table_name='grid_staff')
    op.drop_table('grid_staff')
    op.drop_index(op.f('ix_grid_special_persons_person_id'), table_name='grid_special_persons')
    op.drop_index(op.f('ix_grid_special_persons_next_visit_date'), table_name='grid_special_persons')
    op.drop_index(op.f('ix_grid_special_persons_area_id'), table_name='grid_special_persons')
    op.drop_table('grid_special_persons')
    op.drop_index(op.f('ix_grid_occupancies_person_id'), table_name='grid_occupancies')
    op.drop_index(op.f('ix_grid_occupancies_house_id'), table_name='grid_occupancies')
    op.drop_index(op.f('ix_grid_occupancies_area_id'), table_name='grid_occupancies')
    op.drop_table('grid_occupancies')
    op.drop_index('ix_grid_persons_phone', table_name='grid_persons')
    op.drop_index('ix_grid_persons_name', table_name='grid_persons')
    op.drop_index('ix_grid_persons_initials', table_name='grid_persons')
    op.drop_index(op.f('ix_grid_persons_household_id'), table_name='grid_persons')
    op.drop_index(op.f('ix_grid_persons_area_id'), table_name='grid_persons')
    op.drop_table('grid_persons')
    op.drop_index(op.f('ix_grid_households_area_id'), table_name='grid_households')
    op.drop_table('grid_households')
    op.drop_index(op.f('ix_grid_event_steps_event_id'), table_name='grid_event_steps')
    op.drop_index(op.f('ix_grid_event_steps_area_id'), table_name='grid_event_steps')
    op.drop_table('grid_event_steps')
    op.drop_index(op.f('ix_grid_organisations_area_id'), table_name='grid_organisations')
    op.drop_table('grid_organisations')
    op.drop_index(op.f('ix_grid_houses_area_id'), table_name='grid_houses')
    op.drop_index('ix_grid_houses_address', table_name='grid_houses')
    op.drop_table('grid_houses')
    op.drop_index('ix_grid_events_status', table_name='grid_events')
    op.drop_index('ix_grid_events_registered_at', table_name='grid_events')
    op.drop_index(op.f('ix_grid_events_area_id'), table_name='grid_events')
    op.drop_table('grid_events')
    op.drop_table('grid_event_categories')
