"""Reward store: redemption rules, cancellation, concurrency on both engines, and a property test."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from plugins.volunteer import services as sv
from plugins.volunteer.models import PointsEntry, RedemptionOrder, StockMove
from plugins.volunteer.rules import SETTING_BY_KEY
from shell.core import settings
from shell.core.context import Actor, ServiceContext
from shell.errors import ConflictError, ValidationError

from .conftest import T0, id_number


def _setup(ctx, area_id, points=100, stock=10, price=10, limit=0, period="none"):
    v = sv.register_volunteer(ctx, name="张三", id_number=id_number(), area_id=area_id)
    if points:
        sv.adjust_points(ctx, v.id, points, "期初")
    item = sv.create_item(ctx, name="大米", area_id=area_id, points_price=price, stock=stock,
                          per_person_limit=limit, limit_period=period)
    return v, item


def test_redeem_and_cancel(sctx, areas):
    c1 = areas[1][0]
    v, rice = _setup(sctx, c1, points=200)
    oil = sv.create_item(sctx, name="食用油", area_id=c1, points_price=25, stock=3)
    order = sv.redeem(sctx, v.id, {rice.id: 2, oil.id: 1})
    sctx.session.commit()
    assert order.total_points == 45 and len(order.lines) == 2
    assert sv.account(sctx, v.id) == (155, 0)  # hours untouched
    assert sv.current_stock(sctx, rice.id) == 8 and sv.current_stock(sctx, oil.id) == 2
    with pytest.raises(ValidationError, match="库存不足"):
        sv.redeem(sctx, v.id, {oil.id: 3})
    sctx.session.rollback()
    with pytest.raises(ValidationError, match="积分余额不足"):
        sv.redeem(sctx, v.id, {rice.id: 16})
    sctx.session.rollback()
    assert sv.account(sctx, v.id)[0] == 155 and sv.current_stock(sctx, rice.id) == 8
    sv.cancel_redemption(sctx, order.id, "拿错了")
    assert order.status == "cancelled"
    assert sv.account(sctx, v.id)[0] == 200 and sv.current_stock(sctx, rice.id) == 10
    with pytest.raises(ConflictError, match="已经撤销"):
        sv.cancel_redemption(sctx, order.id, "再撤一次")
    assert sv.check_consistency(sctx.session) == []


def test_threshold_and_window(sctx, areas, clock):
    c1 = areas[1][0]
    v, rice = _setup(sctx, c1)
    settings.set_value(sctx, SETTING_BY_KEY["volunteer.redeem_min_hours"], 5)
    with pytest.raises(ValidationError, match="满 5 小时"):
        sv.redeem(sctx, v.id, {rice.id: 1})
    settings.set_value(sctx, SETTING_BY_KEY["volunteer.redeem_min_hours"], 0)
    settings.set_value(sctx, SETTING_BY_KEY["volunteer.redeem_months"], "3,6,9,12")
    clock.now = datetime(2026, 5, 10, 2, tzinfo=UTC)
    with pytest.raises(ValidationError, match="3月、6月、9月、12月"):
        sv.redeem(sctx, v.id, {rice.id: 1})
    clock.now = datetime(2026, 6, 10, 2, tzinfo=UTC)
    settings.set_value(sctx, SETTING_BY_KEY["volunteer.redeem_day_to"], 5)
    with pytest.raises(ValidationError, match="1 日至 5 日"):
        sv.redeem(sctx, v.id, {rice.id: 1})
    clock.now = datetime(2026, 6, 4, 2, tzinfo=UTC)
    assert sv.redeem(sctx, v.id, {rice.id: 1}).total_points == 10


def test_per_person_limit(sctx, areas, clock):
    v, rice = _setup(sctx, areas[1][0], limit=2, period="month")
    sv.redeem(sctx, v.id, {rice.id: 2})
    sctx.session.commit()
    with pytest.raises(ValidationError, match="每人每月限兑 2 件"):
        sv.redeem(sctx, v.id, {rice.id: 1})
    sctx.session.rollback()
    clock.now = T0 + timedelta(days=31)
    sv.redeem(sctx, v.id, {rice.id: 1})


def test_stock_moves(sctx, areas):
    _v, rice = _setup(sctx, areas[1][0], stock=10)
    sv.stock_in(sctx, rice.id, 5, "捐赠入库")
    with pytest.raises(ValidationError, match="原因"):
        sv.stock_out(sctx, rice.id, 1, "")
    sv.stock_out(sctx, rice.id, 2, "受潮损坏")
    sv.stock_take(sctx, rice.id, 12, "月末盘点")
    moves = [(m.kind, m.quantity, m.stock_after) for m in sctx.session.scalars(select(StockMove).order_by(StockMove.id))]
    assert moves == [("in", 10, 10), ("in", 5, 15), ("out", -2, 13), ("adjust", -1, 12)]
    assert sv.check_consistency(sctx.session) == []


# ---------------------------------------------------------------- concurrency

def _concurrent_redeem(db, vid, item_id, threads=8, each=3):
    barrier = threading.Barrier(threads)
    outcomes = []
    lock = threading.Lock()

    def worker():
        barrier.wait()
        for _ in range(each):
            try:
                sv.run_with_retry(db.session_factory, Actor.system(), sv.redeem, vid, {item_id: 1}, attempts=10)
                r = "ok"
            except ValidationError as exc:
                r = exc.message
            except sv.BusyError as exc:
                r = "busy:" + exc.message
            with lock:
                outcomes.append(r)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return outcomes


@pytest.mark.parametrize("points,stock", [(50, 100), (1000, 7)])
def test_concurrent_redemptions_never_overspend(vdb, areas, points, stock):
    """8 threads, each with its own session/connection, redeem for one volunteer and one item at once.
    Either the points (50 → 5 redemptions) or the stock (7) runs out first."""
    with vdb.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        v, item = _setup(ctx, areas[1][0], points=points, stock=stock, price=10)
        s.commit()
        vid, item_id = v.id, item.id
    outcomes = _concurrent_redeem(vdb, vid, item_id)
    ok = outcomes.count("ok")
    expected = min(points // 10, stock)
    assert ok == expected, outcomes
    assert all(o == "ok" or "不足" in o for o in outcomes), outcomes
    with vdb.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        balance, _ = sv.account(ctx, vid)
        assert balance == points - 10 * ok >= 0
        assert sv.current_stock(ctx, item_id) == stock - ok >= 0
        assert s.scalar(select(func.count()).select_from(RedemptionOrder).where(RedemptionOrder.status == "done")) == ok
        assert s.scalar(select(func.sum(PointsEntry.points)).where(PointsEntry.volunteer_id == vid)) == balance
        assert s.scalar(select(func.min(PointsEntry.balance_after))) >= 0
        assert s.scalar(select(func.min(StockMove.stock_after))) >= 0
        assert sv.check_consistency(s) == []


def test_concurrent_cancel_only_once(vdb, areas):
    with vdb.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        v, item = _setup(ctx, areas[1][0])
        order = sv.redeem(ctx, v.id, {item.id: 1})
        s.commit()
        oid = order.id
    results = []
    barrier = threading.Barrier(4)

    def worker():
        barrier.wait()
        try:
            sv.run_with_retry(vdb.session_factory, Actor.system(), sv.cancel_redemption, oid, "并发撤销")
            results.append("ok")
        except ConflictError:
            results.append("conflict")

    ts = [threading.Thread(target=worker) for _ in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert results.count("ok") == 1 and results.count("conflict") == 3
    with vdb.session_factory() as s:
        assert sv.account(ServiceContext(s, Actor.system()), v.id)[0] == 100
        assert sv.check_consistency(s) == []


def test_busy_database_fails_cleanly(vol_sqlite, areas_sqlite):
    """A SQLite file held by another writer beyond the retries: a Chinese BusyError, nothing written."""
    import sqlite3

    with vol_sqlite.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        v, item = _setup(ctx, areas_sqlite, points=100)
        s.commit()
    blocker = sqlite3.connect(vol_sqlite.url.database, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        from sqlalchemy import event

        @event.listens_for(vol_sqlite.engine, "connect")
        def short_timeout(conn, _rec):
            conn.execute("PRAGMA busy_timeout = 50")

        vol_sqlite.engine.dispose()
        with pytest.raises(sv.BusyError, match="数据库正忙"):
            sv.run_with_retry(vol_sqlite.session_factory, Actor.system(), sv.redeem, v.id, {item.id: 1}, attempts=2)
    finally:
        blocker.rollback()
        blocker.close()
    with vol_sqlite.session_factory() as s:
        assert sv.account(ServiceContext(s, Actor.system()), v.id)[0] == 100
        assert sv.check_consistency(s) == []


@pytest.fixture
def areas_sqlite(vol_sqlite):
    from .conftest import seed_areas

    return seed_areas(vol_sqlite)[1][0]


# ---------------------------------------------------------------- property test

OPS = st.lists(st.tuples(st.sampled_from(["earn", "redeem", "refund", "adjust"]), st.integers(-30, 60)),
               min_size=1, max_size=25)


@hsettings(max_examples=40, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_property_balance_equals_ledger(vol_sqlite, ops):
    from .conftest import seed_areas

    with vol_sqlite.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        from shell.core.models import Area

        area = s.scalar(select(Area).where(Area.level == "community"))
        if area is None:
            seed_areas(vol_sqlite)
            area = s.scalar(select(Area).where(Area.level == "community"))
        n = s.scalar(select(func.count()).select_from(sv.ACCOUNTS))
        v = sv.register_volunteer(ctx, name="测试", id_number=id_number(seq=n + 1), area_id=area.id)
        item = sv.create_item(ctx, name=f"物品{n}", area_id=area.id, points_price=7, stock=5)
        s.commit()
        orders = []
        for op, amount in ops:
            try:
                with s.begin_nested():
                    if op == "earn" and amount > 0:
                        # Earned the real way: an activity, attendance of `amount` hours, approval.
                        start = T0 + timedelta(days=len(orders) + amount)
                        a = sv.create_activity(ctx, name="测试活动", area_id=area.id, starts_at=start,
                                               ends_at=start + timedelta(hours=amount), cap_minutes=0,
                                               points_per_hour=1)
                        att = sv.record_attendance(ctx, a.id, v.id, start, start + timedelta(hours=amount))
                        assert sv.approve(ctx, [att.id]).approved == [att.id]
                    elif op == "redeem":
                        orders.append(sv.redeem(ctx, v.id, {item.id: 1 + abs(amount) % 2}).id)
                    elif op == "refund" and orders:
                        sv.cancel_redemption(ctx, orders.pop(abs(amount) % len(orders)), "退回")
                    elif op == "adjust" and amount:
                        sv.adjust_points(ctx, v.id, amount, "调整")
            except (ValidationError, ConflictError):
                pass
            balance = sv.account(ctx, v.id)[0]
            assert balance >= 0
            assert s.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0))
                            .where(PointsEntry.volunteer_id == v.id)) == balance
        s.commit()
        assert sv.check_consistency(s, v.id) == []
