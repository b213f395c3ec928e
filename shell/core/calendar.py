"""The holiday calendar (节假日安排): which days are working days, read from ``core_holidays``.

The table holds only the days that differ from the Monday–Friday rule: ``off`` (休) a holiday on a
weekday, ``work`` (班) a 调休 working weekend day (a 休 on a weekend may be entered for its name).
The core migration seeds it from the ``chinese-calendar`` package for the years the package knows;
later years are entered in 设置 → 节假日安排, imported from an Excel sheet or with
``jiedao calendar import``. Every working-day computation of the program reads this table; a year
with no row is computed by the weekend rule, and the result carries a warning saying so.

Reading is cached: once per session transaction a tiny fingerprint query (count, newest id and
change time) picks the engine-wide snapshot for that state, so another desktop's change is seen at
its next transaction and this process's own writes drop the session's copy at once."""
from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, extract, func, select
from sqlalchemy.orm import Session

from shell.contracts import RowError
from shell.core.context import ServiceContext
from shell.core.models import HOLIDAY_KINDS, Holiday
from shell.errors import NotFound, ValidationError

P_MANAGE = "core.settings.manage"
COLUMNS = ("日期", "休/班", "名称")
KIND_BY_LABEL = {"休": "off", "班": "work"}
SOURCE_PACKAGE, SOURCE_IMPORT, SOURCE_MANUAL = "chinese-calendar", "导入", "手工"
WEEKDAYS = "一二三四五六日"
MAX_NAME = 50
WARN_FROM_MONTH = 11          # from 1 November the next year's schedule is due (the State Council publishes it then)


def missing_warning(years: Iterable[int]) -> str:
    """The one sentence shown wherever a date was computed into a year with no calendar."""
    years = sorted(set(years))
    if not years:
        return ""
    return f"{'、'.join(str(y) for y in years)} 年节假日安排尚未录入，期限按周末计算，请管理员录入"


@dataclass(frozen=True)
class Deadline:
    day: date
    warning: str = ""                          # missing_warning(unknown_years), "" when every year is known
    unknown_years: tuple[int, ...] = ()


@dataclass(frozen=True)
class HolidayDay:
    day: date
    kind: str                                  # "off" | "work"
    name: str
    source: str
    recounted: tuple[str, ...] = ()            # set_day: what the plugins counted again (calendar_changed)

    @property
    def label(self) -> str:
        return HOLIDAY_KINDS[self.kind]


@dataclass(frozen=True)
class Snapshot:
    """The calendar as one transaction sees it."""

    kinds: dict[date, str]
    years: frozenset[int]

    def known(self, year: int) -> bool:
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        kind = self.kinds.get(day)
        if kind is not None:
            return kind == "work"
        return day.weekday() < 5


# --- cache ---------------------------------------------------------------------------------------
SESSION_KEY = "core.calendar.snapshot"
_lock = threading.Lock()
_by_engine: weakref.WeakKeyDictionary[Any, dict[tuple, Snapshot]] = weakref.WeakKeyDictionary()


def _drop_session_copy(session: Session, *_args: Any) -> None:
    session.info.pop(SESSION_KEY, None)


