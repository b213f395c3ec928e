"""The Party line's 我的待办 (register_todo): probationary members due for 转正 within the notice
period (setting ``partybuilding.probation.due_days``, 30 days) and past their probation, transfer
letters still waiting for their receipt, and this quarter's 三会一课 not yet held. Service level (no
Qt); each item names the page and filter that list exactly the records it counts, by the same
service functions those pages call."""
from __future__ import annotations

from shell.contracts import TodoItem
from shell.core.context import ServiceContext

from . import services as svc
from .rules import MEETING, MEMBER_MANAGE, TRANSFER, VIEW


def probation_items(ctx: ServiceContext) -> list[TodoItem]:
    # 转正 is done by whoever manages members; the 党员提醒 page needs partybuilding.view.
    if not ctx.actor.can(MEMBER_MANAGE):
        return []
    due, overdue = svc.probation_lists(ctx)
    days = svc.setting_value(ctx, "partybuilding.probation.due_days")
    return [TodoItem(id="partybuilding.probation.overdue", title="预备期已满未转正的党员", count=len(overdue), unit="人",
                     overdue=len(overdue), page="partybuilding.alerts", filter={"probation": "overdue"}, order=60),
            TodoItem(id="partybuilding.probation.due", title=f"{days} 天内预备期满的党员", count=len(due), unit="人",
                     page="partybuilding.alerts", filter={"probation": "due"}, order=61)]


def transfer_items(ctx: ServiceContext) -> list[TodoItem]:
    if not ctx.actor.can(TRANSFER):
        return []
    today = ctx.today()
    waiting = svc.awaiting_receipts(ctx)
    late = sum(1 for t in waiting if svc.receipt_overdue(t, today))
    return [TodoItem(id="partybuilding.transfers.receipts", title="待收回执的组织关系介绍信", count=len(waiting), unit="份",
                     overdue=late, page="partybuilding.transfers", filter={"receipts": "awaiting"}, order=62)]


def meeting_items(ctx: ServiceContext) -> list[TodoItem]:
    if not ctx.actor.can(MEETING):
        return []
    today = ctx.today()
    count, missing = svc.outstanding_counts(ctx, today)
    quarter = (today.month - 1) // 3 + 1
    return [TodoItem(id="partybuilding.meetings.outstanding", title="本季度未落实的组织生活", count=count,
                     unit="项", overdue=missing, page="partybuilding.compliance",
                     filter={"year": today.year, "quarter": quarter, "show": "open"}, order=63)]


def items(ctx: ServiceContext) -> list[TodoItem]:
    if not ctx.actor.can(VIEW):
        return []
    return probation_items(ctx) + transfer_items(ctx) + meeting_items(ctx)
