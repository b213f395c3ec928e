"""Shelters (避难场所)."""
from __future__ import annotations

from sqlalchemy import select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.scope import get_in_scope
from shell.errors import ValidationError

from ..models import (
    SHELTER_STATUS,
    Shelter,
)
from .common import _area, _choice, _phone, _positive_int, _text

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
    s = get_in_scope(ctx, Shelter, shelter_id, "避难场所")
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
    s = get_in_scope(ctx, Shelter, shelter_id, "避难场所")
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


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
