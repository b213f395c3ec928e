"""Issue 9: the medium/large emergency street written in bulk (``demo.seed_bulk``) is consistent by
construction and deterministic; the statistics and pages that changed for it (收发汇总 with its
index, the one-pass stock view, pinyin item search, the stock-take sheet) still say the same."""
from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select, text

from plugins.emergency import demo as em_demo
from plugins.emergency import services as sv
from plugins.emergency.models import (
    Batch,
    Drill,
    DrillScore,
    Item,
    PlanStep,
    StockMove,
    Stocktake,
    StocktakeLine,
    Team,
    TeamMember,
    Warehouse,
)
from shell.clock import LOCAL_TZ
from shell.core.context import Actor, ServiceContext
from shell.core.demo import seed_areas

from .conftest import TODAY

# a street a tenth of "medium" is enough to exercise every rule and stays quick
SMALL_BULK = (6, 40, 4_000, 3)


def _seed(db, monkeypatch, seed: int = 7, today: date | None = None) -> dict:
    monkeypatch.setitem(em_demo.BULK, "medium", SMALL_BULK)
    with db.session_factory() as s:
        seed_areas(s, "medium")
        counts = em_demo.seed_bulk(s, "medium", random.Random(seed), today=today)
        s.commit()
    return counts


@pytest.fixture
def bulk(em_sqlite, monkeypatch):
    _seed(em_sqlite, monkeypatch)
    return em_sqlite


def test_bulk_street_has_the_numbers_and_a_consistent_ledger(bulk):
    with bulk.session_factory() as s:
        assert sv.check_ledger(s) == []
        assert s.scalar(select(text("count(*)")).select_from(Warehouse)) == 6
        assert s.scalar(select(text("count(*)")).select_from(Item)) == 40
        n_moves = s.scalar(select(text("count(*)")).select_from(StockMove))
        assert 3_900 <= n_moves <= 4_300
        kinds = set(s.scalars(select(StockMove.kind).distinct()))
        assert kinds == {"in", "out", "transfer_in", "transfer_out", "adjust", "stocktake"}
        # every move's balance_after is the running balance of its batch, in id order
        running: dict[int, int] = defaultdict(int)
        for batch_id, qty, after in s.execute(select(StockMove.batch_id, StockMove.qty, StockMove.balance_after)
                                              .order_by(StockMove.id)):
            running[batch_id] += qty
            assert after == running[batch_id] >= 0
        # ids follow time
        times = list(s.scalars(select(StockMove.occurred_at).order_by(StockMove.id)))
        assert times == sorted(times)
        # nothing issued or transferred from an expired batch
        for occurred, expiry, kind in s.execute(select(StockMove.occurred_at, Batch.expiry_date, StockMove.kind)
                                                .join(Batch, Batch.id == StockMove.batch_id)
                                                .where(StockMove.kind.in_(("out", "transfer_out")),
                                                       Batch.expiry_date.is_not(None))):
            assert occurred.astimezone(LOCAL_TZ).date() <= expiry, kind
        # each transfer: two legs with one document number, same item and batch number, opposite qty
        legs = defaultdict(list)
        for doc, kind, qty, item, no, wh in s.execute(
                select(StockMove.doc_no, StockMove.kind, StockMove.qty, StockMove.item_id, Batch.batch_no,
                       StockMove.warehouse_id).join(Batch, Batch.id == StockMove.batch_id)
                .where(StockMove.kind.in_(("transfer_in", "transfer_out")))):
            legs[doc].append((kind, qty, item, no, wh))
        for doc, pair in legs.items():
            assert sorted(k for k, *_ in pair) == ["transfer_in", "transfer_out"], doc
            assert pair[0][1] == -pair[1][1] and pair[0][2:4] == pair[1][2:4] and pair[0][4] != pair[1][4]
        # stock-takes: posted, their differences booked as moves of the count
        takes = s.scalars(select(Stocktake)).all()
        assert takes and all(t.status == "posted" for t in takes)
        for line in s.scalars(select(StocktakeLine).where(StocktakeLine.counted_qty != StocktakeLine.expected_qty)):
            diff = s.scalar(select(StockMove.qty).where(StockMove.stocktake_id == line.stocktake_id,
                                                        StockMove.batch_id == line.batch_id))
            assert diff == line.counted_qty - line.expected_qty
        # codes are GB/T 38565-shaped and accepted by the service's check
        for code in s.scalars(select(Item.code)):
            assert sv.validate_item_code(code) == code


