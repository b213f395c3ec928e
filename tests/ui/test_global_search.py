"""The tool bar's global search: plugin results and areas in one list, opened through open_record."""
from __future__ import annotations

import shutil
import sys
import types

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QMessageBox

import tests.testplugin as testplugin
from shell import hookimpl
from shell.config import LocalConfig
from shell.contracts import PluginInfo, SearchResult
from shell.core import auth
from shell.core.context import AppContext
from shell.core.database import open_database
from shell.plugins import make_plugin_manager
from shell.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def drain_pool():
    yield
    QThreadPool.globalInstance().waitForDone(5000)


def _window(qtbot, demo_template, tmp_path, username="admin", extra=()):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    pm = make_plugin_manager(builtins=(), extra=[testplugin, *extra], entry_points=False)
    db = open_database(path, pm=pm, backup=False)
    actor = auth.login(db.session_factory, username, "demo1234", labels=auth.collect_permissions(pm))
    ctx = AppContext(db.session_factory, actor, plugin_manager=pm, database_label=db.label, is_demo=True)
    window = MainWindow(ctx, LocalConfig(), db)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window, db


def _search(qtbot, window, text):
    window.search.box.setText(text)
    window.search.box.flush()
    qtbot.waitUntil(lambda: not window.search.status.text().startswith("正在搜索"), timeout=5000)
    return window.search.results()


def test_plugin_results_open_through_open_record(qtbot, demo_template, tmp_path):
    window, db = _window(qtbot, demo_template, tmp_path)
    testplugin.OPENED.clear()
    results = _search(qtbot, window, "便签")
    assert len(results) == 12 and all("[测试插件]" in r for r in results)
    assert "找到 12 条" in window.search.status.text()
    item = window.search.list.item(0)
    window.search.list.itemActivated.emit(item)
    assert testplugin.OPENED == [("testplug.note", item.data(Qt.ItemDataRole.UserRole).id)]
    assert not window.search.popup.isVisible()
    db.dispose()


def test_area_result_opens_the_area_in_settings(qtbot, demo_template, tmp_path):
    window, db = _window(qtbot, demo_template, tmp_path)
    results = _search(qtbot, window, "hpl")  # 和平里社区 by pinyin initials
    assert results and results[0].startswith("和平里社区") and "[辖区]" in results[0]
    window.search.list.itemActivated.emit(window.search.list.item(0))
    dialog = window._settings_dialog
    assert dialog is not None and dialog.isVisible()
    page = dialog.page("areas")
    assert page.selected().name == "和平里社区"
    dialog.close()
    db.dispose()


def test_scope_and_short_queries(qtbot, demo_template, tmp_path):
    window, db = _window(qtbot, demo_template, tmp_path, username="grid_worker")
    assert len(_search(qtbot, window, "便签")) == 1  # only the notes of the worker's own grid
    window.search.search("a")  # one Latin letter is no query
    assert not window.search.popup.isVisible()
    assert _search(qtbot, window, "没有这种东西") == []
    assert window.search.status.text() == "没有找到匹配的记录。"
    db.dispose()


def test_failing_plugin_and_unknown_kind(qtbot, demo_template, tmp_path, monkeypatch):
    broken = types.ModuleType("brokensearch")

    @hookimpl
    def plugin_info():
        return PluginInfo(name="brokensearch", title="坏搜索", version="0")

    @hookimpl
    def register_search(ctx, text):
        raise RuntimeError("搜索坏了")

    broken.plugin_info, broken.register_search = plugin_info, register_search
    sys.modules["brokensearch"] = broken
    window, db = _window(qtbot, demo_template, tmp_path, extra=[broken])
    assert len(_search(qtbot, window, "便签")) == 12  # the other plugin still answers
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: shown.append(a[2]))
    assert window.open_record(SearchResult(kind="nobody.knows", id=1, title="x")) is False
    assert shown and "nobody.knows" in shown[0]
    db.dispose()


def test_open_record_can_show_a_page_of_the_main_window(qtbot, demo_template, tmp_path):
    window, db = _window(qtbot, demo_template, tmp_path)
    page = window.app_ctx.extras["open_page"]("testplug.notes")
    assert page is window.current_page() and page.text().startswith("测试便签共")
    db.dispose()
