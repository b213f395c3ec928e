"""Cold start, the dashboard and a tour of every page, on a demo street (offscreen Qt).

Each run is a fresh Python process that imports the shell, creates the QApplication with the style
sheet, loads the plugins and opens (checks and migrates) the database, logs in programmatically and
shows the MainWindow until its first paint ("window shown": the target of issue 9 is < 0.8 s). The
首页 is then built and its tiles load on the thread pool: "dashboard ready" is when every tile has its
figures (target < 1 s after the window shows), with the longest event-loop stall meanwhile.

One more run, the tour, then opens every page in the navigation one after the other, as a user clicking
down the list: per page the time the GUI thread spent building it with its first rows (target < 100 ms
for a list's first page) and until its background loads finished, the longest stall, and at the end
the peak memory of the process (target < 400 MB after every plugin's main page is open).

    .venv/bin/python benchmarks/startup.py --db street.sqlite         # 5 cold starts + the tour
    .venv/bin/python benchmarks/startup.py --scale small --runs 1     # CI: a fresh small street
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PASSWORD, ROOT, Results, add_street_args, build_street, copy_sqlite, format_value, machine, street_scale

WINDOW_TARGET_S = 0.8
DASHBOARD_TARGET_S = 1.0
PAGE_TARGET_S = 0.1
STALL_TARGET_S = 0.1
MEMORY_TARGET_MB = 400

# Runs in the child process; prints one JSON line of phase timings (seconds since process start).
CHILD = r"""
import json, os, resource, sys, time
t0 = time.perf_counter()
marks = {}
from PySide6.QtWidgets import QApplication
from shell.ui.app import _open_in_background, default_plugin_factory, setup_application
marks["import"] = time.perf_counter() - t0
app = setup_application([])
marks["qapplication"] = time.perf_counter() - t0
db, pm = _open_in_background(sys.argv[1], default_plugin_factory)
marks["open_database"] = time.perf_counter() - t0
from shell.core import auth
actor = auth.login(db.session_factory, "admin", sys.argv[2], labels=auth.collect_permissions(pm))
marks["login"] = time.perf_counter() - t0
from shell.config import LocalConfig
from shell.core.context import AppContext
from shell.ui.main_window import MainWindow
ctx = AppContext(db.session_factory, actor, plugin_manager=pm, database_label=db.label, is_demo=db.is_demo,
                 extras={"unit_name": "", "role_titles": ["系统管理员"]})
window = MainWindow(ctx, LocalConfig(), db)
window.resize(1366, 800)
window.show()
window.grab()  # force the first paint offscreen; the deferred 首页 build has not run yet
marks["window_shown"] = time.perf_counter() - t0

sys.path.insert(0, sys.argv[4])
from common import StallMonitor, wait_until
from shell.ui.tasks import jobs_running
from shell.ui.widgets.charts import charts_pending

from PySide6.QtWidgets import QLabel


def tiles_loaded():
    # Every tile built, every chart drawn, no visible "正在统计…"/"正在载入…" left on the page.
    home = window.pages["home"]
    if not home.ready or charts_pending():
        return False
    return not any(l.isVisible() and l.text().startswith("正在") for l in home.findChildren(QLabel))


TRACE = bool(os.environ.get("JIEDAO_BENCH_TRACE"))
with StallMonitor(trace=TRACE) as stall:
    wait_until(lambda: "home" in window.pages, what="首页")
    marks["dashboard_built"] = time.perf_counter() - t0
    wait_until(tiles_loaded, what="首页磁贴")
    app.processEvents()
    marks["dashboard_ready"] = time.perf_counter() - t0
marks["dashboard_stall"] = stall.longest
marks["dashboard_culprits"] = stall.culprits()
marks["tiles"] = len(window.pages["home"].tiles)
# The warm-up after the first page (shell/ui/warmup.py) on the pool: a user opening the next page a
# moment later finds the modules, libraries and font loaded.
with StallMonitor(trace=TRACE) as stall:
    wait_until(lambda: jobs_running() == 0, what="预先加载")
marks["warm_up_done"] = time.perf_counter() - t0
marks["warm_up_stall"] = stall.longest

