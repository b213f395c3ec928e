"""Statistics for the dashboard."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext

from ..labels import MEETING_KINDS, STAGES
from ..models import Member, PartyOrg
from ..rules import VIEW
from .common import age_on
from .compliance import compliance
from .development import probation_lists
from .members import lost_contact_members, mobile_members
from .orgs import org_tree
from .transfers import overdue_receipts

AGE_BANDS = ((0, 35, "35岁及以下"), (36, 45, "36–45岁"), (46, 55, "46–55岁"), (56, 65, "56–65岁"), (66, 200, "66岁及以上"))


@dataclass
class PartySummary:
    full: int
    probationary: int
    pipeline: dict[str, int]             # applicant / activist / candidate → count
    ages: list[tuple[str, int]]          # party members by age band
    education: list[tuple[str, int]]
    due: int
    overdue: int
    receipts_overdue: int
    lost: int
    mobile: int


def party_summary(ctx: ServiceContext, on: date | None = None) -> PartySummary:
    """Counts for the dashboard, in scope: members by stage, age and education, and the to-do lists."""
    ctx.actor.require(VIEW)
    on = on or ctx.today()
    q = (select(Member.stage, Member.birth_date, Member.education)
         .join(PartyOrg, Member.org_id == PartyOrg.id)
         .where(scope_filter(PartyOrg.area_id, ctx.actor), Member.status == "normal"))
    stages = {k: 0 for k in STAGES}
    ages = [0] * len(AGE_BANDS)
    edu: dict[str, int] = {}
    for stage, birth, education in ctx.session.execute(q):
        stages[stage] = stages.get(stage, 0) + 1
        if stage in ("probationary", "full"):
            age = age_on(birth, on)
            for i, (lo, hi, _label) in enumerate(AGE_BANDS):
                if lo <= age <= hi:
                    ages[i] += 1
                    break
            key = education or "未填"
            edu[key] = edu.get(key, 0) + 1
    due, overdue = probation_lists(ctx, on)
    return PartySummary(stages["full"], stages["probationary"],
                        {k: stages[k] for k in ("applicant", "activist", "candidate")},
                        [(label, n) for (_lo, _hi, label), n in zip(AGE_BANDS, ages, strict=True)],
                        sorted(edu.items(), key=lambda kv: -kv[1]), len(due), len(overdue),
                        len(overdue_receipts(ctx, on)), len(lost_contact_members(ctx, on)), len(mobile_members(ctx)))


def meeting_progress(ctx: ServiceContext, year: int, on: date | None = None) -> list[tuple[str, int, int]]:
    """(meeting kind, required so far, held so far) for the year: periods that have begun count, a
    period's meetings beyond the required number do not."""
    rows = compliance(ctx, year, on=on)
    out: dict[str, list[int]] = {}
    for r in rows:
        acc = out.setdefault(r.kind, [0, 0])
        acc[0] += r.required
        acc[1] += min(r.held, r.required)
    return [(MEETING_KINDS[k], req, held) for k, (req, held) in out.items()]


def members_by_org(ctx: ServiceContext, level: int = 2) -> list[tuple[str, int, int]]:
    """(organisation, party members, of whom 正式) for every open organisation of ``level`` in scope."""
    return [(n.org.name, n.members, n.full_members) for n in org_tree(ctx) if n.org.level == level]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
