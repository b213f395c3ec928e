"""The main window: navigation list from ``register_pages`` (filtered by permission), pages built on
first open, the demo banner, status bar and the 系统 menu (设置, 切换用户, 关于, 退出).

Nothing here queries the database before the window is shown: the first page is built right after
the first ``showEvent``, and the unit name and role titles come from the login step."""
from __future__ import annotations

import logging
import traceback

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from shell.contracts import PageSpec
from shell.core.plugin import IMPORTS_PAGE as IMPORTS_PAGE  # the core plugin registers them
from shell.core.plugin import REPORTS_PAGE as REPORTS_PAGE
from shell.ui.errors import error_text
from shell.ui.icons import icon

log = logging.getLogger(__name__)

APP_TITLE = "街道工作台"
HOME_ID = "home"
# (key, the page's method, what it is called): the keys that act on the open page.
PAGE_KEYS = (("Ctrl+N", "page_new", "新建"), ("Ctrl+E", "page_export", "导出 Excel"),
             ("Ctrl+P", "page_print", "打印"), ("F5", "page_refresh", "刷新"))
PAGE_ID_ROLE = Qt.ItemDataRole.UserRole


def _home_factory(app_ctx, parent=None):
    from shell.ui.dashboard import DashboardPage

    return DashboardPage(app_ctx, parent)


HOME_PAGE = PageSpec(id=HOME_ID, title="首页", factory=_home_factory, icon="home", order=0)


def collect_pages(app_ctx) -> list[PageSpec]:
    """首页 first, then every page the actor may open — the core plugin's (报表中心, 数据导入导出) and
    every plugin's — by order then title."""
    from shell.plugins import call_each, core_plugin_manager

    pages: list[PageSpec] = []
    seen = {HOME_ID}
    for plugin, spec in call_each(app_ctx.plugin_manager or core_plugin_manager(), "register_pages", ctx=app_ctx):
        if not isinstance(spec, PageSpec):
            log.error("插件 %s 的页面类型不对：%r", plugin, spec)
            continue
        if spec.id in seen:
            log.error("插件 %s 的页面 %s 与已有页面重名，已忽略", plugin, spec.id)
            continue
        if spec.permission is not None and not app_ctx.actor.can(spec.permission):
            continue
        seen.add(spec.id)
        pages.append(spec)
    return [HOME_PAGE] + sorted(pages, key=lambda s: (s.order, s.title))


