"""Ledger builders for the report engine (no Qt). Each ``build_*(sctx, params)`` returns a
``LedgerSpec`` (rows streamed from the database) or, for the drill evaluation, a ``DocumentSpec``."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from reports import Column, DocumentSpec, ItemsTable, LedgerSpec
from reports.masking import mask_phone
from reports.spec import as_of, cn_date, cn_period
from shell.contracts import ReportDefinition, ReportParameter
from shell.core import personal
from shell.core.areas import scope_filter
from shell.core.models import Area
from shell.core.reporting import heading, unit_name
from shell.errors import NotFound, ValidationError

from . import services
from .models import (
    DRILL_CONTENTS,
    DRILL_FORMS,
    DRILL_PURPOSES,
    DRILL_STATUS,
    DUTY_SHIFTS,
    MOVE_KINDS,
    SHELTER_STATUS,
    TEAM_KINDS,
    Batch,
    Item,
    Plan,
    StockMove,
    Stocktake,
    Team,
    TeamMember,
    Warehouse,
)


def _wh_param(required=False):
    return ReportParameter("warehouse_id", "仓库编号（空为全部）", kind="int", default=None, required=required)


def _year(params, sctx) -> int:
    return int(params.get("year") or sctx.today().year)


def _to_date(value, default: date) -> date:
    if value in (None, ""):
        return default
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(f"日期“{value}”格式不正确，应为 2024-05-01。", "date", value) from None


def _check_wh(sctx, params):
    wid = params.get("warehouse_id")
    if wid in (None, "", 0):     # the report centre's number box says 0 when left empty
        return None
    wh = services._warehouse(sctx, int(wid))
    return wh


# ----------------------------------------------------------------------------- 出库单

def build_issue_note(sctx, params):
    """应急物资出库单: the paper that goes with the goods (printed after each 出库 from the stock page,
    reprinted by 出库单号 from the report centre), signed by who takes, who hands out and the keeper."""
    from shell.clock import format_local, to_local

    note = services.issue_note(sctx, str(params.get("doc_no") or ""))
    rows = [(code, name, batch, expiry, qty, unit) for code, name, batch, expiry, qty, unit in note.lines]
    units = {unit for *_r, unit in note.lines}
    total = sum(qty for *_r, qty, _u in note.lines)
    return DocumentSpec(
        title="应急物资出库单", number=note.doc_no, unit_name=unit_name(sctx, None),
        fields=[("出库仓库", note.warehouse), ("出库时间", format_local(note.at)), ("领用单位/人", note.party or "—"),
                ("用途", note.note or "—"), ("经办人", note.handler or "—"), ("仓库保管员", note.keeper or "—")],
        items=ItemsTable(title="出库物资（先到期先出）",
                         columns=[Column("物资编码", 20), Column("名称及规格", "3*"), Column("批次号", 36),
                                  Column("有效期至", 22, kind="date"), Column("数量", 14, align="right", kind="int"),
                                  Column("单位", 12, align="center")],
                         rows=rows, totals=("合计", "", "", "", total, units.pop() if len(units) == 1 else "")),
        signature=("领用人签字", "经办人签字", "保管员签字"), date=to_local(note.at).date(), seal=False)


# ----------------------------------------------------------------------------- 应急物资储备台账

def build_reserve(sctx, params):
    sctx.actor.require("emergency.view")
    wh = _check_wh(sctx, params)
    today = sctx.today()
    bands = services.alert_days(sctx)
    q = (select(Warehouse.name, Item.code, Item.name, Item.spec, Item.unit, Batch.batch_no, Batch.production_date,
                Batch.expiry_date, Batch.qty)
         .join(Warehouse, Warehouse.id == Batch.warehouse_id).join(Item, Item.id == Batch.item_id)
         .where(Batch.qty > 0, scope_filter(Warehouse.area_id, sctx.actor))
         .order_by(Warehouse.id, Item.code, Item.name, Batch.expiry_date, Batch.id))
    if wh is not None:
        q = q.where(Warehouse.id == wh.id)

    def rows():
        # the warehouse heads its group instead of filling a column on every line
        for whn, code, name, spec, unit, no, prod, exp, qty in sctx.session.execute(q.execution_options(yield_per=2000)):
            state = ""
            if exp is not None:
                band = services.expiry_band((exp - today).days, bands)
                state = "已过期" if band == 0 else (f"{band}天内到期" if band else "")
            yield {"仓库": whn, "物资编码": code, "物资名称": name, "规格型号": spec, "单位": unit, "批次号": no,
                   "生产日期": prod, "有效期至": exp, "数量": qty, "效期状态": state}

    return LedgerSpec(
        title="应急物资储备台账", **heading(sctx).fields, period=as_of(today),
        columns=[Column("物资编码", 26), Column("物资名称", "2*"), Column("规格型号", "1.5*"),
                 Column("单位", 10, align="center"), Column("批次号", 28), Column("生产日期", 22, align="center", kind="date"),
                 Column("有效期至", 22, align="center", kind="date"), Column("数量", 16, align="right", kind="number"),
                 Column("效期状态", 22, align="center")],
        rows=rows(), orientation="landscape", group_by="仓库", subtotals=True, count_unit="批",
        totals="auto", group_unit="个仓库",
        notes=(f"效期状态：已过期、{bands[0]}/{bands[1]}/{bands[2]} 天内到期。过期物资不得发放，应按“过期报废”调整出账。",))


# ----------------------------------------------------------------------------- 物资出入库明细账

def build_moves(sctx, params):
    sctx.actor.require("emergency.view")
    wh = _check_wh(sctx, params)
    today = sctx.today()
    start = _to_date(params.get("start"), today.replace(day=1))
    end = _to_date(params.get("end"), today)
    if end < start:
        raise ValidationError(f"结束日期 {end} 早于开始日期 {start}。", "end", end)
    from datetime import datetime, time

    from shell.clock import LOCAL_TZ

    t0 = datetime.combine(start, time.min, LOCAL_TZ)
    t1 = datetime.combine(end + timedelta(days=1), time.min, LOCAL_TZ)
    q = (select(StockMove.occurred_at, StockMove.doc_no, Warehouse.name, Item.code, Item.name, Item.unit,
                Batch.batch_no, StockMove.kind, StockMove.qty, StockMove.balance_after, StockMove.party,
                StockMove.reason, StockMove.actor_name)
         .join(Warehouse, Warehouse.id == StockMove.warehouse_id).join(Item, Item.id == StockMove.item_id)
         .join(Batch, Batch.id == StockMove.batch_id)
         .where(StockMove.occurred_at >= t0, StockMove.occurred_at < t1, scope_filter(Warehouse.area_id, sctx.actor))
         .order_by(StockMove.occurred_at, StockMove.id))
    if wh is not None:
        q = q.where(StockMove.warehouse_id == wh.id)

    def rows():
        from shell.clock import format_local

        for at, doc, whn, code, name, unit, no, kind, qty, bal, party, reason, who in \
                sctx.session.execute(q.execution_options(yield_per=2000)):
            yield (format_local(at), doc, whn, code, name, no, MOVE_KINDS.get(kind, kind),
                   qty if qty > 0 else None, -qty if qty < 0 else None, bal, unit, party or reason or "", who)

    return LedgerSpec(
        title="物资出入库明细账", **heading(sctx).fields, period=cn_period(start, end),
        columns=[Column("时间", 26, kind="datetime"), Column("单号", 30), Column("仓库", 24), Column("物资编码", 16),
                 Column("物资名称", "2*"),
                 Column("批次号", 22), Column("类别", 16, align="center"), Column("收入", 12, align="right", kind="number"),
                 Column("发出", 12, align="right", kind="number"), Column("结存", 12, align="right", kind="number"),
                 Column("单位", 9, align="center"),
                 Column("对方单位/原因", "1.5*"), Column("经办人", 14)],
        rows=rows(), orientation="landscape", totals="auto", count_unit="笔")


# ----------------------------------------------------------------------------- 物资收发汇总表

def build_summary(sctx, params):
    sctx.actor.require("emergency.view")
    wh = _check_wh(sctx, params)
    today = sctx.today()
    start = _to_date(params.get("start"), today.replace(month=1, day=1))
    end = _to_date(params.get("end"), today)
    if end < start:
        raise ValidationError(f"结束日期 {end} 早于开始日期 {start}。", "end", end)
    rows = services.move_summary(sctx, start, end, wh.id if wh else None)
    head = heading(sctx)

    def lines():
        for r in rows:
            yield (r.code, r.name, r.spec, r.unit, r.received, r.issued, r.transferred_in, r.transferred_out,
                   r.adjusted, r.net, r.moves)

    return LedgerSpec(
        title="应急物资收发汇总表", unit_name=head.unit, scope=head.scope + (f" {wh.name}" if wh else ""),
        period=cn_period(start, end),
        columns=[Column("物资编码", 18), Column("物资名称", "2*"), Column("规格型号", "1.5*"), Column("单位", 10, align="center"),
                 Column("入库", 16, align="right", kind="number"), Column("出库", 16, align="right", kind="number"),
                 Column("调入", 16, align="right", kind="number"),
                 Column("调出", 16, align="right", kind="number"), Column("调整/盘点", 18, align="right", kind="number"),
                 Column("净增减", 16, align="right", kind="number"), Column("笔数", 14, align="right", kind="int")],
        rows=lines(), orientation="landscape", totals="auto", count_unit="种物资", sum_columns=(10,))


# ----------------------------------------------------------------------------- 盘点表

def build_stocktake(sctx, params):
    sctx.actor.require("emergency.view")
    take_id = params.get("stocktake_id")
    if take_id in (None, ""):
        raise ValidationError("请填写盘点单编号。", "stocktake_id")
    take = sctx.session.get(Stocktake, int(take_id))
    if take is None:
        raise NotFound(f"盘点单 {take_id} 不存在。")
    wh = services._warehouse(sctx, take.warehouse_id)
    lines = services.stocktake_lines(sctx, take.id)
    surplus = [(line.counted_qty - line.expected_qty) for line, _b, _i in lines
               if line.counted_qty is not None and line.counted_qty > line.expected_qty]
    shortage = [(line.expected_qty - line.counted_qty) for line, _b, _i in lines
                if line.counted_qty is not None and line.counted_qty < line.expected_qty]
    uncounted = sum(1 for line, _b, _i in lines if line.counted_qty is None)

    def rows():
        for line, batch, item in lines:
            diff = None if line.counted_qty is None else line.counted_qty - line.expected_qty
            yield (item.code, item.name, item.spec, item.unit, batch.batch_no, batch.expiry_date, line.expected_qty,
                   line.counted_qty, diff if diff and diff > 0 else None, -diff if diff and diff < 0 else None,
                   line.note)

    status = {"open": "盘点中", "posted": "已过账", "cancelled": "已作废"}[take.status]
    from shell.clock import format_local

    notes = [f"盘点人员：{take.counted_by or '（未登记）'}；盘点日期：{cn_date(take.opened_on)}；状态：{status}"
             + (f"（{format_local(take.posted_at)} 过账，差异已按“盘点差异”入账）" if take.posted_at else "")
             + (f"；备注：{take.note}" if take.note else "") + "。",
             f"盘盈 {len(surplus)} 项，共 {sum(surplus)}；盘亏 {len(shortage)} 项，共 {sum(shortage)}"
             + (f"；尚有 {uncounted} 项未录入实盘数" if uncounted else "") + "。"]
    head = heading(sctx, wh.area_id)
    return LedgerSpec(
        title="应急物资盘点表", unit_name=head.unit, scope=f"{wh.name}　盘点单 PD{take.id:06d}",
        period=as_of(take.opened_on),
        columns=[Column("物资编码", 18), Column("物资名称", "2*"), Column("规格型号", "1.5*"), Column("单位", 10, align="center"),
                 Column("批次号", 24), Column("有效期至", 20, align="center", kind="date"),
                 Column("账面数", 15, align="right", kind="number"),
                 Column("实盘数", 15, align="right", kind="number"), Column("盘盈", 13, align="right", kind="number"),
                 Column("盘亏", 13, align="right", kind="number"), Column("备注", "1*")],
        rows=rows(), orientation="landscape", totals="auto", count_unit="项", sum_columns=(6, 7, 8, 9),
        notes=tuple(notes), signature=("盘点人", "监盘人", "保管员", "负责人", "盘点日期"))


# ----------------------------------------------------------------------------- 应急预案目录

def build_plans(sctx, params):
    rows_ = services.list_plans(sctx)
    areas = {a.id: a.name for a in sctx.session.scalars(select(Area).where(Area.id.in_({p.area_id for p in rows_})))}
    today = sctx.today()

    def rows():
        for i, p in enumerate(rows_, start=1):
            due = "已到期" if p.review_on and p.review_on <= today else ""
            yield (i, p.title, p.category, p.level, areas.get(p.area_id, ""), p.version, p.issued_on, p.review_on, due,
                   "有" if p.file_name else "无")

    return LedgerSpec(
        title="应急预案目录", **heading(sctx).fields, period=as_of(today),
        columns=[Column("序号", 10, align="center", kind="int"), Column("预案名称", "3*"), Column("类别", 18, align="center"),
                 Column("层级", 22, align="center"), Column("编制单位", "1.5*"), Column("版本", 12, align="center"),
                 Column("发布日期", 20, align="center", kind="date"), Column("评审日期", 20, align="center", kind="date"),
                 Column("评审", 14, align="center"), Column("附件", 10, align="center")],
        rows=rows(), orientation="landscape", totals="auto", count_unit="项")


# ----------------------------------------------------------------------------- 演练记录台账

def build_drills(sctx, params):
    year = _year(params, sctx)
    drills = services.list_drills(sctx, year=year)
    areas = {a.id: a.name for a in sctx.session.scalars(select(Area).where(Area.id.in_({d.area_id for d in drills})))}
    plan_ids = {d.plan_id for d in drills if d.plan_id}
    plans = {p.id: p.title for p in sctx.session.scalars(select(Plan).where(Plan.id.in_(plan_ids)))}

    def rows():
        for i, d in enumerate(drills, start=1):
            kind = f"{DRILL_FORMS[d.form]}/{DRILL_CONTENTS[d.content]}/{DRILL_PURPOSES[d.purpose]}"
            yield (i, d.title, areas.get(d.area_id, ""), kind, plans.get(d.plan_id, ""), d.planned_on, d.held_on,
                   d.place, d.units, d.participants, DRILL_STATUS[d.status], d.score)

    comp = services.drill_compliance(sctx, year)
    behind = [c.area for c in comp if c.behind]
    return LedgerSpec(
        title="应急演练记录台账", **heading(sctx).fields, period=f"{year}年",
        columns=[Column("序号", 10, align="center", kind="int"), Column("演练名称", "2*"), Column("组织单位", 24),
                 Column("类型（形式/内容/目的）", 40), Column("依据预案", "1.5*"),
                 Column("计划日期", 20, align="center", kind="date"),
                 Column("实施日期", 20, align="center", kind="date"), Column("地点", "1*"), Column("参演单位", "1.5*"),
                 Column("人数", 11, align="right", kind="int"), Column("状态", 14, align="center"),
                 Column("评分", 11, align="right", kind="number")],
        rows=rows(), orientation="landscape", totals="auto", count_unit="次", sum_columns=(9,),
        notes=(f"年度要求：街道和每个社区每年至少开展综合演练 {comp[0].required if comp else 1} 次。"
               + (f"尚未完成：{'、'.join(behind)}。" if behind else "均已完成。"),))


# ----------------------------------------------------------------------------- 演练评估报告 (document)

def build_evaluation(sctx, params):
    drill_id = params.get("drill_id")
    if drill_id in (None, ""):
        raise ValidationError("请填写演练编号。", "drill_id")
    drill = services._drill(sctx, int(drill_id))
    sctx.actor.require("emergency.view")
    if drill.status != "evaluated":
        raise ValidationError(f"演练“{drill.title}”还没有评估（当前状态：{DRILL_STATUS[drill.status]}）。", "drill_id", drill_id)
    area = sctx.session.get(Area, drill.area_id)
    plan = sctx.session.get(Plan, drill.plan_id) if drill.plan_id else None
    scores = services.drill_scores(sctx, drill.id)
    fields = [("演练名称", drill.title), ("组织单位", area.name),
              ("演练类型", f"{DRILL_FORMS[drill.form]} · {DRILL_CONTENTS[drill.content]} · {DRILL_PURPOSES[drill.purpose]}"),
              ("依据预案", f"{plan.title}（第 {plan.version} 版）" if plan else "—"),
              ("时间", drill.held_on), ("地点", drill.place), ("参演单位", drill.units), ("参演人数", drill.participants),
              ("评估人", drill.evaluator), ("综合得分", f"{drill.score} 分（满分 100）")]
    body = []
    for label, value in (("一、演练目的", drill.aim), ("二、情景概要", drill.scenario), ("三、发现的问题", drill.problems),
                         ("四、原因分析", drill.causes), ("五、经验教训", drill.lessons), ("六、改进措施", drill.improvements)):
        body.append(f"{label}：{value or '无'}")
    items = ItemsTable(
        title="分项评估（对照预案步骤，每项 0–10 分）",
        columns=[Column("序号", 12, align="center", kind="int"), Column("预期行动", "2*"), Column("实际情况", "2*"),
                 Column("得分", 14, align="right", kind="number"), Column("存在问题", "1.5*")],
        rows=[(s.seq, s.expected, s.observed, s.score, s.problem) for s in scores],
        totals=("合计", "", "", sum(s.score for s in scores), ""))
    return DocumentSpec(title="应急演练评估报告", number=f"演练评估 {drill.evaluated_on:%Y}-{drill.id:04d}",
                        fields=fields, body=body, items=items, issuer=(unit_name(sctx, area),), signature=("评估人", "审核人"),
                        date=drill.evaluated_on, unit_name=unit_name(sctx, area))


# ----------------------------------------------------------------------------- 应急队伍花名册

def build_roster(sctx, params):
    """A call-out list (紧急召集): each team a group header with its leader and head count, then its
    members with their phones. Phones are printed in full for those allowed to see personal numbers
    in full (core.personal.full_view — the print is then audited as one with full numbers), masked
    for everyone else."""
    from sqlalchemy import func

    sctx.actor.require("emergency.view")
    full = personal.can_see_full(sctx.actor)
    q = (select(Team.id, Team.name, Team.kind, Area.name, Team.leader, Team.leader_phone, TeamMember.name,
                TeamMember.phone, TeamMember.skills, TeamMember.certificates)
         .join(TeamMember, TeamMember.team_id == Team.id).join(Area, Area.id == Team.area_id)
         .where(Team.active.is_(True), TeamMember.active.is_(True), scope_filter(Team.area_id, sctx.actor))
         .order_by(Team.area_id, Team.id, TeamMember.id))
    sizes = dict(sctx.session.execute(
        select(TeamMember.team_id, func.count(TeamMember.id)).join(Team, Team.id == TeamMember.team_id)
        .where(Team.active.is_(True), TeamMember.active.is_(True), scope_filter(Team.area_id, sctx.actor))
        .group_by(TeamMember.team_id)).all())

    def phone(value):
        return value if full or not value else mask_phone(value)

    def rows():
        team, n = None, 0
        for tid, tname, kind, area, leader, leader_phone, name, ph, skills, certs in sctx.session.execute(q):
            n = 1 if tid != team else n + 1
            team = tid
            head = f"{tname}（{TEAM_KINDS[kind]} · {area}）　共 {sizes.get(tid, 0)} 人"
            if leader:
                head += f"　队长：{leader}" + (f"　{phone(leader_phone)}" if leader_phone else "")
            yield {"队伍": head, "序号": n, "姓名": name, "联系电话": ph, "技能特长": skills, "资格证书": certs}

    checks = services.team_size_check(sctx)
    notes = tuple(f"{c.street}综合应急救援队伍现有 {c.members} 人，规范要求不少于 {c.norm} 人"
                  + ("，达标。" if c.ok else f"，还差 {c.shortfall} 人。") for c in checks)
    notes += (("联系电话为完整号码，仅供紧急召集使用，不得外传。" if full
               else "联系电话已脱敏；紧急召集请由有“查看完整身份证号码”权限的人员打印完整号码版。"),)
    return LedgerSpec(
        title="应急队伍花名册", **heading(sctx).fields, period=as_of(sctx.today()),
        columns=[Column("序号", 12, align="center", kind="int"), Column("姓名", 22), Column("联系电话", 30, mask="phone"),
                 Column("技能特长", "1.5*"), Column("资格证书", "1.5*")],
        rows=rows(), group_by="队伍", subtotals=False, totals="auto", count_unit="人", group_unit="支队伍",
        mask_ids=not full, notes=notes, signature=("制表人", "审核人", "负责人", "填报日期"))


# ----------------------------------------------------------------------------- 应急值班表

WEEKDAYS = "一二三四五六日"


def build_duty(sctx, params):
    """The duty roster of one unit for a period (default: this week), gaps noted below."""
    sctx.actor.require("emergency.view")
    area_id = params.get("area_id")
    if area_id in (None, ""):
        raise ValidationError("请选择值班单位。", "area_id")
    area = services._area(sctx, int(area_id))
    today = sctx.today()
    start = _to_date(params.get("start"), today - timedelta(days=today.weekday()))
    end = _to_date(params.get("end"), start + timedelta(days=6))
    if end < start:
        raise ValidationError(f"结束日期 {end} 早于开始日期 {start}。", "end", end)
    if (end - start).days > 366:
        raise ValidationError("值班表一次最多打印一年。", "end", end)
    shifts = services.duty_roster(sctx, area.id, start, end)
    gaps = services.duty_gaps(sctx, area.id, start, end)

    def rows():
        for d in shifts:
            yield (f"{d.duty_date:%Y-%m-%d} 周{WEEKDAYS[d.duty_date.weekday()]}", DUTY_SHIFTS[d.shift], d.leader,
                   d.staff, d.phone, d.note)

    notes = ("值班期间保持通讯畅通，遇突发事件立即报告带班领导并按预案处置。",)
    if gaps:
        notes += ("未排满：" + "，".join(f"{d:%m-%d}{what}" for d, what in gaps) + "。",)
    return LedgerSpec(
        title="应急值班表", **heading(sctx, area).fields, period=cn_period(start, end),
        columns=[Column("日期", 34), Column("班次", 14, align="center"), Column("带班领导", 24), Column("值班人员", "2*"),
                 Column("值班电话", 30), Column("备注", "1*")],
        rows=rows(), notes=notes, signature=("制表人", "审核人"))


# ----------------------------------------------------------------------------- 避难场所台账

def build_shelters(sctx, params):
    shelters = services.list_shelters(sctx)
    areas = {a.id: a.name for a in sctx.session.scalars(select(Area).where(Area.id.in_({s.area_id for s in shelters})))}
    mask = params.get("mask", True) not in (False, "0", "否", "false")

    def rows():
        for i, s in enumerate(shelters, start=1):
            yield (i, s.name, areas.get(s.area_id, ""), s.location, s.area_m2, s.capacity, s.facilities, s.manager,
                   s.manager_phone, SHELTER_STATUS[s.status])

    total = sum(s.capacity for s in shelters if s.status in ("available", "in_use"))
    return LedgerSpec(
        title="应急避难场所台账", **heading(sctx).fields, period=as_of(sctx.today()),
        columns=[Column("序号", 10, align="center", kind="int"), Column("场所名称", "1.5*"), Column("所属辖区", 22),
                 Column("位置", "2*"),
                 Column("面积(㎡)", 16, align="right", kind="number"), Column("容纳人数", 16, align="right", kind="int"),
                 Column("配套设施", "2*"),
                 Column("负责人", 16), Column("联系电话", 26, mask="phone"), Column("状态", 14, align="center")],
        rows=rows(), orientation="landscape", mask_ids=mask,
        totals=("合计", "", "", "", sum(s.area_m2 for s in shelters), sum(s.capacity for s in shelters), "", "", "", ""),
        notes=(f"可用及启用中场所合计可容纳 {total} 人。",))


# ----------------------------------------------------------------------------- 应急演练总结报告

def build_drill_summary(sctx, params):
    """应急演练总结报告 (separate from the evaluation): purpose, time and place, participating units
    and people, scenario, problems found and their causes, lessons and improvements, on one sheet,
    issued by the organising unit."""
    drill_id = params.get("drill_id")
    if drill_id in (None, ""):
        raise ValidationError("请填写演练编号。", "drill_id")
    sctx.actor.require("emergency.view")
    drill = services.get_drill(sctx, int(drill_id))
    if drill.status not in ("held", "evaluated"):
        raise ValidationError(f"演练“{drill.title}”还没有实施（当前状态：{DRILL_STATUS[drill.status]}），实施后才能写总结报告。",
                              "drill_id", drill_id)
    area = sctx.session.get(Area, drill.area_id)
    plan = sctx.session.get(Plan, drill.plan_id) if drill.plan_id else None
    unit = unit_name(sctx, area)
    kind = "、".join((DRILL_FORMS[drill.form], DRILL_CONTENTS[drill.content], DRILL_PURPOSES[drill.purpose]))
    fields = [("演练名称", drill.title), ("组织单位", unit), ("演练类型", kind),
              ("依据预案", f"{plan.title}（第 {plan.version} 版）" if plan else "—"),
              ("演练时间", cn_date(drill.held_on)), ("演练地点", drill.place or ""),
              ("参演单位", drill.units or ""), ("参演人数", f"{drill.participants or 0} 人")]
    evaluated = (f"经评估（评估人：{drill.evaluator}，{cn_date(drill.evaluated_on)}），综合得分 {drill.score} 分（满分 100），"
                 f"详见《应急演练评估报告》（演练评估 {drill.evaluated_on:%Y}-{drill.id:04d}）。"
                 if drill.status == "evaluated" else "本次演练尚未评估。")
    body = [f"一、演练目的：{drill.aim or '检验预案、锻炼队伍、磨合机制、宣传教育。'}",
            f"二、时间、地点和参演人员：{cn_date(drill.held_on)}在{drill.place or '（未登记）'}组织{kind}，"
            f"{drill.units or '有关单位'}共 {drill.participants or 0} 人参演。",
            f"三、情景概要：{drill.scenario or '（未登记）'}",
            f"四、发现的问题及原因：{(drill.problems or '无').rstrip('。；')}"
            + (f"；原因：{drill.causes}" if drill.causes else ""),
            f"五、经验教训：{drill.lessons or '无'}",
            f"六、改进措施：{drill.improvements or '无'}",
            f"七、评估情况：{evaluated}"]
    return DocumentSpec(title="应急演练总结报告", number=f"演练总结 {drill.held_on:%Y}-{drill.id:04d}",
                        fields=fields, body=body, issuer=(unit,), signature=("起草人", "审核人"),
                        date=drill.evaluated_on or drill.held_on, unit_name=unit)


# ----------------------------------------------------------------------------- 临期物资预警清单

EXPIRY_ADVICE = {0: "已过期：停止发放，按“过期报废”办理库存调整", 30: "30天内到期：优先发放（先到期先出）或轮换更新",
                 60: "60天内到期：安排轮换、调剂使用", 90: "90天内到期：列入轮换计划"}


def build_expiry(sctx, params):
    """临期物资预警清单: batches in stock that expire within the alert days (30/60/90) or have
    expired, by band, with the quantity summed per band and the action to take."""
    sctx.actor.require("emergency.view")
    wh = _check_wh(sctx, params)
    alerts = services.expiry_alerts(sctx, wh.id if wh else None)
    units = dict(sctx.session.execute(select(Batch.id, Item.unit).join(Item, Item.id == Batch.item_id)
                                      .where(Batch.id.in_([a.batch_id for a in alerts]))).all()) if alerts else {}
    bands = services.alert_days(sctx)
    alerts.sort(key=lambda a: (a.band, a.expiry_date, a.batch_id))

    def band_label(band):
        return "已过期" if band == 0 else f"{band}天内到期"

    rows = [(a.warehouse, a.code, a.name, a.batch_no, a.expiry_date, a.days_left, a.qty, units.get(a.batch_id, ""),
             EXPIRY_ADVICE.get(a.band, f"{a.band}天内到期"), band_label(a.band)) for a in alerts]
    counts = {}
    for r in rows:
        counts[r[-1]] = counts.get(r[-1], 0) + 1
    return LedgerSpec(
        title="临期物资预警清单", **heading(sctx).fields, period=as_of(sctx.today()), orientation="landscape",
        columns=[Column("仓库", "1.2*"), Column("物资编码", 18), Column("物资名称", "1.5*"), Column("批次号", 24),
                 Column("有效期至", 22, kind="date"), Column("剩余天数", 14, align="right", kind="int"),
                 Column("库存数量", 14, align="right", kind="number"), Column("单位", 10, align="center"),
                 Column("处置建议", "2*")],
        rows=rows, group_by=lambda r: r[-1], subtotals=[6], count_unit="批",
        totals=(f"合计：{len(rows)} 批", "", "", "", "", "", sum(r[6] for r in rows), "", "；".join(
            f"{k} {v} 批" for k, v in counts.items())),
        empty_text=f"截至今日没有 {bands[2]} 天内到期或已过期的库存物资",
        notes=(f"预警天数：{bands[0]} / {bands[1]} / {bands[2]} 天（可在设置中调整）；剩余天数为负数表示已过期的天数。",
               "过期批次系统禁止出库发放。"))


# ----------------------------------------------------------------------------- 物资领用（出库）登记簿

def build_issues(sctx, params):
    """物资领用（出库）登记簿: every stock-out (出库) in the period — date, voucher, item, batch,
    quantity, who received it and for what, the handler — by item with the quantity summed per item,
    and a column for the recipient's signature."""
    sctx.actor.require("emergency.view")
    wh = _check_wh(sctx, params)
    today = sctx.today()
    start = _to_date(params.get("start"), today.replace(month=1, day=1))
    end = _to_date(params.get("end"), today)
    if end < start:
        raise ValidationError(f"结束日期 {end} 早于开始日期 {start}。", "end", end)
    from datetime import datetime, time

    from shell.clock import LOCAL_TZ, format_local

    t0 = datetime.combine(start, time.min, LOCAL_TZ)
    t1 = datetime.combine(end + timedelta(days=1), time.min, LOCAL_TZ)
    q = (select(StockMove.occurred_at, StockMove.doc_no, Warehouse.name, Item.code, Item.name, Item.spec, Batch.batch_no,
                StockMove.qty, Item.unit, StockMove.party, StockMove.note, StockMove.actor_name)
         .join(Warehouse, Warehouse.id == StockMove.warehouse_id).join(Item, Item.id == StockMove.item_id)
         .join(Batch, Batch.id == StockMove.batch_id)
         .where(StockMove.kind == "out", StockMove.occurred_at >= t0, StockMove.occurred_at < t1,
                scope_filter(Warehouse.area_id, sctx.actor))
         .order_by(Item.code, Item.name, StockMove.occurred_at, StockMove.id))
    if wh is not None:
        q = q.where(StockMove.warehouse_id == wh.id)
    rows = []
    for at, doc, whn, code, name, spec, no, qty, unit, party, note, who in sctx.session.execute(q):
        rows.append((format_local(at), doc or "", whn, no, -qty, unit, party or "", note or "", who or "", "",
                     f"{code} {name}" + (f"（{spec}）" if spec else "")))
    return LedgerSpec(
        title="物资领用（出库）登记簿", **heading(sctx).fields, period=cn_period(start, end), orientation="landscape",
        columns=[Column("时间", 28, kind="datetime"), Column("出库单号", 30), Column("仓库", "1.2*"), Column("批次号", 24),
                 Column("数量", 13, align="right", kind="number"), Column("单位", 10, align="center"),
                 Column("领用单位/人", "1.5*"), Column("用途/备注", "1.5*"), Column("经办人", 15), Column("领用人签字", 22)],
        rows=rows, group_by=lambda r: r[-1], subtotals=[4], count_unit="笔",
        totals=(f"合计：{len(rows)} 笔", "", "", "", sum(r[4] for r in rows), "", "", "", "", ""),
        empty_text="统计期间内没有物资领用（出库）记录",
        notes=("按物资分组，小计为该物资的领用数量；调拨出库、盘点调整不在本簿，见《物资出入库明细账》。",))


