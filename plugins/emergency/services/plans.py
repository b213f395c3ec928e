"""Emergency plans (预案) and their steps."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import Area
from shell.core.scope import get_in_scope
from shell.errors import ValidationError

from ..models import (
    PLAN_CATEGORIES,
    PLAN_LEVELS,
    DrillScore,
    Plan,
    PlanStep,
)
from .common import _area, _choice, _text
from .settings import setting

# ----------------------------------------------------------------------------- plans

def _plan(ctx: ServiceContext, plan_id: int) -> Plan:
    plan = get_in_scope(ctx, Plan, plan_id, "预案")
    return plan


def _check_file(ctx: ServiceContext, file_name: str | None, data: bytes | None):
    if data is None:
        return None, None, None
    if not isinstance(data, (bytes, bytearray)):
        raise ValidationError("附件内容应为文件字节。", "file_data")
    limit_kb = int(setting(ctx, "emergency.plan_file_max_kb"))
    if len(data) > limit_kb * 1024:
        raise ValidationError(f"附件“{file_name or ''}”大小 {len(data) / 1024 / 1024:.1f} MB，超过上限 "
                              f"{limit_kb / 1024:.1f} MB。请压缩后再上传，或在设置中调整上限。", "file_data", len(data))
    name = _text(file_name, "file_name", "附件文件名", True, 200)
    return name, len(data), bytes(data)


def create_plan(ctx: ServiceContext, area_id: int, title: str, category: str, level: str, version: str = "1.0",
                issued_on: date | None = None, review_on: date | None = None, steps: Iterable = (),
                file_name: str | None = None, file_data: bytes | None = None) -> Plan:
    """``steps``: action texts or (action, responsible) pairs, in order."""
    ctx.actor.require("emergency.plan.manage")
    _area(ctx, area_id)
    fname, fsize, fdata = _check_file(ctx, file_name, file_data)
    plan = Plan(area_id=area_id, title=_text(title, "title", "预案名称", max_len=200),
                category=_choice(category, PLAN_CATEGORIES, "category", "预案类别"),
                level=_choice(level, PLAN_LEVELS, "level", "预案层级"),
                version=_text(version, "version", "版本号", max_len=20), issued_on=issued_on, review_on=review_on,
                file_name=fname, file_size=fsize, file_data=fdata, created_by=ctx.actor.user_id)
    if issued_on and review_on and review_on < issued_on:
        raise ValidationError(f"评审日期 {review_on} 早于发布日期 {issued_on}。", "review_on", review_on)
    ctx.session.add(plan)
    ctx.session.flush()
    set_plan_steps(ctx, plan.id, steps)
    return plan


def set_plan_steps(ctx: ServiceContext, plan_id: int, steps: Iterable) -> list[PlanStep]:
    ctx.actor.require("emergency.plan.manage")
    plan = _plan(ctx, plan_id)
    used = ctx.session.scalar(select(func.count()).select_from(DrillScore).join(PlanStep, PlanStep.id == DrillScore.step_id)
                              .where(PlanStep.plan_id == plan.id))
    if used:
        raise ValidationError("已有演练按这些步骤评估过，不能改动步骤；请新建预案版本。", "steps")
    for old in ctx.session.scalars(select(PlanStep).where(PlanStep.plan_id == plan.id)):
        ctx.session.delete(old)
    ctx.session.flush()
    out = []
    for i, step in enumerate(steps, start=1):
        action, responsible = (step, None) if isinstance(step, str) else (step[0], step[1])
        out.append(PlanStep(plan_id=plan.id, seq=i, action=_text(action, "steps", f"第 {i} 步的应急行动", max_len=300),
                            responsible=_text(responsible, "steps", "责任人/单位", False)))
    ctx.session.add_all(out)
    ctx.session.flush()
    return out


def plan_steps(ctx: ServiceContext, plan_id: int) -> list[PlanStep]:
    ctx.actor.require("emergency.view")
    _plan(ctx, plan_id)
    return list(ctx.session.scalars(select(PlanStep).where(PlanStep.plan_id == plan_id).order_by(PlanStep.seq)))


def update_plan(ctx: ServiceContext, plan_id: int, expected_version: int | None = None, **fields) -> Plan:
    ctx.actor.require("emergency.plan.manage")
    plan = _plan(ctx, plan_id)
    check_version(ctx.session, plan, expected_version, "预案")
    if "file_data" in fields or "file_name" in fields:
        plan.file_name, plan.file_size, plan.file_data = _check_file(ctx, fields.pop("file_name", plan.file_name),
                                                                     fields.pop("file_data", None))
    for key, value in fields.items():
        if key == "title":
            plan.title = _text(value, key, "预案名称", max_len=200)
        elif key == "category":
            plan.category = _choice(value, PLAN_CATEGORIES, key, "预案类别")
        elif key == "level":
            plan.level = _choice(value, PLAN_LEVELS, key, "预案层级")
        elif key == "version":
            plan.version = _text(value, key, "版本号", max_len=20)
        elif key in ("issued_on", "review_on"):
            setattr(plan, key, value)
        elif key == "active":
            plan.active = bool(value)
        else:
            raise ValidationError(f"预案没有“{key}”这一项。", key, value)
    flush_or_conflict(ctx.session, plan, "预案")
    return plan


def plan_file(ctx: ServiceContext, plan_id: int) -> tuple[str | None, bytes | None]:
    ctx.actor.require("emergency.view")
    plan = _plan(ctx, plan_id)
    return plan.file_name, plan.file_data


def list_plans(ctx: ServiceContext, category: str | None = None, include_inactive: bool = False) -> list[Plan]:
    ctx.actor.require("emergency.view")
    q = select(Plan).where(scope_filter(Plan.area_id, ctx.actor))
    if category:
        q = q.where(Plan.category == category)
    if not include_inactive:
        q = q.where(Plan.active.is_(True))
    return list(ctx.session.scalars(q.order_by(Plan.category, Plan.area_id, Plan.title)))


def review_limit(ctx: ServiceContext, within_days: int | None = None) -> date:
    """The last review date that is due now: today plus the notice period (setting)."""
    days = int(setting(ctx, "emergency.plan_review_notice_days")) if within_days is None else within_days
    return ctx.today() + timedelta(days=days)


def plans_review_due(ctx: ServiceContext, within_days: int | None = None) -> list[Plan]:
    """Active plans whose review date is past or within the notice period (setting)."""
    ctx.actor.require("emergency.view")
    limit = review_limit(ctx, within_days)
    return list(ctx.session.scalars(
        select(Plan).where(Plan.active.is_(True), Plan.review_on.is_not(None), Plan.review_on <= limit,
                           scope_filter(Plan.area_id, ctx.actor)).order_by(Plan.review_on, Plan.id)))


@dataclass(frozen=True)
class PlanRow:
    """One line of the 应急预案 page."""
    id: int
    version_id: int
    area_id: int
    area: str
    title: str
    category: str
    level: str
    version: str
    issued_on: date | None
    review_on: date | None
    file_name: str | None
    file_size: int | None
    steps: int
    review_due: bool      # review date past or within the notice period


def plan_rows(ctx: ServiceContext, category: str | None = None) -> list[PlanRow]:
    """Active plans in scope with unit name, step count and whether review is due. Read-only."""
    plans = list_plans(ctx, category)
    if not plans:
        return []
    limit = review_limit(ctx)
    ids = [p.id for p in plans]
    steps = dict(ctx.session.execute(select(PlanStep.plan_id, func.count()).where(PlanStep.plan_id.in_(ids))
                                     .group_by(PlanStep.plan_id)).all())
    areas = dict(ctx.session.execute(select(Area.id, Area.name).where(Area.id.in_({p.area_id for p in plans}))).all())
    return [PlanRow(p.id, p.version_id, p.area_id, areas.get(p.area_id, ""), p.title, p.category, p.level, p.version,
                    p.issued_on, p.review_on, p.file_name, p.file_size, steps.get(p.id, 0),
                    p.review_on is not None and p.review_on <= limit) for p in plans]


def plan_steps_used(ctx: ServiceContext, plan_id: int) -> bool:
    """True once a drill was evaluated against the plan's steps (then they can no longer change)."""
    ctx.actor.require("emergency.view")
    _plan(ctx, plan_id)
    return bool(ctx.session.scalar(select(func.count()).select_from(DrillScore)
                                   .join(PlanStep, PlanStep.id == DrillScore.step_id).where(PlanStep.plan_id == plan_id)))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
