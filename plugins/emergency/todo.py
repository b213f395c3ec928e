"""The emergency line's 我的待办 (register_todo): items below their minimum stock, batches expired or
expiring within the first alert band (30 days), plans due for review, and the units still short of
this year's comprehensive drills. Service level (no Qt); each item names the page and filter that
list exactly the records it counts (tests/ui/test_todo_lines.py holds the two to each other)."""
from __future__ import annotations

from shell.contracts import TodoItem
from shell.core.context import ServiceContext

from . import services as svc

P_VIEW = "emergency.view"
P_STOCK = "emergency.stock.manage"
P_PLAN = "emergency.plan.manage"
P_DRILL = "emergency.drill.manage"


def stock_items(ctx: ServiceContext) -> list[TodoItem]:
    # Restocking and taking expired batches out is the storekeeper's (出入库) work.
    if not ctx.actor.can(P_STOCK):
        return []
    # The dashboard's per-warehouse counts (grouped in the database: on the large street 0.1 s where
    # below_minimum's row-by-row overview took 0.4 s); the page lists the same by stock_alert_rows.
    alerts = svc.alerts_by_warehouse(ctx)
    below = sum(w.below_minimum for w in alerts)
    expired = sum(w.expired for w in alerts)
    expiring = expired + sum(w.expiring for w in alerts)
    first = svc.alert_days(ctx)[0]
    return [TodoItem(id="emergency.stock.below_min", title="低于最低库存的物资", count=below, unit="项",
                     page="emergency.stock", filter={"alert": "below_min"}, order=70),
            TodoItem(id="emergency.stock.expiring", title=f"已过期或 {first} 天内到期的物资批次", count=expiring,
                     unit="批", overdue=expired, page="emergency.stock", filter={"alert": "expiring"}, order=71)]


def plan_items(ctx: ServiceContext) -> list[TodoItem]:
    if not ctx.actor.can(P_PLAN):
        return []
    today = ctx.today()
    due = svc.plans_review_due(ctx)
    late = sum(1 for p in due if p.review_on is not None and p.review_on < today)
    return [TodoItem(id="emergency.plans.review", title="到期待评审的应急预案", count=len(due), unit="个", overdue=late,
                     page="emergency.plans", filter={"review": "due"}, order=72)]


def drill_items(ctx: ServiceContext) -> list[TodoItem]:
    if not ctx.actor.can(P_DRILL):
        return []
    year = ctx.today().year
    behind = svc.drills_behind(ctx, year)
    return [TodoItem(id="emergency.drills.behind", title=f"{year} 年尚未完成综合演练的单位", count=len(behind),
                     unit="个", page="emergency.drills", filter={"year": year, "behind": True}, order=73)]


def items(ctx: ServiceContext) -> list[TodoItem]:
    if not ctx.actor.can(P_VIEW):
        return []
    return stock_items(ctx) + plan_items(ctx) + drill_items(ctx)
