"""Row-level security on a secured server (issue 15.3): the policies, their coverage, refusals in
Chinese, and the hot queries' index use under the policies (tests/test_query_plans.py's queries)."""
from __future__ import annotations

import dataclasses
import importlib
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, event, text

from shell.core.context import ServiceContext
from shell.db.base import Base
from shell.db.security import rls
from shell.db.security.refusal import TABLE_WORDS, server_refusal
from shell.errors import OutOfScope, PermissionDenied, ServerOutOfScope, ServerPermissionDenied
from shell.plugins import BUILTIN_PLUGINS
from tests.test_query_plans import _hot_operations, _pg_full_scans

ITEM_CODE = "2999981"
CJK = re.compile(r"[\u4e00-\u9fff]")


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


def _all_models():
    import shell.core.models  # noqa: F401

    for name in BUILTIN_PLUGINS:
        importlib.import_module(f"{name}.models" if name.startswith("plugins.") else f"plugins.{name}.models")


@pytest.fixture(scope="module")
def owner(pg_secure_db):
    engine = create_engine(pg_secure_db.url)
    yield engine
    engine.dispose()


def test_every_table_is_policed_or_street_wide_with_a_reason(owner):
    _all_models()
    with owner.connect() as conn:
        plan = rls.plan(conn)
        present = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        forced = dict(conn.execute(text(
            "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relkind = 'r'")).all())
        policies = {(t, p) for t, p in conn.execute(text("SELECT tablename, policyname FROM pg_policies"))}
    missing = {t.name for t in Base.metadata.sorted_tables} - present - {"testplug_notes"}
    assert not missing, f"tables of the metadata not in the secured database: {missing}"
    assert set(plan.unpoliced) <= set(rls.STREET_WIDE), (
        "neither policed nor listed as street-wide in shell/db/security/rls.py STREET_WIDE: "
        f"{set(plan.unpoliced) - set(rls.STREET_WIDE)}")
    assert all(len(reason) > 20 for reason in rls.STREET_WIDE.values())
    assert not plan.policed & set(rls.STREET_WIDE)
    for table in plan.policed:
        assert forced[table], f"{table}: row-level security not enabled and forced"
        assert (table, rls.OWNER_POLICY) in policies
        assert (table, rls.SCOPE_POLICY) in policies or (table, rls.READ_POLICY) in policies, table
    # the areas' tables and the ones hanging off them, as the issue names them
    for table in ("grid_persons", "grid_events", "grid_special_persons", "grid_visits", "grid_event_attachments"):
        assert table in plan.area
    for table, parent in (("partybuilding_members", "partybuilding_orgs"), ("volunteer_points_ledger", "volunteer_volunteers"),
                          ("emergency_stock_moves", "emergency_warehouses"),
                          ("partybuilding_attendance", "partybuilding_meetings"),
                          ("volunteer_attendances", "volunteer_activities")):
        assert parent in {p for _c, p in plan.children[table]}, table
    assert not {t for t in plan.policed if t not in TABLE_WORDS}, "name the new table in refusal.TABLE_WORDS"


def test_install_is_idempotent(owner, pg_secure_db):
    def snapshot(conn):
        return sorted(tuple(map(str, r)) for r in conn.execute(text(
            "SELECT tablename, policyname, cmd, roles::text, qual, with_check FROM pg_policies")))

    with owner.connect() as conn:
        before = snapshot(conn)
        rls.install(conn, pg_secure_db.key)
        once = snapshot(conn)
        rls.install(conn, pg_secure_db.key)
        assert snapshot(conn) == once == before
        conn.rollback()


def _bypassing(pg_secure_db, username):
    """The user's own server connection with an actor whose program checks all pass: what a user
    who bypasses the program's checks gets from the server."""
    actor = dataclasses.replace(pg_secure_db.actor_for(username), is_superuser=True)
    return pg_secure_db.session_for(username), actor


