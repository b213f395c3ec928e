"""User administration on a secured server (issue 15 items 1, 2, 5, 6): the services of
设置 → 用户与角色 change what the server lets a user do; nobody grants themselves more; the CLI's
user commands on both engines; db secure on a database made the old way; upgrade only as owner."""
from __future__ import annotations

import json
import re
import uuid

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

import tests.testplugin as testplugin
from shell import cli
from shell.core import auth
from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.core.models import Area, User
from shell.db.engine import make_engine
from shell.db.security import naming, scram
from shell.db.session import make_session_factory
from shell.errors import SchemaNeedsOwner
from shell.plugins import make_plugin_manager
from tests.conftest import PG_URL
from tests.security.conftest import destroy_secure_db, drop_street_roles, make_secure_db


def _has(c, table: str, privilege: str) -> bool:
    return c.execute("SELECT has_table_privilege(current_user, %s, %s)", (f"public.{table}", privilege)).fetchone()[0]


def _admin_ctx(sdb, session):
    """The administrator's actor in a session of the owner's side (the desktop or CLI of an admin)."""
    return ServiceContext(session, sdb.actor_for("admin"))


def test_a_change_in_users_and_roles_changes_what_the_server_allows(pg_secure_db):
    sdb = pg_secure_db
    factory = make_session_factory(sdb.superuser_engine())
    with sdb.psycopg("grid_worker") as c:
        assert not _has(c, "grid_staff", "UPDATE") and not _has(c, "volunteer_accounts", "UPDATE")
    with factory() as session:
        ctx = _admin_ctx(sdb, session)
        worker = session.scalar(select(User).where(User.username == "grid_worker"))
        auth.update_user(ctx, worker.id, role_names=["community_staff"])
        session.commit()
    with sdb.psycopg("grid_worker") as c:
        assert _has(c, "grid_staff", "UPDATE") and _has(c, "volunteer_accounts", "UPDATE")
        groups = {r[0] for r in c.execute("SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
                                          "WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = session_user)")}
        assert groups == {naming.base_role(sdb.key), naming.group_role(sdb.key, "community_staff")}
    # A role's permissions edited: its group role's grants follow.
    with factory() as session:
        ctx = _admin_ctx(sdb, session)
        role = next(r for r in auth.list_roles(session) if r.name == "grid_worker")
        codes = auth.collect_permissions(sdb.pm)
        auth.save_role(ctx, "grid_worker", role.title, sorted(role.codes | {"grid.staff.manage"}), codes)
        session.commit()
    with sdb.psycopg("community_staff") as c:
        group = naming.group_role(sdb.key, "grid_worker")
        assert c.execute("SELECT has_table_privilege(%s, 'public.grid_staff', 'UPDATE')", (group,)).fetchone()[0]
    # Disabled: the login role may not log in; enabled again: it may.
    with factory() as session:
        ctx = _admin_ctx(sdb, session)
        worker = session.scalar(select(User).where(User.username == "grid_worker"))
        auth.update_user(ctx, worker.id, is_active=False)
        session.commit()
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        sdb.psycopg("grid_worker")
    with factory() as session:
        ctx = _admin_ctx(sdb, session)
        worker = session.scalar(select(User).where(User.username == "grid_worker"))
        auth.update_user(ctx, worker.id, is_active=True)
        auth.reset_password(ctx, worker.id, "reset-pass-2026")
        session.commit()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        sdb.psycopg("grid_worker")
    with sdb.psycopg("grid_worker", password="reset-pass-2026") as c:
        assert c.execute("SELECT must_change_password FROM core_users WHERE id = jiedao_sec.uid()").fetchone()[0]
    # A new user: a login role with the password given, in its roles' groups only; no local hash.
    with factory() as session:
        ctx = _admin_ctx(sdb, session)
        grid = session.scalar(select(Area).where(Area.level == "grid").order_by(Area.id.desc()))
        new = auth.create_user(ctx, "wang.wu", "王五", "first-pass-2026", grid.id, ["grid_worker"])
        session.commit()
        assert new.server_role == sdb.role("wang.wu")
        assert session.execute(text("SELECT password_hash FROM core_users WHERE id = :i"), {"i": new.id}).scalar() == ""
    with sdb.psycopg("wang.wu", password="first-pass-2026") as c:
        assert c.execute("SELECT jiedao_sec.scope_ids()").fetchone()[0] == [grid.id]
    with factory() as session:
        with pytest.raises(Exception, match="超过 PostgreSQL 的上限 63 字节"):
            auth.create_user(_admin_ctx(sdb, session), "x" * (63 - len(sdb.key) - 2), "长名", "first-pass-2026", grid.id)


