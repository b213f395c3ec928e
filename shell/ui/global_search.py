"""The search field in the main window's tool bar: every plugin's ``register_search`` results (and
the core's areas) in one drop-down list; choosing one opens it through ``open_record``.

Searching runs on the thread pool (``run_in_pool``), and a slow answer to an older query never replaces a newer one."""
from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from shell.contracts import SearchResult
from shell.ui.tasks import run_in_pool
from shell.ui.widgets.search_box import SearchBox

log = logging.getLogger(__name__)
MAX_RESULTS = 50
RESULT_ROLE = Qt.ItemDataRole.UserRole


def run_search(app_ctx, text: str) -> list[SearchResult]:
    """Core areas first, then each plugin's results (a failing plugin is skipped by call_each)."""
    from shell.core.areas import search_areas
    from shell.plugins import call_each

    with app_ctx.service(commit=False) as sctx:
        results = list(search_areas(sctx, text, limit=10))
    if app_ctx.plugin_manager is not None:
        results += [r for _p, r in call_each(app_ctx.plugin_manager, "register_search", ctx=app_ctx, text=text)
                    if isinstance(r, SearchResult)]
    return results[:MAX_RESULTS]


class GlobalSearch(QWidget):
    """A search box with a drop-down of results. ``opened(result)`` after a result was opened."""

    opened = Signal(object)

    def __init__(self, app_ctx, open_record: Callable[[SearchResult], None], parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.open_record = open_record
        self._seq = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.box = SearchBox(self, placeholder="搜索：姓名、拼音、身份证号、辖区…")
        self.box.setObjectName("global-search")
        self.box.setMinimumWidth(300)
        self.box.search.connect(self.search)
        layout.addWidget(self.box)

        self.popup = QFrame(self, Qt.WindowType.Popup)
        self.popup.setObjectName("search-popup")
        popup_layout = QVBoxLayout(self.popup)
        popup_layout.setContentsMargins(4, 4, 4, 4)
        self.status = QLabel()
        self.status.setObjectName("search-status")
        popup_layout.addWidget(self.status)
        self.list = QListWidget(self.popup)
        self.list.setObjectName("search-results")
        self.list.itemActivated.connect(self._activate)
        self.list.itemClicked.connect(self._activate)
        popup_layout.addWidget(self.list)

    def search(self, text: str) -> None:
        text = text.strip()
        self._seq += 1
        # One Chinese character is a useful query; one Latin letter or digit is not.
        if not text or (text.isascii() and len(text) < 2):
            self.popup.hide()
            return
        self.status.setText(f"正在搜索“{text}”……")
        self.list.clear()
        self._place_popup()
        seq = self._seq
        run_in_pool(lambda: run_search(self.app_ctx, text), lambda ok, result: self._show_results(seq, result))

    def _place_popup(self) -> None:
        self.popup.resize(max(self.box.width(), 420), 320)
        self.popup.move(self.box.mapToGlobal(self.box.rect().bottomLeft()))
        if not self.popup.isVisible():
            self.popup.show()
            self.box.setFocus()

    def _show_results(self, seq: int, results) -> None:
        if seq != self._seq:
            return  # an answer to an older query
        self.list.clear()
        if isinstance(results, BaseException):
            log.error("全局搜索出错：%s", results)
            self.status.setText(f"搜索出错：{results}")
            return
        if not results:
            self.status.setText("没有找到匹配的记录。")
            return
        more = "（只显示前 50 条，请输入更多字缩小范围）" if len(results) >= MAX_RESULTS else ""
        self.status.setText(f"找到 {len(results)} 条{more}，双击或回车打开：")
        titles = self._plugin_titles()
        for r in results:
            source = "辖区" if r.plugin == "core" else titles.get(r.plugin, r.plugin)
            item = QListWidgetItem(f"{r.title}    {r.subtitle}    [{source}]".rstrip())
            item.setData(RESULT_ROLE, r)
            item.setToolTip(r.subtitle)
            self.list.addItem(item)
        self.list.setCurrentRow(0)

    def _plugin_titles(self) -> dict[str, str]:
        pm = self.app_ctx.plugin_manager
        if pm is None or not hasattr(pm, "jiedao_status"):
            return {}
        from shell.plugins import plugin_status

        return {s.name: s.title or s.name for s in plugin_status(pm)}

    def results(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _activate(self, item: QListWidgetItem) -> None:
        result = item.data(RESULT_ROLE)
        self.popup.hide()
        self.open_record(result)
        self.opened.emit(result)

    def keyPressEvent(self, event) -> None:  # Qt name: ↓ from the box into the list
        if event.key() == Qt.Key.Key_Down and self.popup.isVisible():
            self.list.setFocus()
            return
        super().keyPressEvent(event)
