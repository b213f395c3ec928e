"""三会一课 compliance: the frequency rules and, per branch and 党小组, meetings held against those required."""
from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.errors import ValidationError

from ..labels import MEETING_KINDS, PERIOD_LABELS
from ..models import Attendance, Meeting, MeetingRule, PartyOrg
from ..rules import RULES, VIEW
from .orgs import get_org, tree_sorted

# DOMAIN §3: 党员大会 quarterly, 支委会 monthly, 党小组会 monthly, 党课 quarterly (local practice),
# 主题党日 monthly, 组织生活会 and 民主评议党员 yearly.
DEFAULT_RULES: dict[str, tuple[str, int]] = {
    "assembly": ("quarter", 1), "committee": ("month", 1), "group": ("month", 1), "lecture": ("quarter", 1),
    "theme_day": ("month", 1), "life_meeting": ("year", 1), "appraisal": ("year", 1),
}


@dataclass(frozen=True)
class Rule:
    kind: str
    period: str
    min_count: int
    active: bool = True

    @property
    def label(self) -> str:
        return f"{MEETING_KINDS[self.kind]}{PERIOD_LABELS[self.period]}至少 {self.min_count} 次"


def meeting_rules(session: Session) -> dict[str, Rule]:
    rules = {k: Rule(k, p, n) for k, (p, n) in DEFAULT_RULES.items()}
    for r in session.scalars(select(MeetingRule)):
        rules[r.kind] = Rule(r.kind, r.period, r.min_count, r.active)
    return rules


def set_meeting_rule(ctx: ServiceContext, kind: str, period: str, min_count: int, active: bool = True) -> Rule:
    ctx.actor.require(RULES)
    if kind not in DEFAULT_RULES:
        raise ValidationError(f"“{MEETING_KINDS.get(kind, kind)}”没有频次规则。", "kind", kind)
    if period not in PERIOD_LABELS:
        raise ValidationError(f"周期“{period}”无效，应为每月、每季度或每年。", "period", period)
    if not isinstance(min_count, int) or not 1 <= min_count <= 31:
        raise ValidationError(f"次数应为 1 至 31，填写的是 {min_count}。", "min_count", min_count)
    row = ctx.session.scalar(select(MeetingRule).where(MeetingRule.kind == kind))
    if row is None:
        ctx.session.add(MeetingRule(kind=kind, period=period, min_count=min_count, active=active))
    else:
        row.period, row.min_count, row.active = period, min_count, active
    ctx.session.flush()
    return Rule(kind, period, min_count, active)


def _applies(kind: str, org: PartyOrg) -> bool:
    if kind == "group":
        return org.kind == "group"
    if kind == "committee":
        return org.kind == "branch" and org.has_committee
    return org.kind == "branch"


@dataclass(frozen=True)
class ComplianceRow:
    org_id: int
    org_name: str
    kind: str
    period_label: str
    required: int
    held: int
    status: str          # ok | missing | pending (the period has not ended yet)

    @property
    def kind_label(self) -> str:
        return MEETING_KINDS[self.kind]

    @property
    def status_label(self) -> str:
        return {"ok": "已完成", "missing": "缺", "pending": "进行中"}[self.status]


