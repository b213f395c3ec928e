"""出租房屋租客报备: move-in and report times of tenants, late reports."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Boolean, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from shell.clock import LOCAL_TZ, format_local, local_today
from shell.core import personal as _personal
from shell.core import settings
from shell.core.areas import scope_filter, subtree_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import Area
from shell.errors import NotFound, ValidationError

from ..models import House, Occupancy, Person
from ..rules import RENTAL_REPORT_HOURS
from .common import P_PERSON, P_VIEW, Listing, _code, _get, _text

# --- tenants: 出租房屋租客报备 -----------------------------------------------------------------
# A landlord reports each new tenant to the grid within grid.rental_report_hours of the move-in.
# Late = reported more than that many hours after moving in, or not reported and moved in longer ago.
TENANT_FILTERS = {"all": "全部租客", "late": "逾期报备", "unreported": "尚未报备"}


def _when(value: Any, field_name: str, label: str) -> datetime:
    """An aware UTC datetime; a naive one (an Excel cell, a script) is Beijing wall-clock time."""
    if not isinstance(value, datetime):
        raise ValidationError(f"{label}“{value}”不是日期时间，应写成 2026-12-03 14:30 这样。", field_name, value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)


def _day_start(day: date) -> datetime:
    """00:00 Beijing time of ``day``: the earliest a move-in known only by its date can have been."""
    return datetime.combine(day, time(0, 0), LOCAL_TZ).astimezone(UTC)


def _check_report_time(ctx: ServiceContext, moved_in_at: datetime, reported_at: datetime) -> None:
    now = ctx.now()
    if reported_at > now:
        raise ValidationError(f"报备时间 {format_local(reported_at)} 晚于现在（{format_local(now)}）：不能登记将来的报备，"
                              "请核对报备时间。", "reported_at", reported_at)
    if reported_at < moved_in_at:
        raise ValidationError(f"报备时间 {format_local(reported_at)} 早于入住时间 {format_local(moved_in_at)}："
                              "请核对两个时间。", "reported_at", reported_at)


def _tenant_times(ctx: ServiceContext, start: date | None, moved_in_at: Any, reported_at: Any, is_tenant: bool,
                  reported: bool) -> tuple[date, datetime, datetime | None]:
    """(start_date, moved_in_at, reported_at) of a new occupancy. Only a date given → its 00:00;
    nothing given → now. Only tenants are reported; a tenant's report defaults to now."""
    if moved_in_at is not None:
        moved_in_at = _when(moved_in_at, "moved_in_at", "入住时间")
        day = local_today(moved_in_at)
        if start is not None and start != day:
            raise ValidationError(f"入住日期 {start} 与入住时间 {format_local(moved_in_at)} 不是同一天，请核对。",
                                  "start_date", start)
        start = day
    elif start is None:
        start, moved_in_at = ctx.today(), ctx.now()
    else:
        moved_in_at = _day_start(start)
    if not is_tenant or not reported:
        if reported_at is not None:
            reason = "不是租客，无需报备" if not is_tenant else "已选择“尚未报备”"
            raise ValidationError(f"{reason}，不能填写报备时间 {format_local(_when(reported_at, 'reported_at', '报备时间'))}。",
                                  "reported_at", reported_at)
        return start, moved_in_at, None
    reported_at = ctx.now() if reported_at is None else _when(reported_at, "reported_at", "报备时间")
    _check_report_time(ctx, moved_in_at, reported_at)
    return start, moved_in_at, reported_at


def record_tenant_report(ctx: ServiceContext, occupancy_id: int, reported_at: datetime | None = None,
                         expected_version: int | None = None) -> Occupancy:
    """登记报备: the landlord reported this tenant at ``reported_at`` (default now); also corrects a
    report time entered wrongly. Not in the future, not before the move-in."""
    ctx.actor.require(P_PERSON)
    occ = _get(ctx, Occupancy, occupancy_id, "人房关联")
    check_version(ctx.session, occ, expected_version, "租客报备")
    if not occ.is_tenant:
        raise ValidationError("这条人房关联登记的不是租客，无需报备。", "occupancy_id", occupancy_id)
    when = ctx.now() if reported_at is None else _when(reported_at, "reported_at", "报备时间")
    _check_report_time(ctx, occ.moved_in_at, when)
    occ.reported_at = when
    flush_or_conflict(ctx.session, occ, "租客报备")
    return occ


