"""The plugin through its hooks: loading, migrations matching the models, permissions/roles/settings,
search, demo data, every report rendered to PDF/XLSX, Excel import (all-or-nothing) and export."""
from __future__ import annotations

import shutil
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

import plugins.emergency as plugin
from plugins.emergency import rules
from plugins.emergency import services as sv
from plugins.emergency.models import Batch, Drill, Item, StockMove, Stocktake, StocktakeLine
from shell.contracts import MigrationBranch, PluginInfo
from shell.core.context import Actor, AppContext
from shell.core.models import Area
from shell.core.reporting import available_reports, generate
from shell.core.settings import definitions as setting_definitions
from shell.core.transfer import run_export, run_import
from shell.db.base import Base
from shell.db.engine import make_engine
from shell.db.migrate import upgrade
from shell.plugins import call_each, plugin_status

from .conftest import TODAY


def test_plugin_loads_light(emergency_pm):
    st = plugin_status(emergency_pm)
    assert [(s.name, s.state, s.title) for s in st] == [("emergency", "loaded", "应急管理")]
    info = plugin.plugin_info()
    assert isinstance(info, PluginInfo) and info.name == "emergency"
    branch = plugin.register_migrations()
    assert isinstance(branch, MigrationBranch) and branch.label == "emergency"
    # outside the desktop (no main window to show a page in) nothing is opened
    assert plugin.open_record(SimpleNamespace(extras={}), "emergency.item", 1) is None
    assert plugin.open_record(None, "grid.person", 1) is None


@pytest.mark.parametrize("engine_kind", ["sqlite", "pg"])
def test_models_match_migration(engine_kind, tmp_path, request):
    url = tmp_path / "m.sqlite" if engine_kind == "sqlite" else request.getfixturevalue("pg_empty_url")
    engine = make_engine(url)
    try:
        upgrade(engine, [plugin.register_migrations()], backup=False)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [d for d in compare_metadata(ctx, Base.metadata)
                    if "emergency_" in repr(d)]
        assert diff == []
    finally:
        engine.dispose()


def test_permissions_roles_settings(em_sqlite, emergency_pm):
    perms = {p.code for n, p in call_each(emergency_pm, "register_permissions") if n == "emergency"}  # the core's come first
    assert perms == set(rules.PERMISSIONS) and all(c.startswith("emergency.") for c in perms)
    roles = {r.name: r for _n, r in call_each(emergency_pm, "register_roles")}
    assert set(roles["emergency_keeper"].permissions) <= perms
    defs = setting_definitions(emergency_pm)
    assert (defs["emergency.alert_days_1"].default, defs["emergency.alert_days_2"].default,
            defs["emergency.alert_days_3"].default) == (30, 60, 90)
    assert defs["emergency.team_size_norm"].default == 50 and defs["emergency.drills_per_year"].default == 1
    with em_sqlite.session_factory() as s:
        from shell.core.models import Role
        role = s.scalar(select(Role).where(Role.name == "emergency_keeper"))
        assert role is not None


@pytest.fixture(scope="session")
def demo_template(sqlite_templates):
    """The demo street with the emergency plugin, seeded once per run (its seed_errors checked)."""
    from .conftest import EMERGENCY

    return sqlite_templates.path(EMERGENCY, demo=True)


@pytest.fixture
def demo(demo_template, tmp_path, emergency_pm):
    from shell.core.database import open_database

    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    db = open_database(path, pm=emergency_pm, backup=False)
    yield db
    db.dispose()


def test_demo_data_is_realistic_and_consistent(demo):
    with demo.session_factory() as s:
        names = set(s.scalars(select(Item.name)))
        assert {"潜水泵", "铁锹", "担架", "干粉灭火器", "扩音喇叭", "强光手电", "急救药箱", "棉被", "饮用水"} <= names
        assert s.scalar(select(func.count()).select_from(StockMove)) > 100
        assert {k for k in s.scalars(select(StockMove.kind).distinct())} >= {"in", "out", "transfer_out", "transfer_in",
                                                                            "adjust"}
        assert sv.check_ledger(s) == []
        assert s.scalar(select(func.min(Batch.qty))) >= 0
        for code in s.scalars(select(Item.code)):
            sv.validate_item_code(code)
        ctx = AppContext(demo.session_factory, Actor.system())
        with ctx.service(commit=False) as sctx:
            assert sv.expiry_alerts(sctx)                      # the near-expiry medicine batch
            assert sv.team_size_check(sctx)[0].ok
            assert s.scalar(select(func.count()).select_from(Drill)) > 0


