"""Several desktops (threads, each with its own session and connection) issue from one batch at
once, on SQLite and PostgreSQL. Afterwards the moves and the balance agree exactly, nothing went
negative, and every refusal was a clean Chinese error."""
from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import func, select

from plugins.emergency import services as sv
from plugins.emergency.models import Batch, StockMove
from shell.core.context import Actor, ServiceContext
from shell.errors import BusyError

from .conftest import TODAY, clock_at

THREADS = 8
ATTEMPTS = 6
STOCK = 100
TAKE = 3          # 8 × 6 × 3 = 144 wanted > 100 available: some issues must be refused


def _prepare(db):
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), clock=clock_at(TODAY))
        from shell.core.areas import create_area
        street = create_area(ctx, "和平街道", "street")
        wh = sv.create_warehouse(ctx, street.id, "储备库")
        other = sv.create_warehouse(ctx, street.id, "备用库")
        item = sv.create_item(ctx, "2020101", "担架", "副")
        batch_id = sv.receive(ctx, wh.id, item.id, STOCK, "B1", None, date(2030, 1, 1)).batch_id
        s.commit()
        return batch_id, other.id


def _run(db, batch_id, other_id, mixed=False):
    barrier = threading.Barrier(THREADS)
    ok, refused, busy, unexpected = [], [], [], []

    def worker(n):
        barrier.wait()
        for i in range(ATTEMPTS):
            with db.session_factory() as s:
                ctx = ServiceContext(s, Actor.system(), clock=clock_at(TODAY))
                try:
                    if mixed and (n + i) % 3 == 0:
                        sv.transfer(ctx, batch_id, other_id, TAKE)
                    else:
                        sv.issue(ctx, batch_id, TAKE, party=f"桌面{n}")
                    s.commit()
                    ok.append(n)
                except sv.StockError as exc:
                    s.rollback()
                    assert "库存不足" in exc.message
                    refused.append(n)
                except BusyError as exc:
                    s.rollback()
                    assert "数据库正忙" in exc.message
                    busy.append(n)
                except Exception as exc:  # noqa: BLE001
                    s.rollback()
                    unexpected.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return ok, refused, busy, unexpected


def _check(db, batch_id, ok):
    with db.session_factory() as s:
        qty = s.scalar(select(Batch.qty).where(Batch.id == batch_id))
        moved = s.scalar(select(func.sum(StockMove.qty)).where(StockMove.batch_id == batch_id))
        assert qty == moved == STOCK - TAKE * len(ok)
        assert qty >= 0
        assert s.scalar(select(func.min(StockMove.balance_after))) >= 0
        assert sv.check_ledger(s) == []
        # the running balances of the batch's moves are an exact chain
        chain = s.execute(select(StockMove.qty, StockMove.balance_after).where(StockMove.batch_id == batch_id)
                          .order_by(StockMove.id)).all()
        running = 0
        for q, after in chain:
            running += q
            assert after == running
    return qty


def test_concurrent_issues_never_overspend(em_db):
    batch_id, other_id = _prepare(em_db)
    ok, refused, busy, unexpected = _run(em_db, batch_id, other_id)
    assert unexpected == []
    assert len(ok) + len(refused) + len(busy) == THREADS * ATTEMPTS
    assert len(ok) == STOCK // TAKE          # 33 issues fit, every later one was refused
    assert _check(em_db, batch_id, ok) == STOCK % TAKE


def test_concurrent_issues_and_transfers(em_db):
    batch_id, other_id = _prepare(em_db)
    ok, refused, busy, unexpected = _run(em_db, batch_id, other_id, mixed=True)
    assert unexpected == []
    assert len(ok) == STOCK // TAKE
    _check(em_db, batch_id, ok)
