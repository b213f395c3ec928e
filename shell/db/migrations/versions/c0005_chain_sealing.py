"""core: the chains get their order column, and PostgreSQL seals them at commit (issue 15, item 9's lock)

Every chained table (core_chain_heads) gets ``chain_seq`` (its place in the chain; the existing
entries keep their id order: chain_seq = id). On PostgreSQL the canonical row and the sealing
functions go into schema ``jiedao_sec`` (shell/db/security/server_audit.py) and each chained table's
guard is re-created with the sealing triggers (shell/db/guards.py): the server chains a
transaction's new entries when it commits, instead of the program holding one advisory lock from its
first audited write to its commit. Chains added later (v0005, e0004 after this) get the same from
``chain.add_chain``.

Revision ID: c0005
Revises: c0004
Create Date: 2026-12-03 15:50:00
"""
from alembic import op

from shell.core.chain import add_chain_order, chained_tables, drop_chain_order

revision = 'c0005'
down_revision = 'c0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        from shell.db.security.server_audit import install_sealing
        install_sealing(conn)
    for table in chained_tables(conn):
        add_chain_order(op, table)


def downgrade() -> None:
    conn = op.get_bind()
    for table in chained_tables(conn):
        drop_chain_order(op, table)
    if conn.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS jiedao_sec.chain_seal()")
        op.execute("DROP FUNCTION IF EXISTS jiedao_sec.chain_clear()")
