"""Development: 入党申请人 → 积极分子 → 发展对象 → 预备党员 → 正式党员, the probation and its extension."""
from __future__ import annotations

from datetime import date, timedelta

from shell.core import personal as _personal
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.errors import ValidationError

from ..labels import STAGE_LABELS, STAGES, STATUS_LABELS
from ..models import Member
from ..rules import MEMBER_MANAGE, VIEW
from .common import _not_future, add_months, setting
from .members import _get_member, _member_in_scope, _scoped_members

_STAGE_DATE = {"activist": "activist_on", "candidate": "candidate_on", "probationary": "admitted_on", "full": "full_on"}


def probation_end(m: Member) -> date | None:
    """One year from the vote, plus the extension (6–12 months) when granted."""
    if m.admitted_on is None:
        return None
    return add_months(m.admitted_on, 12 + (m.extension_months or 0))


def advance_stage(ctx: ServiceContext, member_id: int, to_stage: str, on: date,
                  expected_version: int | None = None) -> Member:
    """Move a person one step along 入党申请人 → 积极分子 → 发展对象 → 预备党员 → 正式党员."""
    ctx.actor.require(MEMBER_MANAGE)
    m = _get_member(ctx, member_id)
    _member_in_scope(ctx, m)
    check_version(ctx.session, m, expected_version, "党员信息")
    if m.status != "normal" or m.org_id is None:
        raise ValidationError(f"{m.name}的党籍状态为“{STATUS_LABELS.get(m.status, m.status)}”，不能办理发展手续。", "stage")
    if to_stage not in _STAGE_DATE:
        raise ValidationError(f"不能转到“{STAGE_LABELS.get(to_stage, to_stage)}”。", "stage", to_stage)
    expected = STAGES[STAGES.index(m.stage) + 1] if m.stage != "full" else None
    if to_stage != expected:
        raise ValidationError(
            f"{m.name}目前是{m.stage_label}，" + (f"下一步只能是{STAGE_LABELS[expected]}" if expected else "已是正式党员")
            + f"，不能直接转为{STAGE_LABELS[to_stage]}。", "stage", to_stage)
    _not_future(ctx, on, "日期", _STAGE_DATE[to_stage])
    prev_date = m.applied_on if m.stage == "applicant" else getattr(m, _STAGE_DATE[m.stage])
    if prev_date and on < prev_date:
        raise ValidationError(f"日期 {on} 早于成为{m.stage_label}的日期 {prev_date}。", _STAGE_DATE[to_stage], on)
    if to_stage == "full":
        end = probation_end(m)
        assert end is not None  # a probationary member was admitted on a day
        if on < end:
            raise ValidationError(f"{m.name}的预备期到 {end} 才满，不能在 {on} 转正。", "full_on", on)
    setattr(m, _STAGE_DATE[to_stage], on)
    m.stage = to_stage
    flush_or_conflict(ctx.session, m, "党员信息")
    return m


def extend_probation(ctx: ServiceContext, member_id: int, months: int, on: date,
                     expected_version: int | None = None) -> Member:
    """延长预备期: once only, 6–12 months, decided before the member is made full."""
    ctx.actor.require(MEMBER_MANAGE)
    m = _get_member(ctx, member_id)
    _member_in_scope(ctx, m)
    check_version(ctx.session, m, expected_version, "党员信息")
    if m.stage != "probationary":
        raise ValidationError(f"{m.name}不是预备党员，不能延长预备期。", "extension_months")
    if m.extension_months:
        raise ValidationError(f"{m.name}的预备期已延长过一次（{m.extension_months} 个月），只能延长一次。", "extension_months")
    if not isinstance(months, int) or not 6 <= months <= 12:
        raise ValidationError(f"预备期可延长 6 至 12 个月，填写的是 {months}。", "extension_months", months)
    _not_future(ctx, on, "延长决定日期", "extended_on")
    assert m.admitted_on is not None  # a probationary member was admitted on a day
    if on < m.admitted_on:
        raise ValidationError(f"延长决定日期 {on} 早于接收为预备党员的日期 {m.admitted_on}。", "extended_on", on)
    m.extension_months, m.extended_on = months, on
    flush_or_conflict(ctx.session, m, "党员信息")
    return m


def probation_lists(ctx: ServiceContext, on: date | None = None, within_days: int | None = None
                    ) -> tuple[list[tuple[Member, date]], list[tuple[Member, date]]]:
    """(转正 due: probation ends within ``within_days`` from ``on``; overdue: ended before ``on`` and
    not yet 转正), each as (member, probation end) sorted by end date."""
    ctx.actor.require(VIEW)
    on = on or ctx.today()
    days = setting(ctx.session, "partybuilding.probation.due_days") if within_days is None else within_days
    due, overdue = [], []
    for m in ctx.session.scalars(_scoped_members(ctx).where(Member.stage == "probationary", Member.status == "normal")):
        end = probation_end(m)
        assert end is not None  # a probationary member was admitted on a day
        if end < on:
            overdue.append((m, end))
        elif end <= on + timedelta(days=days):
            due.append((m, end))
    key = lambda t: (t[1], t[0].id)  # noqa: E731
    return sorted(due, key=key), sorted(overdue, key=key)


def next_stage(m: Member) -> str | None:
    """The one stage a person may be advanced to now (None: full member, or not on the rolls)."""
    if m.status != "normal" or m.org_id is None or m.stage == "full":
        return None
    return STAGES[STAGES.index(m.stage) + 1]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
