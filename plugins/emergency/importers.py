"""Excel import/export of emergency supplies (no Qt), on the shared import engine (``shell.core.importing``).

- ``emergency-items``: the item catalogue (物资编码, 物资名称, 规格型号, 计量单位). Each row is checked by
  the catalogue's rules (``validation.item_fields`` and the catalogue's uniqueness, as
  ``create_item``); items the catalogue already has are skipped (an export imports again as a no-op);
  the new ones are added in one flush (audited like every ORM write).
- ``emergency-stock``: opening stock / deliveries, one row per batch (仓库, 物资编码, 物资名称, 规格型号,
  计量单位, 批次号, 生产日期, 有效期至, 数量, 来源单位), each checked by ``validation.clean_receipt`` (the
  rules of ``services.receive``) and booked through ``services.receive`` in its own savepoint. Unknown
  items are added to the catalogue (checked by the same item rules). Export writes the current stock
  per batch in the same layout, so an export can be re-imported into another database.

Nothing is written unless every row is valid (or the caller accepted the valid subset with
``valid_only``). Row numbers are Excel's (the header is row 1).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shell.contracts import ImporterDefinition, ImportResult
from shell.core.areas import scope_filter
from shell.core.importing import Column, ImportSpec, PerRow, Row, Sheet, import_sheet, write_rows
from shell.core.importing import definition as _definition
from shell.core.importing import write_template as _write_template
from shell.core.matching import SEP, MatchError, Resolver, area_paths, path_text
from shell.errors import FieldError

from . import services
from .models import Batch, Item, Warehouse
from .validation import clean_receipt, item_fields, item_key

CODE_NOTE = "GB/T 38565 物资编码，7 位数字"
ITEM_SHEET = Sheet("数据", (
    Column("code", "物资编码", ("编码",), required=True, as_text=True, note=CODE_NOTE),
    Column("name", "物资名称", ("名称",), required=True),
    Column("spec", "规格型号", ("规格",)),
    Column("unit", "计量单位", ("单位",), required=True),
))
STOCK_SHEET = Sheet("数据", (
    Column("warehouse", "仓库", required=True,
           note="仓库的完整名称，如：和平里社区/应急物资仓库（街道可写可不写）；名称在管辖范围内唯一时也可只写名称"),
    Column("code", "物资编码", ("编码",), required=True, as_text=True, note=CODE_NOTE),
    Column("name", "物资名称", ("名称",), required=True),
    Column("spec", "规格型号", ("规格",)),
    Column("unit", "计量单位", ("单位",), required=True),
    Column("batch_no", "批次号", required=True, as_text=True),
    Column("production_date", "生产日期"),
    Column("expiry_date", "有效期至", note="没有保质期的物资留空"),
    Column("qty", "数量", ("入库数量",), required=True),
    Column("party", "来源单位", ("供货单位",)),
))
ITEM_COLUMNS = ITEM_SHEET.labels
STOCK_COLUMNS = STOCK_SHEET.labels
# the receipt validator's field → the stock sheet's column key, where they differ
RECEIPT_KEYS = {"warehouse_id": "warehouse", "item_id": "name", "note": "party"}


def _item_draft(cells: dict[str, Any]) -> dict[str, Any]:
    return {k: cells[k] for k in ("code", "name", "spec", "unit")}


# ----------------------------------------------------------------------------- items

def import_items(sctx, path, valid_only=False, progress=None, cancel=None) -> ImportResult:
    sctx.actor.require("emergency.import")
    sctx.actor.require("emergency.catalog.manage")
    existing = {(i.code, i.name, i.spec) for i in sctx.session.scalars(select(Item))}
    seen: dict[tuple[str, str, str], int] = {}

    def check(row: Row) -> dict | None:
        values, errors = item_fields(_item_draft(row.cells))
        row.field_errors(errors)
        if errors:
            return None
        key = item_key(values)
        if key in seen:
            row.error("name", f"与第 {seen[key]} 行重复（物资编码、名称、规格型号都相同）", key[1])
            return None
        seen[key] = row.number
        # already in the catalogue: create_item's uniqueness rule, kept as "nothing to add" here
        return dict(values, new=key not in existing)

    def write(ctx, pairs, valid_only) -> int:
        """The catalogue's bulk path: rows checked by the catalogue's rules above, added in one flush
        (each insert audited by the session, like ``create_item``'s)."""
        new = [rec for _row, rec in pairs if rec["new"]]
        ctx.session.add_all(Item(code=r["code"], name=r["name"], spec=r["spec"], unit=r["unit"],
                                 created_by=ctx.actor.user_id) for r in new)
        ctx.session.flush()
        return len(new)

    return import_sheet(sctx, path, ImportSpec(ITEM_SHEET, check, write), valid_only=valid_only, progress=progress,
                        cancel=cancel)


def export_items(sctx, path) -> int:
    sctx.actor.require("emergency.view")
    rows = sctx.session.execute(select(Item.code, Item.name, Item.spec, Item.unit).order_by(Item.code, Item.name))
    return write_rows(path, ITEM_SHEET, rows)


def items_template(path) -> None:
    _write_template(path, ITEM_SHEET)


# ----------------------------------------------------------------------------- stock

def import_stock(sctx, path, valid_only=False, progress=None, cancel=None) -> ImportResult:
    """Each valid row becomes a stock-in move (入库) through ``services.receive``."""
    sctx.actor.require("emergency.import")
    sctx.actor.require("emergency.stock.manage")
    # by full path (和平里社区/应急物资仓库, the street optional), a unique bare name
    paths = area_paths(sctx.session)
    warehouses = Resolver("仓库", [(w, paths.get(w.area_id, "").split(SEP) + [w.name], None) for w in sctx.session.scalars(
        select(Warehouse).where(Warehouse.active.is_(True), scope_filter(Warehouse.area_id, sctx.actor)))])
    items = {(i.code, i.name, i.spec): i for i in sctx.session.scalars(select(Item))}

    def check(row: Row) -> dict | None:
        c = row.cells
        item, errors = item_fields(_item_draft(c))
        row.field_errors(errors)
        wh = None
        try:
            wh = warehouses.find(c["warehouse"])
        except MatchError as exc:
            row.error("warehouse", exc.message.replace("管辖范围内", "管辖范围内、已停用"))
        known = items.get(item_key(item)) if not errors else None
        receipt, errors = clean_receipt(dict(warehouse=wh, item_name=known.name if known else item.get("name", ""),
                                             qty=c["qty"], batch_no=c["batch_no"], production_date=c["production_date"],
                                             expiry_date=c["expiry_date"], party=c["party"]), sctx)
        row.field_errors([FieldError(e.field, e.message) for e in errors], RECEIPT_KEYS)   # beside the cell as typed
        if wh is None or not row.ok:
            return None
        receipt.pop("expired")
        return dict(receipt, warehouse_id=wh.id, item=item)

    def receive(ctx, rec: dict[str, Any]) -> None:
        key = item_key(rec["item"])
        item = items.get(key)
        if item is None:   # a new catalogue entry: checked by the catalogue's rules in ``check``
            v = rec["item"]
            item = Item(code=v["code"], name=v["name"], spec=v["spec"], unit=v["unit"], created_by=ctx.actor.user_id)
            ctx.session.add(item)
            ctx.session.flush()
        services.receive(ctx, rec["warehouse_id"], item.id, rec["qty"], rec["batch_no"], rec["production_date"],
                         rec["expiry_date"], party=rec["party"], note="Excel 导入")
        items[key] = item   # only once booked: a refused row's savepoint takes the new item back too

    spec = ImportSpec(STOCK_SHEET, check, PerRow(receive, RECEIPT_KEYS))
    return import_sheet(sctx, path, spec, valid_only=valid_only, progress=progress, cancel=cancel)


def export_stock(sctx, path) -> int:
    sctx.actor.require("emergency.view")
    paths = area_paths(sctx.session)
    q = (select(Warehouse.area_id, Warehouse.name, Item.code, Item.name, Item.spec, Item.unit, Batch.batch_no,
                Batch.production_date,
                Batch.expiry_date, Batch.qty)
         .join(Warehouse, Warehouse.id == Batch.warehouse_id).join(Item, Item.id == Batch.item_id)
         .where(Batch.qty > 0, scope_filter(Warehouse.area_id, sctx.actor))
         .order_by(Warehouse.id, Item.code, Batch.expiry_date, Batch.id))
    # the warehouse by its full path (area path / name), so the export imports again
    return write_rows(path, STOCK_SHEET, ((path_text([paths.get(r[0], ""), r[1]]),) + tuple(r[2:]) + ("",)
                                          for r in sctx.session.execute(q)))


def stock_template(path) -> None:
    _write_template(path, STOCK_SHEET)


def definitions() -> list[ImporterDefinition]:
    return [
        _definition("emergency-items", "应急物资目录", ITEM_SHEET, import_fn=import_items, export_fn=export_items,
                    template_fn=items_template, permission="emergency.import"),
        _definition("emergency-stock", "应急物资库存（按批次入库）", STOCK_SHEET, import_fn=import_stock,
                    export_fn=export_stock, template_fn=stock_template, permission="emergency.import"),
    ]