class PageErrorPanel(QFrame):
    """Shown in place of a page whose factory raised: what failed, why, and a 重试 button."""

    def __init__(self, spec: PageSpec, exc: BaseException, retry, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("error-panel")
        self.exc = exc
        title, message = error_text(exc)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(10)
        heading = QLabel(f"“{spec.title}”页面无法打开")
        heading.setObjectName("error-heading")
        layout.addWidget(heading)
        self.message = QLabel(message)
        self.message.setObjectName("error-message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        layout.addWidget(QLabel("其他页面不受影响。可以稍后重试；如果一直出现，请把下面的详细信息发给技术支持。"))
        details = QPlainTextEdit("".join(traceback.format_exception(exc)))
        details.setObjectName("error-details")
        details.setReadOnly(True)
        details.setMaximumHeight(220)
        layout.addWidget(details)
        row = QHBoxLayout()
        self.retry_button = QPushButton("重试")
        self.retry_button.clicked.connect(retry)
        row.addWidget(self.retry_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)


class MainWindow(QMainWindow):
    logout_requested = Signal()                   # 切换用户/注销: the start-up flow shows the login again
    database_change_requested = Signal(object)    # the settings dialog switched the database
    page_opened = Signal(str)
    closed = Signal()                             # the user closed the window (退出 or the close box)

    def __init__(self, app_ctx, config, database, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("main-window")
        self.app_ctx = app_ctx
        self.config = config
        self.database = database
        self.pages: dict[str, QWidget] = {}       # built pages by id
        self.page_specs = collect_pages(app_ctx)
        # For plugins' open_record: show one of the window's pages (built on first use) and get it back.
        app_ctx.extras["open_page"] = self.open_page
        self._shown_once = False
        self._models_ready = False
        self._settings_dialog = None

        self.setWindowIcon(icon("logo"))
        self.resize(1280, 800)
        self.setMinimumSize(QSize(900, 600))
        self.update_title()

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.demo_banner: QLabel | None = None
        if self.is_demo:
            self.demo_banner = QLabel("【演示数据库】这里的人员、网格和台账都是虚构的演示数据，请勿录入真实信息。")
            self.demo_banner.setObjectName("banner-demo")
            outer.addWidget(self.demo_banner)
        shown = list(getattr(database, "warnings", None) or [])
        if app_ctx.actor.can("core.database.manage"):
            shown += getattr(database, "admin_warnings", None) or []
        for text in shown:
            warn = QLabel("⚠ " + text)
            warn.setObjectName("banner-warning")
            warn.setWordWrap(True)
            outer.addWidget(warn)

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setFixedWidth(210)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        group = ""
        for spec in self.page_specs:
            if spec.group and spec.group != group:
                # A line of a work line's name above its pages: ~30 pages need landmarks.
                header = QListWidgetItem(spec.group)
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                self.nav.addItem(header)
            group = spec.group
            item = QListWidgetItem(icon(spec.icon or "page"), spec.title)
            item.setData(PAGE_ID_ROLE, spec.id)
            item.setToolTip(spec.title)
            self.nav.addItem(item)
        body.addWidget(self.nav)
        area = QFrame()
        area.setObjectName("page-area")
        area_layout = QVBoxLayout(area)
        area_layout.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        area_layout.addWidget(self.stack)
        body.addWidget(area, 1)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)

        self._build_actions()
        self._build_status_bar()
        # Select 首页 without building it: the build waits for the first show (see showEvent).
        self.nav.blockSignals(True)
        self.nav.setCurrentRow(0)
        self.nav.blockSignals(False)
        self.nav.currentItemChanged.connect(self._nav_changed)

    # --- title, status, banners -------------------------------------------------------------
    @property
    def is_demo(self) -> bool:
        return bool(getattr(self.database, "is_demo", False) or self.app_ctx.is_demo)

    @property
    def database_label(self) -> str:
        return self.app_ctx.database_label or getattr(self.database, "label", "")

    def update_title(self) -> None:
        where = self.app_ctx.extras.get("unit_name") or self.database_label
        title = f"{APP_TITLE} — {where}" if where else APP_TITLE
        if self.is_demo:
            title += "【演示数据库】"
        self.setWindowTitle(title)

    def _build_status_bar(self) -> None:
        actor = self.app_ctx.actor
        bar = self.statusBar()
        self.user_label = QLabel(f"用户：{actor.display_name}（{actor.username}）")
        self.user_label.setObjectName("status-user")
        roles = self.app_ctx.extras.get("role_titles")
        if roles is None:
            roles = ["超级管理员"] if actor.is_superuser else []
        self.roles_label = QLabel("角色：" + ("、".join(roles) if roles else "无"))
        self.roles_label.setObjectName("status-roles")
        self.db_label = QLabel(("演示数据库 · " if self.is_demo else "") + self.database_label)
        self.db_label.setObjectName("status-database")
        bar.addWidget(self.user_label)
        bar.addWidget(self.roles_label)
        failed = []
        pm = self.app_ctx.plugin_manager
        if pm is not None and hasattr(pm, "jiedao_status"):
            from shell.plugins import FAILED, plugin_status

            failed = [s.title or s.name for s in plugin_status(pm) if s.state == FAILED]
        self.plugin_label = QLabel(f"⚠ {len(failed)} 个插件未能加载（设置 → 插件 查看原因）" if failed else "")
        self.plugin_label.setObjectName("status-plugins")
        self.plugin_label.setToolTip("、".join(failed))
        self.plugin_label.setVisible(bool(failed))
        bar.addWidget(self.plugin_label)
        bar.addPermanentWidget(self.db_label)
        self.connection_monitor = None
        engine = getattr(self.database, "engine", None)
        if engine is not None:
            from shell.ui.connection import ConnectionLight, ConnectionMonitor

            self.connection_monitor = ConnectionMonitor(engine, self)
            self.connection_monitor.changed.connect(self._connection_changed)
            self.connection_light = ConnectionLight(self.connection_monitor)
            bar.addPermanentWidget(self.connection_light)

    def _connection_changed(self, ok: bool, message: str) -> None:
        if ok:
            self.statusBar().showMessage("已重新连接数据库，可以继续工作。", 8000)

    def _build_actions(self) -> None:
        self.settings_action = QAction(icon("settings"), "设置", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        self.settings_action.triggered.connect(self.open_settings)
        self.logout_action = QAction(icon("switch-user"), "切换用户/注销", self)
        self.logout_action.triggered.connect(self.logout)
        self.about_action = QAction(icon("about"), "关于", self)
        self.about_action.triggered.connect(self.show_about)
        self.quit_action = QAction(icon("exit"), "退出", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.close)

        system = self.menuBar().addMenu("系统(&S)")
        system.addAction(self.settings_action)
        system.addAction(self.logout_action)
        system.addSeparator()
        system.addAction(self.quit_action)
        self.help_action = QAction(icon("about"), "使用说明", self)
        self.help_action.setShortcut(QKeySequence("F1"))
        self.help_action.triggered.connect(lambda: self.open_help())
        self.shortcuts_action = QAction("快捷键", self)
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu = self.menuBar().addMenu("帮助(&H)")
        help_menu.addAction(self.help_action)
        help_menu.addAction(self.shortcuts_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)
        # Keys that act on the page that is open (shell/ui/help.py SHORTCUTS lists them).
        self.page_actions: dict[str, QAction] = {}
        for key, method, label in PAGE_KEYS:
            action = QAction(label, self)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(lambda _checked=False, m=method, lab=label: self.page_action(m, lab))
            self.addAction(action)
            self.page_actions[method] = action

        toolbar = self.addToolBar("常用")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setIconSize(QSize(18, 18))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.addAction(self.settings_action)
        toolbar.addAction(self.logout_action)
        toolbar.addAction(self.about_action)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        from shell.ui.global_search import GlobalSearch

        self.search = GlobalSearch(self.app_ctx, self.open_record, self)
        toolbar.addWidget(self.search)
        find = QAction("搜索", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.find)
        self.addAction(find)

    # --- pages ------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # Qt name
        super().closeEvent(event)
        if event.isAccepted():
            if self.connection_monitor is not None:
                self.connection_monitor.stop()
            self.closed.emit()

    def showEvent(self, event) -> None:  # Qt name
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            # Let the window paint first; the first page (and its queries) come right after.
            QTimer.singleShot(0, self._open_current)

    def _load_models(self, warm: bool = False) -> None:
        """Every plugin's models, and the mapper registry configured, before a page starts a thread
        (shell/db/mappers.py); a no-op when the database was opened with them. With ``warm`` (on the
        pool, at first show) also the modules the plugins name in ``PluginInfo.warm``."""
        from shell.db.mappers import load_models, plugin_module_names
        from shell.plugins import warm_modules

        load_models(plugin_module_names(self.app_ctx.extras.get("all_plugins") or self.app_ctx.plugin_manager))
        if warm:
            from shell.ui.warmup import freeze_once

            warm_modules(self.app_ctx.plugin_manager)
            freeze_once("models")

    def _open_current(self) -> None:
        from shell.ui.tasks import run_in_pool

        def loaded(ok: bool, result) -> None:
            if not ok:
                log.error("插件数据模型加载失败：%s", result)
            self._models_ready = True
            item = self.nav.currentItem()
            page = self.open_page(item.data(PAGE_ID_ROLE)) if item is not None else None
            # Then, quietly, what the other pages will import (PluginInfo.preload): once the 首页's
            # tiles are all there, so the import does not compete with them for the GIL.
            if page is not None and hasattr(page, "tiles_built") and not page.ready:
                page.tiles_built.connect(lambda: self._preload())
            else:
                self._preload()

        # Off the GUI thread (≈0.3 s): the window stays responsive while the first page waits for it.
        run_in_pool(lambda: self._load_models(warm=True), loaded)

    def _preload(self, waited_ms: int = 0) -> None:
        from shell.ui.tasks import jobs_running, run_in_pool
        from shell.ui.warmup import warm_up

        # Not while the first page's tiles still compute their figures: the imports would hold the
        # GIL against them (the 首页 took 0.3–0.5 s longer). Up to 10 s, then anyway.
        if jobs_running() and waited_ms < 10_000:
            QTimer.singleShot(100, self, lambda: self._preload(waited_ms + 100))   # dropped if the window goes
            return
        pm = self.app_ctx.plugin_manager
        font_path = getattr(self.config, "font_path", None) or None
        run_in_pool(lambda: warm_up(pm, font_path), lambda ok, result: None)

    def _nav_changed(self, current: QListWidgetItem | None, _previous=None) -> None:
        if current is not None and current.data(PAGE_ID_ROLE) is not None:
            self.open_page(current.data(PAGE_ID_ROLE))

    def spec(self, page_id: str) -> PageSpec | None:
        return next((s for s in self.page_specs if s.id == page_id), None)

    def nav_titles(self) -> list[str]:
        """The pages in the navigation (group headers left out)."""
        return [self.nav.item(i).text() for i in range(self.nav.count())
                if self.nav.item(i).data(PAGE_ID_ROLE) is not None]

    def nav_groups(self) -> list[str]:
        return [self.nav.item(i).text() for i in range(self.nav.count())
                if self.nav.item(i).data(PAGE_ID_ROLE) is None]

    def _nav_row(self, page_id: str) -> int:
        return next(i for i in range(self.nav.count()) if self.nav.item(i).data(PAGE_ID_ROLE) == page_id)

    def open_page(self, page_id: str) -> QWidget | None:
        """Show a page, building it on first open; a failing factory gives an error panel."""
        spec = self.spec(page_id)
        if spec is None:
            return None
        if not self._models_ready:
            # Opened before the background load finished (a click in the first moment, open_record):
            # wait for it — load_models holds a lock — rather than race it.
            try:
                self._load_models()
            except Exception:  # the page shows its own error if it needs the models
                log.exception("插件数据模型加载失败")
            self._models_ready = True
        widget = self.pages.get(page_id)
        if widget is None:
            widget = self._build_page(spec)
            self.pages[page_id] = widget
            self.stack.addWidget(widget)
        self.stack.setCurrentWidget(widget)
        row = self._nav_row(page_id)
        if self.nav.currentRow() != row:
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(row)
            self.nav.blockSignals(False)
        self.page_opened.emit(page_id)
        return widget

    def _build_page(self, spec: PageSpec) -> QWidget:
        try:
            widget = spec.factory(self.app_ctx, self.stack)
            if not isinstance(widget, QWidget):
                raise TypeError(f"页面工厂应返回界面部件（QWidget），实际返回了 {type(widget).__name__}")
            return widget
        except Exception as exc:  # a broken plugin page must not take the shell down
            log.exception("页面 %s 创建失败", spec.id)
            return PageErrorPanel(spec, exc, lambda: self.rebuild_page(spec.id))

    def rebuild_page(self, page_id: str) -> QWidget | None:
        old = self.pages.pop(page_id, None)
        if old is not None:
            self.stack.removeWidget(old)
            old.deleteLater()
        return self.open_page(page_id)

    def current_page(self) -> QWidget | None:
        return self.stack.currentWidget()

    # --- keys and help ----------------------------------------------------------------------
    def page_action(self, method: str, label: str) -> bool:
        """Run the open page's ``page_new`` / ``page_export`` / ``page_print`` / ``page_refresh``;
        a page without it gets a word in the status bar, not silence."""
        fn = getattr(self.current_page(), method, None)
        if callable(fn):
            fn()
            return True
        self.statusBar().showMessage(f"本页没有“{label}”。", 5000)
        return False

    def find(self) -> None:
        """Ctrl+F: the page's own search box when it has one, else the search in the tool bar."""
        fn = getattr(self.current_page(), "page_search", None)
        if callable(fn):
            fn()
            return
        self.search.box.setFocus()
        self.search.box.selectAll()

    def current_page_id(self) -> str | None:
        page = self.current_page()
        return next((pid for pid, w in self.pages.items() if w is page), None)

    def open_help(self, page_id: str | None = None):
        """F1: the manual at the chapter of the open page (the contents when it has none)."""
        from shell.ui.help import HelpDialog, chapters, manual_folders

        chapter_list = chapters(manual_folders(self.page_specs), [s.id for s in self.page_specs])
        dialog = HelpDialog(chapter_list, page_id or self.current_page_id(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.help_dialog = dialog
        return dialog

    def show_shortcuts(self):
        from shell.ui.help import ShortcutsDialog

        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.shortcuts_dialog = dialog
        return dialog

    # --- records ----------------------------------------------------------------------------
    def open_record(self, result) -> bool:
        """Open a search result: the core opens its areas; any other kind goes to the plugins'
        ``open_record`` (the first that knows the kind handles it)."""
        from shell.ui.errors import show_error

        try:
            if result.kind == "core.area":
                dialog = self.open_settings()
                if dialog is not None:
                    dialog.open_page("areas").select_area(result.id)
                return dialog is not None
            pm = self.app_ctx.plugin_manager
            handled = pm is not None and pm.hook.open_record(ctx=self.app_ctx, kind=result.kind, id=result.id)
        except Exception as exc:  # noqa: BLE001 - a plugin's fault is shown, not fatal
            show_error(self, exc)
            return False
        if not handled:
            QMessageBox.information(self, "无法打开", f"没有已加载的插件能打开这类记录（{result.kind}）。"
                                    "可能是相应插件已停用或出错，请在“设置 → 插件”中查看。")
        return bool(handled)

    # --- menu actions -----------------------------------------------------------------------
    def open_settings(self):
        try:
            from shell.ui.settings import SettingsDialog  # lazy: the settings pages are heavy
        except ImportError as exc:
            log.exception("设置界面无法加载")
            from shell.ui.errors import show_error

            show_error(self, exc)
            return None
        dialog = SettingsDialog(self.app_ctx, self.config, parent=self,
                                on_database_changed=self._database_changed)
        self._settings_dialog = dialog
        dialog.open()
        return dialog

    def _database_changed(self, target=None) -> None:
        self.database_change_requested.emit(target)

    def logout(self) -> None:
        self.logout_requested.emit()

    def show_about(self) -> QMessageBox:
        from shell import __version__

        pm = self.app_ctx.plugin_manager
        plugins = []
        if pm is not None and hasattr(pm, "jiedao_status"):
            from shell.plugins import plugin_status

            plugins = [f"{s.title or s.name} {s.version}（{s.state_label}）" for s in plugin_status(pm)]
        box = QMessageBox(QMessageBox.Icon.NoIcon, "关于街道工作台",
                          f"<h3>街道工作台 {__version__}</h3>"
                          "<p>面向街道办事处和乡镇的综合业务桌面软件：辖区与网格、志愿服务、党建、应急管理，"
                          "以及打印台账与报表。</p>"
                          f"<p>数据库：{self.database_label}</p>"
                          f"<p>插件：{'；'.join(plugins) if plugins else '（未安装业务插件）'}</p>",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("about-box")
        box.setIconPixmap(icon("logo").pixmap(56, 56))
        box.open()
        return box
