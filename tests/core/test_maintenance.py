import pytest
from sqlalchemy import select, text

from shell.config import split_password, with_stored_password
from shell.core import maintenance
from shell.core.context import Actor
from shell.core.models import AuditLog
from shell.db.engine import make_engine
from shell.errors import DatabaseError, PermissionDenied
from tests.core.helpers import admin


def test_split_password_really_drops_it():
    without, password = split_password("postgresql://clerk:s3cret@192.0.2.1:5432/jiedao")
    assert password == "s3cret" and "s3cret" not in without and without.startswith("postgresql://clerk@")
    assert split_password("/home/a/jiedao.sqlite") == ("/home/a/jiedao.sqlite", None)


def test_backup_and_restore_roundtrip_with_audit(sqlite_db, tmp_path):
    actor = admin(sqlite_db)
    path = sqlite_db.url.database
    copy = maintenance.backup_file(actor, path, tmp_path / "bk")
    with sqlite_db.engine.begin() as conn:
        conn.execute(text("UPDATE core_users SET display_name = '备份后改的'"))
    sqlite_db.dispose()
    safety = maintenance.restore_file(actor, path, copy, tmp_path / "safety")
    assert safety.exists()
    engine = make_engine(path)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT display_name FROM core_users")).scalar() == "管理员"
    with make_engine(safety).connect() as conn:
        assert conn.execute(text("SELECT display_name FROM core_users")).scalar() == "备份后改的"
    from sqlalchemy.orm import Session
    with Session(engine) as s:
        last = s.scalar(select(AuditLog).order_by(AuditLog.id.desc()).limit(1))
        assert last.action == "restore" and last.actor_name == "管理员" and copy.name in last.summary
    engine.dispose()


def test_restore_refuses_junk_and_needs_permission(sqlite_db, tmp_path):
    actor = admin(sqlite_db)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    before = open(sqlite_db.url.database, "rb").read()
    with pytest.raises(DatabaseError, match="不是街道工作台的数据库备份"):
        maintenance.restore_file(actor, sqlite_db.url.database, junk)
    assert open(sqlite_db.url.database, "rb").read() == before
    clerk = Actor(user_id=99, username="clerk", display_name="办事员", permissions=frozenset({"core.area.view"}))
    with pytest.raises(PermissionDenied):
        maintenance.backup_file(clerk, sqlite_db.url.database, tmp_path)


@pytest.mark.parametrize("raw", ["postgresql://clerk@192.0.2.1:abc/jiedao", "postgresql://clerk@[::1/jiedao",
                                 "://nothing"])
def test_with_stored_password_returns_a_malformed_url_unchanged(raw):
    # Opening it later explains the mistake in Chinese; a ValueError here would be a traceback.
    assert with_stored_password(raw) == raw


def test_restore_file_knows_plugin_revisions_only_from_the_branches_passed(tmp_path):
    import tests.testplugin
    from shell.core.database import open_database
    from shell.db.migrate import plugin_branches
    from shell.plugins import make_plugin_manager

    pm = make_plugin_manager(builtins=[], extra=[tests.testplugin], entry_points=False)
    path = tmp_path / "with-plugin.sqlite"
    db = open_database(path, pm=pm, backup=False)
    actor = admin(db)
    db.dispose()
    copy = maintenance.backup_file(actor, path, tmp_path / "bk")
    with pytest.raises(DatabaseError, match="更新版本|未安装的插件"):
        maintenance.restore_file(actor, path, copy)  # core only: the plugin's revision is unknown
    assert maintenance.restore_file(actor, path, copy, branches=plugin_branches(pm)).exists()


def test_auto_backup_keeps_the_newest_n(sqlite_db, tmp_path):
    from shell.core import settings
    from shell.core.context import ServiceContext

    with sqlite_db.session_factory() as s:
        settings.set_value(ServiceContext(s, Actor.system()), settings.definitions()["core.backup.keep"], 3)
        s.commit()
    made = [maintenance.auto_backup(sqlite_db, tmp_path / "bk", force=True) for _ in range(5)]
    kept = maintenance.auto_backups(sqlite_db.url.database, tmp_path / "bk")
    assert len(kept) == 3 and kept[0] == made[-1]  # the three newest, newest first
    assert len(list((tmp_path / "bk").iterdir())) == 3
    engine = make_engine(kept[0])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM core_settings WHERE key = 'core.backup.keep'")).scalar() in (3, "3")
    engine.dispose()
    # A manual backup in the same folder is never pruned by the automatic ones.
    manual = maintenance.backup_file(Actor.system(), sqlite_db.url.database, tmp_path / "bk")
    maintenance.auto_backup(sqlite_db, tmp_path / "bk", force=True)
    assert manual.exists()


def test_auto_backup_only_when_the_data_changed(sqlite_db, tmp_path):
    from shell.core import audit, settings
    from shell.core.context import ServiceContext

    folder = tmp_path / "bk"
    first = maintenance.auto_backup(sqlite_db, folder)
    assert first is not None                                  # none yet: made
    assert maintenance.auto_backup(sqlite_db, folder) is None  # nothing changed since
    with sqlite_db.session_factory() as s:                     # a login and a look change no data
        audit.record(s, "login", "core_users", 1, "登录成功")
        audit.record(s, "view_full_id", "grid_persons", 7, "查看完整身份证号")
        s.commit()
    assert maintenance.auto_backup(sqlite_db, folder) is None
    with sqlite_db.session_factory() as s:                     # a real change does
        settings.set_value(ServiceContext(s, Actor.system()), settings.definitions()["core.backup.keep"], 4)
        s.commit()
    second = maintenance.auto_backup(sqlite_db, folder)
    assert second is not None and maintenance.auto_backups(sqlite_db.url.database, folder) == [second, first]
    first.write_bytes(b"")                                     # an unreadable newest backup is replaced
    second.write_bytes(b"not a database")
    assert maintenance.auto_backup(sqlite_db, folder) is not None


@pytest.mark.pg
def test_auto_backup_leaves_a_server_database_to_pg_dump(pg_db):
    assert maintenance.auto_backup(pg_db) is None
