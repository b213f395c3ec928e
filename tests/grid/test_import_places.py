"""Excel import of houses and organisations: messy but valid files import (header variants, any
order, full-width characters, Excel numbers and dates); files with bad rows — text in a number column,
bad check characters, unknown grid, duplicates in the file and in the database, bad dates — write
nothing and report every bad row, on SQLite and PostgreSQL; a missing required column and an empty
sheet are reported; templates and masked exports."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from plugins.grid import importers_places as places
from plugins.grid import services as svc
from plugins.grid.models import House, Organisation
from shell.core.context import Actor
from shell.core.transfer import run_export, run_import

from .conftest import actor, make_id
from .test_import_export import xlsx
from .test_population import GOOD_USCC


def _uscc(body: str) -> str:
    from stdnum.cn import uscc

    return body + uscc.calc_check_digit(body)


def _count(db, model):
    with db.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def _defn(kind):
    return next(d for d in places.definitions() if d.kind == kind)


def test_houses_clean_file_imports(gdb, tree, tmp_path):
    path = xlsx(tmp_path / "h.xlsx",
                ["地址", " 房屋编码 ", "网格", "用途", "面积", "业主", "房主证件号码", "业主电话", "签订日期"],
                [["和平里1号楼101", "F0001", "和平里社区第一网格", "出租", 86.5, "王房东", make_id(seq=1),
                  13900001111, datetime(2025, 3, 1)],
                 ["和平里1号楼102", "Ｆ0002", "和平里社区/第一网格", "", "１２０", "", "", "", ""],
                 ["幸福苑2号楼201", "F0003", "幸福苑社区第二网格", "空置", "", None, None, None, "2025年3月1日"]])
    result = run_import(gdb.session_factory, Actor.system(), _defn("grid-houses"), path)
    assert result.ok, [str(e) for e in result.errors]
    assert (result.total_rows, result.written) == (3, 3)
    with gdb.session_factory() as s:
        h1 = s.scalar(select(House).where(House.code == "F0001"))
        assert (h1.house_use, h1.floor_area, h1.owner_id_number, h1.owner_phone) == ("出租", 86.5, make_id(seq=1),
                                                                                       "13900001111")
        assert h1.rental_pledge_on == date(2025, 3, 1) and h1.created_at.tzinfo is not None
        h2 = s.scalar(select(House).where(House.code == "F0002"))
        assert (h2.house_use, h2.floor_area, h2.building_use) == ("自住", 120.0, "住宅")
        h1.hazard = "电线老化"
        s.flush()
        assert h1.version_id == 2


def test_houses_bad_rows_write_nothing(gdb, tree, tmp_path, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street))
    svc.create_house(ctx, area_id=tree.g11.id, code="F0100", address="老房子")
    ctx.session.commit()
    before = _count(gdb, House)
    path = xlsx(tmp_path / "bad.xlsx", ["房屋编号", "地址", "责任网格", "建筑面积", "房主身份证号", "责任书签订日期",
                                        "房屋用途"], [
        ["F0101", "好房子", "和平里社区第一网格", 60, "", "", "自住"],                    # 2 valid
        ["F0102", "面积写字", "和平里社区第一网格", "八十平", "", "", ""],                 # 3 text in a number column
        ["F0103", "坏证件", "和平里社区第一网格", "", make_id(seq=3)[:-1] + ("0" if make_id(seq=3)[-1] != "0" else "1"),
         "", ""],                                                                          # 4
        ["F0104", "坏日期", "和平里社区第一网格", "", "", "2025-02-30", ""],              # 5
        ["F0105", "无网格", "月亮社区第九网格", "", "", "", ""],                         # 6
        ["F0100", "库里已有", "和平里社区第一网格", "", "", "", ""],                     # 7
        ["F0101", "表内重复", "和平里社区第一网格", "", "", "", ""],                     # 8
        ["F0106", "用途不对", "和平里社区第一网格", "", "", "", "仓库"],                 # 9
        ["", "", "和平里社区第一网格", "", "", "", ""],                                  # 10
    ])
    result = run_import(gdb.session_factory, Actor.system(), _defn("grid-houses"), path)
    assert not result.ok and result.written == 0 and result.valid_rows == 1
    by_row = {}
    for e in result.errors:
        by_row.setdefault(e.row, []).append(e)
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert by_row[3][0].column == "建筑面积" and by_row[3][0].reason == "建筑面积“八十平”不是数字。"
    assert by_row[4][0].column == "房主身份证号" and "校验位" in by_row[4][0].reason
    assert by_row[5][0].column == "责任书签订日期"
    assert by_row[6][0].column == "责任网格"
    assert by_row[7][0].reason == "房屋编号“F0100”已登记：老房子。"
    assert by_row[8][0].reason == "与第 2 行的房屋编号重复"
    assert by_row[9][0].column == "房屋用途"
    assert {e.column for e in by_row[10]} == {"房屋编号", "地址"}
    assert _count(gdb, House) == before
    result = run_import(gdb.session_factory, Actor.system(), _defn("grid-houses"), path, valid_only=True)
    assert result.written == 1 and _count(gdb, House) == before + 1


def test_organisations_import_and_bad_rows(gdb, tree, tmp_path, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street))
    svc.register_organisation(ctx, area_id=tree.g11.id, kind="社会组织", name="已有协会", credit_code=GOOD_USCC)
    ctx.session.commit()
    a, b = _uscc("91330102MA2A" + "BC12X"), _uscc("52330102MJ" + "0012345")
    path = xlsx(tmp_path / "o.xlsx", ["单位名称", "类别", "信用代码", "网格", "党组织", "党员数", "电话"], [
        ["和平里超市", "企业", a.lower(), "和平里社区第一网格", "是", 3, "13800001111"],        # 2 valid
        ["幸福苑养老协会", "民办非企业单位", b, "幸福苑社区第一网格", "无", "", ""],              # 3 valid
        ["写字党员", "社会组织", _uscc("52330102MJ" + "0099999"), "和平里社区第一网格", "是", "五个", ""],  # 4
        ["错码", "社会组织", a[:-1] + ("0" if a[-1] != "0" else "1"), "和平里社区第一网格", "", "", ""],  # 5
        ["重复库", "社会组织", GOOD_USCC, "和平里社区第一网格", "", "", ""],                     # 6
        ["怪类别", "机关", _uscc("11330102MB" + "0000001"), "和平里社区第一网格", "", "", ""],     # 7
        ["怪标记", "社会组织", _uscc("52330102MJ" + "0077777"), "和平里社区第一网格", "也许", "", ""],  # 8
    ])
    result = run_import(gdb.session_factory, Actor.system(), _defn("grid-organisations"), path)
    assert not result.ok and result.written == 0 and result.valid_rows == 2
    by_row = {e.row: e for e in result.errors}
    assert sorted(by_row) == [4, 5, 6, 7, 8]
    assert by_row[4].column == "党员人数" and by_row[4].value == "五个"
    assert by_row[4].reason == "党员人数应为整数（填写的是“五个”）。"
    assert by_row[5].column == "统一社会信用代码" and "校验位" in by_row[5].reason
    assert by_row[6].reason == "统一社会信用代码已登记：已有协会（和平里社区第一网格）"
    assert by_row[7].column == "组织类别"
    assert by_row[8].column == "是否建立党组织"
    assert _count(gdb, Organisation) == 1
    result = run_import(gdb.session_factory, Actor.system(), _defn("grid-organisations"), path, valid_only=True)
    assert result.written == 2
    with gdb.session_factory() as s:
        shop = s.scalar(select(Organisation).where(Organisation.name == "和平里超市"))
        assert (shop.kind, shop.credit_code, shop.has_party_org, shop.party_members) == ("非公有制经济组织", a, True, 3)
        assoc = s.scalar(select(Organisation).where(Organisation.name == "幸福苑养老协会"))
        assert (assoc.kind, assoc.has_party_org, assoc.party_members) == ("社会组织", False, 0)


@pytest.mark.parametrize("kind", ["grid-houses", "grid-households", "grid-organisations"])
def test_structure_errors_templates_and_exports(stree, grid_sqlite, tmp_path, kind, ctx_for):
    d = _defn(kind)
    result = run_import(grid_sqlite.session_factory, Actor.system(), d, xlsx(tmp_path / "m.xlsx", ["备注"], [["x"]]))
    assert not result.ok and all(e.row == 1 and e.reason.startswith("缺少必填列") for e in result.errors)
    empty = tmp_path / "empty.xlsx"
    from openpyxl import Workbook
    Workbook().save(empty)
    result = run_import(grid_sqlite.session_factory, Actor.system(), d, empty)
    assert [e.reason[:6] for e in result.errors] == ["工作表是空的"]
    template = tmp_path / "t.xlsx"
    d.template_fn(template)
    header = [c.value for c in load_workbook(template).active[1]]
    assert [h.rstrip("*") for h in header] == list(d.columns)
    # the template itself imports (header only: "no data rows", nothing else)
    result = run_import(grid_sqlite.session_factory, Actor.system(), d, template)
    assert [e.reason for e in result.errors] == ["表中没有数据行"]
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    svc.create_house(ctx, area_id=stree.g11.id, code="F9", address="和平里9号", owner_id_number=make_id(seq=9),
                     owner_phone="13900009999")
    svc.register_organisation(ctx, area_id=stree.g21.id, kind="社会组织", name="协会", credit_code=GOOD_USCC)
    ctx.session.commit()
    out = tmp_path / "out.xlsx"
    worker = actor(stree.g11, codes={"grid.view", "grid.import", "grid.person.edit", "core.data.export"})
    n = run_export(grid_sqlite.session_factory, worker, d, out)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    if kind == "grid-houses":
        assert n == 1 and rows[1][0] == "F9" and "*" in rows[1][8] and rows[1][9] == "139****9999"
    else:
        assert n == 0 and len(rows) == 1      # none in the worker's grid (the organisation is elsewhere)


def test_households_import_links_houses(gdb, tree, tmp_path, ctx_for):
    ctx = ctx_for(gdb, actor(tree.street))
    svc.create_house(ctx, area_id=tree.g11.id, code="F0001", address="和平里1号楼101")
    svc.create_house(ctx, area_id=tree.g21.id, code="F0002", address="幸福苑1号楼101")
    svc.create_household(ctx, tree.g11.id, "H0009", "已有户")
    ctx.session.commit()
    path = xlsx(tmp_path / "hh.xlsx", ["户编号", "网格", "住址", "房屋编码"], [
        ["H0001", "和平里社区第一网格", "和平里1号楼101", "F0001"],      # 2 valid
        ["H0002", "和平里社区第一网格", "", ""],                         # 3 valid, no house
        ["H0003", "和平里社区第一网格", "", "F9999"],                    # 4 unknown house
        ["H0009", "和平里社区第一网格", "", ""],                         # 5 in the database
        ["H0001", "和平里社区第一网格", "", ""],                         # 6 twice in the file
    ])
    d = _defn("grid-households")
    result = run_import(gdb.session_factory, Actor.system(), d, path)
    assert not result.ok and result.written == 0
    assert [(e.row, e.column) for e in result.errors] == [(4, "房屋编号"), (5, "户号"), (6, "户号")]
    assert result.errors[1].reason == "户号“H0009”已登记（和平里社区第一网格）。"
    # a community worker of the other community cannot link a house outside their scope
    worker = actor(tree.c2, codes={"grid.view", "grid.person.edit", "grid.import"})
    other = xlsx(tmp_path / "hh2.xlsx", ["户号", "所属网格", "房屋编号"], [["H0101", "幸福苑社区第一网格", "F0001"]])
    assert [e.column for e in run_import(gdb.session_factory, worker, d, other).errors] == ["房屋编号"]
    result = run_import(gdb.session_factory, Actor.system(), d, path, valid_only=True)
    assert result.written == 2
    with gdb.session_factory() as s:
        h1 = s.scalar(select(svc.Household).where(svc.Household.number == "H0001"))
        assert h1.house_id is not None and h1.address == "和平里1号楼101" and h1.version_id == 1
