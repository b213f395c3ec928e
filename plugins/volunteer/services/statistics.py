"""Dashboard statistics: hours and points by month, star distribution."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext

from ..models import (
    STAR_LABELS,
    STAR_THRESHOLDS_HOURS,
    HoursEntry,
    PointsEntry,
    Volunteer,
)
from ..rules import P_VIEW
from .common import ACCOUNTS, local_midnight

# ============================================================================ statistics (dashboard)

def last_months(today: date, months: int = 12) -> list[date]:
    """First days of the ``months`` months ending with ``today``'s month, oldest first."""
    out = []
    y, m = today.year, today.month
    for _ in range(months):
        out.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _month_key(ctx: ServiceContext, column):
    """A "YYYY-MM" expression of a DATE column, for grouping by month in SQL."""
    if ctx.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _in_scope(ctx: ServiceContext, q, volunteer_column):
    """Restrict to volunteers in the actor's scope; no join at all for a whole-street user."""
    if ctx.actor.is_superuser:
        return q
    return q.join(Volunteer, Volunteer.id == volunteer_column).where(scope_filter(Volunteer.area_id, ctx.actor))


def hours_by_month(ctx: ServiceContext, months: int = 12) -> list[tuple[date, int]]:
    """Net approved minutes per service month (approvals minus reversals) for the last ``months``
    months, volunteers in scope."""
    ctx.actor.require(P_VIEW)
    firsts = last_months(ctx.today(), months)
    key = _month_key(ctx, HoursEntry.service_date)
    q = _in_scope(ctx, select(key, func.sum(HoursEntry.minutes)).where(HoursEntry.service_date >= firsts[0]),
                  HoursEntry.volunteer_id).group_by(key)
    sums = {k: int(n or 0) for k, n in ctx.session.execute(q)}
    return [(f, sums.get(f"{f:%Y-%m}", 0)) for f in firsts]


def points_by_month(ctx: ServiceContext, months: int = 12) -> list[tuple[date, int, int]]:
    """(month, points earned, points redeemed net of cancelled redemptions) for the last ``months``
    months (local time), volunteers in scope. One range query per month on the covering index
    (at, kind, points): no per-row date arithmetic."""
    ctx.actor.require(P_VIEW)
    out = []
    for f in last_months(ctx.today(), months):
        q = _in_scope(ctx, select(PointsEntry.kind, func.sum(PointsEntry.points))
                      .where(PointsEntry.at >= local_midnight(f), PointsEntry.at < local_midnight(_next_month(f)),
                             PointsEntry.kind.in_(("earn", "redeem", "refund"))),
                      PointsEntry.volunteer_id).group_by(PointsEntry.kind)
        sums = {kind: int(n or 0) for kind, n in ctx.session.execute(q)}
        out.append((f, sums.get("earn", 0), -(sums.get("redeem", 0) + sums.get("refund", 0))))
    return out


def star_distribution(ctx: ServiceContext) -> list[tuple[str, int]]:
    """Active volunteers in scope per star level, 未评星 to 五星."""
    from sqlalchemy import case

    ctx.actor.require(P_VIEW)
    minutes = func.coalesce(ACCOUNTS.c.approved_minutes, 0)
    level = case(*[(minutes >= t * 60, 5 - i) for i, t in enumerate(reversed(STAR_THRESHOLDS_HOURS))], else_=0)
    q = (select(level, func.count()).select_from(Volunteer)
         .outerjoin(ACCOUNTS, ACCOUNTS.c.volunteer_id == Volunteer.id)
         .where(Volunteer.active.is_(True), scope_filter(Volunteer.area_id, ctx.actor)).group_by(level))
    counts = {int(k): int(n) for k, n in ctx.session.execute(q)}
    return [(STAR_LABELS[k] or "未评星", counts.get(k, 0)) for k in range(len(STAR_LABELS))]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