def test_bulk_street_alert_bands_drills_teams(bulk):
    with bulk.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        bands = {a.band for a in sv.expiry_alerts(ctx)}
        assert bands == {0, 30, 60, 90}            # expired and every alert band have batches with stock
        assert any(r.below_minimum for r in sv.stock_overview(ctx))
        years = {d.held_on.year for d in s.scalars(select(Drill).where(Drill.held_on.is_not(None)))}
        assert len(years) >= 2
        for drill in s.scalars(select(Drill).where(Drill.status == "evaluated")):
            scores = s.scalars(select(DrillScore.score).where(DrillScore.drill_id == drill.id)).all()
            steps = s.scalar(select(text("count(*)")).select_from(PlanStep).where(PlanStep.plan_id == drill.plan_id))
            assert len(scores) == steps and drill.score == round(sum(scores) * 10 / len(scores))
        assert all(c.ok for c in sv.team_size_check(ctx))          # the street's rescue team ≥ 50
        assert s.scalar(select(text("count(*)")).select_from(Team)) > 5
        assert s.scalar(select(text("count(*)")).select_from(TeamMember)) > 60
        street = sv.unit_areas(ctx)[0].id
        today = ctx.today()
        assert len(sv.duty_roster(ctx, street, today, today + timedelta(days=6))) >= 7
        assert len(sv.list_shelters(ctx)) >= 4 and len(sv.plan_rows(ctx)) >= 5


def _dump(db) -> str:
    """Every emergency row, without the creation timestamps (set from the clock)."""
    out = {}
    with db.engine.connect() as c:
        tables = [r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type = 'table' "
                                               "AND name LIKE 'emergency_%' ORDER BY name"))]
        for t in tables:
            rows = c.execute(text(f"SELECT * FROM {t} ORDER BY id")).mappings().all()
            out[t] = [{k: v for k, v in r.items() if k not in ("created_at", "updated_at")} for r in rows]
    return json.dumps(out, default=str, ensure_ascii=False)


def test_bulk_street_is_deterministic(tmp_path, em_sqlite_template, emergency_pm, monkeypatch):
    import shutil

    from shell.core.database import open_database

    dumps = []
    for n in range(2):
        path = tmp_path / f"s{n}.sqlite"
        shutil.copy(em_sqlite_template, path)
        db = open_database(path, pm=emergency_pm, backup=False)
        _seed(db, monkeypatch, seed=11, today=TODAY)
        dumps.append(_dump(db))
        db.dispose()
    assert dumps[0] == dumps[1] and len(dumps[0]) > 100_000


def test_bulk_catalogue_spans_the_classes():
    rows = em_demo._bulk_catalogue(300)
    assert len(rows) == len({(c, n, s) for c, n, s, _u, _l in rows}) == 300
    assert {c[0] for c, *_ in rows} == {"1", "2", "3"}
    assert {c[0] for c, *_ in em_demo._bulk_catalogue(30)} == {"1", "2", "3"}


# -- what changed for the large street ---------------------------------------------------------------

def test_move_summary_adds_up_per_item(bulk):
    with bulk.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        today = ctx.today()
        start = today - timedelta(days=365)
        rows = sv.move_summary(ctx, start, today)
        expected = defaultdict(lambda: defaultdict(int))
        from datetime import datetime, time

        t0 = datetime.combine(start, time.min, LOCAL_TZ)
        for item, kind, qty in s.execute(select(StockMove.item_id, StockMove.kind, StockMove.qty)
                                         .where(StockMove.occurred_at >= t0)):
            expected[item][kind] += qty
        assert {r.item_id for r in rows} == set(expected)
        for r in rows:
            e = expected[r.item_id]
            assert (r.received, r.issued, r.transferred_in, r.transferred_out, r.adjusted) == (
                e["in"], -e["out"], e["transfer_in"], -e["transfer_out"], e["adjust"] + e["stocktake"])
            assert r.net == sum(e.values())
        one = sv.move_summary(ctx, start, today, warehouse_id=1)
        assert one and sum(r.moves for r in one) < sum(r.moves for r in rows)
        # a scoped actor sees only the moves of its warehouses
        community = sv.list_warehouses(ctx)[-1]
        from shell.core.models import Area

        path = s.get(Area, community.area_id).path
        scoped = ServiceContext(s, Actor(user_id=None, username="c", display_name="社区", scope_paths=(path,),
                                         permissions=frozenset({"emergency.view"})))
        mine = sv.move_summary(scoped, start, today)
        assert sum(r.moves for r in mine) == sum(r.moves for r in sv.move_summary(ctx, start, today, community.id))


