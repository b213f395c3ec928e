"""Demo data for the grid plugin, written in bulk (``shell.db.bulk.BulkWriter``, Core executemany).

Per grid at ``medium``/``large`` (issue 9: 400 grids → 200,000 persons, 60,000 households, 40,000
houses, 5,000 special-group records, 50,000 events over three years): 100 houses (owner-occupied,
rented, vacant, business), 150 registered households — several share a house, some are registered at
an address where nobody of them lives (人户分离, 户在人不在) — and tenants (流动人口) in the rented
houses (reported by their landlords mostly within two days, some late, a few not at all), 500
persons in all; 12–13 special/cared-for persons with their monthly visits; 125 events carried
through the closed loop with stage times drawn from plausible distributions and deadlines in working
days from the services (some overdue, some sent back or escalated, recent ones more often still
open), each with its timeline. ``small`` is the same street in miniature for the tests.

Consistent by construction: every household has exactly one 户主; a house's owner of an owner-occupied
house is the head of the household living there; every person living in a house has one open
occupancy period; a special record's next visit date is its last visit's; an event's columns agree
with its EventStep timeline. ID numbers are valid for python-stdnum and unique; only the given ``rng``
is used, so a seed gives the same rows (dates are relative to today)."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, text

from shell.clock import LOCAL_TZ
from shell.core import calendar
from shell.core.areas import list_areas
from shell.core.demo_people import GIVEN_F, GIVEN_M, SURNAMES, DemoPeople  # noqa: F401  (names re-exported)
from shell.core.models import Area
from shell.db.bulk import BulkWriter

from . import services as svc
from .models import (
    Department,
    Event,
    EventCategory,
    EventStep,
    GridStaff,
    House,
    Household,
    Occupancy,
    Organisation,
    Person,
    SpecialPerson,
    Visit,
    VisitLog,
)


@dataclass(frozen=True)
class Plan:
    """Numbers per grid."""
    houses: int
    households: int
    persons: int
    events: int
    specials: float          # fractional: alternate grids get one more
    event_years: int


# medium is a tenth of large by having a tenth of the grids (shell.core.demo.SCALES)
SCALE = {"small": Plan(houses=18, households=25, persons=80, events=8, specials=2, event_years=1),
         "medium": Plan(houses=100, households=150, persons=500, events=125, specials=12.5, event_years=3),
         "large": Plan(houses=100, households=150, persons=500, events=125, specials=12.5, event_years=3)}

ETHNICITIES = ("汉族",) * 18 + ("回族", "满族", "土家族", "壮族")
EDUCATION = ("小学", "初中", "高中", "中专", "大专", "大学本科", "研究生")
POLITICAL = ("群众",) * 6 + ("中共党员", "共青团员")
MARITAL = ("未婚", "已婚", "已婚", "已婚", "离婚", "丧偶")
OCCUPATIONS = (("国家机关、党群组织、企业、事业单位负责人", "经理"), ("专业技术人员", "教师"),
               ("专业技术人员", "护士"), ("办事人员和有关人员", "文员"), ("商业、服务业人员", "厨师"),
               ("商业、服务业人员", "快递员"), ("生产、运输设备操作人员", "司机"), ("其他从业人员", "个体经营"))
ROADS = ("解放路", "建国路", "中山路", "人民路", "青年路", "文化路", "清泰街", "望江路")
ESTATES = ("花园", "新村", "家园", "公寓", "小区", "苑")
LOCAL_REGIONS = ("330102", "330105", "330106")          # 杭州市 districts
OTHER_REGIONS = ("340102", "360102", "410102", "420102", "430102", "510104", "320102", "370102")
ELSEWHERE = ("杭州市西湖区文三路", "杭州市滨江区江南大道", "杭州市拱墅区湖墅南路", "杭州市萧山区人民路")
ORG_NAMES = ("便利店", "餐饮有限公司", "家政服务部", "物业管理有限公司", "培训学校", "商贸有限公司", "汽车维修部")
EVENT_TITLES = {
    "矛盾纠纷": ("邻里漏水纠纷", "噪音扰民引发纠纷", "停车位归属纠纷", "物业费纠纷", "宠物扰邻纠纷"),
    "安全隐患": ("楼道堆放杂物", "电动车楼道充电", "消防通道堵塞", "高空坠物隐患", "燃气管道老化"),
    "民生诉求": ("老人申请助餐服务", "路灯损坏影响出行", "小区供水压力不足", "残疾人申请无障碍改造"),
    "城市管理": ("占道经营", "垃圾分类投放不规范", "违章搭建", "共享单车乱停放"),
    "其他": ("流浪犬出没", "小区绿化带破坏"),
}
US_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
HOUSE_USE_WEIGHTS = (("自住", 62), ("出租", 26), ("空置", 7), ("经营", 3), ("其他", 2))
HOUSEHOLD_SIZES = (1,) * 20 + (2,) * 30 + (3,) * 28 + (4,) * 15 + (5,) * 7


def _uscc(rng: random.Random) -> str:
    from stdnum.cn import uscc

    body = "91330102" + "".join(rng.choice(US_CODE_CHARS) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _years_ago(today: date, birth: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


class _Writer(BulkWriter):
    """BulkWriter with a faster SQLite path for the large tables. Profiled at ``medium``, two thirds of
    the insert time was SQLAlchemy converting each value through its type (``UTCDateTime`` and the
    SQLite date/datetime string processors: created_at/updated_at alone are two conversions per row of
    the same instant). Here each column's bind processor is memoised per distinct value and the rows go
    to the driver's executemany as tuples; the stored text is exactly what SQLAlchemy would store.
    PostgreSQL keeps the plain BulkWriter path (psycopg takes date/datetime objects as they are)."""

    def insert_rows(self, model, rows: list[dict]) -> None:
        if not rows or self.session.get_bind().dialect.name != "sqlite":
            return super().insert_rows(model, rows)
        table = getattr(model, "__table__", model)
        conn = self.session.connection()
        dialect = conn.dialect
        keys = list(rows[0])
        convert = []
        for k in keys:
            proc = table.c[k].type._cached_bind_processor(dialect)
            if proc is None:
                convert.append(None)
            else:
                cache: dict = {}

                def memo(v, proc=proc, cache=cache):
                    try:
                        return cache[v]
                    except KeyError:
                        out = cache[v] = proc(v)
                        return out
                    except TypeError:          # unhashable (JSON): convert every time
                        return proc(v)
                convert.append(memo)
        sql = (f'INSERT INTO "{table.name}" (' + ", ".join(f'"{k}"' for k in keys) + ") VALUES ("
               + ", ".join("?" for _ in keys) + ")")
        plain = all(c is None for c in convert)
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            for start in range(0, len(rows), 20000):
                chunk = rows[start:start + 20000]
                if plain:
                    cursor.executemany(sql, [tuple(r[k] for k in keys) for r in chunk])
                else:
                    cursor.executemany(sql, [tuple(v if c is None or v is None else c(v)
                                                   for c, v in zip(convert, (r[k] for k in keys), strict=True)) for r in chunk])
        finally:
            cursor.close()
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)


# Every person row carries every key (executemany compiles one statement from the first row).
PERSON_DEFAULTS = dict(kind="registered", status="active", id_type="111", id_number=None, name=None, name_initials="",
                       name_pinyin="",
                       sex=None, birth_date=None, nationality="156", ethnicity=None, education=None,
                       political_status=None, marital_status=None, occupation_category=None, occupation=None,
                       phone=None, registered_place=None, registered_address=None, current_place=None,
                       current_address=None, key_attention=False, notes="", house_id=None, household_id=None,
                       relation_to_head=None, residence_match=None, permit_type=None, permit_start=None,
                       permit_end=None, dwelling_type=None, inflow_reason=None, area_id=None)


class _Street:
    """The generator: state shared by the grids (used ID numbers, the writer, today)."""

    def __init__(self, session, plan: Plan, rng: random.Random):
        self.session, self.plan, self.rng = session, plan, rng
        self.people = DemoPeople(rng)
        self.writer = _Writer(session)
        self.today = datetime.now(LOCAL_TZ).date()
        # recorded times end at midnight (Beijing) before today, so a seed gives the same rows all day
        self.cutoff = datetime.combine(self.today, time(0, 0), LOCAL_TZ).astimezone(UTC)
        self.used_ids: set[str] = set()
        self.person_ids: list[int] = []            # every person, for the special groups

    def unique_id(self, region: str, birth: date, male: bool) -> str:
        while True:
            n = self.people.id_number(birth, "男" if male else "女", region)
            if n not in self.used_ids:
                self.used_ids.add(n)
                return n

    def person(self, area_id: int, kind: str, male: bool, birth: date, **kw) -> dict:
        rng, people = self.rng, self.people
        name = people.name("男" if male else "女")
        if kind == "registered":
            region = rng.choice(LOCAL_REGIONS) if rng.random() < 0.85 else rng.choice(OTHER_REGIONS)
        else:
            region = rng.choice(OTHER_REGIONS)
        age = _years_ago(self.today, birth)
        occ_cat, occ = rng.choice(OCCUPATIONS) if 18 <= age < 65 else (None, "学生" if age < 18 else "退休")
        row = dict(PERSON_DEFAULTS)
        row.update(area_id=area_id, kind=kind, id_number=self.unique_id(region, birth, male), name=name,
                   name_initials=svc.name_initials(name),
                   name_pinyin=svc.name_pinyin(name), sex="男" if male else "女", birth_date=birth,
                   ethnicity=rng.choice(ETHNICITIES),
                   education=rng.choice(EDUCATION[:4] if age < 22 else EDUCATION) if age >= 7 else None,
                   political_status=rng.choice(POLITICAL) if age >= 14 else "群众",
                   marital_status=rng.choice(MARITAL) if age >= 22 else "未婚",
                   occupation_category=occ_cat, occupation=occ, phone=people.phone() if age >= 12 else None,
                   registered_place="浙江省杭州市" if kind == "registered" else "外省",
                   current_place="浙江省杭州市上城区", **kw)
        return row

    # --- one community's grids at a time: a few large executemany calls per table ---------------
    def community(self, grids: list[tuple[int, Area]], cname: str) -> None:
        rng, plan, today, people = self.rng, self.plan, self.today, self.people
        houses, households, persons = [], [], []
        # references inside this batch are list indices, turned into ids after each insert
        hh_house, person_hh, person_house, occupancy = [], [], [], []
        orgs, staff, logs = [], [], []
        specials_for: list[tuple[int, int, int, int]] = []   # (grid index, grid id, first person index, count)
        for gi, grid in grids:
            road = ROADS[gi % len(ROADS)]
            estate = f"{cname}{ESTATES[gi % len(ESTATES)]}"
            first_house, first_person, first_hh = len(houses), len(persons), len(households)
            uses = rng.choices([u for u, _ in HOUSE_USE_WEIGHTS], [w for _, w in HOUSE_USE_WEIGHTS], k=plan.houses)
            uses[0], uses[-1] = "自住", "出租"      # every grid has both
            for h, use in enumerate(uses):
                building, unit, floor, door = h // 24 + 1, (h // 6) % 4 + 1, (h % 6) // 2 + 1, h % 2 + 1
                houses.append(dict(
                    area_id=grid.id, code=f"FW{grid.code or grid.id}{h + 1:04d}",
                    address=f"杭州市上城区{road}{gi % 300 + 1}号{estate}{building}幢{unit}单元{floor}{door:02d}室",
                    building_use="商住" if use == "经营" else "住宅", floor_area=round(rng.uniform(45, 140), 1),
                    house_use=use, hazard=rng.choice((None,) * 8 + ("电线老化", "消防通道堵塞")),
                    owner_name=None, owner_phone=None, owner_id_number=None,
                    rental_pledge_on=today - timedelta(days=rng.randint(10, 360)) if use == "出租" else None))
            own = [first_house + h for h, u in enumerate(uses) if u == "自住"]
            rented = [first_house + h for h, u in enumerate(uses) if u == "出租"]
            others = [first_house + h for h, u in enumerate(uses) if u != "自住"]
            # households: one per owner-occupied house, then shared houses and 户在人不在
            for k in range(plan.households):
                if k < len(own):
                    house, lives = own[k], True
                elif rng.random() < 0.6 or not others:
                    house, lives = rng.choice(own), True
                else:
                    house, lives = rng.choice(others), False
                hh_index = len(households)
                households.append(dict(area_id=grid.id, number=f"{grid.code or grid.id}{k + 1:04d}",
                                       address=houses[house]["address"], notes=""))
                hh_house.append(house)
                match = "人户一致" if lives else "户在人不在"
                current = houses[house]["address"] if lives else \
                    f"{rng.choice(ELSEWHERE)}{rng.randint(1, 400)}号{rng.randint(1, 30)}幢{rng.randint(101, 1802)}室"
                head_male = rng.random() < 0.6
                head_birth = people.birth_in_years(1940, 1995)
                members = [("户主", head_male, head_birth)]
                size = rng.choice(HOUSEHOLD_SIZES)
                if size >= 2 and rng.random() < 0.85:
                    members.append(("配偶", not head_male, people.birth_in_years(max(1938, head_birth.year - 5),
                                                                min(2000, head_birth.year + 5))))
                while len(members) < size:
                    if head_birth.year < 1965 and rng.random() < 0.3:
                        rel_male = rng.random() < 0.5
                        members.append(("孙子" if rel_male else "孙女", rel_male,
                                        people.birth_in_years(min(head_birth.year + 50, today.year - 1), today.year - 1)))
                    elif head_birth.year > 1975 and rng.random() < 0.2:
                        rel_male = rng.random() < 0.5
                        members.append(("父亲" if rel_male else "母亲", rel_male,
                                        people.birth_in_years(head_birth.year - 35, head_birth.year - 22)))
                    else:
                        rel_male = rng.random() < 0.5
                        members.append(("子" if rel_male else "女", rel_male,
                                        people.birth_in_years(head_birth.year + 20, min(head_birth.year + 40, today.year - 1))))
                for rel, male, birth in members:
                    persons.append(self.person(grid.id, "registered", male, birth, relation_to_head=rel,
                                               residence_match=match, current_address=current,
                                               registered_address=houses[house]["address"]))
                    person_hh.append(hh_index)
                    person_house.append(house)
                    if lives:
                        start = today - timedelta(days=rng.randint(30, 5000))
                        occupancy.append((len(persons) - 1, house, False, max(start, birth)))
                # the owner of the house is the first household's head (or the one registered there)
                h = houses[house]
                if h["owner_name"] is None:
                    head = persons[len(persons) - len(members)]
                    h.update(owner_name=head["name"], owner_phone=head["phone"], owner_id_number=head["id_number"])
            for h in range(first_house, len(houses)):        # owners living elsewhere
                if houses[h]["owner_name"] is None:
                    male = rng.random() < 0.5
                    houses[h].update(owner_name=people.name("男" if male else "女"), owner_phone=people.phone(),
                                     owner_id_number=self.unique_id(rng.choice(LOCAL_REGIONS),
                                                                    people.birth_in_years(1950, 1985), male))
            # tenants fill the grid to its persons; each rented house has some
            tenants = max(len(rented), plan.persons - (len(persons) - first_person))
            slots = rented + [rng.choice(rented) for _ in range(tenants - len(rented))]
            for house in slots:
                male = rng.random() < 0.55
                start = today - timedelta(days=rng.randint(30, 700))
                persons.append(self.person(grid.id, "floating", male, people.birth_in_years(1970, 2003),
                                           current_address=houses[house]["address"], permit_type="居住证",
                                           permit_start=start, permit_end=start + timedelta(days=365 * 3),
                                           dwelling_type="租赁房屋", inflow_reason=rng.choice(("务工", "经商", "随迁家属")),
                                           residence_match="人在户不在"))
                person_hh.append(None)
                person_house.append(house)
                occupancy.append((len(persons) - 1, house, True, start))
            specials_for.append((gi, grid.id, first_person, len(persons) - first_person))
            # organisations
            for k in range(rng.randint(1, 3)):
                has = rng.random() < 0.3
                orgs.append(dict(
                    area_id=grid.id, kind=rng.choice(("非公有制经济组织",) * 3 + ("社会组织",)),
                    name=f"杭州{cname}{rng.choice(ORG_NAMES)}" + (f"{k + 1}号店" if k else ""), credit_code=_uscc(rng),
                    legal_rep=people.name("男"), security_head=people.name(people.sex()), phone=people.phone(),
                    address=f"杭州市上城区{road}{rng.randint(1, 300)}号", hazard=None, has_party_org=has,
                    party_members=rng.randint(3, 12) if has else 0))
            # staff: one head; workers by the norm, but every fourth grid one short (shows in the ratio list)
            need = max(1, -(-plan.households // 150))
            workers = need - 1 if gi % 4 == 3 else need
            grid_staff = [dict(area_id=grid.id, role="head", name=people.name("男"), phone=people.phone(),
                               start_date=date(2023, 1, 1))]
            grid_staff += [dict(area_id=grid.id, role="worker", name=people.name(people.sex(0.4)), phone=people.phone(),
                                start_date=date(2023, 3, 1)) for _ in range(workers)]
            staff += grid_staff
            # 民情日志: the worker's rounds over the last year, some with a finding not yet an event
            worker = grid_staff[-1]["name"]
            for _ in range(max(2, plan.households // 8)):
                content, finding = rng.choice(LOG_NOTES)
                logs.append((dict(area_id=grid.id, log_date=today - timedelta(days=int(365 * rng.random() ** 2)),
                                  worker_name=worker, content=content,
                                  finding=finding if rng.random() < 0.5 else ""),
                             first_hh + rng.randrange(len(households) - first_hh)))
        w = self.writer
        house_ids = w.insert(House, houses)
        for row, house in zip(households, hh_house, strict=True):
            row["house_id"] = house_ids[house]
        hh_ids = w.insert(Household, households)
        for row, hh, house in zip(persons, person_hh, person_house, strict=True):
            row["household_id"] = hh_ids[hh] if hh is not None else None
            row["house_id"] = house_ids[house]
        person_ids = w.insert(Person, persons)
        self.person_ids += person_ids
        # report times from a generator of their own (seeded from this batch's data), so the shared rng
        # and with it every later row of every plugin stay as they were before reports were recorded
        rr = random.Random(f"tenant-reports/{cname}/{persons[0]['id_number'] if persons else ''}")
        occupancy_rows = []
        for p, h, tenant, start in occupancy:
            start, moved, reported = _move_in_times(rr, start, tenant, self.cutoff)
            occupancy_rows.append(dict(
                area_id=persons[p]["area_id"], house_id=house_ids[h], person_id=person_ids[p],
                relation_to_owner="租客" if tenant else "本人" if persons[p]["relation_to_head"] == "户主" else "亲属",
                is_tenant=tenant, start_date=start, end_date=None, end_reason=None, moved_in_at=moved,
                reported_at=reported))
        w.insert(Occupancy, occupancy_rows)
        w.insert(Organisation, orgs)
        w.insert(GridStaff, staff)
        w.insert(VisitLog, [dict(row, household_id=hh_ids[hh]) for row, hh in logs])
        self.specials(specials_for, persons, person_ids)

    def specials(self, grids: list[tuple[int, int, int, int]], persons: list[dict], person_ids: list[int]) -> None:
        """Special and cared-for persons, chosen among plausible residents, with monthly visits."""
        rng, today, plan, people = self.rng, self.today, self.plan, self.people
        groups = list(svc.ALL_GROUPS)
        specials, visit_plans = [], []
        for gi, grid_id, first, count in grids:
            n = int(plan.specials) + (1 if (gi % 2 and plan.specials % 1) else 0)
            chosen: set[int] = set()
            for k in range(n):
                group = groups[(gi + k) % len(groups)]
                fits = {"elderly_alone": lambda a: a >= 65, "youth": lambda a: 12 <= a <= 25,
                        "left_behind": lambda a: a < 16 or a >= 65}.get(group, lambda a: a >= 18)
                for _ in range(30):
                    p = first + rng.randrange(count)
                    if p not in chosen and fits(_years_ago(today, persons[p]["birth_date"])):
                        break
                if p in chosen:       # unlucky draws: anyone not yet chosen
                    p = next(i for i in range(first, first + count) if i not in chosen)
                chosen.add(p)
                start = today - timedelta(days=rng.randint(40, 720))
                specials.append(dict(area_id=grid_id, person_id=person_ids[p], group=group,
                                     details=_special_details(rng, group, start), helper=people.name(people.sex()),
                                     start_date=start, end_date=None, visit_interval_days=30, next_visit_date=None))
                # visits a month apart; one in six has missed the latest (an overdue visit shows)
                days, day = [], start + timedelta(days=rng.randint(3, 20))
                stop = today - timedelta(days=rng.randint(35, 60) if rng.random() < 1 / 6 else rng.randint(0, 28))
                while day <= stop:
                    days.append(day)
                    day += timedelta(days=rng.randint(24, 33))
                visitor = people.name(people.sex())
                visit_plans.append([(d, visitor, rng.choice(VISIT_NOTES)) for d in days])
                specials[-1]["next_visit_date"] = (days[-1] if days else start) + timedelta(days=30)
        special_ids = self.writer.insert(SpecialPerson, specials)
        self.writer.insert(Visit, [
            dict(area_id=sp["area_id"], special_id=sid, visit_date=d, visitor_name=who, situation=note,
                 next_visit_date=d + timedelta(days=30))
            for sid, sp, visits in zip(special_ids, specials, visit_plans, strict=True) for d, who, note in visits])


# 租客报备: hours from moving in to the landlord's report — most the same or the next day, some on the
# second, one in ten late (grid.rental_report_hours defaults to 48) and one in 25 never reported.
REPORT_DELAYS = ((0.55, 0.5, 24), (0.31, 24, 47.5), (0.10, 49, 240))      # (share, from h, to h)
UNREPORTED_SHARE = 0.04
RECENT_TENANTS = 0.04        # moved in during the last three days: some not yet reported, still in time


def _move_in_times(rr: random.Random, start: date, tenant: bool, cutoff: datetime
                   ) -> tuple[date, datetime, datetime | None]:
    """(start_date, moved_in_at, reported_at) of a demo occupancy: moving in during the day (Beijing
    time); a tenant's report after a plausible delay, never after ``cutoff``."""
    if tenant and rr.random() < RECENT_TENANTS:
        moved = cutoff - timedelta(hours=rr.uniform(2, 70))
        reported = moved + timedelta(hours=rr.uniform(0.5, 20)) if rr.random() < 0.5 else None
        return moved.astimezone(LOCAL_TZ).date(), moved, reported if reported is None or reported <= cutoff else None
    moved = datetime.combine(start, time(rr.randint(8, 20), rr.randint(0, 59)), LOCAL_TZ).astimezone(UTC)
    if not tenant:
        return start, moved, None
    pick = rr.random()
    if pick < UNREPORTED_SHARE:
        return start, moved, None
    for share, lo, hi in REPORT_DELAYS:  # noqa: B007 - lo, hi of the row the loop stops at are used below
        if pick < UNREPORTED_SHARE + share:
            break
        pick -= share
    return start, moved, min(cutoff, moved + timedelta(hours=rr.uniform(lo, hi)))


