"""The search hook's service."""
from __future__ import annotations

from sqlalchemy import select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext

from ..models import (
    Item,
    Plan,
    Warehouse,
)
from .catalog import _item_text_filter

# ----------------------------------------------------------------------------- search

def search(ctx: ServiceContext, text: str, limit: int = 20):
    from shell.contracts import SearchResult

    text = (text or "").strip()
    if not text or not ctx.actor.can("emergency.view"):
        return []
    out = []
    for item in ctx.session.scalars(select(Item).where(_item_text_filter(ctx, text)).order_by(Item.code).limit(limit)):
        out.append(SearchResult("emergency.item", item.id, f"{item.name} {item.spec}".strip(),
                                f"应急物资 · 编码 {item.code} · {item.unit}", "emergency"))
    for wh in ctx.session.scalars(select(Warehouse).where(Warehouse.name.contains(text),
                                                          scope_filter(Warehouse.area_id, ctx.actor)).limit(limit)):
        out.append(SearchResult("emergency.warehouse", wh.id, wh.name, f"应急仓库 · {wh.address or ''}", "emergency"))
    for plan in ctx.session.scalars(select(Plan).where(Plan.title.contains(text),
                                                       scope_filter(Plan.area_id, ctx.actor)).limit(limit)):
        out.append(SearchResult("emergency.plan", plan.id, plan.title, f"应急预案 · {plan.category} · 第 {plan.version} 版",
                                "emergency"))
    return out


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
