"""Realistic demo data. ``small`` (the test suite's street): volunteers per community, teams, a year
of activities with approved hours, a stocked 爱心超市 per community and some redemptions, all through
the services. ``medium`` / ``large`` (issue 9): ``seed_bulk`` writes three years of a street's
volunteer service with bulk inserts, simulated so the ledgers and balances agree by construction."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from shell.clock import LOCAL_TZ
from shell.core.areas import list_areas
from shell.core.context import Actor, ServiceContext
from shell.core.demo_people import DemoPeople

from . import services as sv

SKILLS = ("助老陪护", "应急救护", "文明劝导", "环境清洁", "理发", "家电维修", "法律咨询", "心理疏导", "文艺演出",
          "垃圾分类指导", "反诈宣传", "助残", "四点半课堂", "义诊")
TEAMS = (("银龄互助队", "助老陪护、上门探访"), ("平安巡防队", "治安巡逻、反诈宣传"), ("绿色家园队", "环境整治、垃圾分类"),
         ("红色先锋队", "党员志愿服务"), ("青春护航队", "四点半课堂、青少年关爱"))
ACTIVITIES = (("敬老院陪伴", "敬老院", "社区高龄老人", "陪伴聊天、读报、协助午餐"),
              ("垃圾分类桶边督导", "小区垃圾投放点", "社区居民", "指导居民正确分类投放"),
              ("反诈骗宣传", "社区广场", "社区居民", "发放反诈资料、讲解常见骗局"),
              ("义务理发", "社区党群服务中心", "老年人、残疾人", "免费理发"),
              ("平安巡逻", "辖区主要道路", "辖区居民", "夜间治安巡逻"),
              ("环境大扫除", "背街小巷", "辖区居民", "清理卫生死角、小广告"),
              ("四点半课堂", "社区活动室", "双职工家庭子女", "作业辅导、安全教育"))
ITEMS = (("大米（5kg）", "袋", 30, 40, 2, "month"), ("食用油（1.8L）", "桶", 25, 40, 2, "month"),
         ("洗衣液", "瓶", 10, 60, 0, "none"), ("毛巾", "条", 4, 100, 0, "none"), ("牙膏", "支", 3, 100, 0, "none"),
         ("电影票", "张", 15, 20, 1, "month"), ("保温杯", "个", 20, 30, 1, "year"))
# Hangzhou's county codes with the years they were in use (python-stdnum checks that the code of the
# birth place existed in the year of birth, so someone born in 1960 carries a pre-1983 code).
REGIONS = (("330102", 1983, 9999), ("330103", 1983, 2021), ("330104", 1983, 2021), ("330105", 1983, 9999),
           ("330106", 1983, 9999), ("330108", 1996, 9999), ("330110", 2001, 9999), ("330120", 0, 1983),
           ("330121", 0, 1987), ("330122", 0, 9999), ("330125", 0, 1994), ("330127", 0, 9999))
PER_COMMUNITY = {"small": 25, "medium": 60, "large": 120}


class _Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def demo_id_number(people: DemoPeople, birth: date, sex: str) -> str:
    """A Hangzhou resident's number: a county code in use in the birth year (REGIONS)."""
    region = people.rng.choice([code for code, first, last in REGIONS if first <= birth.year <= last])
    return people.id_number(birth, sex, region)


def _counter_user(session) -> tuple[int, str, str] | None:
    """(id, username, name) of the demo user who keeps the counter: the community worker."""
    from sqlalchemy import select

    from shell.core.models import User

    row = session.execute(select(User.id, User.username, User.display_name)
                          .where(User.username.in_(("community_staff", "admin")))
                          .order_by(User.username.desc())).first()
    return tuple(row) if row else None


