"""The server holds against a user who bypasses the program (issue 15, "How it is checked").

Plain psycopg, connected as the demo grid worker's and the demo community worker's own login role
with their password, tries what the issue lists — reading outside the scope, reading password
hashes, forging balances and stock, inserting into another community, moving a record out of scope,
rewriting or truncating the audit log, disabling or dropping a trigger, forging an audit actor,
granting themselves a role, creating a table, calling the administrators' functions — and every
attempt is refused (an error, or no row touched), checked afterwards from the owner's side.
"""
from __future__ import annotations

import psycopg
import pytest
from psycopg import errors, sql

WORKERS = ("grid_worker", "community_staff")

# The tables of residents, events, special groups and visits (and their children): nothing outside
# the user's scope is readable. (column giving the area, directly or through the parent)
SCOPED_READS = {
    "grid_persons": "t.area_id",
    "grid_households": "t.area_id",
    "grid_houses": "t.area_id",
    "grid_events": "t.area_id",
    "grid_event_steps": "t.area_id",
    "grid_special_persons": "t.area_id",
    "grid_visits": "t.area_id",
    "grid_visit_logs": "t.area_id",
    "volunteer_volunteers": "t.area_id",
    "volunteer_points_ledger": "(SELECT v.area_id FROM volunteer_volunteers v WHERE v.id = t.volunteer_id)",
    # a member who left (no organisation) belongs to the organisation of their last membership
    "partybuilding_members": "(SELECT o.area_id FROM partybuilding_orgs o WHERE o.id = coalesce(t.org_id, "
                             "(SELECT ms.org_id FROM partybuilding_memberships ms WHERE ms.member_id = t.id "
                             "ORDER BY ms.start_on DESC, ms.id DESC LIMIT 1)))",
    "partybuilding_dues_payments": "(SELECT o.area_id FROM partybuilding_members m JOIN partybuilding_orgs o "
                                   "ON o.id = coalesce(m.org_id, (SELECT ms.org_id FROM partybuilding_memberships ms "
                                   "WHERE ms.member_id = m.id ORDER BY ms.start_on DESC, ms.id DESC LIMIT 1)) "
                                   "WHERE m.id = t.member_id)",
    "emergency_stock_moves": "(SELECT w.area_id FROM emergency_warehouses w WHERE w.id = t.warehouse_id)",
}

ADMIN_FUNCTIONS = ("create_login(%s, 'SCRAM-SHA-256$4096:AAAA$BBBB:CCCC')", "set_password(%s, 'x')",
                   "set_login(%s, true)", "sync_user(%s)", "sync_role(1)", "drop_login(%s)")


@pytest.fixture(scope="module")
def pg_secure_db(pg_server):
    """One secured demo street for the whole module (conftest's is per test; securing takes a while and
    nothing here is left behind: every attempt is refused or rolled back)."""
    from tests.security.conftest import destroy_secure_db, make_secure_db

    sdb, name = make_secure_db(pg_server)
    try:
        yield sdb
    finally:
        destroy_secure_db(pg_server, sdb, name)


def _conninfo(url) -> str:
    return (f"host={url.host} port={url.port or 5432} dbname={url.database} user={url.username} "
            f"password={url.password} connect_timeout=5")


@pytest.fixture(scope="module")
def street(pg_secure_db):
    """The owner's view of the demo street: each worker's id, scope and the areas outside it."""
    owner = psycopg.connect(_conninfo(pg_secure_db.url), autocommit=True)
    info = {}
    for username in WORKERS:
        uid, area_id, path = owner.execute(
            "SELECT u.id, u.area_id, a.path FROM core_users u JOIN core_areas a ON a.id = u.area_id "
            "WHERE u.username = %s", (username,)).fetchone()
        scope = [r[0] for r in owner.execute("SELECT id FROM core_areas WHERE path LIKE %s", (path + "%",))]
        other_community = owner.execute(  # a community neither in the scope nor above the user's area
            "SELECT id FROM core_areas WHERE level = 'community' AND NOT (id = ANY(%s)) AND %s NOT LIKE path || '%%' "
            "ORDER BY id LIMIT 1", (scope, path)).fetchone()[0]
        other_grid = owner.execute("SELECT id FROM core_areas WHERE parent_id = %s ORDER BY id LIMIT 1",
                                   (other_community,)).fetchone()[0]
        info[username] = dict(id=uid, area_id=area_id, scope=scope, other_community=other_community,
                              other_grid=other_grid)
    yield owner, info
    owner.close()


