"""The start-up dialogs: choose a database, create the first administrator, log in.

Each dialog does its own checking in ``accept()`` and shows errors inline (a red line under the
form), so a wrong password or a weak one never opens another modal box. The dialogs never call
``exec()`` themselves; ``shell.ui.app.StartupFlow`` shows them with ``show()`` and reacts to
``finished``."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from shell.config import default_sqlite_path
from shell.errors import AuthError, JiedaoError
from shell.ui.errors import error_text
from shell.ui.icons import icon_path
from shell.ui.widgets.sizing import fit_to_content

log = logging.getLogger(__name__)

APP_TITLE = "街道工作台"


# --- small building blocks ---------------------------------------------------------------------
def _label(text: str, name: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    return label


class InlineMessage(QLabel):
    """The red (or green) line under a form; hidden while empty."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.clear_message()

    def show_error(self, text: str) -> None:
        self._set("inline-error", text)

    def show_ok(self, text: str) -> None:
        self._set("inline-ok", text)

    def clear_message(self) -> None:
        self._set("inline-error", "")

    def _set(self, name: str, text: str) -> None:
        self.setObjectName(name)
        self.setText(text)
        # Object-name selectors are matched on polish; re-polish so the colour follows the kind.
        self.style().unpolish(self)
        self.style().polish(self)
        self.setVisible(bool(text))


def _logo(size: int = 48) -> QLabel:
    label = QLabel()
    label.setPixmap(QPixmap(icon_path("logo")).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                                      Qt.TransformationMode.SmoothTransformation))
    label.setFixedSize(size, size)
    return label


def _header(title: str, subtitle: str = "") -> QHBoxLayout:
    row = QHBoxLayout()
    row.setSpacing(14)
    row.addWidget(_logo(), 0, Qt.AlignmentFlag.AlignTop)
    texts = QVBoxLayout()
    texts.setSpacing(2)
    texts.addWidget(_label(title, "dialog-heading"))
    if subtitle:
        texts.addWidget(_label(subtitle, "dialog-subheading"))
    row.addLayout(texts, 1)
    return row


def _warnings_box(warnings: Iterable[str]) -> list[QLabel]:
    out = []
    for text in warnings:
        label = _label("⚠ " + text, "dialog-warning")
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        out.append(label)
    return out


def _primary(text: str) -> QPushButton:
    button = QPushButton(text)
    button.setDefault(True)
    button.setAutoDefault(True)
    button.setProperty("primary", True)
    return button


