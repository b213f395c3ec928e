"""The audit log written by the server (issue 15 item 4) and the hash chains sealed by it.

``install(conn, key)`` (run by the owner inside ``secure_database`` / ``refresh``; idempotent) puts
into schema ``jiedao_sec``, owner-owned, each function with ``search_path`` pinned:

- ``canon_*`` / ``py_float`` / ``py_decimal``: the canonical row of ``shell.core.chain.canon`` spelled
  in SQL (keys sorted by code point, compact JSON, times as UTC ``YYYY-MM-DD HH:MM:SS.ffffff``,
  floats as Python's ``repr``, numerics as ``str(Decimal.normalize())``, JSON re-serialised with
  sorted keys), so an entry the server chains verifies in Python (``chain.verify``) unchanged.
- ``audit_row()``: the trigger function fired ``AFTER INSERT OR UPDATE OR DELETE … FOR EACH ROW`` on
  every audited table (every mapped class whose ``__audit__`` is not False — what the program's
  ``after_flush`` listener audits). Its argument, generated here from the SQLAlchemy metadata, names
  the primary key, the columns left out (``audit.SKIP_COLUMNS`` and ``info={"audit": False}``) and the
  columns spelled specially, so before/after have the listener's shape: the whole row on insert and
  delete, only the changed columns on update (no entry when nothing audited changed), times as
  ``datetime.isoformat()`` of the UTC value, binary as ``<N 字节>``.
- ``audit_event(action, entity, entity_id, summary, before, after)``: the non-row events (login,
  export, full ID view, import summaries); ``shell.core.audit.record`` calls it on such a database.
- ``write_audit``: the one writer behind both (not executable by users). The actor is
  ``jiedao_sec.uid()`` and that user's ``display_name`` — from ``session_user``, which no user can
  change. Only a session of the owner (or a superuser) may name the actor itself, through the
  transaction settings ``jiedao.actor_id`` / ``jiedao.actor_name`` (maintenance run by the program
  as the owner; the owner could rewrite these functions anyway).

Users get no privilege on ``core_audit_log`` but what the declarations grant (SELECT for
``core.audit.view``), and EXECUTE on ``audit_event`` only; the table and the triggers belong to the
owner, so no user can disable, drop, truncate or alter them.
"""
from __future__ import annotations

import json

FUNCTIONS_SIGNATURE = "jiedao_sec.audit_event(text,text,text,text,jsonb,jsonb)"
TRIGGER = "jiedao_audit_row"
ROW_ACTIONS = ("insert", "update", "delete")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------- the canonical row in SQL

