"""Backing up and restoring a SQLite database file (no Qt, no plugins): the one implementation the
CLI (``jiedao db backup|restore``) and the settings page (through ``shell.core.maintenance``) share.

A restore refuses a source that is not an intact Jiedao database of a version this program knows,
keeps a safety copy of the current file first, then copies with SQLite's backup API in one
transaction (readers never see half a database, the target's WAL stays consistent)."""
from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from shell.contracts import MigrationBranch
from shell.errors import DatabaseError

SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables every Jiedao database has; a file without them is not restored over a database.
CORE_TABLES = ("alembic_version", "core_areas", "core_users", "core_roles", "core_settings", "core_audit_log")
UNTOUCHED = "当前数据库未被改动。"
BUSY_TIMEOUT = 10  # seconds to wait for another program's write lock before giving up


def sqlite_uri(path: str | os.PathLike, mode: str = "ro") -> str:
    """A ``file:`` URI that survives ?, # and % in the path (an f-string ``file:{path}`` does not)."""
    return f"{Path(path).resolve().as_uri()}?mode={mode}"


def _errname(exc: sqlite3.Error) -> str:
    return getattr(exc, "sqlite_errorname", "") or ""


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return _errname(exc).startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text


def _is_corrupt(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return (_errname(exc).startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT"))
            or "not a database" in text or "malformed" in text)


def _stop_when_busy(status: int, remaining: int, total: int) -> None:
    """Progress callback of ``Connection.backup``: Python retries a busy step forever, so give up
    once SQLite's busy timeout has already run out instead of hanging on a database in use."""
    if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        raise sqlite3.OperationalError("database is locked")


def known_revisions(branches: Iterable[MigrationBranch]) -> set[str]:
    """Every Alembic revision of the core branch and of ``branches`` (the plugins' branches)."""
    from alembic.script import ScriptDirectory

    from shell.db.alembic_setup import alembic_config

    return {r.revision for r in ScriptDirectory.from_config(alembic_config(branches)).walk_revisions()}


def read_header(path: Path, what: str = "数据库") -> bytes:
    """The first 16 bytes (b"" for an empty file); a folder or an unreadable file is refused."""
    if path.is_dir():
        raise DatabaseError(f"“{path}”是一个文件夹，不是{what}文件。")
    try:
        with open(path, "rb") as fh:
            return fh.read(16)
    except OSError as exc:
        raise DatabaseError(f"无法读取文件“{path}”：{exc.strerror or exc}") from None


def verify_jiedao_file(path: str | os.PathLike, branches: Iterable[MigrationBranch] | None = None,
                       what: str = "数据库") -> set[str]:
    """Open ``path`` read-only and check it is an intact Jiedao database; return its revisions.
    With ``branches``, revisions outside them (a newer program or a missing plugin) are refused."""
    path = Path(path)
    if not path.exists():
        raise DatabaseError(f"{what}文件不存在：{path}")
    if read_header(path, what) != SQLITE_MAGIC:
        raise DatabaseError(f"文件“{path}”不是街道工作台的{what}（不是有效的 SQLite 数据库文件，或已经损坏）。")
    bad = f"文件“{path}”不是有效的街道工作台{what}"
    try:
        con = sqlite3.connect(sqlite_uri(path), uri=True)
        try:
            check = con.execute("PRAGMA quick_check(1)").fetchone()
            if not check or check[0] != "ok":
                raise DatabaseError(f"{bad}：文件已损坏（{check[0] if check else '无法检查'}）。")
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            missing = [t for t in CORE_TABLES if t not in tables]
            if missing:
                raise DatabaseError(f"{bad}：缺少数据表 {'、'.join(missing)}。")
            revs = {r[0] for r in con.execute("SELECT version_num FROM alembic_version")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise DatabaseError(f"{bad}（{exc}）。") from None
    if not revs:
        raise DatabaseError(f"{bad}：没有版本记录。")
    if branches is not None:
        unknown = revs - known_revisions(branches)
        if unknown:
            raise DatabaseError(f"“{path}”来自更新版本的街道工作台或本机未安装的插件（版本 {'、'.join(sorted(unknown))}），"
                                "本程序无法使用它。请先升级本机的街道工作台或安装缺少的插件。")
    return revs


def check_backup_file(path: str | os.PathLike, branches: Iterable[MigrationBranch] | None = None) -> set[str]:
    """Refuse what cannot be restored, before anything is overwritten; return its revisions."""
    try:
        return verify_jiedao_file(path, branches, what="数据库备份")
    except DatabaseError as exc:
        raise DatabaseError(f"{exc.message}{UNTOUCHED}") from None


def copy_sqlite(source: str | os.PathLike, dest: str | os.PathLike) -> None:
    """SQLite's online backup (consistent even while the app writes) into a new self-contained file.
    Written beside ``dest`` first so a failed copy never leaves half a file under the final name.
    Raises ``sqlite3.Error`` / ``OSError``."""
    dest = Path(dest)
    tmp = dest.with_name(dest.name + ".part")
    tmp.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(sqlite_uri(source), uri=True, timeout=BUSY_TIMEOUT)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst, progress=_stop_when_busy)
                dst.execute("PRAGMA journal_mode = DELETE")  # a copy is one file, no -wal beside it
            finally:
                dst.close()
        finally:
            src.close()
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def backup_sqlite(path: Path, folder: Path | None = None, label: str = "") -> Path:
    """Copy a SQLite database (WAL included) with SQLite's online backup into a timestamped file."""
    path = Path(path)
    folder = folder or path.parent / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = folder / f"{path.stem}-{label + '-' if label else ''}{stamp}{path.suffix or '.sqlite'}"
    n = 1
    while target.exists():
        target = target.with_name(f"{path.stem}-{label + '-' if label else ''}{stamp}-{n}{path.suffix or '.sqlite'}")
        n += 1
    copy_sqlite(path, target)  # a URI from Path.as_uri(), so ?, # and % in the path are safe
    return target


AUTO_LABEL = "自动"   # in the file name of an automatic backup (shell.core.maintenance makes them)


def auto_backups(path: Path, folder: Path | None = None) -> list[Path]:
    """The automatic backups of the database file ``path``, newest first."""
    path = Path(path)
    folder = folder or path.parent / "backups"
    if not folder.is_dir():
        return []
    found = folder.glob(f"{path.stem}-{AUTO_LABEL}-*{path.suffix or '.sqlite'}")
    return sorted((p for p in found if not p.name.endswith(".part")), key=lambda p: (p.stat().st_mtime_ns, p.name),
                  reverse=True)


def _raw_safety_copy(current: Path, folder: Path | None) -> Path:
    """The current file may be the broken one being replaced: keep its bytes (and -wal/-shm) as they are."""
    folder = folder or current.parent / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    safety = folder / f"{current.stem}-恢复前-原样-{datetime.now():%Y%m%d-%H%M%S}{current.suffix or '.sqlite'}"
    n = 1
    while safety.exists():
        safety = safety.with_name(f"{current.stem}-恢复前-原样-{datetime.now():%Y%m%d-%H%M%S}-{n}{current.suffix or '.sqlite'}")
        n += 1
    shutil.copy2(current, safety)
    for suffix in ("-wal", "-shm"):
        side = Path(str(current) + suffix)
        if side.exists():
            shutil.copy2(side, Path(str(safety) + suffix))
    return safety


def _busy_error(target: Path) -> DatabaseError:
    return DatabaseError(f"数据库“{target}”正被其他程序使用（例如另一个打开着它的街道工作台），"
                         f"请先关闭街道工作台后再恢复。{UNTOUCHED}")


def _safety_copy(current: Path, folder: Path | None) -> Path:
    try:
        return backup_sqlite(current, folder, label="恢复前")
    except sqlite3.Error as exc:
        if _is_busy(exc):
            raise _busy_error(current) from None
    except OSError:
        pass
    try:
        return _raw_safety_copy(current, folder)
    except OSError as exc:
        raise DatabaseError(f"无法另存当前数据库（{exc.strerror or exc}），为免丢失数据没有恢复。{UNTOUCHED}") from None


def _copy_into(source: Path, target: Path) -> None:
    """Copy ``source`` over ``target`` page by page in one transaction on the target. A target that
    is not a readable database is replaced as a file instead."""
    try:
        src = sqlite3.connect(sqlite_uri(source), uri=True)
        try:
            dst = sqlite3.connect(target, timeout=BUSY_TIMEOUT)
            try:
                dst.execute("PRAGMA schema_version").fetchone()  # fails on a corrupt target
                src.backup(dst, progress=_stop_when_busy)  # all pages in one step: one transaction
                dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the restored pages go into the main file
            finally:
                dst.close()
        finally:
            src.close()
        return
    except sqlite3.Error as exc:
        if _is_busy(exc):
            raise _busy_error(target) from None
        if not _is_corrupt(exc):
            raise DatabaseError(f"恢复失败：{exc}") from None
    # Corrupt target: write a fresh copy beside it and swap the file (sidecars of the old file go).
    fresh = target.with_name(target.name + ".restore")
    try:
        copy_sqlite(source, fresh)
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.replace(fresh, target)
    except (sqlite3.Error, OSError) as exc:
        fresh.unlink(missing_ok=True)
        raise DatabaseError(f"恢复失败：{exc}") from None


@dataclass
class RestoreResult:
    safety: Path | None                       # the copy of the file as it was before, if there was one
    revisions: set[str] = field(default_factory=set)  # the restored database's Alembic revisions


def restore_sqlite(current: str | os.PathLike, backup: str | os.PathLike, branches: Iterable[MigrationBranch],
                   safety_folder: Path | None = None) -> RestoreResult:
    """Overwrite the SQLite file ``current`` with ``backup``. ``branches`` are the plugins' migration
    branches: a backup with revisions outside core + them is refused (this program cannot use it)."""
    current, backup = Path(current).expanduser().resolve(), Path(backup).expanduser().resolve()
    if backup.exists() and (current == backup or (current.exists() and os.path.samefile(current, backup))):
        raise DatabaseError("选择的备份就是当前数据库文件本身，请选择另一个备份文件。")
    revisions = check_backup_file(backup, list(branches))
    safety = _safety_copy(current, safety_folder) if current.exists() else None
    _copy_into(backup, current)
    try:
        verify_jiedao_file(current)
    except DatabaseError as exc:
        kept = f"恢复前的数据库另存在：{safety}" if safety else ""
        raise DatabaseError(f"恢复后检查数据库未通过：{exc.message}{kept}") from None
    return RestoreResult(safety, revisions)
