"""What the benchmarks share: the street they measure on, timing, results as JSON, and the longest
stall of the Qt event loop.

Every benchmark takes the same street options (``add_street_args``):

    --db FILE     a demo street built by ``jiedao demo --db FILE --scale large`` (the benchmark works on
                  a copy when it writes, so one street serves them all)
    --url URL     a PostgreSQL database holding a demo street (``benchmarks/lan.py`` makes one)
    --scale S     with neither: build a fresh demo street of this scale in a temporary folder
    --json FILE   write the results there (``run_all.py`` collects them)

A result is one figure with its target: ``Results.add("grid.search.name", "按姓名搜索", 0.012, target=0.05)``.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCALES = ("small", "medium", "large")
PASSWORD = "demo1234"   # jiedao demo's own default: a street built by the command line opens too

# Issue 9's targets, in seconds.
LIST = 0.1        # a list's first page
SEARCH = 0.05     # search by name, pinyin initials, ID number, phone
STAT = 1.0        # a statistic over a year of data; the 首页 with all its tiles
STALL = 0.1       # the longest the GUI thread may block during imports, ledgers and statistics
BUILD_CPU: dict[str, float] = {}   # the process's CPU time of build_page's best run ("last")


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                      if x.startswith("MemTotal"))
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "?"
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "nproc": str(nproc), "cpu": cpu, "memory": memory,
            "python": platform.python_version(), "platform": f"{platform.system()} {platform.release()}",
            "load": load}


def timed(fn, repeat: int = 5) -> float:
    """Best of ``repeat`` runs, in seconds (the least disturbed run on a shared machine)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


@dataclass
class Result:
    key: str                 # stable id, e.g. "grid.search.name"
    label: str               # Chinese, for the table
    value: float
    unit: str = "s"          # "s", "MB", "rows/s", "count" …
    target: float | None = None
    op: str = "<"            # value op target is met: "<" (time, memory) or ">" (rates)
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value < self.target if self.op == "<" else self.value > self.target


@dataclass
class Results:
    benchmark: str
    scale: str = ""
    engine: str = "sqlite"
    items: list[Result] = field(default_factory=list)
    info: dict = field(default_factory=dict)   # street size, row counts … (free form)

    def add(self, key: str, label: str, value: float, unit: str = "s", target: float | None = None,
            op: str = "<", note: str = "") -> Result:
        r = Result(key, label, float(value), unit, target, op, note)
        self.items.append(r)
        print(format_result(r), flush=True)
        return r

    def time(self, key: str, label: str, fn, target: float | None = None, repeat: int = 5, note: str = "") -> float:
        best = timed(fn, repeat)
        self.add(key, label, best, "s", target, "<", note)
        return best

    def to_dict(self) -> dict:
        out = {"benchmark": self.benchmark, "scale": self.scale, "engine": self.engine, "machine": machine(),
               "info": self.info, "results": []}
        for r in self.items:
            d = asdict(r)
            d["met"] = r.met
            out["results"].append(d)
        return out

    def write(self, path: str | os.PathLike | None) -> None:
        if path:
            Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")


