"""Names in imported cells (issue 14.6): every demo community has a 第一网格 and a 第一网格党支部, so an
importer must take the full path (the top level optional) or the code, refuse an ambiguous bare name
listing the candidates, and exports must write full paths so they import again. One resolver
(shell.core.matching) serves every importer that names a record; the table below is each of them."""
from __future__ import annotations

from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from stdnum.cn import ric

from shell.core.areas import create_area
from shell.core.context import Actor, ServiceContext
from shell.core.matching import MatchError, Resolver
from shell.core.transfer import run_export, run_import
from tests.test_import_formulas import db, full_template, importers, pm  # noqa: F401 - fixtures

SYSTEM = Actor.system()


def make_id(seq: int, birth: str = "19800101") -> str:
    body = f"110105{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def test_resolver_paths_codes_and_messages():
    a, b, c = object(), object(), object()
    r = Resolver("网格", [(a, ["青石街道", "和平里社区", "第一网格"], "1001"), (b, ["青石街道", "幸福苑社区", "第一网格"], None),
                         (c, ["青石街道", "幸福苑社区", "第二网格"], None)])
    for text in ("青石街道/和平里社区/第一网格", "和平里社区/第一网格", "和平里社区第一网格", " 和平里社区 / 第一网格 ",
                 "和平里社区－第一网格", "1001", 1001.0):     # a code Excel turned into a number
        assert r.find(text) is a
    assert r.find("第二网格") is c                                    # a unique bare name will do
    with pytest.raises(MatchError) as exc:
        r.find("第一网格")
    assert exc.value.message == ("有 2 个网格叫“第一网格”：“青石街道/和平里社区/第一网格”、“青石街道/幸福苑社区/第一网格”，"
                                 "请写完整名称（如“青石街道/和平里社区/第一网格”）或编码")
    with pytest.raises(MatchError,
                       match="找不到这个网格（或不在您的管辖范围内）：请写完整名称（如“青石街道/和平里社区/第一网格”）或编码"):
        r.find("东风社区/第一网格")
    with pytest.raises(MatchError, match="请填写网格"):
        r.find(None)


@pytest.fixture
def street(db):  # noqa: F811 - the imported fixture
    """青石街道 with 和平里社区 and 幸福苑社区, each with a 第一网格, a 第一网格党支部 and a 应急物资仓库."""
    from plugins.emergency import services as em
    from plugins.partybuilding import services as pb

    with db.session_factory() as s:
        ctx = ServiceContext(s, SYSTEM)
        st = create_area(ctx, "青石街道", "street", code="110105001")
        committee = pb.create_org(ctx, "青石街道党工委", "working_committee", area_id=st.id, founded_on=date(2000, 1, 1))
        out = {"db": db}
        for i, name in enumerate(("和平里社区", "幸福苑社区"), start=1):
            c = create_area(ctx, name, "community", st.id, code=f"110105001{i:03d}")
            g = create_area(ctx, "第一网格", "grid", c.id, code=f"110105001{i:03d}001")
            cc = pb.create_org(ctx, f"{name}党委", "community_committee", parent_id=committee.id, area_id=c.id,
                               founded_on=date(2000, 1, 1))
            br = pb.create_org(ctx, "第一网格党支部", "branch", parent_id=cc.id, area_id=g.id, founded_on=date(2000, 1, 1))
            wh = em.create_warehouse(ctx, c.id, "应急物资仓库")
            out[name] = dict(community=c.id, grid=g.id, branch=br.id, warehouse=wh.id, grid_code=g.code)
        s.commit()
    return out


def _sheet(path, header, rows):
    wb = Workbook()
    wb.active.append(header)
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


# kind → (header, row with the name cell as {}, the column, the record key in `street`, the model's area/org column)
CASES = {
    "grid-persons": (["姓名", "公民身份号码", "责任网格"], lambda n, ref: [f"居民{n}", make_id(100 + n), ref],
                     "责任网格", "grid"),
    "grid-houses": (["房屋编号", "地址", "责任网格"], lambda n, ref: [f"F{n:04d}", f"{n}号楼", ref], "责任网格", "grid"),
    "grid-households": (["户号", "所属网格"], lambda n, ref: [f"H{n:04d}", ref], "所属网格", "grid"),
    "grid-organisations": (["组织名称", "组织类别", "统一社会信用代码", "所属网格"],
                           lambda n, ref: [f"公司{n}", "企业", None, ref], "所属网格", "grid"),
    "volunteer-volunteers": (["姓名", "身份证号", "所属社区"], lambda n, ref: [f"志愿者{n}", make_id(300 + n), ref],
                             "所属社区", "grid"),
    "emergency-stock": (["仓库", "物资编码", "物资名称", "规格型号", "计量单位", "批次号", "生产日期", "有效期至", "数量",
                         "来源单位"],
                        lambda n, ref: [ref, "1010101", "矿泉水", f"{n}L", "箱", f"B{n}", None, "2099-01-01", 5, ""],
                        "仓库", "warehouse"),
    "partybuilding-members": (["姓名", "公民身份号码", "所在党组织", "发展阶段", "申请入党日期"],
                              lambda n, ref: [f"党员{n}", make_id(500 + n), ref, "入党申请人", "2025-03-01"],
                              "所在党组织", "branch"),
}
# What each kind's cell may say for 和平里社区's record; the bare name is ambiguous for all of them.
REFS = {
    "grid": ("青石街道/和平里社区/第一网格", "和平里社区/第一网格", "和平里社区第一网格", "110105001001001"),
    "warehouse": ("青石街道/和平里社区/应急物资仓库", "和平里社区/应急物资仓库"),
    "branch": ("青石街道党工委/和平里社区党委/第一网格党支部", "和平里社区党委/第一网格党支部"),
}
BARE = {"grid": "第一网格", "warehouse": "应急物资仓库", "branch": "第一网格党支部"}


