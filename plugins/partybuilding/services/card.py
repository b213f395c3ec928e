"""The member card: everything the card shows, read in one service context."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from shell.core import personal as _personal
from shell.core.context import ServiceContext

from ..labels import MEETING_KINDS, STAGE_LABELS, STAGES
from ..models import Attendance, DuesPayment, Meeting, Member, PartyOrg
from .common import month_key
from .development import next_stage, probation_end
from .dues import Arrears, DuesRules, dues_status
from .members import get_member, memberships
from .orgs import org_label


@dataclass
class MemberCard:
    member: Member
    org_label: str
    probation_end: date | None
    next_stage: str | None
    can_extend: bool
    timeline: list[tuple[str, date | None]]              # (stage label, date) up to the current stage
    memberships: list[tuple[date, date | None, str, str]]  # start, end, organisation, reason
    meetings: list[tuple[date, str, str, str, bool, str]]  # date, kind, topic, organisation, present, reason
    payments: list[tuple[str, int, date]]                  # month, fen, paid on
    monthly_dues_fen: int | None
    arrears: Arrears | None


def member_card(ctx: ServiceContext, member_id: int, history: int = 20) -> MemberCard:
    """Everything the member card shows, read in one service context."""
    m = get_member(ctx, member_id)
    s = ctx.session
    org = s.get(PartyOrg, m.org_id) if m.org_id else None
    chain = [("applicant", m.applied_on), ("activist", m.activist_on), ("candidate", m.candidate_on),
             ("probationary", m.admitted_on), ("full", m.full_on)]
    timeline = [(STAGE_LABELS[k], d) for k, d in chain[:STAGES.index(m.stage) + 1]]
    periods = [(p.start_on, p.end_on, org_label(s, o), p.reason) for p, o in memberships(ctx, m.id)]
    q = (select(Meeting, Attendance).join(Attendance, Attendance.meeting_id == Meeting.id)
         .where(Attendance.member_id == m.id).order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(history))
    meetings = [(mt.held_on, MEETING_KINDS.get(mt.kind, mt.kind), mt.topic, org_label(s, s.get(PartyOrg, mt.org_id)),
                 a.present, a.absence_reason or "") for mt, a in s.execute(q)]
    pays = [(p.month, p.amount_fen, p.paid_on) for p in s.scalars(
        select(DuesPayment).where(DuesPayment.member_id == m.id).order_by(DuesPayment.month.desc()).limit(history))]
    dues = arrear = None
    if m.is_party_member:
        rules = DuesRules(s)
        dues = rules.monthly_fen(m)
        status = dues_status(ctx, month_key(ctx.today()), member_id=m.id, rules=rules)
        arrear = status[0][1] if status else None
    return MemberCard(m, org_label(s, org), probation_end(m), next_stage(m),
                      m.stage == "probationary" and not m.extension_months and m.status == "normal",
                      timeline, periods, meetings, pays, dues, arrear)


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
