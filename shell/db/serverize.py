"""Moving a single-desktop SQLite database onto the township's PostgreSQL server
(``jiedao db migrate-from-sqlite``): every table — users, the audit log and attachments included —
copied in one server transaction, then verified table by table with row counts and checksums.

The source file is never changed: a copy of it is brought up to this program's schema first. The
target must have no users and no audit entries (a database already in use is refused, so running the
move twice cannot mix two streets' data); rows the migrations seeded there (default categories and
the like) are replaced by the source's own.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Integer, MetaData, Table, func, inspect, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from shell.contracts import MigrationBranch
from shell.db.engine import explain, make_engine
from shell.db.mappers import load_models
from shell.errors import DatabaseError

CHUNK = 5_000
SKIP = {"alembic_version"}          # each side keeps its own (the same heads after the upgrade)
USED_MARKERS = ("core_users", "core_audit_log")  # rows here mean the target is already in use

Progress = Callable[[str, int, int], None]  # (table, rows done, rows in table)


@dataclass
class TableCheck:
    name: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


@dataclass
class MoveReport:
    tables: list[TableCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def rows(self) -> int:
        return sum(t.target_rows for t in self.tables)


def _norm(value: Any) -> Any:
    """One spelling per value whatever the engine returned, for the checksums."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b:" + hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def table_checksum(conn: Connection, table: Table) -> tuple[int, str]:
    """(rows, checksum). The checksum is the sum of the rows' SHA-256 values modulo 2²⁵⁶, so it
    does not depend on row order (SQLite and PostgreSQL collate text keys differently)."""
    total = 0
    rows = 0
    for row in conn.execution_options(yield_per=CHUNK).execute(select(table)):
        line = json.dumps([_norm(v) for v in row], ensure_ascii=False).encode()
        total = (total + int.from_bytes(hashlib.sha256(line).digest(), "big")) % (1 << 256)
        rows += 1
    return rows, f"{total:064x}"


def _self_refs(table: Table) -> list[tuple[str, str]]:
    """(column, referenced column) of foreign keys that point into the same table."""
    return [(fk.parent.name, fk.column.name) for fk in table.foreign_keys if fk.column.table is table]


def _copy_table(src: Connection, dst: Connection, table: Table, total: int, progress: Progress | None,
                later: set[str], deferred: list[tuple[Table, dict, dict]]) -> None:
    """Copy one table. Foreign keys into a table of ``later`` (a cycle such as users ↔ areas) are
    written as NULL now and filled in ``deferred`` once every table is in."""
    refs = _self_refs(table)
    late = sorted({fk.parent.name for fk in table.foreign_keys if fk.column.table.name in later})
    pk = [c.name for c in table.primary_key.columns]
    order = list(table.primary_key.columns) or list(table.columns)
    done = 0
    inserted: dict[str, set] = {ref: set() for _col, ref in refs}
    pending: list[dict] = []

    def ready(row: dict) -> bool:
        return all(row[col] is None or row[col] in inserted[ref] for col, ref in refs)

    def insert(rows: list[dict]) -> None:
        if not rows:
            return
        if late:
            for row in rows:
                values = {c: row[c] for c in late if row[c] is not None}
                if values:
                    # Keep columns with an on-update default (updated_at) as they were.
                    values.update({c.name: row[c.name] for c in table.columns if c.onupdate is not None})
                    deferred.append((table, {c: row[c] for c in pk}, values))
            rows = [{**row, **{c: None for c in late}} for row in rows]
        dst.execute(table.insert(), rows)
        for _col, ref in refs:
            inserted[ref].update(r[ref] for r in rows)

    result = src.execution_options(yield_per=CHUNK).execute(select(table).order_by(*order))
    for chunk in result.mappings().partitions(CHUNK):
        rows = [dict(r) for r in chunk]
        if refs:
            # A parent may have a higher id than its child (an area moved under a newer one): hold
            # such rows back until their parent is in.
            now = [r for r in rows if ready(r)]
            pending += [r for r in rows if not ready(r)]
            insert(now)
        else:
            insert(rows)
        done += len(rows)
        if progress:
            progress(table.name, done, total)
    while pending:
        now = [r for r in pending if ready(r)]
        if not now:
            raise DatabaseError(f"数据表 {table.name} 中有 {len(pending)} 行引用了不存在的上级记录，源数据库不完整，已停止迁移。")
        pending = [r for r in pending if not ready(r)]  # before inserting: rows freed by ``now`` wait a round
        insert(now)


def _fill_deferred(dst: Connection, deferred: list[tuple[Table, dict, dict]]) -> None:
    for table, key, values in deferred:
        dst.execute(table.update().where(*(table.c[k] == v for k, v in key.items())).values(**values))