def _credit_code(n: int) -> str:
    from stdnum.cn import uscc

    from plugins.grid.validation import credit_code  # noqa: F401 - the validator the importer uses

    body = f"91110105MA{n:07d}"
    return body + uscc.calc_check_digit(body)


def _target(session, kind):
    """(record id column, model) the import wrote for ``kind``: the area, warehouse or organisation."""
    from plugins.emergency.models import Batch
    from plugins.grid.models import House, Household, Organisation, Person
    from plugins.partybuilding.models import Member
    from plugins.volunteer.models import Volunteer

    col = {"grid-persons": Person.area_id, "grid-houses": House.area_id, "grid-households": Household.area_id,
           "grid-organisations": Organisation.area_id, "volunteer-volunteers": Volunteer.area_id,
           "emergency-stock": Batch.warehouse_id, "partybuilding-members": Member.org_id}[kind]
    return sorted(session.scalars(select(col)))


def test_the_table_covers_every_importer_that_names_a_record(importers):  # noqa: F811
    by_id_or_code = {"grid-persons", "grid-houses", "grid-households", "grid-organisations", "volunteer-volunteers",
                     "emergency-stock", "partybuilding-members"}
    # emergency-items names no record; volunteer-attendance names activities by id and volunteers by number
    assert {d.kind for _p, d in importers} - by_id_or_code == {"emergency-items", "volunteer-attendance"}
    assert set(CASES) == by_id_or_code


@pytest.mark.parametrize("kind", sorted(CASES))
def test_full_path_or_code_is_accepted_and_a_bare_duplicate_refused(street, tmp_path, kind, importers):  # noqa: F811
    (definition,) = [d for _p, d in importers if d.kind == kind]
    header, make_row, column, key = CASES[kind]
    refs = REFS[key]
    rows = [make_row(n, ref) for n, ref in enumerate(refs, start=1)]
    if kind == "grid-organisations":
        for n, r in enumerate(rows, start=1):
            r[2] = _credit_code(n)
    bare = make_row(9, BARE[key])
    if kind == "grid-organisations":
        bare[2] = _credit_code(9)
    path = _sheet(tmp_path / "in.xlsx", header, rows + [bare])
    result = run_import(street["db"].session_factory, SYSTEM, definition, path)
    errors = [(e.row, e.column, e.reason) for e in result.errors]
    assert len(errors) == 1 and errors[0][:2] == (len(rows) + 2, column), errors
    assert errors[0][2].startswith("有 2 个") and f"叫“{BARE[key]}”" in errors[0][2]
    assert "和平里社区" in errors[0][2] and "幸福苑社区" in errors[0][2]      # the candidates, by full path
    result = run_import(street["db"].session_factory, SYSTEM, definition, path, valid_only=True)
    assert result.written == len(rows)
    with street["db"].session_factory() as s:
        assert _target(s, kind) == [street["和平里社区"][key]] * len(rows)
    # the export names the record by its full path, and that imports again into the same record
    if definition.export_fn is None or kind in ("grid-persons",):
        return
    out = tmp_path / "out.xlsx"
    from dataclasses import replace

    assert run_export(street["db"].session_factory, replace(SYSTEM), definition, out) >= 1
    from openpyxl import load_workbook

    exported = list(load_workbook(out).active.iter_rows(values_only=True))
    at = list(exported[0]).index(column)
    assert {r[at] for r in exported[1:]} == {refs[0]}


def test_persons_export_imports_again(street, tmp_path, importers):  # noqa: F811
    (definition,) = [d for _p, d in importers if d.kind == "grid-persons"]
    path = _sheet(tmp_path / "in.xlsx", ["姓名", "公民身份号码", "责任网格"], [["张三", make_id(1), "幸福苑社区/第一网格"]])
    assert run_import(street["db"].session_factory, SYSTEM, definition, path).written == 1
    out = tmp_path / "out.xlsx"
    run_export(street["db"].session_factory, SYSTEM, definition, out)
    from openpyxl import load_workbook

    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[1][2] == "青石街道/幸福苑社区/第一网格"
    with street["db"].session_factory() as s:
        from plugins.grid.models import Person

        s.execute(Person.__table__.delete())
        s.commit()
    again = run_import(street["db"].session_factory, SYSTEM, definition, out)
    assert again.ok and again.written == 1
    with street["db"].session_factory() as s:
        assert _target(s, "grid-persons") == [street["幸福苑社区"]["grid"]]
