"""The reward store: items, stock moves, redemption orders."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.models import Area, User
from shell.core.scope import get_in_scope
from shell.db.retry import guard_busy
from shell.errors import ConflictError, FieldError, NotFound, ValidationError, raise_if

from ..models import (
    LIMIT_PERIODS,
    PointsEntry,
    RedemptionLine,
    RedemptionOrder,
    RewardItem,
    StockMove,
    Volunteer,
)
from ..rules import P_REDEEM, P_STORE, P_VIEW, Rules, load_rules
from .common import ITEMS, ORDERS, _area, _audit, _text, hours_text, local_midnight
from .points import _post_points
from .volunteers import _account, get_volunteer

# ============================================================================ reward store

def create_item(ctx: ServiceContext, *, name: str, area_id: int, points_price: int, unit: str = "件",
                stock: int = 0, per_person_limit: int = 0, limit_period: str = "none") -> RewardItem:
    ctx.actor.require(P_STORE)
    area = _area(ctx, area_id, "爱心超市所属社区")
    name = _text(name, "物品名称", "name")
    if isinstance(points_price, bool) or not isinstance(points_price, int) or points_price <= 0:
        raise ValidationError("兑换所需积分应为正整数。", "points_price", points_price)
    if limit_period not in LIMIT_PERIODS:
        raise ValidationError(f"限兑周期“{limit_period}”无效。", "limit_period", limit_period)
    if per_person_limit < 0:
        raise ValidationError("每人限兑数量不能为负数（0 表示不限）。", "per_person_limit", per_person_limit)
    if ctx.session.scalar(select(RewardItem.id).where(RewardItem.area_id == area.id, RewardItem.name == name)):
        raise ValidationError(f"“{area.name}”爱心超市已有物品“{name}”。", "name", name)
    item = RewardItem(area_id=area.id, name=name, unit=_text(unit, "单位", "unit", max_len=8),
                      points_price=points_price, stock=0, per_person_limit=per_person_limit,
                      limit_period=limit_period if per_person_limit else "none", created_by=ctx.actor.user_id)
    ctx.session.add(item)
    ctx.session.flush()
    if stock:
        stock_in(ctx, item.id, stock, "建档入库")
    return item


def get_item(ctx: ServiceContext, item_id: int) -> RewardItem:
    ctx.actor.require(P_VIEW)
    item = get_in_scope(ctx, RewardItem, item_id, "爱心超市物品")
    return item


def list_items(ctx: ServiceContext, area_id: int | None = None, active_only: bool = True) -> list[RewardItem]:
    ctx.actor.require(P_VIEW)
    q = select(RewardItem).where(scope_filter(RewardItem.area_id, ctx.actor))
    if area_id is not None:
        q = q.where(RewardItem.area_id == area_id)
    if active_only:
        q = q.where(RewardItem.active.is_(True))
    items = list(ctx.session.scalars(q.order_by(RewardItem.area_id, RewardItem.points_price, RewardItem.id)))
    for it in items:  # the stored stock may have moved since the session loaded the row
        ctx.session.refresh(it, ["stock"])
    return items


def current_stock(ctx: ServiceContext, item_id: int) -> int:
    """An item's stock as stored now (for the store and the counter), within scope."""
    if not ctx.actor.can(P_REDEEM):
        ctx.actor.require(P_VIEW)
    get_in_scope(ctx, RewardItem, item_id, "爱心超市物品")
    return _current_stock(ctx, item_id)


def _current_stock(ctx: ServiceContext, item_id: int) -> int:
    return int(ctx.session.execute(select(ITEMS.c.stock).where(ITEMS.c.id == item_id)).scalar_one())


