"""Setting up a township server: ``jiedao db migrate-from-sqlite`` (every row, verified, never twice)
and ``jiedao db backup`` / ``restore`` on PostgreSQL through pg_dump / pg_restore."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from shell import cli
from shell.core import areas
from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.db.engine import make_engine
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
from shell.testing import PluginSet

pytestmark = pytest.mark.pg
ALL = list(BUILTIN_PLUGINS) + ["tests.testplugin"]


def _pm(disabled=()):
    return make_plugin_manager(disabled=disabled, builtins=ALL, entry_points=False)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("JIEDAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JIEDAO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("JIEDAO_DATABASE_URL", raising=False)
    monkeypatch.setenv("JIEDAO_PASSWORD", "demo1234")
    monkeypatch.setattr(cli, "make_pm", _pm)


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(scope="module")
def street_file(tmp_path_factory, sqlite_templates):
    """A demo street with every built-in plugin (and the test plugin), where one grid was moved under
    a community created after it (so a child row has a smaller id than its parent)."""
    path = tmp_path_factory.mktemp("src") / "street.sqlite"
    db = sqlite_templates.open(path, PluginSet(builtins=tuple(ALL)), demo=True, pm=_pm())
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = areas.list_areas(s, level="street")[0]
        grid = areas.list_areas(s, level="grid")[0]
        newer = areas.create_area(ctx, "新建社区", "community", street.id)
        s.flush()
        areas.move_area(ctx, grid.id, newer.id)
        s.commit()
        assert grid.id < newer.id
    db.dispose()
    return path


def _counts(engine) -> dict[str, int]:
    from sqlalchemy import inspect

    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar()
                for t in inspect(engine).get_table_names() if t != "alembic_version"}


def test_migrate_from_sqlite_moves_every_row_and_refuses_a_second_run(street_file, pg_empty_url, capsys):
    url = pg_empty_url.render_as_string(hide_password=False)
    before = street_file.read_bytes()
    code, out, err = run(capsys, "db", "migrate-from-sqlite", street_file, "--url", url)
    assert code == 0, err
    assert "行数和校验和全部一致" in out
    assert street_file.read_bytes() == before  # the desktop's file is left as it was

    src, dst = make_engine(street_file), make_engine(pg_empty_url)
    try:
        src_counts, dst_counts = _counts(src), _counts(dst)
        assert dst_counts["core_audit_log"] == src_counts["core_audit_log"] > 0
        assert {k: v for k, v in dst_counts.items() if k in src_counts} == src_counts
        assert dst_counts["grid_persons"] > 0 and dst_counts["volunteer_points_ledger"] > 0
        with dst.connect() as conn:   # the planner knows what arrived (ANALYZE after the copy)
            estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'grid_persons'")).scalar()
        assert estimate == dst_counts["grid_persons"]
    finally:
        src.dispose()
        dst.dispose()

    # The server database works: a demo user logs in, sequences were moved past the copied ids.
    db = open_database(pg_empty_url, pm=_pm(), backup=False)
    try:
        from shell.core import auth

        actor = auth.login(db.session_factory, "admin", "demo1234")
        with db.session_factory() as s:
            ctx = ServiceContext(s, actor)
            street = areas.list_areas(s, level="street")[0]
            created = areas.create_area(ctx, "服务器上新建的社区", "community", street.id)
            s.commit()
            assert created.id > s.scalar(select(func.max(areas.Area.id)).where(areas.Area.id != created.id))
    finally:
        db.dispose()

    code, _, err = run(capsys, "db", "migrate-from-sqlite", street_file, "--url", url)
    assert code == 2 and "已经有数据" in err


def test_a_failed_verification_leaves_the_server_empty(street_file, pg_empty_url, capsys, monkeypatch):
    from shell.db import serverize

    real = serverize.table_checksum
    calls = []

    def tampered(conn, table):
        rows, digest = real(conn, table)
        calls.append(table.name)
        if table.name == "grid_persons" and conn.dialect.name == "postgresql":
            digest = "0" * 64
        return rows, digest

    monkeypatch.setattr(serverize, "table_checksum", tampered)
    code, _, err = run(capsys, "db", "migrate-from-sqlite", street_file, "--url",
                       pg_empty_url.render_as_string(hide_password=False))
    assert code == 2 and "核对不一致，已全部撤销" in err and "grid_persons" in err
    engine = make_engine(pg_empty_url)
    try:
        counts = _counts(engine)
        assert counts["core_users"] == 0 and counts["grid_persons"] == 0 and counts["core_audit_log"] == 0
    finally:
        engine.dispose()


def test_migrate_needs_a_server_url(street_file, tmp_path, capsys):
    code, _, err = run(capsys, "db", "migrate-from-sqlite", street_file, "--url", tmp_path / "x.sqlite")
    assert code == 2 and "PostgreSQL" in err


def test_pg_backup_and_restore_round_trip(pg_server, pg_empty_url, tmp_path, capsys, monkeypatch):
    """On a secured demo (``jiedao demo --url`` as postgres secures it): backup and restore keep it."""
    from shell.db.security.naming import street_key
    from tests.security.conftest import drop_street_roles

    try:
        _backup_and_restore(pg_empty_url, tmp_path, capsys, monkeypatch)
    finally:
        with pg_server.connect() as conn:   # the roles are cluster-wide: after the database
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_empty_url.database}" WITH (FORCE)'))
        drop_street_roles(pg_server, street_key(pg_empty_url.database))


def _backup_and_restore(pg_empty_url, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "make_pm", lambda disabled=(): make_plugin_manager(
        disabled=disabled, builtins=["tests.testplugin"], entry_points=False))
    url = pg_empty_url.render_as_string(hide_password=False)
    code, _, err = run(capsys, "demo", "--url", url, "--no-open")
    assert code == 0, err
    dump = tmp_path / "server.dump"
    code, out, err = run(capsys, "db", "backup", "--url", url, "--out", dump)
    assert code == 0, err
    assert dump.read_bytes()[:5] == b"PGDMP" and "pg_dump" in out

    engine = make_engine(pg_empty_url)
    try:
        with engine.begin() as conn:
            before = conn.execute(text("SELECT COUNT(*) FROM core_areas")).scalar()
            conn.execute(text("UPDATE core_areas SET name = '改过的名字' WHERE level = 'street'"))
        code, _, err = run(capsys, "db", "restore", dump, "--url", url)
        assert code == 2 and "--yes" in err  # not interactive: asks for explicit confirmation
        code, out, err = run(capsys, "db", "restore", dump, "--url", url, "--yes")
        assert code == 0, err
        assert "恢复前的数据库已另存为" in out
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM core_areas")).scalar() == before
            assert conn.execute(text("SELECT COUNT(*) FROM core_areas WHERE name = '改过的名字'")).scalar() == 0
        # The append-only guard came back with the data, and so did the security model.
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM core_audit_log"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM core_security")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM core_users WHERE server_role IS NOT NULL")).scalar() > 0
    finally:
        engine.dispose()
    assert list(tmp_path.glob("*恢复前*.dump"))


def test_restore_refuses_a_file_that_is_not_a_dump(pg_empty_url, tmp_path, capsys):
    bogus = tmp_path / "notes.dump"
    bogus.write_text("hello", encoding="utf-8")
    code, _, err = run(capsys, "db", "restore", bogus, "--url", pg_empty_url.render_as_string(), "--yes")
    assert code == 2 and "不是 pg_dump 生成的备份文件" in err


def test_missing_pg_tools_are_explained(pg_empty_url, tmp_path, capsys, monkeypatch):
    from shell.db import pgdump

    monkeypatch.setattr(pgdump.shutil, "which", lambda name: None)
    monkeypatch.setattr(pgdump.glob, "glob", lambda pattern: [])
    monkeypatch.delenv(pgdump.BIN_ENV, raising=False)
    code, _, err = run(capsys, "db", "backup", "--url", pg_empty_url.render_as_string(), "--out", tmp_path / "x.dump")
    assert code == 2 and "找不到 PostgreSQL 的 pg_dump" in err and pgdump.BIN_ENV in err
