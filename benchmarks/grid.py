"""Benchmark: the grid plugin on a demo street (issue 9).

    .venv/bin/jiedao demo --db /tmp/street.sqlite --scale large --no-open
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/grid.py --db /tmp/street.sqlite --json out.json
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/grid.py --scale small      # CI: a fresh small street
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/grid.py --url postgresql+psycopg://…/street

The street is the demo's (``plugins/grid/demo.py``: at large 400 grids, 200,000 persons in 60,000
households and 40,000 houses, 5,000 special-group records with their visits, 50,000 events over three
years with their timelines). Measured, best of N, on the street as built (reads) or on a copy of it
(everything that writes):

- every list page, built as the real widget offscreen until its first rows show — 实有人口, 房屋与户
  (houses and households tabs), 组织, 事件办理, 特殊人群与走访, 民情日志, 网格力量 — once as a street-wide
  user and once as a user of one community; 实有人口 also switching its area tree to one community
  — target < 100 ms;
- searches by name, pinyin initials, ID number (full and a prefix) and phone (full and a prefix), through
  the resident search box (count + first page, as the page runs them) and the global search hook
  ``register_search`` — < 50 ms;
- statistics over a year — 事件统计 (indicators; by community, grid, category, month), monthly
  counts, overdue events and visits, the households-per-worker ratios, the 事件统计 page's own
  computation — < 1 s; the dashboard tile's summary and its chart, and the tile built until both
  show (< 1 s); the ledgers' row queries for a year (事件办理台账, 矛盾纠纷台账, 走访日志; 网格基础信息表) are
  reported without a target (rows for a PDF, rendered on the thread pool);
- the Excel import of new persons through ``shell.core.transfer.run_import`` (issue 4's goal ≥ 25,000
  rows/s), and again from the import centre page with ``StallMonitor`` running; a ledger generated from
  the report centre, and 事件统计 computing — the longest GUI stall < 100 ms each.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
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
    build_page,
    machine,
    plugin_manager,
    qt_app,
    street,
    street_scale,
    timed,
    wait_until,
)

IMPORT_RATE = 25_000


def street_actor():
    from shell.core.context import Actor

    return Actor.system()


def community_actor(db, pm):
    """A community's staff: every permission, the scope of the community with the most persons."""
    from sqlalchemy import text

    from shell.core.auth import collect_permissions
    from shell.core.context import Actor

    with db.engine.connect() as c:
        path = c.execute(text(
            "SELECT c.path FROM grid_persons p JOIN core_areas g ON g.id = p.area_id "
            "JOIN core_areas c ON c.id = g.parent_id GROUP BY c.path ORDER BY count(*) DESC, c.path LIMIT 1")).scalar()
    return Actor(user_id=None, username="bench_community", display_name="社区（基准）",
                 permissions=frozenset(collect_permissions(pm)), scope_paths=(path,), is_superuser=False)


def app_context(db, pm, actor=None):
    from shell.core.context import AppContext

    return AppContext(db.session_factory, actor or street_actor(), plugin_manager=pm, database_label="bench")


def facts(db) -> dict:
    from sqlalchemy import text

    out = {}
    with db.engine.connect() as c:
        for t in ("persons", "households", "houses", "occupancies", "organisations", "events", "event_steps",
                  "special_persons", "visits", "visit_logs", "staff"):
            out[t] = c.execute(text(f"SELECT count(*) FROM grid_{t}")).scalar()
        out["grids"] = c.execute(text("SELECT count(*) FROM core_areas WHERE level = 'grid'")).scalar()
        out["communities"] = c.execute(text("SELECT count(*) FROM core_areas WHERE level = 'community'")).scalar()
    return out


# -- lists --------------------------------------------------------------------------------------------

def pages():
    """(key, label, factory(app_ctx), ready(page), rows(page)) for every list page of the plugin."""
    from plugins.grid.views.events import EventsPage
    from plugins.grid.views.houses import HousesPage
    from plugins.grid.views.logs import VisitLogsPage
    from plugins.grid.views.organisations import OrganisationsPage
    from plugins.grid.views.residents import ResidentsPage
    from plugins.grid.views.special import SpecialGroupsPage
    from plugins.grid.views.staff import GridStaffPage

    def model_rows(p):
        return p.model.rowCount()

    return [
        ("residents", "实有人口", ResidentsPage, lambda p: model_rows(p) > 0, model_rows),
        ("houses", "房屋与户（房屋、户两个标签）", HousesPage,
         lambda p: p.houses.model.rowCount() > 0 and p.households.model.rowCount() > 0,
         lambda p: p.houses.model.rowCount()),
        ("organisations", "组织", OrganisationsPage, lambda p: model_rows(p) > 0, model_rows),
        ("events", "事件办理", EventsPage, lambda p: model_rows(p) > 0, model_rows),
        ("special", "特殊人群与走访", SpecialGroupsPage, lambda p: model_rows(p) > 0, model_rows),
        ("logs", "民情日志", VisitLogsPage, lambda p: model_rows(p) > 0, model_rows),
        ("staff", "网格力量", GridStaffPage, lambda p: p.grids.rowCount() > 0, lambda p: p.grids.rowCount()),
    ]


