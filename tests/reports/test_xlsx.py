"""The same spec in Excel: same header and rows, frozen styled header, print settings, masking."""
from __future__ import annotations

import openpyxl
import pytest

from reports.pdf import Cancelled, render_pdf
from reports.spec import make_extractor
from reports.xlsx import HEADER_ROW, render_xlsx

from .conftest import PERIOD, TITLE, UNIT, columns, make_spec, page_texts, resident


def _norm(v):
    return "" if v is None else str(v)


def test_same_rows_and_header_as_pdf(tmp_path):
    n = 80
    xpath, ppath = tmp_path / "l.xlsx", tmp_path / "l.pdf"
    assert render_xlsx(make_spec(n), xpath) == n
    render_pdf(make_spec(n), ppath)
    ws = openpyxl.load_workbook(xpath).active
    assert ws["A1"].value == TITLE and UNIT in ws["A3"].value
    assert any(PERIOD in _norm(c.value) for c in ws[3])
    header = [c.value for c in ws[HEADER_ROW]]
    assert header == [c.title for c in columns()]
    expected = [make_extractor(columns(), True)(resident(i)) for i in range(n)]
    got = [[_norm(v) for v in r] for r in ws.iter_rows(min_row=HEADER_ROW + 1, max_row=HEADER_ROW + n, values_only=True)]
    assert got == expected
    assert "1101**********" in got[3][2] and "****" in got[3][6]
    # the PDF prints the very same cell texts
    pdf_text = "".join(page_texts(ppath)).replace("\n", "")
    for row in expected[:: 17]:
        for cell in (row[0], row[2], row[6]):
            assert cell in pdf_text
    assert [_norm(v) for v in next(ws.iter_rows(min_row=HEADER_ROW + n + 1, values_only=True))][:2] == ["合计", f"{n} 人"]


def test_header_frozen_styled_and_print_settings(tmp_path):
    path = tmp_path / "l.xlsx"
    render_xlsx(make_spec(10), path)
    ws = openpyxl.load_workbook(path).active
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}"
    h = ws.cell(HEADER_ROW, 1)
    assert h.font.b and h.fill.fgColor.rgb.endswith("E6E6E6") and h.border.left.style == "thin"
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == f"$1:${HEADER_ROW}"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert ws.column_dimensions["F"].width > ws.column_dimensions["B"].width  # 现住址 wider than 性别
    assert ws.cell(HEADER_ROW + 1, 6).alignment.wrap_text


def test_mask_off_and_empty(tmp_path):
    path = tmp_path / "full.xlsx"
    render_xlsx(make_spec(3, mask_ids=False), path)
    ws = openpyxl.load_workbook(path).active
    assert ws.cell(HEADER_ROW + 1, 3).value == resident(0)[2]
    empty = tmp_path / "empty.xlsx"
    assert render_xlsx(make_spec(0), empty) == 0
    ws = openpyxl.load_workbook(empty).active
    assert ws.cell(HEADER_ROW + 1, 1).value == "无数据"


def test_xlsx_cancel_leaves_no_file(tmp_path):
    path = tmp_path / "c.xlsx"
    with pytest.raises(Cancelled):
        render_xlsx(make_spec(2500), path, cancel=lambda: True)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_numeric_and_date_columns_are_numbers_and_dates_in_excel(tmp_path):
    """Issue 18: not one cell of the workbooks was numeric, so SUM did not work. Columns of a
    numeric kind hold numbers with a number format, date columns dates; an ID number stays text,
    and a text that is no number ("—") stays as it is."""
    import datetime as dt

    from reports.spec import Column, LedgerSpec

    cols = [Column("编号", 20), Column("身份证号", 38, mask="id"), Column("人数", 10, kind="int"),
            Column("金额（元）", 16, kind="amount"), Column("时长", 12, kind="hours"),
            Column("日期", 20, kind="date"), Column("时间", 24, kind="datetime")]
    rows = [("0012", "110105199001151234", 3, "12.50", 1.5, dt.date(2026, 3, 1), "2026-03-01 09:30"),
            ("0013", "110105199001151235", "—", 7, "2", "2026-03-02", dt.datetime(2026, 3, 2, 14, 0))]
    out = tmp_path / "n.xlsx"
    render_xlsx(LedgerSpec(title="t", unit_name="u", period="p", columns=cols, rows=iter(rows),
                           totals=("合计", "", 3, "19.50", 3.5, "", "")), out)
    ws = openpyxl.load_workbook(out).active
    r1, r2, tot = (ws[HEADER_ROW + k] for k in (1, 2, 3))
    assert [c.value for c in r1] == ["0012", "1101**********1234", 3, 12.5, 1.5, dt.datetime(2026, 3, 1),
                                    dt.datetime(2026, 3, 1, 9, 30)]
    assert [c.value for c in r2][2:] == ["—", 7, 2, dt.datetime(2026, 3, 2), dt.datetime(2026, 3, 2, 14, 0)]
    assert [c.number_format for c in r1][2:] == ["0", "#,##0.00", "0.00", "yyyy-mm-dd", "yyyy-mm-dd hh:mm"]
    assert r2[2].number_format == "General"  # the "—" is text
    assert [c.value for c in tot][2:5] == [3, 19.5, 3.5]
