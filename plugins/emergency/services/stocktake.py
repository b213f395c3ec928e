"""Stock-taking (盘点): open, count, post, cancel."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, literal, select

from shell.core import personal as _personal
from shell.core.context import ServiceContext
from shell.core.locking import flush_or_conflict
from shell.core.scope import get_in_scope
from shell.errors import NotFound, ValidationError

from ..models import (
    Batch,
    Item,
    StockMove,
    Stocktake,
    StocktakeLine,
)
from .catalog import _warehouse
from .common import _text
from .ledger import _write_move

# ----------------------------------------------------------------------------- stock-taking

def open_stocktake(ctx: ServiceContext, warehouse_id: int, counted_by: str | None = None,
                   note: str | None = None) -> Stocktake:
    """Open a count: every batch with stock is snapshotted as a line with its expected quantity."""
    ctx.actor.require("emergency.stocktake")
    wh = _warehouse(ctx, warehouse_id)
    if ctx.session.scalar(select(Stocktake.id).where(Stocktake.warehouse_id == wh.id, Stocktake.status == "open")):
        raise ValidationError(f"仓库“{wh.name}”已有一张未完成的盘点单，请先过账或作废。", "warehouse_id", warehouse_id)
    take = Stocktake(warehouse_id=wh.id, status="open", opened_on=ctx.today(),
                     counted_by=_text(counted_by, "counted_by", "盘点人", False),
                     note=_text(note, "note", "备注", False, 200), created_by=ctx.actor.user_id)
    ctx.session.add(take)
    ctx.session.flush()
    # one INSERT … SELECT: a street reserve holds hundreds of batches (the count is audited, its
    # snapshot lines are data of the count, not changes of their own)
    ctx.session.execute(insert(StocktakeLine).from_select(
        ["stocktake_id", "batch_id", "expected_qty"],
        select(literal(take.id), Batch.id, Batch.qty).where(Batch.warehouse_id == wh.id, Batch.qty > 0)
        .order_by(Batch.id)))
    return take


def current_stocktake(ctx: ServiceContext, warehouse_id: int) -> Stocktake | None:
    """The warehouse's count still in progress (at most one), or None. Read-only."""
    ctx.actor.require("emergency.view")
    _warehouse(ctx, warehouse_id)
    return ctx.session.scalar(select(Stocktake).where(Stocktake.warehouse_id == warehouse_id,
                                                      Stocktake.status == "open"))


def record_counts(ctx: ServiceContext, stocktake_id: int, counts: dict[int, tuple[int | None, str | None]]
                  ) -> int:
    """Save several counted quantities at once ({batch id: (counted or None, note)}); a None count is
    left untouched. Returns how many lines were saved. All or nothing (one transaction)."""
    ctx.actor.require("emergency.stocktake")
    _open_take(ctx, stocktake_id)  # refused for a closed count or one out of scope, even with nothing to save
    saved = 0
    for batch_id, (counted, note) in counts.items():
        if counted is None:
            continue
        record_count(ctx, stocktake_id, batch_id, counted, note)
        saved += 1
    return saved


def _open_take(ctx: ServiceContext, stocktake_id: int) -> Stocktake:
    take = get_in_scope(ctx, Stocktake, stocktake_id, "盘点单")
    _warehouse(ctx, take.warehouse_id)
    if take.status != "open":
        raise ValidationError(f"盘点单 {take.id} 已{STOCKTAKE_LABEL[take.status]}，不能再修改。", "stocktake_id", stocktake_id)
    return take


STOCKTAKE_LABEL = {"open": "在盘点中", "posted": "过账", "cancelled": "作废"}


def stocktake_lines(ctx: ServiceContext, stocktake_id: int) -> list[tuple[StocktakeLine, Batch, Item]]:
    ctx.actor.require("emergency.view")
    take = get_in_scope(ctx, Stocktake, stocktake_id, "盘点单")
    _warehouse(ctx, take.warehouse_id)
    return [(line, batch, item) for line, batch, item in ctx.session.execute(
        select(StocktakeLine, Batch, Item).join(Batch, Batch.id == StocktakeLine.batch_id)
        .join(Item, Item.id == Batch.item_id).where(StocktakeLine.stocktake_id == stocktake_id)
        .order_by(Item.code, Item.name, Batch.expiry_date, Batch.id))]