def test_a_write_out_of_scope_is_refused_as_out_of_scope_in_chinese(pg_secure_db):
    from plugins.grid import services as grid

    s, actor = _bypassing(pg_secure_db, "grid_worker")
    try:
        mine = pg_secure_db.actor_for("grid_worker").scope_paths[0]
        with create_engine(pg_secure_db.url).connect() as conn:
            other = conn.execute(text("SELECT id FROM core_areas WHERE level = 'grid' AND path NOT LIKE :p "
                                      "ORDER BY id LIMIT 1"), {"p": mine + "%"}).scalar()
        with pytest.raises(OutOfScope) as refused:
            grid.create_household(ServiceContext(s, actor), area_id=other, number="RLS-0001", address="外社区")
            s.flush()
        assert isinstance(refused.value, ServerOutOfScope)
        assert "户籍/家庭户" in refused.value.message and "管辖范围" in refused.value.message
        s.rollback()
        person = s.scalar(text("SELECT id FROM grid_persons ORDER BY id LIMIT 1"))
        with pytest.raises(OutOfScope) as moved:
            grid.update_person(ServiceContext(s, actor), person, area_id=other)
            s.flush()
        assert isinstance(moved.value, ServerOutOfScope) and "居民" in moved.value.message
    finally:
        s.rollback()
        s.close()


def test_a_write_without_the_privilege_is_refused_as_permission_denied_in_chinese(pg_secure_db):
    from plugins.emergency import services as emergency

    s, actor = _bypassing(pg_secure_db, "grid_worker")
    try:
        with pytest.raises(PermissionDenied) as refused:
            emergency.create_item(ServiceContext(s, actor), code=ITEM_CODE, name="越权物资", unit="件")
            s.flush()
        assert isinstance(refused.value, ServerPermissionDenied)
        # the service first looks for the code among the items: not even readable for a grid worker
        assert re.search("(查看|新增)“应急物资目录”", refused.value.message), refused.value.message
        assert refused.value.table == "emergency_items" and refused.value.operation in ("查看", "新增")
    finally:
        s.rollback()
        s.close()


def _driver_error(message, sqlstate="42501"):
    return SimpleNamespace(sqlstate=sqlstate, diag=SimpleNamespace(message_primary=message))


def test_refusal_messages_name_the_table_and_the_operation():
    denied = server_refusal(_driver_error("permission denied for table grid_special_persons"),
                            "UPDATE grid_special_persons SET level = 'x'")
    assert isinstance(denied, ServerPermissionDenied) and "修改“特殊人群”" in denied.message
    assert denied.operation == "修改"
    scope = server_refusal(_driver_error('new row violates row-level security policy for table "grid_persons"'),
                           "INSERT INTO grid_persons (area_id) VALUES (9)")
    assert isinstance(scope, ServerOutOfScope) and "居民" in scope.message
    owner_only = server_refusal(_driver_error("must be owner of table core_audit_log"), "ALTER TABLE core_audit_log ...")
    assert isinstance(owner_only, ServerPermissionDenied) and "审计日志" in owner_only.message
    chinese = server_refusal(_driver_error("只有具备“用户管理”权限的用户才能创建登录账号"),
                             "SELECT jiedao_sec.create_login(1, 'x')")
    assert "用户管理" in chinese.message
    assert server_refusal(_driver_error("duplicate key", sqlstate="23505"), "INSERT …") is None


# === on a secured database (issue 15.3): the same hot queries as the users themselves, row-level
# security on. The policies call the identity functions in sub-selects (init plans evaluated once per
# statement), so the search column's index still serves the query and the policy is a filter on the
# rows it finds; a child table's policy looks its parent up by primary key.
@pytest.mark.parametrize("username", ["community_staff", "street_staff"])
def test_hot_queries_use_indexes_under_row_level_security(pg_secure_db, username):
    problems, explained = [], 0
    actor = pg_secure_db.actor_for(username)
    s = pg_secure_db.session_for(username)
    try:
        operations = _hot_operations(s)
        conn = s.connection()
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_policies WHERE tablename = 'grid_persons'").scalar()
        captured: list[tuple[str, str, object]] = []
        engine = s.get_bind()
        for label, operation in operations:
            if label.startswith("audit:") and not actor.can("core.audit.view"):
                continue  # not this user's work
            before = len(captured)

            def capture(_conn, _cursor, statement, params, _context, _many):
                if statement.lstrip().upper().startswith("SELECT"):
                    captured.append((label, statement, params))

            event.listen(engine, "before_cursor_execute", capture)
            try:
                operation(ServiceContext(s, actor))
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            assert len(captured) > before, f"{label}: no query was captured"
        # Only the EXPLAIN without sequential scans (run so, the tiny tables' plans take minutes)
        conn.exec_driver_sql("SET enable_seqscan = off")
        for label, statement, params in captured:
            scans = _pg_full_scans(conn, statement, params)
            explained += 1
            if scans:
                problems.append(f"{label}: {'; '.join(scans)}\n    {statement[:200]}")
        conn.exec_driver_sql("RESET enable_seqscan")
    finally:
        s.rollback()
        s.close()
    assert explained >= 15
    assert not problems, "\n".join(problems)


