"""Grid business operations (no Qt). Every function takes a ServiceContext and checks the actor's
permission codes (``grid.*``) and area scope itself; bad input raises a Chinese ValidationError
naming the field and the value."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Boolean, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from shell.clock import LOCAL_TZ, format_local, local_today
from shell.core import calendar, settings
from shell.core import fields as _fields
from shell.core import personal as _personal
from shell.core.areas import scope_filter, subtree_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import Area
from shell.db.sql import StartsWith
from shell.errors import FieldError, NotFound, ValidationError, raise_if
from shell.idnumber import parse_id_number  # noqa: F401 - svc.parse_id_number for the tests and plugins
from shell.text import looks_like_id_number, pinyin_initials

from .models import (  # noqa: F401 - HOUSE_USES, ORG_KINDS, PERSON_KINDS: read as svc.* by the views and ledgers
    HOUSE_USES,
    ORG_KINDS,
    PERSON_KINDS,
    STAFF_ROLES,
    Event,
    EventAttachment,
    EventCategory,
    EventStep,
    GridStaff,
    House,
    Household,
    Occupancy,
    Organisation,
    Person,
    SpecialPerson,
    Visit,
    VisitLog,
)
from .rules import ATTACHMENT_MAX_MB, HOUSEHOLDS_PER_WORKER, RENTAL_REPORT_HOURS
from .validation import (
    DATE_FIELDS,
    PERSON_FIELDS,
    clean_house,
    clean_household,
    clean_organisation,
    clean_person,
    head_taken,
    house_taken,
    household_taken,
    id_taken,
    organisation_taken,
)

# --- permissions -------------------------------------------------------------------------------
P_VIEW = "grid.view"
P_PERSON = "grid.person.edit"
P_REPORT = "grid.event.report"
P_REGISTER = "grid.event.register"
P_DISPATCH = "grid.event.dispatch"
P_HANDLE = "grid.event.handle"
P_VERIFY = "grid.event.verify"
P_CLOSE = "grid.event.close"
P_ESCALATE = "grid.event.escalate"
P_CATEGORY = "grid.category.manage"
P_STAFF = "grid.staff.manage"
P_SPECIAL = "grid.special.edit"
P_LOG = "grid.log.edit"
P_IMPORT = "grid.import"
FULL_VIEW = "core.personal.full_view"

PERMISSION_LABELS = {
    P_VIEW: "查看网格数据（人口、房屋、组织、事件）",
    P_PERSON: "登记和修改人口、户、房屋、组织",
    P_REPORT: "上报事件",
    P_REGISTER: "事件立案或不予立案",
    P_DISPATCH: "派遣事件",
    P_HANDLE: "处置事件（含退回）",
    P_VERIFY: "核查事件",
    P_CLOSE: "事件结案",
    P_ESCALATE: "督办事件",
    P_CATEGORY: "管理事件类别与处置时限",
    P_STAFF: "管理网格长、网格员配备",
    P_SPECIAL: "特殊人群管理与走访",
    P_LOG: "填写民情日志",
    P_IMPORT: "导入导出人口数据",
}



# --- small helpers -----------------------------------------------------------------------------
def _text(value: Any) -> str:
    """Strip spaces, including the full-width space (Chinese punctuation is kept as typed)."""
    if value is None:
        return ""
    return str(value).replace("\u3000", " ").strip()


def _code(value: Any) -> str:
    """For numbers and codes: fold full-width characters (Ｘ, １２３) to ASCII, drop all spaces."""
    if value is None:
        return ""
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.replace(" ", "").strip()


def _required(value: Any, field_name: str, label: str) -> str:
    v = _text(value)
    if not v:
        raise ValidationError(f"请填写{label}。", field_name, value)
    return v


_FIRST_LETTERS: dict[str, str] | None = None


def _first_letters() -> dict[str, str]:
    """Character → first letter of its first reading, from pypinyin's own character table
    (pinyin_dict.json) read directly: importing pypinyin also loads its phrase dictionary and trains
    its segmenter (≈0.5 s), which per-character initials never use. The result is the same as
    shell.text.pinyin_initials for every character in the table (tests check the name characters)."""
    global _FIRST_LETTERS
    if _FIRST_LETTERS is None:
        import importlib.util
        import json
        import os

        spec = importlib.util.find_spec("pypinyin")
        assert spec is not None and spec.submodule_search_locations  # a dependency, installed as a package
        folder = spec.submodule_search_locations[0]
        with open(os.path.join(folder, "pinyin_dict.json"), encoding="utf8") as fp:
            raw = json.load(fp)
        table = {}
        for code, readings in raw.items():
            first = unicodedata.normalize("NFD", readings.split(",", 1)[0])[:1].lower()
            if first.isascii() and first.isalpha():
                table[chr(int(code))] = first
        _FIRST_LETTERS = table
    return _FIRST_LETTERS


@lru_cache(maxsize=65536)
def name_initials(name: str) -> str:
    """Pinyin initials of a name ("张三" → "zs"), character by character; bulk imports meet the same
    names and characters over and over, hence the caches. A character outside pypinyin's table
    (e.g. the "·" in 阿依古丽·买买提) goes to shell.text.pinyin_initials, which keeps it as typed."""
    letters = _FIRST_LETTERS or _first_letters()
    out = []
    for ch in name or "":
        if ch.isascii():
            if ch.isalnum():
                out.append(ch.lower())
        else:
            letter = letters.get(ch)
            out.append(letter if letter is not None else pinyin_initials(ch))
    return "".join(out)


def _area_of(ctx: ServiceContext, area_id: int, field_name: str = "area_id") -> Area:
    area = ctx.session.get(Area, area_id) if area_id is not None else None
    if area is None:
        raise ValidationError(f"所属网格“{area_id}”不存在。", field_name, area_id)
    ctx.actor.require_scope(area)
    if not area.is_open:
        raise ValidationError(f"“{area.name}”已撤销，不能再登记。", field_name, area_id)
    return area


def _get(ctx: ServiceContext, model, record_id: int, what: str):
    obj = ctx.session.get(model, record_id)
    if obj is None:
        raise NotFound(f"{what} {record_id} 不存在，可能已被他人删除。请刷新。")
    area = ctx.session.get(Area, obj.area_id) if getattr(obj, "area_id", None) is not None else None
    if area is not None:
        ctx.actor.require_scope(area)
    return obj


def area_label(session, area_id: int | None) -> str:
    area = session.get(Area, area_id) if area_id else None
    if area is None:
        return ""
    if area.parent_id:
        parent = session.get(Area, area.parent_id)
        if parent is not None and parent.level != "street":
            return f"{parent.name}{area.name}"
    return area.name


def grids_in_scope(ctx: ServiceContext) -> list[Area]:
    """Open grids (and micro-grids) the actor may record on, in tree order."""
    from shell.core.areas import tree_sorted

    ctx.actor.require(P_VIEW)
    q = select(Area).where(Area.level.in_(("grid", "microgrid")), Area.closed_on.is_(None),
                           scope_filter(Area.id, ctx.actor))
    return tree_sorted(ctx.session.scalars(q))


def area_tree(ctx: ServiceContext) -> list[Area]:
    """The open areas in the actor's scope (street → community → grid → micro-grid), parents first,
    detached so a page can keep them: the tree beside the grid's lists."""
    from shell.core.areas import tree_sorted

    ctx.actor.require(P_VIEW)
    areas = tree_sorted(ctx.session.scalars(select(Area).where(Area.closed_on.is_(None),
                                                               scope_filter(Area.id, ctx.actor))))
    for a in areas:
        ctx.session.expunge(a)
    return areas


# --- ID numbers: shell.idnumber (one validator for every plugin) --------------------------------


PHONE_RE = _fields.PHONE_RE


def _phone(value: Any, field_name: str = "phone") -> str | None:
    return _fields.phone(value, field_name)


