"""Start-up as the user lives it: choose a database, create the administrator, log in, see the main
window; wrong passwords, lockout, and databases that cannot be opened."""
from __future__ import annotations

import json
import shutil

import pytest
from PySide6.QtCore import QPoint, Qt, QThreadPool

from shell.config import LocalConfig, config_path
from shell.ui.app import StartupFlow
from shell.ui.main_window import MainWindow
from shell.ui.startup import DatabaseChooserDialog, FirstAdminDialog, LoginDialog
from tests.ui import plugins_with_testplugin, wait_for_dialog

PASSWORD = "Jiedao2026"


@pytest.fixture(autouse=True)
def isolated_desktop(tmp_path, monkeypatch):
    """A desktop with no config, no env override and its own data folder."""
    monkeypatch.setenv("JIEDAO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("JIEDAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("JIEDAO_DATABASE_URL", raising=False)
    yield
    QThreadPool.globalInstance().waitForDone(10000)


@pytest.fixture
def demo_path(demo_template, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    return path


@pytest.fixture
def flows():
    made = []
    yield made
    for flow in made:
        if flow.window is not None:
            flow.window.close()
        if flow.dialog is not None:
            flow.dialog.close()
        if flow.database is not None:
            flow.database.dispose()


def start(qtbot, flows, database=None, config=None):
    flow = StartupFlow(config=config or LocalConfig(), database=database, plugin_factory=plugins_with_testplugin)
    flows.append(flow)
    flow.start()
    return flow


def type_into(qtbot, edit, text):
    """Type like a user; QTest can only synthesise ASCII keys, so Chinese goes in as an input-method commit."""
    edit.clear()
    if text.isascii():
        qtbot.keyClicks(edit, text)
    else:
        edit.insert(text)


def test_first_start_admin_creation_login_main_window(qtbot, flows, tmp_path):
    flow = start(qtbot, flows)
    chooser = wait_for_dialog(qtbot, flow, DatabaseChooserDialog)
    assert chooser.new_radio.isChecked()
    assert chooser.new_path.text().endswith("jiedao.sqlite")  # the default local file
    new_file = tmp_path / "街道" / "jiedao.sqlite"
    type_into(qtbot, chooser.new_path, str(new_file))
    qtbot.mouseClick(chooser.ok_button, Qt.MouseButton.LeftButton)

    admin = wait_for_dialog(qtbot, flow, FirstAdminDialog)
    assert new_file.exists()
    assert flow.config.database == str(new_file)  # remembered for the next start
    assert json.loads(config_path().read_text(encoding="utf-8"))["database"] == str(new_file)

    type_into(qtbot, admin.name_edit, "王晓明")
    type_into(qtbot, admin.password_edit, PASSWORD)
    type_into(qtbot, admin.password2_edit, PASSWORD + "x")
    qtbot.mouseClick(admin.ok_button, Qt.MouseButton.LeftButton)
    assert admin.isVisible()
    assert "两次输入的密码不一致" in admin.error.text() and admin.error.isVisible()

    type_into(qtbot, admin.password_edit, "short1")
    type_into(qtbot, admin.password2_edit, "short1")
    qtbot.mouseClick(admin.ok_button, Qt.MouseButton.LeftButton)
    assert "密码至少 8 位" in admin.error.text()

    type_into(qtbot, admin.password_edit, PASSWORD)
    type_into(qtbot, admin.password2_edit, PASSWORD)
    qtbot.mouseClick(admin.ok_button, Qt.MouseButton.LeftButton)

    login = wait_for_dialog(qtbot, flow, LoginDialog)
    assert login.username_edit.text() == "admin"
    qtbot.keyClicks(login.password_edit, PASSWORD)
    qtbot.keyClick(login.password_edit, Qt.Key.Key_Return)  # Enter submits

    qtbot.waitUntil(lambda: flow.window is not None and flow.window.isVisible(), timeout=10000)
    window = flow.window
    assert isinstance(window, MainWindow)
    assert window.windowTitle().startswith("街道工作台 — ")
    assert "演示数据库" not in window.windowTitle()
    assert window.nav_titles() == ["首页", "测试便签", "报表中心", "数据导入导出"]
    assert "王晓明" in window.user_label.text() and "系统管理员" in window.roles_label.text()
    qtbot.waitUntil(lambda: "home" in window.pages)
    assert LocalConfig.load().last_username == "admin"


def test_saved_database_opens_straight_to_login(qtbot, flows, demo_path):
    config = LocalConfig(database=str(demo_path), last_username="grid_worker")
    flow = start(qtbot, flows, config=config)
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    assert login.username_edit.text() == "grid_worker"
    assert login.password_edit.hasFocus() or not login.isActiveWindow()
    assert "青石街道办事处" in login.unit_name


def test_automatic_backup_on_open_and_on_exit(qtbot, flows, demo_path):
    from shell.core.maintenance import auto_backups

    flow = start(qtbot, flows, database=str(demo_path))
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    type_into(qtbot, login.username_edit, "admin")
    type_into(qtbot, login.password_edit, "demo1234")
    qtbot.mouseClick(login.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: flow.window is not None and flow.window.isVisible())
    # Made on the thread pool once the window is up.
    qtbot.waitUntil(lambda: getattr(flow, "backup_task_done", False), timeout=20000)
    assert len(auto_backups(demo_path)) == 1
    # A change during the session: the backup on exit keeps it (a session without one makes none).
    from shell.core import settings
    from shell.core.context import ServiceContext
    with flow.database.session_factory() as s:
        settings.set_value(ServiceContext(s, flow.window.app_ctx.actor), settings.definitions()["core.backup.keep"], 5)
        s.commit()
    with qtbot.waitSignal(flow.exit_requested, timeout=20000):
        flow.window.close()
    backups = auto_backups(demo_path)
    assert len(backups) == 2 and flow.database is None
    assert backups[0].stat().st_size > 0


def test_wrong_password_is_shown_inline(qtbot, flows, demo_path):
    flow = start(qtbot, flows, database=str(demo_path))
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    type_into(qtbot, login.username_edit, "admin")
    type_into(qtbot, login.password_edit, "wrong-pass-1")
    qtbot.mouseClick(login.ok_button, Qt.MouseButton.LeftButton)
    assert login.isVisible() and flow.window is None
    assert "用户名或密码不正确" in login.error.text()
    assert "再错 4 次将锁定账号" in login.error.text()
    assert login.password_edit.text() == ""  # ready for the next try

    type_into(qtbot, login.username_edit, "nobody")
    type_into(qtbot, login.password_edit, "whatever1")
    qtbot.mouseClick(login.ok_button, Qt.MouseButton.LeftButton)
    assert login.error.text() == "用户名或密码不正确。"


def test_lockout_after_repeated_failures(qtbot, flows, demo_path):
    flow = start(qtbot, flows, database=str(demo_path))
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    type_into(qtbot, login.username_edit, "street_staff")
    for _ in range(5):
        type_into(qtbot, login.password_edit, "wrong-pass-1")
        qtbot.mouseClick(login.ok_button, Qt.MouseButton.LeftButton)
    assert "已锁定 15 分钟" in login.error.text()
    type_into(qtbot, login.password_edit, "demo1234")  # even the right password is refused now
    qtbot.mouseClick(login.ok_button, Qt.MouseButton.LeftButton)
    assert "被锁定" in login.error.text() and "自动解锁" in login.error.text()
    assert flow.window is None and login.isVisible()


def test_corrupt_file_shows_chinese_error_and_keeps_the_file(qtbot, flows, tmp_path):
    bad = tmp_path / "坏文件.sqlite"
    junk = b"this is not a database \x00\x01\x02" * 64
    bad.write_bytes(junk)
    flow = start(qtbot, flows, database=str(bad))
    chooser = wait_for_dialog(qtbot, flow, DatabaseChooserDialog)
    assert chooser.error.isVisible()
    assert "不是有效的数据库" in chooser.error.text() and "原文件未被改动" in chooser.error.text()
    assert chooser.open_radio.isChecked() and chooser.open_path.text() == str(bad)
    assert bad.read_bytes() == junk  # nothing written, nothing lost


@pytest.mark.parametrize("target, expected", [
    ("postgresql://jiedao@127.0.0.1:1/jiedao", "无法连接数据库服务器 127.0.0.1:1"),
    ("mysql://root@localhost/jiedao", "不支持的数据库类型"),
])
def test_unusable_server_url_returns_to_chooser(qtbot, flows, target, expected):
    flow = start(qtbot, flows, database=target)
    chooser = wait_for_dialog(qtbot, flow, DatabaseChooserDialog)
    assert expected in chooser.error.text()
    assert chooser.server_radio.isChecked() and chooser.server_url.text() == target


def test_chooser_test_connection_reports_failure(qtbot, flows):
    flow = start(qtbot, flows)
    chooser = wait_for_dialog(qtbot, flow, DatabaseChooserDialog)
    radio = chooser.server_radio
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))
    assert chooser.test_button.isEnabled()
    type_into(qtbot, chooser.server_url, "postgresql://jiedao@127.0.0.1:1/jiedao")
    qtbot.mouseClick(chooser.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: chooser.test_result.isVisible(), timeout=15000)
    assert "无法连接数据库服务器" in chooser.test_result.text()
    assert chooser.test_result.objectName() == "inline-error"


