"""Benchmark: the emergency plugin on a demo street (issue 9).

    .venv/bin/jiedao demo --db /tmp/street.sqlite --scale large --no-open
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/emergency.py --db /tmp/street.sqlite --json out.json
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/emergency.py --scale small      # CI: a fresh small street
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/emergency.py --url postgresql+psycopg://…/street

The street is the demo's (``plugins/emergency/demo.py``: at large 30 warehouses × 300 items, about
13,000 batches and 200,000 stock moves, years of drills). Measured, best of N, on the street as built
(reads) or on a copy of it (everything that writes):

- every list page, built as the real widget offscreen until its first rows show: 应急物资 (stock per
  warehouse with alerts, the largest warehouse), 只看预警, 物资目录, 仓库, 批次流水 (the batch with the
  most moves), 盘点 (opening a count of the largest warehouse), 应急预案, 应急演练, 应急队伍, 值班表,
  避难场所 — target < 100 ms;
- item search by code prefix, name, pinyin initials and the global search hook — < 50 ms;
- statistics over a year: drill compliance, 物资收发汇总 (receipts and issues per item), alerts per
  warehouse, expiry alerts — < 1 s; the dashboard tile (summary and both charts);
- the longest GUI-thread stall (``StallMonitor``) while an import runs from the import centre, the
  应急物资储备台账 is generated from the report centre and the statistics pages compute — < 100 ms;
- concurrent issuers (threads with their own sessions) issuing FEFO from the same hot items, then the
  anomaly check: every batch's balance equals the sum of its moves, every balance chain exact,
  nothing negative (any anomaly fails the run).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    LIST,
    SEARCH,
    STALL,
    STAT,
    Results,
    StallMonitor,
    add_street_args,
    app_context,
    build_page,
    build_street,
    machine,
    plugin_manager,
    qt_app,
    street,
    street_scale,
    timed,
    wait_until,
)


def facts(db) -> dict:
    from sqlalchemy import text

    out = {}
    with db.engine.connect() as c:
        for t in ("warehouses", "items", "batches", "stock_moves", "stocktakes", "plans", "drills", "teams",
                  "team_members", "duty_shifts", "shelters"):
            out[t] = c.execute(text(f"SELECT count(*) FROM emergency_{t}")).scalar()
        out["largest_warehouse"] = c.execute(text(
            "SELECT warehouse_id FROM emergency_batches WHERE qty > 0 GROUP BY warehouse_id "
            "ORDER BY count(*) DESC, warehouse_id LIMIT 1")).scalar()
        out["busiest_batch"] = c.execute(text(
            "SELECT batch_id FROM emergency_stock_moves GROUP BY batch_id ORDER BY count(*) DESC, batch_id LIMIT 1")
        ).scalar()
        out["busiest_batch_moves"] = c.execute(text(
            "SELECT count(*) FROM emergency_stock_moves WHERE batch_id = :b"), {"b": out["busiest_batch"]}).scalar()
    return out


# -- lists --------------------------------------------------------------------------------------------

def measure_lists(res: Results, app_ctx, f: dict, repeat: int) -> None:
    from plugins.emergency import services as svc
    from plugins.emergency.views.batch_moves import BatchMovesDialog
    from plugins.emergency.views.catalog import CatalogPage
    from plugins.emergency.views.drills import DrillsPage
    from plugins.emergency.views.plans import PlansPage
    from plugins.emergency.views.shelters import SheltersPage
    from plugins.emergency.views.stock import StockPage
    from plugins.emergency.views.teams import TeamsPage

    took, page = build_page(lambda: StockPage(app_ctx), lambda p: p.model.rowCount() > 0, repeat)
    res.add("emergency.list.stock_page", "应急物资页（首个仓库）", took, target=LIST,
            note=f"{page.model.rowCount()} 行")
    wh = f["largest_warehouse"]

    def switch():
        page.show_warehouse(wh)
        return page.model.rowCount()
    took = timed(switch, repeat)
    res.add("emergency.list.stock_largest", "应急物资页（最大仓库）", took, target=LIST,
            note=f"{page.model.rowCount()} 行（{page.count_label.text()}）")

    page.alerts_only.setChecked(True)
    n = page.model.rowCount()
    page.alerts_only.setChecked(False)
    took = timed(lambda: (page.alerts_only.setChecked(True), page.alerts_only.setChecked(False)), repeat)
    res.add("emergency.list.stock_alerts", "只看预警（最大仓库，开+关）", took, target=2 * LIST, note=f"预警 {n} 行")

    row = next((r for r in page.model.rows if r.batch_id == f["busiest_batch"]), None)
    if row is None:
        with app_ctx.service(commit=False) as ctx:
            b = ctx.session.get(svc.Batch, f["busiest_batch"])
            page.show_warehouse(b.warehouse_id)
        row = next((r for r in page.model.rows if r.batch_id == f["busiest_batch"]), None)
    if row is not None:
        took, dlg = build_page(lambda: BatchMovesDialog(app_ctx, row, "基准", page),
                               lambda d: d.table.rowCount() > 0, repeat)
        res.add("emergency.list.batch_moves", "批次流水（流水最多的批次）", took, target=LIST,
                note=f"{dlg.table.rowCount()} 笔")
        dlg.deleteLater()
    page.deleteLater()

    took, page = build_page(lambda: CatalogPage(app_ctx), lambda p: p.item_table.rowCount() > 0
                            and p.wh_table.rowCount() > 0, repeat)
    res.add("emergency.list.catalog", "物资目录与仓库页", took, target=LIST,
            note=f"{page.item_table.rowCount()} 种物资、{page.wh_table.rowCount()} 个仓库")
    took = timed(page.load_warehouses, repeat)
    res.add("emergency.list.warehouses", "仓库列表（刷新）", took, target=LIST)
    page.deleteLater()

    took, page = build_page(lambda: PlansPage(app_ctx), lambda p: _rows(p) > 0, repeat)
    res.add("emergency.list.plans", "应急预案页", took, target=LIST, note=f"{_rows(page)} 个预案")
    page.deleteLater()
    took, page = build_page(lambda: DrillsPage(app_ctx), lambda p: p.model.rowCount() > 0, repeat)
    res.add("emergency.list.drills", "应急演练页（本年，含达标情况）", took, target=LIST,
            note=f"{page.model.rowCount()} 次演练")
    page.deleteLater()
    took, page = build_page(lambda: TeamsPage(app_ctx), lambda p: p.teams.rowCount() > 0, repeat)
    res.add("emergency.list.teams", "应急队伍与值班页", took, target=LIST,
            note=f"{page.teams.rowCount()} 支队伍；本周值班 {page.duty.rowCount()} 班")
    took = timed(lambda: page.move_week(-7), repeat)
    res.add("emergency.list.duty", "值班表（翻一周）", took, target=LIST)
    page.deleteLater()
    took, page = build_page(lambda: SheltersPage(app_ctx), lambda p: _rows(p) > 0, repeat)
    res.add("emergency.list.shelters", "避难场所页", took, target=LIST, note=f"{_rows(page)} 处")
    page.deleteLater()


def _rows(page) -> int:
    return page.table.model().rowCount()


# -- searches and statistics ---------------------------------------------------------------------------

def measure_search(res: Results, app_ctx, repeat: int) -> None:
    from plugins.emergency import services as svc

    with app_ctx.service(commit=False) as ctx:
        for key, label, text in (("code", "按编码前缀", "2030"), ("name", "按名称", "灭火"),
                                 ("pinyin", "按拼音首字母", "gfmhq")):
            n = len(svc.find_items(ctx, text))
            res.time(f"emergency.search.{key}", f"物资搜索：{label}（{text}）", lambda t=text: svc.find_items(ctx, t),
                     SEARCH, repeat, note=f"{n} 项")
        n = len(svc.search(ctx, "对讲"))
        res.time("emergency.search.global", "全局搜索（对讲）", lambda: svc.search(ctx, "对讲"), SEARCH, repeat,
                 note=f"{n} 条")


def measure_stats(res: Results, app_ctx, repeat: int) -> None:
    from plugins.emergency import services as svc
    from plugins.emergency.views import dashboard

    with app_ctx.service(commit=False) as ctx:
        today = ctx.today()
        year = today.year
        res.time("emergency.stat.drill_compliance", f"{year}年综合演练达标", lambda: svc.drill_compliance(ctx, year),
                 STAT, repeat)
        res.time("emergency.stat.drills_by_unit", "本年演练（按单位）", lambda: svc.drills_by_unit(ctx, year), STAT, repeat)
        if hasattr(svc, "move_summary"):
            start = today - timedelta(days=365)
            n = len(svc.move_summary(ctx, start, today))
            res.time("emergency.stat.move_summary", "物资收发汇总（近一年，全部仓库）",
                     lambda: svc.move_summary(ctx, start, today), STAT, repeat, note=f"{n} 行")
        res.time("emergency.stat.alerts_by_warehouse", "各仓库库存预警", lambda: svc.alerts_by_warehouse(ctx), STAT,
                 repeat)
        res.time("emergency.stat.expiry_alerts", "临期预警（全部仓库）", lambda: svc.expiry_alerts(ctx), STAT, repeat,
                 note=f"{len(svc.expiry_alerts(ctx))} 批")
        res.time("emergency.stat.overview_alerts", "全部仓库预警总览", lambda: svc.stock_overview(ctx, only_alerts=True),
                 STAT, repeat)
    res.time("emergency.dashboard.summary", "首页磁贴：摘要四行", lambda: dashboard.summary_lines(app_ctx), STAT, repeat)
    res.time("emergency.dashboard.stock_chart", "首页图表：库存与预警", lambda: dashboard.stock_chart(app_ctx), STAT,
             repeat)
    res.time("emergency.dashboard.drills_chart", "首页图表：本年演练", lambda: dashboard.drills_chart(app_ctx), STAT,
             repeat)

    def tile():
        w = dashboard.EmergencyTile(app_ctx)
        w.show()
        wait_until(lambda: w.loaded, 60, "tile")
        return w
    best, stalls, tab_stalls = float("inf"), [], []
    for _ in range(repeat):
        t = time.perf_counter()
        with StallMonitor() as mon:
            w = tile()
            wait_until(lambda: not _charts_pending(w) and w.stock_chart.data is not None, 60, "charts")
        best = min(best, time.perf_counter() - t)
        stalls.append(mon.longest)
        with StallMonitor() as mon:         # the second chart, built when its tab is opened
            w.tabs.setCurrentIndex(1)
            wait_until(lambda: not _charts_pending(w) and w.drills_chart.data is not None, 60, "drills chart")
        tab_stalls.append(mon.longest)
        w.deleteLater()
    res.add("emergency.stall.dashboard_tab", "GUI 最长停顿：切到“本年演练”图", min(tab_stalls), target=STALL,
            note=_runs(tab_stalls))
    res.add("emergency.dashboard.tile", "首页磁贴（建好到摘要和库存图显示）", best, target=STAT)
    res.add("emergency.stall.dashboard", "GUI 最长停顿：首页磁贴", min(stalls), target=STALL,
            note=_runs(stalls) + "（含 pyqtgraph 画图，在 GUI 线程）")


def _charts_pending(tile) -> bool:
    from shell.ui.tasks import jobs_running
    from shell.ui.widgets.charts import charts_pending

    return jobs_running() > 0 or charts_pending() > 0


# -- the GUI thread during long work -----------------------------------------------------------------

def _runs(values) -> str:
    return "各次：" + "、".join(f"{x * 1000:.0f}" for x in values) + " ms"


def import_file(db, path: Path, rows: int, today: date, prefix: str = "IMP") -> Path:
    """A receipts workbook (应急物资库存导入) of ``rows`` deliveries into the street's warehouses."""
    from openpyxl import Workbook
    from sqlalchemy import text

    from plugins.emergency.importers import STOCK_COLUMNS

    with db.engine.connect() as c:
        whs = [r[0] for r in c.execute(text("SELECT name FROM emergency_warehouses ORDER BY id"))]
        items = list(c.execute(text("SELECT code, name, spec, unit FROM emergency_items ORDER BY id")))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("库存")
    ws.append(list(STOCK_COLUMNS))
    rng = random.Random(3)
    for n in range(rows):
        code, name, spec, unit = items[n % len(items)]
        ws.append([whs[n % len(whs)], code, name, spec, unit, f"{prefix}-{today:%Y%m}-{n:05d}",
                   (today - timedelta(days=30)).isoformat(), (today + timedelta(days=700)).isoformat(),
                   rng.randint(5, 80), "区应急管理局"])
    wb.save(path)
    return path