# --- persons -----------------------------------------------------------------------------------
# PERSON_FIELDS, DATE_FIELDS: the person's optional fields (plugins/grid/validation.py)
__all__ = ["DATE_FIELDS", "PERSON_FIELDS"]


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
    person = Person(area_id=area.id, name_initials=name_initials(values["name"]), id_type="111",
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
            q = q.where(StartsWith(Person.name_initials, t.lower()))
        else:
            # Part of a name ("小明" finds 王小明) needs a scan; in a subquery of ids it scans the narrow
            # name index instead of the whole table (half the time on a street of 200,000).
            q = q.where(Person.id.in_(select(Person.id).where(Person.name.contains(t, autoescape=True))))
    return q


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


# --- households --------------------------------------------------------------------------------
def create_household(ctx: ServiceContext, area_id: int, number: str, address: str = "",
                     house_id: int | None = None) -> Household:
    ctx.actor.require(P_PERSON)
    area = _area_of(ctx, area_id)
    values, errors = clean_household(dict(number=number, address=address), ctx)
    if "number" in values:
        other = ctx.session.scalar(select(Household).where(Household.number == values["number"]))
        if other is not None:
            errors.append(FieldError("number", household_taken(values["number"], area_label(ctx.session, other.area_id)),
                                     number))
    raise_if(errors)
    if house_id is not None:
        _get(ctx, House, house_id, "房屋")
    hh = Household(area_id=area.id, number=values["number"], address=values["address"], house_id=house_id,
                   created_by=ctx.actor.user_id)
    ctx.session.add(hh)
    ctx.session.flush()
    return hh


def add_to_household(ctx: ServiceContext, household_id: int, person_id: int, relation: str) -> Person:
    ctx.actor.require(P_PERSON)
    hh = _get(ctx, Household, household_id, "户")
    person = _get(ctx, Person, person_id, "人员")
    relation = _required(relation, "relation_to_head", "与户主关系")
    if relation == "户主":
        _check_single_head(ctx, hh.id, person.id)
    person.household_id, person.relation_to_head = hh.id, relation
    flush_or_conflict(ctx.session, person, "人员信息")
    return person


def household_members(ctx: ServiceContext, household_id: int) -> list[Person]:
    ctx.actor.require(P_VIEW)
    _get(ctx, Household, household_id, "户")
    return list(ctx.session.scalars(select(Person).where(Person.household_id == household_id,
                                                         Person.status == "active")
                                    .order_by((Person.relation_to_head != "户主"), Person.id)))


def household_head(ctx: ServiceContext, household_id: int) -> Person | None:
    members = household_members(ctx, household_id)
    return next((p for p in members if p.relation_to_head == "户主"), None)


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


# --- households: editing -----------------------------------------------------------------------
RELATIONS = ("户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "兄弟姐妹", "儿媳", "女婿", "其他")


def get_household(ctx: ServiceContext, household_id: int) -> Household:
    ctx.actor.require(P_VIEW)
    return _get(ctx, Household, household_id, "户")


def households_query(actor, text: str = "", area: Area | None = None):
    q = select(Household).where(scope_filter(Household.area_id, actor))
    if area is not None:
        q = q.where(subtree_filter(Household.area_id, area))
    t = _text(text)
    if t:
        heads = select(Person.household_id).where(Person.relation_to_head == "户主",
                                                  Person.name.startswith(t, autoescape=True))
        q = q.where(or_(Household.number.startswith(_code(t), autoescape=True),
                        Household.address.contains(t, autoescape=True), Household.id.in_(heads)))
    return q


def household_heads(ctx: ServiceContext, household_ids: list[int]) -> dict[int, tuple[str, int]]:
    """{household id: (head's name, active member count)} for a page of the household list."""
    ctx.actor.require(P_VIEW)
    if not household_ids:
        return {}
    out: dict[int, tuple[str, int]] = {}
    q = select(Person.household_id, Person.name, Person.relation_to_head).where(
        Person.household_id.in_(household_ids), Person.status == "active")
    for hid, name, rel in ctx.session.execute(q):
        assert hid is not None  # the WHERE reads household_id IN (…)
        head, n = out.get(hid, ("", 0))
        out[hid] = (name if rel == "户主" else head, n + 1)
    return out


def update_household(ctx: ServiceContext, household_id: int, expected_version: int | None = None, *,
                     address: str | None = None, house_id: int | None = None, notes: str | None = None) -> Household:
    ctx.actor.require(P_PERSON)
    hh = _get(ctx, Household, household_id, "户")
    check_version(ctx.session, hh, expected_version, "户信息")
    draft = {k: v for k, v in (("address", address), ("notes", notes)) if v is not None}
    cleaned, errors = clean_household(draft, ctx, current=hh)
    raise_if(errors)
    if house_id is not None:
        hh.house_id = _get(ctx, House, house_id, "房屋").id
    for k, v in cleaned.items():
        setattr(hh, k, v)
    flush_or_conflict(ctx.session, hh, "户信息")
    return hh


def set_relation(ctx: ServiceContext, household_id: int, person_id: int, relation: str) -> Person:
    """Change a member's 与户主关系 (the head changes through change_head)."""
    ctx.actor.require(P_PERSON)
    _get(ctx, Household, household_id, "户")  # the household's scope first, then the member's
    person = _get(ctx, Person, person_id, "人员")
    if person.household_id != household_id:
        raise ValidationError(f"{person.name}不是这一户的成员。", "person_id", person_id)
    relation = _required(relation, "relation_to_head", "与户主关系")
    if relation == "户主" or person.relation_to_head == "户主":
        raise ValidationError("更换户主请用“设为户主”：原户主同时改为新的关系。", "relation_to_head", relation)
    person.relation_to_head = relation
    flush_or_conflict(ctx.session, person, "人员信息")
    return person


def change_head(ctx: ServiceContext, household_id: int, new_head_id: int, old_head_relation: str) -> Person:
    """A member becomes 户主; the former head (if any) takes ``old_head_relation``, in one step."""
    ctx.actor.require(P_PERSON)
    hh = _get(ctx, Household, household_id, "户")
    new = _get(ctx, Person, new_head_id, "人员")
    if new.household_id != hh.id or new.status != "active":
        raise ValidationError(f"{new.name}不是这一户的在册成员。", "person_id", new_head_id)
    old = household_head(ctx, hh.id)
    if old is not None and old.id != new.id:
        rel = _required(old_head_relation, "relation_to_head", "原户主的新关系")
        if rel == "户主":
            raise ValidationError("原户主的新关系不能仍是户主。", "relation_to_head", rel)
        old.relation_to_head = rel
        flush_or_conflict(ctx.session, old, "人员信息")
    new.relation_to_head = "户主"
    flush_or_conflict(ctx.session, new, "人员信息")
    return new


def remove_from_household(ctx: ServiceContext, household_id: int, person_id: int) -> Person:
    """A member leaves the household (分户, 迁出): the person's record stays, only the link ends.
    The head leaves last, or after another member became head."""
    ctx.actor.require(P_PERSON)
    _get(ctx, Household, household_id, "户")
    person = _get(ctx, Person, person_id, "人员")
    if person.household_id != household_id:
        raise ValidationError(f"{person.name}不是这一户的成员。", "person_id", person_id)
    if person.relation_to_head == "户主" and len(household_members(ctx, household_id)) > 1:
        raise ValidationError(f"{person.name}是户主：请先把另一名成员设为户主。", "person_id", person_id)
    person.household_id, person.relation_to_head = None, None
    flush_or_conflict(ctx.session, person, "人员信息")
    return person


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


# --- tenants: 出租房屋租客报备 -----------------------------------------------------------------
# A landlord reports each new tenant to the grid within grid.rental_report_hours of the move-in.
# Late = reported more than that many hours after moving in, or not reported and moved in longer ago.
TENANT_FILTERS = {"all": "全部租客", "late": "逾期报备", "unreported": "尚未报备"}


def _when(value: Any, field_name: str, label: str) -> datetime:
    """An aware UTC datetime; a naive one (an Excel cell, a script) is Beijing wall-clock time."""
    if not isinstance(value, datetime):
        raise ValidationError(f"{label}“{value}”不是日期时间，应写成 2026-12-03 14:30 这样。", field_name, value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)


def _day_start(day: date) -> datetime:
    """00:00 Beijing time of ``day``: the earliest a move-in known only by its date can have been."""
    return datetime.combine(day, time(0, 0), LOCAL_TZ).astimezone(UTC)


def _check_report_time(ctx: ServiceContext, moved_in_at: datetime, reported_at: datetime) -> None:
    now = ctx.now()
    if reported_at > now:
        raise ValidationError(f"报备时间 {format_local(reported_at)} 晚于现在（{format_local(now)}）：不能登记将来的报备，"
                              "请核对报备时间。", "reported_at", reported_at)
    if reported_at < moved_in_at:
        raise ValidationError(f"报备时间 {format_local(reported_at)} 早于入住时间 {format_local(moved_in_at)}："
                              "请核对两个时间。", "reported_at", reported_at)


def _tenant_times(ctx: ServiceContext, start: date | None, moved_in_at: Any, reported_at: Any, is_tenant: bool,
                  reported: bool) -> tuple[date, datetime, datetime | None]:
    """(start_date, moved_in_at, reported_at) of a new occupancy. Only a date given → its 00:00;
    nothing given → now. Only tenants are reported; a tenant's report defaults to now."""
    if moved_in_at is not None:
        moved_in_at = _when(moved_in_at, "moved_in_at", "入住时间")
        day = local_today(moved_in_at)
        if start is not None and start != day:
            raise ValidationError(f"入住日期 {start} 与入住时间 {format_local(moved_in_at)} 不是同一天，请核对。",
                                  "start_date", start)
        start = day
    elif start is None:
        start, moved_in_at = ctx.today(), ctx.now()
    else:
        moved_in_at = _day_start(start)
    if not is_tenant or not reported:
        if reported_at is not None:
            reason = "不是租客，无需报备" if not is_tenant else "已选择“尚未报备”"
            raise ValidationError(f"{reason}，不能填写报备时间 {format_local(_when(reported_at, 'reported_at', '报备时间'))}。",
                                  "reported_at", reported_at)
        return start, moved_in_at, None
    reported_at = ctx.now() if reported_at is None else _when(reported_at, "reported_at", "报备时间")
    _check_report_time(ctx, moved_in_at, reported_at)
    return start, moved_in_at, reported_at


def record_tenant_report(ctx: ServiceContext, occupancy_id: int, reported_at: datetime | None = None,
                         expected_version: int | None = None) -> Occupancy:
    """登记报备: the landlord reported this tenant at ``reported_at`` (default now); also corrects a
    report time entered wrongly. Not in the future, not before the move-in."""
    ctx.actor.require(P_PERSON)
    occ = _get(ctx, Occupancy, occupancy_id, "人房关联")
    check_version(ctx.session, occ, expected_version, "租客报备")
    if not occ.is_tenant:
        raise ValidationError("这条人房关联登记的不是租客，无需报备。", "occupancy_id", occupancy_id)
    when = ctx.now() if reported_at is None else _when(reported_at, "reported_at", "报备时间")
    _check_report_time(ctx, occ.moved_in_at, when)
    occ.reported_at = when
    flush_or_conflict(ctx.session, occ, "租客报备")
    return occ


class _ReportedAfter(ColumnElement):
    """``reported - moved > hours`` (whole seconds), on both engines: SQLite has no interval type."""

    type = Boolean()
    inherit_cache = False         # the hours are written into the statement
    _is_implicitly_boolean = True

    def __init__(self, reported, moved, hours: int):
        self.reported, self.moved, self.hours = reported, moved, int(hours)


@compiles(_ReportedAfter)
def _reported_after_default(element, compiler, **kw):
    return (f"({compiler.process(element.reported, **kw)} - {compiler.process(element.moved, **kw)}) "
            f"> INTERVAL '{element.hours} hours'")


@compiles(_ReportedAfter, "sqlite")
def _reported_after_sqlite(element, compiler, **kw):
    # UTCDateTime keeps naive UTC text on SQLite; strftime('%s') reads it as UTC seconds
    return (f"(CAST(strftime('%s', {compiler.process(element.reported, **kw)}) AS INTEGER) - "
            f"CAST(strftime('%s', {compiler.process(element.moved, **kw)}) AS INTEGER)) > {element.hours * 3600}")


def report_hours_limit(session) -> int:
    """The norm grid.rental_report_hours (for captions; the queries below read it themselves)."""
    return int(settings.get(session, RENTAL_REPORT_HOURS))


def _late_clause(hours: int, now: datetime):
    return or_(_ReportedAfter(Occupancy.reported_at, Occupancy.moved_in_at, hours),
               and_(Occupancy.reported_at.is_(None), Occupancy.moved_in_at < now - timedelta(hours=hours)))


def tenant_conditions(ctx: ServiceContext, area_id: int | None = None, include_ended: bool = False) -> list:
    """WHERE clauses for the tenants (Occupancy rows) the actor may see: current ones (moved in by
    today, not moved out before today) unless ``include_ended``; in ``area_id``'s subtree if given.
    The tenant list, the count and the rentals ledger share them, so their figures agree."""
    ctx.actor.require(P_VIEW)
    today = ctx.today()
    where = [Occupancy.is_tenant.is_(True), scope_filter(Occupancy.area_id, ctx.actor)]
    if area_id is not None:
        area = ctx.session.get(Area, area_id)
        if area is None:
            raise NotFound(f"辖区 {area_id} 不存在。")
        ctx.actor.require_scope(area)
        where.append(subtree_filter(Occupancy.area_id, area))
    if not include_ended:
        where += [Occupancy.start_date <= today, or_(Occupancy.end_date.is_(None), Occupancy.end_date >= today)]
    return where


def late_flag(ctx: ServiceContext):
    """The column "late" (1 reported late or not reported past the limit, else 0) of an Occupancy row,
    judged by the current norm and clock."""
    ctx.actor.require(P_VIEW)
    return case((_late_clause(report_hours_limit(ctx.session), ctx.now()), 1), else_=0).label("late")


@dataclass(frozen=True)
class TenantRow:
    """One tenant of a rental house with the report times and whether the report was late."""
    occupancy_id: int
    area_id: int
    house_id: int
    house_code: str
    address: str
    person_id: int
    person_name: str
    moved_in_at: datetime
    reported_at: datetime | None
    end_date: date | None
    version_id: int
    late: bool

    def delay(self, now: datetime) -> timedelta:
        """Moving in → report (→ now while not reported)."""
        return (self.reported_at or now) - self.moved_in_at

    def late_text(self, hours: int, now: datetime) -> str:
        """是否逾期 as the tenant list and the ledger show it."""
        spent = _duration(self.delay(now))
        if self.reported_at is None:
            if self.late:
                return f"是（入住 {spent}未报备）"
            left = timedelta(hours=hours) - self.delay(now)
            return f"否（尚未报备，剩 {_duration(left)}）"
        return f"是（入住 {spent}后报备）" if self.late else "否"


def _duration(d: timedelta) -> str:
    """Whole hours up to five days (the limits are counted in hours), then days."""
    hours = max(0, int(d.total_seconds() // 3600))
    return f"{hours} 小时" if hours < 120 else f"{hours // 24} 天"


def tenant_row(values) -> TenantRow:
    """A row of tenants_query (a tuple from the lazy list) as a TenantRow."""
    return TenantRow(*values[:11], bool(values[11]))  # type: ignore[call-arg]  # a row of 12 columns


def tenants_query(ctx: ServiceContext, text: str = "", area_id: int | None = None, status: str = "all",
                  include_ended: bool = False):
    """Tenants of rental houses in scope (current ones unless ``include_ended``), newest first by key
    Occupancy.id, each with its late flag; ``status`` "late" or "unreported" narrows it (TENANT_FILTERS).
    Text: the person's name, the 房屋编号 or a piece of the address."""
    ctx.actor.require(P_VIEW)
    if status not in TENANT_FILTERS:
        raise ValidationError(f"筛选条件“{status}”无效，应为全部租客、逾期报备或尚未报备。", "status", status)
    late = _late_clause(report_hours_limit(ctx.session), ctx.now())
    q = (select(Occupancy.id, Occupancy.area_id, Occupancy.house_id, House.code, House.address, Occupancy.person_id,
                Person.name, Occupancy.moved_in_at, Occupancy.reported_at, Occupancy.end_date, Occupancy.version_id,
                case((late, 1), else_=0).label("late"))
         .join(House, House.id == Occupancy.house_id).join(Person, Person.id == Occupancy.person_id)
         .where(*tenant_conditions(ctx, area_id, include_ended)))
    if status == "late":
        q = q.where(late)
    elif status == "unreported":
        q = q.where(Occupancy.reported_at.is_(None))
    t = _text(text)
    if t:
        q = q.where(or_(Person.name.startswith(t, autoescape=True), House.code.startswith(_code(t), autoescape=True),
                        House.address.contains(t, autoescape=True)))
    return q.order_by(Occupancy.id.desc())


def late_reports(ctx: ServiceContext, area_id: int | None = None, limit: int = 500) -> list[TenantRow]:
    """Current tenants reported late or not reported past the limit, newest move-in first."""
    q = tenants_query(ctx, area_id=area_id, status="late").order_by(None)
    q = q.order_by(Occupancy.moved_in_at.desc(), Occupancy.id.desc()).limit(max(1, min(int(limit), 5000)))
    return [tenant_row(r) for r in ctx.session.execute(q)]


@dataclass(frozen=True)
class LateReportCount:
    late: int            # reported late or not reported past the limit
    unreported: int      # of which not reported at all
    hours: int           # the limit they were judged by


def count_late_reports(ctx: ServiceContext, area_id: int | None = None) -> LateReportCount:
    """How many current tenants in scope were reported late (the dashboard and the tenant list)."""
    ctx.actor.require(P_VIEW)
    hours = report_hours_limit(ctx.session)
    late = _late_clause(hours, ctx.now())
    q = select(func.count(), func.coalesce(func.sum(case((Occupancy.reported_at.is_(None), 1), else_=0)), 0)).where(
        *tenant_conditions(ctx, area_id), late)
    n, unreported = ctx.session.execute(q).one()
    return LateReportCount(int(n), int(unreported), hours)


# --- organisations -----------------------------------------------------------------------------
def register_organisation(ctx: ServiceContext, *, area_id: int, kind: str, name: str, credit_code: str,
                          legal_rep: str | None = None, security_head: str | None = None,
                          phone: str | None = None, address: str | None = None, hazard: str | None = None,
                          has_party_org: bool = False, party_members: int = 0) -> Organisation:
    ctx.actor.require(P_PERSON)
    area = _area_of(ctx, area_id)
    values, errors = clean_organisation(dict(
        kind=kind, name=name, credit_code=credit_code, legal_rep=legal_rep, security_head=security_head, phone=phone,
        address=address, hazard=hazard, has_party_org=has_party_org, party_members=party_members), ctx)
    if "credit_code" in values:
        other = ctx.session.scalar(select(Organisation).where(Organisation.credit_code == values["credit_code"]))
        if other is not None:
            errors.append(FieldError("credit_code", organisation_taken(other.name, area_label(ctx.session, other.area_id)),
                                     credit_code))
    raise_if(errors)
    org = Organisation(area_id=area.id, created_by=ctx.actor.user_id, **values)
    ctx.session.add(org)
    ctx.session.flush()
    return org


def get_organisation(ctx: ServiceContext, org_id: int) -> Organisation:
    ctx.actor.require(P_VIEW)
    return _get(ctx, Organisation, org_id, "组织")


def organisations_query(actor, text: str = "", kind: str | None = None):
    q = select(Organisation).where(scope_filter(Organisation.area_id, actor))
    if kind:
        q = q.where(Organisation.kind == kind)
    t = _text(text)
    if t:
        q = q.where(or_(Organisation.name.contains(t, autoescape=True),
                        Organisation.credit_code.startswith(_code(t).upper(), autoescape=True),
                        Organisation.legal_rep.startswith(t, autoescape=True)))
    return q


def update_organisation(ctx: ServiceContext, org_id: int, expected_version: int | None = None, **values) -> Organisation:
    """Edit an organisation; a changed 统一社会信用代码 is validated and checked for duplicates again."""
    ctx.actor.require(P_PERSON)
    org = _get(ctx, Organisation, org_id, "组织")
    check_version(ctx.session, org, expected_version, "组织信息")
    if "area_id" in values:
        org.area_id = _area_of(ctx, values.pop("area_id")).id
    cleaned, errors = clean_organisation(values, ctx, current=org)
    if "credit_code" in cleaned:
        other = ctx.session.scalar(select(Organisation).where(Organisation.credit_code == cleaned["credit_code"],
                                                              Organisation.id != org.id))
        if other is not None:
            errors.append(FieldError("credit_code", organisation_taken(other.name, area_label(ctx.session, other.area_id)),
                                     values["credit_code"]))
    raise_if(errors)
    for k, v in cleaned.items():
        setattr(org, k, v)
    flush_or_conflict(ctx.session, org, "组织信息")
    return org


# =============================================================================================
# Events: the closed loop
# =============================================================================================
STEP_LABELS = {"report": "上报", "register": "立案", "reject": "不予立案", "dispatch": "派遣", "handle": "处置",
               "send_back": "退回", "verify": "核查", "close": "结案", "escalate": "督办", "callback": "回访",
               "recount": "重算时限"}
STATUS_LABELS = {"reported": "上报", "registered": "立案", "dispatched": "派遣", "handled": "处置",
                 "verified": "核查", "closed": "结案", "rejected": "不予立案"}
OPEN_STATUSES = ("registered", "dispatched", "handled", "verified")
DEFAULT_CATEGORIES = (("矛盾纠纷", 10, True), ("安全隐患", 3, False), ("民生诉求", 5, False),
                      ("城市管理", 3, False), ("其他", 5, False))


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    permission: str
    sources: tuple[str, ...]
    target: str | None           # None: depends on the source (退回) or unchanged (督办)
    needs_comment: bool = False


TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("register", "立案", P_REGISTER, ("reported",), "registered"),
    Transition("reject", "不予立案", P_REGISTER, ("reported",), "rejected", needs_comment=True),
    Transition("dispatch", "派遣", P_DISPATCH, ("registered",), "dispatched"),
    Transition("handle", "处置", P_HANDLE, ("dispatched",), "handled", needs_comment=True),
    Transition("send_back", "退回", P_HANDLE, ("dispatched", "handled"), None, needs_comment=True),
    Transition("verify", "核查", P_VERIFY, ("handled",), "verified"),
    Transition("close", "结案", P_CLOSE, ("verified",), "closed"),
    Transition("escalate", "督办", P_ESCALATE, OPEN_STATUSES, None, needs_comment=True),
)}
# 退回: the handler sends a dispatched event back to be re-dispatched; the verifier sends a handled
# event back to the handler when the work does not pass.
SEND_BACK_TARGET = {"dispatched": "registered", "handled": "dispatched"}
SEND_BACK_PERMISSION = {"dispatched": P_HANDLE, "handled": P_VERIFY}


def list_categories(ctx: ServiceContext, include_inactive: bool = False) -> list[EventCategory]:
    """The categories (the defaults come with the g0001 migration and are editable)."""
    ctx.actor.require(P_VIEW)
    q = select(EventCategory).order_by(EventCategory.sort_order, EventCategory.id)
    if not include_inactive:
        q = q.where(EventCategory.active.is_(True))
    return list(ctx.session.scalars(q))


def save_category(ctx: ServiceContext, name: str, deadline_days: int, category_id: int | None = None,
                  is_dispute: bool = False, active: bool = True, expected_version: int | None = None) -> EventCategory:
    ctx.actor.require(P_CATEGORY)
    name = _required(name, "name", "类别名称")
    if not isinstance(deadline_days, int) or isinstance(deadline_days, bool) or not 1 <= deadline_days <= 365:
        raise ValidationError(f"处置时限“{deadline_days}”无效：应为 1–365 个工作日。", "deadline_days", deadline_days)
    q = select(EventCategory).where(EventCategory.name == name)
    if category_id is not None:
        q = q.where(EventCategory.id != category_id)
    if ctx.session.scalar(q) is not None:
        raise ValidationError(f"已有名为“{name}”的事件类别。", "name", name)
    cat: EventCategory | None
    if category_id is None:
        cat = EventCategory(name=name, deadline_days=deadline_days, is_dispute=is_dispute, active=active,
                            sort_order=100, created_by=ctx.actor.user_id)
        ctx.session.add(cat)
    else:
        cat = ctx.session.get(EventCategory, category_id)
        if cat is None:
            raise NotFound(f"事件类别 {category_id} 不存在。")
        check_version(ctx.session, cat, expected_version, "事件类别")
        cat.name, cat.deadline_days, cat.is_dispute, cat.active = name, deadline_days, is_dispute, active
    flush_or_conflict(ctx.session, cat, "事件类别")
    return cat


# --- working days ------------------------------------------------------------------------------
# The holiday calendar is the core's (shell.core.calendar, table core_holidays): every deadline here
# is computed from it, and a year it does not know is counted Monday–Friday with a warning.
def deadline_warning(ctx: ServiceContext, event_id: int) -> str:
    """The calendar warning for an event's deadline: the years between 立案 and the deadline that have
    no holiday calendar; or, when such a year was entered only after 立案 and counting again gives
    another day, that the deadline was counted by the weekend rule and what it would be now. Empty
    when the deadline stands."""
    ctx.actor.require(P_VIEW)
    ev = _get(ctx, Event, event_id, "事件")
    if not ev.deadline or not ev.registered_at:
        return ""
    start = _local_date(ev.registered_at)
    missing = calendar.span_warning(ctx.session, start, ev.deadline)
    if missing:
        return missing
    late = [y for y in range((start + timedelta(days=1)).year, ev.deadline.year + 1)
            if (at := calendar.entered_at(ctx.session, y)) is not None and at > ev.registered_at]
    if not late:
        return ""
    cat = ctx.session.get_one(EventCategory, ev.category_id)
    now_due = calendar.add_working_days(ctx.session, start, cat.deadline_days).day
    if now_due == ev.deadline:
        return ""
    return (f"处置时限立案时按周末计算（{'、'.join(map(str, late))} 年节假日安排当时尚未录入），"
            f"按现行节假日安排应为 {now_due}")


def recount_deadlines(ctx: ServiceContext, days) -> int:
    """The holiday calendar changed on ``days``: open events (立案 to 核查) whose working-day count ran
    over one of them get their 处置时限 counted again from 立案; a changed deadline is saved (audited)
    and noted on the event's timeline. Street-wide: the calendar is, and so is whoever may change it
    (``core.settings.manage``). Returns how many deadlines changed."""
    ctx.actor.require("core.settings.manage")
    days = sorted({d for d in (days if isinstance(days, (list, tuple, set, frozenset)) else [days])
                   if isinstance(d, date)})
    if not days:
        return 0
    first, last = days[0], days[-1]
    after_last = datetime.combine(last, datetime.min.time(), tzinfo=LOCAL_TZ)
    q = (select(Event).where(Event.status.in_(("registered", "dispatched", "handled", "verified")),
                             Event.deadline.is_not(None), Event.deadline >= first,
                             Event.registered_at.is_not(None), Event.registered_at < after_last)
         .order_by(Event.id))
    categories = {c.id: c for c in ctx.session.scalars(select(EventCategory))}
    changed = 0
    for ev in ctx.session.scalars(q):
        assert ev.registered_at is not None  # the query reads registered_at IS NOT NULL
        old = ev.deadline
        new = calendar.add_working_days(ctx.session, _local_date(ev.registered_at), categories[ev.category_id].deadline_days).day
        if new != old:
            ev.deadline = new
            _step(ctx, ev, "recount", ev.status, ev.status, f"节假日安排变更，处置时限由 {old} 重算为 {new}")
            changed += 1
    ctx.session.flush()
    return changed


# --- event services ----------------------------------------------------------------------------
def _local_date(dt: datetime) -> date:
    from shell.clock import to_local

    return to_local(dt).date()


def _next_number(ctx: ServiceContext) -> str:
    today = ctx.today()
    prefix = f"SJ{today:%Y%m%d}-"
    last = ctx.session.scalar(select(func.max(Event.number)).where(Event.number.startswith(prefix)))
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def report_event(ctx: ServiceContext, *, area_id: int, category_id: int, title: str, description: str = "",
                 source: str = "网格员上报", reporter_name: str | None = None, reporter_phone: str | None = None,
                 address: str | None = None, occurred_on: date | None = None, party_count: int | None = None,
                 main_parties: str | None = None) -> Event:
    """信息采集/上报: a new event in state 上报."""
    ctx.actor.require(P_REPORT)
    area = _area_of(ctx, area_id)
    cat = ctx.session.get(EventCategory, category_id)
    if cat is None or not cat.active:
        raise ValidationError(f"事件类别“{category_id}”不存在或已停用。", "category_id", category_id)
    title = _required(title, "title", "事件名称")
    if occurred_on and occurred_on > ctx.today():
        raise ValidationError(f"发生日期 {occurred_on} 晚于今天。", "occurred_on", occurred_on)
    if party_count is not None and party_count < 0:
        raise ValidationError(f"当事人数量“{party_count}”不能为负。", "party_count", party_count)
    now = ctx.now()
    ev = Event(area_id=area.id, number="", category_id=cat.id, title=title,
               description=_text(description), source=_text(source) or "网格员上报",
               reporter_name=_text(reporter_name) or ctx.actor.display_name,
               reporter_phone=_phone(reporter_phone, "reporter_phone"), address=_text(address) or None,
               occurred_on=occurred_on or ctx.today(), status="reported", reported_at=now,
               party_count=party_count, main_parties=_text(main_parties) or None, created_by=ctx.actor.user_id)
    _insert_numbered(ctx, ev)
    _step(ctx, ev, "report", None, "reported", _text(description)[:200] or title)
    return ev


def _insert_numbered(ctx: ServiceContext, ev: Event, attempts: int = 5) -> None:
    """Two desktops reporting at the same moment may compute the same next number: the loser's
    insert hits the unique index inside a savepoint and retries with the number after the winner's."""
    from sqlalchemy.exc import IntegrityError

    for attempt in range(attempts):
        ev.number = _next_number(ctx)
        try:
            with ctx.session.begin_nested():
                ctx.session.add(ev)
                ctx.session.flush()
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise


def _step(ctx: ServiceContext, ev: Event, action: str, from_status: str | None, to_status: str, comment: str) -> None:
    ctx.session.add(EventStep(area_id=ev.area_id, event_id=ev.id, action=action, from_status=from_status,
                              to_status=to_status, comment=comment, actor_id=ctx.actor.user_id,
                              actor_name=ctx.actor.display_name or ctx.actor.username, at=ctx.now(),
                              created_by=ctx.actor.user_id))


def get_event(ctx: ServiceContext, event_id: int) -> Event:
    ctx.actor.require(P_VIEW)
    return _get(ctx, Event, event_id, "事件")


def allowed_actions(ctx: ServiceContext, ev: Event) -> list[str]:
    """The actions this actor may take on ``ev`` now (for buttons; the services check again)."""
    out = []
    for t in TRANSITIONS.values():
        if ev.status not in t.sources:
            continue
        perm = SEND_BACK_PERMISSION[ev.status] if t.action == "send_back" else t.permission
        if ctx.actor.can(perm):
            out.append(t.action)
    return out


def transition(ctx: ServiceContext, event_id: int, action: str, comment: str = "",
               expected_version: int | None = None, *, assignee: str | None = None,
               assignee_user_id: int | None = None, mediation_method: str | None = None,
               mediation_result: str | None = None, satisfaction: str | None = None) -> Event:
    """Carry an event one step along the closed loop; refuses illegal steps, checks the permission of
    the step and the actor's scope, records the step with its comment in the timeline. With
    ``expected_version`` (the version the user's screen showed), a change made meanwhile by another
    desktop raises ConflictError."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise ValidationError(f"未知的事件操作“{action}”。", "action", action)
    ctx.actor.require(t.permission)
    ev = _get(ctx, Event, event_id, "事件")
    check_version(ctx.session, ev, expected_version, "事件")
    src = ev.status
    if src not in t.sources:
        raise ValidationError(f"事件 {ev.number} 当前为“{STATUS_LABELS[src]}”，不能“{t.label}”。", "action", action)
    if action == "send_back":
        ctx.actor.require(SEND_BACK_PERMISSION[src])
    comment = _text(comment)
    if t.needs_comment and not comment:
        what = {"reject": "不予立案的理由", "handle": "处置情况", "send_back": "退回原因", "escalate": "督办意见"}[action]
        raise ValidationError(f"请填写{what}。", "comment", comment)
    now = ctx.now()
    target = t.target or (SEND_BACK_TARGET[src] if action == "send_back" else src)
    cat = ctx.session.get_one(EventCategory, ev.category_id)
    if action == "register":
        ev.registered_at = now
        due = calendar.add_working_days(ctx.session, _local_date(now), cat.deadline_days)
        ev.deadline = due.day
        ev.deadline_warning = due.warning     # the caller shows it: a year without calendar is never silent
    elif action == "reject":
        ev.reject_reason = comment[:200]
    elif action == "dispatch":
        who = _text(assignee)
        if not who and assignee_user_id is None:
            raise ValidationError("请选择派遣对象（部门或人员）。", "assignee", assignee)
        ev.assignee, ev.assignee_user_id = who or None, assignee_user_id
    elif action == "handle" and cat.is_dispute:
        if mediation_method:
            ev.mediation_method = _text(mediation_method)
        if mediation_result:
            if mediation_result not in ("化解中", "成功", "失败"):
                raise ValidationError(f"化解情况“{mediation_result}”无效，应为化解中、成功或失败。",
                                      "mediation_result", mediation_result)
            ev.mediation_result = mediation_result
    elif action == "close":
        ev.closed_at = now
        if satisfaction:
            if satisfaction not in SATISFACTION:
                raise ValidationError(f"满意度“{satisfaction}”无效。", "satisfaction", satisfaction)
            ev.satisfaction = satisfaction
    elif action == "escalate":
        ev.escalations = (ev.escalations or 0) + 1
    elif action == "send_back" and src == "dispatched":
        ev.assignee, ev.assignee_user_id = None, None
    ev.status = target
    flush_or_conflict(ctx.session, ev, "事件")
    label_comment = comment or (f"派遣至{ev.assignee or ''}" if action == "dispatch" else t.label)
    _step(ctx, ev, action, src, target, label_comment)
    ctx.session.flush()
    return ev


SATISFACTION = ("满意", "基本满意", "不满意")


def record_callback(ctx: ServiceContext, event_id: int, satisfaction: str, comment: str = "") -> Event:
    """回访: after 结案 the reporter is called back and the satisfaction recorded (kept in the timeline)."""
    ctx.actor.require(P_CLOSE)
    ev = _get(ctx, Event, event_id, "事件")
    if ev.status != "closed":
        raise ValidationError(f"事件 {ev.number} 尚未结案，结案后才能回访。", "status", ev.status)
    if satisfaction not in SATISFACTION:
        raise ValidationError(f"满意度“{satisfaction}”无效，应为{'、'.join(SATISFACTION)}之一。", "satisfaction",
                              satisfaction)
    ev.satisfaction = satisfaction
    flush_or_conflict(ctx.session, ev, "事件")
    _step(ctx, ev, "callback", "closed", "closed", f"回访：{satisfaction}" + (f"。{_text(comment)}" if _text(comment) else ""))
    ctx.session.flush()
    return ev


def timeline(ctx: ServiceContext, event_id: int) -> list[EventStep]:
    ctx.actor.require(P_VIEW)
    _get(ctx, Event, event_id, "事件")
    return list(ctx.session.scalars(select(EventStep).where(EventStep.event_id == event_id)
                                    .order_by(EventStep.at, EventStep.id)))


# --- attachments ---------------------------------------------------------------------------------
# What an event may carry: photos, office documents, scans, voice notes and short videos. Anything
# else (programs, archives) is refused, so a township server never hands out an executable.
ATTACHMENT_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".bmp": "image/bmp",
    ".pdf": "application/pdf", ".ofd": "application/ofd", ".txt": "text/plain",
    ".doc": "application/msword", ".wps": "application/vnd.ms-works",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel", ".et": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".amr": "audio/amr", ".mp4": "video/mp4",
}
# The first bytes each picture or PDF must start with: a renamed file is refused, not stored.
_MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/gif": (b"GIF87a", b"GIF89a"),
          "image/bmp": (b"BM",), "application/pdf": (b"%PDF",)}
ATTACH_PERMISSIONS = (P_REPORT, P_HANDLE)


@dataclass(frozen=True)
class AttachmentRow:
    id: int
    event_id: int
    name: str
    mime: str
    size: int
    sha256: str
    uploaded_by: int | None
    uploaded_by_name: str
    uploaded_at: datetime

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")


def _attachment_row(a: EventAttachment) -> AttachmentRow:
    return AttachmentRow(a.id, a.event_id, a.name, a.mime, a.size, a.sha256, a.uploaded_by, a.uploaded_by_name,
                         a.uploaded_at)


def attachment_limit_bytes(ctx: ServiceContext) -> int:
    return int(settings.get(ctx.session, ATTACHMENT_MAX_MB)) * 1024 * 1024


def format_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def check_attachment_size(ctx: ServiceContext, name: str, size: int) -> None:
    """Refuse a file over the limit; the desktop asks before reading a large file into memory."""
    limit = attachment_limit_bytes(ctx)
    if size > limit:
        raise ValidationError(f"“{name}”有 {format_size(size)}，超过单个附件 {format_size(limit)} 的上限"
                              f"（可在 设置 → 规则与参数 中调整）。", "attachment", name)


def can_attach(actor) -> bool:
    return any(actor.can(p) for p in ATTACH_PERMISSIONS)


def add_attachment(ctx: ServiceContext, event_id: int, name: str, data: bytes) -> AttachmentRow:
    """Keep a photo or file with the event (in the database). Refused: a type not in
    ATTACHMENT_TYPES, a picture or PDF whose bytes are not what its name says, an empty file, a file
    over the limit (setting grid.attachment_max_mb), and any change to a finished event."""
    import hashlib
    import os

    if not can_attach(ctx.actor):
        ctx.actor.require(P_REPORT)
    ev = _get(ctx, Event, event_id, "事件")
    if ev.status in ("closed", "rejected"):
        raise ValidationError(f"事件 {ev.number} 已{STATUS_LABELS[ev.status]}，不能再添加附件。", "attachment", name)
    base = _text(os.path.basename(str(name or "").replace("\\", "/")))
    if not base:
        raise ValidationError("附件没有文件名。", "attachment", name)
    stem, ext = os.path.splitext(base)
    ext = ext.lower()
    mime = ATTACHMENT_TYPES.get(ext)
    if mime is None:
        kinds = "照片（jpg、png）、PDF、Word、Excel、WPS、文本、录音和 mp4 视频"
        raise ValidationError(f"“{base}”的类型（{ext or '无扩展名'}）不能作为附件：只能上传{kinds}。", "attachment", base)
    if len(base) > 200:
        base = stem[:200 - len(ext)] + ext
    data = bytes(data or b"")
    if not data:
        raise ValidationError(f"“{base}”是空文件。", "attachment", base)
    check_attachment_size(ctx, base, len(data))
    magic = _MAGIC.get(mime)
    if magic and not data.startswith(magic):
        raise ValidationError(f"“{base}”的内容不是{ext[1:].upper()}文件（可能是改了扩展名的其他文件）。",
                              "attachment", base)
    now = ctx.now()
    a = EventAttachment(area_id=ev.area_id, event_id=ev.id, name=base, mime=mime, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_by=ctx.actor.user_id,
                        uploaded_by_name=ctx.actor.display_name or ctx.actor.username, uploaded_at=now,
                        created_by=ctx.actor.user_id)
    ctx.session.add(a)
    ctx.session.flush()
    return _attachment_row(a)


def list_attachments(ctx: ServiceContext, event_id: int) -> list[AttachmentRow]:
    """The event's attachments without their bytes (the bytes load one at a time)."""
    ctx.actor.require(P_VIEW)
    _get(ctx, Event, event_id, "事件")
    q = select(EventAttachment).where(EventAttachment.event_id == event_id).order_by(EventAttachment.id)
    return [_attachment_row(a) for a in ctx.session.scalars(q)]


def attachment_data(ctx: ServiceContext, attachment_id: int) -> tuple[AttachmentRow, bytes]:
    """One attachment with its bytes, checked against its sha256 (a damaged row is reported, never
    handed out as if it were the original)."""
    import hashlib

    ctx.actor.require(P_VIEW)
    a = _get(ctx, EventAttachment, attachment_id, "附件")
    data = bytes(a.data)
    if hashlib.sha256(data).hexdigest() != a.sha256:
        raise ValidationError(f"附件“{a.name}”的内容与登记的校验值不符，可能已损坏。请联系管理员从备份恢复。",
                              "attachment", a.name)
    return _attachment_row(a), data


def delete_attachment(ctx: ServiceContext, attachment_id: int) -> None:
    """Only the uploader (or a user who manages categories) removes an attachment, and only while the
    event is still open: a finished event keeps its evidence."""
    if not (ctx.actor.can(P_CATEGORY) or can_attach(ctx.actor)):
        ctx.actor.require(P_CATEGORY)  # refused before anything is looked up
    a = _get(ctx, EventAttachment, attachment_id, "附件")
    ev = _get(ctx, Event, a.event_id, "事件")  # the event's area decides the scope
    if not (ctx.actor.can(P_CATEGORY) or (a.uploaded_by is not None and a.uploaded_by == ctx.actor.user_id
                                         and can_attach(ctx.actor))):
        raise ValidationError(f"附件“{a.name}”由{a.uploaded_by_name}上传，只有上传人或街道管理人员可以删除。",
                              "attachment", a.name)
    if ev.status in ("closed", "rejected"):
        raise ValidationError(f"事件 {ev.number} 已{STATUS_LABELS[ev.status]}，附件作为办理依据保留，不能删除。",
                              "attachment", a.name)
    ctx.session.delete(a)
    ctx.session.flush()


def events_query(actor, area: Area | None = None, status: str | None = None):
    q = select(Event).where(scope_filter(Event.area_id, actor))
    if area is not None:
        q = q.where(subtree_filter(Event.area_id, area))
    if status:
        q = q.where(Event.status == status)
    return q


def list_events(ctx: ServiceContext, area_id: int | None = None, status: str | None = None,
                after_id: int | None = None, limit: int = 100) -> list[Event]:
    ctx.actor.require(P_VIEW)
    area = _get(ctx, Area, area_id, "辖区") if area_id is not None else None
    q = events_query(ctx.actor, area, status)
    if after_id is not None:
        q = q.where(Event.id < after_id)
    return list(ctx.session.scalars(q.order_by(Event.id.desc()).limit(limit)))


def overdue_events(ctx: ServiceContext, area_id: int | None = None, on: date | None = None) -> list[Event]:
    """Open events whose deadline (last working day) has passed."""
    ctx.actor.require(P_VIEW)
    area = _get(ctx, Area, area_id, "辖区") if area_id is not None else None
    on = on or ctx.today()
    q = events_query(ctx.actor, area).where(Event.status.in_(OPEN_STATUSES), Event.deadline < on)
    return list(ctx.session.scalars(q.order_by(Event.deadline, Event.id)))


def due_soon_limit(ctx: ServiceContext, within_working_days: int = 1) -> date:
    """The last deadline that counts as 即将到期 today: the ``within_working_days``-th working day."""
    ctx.actor.require(P_VIEW)
    return calendar.add_working_days(ctx.session, ctx.today(), within_working_days).day


def due_soon_events(ctx: ServiceContext, within_working_days: int = 1, area_id: int | None = None) -> list[Event]:
    """Open events whose deadline is today or within the next ``within_working_days`` working days."""
    ctx.actor.require(P_VIEW)
    area = _get(ctx, Area, area_id, "辖区") if area_id is not None else None
    today = ctx.today()
    limit = due_soon_limit(ctx, within_working_days)
    q = events_query(ctx.actor, area).where(Event.status.in_(OPEN_STATUSES), Event.deadline >= today,
                                            Event.deadline <= limit)
    return list(ctx.session.scalars(q.order_by(Event.deadline, Event.id)))


def inbox(ctx: ServiceContext) -> list[Event]:
    """待我处理: events in scope waiting for a step this actor may take."""
    ctx.actor.require(P_VIEW)
    statuses = []
    for st in ("reported", "registered", "dispatched", "handled", "verified"):
        for t in TRANSITIONS.values():
            if st in t.sources and t.action != "escalate" and ctx.actor.can(
                    SEND_BACK_PERMISSION[st] if t.action == "send_back" else t.permission):
                statuses.append(st)
                break
    if not statuses:
        return []
    q = events_query(ctx.actor).where(Event.status.in_(statuses))
    if not ctx.actor.can(P_DISPATCH) and ctx.actor.user_id is not None:
        # a handler without dispatch rights sees dispatched events assigned to them
        q = q.where(or_(Event.status != "dispatched", Event.assignee_user_id == ctx.actor.user_id,
                        Event.assignee_user_id.is_(None)))
    return list(ctx.session.scalars(q.order_by(Event.deadline.is_(None), Event.deadline, Event.id)))


@dataclass
class Indicators:
    due: int                  # 应结案数: registered in the period (不予立案 excluded)
    closed: int               # 结案数
    on_time: int              # 按期结案数
    mean_hours: float | None  # mean time from report to close, hours
    median_hours: float | None

    @property
    def closure_rate(self) -> float | None:
        return None if not self.due else self.closed / self.due

    @property
    def on_time_rate(self) -> float | None:
        return None if not self.due else self.on_time / self.due

    @staticmethod
    def percent(rate: float | None) -> str:
        return "—" if rate is None else f"{rate * 100:.2f}%"


def _indicator_rows(ctx: ServiceContext, start: date, end: date, area_id: int | None, category_id: int | None,
                    *extra):
    from shell.clock import LOCAL_TZ

    ctx.actor.require(P_VIEW)
    if end < start:
        raise ValidationError(f"截止日期 {end} 早于起始日期 {start}。", "end", end)
    area = _get(ctx, Area, area_id, "辖区") if area_id is not None else None
    lo = datetime.combine(start, datetime.min.time(), LOCAL_TZ)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), LOCAL_TZ)
    q = select(Event.status, Event.reported_at, Event.closed_at, Event.deadline, *extra).where(
        scope_filter(Event.area_id, ctx.actor), Event.registered_at >= lo, Event.registered_at < hi)
    if area is not None:
        q = q.where(subtree_filter(Event.area_id, area))
    if category_id is not None:
        q = q.where(Event.category_id == category_id)
    return ctx.session.execute(q)