def test_chooser_test_connection_success_on_sqlite_url(qtbot, flows, tmp_path):
    flow = start(qtbot, flows)
    chooser = wait_for_dialog(qtbot, flow, DatabaseChooserDialog)
    chooser.server_radio.setChecked(True)
    type_into(qtbot, chooser.server_url, f"sqlite:///{tmp_path / 'probe.sqlite'}")
    qtbot.mouseClick(chooser.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: chooser.test_result.isVisible(), timeout=15000)
    assert chooser.test_result.text().startswith("连接成功：SQLite")


def test_chooser_refuses_missing_and_never_overwrites(qtbot, flows, tmp_path, demo_path):
    flow = start(qtbot, flows)
    chooser = wait_for_dialog(qtbot, flow, DatabaseChooserDialog)
    chooser.open_radio.setChecked(True)
    type_into(qtbot, chooser.open_path, str(tmp_path / "missing.sqlite"))
    qtbot.mouseClick(chooser.ok_button, Qt.MouseButton.LeftButton)
    assert chooser.isVisible() and "找不到文件" in chooser.error.text()

    chooser.new_radio.setChecked(True)
    type_into(qtbot, chooser.new_path, str(demo_path))
    qtbot.mouseClick(chooser.ok_button, Qt.MouseButton.LeftButton)
    assert chooser.isVisible() and "不会覆盖" in chooser.error.text()
    assert chooser.open_radio.isChecked() and chooser.open_path.text() == str(demo_path)

    qtbot.mouseClick(chooser.ok_button, Qt.MouseButton.LeftButton)  # now opens the existing file
    wait_for_dialog(qtbot, flow, LoginDialog)


