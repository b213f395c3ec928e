"""Tamper evidence (issue 15.9): the audit log and the append-only ledgers are hash chains. Attacks
come from outside, with plain sqlite3 / psycopg as the database owner — drop the trigger, then
delete, edit, insert, reorder, truncate — and ``jiedao audit verify`` must catch every one, naming the
entry; opening a database re-creates a dropped trigger and warns; the copy to a server keeps the
chain; the printed 审计日志 shows the chain head."""
from __future__ import annotations

import re
import shutil
import sqlite3
import threading
import uuid
from datetime import UTC

import psycopg
import pytest
from sqlalchemy import func, select, text

from shell import cli
from shell.core import audit, chain
from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.core.models import AuditLog
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
from shell.testing import PluginSet

ALL = list(BUILTIN_PLUGINS)
CHAINS = ("core_audit_log", "volunteer_hours_ledger", "volunteer_points_ledger", "volunteer_stock_moves",
          "emergency_stock_moves")


def _pm():
    return make_plugin_manager(builtins=ALL, entry_points=False)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("JIEDAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JIEDAO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("JIEDAO_DATABASE_URL", raising=False)
    monkeypatch.setattr(cli, "make_pm", _pm)


@pytest.fixture(scope="module")
def street_file(tmp_path_factory, sqlite_templates):
    """A small demo street (every chain has entries; a copy of the run's template), opened once more
    so the heads are verified."""
    path = tmp_path_factory.mktemp("street") / "street.sqlite"
    sqlite_templates.open(path, PluginSet(builtins=tuple(ALL)), demo=True, pm=_pm()).dispose()
    return path


@pytest.fixture(scope="module")
def pg_template(street_file, pg_server, tmp_path_factory):
    """The street moved onto PostgreSQL with ``jiedao db migrate-from-sqlite``: a template database."""
    from sqlalchemy.engine import make_url

    from tests.conftest import PG_URL
    name = f"jd_tpl_{uuid.uuid4().hex[:12]}"
    with pg_server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)
    assert cli.main(["db", "migrate-from-sqlite", str(street_file), "--url",
                     url.render_as_string(hide_password=False)]) == 0
    yield name
    with pg_server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Street:
    """One copy of the street on one engine, with a raw owner connection for the attacker."""

    def __init__(self, kind: str, target: str):
        self.kind, self.target = kind, target

    @property
    def args(self) -> list[str]:
        return ["--db" if self.kind == "sqlite" else "--url", self.target]

    def raw(self):
        if self.kind == "sqlite":
            return sqlite3.connect(self.target, isolation_level=None)
        conn = psycopg.connect(self.target.replace("postgresql+psycopg://", "postgresql://"))
        conn.autocommit = True
        return conn

    def sql(self, statement: str, params=()):
        conn = self.raw()
        try:
            cur = conn.cursor()
            cur.execute(statement if self.kind == "pg" else statement.replace("%s", "?"), params)
            rows = cur.fetchall() if cur.description else None
        finally:
            conn.close()
        return rows

    def drop_guard(self, table: str) -> None:
        if self.kind == "sqlite":
            self.sql(f"DROP TRIGGER {table}_no_update")
            self.sql(f"DROP TRIGGER {table}_no_delete")
        else:
            self.sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")

    def open(self):
        return open_database(self.target if self.kind == "sqlite" else self.target, pm=_pm(), backup=False)


