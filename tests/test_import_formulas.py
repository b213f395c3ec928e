"""Formula cells in imported sheets (issue 14.6): every importer reads through shell.core.sheets, so a
formula gives the value Excel cached when it saved the file, and a formula without one (files written
by programs that compute nothing, such as openpyxl) is refused with its row and column — never read
as an empty cell ("姓名不能为空")."""
from __future__ import annotations

import zipfile
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from stdnum.cn import ric

from shell.core.context import Actor
from shell.core.models import Area
from shell.core.sheets import FormulaCellsError, read_sheet
from shell.core.transfer import available_importers, run_import
from shell.plugins import make_plugin_manager

PASTE = "请复制后“选择性粘贴 → 数值”再导入"

# The first required column of every importer: the cell a formula makes look empty.
FIRST_REQUIRED = {"grid-persons": "姓名", "grid-houses": "房屋编号", "grid-households": "户号",
                  "grid-organisations": "组织名称", "emergency-items": "物资编码", "emergency-stock": "仓库",
                  "volunteer-volunteers": "姓名", "volunteer-attendance": "活动编号", "partybuilding-members": "姓名"}


def _cache(src, dst, values: dict[str, tuple[str, str | None]]) -> None:
    """Copy an openpyxl file, giving formula cells the cached value Excel would have saved:
    {"A2": (value, type)} — type "str" for text results, None for numbers."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                for ref, (value, kind) in values.items():
                    start = xml.index(f'<c r="{ref}"')
                    end = xml.index("</c>", start)
                    cell = xml[start:end].replace("<v />", f"<v>{value}</v>").replace("<v/>", f"<v>{value}</v>")
                    if kind:
                        cell = cell.replace(f'<c r="{ref}"', f'<c r="{ref}" t="{kind}"', 1)
                    xml = xml[:start] + cell + xml[end:]
                data = xml.encode()
            zout.writestr(info, data)


def _formula_book(path):
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名*", "人数", "备注"])
    ws.append(['=CONCAT("张","三")', "=1+2", '=IF(1>2,"x","")'])
    ws.append(["李四", 5, "=B3*2"])
    wb.save(path)
    return path


def test_reader_without_cached_values_names_each_formula_cell(tmp_path):
    with pytest.raises(FormulaCellsError) as exc:
        read_sheet(_formula_book(tmp_path / "f.xlsx"))
    assert exc.value.cells == [(2, "姓名", '=CONCAT("张","三")'), (2, "人数", "=1+2"), (2, "备注", '=IF(1>2,"x","")'),
                               (3, "备注", "=B3*2")]
    assert exc.value.message == ("第 2 行“姓名”是公式，没有保存计算结果；第 2 行“人数”是公式，没有保存计算结果；"
                                 "第 2 行“备注”是公式，没有保存计算结果；第 3 行“备注”是公式，没有保存计算结果。" + PASTE + "。")


def test_reader_uses_cached_values(tmp_path):
    src = _formula_book(tmp_path / "f.xlsx")
    dst = tmp_path / "cached.xlsx"
    # Excel caches an empty text result as an empty <v> of type str: a value, not a missing one
    _cache(src, dst, {"A2": ("张三", "str"), "B2": ("3", None), "C2": ("", "str"), "C3": ("10", None)})
    assert read_sheet(dst) == [["姓名*", "人数", "备注"], ["张三", 3.0, ""], ["李四", 5.0, 10.0]]
    assert [r[:1] for r in load_workbook(dst, data_only=True).active.iter_rows(values_only=True)][1] == ("张三",)


def test_plain_files_pass_untouched(tmp_path):
    wb = Workbook()
    wb.active.append(["姓名", "备注"])
    wb.active.append(["李四", "f 与 <f> 只是文字"])
    wb.save(tmp_path / "plain.xlsx")
    assert read_sheet(tmp_path / "plain.xlsx") == [["姓名", "备注"], ["李四", "f 与 <f> 只是文字"]]


@pytest.fixture(scope="module")
def pm():
    return make_plugin_manager(entry_points=False)


@pytest.fixture(scope="module")
def importers(pm):
    return available_importers(pm)


@pytest.fixture(scope="module")
def full_template(tmp_path_factory, pm):
    from shell.core.database import open_database

    path = tmp_path_factory.mktemp("formulas") / "all.sqlite"
    open_database(path, pm=pm, backup=False).dispose()
    return path


@pytest.fixture(params=["sqlite", "pg"])
def db(request, pm, tmp_path, full_template):
    """Every built-in plugin's tables, on both engines."""
    import shutil

    from shell.core.database import open_database

    if request.param == "sqlite":
        shutil.copy(full_template, tmp_path / "all.sqlite")
        url = tmp_path / "all.sqlite"
    else:
        url = request.getfixturevalue("pg_empty_url")
    database = open_database(url, pm=pm, backup=False)
    yield database
    database.dispose()


def test_the_table_covers_every_importer(importers):
    assert {d.kind for _p, d in importers} == set(FIRST_REQUIRED)


@pytest.mark.parametrize("kind", sorted(FIRST_REQUIRED))
def test_every_importer_refuses_a_formula_without_result(db, tmp_path, kind, importers):
    (definition,) = [d for _p, d in importers if d.kind == kind]
    template = tmp_path / "template.xlsx"
    definition.template_fn(template)
    wb = load_workbook(template)
    ws = wb.active
    header = [str(c.value or "").rstrip("*") for c in ws[1]]
    col = header.index(FIRST_REQUIRED[kind]) + 1
    for c in range(1, len(header) + 1):       # a second row with text everywhere but the formula
        ws.cell(row=2, column=c, value="x")
    ws.cell(row=2, column=col, value='=CONCAT("张","三")')
    wb.save(tmp_path / "sheet.xlsx")
    result = run_import(db.session_factory, Actor.system(), definition, tmp_path / "sheet.xlsx")
    assert result.written == 0
    assert [(e.row, e.column, e.value, e.reason) for e in result.errors] == [
        (2, FIRST_REQUIRED[kind], '=CONCAT("张","三")',
         f"第 2 行“{FIRST_REQUIRED[kind]}”是公式，没有保存计算结果，{PASTE}")]


def test_a_cached_formula_is_imported_as_its_value(db, tmp_path, importers):
    """End to end: a volunteer whose name is a formula with a cached result is registered by that name."""
    from sqlalchemy import select

    from plugins.volunteer.models import Volunteer

    with db.session_factory() as s:
        street = Area(name="青石街道", level="street", code="330102001", path="", opened_on=date(2020, 1, 1))
        s.add(street)
        s.flush()
        street.path = f"/{street.id}/"
        c = Area(name="和平里社区", level="community", parent_id=street.id, code="330102001001", path="",
                 opened_on=date(2020, 1, 1))
        s.add(c)
        s.flush()
        c.path = f"{street.path}{c.id}/"
        s.commit()
    body = "33010219900101123"
    wb = Workbook()
    wb.active.append(["姓名", "身份证号", "所属社区"])
    wb.active.append(['=CONCAT("张","三")', body + ric.calc_check_digit(body + "0"), "和平里社区"])
    wb.save(tmp_path / "raw.xlsx")
    _cache(tmp_path / "raw.xlsx", tmp_path / "v.xlsx", {"A2": ("张三", "str")})
    (definition,) = [d for _p, d in importers if d.kind == "volunteer-volunteers"]
    result = run_import(db.session_factory, Actor.system(), definition, tmp_path / "v.xlsx")
    assert result.ok and result.written == 1
    with db.session_factory() as s:
        assert s.scalars(select(Volunteer.name)).all() == ["张三"]