def _periods(year: int, quarter: int | None, month: int | None, period: str) -> list[tuple[str, date, date]]:
    """The periods of kind ``period`` inside the requested window (year / quarter / month)."""
    if month is not None:
        months = [month]
    elif quarter is not None:
        months = [3 * quarter - 2, 3 * quarter - 1, 3 * quarter]
    else:
        months = list(range(1, 13))

    def mend(y, m):
        return date(y, m, calendar.monthrange(y, m)[1])

    if period == "month":
        return [(f"{year}年{m}月", date(year, m, 1), mend(year, m)) for m in months]
    if period == "quarter":
        if month is not None:
            return []
        qs = sorted({(m - 1) // 3 + 1 for m in months})
        return [(f"{year}年第{q}季度", date(year, 3 * q - 2, 1), mend(year, 3 * q)) for q in qs]
    if month is not None or quarter is not None:
        return []
    return [(f"{year}年", date(year, 1, 1), date(year, 12, 31))]


def _meetings_held(ctx: ServiceContext, year: int, orgs: list[PartyOrg], start: date | None = None,
                   end: date | None = None) -> dict[tuple[int, str], list[date]]:
    """(organisation, kind) → sorted dates of the year's meetings that count, for ``orgs`` (the
    branches and 党小组 in scope). One statement, never one per meeting: the attendance of each
    支委会 is counted in the same query (a 支委会 with attendance recorded counts only with more than
    half the committee present, as ``quorum_met``)."""
    if not orgs:
        return {}
    size = {o.id: o.committee_size for o in orgs}

    def counted(*where):   # per 支委会 by an index lookup (robust whatever the planner's statistics say)
        return case((Meeting.kind == "committee",
                     select(func.count()).where(Attendance.meeting_id == Meeting.id, *where)
                     .correlate(Meeting).scalar_subquery()), else_=None)

    q = (select(Meeting.org_id, Meeting.kind, Meeting.held_on, counted(), counted(Attendance.present.is_(True)))
         .where(Meeting.org_id.in_(list(size)), Meeting.held_on >= (start or date(year, 1, 1)),
                Meeting.held_on <= (end or date(year, 12, 31))))
    held: dict[tuple[int, str], list[date]] = {}
    for org_id, kind, held_on, listed, present in ctx.session.execute(q):
        if org_id not in size:
            continue
        if kind == "committee" and listed and (seats := size[org_id]) and int(present or 0) * 2 <= seats:
            continue
        held.setdefault((org_id, kind), []).append(held_on)
    for dates in held.values():
        dates.sort()
    return held


def compliance(ctx: ServiceContext, year: int, quarter: int | None = None, month: int | None = None,
               org_id: int | None = None, on: date | None = None, only_missing: bool = False) -> list[ComplianceRow]:
    """Required meetings per branch (and 党小组) in the window: held vs required, per period. A
    period still running is "pending", not missing; an organisation counts only for periods it
    existed through; a 支委会 without quorum does not count."""
    ctx.actor.require(VIEW)
    if quarter is not None and not 1 <= quarter <= 4:
        raise ValidationError(f"季度应为 1 至 4，填写的是 {quarter}。", "quarter", quarter)
    if month is not None and not 1 <= month <= 12:
        raise ValidationError(f"月份应为 1 至 12，填写的是 {month}。", "month", month)
    on = on or ctx.today()
    rules = [r for r in meeting_rules(ctx.session).values() if r.active]
    # Plain columns (a street has 1,300 branches and groups: ORM objects were half the time).
    q = (select(PartyOrg.id, PartyOrg.parent_id, PartyOrg.name, PartyOrg.kind, PartyOrg.path, PartyOrg.sort_order,
                PartyOrg.has_committee, PartyOrg.committee_size, PartyOrg.founded_on, PartyOrg.dissolved_on)
         .where(scope_filter(PartyOrg.area_id, ctx.actor), PartyOrg.kind.in_(("branch", "group"))))
    orgs = tree_sorted(ctx.session.execute(q).all())
    if org_id is not None:
        root = get_org(ctx, org_id)
        orgs = [o for o in orgs if o.path.startswith(root.path)]
    # The periods of each rule, once; only their meetings are read (a quarter's view reads a quarter).
    periods = {r.kind: _periods(year, quarter, month, r.period) for r in rules}
    windows = [(p_start, p_end) for ps in periods.values() for _label, p_start, p_end in ps]
    if not windows:
        return []
    held = _meetings_held(ctx, year, orgs, min(w[0] for w in windows), max(w[1] for w in windows))
    # "1号楼党小组" exists under every branch: name each organisation with its parent.
    names = {o.id: o.name for o in orgs}
    missing = sorted({o.parent_id for o in orgs if o.parent_id is not None} - set(names))
    for k in range(0, len(missing), 500):
        names.update(ctx.session.execute(select(PartyOrg.id, PartyOrg.name)
                                         .where(PartyOrg.id.in_(missing[k:k + 500]))).all())
    labels = {o.id: f"{names[o.parent_id]} / {o.name}" if o.parent_id in names else o.name for o in orgs}

    def label(o) -> str:
        return labels.get(o.id, o.name)

    rows: list[ComplianceRow] = []
    for o in orgs:
        for r in rules:
            if not _applies(r.kind, o):
                continue
            for period, p_start, p_end in periods[r.kind]:
                if (o.founded_on and o.founded_on > p_start) or (o.dissolved_on and o.dissolved_on < p_end):
                    continue
                if p_start > on:
                    continue
                dates = held.get((o.id, r.kind), ())
                n = bisect_right(dates, p_end) - bisect_left(dates, p_start)
                status = "ok" if n >= r.min_count else ("pending" if p_end >= on else "missing")
                if only_missing and status != "missing":
                    continue
                rows.append(ComplianceRow(o.id, label(o), r.kind, period, r.min_count, n, status))
    return rows


def outstanding_meetings(ctx: ServiceContext, on: date | None = None) -> list[ComplianceRow]:
    """The quarter of ``on``: required meetings not yet held enough — periods already ended short
    ("missing": this quarter's earlier months) and periods still running ("pending": this month,
    this quarter). What the 组织生活落实 page shows for the quarter under 未落实."""
    on = on or ctx.today()
    return [r for r in compliance(ctx, on.year, quarter=(on.month - 1) // 3 + 1, on=on) if r.status != "ok"]


def outstanding_counts(ctx: ServiceContext, on: date | None = None) -> tuple[int, int]:
    """(rows, of them "missing") of ``outstanding_meetings``: what 我的待办 shows, without handing
    the street's thousands of rows across the service boundary (each would be checked for personal
    data on the way out)."""
    rows = outstanding_meetings(ctx, on)
    return len(rows), sum(1 for r in rows if r.status == "missing")


def rules_in_force(ctx: ServiceContext) -> dict[str, Rule]:
    """``meeting_rules`` for the rules dialog: each kind's rule, the default where none is saved."""
    ctx.actor.require(VIEW)
    return meeting_rules(ctx.session)


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
