"""Bad input on the database side: every failure is a DatabaseError with a Chinese message that says
what to do next, nothing crashes, and an existing database file is never modified when opening fails.
(The dialogs that show these messages are tested by the UI tests.)"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import stat
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

import tests.testplugin as testplugin
from shell.core.database import open_database
from shell.db.backup import sqlite_uri
from shell.db.engine import check_connection, normalize_url
from shell.errors import DatabaseError, SchemaTooNew
from shell.plugins import make_plugin_manager
from shell.testing import CORE

CJK = re.compile(r"[\u4e00-\u9fff]")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_state(folder: Path) -> dict[str, str]:
    return {p.name: digest(p) for p in folder.iterdir() if p.is_file()}


def assert_chinese(message: str, *needles: str) -> None:
    assert CJK.search(message), message
    for n in needles:
        assert n in message, f"{n!r} not in message: {message}"


@pytest.fixture(scope="session")
def demo_template(sqlite_templates):
    """A real, populated database (core only): the run's template, only ever read here."""
    return sqlite_templates.path(CORE, demo=True)


@pytest.fixture
def existing_db(demo_template, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "jiedao.sqlite"
    path.write_bytes(demo_template.read_bytes())
    return path


# --- URLs ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["postgresql://::bad", "postgresql://u@host:notaport/x"])
def test_malformed_url_says_which_format_is_expected(url):
    for call in (normalize_url, open_database, check_connection):
        with pytest.raises(DatabaseError) as info:
            call(url)
        assert_chinese(str(info.value), "格式不正确", "postgresql://")


@pytest.mark.parametrize("url", ["mysql://u@h/x", "oracle://scott@db/orcl"])
def test_unsupported_database_type_names_what_is_supported(url):
    with pytest.raises(DatabaseError) as info:
        open_database(url)
    assert_chinese(str(info.value), "不支持", "SQLite", "PostgreSQL")


@pytest.mark.parametrize("url", ["", "   "])
def test_empty_url(url):
    with pytest.raises(DatabaseError) as info:
        open_database(url)
    assert_chinese(str(info.value), "未指定数据库", "PostgreSQL")


def test_unreachable_server_is_reported_quickly():
    start = time.monotonic()
    with pytest.raises(DatabaseError) as info:
        open_database("postgresql://postgres@127.0.0.1:1/x")
    assert time.monotonic() - start < 10
    msg = str(info.value)
    assert_chinese(msg, "无法连接数据库服务器", "127.0.0.1:1", "请确认", "防火墙")
    with pytest.raises(DatabaseError, match="127.0.0.1:1"):
        check_connection("postgresql://postgres@127.0.0.1:1/x")


def test_wrong_database_name_on_real_server(pg_server):
    name = f"jd_missing_{uuid.uuid4().hex[:10]}"
    url = pg_server.url.set(database=name).render_as_string(hide_password=False)
    with pytest.raises(DatabaseError) as info:
        open_database(url)
    assert_chinese(str(info.value), "没有这个数据库", name, "jiedao db init")
    with pytest.raises(DatabaseError, match="没有这个数据库"):
        check_connection(url)


# --- damaged SQLite files ------------------------------------------------------------------------------
def test_random_bytes_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "junk.sqlite"
    path.write_bytes(os.urandom(64 * 1024))
    before = folder_state(tmp_path)
    with pytest.raises(DatabaseError) as info:
        open_database(path)
    assert_chinese(str(info.value), "损坏", "从备份恢复", "jiedao db restore")
    assert folder_state(tmp_path) == before


def test_valid_header_with_garbage_body_is_refused_and_untouched(existing_db):
    data = existing_db.read_bytes()
    existing_db.write_bytes(data[:100] + os.urandom(len(data) - 100))
    before = folder_state(existing_db.parent)
    with pytest.raises(DatabaseError) as info:
        open_database(existing_db)
    assert_chinese(str(info.value), "损坏", "从备份恢复")
    assert folder_state(existing_db.parent) == before


def test_truncated_file_is_refused_and_untouched(demo_template, tmp_path):
    path = tmp_path / "truncated.sqlite"
    path.write_bytes(demo_template.read_bytes()[:4096])
    before = folder_state(tmp_path)
    with pytest.raises(DatabaseError) as info:
        open_database(path)
    assert_chinese(str(info.value), "损坏", "从备份恢复", str(path))
    assert folder_state(tmp_path) == before


def test_missing_file_without_create(tmp_path):
    path = tmp_path / "nope.sqlite"
    with pytest.raises(DatabaseError) as info:
        open_database(path, create=False)
    assert_chinese(str(info.value), "数据库文件不存在", str(path))
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path):
    with pytest.raises(DatabaseError, match="文件夹不存在"):
        open_database(tmp_path / "no" / "such" / "x.sqlite")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_not_a_database(tmp_path):
    (tmp_path / "dir.sqlite").mkdir()
    with pytest.raises(DatabaseError, match="文件夹"):
        open_database(tmp_path / "dir.sqlite")


