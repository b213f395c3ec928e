"""The grid ledgers an inspector asks for beyond the first eight (issue 18 §3): 实有房屋台账, 单位（组织）
台账, 境外人员台账, 户籍人口台账 (by household, 户主 first), 特殊人群走访（帮教）记录, 安全隐患排查整治台账,
月度矛盾纠纷排查（零报告）表, 超期 / 督办事件台账, 事件统计月报, and the 出租房屋治安责任书 (a document).

Specs only (no Qt), on the same helpers as ``ledgers.py``: the actor's scope on every query, ID
numbers and phones masked unless the user asks for full numbers (the report engine then requires
core.personal.full_view and audits the file); a document reveals a number only to a holder of that
right (``personal.reveal``)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from reports.spec import as_of, cn_date, cn_period
from shell.contracts import ReportDefinition, ReportParameter
from shell.core import personal
from shell.core.models import Area
from shell.core.reporting import heading, unit_name
from shell.errors import NotFound, ValidationError

from . import services as svc
from .ledgers import (
    AREA,
    END,
    FULL,
    GROUP_PARAM,
    START,
    DisputeSummary,
    _area,
    _area_cols,
    _events_query,
    _filter,
    _fmt_dt,
    _masked,
    _period,
    _stream,
    _without_gc,
    on_time_text,
)
from .models import Event, EventCategory, EventStep, House, Household, Occupancy, Organisation, Person, SpecialPerson, Visit

CATEGORY = "网格化管理"
MONTH = ReportParameter("month", "月份（留空为本月）", kind="month", required=False)
HOUSE_CODE = ReportParameter("house", "出租房屋编号（该房东名下的出租房屋一并列入）", kind="text")
USE_PARAM = ReportParameter("use", "房屋用途", kind="choice", default="all",
                            choices=(("all", "全部"),) + tuple((u, u) for u in svc.HOUSE_USES))
# The event categories the hazard ledger reads: the default category 安全隐患 and any a street adds
# whose name says 安全 / 隐患 / 消防 (there is no separate hazard-remediation record in the model).
SAFETY_WORDS = ("安全", "隐患", "消防")


def _masked_note(params: dict) -> tuple[str, ...]:
    return ("身份证号码、联系电话已按规定脱敏。",) if _masked(params) else ()


def _as_of(ctx) -> str:
    return as_of(ctx.today())


def _grid_label(r) -> str:
    return f"{r.community or ''}{r.grid}"


def _month(ctx, params: dict) -> tuple[date, date, str]:
    first = params.get("month") or ctx.today().replace(day=1)
    first = first.replace(day=1)
    last = (first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1) - timedelta(days=1))
    return first, last, cn_period(first, last)


# --- 实有房屋台账 -------------------------------------------------------------------------------
def houses_ledger(ctx, params: dict):
    """Every house in scope with its use, owner and the number of people living in it now."""
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    use = params.get("use") or "all"
    today = ctx.today()
    living = (select(Occupancy.house_id, func.count().label("n")).where(
        Occupancy.start_date <= today, (Occupancy.end_date.is_(None)) | (Occupancy.end_date > today))
        .group_by(Occupancy.house_id).subquery())
    q = select(House.code, House.address, House.building_use, House.floor_area, House.house_use, House.owner_name,
               House.owner_id_number, House.owner_phone, House.hazard, func.coalesce(living.c.n, 0).label("living")) \
        .outerjoin(living, living.c.house_id == House.id)
    if use != "all":
        q = q.where(House.house_use == use)
    q = _filter(q, ctx, House.area_id, area)
    stats = ctx.session.execute(q.with_only_columns(House.house_use, func.count(), func.sum(House.floor_area),
                                                    func.sum(func.coalesce(living.c.n, 0)))
                                .group_by(House.house_use)).all()
    q = _area_cols(q, House.area_id).order_by(House.area_id, House.code)
    by_use = {u: n for u, n, _a, _l in stats}
    n_houses = sum(by_use.values())
    floor = round(sum(a or 0 for _u, _n, a, _l in stats), 2)
    people = sum(int(lived or 0) for _u, _n, _a, lived in stats)

    def rows():
        for r in _stream(ctx, q):
            yield (r.code, r.address, r.building_use, r.floor_area, r.house_use, r.owner_name, r.owner_id_number,
                   r.owner_phone, r.living, r.hazard, _grid_label(r))

    cols = [Column("房屋编号", 26), Column("地址", "*"), Column("建筑用途", 14, "center"),
            Column("建筑面积(㎡)", 16, "right", kind="number"), Column("房屋用途", 14, "center"), Column("房主", 16),
            Column("房主身份证号", 34, mask="id"), Column("房主电话", 22, "center", mask="phone"),
            Column("现住人数", 13, "right", kind="int"), Column("隐患类型", 18), Column("责任网格", 28)]
    uses = "，".join(f"{u} {by_use[u]} 处" for u in svc.HOUSE_USES if by_use.get(u))
    notes = (f"共登记房屋 {n_houses} 处" + (f"（{uses}）" if uses else "") + f"，现住 {people} 人。",) + _masked_note(params)
    title = "实有房屋台账" if use == "all" else f"实有房屋台账（{use}）"
    return LedgerSpec(title=title, **heading(ctx, _area(ctx, params)).fields, period=_as_of(ctx), columns=cols,
                      rows=_without_gc(rows()),
                      totals=("合计", f"{n_houses} 处", "", floor, "", "", "", "", people, "", ""),
                      notes=notes, orientation="landscape", mask_ids=_masked(params), font_size=8.5)


# --- 单位（组织）台账 -----------------------------------------------------------------------------
ORG_KIND_PARAM = ReportParameter("kind", "单位类别", kind="choice", default="all",
                                 choices=(("all", "全部"),) + tuple((k, k) for k in svc.ORG_KINDS))


def organisations_ledger(ctx, params: dict):
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    kind = params.get("kind") or "all"
    q = select(Organisation.name, Organisation.kind, Organisation.credit_code, Organisation.legal_rep,
               Organisation.security_head, Organisation.phone, Organisation.address, Organisation.hazard,
               Organisation.has_party_org, Organisation.party_members)
    if kind != "all":
        q = q.where(Organisation.kind == kind)
    q = _filter(q, ctx, Organisation.area_id, area)
    counts = dict(ctx.session.execute(q.with_only_columns(Organisation.kind, func.count())
                                      .group_by(Organisation.kind)).all())
    with_party, members = ctx.session.execute(q.with_only_columns(
        func.coalesce(func.sum(case((Organisation.has_party_org.is_(True), 1), else_=0)), 0),
        func.coalesce(func.sum(case((Organisation.has_party_org.is_(True), Organisation.party_members), else_=0)), 0))).one()
    q = _area_cols(q, Organisation.area_id).order_by(Organisation.kind, Organisation.area_id, Organisation.id)

    def rows():
        for r in _stream(ctx, q):
            yield (r.name, r.kind, r.credit_code, r.legal_rep, r.security_head, r.phone, r.address, r.hazard,
                   "有" if r.has_party_org else "无", r.party_members if r.has_party_org else None, _grid_label(r))

    n = sum(counts.values())
    cols = [Column("单位名称", "*"), Column("类别", 26), Column("统一社会信用代码", 36), Column("法定代表人", 16),
            Column("治保负责人", 16), Column("联系电话", 22, "center", mask="phone"), Column("地址", "*"),
            Column("安全隐患", 18), Column("党组织", 12, "center"), Column("党员数", 12, "right", kind="int"),
            Column("责任网格", 28)]
    kinds = "，".join(f"{k} {counts[k]} 个" for k in svc.ORG_KINDS if counts.get(k))
    notes = (f"共登记单位（组织）{n} 个" + (f"（{kinds}）" if kinds else "")
             + f"；建有党组织的 {with_party} 个，党员 {members} 名。",)
    title = "单位（组织）台账" if kind == "all" else f"单位（组织）台账（{kind}）"
    return LedgerSpec(title=title, **heading(ctx, _area(ctx, params)).fields, period=_as_of(ctx), columns=cols,
                      rows=_without_gc(rows()),
                      totals=("合计", f"{n} 个", "", "", "", "", "", "", f"有 {with_party} 个", members, ""),
                      notes=notes + ("联系电话已按规定脱敏。",), orientation="landscape", font_size=8.5)


# --- 境外人员台账 -------------------------------------------------------------------------------
def overseas_ledger(ctx, params: dict):
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    today = ctx.today()
    q = select(Person.name, Person.foreign_surname, Person.foreign_given_name, Person.sex, Person.birth_date,
               Person.nationality, Person.id_type, Person.id_number, Person.visit_purpose, Person.arrival_date,
               Person.expected_departure, Person.current_address, Person.phone) \
        .where(Person.status == "active", Person.kind == "overseas")
    q = _filter(q, ctx, Person.area_id, area)
    n, overstay = ctx.session.execute(q.with_only_columns(func.count(), func.coalesce(func.sum(case(
        (Person.expected_departure < today, 1), else_=0)), 0))).one()
    q = _area_cols(q, Person.area_id).order_by(Person.area_id, Person.id)

    def rows():
        for r in _stream(ctx, q):
            foreign = " ".join(x for x in (r.foreign_surname, r.foreign_given_name) if x)
            state = "逾期未离开" if r.expected_departure and r.expected_departure < today else ""
            yield (r.name, foreign, r.sex, r.birth_date, r.nationality, r.id_number, r.visit_purpose, r.arrival_date,
                   r.expected_departure, state, r.current_address, r.phone, _grid_label(r))

    cols = [Column("中文姓名", 18), Column("外文姓名", 30), Column("性别", 9, "center"),
            Column("出生日期", 19, "center", kind="date"), Column("国籍（地区）", 16, "center"),
            Column("证件号码", 32, mask="id"), Column("来华目的", 16), Column("抵达日期", 19, "center", kind="date"),
            Column("预计离开", 19, "center", kind="date"), Column("状态", 18, "center"), Column("现住址", "*"),
            Column("联系电话", 22, "center", mask="phone"), Column("责任网格", 26)]
    notes = (f"在册境外人员 {n} 人，其中超过预计离开日期仍在册的 {overstay} 人（请核实是否已离开并及时注销）。"
             "国籍（地区）按 GB/T 2659 数字代码登记。",) + _masked_note(params)
    # no one listed: no number to reveal, and the file is not recorded as one with full numbers
    return LedgerSpec(title="境外人员台账", **heading(ctx, _area(ctx, params)).fields, period=_as_of(ctx), columns=cols,
                      rows=_without_gc(rows()), notes=notes if n else notes[:1], orientation="landscape",
                      mask_ids=_masked(params) or not n,
                      font_size=8.5, empty_text="辖区内无在册境外人员",
                      totals=("合计", f"{n} 人", "", "", "", "", "", "", "", f"逾期 {overstay} 人", "", "", "") if n else None)


# --- 户籍人口台账（按户） -------------------------------------------------------------------------
def households_ledger(ctx, params: dict):
    """The registered population household by household: each household a group headed by its 户号,
    address and grid, the 户主 first, then the members in the order they were registered; registered
    residents not in any household follow last under their own heading."""
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    grid, parent = aliased(Area), aliased(Area)
    head_first = case((Person.relation_to_head == "户主", 0), else_=1)
    q = (select(Person.name, Person.sex, Person.id_number, Person.birth_date, Person.ethnicity, Person.relation_to_head,
                Person.residence_match, Person.current_address, Person.phone, Household.number.label("hh_number"),
                Household.address.label("hh_address"), parent.name.label("community"), grid.name.label("grid"))
         .outerjoin(Household, Household.id == Person.household_id)
         .join(grid, grid.id == Person.area_id).outerjoin(parent, parent.id == grid.parent_id)
         .where(Person.status == "active", Person.kind == "registered"))
    q = _filter(q, ctx, Person.area_id, area)
    people, households = ctx.session.execute(q.with_only_columns(
        func.count(), func.count(func.distinct(Person.household_id)))).one()
    unhoused = ctx.session.scalar(q.with_only_columns(func.count()).where(Person.household_id.is_(None))) or 0
    q = q.order_by(Person.household_id.is_(None), Household.area_id, Household.number, head_first, Person.id)

    def rows():
        for r in _stream(ctx, q):
            if r.hh_number:
                label = f"户号 {r.hh_number}　{r.hh_address or ''}　（{_grid_label(r)}）"
            else:
                label = "未编入户的户籍人口"
            yield (r.relation_to_head or "", r.name, r.sex, r.id_number, r.birth_date, r.ethnicity,
                   r.residence_match, r.current_address, r.phone, label)

    cols = [Column("与户主关系", 18, "center"), Column("姓名", 18), Column("性别", 9, "center"),
            Column("公民身份号码", 38, mask="id"), Column("出生日期", 20, "center", kind="date"),
            Column("民族", 12, "center"), Column("人户一致情况", 22, "center"), Column("现住址", "*"),
            Column("联系电话", 24, "center", mask="phone")]
    notes = (f"户籍人口 {households} 户 {people} 人" + (f"，其中未编入户的 {unhoused} 人" if unhoused else "")
             + "；每户以户主居首。",) + _masked_note(params)
    return LedgerSpec(title="户籍人口台账", **heading(ctx, _area(ctx, params)).fields, period=_as_of(ctx), columns=cols,
                      rows=_without_gc(rows()), group_by=lambda row: row[-1], notes=notes, orientation="landscape",
                      mask_ids=_masked(params), totals=("合计", f"{households} 户", f"{people} 人", "", "", "", "", "", ""))


# --- 特殊人群走访（帮教）记录 ---------------------------------------------------------------------
def visits_ledger(ctx, params: dict):
    """Every visit (走访 / 帮教) of the period to members of the chosen groups, grouped by group."""
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    start, end, period = _period(ctx, params)
    group = params.get("group") or "all"
    groups = (list(svc.SPECIAL_GROUPS) if group == "all" else list(svc.CARE_GROUPS) if group == "care" else [group])
    if any(g not in svc.ALL_GROUPS for g in groups):
        raise ValidationError(f"人群类别“{group}”无效。", "group", group)
    q = (select(SpecialPerson.group, Person.name, Person.sex, Person.id_number, Visit.visit_date, Visit.visitor_name,
                Visit.situation, Visit.next_visit_date, SpecialPerson.helper)
         .join(SpecialPerson, SpecialPerson.id == Visit.special_id).join(Person, Person.id == SpecialPerson.person_id)
         .where(Visit.visit_date >= start, Visit.visit_date <= end, SpecialPerson.group.in_(groups)))
    q = _filter(q, ctx, Visit.area_id, area)
    n, persons = ctx.session.execute(q.with_only_columns(func.count(), func.count(func.distinct(Visit.special_id)))).one()
    due = select(func.count()).select_from(SpecialPerson).where(
        SpecialPerson.end_date.is_(None), SpecialPerson.group.in_(groups), SpecialPerson.next_visit_date < ctx.today())
    overdue = ctx.session.scalar(_filter(due, ctx, SpecialPerson.area_id, area)) or 0
    order = case({g: k for k, g in enumerate(svc.ALL_GROUPS)}, value=SpecialPerson.group)
    q = _area_cols(q, Visit.area_id).order_by(order, Visit.area_id, Visit.visit_date, Visit.id)

    def rows():
        for r in _stream(ctx, q):
            yield (r.visit_date, r.name, r.sex, r.id_number, _grid_label(r), r.visitor_name, r.helper, r.situation,
                   r.next_visit_date, svc.ALL_GROUPS[r.group][0])

    cols = [Column("走访日期", 20, "center", kind="date"), Column("姓名", 16), Column("性别", 9, "center"),
            Column("公民身份号码", 36, mask="id"), Column("责任网格", 28), Column("走访人", 16), Column("帮扶（帮教）人", 22),
            Column("走访（帮教）情况", "*"), Column("下次走访", 20, "center", kind="date")]
    title = {"all": "特殊人群走访（帮教）记录", "care": "关爱人群走访记录"}.get(group) \
        or f"{svc.ALL_GROUPS[group][0]}走访（帮教）记录"
    notes = (f"本期走访（帮教）{n} 人次，涉及 {persons} 人；截至今日逾期未走访的 {overdue} 人（见特殊人群台账）。",) \
        + (("身份证号码已按规定脱敏。",) if _masked(params) else ())
    return LedgerSpec(title=title, **heading(ctx, _area(ctx, params)).fields, period=period, columns=cols,
                      rows=_without_gc(rows()),
                      group_by=lambda row: row[-1], subtotals=True, notes=notes, orientation="landscape",
                      mask_ids=_masked(params), count_unit="次", totals="auto" if n else None)


# --- 安全隐患排查整治台账 -------------------------------------------------------------------------
def _safety_category_ids(ctx) -> list[int]:
    return [c.id for c in ctx.session.scalars(select(EventCategory).order_by(EventCategory.sort_order))
            if any(w in c.name for w in SAFETY_WORDS)]


REMEDIATION = {"reported": "待核实", "rejected": "不予立案", "registered": "待整治", "dispatched": "整治中",
               "handled": "已整治待核查", "verified": "已核查待销号", "closed": "已整治销号"}


def hazards_ledger(ctx, params: dict):
    """Hazards found (排查) and remedied (整治), read from the events of safety categories: the model
    keeps the hazard *type* on houses and organisations but no remediation record, and the event
    loop (found → dispatched → handled → verified → closed, with its deadline) is that record."""
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    cat_ids = _safety_category_ids(ctx)
    q, period = _events_query(ctx, params, False, (Event.id, Event.number, Event.title, Event.address, Event.source,
                                                   Event.reported_at, Event.assignee, Event.deadline, Event.status,
                                                   Event.closed_at, Event.reject_reason))
    q = q.where(Event.category_id.in_(cat_ids or [-1]))
    events = list(_stream(ctx, q))
    today = ctx.today()
    counts = {"found": len(events), "done": 0, "open": 0, "overdue": 0, "rejected": 0, "on_time": 0}
    rows = []
    for e in events:
        state = REMEDIATION[e.status]
        late = ""
        if e.status == "closed":
            counts["done"] += 1
            late = on_time_text(e.status, e.closed_at, e.deadline)
            counts["on_time"] += late == "按期"
        elif e.status == "rejected":
            counts["rejected"] += 1
            state = f"不予立案（{e.reject_reason}）" if e.reject_reason else state
        else:
            counts["open"] += 1
            if e.deadline is not None and e.deadline < today:
                counts["overdue"] += 1
                late = "超期"
        rows.append((e.number, svc.local_date(e.reported_at), e.category, e.title, e.address, _grid_label(e), e.source,
                     e.assignee, e.deadline, state, e.closed_at.date() if e.closed_at else None, late))
    registered = counts["found"] - counts["rejected"] - sum(1 for e in events if e.status == "reported")
    rate = svc.Indicators.percent(counts["done"] / registered if registered else None)
    cols = [Column("编号", 30), Column("发现日期", 20, "center", kind="date"), Column("类别", 16),
            Column("隐患内容", "*"), Column("地点", "*"), Column("责任网格", 28), Column("发现途径", 18),
            Column("整治责任单位", 26), Column("整治时限", 20, "center", kind="date"), Column("整治情况", 26),
            Column("销号日期", 20, "center", kind="date"), Column("按期", 11, "center")]
    houses = _filter(select(func.count()).select_from(House).where(House.hazard.is_not(None), House.hazard != ""),
                     ctx, House.area_id, _area(ctx, params))
    orgs = _filter(select(func.count()).select_from(Organisation).where(Organisation.hazard.is_not(None),
                                                                        Organisation.hazard != ""),
                   ctx, Organisation.area_id, _area(ctx, params))
    names = "、".join(c.name for c in ctx.session.scalars(select(EventCategory).where(
        EventCategory.id.in_(cat_ids or [-1])))) or "（无安全类事件类别）"
    notes = (f"本期排查发现安全隐患 {counts['found']} 处，已整治销号 {counts['done']} 处（其中按期 {counts['on_time']} 处），"
             f"整治中 {counts['open']} 处（其中超期 {counts['overdue']} 处），不予立案 {counts['rejected']} 处；"
             f"整治率 {rate}（销号数 ÷ 立案数）。",
             f"本表依据事件闭环中“{names}”类事件生成（系统未另设隐患整治登记）；截至今日登记有隐患类型的房屋 "
             f"{ctx.session.scalar(houses) or 0} 处、单位 {ctx.session.scalar(orgs) or 0} 个，见实有房屋台账、单位（组织）台账。")
    return LedgerSpec(title="安全隐患排查整治台账", **heading(ctx, _area(ctx, params)).fields, period=period, columns=cols,
                      rows=rows,
                      notes=notes, orientation="landscape", font_size=8.5, count_unit="处", totals="auto" if rows else None,
                      empty_text="本期未排查出安全隐患")


# --- 月度矛盾纠纷排查（零报告）表 ------------------------------------------------------------------
def dispute_check_ledger(ctx, params: dict):
    """One line per grid in scope for the month: disputes found, mediated, settled, the success rate,
    and 零报告 for a grid that found none; the totals line is the street's (or community's) report."""
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    first, last, period = _month(ctx, params)
    q, _ = _events_query(ctx, {"area": params.get("area"), "start": first, "end": last}, True,
                         (Event.area_id, Event.status, Event.mediation_result))
    per_grid: dict[int, DisputeSummary] = {}
    for r in ctx.session.execute(q.order_by(None)):
        per_grid.setdefault(r.area_id, DisputeSummary()).add(r.status, r.mediation_result)
    area = _area(ctx, params)
    grids = [g for g in svc.grids_in_scope(ctx) if area is None or g.path.startswith(area.path)]
    parents = {a.id: a.name for a in ctx.session.scalars(select(Area).where(Area.id.in_(
        {g.parent_id for g in grids if g.parent_id})))}
    total = DisputeSummary()
    rows = []
    for g in sorted(grids, key=lambda g: (parents.get(g.parent_id, ""), g.path)):
        s = per_grid.get(g.id, DisputeSummary())
        for k in vars(total):
            setattr(total, k, getattr(total, k) + getattr(s, k))
        rows.append((parents.get(g.parent_id, ""), g.name, s.found, s.rejected, s.mediated, s.success, s.ongoing,
                     s.failed, s.success_rate if s.found else "—", "零报告" if not s.found else ""))
    zero = sum(1 for r in rows if not r[2])
    cols = [Column("社区", "*"), Column("网格", "*"), Column("排查数", 18, "right", kind="int"),
            Column("不予受理", 18, "right", kind="int"), Column("调处数", 18, "right", kind="int"),
            Column("化解成功数", 20, "right", kind="int"), Column("化解中", 16, "right", kind="int"),
            Column("化解失败", 18, "right", kind="int"), Column("调处成功率", 22, "right"), Column("零报告", 16, "center")]
    totals = ("合计", f"{len(rows)} 个网格", total.found, total.rejected, total.mediated, total.success, total.ongoing,
              total.failed, total.success_rate, f"{zero} 个")
    if total.found:
        head = (f"本月排查矛盾纠纷 {total.found} 件，调处数 {total.mediated} 件，化解成功数 {total.success} 件，"
                f"调处成功率 {total.success_rate}"
                + (f"（另有已办结未登记化解结果 {total.unrecorded} 件）" if total.unrecorded else "")
                + f"；{zero} 个网格本月未排查出矛盾纠纷，作零报告。")
    else:
        head = "经排查，本月辖区内未发现矛盾纠纷，特此零报告。"
    notes = (head, "调处数为已受理调处的纠纷（不含待受理、不予受理）；调处成功率 = 化解成功数 ÷ 调处数；"
                   "按纠纷上报日期计入当月，明细见矛盾纠纷排查化解台账。")
    title = "月度矛盾纠纷排查表" if total.found else "月度矛盾纠纷排查表（零报告）"
    return LedgerSpec(title=title, **heading(ctx, _area(ctx, params)).fields, period=period, columns=cols, rows=rows,
                      totals=totals,
                      notes=notes)


# --- 超期 / 督办事件台账 ---------------------------------------------------------------------------
def overdue_ledger(ctx, params: dict):
    """Events of the period that ran past their deadline (still open, or closed late) or were
    escalated (督办), with the days overdue (natural days past the deadline's last working day),
    the number of 督办 and the latest 督办 opinion."""
    from sqlalchemy import or_

    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    today = ctx.today()
    q, period = _events_query(ctx, params, False, (Event.id, Event.number, Event.title, Event.status, Event.assignee,
                                                   Event.registered_at, Event.deadline, Event.closed_at,
                                                   Event.escalations))
    q = q.where(Event.deadline.is_not(None), or_(Event.escalations > 0, Event.status.in_(svc.OPEN_STATUSES)
                                                 & (Event.deadline < today), Event.status == "closed"))
    candidates = list(_stream(ctx, q))
    events = [e for e in candidates if e.escalations or e.status != "closed"
              or on_time_text(e.status, e.closed_at, e.deadline) == "超期"]
    last_escalation: dict[int, tuple] = {}
    ids = [e.id for e in events if e.escalations]
    for k in range(0, len(ids), 500):
        for event_id, at, comment in ctx.session.execute(
                select(EventStep.event_id, EventStep.at, EventStep.comment)
                .where(EventStep.event_id.in_(ids[k:k + 500]), EventStep.action == "escalate")
                .order_by(EventStep.event_id, EventStep.at, EventStep.id)):
            last_escalation[event_id] = (at, comment)
    counts = {"open": 0, "late": 0, "escalated": 0, "times": 0}
    rows = []
    for e in events:
        closed = e.status == "closed"
        end = svc.local_date(e.closed_at) if closed else today
        days = (end - e.deadline).days if e.deadline and end > e.deadline else 0
        if days and closed:
            counts["late"] += 1
        elif days:
            counts["open"] += 1
        if e.escalations:
            counts["escalated"] += 1
            counts["times"] += e.escalations
        at, comment = last_escalation.get(e.id, (None, ""))
        rows.append((e.number, e.category, e.title, _grid_label(e), e.assignee, e.deadline,
                     "在办" if not closed else "已结案", _fmt_dt(e.closed_at), days or None, e.escalations or None,
                     _fmt_dt(at), comment))
    cols = [Column("编号", 30), Column("类别", 16), Column("事件名称", "*"), Column("网格", 28), Column("派遣对象", 26),
            Column("处置时限", 20, "center", kind="date"), Column("状态", 14, "center"),
            Column("结案时间", 20, "center", kind="datetime"), Column("超期天数", 14, "right", kind="int"),
            Column("督办次数", 14, "right", kind="int"), Column("最近督办", 20, "center", kind="datetime"),
            Column("督办意见", "*")]
    totals = ("合计", f"{len(rows)} 件", "", "", "", "", "", "", None, counts["times"] or None, "", "") if rows else None
    notes = (f"本期上报事件中超期在办 {counts['open']} 件、超期结案 {counts['late']} 件，被督办 {counts['escalated']} 件"
             f"（{counts['times']} 次）；超期天数按自然日计，自处置时限（最后一个工作日）次日起算，在办事件算至今日。",)
    return LedgerSpec(title="超期、督办事件台账", **heading(ctx, _area(ctx, params)).fields, period=period, columns=cols,
                      rows=rows,
                      totals=totals, notes=notes, orientation="landscape", font_size=8.5,
                      empty_text="本期无超期或督办事件")


# --- 事件统计月报 ----------------------------------------------------------------------------------
def monthly_stats_ledger(ctx, params: dict):
    """结案率 and 按期结案率 by community for one month, from ``services.indicator_breakdown`` — the
    numbers of the 事件统计 page, by registration (立案) date."""
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    first, last, period = _month(ctx, params)
    table, total = svc.indicator_breakdown(ctx, first, last, "community", area.id if area is not None else None)

    def hours(x: float | None):
        return None if x is None else round(x, 1)

    # every community in scope has its line, one without events too (0 件, rates —)
    found = dict(table)
    communities = ctx.session.scalars(_filter(select(Area).where(Area.level == "community"), ctx, Area.id, area)
                                      .order_by(Area.name))
    for c in communities:
        found.setdefault(c.name, svc.Indicators(0, 0, 0, None, None))
    rows = [(label, i.due, i.closed, i.percent(i.closure_rate), i.on_time, i.percent(i.on_time_rate),
             i.due - i.closed, hours(i.mean_hours)) for label, i in sorted(found.items())]
    cols = [Column("社区", "*"), Column("应结案数（立案）", 28, "right", kind="int"), Column("结案数", 20, "right", kind="int"),
            Column("结案率", 22, "right"), Column("按期结案数", 22, "right", kind="int"), Column("按期结案率", 22, "right"),
            Column("在办数", 18, "right", kind="int"), Column("平均办理时长（小时）", 30, "right", kind="number")]
    # the mean of the whole is no sum of the rows: it goes in the note, the totals cell stays empty
    totals = ("合计", total.due, total.closed, total.percent(total.closure_rate), total.on_time,
              total.percent(total.on_time_rate), total.due - total.closed, None)
    mean = "—" if total.mean_hours is None else f"{total.mean_hours:.1f} 小时"
    notes = (f"本月立案 {total.due} 件，结案 {total.closed} 件，结案率 {total.percent(total.closure_rate)}；按期结案 "
             f"{total.on_time} 件，按期结案率 {total.percent(total.on_time_rate)}；平均办理时长 {mean}。",
             "应结案数为本月立案的事件（不予立案的不计）；结案率 = 结案数 ÷ 应结案数；按期结案率 = 按期结案数 ÷ 应结案数；"
             "在处置时限（工作日）内结案为按期；平均办理时长自上报至结案。与“事件统计”页口径一致。",)
    return LedgerSpec(title="事件统计月报", **heading(ctx, _area(ctx, params)).fields, period=period, columns=cols, rows=rows,
                      totals=totals,
                      notes=notes, empty_text="本月无立案事件")


# --- 出租房屋治安责任书 ----------------------------------------------------------------------------
def pledge_document(ctx, params: dict):
    """One 出租房屋治安责任书 per landlord, ready to sign: the landlord's rental houses in scope (the
    chosen house and every other one with the same owner ID number, or the same owner name where
    none is recorded), the duties of a landlord, the grid's reporting time limit, and lines for the
    landlord's and the grid worker's signatures with the unit's seal and a blank date."""
    from reports import Column, DocumentSpec, ItemsTable

    ctx.actor.require(svc.P_VIEW)
    code = (params.get("house") or "").strip()
    if not code:
        raise ValidationError("请填写出租房屋编号。", "house", code)
    house = ctx.session.scalars(_filter(select(House).where(House.code == code), ctx, House.area_id, None)).first()
    if house is None:
        raise NotFound(f"没有编号为“{code}”的房屋，或不在您的管辖范围内。")
    if house.house_use != "出租":
        raise ValidationError(f"房屋 {code} 的用途是“{house.house_use}”，不是出租房屋，无需签订出租房屋治安责任书。",
                              "house", code)
    same = (House.owner_id_number == house.owner_id_number) if house.owner_id_number \
        else (House.owner_name == house.owner_name)
    houses = list(ctx.session.scalars(_filter(select(House).where(House.house_use == "出租", same), ctx,
                                              House.area_id, None).order_by(House.code)))
    today = ctx.today()
    tenants = dict(ctx.session.execute(
        select(Occupancy.house_id, func.count()).where(
            Occupancy.house_id.in_([h.id for h in houses]), Occupancy.is_tenant.is_(True),
            Occupancy.start_date <= today, (Occupancy.end_date.is_(None)) | (Occupancy.end_date > today))
        .group_by(Occupancy.house_id)).all())
    hours = svc.report_hours_limit(ctx.session)
    grid = ctx.session.get(Area, house.area_id)
    community = ctx.session.get(Area, grid.parent_id) if grid.parent_id else None
    unit = unit_name(ctx, community if community is not None and community.level != "street" else grid)
    signed = [h.rental_pledge_on for h in houses if h.rental_pledge_on]
    items = ItemsTable(
        columns=[Column("房屋编号", 54), Column("房屋地址", "*"), Column("面积(㎡)", 18, "right", kind="number"),
                 Column("现租住人数", 20, "right", kind="int")],
        rows=[(h.code, h.address, h.floor_area, tenants.get(h.id, 0)) for h in houses],
        title="出租房屋")
    body = [
        "为加强出租房屋治安管理，预防和减少违法犯罪，根据《租赁房屋治安管理规定》等规定，出租人（房东）承诺履行以下责任：",
        "一、不将房屋出租给无合法有效身份证件的人员；出租时查验承租人身份证件，登记其姓名、证件种类和号码、"
        f"联系方式、入住时间，并在承租人入住后 {hours} 小时内向所在社区（网格）报备；承租人迁出时及时告知。",
        "二、不得将房屋出租用于违法犯罪活动；发现承租人有违法犯罪活动或嫌疑的，及时向公安机关报告。",
        "三、落实消防和用电安全：不得违规改建、分隔群租，保持疏散通道畅通，禁止电动自行车在室内、楼道停放充电；"
        "发现安全隐患及时整改。",
        "四、配合社区、网格员和公安机关的走访、登记和检查，如实提供出租房屋及承租人情况。",
        "五、本责任书自签订之日起一年内有效，一式两份，出租人和社区（网格）各执一份；违反上述责任的，依法承担相应责任。",
    ]
    fields = [("出租人", house.owner_name or ""), ("身份证号", personal.reveal(ctx, house.owner_id_number or "", "id")),
              ("联系电话", personal.reveal(ctx, house.owner_phone or "", "phone")),
              ("所在网格", f"{community.name if community and community.level != 'street' else ''}{grid.name}"),
              ("出租房屋", f"{len(houses)} 处"),
              ("上次签订", cn_date(max(signed)) if signed else "首次签订")]
    return DocumentSpec(title="出租房屋治安责任书", unit_name=unit, fields=fields, body=body, items=items,
                        issuer=(unit,), signature=("出租人", "网格员"), date=None)


