"""Realistic demo data: a street reserve and one per community, a typical catalogue (pumps, shovels,
stretchers, extinguishers, megaphones, torches, medicines, quilts, water …) with batches and a year
of moves, plans with steps, drills, the street's comprehensive rescue team, shelters.

Codes follow the GB/T 38565 structure (大类 1/2/3 + three two-digit levels); they are demo values
chosen per class, not copied from the standard's table. At ``small`` everything goes through the
services; ``medium`` and ``large`` (issue 9: 30 warehouses × 300 items, 200,000 moves) are written
in bulk by ``seed_bulk``, which keeps the same ledger invariants by construction."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from shell.clock import LOCAL_TZ
from shell.core.areas import list_areas
from shell.core.context import Actor, ServiceContext
from shell.core.demo_people import DemoPeople

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

SKILLS = ("水上救援", "高空救援", "心肺复苏", "驾驶", "电工", "破拆", "搜救", "通信保障", "医疗救护", "心理疏导")
CERTS = ("红十字救护员证", "电工证", "消防设施操作员证", "驾驶证 B2", "", "", "潜水员证")


def seed(session, scale: str, rng) -> None:
    people = DemoPeople(rng)
    if scale in BULK:
        seed_bulk(session, scale, rng)
        assert not services.check_ledger(session)
        return
    streets = list_areas(session, level="street")
    if not streets:
        return
    street = streets[0]
    communities = [a for a in list_areas(session, level="community") if a.path.startswith(street.path)]
    today = date.today()
    start = datetime.now(UTC) - timedelta(days=300)
    clock_now = [start]
    ctx = ServiceContext(session, Actor.system(), clock=lambda: clock_now[0])

    def advance(days: float) -> None:
        clock_now[0] = clock_now[0] + timedelta(days=days)

    items = [services.create_item(ctx, code, name, unit, spec)
             for code, name, spec, unit, *_ in CATALOGUE]
    main = services.create_warehouse(ctx, street.id, f"{street.name}应急物资储备库", address=f"{street.name}办事处后院",
                                     keeper=people.name(), keeper_phone=people.phone())
    whs = [main] + [services.create_warehouse(ctx, c.id, f"{c.name}应急物资储备点", address=f"{c.name}党群服务中心",
                                              keeper=people.name(), keeper_phone=people.phone()) for c in communities]

    # deliveries about 300 and 120 days ago, then issues, transfers and adjustments.
    for wh in whs:
        for item, (*_, cmin) in zip(items, CATALOGUE, strict=True):
            services.set_min_stock(ctx, wh.id, item.id, (cmin * 5) if wh is main else cmin)
    for round_no, age in ((1, 300), (2, 120)):
        clock_now[0] = datetime.now(UTC) - timedelta(days=age)
        # One production lot per item and delivery round, shared by every warehouse: a batch number
        # always means the same dates, so transfers between warehouses find matching batches.
        produced = {item.id: today - timedelta(days=age + rng.randint(10, 60)) for item in items}
        for wh in whs:
            street_level = wh is main
            for item, (code, _n, _s, _u, life, sq, cq, _cmin) in zip(items, CATALOGUE, strict=True):
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
    clock_now[0] = datetime.now(UTC) - timedelta(days=100)
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

    # the half-year stock-take of the street reserve (盘点表), posted with a few differences; its own
    # random stream, so the rest of the demo is the same with or without it
    clock_now[0] = datetime.now(UTC) - timedelta(days=10)
    trng = random.Random(rng.getstate()[1][0])
    take = services.open_stocktake(ctx, main.id, counted_by=f"{main.keeper}、{DemoPeople(trng).name()}",
                                   note=f"{today.year}年{'上' if today.month <= 6 else '下'}半年盘点")
    counts = {}
    for line in services.stocktake_sheet(ctx, take.id):
        diff = trng.choice((-3, -2, -1, -1, 1, 2)) if trng.random() < 0.2 else 0
        counted = max(0, line.expected_qty + diff)
        counts[line.batch_id] = (counted, None if counted == line.expected_qty else trng.choice(
            ("包装破损报废未登记", "上次发放未出账", "清点误差", "调拨在途")))
    services.record_counts(ctx, take.id, counts)
    services.post_stocktake(ctx, take.id)

    clock_now[0] = datetime.now(UTC)
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
        # The street's own comprehensive drill is always held and evaluated: the drill reports
        # (演练评估报告, 演练总结报告) print from it whatever the seed drew for the communities.
        street_drill = area is street
        if held_on <= today and (rng.random() < 0.9 or street_drill):
            services.record_drill_held(ctx, drill.id, held_on, rng.randint(30, 200),
                                       units=f"{area.name}、辖区物业、志愿者服务队、社区卫生服务站",
                                       scenario="暴雨导致低洼地带积水，需转移老人和行动不便居民")
            if rng.random() < 0.7 or street_drill:
                scores = [dict(row, observed="按预案执行", score=rng.randint(6, 10),
                               problem="" if rng.random() < 0.7 else "信息上报不够及时")
                          for row in services.evaluation_template(ctx, drill.id)]
                services.evaluate_drill(ctx, drill.id, scores, evaluator=people.name(),
                                        problems="部分居民对疏散路线不熟悉", causes="宣传不到位",
                                        lessons="提前入户告知效果好", improvements="增设疏散指示标识，每季度开展一次桌面推演",
                                        evaluated_on=held_on)
    # teams
    team = services.create_team(ctx, street.id, f"{street.name}综合应急救援队", "comprehensive", people.name(), people.phone())
    for _ in range(rng.randint(52, 60)):
        services.add_member(ctx, team.id, people.name(), people.phone(), rng.choice(SKILLS), rng.choice(CERTS) or None)
    for c in communities:
        t = services.create_team(ctx, c.id, f"{c.name}应急志愿者队", "volunteer", people.name(), people.phone())
        for _ in range(rng.randint(8, 15)):
            services.add_member(ctx, t.id, people.name(), people.phone(), rng.choice(SKILLS))
    # duty roster: this week and next, the street's leaders taking turns; a weekend night left open
    monday = today - timedelta(days=today.weekday())
    leaders = [people.name() for _ in range(3)]
    for k in range(14):
        day = monday + timedelta(days=k)
        if day.weekday() < 5:
            services.set_duty(ctx, street.id, day, "full", leaders[k % 3], "、".join(people.name() for _ in range(2)),
                              people.phone())
        else:
            services.set_duty(ctx, street.id, day, "day", leaders[k % 3], people.name(), people.phone())
            if k < 13:
                services.set_duty(ctx, street.id, day, "night", leaders[(k + 1) % 3], people.name(), people.phone())
    # shelters
    for i, area in enumerate([street] + communities[:4]):
        services.create_shelter(ctx, area.id,
                                f"{area.name}{['中心公园', '文体广场', '小学操场', '社区活动中心', '体育馆'][i % 5]}避难场所",
                                f"{area.name}{rng.randint(1, 200)}号", rng.randint(2, 30) * 500, rng.randint(5, 60) * 100,
                                facilities="应急供水、应急厕所、应急照明、医疗救护点、物资储备间",
                                manager=people.name(), manager_phone=people.phone())
    session.flush()
    assert not services.check_ledger(session)


# ============================================================================ medium / large: bulk
# The street of issue 9 (30 warehouses × 300 items, 200,000 stock moves, years of drills) is written
# with BulkWriter (Core executemany): going through the services would take many minutes. The rows
# are built by a simulation that applies the services' rules itself — moves in time order, ids in
# that order, ``balance_after`` the running balance, ``qty`` the sum of the moves, no issue from an
# expired batch, stock-takes that book the counted difference — and ``check_ledger`` must pass.

# (warehouses, items, stock moves, years of drills) per scale; medium is a tenth of large
BULK = {"medium": (6, 30, 20_000, 5), "large": (30, 300, 200_000, 5)}

# GB/T 38565 structure: 大类 + 3 two-digit levels. (class digit, level-2, level-3, name, unit, shelf
# life in days or None, specifications …); variants of one supply share its code.
BULK_CATALOGUE = (
    (1, 1, 1, "饮用水", "箱", 540, "550ml×24瓶/箱", "350ml×24瓶/箱", "1.5L×12瓶/箱", "5L×4桶/箱", "18.9L桶装"),
    (1, 1, 2, "压缩饼干", "袋", 720, "500g/袋", "250g/袋", "1kg/袋", "5kg/箱"),
    (1, 1, 3, "方便面", "箱", 180, "5连包", "24袋/箱", "12桶/箱"),
    (1, 1, 4, "自热米饭", "盒", 270, "350g/盒", "420g/盒", "12盒/箱"),
    (1, 1, 5, "八宝粥", "箱", 540, "360g×12罐/箱", "280g×24罐/箱"),
    (1, 1, 6, "大米", "袋", 365, "10kg/袋", "25kg/袋", "5kg/袋"),
    (1, 1, 7, "食用油", "桶", 540, "5L/桶", "1.8L/桶"),
    (1, 1, 8, "午餐肉罐头", "箱", 1095, "340g×24罐/箱", "198g×48罐/箱"),
    (1, 1, 9, "能量棒", "盒", 365, "40g×20支/盒", "60g×12支/盒"),
    (1, 2, 1, "棉被", "床", None, "200×230cm", "150×200cm", "220×240cm 加厚"),
    (1, 2, 2, "毛毯", "条", None, "150×200cm", "180×220cm"),
    (1, 2, 3, "棉大衣", "件", None, "均码", "加大码", "儿童款"),
    (1, 2, 4, "雨衣", "件", None, "分体式 L", "分体式 XL", "连体式 均码", "一次性"),
    (1, 2, 5, "雨靴", "双", None, "40码", "42码", "44码", "38码"),
    (1, 2, 6, "睡袋", "个", None, "信封式 -5℃", "木乃伊式 -10℃", "夏季款"),
    (1, 2, 7, "保暖内衣", "套", None, "男款 L", "女款 M", "儿童款"),
    (1, 3, 1, "救灾帐篷", "顶", None, "12㎡ 单帐", "36㎡ 棉帐", "60㎡ 指挥帐篷", "6㎡ 家庭帐"),
    (1, 3, 2, "折叠床", "张", None, "行军床", "加宽款 80cm", "儿童款"),
    (1, 3, 3, "防潮垫", "张", None, "铝膜 200×150cm", "EVA 180×60cm"),
    (1, 3, 4, "简易厕所", "座", None, "移动式 单人", "折叠式"),
    (1, 3, 5, "隔断帘", "套", None, "2×2m", "2×3m"),
    (1, 4, 1, "医用外科口罩", "盒", 730, "50只/盒", "10只/袋", "儿童款 50只/盒"),
    (1, 4, 2, "医用防护口罩", "盒", 1095, "N95 20只/盒", "KN95 50只/盒"),
    (1, 4, 3, "急救药箱", "个", 365, "家庭型", "车载型", "单位型 30人"),
    (1, 4, 4, "碘伏消毒液", "瓶", 730, "500ml", "100ml", "60ml 棉签装"),
    (1, 4, 5, "医用酒精", "瓶", 730, "75% 500ml", "75% 100ml 喷雾"),
    (1, 4, 6, "一次性医用手套", "盒", 1095, "M 100只/盒", "L 100只/盒"),
    (1, 4, 7, "医用防护服", "套", 1095, "XL", "XXL", "L"),
    (1, 4, 8, "红外体温计", "支", None, "额温枪", "耳温枪"),
    (1, 4, 9, "医用绷带", "卷", 1095, "8cm×4.5m", "10cm×4.5m", "弹性 7.5cm"),
    (1, 4, 10, "止血带", "根", 1825, "旋压式", "橡胶 卡扣式"),
    (1, 4, 11, "口服补液盐", "盒", 730, "Ⅲ 6袋/盒", "散装 100袋"),
    (1, 5, 1, "毛巾", "条", None, "34×76cm", "70×140cm 浴巾"),
    (1, 5, 2, "洗漱包", "套", None, "五件套", "简装三件套"),
    (1, 5, 3, "卫生纸", "提", 1095, "10卷/提", "12卷/提"),
    (1, 5, 4, "垃圾袋", "卷", None, "45×50cm", "80×100cm 加厚"),
    (1, 5, 5, "塑料水桶", "个", None, "20L 带盖", "10L"),
    (1, 5, 6, "脸盆", "个", None, "塑料 40cm", "不锈钢 36cm"),
    (2, 1, 1, "潜水泵", "台", None, "QDX-1.5kW", "QDX-3kW", "WQ 7.5kW 污水泵", "便携 0.75kW"),
    (2, 1, 2, "排水软管", "盘", None, "2寸 20m", "3寸 30m", "4寸 50m"),
    (2, 1, 3, "铁锹", "把", None, "尖头", "方头", "折叠工兵锹"),
    (2, 1, 4, "编织袋", "条", None, "防汛型 50×80cm", "60×100cm", "吸水膨胀袋"),
    (2, 1, 5, "挡水板", "块", None, "铝合金 1m", "ABS 0.6m"),
    (2, 1, 6, "抢险救生舟", "艘", None, "橡皮艇 4人", "冲锋舟 8人"),
    (2, 1, 7, "防汛沙袋", "个", None, "成品 25kg", "空袋 50×70cm"),
    (2, 2, 1, "担架", "副", None, "折叠式", "铲式", "篮式 高空"),
    (2, 2, 2, "救生衣", "件", None, "成人款", "儿童款", "船用 150N"),
    (2, 2, 3, "救生圈", "个", None, "2.5kg 成人", "4.3kg 船用"),
    (2, 2, 4, "安全绳", "根", None, "12mm×30m", "16mm×50m", "10.5mm×100m"),
    (2, 2, 5, "破拆工具组", "套", None, "手动 8件", "电动 液压"),
    (2, 2, 6, "急救毯", "张", 1825, "铝箔 160×210cm", "加厚 双面"),
    (2, 2, 7, "安全帽", "顶", 1095, "ABS 红色", "ABS 黄色", "救援头盔"),
    (2, 2, 8, "应急逃生绳", "根", None, "高层 20m", "高层 30m"),
    (2, 3, 1, "干粉灭火器", "具", 1825, "MFZ/ABC4 4kg", "MFZ/ABC8 8kg", "MFZ/ABC2 2kg", "推车 35kg"),
    (2, 3, 2, "灭火毯", "张", 1825, "1.2×1.2m", "1.5×1.5m", "1.8×1.8m"),
    (2, 3, 3, "消防水带", "盘", None, "DN65 20m", "DN50 25m"),
    (2, 3, 4, "过滤式消防自救呼吸器", "个", 1095, "TZL30", "TZL60"),
    (2, 3, 5, "消防战斗服", "套", None, "02式 L", "02式 XL"),
    (2, 3, 6, "水基灭火器", "具", 1825, "MSZ/3 3L", "MSZ/6 6L"),
    (2, 4, 1, "应急广播音箱", "台", None, "移动式", "太阳能 户外", "拉杆式 80W"),
    (2, 4, 2, "扩音喇叭", "个", None, "手持 25W", "肩挂 50W", "录音型 15W"),
    (2, 4, 3, "对讲机", "台", None, "UHF 5W", "VHF 5W", "公网 4G"),
    (2, 4, 4, "卫星电话", "部", None, "天通 手持", "北斗短报文"),
    (2, 4, 5, "救生哨", "个", None, "铝合金", "塑料 双频"),
    (2, 4, 6, "手摇收音机", "台", None, "手摇发电 带照明", "太阳能款"),
    (2, 5, 1, "强光手电", "只", None, "充电式", "防爆型", "头戴式"),
    (2, 5, 2, "应急照明灯", "盏", None, "LED 便携", "充电式 30W", "磁吸工作灯"),
    (2, 5, 3, "移动照明灯塔", "台", None, "4×1000W", "LED 4×500W"),
    (2, 5, 4, "干电池", "板", 1825, "5号 4节/板", "7号 4节/板", "1号 2节/板"),
    (2, 5, 5, "荧光棒", "盒", 1095, "15cm 10支/盒", "10cm 50支/盒"),
    (2, 6, 1, "警戒带", "卷", None, "反光 100m", "PE 500m"),
    (2, 6, 2, "反光锥", "个", None, "70cm", "50cm", "90cm 带灯"),
    (2, 6, 3, "反光背心", "件", None, "均码", "带口袋 XL"),
    (2, 6, 4, "警示灯", "个", None, "LED 爆闪", "太阳能"),
    (2, 6, 5, "移动隔离护栏", "组", None, "1.5×1m", "2×1.2m"),
    (3, 1, 1, "发电机", "台", None, "汽油 5kW", "柴油 10kW", "静音 3kW", "变频 2kW"),
    (3, 1, 2, "移动电源", "台", None, "户外 2000Wh", "户外 1000Wh", "便携 300Wh"),
    (3, 1, 3, "电缆盘", "个", None, "50m 4平方", "30m 2.5平方"),
    (3, 2, 1, "沙石料", "袋", None, "袋装 50kg", "吨袋 1t"),
    (3, 2, 2, "彩条布", "卷", None, "4×50m", "6×50m", "8×50m"),
    (3, 2, 3, "木桩", "根", None, "Φ10cm×1.5m", "Φ12cm×2m"),
    (3, 2, 4, "钢管", "根", None, "Φ48×3m", "Φ48×6m"),
    (3, 2, 5, "防水油布", "块", None, "4×6m", "6×8m", "10×10m"),
    (3, 3, 1, "油锯", "台", None, "20寸", "16寸"),
    (3, 3, 2, "切割机", "台", None, "手持 350型", "无齿锯 400型"),
    (3, 3, 3, "铝合金梯", "架", None, "人字梯 2m", "伸缩梯 5m", "折叠梯 3.5m"),
    (3, 3, 4, "撬棍", "根", None, "1.2m", "1.5m", "1.8m"),
    (3, 3, 5, "大锤", "把", None, "8磅", "12磅"),
    (3, 3, 6, "手推车", "辆", None, "双轮 300kg", "平板 500kg"),
)
SUPPLIERS = ("区应急管理局", "市应急物资储备中心", "区红十字会", "区民政局", "爱心企业捐赠", "中标供应商")
RECIPIENTS = ("防汛值守点", "社区网格员", "物业公司", "志愿者服务队", "居民转移安置点", "综合应急救援队",
              "社区卫生服务站", "老年活动中心", "学校", "施工工地（借用）")
ADJUST_MINUS = ("丢失", "损坏")
TEAM_UNITS = ("防汛抢险队", "消防救援队", "医疗救护队", "治安巡防队")
SCENARIOS = ("暴雨导致低洼地带积水", "居民楼发生火情", "发生4.5级地震", "燃气管道泄漏")   # a drill's scenario
PLAN_COMMUNITY = (("社区防汛防台应急预案", "自然灾害", "部门预案"), ("社区消防安全应急预案", "事故灾难", "现场处置方案"),
                  ("社区公共卫生事件应急预案", "公共卫生", "部门预案"))
DRILL_TOPICS = ("防汛转移", "消防疏散", "地震避险", "燃气泄漏处置", "高层火灾逃生", "传染病防控", "人员密集场所疏散")


def _bulk_catalogue(n: int) -> list[tuple[str, str, str, str, int | None]]:
    """``n`` (code, name, spec, unit, shelf life) — every supply first, then its further variants,
    so a small catalogue still spans the classes; past the listed variants a 储备型 edition."""
    if n <= len(BULK_CATALOGUE):        # a small catalogue: supplies spread over the whole list
        picked = [BULK_CATALOGUE[i * len(BULK_CATALOGUE) // n] for i in range(n)]
        return [(f"{cls}{l2:02d}{l3:02d}01", name, specs[0], unit, life)
                for cls, l2, l3, name, unit, life, *specs in picked]
    rows, depth = [], 0
    while len(rows) < n:
        added = False
        for cls, l2, l3, name, unit, life, *specs in BULK_CATALOGUE:
            k = depth % len(specs)
            if depth < len(specs) or depth // len(specs) < 3:
                spec = specs[k] + ("" if depth < len(specs) else f"（{'甲乙丙'[depth // len(specs) - 1]}型）")
                rows.append((f"{cls}{l2:02d}{l3:02d}{depth // len(specs) + 1:02d}" if depth >= len(specs)
                             else f"{cls}{l2:02d}{l3:02d}01", name, spec, unit, life))
                added = True
                if len(rows) == n:
                    break
        depth += 1
        if not added:
            break
    return rows


_MIDNIGHT: dict[date, datetime] = {}


def _utc(day: date, rng) -> datetime:
    """A working-hours moment (08:30–17:30 Shanghai) of ``day``, in UTC."""
    base = _MIDNIGHT.get(day)
    if base is None:        # one zone conversion per day, not per move (200,000 of them)
        base = _MIDNIGHT[day] = datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ).astimezone(UTC)
    return base + timedelta(minutes=8 * 60 + 30 + rng.randrange(9 * 60))


def seed_bulk(session, scale: str, rng, today: date | None = None) -> dict[str, int]:
    """The medium/large street: warehouses, catalogue, batches and the stock ledger, stock-takes,
    plans, years of drills with evaluations, teams, duty roster, shelters. Returns row counts."""
    people = DemoPeople(rng)
    from sqlalchemy import bindparam, func, select, update

    from shell.clock import local_today
    from shell.db.bulk import BulkWriter

    from .models import Batch, Item, MinStock, StockMove, Stocktake, StocktakeLine, Warehouse

    n_wh, n_items, n_moves, drill_years = BULK[scale]
    streets = list_areas(session, level="street")
    if not streets:
        return {}
    street = streets[0]
    communities = [a for a in list_areas(session, level="community") if a.path.startswith(street.path)]
    today = today or local_today()
    w = BulkWriter(session)

    # -- warehouses: the street's reserve and its flood store, one point per community, a second
    #    point in the larger communities until there are n_wh
    wh_rows = [dict(area_id=street.id, name=f"{street.name}应急物资储备库", level="street",
                    address=f"{street.name}办事处后院", keeper=people.name(), keeper_phone=people.phone(), active=True)]
    if n_wh > 1 + len(communities):
        wh_rows.append(dict(area_id=street.id, name=f"{street.name}防汛物资仓库", level="street",
                            address=f"{street.name}滨河路{rng.randint(1, 99)}号", keeper=people.name(),
                            keeper_phone=people.phone(), active=True))
    for c in communities:
        wh_rows.append(dict(area_id=c.id, name=f"{c.name}应急物资储备点", level="community",
                            address=f"{c.name}党群服务中心", keeper=people.name(), keeper_phone=people.phone(), active=True))
    for c in communities:
        if len(wh_rows) >= n_wh:
            break
        place = rng.choice(["小区物业", "老年活动中心", "文体中心", "小学"])
        wh_rows.append(dict(area_id=c.id, name=f"{c.name}{place}储备点", level="community",
                            address=f"{c.name}{place}", keeper=people.name(), keeper_phone=people.phone(), active=True))
    wh_rows = wh_rows[:n_wh]
    wh_ids = w.insert(Warehouse, wh_rows)
    wh_name = {i: r["name"] for i, r in zip(wh_ids, wh_rows, strict=True)}
    wh_keeper = {i: r["keeper"] for i, r in zip(wh_ids, wh_rows, strict=True)}
    street_whs = [i for i, r in zip(wh_ids, wh_rows, strict=True) if r["level"] == "street"]

    catalogue = _bulk_catalogue(n_items)
    item_ids = w.insert(Item, [dict(code=c, name=n, spec=s, unit=u, active=True) for c, n, s, u, _l in catalogue])
    life_of = {i: row[4] for i, row in zip(item_ids, catalogue, strict=True)}

    # -- lots: a production lot of an item means the same dates in every warehouse (transfers keep
    #    the batch number). Expiry is spread over every alert band: expired, ≤30, 31–60, 61–90, later.
    start_day = today - timedelta(days=3 * 365)
    batch_rows, batch_meta = [], []     # meta: (warehouse, item, first receipt day, expiry)
    min_rows = []
    lots_of: dict[int, list[tuple[str, date, date | None, date]]] = {}
    for item in item_ids:
        life = life_of[item]
        lots = []
        for k in range(rng.randint(3, 6)):
            if life:
                band = rng.random()
                offset = (rng.randint(-45, -1) if band < 0.06 else rng.randint(0, 30) if band < 0.12
                          else rng.randint(31, 60) if band < 0.18 else rng.randint(61, 90) if band < 0.24
                          else rng.randint(91, 1100))
                offset = min(offset, life - 30)          # produced at least a month ago
                expiry = today + timedelta(days=offset)
                produced = expiry - timedelta(days=life)
            else:
                expiry, produced = None, today - timedelta(days=rng.randint(40, 3 * 365 + 200))
            first = max(produced + timedelta(days=rng.randint(5, 40)), start_day + timedelta(days=rng.randint(0, 60)))
            first = min(first, today - timedelta(days=2))
            if expiry is not None and first >= expiry:
                first = expiry - timedelta(days=1)
            lots.append((f"{produced:%Y%m}-{rng.randint(100, 999)}{'ABCDEFGH'[k]}", produced, expiry, first))
        lots_of[item] = lots
    for wh in wh_ids:
        main = wh in street_whs
        held = item_ids if main else [i for i in item_ids if rng.random() < 0.75]
        for item in held:
            lots = lots_of[item]
            for lot_no, produced, expiry, first in rng.sample(lots, rng.randint(1, min(3, len(lots)))):
                # a community point gets the lot a little after the street received it
                got = first if main else min(first + timedelta(days=rng.randint(0, 20)), today - timedelta(days=1))
                if expiry is not None and got >= expiry:
                    got = first
                batch_rows.append(dict(warehouse_id=wh, item_id=item, batch_no=lot_no, production_date=produced,
                                       expiry_date=expiry, qty=0))
                batch_meta.append((wh, item, got, expiry))
            min_rows.append(dict(warehouse_id=wh, item_id=item,
                                 min_qty=rng.choice((5, 10, 20, 30, 50, 100)) * (3 if main else 1)))
    batch_ids = w.insert(Batch, batch_rows)       # qty set once the ledger is known
    w.insert(MinStock, min_rows)
    batch_no = {b: r["batch_no"] for b, r in zip(batch_ids, batch_rows, strict=True)}
    twin = {(r["warehouse_id"], r["item_id"], r["batch_no"]): b for b, r in zip(batch_ids, batch_rows, strict=True)}

    # -- the ledger, simulated in time order: each batch opens with its receipt; then issues,
    #    further receipts, transfers street → community, adjustments, expired write-offs, and a few
    #    stock-takes. Times are working-hours moments spread from three years ago to today.
    order = sorted(range(len(batch_ids)), key=lambda k: (batch_meta[k][2], k))
    n_events = max(0, n_moves - len(batch_ids))
    span = (today - start_day).days
    event_days = sorted(start_day + timedelta(days=rng.randrange(span)) for _ in range(n_events))
    # stock-takes: a few posted counts of whole warehouses, spread over the last two years
    take_days = sorted(today - timedelta(days=rng.randint(20, 700)) for _ in range(max(2, n_wh // 5)))
    take_whs = [rng.choice(wh_ids) for _ in take_days]

    balance = [0] * len(batch_ids)
    live: list[int] = []            # batch indexes whose first receipt is done
    moves: list[dict] = []
    takes: list[dict] = []
    take_lines: list[dict] = []
    doc_seq = [0]

    day_text: dict[date, str] = {}

    def doc(prefix: str, day: date) -> str:
        doc_seq[0] += 1
        text_ = day_text.get(day)
        if text_ is None:
            text_ = day_text[day] = f"{day:%Y%m%d}"
        return f"{prefix}{text_}-{doc_seq[0]:08X}"

    def move(k: int, kind: str, qty: int, at: datetime, **extra) -> None:
        balance[k] += qty
        wh, item = batch_meta[k][0], batch_meta[k][1]
        moves.append(dict(batch_id=batch_ids[k], warehouse_id=wh, item_id=item, kind=kind, qty=qty,
                          balance_after=balance[k], reason=extra.get("reason"), note=extra.get("note"),
                          party=extra.get("party"), doc_no=extra.get("doc_no"), stocktake_id=extra.get("stocktake_id"),
                          occurred_at=at, created_by=None, actor_name=wh_keeper[wh]))

    def open_batches_until(day: date) -> None:
        while pos[0] < len(order) and batch_meta[order[pos[0]]][2] <= day:
            k = order[pos[0]]
            wh, item, got, _exp = batch_meta[k]
            main = wh in street_whs
            qty = rng.randint(50, 400) if main else rng.randint(10, 120)
            move(k, "in", qty, _utc(got, rng), party=rng.choice(SUPPLIERS) if main else f"{wh_name[street_whs[0]]}配发",
                 doc_no=doc("RK", got))
            live.append(k)
            pos[0] += 1

    def stocktake(wh: int, day: date) -> None:
        take_id = len(takes) + 1 + take_base
        at = _utc(day, rng)
        takes.append(dict(id=take_id, warehouse_id=wh, status="posted", opened_on=day, posted_at=at,
                          counted_by=f"{wh_keeper[wh]}、{people.name()}",
                          note=f"{day.year}年{'上' if day.month <= 6 else '下'}半年盘点"))
        for k in live:
            if batch_meta[k][0] != wh or balance[k] <= 0:
                continue
            expected = balance[k]
            counted = expected
            if rng.random() < 0.08:
                counted = max(0, expected + rng.choice((-3, -2, -1, -1, 1, 2)))
            take_lines.append(dict(stocktake_id=take_id, batch_id=batch_ids[k], expected_qty=expected,
                                   counted_qty=counted, note=None if counted == expected else "盘点差异"))
            if counted != expected:
                move(k, "stocktake", counted - expected, at, reason="盘盈" if counted > expected else "盘亏",
                     note="盘点差异", stocktake_id=take_id, doc_no=f"PD{take_id:06d}")

    take_base = session.scalar(select(func.max(Stocktake.id))) or 0
    pos = [0]
    ti = 0
    for day in event_days:
        while ti < len(take_days) and take_days[ti] <= day:
            open_batches_until(take_days[ti])
            stocktake(take_whs[ti], take_days[ti])
            ti += 1
        open_batches_until(day)
        if not live:
            continue
        for _attempt in range(8):
            k = live[rng.randrange(len(live))]
            wh, item, got, expiry = batch_meta[k]
            have = balance[k]
            expired = expiry is not None and day > expiry
            at = _utc(day, rng)
            if expired:
                if have > 0:
                    move(k, "adjust", -have, at, reason="过期报废", note="过期物资报废处理", doc_no=doc("TZ", day))
                    break
                continue
            r = rng.random()
            if r < 0.2 or have == 0:
                if (day - got).days > 400:
                    continue            # an old lot is not delivered again
                move(k, "in", rng.randint(10, 200), at, party=rng.choice(SUPPLIERS), doc_no=doc("RK", day))
            elif r < 0.84:
                move(k, "out", -rng.randint(1, max(1, have // 4)), at, party=rng.choice(RECIPIENTS),
                     doc_no=doc("CK", day))
            elif r < 0.94:
                if wh not in street_whs:
                    continue            # transfers go from the street's stores to the communities
                dest = twin.get((rng.choice(wh_ids), item, batch_no[batch_ids[k]]))
                if dest is None or dest == batch_ids[k]:
                    continue
                d = dest - batch_ids[0]        # ids are consecutive
                if batch_meta[d][2] > day or batch_meta[d][0] == wh:
                    continue
                qty = rng.randint(1, max(1, have // 3))
                no = doc("DB", day)
                move(k, "transfer_out", -qty, at, party=wh_name[batch_meta[d][0]], doc_no=no, note="汛前补充")
                move(d, "transfer_in", qty, at, party=wh_name[wh], doc_no=no, note="汛前补充")
            elif r < 0.98:
                move(k, "adjust", -min(have, rng.randint(1, 3)), at, reason=rng.choice(ADJUST_MINUS),
                     note="日常检查发现", doc_no=doc("TZ", day))
            else:
                move(k, "adjust", rng.randint(1, 3), at, reason="找回", note="清点时找回", doc_no=doc("TZ", day))
            break
        if len(moves) + len(order) - pos[0] >= n_moves:
            break
    while ti < len(take_days):          # what is left, still in date order
        open_batches_until(take_days[ti])
        stocktake(take_whs[ti], take_days[ti])
        ti += 1
    open_batches_until(today)

    # Moves were booked day by day, but a day's moments were drawn at random: within each day the
    # drawn moments are handed out again in booking order, so ids follow time and every batch's
    # running balance (balance_after, booked in this order) stays a chain.
    shanghai = timedelta(hours=8)       # Asia/Shanghai keeps no daylight saving time
    days = [(m["occurred_at"] + shanghai).date() for m in moves]
    i = 0
    while i < len(moves):
        day = days[i]
        j = i
        while j < len(moves) and days[j] == day:
            j += 1
        for m, at in zip(moves[i:j], sorted(m["occurred_at"] for m in moves[i:j]), strict=True):
            m["occurred_at"] = at
        i = j
    running: dict[int, int] = {}
    for m in moves:
        running[m["batch_id"]] = running.get(m["batch_id"], 0) + m["qty"]
        assert m["balance_after"] == running[m["batch_id"]] >= 0
    w.insert_rows(Stocktake, [dict(t, created_at=w.now, updated_at=w.now, version_id=1, created_by=None)
                              for t in takes])
    w.next_id[Stocktake] = take_base + len(takes) + 1
    w.insert(StocktakeLine, take_lines)
    w.insert(StockMove, moves)
    session.execute(update(Batch.__table__).where(Batch.__table__.c.id == bindparam("bid"))
                    .values(qty=bindparam("q")),
                    [{"bid": b, "q": q} for b, q in running.items() if q])
    return _bulk_rest(session, w, street, communities, today, drill_years, rng)


def _bulk_rest(session, w, street, communities, today: date, drill_years: int, rng) -> dict[str, int]:
    """Plans with steps, drills over ``drill_years`` years with evaluations, teams and members, the
    duty roster, shelters — for the street and every community."""
    people = DemoPeople(rng)
    from .models import DRILL_CONTENTS, Drill, DrillScore, DutyShift, Plan, PlanStep, Shelter, Team, TeamMember

    units = [street] + communities
    # -- plans: the street's five, three per community; each with the seven response steps
    plan_rows, plan_unit = [], []
    for area in units:
        spec = PLANS if area is street else PLAN_COMMUNITY
        for title, cat, level in spec:
            body = ("%PDF-1.4 演示附件 " + title).encode()
            issued = today - timedelta(days=rng.randint(200, 1500))
            plan_rows.append(dict(area_id=area.id, title=f"{area.name}{title}", category=cat, level=level,
                                  version=f"{rng.randint(1, 4)}.{rng.randint(0, 2)}", issued_on=issued,
                                  review_on=issued + timedelta(days=rng.choice((730, 1095))),
                                  file_name=f"{title}.pdf", file_size=len(body), file_data=body, active=True,
                                  created_by=None))
            plan_unit.append(area.id)
    plan_ids = w.insert(Plan, plan_rows)
    step_rows = [dict(plan_id=p, seq=s + 1, action=action, responsible=who)
                 for p in plan_ids for s, (action, who) in enumerate(STEPS)]
    step_ids = w.insert(PlanStep, step_rows)
    steps_of = {p: step_ids[i * len(STEPS):(i + 1) * len(STEPS)] for i, p in enumerate(plan_ids)}
    plans_of: dict[int, list[int]] = {}
    for p, a in zip(plan_ids, plan_unit, strict=True):
        plans_of.setdefault(a, []).append(p)

    # -- drills: every year each unit plans its comprehensive drill (a few fall behind) and some
    #    single-subject ones; past drills were held, most of them evaluated against the plan's steps
    drill_rows, drill_plan, drill_eval = [], [], []
    for year in range(today.year - drill_years + 1, today.year + 1):
        for area in units:
            kinds = ["comprehensive"] * (0 if rng.random() < 0.08 else 1) + ["single"] * rng.randint(0, 2)
            if area is street:
                kinds += ["comprehensive", "single"]
            for content in kinds:
                planned = date(year, 1, 1) + timedelta(days=rng.randint(60, 330))
                plan_id = rng.choice(plans_of[area.id] + plans_of[street.id][1:4])
                held = planned + timedelta(days=rng.randint(-5, 10)) if rng.random() < 0.93 else None
                status = "planned"
                if held is not None and held <= today and planned <= today + timedelta(days=10):
                    status = "evaluated" if rng.random() < 0.8 else "held"
                elif planned < today - timedelta(days=30):
                    status, held = "cancelled", None
                else:
                    held = None
                topic = rng.choice(DRILL_TOPICS)
                row = dict(area_id=area.id, plan_id=plan_id, title=f"{year}年{area.name}{topic}{DRILL_CONTENTS[content]}",
                           form="live" if content == "comprehensive" or rng.random() < 0.4 else "tabletop",
                           content=content, purpose=rng.choice(("inspection",) * 4 + ("demonstration", "research")),
                           status=status, planned_on=planned, held_on=held,
                           place=f"{area.name}{rng.choice(['广场', '小学操场', '党群服务中心', '文体中心'])}",
                           units=None, participants=None, scenario=None,
                           aim="检验预案的可操作性，锻炼队伍，提高居民自救互救能力",
                           problems=None, causes=None, lessons=None, improvements=None, evaluator=None,
                           evaluated_on=None, score=None, created_by=None)
                if status in ("held", "evaluated"):
                    row.update(units=f"{area.name}、辖区物业、志愿者服务队、社区卫生服务站",
                               participants=rng.randint(30, 300) if content == "comprehensive" else rng.randint(10, 60),
                               scenario=f"{topic}：{rng.choice(SCENARIOS)}，需组织居民转移")
                scores = None
                if status == "evaluated":
                    scores = [rng.randint(5, 10) for _ in STEPS]
                    row.update(score=round(sum(scores) * 10 / len(scores)), evaluator=people.name(), evaluated_on=held,
                               problems=rng.choice(["部分居民对疏散路线不熟悉", "信息上报不够及时", "物资调拨用时偏长"]),
                               causes=rng.choice(["宣传不到位", "值班人员不熟悉流程", "仓库距离较远"]),
                               lessons="提前入户告知效果好", improvements="增设疏散指示标识，每季度开展一次桌面推演")
                drill_rows.append(row)
                drill_plan.append(plan_id)
                drill_eval.append(scores)
    drill_ids = w.insert(Drill, drill_rows)
    score_rows = []
    for d, p, scores in zip(drill_ids, drill_plan, drill_eval, strict=True):
        if scores is None:
            continue
        for seq, (step_id, (action, _who), score) in enumerate(zip(steps_of[p], STEPS, scores, strict=True), start=1):
            score_rows.append(dict(drill_id=d, seq=seq, step_id=step_id, expected=action,
                                   observed="按预案执行" if score >= 8 else "基本按预案执行，个别环节迟缓", score=score,
                                   problem=None if score >= 8 else "信息上报不够及时"))
    w.insert(DrillScore, score_rows)

    # -- teams: the street's comprehensive rescue team (≥ 50), its professional teams, and a
    #    volunteer team per community
    team_rows, team_size = [], []
    team_rows.append(dict(area_id=street.id, name=f"{street.name}综合应急救援队", kind="comprehensive"))
    team_size.append(rng.randint(55, 70))
    for unit in TEAM_UNITS:
        team_rows.append(dict(area_id=street.id, name=f"{street.name}{unit}", kind="professional"))
        team_size.append(rng.randint(12, 25))
    for c in communities:
        team_rows.append(dict(area_id=c.id, name=f"{c.name}应急志愿者队", kind="volunteer"))
        team_size.append(rng.randint(8, 20))
    for r in team_rows:
        r.update(leader=people.name(), leader_phone=people.phone(), active=True, created_by=None)
    team_ids = w.insert(Team, team_rows)
    members = [dict(team_id=t, name=people.name(), phone=people.phone(), skills=rng.choice(SKILLS),
                    certificates=rng.choice(CERTS) or None, active=rng.random() > 0.03, created_by=None)
               for t, n in zip(team_ids, team_size, strict=True) for _ in range(n)]
    w.insert(TeamMember, members)

    # -- duty roster: the street for the past year and the next two weeks (weekdays 全天, weekends
    #    白班 + 夜班, one weekend night left open); each community for the past two months ahead
    leaders = [people.name() for _ in range(4)]
    duty = []
    end = today + timedelta(days=13)
    day = today - timedelta(days=365)
    while day <= end:
        k = day.toordinal()
        if day.weekday() < 5:
            duty.append((street.id, day, "full", leaders[k % 4], "、".join(people.name() for _ in range(2))))
        else:
            duty.append((street.id, day, "day", leaders[k % 4], people.name()))
            if day != end - timedelta(days=(end.weekday() + 1) % 7):
                duty.append((street.id, day, "night", leaders[(k + 1) % 4], people.name()))
        day += timedelta(days=1)
    for c in communities:
        heads = [people.name() for _ in range(2)]
        day = today - timedelta(days=60)
        while day <= end:
            duty.append((c.id, day, "full", heads[day.toordinal() % 2], people.name()))
            day += timedelta(days=1)
    w.insert(DutyShift, [dict(area_id=a, duty_date=d, shift=s, leader=lead, staff=staff, phone=people.phone(), note=None,
                              created_by=None) for a, d, s, lead, staff in duty])

    # -- shelters: two for the street, one or two per community
    sites = ("中心公园", "文体广场", "小学操场", "社区活动中心", "体育馆", "中学操场", "绿地广场")
    shelters = []
    for area in units:
        for i in range(2 if area is street else rng.randint(1, 2)):
            shelters.append(dict(area_id=area.id, name=f"{area.name}{sites[(i + len(shelters)) % len(sites)]}避难场所",
                                 location=f"{area.name}{rng.choice(['路', '街', '巷'])}{rng.randint(1, 200)}号",
                                 area_m2=rng.randint(2, 30) * 500, capacity=rng.randint(5, 60) * 100,
                                 facilities="应急供水、应急厕所、应急照明、医疗救护点、物资储备间",
                                 manager=people.name(), manager_phone=people.phone(),
                                 status=rng.choice(("available",) * 8 + ("maintenance",)), created_by=None))
    w.insert(Shelter, shelters)
    w.finish()
    return dict(w.counts)
