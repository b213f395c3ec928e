"""Warehouses, the item catalogue and minimum stock."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.scope import get_in_scope
from shell.errors import NotFound, ValidationError, raise_if

from ..models import (
    Batch,
    Item,
    MinStock,
    Warehouse,
)
from ..validation import clean_item, validate_item_code
from .common import _area, _text

# ----------------------------------------------------------------------------- warehouses & items

def _warehouse(ctx: ServiceContext, warehouse_id: int) -> Warehouse:
    wh = get_in_scope(ctx, Warehouse, warehouse_id, "仓库")
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


@dataclass(frozen=True)
class ItemChoice:
    """An item as a move dialog shows it (plain values: the dialog outlives the session)."""

    id: int
    code: str
    name: str
    spec: str
    unit: str


def item_choices(ctx: ServiceContext, code: str) -> list[ItemChoice]:
    """The active items with ``code`` (a scanned or typed GB/T 38565 code), as plain rows."""
    return [ItemChoice(i.id, i.code, i.name, i.spec, i.unit) for i in item_by_code(ctx, code)]


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
    get_in_scope(ctx, Item, item_id, "物资")
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


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