def _move(ctx: ServiceContext, item_id: int, quantity: int, kind: str, reason: str = "",
          order_id: int | None = None, expect_stock: int | None = None) -> StockMove:
    s = ctx.session
    cond = [ITEMS.c.id == item_id]
    if quantity < 0:
        cond.append(ITEMS.c.stock >= -quantity)
    if expect_stock is not None:
        cond.append(ITEMS.c.stock == expect_stock)
    res = s.execute(update(ITEMS).where(*cond).values(stock=ITEMS.c.stock + quantity))
    if cast(CursorResult, res).rowcount != 1:
        now = _current_stock(ctx, item_id)
        name = s.execute(select(ITEMS.c.name).where(ITEMS.c.id == item_id)).scalar()
        if expect_stock is not None and now != expect_stock:
            raise ConflictError(f"“{name}”的库存刚被他人改动（现为 {now}），请重新盘点。")
        raise ValidationError(f"“{name}”库存不足：现有 {now}，需要 {-quantity}。", "quantity", -quantity)
    after = _current_stock(ctx, item_id)
    move = StockMove(item_id=item_id, at=ctx.now(), kind=kind, quantity=quantity, stock_after=after,
                     order_id=order_id, reason=(reason or "")[:200], created_by=ctx.actor.user_id)
    s.add(move)
    s.flush()
    return move


def _audited_move(ctx: ServiceContext, item: RewardItem, move: StockMove) -> StockMove:
    from ..models import STOCK_KINDS

    _audit(ctx, f"stock_{move.kind}", "volunteer_reward_items", item.id,
           f"“{item.name}”{STOCK_KINDS.get(move.kind, move.kind)} {move.quantity:+d}，结存 {move.stock_after}"
           + (f"：{move.reason}" if move.reason else ""), quantity=move.quantity, stock_after=move.stock_after,
           move_id=move.id)
    return move


def _positive(q: Any, title: str) -> int:
    if isinstance(q, bool) or not isinstance(q, int) or q <= 0:
        raise ValidationError(f"{title}应为正整数。", "quantity", q)
    return q


@guard_busy
def stock_in(ctx: ServiceContext, item_id: int, quantity: int, reason: str = "入库") -> StockMove:
    ctx.actor.require(P_STORE)
    item = get_item(ctx, item_id)
    return _audited_move(ctx, item, _move(ctx, item_id, _positive(quantity, "入库数量"), "in", reason))


@guard_busy
def stock_out(ctx: ServiceContext, item_id: int, quantity: int, reason: str) -> StockMove:
    ctx.actor.require(P_STORE)
    item = get_item(ctx, item_id)
    reason = _text(reason, "出库原因（如损坏、过期、丢失）", "reason", max_len=200)
    return _audited_move(ctx, item, _move(ctx, item_id, -_positive(quantity, "出库数量"), "out", reason))


@guard_busy
def stock_take(ctx: ServiceContext, item_id: int, counted: int, reason: str = "盘点") -> StockMove | None:
    """Book the difference between the counted and the expected stock as an adjustment move."""
    ctx.actor.require(P_STORE)
    item = get_item(ctx, item_id)
    if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
        raise ValidationError("盘点数量应为不小于 0 的整数。", "counted", counted)
    expected = _current_stock(ctx, item_id)
    if counted == expected:
        return None
    move = _move(ctx, item_id, counted - expected, "adjust", f"{reason}：账面 {expected}，实盘 {counted}",
                 expect_stock=expected)
    return _audited_move(ctx, item, move)


def check_window(rules: Rules, today: date) -> None:
    if rules.redeem_months and today.month not in rules.redeem_months:
        months = "、".join(f"{m}月" for m in rules.redeem_months)
        raise ValidationError(f"现在不在兑换期内：本街道只在 {months} 开放积分兑换。", "date", today)
    if not (rules.redeem_day_from <= today.day <= rules.redeem_day_to):
        raise ValidationError(f"现在不在兑换期内：每月 {rules.redeem_day_from} 日至 {rules.redeem_day_to} 日开放积分兑换。",
                              "date", today)


def _period_start(period: str, today: date) -> datetime | None:
    if period == "month":
        return local_midnight(today.replace(day=1))
    if period == "year":
        return local_midnight(date(today.year, 1, 1))
    return None


