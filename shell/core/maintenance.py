"""Backup and restore of a single-desktop SQLite database, as services: permission checked,
and a restore leaves an audit entry in the restored database saying who restored what."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from shell.contracts import MigrationBranch
from shell.core import audit
from shell.core.context import Actor
from shell.db.backup import AUTO_LABEL as AUTO_LABEL  # the backup layer names the files
from shell.db.backup import auto_backups as auto_backups
from shell.db.backup import restore_sqlite
from shell.db.engine import make_engine
from shell.db.migrate import backup_sqlite
from shell.db.session import make_session_factory, set_actor

# Audit entries that record a look or a login, not a change of the office's data: a session that left
# only these needs no new automatic backup.
READ_ONLY_ACTIONS = ("login", "login_failed", "locked", "export", "view_full_id", "report_full_ids", "report",
                     "export_full_ids")


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


# The newest audit entry that changed data (every write is audited): equal marks, equal data. Walked
# backwards along the primary key, so it stops at the first such entry however long the log is.
_MARK_SQL = ("SELECT id FROM core_audit_log WHERE action NOT IN ("
             + ", ".join(f"'{a}'" for a in READ_ONLY_ACTIONS) + ") ORDER BY id DESC LIMIT 1")


def _file_mark(path: Path) -> int | None:
    import sqlite3

    from shell.db.backup import sqlite_uri

    try:
        con = sqlite3.connect(sqlite_uri(path, "ro"), uri=True)
        try:
            row = con.execute(_MARK_SQL).fetchone()
            return row[0] if row else 0
        finally:
            con.close()
    except sqlite3.Error:
        return None   # unreadable: make a fresh one


def auto_backup(database, folder: Path | None = None, force: bool = False) -> Path | None:
    """Back up a SQLite database file (online backup API: consistent while in use) and keep only the
    newest ``core.backup.keep`` automatic backups. None for a server database (pg_dump's job, see
    docs/lan-server.md) or an in-memory one, and — unless ``force`` — when the newest automatic backup
    already holds the latest change (a large street's file takes seconds to copy, and ten identical
    copies of it would keep nothing more). Called when the desktop opens and closes a database."""
    from sqlalchemy import text

    from shell.core import settings
    from shell.db.engine import sqlite_path

    path = sqlite_path(database.engine)
    if path is None or not path.exists():
        return None
    with database.session_factory() as session:
        keep = int(settings.core(session, "core.backup.keep"))
        mark = session.execute(text(_MARK_SQL)).scalar() or 0
    newest = auto_backups(path, folder)[:1]
    if not force and newest and _file_mark(newest[0]) == mark:
        return None
    from shell.db.engine import writing_file

    with writing_file(folder or path.parent / "backups"):
        made = backup_sqlite(path, folder, label=AUTO_LABEL)
    for old in auto_backups(path, folder)[keep:]:
        old.unlink(missing_ok=True)
    return made
