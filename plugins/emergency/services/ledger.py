"""The stock ledger: batches, receipts, issues (FEFO), transfers, adjustments."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from shell.core import audit
from shell.core import personal as _personal
from shell.core.context import ServiceContext
from shell.core.scope import get_in_scope
from shell.db.retry import is_busy
from shell.errors import BusyError, NotFound, ValidationError, ValidationErrors

from ..models import (
    ADJUST_REASONS,
    MOVE_KINDS,
    Batch,
    Item,
    StockMove,
    Warehouse,
)
from ..validation import clean_receipt
from .catalog import _warehouse
from .common import _choice, _positive_int, _text

# ----------------------------------------------------------------------------- the stock ledger

class StockError(ValidationError):
    """A refused stock operation (not enough stock, expired batch …)."""


class ExpiredReceipt(ValidationErrors, StockError):
    """A delivery refused because it has expired, with the delivery's other field errors."""


def is_expired(batch: Batch, today: date) -> bool:
    return batch.expiry_date is not None and batch.expiry_date < today


def _db_call(ctx: ServiceContext, fn, *args):
    """Run one statement; a database that stays busy (shell.db.retry.is_busy: SQLite lock beyond
    busy_timeout, PostgreSQL deadlock or serialization failure) rolls the transaction back and becomes
    a BusyError, which run_with_retry may try again: the stock did not change."""
    try:
        return fn(*args)
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, IntegrityError) or not is_busy(exc):
            raise
        ctx.session.rollback()
        raise BusyError("数据库正忙（其他电脑正在出入库），本次操作未生效，库存没有变化。请稍后重试。") from None


def _change_balance(ctx: ServiceContext, batch: Batch, delta: int) -> int:
    """The one place a batch balance changes: a guarded UPDATE that never takes it below zero.
    Returns the balance after the change; raises StockError (nothing changed) otherwise."""
    stmt = (update(Batch).where(Batch.id == batch.id, Batch.qty + delta >= 0)
            .values(qty=Batch.qty + delta).returning(Batch.qty)
            .execution_options(synchronize_session=False))
    after = _db_call(ctx, lambda: ctx.session.execute(stmt).scalar_one_or_none())
    if after is None:
        current = ctx.session.scalar(select(Batch.qty).where(Batch.id == batch.id).execution_options(populate_existing=True))
        item = ctx.session.get_one(Item, batch.item_id)
        raise StockError(f"库存不足：{item.name}（批次 {batch.batch_no}）现有 {current}{item.unit}，"
                         f"本次需要 {-delta}{item.unit}，库存不能为负数。", "qty", -delta)
    return after


def _write_move(ctx: ServiceContext, batch: Batch, kind: str, delta: int, *, reason=None, note=None, party=None,
                doc_no=None, stocktake_id=None) -> StockMove:
    after = _change_balance(ctx, batch, delta)
    move = StockMove(batch_id=batch.id, warehouse_id=batch.warehouse_id, item_id=batch.item_id, kind=kind, qty=delta,
                     balance_after=after, reason=reason, note=note, party=party, doc_no=doc_no,
                     stocktake_id=stocktake_id, occurred_at=ctx.now(), created_by=ctx.actor.user_id,
                     actor_name=ctx.actor.display_name or ctx.actor.username)
    ctx.session.add(move)
    _db_call(ctx, ctx.session.flush)
    ctx.session.expire(batch, ["qty"])
    # The move carries its actor and time; the audit log gets a line too, so the one audit viewer
    # shows every stock change next to every other change (issue 8).
    audit.record(ctx.session, "insert", StockMove.__tablename__, move.id,
                 f"{MOVE_KINDS.get(kind, kind)} {delta:+d}（批次 {batch.batch_no}，结存 {after}）"
                 + (f"，单号 {doc_no}" if doc_no else ""))
    return move


def _doc_no(ctx: ServiceContext, prefix: str) -> str:
    return f"{prefix}{ctx.today():%Y%m%d}-{uuid.uuid4().hex[:8].upper()}"


def _batch(ctx: ServiceContext, batch_id: int) -> Batch:
    batch = get_in_scope(ctx, Batch, batch_id, "批次")
    _warehouse(ctx, batch.warehouse_id)
    return batch


def _get_or_create_batch(ctx: ServiceContext, warehouse_id: int, item_id: int, batch_no: str,
                         production_date: date | None, expiry_date: date | None) -> Batch:
    q = select(Batch).where(Batch.warehouse_id == warehouse_id, Batch.item_id == item_id, Batch.batch_no == batch_no)
    batch = ctx.session.scalar(q)
    if batch is None:
        # INSERT … ON CONFLICT DO NOTHING: a batch another desktop created a moment ago is reused.
        if ctx.session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]  # same on_conflict_do_nothing()
        now = ctx.now()
        stmt = insert(Batch).values(warehouse_id=warehouse_id, item_id=item_id, batch_no=batch_no,
                                    production_date=production_date, expiry_date=expiry_date, qty=0,
                                    created_at=now, updated_at=now).on_conflict_do_nothing()
        _db_call(ctx, ctx.session.execute, stmt)
        batch = ctx.session.scalar(q)
        assert batch is not None  # inserted just now, or by the other desktop a moment ago
        return batch
    if (production_date and batch.production_date and production_date != batch.production_date) or \
            (expiry_date and batch.expiry_date and expiry_date != batch.expiry_date):
        raise ValidationError(
            f"批次“{batch_no}”已登记为生产日期 {batch.production_date or '—'}、有效期至 {batch.expiry_date or '—'}，"
            "与本次填写的不一致。请核对批次号或日期。", "batch_no", batch_no)
    return batch


