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
    "Column", "LedgerSpec", "DocumentSpec", "DocPart", "ItemsTable", "SIGNATURE_DEFAULT",
    "format_value", "cell_text", "resolve_widths", "KINDS", "cn_date", "cn_period", "as_of", "period_label",
    "Tally", "count_label", "subtotal_columns",
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
    ``period``: a period ledger's 统计期间 (``cn_period(start, end)``, "2026年") — the header prints
    "统计期间：…"; a snapshot's ``as_of(day)`` ("截至2026年12月3日") is printed as it is.
    ``scope``: the area the rows cover ("和平里社区 第一网格"), printed under the title as "范围：…";
    builders take it with the unit from ``shell.core.reporting.heading(ctx, area)``.
    ``count_unit``: what a row is ("人", "户", "件", "单"): group subtotals print "小计：12 人", not
    "小计：12 条". ``group_unit``: what a group is ("支队伍", "个网格"), for the automatic total.
    ``sum_columns``: columns (indexes) summed for the subtotals (when ``subtotals`` is ``True``) and
    for an automatic total.
    ``totals`` may also be ``"auto"`` — the engine counts and sums while the rows stream by and prints
    "合计：3 支队伍，48 人" with the sums of ``sum_columns`` (a row spanning the table when nothing is
    summed) — or a callable returning the row, called after the last row (a builder that tallies its
    own streamed rows).
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
    scope: str = ""
    count_unit: str = "条"
    group_unit: str = ""
    sum_columns: Sequence[int] = ()

    def __post_init__(self):
        if self.orientation not in ("portrait", "landscape"):
            raise ValueError(f"纸张方向“{self.orientation}”无效，应为 portrait（纵向）或 landscape（横向）")
        if not self.columns:
            raise ValueError("台账至少需要一列")
        self.columns = tuple(self.columns)
        self.sum_columns = tuple(self.sum_columns or ())
        if isinstance(self.totals, str) and self.totals != "auto":
            raise ValueError(f"合计行“{self.totals}”无效：给出一行数据、\"auto\"（自动计数求和）或返回一行的函数")
        if any(not 0 <= i < len(self.columns) for i in self.sum_columns):
            raise ValueError(f"求和列 {self.sum_columns} 超出了 {len(self.columns)} 列的范围")
        self.notes = tuple(self.notes or ())
        self.signature = tuple(self.signature or ())


@dataclass(frozen=True)
class ItemsTable:
    """A small table inside a document (e.g. the service records behind a certificate)."""

    columns: Sequence[Column]
    rows: Sequence[Any] = ()
    title: str = ""
    totals: Sequence[Any] | None = None


@dataclass(frozen=True)
class DocPart:
    """One part of a multi-part form printed on one sheet and cut apart along 骑缝 lines, such as
    the 存根 / 介绍信 / 回执 of a 党员组织关系介绍信. ``salutation`` is printed flush left (the
    addressee), ``body`` paragraphs indented two characters, ``closing`` lines on the right (issuer,
    date) with room for the seal when ``seal``, ``footer`` lines small and flush left at the bottom."""

    title: str
    body: Sequence[str] = ()
    salutation: str = ""
    closing: Sequence[str] = ()
    footer: Sequence[str] = ()
    seal: bool = False
    weight: float = 1.0   # its share of the sheet's spare height


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
    # A multi-part form (``DocPart``s) instead of the fields/body layout: the parts one under the
    # other on one A4 sheet, ``number`` printed across each 骑缝 line between two parts.
    parts: Sequence[DocPart] = ()

    def __post_init__(self):
        self.parts = tuple(self.parts or ())
        if isinstance(self.issuer, str):
            self.issuer = (self.issuer,) if self.issuer else ()


# --------------------------------------------------------------------------- helpers

def subtotal_columns(spec: LedgerSpec) -> tuple[int, ...]:
    """The columns a group's subtotal sums: ``subtotals`` when it lists them, else ``sum_columns``."""
    if spec.subtotals in (False, True, None):
        return tuple(spec.sum_columns)
    return tuple(spec.subtotals)


def count_label(prefix: str, count: int, unit: str, groups: int = 0, group_unit: str = "") -> str:
    """小计：12 人 / 合计：3 支队伍，48 人."""
    head = f"{groups} {group_unit}，" if groups and group_unit else ""
    return f"{prefix}：{head}{count} {unit}"


