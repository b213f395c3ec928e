"""Volunteer service operations (no Qt). Every function takes a ``ServiceContext`` and checks the
actor's permission and area scope itself.

Value rules (ARCHITECTURE "Data rules"):
- hours (whole minutes) and points are two separate append-only ledgers; every entry carries the
  balance after it; the stored balances in ``volunteer_accounts`` change only by a guarded statement
  in the same transaction as the entry (debits: ``… WHERE points_balance >= :n``, row count checked);
- stock likewise (``volunteer_stock_moves`` + guarded ``stock``);
- corrections are reversal entries, never edits of an entry.
Redeeming spends points only: hours never change.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from shell.clock import LOCAL_TZ, format_local
from shell.core import fields
from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.db.retry import BusyError as BusyError  # moved to shell.db.retry; still importable from here
from shell.db.retry import guard_busy as _guard_busy
from shell.db.retry import is_busy as _is_busy  # noqa: F401
from shell.db.retry import run_with_retry as run_with_retry
from shell.db.sql import StartsWith
from shell.errors import ConflictError, FieldError, NotFound, ValidationError, raise_if
from shell.idnumber import IdInfo, parse_id_number
from shell.text import looks_like_id_number, pinyin_initials

from .models import (
    ACTIVITY_STATES,
    ATTENDANCE_STATES,
    LIMIT_PERIODS,
    STAR_LABELS,
    STAR_THRESHOLDS_HOURS,
    Activity,
    Attendance,
    Certificate,
    Counter,
    HoursEntry,
    PointsEntry,
    RedemptionLine,
    RedemptionOrder,
    RewardItem,
    StockMove,
    Team,
    TeamMembership,
    Volunteer,
    VolunteerAccount,
)
from .rules import P_ACTIVITY, P_APPROVE, P_CERTIFICATE, P_MANAGE, P_POINTS, P_REDEEM, P_STORE, P_VIEW, Rules, load_rules

ACCOUNTS = cast(Table, VolunteerAccount.__table__)
ITEMS = cast(Table, RewardItem.__table__)
ORDERS = cast(Table, RedemptionOrder.__table__)
COUNTERS = cast(Table, Counter.__table__)

_ONE_DAY = timedelta(days=1)


# ============================================================================ helpers

def _area(ctx: ServiceContext, area_id: int | None, what: str = "所属社区") -> Area:
    if area_id is None:
        raise ValidationError(f"请选择{what}。", "area_id")
    area = ctx.session.get(Area, area_id)
    if area is None:
        raise ValidationError(f"{what}（编号 {area_id}）不存在。", "area_id", area_id)
    ctx.actor.require_scope(area)
    return area


def _area_of(ctx: ServiceContext, obj: Any) -> Area:
    area = ctx.session.get_one(Area, obj.area_id)
    ctx.actor.require_scope(area)
    return area


def _text(value: Any, title: str, field_: str, required: bool = True, max_len: int = 100) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValidationError(f"请填写{title}。", field_, value)
    if len(text) > max_len:
        raise ValidationError(f"{title}太长（{len(text)} 字，最多 {max_len} 字）。", field_, value)
    return text


def local_date(dt: datetime) -> date:
    return dt.astimezone(LOCAL_TZ).date()


def local_midnight(d: date) -> datetime:
    """The UTC instant of 00:00 Shanghai time on ``d``."""
    return datetime(d.year, d.month, d.day, tzinfo=LOCAL_TZ).astimezone(UTC)


def hours_text(minutes: int) -> str:
    h, m = divmod(int(minutes or 0), 60)
    if not m:
        return f"{h}"
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def star_level(minutes: int) -> int:
    """0–5 from cumulative approved minutes: 一星 100 h, 二星 300 h, 三星 600 h, 四星 1000 h, 五星 1500 h."""
    hours = (minutes or 0) / 60
    return sum(1 for t in STAR_THRESHOLDS_HOURS if hours >= t)


def star_label(minutes: int) -> str:
    return STAR_LABELS[star_level(minutes)] or "未评星"


def _audit(ctx: ServiceContext, action: str, entity: str, entity_id: Any, summary: str, **after: Any) -> None:
    """An audit entry for a value change written with guarded statements (ledger entries, balances and
    stock are not ORM-audited rows), in the same transaction."""
    from shell.core import audit

    audit.record(ctx.session, action, entity, entity_id, summary, after=after or None)


def _next_counter(ctx: ServiceContext, name: str) -> int:
    """Increment a named counter with a guarded UPDATE (``WHERE value = :seen``); numbers are never reused."""
    s = ctx.session
    for _ in range(100):
        seen = s.execute(select(COUNTERS.c.value).where(COUNTERS.c.name == name)).scalar()
        if seen is None:
            try:
                with s.begin_nested():
                    s.execute(insert(COUNTERS).values(name=name, value=0))
            except IntegrityError:
                pass
            continue
        res = s.execute(update(COUNTERS).where(COUNTERS.c.name == name, COUNTERS.c.value == seen)
                        .values(value=seen + 1))
        if cast(CursorResult, res).rowcount == 1:
            return seen + 1
    raise ConflictError("编号发放冲突次数过多，请稍后重试。")


# ============================================================================ ID numbers

def check_id_number(raw: Any) -> IdInfo:
    """The shared validator (shell.idnumber): 15-digit numbers converted, Chinese errors."""
    return parse_id_number(raw)


def check_phone(raw: Any, required: bool = False) -> str:
    """The shared phone rule (shell.core.fields.phone); "" when empty and not required."""
    return fields.phone(raw, "phone", "联系电话", required=required) or ""


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
    from .validation import clean_volunteer

    ctx.actor.require(P_MANAGE)
    values, errors = clean_volunteer(dict(name=name, id_number=id_number, area_id=area_id, phone=phone, gender=gender,
                                          birth_date=birth_date, number=number, skills=skills, address=address,
                                          registered_on=registered_on, notes=notes), ctx)
    raise_if(errors)
    name = values["name"]
    number = values["number"] or _new_volunteer_number(ctx)
    v = Volunteer(area_id=values["area_id"], number=number, name=name, initials=pinyin_initials(name),
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
    v = ctx.session.get(Volunteer, volunteer_id)
    if v is None:
        raise NotFound(f"志愿者（编号 {volunteer_id}）不存在，可能已被删除。")
    _area_of(ctx, v)
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
    from .validation import clean_volunteer

    values, errors = clean_volunteer(changes, ctx, current=v)
    raise_if(errors)
    if "notes" in changes:
        values["notes"] = changes["notes"] or ""
    for key, value in values.items():
        setattr(v, key, value)
    if "name" in values:
        v.initials = pinyin_initials(v.name)
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
    - Latin letters: pinyin initials by prefix, or the 志愿者编号 ("ZY0000123", also by prefix);
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
        return [StartsWith(Volunteer.initials, t.lower()), Volunteer.number == up], True
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


def search_volunteers(ctx: ServiceContext, text: str, limit: int = 20) -> list[Volunteer]:
    if not ctx.actor.can(P_VIEW) or not (text or "").strip():
        return []
    return list_volunteers(ctx, text, limit=limit)


def account(ctx: ServiceContext, volunteer_id: int) -> tuple[int, int]:
    """(points balance, approved minutes) as stored, for someone who may see the volunteer or serve
    them at the reward-store counter, within scope."""
    if not ctx.actor.can(P_REDEEM):
        ctx.actor.require(P_VIEW)
    v = ctx.session.get(Volunteer, volunteer_id)
    if v is None:
        raise NotFound(f"志愿者（编号 {volunteer_id}）不存在，可能已被删除。")
    _area_of(ctx, v)
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


# ============================================================================ teams

def create_team(ctx: ServiceContext, *, name: str, area_id: int, leader_name: str = "", phone: str = "",
                description: str = "") -> Team:
    ctx.actor.require(P_MANAGE)
    area = _area(ctx, area_id)
    name = _text(name, "队伍名称", "name")
    if ctx.session.scalar(select(Team.id).where(Team.area_id == area.id, Team.name == name)) is not None:
        raise ValidationError(f"“{area.name}”已有名为“{name}”的志愿队伍。", "name", name)
    team = Team(area_id=area.id, name=name, leader_name=_text(leader_name, "队长", "leader_name", False, 64),
                phone=check_phone(phone), description=description or "", created_by=ctx.actor.user_id)
    ctx.session.add(team)
    ctx.session.flush()
    return team


def _team(ctx: ServiceContext, team_id: int) -> Team:
    team = ctx.session.get(Team, team_id)
    if team is None:
        raise NotFound(f"志愿队伍（编号 {team_id}）不存在。")
    _area_of(ctx, team)
    return team


def add_member(ctx: ServiceContext, team_id: int, volunteer_id: int, role: str = "队员",
               joined_on: date | None = None) -> TeamMembership:
    ctx.actor.require(P_MANAGE)
    team = _team(ctx, team_id)
    v = get_volunteer(ctx, volunteer_id)
    if not v.active:
        raise ValidationError(f"志愿者“{v.name}”已停用，不能加入队伍。", "volunteer_id", volunteer_id)
    if role not in ("队长", "副队长", "队员"):
        raise ValidationError(f"队内角色“{role}”无效（队长、副队长、队员）。", "role", role)
    open_ = ctx.session.scalar(select(TeamMembership).where(TeamMembership.team_id == team.id,
                                                             TeamMembership.volunteer_id == v.id,
                                                             TeamMembership.left_on.is_(None)))
    if open_ is not None:
        raise ValidationError(f"“{v.name}”已是“{team.name}”的成员。", "volunteer_id", volunteer_id)
    m = TeamMembership(team_id=team.id, volunteer_id=v.id, role=role, joined_on=joined_on or ctx.today(),
                       created_by=ctx.actor.user_id)
    ctx.session.add(m)
    ctx.session.flush()
    return m


def remove_member(ctx: ServiceContext, team_id: int, volunteer_id: int, left_on: date | None = None) -> TeamMembership:
    ctx.actor.require(P_MANAGE)
    team = _team(ctx, team_id)
    m = ctx.session.scalar(select(TeamMembership).where(TeamMembership.team_id == team.id,
                                                         TeamMembership.volunteer_id == volunteer_id,
                                                         TeamMembership.left_on.is_(None)))
    if m is None:
        raise ValidationError("该志愿者不是这支队伍的在队成员。", "volunteer_id", volunteer_id)
    left = left_on or ctx.today()
    if left < m.joined_on:
        raise ValidationError(f"离队日期不能早于入队日期 {m.joined_on}。", "left_on", left)
    m.left_on = left
    ctx.session.flush()
    return m


def team_members(ctx: ServiceContext, team_id: int) -> list[tuple[Volunteer, TeamMembership]]:
    ctx.actor.require(P_VIEW)
    _team(ctx, team_id)
    return list(ctx.session.execute(
        select(Volunteer, TeamMembership).join(TeamMembership, TeamMembership.volunteer_id == Volunteer.id)
        .where(TeamMembership.team_id == team_id, TeamMembership.left_on.is_(None)).order_by(Volunteer.name)))


TEAM_FIELDS = ("name", "leader_name", "phone", "description", "active")


def update_team(ctx: ServiceContext, team_id: int, expected_version: int | None = None, **changes: Any) -> Team:
    from shell.core.locking import check_version, flush_or_conflict

    ctx.actor.require(P_MANAGE)
    team = _team(ctx, team_id)
    check_version(ctx.session, team, expected_version, "志愿队伍")
    unknown = set(changes) - set(TEAM_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改这些字段：{'、'.join(sorted(unknown))}。", None)
    if "name" in changes:
        name = _text(changes["name"], "队伍名称", "name")
        if ctx.session.scalar(select(Team.id).where(Team.area_id == team.area_id, Team.name == name,
                                                    Team.id != team.id)) is not None:
            raise ValidationError(f"本社区已有名为“{name}”的志愿队伍。", "name", name)
        team.name = name
    if "leader_name" in changes:
        team.leader_name = _text(changes["leader_name"], "队长", "leader_name", False, 64)
    if "phone" in changes:
        team.phone = check_phone(changes["phone"])
    if "description" in changes:
        team.description = (changes["description"] or "").strip()
    if "active" in changes:
        team.active = bool(changes["active"])
    flush_or_conflict(ctx.session, team, "志愿队伍")
    return team


@dataclass
class TeamRow:
    team_id: int
    name: str
    area_id: int
    area_name: str
    leader_name: str
    phone: str
    description: str
    active: bool
    members: int
    version_id: int


def team_rows(ctx: ServiceContext) -> list[TeamRow]:
    """Teams in scope with their community and the number of current members."""
    ctx.actor.require(P_VIEW)
    members = (select(func.count()).select_from(TeamMembership)
               .where(TeamMembership.team_id == Team.id, TeamMembership.left_on.is_(None))
               .correlate(Team).scalar_subquery())
    q = (select(Team, Area.name, members).join(Area, Area.id == Team.area_id)
         .where(scope_filter(Team.area_id, ctx.actor)).order_by(Area.sort_order, Area.id, Team.name))
    return [TeamRow(t.id, t.name, t.area_id, area, t.leader_name, t.phone, t.description, t.active, int(n),
                    t.version_id) for t, area, n in ctx.session.execute(q)]


def community_choices(ctx: ServiceContext) -> list[tuple[int, str]]:
    """(id, name) of the open communities in the actor's scope, for choosing where a team or an
    activity belongs."""
    ctx.actor.require(P_VIEW)
    q = (select(Area.id, Area.name).where(scope_filter(Area.id, ctx.actor), Area.closed_on.is_(None),
                                          Area.level == "community")
         .order_by(Area.sort_order, Area.id))
    return [(i, n) for i, n in ctx.session.execute(q)]


def list_teams(ctx: ServiceContext) -> list[Team]:
    ctx.actor.require(P_VIEW)
    return list(ctx.session.scalars(select(Team).where(scope_filter(Team.area_id, ctx.actor)).order_by(Team.id)))


# ============================================================================ activities and attendance

def create_activity(ctx: ServiceContext, *, name: str, area_id: int, starts_at: datetime, ends_at: datetime,
                    team_id: int | None = None, organiser: str = "", place: str = "", target: str = "",
                    content: str = "", leader_name: str = "", recorder_name: str = "",
                    capacity: int | None = None, cap_minutes: int | None = None,
                    points_per_hour: int | None = None) -> Activity:
    ctx.actor.require(P_ACTIVITY)
    area = _area(ctx, area_id, "活动所属辖区")
    name = _text(name, "活动名称", "name")
    if starts_at is None or ends_at is None:
        raise ValidationError("请填写活动开始和结束时间。", "starts_at")
    if ends_at <= starts_at:
        raise ValidationError("活动结束时间应晚于开始时间。", "ends_at", ends_at)
    if team_id is not None:
        _team(ctx, team_id)
    rules = load_rules(ctx.session)
    if capacity is not None and capacity < 1:
        raise ValidationError("招募人数至少为 1（不限人数请留空）。", "capacity", capacity)
    cap = rules.cap_minutes if cap_minutes is None else int(cap_minutes)
    pph = rules.points_per_hour if points_per_hour is None else int(points_per_hour)
    if cap < 0:
        raise ValidationError("每次最多计入时长不能为负数（0 表示不封顶）。", "cap_minutes", cap)
    if pph < 0:
        raise ValidationError("每小时积分不能为负数。", "points_per_hour", pph)
    a = Activity(area_id=area.id, team_id=team_id, name=name, organiser=organiser or "", starts_at=starts_at,
                 ends_at=ends_at, place=place or "", target=target or "", content=content or "",
                 leader_name=leader_name or "", recorder_name=recorder_name or "", capacity=capacity,
                 cap_minutes=cap, points_per_hour=pph, status="open", created_by=ctx.actor.user_id)
    ctx.session.add(a)
    ctx.session.flush()
    return a


def get_activity(ctx: ServiceContext, activity_id: int) -> Activity:
    ctx.actor.require(P_VIEW)
    a = ctx.session.get(Activity, activity_id)
    if a is None:
        raise NotFound(f"志愿活动（编号 {activity_id}）不存在。")
    _area_of(ctx, a)
    return a


def list_activities(ctx: ServiceContext, limit: int = 200) -> list[Activity]:
    ctx.actor.require(P_VIEW)
    return list(ctx.session.scalars(select(Activity).where(scope_filter(Activity.area_id, ctx.actor))
                                    .order_by(Activity.starts_at.desc()).limit(limit)))


ACTIVITY_FIELDS = ("name", "team_id", "organiser", "starts_at", "ends_at", "place", "target", "content",
                   "leader_name", "recorder_name", "capacity", "cap_minutes", "points_per_hour")


def _activity_conditions(ctx: ServiceContext, team_id: int | None = None, date_from: date | None = None,
                         date_to: date | None = None, status: str | None = None, text: str = "") -> list:
    """WHERE conditions on ``Activity`` for the activity list's filters (scope included)."""
    ctx.actor.require(P_VIEW)
    conds = [scope_filter(Activity.area_id, ctx.actor)]
    if team_id is not None:
        conds.append(Activity.team_id == team_id)
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ValidationError("截止日期不能早于起始日期。", "date_to", date_to)
    if date_from is not None:
        conds.append(Activity.starts_at >= local_midnight(date_from))
    if date_to is not None:
        conds.append(Activity.starts_at < local_midnight(date_to + _ONE_DAY))
    if status:
        if status not in ACTIVITY_STATES:
            raise ValidationError(f"活动状态“{status}”无效。", "status", status)
        conds.append(Activity.status == status)
    text = (text or "").strip()
    if text:
        conds.append(or_(Activity.name.contains(text), Activity.place.contains(text)))
    return conds


