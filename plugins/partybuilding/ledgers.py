"""Ledgers and documents of the party-building plugin (report specs, no Qt). Rows are streamed
from the database; organisation names are looked up from one small in-memory map."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import select

from reports.spec import as_of, cn_date, cn_period
from shell.contracts import ReportDefinition, ReportParameter
from shell.core import personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.gcpause import gc_paused_rows

from . import services as svc
from .models import CATEGORY_LABELS, STATUS_LABELS, Attendance, Member, PartyOrg

ORG_PARAM = ReportParameter("org", "党组织编号（空 = 全部）", kind="int", required=False)
YEAR_PARAM = ReportParameter("year", "年度", kind="year", default=date.today().year)


def _head(ctx: ServiceContext, org_id: int | None = None) -> dict:
    """The header of a Party ledger: headed by the Party organisation of the actor's scope (or of the
    organisation asked for) that may head one — the 党工委, a 社区党委 or 党总支 (level ≤ 2), never the
    government office, a 党支部 or a 党小组; the printed scope is the area, or the organisation asked
    for by its full name (第一网格党支部 exists in three communities)."""
    from shell.core.areas import ancestors
    from shell.core.reporting import heading

    area, scope = None, ""
    if org_id:
        org = svc.get_org(ctx, int(org_id))
        area = ctx.session.get(Area, org.area_id)
        chain = [o for o in ctx.session.scalars(select(PartyOrg).where(PartyOrg.id.in_(
            [int(i) for i in org.path.strip("/").split("/") if i]))) if o.level >= 2]
        scope = " ".join(o.name for o in sorted(chain, key=lambda o: o.level))
    base = heading(ctx, area, party=True)
    committee = None
    if base.area is not None:
        areas = ancestors(ctx.session, base.area) + [base.area]
        ids = [a.id for a in areas if a.level in ("street", "community")]
        committee = ctx.session.scalars(
            select(PartyOrg).where(PartyOrg.area_id.in_(ids), PartyOrg.level <= 2, PartyOrg.dissolved_on.is_(None))
            .order_by(PartyOrg.level.desc(), PartyOrg.id).limit(1)).first()
    h = heading(ctx, area, party=True, party_org=committee.name if committee else None)
    return {"unit_name": h.unit, "scope": scope or h.scope}


class OrgNames:
    """id → organisation, and the 党支部 (level 3) an organisation belongs to."""

    def __init__(self, session):
        self.orgs = {o.id: o for o in session.scalars(select(PartyOrg))}

    def name(self, org_id: int | None) -> str:
        o = self.orgs.get(org_id)
        return o.name if o else ""

    def label(self, org_id: int | None) -> str:
        """“上级 / 名称”: 第一网格党支部 and 1号楼党小组 exist in many communities."""
        o = self.orgs.get(org_id)
        if o is None:
            return ""
        if o.level >= 4:   # a 党小组 or 中心户: its community committee and branch too (1号楼党小组 is everywhere)
            chain = [self.orgs.get(int(i)) for i in o.path.strip("/").split("/") if i]
            chain = [a for a in chain if a is not None and a.level >= 2]
            if len(chain) > 1:
                return " / ".join(a.name for a in chain)
        parent = self.orgs.get(o.parent_id)
        return f"{parent.name} / {o.name}" if parent is not None and o.level >= 3 else o.name

    def branch_of(self, org_id: int | None) -> int | None:
        o = self.orgs.get(org_id)
        if o is None or o.level <= 3:
            return org_id
        for i in (int(i) for i in o.path.strip("/").split("/") if i):
            anc = self.orgs.get(i)
            if anc is not None and anc.level == 3:
                return anc.id
        return org_id

    def branch(self, org_id: int | None) -> str:
        """The 党支部 an organisation belongs to, named with its parent (unambiguous in the street)."""
        return self.label(self.branch_of(org_id))

    def full(self, org_id: int | None) -> str:
        """The full name from the community committee down: 中共和平里社区委员会第一网格党支部2号楼党小组."""
        o = self.orgs.get(org_id)
        if o is None:
            return ""
        chain = [self.orgs.get(int(i)) for i in o.path.strip("/").split("/") if i] or [o]
        chain = [a for a in chain if a is not None and a.level >= 2] or [o]
        return "".join(a.name for a in chain)


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
    return LedgerSpec(title="党员花名册", **_head(ctx, params.get("org")), period=as_of(ctx.today()),
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
    return LedgerSpec(title="党组织设置情况台账", **_head(ctx), period=as_of(ctx.today()), columns=cols,
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
    return LedgerSpec(title="发展党员工作台账", **_head(ctx), period=f"{year}年", columns=cols, rows=rows(),
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
                   t.member.id_number, names.label(t.from_org_id) if out else t.other_party,
                   t.other_party if out else names.label(t.to_org_id), t.issued_on, t.valid_days or "",
                   t.dues_paid_to or "", t.receipt_on, status)

    cols = [Column("序号", 9, align="right", kind="int"), Column("类别", 10), Column("介绍信编号", "1.5*"), Column("姓名", 15),
            Column("公民身份号码", 33, mask="id"), Column("转出党组织", "1.5*"), Column("接收党组织", "1.5*"),
            Column("日期", 19, kind="date"), Column("有效天数", 12, align="right", kind="int"), Column("党费交至", 15),
            Column("回执日期", 19, kind="date"), Column("状态", 15)]
    return LedgerSpec(title="组织关系转接登记簿", **_head(ctx), period=f"{year}年", columns=cols, rows=rows(),
                      orientation="landscape", font_size=8)


def meeting_ledger(ctx: ServiceContext, params: dict):
    """三会一课记录台账: every meeting in the year with attendance."""
    from reports import Column, LedgerSpec

    year = int(params.get("year") or ctx.today().year)
    org_id = params.get("org") or None
    meetings = svc.list_meetings(ctx, date(year, 1, 1), date(year, 12, 31), org_id=org_id)
    names = OrgNames(ctx.session)
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
            # the attendance as recorded: a meeting without an attendance list says so (not 0 of 0)
            absent = "；".join(f"{n}（{r}）" for p, n, r in a if not p) if a else "未登记出勤"
            # the organisation last, past the columns: it heads its group instead of filling a column
            yield (m.held_on, svc.MEETING_KINDS.get(m.kind, m.kind), m.topic, m.host or "", m.recorder or "",
                   len(a) if a else None, sum(1 for p, _, _ in a if p) if a else None, absent, names.label(m.org_id))

    cols = [Column("日期", 25, kind="date"), Column("类型", 18), Column("主题", "2.5*"),
            Column("主持人", 15), Column("记录人", 15), Column("应到", 10, align="right", kind="int"),
            Column("实到", 10, align="right", kind="int"), Column("缺席人员及原因", "2*")]
    return LedgerSpec(title="三会一课记录台账", **_head(ctx, org_id), period=cn_period(date(year, 1, 1), date(year, 12, 31)),
                      columns=cols, rows=rows(), orientation="landscape", group_by=lambda r: r[-1], count_unit="次",
                      subtotals=True)


def dues_ledger(ctx: ServiceContext, params: dict):
    """党费收缴台账: one row per member, the year's 12 months as columns (the amount paid, “欠” for a
    month owed), with the bracket and base, the year's amount due and paid, the months owed, and a
    flag on a member with ``partybuilding.dues.flag_months`` (6) months in a row unpaid; grouped by
    党支部 with the amounts summed per branch and in total."""
    from reports import Column, LedgerSpec

    ctx.actor.require(svc.VIEW)
    year = int(params.get("year") or ctx.today().year)
    org_id = params.get("org") or None
    names = OrgNames(ctx.session)
    today = ctx.today()
    # owed up to the month before this one (this month's dues are not late yet)
    upto = f"{year}-12" if year < today.year else svc.month_key(svc.add_months(today.replace(day=1), -1))
    rules = svc.DuesRules(ctx.session)
    paid: dict[int, dict[str, int]] = {}
    bases: dict[int, int] = {}
    payers: dict[int, Member] = {}
    for p, m in svc.payments(ctx, f"{year}-01", f"{year}-12", org_id=org_id):
        paid.setdefault(m.id, {})[p.month] = p.amount_fen
        if p.base_fen is not None:
            bases[m.id] = p.base_fen
        payers[m.id] = m
    status = svc.dues_status(ctx, upto, org_id=org_id, rules=rules) if upto >= f"{year}-01" else []
    listed = {m.id for m, _a in status}
    # members who paid this year but are no longer on the rolls (transferred out …) are listed too
    entries = [(m, a) for m, a in status] + [(m, None) for mid, m in payers.items() if mid not in listed]
    entries.sort(key=lambda e: (names.orgs[names.branch_of(e[0].org_id)].path if names.branch_of(e[0].org_id) in names.orgs
                                else "~", e[0].name, e[0].id))
    months = [f"{year}-{k:02d}" for k in range(1, 13)]

    def bracket(m: Member) -> str:
        cat = m.category
        if cat in ("student", "unemployed", "dibao", "farmer") or m.fixed_dues_fen is not None:
            return "定额"
        bands = rules.bands("retired" if cat == "retired" else "employed")
        bp = svc.rate_for(bands, m.income_fen or 0)
        return f"{bp / 100:g}%"

    def money(v) -> str:
        return svc.fen_text(v) if isinstance(v, int) and not isinstance(v, bool) else ("" if v is None else str(v))

    sums = [0] * 15
    flagged = 0
    out = []
    for m, a in entries:
        mine = paid.get(m.id, {})
        owed = {mo for mo in (a.months if a else ()) if mo.startswith(f"{year}-")}
        cells = [mine[mo] if mo in mine else ("欠" if mo in owed else "") for mo in months]
        monthly = rules.monthly_fen(m)
        paid_fen = sum(mine.values())
        due_fen = paid_fen + len(owed) * monthly
        base = bases.get(m.id, m.income_fen if m.category in ("employed", "retired") else None)
        note = ""
        if a is not None and a.flagged:
            flagged += 1
            note = f"连续{a.trailing}个月未交"
        elif m.status != "normal" or m.id not in listed:
            note = STATUS_LABELS.get(m.status, m.status)
        for k, mo in enumerate(months):
            sums[k] += mine.get(mo, 0)
        sums[12] += due_fen
        sums[13] += paid_fen
        sums[14] += len(owed)
        # the branch last, past the columns: it heads the group instead of filling a column
        out.append((m.name, CATEGORY_LABELS.get(m.category, m.category), base or None, bracket(m), monthly,
                    *cells, due_fen, paid_fen, len(owed), note, names.branch(m.org_id) or "（已转出本街道）"))

    def amount(title, width, key=None):
        return Column(title, width, align="right", kind="amount", formatter=money, key=key)

    cols = [Column("姓名", 16), Column("类别", 11), amount("计缴基数", 17), Column("比例", 10, align="center"),
            amount("月应缴", 13),
            *(amount(f"{k}月", 12) for k in range(1, 13)),
            amount("应缴", 15), amount("实缴", 15), Column("欠缴月数", 11, align="right", kind="int"), Column("备注", "1*")]
    totals = (f"合计：{len(out)} 人", "", "", "", "", *sums[:12], sums[12], sums[13], sums[14],
              f"{flagged} 人连续欠缴" if flagged else "")
    return LedgerSpec(title="党费收缴台账", **_head(ctx, org_id),
                      period=cn_period(date(year, 1, 1), date(year, 12, 31))
                      + (f"（欠缴计至{int(upto[5:])}月）" if upto < f"{year}-12" else ""),
                      columns=cols, rows=out, orientation="landscape", font_size=7, group_by=lambda r: r[-1], count_unit="人",
                      subtotals=[5 + k for k in range(12)] + [17, 18, 19], totals=totals,
                      notes=(f"各月栏为实缴金额（元），“欠”为应缴未缴；连续{rules.flag_months}个月不交纳党费按党章规定须作出处理，已在备注中标明。",
                             "比例按月收入（税后工资或离退休费）分档；学生、无业、低保党员及农牧渔民按定额交纳。"))


def transfer_letter(ctx: ServiceContext, params: dict):
    """中国共产党党员组织关系介绍信: 存根, 介绍信 and 回执 on one A4 sheet in the standard wording,
    the letter number printed across each 骑缝 line. Issued and sealed by the member's 基层党委
    (``svc.letter_issuer``): a letter whose organisation has none above it is refused."""
    from reports import DocPart, DocumentSpec
    from reports.spec import date_text

    t = svc.get_transfer(ctx, int(params["transfer"]))
    if t.direction != "out":
        from shell.errors import ValidationError

        raise ValidationError("转入登记没有本单位开具的介绍信。", "transfer", t.id)
    m = t.member
    # The letter's purpose needs the full number; without the right it is printed masked.
    id_number = personal.reveal(ctx, m, "id_number")
    phone = personal.reveal(ctx, m.phone, "phone") if m.phone else "________________"
    from_org = ctx.session.get(PartyOrg, t.from_org_id)
    issuer = svc.letter_issuer(ctx.session, from_org)
    from_label = OrgNames(ctx.session).full(from_org.id)
    stage = "正式" if m.stage == "full" else "预备"
    age = svc.age_text(m.birth_date, t.issued_on)
    paid = f"{t.dues_paid_to[:4]}年{int(t.dues_paid_to[5:])}月" if t.dues_paid_to else "____年__月"
    issued = date_text(t.issued_on)
    blank_date = "　　　　年　　月　　日"
    parts = (
        DocPart("中国共产党党员组织关系介绍信（存根）", weight=1.0, body=(
            f"{m.name}同志系中共{stage}党员，组织关系由{from_label}转到{t.other_party}。",
            f"党费已交到{paid}。有效期{t.valid_days}天。",
        ), closing=(issued,), footer=(f"经办人：{ctx.actor.display_name}　　开具单位：{issuer.name}",)),
        DocPart("中国共产党党员组织关系介绍信", weight=1.6, salutation=f"{t.other_party}：", body=(
            f"{m.name}同志（{m.sex}），{age}，{m.ethnicity}，系中共{stage}党员，身份证号码{id_number}，"
            f"由{from_label}去{t.other_party}，请转接组织关系。",
            f"该同志党费已交到{paid}。",
            f"（有效期{t.valid_days}天，至{date_text(t.issued_on + timedelta(days=t.valid_days or 0))}止）",
        ), closing=(issuer.name, issued), seal=True, footer=(
            f"党员联系电话或其他联系方式：{phone}",
            f"党员原所在基层党委：{issuer.name}　　联系电话：________________　　邮编：________",
        )),
        DocPart("中国共产党党员组织关系介绍信回执", weight=1.2, salutation=f"{issuer.name}：", body=(
            f"{m.name}同志的党员组织关系已转达我处，特此回复。",
            f"请于{date_text(t.receipt_due_on)}前寄回本回执。" if t.receipt_due_on else "请于一个月内寄回本回执。",
        ), closing=("接收党组织（盖章）", blank_date), footer=("经办人：____________　　联系电话：________________",)),
    )
    return DocumentSpec(title="中国共产党党员组织关系介绍信", number=t.letter_number, parts=parts,
                        issuer=(issuer.name,), date=t.issued_on, unit_name=issuer.name)


def _months_between(start: date, end: date) -> int:
    return max(0, (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day))


def mobile_ledger(ctx: ServiceContext, params: dict):
    """流动党员台账: members away from the street (外出流向 and since when), by 党支部, as of today."""
    from reports import Column, LedgerSpec

    names = OrgNames(ctx.session)
    today = ctx.today()
    members = sorted(svc.mobile_members(ctx), key=lambda m: (names.orgs[m.org_id].path if m.org_id in names.orgs else "~",
                                                             m.mobile_since or today, m.id))
    last_paid = {m.id: svc.last_paid_month(ctx.session, m.id) for m in members}
    rows = [(i, m.name, m.sex, m.id_number, m.phone or "", m.mobile_destination, m.mobile_since,
             _months_between(m.mobile_since, today) if m.mobile_since else None,
             f"{last_paid[m.id][:4]}年{int(last_paid[m.id][5:])}月" if last_paid[m.id] else "未交",
             STATUS_LABELS.get(m.status, m.status), names.branch(m.org_id))
            for i, m in enumerate(members, start=1)]
    cols = [Column("序号", 9, align="right", kind="int"), Column("姓名", 15), Column("性别", 9, align="center"),
            Column("公民身份号码", 33, mask="id"), Column("联系电话", 24, mask="phone"), Column("外出流向", "2*"),
            Column("外出日期", 20, kind="date"), Column("外出月数", 13, align="right", kind="int"),
            Column("党费交至", 18), Column("党籍状态", 13)]
    return LedgerSpec(title="流动党员台账", **_head(ctx), period=as_of(today), columns=cols, rows=rows,
                      orientation="landscape", group_by=lambda r: r[-1],
                      totals=("合计", f"{len(rows)} 人", "", "", "", "", "", "", "", ""),
                      notes=("外出六个月以上且地点相对固定的，应转移正式组织关系；其余作为流动党员，由所在党支部保持联系、"
                             "落实组织生活，党费按月交纳。",))


def lost_ledger(ctx: ServiceContext, params: dict):
    """失联党员台账: members out of contact for ``partybuilding.lost_contact_months`` (6) or more."""
    from reports import Column, LedgerSpec

    names = OrgNames(ctx.session)
    today = ctx.today()
    months = svc.setting(ctx.session, "partybuilding.lost_contact_months")
    members = sorted(svc.lost_contact_members(ctx), key=lambda m: (names.orgs[m.org_id].path if m.org_id in names.orgs
                                                                   else "~", m.lost_contact_on, m.id))
    rows = []
    for i, m in enumerate(members, start=1):
        last = svc.last_paid_month(ctx.session, m.id)
        rows.append((i, m.name, m.sex, m.id_number, m.birth_date, m.phone or "", m.address or "", m.lost_contact_on,
                     _months_between(m.lost_contact_on, today), f"{last[:4]}年{int(last[5:])}月" if last else "未交",
                     STATUS_LABELS.get(m.status, m.status), names.branch(m.org_id)))
    cols = [Column("序号", 9, align="right", kind="int"), Column("姓名", 15), Column("性别", 9, align="center"),
            Column("公民身份号码", 33, mask="id"), Column("出生日期", 20, kind="date"), Column("原联系电话", 24, mask="phone"),
            Column("家庭住址", "2*"), Column("失联日期", 20, kind="date"), Column("失联月数", 13, align="right", kind="int"),
            Column("党费交至", 18), Column("党籍状态", 13)]
    return LedgerSpec(title="失联党员台账", **_head(ctx), period=as_of(today), columns=cols, rows=rows,
                      orientation="landscape", group_by=lambda r: r[-1],
                      totals=("合计", f"{len(rows)} 人", "", "", "", "", "", "", "", "", ""),
                      notes=(f"失联：与党组织失去联系满{months}个月。党支部应多方查找、及时报告，"
                             "查找期间保留其党籍，逐人建立查找记录。",))


def community_report_ledger(ctx: ServiceContext, params: dict):
    """在职党员双报到台账: who reported to which community, their workplace and Party organisation,
    and their service in the community in the year (times and hours), by community."""
    from reports import Column, LedgerSpec

    year = int(params.get("year") or ctx.today().year)
    area_id = params.get("area") or None
    items = svc.community_reports(ctx, year, area_id=int(area_id) if area_id else None)

    def hours(v):
        return f"{v / 60:.1f}" if isinstance(v, (int, float)) else ("" if v is None else str(v))

    rows = [(r.name, r.phone or "", r.workplace, r.workplace_org or "", r.reported_on,
             f"{cn_date(r.ended_on)}离开" if r.ended_on else "在册", r.services, r.minutes, r.community)
            for r in items]
    cols = [Column("姓名", 18), Column("联系电话", 24, mask="phone"),
            Column("工作单位", "2*"), Column("所在党组织", "2*"), Column("报到日期", 20, kind="date"),
            Column("状态", 20), Column("服务次数", 13, align="right", kind="int"),
            Column("服务时长（小时）", 18, align="right", kind="hours", formatter=hours)]
    return LedgerSpec(title="在职党员双报到台账", **_head(ctx, None), period=cn_period(date(year, 1, 1), date(year, 12, 31)),
                      columns=cols, rows=rows, orientation="landscape", group_by=lambda r: r[-1], subtotals=[6, 7],
                      totals=(f"合计：{len(rows)} 人", "", "", "", "", "", sum(r.services for r in items),
                              sum(r.minutes for r in items)),
                      notes=("在职党员到居住地社区报到，参加社区组织的志愿服务等活动；服务次数与时长为统计期间内的记录。",))


# kinds of the 三会一课 summary, in the order printed
SUMMARY_KINDS = ("assembly", "committee", "group", "lecture", "theme_day", "life_meeting", "appraisal")


def compliance_ledger(ctx: ServiceContext, params: dict):
    """三会一课落实情况汇总表: per 党支部 and meeting kind, meetings held against those required in
    the year so far (a 党小组's meetings count for its branch), the periods missed, and the result."""
    from reports import Column, LedgerSpec

    year = int(params.get("year") or ctx.today().year)
    org_id = params.get("org") or None
    names = OrgNames(ctx.session)
    rows_in = svc.compliance(ctx, year, org_id=int(org_id) if org_id else None)
    per: dict[int, dict[str, list[int]]] = {}
    for r in rows_in:
        br = names.branch_of(r.org_id)
        cell = per.setdefault(br, {}).setdefault(r.kind, [0, 0, 0])
        cell[0] += r.required
        cell[1] += r.held
        cell[2] += r.status == "missing"
    order = sorted(per, key=lambda b: names.orgs[b].path if b in names.orgs else "~")
    rows = []
    sums = [0] * (2 * len(SUMMARY_KINDS) + 1)
    for i, b in enumerate(order, start=1):
        cells, missed = [], 0
        for k, kind in enumerate(SUMMARY_KINDS):
            req, held, miss = per[b].get(kind, (None, None, 0))
            cells += [req, held]
            missed += miss
            sums[2 * k] += req or 0
            sums[2 * k + 1] += held or 0
        sums[-1] += missed
        rows.append((i, names.label(b), *cells, missed, "落实" if not missed else f"缺{missed}项"))
    cols = [Column("序号", 9, align="right", kind="int"), Column("党支部", "2*")]
    for kind in SUMMARY_KINDS:
        label = svc.MEETING_KINDS[kind]
        cols += [Column(f"{label}应开", 13, align="right", kind="int"), Column(f"{label}实开", 13, align="right", kind="int")]
    cols += [Column("缺项", 10, align="right", kind="int"), Column("落实情况", 16)]
    rules = svc.meeting_rules(ctx.session)
    rule_text = "；".join(rules[k].label for k in SUMMARY_KINDS if k in rules and rules[k].active)
    today = ctx.today()
    end = date(year, 12, 31) if year < today.year else today
    return LedgerSpec(title="三会一课落实情况汇总表", **_head(ctx, org_id), period=cn_period(date(year, 1, 1), end),
                      columns=cols, rows=rows, orientation="landscape", font_size=7.5,
                      totals=("合计", f"{len(rows)} 个党支部", *sums),
                      notes=(f"应开次数按已到期和进行中的周期计：{rule_text}。党小组会计入所属党支部；"
                             "支委会到会不过半的不计入。缺项为已结束而未达要求的周期数。",))


def life_meeting_ledger(ctx: ServiceContext, params: dict):
    """组织生活会和民主评议党员记录: each meeting with host and recorder by name, the attendance
    recorded (listed, present, absent with reason) and the minutes."""
    from reports import Column, LedgerSpec

    year = int(params.get("year") or ctx.today().year)
    org_id = params.get("org") or None
    names = OrgNames(ctx.session)
    items = [s_ for s_ in svc.meeting_summaries(ctx, date(year, 1, 1), date(year, 12, 31),
                                                org_id=int(org_id) if org_id else None)
             if s_.meeting.kind in ("life_meeting", "appraisal")]
    items.sort(key=lambda s_: (names.orgs[s_.meeting.org_id].path if s_.meeting.org_id in names.orgs else "~",
                               s_.meeting.held_on, s_.meeting.kind != "life_meeting", s_.meeting.id))
    rows = []
    for i, s_ in enumerate(items, start=1):
        mt = s_.meeting
        rows.append((i, mt.held_on, svc.MEETING_KINDS[mt.kind], mt.topic, mt.host or "", mt.recorder or "",
                     s_.listed if s_.listed else None, s_.present if s_.listed else None,
                     "；".join(f"{n}（{r}）" for n, r in s_.absent) if s_.listed else "未登记出勤",
                     mt.minutes or "", names.label(mt.org_id)))
    cols = [Column("序号", 9, align="right", kind="int"), Column("日期", 20, kind="date"), Column("类型", 20),
            Column("主题", "1.5*"), Column("主持人", 15), Column("记录人", 15), Column("应到", 10, align="right", kind="int"),
            Column("实到", 10, align="right", kind="int"), Column("缺席人员及原因", "1.5*"), Column("主要内容", "2*")]
    return LedgerSpec(title="组织生活会和民主评议党员记录", **_head(ctx, org_id),
                      period=cn_period(date(year, 1, 1), date(year, 12, 31)), columns=cols, rows=rows,
                      orientation="landscape", group_by=lambda r: r[-1],
                      totals=("合计", f"{len(rows)} 次", "", "", "", "", sum(s_.listed for s_ in items),
                              sum(s_.present for s_ in items), "", ""),
                      empty_text="统计期间内没有组织生活会和民主评议党员记录")


def member_form(ctx: ServiceContext, params: dict):
    """党员信息采集表: the national 16 items of one member on one page, signed by the member, the
    collector and the branch secretary."""
    from reports import DocumentSpec

    ctx.actor.require(svc.VIEW)
    m = svc.get_member(ctx, int(params["member"]))
    raw = personal.unmasked(m)
    names = OrgNames(ctx.session)
    lost = f"是（{cn_date(raw.lost_contact_on)}失联）" if raw.lost_contact_on else "否"
    mobile = f"是（{raw.mobile_destination}）" if raw.mobile_destination else "否"
    fields = (("姓名", raw.name), ("性别", raw.sex), ("民族", raw.ethnicity),
              ("公民身份号码", personal.reveal(ctx, m, "id_number")), ("出生日期", cn_date(raw.birth_date)),
              ("学历", raw.education or ""), ("人员类别", CATEGORY_LABELS.get(raw.category, raw.category)),
              ("所在党支部", names.full(names.branch_of(raw.org_id))), ("加入党组织日期", cn_date(raw.admitted_on)),
              ("转为正式党员日期", cn_date(raw.full_on) if raw.full_on else "（预备党员）"), ("工作岗位", raw.job or ""),
              ("联系电话", personal.reveal(ctx, raw.phone, "phone") if raw.phone else ""), ("家庭住址", raw.address or ""),
              ("党籍状态", STATUS_LABELS.get(raw.status, raw.status)), ("是否失联", lost), ("是否流动", mobile))
    branch = names.orgs.get(names.branch_of(raw.org_id))
    return DocumentSpec(title="党员信息采集表", fields=fields, unit_name=_head(ctx, raw.org_id)["unit_name"],
                        body=("本人确认以上信息真实、准确、完整。",),
                        signature=("党员本人", "信息采集人", "党支部书记"),
                        issuer=(names.full(branch.id) if branch else "",), seal=True,
                        notes=("本表一人一页，由党员本人核对签字，信息采集人、党支部书记签字后存档。",))


MEMBER_PARAM = ReportParameter("member", "党员编号", kind="int")


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
        ReportDefinition("partybuilding.member_form", "党员信息采集表", member_form, (MEMBER_PARAM,), svc.VIEW, cat),
        ReportDefinition("partybuilding.mobile", "流动党员台账", mobile_ledger, (), svc.VIEW, cat),
        ReportDefinition("partybuilding.lost", "失联党员台账", lost_ledger, (), svc.VIEW, cat),
        ReportDefinition("partybuilding.community_reports", "在职党员双报到台账", community_report_ledger,
                         (YEAR_PARAM, ReportParameter("area", "报到社区（留空为全部）", kind="area", required=False)),
                         svc.VIEW, cat),
        ReportDefinition("partybuilding.compliance", "三会一课落实情况汇总表", compliance_ledger, (YEAR_PARAM, ORG_PARAM),
                         svc.VIEW, cat),
        ReportDefinition("partybuilding.life_meetings", "组织生活会和民主评议党员记录", life_meeting_ledger,
                         (YEAR_PARAM, ORG_PARAM), svc.VIEW, cat),
    ]