def test_search(demo):
    app = AppContext(demo.session_factory, Actor.system())
    results = plugin.register_search(app, "潜水泵")
    assert results and results[0].kind == "emergency.item" and "2010101" in results[0].subtitle
    assert any(r.kind == "emergency.item" for r in plugin.register_search(app, "20101"))
    assert any(r.kind == "emergency.warehouse" for r in plugin.register_search(app, "储备"))
    assert any(r.kind == "emergency.plan" for r in plugin.register_search(app, "防汛"))
    nobody = Actor(None, "x", "无权限")
    assert plugin.register_search(AppContext(demo.session_factory, nobody), "潜水泵") == []


def test_every_report_renders(demo, emergency_pm, tmp_path):
    actor = Actor.system()
    reports = {d.id: d for _n, d in available_reports(emergency_pm, actor) if d.id.startswith("emergency.")}
    assert set(reports) == {"emergency.reserve", "emergency.moves", "emergency.stocktake", "emergency.plans",
                            "emergency.drills", "emergency.drill_evaluation", "emergency.roster", "emergency.shelters",
                            "emergency.duty", "emergency.summary", "emergency.drill_summary", "emergency.expiry",
                            "emergency.issues", "emergency.issue_note"}
    app = AppContext(demo.session_factory, actor)
    with app.service() as sctx:
        wh = sv.list_warehouses(sctx)[0]
        take = sv.open_stocktake(sctx, wh.id, counted_by="张伟")
        for line, _b, _i in sv.stocktake_lines(sctx, take.id):
            sv.record_count(sctx, take.id, line.batch_id, line.expected_qty)
        drill = sctx.session.scalar(select(Drill).where(Drill.status == "evaluated"))
        street_id = sv.unit_areas(sctx)[0].id
        doc_no = sctx.session.scalar(select(StockMove.doc_no).where(StockMove.kind == "out").order_by(StockMove.id))
    params = {"emergency.issue_note": {"doc_no": doc_no}, "emergency.stocktake": {"stocktake_id": take.id},
              "emergency.drill_evaluation": {"drill_id": drill.id},
              "emergency.drill_summary": {"drill_id": drill.id},
              "emergency.duty": {"area_id": street_id},
              "emergency.moves": {"start": TODAY.replace(year=2020), "end": date.today()},
              "emergency.summary": {"start": TODAY.replace(year=2020), "end": date.today()}}
    for rid, definition in reports.items():
        documents = ("emergency.drill_evaluation", "emergency.drill_summary", "emergency.issue_note")
        for suffix in (".pdf",) if rid in documents else (".pdf", ".xlsx"):
            out = tmp_path / f"{rid}{suffix}"
            result = generate(demo.session_factory, actor, definition, params.get(rid, {}), out)
            assert out.exists() and out.stat().st_size > 0, rid
            if suffix == ".xlsx" and rid in ("emergency.reserve", "emergency.moves", "emergency.roster",
                                             "emergency.summary"):
                assert result.rows > 10, rid
    # the roster is a call-out list: the team heads its members (not a column), phones in full for
    # those allowed to see personal numbers in full (the system actor here) ...
    wb = load_workbook(tmp_path / "emergency.roster.xlsx", read_only=True)
    rows = [[c for c in row] for row in wb.active.iter_rows(values_only=True)]
    header = next(r for r in rows if r and r[0] == "序号")
    assert "队伍" not in header and header[:3] == ["序号", "姓名", "联系电话"]
    heads = [r[0] for r in rows if r and isinstance(r[0], str) and "队长：" in r[0]]
    assert heads and all("共 " in h and " 人" in h for h in heads)
    cells = [str(c) for row in rows for c in row if c]
    assert any(len(c) == 11 and c.isdigit() for c in cells) and not any("****" in c for c in cells)
    assert any(str(r[0]).startswith("合计：") and "支队伍" in str(r[0]) for r in rows if r)
    # ... masked for a user without that right
    from shell.core.transfer import EXPORT_PERMISSION

    with demo.session_factory() as s:
        street = s.scalars(select(Area).where(Area.level == "street")).first()
        staff = Actor(None, "staff", "值班员", frozenset({"emergency.view", EXPORT_PERMISSION}), (street.path,))
    out = tmp_path / "masked.xlsx"
    generate(demo.session_factory, staff, reports["emergency.roster"], {}, out)
    cells = [str(c) for row in load_workbook(out, read_only=True).active.iter_rows(values_only=True) for c in row if c]
    phones = [c for c in cells if c.startswith("1") and "*" in c]
    assert phones and all("****" in p for p in phones)
    assert not any(len(c) == 11 and c.isdigit() for c in cells)
    assert not any(c.isdigit() and len(c) == 11 for h in cells if "队长：" in h for c in h.split())