def measure_stalls(res: Results, app_ctx, db, scale: str, tmp: Path) -> None:
    from PySide6.QtWidgets import QApplication

    from plugins.emergency.views.drills import DrillsPage
    from shell.clock import local_today
    from shell.ui.import_centre import ImportCentrePage
    from shell.ui.report_centre import ReportCentrePage

    # best of three: on a shared 2-core machine the OS alone can hold the GUI thread off for
    # 100 ms now and then (see the idle baseline), so each long task runs three times
    rows = {"small": 100, "medium": 300, "large": 700}.get(scale, 700)
    times, stalls, notes = [], [], []
    for run in range(3):
        path = import_file(db, tmp / f"stock{run}.xlsx", rows, local_today(), prefix=f"IMP{run}")
        page = ImportCentrePage(app_ctx)
        page.show()
        page.select_kind("emergency-stock")
        t = time.perf_counter()
        with StallMonitor() as mon:
            page.run_import(path, valid_only=False)
            wait_until(lambda: page.task is not None and page.task.is_finished, 600, "import")
        times.append(time.perf_counter() - t)
        stalls.append(mon.longest)
        result = page.last_result
        notes.append(f"写入 {getattr(result, 'written', '?')} 行，错误 {len(getattr(result, 'errors', []) or [])}")
        page.deleteLater()
    res.add("emergency.import.stock", f"导入库存 {rows} 行（导入中心）", min(times), note=notes[-1])
    res.add("emergency.stall.import", "GUI 最长停顿：导入", min(stalls), target=STALL, note=_runs(stalls))

    for rid, label, key in (("emergency.reserve", "应急物资储备台账（全部仓库）", "reserve"),
                            ("emergency.summary", "应急物资收发汇总表（今年）", "summary")):
        times, stalls = [], []
        for run in range(3):
            page = ReportCentrePage(app_ctx)
            page.show()
            page.select_report(rid)
            out = tmp / f"{key}{run}.pdf"
            page._ask_path = lambda *_a, out=out: out      # 另存为 PDF… without the file dialog
            t = time.perf_counter()
            with StallMonitor() as mon:
                handle = page.save_pdf()
                wait_until(lambda: handle.is_finished, 600, label)
                QApplication.processEvents()
            times.append(time.perf_counter() - t)
            stalls.append(mon.longest)
            r = page.last_result
            page.deleteLater()
        res.add(f"emergency.ledger.{key}", f"{label}（报表中心，另存 PDF）", min(times),
                note=f"{r.rows} 行，{r.pages} 页" if r else f"失败：{handle.error!r}")
        res.add(f"emergency.stall.ledger_{key}", f"GUI 最长停顿：生成{label[:label.index('（')]}", min(stalls),
                target=STALL, note=_runs(stalls))

    stalls = []
    for _ in range(3):      # the 应急演练 page computes the year's compliance while it loads
        with StallMonitor() as mon:
            page = DrillsPage(app_ctx)
            page.show()
            wait_until(lambda: page.model.rowCount() > 0, 60, "drills")
            page.reload()
            QApplication.processEvents()
        stalls.append(mon.longest)
        page.deleteLater()
    res.add("emergency.stall.statistics", "GUI 最长停顿：演练统计页（建页+刷新）", min(stalls), target=STALL,
            note=_runs(stalls))