# The member list's page under the members' policy (issue 15, docs/benchmarks.md): the planner's
# estimate of a page of 200 must stay under jit_above_cost, or PostgreSQL compiles the query (JIT)
# and that took 31 ms of a 33 ms execution on the large street. last_party_org at PL/pgSQL's
# default cost (100) put the estimate at ~1,000 a row; COST 1 at ~180. The estimate per row hardly
# depends on the number of members but grows with the organisations (2,000 on the large street); on
# this small street a page stays far under the threshold either way, so the declared cost is checked
# as well (33 a row at COST 100 here, 9 at COST 1).
def test_member_list_page_is_estimated_under_the_jit_threshold(pg_secure_db, owner):
    with owner.connect() as conn:
        assert conn.execute(text("SELECT procost FROM pg_proc WHERE oid = 'jiedao_sec.last_party_org(int)'::regprocedure")
                            ).scalar() == 1
    from plugins.partybuilding import services as party

    actor = pg_secure_db.actor_for("street_staff")
    s = pg_secure_db.session_for("street_staff")
    try:
        stmt = party.member_list_query(ServiceContext(s, actor)).order_by(party.Member.id).limit(200)
        compiled = stmt.compile(dialect=s.get_bind().dialect)
        conn = s.connection()
        jit_above = float(conn.exec_driver_sql("SHOW jit_above_cost").scalar())
        plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()[0]["Plan"]
        assert plan["Node Type"] == "Limit" and plan["Plan Rows"] >= 1
        per_row = plan["Total Cost"] / plan["Plan Rows"]
        assert per_row * 200 < jit_above / 2, f"a page of 200 is estimated at {per_row * 200:,.0f}: {plan}"
        assert per_row < 15, f"the member list is estimated at {per_row:.1f} a row (9 with last_party_org at COST 1)"
    finally:
        s.rollback()
        s.close()


def _child_counts(pg_secure_db, username: str, tables) -> dict[str, int]:
    s = pg_secure_db.session_for(username)
    try:
        # a table the user's roles grant no SELECT on is refused before any policy: not counted
        return {t: s.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables
                if s.execute(text("SELECT has_table_privilege(:t, 'SELECT')"), {"t": t}).scalar()}
    finally:
        s.rollback()
        s.close()


# The whole-street shortcuts (``sees_street()`` in the policies of the tables a whole-street user sees
# entirely, ``sees_street() AND link IS NOT NULL`` beside a child's EXISTS over such a parent) must
# grant exactly what the plain rules grant: every user sees the same rows with them and without them
# — the administrator (unrestricted) and the street worker (whole street: the shortcut decides), the
# community and grid users (the shortcut is false for them, the scope or the EXISTS decides).
def test_the_whole_street_shortcuts_grant_exactly_what_the_plain_rules_grant(pg_secure_db, owner):
    from shell.db.security.naming import base_role

    with owner.connect() as conn:
        plan = rls.plan(conn)
        logins = set(conn.execute(text("SELECT username FROM core_users WHERE server_role IS NOT NULL")).scalars())
    shortcut = sorted(t for t in set(plan.area) | set(plan.children)
                      if t in plan.whole or any(p in plan.whole for _c, p in plan.children.get(t, ())))
    assert {"grid_persons", "volunteer_volunteers", "partybuilding_orgs", "emergency_stock_moves"} <= plan.whole
    assert {"partybuilding_members", "volunteer_hours_ledger", "grid_event_steps"} <= set(shortcut)
    assert "partybuilding_members" not in plan.whole  # a member may have left (org_id empty)
    users = [u for u in ("admin", "street_staff", "community_staff", "grid_worker") if u in logins]
    assert len(users) >= 3, logins
    with_shortcut = {u: _child_counts(pg_secure_db, u, shortcut) for u in users}
    assert any(with_shortcut["street_staff"].values())
    assert with_shortcut["street_staff"] != with_shortcut["grid_worker"]
    try:
        with owner.begin() as conn:
            conn.execute(text(f"SET LOCAL ROLE {rls._ident(pg_secure_db.owner)}"))
            for table in shortcut:
                cond = rls.child_condition(table, plan.children[table]) if table in plan.children else (
                    rls.AREA_CONDITION_NO_FK if table in plan.area_without_fk else rls.AREA_CONDITION)
                assert "sees_street" not in cond
                conn.execute(text(f"DROP POLICY {rls.SCOPE_POLICY} ON {rls._ident(table)}"))
                conn.execute(text(rls._policy_sql(table, rls.SCOPE_POLICY, "ALL", base_role(pg_secure_db.key),
                                                  cond, cond)))
        without = {u: _child_counts(pg_secure_db, u, shortcut) for u in users}
    finally:
        with owner.begin() as conn:
            rls.install(conn, pg_secure_db.key)
    assert without == with_shortcut