def test_the_demo_street_has_a_posted_stocktake_and_its_sheet_totals(demo, emergency_pm, tmp_path):
    """盘点表: the counter named, 盘盈 and 盘亏 in their own columns and totalled (issue 18 §2)."""
    with demo.session_factory() as s:
        take = s.scalars(select(Stocktake).where(Stocktake.status == "posted")).first()
        assert take is not None and take.counted_by
        diffs = [(ln.counted_qty or 0) - ln.expected_qty for ln in s.scalars(
            select(StocktakeLine).where(StocktakeLine.stocktake_id == take.id))]
        counted_by = take.counted_by
    assert any(d > 0 for d in diffs) or any(d < 0 for d in diffs)
    definition = {d.id: d for _n, d in available_reports(emergency_pm, Actor.system())}["emergency.stocktake"]
    out = tmp_path / "take.xlsx"
    generate(demo.session_factory, Actor.system(), definition, {"stocktake_id": take.id}, out)
    rows = [r for r in load_workbook(out, read_only=True).active.iter_rows(values_only=True)]
    header = next(r for r in rows if r and r[0] == "物资编码")
    surplus, shortage = header.index("盘盈"), header.index("盘亏")
    total = next(r for r in rows if r and r[0] == "合计")
    assert total[surplus] == sum(d for d in diffs if d > 0) and total[shortage] == -sum(d for d in diffs if d < 0)
    text = " ".join(str(c) for r in rows for c in r if c)
    assert f"盘点人员：{counted_by}" in text and "盘点人：" in text


def _xlsx(path, header, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def _importer(pm, kind):
    return next(d for _n, d in call_each(pm, "register_importers") if d.kind == kind)


def test_stock_import_all_or_nothing_and_export(world, emergency_pm, tmp_path):
    from plugins.emergency.importers import STOCK_COLUMNS

    ctx = world.ctx()
    sv.create_warehouse(ctx, world.street, "街道应急物资储备库")
    ctx.session.commit()
    good = ("街道应急物资储备库", "2010101", "潜水泵", "QDX-1.5kW", "台", "P2026", "2026-01-05", None, 4, "区应急局")
    future = (date.today() + timedelta(days=400)).isoformat()
    rows = [good,
            ("街道应急物资储备库", "1010101", "饮用水", "550ml", "箱", "W1", "2026-01-01", future, 50, ""),
            ("不存在的库", "1000101", "饮用水", "", "", "W2", "2026-13-01", "2020-01-01", -3, "")]
    path = _xlsx(tmp_path / "stock.xlsx", STOCK_COLUMNS, rows)
    definition = _importer(emergency_pm, "emergency-stock")
    actor = Actor.system()
    result = run_import(world.db.session_factory, actor, definition, path)
    assert not result.ok and result.written == 0 and result.total_rows == 3 and result.valid_rows == 2
    errs = {(e.row, e.column) for e in result.errors}
    assert {(4, "仓库"), (4, "物资编码"), (4, "计量单位"), (4, "生产日期"), (4, "有效期至"), (4, "数量")} <= errs
    assert any("第 2–3 位（中类）" in e.reason for e in result.errors)
    with world.db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(StockMove)) == 0
        assert s.scalar(select(func.count()).select_from(Item)) == 0
    result = run_import(world.db.session_factory, actor, definition, path, valid_only=True)
    assert result.written == 2
    with world.db.session_factory() as s:
        assert s.scalar(select(func.sum(Batch.qty))) == 54 and sv.check_ledger(s) == []
    out = tmp_path / "export.xlsx"
    assert run_export(world.db.session_factory, actor, definition, out) == 2
    again = run_import(world.db.session_factory, actor, definition, out)   # an export re-imports cleanly
    assert again.ok and again.written == 2
    with world.db.session_factory() as s:
        assert s.scalar(select(func.sum(Batch.qty))) == 108


