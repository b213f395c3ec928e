"""The plugin through its hooks: loading, migrations that match the models, permissions and roles,
settings, search, demo data, reports, Excel import/export, open_record."""
from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from plugins.partybuilding import importers, rules
from plugins.partybuilding import services as svc
from plugins.partybuilding.models import Member, PartyOrg
from shell.contracts import SearchResult
from shell.core import auth, reporting
from shell.core import settings as core_settings
from shell.core.context import Actor, AppContext, ServiceContext
from shell.core.database import open_database
from shell.core.models import Role
from shell.core.transfer import run_export, run_import
from shell.db.base import Base
from shell.errors import PermissionDenied
from shell.plugins import call_each, plugin_status

from .conftest import PARTYBUILDING, clock, make_pm

ROOT = Path(__file__).resolve().parents[2]


def test_hook_plugin_info(pm):
    status = {s.name: s for s in plugin_status(pm)}
    assert status["partybuilding"].state == "loaded"
    info = pm.get_plugin("partybuilding").plugin_info()
    assert (info.name, info.title) == ("partybuilding", "党建")


def test_plugin_module_is_light():
    code = ("import sys, plugins.partybuilding; "
            "heavy = [m for m in ('plugins.partybuilding.services', 'plugins.partybuilding.models', 'openpyxl', "
            "'reportlab', 'pypinyin') if m in sys.modules]; print(heavy); assert not heavy")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize("engine", ["sqlite", "pg"])
def test_hook_register_migrations(engine, request):
    """The branch p0001 → p0002 → p0003 (p0001 depends on c0001) creates exactly what the models declare."""
    db = request.getfixturevalue("sdb" if engine == "sqlite" else "pgdb")
    mb = call_each(make_pm(), "register_migrations")
    assert [(n, b.label) for n, b in mb] == [("partybuilding", "partybuilding")]

    def include(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        wanted = getattr(obj, "info", {}).get("dialect")   # PostgreSQL-only pattern indexes (p0003)
        return (table or "").startswith("partybuilding_") and (wanted is None or wanted == db.engine.dialect.name)

    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include})
        # p0001 depends on c0001, p0002 on p0001, p0003 on p0002; c0002 the core tip
        assert set(ctx.get_current_heads()) == {"c0005", "p0004"}
        assert compare_metadata(ctx, Base.metadata) == []
        tables = {t for t in Base.metadata.tables if t.startswith("partybuilding_")}
        assert len(tables) == 13


def test_hook_register_permissions_and_roles(sdb):
    codes = dict(auth.collect_permissions(make_pm()))
    assert set(rules.PERMISSIONS) <= set(codes) and codes["partybuilding.transfer"] == "办理组织关系转接"
    with sdb.session_factory() as s:
        roles = {r.name: r for r in s.scalars(select(Role))}
        assert {"partybuilding_clerk", "partybuilding_secretary"} <= set(roles)
        assert set(rules.PERMISSIONS) <= {p.code for p in roles["partybuilding_clerk"].permissions}


def test_hook_register_roles(pm):
    templates = {t.name: t for t in auth.collect_role_templates(pm)}
    assert "partybuilding.view" in templates["street_staff"].permissions  # added to the core role
    assert templates["partybuilding_secretary"].title == "党支部书记"


def test_hook_register_settings(world, pm):
    defs = core_settings.definitions(pm)
    assert defs["partybuilding.transfer.max_valid_days"].default == 90
    d = defs["partybuilding.transfer.max_valid_days"]
    core_settings.set_value(world.ctx, d, 120)
    assert svc.setting(world.session, "partybuilding.transfer.max_valid_days") == 120
    for d in svc.SETTINGS:  # every default passes the settings dialog's own check
        assert core_settings.coerce(d, d.default) == d.default
    svc.parse_bands(defs["partybuilding.dues.bands_employed"].default)
    svc.parse_bands(defs["partybuilding.dues.bands_retired"].default)


def test_hook_register_search(world, tree, pm):
    m = world.member(tree.b1, name="欧阳娜娜")
    world.session.commit()
    app = AppContext(world.db.session_factory, Actor.system(), pm, clock=clock)
    results = [r for _, r in call_each(pm, "register_search", ctx=app, text="oynn")]
    assert results == [SearchResult("partybuilding.member", m.id, "欧阳娜娜", "正式党员 · 东风一网格党支部", "partybuilding")]
    by_id = [r for _, r in call_each(pm, "register_search", ctx=app, text=m.id_number[-4:])]
    assert [r.id for r in by_id] == [m.id]
    orgs = [r for _, r in call_each(pm, "register_search", ctx=app, text="红旗")]
    assert {r.title for r in orgs} == {"中共红旗社区总支部委员会", "红旗一网格党支部"}