@pytest.fixture(params=WORKERS)
def worker(request, pg_secure_db, street):
    conn = psycopg.connect(_conninfo(pg_secure_db.user_url(request.param)))
    owner, info = street
    yield conn, owner, info[request.param], request.param
    conn.rollback()
    conn.close()


def refused(conn, statement, params=None) -> bool:
    """True when the statement fails with insufficient_privilege or touches no row; rolled back."""
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            touched = cur.rowcount
    except (errors.InsufficientPrivilege, errors.UndefinedFunction) as exc:
        conn.rollback()
        return isinstance(exc, errors.InsufficientPrivilege)
    conn.rollback()
    return touched == 0


def _fingerprint(owner, table: str) -> tuple:
    return owner.execute(sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                                 "FROM {} t").format(sql.Identifier(table))).fetchone()


def test_the_login_is_the_workers_own_role(worker, pg_secure_db):
    conn, _owner, _me, username = worker
    role = conn.execute("SELECT session_user").fetchone()[0]
    assert role == f"{pg_secure_db.key}.u.{username}"
    assert conn.execute("SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls FROM pg_roles "
                        "WHERE rolname = session_user").fetchone()[0] is False


@pytest.mark.parametrize("table", sorted(SCOPED_READS))
def test_nothing_outside_the_scope_is_readable(worker, table):
    conn, owner, me, _username = worker
    area = SCOPED_READS[table]
    outside_q = sql.SQL("SELECT count(*) FROM {} t WHERE NOT coalesce(" + area + " = ANY(%s), false)").format(
        sql.Identifier(table))
    inside_q = sql.SQL("SELECT count(*) FROM {} t WHERE " + area + " = ANY(%s)").format(sql.Identifier(table))
    total_outside = owner.execute(outside_q, (me["scope"],)).fetchone()[0]
    assert total_outside > 0, f"the demo street has no {table} row outside the scope: the test would prove nothing"
    try:
        seen = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
    except errors.InsufficientPrivilege:
        conn.rollback()
        return  # not even readable
    assert seen == owner.execute(inside_q, (me["scope"],)).fetchone()[0]


def test_password_hashes_and_lockout_columns_are_unreadable(worker):
    conn, _owner, _me, _username = worker
    for column in ("password_hash", "failed_logins", "locked_until"):
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("SELECT {} FROM core_users").format(sql.Identifier(column)))
        conn.rollback()
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM core_users")
    conn.rollback()


def test_other_users_outside_the_scope_are_invisible(worker):
    conn, owner, me, _username = worker
    seen = {r[0] for r in conn.execute("SELECT id FROM core_users")}
    assert me["id"] in seen
    everyone = dict(owner.execute("SELECT id, area_id FROM core_users"))
    assert seen == {u for u, a in everyone.items() if u == me["id"] or a in me["scope"]}
    assert len(seen) < len(everyone)


@pytest.mark.parametrize("table, column", [("volunteer_accounts", "points_balance"),
                                           ("volunteer_accounts", "approved_minutes"),
                                           ("volunteer_reward_items", "stock"),
                                           ("emergency_batches", "qty")])
