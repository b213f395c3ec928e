"""The audit log written by the server (issue 15 item 4): on a secured database the row triggers
write what the program's listener writes on SQLite — same entity, action, record number, before and
after —, one entry per change, with the actor of the login role; users cannot touch the log, its
triggers or the append-only ledgers, nor name another actor; the chains (server-written entries
included) verify, and ``jiedao audit verify`` still catches every attack on a secured server."""
from __future__ import annotations

import shutil
from datetime import date

import psycopg
import pytest
from sqlalchemy import func, select

from shell import cli
from shell.core import areas, audit, calendar, chain
from shell.core.context import ServiceContext
from shell.core.demo import create_demo
from shell.core.models import AuditLog, User
from shell.db.security import server_audit

ROW_FIELDS = ("entity", "action", "entity_id", "before", "after")


@pytest.fixture(scope="module")
def secured(pg_server):
    """One secured small street for the module (securing one takes minutes on a busy machine)."""
    from tests.security.conftest import destroy_secure_db, make_secure_db
    sdb, name = make_secure_db(pg_server)
    sdb.dbname = name
    try:
        yield sdb
    finally:
        destroy_secure_db(pg_server, sdb, name)


@pytest.fixture
def secured_copy(secured, pg_server):
    """A throwaway copy of the secured street (CREATE DATABASE … TEMPLATE) for an attacker to spoil;
    only the owner's URL is used on it."""
    import uuid

    from sqlalchemy import text
    for engine in secured.engines:
        engine.dispose()
    name = f"jd_sec_copy_{uuid.uuid4().hex[:10]}"
    with pg_server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{secured.dbname}"'))
    try:
        yield secured.owner_url.set(database=name)
    finally:
        with pg_server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _service_calls(ctx: ServiceContext) -> None:
    """Inserts, updates (changed columns only), a delete; text, dates, integers, NULLs, Chinese."""
    community = ctx.session.scalar(select(areas.Area).where(areas.Area.level == "community").order_by(areas.Area.id))
    grid = areas.create_area(ctx, "审计测试网格", "grid", parent_id=community.id, code="G-审计", opened_on=date(2026, 3, 1))
    ctx.session.commit()
    areas.rename_area(ctx, grid.id, "审计测试网格（改名）", code=None)
    ctx.session.commit()
    calendar.set_day(ctx, date(2031, 10, 1), "off", "国庆节")
    ctx.session.commit()
    calendar.set_day(ctx, date(2031, 10, 1), "off", "国庆")
    ctx.session.commit()
    calendar.clear_day(ctx, date(2031, 10, 1))
    ctx.session.commit()


def _entries_after(session, last_id: int) -> list[tuple]:
    rows = session.execute(select(AuditLog).where(AuditLog.id > last_id, AuditLog.action.in_(("insert", "update", "delete")))
                           .order_by(AuditLog.chain_seq, AuditLog.id)).scalars().all()
    return [(r.entity, r.action, r.entity_id, r.before, r.after, r.actor_id, r.actor_name) for r in rows]


@pytest.fixture(scope="module")
def sqlite_street(tmp_path_factory):
    from shell.cli import make_pm
    path = tmp_path_factory.mktemp("street") / "street.sqlite"
    create_demo(path, "small", pm=make_pm()).dispose()
    return path


def test_the_server_writes_what_the_program_writes(secured, sqlite_street, tmp_path):
    """The same service calls on a secured server (as the user's login role) and on SQLite (the
    program's listener) leave the same audit rows, field for field."""
    from shell.core.database import open_database

    copy = tmp_path / "copy.sqlite"
    shutil.copy(sqlite_street, copy)
    got = {}
    # SQLite: the program writes
    db = open_database(copy, pm=secured.pm, backup=False)
    try:
        with db.session_factory() as s:
            user = s.scalar(select(User).where(User.username == "admin"))
            from shell.core import auth
            actor = auth.build_actor(s, user, auth.collect_permissions(secured.pm))
            last = s.scalar(select(func.max(AuditLog.id)))
        with db.session_factory() as s:
            _service_calls(ServiceContext(s, actor))
            got["sqlite"] = _entries_after(s, last)
    finally:
        db.dispose()
    # the secured server: the triggers write
    actor = secured.actor_for("admin")
    with secured.superuser_engine().connect() as conn:
        last = conn.scalar(select(func.max(AuditLog.id)))
    s = secured.session_for("admin")
    try:
        assert server_audit.server_audit(s.connection()) == (True, False)
        s.rollback()
        _service_calls(ServiceContext(s, actor))
    finally:
        s.close()
    from sqlalchemy.orm import Session
    with Session(secured.superuser_engine()) as s:
        got["pg"] = _entries_after(s, last)
    assert got["sqlite"], "the service calls wrote no row entries"
    assert [e[:5] for e in got["pg"]] == [e[:5] for e in got["sqlite"]]
    assert {e[5:] for e in got["pg"]} == {e[5:] for e in got["sqlite"]} == {(actor.user_id, "管理员")}


