"""The main window: navigation filtered by permission, lazy pages, error panels, the demo marking,
the dashboard, and the menu actions."""
from __future__ import annotations

import shutil
import sys
import types
from datetime import UTC

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QLabel, QMessageBox
from sqlalchemy import select

from shell import hookimpl
from shell.config import LocalConfig
from shell.contracts import DashboardWidgetSpec, PageSpec, PluginInfo
from shell.core import auth
from shell.core.context import Actor, AppContext, ServiceContext
from shell.core.database import open_database
from shell.core.models import Area
from shell.plugins import make_plugin_manager
from shell.ui.dashboard import DashboardPage
from shell.ui.main_window import MainWindow, PageErrorPanel
from tests.ui import PASSWORD, plugins_with_testplugin


@pytest.fixture(autouse=True)
def drain_pool():
    yield
    QThreadPool.globalInstance().waitForDone(5000)


@pytest.fixture
def demo_db(demo_template, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    db = open_database(path, pm=plugins_with_testplugin(), backup=False)
    yield db
    db.dispose()


def window_for(qtbot, db, username, password=PASSWORD, pm=None, extras=None):
    pm = pm or plugins_with_testplugin()
    actor = auth.login(db.session_factory, username, password, labels=auth.collect_permissions(pm))
    ctx = AppContext(db.session_factory, actor, plugin_manager=pm, database_label=db.label, is_demo=db.is_demo,
                     extras=dict(extras or {}))
    window = MainWindow(ctx, LocalConfig(), db)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def click_nav(qtbot, window, title):
    item = next(window.nav.item(i) for i in range(window.nav.count()) if window.nav.item(i).text() == title)
    rect = window.nav.visualItemRect(item)
    qtbot.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_plugin_page_only_for_users_with_its_permission(qtbot, plugin_db):
    clerk = window_for(qtbot, plugin_db, "clerk")
    assert clerk.nav_titles() == ["首页", "测试便签", "报表中心", "数据导入导出"]
    click_nav(qtbot, clerk, "测试便签")
    page = clerk.current_page()
    assert page.objectName() == "testplug-page" and page.text() == "测试便签共 0 条"

    staff = window_for(qtbot, plugin_db, "staff")
    assert staff.nav_titles() == ["首页", "报表中心", "数据导入导出"]
    assert staff.spec("testplug.notes") is None


def test_dashboard_tiles_follow_permission(qtbot, plugin_db):
    clerk = window_for(qtbot, plugin_db, "clerk")
    qtbot.waitUntil(lambda: "home" in clerk.pages)
    home = clerk.pages["home"]
    assert isinstance(home, DashboardPage)
    qtbot.waitUntil(lambda: home.ready)
    assert [t.spec.title for t in home.tiles] == ["辖区概况", "测试磁贴"]
    assert home.empty_label is None
    assert home.tile("testplug.tile").body.text() == "测试插件磁贴"

    staff = window_for(qtbot, plugin_db, "staff")
    qtbot.waitUntil(lambda: "home" in staff.pages)
    home = staff.pages["home"]
    qtbot.waitUntil(lambda: home.ready)
    assert [t.spec.title for t in home.tiles] == ["辖区概况"]
    assert home.empty_label is not None and home.empty_label.isVisible()
    assert "还没有业务插件" in home.empty_label.text()
    summary = home.tile("core.summary").body
    texts = [lab.text() for lab in summary.findChildren(QLabel)]
    assert "管辖范围：青石街道" in texts
    assert "上次登录：这是您第一次登录" in texts


def test_core_tile_shows_previous_login(qtbot, plugin_db):
    auth.login(plugin_db.session_factory, "staff", PASSWORD)
    window = window_for(qtbot, plugin_db, "staff")
    qtbot.waitUntil(lambda: "home" in window.pages and window.pages["home"].ready)
    texts = [lab.text() for lab in window.pages["home"].tile("core.summary").body.findChildren(QLabel)]
    assert any(t.startswith("上次登录：20") for t in texts)


class PagesPlugin:
    """Pages whose factories count their calls; one of them always fails."""

    def __init__(self):
        self.built = 0

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="pages", title="页面插件", version="1.0")

    @hookimpl
    def register_pages(self, ctx):
        return [PageSpec(id="pages.lazy", title="懒加载页", factory=self.lazy_page, order=20, icon="SP_DirIcon"),
                PageSpec(id="pages.broken", title="出错页", factory=self.broken_page, order=10,
                         icon="no-such-icon")]

    @hookimpl
    def register_dashboard_widgets(self, ctx):
        return [DashboardWidgetSpec(id="pages.bad_tile", title="坏磁贴", factory=self.broken_page, span=2)]

    def lazy_page(self, ctx, parent=None):
        self.built += 1
        label = QLabel("懒加载页内容", parent)
        label.setObjectName("lazy-page")
        return label

    def broken_page(self, ctx, parent=None):
        self.built += 100
        raise RuntimeError("连接台账服务失败")