def _summarise(rows) -> Indicators:
    due = closed = on_time = 0
    hours = []
    for status, reported_at, closed_at, deadline, *_ in rows:
        due += 1
        if status == "closed" and closed_at is not None:
            closed += 1
            if deadline is None or _local_date(closed_at) <= deadline:
                on_time += 1
            hours.append((closed_at - reported_at).total_seconds() / 3600)
    hours.sort()
    mean = sum(hours) / len(hours) if hours else None
    median = None
    if hours:
        m = len(hours) // 2
        median = hours[m] if len(hours) % 2 else (hours[m - 1] + hours[m]) / 2
    return Indicators(due, closed, on_time, mean, median)


def indicators(ctx: ServiceContext, start: date, end: date, area_id: int | None = None,
               category_id: int | None = None) -> Indicators:
    """结案率 = 结案数 / 应结案数; 按期结案率 = 按期结案数 / 应结案数; mean/median handling time.
    应结案数 counts the events registered (立案) between ``start`` and ``end`` (Shanghai dates,
    inclusive) in the area's subtree; an event closed on or before its deadline is on time."""
    return _summarise(_indicator_rows(ctx, start, end, area_id, category_id))


def monthly_counts(ctx: ServiceContext, year: int, area_id: int | None = None) -> list[tuple[int, int, int]]:
    """(month, 上报数, 结案数) for months 1–12 of ``year`` (Shanghai time) in the actor's scope: events
    reported in the month, and events closed in the month (whenever they were reported). One pass in
    the database: a sum per month and kind over the year's rows (reading the rows and converting each
    timestamp in Python took 0.3 s for a street's year)."""
    from shell.clock import LOCAL_TZ

    ctx.actor.require(P_VIEW)
    area = _get(ctx, Area, area_id, "辖区") if area_id is not None else None
    bounds = [datetime(year, m, 1, tzinfo=LOCAL_TZ) for m in range(1, 13)] + [datetime(year + 1, 1, 1, tzinfo=LOCAL_TZ)]
    lo, hi = bounds[0], bounds[-1]

    def per_month(column):
        return [func.coalesce(func.sum(case((and_(column >= a, column < b), 1), else_=0)), 0)
                for a, b in zip(bounds, bounds[1:], strict=False)]

    q = select(*per_month(Event.reported_at), *per_month(Event.closed_at)).where(
        scope_filter(Event.area_id, ctx.actor),
        or_(and_(Event.reported_at >= lo, Event.reported_at < hi), and_(Event.closed_at >= lo, Event.closed_at < hi)))
    if area is not None:
        q = q.where(subtree_filter(Event.area_id, area))
    row = ctx.session.execute(q).one()
    return [(m, int(row[m - 1]), int(row[11 + m])) for m in range(1, 13)]


