"""Activities, enrolment, sign-in/out and attendance approval."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.listing import Listing
from shell.core.models import Area
from shell.core.scope import get_in_scope
from shell.db.retry import guard_busy
from shell.db.sql import spelled
from shell.errors import NotFound, ValidationError, raise_if

from ..labels import ACTIVITY_ENDED_OPEN
from ..models import (
    ACTIVITY_STATES,
    ATTENDANCE_STATES,
    Activity,
    Attendance,
    HoursEntry,
    PointsEntry,
    Team,
    Volunteer,
)
from ..rules import P_ACTIVITY, P_APPROVE, P_VIEW, load_rules
from ..validation import time_problems
from .common import _ONE_DAY, _area, _text, local_date, local_midnight
from .points import _earn, _post_hours, _post_points
from .teams import _team
from .volunteers import get_volunteer

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
    a = get_in_scope(ctx, Activity, activity_id, "志愿活动")
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
    if status == ACTIVITY_ENDED_OPEN:
        conds += [Activity.status == "open", Activity.ends_at < ctx.now()]
    elif status:
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


def _snapshot(obj) -> SimpleNamespace:
    """Plain column values of a row, read while its session is open (the session rolls back after)."""
    return SimpleNamespace(**{c.key: getattr(obj, c.key) for c in obj.__table__.columns})


@dataclass
class ActivityDetail:
    activity: SimpleNamespace          # the Activity row's column values
    team_name: str
    area_name: str
    rows: list[AttendanceRow] = field(default_factory=list)


def activity_detail(ctx: ServiceContext, activity_id: int) -> ActivityDetail:
    """The activity page's panel: the activity, its team and community names and its attendance sheet."""
    a = get_activity(ctx, activity_id)
    team = ctx.session.get(Team, a.team_id) if a.team_id else None
    area = ctx.session.get(Area, a.area_id)
    return ActivityDetail(_snapshot(a), team.name if team else "", area.name if area else "",
                          activity_attendances(ctx, a.id))


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
            conds.append(spelled(Volunteer.initials, Volunteer.name_pinyin, text))
        q = q.where(or_(*conds))
    return q


def approval_listing(ctx: ServiceContext, status: str = "signed_out", activity_id: int | None = None,
                     text: str = "") -> Listing:
    """The approval queue for a lazy table: ``approval_query`` paged by ``Attendance.id``."""
    return Listing(approval_query(ctx, status, activity_id, text), Attendance.id)


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




def _volunteer_name(ctx: ServiceContext, volunteer_id: int) -> str:
    """For messages only (permission and scope are checked where the volunteer is used)."""
    v = ctx.session.get(Volunteer, volunteer_id)
    return v.name if v is not None else f"志愿者（编号 {volunteer_id}）"


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
    from ..validation import check_attendance

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


@dataclass
class ApprovalResult:
    approved: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (attendance id, Chinese reason)


@guard_busy
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


@guard_busy
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


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
