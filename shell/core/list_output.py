"""What a list page exports and prints (issue 17 §2), without Qt: the rows of exactly the listing on
screen — the service's query with the page's filter, already limited to the actor's scope — streamed
in keyset order, to an Excel workbook or to a ledger PDF through the report engine.

    request = ListRequest("实有人口", listing, columns, "辖区：第一网格；搜索：张", count_unit="人")
    export_list(ctx, request, "实有人口.xlsx")   # needs core.data.export; audited
    print_list(ctx, request, "实有人口.pdf")     # the same rows as a ledger (numbers masked)

Personal numbers (a column's ``personal`` = "id" | "phone"): the workbook carries them in full only
for a holder of ``core.personal.full_view`` (``personal.reveal``; the export is then audited as
``export_full_ids``), masked for everyone else; a printed list always masks them (a printed list
circulates). The column's ``value(row)`` reads the live row, never a masked view."""
from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from shell.core import audit, personal
from shell.core.context import ServiceContext
from shell.core.listing import Listing
from shell.core.transfer import EXPORT_PERMISSION
from shell.errors import JiedaoError

KINDS = ("text", "int", "date", "number")
PERSONAL = (None, "id", "phone")
PAGE_ROWS = 1000          # rows per keyset page while streaming
PRINT_LANDSCAPE_FROM = 7  # columns from which a printed list goes landscape
_KEY = "_list_key"

ProgressFn = Callable[[int, int, str], object]   # (rows done, rows in all, text) → False to stop
CancelFn = Callable[[], bool]


@dataclass(frozen=True)
class ListColumn:
    """One column of a list: ``value(row)`` is what it holds (a date, a number, text; None = empty).
    ``kind`` is what Excel stores (text, whole number, number, date); ``personal`` marks an ID or
    phone number, masked on screen and in print, in full in an export only for a holder of
    ``core.personal.full_view``. ``width`` is the on-screen width in pixels (the user's own width,
    once dragged, is remembered instead). ``format(value)`` is the text the screen and the printed
    list show (12.5 hours as "12.5", not "12.50"); Excel gets the value itself."""

    title: str
    value: Callable[[Any], Any]
    kind: str = "text"
    personal: str | None = None
    width: int | None = None
    format: Callable[[Any], str] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"列“{self.title}”的类型“{self.kind}”无效，应为 {' / '.join(KINDS)}")
        if self.personal not in PERSONAL:
            raise ValueError(f"列“{self.title}”的个人信息类型“{self.personal}”无效，应为 id / phone / None")
        if self.personal and self.kind != "text":
            raise ValueError(f"列“{self.title}”是身份证号或电话号码，只能是文本列")

    def shown(self, row: Any) -> Any:
        """The value as a list shows it: personal numbers masked."""
        value = self.value(row)
        if self.personal:
            return personal.mask(value, self.personal)
        return self.format(value) if self.format is not None and value is not None else value


@dataclass(frozen=True)
class ListRequest:
    """A list as the user sees it: its title, the service's listing (query, key, order) with the
    page's filter applied, the columns, and the filter in words for the printed header and the audit
    entry ("" = 全部). ``entity`` names the list in the audit log; ``count_unit`` is what a row is."""

    title: str
    listing: Listing
    columns: Sequence[ListColumn]
    filters_text: str = ""
    entity: str = "list"
    count_unit: str = "条"


def _page_query(listing: Listing, last: Any, size: int):
    key = listing.key
    q = listing.query.add_columns(key.label(_KEY)).order_by(None)
    if last is not None:
        q = q.where(key < last if listing.descending else key > last)
    return q.order_by(key.desc() if listing.descending else key.asc()).limit(size)


def iter_records(session, listing: Listing, limit: int | None = None,
                 page_size: int = PAGE_ROWS) -> Iterator[Any]:
    """Every row of ``listing`` (live, unmasked) in its keyset order, a page at a time — the same
    order and the same rows the lazy table pages through."""
    last, sent = None, 0
    while limit is None or sent < limit:
        size = page_size if limit is None else min(page_size, limit - sent)
        rows = session.execute(_page_query(listing, last, size)).all()
        for r in rows:
            item = r[0] if len(r) == 2 else tuple(r[:-1])
            yield listing.row(item) if listing.row is not None else item
        sent += len(rows)
        if len(rows) < size:
            return
        last = rows[-1][-1]


