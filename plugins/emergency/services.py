"""Emergency business operations (no Qt). Every function takes a ``ServiceContext`` and checks
permission and data scope itself; errors are Chinese ``JiedaoError``s.

Stock rules (ARCHITECTURE.md "Data rules", DOMAIN.md §4):
- a move is written once and never changed (services offer no edit/delete, triggers refuse both);
  corrections are new moves with a reason;
- each batch's ``qty`` changes only through ``_change_balance``: one guarded
  ``UPDATE … SET qty = qty + :d WHERE id = :id AND qty + :d >= 0 RETURNING qty`` in the same
  transaction as the move, so two desktops issuing the same batch can never take it below zero;
- an expired batch (``expiry_date`` before today) is never issued; issuing suggests
  first-expiry-first-out (batches without an expiry date last).
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, overload

from sqlalchemy import and_, case, func, insert, literal, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from shell.core import audit
from shell.core import personal as _personal
from shell.core import settings as core_settings
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import Area
from shell.errors import ConflictError, NotFound, ValidationError, ValidationErrors, raise_if

from .models import (
    ADJUST_REASONS,
    DRILL_CONTENTS,
    DRILL_FORMS,
    DRILL_PURPOSES,
    DRILL_STATUS,
    DUTY_SHIFTS,
    MOVE_KINDS,
    PLAN_CATEGORIES,
    PLAN_LEVELS,
    SHELTER_STATUS,
    TEAM_KINDS,
    Batch,
    Drill,
    DrillScore,
    DutyShift,
    Item,
    MinStock,
    Plan,
    PlanStep,
    Shelter,
    StockMove,
    Stocktake,
    StocktakeLine,
    Team,
    TeamMember,
    Warehouse,
)
from .rules import SETTINGS
from .validation import GBT_TOP, clean_item, clean_receipt, validate_item_code  # noqa: F401  (re-exported)

# ----------------------------------------------------------------------------- settings
_SETTING = {d.key: d for d in SETTINGS}


def setting(ctx: ServiceContext, key: str):
    return core_settings.get(ctx.session, _SETTING[key])


def alert_days(ctx: ServiceContext) -> tuple[int, int, int]:
    days = sorted(int(setting(ctx, f"emergency.alert_days_{i}")) for i in (1, 2, 3))
    return days[0], days[1], days[2]


# ----------------------------------------------------------------------------- helpers

@overload
def _text(value, field: str, label: str, required: Literal[True] = True, max_len: int = 100) -> str: ...
@overload
def _text(value, field: str, label: str, required: bool, max_len: int = 100) -> str | None: ...
def _text(value, field: str, label: str, required: bool = True, max_len: int = 100) -> str | None:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if not value:
        if required:
            raise ValidationError(f"请填写{label}。", field, value)
        return None
    if len(value) > max_len:
        raise ValidationError(f"{label}太长（{len(value)} 字，最多 {max_len} 字）。", field, value)
    return value


def _positive_int(value, field: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            value = int(str(value).strip()) if not isinstance(value, float) else int(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{label}应为整数（填写的是“{value}”）。", field, value) from None
    if value <= 0:
        raise ValidationError(f"{label}必须大于 0（填写的是 {value}）。", field, value)
    return value


def _choice(value, choices, field: str, label: str) -> str:
    """A key of ``choices``; a dict's Chinese label (what the message offers) is taken for its key."""
    allowed = list(choices)
    if isinstance(choices, dict) and value not in allowed:
        value = next((k for k, v in choices.items() if v == value), value)
    if value not in allowed:
        shown = "、".join(choices.values()) if isinstance(choices, dict) else "、".join(allowed)
        raise ValidationError(f"{label}“{value}”无效，可选：{shown}。", field, value)
    return value


def _area(ctx: ServiceContext, area_id: int) -> Area:
    area = ctx.session.get(Area, area_id)
    if area is None:
        raise NotFound(f"辖区 {area_id} 不存在，请刷新后重选。")
    ctx.actor.require_scope(area)
    return area


def _get(ctx: ServiceContext, model, id_: int, what: str):
    obj = ctx.session.get(model, id_)
    if obj is None:
        raise NotFound(f"{what}（编号 {id_}）不存在，可能已被删除，请刷新。")
    return obj


def _scoped_area_of(ctx: ServiceContext, area_id: int) -> Area:
    area = ctx.session.get_one(Area, area_id)
    ctx.actor.require_scope(area)
    return area


# ----------------------------------------------------------------------------- GB/T 38565 codes

# ----------------------------------------------------------------------------- warehouses & items

def _warehouse(ctx: ServiceContext, warehouse_id: int) -> Warehouse:
    wh = _get(ctx, Warehouse, warehouse_id, "仓库")
    _scoped_area_of(ctx, wh.area_id)
    return wh


def create_warehouse(ctx: ServiceContext, area_id: int, name: str, address: str | None = None,
                     keeper: str | None = None, keeper_phone: str | None = None) -> Warehouse:
    ctx.actor.require("emergency.catalog.manage")
    area = _area(ctx, area_id)
    if area.level not in ("street", "community"):
        raise ValidationError(f"应急仓库只能设在街道或社区，“{area.name}”是{area.level_label}。", "area_id", area_id)
    name = _text(name, "name", "仓库名称")
    if ctx.session.scalar(select(Warehouse.id).where(Warehouse.area_id == area_id, Warehouse.name == name)):
        raise ValidationError(f"“{area.name}”已有名为“{name}”的仓库。", "name", name)
    wh = Warehouse(area_id=area_id, name=name, level=area.level, address=_text(address, "address", "地址", False, 200),
                   keeper=_text(keeper, "keeper", "保管员", False, 50),
                   keeper_phone=_text(keeper_phone, "keeper_phone", "保管员电话", False, 32),
                   created_by=ctx.actor.user_id)
    ctx.session.add(wh)
    ctx.session.flush()
    return wh