def seed(session, scale: str, rng: random.Random) -> None:
    plan = SCALE.get(scale, SCALE["small"])
    grids = list_areas(session, level="grid")
    if not grids:
        return
    communities = {a.id: a for a in list_areas(session, level="community")}
    street = _Street(session, plan, rng)
    by_community: dict[int | None, list[tuple[int, Area]]] = {}
    for gi, grid in enumerate(grids):
        by_community.setdefault(grid.parent_id, []).append((gi, grid))
    for cid, members in by_community.items():
        community = communities.get(cid)
        street.community(members, community.name.removesuffix("社区") if community else "青石")
    _seed_events(street, grids)
    street.writer.finish()
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Fresh tables have no statistics until autovacuum comes round: the planner then guessed 10
        # rows and searched a name through 200,000 primary-key lookups (35 ms → 3 ms on medium).
        # ANALYZE counts this transaction's own new rows.
        for table in ("grid_persons", "grid_households", "grid_houses", "grid_occupancies", "grid_events",
                      "grid_event_steps", "grid_special_persons", "grid_visits", "grid_visit_logs",
                      "grid_organisations", "grid_staff"):
            session.execute(text(f"ANALYZE {table}"))


def _special_details(rng: random.Random, group: str, start: date) -> dict:
    people = DemoPeople(rng)
    if group == "released":
        return {"release_date": start.isoformat(), "handover": "已衔接", "placement": rng.choice(("已安置", "未安置")),
                "risk": rng.choice(("低", "中"))}
    if group == "correction":
        return {"correction_type": rng.choice(("宣告缓刑", "裁定假释", "判处管制", "暂予监外执行")),
                "correction_start": start.isoformat(), "correction_end": (start + timedelta(days=730)).isoformat(),
                "team": "司法所矫正小组"}
    if group == "mental":
        return {"guardian": people.name("男"), "danger_level": rng.choice(("0级", "1级", "2级")), "incident_history": False}
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
        return {"living": rng.choice(("独居", "空巢（与配偶同住）")), "emergency_contact": people.name(people.sex()),
                "emergency_phone": people.phone()}
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
                 "verify": "核查属实", "close": "办结", "reject": "经核实不属于网格事项",
                 "verify_fail": "现场核查仍未处置到位，请重新处置", "redispatch": "不属本单位职责，退回重新派遣",
                 "escalate": "已超处置时限，请加快办理"}
