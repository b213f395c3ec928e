"""Volunteers: registration, edits, (de)activation, search, lists and the volunteer card."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.listing import Listing
from shell.core.models import Area
from shell.core.scope import get_in_scope
from shell.db.sql import StartsWith, spelled
from shell.errors import NotFound, ValidationError, raise_if
from shell.text import looks_like_id_number, name_pinyin, pinyin_initials

from ..models import (
    ATTENDANCE_STATES,
    Activity,
    Attendance,
    PointsEntry,
    RedemptionOrder,
    Team,
    TeamMembership,
    Volunteer,
    VolunteerAccount,
)
from ..rules import P_MANAGE, P_REDEEM, P_VIEW
from .common import (
    ACCOUNTS,
    _area,
    _area_of,
    _next_counter,
    hours_text,
    local_date,
    star_label,
    star_level,
)

# ============================================================================ volunteers







def _new_volunteer_number(ctx: ServiceContext) -> str:
    while True:
        number = f"ZY{_next_counter(ctx, 'volunteer_number'):07d}"
        if ctx.session.scalar(select(Volunteer.id).where(Volunteer.number == number)) is None:
            return number


def register_volunteer(ctx: ServiceContext, *, name: str, id_number: str, area_id: int, phone: str = "",
                       gender: str | None = None, birth_date: date | None = None, number: str | None = None,
                       skills: Any = "", address: str = "", registered_on: date | None = None,
                       notes: str = "") -> Volunteer:
    from ..validation import clean_volunteer

    ctx.actor.require(P_MANAGE)
    values, errors = clean_volunteer(dict(name=name, id_number=id_number, area_id=area_id, phone=phone, gender=gender,
                                          birth_date=birth_date, number=number, skills=skills, address=address,
                                          registered_on=registered_on, notes=notes), ctx)
    raise_if(errors)
    name = values["name"]
    number = values["number"] or _new_volunteer_number(ctx)
    v = Volunteer(area_id=values["area_id"], number=number, name=name, initials=pinyin_initials(name),
                  name_pinyin=name_pinyin(name),
                  gender=values["gender"], birth_date=values["birth_date"], id_type="111", id_number=values["id_number"],
                  phone=values["phone"], skills=values["skills"], address=values["address"],
                  registered_on=values["registered_on"] or ctx.today(), active=True, notes=notes or "",
                  created_by=ctx.actor.user_id)
    ctx.session.add(v)
    ctx.session.flush()
    ctx.session.add(VolunteerAccount(volunteer_id=v.id, points_balance=0, approved_minutes=0))
    ctx.session.flush()
    return v


def get_volunteer(ctx: ServiceContext, volunteer_id: int) -> Volunteer:
    ctx.actor.require(P_VIEW)
    v = get_in_scope(ctx, Volunteer, volunteer_id, "志愿者")
    return v


def find_by_number(ctx: ServiceContext, number: str) -> Volunteer:
    ctx.actor.require(P_VIEW)
    v = ctx.session.scalar(select(Volunteer).where(Volunteer.number == str(number).strip()))
    if v is None:
        raise NotFound(f"没有编号为“{number}”的志愿者。")
    _area_of(ctx, v)
    return v


EDITABLE = ("name", "phone", "skills", "address", "area_id", "number", "notes", "id_number")


def update_volunteer(ctx: ServiceContext, volunteer_id: int, expected_version: int | None = None,
                     **changes: Any) -> Volunteer:
    from shell.core.locking import check_version, flush_or_conflict

    ctx.actor.require(P_MANAGE)
    v = get_volunteer(ctx, volunteer_id)
    check_version(ctx.session, v, expected_version, "志愿者信息")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"不能修改这些字段：{'、'.join(sorted(unknown))}。", None)
    if "id_number" in changes and _personal.resubmitted(v.id_number, changes["id_number"]):
        del changes["id_number"]  # the form sent back the masked number it showed: unchanged
    from ..validation import clean_volunteer

    values, errors = clean_volunteer(changes, ctx, current=v)
    raise_if(errors)
    if "notes" in changes:
        values["notes"] = changes["notes"] or ""
    for key, value in values.items():
        setattr(v, key, value)
    if "name" in values:
        v.initials = pinyin_initials(v.name)
        v.name_pinyin = name_pinyin(v.name)
    flush_or_conflict(ctx.session, v, "志愿者信息")
    return v


def set_active(ctx: ServiceContext, volunteer_id: int, active: bool, reason: str = "",
               expected_version: int | None = None) -> Volunteer:
    from shell.core.locking import check_version, flush_or_conflict

    ctx.actor.require(P_MANAGE)
    v = get_volunteer(ctx, volunteer_id)
    check_version(ctx.session, v, expected_version, "志愿者信息")
    if not active and not (reason or "").strip():
        raise ValidationError("停用志愿者请填写原因（如迁出、本人申请退出）。", "inactive_reason", reason)
    v.active = bool(active)
    v.inactive_reason = "" if active else reason.strip()[:200]
    flush_or_conflict(ctx.session, v, "志愿者信息")
    return v


def _search_conditions(text: str) -> tuple[list, bool]:
    """(OR-ed conditions for a search text, whether an index serves every one of them).

    - a whole 身份证号 (18 characters): that number;
    - 7–17 digits (an ID number or a mobile number being typed): ID number or phone by prefix (digits
      starting with 0: a 志愿者编号 without its "ZY");
    - up to 6 digits (the last digits of an ID number or phone, part of a number): anywhere in the
      ID number, phone or 志愿者编号 — a scan of the volunteer table, as short fragments need;
    - Latin letters: pinyin initials or full pinyin by prefix, or the 志愿者编号 ("ZY0000123", also by prefix);
    - anything else: part of the name (a scan: "小明" finds 王小明)."""
    t = text.replace(" ", "")
    up = t.upper()
    if looks_like_id_number(t) and len(t) == 18:
        return [Volunteer.id_number == up], True
    if looks_like_id_number(t) and len(t) >= 7:
        if t.startswith("0"):                   # the digits of a 志愿者编号 (ZY0001234); no ID or mobile starts so
            return [StartsWith(Volunteer.number, f"ZY{t}")], True
        conds = [StartsWith(Volunteer.id_number, up)]
        if t.isdigit() and t.startswith("1"):   # a mobile number
            conds.append(StartsWith(Volunteer.phone, t))
        return conds, True
    if t.isdigit():
        return [Volunteer.id_number.contains(t, autoescape=True), Volunteer.phone.contains(t, autoescape=True),
                Volunteer.number.contains(t, autoescape=True)], False
    if t.isascii() and t.isalpha():
        return [spelled(Volunteer.initials, Volunteer.name_pinyin, t), Volunteer.number == up], True
    if t.isascii() and t.isalnum():
        return [StartsWith(Volunteer.number, up)], True
    return [Volunteer.name.contains(text.strip(), autoescape=True), Volunteer.number == up], False


def _volunteer_query(ctx: ServiceContext, text: str = "", area_id: int | None = None, active: bool | None = None):
    text = (text or "").strip()
    conds, indexed = _search_conditions(text) if text else ([], False)
    # For an indexed search the planner must take the search column's index: a street-wide user's
    # area filter matches every row and, without table statistics, SQLite could prefer the area
    # index. "area_id + 0" keeps the filter and takes it out of the index choice.
    area_col = Volunteer.area_id + 0 if indexed else Volunteer.area_id
    q = select(Volunteer).where(scope_filter(area_col, ctx.actor))
    if conds:
        q = q.where(or_(*conds))
    if area_id is not None:
        from shell.core.areas import subtree_filter

        q = q.where(subtree_filter(area_col, _area(ctx, area_id, "辖区")))
    if active is not None:
        q = q.where(Volunteer.active.is_(active))
    return q


def list_volunteers(ctx: ServiceContext, text: str = "", area_id: int | None = None, active: bool | None = None,
                    after_id: int | None = None, limit: int = 100) -> list[Volunteer]:
    """Volunteers in scope matching ``text`` (name, pinyin initials, 志愿者编号, ID number, phone),
    keyset-paged by id."""
    ctx.actor.require(P_VIEW)
    q = _volunteer_query(ctx, text, area_id, active)
    if after_id is not None:
        q = q.where(Volunteer.id > after_id)
    return list(ctx.session.scalars(q.order_by(Volunteer.id).limit(limit)))


def count_volunteers(ctx: ServiceContext, text: str = "", area_id: int | None = None, active: bool | None = None) -> int:
    ctx.actor.require(P_VIEW)
    q = _volunteer_query(ctx, text, area_id, active)
    return ctx.session.scalar(select(func.count()).select_from(q.subquery())) or 0


def volunteer_list_query(ctx: ServiceContext, text: str = "", area_id: int | None = None,
                         active: bool | None = None):
    """A SELECT of (Volunteer, community name, approved minutes, points balance) rows in scope matching
    ``text`` (as ``list_volunteers``), for keyset paging by ``Volunteer.id`` in the volunteer list."""
    ctx.actor.require(P_VIEW)
    return (_volunteer_query(ctx, text, area_id, active)
            .add_columns(Area.name, func.coalesce(ACCOUNTS.c.approved_minutes, 0),
                         func.coalesce(ACCOUNTS.c.points_balance, 0))
            .join(Area, Area.id == Volunteer.area_id)
            .outerjoin(ACCOUNTS, ACCOUNTS.c.volunteer_id == Volunteer.id))


def volunteer_listing(ctx: ServiceContext, text: str = "", area_id: int | None = None,
                      active: bool | None = None) -> Listing:
    """The volunteer list for a lazy table: ``volunteer_list_query`` paged by ``Volunteer.id``."""
    return Listing(volunteer_list_query(ctx, text, area_id, active), Volunteer.id)


@dataclass
class VolunteerMatch:
    """One volunteer found at the reward-store counter (the ID number leaves masked)."""

    volunteer_id: int
    number: str
    name: str
    id_number: str
    points: int


def volunteer_matches(ctx: ServiceContext, text: str, active: bool | None = True, limit: int = 20) -> list[VolunteerMatch]:
    """The first ``limit`` volunteers matching ``text`` as the volunteer list does, by id."""
    q = volunteer_list_query(ctx, text, active=active).order_by(Volunteer.id).limit(limit)
    return [VolunteerMatch(v.id, v.number, v.name, v.id_number, int(points))
            for v, _area, _minutes, points in ctx.session.execute(q)]


RECENT_WINDOW = 2000   # the newest attendance / redemption rows looked at for "recent" volunteers


def recent_volunteers(ctx: ServiceContext, limit: int = 20, redeemers_first: bool = False) -> list[VolunteerMatch]:
    """In-scope active volunteers to offer before anything is typed (a picker that opens empty makes a
    newcomer think there are none): those who redeemed at a counter (``redeemers_first``) or took part
    in an activity most recently, newest first, then the newest registered. The look-back is bounded
    (the newest ``RECENT_WINDOW`` rows of each), so the cost is the same on any street."""
    ctx.actor.require(P_VIEW)
    order: list[int] = []
    seen: set[int] = set()
    sources = [select(RedemptionOrder.volunteer_id).order_by(RedemptionOrder.id.desc())] if redeemers_first else []
    sources.append(select(Attendance.volunteer_id).order_by(Attendance.id.desc()))
    for q in sources:
        for vid in ctx.session.scalars(q.limit(RECENT_WINDOW)):
            if vid not in seen:
                seen.add(vid)
                order.append(vid)

    def matches(q) -> dict[int, VolunteerMatch]:
        return {v.id: VolunteerMatch(v.id, v.number, v.name, v.id_number, int(points))
                for v, _area, _minutes, points in ctx.session.execute(q)}

    base = volunteer_list_query(ctx, "", active=True)
    found = matches(base.where(Volunteer.id.in_(order))) if order else {}
    out = [found[vid] for vid in order if vid in found][:limit]
    if len(out) < limit:
        newest = base.order_by(Volunteer.id.desc()).limit(limit - len(out) + len(found))
        out += [m for vid, m in matches(newest).items() if vid not in found][:limit - len(out)]
    return out


def search_volunteers(ctx: ServiceContext, text: str, limit: int = 20) -> list[Volunteer]:
    if not ctx.actor.can(P_VIEW) or not (text or "").strip():
        return []
    return list_volunteers(ctx, text, limit=limit)


def account(ctx: ServiceContext, volunteer_id: int) -> tuple[int, int]:
    """(points balance, approved minutes) as stored, for someone who may see the volunteer or serve
    them at the reward-store counter, within scope."""
    if not ctx.actor.can(P_REDEEM):
        ctx.actor.require(P_VIEW)
    get_in_scope(ctx, Volunteer, volunteer_id, "志愿者")
    return _account(ctx, volunteer_id)


def _account(ctx: ServiceContext, volunteer_id: int) -> tuple[int, int]:
    """The stored balances, unchecked: for services that already checked the actor."""
    row = ctx.session.execute(select(ACCOUNTS.c.points_balance, ACCOUNTS.c.approved_minutes)
                              .where(ACCOUNTS.c.volunteer_id == volunteer_id)).one_or_none()
    if row is None:
        raise NotFound(f"志愿者（编号 {volunteer_id}）没有积分账户。")
    return int(row[0]), int(row[1])


@dataclass
class VolunteerCard:
    volunteer: Volunteer
    area_name: str
    points: int
    minutes: int
    star: int
    star_label: str
    teams: list[tuple[str, str]]
    services: list[dict]
    points_history: list[PointsEntry]
    redemptions: list[RedemptionOrder] = field(default_factory=list)

    @property
    def hours(self) -> str:
        return hours_text(self.minutes)


def volunteer_card(ctx: ServiceContext, volunteer_id: int, history: int = 20) -> VolunteerCard:
    v = get_volunteer(ctx, volunteer_id)
    points, minutes = _account(ctx, v.id)
    s = ctx.session
    teams = [(t.name, m.role) for m, t in s.execute(
        select(TeamMembership, Team).join(Team, Team.id == TeamMembership.team_id)
        .where(TeamMembership.volunteer_id == v.id, TeamMembership.left_on.is_(None)).order_by(Team.name))]
    services = [dict(activity=a.name, date=local_date(a.starts_at), place=a.place, minutes=att.minutes,
                     status=ATTENDANCE_STATES.get(att.status, att.status), attendance_id=att.id)
                for att, a in s.execute(select(Attendance, Activity).join(Activity, Activity.id == Attendance.activity_id)
                                        .where(Attendance.volunteer_id == v.id)
                                        .order_by(Activity.starts_at.desc()).limit(history))]
    hist = list(s.scalars(select(PointsEntry).where(PointsEntry.volunteer_id == v.id)
                          .order_by(PointsEntry.id.desc()).limit(history)))
    orders = list(s.scalars(select(RedemptionOrder).where(RedemptionOrder.volunteer_id == v.id)
                            .order_by(RedemptionOrder.id.desc()).limit(history)))
    area = s.get(Area, v.area_id)
    return VolunteerCard(v, area.name if area else "", points, minutes, star_level(minutes), star_label(minutes),
                         teams, services, hist, orders)


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