def test_one_entry_per_change_and_the_chain_holds(secured):
    from sqlalchemy.orm import Session
    actor = secured.actor_for("admin")
    owner = secured.superuser_engine()
    with Session(owner) as o:
        before = o.scalar(select(func.max(AuditLog.id)))
    s = secured.session_for("admin")
    try:
        calendar.set_day(ServiceContext(s, actor), date(2032, 5, 1), "off", "劳动节")
        audit.record(s, "export", "core_holidays", summary="导出节假日")
        s.commit()
    finally:
        s.close()
    with Session(owner) as o:
        new = o.execute(select(AuditLog.entity, AuditLog.action, AuditLog.actor_id, AuditLog.summary)
                        .where(AuditLog.id > before).order_by(AuditLog.id)).all()
    holiday_rows = [r for r in new if r.entity == "core_holidays" and r.action == "insert"]
    assert len(holiday_rows) == 1                                   # the listener wrote nothing itself
    assert ("core_holidays", "export", actor.user_id, "导出节假日") in new
    with owner.connect() as conn:
        report = chain.verify(conn, save=False)
        assert report.ok, report.first_break and report.first_break.message()


def _refused(conn, sql: str, params=()) -> str:
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params)
    return f"{info.value.sqlstate} {info.value}"


@pytest.mark.parametrize("username", ["grid_worker", "community_staff"])
def test_a_user_with_psql_cannot_touch_the_log_its_triggers_or_the_ledgers(secured, username):
    conn = secured.psycopg(username)
    try:
        for sql in ("DELETE FROM core_audit_log", "UPDATE core_audit_log SET summary = 'x'",
                    "TRUNCATE core_audit_log",
                    "INSERT INTO core_audit_log (at, actor_id, actor_name, action, entity, summary) "
                    "VALUES (now(), 1, '管理员', 'login', 'core_users', '伪造')",
                    "ALTER TABLE core_audit_log DISABLE TRIGGER USER",
                    "ALTER TABLE core_audit_log DISABLE TRIGGER core_audit_log_chain_seal",
                    "DROP TRIGGER core_audit_log_no_change ON core_audit_log",
                    "ALTER TABLE core_areas DISABLE TRIGGER jiedao_audit_row",
                    "DROP TRIGGER jiedao_audit_row ON core_areas",
                    "ALTER TABLE core_audit_log OWNER TO CURRENT_USER",
                    "CREATE OR REPLACE FUNCTION jiedao_sec.audit_row() RETURNS trigger LANGUAGE plpgsql "
                    "AS $$ BEGIN RETURN NULL; END $$",
                    "SELECT jiedao_sec.write_audit('login', 'core_users', '1', '伪造', NULL, NULL)",
                    "SELECT jiedao_sec.audit_event('update', 'core_areas', '1', '伪造的修改', NULL, NULL)",
                    "UPDATE volunteer_points_ledger SET points = points + 99999",
                    "DELETE FROM volunteer_points_ledger",
                    "TRUNCATE volunteer_points_ledger",
                    "UPDATE emergency_stock_moves SET qty = qty + 1000",
                    "DELETE FROM volunteer_stock_moves"):
            why = _refused(conn, sql)
            assert why.startswith("42"), (sql, why)          # 42501 insufficient privilege / 42883 …
        # An event may be written, but only as oneself: the actor comes from the login role.
        conn.execute("SET jiedao.actor_id = '1'")
        conn.execute("SET jiedao.actor_name = '管理员'")
        conn.execute("SELECT jiedao_sec.audit_event('login', 'core_users', '1', %s, NULL, NULL)", (f"我是管理员-{username}",))
    finally:
        conn.close()
    with secured.superuser_engine().connect() as c:
        row = c.execute(select(AuditLog.actor_id, AuditLog.actor_name).where(AuditLog.summary == f"我是管理员-{username}")).one()
        me = c.execute(select(User.id, User.display_name).where(User.username == username)).one()
    assert tuple(row) == tuple(me)