def redeem_eligibility(ctx: ServiceContext, volunteer_id: int, *, minutes: int | None = None) -> list[FieldError]:
    """Why the volunteer may not redeem today, in the order ``redeem`` refuses: stopped, outside the
    redemption window, fewer approved hours than the threshold; [] when they may. The counter shows
    the first before anything is put in the basket. (Refusals that depend on the basket — stock,
    per-person limits, an item taken off the shelf — are ``redeem``'s own.) ``minutes``: the
    approved minutes when the caller has just read them."""
    v = get_volunteer(ctx, volunteer_id)
    out: list[FieldError] = []
    if not v.active:
        out.append(FieldError("volunteer_id", f"志愿者“{v.name}”已停用，不能兑换。", volunteer_id))
    rules = load_rules(ctx.session)
    try:
        check_window(rules, ctx.today())
    except ValidationError as exc:
        out.append(FieldError(exc.field or "date", exc.message, exc.value))
    if minutes is None:
        minutes = _account(ctx, v.id)[1]
    if rules.redeem_min_hours and minutes < rules.redeem_min_hours * 60:
        out.append(FieldError("volunteer_id", f"累计服务满 {rules.redeem_min_hours} 小时方可兑换，"
                                              f"“{v.name}”目前 {hours_text(minutes)} 小时。", volunteer_id))
    return out


@guard_busy
def redeem(ctx: ServiceContext, volunteer_id: int, items: dict[int, int] | Sequence[tuple[int, int]],
           note: str = "") -> RedemptionOrder:
    """Redeem items for points in one transaction: points debited and every item's stock debited with
    guarded statements, the order, its lines, the points entry and the stock moves recorded. Any
    refusal (balance, stock, threshold, window, limit) raises before the caller commits."""
    ctx.actor.require(P_REDEEM)
    s = ctx.session
    wanted: dict[int, int] = {}
    for item_id, qty in (items.items() if isinstance(items, dict) else items):
        wanted[int(item_id)] = wanted.get(int(item_id), 0) + _positive(qty, "兑换数量")
    if not wanted:
        raise ValidationError("请至少选择一件物品。", "items")
    v = get_volunteer(ctx, volunteer_id)
    raise_if(redeem_eligibility(ctx, v.id))
    catalogue = {}
    area_id = None
    for item_id in sorted(wanted):  # fixed order: two orders never lock items crosswise
        item = get_item(ctx, item_id)
        if not item.active:
            raise ValidationError(f"“{item.name}”已下架。", "items", item_id)
        catalogue[item_id] = (item.name, item.points_price, item.per_person_limit, item.limit_period)
        area_id = area_id or item.area_id
    total = sum(catalogue[i][1] * q for i, q in wanted.items())
    order = RedemptionOrder(volunteer_id=v.id, area_id=area_id, at=ctx.now(), total_points=total, status="done",
                            handled_by=ctx.actor.user_id, cancel_reason="")
    s.add(order)
    s.flush()
    # The guarded debit of the balance comes first: it also serialises this volunteer's redemptions,
    # so the per-person limits below are counted with every earlier redemption visible.
    _post_points(ctx, v.id, -total, "redeem", note or "爱心超市兑换", order_id=order.id)
    for item_id in sorted(wanted):
        name, price, limit, period = catalogue[item_id]
        qty = wanted[item_id]
        if limit:
            q = (select(func.coalesce(func.sum(RedemptionLine.quantity), 0))
                 .join(RedemptionOrder, RedemptionOrder.id == RedemptionLine.order_id)
                 .where(RedemptionOrder.volunteer_id == v.id, RedemptionOrder.status == "done",
                        RedemptionLine.item_id == item_id, RedemptionOrder.id != order.id))
            start = _period_start(period, ctx.today())
            if start is not None:
                q = q.where(RedemptionOrder.at >= start)
            had = int(s.execute(q).scalar() or 0)
            if had + qty > limit:
                label = LIMIT_PERIODS.get(period, "")
                raise ValidationError(f"“{name}”每人{label if period != 'none' else ''}限兑 {limit} 件，"
                                      f"“{v.name}”已兑 {had} 件，本次最多还能兑 {max(limit - had, 0)} 件。", "items", item_id)
        s.add(RedemptionLine(order_id=order.id, item_id=item_id, quantity=qty, points_price=price))
        _move(ctx, item_id, -qty, "redeem", f"兑换给 {v.name}（{v.number}）", order_id=order.id)
    s.flush()
    s.refresh(order, ["lines"])
    return order