def test_hook_open_record(pm, world, tree, qtbot):
    from plugins.partybuilding.views.org_page import OrgPage

    app = AppContext(None, Actor.system(), pm)
    assert pm.hook.open_record(ctx=app, kind="partybuilding.member", id=1) is None   # no main window
    m = world.member(tree.b2, name="欧阳搜索")
    world.session.commit()
    app = AppContext(world.db.session_factory, Actor.system(), pm, clock=clock)
    pages = {}

    def open_page(page_id):
        if page_id not in pages:
            pages[page_id] = OrgPage(app)
            qtbot.addWidget(pages[page_id])
        return pages[page_id]

    app.extras["open_page"] = open_page
    assert pm.hook.open_record(ctx=app, kind="partybuilding.org", id=tree.b3.id) is True
    assert pages["partybuilding.orgs"].selected_id() == tree.b3.id
    assert pm.hook.open_record(ctx=app, kind="partybuilding.member", id=m.id) is True
    assert pages["partybuilding.orgs"].card.title.text() == "欧阳搜索　正式党员"
    assert pm.hook.open_record(ctx=app, kind="grid.person", id=1) is None


@pytest.fixture(scope="session")
def demo_template(sqlite_templates):
    """The demo street with the party-building plugin, seeded once per run (a seed error fails it)."""
    return sqlite_templates.path(PARTYBUILDING, demo=True)


