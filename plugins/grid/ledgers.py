"""Grid ledgers (台账) for reports/: specs only, rows streamed from the database, ID numbers and phones
masked unless the user asks for full numbers (the report engine then requires
core.personal.full_view and audits the generation)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from reports.spec import as_of, cn_period
from shell.contracts import ReportDefinition, ReportParameter
from shell.core import settings
from shell.core.areas import scope_filter, subtree_filter
from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.core.reporting import heading
from shell.errors import NotFound, ValidationError

from . import services as svc
from .models import (
    PERSON_KINDS,
    Event,
    EventCategory,
    EventStep,
    GridStaff,
    House,
    Household,
    Occupancy,
    Person,
    SpecialPerson,
    Visit,
    VisitLog,
)
from .rules import HOUSEHOLDS_PER_WORKER

AREA = ReportParameter("area", "辖区（编号，留空为全部）", kind="area", required=False)
FULL = ReportParameter("full_ids", "身份证号", kind="choice", default="no",
                       choices=(("no", "脱敏（流转用）"), ("yes", "完整（需相应权限，留痕）")))
START = ReportParameter("start", "起始日期", kind="date", required=False)
END = ReportParameter("end", "截止日期", kind="date", required=False)


def _area(ctx: ServiceContext, params: dict) -> Area | None:
    area_id = params.get("area")
    if area_id in (None, ""):
        return None
    area = ctx.session.get(Area, int(area_id))
    if area is None:
        raise NotFound(f"辖区 {area_id} 不存在。")
    ctx.actor.require_scope(area)
    return area


def _period(ctx: ServiceContext, params: dict) -> tuple[date, date, str]:
    today = ctx.today()
    start = params.get("start") or today.replace(month=1, day=1)
    end = params.get("end") or today
    if end < start:
        raise ValidationError(f"截止日期 {end} 早于起始日期 {start}。", "end", end)
    return start, end, cn_period(start, end)


def _masked(params: dict) -> bool:
    return params.get("full_ids", "no") != "yes"


def _area_cols(q, area_column):
    grid = aliased(Area)
    parent = aliased(Area)
    return (q.add_columns(parent.name.label("community"), grid.name.label("grid"))
            .join(grid, grid.id == area_column).outerjoin(parent, parent.id == grid.parent_id))


def _filter(q, ctx, column, area):
    q = q.where(scope_filter(column, ctx.actor))
    if area is not None:
        q = q.where(subtree_filter(column, area))
    return q


def _stream(ctx: ServiceContext, q) -> Iterator[Any]:
    yield from ctx.session.execute(q.execution_options(yield_per=2000))


def _without_gc(rows: Iterator[Any]) -> Iterator[Any]:
    """The rows with the collector paused while the report is generated (on the thread pool): the
    rows and the renderer's objects triggered full collections of the desktop's whole heap, which hold
    the GIL — the window froze ~230 ms while a three-month events ledger was drawn."""
    from shell.gcpause import paused_gc

    with paused_gc():
        yield from rows


def _fmt_dt(value: datetime | None) -> str:
    from shell.clock import format_local

    return format_local(value) if value else ""


# --- 实有人口登记台账 ---------------------------------------------------------------------------
def persons_ledger(ctx: ServiceContext, params: dict):
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    q = select(Person.name, Person.sex, Person.id_number, Person.birth_date, Person.ethnicity, Person.kind,
               Person.current_address, Person.phone).where(Person.status == "active")
    q = _area_cols(_filter(q, ctx, Person.area_id, area), Person.area_id).order_by(Person.area_id, Person.id)

    def rows():
        for r in _stream(ctx, q):
            yield (r.name, r.sex, r.id_number, r.birth_date, r.ethnicity, PERSON_KINDS.get(r.kind, r.kind),
                   r.current_address, r.phone, f"{r.community or ''}{r.grid}")

    cols = [Column("姓名", 18), Column("性别", 9, "center"), Column("公民身份号码", 38, mask="id"),
            Column("出生日期", 22, "center", kind="date"), Column("民族", 12, "center"), Column("人口类别", 18, "center"),
            Column("现住址", "*"), Column("联系电话", 26, "center", mask="phone"), Column("责任网格", 32)]
    return LedgerSpec(title="实有人口登记台账", **heading(ctx, area).fields, period=as_of(ctx.today()),
                      columns=cols, rows=_without_gc(rows()), orientation="landscape", mask_ids=_masked(params),
                      notes=("身份证号码、联系电话已按规定脱敏。",) if _masked(params) else ())


# --- 流动人口台账 -------------------------------------------------------------------------------
def floating_ledger(ctx: ServiceContext, params: dict):
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    today = ctx.today()
    q = select(Person.name, Person.sex, Person.id_number, Person.registered_place, Person.current_address,
               Person.permit_type, Person.permit_start, Person.permit_end, Person.inflow_reason, Person.phone,
               Person.key_attention).where(Person.status == "active", Person.kind == "floating")
    q = _area_cols(_filter(q, ctx, Person.area_id, area), Person.area_id).order_by(Person.area_id, Person.id)

    def permit(r) -> str:
        if not r.permit_type:
            return "未办证"
        until = f"至{r.permit_end}" if r.permit_end else ""
        late = "（已过期）" if r.permit_end and r.permit_end < today else ""
        return f"{r.permit_type}{until}{late}"

    def rows():
        for r in _stream(ctx, q):
            yield (r.name, r.sex, r.id_number, r.registered_place, r.current_address, permit(r), r.inflow_reason,
                   r.phone, "是" if r.key_attention else "", f"{r.community or ''}{r.grid}")

    cols = [Column("姓名", 18), Column("性别", 9, "center"), Column("公民身份号码", 38, mask="id"),
            Column("户籍地", 24), Column("现住址", "*"), Column("办证情况", 46), Column("流入原因", 18),
            Column("联系电话", 26, "center", mask="phone"), Column("重点关注", 18, "center"), Column("责任网格", 36)]
    return LedgerSpec(title="流动人口台账", **heading(ctx, area).fields, period=as_of(today), columns=cols,
                      rows=_without_gc(rows()), orientation="landscape", mask_ids=_masked(params),
                      notes=("身份证号码、联系电话已按规定脱敏。",) if _masked(params) else ())


# --- 网格员走访日志（民情日志） ---------------------------------------------------------------------
def visit_logs_ledger(ctx: ServiceContext, params: dict):
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    start, end, period = _period(ctx, params)
    q = (select(VisitLog.log_date, VisitLog.worker_name, VisitLog.content, VisitLog.finding, Household.number,
                Person.name.label("person"), Event.number.label("event"))
         .outerjoin(Household, Household.id == VisitLog.household_id)
         .outerjoin(Person, Person.id == VisitLog.person_id).outerjoin(Event, Event.id == VisitLog.event_id)
         .where(VisitLog.log_date >= start, VisitLog.log_date <= end))
    q = _area_cols(_filter(q, ctx, VisitLog.area_id, area), VisitLog.area_id) \
        .order_by(VisitLog.area_id, VisitLog.log_date, VisitLog.id)

    def rows():
        for r in _stream(ctx, q):
            visited = "、".join(x for x in ((f"户号 {r.number}" if r.number else ""), r.person or "") if x)
            # the grid goes last, beyond the columns: it heads each group instead of filling a column
            yield (r.log_date, r.worker_name, visited, r.content, r.finding,
                   r.event or ("" if not r.finding else "未转办"), f"{r.community or ''}{r.grid}")

    cols = [Column("日期", 20, "center", kind="date"), Column("网格员", 18), Column("走访对象", 44), Column("走访内容", "*"),
            Column("发现问题", "*"), Column("转办事件", 32)]
    return LedgerSpec(title="网格员走访日志", **heading(ctx, area).fields, period=period, columns=cols, rows=_without_gc(rows()),
                      orientation="landscape", group_by=lambda row: row[-1], subtotals=True)


# --- 网格基础信息表 -----------------------------------------------------------------------------
def grid_info_ledger(ctx: ServiceContext, params: dict):
    from sqlalchemy import func

    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    ratios = svc.grid_ratios(ctx, area.id if area is not None else None)
    people = dict(ctx.session.execute(select(Person.area_id, func.count()).where(Person.status == "active")
                                      .group_by(Person.area_id)).all())
    floating = dict(ctx.session.execute(select(Person.area_id, func.count())
                                        .where(Person.status == "active", Person.kind == "floating")
                                        .group_by(Person.area_id)).all())
    heads = dict(ctx.session.execute(select(GridStaff.area_id, GridStaff.name)
                                     .where(GridStaff.role == "head", GridStaff.end_date.is_(None))).all())
    rows = []
    for r in ratios:
        per = "—" if r.per_worker is None else f"{r.per_worker:.0f}"
        state = "达标" if not r.breaks_ratio else f"不达标（缺 {r.workers_needed - r.workers} 人）"
        rows.append((r.grid_name, r.households, people.get(r.grid_id, 0), floating.get(r.grid_id, 0),
                     heads.get(r.grid_id, ""), r.workers, per, state))
    totals = ("合计", sum(x[1] for x in rows), sum(x[2] for x in rows), sum(x[3] for x in rows), "",
              sum(x[5] for x in rows), "", f"不达标 {sum(1 for r in ratios if r.breaks_ratio)} 个")
    norm = ratios[0].norm if ratios else int(settings.get(ctx.session, HOUSEHOLDS_PER_WORKER))
    cols = [Column("网格", "*"), Column("户数", 14, "right", kind="int"), Column("实有人口", 18, "right", kind="int"),
            Column("其中流动人口", 24, "right", kind="int"), Column("网格长", 18), Column("网格员", 14, "right", kind="int"),
            Column("每名网格员户数", 26, "right", kind="number"), Column("配比", 30, "center")]
    return LedgerSpec(title="网格基础信息表", **heading(ctx, area).fields, period=as_of(ctx.today()),
                      columns=cols, rows=rows, totals=totals,
                      notes=(f"配比标准：每名网格员服务不超过 {norm} 户（设置项“每名网格员服务户数上限”）。",))


# --- 出租房屋台账 -------------------------------------------------------------------------------
def rentals_ledger(ctx: ServiceContext, params: dict):
    """One row per current tenant of each rental house (a house without tenants: one row), with the
    move-in and report times and whether the report was late; the totals count houses, tenants and
    late reports from the same joins as the rows."""
    from sqlalchemy import and_, case, func

    from reports import Column, LedgerSpec
    from shell.clock import format_local

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    today, now = ctx.today(), ctx.now()
    hours = svc.report_hours_limit(ctx.session)
    late = svc.late_flag(ctx)
    base = (select(House.id).where(House.house_use == "出租")
            .outerjoin_from(House, Occupancy, and_(Occupancy.house_id == House.id, *svc.tenant_conditions(ctx)))
            .outerjoin_from(Occupancy, Person, Person.id == Occupancy.person_id))
    base = _filter(base, ctx, House.area_id, area)
    q = base.add_columns(House.code, House.address, House.floor_area, House.owner_name, House.owner_id_number,
                         House.owner_phone, House.hazard, House.rental_pledge_on, Occupancy.id.label("occupancy_id"),
                         Person.name.label("tenant"), Occupancy.moved_in_at, Occupancy.reported_at, late)
    grid, parent = aliased(Area), aliased(Area)
    q = (q.add_columns(parent.name.label("community"), grid.name.label("grid"))
         .join_from(House, grid, grid.id == House.area_id).outerjoin_from(grid, parent, parent.id == grid.parent_id)
         .order_by(House.area_id, House.id, Occupancy.moved_in_at, Occupancy.id))
    unreported_flag = case((and_(Occupancy.id.is_not(None), Occupancy.reported_at.is_(None), late.element == 1), 1),
                           else_=0)
    houses, tenants, late_n, unreported = ctx.session.execute(base.with_only_columns(
        func.count(func.distinct(House.id)), func.count(Occupancy.id), func.coalesce(func.sum(late.element), 0),
        func.coalesce(func.sum(unreported_flag), 0))).one()

    def status(r) -> str:
        if r.occupancy_id is None:
            return ""
        row = svc.TenantRow(r.occupancy_id, 0, r.id, r.code, r.address, 0, r.tenant, r.moved_in_at, r.reported_at,
                            None, 0, bool(r.late))
        return row.late_text(hours, now)

    def rows():
        for r in _stream(ctx, q):
            yield (r.code, r.address, r.floor_area, r.owner_name, r.owner_id_number, r.owner_phone, r.tenant,
                   format_local(r.moved_in_at), format_local(r.reported_at) or ("未报备" if r.occupancy_id else ""),
                   status(r), r.hazard, r.rental_pledge_on, f"{r.community or ''}{r.grid}")

    # the times wrap to date / time on two lines, so the address keeps about 50 mm of the page
    cols = [Column("房屋编号", 24), Column("地址", "*"), Column("面积(㎡)", 11, "right", kind="number"), Column("房主", 13),
            Column("房主身份证号", 33, mask="id"), Column("房主电话", 21, "center", mask="phone"),
            Column("租住人员", 14), Column("入住时间", 18, "center", kind="datetime"),
            Column("报备时间", 18, "center", kind="datetime"),
            Column("是否逾期", 26), Column("隐患", 14), Column("责任书签订", 17, "center", kind="date"), Column("责任网格", 22)]
    totals = ("合计", f"出租房屋 {houses} 处", "", "", "", "", f"{tenants} 人", "", "", f"逾期 {late_n} 人",
              "", "", "")
    notes = (f"报备时限：租客入住后 {hours} 小时内由房东报备（设置项“出租房屋租客报备时限（小时）”）。"
             f"逾期报备 {late_n} 人，其中至今未报备 {unreported} 人；统计至 {format_local(now)}。",)
    return LedgerSpec(title="出租房屋台账", **heading(ctx, area).fields, period=as_of(today), columns=cols,
                      rows=_without_gc(rows()), totals=totals, notes=notes, orientation="landscape",
                      mask_ids=_masked(params), font_size=8)


# --- 特殊人群台账 -------------------------------------------------------------------------------
GROUP_PARAM = ReportParameter("group", "人群类别", kind="choice", default="all",
                              choices=(("all", "全部特殊人群"), ("care", "全部关爱人群"))
                              + tuple((k, v[0]) for k, v in svc.ALL_GROUPS.items()))


def special_ledger(ctx: ServiceContext, params: dict):
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    area = _area(ctx, params)
    group = params.get("group") or "all"
    q = select(SpecialPerson.id, SpecialPerson.group, SpecialPerson.details, SpecialPerson.helper,
               SpecialPerson.start_date, SpecialPerson.next_visit_date, Person.name, Person.sex, Person.id_number,
               Person.current_address).join(Person, Person.id == SpecialPerson.person_id) \
        .where(SpecialPerson.end_date.is_(None))
    if group == "all":
        q = q.where(SpecialPerson.group.in_(list(svc.SPECIAL_GROUPS)))
    elif group == "care":
        q = q.where(SpecialPerson.group.in_(list(svc.CARE_GROUPS)))
    else:
        q = q.where(SpecialPerson.group == group)
    q = _area_cols(_filter(q, ctx, SpecialPerson.area_id, area), SpecialPerson.area_id) \
        .order_by(SpecialPerson.group, SpecialPerson.area_id, SpecialPerson.id)
    today = ctx.today()

    def detail_text(g: str, details: dict) -> str:
        defs = svc.ALL_GROUPS[g][1]
        parts = []
        for d in defs:
            v = (details or {}).get(d.key)
            if v in (None, ""):
                continue
            parts.append(f"{d.label}：{'是' if v is True else '否' if v is False else v}")
        return "；".join(parts)

    def last_visit(special_id: int):
        return ctx.session.scalar(select(Visit.visit_date).where(Visit.special_id == special_id)
                                  .order_by(Visit.visit_date.desc()).limit(1))

    def rows():
        for r in list(_stream(ctx, q)):
            overdue = "逾期" if r.next_visit_date and r.next_visit_date < today else ""
            yield (svc.ALL_GROUPS[r.group][0], r.name, r.sex, r.id_number, r.current_address,
                   detail_text(r.group, r.details), r.helper, last_visit(r.id), r.next_visit_date, overdue,
                   f"{r.community or ''}{r.grid}")

    title = {"all": "特殊人群台账", "care": "关爱人群台账"}.get(group) or f"{svc.ALL_GROUPS[group][0]}台账"
    cols = [Column("类别", 24), Column("姓名", 16), Column("性别", 9, "center"), Column("公民身份号码", 36, mask="id"),
            Column("现住址", "*"), Column("管理信息", "2*"), Column("帮扶人", 16), Column("最近走访", 20, "center", kind="date"),
            Column("下次走访", 20, "center", kind="date"), Column("状态", 10, "center"), Column("责任网格", 28)]
    return LedgerSpec(title=title, **heading(ctx, area).fields, period=as_of(today), columns=cols,
                      rows=_without_gc(rows()), orientation="landscape", mask_ids=_masked(params),
                      group_by=0 if group in ("all", "care") else None, subtotals=group in ("all", "care"))


# --- 事件台账 ------------------------------------------------------------------------------------
def _events_query(ctx, params, dispute_only: bool, columns=None):
    """The period's events with their category and area labels; ``columns`` instead of whole Event
    objects when the ledger needs only a few (a year of events is ~20,000 rows on a large street)."""
    from shell.clock import LOCAL_TZ

    area = _area(ctx, params)
    start, end, period = _period(ctx, params)
    lo = datetime.combine(start, datetime.min.time(), LOCAL_TZ)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), LOCAL_TZ)
    q = select(*(columns or (Event,)), EventCategory.name.label("category")) \
        .join(EventCategory, EventCategory.id == Event.category_id) \
        .where(Event.reported_at >= lo, Event.reported_at < hi)
    if dispute_only:
        q = q.where(EventCategory.is_dispute.is_(True))
    q = _area_cols(_filter(q, ctx, Event.area_id, area), Event.area_id).order_by(Event.reported_at, Event.id)
    return q, period


FINAL_RESULTS = ("成功", "失败")


def dispute_state(status: str, result: str | None) -> tuple[str, str]:
    """(办理状态, 化解情况) of a dispute as printed: a rejected case says so (never a blank row); an
    open case is 待受理 / 化解中 whatever result was noted midway; a closed case prints its final
    result, and one closed with no final result recorded says 已办结（未登记结果）, never 成功."""
    state = "不予受理" if status == "rejected" else svc.STATUS_LABELS.get(status, status)
    if status == "rejected":
        return state, "不予受理"
    if status == "reported":
        return "待受理", "待受理"
    if status == "closed":
        return "已办结", result if result in FINAL_RESULTS else "已办结（未登记结果）"
    if status in ("handled", "verified") and result in FINAL_RESULTS:
        return state, result
    return state, "化解中"


@dataclass
class DisputeSummary:
    """The counts behind a dispute ledger or the monthly 排查表 (issue 18): 排查数 = disputes found
    (every row), 调处数 = those taken into mediation (受理: neither 待受理 nor 不予受理), 化解成功数 =
    those whose printed 化解情况 is 成功; 调处成功率 = 化解成功数 ÷ 调处数 (人民调解 practice)."""
    found: int = 0
    rejected: int = 0
    waiting: int = 0
    mediated: int = 0
    success: int = 0
    failed: int = 0
    ongoing: int = 0
    unrecorded: int = 0      # closed with no final result recorded (已办结（未登记结果）)

    def add(self, status: str, result: str | None) -> str:
        _state, shown = dispute_state(status, result)
        self.found += 1
        if shown == "不予受理":
            self.rejected += 1
        elif shown == "待受理":
            self.waiting += 1
        else:
            self.mediated += 1
            if shown == "成功":
                self.success += 1
            elif shown == "失败":
                self.failed += 1
            elif shown == "化解中":
                self.ongoing += 1
            else:
                self.unrecorded += 1
        return shown

    @property
    def success_rate(self) -> str:
        return "—" if not self.mediated else f"{self.success / self.mediated * 100:.2f}%"


def disputes_ledger(ctx: ServiceContext, params: dict):
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    q, period = _events_query(ctx, params, True)
    # a period's disputes are a few thousand at most on a large street: read once, counted and printed
    events = [(r.Event, f"{r.community or ''}{r.grid}") for r in _stream(ctx, q)]
    summary = DisputeSummary()
    rows = []
    parties = 0
    for e, grid in events:
        state, shown = dispute_state(e.status, e.mediation_result)
        summary.add(e.status, e.mediation_result)
        closed = e.status == "closed"
        parties += e.party_count or 0
        method = e.mediation_method or ("—" if e.status in ("rejected", "reported") else "")
        rows.append((e.number, e.title, e.occurred_on, e.party_count, e.main_parties, grid,
                     e.assignee or ("—" if e.status == "rejected" else ""), method, shown,
                     e.deadline, e.closed_at.date() if closed and e.closed_at else None,
                     (e.satisfaction or "") if closed else "", state))
    cols = [Column("编号", 30), Column("事件名称", "*"), Column("发生日期", 20, "center", kind="date"),
            Column("当事人数", 13, "right", kind="int"), Column("主要当事人", 24), Column("责任网格", 28),
            Column("责任人/调解组织", 24), Column("化解方式", 16), Column("化解情况", 18, "center"),
            Column("化解时限", 20, "center", kind="date"), Column("办结日期", 20, "center", kind="date"),
            Column("满意度", 14, "center"), Column("办理状态", 16, "center")]
    title = "矛盾纠纷排查化解台账"
    if not rows:
        return LedgerSpec(title=title, **heading(ctx, _area(ctx, params)).fields, period=period, columns=cols, rows=(),
                          orientation="landscape", empty_text="本期未排查出矛盾纠纷（零报告）", count_unit="件",
                          notes=("经排查，本期辖区内未发现矛盾纠纷，本表作为零报告报送。",))
    totals = ("合计", f"排查 {summary.found} 件", "", parties, "", "", f"调处 {summary.mediated} 件", "",
              f"成功 {summary.success} 件", "", "", "", "")   # the rate: in the summary note below
    notes = (f"本期排查矛盾纠纷 {summary.found} 件，调处数 {summary.mediated} 件，化解成功数 {summary.success} 件，"
             f"调处成功率 {summary.success_rate}（化解成功数 ÷ 调处数）；化解中 {summary.ongoing} 件，"
             f"化解失败 {summary.failed} 件，" + (f"已办结但未登记化解结果 {summary.unrecorded} 件（请补登），"
                                                 if summary.unrecorded else "")
             + f"待受理 {summary.waiting} 件，不予受理 {summary.rejected} 件。",)
    return LedgerSpec(title=title, **heading(ctx, _area(ctx, params)).fields, period=period, columns=cols, rows=rows,
                      totals=totals,
                      orientation="landscape", notes=notes, font_size=8.5, count_unit="件")


STAGE_CHUNK = 500     # events whose timelines are read in one query (well under any bind-parameter limit)
STAGE_COLUMNS = ("register", "dispatch", "handle", "verify")    # the steps the ledger has a column for
RETURNS = ("send_back", "verify_fail")     # 退回: sent back by the department or failed at 核查


def on_time_text(status: str, closed_at: datetime | None, deadline: date | None) -> str:
    """按期 / 超期 of a closed event, by the rule of services.stats._summarise (closed on or before the
    deadline's day, Shanghai time); "" while open."""
    if status != "closed" or closed_at is None:
        return ""
    return "按期" if deadline is None or svc.local_date(closed_at) <= deadline else "超期"


def events_ledger(ctx: ServiceContext, params: dict):
    from sqlalchemy import func

    from reports import Column, LedgerSpec

    ctx.actor.require(svc.P_VIEW)
    q, period = _events_query(ctx, params, False, (Event.id, Event.number, Event.title, Event.status,
                                                   Event.reported_at, Event.closed_at, Event.deadline,
                                                   Event.assignee, Event.escalations))
    today = ctx.today()

    def stage_times(event_ids: list[int]) -> dict[int, dict[str, Any]]:
        """The last time each stage happened and the number of 退回, for a chunk of events in one
        query (one query per event made a year's ledger — 17,000 events on the large street — take
        seconds)."""
        out: dict[int, dict[str, Any]] = {i: {"send_back": 0} for i in event_ids}
        for event_id, action, at in ctx.session.execute(
                select(EventStep.event_id, EventStep.action, EventStep.at)
                .where(EventStep.event_id.in_(event_ids), EventStep.action.in_(STAGE_COLUMNS + RETURNS))
                .order_by(EventStep.event_id, EventStep.id)):
            if action in RETURNS:
                out[event_id]["send_back"] += 1
            else:
                out[event_id][action] = at
        return out

    def rows():
        events = list(_stream(ctx, q))
        for k in range(0, len(events), STAGE_CHUNK):
            chunk = events[k:k + STAGE_CHUNK]
            stages = stage_times([r.id for r in chunk])
            yield from (event_row(r, stages[r.id]) for r in chunk)

    def event_row(e, st: dict[str, Any]) -> tuple:
        return (e.number, e.category, e.title, f"{e.community or ''}{e.grid}", _fmt_dt(e.reported_at),
                _fmt_dt(st.get("register")), _fmt_dt(st.get("dispatch")), e.assignee or "",
                _fmt_dt(st.get("handle")), _fmt_dt(st.get("verify")), _fmt_dt(e.closed_at), e.deadline,
                svc.STATUS_LABELS[e.status], on_time_text(e.status, e.closed_at, e.deadline),
                e.escalations or None, st["send_back"] or None)

    # The note counts the very rows of the table (same query, light columns), so the two agree.
    counts = {"all": 0, "rejected": 0, "reported": 0, "registered": 0, "closed": 0, "on_time": 0, "overdue": 0,
              "escalated": 0}
    cq, _ = _events_query(ctx, params, False, (Event.status, Event.closed_at, Event.deadline, Event.escalations))
    for r in ctx.session.execute(cq.order_by(None)):
        counts["all"] += 1
        if r.status in ("rejected", "reported"):
            counts[r.status] += 1
            continue
        counts["registered"] += 1
        counts["escalated"] += 1 if r.escalations else 0
        if r.status == "closed":
            counts["closed"] += 1
            counts["on_time"] += on_time_text(r.status, r.closed_at, r.deadline) == "按期"
        elif r.deadline is not None and r.deadline < today:
            counts["overdue"] += 1
    backs = ctx.session.scalar(select(func.count()).select_from(EventStep).where(
        EventStep.action.in_(RETURNS), EventStep.event_id.in_(cq.with_only_columns(Event.id).order_by(None))))

    def pct(n: int) -> str:
        return svc.Indicators.percent(n / counts["registered"] if counts["registered"] else None)

    cols = [Column("编号", 28), Column("类别", 15), Column("事件名称", "*"), Column("网格", 24),
            Column("上报", 17, "center", kind="datetime"), Column("立案", 17, "center", kind="datetime"),
            Column("派遣", 17, "center", kind="datetime"), Column("派遣对象", 22),
            Column("处置", 17, "center", kind="datetime"), Column("核查", 17, "center", kind="datetime"),
            Column("结案", 17, "center", kind="datetime"), Column("时限", 17, "center", kind="date"),
            Column("状态", 12, "center"), Column("按期", 10, "center"), Column("督办", 9, "right", kind="int"),
            Column("退回", 9, "right", kind="int")]
    notes = (f"本表列出本期上报的事件 {counts['all']} 件：已立案 {counts['registered']} 件，不予立案 {counts['rejected']} 件，"
             f"待立案 {counts['reported']} 件。已立案事件中结案 {counts['closed']} 件，结案率 {pct(counts['closed'])}；"
             f"按期结案 {counts['on_time']} 件，按期结案率 {pct(counts['on_time'])}；在办超期 {counts['overdue']} 件；"
             f"被督办 {counts['escalated']} 件；退回 {backs or 0} 次。",
             "结案率 = 结案数 ÷ 本表已立案数；按立案日期统计的各社区指标见“事件统计月报”。")
    return LedgerSpec(title="事件办理台账", **heading(ctx, _area(ctx, params)).fields, period=period, columns=cols,
                      rows=_without_gc(rows()),
                      orientation="landscape", notes=notes, font_size=8, count_unit="件",
                      totals="auto" if counts["all"] else None)


def definitions() -> list[ReportDefinition]:
    """This module's ledgers; ledgers_more.definitions() has the others (it builds on this module,
    so the plugin's register_reports joins the two)."""
    return [
        ReportDefinition("grid.persons", "实有人口登记台账", persons_ledger, (AREA, FULL), svc.P_VIEW, "网格化管理"),
        ReportDefinition("grid.rentals", "出租房屋台账", rentals_ledger, (AREA, FULL), svc.P_VIEW, "网格化管理"),
        ReportDefinition("grid.special", "特殊人群台账", special_ledger, (AREA, GROUP_PARAM, FULL), svc.P_VIEW,
                         "网格化管理"),
        ReportDefinition("grid.disputes", "矛盾纠纷排查化解台账", disputes_ledger, (AREA, START, END), svc.P_VIEW,
                         "网格化管理"),
        ReportDefinition("grid.events", "事件办理台账", events_ledger, (AREA, START, END), svc.P_VIEW, "网格化管理"),
        ReportDefinition("grid.floating", "流动人口台账", floating_ledger, (AREA, FULL), svc.P_VIEW, "网格化管理"),
        ReportDefinition("grid.visit_logs", "网格员走访日志", visit_logs_ledger, (AREA, START, END), svc.P_VIEW,
                         "网格化管理"),
        ReportDefinition("grid.grid_info", "网格基础信息表", grid_info_ledger, (AREA,), svc.P_VIEW, "网格化管理"),
    ]
