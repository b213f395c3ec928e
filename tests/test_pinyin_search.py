"""Full-pinyin name search (issue 17 §2: "zhang" must find 张), over every service that searches people
by name: residents, volunteers, Party members — on the demo street, on both engines. Also the stored
spelling itself (every writer fills it), the migration that fills it for existing rows (without audit
entries or version changes), and the in-memory rule ``matches_name``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from alembic import command
from sqlalchemy import func, select, text

from plugins.grid import services as grid
from plugins.grid.models import Person
from plugins.partybuilding import services as party
from plugins.partybuilding.models import Member
from plugins.volunteer import services as vol
from plugins.volunteer.models import Volunteer
from shell.core.context import ServiceContext
from shell.db.backfill import fill_derived
from shell.db.migrate import alembic_config, plugin_branches
from shell.testing import ALL_BUILTINS, demo_actor
from shell.text import matches_name, name_initials, name_pinyin, name_syllables, pinyin_query


@dataclass(frozen=True)
class Searcher:
    model: type
    initials: str                                  # the initials column's attribute name
    search: Callable[[ServiceContext, str], list]  # the service the pages and the 搜索 hook call


SEARCHERS = {
    "residents": Searcher(Person, "name_initials", lambda ctx, t: grid.list_persons(ctx, t, limit=500)),
    "volunteers": Searcher(Volunteer, "initials", lambda ctx, t: vol.search_volunteers(ctx, t, limit=500)),
    "members": Searcher(Member, "initials", lambda ctx, t: party.list_members(ctx, text=t, limit=500)),
}


@pytest.fixture(params=["sqlite", "pg"])
def street(request, sqlite_templates, tmp_path):
    if request.param == "sqlite":
        db = sqlite_templates.open(tmp_path / "demo.sqlite", ALL_BUILTINS, demo=True)
        yield db
        db.dispose()
    else:
        templates = request.getfixturevalue("pg_templates")
        with templates.clone(ALL_BUILTINS, demo=True) as url:
            db = templates.open(url, ALL_BUILTINS)
            yield db
            db.dispose()


@pytest.mark.parametrize("kind", SEARCHERS)
def test_full_pinyin_finds_the_name_on_both_engines(street, kind):
    s = SEARCHERS[kind]
    admin = demo_actor(street, "admin")
    with street.session_factory() as session:
        ctx = ServiceContext(session, admin)
        # every writer filled the spelling: the demo street seeds through the services and in bulk
        blank = session.scalar(select(func.count()).select_from(s.model).where(s.model.name_pinyin == ""))
        assert blank == 0
        name, stored = session.execute(select(s.model.name, s.model.name_pinyin)
                                       .where(func.length(s.model.name) == 3).order_by(s.model.id).limit(1)).one()
        assert stored == name_pinyin(name) and stored.isascii()
        surname = name_syllables(name)[0]
        for typed in (stored, stored.upper(), surname, " ".join(name_syllables(name)), stored[:len(surname) + 2]):
            found = [r.name for r in s.search(ctx, typed)]
            assert name in found, (kind, typed)
            # nothing else: each hit's full pinyin or initials starts with what was typed
            q = pinyin_query(typed)
            assert all(name_pinyin(n).startswith(q) or name_initials(n).startswith(q) for n in found), (kind, typed)
        # the initials still work, and a spelling no name has finds nothing
        assert name in [r.name for r in s.search(ctx, getattr(
            session.get(s.model, session.scalar(select(s.model.id).where(s.model.name == name).limit(1))), s.initials))]
        assert s.search(ctx, "zzzzqx") == []


def test_sqlite_serves_both_spellings_from_their_indexes(sqlite_templates, tmp_path):
    db = sqlite_templates.open(tmp_path / "demo.sqlite", ALL_BUILTINS, demo=True)
    try:
        with db.session_factory() as session:
            q = grid.search_persons_query(demo_actor(db, "admin"), "zhang")
            compiled = q.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
            plan = " ".join(r[-1] for r in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "ix_grid_persons_pinyin (name_pinyin>? AND name_pinyin<?)" in plan
        assert "ix_grid_persons_initials (name_initials>? AND name_initials<?)" in plan
        assert "SCAN grid_persons" not in plan
    finally:
        db.dispose()


TABLES = (("grid", "grid_persons", "g0004"), ("volunteer", "volunteer_volunteers", "v0005"),
          ("partybuilding", "partybuilding_members", "p0003"))


def test_the_migration_fills_existing_rows_without_audit_or_version_change(street):
    """Down to before the column, then up again: every row's spelling is computed, nothing else moves."""
    branches = plugin_branches(ALL_BUILTINS.manager())
    with street.engine.connect() as conn:
        before = {t: conn.execute(text(f"SELECT id, name, version_id, updated_at FROM {t} ORDER BY id")).all()
                  for _p, t, _r in TABLES}
        audit_rows = conn.scalar(text("SELECT count(*) FROM core_audit_log"))
    with street.engine.begin() as conn:
        cfg = alembic_config(branches)
        cfg.attributes["connection"] = conn
        for plugin, _table, rev in TABLES:
            command.downgrade(cfg, f"{plugin}@{rev}")
        command.upgrade(cfg, "heads")
    with street.engine.connect() as conn:
        for _p, table, _r in TABLES:
            after = conn.execute(text(f"SELECT id, name, version_id, updated_at, name_pinyin FROM {table} ORDER BY id")).all()
            assert [tuple(r[:4]) for r in after] == [tuple(r) for r in before[table]]
            assert all(r.name_pinyin == name_pinyin(r.name) for r in after), table
        assert conn.scalar(text("SELECT count(*) FROM core_audit_log")) == audit_rows