def format_value(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit in ("rows/s", "count", "per s"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.1f} {unit}"


def format_target(r: Result) -> str:
    if r.target is None:
        return "—"
    return f"{'<' if r.op == '<' else '≥'} {format_value(r.target, r.unit)}"


def format_result(r: Result) -> str:
    verdict = {None: "", True: "  ok", False: "  MISSED"}[r.met]
    target = "" if r.target is None else f"   (target {format_target(r)})"
    return f"  {r.label:<32} {format_value(r.value, r.unit):>14}{target}{verdict}"


# -- the street --------------------------------------------------------------------------------------

def add_street_args(parser, default_scale: str = "large") -> None:
    g = parser.add_argument_group("street")
    g.add_argument("--db", help="a demo street (SQLite file from `jiedao demo --scale large`)")
    g.add_argument("--url", help="a PostgreSQL database holding a demo street")
    g.add_argument("--scale", choices=SCALES, default=default_scale,
                   help="with neither --db nor --url: build a fresh demo street of this scale")
    g.add_argument("--json", help="write the results to this JSON file")


def plugin_manager():
    from shell.plugins import make_plugin_manager

    return make_plugin_manager()


def build_street(path: Path, scale: str, seed: int = 20261122) -> tuple[Path, float]:
    """A fresh demo street at ``path`` (through ``create_demo``, as `jiedao demo` does); returns the
    path and the build time in seconds."""
    from shell.core.demo import create_demo

    t = time.perf_counter()
    db = create_demo(path, scale=scale, password=PASSWORD, pm=plugin_manager(), seed=seed, force=True)
    if db.seed_errors:
        raise SystemExit(f"demo street incomplete: {db.seed_errors}")
    db.dispose()
    return path, time.perf_counter() - t


def copy_sqlite(src: Path, dst: Path) -> Path:
    """A consistent copy of a SQLite street (the WAL checkpointed first through a real connection)."""
    import sqlite3

    con = sqlite3.connect(str(src))
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    shutil.copyfile(src, dst)
    return dst


@contextmanager
def street(args, writes: bool = False, load_models: bool = True):
    """Open the street the arguments name → ``shell.core.database.Database``. With ``writes`` a
    SQLite street is copied first, so the caller's file stays as built."""
    from shell.core.database import open_database

    with tempfile.TemporaryDirectory(prefix="jiedao-bench-") as tmp:
        if args.url:
            target = args.url
        elif args.db:
            src = Path(args.db).resolve()
            if not src.exists():
                raise SystemExit(f"no such street: {src} (build it with: jiedao demo --db {src} --scale large --no-open)")
            target = copy_sqlite(src, Path(tmp) / "street.sqlite") if writes else src
        else:
            print(f"building a {args.scale} demo street …", flush=True)
            target, took = build_street(Path(tmp) / "street.sqlite", args.scale)
            print(f"  built in {took:.1f} s", flush=True)
        db = open_database(target, pm=plugin_manager(), backup=False, load_plugin_models=load_models)
        as_desktop()
        try:
            yield db
        finally:
            db.dispose()


def as_desktop() -> None:
    """What the desktop has done by the time a user opens a page: the warm-up after its first page
    (plugin modules, pyqtgraph, ReportLab, openpyxl, the font) and ``gc.freeze()``. Without it a
    benchmark process, heavy with the street it just built, measured full garbage collections the
    desktop does not have. (The garbage of building the street is collected first.)"""
    import gc

    from shell.ui import warmup

    gc.collect()
    warmup.warm_up(plugin_manager())


def street_scale(args, db=None) -> str:
    """The scale the results are labelled with: the --scale given, or read from the street's size
    (``db`` an open Database, else the --db / --url street is opened just for this)."""
    if not (args.db or args.url):
        return args.scale
    from sqlalchemy import create_engine, text

    query = text("SELECT count(*) FROM core_areas WHERE level = 'grid'")
    if db is not None:
        with db.engine.connect() as conn:
            grids = conn.execute(query).scalar() or 0
    else:
        engine = create_engine(args.url or f"sqlite:///{Path(args.db).resolve()}")
        try:
            with engine.connect() as conn:
                grids = conn.execute(query).scalar() or 0
        finally:
            engine.dispose()
    return "large" if grids >= 300 else "medium" if grids >= 30 else "small"


def system_actor(db):
    """The street-level administrator the benchmarks act as (all permissions, whole street)."""
    from shell.core.context import Actor

    return Actor.system()


# -- the GUI thread ----------------------------------------------------------------------------------

class StallMonitor:
    """The longest the Qt event loop went without running a 5 ms timer, while active.

    A timer that fires late by *d* means the GUI thread was busy for *d*: the user saw a frozen window
    for that long. Use as a context manager around work started from the GUI and waited for with
    ``wait_until`` (which keeps the loop running).

    With ``trace=True`` a watchdog thread samples the GUI thread's stack every 5 ms while a tick is
    overdue by more than 20 ms; ``culprits()`` then names where the GUI thread spent the longest stall
    (the poor man's profiler that answers "what froze the window")."""

    INTERVAL_MS = 5

    def __init__(self, trace: bool = False):
        from PySide6.QtCore import QTimer

        self.longest = 0.0
        self.ticks = 0
        self._last = None
        self._timer = QTimer()
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self.trace = trace
        self._samples: list = []        # stacks sampled during the current stall
        self.longest_samples: list = []  # … during the longest one
        self._stop = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            gap = now - self._last - self.INTERVAL_MS / 1000
            if gap > self.longest:
                self.longest = gap
                self.longest_samples = self._samples
        self._samples = []
        self._last = now
        self.ticks += 1

    def _watch(self, main_id: int) -> None:
        import traceback

        while not self._stop.wait(0.005):
            last = self._last
            if last is not None and time.perf_counter() - last > 0.02:
                frame = sys._current_frames().get(main_id)
                if frame is not None:
                    self._samples.append(tuple(f"{Path(f.filename).name}:{f.lineno} {f.name}"
                                               for f in traceback.extract_stack(frame)[-24:]))

    def culprits(self, top: int = 3) -> list[tuple[int, tuple[str, ...]]]:
        """The most sampled stacks of the longest stall: [(samples, frames innermost last)]."""
        from collections import Counter

        return [(n, stack) for stack, n in Counter(self.longest_samples).most_common(top)]

    def __enter__(self):
        import threading

        self.longest, self.ticks, self._last = 0.0, 0, time.perf_counter()
        self._samples, self.longest_samples = [], []
        self._timer.start()
        if self.trace:
            self._stop = threading.Event()
            threading.Thread(target=self._watch, args=(threading.get_ident(),), daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._tick()
        self._timer.stop()
        if self._stop is not None:
            self._stop.set()
        return False


def app_context(db, pm=None, actor=None):
    """The desktop's AppContext on ``db``, as the street's administrator unless ``actor`` is given."""
    from shell.core.context import Actor, AppContext

    return AppContext(db.session_factory, actor or Actor.system(), plugin_manager=pm or plugin_manager(),
                      database_label="bench", is_demo=True)


def build_page(factory, ready, repeat: int, timeout: float = 120):
    """Best time from constructing a page to its first rows shown (``ready(page)``) → (seconds, the
    last page). The process's CPU time of the best run goes to ``BUILD_CPU["last"]`` (on a shared
    machine the fairer number)."""
    from PySide6.QtWidgets import QApplication

    best, page = float("inf"), None
    for _ in range(repeat):
        if page is not None:
            page.deleteLater()
            QApplication.processEvents()
        t, c = time.perf_counter(), time.process_time()
        page = factory()
        page.show()
        wait_until(lambda: ready(page), timeout, "first rows")
        took = time.perf_counter() - t
        if took < best:
            best, BUILD_CPU["last"] = took, time.process_time() - c
    return best, page


def wait_until(predicate, timeout: float = 120.0, what: str = "") -> float:
    """Run the Qt event loop until ``predicate()`` is true; returns the seconds waited."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    app = QCoreApplication.instance()
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        time.sleep(0.001)
    return time.perf_counter() - start


def qt_app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from shell.ui.app import setup_application

    return QApplication.instance() or setup_application([])