def measure_lists(res: Results, contexts: dict, repeat: int) -> None:
    for key, label, factory, ready, rows in pages():
        for who, (who_label, app_ctx) in contexts.items():
            took, page = build_page(lambda: factory(app_ctx), ready, repeat)
            res.add(f"grid.list.{key}.{who}", f"{label}首屏（{who_label}）", took, target=LIST,
                    note=f"首屏 {rows(page)} 行" + (f"，{page.count_label.text()}" if hasattr(page, "count_label") else ""))
            if key == "residents" and who == "street":
                # the area tree: the whole street → one community (the page's own filter)
                community = next(a for a in page.tree.areas.values() if a.level == "community")

                def switch(page=page, community=community):
                    page.tree.select(None)
                    t = time.perf_counter()
                    page.tree.select(community.id)
                    took = time.perf_counter() - t
                    assert page.model.rowCount() > 0
                    return took
                best = min(switch() for _ in range(repeat))
                res.add("grid.list.residents.tree_community", "实有人口：在辖区树中选一个社区", best, target=LIST,
                        note=page.count_label.text())
            page.deleteLater()


# -- searches -----------------------------------------------------------------------------------------

def search_terms(db) -> list[tuple[str, str, str]]:
    """(key, label, text): a name, its initials, a full and a partial ID number and phone — of a
    person in the middle of the table, so the index, not luck in the first rows, finds it."""
    from sqlalchemy import text

    with db.engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM grid_persons")).scalar()
        name, initials, idn, phone = c.execute(text(
            "SELECT name, name_initials, id_number, phone FROM grid_persons WHERE phone IS NOT NULL "
            "AND length(name) = 3 ORDER BY id LIMIT 1 OFFSET :o"), {"o": n // 2}).one()
    from shell.text import name_pinyin, name_syllables

    return [("name", "姓名", name), ("initials", "拼音首字母", initials),
            ("pinyin", "全拼", name_pinyin(name)), ("surname_pinyin", "姓的全拼", name_syllables(name)[0]),
            ("id_full", "身份证号（18 位）", idn),
            ("id_prefix", "身份证号前 10 位", idn[:10]), ("phone_full", "电话（11 位）", phone),
            ("phone_prefix", "电话前 7 位", phone[:7])]


def measure_search(res: Results, contexts: dict, terms, repeat: int) -> None:
    from plugins.grid.views.residents import ResidentsPage

    app_ctx = contexts["street"][1]
    page = ResidentsPage(app_ctx)
    page.show()
    for key, label, term in terms:
        def box(term=term):
            page.apply_search(term)          # what the search box's signal runs: count + first page
            return page.model.rowCount()
        found = box()
        res.time(f"grid.search.box.{key}", f"人口搜索框：{label}", box, SEARCH, repeat,
                 note=f"“{term}” → {page.model.total} 人，首屏 {found} 行")
    page.deleteLater()
    import plugins.grid as grid_plugin

    pm = app_ctx.plugin_manager
    for key, label, term in terms:
        def hook(term=term):                         # this plugin's register_search, as the tool bar calls it
            return grid_plugin.register_search(ctx=app_ctx, text=term)

        def every(term=term):                        # all plugins' answers (for orientation)
            return [r for rs in pm.hook.register_search(ctx=app_ctx, text=term) for r in (rs or [])]
        found = len(hook())
        took_all = timed(every, repeat)
        res.time(f"grid.search.global.{key}", f"全局搜索（网格插件）：{label}", hook, SEARCH, repeat,
                 note=f"{found} 条；所有插件合计 {took_all * 1000:.0f} ms、{len(every())} 条")


# -- statistics and the dashboard ---------------------------------------------------------------------

def measure_stats(res: Results, app_ctx, repeat: int) -> None:
    from plugins.grid import ledgers
    from plugins.grid import services as svc
    from plugins.grid.views import dashboard, stats

    with app_ctx.service(commit=False) as ctx:
        end = ctx.today()
        start = end - timedelta(days=364)
        ind = svc.indicators(ctx, start, end)
        res.time("grid.stat.indicators", "事件指标（近一年）", lambda: svc.indicators(ctx, start, end), STAT, repeat,
                 note=f"应结案 {ind.due}，结案率 {ind.percent(ind.closure_rate)}，"
                      f"按期 {ind.percent(ind.on_time_rate)}")
        for by, label in svc.BREAKDOWNS.items():
            res.time(f"grid.stat.by_{by}", f"事件统计：按{label}（近一年）",
                     lambda by=by: svc.indicator_table(ctx, start, end, by), STAT, repeat,
                     note=f"{len(svc.indicator_table(ctx, start, end, by))} 行")
        res.time("grid.stat.monthly", "逐月上报/结案（今年）", lambda: svc.monthly_counts(ctx, end.year), STAT, repeat)
        deps = svc.department_stats(ctx, start, end)
        res.time("grid.stat.departments", "部门办理情况（近一年）", lambda: svc.department_stats(ctx, start, end), STAT,
                 repeat, note=f"{len(deps)} 个部门与单位，派遣 {sum(d.received for d in deps)} 次")
        res.time("grid.stat.overdue_events", "超期未结事件", lambda: svc.overdue_events(ctx), STAT, repeat,
                 note=f"{len(svc.overdue_events(ctx))} 件")
        res.time("grid.stat.overdue_visits", "逾期未走访", lambda: svc.overdue_visits(ctx), STAT, repeat,
                 note=f"{len(svc.overdue_visits(ctx))} 人")
        res.time("grid.stat.ratios", "网格员配比（全部网格）", lambda: svc.grid_ratios(ctx), STAT, repeat)
    # the ledgers' own queries (the rows a PDF would show, without drawing it)
    defs = {d.id: d for d in ledgers.definitions()}
    for rid, params in (("grid.events", {"start": start, "end": end}), ("grid.disputes", {"start": start, "end": end}),
                        ("grid.visit_logs", {"start": start, "end": end}), ("grid.grid_info", {})):
        d = defs[rid]

        def rows(d=d, params=params):
            with app_ctx.service(commit=False) as ctx:
                spec = d.builder(ctx, dict(params))
                return sum(1 for _ in spec.rows)
        n = rows()
        # the rows a PDF of a year would print: not a statistic, reported without a target (the report
        # centre renders on the thread pool with progress; its GUI stall is measured below)
        res.time(f"grid.ledger_rows.{rid.split('.')[1]}", f"台账取数：{d.title}（近一年）", rows, None, repeat,
                 note=f"{n} 行")
    res.time("grid.stat.page_compute", "事件统计页的计算（按社区，今年）",
             lambda: stats.compute(app_ctx, end.replace(month=1, day=1), end, "community"), STAT, repeat)
    res.time("grid.dashboard.summary", "首页磁贴：摘要五行", lambda: dashboard.summary_lines(app_ctx), STAT, repeat)
    res.time("grid.dashboard.chart", "首页图表：逐月上报与结案", lambda: dashboard.monthly_chart(app_ctx), STAT, repeat)

    best, stalls = float("inf"), []
    for _ in range(repeat):
        t = time.perf_counter()
        with StallMonitor() as mon:
            w = dashboard.GridTile(app_ctx)
            w.show()
            wait_until(lambda: w.loaded and w.chart.data is not None and not _jobs_running()
                       and not charts_pending(), 60, "tile")       # summary shown and chart drawn
        best = min(best, time.perf_counter() - t)
        stalls.append(mon.longest)
        w.deleteLater()
    res.add("grid.dashboard.tile", "首页磁贴（建好到摘要和图表显示）", best, target=STAT)
    res.add("grid.stall.dashboard", "GUI 最长停顿：首页磁贴", min(stalls), target=STALL,
            note="各次：" + "、".join(f"{x * 1000:.0f}" for x in stalls) + " ms（含 pyqtgraph 画图，在 GUI 线程）")


def charts_pending() -> int:
    from shell.ui.widgets.charts import charts_pending as pending

    return pending()


def _jobs_running() -> int:
    from shell.ui.tasks import jobs_running

    return jobs_running()


# -- imports and the GUI thread during long work -----------------------------------------------------

# Regions the demo never uses, one per imported file, so two imports never clash with the street or
# with each other (and remove_imported finds them again); households get the file's own prefix too.
IMPORT_REGIONS = {"A": "110108", "B": "110102"}


def write_persons_xlsx(db, path: Path, n: int, rng: random.Random, tag: str = "A") -> Path:
    """``n`` new persons (valid, unique ID numbers not on the street) in the grid import's layout."""
    from openpyxl import Workbook
    from sqlalchemy import text
    from stdnum.cn import ric

    from plugins.grid.demo import GIVEN_F, GIVEN_M, SURNAMES

    with db.engine.connect() as c:
        grids = [f"{cn}{gn}" for cn, gn in c.execute(text(
            "SELECT c.name, g.name FROM core_areas g JOIN core_areas c ON c.id = g.parent_id "
            "WHERE g.level = 'grid' ORDER BY g.id"))]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("实有人口")
    ws.append(["姓名", "公民身份号码", "责任网格", "人口类别", "联系电话", "民族", "现住址", "户号", "与户主关系"])
    seen: set[str] = set()
    for i in range(n):
        while True:
            birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 70 * 365))
            base = f"{IMPORT_REGIONS[tag]}{birth:%Y%m%d}{rng.randrange(1000):03d}"
            number = base + ric.calc_check_digit(base + "0")
            if number not in seen:
                seen.add(number)
                break
        male = int(number[16]) % 2 == 1
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_M if male else GIVEN_F) for _ in range(rng.choice((1, 2))))
        ws.append([name, number, grids[i % len(grids)], "户籍人口", f"1{rng.randrange(3, 9)}{rng.randrange(10**9):09d}",
                   "汉族", f"青石路{i % 500}号{i % 30}室", f"IMP{tag}{i // 3:07d}",
                   "户主" if i % 3 == 0 else "配偶" if i % 3 == 1 else "子"])
    wb.save(str(path))
    return path


