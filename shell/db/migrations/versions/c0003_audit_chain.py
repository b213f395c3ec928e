"""core: tamper evidence — a hash chain on the audit log, and core_chain_heads (issue 15.9)

Every append-only table gets chain_prev/chain_hash (shell/core/chain.py); the audit log's here, the
plugins' ledgers in their own branches (v0005, e0004). core_chain_heads lists the chains with their
guard message (so opening a database can re-create a dropped trigger) and the head verified last.

Revision ID: c0003
Revises: c0002
Create Date: 2026-12-03 13:40:00
"""
import sqlalchemy as sa
from alembic import op

from shell.core.chain import add_chain, drop_chain

revision = 'c0003'
down_revision = 'c0002'
branch_labels = None
depends_on = None

MESSAGE = "core_audit_log is append-only"   # shell.db.guards' default, as c0001 created it


def upgrade() -> None:
    op.create_table('core_chain_heads',
    sa.Column('chain', sa.String(length=64), nullable=False),
    sa.Column('message', sa.String(length=200), nullable=False),
    sa.Column('verified_id', sa.Integer(), nullable=True),
    sa.Column('verified_hash', sa.String(length=64), nullable=True),
    sa.Column('verified_at', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('chain', name=op.f('pk_core_chain_heads'))
    )
    add_chain(op, "core_audit_log", MESSAGE)


def downgrade() -> None:
    from shell.db.guards import create_append_only, drop_append_only
    drop_append_only(op, "core_audit_log")
    drop_chain(op, "core_audit_log")
    create_append_only(op, "core_audit_log", MESSAGE)
    op.drop_table('core_chain_heads')