def update_warehouse(ctx: ServiceContext, warehouse_id: int, expected_version: int | None = None, **fields) -> Warehouse:
    ctx.actor.require("emergency.catalog.manage")
    wh = _warehouse(ctx, warehouse_id)
    check_version(ctx.session, wh, expected_version, "仓库")
    limits = {"name": ("仓库名称", True, 100), "address": ("地址", False, 200), "keeper": ("保管员", False, 50),
              "keeper_phone": ("保管员电话", False, 32)}
    for key, value in fields.items():
        if key == "active":
            wh.active = bool(value)
        elif key in limits:
            label, req, n = limits[key]
            setattr(wh, key, _text(value, key, label, req, n))
        else:
            raise ValidationError(f"仓库没有“{key}”这一项。", key, value)
    flush_or_conflict(ctx.session, wh, "仓库")
    return wh


def list_warehouses(ctx: ServiceContext, include_inactive: bool = False) -> list[Warehouse]:
    ctx.actor.require("emergency.view")
    q = select(Warehouse).where(scope_filter(Warehouse.area_id, ctx.actor))
    if not include_inactive:
        q = q.where(Warehouse.active.is_(True))
    return list(ctx.session.scalars(q.order_by(Warehouse.level.desc(), Warehouse.id)))


def create_item(ctx: ServiceContext, code: str, name: str, unit: str, spec: str = "") -> Item:
    ctx.actor.require("emergency.catalog.manage")
    values, errors = clean_item(dict(code=code, name=name, unit=unit, spec=spec), ctx)
    raise_if(errors)
    code, name, unit, spec = values["code"], values["name"], values["unit"], values["spec"]
    item = Item(code=code, name=name, spec=spec, unit=unit, created_by=ctx.actor.user_id)
    ctx.session.add(item)
    ctx.session.flush()
    return item


def _by_initials(text: str) -> bool:
    return text.isascii() and text.isalpha()


def _initials_ids(ctx: ServiceContext, text: str) -> list[int]:
    """Items whose name's pinyin initials contain ``text`` ("gfmhq" → 干粉灭火器). The catalogue is a
    few hundred supplies, so the names are matched here (initials are cached per name)."""
    from shell.text import pinyin_initials

    text = text.lower()
    return [i for i, name in ctx.session.execute(select(Item.id, Item.name).where(Item.active.is_(True)))
            if text in pinyin_initials(name)]


def _item_text_filter(ctx: ServiceContext, text: str):
    """The condition for "code prefix, name, or pinyin initials" on ``Item``."""
    cond = or_(Item.code.startswith(text), Item.name.contains(text))
    if _by_initials(text):
        ids = _initials_ids(ctx, text)
        if ids:
            cond = or_(cond, Item.id.in_(ids))
    return cond


def _item_matches(code: str, name: str, text: str) -> bool:
    """The same test in Python, for rows already loaded."""
    from shell.text import pinyin_initials

    return code.startswith(text) or text in name or (_by_initials(text) and text.lower() in pinyin_initials(name))


def find_items(ctx: ServiceContext, text: str = "", limit: int = 50) -> list[Item]:
    """Items whose code starts with ``text``, whose name contains it, or whose name's pinyin
    initials contain it (scan-friendly code entry)."""
    ctx.actor.require("emergency.view")
    q = select(Item).where(Item.active.is_(True))
    text = (text or "").strip()
    if text:
        q = q.where(_item_text_filter(ctx, text))
    return list(ctx.session.scalars(q.order_by(Item.code, Item.name).limit(limit)))


def item_by_code(ctx: ServiceContext, code: str) -> list[Item]:
    ctx.actor.require("emergency.view")
    code = validate_item_code(code)
    return list(ctx.session.scalars(select(Item).where(Item.code == code, Item.active.is_(True)).order_by(Item.id)))


def item_locations(ctx: ServiceContext, item_id: int) -> tuple[Item, list[int]]:
    """The item and the visible warehouses that hold usable stock of it, most stock first."""
    ctx.actor.require("emergency.view")
    item = ctx.session.get(Item, item_id)
    if item is None:
        raise NotFound(f"物资 {item_id} 不存在。")
    usable = func.sum(Batch.qty)
    q = (select(Batch.warehouse_id).join(Warehouse, Warehouse.id == Batch.warehouse_id)
         .where(Batch.item_id == item_id, Batch.qty > 0, scope_filter(Warehouse.area_id, ctx.actor),
                or_(Batch.expiry_date.is_(None), Batch.expiry_date >= ctx.today()))
         .group_by(Batch.warehouse_id).order_by(usable.desc(), Batch.warehouse_id))
    return item, list(ctx.session.scalars(q))


def set_min_stock(ctx: ServiceContext, warehouse_id: int, item_id: int, min_qty: int) -> MinStock:
    ctx.actor.require("emergency.catalog.manage")
    _warehouse(ctx, warehouse_id)
    _get(ctx, Item, item_id, "物资")
    if isinstance(min_qty, bool) or not isinstance(min_qty, int) or min_qty < 0:
        raise ValidationError(f"最低库存应为不小于 0 的整数（填写的是“{min_qty}”）。", "min_qty", min_qty)
    row = ctx.session.scalar(select(MinStock).where(MinStock.warehouse_id == warehouse_id, MinStock.item_id == item_id))
    if row is None:
        row = MinStock(warehouse_id=warehouse_id, item_id=item_id, min_qty=min_qty, created_by=ctx.actor.user_id)
        ctx.session.add(row)
    else:
        row.min_qty = min_qty
    ctx.session.flush()
    return row


# ----------------------------------------------------------------------------- the stock ledger

class StockError(ValidationError):
    """A refused stock operation (not enough stock, expired batch …)."""


class ExpiredReceipt(ValidationErrors, StockError):
    """A delivery refused because it has expired, with the delivery's other field errors."""


def is_expired(batch: Batch, today: date) -> bool:
    return batch.expiry_date is not None and batch.expiry_date < today