def iter_rows(session, listing: Listing, columns: Sequence[ListColumn],
              limit: int | None = None) -> Iterator[tuple]:
    """The raw cell values (``column.value(row)``, unmasked) of every row of ``listing``."""
    for record in iter_records(session, listing, limit):
        yield tuple(c.value(record) for c in columns)


def count_rows(session, listing: Listing) -> int:
    return int(session.scalar(select(func.count()).select_from(listing.query.order_by(None).subquery())) or 0)


# --- Excel -------------------------------------------------------------------------------------
def _excel_value(value: Any, kind: str) -> Any:
    """A number as a number, a date as a date; anything that is not one stays text."""
    if value is None or value == "":
        return None
    if kind == "int" and not isinstance(value, bool):
        try:
            return int(value)
        except (TypeError, ValueError):
            return str(value)
    if kind == "number" and not isinstance(value, bool):
        if isinstance(value, (int, float, Decimal)):
            return value
        try:
            return float(str(value))
        except ValueError:
            return str(value)
    if kind == "date":
        if isinstance(value, _dt.datetime):
            return value.replace(tzinfo=None)
        if isinstance(value, _dt.date):
            return value
        return str(value)
    return value if isinstance(value, str) else str(value)


def _char_width(text: str) -> float:
    return sum(2.0 if ord(ch) > 0x2E80 else 1.0 for ch in text)


