"""双报到: in-service members reporting to the community where they live, and their services there."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import flush_or_conflict
from shell.core.models import Area
from shell.core.scope import get_in_scope
from shell.errors import ValidationError

from ..models import CommunityReport, CommunityService
from ..rules import MEMBER_MANAGE, VIEW
from .common import _not_future, _require_text
from .members import _check_member_fields, get_member
from .orgs import _area


def _community(ctx: ServiceContext, area_id: int) -> Area:
    area = _area(ctx, area_id)
    ctx.actor.require_scope(area)
    if area.level != "community":
        raise ValidationError(f"在职党员向居住地社区报到：“{area.name}”是{area.level_label}，请选择社区。", "area_id", area_id)
    if not area.is_open:
        raise ValidationError(f"社区“{area.name}”已撤销。", "area_id", area_id)
    return area


def register_report(ctx: ServiceContext, *, area_id: int, name: str, workplace: str, reported_on: date | None = None,
                    phone: str | None = None, workplace_org: str | None = None, address: str | None = None,
                    member_id: int | None = None):
    """在职党员到居住地社区报到. One open report per person (name + phone) and community."""
    ctx.actor.require(MEMBER_MANAGE)
    area = _community(ctx, area_id)
    if member_id is not None:  # on the street's rolls: the name comes from the member record
        m = get_member(ctx, member_id)
        if not m.is_party_member:
            raise ValidationError(f"{m.name}是{m.stage_label}，不是党员。", "member_id", member_id)
        name = m.name
    name = _require_text(name, "姓名", "name", 64)
    workplace = _require_text(workplace, "工作单位", "workplace", 200)
    phone = _check_member_fields({"phone": phone}).get("phone") if phone else None
    reported_on = reported_on or ctx.today()
    _not_future(ctx, reported_on, "报到日期", "reported_on")
    dup = ctx.session.scalar(select(CommunityReport).where(CommunityReport.area_id == area.id,
                                                           CommunityReport.name == name,
                                                           CommunityReport.ended_on.is_(None),
                                                           (CommunityReport.phone == phone) if phone
                                                           else CommunityReport.phone.is_(None)))
    if dup is not None:
        raise ValidationError(f"{name}已于 {dup.reported_on} 向{area.name}报到，不必重复登记。", "name", name)
    r = CommunityReport(area_id=area.id, member_id=member_id, name=name, phone=phone, workplace=workplace,
                        workplace_org=(workplace_org or "").strip() or None, address=(address or "").strip() or None,
                        reported_on=reported_on, created_by=ctx.actor.user_id)
    ctx.session.add(r)
    ctx.session.flush()
    return r


def _get_report(ctx: ServiceContext, report_id: int):
    return get_in_scope(ctx, CommunityReport, report_id, "报到记录")   # in scope through its community


def end_report(ctx: ServiceContext, report_id: int, on: date | None = None):
    """The member moved away or stopped: the report ends, its services stay."""
    ctx.actor.require(MEMBER_MANAGE)
    r = _get_report(ctx, report_id)
    if r.ended_on is not None:
        raise ValidationError(f"{r.name}的报到已于 {r.ended_on} 结束。", "ended_on")
    on = on or ctx.today()
    _not_future(ctx, on, "结束日期", "ended_on")
    if on < r.reported_on:
        raise ValidationError(f"结束日期 {on} 早于报到日期 {r.reported_on}。", "ended_on", on)
    r.ended_on = on
    flush_or_conflict(ctx.session, r, "报到记录")
    return r


def record_community_service(ctx: ServiceContext, report_id: int, served_on: date, content: str, minutes: int):
    """A service the reported member did in the community (while reported, not in the future)."""
    ctx.actor.require(MEMBER_MANAGE)
    r = _get_report(ctx, report_id)
    _not_future(ctx, served_on, "服务日期", "served_on")
    if served_on < r.reported_on or (r.ended_on and served_on > r.ended_on):
        raise ValidationError(f"服务日期 {served_on} 不在{r.name}报到期间（{r.reported_on} 起"
                              + (f"，{r.ended_on} 止" if r.ended_on else "") + "）。", "served_on", served_on)
    content = _require_text(content, "服务内容", "content", 200)
    if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise ValidationError(f"服务时长应为 1 分钟至 24 小时，填写的是 {minutes} 分钟。", "minutes", minutes)
    row = CommunityService(report_id=r.id, served_on=served_on, content=content, minutes=minutes,
                           recorded_by=ctx.actor.user_id)
    ctx.session.add(row)
    ctx.session.flush()
    return row


@dataclass
class ReportRow:
    report_id: int
    name: str
    phone: str | None
    workplace: str
    workplace_org: str | None
    community: str
    reported_on: date
    ended_on: date | None
    services: int          # in the year
    minutes: int           # in the year


def community_reports(ctx: ServiceContext, year: int, area_id: int | None = None,
                      include_ended: bool = False) -> list[ReportRow]:
    """Reported in-service members in scope (of one community), with their services in ``year``."""
    ctx.actor.require(VIEW)
    svc_q = (select(CommunityService.report_id, func.count().label("n"), func.sum(CommunityService.minutes).label("m"))
             .where(CommunityService.served_on >= date(year, 1, 1), CommunityService.served_on <= date(year, 12, 31))
             .group_by(CommunityService.report_id).subquery())
    q = (select(CommunityReport, Area.name, svc_q.c.n, svc_q.c.m).join(Area, Area.id == CommunityReport.area_id)
         .outerjoin(svc_q, svc_q.c.report_id == CommunityReport.id)
         .where(scope_filter(CommunityReport.area_id, ctx.actor)))
    if area_id is not None:
        q = q.where(CommunityReport.area_id == area_id)
    if not include_ended:
        q = q.where(or_(CommunityReport.ended_on.is_(None), CommunityReport.ended_on >= date(year, 1, 1)))
    q = q.order_by(Area.path, CommunityReport.reported_on, CommunityReport.id)
    return [ReportRow(r.id, r.name, r.phone, r.workplace, r.workplace_org, area, r.reported_on, r.ended_on,
                      int(n or 0), int(m or 0)) for r, area, n, m in ctx.session.execute(q)]


def community_services(ctx: ServiceContext, report_id: int) -> list:
    ctx.actor.require(VIEW)
    _get_report(ctx, report_id)
    return list(ctx.session.scalars(select(CommunityService).where(CommunityService.report_id == report_id)
                                    .order_by(CommunityService.served_on.desc(), CommunityService.id.desc())))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