@pytest.mark.pg
def test_fill_derived_leaves_no_audit_trigger_off(pg_db):
    """On a secured server the table's audit trigger is off only for the fill, in its transaction."""
    with pg_db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t_fill (id int PRIMARY KEY, name text, name_pinyin text DEFAULT '')")
        conn.exec_driver_sql("CREATE TABLE t_log (n int)")
        conn.exec_driver_sql("CREATE FUNCTION t_log_row() RETURNS trigger LANGUAGE plpgsql AS "
                             "$$ BEGIN INSERT INTO t_log VALUES (1); RETURN NULL; END $$")
        conn.exec_driver_sql("CREATE TRIGGER jiedao_audit_row AFTER UPDATE ON t_fill FOR EACH ROW EXECUTE FUNCTION t_log_row()")
        conn.exec_driver_sql("INSERT INTO t_fill (id, name) SELECT g, '张三' FROM generate_series(1, 7001) g")
        assert fill_derived(conn, "t_fill", "name_pinyin", "name", name_pinyin) == 7001
        assert conn.exec_driver_sql("SELECT count(*) FROM t_log").scalar() == 0
        assert conn.exec_driver_sql("SELECT DISTINCT name_pinyin FROM t_fill").scalars().all() == ["zhangsan"]
        assert conn.exec_driver_sql("SELECT tgenabled FROM pg_trigger WHERE tgname = 'jiedao_audit_row'").scalar() == "O"
        conn.exec_driver_sql("UPDATE t_fill SET name = '李四' WHERE id = 1")
        assert conn.exec_driver_sql("SELECT count(*) FROM t_log").scalar() == 1


@pytest.mark.parametrize("name, spelling", [
    ("张三", "zhangsan"), ("吕布", "lvbu"), ("女娲", "nvwa"), ("曾国藩", "zengguofan"), ("单田芳", "shantianfang"),
    ("尉迟恭", "yuchigong"), ("阿依古丽·买买提", "ayigulimaimaiti"), ("Tom 王", "tomwang"), ("", ""),
])
def test_name_pinyin(name, spelling):
    assert name_pinyin(name) == spelling


@pytest.mark.parametrize("name, query, hit", [
    ("张小明", "zhang", True), ("张小明", "Zhang Xiao", True), ("张小明", "xiaoming", True), ("张小明", "ming", True),
    ("张小明", "zxm", True), ("张小明", "小明", True), ("张小明", "zhangm", False), ("张小明", "li", False),
    ("吕布", "lü", True), ("吕布", "lv", True), ("西安路社区", "xi'an", True), ("李娜", "na2", False),
])
def test_matches_name(name, query, hit):
    assert matches_name(name, query) is hit
