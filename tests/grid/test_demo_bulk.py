"""The bulk demo seed (issue 9): consistent by construction, deterministic for a seed, the issue's
numbers per grid, and the same rows on PostgreSQL through the plain BulkWriter path."""
from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select, text
from stdnum.cn import ric

from plugins.grid import demo
from plugins.grid import services as svc
from plugins.grid.models import (
    Department,
    Event,
    EventCategory,
    EventStep,
    GridStaff,
    House,
    Household,
    Occupancy,
    Person,
    SpecialPerson,
    Visit,
    VisitLog,
)
from shell.core import calendar
from shell.core.demo import seed_areas

# the medium/large plan (per grid), tried on the small street's 12 grids
PLAN = demo.SCALE["large"]


def _seed(db, seed=7, scale="small"):
    with db.session_factory() as s:
        seed_areas(s, scale)
        demo.seed(s, scale, random.Random(seed))
        s.commit()


@pytest.fixture
def seeded(grid_sqlite):
    _seed(grid_sqlite)
    return grid_sqlite


def test_numbers_per_grid_follow_the_plan(grid_sqlite, monkeypatch):
    """At large every grid gets 100 houses, 150 households, 500 persons, 125 events and 12–13
    special records: 400 grids make the issue's 40,000 / 60,000 / 200,000 / 50,000 / 5,000."""
    monkeypatch.setitem(demo.SCALE, "small", PLAN)       # the large plan on the small area tree
    _seed(grid_sqlite)
    with grid_sqlite.session_factory() as s:
        grids = s.scalar(text("SELECT count(*) FROM core_areas WHERE level = 'grid'"))
        count = lambda m: s.scalar(select(func.count()).select_from(m))  # noqa: E731
        assert count(House) == grids * 100 and count(Household) == grids * 150
        assert count(Person) == grids * 500 and count(Event) == grids * 125
        assert count(SpecialPerson) == grids * 12 + grids // 2       # 12.5 per grid
        assert 400 * 100 == 40_000 and 400 * 150 == 60_000 and 400 * 500 == 200_000 and 400 * 125 == 50_000
        # about 1.5 households per house: several share, some live elsewhere (户在人不在)
        matches = dict(s.execute(select(Person.residence_match, func.count()).group_by(Person.residence_match)).all())
        assert matches["人户一致"] > matches["户在人不在"] > 0 and matches["人在户不在"] > 0
        # events span three years and keep a few open, more of them recent
        first, last = s.execute(select(func.min(Event.occurred_on), func.max(Event.occurred_on))).one()
        assert (last - first).days > 2.5 * 365
        open_events = list(s.scalars(select(Event.occurred_on).where(Event.status.in_(svc.OPEN_STATUSES))))
        assert open_events and sum(d > last - timedelta(days=60) for d in open_events) > len(open_events) / 3


def test_consistent_by_construction(seeded):
    with seeded.session_factory() as s:
        persons = list(s.scalars(select(Person)))
        assert all(ric.is_valid(p.id_number) for p in persons)
        assert len({p.id_number for p in persons}) == len(persons)
        assert all(p.sex == ("男" if int(p.id_number[16]) % 2 else "女") for p in persons)
        assert all(p.birth_date == ric.get_birth_date(p.id_number) for p in persons)
        owners = list(s.scalars(select(House.owner_id_number)))
        assert all(ric.is_valid(n) for n in owners)
        # one 户主 per household, members registered at the household's house
        heads = Counter(p.household_id for p in persons if p.relation_to_head == "户主")
        households = {h.id: h for h in s.scalars(select(Household))}
        assert set(heads) == set(households) and set(heads.values()) == {1}
        for p in persons:
            if p.household_id is not None:
                assert p.house_id == households[p.household_id].house_id and p.kind == "registered"
            else:
                assert p.kind == "floating" and p.dwelling_type == "租赁房屋"
        # every person living here has one open occupancy of the house they live in; 户在人不在 none
        occ = {(o.person_id, o.house_id) for o in s.scalars(select(Occupancy).where(Occupancy.end_date.is_(None)))}
        living = {(p.id, p.house_id) for p in persons if p.residence_match != "户在人不在"}
        assert occ == living
        houses = {h.id: h for h in s.scalars(select(House))}
        assert all(houses[p.house_id].house_use == "出租" for p in persons if p.kind == "floating")
        # the owner of an owner-occupied house is the head of a household living there
        by_id = {p.id_number: p for p in persons}
        for h in houses.values():
            if h.house_use == "自住":
                owner = by_id[h.owner_id_number]
                assert owner.relation_to_head == "户主" and owner.house_id == h.id
        # special records: next visit = last visit's next visit; visits inside the record's period
        for sp in s.scalars(select(SpecialPerson)):
            visits = list(s.scalars(select(Visit).where(Visit.special_id == sp.id).order_by(Visit.visit_date)))
            assert all(v.visit_date >= sp.start_date for v in visits)
            if visits:
                assert sp.next_visit_date == visits[-1].next_visit_date
            svc.check_details(sp.group, sp.details)            # the group's own fields, valid
        assert s.scalar(select(func.count()).select_from(VisitLog)) > 0
        grids = s.scalar(text("SELECT count(*) FROM core_areas WHERE level = 'grid'"))
        assert s.scalar(select(func.count()).select_from(GridStaff).where(GridStaff.role == "head")) == grids


