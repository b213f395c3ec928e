"""Special and cared-for groups (特殊人群, 关爱人群) and their visits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter, subtree_filter
from shell.core.context import ServiceContext
from shell.core.locking import flush_or_conflict
from shell.core.models import Area
from shell.db.sql import spelled
from shell.errors import ValidationError

from ..models import Person, SpecialPerson, Visit
from .common import P_SPECIAL, P_VIEW, Listing, _get, _required, _text


def count_overdue_visits(ctx: ServiceContext, on: date | None = None) -> int:
    """How many active special-group members in scope are past their 下次走访日期 (the dashboard's
    figure; ``overdue_visits`` lists them)."""
    ctx.actor.require(P_VIEW)
    on = on or ctx.today()
    return ctx.session.scalar(select(func.count()).select_from(SpecialPerson).where(
        scope_filter(SpecialPerson.area_id, ctx.actor), SpecialPerson.end_date.is_(None),
        SpecialPerson.next_visit_date < on)) or 0


# =============================================================================================
# Special groups and visits
# =============================================================================================
@dataclass(frozen=True)
class FieldDef:
    key: str
    label: str
    kind: str = "text"            # text | date | choice | bool
    choices: tuple[str, ...] = ()
    required: bool = False


SPECIAL_GROUPS: dict[str, tuple[str, tuple[FieldDef, ...]]] = {
    "released": ("刑满释放人员", (
        FieldDef("release_date", "释放日期", "date", required=True),
        FieldDef("handover", "衔接情况", "choice", ("已衔接", "未衔接")),
        FieldDef("placement", "安置情况", "choice", ("已安置", "未安置")),
        FieldDef("risk", "危险性评估", "choice", ("低", "中", "高")),
        FieldDef("assistance", "帮教情况"),
    )),
    "correction": ("社区矫正人员", (
        FieldDef("correction_type", "矫正类别", "choice", ("宣告缓刑", "裁定假释", "判处管制", "暂予监外执行"), True),
        FieldDef("correction_start", "矫正起始日期", "date", required=True),
        FieldDef("correction_end", "矫正截止日期", "date", required=True),
        FieldDef("team", "矫正小组"),
    )),
    "mental": ("严重精神障碍患者", (
        FieldDef("guardian", "监护人", required=True),
        FieldDef("diagnosis", "诊断"),
        FieldDef("danger_level", "危险性评估等级", "choice", ("0级", "1级", "2级", "3级", "4级", "5级"), True),
        FieldDef("incident_history", "肇事肇祸史", "bool"),
    )),
    "drug": ("吸毒人员", (
        FieldDef("control", "管控情况", "choice", ("社区戒毒", "社区康复", "强制隔离戒毒", "其他")),
        FieldDef("helper_name", "帮扶人"),
    )),
    "aids": ("艾滋病危险人员", (
        FieldDef("infection_route", "感染途径"),
        FieldDef("treatment", "收治情况"),
    )),
    "youth": ("重点青少年", (
        FieldDef("youth_type", "人员类型", "choice", ("闲散青少年", "流浪乞讨未成年人", "服刑在教人员未成年子女",
                                                    "农村留守儿童", "不良行为青少年", "其他"), True),
        FieldDef("helper_name", "帮扶人"),
        FieldDef("help_means", "帮扶手段"),
    )),
}

# 关爱人群 (cared-for groups): the same record and visit machinery, their own fields.
CARE_GROUPS: dict[str, tuple[str, tuple[FieldDef, ...]]] = {
    "dibao": ("低保对象", (
        FieldDef("certificate_no", "低保证号"),
        FieldDef("monthly_allowance", "月保障金额（元）"),
        FieldDef("household_size", "保障人数"),
    )),
    "tekun": ("特困人员", (
        FieldDef("support_mode", "供养方式", "choice", ("分散供养", "集中供养"), True),
        FieldDef("self_care", "生活自理能力", "choice", ("完全自理", "部分自理", "完全不能自理")),
    )),
    "disabled": ("残疾人", (
        FieldDef("disability_type", "残疾类别", "choice", ("视力", "听力", "言语", "肢体", "智力", "精神", "多重"), True),
        FieldDef("disability_grade", "残疾等级", "choice", ("一级", "二级", "三级", "四级"), True),
        FieldDef("certificate_no", "残疾证号"),
    )),
    "elderly_alone": ("空巢/独居老人", (
        FieldDef("living", "居住状况", "choice", ("独居", "空巢（与配偶同住）"), True),
        FieldDef("emergency_contact", "紧急联系人"),
        FieldDef("emergency_phone", "紧急联系电话"),
    )),
    "left_behind": ("留守人员", (
        FieldDef("left_type", "留守类型", "choice", ("留守儿童", "留守老人", "留守妇女"), True),
        FieldDef("health", "健康状况", "choice", ("健康", "一般", "较差", "患病")),
        FieldDef("income", "个人年收入（元）"),
        FieldDef("needs", "困难和诉求"),
    )),
}
ALL_GROUPS: dict[str, tuple[str, tuple[FieldDef, ...]]] = {**SPECIAL_GROUPS, **CARE_GROUPS}


def check_details(group: str, details: dict) -> dict:
    label, defs = ALL_GROUPS[group]
    known = {d.key: d for d in defs}
    unknown = set(details) - set(known)
    if unknown:
        k = sorted(unknown)[0]
        raise ValidationError(f"{label}没有“{k}”这一项。", k, details[k])
    out: dict[str, Any] = {}
    for d in defs:
        v = details.get(d.key)
        if v in (None, ""):
            if d.required:
                raise ValidationError(f"请填写{label}的“{d.label}”。", d.key, v)
            continue
        if d.kind == "date":
            if isinstance(v, str):
                try:
                    v = date.fromisoformat(v)
                except ValueError:
                    raise ValidationError(f"“{d.label}”的日期“{v}”格式不对。", d.key, v) from None
            if not isinstance(v, date):
                raise ValidationError(f"“{d.label}”的日期“{v}”格式不对。", d.key, v)
            out[d.key] = v.isoformat()
        elif d.kind == "choice":
            if v not in d.choices:
                raise ValidationError(f"“{d.label}”的值“{v}”无效，应为{'、'.join(d.choices)}之一。", d.key, v)
            out[d.key] = v
        elif d.kind == "bool":
            out[d.key] = bool(v)
        else:
            out[d.key] = _text(v)
    if group == "correction" and out["correction_end"] < out["correction_start"]:
        raise ValidationError("矫正截止日期早于起始日期。", "correction_end", out["correction_end"])
    return out


def add_special(ctx: ServiceContext, person_id: int, group: str, details: dict | None = None,
                helper: str | None = None, start: date | None = None, visit_interval_days: int = 30) -> SpecialPerson:
    ctx.actor.require(P_SPECIAL)
    if group not in ALL_GROUPS:
        raise ValidationError(f"特殊人群或关爱人群类别“{group}”无效。", "group", group)
    person = _get(ctx, Person, person_id, "人员")
    if not 1 <= visit_interval_days <= 366:
        raise ValidationError(f"走访间隔“{visit_interval_days}”天无效。", "visit_interval_days", visit_interval_days)
    existing = ctx.session.scalar(select(SpecialPerson).where(SpecialPerson.person_id == person.id,
                                                              SpecialPerson.group == group,
                                                              SpecialPerson.end_date.is_(None)))
    if existing is not None:
        raise ValidationError(f"{person.name}已在{ALL_GROUPS[group][0]}名单中。", "group", group)
    start = start or ctx.today()
    sp = SpecialPerson(area_id=person.area_id, person_id=person.id, group=group,
                       details=check_details(group, details or {}), helper=_text(helper) or None, start_date=start,
                       visit_interval_days=visit_interval_days,
                       next_visit_date=start + timedelta(days=visit_interval_days), created_by=ctx.actor.user_id)
    ctx.session.add(sp)
    ctx.session.flush()
    return sp


def record_visit(ctx: ServiceContext, special_id: int, visit_date: date, situation: str,
                 next_visit_date: date | None = None, visitor_name: str | None = None) -> Visit:
    ctx.actor.require(P_SPECIAL)
    sp = _get(ctx, SpecialPerson, special_id, "特殊人群记录")
    if visit_date > ctx.today():
        raise ValidationError(f"走访日期 {visit_date} 晚于今天。", "visit_date", visit_date)
    nxt = next_visit_date or visit_date + timedelta(days=sp.visit_interval_days)
    if nxt <= visit_date:
        raise ValidationError(f"下次走访日期 {nxt} 应晚于本次走访日期。", "next_visit_date", nxt)
    v = Visit(area_id=sp.area_id, special_id=sp.id, visit_date=visit_date,
              visitor_name=_text(visitor_name) or ctx.actor.display_name, visitor_user_id=ctx.actor.user_id,
              situation=_required(situation, "situation", "走访情况"), next_visit_date=nxt,
              created_by=ctx.actor.user_id)
    ctx.session.add(v)
    sp.next_visit_date = nxt
    ctx.session.flush()
    return v


def overdue_visits(ctx: ServiceContext, on: date | None = None, area_id: int | None = None) -> list[SpecialPerson]:
    """Active special-group members whose 下次走访日期 has passed."""
    ctx.actor.require(P_VIEW)
    on = on or ctx.today()
    q = select(SpecialPerson).where(scope_filter(SpecialPerson.area_id, ctx.actor), SpecialPerson.end_date.is_(None),
                                    SpecialPerson.next_visit_date < on)
    if area_id is not None:
        q = q.where(subtree_filter(SpecialPerson.area_id, _get(ctx, Area, area_id, "辖区")))
    return list(ctx.session.scalars(q.order_by(SpecialPerson.next_visit_date, SpecialPerson.id)))


def specials_query(actor, group: str | None = None, text: str = "", overdue_on: date | None = None,
                   include_ended: bool = False, due_between: tuple[date, date] | None = None):
    """SELECT (SpecialPerson, person's name) in scope for the lazy list: by group (a key of ALL_GROUPS,
    or "special" / "care" for all of one kind), name or pinyin initials, 逾期未走访 on a day, and
    应走访 (next visit) between two days."""
    q = (select(SpecialPerson, Person.name).join(Person, Person.id == SpecialPerson.person_id)
         .where(scope_filter(SpecialPerson.area_id, actor)))
    if not include_ended:
        q = q.where(SpecialPerson.end_date.is_(None))
    if group == "special":
        q = q.where(SpecialPerson.group.in_(list(SPECIAL_GROUPS)))
    elif group == "care":
        q = q.where(SpecialPerson.group.in_(list(CARE_GROUPS)))
    elif group:
        q = q.where(SpecialPerson.group == group)
    if overdue_on is not None:
        q = q.where(SpecialPerson.next_visit_date < overdue_on)
    if due_between is not None:
        q = q.where(SpecialPerson.next_visit_date.between(*due_between))
    t = _text(text).replace(" ", "")
    if t:
        q = q.where(spelled(Person.name_initials, Person.name_pinyin, t) if t.isascii()
                    else Person.name.contains(t, autoescape=True))
    return q


def specials_listing(actor, group: str | None = None, text: str = "", overdue_on: date | None = None,
                     include_ended: bool = False, due_between: tuple[date, date] | None = None) -> Listing:
    """The special/cared-for group list: ``specials_query`` paged by id."""
    return Listing(specials_query(actor, group, text, overdue_on, include_ended, due_between), SpecialPerson.id)


def special_visits(ctx: ServiceContext, special_id: int) -> list[Visit]:
    ctx.actor.require(P_VIEW)
    _get(ctx, SpecialPerson, special_id, "特殊人群记录")
    return list(ctx.session.scalars(select(Visit).where(Visit.special_id == special_id)
                                    .order_by(Visit.visit_date.desc(), Visit.id.desc())))


def end_special(ctx: ServiceContext, special_id: int, on: date | None = None, reason: str = "") -> SpecialPerson:
    """Take a person off a group's list (解除矫正, 脱贫 …): the record and its visits are kept."""
    ctx.actor.require(P_SPECIAL)
    sp = _get(ctx, SpecialPerson, special_id, "特殊人群记录")
    on = on or ctx.today()
    if sp.end_date is not None:
        raise ValidationError(f"这条{group_label(sp.group)}记录已于 {sp.end_date} 结束。", "end_date", on)
    if on < sp.start_date:
        raise ValidationError(f"结束日期 {on} 早于列管日期 {sp.start_date}。", "end_date", on)
    sp.end_date = on
    if _text(reason):
        sp.details = {**(sp.details or {}), "end_reason": _text(reason)}
    sp.next_visit_date = None
    flush_or_conflict(ctx.session, sp, "特殊人群记录")
    return sp


def person_special_records(ctx: ServiceContext, person_id: int) -> list[SpecialPerson]:
    """A person's special/cared-for group records, current first."""
    ctx.actor.require(P_VIEW)
    _get(ctx, Person, person_id, "人员")
    q = select(SpecialPerson).where(SpecialPerson.person_id == person_id).order_by(
        SpecialPerson.end_date.is_not(None), SpecialPerson.start_date.desc(), SpecialPerson.id)
    return list(ctx.session.scalars(q))


def person_visits(ctx: ServiceContext, person_id: int) -> list[tuple[str, Visit]]:
    """(group label, visit) for every visit to the person, newest first."""
    ctx.actor.require(P_VIEW)
    _get(ctx, Person, person_id, "人员")
    q = (select(SpecialPerson.group, Visit).join(Visit, Visit.special_id == SpecialPerson.id)
         .where(SpecialPerson.person_id == person_id).order_by(Visit.visit_date.desc(), Visit.id.desc()))
    return [(ALL_GROUPS.get(g, (g,))[0], v) for g, v in ctx.session.execute(q)]


def group_label(group: str) -> str:
    return ALL_GROUPS.get(group, (group,))[0]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