def count_overdue_visits(ctx: ServiceContext, on: date | None = None) -> int:
    """How many active special-group members in scope are past their 下次走访日期 (the dashboard's
    figure; ``overdue_visits`` lists them)."""
    ctx.actor.require(P_VIEW)
    on = on or ctx.today()
    return ctx.session.scalar(select(func.count()).select_from(SpecialPerson).where(
        scope_filter(SpecialPerson.area_id, ctx.actor), SpecialPerson.end_date.is_(None),
        SpecialPerson.next_visit_date < on)) or 0


BREAKDOWNS = {"community": "社区", "grid": "网格", "category": "类别", "month": "月份"}


def indicator_table(ctx: ServiceContext, start: date, end: date, by: str = "community",
                    area_id: int | None = None) -> list[tuple[str, Indicators]]:
    """The same indicators per community, grid, category or month (of registration), sorted by label."""
    return indicator_breakdown(ctx, start, end, by, area_id)[0]


def indicator_breakdown(ctx: ServiceContext, start: date, end: date, by: str = "community",
                        area_id: int | None = None) -> tuple[list[tuple[str, Indicators]], Indicators]:
    """``indicator_table`` and the total line from one read of the period's events (事件统计)."""
    if by not in BREAKDOWNS:
        raise ValidationError(f"统计口径“{by}”无效，应为社区、网格、类别或月份。", "by", by)
    rows = list(_indicator_rows(ctx, start, end, area_id, None, Event.area_id, Event.category_id,
                                Event.registered_at))
    labels: dict[Any, str] = {}
    if by in ("community", "grid"):
        areas = {a.id: a for a in ctx.session.scalars(select(Area))}
        # each area's key and label once, not per event (a year is ~17,000 events on a large street)
        key_for: dict[int, int | None] = {}

        def area_key(area_id: int) -> int | None:
            a = areas.get(area_id)
            if a is None:
                return None
            if by == "community":
                ids = [int(x) for x in a.path.strip("/").split("/") if x]
                a = areas[ids[1]] if len(ids) > 1 else a
            parent = areas.get(a.parent_id) if a.parent_id else None
            labels[a.id] = (f"{parent.name}{a.name}" if by == "grid" and parent is not None
                            and parent.level != "street" else a.name)
            return a.id

        def key_of(r):
            area_id = r[4]
            if area_id not in key_for:
                key_for[area_id] = area_key(area_id)
            return key_for[area_id]
    elif by == "category":
        cats = {c.id: c.name for c in ctx.session.scalars(select(EventCategory))}

        def key_of(r):
            labels[r[5]] = cats.get(r[5], str(r[5]))
            return r[5]
    else:
        def key_of(r):
            d = _local_date(r[6])
            k = f"{d.year}-{d.month:02d}"
            labels[k] = f"{d.year}年{d.month}月"
            return k
    groups: dict[Any, list] = {}
    for r in rows:
        groups.setdefault(key_of(r), []).append(r)
    out = [(labels.get(k, "（未知）"), _summarise(v)) for k, v in groups.items()]
    return sorted(out, key=lambda x: x[0]), _summarise(rows)