# --- 事件处理单 ---------------------------------------------------------------------------------
def event_sheet(ctx, params: dict):
    """事件处理单: one event's full record on paper — what was reported (where, when, by whom, how), the
    case's state, and every step of the timeline with its whole opinion — for the file and for
    signatures (处置人, 核查人, 负责人). The reporter's phone is masked unless the user may see it whole."""
    from reports import Column, DocumentSpec, ItemsTable
    from shell.clock import format_local

    ctx.actor.require(svc.P_VIEW)
    number = (params.get("event_number") or "").strip().upper()
    if not number:
        raise ValidationError("请填写事件编号（如 SJ20250603-0001）。", "event_number", number)
    event_id = ctx.session.scalar(_filter(select(Event.id).where(Event.number == number), ctx, Event.area_id, None))
    if event_id is None:
        raise NotFound(f"没有编号为“{number}”的事件，或不在您的管辖范围内。")
    ev = svc.get_event(ctx, event_id)
    cat = svc.get_category(ctx, ev.category_id)
    steps = svc.timeline(ctx, ev.id)
    grid = ctx.session.get(Area, ev.area_id)
    status = svc.STATUS_LABELS[ev.status] + (f"（督办 {ev.escalations} 次）" if ev.escalations else "")
    fields = [("事件编号", ev.number), ("事件名称", ev.title), ("事件类别", cat.name), ("来源", ev.source or "—"),
              ("所属网格", svc.area_name(ctx, ev.area_id)), ("发生地点", ev.address or "—"),
              ("发生日期", cn_date(ev.occurred_on) if ev.occurred_on else "—"), ("上报时间", format_local(ev.reported_at)),
              ("上报人", ev.reporter_name or "—"),
              ("联系电话", personal.reveal(ctx, ev.reporter_phone or "", "phone") or "—"),
              ("派遣对象", ev.assignee or "—"), ("处置时限", cn_date(ev.deadline) if ev.deadline else "—"),
              ("办理状态", status), ("结案时间", format_local(ev.closed_at) if ev.closed_at else "—")]
    body = [f"情况描述：{ev.description or '（无）'}"]
    if cat.is_dispute:
        body.append(f"矛盾纠纷：当事人 {ev.party_count or '—'} 人" + (f"（{ev.main_parties}）" if ev.main_parties else "")
                    + f"；化解方式 {ev.mediation_method or '—'}，化解情况 {ev.mediation_result or '—'}。")
    if ev.satisfaction:
        body.append(f"回访：{ev.satisfaction}。")
    items = ItemsTable(title="办理过程",
                       columns=[Column("时间", 40, kind="datetime"), Column("环节", 16), Column("经办人", 34),
                                Column("办理意见", "*")],
                       rows=[(format_local(st.at), svc.STEP_LABELS.get(st.action, st.action), st.actor_name or "",
                              st.comment or "") for st in steps])
    unit = unit_name(ctx, grid)
    return DocumentSpec(title="事件处理单", number=ev.number, unit_name=unit, fields=fields, body=body, items=items,
                        signature=("处置人", "核查人", "负责人"), date=ctx.today(), seal=False)