def _busy(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "locked" in text or "busy" in text or "deadlock" in text or "could not serialize" in text


def _db_call(ctx: ServiceContext, fn, *args):
    """Run one statement; a database that stays busy (SQLite lock beyond busy_timeout, PostgreSQL
    deadlock) becomes a clean Chinese ConflictError after the transaction is rolled back."""
    try:
        return fn(*args)
    except (OperationalError, DBAPIError) as exc:
        if isinstance(exc, IntegrityError) or not _busy(exc):
            raise
        ctx.session.rollback()
        raise ConflictError("数据库正忙（其他电脑正在出入库），本次操作未生效，库存没有变化。请稍后重试。") from None


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
    batch = _get(ctx, Batch, batch_id, "批次")
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
    item = _get(ctx, Item, item_id, "物资")
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
    item = _get(ctx, Item, item_id, "物资")
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

    @property
    def below_minimum(self) -> bool:
        return self.min_qty is not None and self.item_usable < self.min_qty


def warehouse_stock(ctx: ServiceContext, warehouse_id: int, text: str = "") -> list[BatchStockRow]:
    """Batches with stock in one warehouse (item code, then expiry; no expiry date last), filtered by
    item code prefix or name, plus items with a minimum and nothing in stock. Read-only."""
    ctx.actor.require("emergency.view")
    _warehouse(ctx, warehouse_id)
    return _warehouse_rows(ctx, warehouse_id, stock_overview(ctx, warehouse_id, text), alert_days(ctx))


def _warehouse_rows(ctx: ServiceContext, warehouse_id: int, overview: list[StockRow], bands) -> list[BatchStockRow]:
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
                                         r.usable, None, None))
            continue
        for b in found:
            days = None if b.expiry_date is None else (b.expiry_date - today).days
            out.append(BatchStockRow(r.item_id, r.code, r.name, r.spec, r.unit, b.id, b.batch_no, b.expiry_date, b.qty,
                                     r.min_qty, r.usable, days, None if days is None else expiry_band(days, bands)))
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
    take = _get(ctx, Stocktake, stocktake_id, "盘点单")
    _warehouse(ctx, take.warehouse_id)
    if take.status != "open":
        raise ValidationError(f"盘点单 {take.id} 已{STOCKTAKE_LABEL[take.status]}，不能再修改。", "stocktake_id", stocktake_id)
    return take


STOCKTAKE_LABEL = {"open": "在盘点中", "posted": "过账", "cancelled": "作废"}


def stocktake_lines(ctx: ServiceContext, stocktake_id: int) -> list[tuple[StocktakeLine, Batch, Item]]:
    ctx.actor.require("emergency.view")
    take = _get(ctx, Stocktake, stocktake_id, "盘点单")
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
    take = _get(ctx, Stocktake, stocktake_id, "盘点单")
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


# ----------------------------------------------------------------------------- plans

def _plan(ctx: ServiceContext, plan_id: int) -> Plan:
    plan = _get(ctx, Plan, plan_id, "预案")
    _scoped_area_of(ctx, plan.area_id)
    return plan


def _check_file(ctx: ServiceContext, file_name: str | None, data: bytes | None):
    if data is None:
        return None, None, None
    if not isinstance(data, (bytes, bytearray)):
        raise ValidationError("附件内容应为文件字节。", "file_data")
    limit_kb = int(setting(ctx, "emergency.plan_file_max_kb"))
    if len(data) > limit_kb * 1024:
        raise ValidationError(f"附件“{file_name or ''}”大小 {len(data) / 1024 / 1024:.1f} MB，超过上限 "
                              f"{limit_kb / 1024:.1f} MB。请压缩后再上传，或在设置中调整上限。", "file_data", len(data))
    name = _text(file_name, "file_name", "附件文件名", True, 200)
    return name, len(data), bytes(data)


def create_plan(ctx: ServiceContext, area_id: int, title: str, category: str, level: str, version: str = "1.0",
                issued_on: date | None = None, review_on: date | None = None, steps: Iterable = (),
                file_name: str | None = None, file_data: bytes | None = None) -> Plan:
    """``steps``: action texts or (action, responsible) pairs, in order."""
    ctx.actor.require("emergency.plan.manage")
    _area(ctx, area_id)
    fname, fsize, fdata = _check_file(ctx, file_name, file_data)
    plan = Plan(area_id=area_id, title=_text(title, "title", "预案名称", max_len=200),
                category=_choice(category, PLAN_CATEGORIES, "category", "预案类别"),
                level=_choice(level, PLAN_LEVELS, "level", "预案层级"),
                version=_text(version, "version", "版本号", max_len=20), issued_on=issued_on, review_on=review_on,
                file_name=fname, file_size=fsize, file_data=fdata, created_by=ctx.actor.user_id)
    if issued_on and review_on and review_on < issued_on:
        raise ValidationError(f"评审日期 {review_on} 早于发布日期 {issued_on}。", "review_on", review_on)
    ctx.session.add(plan)
    ctx.session.flush()
    set_plan_steps(ctx, plan.id, steps)
    return plan


def set_plan_steps(ctx: ServiceContext, plan_id: int, steps: Iterable) -> list[PlanStep]:
    ctx.actor.require("emergency.plan.manage")
    plan = _plan(ctx, plan_id)
    used = ctx.session.scalar(select(func.count()).select_from(DrillScore).join(PlanStep, PlanStep.id == DrillScore.step_id)
                              .where(PlanStep.plan_id == plan.id))
    if used:
        raise ValidationError("已有演练按这些步骤评估过，不能改动步骤；请新建预案版本。", "steps")
    for old in ctx.session.scalars(select(PlanStep).where(PlanStep.plan_id == plan.id)):
        ctx.session.delete(old)
    ctx.session.flush()
    out = []
    for i, step in enumerate(steps, start=1):
        action, responsible = (step, None) if isinstance(step, str) else (step[0], step[1])
        out.append(PlanStep(plan_id=plan.id, seq=i, action=_text(action, "steps", f"第 {i} 步的应急行动", max_len=300),
                            responsible=_text(responsible, "steps", "责任人/单位", False)))
    ctx.session.add_all(out)
    ctx.session.flush()
    return out