def seed(session, scale: str, rng) -> None:
    if scale in BULK:
        seed_bulk(session, rng, **BULK[scale])
        return
    communities = list_areas(session, level="community")
    if not communities:
        return
    today = datetime.now(UTC).astimezone(LOCAL_TZ).date()
    clock = _Clock(datetime.now(UTC) - timedelta(days=400))
    ctx = ServiceContext(session, Actor.system(), clock)
    # The love supermarket's counter is kept by a person (the demo's community worker, when the demo
    # has one): the 积分兑换台账 names the handler of every order.
    counter = _counter_user(session)
    counter_ctx = ServiceContext(session, Actor(user_id=counter[0], username=counter[1], display_name=counter[2],
                                                is_superuser=True), clock) if counter else ctx
    per = PER_COMMUNITY.get(scale, 25)
    gen = DemoPeople(rng)
    used_ids = set()
    for community in communities:
        volunteers = []
        for _ in range(per):
            sex = gen.sex(0.45)
            birth = gen.birth_in_years(1950, 2004)
            idn = demo_id_number(gen, birth, sex)
            if idn in used_ids:
                continue
            used_ids.add(idn)
            v = sv.register_volunteer(
                ctx, name=gen.name(sex), id_number=idn, area_id=community.id,
                phone=gen.phone(), skills=rng.sample(SKILLS, rng.randint(1, 3)),
                address=f"{community.name}{rng.randint(1, 40)}幢{rng.randint(1, 6)}单元",
                registered_on=today - timedelta(days=rng.randint(400, 2000)))
            volunteers.append(v)
        teams = []
        for name, desc in rng.sample(TEAMS, 3):
            leader = rng.choice(volunteers)
            team = sv.create_team(ctx, name=name, area_id=community.id, leader_name=leader.name, description=desc)
            teams.append(team)
            sv.add_member(ctx, team.id, leader.id, "队长")
            for v in rng.sample(volunteers, min(len(volunteers), rng.randint(6, 12))):
                if v.id != leader.id:
                    sv.add_member(ctx, team.id, v.id)
        items = [sv.create_item(ctx, name=n, area_id=community.id, points_price=p, unit=u, stock=s,
                                per_person_limit=lim, limit_period=per_) for n, u, p, s, lim, per_ in ITEMS]
        # A year of activities, about two a month: the older ones approved, last week's waiting for
        # approval, the next one open for enrolment.
        for k in range(25):
            day = today - timedelta(days=345 - k * 15 + rng.randint(0, 5))
            name, place, target, content = rng.choice(ACTIVITIES)
            start = datetime(day.year, day.month, day.day, rng.choice((8, 9, 14, 15)), 0, tzinfo=LOCAL_TZ)
            team = rng.choice(teams)
            clock.now = start.astimezone(UTC) - timedelta(days=3)
            act = sv.create_activity(ctx, name=name, area_id=community.id, team_id=team.id,
                                     starts_at=start.astimezone(UTC),
                                     ends_at=(start + timedelta(hours=rng.choice((2, 3)))).astimezone(UTC),
                                     organiser=f"{community.name}居委会", place=place, target=target, content=content,
                                     leader_name=team.leader_name, recorder_name="李社区", capacity=20)
            people = rng.sample(volunteers, min(len(volunteers), rng.randint(5, 12)))
            done = day < today - timedelta(days=7)
            for v in people:
                sv.enrol(ctx, act.id, v.id)
                if not done and day > today:
                    continue
                t_in = start + timedelta(minutes=rng.randint(-10, 15))
                # a sign-out at most an hour after the end (the default margin), entered once it happened
                t_out = min(start + timedelta(minutes=rng.randint(90, 200)), act.ends_at + timedelta(minutes=60))
                if t_out.astimezone(UTC) > datetime.now(UTC):
                    continue  # today's activity still to come (a demo made after midnight): nobody signed in yet
                clock.now = max(clock.now, t_out.astimezone(UTC))
                sv.record_attendance(ctx, act.id, v.id, t_in.astimezone(UTC), t_out.astimezone(UTC))
            clock.now = start.astimezone(UTC) + timedelta(days=1)
            if done:
                ids = [a.id for a, _v, _a in sv.pending_approvals(ctx, act.id)]
                sv.approve(ctx, ids, quality=rng.choice(("优秀", "良好", "良好")))
                sv.close_activity(ctx, act.id)
            # Now and then someone redeems what they earned.
            for v in rng.sample(volunteers, 3):
                points = sv.account(ctx, v.id)[0]
                affordable = [i for i in items if i.points_price <= points and sv.current_stock(ctx, i.id) > 0
                              and not i.per_person_limit]
                if affordable and rng.random() < 0.5:
                    clock.now += timedelta(hours=2)
                    choice = rng.choice(affordable).id
                    if clock.now <= datetime.now(UTC):  # never an order dated after today
                        sv.redeem(counter_ctx, v.id, {choice: 1})
    clock.now = datetime.now(UTC)
    session.flush()


# ============================================================================ medium / large: bulk