# =============================================================================================
# Grid staff and ratio
# =============================================================================================
def assign_staff(ctx: ServiceContext, grid_id: int, role: str, name: str, phone: str | None = None,
                 user_id: int | None = None, person_id: int | None = None, start: date | None = None) -> GridStaff:
    ctx.actor.require(P_STAFF)
    grid = _area_of(ctx, grid_id, "grid_id")
    if grid.level not in ("grid", "microgrid"):
        raise ValidationError(f"“{grid.name}”是{grid.level_label}，网格长和网格员只能配到网格。", "grid_id", grid_id)
    if role not in STAFF_ROLES:
        raise ValidationError(f"岗位“{role}”无效，应为网格长或网格员。", "role", role)
    name = _required(name, "name", "姓名")
    if role == "head":
        head = ctx.session.scalar(select(GridStaff).where(GridStaff.area_id == grid.id, GridStaff.role == "head",
                                                          GridStaff.end_date.is_(None)))
        if head is not None:
            raise ValidationError(f"“{grid.name}”已有网格长：{head.name}。请先办理卸任。", "role", role)
    if person_id is not None:
        _get(ctx, Person, person_id, "人员")
    if user_id is not None and user_id not in {u for u, _n, _p in staff_candidates(ctx)}:
        raise ValidationError(f"系统用户“{user_id}”不存在、已停用或不在您的管辖范围内。", "user_id", user_id)
    s = GridStaff(area_id=grid.id, role=role, name=name, phone=_phone(phone), user_id=user_id, person_id=person_id,
                  start_date=start or ctx.today(), created_by=ctx.actor.user_id)
    ctx.session.add(s)
    ctx.session.flush()
    return s