def test_an_administrator_cannot_grant_themselves_more(pg_secure_db):
    sdb = pg_secure_db
    refused = psycopg.errors.InsufficientPrivilege
    with sdb.psycopg("admin") as c:
        me = c.execute("SELECT jiedao_sec.uid()").fetchone()[0]
        for sql in (f'GRANT "{sdb.owner}" TO CURRENT_USER', f'SET ROLE "{sdb.owner}"', "ALTER ROLE CURRENT_USER CREATEROLE",
                    "CREATE ROLE evil", 'GRANT pg_read_all_data TO CURRENT_USER',
                    "UPDATE core_users SET server_role = 'postgres' WHERE id = jiedao_sec.uid()"):
            with pytest.raises(refused):
                c.execute(sql)
        # Through its own functions: only <key>.users, <key>.super and <key>.r.* — never the owner.
        c.execute("SELECT jiedao_sec.sync_user(%s)", (me,))
        c.execute("SELECT jiedao_sec.create_login(%s, %s)", (me, scram.verifier("admin-new-2026")))
        groups = {r[0] for r in c.execute("SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
                                          "WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = session_user)")}
        assert sdb.owner not in groups and all(g.startswith(sdb.key + ".") for g in groups)
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="SCRAM-SHA-256"):
            c.execute("SELECT jiedao_sec.set_password(%s, 'plain-text-1234')", (me,))
    # A user manager who is not a superuser: only users of their own scope, never a superuser.
    factory = make_session_factory(sdb.superuser_engine())
    with factory() as session:
        ctx = _admin_ctx(sdb, session)
        community = session.scalar(select(Area).where(Area.level == "community").order_by(Area.id))
        codes = auth.collect_permissions(sdb.pm)
        auth.save_role(ctx, "community_admin", "社区管理员", ["core.user.manage", "core.area.view"], codes)
        auth.create_user(ctx, "c.admin", "社区管理员甲", "c-admin-2026", community.id, ["community_admin"])
        session.commit()
        other = session.scalar(select(User).where(User.username == "street_staff")).id   # the street's scope
        own = session.scalar(select(User).where(User.username == "grid_worker")).id      # in the community
        admin = session.scalar(select(User).where(User.username == "admin")).id         # street-wide
    with sdb.psycopg("c.admin", password="c-admin-2026") as c:
        c.execute("SELECT jiedao_sec.sync_user(%s)", (own,))
        for uid in (other, admin):
            with pytest.raises(refused, match="不在您的管辖范围内"):
                c.execute("SELECT jiedao_sec.create_login(%s, %s)", (uid, scram.verifier("x-pass-2026")))
        with pytest.raises(refused, match="只有超级管理员"):
            c.execute("UPDATE core_users SET is_superuser = true WHERE id = jiedao_sec.uid()")