def test_events_agree_with_their_timelines(seeded):
    with seeded.session_factory() as s:
        cats = {c.id: c for c in s.scalars(select(EventCategory))}
        names = {d.id: d.name for d in s.scalars(select(Department))}
        assert {"城管执法中队", "市场监管所", "派出所", "房管所", "环卫所", "供电所", "水务公司"} <= set(names.values())
        assert sum(n.endswith("社区居委会") for n in names.values()) >= 3
        steps: dict[int, list[EventStep]] = {}
        for st in s.scalars(select(EventStep).order_by(EventStep.event_id, EventStep.id)):
            steps.setdefault(st.event_id, []).append(st)
        events = list(s.scalars(select(Event).order_by(Event.id)))
        assert len({e.number for e in events}) == len(events)
        assert [e.reported_at for e in events] == sorted(e.reported_at for e in events)   # ids follow time
        for e in events:
            timeline = steps[e.id]
            assert timeline[0].action == "report" and timeline[0].at == e.reported_at
            status = "reported"
            for st in timeline[1:]:                      # every step legal from the status before it
                t = svc.TRANSITIONS[st.action]
                assert st.from_status == status and status in t.sources, (e.number, st.action, status)
                status = t.target or status
                assert st.to_status == status
            assert [x.at for x in timeline] == sorted(x.at for x in timeline)
            assert e.status == status
            assert e.escalations == sum(x.action == "escalate" for x in timeline)
            reg = [x.at for x in timeline if x.action == "register"]
            assert e.registered_at == (reg[0] if reg else None)
            if e.dispatch_days:   # set at 派遣: the department's working days from that day
                assert e.department_id is not None and e.dispatched_on is not None
                assert e.deadline == calendar.add_working_days(s, e.dispatched_on, e.dispatch_days).day
            elif reg:   # the deadline in working days, as the services compute it
                assert e.deadline == calendar.add_working_days(s, svc.local_date(reg[0]), cats[e.category_id].deadline_days).day
            # every 派遣 names a directory entry, and so does the event while it is with one
            assert all(x.department_id is not None for x in timeline if x.action == "dispatch")
            if e.status in svc.WITH_DEPARTMENT:
                assert e.department_id is not None and e.assignee == names[e.department_id]
            closes = [x.at for x in timeline if x.action == "close"]
            assert e.closed_at == (closes[0] if closes else None) and (e.status == "closed") == bool(closes)
        ind = svc.indicators(svc_ctx(s), min(e.occurred_on for e in events), max(e.occurred_on for e in events))
        assert ind.due > 0 and 0 < ind.on_time <= ind.closed <= ind.due


def svc_ctx(session):
    from shell.core.context import Actor, ServiceContext

    return ServiceContext(session, Actor.system())


