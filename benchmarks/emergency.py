"""Benchmark: the emergency plugin's supplies ledger at street scale (issue 7's performance section,
for orientation; not a timed test).

    .venv/bin/python benchmarks/emergency.py                     # 30 warehouses × 300 items, 200,000 moves, SQLite
    .venv/bin/python benchmarks/emergency.py --url postgresql+psycopg://postgres@127.0.0.1:5432/jd_bench
    .venv/bin/python benchmarks/emergency.py --tiny              # smoke run (a few seconds)

Built with bulk inserts (SQLAlchemy Core executemany, not timed): one street with 29 communities,
one warehouse each (30), 300 items with GB/T 38565 codes, ``--batches`` batches per warehouse and
item, ``--moves`` stock moves spread over them (a receipt first, then issues, receipts and
adjustments; each move's ``balance_after`` is the running balance and each batch's ``qty`` the sum of
its moves), minimum stock for every warehouse and item, expiry dates spread so that every alert band
has batches.

Measured:
- the 应急物资 stock view with alerts for the largest warehouse, i.e. what the page loads
  (``warehouse_stock`` + ``stock_alert_summary``) — target < 300 ms; and the all-warehouse alert
  overview (``stock_overview(only_alerts=True)``);
- the full 应急物资储备台账 (every warehouse, every batch with stock) rendered to PDF through the
  report builder — compared with the report engine's rate (issue 3: 10,000 rows ≤ 1 s);
- ``--issuers`` concurrent issuers (threads, each with its own session and connection) issuing
  FEFO from six hot items of one warehouse (each topped up with ``--top-up`` units first, so the
  stock runs out near the end of a full run) for ``--seconds``: throughput, refusals, busy
  retries, and afterwards the anomaly check — every batch's balance equals the sum of its moves,
  every move's balance chain is exact, nothing negative.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def timed(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def build(db, warehouses: int, items: int, batches_per: int, moves: int, rng: random.Random, today: date) -> dict:
    """Bulk data; returns the ids the measurements need."""
    from sqlalchemy import insert, select

    from plugins.emergency.models import Batch, Item, MinStock, StockMove, Warehouse
    from shell.core.areas import create_area
    from shell.core.context import Actor, ServiceContext

    now = datetime.now(timezone.utc)
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = create_area(ctx, "青石街道", "street")
        areas = [(street.id, "street", street.name)]
        for c in range(warehouses - 1):
            com = create_area(ctx, f"社区{c + 1:02d}", "community", street.id)
            areas.append((com.id, "community", com.name))
        s.commit()
        base = dict(created_at=now, updated_at=now, version_id=1)
        s.execute(insert(Warehouse), [dict(base, area_id=a, name=f"{n}应急物资储备{'库' if lvl == 'street' else '点'}",
                                           level=lvl, active=True) for a, lvl, n in areas])
        codes = []
        for i in range(items):
            top = "123"[i % 3]
            codes.append(f"{top}{i // 90 % 99 + 1:02d}{i // 9 % 10 + 1:02d}{i % 9 + 1:02d}")
        s.execute(insert(Item), [dict(base, code=code, name=f"物资{i + 1:03d}", spec=f"规格{i % 7 + 1}",
                                      unit="件箱台个"[i % 4], active=True) for i, code in enumerate(codes)])
        wh_ids = list(s.scalars(select(Warehouse.id).order_by(Warehouse.id)))
        item_ids = list(s.scalars(select(Item.id).order_by(Item.id)))
        s.execute(insert(MinStock), [dict(base, warehouse_id=w, item_id=i, min_qty=rng.randint(5, 60))
                                     for w in wh_ids for i in item_ids])
        # batches: expiry spread from 20 days ago to 3 years ahead, a fifth without expiry date
        batch_rows = []
        for w in wh_ids:
            for i in item_ids:
                for k in range(batches_per):
                    exp = None if rng.random() < 0.2 else today + timedelta(days=rng.randint(-20, 1100))
                    batch_rows.append(dict(warehouse_id=w, item_id=i, batch_no=f"B{k + 1}", qty=0,
                                           production_date=today - timedelta(days=400), expiry_date=exp,
                                           created_at=now, updated_at=now))
        for k in range(0, len(batch_rows), 20000):
            s.execute(insert(Batch), batch_rows[k:k + 20000])
        batch_ids = list(s.execute(select(Batch.id, Batch.warehouse_id, Batch.item_id).order_by(Batch.id)))
        # moves: every batch gets a receipt, the rest is spread at random; balances kept exact
        balance = {}
        rows = []
        start = now - timedelta(days=365)
        step = timedelta(days=365) / max(1, moves)
        order = [b for b in batch_ids] + [rng.choice(batch_ids) for _ in range(max(0, moves - len(batch_ids)))]
        for n, (bid, w, i) in enumerate(order):
            have = balance.get(bid, 0)
            r = rng.random()
            if have == 0 or r < 0.35:
                kind, qty = "in", rng.randint(20, 200)
            elif r < 0.9:
                kind, qty = "out", -rng.randint(1, max(1, have // 3))
            else:
                kind, qty = "adjust", -1
            if have + qty < 0 or qty == 0:
                kind, qty = "in", rng.randint(20, 200)
            have += qty
            balance[bid] = have
            rows.append(dict(batch_id=bid, warehouse_id=w, item_id=i, kind=kind, qty=qty, balance_after=have,
                             reason="损坏" if kind == "adjust" else None, doc_no=f"BM{n:07d}",
                             occurred_at=start + step * n, actor_name="基准测试"))
            if len(rows) >= 20000:
                s.execute(insert(StockMove), rows)
                rows = []
            if n + 1 >= moves:
                break
        if rows:
            s.execute(insert(StockMove), rows)
        from sqlalchemy import bindparam, update

        stmt = update(Batch.__table__).where(Batch.__table__.c.id == bindparam("bid")).values(qty=bindparam("q"))
        items_bal = [{"bid": b, "q": q} for b, q in balance.items()]
        for k in range(0, len(items_bal), 20000):
            s.connection().execute(stmt, items_bal[k:k + 20000])
        s.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as c:
                c.exec_driver_sql("ANALYZE")
                c.commit()
        else:
            with db.engine.connect() as c:
                c.exec_driver_sql("ANALYZE")
        largest = max(wh_ids, key=lambda w: sum(1 for b, ww, _i in batch_ids if ww == w))
        return {"warehouses": wh_ids, "items": item_ids, "batches": len(batch_ids), "moves": min(moves, len(order)),
                "largest": largest}


def concurrent_issue(db, warehouse_id: int, item_ids: list[int], issuers: int, seconds: float, today: date,
                     top_up: int):
    """Issuers hammer the same few items (hence the same batches) for ``seconds``."""
    from sqlalchemy import func, select

    from plugins.emergency import services as sv
    from plugins.emergency.models import Batch, StockMove
    from shell.core.context import Actor, ServiceContext
    from shell.errors import ConflictError

    clock = lambda: datetime.now(timezone.utc)  # noqa: E731
    with db.session_factory() as s:             # a fresh delivery per hot item, so the run measures issuing
        ctx = ServiceContext(s, Actor.system(), clock=clock)
        for item_id in item_ids:
            sv.receive(ctx, warehouse_id, item_id, top_up, "HOT", None, today + timedelta(days=400), party="基准测试")
        s.commit()
    counts = {"ok": 0, "units": 0, "refused": 0, "busy": 0, "unexpected": []}
    lock = threading.Lock()
    barrier = threading.Barrier(issuers)
    stop_at = [0.0]

    def worker(n: int) -> None:
        rng = random.Random(n)
        barrier.wait()
        if n == 0:
            stop_at[0] = time.perf_counter() + seconds
        while stop_at[0] == 0.0:
            time.sleep(0.001)
        while time.perf_counter() < stop_at[0]:
            with db.session_factory() as s:
                ctx = ServiceContext(s, Actor.system(), clock=clock)
                qty = rng.randint(1, 5)
                try:
                    sv.issue_fefo(ctx, warehouse_id, rng.choice(item_ids), qty, party=f"桌面{n}")
                    s.commit()
                    key, add = "ok", qty
                except sv.StockError:
                    s.rollback()
                    key, add = "refused", 0
                except ConflictError:
                    s.rollback()
                    key, add = "busy", 0
                except Exception as exc:  # noqa: BLE001
                    s.rollback()
                    with lock:
                        counts["unexpected"].append(repr(exc)[:200])
                    continue
            with lock:
                counts[key] += 1
                counts["units"] += add

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(issuers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    with db.session_factory() as s:
        anomalies = len(sv.check_ledger(s))
        negative = s.scalar(select(func.count()).select_from(Batch).where(Batch.qty < 0))
        negative += s.scalar(select(func.count()).select_from(StockMove).where(StockMove.balance_after < 0))
        # the running balance chain of every batch touched by the issuers
        broken = 0
        for bid, in s.execute(select(Batch.id).where(Batch.warehouse_id == warehouse_id, Batch.item_id.in_(item_ids))):
            running = 0
            for q, after in s.execute(select(StockMove.qty, StockMove.balance_after)
                                      .where(StockMove.batch_id == bid).order_by(StockMove.id)):
                running += q
                broken += after != running
    return counts, took, anomalies, negative, broken


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--warehouses", type=int, default=30)
    p.add_argument("--items", type=int, default=300)
    p.add_argument("--batches", type=int, default=2, help="batches per warehouse and item")
    p.add_argument("--moves", type=int, default=200_000)
    p.add_argument("--issuers", type=int, default=8)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--top-up", type=int, default=3000,
                   help="units received into each hot item before the run (small: the run ends in refusals)")
    p.add_argument("--url", help="an empty PostgreSQL database (default: a temporary SQLite file)")
    p.add_argument("--no-ledger", action="store_true", help="skip the full reserve ledger PDF")
    p.add_argument("--tiny", action="store_true")
    a = p.parse_args(argv)
    if a.tiny:
        a.warehouses, a.items, a.moves, a.seconds = 3, 20, 2000, 1.0

    from plugins.emergency import ledgers, services as sv
    from reports import render_pdf
    from shell.clock import local_today
    from shell.core.context import Actor, ServiceContext
    from shell.core.database import open_database
    from shell.plugins import make_plugin_manager

    tmp = Path(tempfile.mkdtemp(prefix="jiedao-emergency-bench-"))
    pm = make_plugin_manager(builtins=["plugins.emergency"], entry_points=False)
    db = open_database(a.url or tmp / "bench.sqlite", pm=pm, backup=False)
    engine = db.engine.dialect.name
    rng = random.Random(7)
    today = local_today()
    t = time.perf_counter()
    ids = build(db, a.warehouses, a.items, a.batches, a.moves, rng, today)
    print(f"准备（{engine}）：{len(ids['warehouses'])} 个仓库 × {len(ids['items'])} 种物资，{ids['batches']} 个批次，"
          f"{ids['moves']} 笔出入库，用时 {time.perf_counter() - t:.1f} s（不计入）")
    out = []
    actor = Actor.system()
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        assert sv.check_ledger(s) == [], "built data inconsistent"
        wh = ids["largest"]

        def stock_view():
            rows = sv.warehouse_stock(ctx, wh)
            summary = sv.stock_alert_summary(ctx, wh)
            return rows, summary

        took = timed(stock_view)
        rows, summary = stock_view()
        out.append(("库存页（一个仓库，含预警）", f"{took * 1000:.0f} ms",
                    f"{len(rows)} 行；低于最低库存 {summary.below_minimum} 项，已过期 {summary.expired} 批", "< 300 ms"))
        took = timed(lambda: sv.stock_overview(ctx, only_alerts=True), repeat=3)
        n = len(sv.stock_overview(ctx, only_alerts=True))
        out.append(("全部仓库预警总览", f"{took * 1000:.0f} ms", f"{n} 项物资有预警", "—"))
        took = timed(lambda: sv.expiry_alerts(ctx), repeat=3)
        out.append(("临期预警（全部仓库）", f"{took * 1000:.0f} ms", f"{len(sv.expiry_alerts(ctx))} 批", "—"))

    if not a.no_ledger:
        with db.session_factory() as s:
            ctx = ServiceContext(s, actor)
            t = time.perf_counter()
            spec = ledgers.build_reserve(ctx, {})
            result = render_pdf(spec, tmp / "reserve.pdf")
            took = time.perf_counter() - t
        out.append(("应急物资储备台账（全部，PDF）", f"{took:.2f} s",
                    f"{result.rows} 行，{result.pages} 页，{result.rows / took:,.0f} 行/秒",
                    "报表引擎：10,000 行 ≤ 1 s"))

    item_ids = ids["items"][:6]       # a few hot items: every issuer fights over the same batches
    counts, took, anomalies, negative, broken = concurrent_issue(db, ids["largest"], item_ids, a.issuers, a.seconds,
                                                                 today, a.top_up)
    total = counts["ok"] + counts["refused"] + counts["busy"]
    out.append((f"{a.issuers} 个并发出库（{engine}，{a.seconds:g} s）", f"{counts['ok'] / took:,.0f} 单/秒",
                f"成功 {counts['ok']}（{counts['units']} 件）、库存不足 {counts['refused']}、数据库忙 {counts['busy']}，"
                f"共 {total}；异常：余额≠流水 {anomalies}、负数 {negative}、余额链断 {broken}、"
                f"意外错误 {len(counts['unexpected'])}", "异常 0"))
    db.dispose()

    print()
    print("| 操作 | 用时/速率 | 说明 | 目标 |")
    print("|---|---|---|---|")
    for row in out:
        print("| " + " | ".join(row) + " |")
    if counts["unexpected"]:
        print("意外错误示例：", counts["unexpected"][:3])
    bad = anomalies or negative or broken or counts["unexpected"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