class _ReportedAfter(ColumnElement):
    """``reported - moved > hours`` (whole seconds), on both engines: SQLite has no interval type."""

    type = Boolean()
    inherit_cache = False         # the hours are written into the statement
    _is_implicitly_boolean = True

    def __init__(self, reported, moved, hours: int):
        self.reported, self.moved, self.hours = reported, moved, int(hours)


@compiles(_ReportedAfter)
def _reported_after_default(element, compiler, **kw):
    return (f"({compiler.process(element.reported, **kw)} - {compiler.process(element.moved, **kw)}) "
            f"> INTERVAL '{element.hours} hours'")


@compiles(_ReportedAfter, "sqlite")
def _reported_after_sqlite(element, compiler, **kw):
    # UTCDateTime keeps naive UTC text on SQLite; strftime('%s') reads it as UTC seconds
    return (f"(CAST(strftime('%s', {compiler.process(element.reported, **kw)}) AS INTEGER) - "
            f"CAST(strftime('%s', {compiler.process(element.moved, **kw)}) AS INTEGER)) > {element.hours * 3600}")


def report_hours_limit(session) -> int:
    """The norm grid.rental_report_hours (for captions; the queries below read it themselves)."""
    return int(settings.get(session, RENTAL_REPORT_HOURS))


def _late_clause(hours: int, now: datetime):
    return or_(_ReportedAfter(Occupancy.reported_at, Occupancy.moved_in_at, hours),
               and_(Occupancy.reported_at.is_(None), Occupancy.moved_in_at < now - timedelta(hours=hours)))


def tenant_conditions(ctx: ServiceContext, area_id: int | None = None, include_ended: bool = False) -> list:
    """WHERE clauses for the tenants (Occupancy rows) the actor may see: current ones (moved in by
    today, not moved out before today) unless ``include_ended``; in ``area_id``'s subtree if given.
    The tenant list, the count and the rentals ledger share them, so their figures agree."""
    ctx.actor.require(P_VIEW)
    today = ctx.today()
    where = [Occupancy.is_tenant.is_(True), scope_filter(Occupancy.area_id, ctx.actor)]
    if area_id is not None:
        area = ctx.session.get(Area, area_id)
        if area is None:
            raise NotFound(f"辖区 {area_id} 不存在。")
        ctx.actor.require_scope(area)
        where.append(subtree_filter(Occupancy.area_id, area))
    if not include_ended:
        where += [Occupancy.start_date <= today, or_(Occupancy.end_date.is_(None), Occupancy.end_date >= today)]
    return where


def late_flag(ctx: ServiceContext):
    """The column "late" (1 reported late or not reported past the limit, else 0) of an Occupancy row,
    judged by the current norm and clock."""
    ctx.actor.require(P_VIEW)
    return case((_late_clause(report_hours_limit(ctx.session), ctx.now()), 1), else_=0).label("late")


@dataclass(frozen=True)
class TenantRow:
    """One tenant of a rental house with the report times and whether the report was late."""
    occupancy_id: int
    area_id: int
    house_id: int
    house_code: str
    address: str
    person_id: int
    person_name: str
    moved_in_at: datetime
    reported_at: datetime | None
    end_date: date | None
    version_id: int
    late: bool

    def delay(self, now: datetime) -> timedelta:
        """Moving in → report (→ now while not reported)."""
        return (self.reported_at or now) - self.moved_in_at

    def late_text(self, hours: int, now: datetime) -> str:
        """是否逾期 as the tenant list and the ledger show it."""
        spent = _duration(self.delay(now))
        if self.reported_at is None:
            if self.late:
                return f"是（入住 {spent}未报备）"
            left = timedelta(hours=hours) - self.delay(now)
            return f"否（尚未报备，剩 {_duration(left)}）"
        return f"是（入住 {spent}后报备）" if self.late else "否"


