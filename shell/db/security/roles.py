"""Roles and grants of a secured server database (issue 15 items 1, 2, 5).

``install(conn, key, pm)`` (run by the owner, or a superuser who has already made the owner own the
schema — see ``shell.db.security.secure_database``) creates, idempotently:
- schema ``jiedao_sec`` with the identity functions ``uid()``, ``unrestricted()``, ``scope_ids()``,
  ``can(code)`` (STABLE SECURITY DEFINER; identity is ``session_user``, which a user cannot change)
  and the administration functions ``create_login``, ``set_password``, ``set_login``, ``sync_user``,
  ``sync_role``, ``drop_login``, ``password_changed`` (VOLATILE SECURITY DEFINER: they run as the
  owner, who has CREATEROLE, but first check ``can('core.user.manage')`` and the target's scope);
- the base role ``<key>.users``, one group role per Jiedao role and ``<key>.super`` (the Jiedao
  superusers': every declared privilege), with the table privileges computed from
  core_table_access (written here from the ``register_table_access`` declarations);
- a trigger on core_users so only the administration functions set ``server_role`` and only a
  superuser makes another user a superuser;
- memberships of every existing login role.

The functions create and grant nothing but ``<key>.users``, ``<key>.super`` and ``<key>.r.*`` to
nothing but ``<key>.u.*`` — never the owner: an administrator cannot grant themselves more.
"""
from __future__ import annotations

from sqlalchemy import Connection, text

from shell.core.access import HIDDEN_COLUMNS, collect_table_access
from shell.db.security import naming

SCHEMA = "jiedao_sec"
# Callable by every login role (members of <key>.users); the administration ones check inside.
PUBLIC_FUNCTIONS = (
    "uid()", "unrestricted()", "scope_ids()", "whole_street()", "sees_street()", "can(text)", "privileged()",
    "create_login(integer, text)", "set_password(integer, text)", "set_login(integer, boolean)",
    "sync_user(integer)", "sync_role(integer)", "drop_login(integer)", "password_changed()",
)
LEVELS = {"read": 1, "append": 2, "write": 3}


def super_role(key: str) -> str:
    return f"{key}.super"


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def run_script(conn: Connection, sql: str) -> None:
    """Run several SQL statements as they are (no parameter parsing: PL/pgSQL uses "%")."""
    # The connection is open (so dbapi_connection is set) and psycopg's cursor is a context manager.
    with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(sql)


def write_table_access(conn: Connection, pm) -> int:
    """Replace core_table_access with the declarations of core and every plugin in ``pm``."""
    rows = {r for t in collect_table_access(pm) for r in t.rows()}
    conn.execute(text("DELETE FROM core_table_access"))
    if rows:
        conn.execute(text("INSERT INTO core_table_access (table_name, code, privilege) VALUES (:t, :c, :p)"),
                     [{"t": t, "c": c, "p": p} for t, c, p in sorted(rows)])
    return len(rows)