def _rows(db) -> dict[str, list[tuple]]:
    """Every grid table's rows without the timestamps written at seeding time."""
    out = {}
    with db.engine.connect() as c:
        for table in ("grid_houses", "grid_households", "grid_persons", "grid_occupancies", "grid_organisations",
                      "grid_staff", "grid_special_persons", "grid_visits", "grid_visit_logs", "grid_events",
                      "grid_event_steps"):
            cols = [r[1] for r in c.execute(text(f"PRAGMA table_info({table})")) if r[1] not in ("created_at", "updated_at")]
            names = ", ".join(chr(34) + col + chr(34) for col in cols)
            out[table] = list(c.execute(text(f"SELECT {names} FROM {table} ORDER BY id")))
    return out


def test_same_seed_same_rows(grid_sqlite, tmp_path, grid_pm):
    from shell.core.database import open_database

    _seed(grid_sqlite, seed=11)
    db2 = open_database(tmp_path / "again.sqlite", pm=grid_pm, backup=False)
    db3 = open_database(tmp_path / "different.sqlite", pm=grid_pm, backup=False)
    try:
        _seed(db2, seed=11)
        _seed(db3, seed=12)
        first, again = _rows(grid_sqlite), _rows(db2)
        assert first == again and sum(map(len, first.values())) > 1000
        assert _rows(db3)["grid_persons"] != first["grid_persons"]
    finally:
        db2.dispose()
        db3.dispose()


def test_fast_sqlite_path_stores_what_sqlalchemy_stores(grid_sqlite):
    """The seed's _Writer hands SQLite pre-converted tuples; the stored text equals what the plain
    BulkWriter (SQLAlchemy's own conversions) stores, and reads back through the ORM (dates, aware
    datetimes, booleans, JSON)."""
    from datetime import date, datetime

    from shell.db.bulk import BulkWriter

    with grid_sqlite.session_factory() as s:
        seed_areas(s, "small")
        grid = s.scalar(text("SELECT min(id) FROM core_areas WHERE level = 'grid'"))
        at = datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)

        def row(number):
            return dict(area_id=grid, kind="registered", status="active", id_type="111", id_number=number,
                        name="张三", name_initials="zs", nationality="156", birth_date=date(1990, 1, 2),
                        key_attention=True, notes="", created_at=at, updated_at=at)
        fast_id = demo._Writer(s).insert(Person, [row("11010519900102001X")])[0]
        plain_id = BulkWriter(s).insert(Person, [row("110105199001020029")])[0]
        assert fast_id != plain_id
        raw = {r[0]: tuple(r[1:]) for r in s.execute(text(
            "SELECT id, birth_date, created_at, updated_at, key_attention, typeof(key_attention) FROM grid_persons"))}
        assert raw[fast_id] == raw[plain_id]
        s.expire_all()
        p = s.get(Person, fast_id)
        assert p.birth_date == date(1990, 1, 2) and p.created_at == at and p.key_attention is True
        sp = dict(area_id=grid, person_id=fast_id, group="tekun", details={"support_mode": "分散供养"},
                  start_date=date(2025, 1, 1), visit_interval_days=30, helper=None, end_date=None,
                  next_visit_date=None)
        sid = demo._Writer(s).insert(SpecialPerson, [sp])[0]
        s.expire_all()
        assert s.get(SpecialPerson, sid).details == {"support_mode": "分散供养"}


@pytest.mark.pg
def test_seed_on_postgresql(grid_pg):
    """PostgreSQL takes the plain BulkWriter path; the rows are the same shape and sequences move on."""
    _seed(grid_pg)
    with grid_pg.session_factory() as s:
        n = s.scalar(select(func.count()).select_from(Person))
        grids = s.scalar(text("SELECT count(*) FROM core_areas WHERE level = 'grid'"))
        assert n >= grids * demo.SCALE["small"].persons
        assert s.scalar(text("SELECT nextval(pg_get_serial_sequence('grid_persons', 'id'))")) > n


@pytest.mark.pg
def test_seed_leaves_statistics_on_postgresql(grid_pg):
    """The planner knows the new tables' sizes at once (ANALYZE at the end of the seed)."""
    _seed(grid_pg)
    with grid_pg.engine.connect() as c:
        estimated = c.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'grid_persons'")).scalar()
        actual = c.execute(text("SELECT count(*) FROM grid_persons")).scalar()
    assert actual > 0 and abs(estimated - actual) <= actual * 0.1
