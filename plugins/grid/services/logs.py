"""民情日志: the grid workers' visit logs, and turning a finding into an event."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter, subtree_filter
from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.errors import ValidationError

from ..models import Event, Household, Person, VisitLog
from .common import P_LOG, P_REPORT, P_VIEW, Listing, _area_of, _get, _required, _text
from .events import report_event


# --- 民情日志 ---------------------------------------------------------------------------------
def write_log(ctx: ServiceContext, area_id: int, content: str, finding: str = "", log_date: date | None = None,
              household_id: int | None = None, person_id: int | None = None) -> VisitLog:
    ctx.actor.require(P_LOG)
    area = _area_of(ctx, area_id)
    if household_id is not None:
        _get(ctx, Household, household_id, "户")
    if person_id is not None:
        _get(ctx, Person, person_id, "人员")
    log_date = log_date or ctx.today()
    if log_date > ctx.today():
        raise ValidationError(f"日志日期 {log_date} 晚于今天。", "log_date", log_date)
    log = VisitLog(area_id=area.id, log_date=log_date, worker_name=ctx.actor.display_name,
                   worker_user_id=ctx.actor.user_id, household_id=household_id, person_id=person_id,
                   content=_required(content, "content", "走访内容"), finding=_text(finding),
                   created_by=ctx.actor.user_id)
    ctx.session.add(log)
    ctx.session.flush()
    return log


def log_to_event(ctx: ServiceContext, log_id: int, category_id: int, title: str | None = None) -> Event:
    """Turn a visit-log finding into an event (state 上报) in one step."""
    ctx.actor.require(P_REPORT)
    log = _get(ctx, VisitLog, log_id, "民情日志")
    if log.event_id is not None:
        ev = ctx.session.get(Event, log.event_id)
        raise ValidationError(f"这条民情日志已转为事件 {ev.number if ev else log.event_id}。", "event_id", log.event_id)
    if not log.finding:
        raise ValidationError("这条民情日志没有记录发现的问题，无法转为事件。", "finding", log.finding)
    ev = report_event(ctx, area_id=log.area_id, category_id=category_id, title=title or log.finding[:50],
                      description=log.finding, source="民情日志", reporter_name=log.worker_name,
                      occurred_on=log.log_date)
    log.event_id = ev.id
    ctx.session.flush()
    return ev


def logs_query(actor, text: str = "", area: Area | None = None, open_findings: bool = False):
    """SELECT (VisitLog, the event's number or None) in scope, for the lazy list of 民情日志."""
    q = (select(VisitLog, Event.number).outerjoin(Event, Event.id == VisitLog.event_id)
         .where(scope_filter(VisitLog.area_id, actor)))
    if area is not None:
        q = q.where(subtree_filter(VisitLog.area_id, area))
    if open_findings:   # found something, not yet an event
        q = q.where(VisitLog.finding != "", VisitLog.event_id.is_(None))
    t = _text(text)
    if t:
        q = q.where(or_(VisitLog.content.contains(t, autoescape=True), VisitLog.finding.contains(t, autoescape=True),
                        VisitLog.worker_name.startswith(t, autoescape=True)))
    return q


def logs_listing(actor, text: str = "", area: Area | None = None, open_findings: bool = False) -> Listing:
    """The 民情日志 list: ``logs_query`` newest first."""
    return Listing(logs_query(actor, text, area, open_findings), VisitLog.id, descending=True)


def get_log(ctx: ServiceContext, log_id: int) -> VisitLog:
    ctx.actor.require(P_VIEW)
    return _get(ctx, VisitLog, log_id, "民情日志")


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