def test_quit_from_chooser_ends_the_flow(qtbot, flows):
    flow = start(qtbot, flows)
    chooser = wait_for_dialog(qtbot, flow, DatabaseChooserDialog)
    with qtbot.waitSignal(flow.exit_requested):
        qtbot.mouseClick(chooser.quit_button, Qt.MouseButton.LeftButton)
    assert flow.gave_up and flow.window is None


def test_switch_user_and_change_database(qtbot, flows, demo_path):
    flow = start(qtbot, flows, database=str(demo_path))
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    type_into(qtbot, login.username_edit, "admin")
    type_into(qtbot, login.password_edit, "demo1234")
    qtbot.mouseClick(login.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: flow.window is not None and flow.window.isVisible())
    first = flow.window
    assert "演示数据库" in first.windowTitle()

    first.logout_action.trigger()  # 切换用户/注销
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    assert not first.isVisible()
    type_into(qtbot, login.username_edit, "street_staff")
    type_into(qtbot, login.password_edit, "demo1234")
    qtbot.mouseClick(login.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: flow.window is not None and flow.window is not first)
    assert "王街道" in flow.window.user_label.text()
    assert flow.window.nav_titles() == ["首页", "报表中心", "数据导入导出"]  # street staff lacks testplug.view

    flow.window.logout_action.trigger()
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    qtbot.mouseClick(login.change_db_button, Qt.MouseButton.LeftButton)
    chooser = wait_for_dialog(qtbot, flow, DatabaseChooserDialog)
    assert chooser.open_path.text() == str(demo_path)
    assert flow.database is None and flow.window is None


def test_settings_pages_open_from_the_main_window(qtbot, flows, demo_path):
    from shell.ui import settings
    flow = start(qtbot, flows, database=str(demo_path))
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    type_into(qtbot, login.username_edit, "admin")
    type_into(qtbot, login.password_edit, "demo1234")
    qtbot.keyClick(login.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: flow.window is not None and flow.window.isVisible())
    flow.window.settings_action.trigger()
    dialog = flow.window._settings_dialog
    assert isinstance(dialog, settings.SettingsDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.page_ids()
    for page_id in dialog.page_ids():
        assert dialog.open_page(page_id).isVisible()
    dialog.close()


def test_missing_chinese_font_is_reported(qtbot, monkeypatch, capsys):
    from PySide6.QtGui import QFontDatabase
    from PySide6.QtWidgets import QMessageBox

    from shell.ui import app as app_module

    warned = []
    monkeypatch.setattr(QFontDatabase, "families", staticmethod(lambda *a: []))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text: warned.append((title, text))))
    app_module.setup_application([])
    title, text = warned[0]
    assert "缺少中文字体" in title
    assert "apt-get install fonts-wqy-zenhei" in text and "SimSun" in text
    assert "fonts-wqy-zenhei" in capsys.readouterr().err


