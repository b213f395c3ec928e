"""The points and hours ledgers: postings (guarded balance updates), adjustments, expiry, history."""
from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import CursorResult, func, select, update

from shell.clock import LOCAL_TZ
from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.db.retry import guard_busy
from shell.errors import BusyError, ConflictError, ValidationError

from ..models import (
    HoursEntry,
    PointsEntry,
    Volunteer,
)
from ..rules import P_POINTS, Rules, load_rules
from .common import ACCOUNTS, _audit, _text, local_midnight
from .volunteers import _account, get_volunteer


def _post_hours(ctx: ServiceContext, volunteer_id: int, minutes: int, kind: str, service_date: date,
                attendance_id: int | None, reverses_id: int | None = None, reason: str = "") -> HoursEntry:
    s = ctx.session
    if minutes >= 0:
        s.execute(update(ACCOUNTS).where(ACCOUNTS.c.volunteer_id == volunteer_id)
                  .values(approved_minutes=ACCOUNTS.c.approved_minutes + minutes))
    else:
        res = s.execute(update(ACCOUNTS).where(ACCOUNTS.c.volunteer_id == volunteer_id,
                                               ACCOUNTS.c.approved_minutes >= -minutes)
                        .values(approved_minutes=ACCOUNTS.c.approved_minutes + minutes))
        if cast(CursorResult, res).rowcount != 1:
            raise ConflictError("服务时长余额与冲正数不符，冲正未完成，请刷新后重试。")
    after = s.execute(select(ACCOUNTS.c.approved_minutes).where(ACCOUNTS.c.volunteer_id == volunteer_id)).scalar_one()
    entry = HoursEntry(volunteer_id=volunteer_id, at=ctx.now(), service_date=service_date, kind=kind, minutes=minutes,
                       balance_after=after, attendance_id=attendance_id, reverses_id=reverses_id, reason=reason[:200],
                       created_by=ctx.actor.user_id)
    s.add(entry)
    s.flush()
    return entry


def _post_points(ctx: ServiceContext, volunteer_id: int, points: int, kind: str, reason: str = "", *,
                 attendance_id: int | None = None, order_id: int | None = None,
                 reverses_id: int | None = None) -> PointsEntry:
    """Change the stored balance with a guarded statement and append the entry with the balance after.
    A debit the balance cannot cover raises ValidationError; nothing is written then."""
    s = ctx.session
    if points >= 0:
        s.execute(update(ACCOUNTS).where(ACCOUNTS.c.volunteer_id == volunteer_id)
                  .values(points_balance=ACCOUNTS.c.points_balance + points))
    else:
        res = s.execute(update(ACCOUNTS).where(ACCOUNTS.c.volunteer_id == volunteer_id,
                                               ACCOUNTS.c.points_balance >= -points)
                        .values(points_balance=ACCOUNTS.c.points_balance + points))
        if cast(CursorResult, res).rowcount != 1:
            balance = s.execute(select(ACCOUNTS.c.points_balance)
                                .where(ACCOUNTS.c.volunteer_id == volunteer_id)).scalar()
            raise ValidationError(f"积分余额不足：当前 {balance or 0} 分，需要 {-points} 分。", "points", -points)
    after = s.execute(select(ACCOUNTS.c.points_balance).where(ACCOUNTS.c.volunteer_id == volunteer_id)).scalar_one()
    entry = PointsEntry(volunteer_id=volunteer_id, at=ctx.now(), kind=kind, points=points, balance_after=after,
                        attendance_id=attendance_id, order_id=order_id, reverses_id=reverses_id,
                        reason=(reason or "")[:200], created_by=ctx.actor.user_id)
    s.add(entry)
    s.flush()
    return entry


def _earn(ctx: ServiceContext, rules: Rules, volunteer_id: int, points: int, attendance_id: int,
          reason: str) -> PointsEntry | None:
    """Credit earned points, honouring the balance cap (the part above the cap is not credited)."""
    if points <= 0:
        return None
    if rules.balance_cap > 0:
        s = ctx.session
        for _ in range(20):
            balance = s.execute(select(ACCOUNTS.c.points_balance).where(ACCOUNTS.c.volunteer_id == volunteer_id)).scalar_one()
            credit = max(0, min(points, rules.balance_cap - balance))
            if credit == 0:
                return None
            res = s.execute(update(ACCOUNTS).where(ACCOUNTS.c.volunteer_id == volunteer_id,
                                                   ACCOUNTS.c.points_balance == balance)
                            .values(points_balance=balance + credit))
            if cast(CursorResult, res).rowcount == 1:
                note = reason if credit == points else (f"{reason}（积分已达上限 {rules.balance_cap}，本次计 {credit} 分，"
                                                        f"应计 {points} 分）")
                entry = PointsEntry(volunteer_id=volunteer_id, at=ctx.now(), kind="earn", points=credit,
                                    balance_after=balance + credit, attendance_id=attendance_id, reason=note[:200],
                                    created_by=ctx.actor.user_id)
                s.add(entry)
                s.flush()
                return entry
        raise BusyError("积分账户正被同时修改，请稍后重试。")
    return _post_points(ctx, volunteer_id, points, "earn", reason, attendance_id=attendance_id)