def end_staff(ctx: ServiceContext, staff_id: int, on: date | None = None) -> GridStaff:
    ctx.actor.require(P_STAFF)
    s = _get(ctx, GridStaff, staff_id, "网格人员")
    on = on or ctx.today()
    if s.end_date is not None:
        raise ValidationError(f"{s.name}已于 {s.end_date} 卸任。", "end_date", on)
    if on < s.start_date:
        raise ValidationError(f"卸任日期 {on} 早于任职日期 {s.start_date}。", "end_date", on)
    s.end_date = on
    flush_or_conflict(ctx.session, s, "网格人员")
    return s


def staff_candidates(ctx: ServiceContext) -> list[tuple[int, str, str | None]]:
    """(user id, display name, phone) of the active system users in the actor's scope, to link a
    网格长/网格员 to the account they log in with."""
    from shell.core.models import User

    ctx.actor.require(P_STAFF)
    q = (select(User.id, User.display_name, User.phone).join(Area, Area.id == User.area_id)
         .where(User.is_active.is_(True), scope_filter(Area.id, ctx.actor)).order_by(User.display_name, User.id))
    return [(i, n, p) for i, n, p in ctx.session.execute(q)]


def list_staff(ctx: ServiceContext, grid_id: int, include_ended: bool = False) -> list[GridStaff]:
    """A grid's 网格长 and 网格员 (head first), those still serving unless ``include_ended``."""
    ctx.actor.require(P_VIEW)
    grid = _get(ctx, Area, grid_id, "网格")
    ctx.actor.require_scope(grid)
    q = select(GridStaff).where(GridStaff.area_id == grid.id)
    if not include_ended:
        q = q.where(GridStaff.end_date.is_(None))
    return list(ctx.session.scalars(q.order_by(GridStaff.end_date.is_not(None), GridStaff.role != "head",
                                               GridStaff.start_date, GridStaff.id)))


