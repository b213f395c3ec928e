"""Every grid importer on the shared engine, table-driven: a bad row is reported with its row, its
column (the Chinese header) and its value, and nothing is written; a cancelled import writes nothing;
"only valid rows" writes the others; each register's export imports again (round trip) once the
originals are gone; the rules are the services' (plugins/grid/validation.py)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from plugins.grid import importers, importers_places
from plugins.grid import services as svc
from plugins.grid.models import House, Household, Organisation, Person
from shell.core.context import Actor
from shell.core.transfer import ImportCancelled, run_export, run_import

from .conftest import ALL, actor, make_id
from .test_import_export import xlsx


def _uscc(body: str) -> str:
    from stdnum.cn import uscc

    return body + uscc.calc_check_digit(body)


@dataclass(frozen=True)
class Case:
    kind: str
    model: type
    header: list
    good: list                      # two valid rows
    bad: list                       # (row values, column, value shown, text in the reason)


GRID = "和平里社区第一网格"
_OK = _uscc("91330102MA2ABC15X")
BAD_USCC = _OK[:-1] + ("1" if _OK[-1] == "0" else "0")
CASES = [
    Case("grid-persons", Person, ["姓名", "公民身份号码", "责任网格", "联系电话", "人口类别", "证件起始日期", "证件截止日期"],
         [["张三", make_id(seq=11), GRID, "13800001111", "户籍人口", "", ""],
          ["李四", make_id(seq=12), GRID, "", "流动人口", "2024-01-05", "2025-01-05"]],
         [(["", make_id(seq=13), GRID, "", "", "", ""], "姓名", "", "请填写姓名。"),
          (["王" * 65, make_id(seq=15), GRID, "", "", "", ""], "姓名", "王" * 65, "姓名太长（65 字，最多 64 字）。"),
          (["赵六", "110105199001011", GRID, "", "", "", ""], "公民身份号码", "110105199001011", "出生日期"),
          (["钱七", make_id(seq=17), "月亮社区第九网格", "", "", "", ""], "责任网格", "月亮社区第九网格", "网格"),
          (["孙八", make_id(seq=19), GRID, "12345", "", "", ""], "联系电话", "12345", "联系电话“12345”格式不对"),
          (["周九", make_id(seq=21), GRID, "", "外星人", "", ""], "人口类别", "外星人", "人口类别“外星人”无效"),
          (["吴十", make_id(seq=23), GRID, "", "", "2024-13-01", ""], "证件起始日期", "2024-13-01", "不是日期"),
          (["郑一", make_id(seq=25), GRID, "", "", "2024-05-01", "2024-01-01"], "证件截止日期", None,
           "证件截止日期早于起始日期。"),
          (["王二", make_id(seq=11), GRID, "", "", "", ""], "公民身份号码", make_id(seq=11), "与第 2 行的公民身份号码重复")]),
    Case("grid-houses", House, ["房屋编号", "地址", "责任网格", "房屋用途", "建筑面积", "房主身份证号", "房主电话"],
         [["F0001", "和平里1号楼101", GRID, "出租", 86.5, make_id(seq=31), "13900001111"],
          ["F0002", "和平里1号楼102", GRID, "", "", "", ""]],
         [(["F0003", "", GRID, "", "", "", ""], "地址", "", "请填写地址。"),
          (["F0004", "和平里1号楼104", GRID, "仓库", "", "", ""], "房屋用途", "仓库", "房屋用途“仓库”无效"),
          (["F0005", "和平里1号楼105", GRID, "", "八十", "", ""], "建筑面积", "八十", "建筑面积“八十”不是数字。"),
          (["F0006", "和平里1号楼106", GRID, "", -3, "", ""], "建筑面积", -3, "不合理"),
          (["F0007", "和平里1号楼107", GRID, "", "", "12345", ""], "房主身份证号", "12345", "格式不对"),
          (["F0008", "和平里1号楼108", GRID, "", "", "", "123"], "房主电话", "123", "联系电话“123”格式不对"),
          (["F" * 33, "和平里1号楼109", GRID, "", "", "", ""], "房屋编号", "F" * 33, "房屋编号太长（33 位，最多 32 位）。"),
          (["F0001", "和平里1号楼110", GRID, "", "", "", ""], "房屋编号", "F0001", "与第 2 行的房屋编号重复")]),
    Case("grid-households", Household, ["户号", "所属网格", "地址", "房屋编号"],
         [["H0001", GRID, "和平里1号楼101", ""], ["H0002", GRID, "", ""]],
         [(["", GRID, "", ""], "户号", "", "请填写户号。"),
          (["H0003", GRID, "", "F9999"], "房屋编号", "F9999", "找不到这个房屋编号"),
          (["H0004", "", "", ""], "所属网格", "", "网格"),
          (["H0001", GRID, "", ""], "户号", "H0001", "与第 2 行的户号重复")]),
    Case("grid-organisations", Organisation,
         ["组织名称", "组织类别", "统一社会信用代码", "所属网格", "党员人数", "是否建立党组织"],
         [["和平里超市", "企业", _uscc("91330102MA2ABC12X"), GRID, 3, "是"],
          ["幸福苑协会", "社会组织", _uscc("52330102MJ0012345"), GRID, "", ""]],
         [(["", "企业", _uscc("91330102MA2ABC13X"), GRID, "", ""], "组织名称", "", "请填写组织名称。"),
          (["机关", "机关", _uscc("91330102MA2ABC14X"), GRID, "", ""], "组织类别", "机关", "组织类别“机关”无效"),
          (["错码", "企业", BAD_USCC, GRID, "", ""], "统一社会信用代码", BAD_USCC, "校验位不对"),
          (["负数", "企业", _uscc("91330102MA2ABC16X"), GRID, -1, ""], "党员人数", -1, "党员人数不能小于 0"),
          (["也许", "企业", _uscc("91330102MA2ABC17X"), GRID, "", "也许"], "是否建立党组织", "也许", "应填“是”或“否”")]),
]
IDS = [c.kind for c in CASES]


def _definition(kind):
    return next(d for d in importers.definitions() + importers_places.definitions() if d.kind == kind)


def _count(db, model) -> int:
    with db.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_rows_name_row_column_and_value_and_write_nothing(stree, grid_sqlite, tmp_path, case):
    d = _definition(case.kind)
    for bad, column, value, text in case.bad:
        path = xlsx(tmp_path / "bad.xlsx", case.header, case.good + [bad])
        before = _count(grid_sqlite, case.model)
        result = run_import(grid_sqlite.session_factory, Actor.system(), d, path)
        assert (result.written, result.valid_rows, result.total_rows) == (0, 2, 3), bad
        assert [(e.row, e.column) for e in result.errors] == [(4, column)], [str(e) for e in result.errors]
        e = result.errors[0]
        assert text in e.reason, str(e)
        if value is not None:
            assert e.value == value
        assert str(e).startswith(f"第 4 行，“{column}”列")
        assert _count(grid_sqlite, case.model) == before                  # all or nothing


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_only_valid_rows_and_cancel(stree, grid_sqlite, tmp_path, case):
    d = _definition(case.kind)
    bad = case.bad[0][0]
    path = xlsx(tmp_path / "mixed.xlsx", case.header, [case.good[0], bad, case.good[1]])
    before = _count(grid_sqlite, case.model)
    with pytest.raises(ImportCancelled):      # asked before the commit: the written rows roll back
        run_import(grid_sqlite.session_factory, Actor.system(), d, path, valid_only=True, cancel=lambda: True)
    assert _count(grid_sqlite, case.model) == before
    seen = []
    result = run_import(grid_sqlite.session_factory, Actor.system(), d, path, valid_only=True,
                        progress=lambda done, total: seen.append((done, total)))
    assert (result.written, len(result.errors)) == (2, 1) and result.errors[0].row == 3
    assert _count(grid_sqlite, case.model) == before + 2 and seen[-1] == (3, 3)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_export_imports_again(stree, grid_sqlite, tmp_path, case):
    d = _definition(case.kind)
    assert run_import(grid_sqlite.session_factory, Actor.system(), d, xlsx(tmp_path / "in.xlsx", case.header,
                                                                          case.good)).written == 2
    full = actor(stree.street, codes=ALL | {"core.personal.full_view", "core.data.export"})
    out = tmp_path / "out.xlsx"
    assert run_export(grid_sqlite.session_factory, full, d, out) == 2
    assert [c.value for c in load_workbook(out).active[1]] == list(d.columns)

    def columns(s):
        return sorted(tuple(str(v) for v in r) for r in s.execute(select(*[
            c for c in case.model.__table__.c if c.name not in ("id", "created_at", "updated_at", "created_by",
                                                                "version_id", "name_initials")])))
    with grid_sqlite.session_factory() as s:
        before = columns(s)
        s.execute(delete(case.model))
        s.commit()
    result = run_import(grid_sqlite.session_factory, Actor.system(), d, out)
    assert result.ok and result.written == 2, [str(e) for e in result.errors]
    with grid_sqlite.session_factory() as s:
        assert columns(s) == before


def test_template_of_every_importer_is_its_header(tmp_path):
    for case in CASES:
        d = _definition(case.kind)
        d.template_fn(tmp_path / "t.xlsx")
        ws = load_workbook(tmp_path / "t.xlsx").active
        assert [str(c.value).rstrip("*") for c in ws[1]] == list(d.columns)
        assert str(ws["A1"].value).endswith("*") and ws["A1"].font.bold      # the first column is required


def test_person_rules_are_the_service_rules(stree, grid_sqlite, tmp_path, ctx_for):
    """What the import refuses, register_person refuses with the same words (one validator)."""
    from shell.errors import ValidationError

    ctx = ctx_for(grid_sqlite, actor(stree.street))
    d = _definition("grid-persons")
    case = CASES[0]
    for bad, _column, _value, text in case.bad[:-1]:
        if bad[2] != GRID:
            continue
        extra = {"permit_start": bad[5] or None, "permit_end": bad[6] or None}
        with pytest.raises(ValidationError) as e:
            svc.register_person(ctx, area_id=stree.g11.id, name=bad[0], id_number=bad[1], phone=bad[3],
                                kind=bad[4] or "registered", **extra)
        ctx.session.rollback()
        assert text in e.value.message
        path = xlsx(tmp_path / "one.xlsx", case.header, [bad])
        assert text in run_import(grid_sqlite.session_factory, Actor.system(), d, path).errors[0].reason