def plan_steps(ctx: ServiceContext, plan_id: int) -> list[PlanStep]:
    ctx.actor.require("emergency.view")
    _plan(ctx, plan_id)
    return list(ctx.session.scalars(select(PlanStep).where(PlanStep.plan_id == plan_id).order_by(PlanStep.seq)))


def update_plan(ctx: ServiceContext, plan_id: int, expected_version: int | None = None, **fields) -> Plan:
    ctx.actor.require("emergency.plan.manage")
    plan = _plan(ctx, plan_id)
    check_version(ctx.session, plan, expected_version, "预案")
    if "file_data" in fields or "file_name" in fields:
        plan.file_name, plan.file_size, plan.file_data = _check_file(ctx, fields.pop("file_name", plan.file_name),
                                                                     fields.pop("file_data", None))
    for key, value in fields.items():
        if key == "title":
            plan.title = _text(value, key, "预案名称", max_len=200)
        elif key == "category":
            plan.category = _choice(value, PLAN_CATEGORIES, key, "预案类别")
        elif key == "level":
            plan.level = _choice(value, PLAN_LEVELS, key, "预案层级")
        elif key == "version":
            plan.version = _text(value, key, "版本号", max_len=20)
        elif key in ("issued_on", "review_on"):
            setattr(plan, key, value)
        elif key == "active":
            plan.active = bool(value)
        else:
            raise ValidationError(f"预案没有“{key}”这一项。", key, value)
    flush_or_conflict(ctx.session, plan, "预案")
    return plan


def plan_file(ctx: ServiceContext, plan_id: int) -> tuple[str | None, bytes | None]:
    ctx.actor.require("emergency.view")
    plan = _plan(ctx, plan_id)
    return plan.file_name, plan.file_data


def list_plans(ctx: ServiceContext, category: str | None = None, include_inactive: bool = False) -> list[Plan]:
    ctx.actor.require("emergency.view")
    q = select(Plan).where(scope_filter(Plan.area_id, ctx.actor))
    if category:
        q = q.where(Plan.category == category)
    if not include_inactive:
        q = q.where(Plan.active.is_(True))
    return list(ctx.session.scalars(q.order_by(Plan.category, Plan.area_id, Plan.title)))


def plans_review_due(ctx: ServiceContext, within_days: int | None = None) -> list[Plan]:
    """Active plans whose review date is past or within the notice period (setting)."""
    ctx.actor.require("emergency.view")
    days = int(setting(ctx, "emergency.plan_review_notice_days")) if within_days is None else within_days
    limit = ctx.today() + timedelta(days=days)
    return list(ctx.session.scalars(
        select(Plan).where(Plan.active.is_(True), Plan.review_on.is_not(None), Plan.review_on <= limit,
                           scope_filter(Plan.area_id, ctx.actor)).order_by(Plan.review_on, Plan.id)))


@dataclass(frozen=True)
class PlanRow:
    """One line of the 应急预案 page."""
    id: int
    version_id: int
    area_id: int
    area: str
    title: str
    category: str
    level: str
    version: str
    issued_on: date | None
    review_on: date | None
    file_name: str | None
    file_size: int | None
    steps: int
    review_due: bool      # review date past or within the notice period


def plan_rows(ctx: ServiceContext, category: str | None = None) -> list[PlanRow]:
    """Active plans in scope with unit name, step count and whether review is due. Read-only."""
    plans = list_plans(ctx, category)
    if not plans:
        return []
    days = int(setting(ctx, "emergency.plan_review_notice_days"))
    limit = ctx.today() + timedelta(days=days)
    ids = [p.id for p in plans]
    steps = dict(ctx.session.execute(select(PlanStep.plan_id, func.count()).where(PlanStep.plan_id.in_(ids))
                                     .group_by(PlanStep.plan_id)).all())
    areas = dict(ctx.session.execute(select(Area.id, Area.name).where(Area.id.in_({p.area_id for p in plans}))).all())
    return [PlanRow(p.id, p.version_id, p.area_id, areas.get(p.area_id, ""), p.title, p.category, p.level, p.version,
                    p.issued_on, p.review_on, p.file_name, p.file_size, steps.get(p.id, 0),
                    p.review_on is not None and p.review_on <= limit) for p in plans]


def plan_steps_used(ctx: ServiceContext, plan_id: int) -> bool:
    """True once a drill was evaluated against the plan's steps (then they can no longer change)."""
    ctx.actor.require("emergency.view")
    _plan(ctx, plan_id)
    return bool(ctx.session.scalar(select(func.count()).select_from(DrillScore)
                                   .join(PlanStep, PlanStep.id == DrillScore.step_id).where(PlanStep.plan_id == plan_id)))


# ----------------------------------------------------------------------------- drills

def _drill(ctx: ServiceContext, drill_id: int) -> Drill:
    drill = _get(ctx, Drill, drill_id, "演练")
    _scoped_area_of(ctx, drill.area_id)
    return drill


def get_drill(ctx: ServiceContext, drill_id: int) -> Drill:
    ctx.actor.require("emergency.view")
    return _drill(ctx, drill_id)


def plan_drill(ctx: ServiceContext, area_id: int, title: str, form: str, content: str, purpose: str,
               planned_on: date, plan_id: int | None = None, place: str | None = None, units: str | None = None,
               participants: int | None = None, scenario: str | None = None, aim: str | None = None) -> Drill:
    ctx.actor.require("emergency.drill.manage")
    _area(ctx, area_id)
    if plan_id is not None:
        _plan(ctx, plan_id)
    if not isinstance(planned_on, date):
        raise ValidationError("请填写计划日期。", "planned_on", planned_on)
    drill = Drill(area_id=area_id, plan_id=plan_id, title=_text(title, "title", "演练名称", max_len=200),
                  form=_choice(form, DRILL_FORMS, "form", "演练形式"),
                  content=_choice(content, DRILL_CONTENTS, "content", "演练内容"),
                  purpose=_choice(purpose, DRILL_PURPOSES, "purpose", "演练目的类型"),
                  status="planned", planned_on=planned_on, place=_text(place, "place", "地点", False, 200),
                  units=_text(units, "units", "参演单位", False, 2000),
                  participants=None if participants is None else _positive_int(participants, "participants", "参演人数"),
                  scenario=_text(scenario, "scenario", "情景概要", False, 4000), aim=_text(aim, "aim", "演练目的", False, 2000),
                  created_by=ctx.actor.user_id)
    ctx.session.add(drill)
    ctx.session.flush()
    return drill