@pytest.fixture
def demo(demo_template, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    db = open_database(path, pm=make_pm(), backup=False)
    yield db
    db.dispose()


def test_hook_seed_demo(demo):
    with demo.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        levels = dict(s.execute(select(PartyOrg.level, func.count()).group_by(PartyOrg.level)).all())
        assert set(levels) == {1, 2, 3, 4, 5} and levels[1] == 1
        stages = dict(s.execute(select(Member.stage, func.count()).group_by(Member.stage)).all())
        assert set(stages) == {"applicant", "activist", "candidate", "probationary", "full"}
        nodes = svc.org_tree(ctx)
        assert nodes[0].org.level == 1 and nodes[0].members == sum(n.own_members for n in nodes) > 50
        assert svc.list_meetings(ctx, date(2000, 1, 1), date(2100, 1, 1))
        assert svc.list_transfers(ctx)
        svc.branch_findings(ctx)
        svc.compliance(ctx, ctx.today().year)
        svc.arrears(ctx)
        reports = svc.community_reports(ctx, ctx.today().year)
        communities = {r.community for r in reports}
        assert len(reports) >= 3 * len(communities) and len(communities) >= 3   # 双报到 in every community


def test_hook_register_reports(demo, tmp_path):
    pm = make_pm()
    defs = {d.id: d for n, d in call_each(pm, "register_reports") if n == "partybuilding"}
    assert {"partybuilding.roster", "partybuilding.orgs", "partybuilding.development", "partybuilding.transfers",
            "partybuilding.meetings", "partybuilding.dues", "partybuilding.transfer_letter",
            "partybuilding.member_form", "partybuilding.mobile", "partybuilding.lost",
            "partybuilding.community_reports", "partybuilding.compliance", "partybuilding.life_meetings"} == set(defs)
    actor = Actor.system()
    year = str(date.today().year)
    for rid, d in defs.items():
        raw = {"transfer": None}
        if rid == "partybuilding.transfer_letter":
            with demo.session_factory() as s:
                raw = {"transfer": str(s.scalar(select(func.min(svc.Transfer.id)).where(svc.Transfer.direction == "out")))}
        elif rid == "partybuilding.member_form":
            with demo.session_factory() as s:
                raw = {"member": str(s.scalar(select(func.min(Member.id)).where(Member.stage == "full",
                                                                                  Member.org_id.is_not(None))))}
        elif any(p.name == "year" for p in d.parameters):
            raw = {"year": year}
        else:
            raw = {}
        params = reporting.parse_params(d, raw)
        out = tmp_path / f"{rid}.pdf"
        gen = reporting.generate(demo.session_factory, actor, d, params, out)
        assert out.exists() and gen.pages >= 1, rid
        if rid not in ("partybuilding.transfer_letter", "partybuilding.member_form"):
            x = tmp_path / f"{rid}.xlsx"
            reporting.generate(demo.session_factory, actor, d, params, x)
            assert x.exists()
    # The 花名册 masks ID numbers and phones for circulation.
    ws = openpyxl.load_workbook(tmp_path / "partybuilding.roster.xlsx").active
    values = [str(c.value) for row in ws.iter_rows() for c in row if c.value]
    assert any("**********" in v for v in values)
    assert "公民身份号码" in values and "转为正式党员日期" in values


def _fill(path, rows):
    importers.write_template(path)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    for i, r in enumerate(rows, start=2):    # typed from row 2 (the template formats rows below as text)
        for j, col in enumerate(importers.COLUMNS, start=1):
            ws.cell(i, j, r.get(col))
    wb.save(path)


def test_hook_register_importers(world, tree, tmp_path):
    (d,) = [x for _, x in call_each(make_pm(), "register_importers")]
    assert d.kind == "partybuilding-members" and d.columns == importers.COLUMNS
    good = {"姓名": "周一", "公民身份号码": world.id_number(date(1975, 1, 2)), "所在党组织": "东风一网格党支部",
            "发展阶段": "正式党员", "加入党组织日期": date(2000, 7, 1), "转为正式党员日期": "2001-07-01",
            "人员类别": "退休", "月收入（元）": 4200.5, "联系电话": 13900001111, "失联日期": "2025年1月5日"}
    good2 = {"姓名": "吴二", "公民身份号码": world.id_number(date(1995, 3, 3)), "所在党组织": "1号楼党小组",
             "发展阶段": "入党申请人", "申请入党日期": "2025.3.1"}
    bad_id = dict(good2, 姓名="郑三", 公民身份号码="110105199503030000")
    bad_org = dict(good2, 姓名="王四", 公民身份号码=world.id_number(), 所在党组织="不存在的支部")
    bad_date = dict(good2, 姓名="冯五", 公民身份号码=world.id_number(), 申请入党日期="去年")
    dup = dict(good, 姓名="周一重复")
    world.session.commit()
    path = tmp_path / "members.xlsx"
    _fill(path, [good, good2, bad_id, bad_org, bad_date, dup])
    actor = Actor.system()
    result = run_import(world.db.session_factory, actor, d, path)
    assert (result.total_rows, result.valid_rows, result.written) == (6, 2, 0)
    errs = {(e.row, e.column) for e in result.errors}
    assert errs == {(4, "公民身份号码"), (5, "所在党组织"), (6, "申请入党日期"), (7, "公民身份号码")}
    assert any("与第 2 行的公民身份号码重复" in e.reason for e in result.errors if e.row == 7)
    with world.db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 0  # all-or-nothing
    result = run_import(world.db.session_factory, actor, d, path, valid_only=True)
    assert result.written == 2
    with world.db.session_factory() as s:
        m = s.scalar(select(Member).where(Member.name == "周一"))
        assert (m.category, m.income_fen, m.phone, m.lost_contact_on) == ("retired", 420050, "13900001111", date(2025, 1, 5))
        assert s.scalar(select(Member).where(Member.name == "吴二")).stage == "applicant"
    # Export: full ID numbers need the right; the file reads back through the importer's columns.
    out = tmp_path / "export.xlsx"
    assert run_export(world.db.session_factory, actor, d, out) == 2
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == importers.COLUMNS and {r[0] for r in rows[1:]} == {"周一", "吴二"}
    assert any(r[3] == good["公民身份号码"] for r in rows[1:])
    auth.create_user(ServiceContext(world.session, Actor.system()), "sec", "书记", "secsec1234", world.street.id,
                     ["partybuilding_secretary"])
    world.session.commit()
    sec = auth.login(world.db.session_factory, "sec", "secsec1234")
    with pytest.raises(PermissionDenied):
        run_export(world.db.session_factory, sec, d, tmp_path / "x.xlsx")


def test_import_refuses_a_file_without_the_columns(world, tmp_path):
    path = tmp_path / "wrong.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["名字", "号码"])
    wb.save(path)
    (d,) = [x for _, x in call_each(make_pm(), "register_importers")]
    result = run_import(world.db.session_factory, Actor.system(), d, path)
    assert result.written == 0 and {(e.row, e.column) for e in result.errors} == {
        (1, "姓名"), (1, "公民身份号码"), (1, "所在党组织")}
    assert "缺少必填列“公民身份号码”" in str(result.errors[1])