# ============================================================================ points

@guard_busy
def adjust_points(ctx: ServiceContext, volunteer_id: int, points: int, reason: str) -> PointsEntry:
    """A manual adjustment with a reason (positive or negative; never below zero)."""
    ctx.actor.require(P_POINTS)
    reason = _text(reason, "调整原因", "reason", max_len=200)
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise ValidationError("调整积分应为非零整数。", "points", points)
    v = get_volunteer(ctx, volunteer_id)
    entry = _post_points(ctx, volunteer_id, points, "adjust", reason)
    _audit(ctx, "points_adjust", "volunteer_volunteers", v.id, f"调整“{v.name}”积分 {points:+d}：{reason}",
           points=points, balance_after=entry.balance_after, entry_id=entry.id)
    return entry


def _months_before(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 - months, 12)
    year, month = d.year + y, m + 1
    import calendar

    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@guard_busy
def expire_points(ctx: ServiceContext, as_of: date | None = None) -> dict[int, int]:
    """Expire points older than the configured number of months, first earned first used: the part of
    credits dated before the cut-off not yet covered by debits expires. Returns {volunteer: points}."""
    ctx.actor.require(P_POINTS)
    rules = load_rules(ctx.session)
    if rules.expiry_months <= 0:
        return {}
    cutoff = local_midnight(_months_before(as_of or ctx.today(), rules.expiry_months))
    s = ctx.session
    old_credit = (select(PointsEntry.volunteer_id, func.sum(PointsEntry.points).label("n"))
                  .where(PointsEntry.points > 0, PointsEntry.at < cutoff).group_by(PointsEntry.volunteer_id).subquery())
    debit = (select(PointsEntry.volunteer_id, func.sum(-PointsEntry.points).label("n"))
             .where(PointsEntry.points < 0).group_by(PointsEntry.volunteer_id).subquery())
    rows = s.execute(select(old_credit.c.volunteer_id, old_credit.c.n, func.coalesce(debit.c.n, 0))
                     .join(Volunteer, Volunteer.id == old_credit.c.volunteer_id)
                     .outerjoin(debit, debit.c.volunteer_id == old_credit.c.volunteer_id)
                     .where(scope_filter(Volunteer.area_id, ctx.actor))).all()
    out = {}
    for vid, credit, spent in rows:
        due = int(credit) - int(spent)
        if due <= 0:
            continue
        balance = _account(ctx, vid)[0]
        due = min(due, balance)
        if due > 0:
            _post_points(ctx, vid, -due, "expire",
                         f"{rules.expiry_months} 个月有效期已过（{cutoff.astimezone(LOCAL_TZ).date()} 前获得）")
            out[vid] = due
    if out:
        _audit(ctx, "points_expire", "volunteer_points_ledger", None,
               f"积分过期：{len(out)} 名志愿者共 {sum(out.values())} 分（{cutoff.astimezone(LOCAL_TZ).date()} 前获得）",
               volunteers=len(out), points=sum(out.values()))
    return out


def hours_history(ctx: ServiceContext, volunteer_id: int, limit: int = 20) -> list[HoursEntry]:
    """The volunteer's latest ``limit`` hours-ledger entries, newest first."""
    get_volunteer(ctx, volunteer_id)
    return list(ctx.session.scalars(select(HoursEntry).where(HoursEntry.volunteer_id == volunteer_id)
                                    .order_by(HoursEntry.id.desc()).limit(limit)))


def points_history(ctx: ServiceContext, volunteer_id: int, start: datetime | None = None,
                   end: datetime | None = None) -> list[PointsEntry]:
    get_volunteer(ctx, volunteer_id)
    q = select(PointsEntry).where(PointsEntry.volunteer_id == volunteer_id)
    if start is not None:
        q = q.where(PointsEntry.at >= start)
    if end is not None:
        q = q.where(PointsEntry.at < end)
    return list(ctx.session.scalars(q.order_by(PointsEntry.id)))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