CANON_SQL = r"""
CREATE OR REPLACE FUNCTION jiedao_sec.py_float(v float8) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog SET extra_float_digits = 1 AS $f$
DECLARE t text := v::text; sign text := ''; mant text; e int := 0; digits text; point int; lead int; dexp int; x int;
BEGIN
  -- Python's repr(float): the shortest digits that round-trip (PostgreSQL prints the same digits),
  -- fixed notation for 1e-4 <= |v| < 1e16, else d.ddde±XX.
  IF t = 'NaN' THEN RETURN 'nan'; ELSIF t = 'Infinity' THEN RETURN 'inf'; ELSIF t = '-Infinity' THEN RETURN '-inf'; END IF;
  IF left(t, 1) = '-' THEN sign := '-'; t := substr(t, 2); END IF;
  IF position('e' in t) > 0 THEN mant := split_part(t, 'e', 1); e := split_part(t, 'e', 2)::int; ELSE mant := t; END IF;
  point := position('.' in mant);
  IF point = 0 THEN point := length(mant); ELSE point := point - 1; END IF;
  digits := replace(mant, '.', '');
  lead := length(digits) - length(ltrim(digits, '0'));
  digits := rtrim(ltrim(digits, '0'), '0');
  IF digits = '' THEN RETURN sign || '0.0'; END IF;
  dexp := point + e - lead;            -- value = 0.DIGITS × 10^dexp
  x := dexp - 1;
  IF x < -4 OR x >= 16 THEN
    RETURN sign || left(digits, 1) || CASE WHEN length(digits) > 1 THEN '.' || substr(digits, 2) ELSE '' END
           || 'e' || CASE WHEN x < 0 THEN '-' ELSE '+' END || lpad(abs(x)::text, 2, '0');
  ELSIF dexp <= 0 THEN
    RETURN sign || '0.' || repeat('0', -dexp) || digits;
  ELSIF dexp >= length(digits) THEN
    RETURN sign || digits || repeat('0', dexp - length(digits)) || '.0';
  END IF;
  RETURN sign || left(digits, dexp) || '.' || substr(digits, dexp + 1);
END $f$;

CREATE OR REPLACE FUNCTION jiedao_sec.py_decimal(v numeric) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog AS $f$
DECLARE t text := v::text; sign text := ''; intpart text; frac text; digits text; e int; adj int; n int;
BEGIN
  -- Python's str(Decimal(v).normalize()): trailing zeros dropped, scientific notation when the
  -- exponent is positive or the number is below 1e-6.
  IF t = 'NaN' THEN RETURN 'NaN'; END IF;
  IF left(t, 1) = '-' THEN sign := '-'; t := substr(t, 2); END IF;
  intpart := split_part(t, '.', 1); frac := rtrim(split_part(t, '.', 2), '0');
  digits := ltrim(intpart || frac, '0');
  IF digits = '' THEN RETURN '0'; END IF;
  e := -length(frac);
  n := length(digits) - length(rtrim(digits, '0'));
  digits := rtrim(digits, '0'); e := e + n;
  adj := e + length(digits) - 1;
  IF e <= 0 AND adj >= -6 THEN
    IF e = 0 THEN RETURN sign || digits; END IF;
    IF length(digits) > -e THEN
      RETURN sign || left(digits, length(digits) + e) || '.' || right(digits, -e);
    END IF;
    RETURN sign || '0.' || repeat('0', -e - length(digits)) || digits;
  END IF;
  RETURN sign || left(digits, 1) || CASE WHEN length(digits) > 1 THEN '.' || substr(digits, 2) ELSE '' END
         || 'E' || CASE WHEN adj >= 0 THEN '+' ELSE '-' END || abs(adj)::text;
END $f$;

CREATE OR REPLACE FUNCTION jiedao_sec.canon_json(v json) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog SET extra_float_digits = 1 AS $f$
DECLARE out text; t text;
BEGIN
  -- json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")) of the value as
  -- Python's json.loads reads it: a number written with a point or an exponent is a float. The
  -- json type (not jsonb) keeps the number as written, so 1e+16 stays a float as in Python.
  CASE json_typeof(v)
    WHEN 'object' THEN
      SELECT '{' || coalesce(string_agg(to_json(k)::text || ':' || jiedao_sec.canon_json(x), ','
                                        ORDER BY k COLLATE "C"), '') || '}'
        INTO out FROM json_each(v) AS e(k, x);
      RETURN out;
    WHEN 'array' THEN
      SELECT '[' || coalesce(string_agg(jiedao_sec.canon_json(x), ',' ORDER BY i), '') || ']'
        INTO out FROM json_array_elements(v) WITH ORDINALITY AS e(x, i);
      RETURN out;
    WHEN 'number' THEN
      t := btrim(v::text);
      IF t ~ '[.eE]' THEN RETURN jiedao_sec.py_float(t::float8); END IF;
      RETURN t::numeric::text;
    WHEN 'string' THEN
      RETURN to_json(v #>> '{}')::text;   -- escaped as Python does (\" \\ \b \f \n \r \t, \u00xx)
    ELSE
      RETURN btrim(v::text);
  END CASE;
END $f$;

CREATE OR REPLACE FUNCTION jiedao_sec.canon_value(v json, kind text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog SET extra_float_digits = 1 AS $f$
DECLARE s text := v #>> '{}';
BEGIN
  CASE kind
    WHEN 'json' THEN RETURN to_json(jiedao_sec.canon_json(v))::text;
    WHEN 'datetime' THEN RETURN to_json(to_char(s::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))::text;
    WHEN 'naive_datetime' THEN RETURN to_json(to_char(s::timestamp, 'YYYY-MM-DD HH24:MI:SS.US'))::text;
    WHEN 'date' THEN RETURN to_json(to_char(s::date, 'YYYY-MM-DD'))::text;
    WHEN 'bool' THEN RETURN s::boolean::text;
    WHEN 'int' THEN RETURN s::numeric::bigint::text;
    WHEN 'float' THEN RETURN to_json(jiedao_sec.py_float(s::float8))::text;
    WHEN 'numeric' THEN RETURN to_json(jiedao_sec.py_decimal(s::numeric))::text;
    WHEN 'bytes' THEN RETURN to_json('b:' || encode(sha256(decode(substr(s, 3), 'hex')), 'hex'))::text;
    ELSE RETURN jiedao_sec.canon_json(v);
  END CASE;
END $f$;

-- The canonical row of to_json(row): non-NULL columns but id and the chain columns, keys sorted;
-- the id too when the row's place in the chain (seq, or its chain_seq) is not its id.
DROP FUNCTION IF EXISTS jiedao_sec.canon_row(json, jsonb);
CREATE OR REPLACE FUNCTION jiedao_sec.canon_row(r json, kinds jsonb, seq bigint DEFAULT NULL) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $f$
  SELECT '{' || coalesce(string_agg(to_json(k)::text || ':' || jiedao_sec.canon_value(v, kinds ->> k), ','
                                     ORDER BY k COLLATE "C"), '') || '}'
  FROM json_each(r) AS e(k, v)
  WHERE json_typeof(v) <> 'null'
    AND (k NOT IN ('id', 'chain_prev', 'chain_hash', 'chain_seq')
         OR (k = 'id' AND coalesce(seq, (r ->> 'chain_seq')::bigint) <> (r ->> 'id')::bigint))
$f$;

CREATE OR REPLACE FUNCTION jiedao_sec.chain_link(prev text, canonical text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog AS $f$
  SELECT encode(sha256(convert_to(prev || E'\n' || canonical, 'UTF8')), 'hex')
$f$;
"""


