"""Ledgers render (pypdf text checks), demo data, the plugin's hooks through a real plugin manager,
and the g0001 migration matching the models on both engines."""
from __future__ import annotations

import dataclasses
import random
import re
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

import plugins.grid as grid_plugin
from plugins.grid import services as svc
from plugins.grid.models import Event, EventStep, GridStaff, House, Household, Occupancy, Organisation, Person, SpecialPerson
from shell.contracts import SearchResult
from shell.core import auth, reporting
from shell.core.areas import list_areas
from shell.core.context import Actor, AppContext
from shell.core.demo import create_demo
from shell.core.models import AuditLog, Role
from shell.db.base import Base
from shell.db.engine import make_engine
from shell.db.migrate import upgrade
from shell.errors import PermissionDenied
from shell.plugins import call_each

from .conftest import ALL, actor, make_id, make_pm


def pdf_text(path) -> str:
    from pypdf import PdfReader
    return "\n".join(p.extract_text() or "" for p in PdfReader(str(path)).pages)


@pytest.fixture
def populated(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    h = svc.create_house(ctx, area_id=stree.g11.id, code="FW0001", address="和平里小区3幢1单元101室", house_use="出租",
                         owner_name="王房东", owner_id_number=make_id(seq=501), owner_phone="13700001111",
                         rental_pledge_on=date(2025, 3, 1))
    p = svc.register_person(ctx, area_id=stree.g11.id, name="张三", id_number=make_id(seq=503), phone="13812345678",
                            current_address="和平里小区3幢1单元101室", ethnicity="汉族")
    svc.move_in(ctx, p.id, h.id, date(2025, 1, 1), "租客", is_tenant=True)
    svc.register_person(ctx, area_id=stree.g21.id, name="李四", id_number=make_id(seq=505))
    svc.add_special(ctx, p.id, "correction", {"correction_type": "宣告缓刑", "correction_start": "2025-01-01",
                                              "correction_end": "2026-01-01"}, helper="司法所刘", start=date(2025, 5, 1))
    cats = {c.name: c for c in svc.list_categories(ctx)}
    d = svc.report_event(ctx, area_id=stree.g11.id, category_id=cats["矛盾纠纷"].id, title="邻里漏水纠纷",
                         party_count=2, main_parties="王某、刘某")
    for a in ("register", "dispatch", "handle", "verify", "close"):
        svc.transition(ctx, d.id, a, "意见", assignee="人民调解委员会", mediation_method="人民调解",
                       mediation_result="成功", satisfaction="满意")
    svc.report_event(ctx, area_id=stree.g11.id, category_id=cats["安全隐患"].id, title="楼道堆放杂物")
    ctx.session.commit()
    return grid_sqlite


def _generate(db, who, report_id, tmp_path, suffix=".pdf", **params):
    pm = make_pm()
    _, definition = reporting.find_report(pm, report_id)
    out = tmp_path / f"{report_id}{suffix}"
    reporting.generate(db.session_factory, who, definition, reporting.parse_params(definition, params), out)
    return out


def test_ledgers_render_with_masking(populated, stree, tmp_path):
    who = actor(stree.street)
    text = pdf_text(_generate(populated, who, "grid.persons", tmp_path))
    assert "实有人口登记台账" in text and "张三" in text and "李四" in text
    assert make_id(seq=503) not in text and make_id(seq=503)[-4:] in text and "138****5678" in text
    assert "第 1 页 共 1 页" in text and "和平里社区第一网格" in text
    text = pdf_text(_generate(populated, who, "grid.rentals", tmp_path))
    assert "出租房屋台账" in text and "王房东" in text and "张三" in text and make_id(seq=501) not in text
    text = pdf_text(_generate(populated, who, "grid.special", tmp_path))
    assert "特殊人群台账" in text and "社区矫正人员" in text and "宣告缓刑" in text
    text = pdf_text(_generate(populated, who, "grid.special", tmp_path, group="mental"))
    assert "严重精神障碍患者台账" in text and "无数据" in text
    text = pdf_text(_generate(populated, who, "grid.disputes", tmp_path, start="2025-06-01", end="2025-06-30"))
    assert "矛盾纠纷排查化解台账" in text and "邻里漏水纠纷" in text and "人民调解" in text
    assert "楼道堆放杂物" not in text
    text = pdf_text(_generate(populated, who, "grid.events", tmp_path, start="2025-06-01", end="2025-06-30"))
    assert "事件办理台账" in text and "楼道堆放杂物" in text and "SJ20250616-0001" in text
    assert "结案率 50.00%" in text or "结案率 100.00%" in text
    with pytest.raises(PermissionDenied):  # Excel is the data itself: it needs the export right
        _generate(populated, who, "grid.events", tmp_path, suffix=".xlsx", start="2025-06-01", end="2025-06-30")
    exporter = dataclasses.replace(who, permissions=who.permissions | {"core.data.export"})
    xlsx = _generate(populated, exporter, "grid.events", tmp_path, suffix=".xlsx", start="2025-06-01", end="2025-06-30")
    assert xlsx.stat().st_size > 0


def test_floating_logs_and_grid_info_ledgers(populated, stree, tmp_path, ctx_for):
    ctx = ctx_for(populated, actor(stree.street))
    svc.register_person(ctx, area_id=stree.g11.id, name="钱流动", id_number=make_id(seq=507), kind="floating",
                        permit_type="居住证", permit_start=date(2024, 1, 1), permit_end=date(2025, 1, 1),
                        registered_place="安徽省", inflow_reason="务工", phone="13600001234")
    hh = svc.create_household(ctx, stree.g11.id, "H7001", "和平里7号")
    log = svc.write_log(ctx, stree.g11.id, "入户走访", "楼道灯坏了", log_date=date(2025, 6, 10), household_id=hh.id)
    svc.log_to_event(ctx, log.id, svc.list_categories(ctx)[2].id)
    svc.write_log(ctx, stree.g21.id, "巡查", "", log_date=date(2025, 6, 12))
    svc.write_log(ctx, stree.g11.id, "上月的日志", "", log_date=date(2025, 5, 1))
    svc.assign_staff(ctx, stree.g11.id, "head", "周网格长")
    svc.assign_staff(ctx, stree.g11.id, "worker", "吴网格员")
    ctx.session.commit()
    who = actor(stree.street)
    text = pdf_text(_generate(populated, who, "grid.floating", tmp_path))
    assert "流动人口台账" in text and "钱流动" in text and "居住证至2025-01-01（已过期）" in text.replace("\n", "")
    assert "张三" not in text and make_id(seq=507) not in text and "136****1234" in text
    text = pdf_text(_generate(populated, who, "grid.visit_logs", tmp_path, start="2025-06-01", end="2025-06-30"))
    assert "网格员走访日志" in text and "楼道灯坏了" in text and "户号 H7001" in text and "SJ2025" in text
    assert "巡查" in text and "上月的日志" not in text and "小计" in text
    text = pdf_text(_generate(populated, who, "grid.grid_info", tmp_path))
    assert "网格基础信息表" in text and "周网格长" in text and "合计" in text
    assert "和平里社区第一网格 1 2 1 周网格长 1 1 达标" in text and "合计 1 3 1 1 不达标 0 个" in text
    only_c2 = pdf_text(_generate(populated, who, "grid.grid_info", tmp_path, area=str(stree.c2.id)))
    assert "和平里社区第一网格" not in only_c2 and "幸福苑社区第一网格" in only_c2


def test_ledger_scope_and_full_ids(populated, stree, tmp_path):
    worker = actor(stree.g11)
    text = pdf_text(_generate(populated, worker, "grid.persons", tmp_path))
    assert "张三" in text and "李四" not in text
    with pytest.raises(PermissionDenied):
        _generate(populated, worker, "grid.persons", tmp_path, full_ids="yes")
    full = actor(stree.street, codes=ALL | {"core.personal.full_view"})
    text = pdf_text(_generate(populated, full, "grid.persons", tmp_path, full_ids="yes"))
    assert make_id(seq=503) in text
    with populated.session_factory() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "report_full_ids")).entity == "grid.persons"


