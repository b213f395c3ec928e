"""core: the server security model (issue 15 items 1–6)

core_security holds the one row of a secured PostgreSQL database (its street key and owner role);
core_users.server_role the login role of each user; core_table_access the table privileges the
plugins declare (``register_table_access``), written by the owner at ``db secure``/``db upgrade``.
On SQLite these stay empty.

Revision ID: c0004
Revises: c0003
Create Date: 2026-12-03 15:40:00
"""
import sqlalchemy as sa
from alembic import op

import shell.db.base

revision = 'c0004'
down_revision = 'c0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('core_security',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('street_key', sa.String(length=20), nullable=False),
    sa.Column('owner_role', sa.String(length=63), nullable=False),
    sa.Column('secured_at', shell.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('schema_version', sa.String(length=400), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_core_security_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_security'))
    )
    op.create_table('core_table_access',
    sa.Column('table_name', sa.String(length=63), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('privilege', sa.String(length=8), nullable=False),
    sa.CheckConstraint("privilege IN ('read', 'write', 'append')", name=op.f('ck_core_table_access_privilege')),
    sa.PrimaryKeyConstraint('table_name', 'code', 'privilege', name=op.f('pk_core_table_access'))
    )
    with op.batch_alter_table('core_users') as batch:
        batch.add_column(sa.Column('server_role', sa.String(length=63), nullable=True))
        batch.create_unique_constraint(batch.f('uq_core_users_server_role'), ['server_role'])


def downgrade() -> None:
    with op.batch_alter_table('core_users') as batch:
        batch.drop_constraint(batch.f('uq_core_users_server_role'), type_='unique')
        batch.drop_column('server_role')
    op.drop_table('core_table_access')
    op.drop_table('core_security')