# 部门与单位: (name, kind, default working days or None = the category's). Each community's 居委会 is
# added per community. Who gets which category's events, by weight ("居委会": the event's own).
DEPARTMENTS = (("城管执法中队", "职能部门", 3), ("市场监管所", "职能部门", 5), ("派出所", "驻区单位", 3),
               ("房管所", "职能部门", 5), ("环卫所", "职能部门", 2), ("供电所", "驻区单位", 2),
               ("水务公司", "企业", 2), ("燃气公司", "企业", 1), ("司法所", "职能部门", None),
               ("人民调解委员会", "社会组织", None), ("市政养护所", "职能部门", 5), ("消防救援站", "驻区单位", 2),
               ("物业服务中心", "企业", 3))
DISPATCH_TO = {"矛盾纠纷": (("人民调解委员会", 6), ("司法所", 2), ("派出所", 1), ("居委会", 2)),
               "安全隐患": (("消防救援站", 2), ("燃气公司", 2), ("供电所", 2), ("房管所", 2), ("城管执法中队", 1),
                        ("物业服务中心", 2)),
               "民生诉求": (("水务公司", 2), ("供电所", 2), ("房管所", 1), ("市场监管所", 2), ("居委会", 3),
                        ("物业服务中心", 2)),
               "城市管理": (("城管执法中队", 4), ("环卫所", 3), ("市政养护所", 3)),
               "其他": (("居委会", 4), ("市场监管所", 1), ("物业服务中心", 1))}