def test_demo_seed_small(tmp_path):
    db = create_demo(tmp_path / "demo.sqlite", pm=make_pm())
    try:
        with db.session_factory() as s:
            grids = len(list_areas(s, level="grid"))
            assert s.scalar(select(func.count()).select_from(Household)) == grids * 25
            persons = list(s.scalars(select(Person)))
            assert len(persons) > grids * 25
            from stdnum.cn import ric
            assert all(ric.is_valid(p.id_number) for p in persons)
            assert len({p.id_number for p in persons}) == len(persons)
            assert all(p.sex == ("男" if int(p.id_number[16]) % 2 else "女") for p in persons)
            assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", p.name) for p in persons)
            heads = s.scalar(select(func.count()).select_from(Person).where(Person.relation_to_head == "户主"))
            assert heads == grids * 25
            assert s.scalar(select(func.count()).select_from(House).where(House.house_use == "出租")) > 0
            # everyone living on the street has an occupancy; 户在人不在 (registered here, living elsewhere) not
            living = [p for p in persons if p.residence_match != "户在人不在"]
            assert 0 < len(living) < len(persons)
            assert s.scalar(select(func.count()).select_from(Occupancy)) == len(living)
            assert s.scalar(select(func.count()).select_from(Organisation)) >= grids
            assert s.scalar(select(func.count()).select_from(GridStaff).where(GridStaff.role == "head")) == grids
            assert s.scalar(select(func.count()).select_from(SpecialPerson)) >= grids
            events = list(s.scalars(select(Event)))
            assert len(events) == grids * 8
            assert {e.status for e in events} >= {"closed"}
            assert s.scalar(select(func.count()).select_from(EventStep)) > len(events)
            # the demo worker (scoped to one grid, role grid_worker) sees its grid's people
        worker = auth.login(db.session_factory, "grid_worker", "demo1234")
        assert worker.can("grid.view") and worker.can("grid.event.report") and not worker.can("grid.event.close")
        app = AppContext(db.session_factory, worker, make_pm())
        with app.service(commit=False) as ctx:
            rows = svc.list_persons(ctx, limit=500)
            assert rows and {r.area_id for r in rows} == {worker_grid(ctx)}
            assert svc.grids_breaking_ratio(ctx) == []      # the first grid is fully staffed
        admin = auth.login(db.session_factory, "admin", "demo1234")
        with AppContext(db.session_factory, admin, make_pm()).service(commit=False) as ctx:
            assert len(svc.grids_breaking_ratio(ctx)) == grids // 4
    finally:
        db.dispose()


