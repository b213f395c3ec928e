from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

import tests.testplugin as testplugin
from shell.core.database import open_database
from shell.db.base import Base
from shell.db.engine import make_engine
from shell.db.migrate import SchemaTooNew, backup_sqlite, needs_upgrade, upgrade
from shell.plugins import make_plugin_manager

CORE_TABLES = {"core_areas", "core_users", "core_roles", "core_role_permissions", "core_user_roles",
               "core_settings", "core_audit_log", "core_holidays"}


def _pm():
    return make_plugin_manager(builtins=(), extra=[testplugin], entry_points=False)


def test_upgrade_heads_from_empty_sqlite(tmp_path):
    engine = make_engine(tmp_path / "a.sqlite")
    result = upgrade(engine, [testplugin.register_migrations()])
    assert result.before == set() and result.after == {"c0005", "t0001"}  # t0001 depends on c0001
    assert CORE_TABLES | {"testplug_notes"} <= set(inspect(engine).get_table_names())
    assert result.backup is None  # nothing to back up in a new file
    assert not needs_upgrade(engine, [testplugin.register_migrations()])


def test_upgrade_heads_from_empty_postgresql(pg_empty_url):
    engine = make_engine(pg_empty_url)
    try:
        result = upgrade(engine, [testplugin.register_migrations()])
        assert result.after == {"c0005", "t0001"}
        assert CORE_TABLES | {"testplug_notes"} <= set(inspect(engine).get_table_names())
        # A second desktop starting later finds nothing to do.
        assert upgrade(engine, [testplugin.register_migrations()]).changed is False
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine_kind", ["sqlite", "pg"])
def test_models_match_migrations(engine_kind, tmp_path, request):
    """Autogenerate finds no difference: every model change came with its migration."""
    url = tmp_path / "m.sqlite" if engine_kind == "sqlite" else request.getfixturevalue("pg_empty_url")
    engine = make_engine(url)
    try:
        upgrade(engine, [testplugin.register_migrations()])
        with engine.connect() as conn:
            # Only the branches migrated here: other plugins' models may be imported in this process.
            def ours(obj, name, type_, reflected, compare_to):
                return type_ != "table" or name.startswith(("core_", "testplug_"))

            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": ours})
            diff = compare_metadata(ctx, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_startup_backup_of_existing_sqlite(tmp_path):
    path = tmp_path / "office.sqlite"
    db = open_database(path)  # core only
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO core_settings (key, value, created_at, updated_at, version_id) "
                          "VALUES ('x', '1', '2026-01-01', '2026-01-01', 1)"))
    db.dispose()
    db = open_database(path, pm=_pm())  # the test plugin's branch needs migrating
    try:
        assert db.upgrade.backup is not None and db.upgrade.backup.exists()
        assert db.upgrade.backup.parent == tmp_path / "backups"
        old = make_engine(db.upgrade.backup)
        with old.connect() as conn:
            assert set(MigrationContext.configure(conn).get_current_heads()) == {"c0005"}
            assert conn.execute(text("SELECT value FROM core_settings WHERE key='x'")).scalar() == 1
        old.dispose()
    finally:
        db.dispose()
    # Nothing to migrate → no further backup.
    db = open_database(path, pm=_pm())
    assert db.upgrade.backup is None
    db.dispose()
    assert len(list((tmp_path / "backups").iterdir())) == 1


@pytest.mark.parametrize("engine_kind", ["sqlite", "pg"])
def test_newer_schema_is_refused(engine_kind, tmp_path, request):
    url = tmp_path / "new.sqlite" if engine_kind == "sqlite" else request.getfixturevalue("pg_empty_url")
    db = open_database(url)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('z9999')"))
    db.dispose()
    before = Path(url).read_bytes() if engine_kind == "sqlite" else None
    with pytest.raises(SchemaTooNew) as err:
        open_database(url)
    assert "z9999" in err.value.message and "升级" in err.value.message
    if before is not None:
        assert Path(url).read_bytes() == before


def test_backup_is_a_consistent_copy(tmp_path):
    db = open_database(tmp_path / "w.sqlite")
    with db.engine.begin() as conn:  # data still in the WAL, not yet checkpointed
        conn.execute(text("INSERT INTO core_settings (key, value, created_at, updated_at, version_id) "
                          "VALUES ('k', '\"v\"', '2026-01-01', '2026-01-01', 1)"))
    copy = backup_sqlite(tmp_path / "w.sqlite", tmp_path / "bk")
    db.dispose()
    e = make_engine(copy)
    with e.connect() as conn:
        assert conn.execute(text("SELECT value FROM core_settings WHERE key='k'")).scalar() == '"v"'
    e.dispose()


def test_sqlite_pragmas(sqlite_db):
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_second_start_skips_alembic_but_still_notices_changes(tmp_path):
    """A current schema is recognised without importing Alembic (start-up time); a changed
    alembic_version (another desktop ran a newer program) still goes through the full check."""
    import subprocess
    import sys

    path = tmp_path / "fast.sqlite"
    open_database(path).dispose()
    probe = (
        "import sys; from shell.core.database import open_database; "
        f"db = open_database({str(path)!r}); db.dispose(); "
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    engine = make_engine(path)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('z9999')"))
    engine.dispose()
    with pytest.raises(SchemaTooNew):
        open_database(path)
