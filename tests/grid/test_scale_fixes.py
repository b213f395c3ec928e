"""What issue 9 changed for the large street: the resident count's index (its plan on SQLite, its
existence on both engines), the global search not scanning houses and events for names, numbers and
initials, the events ledger's stage times read in chunks, the statistics' one-read breakdown, the
paused collector around imports, and the statistics page drawing its chart on the next loop turn."""
from __future__ import annotations

import gc
import random
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, inspect, select

from plugins.grid import demo, ledgers
from plugins.grid import services as svc
from plugins.grid.models import Event, House, Person
from shell.core.context import Actor, AppContext, ServiceContext
from shell.core.demo import seed_areas
from shell.db.sql import StartsWith
from shell.gcpause import paused_gc, without_gc


@pytest.fixture
def street_db(grid_sqlite):
    with grid_sqlite.session_factory() as s:
        seed_areas(s, "small")
        demo.seed(s, "small", random.Random(3))
        s.commit()
    return grid_sqlite


def _plan(db, stmt) -> list[str]:
    compiled = stmt.compile(dialect=db.engine.dialect)
    with db.engine.connect() as conn:
        return [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled),
                                                   tuple(compiled.params.values()))]


def test_resident_count_and_first_page_plans(street_db):
    """The lazy list's COUNT reads the narrow (area_id, status) index, street-wide and for a community;
    the street-wide first page still walks the primary key (no sort of every person)."""
    from shell.core.models import Area

    with street_db.session_factory() as s:
        community = s.scalar(select(Area).where(Area.level == "community").order_by(Area.id))
    for area in (None, community):
        q = svc.search_persons_query(Actor.system(), "", area)
        count = select(func.count()).select_from(q.order_by(None).subquery())
        assert any("COVERING INDEX ix_grid_persons_area_status" in line for line in _plan(street_db, count)), area
    page = _plan(street_db, svc.search_persons_query(Actor.system(), "").order_by(Person.id).limit(200))
    assert not any("TEMP B-TREE" in line or "ix_grid_persons_area_status" in line for line in page), page


def test_search_indexes_exist_on_both_engines(gdb):
    indexes = {ix["name"] for ix in inspect(gdb.engine).get_indexes("grid_persons")}
    assert "ix_grid_persons_area_status" in indexes
    event_indexes = {ix["name"] for ix in inspect(gdb.engine).get_indexes("grid_events")}
    assert ("ix_grid_events_number_pattern" in event_indexes) == (gdb.engine.dialect.name == "postgresql")


def _statements(db, fn) -> list[str]:
    seen: list[str] = []

    def capture(_c, _cur, statement, *_a):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return seen


def test_global_search_skips_scans_that_cannot_match(street_db):
    with street_db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        p = s.scalar(select(Person).where(Person.phone.is_not(None)).order_by(Person.id))
        ev = s.scalar(select(Event).order_by(Event.id.desc()))
        house = s.execute(select(House.code, House.address).order_by(House.id)).first()
        for term in (p.name, p.name_initials, p.id_number, p.id_number[:10], p.phone, p.phone[:7]):
            sql = " ".join(_statements(street_db, lambda term=term: svc.global_search(ctx, term)))
            assert "grid_houses.address LIKE" not in sql, term         # a name is never an address
            assert "grid_events.number LIKE '%'" not in sql and "number LIKE '%' ||" not in sql, term
        found = svc.global_search(ctx, p.name)
        assert ("grid.person", p.id) in {(k, i) for k, i, _t, _s in found}
        assert any(k == "grid.person" for k, *_ in svc.global_search(ctx, p.id_number[:10]))
        # events by number, with or without the letters, and houses by code or address
        assert ("grid.event", ev.id) in {(k, i) for k, i, *_ in svc.global_search(ctx, ev.number)}
        assert ("grid.event", ev.id) in {(k, i) for k, i, *_ in svc.global_search(ctx, ev.number[2:10])}
        assert any(k == "grid.house" for k, *_ in svc.global_search(ctx, house.code))
        assert any(k == "grid.house" for k, *_ in svc.global_search(ctx, house.address[-12:]))
    assert svc.looks_like_address("和平里小区3幢") and svc.looks_like_address("解放路")
    assert not svc.looks_like_address("王小明") and not svc.looks_like_address("zs")
    assert not svc.looks_like_address("13800138000")


