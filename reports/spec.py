"""Declarative report specs: a ledger (台账) of many rows, or a one-record document (证明/介绍信).

Plugins build these in their ``ledgers.py`` (no Qt) and the renderers in ``pdf.py`` / ``xlsx.py``
turn them into files. A ``LedgerSpec`` holds its rows as an *iterable* that is consumed once and
lazily — pass a generator or a streaming query result, never a list of 50,000 rows.
"""
from __future__ import annotations

import datetime as _dt
import decimal as _decimal
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .masking import mask_value

__all__ = [
    "Column", "LedgerSpec", "DocumentSpec", "ItemsTable", "SIGNATURE_DEFAULT",
    "format_value", "cell_text", "resolve_widths", "KINDS",
]

SIGNATURE_DEFAULT = ("填表人", "审核人", "负责人", "填报日期")
_ALIGNS = ("left", "center", "right")
_MASKS = (None, "id", "phone")
# What a column holds, for Excel: text, or numbers and dates written as such (the PDF prints the
# formatted text either way). ID, phone and order numbers are text.
KINDS = ("text", "int", "number", "amount", "hours", "date", "datetime")


@dataclass(frozen=True)
class Column:
    """One printed column.

    ``width``: a number is millimetres; a string ``"2*"`` (or ``"*"``) is a relative share of the
    width left over; ``None`` means ``"1*"``. Columns are scaled to fill the printable width.
    ``formatter(value) -> str`` overrides the default formatting (dates as 2024-05-01, None as empty).
    ``mask`` ('id' | 'phone' | None) is applied after formatting when the ledger's ``mask_ids`` is on.
    ``key`` selects the value when rows are mappings (defaults to ``title``); rows that are
    sequences are matched by position.
    ``kind`` ("text" | "int" | "number" | "amount" | "hours" | "date" | "datetime"): Excel writes
    the cell as a number (int ``0``, number ``General``, amount ``#,##0.00``, hours ``0.00``) or a
    date (``yyyy-mm-dd``, ``yyyy-mm-dd hh:mm``) when the cell's text reads as one; a text that
    does not (blank, "—", "2026年") stays text.
    """

    title: str
    width: float | str | None = None
    align: str = "left"
    formatter: Callable[[Any], str] | None = None
    wrap: bool = True
    mask: str | None = None
    key: str | None = None
    kind: str = "text"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"列“{self.title}”的类型“{self.kind}”无效，应为 {' / '.join(KINDS)}")
        if self.mask and self.kind != "text":
            raise ValueError(f"列“{self.title}”要脱敏，只能是文本列（kind=\"text\"）")
        if self.align not in _ALIGNS:
            raise ValueError(f"列“{self.title}”的对齐方式“{self.align}”无效，应为 left / center / right")
        if self.mask not in _MASKS:
            raise ValueError(f"列“{self.title}”的脱敏规则“{self.mask}”无效，应为 'id' / 'phone' / None")
        w = self.width
        if isinstance(w, str):
            s = w.strip()
            if not s.endswith("*") or (s[:-1] and float(s[:-1]) <= 0):
                raise ValueError(f"列“{self.title}”的宽度“{w}”无效：毫米数用数字，相对宽度写作“2*”")
        elif w is not None and not (w > 0):
            raise ValueError(f"列“{self.title}”的宽度必须大于 0")


@dataclass
class LedgerSpec:
    """A printed table: unit name, title and period on every page, repeated column header,
    "第 X 页 共 Y 页", optional group headers/subtotals and a totals row, notes, and the signature
    block (填表人 / 审核人 / 负责人 / 填报日期, with room for the seal) on the last page.

    ``rows``: an iterable of sequences (by column position) or mappings (by ``Column.key``/title).
    ``totals``: one row (sequence or mapping) printed bold at the end of the table, e.g.
    ``("合计", "", 1234)``.
    ``group_by``: a column index, a mapping key, or ``callable(row) -> label``; rows must arrive
    sorted by it. A group header row is printed when the label changes. ``subtotals``: ``True``
    prints "小计：N 条" after each group; a sequence of column indexes also sums those columns.
    ``mask_ids``: apply the columns' ``mask`` rules (ID numbers, phone numbers). Turn it off only
    where the ledger's purpose requires full numbers and the user has the permission.
    """

    title: str
    unit_name: str
    period: str
    columns: Sequence[Column]
    rows: Iterable[Any] = ()
    orientation: str = "portrait"
    totals: Sequence[Any] | Mapping[str, Any] | None = None
    notes: Sequence[str] = ()
    signature: Sequence[str] = SIGNATURE_DEFAULT
    group_by: int | str | Callable[[Any], Any] | None = None
    subtotals: bool | Sequence[int] = False
    mask_ids: bool = True
    empty_text: str = "无数据"
    font_size: float = 9.0
    seal_space: bool = True

    def __post_init__(self):
        if self.orientation not in ("portrait", "landscape"):
            raise ValueError(f"纸张方向“{self.orientation}”无效，应为 portrait（纵向）或 landscape（横向）")
        if not self.columns:
            raise ValueError("台账至少需要一列")
        self.columns = tuple(self.columns)
        self.notes = tuple(self.notes or ())
        self.signature = tuple(self.signature or ())