def _activity_counts():
    """Correlated counts per activity: enrolled (not cancelled) and waiting for approval; both answered
    from the (activity_id, status) index."""
    enrolled = (select(func.count()).select_from(Attendance)
                .where(Attendance.activity_id == Activity.id, Attendance.status != "cancelled")
                .correlate(Activity).scalar_subquery())
    pending = (select(func.count()).select_from(Attendance)
               .where(Attendance.activity_id == Activity.id, Attendance.status == "signed_out")
               .correlate(Activity).scalar_subquery())
    return enrolled, pending


def activity_list_query(ctx: ServiceContext, team_id: int | None = None, date_from: date | None = None,
                        date_to: date | None = None, status: str | None = None, text: str = ""):
    """A SELECT of (Activity, team name, area name, enrolled count, pending count) in scope, filtered
    by team, local start date range (inclusive), status and name/place text (see ``activity_rows``)."""
    conds = _activity_conditions(ctx, team_id, date_from, date_to, status, text)
    enrolled, pending = _activity_counts()
    return (select(Activity, Team.name, Area.name, enrolled, pending)
            .join(Area, Area.id == Activity.area_id).outerjoin(Team, Team.id == Activity.team_id)
            .where(*conds))


@dataclass
class ActivityRow:
    activity_id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    team_name: str
    area_name: str
    status: str
    content: str
    enrolled: int
    pending: int


