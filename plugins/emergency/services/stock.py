"""Stock views and alerts: overview, below minimum, expiry, per-warehouse, move summary."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext

from ..models import (
    Batch,
    Item,
    MinStock,
    StockMove,
    Warehouse,
)
from .catalog import _item_matches, _item_text_filter, _warehouse, list_warehouses
from .settings import alert_days

# ----------------------------------------------------------------------------- stock view & alerts

@dataclass(frozen=True)
class StockRow:
    warehouse_id: int
    warehouse: str
    item_id: int
    code: str
    name: str
    spec: str
    unit: str
    usable: int          # unexpired quantity
    expired: int         # quantity in expired batches
    min_qty: int | None
    nearest_expiry: date | None

    @property
    def below_minimum(self) -> bool:
        return self.min_qty is not None and self.usable < self.min_qty


def stock_overview(ctx: ServiceContext, warehouse_id: int | None = None, text: str = "",
                   only_alerts: bool = False) -> list[StockRow]:
    """Per warehouse and item: usable and expired quantity, minimum, nearest expiry. Items with a
    minimum but no stock appear too (quantity 0)."""
    ctx.actor.require("emergency.view")
    today = ctx.today()
    usable_expr = func.sum(case((or_(Batch.expiry_date.is_(None), Batch.expiry_date >= today), Batch.qty), else_=0))
    expired_expr = func.sum(case((and_(Batch.expiry_date.is_not(None), Batch.expiry_date < today), Batch.qty), else_=0))
    nearest = func.min(case((and_(Batch.qty > 0, Batch.expiry_date >= today), Batch.expiry_date), else_=None))
    stock_q = select(Batch.warehouse_id, Batch.item_id, usable_expr.label("usable"), expired_expr.label("expired"),
                     nearest.label("nearest"))
    min_q = select(MinStock.warehouse_id, MinStock.item_id)
    if warehouse_id is not None:    # filter inside the grouping: one warehouse, not all of them
        stock_q = stock_q.where(Batch.warehouse_id == warehouse_id)
        min_q = min_q.where(MinStock.warehouse_id == warehouse_id)
    stock = stock_q.group_by(Batch.warehouse_id, Batch.item_id).subquery()
    keys = select(stock.c.warehouse_id, stock.c.item_id).union(min_q).subquery()
    q = (select(Warehouse.id, Warehouse.name, Item.id, Item.code, Item.name, Item.spec, Item.unit,
                func.coalesce(stock.c.usable, 0), func.coalesce(stock.c.expired, 0), MinStock.min_qty,
                stock.c.nearest)
         .select_from(keys)
         .join(Warehouse, Warehouse.id == keys.c.warehouse_id)
         .join(Item, Item.id == keys.c.item_id)
         .outerjoin(stock, and_(stock.c.warehouse_id == keys.c.warehouse_id, stock.c.item_id == keys.c.item_id))
         .outerjoin(MinStock, and_(MinStock.warehouse_id == keys.c.warehouse_id, MinStock.item_id == keys.c.item_id))
         .where(scope_filter(Warehouse.area_id, ctx.actor))
         .order_by(Warehouse.id, Item.code, Item.name))
    if warehouse_id is not None:
        q = q.where(Warehouse.id == warehouse_id)
    text = (text or "").strip()
    if text:
        q = q.where(_item_text_filter(ctx, text))
    rows = [StockRow(*r) for r in ctx.session.execute(q)]
    if only_alerts:
        limit = today + timedelta(days=alert_days(ctx)[2])
        rows = [r for r in rows if r.below_minimum or r.expired
                or (r.nearest_expiry is not None and r.nearest_expiry <= limit)]
    return rows


def below_minimum(ctx: ServiceContext, warehouse_id: int | None = None) -> list[StockRow]:
    return [r for r in stock_overview(ctx, warehouse_id) if r.below_minimum]


@dataclass(frozen=True)
class ExpiryAlert:
    batch_id: int
    warehouse: str
    code: str
    name: str
    batch_no: str
    expiry_date: date
    qty: int
    days_left: int       # negative: already expired
    band: int            # 0 = expired, else the alert threshold (30 / 60 / 90) it falls within


def expiry_band(days_left: int, bands: Sequence[int]) -> int | None:
    """0 when expired (days_left < 0); the smallest threshold with days_left <= threshold; else None.
    The day of expiry itself (days_left == 0) is still usable and falls in the first band."""
    if days_left < 0:
        return 0
    for b in sorted(bands):
        if days_left <= b:
            return b
    return None


def expiry_alerts(ctx: ServiceContext, warehouse_id: int | None = None) -> list[ExpiryAlert]:
    ctx.actor.require("emergency.view")
    today = ctx.today()
    bands = alert_days(ctx)
    q = (select(Batch.id, Warehouse.name, Item.code, Item.name, Batch.batch_no, Batch.expiry_date, Batch.qty)
         .join(Warehouse, Warehouse.id == Batch.warehouse_id).join(Item, Item.id == Batch.item_id)
         .where(Batch.qty > 0, Batch.expiry_date.is_not(None), Batch.expiry_date <= today + timedelta(days=bands[2]),
                scope_filter(Warehouse.area_id, ctx.actor))
         .order_by(Batch.expiry_date, Batch.id))
    if warehouse_id is not None:
        q = q.where(Batch.warehouse_id == warehouse_id)
    out = []
    for bid, wh, code, name, no, exp, qty in ctx.session.execute(q):
        assert exp is not None  # the query reads expiry_date IS NOT NULL
        days = (exp - today).days
        band = expiry_band(days, bands)
        assert band is not None  # the query stops at the last band
        out.append(ExpiryAlert(bid, wh, code, name, no, exp, qty, days, band))
    return out


def batches(ctx: ServiceContext, warehouse_id: int, item_id: int | None = None, include_empty: bool = False
            ) -> list[Batch]:
    ctx.actor.require("emergency.view")
    _warehouse(ctx, warehouse_id)
    q = select(Batch).where(Batch.warehouse_id == warehouse_id)
    if item_id is not None:
        q = q.where(Batch.item_id == item_id)
    if not include_empty:
        q = q.where(Batch.qty > 0)
    return list(ctx.session.scalars(q.order_by(Batch.item_id, Batch.expiry_date, Batch.id)))


@dataclass(frozen=True)
class BatchStockRow:
    """One line of the 应急物资 page: a batch with stock, or (``batch_id`` None) an item that has a
    minimum but no stock left in the warehouse. Item-level figures repeat on each of its batches."""
    item_id: int
    code: str
    name: str
    spec: str
    unit: str
    batch_id: int | None
    batch_no: str | None
    expiry_date: date | None
    qty: int
    min_qty: int | None
    item_usable: int     # unexpired quantity of the item in the warehouse
    days_left: int | None
    band: int | None     # as expiry_band: 0 expired, 30 / 60 / 90, None no alert
    warehouse_id: int | None = None    # filled where a list spans warehouses (stock_alert_rows)
    warehouse: str = ""

    @property
    def below_minimum(self) -> bool:
        return self.min_qty is not None and self.item_usable < self.min_qty


def warehouse_stock(ctx: ServiceContext, warehouse_id: int, text: str = "") -> list[BatchStockRow]:
    """Batches with stock in one warehouse (item code, then expiry; no expiry date last), filtered by
    item code prefix or name, plus items with a minimum and nothing in stock. Read-only."""
    ctx.actor.require("emergency.view")
    _warehouse(ctx, warehouse_id)
    return _warehouse_rows(ctx, warehouse_id, stock_overview(ctx, warehouse_id, text), alert_days(ctx))


def _warehouse_rows(ctx: ServiceContext, warehouse_id: int, overview: list[StockRow], bands,
                    warehouse: str = "") -> list[BatchStockRow]:
    today = ctx.today()
    items = {r.item_id: r for r in overview}
    if not items:
        return []
    # plain columns, not ORM rows: the page shows hundreds of batches and builds its own records
    q = (select(Batch.id, Batch.item_id, Batch.batch_no, Batch.expiry_date, Batch.qty)
         .where(Batch.warehouse_id == warehouse_id, Batch.qty > 0)
         .order_by(Batch.item_id, Batch.expiry_date.is_(None), Batch.expiry_date, Batch.id))
    if len(items) < 500:
        q = q.where(Batch.item_id.in_(list(items)))
    by_item: dict[int, list] = {}
    for b in ctx.session.execute(q):
        if b.item_id in items:
            by_item.setdefault(b.item_id, []).append(b)
    out: list[BatchStockRow] = []
    for r in items.values():            # already ordered by item code, name
        found = by_item.get(r.item_id, [])
        if not found:
            if r.min_qty is not None:
                out.append(BatchStockRow(r.item_id, r.code, r.name, r.spec, r.unit, None, None, None, 0, r.min_qty,
                                         r.usable, None, None, warehouse_id, warehouse))
            continue
        for b in found:
            days = None if b.expiry_date is None else (b.expiry_date - today).days
            out.append(BatchStockRow(r.item_id, r.code, r.name, r.spec, r.unit, b.id, b.batch_no, b.expiry_date, b.qty,
                                     r.min_qty, r.usable, days, None if days is None else expiry_band(days, bands),
                                     warehouse_id, warehouse))
    return out


# The cross-warehouse lists the 应急物资 page shows from 我的待办 (stock_alert_rows).
STOCK_ALERTS = {"below_min": "低于最低库存的物资", "expiring": "已过期或临期的批次"}


def stock_alert_rows(ctx: ServiceContext, alert: str) -> list[BatchStockRow]:
    """The 应急物资 page's lines across every warehouse in scope for one of STOCK_ALERTS:
    "below_min" — every line of each item below its minimum (the items of ``below_minimum``);
    "expiring" — the batches expired or within the first alert band (as ``alerts_by_warehouse``
    counts them). Warehouse by warehouse, each line naming its
    warehouse. Read-only."""
    from shell.errors import ValidationError

    ctx.actor.require("emergency.view")
    if alert not in STOCK_ALERTS:
        raise ValidationError(f"库存预警“{alert}”无效。", "alert", alert)
    bands = alert_days(ctx)
    limit = ctx.today() + timedelta(days=bands[0])
    by_warehouse: dict[int, list[StockRow]] = {}
    for r in stock_overview(ctx):
        wanted = (r.below_minimum if alert == "below_min"
                  else r.expired > 0 or (r.nearest_expiry is not None and r.nearest_expiry <= limit))
        if wanted:
            by_warehouse.setdefault(r.warehouse_id, []).append(r)
    out: list[BatchStockRow] = []
    for warehouse_id, rows in by_warehouse.items():
        lines = _warehouse_rows(ctx, warehouse_id, rows, bands, rows[0].warehouse)
        if alert == "expiring":
            lines = [line for line in lines if line.band in (0, bands[0])]
        out.extend(lines)
    return out


@dataclass(frozen=True)
class StockAlertSummary:
    bands: tuple[int, int, int]
    below_minimum: int       # items
    expired: int             # batches with stock past their expiry date
    expiring: tuple[int, ...]   # batches in each band (0–30, 31–60, 61–90 days with default settings)


def stock_alert_summary(ctx: ServiceContext, warehouse_id: int) -> StockAlertSummary:
    """Counts for the 应急物资 summary line of one warehouse. Read-only."""
    ctx.actor.require("emergency.view")
    _warehouse(ctx, warehouse_id)
    bands = alert_days(ctx)
    alerts = expiry_alerts(ctx, warehouse_id)
    return StockAlertSummary(bands, len(below_minimum(ctx, warehouse_id)), sum(a.band == 0 for a in alerts),
                             tuple(sum(a.band == b for a in alerts) for b in bands))


def stock_view(ctx: ServiceContext, warehouse_id: int, text: str = "") -> tuple[list[BatchStockRow], StockAlertSummary]:
    """What the 应急物资 page shows for one warehouse: ``warehouse_stock`` and ``stock_alert_summary``
    from one pass over the warehouse (the summary is derived from the unfiltered rows rather than
    grouped again). Read-only."""
    ctx.actor.require("emergency.view")
    _warehouse(ctx, warehouse_id)
    bands = alert_days(ctx)
    text = (text or "").strip()
    overview = stock_overview(ctx, warehouse_id)
    rows = _warehouse_rows(ctx, warehouse_id, overview, bands)
    below = sum(1 for r in overview if r.below_minimum)
    alerts = [r.band for r in rows if r.band is not None]
    summary = StockAlertSummary(bands, below, sum(b == 0 for b in alerts), tuple(sum(a == b for a in alerts)
                                                                                  for b in bands))
    if text:
        keep = {r.item_id for r in overview if _item_matches(r.code, r.name, text)}
        rows = [r for r in rows if r.item_id in keep]
    return rows, summary


@dataclass(frozen=True)
class MoveSummaryRow:
    """Receipts, issues and corrections of one item over a period (物资收发汇总)."""
    item_id: int
    code: str
    name: str
    spec: str
    unit: str
    received: int        # 入库 (deliveries)
    issued: int          # 出库 (handed out), positive
    transferred_in: int
    transferred_out: int  # positive
    adjusted: int        # 调整 and 盘点差异, signed
    moves: int

    @property
    def net(self) -> int:
        return self.received - self.issued + self.transferred_in - self.transferred_out + self.adjusted


def move_summary(ctx: ServiceContext, start: date, end: date, warehouse_id: int | None = None) -> list[MoveSummaryRow]:
    """Per item, from ``start`` to ``end`` (local dates, inclusive): received, issued, transferred in and
    out, adjusted — one grouped query over the stock moves of the period. Read-only."""
    from datetime import datetime, time

    from shell.clock import LOCAL_TZ

    ctx.actor.require("emergency.view")
    t0 = datetime.combine(start, time.min, LOCAL_TZ)
    t1 = datetime.combine(end + timedelta(days=1), time.min, LOCAL_TZ)

    def total(*kinds, sign=1):
        return func.sum(case((StockMove.kind.in_(kinds), sign * StockMove.qty), else_=0))

    sums = (select(StockMove.item_id, total("in"), total("out", sign=-1), total("transfer_in"),
                   total("transfer_out", sign=-1), total("adjust", "stocktake"), func.count())
            .where(StockMove.occurred_at >= t0, StockMove.occurred_at < t1))
    if warehouse_id is not None:
        _warehouse(ctx, warehouse_id)
        sums = sums.where(StockMove.warehouse_id == warehouse_id)
    if not ctx.actor.is_superuser:
        sums = sums.where(StockMove.warehouse_id.in_(select(Warehouse.id).where(scope_filter(Warehouse.area_id,
                                                                                            ctx.actor))))
    grouped = sums.group_by(StockMove.item_id).subquery()
    q = (select(Item.id, Item.code, Item.name, Item.spec, Item.unit, *list(grouped.c)[1:])
         .join(grouped, grouped.c.item_id == Item.id).order_by(Item.code, Item.name, Item.id))
    return [MoveSummaryRow(*r) for r in ctx.session.execute(q)]


@dataclass(frozen=True)
class WarehouseAlerts:
    warehouse_id: int
    warehouse: str
    items: int               # items held or with a minimum
    below_minimum: int       # items
    expired: int             # batches with stock past expiry
    expiring: int            # batches with stock expiring within the first band (30 days)


def alerts_by_warehouse(ctx: ServiceContext) -> list[WarehouseAlerts]:
    """Per visible warehouse: items below minimum, expired batches and batches in the first alert
    band — the dashboard's 库存与预警 chart. Two grouped queries over all warehouses. Read-only."""
    ctx.actor.require("emergency.view")
    today = ctx.today()
    limit = today + timedelta(days=alert_days(ctx)[0])
    # counted in the database (stock_overview per row built 9,000 records in Python for 30 × 300)
    keys = select(Batch.warehouse_id, Batch.item_id).union(select(MinStock.warehouse_id, MinStock.item_id)).subquery()
    items: dict[int, int] = dict(ctx.session.execute(select(keys.c.warehouse_id, func.count())
                                                     .group_by(keys.c.warehouse_id)).all())
    usable = (select(Batch.warehouse_id, Batch.item_id,
                     func.sum(case((or_(Batch.expiry_date.is_(None), Batch.expiry_date >= today), Batch.qty),
                                   else_=0)).label("usable"))
              .group_by(Batch.warehouse_id, Batch.item_id).subquery())
    below = dict(ctx.session.execute(
        select(MinStock.warehouse_id, func.count())
        .outerjoin(usable, and_(usable.c.warehouse_id == MinStock.warehouse_id, usable.c.item_id == MinStock.item_id))
        .where(func.coalesce(usable.c.usable, 0) < MinStock.min_qty).group_by(MinStock.warehouse_id)).all())
    expired = case((Batch.expiry_date < today, 1), else_=0)
    counts = {(wid, bool(e)): n for wid, e, n in ctx.session.execute(
        select(Batch.warehouse_id, expired, func.count()).where(Batch.qty > 0, Batch.expiry_date.is_not(None),
                                                                Batch.expiry_date <= limit)
        .group_by(Batch.warehouse_id, expired))}
    return [WarehouseAlerts(wh.id, wh.name, items.get(wh.id, 0), below.get(wh.id, 0), counts.get((wh.id, True), 0),
                            counts.get((wh.id, False), 0)) for wh in list_warehouses(ctx)]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