@dataclass(frozen=True)
class Receipt:
    """What a 兑换单 prints: the order as it was made, read back from the database."""

    order_id: int
    at: datetime
    volunteer_name: str
    volunteer_number: str
    area_name: str
    lines: tuple[tuple[str, str, int, int], ...]    # (item, unit, points each, quantity)
    total_points: int
    balance_after: int | None                       # the points balance the redemption left
    handler: str
    status: str
    cancel_reason: str


def receipt(ctx: ServiceContext, order_id: int) -> Receipt:
    """A redemption in scope as its 兑换单 prints it (reprinted any time; a cancelled one says so)."""
    ctx.actor.require(P_VIEW)
    order = ctx.session.get(RedemptionOrder, order_id)
    area = ctx.session.get(Area, order.area_id) if order is not None else None
    if order is None or area is None or not ctx.actor.in_scope(area.path):
        raise NotFound(f"兑换单（编号 {order_id}）不存在或不在您的管辖范围内。")
    v = ctx.session.get(Volunteer, order.volunteer_id)
    assert v is not None   # a foreign key
    items = {i: (name, unit) for i, name, unit in ctx.session.execute(
        select(RewardItem.id, RewardItem.name, RewardItem.unit)
        .where(RewardItem.id.in_([ln.item_id for ln in order.lines])))}
    balance = ctx.session.scalar(select(PointsEntry.balance_after).where(PointsEntry.order_id == order.id,
                                                                         PointsEntry.kind == "redeem"))
    handler = ctx.session.scalar(select(User.display_name).where(User.id == order.handled_by)) if order.handled_by else ""
    return Receipt(order.id, order.at, v.name, v.number, area.name,
                   tuple((items[ln.item_id][0], items[ln.item_id][1] or "件", ln.points_price, ln.quantity)
                         for ln in order.lines),
                   order.total_points, balance, handler or "", order.status, order.cancel_reason)


@guard_busy
def cancel_redemption(ctx: ServiceContext, order_id: int, reason: str) -> RedemptionOrder:
    """Undo a redemption: points refunded and stock returned, each as a new entry; the order is marked
    cancelled by a guarded statement so two desktops can never cancel it twice."""
    ctx.actor.require(P_REDEEM)
    reason = _text(reason, "撤销原因", "reason", max_len=200)
    s = ctx.session
    order = s.get(RedemptionOrder, order_id)
    if order is None:
        raise NotFound(f"兑换单（编号 {order_id}）不存在。")
    v = get_volunteer(ctx, order.volunteer_id)
    res = s.execute(update(ORDERS).where(ORDERS.c.id == order_id, ORDERS.c.status == "done")
                    .values(status="cancelled", cancelled_at=ctx.now(), cancel_reason=reason))
    if cast(CursorResult, res).rowcount != 1:
        raise ConflictError(f"兑换单 {order_id} 已经撤销过，不能重复撤销。")
    _post_points(ctx, v.id, order.total_points, "refund", f"撤销兑换单 {order_id}：{reason}", order_id=order_id)
    for line in sorted(order.lines, key=lambda ln: ln.item_id):
        _move(ctx, line.item_id, line.quantity, "cancel", f"撤销兑换单 {order_id}：{reason}", order_id=order_id)
    _audit(ctx, "redeem_cancel", "volunteer_redemptions", order_id,
           f"撤销兑换单 {order_id}（{v.name}，{order.total_points} 分）：{reason}",
           points=order.total_points, reason=reason)
    s.refresh(order)
    return order


