"""The settings dialog: database, plugins, users and roles, areas, rules, holidays, audit log.

Pages are built on first open, so opening the dialog costs one page, not six. A page the actor may
not use is not listed at all; the services check permissions again (hiding is not security)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from shell.config import LocalConfig
from shell.core.context import AppContext


@dataclass(frozen=True)
class SettingsPage:
    id: str
    title: str
    icon: QStyle.StandardPixmap
    permission: str | None          # None: every logged-in user sees it (editing may still need one)
    factory: Callable[..., QWidget]


def _plugin_pages(app_ctx: AppContext) -> list[SettingsPage]:
    """The plugins' pages (``register_settings_pages``), after the core's, by order then title."""
    from shell.contracts import PageSpec
    from shell.plugins import call_each

    if app_ctx.plugin_manager is None:
        return []
    specs = [spec for _plugin, spec in call_each(app_ctx.plugin_manager, "register_settings_pages", ctx=app_ctx)
             if isinstance(spec, PageSpec)]
    out = []
    for spec in sorted(specs, key=lambda s: (s.order, s.title)):
        icon = getattr(QStyle.StandardPixmap, spec.icon, QStyle.StandardPixmap.SP_FileDialogListView)

        def factory(ctx, _config, dialog, spec=spec):
            return spec.factory(ctx, dialog)
        out.append(SettingsPage(spec.id, spec.title, icon, spec.permission, factory))
    return out


def _pages() -> list[SettingsPage]:
    # Imported here so that importing the dialog does not import every page module.
    from shell.ui.settings.areas_page import AreasPage
    from shell.ui.settings.audit_page import AuditPage
    from shell.ui.settings.database_page import DatabasePage
    from shell.ui.settings.holidays_page import HolidaysPage
    from shell.ui.settings.plugins_page import PluginsPage
    from shell.ui.settings.reports_page import ReportsPage
    from shell.ui.settings.rules_page import RulesPage
    from shell.ui.settings.users_page import UsersPage

    sp = QStyle.StandardPixmap
    return [
        SettingsPage("database", "数据库", sp.SP_DriveHDIcon, None, DatabasePage),
        SettingsPage("plugins", "插件", sp.SP_FileDialogDetailedView, None, PluginsPage),
        SettingsPage("users", "用户与角色", sp.SP_DirHomeIcon, "core.user.manage", UsersPage),
        SettingsPage("areas", "辖区", sp.SP_DirIcon, "core.area.view", AreasPage),
        SettingsPage("rules", "规则与参数", sp.SP_FileDialogContentsView, None, RulesPage),
        SettingsPage("holidays", "节假日安排", sp.SP_FileDialogListView, None, HolidaysPage),
        SettingsPage("reports", "报表", sp.SP_FileIcon, None, ReportsPage),
        SettingsPage("audit", "审计日志", sp.SP_FileDialogInfoView, "core.audit.view", AuditPage),
    ]


class SettingsDialog(QDialog):
    """``on_database_changed(url)`` is called after the user saved another database (or restored
    a backup): the main window reconnects and reloads."""

    def __init__(self, app_ctx: AppContext, config: LocalConfig, parent: QWidget | None = None,
                 on_database_changed: Callable[[str], None] | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.config = config
        self.on_database_changed = on_database_changed
        self.setObjectName("settings-dialog")
        self.setWindowTitle("设置")
        self.resize(1080, 700)
        self.setMinimumSize(860, 560)

        self.nav = QListWidget(self)
        self.nav.setObjectName("settings-nav")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setFixedWidth(168)
        self.nav.setSpacing(2)
        self.stack = QStackedWidget(self)
        self.heading = QLabel(self)
        self.heading.setObjectName("settings-heading")
        self.heading.setStyleSheet("font-size: 16px; font-weight: bold; padding: 2px 0 6px 0;")

        right = QVBoxLayout()
        right.addWidget(self.heading)
        right.addWidget(self.stack, 1)
        body = QHBoxLayout()
        body.addWidget(self.nav)
        body.addLayout(right, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addLayout(body, 1)
        outer.addWidget(buttons)

        pages = _pages()
        pages[-1:-1] = [p for p in _plugin_pages(app_ctx) if p.id not in {q.id for q in pages}]   # before 审计日志
        self._specs = [p for p in pages if p.permission is None or app_ctx.actor.can(p.permission)]
        self._built: dict[str, QWidget] = {}
        for spec in self._specs:
            item = QListWidgetItem(self.style().standardIcon(spec.icon), spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.id)
            item.setSizeHint(QSize(150, 34))
            self.nav.addItem(item)
            holder = QWidget()
            holder.setLayout(QVBoxLayout())
            holder.layout().setContentsMargins(0, 0, 0, 0)
            self.stack.addWidget(holder)
        self.nav.currentRowChanged.connect(self._show_row)
        if self._specs:
            self.nav.setCurrentRow(0)

    def page_ids(self) -> list[str]:
        """The pages this actor sees, in order."""
        return [s.id for s in self._specs]

    def page(self, page_id: str) -> QWidget | None:
        """The built page, or None if it has not been opened yet (or is hidden)."""
        return self._built.get(page_id)

    def open_page(self, page_id: str) -> QWidget:
        ids = self.page_ids()
        if page_id not in ids:
            raise KeyError(f"设置页“{page_id}”不存在或当前用户无权查看")
        self.nav.setCurrentRow(ids.index(page_id))
        return self._built[page_id]

    def _show_row(self, row: int) -> None:
        if row < 0:
            return
        spec = self._specs[row]
        holder = self.stack.widget(row)
        if spec.id not in self._built:
            page = spec.factory(self.app_ctx, self.config, self)
            page.setObjectName(f"settings-page-{spec.id}")
            holder.layout().addWidget(page)
            self._built[spec.id] = page
        self.heading.setText(spec.title)
        self.stack.setCurrentIndex(row)

    def database_changed(self, url: str) -> None:
        """Pages call this after saving or restoring a database."""
        if self.on_database_changed is not None:
            self.on_database_changed(url)