# Reports come in during the day: weights for the hours 7–21 (Shanghai time).
REPORT_HOURS = (7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)
REPORT_HOUR_WEIGHTS = (2, 6, 10, 10, 9, 5, 6, 9, 9, 8, 6, 4, 3, 2, 1)
EVENT_CHUNK = 10000


def _hours(rng: random.Random, median: float, sigma: float) -> timedelta:
    """A stage's duration: log-normal around ``median`` hours (most quick, a long tail)."""
    return timedelta(hours=median * math.exp(rng.gauss(0.0, sigma)))


def _seed_events(street: _Street, grids: list[Area]) -> None:
    """Events over ``plan.event_years`` years carried along the closed loop (services.TRANSITIONS) with
    stage times from log-normal distributions, working-day deadlines from the core calendar,
    退回 and 督办 where they would happen; an event whose next step would fall after the cut-off
    (midnight today) stays at the step it reached — so recent events are more often open — and a few
    stall for months (overdue and open). Written in time order, numbered per day like the services."""
    rng, plan, writer, people = street.rng, street.plan, street.writer, street.people
    cats = list(street.session.scalars(select(EventCategory).order_by(EventCategory.sort_order)))
    if not cats:
        return
    today = street.today
    cutoff = datetime.combine(today, time(0, 0), LOCAL_TZ).astimezone(UTC)
    span = 365 * plan.event_years
    deadlines: dict[tuple[date, int], date] = {}
    working = calendar.snapshot(street.session).is_working_day    # the core calendar, read once

    def deadline(at: datetime, days: int) -> date:
        """calendar.add_working_days(session, day, days).day, memoised per (day, days)."""
        key = (svc.local_date(at), days)
        if key not in deadlines:
            day, left = key[0], days
            while left > 0:
                day += timedelta(days=1)
                left -= working(day)
            deadlines[key] = day
        return deadlines[key]

    directory = _seed_departments(street, grids)
    community_of = {g.id: g.parent_id for g in grids}
    events = []
    for grid in grids:
        for _ in range(plan.events):
            cat = rng.choice(cats)
            day = today - timedelta(days=1 + int(span * rng.random() ** 1.15))    # a little more recently
            local = datetime.combine(day, time(rng.choices(REPORT_HOURS, REPORT_HOUR_WEIGHTS)[0], rng.randint(0, 59)),
                                     LOCAL_TZ)
            events.append((local.astimezone(UTC), grid.id, cat, day))
    events.sort(key=lambda e: (e[0], e[1]))
    seq: dict[date, int] = {}
    for k in range(0, len(events), EVENT_CHUNK):
        rows, timelines = [], []
        for reported, area_id, cat, day in events[k:k + EVENT_CHUNK]:
            seq[day] = seq.get(day, 0) + 1
            row, steps = _one_event(rng, cat, reported, cutoff, deadline,
                                    lambda name, a=area_id: directory[community_of.get(a) if name == "居委会" else name])
            row.update(area_id=area_id, number=f"SJ{day:%Y%m%d}-{seq[day]:04d}", category_id=cat.id, occurred_on=day,
                       title=rng.choice(EVENT_TITLES.get(cat.name, EVENT_TITLES["其他"])),
                       description=STEP_COMMENTS["report"],
                       source=rng.choice(("网格员上报",) * 3 + ("群众反映", "12345热线")),
                       reporter_name=people.name(people.sex()),
                       party_count=rng.randint(2, 5) if cat.is_dispute else None,
                       main_parties=f"{people.name('男')}、{people.name('女')}" if cat.is_dispute else None)
            rows.append(row)
            timelines.append(steps)
        ids = writer.insert(Event, rows)
        writer.insert(EventStep, [
            dict(area_id=row["area_id"], event_id=event_id, action=action, from_status=src, to_status=dst,
                 comment=comment, actor_name=actor, at=at, department_id=dep)
            for event_id, row, steps in zip(ids, rows, timelines, strict=True)
            for action, src, dst, comment, actor, at, dep in steps])


