"""emergency: warehouses, items, batches, stock moves (append-only by trigger), stock-takes, plans,
drills, rescue teams, shelters

Revision ID: e0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import shell.db.base
from shell.db.guards import create_append_only, drop_append_only

revision = "e0001"
down_revision = None
branch_labels = ("emergency",)
depends_on = "c0001"

MOVES_MESSAGE = "emergency_stock_moves is append-only: corrections are new moves"


def upgrade() -> None:
    op.create_table('emergency_items',
    sa.Column('code', sa.String(length=7), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('spec', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_emergency_items_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_items')),
    sa.UniqueConstraint('code', 'name', 'spec', name='uq_emergency_items_code_name_spec')
    )
    op.create_index(op.f('ix_emergency_items_code'), 'emergency_items', ['code'], unique=False)
    op.create_table('emergency_plans',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('version', sa.String(length=20), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=True),
    sa.Column('file_data', sa.LargeBinary(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_emergency_plans_area_id_core_areas')),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_emergency_plans_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_plans'))
    )
    op.create_index(op.f('ix_emergency_plans_area_id'), 'emergency_plans', ['area_id'], unique=False)
    op.create_table('emergency_shelters',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('area_m2', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('facilities', sa.Text(), nullable=True),
    sa.Column('manager', sa.String(length=50), nullable=True),
    sa.Column('manager_phone', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_emergency_shelters_area_id_core_areas')),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_emergency_shelters_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_shelters'))
    )
    op.create_index(op.f('ix_emergency_shelters_area_id'), 'emergency_shelters', ['area_id'], unique=False)
    op.create_table('emergency_teams',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('leader', sa.String(length=50), nullable=True),
    sa.Column('leader_phone', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_emergency_teams_area_id_core_areas')),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_emergency_teams_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_teams'))
    )
    op.create_index(op.f('ix_emergency_teams_area_id'), 'emergency_teams', ['area_id'], unique=False)
    op.create_table('emergency_warehouses',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('keeper', sa.String(length=50), nullable=True),
    sa.Column('keeper_phone', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_emergency_warehouses_area_id_core_areas')),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_emergency_warehouses_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_warehouses'))
    )
    op.create_index(op.f('ix_emergency_warehouses_area_id'), 'emergency_warehouses', ['area_id'], unique=False)
    op.create_table('emergency_batches',
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('batch_no', sa.String(length=50), nullable=False),
    sa.Column('production_date', sa.Date(), nullable=True),
    sa.Column('expiry_date', sa.Date(), nullable=True),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('qty >= 0', name=op.f('ck_emergency_batches_qty_nonneg')),
    sa.ForeignKeyConstraint(['item_id'], ['emergency_items.id'], name=op.f('fk_emergency_batches_item_id_emergency_items')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['emergency_warehouses.id'], name=op.f('fk_emergency_batches_warehouse_id_emergency_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_batches')),
    sa.UniqueConstraint('warehouse_id', 'item_id', 'batch_no', name='uq_emergency_batches_wh_item_no')
    )
    op.create_index('ix_emergency_batches_item_expiry', 'emergency_batches', ['item_id', 'expiry_date'], unique=False)
    op.create_index(op.f('ix_emergency_batches_warehouse_id'), 'emergency_batches', ['warehouse_id'], unique=False)
    op.create_table('emergency_drills',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('form', sa.String(length=16), nullable=False),
    sa.Column('content', sa.String(length=16), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('units', sa.Text(), nullable=True),
    sa.Column('participants', sa.Integer(), nullable=True),
    sa.Column('scenario', sa.Text(), nullable=True),
    sa.Column('aim', sa.Text(), nullable=True),
    sa.Column('problems', sa.Text(), nullable=True),
    sa.Column('causes', sa.Text(), nullable=True),
    sa.Column('lessons', sa.Text(), nullable=True),
    sa.Column('improvements', sa.Text(), nullable=True),
    sa.Column('evaluator', sa.String(length=100), nullable=True),
    sa.Column('evaluated_on', sa.Date(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['core_areas.id'], name=op.f('fk_emergency_drills_area_id_core_areas')),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_emergency_drills_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['emergency_plans.id'], name=op.f('fk_emergency_drills_plan_id_emergency_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_drills'))
    )
    op.create_index(op.f('ix_emergency_drills_area_id'), 'emergency_drills', ['area_id'], unique=False)
    op.create_table('emergency_min_stock',
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('min_qty', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('min_qty >= 0', name=op.f('ck_emergency_min_stock_min_qty_nonneg')),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_emergency_min_stock_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['emergency_items.id'], name=op.f('fk_emergency_min_stock_item_id_emergency_items')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['emergency_warehouses.id'], name=op.f('fk_emergency_min_stock_warehouse_id_emergency_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_min_stock')),
    sa.UniqueConstraint('warehouse_id', 'item_id', name='uq_emergency_min_stock_warehouse_item')
    )
    op.create_table('emergency_plan_steps',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=300), nullable=False),
    sa.Column('responsible', sa.String(length=100), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['emergency_plans.id'], name=op.f('fk_emergency_plan_steps_plan_id_emergency_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_plan_steps')),
    sa.UniqueConstraint('plan_id', 'seq', name='uq_emergency_plan_steps_plan_seq')
    )
    op.create_table('emergency_stocktakes',
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('posted_at', shell.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('counted_by', sa.String(length=100), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_emergency_stocktakes_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['emergency_warehouses.id'], name=op.f('fk_emergency_stocktakes_warehouse_id_emergency_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_stocktakes'))
    )
    op.create_index(op.f('ix_emergency_stocktakes_warehouse_id'), 'emergency_stocktakes', ['warehouse_id'], unique=False)
    op.create_table('emergency_team_members',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('skills', sa.String(length=200), nullable=True),
    sa.Column('certificates', sa.String(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_emergency_team_members_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['emergency_teams.id'], name=op.f('fk_emergency_team_members_team_id_emergency_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_team_members'))
    )
    op.create_index(op.f('ix_emergency_team_members_team_id'), 'emergency_team_members', ['team_id'], unique=False)
    op.create_table('emergency_drill_scores',
    sa.Column('drill_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=True),
    sa.Column('expected', sa.String(length=300), nullable=False),
    sa.Column('observed', sa.Text(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('score >= 0 AND score <= 10', name=op.f('ck_emergency_drill_scores_score_range')),
    sa.ForeignKeyConstraint(['drill_id'], ['emergency_drills.id'], name=op.f('fk_emergency_drill_scores_drill_id_emergency_drills'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['step_id'], ['emergency_plan_steps.id'], name=op.f('fk_emergency_drill_scores_step_id_emergency_plan_steps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_drill_scores')),
    sa.UniqueConstraint('drill_id', 'seq', name='uq_emergency_drill_scores_drill_seq')
    )
    op.create_table('emergency_stock_moves',
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('qty', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=50), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('party', sa.String(length=100), nullable=True),
    sa.Column('doc_no', sa.String(length=40), nullable=True),
    sa.Column('stocktake_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('balance_after >= 0', name=op.f('ck_emergency_stock_moves_balance_nonneg')),
    sa.CheckConstraint('qty <> 0', name=op.f('ck_emergency_stock_moves_qty_nonzero')),
    sa.ForeignKeyConstraint(['batch_id'], ['emergency_batches.id'], name=op.f('fk_emergency_stock_moves_batch_id_emergency_batches')),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_emergency_stock_moves_created_by_core_users')),
    sa.ForeignKeyConstraint(['item_id'], ['emergency_items.id'], name=op.f('fk_emergency_stock_moves_item_id_emergency_items')),
    sa.ForeignKeyConstraint(['stocktake_id'], ['emergency_stocktakes.id'], name=op.f('fk_emergency_stock_moves_stocktake_id_emergency_stocktakes')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['emergency_warehouses.id'], name=op.f('fk_emergency_stock_moves_warehouse_id_emergency_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_stock_moves'))
    )
    op.create_index('ix_emergency_stock_moves_batch', 'emergency_stock_moves', ['batch_id', 'id'], unique=False)
    op.create_index(op.f('ix_emergency_stock_moves_doc_no'), 'emergency_stock_moves', ['doc_no'], unique=False)
    op.create_index('ix_emergency_stock_moves_wh_time', 'emergency_stock_moves', ['warehouse_id', 'occurred_at'], unique=False)
    op.create_table('emergency_stocktake_lines',
    sa.Column('stocktake_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('expected_qty', sa.Integer(), nullable=False),
    sa.Column('counted_qty', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['emergency_batches.id'], name=op.f('fk_emergency_stocktake_lines_batch_id_emergency_batches')),
    sa.ForeignKeyConstraint(['stocktake_id'], ['emergency_stocktakes.id'], name=op.f('fk_emergency_stocktake_lines_stocktake_id_emergency_stocktakes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_stocktake_lines')),
    sa.UniqueConstraint('stocktake_id', 'batch_id', name='uq_emergency_stocktake_lines_take_batch')
    )
    add_move_guards()


def add_move_guards() -> None:
    """Stock moves are immutable once done: the database itself refuses UPDATE and DELETE."""
    create_append_only(op, "emergency_stock_moves", MOVES_MESSAGE)


def drop_move_guards() -> None:
    drop_append_only(op, "emergency_stock_moves")


def downgrade() -> None:
    drop_move_guards()
    op.drop_table('emergency_stocktake_lines')
    op.drop_index('ix_emergency_stock_moves_wh_time', table_name='emergency_stock_moves')
    op.drop_index(op.f('ix_emergency_stock_moves_doc_no'), table_name='emergency_stock_moves')
    op.drop_index('ix_emergency_stock_moves_batch', table_name='emergency_stock_moves')
    op.drop_table('emergency_stock_moves')
    op.drop_table('emergency_drill_scores')
    op.drop_index(op.f('ix_emergency_team_members_team_id'), table_name='emergency_team_members')
    op.drop_table('emergency_team_members')
    op.drop_index(op.f('ix_emergency_stocktakes_warehouse_id'), table_name='emergency_stocktakes')
    op.drop_table('emergency_stocktakes')
    op.drop_table('emergency_plan_steps')
    op.drop_table('emergency_min_stock')
    op.drop_index(op.f('ix_emergency_drills_area_id'), table_name='emergency_drills')
    op.drop_table('emergency_drills')
    op.drop_index(op.f('ix_emergency_batches_warehouse_id'), table_name='emergency_batches')
    op.drop_index('ix_emergency_batches_item_expiry', table_name='emergency_batches')
    op.drop_table('emergency_batches')
    op.drop_index(op.f('ix_emergency_warehouses_area_id'), table_name='emergency_warehouses')
    op.drop_table('emergency_warehouses')
    op.drop_index(op.f('ix_emergency_teams_area_id'), table_name='emergency_teams')
    op.drop_table('emergency_teams')
    op.drop_index(op.f('ix_emergency_shelters_area_id'), table_name='emergency_shelters')
    op.drop_table('emergency_shelters')
    op.drop_index(op.f('ix_emergency_plans_area_id'), table_name='emergency_plans')
    op.drop_table('emergency_plans')
    op.drop_index(op.f('ix_emergency_items_code'), table_name='emergency_items')
    op.drop_table('emergency_items')
