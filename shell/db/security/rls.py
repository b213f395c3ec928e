"""Row-level security on a secured PostgreSQL database (issue 15 item 3): the server's second wall
behind the program's own scope checks.

``install(conn, key)`` (run by the owner inside ``secure_database`` / ``refresh``; idempotent):

- every table with an ``area_id`` column is scoped by the user's area subtree:
  ``(SELECT jiedao_sec.unrestricted()) OR (SELECT jiedao_sec.whole_street()) AND area_id IS NOT NULL
  OR area_id = ANY ((SELECT jiedao_sec.scope_ids())::int[])`` — nothing per row for a user whose
  scope is the whole street (see ``IN_SCOPE``); where area_id is NOT NULL, ``(SELECT
  jiedao_sec.sees_street()) OR area_id = ANY (…)`` (``Plan.whole``) — for reading (USING) and
  writing (WITH CHECK: nobody inserts or moves a record out of their scope);
- every table that hangs off such a row (an event's steps, a household's members, a volunteer's
  ledgers, a warehouse's stock moves, an organisation's Party members …) is scoped through its
  parent: ``EXISTS (SELECT 1 FROM parent p WHERE p.id = child.fk)`` — the parent's own policy
  applies inside the sub-select, so a chain (attendance → meeting → organisation → area) needs no
  join written out. The parent is derived from the foreign keys in the database's own catalogue;
  ``PARENTS`` names it where several foreign keys lead to policed tables (then any of them grants
  the row);
- the core tables: ``core_users`` — a user reads their own row and the users of their scope (the
  program lists them as assignees), writes need ``core.user.manage`` and stay in scope (a scoped
  administrator creates no superuser); ``core_roles``, ``core_role_permissions`` and ``core_settings``
  are read by every user (their grants decide who) and written only with ``core.user.manage`` /
  ``core.settings.manage``; ``core_user_roles`` — a user reads their own, ``core.user.manage`` holders
  read and write those of the users they see;
- ``STREET_WIDE`` lists the tables that stay without policy, each with the reason.

The identity functions (``jiedao_sec.uid/unrestricted/whole_street/scope_ids/can``, PL/pgSQL, see
``roles.py``) are wrapped in sub-selects so they run once per statement as init plans, and the
policies are filters on the rows the query's own conditions find through their indexes
(``tests/security/test_rls.py`` checks the plans on a secured database). A child's policy names its
parent's columns qualified: inside the sub-select an unqualified ``id`` is the parent's.

Policies are for the base group ``<key>.users`` (every login role is a member); the owner gets a
policy of its own that sees everything, so ``FORCE ROW LEVEL SECURITY`` keeps the owner's migrations,
backups and the ``SECURITY DEFINER`` functions (which run as the owner) working, while any other role
— the shared role of an unsecured server, say — sees nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from shell.db.security.naming import base_role, owner_role

SCOPE_POLICY = "jiedao_scope"
OWNER_POLICY = "jiedao_owner"
READ_POLICY = "jiedao_read"
WRITE_POLICIES = ("jiedao_insert", "jiedao_update", "jiedao_delete")
ALL_POLICIES = (SCOPE_POLICY, OWNER_POLICY, READ_POLICY) + WRITE_POLICIES

UNRESTRICTED = "(SELECT jiedao_sec.unrestricted())"
# A user whose scope is the whole street (no area outside their own area's subtree) sees every row
# with an area: exact where area_id references core_areas, and no per-row look-up — ``= ANY (array)``
# compares a row with every id of the scope, 421 of them on the large street for every row a search
# scans. Any other scope is one community's subtree or less (a few dozen ids), and is only computed
# when the whole-street test fails (init plans run when first needed). The cast makes PostgreSQL
# read the sub-select as one array, not as ``ANY (subquery)``.
IN_SCOPE_SET = "area_id = ANY ((SELECT jiedao_sec.scope_ids())::int[])"
IN_SCOPE = f"((SELECT jiedao_sec.whole_street()) AND area_id IS NOT NULL OR {IN_SCOPE_SET})"

# Tables without policy, and why. Their table privileges (core_table_access) decide who reads them.
STREET_WIDE: dict[str, str] = {
    "core_areas": "the jurisdiction tree: every user needs the whole tree to show paths and choose areas",
    "core_audit_log": "written only by the server's triggers; read with core.audit.view for the whole street",
    "core_chain_heads": "the hash-chain heads, written by the server with the chained rows; no personal data",
    "core_holidays": "the street's holiday calendar, the same for every area",
    "core_security": "one row describing the secured database (street key, owner role)",
    "core_table_access": "the table-access declarations the grants are computed from",
    "alembic_version": "the migration heads, read by every desktop to check the schema",
    "grid_event_categories": "the street's catalogue of event categories",
    "grid_departments": "the street's directory of departments and units events are dispatched to (派遣对象); "
                        "names, contacts and office phones, no residents' data",
    "emergency_items": "the street's catalogue of relief items (stock is scoped by warehouse)",
    "partybuilding_counters": "number sequences for Party documents, shared by the street",
    "partybuilding_meeting_rules": "the street's rules for 三会一课 frequencies",
    "volunteer_counters": "number sequences for volunteer numbers and certificates, shared by the street",
}

# Child tables with several foreign keys to policed tables: the ones that scope the row (any of
# them grants it). The other children's parent is derived from their single such foreign key.
PARENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "emergency_batches": (("warehouse_id", "emergency_warehouses"),),
    "emergency_drill_scores": (("drill_id", "emergency_drills"),),
    "emergency_stock_moves": (("warehouse_id", "emergency_warehouses"),),
    "emergency_stocktake_lines": (("stocktake_id", "emergency_stocktakes"),),
    # a volunteer may attend an activity or join a team of another area: the activity's or team's
    # side and the volunteer's side both see the row
    "volunteer_attendances": (("activity_id", "volunteer_activities"), ("volunteer_id", "volunteer_volunteers")),
    "volunteer_team_members": (("team_id", "volunteer_teams"), ("volunteer_id", "volunteer_volunteers")),
    "volunteer_hours_ledger": (("volunteer_id", "volunteer_volunteers"),),
    "volunteer_points_ledger": (("volunteer_id", "volunteer_volunteers"),),
    "volunteer_redemption_lines": (("order_id", "volunteer_redemptions"),),
    "volunteer_stock_moves": (("item_id", "volunteer_reward_items"),),
    "partybuilding_attendance": (("meeting_id", "partybuilding_meetings"),),
    # a member who left (org_id empty) belongs to the organisation of their last membership, as the
    # program's _member_in_scope says; looked up by an owner's function, since the memberships'
    # own policy refers back to the members (a policy may not recurse)
    "partybuilding_members": (("coalesce(partybuilding_members.org_id, "
                               "jiedao_sec.last_party_org(partybuilding_members.id))", "partybuilding_orgs"),),
    "partybuilding_memberships": (("member_id", "partybuilding_members"), ("org_id", "partybuilding_orgs")),
    # a transfer is seen by the member's organisation and by both ends
    "partybuilding_transfers": (("member_id", "partybuilding_members"), ("from_org_id", "partybuilding_orgs"),
                                ("to_org_id", "partybuilding_orgs")),
}

# The core tables with policies of their own (below), not the area rule.
CORE_POLICED = ("core_users", "core_user_roles", "core_roles", "core_role_permissions", "core_settings")
# Foreign keys that never scope a row: who created or handled it.
NOT_A_PARENT = ("core_users", "core_roles", "core_areas")


@dataclass(frozen=True)
class Plan:
    """What ``install`` does: the area tables, the child tables with their parents, the rest."""

    area: tuple[str, ...]
    children: dict[str, tuple[tuple[str, str], ...]]
    core: tuple[str, ...]
    unpoliced: tuple[str, ...]
    area_without_fk: tuple[str, ...] = ()  # area tables whose area_id has no foreign key to core_areas
    # Tables of which a user whose scope is the whole street sees every row (see ``whole_tables``).
    whole: frozenset[str] = frozenset()

    @property
    def policed(self) -> set[str]:
        return set(self.area) | set(self.children) | set(self.core)


def _catalogue(conn) -> tuple[set[str], set[str], list[tuple[str, str, str]], set[tuple[str, str]]]:
    """(tables in schema public, those with an area_id column, single-column foreign keys as
    (table, column, referenced table), the (table, column) pairs declared NOT NULL)."""
    tables = set(conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")).scalars())
    with_area = set(conn.execute(text(
        "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
        "AND a.attname = 'area_id' AND NOT a.attisdropped")).scalars())
    fks = [tuple(r) for r in conn.execute(text(
        "SELECT c.relname, a.attname, r.relname FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_class r ON r.oid = k.confrelid "
        "JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
        "WHERE k.contype = 'f' AND k.convalidated AND n.nspname = 'public' AND array_length(k.conkey, 1) = 1"))]
    not_null = {tuple(r) for r in conn.execute(text(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
        "AND a.attnum > 0 AND a.attnotnull AND NOT a.attisdropped"))}
    return tables, with_area, fks, not_null


def plan(conn) -> Plan:
    """Which tables get which policy, from the database's catalogue. Raises ``RuntimeError`` for a
    table with several foreign keys to policed tables that ``PARENTS`` does not settle."""
    tables, with_area, fks, not_null = _catalogue(conn)
    core = tuple(t for t in CORE_POLICED if t in tables)
    area = tuple(sorted(with_area - set(core)))
    children: dict[str, tuple[tuple[str, str], ...]] = {}
    policed = set(area)
    ambiguous: dict[str, list[tuple[str, str]]] = {}
    changed = True
    while changed:  # a child of a child (attendance → meeting → organisation) needs its parent first
        changed = False
        for table in sorted(tables - policed - set(core) - set(STREET_WIDE)):
            if table in PARENTS:
                given = tuple(link for link in PARENTS[table] if link[1] in tables)
                if given and all(p in policed for _c, p in given):
                    children[table] = given
                    policed.add(table)
                    changed = True
                continue
            links = sorted({(c, p) for t, c, p in fks
                            if t == table and p != table and p in policed and p not in NOT_A_PARENT})
            if len({p for _c, p in links}) == 1 and len(links) == 1:
                children[table] = tuple(links)
                policed.add(table)
                changed = True
                ambiguous.pop(table, None)
            elif links:
                ambiguous[table] = links
    still = {t: v for t, v in ambiguous.items() if t not in policed}
    if still:
        raise RuntimeError("以下数据表有多个可作为管辖范围依据的外键，请在 shell/db/security/rls.py 的 PARENTS 中指定："
                           + "；".join(f"{t}（{', '.join(f'{c}→{p}' for c, p in v)}）" for t, v in sorted(still.items())))
    unpoliced = tuple(sorted(tables - policed - set(core)))
    with_fk = {t for t, c, p in fks if c == "area_id" and p == "core_areas"}
    return Plan(area=area, children=children, core=core, unpoliced=unpoliced,
                area_without_fk=tuple(t for t in area if t not in with_fk),
                whole=whole_tables(area, children, with_fk, fks, not_null))


def whole_tables(area, children, with_fk, fks, not_null) -> frozenset[str]:
    """The policed tables of which a whole-street user sees every row: an area table whose
    ``area_id`` is NOT NULL and references core_areas (its rule ``whole_street() AND area_id IS NOT
    NULL`` holds for each row), and a child with a NOT NULL foreign key (a validated constraint) to
    such a table — every row has a parent, and the user sees every parent."""
    fk_pairs = {(t, c, p) for t, c, p in fks}
    whole = {t for t in area if t in with_fk and (t, "area_id") in not_null}
    changed = True
    while changed:
        changed = False
        for table, links in children.items():
            if table not in whole and any(parent in whole and (table, column) in not_null
                                          and (table, column, parent) in fk_pairs for column, parent in links):
                whole.add(table)
                changed = True
    return frozenset(whole)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Functions the policies above call (owner's, SECURITY DEFINER: they read past the policies).
# last_party_org is declared cheap (COST 1, PL/pgSQL's default is 100): the members' policy calls it
# only for a member who left (coalesce evaluates it when org_id is empty, 4 of the large street's
# first 204 members), but the planner charges it for every row, and in the policy's per-row
# sub-select at that: the member list's page of 200 was estimated at 211,000, over jit_above_cost
# (100,000), and PostgreSQL compiled the query (JIT, 31 ms of a 33 ms execution on the large street,
# in no plan node). At COST 1 the page is estimated at 35,000 and runs without JIT (docs/benchmarks.md).
FUNCTIONS = {
    "partybuilding_memberships": """CREATE OR REPLACE FUNCTION jiedao_sec.last_party_org(member_id int) RETURNS int
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER COST 1 SET search_path = pg_catalog, public AS $$
BEGIN
    RETURN (SELECT m.org_id FROM partybuilding_memberships m WHERE m.member_id = $1
            ORDER BY m.start_on DESC, m.id DESC LIMIT 1);
