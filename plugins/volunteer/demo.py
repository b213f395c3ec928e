"""Realistic demo data: volunteers per community, teams, a year of activities with approved hours,
a stocked 爱心超市 per community and some redemptions. Everything goes through the services, so the
ledgers and balances are consistent by construction."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from shell.clock import LOCAL_TZ
from shell.core.areas import list_areas
from shell.core.context import Actor, ServiceContext

from . import services as sv

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志文斌慧宁海燕春梅晨欣怡子轩浩然雨涵梓萱俊杰晓东丹凤振华淑珍秀英德明"
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
REGIONS = ("330102", "330105", "330106", "330108", "330110")
PER_COMMUNITY = {"small": 25, "medium": 60, "large": 120}


class _Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def demo_id_number(rng, birth: date, male: bool) -> str:
    from stdnum.cn import ric

    seq = rng.randint(1, 499) * 2 + (1 if male else 0)
    body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def seed(session, scale: str, rng) -> None:
    communities = list_areas(session, level="community")
    if not communities:
        return
    today = datetime.now(timezone.utc).astimezone(LOCAL_TZ).date()
    clock = _Clock(datetime.now(timezone.utc) - timedelta(days=400))
    ctx = ServiceContext(session, Actor.system(), clock)
    per = PER_COMMUNITY.get(scale, 25)
    used_ids = set()
    for ci, community in enumerate(communities):
        volunteers = []
        for _ in range(per):
            male = rng.random() < 0.45
            birth = date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))
            idn = demo_id_number(rng, birth, male)
            if idn in used_ids:
                continue
            used_ids.add(idn)
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            v = sv.register_volunteer(
                ctx, name=name, id_number=idn, area_id=community.id, phone=f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}",
                skills=rng.sample(SKILLS, rng.randint(1, 3)), address=f"{community.name}{rng.randint(1, 40)}幢{rng.randint(1, 6)}单元",
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
            clock.now = start.astimezone(timezone.utc) - timedelta(days=3)
            act = sv.create_activity(ctx, name=name, area_id=community.id, team_id=team.id,
                                     starts_at=start.astimezone(timezone.utc),
                                     ends_at=(start + timedelta(hours=rng.choice((2, 3)))).astimezone(timezone.utc),
                                     organiser=f"{community.name}居委会", place=place, target=target, content=content,
                                     leader_name=team.leader_name, recorder_name="李社区", capacity=20)
            people = rng.sample(volunteers, min(len(volunteers), rng.randint(5, 12)))
            done = day < today - timedelta(days=7)
            for v in people:
                sv.enrol(ctx, act.id, v.id)
                if not done and day > today:
                    continue
                t_in = start + timedelta(minutes=rng.randint(-10, 15))
                t_out = start + timedelta(minutes=rng.randint(90, 200))
                sv.record_attendance(ctx, act.id, v.id, t_in.astimezone(timezone.utc), t_out.astimezone(timezone.utc))
            clock.now = start.astimezone(timezone.utc) + timedelta(days=1)
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
                    sv.redeem(ctx, v.id, {rng.choice(affordable).id: 1})
    clock.now = datetime.now(timezone.utc)
    session.flush()