# --- choosing a database -----------------------------------------------------------------------
class DatabaseChooserDialog(QDialog):
    """First start (or after a database could not be opened): new local file, existing file, or a
    PostgreSQL server. ``target`` holds the choice after ``accept``; nothing is opened here."""

    NEW, OPEN, SERVER = "new", "open", "server"

    def __init__(self, parent: QWidget | None = None, error: str = "", target: str | None = None):
        super().__init__(parent)
        self.setObjectName("database-chooser")
        self.setWindowTitle(f"{APP_TITLE} — 选择数据库")
        self.target: str = ""
        self.kind: str = self.NEW
        self._test_task = None

        layout = QVBoxLayout(self)
        fit_to_content(self, 620)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addLayout(_header("选择数据库", "街道工作台把所有业务数据保存在一个数据库里。单机使用选本地文件；"
                                              "多台电脑共用请连接街道的 PostgreSQL 服务器。"))

        self.new_radio = QRadioButton("新建本地数据库（单机使用，推荐）")
        self.open_radio = QRadioButton("打开已有的数据库文件")
        self.server_radio = QRadioButton("连接局域网数据库服务器（PostgreSQL）")
        self.group = QButtonGroup(self)
        for b in (self.new_radio, self.open_radio, self.server_radio):
            self.group.addButton(b)

        self.new_path = QLineEdit(str(default_sqlite_path()))
        self.new_browse = QPushButton("浏览…")
        self.open_path = QLineEdit()
        self.open_path.setPlaceholderText("选择一个 .sqlite 数据库文件")
        self.open_browse = QPushButton("浏览…")
        self.server_url = QLineEdit()
        self.server_url.setPlaceholderText("postgresql://192.168.1.10:5432/jiedao")
        self.test_button = QPushButton("测试连接")
        self.test_button.setObjectName("test-connection")
        self.test_result = InlineMessage()

        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        grid.setColumnMinimumWidth(0, 22)
        grid.addWidget(self.new_radio, 0, 0, 1, 3)
        grid.addWidget(self.new_path, 1, 1)
        grid.addWidget(self.new_browse, 1, 2)
        grid.addWidget(self.open_radio, 2, 0, 1, 3)
        grid.addWidget(self.open_path, 3, 1)
        grid.addWidget(self.open_browse, 3, 2)
        grid.addWidget(self.server_radio, 4, 0, 1, 3)
        grid.addWidget(self.server_url, 5, 1)
        grid.addWidget(self.test_button, 5, 2)
        grid.addWidget(_label("地址里不必写用户名和密码：登录时每个人用自己的账号（旧式共用账号的密码保存在系统钥匙串中，"
                              "不写入配置文件）。", "hint"), 6, 1, 1, 2)
        grid.addWidget(self.test_result, 7, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        card = QFrame()
        card.setObjectName("dialog-card")
        card.setLayout(grid)
        grid.setContentsMargins(14, 12, 14, 12)
        layout.addWidget(card)

        self.error = InlineMessage()
        layout.addWidget(self.error)
        layout.addStretch(1)  # spare height goes here, not into the error box

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.quit_button = QPushButton("退出")
        self.ok_button = _primary("打开")
        self.ok_button.setObjectName("open-database")
        buttons.addWidget(self.quit_button)
        buttons.addWidget(self.ok_button)
        layout.addLayout(buttons)

        self.quit_button.clicked.connect(self.reject)
        self.ok_button.clicked.connect(self.accept)
        self.new_browse.clicked.connect(self._browse_new)
        self.open_browse.clicked.connect(self._browse_open)
        self.test_button.clicked.connect(self.test_connection)
        self.group.buttonToggled.connect(lambda *_: self._sync_enabled())

        self.new_radio.setChecked(True)
        if target:
            self.set_target(target)
        if error:
            self.error.show_error(error)
        self._sync_enabled()

    def set_target(self, target: str) -> None:
        """Preselect an earlier choice, e.g. the one that just failed to open."""
        if "://" in target and not target.startswith("sqlite"):
            self.server_radio.setChecked(True)
            self.server_url.setText(target)
        else:
            path = target.split("///", 1)[1] if target.startswith("sqlite") and "///" in target else target
            self.open_radio.setChecked(True)
            self.open_path.setText(path)

    def _sync_enabled(self) -> None:
        for radio, widgets in ((self.new_radio, (self.new_path, self.new_browse)),
                               (self.open_radio, (self.open_path, self.open_browse)),
                               (self.server_radio, (self.server_url, self.test_button))):
            for w in widgets:
                w.setEnabled(radio.isChecked())

    def _browse_new(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "新建数据库文件", self.new_path.text(),
                                              "数据库文件 (*.sqlite);;所有文件 (*)")
        if path:
            self.new_path.setText(path if Path(path).suffix else path + ".sqlite")

    def _browse_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "打开数据库文件", self.open_path.text() or str(Path.home()),
                                              "数据库文件 (*.sqlite *.sqlite3 *.db);;所有文件 (*)")
        if path:
            self.open_path.setText(path)

    def test_connection(self) -> None:
        """Connect once in the background (a dead server takes seconds to time out)."""
        from shell.db.engine import check_connection
        from shell.ui.tasks import run_task

        url = self.server_url.text().strip()
        self.test_result.clear_message()
        if "://" not in url:
            self.test_result.show_error("请先填写服务器地址，例如 postgresql://192.168.1.10:5432/jiedao")
            return
        self.test_button.setEnabled(False)

        def finished() -> None:
            self.test_button.setEnabled(self.server_radio.isChecked())

        def ok(version: str) -> None:
            self.test_result.show_ok(f"连接成功：{version}")
            finished()

        def failed(exc: BaseException) -> None:
            self.test_result.show_error(error_text(exc)[1])
            finished()

        def check(progress=None) -> str:
            from shell.core.server_login import check_server_reachable, needs_user_login

            return check_server_reachable(url) if needs_user_login(url) else check_connection(url)

        self._test_task = run_task(self, "测试连接", check, cancellable=False,
                                   label="正在连接数据库服务器……", on_done=ok, on_error=failed)

    def accept(self) -> None:
        self.error.clear_message()
        if self.new_radio.isChecked():
            raw = self.new_path.text().strip()
            if not raw:
                return self.error.show_error("请填写新数据库文件的位置。")
            path = Path(raw).expanduser()
            if path.exists():
                # Never overwrite: offer to open the file that is already there instead.
                self.open_radio.setChecked(True)
                self.open_path.setText(str(path))
                return self.error.show_error(f"文件“{path}”已经存在，不会覆盖它。"
                                             "如要使用其中的数据，请点“打开”；否则请换一个文件名新建。")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                return self.error.show_error(f"无法创建文件夹“{path.parent}”：{exc.strerror or exc}。请换一个位置。")
            self.kind, self.target = self.NEW, str(path)
        elif self.open_radio.isChecked():
            raw = self.open_path.text().strip()
            if not raw:
                return self.error.show_error("请选择要打开的数据库文件。")
            path = Path(raw).expanduser()
            if not path.is_file():
                return self.error.show_error(f"找不到文件“{path}”。请检查路径，或点“浏览…”选择。")
            self.kind, self.target = self.OPEN, str(path)
        else:
            url = self.server_url.text().strip()
            if "://" not in url:
                return self.error.show_error("请填写服务器地址，例如 postgresql://192.168.1.10:5432/jiedao")
            self.kind, self.target = self.SERVER, url
        super().accept()