def definitions() -> list[ReportDefinition]:
    P = svc.P_VIEW
    return [
        ReportDefinition("grid.houses", "实有房屋台账", houses_ledger, (AREA, USE_PARAM, FULL), P, CATEGORY),
        ReportDefinition("grid.event_sheet", "事件处理单", event_sheet,
                         (ReportParameter("event_number", "事件编号"),), P, CATEGORY),
        ReportDefinition("grid.organisations", "单位（组织）台账", organisations_ledger, (AREA, ORG_KIND_PARAM), P,
                         CATEGORY),
        ReportDefinition("grid.overseas", "境外人员台账", overseas_ledger, (AREA, FULL), P, CATEGORY),
        ReportDefinition("grid.households", "户籍人口台账（按户）", households_ledger, (AREA, FULL), P, CATEGORY),
        ReportDefinition("grid.visits", "特殊人群走访（帮教）记录", visits_ledger, (AREA, GROUP_PARAM, START, END, FULL), P,
                         CATEGORY),
        ReportDefinition("grid.hazards", "安全隐患排查整治台账", hazards_ledger, (AREA, START, END), P, CATEGORY),
        ReportDefinition("grid.dispute_check", "月度矛盾纠纷排查（零报告）表", dispute_check_ledger, (AREA, MONTH), P,
                         CATEGORY),
        ReportDefinition("grid.overdue", "超期、督办事件台账", overdue_ledger, (AREA, START, END), P, CATEGORY),
        ReportDefinition("grid.monthly_stats", "事件统计月报", monthly_stats_ledger, (AREA, MONTH), P, CATEGORY),
        ReportDefinition("grid.rental_pledge", "出租房屋治安责任书", pledge_document, (HOUSE_CODE,), P, CATEGORY),
    ]