# Issue 9: the large street has 20,000 volunteers with about 300,000 points entries over three
# years; medium is a tenth. Written with BulkWriter (Core executemany, ids assigned client-side) and
# consistent by construction: every ledger is simulated in time order with its running balance, the
# stored balances are the ledgers' last balances, stock is the sum of its moves.
BULK = {"medium": dict(volunteers=2_000, attendances=22_500), "large": dict(volunteers=20_000, attendances=225_000)}
BULK_YEARS = 3
BULK_POINTS_PER_HOUR = 10          # the street's rule in the bulk demo (some cities: 1 hour = 10 points)
RESIDENT_SHARE = 0.6               # volunteers taken from the grid's residents when they are there
MEAN_ACTIVITY_SIZE = 14
# (name, place, target, content, hours, cap minutes)
BULK_ACTIVITIES = (("敬老院陪伴", "敬老院", "社区高龄老人", "陪伴聊天、读报、协助午餐", (2, 3), 120),
                   ("垃圾分类桶边督导", "小区垃圾投放点", "社区居民", "指导居民正确分类投放", (2,), 120),
                   ("反诈骗宣传", "社区广场", "社区居民", "发放反诈资料、讲解常见骗局", (2, 3), 120),
                   ("义务理发", "社区党群服务中心", "老年人、残疾人", "免费理发", (3,), 180),
                   ("平安巡逻", "辖区主要道路", "辖区居民", "夜间治安巡逻", (3, 4), 240),
                   ("环境大扫除", "背街小巷", "辖区居民", "清理卫生死角、小广告", (2, 3), 120),
                   ("四点半课堂", "社区活动室", "双职工家庭子女", "作业辅导、安全教育", (2,), 120),
                   ("文明交通劝导", "路口", "过往行人", "劝导闯红灯、规范非机动车停放", (2,), 120),
                   ("助残送餐", "残疾人家庭", "残疾人", "送餐上门、打扫卫生", (2,), 120),
                   ("义诊咨询", "社区卫生服务站", "社区居民", "量血压、健康咨询", (3,), 180))
BULK_ITEMS = (("大米（5kg）", "袋", 300, 2, "month"), ("食用油（1.8L）", "桶", 250, 2, "month"),
              ("洗衣液", "瓶", 100, 0, "none"), ("毛巾", "条", 40, 0, "none"), ("牙膏", "支", 30, 0, "none"),
              ("抽纸（10包）", "提", 60, 0, "none"), ("电影票", "张", 150, 1, "month"), ("保温杯", "个", 200, 1, "year"),
              ("雨伞", "把", 80, 0, "none"), ("鸡蛋（30枚）", "盒", 120, 2, "month"))
STAFF = ("李社区", "周敏", "陈静", "王红梅", "赵志刚")
QUALITY = ("优秀", "良好", "良好", "良好", "合格")
LEAVE_REASONS = ("迁出本街道", "本人申请退出", "工作调动")
CANCEL_REASONS = ("物品选错，重新兑换", "志愿者改变主意", "录入错误")
ADJUST_REASONS = (("年度优秀志愿者奖励", 100, 300), ("重大活动保障奖励", 50, 150), ("疫情防控志愿服务补记", 30, 120))


def _local(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)