@pytest.fixture
def pages_window(qtbot, sqlite_db):
    plugin = PagesPlugin()
    pm = make_plugin_manager(builtins=(), extra=[plugin], entry_points=False)
    actor = Actor(user_id=None, username="admin", display_name="管理员", is_superuser=True)
    ctx = AppContext(sqlite_db.session_factory, actor, plugin_manager=pm, database_label=sqlite_db.label)
    window = MainWindow(ctx, LocalConfig(), sqlite_db)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window, plugin


def test_pages_are_built_on_first_open_only(qtbot, pages_window):
    window, plugin = pages_window
    assert window.nav_titles() == ["首页", "出错页", "懒加载页", "报表中心", "数据导入导出"]  # sorted by order
    qtbot.waitUntil(lambda: "home" in window.pages and window.pages["home"].ready)
    assert "pages.lazy" not in window.pages
    assert plugin.built == 100  # only the broken dashboard tile's factory ran so far

    click_nav(qtbot, window, "懒加载页")
    assert plugin.built == 101
    assert window.current_page().objectName() == "lazy-page"
    click_nav(qtbot, window, "首页")
    click_nav(qtbot, window, "懒加载页")
    assert plugin.built == 101  # built once, reused


def test_failing_page_shows_error_panel_not_a_crash(qtbot, pages_window):
    window, plugin = pages_window
    # the first page opens once the models are loaded, its tiles one by one
    qtbot.waitUntil(lambda: "home" in window.pages and window.pages["home"].ready)
    click_nav(qtbot, window, "出错页")
    panel = window.current_page()
    assert isinstance(panel, PageErrorPanel) and panel.isVisible()
    assert "“出错页”页面无法打开" in panel.findChild(QLabel, "error-heading").text()
    assert "连接台账服务失败" in panel.message.text()
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    assert isinstance(window.current_page(), PageErrorPanel)
    assert plugin.built == 300  # tile + two page attempts
    click_nav(qtbot, window, "懒加载页")  # the rest of the app still works
    assert window.current_page().objectName() == "lazy-page"


def test_failing_dashboard_tile_is_contained(qtbot, pages_window):
    window, _ = pages_window
    qtbot.waitUntil(lambda: "home" in window.pages and window.pages["home"].ready)
    tile = window.pages["home"].tile("pages.bad_tile")
    assert "这一栏暂时无法显示" in tile.body.text() and "连接台账服务失败" in tile.body.text()


def test_no_query_and_no_page_before_the_window_shows(qtbot, plugin_db):
    from sqlalchemy import event

    pm = plugins_with_testplugin()
    actor = auth.login(plugin_db.session_factory, "clerk", PASSWORD)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
    event.listen(plugin_db.engine, "before_cursor_execute", listener)
    try:
        window = MainWindow(AppContext(plugin_db.session_factory, actor, plugin_manager=pm), LocalConfig(), plugin_db)
        qtbot.addWidget(window)
        window.show()
        window.grab()  # first paint
        assert statements == [] and window.pages == {}
        # the dashboard comes right after, its tiles one by one
        qtbot.waitUntil(lambda: "home" in window.pages and window.pages["home"].ready)
        assert statements
    finally:
        event.remove(plugin_db.engine, "before_cursor_execute", listener)


def test_demo_database_is_marked(qtbot, demo_db):
    window = window_for(qtbot, demo_db, "admin", "demo1234", extras={"unit_name": "青石街道办事处"})
    assert window.windowTitle() == "街道工作台 — 青石街道办事处【演示数据库】"
    assert window.demo_banner is not None and window.demo_banner.isVisible()
    assert "演示数据库" in window.demo_banner.text()
    assert window.db_label.text().startswith("演示数据库 · 本地文件")


def test_status_bar_and_title_without_unit_name(qtbot, plugin_db):
    window = window_for(qtbot, plugin_db, "clerk", extras={"role_titles": ["便签管理员"]})
    assert window.windowTitle() == f"街道工作台 — {plugin_db.label}"
    assert window.demo_banner is None
    assert window.user_label.text() == "用户：赵便签（clerk）"
    assert window.roles_label.text() == "角色：便签管理员"
    assert window.db_label.text() == plugin_db.label


def test_about_box_and_quit(qtbot, plugin_db):
    window = window_for(qtbot, plugin_db, "clerk")
    box = window.show_about()
    assert box.isVisible() and "街道工作台" in box.text() and "测试插件" in box.text()
    import tomllib
    from pathlib import Path
    version = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert f"街道工作台 {version}" in box.text()  # 关于 shows pyproject's version
    box.accept()
    with qtbot.waitSignal(window.closed):
        window.quit_action.trigger()
    assert not window.isVisible()