def test_balances_and_stock_cannot_be_forged(worker, table, column):
    conn, owner, _me, _username = worker
    before = _fingerprint(owner, table)
    stmt = sql.SQL("UPDATE {t} SET {c} = {c} + 99999").format(t=sql.Identifier(table), c=sql.Identifier(column))
    try:
        with conn.cursor() as cur:
            cur.execute(stmt)
        conn.commit()  # a balance guard may only object at the commit
    except (errors.InsufficientPrivilege, errors.RaiseException, errors.CheckViolation,
            errors.IntegrityConstraintViolation):
        conn.rollback()
    assert _fingerprint(owner, table) == before, f"{table}.{column} was changed"


def _copy_row(owner, conn, table: str, row_id: int, overrides: dict) -> sql.Composed:
    columns = [r[0] for r in owner.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "AND column_name <> 'id' ORDER BY ordinal_position", (table,))]
    picks = [sql.Literal(overrides[c]) if c in overrides else sql.Identifier(c) for c in columns]
    return sql.SQL("INSERT INTO {t} ({cols}) SELECT {picks} FROM {t} WHERE id = {id}").format(
        t=sql.Identifier(table), cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        picks=sql.SQL(", ").join(picks), id=sql.Literal(row_id))


def test_a_resident_cannot_be_inserted_into_another_community(worker):
    conn, owner, me, _username = worker
    mine = conn.execute("SELECT id FROM grid_persons ORDER BY id LIMIT 1").fetchone()[0]
    before = _fingerprint(owner, "grid_persons")
    stmt = _copy_row(owner, conn, "grid_persons", mine, {"area_id": me["other_grid"], "id_number": "110101199003071234",
                                                         "household_id": None, "house_id": None})
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        conn.execute(stmt)
    conn.rollback()
    assert _fingerprint(owner, "grid_persons") == before


@pytest.mark.parametrize("table", ["grid_persons", "grid_events", "grid_special_persons", "grid_houses", "grid_visits"])
def test_a_record_cannot_be_moved_out_of_the_scope(worker, table):
    conn, owner, me, _username = worker
    mine = conn.execute(sql.SQL("SELECT id FROM {} ORDER BY id LIMIT 1").format(sql.Identifier(table))).fetchone()
    assert mine is not None, f"the worker sees no {table} row"
    before = _fingerprint(owner, table)
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute(sql.SQL("UPDATE {} SET area_id = %s WHERE id = %s").format(sql.Identifier(table)),
                     (me["other_grid"], mine[0]))
    conn.rollback()
    assert _fingerprint(owner, table) == before


def test_records_outside_the_scope_cannot_be_changed_or_deleted(worker):
    conn, owner, me, _username = worker
    before = _fingerprint(owner, "grid_persons")
    assert refused(conn, "UPDATE grid_persons SET name = '篡改' WHERE NOT (area_id = ANY(%s))", (me["scope"],))
    assert refused(conn, "DELETE FROM grid_special_persons WHERE NOT (area_id = ANY(%s))", (me["scope"],))
    assert _fingerprint(owner, "grid_persons") == before


@pytest.mark.parametrize("statement", [
    "DELETE FROM core_audit_log",
    "UPDATE core_audit_log SET actor_name = 'admin'",
    "TRUNCATE core_audit_log",
    "INSERT INTO core_audit_log (action, entity, actor_name, at) VALUES ('update', 'grid_persons', 'admin', now())",
    "DELETE FROM core_chain_heads",
    "UPDATE volunteer_points_ledger SET points = points + 99999",
    "DELETE FROM volunteer_points_ledger",
    "DELETE FROM emergency_stock_moves",
    "TRUNCATE volunteer_points_ledger",
])
def test_the_audit_log_and_the_ledgers_cannot_be_rewritten(worker, statement):
    conn, owner, _me, _username = worker
    table = statement.split()[2] if statement.startswith(("DELETE", "INSERT")) else statement.split()[1]
    before = _fingerprint(owner, table)
    assert refused(conn, statement)
    assert _fingerprint(owner, table) == before


