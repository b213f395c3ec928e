"""Starting the desktop app: pick the database, open it off the GUI thread, first administrator,
login, main window. ``run_app`` is what ``jiedao`` (no arguments) calls.

The steps live in ``StartupFlow``, which shows one dialog at a time with ``show()`` and moves on
from its ``finished`` signal, so tests drive the same code with qtbot instead of a blocking exec()."""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from shell.config import LocalConfig, database_from_env, split_password, store_password, with_stored_password
from shell.ui.errors import error_text

log = logging.getLogger(__name__)

APP_NAME = "街道工作台"
# CI's check of an installed build (.ci/run, step deb): log in as this user with JIEDAO_PASSWORD, print
# SMOKE_SHOWN once the main window shows, close it after JIEDAO_SMOKE_SECONDS (default 2).
SMOKE_USER_ENV = "JIEDAO_SMOKE_USER"
SMOKE_SECONDS_ENV = "JIEDAO_SMOKE_SECONDS"
SMOKE_SHOWN = "主窗口已显示"


def default_plugin_factory(disabled=()):
    from shell.plugins import make_plugin_manager

    return make_plugin_manager(disabled=disabled)


def _open_in_background(target: str, plugin_factory: Callable[..., Any], progress=None):
    """Runs on the thread pool: all plugins (disabled ones too, so the schema stays whole), then
    connect, back up, migrate."""
    from shell.core.database import open_database

    if progress is not None:
        progress(0, 0, "正在加载插件……")
    pm = plugin_factory(())
    if progress is not None:
        progress(0, 0, "正在打开数据库（必要时先备份再升级，可能需要几秒钟）……")
    # Plugin models are loaded once the main window is shown (MainWindow._open_current), before its
    # first page starts any thread: ≈0.3 s off the path to the login dialog and the window.
    return open_database(target, pm=pm, load_plugin_models=False, connection_budget=True), pm


def _auto_backup(database) -> str | None:
    """The automatic backup on start and on exit. A failure is logged and returned as a warning for
    the status bar; it never stops the work (a full disk must not keep the office out of its data)."""
    from shell.core.maintenance import auto_backup
    from shell.errors import DiskFull

    try:
        made = auto_backup(database)
        if made is not None:
            log.info("已自动备份数据库到 %s", made)
        return None
    except DiskFull as exc:
        log.warning("自动备份失败：%s", exc)
        return f"⚠ 自动备份失败：{exc.message}"
    except Exception as exc:  # noqa: BLE001
        log.warning("自动备份失败：%s", exc)
        return f"⚠ 自动备份失败（{exc}）：请检查数据库所在文件夹的剩余空间和写入权限。"