@pytest.fixture(params=["sqlite", "pg"])
def street(request, street_file, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "copy.sqlite"
        shutil.copy(street_file, path)
        yield Street("sqlite", str(path))
        return
    from sqlalchemy.engine import make_url

    from tests.conftest import PG_URL
    template = request.getfixturevalue("pg_template")
    admin = request.getfixturevalue("pg_server")
    name = f"jd_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)
    yield Street("pg", url.render_as_string(hide_password=False))
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def verify(capsys, street: Street) -> tuple[int, str, str]:
    code = cli.main(["audit", "verify", *street.args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _ids(street: Street, table: str) -> list[int]:
    return [r[0] for r in street.sql(f"SELECT id FROM {table} ORDER BY id")]


def _text_column(table: str) -> str:
    return "summary" if table == "core_audit_log" else "reason"


# --- the attacks: (name, attack(street, table, ids) -> the entry id the report must name, what) ----

def delete_one(s: Street, table: str, ids: list[int]):
    victim = ids[len(ids) // 2]
    s.drop_guard(table)
    s.sql(f"DELETE FROM {table} WHERE id = %s", (victim,))
    return ids[len(ids) // 2 + 1], "被删除"


def edit_one(s: Street, table: str, ids: list[int]):
    victim = ids[len(ids) // 3]
    s.drop_guard(table)
    s.sql(f"UPDATE {table} SET {_text_column(table)} = 'x' || {_text_column(table)} WHERE id = %s", (victim,))
    return victim, "被修改"


def insert_unchained(s: Street, table: str, ids: list[int]):
    """A forged entry written without the program: no chain hash. On PostgreSQL the server would seal
    any insert at commit, so the forger first disables the triggers (the owner can)."""
    s.drop_guard(table)
    cols = [c for c in _columns(s, table) if c not in ("id", "chain_prev", "chain_hash", "chain_seq")]
    s.sql(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {table} WHERE id = %s",
          (ids[-1],))
    return max(_ids(s, table)), "被插入"


def insert_copying_chain(s: Street, table: str, ids: list[int]):
    """A forged entry that copies the last entry, its hashes and all, with another text (its place is
    unique, so it has none)."""
    cols = [c for c in _columns(s, table) if c not in ("id", "chain_seq")]
    sel = ", ".join(f"'伪造' AS {c}" if c == _text_column(table) else c for c in cols)
    s.sql(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {sel} FROM {table} WHERE id = %s", (ids[-1],))
    return max(_ids(s, table)), "被插入"


def _swap(s: Street, table: str, a: int, b: int, cols: list[str]) -> None:
    s.drop_guard(table)
    rows = {r[0]: r[1:] for r in s.sql(f"SELECT id, {', '.join(cols)} FROM {table} WHERE id IN (%s, %s)", (a, b))}
    sets = ", ".join(f"{c} = %s" for c in cols)
    if s.kind == "pg":   # JSON columns come back as dicts
        from psycopg.types.json import Json
        rows = {k: tuple(Json(v) if isinstance(v, (dict, list)) else v for v in r) for k, r in rows.items()}
    s.sql(f"UPDATE {table} SET {sets} WHERE id = %s", (*rows[b], a))
    s.sql(f"UPDATE {table} SET {sets} WHERE id = %s", (*rows[a], b))


def reorder_two(s: Street, table: str, ids: list[int]):
    """Swap the contents (chain hashes included) of two entries, each keeping its place."""
    a, b = ids[len(ids) // 4], ids[len(ids) // 4 + 3]
    _swap(s, table, a, b, [c for c in _columns(s, table) if c not in ("id", "chain_seq")])
    return a, "顺序被调换"


def swap_ids(s: Street, table: str, ids: list[int]):
    """Swap everything but the ids of two entries (places too): the chain reads the same, but the
    entries now carry each other's ids — the id is covered wherever it is not the place."""
    a, b = ids[len(ids) // 4], ids[len(ids) // 4 + 3]
    _swap(s, table, a, b, [c for c in _columns(s, table) if c != "id"])
    return b, "被修改"


def truncate_tail(s: Street, table: str, ids: list[int]):
    s.drop_guard(table)
    s.sql(f"DELETE FROM {table} WHERE id > %s", (ids[-4],))
    return ids[-1], "被删除"


def _columns(s: Street, table: str) -> list[str]:
    if s.kind == "sqlite":
        return [r[1] for r in s.sql(f"PRAGMA table_info({table})")]
    return [r[0] for r in s.sql("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                                "ORDER BY ordinal_position", (table,))]


ATTACKS = [delete_one, edit_one, insert_unchained, insert_copying_chain, reorder_two, swap_ids, truncate_tail]


@pytest.mark.parametrize("table", ["core_audit_log", "volunteer_points_ledger"])
@pytest.mark.parametrize("attack", ATTACKS, ids=lambda f: f.__name__)
def test_verify_catches_every_attack(street, table, attack, capsys):
    ids = _ids(street, table)
    assert len(ids) > 20
    entry, what = attack(street, table, ids)
    code, out, err = verify(capsys, street)
    assert code == 1, out + err
    first = next(line for line in err.splitlines() if line.startswith("防篡改校验未通过"))
    assert table in first and f"第 {entry} 条" in first and what in first, first
    assert re.search(rf"{table}\s+\d+\s+被篡改", out)


def test_intact_street_verifies(street, capsys):
    code, out, err = verify(capsys, street)
    assert code == 0, err
    for table in CHAINS:
        count = street.sql(f"SELECT count(*) FROM {table}")[0][0]
        assert re.search(rf"{table}\s+{count}\s+完好", out), out   # every entry checked
    assert "防篡改链完好" in out


def test_opening_recreates_a_dropped_trigger_and_warns(street, capsys):
    street.drop_guard("volunteer_stock_moves")
    db = street.open()
    try:
        assert any("volunteer_stock_moves" in w and "防篡改触发器" in w and "重新建立" in w for w in db.admin_warnings)
        with db.session_factory() as s:
            entry = s.scalars(select(AuditLog).where(AuditLog.action == "guard_restored")).one()
            assert entry.entity == "volunteer_stock_moves"
    finally:
        db.dispose()
    with pytest.raises(Exception, match="append-only"):
        street.sql("UPDATE volunteer_stock_moves SET reason = 'x'")
    assert verify(capsys, street)[0] == 0
    db = street.open()   # repaired: the second opening is quiet
    try:
        assert not [w for w in db.admin_warnings if "安全警告" in w]
    finally:
        db.dispose()


def test_opening_warns_about_entries_forged_since_the_last_check(street):
    ids = _ids(street, "emergency_stock_moves")
    insert_unchained(street, "emergency_stock_moves", ids)
    db = street.open()
    try:
        assert any("防篡改校验未通过" in w and "emergency_stock_moves" in w for w in db.admin_warnings), db.warnings
    finally:
        db.dispose()


def test_new_entries_stay_chained_and_opening_moves_the_head(street, capsys):
    db = street.open()
    try:
        with db.session_factory() as s:
            for i in range(3):
                audit.record(s, "export", "core_users", summary=f"导出 {i}")
            s.commit()
        before = street.sql("SELECT verified_id FROM core_chain_heads WHERE chain = 'core_audit_log'")[0][0]
    finally:
        db.dispose()
    street.open().dispose()
    after = street.sql("SELECT verified_id FROM core_chain_heads WHERE chain = 'core_audit_log'")[0][0]
    assert after == max(_ids(street, "core_audit_log")) > before
    assert verify(capsys, street)[0] == 0


def test_audit_ledger_prints_the_chain_head(street):
    from shell.core.audit_query import build_audit_ledger

    db = street.open()
    try:
        with db.session_factory() as s:
            spec = build_audit_ledger(ServiceContext(s, Actor.system()), {})
            last = s.execute(select(AuditLog.id, AuditLog.chain_hash).order_by(AuditLog.id.desc())).first()
            rows = list(spec.rows)
    finally:
        db.dispose()
    note = " ".join(spec.notes)
    assert f"第 {last.id} 条" in note and chain.grouped(last.chain_hash) in note
    assert len(rows) == len(_ids(street, "core_audit_log"))


def test_concurrent_appends_on_postgresql_neither_wait_nor_fork(pg_db):
    """Two desktops appending at once: the server seals each transaction's entries at its commit,
    so the second does not wait for the first's open transaction, and the chain does not fork."""
    db = pg_db
    a = db.session_factory()
    audit.record(a, "export", "core_users", summary="甲")
    a.flush()                                  # A has an entry (an id) and keeps its transaction open
    done = threading.Event()

    def other():
        with db.session_factory() as b:
            audit.record(b, "export", "core_users", summary="乙")
            b.commit()
        done.set()

    t = threading.Thread(target=other)
    t.start()
    assert done.wait(10)                       # B committed while A was still open
    t.join(10)
    audit.record(a, "export", "core_users", summary="甲2")
    a.commit()
    a.close()
    with db.session_factory() as s:
        report = chain.verify(s, tables=["core_audit_log"])
        assert report.ok and report.chains[0].checked == s.scalar(select(func.count()).select_from(AuditLog))
        order = s.execute(select(AuditLog.summary).where(AuditLog.summary.in_(["甲", "乙", "甲2"]))
                          .order_by(AuditLog.chain_seq)).scalars().all()
        ids = dict(s.execute(select(AuditLog.summary, AuditLog.id).where(AuditLog.summary.in_(["甲", "乙"]))).all())
    assert order == ["乙", "甲", "甲2"] and ids["甲"] < ids["乙"]   # chained in commit order


def test_canonical_form_agrees_between_typed_and_raw_reads():
    from datetime import date, datetime

    from plugins.volunteer.models import PointsEntry
    row = {"id": 5, "volunteer_id": 3, "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "kind": "earn",
           "points": 10, "balance_after": 10, "reason": "", "attendance_id": None}
    raw = {**row, "at": "2026-01-02 03:04:05.000000"}    # what plain sqlite3 reads
    assert chain.canon(row, PointsEntry.__table__) == chain.canon(raw) == chain.canon(raw, PointsEntry.__table__)
    assert chain.canon({"day": date(2026, 1, 2)}) == chain.canon({"day": "2026-01-02"})


def test_a_commit_waits_for_another_commits_sealing_only_so_long(pg_db):
    """The chain lock is held only while a commit seals; should one ever hang (here a connection
    holds the lock in an open transaction), another commit fails after the wait with a Chinese
    message instead of hanging. The wait is the sealing function's lock_timeout (15 s; 0.3 s here)."""
    from shell.errors import DatabaseError

    with pg_db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER FUNCTION jiedao_sec.chain_seal() SET lock_timeout = '300ms'")
    stuck = pg_db.engine.connect()
    stuck.exec_driver_sql(f"SELECT pg_advisory_xact_lock({chain.LOCK_KEY})")
    try:
        with pg_db.session_factory() as b:
            audit.record(b, "export", "core_users", summary="乙")
            b.flush()                          # no wait while working
            with pytest.raises(DatabaseError, match="另一台电脑正在保存"):
                b.commit()
    finally:
        stuck.rollback()
        stuck.close()
    with pg_db.session_factory() as s:
        audit.record(s, "export", "core_users", summary="丙")
        s.commit()
        assert chain.verify(s, tables=["core_audit_log"]).ok


@pytest.mark.parametrize("engine_kind", ["sqlite", "pg"])
def test_upgrade_chains_the_entries_an_older_database_already_has(engine_kind, tmp_path, request):
    """c0003 back-fills the chain of an existing audit log (the guard dropped and re-created around
    it): the old entries verify, the trigger is back, new entries chain on."""
    from alembic import command

    from shell.db.engine import make_engine
    from shell.db.migrate import alembic_config, upgrade
    from shell.db.session import make_session_factory

    target = tmp_path / "old.sqlite" if engine_kind == "sqlite" else request.getfixturevalue("pg_empty_url")
    engine = make_engine(target)
    try:
        with engine.begin() as conn:        # a database of the previous program: core at c0002
            cfg = alembic_config([])
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "c0002")
            for i in range(30):             # raw SQL: the previous program's rows, no chain columns
                conn.exec_driver_sql(
                    "INSERT INTO core_audit_log (at, actor_name, action, entity, entity_id, summary, after) "
                    f"VALUES ('2026-11-0{1 + i % 9} 08:00:00', '老用户', 'update', 'core_areas', '{i}', '第{i}次', "
                    f"'{{\"name\": \"社区{i}\", \"n\": {i}}}')")
        upgrade(engine, [], backup=False)
        with make_session_factory(engine)() as s:
            report = chain.verify(s, tables=["core_audit_log"])
            assert report.ok and report.chains[0].checked == 30
            audit.record(s, "export", "core_users", summary="升级后")
            s.commit()
            assert chain.verify(s).ok
            with pytest.raises(Exception, match="append-only"):
                with s.begin_nested():
                    s.execute(text("UPDATE core_audit_log SET summary = 'x'"))
    finally:
        engine.dispose()


def test_ledgers_verify_without_their_models(street, monkeypatch):
    """The desktop opens before loading plugin models: the ledgers are then read raw (SQLite gives
    text for times) and must verify the same — and still catch an edit."""
    monkeypatch.setattr(chain, "_metadata_table", lambda name: None)
    ledgers = [t for t in CHAINS if t != "core_audit_log"]
    db = street.open()
    try:
        with db.session_factory() as s:
            report = chain.verify(s, tables=ledgers, save=False)
            assert report.ok and all(c.checked > 0 for c in report.chains), [c.broken for c in report.chains]
        ids = _ids(street, "volunteer_hours_ledger")
        edit_one(street, "volunteer_hours_ledger", ids)
        with db.session_factory() as s:
            broken = chain.verify(s, tables=ledgers, save=False).first_break
            assert broken.table == "volunteer_hours_ledger" and broken.entry_id == ids[len(ids) // 3]
            assert broken.what == "edited"
    finally:
        db.dispose()
