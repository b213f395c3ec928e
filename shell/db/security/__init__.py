"""The server security model (issue 15 items 1–6): each Jiedao user a PostgreSQL login role, a group
role per Jiedao role with the table privileges its permissions add up to, a schema owner no desktop
uses, row-level security (``rls``) and the server-written audit (``server_audit``).

``secure_database`` turns an unsecured server database into a secured one in one transaction;
``refresh`` re-applies everything after ``jiedao db upgrade``. On SQLite nothing here applies.
"""
from __future__ import annotations

import importlib
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from shell.clock import utcnow
from shell.db.security import naming, scram
from shell.errors import DatabaseError

# Installed in this order; the two later ones are optional modules (other parts of issue 15).
MODULES = ("roles", "rls", "server_audit")


def _is_pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def is_secured(conn: Connection) -> bool:
    """True on a server database that ``secure_database`` converted (a core_security row)."""
    if not _is_pg(conn):
        return False
    if conn.execute(text("SELECT to_regclass('public.core_security')")).scalar() is None:
        return False
    return conn.execute(text("SELECT EXISTS (SELECT 1 FROM core_security)")).scalar_one()


def security_info(conn: Connection) -> tuple[str, str] | None:
    """(street key, owner role) of a secured database, else None."""
    if not is_secured(conn):
        return None
    row = conn.execute(text("SELECT street_key, owner_role FROM core_security")).one()
    return row[0], row[1]


def is_owner(conn: Connection) -> bool:
    """The session is the owner of this secured database, or a PostgreSQL superuser."""
    info = security_info(conn)
    if info is None:
        return True
    row = conn.execute(text("SELECT session_user, (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)")).one()
    return row[0] == info[1] or bool(row[1])


