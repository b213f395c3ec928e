"""A SQLite file on a network share, or held by another program: a clear Chinese warning or error,
and the file left as it was."""
from __future__ import annotations

import sqlite3

import pytest

from shell.core import database as database_module
from shell.core.database import is_network_path, open_database
from shell.errors import DatabaseError


def test_network_share_is_recognised_from_the_mount_table(tmp_path):
    mounts = tmp_path / "mounts"
    share = tmp_path / "share"
    share.mkdir()
    mounts.write_text(f"/dev/sda1 / ext4 rw 0 0\n//server/公共 {share} cifs rw 0 0\n", encoding="utf-8")
    assert is_network_path(share / "jiedao.sqlite", mounts_file=mounts)
    assert not is_network_path(tmp_path / "local.sqlite", mounts_file=mounts)
    # The longest matching mount point wins: a local disk mounted inside the share is local.
    inner = share / "local"
    mounts.write_text(mounts.read_text(encoding="utf-8") + f"/dev/sdb1 {inner} ext4 rw 0 0\n", encoding="utf-8")
    assert not is_network_path(inner / "jiedao.sqlite", mounts_file=mounts)


def test_opening_a_file_on_a_share_warns(tmp_path, monkeypatch):
    monkeypatch.setattr(database_module, "is_network_path", lambda path: True)
    db = open_database(tmp_path / "jiedao.sqlite", backup=False)
    try:
        assert len(db.warnings) == 1
        assert "位于网络共享上" in db.warnings[0] and "PostgreSQL" in db.warnings[0]
    finally:
        db.dispose()


def test_a_file_locked_by_another_program_is_refused_in_chinese(tmp_path, monkeypatch):
    from shell.db import engine as engine_module

    path = tmp_path / "jiedao.sqlite"
    open_database(path, backup=False).dispose()
    # Another program (say a database browser) holds an exclusive write transaction, in the
    # rollback-journal mode such programs often switch the file to.
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode = DELETE")
    other.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 300)
    try:
        with pytest.raises(DatabaseError) as caught:
            open_database(path, backup=False)
        assert "正被其他程序占用" in caught.value.message
    finally:
        other.execute("ROLLBACK")
        other.close()
    open_database(path, backup=False).dispose()  # usable again once the other program lets go