def export_list(ctx: ServiceContext, request: ListRequest, path: str | os.PathLike,
                progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> int:
    """Write the list to an Excel workbook at ``path`` (sheet 1: a header row and the rows; sheet 2
    "说明": what was exported, by whom, with which filter) and audit it; returns the row count.
    Needs ``core.data.export``. The caller's service context commits the audit entry. ``cancel()``
    returning True (or ``progress`` returning False) raises ``reports.Cancelled`` and leaves no file."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    from reports import Cancelled
    from shell.db.engine import writing_file

    ctx.actor.require(EXPORT_PERMISSION)
    path = Path(path)
    session = ctx.session
    columns = list(request.columns)
    total = count_rows(session, request.listing)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(request.title))
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="E6E6E6")
    widths = [_char_width(c.title) for c in columns]
    ws.freeze_panes = "A2"
    # Widths must be set before the first row of a write-only sheet: from the titles and a look at
    # the first rows (the kind decides the rest).
    for i, c in enumerate(columns):
        guess = {"date": 12, "int": 8, "number": 10}.get(c.kind, 14 if not c.personal else 21)
        widths[i] = max(widths[i] + 2, guess)
        ws.column_dimensions[_letter(i + 1)].width = widths[i]
    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=c.title)
        cell.font, cell.fill = head_font, head_fill
        cell.alignment = Alignment(horizontal="center")
        header.append(cell)
    ws.append(header)
    personal.took_full(session)   # count only what this export reveals
    count = 0
    tmp = path.with_name(path.name + ".part")
    try:
        for record in iter_records(session, request.listing):
            cells = []
            for c in columns:
                value = c.value(record)
                if c.personal:
                    value = personal.reveal(ctx, value, c.personal)
                value = _excel_value(value, c.kind)
                if c.kind == "date" and isinstance(value, _dt.date):
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, _dt.datetime) else "yyyy-mm-dd"
                    cells.append(cell)
                else:
                    cells.append(value)
            ws.append(cells)
            count += 1
            if count % 500 == 0:
                stop = cancel is not None and cancel()
                if progress is not None and progress(count, total, f"正在导出：{count} / {total} 行") is False:
                    stop = True
                if stop:
                    raise Cancelled()
        full = personal.took_full(session)
        notes = wb.create_sheet(title="说明")
        who = ctx.actor.display_name or ctx.actor.username
        for label, value in (("名称", request.title), ("筛选条件", request.filters_text or "全部"),
                             ("行数", count), ("导出人", who),
                             ("导出时间", ctx.now().astimezone(_local_tz()).strftime("%Y-%m-%d %H:%M")),
                             ("身份证号、电话", "完整号码（按权限导出）" if full else "已脱敏")):
            notes.append([label, value])
        try:
            with writing_file(path):
                wb.save(tmp)
                os.replace(tmp, path)
        except OSError as exc:  # a full disk is DiskFull already; this is a folder or a locked file
            raise JiedaoError(f"无法保存到“{path}”：{exc.strerror or exc}。请检查这个文件是否正被其他程序"
                              "（如 Excel）打开、文件夹是否存在并可写入，或换一个文件夹再导出。") from exc
    except BaseException:
        _close(wb)
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise
    if progress is not None:
        progress(count, total, f"已导出 {count} 行")
    audit.record(session, "export_full_ids" if full else "export", request.entity, None,
                 f"导出列表“{request.title}”{count} 行到 {path.name}；筛选：{request.filters_text or '全部'}"
                 + ("；含完整身份证号或电话号码" if full else ""),
                 after={"list": request.title, "filter": request.filters_text, "rows": count})
    return count


def _close(wb) -> None:
    for ws in wb.worksheets:  # the write-only sheets' temporary files
        try:
            ws.close()
            ws._writer.cleanup()
        except Exception:  # noqa: BLE001 - best effort; the original error is re-raised
            pass


def _local_tz():
    from shell.clock import LOCAL_TZ

    return LOCAL_TZ


def _letter(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def _sheet_title(title: str) -> str:
    bad = set('[]:*?/\\')
    clean = "".join("_" if ch in bad else ch for ch in title).strip() or "列表"
    return clean[:31]


# --- print ----------------------------------------------------------------------------------------
def print_list(ctx: ServiceContext, request: ListRequest, path: str | os.PathLike,
               progress: ProgressFn | None = None, cancel: CancelFn | None = None,
               font_path: str | os.PathLike | None = None):
    """The list as a ledger PDF at ``path`` through the report engine: the unit and scope in the
    header, the filter line, the columns (landscape from ``PRINT_LANDSCAPE_FROM`` columns), a count at
    the end; ID and phone numbers masked. Needs ``core.data.export``; audited as a print. Returns the
    engine's ``RenderResult`` (pages, rows)."""
    from reports import Column, LedgerSpec, render_pdf
    from reports.spec import as_of
    from shell.core.heading import heading

    ctx.actor.require(EXPORT_PERMISSION)
    columns = list(request.columns)
    head = heading(ctx)
    scope = head.scope
    filters = f"筛选：{request.filters_text}" if request.filters_text else "筛选：全部"
    scope = f"{scope}　{filters}" if scope else filters
    printed = [Column(c.title, align="right" if c.kind in ("int", "number") else
                      ("center" if c.kind == "date" else "left"),
                      mask=c.personal, kind="text" if c.personal else c.kind,
                      formatter=None if c.format is None else (lambda v, f=c.format: "" if v is None else f(v)))
               for c in columns]
    total = count_rows(ctx.session, request.listing)

    def pdf_progress(done, _total=None, text=""):
        if progress is not None:
            progress(done or 0, _total or total, text)

    spec = LedgerSpec(title=request.title, unit_name=head.unit, period=as_of(ctx.today()), columns=printed,
                      rows=iter_rows(ctx.session, request.listing, columns),
                      orientation="landscape" if len(columns) >= PRINT_LANDSCAPE_FROM else "portrait",
                      totals="auto", count_unit=request.count_unit, signature=(), seal_space=False,
                      scope=scope, mask_ids=True)
    result = render_pdf(spec, path, progress=pdf_progress, cancel=cancel, font_path=font_path)
    audit.record(ctx.session, "print", request.entity, None,
                 f"打印列表“{request.title}”{result.rows} 行（{result.pages} 页）；筛选：{request.filters_text or '全部'}",
                 after={"list": request.title, "filter": request.filters_text, "rows": result.rows})
    return result