def test_a_ledger_entry_a_user_appends_is_sealed_by_the_server(secured):
    """Who may append to a ledger can only append: the chain values they bring are replaced."""
    owner = secured.superuser_engine()
    with owner.connect() as c:
        holder = c.exec_driver_sql(
            "SELECT u.username FROM core_users u JOIN core_user_roles ur ON ur.user_id = u.id "
            "JOIN core_role_permissions p ON p.role_id = ur.role_id WHERE p.code = 'volunteer.points.adjust' "
            "AND NOT u.is_superuser ORDER BY u.id LIMIT 1").scalar()
        template = c.exec_driver_sql("SELECT volunteer_id FROM volunteer_points_ledger ORDER BY id LIMIT 1").scalar()
        balance = c.exec_driver_sql("SELECT points_balance FROM volunteer_accounts WHERE volunteer_id = "
                                    f"{int(template or 0)}").scalar()
    # the demo street has both (its community worker adjusts points): a test that cannot skip
    assert holder is not None and template is not None, "the demo street lost its points adjuster or ledger"
    conn = secured.psycopg(holder)
    try:
        # as an adjustment is made: the entry and the balance together (the server checks they agree)
        with conn.transaction():
            conn.execute("INSERT INTO volunteer_points_ledger (volunteer_id, at, kind, points, balance_after, reason, "
                         "chain_prev, chain_hash, chain_seq) VALUES (%s, now(), 'adjust', 1, %s, '测试', %s, %s, 1)",
                         (template, balance + 1, "0" * 64, "f" * 64))
            conn.execute("UPDATE volunteer_accounts SET points_balance = points_balance + 1 WHERE volunteer_id = %s",
                         (template,))
    finally:
        conn.close()
    with owner.connect() as c:
        row = c.exec_driver_sql("SELECT chain_hash, chain_seq FROM volunteer_points_ledger WHERE reason = '测试'").one()
        assert row[0] != "f" * 64 and row[1] > 1
        assert chain.verify(c, tables=["volunteer_points_ledger"], save=False).ok


ATTACK_NAMES = ("delete_one", "edit_one", "insert_unchained", "reorder_two", "swap_ids", "truncate_tail")


@pytest.fixture(scope="module")
def server_entries(secured):
    s = secured.session_for("street_staff")
    try:
        for i in range(6):
            audit.record(s, "export", "core_users", summary=f"服务器写入 {i}")
            s.commit()
    finally:
        s.close()


@pytest.mark.parametrize("attack_name", ATTACK_NAMES)
def test_verify_catches_every_attack_on_a_secured_server(secured, server_entries, secured_copy, attack_name,
                                                         capsys, monkeypatch):
    """The tamper tests of tests/core/test_audit_chain.py, on a secured server whose latest entries
    the server wrote and sealed, the attacker being the owner."""
    from tests.core import test_audit_chain as t
    monkeypatch.setattr(cli, "make_pm", lambda: secured.pm)
    street = t.Street("pg", secured_copy.render_as_string(hide_password=False))
    code, _out, err = t.verify(capsys, street)
    assert code == 0, err
    ids = t._ids(street, "core_audit_log")
    entry, what = getattr(t, attack_name)(street, "core_audit_log", ids)
    code, out, err = t.verify(capsys, street)
    assert code == 1, out + err
    first = next(line for line in err.splitlines() if line.startswith("防篡改校验未通过"))
    assert "core_audit_log" in first and f"第 {entry} 条" in first and what in first, first


def test_a_user_opens_the_secured_database_and_the_owner_restores_a_dropped_audit_trigger(secured, secured_copy):
    """Opening as a user checks without repairing (the triggers are the owner's) and stays quiet on an
    intact database; the owner's opening re-creates a dropped audit trigger, audits and warns."""
    from shell.core.database import open_database
    db = open_database(secured.user_url("grid_worker"), pm=secured.pm, backup=False)
    try:
        assert not [w for w in db.admin_warnings + db.warnings if "安全警告" in w]
    finally:
        db.dispose()
    import psycopg as pg
    u = secured_copy
    with pg.connect(host=u.host, port=u.port or 5432, dbname=u.database, user=u.username, password=u.password,
                    autocommit=True) as conn:
        conn.execute("DROP TRIGGER jiedao_audit_row ON core_holidays")
    db = open_database(secured_copy, pm=secured.pm, backup=False)
    try:
        assert any("core_holidays" in w and "审计触发器" in w for w in db.admin_warnings), db.admin_warnings
        with db.session_factory() as s:
            assert server_audit.missing_triggers(s.connection()) == []
            assert s.scalar(select(func.count()).select_from(AuditLog).where(
                AuditLog.action == "guard_restored", AuditLog.entity == "core_holidays")) == 1
    finally:
        db.dispose()
