"""Restoring a SQLite database from a backup file (no Qt): check the backup, keep a safety copy of
the current file, then copy page by page with SQLite's online backup (WAL stays consistent)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from shell.db.migrate import backup_sqlite
from shell.errors import DatabaseError

SQLITE_MAGIC = b"SQLite format 3\x00"


def check_backup_file(path: Path) -> None:
    """Refuse what is not a sound SQLite database, before anything is overwritten."""
    if not path.is_file():
        raise DatabaseError(f"找不到备份文件：{path}")
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != SQLITE_MAGIC:
        raise DatabaseError(f"“{path.name}”不是街道工作台的数据库备份（文件格式不对）。当前数据库未被改动。")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA quick_check(1)").fetchone()
            has_users = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='core_users'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise DatabaseError(f"备份文件“{path.name}”无法读取（{exc}）。当前数据库未被改动。") from None
    if not result or result[0] != "ok":
        raise DatabaseError(f"备份文件“{path.name}”已损坏（{result[0] if result else '无法检查'}）。当前数据库未被改动。")
    if not has_users:
        raise DatabaseError(f"“{path.name}”是 SQLite 文件，但不是街道工作台的数据库。当前数据库未被改动。")


def restore_sqlite(current: Path, backup: Path, safety_folder: Path | None = None) -> Path | None:
    """Overwrite ``current`` with ``backup``; return the safety copy made of ``current`` first
    (None when there was no current file to keep)."""
    current, backup = Path(current), Path(backup)
    if current.resolve() == backup.resolve():
        raise DatabaseError("选择的备份就是当前数据库文件本身，请选择另一个备份文件。")
    check_backup_file(backup)
    safety = backup_sqlite(current, safety_folder, label="恢复前") if current.exists() else None
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(current, timeout=10)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise DatabaseError(
            f"恢复失败（{exc}）。当前数据库可能正被其他程序使用；恢复前的安全备份在：{safety}") from None
    finally:
        src.close()
    return safety
