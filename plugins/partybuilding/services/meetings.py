"""三会一课 records: meetings with their attendance, the recorder's choices, and meeting lists."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.scope import get_in_scope
from shell.errors import ValidationError

from ..labels import MEETING_KINDS
from ..models import Attendance, Meeting, Member, Membership, PartyOrg
from ..rules import MEETING, VIEW
from .common import _not_future, _require_text
from .orgs import _get_org, _org_in_scope, get_org


def _members_of_subtree_on(ctx: ServiceContext, org: PartyOrg, on: date) -> set[int]:
    q = (select(Membership.member_id).join(PartyOrg, PartyOrg.id == Membership.org_id)
         .where(PartyOrg.path.startswith(org.path), Membership.start_on <= on,
                or_(Membership.end_on.is_(None), Membership.end_on > on)))
    return set(ctx.session.scalars(q))


@dataclass(frozen=True)
class AttendanceEntry:
    member_id: int
    present: bool = True
    reason: str = ""


def _check_attendance(ctx: ServiceContext, org: PartyOrg, held_on: date,
                      attendance: Iterable[AttendanceEntry | tuple]) -> list[AttendanceEntry]:
    """The attendance list checked: each person once, a member of ``org``'s subtree that day, and a
    reason for everyone absent."""
    entries = [a if isinstance(a, AttendanceEntry) else AttendanceEntry(*a) for a in attendance]
    allowed = _members_of_subtree_on(ctx, org, held_on)
    seen = set()
    for a in entries:
        if a.member_id in seen:
            raise ValidationError("同一人在出勤名单中重复出现。", "attendance", a.member_id)
        seen.add(a.member_id)
        if a.member_id not in allowed:
            who = ctx.session.get(Member, a.member_id)
            raise ValidationError(f"{who.name if who else a.member_id}在 {held_on} 不是“{org.name}”的成员，不能记入出勤。",
                                  "attendance", a.member_id)
        if not a.present and not (a.reason or "").strip():
            who = ctx.session.get_one(Member, a.member_id)
            raise ValidationError(f"{who.name}缺席，请填写缺席原因。", "attendance", a.member_id)
    return entries


def record_meeting(ctx: ServiceContext, org_id: int, kind: str, held_on: date, topic: str, host: str = "",
                   recorder: str = "", minutes: str = "", location: str = "",
                   attendance: Iterable[AttendanceEntry | tuple] = ()) -> Meeting:
    """Record a meeting with its attendance (present, or absent with a reason)."""
    ctx.actor.require(MEETING)
    org = _get_org(ctx, org_id)
    _org_in_scope(ctx, org)
    if kind not in MEETING_KINDS:
        raise ValidationError(f"未知的会议类型“{kind}”。", "kind", kind)
    if kind == "group" and org.kind != "group":
        raise ValidationError(f"党小组会应记在党小组下，“{org.name}”是{org.kind_label}。", "kind", kind)
    if kind == "committee" and not org.has_committee:
        raise ValidationError(f"“{org.name}”未设委员会，不能记录支委会。", "kind", kind)
    _not_future(ctx, held_on, "会议日期", "held_on")
    if (org.founded_on and held_on < org.founded_on) or (org.dissolved_on and held_on > org.dissolved_on):
        raise ValidationError(f"会议日期 {held_on} 不在“{org.name}”存续期间。", "held_on", held_on)
    topic = _require_text(topic, "会议主题", "topic", 200)
    entries = _check_attendance(ctx, org, held_on, attendance)
    mt = Meeting(org_id=org.id, kind=kind, held_on=held_on, topic=topic, host=host.strip() or None,
                 recorder=recorder.strip() or None, minutes=minutes.strip() or None, location=location.strip() or None,
                 created_by=ctx.actor.user_id)
    ctx.session.add(mt)
    ctx.session.flush()
    for a in entries:
        ctx.session.add(Attendance(meeting_id=mt.id, member_id=a.member_id, present=a.present,
                                   absence_reason=None if a.present else a.reason.strip()[:200]))
    ctx.session.flush()
    return mt


def update_meeting(ctx: ServiceContext, meeting_id: int, *, topic: str, minutes: str = "", host: str = "",
                   recorder: str = "", location: str = "", attendance: Iterable[AttendanceEntry | tuple] = (),
                   expected_version: int | None = None) -> Meeting:
    """Correct a recorded meeting — topic, host, recorder, place, minutes and the attendance (the
    organisation, type and date stay; a wrong one is a different meeting). Optimistic locking: when
    someone saved the meeting after ``expected_version`` was read, a ConflictError names them. Any
    change, the attendance alone included, moves the meeting's version on, so two desktops editing
    the attendance cannot overwrite each other; every row change is in the audit log."""
    ctx.actor.require(MEETING)
    s = ctx.session
    mt = get_in_scope(ctx, Meeting, meeting_id, "会议记录")
    org = _get_org(ctx, mt.org_id)
    _org_in_scope(ctx, org)
    check_version(s, mt, expected_version, "会议记录")
    topic = _require_text(topic, "会议主题", "topic", 200)
    entries = {a.member_id: a for a in _check_attendance(ctx, org, mt.held_on, attendance)}
    rows = list(s.scalars(select(Attendance).where(Attendance.meeting_id == mt.id)))  # read before changing (autoflush)
    mt.topic, mt.host, mt.recorder = topic, (host or "").strip() or None, (recorder or "").strip() or None
    mt.location, mt.minutes = (location or "").strip() or None, (minutes or "").strip() or None
    changed = False
    for row in rows:
        a = entries.pop(row.member_id, None)
        if a is None:
            s.delete(row)
            changed = True
            continue
        reason = None if a.present else a.reason.strip()[:200]
        if (row.present, row.absence_reason) != (a.present, reason):
            row.present, row.absence_reason = a.present, reason
            changed = True
    for a in entries.values():
        s.add(Attendance(meeting_id=mt.id, member_id=a.member_id, present=a.present,
                         absence_reason=None if a.present else a.reason.strip()[:200]))
        changed = True
    if changed and not s.is_modified(mt):
        mt.updated_at = ctx.now()   # the attendance alone changed: the meeting's version moves on all the same
    flush_or_conflict(s, mt, "会议记录")
    return mt


def attendance_of(session: Session, meeting_id: int) -> list[tuple[Attendance, Member]]:
    return list(session.execute(select(Attendance, Member).join(Member, Member.id == Attendance.member_id)
                                .where(Attendance.meeting_id == meeting_id).order_by(Attendance.id)))


def quorum_met(session: Session, meeting: Meeting) -> bool:
    """A 支委会 counts only with more than half the committee present (when attendance is recorded)."""
    if meeting.kind != "committee":
        return True
    org = session.get_one(PartyOrg, meeting.org_id)
    rows = attendance_of(session, meeting.id)
    if not rows or not org.committee_size:
        return True
    present = sum(1 for a, _ in rows if a.present)
    return present * 2 > org.committee_size


def _meetings_query(ctx: ServiceContext, start: date, end: date, org_id: int | None):
    q = (select(Meeting).join(PartyOrg, PartyOrg.id == Meeting.org_id)
         .where(scope_filter(PartyOrg.area_id, ctx.actor), Meeting.held_on >= start, Meeting.held_on <= end))
    if org_id is not None:
        q = q.where(PartyOrg.path.startswith(get_org(ctx, org_id).path))
    return q


def list_meetings(ctx: ServiceContext, start: date, end: date, org_id: int | None = None, limit: int | None = None,
                  before: tuple[date, int] | None = None) -> list[Meeting]:
    """The meetings in scope (of ``org_id``'s subtree) between the dates, by organisation and date; with
    ``limit`` the newest first, a page at a time: ``before`` = (date, id) of the last one shown
    (keyset on the (held_on, id) index — a street's year holds tens of thousands of meetings)."""
    ctx.actor.require(VIEW)
    q = _meetings_query(ctx, start, end, org_id)
    if limit is None:
        return list(ctx.session.scalars(q.order_by(PartyOrg.path, Meeting.held_on, Meeting.id)))
    if before is not None:
        q = q.where(or_(Meeting.held_on < before[0], (Meeting.held_on == before[0]) & (Meeting.id < before[1])))
    return list(ctx.session.scalars(q.order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit)))


def count_meetings(ctx: ServiceContext, start: date, end: date, org_id: int | None = None) -> int:
    ctx.actor.require(VIEW)
    q = _meetings_query(ctx, start, end, org_id).with_only_columns(func.count(Meeting.id))
    return int(ctx.session.scalar(q) or 0)


def meeting_candidates(ctx: ServiceContext, org_id: int, on: date) -> list[Member]:
    """Who may be on the attendance list of a meeting of ``org`` on ``on``: members of its subtree that day."""
    org = get_org(ctx, org_id)
    ids = _members_of_subtree_on(ctx, org, on)
    if not ids:
        return []
    return list(ctx.session.scalars(select(Member).where(Member.id.in_(ids)).order_by(Member.name, Member.id)))


def meeting_kinds_for(org: PartyOrg) -> list[str]:
    """The meeting kinds that may be recorded for ``org`` (as ``record_meeting`` checks them)."""
    kinds = []
    for k in MEETING_KINDS:
        if k == "group" and org.kind != "group":
            continue
        if k == "committee" and not org.has_committee:
            continue
        kinds.append(k)
    return kinds


@dataclass
class MeetingSummary:
    meeting: Meeting
    org_label: str
    listed: int
    present: int
    absent: list[tuple[str, str]]   # (name, reason)
    quorum: bool


def meeting_summaries(ctx: ServiceContext, start: date, end: date, org_id: int | None = None,
                      limit: int | None = None, before: tuple[date, int] | None = None) -> list[MeetingSummary]:
    """The meetings of ``list_meetings`` (a page of ``limit`` with ``before``) with their attendance
    read in one query per 500 meetings, newest first. Only the organisations they name are read."""
    meetings = list_meetings(ctx, start, end, org_id, limit=limit, before=before)
    if not meetings:
        return []
    s = ctx.session
    att: dict[int, list[tuple[bool, str, str]]] = {}
    ids = [m.id for m in meetings]
    for k in range(0, len(ids), 500):
        q = (select(Attendance.meeting_id, Attendance.present, Member.name, Attendance.absence_reason)
             .join(Member, Member.id == Attendance.member_id).where(Attendance.meeting_id.in_(ids[k:k + 500]))
             .order_by(Attendance.id))
        for mid, present, name, reason in s.execute(q):
            att.setdefault(mid, []).append((present, name, reason or ""))
    org_ids = {m.org_id for m in meetings}
    orgs = {o.id: o for o in s.scalars(select(PartyOrg).where(PartyOrg.id.in_(org_ids)))}
    parent_ids = {o.parent_id for o in orgs.values() if o.parent_id is not None} - set(orgs)
    if parent_ids:
        orgs.update({o.id: o for o in s.scalars(select(PartyOrg).where(PartyOrg.id.in_(parent_ids)))})

    def label(oid):
        o = orgs.get(oid)
        if o is None:
            return ""
        parent = orgs.get(o.parent_id) if o.parent_id else None
        return f"{parent.name} / {o.name}" if parent else o.name

    out = []
    for mt in sorted(meetings, key=lambda m: (m.held_on, m.id), reverse=True):
        rows = att.get(mt.id, [])
        n_present = sum(1 for p, _, _ in rows if p)
        org = orgs.get(mt.org_id)
        # As quorum_met: a 支委会 with attendance counts only with more than half the committee there.
        quorum = not (mt.kind == "committee" and rows and org is not None and org.committee_size
                      and n_present * 2 <= org.committee_size)
        out.append(MeetingSummary(mt, label(mt.org_id), len(rows), n_present,
                                  [(n, r) for p, n, r in rows if not p], quorum))
    return out


def get_meeting(ctx: ServiceContext, meeting_id: int) -> tuple[Meeting, list[tuple[Attendance, Member]]]:
    """A meeting with its attendance (in scope)."""
    ctx.actor.require(VIEW)
    mt = get_in_scope(ctx, Meeting, meeting_id, "会议记录")
    _org_in_scope(ctx, _get_org(ctx, mt.org_id))
    return mt, attendance_of(ctx.session, mt.id)


def meeting_quorum(ctx: ServiceContext, meeting_id: int) -> bool:
    """``quorum_met`` of a recorded meeting in scope, for the recorder's confirmation (a 支委会
    without quorum does not count): its recorder may ask, as may whoever may view."""
    if not ctx.actor.can(MEETING):
        ctx.actor.require(VIEW)
    mt = get_in_scope(ctx, Meeting, meeting_id, "会议记录")
    _org_in_scope(ctx, _get_org(ctx, mt.org_id))
    return quorum_met(ctx.session, mt)


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