class Tally:
    """What an automatic total needs, gathered while the rows stream by (both renderers use it)."""

    def __init__(self, spec: LedgerSpec):
        self.spec = spec
        self.cols = tuple(sorted(set(subtotal_columns(spec)) | set(spec.sum_columns)))
        self.keys = [(i, spec.columns[i].key or spec.columns[i].title) for i in self.cols]
        self.count = 0
        self.groups = 0
        self.sums = [0] * len(spec.columns)

    def add(self, row: Any) -> None:
        self.count += 1
        if self.keys:
            mapping = isinstance(row, Mapping)
            for i, key in self.keys:
                v = row.get(key) if mapping else (row[i] if i < len(row) else None)
                if isinstance(v, (int, float, _decimal.Decimal)) and not isinstance(v, bool):
                    self.sums[i] += v

    def totals(self) -> tuple[list | None, bool]:
        """(the totals row as cell values, whether it spans the table) — (None, False) for none."""
        spec = self.spec
        t = spec.totals
        if t is None:
            return None, False
        if callable(t):
            t = t()
            return (None, False) if t is None else (make_extractor(spec.columns, False)(t), False)
        if t != "auto":
            return make_extractor(spec.columns, False)(t), False
        label = count_label("合计", self.count, spec.count_unit, self.groups, spec.group_unit)
        cells = [""] * len(spec.columns)
        cells[0] = label
        if not spec.sum_columns:
            return cells, True
        split_label(cells, set(spec.sum_columns), spec.columns)
        for i in spec.sum_columns:
            cells[i] = sum_text(spec.columns[i], self.sums[i])
        return cells, False


NARROW_MM = 24  # a first column narrower than this (序号, 编码) cannot hold "合计：2 个仓库，48 批"


def split_label(cells: list, summed: set, columns: Sequence[Column] = ()) -> None:
    """"合计：12 项" as 合计 | 12 项 when the first column is narrow (a width in mm below
    ``NARROW_MM``: 序号, 编码 — the label would wrap in it) and the second is free."""
    first = columns[0].width if columns else None
    narrow = isinstance(first, (int, float)) and first < NARROW_MM
    if narrow and len(cells) > 1 and 0 not in summed and 1 not in summed and "：" in cells[0]:
        cells[0], cells[1] = cells[0].split("：", 1)


def sum_text(col: Column, v: Any) -> str:
    if col.formatter:
        return str(col.formatter(v))
    if col.kind in ("amount", "hours") and isinstance(v, (float, _decimal.Decimal)):
        return f"{v:.2f}"
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))
    return format_value(v)


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


def cn_date(value: Any) -> str:
    """The one Chinese date style of every ledger header and document: 2026年12月3日 (no leading
    zeros). A ``datetime`` prints its date; None prints ""; a text is returned unchanged."""
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return "" if value is None else str(value)


date_text = cn_date  # the older name, kept for the callers that use it


def cn_period(start: _dt.date | None, end: _dt.date | None) -> str:
    """A period with both ends included: 2026年12月1日至12月31日 (the year printed once when both
    ends share it), 2026年12月1日至2027年1月31日 across a year, one date when start == end; an open
    end prints 起 / 止 (2026年1月1日起)."""
    if start is None and end is None:
        return ""
    if end is None:
        return f"{cn_date(start)}起"
    if start is None:
        return f"{cn_date(end)}止"
    if isinstance(start, _dt.datetime):
        start = start.date()
    if isinstance(end, _dt.datetime):
        end = end.date()
    if start == end:
        return cn_date(start)
    tail = f"{end.month}月{end.day}日" if end.year == start.year else cn_date(end)
    return f"{cn_date(start)}至{tail}"


def as_of(day: _dt.date) -> str:
    """The period text of a snapshot ledger (花名册, 库存台账): 截至2026年12月3日. The header prints a
    period that starts with 截至 as it is, and any other as 统计期间：…"""
    return f"截至{cn_date(day)}"


def period_label(period: str) -> str:
    """The header's period text: a snapshot's 截至… as it is, a period as 统计期间：…, "" for none."""
    if not period:
        return ""
    return period if period.startswith("截至") else f"统计期间：{period}"


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