@dataclass(frozen=True)
class ItemsTable:
    """A small table inside a document (e.g. the service records behind a certificate)."""

    columns: Sequence[Column]
    rows: Sequence[Any] = ()
    title: str = ""
    totals: Sequence[Any] | None = None


@dataclass
class DocumentSpec:
    """A one-record document such as a 志愿服务证明 or a 党员组织关系介绍信.

    ``fields``: (label, value) pairs printed as a two-column grid; ``body``: paragraphs (indented two
    characters, wrapped for CJK); ``items``: optional ``ItemsTable``; ``issuer``: lines printed on the
    right above the date, e.g. ("某某街道志愿服务中心",) with the seal area around them;
    ``signature``: labels of hand-signed lines (e.g. ("经办人",)); ``date``: text or a date.
    """

    title: str
    number: str = ""
    fields: Sequence[tuple[str, Any]] = ()
    body: Sequence[str] = ()
    items: ItemsTable | None = None
    issuer: Sequence[str] | str = ()
    signature: Sequence[str] = ()
    date: str | _dt.date | None = None
    unit_name: str = ""
    notes: Sequence[str] = ()
    seal: bool = True

    def __post_init__(self):
        if isinstance(self.issuer, str):
            self.issuer = (self.issuer,) if self.issuer else ()


# --------------------------------------------------------------------------- helpers

def format_value(value: Any) -> str:
    """Default cell formatting: None → "", dates as 2024-05-01, booleans 是/否, numbers plain."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    if isinstance(value, _decimal.Decimal):
        return format(value, "f")
    return str(value)


def date_text(value: Any) -> str:
    if isinstance(value, _dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return "" if value is None else str(value)


def make_extractor(columns: Sequence[Column], mask: bool) -> Callable[[Any], list[str]]:
    """Return ``row -> [cell text]`` applying key lookup, formatter and masking."""
    plans = []
    for i, col in enumerate(columns):
        plans.append((i, col.key or col.title, col.formatter or format_value,
                      col.mask if mask else None))
    fv = format_value

    def extract(row: Any) -> list[str]:
        out = []
        if isinstance(row, Mapping):
            get = row.get
            for _i, key, fmt, m in plans:
                v = get(key)
                s = fv(v) if fmt is fv else str(fmt(v))
                out.append(mask_value(m, s) if m and s else s)
        else:
            n = len(row)
            for i, _key, fmt, m in plans:
                v = row[i] if i < n else None
                if fmt is fv:
                    s = v if v.__class__ is str else fv(v)
                else:
                    s = str(fmt(v))
                out.append(mask_value(m, s) if m and s else s)
        return out

    return extract


def cell_text(column: Column, value: Any, mask: bool = True) -> str:
    return make_extractor((column,), mask)((value,))[0]


def group_key_fn(group_by) -> Callable[[Any], Any] | None:
    if group_by is None:
        return None
    if callable(group_by):
        return group_by
    key = group_by

    def get(row):
        if isinstance(row, Mapping):
            return row.get(key)
        return row[key]
    return get


def resolve_widths(columns: Sequence[Column], total: float, mm: float) -> list[float]:
    """Column widths in points filling ``total`` points. Numbers are millimetres, "2*" relative."""
    fixed = []
    rel = []
    for c in columns:
        w = c.width
        if w is None:
            fixed.append(None)
            rel.append(1.0)
        elif isinstance(w, str):
            s = w.strip()[:-1]
            fixed.append(None)
            rel.append(float(s) if s else 1.0)
        else:
            fixed.append(float(w) * mm)
            rel.append(0.0)
    fixed_sum = sum(f for f in fixed if f is not None)
    rel_sum = sum(rel)
    if rel_sum:
        left = total - fixed_sum
        if left < 8 * mm * sum(1 for r in rel if r):  # fixed columns too wide: shrink them
            scale = (total * 0.6) / fixed_sum if fixed_sum else 1
            fixed = [f * scale if f is not None else None for f in fixed]
            left = total - sum(f for f in fixed if f is not None)
        return [f if f is not None else left * r / rel_sum for f, r in zip(fixed, rel, strict=True)]
    scale = total / fixed_sum
    return [f * scale for f in fixed]