def receive(ctx: ServiceContext, warehouse_id: int, item_id: int, qty: int, batch_no: str,
            production_date: date | None = None, expiry_date: date | None = None, party: str | None = None,
            note: str | None = None) -> StockMove:
    """Stock-in (入库) of a delivery: finds or creates the batch and books a move."""
    ctx.actor.require("emergency.stock.manage")
    wh = _warehouse(ctx, warehouse_id)
    item = get_in_scope(ctx, Item, item_id, "物资")
    values, errors = clean_receipt(dict(warehouse=wh, item_name=item.name, qty=qty, batch_no=batch_no,
                                        production_date=production_date, expiry_date=expiry_date, party=party,
                                        note=note), ctx)
    if errors:   # an expired delivery is a stock refusal, like any other the ledger makes
        raise (ExpiredReceipt if values["expired"] else ValidationErrors)(errors)
    batch = _get_or_create_batch(ctx, warehouse_id, item_id, values["batch_no"], values["production_date"],
                                 values["expiry_date"])
    return _write_move(ctx, batch, "in", values["qty"], party=values["party"], note=values["note"],
                       doc_no=_doc_no(ctx, "RK"))


def issue(ctx: ServiceContext, batch_id: int, qty: int, party: str | None = None, note: str | None = None,
          doc_no: str | None = None) -> StockMove:
    """Stock-out (出库) from one batch. Refuses expired batches and anything beyond the balance."""
    ctx.actor.require("emergency.stock.manage")
    batch = _batch(ctx, batch_id)
    qty = _positive_int(qty, "qty", "出库数量")
    if is_expired(batch, ctx.today()):
        item = ctx.session.get_one(Item, batch.item_id)
        raise StockError(f"{item.name}批次“{batch.batch_no}”已于 {batch.expiry_date} 过期，不能出库发放；"
                         "请按“过期报废”做库存调整。", "batch_id", batch_id)
    return _write_move(ctx, batch, "out", -qty, party=_text(party, "party", "领用单位/人", False),
                       note=_text(note, "note", "备注", False, 200), doc_no=doc_no or _doc_no(ctx, "CK"))


@dataclass(frozen=True)
class Allocation:
    batch_id: int
    batch_no: str
    expiry_date: date | None
    available: int
    take: int


def suggest_fefo(ctx: ServiceContext, warehouse_id: int, item_id: int, qty: int) -> list[Allocation]:
    """First-expiry-first-out: usable (unexpired, non-empty) batches by expiry date (none last),
    then by batch id. Raises StockError when the usable stock is not enough."""
    ctx.actor.require("emergency.view")
    _warehouse(ctx, warehouse_id)
    item = get_in_scope(ctx, Item, item_id, "物资")
    qty = _positive_int(qty, "qty", "数量")
    today = ctx.today()
    batches = ctx.session.scalars(
        select(Batch).where(Batch.warehouse_id == warehouse_id, Batch.item_id == item_id, Batch.qty > 0,
                            or_(Batch.expiry_date.is_(None), Batch.expiry_date >= today))
        .order_by(case((Batch.expiry_date.is_(None), 1), else_=0), Batch.expiry_date, Batch.id)
    ).all()
    out, left = [], qty
    for b in batches:
        if left <= 0:
            break
        take = min(left, b.qty)
        out.append(Allocation(b.id, b.batch_no, b.expiry_date, b.qty, take))
        left -= take
    if left > 0:
        have = qty - left
        raise StockError(f"{item.name}可发放（未过期）库存只有 {have}{item.unit}，不足 {qty}{item.unit}。", "qty", qty)
    return out


def issue_fefo(ctx: ServiceContext, warehouse_id: int, item_id: int, qty: int, party: str | None = None,
               note: str | None = None) -> list[StockMove]:
    """Issue ``qty`` of an item following the FEFO suggestion; all moves share one document number."""
    ctx.actor.require("emergency.stock.manage")
    doc = _doc_no(ctx, "CK")
    return [issue(ctx, a.batch_id, a.take, party=party, note=note, doc_no=doc)
            for a in suggest_fefo(ctx, warehouse_id, item_id, qty)]


@dataclass(frozen=True)
class IssueNote:
    """An 出库单 as it prints: every batch leg of one stock-out document."""

    doc_no: str
    at: datetime
    warehouse: str
    keeper: str
    party: str
    note: str
    handler: str
    lines: tuple[tuple[str, str, str, date | None, int, str], ...]   # code, name and spec, batch, expiry, qty, unit


