"""Drills (演练): planning, holding, evaluation, compliance."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import Area
from shell.core.scope import get_in_scope
from shell.errors import ValidationError

from ..models import (
    DRILL_CONTENTS,
    DRILL_FORMS,
    DRILL_PURPOSES,
    DRILL_STATUS,
    Drill,
    DrillScore,
    Plan,
)
from .common import _area, _choice, _positive_int, _text
from .plans import _plan, plan_steps
from .settings import setting

# ----------------------------------------------------------------------------- drills

def _drill(ctx: ServiceContext, drill_id: int) -> Drill:
    drill = get_in_scope(ctx, Drill, drill_id, "演练")
    return drill


def get_drill(ctx: ServiceContext, drill_id: int) -> Drill:
    ctx.actor.require("emergency.view")
    return _drill(ctx, drill_id)


def plan_drill(ctx: ServiceContext, area_id: int, title: str, form: str, content: str, purpose: str,
               planned_on: date, plan_id: int | None = None, place: str | None = None, units: str | None = None,
               participants: int | None = None, scenario: str | None = None, aim: str | None = None) -> Drill:
    ctx.actor.require("emergency.drill.manage")
    _area(ctx, area_id)
    if plan_id is not None:
        _plan(ctx, plan_id)
    if not isinstance(planned_on, date):
        raise ValidationError("请填写计划日期。", "planned_on", planned_on)
    drill = Drill(area_id=area_id, plan_id=plan_id, title=_text(title, "title", "演练名称", max_len=200),
                  form=_choice(form, DRILL_FORMS, "form", "演练形式"),
                  content=_choice(content, DRILL_CONTENTS, "content", "演练内容"),
                  purpose=_choice(purpose, DRILL_PURPOSES, "purpose", "演练目的类型"),
                  status="planned", planned_on=planned_on, place=_text(place, "place", "地点", False, 200),
                  units=_text(units, "units", "参演单位", False, 2000),
                  participants=None if participants is None else _positive_int(participants, "participants", "参演人数"),
                  scenario=_text(scenario, "scenario", "情景概要", False, 4000), aim=_text(aim, "aim", "演练目的", False, 2000),
                  created_by=ctx.actor.user_id)
    ctx.session.add(drill)
    ctx.session.flush()
    return drill


def record_drill_held(ctx: ServiceContext, drill_id: int, held_on: date, participants: int,
                      place: str | None = None, units: str | None = None, scenario: str | None = None,
                      expected_version: int | None = None) -> Drill:
    ctx.actor.require("emergency.drill.manage")
    drill = _drill(ctx, drill_id)
    check_version(ctx.session, drill, expected_version, "演练")
    if drill.status != "planned":
        raise ValidationError(f"演练“{drill.title}”当前状态为{DRILL_STATUS[drill.status]}，只有计划中的演练可以登记实施。",
                              "status", drill.status)
    if not isinstance(held_on, date) or held_on > ctx.today():
        raise ValidationError(f"实施日期“{held_on}”无效：不能晚于今天。", "held_on", held_on)
    drill.held_on, drill.status = held_on, "held"
    drill.participants = _positive_int(participants, "participants", "参演人数")
    if place is not None:
        drill.place = _text(place, "place", "地点", False, 200)
    if units is not None:
        drill.units = _text(units, "units", "参演单位", False, 2000)
    if scenario is not None:
        drill.scenario = _text(scenario, "scenario", "情景概要", False, 4000)
    if not drill.place:
        raise ValidationError("请填写演练地点。", "place")
    flush_or_conflict(ctx.session, drill, "演练")
    return drill


def evaluation_template(ctx: ServiceContext, drill_id: int) -> list[dict]:
    """The rows an evaluator fills in: one per step of the linked plan (empty when no plan)."""
    ctx.actor.require("emergency.view")
    drill = _drill(ctx, drill_id)
    if drill.plan_id is None:
        return []
    return [{"step_id": s.id, "expected": s.action, "observed": "", "score": None, "problem": ""}
            for s in plan_steps(ctx, drill.plan_id)]


def evaluate_drill(ctx: ServiceContext, drill_id: int, scores: Sequence[dict], evaluator: str,
                   problems: str | None = None, causes: str | None = None, lessons: str | None = None,
                   improvements: str | None = None, aim: str | None = None, evaluated_on: date | None = None,
                   expected_version: int | None = None) -> Drill:
    """Score a held drill step by step (0–10 each). With a linked plan every plan step must be scored.
    The total is scaled to 100."""
    ctx.actor.require("emergency.drill.manage")
    drill = _drill(ctx, drill_id)
    check_version(ctx.session, drill, expected_version, "演练")
    if drill.status != "held":
        raise ValidationError(f"演练“{drill.title}”当前状态为{DRILL_STATUS[drill.status]}，实施后才能评估。",
                              "status", drill.status)
    if not scores:
        raise ValidationError("请至少填写一个评估项目。", "scores")
    steps = {s.id: s for s in plan_steps(ctx, drill.plan_id)} if drill.plan_id else {}
    rows, seen = [], set()
    for i, s in enumerate(scores, start=1):
        step_id = s.get("step_id")
        if step_id is not None:
            if step_id not in steps:
                raise ValidationError(f"第 {i} 项对应的步骤不属于本演练关联的预案。", "scores", step_id)
            seen.add(step_id)
        expected = s.get("expected") or (steps[step_id].action if step_id else None)
        score = s.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ValidationError(f"第 {i} 项“{expected or ''}”的得分应为 0–10 的整数（填写的是“{score}”）。", "scores", score)
        rows.append(DrillScore(drill_id=drill.id, seq=i, step_id=step_id,
                               expected=_text(expected, "scores", f"第 {i} 项的预期行动", max_len=300),
                               observed=_text(s.get("observed"), "scores", "实际情况", False, 4000),
                               score=score, problem=_text(s.get("problem"), "scores", "存在问题", False, 4000)))
    missing = [st for sid, st in steps.items() if sid not in seen]
    if missing:
        raise ValidationError(f"预案还有 {len(missing)} 个步骤未评估：" + "、".join(f"第 {st.seq} 步" for st in missing) + "。",
                              "scores")
    ctx.session.add_all(rows)
    drill.score = round(sum(r.score for r in rows) * 10 / len(rows))
    drill.evaluator = _text(evaluator, "evaluator", "评估人", max_len=100)
    drill.evaluated_on = evaluated_on or ctx.today()
    for key, value, label in (("problems", problems, "发现的问题"), ("causes", causes, "原因分析"),
                              ("lessons", lessons, "经验教训"), ("improvements", improvements, "改进措施")):
        setattr(drill, key, _text(value, key, label, False, 4000))
    if aim is not None:
        drill.aim = _text(aim, "aim", "演练目的", False, 2000)
    drill.status = "evaluated"
    flush_or_conflict(ctx.session, drill, "演练")
    return drill


def drill_scores(ctx: ServiceContext, drill_id: int) -> list[DrillScore]:
    ctx.actor.require("emergency.view")
    _drill(ctx, drill_id)
    return list(ctx.session.scalars(select(DrillScore).where(DrillScore.drill_id == drill_id).order_by(DrillScore.seq)))


def cancel_drill(ctx: ServiceContext, drill_id: int) -> Drill:
    ctx.actor.require("emergency.drill.manage")
    drill = _drill(ctx, drill_id)
    if drill.status != "planned":
        raise ValidationError("只有计划中的演练可以取消。", "status", drill.status)
    drill.status = "cancelled"
    flush_or_conflict(ctx.session, drill, "演练")
    return drill


def list_drills(ctx: ServiceContext, year: int | None = None, status: str | None = None) -> list[Drill]:
    ctx.actor.require("emergency.view")
    q = select(Drill).where(scope_filter(Drill.area_id, ctx.actor))
    if year:
        day = func.coalesce(Drill.held_on, Drill.planned_on)
        q = q.where(day >= date(year, 1, 1), day <= date(year, 12, 31))
    if status:
        q = q.where(Drill.status == status)
    return list(ctx.session.scalars(q.order_by(func.coalesce(Drill.held_on, Drill.planned_on), Drill.id)))


@dataclass(frozen=True)
class AreaChoice:
    id: int
    name: str
    level: str


def unit_areas(ctx: ServiceContext) -> list[AreaChoice]:
    """The open street and communities in the actor's scope, in tree order: the units that keep
    plans, hold drills, run teams and shelters."""
    ctx.actor.require("emergency.view")
    from shell.core.areas import tree_sorted

    areas = ctx.session.scalars(select(Area).where(Area.level.in_(("street", "community")), Area.closed_on.is_(None),
                                                   scope_filter(Area.id, ctx.actor)))
    return [AreaChoice(a.id, a.name, a.level) for a in tree_sorted(areas)]


@dataclass(frozen=True)
class DrillRow:
    """One line of the 应急演练 page."""
    id: int
    version_id: int
    area_id: int
    area: str
    title: str
    form: str
    content: str
    purpose: str
    status: str
    planned_on: date
    held_on: date | None
    place: str | None
    participants: int | None
    score: int | None
    plan_id: int | None
    plan_title: str | None


def drill_rows(ctx: ServiceContext, year: int | None = None, status: str | None = None) -> list[DrillRow]:
    """Drills of a year (by held date, else planned date) with their unit and plan names. Read-only."""
    drills = list_drills(ctx, year, status)
    area_ids = {d.area_id for d in drills}
    plan_ids = {d.plan_id for d in drills if d.plan_id}
    areas = dict(ctx.session.execute(select(Area.id, Area.name).where(Area.id.in_(area_ids))).all()) if area_ids else {}
    plans: dict[int | None, str] = (dict(ctx.session.execute(select(Plan.id, Plan.title).where(Plan.id.in_(plan_ids))).all())
                                    if plan_ids else {})
    return [DrillRow(d.id, d.version_id, d.area_id, areas.get(d.area_id, ""), d.title, d.form, d.content, d.purpose,
                     d.status, d.planned_on, d.held_on, d.place, d.participants, d.score, d.plan_id,
                     plans.get(d.plan_id)) for d in drills]


@dataclass(frozen=True)
class DrillCompliance:
    area_id: int
    area: str
    level: str
    held: int          # comprehensive drills held (or evaluated) in the year
    planned: int       # comprehensive drills still planned in the year
    required: int

    @property
    def behind(self) -> bool:
        return self.held < self.required


def drill_compliance(ctx: ServiceContext, year: int) -> list[DrillCompliance]:
    """Each open street and community in scope: comprehensive drills held in ``year`` against the
    yearly requirement (setting ``emergency.drills_per_year``)."""
    ctx.actor.require("emergency.view")
    required = int(setting(ctx, "emergency.drills_per_year"))
    start, end = date(year, 1, 1), date(year, 12, 31)
    areas = ctx.session.scalars(select(Area).where(Area.level.in_(("street", "community")), Area.closed_on.is_(None),
                                                   scope_filter(Area.id, ctx.actor))).all()
    held = dict(ctx.session.execute(
        select(Drill.area_id, func.count()).where(Drill.content == "comprehensive",
                                                  Drill.status.in_(("held", "evaluated")),
                                                  Drill.held_on >= start, Drill.held_on <= end)
        .group_by(Drill.area_id)).all())
    planned = dict(ctx.session.execute(
        select(Drill.area_id, func.count()).where(Drill.content == "comprehensive", Drill.status == "planned",
                                                  Drill.planned_on >= start, Drill.planned_on <= end)
        .group_by(Drill.area_id)).all())
    from shell.core.areas import tree_sorted

    return [DrillCompliance(a.id, a.name, a.level, held.get(a.id, 0), planned.get(a.id, 0), required)
            for a in tree_sorted(areas)]


def drills_by_unit(ctx: ServiceContext, year: int) -> list[tuple[str, int, int]]:
    """(unit, comprehensive drills held, other drills held) in ``year`` for the street and each
    community in scope, in tree order — the dashboard's 本年演练 chart. Read-only."""
    ctx.actor.require("emergency.view")
    start, end = date(year, 1, 1), date(year, 12, 31)
    counts = {}
    for area_id, content, n in ctx.session.execute(
            select(Drill.area_id, Drill.content, func.count()).where(Drill.status.in_(("held", "evaluated")),
                                                                     Drill.held_on >= start, Drill.held_on <= end)
            .group_by(Drill.area_id, Drill.content)):
        counts[(area_id, content)] = n
    return [(a.name, counts.get((a.id, "comprehensive"), 0), counts.get((a.id, "single"), 0))
            for a in unit_areas(ctx)]


def drills_behind(ctx: ServiceContext, year: int) -> list[DrillCompliance]:
    return [c for c in drill_compliance(ctx, year) if c.behind]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
