"""Backup and restore of a single-desktop SQLite database, as services: permission checked,
and a restore leaves an audit entry in the restored database saying who restored what."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from shell.contracts import MigrationBranch
from shell.core import audit
from shell.core.context import Actor
from shell.db.backup import restore_sqlite
from shell.db.engine import make_engine
from shell.db.migrate import backup_sqlite
from shell.db.session import make_session_factory, set_actor


def backup_file(actor: Actor, path: Path, folder: Path | None = None) -> Path:
    actor.require("core.database.manage")
    return backup_sqlite(Path(path), folder, label="手动备份")


def restore_file(actor: Actor, current: Path, backup: Path, safety_folder: Path | None = None,
                 branches: Iterable[MigrationBranch] = ()) -> Path | None:
    """Replace ``current`` with ``backup`` (a safety copy of ``current`` is made first). ``branches``
    are the plugins' migration branches; without them only a core-only backup is accepted."""
    actor.require("core.database.manage")
    safety = restore_sqlite(Path(current), Path(backup), branches, safety_folder).safety
    engine = make_engine(current)
    try:
        with make_session_factory(engine)() as session:
            set_actor(session, actor.user_id, actor.display_name or actor.username)
            kept = f"；恢复前的数据库另存为“{safety}”" if safety else ""
            audit.record(session, "restore", "database", None, f"从备份“{Path(backup).name}”恢复{kept}")
            session.commit()
    finally:
        engine.dispose()
    return safety