def _modules():
    out = []
    for name in MODULES:
        try:
            out.append(importlib.import_module(f"shell.db.security.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"shell.db.security.{name}":
                raise
    return out


def _install_all(conn: Connection, key: str, pm) -> None:
    for module in _modules():
        if module.__name__.endswith(".roles"):
            module.install(conn, key, pm)
        else:
            module.install(conn, key)


def _schema_version(conn: Connection) -> str:
    return ",".join(sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()))


def one_time_password(length: int = 12) -> str:
    """Letters and digits (both), without the look-alikes 0/O, 1/l/I: read from a printed table."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in pw) and any(c.isalpha() for c in pw):
            return pw


@dataclass
class SecureReport:
    key: str
    owner_role: str
    owner_created: bool = False
    old_role: str | None = None            # the shared role whose rights were revoked
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, password)


def _role_exists(conn: Connection, name: str) -> bool:
    return bool(conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": name}).scalar())


def create_owner(conn: Connection, key: str, password: str | None = None) -> bool:
    """Create ``<key>.owner`` (LOGIN CREATEROLE) unless it exists; set its password when given."""
    q = naming.quote_ident
    owner = naming.owner_role(key)
    created = False
    if not _role_exists(conn, owner):
        conn.execute(text(f"CREATE ROLE {q(owner)} LOGIN CREATEROLE"))
        created = True
    if password is not None:
        from shell.db.security.roles import run_script

        run_script(conn, f"ALTER ROLE {q(owner)} PASSWORD '{scram.verifier(password)}'")
    return created


def _transfer_ownership(conn: Connection, owner: str) -> None:
    """The owner owns the database, the public schema's tables, sequences, views, functions, types."""
    q = naming.quote_ident
    dbname = conn.execute(text("SELECT current_database()")).scalar_one()
    # The owner creates the tables of later migrations in public (pg_database_owner's right, but
    # granted outright too: a database owner changed in this transaction is not yet seen as one).
    conn.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {q(owner)}"))
    if conn.execute(text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :d"), {"d": dbname}).scalar() != owner:
        # A non-superuser may hand a database only to a role with CREATEDB: lent for this statement.
        # A non-superuser may hand its database over only with CREATEDB, and only to a role with
        # CREATEDB (PostgreSQL 15): lent to both for this statement (a CREATEROLE role may).
        me, is_super, had = conn.execute(text(
            "SELECT current_user, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user")).one()
        lend = not is_super
        if lend:
            conn.execute(text(f"ALTER ROLE {q(owner)} CREATEDB"))
            if not had:
                conn.execute(text(f"ALTER ROLE {q(me)} CREATEDB"))
        conn.execute(text(f"ALTER DATABASE {q(dbname)} OWNER TO {q(owner)}"))
        if lend:
            conn.execute(text(f"ALTER ROLE {q(owner)} NOCREATEDB"))
            if not had:
                conn.execute(text(f"ALTER ROLE {q(me)} NOCREATEDB"))
    public_owner = conn.execute(text("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'")).scalar()
    if public_owner not in (owner, "pg_database_owner"):
        conn.execute(text(f"ALTER SCHEMA public OWNER TO {q(owner)}"))
    rows = conn.execute(text("""
        SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND pg_get_userbyid(c.relowner) <> :o
          AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
                                               AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
        ORDER BY c.relkind DESC, c.relname"""), {"o": owner}).all()
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE", "S": "SEQUENCE"}
    for kind, name in rows:
        conn.execute(text(f"ALTER {kinds[kind]} public.{q(name)} OWNER TO {q(owner)}"))
    # The schema first: a routine's new owner needs CREATE on the routine's schema (c0005 made
    # jiedao_sec as whoever migrated, e.g. the old shared role).
    if conn.execute(text("SELECT to_regnamespace('jiedao_sec')")).scalar() is not None:
        conn.execute(text(f"ALTER SCHEMA jiedao_sec OWNER TO {q(owner)}"))
    for (sig,) in conn.execute(text("""
        SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('public', 'jiedao_sec') AND pg_get_userbyid(p.proowner) <> :o"""), {"o": owner}).all():
        conn.execute(text(f"ALTER ROUTINE {sig} OWNER TO {q(owner)}"))
    for (typ,) in conn.execute(text("""
        SELECT t.oid::regtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') AND pg_get_userbyid(t.typowner) <> :o"""),
            {"o": owner}).all():
        conn.execute(text(f"ALTER TYPE {typ} OWNER TO {q(owner)}"))


def _can_act_as(conn: Connection, role: str) -> None:
    """A CREATEROLE database owner (not a superuser) must be a member of the owner role to hand it
    objects and SET ROLE to it; it is removed again at the end of ``secure_database``."""
    row = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).one()
    if not row[0] and not conn.execute(text("SELECT pg_has_role(current_user, :r, 'MEMBER')"), {"r": role}).scalar():
        conn.execute(text(f"GRANT {naming.quote_ident(role)} TO CURRENT_USER"))


def secure_database(conn: Connection, pm, *, owner_password: str | None = None,
                    progress: Callable[[str], None] | None = None,
                    password_for: Callable[[str], str] | None = None,
                    must_change: bool = True) -> SecureReport:
    """Convert the (migrated, unsecured) database of ``conn`` — a superuser, or the database owner
    with CREATEROLE — in the caller's transaction: create ``<key>.owner``, make it own everything,
    install roles, row-level security and the server audit, create a login role for every user
    (``password_for(username)``, by default a one-time password; ``must_change``: change it at the
    first login) and revoke the old shared role's rights (unless it is a superuser)."""
    say = progress or (lambda _m: None)
    if not _is_pg(conn):
        raise DatabaseError("只有 PostgreSQL 服务器数据库才能加固（SQLite 单机文件由程序自己检查权限）。")
    if (info := security_info(conn)) is not None:
        key, owner = info
        raise DatabaseError(f"这个数据库已经加固过（街道键 {key}，所有者 {owner}），不能再加固一次。"
                            "升级程序后请运行 jiedao db upgrade。")
    if conn.execute(text("SELECT to_regclass('public.core_users')")).scalar() is None:
        raise DatabaseError("这个数据库还没有初始化：请先运行 jiedao db upgrade（或 jiedao db init）。")
    dbname, me, super_, createrole = conn.execute(text(
        "SELECT current_database(), current_user, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")).one()
    if not (super_ or createrole):
        raise DatabaseError(f"用户“{me}”没有 CREATEROLE 权限，不能加固数据库“{dbname}”。"
                            "请用数据库超级用户（postgres）或带 CREATEROLE 的数据库所有者连接。")
    key = naming.street_key(dbname)
    owner = naming.owner_role(key)
    old_owner = conn.execute(text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")).scalar()
    other = conn.execute(text("SELECT datname FROM pg_database WHERE pg_get_userbyid(datdba) = :o "
                              "AND datname <> current_database()"), {"o": owner}).scalar()
    if other is not None:
        raise DatabaseError(f"街道键“{key}”已被本服务器上的数据库“{other}”使用（街道键取数据库名的前 20 个字符），"
                            f"两个街道不能共用一套角色。请换一个前 20 个字符不同的数据库名。")
    report = SecureReport(key=key, owner_role=owner)
    say(f"所有者角色 {owner}")
    report.owner_created = create_owner(conn, key, owner_password)
    _can_act_as(conn, owner)
    _transfer_ownership(conn, owner)
    conn.execute(text("INSERT INTO core_security (id, street_key, owner_role, secured_at, schema_version) "
                      "VALUES (1, :k, :o, :t, :v)"),
                 {"k": key, "o": owner, "t": utcnow(), "v": _schema_version(conn)})
    say("角色、权限与服务器端规则")
    _install_all(conn, key, pm)
    say("各用户的登录角色")
    make = password_for or (lambda _u: one_time_password())
    users = conn.execute(text("SELECT id, username FROM core_users ORDER BY username")).all()
    for user_id, username in users:
        naming.login_role(key, username)  # refuses (in Chinese) a name over 63 bytes before any change
        password = make(username)
        role = conn.execute(text("SELECT jiedao_sec.create_login(:u, :v)"),
                            {"u": user_id, "v": scram.verifier(password)}).scalar_one()
        report.logins.append((username, role, password))
    conn.execute(text("UPDATE core_users SET must_change_password = :m, password_hash = ''"), {"m": must_change})
    # The old shared role: it owned the database and the tables, every desktop used it.
    old_super = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": old_owner}).scalar()
    if old_owner and old_owner != owner and not old_super:
        q = naming.quote_ident
        say(f"收回原共用角色 {old_owner} 的权限")
        for stmt in (f"REVOKE ALL ON DATABASE {q(dbname)} FROM {q(old_owner)}",
                     f"REVOKE ALL ON SCHEMA public FROM {q(old_owner)}",
                     f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {q(old_owner)}",
                     f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {q(old_owner)}",
                     f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {q(old_owner)}"):
            conn.execute(text(stmt))
        report.old_role = old_owner
    if not super_ and conn.execute(text("SELECT pg_has_role(current_user, :r, 'MEMBER')"), {"r": owner}).scalar():
        conn.execute(text(f"REVOKE {naming.quote_ident(owner)} FROM CURRENT_USER"))
    return report


def refresh(conn: Connection, pm) -> None:
    """After ``db upgrade``: new tables owned by the owner, declarations rewritten, grants, policies
    and audit triggers re-applied (idempotent), the schema version recorded."""
    info = security_info(conn)
    if info is None:
        return
    key, owner = info
    me_super = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    if me_super:
        _transfer_ownership(conn, owner)
    _install_all(conn, key, pm)
    conn.execute(text("UPDATE core_security SET schema_version = :v"), {"v": _schema_version(conn)})
