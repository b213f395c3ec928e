"""Issue 15 items 1, 2, 5: role names, SCRAM verifiers, table access declarations, and on a secured
server database the group and login roles, the grants they carry and the administration functions
refusing whoever may not call them."""
from __future__ import annotations

import base64
import hashlib
import hmac

import psycopg
import pytest
from sqlalchemy import text

import tests.testplugin as testplugin
from shell.core.access import HIDDEN_COLUMNS, collect_table_access
from shell.db.base import Base
from shell.db.mappers import load_models, plugin_module_names
from shell.db.security import naming, scram
from shell.errors import ValidationError
from shell.plugins import make_plugin_manager


def test_street_key_and_role_names():
    assert naming.street_key("Jiedao-青石") == "jiedao___"
    assert naming.street_key("jd_test_0123456789abcdef") == "jd_test_0123456789ab"   # at most 20
    for bad in ("1street", "_x", "", "街道"):
        with pytest.raises(ValidationError, match="必须以英文字母开头"):
            naming.street_key(bad)
    key = naming.street_key("qingshi")
    assert (naming.owner_role(key), naming.base_role(key)) == ("qingshi.owner", "qingshi.users")
    assert naming.group_role(key, "grid_worker") == "qingshi.r.grid_worker"
    assert naming.login_role(key, "zhang.san") == "qingshi.u.zhang.san"
    with pytest.raises(ValidationError, match="超过 PostgreSQL 的上限 63 字节"):
        naming.login_role("a" * 20, "b" * 41)                   # 20 + 3 + 41 = 64 bytes
    assert len(naming.login_role("a" * 20, "b" * 40)) == 63


def test_scram_verifier_is_postgres_format():
    salt = b"0123456789abcdef"
    v = scram.verifier("demo1234", salt=salt)
    head, keys = v.split("$")[1:]
    iterations, salt_b64 = head.split(":")
    assert v.startswith("SCRAM-SHA-256$4096:") and base64.b64decode(salt_b64) == salt
    salted = hashlib.pbkdf2_hmac("sha256", b"demo1234", salt, int(iterations))
    stored = hashlib.sha256(hmac.new(salted, b"Client Key", hashlib.sha256).digest()).digest()
    assert keys.split(":")[0] == base64.b64encode(stored).decode()
    assert scram.verifier("demo1234") != scram.verifier("demo1234")  # a fresh salt each time
    assert scram.is_verifier(v) and not scram.is_verifier("demo1234")


def test_every_table_in_the_metadata_is_declared():
    pm = make_plugin_manager(extra=(testplugin,), entry_points=False)
    metadata = load_models(plugin_module_names(pm))
    declared = {t.table for t in collect_table_access(pm)}
    assert set(Base.metadata.tables) == set(metadata.tables)
    missing = set(metadata.tables) - declared
    assert not missing, f"tables without a register_table_access declaration: {sorted(missing)}"
    unknown = declared - set(metadata.tables)
    assert not unknown, f"declared tables that do not exist: {sorted(unknown)}"
    assert "testplug_notes" in declared