# --- read-only files and folders --------------------------------------------------------------------------
def _pretend_read_only(monkeypatch, *paths: Path) -> None:
    """Tests run as root in CI, and chmod does not stop root from writing. So when running as root,
    make os.access (what open_database consults) answer "not writable" for these paths, as it would
    for an ordinary user."""
    if not IS_ROOT:
        return
    real_access = os.access
    ro = {os.path.abspath(p) for p in paths}

    def fake_access(path, mode, *args, **kwargs):
        if mode & os.W_OK and os.path.abspath(os.fspath(path)) in ro:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", fake_access)


def test_read_only_file(existing_db, monkeypatch):
    before = folder_state(existing_db.parent)
    existing_db.chmod(0o444)
    _pretend_read_only(monkeypatch, existing_db)
    try:
        with pytest.raises(DatabaseError) as info:
            open_database(existing_db)
    finally:
        existing_db.chmod(0o644)
    assert_chinese(str(info.value), "只读", "权限")
    assert folder_state(existing_db.parent) == before


def test_read_only_folder(existing_db, monkeypatch):
    folder = existing_db.parent
    before = folder_state(folder)
    folder.chmod(0o555)
    _pretend_read_only(monkeypatch, folder)
    try:
        with pytest.raises(DatabaseError) as info:
            open_database(existing_db)
        assert_chinese(str(info.value), "只读", "文件夹")
        with pytest.raises(DatabaseError) as info_new:  # a new database cannot be created there either
            open_database(folder / "new.sqlite")
        assert_chinese(str(info_new.value), "不可写入")
    finally:
        folder.chmod(stat.S_IRWXU)
    assert folder_state(folder) == before


# --- newer schema and the start-up backup ------------------------------------------------------------------
def _add_unknown_revision(path: Path) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute("INSERT INTO alembic_version (version_num) VALUES ('f9999_from_the_future')")
        con.commit()
    finally:
        con.close()


def test_newer_schema_is_refused_and_file_unchanged(existing_db):
    open_database(existing_db).dispose()  # up to date
    _add_unknown_revision(existing_db)
    before = folder_state(existing_db.parent)
    with pytest.raises(SchemaTooNew) as info:
        open_database(existing_db)
    assert_chinese(str(info.value), "f9999_from_the_future", "升级")
    assert isinstance(info.value, DatabaseError)
    assert folder_state(existing_db.parent) == before
    assert not (existing_db.parent / "backups").exists()


def test_refused_rollback_journal_database_is_not_modified(existing_db):
    """A database in rollback-journal mode (e.g. made by another tool or an older program) that is
    refused must come out byte-for-byte the same: the engine's connect hook must not switch it to WAL
    (which rewrites the header) before the checks have passed."""
    con = sqlite3.connect(existing_db)
    assert con.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    con.close()
    _add_unknown_revision(existing_db)
    before = folder_state(existing_db.parent)
    with pytest.raises(SchemaTooNew):
        open_database(existing_db)
    after = folder_state(existing_db.parent)
    assert after == before, "opening a refused database changed the file (journal mode switched to WAL?)"


def test_newer_schema_refused_on_postgresql(pg_empty_url):
    open_database(pg_empty_url, backup=False).dispose()
    from sqlalchemy import create_engine

    engine = create_engine(pg_empty_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('f9999_from_the_future')"))
    with pytest.raises(SchemaTooNew, match="f9999_from_the_future"):
        open_database(pg_empty_url)
    with engine.connect() as conn:
        assert "f9999_from_the_future" in set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()


def test_startup_upgrade_backs_up_first(existing_db):
    folder = existing_db.parent
    open_database(existing_db).dispose()  # core branch only, up to date: no backup needed
    assert not (folder / "backups").exists()
    con = sqlite3.connect(existing_db)
    users = con.execute("SELECT count(*) FROM core_users").fetchone()[0]
    con.close()
    assert users > 0

    pm = make_plugin_manager(builtins=(), extra=[testplugin], entry_points=False)
    db = open_database(existing_db, pm=pm)
    try:
        assert db.upgrade is not None and db.upgrade.changed and "t0001" in db.upgrade.after
        backup = db.upgrade.backup
        assert backup is not None and backup.parent == folder / "backups"
        assert list((folder / "backups").iterdir()) == [backup]
        assert re.search(r"\d{8}-\d{6}", backup.name), backup.name
    finally:
        db.dispose()

    con = sqlite3.connect(sqlite_uri(backup), uri=True)
    try:
        assert {r[0] for r in con.execute("SELECT version_num FROM alembic_version")} == {"c0005"}
        assert con.execute("SELECT count(*) FROM core_users").fetchone()[0] == users
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "testplug_notes" not in tables
    finally:
        con.close()

    # opening an up-to-date database again makes no further backup
    again = open_database(existing_db, pm=pm)
    again.dispose()
    assert again.upgrade.backup is None
    # (a read-only connection to a WAL file, like the check above, may leave -wal/-shm beside it)
    assert len(list((folder / "backups").glob("*.sqlite"))) == 1


def test_new_database_needs_no_backup(tmp_path):
    db = open_database(tmp_path / "fresh.sqlite")
    try:
        assert db.upgrade.before == set() and db.upgrade.backup is None
    finally:
        db.dispose()
    assert not (tmp_path / "backups").exists()