if sys.argv[3] == "tour":
    pages = []
    for spec in window.page_specs:
        if spec.id in window.pages:
            continue
        with StallMonitor(trace=TRACE) as stall:
            t = time.perf_counter()
            window.open_page(spec.id)
            built = time.perf_counter() - t
            wait_until(lambda: jobs_running() == 0 and charts_pending() == 0, what=spec.title)
            app.processEvents()
            ready = time.perf_counter() - t
        window.grab()
        pages.append({"id": spec.id, "title": spec.title, "group": spec.group, "built": built, "ready": ready,
                      "stall": stall.longest, "culprits": stall.culprits(1)})
    marks["pages"] = pages
    marks["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if db.is_sqlite:  # what the desktop does on the pool after its window shows, and on exit
        from shell.core.maintenance import auto_backup
        t = time.perf_counter()
        made = auto_backup(db)
        marks["auto_backup"] = time.perf_counter() - t
        marks["auto_backup_mb"] = made.stat().st_size / 2**20 if made else 0
marks["plugins"] = [s.name for s in __import__("shell.plugins", fromlist=["x"]).plugin_status(pm)]
print(json.dumps(marks, ensure_ascii=False))
db.dispose()
"""

PHASES = [("import", "导入 PySide6 与 shell"), ("qapplication", "QApplication + 样式表"),
          ("open_database", "加载插件 + 打开/检查数据库"), ("login", "登录（argon2 校验）"),
          ("window_shown", "主窗口显示（首帧）"), ("dashboard_built", "首页建好"),
          ("dashboard_ready", "首页磁贴数据全部到位"), ("warm_up_done", "预先加载完成（线程池）")]


def compile_sources() -> None:
    """Byte-compile the project, as an installed program is: with PYTHONDONTWRITEBYTECODE set (as on
    the CI machine) every start would otherwise compile every module from source (≈0.3 s more)."""
    import compileall

    for folder in ("shell", "plugins", "reports"):
        compileall.compile_dir(str(ROOT / folder), quiet=1, force=False)


def run_once(target: str, mode: str, config_dir: Path) -> tuple[float, dict]:
    import time

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), JIEDAO_CONFIG_DIR=str(config_dir))
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, target, PASSWORD, mode, str(Path(__file__).parent)],
                         env=env, cwd=str(ROOT), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"start-up run failed (exit {out.returncode}):\n{out.stderr[-4000:]}")
    line = [x for x in out.stdout.splitlines() if x.startswith("{")][-1]
    return wall, json.loads(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_street_args(parser, default_scale="small")
    parser.add_argument("--runs", type=int, default=5, help="cold starts (the median counts)")
    parser.add_argument("--no-tour", action="store_true", help="skip opening every page")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="jiedao-bench-") as tmp:
        tmp = Path(tmp)
        if args.url:
            target, engine = args.url, "postgresql"
        else:
            engine = "sqlite"
            if args.db:
                # A copy: the desktop writes (settings, login time), and the street stays as built.
                target = str(copy_sqlite(Path(args.db), tmp / "street.sqlite"))
            else:
                print(f"building a {args.scale} demo street …", flush=True)
                target = str(build_street(tmp / "street.sqlite", args.scale)[0])
        compile_sources()
        run_once(target, "start", tmp / "config")  # warm the OS file cache once, as a desktop that started before
        results = [run_once(target, "start", tmp / "config") for _ in range(max(1, args.runs))]
        tour = None if args.no_tour else run_once(target, "tour", tmp / "config")[1]

    res = Results("startup", scale=street_scale(args), engine=engine)
    info = machine()
    print(f"街道工作台 start-up — {len(results)} cold start(s), offscreen; {info['nproc']} × {info['cpu']}")
    print(f"{'phase (cumulative, s since process start)':<44}{'median':>9}{'min':>9}{'max':>9}")
    for key, label in PHASES:
        vals = [r[key] for _, r in results]
        print(f"{key + '  ' + label:<44}{statistics.median(vals):>9.3f}{min(vals):>9.3f}{max(vals):>9.3f}")
    walls = [w for w, _ in results]
    print(f"{'wall clock incl. interpreter start':<44}{statistics.median(walls):>9.3f}{min(walls):>9.3f}{max(walls):>9.3f}")
    print()

    def med(key):
        return statistics.median(r[key] for _, r in results)

    res.info.update(runs=len(results), plugins=results[0][1]["plugins"], tiles=results[0][1]["tiles"],
                    phases={k: [r[k] for _, r in results] for k, _ in PHASES})
    res.add("startup.import", "导入 PySide6 与 shell", med("import"), note="中位数")
    res.add("startup.window_shown", "冷启动到主窗口显示", med("window_shown"), target=WINDOW_TARGET_S,
            note=f"{len(results)} 次冷启动的中位数，最快 {format_value(min(r['window_shown'] for _, r in results), 's')}")
    res.add("startup.dashboard", f"首页全部磁贴（{results[0][1]['tiles']} 个）", med("dashboard_ready") - med("window_shown"),
            target=DASHBOARD_TARGET_S, note="窗口显示后到每个磁贴的数据都到位")
    res.add("startup.dashboard_stall", "首页加载时界面最长卡顿", max(r["dashboard_stall"] for _, r in results),
            target=STALL_TARGET_S)
    res.add("startup.warm_up", "首页之后的预先加载（线程池）", med("warm_up_done") - med("dashboard_ready"),
            note=f"其间界面最长卡顿 {format_value(max(r['warm_up_stall'] for _, r in results), 's')}")
    if tour is not None:
        pages = tour["pages"]
        print(f"{'page':<28}{'built (GUI)':>12}{'ready':>10}{'stall':>10}")
        for p in pages:
            print(f"{p['group'] + ' ' + p['title']:<28}{p['built'] * 1000:>10.1f}ms{p['ready'] * 1000:>8.1f}ms"
                  f"{p['stall'] * 1000:>8.1f}ms")
        res.info["pages"] = pages
        slowest = max(pages, key=lambda p: p["built"])
        res.add("startup.page_built_max", "打开页面（含首屏数据）最慢的一页", slowest["built"], target=PAGE_TARGET_S,
                note=f"{slowest['title']}；共 {len(pages)} 页，界面线程上的用时")
        worst = max(pages, key=lambda p: p["stall"])
        res.add("startup.page_stall_max", "逐页打开时界面最长卡顿", worst["stall"], target=STALL_TARGET_S,
                note=worst["title"])
        late = max(pages, key=lambda p: p["ready"])
        res.add("startup.page_ready_max", "页面后台数据全部到位最慢的一页", late["ready"], note=late["title"])
        res.add("startup.memory", "打开全部页面后的内存峰值", tour["peak_rss_mb"], unit="MB", target=MEMORY_TARGET_MB,
                note="ru_maxrss，进程内存峰值")
        if "auto_backup" in tour:
            res.add("startup.auto_backup", "打开时的自动备份（线程池）", tour["auto_backup"],
                    note=f"{tour['auto_backup_mb']:.0f} MB 的数据库文件")
    res.write(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