def list_orders(ctx: ServiceContext, volunteer_id: int | None = None, limit: int = 200) -> list[RedemptionOrder]:
    ctx.actor.require(P_VIEW)
    q = select(RedemptionOrder).where(scope_filter(RedemptionOrder.area_id, ctx.actor))
    if volunteer_id is not None:
        q = q.where(RedemptionOrder.volunteer_id == volunteer_id)
    return list(ctx.session.scalars(q.order_by(RedemptionOrder.id.desc()).limit(limit)))


@dataclass
class OrderRow:
    order_id: int
    at: datetime
    volunteer_name: str
    volunteer_number: str
    area_name: str
    items: str
    total_points: int
    status: str
    cancel_reason: str


def order_rows(ctx: ServiceContext, text: str = "", limit: int = 200) -> list[OrderRow]:
    """The latest redemptions in scope (newest first) with the volunteer and the items as text;
    ``text`` filters by volunteer name, 志愿者编号 or 兑换单号. Plain columns and one query for the
    lines of the listed orders (no ORM objects)."""
    ctx.actor.require(P_VIEW)
    q = (select(ORDERS.c.id, ORDERS.c.at, Volunteer.name, Volunteer.number, Area.name, ORDERS.c.total_points,
                ORDERS.c.status, ORDERS.c.cancel_reason)
         .join(Volunteer, Volunteer.id == ORDERS.c.volunteer_id).join(Area, Area.id == ORDERS.c.area_id)
         .where(scope_filter(ORDERS.c.area_id, ctx.actor)))
    text = (text or "").strip()
    if text:
        conds = [Volunteer.name.contains(text), Volunteer.number == text.upper()]
        if text.isdigit():
            conds.append(ORDERS.c.id == int(text))
        q = q.where(or_(*conds))
    rows = ctx.session.execute(q.order_by(ORDERS.c.id.desc()).limit(limit)).all()
    items: dict[int, list[str]] = {}
    if rows:
        lines = (select(RedemptionLine.order_id, RewardItem.name, RedemptionLine.quantity)
                 .join(RewardItem, RewardItem.id == RedemptionLine.item_id)
                 .where(RedemptionLine.order_id.in_([r[0] for r in rows])).order_by(RedemptionLine.id))
        for order_id, name, qty in ctx.session.execute(lines):
            items.setdefault(order_id, []).append(f"{name}×{qty}")
    return [OrderRow(oid, at, vname, vnum, area, "；".join(items.get(oid, ())), total, status, reason or "")
            for oid, at, vname, vnum, area, total, status, reason in rows]


@dataclass
class ItemRow:
    item_id: int
    area_name: str
    name: str
    unit: str
    price: int
    stock: int
    limit: int
    period: str
    active: bool
    version_id: int


def item_rows(ctx: ServiceContext) -> list[ItemRow]:
    """Every catalogue item in scope (on sale or not) with its store's community, stock as stored now."""
    ctx.actor.require(P_VIEW)
    q = (select(ITEMS.c.id, Area.name, ITEMS.c.name, ITEMS.c.unit, ITEMS.c.points_price, ITEMS.c.stock,
                ITEMS.c.per_person_limit, ITEMS.c.limit_period, ITEMS.c.active, ITEMS.c.version_id)
         .join(Area, Area.id == ITEMS.c.area_id).where(scope_filter(ITEMS.c.area_id, ctx.actor))
         .order_by(Area.sort_order, Area.id, ITEMS.c.points_price, ITEMS.c.id))
    return [ItemRow(*row) for row in ctx.session.execute(q)]


def set_item_active(ctx: ServiceContext, item_id: int, active: bool, expected_version: int | None = None) -> RewardItem:
    """上架 / 下架 an item; its stock and history stay."""
    from shell.core.locking import check_version, flush_or_conflict

    ctx.actor.require(P_STORE)
    item = get_item(ctx, item_id)
    check_version(ctx.session, item, expected_version, "爱心超市物品")
    item.active = bool(active)
    flush_or_conflict(ctx.session, item, "爱心超市物品")
    return item


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