# --- the first administrator -------------------------------------------------------------------
class FirstAdminDialog(QDialog):
    """A new database has no user and no default password: ask for the first administrator."""

    def __init__(self, session_factory, parent: QWidget | None = None, database_label: str = "",
                 warnings: Iterable[str] = ()):
        super().__init__(parent)
        self.setObjectName("first-admin")
        self.setWindowTitle(f"{APP_TITLE} — 创建管理员")
        self.session_factory = session_factory
        self.username: str = ""

        layout = QVBoxLayout(self)
        fit_to_content(self, 520)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addLayout(_header("创建系统管理员", "这是一个新的数据库，还没有任何账号。请设置第一个管理员："
                                                "他可以添加其他用户、分配角色和管辖范围。系统没有默认密码。"))
        for w in _warnings_box(warnings):
            layout.addWidget(w)

        self.username_edit = QLineEdit("admin")
        self.username_edit.setObjectName("username")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("display-name")
        self.name_edit.setPlaceholderText("例如：王晓明")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password2_edit = QLineEdit()
        self.password2_edit.setObjectName("password2")
        self.password2_edit.setEchoMode(QLineEdit.EchoMode.Password)

        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        form.addRow("用户名", self.username_edit)
        form.addRow("姓名", self.name_edit)
        form.addRow("密码", self.password_edit)
        form.addRow("再次输入密码", self.password2_edit)
        form.addRow("", _label("密码至少 8 位，须同时包含字母和数字。请妥善保管，忘记后只能由其他管理员重置。", "hint"))
        card = QFrame()
        card.setObjectName("dialog-card")
        card.setLayout(form)
        form.setContentsMargins(16, 14, 16, 14)
        layout.addWidget(card)
        if database_label:
            layout.addWidget(_label(f"数据库：{database_label}", "hint"))

        self.error = InlineMessage()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("取消")
        self.ok_button = _primary("创建管理员")
        self.ok_button.setObjectName("create-admin")
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button.clicked.connect(self.accept)
        self.name_edit.setFocus()

    def accept(self) -> None:
        from shell.core import auth

        self.error.clear_message()
        if self.password_edit.text() != self.password2_edit.text():
            self.password2_edit.clear()
            self.password2_edit.setFocus()
            return self.error.show_error("两次输入的密码不一致，请重新输入。")
        try:
            with self.session_factory() as session:
                user = auth.create_first_admin(session, self.username_edit.text(), self.name_edit.text(),
                                               self.password_edit.text())
                session.commit()
                self.username = user.username
        except JiedaoError as exc:
            field = getattr(exc, "field", None)
            target = {"username": self.username_edit, "display_name": self.name_edit,
                      "password": self.password_edit}.get(field)
            if target is not None:
                target.setFocus()
            return self.error.show_error(exc.message)
        except Exception as exc:  # a lost connection must not close the app
            log.exception("创建管理员失败")
            return self.error.show_error(error_text(exc)[1])
        super().accept()