@pytest.mark.parametrize("password, shows_window", [("demo1234", True), ("wrong-password", False)])
def test_smoke_login_for_ci(qtbot, flows, demo_path, monkeypatch, capsys, password, shows_window):
    """JIEDAO_SMOKE_USER (CI's check of the installed .deb): the login dialog is filled and 登录 clicked,
    主窗口已显示 printed when the window shows, the window closed after JIEDAO_SMOKE_SECONDS; a wrong
    password leaves the dialog up and says so."""
    from shell.ui.app import SMOKE_SHOWN, _smoke_login

    monkeypatch.setenv("JIEDAO_PASSWORD", password)
    monkeypatch.setenv("JIEDAO_SMOKE_SECONDS", "0.2")
    flow = StartupFlow(config=LocalConfig(), database=str(demo_path), plugin_factory=plugins_with_testplugin)
    flows.append(flow)
    _smoke_login(flow, "admin")
    if shows_window:
        with qtbot.waitSignal(flow.window_shown, timeout=20000) as shown:
            flow.start()
        window = shown.args[0]
        assert isinstance(window, MainWindow)
        assert capsys.readouterr().out.strip().splitlines()[-1] == SMOKE_SHOWN
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)  # closed by itself
    else:
        flow.start()
        login = wait_for_dialog(qtbot, flow, LoginDialog)
        qtbot.waitUntil(lambda: "登录失败" in capsys.readouterr().err, timeout=5000)
        assert login.isVisible() and flow.window is None


def test_first_login_of_a_created_user_sets_their_own_password(qtbot, flows, demo_path):
    """An administrator's new user (or a reset password) must be replaced by the user's own before
    the window opens; cancelling leaves them at the login dialog."""
    from shell.core import auth
    from shell.core.context import Actor, ServiceContext
    from shell.core.database import open_database

    db = open_database(demo_path, pm=plugins_with_testplugin(()), backup=False)
    with db.session_factory() as session:
        auth.create_user(ServiceContext(session, Actor.system()), "newclerk", "新职员", "Temp12345",
                         area_id=None, role_names=["street_staff"])
        session.commit()
    db.dispose()

    flow = start(qtbot, flows, database=str(demo_path))
    login = wait_for_dialog(qtbot, flow, LoginDialog)
    type_into(qtbot, login.username_edit, "newclerk")
    type_into(qtbot, login.password_edit, "Temp12345")
    qtbot.mouseClick(login.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: login.password_dialog is not None and login.password_dialog.isVisible())
    change = login.password_dialog
    type_into(qtbot, change.new_edit, "Mine12345")
    type_into(qtbot, change.new2_edit, "Mine12399")
    qtbot.mouseClick(change.ok_button, Qt.MouseButton.LeftButton)
    assert "不一致" in change.error.text() and flow.window is None
    type_into(qtbot, change.new_edit, "short")
    type_into(qtbot, change.new2_edit, "short")
    qtbot.mouseClick(change.ok_button, Qt.MouseButton.LeftButton)
    assert "密码" in change.error.text() and change.isVisible()
    qtbot.mouseClick(change.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "必须先设置新密码" in login.error.text())
    assert flow.window is None and login.isVisible()

    type_into(qtbot, login.password_edit, "Temp12345")
    qtbot.mouseClick(login.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: login.password_dialog is not None and login.password_dialog.isVisible())
    change = login.password_dialog
    type_into(qtbot, change.new_edit, "Mine12345")
    type_into(qtbot, change.new2_edit, "Mine12345")
    qtbot.mouseClick(change.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(flow.window, MainWindow))
    assert flow.window.app_ctx.actor.username == "newclerk"

    db = open_database(demo_path, pm=plugins_with_testplugin(()), backup=False)
    try:
        with pytest.raises(Exception, match="用户名或密码不正确"):
            auth.login(db.session_factory, "newclerk", "Temp12345")
        assert auth.login(db.session_factory, "newclerk", "Mine12345").username == "newclerk"
        with db.session_factory() as session:
            assert not auth.needs_password_change(session, flow.window.app_ctx.actor.user_id)
    finally:
        db.dispose()