def kinds(table) -> dict[str, str]:
    """{column: canonical kind} of the columns not spelled as plain JSON values (chain.canon_kind)."""
    from shell.core.chain import canon_kind
    return {c.name: k for c in table.columns if (k := canon_kind(c.type)) != "value"}


# ---------------------------------------------------------------- sealing the chains at commit

def _seal_sql() -> str:
    from shell.db.guards import LOCK_KEY, LOCK_WAIT_SECONDS
    return rf"""
-- Chain columns handed in by anyone but the table's owner are dropped: the server seals.
CREATE OR REPLACE FUNCTION jiedao_sec.chain_clear() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $f$
BEGIN
  IF (NEW.chain_hash IS NOT NULL OR NEW.chain_prev IS NOT NULL OR NEW.chain_seq IS NOT NULL)
     AND NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
    NEW.chain_prev := NULL; NEW.chain_hash := NULL; NEW.chain_seq := NULL;
  END IF;
  RETURN NEW;
END $f$;

-- At commit (DEFERRABLE INITIALLY DEFERRED), for each new row of the transaction in insertion
-- order: take the one chain lock (held from here to the end of the commit), read the head, give
-- the row the next place and its hashes. A row that came with its hash (the owner's copy of a
-- chained database) is left as it is.
CREATE OR REPLACE FUNCTION jiedao_sec.chain_seal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public SET extra_float_digits = 1 SET lock_timeout = '{int(LOCK_WAIT_SECONDS)}s' AS $f$
DECLARE j json; prev text; seq bigint;
BEGIN
  EXECUTE format('SELECT to_json(t) FROM public.%I t WHERE id = $1 AND chain_hash IS NULL AND chain_seq IS NULL',
                 TG_TABLE_NAME) INTO j USING NEW.id;
  IF j IS NULL THEN RETURN NULL; END IF;
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION '防篡改链只能在 READ COMMITTED 事务中封存（%）', current_setting('transaction_isolation')
      USING ERRCODE = '0A000';
  END IF;
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  EXECUTE format('SELECT chain_seq, chain_hash FROM public.%I WHERE chain_seq IS NOT NULL '
                 'ORDER BY chain_seq DESC LIMIT 1', TG_TABLE_NAME) INTO seq, prev;
  seq := coalesce(seq, 0) + 1;
  prev := coalesce(prev, repeat('0', 64));
  EXECUTE format('UPDATE public.%I SET chain_prev = $1, chain_hash = $2, chain_seq = $3 WHERE id = $4', TG_TABLE_NAME)
    USING prev, jiedao_sec.chain_link(prev, jiedao_sec.canon_row(j, TG_ARGV[0]::jsonb, seq)), seq, NEW.id;
  RETURN NULL;
END $f$;
"""