def _seed_departments(street: _Street, grids: list[Area]) -> dict:
    """The street's 部门与单位 with contacts and office phones, and a 居委会 per community: name (or the
    community's id for its 居委会) → (name, id, default working days)."""
    rng, people = street.rng, street.people
    communities = {c.id: c for c in street.session.scalars(select(Area).where(
        Area.id.in_({g.parent_id for g in grids if g.parent_id})))}
    entries = [(name, kind, days, None) for name, kind, days in DEPARTMENTS]
    entries += [(f"{c.name}居委会", "社区", 5, c.id) for c in sorted(communities.values(), key=lambda c: c.id)]
    rows = [dict(name=name, kind=kind, contact=people.name(people.sex()), deadline_days=days, active=True,
                 phone=f"010-6{rng.randrange(10**7):07d}") for name, kind, days, _c in entries]
    ids = street.writer.insert(Department, rows)
    out: dict = {}
    for (name, _kind, days, community_id), dep_id in zip(entries, ids, strict=True):
        out[community_id if community_id is not None else name] = (name, dep_id, days)
    # an event of a grid outside any community goes to the first committee
    out.setdefault(None, next((v for k, v in out.items() if isinstance(k, int)), out["物业服务中心"]))
    return out


EVENT_DEFAULTS = dict(status="reported", registered_at=None, deadline=None, assignee=None, department_id=None,
                      dispatched_on=None, dispatch_days=None, closed_at=None, escalations=0, reject_reason=None,
                      mediation_method=None, mediation_result=None, satisfaction=None)


