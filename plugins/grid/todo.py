"""The grid's 我的待办 (register_todo): events waiting for the actor's step, visits overdue and due
this week, tenants reported late. Service level (no Qt); each item names the page and filter that
list exactly the records it counts (the events page's filter codes are services.EVENT_FILTERS)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, func, select

from shell.contracts import TodoItem
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext

from . import services as svc
from .models import Event, SpecialPerson

# The step each open status waits for, and what the list of them is called.
WAITING = (("reported", "register", "待立案的事件"), ("registered", "dispatch", "待派遣的事件"),
           ("dispatched", "handle", "待处置的事件"), ("handled", "verify", "待核查的事件"),
           ("verified", "close", "待结案的事件"))


def event_items(ctx: ServiceContext) -> list[TodoItem]:
    actor, today = ctx.actor, ctx.today()
    statuses = [(st, title) for st, action, title in WAITING if actor.can(svc.TRANSITIONS[action].permission)]
    if not statuses:
        return []
    q = (select(Event.status, func.count(), func.coalesce(func.sum(case((Event.deadline < today, 1), else_=0)), 0))
         .where(scope_filter(Event.area_id, actor), Event.status.in_([st for st, _t in statuses]))
         .group_by(Event.status))
    counts = {st: (int(n), int(late)) for st, n, late in ctx.session.execute(q)}
    out = []
    for order, (st, title) in enumerate(statuses):
        n, late = counts.get(st, (0, 0))
        # 上报 has no deadline yet; the others count days from 立案 (the 处置时限).
        out.append(TodoItem(id=f"grid.events.{st}", title=title, count=n, overdue=late if st != "reported" else 0,
                            page="grid.events", filter={"code": st}, order=10 + order))
    return out


def visit_items(ctx: ServiceContext) -> list[TodoItem]:
    if not ctx.actor.can(svc.P_SPECIAL):
        return []
    today = ctx.today()
    week = today + timedelta(days=7)
    q = select(func.coalesce(func.sum(case((SpecialPerson.next_visit_date < today, 1), else_=0)), 0),
               func.coalesce(func.sum(case((SpecialPerson.next_visit_date.between(today, week), 1), else_=0)), 0)
               ).where(scope_filter(SpecialPerson.area_id, ctx.actor), SpecialPerson.end_date.is_(None))
    overdue, due = (int(x) for x in ctx.session.execute(q).one())
    return [TodoItem(id="grid.visits.overdue", title="逾期未走访的重点人员", count=overdue, unit="人", overdue=overdue,
                     page="grid.special", filter={"overdue": True}, order=30),
            TodoItem(id="grid.visits.due", title="七天内应走访的重点人员", count=due, unit="人",
                     page="grid.special", filter={"due_days": 7}, order=31)]


def tenant_items(ctx: ServiceContext) -> list[TodoItem]:
    if not ctx.actor.can(svc.P_PERSON):
        return []
    late = svc.count_late_reports(ctx)
    return [TodoItem(id="grid.tenants.late", title="逾期未报备或迟报的租客", count=late.late, unit="人",
                     overdue=late.late, page="grid.houses", filter={"tenants": "late"}, order=40)]


def items(ctx: ServiceContext) -> list[TodoItem]:
    if not ctx.actor.can(svc.P_VIEW):
        return []
    return event_items(ctx) + visit_items(ctx) + tenant_items(ctx)