def install_sealing(conn) -> None:
    """The canonical row in SQL and the sealing functions (c0005, and again at ``install``); the
    triggers come with each chained table's guard (shell/db/guards.py)."""
    run_sql(conn, "CREATE SCHEMA IF NOT EXISTS jiedao_sec")
    run_sql(conn, CANON_SQL)
    run_sql(conn, _seal_sql())


def run_sql(conn, sql: str) -> None:
    """A script without parameters, on the connection's transaction (psycopg would read % as one)."""
    conn.connection.driver_connection.execute(sql)


# ---------------------------------------------------------------- the audit log written by the server

AUDIT_SQL = r"""
-- May this session name the actor itself? Only the owner of the audit log (or a superuser).
CREATE OR REPLACE FUNCTION jiedao_sec.claims_actor() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $f$
  SELECT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = 'public.core_audit_log'::regclass), 'MEMBER')
$f$;

-- datetime.isoformat() of the UTC value, as the program's listener writes it.
CREATE OR REPLACE FUNCTION jiedao_sec.py_isoformat(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog AS $f$
  SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
         || CASE WHEN date_part('microseconds', ts)::bigint % 1000000 <> 0
                 THEN to_char(ts AT TIME ZONE 'UTC', '.US') ELSE '' END || '+00:00'
$f$;

-- A row as the listener shows it: the audited columns in table order, times and binaries spelled.
CREATE OR REPLACE FUNCTION jiedao_sec.audit_values(r json, spec jsonb) RETURNS json
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $f$
  SELECT coalesce(json_object_agg(k, CASE
           WHEN json_typeof(v) = 'null' THEN v
           WHEN spec -> 'kinds' ->> k = 'datetime' THEN to_json(jiedao_sec.py_isoformat((v #>> '{}')::timestamptz))
           WHEN spec -> 'kinds' ->> k = 'bytes' THEN to_json('<' || (length(v #>> '{}') - 2) / 2 || ' 字节>')
           ELSE v END ORDER BY i), '{}'::json)
  FROM json_each(r) WITH ORDINALITY AS e(k, v, i)
  WHERE NOT (spec -> 'skip') ? k
$f$;

-- The one writer of the audit log on a secured database; the actor comes from session_user.
CREATE OR REPLACE FUNCTION jiedao_sec.write_audit(p_action text, p_entity text, p_entity_id text, p_summary text,
                                                  p_before json, p_after json) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $f$
DECLARE who int; who_name text;
BEGIN
  who := jiedao_sec.uid();
  IF who IS NOT NULL THEN
    SELECT coalesce(nullif(display_name, ''), username) INTO who_name FROM core_users WHERE id = who;
  ELSIF jiedao_sec.claims_actor() THEN
    who := nullif(current_setting('jiedao.actor_id', true), '')::int;
    who_name := coalesce(nullif(current_setting('jiedao.actor_name', true), ''), session_user::text);
  ELSE
    who_name := session_user::text;
  END IF;
  INSERT INTO core_audit_log (at, actor_id, actor_name, action, entity, entity_id, summary, before, after)
  VALUES (clock_timestamp(), who, coalesce(who_name, ''), p_action, p_entity, p_entity_id, coalesce(p_summary, ''),
          p_before, p_after);
END $f$;

CREATE OR REPLACE FUNCTION jiedao_sec.audit_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $f$
DECLARE spec jsonb := TG_ARGV[0]::jsonb; o json; n json; b json; a json; r json; eid text;
BEGIN
  IF TG_OP <> 'INSERT' THEN o := jiedao_sec.audit_values(to_json(OLD), spec); END IF;
  IF TG_OP <> 'DELETE' THEN n := jiedao_sec.audit_values(to_json(NEW), spec); END IF;
  IF TG_OP = 'UPDATE' THEN
    -- only what changed; nothing when no audited column changed (a version or time stamp only)
    SELECT json_object_agg(k, o -> k ORDER BY i), json_object_agg(k, v ORDER BY i) INTO b, a
      FROM json_each(n) WITH ORDINALITY AS e(k, v, i) WHERE (o -> k)::jsonb IS DISTINCT FROM v::jsonb;
    IF a IS NULL THEN RETURN NULL; END IF;
  ELSIF TG_OP = 'INSERT' THEN
    a := n;
  ELSE
    b := o;
  END IF;
  r := CASE WHEN TG_OP = 'DELETE' THEN to_json(OLD) ELSE to_json(NEW) END;
  SELECT string_agg(coalesce(r ->> p, 'None'), ',' ORDER BY i) INTO eid
    FROM jsonb_array_elements_text(spec -> 'pk') WITH ORDINALITY AS x(p, i);
  PERFORM jiedao_sec.write_audit(lower(TG_OP), TG_TABLE_NAME::text, eid, '', b, a);
  RETURN NULL;
END $f$;

CREATE OR REPLACE FUNCTION jiedao_sec.audit_event(action text, entity text, entity_id text, summary text,
                                                  before jsonb, after jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $f$
BEGIN
  IF coalesce(action, '') = '' OR lower(action) IN ('insert', 'update', 'delete') THEN
    RAISE EXCEPTION '审计事件的操作“%”不能手工写入：数据的新增、修改和删除由服务器在数据表上自动记录。', action
      USING ERRCODE = '42501';
  END IF;
  IF coalesce(entity, '') = '' THEN
    RAISE EXCEPTION '审计事件缺少对象（数据表名）。' USING ERRCODE = '22023';
  END IF;
  PERFORM jiedao_sec.write_audit(action, entity, entity_id, summary, before::json, after::json);
END $f$;
"""