@pytest.mark.parametrize("statement", [
    "ALTER TABLE core_audit_log DISABLE TRIGGER USER",
    "ALTER TABLE core_audit_log DISABLE TRIGGER ALL",
    "ALTER TABLE volunteer_points_ledger DISABLE TRIGGER USER",
    "ALTER TABLE grid_persons DISABLE ROW LEVEL SECURITY",
    "ALTER TABLE grid_persons NO FORCE ROW LEVEL SECURITY",
    "DROP POLICY jiedao_scope ON grid_persons",
    "CREATE POLICY mine ON grid_persons FOR SELECT USING (true)",
    "ALTER TABLE grid_persons OWNER TO CURRENT_USER",
])
def test_triggers_and_policies_cannot_be_disabled(worker, statement):
    conn, _owner, _me, _username = worker
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)
    conn.rollback()


def test_no_trigger_can_be_dropped(worker):
    conn, owner, _me, _username = worker
    triggers = owner.execute("SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                             "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal "
                             "AND n.nspname = 'public'").fetchall()
    assert triggers, "no trigger to attack"
    for name, table in triggers:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("DROP TRIGGER {} ON {}").format(sql.Identifier(name), sql.Identifier(table)))
        conn.rollback()


def test_the_audit_actor_cannot_be_forged(worker, pg_secure_db):
    conn, owner, me, username = worker
    conn.execute("SET application_name = 'admin'")
    for setting in ("jiedao.actor_id", "jiedao.user_id", "jiedao.actor"):
        conn.execute(sql.SQL("SELECT set_config({}, '1', true)").format(sql.Literal(setting)))
    newest = owner.execute("SELECT coalesce(max(id), 0) FROM core_audit_log").fetchone()[0]
    conn.execute("SELECT jiedao_sec.audit_event('export', 'grid_persons', NULL, '伪造', NULL, NULL)")
    conn.execute("UPDATE grid_persons SET phone = phone WHERE id = (SELECT min(id) FROM grid_persons)")
    conn.commit()
    rows = owner.execute("SELECT actor_id, actor_name FROM core_audit_log WHERE id > %s", (newest,)).fetchall()
    assert rows, "nothing was audited"
    assert {r[0] for r in rows} == {me["id"]}, rows
    assert all(r[1] != "admin" for r in rows)


@pytest.mark.parametrize("statement", [
    'GRANT "{key}.r.admin" TO CURRENT_USER',
    'GRANT "{key}.owner" TO CURRENT_USER',
    'GRANT "{key}.r.street_staff" TO CURRENT_USER',
    "ALTER ROLE CURRENT_USER SUPERUSER",
    "ALTER ROLE CURRENT_USER CREATEROLE",
    "ALTER ROLE CURRENT_USER BYPASSRLS",
    'CREATE ROLE "{key}.u.intruder" LOGIN PASSWORD \'x\'',
])
def test_no_role_can_be_granted_or_made(worker, pg_secure_db, statement):
    conn, _owner, _me, _username = worker
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement.format(key=pg_secure_db.key))
    conn.rollback()


def test_the_program_level_roles_cannot_be_taken(worker):
    conn, owner, me, _username = worker
    admin_role = owner.execute("SELECT id FROM core_roles WHERE name = 'admin'").fetchone()[0]
    before = (_fingerprint(owner, "core_user_roles"), _fingerprint(owner, "core_users"),
              _fingerprint(owner, "core_role_permissions"))
    assert refused(conn, "INSERT INTO core_user_roles (user_id, role_id) VALUES (%s, %s)", (me["id"], admin_role))
    assert refused(conn, "UPDATE core_users SET is_superuser = true WHERE id = %s", (me["id"],))
    assert refused(conn, "UPDATE core_users SET area_id = NULL WHERE id = %s", (me["id"],))
    assert refused(conn, "INSERT INTO core_role_permissions (role_id, code) SELECT role_id, 'core.user.manage' "
                         "FROM core_user_roles WHERE user_id = %s", (me["id"],))
    assert refused(conn, "UPDATE core_users SET password_hash = (SELECT password_hash FROM core_users WHERE "
                         "username = 'admin') WHERE id = %s", (me["id"],))
    assert (_fingerprint(owner, "core_user_roles"), _fingerprint(owner, "core_users"),
            _fingerprint(owner, "core_role_permissions")) == before


