"""Alembic with one core branch and one branch per plugin (from ``register_migrations``).

``upgrade(engine, branches)`` brings a database to ``heads``; a SQLite file is first copied to a
timestamped backup; a database that carries revisions this program does not know is refused.
"""
from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Connection, Engine, Integer, String, column, inspect, select, table, text, update
from sqlalchemy.exc import DBAPIError

from shell.clock import utcnow
from shell.contracts import MigrationBranch
from shell.db.alembic_setup import CORE_BRANCH as CORE_BRANCH  # kept importable from here
from shell.db.alembic_setup import MIGRATIONS_DIR as MIGRATIONS_DIR
from shell.db.alembic_setup import alembic_config as alembic_config
from shell.db.alembic_setup import version_locations as version_locations
from shell.db.backup import backup_sqlite as backup_sqlite
from shell.db.base import UTCDateTime
from shell.db.engine import explain, sqlite_path
from shell.errors import DatabaseError, SchemaTooNew

if TYPE_CHECKING:  # Alembic is imported only when a real check or upgrade is needed (start-up time)
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

PG_MIGRATION_LOCK = 0x6A696564  # "jied": one desktop migrates a township server at a time


def plugin_branches(pm) -> list[MigrationBranch]:
    """Migration branches of every plugin registered in ``pm``."""
    from shell.hooks import call_each

    return [b for _name, b in call_each(pm, "register_migrations")]


def current_revisions(conn: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(conn).get_current_heads())


@dataclass
class SchemaState:
    current: set[str]
    heads: set[str]
    applied: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not self.current

    @property
    def up_to_date(self) -> bool:
        # alembic_version holds only the tips: a plugin head that depends on the core head stands
        # for both, so compare against everything the current revisions imply.
        return not self.unknown and self.heads <= self.applied


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _implied(script: ScriptDirectory, current: set[str]) -> set[str]:
    """Every revision applied when ``current`` are: their ancestors along down_revision and depends_on."""
    seen: set[str] = set()
    todo = list(current)
    while todo:
        rev_id = todo.pop()
        if rev_id in seen:
            continue
        seen.add(rev_id)
        rev = script.get_revision(rev_id)
        todo.extend(_as_tuple(rev.down_revision))
        for dep in _as_tuple(rev.dependencies):
            todo.extend(r.revision for r in script.get_revisions(dep) if r is not None)
    return seen


def schema_state(conn: Connection, cfg: Config) -> SchemaState:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(cfg)
    current = current_revisions(conn)
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = current - known
    applied = _implied(script, current - unknown)
    return SchemaState(current=current, heads=set(script.get_heads()), applied=applied, unknown=unknown)


def refuse_if_newer(state: SchemaState) -> None:
    if state.unknown:
        raise SchemaTooNew(
            "这个数据库由更新版本的街道工作台（或本机未安装的插件）创建，本程序不认识它的版本 "
            + "、".join(sorted(state.unknown))
            + "。\n为避免损坏数据，程序不会打开它。请把本机的街道工作台升级到最新版本，或安装缺少的插件。"
        )


# --- the start-up fast path ----------------------------------------------------------------------
# Loading Alembic and every revision script costs ~0.15 s on each start. After a full check finds the
# schema current, we remember (in core_settings) the program's revision files and the database's
# alembic_version rows; when both are unchanged at the next start, the schema is still current.
VERIFIED_KEY = "core.schema_verified"
_REVISION_RE = re.compile(r"^revision\s*(?::[^=]+)?=\s*['\"]([^'\"]+)['\"]", re.M)
_settings = table("core_settings", column("key", String), column("value", JSON),
                  column("created_at", UTCDateTime()), column("updated_at", UTCDateTime()),
                  column("version_id", Integer))


def scripts_fingerprint(branches: Iterable[MigrationBranch] = ()) -> str:
    """A digest of the revision ids this program ships (revision files are never edited once released)."""
    ids = []
    for folder in version_locations(branches):
        for f in sorted(Path(folder).glob("*.py")):
            if f.name != "__init__.py":
                m = _REVISION_RE.search(f.read_text(encoding="utf-8"))
                ids.append(f"{f.name}:{m.group(1) if m else '?'}")
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def _verified_before(engine: Engine, fingerprint: str) -> set[str] | None:
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        if not {"alembic_version", "core_settings"} <= names:
            return None
        current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        stored = conn.execute(select(_settings.c.value).where(_settings.c.key == VERIFIED_KEY)).scalar()
    if isinstance(stored, dict) and stored.get("scripts") == fingerprint \
            and set(stored.get("revisions") or ()) == current and current:
        return current
    return None


def _remember_verified(engine: Engine, fingerprint: str, revisions: set[str]) -> None:
    value = {"scripts": fingerprint, "revisions": sorted(revisions)}
    now = utcnow()
    try:
        with engine.begin() as conn:
            done = conn.execute(update(_settings).where(_settings.c.key == VERIFIED_KEY)
                                .values(value=value, updated_at=now, version_id=_settings.c.version_id + 1))
            if done.rowcount == 0:
                conn.execute(_settings.insert().values(key=VERIFIED_KEY, value=value, created_at=now,
                                                       updated_at=now, version_id=1))
    except (DBAPIError, DatabaseError) as exc:  # a cache: another desktop writing it at the same moment is harmless
        log.info("未能记录数据库结构检查结果：%s", exc)


@dataclass
class UpgradeResult:
    before: set[str]
    after: set[str]
    backup: Path | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def upgrade(engine: Engine, branches: Iterable[MigrationBranch] = (), backup: bool = True,
            backup_dir: Path | None = None) -> UpgradeResult:
    """Upgrade to ``heads``. Refuses newer databases; backs a non-empty SQLite file up first."""
    branches = list(branches)
    fingerprint = scripts_fingerprint(branches)
    try:
        known = _verified_before(engine, fingerprint)
        if known is not None:
            return UpgradeResult(known, known)
        cfg = alembic_config(branches)
        with engine.connect() as conn:
            state = schema_state(conn, cfg)
        refuse_if_newer(state)
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:  # persistent: stored in the file once set; not in a transaction
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("PRAGMA journal_mode = WAL")
        if state.up_to_date:
            _remember_verified(engine, fingerprint, state.current)
            return UpgradeResult(state.current, state.current)
        backup_path = None
        db_file = sqlite_path(engine)
        if backup and db_file is not None and db_file.exists() and not state.empty:
            backup_path = backup_sqlite(db_file, backup_dir, label="升级前")
            log.info("升级前已备份数据库到 %s", backup_path)
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
                # Another desktop may have finished the same upgrade while we waited for the lock.
                state = schema_state(conn, cfg)
                refuse_if_newer(state)
            if not state.up_to_date:
                from alembic import command

                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
            after = current_revisions(conn)
        _remember_verified(engine, fingerprint, after)
        return UpgradeResult(state.current, after, backup_path)
    except DBAPIError as exc:
        raise explain(exc, engine.url) from None
    except DatabaseError:
        raise


def needs_upgrade(engine: Engine, branches: Iterable[MigrationBranch] = ()) -> bool:
    cfg = alembic_config(branches)
    with engine.connect() as conn:
        state = schema_state(conn, cfg)
    refuse_if_newer(state)
    return not state.up_to_date
