"""数据库: which database this desktop uses (SQLite file or PostgreSQL server), a connection test
that never freezes the window, and backup/restore of a SQLite file."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import URL, make_url

from shell.config import default_sqlite_path, split_password, store_password, with_stored_password
from shell.core.database import is_network_path
from shell.core.maintenance import backup_file, restore_file
from shell.db.backup import check_backup_file
from shell.db.engine import check_connection, sqlite_path, tls_choice, with_tls
from shell.db.migrate import plugin_branches
from shell.ui.errors import confirm, show_error
from shell.ui.settings._common import ERROR_STYLE, NOTE_STYLE, OK_STYLE, Page, button_row, make_button, message_of, note
from shell.ui.tasks import run_in_pool
from shell.ui.widgets.form import Form

SQLITE_FILTER = "SQLite 数据库 (*.sqlite *.sqlite3 *.db);;所有文件 (*)"
CA_FILTER = "CA 证书 (*.crt *.pem *.cer);;所有文件 (*)"
# (mode, label): how this desktop encrypts its connection to the server (shell/db/engine.py tls_connect_args).
TLS_MODES = (("verify", "加密并验证服务器证书（推荐）"),
             ("auto", "自动：本机以外的服务器一律加密，不验证证书"),
             ("off", "不加密（仅限完全可信的网络）"))


class DatabasePage(Page):
    def __init__(self, app_ctx, config, settings=None):
        super().__init__(app_ctx, config, settings)
        self.engine = app_ctx.session_factory.kw.get("bind")
        self.current_file: Path | None = sqlite_path(self.engine) if self.engine is not None else None
        self.can_manage = self.actor.can("core.database.manage")
        self._busy = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)

        # --- current database ---------------------------------------------------------------------
        current = QGroupBox("当前数据库", self)
        cl = QVBoxLayout(current)
        self.current_label = QLabel(self._current_text(), current)
        self.current_label.setObjectName("db-current")
        self.current_label.setWordWrap(True)
        cl.addWidget(self.current_label)
        if app_ctx.is_demo:
            cl.addWidget(note("这是演示数据库，其中的人员和数据均为虚构。", current))
        outer.addWidget(current)

        # --- connection -------------------------------------------------------------------------------
        conn = QGroupBox("连接设置（本机）", self)
        vl = QVBoxLayout(conn)
        self.use_sqlite = QRadioButton("本机文件（SQLite，单机使用）", conn)
        self.use_sqlite.setObjectName("db-kind-sqlite")
        self.use_pg = QRadioButton("局域网服务器（PostgreSQL，多台电脑共用）", conn)
        self.use_pg.setObjectName("db-kind-pg")
        kinds = QButtonGroup(conn)
        kinds.addButton(self.use_sqlite)
        kinds.addButton(self.use_pg)
        kind_row = QHBoxLayout()
        kind_row.addWidget(self.use_sqlite)
        kind_row.addWidget(self.use_pg)
        kind_row.addStretch(1)
        vl.addLayout(kind_row)

        # Two boxes shown one at a time (a QStackedWidget would keep the taller one's height).
        sqlite_box = self.sqlite_box = QWidget(conn)
        sf = Form(sqlite_box)
        path_row = QWidget()
        pr = QHBoxLayout(path_row)
        pr.setContentsMargins(0, 0, 0, 0)
        self.sqlite_path = QLineEdit(path_row)
        self.sqlite_path.setObjectName("db-sqlite-path")
        self.sqlite_path.setPlaceholderText(str(default_sqlite_path()))
        pr.addWidget(self.sqlite_path, 1)
        pr.addWidget(make_button("浏览…", "db-browse", self._browse, path_row))
        sf.add("path", "数据库文件", path_row, required=True,
               hint="文件不存在时会新建。不要把数据库文件放在网络共享文件夹里。")
        QVBoxLayout(sqlite_box).addWidget(sf)
        vl.addWidget(sqlite_box)

        pg_box = self.pg_box = QWidget(conn)
        self.pg_form = pf = Form(pg_box)
        self.pg_host = pf.add("host", "服务器地址", QLineEdit(), required=True)
        self.pg_host.setPlaceholderText("例如 192.168.1.10")
        self.pg_port = pf.add("port", "端口", QSpinBox())
        self.pg_port.setRange(1, 65535)
        self.pg_port.setValue(5432)
        self.pg_db = pf.add("database", "数据库名", QLineEdit(), required=True)
        self.pg_user = pf.add("user", "用户名", QLineEdit(),
                              hint="安全的服务器数据库（jiedao db secure）请留空：每个人登录时用自己的账号。")
        self.pg_password = pf.add("password", "密码", QLineEdit(),
                                  hint="旧式共用账号的密码保存在系统钥匙串中，不写入配置文件。")
        self.pg_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.pg_tls = pf.add("tls", "加密", QComboBox())
        self.pg_tls.setObjectName("db-pg-tls")
        for mode, label in TLS_MODES:
            self.pg_tls.addItem(label, mode)
        self.pg_tls.setCurrentIndex(self.pg_tls.findData("auto"))
        ca_row = QWidget()
        car = QHBoxLayout(ca_row)
        car.setContentsMargins(0, 0, 0, 0)
        self.pg_ca = QLineEdit(ca_row)
        self.pg_ca.setObjectName("db-pg-ca")
        self.pg_ca.setPlaceholderText("例如 D:\\街道\\street-ca.crt")
        car.addWidget(self.pg_ca, 1)
        self.ca_browse = make_button("浏览…", "db-ca-browse", self._browse_ca, ca_row)
        car.addWidget(self.ca_browse)
        pf.add("ca_file", "CA 文件", ca_row,
               hint="由管理员提供（见 docs/lan-server.md）；验证证书可防止有人冒充服务器。")
        self.pg_tls.currentIndexChanged.connect(self._tls_changed)
        for name, w in (("host", self.pg_host), ("database", self.pg_db), ("user", self.pg_user),
                        ("password", self.pg_password)):
            w.setObjectName(f"db-pg-{name}")
        self.pg_port.setObjectName("db-pg-port")
        QVBoxLayout(pg_box).addWidget(pf)
        vl.addWidget(pg_box)

        self.test_button = make_button("测试连接", "db-test", self.test_connection, conn)
        self.save_button = make_button("保存并重新连接", "db-save", self.save_and_reconnect, conn)
        vl.addLayout(button_row(self.test_button, self.save_button))
        self.result = note("", conn)
        self.result.setObjectName("db-result")
        vl.addWidget(self.result)
        outer.addWidget(conn)

        # --- backup / restore -------------------------------------------------------------------------
        bk = QGroupBox("备份与恢复", self)
        bl = QVBoxLayout(bk)
        self.backup_button = make_button("立即备份…", "db-backup", self.backup_now, bk)
        self.restore_button = make_button("从备份恢复…", "db-restore", self.restore_from_backup, bk)
        bl.addLayout(button_row(self.backup_button, self.restore_button))
        if self.current_file is None:
            why = "当前使用服务器数据库：请由管理员用命令 jiedao db backup（调用 pg_dump）备份，见 docs/lan-server.md。"
        elif not self.can_manage:
            why = "您没有“数据库备份与恢复”权限，只能查看。"
        else:
            why = "备份是当前数据库的完整副本；恢复前会自动把当前数据库另存一份，以便反悔。"
        enabled = self.current_file is not None and self.can_manage
        self.backup_button.setEnabled(enabled)
        self.restore_button.setEnabled(enabled)
        bl.addWidget(note(why, bk))
        self.backup_result = note("", bk)
        self.backup_result.setObjectName("db-backup-result")
        bl.addWidget(self.backup_result)
        outer.addWidget(bk)
        outer.addStretch(1)

        self.use_sqlite.toggled.connect(self._show_kind)
        self._load_config()
        self._show_kind(self.use_sqlite.isChecked())

    # --- showing what is configured -------------------------------------------------------------------
    def _current_text(self) -> str:
        if self.app_ctx.database_label:
            return self.app_ctx.database_label
        if self.engine is None:
            return "（未连接）"
        if self.current_file is not None:
            return f"本地文件 {self.current_file}"
        url = self.engine.url
        return f"服务器 {url.host or 'localhost'}:{url.port or 5432}/{url.database}"

    def _load_config(self) -> None:
        raw = self.config.database or (str(self.current_file) if self.current_file else "")
        if raw and "://" in raw and not raw.startswith("sqlite"):
            url = make_url(raw)
            self.use_pg.setChecked(True)
            self.pg_host.setText(url.host or "")
            self.pg_port.setValue(int(url.port or 5432))
            self.pg_db.setText(url.database or "")
            self.pg_user.setText(url.username or "")
            self.pg_password.setPlaceholderText("留空则使用已保存的密码")
            mode, ca = tls_choice(raw)
            self.pg_tls.setCurrentIndex(self.pg_tls.findData(mode))
            self.pg_ca.setText(ca)
        else:
            self.use_sqlite.setChecked(True)
            if raw.startswith("sqlite"):
                raw = make_url(raw).database or ""
            self.sqlite_path.setText(raw)

    def _show_kind(self, sqlite: bool) -> None:
        self.sqlite_box.setVisible(sqlite)
        self.pg_box.setVisible(not sqlite)
        self._tls_changed()

    def _tls_changed(self, *_args) -> None:
        verify = self.pg_tls.currentData() == "verify"
        self.pg_ca.setEnabled(verify)
        self.ca_browse.setEnabled(verify)

    def _browse_ca(self) -> None:
        start = self.pg_ca.text().strip() or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "选择服务器证书的 CA 文件", start, CA_FILTER)
        if path:
            self.pg_ca.setText(path)

    def _browse(self) -> None:
        start = self.sqlite_path.text().strip() or str(default_sqlite_path())
        path, _ = QFileDialog.getSaveFileName(self, "选择或新建数据库文件", start, SQLITE_FILTER,
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.sqlite_path.setText(path)

    def target(self) -> tuple[str, str] | None:
        """(URL to connect with, password-free text for config.json), or None after showing what is missing."""
        if self.use_sqlite.isChecked():
            path = self.sqlite_path.text().strip()
            if not path:
                self._result("请先选择数据库文件。", ERROR_STYLE)
                return None
            path = str(Path(path).expanduser().resolve())
            return path, path
        missing = self.pg_form.missing_required()
        if missing:
            self.pg_form.show_errors(missing)
            self._result("请把服务器信息填写完整。", ERROR_STYLE)
            return None
        self.pg_form.clear_errors()
        url = URL.create("postgresql+psycopg", username=self.pg_user.text().strip() or None,
                         password=self.pg_password.text() or None, host=self.pg_host.text().strip(),
                         port=self.pg_port.value(), database=self.pg_db.text().strip())
        mode, ca = self.pg_tls.currentData(), self.pg_ca.text().strip()
        if mode == "verify":
            if not ca:
                self.pg_form.show_errors({"ca_file": "请选择管理员提供的 CA 文件（.crt），或把“加密”改为“自动”。"})
                self._result("请选择服务器证书的 CA 文件。", ERROR_STYLE)
                return None
            ca = str(Path(ca).expanduser().resolve())
            if not Path(ca).is_file():
                self.pg_form.show_errors({"ca_file": f"找不到文件“{ca}”。"})
                self._result(f"找不到 CA 文件“{ca}”：请重新选择。", ERROR_STYLE)
                return None
        full = with_tls(url.render_as_string(hide_password=False), mode, ca)
        if not self.pg_password.text():
            full = with_stored_password(full)
        without, _pw = split_password(full)
        return full, without

    def _result(self, text: str, style: str = NOTE_STYLE) -> None:
        self.result.setStyleSheet(style)
        self.result.setText(text)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.test_button.setEnabled(not busy)
        self.save_button.setEnabled(not busy)

    # --- test / save -----------------------------------------------------------------------------------
    def test_connection(self, then=None) -> None:
        target = self.target()
        if target is None or self._busy:
            return
        url, shown = target
        self._set_busy(True)
        self._result(f"正在连接 {make_url(shown).render_as_string(hide_password=True) if '://' in shown else shown} ……")

        def done(ok: bool, result) -> None:
            self._set_busy(False)
            if not ok:
                self._result("连接失败：" + message_of(result), ERROR_STYLE)
                return
            text = f"连接成功：{result}。"
            if "://" not in url and is_network_path(Path(url)):
                text += "\n注意：这个文件位于网络共享上，多台电脑同时使用可能损坏数据；多人共用请改用服务器。"
            self._result(text, OK_STYLE)
            if then is not None:
                then(url, shown)

        def check() -> str:
            from shell.core.server_login import check_server_reachable, needs_user_login

            return check_server_reachable(url) if needs_user_login(url) else check_connection(url)

        run_in_pool(check, done)

    def save_and_reconnect(self) -> None:
        """Test first: a desktop is never left pointing at a database it cannot open."""
        self.test_connection(then=self._save)

    def _save(self, url: str, shown: str) -> None:
        extra = ""
        if "://" in url:
            without, password = split_password(url)
            if password and not store_password(without, password):
                extra = "\n系统钥匙串不可用：密码没有保存，下次启动时需要重新输入。"
            self.config.remember(without)
        else:
            self.config.remember(url)
        try:
            self.config.save()
        except OSError as exc:
            self._result(f"无法保存本机配置：{exc}", ERROR_STYLE)
            return
        self._result(f"已保存，正在重新连接……{extra}", OK_STYLE)
        if self.settings is not None:
            self.settings.database_changed(url)

    # --- backup / restore -------------------------------------------------------------------------------
    def _default_backup_dir(self) -> Path:
        return (self.current_file.parent if self.current_file else Path.home()) / "backups"

    def backup_now(self) -> None:
        if self.current_file is None or not self.can_manage:
            return
        folder = QFileDialog.getExistingDirectory(self, "选择备份文件夹", str(self._default_backup_dir()))
        if not folder:
            return
        src = self.current_file
        self.backup_button.setEnabled(False)
        self.backup_result.setStyleSheet(NOTE_STYLE)
        self.backup_result.setText("正在备份……")

        def done(ok: bool, result) -> None:
            self.backup_button.setEnabled(True)
            if ok:
                self.backup_result.setStyleSheet(OK_STYLE)
                self.backup_result.setText(f"已备份到：{result}")
            else:
                self.backup_result.setStyleSheet(ERROR_STYLE)
                self.backup_result.setText("备份失败：" + message_of(result))

        actor = self.app_ctx.actor
        run_in_pool(lambda: backup_file(actor, src, Path(folder)), done)

    def restore_from_backup(self) -> None:
        if self.current_file is None or not self.can_manage:
            return
        path, _ = QFileDialog.getOpenFileName(self, "选择备份文件", str(self._default_backup_dir()), SQLITE_FILTER)
        if not path:
            return
        backup = Path(path)
        # Every plugin's branch (disabled ones too), so a backup from a newer program is refused
        # before the question while one with a switched-off plugin's tables is not.
        pm = self.app_ctx.extras.get("all_plugins") or self.app_ctx.plugin_manager
        branches = plugin_branches(pm) if pm is not None else []
        try:
            check_backup_file(backup, branches)
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc)
            return
        when = datetime.fromtimestamp(os.path.getmtime(backup)).strftime("%Y-%m-%d %H:%M")
        if not confirm(self, "从备份恢复",
                       f"将用备份“{backup.name}”（{when}）覆盖当前数据库：\n{self.current_file}\n\n"
                       "覆盖前会先把当前数据库另存一份安全备份。备份之后所做的修改将不再出现在数据库中。\n确定恢复吗？"):
            return
        current = self.current_file
        # Idle pooled connections would keep reading the old pages; the app reconnects afterwards.
        if self.engine is not None:
            self.engine.dispose()
        self.restore_button.setEnabled(False)
        self.backup_result.setStyleSheet(NOTE_STYLE)
        self.backup_result.setText("正在恢复……")

        def done(ok: bool, result) -> None:
            self.restore_button.setEnabled(True)
            if not ok:
                self.backup_result.setStyleSheet(ERROR_STYLE)
                self.backup_result.setText("恢复失败：" + message_of(result))
                show_error(self, result)
                return
            self.backup_result.setStyleSheet(OK_STYLE)
            self.backup_result.setText(f"已从备份恢复。恢复前的数据库已另存为：{result}")
            if self.settings is not None:
                self.settings.database_changed(str(current))

        actor, folder = self.app_ctx.actor, self._default_backup_dir()
        run_in_pool(lambda: restore_file(actor, current, backup, folder, branches), done)