# A session's copy lives for one transaction: the next one asks the database again.
for _event in ("after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _event, _drop_session_copy)


def invalidate(session: Session | None = None) -> None:
    """Forget the cached calendar (this session's copy and, for its engine, every snapshot)."""
    if session is None:
        with _lock:
            _by_engine.clear()
        return
    _drop_session_copy(session)
    bind = session.get_bind()
    with _lock:
        _by_engine.pop(bind, None)


def snapshot(session: Session) -> Snapshot:
    snap = session.info.get(SESSION_KEY)
    if snap is not None:
        return snap
    with session.no_autoflush:    # reading the calendar must not flush a caller's half-made change
        return _load(session)


def _load(session: Session) -> Snapshot:
    fingerprint = tuple(session.execute(select(func.count(Holiday.id), func.max(Holiday.id),
                                               func.max(Holiday.updated_at), func.sum(Holiday.version_id))).one())
    bind = session.get_bind()
    with _lock:
        snap = _by_engine.get(bind, {}).get(fingerprint)
    if snap is None:
        kinds = {day: kind for day, kind in session.execute(select(Holiday.day, Holiday.kind))}
        snap = Snapshot(kinds, frozenset(d.year for d in kinds))
        with _lock:
            per = _by_engine.setdefault(bind, {})
            if len(per) >= 8:    # states a rollback may return to; a handful is plenty
                per.clear()
            per[fingerprint] = snap
    session.info[SESSION_KEY] = snap
    return snap


# --- reading -------------------------------------------------------------------------------------
def is_working_day(session: Session, day: date) -> bool:
    return snapshot(session).is_working_day(day)


def years_known(session: Session) -> list[int]:
    return sorted(snapshot(session).years)


def add_working_days(session: Session, start: date, days: int) -> Deadline:
    """The ``days``-th working day after ``start`` (the start day itself does not count), by the
    holiday calendar; a year without calendar counts Monday–Friday and is named in the warning."""
    if days < 0:
        raise ValidationError(f"工作日天数“{days}”不能为负。", "days", days)
    snap = snapshot(session)
    day, left, unknown = start, days, set()
    while left > 0:
        day += timedelta(days=1)
        if not snap.known(day.year):
            unknown.add(day.year)
        if snap.is_working_day(day):
            left -= 1
    return Deadline(day, missing_warning(unknown), tuple(sorted(unknown)))


def working_days_between(session: Session, start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``."""
    snap = snapshot(session)
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        n += snap.is_working_day(day)
    return n


def span_warning(session: Session, start: date, end: date) -> str:
    """The warning for a deadline ``end`` counted from ``start``: the years after ``start`` up to
    ``end`` that have no calendar (so a deadline shown later still says how it was counted)."""
    snap = snapshot(session)
    first = (start + timedelta(days=1)).year
    return missing_warning(y for y in range(first, end.year + 1) if not snap.known(y))


def upcoming_warning(session: Session, today: date) -> str:
    """For administrators' 首页: this year without calendar, and from 1 November the next one too."""
    snap = snapshot(session)
    years = [today.year] + ([today.year + 1] if today.month >= WARN_FROM_MONTH else [])
    return missing_warning(y for y in years if not snap.known(y))


def entered_at(session: Session, year: int) -> datetime | None:
    """When ``year`` was first entered by hand or import (the package's seed does not count): a
    deadline counted before then was counted by the weekend rule."""
    return session.scalar(select(func.min(Holiday.created_at)).where(
        Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31), Holiday.source != SOURCE_PACKAGE))


def year_days(session: Session, year: int) -> list[HolidayDay]:
    rows = session.scalars(select(Holiday).where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31))
                           .order_by(Holiday.day))
    return [HolidayDay(h.day, h.kind, h.name, h.source) for h in rows]


def package_days(years: Iterable[int] | None = None) -> list[tuple[date, str, str]]:
    """(day, kind, Chinese name) from the chinese-calendar package, only the days that differ from
    Monday–Friday, for the years it knows (or those of ``years`` it knows)."""
    from chinese_calendar import constants

    names = {h.value: h.chinese for h in constants.Holiday}
    wanted = None if years is None else set(years)
    out = []
    for day, name in constants.holidays.items():
        if day.weekday() < 5 and (wanted is None or day.year in wanted):
            out.append((day, "off", names.get(name, name or "")))
    for day, name in constants.workdays.items():
        if day.weekday() >= 5 and (wanted is None or day.year in wanted):
            out.append((day, "work", names.get(name, name or "")))
    return sorted(out)


