"""Shared by the emergency services: text/number/choice rules, area and record look-ups in scope."""
from __future__ import annotations

from typing import Literal, overload

from shell.core import fields
from shell.core import personal as _personal
from shell.core.context import ServiceContext
from shell.core.fields import PHONE_RE
from shell.core.models import Area
from shell.errors import NotFound, ValidationError

# ----------------------------------------------------------------------------- helpers

@overload
def _text(value, field: str, label: str, required: Literal[True] = True, max_len: int = 100) -> str: ...
@overload
def _text(value, field: str, label: str, required: bool, max_len: int = 100) -> str | None: ...
def _text(value, field: str, label: str, required: bool = True, max_len: int = 100) -> str | None:
    """shell.core.fields.text in this plugin's argument order (field before label)."""
    return fields.text(value, label, field, required=required, max_len=max_len)


def _positive_int(value, field: str, label: str) -> int:
    """shell.core.fields.positive_int in this plugin's argument order."""
    return fields.positive_int(value, label, field)


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


def _phone(value, field: str, label: str, required: bool = False) -> str | None:
    """The shared phone rule (shell.core.fields.PHONE_RE, full-width digits folded); this plugin's wording."""
    value = _text(value, field, label, required, 32)
    if value and not PHONE_RE.match(fields.code_text(value)):
        raise ValidationError(f"{label}“{value}”格式不正确：手机号 11 位，座机如 0571-87654321。", field, value)
    return fields.code_text(value) if value else None


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