def _duration(d: timedelta) -> str:
    """Whole hours up to five days (the limits are counted in hours), then days."""
    hours = max(0, int(d.total_seconds() // 3600))
    return f"{hours} 小时" if hours < 120 else f"{hours // 24} 天"


def tenant_row(values) -> TenantRow:
    """A row of tenants_query (a tuple from the lazy list) as a TenantRow."""
    return TenantRow(*values[:11], bool(values[11]))  # type: ignore[call-arg]  # a row of 12 columns


def tenants_query(ctx: ServiceContext, text: str = "", area_id: int | None = None, status: str = "all",
                  include_ended: bool = False):
    """Tenants of rental houses in scope (current ones unless ``include_ended``), newest first by key
    Occupancy.id, each with its late flag; ``status`` "late" or "unreported" narrows it (TENANT_FILTERS).
    Text: the person's name, the 房屋编号 or a piece of the address."""
    ctx.actor.require(P_VIEW)
    if status not in TENANT_FILTERS:
        raise ValidationError(f"筛选条件“{status}”无效，应为全部租客、逾期报备或尚未报备。", "status", status)
    late = _late_clause(report_hours_limit(ctx.session), ctx.now())
    q = (select(Occupancy.id, Occupancy.area_id, Occupancy.house_id, House.code, House.address, Occupancy.person_id,
                Person.name, Occupancy.moved_in_at, Occupancy.reported_at, Occupancy.end_date, Occupancy.version_id,
                case((late, 1), else_=0).label("late"))
         .join(House, House.id == Occupancy.house_id).join(Person, Person.id == Occupancy.person_id)
         .where(*tenant_conditions(ctx, area_id, include_ended)))
    if status == "late":
        q = q.where(late)
    elif status == "unreported":
        q = q.where(Occupancy.reported_at.is_(None))
    t = _text(text)
    if t:
        q = q.where(or_(Person.name.startswith(t, autoescape=True), House.code.startswith(_code(t), autoescape=True),
                        House.address.contains(t, autoescape=True)))
    return q.order_by(Occupancy.id.desc())


def tenants_listing(ctx: ServiceContext, text: str = "", area_id: int | None = None, status: str = "all",
                    include_ended: bool = False) -> Listing:
    """The tenant list: ``tenants_query`` newest first, each row read as a TenantRow."""
    return Listing(tenants_query(ctx, text, area_id, status, include_ended), Occupancy.id, descending=True,
                   row=tenant_row)


def report_hours(ctx: ServiceContext) -> int:
    """The norm grid.rental_report_hours, for a page's caption and its 是否逾期 column."""
    ctx.actor.require(P_VIEW)
    return report_hours_limit(ctx.session)


def late_reports(ctx: ServiceContext, area_id: int | None = None, limit: int = 500) -> list[TenantRow]:
    """Current tenants reported late or not reported past the limit, newest move-in first."""
    q = tenants_query(ctx, area_id=area_id, status="late").order_by(None)
    q = q.order_by(Occupancy.moved_in_at.desc(), Occupancy.id.desc()).limit(max(1, min(int(limit), 5000)))
    return [tenant_row(r) for r in ctx.session.execute(q)]


@dataclass(frozen=True)
class LateReportCount:
    late: int            # reported late or not reported past the limit
    unreported: int      # of which not reported at all
    hours: int           # the limit they were judged by


def count_late_reports(ctx: ServiceContext, area_id: int | None = None) -> LateReportCount:
    """How many current tenants in scope were reported late (the dashboard and the tenant list)."""
    ctx.actor.require(P_VIEW)
    hours = report_hours_limit(ctx.session)
    late = _late_clause(hours, ctx.now())
    q = select(func.count(), func.coalesce(func.sum(case((Occupancy.reported_at.is_(None), 1), else_=0)), 0)).where(
        *tenant_conditions(ctx, area_id), late)
    n, unreported = ctx.session.execute(q).one()
    return LateReportCount(int(n), int(unreported), hours)


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