# --- writing (core.settings.manage; audited by the ORM listener) ---------------------------------
def _kind(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if text in KIND_BY_LABEL:
        return KIND_BY_LABEL[text]
    if text in HOLIDAY_KINDS:
        return text
    raise ValidationError(f"“{text}”不是有效的类型：应为“休”（放假）或“班”（调休上班）。", "kind", value)


def _check_day(day: date, kind: str) -> None:
    if kind == "work" and day.weekday() < 5:
        raise ValidationError(f"{day} 是星期{WEEKDAYS[day.weekday()]}，本来就是工作日；“班”只用于调休上班的周六、周日。",
                              "kind", "班")


def _name(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_NAME:
        raise ValidationError(f"名称“{text[:20]}…”太长：最多 {MAX_NAME} 个字。", "name", value)
    return text


def recount(ctx: ServiceContext, pm: Any, days: Iterable[date]) -> list[str]:
    """Let every plugin count again what it counted in working days over ``days`` (the
    ``calendar_changed`` hook), in this session; their sentences about what changed."""
    ctx.actor.require(P_MANAGE)
    days = sorted(set(days))
    if pm is None or not days:
        return []
    from shell.hooks import call_each

    return [line for _plugin, line in call_each(pm, "calendar_changed", ctx=ctx, days=days) if line]


def set_day(ctx: ServiceContext, day: date, kind: str, name: str = "", pm: Any = None) -> HolidayDay:
    """Mark ``day`` 休 or 班 (with the holiday's name), replacing what it was. With the plugin manager
    ``pm``, what was counted over the day is counted again (``HolidayDay.recounted`` says what)."""
    ctx.actor.require(P_MANAGE)
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError(f"日期“{day}”无效。", "day", day)
    kind = _kind(kind)
    _check_day(day, kind)
    name = _name(name)
    row = ctx.session.scalar(select(Holiday).where(Holiday.day == day))
    if row is None:
        row = Holiday(day=day, kind=kind, name=name, source=SOURCE_MANUAL, created_by=ctx.actor.user_id,
                      created_at=ctx.now())
        ctx.session.add(row)
        changed = True
    else:
        changed = row.kind != kind
        if (row.kind, row.name) != (kind, name):
            row.kind, row.name, row.source = kind, name, SOURCE_MANUAL
    ctx.session.flush()
    invalidate(ctx.session)
    return HolidayDay(row.day, row.kind, row.name, row.source, tuple(recount(ctx, pm, [day] if changed else [])))


def clear_day(ctx: ServiceContext, day: date, pm: Any = None) -> list[str]:
    """The day follows the Monday–Friday rule again; with ``pm``, what was counted over it is
    counted again (the plugins' sentences are returned)."""
    ctx.actor.require(P_MANAGE)
    row = ctx.session.scalar(select(Holiday).where(Holiday.day == day))
    if row is None:
        raise NotFound(f"{day} 没有录入节假日安排，无需清除。")
    ctx.session.delete(row)
    ctx.session.flush()
    invalidate(ctx.session)
    return recount(ctx, pm, [day])


@dataclass
class CalendarImport:
    years: list[int] = field(default_factory=list)
    total_rows: int = 0
    written: int = 0
    errors: list[RowError] = field(default_factory=list)
    recounted: list[str] = field(default_factory=list)   # what the plugins counted again (calendar_changed)

    @property
    def ok(self) -> bool:
        return not self.errors


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
    return date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")) if text.count("-") == 2 else text)


def read_sheet(path: Path | str) -> tuple[list[tuple[int, date, str, str]], list[RowError], int]:
    """(valid rows as (excel row, day, kind, name), row errors, rows read). A missing file or
    header raises ValidationError."""
    from openpyxl import load_workbook

    path = Path(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise ValidationError(f"文件不存在：{path}", "path", str(path)) from None
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file for the user
        raise ValidationError(f"无法读取文件“{path.name}”：请确认它是 Excel（.xlsx）文件，可用“下载模板”生成。（{exc}）",
                              "path", str(path)) from None
    try:
        data = list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()
    if not data:
        raise ValidationError(f"文件“{path.name}”是空的。", "path", str(path))
    header = [str(h).strip() if h is not None else "" for h in data[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValidationError(f"文件“{path.name}”缺少列：{'、'.join(missing)}。第一行应为：日期、休/班、名称（请用模板）。",
                              "path", str(path))
    index = {c: header.index(c) for c in COLUMNS}
    rows: list[tuple[int, date, str, str]] = []
    errors: list[RowError] = []
    seen: dict[date, int] = {}
    total = 0
    for n, raw in enumerate(data[1:], start=2):
        values = {c: (raw[i] if i < len(raw) else None) for c, i in index.items()}
        if all(v in (None, "") for v in values.values()):
            continue
        total += 1
        raw_day, raw_kind, raw_name = values["日期"], values["休/班"], values["名称"]
        bad = len(errors)
        day = None
        if raw_day in (None, ""):
            errors.append(RowError(n, "日期", raw_day, "日期不能为空，应写成 2027-01-01。"))
        else:
            try:
                day = _as_date(raw_day)
            except (ValueError, TypeError):
                errors.append(RowError(n, "日期", raw_day, "不是有效的日期，应写成 2027-01-01。"))
        kind = None
        try:
            kind = _kind(raw_kind)
        except ValidationError:
            errors.append(RowError(n, "休/班", raw_kind, "应填“休”（放假）或“班”（调休上班）。"))
        if day is not None and kind is not None:
            try:
                _check_day(day, kind)
            except ValidationError as exc:
                errors.append(RowError(n, "休/班", raw_kind, exc.message))
        try:
            name = _name(raw_name)
        except ValidationError as exc:
            errors.append(RowError(n, "名称", raw_name, exc.message))
            name = ""
        if day is not None and day in seen:
            errors.append(RowError(n, "日期", raw_day, f"与第 {seen[day]} 行重复。"))
        elif day is not None:
            seen[day] = n
        if len(errors) == bad:
            assert day is not None and kind is not None  # no error on this row: both were read
            rows.append((n, day, kind, name))
    if total == 0 and not errors:
        raise ValidationError(f"文件“{path.name}”没有数据行：从第 2 行起每行一天（日期、休/班、名称）。", "path", str(path))
    return rows, errors, total


def import_year(ctx: ServiceContext, path: Path | str, pm: Any = None) -> CalendarImport:
    """Import the year(s) in the sheet: each year present is replaced by the sheet's days as a whole.
    All-or-nothing: with any row error nothing is written and the errors are returned. With the
    plugin manager ``pm``, what was counted over the days that changed is counted again."""
    ctx.actor.require(P_MANAGE)
    rows, errors, total = read_sheet(path)
    result = CalendarImport(years=sorted({d.year for _n, d, _k, _name in rows}), total_rows=total, errors=errors)
    if errors:
        return result
    existing = {h.day: h for h in ctx.session.scalars(select(Holiday).where(extract("year", Holiday.day).in_(result.years)))}
    wanted = {day: (kind, name) for _n, day, kind, name in rows}
    changed = {day for day, h in existing.items() if day not in wanted or wanted[day][0] != h.kind}
    changed |= set(wanted) - set(existing)
    for day, held in existing.items():
        if day not in wanted:
            ctx.session.delete(held)
    for day, (kind, name) in sorted(wanted.items()):
        h = existing.get(day)
        if h is None:
            ctx.session.add(Holiday(day=day, kind=kind, name=name, source=SOURCE_IMPORT, created_by=ctx.actor.user_id,
                                    created_at=ctx.now()))
        elif (h.kind, h.name) != (kind, name):
            h.kind, h.name, h.source = kind, name, SOURCE_IMPORT
        result.written += 1
    ctx.session.flush()
    invalidate(ctx.session)
    from shell.core import audit

    audit.record(ctx.session, "import", "core_holidays", None,
                 f"导入节假日安排 {'、'.join(map(str, result.years))} 年，共 {result.written} 天（{Path(path).name}）")
    result.recounted = recount(ctx, pm, changed)
    return result


def write_template(path: Path | str, year: int, days: list[HolidayDay] | None = None) -> Path:
    """An Excel sheet with the three columns — filled with ``days`` when given (a year to edit and
    import again), else empty — and a 说明 sheet with examples."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = f"{year}年节假日安排"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for d in days or ():
        ws.append([d.day.isoformat(), d.label, d.name])
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 8
    ws.column_dimensions["C"].width = 24
    notes = wb.create_sheet("说明")
    for line in (
        ["按国务院办公厅当年发布的放假安排，每行填一天，只填与“周一至周五上班、周六周日休息”不同的日子："],
        ["日期：如 2027-01-01；休/班：“休”是放假的工作日，“班”是调休上班的周六或周日；名称：如 元旦、春节"],
        ["导入时文件里出现的年份整年替换为文件的内容；任何一行有错都不会导入，并列出行号、列和原因。"],
        ["例：", "", ""],
        [f"{year}-01-01", "休", "元旦"],
        [f"{year}-02-07", "班", "春节"],
    ):
        notes.append(line)
    notes.column_dimensions["A"].width = 16
    wb.save(path)
    return path
