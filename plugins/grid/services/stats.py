"""Event indicators: 结案率, 按期结案率, handling time, monthly counts, breakdowns."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter, subtree_filter
from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.errors import ValidationError

from ..models import Event, EventCategory
from .common import P_VIEW, _get, _local_date


@dataclass
class Indicators:
    due: int                  # 应结案数: registered in the period (不予立案 excluded)
    closed: int               # 结案数
    on_time: int              # 按期结案数
    mean_hours: float | None  # mean time from report to close, hours
    median_hours: float | None

    @property
    def closure_rate(self) -> float | None:
        return None if not self.due else self.closed / self.due

    @property
    def on_time_rate(self) -> float | None:
        return None if not self.due else self.on_time / self.due

    @staticmethod
    def percent(rate: float | None) -> str:
        return "—" if rate is None else f"{rate * 100:.2f}%"


def _indicator_rows(ctx: ServiceContext, start: date, end: date, area_id: int | None, category_id: int | None,
                    *extra):
    from shell.clock import LOCAL_TZ

    ctx.actor.require(P_VIEW)
    if end < start:
        raise ValidationError(f"截止日期 {end} 早于起始日期 {start}。", "end", end)
    area = _get(ctx, Area, area_id, "辖区") if area_id is not None else None
    lo = datetime.combine(start, datetime.min.time(), LOCAL_TZ)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), LOCAL_TZ)
    q = select(Event.status, Event.reported_at, Event.closed_at, Event.deadline, *extra).where(
        scope_filter(Event.area_id, ctx.actor), Event.registered_at >= lo, Event.registered_at < hi)
    if area is not None:
        q = q.where(subtree_filter(Event.area_id, area))
    if category_id is not None:
        q = q.where(Event.category_id == category_id)
    return ctx.session.execute(q)


def _summarise(rows) -> Indicators:
    due = closed = on_time = 0
    hours = []
    for status, reported_at, closed_at, deadline, *_ in rows:
        due += 1
        if status == "closed" and closed_at is not None:
            closed += 1
            if deadline is None or _local_date(closed_at) <= deadline:
                on_time += 1
            hours.append((closed_at - reported_at).total_seconds() / 3600)
    hours.sort()
    mean = sum(hours) / len(hours) if hours else None
    median = None
    if hours:
        m = len(hours) // 2
        median = hours[m] if len(hours) % 2 else (hours[m - 1] + hours[m]) / 2
    return Indicators(due, closed, on_time, mean, median)


def indicators(ctx: ServiceContext, start: date, end: date, area_id: int | None = None,
               category_id: int | None = None) -> Indicators:
    """结案率 = 结案数 / 应结案数; 按期结案率 = 按期结案数 / 应结案数; mean/median handling time.
    应结案数 counts the events registered (立案) between ``start`` and ``end`` (Shanghai dates,
    inclusive) in the area's subtree; an event closed on or before its deadline is on time."""
    return _summarise(_indicator_rows(ctx, start, end, area_id, category_id))


def monthly_counts(ctx: ServiceContext, year: int, area_id: int | None = None) -> list[tuple[int, int, int]]:
    """(month, 上报数, 结案数) for months 1–12 of ``year`` (Shanghai time) in the actor's scope: events
    reported in the month, and events closed in the month (whenever they were reported). One pass in
    the database: a sum per month and kind over the year's rows (reading the rows and converting each
    timestamp in Python took 0.3 s for a street's year)."""
    from shell.clock import LOCAL_TZ

    ctx.actor.require(P_VIEW)
    area = _get(ctx, Area, area_id, "辖区") if area_id is not None else None
    bounds = [datetime(year, m, 1, tzinfo=LOCAL_TZ) for m in range(1, 13)] + [datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ)]
    lo, hi = bounds[0], bounds[-1]

    def per_month(column):
        return [func.coalesce(func.sum(case((and_(column >= a, column < b), 1), else_=0)), 0)
                for a, b in zip(bounds, bounds[1:], strict=False)]

    q = select(*per_month(Event.reported_at), *per_month(Event.closed_at)).where(
        scope_filter(Event.area_id, ctx.actor),
        or_(and_(Event.reported_at >= lo, Event.reported_at < hi), and_(Event.closed_at >= lo, Event.closed_at < hi)))
    if area is not None:
        q = q.where(subtree_filter(Event.area_id, area))
    row = ctx.session.execute(q).one()
    return [(m, int(row[m - 1]), int(row[11 + m])) for m in range(1, 13)]


BREAKDOWNS = {"community": "社区", "grid": "网格", "category": "类别", "month": "月份"}


def indicator_table(ctx: ServiceContext, start: date, end: date, by: str = "community",
                    area_id: int | None = None) -> list[tuple[str, Indicators]]:
    """The same indicators per community, grid, category or month (of registration), sorted by label."""
    return indicator_breakdown(ctx, start, end, by, area_id)[0]


def indicator_breakdown(ctx: ServiceContext, start: date, end: date, by: str = "community",
                        area_id: int | None = None) -> tuple[list[tuple[str, Indicators]], Indicators]:
    """``indicator_table`` and the total line from one read of the period's events (事件统计)."""
    if by not in BREAKDOWNS:
        raise ValidationError(f"统计口径“{by}”无效，应为社区、网格、类别或月份。", "by", by)
    rows = list(_indicator_rows(ctx, start, end, area_id, None, Event.area_id, Event.category_id,
                                Event.registered_at))
    labels: dict[Any, str] = {}
    if by in ("community", "grid"):
        areas = {a.id: a for a in ctx.session.scalars(select(Area))}
        # each area's key and label once, not per event (a year is ~17,000 events on a large street)
        key_for: dict[int, int | None] = {}

        def area_key(area_id: int) -> int | None:
            a = areas.get(area_id)
            if a is None:
                return None
            if by == "community":
                ids = [int(x) for x in a.path.strip("/").split("/") if x]
                a = areas[ids[1]] if len(ids) > 1 else a
            parent = areas.get(a.parent_id) if a.parent_id else None
            labels[a.id] = (f"{parent.name}{a.name}" if by == "grid" and parent is not None
                            and parent.level != "street" else a.name)
            return a.id

        def key_of(r):
            area_id = r[4]
            if area_id not in key_for:
                key_for[area_id] = area_key(area_id)
            return key_for[area_id]
    elif by == "category":
        cats = {c.id: c.name for c in ctx.session.scalars(select(EventCategory))}

        def key_of(r):
            labels[r[5]] = cats.get(r[5], str(r[5]))
            return r[5]
    else:
        def key_of(r):
            d = _local_date(r[6])
            k = f"{d.year}-{d.month:02d}"
            labels[k] = f"{d.year}年{d.month}月"
            return k
    groups: dict[Any, list] = {}
    for r in rows:
        groups.setdefault(key_of(r), []).append(r)
    out = [(labels.get(k, "（未知）"), _summarise(v)) for k, v in groups.items()]
    return sorted(out, key=lambda x: x[0]), _summarise(rows)


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
