"""The shared import engine (shell.core.importing) on a small table of its own: header variants,
row errors with row/column/value, duplicates within the file and against the database, the two write
paths, all-or-nothing and "only valid rows", progress and cancel, template and export round trip."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import Column as SAColumn
from sqlalchemy import Date, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.orm import Session

from shell.core import fields
from shell.core import importing as imp
from shell.core.importing import BulkInsert, Column, ImportCancelled, ImportSpec, PerRow, Sheet, import_sheet
from shell.errors import FieldError, ValidationError

meta = MetaData()
things = Table("things", meta, SAColumn("id", Integer, primary_key=True), SAColumn("code", String, unique=True),
               SAColumn("name", String), SAColumn("made_on", Date), SAColumn("count", Integer))


def _count(v):
    text = imp.cell_code(v)
    if not text:
        return 0
    if not text.isdigit():
        raise ValidationError("数量应为不小于 0 的整数", "count", v)
    return int(text)


SHEET = Sheet("物品", (
    Column("code", "编号", ("物品编号", "编码"), required=True, as_text=True, note="字母或数字"),
    Column("name", "名称", ("物品名称",), required=True),
    Column("made_on", "生产日期", ("日期",), parse=lambda v: fields.parse_date(v, "生产日期", "made_on", required=False)),
    Column("count", "数量", ("件数",), parse=_count),
))


def check(row: imp.Row) -> dict | None:
    code = imp.cell_code(row.cells["code"])
    name = imp.cell_text(row.cells["name"])
    errors = []
    if not code:
        errors.append(FieldError("code", "请填写编号。"))
    if not name:
        errors.append(FieldError("name", "请填写名称。"))
    elif len(name) > 10:
        errors.append(FieldError("name", f"名称太长（{len(name)} 字，最多 10 字）。", name))
    row.field_errors(errors)
    return dict(code=code, name=name, made_on=row.cells["made_on"], count=row.cells["count"])


def existing(session):
    def find(pairs):
        codes = [rec["code"] for _r, rec in pairs]
        known = set(session.scalars(select(things.c.code).where(imp.among(session, things.c.code, codes))))
        for row, rec in pairs:
            if rec["code"] in known:
                row.error("code", "编号已登记")
    return find


@pytest.fixture
def ctx():
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with Session(engine) as session:
        session.execute(insert(things), [dict(code="OLD1", name="旧的", count=1)])
        yield SimpleNamespace(session=session, actor=SimpleNamespace(user_id=1, require=lambda code: None))


def spec(ctx, write=None, **kw) -> ImportSpec:
    return ImportSpec(SHEET, check, write or BulkInsert(things, stamp=False), unique=("code",),
                      existing=existing(ctx.session), **kw)


def xlsx(tmp_path, rows, name="in.xlsx"):
    wb = Workbook()
    for r in rows:
        wb.active.append(list(r))
    path = tmp_path / name
    wb.save(path)
    return path


def codes(ctx) -> list[str]:
    return sorted(ctx.session.scalars(select(things.c.code)))


def test_header_variants_any_order_and_full_width(ctx, tmp_path):
    path = xlsx(tmp_path, [("件数", " 物品名称 ", "编码＊", "日期："), (3, "锤子", "A1", "2024/1/5"),
                           (None, "钉子", "Ａ２", 45300)])
    result = import_sheet(ctx, path, spec(ctx))
    assert result.ok and result.written == 2 and result.total_rows == 2
    rows = ctx.session.execute(select(things.c.code, things.c.made_on, things.c.count).order_by(things.c.code)).all()
    assert rows[0] == ("A1", date(2024, 1, 5), 3) and rows[1][0] == "A2" and rows[1][2] == 0


def test_missing_required_column_names_it_and_its_spellings(ctx, tmp_path):
    result = import_sheet(ctx, xlsx(tmp_path, [("名称",), ("锤子",)]), spec(ctx))
    assert [(e.row, e.column) for e in result.errors] == [(1, "编号")]
    assert result.errors[0].reason == "缺少必填列“编号”（也可写作物品编号、编码）"


@pytest.mark.parametrize("rows, expected", [
    ([], [(1, "", None, "工作表是空的：第 1 行应为表头（编号、名称……）")]),
    ([("编号", "名称")], [(2, "", None, "表中没有数据行")]),
    ([("编号", "名称", "数量"), ("A1", "", 2)], [(2, "名称", "", "请填写名称。")]),
    ([("编号", "名称", "数量"), ("A1", "锤子", "两件")], [(2, "数量", "两件", "数量应为不小于 0 的整数")]),
    ([("编号", "名称", "生产日期"), ("A1", "锤子", "2024-02-30")],
     [(2, "生产日期", "2024-02-30", "生产日期“2024-02-30”不是日期，请写成 2024-01-05。")]),
    ([("编号", "名称"), ("A1", "一把很长很长很长的锤子")],
     [(2, "名称", "一把很长很长很长的锤子", "名称太长（11 字，最多 10 字）。")]),
    ([("编号", "名称"), ("A1", "锤子"), (None, None), ("A1", "钉子")], [(4, "编号", "A1", "与第 2 行的编号重复")]),
    ([("编号", "名称"), ("OLD1", "锤子")], [(2, "编号", "OLD1", "编号已登记")]),
])
def test_bad_rows_name_row_column_value(ctx, tmp_path, rows, expected):
    result = import_sheet(ctx, xlsx(tmp_path, rows), spec(ctx))
    assert [(e.row, e.column, e.value, e.reason) for e in result.errors] == expected
    assert result.written == 0 and codes(ctx) == ["OLD1"]
    if rows:
        assert str(result.errors[0]).startswith(f"第 {expected[0][0]} 行")


def test_all_or_nothing_unless_only_valid_rows(ctx, tmp_path):
    path = xlsx(tmp_path, [("编号", "名称"), ("A1", "锤子"), ("A2", ""), ("A3", "钉子")])
    result = import_sheet(ctx, path, spec(ctx))
    assert (result.total_rows, result.valid_rows, result.written) == (3, 2, 0) and codes(ctx) == ["OLD1"]
    result = import_sheet(ctx, path, spec(ctx), valid_only=True)
    assert (result.valid_rows, result.written, len(result.errors)) == (2, 2, 1)
    assert codes(ctx) == ["A1", "A3", "OLD1"]


def test_per_row_service_refusal_rolls_the_file_back(ctx, tmp_path):
    calls = []

    def create(c, rec):
        calls.append(rec["code"])
        if rec["name"] == "坏":
            raise ValidationError("服务拒绝：名称不行。", "title", rec["name"])
        c.session.execute(insert(things), [dict(code=rec["code"], name=rec["name"])])

    path = xlsx(tmp_path, [("编号", "名称"), ("A1", "锤子"), ("A2", "坏"), ("A3", "钉子")])
    per_row = PerRow(create, fields={"title": "name"})
    result = import_sheet(ctx, path, spec(ctx, per_row))
    assert calls == ["A1", "A2", "A3"] and result.written == 0 and codes(ctx) == ["OLD1"]
    assert [(e.row, e.column, e.value, e.reason) for e in result.errors] == [(3, "名称", "坏", "服务拒绝：名称不行。")]
    assert result.valid_rows == 1 + 1
    result = import_sheet(ctx, path, spec(ctx, per_row), valid_only=True)
    assert result.written == 2 and codes(ctx) == ["A1", "A3", "OLD1"] and len(result.errors) == 1


def test_cancel_writes_nothing_and_progress_reports(ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(imp, "PROGRESS_STEP", 2)
    path = xlsx(tmp_path, [("编号", "名称")] + [(f"C{i}", "件") for i in range(7)])
    seen = []
    result = import_sheet(ctx, path, spec(ctx), progress=lambda d, t: seen.append((d, t)))
    assert result.written == 7 and seen[0] == (2, 7) and seen[-1] == (7, 7)
    ctx.session.execute(things.delete().where(things.c.code.like("C%")))
    asked = []

    def cancel_at(k):
        def cancel():
            asked.append(1)
            return len(asked) >= k
        return cancel
    with pytest.raises(ImportCancelled):     # while the rows are checked (asked at rows 2, 4, 6)
        import_sheet(ctx, path, spec(ctx), cancel=cancel_at(2))
    assert codes(ctx) == ["OLD1"] and len(asked) == 2
    asked.clear()
    with pytest.raises(ImportCancelled):     # every row checked, then asked once more before the write
        import_sheet(ctx, path, spec(ctx), cancel=cancel_at(4))
    assert codes(ctx) == ["OLD1"] and len(asked) == 4


def test_template_and_export_round_trip(ctx, tmp_path):
    tpl = tmp_path / "tpl.xlsx"
    imp.write_template(tpl, SHEET)
    ws = load_workbook(tpl).active
    assert [c.value for c in ws[1]] == ["编号*", "名称*", "生产日期", "数量"]
    assert ws.title == "物品" and ws["A1"].font.bold and ws["A1"].comment.text == "字母或数字"
    assert ws["A2"].number_format == "@" and ws["B2"].number_format != "@"
    positions, errors = imp.match_header([c.value for c in ws[1]], SHEET.columns)
    assert not errors and positions == {"code": 0, "name": 1, "made_on": 2, "count": 3}
    out = tmp_path / "out.xlsx"
    assert imp.write_rows(out, SHEET, [("B1", "扳手", date(2024, 3, 1), 4), ("B2", "螺丝", None, None)]) == 2
    result = import_sheet(ctx, out, spec(ctx))
    assert result.ok and result.written == 2
    assert ctx.session.execute(select(things.c.made_on, things.c.count).where(things.c.code == "B1")).one() == (
        date(2024, 3, 1), 4)
    d = imp.definition("t-things", "物品", SHEET, template_fn=lambda p: imp.write_template(p, SHEET))
    assert d.columns == ("编号", "名称", "生产日期", "数量")


def test_cell_helpers():
    assert imp.cell_text("\u3000张 三 ") == "张 三" and imp.cell_text(3.0) == "3" and imp.cell_text(None) == ""
    assert imp.cell_code(" １３８ 0013 ８０００ ") == "13800138000" and imp.cell_code(13800138000.0) == "13800138000"
    assert imp.blank_row([None, "", " \u3000"]) and not imp.blank_row([None, 0])
    assert imp.norm_header(" 公民身份号码＊：") == "公民身份号码"