def _functions_sql(key: str) -> str:
    owner = _lit(naming.owner_role(key))
    base = _lit(naming.base_role(key))
    sup = _lit(super_role(key))
    gprefix = _lit(naming.group_prefix(key))
    lprefix = _lit(naming.login_prefix(key))
    hidden = "ARRAY[" + ", ".join(_lit(c) for c in HIDDEN_COLUMNS["core_users"]) + "]::text[]"
    definer = "SECURITY DEFINER SET search_path = pg_catalog, public"
    return f"""
-- The identity functions run in every policy, several times a statement: PL/pgSQL keeps their plans
-- for the session, where an SQL function (not inlinable: SECURITY DEFINER) is planned at every call.
-- PARALLEL SAFE (they only read, and a parallel worker runs as the leader's session user): a function
-- left at the default, PARALLEL UNSAFE, keeps the whole statement on one process, so the name search's
-- scan of 200,000 residents ran alone under row-level security while the unsecured one had workers.
CREATE OR REPLACE FUNCTION jiedao_sec.uid() RETURNS integer LANGUAGE plpgsql STABLE PARALLEL SAFE {definer} AS $$
BEGIN
  RETURN (SELECT id FROM public.core_users WHERE server_role = session_user AND is_active);
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec.unrestricted() RETURNS boolean LANGUAGE plpgsql STABLE PARALLEL SAFE {definer} AS $$
BEGIN
  RETURN coalesce((SELECT is_superuser FROM public.core_users
                   WHERE server_role = session_user AND is_active), false);
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec.scope_ids() RETURNS integer[] LANGUAGE plpgsql STABLE PARALLEL SAFE {definer} AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(a.id ORDER BY a.id), '{{}}'::integer[])
          FROM public.core_users u
          JOIN public.core_areas ua ON ua.id = u.area_id
          JOIN public.core_areas a ON left(a.path, length(ua.path)) = ua.path
          WHERE u.server_role = session_user AND u.is_active);
END $$;

-- The user's scope is the whole street: no area lies outside their own area's subtree. Areas form one
-- tree (a path is its parent's path and its own id), so that holds exactly when the user's area is the
-- only root — two look-ups in the parent_id index instead of a comparison of every area's path (the
-- policies call this once per table a statement reads: 0.19 → 0.03 ms a call on the large street).
CREATE OR REPLACE FUNCTION jiedao_sec.whole_street() RETURNS boolean LANGUAGE plpgsql STABLE PARALLEL SAFE {definer} AS $$
BEGIN
  RETURN coalesce((SELECT ua.parent_id IS NULL
                          AND NOT EXISTS (SELECT 1 FROM public.core_areas a WHERE a.parent_id IS NULL AND a.id <> ua.id)
                   FROM public.core_users u JOIN public.core_areas ua ON ua.id = u.area_id
                   WHERE u.server_role = session_user AND u.is_active), false);
END $$;

-- unrestricted() OR whole_street() in one call: the policies of the tables a whole-street user sees
-- entirely (rls.Plan.whole) test it once per statement and, when it holds, nothing per row after it.
CREATE OR REPLACE FUNCTION jiedao_sec.sees_street() RETURNS boolean LANGUAGE plpgsql STABLE PARALLEL SAFE {definer} AS $$
BEGIN
  RETURN coalesce((SELECT u.is_superuser OR ua.parent_id IS NULL AND ua.id IS NOT NULL AND NOT EXISTS (
                       SELECT 1 FROM public.core_areas a WHERE a.parent_id IS NULL AND a.id <> ua.id)
                   FROM public.core_users u LEFT JOIN public.core_areas ua ON ua.id = u.area_id
                   WHERE u.server_role = session_user AND u.is_active), false);
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec.can(code text) RETURNS boolean LANGUAGE plpgsql STABLE PARALLEL SAFE {definer} AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM public.core_users u
    WHERE u.server_role = session_user AND u.is_active
      AND (u.is_superuser OR EXISTS (
            SELECT 1 FROM public.core_user_roles ur
            JOIN public.core_role_permissions rp ON rp.role_id = ur.role_id
            WHERE ur.user_id = u.id AND rp.code = $1)));
END $$;

-- The owner or a PostgreSQL superuser at the keyboard (jiedao db …, jiedao user … with their URL), or
-- the database's old owner while jiedao db secure runs (a member of the owner until it ends).
CREATE OR REPLACE FUNCTION jiedao_sec.privileged() RETURNS boolean LANGUAGE sql STABLE {definer} AS $$
  SELECT pg_catalog.pg_has_role(session_user, {owner}, 'MEMBER')
$$;

CREATE OR REPLACE FUNCTION jiedao_sec._require_admin() RETURNS void LANGUAGE plpgsql STABLE {definer} AS $$
BEGIN
  IF NOT (jiedao_sec.privileged() OR jiedao_sec.can('core.user.manage')) THEN
    RAISE EXCEPTION '您没有“管理用户与角色”权限（core.user.manage），服务器拒绝了这项用户管理操作。'
      USING ERRCODE = '42501';
  END IF;
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec._managed(p_user integer) RETURNS public.core_users
LANGUAGE plpgsql STABLE {definer} AS $$
DECLARE u public.core_users;
BEGIN
  PERFORM jiedao_sec._require_admin();
  SELECT * INTO u FROM public.core_users WHERE id = p_user;
  IF NOT FOUND THEN
    RAISE EXCEPTION '用户 % 不存在。', p_user USING ERRCODE = 'P0002';
  END IF;
  IF NOT (jiedao_sec.privileged() OR jiedao_sec.unrestricted()) THEN
    IF u.is_superuser OR u.area_id IS NULL OR NOT (u.area_id = ANY (jiedao_sec.scope_ids())) THEN
      RAISE EXCEPTION '用户“%”不在您的管辖范围内（或是超级管理员），服务器拒绝了这项用户管理操作。', u.username
        USING ERRCODE = '42501';
    END IF;
  END IF;
  RETURN u;
END $$;

-- Table privileges of one group role: everything revoked, then each declared table at the highest
-- level its codes reach. core_users: never the hidden columns.
CREATE OR REPLACE FUNCTION jiedao_sec._grant_codes(p_role text, p_codes text[], p_all boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql VOLATILE {definer} AS $$
DECLARE t record; cols text; s record; privs text;
BEGIN
  FOR t IN SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') LOOP
    EXECUTE format('REVOKE ALL ON public.%I FROM %I', t.relname, p_role);
  END LOOP;
  FOR t IN SELECT a.table_name,
                  max(CASE a.privilege WHEN 'write' THEN 3 WHEN 'append' THEN 2 ELSE 1 END) AS lvl
           FROM public.core_table_access a
           WHERE (p_all OR a.code = ANY (p_codes))
             AND to_regclass('public.' || quote_ident(a.table_name)) IS NOT NULL
           GROUP BY a.table_name LOOP
    IF t.table_name = 'core_users' THEN
      SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_catalog.pg_attribute
      WHERE attrelid = 'public.core_users'::regclass AND attnum > 0 AND NOT attisdropped
        AND NOT (attname = ANY ({hidden}));
      EXECUTE format('GRANT SELECT (%s) ON public.core_users TO %I', cols, p_role);
      IF t.lvl >= 2 THEN  -- a new user row: its hidden columns get their initial values
        EXECUTE format('GRANT INSERT ON public.core_users TO %I', p_role);
      END IF;
      IF t.lvl = 3 THEN
        EXECUTE format('GRANT UPDATE (%s), DELETE ON public.core_users TO %I', cols, p_role);
      END IF;
    ELSE
      privs := CASE t.lvl WHEN 1 THEN 'SELECT' WHEN 2 THEN 'SELECT, INSERT' ELSE 'SELECT, INSERT, UPDATE, DELETE' END;
      EXECUTE format('GRANT %s ON public.%I TO %I', privs, t.table_name, p_role);
    END IF;
    IF t.lvl >= 2 THEN
      FOR s IN SELECT sq.relname FROM pg_catalog.pg_depend d
               JOIN pg_catalog.pg_class sq ON sq.oid = d.objid AND sq.relkind = 'S'
               WHERE d.refobjid = ('public.' || quote_ident(t.table_name))::regclass
                 AND d.classid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i') LOOP
        EXECUTE format('GRANT USAGE ON SEQUENCE public.%I TO %I', s.relname, p_role);
      END LOOP;
    END IF;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec._sync_role(p_role integer) RETURNS text LANGUAGE plpgsql VOLATILE {definer} AS $$
DECLARE r record; g text;
BEGIN
  SELECT id, name INTO r FROM public.core_roles WHERE id = p_role;
  IF NOT FOUND THEN
    RAISE EXCEPTION '角色 % 不存在。', p_role USING ERRCODE = 'P0002';
  END IF;
  g := {gprefix} || r.name;
  IF octet_length(g) > 63 THEN
    RAISE EXCEPTION '角色“%”的服务器角色名“%”超过 63 字节，请用更短的角色名。', r.name, g USING ERRCODE = '22023';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = g) THEN
    EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', g);
  END IF;
  PERFORM jiedao_sec._grant_codes(g, ARRAY(SELECT code FROM public.core_role_permissions WHERE role_id = r.id));
  RETURN g;
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec._sync_user(u public.core_users) RETURNS void LANGUAGE plpgsql VOLATILE {definer} AS $$
DECLARE want text[]; m text;
BEGIN
  IF u.server_role IS NULL THEN
    RETURN;
  END IF;
  IF left(u.server_role, length({lprefix})) <> {lprefix} THEN
    RAISE EXCEPTION '“%”不是本街道的用户角色（应以 % 开头），服务器拒绝授权。', u.server_role, {lprefix}
      USING ERRCODE = '42501';
  END IF;
  want := ARRAY[{base}];
  IF u.is_superuser THEN
    want := want || {sup}::text;
  END IF;
  want := want || ARRAY(SELECT {gprefix} || r.name FROM public.core_user_roles ur
                        JOIN public.core_roles r ON r.id = ur.role_id WHERE ur.user_id = u.id);
  FOREACH m IN ARRAY want LOOP
    IF left(m, length({gprefix})) = {gprefix} AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = m) THEN
      PERFORM jiedao_sec._sync_role((SELECT id FROM public.core_roles WHERE {gprefix} || name = m));
    END IF;
  END LOOP;
  FOR m IN SELECT b.rolname FROM pg_catalog.pg_auth_members am
           JOIN pg_catalog.pg_roles r ON r.oid = am.member JOIN pg_catalog.pg_roles b ON b.oid = am.roleid
           WHERE r.rolname = u.server_role LOOP
    IF NOT (m = ANY (want)) THEN
      EXECUTE format('REVOKE %I FROM %I', m, u.server_role);
    END IF;
  END LOOP;
  FOREACH m IN ARRAY want LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members am
                   JOIN pg_catalog.pg_roles r ON r.oid = am.member JOIN pg_catalog.pg_roles b ON b.oid = am.roleid
                   WHERE r.rolname = u.server_role AND b.rolname = m) THEN
      EXECUTE format('GRANT %I TO %I', m, u.server_role);
    END IF;
  END LOOP;
  EXECUTE format('ALTER ROLE %I %s', u.server_role, CASE WHEN u.is_active THEN 'LOGIN' ELSE 'NOLOGIN' END);
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec._check_verifier(p_verifier text) RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_verifier IS NULL OR p_verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
    RAISE EXCEPTION '密码须以 SCRAM-SHA-256 校验值交给服务器（明文密码不得出现在服务器上）。' USING ERRCODE = '22023';
  END IF;
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec.create_login(p_user integer, p_verifier text) RETURNS text
LANGUAGE plpgsql VOLATILE {definer} AS $$
DECLARE u public.core_users; name text;
BEGIN
  u := jiedao_sec._managed(p_user);
  PERFORM jiedao_sec._check_verifier(p_verifier);
  name := {lprefix} || u.username;
  IF octet_length(name) > 63 THEN
    RAISE EXCEPTION '用户“%”的服务器角色名“%”超过 63 字节，请用更短的用户名。', u.username, name USING ERRCODE = '22023';
  END IF;
  IF u.server_role IS NOT NULL AND u.server_role <> name AND left(u.server_role, length({lprefix})) = {lprefix}
     AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = u.server_role)
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = name) THEN
    EXECUTE format('ALTER ROLE %I RENAME TO %I', u.server_role, name);
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = name) THEN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = name
               AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)) THEN
      RAISE EXCEPTION '服务器上已有一个带特殊权限的角色“%”，不能把它用作用户的登录角色。', name USING ERRCODE = '42501';
    END IF;
    EXECUTE format('ALTER ROLE %I WITH LOGIN INHERIT PASSWORD %L', name, p_verifier);
  ELSE
    EXECUTE format('CREATE ROLE %I WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
                   'NOBYPASSRLS PASSWORD %L', name, p_verifier);
  END IF;
  UPDATE public.core_users SET server_role = name WHERE id = u.id;
  u.server_role := name;
  PERFORM jiedao_sec._sync_user(u);
  RETURN name;
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec._login_of(u public.core_users) RETURNS text LANGUAGE plpgsql STABLE {definer} AS $$
BEGIN
  IF u.server_role IS NULL OR left(u.server_role, length({lprefix})) <> {lprefix}
     OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = u.server_role) THEN
    RAISE EXCEPTION '用户“%”还没有服务器登录角色。', u.username USING ERRCODE = 'P0002';
  END IF;
  RETURN u.server_role;
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec.set_password(p_user integer, p_verifier text) RETURNS void
LANGUAGE plpgsql VOLATILE {definer} AS $$
DECLARE u public.core_users;
BEGIN
  u := jiedao_sec._managed(p_user);
  PERFORM jiedao_sec._check_verifier(p_verifier);
  EXECUTE format('ALTER ROLE %I PASSWORD %L', jiedao_sec._login_of(u), p_verifier);
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec.set_login(p_user integer, p_enabled boolean) RETURNS void
LANGUAGE plpgsql VOLATILE {definer} AS $$
DECLARE u public.core_users;
BEGIN
  u := jiedao_sec._managed(p_user);
  EXECUTE format('ALTER ROLE %I %s', jiedao_sec._login_of(u), CASE WHEN p_enabled THEN 'LOGIN' ELSE 'NOLOGIN' END);
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec.sync_user(p_user integer) RETURNS void LANGUAGE plpgsql VOLATILE {definer} AS $$
BEGIN
  PERFORM jiedao_sec._sync_user(jiedao_sec._managed(p_user));
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec.sync_role(p_role integer) RETURNS void LANGUAGE plpgsql VOLATILE {definer} AS $$
BEGIN
  PERFORM jiedao_sec._require_admin();
  PERFORM jiedao_sec._sync_role(p_role);
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec.drop_login(p_user integer) RETURNS void LANGUAGE plpgsql VOLATILE {definer} AS $$
DECLARE u public.core_users; name text;
BEGIN
  u := jiedao_sec._managed(p_user);
  IF u.server_role IS NULL THEN
    RETURN;
  END IF;
  name := jiedao_sec._login_of(u);
  EXECUTE format('DROP ROLE %I', name);
  UPDATE public.core_users SET server_role = NULL WHERE id = u.id;
END $$;

CREATE OR REPLACE FUNCTION jiedao_sec.password_changed() RETURNS void LANGUAGE sql VOLATILE {definer} AS $$
  UPDATE public.core_users SET must_change_password = false WHERE server_role = session_user
$$;

-- SECURITY INVOKER on purpose: current_user is the owner inside the administration functions and
-- the user's own role when the user writes core_users directly.
CREATE OR REPLACE FUNCTION jiedao_sec.guard_users() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public AS $$
BEGIN
  IF current_user = {owner} OR jiedao_sec.privileged() THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.server_role IS NOT NULL THEN
      RAISE EXCEPTION '用户的服务器角色只能由用户管理功能设置。' USING ERRCODE = '42501';
    END IF;
    IF NEW.is_superuser AND NOT jiedao_sec.unrestricted() THEN
      RAISE EXCEPTION '只有超级管理员才能创建超级管理员。' USING ERRCODE = '42501';
    END IF;
  ELSE
    IF NEW.server_role IS DISTINCT FROM OLD.server_role THEN
      RAISE EXCEPTION '用户的服务器角色只能由用户管理功能设置。' USING ERRCODE = '42501';
    END IF;
    IF NEW.is_superuser AND NOT OLD.is_superuser AND NOT jiedao_sec.unrestricted() THEN
      RAISE EXCEPTION '只有超级管理员才能把用户设为超级管理员。' USING ERRCODE = '42501';
    END IF;
  END IF;
  RETURN NEW;
END $$;
"""


