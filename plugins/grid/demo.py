"""Demo data for the grid plugin: plausible Chinese names and addresses, valid ID numbers (correct
check digits), households with heads, houses (some rented, with tenants), organisations with valid
统一社会信用代码, grid staff (some grids deliberately under-staffed), special groups with visits,
visit logs, and events carried through the closed loop by the real services."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, insert, select, text

from shell.clock import LOCAL_TZ
from shell.core.areas import list_areas
from shell.core.models import Area

from . import services as svc
from .models import (Event, EventCategory, EventStep, GridStaff, House, Household, Occupancy, Organisation, Person,
                     SpecialPerson, Visit, VisitLog)

# households per grid, events per grid
SCALE = {"small": (25, 8), "medium": (60, 12), "large": (150, 10)}

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN_M = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆建国志文博海峰晨阳"
GIVEN_F = "芳娜敏静丽艳娟霞秀玲桂英燕萍红梅琳雪婷慧莉洁颖倩佳欣怡悦晶琴兰"
ETHNICITIES = ("汉族",) * 18 + ("回族", "满族", "土家族", "壮族")
EDUCATION = ("小学", "初中", "高中", "中专", "大专", "大学本科", "研究生")
POLITICAL = ("群众",) * 6 + ("中共党员", "共青团员")
MARITAL = ("未婚", "已婚", "已婚", "已婚", "离婚", "丧偶")
OCCUPATIONS = (("国家机关、党群组织、企业、事业单位负责人", "经理"), ("专业技术人员", "教师"),
               ("专业技术人员", "护士"), ("办事人员和有关人员", "文员"), ("商业、服务业人员", "厨师"),
               ("商业、服务业人员", "快递员"), ("生产、运输设备操作人员", "司机"), ("其他从业人员", "个体经营"))
ROADS = ("解放路", "建国路", "中山路", "人民路", "青年路", "文化路", "清泰街", "望江路")
LOCAL_REGIONS = ("330102", "330105", "330106")          # 杭州市 districts
OTHER_REGIONS = ("340102", "360102", "410102", "420102", "430102", "510104", "320102", "370102")
RELATIONS = ("配偶", "子", "女", "父亲", "母亲", "孙子", "孙女")
ORG_NAMES = ("便利店", "餐饮有限公司", "家政服务部", "物业管理有限公司", "培训学校", "商贸有限公司", "汽车维修部")
EVENT_TITLES = {
    "矛盾纠纷": ("邻里漏水纠纷", "噪音扰民引发纠纷", "停车位归属纠纷", "物业费纠纷", "宠物扰邻纠纷"),
    "安全隐患": ("楼道堆放杂物", "电动车楼道充电", "消防通道堵塞", "高空坠物隐患", "燃气管道老化"),
    "民生诉求": ("老人申请助餐服务", "路灯损坏影响出行", "小区供水压力不足", "残疾人申请无障碍改造"),
    "城市管理": ("占道经营", "垃圾分类投放不规范", "违章搭建", "共享单车乱停放"),
    "其他": ("流浪犬出没", "小区绿化带破坏"),
}
US_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# python-stdnum ties a county code to the years it existed; only these codes are known to it for
# every birth year, so older demo residents get one of them when their own region code "did not exist yet".
TIMELESS_REGIONS = ("310101", "310104", "310105", "110105", "110108")


_REGION_OK: dict[tuple[str, int], bool] = {}


def _region_for(region: str, year: int) -> str:
    from stdnum.cn import ric

    for code in (region,) + TIMELESS_REGIONS:
        key = (code, year)
        if key not in _REGION_OK:
            base = f"{code}{year}0101001"
            _REGION_OK[key] = ric.is_valid(base + ric.calc_check_digit(base + "0"))
        if _REGION_OK[key]:
            return code
    return TIMELESS_REGIONS[0]


def _id_number(rng: random.Random, region: str, birth: date, male: bool) -> str:
    """A number python-stdnum fully accepts (check digit, birth date, region valid in the birth year)."""
    from stdnum.cn import ric

    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    base = f"{_region_for(region, birth.year)}{birth:%Y%m%d}{seq:03d}"
    return base + ric.calc_check_digit(base + "0")


def _uscc(rng: random.Random) -> str:
    from stdnum.cn import uscc

    body = "91330102" + "".join(rng.choice(US_CODE_CHARS) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _name(rng: random.Random, male: bool) -> str:
    given = GIVEN_M if male else GIVEN_F
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))


def _birth(rng: random.Random, lo: int, hi: int) -> date:
    return date(rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 28))


def _phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "137", "135", "158", "186", "189", "131")) + f"{rng.randrange(10**8):08d}"


class _Writer:
    """Bulk inserts with ids assigned here (RETURNING with executemany is slow on SQLite); on
    PostgreSQL the id sequences are moved past the inserted ids at the end."""

    def __init__(self, session):
        self.session = session
        self.next_id: dict[type, int] = {}
        self.now = datetime.now(timezone.utc)

    def insert(self, model, rows: list[dict]) -> list[int]:
        if not rows:
            return []
        if model not in self.next_id:
            self.next_id[model] = (self.session.scalar(select(func.max(model.id))) or 0) + 1
        start = self.next_id[model]
        ids = list(range(start, start + len(rows)))
        self.next_id[model] = start + len(rows)
        for i, r in zip(ids, rows):
            r["id"] = i
            r.setdefault("created_at", self.now)
            r.setdefault("updated_at", self.now)
            r.setdefault("version_id", 1)
        for k in range(0, len(rows), 5000):
            self.session.execute(insert(model), rows[k:k + 5000])
        return ids

    def finish(self) -> None:
        if self.session.get_bind().dialect.name == "postgresql":
            for model in self.next_id:
                table = model.__tablename__
                self.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def seed(session, scale: str, rng: random.Random) -> None:
    households_per_grid, events_per_grid = SCALE.get(scale, SCALE["small"])
    grids = list_areas(session, level="grid")
    if not grids:
        return
    today = datetime.now(LOCAL_TZ).date()
    communities = {a.id: a for a in list_areas(session, level="community")}
    writer = _Writer(session)
    used_ids: set[str] = set()
    hcode = 0

    def unique_id(region: str, birth: date, male: bool) -> str:
        while True:
            n = _id_number(rng, region, birth, male)
            if n not in used_ids:
                used_ids.add(n)
                return n

    def person_row(grid: Area, kind: str, male: bool, birth: date, address: str, **kw) -> dict:
        name = _name(rng, male)
        region = rng.choice(LOCAL_REGIONS if kind == "registered" else OTHER_REGIONS)
        occ_cat, occ = rng.choice(OCCUPATIONS)
        return dict(area_id=grid.id, kind=kind, status="active", id_type="111",
                    id_number=unique_id(region, birth, male), name=name, name_initials=svc.name_initials(name),
                    sex="男" if male else "女", birth_date=birth, nationality="156",
                    ethnicity=rng.choice(ETHNICITIES), education=rng.choice(EDUCATION),
                    political_status=rng.choice(POLITICAL), marital_status=rng.choice(MARITAL),
                    occupation_category=occ_cat, occupation=occ, phone=_phone(rng),
                    registered_place="浙江省杭州市" if kind == "registered" else "外省",
                    current_place="浙江省杭州市上城区", current_address=address, key_attention=False, notes="", **kw)

    for gi, grid in enumerate(grids):
        community = communities.get(grid.parent_id)
        cname = community.name.removesuffix("社区") if community else "青石"
        road = ROADS[gi % len(ROADS)]
        # houses and households
        house_rows, house_meta = [], []
        for h in range(households_per_grid + households_per_grid // 5):
            hcode += 1
            building, unit, room = h // 24 + 1, (h // 6) % 4 + 1, (h % 6) // 2 * 100 + 101 + h % 2
            address = f"杭州市上城区{road}{cname}小区{gi % 9 + 1}幢{building}号楼{unit}单元{room}室"
            use = "出租" if h >= households_per_grid else rng.choice(("自住",) * 9 + ("空置",))
            owner_male = rng.random() < 0.5
            house_rows.append(dict(area_id=grid.id, code=f"FW{grid.code or grid.id}{h + 1:04d}", address=address,
                                   building_use="住宅", floor_area=round(rng.uniform(45, 140), 1), house_use=use,
                                   hazard=rng.choice((None,) * 8 + ("电线老化", "消防通道堵塞")),
                                   owner_name=_name(rng, owner_male), owner_phone=_phone(rng),
                                   owner_id_number=unique_id(rng.choice(LOCAL_REGIONS), _birth(rng, 1950, 1985), owner_male),
                                   rental_pledge_on=today - timedelta(days=rng.randint(10, 300)) if use == "出租" else None))
            house_meta.append((address, use))
        house_ids = writer.insert(House, house_rows)
        hh_rows = [dict(area_id=grid.id, number=f"{grid.code or grid.id}{h + 1:04d}", address=house_meta[h][0],
                        house_id=house_ids[h], notes="") for h in range(households_per_grid)]
        hh_ids = writer.insert(Household, hh_rows)
        person_rows, occ_targets = [], []
        for h, hh_id in enumerate(hh_ids):
            address = house_meta[h][0]
            head_male = rng.random() < 0.6
            members = [("户主", head_male, _birth(rng, 1945, 1990))]
            size = rng.choice((1, 2, 2, 3, 3, 3, 4))
            if size >= 2:
                members.append(("配偶", not head_male, _birth(rng, 1945, 1990)))
            for _ in range(size - 2):
                child_male = rng.random() < 0.5
                members.append(("子" if child_male else "女", child_male, _birth(rng, 1995, 2020)))
            for rel, male, birth in members:
                person_rows.append(person_row(grid, "registered", male, birth, address, household_id=hh_id,
                                              relation_to_head=rel, residence_match="人户一致",
                                              house_id=house_ids[h]))
                occ_targets.append((house_ids[h], "本人" if rel == "户主" else "亲属", False))
        for h in range(households_per_grid, len(house_ids)):     # tenants of rented houses
            for _ in range(rng.choice((1, 2, 3))):
                male = rng.random() < 0.55
                start = today - timedelta(days=rng.randint(30, 700))
                person_rows.append(person_row(grid, "floating", male, _birth(rng, 1970, 2003), house_meta[h][0],
                                              house_id=house_ids[h], permit_type="居住证", permit_start=start,
                                              permit_end=start + timedelta(days=365 * 3), dwelling_type="租赁房屋",
                                              inflow_reason=rng.choice(("务工", "经商", "随迁家属"))))
                occ_targets.append((house_ids[h], "租客", True))
        person_ids = writer.insert(Person, person_rows)
        writer.insert(Occupancy, [
            dict(area_id=grid.id, house_id=hid, person_id=pid, relation_to_owner=rel, is_tenant=tenant,
                 start_date=today - timedelta(days=rng.randint(30, 3000)))
            for pid, (hid, rel, tenant) in zip(person_ids, occ_targets)])
        # organisations
        writer.insert(Organisation, [
            dict(area_id=grid.id, kind=rng.choice(("非公有制经济组织",) * 3 + ("社会组织",)),
                 name=f"杭州{cname}{rng.choice(ORG_NAMES)}" + (f"{k + 1}号店" if k else ""), credit_code=_uscc(rng),
                 legal_rep=_name(rng, True), security_head=_name(rng, rng.random() < 0.5), phone=_phone(rng),
                 address=f"杭州市上城区{road}{rng.randint(1, 300)}号", has_party_org=(has := rng.random() < 0.3),
                 party_members=rng.randint(3, 12) if has else 0)
            for k in range(rng.randint(1, 3))])
        # staff: one head; workers by the norm, but every fourth grid one short (shows in the ratio list)
        need = max(1, -(-households_per_grid // 150))
        workers = need - 1 if gi % 4 == 3 else need
        staff = [dict(area_id=grid.id, role="head", name=_name(rng, True), phone=_phone(rng),
                      start_date=date(2023, 1, 1))]
        staff += [dict(area_id=grid.id, role="worker", name=_name(rng, rng.random() < 0.4), phone=_phone(rng),
                       start_date=date(2023, 3, 1)) for _ in range(workers)]
        writer.insert(GridStaff, staff)
        # special groups
        groups = list(svc.ALL_GROUPS)
        specials = []
        for k in range(max(1, households_per_grid // 20)):
            group = groups[(gi + k) % len(groups)]
            start = today - timedelta(days=rng.randint(40, 400))
            specials.append(dict(area_id=grid.id, person_id=rng.choice(person_ids), group=group,
                                 details=_special_details(rng, group, start), helper=_name(rng, rng.random() < 0.5),
                                 start_date=start, visit_interval_days=30,
                                 next_visit_date=today + timedelta(days=rng.randint(-20, 30))))
        special_ids = writer.insert(SpecialPerson, specials)
        visitor = staff[-1]["name"]
        visits = []
        for sid, sp in zip(special_ids, specials):   # the visits so far, a month apart
            day = sp["start_date"] + timedelta(days=rng.randint(5, 20))
            while day < today - timedelta(days=10) and len(visits) < 400:
                visits.append(dict(area_id=grid.id, special_id=sid, visit_date=day, visitor_name=visitor,
                                   situation=rng.choice(VISIT_NOTES), next_visit_date=day + timedelta(days=30)))
                day += timedelta(days=rng.randint(25, 40))
        writer.insert(Visit, visits)
        # 民情日志: the grid worker's rounds, some with a finding not yet turned into an event
        logs = []
        for _ in range(max(2, households_per_grid // 8)):
            h = rng.randrange(len(hh_ids))
            content, finding = rng.choice(LOG_NOTES)
            logs.append(dict(area_id=grid.id, log_date=today - timedelta(days=rng.randint(0, 60)), worker_name=visitor,
                             household_id=hh_ids[h], content=content, finding=finding if rng.random() < 0.5 else ""))
        writer.insert(VisitLog, logs)
    _seed_events(writer, grids, events_per_grid, rng, today)
    writer.finish()
    session.flush()


def _special_details(rng: random.Random, group: str, start: date) -> dict:
    if group == "released":
        return {"release_date": start.isoformat(), "handover": "已衔接", "placement": rng.choice(("已安置", "未安置")),
                "risk": rng.choice(("低", "中"))}
    if group == "correction":
        return {"correction_type": rng.choice(("宣告缓刑", "裁定假释", "判处管制", "暂予监外执行")),
                "correction_start": start.isoformat(), "correction_end": (start + timedelta(days=730)).isoformat(),
                "team": "司法所矫正小组"}
    if group == "mental":
        return {"guardian": _name(rng, True), "danger_level": rng.choice(("0级", "1级", "2级")), "incident_history": False}
    if group == "drug":
        return {"control": rng.choice(("社区戒毒", "社区康复"))}
    if group == "aids":
        return {"treatment": "定期随访"}
    if group == "youth":
        return {"youth_type": rng.choice(("闲散青少年", "不良行为青少年")), "help_means": "结对帮扶"}
    if group == "dibao":
        return {"certificate_no": f"DB{rng.randrange(10**6):06d}", "monthly_allowance": str(rng.choice((1030, 1150, 1280))),
                "household_size": str(rng.randint(1, 3))}
    if group == "tekun":
        return {"support_mode": rng.choice(("分散供养", "集中供养")), "self_care": rng.choice(("完全自理", "部分自理"))}
    if group == "disabled":
        return {"disability_type": rng.choice(("视力", "听力", "肢体", "智力")),
                "disability_grade": rng.choice(("一级", "二级", "三级", "四级"))}
    if group == "elderly_alone":
        return {"living": rng.choice(("独居", "空巢（与配偶同住）")), "emergency_contact": _name(rng, rng.random() < 0.5),
                "emergency_phone": _phone(rng)}
    return {"left_type": rng.choice(("留守儿童", "留守老人")), "health": rng.choice(("健康", "一般")),
            "needs": rng.choice(("希望定期上门探望", "需要课后托管", "就医不便"))}


VISIT_NOTES = ("本人在家，情绪稳定，生活正常。", "与家属交谈，近期无异常情况。", "电话联系本人，已按时报到。",
               "上门走访，居住环境整洁，身体状况一般。", "了解到就业有困难，已告知社区就业服务窗口。")
LOG_NOTES = (("入户走访，了解家庭近况", "楼道灯损坏，夜间出行不便"),
             ("走访独居老人，检查燃气安全", "燃气软管老化，存在安全隐患"),
             ("巡查小区，宣传垃圾分类", "3号楼下垃圾桶满溢，清运不及时"),
             ("走访出租房屋，核对租客信息", "出租屋内有电动车充电"),
             ("参加楼道议事会，听取居民意见", "居民反映小区停车位不足"),
             ("入户核对人口信息", ""))


STEP_COMMENTS = {"report": "网格员巡查发现，已拍照留存。", "register": "情况属实，予以立案", "handle": "已现场处置完毕",
                 "verify": "核查属实", "close": "办结", "reject": "经核实不属于网格事项"}
ASSIGNEES = ("社区物业办", "城管中队", "人民调解委员会", "社区居委会", "市政养护所")


def _seed_events(writer: _Writer, grids: list[Area], per_grid: int, rng: random.Random, today: date) -> None:
    """Events at various stages of the closed loop with their timeline, written in bulk. The states,
    deadlines (working days, services.add_working_days) and step sequence follow services.TRANSITIONS;
    tests/grid check the result with the same indicator and overdue services the app uses."""
    cats = list(writer.session.scalars(select(EventCategory).order_by(EventCategory.sort_order)))
    if not cats:
        return
    now = datetime.now(timezone.utc)
    seq: dict[str, int] = {}
    plans = []
    for grid in grids:
        for _ in range(per_grid):
            cat = rng.choice(cats)
            day = today - timedelta(days=rng.randint(1, 120))
            t = datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), LOCAL_TZ).astimezone(timezone.utc)
            prefix = f"SJ{day:%Y%m%d}-"
            seq[prefix] = seq.get(prefix, 0) + 1
            fate = rng.random()
            if fate < 0.05:
                actions = ["reject"]
            else:
                actions = ["register", "dispatch", "handle", "verify", "close"][: 5 if fate < 0.8 else rng.randint(1, 4)]
            steps = [("report", None, "reported", t)]
            status = "reported"
            for action in actions:
                t = t + timedelta(hours=rng.choice((1, 2, 4, 8, 20, 30)))
                if t > now:
                    break
                target = svc.TRANSITIONS[action].target
                steps.append((action, status, target, t))
                status = target
            ev = dict(area_id=grid.id, number=f"{prefix}{seq[prefix]:04d}", category_id=cat.id,
                      title=rng.choice(EVENT_TITLES.get(cat.name, EVENT_TITLES["其他"])),
                      description=STEP_COMMENTS["report"], source=rng.choice(("网格员上报",) * 3 + ("群众反映", "12345热线")),
                      reporter_name=_name(rng, rng.random() < 0.5), occurred_on=day, status=status,
                      reported_at=steps[0][3], escalations=0,
                      party_count=rng.randint(2, 5) if cat.is_dispute else None)
            for action, _src, _dst, at in steps[1:]:
                if action == "register":
                    ev["registered_at"] = at
                    ev["deadline"] = svc.add_working_days(svc._local_date(at), cat.deadline_days).day
                elif action == "dispatch":
                    ev["assignee"] = "人民调解委员会" if cat.is_dispute else rng.choice(ASSIGNEES)
                elif action == "handle" and cat.is_dispute:
                    ev.update(mediation_method="人民调解", mediation_result=rng.choice(("成功", "成功", "化解中")))
                elif action == "close":
                    ev.update(closed_at=at, satisfaction=rng.choice(("满意", "满意", "基本满意")))
                elif action == "reject":
                    ev["reject_reason"] = STEP_COMMENTS["reject"]
            plans.append((ev, steps))
    keys = set().union(*(ev.keys() for ev, _ in plans))
    ids = writer.insert(Event, [{k: ev.get(k) for k in keys} for ev, _ in plans])
    step_rows = []
    for event_id, (ev, steps) in zip(ids, plans):
        for action, src, dst, at in steps:
            comment = f"派遣至{ev.get('assignee', '')}" if action == "dispatch" else STEP_COMMENTS[action]
            step_rows.append(dict(area_id=ev["area_id"], event_id=event_id, action=action, from_status=src,
                                  to_status=dst, comment=comment, actor_name="演示数据", at=at))
    writer.insert(EventStep, step_rows)
