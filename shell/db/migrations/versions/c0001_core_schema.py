"""core schema: areas, users, roles, settings, audit log (append-only by trigger)

Revision ID: c0001
Revises:
Create Date: 2026-11-22 04:32:21.650205
"""
import sqlalchemy as sa
from alembic import op

import shell.db.base
from shell.db.guards import create_append_only, drop_append_only

revision = 'c0001'
down_revision = None
branch_labels = ('core',)
depends_on = None


def upgrade() -> None:
    op.create_table('core_users',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('is_superuser', sa.Boolean(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', shell.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', shell.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_core_users_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_users')),
    sa.UniqueConstraint('username', name=op.f('uq_core_users_username'))
    )
    op.create_table('core_areas',
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('closed_reason', sa.String(length=200), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_core_areas_created_by_core_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['core_areas.id'], name=op.f('fk_core_areas_parent_id_core_areas'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_areas'))
    )
    with op.batch_alter_table('core_areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_areas_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_core_areas_path', ['path'], unique=False)

    # users.area_id and areas.created_by reference each other: add this one once both exist.
    with op.batch_alter_table('core_users', schema=None) as batch_op:
        batch_op.create_foreign_key(op.f('fk_core_users_area_id_core_areas'), 'core_areas', ['area_id'], ['id'], ondelete='RESTRICT')

    op.create_table('core_audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_audit_log'))
    )
    with op.batch_alter_table('core_audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_core_audit_log_at', ['at'], unique=False)
        batch_op.create_index('ix_core_audit_log_entity', ['entity', 'entity_id'], unique=False)

    op.create_table('core_roles',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('builtin', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['core_users.id'], name=op.f('fk_core_roles_created_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_roles')),
    sa.UniqueConstraint('name', name=op.f('uq_core_roles_name'))
    )
    op.create_table('core_settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['core_users.id'], name=op.f('fk_core_settings_updated_by_core_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_core_settings'))
    )
    op.create_table('core_role_permissions',
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['core_roles.id'], name=op.f('fk_core_role_permissions_role_id_core_roles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_role_permissions')),
    sa.UniqueConstraint('role_id', 'code', name='uq_core_role_permissions_role_code')
    )
    op.create_table('core_user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['core_roles.id'], name=op.f('fk_core_user_roles_role_id_core_roles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['core_users.id'], name=op.f('fk_core_user_roles_user_id_core_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role_id', name=op.f('pk_core_user_roles'))
    )
    create_audit_guards()


def downgrade() -> None:
    drop_audit_guards()
    with op.batch_alter_table('core_users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_core_users_area_id_core_areas'), type_='foreignkey')
    op.drop_table('core_user_roles')
    op.drop_table('core_role_permissions')
    op.drop_table('core_settings')
    op.drop_table('core_roles')
    op.drop_table('core_users')
    with op.batch_alter_table('core_audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_core_audit_log_entity')
        batch_op.drop_index('ix_core_audit_log_at')

    op.drop_table('core_audit_log')
    with op.batch_alter_table('core_areas', schema=None) as batch_op:
        batch_op.drop_index('ix_core_areas_path')
        batch_op.drop_index(batch_op.f('ix_core_areas_parent_id'))

    op.drop_table('core_areas')



def create_audit_guards() -> None:
    """UPDATE and DELETE on the audit log fail on both engines, whoever connects."""
    create_append_only(op, "core_audit_log")


def drop_audit_guards() -> None:
    drop_append_only(op, "core_audit_log")