def record_drill_held(ctx: ServiceContext, drill_id: int, held_on: date, participants: int,
                      place: str | None = None, units: str | None = None, scenario: str | None = None,
                      expected_version: int | None = None) -> Drill:
    ctx.actor.require("emergency.drill.manage")
    drill = _drill(ctx, drill_id)
    check_version(ctx.session, drill, expected_version, "演练")
    if drill.status != "planned":
        raise ValidationError(f"演练“{drill.title}”当前状态为{DRILL_STATUS[drill.status]}，只有计划中的演练可以登记实施。",
                              "status", drill.status)
    if not isinstance(held_on, date) or held_on > ctx.today():
        raise ValidationError(f"实施日期“{held_on}”无效：不能晚于今天。", "held_on", held_on)
    drill.held_on, drill.status = held_on, "held"
    drill.participants = _positive_int(participants, "participants", "参演人数")
    if place is not None:
        drill.place = _text(place, "place", "地点", False, 200)
    if units is not None:
        drill.units = _text(units, "units", "参演单位", False, 2000)
    if scenario is not None:
        drill.scenario = _text(scenario, "scenario", "情景概要", False, 4000)
    if not drill.place:
        raise ValidationError("请填写演练地点。", "place")
    flush_or_conflict(ctx.session, drill, "演练")
    return drill


def evaluation_template(ctx: ServiceContext, drill_id: int) -> list[dict]:
    """The rows an evaluator fills in: one per step of the linked plan (empty when no plan)."""
    ctx.actor.require("emergency.view")
    drill = _drill(ctx, drill_id)
    if drill.plan_id is None:
        return []
    return [{"step_id": s.id, "expected": s.action, "observed": "", "score": None, "problem": ""}
            for s in plan_steps(ctx, drill.plan_id)]


def evaluate_drill(ctx: ServiceContext, drill_id: int, scores: Sequence[dict], evaluator: str,
                   problems: str | None = None, causes: str | None = None, lessons: str | None = None,
                   improvements: str | None = None, aim: str | None = None, evaluated_on: date | None = None,
                   expected_version: int | None = None) -> Drill:
    """Score a held drill step by step (0–10 each). With a linked plan every plan step must be scored.
    The total is scaled to 100."""
    ctx.actor.require("emergency.drill.manage")
    drill = _drill(ctx, drill_id)
    check_version(ctx.session, drill, expected_version, "演练")
    if drill.status != "held":
        raise ValidationError(f"演练“{drill.title}”当前状态为{DRILL_STATUS[drill.status]}，实施后才能评估。",
                              "status", drill.status)
    if not scores:
        raise ValidationError("请至少填写一个评估项目。", "scores")
    steps = {s.id: s for s in plan_steps(ctx, drill.plan_id)} if drill.plan_id else {}
    rows, seen = [], set()
    for i, s in enumerate(scores, start=1):
        step_id = s.get("step_id")
        if step_id is not None:
            if step_id not in steps:
                raise ValidationError(f"第 {i} 项对应的步骤不属于本演练关联的预案。", "scores", step_id)
            seen.add(step_id)
        expected = s.get("expected") or (steps[step_id].action if step_id else None)
        score = s.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ValidationError(f"第 {i} 项“{expected or ''}”的得分应为 0–10 的整数（填写的是“{score}”）。", "scores", score)
        rows.append(DrillScore(drill_id=drill.id, seq=i, step_id=step_id,
                               expected=_text(expected, "scores", f"第 {i} 项的预期行动", max_len=300),
                               observed=_text(s.get("observed"), "scores", "实际情况", False, 4000),
                               score=score, problem=_text(s.get("problem"), "scores", "存在问题", False, 4000)))
    missing = [st for sid, st in steps.items() if sid not in seen]
    if missing:
        raise ValidationError(f"预案还有 {len(missing)} 个步骤未评估：" + "、".join(f"第 {st.seq} 步" for st in missing) + "。",
                              "scores")
    ctx.session.add_all(rows)
    drill.score = round(sum(r.score for r in rows) * 10 / len(rows))
    drill.evaluator = _text(evaluator, "evaluator", "评估人", max_len=100)
    drill.evaluated_on = evaluated_on or ctx.today()
    for key, value, label in (("problems", problems, "发现的问题"), ("causes", causes, "原因分析"),
                              ("lessons", lessons, "经验教训"), ("improvements", improvements, "改进措施")):
        setattr(drill, key, _text(value, key, label, False, 4000))
    if aim is not None:
        drill.aim = _text(aim, "aim", "演练目的", False, 2000)
    drill.status = "evaluated"
    flush_or_conflict(ctx.session, drill, "演练")
    return drill


def drill_scores(ctx: ServiceContext, drill_id: int) -> list[DrillScore]:
    ctx.actor.require("emergency.view")
    _drill(ctx, drill_id)
    return list(ctx.session.scalars(select(DrillScore).where(DrillScore.drill_id == drill_id).order_by(DrillScore.seq)))


def cancel_drill(ctx: ServiceContext, drill_id: int) -> Drill:
    ctx.actor.require("emergency.drill.manage")
    drill = _drill(ctx, drill_id)
    if drill.status != "planned":
        raise ValidationError("只有计划中的演练可以取消。", "status", drill.status)
    drill.status = "cancelled"
    flush_or_conflict(ctx.session, drill, "演练")
    return drill