def install(conn: Connection, key: str, pm=None) -> None:
    """Create or refresh the roles, functions and grants (idempotent). ``conn`` is in a transaction,
    as the owner or as a superuser; everything is created as the owner (``SET LOCAL ROLE``)."""
    q = naming.quote_ident
    owner, base, sup = naming.owner_role(key), naming.base_role(key), super_role(key)
    dbname = conn.execute(text("SELECT current_database()")).scalar_one()
    me = conn.execute(text("SELECT current_user")).scalar()
    if me != owner:
        conn.execute(text(f"SET LOCAL ROLE {q(owner)}"))
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    conn.execute(text(f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC"))
    conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    for role in (base, sup):
        if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
            conn.execute(text(f"CREATE ROLE {q(role)} NOLOGIN NOINHERIT"))
    conn.execute(text(f"REVOKE ALL ON DATABASE {q(dbname)} FROM PUBLIC"))
    conn.execute(text(f"GRANT CONNECT ON DATABASE {q(dbname)} TO {q(base)}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public, {SCHEMA} TO {q(base)}"))
    write_table_access(conn, pm)
    run_script(conn, _functions_sql(key))
    conn.execute(text(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {SCHEMA} FROM PUBLIC"))
    for fn in PUBLIC_FUNCTIONS:
        conn.execute(text(f"GRANT EXECUTE ON FUNCTION {SCHEMA}.{fn} TO {q(base)}"))
    conn.execute(text("DROP TRIGGER IF EXISTS jiedao_guard_users ON core_users"))
    conn.execute(text("CREATE TRIGGER jiedao_guard_users BEFORE INSERT OR UPDATE ON core_users "
                      "FOR EACH ROW EXECUTE FUNCTION jiedao_sec.guard_users()"))
    # Everyone's rows, the alembic version (a desktop checks it is not older than itself).
    conn.execute(text(f"SELECT jiedao_sec._grant_codes({_lit(base)}, ARRAY['*'])"))
    conn.execute(text(f"GRANT SELECT ON alembic_version TO {q(base)}"))
    conn.execute(text(f"SELECT jiedao_sec._grant_codes({_lit(sup)}, ARRAY[]::text[], true)"))
    for (role_id,) in conn.execute(text("SELECT id FROM core_roles ORDER BY id")).all():
        conn.execute(text("SELECT jiedao_sec._sync_role(:r)"), {"r": role_id})
    conn.execute(text("SELECT jiedao_sec._sync_user(u) FROM core_users u WHERE u.server_role IS NOT NULL"))
    if me != owner:
        conn.execute(text("RESET ROLE"))
