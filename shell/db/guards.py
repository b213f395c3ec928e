"""Append-only tables (the audit log, ledgers, stock moves): triggers that make the database itself
refuse UPDATE and DELETE — and TRUNCATE on PostgreSQL — whoever connects. For migrations:

    from shell.db.guards import create_append_only, drop_append_only
    create_append_only(op, "volunteer_points_ledger", "append-only ledger: write a reversal entry instead")

On PostgreSQL a chained table (shell/core/chain.py) also gets the server's sealing, once c0005 has
put ``jiedao_sec.chain_seal`` in: ``<table>_chain_clear`` (BEFORE INSERT: chain columns given by
anyone but the table's owner are cleared, so nobody hands in their own hashes) and the constraint
trigger ``<table>_chain_seal`` (AFTER INSERT, DEFERRABLE INITIALLY DEFERRED: chains the new row at
commit). The refusing function lets exactly that sealing UPDATE through: chain columns set on a row
that had none, nothing else changed.
"""
from __future__ import annotations

import json

# The hash chains' seal lock (shell/core/chain.py takes it; shell/db/engine.py explains its timeout).
LOCK_KEY = 0x6A696564616F  # "jiedao": one advisory lock for every chain
LOCK_WAIT_SECONDS = 15.0    # PostgreSQL: how long a commit waits for another commit's sealing
LOCK_MESSAGE = (f"另一台电脑正在保存，已等待 {LOCK_WAIT_SECONDS:.0f} 秒仍未完成：请稍后再保存一次。"
                "若一直如此，请管理员检查服务器上是否有长时间未结束的连接。")

CHAIN_COLUMNS = ("chain_prev", "chain_hash", "chain_seq")

# Columns the audit log leaves out of its before/after snapshots: the program's listener
# (shell/core/audit.py) and the server's row triggers (shell/db/security/server_audit.py) alike.
SKIP_COLUMNS = {"created_at", "updated_at", "version_id"}

# The canonical spelling of a PostgreSQL column type (shell.core.chain.canon_kind for the models).
PG_KINDS = {"timestamp with time zone": "datetime", "timestamp without time zone": "naive_datetime",
            "date": "date", "boolean": "bool", "smallint": "int", "integer": "int", "bigint": "int",
            "real": "float", "double precision": "float", "numeric": "numeric", "json": "json", "jsonb": "json",
            "bytea": "bytes"}


def _columns(conn, table: str) -> dict[str, str]:
    return dict(conn.exec_driver_sql(
        "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
        f"WHERE a.attrelid = 'public.{table}'::regclass AND a.attnum > 0 AND NOT a.attisdropped").all())


def seal_kinds(conn, table: str) -> str:
    """The trigger argument of ``chain_seal``: {column: kind} of the columns not spelled as plain values."""
    kinds = {name: PG_KINDS[t] for name, t in _columns(conn, table).items() if t in PG_KINDS}
    return json.dumps(kinds, sort_keys=True)


def has_function(conn, name: str) -> bool:
    """Whether ``jiedao_sec.<name>`` exists — from the catalog, which needs no USAGE on the schema."""
    return bool(conn.exec_driver_sql(
        "SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        f"WHERE n.nspname = 'jiedao_sec' AND p.proname = '{name}')").scalar())


def sealing_available(conn) -> bool:
    return conn.dialect.name == "postgresql" and has_function(conn, "chain_seal")


def guard_names_pg(table: str, sealing: bool) -> set[str]:
    names = {f"{table}_no_change", f"{table}_no_truncate"}
    return names | {f"{table}_chain_clear", f"{table}_chain_seal"} if sealing else names


def create_append_only(op, table: str, message: str | None = None, seal: bool = True) -> None:
    message = (message or f"{table} is append-only").replace("'", "''")
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
        return
    chained = set(CHAIN_COLUMNS) <= set(_columns(conn, table))
    sealing = ""
    if chained:
        rest = " - 'chain_prev' - 'chain_hash' - 'chain_seq'"
        sealing = (f"IF TG_OP = 'UPDATE' AND OLD.chain_hash IS NULL AND OLD.chain_seq IS NULL "
                   f"AND NEW.chain_hash IS NOT NULL AND NEW.chain_seq IS NOT NULL "
                   f"AND (to_jsonb(OLD){rest}) = (to_jsonb(NEW){rest}) THEN RETURN NEW; END IF; ")
    op.execute(f"CREATE OR REPLACE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
               f"BEGIN {sealing}RAISE EXCEPTION '{message}'; END $$")
    op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
               f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse()")
    op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse()")
    if chained and seal and sealing_available(conn):
        kinds = seal_kinds(conn, table).replace("'", "''")
        op.execute(f"CREATE TRIGGER {table}_chain_clear BEFORE INSERT ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION jiedao_sec.chain_clear()")
        op.execute(f"CREATE CONSTRAINT TRIGGER {table}_chain_seal AFTER INSERT ON {table} "
                   f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jiedao_sec.chain_seal('{kinds}')")


def drop_append_only(op, table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_chain_clear ON {table}")
    op.execute(f"DROP TRIGGER IF EXISTS {table}_chain_seal ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_refuse()")