PRIVATE_FUNCTIONS = ("jiedao_sec.write_audit(text,text,text,text,json,json)", "jiedao_sec.audit_row()",
                     "jiedao_sec.chain_seal()", "jiedao_sec.chain_clear()")
# What a user's program calls: the events, and whether its session may name an actor (it may not).
USER_FUNCTIONS = (FUNCTIONS_SIGNATURE, "jiedao_sec.claims_actor()")


def _import_models() -> None:
    """Every plugin's models, also those no code path has imported yet (they load lazily): a table
    whose model is not loaded would get no trigger."""
    import importlib
    import importlib.util
    import sys

    from shell.builtins import BUILTIN_PLUGINS
    names = set(BUILTIN_PLUGINS) | {n for n, m in list(sys.modules.items())
                                    if m is not None and hasattr(m, "register_migrations") and "." in n}
    for name in sorted(names):
        try:
            if importlib.util.find_spec(f"{name}.models") is not None:
                importlib.import_module(f"{name}.models")
        except (ImportError, ValueError):
            continue


def audit_specs() -> dict[str, dict]:
    """{table: trigger argument} for every table the program's listener audits (shell/core/audit.py):
    mapped classes whose ``__audit__`` is not False; the columns it leaves out and how it spells the
    rest, from the same metadata."""
    from typing import cast

    from sqlalchemy import Table

    from shell.db.guards import SKIP_COLUMNS
    _import_models()
    from shell.core.chain import canon_kind
    from shell.db.base import Base
    specs = {}
    for mapper in Base.registry.mappers:
        if getattr(mapper.class_, "__audit__", True) is False:
            continue
        table = cast(Table, mapper.local_table)  # a declarative class maps a Table
        kept = {attr.columns[0].name for attr in mapper.column_attrs
                if attr.key not in SKIP_COLUMNS and attr.columns[0].info.get("audit", True) is not False}
        kinds_ = {c.name: k for c in table.columns if c.name in kept
                  and (k := canon_kind(c.type)) in ("datetime", "bytes")}
        specs[table.name] = {"pk": [c.name for c in mapper.primary_key],
                             "skip": sorted(c.name for c in table.columns if c.name not in kept),
                             "kinds": kinds_}
    return specs