# --- logging in --------------------------------------------------------------------------------
class LoginDialog(QDialog):
    """Username and password; Enter submits. After ``accept``: ``actor``, ``unit_name``, ``role_titles``.
    ``done(CHANGE_DATABASE)`` when the user wants another database."""

    CHANGE_DATABASE = 2

    def __init__(self, session_factory, parent: QWidget | None = None, username: str = "",
                 labels: dict[str, str] | None = None, database_label: str = "", is_demo: bool = False,
                 warnings: Iterable[str] = (), server_target: str | None = None, plugin_factory=None):
        super().__init__(parent)
        self.setObjectName("login")
        self.setWindowTitle(f"{APP_TITLE} — 登录")
        self.session_factory = session_factory
        self.labels = labels or {}
        self.actor = None
        self.role_titles: list[str] = []
        # A secured server (issue 15.1): nothing is open before the login; the user's own name and
        # password open the connection (shell/core/server_login.py). ``login`` holds the result.
        self.server_target = server_target
        self.plugin_factory = plugin_factory
        self.login = None
        self.pm = None
        self._task = None
        self._schema_problem = None
        self.password_dialog = None
        self.unit_name = self._load_unit_name() if server_target is None else ""

        layout = QVBoxLayout(self)
        fit_to_content(self, 460)
        layout.setContentsMargins(28, 24, 28, 22)
        layout.setSpacing(12)
        layout.addLayout(_header(APP_TITLE, self.unit_name or "街道综合业务工作平台"))
        if is_demo:
            demo = _label("演示数据库：其中的人员和数据都是虚构的。可用 admin、street_staff、community_staff、"
                          "grid_worker 等演示账号登录。", "dialog-warning")
            demo.setObjectName("dialog-warning")
            layout.addWidget(demo)
        for w in _warnings_box(warnings):
            layout.addWidget(w)

        self.username_edit = QLineEdit(username)
        self.username_edit.setObjectName("username")
        self.username_edit.setPlaceholderText("用户名")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("password")
        self.password_edit.setPlaceholderText("密码")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        form.addRow("用户名", self.username_edit)
        form.addRow("密码", self.password_edit)
        self.remember_box = QCheckBox("在这台电脑上记住我的密码（保存在系统钥匙串中）")
        self.remember_box.setObjectName("remember-password")
        if server_target is not None:
            form.addRow("", self.remember_box)
            form.addRow("", _label("服务器上每个人用自己的账号登录：看到和能改的数据由服务器按您的角色和辖区把关。",
                                   "hint"))
            self._fill_stored_password(username)
            self.username_edit.editingFinished.connect(lambda: self._fill_stored_password(self.username_edit.text()))
        card = QFrame()
        card.setObjectName("dialog-card")
        card.setLayout(form)
        form.setContentsMargins(16, 14, 16, 14)
        layout.addWidget(card)

        self.error = InlineMessage()
        layout.addWidget(self.error)
        self.upgrade_button = QPushButton("输入数据库所有者密码并升级…")
        self.upgrade_button.setObjectName("upgrade-as-owner")
        self.upgrade_button.setAutoDefault(False)
        self.upgrade_button.hide()
        self.upgrade_button.clicked.connect(self._upgrade_as_owner)
        layout.addWidget(self.upgrade_button, 0, Qt.AlignmentFlag.AlignLeft)

        buttons = QHBoxLayout()
        self.change_db_button = QPushButton("更换数据库…")
        self.change_db_button.setAutoDefault(False)
        self.quit_button = QPushButton("退出")
        self.quit_button.setAutoDefault(False)
        self.ok_button = _primary("登录")
        self.ok_button.setObjectName("login-button")
        buttons.addWidget(self.change_db_button)
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        buttons.addWidget(self.ok_button)
        layout.addLayout(buttons)
        if database_label:
            layout.addWidget(_label(database_label, "hint"))

        self.ok_button.clicked.connect(self.accept)
        self.quit_button.clicked.connect(self.reject)
        self.change_db_button.clicked.connect(lambda: self.done(self.CHANGE_DATABASE))
        (self.password_edit if username else self.username_edit).setFocus()

    def _load_unit_name(self) -> str:
        from shell.core import settings

        try:
            with self.session_factory() as session:
                return str(settings.core(session, "core.unit_name") or "")
        except Exception:  # the heading is a nicety; login reports real faults
            log.warning("读取单位名称失败", exc_info=True)
            return ""

    def accept(self) -> None:
        from shell.core import auth

        self.error.clear_message()
        username = self.username_edit.text().strip()
        if not username:
            self.username_edit.setFocus()
            return self.error.show_error("请输入用户名。")
        if not self.password_edit.text():
            # Enter in the username field (the default button fires) just moves on to the password.
            if not self.username_edit.hasFocus():
                self.error.show_error("请输入密码。")
            self.password_edit.setFocus()
            return None
        if self.server_target is not None:
            return self._server_login(username, self.password_edit.text())
        try:
            self.actor = auth.login(self.session_factory, username, self.password_edit.text(), labels=self.labels)
        except AuthError as exc:
            self.password_edit.clear()
            self.password_edit.setFocus()
            return self.error.show_error(exc.message)
        except Exception as exc:  # e.g. the server went away: say so, stay open
            log.exception("登录失败")
            from sqlalchemy.exc import DBAPIError

            if isinstance(exc, DBAPIError):
                from shell.db.engine import explain

                exc = explain(exc)
            return self.error.show_error(error_text(exc)[1])
        if self._must_change_password():
            return self._first_password_change(self.password_edit.text())
        self.role_titles = self._load_role_titles()
        super().accept()

    def _must_change_password(self) -> bool:
        """A user an administrator created or whose password was reset sets their own at first login."""
        from shell.core import auth

        with self.session_factory() as session:
            return auth.needs_password_change(session, self.actor.user_id)

    def _ask_new_password(self, apply, on_done) -> None:
        """The 设置新密码 dialog, window-modal over this one; ``on_done(new_password or None)``."""
        dialog = ChangePasswordDialog(self, reason="这是您第一次登录（或管理员刚重置了您的密码）：请先设置自己的新密码。",
                                      apply=apply)
        self.password_dialog = dialog

        def finished(result: int) -> None:
            self.password_dialog = None
            dialog.deleteLater()
            on_done(dialog.new_password if result == QDialog.DialogCode.Accepted else None)

        dialog.finished.connect(finished)
        dialog.open()

    def _first_password_change(self, current: str) -> None:
        from shell.core import auth
        from shell.core.context import ServiceContext

        def apply(new: str) -> None:
            with self.session_factory() as session:
                auth.change_own_password(ServiceContext(session, self.actor), current, new)
                session.commit()

        def done(new: str | None) -> None:
            if new is None:
                self.actor = None
                self.password_edit.clear()
                self.error.show_error("必须先设置新密码才能使用。请重新登录。")
                return
            self.role_titles = self._load_role_titles()
            QDialog.accept(self)

        self._ask_new_password(apply, done)

    # --- a secured server: the person's own server account ---------------------------------------
    def _fill_stored_password(self, username: str) -> None:
        from shell.core.server_login import stored_password

        username = (username or "").strip()
        if not username or self.password_edit.text():
            return
        password = stored_password(self.server_target, username)
        if password:
            self.password_edit.setText(password)
            self.remember_box.setChecked(True)

    def _set_busy(self, busy: bool) -> None:
        for w in (self.ok_button, self.username_edit, self.password_edit, self.change_db_button,
                  self.upgrade_button):
            w.setEnabled(not busy)

    def _server_login(self, username: str, password: str) -> None:
        """Connect as the user's own role on the thread pool (a slow server must not freeze the window)."""
        from shell.ui.tasks import run_task

        self.upgrade_button.hide()
        self._schema_problem = None
        self._set_busy(True)
        factory, labels, target = self.plugin_factory, self.labels, self.server_target

        def work(progress=None):
            from shell.core import auth
            from shell.core.server_login import open_as_user

            pm = factory(()) if factory is not None else None
            return pm, open_as_user(target, username, password, pm,
                                    labels=labels or auth.collect_permissions(pm))

        self._task = run_task(self, "登录", work, cancellable=False, label="正在连接数据库服务器……",
                              show_after_ms=400, on_done=lambda r: self._server_logged_in(r, username, password),
                              on_error=self._server_login_failed)

    def _server_login_failed(self, exc: BaseException) -> None:
        from shell.errors import SchemaNeedsOwner

        self._set_busy(False)
        if isinstance(exc, AuthError):
            self.password_edit.clear()
            self.password_edit.setFocus()
        if isinstance(exc, SchemaNeedsOwner):
            self._schema_problem = exc
            if getattr(exc, "can_upgrade", False):
                self.upgrade_button.show()
        self.error.show_error(error_text(exc)[1])

    def _server_logged_in(self, result, username: str, password: str) -> None:
        from shell.core.server_login import change_own_server_password, remember_password

        self._set_busy(False)
        self.pm, login = result

        def finish(password: str | None) -> None:
            if password is None:
                login.database.dispose()
                self.password_edit.clear()
                self.error.show_error("必须先设置新密码才能使用。请重新登录。")
                return
            remember_password(self.server_target, username, password if self.remember_box.isChecked() else None)
            self.login = login
            self.actor, self.role_titles, self.unit_name = login.actor, login.role_titles, login.unit_name
            QDialog.accept(self)

        if login.must_change_password:
            self._ask_new_password(
                lambda new: change_own_server_password(login.database, login.actor, password, new), finish)
        else:
            finish(password)

    def _upgrade_as_owner(self) -> None:
        """An administrator found the schema older than the program: the owner's password, once."""
        from PySide6.QtWidgets import QInputDialog

        from shell.ui.tasks import run_task

        password, ok = QInputDialog.getText(
            self, "升级数据库", "数据库比本程序旧，需要用数据库所有者账号升级。\n请输入数据库所有者的密码（不会保存）：",
            QLineEdit.EchoMode.Password)
        if not ok or not password:
            return
        self._set_busy(True)
        factory, target = self.plugin_factory, self.server_target

        def work(progress=None):
            from shell.core.server_login import upgrade_as_owner

            return upgrade_as_owner(target, password, factory(()) if factory is not None else None)

        def done(_result) -> None:
            self._set_busy(False)
            self.upgrade_button.hide()
            self.error.show_ok("数据库已升级。请登录。")

        def failed(exc: BaseException) -> None:
            self._set_busy(False)
            self.error.show_error(error_text(exc)[1])

        self._task = run_task(self, "升级数据库", work, cancellable=False, label="正在升级数据库……",
                              on_done=done, on_error=failed)

    def _load_role_titles(self) -> list[str]:
        # Shown in the status bar; read here because login already holds the user's row.
        from shell.core.auth import role_titles

        try:
            with self.session_factory() as session:
                return role_titles(session, self.actor.user_id)
        except Exception:
            log.warning("读取角色失败", exc_info=True)
            return []