def measure_stocktake(res: Results, app_ctx, f: dict) -> None:
    from plugins.emergency.views.stocktake import StocktakeDialog

    wh = f["largest_warehouse"]
    dlg = StocktakeDialog(app_ctx, wh, "最大仓库")
    dlg.show()
    t = time.perf_counter()
    with StallMonitor() as mon:
        dlg.open_button.click()
        wait_until(lambda: dlg.table.model().rowCount() > 0, 60, "stocktake")
    took = time.perf_counter() - t
    res.add("emergency.list.stocktake", "盘点：开始盘点到盘点表显示（最大仓库）", took, target=LIST,
            note=f"{dlg.table.model().rowCount()} 行")
    res.add("emergency.stall.stocktake", "GUI 最长停顿：开始盘点", mon.longest, target=STALL)
    dlg.close()
    dlg.deleteLater()
    # reopening an open count (what the page shows the next time)
    took, dlg = build_page(lambda: StocktakeDialog(app_ctx, wh, "最大仓库"), lambda d: d.table.model().rowCount() > 0, 3)
    res.add("emergency.list.stocktake_reopen", "盘点表（进行中的盘点单）", took, target=LIST)
    dlg.deleteLater()
    from plugins.emergency import services as svc

    with app_ctx.service() as ctx:      # a --url street is written in place: leave no count open
        take = svc.current_stocktake(ctx, wh)
        if take is not None:
            svc.cancel_stocktake(ctx, take.id)