def test_settings_opens_lazily_and_reports_database_change(qtbot, plugin_db, monkeypatch):
    opened = []

    class FakeSettingsDialog(QMessageBox):
        def __init__(self, app_ctx, config, parent=None, on_database_changed=None):
            super().__init__(parent)
            opened.append((app_ctx, config, on_database_changed))

    fake = types.ModuleType("shell.ui.settings")
    fake.SettingsDialog = FakeSettingsDialog
    monkeypatch.setitem(sys.modules, "shell.ui.settings", fake)
    window = window_for(qtbot, plugin_db, "clerk")
    window.settings_action.trigger()
    app_ctx, config, callback = opened[0]
    assert app_ctx is window.app_ctx and config is window.config
    with qtbot.waitSignal(window.database_change_requested) as blocker:
        callback("/tmp/other.sqlite")
    assert blocker.args == ["/tmp/other.sqlite"]
    window._settings_dialog.close()


# --- the holiday calendar warning on the 首页 (issue 14.3) -------------------------------------------
def _summary_texts(qtbot, db, username, password, today):
    from datetime import datetime, time

    pm = plugins_with_testplugin()
    actor = auth.login(db.session_factory, username, password, labels=auth.collect_permissions(pm))
    noon = datetime.combine(today, time(4, 0), UTC)        # 12:00 in Shanghai
    page = DashboardPage(AppContext(db.session_factory, actor, plugin_manager=pm, clock=lambda: noon))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.ready)
    body = page.tile("core.summary").body
    return [lab.text() for lab in body.findChildren(QLabel) if lab.objectName() == "calendar-warning"]


@pytest.mark.parametrize("today,shown", [("2026-10-31", False), ("2026-11-01", True), ("2026-12-03", True)])
def test_dashboard_warns_administrators_of_a_missing_holiday_calendar(qtbot, plugin_db, today, shown):
    from datetime import date

    with plugin_db.session_factory() as s:
        street = s.scalars(select(Area)).first()
        auth.create_user(ServiceContext(s, Actor.system()), "boss", "孙管理", PASSWORD, street.id, ["admin"])
        auth.create_user(ServiceContext(s, Actor.system()), "worker", "李网格", PASSWORD, street.id, ["grid_worker"])
        s.commit()
    day = date.fromisoformat(today)
    expected = ["2027 年节假日安排尚未录入，期限按周末计算，请管理员录入（设置 → 节假日安排）。"] if shown else []
    assert _summary_texts(qtbot, plugin_db, "boss", PASSWORD, day) == expected
    assert _summary_texts(qtbot, plugin_db, "worker", PASSWORD, day) == []       # not an administrator


def test_dashboard_warning_gone_once_the_year_is_entered(qtbot, plugin_db):
    from datetime import date

    from shell.core import calendar

    with plugin_db.session_factory() as s:
        street = s.scalars(select(Area)).first()
        auth.create_user(ServiceContext(s, Actor.system()), "boss", "孙管理", PASSWORD, street.id, ["admin"])
        calendar.set_day(ServiceContext(s, Actor.system()), date(2027, 1, 1), "休", "元旦")
        s.commit()
    assert _summary_texts(qtbot, plugin_db, "boss", PASSWORD, date(2026, 12, 3)) == []


def test_a_dropped_audit_trigger_is_restored_and_shown_to_administrators(qtbot, demo_template, tmp_path):
    """Someone dropped the audit log's guard with plain sqlite3: opening re-creates it and the window
    shows administrators the Chinese security warning (issue 15.9)."""
    import sqlite3

    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER core_audit_log_no_delete")
    raw.close()
    db = open_database(path, pm=plugins_with_testplugin(), backup=False, load_plugin_models=False)
    try:
        window = window_for(qtbot, db, "admin", "demo1234")
        banners = [w for w in window.findChildren(QLabel) if w.objectName() == "banner-warning"]
        texts = [b.text() for b in banners if b.isVisible()]
        assert any("core_audit_log" in t and "防篡改触发器" in t and "jiedao audit verify" in t for t in texts), texts
        # the evidence is for administrators: a grid worker's window does not show it
        worker = window_for(qtbot, db, "grid_worker", "demo1234")
        assert not [w for w in worker.findChildren(QLabel) if w.objectName() == "banner-warning"
                    and "防篡改" in w.text()]
    finally:
        db.dispose()
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT count(*) FROM sqlite_master WHERE name = 'core_audit_log_no_delete'").fetchone()[0] == 1
    raw.close()
