"""Service certificates (服务证明)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from shell.core import personal as _personal
from shell.core.context import ServiceContext
from shell.errors import ValidationError

from ..models import (
    Activity,
    Attendance,
    Certificate,
    HoursEntry,
)
from ..rules import P_CERTIFICATE, load_rules
from .common import _next_counter
from .volunteers import find_by_number, get_volunteer

# ============================================================================ certificates

def issue_certificate(ctx: ServiceContext, volunteer_id: int, period_from: date | None = None,
                      period_to: date | None = None) -> tuple[Certificate, list[dict]]:
    """Number and record a 志愿服务证明. Returns the certificate and the approved services it covers."""
    ctx.actor.require(P_CERTIFICATE)
    v = get_volunteer(ctx, volunteer_id)
    if period_from and period_to and period_to < period_from:
        raise ValidationError("证明期间的结束日期不能早于开始日期。", "period_to", period_to)
    services = _certified_services(ctx, v.id, period_from, period_to)
    minutes = sum(x["minutes"] for x in services)
    if minutes <= 0:
        raise ValidationError(f"“{v.name}”在所选期间没有已审核的服务时长，无法出具证明。", "volunteer_id", volunteer_id)
    rules = load_rules(ctx.session)
    today = ctx.today()
    seq = _next_counter(ctx, "certificate")
    number = f"{rules.certificate_prefix}{today.year}{seq:06d}"
    cert = Certificate(number=number, volunteer_id=v.id, issued_at=ctx.now(), period_from=period_from,
                       period_to=period_to, minutes=minutes, issued_by=ctx.actor.user_id)
    ctx.session.add(cert)
    ctx.session.flush()
    return cert, services


def latest_certificate_number(ctx: ServiceContext, volunteer_number: str) -> str:
    """The number of the newest certificate issued to this volunteer ("" when none)."""
    v = find_by_number(ctx, volunteer_number)
    return ctx.session.scalar(select(Certificate.number).where(Certificate.volunteer_id == v.id)
                              .order_by(Certificate.id.desc()).limit(1)) or ""


def _certified_services(ctx: ServiceContext, volunteer_id: int, period_from: date | None = None,
                       period_to: date | None = None) -> list[dict]:
    """Net approved minutes per activity (approvals minus reversals) in the period."""
    q = (select(Activity.name, Activity.place, Activity.content, Activity.leader_name, HoursEntry.service_date,
                func.sum(HoursEntry.minutes))
         .join(Attendance, Attendance.id == HoursEntry.attendance_id)
         .join(Activity, Activity.id == Attendance.activity_id)
         .where(HoursEntry.volunteer_id == volunteer_id)
         .group_by(Activity.id, Activity.name, Activity.place, Activity.content, Activity.leader_name,
                   HoursEntry.service_date)
         .having(func.sum(HoursEntry.minutes) > 0)
         .order_by(HoursEntry.service_date, Activity.id))
    if period_from:
        q = q.where(HoursEntry.service_date >= period_from)
    if period_to:
        q = q.where(HoursEntry.service_date <= period_to)
    return [dict(activity=n, place=p, content=c, leader=ld, date=d, minutes=int(m))
            for n, p, c, ld, d, m in ctx.session.execute(q)]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