# -- concurrent issuers ------------------------------------------------------------------------------

def concurrent_issue(db, warehouse_id: int, issuers: int, seconds: float, top_up: int):
    """Issuers hammer the same few items (hence the same batches) for ``seconds``."""
    from sqlalchemy import func, select

    from plugins.emergency import services as sv
    from plugins.emergency.models import Batch, StockMove
    from shell.clock import local_today
    from shell.core.context import Actor, ServiceContext
    from shell.errors import BusyError

    today = local_today()
    clock = lambda: datetime.now(UTC)  # noqa: E731
    with db.session_factory() as s:             # a fresh delivery per hot item, so the run measures issuing
        item_ids = list(s.scalars(select(Batch.item_id).where(Batch.warehouse_id == warehouse_id)
                                  .group_by(Batch.item_id).order_by(Batch.item_id).limit(6)))
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
                except BusyError:
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
        broken = 0      # the running balance chain of every batch the issuers touched
        for bid, in s.execute(select(Batch.id).where(Batch.warehouse_id == warehouse_id, Batch.item_id.in_(item_ids))):
            running = 0
            for q, after in s.execute(select(StockMove.qty, StockMove.balance_after)
                                      .where(StockMove.batch_id == bid).order_by(StockMove.id)):
                running += q
                broken += after != running
    return counts, took, anomalies, negative, broken


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_street_args(p)
    p.add_argument("--repeat", type=int, default=5, help="best of N for each timing")
    p.add_argument("--issuers", type=int, default=8)
    p.add_argument("--seconds", type=float, default=None, help="concurrent issuing time (default 10 s, small 2 s)")
    p.add_argument("--top-up", type=int, default=3000)
    a = p.parse_args(argv)

    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")   # offscreen's propagateSizeHints notices
    qt_app()
    pm = plugin_manager()
    res = Results("emergency")
    bad = False
    with tempfile.TemporaryDirectory(prefix="jiedao-em-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if not (a.db or a.url):
            # one fresh street for both phases (the writing phase works on a copy of it), not two
            print(f"building a {a.scale} demo street …", flush=True)
            built, took = build_street(tmp / "street.sqlite", a.scale)
            print(f"  built in {took:.1f} s", flush=True)
            a.db, fresh_scale = str(built), a.scale
        else:
            fresh_scale = None
        with street(a) as db:
            res.scale, res.engine = fresh_scale or street_scale(a, db), db.engine.dialect.name
            f = facts(db)
            res.info.update(f)
            small = res.scale == "small"
            repeat = 3 if small else a.repeat
            print(f"应急管理基准（{res.scale}，{res.engine}）：{f['warehouses']} 个仓库 × {f['items']} 种物资，"
                  f"{f['batches']} 个批次，{f['stock_moves']:,} 笔出入库，{f['drills']} 次演练；负载 {machine()['load']}",
                  flush=True)
            app_ctx = app_context(db, pm)
            with StallMonitor() as mon:
                wait_until(lambda: False if mon.ticks < 300 else True, 30, "idle")
            res.add("emergency.stall.idle", "GUI 最长停顿：空闲基线（机器负载）", mon.longest,
                    note="空转 1.5 s 时事件循环的最长停顿：其他停顿里这部分来自机器负载")
            print("列表首屏", flush=True)
            measure_lists(res, app_ctx, f, repeat)
            print("搜索", flush=True)
            measure_search(res, app_ctx, repeat)
            print("统计与首页", flush=True)
            measure_stats(res, app_ctx, repeat)
        with street(a, writes=True) as db:
            app_ctx = app_context(db, pm)
            print("长任务期间的界面响应（在副本上）", flush=True)
            measure_stocktake(res, app_ctx, f)
            measure_stalls(res, app_ctx, db, res.scale, tmp)
            seconds = a.seconds if a.seconds is not None else (2.0 if small else 10.0)
            issuers = min(a.issuers, 4) if small else a.issuers
            counts, took, anomalies, negative, broken = concurrent_issue(db, f["largest_warehouse"], issuers, seconds,
                                                                         a.top_up)
            res.add("emergency.concurrent.issue_rate", f"{issuers} 个并发出库（{seconds:g} s）", counts["ok"] / took,
                    unit="per s", note=f"成功 {counts['ok']}（{counts['units']} 件）、库存不足 {counts['refused']}、"
                                       f"数据库忙 {counts['busy']}")
            res.add("emergency.concurrent.anomalies", "并发出库后的账实异常", anomalies + negative + broken
                    + len(counts["unexpected"]), unit="count", target=1,
                    note=f"余额≠流水 {anomalies}、负数 {negative}、余额链断 {broken}、意外错误 {len(counts['unexpected'])}")
            if counts["unexpected"]:
                print("意外错误示例：", counts["unexpected"][:3])
            bad = bool(anomalies or negative or broken or counts["unexpected"])
    res.write(a.json)
    missed = [r for r in res.items if r.met is False]
    print()
    print(f"共 {len(res.items)} 项，未达标 {len(missed)} 项" + ("：" + "、".join(r.label for r in missed) if missed else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