class ChangePasswordDialog(QDialog):
    """Set a new password (twice). ``apply(new_password)`` does the work and raises a JiedaoError
    (shown inline) when the password is refused; ``old_required`` adds the current password."""

    def __init__(self, parent: QWidget | None = None, reason: str = "", apply=None, old_required: bool = False):
        super().__init__(parent)
        self.setObjectName("change-password")
        self.setWindowTitle(f"{APP_TITLE} — 设置新密码")
        self.apply = apply
        self.new_password = ""
        layout = QVBoxLayout(self)
        fit_to_content(self, 480)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addLayout(_header("设置新密码", reason))
        self.old_edit = QLineEdit()
        self.old_edit.setObjectName("old-password")
        self.old_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_edit = QLineEdit()
        self.new_edit.setObjectName("new-password")
        self.new_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.new2_edit = QLineEdit()
        self.new2_edit.setObjectName("new-password2")
        self.new2_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        if old_required:
            form.addRow("当前密码", self.old_edit)
        form.addRow("新密码", self.new_edit)
        form.addRow("再次输入新密码", self.new2_edit)
        form.addRow("", _label("密码至少 8 位，须同时包含字母和数字。", "hint"))
        card = QFrame()
        card.setObjectName("dialog-card")
        card.setLayout(form)
        form.setContentsMargins(16, 14, 16, 14)
        layout.addWidget(card)
        self.error = InlineMessage()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("取消")
        self.cancel_button.setAutoDefault(False)
        self.ok_button = _primary("保存新密码")
        self.ok_button.setObjectName("save-password")
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button.clicked.connect(self.accept)
        (self.old_edit if old_required else self.new_edit).setFocus()

    def accept(self) -> None:
        self.error.clear_message()
        new = self.new_edit.text()
        if not new:
            self.new_edit.setFocus()
            return self.error.show_error("请输入新密码。")
        if new != self.new2_edit.text():
            self.new2_edit.clear()
            self.new2_edit.setFocus()
            return self.error.show_error("两次输入的新密码不一致，请重新输入。")
        try:
            if self.apply is not None:
                if self.old_edit.isVisibleTo(self):
                    self.apply(self.old_edit.text(), new)
                else:
                    self.apply(new)
        except JiedaoError as exc:
            self.new_edit.clear()
            self.new2_edit.clear()
            self.new_edit.setFocus()
            return self.error.show_error(exc.message)
        except Exception as exc:  # e.g. the server went away: say so, stay open
            log.exception("修改密码失败")
            return self.error.show_error(error_text(exc)[1])
        self.new_password = new
        super().accept()
