"""实有人口: registering, editing, finding and listing persons; moving out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter, subtree_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import Area
from shell.db.sql import StartsWith, spelled
from shell.errors import FieldError, ValidationError, raise_if
from shell.text import looks_like_id_number

from ..models import House, Household, Occupancy, Person
from ..validation import (
    clean_person,
    head_taken,
    id_taken,
)
from .common import (
    FULL_VIEW,
    P_PERSON,
    P_VIEW,
    Listing,
    _area_of,
    _code,
    _get,
    _text,
    area_label,
    name_initials,
    name_pinyin,
)
from .houses import _close_occupancy
from .tenants import _tenant_times

# --- persons -----------------------------------------------------------------------------------


def duplicate_message(session, person: Person) -> str:
    return id_taken(person.name, area_label(session, person.area_id))


def find_by_id_number(session, number: str) -> Person | None:
    return session.scalar(select(Person).where(Person.id_number == number))




def register_person(ctx: ServiceContext, *, area_id: int, name: str, id_number: str, kind: str = "registered",
                    phone: str | None = None, household_id: int | None = None, house_id: int | None = None,
                    moved_in_at: datetime | None = None, reported_at: datetime | None = None,
                    **extra) -> Person:
    """登记一名实有人口. Refuses a duplicate ID number with a pointer to the existing record. With a
    ``house_id`` the person lives there from ``moved_in_at`` (default now); a 流动人口 in a rental house
    is its tenant, reported at ``reported_at`` (default now)."""
    ctx.actor.require(P_PERSON)
    area = _area_of(ctx, area_id)
    values, errors = clean_person(dict(name=name, id_number=id_number, kind=kind, phone=phone, **extra), ctx)
    if "id_number" in values:
        existing = find_by_id_number(ctx.session, values["id_number"])
        if existing is not None:
            errors.append(FieldError("id_number", duplicate_message(ctx.session, existing), id_number))
    if house_id is None and (moved_in_at is not None or reported_at is not None):
        errors.append(FieldError("house_id", "没有登记现住房屋，不能填写入住时间或报备时间。"))
    raise_if(errors)
    if household_id is not None:
        _get(ctx, Household, household_id, "户")
    if house_id is not None:
        _get(ctx, House, house_id, "房屋")
    if values.get("relation_to_head") == "户主" and household_id is not None:
        _check_single_head(ctx, household_id, None)
    note = values.pop("id_note")
    person = Person(area_id=area.id, name_initials=name_initials(values["name"]),
                    name_pinyin=name_pinyin(values["name"]), id_type="111",
                    household_id=household_id, house_id=house_id, created_by=ctx.actor.user_id, **values)
    if note:
        person.notes = (person.notes + "\n" if person.notes else "") + note
    ctx.session.add(person)
    ctx.session.flush()
    if house_id is not None:   # 人房关联 from moving in, so the house's occupants and history see them
        house = ctx.session.get_one(House, house_id)
        tenant = kind == "floating" and house.is_rental
        start, moved, reported = _tenant_times(ctx, None, moved_in_at, reported_at, tenant, reported=True)
        ctx.session.add(Occupancy(area_id=house.area_id, house_id=house.id, person_id=person.id,
                                  relation_to_owner="租客" if kind == "floating" else "",
                                  is_tenant=tenant, start_date=start, moved_in_at=moved, reported_at=reported,
                                  created_by=ctx.actor.user_id))
        if not person.current_address:
            person.current_address = house.address
        ctx.session.flush()
    return person


def _check_single_head(ctx: ServiceContext, household_id: int, person_id: int | None) -> None:
    q = select(Person).where(Person.household_id == household_id, Person.relation_to_head == "户主",
                             Person.status == "active")
    if person_id is not None:
        q = q.where(Person.id != person_id)
    head = ctx.session.scalar(q)
    if head is not None:
        raise ValidationError(head_taken(head.name), "relation_to_head", "户主")


def update_person(ctx: ServiceContext, person_id: int, expected_version: int | None = None, **values) -> Person:
    ctx.actor.require(P_PERSON)
    person = _get(ctx, Person, person_id, "人员")
    check_version(ctx.session, person, expected_version, "人员信息")
    if "area_id" in values:
        person.area_id = _area_of(ctx, values.pop("area_id")).id
    new_household = "household_id" in values
    hid = values.pop("household_id", None)
    cleaned, errors = clean_person(values, ctx, current=person)
    raise_if(errors)
    if new_household:
        if hid is not None:
            _get(ctx, Household, hid, "户")
        person.household_id = hid
    if "name" in cleaned:
        person.name_initials = name_initials(cleaned["name"])
        person.name_pinyin = name_pinyin(cleaned["name"])
    if cleaned.get("relation_to_head", person.relation_to_head) == "户主" and person.household_id:
        _check_single_head(ctx, person.household_id, person.id)
    for k, v in cleaned.items():
        setattr(person, k, v)
    flush_or_conflict(ctx.session, person, "人员信息")
    return person


def get_person(ctx: ServiceContext, person_id: int) -> Person:
    ctx.actor.require(P_VIEW)
    return _get(ctx, Person, person_id, "人员")


@_personal.raw
def full_id_number(ctx: ServiceContext, person_id: int) -> str:
    """The unmasked ID number: needs core.personal.full_view and is written to the audit log."""
    ctx.actor.require(P_VIEW)
    ctx.actor.require(FULL_VIEW)
    person = _get(ctx, Person, person_id, "人员")
    return _personal.full_value(ctx, person.id_number, "grid_persons", person.id, f"查看{person.name}的完整身份证号")


@dataclass(frozen=True)
class PersonRow:
    id: int
    name: str
    sex: str | None
    birth_date: date | None
    id_number: str           # always masked in lists; reveal_id_number() gives the full one (audited)
    phone: str | None
    kind: str
    area_id: int
    current_address: str | None
    version_id: int


def search_persons_query(actor, text: str = "", area: Area | None = None, include_inactive: bool = False):
    """A SELECT of Person rows in scope matching ``text`` (name, pinyin initials, ID number, phone),
    for keyset paging by id. Shared by ``list_persons`` and the lazy table of the resident list."""
    t = _text(text).replace(" ", "")
    if t and (looks_like_id_number(_code(t)) or _code(t).isdigit()):
        t = _code(t)
    # For a prefix of an ID number, phone or initials the planner must take that column's index: the
    # area filter of a street-wide user matches every row, and without table statistics SQLite would
    # otherwise prefer it. "area_id + 0" keeps the filter and takes it out of the index choice.
    prefix_search = bool(t) and (looks_like_id_number(t) and len(t) >= 6 or (t.isascii() and not t.isdigit()))
    area_col = Person.area_id + 0 if prefix_search else Person.area_id
    q = select(Person).where(scope_filter(area_col, actor))
    if area is not None:
        q = q.where(subtree_filter(area_col, area))
    if not include_inactive:
        q = q.where(Person.status == "active")
    if t:
        if looks_like_id_number(t) and len(t) >= 6:
            up = t.upper()
            # Phone numbers are 11 digits starting with 1; ID numbers start with a region code.
            conds = [Person.id_number == up if len(up) == 18 else StartsWith(Person.id_number, up)]
            if t.isdigit() and len(t) <= 11:
                conds.append(StartsWith(Person.phone, t))
            q = q.where(or_(*conds))
        elif t.isdigit():
            q = q.where(Person.phone.contains(t, autoescape=True))   # a few digits of a phone: scan
        elif t.isascii():
            q = q.where(spelled(Person.name_initials, Person.name_pinyin, t))
        else:
            # Part of a name ("小明" finds 王小明) needs a scan; in a subquery of ids it scans the narrow
            # name index instead of the whole table (half the time on a street of 200,000).
            q = q.where(Person.id.in_(select(Person.id).where(Person.name.contains(t, autoescape=True))))
    return q


def persons_listing(actor, text: str = "", area: Area | None = None, include_inactive: bool = False) -> Listing:
    """The resident list: ``search_persons_query`` paged by id."""
    return Listing(search_persons_query(actor, text, area, include_inactive), Person.id)


def list_persons(ctx: ServiceContext, text: str = "", area_id: int | None = None, after_id: int | None = None,
                 limit: int = 50, include_inactive: bool = False) -> list[PersonRow]:
    """One page of persons ordered by id (keyset: pass the last id seen as ``after_id``)."""
    ctx.actor.require(P_VIEW)
    area = _get(ctx, Area, area_id, "辖区") if area_id is not None else None
    q = search_persons_query(ctx.actor, text, area, include_inactive)
    if after_id is not None:
        q = q.where(Person.id > after_id)
    from reports.masking import mask_id

    rows = []
    for p in ctx.session.scalars(q.order_by(Person.id).limit(max(1, min(limit, 500)))):
        rows.append(PersonRow(p.id, p.name, p.sex, p.birth_date, mask_id(p.id_number),
                              p.phone, p.kind, p.area_id, p.current_address, p.version_id))
    return rows


def move_out(ctx: ServiceContext, person_id: int, on: date | None = None, reason: str = "迁出",
             status: str = "moved_out") -> Person:
    """A person leaves: open occupancies are closed (history kept), the record is marked, not deleted."""
    ctx.actor.require(P_PERSON)
    person = _get(ctx, Person, person_id, "人员")
    if status not in ("moved_out", "deceased"):
        raise ValidationError(f"状态“{status}”无效。", "status", status)
    on = on or ctx.today()
    for occ in ctx.session.scalars(select(Occupancy).where(Occupancy.person_id == person.id,
                                                           Occupancy.end_date.is_(None))):
        _close_occupancy(occ, on, reason)
    person.status = status
    person.house_id = None
    flush_or_conflict(ctx.session, person, "人员信息")
    return person


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