def test_no_login_role_for_another_street(pg_server, pg_secure_db):
    a = pg_secure_db
    b, b_name = make_secure_db(pg_server)
    try:
        with a.psycopg("admin") as c:
            ids = [r[0] for r in c.execute("SELECT id FROM core_users")]
            for uid in ids:
                c.execute("SELECT jiedao_sec.sync_user(%s)", (uid,))
            clerk = c.execute("SELECT id FROM core_users WHERE username = 'street_staff'").fetchone()[0]
            made = c.execute("SELECT jiedao_sec.create_login(%s, %s)", (clerk, scram.verifier("a-pass-2026"))).fetchone()[0]
            assert made.startswith(naming.login_prefix(a.key))
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(f'GRANT "{naming.group_role(b.key, "admin")}" TO CURRENT_USER')
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(f'ALTER ROLE "{b.role("grid_worker")}" PASSWORD \'{scram.verifier("hijack-2026")}\'')
        # A's roles cannot even connect to B's database.
        u = a.user_url("admin")
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(host=u.host, port=u.port, dbname=b_name, user=u.username, password=u.password)
        with b.psycopg("grid_worker") as c:
            assert c.execute("SELECT session_user").fetchone()[0] == b.role("grid_worker")
    finally:
        destroy_secure_db(pg_server, b, b_name)


def test_an_older_schema_is_upgraded_by_the_owner_only(pg_secure_db):
    sdb = pg_secure_db
    pm = make_plugin_manager(extra=(testplugin,), entry_points=False)   # a new plugin: t0001 pending
    with pytest.raises(SchemaNeedsOwner, match="jiedao db upgrade"):
        open_database(sdb.user_url("admin"), pm=pm)
    with make_engine(sdb.url).connect() as conn:
        assert conn.execute(text("SELECT to_regclass('public.testplug_notes')")).scalar() is None
    db = open_database(sdb.owner_url, pm=pm)
    try:
        assert "t0001" in db.upgrade.after
        with db.engine.connect() as conn:
            owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'testplug_notes'")).scalar()
            assert owner == sdb.owner
    finally:
        db.dispose()
    with sdb.psycopg("grid_worker") as c:   # testplugin's grid_worker template adds testplug.view
        assert _has(c, "testplug_notes", "SELECT") and not _has(c, "testplug_notes", "INSERT")
    with sdb.psycopg("admin") as c:
        assert c.execute("SELECT count(*) FROM core_table_access WHERE table_name = 'testplug_notes'").fetchone()[0] == 2


