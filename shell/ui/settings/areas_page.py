"""辖区: the jurisdiction tree 街道 → 社区 → 网格 → 微网格. Add a child (its level follows from the
parent), rename, move (dialog or drag and drop), close with date and reason, reopen. Each edit
carries the version the user saw, so a change made meanwhile on another desktop is never overwritten."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTreeView,
    QVBoxLayout,
)

from shell.clock import local_today
from shell.core import areas as area_service
from shell.core.models import AREA_LEVEL_LABELS
from shell.errors import ConflictError
from shell.ui.errors import confirm
from shell.ui.settings._common import ERROR_STYLE, OK_STYLE, Page, button_row, make_button, note
from shell.ui.widgets.form import FormDialog

COLUMNS = ("名称", "层级", "编码", "设立日期", "状态")
ID_ROLE = Qt.ItemDataRole.UserRole
MIME = "application/x-qstandarditemmodeldatalist"


@dataclass(frozen=True)
class AreaRow:
    id: int
    parent_id: int | None
    name: str
    code: str
    level: str
    path: str
    opened_on: date | None
    closed_on: date | None
    closed_reason: str
    version_id: int
    sort_order: int = 0

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    @property
    def level_label(self) -> str:
        return AREA_LEVEL_LABELS[self.level]


def _tree_order(rows: list[AreaRow]) -> list[AreaRow]:
    """Depth-first, siblings by sort order then creation (paths sort as text: "/10/" < "/2/")."""
    ids = {r.id for r in rows}
    children: dict[int | None, list[AreaRow]] = {}
    for r in rows:
        children.setdefault(r.parent_id if r.parent_id in ids else None, []).append(r)
    out: list[AreaRow] = []
    stack = sorted(children.get(None, []), key=lambda r: (r.sort_order, r.id), reverse=True)
    while stack:
        r = stack.pop()
        out.append(r)
        stack.extend(sorted(children.get(r.id, []), key=lambda c: (c.sort_order, c.id), reverse=True))
    return out


class AreaTree(QTreeView):
    """Drag an area onto its new parent; the page asks, then calls the move service."""

    move_requested = Signal(int, int)  # area id, new parent id

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDropIndicatorShown(True)
        self.viewport().setAcceptDrops(True)

    def dragEnterEvent(self, event):  # Qt API
        if event.mimeData().hasFormat(MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        if event.mimeData().hasFormat(MIME) and self.indexAt(event.position().toPoint()).isValid():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event):
        # The model is never changed by the drop itself: the tree is reloaded after the service ran.
        target = self.indexAt(event.position().toPoint())
        source = self.currentIndex()
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if not target.isValid() or not source.isValid():
            return
        src_id = source.siblingAtColumn(0).data(ID_ROLE)
        dst_id = target.siblingAtColumn(0).data(ID_ROLE)
        if src_id is not None and dst_id is not None and src_id != dst_id:
            self.move_requested.emit(int(src_id), int(dst_id))


class AreaNameDialog(FormDialog):
    """New child (``area`` None) or rename."""

    def __init__(self, page: AreasPage, parent_row: AreaRow | None, level: str, area: AreaRow | None = None):
        what = AREA_LEVEL_LABELS[level]
        if area is not None:
            title, intro = f"重命名{what}", f"修改{what}“{area.name}”的名称或编码。"
        elif parent_row is not None:
            title, intro = f"新增{what}", f"在{parent_row.level_label}“{parent_row.name}”下新增一个{what}。"
        else:
            title, intro = "新增街道", "新增一个顶级辖区（街道或乡镇）。"
        super().__init__(page, title, "area-dialog", intro)
        self.page, self.parent_row, self.level, self.area = page, parent_row, level, area
        self.name = self.form.add("name", "名称", QLineEdit(), required=True)
        self.code = self.form.add("code", "编码", QLineEdit(), hint="可不填；如有统一的辖区编码请填写，导入数据时用它对应辖区")
        self.name.setObjectName("area-name")
        self.code.setObjectName("area-code")
        if area is not None:
            self.name.setText(area.name)
            self.code.setText(area.code)
            self.expected_version = area.version_id
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        if self.area is None:
            ok, result = self.page.call(area_service.create_area, f.value("name"), self.level,
                                        self.parent_row.id if self.parent_row else None,
                                        code=f.value("code") or None, inline=f)
            self.created_id = result.id if ok else None
        else:
            ok, _ = self.call(self._rename)
            if not ok:
                self.page.reload(self.area.id)  # the tree shows what is saved now
        return ok

    def _rename(self):
        with self.page.app_ctx.service() as sctx:
            return area_service.rename_area(sctx, self.area.id, self.form.value("name"), code=self.form.value("code"),
                                            expected_version=self.expected_version)


class MoveDialog(FormDialog):
    """Choose the new parent among the areas one level up (the area's own subtree is not offered)."""

    def __init__(self, page: AreasPage, area: AreaRow, targets: list[tuple[int, str]]):
        super().__init__(page, f"移动{area.level_label}", "move-dialog",
                         f"把{area.level_label}“{area.name}”连同它的下级一起移到另一个上级辖区下。")
        self.targets = self.form.add("parent_id", "新的上级", QListWidget(), required=True)
        self.targets.setObjectName("move-targets")
        self.targets.setMinimumHeight(220)
        for target_id, label in targets:
            item = QListWidgetItem(label)
            item.setData(ID_ROLE, target_id)
            self.targets.addItem(item)
        if not targets:
            self.form.show_errors({"parent_id": "没有可以移入的上级辖区。"})
            self.ok_button.setEnabled(False)
        self.targets.itemDoubleClicked.connect(lambda _i: self._ok())
        self.finish_layout()

    def chosen(self) -> int | None:
        item = self.targets.currentItem()
        return item.data(ID_ROLE) if item is not None else None

    def submit(self) -> bool:
        if self.chosen() is None:
            self.form.show_errors({"parent_id": "请选择新的上级辖区。"})
            return False
        return True


class CloseDialog(FormDialog):
    def __init__(self, page: AreasPage, area: AreaRow):
        super().__init__(page, f"撤销{area.level_label}", "close-dialog",
                         f"撤销{area.level_label}“{area.name}”：它将不再出现在日常列表中，历史记录保留。")
        self.page, self.area = page, area
        self.closed_on = self.form.add("closed_on", "撤销日期", QDateEdit(), required=True)
        self.closed_on.setCalendarPopup(True)
        self.closed_on.setDisplayFormat("yyyy-MM-dd")
        self.closed_on.setDate(QDate(local_today()))
        self.reason = self.form.add("reason", "撤销原因", QLineEdit(), required=True)
        self.reason.setPlaceholderText("例如：区划调整，并入××社区")
        self.closed_on.setObjectName("close-date")
        self.reason.setObjectName("close-reason")
        self.finish_layout()

    def submit(self) -> bool:
        ok, _ = self.page.call(area_service.close_area, self.area.id, closed_on=self.form.value("closed_on"),
                               reason=self.form.value("reason"), expected_version=self.area.version_id,
                               inline=self.form)
        return ok


class AreasPage(Page):
    def __init__(self, app_ctx, config, settings=None):
        super().__init__(app_ctx, config, settings)
        self.can_manage = self.actor.can("core.area.manage")
        self.rows: dict[int, AreaRow] = {}

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(COLUMNS)
        self.tree = AreaTree(self)
        self.tree.setObjectName("areas-tree")
        self.tree.setModel(self.model)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)  # thousands of grids stay fast
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        if not self.can_manage:
            self.tree.setDragDropMode(QAbstractItemView.DragDropMode.NoDragDrop)
        self.tree.move_requested.connect(self.move_to)
        self.tree.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self.tree.doubleClicked.connect(lambda _i: self.rename() if self.can_manage else None)

        self.show_closed = QCheckBox("显示已撤销的辖区", self)
        self.show_closed.setObjectName("areas-show-closed")
        self.show_closed.toggled.connect(lambda _on: self._rebuild(self._selected_id()))
        self.add_button = make_button("新增下级…", "area-add", self.add_child, self)
        self.rename_button = make_button("重命名…", "area-rename", self.rename, self)
        self.move_button = make_button("移动…", "area-move", self.move, self)
        self.close_button = make_button("撤销…", "area-close", self.close_area, self)
        self.reopen_button = make_button("恢复", "area-reopen", self.reopen, self)
        self.summary = QLabel(self)
        self.summary.setObjectName("areas-summary")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if self.can_manage:
            layout.addLayout(button_row(self.add_button, self.rename_button, self.move_button, self.close_button,
                                        self.reopen_button))
            layout.addWidget(note("提示：也可以把辖区拖到新的上级辖区上来调整归属。", self))
        else:
            for b in (self.add_button, self.rename_button, self.move_button, self.close_button, self.reopen_button):
                b.hide()
            layout.addWidget(note("您没有“管理辖区”权限，只能查看辖区结构。", self))
        layout.addWidget(self.tree, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.show_closed)
        bottom.addStretch(1)
        bottom.addWidget(self.summary)
        layout.addLayout(bottom)
        self.status = note("", self)
        self.status.setObjectName("areas-status")
        layout.addWidget(self.status)
        self.reload()

    # --- loading ----------------------------------------------------------------------------------------
    def reload(self, select_id: int | None = None) -> None:
        def load(sctx):
            return [AreaRow(a.id, a.parent_id, a.name, a.code or "", a.level, a.path, a.opened_on, a.closed_on,
                            a.closed_reason or "", a.version_id, a.sort_order or 0)
                    for a in area_service.visible_areas(sctx, include_closed=True)]

        self.rows = {r.id: r for r in _tree_order(self.read(load))}
        self._rebuild(select_id if select_id is not None else self._selected_id())

    def _rebuild(self, select_id: int | None = None) -> None:
        self.model.removeRows(0, self.model.rowCount())
        show_closed = self.show_closed.isChecked()
        items: dict[int, QStandardItem] = {}
        grey = QBrush(QColor("#9a9a9a"))
        open_count = {lvl: 0 for lvl in AREA_LEVEL_LABELS}
        for row in self.rows.values():  # ordered by path: parents come before children
            if row.is_open:
                open_count[row.level] += 1
            elif not show_closed:
                continue
            status = "在用" if row.is_open else f"已撤销（{row.closed_on}）"
            cells = [QStandardItem(v) for v in (row.name, row.level_label, row.code,
                                                str(row.opened_on or ""), status)]
            cells[0].setData(row.id, ID_ROLE)
            if not row.is_open:
                for c in cells:
                    c.setForeground(grey)
                    c.setToolTip(f"撤销原因：{row.closed_reason or '（未填写）'}")
            parent = items.get(row.parent_id) if row.parent_id is not None else None
            if parent is None and row.parent_id is not None and row.parent_id in self.rows:
                continue  # parent hidden (closed): its closed children stay hidden with it
            (parent or self.model.invisibleRootItem()).appendRow(cells)
            items[row.id] = cells[0]
        self._items = items
        if len(items) <= 800:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(0)
        self.summary.setText("　".join(f"{AREA_LEVEL_LABELS[lvl]} {n} 个" for lvl, n in open_count.items() if n))
        if select_id is not None and select_id in items:
            self.select_area(select_id)
        self._selected()

    # --- selection --------------------------------------------------------------------------------------
    def select_area(self, area_id: int) -> None:
        index = self._items[area_id].index()
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index)

    def find_id(self, name: str) -> int:
        """The id of the (first) area with this name, open ones first."""
        for row in sorted(self.rows.values(), key=lambda r: not r.is_open):
            if row.name == name:
                return row.id
        raise KeyError(name)

    def child_names(self, area_id: int | None) -> list[str]:
        """Names shown directly under ``area_id`` (None: top level) — what the user sees in the tree."""
        parent = self.model.invisibleRootItem() if area_id is None else self._items[area_id]
        return [parent.child(i, 0).text() for i in range(parent.rowCount())]

    def _selected_id(self) -> int | None:
        index = self.tree.currentIndex()
        if not index.isValid():
            return None
        value = index.siblingAtColumn(0).data(ID_ROLE)
        return int(value) if value is not None else None

    def selected(self) -> AreaRow | None:
        area_id = self._selected_id()
        return self.rows.get(area_id) if area_id is not None else None

    def _selected(self) -> None:
        row = self.selected()
        is_open = row is not None and row.is_open
        can_add = (row is None and self.actor.is_superuser) or (
            is_open and area_service.child_level(row.level) is not None)
        self.add_button.setEnabled(can_add)
        if row is None:
            self.add_button.setText("新增街道…" if self.actor.is_superuser else "新增下级…")
        else:
            child = area_service.child_level(row.level)
            self.add_button.setText(f"新增{AREA_LEVEL_LABELS[child]}…" if child else "新增下级…")
        self.rename_button.setEnabled(is_open)
        self.move_button.setEnabled(is_open and row.parent_id is not None)
        self.close_button.setEnabled(is_open)
        self.reopen_button.setEnabled(row is not None and not row.is_open)

    def _say(self, text: str, ok: bool = True) -> None:
        self.status.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.status.setText(text)

    def _after_error(self, result) -> None:
        if isinstance(result, ConflictError):
            self.reload()  # show what the other desktop saved

    # --- actions ----------------------------------------------------------------------------------------
    def add_child(self) -> None:
        parent = self.selected()
        if parent is None:
            if not self.actor.is_superuser:
                return
            level = "street"
        else:
            level = area_service.child_level(parent.level)
            if level is None:
                return
        dialog = AreaNameDialog(self, parent, level)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.reload(dialog.created_id)
            self._say(f"已新增{AREA_LEVEL_LABELS[level]}“{dialog.form.value('name')}”。")

    def rename(self) -> None:
        row = self.selected()
        if row is None or not row.is_open:
            return
        dialog = AreaNameDialog(self, None, row.level, row)
        result = dialog.exec()
        self.reload(row.id)
        if result == QDialog.DialogCode.Accepted:
            self._say(f"已把“{row.name}”改名为“{dialog.form.value('name')}”。")

    def move_targets(self, row: AreaRow) -> list[tuple[int, str]]:
        """Open areas one level up, outside ``row``'s own subtree, other than its current parent."""
        out = []
        for t in self.rows.values():
            if (t.is_open and area_service.child_level(t.level) == row.level and t.id != row.parent_id
                    and not t.path.startswith(row.path)):
                out.append((t.id, self.full_name(t)))
        return out

    def full_name(self, row: AreaRow) -> str:
        ids = [int(x) for x in row.path.strip("/").split("/") if x]
        return " / ".join(self.rows[i].name for i in ids if i in self.rows)

    def move(self) -> None:
        row = self.selected()
        if row is None or row.parent_id is None:
            return
        dialog = MoveDialog(self, row, self.move_targets(row))
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.move_to(row.id, dialog.chosen())

    def move_to(self, area_id: int, new_parent_id: int) -> None:
        row, target = self.rows.get(area_id), self.rows.get(new_parent_id)
        if row is None or target is None or row.parent_id == new_parent_id:
            return
        moving = sum(1 for r in self.rows.values() if r.path.startswith(row.path))
        if moving > 1:
            what = f"{row.level_label}“{row.name}”及其下 {moving - 1} 个辖区（共 {moving} 个）"
        else:
            what = f"{row.level_label}“{row.name}”（共 1 个辖区）"
        if not confirm(self, "移动辖区", f"将把{what}移到{target.level_label}“{target.name}”下。\n"
                                       "挂在这些辖区上的各项记录随之归入新的上级。确定移动吗？"):
            return
        ok, result = self.call(area_service.move_area, area_id, new_parent_id, expected_version=row.version_id)
        if ok:
            self.reload(area_id)
            self._say(f"已把“{row.name}”移到“{target.name}”下，共移动 {result} 个辖区。")
        else:
            self._after_error(result)

    def close_area(self) -> None:
        row = self.selected()
        if row is None or not row.is_open:
            return
        dialog = CloseDialog(self, row)
        result = dialog.exec()
        self.reload(row.id)
        if result == QDialog.DialogCode.Accepted:
            self._say(f"已撤销“{row.name}”。勾选“显示已撤销的辖区”可以查看它。")

    def reopen(self) -> None:
        row = self.selected()
        if row is None or row.is_open:
            return
        if not confirm(self, "恢复辖区", f"恢复已撤销的{row.level_label}“{row.name}”吗？"):
            return
        ok, result = self.call(area_service.reopen_area, row.id)
        self.reload(row.id)
        if ok:
            self._say(f"已恢复“{row.name}”。")
