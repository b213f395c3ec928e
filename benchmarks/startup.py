"""Cold start to a shown main window (offscreen), with the built-in plugins, on a demo database.

Each run is a fresh Python process that imports the shell, creates the QApplication with the style
sheet, loads the plugins and opens (checks and migrates) the database, logs in programmatically and
shows the MainWindow until its first paint. The first page (首页, which queries the database) is
built right after the window shows; its time is reported separately.

    .venv/bin/python benchmarks/startup.py               # small demo database, 5 runs
    .venv/bin/python benchmarks/startup.py --scale tiny  # CI: small database, 1 run
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.8

# Runs in the child process; prints one JSON line of phase timings (seconds since process start).
CHILD = r"""
import json, os, sys, time
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
window.show()
window.grab()  # force the first paint offscreen; the deferred 首页 build has not run yet
marks["window_shown"] = time.perf_counter() - t0
while "home" not in window.pages:
    app.processEvents()
marks["dashboard_built"] = time.perf_counter() - t0
marks["plugins"] = [s.name for s in __import__("shell.plugins", fromlist=["x"]).plugin_status(pm)]
print(json.dumps(marks))
db.dispose()
"""

PHASES = [("import", "导入 PySide6 与 shell"), ("qapplication", "QApplication + 样式表"),
          ("open_database", "加载插件 + 打开/检查数据库"), ("login", "登录（argon2 校验）"),
          ("window_shown", "主窗口显示（首帧）"), ("dashboard_built", "首页磁贴建好")]


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    import PySide6

    return {"nproc": str(os.cpu_count()), "cpu": cpu or "?", "python": platform.python_version(),
            "pyside6": PySide6.__version__, "platform": platform.platform()}


def make_demo(folder: Path, scale: str, password: str) -> Path:
    sys.path.insert(0, str(ROOT))
    from shell.core.demo import create_demo
    from shell.plugins import make_plugin_manager

    path = folder / "bench.sqlite"
    create_demo(path, scale=scale, password=password, pm=make_plugin_manager()).dispose()
    return path


def run_once(db_path: Path, password: str) -> tuple[float, dict]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               JIEDAO_CONFIG_DIR=str(db_path.parent / "config"))
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(db_path), password], env=env, cwd=str(ROOT),
                         capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"start-up run failed:\n{out.stderr}")
    line = [x for x in out.stdout.splitlines() if x.startswith("{")][-1]
    return wall, json.loads(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["tiny", "small", "medium", "large"], default="small",
                        help="demo database size; tiny = small database, one run (for CI)")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print the raw numbers as JSON too")
    args = parser.parse_args(argv)
    scale = "small" if args.scale == "tiny" else args.scale
    runs = args.runs or (1 if args.scale == "tiny" else 5)
    password = "bench1234"

    with tempfile.TemporaryDirectory(prefix="jiedao-bench-") as tmp:
        db_path = make_demo(Path(tmp), scale, password)
        run_once(db_path, password)  # warm the OS file cache once, as a desktop that started before
        results = [run_once(db_path, password) for _ in range(runs)]

    walls = [w for w, _ in results]
    info = machine()
    print(f"街道工作台 start-up benchmark — demo database '{scale}', {runs} run(s), offscreen")
    print(f"machine: {info['nproc']} × {info['cpu']}, Python {info['python']}, PySide6 {info['pyside6']}")
    print(f"plugins: {', '.join(results[0][1]['plugins']) or '(no built-in plugins registered yet)'}")
    print()
    print(f"{'phase (cumulative, s since process start)':<44}{'median':>9}{'min':>9}{'max':>9}")
    for key, label in PHASES:
        vals = [r[key] for _, r in results]
        print(f"{key + '  ' + label:<44}{statistics.median(vals):>9.3f}{min(vals):>9.3f}{max(vals):>9.3f}")
    print(f"{'wall clock incl. interpreter start':<44}{statistics.median(walls):>9.3f}{min(walls):>9.3f}{max(walls):>9.3f}")
    shown = statistics.median(r["window_shown"] for _, r in results)
    verdict = "OK" if shown < TARGET_S else "OVER BUDGET"
    print(f"\nwindow shown: {shown:.3f} s (target < {TARGET_S} s): {verdict}")
    if args.json:
        print(json.dumps({"machine": info, "scale": scale, "walls": walls, "runs": [r for _, r in results]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