def _cli(capsys, *argv) -> tuple[int, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_cli_user_commands_on_sqlite(sqlite_db, capsys, monkeypatch):
    path = sqlite_db.url.database
    sqlite_db.dispose()
    with open_database(path).session_factory() as s:
        s.info["actor_name"] = "测试"
        street = Area(name="青石街道", level="street", path="")
        s.add(street)
        s.flush()
        street.path = f"/{street.id}/"
        c = Area(name="和平里社区", level="community", parent_id=street.id, code="C1", path="")
        s.add(c)
        s.flush()
        c.path = f"{street.path}{c.id}/"
        s.commit()
    monkeypatch.setenv(cli.NEW_PASSWORD_ENV, "zhang-2026a")
    code, out = _cli(capsys, "user", "add", "zhang", "--name", "张三", "--role", "grid_worker",
                     "--area", "青石街道/和平里社区", "--db", path)
    assert code == 0 and "已创建用户：zhang（张三）" in out and "青石街道/和平里社区" in out
    code, out = _cli(capsys, "user", "set-roles", "zhang", "community_staff", "street_staff", "--db", path)
    assert code == 0 and "社区工作人员" in out
    code, out = _cli(capsys, "user", "set-scope", "zhang", "青石街道", "--db", path)
    assert code == 0 and "管辖范围现在是：青石街道" in out
    assert _cli(capsys, "user", "disable", "zhang", "--db", path)[0] == 0
    code, out = _cli(capsys, "user", "list", "--db", path)
    assert code == 0 and "本数据库未加固" in out and "街道键.u.用户名" in out and "已停用" in out
    code, out = _cli(capsys, "user", "list", "--json", "--db", path)
    users = json.loads(out)["users"]
    assert users == [{"username": "zhang", "name": "张三", "roles": ["community_staff", "street_staff"], "scope": "青石街道",
                      "server_role": None, "superuser": False, "active": False, "locked": False}]
    assert _cli(capsys, "user", "enable", "zhang", "--db", path)[0] == 0
    monkeypatch.setenv(cli.NEW_PASSWORD_ENV, "zhang-2026b")
    assert _cli(capsys, "user", "passwd", "zhang", "--db", path)[0] == 0
    db = open_database(path, pm=cli.make_pm())
    try:
        assert auth.login(db.session_factory, "zhang", "zhang-2026b").username == "zhang"
    finally:
        db.dispose()
    code, out = _cli(capsys, "user", "set-roles", "zhang", "nosuchrole", "--db", path)
    assert code == 2 and "角色不存在：nosuchrole" in out
    code, out = _cli(capsys, "user", "set-scope", "zhang", "青石街道/不存在社区", "--db", path)
    assert code == 2 and "“不存在社区”不存在" in out


def test_cli_user_commands_on_a_secured_server(pg_secure_db, capsys, monkeypatch):
    sdb = pg_secure_db
    url = sdb.url.render_as_string(hide_password=False)
    monkeypatch.setenv(cli.NEW_PASSWORD_ENV, "li-si-2026")
    with make_engine(sdb.url).connect() as conn:
        grid = conn.execute(text("SELECT code FROM core_areas WHERE level = 'grid' ORDER BY id DESC")).first()[0]
    code, out = _cli(capsys, "user", "add", "li.si", "--name", "李四", "--role", "grid_worker", "--area", grid, "--url", url)
    assert code == 0 and f"服务器角色 {sdb.role('li.si')}" in out, out
    with sdb.psycopg("li.si", password="li-si-2026") as c:
        assert c.execute("SELECT jiedao_sec.can('grid.view')").fetchone()[0]
    assert _cli(capsys, "user", "set-roles", "li.si", "street_staff", "--url", url)[0] == 0
    with sdb.psycopg("li.si", password="li-si-2026") as c:
        assert c.execute("SELECT jiedao_sec.can('grid.event.escalate')").fetchone()[0]
    assert _cli(capsys, "user", "disable", "li.si", "--url", url)[0] == 0
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        sdb.psycopg("li.si", password="li-si-2026")
    code, out = _cli(capsys, "user", "list", "--url", url)
    assert code == 0 and f"街道键：{sdb.key}" in out and sdb.role("grid_worker") in out
    rows = {u["username"]: u for u in json.loads(_cli(capsys, "user", "list", "--json", "--url", url)[1])["users"]}
    assert rows["li.si"]["server_role"] == sdb.role("li.si") and rows["li.si"]["active"] is False


def test_db_secure_an_old_style_database(pg_server, capsys, monkeypatch):
    """The way docs/lan-server.md had it: one shared role owns the database, every desktop uses it."""
    name = f"jd_old_{uuid.uuid4().hex[:10]}"
    shared = f"{name}_shared"
    key = naming.street_key(name)
    with pg_server.connect() as conn:
        conn.execute(text(f"CREATE ROLE \"{shared}\" LOGIN CREATEROLE PASSWORD 'shared-2026'"))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{shared}"'))
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name, username=shared, password="shared-2026")
    try:
        db = open_database(url)
        with db.session_factory() as s:
            s.info["actor_name"] = "测试"
            auth.create_first_admin(s, "admin", "管理员", "admin-pass-2026")
            s.commit()
        with db.session_factory() as s:
            auth.create_user(ServiceContext(s, Actor.system()), "clerk", "办事员", "clerk-pass-2026", None,
                             ["street_staff"])
            s.commit()
        db.dispose()
        monkeypatch.setenv(cli.OWNER_PASSWORD_ENV, "owner-pass-2026x")
        raw = url.render_as_string(hide_password=False)
        code, out = _cli(capsys, "db", "secure", "--url", raw)
        assert code == 0, out
        assert f"所有者角色 {key}.owner" in out and f"收回原共用角色“{shared}”" in out
        passwords = dict(re.findall(rf"(\S+)\s+{re.escape(key)}\.u\.\S+\s+(\S+)", out))
        assert set(passwords) == {"admin", "clerk"}
        for user, password in passwords.items():
            c = psycopg.connect(host="127.0.0.1", dbname=name, user=f"{key}.u.{user}", password=password)
            assert c.execute("SELECT must_change_password FROM core_users WHERE id = jiedao_sec.uid()").fetchone()[0]
            c.close()
        # The shared role: no longer the owner of anything, no rights left on the database.
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(host="127.0.0.1", dbname=name, user=shared, password="shared-2026")
        with pg_server.connect() as conn:
            conn.execute(text(f'GRANT CONNECT ON DATABASE "{name}" TO "{shared}"'))   # even let in again:
        with psycopg.connect(host="127.0.0.1", dbname=name, user=shared, password="shared-2026") as c:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute("SELECT count(*) FROM core_users")
        owner_raw = url.set(username=f"{key}.owner", password="owner-pass-2026x").render_as_string(hide_password=False)
        code, out = _cli(capsys, "db", "secure", "--url", owner_raw)
        assert code == 2 and "已经加固过" in out
        code, out = _cli(capsys, "db", "upgrade", "--url", owner_raw)
        assert code == 0 and "已按本程序的声明更新服务器角色" in out, out
    finally:
        with pg_server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{shared}"'))
        drop_street_roles(pg_server, key)


