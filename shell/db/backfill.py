"""Filling a derived column in a migration (a search spelling computed from a name): every row in
chunks, without touching ``updated_at`` or ``version_id`` and without audit entries — the record did
not change, only how it is found. On a secured server the migration runs as the owner, who may turn
the table's audit trigger off for the fill and on again in the same transaction (a user cannot)."""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from shell.db.security.server_audit import TRIGGER as AUDIT_TRIGGER

CHUNK = 5000


def fill_derived(bind, table: str, column: str, source: str, compute: Callable[[str], str]) -> int:
    """``column = compute(source)`` for every row of ``table`` (keyed by ``id``); returns the rows filled."""
    pg = bind.dialect.name == "postgresql"
    audited = pg and bind.execute(sa.text(
        "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relname = :t AND t.tgname = :g AND t.tgenabled <> 'D'"), {"t": table, "g": AUDIT_TRIGGER}).first()
    if audited:
        bind.exec_driver_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER "{AUDIT_TRIGGER}"')
    rows = bind.execute(sa.text(f"SELECT id, {source} FROM {table} ORDER BY id")).all()
    for start in range(0, len(rows), CHUNK):
        part = rows[start:start + CHUNK]
        if pg:   # one statement per chunk: the ids and values as two arrays
            bind.execute(sa.text(f"UPDATE {table} AS t SET {column} = v.val FROM unnest(CAST(:ids AS int[]), "
                                 f"CAST(:vals AS text[])) AS v(id, val) WHERE t.id = v.id"),
                         {"ids": [r[0] for r in part], "vals": [compute(r[1] or "") for r in part]})
        else:
            bind.execute(sa.text(f"UPDATE {table} SET {column} = :val WHERE id = :id"),
                         [{"id": r[0], "val": compute(r[1] or "")} for r in part])
    if audited:
        bind.exec_driver_sql(f'ALTER TABLE "{table}" ENABLE TRIGGER "{AUDIT_TRIGGER}"')
    return len(rows)


def add_name_pinyin(op, table: str, index: str) -> None:
    """A migration's upgrade for a searchable name's full pinyin (g0005, v0006, p0004): the column, its
    value for every existing row, a plain index (SQLite's GLOB prefix) and on PostgreSQL a
    ``varchar_pattern_ops`` one (LIKE 'x%' in any collation)."""
    from shell.text import name_pinyin

    op.add_column(table, sa.Column("name_pinyin", sa.String(length=255), nullable=False, server_default=""))
    fill_derived(op.get_bind(), table, "name_pinyin", "name", name_pinyin)
    op.create_index(index, table, ["name_pinyin"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(f"{index}_pattern", table, ["name_pinyin"], unique=False,
                        postgresql_ops={"name_pinyin": "varchar_pattern_ops"})


def drop_name_pinyin(op, table: str, index: str) -> None:
    """The downgrade of :func:`add_name_pinyin`: a plain DROP COLUMN (SQLite 3.35+) — a batch rebuild of
    the table is refused by the foreign keys that point at it."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(f"{index}_pattern", table_name=table)
    op.drop_index(index, table_name=table)
    op.execute(f"ALTER TABLE {table} DROP COLUMN name_pinyin")
