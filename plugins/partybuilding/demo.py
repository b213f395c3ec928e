"""Demo data: a street's five-level party organisation on the demo areas, with members at every
development stage, a few transfers, this year's meetings and dues. Everything goes through the
services (so the demo obeys the same rules as real input); nothing is committed here."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from shell.core.areas import list_areas
from shell.core.context import Actor, ServiceContext
from shell.core.demo_people import DemoPeople

from . import services as svc
from .models import Member

EDUCATION = ("初中", "高中", "中专", "大专", "大学本科", "大学本科", "研究生")
JOBS = ("社区工作者", "教师", "医生", "工人", "退休职工", "个体经营", "公务员", "企业职员", "学生")
REGION = "110105"


def _unique_id(people: DemoPeople, birth: date, sex: str, used: set[str], region: str = REGION) -> str:
    while True:
        number = people.id_number(birth, sex, region)
        if number not in used:
            used.add(number)
            return number


def _date_between(rng, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days))


def seed(session, scale, rng) -> None:
    if scale in BULK:   # the street of issue 9 and its tenth: bulk inserts, consistent by construction
        orgs, members = BULK[scale]
        seed_bulk(session, rng, orgs=orgs, members=members)
        return
    ctx = ServiceContext(session, Actor.system())
    today = ctx.today()
    people = DemoPeople(rng)
    streets = list_areas(session, level="street")
    if not streets:
        return
    street = streets[0]
    used = set(session.scalars(select(Member.id_number)))
    top = svc.create_org(ctx, f"中共{street.name}工作委员会", "working_committee", area_id=street.id,
                         founded_on=date(2003, 7, 1), secretary=people.name(), has_committee=True, committee_size=7,
                         committee_elected_on=date(2022, 6, 28))
    communities = [a for a in list_areas(session, level="community") if a.path.startswith(street.path)]
    grids = list_areas(session, level="grid")
    branches = []
    for ci, community in enumerate(communities):
        kind = "community_committee" if ci % 3 != 2 else "general_branch"
        elected = date(2021 + ci % 4, 3 + ci % 6, 10)
        cmt = svc.create_org(ctx, f"中共{community.name}{'委员会' if kind == 'community_committee' else '总支部委员会'}",
                             kind, parent_id=top.id, area_id=community.id, founded_on=date(2005, 1, 1),
                             secretary=people.name(), has_committee=True,
                             committee_size=5 if kind == "community_committee" else 3,
                             committee_elected_on=elected)
        for gi, grid in enumerate(g for g in grids if g.parent_id == community.id):
            has_cmt = gi % 2 == 0
            br = svc.create_org(ctx, f"{grid.name}党支部", "branch", parent_id=cmt.id, area_id=grid.id,
                                founded_on=date(2010 + gi % 8, 7, 1), secretary=people.name(), has_committee=has_cmt,
                                committee_size=3 if has_cmt else None,
                                committee_elected_on=date(2019 + gi % 6, 5, 20) if has_cmt else None)
            groups = []
            for k in range(1, 3):
                grp = svc.create_org(ctx, f"{k}号楼党小组", "group", parent_id=br.id, founded_on=date(2018, 3, 1))
                hh = svc.create_org(ctx, f"{k}号楼党员中心户", "household", parent_id=grp.id, founded_on=date(2019, 5, 1))
                svc.set_households(ctx, hh.id, [f"{k}号楼{u}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}室 {people.name()}家"
                                                for u in range(1, 4)])
                groups.append(grp)
            branches.append((br, groups))
    for br, groups in branches:
        _seed_members(ctx, rng, br, groups, used, today)
    _seed_activity(ctx, rng, branches, today)
    _seed_reports(ctx, rng, communities, today)


WORKPLACES = (("区教育局", "中共区教育局机关委员会"), ("区人民医院", "中共区人民医院委员会"),
              ("区税务局", "中共区税务局委员会"), ("市自来水公司", "中共市自来水公司委员会"),
              ("区第一中学", "中共区第一中学支部委员会"))
SERVICES = ("慰问独居老人", "垃圾分类宣传值守", "社区环境整治", "疫苗接种点志愿服务", "文明交通劝导", "关爱留守儿童")


def _seed_reports(ctx, rng, communities, today) -> None:
    """在职党员双报到: a few per community, with services this year."""
    people = DemoPeople(rng)
    for community in communities:
        for _ in range(rng.randint(3, 6)):
            work, org = rng.choice(WORKPLACES)
            r = svc.register_report(ctx, area_id=community.id, name=people.name(), workplace=work, workplace_org=org,
                                    phone=f"13{rng.randint(100000000, 999999999)}",
                                    reported_on=min(today, date(today.year - rng.randint(0, 2), rng.randint(1, 3),
                                                                rng.randint(1, 28))))
            for _ in range(rng.randint(0, 5)):
                served = _date_between(rng, max(r.reported_on, date(today.year, 1, 1)), today)
                svc.record_community_service(ctx, r.id, served, rng.choice(SERVICES), rng.choice((60, 90, 120, 180, 240)))


def _seed_members(ctx, rng, branch, groups, used, today) -> None:
    count = rng.randint(5, 14)
    people = DemoPeople(rng)
    for _ in range(count):
        sex = people.sex(0.55)
        roll = rng.random()
        if roll < 0.72:
            stage = "full"
        elif roll < 0.82:
            stage = "probationary"
        elif roll < 0.88:
            stage = "candidate"
        elif roll < 0.94:
            stage = "activist"
        else:
            stage = "applicant"
        retired = stage == "full" and rng.random() < 0.35
        if retired:
            birth = _date_between(rng, date(1940, 1, 1), date(1964, 12, 31))
        else:
            birth = _date_between(rng, date(1966, 1, 1), date(2001, 12, 31))
        if stage == "full":
            admitted = _date_between(rng, max(svc.add_months(birth, 12 * 21), date(1965, 1, 1)),
                                     today - timedelta(days=420))
            dates = dict(applied_on=admitted - timedelta(days=800), activist_on=admitted - timedelta(days=700),
                         candidate_on=admitted - timedelta(days=120), admitted_on=admitted,
                         full_on=svc.add_months(admitted, 12))
        elif stage == "probationary":
            admitted = today - timedelta(days=rng.randint(200, 400))
            dates = dict(applied_on=admitted - timedelta(days=800), activist_on=admitted - timedelta(days=700),
                         candidate_on=admitted - timedelta(days=120), admitted_on=admitted)
        else:
            applied = today - timedelta(days=rng.randint(400, 900))
            dates = dict(applied_on=applied)
            if stage in ("activist", "candidate"):
                dates["activist_on"] = applied + timedelta(days=60)
            if stage == "candidate":
                dates["candidate_on"] = applied + timedelta(days=370)
        org = rng.choice(groups) if groups and rng.random() < 0.5 else branch
        category = "retired" if retired else rng.choice(("employed",) * 6 + ("student", "unemployed", "farmer"))
        income = rng.randrange(150000, 1500000, 5000) if category in ("employed", "retired") else None
        m = svc.create_member(
            ctx, name=people.name(sex), id_number=_unique_id(people, birth, sex, used), org_id=org.id, stage=stage,
            joined_on=max(date(today.year, 1, 1), dates["admitted_on"]) if "admitted_on" in dates else None,
            education=rng.choice(EDUCATION), category=category, job="退休职工" if retired else rng.choice(JOBS),
            phone=people.phone(), address=f"{branch.name[:-3]}{rng.randint(1, 12)}号楼",
            income_fen=income, **dates)
        if m.is_party_member and rng.random() < 0.05:
            svc.set_mobile(ctx, m.id, rng.choice(("广东省深圳市", "上海市浦东新区", "江苏省苏州市")),
                           today - timedelta(days=rng.randint(30, 300)))
        elif m.is_party_member and rng.random() < 0.02:
            svc.set_lost_contact(ctx, m.id, today - timedelta(days=rng.randint(100, 500)))


def _seed_activity(ctx, rng, branches, today) -> None:
    start = date(today.year, 1, 1)
    for br, groups in branches:
        members = svc.list_members(ctx, org_id=br.id, stages=("probationary", "full"))
        # Host and recorder by name, as the records are kept: the secretary hosts, a member records;
        # a 党小组's meeting is hosted by its first member (the 党小组长) and recorded by the next.
        host = br.secretary or (members[0].name if members else "")
        recorder = next((m.name for m in members if m.name != host), host)
        group_people = {}
        for grp in groups:
            names_ = [m.name for m in svc.list_members(ctx, org_id=grp.id, stages=("probationary", "full"))]
            group_people[grp.id] = (names_[0] if names_ else host, names_[1] if len(names_) > 1 else recorder)
        # Meetings month by month, with some gaps so the compliance view has findings.
        month = start
        while month <= today:
            held = min(today, month + timedelta(days=rng.randint(5, 20)))
            if held >= month:
                present_ids = svc._members_of_subtree_on(ctx, br, held)
                att = [svc.AttendanceEntry(m.id, True) if rng.random() < 0.85 else
                       svc.AttendanceEntry(m.id, False, rng.choice(("出差", "生病", "外出务工", "家中有事")))
                       for m in members if m.id in present_ids]
                if rng.random() < 0.85:
                    svc.record_meeting(ctx, br.id, "theme_day", held, f"{held.month}月主题党日：学习贯彻会议精神",
                                       host=host, recorder=recorder, attendance=att,
                                       minutes="集中学习、交流发言、开展志愿服务。")
                if br.has_committee and rng.random() < 0.8:
                    svc.record_meeting(ctx, br.id, "committee", held, f"{held.month}月支委会：研究本月工作",
                                       host=host, recorder=recorder)
                if month.month in (3, 6, 9, 12) and rng.random() < 0.9:
                    svc.record_meeting(ctx, br.id, "assembly", held, "党员大会：通报季度工作", host=host,
                                       recorder=recorder, attendance=att)
                    svc.record_meeting(ctx, br.id, "lecture", held, "党课：党章党规学习", host=host,
                                       recorder=recorder, attendance=att)
                if month.month == 1:
                    # the previous year's 组织生活会 and 民主评议党员, held together in January
                    svc.record_meeting(ctx, br.id, "life_meeting", held, f"{held.year - 1}年度专题组织生活会",
                                       host=host, recorder=recorder, attendance=att,
                                       minutes="对照检查、开展批评和自我批评，制定整改措施。")
                    svc.record_meeting(ctx, br.id, "appraisal", held, f"{held.year - 1}年度民主评议党员",
                                       host=host, recorder=recorder, attendance=att,
                                       minutes="个人自评、党员互评、民主测评，支部评定等次。")
                for grp in groups:
                    if rng.random() < 0.7:
                        svc.record_meeting(ctx, grp.id, "group", held, f"{held.month}月党小组学习",
                                           host=group_people[grp.id][0], recorder=group_people[grp.id][1])
            month = svc.add_months(month, 1)
        # Dues up to last month for most members.
        for m in members:
            paid_to = svc.add_months(date(today.year, today.month, 1), -rng.choice((1, 1, 1, 2, 7)))
            mo = max(date(today.year, 1, 1), date(m.admitted_on.year, m.admitted_on.month, 1))
            while mo <= paid_to:
                svc.record_payment(ctx, m.id, svc.month_key(mo), paid_on=min(today, mo + timedelta(days=10)))
                mo = svc.add_months(mo, 1)
    # A couple of transfers: one out (receipt pending), one back.
    for br, _ in branches[:2]:
        fulls = svc.list_members(ctx, org_id=br.id, stages=("full",))
        if len(fulls) > 4:
            svc.issue_transfer_letter(ctx, fulls[-1].id, "中共某某区某某街道某某社区委员会", on=today - timedelta(days=40),
                                      reason="工作调动")


# ============================================================================= the bulk street (medium, large)
#
# Issue 9's street: 2,000 organisations, 10,000 party members (plus people in the pipeline and members
# who transferred out), five years of 三会一课 with attendance and five years of monthly dues. Written
# with BulkWriter (Core executemany; ids assigned here), so rows are built as plain dicts and every
# rule the services enforce is kept by construction: stage dates in order and never in the future,
# 18 at application, membership periods that cover every attendance, dues from the ledger's first
# month at each member's bracket, letter numbers handed out in order with the counters moved past them.

BULK = {"medium": (200, 1000), "large": (2000, 10000)}   # organisations, party members
YEARS = 5
REGIONS = ("330102", "330105", "330106", "330108", "330110", "330104")
NONPUBLIC = ("科技有限公司", "物业服务有限公司", "商贸有限公司", "建设工程有限公司", "社会工作服务中心", "养老服务中心",
             "律师事务所", "幼儿园", "餐饮管理有限公司", "物流有限公司")
BRAND = "恒信华泰博远启明鸿达宏盛瑞丰安和嘉禾德润"
OUTSIDE = ("中共杭州市西湖区北山街道委员会", "中共杭州市拱墅区米市巷街道委员会", "中共宁波市海曙区南门街道委员会",
           "中共上海市浦东新区花木街道委员会", "中共绍兴市越城区府山街道委员会", "中共温州市鹿城区五马街道委员会")
STREETS = ("青石路", "和平路", "解放路", "建国路", "庆春路", "凤起路", "中河路", "环城东路", "望江路", "清泰街")
THEMES = ("学习贯彻党的二十大精神", "党章党规专题学习", "主题教育集中学习", "学习新修订的《中国共产党纪律处分条例》",
          "“我为群众办实事”交流", "垃圾分类志愿服务", "清廉社区建设座谈", "重温入党誓词", "红色教育基地参观学习",
          "社区防汛防台准备", "关爱独居老人走访", "党史学习教育")
ABSENCE = ("出差", "生病", "外出务工", "家中有事", "值班", "外出学习")
MOBILE_TO = ("广东省深圳市", "上海市浦东新区", "江苏省苏州市", "北京市朝阳区", "浙江省宁波市")


def _month_start(d: date) -> date:
    return date(d.year, d.month, 1)


def _mdate(rng, month: date, today: date, lo: int = 3, hi: int = 25) -> date | None:
    """A day in ``month`` (None when that day has not come yet this month)."""
    d = date(month.year, month.month, rng.randint(lo, hi))
    return d if d <= today else None


def seed_bulk(session, rng, orgs: int = 2000, members: int = 10000, years: int = YEARS,
              today: date | None = None) -> dict[str, int]:
    """The bulk street on the demo's areas: ``orgs`` organisations and ``members`` party members on
    the rolls, ``years`` of meetings and dues up to ``today``. Returns the row counts per table."""
    people = DemoPeople(rng)
    from types import SimpleNamespace

    from shell.core import settings as core_settings
    from shell.core.models import Area
    from shell.db.bulk import BulkWriter
    from shell.text import name_pinyin, pinyin_initials

    from .models import (
        Attendance,
        CommunityReport,
        CommunityService,
        Counter,
        DuesPayment,
        Meeting,
        Membership,
        OrgEvent,
        PartyOrg,
        Transfer,
    )

    ctx = ServiceContext(session, Actor.system())
    today = today or ctx.today()
    street = session.scalar(select(Area).where(Area.level == "street").order_by(Area.id))
    if street is None:
        return {}
    areas = list(session.scalars(select(Area).where(Area.path.startswith(street.path), Area.level.in_(("community", "grid")))
                                 .order_by(Area.sort_order, Area.id)))
    communities = [a for a in areas if a.level == "community"]
    grids_of = {c.id: [g for g in areas if g.parent_id == c.id] for c in communities}
    w = BulkWriter(session)
    window = date(today.year - years + 1, 1, 1)   # the ledger's first month: five calendar years, this one included
    since = svc.month_key(window)
    used = set(session.scalars(select(Member.id_number)))

    # ---------------------------------------------------------------- organisations (ids known up front)
    next_id = (session.scalar(select(func.max(PartyOrg.id))) or 0) + 1
    org_rows: list[dict] = []

    def org(parent, kind, name, area_id, founded, **extra):
        oid = next_id + len(org_rows)
        row = dict(parent_id=parent["id"] if parent else None, kind=kind, level=svc.ORG_KINDS[kind][0], name=name,
                   area_id=area_id, path=(parent["path"] if parent else "/") + f"{oid}/", sort_order=len(org_rows),
                   founded_on=founded, dissolved_on=None, dissolved_reason=None, secretary=None,
                   has_committee=False, committee_size=None, committee_elected_on=None, households=None,
                   created_by=None, id=oid)
        row.update(extra)
        org_rows.append(row)
        return row

    top = org(None, "working_committee", f"中共{street.name}工作委员会", street.id, date(2003, 7, 1),
              secretary=people.name(), has_committee=True, committee_size=7,
              committee_elected_on=today - timedelta(days=rng.randint(200, 1500)))
    branches: list[dict] = []       # grid branches and 两新 branches
    groups_of: dict[int, list[dict]] = {}
    nonpublic_per_community = 5
    for ci, c in enumerate(communities):
        kind = "community_committee" if ci % 3 != 2 else "general_branch"
        cmt = org(top, kind, f"中共{c.name}{'委员会' if kind == 'community_committee' else '总支部委员会'}", c.id,
                  date(2005, 1, 1), secretary=people.name(), has_committee=True,
                  committee_size=5 if kind == "community_committee" else 3,
                  committee_elected_on=today - timedelta(days=rng.randint(100, 1700)))
        for gi, g in enumerate(grids_of[c.id]):
            branches.append(org(cmt, "branch", f"{g.name}党支部", g.id, date(2010 + gi % 7, 7, 1), secretary=people.name()))
        # 非公有制经济组织和社会组织 (两新): a joint general branch per community with its branches.
        joint = org(top, "general_branch", f"中共{c.name}两新组织联合总支部委员会", c.id, date(2012, 6, 1),
                    secretary=people.name(), has_committee=True, committee_size=3,
                    committee_elected_on=today - timedelta(days=rng.randint(100, 1700)))
        for k in range(nonpublic_per_community):
            unit = f"杭州{rng.choice(BRAND)}{rng.choice(BRAND)}{rng.choice(NONPUBLIC)}"
            # A few were founded inside the window: their meetings start then.
            founded = (window + timedelta(days=rng.randint(60, 700))) if rng.random() < 0.1 else date(2015 + k % 5, 3, 1)
            branches.append(org(joint, "branch", f"中共{unit}支部委员会", c.id, founded, secretary=people.name()))
    grid_branches = [b for b in branches if b["name"].endswith("网格党支部")]
    remaining = orgs - len(org_rows)
    n_groups = min(2 * len(grid_branches), max(0, remaining * 11 // 20))
    for k in range(n_groups):
        b = grid_branches[k % len(grid_branches)]
        n = len(groups_of.setdefault(b["id"], [])) + 1
        groups_of[b["id"]].append(org(b, "group", f"{n}号楼党小组", b["area_id"], date(2015 + k % 4, 3, 1)))
    all_groups = [g for gs in groups_of.values() for g in gs]
    k = 0
    while len(org_rows) < orgs and all_groups:
        g = all_groups[k % len(all_groups)]
        n = k // len(all_groups) + 1
        building = g["name"].removesuffix("号楼党小组")
        org(g, "household", f"{building}号楼党员中心户" + (f"（{n}）" if n > 1 else ""), g["area_id"], date(2019, 5, 1),
            households="\n".join(f"{building}号楼{u}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}室 {people.name()}家"
                                 for u in range(1, 4)))
        k += 1
    branch_of = {}   # any organisation at level ≥ 3 → its branch id
    by_id = {o["id"]: o for o in org_rows}
    for o in org_rows:
        if o["level"] >= 3:
            node = o
            while node["level"] > 3:
                node = by_id[node["parent_id"]]
            branch_of[o["id"]] = node["id"]

    # ---------------------------------------------------------------- party members per branch
    grid_ids = {b["id"] for b in grid_branches}
    weights = [rng.uniform(0.6, 1.4) if b["id"] in grid_ids else rng.uniform(0.25, 0.6) for b in branches]
    picked = rng.sample(range(len(branches)), max(1, len(branches) // 250) + max(1, len(branches) // 150))
    big = set(picked[:max(1, len(branches) // 250)])     # over 50 members: the findings say split it
    small = set(picked[len(big):])                       # under 3 full members: merge or strengthen
    fixed = {i: rng.randint(52, 60) for i in big} | {i: 2 for i in small}
    total_w = sum(weights[i] for i in range(len(branches)) if i not in fixed)
    # About 3 % transfer out of the street over the years: create that many more, so ``members`` stay.
    target = members + round(members * 0.03)
    rest = target - sum(fixed.values())
    sizes = [fixed[i] if i in fixed else int(rest * weights[i] / total_w) for i in range(len(branches))]
    short = target - sum(sizes)
    order = [i for i in range(len(branches)) if i not in fixed]
    for j in range(abs(short)):
        sizes[order[j % len(order)]] += 1 if short > 0 else -1

    rules = svc.DuesRules(session)
    member_rows: list[dict] = []
    info: list[dict] = []            # per member row: what the later tables need
    edu_young = ("大学本科", "大学本科", "大学本科", "研究生", "大学专科", "高中")
    edu_old = ("初中", "高中", "中专", "大学专科", "大学本科", "小学")

    def person(birth_lo: date, birth_hi: date) -> tuple[str, str, date, str]:
        birth = _date_between(rng, birth_lo, birth_hi)
        sex = people.sex(0.55)
        number = _unique_id(people, birth, sex, used, rng.choice(REGIONS))
        return people.name(sex), sex, birth, number

    def add_member(branch, stage, category=None, status="normal") -> dict:
        home = branch
        gs = groups_of.get(branch["id"])
        if gs and rng.random() < 0.5:
            home = rng.choice(gs)
        dates = dict(applied_on=None, activist_on=None, candidate_on=None, admitted_on=None, full_on=None,
                     extension_months=None, extended_on=None)
        if stage in ("full", "probationary"):
            retired = stage == "full" and rng.random() < 0.35
            if retired:
                name, sex, birth, number = person(date(1938, 1, 1), date(1964, 12, 31))
            elif stage == "full":
                name, sex, birth, number = person(date(1966, 1, 1), svc.add_months(today, -12 * 23))
            else:
                name, sex, birth, number = person(date(1975, 1, 1), svc.add_months(today, -12 * 23))
            if stage == "full":
                admitted = _date_between(rng, max(svc.add_months(birth, 12 * 21 + 1), date(1966, 1, 1)),
                                         today - timedelta(days=400))
                ext = 6 if rng.random() < 0.01 and (today - admitted).days > 600 else None
                dates.update(admitted_on=admitted, full_on=svc.add_months(admitted, 12 + (ext or 0)),
                             extension_months=ext,
                             extended_on=svc.add_months(admitted, 11) if ext else None)
            else:
                roll = rng.random()
                days = rng.randint(30, 330) if roll < 0.8 else rng.randint(336, 364) if roll < 0.92 else rng.randint(372, 430)
                admitted = max(today - timedelta(days=days), svc.add_months(birth, 12 * 21 + 1))
                dates["admitted_on"] = admitted
                if rng.random() < 0.03 and (today - admitted).days > 340:
                    dates.update(extension_months=6, extended_on=admitted + timedelta(days=330))
            if admitted.year >= 1995:   # older records often lack the pre-admission dates
                applied = admitted - timedelta(days=rng.randint(400, 1000))
                dates.update(applied_on=applied, activist_on=applied + timedelta(days=rng.randint(60, 150)),
                             candidate_on=admitted - timedelta(days=rng.randint(100, 240)))
            if category is None:
                category = "retired" if retired else rng.choice(("employed",) * 12 + ("farmer", "student", "unemployed", "dibao"))
        else:
            name, sex, birth, number = person(date(1976, 1, 1), svc.add_months(today, -12 * 22))
            if stage == "applicant":
                dates["applied_on"] = today - timedelta(days=rng.randint(20, 400))
            elif stage == "activist":
                dates["applied_on"] = today - timedelta(days=rng.randint(250, 900))
                dates["activist_on"] = dates["applied_on"] + timedelta(days=rng.randint(60, 180))
            else:
                dates["applied_on"] = today - timedelta(days=rng.randint(560, 1100))
                dates["activist_on"] = dates["applied_on"] + timedelta(days=rng.randint(60, 150))
                dates["candidate_on"] = dates["activist_on"] + timedelta(days=rng.randint(366, 400))
            category = category or rng.choice(("employed",) * 8 + ("student",))
        income = (rng.randrange(250000, 1600000, 5000) if category == "employed"
                  else rng.randrange(250000, 700000, 5000) if category == "retired" else None)
        fixed = rng.choice((20, 50, 100)) if category == "farmer" else None
        row = dict(name=name, initials=pinyin_initials(name)[:64],
                   name_pinyin=name_pinyin(name), sex=sex, ethnicity="汉族" if rng.random() < 0.95 else
                   rng.choice(("回族", "满族", "畲族", "土家族")), id_number=number, birth_date=birth,
                   education=rng.choice(edu_old if birth.year < 1960 else edu_young), category=category,
                   org_id=home["id"], stage=stage, job="退休职工" if category == "retired" else rng.choice(JOBS),
                   phone=people.phone(), address=f"{rng.choice(STREETS)}{rng.randint(1, 400)}号{rng.randint(1, 12)}幢"
                   f"{rng.randint(1, 3)}单元{rng.randint(1, 18)}0{rng.randint(1, 4)}室",
                   status=status, lost_contact_on=None, mobile_destination=None, mobile_since=None,
                   income_fen=income, fixed_dues_fen=fixed, created_by=None, **dates)
        member_rows.append(row)
        entry = dict(row=row, branch=branch, home=home, periods=[], transfer=None, n=len(info))
        info.append(entry)
        return entry

    for b, n in zip(branches, sizes, strict=True):
        for _ in range(n):
            add_member(b, "full" if rng.random() < 0.94 else "probationary")
        for _ in range(max(0, round(n * 0.08))):
            add_member(b, rng.choice(("applicant", "applicant", "activist", "activist", "candidate")))

    # Committees: a branch with 7 or more full members has one (a few missing, a few past their term).
    full_in = {}
    for e in info:
        if e["row"]["stage"] == "full":
            full_in[e["branch"]["id"]] = full_in.get(e["branch"]["id"], 0) + 1
    for b in branches:
        nfull = full_in.get(b["id"], 0)
        if nfull >= 7 and rng.random() > 0.03:
            expired = rng.random() < 0.03
            b.update(has_committee=True, committee_size=3 if nfull < 30 else 5,
                     committee_elected_on=(today - timedelta(days=rng.randint(1830, 2150))) if expired
                     else today - timedelta(days=rng.randint(30, 1700)))

    # ---------------------------------------------------------------- periods, transfers, situations
    orgs_in_branch: dict[int, list[dict]] = {}
    for o in org_rows:
        if o["level"] >= 3:
            orgs_in_branch.setdefault(branch_of[o["id"]], []).append(o)
    transfers: list[dict] = []   # rows without the letter number yet (numbered in date order below)
    party = [e for e in info if e["row"]["stage"] in ("probationary", "full")]
    for e in info:
        r = e["row"]
        first = r["admitted_on"] or r["applied_on"]
        start = max(first, e["home"]["founded_on"], e["branch"]["founded_on"])
        e["periods"] = [[e["home"]["id"], start, None, "登记"]]
    n_party = len(party)
    movers = rng.sample(party, min(n_party, round(n_party * 0.09)))
    n_in, n_inner = round(n_party * 0.04), round(n_party * 0.02)
    for e in movers[:n_in]:                                   # 转入 from outside the street
        r = e["row"]
        lo = max(window, r["admitted_on"] + timedelta(days=30), e["home"]["founded_on"])
        if lo >= today - timedelta(days=20):
            continue
        on = _date_between(rng, lo, today - timedelta(days=10))
        e["periods"] = [[e["home"]["id"], on, None, f"由“{rng.choice(OUTSIDE)}”转入"]]
        origin = e["periods"][0][3][3:-3]
        e["transfer"] = "in"
        transfers.append(dict(direction="in", member=e, from_org_id=None, to_org_id=e["home"]["id"],
                              letter_number=None, other_party=origin,
                              other_letter_number=f"党组介字〔{on.year}〕第{rng.randint(1, 300):04d}号", issued_on=on,
                              valid_days=None, dues_paid_to=svc.month_key(svc.add_months(_month_start(on), -1)),
                              receipt_due_on=None, receipt_on=None, status="registered", reason="工作调动"))
    for e in movers[n_in:n_in + n_inner]:                     # inside the street: one period closes, one opens
        r = e["row"]
        old_start = e["periods"][0][1]
        lo = max(window, old_start + timedelta(days=60))
        if lo >= today - timedelta(days=40):
            continue
        on = _date_between(rng, lo, today - timedelta(days=35))
        target = rng.choice(branches)
        if target is e["branch"] or target["founded_on"] > on:
            continue
        home = rng.choice([target] + groups_of.get(target["id"], []))
        if home["founded_on"] > on:
            home = target
        e["periods"] = [[e["home"]["id"], old_start, on, f"登记；转入“{home['name']}”"],
                        [home["id"], on, None, "组织关系转接"]]
        e["branch"], e["home"], e["transfer"] = target, home, "inner"
        r["org_id"] = home["id"]
        transfers.append(dict(direction="out", member=e, from_org_id=e["periods"][0][0], to_org_id=home["id"],
                              letter_number=None, other_party=home["name"], other_letter_number=None, issued_on=on,
                              valid_days=90, dues_paid_to=None, receipt_due_on=on + timedelta(days=30),
                              receipt_on=on + timedelta(days=rng.randint(2, 20)), status="received", reason="居住地变动"))
    for e in movers[n_in + n_inner:]:                         # 转出 of the street: off the rolls
        r = e["row"]
        if e["transfer"] is not None:
            continue
        lo = max(window, e["periods"][0][1] + timedelta(days=30))
        if lo >= today - timedelta(days=5):
            continue
        on = _date_between(rng, lo, today - timedelta(days=2))
        e["periods"][0][2] = on
        e["periods"][0][3] = f"登记；转出至“{(dest := rng.choice(OUTSIDE))}”"
        e["transfer"] = "out"
        r.update(org_id=None, status="transferred_out")
        late = (today - on).days > 30
        roll = rng.random()
        status = "received" if late and roll < 0.85 else "issued"
        transfers.append(dict(direction="out", member=e, from_org_id=e["periods"][0][0], to_org_id=None,
                              letter_number=None, other_party=dest, other_letter_number=None, issued_on=on,
                              valid_days=rng.choice((30, 60, 90)), dues_paid_to=None,
                              receipt_due_on=on + timedelta(days=30),
                              receipt_on=min(today, on + timedelta(days=rng.randint(5, 28))) if status == "received" else None,
                              status=status, reason=rng.choice(("工作调动", "随子女迁居", "户籍迁出", "毕业离校"))))
    for e in party:
        r = e["row"]
        if r["status"] != "normal":
            continue
        roll = rng.random()
        if roll < 0.006 and r["stage"] == "full":
            r["lost_contact_on"] = today - timedelta(days=rng.randint(200, 700))
        elif roll < 0.03:
            r["mobile_destination"] = rng.choice(MOBILE_TO)
            r["mobile_since"] = today - timedelta(days=rng.randint(30, 600))

    # ---------------------------------------------------------------- write: organisations, members
    w.insert(PartyOrg, [{k: v for k, v in o.items() if k != "id"} for o in org_rows])
    assert w.next_id[PartyOrg] == next_id + len(org_rows)   # the paths above used these ids
    w.insert(OrgEvent, [dict(org_id=o["id"], on=o["founded_on"], event="founded",
                             detail=f"成立，隶属“{by_id[o['parent_id']]['name']}”" if o["parent_id"] else "成立")
                        for o in org_rows])
    member_ids = w.insert(Member, member_rows)
    for e, mid in zip(info, member_ids, strict=True):
        e["id"] = mid
    w.insert(Membership, [dict(member_id=e["id"], org_id=p[0], start_on=p[1], end_on=p[2], reason=p[3][:100])
                          for e in info for p in e["periods"]])

    # ---------------------------------------------------------------- dues: five years, monthly
    months = []
    m = window
    while m <= today:
        months.append(m)
        m = svc.add_months(m, 1)
    month_keys = [svc.month_key(m) for m in months]
    index_of = {k: i for i, k in enumerate(month_keys)}
    now_i = len(months) - 1
    dues_rows: list[dict] = []
    last_paid: dict[int, str] = {}
    for e in party:
        r = e["row"]
        first = max(svc.month_key(r["admitted_on"]), svc.month_key(e["periods"][0][1]), since)
        if first > month_keys[-1]:
            continue
        lo = index_of[first]
        if e["transfer"] == "out":
            hi = index_of[svc.month_key(e["periods"][0][2])] - (1 if rng.random() < 0.3 else 0)
            holes = ()
        elif r["lost_contact_on"] is not None:   # no dues since contact was lost
            hi = index_of.get(svc.month_key(r["lost_contact_on"]), -1)
            holes = ()
        else:   # most paid up, some a month or a few behind, a few past the 6-month flag, a few with a hole
            roll = rng.random()
            hi = now_i if roll < 0.70 else now_i - 1 if roll < 0.86 else now_i - rng.randint(2, 5) if roll < 0.95 \
                else now_i - rng.randint(6, 14) if roll < 0.975 else now_i
            holes = set(range(h := rng.randint(lo, max(lo, hi)), h + rng.randint(1, 3))) if roll >= 0.975 else ()
        fen = rules.monthly_fen(SimpleNamespace(category=r["category"], fixed_dues_fen=r["fixed_dues_fen"],
                                                income_fen=r["income_fen"]))
        mid, base = e["id"], r["income_fen"]
        for i in range(lo, hi + 1):
            if i in holes:
                continue
            day = _mdate(rng, months[i], today, 1, 25) if i == now_i else \
                date(months[i].year, months[i].month, rng.randint(3, 25))
            if day is None:
                continue
            dues_rows.append(dict(member_id=mid, month=month_keys[i], amount_fen=fen, base_fen=base, paid_on=day,
                                  recorded_by=None))
            last_paid[mid] = month_keys[i]
    core_settings.set_flag(session, "partybuilding.dues.since", since)
    w.insert(DuesPayment, dues_rows)
    n_dues = len(dues_rows)
    del dues_rows

    # Letters: numbered per year in issue order; an outgoing letter's 党费交至 is the ledger's last month.
    transfers.sort(key=lambda t: (t["issued_on"], t["member"]["n"]))
    per_year: dict[int, int] = {}
    for t in transfers:
        if t["direction"] == "out":
            y = t["issued_on"].year
            per_year[y] = per_year.get(y, 0) + 1
            t["letter_number"] = svc.format_letter_number("党组介字", y, per_year[y])
            t["dues_paid_to"] = last_paid.get(t["member"]["id"])
    w.insert(Transfer, [dict(direction=t["direction"], member_id=t["member"]["id"], from_org_id=t["from_org_id"],
                             to_org_id=t["to_org_id"], letter_number=t["letter_number"], other_party=t["other_party"],
                             other_letter_number=t["other_letter_number"], issued_on=t["issued_on"],
                             valid_days=t["valid_days"], dues_paid_to=t["dues_paid_to"],
                             receipt_due_on=t["receipt_due_on"], receipt_on=t["receipt_on"], status=t["status"],
                             reason=t["reason"], created_by=None) for t in transfers])
    existing = set(session.scalars(select(Counter.name)))
    w.insert_rows(Counter, [dict(name=f"transfer_letter:{y}", value=n) for y, n in per_year.items()
                            if f"transfer_letter:{y}" not in existing])

    # ---------------------------------------------------------------- meetings with attendance
    # Who is in a branch's subtree on a day: (member id, from, until, full member since / None).
    roster: dict[int, list[tuple]] = {}
    for e in info:
        r = e["row"]
        if r["admitted_on"] is None:
            continue
        for org_id, start, end, _reason in e["periods"]:
            b = branch_of.get(org_id)
            if b is None:
                continue
            until = min(x for x in (end, r["lost_contact_on"], date.max) if x is not None)
            roster.setdefault(b, []).append((e["id"], max(start, r["admitted_on"]), until, r["full_on"]))
    laggards = {b["id"] for b in rng.sample(branches, max(1, len(branches) * 6 // 100))}
    meeting_rows: list[dict] = []
    pending: list[tuple[int, list[tuple[int, bool, str | None]]]] = []   # (meeting index, attendance)
    recent = svc.add_months(months[-1], -11)

    def present_on(b, held):
        return [x for x in roster.get(b["id"], ()) if x[1] <= held < x[2]]

    def meet(o, kind, held, topic, attend=None):
        meeting_rows.append(dict(org_id=o["id"], kind=kind, held_on=held, topic=topic, host=o["secretary"] or "党小组长",
                                 recorder="组织委员" if o["level"] == 3 else "党小组长",
                                 location=rng.choice(("党群服务中心", "社区会议室", "党员活动室", "支部活动室")),
                                 minutes=None if attend is None else f"应到 {len(attend)} 人，实到 "
                                 f"{sum(1 for a in attend if a[1])} 人。会议传达学习、交流讨论、部署下阶段工作。",
                                 created_by=None))
        if attend:
            pending.append((len(meeting_rows) - 1, attend))

    def everyone(b, held, p=0.9):
        return [(mid, ok, None if ok else rng.choice(ABSENCE))
                for mid, *_ in present_on(b, held) for ok in (rng.random() < p,)]

    for b in branches:
        lag = b["id"] in laggards
        skip = 0.35 if lag else 0.015
        for month in months:
            if month < _month_start(b["founded_on"]) or (month == _month_start(b["founded_on"]) and b["founded_on"].day > 1):
                continue
            q_end = month.month % 3 == 0
            if rng.random() > skip and (held := _mdate(rng, month, today)):
                att = everyone(b, held) if month >= recent else None
                meet(b, "theme_day", held, f"{month.month}月主题党日：{rng.choice(THEMES)}", att)
            if b["has_committee"] and rng.random() > skip and (held := _mdate(rng, month, today)):
                members_now = [x for x in present_on(b, held) if x[3] is not None and x[3] <= held]
                board = members_now[:b["committee_size"]]
                if board:
                    quorum_short = lag and rng.random() < 0.3
                    att = [(mid, not (quorum_short and j > 0) and (j == 0 or rng.random() < 0.95), None)
                           for j, (mid, *_r) in enumerate(board)]
                    att = [(mid, ok, None if ok else rng.choice(ABSENCE)) for mid, ok, _ in att]
                    meet(b, "committee", held, f"{month.month}月支委会：研究本月工作", att)
            if q_end and rng.random() > skip and (held := _mdate(rng, month, today)):
                meet(b, "assembly", held, f"{month.year}年第{month.month // 3}季度党员大会", everyone(b, held))
            if q_end and rng.random() > skip and (held := _mdate(rng, month, today)):
                meet(b, "lecture", held, f"党课：{rng.choice(THEMES)}")
            if month.month == 12 and rng.random() > skip and (held := _mdate(rng, month, today, 5, 28)):
                meet(b, "life_meeting", held, f"{month.year}年度组织生活会", everyone(b, held, 0.92))
                meet(b, "appraisal", held, f"{month.year}年度民主评议党员")
            for g in groups_of.get(b["id"], ()):
                if month >= _month_start(g["founded_on"]) and rng.random() > skip * 1.5 \
                        and (held := _mdate(rng, month, today)):
                    meet(g, "group", held, f"{month.month}月党小组学习：{rng.choice(THEMES)}")
    meeting_ids = w.insert(Meeting, meeting_rows)
    n_meetings = len(meeting_rows)
    meeting_rows.clear()   # the closure meet() holds the list: empty it rather than del the name
    att_rows = [dict(meeting_id=meeting_ids[i], member_id=mid, present=ok, absence_reason=reason)
                for i, attend in pending for mid, ok, reason in attend]
    w.insert(Attendance, att_rows)
    n_att = len(att_rows)
    del att_rows
    pending.clear()

    # ---------------------------------------------------------------- 在职党员双报到
    report_rows, service_plan = [], []
    per_community = max(3, round(members * 0.08 / max(1, len(communities))))
    for c in communities:
        for _ in range(per_community):
            work, worg = rng.choice(WORKPLACES)
            reported = _date_between(rng, window, today - timedelta(days=15))
            ended = reported + timedelta(days=rng.randint(200, 900)) if rng.random() < 0.08 else None
            if ended is not None and ended > today:
                ended = None
            report_rows.append(dict(area_id=c.id, member_id=None, name=people.name(), phone=people.phone(), workplace=work,
                                    workplace_org=worg, address=f"{rng.choice(STREETS)}{rng.randint(1, 400)}号",
                                    reported_on=reported, ended_on=ended, created_by=None))
    report_ids = w.insert(CommunityReport, report_rows)
    for rid, r in zip(report_ids, report_rows, strict=True):
        end = r["ended_on"] or today
        for _ in range(rng.randint(0, 2 * max(1, (end - r["reported_on"]).days // 365))):
            service_plan.append(dict(report_id=rid, served_on=_date_between(rng, r["reported_on"], end),
                                     content=rng.choice(SERVICES), minutes=rng.choice((60, 90, 120, 180, 240)),
                                     recorded_by=None))
    w.insert(CommunityService, service_plan)
    w.finish()
    return {"orgs": len(org_rows), "members": len(member_rows), "party_members": sum(
        1 for e in party if e["row"]["status"] == "normal"), "transfers": len(transfers), "dues": n_dues,
        "meetings": n_meetings, "attendance": n_att, "reports": len(report_rows), "services": len(service_plan)}
