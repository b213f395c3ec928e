"""Shared by the emergency services: text/number/choice rules, area and record look-ups in scope."""
from __future__ import annotations

import re
from typing import Literal, overload

from shell.core import personal as _personal
from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.errors import NotFound, ValidationError

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


_PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


def _phone(value, field: str, label: str, required: bool = False) -> str | None:
    value = _text(value, field, label, required, 32)
    if value and not _PHONE_RE.match(value.replace(" ", "")):
        raise ValidationError(f"{label}“{value}”格式不正确：手机号 11 位，座机如 0571-87654321。", field, value)
    return value.replace(" ", "") if value else None


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