def activity_rows(ctx: ServiceContext, limit: int = 500, **filters: Any) -> tuple[list[ActivityRow], int]:
    """The newest ``limit`` activities matching ``filters`` (as ``activity_list_query``), latest start
    first, and how many match in all. Plain columns, not ORM objects: the list shows a few hundred
    rows and nothing is edited through them."""
    conds = _activity_conditions(ctx, **filters)
    total = ctx.session.scalar(select(func.count()).select_from(Activity).where(*conds))
    enrolled, pending = _activity_counts()
    q = (select(Activity.id, Activity.name, Activity.starts_at, Activity.ends_at, Team.name, Area.name,
                Activity.status, Activity.content, enrolled, pending)
         .join(Area, Area.id == Activity.area_id).outerjoin(Team, Team.id == Activity.team_id)
         .where(*conds).order_by(Activity.starts_at.desc(), Activity.id.desc()).limit(limit))
    rows = [ActivityRow(aid, name, starts, ends, team or "", area, status, content or "", int(n), int(p))
            for aid, name, starts, ends, team, area, status, content, n, p in ctx.session.execute(q)]
    return rows, int(total or 0)


def _check_activity_values(ctx: ServiceContext, values: dict[str, Any]) -> dict[str, Any]:
    """Validate the editable activity fields (shared by create and update)."""
    out = dict(values)
    if "name" in out:
        out["name"] = _text(out["name"], "活动名称", "name")
    for key, title, n in (("organiser", "组织单位", 100), ("place", "服务地点", 200), ("target", "服务对象", 200),
                          ("leader_name", "负责人", 64), ("recorder_name", "记录人", 64)):
        if key in out:
            out[key] = _text(out[key], title, key, required=False, max_len=n)
    if "content" in out:
        out["content"] = (out["content"] or "").strip()
    starts, ends = out.get("starts_at"), out.get("ends_at")
    if ("starts_at" in out and starts is None) or ("ends_at" in out and ends is None):
        raise ValidationError("请填写活动开始和结束时间。", "starts_at")
    if starts is not None and ends is not None and ends <= starts:
        raise ValidationError("活动结束时间应晚于开始时间。", "ends_at", ends)
    if out.get("team_id") is not None:
        _team(ctx, out["team_id"])
    if "capacity" in out:
        cap = out["capacity"]
        if cap in (0, "", None):
            out["capacity"] = None
        elif isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise ValidationError("招募人数至少为 1（不限人数请留空）。", "capacity", cap)
    if "cap_minutes" in out and (out["cap_minutes"] is None or int(out["cap_minutes"]) < 0):
        raise ValidationError("每次最多计入时长不能为负数（0 表示不封顶）。", "cap_minutes", out["cap_minutes"])
    if "points_per_hour" in out and (out["points_per_hour"] is None or int(out["points_per_hour"]) < 0):
        raise ValidationError("每小时积分不能为负数。", "points_per_hour", out["points_per_hour"])
    return out


def update_activity(ctx: ServiceContext, activity_id: int, expected_version: int | None = None,
                    **changes: Any) -> Activity:
    """Edit an activity (optimistic locking). The hour cap and points per hour apply to attendances
    approved from now on; approved ones keep their ledger entries (corrections are reversals)."""
    from shell.core.locking import check_version, flush_or_conflict

    ctx.actor.require(P_ACTIVITY)
    a = get_activity(ctx, activity_id)
    check_version(ctx.session, a, expected_version, "志愿活动")
    unknown = set(changes) - set(ACTIVITY_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改这些字段：{'、'.join(sorted(unknown))}。", None)
    if a.status != "open":
        raise ValidationError(f"活动“{a.name}”{ACTIVITY_STATES.get(a.status, a.status)}，不能再修改。", "status", a.status)
    merged = {"starts_at": a.starts_at, "ends_at": a.ends_at, **changes}
    values = _check_activity_values(ctx, merged)
    if values.get("capacity"):
        taken = ctx.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.activity_id == a.id, Attendance.status != "cancelled"))
        if values["capacity"] < taken:
            raise ValidationError(f"已有 {taken} 人报名，招募人数不能少于 {taken}。", "capacity", values["capacity"])
    for key in changes:
        setattr(a, key, values[key])
    if "cap_minutes" in changes:
        # Signed-out but not yet approved records follow the new cap.
        for att in ctx.session.scalars(select(Attendance).where(Attendance.activity_id == a.id,
                                                                 Attendance.status.in_(("signed_out", "rejected")))):
            assert att.signed_in_at is not None and att.signed_out_at is not None  # both, once signed out
            att.raw_minutes, att.minutes = compute_minutes(att.signed_in_at, att.signed_out_at, a.cap_minutes)
    flush_or_conflict(ctx.session, a, "志愿活动")
    return a


@dataclass
class AttendanceRow:
    """One line of an activity's attendance sheet, as plain values."""

    attendance_id: int
    volunteer_id: int
    number: str
    name: str
    status: str
    signed_in_at: datetime | None
    signed_out_at: datetime | None
    raw_minutes: int
    minutes: int
    points: int
    note: str

    @property
    def status_label(self) -> str:
        return ATTENDANCE_STATES.get(self.status, self.status)

    @property
    def capped(self) -> bool:
        return self.raw_minutes > self.minutes


def activity_attendances(ctx: ServiceContext, activity_id: int, include_cancelled: bool = False) -> list[AttendanceRow]:
    ctx.actor.require(P_VIEW)
    get_activity(ctx, activity_id)
    q = (select(Attendance, Volunteer.number, Volunteer.name).join(Volunteer, Volunteer.id == Attendance.volunteer_id)
         .where(Attendance.activity_id == activity_id).order_by(Attendance.id))
    if not include_cancelled:
        q = q.where(Attendance.status != "cancelled")
    return [AttendanceRow(att.id, att.volunteer_id, number, name, att.status, att.signed_in_at, att.signed_out_at,
                          att.raw_minutes or 0, att.minutes or 0, att.points or 0, att.note or "")
            for att, number, name in ctx.session.execute(q)]


def approval_query(ctx: ServiceContext, status: str = "signed_out", activity_id: int | None = None, text: str = ""):
    """A SELECT of (Attendance, Volunteer, Activity) in scope with ``status`` (已签退 = waiting for
    approval, 已审核 = may be reversed), for the approval queue; keyset paging by ``Attendance.id``."""
    ctx.actor.require(P_VIEW)
    if status not in ("signed_out", "approved", "rejected"):
        raise ValidationError(f"审核状态“{status}”无效。", "status", status)
    q = (select(Attendance, Volunteer, Activity).join(Volunteer, Volunteer.id == Attendance.volunteer_id)
         .join(Activity, Activity.id == Attendance.activity_id)
         .where(Attendance.status == status, scope_filter(Activity.area_id, ctx.actor)))
    if activity_id is not None:
        q = q.where(Activity.id == activity_id)
    text = (text or "").strip()
    if text:
        conds = [Volunteer.name.contains(text), Volunteer.number == text.upper(), Activity.name.contains(text)]
        if text.isascii() and text.isalpha():
            conds.append(Volunteer.initials.startswith(text.lower()))
        q = q.where(or_(*conds))
    return q


def enrol(ctx: ServiceContext, activity_id: int, volunteer_id: int) -> Attendance:
    ctx.actor.require(P_ACTIVITY)
    a = get_activity(ctx, activity_id)
    if a.status != "open":
        raise ValidationError(f"活动“{a.name}”已结束或取消，不能报名。", "activity_id", activity_id)
    v = get_volunteer(ctx, volunteer_id)
    if not v.active:
        raise ValidationError(f"志愿者“{v.name}”已停用，不能报名。", "volunteer_id", volunteer_id)
    existing = ctx.session.scalar(select(Attendance).where(Attendance.activity_id == a.id,
                                                            Attendance.volunteer_id == v.id))
    if existing is not None:
        if existing.status == "cancelled":
            existing.status = "enrolled"
            existing.enrolled_at = ctx.now()
            ctx.session.flush()
            return existing
        raise ValidationError(f"“{v.name}”已报名“{a.name}”。", "volunteer_id", volunteer_id)
    if a.capacity:
        taken = ctx.session.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.activity_id == a.id, Attendance.status != "cancelled")) or 0
        if taken >= a.capacity:
            raise ValidationError(f"活动“{a.name}”已报满（{a.capacity} 人）。", "activity_id", activity_id)
    att = Attendance(activity_id=a.id, volunteer_id=v.id, status="enrolled", enrolled_at=ctx.now(),
                     created_by=ctx.actor.user_id)
    ctx.session.add(att)
    ctx.session.flush()
    return att


def cancel_enrolment(ctx: ServiceContext, attendance_id: int) -> Attendance:
    ctx.actor.require(P_ACTIVITY)
    att = _attendance(ctx, attendance_id)
    if att.status not in ("enrolled",):
        raise ValidationError("已签到的记录不能取消报名。", "status", att.status)
    att.status = "cancelled"
    ctx.session.flush()
    return att


def _attendance(ctx: ServiceContext, attendance_id: int) -> Attendance:
    att = ctx.session.get(Attendance, attendance_id)
    if att is None:
        raise NotFound(f"考勤记录（编号 {attendance_id}）不存在。")
    get_activity(ctx, att.activity_id)
    return att


