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
    assert ws["A1"].value == TITLE and UNIT in ws["A2"].value
    assert any(PERIOD in _norm(c.value) for c in ws[2])
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