@pytest.mark.parametrize("statement", [
    "CREATE TABLE intruder (a int)",
    "CREATE TABLE public.intruder (a int)",
    "CREATE TABLE jiedao_sec.intruder (a int)",
    "CREATE FUNCTION jiedao_sec.unrestricted2() RETURNS bool LANGUAGE sql AS 'SELECT true'",
    "CREATE OR REPLACE FUNCTION jiedao_sec.unrestricted() RETURNS bool LANGUAGE sql AS 'SELECT true'",
    "CREATE SCHEMA intruder",
    "DROP TABLE grid_visits",
])
def test_no_table_or_function_can_be_created_or_dropped(worker, statement):
    conn, _owner, _me, _username = worker
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)
    conn.rollback()


@pytest.mark.parametrize("call", ADMIN_FUNCTIONS)
def test_the_administrators_functions_refuse(worker, call):
    conn, owner, me, _username = worker
    before = owner.execute("SELECT array_agg(rolname ORDER BY rolname) FROM pg_roles").fetchone()[0]
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT jiedao_sec." + call.replace("%s", str(me["id"])))
    conn.rollback()
    assert owner.execute("SELECT array_agg(rolname ORDER BY rolname) FROM pg_roles").fetchone()[0] == before


def test_a_scoped_user_manager_hands_out_only_what_they_hold(pg_secure_db, street):
    """A community's user manager (core.user.manage for their community only) may give their users
    roles within their own rights — through the program and with psql alike — but neither a role
    holding a right they lack (admin) nor such a right added to a role."""
    from sqlalchemy import select

    from shell.core import auth
    from shell.core.context import ServiceContext
    from shell.core.models import Area, Role

    owner, info = street
    community_id = owner.execute("SELECT area_id FROM core_users WHERE username = 'community_staff'").fetchone()[0]
    with pg_secure_db.session_for("admin") as s:
        ctx = ServiceContext(s, pg_secure_db.actor_for("admin"))
        known = auth.collect_permissions(pg_secure_db.pm)
        auth.save_role(ctx, "community_user_admin", "社区用户管理员", ["core.area.view", "core.user.manage"], known)
        area = s.get(Area, community_id)
        manager = auth.create_user(ctx, "cu_manager", "社区管理员", "Manager-2026", area.id, ["community_user_admin"])
        auth.create_user(ctx, "cu_clerk", "社区职员", "Clerk-2026a", area.id, [])
        s.commit()
        admin_role, viewer_role = (s.scalar(select(Role.id).where(Role.name == n)) for n in ("admin", "community_user_admin"))
    clerk = owner.execute("SELECT id FROM core_users WHERE username = 'cu_clerk'").fetchone()[0]
    before = (_fingerprint(owner, "core_user_roles"), _fingerprint(owner, "core_role_permissions"))
    conn = psycopg.connect(_conninfo(pg_secure_db.user_url("cu_manager", "Manager-2026")))
    try:
        for target in (manager.id, clerk):
            assert refused(conn, "INSERT INTO core_user_roles (user_id, role_id) VALUES (%s, %s)", (target, admin_role))
        assert refused(conn, "INSERT INTO core_role_permissions (role_id, code) VALUES (%s, 'core.database.manage')",
                       (viewer_role,))
        assert refused(conn, "UPDATE core_role_permissions SET code = 'core.personal.full_view' WHERE role_id = %s",
                       (viewer_role,))
        assert (_fingerprint(owner, "core_user_roles"), _fingerprint(owner, "core_role_permissions")) == before
        # within their own rights it works, as in the program
        with conn.cursor() as cur:
            cur.execute("INSERT INTO core_user_roles (user_id, role_id) VALUES (%s, %s)", (clerk, viewer_role))
            assert cur.rowcount == 1
        conn.rollback()
    finally:
        conn.close()