def definitions() -> list[ReportDefinition]:
    year = ReportParameter("year", "年度", kind="year", default=None, required=False)
    return [
        ReportDefinition("emergency.reserve", "应急物资储备台账", build_reserve, (_wh_param(),), "emergency.view", "应急管理"),
        ReportDefinition("emergency.moves", "物资出入库明细账", build_moves,
                         (_wh_param(), ReportParameter("start", "开始日期", kind="date", required=False),
                          ReportParameter("end", "结束日期", kind="date", required=False)), "emergency.view", "应急管理"),
        ReportDefinition("emergency.summary", "应急物资收发汇总表", build_summary,
                         (_wh_param(), ReportParameter("start", "开始日期（空为今年 1 月 1 日）", kind="date", required=False),
                          ReportParameter("end", "结束日期（空为今天）", kind="date", required=False)),
                         "emergency.view", "应急管理"),
        ReportDefinition("emergency.issue_note", "应急物资出库单", build_issue_note,
                         (ReportParameter("doc_no", "出库单号"),), "emergency.view", "应急管理"),
        ReportDefinition("emergency.stocktake", "应急物资盘点表", build_stocktake,
                         (ReportParameter("stocktake_id", "盘点单编号", kind="int"),), "emergency.view", "应急管理"),
        ReportDefinition("emergency.plans", "应急预案目录", build_plans, (), "emergency.view", "应急管理"),
        ReportDefinition("emergency.drills", "应急演练记录台账", build_drills, (year,), "emergency.view", "应急管理"),
        ReportDefinition("emergency.drill_evaluation", "应急演练评估报告", build_evaluation,
                         (ReportParameter("drill_id", "演练编号", kind="int"),), "emergency.view", "应急管理"),
        ReportDefinition("emergency.roster", "应急队伍花名册", build_roster, (), "emergency.view", "应急管理"),
        ReportDefinition("emergency.shelters", "应急避难场所台账", build_shelters, (), "emergency.view", "应急管理"),
        ReportDefinition("emergency.duty", "应急值班表", build_duty,
                         (ReportParameter("area_id", "值班单位", kind="area"),
                          ReportParameter("start", "开始日期（空为本周一）", kind="date", required=False),
                          ReportParameter("end", "结束日期（空为开始后 6 天）", kind="date", required=False)),
                         "emergency.view", "应急管理"),
        ReportDefinition("emergency.drill_summary", "应急演练总结报告", build_drill_summary,
                         (ReportParameter("drill_id", "演练编号", kind="int"),), "emergency.view", "应急管理"),
        ReportDefinition("emergency.expiry", "临期物资预警清单", build_expiry, (_wh_param(),), "emergency.view", "应急管理"),
        ReportDefinition("emergency.issues", "物资领用（出库）登记簿", build_issues,
                         (_wh_param(), ReportParameter("start", "开始日期（空为今年 1 月 1 日）", kind="date", required=False),
                          ReportParameter("end", "结束日期（空为今天）", kind="date", required=False)),
                         "emergency.view", "应急管理"),
    ]