def test_move_summary_uses_the_time_index(world_both):
    """e0003: the period's moves are found through ix_emergency_stock_moves_time_item on both engines,
    never by reading the whole ledger."""
    ctx = world_both.ctx()
    item = sv.create_item(ctx, "1010101", "饮用水", "箱")
    wh = sv.create_warehouse(ctx, world_both.street, "街道储备库")
    sv.receive(ctx, wh.id, item.id, 10, "B1")
    ctx.session.commit()
    engine = world_both.db.engine
    captured = []

    def capture(_conn, _cursor, statement, params, _context, _many):
        if "emergency_stock_moves" in statement:
            captured.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        sv.move_summary(ctx, TODAY - timedelta(days=365), TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert captured
    conn = ctx.session.connection()
    for statement, params in captured:
        if engine.dialect.name == "sqlite":
            plan = " | ".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
            assert "ix_emergency_stock_moves_time_item" in plan and not re.search(
                r"SCAN emergency_stock_moves(?! USING COVERING INDEX ix_emergency_stock_moves_time_item)", plan), plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = json.dumps(conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params).scalar())
            assert "ix_emergency_stock_moves_time_item" in plan and '"Seq Scan"' not in plan, plan
    ctx.session.rollback()


def test_stock_view_matches_the_separate_services(bulk):
    with bulk.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        for wh in sv.list_warehouses(ctx)[:3]:
            rows, summary = sv.stock_view(ctx, wh.id)
            assert rows == sv.warehouse_stock(ctx, wh.id)
            assert summary == sv.stock_alert_summary(ctx, wh.id)
            for text_ in ("1", "饮用水", "yys"):
                filtered, again = sv.stock_view(ctx, wh.id, text_)
                assert again == summary
                assert {r.item_id for r in filtered} <= {r.item_id for r in rows}
            assert [r.item_id for r in sv.stock_view(ctx, wh.id, "1")[0]] == \
                [r.item_id for r in sv.warehouse_stock(ctx, wh.id, "1")]


def test_item_search_by_pinyin_initials(world):
    ctx = world.ctx()
    for code, name in (("2030101", "干粉灭火器"), ("2040201", "对讲机"), ("1010101", "饮用水")):
        sv.create_item(ctx, code, name, "个")
    assert [i.name for i in sv.find_items(ctx, "gfmhq")] == ["干粉灭火器"]
    assert [i.name for i in sv.find_items(ctx, "DJJ")] == ["对讲机"]
    assert [i.name for i in sv.find_items(ctx, "203")] == ["干粉灭火器"]      # code prefix still works
    assert [r.title for r in sv.search(ctx, "yys")] == ["饮用水"]
    assert sv.find_items(ctx, "zzz") == []


def test_reserve_ledger_treats_warehouse_zero_as_all(world):
    """The report centre's number box reads 0 when left empty: that means every warehouse."""
    from plugins.emergency.ledgers import build_reserve

    ctx = world.ctx()
    item = sv.create_item(ctx, "1010101", "饮用水", "箱")
    for name in ("甲库", "乙库"):
        wh = sv.create_warehouse(ctx, world.street, name)
        sv.receive(ctx, wh.id, item.id, 5, "B1")
    assert len(list(build_reserve(ctx, {"warehouse_id": 0}).rows)) == 2


def test_open_stocktake_snapshots_every_batch_in_one_statement(world):
    ctx = world.ctx()
    item = sv.create_item(ctx, "1010101", "饮用水", "箱")
    wh = sv.create_warehouse(ctx, world.street, "街道储备库")
    for k in range(30):
        sv.receive(ctx, wh.id, item.id, k + 1, f"B{k:02d}")
    statements = []
    engine = world.db.engine

    def count(*_a):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        take = sv.open_stocktake(ctx, wh.id, counted_by="王保管")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) < 15                       # a fixed handful, not one INSERT per batch (30)
    sheet = sv.stocktake_sheet(ctx, take.id)
    assert [(ln.batch_no, ln.expected_qty, ln.counted_qty) for ln in sheet] == [(f"B{k:02d}", k + 1, None)
                                                                             for k in range(30)]


def test_alerts_by_warehouse_counts_in_the_database_as_the_overview_does(bulk):
    with bulk.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        items, below = defaultdict(int), defaultdict(int)
        for r in sv.stock_overview(ctx):
            items[r.warehouse_id] += 1
            below[r.warehouse_id] += r.below_minimum
        rows = sv.alerts_by_warehouse(ctx)
        assert len(rows) == 6
        assert {r.warehouse_id: (r.items, r.below_minimum) for r in rows} == {
            w: (items[w], below[w]) for w in items}
        assert sum(r.below_minimum for r in rows) > 0
