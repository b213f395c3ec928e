"""The volunteer line's 我的待办 (register_todo): service records signed out and waiting for the
activity leader's approval, and activities past their end time still open (to be ended: 结束活动).
Service level (no Qt); each item names the page and the filter that lists exactly the records it
counts (``services.approval_query``, ``services.activity_rows``)."""
from __future__ import annotations

from sqlalchemy import func, select

from shell.contracts import TodoItem
from shell.core.context import ServiceContext

from . import services as svc
from .labels import ACTIVITY_ENDED_OPEN
from .rules import P_ACTIVITY, P_APPROVE, P_VIEW


def count_of(ctx: ServiceContext, q) -> int:
    return int(ctx.session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0)


def approval_items(ctx: ServiceContext) -> list[TodoItem]:
    # The 时长审核 page needs volunteer.approve; listing needs volunteer.view (approval_query checks it).
    if not (ctx.actor.can(P_APPROVE) and ctx.actor.can(P_VIEW)):
        return []
    n = count_of(ctx, svc.approval_query(ctx, "signed_out"))
    return [TodoItem(id="volunteer.approvals.pending", title="待审核的服务时长", count=n, unit="条",
                     page="volunteer.approvals", filter={"status": "signed_out"}, order=50)]


def activity_items(ctx: ServiceContext) -> list[TodoItem]:
    # Ending an activity is its organiser's (volunteer.activity); the 志愿活动 page needs volunteer.view.
    if not (ctx.actor.can(P_ACTIVITY) and ctx.actor.can(P_VIEW)):
        return []
    _rows, n = svc.activity_rows(ctx, limit=0, status=ACTIVITY_ENDED_OPEN)
    return [TodoItem(id="volunteer.activities.ended_open", title="已过结束时间、尚未结束的志愿活动", count=n, unit="个",
                     overdue=n, page="volunteer.activities", filter={"status": ACTIVITY_ENDED_OPEN}, order=51)]


def items(ctx: ServiceContext) -> list[TodoItem]:
    return approval_items(ctx) + activity_items(ctx)
