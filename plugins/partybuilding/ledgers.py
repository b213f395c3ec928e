"""Ledgers and documents of the party-building plugin (report specs, no Qt). Rows are streamed
from the database; organisation names are looked up from one small in-memory map."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import select

from shell.contracts import ReportDefinition, ReportParameter
from shell.core import personal
from shell.core import settings as core_settings
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.gcpause import gc_paused_rows

from . import services as svc
from .models import CATEGORY_LABELS, STATUS_LABELS, Attendance, Member, PartyOrg

ORG_PARAM = ReportParameter("org", "党组织编号（空 = 全部）", kind="int", required=False)
YEAR_PARAM = ReportParameter("year", "年度", kind="year", default=date.today().year)


def _unit(ctx: ServiceContext) -> str:
    name = core_settings.core(ctx.session, "core.unit_name")
    if name:
        return name
    top = ctx.session.scalar(select(PartyOrg.name).where(PartyOrg.level == 1, PartyOrg.dissolved_on.is_(None))
                             .order_by(PartyOrg.id).limit(1))
    return top or "街道党工委"


class OrgNames:
    """id → organisation, and the 党支部 (level 3) an organisation belongs to."""

    def __init__(self, session):
        self.orgs = {o.id: o for o in session.scalars(select(PartyOrg))}

    def name(self, org_id: int | None) -> str:
        o = self.orgs.get(org_id)
        return o.name if o else ""

    def branch(self, org_id: int | None) -> str:
        o = self.orgs.get(org_id)
        if o is None:
            return ""
        if o.level <= 3:
            return o.name
        ids = [int(i) for i in o.path.strip("/").split("/") if i]
        for i in ids:
            anc = self.orgs.get(i)
            if anc is not None and anc.level == 3:
                return anc.name
        return o.name


def _root_filter(ctx: ServiceContext, params: dict, column):
    org_id = params.get("org")
    if not org_id:
        return None, ""
    root = svc.get_org(ctx, int(org_id))
    return column.in_(select(PartyOrg.id).where(PartyOrg.path.startswith(root.path)).scalar_subquery()), root.name


def _yes(value) -> str:
    return "是" if value else "否"


def roster(ctx: ServiceContext, params: dict):
    """党员花名册: the national 16 items for every current member (预备 + 正式) in scope."""
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.VIEW)
    names = OrgNames(ctx.session)
    # Plain columns, not ORM objects: a street's roster is 10,000 rows and the engine's pace matters.
    q = (select(Member.name, Member.sex, Member.ethnicity, Member.id_number, Member.birth_date, Member.education,
                Member.category, Member.org_id, Member.admitted_on, Member.full_on, Member.job, Member.phone,
                Member.address, Member.status, Member.lost_contact_on, Member.mobile_destination)
         .join(PartyOrg, PartyOrg.id == Member.org_id)
         .where(scope_filter(PartyOrg.area_id, ctx.actor), Member.stage.in_(("probationary", "full")))
         .order_by(PartyOrg.path, Member.name, Member.id))
    flt, root_name = _root_filter(ctx, params, Member.org_id)
    if flt is not None:
        q = q.where(flt)
    branch_of: dict[int | None, str] = {}

    def rows() -> Iterator[tuple]:
        for i, (name, sex, eth, number, birth, edu, cat, org_id, admitted, full, job, phone, address, status, lost,
                mobile) in enumerate(ctx.session.execute(q.execution_options(yield_per=1000)), start=1):
            if org_id not in branch_of:
                branch_of[org_id] = names.branch(org_id)
            yield (i, name, sex, eth, number, birth, edu or "", CATEGORY_LABELS.get(cat, cat), branch_of[org_id],
                   admitted, full, job or "", phone or "", address or "", STATUS_LABELS.get(status, status),
                   f"是（{lost}）" if lost else "否", f"是（{mobile}）" if mobile else "否")

    cols = [Column("序号", 9, align="right", kind="int"), Column("姓名", 15), Column("性别", 8, align="center"),
            Column("民族", 10), Column("公民身份号码", 33, mask="id"), Column("出生日期", 19, kind="date"),
            Column("学历", 12), Column("人员类别", 12), Column("所在党支部", "2*"), Column("加入党组织日期", 19, kind="date"),
            Column("转为正式党员日期", 19, kind="date"), Column("工作岗位", "1.5*"), Column("联系电话", 22, mask="phone"),
            Column("家庭住址", "2*"), Column("党籍状态", 12), Column("是否失联", 14), Column("是否流动", "1*")]
    return LedgerSpec(title="党员花名册", unit_name=_unit(ctx), period=root_name or f"截至 {ctx.today()}",
                      columns=cols, rows=gc_paused_rows(rows()), orientation="landscape", font_size=7.5,
                      notes=("本表由党员本人、信息采集人、党支部书记签字确认。",),
                      signature=("采集人", "党支部书记", "填报日期"))


def org_ledger(ctx: ServiceContext, params: dict):
    """党组织设置情况台账: the tree as an indented table with member counts."""
    from reports import Column, LedgerSpec

    areas = {a.id: a.name for a in ctx.session.scalars(select(Area))}
    nodes = svc.org_tree(ctx)

    def rows():
        for n in nodes:
            o = n.org
            yield ("　" * n.depth + o.name, o.kind_label, areas.get(o.area_id, ""), o.secretary or "",
                   f"{o.committee_size} 人（{o.committee_elected_on}）" if o.has_committee else "未设",
                   n.members, n.full_members, o.founded_on)

    cols = [Column("党组织", "3*"), Column("类别", 20), Column("所在辖区", "1.5*"), Column("书记", 18),
            Column("委员会（换届日期）", 34), Column("党员数", 14, align="right", kind="int"),
            Column("正式党员", 16, align="right", kind="int"),
            Column("成立日期", 20, kind="date")]
    total = sum(n.own_members for n in nodes)
    return LedgerSpec(title="党组织设置情况台账", unit_name=_unit(ctx), period=f"截至 {ctx.today()}", columns=cols,
                      rows=rows(), orientation="landscape", totals=("合计", "", "", "", "", total, "", ""))


def development_ledger(ctx: ServiceContext, params: dict):
    """发展党员工作台账: everyone in the pipeline, and those made full in the year."""
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.VIEW)
    year = int(params.get("year") or ctx.today().year)
    names = OrgNames(ctx.session)
    q = (select(Member).join(PartyOrg, PartyOrg.id == Member.org_id).where(scope_filter(PartyOrg.area_id, ctx.actor))
         .where((Member.stage != "full") | (Member.full_on >= date(year, 1, 1)))
         .order_by(PartyOrg.path, Member.stage, Member.name))

    def rows():
        for i, m in enumerate(ctx.session.scalars(q.execution_options(yield_per=500)), start=1):
            end = svc.probation_end(m)
            yield (i, m.name, m.sex, m.birth_date, m.education or "", names.branch(m.org_id), m.stage_label,
                   m.applied_on, m.activist_on, m.candidate_on, m.admitted_on,
                   f"{end}" + (f"（延长 {m.extension_months} 个月）" if m.extension_months else "") if end else "",
                   m.full_on)

    cols = [Column("序号", 9, align="right", kind="int"), Column("姓名", 15), Column("性别", 8),
            Column("出生日期", 19, kind="date"),
            Column("学历", 12), Column("所在党支部", "2*"), Column("当前阶段", 18), Column("申请入党", 19, kind="date"),
            Column("确定积极分子", 19, kind="date"), Column("确定发展对象", 19, kind="date"),
            Column("接收预备党员", 19, kind="date"),
            Column("预备期满", "1*", kind="date"), Column("转正", 19, kind="date")]
    return LedgerSpec(title="发展党员工作台账", unit_name=_unit(ctx), period=f"{year}年", columns=cols, rows=rows(),
                      orientation="landscape", font_size=8)


def transfer_ledger(ctx: ServiceContext, params: dict):
    """组织关系转接登记簿."""
    from reports import Column, LedgerSpec

    year = int(params.get("year") or ctx.today().year)
    names = OrgNames(ctx.session)
    items = svc.list_transfers(ctx, date(year, 1, 1), date(year, 12, 31))
    today = ctx.today()

    def rows():
        for i, t in enumerate(items, start=1):
            out = t.direction == "out"
            status = svc.TRANSFER_STATUS.get(t.status, t.status)
            if out and t.status == "issued" and t.receipt_due_on and t.receipt_due_on < today:
                status = "回执逾期"
            yield (i, "转出" if out else "转入", t.letter_number or t.other_letter_number or "", t.member.name,
                   t.member.id_number, names.name(t.from_org_id) if out else t.other_party,
                   t.other_party if out else names.name(t.to_org_id), t.issued_on, t.valid_days or "",
                   t.dues_paid_to or "", t.receipt_on, status)

    cols = [Column("序号", 9, align="right", kind="int"), Column("类别", 10), Column("介绍信编号", "1.5*"), Column("姓名", 15),
            Column("公民身份号码", 33, mask="id"), Column("转出党组织", "1.5*"), Column("接收党组织", "1.5*"),
            Column("日期", 19, kind="date"), Column("有效天数", 12, align="right", kind="int"), Column("党费交至", 15),
            Column("回执日期", 19, kind="date"), Column("状态", 15)]
    return LedgerSpec(title="组织关系转接登记簿", unit_name=_unit(ctx), period=f"{year}年", columns=cols, rows=rows(),
                      orientation="landscape", font_size=8)


def meeting_ledger(ctx: ServiceContext, params: dict):
    """三会一课记录台账: every meeting in the year with attendance."""
    from reports import Column, LedgerSpec

    year = int(params.get("year") or ctx.today().year)
    org_id = params.get("org") or None
    meetings = svc.list_meetings(ctx, date(year, 1, 1), date(year, 12, 31), org_id=org_id)
    att: dict[int, list[tuple[bool, str, str]]] = {}
    if meetings:
        q = (select(Attendance.meeting_id, Attendance.present, Member.name, Attendance.absence_reason)
             .join(Member, Member.id == Attendance.member_id)
             .where(Attendance.meeting_id.in_([m.id for m in meetings])))
        for mid, present, name, reason in ctx.session.execute(q):
            att.setdefault(mid, []).append((present, name, reason or ""))

    def rows():
        for m in meetings:
            a = att.get(m.id, [])
            absent = "；".join(f"{n}（{r}）" for p, n, r in a if not p)
            yield (m.org.name, m.held_on, svc.MEETING_KINDS.get(m.kind, m.kind), m.topic, m.host or "", m.recorder or "",
                   len(a), sum(1 for p, _, _ in a if p), absent)

    cols = [Column("党组织", "1.5*"), Column("日期", 19, kind="date"), Column("类型", 18), Column("主题", "2.5*"),
            Column("主持人", 15), Column("记录人", 15), Column("应到", 10, align="right", kind="int"),
            Column("实到", 10, align="right", kind="int"), Column("缺席人员及原因", "2*")]
    return LedgerSpec(title="三会一课记录台账", unit_name=_unit(ctx), period=f"{year}年", columns=cols, rows=rows(),
                      orientation="landscape", group_by=0)


def dues_ledger(ctx: ServiceContext, params: dict):
    """党费收缴台账: payments of the year per member, grouped by 党支部, with the total."""
    from reports import Column, LedgerSpec

    year = int(params.get("year") or ctx.today().year)
    org_id = params.get("org") or None
    names = OrgNames(ctx.session)
    items = svc.payments(ctx, f"{year}-01", f"{year}-12", org_id=org_id)
    total = sum(p.amount_fen for p, _ in items)

    def rows():
        for p, m in items:
            yield (names.branch(m.org_id), m.name, CATEGORY_LABELS.get(m.category, m.category), p.month,
                   svc.fen_text(p.base_fen), svc.fen_text(p.amount_fen), p.paid_on)

    cols = [Column("党支部", "2*"), Column("姓名", 18), Column("人员类别", 16), Column("月份", 16),
            Column("计缴基数（元）", 24, align="right", kind="amount"), Column("党费（元）", 20, align="right", kind="amount"),
            Column("缴纳日期", 20, kind="date")]
    return LedgerSpec(title="党费收缴台账", unit_name=_unit(ctx), period=f"{year}年", columns=cols, rows=rows(),
                      group_by=0, subtotals=True, totals=("合计", "", "", f"{len(items)} 笔", "", svc.fen_text(total), ""))


def transfer_letter(ctx: ServiceContext, params: dict):
    """中国共产党党员组织关系介绍信: stub (存根), letter and receipt (回执) on one sheet."""
    from reports import DocumentSpec
    from reports.spec import date_text

    t = svc.get_transfer(ctx, int(params["transfer"]))
    if t.direction != "out":
        from shell.errors import ValidationError

        raise ValidationError("转入登记没有本单位开具的介绍信。", "transfer", t.id)
    m = t.member
    # The letter's purpose needs the full number; without the right it is printed masked.
    id_number = personal.reveal(ctx, m, "id_number")
    from_org = ctx.session.get(PartyOrg, t.from_org_id)
    stage = "正式" if m.stage == "full" else "预备"
    expires = t.issued_on + timedelta(days=t.valid_days or 0)
    paid = f"{t.dues_paid_to[:4]}年{int(t.dues_paid_to[5:])}月" if t.dues_paid_to else "（未登记）"
    dash = "—" * 18 + " 骑缝线 " + "—" * 18
    body = [
        f"【存根】{t.letter_number}　{m.name}同志（{m.sex}，{svc._age_text(m.birth_date, t.issued_on)}，{m.ethnicity}），"
        f"系中共{stage}党员，身份证号码 {id_number}，组织关系由{from_org.name}转到{t.other_party}。"
        f"党费已交到 {paid}。有效期 {t.valid_days} 天。开具日期 {date_text(t.issued_on)}。",
        dash,
        f"{t.other_party}：",
        f"{m.name}同志（{m.sex}，{svc._age_text(m.birth_date, t.issued_on)}，{m.ethnicity}），系中共{stage}党员，"
        f"身份证号码 {id_number}，由{from_org.name}去{t.other_party}，请转接组织关系。"
        f"该同志党费已交到 {paid}。（有效期 {t.valid_days} 天，至 {date_text(expires)} 止）",
        dash,
        f"【回执】{from_org.name}：{m.name}同志的党员组织关系已转达我处，特此回复。（介绍信编号 {t.letter_number}）"
        f"　　接收党组织（盖章）：________________　　　年　　月　　日",
    ]
    return DocumentSpec(title="中国共产党党员组织关系介绍信", number=t.letter_number,
                        fields=(("姓名", m.name), ("性别", m.sex), ("党员类别", f"{stage}党员"),
                                ("转出党组织", from_org.name), ("接收党组织", t.other_party), ("党费交至", paid),
                                ("有效期", f"{t.valid_days} 天"), ("回执应退回", date_text(t.receipt_due_on))),
                        body=body, issuer=(from_org.name,), signature=("经办人",), date=t.issued_on,
                        unit_name=_unit(ctx),
                        notes=("回执请接收党组织在一个月内寄回。",))


def report_definitions() -> list[ReportDefinition]:
    cat = "党建"
    return [
        ReportDefinition("partybuilding.roster", "党员花名册", roster, (ORG_PARAM,), svc.VIEW, cat),
        ReportDefinition("partybuilding.orgs", "党组织设置情况台账", org_ledger, (), svc.VIEW, cat),
        ReportDefinition("partybuilding.development", "发展党员工作台账", development_ledger, (YEAR_PARAM,), svc.VIEW, cat),
        ReportDefinition("partybuilding.transfers", "组织关系转接登记簿", transfer_ledger, (YEAR_PARAM,), svc.VIEW, cat),
        ReportDefinition("partybuilding.meetings", "三会一课记录台账", meeting_ledger, (YEAR_PARAM, ORG_PARAM), svc.VIEW, cat),
        ReportDefinition("partybuilding.dues", "党费收缴台账", dues_ledger, (YEAR_PARAM, ORG_PARAM), svc.VIEW, cat),
        ReportDefinition("partybuilding.transfer_letter", "党员组织关系介绍信", transfer_letter,
                         (ReportParameter("transfer", "转接记录编号", kind="int"),), svc.TRANSFER, cat),
    ]