def list_drills(ctx: ServiceContext, year: int | None = None, status: str | None = None) -> list[Drill]:
    ctx.actor.require("emergency.view")
    q = select(Drill).where(scope_filter(Drill.area_id, ctx.actor))
    if year:
        day = func.coalesce(Drill.held_on, Drill.planned_on)
        q = q.where(day >= date(year, 1, 1), day <= date(year, 12, 31))
    if status:
        q = q.where(Drill.status == status)
    return list(ctx.session.scalars(q.order_by(func.coalesce(Drill.held_on, Drill.planned_on), Drill.id)))


@dataclass(frozen=True)
class AreaChoice:
    id: int
    name: str
    level: str


def unit_areas(ctx: ServiceContext) -> list[AreaChoice]:
    """The open street and communities in the actor's scope, in tree order: the units that keep
    plans, hold drills, run teams and shelters."""
    ctx.actor.require("emergency.view")
    from shell.core.areas import tree_sorted

    areas = ctx.session.scalars(select(Area).where(Area.level.in_(("street", "community")), Area.closed_on.is_(None),
                                                   scope_filter(Area.id, ctx.actor)))
    return [AreaChoice(a.id, a.name, a.level) for a in tree_sorted(areas)]


@dataclass(frozen=True)
class DrillRow:
    """One line of the 应急演练 page."""
    id: int
    version_id: int
    area_id: int
    area: str
    title: str
    form: str
    content: str
    purpose: str
    status: str
    planned_on: date
    held_on: date | None
    place: str | None
    participants: int | None
    score: int | None
    plan_id: int | None
    plan_title: str | None


def drill_rows(ctx: ServiceContext, year: int | None = None, status: str | None = None) -> list[DrillRow]:
    """Drills of a year (by held date, else planned date) with their unit and plan names. Read-only."""
    drills = list_drills(ctx, year, status)
    area_ids = {d.area_id for d in drills}
    plan_ids = {d.plan_id for d in drills if d.plan_id}
    areas = dict(ctx.session.execute(select(Area.id, Area.name).where(Area.id.in_(area_ids))).all()) if area_ids else {}
    plans: dict[int | None, str] = (dict(ctx.session.execute(select(Plan.id, Plan.title).where(Plan.id.in_(plan_ids))).all())
                                    if plan_ids else {})
    return [DrillRow(d.id, d.version_id, d.area_id, areas.get(d.area_id, ""), d.title, d.form, d.content, d.purpose,
                     d.status, d.planned_on, d.held_on, d.place, d.participants, d.score, d.plan_id,
                     plans.get(d.plan_id)) for d in drills]


@dataclass(frozen=True)
class DrillCompliance:
    area_id: int
    area: str
    level: str
    held: int          # comprehensive drills held (or evaluated) in the year
    planned: int       # comprehensive drills still planned in the year
    required: int

    @property
    def behind(self) -> bool:
        return self.held < self.required


def drill_compliance(ctx: ServiceContext, year: int) -> list[DrillCompliance]:
    """Each open street and community in scope: comprehensive drills held in ``year`` against the
    yearly requirement (setting ``emergency.drills_per_year``)."""
    ctx.actor.require("emergency.view")
    required = int(setting(ctx, "emergency.drills_per_year"))
    start, end = date(year, 1, 1), date(year, 12, 31)
    areas = ctx.session.scalars(select(Area).where(Area.level.in_(("street", "community")), Area.closed_on.is_(None),
                                                   scope_filter(Area.id, ctx.actor))).all()
    held = dict(ctx.session.execute(
        select(Drill.area_id, func.count()).where(Drill.content == "comprehensive",
                                                  Drill.status.in_(("held", "evaluated")),
                                                  Drill.held_on >= start, Drill.held_on <= end)
        .group_by(Drill.area_id)).all())
    planned = dict(ctx.session.execute(
        select(Drill.area_id, func.count()).where(Drill.content == "comprehensive", Drill.status == "planned",
                                                  Drill.planned_on >= start, Drill.planned_on <= end)
        .group_by(Drill.area_id)).all())
    from shell.core.areas import tree_sorted

    return [DrillCompliance(a.id, a.name, a.level, held.get(a.id, 0), planned.get(a.id, 0), required)
            for a in tree_sorted(areas)]


def drills_by_unit(ctx: ServiceContext, year: int) -> list[tuple[str, int, int]]:
    """(unit, comprehensive drills held, other drills held) in ``year`` for the street and each
    community in scope, in tree order — the dashboard's 本年演练 chart. Read-only."""
    ctx.actor.require("emergency.view")
    start, end = date(year, 1, 1), date(year, 12, 31)
    counts = {}
    for area_id, content, n in ctx.session.execute(
            select(Drill.area_id, Drill.content, func.count()).where(Drill.status.in_(("held", "evaluated")),
                                                                     Drill.held_on >= start, Drill.held_on <= end)
            .group_by(Drill.area_id, Drill.content)):
        counts[(area_id, content)] = n
    return [(a.name, counts.get((a.id, "comprehensive"), 0), counts.get((a.id, "single"), 0))
            for a in unit_areas(ctx)]


def drills_behind(ctx: ServiceContext, year: int) -> list[DrillCompliance]:
    return [c for c in drill_compliance(ctx, year) if c.behind]


# ----------------------------------------------------------------------------- teams

def _team(ctx: ServiceContext, team_id: int) -> Team:
    team = _get(ctx, Team, team_id, "队伍")
    _scoped_area_of(ctx, team.area_id)
    return team


_PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


def _phone(value, field: str, label: str, required: bool = False) -> str | None:
    value = _text(value, field, label, required, 32)
    if value and not _PHONE_RE.match(value.replace(" ", "")):
        raise ValidationError(f"{label}“{value}”格式不正确：手机号 11 位，座机如 0571-87654321。", field, value)
    return value.replace(" ", "") if value else None


def create_team(ctx: ServiceContext, area_id: int, name: str, kind: str, leader: str | None = None,
                leader_phone: str | None = None) -> Team:
    ctx.actor.require("emergency.team.manage")
    _area(ctx, area_id)
    team = Team(area_id=area_id, name=_text(name, "name", "队伍名称"), kind=_choice(kind, TEAM_KINDS, "kind", "队伍类型"),
                leader=_text(leader, "leader", "队长", False, 50), leader_phone=_phone(leader_phone, "leader_phone", "队长电话"),
                created_by=ctx.actor.user_id)
    ctx.session.add(team)
    ctx.session.flush()
    return team


