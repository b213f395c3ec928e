"""我的待办 on the 首页: what is waiting for the user, each line a link to the page that shows exactly
those records (``register_todo``; shell/core/todo.py collects). Counted off the GUI thread."""
from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from shell.contracts import TodoItem
from shell.core.todo import TodoList, collect_todo

log = logging.getLogger(__name__)


class TodoPanel(QFrame):
    """The list, "正在统计待办…" while counting, "目前没有待办事项。" when there is none."""

    loaded = Signal()

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("tile")
        self.app_ctx = app_ctx
        self.todo: TodoList | None = None
        self.buttons: list[QPushButton] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 14)
        layout.setSpacing(8)
        title = QLabel("我的待办")
        title.setObjectName("tile-title")
        layout.addWidget(title)
        self.message = QLabel("正在统计待办…")
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(24)
        self.grid.setVerticalSpacing(4)
        layout.addLayout(self.grid)
        self.refresh()

    def refresh(self) -> None:
        from shell.ui.tasks import run_in_pool

        ctx = self.app_ctx
        run_in_pool(lambda: collect_todo(ctx.plugin_manager, ctx.session_factory, ctx.actor), self._loaded)

    def _loaded(self, ok: bool, result) -> None:
        try:
            self.objectName()
        except RuntimeError:  # the 首页 was closed (log-out) while counting
            return
        if not ok:
            from shell.ui.errors import error_text

            log.error("待办统计失败：%s", result)
            self.message.setText("待办暂时无法统计：" + error_text(result)[1])
            self.message.setObjectName("inline-error")
            self.message.style().polish(self.message)
            self.loaded.emit()
            return
        self.todo = result
        self._show(result)
        self.loaded.emit()

    def _show(self, todo: TodoList) -> None:
        for b in self.buttons:
            b.deleteLater()
        self.buttons = []
        if not todo.items:
            self.message.setText("目前没有待办事项。")
        else:
            self.message.setText(f"共 {todo.total} 项等您办理，点一项打开对应的列表：")
        if todo.failed:
            self.message.setText(self.message.text() + f"（{'、'.join(todo.failed)} 的待办暂时无法统计）")
        columns = 2
        for i, (_plugin, item) in enumerate(todo.items):
            button = QPushButton(self.item_text(item))
            button.setObjectName("todo-overdue" if item.overdue else "todo-item")
            button.setFlat(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setStyleSheet("QPushButton { text-align: left; padding: 3px 6px; border: none; color: %s; }"
                                 "QPushButton:hover { text-decoration: underline; }"
                                 % ("#b42318" if item.overdue else "#1f6fb2"))
            button.setProperty("todo_id", item.id)
            button.clicked.connect(lambda _checked=False, it=item: self.open_item(it))
            self.grid.addWidget(button, i // columns, i % columns)
            self.buttons.append(button)

    @staticmethod
    def item_text(item: TodoItem) -> str:
        text = f"{item.title}  {item.count} {item.unit}"
        if item.overdue:
            text += f"（超期 {item.overdue} {item.unit}）"
        return text

    def open_item(self, item: TodoItem) -> QWidget | None:
        """Open the item's page and show the records it counted."""
        open_page = self.app_ctx.extras.get("open_page")
        if open_page is None or not item.page:
            return None
        page = open_page(item.page)
        show = getattr(page, "show_filtered", None)
        if callable(show):
            show(**dict(item.filter))
        return page