def worker_grid(ctx):
    from shell.core.models import Area
    return ctx.session.scalar(select(Area.id).where(Area.path == ctx.actor.scope_paths[0]))


# --- hooks ---------------------------------------------------------------------------------------
def test_hook_plugin_info():
    info = grid_plugin.plugin_info()
    assert (info.name, info.title) == ("grid", "网格化管理")
    import ast
    from pathlib import Path
    tree = ast.parse(Path(grid_plugin.__file__).read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    mods = {n.module for n in top if isinstance(n, ast.ImportFrom)} | {a.name for n in top if isinstance(n, ast.Import)
                                                                     for a in n.names}
    assert mods <= {"__future__", "pathlib", "shell", "shell.contracts"}


def test_hook_register_permissions_roles_settings():
    pm = make_pm()
    codes = dict(p for _, p in [(n, (p.code, p.label)) for n, p in call_each(pm, "register_permissions") if n == "grid"])
    assert codes["grid.event.close"] == "事件结案" and all(c.startswith("grid.") for c in codes)
    templates = {t.name: t for t in auth.collect_role_templates(pm)}
    assert "grid.event.handle" in templates["grid_worker"].permissions
    assert "grid.event.close" in templates["community_staff"].permissions
    assert "grid.category.manage" in templates["street_staff"].permissions
    assert set(templates["street_staff"].permissions) >= set(codes)
    keys = {d.key: d for _, d in call_each(pm, "register_settings")}
    assert keys["grid.households_per_worker"].default == 150


def test_roles_synced_into_database(grid_sqlite):
    with grid_sqlite.session_factory() as s:
        roles = {r.name: r.codes for r in s.scalars(select(Role))}
    assert "grid.event.report" in roles["grid_worker"] and "grid.event.register" not in roles["grid_worker"]


def test_hook_register_search(populated, stree):
    pm = make_pm()
    app = AppContext(populated.session_factory, actor(stree.street), pm)
    found = [r for _, r in call_each(pm, "register_search", ctx=app, text="zs")]
    assert [(r.kind, r.title) for r in found] == [("grid.person", "张三")]
    assert "*" in found[0].subtitle and isinstance(found[0], SearchResult)
    assert [r.title for _, r in call_each(pm, "register_search", ctx=app, text="和平里小区3幢")] == ["和平里小区3幢1单元101室"]
    assert [r.kind for _, r in call_each(pm, "register_search", ctx=app, text="SJ20250616")] == ["grid.event"] * 2
    assert [r.title for _, r in call_each(pm, "register_search", ctx=app, text=make_id(seq=505)[:17])] == ["李四"]
    outsider = AppContext(populated.session_factory, actor(stree.g21), pm)
    assert [r.title for _, r in call_each(pm, "register_search", ctx=outsider, text="zs")] == []
    nobody = AppContext(populated.session_factory, actor(stree.street, codes=set()), pm)
    assert call_each(pm, "register_search", ctx=nobody, text="zs") == []


def test_hook_register_reports_and_importers():
    pm = make_pm()
    titles = {d.title for n, d in call_each(pm, "register_reports") if n == "grid"}  # not the core's 审计日志
    assert titles == {"实有人口登记台账", "出租房屋台账", "特殊人群台账", "矛盾纠纷排查化解台账", "事件办理台账",
                      "流动人口台账", "网格员走访日志", "网格基础信息表", "实有房屋台账", "单位（组织）台账", "境外人员台账",
                      "户籍人口台账（按户）", "特殊人群走访（帮教）记录", "安全隐患排查整治台账", "月度矛盾纠纷排查（零报告）表",
                      "超期、督办事件台账", "事件统计月报", "出租房屋治安责任书", "事件处理单"}
    kinds = [d.kind for _, d in call_each(pm, "register_importers")]
    assert kinds == ["grid-persons", "grid-houses", "grid-households", "grid-organisations"]


def test_hook_open_record_declines_other_kinds(grid_sqlite):
    pm = make_pm()
    app = AppContext(grid_sqlite.session_factory, Actor.system(), pm)
    assert pm.hook.open_record(ctx=app, kind="volunteer.person", id=1) is None
    assert pm.hook.open_record(ctx=app, kind="grid.staff", id=1) is None
    viewer_without_grid = AppContext(grid_sqlite.session_factory, Actor(user_id=None, username="x", display_name="x",
                                                                       permissions=frozenset()), pm)
    assert pm.hook.open_record(ctx=viewer_without_grid, kind="grid.person", id=1) is None


def test_hook_seed_demo_direct(stree, grid_sqlite):
    with grid_sqlite.session_factory() as s:
        grid_plugin.seed_demo(session=s, scale="small", rng=random.Random(1))
        assert s.scalar(select(func.count()).select_from(Household)) == 4 * 25
        s.rollback()


# --- migrations ----------------------------------------------------------------------------------
@pytest.mark.parametrize("engine_kind", ["sqlite", "pg"])
def test_hook_register_migrations_matches_models(engine_kind, tmp_path, request):
    url = tmp_path / "m.sqlite" if engine_kind == "sqlite" else request.getfixturevalue("pg_empty_url")
    engine = make_engine(url)
    try:
        result = upgrade(engine, [grid_plugin.register_migrations()], backup=False)
        assert result.after == {"c0005", "g0006"}    # the core tip and the grid tip

        def same_dialect(obj, name, type_, reflected, compare_to):
            # g0003's pattern_ops indexes exist on PostgreSQL only (declared with ddl_if in the models)
            wanted = getattr(obj, "info", {}).get("dialect")
            return wanted is None or wanted == engine.dialect.name

        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True,
                                                                           "include_object": same_dialect}),
                                    Base.metadata)
        grid_diff = [d for d in diff if "grid_" in repr(d)]
        assert grid_diff == []
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("grid_persons")}
        pattern = {"ix_grid_persons_id_number_pattern", "ix_grid_persons_phone_pattern",
                   "ix_grid_persons_initials_pattern"}
        assert (pattern <= indexes) if engine_kind == "pg" else not (pattern & indexes)
    finally:
        engine.dispose()