def _level(conn, role: str, table: str) -> str:
    has = {p: conn.execute(text("SELECT has_table_privilege(:r, :t, :p)"), {"r": role, "t": f"public.{table}", "p": p}).scalar()
           for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")}
    if has["TRUNCATE"]:
        return "truncate"
    if has["UPDATE"] and has["DELETE"] and has["INSERT"]:
        return "write"
    if has["INSERT"] and not (has["UPDATE"] or has["DELETE"]):
        return "append"
    if has["SELECT"] and not (has["INSERT"] or has["UPDATE"] or has["DELETE"]):
        return "read"
    if not any(has.values()):
        return "none"
    return "mixed:" + ",".join(p for p, v in has.items() if v)


def test_fixture_logins_and_identity_functions(pg_secure_db):
    sdb = pg_secure_db
    with sdb.psycopg("grid_worker") as c:
        role, uid, scope, grid_view, manage, unrestricted = c.execute(
            "SELECT session_user, jiedao_sec.uid(), jiedao_sec.scope_ids(), jiedao_sec.can('grid.view'), "
            "jiedao_sec.can('core.user.manage'), jiedao_sec.unrestricted()").fetchone()
        assert role == sdb.role("grid_worker") == f"{sdb.key}.u.grid_worker"
        area_path = c.execute("SELECT a.path FROM core_users u JOIN core_areas a ON a.id = u.area_id "
                              "WHERE u.id = jiedao_sec.uid()").fetchone()[0]
        in_subtree = c.execute("SELECT array_agg(id ORDER BY id) FROM core_areas WHERE path LIKE %s",
                               (area_path + "%",)).fetchone()[0]
        assert scope == in_subtree and len(scope) == 1     # a grid: itself
        assert (grid_view, manage, unrestricted) == (True, False, False)
    with sdb.psycopg("admin") as c:
        assert c.execute("SELECT jiedao_sec.can('core.user.manage'), jiedao_sec.unrestricted(), "
                         "jiedao_sec.scope_ids()").fetchone() \
            == (True, True, [])                            # no area: empty, never NULL
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        sdb.psycopg("grid_worker", password="wrong-1234")
    # The session of a login role through the program's own engine.
    with sdb.session_for("community_staff") as session:
        assert session.execute(text("SELECT session_user")).scalar() == sdb.role("community_staff")
    assert sdb.actor_for("grid_worker").can("grid.view")


def test_grants_follow_the_declarations(pg_secure_db):
    sdb = pg_secure_db
    engine = sdb.superuser_engine()
    with engine.connect() as conn:
        declared = conn.execute(text("SELECT table_name, code, privilege FROM core_table_access")).all()
        roles = conn.execute(text("SELECT r.id, r.name FROM core_roles r ORDER BY r.id")).all()
        codes = {rid: set(conn.execute(text("SELECT code FROM core_role_permissions WHERE role_id = :r"), {"r": rid}).scalars())
                 for rid, _ in roles}
        tables = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        rank = {"none": 0, "read": 1, "append": 2, "write": 3}
        for rid, name in roles:
            group = naming.group_role(sdb.key, name)
            for table in sorted(tables - {"alembic_version"}):
                want = max([rank[p] for t, c, p in declared if t == table and c in codes[rid]], default=0)
                got = _level(conn, group, table) if table != "core_users" else None
                if got is not None:
                    assert got == {v: k for k, v in rank.items()}[want], (group, table)
        base = naming.base_role(sdb.key)
        assert _level(conn, base, "core_areas") == "read"
        assert _level(conn, base, "grid_persons") == "none"
        # Nobody but the owner gets UPDATE/DELETE on the audit log and the append-only ledgers.
        members = conn.execute(text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p"), {"p": sdb.key + ".%"}).scalars().all()
        for role in members:
            if role == sdb.owner:
                continue
            for table in ("core_audit_log", "volunteer_points_ledger", "volunteer_hours_ledger",
                          "volunteer_stock_moves", "emergency_stock_moves"):
                assert _level(conn, role, table) in ("none", "read", "append"), (role, table)
            assert _level(conn, role, "core_audit_log") in ("none", "read"), role
            for col in HIDDEN_COLUMNS["core_users"]:
                for p in ("SELECT", "UPDATE"):
                    assert not conn.execute(text("SELECT has_column_privilege(:r, 'public.core_users', :c, :p)"),
                                            {"r": role, "c": col, "p": p}).scalar(), (role, col, p)
        owner = conn.execute(text("SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c JOIN pg_namespace n "
                                  "ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'jiedao_sec') "
                                  "AND relkind IN ('r', 'S', 'v')")).scalars().all()
        assert owner == [sdb.owner]
    # What a grid worker with psql finds.
    with sdb.psycopg("grid_worker") as c:
        assert c.execute("SELECT count(*) FROM core_areas").fetchone()[0] > 0
        for sql in ("SELECT password_hash FROM core_users",
                    "UPDATE volunteer_accounts SET points_balance = points_balance + 99999",
                    "DELETE FROM core_audit_log", "CREATE TABLE evil (x int)", f'GRANT "{sdb.owner}" TO CURRENT_USER',
                    "SELECT count(*) FROM partybuilding_members"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(sql)


ADMIN_CALLS = ("SELECT jiedao_sec.create_login({uid}, 'SCRAM-SHA-256$4096:x$y:z')",
               "SELECT jiedao_sec.set_password({uid}, 'SCRAM-SHA-256$4096:x$y:z')",
               "SELECT jiedao_sec.set_login({uid}, true)", "SELECT jiedao_sec.sync_user({uid})",
               "SELECT jiedao_sec.sync_role(1)", "SELECT jiedao_sec.drop_login({uid})")


@pytest.mark.parametrize("who", ["grid_worker", "community_staff", "street_staff"])
def test_admin_functions_refuse_non_admins(pg_secure_db, who):
    with pg_secure_db.superuser_engine().connect() as conn:  # the admin's row is outside their scope
        admin = conn.execute(text("SELECT id FROM core_users WHERE username = 'admin'")).scalar_one()
    with pg_secure_db.psycopg(who) as c:
        me = c.execute("SELECT jiedao_sec.uid()").fetchone()[0]
        for sql in ADMIN_CALLS:
            for uid in (me, admin):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="core.user.manage"):
                    c.execute(sql.format(uid=uid))
        # Nor directly: no CREATEROLE, and the functions' internals are not callable.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("CREATE ROLE evil LOGIN")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("SELECT jiedao_sec._sync_role(1)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("ALTER ROLE CURRENT_USER SUPERUSER")
        # Changing one's own password is allowed, and so is saying so.
        c.execute(f"ALTER ROLE CURRENT_USER PASSWORD '{scram.verifier('new-pass-1234')}'")
        c.execute("SELECT jiedao_sec.password_changed()")
    with pg_secure_db.psycopg(who, password="new-pass-1234") as c:
        assert c.execute("SELECT session_user").fetchone()[0] == pg_secure_db.role(who)