def test_item_import(world, emergency_pm, tmp_path):
    from plugins.emergency.importers import ITEM_COLUMNS

    definition = _importer(emergency_pm, "emergency-items")
    path = _xlsx(tmp_path / "items.xlsx", ITEM_COLUMNS,
                 [(2020101, "担架", "折叠式", "副"), ("2020101", "担架", "折叠式", "副"), ("4020101", "x", "", "个")])
    result = run_import(world.db.session_factory, Actor.system(), definition, path)
    assert {(e.row, e.column) for e in result.errors} == {(3, "物资名称"), (4, "物资编码")}
    assert result.written == 0
    bad_header = _xlsx(tmp_path / "bad.xlsx", ("编码", "名称"), [])   # 编码/名称 are other spellings; no unit
    refused = run_import(world.db.session_factory, Actor.system(), definition, bad_header)
    assert [(e.row, e.column, e.reason) for e in refused.errors] == [(1, "计量单位", "缺少必填列“计量单位”（也可写作单位）")]
    definition.template_fn(tmp_path / "tpl.xlsx")
    header = [c.value for c in load_workbook(tmp_path / "tpl.xlsx").active[1]]
    assert header == ["物资编码*", "物资名称*", "规格型号", "计量单位*"]


def test_stock_row_refused_only_when_written_takes_back_that_row(world, emergency_pm, tmp_path):
    """A row that passes the checks but is refused by the stock service (its batch is registered with
    other dates): with valid_only the other rows are kept, otherwise nothing is written."""
    from plugins.emergency.importers import STOCK_COLUMNS

    ctx = world.ctx()
    wh = sv.create_warehouse(ctx, world.street, "街道应急物资储备库")
    item = sv.create_item(ctx, "1010101", "饮用水", "箱", "550ml")
    future = date.today() + timedelta(days=400)
    sv.receive(ctx, wh.id, item.id, 10, "W1", date(2026, 1, 1), future)
    ctx.session.commit()
    later = (future + timedelta(days=30)).isoformat()
    rows = [("街道应急物资储备库", "1010101", "饮用水", "550ml", "箱", "W2", "2026-01-01", later, 5, ""),
            ("街道应急物资储备库", "1010101", "饮用水", "550ml", "箱", "W1", "2026-01-01", later, 7, ""),
            ("街道应急物资储备库", "2010101", "潜水泵", "QDX-1.5kW", "台", "P1", "2026-01-05", None, 2, "")]
    path = _xlsx(tmp_path / "stock.xlsx", STOCK_COLUMNS, rows)
    definition = _importer(emergency_pm, "emergency-stock")
    refused = run_import(world.db.session_factory, Actor.system(), definition, path)
    assert not refused.ok and refused.written == 0 and [(e.row, e.column) for e in refused.errors] == [(3, "批次号")]
    with world.db.session_factory() as s:
        assert s.scalar(select(func.sum(Batch.qty))) == 10 and s.scalar(select(func.count()).select_from(Item)) == 1
    kept = run_import(world.db.session_factory, Actor.system(), definition, path, valid_only=True)
    assert (kept.written, kept.valid_rows, [e.row for e in kept.errors]) == (2, 2, [3])
    with world.db.session_factory() as s:
        assert s.scalar(select(func.sum(Batch.qty))) == 17 and sv.check_ledger(s) == []
        assert sorted(s.scalars(select(Item.name))) == ["潜水泵", "饮用水"]
