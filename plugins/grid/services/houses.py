"""Houses and occupancy (人房关联): registering and editing houses, moving in and out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter, subtree_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import Area
from shell.errors import FieldError, ValidationError, raise_if

from ..models import House, Occupancy, Person
from ..validation import (
    clean_house,
    house_taken,
)
from .common import P_PERSON, P_VIEW, Listing, _area_of, _code, _get, _text
from .tenants import _tenant_times


# --- houses and occupancy ----------------------------------------------------------------------
def create_house(ctx: ServiceContext, *, area_id: int, code: str, address: str, house_use: str = "自住",
                 building_use: str | None = "住宅", floor_area: Any = None, hazard: str | None = None,
                 owner_name: str | None = None, owner_id_number: str | None = None, owner_phone: str | None = None,
                 rental_pledge_on: date | None = None) -> House:
    ctx.actor.require(P_PERSON)
    area = _area_of(ctx, area_id)
    values, errors = clean_house(dict(code=code, address=address, house_use=house_use, building_use=building_use,
                                      floor_area=floor_area, hazard=hazard, owner_name=owner_name,
                                      owner_id_number=owner_id_number, owner_phone=owner_phone,
                                      rental_pledge_on=rental_pledge_on), ctx)
    if "code" in values:
        other = ctx.session.scalar(select(House).where(House.code == values["code"]))
        if other is not None:
            errors.append(FieldError("code", house_taken(values["code"], other.address), code))
    raise_if(errors)
    house = House(area_id=area.id, created_by=ctx.actor.user_id, **values)
    ctx.session.add(house)
    ctx.session.flush()
    return house


def update_house(ctx: ServiceContext, house_id: int, expected_version: int | None = None, **values) -> House:
    """Edit a house (the 房屋编号 and the grid stay; the owner's ID number is checked like any other)."""
    ctx.actor.require(P_PERSON)
    house = _get(ctx, House, house_id, "房屋")
    check_version(ctx.session, house, expected_version, "房屋信息")
    if "owner_id_number" in values and _personal.resubmitted(house.owner_id_number, values["owner_id_number"],
                                                             field="owner_id_number"):
        del values["owner_id_number"]  # the form sent back the masked number it showed: unchanged
    cleaned, errors = clean_house(values, ctx, current=house)
    raise_if(errors)
    for k, v in cleaned.items():
        setattr(house, k, v)
    flush_or_conflict(ctx.session, house, "房屋信息")
    return house


def get_house(ctx: ServiceContext, house_id: int) -> House:
    ctx.actor.require(P_VIEW)
    return _get(ctx, House, house_id, "房屋")


def houses_query(actor, text: str = "", area: Area | None = None, use: str | None = None):
    """Houses in scope matching an address fragment, the 房屋编号 or the owner's name (lazy list)."""
    q = select(House).where(scope_filter(House.area_id, actor))
    if area is not None:
        q = q.where(subtree_filter(House.area_id, area))
    if use:
        q = q.where(House.house_use == use)
    t = _text(text)
    if t:
        q = q.where(or_(House.address.contains(t, autoescape=True), House.code.startswith(_code(t), autoescape=True),
                        House.owner_name.startswith(t, autoescape=True)))
    return q


def houses_listing(actor, text: str = "", area: Area | None = None, use: str | None = None) -> Listing:
    """The house list: ``houses_query`` paged by id."""
    return Listing(houses_query(actor, text, area, use), House.id)


@dataclass(frozen=True)
class OccupancyRow:
    id: int
    house_id: int
    house_code: str
    address: str
    person_id: int
    person_name: str
    relation_to_owner: str
    is_tenant: bool
    start_date: date
    end_date: date | None
    end_reason: str | None
    moved_in_at: datetime | None = None
    reported_at: datetime | None = None

    @property
    def current(self) -> bool:
        return self.end_date is None


def _occupancy_rows(ctx: ServiceContext, where) -> list[OccupancyRow]:
    q = (select(Occupancy, House.code, House.address, Person.name)
         .join(House, House.id == Occupancy.house_id).join(Person, Person.id == Occupancy.person_id)
         .where(where).order_by(Occupancy.end_date.is_not(None), Occupancy.start_date.desc(), Occupancy.id.desc()))
    return [OccupancyRow(o.id, o.house_id, code, address, o.person_id, name, o.relation_to_owner or "",
                         bool(o.is_tenant), o.start_date, o.end_date, o.end_reason, o.moved_in_at, o.reported_at)
            for o, code, address, name in ctx.session.execute(q)]


def person_occupancies(ctx: ServiceContext, person_id: int) -> list[OccupancyRow]:
    """Where a person has lived: current first, then the closed periods newest first."""
    ctx.actor.require(P_VIEW)
    _get(ctx, Person, person_id, "人员")
    return _occupancy_rows(ctx, Occupancy.person_id == person_id)


def house_occupancies(ctx: ServiceContext, house_id: int) -> list[OccupancyRow]:
    """Who lives or lived in a house (使用人 with dates; tenants marked)."""
    ctx.actor.require(P_VIEW)
    _get(ctx, House, house_id, "房屋")
    return _occupancy_rows(ctx, Occupancy.house_id == house_id)


def move_in(ctx: ServiceContext, person_id: int, house_id: int, start: date | None = None,
            relation_to_owner: str = "", is_tenant: bool = False, *, moved_in_at: datetime | None = None,
            reported_at: datetime | None = None, reported: bool = True) -> Occupancy:
    """人房关联: the person lives in the house from ``start`` (the local date of ``moved_in_at``, the
    hour of moving in); an earlier open period elsewhere is closed the day before (history kept).

    A tenant's report to the grid (租客报备) is recorded at ``reported_at`` (default now); with
    ``reported=False`` the tenant is registered as not reported yet (found on a visit)."""
    ctx.actor.require(P_PERSON)
    person = _get(ctx, Person, person_id, "人员")
    house = _get(ctx, House, house_id, "房屋")
    start, moved_in_at, reported_at = _tenant_times(ctx, start, moved_in_at, reported_at, bool(is_tenant), reported)
    for occ in ctx.session.scalars(select(Occupancy).where(Occupancy.person_id == person.id,
                                                           Occupancy.end_date.is_(None))):
        if occ.house_id == house.id:
            raise ValidationError(f"{person.name}已登记居住在{house.address}（自 {occ.start_date} 起）。",
                                  "house_id", house_id)
        if start <= occ.start_date:
            raise ValidationError(f"入住日期 {start} 早于上一处住房的入住日期 {occ.start_date}。", "start_date", start)
        _close_occupancy(occ, start - timedelta(days=1), "搬迁")
    occ = Occupancy(area_id=house.area_id, house_id=house.id, person_id=person.id,
                    relation_to_owner=_text(relation_to_owner), is_tenant=bool(is_tenant), start_date=start,
                    moved_in_at=moved_in_at, reported_at=reported_at, created_by=ctx.actor.user_id)
    ctx.session.add(occ)
    person.house_id = house.id
    if house.address and not person.current_address:
        person.current_address = house.address
    ctx.session.flush()
    return occ


def _close_occupancy(occ: Occupancy, on: date, reason: str) -> None:
    if on < occ.start_date:
        raise ValidationError(f"搬离日期 {on} 早于入住日期 {occ.start_date}。", "end_date", on)
    occ.end_date, occ.end_reason = on, reason


def move_out_of_house(ctx: ServiceContext, person_id: int, house_id: int, on: date | None = None,
                      reason: str = "搬离") -> Occupancy:
    ctx.actor.require(P_PERSON)
    person = _get(ctx, Person, person_id, "人员")
    occ = ctx.session.scalar(select(Occupancy).where(Occupancy.person_id == person.id,
                                                     Occupancy.house_id == house_id, Occupancy.end_date.is_(None)))
    if occ is None:
        raise ValidationError(f"{person.name}目前没有登记居住在这处房屋。", "house_id", house_id)
    _close_occupancy(occ, on or ctx.today(), reason)
    if person.house_id == house_id:
        person.house_id = None
    ctx.session.flush()
    return occ


def occupants(ctx: ServiceContext, house_id: int, on: date | None = None, history: bool = False) -> list[Occupancy]:
    ctx.actor.require(P_VIEW)
    _get(ctx, House, house_id, "房屋")
    q = select(Occupancy).where(Occupancy.house_id == house_id)
    if not history:
        on = on or ctx.today()
        q = q.where(Occupancy.start_date <= on, or_(Occupancy.end_date.is_(None), Occupancy.end_date >= on))
    return list(ctx.session.scalars(q.order_by(Occupancy.start_date, Occupancy.id)))


def search_houses(ctx: ServiceContext, text: str, limit: int = 20) -> list[House]:
    ctx.actor.require(P_VIEW)
    t = _text(text)
    if not t:
        return []
    q = select(House).where(scope_filter(House.area_id, ctx.actor),
                            or_(House.address.contains(t, autoescape=True), House.code == t)).order_by(House.id).limit(limit)
    return list(ctx.session.scalars(q))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
