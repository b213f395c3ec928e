"""户: households, their members and head."""
from __future__ import annotations

from sqlalchemy import or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter, subtree_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import Area
from shell.db.retry import guard_busy
from shell.errors import FieldError, ValidationError, raise_if

from ..models import House, Household, Person
from ..validation import (
    clean_household,
    household_taken,
)
from .common import P_PERSON, P_VIEW, Listing, _area_of, _code, _get, _required, _text, area_label
from .persons import _check_single_head


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


# Contended: one 户主 per household, checked and written while another desktop may do the same.
@guard_busy
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


def households_listing(actor, text: str = "", area: Area | None = None) -> Listing:
    """The household list: ``households_query`` paged by id."""
    return Listing(households_query(actor, text, area), Household.id)


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


@guard_busy
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


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