@dataclass(frozen=True)
class SheetLine:
    """One line of the 盘点 screen (plain values, no ORM rows)."""
    batch_id: int
    code: str
    name: str
    spec: str
    unit: str
    batch_no: str
    expiry_date: date | None
    expected_qty: int
    counted_qty: int | None
    note: str | None


def stocktake_sheet(ctx: ServiceContext, stocktake_id: int) -> list[SheetLine]:
    """The lines of a count in sheet order (item code, name, expiry), as plain rows. Read-only."""
    ctx.actor.require("emergency.view")
    take = get_in_scope(ctx, Stocktake, stocktake_id, "盘点单")
    _warehouse(ctx, take.warehouse_id)
    return [SheetLine(*r) for r in ctx.session.execute(  # type: ignore[call-arg]  # ten columns, ten fields
        select(Batch.id, Item.code, Item.name, Item.spec, Item.unit, Batch.batch_no, Batch.expiry_date,
               StocktakeLine.expected_qty, StocktakeLine.counted_qty, StocktakeLine.note)
        .join(Batch, Batch.id == StocktakeLine.batch_id).join(Item, Item.id == Batch.item_id)
        .where(StocktakeLine.stocktake_id == stocktake_id)
        .order_by(Item.code, Item.name, Batch.expiry_date, Batch.id))]


def record_count(ctx: ServiceContext, stocktake_id: int, batch_id: int, counted_qty: int,
                 note: str | None = None) -> StocktakeLine:
    ctx.actor.require("emergency.stocktake")
    _open_take(ctx, stocktake_id)
    if isinstance(counted_qty, bool) or not isinstance(counted_qty, int) or counted_qty < 0:
        raise ValidationError(f"实盘数量应为不小于 0 的整数（填写的是“{counted_qty}”）。", "counted_qty", counted_qty)
    line = ctx.session.scalar(select(StocktakeLine).where(StocktakeLine.stocktake_id == stocktake_id,
                                                          StocktakeLine.batch_id == batch_id))
    if line is None:
        raise NotFound(f"批次 {batch_id} 不在这张盘点单中。盘点中发现的新批次请先办理入库。")
    line.counted_qty = counted_qty
    line.note = _text(note, "note", "备注", False, 200)
    ctx.session.flush()
    return line


def post_stocktake(ctx: ServiceContext, stocktake_id: int) -> list[StockMove]:
    """Book each difference (counted − expected) as a 盘点差异 move. Refused while lines are not
    counted, or when a batch moved after the count was opened (count again in that case)."""
    ctx.actor.require("emergency.stocktake")
    take = _open_take(ctx, stocktake_id)
    rows = stocktake_lines(ctx, stocktake_id)
    missing = [r for r in rows if r[0].counted_qty is None]
    if missing:
        names = "、".join(f"{item.name}（{batch.batch_no}）" for _l, batch, item in missing[:5])
        raise ValidationError(f"还有 {len(missing)} 项未录入实盘数量：{names}{' 等' if len(missing) > 5 else ''}。",
                              "counted_qty")
    ctx.session.expire_all()
    now = dict(ctx.session.execute(select(Batch.id, Batch.qty).join(StocktakeLine, StocktakeLine.batch_id == Batch.id)
                                   .where(StocktakeLine.stocktake_id == stocktake_id)).all())
    changed = [(item, batch) for line, batch, item in rows if now.get(batch.id) != line.expected_qty]
    if changed:
        names = "、".join(f"{item.name}（{batch.batch_no}）" for item, batch in changed[:5])
        raise ValidationError(f"盘点开始后这些批次又有出入库：{names}。账面数已变，请作废本单后重新盘点。", "stocktake_id")
    moves = []
    for line, batch, _item in sorted(rows, key=lambda r: r[1].id):
        assert line.counted_qty is not None  # every line counted: checked above
        diff = line.counted_qty - line.expected_qty
        if diff:
            moves.append(_write_move(ctx, batch, "stocktake", diff, reason="盘盈" if diff > 0 else "盘亏",
                                     note=line.note, doc_no=f"PD{take.id:06d}", stocktake_id=take.id))
    take.status, take.posted_at = "posted", ctx.now()
    flush_or_conflict(ctx.session, take, "盘点单")
    return moves


def cancel_stocktake(ctx: ServiceContext, stocktake_id: int) -> Stocktake:
    ctx.actor.require("emergency.stocktake")
    take = _open_take(ctx, stocktake_id)
    take.status = "cancelled"
    flush_or_conflict(ctx.session, take, "盘点单")
    return take


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