def add_member(ctx: ServiceContext, team_id: int, name: str, phone: str | None = None, skills: str | None = None,
               certificates: str | None = None) -> TeamMember:
    ctx.actor.require("emergency.team.manage")
    team = _team(ctx, team_id)
    name = _text(name, "name", "队员姓名", max_len=50)
    phone = _phone(phone, "phone", "联系电话")
    if phone and ctx.session.scalar(select(TeamMember.id).where(TeamMember.team_id == team.id, TeamMember.phone == phone,
                                                                TeamMember.active.is_(True))):
        raise ValidationError(f"“{team.name}”已有电话为 {phone} 的队员。", "phone", phone)
    m = TeamMember(team_id=team.id, name=name, phone=phone, skills=_text(skills, "skills", "技能特长", False, 200),
                   certificates=_text(certificates, "certificates", "资格证书", False, 200), created_by=ctx.actor.user_id)
    ctx.session.add(m)
    ctx.session.flush()
    return m


def remove_member(ctx: ServiceContext, member_id: int) -> TeamMember:
    """Members leave (active = False); the roster history stays."""
    ctx.actor.require("emergency.team.manage")
    m = _get(ctx, TeamMember, member_id, "队员")
    _team(ctx, m.team_id)
    m.active = False
    flush_or_conflict(ctx.session, m, "队员")
    return m


def team_members(ctx: ServiceContext, team_id: int) -> list[TeamMember]:
    ctx.actor.require("emergency.view")
    _team(ctx, team_id)
    return list(ctx.session.scalars(select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.active.is_(True))
                                    .order_by(TeamMember.id)))


def list_teams(ctx: ServiceContext) -> list[Team]:
    ctx.actor.require("emergency.view")
    return list(ctx.session.scalars(select(Team).where(Team.active.is_(True), scope_filter(Team.area_id, ctx.actor))
                                    .order_by(Team.area_id, Team.id)))


@dataclass(frozen=True)
class TeamRow:
    id: int
    area: str
    name: str
    kind: str
    leader: str | None
    leader_phone: str | None
    members: int


def team_rows(ctx: ServiceContext) -> list[TeamRow]:
    """Active teams in scope with their unit and number of active members. Read-only."""
    teams = list_teams(ctx)
    if not teams:
        return []
    ids = [t.id for t in teams]
    counts = dict(ctx.session.execute(select(TeamMember.team_id, func.count()).where(
        TeamMember.team_id.in_(ids), TeamMember.active.is_(True)).group_by(TeamMember.team_id)).all())
    areas = dict(ctx.session.execute(select(Area.id, Area.name).where(Area.id.in_({t.area_id for t in teams}))).all())
    return [TeamRow(t.id, areas.get(t.area_id, ""), t.name, t.kind, t.leader, t.leader_phone, counts.get(t.id, 0))
            for t in teams]


@dataclass(frozen=True)
class TeamSizeCheck:
    street_id: int
    street: str
    members: int
    norm: int

    @property
    def ok(self) -> bool:
        return self.members >= self.norm

    @property
    def shortfall(self) -> int:
        return max(0, self.norm - self.members)


def team_size_check(ctx: ServiceContext) -> list[TeamSizeCheck]:
    """Each street in scope: active members of its comprehensive rescue team(s) against the norm."""
    ctx.actor.require("emergency.view")
    norm = int(setting(ctx, "emergency.team_size_norm"))
    streets = ctx.session.scalars(select(Area).where(Area.level == "street", Area.closed_on.is_(None),
                                                     scope_filter(Area.id, ctx.actor)).order_by(Area.id)).all()
    counts = dict(ctx.session.execute(
        select(Team.area_id, func.count(TeamMember.id)).join(TeamMember, TeamMember.team_id == Team.id)
        .where(Team.kind == "comprehensive", Team.active.is_(True), TeamMember.active.is_(True))
        .group_by(Team.area_id)).all())
    return [TeamSizeCheck(s.id, s.name, counts.get(s.id, 0), norm) for s in streets]


# ----------------------------------------------------------------------------- duty roster (值班表)

def _duty_unit(ctx: ServiceContext, area_id: int) -> Area:
    area = _area(ctx, area_id)
    if area.level not in ("street", "community"):
        raise ValidationError(f"值班表按街道或社区排班，“{area.name}”是{area.level_label}。", "area_id", area_id)
    return area


def set_duty(ctx: ServiceContext, area_id: int, duty_date: date, shift: str, leader: str, staff: str,
             phone: str | None = None, note: str | None = None, expected_version: int | None = None) -> DutyShift:
    """Put people on one shift (create it, or change it when it exists — then ``expected_version``
    guards against overwriting another desktop's change)."""
    ctx.actor.require("emergency.team.manage")
    _duty_unit(ctx, area_id)
    if not isinstance(duty_date, date):
        raise ValidationError("请填写值班日期。", "duty_date", duty_date)
    shift = _choice(shift, DUTY_SHIFTS, "shift", "班次")
    leader = _text(leader, "leader", "带班领导", max_len=50)
    staff = _text(staff, "staff", "值班人员", max_len=200)
    phone = _phone(phone, "phone", "值班电话")
    note = _text(note, "note", "备注", False, 200)
    existing = ctx.session.scalars(select(DutyShift).where(DutyShift.area_id == area_id,
                                                           DutyShift.duty_date == duty_date)).all()
    # 全天 and 白班/夜班 exclude each other: one way of dividing a day
    clash = [d for d in existing if d.shift != shift and "full" in (d.shift, shift)]
    if clash:
        raise ValidationError(f"{duty_date} 已排“{DUTY_SHIFTS[clash[0].shift]}”，不能再排“{DUTY_SHIFTS[shift]}”；"
                              "请先修改或删除原班次。", "shift", shift)
    row = next((d for d in existing if d.shift == shift), None)
    if row is None:
        row = DutyShift(area_id=area_id, duty_date=duty_date, shift=shift, leader=leader, staff=staff, phone=phone,
                        note=note, created_by=ctx.actor.user_id)
        try:
            with ctx.session.begin_nested():   # a clash takes back this row only, not the caller's work
                ctx.session.add(row)
                ctx.session.flush()
        except IntegrityError:
            raise ConflictError(f"{duty_date} 的{DUTY_SHIFTS[shift]}刚被其他电脑排好，请刷新后再改。") from None
        return row
    check_version(ctx.session, row, expected_version, "值班安排")
    row.leader, row.staff, row.phone, row.note = leader, staff, phone, note
    flush_or_conflict(ctx.session, row, "值班安排")
    return row


