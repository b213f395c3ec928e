"""PDF ledgers: header on every page, page numbers, masking, embedded font, wrapping, streaming."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import pdfplumber
import pytest
from pypdf import PdfReader

from reports.fonts import find_cjk_font
from reports.pdf import Cancelled, _Measure, render_pdf, unbreakable_width, wrap_text
from reports.spec import Column, LedgerSpec

from .conftest import HEADERS, PERIOD, TITLE, UNIT, make_spec, page_texts, resident


def test_every_page_has_title_unit_period_header_and_page_numbers(tmp_path):
    out = tmp_path / "ledger.pdf"
    res = render_pdf(make_spec(150), out)
    texts = page_texts(out)
    assert res.rows == 150 and res.pages == len(texts) and res.pages >= 3
    for i, t in enumerate(texts, start=1):
        assert TITLE in t and UNIT in t and PERIOD in t, f"page {i}"
        for h in HEADERS:
            assert h in t, f"header cell {h} missing on page {i}"
        assert f"第 {i} 页 共 {res.pages} 页" in t
    last = texts[-1]
    for label in ("填表人", "审核人", "负责人", "填报日期", "合计", "150", "身份证号码、联系电话已按规定脱敏"):
        assert label in last
    assert "填表人" not in texts[0]
    # every data row is printed exactly once
    everything = "".join(texts)
    assert all(f"居民{i:04d}" in everything for i in range(150))


def test_ids_and_phones_masked_by_default_and_full_when_off(tmp_path):
    masked, full = tmp_path / "m.pdf", tmp_path / "f.pdf"
    render_pdf(make_spec(30), masked)
    render_pdf(make_spec(30, mask_ids=False), full)
    tm, tf = "".join(page_texts(masked)), "".join(page_texts(full))
    row = resident(7)
    assert row[2] not in tm and "1101**********" + row[2][-4:] in tm
    assert row[6] not in tm and row[6][:3] + "****" + row[6][-4:] in tm
    assert row[2] in tf and row[6] in tf and "**********" not in tf


def test_font_is_embedded_as_truetype_subset(tmp_path):
    out = tmp_path / "ledger.pdf"
    render_pdf(make_spec(5), out)
    reader = PdfReader(str(out))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        f = ref.get_object()
        desc = f.get("/FontDescriptor")
        if desc is not None and "/FontFile2" in desc.get_object():
            embedded.append(f["/BaseFont"])
    assert embedded, "no /FontFile2 stream: the Chinese font is not embedded"
    assert all("+" in str(name) for name in embedded)  # subset prefix, e.g. /AAAAAA+...
    assert b"STSong-Light" not in out.read_bytes()


def test_zero_rows_prints_no_data(tmp_path):
    out = tmp_path / "empty.pdf"
    res = render_pdf(make_spec(0), out)
    texts = page_texts(out)
    assert res.rows == 0 and res.pages == 1
    assert "无数据" in texts[0] and "第 1 页 共 1 页" in texts[0] and "姓名" in texts[0]


def test_landscape_and_portrait_pages(tmp_path):
    land, port = tmp_path / "l.pdf", tmp_path / "p.pdf"
    render_pdf(make_spec(40), land)
    render_pdf(make_spec(40, orientation="portrait"), port)
    for p in PdfReader(str(land)).pages:
        assert float(p.mediabox.width) > float(p.mediabox.height)
        assert abs(float(p.mediabox.width) - 841.89) < 1
    for p in PdfReader(str(port)).pages:
        assert float(p.mediabox.width) < float(p.mediabox.height)


LONG = ("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥" * 4) + "（ABC-12345 长地址测试）" + "鼠牛虎兔龙蛇马羊猴鸡狗猪" * 3


def _cell_box(page, header: str):
    """x-range of the column whose header cell contains ``header``, from the drawn rules."""
    words = [w for w in page.extract_words() if w["text"] == header]
    assert words, header
    cx = (words[0]["x0"] + words[0]["x1"]) / 2
    xs = sorted({round(e["x0"], 1) for e in page.edges if e["orientation"] == "v"})
    left = max(x for x in xs if x < cx)
    right = min(x for x in xs if x > cx)
    return left, right


def test_overlong_chinese_cell_wraps_inside_its_cell(tmp_path):
    rows = [resident(1), ("王小明", "男", "110105199001011234", "1990-01-01", "汉族", LONG, "13812345678", "第1网格"),
            resident(2)]
    out = tmp_path / "wrap.pdf"
    render_pdf(make_spec(3, rows=iter(rows)), out)
    long_chars = {ch for ch in LONG if ord(ch) > 127}  # digits/Latin also occur in other cells
    with pdfplumber.open(str(out)) as pdf:
        page = pdf.pages[0]
        left, right = _cell_box(page, "现住址")
        cell_chars = [c for c in page.chars if c["text"] in long_chars and c["top"] > 90]
        assert len(cell_chars) == len([ch for ch in LONG if ord(ch) > 127])
        for c in cell_chars:
            assert c["x0"] >= left - 0.01 and c["x1"] <= right + 0.01, (c["text"], c["x0"], c["x1"], left, right)
        lines = {round(c["top"]) for c in cell_chars}
        assert len(lines) >= 3, "the long cell did not wrap"
        # nothing anywhere lies outside the page
        for c in page.chars:
            assert 0 <= c["x0"] and c["x1"] <= page.width and 0 <= c["top"] and c["bottom"] <= page.height
        # Latin/digit run kept together on one line
        text = page.extract_text()
        assert "ABC-12345" in text.replace("\n", "")


def test_row_taller_than_a_page_is_split_without_overflow(tmp_path):
    huge = "子丑寅卯辰巳午未申酉戌亥" * 350
    rows = [("某", "男", "110105199001011234", "1990-01-01", "汉族", huge, "13812345678", "第1网格")]
    out = tmp_path / "huge.pdf"
    res = render_pdf(make_spec(1, rows=iter(rows)), out)
    assert res.pages >= 2
    with pdfplumber.open(str(out)) as pdf:
        total = 0
        for page in pdf.pages:
            left, right = _cell_box(page, "现住址")
            body = [c for c in page.chars if c["text"] in "子丑寅卯辰巳午未申酉戌亥" and c["top"] > 90
                    and c["bottom"] < page.height - 40]
            total += len(body)
            for c in body:
                assert left <= c["x0"] and c["x1"] <= right
                assert c["bottom"] <= page.height - 30
        assert total == len(huge)


def test_group_headers_and_subtotals(tmp_path):
    cols = [Column("网格", 30), Column("姓名", "*"), Column("户数", 20, "right")]
    rows = [("第1网格", "张三", 3), ("第1网格", "李四", 2), ("第2网格", "王五", 4)]
    spec = LedgerSpec(title="网格户数统计", unit_name=UNIT, period=PERIOD, columns=cols, rows=iter(rows),
                      group_by=0, subtotals=(2,), totals=("合计", "", 9))
    out = tmp_path / "g.pdf"
    res = render_pdf(spec, out)
    t = page_texts(out)[0]
    assert res.rows == 3
    assert "小计：2 条" in t and "小计：1 条" in t and "合计" in t
    assert t.index("第1网格") < t.index("张三") < t.index("小计：2 条") < t.index("王五")


def test_cancel_leaves_no_file(tmp_path):
    out = tmp_path / "cancelled.pdf"
    calls = []

    def progress(done, total, text):
        calls.append((done, total, text))

    with pytest.raises(Cancelled) as exc:
        render_pdf(make_spec(500), out, progress=progress, cancel=lambda: len(calls) >= 2)
    assert "取消" in exc.value.message
    assert not out.exists()
    assert os.listdir(tmp_path) == []


def test_cancel_during_drawing_keeps_previous_file(tmp_path):
    out = tmp_path / "ledger.pdf"
    out.write_bytes(b"old")
    seen = []
    with pytest.raises(Cancelled):
        render_pdf(make_spec(300), out, progress=lambda d, t, s: seen.append(t),
                   cancel=lambda: any(t is not None for t in seen))
    assert out.read_bytes() == b"old" and os.listdir(tmp_path) == ["ledger.pdf"]


def test_rows_are_consumed_lazily_and_progress_reports(tmp_path):
    """Only a bounded read-ahead (the rows the column widths are measured on) precedes the
    first page; the rest of the stream is consumed page by page."""
    from reports.pdf import _MEASURE_ROWS

    consumed = [0]

    def rows():
        for i in range(3000):
            consumed[0] = i + 1
            yield resident(i)

    at_first_progress = []
    reports = []

    def progress(done, total, text):
        if not at_first_progress:
            at_first_progress.append(consumed[0])
        reports.append((done, total, text))

    res = render_pdf(make_spec(3000, rows=rows()), tmp_path / "big.pdf", progress=progress)
    assert _MEASURE_ROWS <= 1000 and at_first_progress[0] < _MEASURE_ROWS + 100, \
        "the whole row stream was read before the first page"
    assert consumed[0] == 3000 and res.rows == 3000
    assert reports[-1][:2] == (3000, 3000)
    layout = [r for r in reports if r[1] is None]
    drawing = [r for r in reports if r[1] is not None]
    assert len(drawing) == res.pages and len(layout) >= res.pages - 1
    assert [d for d, _t, _s in drawing] == sorted(d for d, _t, _s in drawing)


def test_render_to_file_object(tmp_path):
    buf = io.BytesIO()
    res = render_pdf(make_spec(10), buf)
    assert buf.getvalue().startswith(b"%PDF") and res.pages == 1


def test_wrap_text_rules():
    font = find_cjk_font()
    m = _Measure(font.regular_name, 9)
    w = m.width("测试测试测")
    lines = [t for t, _ in wrap_text("测试测试测试测试，测试", w, m)]
    assert all(m.width(t) <= w + 1e-6 for t in lines)
    assert not any(t.startswith("，") for t in lines)       # no line starts with a comma
    lines = [t for t, _ in wrap_text("地址 Room 2405 朝阳路", m.width("地址 Room 2405"), m)]
    assert any("2405" in t for t in lines) and not any(t.endswith("240") for t in lines)
    assert [t for t, _ in wrap_text("甲\n乙", 100, m)] == ["甲", "乙"]


def test_reports_never_import_qt():
    code = ("import sys, reports, reports.pdf, reports.xlsx, reports.fonts, reports.spec, reports.masking;"
            "bad=[m for m in sys.modules if m.startswith(('PySide6','PyQt','shiboken'))];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def test_benchmark_tiny_runs():
    # As in CI: LibreOffice is not on PATH (here it may be installed; hide it).
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    env = dict(os.environ, PATH=os.path.dirname(sys.executable))
    res = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "ledger_pdf.py"), "--tiny"],
                         capture_output=True, text=True, cwd=root, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    assert "200" in res.stdout and "LibreOffice is absent" in res.stdout
    assert "ReportLab" in res.stdout and "nproc" in res.stdout


# --- issue 18: the tail once, no mid-token wrapping, widths from the content ------------------------

def _tail_pages(texts, label="负责人："):
    return [k for k, t in enumerate(texts) if label in t]


@pytest.mark.parametrize("n", range(20, 60))
def test_the_tail_is_printed_once_and_never_alone(tmp_path, n):
    """Whatever the row count, the signature block is printed exactly once, on the last page,
    with at least one row of the table (the case that printed it twice and ran it into the footer
    was a tail that did not fit under the last rows)."""
    out = tmp_path / "l.pdf"
    render_pdf(make_spec(n, orientation="portrait", notes=("说明一。", "说明二。")), out)
    texts = page_texts(out)
    assert _tail_pages(texts) == [len(texts) - 1], n
    assert sum(t.count("负责人：") for t in texts) == 1
    last = texts[-1]
    assert "合计" in last and "居民" in last, "the last page holds only the tail"


def test_dates_times_numbers_and_short_words_are_not_split():
    m = _Measure(find_cjk_font().regular_name, 9)
    cases = ["2027-11-19", "19:18", "SJ20260107-0001", "3101**********0872", "2026年12月3日", "大学本科"]
    for text in cases:
        # a column as wide as the token's own minimum width: it must stay on one line
        lines = wrap_text(text, unbreakable_width(text, m) + 0.1, m)
        assert [t for t, _w in lines] == [text], text
    text = "矛盾已化解2027-11-19；双方于19:18签字，编号SJ20260107-0001"
    # any column at least as wide as the text's longest unbreakable run
    for avail in range(int(unbreakable_width(text, m)) + 1, 160, 3):
        lines = [t for t, _w in wrap_text(text, avail, m)]
        assert "".join(lines) == text
        assert not any(t.startswith(("；", "，")) for t in lines), lines
        for tok in ("2027-11-19", "19:18", "SJ20260107-0001"):
            assert any(tok in t for t in lines), (avail, lines)


def test_column_widths_follow_the_content(tmp_path):
    """Declared widths too narrow for a date column and a code column: the measured widths keep
    every date and code whole."""
    cols = [Column("编号", 5), Column("日期", 5), Column("情况", "*"), Column("学历", 4)]
    rows = [(f"SJ20260107-{i:04d}", f"2027-11-{1 + i % 28:02d}", "已化解；双方签订调解协议书" * 2, "大学本科")
            for i in range(40)]
    out = tmp_path / "w.pdf"
    render_pdf(LedgerSpec(title="t", unit_name="u", period="p", columns=cols, rows=iter(rows)), out)
    with pdfplumber.open(out) as pdf:
        words = " ".join(w["text"] for p in pdf.pages for w in p.extract_words())
    for code, date, _s, _edu in rows:
        assert code in words and date in words
    assert words.count("大学本科") == 40


def test_wrap_never_starts_a_line_with_closing_punctuation_at_any_width():
    """Two closing marks in a row ("）；", "。”") move down with the token before them (it was "；"
    starting a line in 三会一课's absentee list)."""
    from reports.pdf import _NO_START

    font = find_cjk_font()
    m = _Measure(font.regular_name, 9)
    texts = ("高欣（出差）；余芳英（生病）；叶斌晨（外出务工）；莫健阳（生病）；汤文（生病）",
             "他说：“好。”然后走了。“行！”她答。", "2024-05-01（周三）；2024-05-02（周四）。")
    for text in texts:
        # from four characters wide (narrower, "三）；" may have no room but a line of its own) to the whole
        for chars in range(4, len(text) + 1):
            avail = m.width("测" * chars)
            lines = [t for t, _ in wrap_text(text, avail, m)]
            assert "".join(lines) == text, (chars, lines)
            assert not any(t and t[0] in _NO_START for t in lines), (chars, lines)
            assert all(m.width(t) <= avail + 1e-6 for t in lines), (chars, lines)