@dataclass(frozen=True)
class GridRatio:
    grid_id: int
    grid_name: str
    households: int
    workers: int
    heads: int
    norm: int

    @property
    def per_worker(self) -> float | None:
        return None if not self.workers else self.households / self.workers

    @property
    def breaks_ratio(self) -> bool:
        return self.households > self.workers * self.norm

    @property
    def workers_needed(self) -> int:
        return -(-self.households // self.norm)


def grid_ratios(ctx: ServiceContext, area_id: int | None = None) -> list[GridRatio]:
    """Households per 网格员 for each grid in scope, against the norm grid.households_per_worker."""
    ctx.actor.require(P_VIEW)
    norm = int(settings.get(ctx.session, HOUSEHOLDS_PER_WORKER))
    gq = select(Area).where(Area.level == "grid", Area.closed_on.is_(None), scope_filter(Area.id, ctx.actor))
    if area_id is not None:
        gq = gq.where(subtree_filter(Area.id, _get(ctx, Area, area_id, "辖区")))
    from shell.core.areas import tree_sorted

    grids = tree_sorted(ctx.session.scalars(gq))
    hh = dict(ctx.session.execute(select(Household.area_id, func.count()).group_by(Household.area_id)).all())
    staff = ctx.session.execute(select(GridStaff.area_id, GridStaff.role, func.count())
                                .where(GridStaff.end_date.is_(None)).group_by(GridStaff.area_id, GridStaff.role))
    counts: dict[tuple[int, str], int] = {(a, r): n for a, r, n in staff}
    # the grids' parents in one query (area_label per grid was a query each: 400 on a large street)
    parent_ids = {g.parent_id for g in grids if g.parent_id}
    parents: dict[int | None, Area] = {a.id: a for a in ctx.session.scalars(select(Area).where(Area.id.in_(parent_ids)))}

    def label(g: Area) -> str:
        p = parents.get(g.parent_id)
        return f"{p.name}{g.name}" if p is not None and p.level != "street" else g.name
    return [GridRatio(g.id, label(g), hh.get(g.id, 0), counts.get((g.id, "worker"), 0),
                      counts.get((g.id, "head"), 0), norm) for g in grids]


def grids_breaking_ratio(ctx: ServiceContext, area_id: int | None = None) -> list[GridRatio]:
    return [r for r in grid_ratios(ctx, area_id) if r.breaks_ratio]


# =============================================================================================
# Special groups and visits
# =============================================================================================
@dataclass(frozen=True)
class FieldDef:
    key: str
    label: str
    kind: str = "text"            # text | date | choice | bool
    choices: tuple[str, ...] = ()
    required: bool = False


SPECIAL_GROUPS: dict[str, tuple[str, tuple[FieldDef, ...]]] = {
    "released": ("刑满释放人员", (
        FieldDef("release_date", "释放日期", "date", required=True),
        FieldDef("handover", "衔接情况", "choice", ("已衔接", "未衔接")),
        FieldDef("placement", "安置情况", "choice", ("已安置", "未安置")),
        FieldDef("risk", "危险性评估", "choice", ("低", "中", "高")),
        FieldDef("assistance", "帮教情况"),
    )),
    "correction": ("社区矫正人员", (
        FieldDef("correction_type", "矫正类别", "choice", ("宣告缓刑", "裁定假释", "判处管制", "暂予监外执行"), True),
        FieldDef("correction_start", "矫正起始日期", "date", required=True),
        FieldDef("correction_end", "矫正截止日期", "date", required=True),
        FieldDef("team", "矫正小组"),
    )),
    "mental": ("严重精神障碍患者", (
        FieldDef("guardian", "监护人", required=True),
        FieldDef("diagnosis", "诊断"),
        FieldDef("danger_level", "危险性评估等级", "choice", ("0级", "1级", "2级", "3级", "4级", "5级"), True),
        FieldDef("incident_history", "肇事肇祸史", "bool"),
    )),
    "drug": ("吸毒人员", (
        FieldDef("control", "管控情况", "choice", ("社区戒毒", "社区康复", "强制隔离戒毒", "其他")),
        FieldDef("helper_name", "帮扶人"),
    )),
    "aids": ("艾滋病危险人员", (
        FieldDef("infection_route", "感染途径"),
        FieldDef("treatment", "收治情况"),
    )),
    "youth": ("重点青少年", (
        FieldDef("youth_type", "人员类型", "choice", ("闲散青少年", "流浪乞讨未成年人", "服刑在教人员未成年子女",
                                                    "农村留守儿童", "不良行为青少年", "其他"), True),
        FieldDef("helper_name", "帮扶人"),
        FieldDef("help_means", "帮扶手段"),
    )),
}

# 关爱人群 (cared-for groups): the same record and visit machinery, their own fields.
CARE_GROUPS: dict[str, tuple[str, tuple[FieldDef, ...]]] = {
    "dibao": ("低保对象", (
        FieldDef("certificate_no", "低保证号"),
        FieldDef("monthly_allowance", "月保障金额（元）"),
        FieldDef("household_size", "保障人数"),
    )),
    "tekun": ("特困人员", (
        FieldDef("support_mode", "供养方式", "choice", ("分散供养", "集中供养"), True),
        FieldDef("self_care", "生活自理能力", "choice", ("完全自理", "部分自理", "完全不能自理")),
    )),
    "disabled": ("残疾人", (
        FieldDef("disability_type", "残疾类别", "choice", ("视力", "听力", "言语", "肢体", "智力", "精神", "多重"), True),
        FieldDef("disability_grade", "残疾等级", "choice", ("一级", "二级", "三级", "四级"), True),
        FieldDef("certificate_no", "残疾证号"),
    )),
    "elderly_alone": ("空巢/独居老人", (
        FieldDef("living", "居住状况", "choice", ("独居", "空巢（与配偶同住）"), True),
        FieldDef("emergency_contact", "紧急联系人"),
        FieldDef("emergency_phone", "紧急联系电话"),
    )),
    "left_behind": ("留守人员", (
        FieldDef("left_type", "留守类型", "choice", ("留守儿童", "留守老人", "留守妇女"), True),
        FieldDef("health", "健康状况", "choice", ("健康", "一般", "较差", "患病")),
        FieldDef("income", "个人年收入（元）"),
        FieldDef("needs", "困难和诉求"),
    )),
}
ALL_GROUPS: dict[str, tuple[str, tuple[FieldDef, ...]]] = {**SPECIAL_GROUPS, **CARE_GROUPS}


def _check_details(group: str, details: dict) -> dict:
    label, defs = ALL_GROUPS[group]
    known = {d.key: d for d in defs}
    unknown = set(details) - set(known)
    if unknown:
        k = sorted(unknown)[0]
        raise ValidationError(f"{label}没有“{k}”这一项。", k, details[k])
    out: dict[str, Any] = {}
    for d in defs:
        v = details.get(d.key)
        if v in (None, ""):
            if d.required:
                raise ValidationError(f"请填写{label}的“{d.label}”。", d.key, v)
            continue
        if d.kind == "date":
            if isinstance(v, str):
                try:
                    v = date.fromisoformat(v)
                except ValueError:
                    raise ValidationError(f"“{d.label}”的日期“{v}”格式不对。", d.key, v) from None
            if not isinstance(v, date):
                raise ValidationError(f"“{d.label}”的日期“{v}”格式不对。", d.key, v)
            out[d.key] = v.isoformat()
        elif d.kind == "choice":
            if v not in d.choices:
                raise ValidationError(f"“{d.label}”的值“{v}”无效，应为{'、'.join(d.choices)}之一。", d.key, v)
            out[d.key] = v
        elif d.kind == "bool":
            out[d.key] = bool(v)
        else:
            out[d.key] = _text(v)
    if group == "correction" and out["correction_end"] < out["correction_start"]:
        raise ValidationError("矫正截止日期早于起始日期。", "correction_end", out["correction_end"])
    return out


def add_special(ctx: ServiceContext, person_id: int, group: str, details: dict | None = None,
                helper: str | None = None, start: date | None = None, visit_interval_days: int = 30) -> SpecialPerson:
    ctx.actor.require(P_SPECIAL)
    if group not in ALL_GROUPS:
        raise ValidationError(f"特殊人群或关爱人群类别“{group}”无效。", "group", group)
    person = _get(ctx, Person, person_id, "人员")
    if not 1 <= visit_interval_days <= 366:
        raise ValidationError(f"走访间隔“{visit_interval_days}”天无效。", "visit_interval_days", visit_interval_days)
    existing = ctx.session.scalar(select(SpecialPerson).where(SpecialPerson.person_id == person.id,
                                                              SpecialPerson.group == group,
                                                              SpecialPerson.end_date.is_(None)))
    if existing is not None:
        raise ValidationError(f"{person.name}已在{ALL_GROUPS[group][0]}名单中。", "group", group)
    start = start or ctx.today()
    sp = SpecialPerson(area_id=person.area_id, person_id=person.id, group=group,
                       details=_check_details(group, details or {}), helper=_text(helper) or None, start_date=start,
                       visit_interval_days=visit_interval_days,
                       next_visit_date=start + timedelta(days=visit_interval_days), created_by=ctx.actor.user_id)
    ctx.session.add(sp)
    ctx.session.flush()
    return sp


def record_visit(ctx: ServiceContext, special_id: int, visit_date: date, situation: str,
                 next_visit_date: date | None = None, visitor_name: str | None = None) -> Visit:
    ctx.actor.require(P_SPECIAL)
    sp = _get(ctx, SpecialPerson, special_id, "特殊人群记录")
    if visit_date > ctx.today():
        raise ValidationError(f"走访日期 {visit_date} 晚于今天。", "visit_date", visit_date)
    nxt = next_visit_date or visit_date + timedelta(days=sp.visit_interval_days)
    if nxt <= visit_date:
        raise ValidationError(f"下次走访日期 {nxt} 应晚于本次走访日期。", "next_visit_date", nxt)
    v = Visit(area_id=sp.area_id, special_id=sp.id, visit_date=visit_date,
              visitor_name=_text(visitor_name) or ctx.actor.display_name, visitor_user_id=ctx.actor.user_id,
              situation=_required(situation, "situation", "走访情况"), next_visit_date=nxt,
              created_by=ctx.actor.user_id)
    ctx.session.add(v)
    sp.next_visit_date = nxt
    ctx.session.flush()
    return v


def overdue_visits(ctx: ServiceContext, on: date | None = None, area_id: int | None = None) -> list[SpecialPerson]:
    """Active special-group members whose 下次走访日期 has passed."""
    ctx.actor.require(P_VIEW)
    on = on or ctx.today()
    q = select(SpecialPerson).where(scope_filter(SpecialPerson.area_id, ctx.actor), SpecialPerson.end_date.is_(None),
                                    SpecialPerson.next_visit_date < on)
    if area_id is not None:
        q = q.where(subtree_filter(SpecialPerson.area_id, _get(ctx, Area, area_id, "辖区")))
    return list(ctx.session.scalars(q.order_by(SpecialPerson.next_visit_date, SpecialPerson.id)))


def specials_query(actor, group: str | None = None, text: str = "", overdue_on: date | None = None,
                   include_ended: bool = False):
    """SELECT (SpecialPerson, person's name) in scope for the lazy list: by group (a key of ALL_GROUPS,
    or "special" / "care" for all of one kind), name or pinyin initials, and 逾期未走访 on a day."""
    q = (select(SpecialPerson, Person.name).join(Person, Person.id == SpecialPerson.person_id)
         .where(scope_filter(SpecialPerson.area_id, actor)))
    if not include_ended:
        q = q.where(SpecialPerson.end_date.is_(None))
    if group == "special":
        q = q.where(SpecialPerson.group.in_(list(SPECIAL_GROUPS)))
    elif group == "care":
        q = q.where(SpecialPerson.group.in_(list(CARE_GROUPS)))
    elif group:
        q = q.where(SpecialPerson.group == group)
    if overdue_on is not None:
        q = q.where(SpecialPerson.next_visit_date < overdue_on)
    t = _text(text).replace(" ", "")
    if t:
        q = q.where(Person.name_initials.startswith(t.lower(), autoescape=True) if t.isascii()
                    else Person.name.contains(t, autoescape=True))
    return q


def special_visits(ctx: ServiceContext, special_id: int) -> list[Visit]:
    ctx.actor.require(P_VIEW)
    _get(ctx, SpecialPerson, special_id, "特殊人群记录")
    return list(ctx.session.scalars(select(Visit).where(Visit.special_id == special_id)
                                    .order_by(Visit.visit_date.desc(), Visit.id.desc())))


def end_special(ctx: ServiceContext, special_id: int, on: date | None = None, reason: str = "") -> SpecialPerson:
    """Take a person off a group's list (解除矫正, 脱贫 …): the record and its visits are kept."""
    ctx.actor.require(P_SPECIAL)
    sp = _get(ctx, SpecialPerson, special_id, "特殊人群记录")
    on = on or ctx.today()
    if sp.end_date is not None:
        raise ValidationError(f"这条{group_label(sp.group)}记录已于 {sp.end_date} 结束。", "end_date", on)
    if on < sp.start_date:
        raise ValidationError(f"结束日期 {on} 早于列管日期 {sp.start_date}。", "end_date", on)
    sp.end_date = on
    if _text(reason):
        sp.details = {**(sp.details or {}), "end_reason": _text(reason)}
    sp.next_visit_date = None
    flush_or_conflict(ctx.session, sp, "特殊人群记录")
    return sp


def person_special_records(ctx: ServiceContext, person_id: int) -> list[SpecialPerson]:
    """A person's special/cared-for group records, current first."""
    ctx.actor.require(P_VIEW)
    _get(ctx, Person, person_id, "人员")
    q = select(SpecialPerson).where(SpecialPerson.person_id == person_id).order_by(
        SpecialPerson.end_date.is_not(None), SpecialPerson.start_date.desc(), SpecialPerson.id)
    return list(ctx.session.scalars(q))


def person_visits(ctx: ServiceContext, person_id: int) -> list[tuple[str, Visit]]:
    """(group label, visit) for every visit to the person, newest first."""
    ctx.actor.require(P_VIEW)
    _get(ctx, Person, person_id, "人员")
    q = (select(SpecialPerson.group, Visit).join(Visit, Visit.special_id == SpecialPerson.id)
         .where(SpecialPerson.person_id == person_id).order_by(Visit.visit_date.desc(), Visit.id.desc()))
    return [(ALL_GROUPS.get(g, (g,))[0], v) for g, v in ctx.session.execute(q)]


def group_label(group: str) -> str:
    return ALL_GROUPS.get(group, (group,))[0]


# --- 民情日志 ---------------------------------------------------------------------------------
def write_log(ctx: ServiceContext, area_id: int, content: str, finding: str = "", log_date: date | None = None,
              household_id: int | None = None, person_id: int | None = None) -> VisitLog:
    ctx.actor.require(P_LOG)
    area = _area_of(ctx, area_id)
    if household_id is not None:
        _get(ctx, Household, household_id, "户")
    if person_id is not None:
        _get(ctx, Person, person_id, "人员")
    log_date = log_date or ctx.today()
    if log_date > ctx.today():
        raise ValidationError(f"日志日期 {log_date} 晚于今天。", "log_date", log_date)
    log = VisitLog(area_id=area.id, log_date=log_date, worker_name=ctx.actor.display_name,
                   worker_user_id=ctx.actor.user_id, household_id=household_id, person_id=person_id,
                   content=_required(content, "content", "走访内容"), finding=_text(finding),
                   created_by=ctx.actor.user_id)
    ctx.session.add(log)
    ctx.session.flush()
    return log


def log_to_event(ctx: ServiceContext, log_id: int, category_id: int, title: str | None = None) -> Event:
    """Turn a visit-log finding into an event (state 上报) in one step."""
    ctx.actor.require(P_REPORT)
    log = _get(ctx, VisitLog, log_id, "民情日志")
    if log.event_id is not None:
        ev = ctx.session.get(Event, log.event_id)
        raise ValidationError(f"这条民情日志已转为事件 {ev.number if ev else log.event_id}。", "event_id", log.event_id)
    if not log.finding:
        raise ValidationError("这条民情日志没有记录发现的问题，无法转为事件。", "finding", log.finding)
    ev = report_event(ctx, area_id=log.area_id, category_id=category_id, title=title or log.finding[:50],
                      description=log.finding, source="民情日志", reporter_name=log.worker_name,
                      occurred_on=log.log_date)
    log.event_id = ev.id
    ctx.session.flush()
    return ev


def logs_query(actor, text: str = "", area: Area | None = None, open_findings: bool = False):
    """SELECT (VisitLog, the event's number or None) in scope, for the lazy list of 民情日志."""
    q = (select(VisitLog, Event.number).outerjoin(Event, Event.id == VisitLog.event_id)
         .where(scope_filter(VisitLog.area_id, actor)))
    if area is not None:
        q = q.where(subtree_filter(VisitLog.area_id, area))
    if open_findings:   # found something, not yet an event
        q = q.where(VisitLog.finding != "", VisitLog.event_id.is_(None))
    t = _text(text)
    if t:
        q = q.where(or_(VisitLog.content.contains(t, autoescape=True), VisitLog.finding.contains(t, autoescape=True),
                        VisitLog.worker_name.startswith(t, autoescape=True)))
    return q


def get_log(ctx: ServiceContext, log_id: int) -> VisitLog:
    ctx.actor.require(P_VIEW)
    return _get(ctx, VisitLog, log_id, "民情日志")


def find_household(ctx: ServiceContext, number: str) -> Household | None:
    """The household with this 户号 in the actor's scope (for forms that take a typed 户号)."""
    ctx.actor.require(P_VIEW)
    n = _code(number)
    if not n:
        return None
    hh = ctx.session.scalar(select(Household).where(Household.number == n))
    if hh is None:
        raise ValidationError(f"户号“{number}”没有登记。", "household", number)
    _get(ctx, Household, hh.id, "户")
    return hh


# --- global search -----------------------------------------------------------------------------
def global_search(ctx: ServiceContext, text: str, limit: int = 10) -> list[tuple[str, int, str, str]]:
    """(kind, id, title, subtitle) for the tool bar's search: persons by name, pinyin initials or ID
    number (masked), houses by address, events by number."""
    ctx.actor.require(P_VIEW)
    t = _text(text)
    if not t:
        return []
    out: list[tuple[str, int, str, str]] = []
    labels: dict[int, str] = {}
    for p in list_persons(ctx, t, limit=limit):  # list rows are masked already
        if p.area_id not in labels:
            labels[p.area_id] = area_label(ctx.session, p.area_id)
        out.append(("grid.person", p.id, p.name, f"实有人口 · {p.id_number} · {labels[p.area_id]}"))
    # Searching every address is a scan of the houses: only for text that can be part of an address
    # (a name, pinyin initials, an ID number or a phone never is); a 房屋编号 is looked up by its index.
    houses = search_houses(ctx, t, limit=limit) if looks_like_address(t) else \
        list(ctx.session.scalars(select(House).where(scope_filter(House.area_id, ctx.actor),
                                                     House.code == _code(t).upper()).limit(limit)))
    for h in houses:
        out.append(("grid.house", h.id, h.address, f"房屋 · {h.code} · {h.house_use}"))
    # 事件编号 SJ20250603-0001: by its prefix (the unique index), with or without the letters
    up = _code(t).upper()
    prefix = up if up.startswith("SJ") else f"SJ{up}" if re.fullmatch(r"20\d{0,6}(-\d{0,4})?", up) else None
    if prefix and len(prefix) >= 4:
        q = select(Event).where(scope_filter(Event.area_id, ctx.actor),
                                StartsWith(Event.number, prefix)).order_by(Event.number.desc()).limit(limit)
        for e in ctx.session.scalars(q):
            out.append(("grid.event", e.id, f"{e.number} {e.title}", f"事件 · {STATUS_LABELS[e.status]}"))
    return out


ADDRESS_CHARS = frozenset("路街道巷弄里号幢栋楼单元室层村组苑园区院坊庄湾")


def looks_like_address(text: str) -> bool:
    """Text that may be part of an address: a digit next to Chinese, or a typical address word."""
    has_cjk = any(not c.isascii() for c in text)
    return has_cjk and (any(c in ADDRESS_CHARS for c in text) or any(c.isdigit() for c in text))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
