"""Excel import/export of emergency supplies (no Qt).

- ``emergency-items``: the item catalogue (物资编码, 物资名称, 规格型号, 计量单位).
- ``emergency-stock``: opening stock / deliveries, one row per batch (仓库, 物资编码, 物资名称, 规格型号,
  计量单位, 批次号, 生产日期, 有效期至, 数量, 来源单位). Unknown items are added to the catalogue.
  Export writes the current stock per batch in the same layout, so an export can be re-imported into
  another database.

Every row is validated first; nothing is written unless every row is valid (or the caller accepted
the valid subset with ``valid_only``). Row numbers are Excel's (the header is row 1).
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from shell.contracts import ImporterDefinition, ImportResult, RowError
from shell.core.areas import scope_filter
from shell.core.matching import SEP, MatchError, Resolver, area_paths, path_text
from shell.errors import ValidationError

from . import services
from .models import Batch, Item, Warehouse

ITEM_COLUMNS = ("物资编码", "物资名称", "规格型号", "计量单位")
STOCK_COLUMNS = ("仓库", "物资编码", "物资名称", "规格型号", "计量单位", "批次号", "生产日期", "有效期至", "数量", "来源单位")


def _read_rows(path: Path, columns: tuple[str, ...]):
    """Yield (excel row number, {column: value}); raise ValidationError for a missing header."""
    from shell.core.sheets import read_sheet

    path = Path(path)
    data = read_sheet(path)
    if not data:
        raise ValidationError(f"文件“{path.name}”是空的。", "path", str(path))
    header = [str(h).strip() if h is not None else "" for h in data[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValidationError(f"文件“{path.name}”缺少列：{'、'.join(missing)}。请使用导入模板。", "path", str(path))
    index = {c: header.index(c) for c in columns}
    for n, raw in enumerate(data[1:], start=2):
        values = {c: (raw[i] if i < len(raw) else None) for c, i in index.items()}
        if all(v in (None, "") for v in values.values()):
            continue
        yield n, {c: (v.strip() if isinstance(v, str) else v) for c, v in values.items()}


def _code_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _as_date(value):
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        try:
            return datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            raise ValueError(text) from None


def _write_xlsx(path: Path, columns, rows) -> int:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    from openpyxl.cell import WriteOnlyCell

    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=c)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    n = 0
    for row in rows:
        ws.append(list(row))
        n += 1
    wb.save(str(path))
    return n


# ----------------------------------------------------------------------------- items

def import_items(sctx, path, valid_only=False) -> ImportResult:
    sctx.actor.require("emergency.import")
    sctx.actor.require("emergency.catalog.manage")
    result = ImportResult()
    existing = {(i.code, i.name, i.spec) for i in sctx.session.scalars(select(Item))}
    good, seen = [], set()
    for n, row in _read_rows(path, ITEM_COLUMNS):
        result.total_rows += 1
        errs = _item_errors(n, row)
        key = (_code_text(row["物资编码"]), row["物资名称"] or "", row["规格型号"] or "")
        if not errs and key in seen:
            errs.append(RowError(n, "物资名称", key[1], "与本文件前面的行重复"))
        if errs:
            result.errors.extend(errs)
            continue
        seen.add(key)
        if key not in existing:
            good.append((key, str(row["计量单位"])))
    result.valid_rows = result.total_rows - len({e.row for e in result.errors})
    if result.errors and not valid_only:
        return result
    for (code, name, spec), unit in good:
        sctx.session.add(Item(code=code, name=name, spec=spec, unit=unit, created_by=sctx.actor.user_id))
    sctx.session.flush()
    result.written = len(good)
    return result


def _item_errors(n, row) -> list[RowError]:
    errs = []
    try:
        services.validate_item_code(_code_text(row["物资编码"]))
    except ValidationError as exc:
        errs.append(RowError(n, "物资编码", row["物资编码"], exc.message))
    for col, limit in (("物资名称", 100), ("计量单位", 16)):
        v = row[col]
        if v in (None, ""):
            errs.append(RowError(n, col, v, "不能为空"))
        elif len(str(v)) > limit:
            errs.append(RowError(n, col, v, f"太长（最多 {limit} 字）"))
    if row.get("规格型号") and len(str(row["规格型号"])) > 100:
        errs.append(RowError(n, "规格型号", row["规格型号"], "太长（最多 100 字）"))
    return errs


def export_items(sctx, path) -> int:
    sctx.actor.require("emergency.view")
    rows = sctx.session.execute(select(Item.code, Item.name, Item.spec, Item.unit).order_by(Item.code, Item.name))
    return _write_xlsx(Path(path), ITEM_COLUMNS, rows)


def items_template(path) -> None:
    _write_xlsx(Path(path), ITEM_COLUMNS, [])


# ----------------------------------------------------------------------------- stock

def import_stock(sctx, path, valid_only=False) -> ImportResult:
    """Each valid row becomes a stock-in move (入库) through ``services.receive``."""
    sctx.actor.require("emergency.import")
    sctx.actor.require("emergency.stock.manage")
    today = sctx.today()
    # by full path (和平里社区/应急物资仓库, the street optional), a unique bare name
    paths = area_paths(sctx.session)
    warehouses = Resolver("仓库", [(w, paths.get(w.area_id, "").split(SEP) + [w.name], None) for w in sctx.session.scalars(
        select(Warehouse).where(Warehouse.active.is_(True), scope_filter(Warehouse.area_id, sctx.actor)))])
    items = {(i.code, i.name, i.spec): i for i in sctx.session.scalars(select(Item))}
    result = ImportResult()
    good = []
    for n, row in _read_rows(path, STOCK_COLUMNS):
        result.total_rows += 1
        errs = _item_errors(n, row)
        wh = None
        try:
            wh = warehouses.find(row["仓库"])
        except MatchError as exc:
            errs.append(RowError(n, "仓库", row["仓库"], exc.message.replace("管辖范围内", "管辖范围内、已停用")))
        if row["批次号"] in (None, ""):
            errs.append(RowError(n, "批次号", row["批次号"], "不能为空"))
        dates = {}
        for col in ("生产日期", "有效期至"):
            try:
                dates[col] = _as_date(row[col])
            except ValueError:
                errs.append(RowError(n, col, row[col], "日期格式不正确，应为 2024-05-01"))
        prod, exp = dates.get("生产日期"), dates.get("有效期至")
        if exp and exp < today:
            errs.append(RowError(n, "有效期至", row["有效期至"], "已过期，过期物资不能入库"))
        if prod and exp and exp < prod:
            errs.append(RowError(n, "有效期至", row["有效期至"], "早于生产日期"))
        if prod and prod > today:
            errs.append(RowError(n, "生产日期", row["生产日期"], "晚于今天"))
        qty = row["数量"]
        if isinstance(qty, float) and qty.is_integer():
            qty = int(qty)
        if isinstance(qty, str) and qty.isdigit():
            qty = int(qty)
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            errs.append(RowError(n, "数量", row["数量"], "应为大于 0 的整数"))
        if errs:
            result.errors.extend(errs)
            continue
        key = (_code_text(row["物资编码"]), row["物资名称"], row["规格型号"] or "")
        good.append((n, wh, key, str(row["计量单位"]), str(row["批次号"]), prod, exp, qty, row["来源单位"]))
    result.valid_rows = len(good)
    if result.errors and not valid_only:
        return result
    # A savepoint for the file and one per row: a row refused only here (batch dates that differ from
    # the registered batch) takes back its own item and move, or with valid_only=False the whole
    # file; the caller's transaction is never ended (run_import alone commits or rolls back).
    whole = sctx.session.begin_nested()
    for n, wh, key, unit, batch_no, prod, exp, qty, party in good:
        try:
            with sctx.session.begin_nested():
                item = items.get(key)
                if item is None:
                    item = Item(code=key[0], name=key[1], spec=key[2], unit=unit, created_by=sctx.actor.user_id)
                    sctx.session.add(item)
                    sctx.session.flush()
                services.receive(sctx, wh.id, item.id, qty, batch_no, prod, exp, party=party or None, note="Excel 导入")
        except ValidationError as exc:
            result.errors.append(RowError(n, "批次号", batch_no, exc.message))
            result.valid_rows -= 1
            if not valid_only:
                whole.rollback()
                result.written = 0
                return result
            continue
        items[key] = item
        result.written += 1
    whole.commit()
    return result


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
    return _write_xlsx(Path(path), STOCK_COLUMNS, ((path_text([paths.get(r[0], ""), r[1]]),) + tuple(r[2:]) + ("",)
                                                   for r in sctx.session.execute(q)))


def stock_template(path) -> None:
    _write_xlsx(Path(path), STOCK_COLUMNS, [])


def definitions() -> list[ImporterDefinition]:
    return [
        ImporterDefinition("emergency-items", "应急物资目录", import_fn=import_items, export_fn=export_items,
                           template_fn=items_template, permission="emergency.import", columns=ITEM_COLUMNS),
        ImporterDefinition("emergency-stock", "应急物资库存（按批次入库）", import_fn=import_stock, export_fn=export_stock,
                           template_fn=stock_template, permission="emergency.import", columns=STOCK_COLUMNS),
    ]