def remove_duty(ctx: ServiceContext, duty_id: int) -> None:
    ctx.actor.require("emergency.team.manage")
    row = _get(ctx, DutyShift, duty_id, "值班安排")
    _scoped_area_of(ctx, row.area_id)
    ctx.session.delete(row)
    ctx.session.flush()


def duty_roster(ctx: ServiceContext, area_id: int, start: date, end: date) -> list[DutyShift]:
    """Shifts of one unit from ``start`` to ``end`` (inclusive), by date then 全天/白班/夜班."""
    ctx.actor.require("emergency.view")
    _area(ctx, area_id)
    order = case((DutyShift.shift == "full", 0), (DutyShift.shift == "day", 1), else_=2)
    return list(ctx.session.scalars(select(DutyShift).where(DutyShift.area_id == area_id, DutyShift.duty_date >= start,
                                                            DutyShift.duty_date <= end)
                                    .order_by(DutyShift.duty_date, order)))


def duty_gaps(ctx: ServiceContext, area_id: int, start: date, end: date) -> list[tuple[date, str]]:
    """Days not fully covered: (date, what is missing) — no shift at all, or only one of 白班/夜班."""
    covered: dict[date, set[str]] = {}
    for d in duty_roster(ctx, area_id, start, end):
        covered.setdefault(d.duty_date, set()).add(d.shift)
    out, day = [], start
    while day <= end:
        shifts = covered.get(day, set())
        if not shifts:
            out.append((day, "无人值班"))
        elif "full" not in shifts and shifts != {"day", "night"}:
            out.append((day, "缺夜班" if "day" in shifts else "缺白班"))
        day += timedelta(days=1)
    return out


# ----------------------------------------------------------------------------- shelters

def create_shelter(ctx: ServiceContext, area_id: int, name: str, location: str, area_m2: int, capacity: int,
                   facilities: str | None = None, manager: str | None = None, manager_phone: str | None = None,
                   status: str = "available") -> Shelter:
    ctx.actor.require("emergency.shelter.manage")
    _area(ctx, area_id)
    s = Shelter(area_id=area_id, name=_text(name, "name", "场所名称"), location=_text(location, "location", "位置", max_len=200),
                area_m2=_positive_int(area_m2, "area_m2", "有效面积（平方米）"),
                capacity=_positive_int(capacity, "capacity", "可容纳人数"),
                facilities=_text(facilities, "facilities", "配套设施", False, 2000),
                manager=_text(manager, "manager", "负责人", False, 50),
                manager_phone=_phone(manager_phone, "manager_phone", "负责人电话"),
                status=_choice(status, SHELTER_STATUS, "status", "状态"), created_by=ctx.actor.user_id)
    ctx.session.add(s)
    ctx.session.flush()
    return s


def update_shelter(ctx: ServiceContext, shelter_id: int, expected_version: int | None = None, **fields) -> Shelter:
    """Change a shelter's fields (name, location, area_m2, capacity, facilities, manager,
    manager_phone, status); ``expected_version`` guards against overwriting another desktop."""
    ctx.actor.require("emergency.shelter.manage")
    s = _get(ctx, Shelter, shelter_id, "避难场所")
    _scoped_area_of(ctx, s.area_id)
    check_version(ctx.session, s, expected_version, "避难场所")
    for key, value in fields.items():
        if key == "name":
            s.name = _text(value, key, "场所名称")
        elif key == "location":
            s.location = _text(value, key, "位置", max_len=200)
        elif key == "area_m2":
            s.area_m2 = _positive_int(value, key, "有效面积（平方米）")
        elif key == "capacity":
            s.capacity = _positive_int(value, key, "可容纳人数")
        elif key == "facilities":
            s.facilities = _text(value, key, "配套设施", False, 2000)
        elif key == "manager":
            s.manager = _text(value, key, "负责人", False, 50)
        elif key == "manager_phone":
            s.manager_phone = _phone(value, key, "负责人电话")
        elif key == "status":
            s.status = _choice(value, SHELTER_STATUS, key, "状态")
        else:
            raise ValidationError(f"避难场所没有“{key}”这一项。", key, value)
    flush_or_conflict(ctx.session, s, "避难场所")
    return s


def set_shelter_status(ctx: ServiceContext, shelter_id: int, status: str, expected_version: int | None = None) -> Shelter:
    ctx.actor.require("emergency.shelter.manage")
    s = _get(ctx, Shelter, shelter_id, "避难场所")
    _scoped_area_of(ctx, s.area_id)
    check_version(ctx.session, s, expected_version, "避难场所")
    s.status = _choice(status, SHELTER_STATUS, "status", "状态")
    flush_or_conflict(ctx.session, s, "避难场所")
    return s


def list_shelters(ctx: ServiceContext) -> list[Shelter]:
    ctx.actor.require("emergency.view")
    return list(ctx.session.scalars(select(Shelter).where(scope_filter(Shelter.area_id, ctx.actor))
                                    .order_by(Shelter.area_id, Shelter.id)))


def shelter_capacity(ctx: ServiceContext) -> int:
    """Total capacity of shelters that are available or in use."""
    return sum(s.capacity for s in list_shelters(ctx) if s.status in ("available", "in_use"))


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