def measure_import(res: Results, db, tmp: Path, n: int) -> None:
    """Issue 4's throughput: validate every row and write them in one transaction."""
    from plugins.grid import importers
    from shell.core.transfer import run_import

    path = write_persons_xlsx(db, tmp / "persons.xlsx", n, random.Random(4))
    definition = importers.definitions()[0]
    t = time.perf_counter()
    result = run_import(db.session_factory, street_actor(), definition, path)
    took = time.perf_counter() - t
    if not result.ok or result.written != n:
        raise SystemExit(f"import failed: {result.errors[:5]}")
    res.add("grid.import.seconds", f"Excel 导入 {n:,} 人（run_import，全量校验 + 写入）", took)
    res.add("grid.import.rate", "Excel 导入速度（run_import）", n / took, unit="rows/s", target=IMPORT_RATE, op=">",
            note="issue 4 的目标")


def remove_imported(db) -> None:
    """The benchmark's imported persons and households (their audit lines stay), so the next run on
    the same PostgreSQL street can import the same files again."""
    from sqlalchemy import text

    with db.engine.begin() as c:
        for region in IMPORT_REGIONS.values():
            c.execute(text(f"DELETE FROM grid_persons WHERE id_number LIKE '{region}%'"))
        c.execute(text("DELETE FROM grid_households WHERE number LIKE 'IMP%' AND NOT EXISTS "
                       "(SELECT 1 FROM grid_persons p WHERE p.household_id = grid_households.id)"))