# whole_street() / sees_street() ask "is the user's area the only root?" (areas form one tree), not
# "does every area's path start with the user's": the same answer, from the parent_id index. A second
# street in the same database makes the street worker's area one root of two — no longer the whole.
def test_whole_street_means_the_only_root(pg_secure_db, owner):
    def ask(username):
        s = pg_secure_db.session_for(username)
        try:
            return tuple(s.execute(text("SELECT jiedao_sec.whole_street(), jiedao_sec.sees_street()")).one())
        finally:
            s.rollback()
            s.close()

    assert ask("street_staff") == (True, True)
    assert ask("community_staff") == (False, False)
    assert ask("admin")[1] is True                      # unrestricted
    with owner.begin() as conn:
        conn.execute(text(f"SET LOCAL ROLE {rls._ident(pg_secure_db.owner)}"))
        new_id = conn.execute(text(
            "INSERT INTO core_areas (name, level, path, sort_order, created_at, updated_at, version_id) "
            "VALUES ('另一街道', 'street', '/x/', 99, now(), now(), 1) RETURNING id")).scalar()
        conn.execute(text("UPDATE core_areas SET path = :p WHERE id = :i"), {"p": f"/{new_id}/", "i": new_id})
    try:
        assert ask("street_staff") == (False, False)
        assert ask("community_staff") == (False, False)
        assert ask("admin")[1] is True
    finally:
        with owner.begin() as conn:
            conn.execute(text(f"SET LOCAL ROLE {rls._ident(pg_secure_db.owner)}"))
            conn.execute(text("DELETE FROM core_areas WHERE id = :i"), {"i": new_id})
    assert ask("street_staff") == (True, True)


# The policies' functions are PARALLEL SAFE: a PARALLEL UNSAFE function anywhere in a statement keeps
# all of it on one process (the name search scanned 200,000 residents alone under row-level security,
# with two workers without it). Safe only if they answer in a parallel worker as in the leader — the
# worker runs as the leader's session user — which the forced-parallel counts show.
POLICY_FUNCTIONS = ("uid()", "unrestricted()", "scope_ids()", "whole_street()", "sees_street()", "can(text)",
                    "last_party_org(integer)")


def test_policy_functions_are_parallel_safe_and_answer_alike_in_a_worker(pg_secure_db, owner):
    with owner.connect() as conn:
        kinds = {f: conn.execute(text(f"SELECT proparallel FROM pg_proc WHERE oid = 'jiedao_sec.{f}'::regprocedure"))
                 .scalar() for f in POLICY_FUNCTIONS}
        policies = " ".join(conn.execute(text("SELECT concat(qual, ' ', with_check) FROM pg_policies "
                                              "WHERE schemaname = 'public'")).scalars())
    assert kinds == dict.fromkeys(POLICY_FUNCTIONS, "s")
    called = set(re.findall(r"jiedao_sec\.(\w+)\(", policies))
    assert called <= {f.split("(")[0] for f in POLICY_FUNCTIONS}, called
    tables = ("grid_persons", "grid_events", "partybuilding_members", "volunteer_volunteers", "emergency_batches")
    for user in ("street_staff", "community_staff", "grid_worker"):
        s = pg_secure_db.session_for(user)
        try:
            readable = [t for t in tables
                        if s.execute(text("SELECT has_table_privilege(:t, 'SELECT')"), {"t": t}).scalar()]
            serial = {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in readable}
            for setting in ("force_parallel_mode = on", "parallel_setup_cost = 0", "parallel_tuple_cost = 0",
                            "min_parallel_table_scan_size = 0"):
                s.execute(text(f"SET LOCAL {setting}"))
            plan = "\n".join(s.execute(text("EXPLAIN SELECT count(*) FROM grid_persons")).scalars())
            assert "Gather" in plan, plan
            parallel = {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in readable}
        finally:
            s.rollback()
            s.close()
        assert parallel == serial, user
    assert serial["grid_persons"] > 0
