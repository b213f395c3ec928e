"""Reading the first sheet of an imported Excel file, the same way for every importer.

python-calamine reads values fast, and a formula cell as the value Excel cached when it saved the
file. A file written by a program that computes nothing (openpyxl, some exporters) has formulas
without a cached value, which calamine reads as an empty cell: the importer would then say
"姓名不能为空" about a cell that is visibly filled in Excel. So the sheet's XML is searched for
formulas (a quick byte search first, a parse only when there is one), and a formula without a
cached value is refused with its row and column, telling the user to paste values."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree as ET

from shell.errors import ValidationError

_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PASTE_VALUES = "请复制后“选择性粘贴 → 数值”再导入"


class FormulaCellsError(ValidationError):
    """Formula cells without a saved result. ``cells``: (Excel row, column title, formula text);
    ``shell.core.transfer.run_import`` turns them into row errors."""

    def __init__(self, cells: list[tuple[int, str, str]]):
        self.cells = cells
        parts = [formula_reason(row, column) for row, column, _f in cells[:5]]
        more = f"等 {len(cells)} 处" if len(cells) > 5 else ""
        super().__init__("；".join(parts) + more + f"。{PASTE_VALUES}。", "path", cells[0][2] if cells else None)


def formula_reason(row: int, column: str) -> str:
    return f"第 {row} 行“{column}”是公式，没有保存计算结果"


def formula_row_errors(exc: FormulaCellsError) -> list:
    """The cells as row errors (row, column, the formula, what to do) for the import centre."""
    from shell.contracts import RowError

    return [RowError(row, column, text, f"{formula_reason(row, column)}，{PASTE_VALUES}") for row, column, text in exc.cells]


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _first_sheet_part(zf: zipfile.ZipFile) -> str | None:
    """The zip member of the workbook's first sheet (the one calamine reads as index 0)."""
    try:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return None
    sheet = next((e for e in book.iter() if _local(e.tag) == "sheet"), None)
    if sheet is None:
        return None
    rid = sheet.get(f"{{{_REL_NS}}}id")
    for rel in rels.iter():
        if _local(rel.tag) == "Relationship" and rel.get("Id") == rid:
            target = rel.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return str(PurePosixPath("xl") / target)
    return None


def _has_formula(zf: zipfile.ZipFile, part: str) -> bool:
    """A formula element anywhere in the sheet (plain substring tests: a 100,000-row sheet is some
    100 MB of XML, and a regex over it costs more than calamine's whole read; <formula…> of
    validation rules is a false alarm that only costs the parse)."""
    tail = b""
    with zf.open(part) as f:
        while chunk := f.read(1 << 22):
            for window in (chunk, tail + chunk[:8]):   # the chunk, and a tag split across two
                if b"<f" in window or b":f>" in window or b":f " in window:
                    return True
            tail = chunk[-8:]
    return False


def uncached_formulas(path: Path) -> list[tuple[int, int, str]]:
    """(Excel row, 0-based column, formula text) of every formula cell of the first sheet that has
    no cached value. Empty for files that are not .xlsx/.xlsm zips (.xls and .ods keep results)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return []
    with zf:
        part = _first_sheet_part(zf)
        if part is None or part not in zf.namelist() or not _has_formula(zf, part):
            return []
        out = []
        with zf.open(part) as f:
            for _event, el in ET.iterparse(f, events=("end",)):
                name = _local(el.tag)
                if name == "c":
                    kids = {_local(k.tag): k for k in el}
                    f_el, v_el = kids.get("f"), kids.get("v")
                    # an empty <v> of a text formula is Excel's cached empty string; openpyxl writes <v/> untyped
                    cached = (v_el is not None and ((v_el.text or "") != "" or el.get("t") == "str")) or "is" in kids
                    if f_el is not None and not cached:
                        m = _CELL_REF.match(el.get("r", ""))
                        if m:
                            out.append((int(m.group(2)), _column_index(m.group(1)), f"={f_el.text or ''}"))
                    el.clear()
                elif name == "row":
                    el.clear()
        return out


def read_sheet(path: Path) -> list[list[Any]]:
    """The rows of the first sheet from A1 (empty cells as ""), trailing blank rows dropped. Formula
    cells give their cached value; a formula without one raises ``FormulaCellsError`` naming the row
    and the column (the header row's title). Unreadable files raise a ValidationError."""
    from python_calamine import CalamineWorkbook

    path = Path(path)
    try:
        wb = CalamineWorkbook.from_path(str(path))
        rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=False) if wb.sheet_names else []
    except Exception as exc:  # noqa: BLE001 - the reader's errors are many and untyped
        raise ValidationError(f"无法读取文件“{path.name}”：不是有效的 Excel 文件（{type(exc).__name__}），"
                              f"请确认是 .xlsx 格式。", "path", str(path)) from None
    rows = [list(r) for r in rows]
    while rows and all(c is None or (isinstance(c, str) and not c.replace("\u3000", " ").strip()) for c in rows[-1]):
        rows.pop()
    formulas = uncached_formulas(path)
    if formulas:
        header = rows[0] if rows else []
        cells = []
        for row, col, text in formulas:
            title = str(header[col]).strip().rstrip("*＊ ") if col < len(header) and header[col] not in (None, "") else ""
            cells.append((row, title or f"第 {col + 1} 列", text))
        raise FormulaCellsError(cells)
    return rows
