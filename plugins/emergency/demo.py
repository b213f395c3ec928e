"""Realistic demo data: a street reserve and one per community, a typical catalogue (pumps, shovels,
stretchers, extinguishers, megaphones, torches, medicines, quilts, water …) with batches and a year
of moves, plans with steps, drills, the street's comprehensive rescue team, shelters.

Codes follow the GB/T 38565 structure (大类 1/2/3 + three two-digit levels); they are demo values
chosen per class, not copied from the standard's table. Everything goes through the services, so
the ledger invariants hold in demo databases too."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from shell.core.areas import list_areas
from shell.core.context import Actor, ServiceContext

from . import services

# (code, name, spec, unit, shelf life in days or None, street qty, community qty, community minimum)
CATALOGUE = (
    ("1010101", "饮用水", "550ml×24瓶/箱", "箱", 540, 200, 30, 20),
    ("1010201", "压缩饼干", "500g/袋", "袋", 720, 400, 60, 40),
    ("1010301", "方便面", "5连包", "包", 180, 150, 20, 10),
    ("1020101", "棉被", "200×230cm", "床", None, 300, 40, 30),
    ("1020201", "棉大衣", "均码", "件", None, 200, 20, 15),
    ("1030101", "折叠床", "行军床", "张", None, 100, 10, 8),
    ("1040101", "医用外科口罩", "50只/盒", "盒", 730, 200, 40, 30),
    ("1040201", "急救药箱", "家庭型", "个", 365, 30, 5, 3),
    ("1040301", "碘伏消毒液", "500ml", "瓶", 730, 60, 12, 8),
    ("2010101", "潜水泵", "QDX-1.5kW", "台", None, 10, 2, 1),
    ("2010201", "铁锹", "尖头", "把", None, 120, 20, 15),
    ("2010301", "编织袋", "防汛型 50×80cm", "条", None, 3000, 300, 200),
    ("2020101", "担架", "折叠式", "副", None, 20, 4, 2),
    ("2020201", "干粉灭火器", "MFZ/ABC4 4kg", "具", 1825, 80, 20, 12),
    ("2030101", "应急广播音箱", "移动式", "台", None, 6, 1, 1),
    ("2030201", "扩音喇叭", "手持 25W", "个", None, 30, 5, 3),
    ("2030301", "对讲机", "UHF 5W", "台", None, 40, 6, 4),
    ("2040101", "强光手电", "充电式", "只", None, 100, 15, 10),
    ("2040201", "应急照明灯", "LED 便携", "盏", None, 50, 8, 5),
    ("2050101", "救生衣", "成人款", "件", None, 100, 10, 8),
    ("3010101", "发电机", "汽油 5kW", "台", None, 4, 0, 0),
    ("3020101", "沙石料", "袋装 50kg", "袋", None, 500, 0, 0),
)

PLANS = (
    ("街道突发事件总体应急预案", "自然灾害", "总体预案"),
    ("防汛防台专项应急预案", "自然灾害", "专项预案"),
    ("高层建筑火灾事故应急预案", "事故灾难", "专项预案"),
    ("突发公共卫生事件应急预案", "公共卫生", "专项预案"),
    ("群体性事件处置应急预案", "社会安全", "专项预案"),
)
STEPS = (("接警与信息报告", "值班室"), ("启动响应、成立现场指挥部", "街道应急办"), ("人员疏散与转移安置", "社区"),
         ("抢险救援与医疗救护", "综合救援队"), ("物资调配与后勤保障", "应急物资库"), ("信息发布与舆情引导", "宣传组"),
         ("应急结束与善后评估", "街道应急办"))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰建国志红海"
SKILLS = ("水上救援", "高空救援", "心肺复苏", "驾驶", "电工", "破拆", "搜救", "通信保障", "医疗救护", "心理疏导")
CERTS = ("红十字救护员证", "电工证", "消防设施操作员证", "驾驶证 B2", "", "", "潜水员证")


def _name(rng) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")


def _phone(rng) -> str:
    return "1" + rng.choice("3578") + "".join(str(rng.randint(0, 9)) for _ in range(9))


def seed(session, scale: str, rng) -> None:
    streets = list_areas(session, level="street")
    if not streets:
        return
    street = streets[0]
    communities = [a for a in list_areas(session, level="community") if a.path.startswith(street.path)]
    today = date.today()
    start = datetime.now(timezone.utc) - timedelta(days=300)
    clock_now = [start]
    ctx = ServiceContext(session, Actor.system(), clock=lambda: clock_now[0])

    def advance(days: float) -> None:
        clock_now[0] = clock_now[0] + timedelta(days=days)

    items = [services.create_item(ctx, code, name, unit, spec)
             for code, name, spec, unit, *_ in CATALOGUE]
    main = services.create_warehouse(ctx, street.id, f"{street.name}应急物资储备库", address=f"{street.name}办事处后院",
                                     keeper=_name(rng), keeper_phone=_phone(rng))
    whs = [main] + [services.create_warehouse(ctx, c.id, f"{c.name}应急物资储备点", address=f"{c.name}党群服务中心",
                                              keeper=_name(rng), keeper_phone=_phone(rng)) for c in communities]

    # deliveries about 300 and 120 days ago, then issues, transfers and adjustments.
    for wh in whs:
        for item, (_code, _n, _s, _u, _life, sq, cq, cmin) in zip(items, CATALOGUE):
            services.set_min_stock(ctx, wh.id, item.id, (cmin * 5) if wh is main else cmin)
    for round_no, age in ((1, 300), (2, 120)):
        clock_now[0] = datetime.now(timezone.utc) - timedelta(days=age)
        # One production lot per item and delivery round, shared by every warehouse: a batch number
        # always means the same dates, so transfers between warehouses find matching batches.
        produced = {item.id: today - timedelta(days=age + rng.randint(10, 60)) for item in items}
        for wh in whs:
            street_level = wh is main
            for item, (code, name, spec, unit, life, sq, cq, cmin) in zip(items, CATALOGUE):
                qty = sq if street_level else cq
                if qty <= 0:
                    continue
                prod = produced[item.id]
                exp = prod + timedelta(days=life) if life else None
                if exp is not None and exp < ctx.today():
                    continue
                part = max(1, qty // 2 + rng.randint(-qty // 5, qty // 5)) if round_no == 1 else max(1, qty // 2)
                services.receive(ctx, wh.id, item.id, part, f"{prod:%Y%m}-{code[-3:]}-{round_no}", prod, exp,
                                 party="区应急管理局" if street_level else f"{main.name}配发")
            advance(0.01)
    clock_now[0] = datetime.now(timezone.utc) - timedelta(days=100)
    for _ in range(max(20, len(whs) * 6)):
        wh = rng.choice(whs)
        usable = [b for b in services.batches(ctx, wh.id) if not services.is_expired(b, ctx.today())]
        if not usable:
            continue
        b = rng.choice(usable)
        kind = rng.random()
        if kind < 0.6:
            services.issue(ctx, b.id, max(1, b.qty // rng.randint(4, 10)), party=rng.choice(
                ["防汛值守点", "社区网格员", "物业公司", "志愿者服务队", "居民转移安置点"]))
        elif kind < 0.8 and wh is main and len(whs) > 1:
            services.transfer(ctx, b.id, rng.choice(whs[1:]).id, max(1, b.qty // 10), note="汛前补充")
        else:
            services.adjust(ctx, b.id, -1, rng.choice(["损坏", "丢失"]), note="日常检查发现")
        advance(1)

    clock_now[0] = datetime.now(timezone.utc)
    # a batch of medicine that expires soon, so the alerts have something to show
    kit = items[7]
    services.receive(ctx, main.id, kit.id, 12, f"{today:%Y%m}-LQ", today - timedelta(days=340),
                     today + timedelta(days=25), party="区应急管理局")

    # plans
    plans = []
    for i, (title, cat, level) in enumerate(PLANS):
        plans.append(services.create_plan(ctx, street.id, f"{street.name}{title}", cat, level, version=f"{2 + i % 2}.0",
                                          issued_on=today - timedelta(days=300 + 60 * i),
                                          review_on=today + timedelta(days=-20 + 45 * i), steps=STEPS,
                                          file_name=f"{title}.pdf", file_data=("%PDF-1.4 演示附件 " + title).encode()))
    # drills: the street and most communities did their comprehensive drill; a couple are behind
    year = today.year
    for area, content in [(street, "comprehensive")] + [(c, "comprehensive" if rng.random() < 0.75 else "single")
                                                         for c in communities]:
        held_on = date(year, 1, 1) + timedelta(days=rng.randint(0, max(0, (today - date(year, 1, 1)).days)))
        drill = services.plan_drill(ctx, area.id, f"{area.name}{rng.choice(['防汛转移', '消防疏散', '地震避险'])}演练",
                                    rng.choice(["live", "tabletop"]), content, "inspection", held_on,
                                    plan_id=rng.choice(plans[1:4]).id, place=f"{area.name}广场",
                                    aim="检验预案的可操作性，锻炼队伍，提高居民自救互救能力")
        if held_on <= today and rng.random() < 0.9:
            services.record_drill_held(ctx, drill.id, held_on, rng.randint(30, 200),
                                       units=f"{area.name}、辖区物业、志愿者服务队、社区卫生服务站",
                                       scenario="暴雨导致低洼地带积水，需转移老人和行动不便居民")
            if rng.random() < 0.7:
                scores = [dict(row, observed="按预案执行", score=rng.randint(6, 10),
                               problem="" if rng.random() < 0.7 else "信息上报不够及时")
                          for row in services.evaluation_template(ctx, drill.id)]
                services.evaluate_drill(ctx, drill.id, scores, evaluator=_name(rng),
                                        problems="部分居民对疏散路线不熟悉", causes="宣传不到位",
                                        lessons="提前入户告知效果好", improvements="增设疏散指示标识，每季度开展一次桌面推演",
                                        evaluated_on=held_on)
    # teams
    team = services.create_team(ctx, street.id, f"{street.name}综合应急救援队", "comprehensive", _name(rng), _phone(rng))
    for _ in range(rng.randint(52, 60)):
        services.add_member(ctx, team.id, _name(rng), _phone(rng), rng.choice(SKILLS), rng.choice(CERTS) or None)
    for c in communities:
        t = services.create_team(ctx, c.id, f"{c.name}应急志愿者队", "volunteer", _name(rng), _phone(rng))
        for _ in range(rng.randint(8, 15)):
            services.add_member(ctx, t.id, _name(rng), _phone(rng), rng.choice(SKILLS))
    # duty roster: this week and next, the street's leaders taking turns; a weekend night left open
    monday = today - timedelta(days=today.weekday())
    leaders = [_name(rng) for _ in range(3)]
    for k in range(14):
        day = monday + timedelta(days=k)
        if day.weekday() < 5:
            services.set_duty(ctx, street.id, day, "full", leaders[k % 3], "、".join(_name(rng) for _ in range(2)),
                              _phone(rng))
        else:
            services.set_duty(ctx, street.id, day, "day", leaders[k % 3], _name(rng), _phone(rng))
            if k < 13:
                services.set_duty(ctx, street.id, day, "night", leaders[(k + 1) % 3], _name(rng), _phone(rng))
    # shelters
    for i, area in enumerate([street] + communities[:4]):
        services.create_shelter(ctx, area.id, f"{area.name}{['中心公园', '文体广场', '小学操场', '社区活动中心', '体育馆'][i % 5]}避难场所",
                                f"{area.name}{rng.randint(1, 200)}号", rng.randint(2, 30) * 500, rng.randint(5, 60) * 100,
                                facilities="应急供水、应急厕所、应急照明、医疗救护点、物资储备间",
                                manager=_name(rng), manager_phone=_phone(rng))
    session.flush()
    assert not services.check_ledger(session)