def _existing_tables(conn) -> set[str]:
    return {r[0] for r in conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def _specs_here(conn) -> dict[str, dict]:
    existing = _existing_tables(conn)
    return {t: s for t, s in audit_specs().items() if t in existing}


def _create_trigger(conn, table: str, spec: dict) -> None:
    arg = _lit(json.dumps(spec, sort_keys=True))
    conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {_q(table)}")
    conn.exec_driver_sql(f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {_q(table)} "
                         f"FOR EACH ROW EXECUTE FUNCTION jiedao_sec.audit_row({arg})")


def missing_triggers(conn) -> list[str]:
    """Audited tables whose audit trigger was dropped or disabled (secured databases)."""
    enabled = {r[0] for r in conn.exec_driver_sql(
        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        f"WHERE t.tgname = '{TRIGGER}' AND t.tgenabled <> 'D'").all()}
    return sorted(t for t in _specs_here(conn) if t not in enabled)


def restore_triggers(conn) -> list[str]:
    """Re-create the missing audit triggers (the owner, on opening); the tables repaired."""
    missing = missing_triggers(conn)
    specs = _specs_here(conn)
    for table in missing:
        _create_trigger(conn, table, specs[table])
    return missing


def install(conn, key: str) -> list[str]:
    """Install (again) the server-written audit and the chains' sealing; returns the audited tables.
    Run by the owner, in the transaction that secures or refreshes the database."""
    from shell.core import chain
    from shell.db.guards import create_append_only, drop_append_only, guard_names_pg
    from shell.db.security import naming
    owner = naming.owner_role(key)
    me = conn.exec_driver_sql("SELECT current_user").scalar()
    if me != owner:     # everything is created as the owner (its SECURITY DEFINER functions run as it)
        conn.exec_driver_sql(f"SET LOCAL ROLE {_q(owner)}")
    install_sealing(conn)
    run_sql(conn, AUDIT_SQL)
    specs = _specs_here(conn)
    for table, spec in sorted(specs.items()):
        _create_trigger(conn, table, spec)
    # A table no longer audited (its model now says __audit__ = False) loses its trigger.
    for (table,) in conn.exec_driver_sql(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            f"WHERE t.tgname = '{TRIGGER}'").all():
        if table not in specs:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {_q(table)}")
    # Every chain with this program's guard, sealing included.
    op = chain._Op(conn)
    state = chain._guard_state(conn)
    for table, message in chain.chained_tables(conn).items():
        if not guard_names_pg(table, sealing=True) <= state.get(table, set()):
            drop_append_only(op, table)
            create_append_only(op, table, message)
    users = _q(naming.base_role(key))
    conn.exec_driver_sql("REVOKE ALL ON core_audit_log FROM PUBLIC")
    for fn in PRIVATE_FUNCTIONS:
        conn.exec_driver_sql(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    for fn in USER_FUNCTIONS:
        conn.exec_driver_sql(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        conn.exec_driver_sql(f"GRANT EXECUTE ON FUNCTION {fn} TO {users}")
    if me != owner:
        conn.exec_driver_sql("RESET ROLE")
    forget(conn)
    return sorted(specs)


def forget(conn) -> None:
    """Drop what this connection remembered about the database's audit and sealing (after install)."""
    for flag in ("jiedao_server_audit", "jiedao_seals"):
        conn.connection.info.pop(flag, None)


def server_audit(conn) -> tuple[bool, bool]:
    """(the server writes the audit log, this session may name the actor), asked once per connection."""
    if conn.dialect.name != "postgresql":
        return (False, False)
    info = conn.connection.info
    found = info.get("jiedao_server_audit")
    if found is None:
        from shell.db.guards import has_function
        on = has_function(conn, "audit_event")
        claims = on and bool(conn.exec_driver_sql("SELECT jiedao_sec.claims_actor()").scalar())
        found = info["jiedao_server_audit"] = (on, claims)
    return found
