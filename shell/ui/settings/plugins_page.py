"""插件: every plugin the loader saw (loaded, disabled, failed with its error) and the switch that
disables one on this desktop (stored in config.json, effective after a restart)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout

from shell.plugins import FAILED, plugin_status
from shell.ui.settings._common import ERROR_STYLE, OK_STYLE, Page, note

COLUMNS = ("启用", "名称", "标题", "版本", "来源", "状态", "错误")


class PluginsPage(Page):
    def __init__(self, app_ctx, config, settings=None):
        super().__init__(app_ctx, config, settings)
        self.can_manage = self.actor.can("core.plugins.manage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        intro = "取消勾选“启用”即在本机停用该插件；停用不会删除插件的数据，重新启动街道工作台后生效。"
        if not self.can_manage:
            intro = "您没有“启用或停用插件”权限，只能查看插件状态。"
        layout.addWidget(note(intro, self))

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("plugins-table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for i in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.status = note("", self)
        self.status.setObjectName("plugins-status")
        layout.addWidget(self.status)
        self._fill()
        self.table.itemChanged.connect(self._toggled)

    def _fill(self) -> None:
        pm = self.app_ctx.plugin_manager
        rows = plugin_status(pm) if pm is not None else []
        disabled = set(self.config.disabled_plugins)
        self.table.setRowCount(len(rows))
        for r, st in enumerate(rows):
            check = QTableWidgetItem()
            flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
            if self.can_manage:
                flags |= Qt.ItemFlag.ItemIsUserCheckable
            check.setFlags(flags)
            check.setCheckState(Qt.CheckState.Unchecked if st.name in disabled else Qt.CheckState.Checked)
            check.setData(Qt.ItemDataRole.UserRole, st.name)
            self.table.setItem(r, 0, check)
            values = (st.name, st.title, st.version, st.source, st.state_label, st.error)
            for c, value in enumerate(values, start=1):
                item = QTableWidgetItem(value or "")
                item.setToolTip(value or "")
                if st.state == FAILED and c in (5, 6):
                    item.setForeground(QBrush(QColor("#c0392b")))
                self.table.setItem(r, c, item)
        if not rows:
            self.status.setText("没有加载任何插件。")

    def row_texts(self) -> list[list[str]]:
        """What the table shows, row by row (used by tests and by copy-to-clipboard)."""
        return [[self.table.item(r, c).text() for c in range(1, len(COLUMNS))] for r in range(self.table.rowCount())]

    def _toggled(self, item: QTableWidgetItem) -> None:
        if item.column() != 0 or not self.can_manage:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        disabled = [n for n in self.config.disabled_plugins if n != name]
        if item.checkState() == Qt.CheckState.Unchecked:
            disabled.append(name)
        self.config.disabled_plugins = sorted(disabled)
        try:
            self.config.save()
        except OSError as exc:
            self.status.setStyleSheet(ERROR_STYLE)
            self.status.setText(f"无法保存本机配置：{exc}")
            return
        self.status.setStyleSheet(OK_STYLE)
        state = "停用" if name in disabled else "启用"
        self.status.setText(f"已保存：插件“{name}”将在重新启动街道工作台后{state}。")