def measure_stalls(res: Results, app_ctx, db, tmp: Path, n: int) -> None:
    from PySide6.QtWidgets import QApplication

    from plugins.grid.views.stats import StatsPage
    from shell.ui.import_centre import ImportCentrePage
    from shell.ui.report_centre import ReportCentrePage

    path = write_persons_xlsx(db, tmp / "persons2.xlsx", n, random.Random(5), tag="B")
    page = ImportCentrePage(app_ctx)
    page.show()
    page.select_kind("grid-persons")
    t = time.perf_counter()
    with StallMonitor() as mon:
        page.run_import(path, valid_only=False)
        wait_until(lambda: page.task is not None and page.task.is_finished, 900, "import")
    took = time.perf_counter() - t
    result = page.last_result
    written = getattr(result, "written", 0) or 0
    res.add("grid.import.centre_seconds", f"导入中心导入 {n:,} 人", took,
            note=f"写入 {written} 行，错误 {len(getattr(result, 'errors', []) or [])}，{written / took:,.0f} 行/秒")
    res.add("grid.stall.import", "GUI 最长停顿：导入中心导入实有人口", mon.longest, target=STALL)
    page.deleteLater()

    from shell.clock import local_today

    today = local_today()
    for rid, label, days in (("grid.events", "事件办理台账（近三个月）", 91),
                             ("grid.disputes", "矛盾纠纷排查化解台账（近一年）", 364)):
        page = ReportCentrePage(app_ctx)
        page.show()
        page.select_report(rid)
        page.form.set_value("start", today - timedelta(days=days))   # the date editors start at today
        page.form.set_value("end", today)
        out = tmp / f"{rid}.pdf"
        page._ask_path = lambda *_a, out=out: out      # 另存为 PDF… without the file dialog
        t = time.perf_counter()
        with StallMonitor() as mon:
            handle = page.save_pdf()
            wait_until(lambda: handle.is_finished, 900, label)
            QApplication.processEvents()
        took = time.perf_counter() - t
        r = page.last_result
        res.add(f"grid.ledger.{rid.split('.')[1]}", f"{label}（报表中心，另存 PDF）", took,
                note=f"{r.rows} 行，{r.pages} 页" if r else f"失败：{handle.error!r}")
        res.add(f"grid.stall.ledger_{rid.split('.')[1]}", f"GUI 最长停顿：生成{label[:label.index('（')]}", mon.longest,
                target=STALL)
        page.deleteLater()

    page = StatsPage(app_ctx)
    page.show()
    wait_until(lambda: not _jobs_running(), 120, "stats")
    best = float("inf")
    wait_until(lambda: page.loaded, 120, "stats")
    with StallMonitor() as mon:
        for i in range(page.by.count()):
            t = time.perf_counter()
            page.by.setCurrentIndex(i)      # each breakdown recomputes (the page's own refresh)
            page.refresh()
            wait_until(lambda: page.loaded, 120, "stats")     # table filled and chart drawn
            best = min(best, time.perf_counter() - t)
    res.add("grid.stats_page.refresh", "事件统计页：切换口径到结果显示（最快一次）", best, target=STAT)
    res.add("grid.stall.statistics", "GUI 最长停顿：事件统计页计算", mon.longest, target=STALL)
    page.deleteLater()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_street_args(p)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--import-rows", type=int, default=None, help="persons imported (default 20,000; small 500)")
    a = p.parse_args(argv)

    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    qt_app()
    pm = plugin_manager()
    res = Results("grid")
    fresh = not (a.db or a.url)       # a street built for this run is already a private copy
    with tempfile.TemporaryDirectory(prefix="jiedao-grid-bench-") as tmp_name:
        tmp = Path(tmp_name)

        def writes(db, n: int) -> None:
            print("导入（在副本上）", flush=True)
            measure_import(res, db, tmp, n)
            print("长任务期间的界面响应（在副本上）", flush=True)
            try:
                measure_stalls(res, app_context(db, pm), db, tmp, n)
            finally:
                if a.url:            # a server street is not copied: take the imported persons out again
                    remove_imported(db)

        with street(a) as db:
            res.scale, res.engine = street_scale(a, db), db.engine.dialect.name
            f = facts(db)
            res.info.update(f)
            small = res.scale == "small"
            repeat = 2 if small else a.repeat
            n = a.import_rows or (500 if small else 20_000)
            print(f"网格化管理基准（{res.scale}，{res.engine}）：{f['communities']} 个社区 {f['grids']} 个网格，"
                  f"{f['persons']:,} 人 / {f['households']:,} 户 / {f['houses']:,} 套房屋，"
                  f"{f['events']:,} 件事件，{f['special_persons']:,} 名特殊人群；负载 {machine()['load']}", flush=True)
            contexts = {"street": ("全街道", app_context(db, pm)),
                        "community": ("一个社区", app_context(db, pm, community_actor(db, pm)))}
            with StallMonitor() as mon:
                wait_until(lambda: mon.ticks >= 300, 30, "idle")
            res.add("grid.stall.idle", "GUI 最长停顿：空闲基线（机器负载）", mon.longest,
                    note="空转 1.5 s 时事件循环的最长停顿：其他停顿里这部分来自机器负载")
            print("列表首屏", flush=True)
            measure_lists(res, contexts, repeat)
            print("搜索", flush=True)
            measure_search(res, contexts, search_terms(db), repeat)
            print("统计与首页", flush=True)
            measure_stats(res, contexts["street"][1], repeat)
            if fresh:
                writes(db, n)
        if not fresh:
            with street(a, writes=True) as db:
                writes(db, n)
    res.write(a.json)
    missed = [r for r in res.items if r.met is False]
    print()
    print(f"共 {len(res.items)} 项，未达标 {len(missed)} 项" + ("：" + "、".join(r.label for r in missed) if missed else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