def issue_note(ctx: ServiceContext, doc_no: str) -> IssueNote:
    """The stock-out document ``doc_no`` (CK…) in the actor's scope, for its 出库单 (reprinted any time)."""
    from shell.core.areas import scope_filter

    ctx.actor.require("emergency.view")
    doc_no = (doc_no or "").strip().upper()
    rows = ctx.session.execute(
        select(StockMove.occurred_at, StockMove.party, StockMove.note, StockMove.actor_name, StockMove.qty,
               Item.code, Item.name, Item.spec, Item.unit, Batch.batch_no, Batch.expiry_date, Warehouse.name,
               Warehouse.keeper)
        .join(Item, Item.id == StockMove.item_id).join(Batch, Batch.id == StockMove.batch_id)
        .join(Warehouse, Warehouse.id == StockMove.warehouse_id)
        .where(StockMove.doc_no == doc_no, StockMove.kind == "out", scope_filter(Warehouse.area_id, ctx.actor))
        .order_by(StockMove.id)).all()
    if not rows:
        raise NotFound(f"出库单“{doc_no}”不存在或不在您的管辖范围内。")
    first = rows[0]
    return IssueNote(doc_no, first.occurred_at, first[11], first.keeper or "", first.party or "", first.note or "",
                     first.actor_name or "",
                     tuple((r.code, f"{r[6]}" + (f"（{r.spec}）" if r.spec else ""), r.batch_no, r.expiry_date, -r.qty,
                            r.unit) for r in rows))


def transfer(ctx: ServiceContext, batch_id: int, to_warehouse_id: int, qty: int, note: str | None = None
             ) -> tuple[StockMove, StockMove]:
    """Transfer (调拨) part of a batch to another warehouse: two moves with one document number.
    Balances are changed in batch-id order so two opposite transfers cannot deadlock."""
    ctx.actor.require("emergency.stock.manage")
    src = _batch(ctx, batch_id)
    dest_wh = _warehouse(ctx, to_warehouse_id)
    if dest_wh.id == src.warehouse_id:
        raise ValidationError("调入仓库与调出仓库相同。", "to_warehouse_id", to_warehouse_id)
    if not dest_wh.active:
        raise ValidationError(f"仓库“{dest_wh.name}”已停用，不能调入。", "to_warehouse_id", to_warehouse_id)
    qty = _positive_int(qty, "qty", "调拨数量")
    dest = _get_or_create_batch(ctx, dest_wh.id, src.item_id, src.batch_no, src.production_date, src.expiry_date)
    ctx.session.flush()
    doc, note = _doc_no(ctx, "DB"), _text(note, "note", "备注", False, 200)
    src_wh = ctx.session.get_one(Warehouse, src.warehouse_id)
    legs = [(src, "transfer_out", -qty, dest_wh.name), (dest, "transfer_in", qty, src_wh.name)]
    moves = {}
    for batch, kind, delta, party in sorted(legs, key=lambda leg: leg[0].id):
        moves[kind] = _write_move(ctx, batch, kind, delta, party=party, note=note, doc_no=doc)
    return moves["transfer_out"], moves["transfer_in"]


def adjust(ctx: ServiceContext, batch_id: int, delta: int, reason: str, note: str | None = None) -> StockMove:
    """A correction (调整) with a reason: lost, found, damaged, expired … never an edit of a move."""
    ctx.actor.require("emergency.stock.manage")
    batch = _batch(ctx, batch_id)
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise ValidationError(f"调整数量应为非零整数（增加为正，减少为负），填写的是“{delta}”。", "qty", delta)
    reason = _choice((reason or "").strip(), ADJUST_REASONS, "reason", "调整原因")
    note = _text(note, "note", "说明", reason == "其他", 200)
    return _write_move(ctx, batch, "adjust", delta, reason=reason, note=note, doc_no=_doc_no(ctx, "TZ"))


def moves_of_batch(ctx: ServiceContext, batch_id: int) -> list[StockMove]:
    ctx.actor.require("emergency.view")
    _batch(ctx, batch_id)
    return list(ctx.session.scalars(select(StockMove).where(StockMove.batch_id == batch_id).order_by(StockMove.id)))


def check_ledger(session) -> list[tuple[int, int, int]]:
    """Batches whose stored balance differs from the sum of their moves: [(batch id, qty, sum)].
    Empty when the ledger is consistent (used by tests, the benchmark and a maintenance check)."""
    sums = select(StockMove.batch_id, func.sum(StockMove.qty).label("s")).group_by(StockMove.batch_id).subquery()
    rows = session.execute(
        select(Batch.id, Batch.qty, func.coalesce(sums.c.s, 0)).outerjoin(sums, sums.c.batch_id == Batch.id)
        .where(Batch.qty != func.coalesce(sums.c.s, 0))
    ).all()
    return [tuple(r) for r in rows]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