def _reset_sequences(dst: Connection, tables: list[Table]) -> None:
    """Rows came with their ids: move every id sequence past them so new rows do not collide."""
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        seq = dst.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                          {"t": f'"{table.name}"', "c": pk[0].name}).scalar()
        if seq:
            dst.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{pk[0].name}") FROM "{table.name}"), 0) + 1, false)'),
                        {"s": seq})


def _prepared_source(source: Path, branches: list[MigrationBranch], workdir: Path) -> Engine:
    """A copy of ``source`` at this program's schema; the user's file stays as it was."""
    from shell.db.backup import copy_sqlite, verify_jiedao_file
    from shell.db.migrate import upgrade

    verify_jiedao_file(source, branches, what="数据库")
    copy = workdir / "source.sqlite"
    copy_sqlite(source, copy)
    engine = make_engine(copy)
    upgrade(engine, branches, backup=False)
    return engine


def _refuse_used_target(conn: Connection, target_label: str) -> None:
    for name in USED_MARKERS:
        n = conn.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar()
        if n:
            raise DatabaseError(
                f"目标数据库 {target_label} 已经有数据（{name} 中有 {n} 行），为免两份数据混在一起，没有迁移。\n"
                "请指定一个新建的空数据库（例如在服务器上新建 jiedao2），或先确认这个数据库确实可以清空。")


def migrate_sqlite_to_server(source: str | Path, target: URL, branches: Iterable[MigrationBranch],
                             module_names: Iterable[str], progress: Progress | None = None) -> MoveReport:
    """Copy every row of the SQLite file ``source`` into the PostgreSQL database ``target`` (which
    must exist), in one transaction, then compare counts and checksums of every table."""
    from shell.db.migrate import upgrade

    source = Path(source)
    branches = list(branches)
    if target.get_backend_name() != "postgresql":
        raise DatabaseError("迁移的目标必须是 PostgreSQL 服务器上的数据库，例如 postgresql://jiedao@192.168.1.10/jiedao")
    label = f"{target.host or 'localhost'}:{target.port or 5432}/{target.database}"
    metadata = load_models(module_names)
    workdir = Path(tempfile.mkdtemp(prefix="jiedao-move-"))
    src_engine = None
    dst_engine = make_engine(target)
    try:
        src_engine = _prepared_source(source, branches, workdir)
        upgrade(dst_engine, branches, backup=False)
        src_names = set(inspect(src_engine).get_table_names()) - SKIP
        dst_names = set(inspect(dst_engine).get_table_names()) - SKIP
        missing = sorted(src_names - dst_names)
        if missing:
            raise DatabaseError(f"服务器上的数据库缺少数据表 {'、'.join(missing)}：本机可能缺少对应插件，没有迁移。")
        known = [t for t in metadata.sorted_tables if t.name in src_names]
        # Tables of a plugin whose models this program cannot import: copy with the server's types.
        extra = [Table(n, MetaData(), autoload_with=dst_engine) for n in sorted(src_names - {t.name for t in known})]
        tables = known + extra
        with src_engine.connect() as src, dst_engine.begin() as dst:
            _refuse_used_target(dst, label)
            for table in reversed(tables):  # rows the migrations seeded make way for the source's
                if table.name not in USED_MARKERS:  # empty (checked); the audit log refuses DELETE anyway
                    dst.execute(table.delete())
            deferred: list[tuple[Table, dict, dict]] = []
            for n, table in enumerate(tables):
                total = src.execute(select(func.count()).select_from(table)).scalar() or 0
                later = {t.name for t in tables[n + 1:]}
                _copy_table(src, dst, table, total, progress, later, deferred)
            _fill_deferred(dst, deferred)
            _reset_sequences(dst, tables)
            report = MoveReport()
            for table in tables:
                s_rows, s_sum = table_checksum(src, table)
                d_rows, d_sum = table_checksum(dst, table)
                report.tables.append(TableCheck(table.name, s_rows, d_rows, s_sum, d_sum))
            if not report.ok:
                bad = "、".join(f"{t.name}（源 {t.source_rows} 行，目标 {t.target_rows} 行）" for t in report.tables if not t.ok)
                # Raising rolls the whole copy back: the server is left as empty as it was.
                raise DatabaseError(f"迁移后核对不一致，已全部撤销：{bad}")
        # Planner statistics now, not when autovacuum comes round: until then PostgreSQL took the
        # 200,000 copied residents for 100 and a name search on the large street took 250 ms, not 10.
        with dst_engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        return report
    except DBAPIError as exc:
        raise explain(exc, target) from None
    finally:
        if src_engine is not None:
            src_engine.dispose()
        dst_engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)