def test_migration_seeds_default_categories_and_downgrades(tmp_path):
    from alembic import command
    from sqlalchemy import inspect, text

    from shell.db.migrate import alembic_config
    engine = make_engine(tmp_path / "d.sqlite")
    try:
        upgrade(engine, [grid_plugin.register_migrations()], backup=False)
        with engine.connect() as conn:
            names = [r[0] for r in conn.execute(text("SELECT name FROM grid_event_categories ORDER BY sort_order"))]
        assert names == ["矛盾纠纷", "安全隐患", "民生诉求", "城市管理", "其他"]
        with engine.begin() as conn:
            cfg = alembic_config([grid_plugin.register_migrations()])
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "grid@base")
        assert not [t for t in inspect(engine).get_table_names() if t.startswith("grid_")]
    finally:
        engine.dispose()


def test_demo_seed_on_postgresql_keeps_sequences_usable(pg_empty_url):
    db = create_demo(pg_empty_url, pm=make_pm())
    try:
        assert db.seed_errors == {}
        admin = auth.login(db.session_factory, "admin", "demo1234")
        with AppContext(db.session_factory, admin, make_pm()).service() as ctx:
            grid = list_areas(ctx.session, level="grid")[0]
            p = svc.register_person(ctx, area_id=grid.id, name="新居民", id_number=make_id(seq=999))
            cat = svc.list_categories(ctx)[0]
            ev = svc.report_event(ctx, area_id=grid.id, category_id=cat.id, title="新事件")
            svc.transition(ctx, ev.id, "register", "立案")
            assert p.id > 1 and ev.id > 1
            ind = svc.indicators(ctx, date(2000, 1, 1), date(2100, 1, 1))
            assert ind.due > 0 and 0 < ind.closed <= ind.due
    finally:
        db.dispose()


def test_plugin_module_is_light():
    import subprocess
    import sys
    from pathlib import Path
    code = ("import sys, plugins.grid; "
            "heavy = [m for m in ('plugins.grid.services', 'plugins.grid.models', 'sqlalchemy.orm', 'PySide6', "
            "'openpyxl', 'reportlab', 'pypinyin', 'stdnum', 'chinese_calendar') if m in sys.modules]; "
            "print(heavy); assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], check=True)


def test_care_ledger(populated, stree, tmp_path, ctx_for):
    ctx = ctx_for(populated, actor(stree.street))
    p = svc.list_persons(ctx, "李四")[0]
    svc.add_special(ctx, p.id, "tekun", {"support_mode": "分散供养"})
    ctx.session.commit()
    text = pdf_text(_generate(populated, actor(stree.street), "grid.special", tmp_path, group="care"))
    assert "关爱人群台账" in text and "特困人员" in text and "分散供养" in text and "社区矫正" not in text
    text = pdf_text(_generate(populated, actor(stree.street), "grid.special", tmp_path))
    assert "特困人员" not in text and "社区矫正人员" in text