def test_events_ledger_reads_stage_times_in_chunks(street_db, monkeypatch):
    monkeypatch.setattr(ledgers, "STAGE_CHUNK", 7)
    with street_db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        first, last = s.execute(select(func.min(Event.occurred_on), func.max(Event.occurred_on))).one()
        params = {"area": None, "start": first - timedelta(days=1), "end": last + timedelta(days=1)}
        statements = _statements(street_db, lambda: list(ledgers.events_ledger(ctx, params).rows))
        rows = list(ledgers.events_ledger(ctx, params).rows)
        events = list(s.scalars(select(Event).order_by(Event.reported_at, Event.id)))
        assert len(rows) == len(events) > 7
        # the stage times: one query per chunk, not one per event (besides the note's one count of 退回)
        step_queries = [q for q in statements if "FROM grid_event_steps" in q and "count(" not in q]
        assert len(step_queries) == -(-len(events) // 7)
        assert sum(1 for q in statements if "FROM grid_event_steps" in q) == len(step_queries) + 1
        # a closed event shows each stage's time, as the timeline has it
        closed = next(i for i, e in enumerate(events) if e.status == "closed")
        timeline = {st.action: st.at for st in svc.timeline(ctx, events[closed].id)}
        from shell.clock import format_local
        assert rows[closed][5] == format_local(timeline["register"]) and rows[closed][10] == format_local(
            events[closed].closed_at)


def test_indicator_breakdown_is_the_table_and_the_total(street_db):
    with street_db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        end = date.today()
        start = end - timedelta(days=400)
        for by in svc.BREAKDOWNS:
            table, total = svc.indicator_breakdown(ctx, start, end, by)
            assert table == svc.indicator_table(ctx, start, end, by)
            assert total == svc.indicators(ctx, start, end)
            assert sum(i.due for _n, i in table) == total.due > 0
        grid_labels = [name for name, _i in svc.indicator_table(ctx, start, end, "grid")]
        ids = s.scalars(select(Event.area_id).distinct())
        assert sorted(grid_labels) == sorted({svc.area_label(s, a) for a in ids})


def test_paused_gc_nests_and_restores():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()              # still inside the outer one
    assert gc.isenabled()
    done = threading.Event()

    def other():
        with paused_gc():
            done.wait(5)
    t = threading.Thread(target=other)
    with paused_gc():
        t.start()
    assert not gc.isenabled()                  # the thread's pause is still running
    done.set()
    t.join()
    assert gc.isenabled()

    @without_gc
    def work():
        assert not gc.isenabled()
        raise ValueError("x")
    with pytest.raises(ValueError):
        work()
    assert gc.isenabled()


def test_stats_page_draws_chart_after_table(qtbot, street_db):
    """The table is filled when the figures arrive; the chart on the next turn of the event loop."""
    from plugins.grid.views.stats import StatsPage

    app = AppContext(street_db.session_factory, Actor.system())
    page = StatsPage(app)
    qtbot.addWidget(page)
    page.start.setDate(date.today() - timedelta(days=400))
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() > 1, timeout=20000)
    qtbot.waitUntil(lambda: page.loaded, timeout=20000)
    assert page.chart.data is not None and page.chart.data.categories == [n for n, _i in page.rows]


@pytest.mark.pg
def test_event_number_prefix_uses_pattern_index_on_postgresql(grid_pg):
    """The global search's event-number prefix (LIKE 'SJ2025%') is served by g0003's
    varchar_pattern_ops index in a non-C collation (seq scans off: the table is tiny here)."""
    import json

    from shell.core.areas import scope_filter

    stmt = select(Event.id).where(scope_filter(Event.area_id, Actor.system()),
                                  StartsWith(Event.number, "SJ2025")).order_by(Event.number.desc()).limit(10)
    compiled = stmt.compile(dialect=grid_pg.engine.dialect)
    with grid_pg.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    plan = json.dumps(raw if isinstance(raw, list) else json.loads(raw))
    assert "ix_grid_events_number_pattern" in plan, plan
