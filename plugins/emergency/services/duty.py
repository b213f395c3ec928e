"""The duty roster (值班表)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError

from shell.core import personal as _personal
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import Area
from shell.core.scope import get_in_scope
from shell.errors import ConflictError, ValidationError

from ..models import (
    DUTY_SHIFTS,
    DutyShift,
)
from .common import _area, _choice, _phone, _text

# ----------------------------------------------------------------------------- duty roster (值班表)

def _duty_unit(ctx: ServiceContext, area_id: int) -> Area:
    area = _area(ctx, area_id)
    if area.level not in ("street", "community"):
        raise ValidationError(f"值班表按街道或社区排班，“{area.name}”是{area.level_label}。", "area_id", area_id)
    return area


def set_duty(ctx: ServiceContext, area_id: int, duty_date: date, shift: str, leader: str, staff: str,
             phone: str | None = None, note: str | None = None, expected_version: int | None = None) -> DutyShift:
    """Put people on one shift (create it, or change it when it exists — then ``expected_version``
    guards against overwriting another desktop's change)."""
    ctx.actor.require("emergency.team.manage")
    _duty_unit(ctx, area_id)
    if not isinstance(duty_date, date):
        raise ValidationError("请填写值班日期。", "duty_date", duty_date)
    shift = _choice(shift, DUTY_SHIFTS, "shift", "班次")
    leader = _text(leader, "leader", "带班领导", max_len=50)
    staff = _text(staff, "staff", "值班人员", max_len=200)
    phone = _phone(phone, "phone", "值班电话")
    note = _text(note, "note", "备注", False, 200)
    existing = ctx.session.scalars(select(DutyShift).where(DutyShift.area_id == area_id,
                                                           DutyShift.duty_date == duty_date)).all()
    # 全天 and 白班/夜班 exclude each other: one way of dividing a day
    clash = [d for d in existing if d.shift != shift and "full" in (d.shift, shift)]
    if clash:
        raise ValidationError(f"{duty_date} 已排“{DUTY_SHIFTS[clash[0].shift]}”，不能再排“{DUTY_SHIFTS[shift]}”；"
                              "请先修改或删除原班次。", "shift", shift)
    row = next((d for d in existing if d.shift == shift), None)
    if row is None:
        row = DutyShift(area_id=area_id, duty_date=duty_date, shift=shift, leader=leader, staff=staff, phone=phone,
                        note=note, created_by=ctx.actor.user_id)
        try:
            with ctx.session.begin_nested():   # a clash takes back this row only, not the caller's work
                ctx.session.add(row)
                ctx.session.flush()
        except IntegrityError:
            raise ConflictError(f"{duty_date} 的{DUTY_SHIFTS[shift]}刚被其他电脑排好，请刷新后再改。") from None
        return row
    check_version(ctx.session, row, expected_version, "值班安排")
    row.leader, row.staff, row.phone, row.note = leader, staff, phone, note
    flush_or_conflict(ctx.session, row, "值班安排")
    return row


def remove_duty(ctx: ServiceContext, duty_id: int) -> None:
    ctx.actor.require("emergency.team.manage")
    row = get_in_scope(ctx, DutyShift, duty_id, "值班安排")
    ctx.session.delete(row)
    ctx.session.flush()


def duty_roster(ctx: ServiceContext, area_id: int, start: date, end: date) -> list[DutyShift]:
    """Shifts of one unit from ``start`` to ``end`` (inclusive), by date then 全天/白班/夜班."""
    ctx.actor.require("emergency.view")
    _area(ctx, area_id)
    order = case((DutyShift.shift == "full", 0), (DutyShift.shift == "day", 1), else_=2)
    return list(ctx.session.scalars(select(DutyShift).where(DutyShift.area_id == area_id, DutyShift.duty_date >= start,
                                                            DutyShift.duty_date <= end)
                                    .order_by(DutyShift.duty_date, order)))


def duty_gaps(ctx: ServiceContext, area_id: int, start: date, end: date) -> list[tuple[date, str]]:
    """Days not fully covered: (date, what is missing) — no shift at all, or only one of 白班/夜班."""
    covered: dict[date, set[str]] = {}
    for d in duty_roster(ctx, area_id, start, end):
        covered.setdefault(d.duty_date, set()).add(d.shift)
    out, day = [], start
    while day <= end:
        shifts = covered.get(day, set())
        if not shifts:
            out.append((day, "无人值班"))
        elif "full" not in shifts and shifts != {"day", "night"}:
            out.append((day, "缺夜班" if "day" in shifts else "缺白班"))
        day += timedelta(days=1)
    return out


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
