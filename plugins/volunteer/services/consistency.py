"""Stored balances against the ledgers (tests and the maintenance view)."""
from __future__ import annotations

from sqlalchemy import func, select

from shell.core import personal as _personal

from ..models import (
    HoursEntry,
    PointsEntry,
    StockMove,
)
from .common import ACCOUNTS, ITEMS

# ============================================================================ consistency

def check_consistency(session, volunteer_id: int | None = None) -> list[str]:
    """Stored balances against the ledgers (used by tests and the maintenance view). Empty = all agree."""
    problems = []
    q = select(ACCOUNTS.c.volunteer_id, ACCOUNTS.c.points_balance, ACCOUNTS.c.approved_minutes)
    if volunteer_id is not None:
        q = q.where(ACCOUNTS.c.volunteer_id == volunteer_id)
    for vid, points, minutes in session.execute(q):
        p_sum = session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(PointsEntry.volunteer_id == vid))
        h_sum = session.scalar(select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(HoursEntry.volunteer_id == vid))
        last_p = session.scalar(select(PointsEntry.balance_after).where(PointsEntry.volunteer_id == vid)
                                .order_by(PointsEntry.id.desc()).limit(1))
        if p_sum != points or (last_p is not None and last_p != points) or points < 0:
            problems.append(f"志愿者 {vid}：积分余额 {points}，台账合计 {p_sum}，最后一笔结余 {last_p}")
        if h_sum != minutes or minutes < 0:
            problems.append(f"志愿者 {vid}：时长 {minutes} 分钟，台账合计 {h_sum}")
    for item_id, stock in session.execute(select(ITEMS.c.id, ITEMS.c.stock)):
        m_sum = session.scalar(select(func.coalesce(func.sum(StockMove.quantity), 0)).where(StockMove.item_id == item_id))
        if m_sum != stock or stock < 0:
            problems.append(f"物品 {item_id}：库存 {stock}，出入库合计 {m_sum}")
    return problems


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