def _one_event(rng: random.Random, cat, reported: datetime, cutoff: datetime, deadline, department) -> tuple[dict, list]:
    """One event's columns and its timeline [(action, from, to, comment, actor, at, department id)];
    ``department(name)`` → (name, id, default working days) of the directory ("居委会": the event's own)."""
    row = dict(EVENT_DEFAULTS, reported_at=reported)
    steps = [("report", None, "reported", STEP_COMMENTS["report"], "网格员", reported, None)]
    t = reported
    status = "reported"
    with_dep: int | None = None              # the department the case is with (svc.WITH_DEPARTMENT states)
    stalled = rng.random() < 0.012          # waits for months (a department that does not answer)
    due: date | None = None

    def step(action: str, delay: timedelta, comment: str | None = None, actor: str = "街道网格中心") -> bool:
        nonlocal t, status
        when = t + delay
        # 督办: a registered event still open a working day after its deadline is escalated once
        if due is not None and not row["escalations"] and action != "escalate":
            overdue_at = datetime.combine(due + timedelta(days=1), time(9, 30), LOCAL_TZ).astimezone(UTC)
            if t < overdue_at < min(when, cutoff) and rng.random() < 0.7:
                steps.append(("escalate", status, status, STEP_COMMENTS["escalate"], "街道网格中心", overdue_at,
                              with_dep if status in svc.WITH_DEPARTMENT else None))
                row["escalations"] = 1
        if when >= cutoff:
            return False
        target = svc.TRANSITIONS[action].target or status      # 督办 leaves the status as it is
        steps.append((action, status, target, comment or STEP_COMMENTS[action], actor, when,
                      with_dep if status in svc.WITH_DEPARTMENT or action == "dispatch" else None))
        t, status = when, target
        row["status"] = status
        return True

    if rng.random() < 0.04:
        if step("reject", _hours(rng, 3, 0.8)):
            row["reject_reason"] = STEP_COMMENTS["reject"]
        return row, steps
    if not step("register", _hours(rng, 1.5, 0.9)):
        return row, steps
    row["registered_at"] = t
    due = deadline(t, cat.deadline_days)
    row["deadline"] = due
    choices = DISPATCH_TO.get(cat.name, DISPATCH_TO["其他"])

    def dispatch(delay: timedelta, avoid: str | None = None) -> str | None:
        """派遣 to a department of the category's (its default working days from that day, as the
        dialog proposes); the department's name, or None past the cut-off."""
        nonlocal with_dep, due
        pool = [(n, w) for n, w in choices if department(n)[0] != avoid] or [
            (n, w) for n, w in DISPATCH_TO["其他"] if department(n)[0] != avoid]
        name, dep_id, days = department(rng.choices([n for n, _w in pool], [w for _n, w in pool])[0])
        with_dep = dep_id
        if not step("dispatch", delay, f"派遣至{name}"):
            return None
        row.update(assignee=name, department_id=dep_id)
        if days:
            due = deadline(t, days)
            row.update(deadline=due, dispatched_on=svc.local_date(t), dispatch_days=days)
        return name

    assignee = dispatch(_hours(rng, 2, 0.8))
    if assignee is None:
        return row, steps
    if not cat.is_dispute and rng.random() < 0.05:          # wrong department: back and re-dispatched
        if not step("send_back", _hours(rng, 5, 0.6), STEP_COMMENTS["redispatch"], assignee):
            return row, steps
        row.update(assignee=None, department_id=None)
        with_dep = None
        assignee = dispatch(_hours(rng, 2, 0.6), avoid=assignee)
        if assignee is None:
            return row, steps
    # handling takes about a third of the allowed working days, with a tail past the deadline
    work = timedelta(days=cat.deadline_days * 0.3 * 1.4) * math.exp(rng.gauss(0.0, 0.75))
    if stalled:
        work *= 40
    if not step("handle", work, actor=assignee):
        return row, steps
    if cat.is_dispute:
        row.update(mediation_method=rng.choice(("人民调解",) * 4 + ("行政调解",)),
                   mediation_result=rng.choice(("成功",) * 6 + ("化解中", "失败")))
    if rng.random() < 0.06:                                   # 核查不通过 once: back to the handler
        if not step("verify_fail", _hours(rng, 6, 0.6)):
            return row, steps
        if not step("handle", _hours(rng, 20, 0.7), "已按要求重新处置", assignee):
            return row, steps
    if not step("verify", _hours(rng, 4, 0.8)):
        return row, steps
    if not step("close", _hours(rng, 2, 0.7)):
        return row, steps
    row.update(closed_at=t, satisfaction=rng.choice(("满意",) * 6 + ("基本满意",) * 3 + ("不满意",)))
    return row, steps
