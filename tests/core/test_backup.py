"""shell.db.backup: the one backup/restore implementation the CLI and the settings page share."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from shell.db import backup
from shell.db.backup import check_backup_file, restore_sqlite
from shell.db.migrate import backup_sqlite
from shell.errors import DatabaseError

STREET = "SELECT count(*) FROM core_areas"


@pytest.fixture
def db_file(sqlite_template, tmp_path) -> Path:
    path = tmp_path / "jiedao.sqlite"
    shutil.copy(sqlite_template, path)
    return path


def _areas(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute(STREET).fetchone()[0]
    finally:
        con.close()


def _add_area(path: Path, name: str = "备份后新建") -> None:
    con = sqlite3.connect(path)
    try:
        con.execute("INSERT INTO core_areas (name, level, path, sort_order, version_id, created_at, updated_at) "
                    "VALUES (?, 'street', '/x/', 0, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", (name,))
        con.commit()
    finally:
        con.close()


def test_backup_and_restore_where_the_path_has_uri_characters(sqlite_template, tmp_path):
    # "file:{path}?mode=ro" would read "?%" as the query and "#1 ..." as a fragment.
    folder = tmp_path / "备份 #1 ?%"
    folder.mkdir()
    path = folder / "街道 #2?.sqlite"
    shutil.copy(sqlite_template, path)
    copy = backup_sqlite(path, label="手动备份")
    assert copy.parent == folder / "backups" and copy.read_bytes()[:16] == backup.SQLITE_MAGIC
    assert not list(copy.parent.glob("*.part"))
    _add_area(path)
    result = restore_sqlite(path, copy, [])
    assert _areas(path) == 0
    assert result.safety is not None and _areas(result.safety) == 1
    assert result.revisions and check_backup_file(path) == result.revisions


def test_restore_refuses_a_backup_with_unknown_revisions(db_file, tmp_path):
    newer = tmp_path / "newer.sqlite"
    shutil.copy(db_file, newer)
    with sqlite3.connect(newer) as con:
        con.execute("INSERT INTO alembic_version VALUES ('ffff00001234')")
    before = db_file.read_bytes()
    with pytest.raises(DatabaseError, match="更新版本.*ffff00001234.*当前数据库未被改动"):
        restore_sqlite(db_file, newer, [])
    assert db_file.read_bytes() == before and not (tmp_path / "backups").exists()


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"plain text, not sqlite" * 20), "不是街道工作台的数据库备份"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.close(), "缺少数据表 alembic_version"),
    (lambda p: None, "备份文件不存在"),
])
def test_restore_refuses_what_is_not_a_jiedao_database(db_file, tmp_path, make, message):
    source = tmp_path / "source.sqlite"
    make(source)
    before = db_file.read_bytes()
    with pytest.raises(DatabaseError, match=message):
        restore_sqlite(db_file, source, [])
    assert db_file.read_bytes() == before and not (tmp_path / "backups").exists()


def test_restore_refuses_the_current_file_itself(db_file):
    with pytest.raises(DatabaseError, match="就是当前数据库文件本身"):
        restore_sqlite(db_file, db_file.parent / "." / db_file.name, [])


def test_restore_over_a_corrupt_file_keeps_its_raw_bytes(db_file, tmp_path):
    good = backup_sqlite(db_file, tmp_path / "bk")
    garbage = b"garbage" * 500
    db_file.write_bytes(garbage)
    Path(str(db_file) + "-wal").write_bytes(b"old wal")
    result = restore_sqlite(db_file, good, [], tmp_path / "safety")
    assert "原样" in result.safety.name and result.safety.read_bytes() == garbage
    assert Path(str(result.safety) + "-wal").read_bytes() == b"old wal"
    assert not Path(str(db_file) + "-wal").exists()  # the old file's WAL must not replay onto the new one
    assert _areas(db_file) == 0
    assert not list(db_file.parent.glob("*.restore"))


def test_restore_into_a_database_in_use_says_to_close_the_app(db_file, tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "BUSY_TIMEOUT", 0.2)  # the real wait is seconds
    good = backup_sqlite(db_file, tmp_path / "bk")
    _add_area(db_file)
    writer = sqlite3.connect(db_file, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another program in the middle of a write
        with pytest.raises(DatabaseError, match="正被其他程序使用.*请先关闭街道工作台"):
            restore_sqlite(db_file, good, [], tmp_path / "safety")
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert _areas(db_file) == 1  # untouched