def compute_minutes(signed_in_at: datetime, signed_out_at: datetime, cap_minutes: int) -> tuple[int, int]:
    """(raw minutes, credited minutes): whole minutes between sign-in and sign-out, capped when
    ``cap_minutes`` > 0."""
    raw = int((signed_out_at - signed_in_at).total_seconds() // 60)
    raw = max(raw, 0)
    credited = min(raw, cap_minutes) if cap_minutes and cap_minutes > 0 else raw
    return raw, credited


def points_for(minutes: int, points_per_hour: int) -> int:
    """Whole points for ``minutes`` of service; a fraction of a point is dropped."""
    return (int(minutes) * int(points_per_hour)) // 60


_MARGIN = object()


def _volunteer_name(ctx: ServiceContext, volunteer_id: int) -> str:
    """For messages only (permission and scope are checked where the volunteer is used)."""
    v = ctx.session.get(Volunteer, volunteer_id)
    return v.name if v is not None else f"志愿者（编号 {volunteer_id}）"


def _clock_text(dt: datetime, day: date) -> str:
    """09:05 on the activity's own day, the full date and time on any other."""
    local = dt.astimezone(LOCAL_TZ)
    return local.strftime("%H:%M") if local.date() == day else format_local(dt)


def time_problems(ctx: ServiceContext, activity: Activity, name: str, signed_in_at: datetime | None,
                  signed_out_at: datetime | None = None, *, sign_in_checked: bool = False,
                  margin: Any = _MARGIN) -> list[tuple[str, str]]:
    """What is wrong with these sign-in/out times, as (field, Chinese message) pairs: a time after
    the clock (``ctx.now()``), a sign-out not after the sign-in, a sign-in earlier than the start or
    a time later than the end by more than ``volunteer.signout_margin_minutes`` (``margin=None``:
    no margin check, for a reviewer's correction). ``sign_in_checked``: the sign-in was checked
    when it was recorded, only the sign-out is."""
    if not ctx.actor.can(P_APPROVE):   # the counter's right, or the reviewer's (correct_times)
        ctx.actor.require(P_ACTIVITY)
    if margin is _MARGIN:
        margin = load_rules(ctx.session).signout_margin_minutes
    day = local_date(activity.starts_at)
    now = ctx.now()
    out: list[tuple[str, str]] = []
    for field_, label, t in (("signed_in_at", "签到", None if sign_in_checked else signed_in_at),
                             ("signed_out_at", "签退", signed_out_at)):
        if t is None:
            continue
        if t > now:
            out.append((field_, f"{name}的{label}时间 {_clock_text(t, day)} 晚于当前时间 {_clock_text(now, day)}："
                                f"不能登记尚未到来的时间，请核对日期和时刻。"))
            continue
        if field_ == "signed_out_at" and signed_in_at is not None and t <= signed_in_at:
            out.append((field_, f"{name}的签退时间 {_clock_text(t, day)} 应晚于签到时间 {_clock_text(signed_in_at, day)}。"))
            continue
        if margin is None:
            continue
        slack = timedelta(minutes=int(margin))
        if field_ == "signed_in_at" and t < activity.starts_at - slack:
            out.append((field_, f"{name}的签到时间 {_clock_text(t, day)} 早于活动开始时间 "
                                f"{_clock_text(activity.starts_at, day)} 超过 {margin} 分钟：请核对签到时间，"
                                f"或先修改活动的开始时间。"))
        elif t > activity.ends_at + slack:
            out.append((field_, f"{name}的{label}时间 {_clock_text(t, day)} 晚于活动结束时间 "
                                f"{_clock_text(activity.ends_at, day)} 超过 {margin} 分钟：请核对{label}时间；"
                                f"确实延长了服务的，请先修改活动的结束时间。"))
    return out


def check_times(ctx: ServiceContext, activity: Activity, name: str, signed_in_at: datetime | None,
                signed_out_at: datetime | None = None, **kw: Any) -> None:
    """``time_problems``, the first one raised as a ValidationError."""
    problems = time_problems(ctx, activity, name, signed_in_at, signed_out_at, **kw)
    if problems:
        field_, message = problems[0]
        raise ValidationError(message, field_, signed_out_at if field_ == "signed_out_at" else signed_in_at)


def _attendance_for(ctx: ServiceContext, activity_id: int, volunteer_id: int) -> Attendance:
    att = ctx.session.scalar(select(Attendance).where(Attendance.activity_id == activity_id,
                                                       Attendance.volunteer_id == volunteer_id))
    if att is None or att.status == "cancelled":
        att = enrol(ctx, activity_id, volunteer_id)  # walk-in volunteers are enrolled at sign-in
    return att


def sign_in(ctx: ServiceContext, activity_id: int, volunteer_id: int, at: datetime | None = None) -> Attendance:
    ctx.actor.require(P_ACTIVITY)
    a = get_activity(ctx, activity_id)
    if a.status != "open":
        raise ValidationError(f"活动“{a.name}”{ACTIVITY_STATES.get(a.status, a.status)}，不能再签到。", "activity_id",
                              activity_id)
    at = at or ctx.now()
    check_times(ctx, a, _volunteer_name(ctx, volunteer_id), at)
    att = _attendance_for(ctx, activity_id, volunteer_id)
    if att.status != "enrolled":
        raise ValidationError(f"已签到（{ATTENDANCE_STATES.get(att.status, att.status)}），不能重复签到。", "status", att.status)
    att.signed_in_at = at
    att.status = "signed_in"
    ctx.session.flush()
    return att


def sign_out(ctx: ServiceContext, activity_id: int, volunteer_id: int, at: datetime | None = None) -> Attendance:
    ctx.actor.require(P_ACTIVITY)
    a = get_activity(ctx, activity_id)  # scope first: nothing is said about another community's activity
    att = ctx.session.scalar(select(Attendance).where(Attendance.activity_id == activity_id,
                                                       Attendance.volunteer_id == volunteer_id))
    if att is None or att.status != "signed_in":
        raise ValidationError("该志愿者尚未签到，不能签退。", "status", None if att is None else att.status)
    out = at or ctx.now()
    assert att.signed_in_at is not None  # status signed_in
    check_times(ctx, a, _volunteer_name(ctx, volunteer_id), att.signed_in_at, out, sign_in_checked=True)
    att.signed_out_at = out
    att.raw_minutes, att.minutes = compute_minutes(att.signed_in_at, out, a.cap_minutes)
    att.status = "signed_out"
    ctx.session.flush()
    return att


def record_attendance(ctx: ServiceContext, activity_id: int, volunteer_id: int, signed_in_at: datetime,
                      signed_out_at: datetime) -> Attendance:
    """Both times at once (attendance sheet, or entry after the fact)."""
    from .validation import check_attendance

    ctx.actor.require(P_ACTIVITY)
    activity = get_activity(ctx, activity_id)
    volunteer = ctx.session.get(Volunteer, volunteer_id)   # scope: enrol/sign_in check it (not found there too)
    current = ctx.session.scalar(select(Attendance).where(Attendance.activity_id == activity_id,
                                                          Attendance.volunteer_id == volunteer_id))
    raise_if(check_attendance(dict(activity=activity, volunteer=volunteer, signed_in_at=signed_in_at,
                                   signed_out_at=signed_out_at), ctx, current=current))
    sign_in(ctx, activity_id, volunteer_id, signed_in_at)
    return sign_out(ctx, activity_id, volunteer_id, signed_out_at)


def pending_approvals(ctx: ServiceContext, activity_id: int | None = None) -> list[tuple[Attendance, Volunteer, Activity]]:
    """Signed-out attendances waiting for the leader's approval, in scope."""
    ctx.actor.require(P_VIEW)
    q = (select(Attendance, Volunteer, Activity).join(Volunteer, Volunteer.id == Attendance.volunteer_id)
         .join(Activity, Activity.id == Attendance.activity_id)
         .where(Attendance.status == "signed_out", scope_filter(Activity.area_id, ctx.actor)))
    if activity_id is not None:
        q = q.where(Activity.id == activity_id)
    return list(ctx.session.execute(q.order_by(Activity.starts_at, Volunteer.name)))


def _post_hours(ctx: ServiceContext, volunteer_id: int, minutes: int, kind: str, service_date: date,
                attendance_id: int | None, reverses_id: int | None = None, reason: str = "") -> HoursEntry:
    s = ctx.session
    if minutes >= 0:
        s.execute(update(ACCOUNTS).where(ACCOUNTS.c.volunteer_id == volunteer_id)
                  .values(approved_minutes=ACCOUNTS.c.approved_minutes + minutes))
    else:
        res = s.execute(update(ACCOUNTS).where(ACCOUNTS.c.volunteer_id == volunteer_id,
                                               ACCOUNTS.c.approved_minutes >= -minutes)
                        .values(approved_minutes=ACCOUNTS.c.approved_minutes + minutes))
        if cast(CursorResult, res).rowcount != 1:
            raise ConflictError("服务时长余额与冲正数不符，冲正未完成，请刷新后重试。")
    after = s.execute(select(ACCOUNTS.c.approved_minutes).where(ACCOUNTS.c.volunteer_id == volunteer_id)).scalar_one()
    entry = HoursEntry(volunteer_id=volunteer_id, at=ctx.now(), service_date=service_date, kind=kind, minutes=minutes,
                       balance_after=after, attendance_id=attendance_id, reverses_id=reverses_id, reason=reason[:200],
                       created_by=ctx.actor.user_id)
    s.add(entry)
    s.flush()
    return entry


def _post_points(ctx: ServiceContext, volunteer_id: int, points: int, kind: str, reason: str = "", *,
                 attendance_id: int | None = None, order_id: int | None = None,
                 reverses_id: int | None = None) -> PointsEntry:
    """Change the stored balance with a guarded statement and append the entry with the balance after.
    A debit the balance cannot cover raises ValidationError; nothing is written then."""
    s = ctx.session
    if points >= 0:
        s.execute(update(ACCOUNTS).where(ACCOUNTS.c.volunteer_id == volunteer_id)
                  .values(points_balance=ACCOUNTS.c.points_balance + points))
    else:
        res = s.execute(update(ACCOUNTS).where(ACCOUNTS.c.volunteer_id == volunteer_id,
                                               ACCOUNTS.c.points_balance >= -points)
                        .values(points_balance=ACCOUNTS.c.points_balance + points))
        if cast(CursorResult, res).rowcount != 1:
            balance = s.execute(select(ACCOUNTS.c.points_balance)
                                .where(ACCOUNTS.c.volunteer_id == volunteer_id)).scalar()
            raise ValidationError(f"积分余额不足：当前 {balance or 0} 分，需要 {-points} 分。", "points", -points)
    after = s.execute(select(ACCOUNTS.c.points_balance).where(ACCOUNTS.c.volunteer_id == volunteer_id)).scalar_one()
    entry = PointsEntry(volunteer_id=volunteer_id, at=ctx.now(), kind=kind, points=points, balance_after=after,
                        attendance_id=attendance_id, order_id=order_id, reverses_id=reverses_id,
                        reason=(reason or "")[:200], created_by=ctx.actor.user_id)
    s.add(entry)
    s.flush()
    return entry


def _earn(ctx: ServiceContext, rules: Rules, volunteer_id: int, points: int, attendance_id: int,
          reason: str) -> PointsEntry | None:
    """Credit earned points, honouring the balance cap (the part above the cap is not credited)."""
    if points <= 0:
        return None
    if rules.balance_cap > 0:
        s = ctx.session
        for _ in range(20):
            balance = s.execute(select(ACCOUNTS.c.points_balance).where(ACCOUNTS.c.volunteer_id == volunteer_id)).scalar_one()
            credit = max(0, min(points, rules.balance_cap - balance))
            if credit == 0:
                return None
            res = s.execute(update(ACCOUNTS).where(ACCOUNTS.c.volunteer_id == volunteer_id,
                                                   ACCOUNTS.c.points_balance == balance)
                            .values(points_balance=balance + credit))
            if cast(CursorResult, res).rowcount == 1:
                note = reason if credit == points else (f"{reason}（积分已达上限 {rules.balance_cap}，本次计 {credit} 分，"
                                                        f"应计 {points} 分）")
                entry = PointsEntry(volunteer_id=volunteer_id, at=ctx.now(), kind="earn", points=credit,
                                    balance_after=balance + credit, attendance_id=attendance_id, reason=note[:200],
                                    created_by=ctx.actor.user_id)
                s.add(entry)
                s.flush()
                return entry
        raise BusyError("积分账户正被同时修改，请稍后重试。")
    return _post_points(ctx, volunteer_id, points, "earn", reason, attendance_id=attendance_id)


@dataclass
class ApprovalResult:
    approved: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (attendance id, Chinese reason)


@_guard_busy
def approve(ctx: ServiceContext, attendance_ids: Iterable[int], quality: str = "") -> ApprovalResult:
    """The leader approves signed-out attendances (bulk): hours enter the hours ledger and the earned
    points the points ledger. Records that cannot be approved are skipped with a reason."""
    ctx.actor.require(P_APPROVE)
    rules = load_rules(ctx.session)
    result = ApprovalResult()
    for att_id in dict.fromkeys(attendance_ids):
        att = _attendance(ctx, att_id)
        a = ctx.session.get_one(Activity, att.activity_id)
        v = ctx.session.get_one(Volunteer, att.volunteer_id)
        if att.status != "signed_out":
            result.skipped.append((att_id, f"{v.name}：{ATTENDANCE_STATES.get(att.status, att.status)}，不能审核"))
            continue
        if att.minutes <= 0:
            result.skipped.append((att_id, f"{v.name}：服务时长为 0，不能计入"))
            continue
        assert att.signed_in_at is not None  # status signed_out
        day = local_date(att.signed_in_at)
        reason = f"{a.name}（{day}）"
        _post_hours(ctx, v.id, att.minutes, "approve", day, att.id, reason=reason)
        earned = _earn(ctx, rules, v.id, points_for(att.minutes, a.points_per_hour), att.id, reason)
        att.points = earned.points if earned else 0
        att.status = "approved"
        att.approved_by = ctx.actor.user_id
        att.approved_at = ctx.now()
        if quality:
            att.quality = quality[:16]
        result.approved.append(att_id)
    ctx.session.flush()
    return result


def reject(ctx: ServiceContext, attendance_ids: Iterable[int], reason: str) -> int:
    ctx.actor.require(P_APPROVE)
    reason = _text(reason, "不予计入的原因", "note", max_len=200)
    n = 0
    for att_id in attendance_ids:
        att = _attendance(ctx, att_id)
        if att.status == "signed_out":
            att.status, att.note = "rejected", reason
            n += 1
    ctx.session.flush()
    return n


@_guard_busy
def reverse_attendance(ctx: ServiceContext, attendance_id: int, reason: str) -> Attendance:
    """Take back an approval: reversal entries in both ledgers (never an edit), and the record goes
    back to 已签退 so it can be corrected and approved again. Refused when the volunteer has already
    spent the points (the balance would go negative): adjust or cancel a redemption first."""
    ctx.actor.require(P_APPROVE)
    reason = _text(reason, "冲正原因", "reason", max_len=200)
    att = _attendance(ctx, attendance_id)
    if att.status != "approved":
        raise ValidationError("只有已审核的服务记录才需要冲正。", "status", att.status)
    s = ctx.session
    for h in s.scalars(select(HoursEntry).where(HoursEntry.attendance_id == att.id, HoursEntry.kind == "approve",
                                                 ~HoursEntry.id.in_(select(HoursEntry.reverses_id)
                                                                    .where(HoursEntry.reverses_id.is_not(None))))).all():
        _post_hours(ctx, att.volunteer_id, -h.minutes, "reverse", h.service_date, att.id, reverses_id=h.id,
                    reason=f"冲正：{reason}")
    for p in s.scalars(select(PointsEntry).where(PointsEntry.attendance_id == att.id, PointsEntry.kind == "earn",
                                                  ~PointsEntry.id.in_(select(PointsEntry.reverses_id)
                                                                      .where(PointsEntry.reverses_id.is_not(None))))).all():
        _post_points(ctx, att.volunteer_id, -p.points, "reverse", f"冲正：{reason}", attendance_id=att.id,
                     reverses_id=p.id)
    att.status = "signed_out"
    att.points = 0
    att.approved_by = None
    att.approved_at = None
    att.note = f"已冲正：{reason}"
    s.flush()
    return att


def correct_times(ctx: ServiceContext, attendance_id: int, signed_in_at: datetime, signed_out_at: datetime,
                  reason: str) -> Attendance:
    """Correct the sign-in/out times. An approved record is reversed first (reversal entries) and
    waits for approval again with the corrected hours."""
    ctx.actor.require(P_APPROVE)
    reason = _text(reason, "更正原因", "reason", max_len=200)
    att = _attendance(ctx, attendance_id)
    # a correction is the reviewer's word on what happened: only the order and the clock bind it
    check_times(ctx, ctx.session.get_one(Activity, att.activity_id), _volunteer_name(ctx, att.volunteer_id),
                signed_in_at, signed_out_at, margin=None)
    if att.status == "approved":
        reverse_attendance(ctx, att.id, f"更正时间：{reason}")
    elif att.status not in ("signed_out", "rejected"):
        raise ValidationError("签退后才能更正时间。", "status", att.status)
    a = ctx.session.get_one(Activity, att.activity_id)
    att.signed_in_at, att.signed_out_at = signed_in_at, signed_out_at
    att.raw_minutes, att.minutes = compute_minutes(signed_in_at, signed_out_at, a.cap_minutes)
    att.status = "signed_out"
    att.note = f"已更正：{reason}"
    ctx.session.flush()
    return att


def close_activity(ctx: ServiceContext, activity_id: int) -> Activity:
    """End the activity: no more enrolment or sign-in. Refused while someone is signed in but not
    signed out (their hours would be lost); records waiting for approval can still be approved."""
    ctx.actor.require(P_ACTIVITY)
    a = get_activity(ctx, activity_id)
    if a.status != "open":
        raise ValidationError(f"活动“{a.name}”{ACTIVITY_STATES.get(a.status, a.status)}。", "status", a.status)
    open_names = list(ctx.session.scalars(select(Volunteer.name).join(Attendance, Attendance.volunteer_id == Volunteer.id)
                                          .where(Attendance.activity_id == a.id, Attendance.status == "signed_in")
                                          .order_by(Volunteer.name)))
    if open_names:
        shown = "、".join(open_names[:5]) + ("等" if len(open_names) > 5 else "")
        raise ValidationError(f"还有 {len(open_names)} 人已签到未签退（{shown}），请先签退再结束活动。", "status", a.status)
    a.status = "closed"
    ctx.session.flush()
    return a


# ============================================================================ points

@_guard_busy
def adjust_points(ctx: ServiceContext, volunteer_id: int, points: int, reason: str) -> PointsEntry:
    """A manual adjustment with a reason (positive or negative; never below zero)."""
    ctx.actor.require(P_POINTS)
    reason = _text(reason, "调整原因", "reason", max_len=200)
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise ValidationError("调整积分应为非零整数。", "points", points)
    v = get_volunteer(ctx, volunteer_id)
    entry = _post_points(ctx, volunteer_id, points, "adjust", reason)
    _audit(ctx, "points_adjust", "volunteer_volunteers", v.id, f"调整“{v.name}”积分 {points:+d}：{reason}",
           points=points, balance_after=entry.balance_after, entry_id=entry.id)
    return entry


def _months_before(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 - months, 12)
    year, month = d.year + y, m + 1
    import calendar

    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@_guard_busy
def expire_points(ctx: ServiceContext, as_of: date | None = None) -> dict[int, int]:
    """Expire points older than the configured number of months, first earned first used: the part of
    credits dated before the cut-off not yet covered by debits expires. Returns {volunteer: points}."""
    ctx.actor.require(P_POINTS)
    rules = load_rules(ctx.session)
    if rules.expiry_months <= 0:
        return {}
    cutoff = local_midnight(_months_before(as_of or ctx.today(), rules.expiry_months))
    s = ctx.session
    old_credit = (select(PointsEntry.volunteer_id, func.sum(PointsEntry.points).label("n"))
                  .where(PointsEntry.points > 0, PointsEntry.at < cutoff).group_by(PointsEntry.volunteer_id).subquery())
    debit = (select(PointsEntry.volunteer_id, func.sum(-PointsEntry.points).label("n"))
             .where(PointsEntry.points < 0).group_by(PointsEntry.volunteer_id).subquery())
    rows = s.execute(select(old_credit.c.volunteer_id, old_credit.c.n, func.coalesce(debit.c.n, 0))
                     .join(Volunteer, Volunteer.id == old_credit.c.volunteer_id)
                     .outerjoin(debit, debit.c.volunteer_id == old_credit.c.volunteer_id)
                     .where(scope_filter(Volunteer.area_id, ctx.actor))).all()
    out = {}
    for vid, credit, spent in rows:
        due = int(credit) - int(spent)
        if due <= 0:
            continue
        balance = _account(ctx, vid)[0]
        due = min(due, balance)
        if due > 0:
            _post_points(ctx, vid, -due, "expire",
                         f"{rules.expiry_months} 个月有效期已过（{cutoff.astimezone(LOCAL_TZ).date()} 前获得）")
            out[vid] = due
    if out:
        _audit(ctx, "points_expire", "volunteer_points_ledger", None,
               f"积分过期：{len(out)} 名志愿者共 {sum(out.values())} 分（{cutoff.astimezone(LOCAL_TZ).date()} 前获得）",
               volunteers=len(out), points=sum(out.values()))
    return out


def hours_history(ctx: ServiceContext, volunteer_id: int, limit: int = 20) -> list[HoursEntry]:
    """The volunteer's latest ``limit`` hours-ledger entries, newest first."""
    get_volunteer(ctx, volunteer_id)
    return list(ctx.session.scalars(select(HoursEntry).where(HoursEntry.volunteer_id == volunteer_id)
                                    .order_by(HoursEntry.id.desc()).limit(limit)))


def points_history(ctx: ServiceContext, volunteer_id: int, start: datetime | None = None,
                   end: datetime | None = None) -> list[PointsEntry]:
    get_volunteer(ctx, volunteer_id)
    q = select(PointsEntry).where(PointsEntry.volunteer_id == volunteer_id)
    if start is not None:
        q = q.where(PointsEntry.at >= start)
    if end is not None:
        q = q.where(PointsEntry.at < end)
    return list(ctx.session.scalars(q.order_by(PointsEntry.id)))


# ============================================================================ reward store

def create_item(ctx: ServiceContext, *, name: str, area_id: int, points_price: int, unit: str = "件",
                stock: int = 0, per_person_limit: int = 0, limit_period: str = "none") -> RewardItem:
    ctx.actor.require(P_STORE)
    area = _area(ctx, area_id, "爱心超市所属社区")
    name = _text(name, "物品名称", "name")
    if isinstance(points_price, bool) or not isinstance(points_price, int) or points_price <= 0:
        raise ValidationError("兑换所需积分应为正整数。", "points_price", points_price)
    if limit_period not in LIMIT_PERIODS:
        raise ValidationError(f"限兑周期“{limit_period}”无效。", "limit_period", limit_period)
    if per_person_limit < 0:
        raise ValidationError("每人限兑数量不能为负数（0 表示不限）。", "per_person_limit", per_person_limit)
    if ctx.session.scalar(select(RewardItem.id).where(RewardItem.area_id == area.id, RewardItem.name == name)):
        raise ValidationError(f"“{area.name}”爱心超市已有物品“{name}”。", "name", name)
    item = RewardItem(area_id=area.id, name=name, unit=_text(unit, "单位", "unit", max_len=8),
                      points_price=points_price, stock=0, per_person_limit=per_person_limit,
                      limit_period=limit_period if per_person_limit else "none", created_by=ctx.actor.user_id)
    ctx.session.add(item)
    ctx.session.flush()
    if stock:
        stock_in(ctx, item.id, stock, "建档入库")
    return item


def get_item(ctx: ServiceContext, item_id: int) -> RewardItem:
    ctx.actor.require(P_VIEW)
    item = ctx.session.get(RewardItem, item_id)
    if item is None:
        raise NotFound(f"爱心超市物品（编号 {item_id}）不存在。")
    _area_of(ctx, item)
    return item


def list_items(ctx: ServiceContext, area_id: int | None = None, active_only: bool = True) -> list[RewardItem]:
    ctx.actor.require(P_VIEW)
    q = select(RewardItem).where(scope_filter(RewardItem.area_id, ctx.actor))
    if area_id is not None:
        q = q.where(RewardItem.area_id == area_id)
    if active_only:
        q = q.where(RewardItem.active.is_(True))
    items = list(ctx.session.scalars(q.order_by(RewardItem.area_id, RewardItem.points_price, RewardItem.id)))
    for it in items:  # the stored stock may have moved since the session loaded the row
        ctx.session.refresh(it, ["stock"])
    return items


def current_stock(ctx: ServiceContext, item_id: int) -> int:
    """An item's stock as stored now (for the store and the counter), within scope."""
    if not ctx.actor.can(P_REDEEM):
        ctx.actor.require(P_VIEW)
    item = ctx.session.get(RewardItem, item_id)
    if item is None:
        raise NotFound(f"爱心超市物品（编号 {item_id}）不存在。")
    _area_of(ctx, item)
    return _current_stock(ctx, item_id)


def _current_stock(ctx: ServiceContext, item_id: int) -> int:
    return int(ctx.session.execute(select(ITEMS.c.stock).where(ITEMS.c.id == item_id)).scalar_one())


def _move(ctx: ServiceContext, item_id: int, quantity: int, kind: str, reason: str = "",
          order_id: int | None = None, expect_stock: int | None = None) -> StockMove:
    s = ctx.session
    cond = [ITEMS.c.id == item_id]
    if quantity < 0:
        cond.append(ITEMS.c.stock >= -quantity)
    if expect_stock is not None:
        cond.append(ITEMS.c.stock == expect_stock)
    res = s.execute(update(ITEMS).where(*cond).values(stock=ITEMS.c.stock + quantity))
    if cast(CursorResult, res).rowcount != 1:
        now = _current_stock(ctx, item_id)
        name = s.execute(select(ITEMS.c.name).where(ITEMS.c.id == item_id)).scalar()
        if expect_stock is not None and now != expect_stock:
            raise ConflictError(f"“{name}”的库存刚被他人改动（现为 {now}），请重新盘点。")
        raise ValidationError(f"“{name}”库存不足：现有 {now}，需要 {-quantity}。", "quantity", -quantity)
    after = _current_stock(ctx, item_id)
    move = StockMove(item_id=item_id, at=ctx.now(), kind=kind, quantity=quantity, stock_after=after,
                     order_id=order_id, reason=(reason or "")[:200], created_by=ctx.actor.user_id)
    s.add(move)
    s.flush()
    return move


def _audited_move(ctx: ServiceContext, item: RewardItem, move: StockMove) -> StockMove:
    from .models import STOCK_KINDS

    _audit(ctx, f"stock_{move.kind}", "volunteer_reward_items", item.id,
           f"“{item.name}”{STOCK_KINDS.get(move.kind, move.kind)} {move.quantity:+d}，结存 {move.stock_after}"
           + (f"：{move.reason}" if move.reason else ""), quantity=move.quantity, stock_after=move.stock_after,
           move_id=move.id)
    return move


def _positive(q: Any, title: str) -> int:
    if isinstance(q, bool) or not isinstance(q, int) or q <= 0:
        raise ValidationError(f"{title}应为正整数。", "quantity", q)
    return q


@_guard_busy
def stock_in(ctx: ServiceContext, item_id: int, quantity: int, reason: str = "入库") -> StockMove:
    ctx.actor.require(P_STORE)
    item = get_item(ctx, item_id)
    return _audited_move(ctx, item, _move(ctx, item_id, _positive(quantity, "入库数量"), "in", reason))


@_guard_busy
def stock_out(ctx: ServiceContext, item_id: int, quantity: int, reason: str) -> StockMove:
    ctx.actor.require(P_STORE)
    item = get_item(ctx, item_id)
    reason = _text(reason, "出库原因（如损坏、过期、丢失）", "reason", max_len=200)
    return _audited_move(ctx, item, _move(ctx, item_id, -_positive(quantity, "出库数量"), "out", reason))


@_guard_busy
def stock_take(ctx: ServiceContext, item_id: int, counted: int, reason: str = "盘点") -> StockMove | None:
    """Book the difference between the counted and the expected stock as an adjustment move."""
    ctx.actor.require(P_STORE)
    item = get_item(ctx, item_id)
    if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
        raise ValidationError("盘点数量应为不小于 0 的整数。", "counted", counted)
    expected = _current_stock(ctx, item_id)
    if counted == expected:
        return None
    move = _move(ctx, item_id, counted - expected, "adjust", f"{reason}：账面 {expected}，实盘 {counted}",
                 expect_stock=expected)
    return _audited_move(ctx, item, move)


def check_window(rules: Rules, today: date) -> None:
    if rules.redeem_months and today.month not in rules.redeem_months:
        months = "、".join(f"{m}月" for m in rules.redeem_months)
        raise ValidationError(f"现在不在兑换期内：本街道只在 {months} 开放积分兑换。", "date", today)
    if not (rules.redeem_day_from <= today.day <= rules.redeem_day_to):
        raise ValidationError(f"现在不在兑换期内：每月 {rules.redeem_day_from} 日至 {rules.redeem_day_to} 日开放积分兑换。",
                              "date", today)


def _period_start(period: str, today: date) -> datetime | None:
    if period == "month":
        return local_midnight(today.replace(day=1))
    if period == "year":
        return local_midnight(date(today.year, 1, 1))
    return None


def redeem_eligibility(ctx: ServiceContext, volunteer_id: int, *, minutes: int | None = None) -> list[FieldError]:
    """Why the volunteer may not redeem today, in the order ``redeem`` refuses: stopped, outside the
    redemption window, fewer approved hours than the threshold; [] when they may. The counter shows
    the first before anything is put in the basket. (Refusals that depend on the basket — stock,
    per-person limits, an item taken off the shelf — are ``redeem``'s own.) ``minutes``: the
    approved minutes when the caller has just read them."""
    v = get_volunteer(ctx, volunteer_id)
    out: list[FieldError] = []
    if not v.active:
        out.append(FieldError("volunteer_id", f"志愿者“{v.name}”已停用，不能兑换。", volunteer_id))
    rules = load_rules(ctx.session)
    try:
        check_window(rules, ctx.today())
    except ValidationError as exc:
        out.append(FieldError(exc.field or "date", exc.message, exc.value))
    if minutes is None:
        minutes = _account(ctx, v.id)[1]
    if rules.redeem_min_hours and minutes < rules.redeem_min_hours * 60:
        out.append(FieldError("volunteer_id", f"累计服务满 {rules.redeem_min_hours} 小时方可兑换，"
                                              f"“{v.name}”目前 {hours_text(minutes)} 小时。", volunteer_id))
    return out


@_guard_busy
def redeem(ctx: ServiceContext, volunteer_id: int, items: dict[int, int] | Sequence[tuple[int, int]],
           note: str = "") -> RedemptionOrder:
    """Redeem items for points in one transaction: points debited and every item's stock debited with
    guarded statements, the order, its lines, the points entry and the stock moves recorded. Any
    refusal (balance, stock, threshold, window, limit) raises before the caller commits."""
    ctx.actor.require(P_REDEEM)
    s = ctx.session
    wanted: dict[int, int] = {}
    for item_id, qty in (items.items() if isinstance(items, dict) else items):
        wanted[int(item_id)] = wanted.get(int(item_id), 0) + _positive(qty, "兑换数量")
    if not wanted:
        raise ValidationError("请至少选择一件物品。", "items")
    v = get_volunteer(ctx, volunteer_id)
    raise_if(redeem_eligibility(ctx, v.id))
    catalogue = {}
    area_id = None
    for item_id in sorted(wanted):  # fixed order: two orders never lock items crosswise
        item = get_item(ctx, item_id)
        if not item.active:
            raise ValidationError(f"“{item.name}”已下架。", "items", item_id)
        catalogue[item_id] = (item.name, item.points_price, item.per_person_limit, item.limit_period)
        area_id = area_id or item.area_id
    total = sum(catalogue[i][1] * q for i, q in wanted.items())
    order = RedemptionOrder(volunteer_id=v.id, area_id=area_id, at=ctx.now(), total_points=total, status="done",
                            handled_by=ctx.actor.user_id, cancel_reason="")
    s.add(order)
    s.flush()
    # The guarded debit of the balance comes first: it also serialises this volunteer's redemptions,
    # so the per-person limits below are counted with every earlier redemption visible.
    _post_points(ctx, v.id, -total, "redeem", note or "爱心超市兑换", order_id=order.id)
    for item_id in sorted(wanted):
        name, price, limit, period = catalogue[item_id]
        qty = wanted[item_id]
        if limit:
            q = (select(func.coalesce(func.sum(RedemptionLine.quantity), 0))
                 .join(RedemptionOrder, RedemptionOrder.id == RedemptionLine.order_id)
                 .where(RedemptionOrder.volunteer_id == v.id, RedemptionOrder.status == "done",
                        RedemptionLine.item_id == item_id, RedemptionOrder.id != order.id))
            start = _period_start(period, ctx.today())
            if start is not None:
                q = q.where(RedemptionOrder.at >= start)
            had = int(s.execute(q).scalar() or 0)
            if had + qty > limit:
                label = LIMIT_PERIODS.get(period, "")
                raise ValidationError(f"“{name}”每人{label if period != 'none' else ''}限兑 {limit} 件，"
                                      f"“{v.name}”已兑 {had} 件，本次最多还能兑 {max(limit - had, 0)} 件。", "items", item_id)
        s.add(RedemptionLine(order_id=order.id, item_id=item_id, quantity=qty, points_price=price))
        _move(ctx, item_id, -qty, "redeem", f"兑换给 {v.name}（{v.number}）", order_id=order.id)
    s.flush()
    s.refresh(order, ["lines"])
    return order


@_guard_busy
def cancel_redemption(ctx: ServiceContext, order_id: int, reason: str) -> RedemptionOrder:
    """Undo a redemption: points refunded and stock returned, each as a new entry; the order is marked
    cancelled by a guarded statement so two desktops can never cancel it twice."""
    ctx.actor.require(P_REDEEM)
    reason = _text(reason, "撤销原因", "reason", max_len=200)
    s = ctx.session
    order = s.get(RedemptionOrder, order_id)
    if order is None:
        raise NotFound(f"兑换单（编号 {order_id}）不存在。")
    v = get_volunteer(ctx, order.volunteer_id)
    res = s.execute(update(ORDERS).where(ORDERS.c.id == order_id, ORDERS.c.status == "done")
                    .values(status="cancelled", cancelled_at=ctx.now(), cancel_reason=reason))
    if cast(CursorResult, res).rowcount != 1:
        raise ConflictError(f"兑换单 {order_id} 已经撤销过，不能重复撤销。")
    _post_points(ctx, v.id, order.total_points, "refund", f"撤销兑换单 {order_id}：{reason}", order_id=order_id)
    for line in sorted(order.lines, key=lambda ln: ln.item_id):
        _move(ctx, line.item_id, line.quantity, "cancel", f"撤销兑换单 {order_id}：{reason}", order_id=order_id)
    _audit(ctx, "redeem_cancel", "volunteer_redemptions", order_id,
           f"撤销兑换单 {order_id}（{v.name}，{order.total_points} 分）：{reason}",
           points=order.total_points, reason=reason)
    s.refresh(order)
    return order


def list_orders(ctx: ServiceContext, volunteer_id: int | None = None, limit: int = 200) -> list[RedemptionOrder]:
    ctx.actor.require(P_VIEW)
    q = select(RedemptionOrder).where(scope_filter(RedemptionOrder.area_id, ctx.actor))
    if volunteer_id is not None:
        q = q.where(RedemptionOrder.volunteer_id == volunteer_id)
    return list(ctx.session.scalars(q.order_by(RedemptionOrder.id.desc()).limit(limit)))


@dataclass
class OrderRow:
    order_id: int
    at: datetime
    volunteer_name: str
    volunteer_number: str
    area_name: str
    items: str
    total_points: int
    status: str
    cancel_reason: str


def order_rows(ctx: ServiceContext, text: str = "", limit: int = 200) -> list[OrderRow]:
    """The latest redemptions in scope (newest first) with the volunteer and the items as text;
    ``text`` filters by volunteer name, 志愿者编号 or 兑换单号. Plain columns and one query for the
    lines of the listed orders (no ORM objects)."""
    ctx.actor.require(P_VIEW)
    q = (select(ORDERS.c.id, ORDERS.c.at, Volunteer.name, Volunteer.number, Area.name, ORDERS.c.total_points,
                ORDERS.c.status, ORDERS.c.cancel_reason)
         .join(Volunteer, Volunteer.id == ORDERS.c.volunteer_id).join(Area, Area.id == ORDERS.c.area_id)
         .where(scope_filter(ORDERS.c.area_id, ctx.actor)))
    text = (text or "").strip()
    if text:
        conds = [Volunteer.name.contains(text), Volunteer.number == text.upper()]
        if text.isdigit():
            conds.append(ORDERS.c.id == int(text))
        q = q.where(or_(*conds))
    rows = ctx.session.execute(q.order_by(ORDERS.c.id.desc()).limit(limit)).all()
    items: dict[int, list[str]] = {}
    if rows:
        lines = (select(RedemptionLine.order_id, RewardItem.name, RedemptionLine.quantity)
                 .join(RewardItem, RewardItem.id == RedemptionLine.item_id)
                 .where(RedemptionLine.order_id.in_([r[0] for r in rows])).order_by(RedemptionLine.id))
        for order_id, name, qty in ctx.session.execute(lines):
            items.setdefault(order_id, []).append(f"{name}×{qty}")
    return [OrderRow(oid, at, vname, vnum, area, "；".join(items.get(oid, ())), total, status, reason or "")
            for oid, at, vname, vnum, area, total, status, reason in rows]


@dataclass
class ItemRow:
    item_id: int
    area_name: str
    name: str
    unit: str
    price: int
    stock: int
    limit: int
    period: str
    active: bool
    version_id: int


def item_rows(ctx: ServiceContext) -> list[ItemRow]:
    """Every catalogue item in scope (on sale or not) with its store's community, stock as stored now."""
    ctx.actor.require(P_VIEW)
    q = (select(ITEMS.c.id, Area.name, ITEMS.c.name, ITEMS.c.unit, ITEMS.c.points_price, ITEMS.c.stock,
                ITEMS.c.per_person_limit, ITEMS.c.limit_period, ITEMS.c.active, ITEMS.c.version_id)
         .join(Area, Area.id == ITEMS.c.area_id).where(scope_filter(ITEMS.c.area_id, ctx.actor))
         .order_by(Area.sort_order, Area.id, ITEMS.c.points_price, ITEMS.c.id))
    return [ItemRow(*row) for row in ctx.session.execute(q)]


def set_item_active(ctx: ServiceContext, item_id: int, active: bool, expected_version: int | None = None) -> RewardItem:
    """上架 / 下架 an item; its stock and history stay."""
    from shell.core.locking import check_version, flush_or_conflict

    ctx.actor.require(P_STORE)
    item = get_item(ctx, item_id)
    check_version(ctx.session, item, expected_version, "爱心超市物品")
    item.active = bool(active)
    flush_or_conflict(ctx.session, item, "爱心超市物品")
    return item


# ============================================================================ certificates

def issue_certificate(ctx: ServiceContext, volunteer_id: int, period_from: date | None = None,
                      period_to: date | None = None) -> tuple[Certificate, list[dict]]:
    """Number and record a 志愿服务证明. Returns the certificate and the approved services it covers."""
    ctx.actor.require(P_CERTIFICATE)
    v = get_volunteer(ctx, volunteer_id)
    if period_from and period_to and period_to < period_from:
        raise ValidationError("证明期间的结束日期不能早于开始日期。", "period_to", period_to)
    services = _certified_services(ctx, v.id, period_from, period_to)
    minutes = sum(x["minutes"] for x in services)
    if minutes <= 0:
        raise ValidationError(f"“{v.name}”在所选期间没有已审核的服务时长，无法出具证明。", "volunteer_id", volunteer_id)
    rules = load_rules(ctx.session)
    today = ctx.today()
    seq = _next_counter(ctx, "certificate")
    number = f"{rules.certificate_prefix}{today.year}{seq:06d}"
    cert = Certificate(number=number, volunteer_id=v.id, issued_at=ctx.now(), period_from=period_from,
                       period_to=period_to, minutes=minutes, issued_by=ctx.actor.user_id)
    ctx.session.add(cert)
    ctx.session.flush()
    return cert, services


def latest_certificate_number(ctx: ServiceContext, volunteer_number: str) -> str:
    """The number of the newest certificate issued to this volunteer ("" when none)."""
    v = find_by_number(ctx, volunteer_number)
    return ctx.session.scalar(select(Certificate.number).where(Certificate.volunteer_id == v.id)
                              .order_by(Certificate.id.desc()).limit(1)) or ""


def _certified_services(ctx: ServiceContext, volunteer_id: int, period_from: date | None = None,
                       period_to: date | None = None) -> list[dict]:
    """Net approved minutes per activity (approvals minus reversals) in the period."""
    q = (select(Activity.name, Activity.place, Activity.content, Activity.leader_name, HoursEntry.service_date,
                func.sum(HoursEntry.minutes))
         .join(Attendance, Attendance.id == HoursEntry.attendance_id)
         .join(Activity, Activity.id == Attendance.activity_id)
         .where(HoursEntry.volunteer_id == volunteer_id)
         .group_by(Activity.id, Activity.name, Activity.place, Activity.content, Activity.leader_name,
                   HoursEntry.service_date)
         .having(func.sum(HoursEntry.minutes) > 0)
         .order_by(HoursEntry.service_date, Activity.id))
    if period_from:
        q = q.where(HoursEntry.service_date >= period_from)
    if period_to:
        q = q.where(HoursEntry.service_date <= period_to)
    return [dict(activity=n, place=p, content=c, leader=ld, date=d, minutes=int(m))
            for n, p, c, ld, d, m in ctx.session.execute(q)]


# ============================================================================ statistics (dashboard)

def last_months(today: date, months: int = 12) -> list[date]:
    """First days of the ``months`` months ending with ``today``'s month, oldest first."""
    out = []
    y, m = today.year, today.month
    for _ in range(months):
        out.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _month_key(ctx: ServiceContext, column):
    """A "YYYY-MM" expression of a DATE column, for grouping by month in SQL."""
    if ctx.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _in_scope(ctx: ServiceContext, q, volunteer_column):
    """Restrict to volunteers in the actor's scope; no join at all for a whole-street user."""
    if ctx.actor.is_superuser:
        return q
    return q.join(Volunteer, Volunteer.id == volunteer_column).where(scope_filter(Volunteer.area_id, ctx.actor))


def hours_by_month(ctx: ServiceContext, months: int = 12) -> list[tuple[date, int]]:
    """Net approved minutes per service month (approvals minus reversals) for the last ``months``
    months, volunteers in scope."""
    ctx.actor.require(P_VIEW)
    firsts = last_months(ctx.today(), months)
    key = _month_key(ctx, HoursEntry.service_date)
    q = _in_scope(ctx, select(key, func.sum(HoursEntry.minutes)).where(HoursEntry.service_date >= firsts[0]),
                  HoursEntry.volunteer_id).group_by(key)
    sums = {k: int(n or 0) for k, n in ctx.session.execute(q)}
    return [(f, sums.get(f"{f:%Y-%m}", 0)) for f in firsts]


def points_by_month(ctx: ServiceContext, months: int = 12) -> list[tuple[date, int, int]]:
    """(month, points earned, points redeemed net of cancelled redemptions) for the last ``months``
    months (local time), volunteers in scope. One range query per month on the covering index
    (at, kind, points): no per-row date arithmetic."""
    ctx.actor.require(P_VIEW)
    out = []
    for f in last_months(ctx.today(), months):
        q = _in_scope(ctx, select(PointsEntry.kind, func.sum(PointsEntry.points))
                      .where(PointsEntry.at >= local_midnight(f), PointsEntry.at < local_midnight(_next_month(f)),
                             PointsEntry.kind.in_(("earn", "redeem", "refund"))),
                      PointsEntry.volunteer_id).group_by(PointsEntry.kind)
        sums = {kind: int(n or 0) for kind, n in ctx.session.execute(q)}
        out.append((f, sums.get("earn", 0), -(sums.get("redeem", 0) + sums.get("refund", 0))))
    return out


def star_distribution(ctx: ServiceContext) -> list[tuple[str, int]]:
    """Active volunteers in scope per star level, 未评星 to 五星."""
    from sqlalchemy import case

    ctx.actor.require(P_VIEW)
    minutes = func.coalesce(ACCOUNTS.c.approved_minutes, 0)
    level = case(*[(minutes >= t * 60, 5 - i) for i, t in enumerate(reversed(STAR_THRESHOLDS_HOURS))], else_=0)
    q = (select(level, func.count()).select_from(Volunteer)
         .outerjoin(ACCOUNTS, ACCOUNTS.c.volunteer_id == Volunteer.id)
         .where(Volunteer.active.is_(True), scope_filter(Volunteer.area_id, ctx.actor)).group_by(level))
    counts = {int(k): int(n) for k, n in ctx.session.execute(q)}
    return [(STAR_LABELS[k] or "未评星", counts.get(k, 0)) for k in range(len(STAR_LABELS))]


# ============================================================================ consistency

def check_consistency(session, volunteer_id: int | None = None) -> list[str]:
    """Stored balances against the ledgers (used by tests and the maintenance view). Empty = all agree."""
    problems = []
    q = select(ACCOUNTS.c.volunteer_id, ACCOUNTS.c.points_balance, ACCOUNTS.c.approved_minutes)
    if volunteer_id is not None:
        q = q.where(ACCOUNTS.c.volunteer_id == volunteer_id)
    for vid, points, minutes in session.execute(q):
        p_sum = session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(PointsEntry.volunteer_id == vid))
        h_sum = session.scalar(select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(HoursEntry.volunteer_id == vid))
        last_p = session.scalar(select(PointsEntry.balance_after).where(PointsEntry.volunteer_id == vid)
                                .order_by(PointsEntry.id.desc()).limit(1))
        if p_sum != points or (last_p is not None and last_p != points) or points < 0:
            problems.append(f"志愿者 {vid}：积分余额 {points}，台账合计 {p_sum}，最后一笔结余 {last_p}")
        if h_sum != minutes or minutes < 0:
            problems.append(f"志愿者 {vid}：时长 {minutes} 分钟，台账合计 {h_sum}")
    for item_id, stock in session.execute(select(ITEMS.c.id, ITEMS.c.stock)):
        m_sum = session.scalar(select(func.coalesce(func.sum(StockMove.quantity), 0)).where(StockMove.item_id == item_id))
        if m_sum != stock or stock < 0:
            problems.append(f"物品 {item_id}：库存 {stock}，出入库合计 {m_sum}")
    return problems


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
