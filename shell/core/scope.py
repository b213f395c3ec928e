"""Fetch a record or an area the actor may work on — one rule for every plugin's services: a
missing record is ``NotFound`` (someone else may have deleted it), a record outside the actor's
area scope is ``OutOfScope``."""
from __future__ import annotations

from typing import Any, TypeVar

from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.errors import NotFound, ValidationError

T = TypeVar("T")


def get_in_scope(ctx: ServiceContext, model: type[T], record_id: Any, what: str) -> T:
    """``model`` row ``record_id``; its area (``area_id``, when the model has one) must be in the actor's scope."""
    obj = ctx.session.get(model, record_id) if record_id is not None else None
    if obj is None:
        raise NotFound(f"{what} {record_id} 不存在，可能已被他人删除。请刷新。")
    area_id = getattr(obj, "area_id", None)
    if area_id is not None:
        area = ctx.session.get(Area, area_id)
        if area is not None:
            ctx.actor.require_scope(area)
    return obj


def area_in_scope(ctx: ServiceContext, area_id: Any, field: str = "area_id", *, open_only: bool = True,
                  label: str = "所属网格") -> Area:
    """The area a record is being registered on: it exists, is in the actor's scope and (with
    ``open_only``) has not been closed."""
    if area_id is None or area_id == "":
        raise ValidationError(f"请选择{label}。", field, area_id)
    area = ctx.session.get(Area, area_id)
    if area is None:
        raise ValidationError(f"{label}“{area_id}”不存在。", field, area_id)
    ctx.actor.require_scope(area)
    if open_only and not area.is_open:
        raise ValidationError(f"“{area.name}”已撤销，不能再登记。", field, area_id)
    return area
