"""Totals where a reader expects them (issue 18 §1): counts that say what they count, sums of the
columns asked for, an automatic total gathered while the rows stream, the same in PDF and Excel."""
from __future__ import annotations

import openpyxl
import pytest

from reports.pdf import render_pdf
from reports.spec import Column, LedgerSpec
from reports.xlsx import HEADER_ROW, render_xlsx

from .conftest import page_texts

COLS = [Column("序号", 12, kind="int"), Column("物资", "*"), Column("数量", 20, "right", kind="number"),
        Column("金额", 24, "right", kind="amount")]


def _rows():
    for team, n in (("一号库", 3), ("二号库", 2)):
        for i in range(1, n + 1):
            yield {"库": team, "序号": i, "物资": f"{team}物资{i}", "数量": i * 10, "金额": i * 1.5}


def _spec(**kw):
    base = dict(title="测试台账", unit_name="青石街道办事处", period="截至2026年12月3日", columns=COLS, rows=_rows(),
                group_by="库", subtotals=True, count_unit="批", group_unit="个仓库", sum_columns=(2, 3),
                totals="auto", scope="青石街道")
    base.update(kw)
    return LedgerSpec(**base)


def _xlsx_rows(path):
    ws = openpyxl.load_workbook(path).active
    return [[c for c in r] for r in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True)], ws


def test_subtotals_and_the_automatic_total_say_what_they_count(tmp_path):
    pdf, xlsx = tmp_path / "t.pdf", tmp_path / "t.xlsx"
    render_pdf(_spec(), pdf)
    render_xlsx(_spec(), xlsx)
    text = page_texts(pdf)[0].replace(" ", "")
    assert "范围：青石街道" in text and "截至2026年12月3日" in text and "统计期间" not in text
    # 合计 | 2 个仓库，5 批 with the sums; 小计 | 3 批 per group (the label split off the narrow 序号)
    assert "小计3批" in text and "小计2批" in text
    assert "合计2个仓库，5批" in text and "9013.50" in text
    rows, ws = _xlsx_rows(xlsx)
    subtotals = [r for r in rows if r and r[0] == "小计"]
    assert [(r[1], r[2], r[3]) for r in subtotals] == [("3 批", 60, 9.0), ("2 批", 30, 4.5)]
    total = next(r for r in rows if r and r[0] == "合计")
    assert total[1] == "2 个仓库，5 批" and total[2] == 90 and total[3] == pytest.approx(13.5)
    assert ws.cell(HEADER_ROW - 2, 1).value == "范围：青石街道"


def test_a_count_only_total_spans_the_table(tmp_path):
    spec = _spec(sum_columns=(), subtotals=True, count_unit="人", group_unit="支队伍")
    pdf, xlsx = tmp_path / "t.pdf", tmp_path / "t.xlsx"
    render_pdf(spec, pdf)
    render_xlsx(_spec(sum_columns=(), subtotals=True, count_unit="人", group_unit="支队伍"), xlsx)
    text = page_texts(pdf)[0].replace(" ", "")
    assert "小计：3人" in text and "合计：2支队伍，5人" in text
    rows, ws = _xlsx_rows(xlsx)
    labels = [r[0] for r in rows if r and str(r[0]).startswith(("小计", "合计"))]
    assert labels == ["小计：3 人", "小计：2 人", "合计：2 支队伍，5 人"]
    merged = {str(m) for m in ws.merged_cells.ranges}
    last = HEADER_ROW + len(rows)
    assert any(m.startswith(f"A{r}:") for m in merged for r in range(HEADER_ROW + 1, last + 1)
               if ws.cell(r, 1).value == "合计：2 支队伍，5 人")


def test_a_callable_total_is_asked_after_the_last_row(tmp_path):
    seen = []

    def rows():
        for i in range(1, 4):
            seen.append(i)
            yield (i, f"物资{i}", i, 0)

    def totals():
        return ("合计", f"{len(seen)} 种", sum(seen), "")

    spec = LedgerSpec(title="测试", unit_name="单位", period="2026年", columns=COLS, rows=rows(), totals=totals)
    render_pdf(spec, tmp_path / "t.pdf")
    assert "合计3种6" in page_texts(tmp_path / "t.pdf")[0].replace(" ", "")


def test_a_bad_totals_value_is_refused_in_chinese():
    with pytest.raises(ValueError, match="合计行"):
        LedgerSpec(title="t", unit_name="u", period="", columns=COLS, totals="sum")
    with pytest.raises(ValueError, match="求和列"):
        LedgerSpec(title="t", unit_name="u", period="", columns=COLS, sum_columns=(9,))
