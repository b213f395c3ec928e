"""The ``jiedao`` command: in-process through ``main([...])`` and once as a real process."""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shell import cli, hookimpl
from shell.contracts import PluginInfo
from shell.core import auth, settings
from shell.core.database import open_database
from shell.core.models import Area, AuditLog
from shell.plugins import make_plugin_manager

ROOT = Path(__file__).resolve().parents[1]
TEST_PLUGINS = ["tests.testplugin", "tests.testplugin.broken"]


def _test_pm(disabled=()):
    return make_plugin_manager(disabled=disabled, builtins=TEST_PLUGINS, entry_points=False)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No real user data, config, database URL or password; the CLI sees the test plugins."""
    monkeypatch.setenv("JIEDAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JIEDAO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("JIEDAO_DATABASE_URL", raising=False)
    monkeypatch.delenv("JIEDAO_PASSWORD", raising=False)
    monkeypatch.delenv("JIEDAO_DEBUG", raising=False)
    monkeypatch.setattr(cli, "make_pm", _test_pm)
    opened = []
    monkeypatch.setattr(cli, "run_app", lambda database=None: opened.append(database) or 0)
    return opened


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def is_error(err: str) -> bool:
    return any(line.startswith("错误：") for line in err.splitlines())


@pytest.fixture
def demo_file(tmp_path, capsys):
    path = tmp_path / "demo.sqlite"
    code, out, err = run(capsys, "demo", "--db", path, "--no-open")
    assert code == 0, err
    return path


def _notes(path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT count(*) FROM testplug_notes").fetchone()[0]
    finally:
        con.close()


# --- demo ---------------------------------------------------------------------------------------
def test_demo_creates_marked_database_that_opens(demo_file, capsys, isolated):
    db = open_database(demo_file, pm=_test_pm())
    try:
        actor = auth.login(db.session_factory, "admin", "demo1234")
        assert actor.is_superuser
        assert auth.login(db.session_factory, "grid_worker", "demo1234").can("testplug.view")
        assert db.is_demo
        with db.session_factory() as s:
            assert settings.get_value(s, settings.DEMO_FLAG) is True
            assert s.scalar(select(func.count()).select_from(Area).where(Area.level == "grid")) == 12
    finally:
        db.dispose()
    assert _notes(demo_file) == 12  # the test plugin's seed_demo ran
    assert isolated == []  # --no-open


def test_demo_prints_users_roles_and_password(tmp_path, capsys):
    code, out, err = run(capsys, "demo", "--db", tmp_path / "d.sqlite", "--no-open", "--password", "secret-99")
    assert code == 0
    for text in ("社区 3 个", "网格 12 个", "admin", "street_staff", "community_staff", "grid_worker",
                 "系统管理员", "网格员", "便签管理员", "密码：secret-99"):
        assert text in out
    assert "broken" in err  # the broken plugin is reported, the demo still succeeds


def test_demo_opens_the_app_and_defaults_to_data_dir(tmp_path, capsys, isolated):
    code, out, _ = run(capsys, "demo")
    expected = tmp_path / "data" / "jiedao-demo.sqlite"
    assert code == 0 and expected.exists()
    assert isolated == [str(expected)]


def test_demo_refuses_existing_file_without_force(demo_file, capsys):
    code, _, err = run(capsys, "demo", "--db", demo_file, "--no-open")
    assert code == 2 and "错误：" in err and "已存在" in err and "--force" in err
    with sqlite3.connect(demo_file) as con:   # a mark the rebuild must wipe out
        con.execute("UPDATE core_areas SET name = '旧街道' WHERE level = 'street'")
    code, _, err = run(capsys, "demo", "--db", demo_file, "--no-open", "--force")
    assert code == 0, err
    with sqlite3.connect(demo_file) as con:
        assert con.execute("SELECT name FROM core_areas WHERE level = 'street'").fetchone()[0] == "青石街道"
        assert con.execute("SELECT count(*) FROM core_areas WHERE level = 'community'").fetchone()[0] == 3


def test_demo_refuses_weak_password(tmp_path, capsys):
    code, _, err = run(capsys, "demo", "--db", tmp_path / "w.sqlite", "--no-open", "--password", "123")
    assert code == 2 and is_error(err)


def test_demo_scopes_are_the_first_community_and_its_first_grid(tmp_path):
    # medium: 12 communities of 8 grids, so ids reach two digits and "/1/12/" < "/1/2/" as text.
    from shell.core.demo import create_demo
    from shell.core.models import User

    db = create_demo(tmp_path / "m.sqlite", scale="medium")
    try:
        with db.session_factory() as s:
            community = s.get(Area, s.scalar(select(User.area_id).where(User.username == "community_staff")))
            grid = s.get(Area, s.scalar(select(User.area_id).where(User.username == "grid_worker")))
            assert community.name == "和平里社区" and community.sort_order == 0
            assert grid.name == "第一网格" and grid.parent_id == community.id
    finally:
        db.dispose()


class _FailingSeed:
    """A plugin whose demo data cannot be made."""

    __name__ = "failseed"

    @staticmethod
    @hookimpl
    def plugin_info():
        return PluginInfo(name="failseed", title="坏演示", version="1.0")

    @staticmethod
    @hookimpl
    def seed_demo(session, scale, rng):
        raise RuntimeError("演示数据坏了")


def test_demo_warns_about_plugins_that_failed_to_seed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "make_pm", lambda disabled=(): make_plugin_manager(
        builtins=["tests.testplugin"], extra=[_FailingSeed], entry_points=False))
    code, out, err = run(capsys, "demo", "--db", tmp_path / "d.sqlite", "--no-open")
    assert code == 0, err  # the demo is usable without that plugin's data
    assert "已创建演示数据库" in out
    assert "警告：插件“failseed”没有生成演示数据（RuntimeError: 演示数据坏了）" in err
    assert _notes(tmp_path / "d.sqlite") == 12  # the other plugin still seeded

    from shell.core.demo import create_demo

    db = create_demo(tmp_path / "e.sqlite", pm=make_plugin_manager(builtins=[], extra=[_FailingSeed],
                                                                  entry_points=False))
    try:
        assert db.seed_errors == {"failseed": "RuntimeError: 演示数据坏了"}
    finally:
        db.dispose()


# --- db -----------------------------------------------------------------------------------------
def test_db_upgrade_older_database_backs_up_first(tmp_path, capsys):
    path = tmp_path / "old.sqlite"
    open_database(path, pm=None, backup=False).dispose()  # core only: the test plugin's branch is missing
    code, out, _ = run(capsys, "db", "status", "--db", path)
    assert code == 1 and "需要升级" in out
    code, out, err = run(capsys, "db", "upgrade", "--db", path)
    assert code == 0, err
    assert "升级前版本：c0005" in out and "t0001" in out.split("升级后版本：")[1]
    backups = list((tmp_path / "backups").glob("old-升级前-*.sqlite"))
    assert len(backups) == 1 and f"升级前备份：{backups[0]}" in out
    with sqlite3.connect(backups[0]) as con:
        assert {r[0] for r in con.execute("SELECT version_num FROM alembic_version")} == {"c0005"}
    code, out, _ = run(capsys, "db", "upgrade", "--db", path)
    assert code == 0 and "已是最新" in out


def test_db_upgrade_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.sqlite"
    path.touch()
    code, out, _ = run(capsys, "db", "status", "--db", path)
    assert code == 1 and "空数据库" in out
    code, out, err = run(capsys, "db", "upgrade", "--db", path)
    assert code == 0, err
    assert "升级前版本：（空）" in out and "无需备份" in out
    code, out, _ = run(capsys, "db", "status", "--db", path)
    assert code == 0 and "已是最新" in out


def test_db_upgrade_missing_file_is_not_created(tmp_path, capsys):
    path = tmp_path / "nope.sqlite"
    code, _, err = run(capsys, "db", "upgrade", "--db", path)
    assert code == 2 and "数据库文件不存在" in err and "jiedao db init" in err
    assert not path.exists()


def test_db_status(demo_file, capsys):
    code, out, _ = run(capsys, "db", "status", "--db", demo_file)
    assert code == 0
    assert f"本地文件 {demo_file}" in out and "c0005" in out and "t0001" in out
    assert "已是最新" in out and "演示数据库" in out


def test_db_status_newer_than_program(demo_file, capsys, monkeypatch):
    monkeypatch.setattr(cli, "make_pm", lambda disabled=(): make_plugin_manager(builtins=[], entry_points=False))
    code, out, _ = run(capsys, "db", "status", "--db", demo_file)
    assert code == 1 and "比本程序新" in out and "t0001" in out
    code, _, err = run(capsys, "db", "upgrade", "--db", demo_file)  # refused, not touched
    assert code == 2 and "更新版本" in err


def test_db_status_uses_environment_url(demo_file, capsys, monkeypatch):
    monkeypatch.setenv("JIEDAO_DATABASE_URL", str(demo_file))
    code, out, _ = run(capsys, "db", "status")
    assert code == 0 and str(demo_file) in out


def test_db_backup_restore_roundtrip(demo_file, tmp_path, capsys):
    out_file = tmp_path / "save" / "b.sqlite"
    out_file.parent.mkdir()
    code, out, err = run(capsys, "db", "backup", "--db", demo_file, "--out", out_file)
    assert code == 0, err
    assert str(out_file) in out
    code, _, err = run(capsys, "db", "backup", "--db", demo_file, "--out", out_file)
    assert code == 2 and "已存在" in err  # never overwrites
    code, out, _ = run(capsys, "db", "backup", "--db", demo_file)
    assert code == 0 and len(list((tmp_path / "backups").glob("demo-手动备份-*.sqlite"))) == 1

    # Data written after the backup ...
    with sqlite3.connect(demo_file) as con:
        con.execute("UPDATE core_areas SET name = '改名后的街道' WHERE level = 'street'")
    # ... a restore refuses to run without --yes when not on a terminal ...
    code, _, err = run(capsys, "db", "restore", "--db", demo_file, out_file)
    assert code == 2 and "--yes" in err
    # ... and is gone after the restore.
    code, out, err = run(capsys, "db", "restore", "--db", demo_file, out_file, "--yes")
    assert code == 0, err
    with sqlite3.connect(demo_file) as con:
        assert con.execute("SELECT name FROM core_areas WHERE level = 'street'").fetchone()[0] == "青石街道"
    safety = list((tmp_path / "backups").glob("demo-恢复前-*.sqlite"))
    assert len(safety) == 1 and str(safety[0]) in out
    with sqlite3.connect(safety[0]) as con:
        assert con.execute("SELECT name FROM core_areas WHERE level = 'street'").fetchone()[0] == "改名后的街道"
    db = open_database(demo_file, pm=_test_pm())  # the restored file is a working database
    try:
        assert auth.login(db.session_factory, "admin", "demo1234").is_superuser
    finally:
        db.dispose()


@pytest.mark.parametrize("content", [b"this is not a database at all" * 10, b""])
def test_restore_refuses_junk(demo_file, tmp_path, capsys, content):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(content)
    before = demo_file.read_bytes()
    code, _, err = run(capsys, "db", "restore", "--db", demo_file, junk, "--yes")
    assert code == 2 and "错误：" in err and "不是有效的" in err
    assert demo_file.read_bytes() == before
    assert not (tmp_path / "backups").exists()


def test_restore_refuses_foreign_sqlite_file(demo_file, tmp_path, capsys):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE t (x)")
    code, _, err = run(capsys, "db", "restore", "--db", demo_file, other, "--yes")
    assert code == 2 and "不是有效的街道工作台数据库" in err and "core_users" in err


def test_restore_missing_backup_file(demo_file, tmp_path, capsys):
    code, _, err = run(capsys, "db", "restore", "--db", demo_file, tmp_path / "none.sqlite", "--yes")
    assert code == 2 and "备份文件不存在" in err


def test_restore_over_corrupt_database(demo_file, tmp_path, capsys):
    good = tmp_path / "good.sqlite"
    assert run(capsys, "db", "backup", "--db", demo_file, "--out", good)[0] == 0
    demo_file.write_bytes(b"garbage" * 500)
    code, _, err = run(capsys, "db", "status", "--db", demo_file)
    assert code == 2 and "损坏" in err
    code, out, err = run(capsys, "db", "restore", "--db", demo_file, good, "--yes")
    assert code == 0, err
    assert run(capsys, "db", "status", "--db", demo_file)[0] == 0
    assert list((tmp_path / "backups").glob("demo-恢复前-*"))  # the broken file was kept too


def test_backup_and_restore_in_a_folder_with_uri_characters(tmp_path, capsys):
    folder = tmp_path / "备份 #1 ?%"
    folder.mkdir()
    db = folder / "街道.sqlite"
    assert run(capsys, "demo", "--db", db, "--no-open")[0] == 0
    code, out, err = run(capsys, "db", "backup", "--db", db)
    assert code == 0, err
    copy = next((folder / "backups").glob("街道-手动备份-*.sqlite"))
    with sqlite3.connect(db) as con:
        con.execute("UPDATE core_areas SET name = '改名后的街道' WHERE level = 'street'")
    code, out, err = run(capsys, "db", "restore", "--db", db, copy, "--yes")
    assert code == 0, err
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT name FROM core_areas WHERE level = 'street'").fetchone()[0] == "青石街道"
    assert run(capsys, "db", "status", "--db", db)[0] == 0  # a working, current database


def test_restore_refuses_backup_from_a_newer_program(demo_file, tmp_path, capsys):
    newer = tmp_path / "newer.sqlite"
    shutil.copy(demo_file, newer)
    with sqlite3.connect(newer) as con:
        con.execute("INSERT INTO alembic_version VALUES ('ffff00001234')")
    before = demo_file.read_bytes()
    code, _, err = run(capsys, "db", "restore", "--db", demo_file, newer, "--yes")
    assert code == 2 and "更新版本" in err and "ffff00001234" in err
    assert demo_file.read_bytes() == before and not (tmp_path / "backups").exists()


def test_restore_refuses_the_database_itself(demo_file, capsys):
    code, _, err = run(capsys, "db", "restore", "--db", demo_file, demo_file, "--yes")
    assert code == 2 and "就是当前数据库本身" in err


def test_db_init_creates_first_admin_once(tmp_path, capsys, monkeypatch):
    path = tmp_path / "new.sqlite"
    code, _, err = run(capsys, "db", "init", "--db", path, "--admin-user", "chief", "--admin-name", "赵主任")
    assert code == 2 and "JIEDAO_PASSWORD" in err  # no terminal, no password: refused
    monkeypatch.setenv("JIEDAO_PASSWORD", "Str0ng-pass")
    code, out, err = run(capsys, "db", "init", "--db", path, "--admin-user", "chief", "--admin-name", "赵主任")
    assert code == 0, err
    assert "chief" in out
    db = open_database(path, pm=_test_pm())
    try:
        actor = auth.login(db.session_factory, "chief", "Str0ng-pass")
        assert actor.is_superuser and not db.is_demo
    finally:
        db.dispose()
    code, _, err = run(capsys, "db", "init", "--db", path, "--admin-user", "other")
    assert code == 2 and "有用户" in err


def test_db_init_refuses_short_password(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("JIEDAO_PASSWORD", "short")
    code, _, err = run(capsys, "db", "init", "--db", tmp_path / "n.sqlite")
    assert code == 2 and is_error(err)


# --- plugins ------------------------------------------------------------------------------------
def test_plugins_lists_loaded_and_broken(capsys):
    code, out, _ = run(capsys, "plugins")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["名称", "标题", "版本", "来源", "状态", "错误"]
    testplug = next(line for line in lines if line.startswith("testplug"))
    assert "测试插件" in testplug and "1.0" in testplug and "已加载" in testplug
    broken = next(line for line in lines if line.startswith("broken"))
    assert "出错" in broken and "模拟的插件导入错误" in broken


def test_plugins_shows_disabled_from_local_config(capsys):
    from shell.config import LocalConfig

    LocalConfig(disabled_plugins=["testplug"]).save()
    code, out, _ = run(capsys, "plugins")
    assert code == 0
    assert "已停用" in next(line for line in out.splitlines() if line.startswith("testplug"))


# --- import / export ----------------------------------------------------------------------------
@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv("JIEDAO_PASSWORD", "demo1234")


def _notes_file(tmp_path, lines):
    path = tmp_path / "notes.csv"
    path.write_text("\n".join(["辖区编码,标题"] + lines) + "\n", encoding="utf-8")
    return path


def test_import_list(capsys):
    code, out, _ = run(capsys, "import", "--list")
    assert code == 0 and "testplug-notes" in out and "测试便签" in out and "辖区编码" in out


def test_import_with_bad_rows_writes_nothing(demo_file, tmp_path, capsys, password):
    before = _notes(demo_file)
    f = _notes_file(tmp_path, ["330102001001,好的一行", "999,找不到", "330102001002,", "330102001001,又一行"])
    code, out, err = run(capsys, "import", "testplug-notes", f, "--db", demo_file, "--user", "admin")
    assert code != 0
    assert "第 3 行，“辖区编码”列，值“999”：找不到这个辖区编码" in out
    assert "第 4 行，“标题”列" in out and "标题不能为空" in out
    assert "未导入任何数据" in err
    assert _notes(demo_file) == before


def test_import_valid_only_writes_good_rows(demo_file, tmp_path, capsys, password):
    before = _notes(demo_file)
    f = _notes_file(tmp_path, ["330102001001,好的一行", "999,找不到", "330102001001,又一行"])
    code, out, err = run(capsys, "import", "testplug-notes", f, "--valid-only", "--db", demo_file, "--user", "admin")
    assert code == 0, err
    assert "第 3 行" in out and "已导入 2 行" in out
    assert _notes(demo_file) == before + 2
    db = open_database(demo_file, pm=_test_pm())
    try:
        with db.session_factory() as s:
            entry = s.scalars(select(AuditLog).where(AuditLog.action == "import")).one()
            assert entry.actor_name == "管理员" and entry.entity == "testplug-notes"
    finally:
        db.dispose()


def test_import_all_good(demo_file, tmp_path, capsys, password):
    before = _notes(demo_file)
    f = _notes_file(tmp_path, ["330102001001,一", "330102001002,二"])
    code, out, _ = run(capsys, "import", "testplug-notes", f, "--db", demo_file, "--user", "admin")
    assert code == 0 and "已导入 2 行" in out
    assert _notes(demo_file) == before + 2


def test_import_wrong_password(demo_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("JIEDAO_PASSWORD", "wrong-password")
    f = _notes_file(tmp_path, ["330102001001,一"])
    code, _, err = run(capsys, "import", "testplug-notes", f, "--db", demo_file, "--user", "admin")
    assert code == 2 and "错误：用户名或密码不正确" in err
    code, _, err = run(capsys, "import", "testplug-notes", f, "--db", demo_file, "--user", "ghost")
    assert code == 2 and "用户名或密码不正确" in err


def test_import_without_permission(demo_file, tmp_path, capsys, password):
    f = _notes_file(tmp_path, ["330102001001,一"])
    code, _, err = run(capsys, "import", "testplug-notes", f, "--db", demo_file, "--user", "street_staff")
    assert code == 2 and "没有" in err and "testplug.edit" in err


def test_import_bad_usage(demo_file, tmp_path, capsys, password):
    code, _, err = run(capsys, "import", "nosuchkind", tmp_path / "x.csv", "--db", demo_file, "--user", "admin")
    assert code == 2 and "nosuchkind" in err and "testplug-notes" in err
    code, _, err = run(capsys, "import", "testplug-notes", tmp_path / "missing.csv", "--db", demo_file, "--user", "admin")
    assert code == 2 and "不存在" in err
    code, _, err = run(capsys, "import", "testplug-notes", _notes_file(tmp_path, []), "--db", demo_file)
    assert code == 2 and "--user" in err
    code, _, err = run(capsys, "import")
    assert code == 2 and "--list" in err


def test_password_needs_env_when_not_interactive(demo_file, tmp_path, capsys):
    f = _notes_file(tmp_path, ["330102001001,一"])
    code, _, err = run(capsys, "import", "testplug-notes", f, "--db", demo_file, "--user", "admin")
    assert code == 2 and "JIEDAO_PASSWORD" in err


def test_export(demo_file, tmp_path, capsys, password):
    out_file = tmp_path / "export.csv"
    code, out, err = run(capsys, "export", "testplug-notes", out_file, "--db", demo_file, "--user", "admin")
    assert code == 0, err
    assert "12 行" in out
    assert len(out_file.read_text(encoding="utf-8").splitlines()) == 13
    code, _, err = run(capsys, "export", "testplug-notes", out_file, "--db", demo_file, "--user", "admin")
    assert code == 2 and "已存在" in err
    code, out, _ = run(capsys, "export", "testplug-notes", out_file, "--force", "--db", demo_file, "--user", "admin")
    assert code == 0


# --- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("url, words", [
    ("postgresql://nobody@127.0.0.1:1/x", "无法连接数据库服务器"),
    ("mysql://x", "不支持的数据库类型"),
    ("postgresql://a@127.0.0.1:notaport/x", "数据库地址格式不正确"),
    ("://x", "数据库地址格式不正确"),
])
@pytest.mark.parametrize("command", [["db", "status"], ["db", "upgrade"], ["import", "testplug-notes", "FILE"]])
def test_bad_url_gives_chinese_message(tmp_path, capsys, url, words, command, password):
    f = _notes_file(tmp_path, ["1,一"])
    argv = [str(f) if a == "FILE" else a for a in command] + ["--url", url, "--user", "admin"][: 2 if command[0] == "db" else 4]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert is_error(err) and words in err


def test_read_only_database(demo_file, capsys, password, tmp_path, monkeypatch):
    demo_file.chmod(0o444)
    if os.geteuid() == 0:  # root writes anyway: let the permission check see what a user would see
        import shell.core.database as database

        real = os.access
        monkeypatch.setattr(database.os, "access", lambda p, mode: False if mode == os.W_OK else real(p, mode))
    try:
        f = _notes_file(tmp_path, ["330102001001,一"])
        before = _notes(demo_file)
        code, _, err = run(capsys, "import", "testplug-notes", f, "--db", demo_file, "--user", "admin")
        assert code == 2 and is_error(err) and "只读" in err
        assert _notes(demo_file) == before
    finally:
        demo_file.chmod(0o644)


def test_directory_as_database(tmp_path, capsys):
    code, _, err = run(capsys, "db", "status", "--db", tmp_path)
    assert code == 2 and "文件夹" in err


def test_unexpected_error_is_short(demo_file, capsys, monkeypatch):
    def boom(args):
        raise RuntimeError("内部故障")

    monkeypatch.setattr(cli, "cmd_db_status", boom)
    code, _, err = run(capsys, "db", "status", "--db", demo_file)
    assert code == 1 and "内部故障" in err and "JIEDAO_DEBUG" in err


def test_usage_error_is_chinese(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--scale", "huge"])
    assert exc.value.code == 2
    assert "错误：参数有误" in capsys.readouterr().err


def test_no_arguments_opens_the_app(capsys, isolated, tmp_path):
    assert cli.main([]) == 0
    assert cli.main(["--db", str(tmp_path / "x.sqlite")]) == 0
    assert isolated == [None, str(tmp_path / "x.sqlite")]


def test_top_level_db_option_applies_to_subcommands(demo_file, capsys):
    code, out, _ = run(capsys, "--db", demo_file, "db", "status")
    assert code == 0 and str(demo_file) in out


# --- PostgreSQL ---------------------------------------------------------------------------------
@pytest.mark.pg
def test_pg_demo_status_import_backup(pg_server, pg_empty_url, tmp_path, capsys, password):
    url = pg_empty_url.render_as_string(hide_password=False)
    code, out, err = run(capsys, "demo", "--url", url, "--no-open")
    assert code == 0, err
    assert "服务器 127.0.0.1" in out
    code, out, _ = run(capsys, "db", "status", "--url", url)
    assert code == 0 and "已是最新" in out and "演示数据库" in out
    code, out, _ = run(capsys, "db", "upgrade", "--url", url)
    assert code == 0 and "已是最新" in out
    f = _notes_file(tmp_path, ["330102001001,一", "bad,二"])
    code, out, _ = run(capsys, "import", "testplug-notes", f, "--url", url, "--user", "admin")
    assert code == 1 and "第 3 行" in out
    code, out, _ = run(capsys, "import", "testplug-notes", f, "--url", url, "--user", "admin", "--valid-only")
    assert code == 0 and "已导入 1 行" in out
    code, out, err = run(capsys, "db", "backup", "--url", url, "--out", tmp_path / "s.dump")
    assert code == 0 and "pg_dump" in out, err
    code, _, err = run(capsys, "demo", "--url", url, "--no-open")
    assert code == 2 and "已有数据" in err
    from sqlalchemy import text

    from shell.db.security.naming import street_key
    from tests.security.conftest import drop_street_roles

    with pg_server.connect() as conn:   # the demo was secured: its roles are cluster-wide
        conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_empty_url.database}" WITH (FORCE)'))
    drop_street_roles(pg_server, street_key(pg_empty_url.database))


@pytest.mark.pg
def test_pg_db_init_creates_database(pg_server, capsys, monkeypatch):
    import uuid

    from sqlalchemy import text

    name = f"jd_test_init_{uuid.uuid4().hex[:10]}"
    url = pg_server.url.set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("JIEDAO_PASSWORD", "Str0ng-pass")
    monkeypatch.setenv("JIEDAO_OWNER_PASSWORD", "Str0ng-owner-pass")   # as postgres, db init secures too
    try:
        code, out, err = run(capsys, "db", "init", "--url", url)
        assert code == 0, err
        assert "已在服务器上创建数据库" in out and "admin" in out and "已加固" in out
        code, out, _ = run(capsys, "db", "status", "--url", url)
        assert code == 0 and "已是最新" in out and "用户数：1" in out
    finally:
        from shell.db.security.naming import street_key
        from tests.security.conftest import drop_street_roles

        with pg_server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        drop_street_roles(pg_server, street_key(name))


# --- the real entry point -----------------------------------------------------------------------
def _entry_point() -> list[str]:
    script = Path(sys.executable).parent / "jiedao"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "shell"]


def test_console_script_demo_then_open(tmp_path):
    """From a clean state: the installed command creates a demo database that opens afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIEDAO_")}
    env.update(JIEDAO_DATA_DIR=str(tmp_path / "data"), JIEDAO_CONFIG_DIR=str(tmp_path / "config"),
               PYTHONPATH=str(ROOT))
    path = tmp_path / "x.sqlite"
    probe = ("import sys; from shell.cli import main; rc = main(['demo', '--db', sys.argv[1], '--no-open']);"
             "print('QT-IMPORTED' if any(m.startswith('PySide6') for m in sys.modules) else 'NO-QT'); sys.exit(rc)")

    def call(*argv):
        return subprocess.run(list(argv), env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=300)

    proc = call(*_entry_point(), "demo", "--db", str(path), "--no-open")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "demo1234" in proc.stdout
    proc = call(sys.executable, "-m", "shell", "--version")
    assert proc.returncode == 0 and "街道工作台" in proc.stdout
    db = open_database(path, pm=make_plugin_manager(entry_points=False))
    try:
        assert auth.login(db.session_factory, "admin", "demo1234").is_superuser
        assert db.is_demo
    finally:
        db.dispose()
    # Data commands never import Qt.
    proc = call(sys.executable, "-c", probe, str(tmp_path / "z.sqlite"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("NO-QT")
    # A bad URL through the real process: Chinese message, exit 2, no traceback.
    proc = call(*_entry_point(), "db", "status", "--url", "mysql://x")
    assert proc.returncode == 2 and is_error(proc.stderr) and "Traceback" not in proc.stderr


# --- README and CI stay in sync -----------------------------------------------------------------
def readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- test-command -->")
    block = text[start:].split("```", 2)[1]
    lines = [line for line in block.splitlines()[1:] if line.strip()]
    assert len(lines) == 1, lines
    return lines[0].strip()


def test_readme_test_command_is_what_ci_runs():
    command = readme_test_command()
    assert "pytest" in command and "[test]" in command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert command in ci
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


# --- calendar (issue 14.3) ----------------------------------------------------------------------
def test_calendar_show_lists_a_known_year_and_warns_for_an_unknown_one(demo_file, capsys):
    code, out, err = run(capsys, "calendar", "show", "2026", "--db", demo_file)
    assert code == 0, err
    assert "2026 年节假日安排：放假（休）19 天，调休上班（班）6 天" in out
    assert re.search(r"2026-10-01\s+星期四\s+休\s+国庆节\s+chinese-calendar", out)
    assert re.search(r"2026-01-04\s+星期日\s+班\s+元旦", out)
    code, out, err = run(capsys, "calendar", "show", "2027", "--db", demo_file)
    assert code == 0 and "2027 年节假日安排尚未录入，期限按周末计算，请管理员录入" in out
    with pytest.raises(SystemExit) as exit_:
        cli.main(["calendar", "show", "二〇二七", "--db", str(demo_file)])
    assert exit_.value.code == 2 and "年份“二〇二七”无效，应写成 2027" in capsys.readouterr().err


def test_calendar_import_row_errors_permission_and_success(demo_file, capsys, monkeypatch, tmp_path):
    from tests.core.test_calendar import sheet

    monkeypatch.setenv("JIEDAO_PASSWORD", "demo1234")
    bad = sheet(tmp_path / "bad.xlsx", [("2027-01-01", "休", "元旦"), ("2027-01-07", "放", "")])
    code, out, err = run(capsys, "calendar", "import", bad, "--db", demo_file, "--user", "admin")
    assert code == 1 and "第 3 行，“休/班”列，值“放”：应填“休”（放假）或“班”（调休上班）。" in out
    assert "未导入任何数据" in err
    good = sheet(tmp_path / "good.xlsx", [("2027-01-01", "休", "元旦"), ("2027-02-06", "班", "春节")])
    code, _, err = run(capsys, "calendar", "import", good, "--db", demo_file, "--user", "grid_worker")
    assert code == 2 and "修改系统设置与规则" in err
    code, out, err = run(capsys, "calendar", "import", good, "--db", demo_file, "--user", "admin")
    assert code == 0 and "已导入 2027 年节假日安排，共 2 天" in out, err
    code, out, _ = run(capsys, "calendar", "show", "2027", "--db", demo_file)
    assert code == 0 and re.search(r"2027-01-01\s+星期五\s+休\s+元旦\s+导入", out) and "尚未录入" not in out
    code, _, err = run(capsys, "calendar", "import", good, "--db", demo_file)
    assert code == 2 and "--user" in err


def test_calendar_template_and_help(capsys, tmp_path):
    code, out, _ = run(capsys, "calendar", "template", tmp_path / "t.xlsx", "--year", "2027")
    assert code == 0 and "已生成 2027 年节假日安排模板" in out and (tmp_path / "t.xlsx").exists()
    code, _, err = run(capsys, "calendar", "template", tmp_path / "t.xlsx")
    assert code == 2 and "已存在" in err
    with pytest.raises(SystemExit):
        cli.main(["calendar", "import", "-h"])
    out = capsys.readouterr().out
    assert "日期、休/班、名称" in out and "--user" in out and "显示帮助并退出" in out
