"""The GUI thread hands out work in short turns: dashboard tiles one per turn, charts drawn one per
turn, plugin modules imported on the pool (PluginInfo.warm)."""
from __future__ import annotations

import sys
import types

from PySide6.QtWidgets import QLabel

from shell.contracts import DashboardWidgetSpec, PluginInfo
from shell.plugins import warm_modules
from shell.ui.widgets.charts import ChartData, ChartView, charts_pending


class _Ctx:
    """What DashboardPage reads of the app context once collect_tiles is replaced."""

    class actor:
        display_name = "测试"
        username = "t"


def test_tiles_are_built_one_per_turn(qtbot, monkeypatch):
    from shell.ui import dashboard

    order = []

    def factory(name):
        def build(_ctx, _parent):
            order.append(name)
            return QLabel(name)
        return build

    specs = [("p", DashboardWidgetSpec(id=f"p.{n}", title=n, factory=factory(n), order=i))
             for i, n in enumerate(("一", "二", "三"))]
    monkeypatch.setattr(dashboard, "collect_tiles", lambda _ctx: specs)
    turns = []
    monkeypatch.setattr(dashboard.QTimer, "singleShot", lambda _ms, fn: turns.append(fn))  # turns by hand
    page = dashboard.DashboardPage(_Ctx())
    qtbot.addWidget(page)
    # Frames at once, contents later: nothing built inside the constructor.
    assert [t.spec.title for t in page.tiles] == ["一", "二", "三"] and order == [] and not page.ready
    assert all(t.body.text() == "正在载入…" for t in page.tiles)
    turns.pop(0)()
    assert order == ["一"] and len(turns) == 1          # one tile per turn, the next turn asked for
    with qtbot.waitSignal(page.tiles_built, timeout=5000):
        while turns:
            turns.pop(0)()
    assert order == ["一", "二", "三"] and page.ready
    assert [t.body.text() for t in page.tiles] == ["一", "二", "三"]


def test_charts_are_drawn_one_per_turn(qtbot, monkeypatch):
    from shell.ui.widgets import charts

    views = [ChartView(lambda: ChartData([], [], empty_text="暂无")) for _ in range(3)]
    for v in views:
        qtbot.addWidget(v)
    qtbot.waitUntil(lambda: all(v.data is not None for v in views) and charts_pending() == 0, timeout=10000)
    monkeypatch.setattr(charts.QTimer, "singleShot", lambda *_a: None)   # turns taken by hand below
    data = ChartData(["一月", "二月"], [("时长", [3, 4])])
    for v in views:
        charts._draw_later(v, data)          # three charts' figures arrive together
    assert charts_pending() == 3 and all(v.plot is None for v in views)
    charts._draw_next()                      # one turn of the event loop draws one chart
    assert charts_pending() == 2 and [v.plot is not None for v in views] == [True, False, False]
    charts._draw_next()
    charts._draw_next()
    assert charts_pending() == 0 and all(v.plot is not None for v in views)


def test_warm_modules_imports_what_plugins_name(monkeypatch, caplog):
    pkg = types.ModuleType("warmplug")
    pkg.__path__ = []  # a package
    sub = types.ModuleType("warmplug.services")
    monkeypatch.setitem(sys.modules, "warmplug", pkg)
    monkeypatch.setitem(sys.modules, "warmplug.services", sub)
    pkg.plugin_info = lambda: PluginInfo(name="warmplug", title="预热", version="1", warm=("services",))
    broken = types.ModuleType("brokenplug")
    broken.__path__ = []
    monkeypatch.setitem(sys.modules, "brokenplug", broken)
    broken.plugin_info = lambda: PluginInfo(name="brokenplug", title="坏", version="1", warm=("no_such_module",))

    class PM:
        @staticmethod
        def list_name_plugin():
            return [("warmplug", pkg), ("brokenplug", broken)]

    assert warm_modules(PM()) == ["warmplug.services"]
    assert "brokenplug" in caplog.text  # logged, not raised: the page that needs it reports it
    assert warm_modules(None) == []


def test_preload_takes_every_module_of_a_sub_package(tmp_path, monkeypatch):
    (tmp_path / "preplug" / "views").mkdir(parents=True)
    (tmp_path / "preplug" / "__init__.py").write_text(
        "from shell.contracts import PluginInfo\n"
        "def plugin_info():\n"
        "    return PluginInfo(name='preplug', title='预载', version='1', preload=('ledgers', 'views.*'))\n")
    (tmp_path / "preplug" / "ledgers.py").write_text("")
    (tmp_path / "preplug" / "views" / "__init__.py").write_text("")
    for page in ("alpha", "beta"):
        (tmp_path / "preplug" / "views" / f"{page}.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    import preplug

    class PM:
        @staticmethod
        def list_name_plugin():
            return [("preplug", preplug)]

    try:
        assert warm_modules(PM(), "preload") == ["preplug.ledgers", "preplug.views.alpha", "preplug.views.beta"]
        assert "preplug.views.beta" in sys.modules
        assert warm_modules(PM()) == []   # nothing under warm
    finally:
        for name in [m for m in sys.modules if m == "preplug" or m.startswith("preplug.")]:
            del sys.modules[name]


def test_warm_up_loads_the_heavy_libraries_and_freezes_what_they_left(monkeypatch):
    import gc

    from shell.ui import warmup

    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    monkeypatch.setattr(warmup, "_frozen", set())
    done = warmup.warm_up(None)
    assert done == ["pyqtgraph", "reports.pdf", "reports.xlsx"]
    assert {"pyqtgraph", "reportlab", "openpyxl"} <= set(sys.modules)
    assert frozen == [True]
    warmup.warm_up(None)
    assert frozen == [True]   # once per process


def test_pool_work_runs_with_the_collector_paused(qtbot):
    import gc

    from shell.ui.tasks import run_in_pool, run_task

    seen = {}
    run_in_pool(gc.isenabled, lambda ok, result: seen.setdefault("job", result))
    handle = run_task(None, "测试", lambda progress: gc.isenabled(), on_done=lambda r: seen.setdefault("task", r))
    qtbot.waitUntil(lambda: len(seen) == 2 and handle.is_finished, timeout=5000)
    assert seen == {"job": False, "task": False}
    assert gc.isenabled()   # and on again afterwards
