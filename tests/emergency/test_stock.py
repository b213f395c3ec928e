"""Warehouses, items, batches and the stock ledger: arithmetic, refusals, FEFO, alerts, stock-taking."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from plugins.emergency import services as sv
from plugins.emergency.models import Batch, StockMove
from shell.errors import NotFound, OutOfScope, PermissionDenied, ValidationError

from .conftest import TODAY, scoped_actor


def setup_stock(w, ctx=None):
    ctx = ctx or w.ctx()
    main = sv.create_warehouse(ctx, w.street, "街道应急物资储备库")
    east = sv.create_warehouse(ctx, w.c1, "东湖社区储备点")
    water = sv.create_item(ctx, "1010101", "饮用水", "箱", "550ml×24")
    pump = sv.create_item(ctx, "2010101", "潜水泵", "台", "QDX-1.5kW")
    ctx.session.commit()
    return ctx, main, east, water, pump


# ----------------------------------------------------------------------------- codes

@pytest.mark.parametrize("code", ["1010101", "2999999", "3010199", "1990101"])
def test_valid_codes(code):
    assert sv.validate_item_code(code) == code


@pytest.mark.parametrize("code, part", [
    ("", "请填写"), ("101010", "7 位"), ("10101011", "7 位"), ("10a0101", "数字"), ("１010101", "数字"),
    ("4010101", "第 1 位（大类）"), ("0010101", "第 1 位（大类）"), ("1000101", "第 2–3 位（中类）"),
    ("1010001", "第 4–5 位（小类）"), ("1010100", "第 6–7 位（细类）"),
])
def test_invalid_codes_name_the_wrong_part(code, part):
    with pytest.raises(ValidationError) as e:
        sv.validate_item_code(code)
    assert part in e.value.message


def test_item_and_warehouse_rules(world):
    ctx, main, east, water, pump = setup_stock(world)
    with pytest.raises(ValidationError, match="已在目录中"):
        sv.create_item(ctx, "1010101", "饮用水", "箱", "550ml×24")
    with pytest.raises(ValidationError, match="已有名为"):
        sv.create_warehouse(ctx, world.street, "街道应急物资储备库")
    assert main.level == "street" and east.level == "community"
    assert [i.id for i in sv.find_items(ctx, "101")] == [water.id]
    assert [i.id for i in sv.find_items(ctx, "水泵")] == [pump.id]
    assert [i.id for i in sv.item_by_code(ctx, "2010101")] == [pump.id]


# ----------------------------------------------------------------------------- arithmetic

def balance(ctx, batch_id):
    ctx.session.expire_all()
    return ctx.session.get(Batch, batch_id).qty


def test_stock_arithmetic_in_out_transfer_adjust_stocktake(world):
    ctx, main, east, water, pump = setup_stock(world)
    m = sv.receive(ctx, main.id, water.id, 100, "B1", date(2026, 1, 1), date(2027, 1, 1), party="区应急管理局")
    b = m.batch_id
    assert (m.kind, m.qty, m.balance_after) == ("in", 100, 100)
    sv.receive(ctx, main.id, water.id, 20, "B1", date(2026, 1, 1), date(2027, 1, 1))  # same batch again
    assert balance(ctx, b) == 120
    out = sv.issue(ctx, b, 30, party="防汛值守点")
    assert (out.qty, out.balance_after) == (-30, 90)
    t_out, t_in = sv.transfer(ctx, b, east.id, 25)
    assert t_out.doc_no == t_in.doc_no and (t_out.qty, t_in.qty) == (-25, 25)
    assert balance(ctx, b) == 65 and balance(ctx, t_in.batch_id) == 25
    dest = ctx.session.get(Batch, t_in.batch_id)
    assert (dest.warehouse_id, dest.batch_no, dest.expiry_date) == (east.id, "B1", date(2027, 1, 1))
    sv.adjust(ctx, b, -5, "损坏", "泡水")
    sv.adjust(ctx, b, 2, "找回")
    assert balance(ctx, b) == 62
    take = sv.open_stocktake(ctx, main.id, counted_by="张伟")
    sv.record_count(ctx, take.id, b, 60, note="两箱破损")
    moves = sv.post_stocktake(ctx, take.id)
    assert [(mv.kind, mv.qty, mv.reason) for mv in moves] == [("stocktake", -2, "盘亏")]
    ctx.session.commit()
    assert balance(ctx, b) == 60
    assert sum(mv.qty for mv in sv.moves_of_batch(ctx, b)) == 60
    assert [mv.balance_after for mv in sv.moves_of_batch(ctx, b)] == [100, 120, 90, 65, 60, 62, 60]
    assert sv.check_ledger(ctx.session) == []
    rows = {(r.warehouse_id, r.item_id): r for r in sv.stock_overview(ctx)}
    assert rows[(main.id, water.id)].usable == 60 and rows[(east.id, water.id)].usable == 25


def test_refusals_leave_stock_unchanged(world):
    ctx, main, east, water, pump = setup_stock(world)
    b = sv.receive(ctx, main.id, water.id, 10, "B1", None, date(2027, 1, 1)).batch_id
    with pytest.raises(sv.StockError, match="库存不足.*现有 10箱.*需要 11箱"):
        sv.issue(ctx, b, 11)
    with pytest.raises(sv.StockError, match="库存不足"):
        sv.adjust(ctx, b, -11, "丢失")
    with pytest.raises(sv.StockError, match="库存不足"):
        sv.transfer(ctx, b, east.id, 11)
    for bad in (0, -1, 1.5, "x", True):
        with pytest.raises(ValidationError):
            sv.issue(ctx, b, bad)
    with pytest.raises(ValidationError, match="调整原因"):
        sv.adjust(ctx, b, -1, "随便")
    with pytest.raises(ValidationError, match="说明"):
        sv.adjust(ctx, b, -1, "其他")
    with pytest.raises(ValidationError, match="相同"):
        sv.transfer(ctx, b, main.id, 1)
    with pytest.raises(ValidationError, match="不一致"):
        sv.receive(ctx, main.id, water.id, 1, "B1", None, date(2028, 1, 1))
    with pytest.raises(ValidationError, match="早于生产日期"):
        sv.receive(ctx, main.id, water.id, 1, "B2", date(2026, 5, 1), date(2026, 4, 1))
    ctx.session.commit()
    assert balance(ctx, b) == 10
    assert sv.check_ledger(ctx.session) == []


def test_expired_batches_are_never_issued(world):
    ctx, main, east, water, pump = setup_stock(world)
    b = sv.receive(ctx, main.id, water.id, 10, "OLD", date(2025, 6, 1), TODAY).batch_id
    ctx.session.commit()
    sv.issue(ctx, b, 1)  # the expiry day itself is still usable
    ctx.session.commit()
    later = world.ctx(day=TODAY + timedelta(days=1))
    with pytest.raises(sv.StockError, match="已于 2026-06-15 过期，不能出库"):
        sv.issue(later, b, 1)
    with pytest.raises(sv.StockError, match="可发放（未过期）库存只有 0"):
        sv.issue_fefo(later, main.id, water.id, 1)
    with pytest.raises(sv.StockError, match="过期物资不能入库"):
        sv.receive(later, main.id, water.id, 5, "OLD2", None, TODAY)
    # an expired batch is written off by an adjustment with a reason
    m = sv.adjust(later, b, -9, "过期报废")
    assert m.balance_after == 0
    row = [r for r in sv.stock_overview(later) if r.item_id == water.id][0]
    assert (row.usable, row.expired) == (0, 0)


def test_fefo_suggestion_and_issue(world):
    ctx, main, east, water, pump = setup_stock(world)
    late = sv.receive(ctx, main.id, water.id, 10, "LATE", None, date(2027, 12, 1)).batch_id
    none = sv.receive(ctx, main.id, water.id, 10, "NOEXP", None, None).batch_id
    early = sv.receive(ctx, main.id, water.id, 5, "EARLY", None, date(2026, 9, 1)).batch_id
    sv.receive(ctx, east.id, water.id, 50, "ELSEWHERE", None, date(2026, 7, 1))
    ctx.session.commit()
    sug = sv.suggest_fefo(ctx, main.id, water.id, 12)
    assert [(a.batch_id, a.take) for a in sug] == [(early, 5), (late, 7)]
    sug = sv.suggest_fefo(ctx, main.id, water.id, 25)
    assert [(a.batch_id, a.take) for a in sug] == [(early, 5), (late, 10), (none, 10)]
    with pytest.raises(sv.StockError, match="只有 25"):
        sv.suggest_fefo(ctx, main.id, water.id, 26)
    moves = sv.issue_fefo(ctx, main.id, water.id, 12, party="社区")
    assert [(m.batch_id, m.qty) for m in moves] == [(early, -5), (late, -7)]
    assert len({m.doc_no for m in moves}) == 1


def test_moves_are_immutable_in_the_database(world_both):
    w = world_both
    ctx, main, east, water, pump = setup_stock(w)
    b = sv.receive(ctx, main.id, water.id, 10, "B1", None, None).batch_id
    ctx.session.commit()
    for stmt in (update(StockMove).values(qty=999), delete(StockMove)):
        with pytest.raises(DBAPIError, match="append-only"):
            with w.db.engine.begin() as conn:
                conn.execute(stmt)
    assert balance(ctx, b) == 10 and sum(m.qty for m in sv.moves_of_batch(ctx, b)) == 10
    # and the balance can never be stored negative either
    with pytest.raises(DBAPIError):
        with w.db.engine.begin() as conn:
            conn.execute(update(Batch).values(qty=-1))


# ----------------------------------------------------------------------------- alerts

@pytest.mark.parametrize("days, band", [(-1, 0), (0, 30), (30, 30), (31, 60), (60, 60), (61, 90), (90, 90), (91, None)])
def test_expiry_band_boundaries(days, band):
    assert sv.expiry_band(days, (30, 60, 90)) == band


def test_expiry_alerts_at_30_60_90_days(world):
    ctx, main, east, water, pump = setup_stock(world)
    ids = {}
    for d in (0, 30, 31, 60, 61, 90, 91):
        ids[d] = sv.receive(ctx, main.id, water.id, 1, f"D{d}", None, TODAY + timedelta(days=d)).batch_id
    ctx.session.commit()
    got = {a.batch_id: (a.days_left, a.band) for a in sv.expiry_alerts(ctx)}
    assert got == {ids[0]: (0, 30), ids[30]: (30, 30), ids[31]: (31, 60), ids[60]: (60, 60), ids[61]: (61, 90),
                   ids[90]: (90, 90)}
    tomorrow = world.ctx(day=TODAY + timedelta(days=1))
    got = {a.batch_id: (a.days_left, a.band) for a in sv.expiry_alerts(tomorrow)}
    assert got[ids[0]] == (-1, 0) and got[ids[91]] == (90, 90) and got[ids[31]] == (30, 30)
    # the thresholds are settings
    from shell.core.settings import set_value
    set_value(ctx, sv._SETTING["emergency.alert_days_1"], 7)
    ctx.session.commit()
    got = {a.batch_id: a.band for a in sv.expiry_alerts(world.ctx())}
    assert got[ids[0]] == 7 and got[ids[30]] == 60


def test_below_minimum_alerts(world):
    ctx, main, east, water, pump = setup_stock(world)
    sv.set_min_stock(ctx, main.id, water.id, 20)
    sv.set_min_stock(ctx, main.id, pump.id, 2)        # no stock at all → alert with 0
    sv.set_min_stock(ctx, east.id, water.id, 5)
    sv.receive(ctx, main.id, water.id, 20, "B1", None, date(2027, 1, 1))
    sv.receive(ctx, east.id, water.id, 10, "B1", None, TODAY + timedelta(days=3))
    ctx.session.commit()
    assert {(r.warehouse_id, r.item_id, r.usable) for r in sv.below_minimum(ctx)} == {(main.id, pump.id, 0)}
    sv.issue(ctx, sv.batches(ctx, main.id, water.id)[0].id, 1)
    ctx.session.commit()
    assert {(r.warehouse_id, r.item_id, r.usable) for r in sv.below_minimum(ctx)} == {(main.id, pump.id, 0),
                                                                                     (main.id, water.id, 19)}
    # expired stock does not count toward the minimum
    later = world.ctx(day=TODAY + timedelta(days=4))
    assert (east.id, water.id) in {(r.warehouse_id, r.item_id) for r in sv.below_minimum(later)}
    alerts = sv.stock_overview(later, only_alerts=True)
    assert {(r.warehouse_id, r.item_id) for r in alerts} == {(main.id, pump.id), (main.id, water.id), (east.id, water.id)}


# ----------------------------------------------------------------------------- stock-taking

def test_stocktake_rules(world):
    ctx, main, east, water, pump = setup_stock(world)
    b1 = sv.receive(ctx, main.id, water.id, 10, "B1", None, None).batch_id
    b2 = sv.receive(ctx, main.id, pump.id, 3, "P1", None, None).batch_id
    take = sv.open_stocktake(ctx, main.id)
    with pytest.raises(ValidationError, match="未完成的盘点单"):
        sv.open_stocktake(ctx, main.id)
    assert {(line.batch_id, line.expected_qty) for line, _b, _i in sv.stocktake_lines(ctx, take.id)} == {(b1, 10), (b2, 3)}
    sv.record_count(ctx, take.id, b1, 12)
    with pytest.raises(ValidationError, match="还有 1 项未录入"):
        sv.post_stocktake(ctx, take.id)
    with pytest.raises(ValidationError):
        sv.record_count(ctx, take.id, b2, -1)
    sv.record_count(ctx, take.id, b2, 3)
    # a move after the count opened makes the snapshot stale
    sv.issue(ctx, b2, 1)
    with pytest.raises(ValidationError, match="重新盘点"):
        sv.post_stocktake(ctx, take.id)
    sv.cancel_stocktake(ctx, take.id)
    take = sv.open_stocktake(ctx, main.id)
    sv.record_count(ctx, take.id, b1, 12)
    sv.record_count(ctx, take.id, b2, 0)
    moves = sv.post_stocktake(ctx, take.id)
    assert sorted((m.batch_id, m.qty, m.reason) for m in moves) == sorted([(b1, 2, "盘盈"), (b2, -2, "盘亏")])
    with pytest.raises(ValidationError, match="已过账"):
        sv.record_count(ctx, take.id, b1, 1)
    ctx.session.commit()
    assert balance(ctx, b1) == 12 and balance(ctx, b2) == 0
    assert sv.check_ledger(ctx.session) == []


# ----------------------------------------------------------------------------- permission and scope

def test_permissions_and_scope(world):
    ctx, main, east, water, pump = setup_stock(world)
    b_main = sv.receive(ctx, main.id, water.id, 10, "B1", None, None).batch_id
    b_east = sv.receive(ctx, east.id, water.id, 10, "B1", None, None).batch_id
    ctx.session.commit()
    with world.db.session_factory() as s:
        from shell.core.models import Area
        c1_path = s.get(Area, world.c1).path
    keeper = scoped_actor(c1_path, "emergency.view", "emergency.stock.manage")
    kctx = world.ctx(keeper)
    assert [w.id for w in sv.list_warehouses(kctx)] == [east.id]
    assert sv.issue(kctx, b_east, 1).balance_after == 9
    with pytest.raises(OutOfScope):
        sv.issue(kctx, b_main, 1)
    with pytest.raises(OutOfScope):
        sv.transfer(kctx, b_east, main.id, 1)
    with pytest.raises(PermissionDenied):
        sv.create_item(kctx, "1010102", "矿泉水", "瓶")
    with pytest.raises(PermissionDenied):
        sv.open_stocktake(kctx, east.id)
    viewer = world.ctx(scoped_actor(c1_path, "emergency.view"))
    with pytest.raises(PermissionDenied):
        sv.issue(viewer, b_east, 1)
    assert {r.warehouse_id for r in sv.stock_overview(viewer)} == {east.id}
    with pytest.raises(NotFound):
        sv.issue(ctx, 999999, 1)
