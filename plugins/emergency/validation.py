"""The rules of the emergency plugin's imported aggregates, in one place: the service raises on the
first error (``raise_if``), the importer shows every error of a row beside its column, the form
beside its field. No Qt.

- item    (``clean_item`` / ``check_item``): an entry of the supplies catalogue (物资目录);
- receipt (``clean_receipt`` / ``check_receipt``): a delivery booked into a warehouse (入库), one batch.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from shell.core import fields
from shell.core.context import ServiceContext
from shell.errors import FieldError, ValidationError

from .models import Item, Warehouse

GBT_TOP = {"1": "基本生活保障物资", "2": "应急装备及配套物资", "3": "工程材料与机械加工设备"}
_LEVELS = (("中类", 1, "第 2–3 位"), ("小类", 3, "第 4–5 位"), ("细类", 5, "第 6–7 位"))
ITEM_LABELS = {"code": "物资编码", "name": "物资名称", "spec": "规格型号", "unit": "计量单位"}
RECEIPT_LABELS = {"warehouse_id": "仓库", "qty": "入库数量", "batch_no": "批次号", "production_date": "生产日期",
                  "expiry_date": "有效期至", "party": "来源/供货单位", "note": "备注"}


def _errors(exc: ValidationError, default_field: str) -> list[FieldError]:
    inner = getattr(exc, "errors", None)
    if inner:
        return list(inner)
    return [FieldError(exc.field or default_field, exc.message, exc.value)]


def validate_item_code(code: Any) -> str:
    """Check the structure of a GB/T 38565-2020 code: 7 digits, 大类 1/2/3, then 中类, 小类 and 细类
    of two digits each in 01–99. The message names the part that is wrong. An Excel number cell
    (1010101.0) is its digits."""
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    text = "" if code is None else str(code).strip()
    if not text:
        raise ValidationError("请填写物资编码（GB/T 38565，7 位数字）。", "code", code)
    if not text.isdigit() or not text.isascii():
        raise ValidationError(f"物资编码“{text}”只能由数字组成（GB/T 38565 为 7 位数字）。", "code", code)
    if len(text) != 7:
        raise ValidationError(f"物资编码“{text}”应为 7 位数字，现为 {len(text)} 位。", "code", code)
    if text[0] not in GBT_TOP:
        raise ValidationError(
            f"物资编码“{text}”的第 1 位（大类）应为 1（基本生活保障物资）、2（应急装备及配套物资）"
            f"或 3（工程材料与机械加工设备），现为“{text[0]}”。", "code", code)
    for label, start, where in _LEVELS:
        part = text[start:start + 2]
        if part == "00":
            raise ValidationError(f"物资编码“{text}”的{where}（{label}）应为 01–99，现为“{part}”。", "code", code)
    return text


def item_fields(draft: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The item's own fields (code, name, unit, spec), no database: what an importer checks for
    every row before it looks anything up."""
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, fn in (("code", lambda v: validate_item_code(v)),
                    ("name", lambda v: fields.text(v, "物资名称", "name")),
                    ("spec", lambda v: fields.text(v, "规格型号", "spec", required=False) or ""),
                    ("unit", lambda v: fields.text(v, "计量单位", "unit", max_len=16))):
        try:
            out[key] = fn(draft.get(key))
        except ValidationError as exc:
            errors.extend(_errors(exc, key))
    return out, errors


def item_key(values: Mapping[str, Any]) -> tuple[str, str, str]:
    """What makes an item one entry of the catalogue: code, name and spec together."""
    return values["code"], values["name"], values.get("spec") or ""


def duplicate_item(values: Mapping[str, Any]) -> FieldError:
    code, name, spec = item_key(values)
    return FieldError("name", f"物资“{name} {spec}”（编码 {code}）已在目录中。", name)


def clean_item(draft: Mapping[str, Any], ctx: ServiceContext, current: Item | None = None
               ) -> tuple[dict[str, Any], list[FieldError]]:
    """A catalogue entry: its fields, and not one the catalogue already has (same code, name and spec)."""
    out, errors = item_fields(draft)
    if not errors:
        code, name, spec = item_key(out)
        q = select(Item.id).where(Item.code == code, Item.name == name, Item.spec == spec)
        if current is not None:
            q = q.where(Item.id != current.id)
        if ctx.session.scalar(q.limit(1)) is not None:
            errors.append(duplicate_item(out))
    return out, errors


def check_item(draft: Mapping[str, Any], ctx: ServiceContext, *, current: Item | None = None) -> list[FieldError]:
    return clean_item(draft, ctx, current)[1]


# ------------------------------------------------------------------------------------- receipts

def clean_receipt(draft: Mapping[str, Any], ctx: ServiceContext, current: Any = None
                  ) -> tuple[dict[str, Any], list[FieldError]]:
    """A delivery into a warehouse: ``warehouse`` (the Warehouse, in scope) active, ``item_name`` for
    the messages, ``qty`` a whole number > 0, ``batch_no`` (≤ 50), ``production_date`` not after
    today, ``expiry_date`` not before the production date nor before today (expired supplies are
    refused: ``expired`` is True in the result then), ``party`` (≤ 100) and ``note`` (≤ 200). Dates
    may be typed text. (That a batch already registered keeps its dates is checked when it is booked.)"""
    out: dict[str, Any] = {"expired": False}
    errors: list[FieldError] = []

    def run(key: str, fn, *args, **kwargs) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            errors.extend(_errors(exc, key))
            return None

    wh: Warehouse | None = draft.get("warehouse")
    if wh is not None and not wh.active:
        errors.append(FieldError("warehouse_id", f"仓库“{wh.name}”已停用，不能入库。", wh.id))
    out["qty"] = run("qty", fields.positive_int, draft.get("qty"), "入库数量", "qty")
    out["batch_no"] = batch_no = run("batch_no", fields.text, draft.get("batch_no"), "批次号", "batch_no", max_len=50)
    prod: date | None = run("production_date", fields.parse_date, draft.get("production_date"), "生产日期",
                            "production_date", required=False)
    exp: date | None = run("expiry_date", fields.parse_date, draft.get("expiry_date"), "有效期至", "expiry_date",
                           required=False)
    today = ctx.today()
    if prod and exp and exp < prod:
        errors.append(FieldError("expiry_date", f"有效期至 {exp} 早于生产日期 {prod}，请核对。", exp))
    if prod and prod > today:
        errors.append(FieldError("production_date", f"生产日期 {prod} 晚于今天，请核对。", prod))
    if exp and exp < today:
        name = draft.get("item_name") or ""
        batch = f"批次“{batch_no}”" if batch_no else "该批次"
        errors.append(FieldError("expiry_date", f"{name}{batch}已于 {exp} 过期，过期物资不能入库。", exp))
        out["expired"] = True
    out["production_date"], out["expiry_date"] = prod, exp
    out["party"] = run("party", fields.text, draft.get("party"), "来源/供货单位", "party", required=False)
    out["note"] = run("note", fields.text, draft.get("note"), "备注", "note", required=False, max_len=200)
    return out, errors


def check_receipt(draft: Mapping[str, Any], ctx: ServiceContext, *, current: Any = None) -> list[FieldError]:
    return clean_receipt(draft, ctx, current)[1]