def _split(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (whole numbers summing to ``total``)."""
    s = sum(weights)
    out = [int(total * w / s) for w in weights]
    for k in range(total - sum(out)):
        out[k % len(out)] += 1
    return out


def _residents(session, communities: list, today: date) -> dict[int, list[tuple]]:
    """Adults living in each community, read from the grid plugin's tables with plain SQL when they
    exist (no import of grid code): {community id: [(name, sex, birth, id number, phone, address)]}."""
    from sqlalchemy import inspect, text

    if not inspect(session.connection()).has_table("grid_persons"):
        return {}
    parent = {gid: cid for gid, cid in session.execute(
        text("SELECT id, parent_id FROM core_areas WHERE level = 'grid'"))}
    wanted = {c[0] for c in communities}
    latest_birth = date(today.year - 19, 1, 1)           # adults on the day they registered
    out: dict[int, list[tuple]] = {}
    # Every fifth resident is enough to choose from (a fifth of 200,000 is 40,000 for 20,000 volunteers).
    rows = session.execute(text(
        "SELECT area_id, name, sex, birth_date, id_number, phone, current_address FROM grid_persons "
        "WHERE status = 'active' AND id_type = '111' AND id % 5 = 0 ORDER BY id"))
    for area_id, name, sex, birth, idn, phone, address in rows:
        cid = parent.get(area_id, area_id)
        if cid not in wanted or not idn or len(idn) != 18 or birth is None or sex not in ("男", "女"):
            continue
        if isinstance(birth, str):
            birth = date.fromisoformat(birth[:10])
        if birth > latest_birth or birth.year < 1940:
            continue
        out.setdefault(cid, []).append((name, sex, birth, idn, phone or "", address or ""))
    return out


def seed_bulk(session, rng, volunteers: int, attendances: int, years: int = BULK_YEARS,
              today: date | None = None) -> dict[str, int]:
    """The volunteer side of a large street with bulk inserts; returns the row count per table.
    Everything is derived from ``rng`` and ``today`` (local date): the same seed on the same day gives
    the same rows (timestamps of the insert aside)."""
    import bisect
    import heapq

    from sqlalchemy import select, text
    from stdnum.cn import ric

    from shell.core import settings
    from shell.core.models import Area
    from shell.db.bulk import BulkWriter
    from shell.text import name_pinyin, pinyin_initials

    from .models import (
        Activity,
        Attendance,
        Certificate,
        Counter,
        HoursEntry,
        PointsEntry,
        RedemptionLine,
        RedemptionOrder,
        RewardItem,
        StockMove,
        Team,
        TeamMembership,
        Volunteer,
        VolunteerAccount,
    )
    from .rules import SETTING_BY_KEY

    communities = session.execute(select(Area.id, Area.name).where(Area.level == "community",
                                                                    Area.closed_on.is_(None))
                                  .order_by(Area.sort_order, Area.id)).all()
    if not communities:
        return {}
    today = today or datetime.now(UTC).astimezone(LOCAL_TZ).date()
    anchor = _local(today, 0)                       # midnight today: nothing in the past lies after it
    first_day = today - timedelta(days=365 * years)
    w = BulkWriter(session)
    pph = BULK_POINTS_PER_HOUR
    rand = rng.random
    gen = DemoPeople(rng)

    def ri(a: int, b: int) -> int:               # rng.randint, several times faster
        return a + int(rand() * (b - a + 1))
    settings.set_value(ServiceContext(session, Actor.system()), SETTING_BY_KEY["volunteer.points_per_hour"], pph)

    # ---------------------------------------------------------------- volunteers and their accounts
    residents = _residents(session, communities, today)
    sizes = _split(volunteers, [rng.uniform(0.7, 1.3) for _ in communities])
    used: set[str] = set()
    vols: list[dict] = []                           # index = volunteer index
    vcomm: list[int] = []                           # community index of each volunteer
    for ci, ((cid, cname), size) in enumerate(zip(communities, sizes, strict=True)):
        pool = residents.get(cid, [])
        picked = rng.sample(pool, min(len(pool), round(size * RESIDENT_SHARE))) if pool else []
        people = [p for p in picked if p[3] not in used and ric.is_valid(p[3])]
        here = {p[3] for p in people}
        while len(people) < size:
            sex = gen.sex(0.45)
            birth = gen.birth_in_years(1950, today.year - 19)
            idn = demo_id_number(gen, birth, sex)
            if idn in used or idn in here:
                continue
            here.add(idn)
            name = gen.name(sex)
            address = f"{cname}{ri(1, 40)}幢{ri(1, 6)}单元{ri(1, 18)}0{ri(1, 4)}室"
            people.append((name, sex, birth, idn, "", address))
        for name, sex, birth, idn, phone, address in people:
            used.add(idn)
            adult = date(birth.year + 18, birth.month, min(birth.day, 28))
            registered = max(today - timedelta(days=ri(20, 6 * 365)), adult)
            vols.append(dict(area_id=cid, number=f"ZY{len(vols) + 1:07d}", name=name, initials=pinyin_initials(name),
                             name_pinyin=name_pinyin(name),
                             gender=sex, birth_date=birth, id_type="111", id_number=idn,
                             phone=phone or gen.phone(),
                             skills="、".join(rng.sample(SKILLS, ri(1, 3))), address=address[:200],
                             registered_on=registered, active=True, inactive_reason="", notes="",
                             created_at=_local(registered, 9), created_by=None))
            vcomm.append(ci)
    n_vol = len(vols)

    # How active each volunteer is: a long tail (a few serve weekly for years, many a few times).
    weights = [min(rng.paretovariate(1.5), 60.0) for _ in range(n_vol)]
    scale_ = attendances / sum(weights)
    wanted = [round(x * scale_) for x in weights]

    # ---------------------------------------------------------------- teams and memberships
    team_rows, team_comm = [], []
    for ci, (cid, _cname) in enumerate(communities):
        for name, desc in rng.sample(TEAMS, 4):
            team_rows.append(dict(area_id=cid, name=name, leader_name="", phone="", description=desc, active=True,
                                  created_at=_local(first_day, 9), created_by=None))
            team_comm.append(ci)
    teams_of = {}                                   # community index → team indexes
    for ti, ci in enumerate(team_comm):
        teams_of.setdefault(ci, []).append(ti)
    members = []                                    # [team idx, volunteer idx, joined, left]
    for vi in range(n_vol):
        own = teams_of[vcomm[vi]]
        for ti in rng.sample(own, 1 if rng.random() < 0.8 else 2) if rng.random() < 0.7 else ():
            joined = min(vols[vi]["registered_on"] + timedelta(days=ri(0, 90)), today)
            left = None
            if rng.random() < 0.06 and (today - joined).days > 60:
                left = joined + timedelta(days=ri(30, (today - joined).days))
            members.append([ti, vi, joined, left])
    # Leaders: the most active current members of each team.
    by_team: dict[int, list[int]] = {}
    for k, (ti, _vi, _j, left) in enumerate(members):
        if left is None:
            by_team.setdefault(ti, []).append(k)
    roles = ["队员"] * len(members)
    for ti, ks in by_team.items():
        ks.sort(key=lambda k: (-wanted[members[k][1]], members[k][1]))
        for k, role in zip(ks, ("队长", "副队长"), strict=False):
            roles[k] = role
        leader = vols[members[ks[0]][1]]
        team_rows[ti]["leader_name"], team_rows[ti]["phone"] = leader["name"], leader["phone"]

    # ---------------------------------------------------------------- activities and who attends
    span = (today - first_day).days
    acts: list[dict] = []
    act_comm: list[int] = []
    for ci, (cid, cname) in enumerate(communities):
        demand = sum(wanted[vi] for vi in range(n_vol) if vcomm[vi] == ci)
        count = max(4, round(demand / MEAN_ACTIVITY_SIZE))
        days = sorted([first_day + timedelta(days=int(span * rng.random() ** 0.85)) for _ in range(count)]
                      + [today + timedelta(days=ri(1, 14)) for _ in range(max(1, count // 80))])
        for day in days:
            name, place, target, content, hours, cap = rng.choice(BULK_ACTIVITIES)
            hour = 19 if name == "平安巡逻" else rng.choice((8, 9, 14, 15))
            starts = _local(day, hour, rng.choice((0, 30)))
            ti = rng.choice(teams_of[ci])
            status = "open" if day >= today - timedelta(days=7) else "closed"
            acts.append(dict(area_id=cid, team_id=ti, name=name, organiser=f"{cname}居委会", starts_at=starts,
                             ends_at=starts + timedelta(hours=rng.choice(hours)), place=place, target=target,
                             content=content, leader_name="", recorder_name=rng.choice(STAFF), capacity=None,
                             cap_minutes=cap, points_per_hour=pph, status=status,
                             created_at=starts - timedelta(days=ri(3, 10)), created_by=None))
            act_comm.append(ci)
    comm_acts: dict[int, list[int]] = {}
    for ai, ci in enumerate(act_comm):
        comm_acts.setdefault(ci, []).append(ai)
    comm_starts = {ci: [acts[ai]["starts_at"] for ai in lst] for ci, lst in comm_acts.items()}
    attendees: list[list[int]] = [[] for _ in acts]
    for vi in range(n_vol):
        ci = vcomm[vi]
        lo = bisect.bisect_left(comm_starts[ci], _local(vols[vi]["registered_on"], 0))
        lst = comm_acts[ci]
        for k in rng.sample(range(lo, len(lst)), min(wanted[vi], len(lst) - lo)):
            attendees[lst[k]].append(vi)
    for ai, a in enumerate(acts):
        team = team_rows[a["team_id"]]
        a["leader_name"] = team["leader_name"] or a["recorder_name"]
        if rng.random() < 0.3:
            a["capacity"] = len(attendees[ai]) + ri(0, 10) or 10

    # ---------------------------------------------------------------- attendance sheets
    att_rows: list[dict] = []
    earn_of: dict[int, list[tuple]] = {}             # volunteer → [(approved at, att idx, minutes, points, day, reason)]
    last_seen = [None] * n_vol                       # latest activity day per volunteer
    pending_cut = today - timedelta(days=7)
    for ai, a in enumerate(acts):
        starts, ends = a["starts_at"], a["ends_at"]
        day = starts.astimezone(LOCAL_TZ).date()
        reason = f"{a['name']}（{day}）"
        for vi in sorted(attendees[ai]):
            last_seen[vi] = day if last_seen[vi] is None else max(last_seen[vi], day)
            enrolled = min(starts - timedelta(days=ri(1, 6), hours=ri(0, 8)), anchor)
            row = dict(activity_id=ai, volunteer_id=vi, status="enrolled", enrolled_at=enrolled, signed_in_at=None,
                       signed_out_at=None, minutes=0, raw_minutes=0, points=0, quality="", approved_by=None,
                       approved_at=None, note="", created_at=enrolled, created_by=None)
            att_rows.append(row)
            if day >= today:
                continue                                # upcoming: enrolled only
            r = rng.random()
            if day < pending_cut and r < 0.01:
                row["status"] = "cancelled"             # cancelled the enrolment
                continue
            t_in = starts + timedelta(minutes=ri(-10, 15))
            t_out = ends + timedelta(minutes=ri(-25, 20))
            raw = int((t_out - t_in).total_seconds() // 60)
            credited = min(raw, a["cap_minutes"]) if a["cap_minutes"] else raw
            row.update(signed_in_at=t_in, signed_out_at=t_out, raw_minutes=raw, minutes=credited, status="signed_out")
            if day >= pending_cut:
                continue                                # last week's: waiting in the approval queue
            if r < 0.025:
                row.update(status="rejected", note=rng.choice(("签到签退记录不完整", "未到岗，不予计入")))
                continue
            approved = ends + timedelta(hours=ri(2, 72))
            points = credited * pph // 60
            row.update(status="approved", points=points, approved_at=approved, quality=rng.choice(QUALITY))
            earn_of.setdefault(vi, []).append((approved, len(att_rows) - 1, credited, points, day, reason))

    # A few volunteers stopped: nothing upcoming or pending, and no service in the last three months.
    quiet = today - timedelta(days=90)
    for vi in range(n_vol):
        if (last_seen[vi] is None or last_seen[vi] < quiet) and rng.random() < 0.04:
            vols[vi].update(active=False, inactive_reason=rng.choice(LEAVE_REASONS))

    # ---------------------------------------------------------------- the store: catalogue per community
    items: list[dict] = []
    items_of: dict[int, list[int]] = {}
    for ci, (cid, _cname) in enumerate(communities):
        for name, unit, price, limit, period in BULK_ITEMS:
            items_of.setdefault(ci, []).append(len(items))
            items.append(dict(area_id=cid, name=name, unit=unit, points_price=price, stock=0, per_person_limit=limit,
                              limit_period=period, active=True, created_at=_local(first_day, 9), created_by=None))

    # ---------------------------------------------------------------- ledgers, simulated per volunteer
    hours_rows: list[tuple] = []    # (at, vi, seq, att idx, day, minutes, balance, reason)
    points_rows: list[tuple] = []   # (at, vi, seq, kind, points, balance, att idx, order idx, reason)
    orders: list[list] = []         # [at, vi, ci, total, status, cancelled_at, reason]
    lines: list[tuple] = []         # (order idx, item idx, qty, price)
    item_events: list[tuple] = []   # (at, item idx, qty, order idx, kind, reason)
    certs: list[tuple] = []         # (issued at, vi, minutes)
    balances = [0] * n_vol
    minutes_of = [0] * n_vol
    last_hours_at = [None] * n_vol
    horizon = (anchor - timedelta(hours=1)).timestamp()
    for vi in range(n_vol):
        earns = earn_of.get(vi)
        if not earns:
            continue
        v = vols[vi]
        heap = [(e[0], k, "earn", e) for k, e in enumerate(sorted(earns))]
        seq = len(heap)
        first = heap[0][0].timestamp() if heap else horizon
        for _ in range(round(len(earns) * 0.6)):      # visits to the store
            t = datetime.fromtimestamp(rng.uniform(first, horizon), UTC)
            local = t.astimezone(LOCAL_TZ)
            t = _local(local.date(), ri(9, 16), ri(0, 59))
            if t.timestamp() > first:
                heap.append((t, seq, "visit", None))
                seq += 1
        if rng.random() < 0.35:
            reason, lo, hi = rng.choice(ADJUST_REASONS)
            t = datetime.fromtimestamp(rng.uniform(first, horizon), UTC)
            heap.append((t, seq, "adjust", (reason, ri(lo, hi) // 10 * 10)))
            seq += 1
        heapq.heapify(heap)
        taken: dict[tuple, int] = {}                   # per-person limits: (item, period key) → quantity
        balance = minutes = order_seq = 0
        while heap:
            at, _k, kind, data = heapq.heappop(heap)
            order_seq += 1
            if kind == "earn":
                _at, ai, credited, points, day, reason = data
                minutes += credited
                hours_rows.append((at, vi, order_seq, ai, day, credited, minutes, reason))
                last_hours_at[vi] = at
                if points:
                    balance += points
                    points_rows.append((at, vi, order_seq, "earn", points, balance, ai, None, reason))
            elif kind == "adjust":
                reason, points = data
                balance += points
                points_rows.append((at, vi, order_seq, "adjust", points, balance, None, None, reason))
            elif kind == "visit":
                local = at.astimezone(LOCAL_TZ).date()
                basket, total = [], 0
                for ii in rng.sample(items_of[vcomm[vi]], len(items_of[vcomm[vi]])):
                    it = items[ii]
                    key = (ii, None if it["limit_period"] == "none" else local.year if it["limit_period"] == "year"
                           else (local.year, local.month) if it["limit_period"] == "month" else 0)
                    if it["points_price"] <= balance - total and (
                            not it["per_person_limit"] or taken.get(key, 0) < it["per_person_limit"]):
                        basket.append((ii, key))
                        total += it["points_price"]
                        if len(basket) == (2 if rng.random() < 0.2 else 1):
                            break
                if not basket:
                    continue
                oi = len(orders)
                orders.append([at, vi, vcomm[vi], total, "done", None, ""])
                balance -= total
                points_rows.append((at, vi, order_seq, "redeem", -total, balance, None, oi, "爱心超市兑换"))
                for ii, key in basket:
                    taken[key] = taken.get(key, 0) + 1
                    lines.append((oi, ii, 1, items[ii]["points_price"]))
                    item_events.append((at, ii, -1, oi, "redeem", f"兑换给 {v['name']}（{v['number']}）"))
                if rng.random() < 0.03:                # a mistake put right at the counter
                    heapq.heappush(heap, (at + timedelta(minutes=ri(3, 40)), seq, "cancel", (oi, basket)))
                    seq += 1
            else:                                       # cancel
                oi, basket = data
                reason = rng.choice(CANCEL_REASONS)
                orders[oi][4:7] = ["cancelled", at, reason]
                balance += orders[oi][3]
                points_rows.append((at, vi, order_seq, "refund", orders[oi][3], balance, None, oi,
                                    f"撤销兑换单：{reason}"))
                for ii, key in basket:
                    taken[key] -= 1
                    item_events.append((at, ii, 1, oi, "cancel", f"撤销兑换单：{reason}"))
        balances[vi], minutes_of[vi] = balance, minutes
        if minutes >= 600 and rng.random() < 0.05:
            issued = last_hours_at[vi] + timedelta(days=ri(1, 30))
            certs.append((min(issued, anchor - timedelta(hours=2)), vi, minutes))

    # ---------------------------------------------------------------- stock moves: opening, restocks, redemptions
    item_events.sort(key=lambda e: (e[0], e[1]))
    stock = [0] * len(items)
    last_at = [None] * len(items)
    moves: list[tuple] = []                            # (at, item idx, kind, qty, stock after, order idx, reason)
    opening = _local(first_day, 9)
    for ii in range(len(items)):
        stock[ii] = 50
        moves.append((opening, ii, "in", 50, 50, None, "期初入库"))
    for n, (at, ii, qty, oi, kind, reason) in enumerate(item_events):
        if stock[ii] + qty < 0:                        # restocked the morning before it ran out
            fill = rng.choice((30, 50, 80))
            stock[ii] += fill
            moves.append((max(at - timedelta(hours=2), last_at[ii] or opening), ii, "in", fill, stock[ii], None,
                          rng.choice(("街道配送入库", "爱心企业捐赠"))))
        stock[ii] += qty
        moves.append((at, ii, kind, qty, stock[ii], oi, reason))
        last_at[ii] = at
        if n % 97 == 0 and stock[ii] > 0:              # now and then one is damaged
            stock[ii] -= 1
            moves.append((at, ii, "out", -1, stock[ii], None, "破损报废"))
    for ii, it in enumerate(items):
        it["stock"] = stock[ii]

    # ---------------------------------------------------------------- write, parents first
    vids = w.insert(Volunteer, vols)
    w.insert_rows(VolunteerAccount, [dict(volunteer_id=vids[vi], points_balance=balances[vi],
                                          approved_minutes=minutes_of[vi]) for vi in range(n_vol)])
    tids = w.insert(Team, team_rows)
    w.insert(TeamMembership, [dict(team_id=tids[ti], volunteer_id=vids[vi], role=roles[k], joined_on=joined,
                                   left_on=left, created_at=_local(joined, 10), created_by=None)
                              for k, (ti, vi, joined, left) in enumerate(members)])
    for a in acts:
        a["team_id"] = tids[a["team_id"]]
    aids = w.insert(Activity, acts)
    for row in att_rows:
        row["activity_id"] = aids[row["activity_id"]]
        row["volunteer_id"] = vids[row["volunteer_id"]]
    att_ids = w.insert(Attendance, att_rows)
    del att_rows
    item_ids = w.insert(RewardItem, items)
    counter = _counter_user(session)
    order_ids = w.insert(RedemptionOrder, [dict(volunteer_id=vids[vi], area_id=communities[ci][0], at=at,
                                                total_points=total, status=status,
                                                handled_by=counter[0] if counter else None,
                                                cancelled_at=cancelled, cancel_reason=reason)
                                           for at, vi, ci, total, status, cancelled, reason in orders])
    w.insert(RedemptionLine, [dict(order_id=order_ids[oi], item_id=item_ids[ii], quantity=q, points_price=p)
                              for oi, ii, q, p in lines])
    # Ledger ids follow time, as they would have been written; each volunteer's entries stay in order.
    hours_rows.sort(key=lambda r: (r[0], r[1], r[2]))
    w.insert(HoursEntry, [dict(volunteer_id=vids[vi], at=at, service_date=day, kind="approve", minutes=m,
                               balance_after=bal, attendance_id=att_ids[ai], reverses_id=None, reason=reason,
                               created_by=None)
                          for at, vi, _s, ai, day, m, bal, reason in hours_rows])
    points_rows.sort(key=lambda r: (r[0], r[1], r[2]))
    w.insert(PointsEntry, [dict(volunteer_id=vids[vi], at=at, kind=kind, points=p, balance_after=bal,
                                attendance_id=None if ai is None else att_ids[ai],
                                order_id=None if oi is None else order_ids[oi],
                                reverses_id=None, reason=reason.replace("撤销兑换单：", f"撤销兑换单 {order_ids[oi]}：")
                                if kind == "refund" else reason, created_by=None)
                           for at, vi, _s, kind, p, bal, ai, oi, reason in points_rows])
    moves.sort(key=lambda m: (m[0], m[1]))
    w.insert(StockMove, [dict(item_id=item_ids[ii], at=at, kind=kind, quantity=q, stock_after=after,
                              order_id=None if oi is None else order_ids[oi], reason=reason, created_by=None)
                         for at, ii, kind, q, after, oi, reason in moves])
    certs.sort(key=lambda c: (c[0], c[1]))
    w.insert(Certificate, [dict(number=f"ZYFW{at.astimezone(LOCAL_TZ).year}{k + 1:06d}", volunteer_id=vids[vi],
                                issued_at=at, period_from=None, period_to=None, minutes=m, issued_by=None)
                           for k, (at, vi, m) in enumerate(certs)])
    w.insert_rows(Counter, [dict(name="volunteer_number", value=n_vol), dict(name="certificate", value=len(certs))])
    w.finish()
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Fresh statistics after a bulk load (autovacuum would gather them later): without them the
        # planner guesses, e.g. walks every activity by date for one volunteer's card.
        for table in w.counts:
            session.execute(text(f"ANALYZE {table}"))
    return dict(w.counts)