class StartupFlow(QObject):
    """chooser → open (background) → first administrator → login → MainWindow.

    ``dialog`` is the dialog on screen, ``window`` the main window once logged in. ``finished``
    carries the window, or None when the user quit."""

    finished = Signal(object)
    window_shown = Signal(object)
    exit_requested = Signal()   # the user quit (a dialog's 退出, or closed the main window)

    def __init__(self, config: LocalConfig | None = None, database: str | None = None,
                 plugin_factory: Callable[..., Any] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.config = config if config is not None else LocalConfig.load()
        self.explicit_target = database
        self.plugin_factory = plugin_factory or default_plugin_factory
        self.database = None
        self.pm = None
        self.target: str | None = None
        self.dialog: QDialog | None = None
        self.window = None
        self.task = None
        self.gave_up = False

    # --- where the database comes from -----------------------------------------------------
    def initial_target(self) -> str | None:
        """argument > JIEDAO_DATABASE_URL > this desktop's config (password from the keyring)."""
        if self.explicit_target:
            return str(self.explicit_target)
        env = database_from_env()
        if env:
            return env
        if self.config.database:
            return with_stored_password(self.config.database)
        return None

    def start(self) -> None:
        target = self.initial_target()
        if target:
            self.open_target(target, remember=False)
        else:
            self.show_chooser()

    def _show(self, dialog: QDialog) -> None:
        old, self.dialog = self.dialog, dialog
        if old is not None and old is not dialog:
            old.deleteLater()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def show_chooser(self, error: str = "", target: str | None = None) -> None:
        from shell.ui.startup import DatabaseChooserDialog

        dialog = DatabaseChooserDialog(error=error, target=target)

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self.open_target(dialog.target, remember=True)
            else:
                self.give_up()

        dialog.finished.connect(finished)
        self._show(dialog)

    # --- opening ----------------------------------------------------------------------------
    def open_target(self, target: str, remember: bool) -> None:
        from shell.core.server_login import needs_user_login
        from shell.ui.tasks import run_task

        self.target = target
        if needs_user_login(target):
            # A secured server: nothing can be opened before the person logs in as themselves.
            self._close_database()
            if remember:
                self.config.remember(target)
                self._save_config()
            self.show_login()
            return
        self.task = run_task(
            self.dialog if self.dialog is not None and self.dialog.isVisible() else None,
            "打开数据库", _open_in_background, target, self.plugin_factory, cancellable=False,
            label="正在打开数据库……", show_after_ms=200,
            on_done=lambda result: self._opened(result, target, remember),
            on_error=lambda exc: self._open_failed(exc, target),
        )

    def _open_failed(self, exc: BaseException, target: str) -> None:
        log.warning("打开数据库失败：%s", exc)
        shown = target
        if "://" in target:
            shown = split_password(target)[0]  # never show a password in the form
        self.show_chooser(error=error_text(exc)[1], target=shown)

    def _opened(self, result, target: str, remember: bool) -> None:
        from shell.core import auth

        database, pm = result
        self._close_database()
        self.database, self.pm = database, pm
        if remember:
            self._remember(target)
        try:
            with database.session_factory() as session:
                empty = not auth.has_users(session)
        except Exception as exc:  # noqa: BLE001
            self._open_failed(exc, target)
            return
        if empty:
            self.show_first_admin()
        else:
            self.show_login()

    def _remember(self, target: str) -> None:
        raw, password = split_password(target)
        if password:
            store_password(raw, password)
        self.config.remember(raw)
        self._save_config()

    def _save_config(self) -> None:
        try:
            self.config.save()
        except OSError as exc:  # the app still works; it just asks again next time
            log.warning("无法保存本机设置：%s", exc)

    def _close_database(self) -> None:
        if self.database is not None:
            self.database.dispose()
            self.database = None

    # --- accounts ---------------------------------------------------------------------------
    def show_first_admin(self) -> None:
        from shell.ui.startup import FirstAdminDialog

        db = self.database
        dialog = FirstAdminDialog(db.session_factory, database_label=db.label, warnings=db.warnings)

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self.config.last_username = dialog.username
                self.show_login()
            else:
                self.give_up()

        dialog.finished.connect(finished)
        self._show(dialog)

    def show_login(self) -> None:
        from shell.core import auth
        from shell.core.server_login import needs_user_login, server_label
        from shell.ui.startup import LoginDialog

        if needs_user_login(self.target):
            dialog = LoginDialog(None, username=self.config.last_username, database_label=server_label(self.target),
                                 server_target=self.target, plugin_factory=self.plugin_factory,
                                 labels=auth.collect_permissions(self.pm) if self.pm is not None else None)
        else:
            db = self.database
            dialog = LoginDialog(db.session_factory, username=self.config.last_username,
                                 labels=auth.collect_permissions(self.pm), database_label=db.label,
                                 is_demo=db.is_demo, warnings=db.warnings)

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self._logged_in(dialog)
            elif result == LoginDialog.CHANGE_DATABASE:
                self._drop_window()
                target = self.target
                self._close_database()
                self.show_chooser(target=split_password(target)[0] if target else None)
            else:
                self.give_up()

        dialog.finished.connect(finished)
        self._show(dialog)

    def _logged_in(self, dialog) -> None:
        from shell.core.context import AppContext
        from shell.ui.main_window import MainWindow

        actor = dialog.actor
        self.config.last_username = actor.username
        self._save_config()
        if dialog.login is not None:  # a secured server: the connection is the person's own
            self._drop_window()
            self._close_database()
            self.database, self.pm = dialog.login.database, dialog.pm
        db = self.database
        disabled = list(self.config.disabled_plugins)
        # With nothing disabled the manager that opened the database already is the UI's one.
        ui_pm = self.pm if not disabled else self.plugin_factory(disabled)
        app_ctx = AppContext(session_factory=db.session_factory, actor=actor, plugin_manager=ui_pm,
                             database_label=db.label, is_demo=db.is_demo,
                             extras={"unit_name": dialog.unit_name, "role_titles": dialog.role_titles,
                                     "config": self.config, "all_plugins": self.pm})
        self._drop_window()
        window = MainWindow(app_ctx, self.config, db)
        window.logout_requested.connect(self.logout)
        window.database_change_requested.connect(self.change_database)
        window.closed.connect(self._window_closed)
        self.window = window
        window.show()
        self.dialog = None
        dialog.deleteLater()
        self._backup_once(db, window)
        self.window_shown.emit(window)
        self.finished.emit(window)

    def _backup_once(self, db, window) -> None:
        """The start-up backup, once per opened database, on the thread pool once the window is up
        (the online backup API copies a file in use; a large street must not slow the start)."""
        if getattr(db, "_auto_backed_up", False) or not db.is_sqlite:
            return
        db._auto_backed_up = True
        from shell.ui.tasks import run_in_pool

        def done(ok: bool, warning) -> None:
            self.backup_task_done = True
            if ok and warning and self.window is window:
                window.statusBar().showMessage(warning)

        self.backup_task_done = False
        run_in_pool(lambda: _auto_backup(db), done)

    def _drop_window(self) -> None:
        if self.window is not None:
            old, self.window = self.window, None
            old.hide()
            old.deleteLater()

    # --- later transitions ------------------------------------------------------------------
    def _window_closed(self) -> None:
        if self.window is not None and self.sender() is self.window:
            self.window = None
            database = self.database
            if database is None or not database.is_sqlite:
                self._close_database()
                self.exit_requested.emit()
                return
            from shell.ui.tasks import run_task

            def done(_result=None) -> None:
                self._close_database()
                self.exit_requested.emit()

            # The backup on exit runs off the GUI thread; the app quits when it is written.
            self.task = run_task(None, "退出前备份", lambda progress: _auto_backup(database), cancellable=False,
                                 label="正在自动备份数据库……", show_after_ms=500, on_done=done, on_error=done)

    def logout(self) -> None:
        """切换用户/注销: the login dialog comes up before the window goes, so the app stays alive."""
        self.show_login()
        if self.window is not None:
            self.window.hide()

    def change_database(self, target=None) -> None:
        """The settings dialog chose another database: open it and log in again."""
        self._drop_window()
        self._close_database()
        self.start_from(target)

    def start_from(self, target=None) -> None:
        target = target or self.initial_target()
        if target:
            self.open_target(with_stored_password(str(target)), remember=False)
        else:
            self.show_chooser()

    def give_up(self) -> None:
        self.gave_up = True
        if self.dialog is not None:
            self.dialog.deleteLater()
            self.dialog = None
        self._drop_window()
        self._close_database()
        self.finished.emit(None)
        self.exit_requested.emit()


def _ensure_app(argv: list[str] | None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName("jiedao")
    from shell.ui.translations import install_qt_translations

    install_qt_translations(app)
    return app


def setup_application(argv: list[str] | None = None) -> QApplication:
    """QApplication with our name, style sheet and icon; warns when no font can draw Chinese."""
    from shell.ui.icons import icon
    from shell.ui.style import apply_style, check_cjk_font

    app = _ensure_app(argv)
    apply_style(app)
    app.setWindowIcon(icon("logo"))
    message = check_cjk_font()
    if message:
        QMessageBox.warning(None, "缺少中文字体 / No Chinese font", message)
    return app


def _smoke_login(flow: StartupFlow, username: str) -> None:
    """Fill the login dialog as a user would (name, password, 登录) when it shows; print SMOKE_SHOWN
    when the main window is up and close it (which quits, after the exit backup) a little later."""
    from PySide6.QtCore import QTimer

    from shell.ui.startup import LoginDialog

    password = os.environ.get("JIEDAO_PASSWORD", "")
    seconds = float(os.environ.get(SMOKE_SECONDS_ENV) or 2)
    tried: set[int] = set()

    def poll() -> None:
        dialog = flow.dialog
        if isinstance(dialog, LoginDialog) and dialog.isVisible() and id(dialog) not in tried:
            tried.add(id(dialog))  # once: a wrong password leaves the dialog up with its message
            dialog.username_edit.setText(username)
            dialog.password_edit.setText(password)
            dialog.ok_button.click()
            if dialog.isVisible():
                print(f"登录失败：{dialog.error.text()}", file=sys.stderr,
                      flush=True)

    timer = QTimer(flow)
    timer.timeout.connect(poll)
    timer.start(50)

    def shown(window) -> None:
        timer.stop()
        print(SMOKE_SHOWN, flush=True)
        QTimer.singleShot(int(seconds * 1000), window.close)

    flow.window_shown.connect(shown)


def run_app(database: str | None = None, argv: list[str] | None = None) -> int:
    """Open the desktop app; ``database`` (a SQLite path or URL) overrides every other source."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = setup_application(argv)
    # Dialogs come and go between steps (and the window hides while switching user), so "last
    # window closed" is no signal to quit; the flow says when the user is done.
    app.setQuitOnLastWindowClosed(False)
    flow = StartupFlow(database=database)
    flow.exit_requested.connect(app.quit)
    if os.environ.get(SMOKE_USER_ENV):
        _smoke_login(flow, os.environ[SMOKE_USER_ENV])
    flow.start()
    if flow.gave_up:
        return 0
    try:
        return app.exec()
    finally:
        if flow.database is not None:
            flow.database.dispose()
