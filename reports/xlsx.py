"""Excel rendering of a ledger: the same spec as the PDF, to .xlsx (openpyxl, write-only mode).

Layout: row 1 the title (merged across the columns), row 2 the printed scope (范围：…, blank when the
spec has none), row 3 the unit name and the period, row 4 the styled column header (frozen; repeated on
every printed page), then the rows, group headers, subtotals and the totals row, then notes and the
signature line. Print settings: A4 in the spec's orientation (landscape by default for wide ledgers),
fit to page width, header rows repeated, footer "第 &P 页 共 &N 页". The same masking as the PDF applies.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
import tempfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from .pdf import Cancelled
from .spec import (
    LedgerSpec,
    Tally,
    count_label,
    group_key_fn,
    make_extractor,
    period_label,
    resolve_widths,
    split_label,
    subtotal_columns,
)

__all__ = ["render_xlsx", "HEADER_ROW", "NUMBER_FORMATS", "typed_value"]

HEADER_ROW = 4  # the column header's row number; data starts on the next row

_MM_PER_CHAR = 2.3  # an Excel width unit is about one digit of the default font

# Number formats per column kind (spec.KINDS); dates in one style, ISO as the PDF prints them.
NUMBER_FORMATS = {"int": "0", "number": "General", "amount": "#,##0.00", "hours": "0.00",
                  "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
_INT = re.compile(r"[-+]?\d{1,15}")
_NUM = re.compile(r"[-+]?\d{1,15}(?:\.\d+)?")
_DATE = re.compile(r"(\d{4})(?:-|年)(\d{1,2})(?:-|月)(\d{1,2})日?")
_DATETIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")


def _as_int(t: str):
    t = t.replace(",", "")
    return int(t) if _INT.fullmatch(t) else t


def _as_number(t: str):
    t = t.replace(",", "")
    if _INT.fullmatch(t):
        return int(t)
    return float(t) if _NUM.fullmatch(t) else t


def _as_date(t: str):
    m = _DATE.fullmatch(t)
    if m is None:
        return t
    try:
        return _dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return t


def _as_datetime(t: str):
    m = _DATETIME.fullmatch(t)
    if m is None:
        return _as_date(t)
    try:
        return _dt.datetime(*(int(x) for x in m.groups(default="0")))
    except ValueError:
        return t


_CONVERT = {"int": _as_int, "number": _as_number, "amount": _as_number, "hours": _as_number,
            "date": _as_date, "datetime": _as_datetime}


def typed_value(kind: str, text: str):
    """The cell value Excel gets for a column of ``kind``: a number or a date when the formatted
    text reads as one, else the text itself."""
    conv = _CONVERT.get(kind)
    return conv(text) if conv is not None and text else text


def render_xlsx(spec: LedgerSpec, out, progress=None, cancel=None) -> int:
    """Write the ledger to ``out``; see :func:`_render` (this wrapper cleans up on failure)."""
    wb = Workbook(write_only=True)
    try:
        return _render(wb, spec, out, progress, cancel)
    except BaseException:
        for ws in wb.worksheets:  # close the streaming writer and drop its temporary file
            try:
                ws.close()
                ws._writer.cleanup()
            except Exception:  # noqa: BLE001 - best-effort cleanup; the original error is re-raised
                pass
        raise


def _render(wb, spec: LedgerSpec, out, progress=None, cancel=None) -> int:
    """Write the ledger to ``out`` (a path or a binary file object); return the number of data rows.

    ``progress(done_rows, None, text)`` is called every 1,000 rows; ``cancel()`` returning True
    raises ``Cancelled`` and leaves no file at ``out``.
    """
    ncols = len(spec.columns)
    ws = wb.create_sheet(title=_sheet_title(spec.title))

    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    f_title = Font(name="宋体", size=16, bold=True)
    f_sub = Font(name="宋体", size=10)
    f_head = Font(name="宋体", size=10, bold=True)
    f_body = Font(name="宋体", size=10)
    f_bold = Font(name="宋体", size=10, bold=True)
    fill_head = PatternFill("solid", fgColor="E6E6E6")
    fill_group = PatternFill("solid", fgColor="F2F2F2")
    h_align = {"left": "left", "center": "center", "right": "right"}
    al_cols = [Alignment(horizontal=h_align[c.align], vertical="center", wrap_text=c.wrap) for c in spec.columns]
    al_head = Alignment(horizontal="center", vertical="center", wrap_text=True)

    # Column widths from the same resolution the PDF uses (A4 printable width in mm).
    table_mm = (297 if spec.orientation == "landscape" else 210) - 24
    widths_mm = resolve_widths(spec.columns, table_mm, 1.0)
    for i, w in enumerate(widths_mm, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(4.0, round(w / _MM_PER_CHAR, 1))

    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    last_col = get_column_letter(ncols)
    ws.print_title_rows = f"1:{HEADER_ROW}"
    ws.page_setup.orientation = spec.orientation
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.47
    ws.page_margins.top = 0.5
    ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.oddFooter.center.size = 9

    # Assigning font/alignment/border to a cell makes openpyxl hash the style objects every time
    # (≈ 75 % of the run); each combination is resolved once and its style array copied instead.
    # Keyed by identity; the cache keeps the style objects alive so an id is never reused.
    styles: dict[tuple, tuple[StyleArray, tuple]] = {}

    def cell(value, font=f_body, align=None, fill=None, bordered=True, fmt=None):
        c = WriteOnlyCell(ws, value=value)
        if fmt is not None and value.__class__ is str:
            fmt = None  # a text in a numeric column (blank, "—"): no number format
        key = (id(font), id(align), id(fill), bordered, fmt)
        cached = styles.get(key)
        if cached is None:
            if fmt is not None:
                c.number_format = fmt
            c.font = font
            if align is not None:
                c.alignment = align
            if fill is not None:
                c.fill = fill
            if bordered:
                c.border = border
            styles[key] = (StyleArray(c._style), (font, align, fill))
        else:
            c._style = StyleArray(cached[0])
        return c

    # Header rows.
    merges = [f"A1:{last_col}1"]
    ws.row_dimensions[1].height = 30
    ws.append([cell(spec.title, f_title, Alignment(horizontal="center", vertical="center"), bordered=False)])
    if ncols > 1:
        merges.append(f"A2:{last_col}2")
    ws.append([cell(f"范围：{spec.scope}" if spec.scope else "", f_sub,
                    Alignment(horizontal="center", vertical="center"), bordered=False)])
    unit = f"填报单位：{spec.unit_name}" if spec.unit_name else ""
    period = period_label(spec.period)
    row2 = [cell(unit, f_sub, Alignment(horizontal="left", vertical="center"), bordered=False)]
    if ncols >= 2:
        split = max(1, ncols // 2)
        row2 += [None] * (split - 1)
        row2.append(cell(period, f_sub, Alignment(horizontal="right", vertical="center"), bordered=False))
        if split > 1:
            merges.append(f"A3:{get_column_letter(split)}3")
        if ncols > split + 1:
            merges.append(f"{get_column_letter(split + 1)}3:{last_col}3")
    else:
        row2[0].value = f"{unit}  {period}".strip()
    ws.append(row2)
    ws.append([cell(c.title, f_head, al_head, fill_head) for c in spec.columns])

    extract = make_extractor(spec.columns, spec.mask_ids)
    gkey = group_key_fn(spec.group_by)
    sub_cols = subtotal_columns(spec)
    want_sub = bool(spec.subtotals)
    tally = Tally(spec)
    rownum = HEADER_ROW
    nrows = 0
    cur = missing = object()
    count = 0
    sums = [0] * ncols

    kinds = [c.kind for c in spec.columns]
    convs = [_CONVERT.get(k) for k in kinds]
    fmts = [NUMBER_FORMATS.get(k) for k in kinds]
    typed = [i for i, cv in enumerate(convs) if cv is not None]

    def values(texts: list) -> list:
        for i in typed:
            t = texts[i]
            if t:
                texts[i] = convs[i](t)
        return texts

    def subtotal():
        nonlocal rownum
        vals = [""] * ncols
        vals[0] = count_label("小计", count, spec.count_unit)
        if sub_cols:
            split_label(vals, set(sub_cols), spec.columns)
        for ci in sub_cols:
            vals[ci] = sums[ci]
        ws.append([cell(v, f_bold, al_cols[i], fmt=fmts[i]) for i, v in enumerate(vals)])
        rownum += 1
        if not sub_cols and ncols > 1:  # a count only: across the row, as the PDF prints it
            merges.append(f"A{rownum}:{last_col}{rownum}")

    for row in spec.rows:
        if gkey is not None:
            k = gkey(row)
            if k != cur:
                if cur is not missing and want_sub:
                    subtotal()
                cur, count, sums = k, 0, [0] * ncols
                tally.groups += 1
                ws.append([cell("" if k is None else str(k), f_bold, Alignment(vertical="center"), fill_group)]
                          + [cell(None, f_bold, None, fill_group) for _ in range(ncols - 1)])
                rownum += 1
                merges.append(f"A{rownum}:{last_col}{rownum}")
            count += 1
            for ci in sub_cols:
                v = row.get(spec.columns[ci].key or spec.columns[ci].title) if hasattr(row, "get") else row[ci]
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    sums[ci] += v
        if tally.keys:
            tally.add(row)
        texts = values(extract(row)) if typed else extract(row)
        ws.append([cell(t, f_body, al_cols[i], fmt=fmts[i]) for i, t in enumerate(texts)])
        rownum += 1
        nrows += 1
        if nrows % 1000 == 0:
            if cancel is not None and cancel():
                raise Cancelled()
            if progress is not None:
                progress(nrows, None, f"正在生成 Excel：已写入 {nrows} 行")
    if gkey is not None and cur is not missing and want_sub:
        subtotal()
    if nrows == 0:
        ws.append([cell(spec.empty_text or "无数据", f_body, Alignment(horizontal="center", vertical="center"))]
                  + [cell(None) for _ in range(ncols - 1)])
        rownum += 1
        merges.append(f"A{rownum}:{last_col}{rownum}")
    tally.count = nrows
    totals, spanned = tally.totals()
    if totals is not None:
        texts = values(totals)
        ws.append([cell(t, f_bold, al_cols[i], fmt=fmts[i]) for i, t in enumerate(texts)])
        rownum += 1
        if spanned and ncols > 1:
            merges.append(f"A{rownum}:{last_col}{rownum}")
    for k, note in enumerate(spec.notes):
        ws.append([cell(("注：" if k == 0 else "　　") + note, f_sub, Alignment(wrap_text=False), bordered=False)])
        rownum += 1
    if spec.signature:
        ws.append([])
        per = max(1, ncols // len(spec.signature))
        sig = [None] * ncols
        for j, label in enumerate(spec.signature):
            pos = min(j * per, ncols - 1)
            sig[pos] = cell(f"{label}：" if "日期" not in label else f"{label}：　　年　　月　　日", f_sub,
                            bordered=False)
        ws.append(sig)
        rownum += 2
    ws.print_area = f"A1:{last_col}{rownum}"
    for rng in merges:
        ws.merged_cells.add(rng)

    if cancel is not None and cancel():
        raise Cancelled()
    _save_atomic(wb, out)
    if progress is not None:
        progress(nrows, nrows, "Excel 已生成")
    return nrows


def _sheet_title(title: str) -> str:
    bad = '[]:*?/\\'
    t = "".join("_" if ch in bad else ch for ch in (title or "台账"))
    return t[:31] or "台账"


def _save_atomic(wb, out) -> None:
    if isinstance(out, (str, os.PathLike)):
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="." + target.name + ".", suffix=".part", dir=target.parent)
        os.close(fd)
        try:
            wb.save(tmp)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    else:
        wb.save(out)
