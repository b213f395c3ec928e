"""Demo data: a street's five-level party organisation on the demo areas, with members at every
development stage, a few transfers, this year's meetings and dues. Everything goes through the
services (so the demo obeys the same rules as real input); nothing is committed here."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from shell.core.areas import list_areas
from shell.core.context import Actor, ServiceContext

from . import services as svc
from .models import Member

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬建国建华志强海燕春梅文明国庆淑珍德胜永红学军晓东丽华桂珍凤英宏伟"
EDUCATION = ("初中", "高中", "中专", "大专", "大学本科", "大学本科", "研究生")
JOBS = ("社区工作者", "教师", "医生", "工人", "退休职工", "个体经营", "公务员", "企业职员", "学生")
REGION = "110105"


def _name(rng) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return rng.choice(SURNAMES) + given


def _id_number(rng, birth: date, male: bool, used: set[str]) -> str:
    from stdnum.cn import ric

    while True:
        seq = rng.randrange(0, 999)
        if (seq % 2 == 1) != male:
            seq = (seq + 1) % 1000
            if (seq % 2 == 1) != male:
                continue
        body = f"{REGION}{birth:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in used:
            used.add(number)
            return number


def _date_between(rng, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days))


def seed(session, scale, rng) -> None:
    ctx = ServiceContext(session, Actor.system())
    today = ctx.today()
    streets = list_areas(session, level="street")
    if not streets:
        return
    street = streets[0]
    used = set(session.scalars(select(Member.id_number)))
    top = svc.create_org(ctx, f"中共{street.name}工作委员会", "working_committee", area_id=street.id,
                         founded_on=date(2003, 7, 1), secretary=_name(rng), has_committee=True, committee_size=7,
                         committee_elected_on=date(2022, 6, 28))
    communities = [a for a in list_areas(session, level="community") if a.path.startswith(street.path)]
    grids = list_areas(session, level="grid")
    branches = []
    for ci, community in enumerate(communities):
        kind = "community_committee" if ci % 3 != 2 else "general_branch"
        elected = date(2021 + ci % 4, 3 + ci % 6, 10)
        cmt = svc.create_org(ctx, f"中共{community.name}{'委员会' if kind == 'community_committee' else '总支部委员会'}",
                             kind, parent_id=top.id, area_id=community.id, founded_on=date(2005, 1, 1),
                             secretary=_name(rng), has_committee=True, committee_size=5 if kind == "community_committee" else 3,
                             committee_elected_on=elected)
        for gi, grid in enumerate(g for g in grids if g.parent_id == community.id):
            has_cmt = gi % 2 == 0
            br = svc.create_org(ctx, f"{grid.name}党支部", "branch", parent_id=cmt.id, area_id=grid.id,
                                founded_on=date(2010 + gi % 8, 7, 1), secretary=_name(rng), has_committee=has_cmt,
                                committee_size=3 if has_cmt else None,
                                committee_elected_on=date(2019 + gi % 6, 5, 20) if has_cmt else None)
            groups = []
            for k in range(1, 3):
                grp = svc.create_org(ctx, f"{k}号楼党小组", "group", parent_id=br.id, founded_on=date(2018, 3, 1))
                hh = svc.create_org(ctx, f"{k}号楼党员中心户", "household", parent_id=grp.id, founded_on=date(2019, 5, 1))
                svc.set_households(ctx, hh.id, [f"{k}号楼{u}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}室 {_name(rng)}家"
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
    for community in communities:
        for _ in range(rng.randint(3, 6)):
            work, org = rng.choice(WORKPLACES)
            r = svc.register_report(ctx, area_id=community.id, name=_name(rng), workplace=work, workplace_org=org,
                                    phone=f"13{rng.randint(100000000, 999999999)}",
                                    reported_on=min(today, date(today.year - rng.randint(0, 2), rng.randint(1, 3),
                                                                rng.randint(1, 28))))
            for _ in range(rng.randint(0, 5)):
                served = _date_between(rng, max(r.reported_on, date(today.year, 1, 1)), today)
                svc.record_community_service(ctx, r.id, served, rng.choice(SERVICES), rng.choice((60, 90, 120, 180, 240)))


def _seed_members(ctx, rng, branch, groups, used, today) -> None:
    count = rng.randint(5, 14)
    for i in range(count):
        male = rng.random() < 0.55
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
            ctx, name=_name(rng), id_number=_id_number(rng, birth, male, used), org_id=org.id, stage=stage,
            joined_on=max(date(today.year, 1, 1), dates["admitted_on"]) if "admitted_on" in dates else None,
            education=rng.choice(EDUCATION), category=category, job="退休职工" if retired else rng.choice(JOBS),
            phone=f"13{rng.randint(100000000, 999999999)}", address=f"{branch.name[:-3]}{rng.randint(1, 12)}号楼",
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
                                       host=br.secretary or "", recorder="组织委员", attendance=att,
                                       minutes="集中学习、交流发言、开展志愿服务。")
                if br.has_committee and rng.random() < 0.8:
                    svc.record_meeting(ctx, br.id, "committee", held, f"{held.month}月支委会：研究本月工作",
                                       host=br.secretary or "", recorder="组织委员")
                if month.month in (3, 6, 9, 12) and rng.random() < 0.9:
                    svc.record_meeting(ctx, br.id, "assembly", held, "党员大会：通报季度工作", host=br.secretary or "",
                                       recorder="组织委员", attendance=att)
                    svc.record_meeting(ctx, br.id, "lecture", held, "党课：党章党规学习", host=br.secretary or "",
                                       recorder="组织委员")
                for grp in groups:
                    if rng.random() < 0.7:
                        svc.record_meeting(ctx, grp.id, "group", held, f"{held.month}月党小组学习", host="党小组长",
                                           recorder="党小组长")
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
