"""党员中心户的联系户: a plain list of households (name / address, one per line) and links to
household records of the grid plugin. Those are found through the shell's search hook and opened
through the ``open_record`` hook — this plugin never imports the grid plugin."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from shell.errors import JiedaoError
from shell.ui.widgets import SearchBox

from .. import services as svc
from .common import PlainTable

KIND_LABELS = {"grid.household": "网格住户档案", "grid.person": "网格人口档案（户主）"}


class HouseholdsDialog(QDialog):
    def __init__(self, app_ctx, org_id: int, parent=None):
        super().__init__(parent)
        self.app_ctx, self.org_id = app_ctx, org_id
        self.setObjectName("pb-households")
        self.links: list[tuple[int, str, int, str]] = []   # (link id, kind, record id, label)
        with app_ctx.service(commit=False) as ctx:
            org = svc.get_org(ctx, org_id)
            name, text = org.name, org.households or ""
        self.setWindowTitle(f"联系户：{name}")
        self.resize(760, 620)
        can = app_ctx.actor.can(svc.ORG_MANAGE)
        self.lines = QPlainTextEdit(text)
        self.lines.setPlaceholderText("每行一户，如：3号楼2单元301室 王大爷家")
        self.lines.setReadOnly(not can)
        self.save_button = QPushButton("保存名单")
        self.save_button.clicked.connect(self.save_lines)
        self.save_button.setEnabled(can)
        self.message = QLabel()
        self.message.setObjectName("pb-households-message")
        self.message.setWordWrap(True)
        self.table = PlainTable(["联系户", "档案类别"])
        self.open_button = QPushButton("打开档案")
        self.open_button.clicked.connect(self.open_selected)
        self.unlink_button = QPushButton("移除关联")
        self.unlink_button.clicked.connect(self.unlink_selected)
        self.unlink_button.setEnabled(can)
        self.search = SearchBox(self, placeholder="在网格档案中查找住户或户主：姓名、地址")
        self.search.search.connect(self.find)
        self.results = QListWidget()
        self.results.setMaximumHeight(120)
        self.link_button = QPushButton("关联所选住户")
        self.link_button.clicked.connect(self.link_selected)
        self.link_button.setEnabled(can)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        close.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("联系户名单（纸质台账同步登记）："))
        lay.addWidget(self.lines, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.save_button)
        lay.addLayout(row)
        lay.addWidget(QLabel("关联的网格住户档案："))
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.unlink_button)
        row.addStretch(1)
        lay.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        row.addWidget(self.link_button)
        lay.addLayout(row)
        lay.addWidget(self.results)
        lay.addWidget(self.message)
        lay.addWidget(close)
        self.reload()

    def reload(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            self.links = [(x.id, x.record_kind, x.record_id, x.label) for x in svc.household_links(ctx, self.org_id)]
        self.table.set_rows([(label, KIND_LABELS.get(kind, kind)) for _i, kind, _r, label in self.links],
                            data=[i for i, *_ in self.links])

    def save_lines(self) -> bool:
        try:
            with self.app_ctx.service() as ctx:
                svc.set_households(ctx, self.org_id, self.lines.toPlainText().splitlines())
        except JiedaoError as exc:
            self.message.setText(exc.message)
            return False
        self.message.setText("名单已保存。")
        return True

    def find(self, text: str) -> None:
        """Ask every plugin's search hook; keep the household records (the grid plugin answers them)."""
        from shell.plugins import call_each

        self.results.clear()
        if not text.strip():
            return
        found = [r for _n, r in call_each(self.app_ctx.plugin_manager, "register_search", ctx=self.app_ctx, text=text)
                 if r.kind in svc.LINKABLE_KINDS]
        for r in found:
            item = QListWidgetItem(f"{r.title}　{r.subtitle}".strip())
            item.setData(Qt.ItemDataRole.UserRole, (r.kind, r.id, r.title))
            self.results.addItem(item)
        self.message.setText("" if found else f"网格档案中没有找到“{text}”的住户（或网格插件未启用）。")

    def link_selected(self) -> bool:
        item = self.results.currentItem()
        if item is None:
            self.message.setText("请先查找并选择一户。")
            return False
        kind, record_id, title = item.data(Qt.ItemDataRole.UserRole)
        try:
            with self.app_ctx.service() as ctx:
                svc.link_household(ctx, self.org_id, kind, record_id, title)
        except JiedaoError as exc:
            self.message.setText(exc.message)
            return False
        self.message.setText(f"已关联“{title}”。")
        self.reload()
        return True

    def _selected_link(self):
        row = self.table.currentRow()
        return self.links[row] if 0 <= row < len(self.links) else None

    def open_selected(self) -> bool:
        link = self._selected_link()
        if link is None:
            return False
        pm = self.app_ctx.plugin_manager
        handled = bool(pm is not None and pm.hook.open_record(ctx=self.app_ctx, kind=link[1], id=link[2]))
        if not handled:
            self.message.setText(f"无法打开“{link[3]}”的档案：网格插件未启用，或没有查看该档案的权限。")
        return handled

    def unlink_selected(self) -> bool:
        link = self._selected_link()
        if link is None:
            return False
        try:
            with self.app_ctx.service() as ctx:
                svc.unlink_household(ctx, link[0])
        except JiedaoError as exc:
            self.message.setText(exc.message)
            return False
        self.reload()
        return True