END $$""",
}
FUNCTION_NAMES = {"partybuilding_memberships": "jiedao_sec.last_party_org(int)"}


def _column(table: str, column: str) -> str:
    return column if "(" in column else f"{_ident(table)}.{_ident(column)}"


SEES_STREET = "(SELECT jiedao_sec.sees_street())"


def child_condition(table: str, links: tuple[tuple[str, str], ...], whole: frozenset[str] = frozenset()) -> str:
    """A child row is seen when its parent is (EXISTS over the parent, whose own policy applies inside).

    Where the parent is a table a whole-street user sees entirely (``Plan.whole``), such a user needs
    no look-up of the parent: a row whose link is set has a parent (the foreign key), so
    ``sees_street() AND link IS NOT NULL`` says the same as the EXISTS, without the per-row sub-plan
    over the parent and the parent's policy inside it — the member list's page of 200 spent most of
    its secured extra there. A child that is itself in ``whole`` (its link is NOT NULL) needs not even
    the IS NOT NULL: ``sees_street()`` alone, one init plan, nothing per row (docs/benchmarks.md)."""
    exists = [f"EXISTS (SELECT 1 FROM {_ident(parent)} p WHERE p.id = {_column(table, column)})"
              for column, parent in links]
    if table in whole:
        return f"{SEES_STREET} OR " + " OR ".join(exists)
    shortcuts = [f"{SEES_STREET} AND {_column(table, column)} IS NOT NULL" for column, parent in links if parent in whole]
    return f"{UNRESTRICTED} OR " + " OR ".join(shortcuts + exists)


AREA_CONDITION = f"{UNRESTRICTED} OR {IN_SCOPE}"
# a table whose area_id does not reference core_areas: a dangling id is in nobody's scope
AREA_CONDITION_NO_FK = f"{UNRESTRICTED} OR {IN_SCOPE_SET}"
# an area table whose every row a whole-street user sees (area_id NOT NULL, references core_areas)
AREA_CONDITION_WHOLE = f"{SEES_STREET} OR {IN_SCOPE_SET}"
CAN = "(SELECT jiedao_sec.can('{code}'))"


def core_policies(table: str) -> list[tuple[str, str, str | None, str | None]]:
    """(policy, command, USING, WITH CHECK) of a core table."""
    manage_users = CAN.format(code="core.user.manage")
    if table == "core_users":
        seen = f"id = (SELECT jiedao_sec.uid()) OR {UNRESTRICTED} OR {IN_SCOPE}"
        managed = f"{manage_users} AND ({UNRESTRICTED} OR {IN_SCOPE})"
        # a scoped administrator neither creates a superuser nor makes one
        kept = f"{manage_users} AND ({UNRESTRICTED} OR (NOT is_superuser AND {IN_SCOPE}))"
        return [(READ_POLICY, "SELECT", seen, None), ("jiedao_insert", "INSERT", None, kept),
                ("jiedao_update", "UPDATE", managed, kept), ("jiedao_delete", "DELETE", managed, None)]
    if table == "core_user_roles":
        theirs = f"{manage_users} AND EXISTS (SELECT 1 FROM core_users u WHERE u.id = core_user_roles.user_id)"
        seen = f"user_id = (SELECT jiedao_sec.uid()) OR {UNRESTRICTED} OR ({theirs})"
        # As the program (auth._require_grantable): nobody hands out a role holding a permission
        # they do not hold themselves — else a scoped administrator could make anyone (themselves
        # included) a street-wide one with psql.
        grantable = (f"{theirs} AND ({UNRESTRICTED} OR NOT EXISTS (SELECT 1 FROM core_role_permissions rp "
                     "WHERE rp.role_id = core_user_roles.role_id AND NOT jiedao_sec.can(rp.code)))")
        return [(READ_POLICY, "SELECT", seen, None), ("jiedao_insert", "INSERT", None, grantable),
                ("jiedao_update", "UPDATE", theirs, grantable), ("jiedao_delete", "DELETE", theirs, None)]
    if table == "core_role_permissions":
        # As auth.save_role: a role gains only permissions its editor holds.
        given = f"{manage_users} AND ({UNRESTRICTED} OR jiedao_sec.can(code))"
        return [(READ_POLICY, "SELECT", "true", None), ("jiedao_insert", "INSERT", None, given),
                ("jiedao_update", "UPDATE", manage_users, given), ("jiedao_delete", "DELETE", manage_users, None)]
    code = "core.settings.manage" if table == "core_settings" else "core.user.manage"
    allowed = CAN.format(code=code)
    return [(READ_POLICY, "SELECT", "true", None), ("jiedao_insert", "INSERT", None, allowed),
            ("jiedao_update", "UPDATE", allowed, allowed), ("jiedao_delete", "DELETE", allowed, None)]


def _policy_sql(table: str, name: str, command: str, role: str, using: str | None, check: str | None) -> str:
    sql = f"CREATE POLICY {name} ON {_ident(table)} AS PERMISSIVE FOR {command} TO {_ident(role)}"
    if using is not None:
        sql += f" USING ({using})"
    if check is not None:
        sql += f" WITH CHECK ({check})"
    return sql


def statements(conn, key: str) -> list[str]:
    """The SQL ``install`` runs, in order."""
    p = plan(conn)
    users, owner = base_role(key), owner_role(key)
    out: list[str] = []
    tables = set(p.area) | set(p.children) | set(p.core) | set(p.unpoliced)
    for table, function in FUNCTIONS.items():
        if table in tables:
            out.append(function)
            out.append(f"REVOKE ALL ON FUNCTION {FUNCTION_NAMES[table]} FROM PUBLIC")
            out.append(f"GRANT EXECUTE ON FUNCTION {FUNCTION_NAMES[table]} TO {_ident(users)}")
    # a table that lost its policy (area column dropped, say) keeps none of ours
    for table in p.unpoliced:
        for name in ALL_POLICIES:
            out.append(f"DROP POLICY IF EXISTS {name} ON {_ident(table)}")
    for table in list(p.area) + list(p.children) + list(p.core):
        out.append(f"ALTER TABLE {_ident(table)} ENABLE ROW LEVEL SECURITY")
        out.append(f"ALTER TABLE {_ident(table)} FORCE ROW LEVEL SECURITY")
        for name in ALL_POLICIES:
            out.append(f"DROP POLICY IF EXISTS {name} ON {_ident(table)}")
        out.append(_policy_sql(table, OWNER_POLICY, "ALL", owner, "true", "true"))
        if table in p.core:
            for name, command, using, check in core_policies(table):
                out.append(_policy_sql(table, name, command, users, using, check))
        else:
            if table in p.area:
                cond = (AREA_CONDITION_WHOLE if table in p.whole else
                        AREA_CONDITION_NO_FK if table in p.area_without_fk else AREA_CONDITION)
            else:
                cond = child_condition(table, p.children[table], p.whole)
            out.append(_policy_sql(table, SCOPE_POLICY, "ALL", users, cond, cond))
    return out


def install(conn, key: str) -> Plan:
    """Enable, force and (re)create the policies on every policed table; idempotent. ``conn`` is the
    owner's connection inside the securing transaction."""
    from shell.db.security import balances
    from shell.db.security.naming import owner_role, quote_ident

    # Created as the owner, whoever secures (a superuser in CI and `db init`): its functions
    # (last_party_org, the balance checks) must be the owner's, or the owner itself may not call them.
    me = conn.execute(text("SELECT current_user")).scalar()
    if me != owner_role(key):
        conn.execute(text(f"SET LOCAL ROLE {quote_ident(owner_role(key))}"))
    # Custom plans for every session of a secured street (from its next connection). The policies add
    # sub-selects to a statement's range table, and PostgreSQL's plan cache counts them as planning
    # cost it can save: after five executions of a prepared statement (psycopg prepares from the
    # fifth) it takes the generic plan where the unsecured street keeps re-planning. For the
    # community page (area_id IN areas whose path LIKE $1 || '%') that plan sorts the community's
    # every resident to show 50: 7.4 ms of server time instead of 1.6 on the medium street,
    # growing with the street. Planning every time costs the cards ~1 ms more (docs/benchmarks.md).
    # As the owner: it owns the database (whoever secures has just handed it over).
    conn.execute(text(f"ALTER DATABASE {quote_ident(conn.execute(text('SELECT current_database()')).scalar())} "
                      "SET plan_cache_mode = force_custom_plan"))
    for sql in statements(conn, key):
        conn.execute(text(sql))
    balances.install(conn, key)  # stored balances that must equal their ledgers (see balances.py)
    result = plan(conn)
    if me != owner_role(key):
        conn.execute(text("RESET ROLE"))
    return result
