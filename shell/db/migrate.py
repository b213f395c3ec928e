"""Alembic with one core branch and one branch per plugin (from ``register_migrations``).

``upgrade(engine, branches)`` brings a database to ``heads``; a SQLite file is first copied to a
timestamped backup; a database that carries revisions this program does not know is refused.
"""
from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from shell.contracts import MigrationBranch
from shell.db.engine import explain, sqlite_path
from shell.errors import DatabaseError, SchemaTooNew

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
CORE_BRANCH = MigrationBranch("core", MIGRATIONS_DIR / "versions")
PG_MIGRATION_LOCK = 0x6A696564  # "jied": one desktop migrates a township server at a time


def alembic_config(branches: Iterable[MigrationBranch] = ()) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    locations = [CORE_BRANCH.path] + [Path(b.path) for b in branches if b.label != "core"]
    cfg.set_main_option("version_locations", " ".join(str(p) for p in locations))
    cfg.set_main_option("path_separator", "space")
    return cfg


def plugin_branches(pm) -> list[MigrationBranch]:
    """Migration branches of every plugin registered in ``pm``."""
    from shell.plugins import call_each

    return [b for _name, b in call_each(pm, "register_migrations")]


def current_revisions(conn: Connection) -> set[str]:
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


def backup_sqlite(path: Path, folder: Path | None = None, label: str = "") -> Path:
    """Copy a SQLite database (WAL included) with SQLite's online backup into a timestamped file."""
    folder = folder or path.parent / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = folder / f"{path.stem}-{label + '-' if label else ''}{stamp}{path.suffix or '.sqlite'}"
    n = 1
    while target.exists():
        target = target.with_name(f"{path.stem}-{label + '-' if label else ''}{stamp}-{n}{path.suffix or '.sqlite'}")
        n += 1
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")  # a backup is one self-contained file
        finally:
            dst.close()
    finally:
        src.close()
    return target


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
    cfg = alembic_config(branches)
    try:
        with engine.connect() as conn:
            state = schema_state(conn, cfg)
        refuse_if_newer(state)
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:  # persistent: stored in the file once set
                conn.exec_driver_sql("PRAGMA journal_mode = WAL")
        if state.up_to_date:
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
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
            after = current_revisions(conn)
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