def test_db_init_on_a_server_creates_the_owner_and_secures(pg_server, capsys, monkeypatch):
    name = f"jd_init_{uuid.uuid4().hex[:10]}"
    key = naming.street_key(name)
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)
    monkeypatch.setattr(cli, "make_pm", lambda disabled=(): make_plugin_manager(builtins=(), entry_points=False))
    monkeypatch.setenv(cli.OWNER_PASSWORD_ENV, "owner-init-2026")
    monkeypatch.setenv(cli.PASSWORD_ENV, "chief-pass-2026")
    try:
        code, out = _cli(capsys, "db", "init", "--url", url.render_as_string(hide_password=False),
                         "--admin-user", "chief", "--admin-name", "赵主任")
        assert code == 0, out
        assert f"所有者角色 {key}.owner" in out and f"{key}.u.chief" in out
        with psycopg.connect(host="127.0.0.1", dbname=name, user=f"{key}.u.chief", password="chief-pass-2026") as c:
            assert c.execute("SELECT jiedao_sec.unrestricted(), jiedao_sec.can('core.user.manage')").fetchone() == (True, True)
        with psycopg.connect(host="127.0.0.1", dbname=name, user=f"{key}.owner", password="owner-init-2026") as c:
            assert c.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                             "AND tableowner <> current_user").fetchone()[0] == 0
        # Demo users as server roles with the demo password, on a server (core only: quick).
        demo = f"jd_demo_{uuid.uuid4().hex[:10]}"
        with pg_server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{demo}"'))
        try:
            code, out = _cli(capsys, "demo", "--no-open", "--url",
                             url.set(database=demo).render_as_string(hide_password=False))
            assert code == 0 and "服务器已加固" in out, out
            dkey = naming.street_key(demo)
            with psycopg.connect(host="127.0.0.1", dbname=demo, user=f"{dkey}.u.grid_worker", password="demo1234") as c:
                assert c.execute("SELECT jiedao_sec.scope_ids()").fetchone()[0] != []
        finally:
            with pg_server.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{demo}" WITH (FORCE)'))
            drop_street_roles(pg_server, naming.street_key(demo))
    finally:
        with pg_server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        drop_street_roles(pg_server, key)
