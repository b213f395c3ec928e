"""One list page for every list (issue 17 §2): search box, a filter row the page fills, the count,
the lazy table, open on double-click or Enter, 导出 Excel and 打印 of exactly what is shown, and the
user's column widths and last filter remembered.

A page subclasses ``ListPage`` and gives its columns (``shell.core.list_output.ListColumn``) and
``build_listing(text)`` — the service's ``Listing`` for the search text and the page's own filters —
then calls ``start()`` once its filters are added:

    class ResidentsPage(ListPage):
        def __init__(self, app_ctx, parent=None):
            super().__init__(app_ctx, "grid.residents", "实有人口", COLUMNS, count_unit="人", parent=parent)
            self.add_choice_filter("kind", "类别", [("户籍人口", "household"), …])
            self.start()

        def build_listing(self, text):
            return svc.persons_listing(self.app_ctx.actor, text, kind=self.filter_value("kind"))

Export and print run on the thread pool (``run_task``: progress and 取消) through
``shell.core.list_output`` (permission ``core.data.export``, scope from the listing, masking, one
audit entry); the buttons are shown only to holders of that permission. The main window's Ctrl+E /
Ctrl+P / F5 / Ctrl+F call ``page_export`` / ``page_print`` / ``page_refresh`` / ``page_search``."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shell.core.list_output import ListColumn, ListRequest
from shell.core.listing import Listing
from shell.core.transfer import EXPORT_PERMISSION
from shell.errors import JiedaoError
from shell.ui.widgets.lazy_table import CENTER, LEFT, RIGHT, Column, LazyTableModel
from shell.ui.widgets.search_box import PLACEHOLDER, SearchBox

SAVE_PREFS_MS = 400       # column widths are saved once the user stops dragging


@dataclass
class ListFilter:
    """One filter of the page: ``get()`` its value (JSON-able; remembered per user), ``set(value)``
    restores it, ``text()`` says it in words for the printed header and the audit ("" when it does
    not narrow the list)."""

    key: str
    label: str
    get: Callable[[], Any]
    set: Callable[[Any], None]
    text: Callable[[], str]


class ListPage(QWidget):
    """The shared list page; see the module docstring. ``count_unit`` is what the count label counts
    ("人" → 共 12 人, "名志愿者" → 共 12 名志愿者), ``print_unit`` what the printed total counts."""

    exported = Signal(str)        # the workbook's path, after a successful export
    printed_preview = Signal(str)  # the PDF's path, once the preview shows it

    def __init__(self, app_ctx, page_id: str, title: str, columns: Sequence[ListColumn], *,
                 count_unit: str = "条", print_unit: str | None = None, placeholder: str = PLACEHOLDER,
                 page_size: int = 200, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.page_id = page_id
        self.list_title = title
        self.list_columns = list(columns)
        self.count_unit = count_unit
        self.print_unit = print_unit or (count_unit if len(count_unit) == 1 else "条")
        self.filters: dict[str, ListFilter] = {}
        self.task = None              # the running or last export/print (tests wait on it)
        self.preview_dialog: ListPreviewDialog | None = None
        self._started = False
        self._restoring = False
        actor = app_ctx.actor
        self.can_export = actor.can(EXPORT_PERMISSION)
        self._prefs = None
        if actor.user_id is not None:
            from shell.config import UserPrefs

            self._prefs = UserPrefs(actor.username)

        self.search = SearchBox(self, placeholder=placeholder)
        self.search.setObjectName("list-search")
        self.count_label = QLabel(self)
        self.count_label.setObjectName("list-count")
        self.export_button = QPushButton("导出 Excel", self)
        self.export_button.setObjectName("list-export")
        self.export_button.setToolTip("把当前筛选出的全部记录导出为 Excel（Ctrl+E）")
        self.export_button.clicked.connect(self.page_export)
        self.print_button = QPushButton("打印…", self)
        self.print_button.setObjectName("list-print")
        self.print_button.setToolTip("把当前筛选出的全部记录打印成台账，先预览（Ctrl+P）")
        self.print_button.clicked.connect(self.page_print)
        self.export_button.setVisible(self.can_export)
        self.print_button.setVisible(self.can_export)
        self.tool_row = QHBoxLayout()
        self.tool_row.addWidget(self.search, 1)
        self.tool_row.addWidget(self.count_label)
        self._actions_at = self.tool_row.count()
        self.tool_row.addWidget(self.export_button)
        self.tool_row.addWidget(self.print_button)

        self.filter_bar = QWidget(self)
        self.filter_bar.setObjectName("list-filters")
        self.filter_row = QHBoxLayout(self.filter_bar)
        self.filter_row.setContentsMargins(0, 0, 0, 0)
        self.filter_row.addStretch(1)
        self.filter_bar.hide()

        self.message = QLabel(self)
        self.message.setObjectName("inline-error")
        self.message.setWordWrap(True)
        self.message.hide()
        from shell.ui.files import SavedNotice

        self.saved_notice = SavedNotice(self)

        self.model = LazyTableModel(app_ctx.session_factory, [self._table_column(c) for c in self.list_columns],
                                    page_size=page_size, parent=self)
        self.model.count_changed.connect(self._show_count)
        self.table = QTableView(self)
        self.table.setObjectName("list-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        for i, c in enumerate(self.list_columns):
            if c.width:
                header.resizeSection(i, c.width)
        self.table.doubleClicked.connect(lambda index: self.open_row(index.row()))
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.open_current)
        self._width_timer = QTimer(self)
        self._width_timer.setSingleShot(True)
        self._width_timer.setInterval(SAVE_PREFS_MS)
        self._width_timer.timeout.connect(self.save_prefs)
        header.sectionResized.connect(lambda *_: self._started and not self._restoring and self._width_timer.start())

        self.list_area = QWidget(self)
        area = QVBoxLayout(self.list_area)
        area.setContentsMargins(0, 0, 0, 0)
        area.addLayout(self.tool_row)
        area.addWidget(self.filter_bar)
        area.addWidget(self.message)
        area.addWidget(self.saved_notice)
        area.addWidget(self.table, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.list_area)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self.search.search.connect(lambda _text: self.refresh_list())

    # --- what the page gives ---------------------------------------------------------------------
    def build_listing(self, text: str) -> Listing:
        """The service's listing for ``text`` and the page's filters (``filter_value``)."""
        raise NotImplementedError

    def open_record(self, record: Any) -> Any:
        """Open ``record`` (a row as the columns read it); a page without a record window leaves it."""
        return None

    # --- building the page ---------------------------------------------------------------------------
    def add_action(self, button: QPushButton) -> QPushButton:
        """A button of the page's own (登记…) in the tool row, before 导出 Excel."""
        button.setParent(self)
        self.tool_row.insertWidget(self._actions_at, button)
        self._actions_at += 1
        return button

    def add_side(self, widget: QWidget, left: bool = True, sizes: Sequence[int] | None = None) -> None:
        """A panel beside the list (an area tree on the left, a record card on the right)."""
        self.splitter.insertWidget(0 if left else self.splitter.count(), widget)
        self.splitter.setStretchFactor(self.splitter.indexOf(self.list_area), 1)
        if sizes:
            self.splitter.setSizes(list(sizes))

    def add_filter(self, key: str, label: str, *, get: Callable[[], Any], set: Callable[[Any], None],
                   text: Callable[[], str], changed=None, widgets: Sequence[QWidget] = ()) -> ListFilter:
        """Any filter: its value, how to restore it, its words; ``changed`` (a signal) re-runs the list;
        ``widgets`` go into the filter row (a filter kept elsewhere, such as an area tree, has none)."""
        f = ListFilter(key, label, get, set, text)
        self.filters[key] = f
        if widgets:
            at = self.filter_row.count() - 1   # before the stretch
            for w in widgets:
                w.setParent(self.filter_bar)
                self.filter_row.insertWidget(at, w)
                at += 1
            self.filter_bar.show()
        if changed is not None:
            changed.connect(lambda *_: self.refresh_list())
        return f

    def add_choice_filter(self, key: str, label: str, choices: Sequence[tuple[str, Any]],
                          all_text: str = "全部") -> QComboBox:
        """A 状态 / 社区 / 类别 box: ``all_text`` (no filter, value None) then ``choices`` (text, value)."""
        box = QComboBox(self.filter_bar)
        box.setObjectName(f"list-filter-{key}")
        box.addItem(all_text, None)
        for text, value in choices:
            box.addItem(text, value)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

        def restore(value):
            i = box.findData(value)
            box.setCurrentIndex(i if i >= 0 else 0)

        self.add_filter(key, label, get=box.currentData, set=restore,
                        text=lambda: box.currentText() if box.currentIndex() > 0 else "",
                        changed=box.currentIndexChanged, widgets=(QLabel(f"{label}："), box))
        return box

    def add_check_filter(self, key: str, label: str) -> QCheckBox:
        box = QCheckBox(label, self.filter_bar)
        box.setObjectName(f"list-filter-{key}")
        self.add_filter(key, label, get=box.isChecked, set=lambda v: box.setChecked(bool(v)),
                        text=lambda: label if box.isChecked() else "", changed=box.toggled, widgets=(box,))
        return box

    def add_date_range(self, key: str, label: str) -> tuple[QCheckBox, QDateEdit, QDateEdit]:
        """☐ 出生日期 从 … 至 …: off (no filter, value None) until ticked; then [ISO start, ISO end],
        both ends included. The dates start at 1 January of this year and today."""
        from shell.clock import local_today

        today = local_today()
        box = QCheckBox(label, self.filter_bar)
        box.setObjectName(f"list-filter-{key}")
        edits = []
        for name, day in (("from", today.replace(month=1, day=1)), ("to", today)):
            edit = QDateEdit(QDate(day.year, day.month, day.day), self.filter_bar)
            edit.setObjectName(f"list-filter-{key}-{name}")
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            edits.append(edit)
        start, end = edits

        def value():
            if not box.isChecked():
                return None
            return [start.date().toString("yyyy-MM-dd"), end.date().toString("yyyy-MM-dd")]

        def restore(saved):
            ok = isinstance(saved, (list, tuple)) and len(saved) == 2
            if ok:
                for edit, v in zip((start, end), saved, strict=True):
                    d = QDate.fromString(str(v), "yyyy-MM-dd")
                    if d.isValid():
                        edit.setDate(d)
            box.setChecked(bool(ok))

        def words() -> str:
            v = value()
            return f"{v[0]} 至 {v[1]}" if v else ""

        def toggled(on: bool) -> None:
            start.setEnabled(on)
            end.setEnabled(on)

        box.toggled.connect(toggled)
        self.add_filter(key, label, get=value, set=restore, text=words, changed=box.toggled,
                        widgets=(box, start, QLabel("至"), end))
        for edit in edits:
            edit.dateChanged.connect(lambda *_: box.isChecked() and self.refresh_list())
        return box, start, end

    def filter_value(self, key: str) -> Any:
        return self.filters[key].get()

    def start(self) -> None:
        """Restore the user's widths and last filter, then show the first rows."""
        self._restore_prefs()
        self._started = True
        self.refresh_list()

    # --- the list ------------------------------------------------------------------------------------
    def _table_column(self, c: ListColumn) -> Column:
        align = RIGHT if c.kind in ("int", "number") else (CENTER if c.kind == "date" else LEFT)
        return Column(c.title, c.shown, align)

    def _show_count(self, n: int) -> None:
        self.count_label.setText(f"共 {n} {self.count_unit}")

    def refresh_list(self) -> None:
        """Run the list again with the search text and the filters (and remember them)."""
        if not self._started or self._restoring:
            return
        self.message.hide()
        try:
            listing = self.build_listing(self.search.text().strip())
        except JiedaoError as exc:
            self.model.set_query(None)
            self.show_message(exc.message)
            return
        self.listing = listing
        self.model.set_query(listing.query, key_column=listing.key, descending=listing.descending)
        self.save_prefs()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def filters_text(self) -> str:
        """The filter in words: 搜索“张”；社区：和平里社区 — "" when nothing narrows the list."""
        parts = []
        text = self.search.text().strip()
        if text:
            parts.append(f"搜索“{text}”")
        for f in self.filters.values():
            said = f.text()
            if said:
                parts.append(f"{f.label}：{said}")
        return "；".join(parts)

    def list_request(self) -> ListRequest:
        """What is on screen now, for an export or a print (the listing built afresh from the filter)."""
        return ListRequest(self.list_title, self.build_listing(self.search.text().strip()), self.list_columns,
                           self.filters_text(), entity=self.page_id, count_unit=self.print_unit)

    def open_row(self, row: int) -> Any:
        if row < 0 or row >= self.model.rowCount():
            return None
        return self.open_record(self.model.row_object(row))

    def open_current(self) -> Any:
        index = self.table.currentIndex()
        return self.open_row(index.row()) if index.isValid() else None

    # --- the main window's keys ----------------------------------------------------------------------
    def page_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def page_refresh(self) -> None:
        self.model.refresh()

    def page_export(self) -> None:
        """导出 Excel: exactly the filtered rows, on the thread pool; 打开所在文件夹 afterwards."""
        if not self._may_output():
            return
        from shell.ui import files

        path = files.ask_save_path(self, "导出 Excel", f"{self.list_title}.xlsx", "Excel 文件 (*.xlsx)", ".xlsx")
        if path is None:
            return
        try:
            request = self.list_request()
        except JiedaoError as exc:
            self.show_message(exc.message)
            return
        app_ctx = self.app_ctx
        from shell.core.list_output import export_list

        def work(progress):
            from reports import Cancelled
            from shell.ui.tasks import Cancelled as TaskCancelled

            try:
                with app_ctx.service() as ctx:
                    return export_list(ctx, request, path, progress=progress)
            except Cancelled:
                raise TaskCancelled() from None

        def done(count: int) -> None:
            self.saved_notice.show_saved(path, f"已导出 {count} {self.print_unit}到 {path}")
            self.exported.emit(str(path))

        self._run("导出 Excel", work, done, f"正在导出“{self.list_title}”……")

    def page_print(self) -> None:
        """打印: the filtered rows as a ledger PDF (thread pool), shown in the preview to print or save."""
        if not self._may_output():
            return
        try:
            request = self.list_request()
        except JiedaoError as exc:
            self.show_message(exc.message)
            return
        folder = Path(tempfile.mkdtemp(prefix="jiedao-list-"))
        out = folder / f"{self.list_title}.pdf"
        app_ctx = self.app_ctx
        config = app_ctx.extras.get("config")
        font_path = getattr(config, "font_path", None) or None
        state: dict[str, Any] = {}
        from shell.core.list_output import print_list

        def work(progress):
            from reports import Cancelled
            from shell.ui.tasks import Cancelled as TaskCancelled

            handle = state.get("handle")
            try:
                with app_ctx.service() as ctx:
                    return print_list(ctx, request, out, progress=progress, font_path=font_path,
                                      cancel=lambda: handle is not None and handle.cancel_requested)
            except Cancelled:
                raise TaskCancelled() from None

        def done(result) -> None:
            self.preview_dialog = dialog = ListPreviewDialog(self, self.list_title, folder)
            dialog.open()    # shown first, so the preview fits the page to the window's real width
            try:
                dialog.show_pdf(out, result.pages, result.rows, self.print_unit)
            except JiedaoError as exc:
                dialog.close()
                self.preview_dialog = None
                self.show_message(exc.message)
                return
            self.printed_preview.emit(str(out))

        state["handle"] = self._run("打印", work, done, f"正在生成“{self.list_title}”的打印稿……",
                                    on_end=lambda: self.preview_dialog is None and shutil.rmtree(folder, True))

    def _may_output(self) -> bool:
        if self.can_export:
            return True
        self.show_message("您没有“导出数据到 Excel”的权限，不能导出或打印本列表。如需要，请联系系统管理员。")
        return False

    def _run(self, title: str, work, done, label: str, on_end=None):
        from shell.ui.errors import error_text
        from shell.ui.tasks import run_task

        self.message.hide()
        self.saved_notice.clear()
        self.preview_dialog = None

        def failed(exc: BaseException) -> None:
            gap = " " if title[-1].isascii() else ""    # 导出 Excel 失败, 打印失败
            self.show_message(f"{title}{gap}失败：{error_text(exc)[1]}")
            if on_end is not None:
                on_end()

        def cancelled() -> None:
            self.show_message(f"已取消{title}。")
            if on_end is not None:
                on_end()

        self.task = run_task(self, title, work, on_done=done, on_error=failed, on_cancel=cancelled, label=label)
        return self.task

    # --- remembered per user ------------------------------------------------------------------------
    def _prefs_key(self) -> str:
        return f"list.{self.page_id}"

    def save_prefs(self) -> None:
        if self._prefs is None or not self._started or self._restoring:
            return
        header = self.table.horizontalHeader()
        state = {"widths": [header.sectionSize(i) for i in range(len(self.list_columns))],
                 "text": self.search.text().strip(), "filters": {k: f.get() for k, f in self.filters.items()}}
        if state != self._prefs.get(self._prefs_key()):   # the file is written only when something changed
            self._prefs.set(self._prefs_key(), state)

    def _restore_prefs(self) -> None:
        if self._prefs is None:
            return
        saved = self._prefs.get(self._prefs_key())
        if not saved:
            return
        self._restoring = True
        try:
            widths = saved.get("widths") or []
            if len(widths) == len(self.list_columns):
                header = self.table.horizontalHeader()
                for i, w in enumerate(widths):
                    if isinstance(w, int) and w > 0:
                        header.resizeSection(i, w)
            text = saved.get("text") or ""
            if isinstance(text, str) and text:
                self.search.blockSignals(True)
                self.search.setText(text)
                self.search.blockSignals(False)
            for key, value in (saved.get("filters") or {}).items():
                if key in self.filters:
                    try:
                        self.filters[key].set(value)
                    except (KeyError, ValueError, TypeError):  # an area or choice that is gone
                        pass
        finally:
            self._restoring = False

    def clear_filters(self) -> None:
        """Back to the whole list: search emptied, every filter at 全部."""
        self._restoring = True
        try:
            self.search.blockSignals(True)
            self.search.clear()
            self.search.blockSignals(False)
            for f in self.filters.values():
                f.set(None)
        finally:
            self._restoring = False
        self.refresh_list()


class ListPreviewDialog(QDialog):
    """The printed list in the PDF preview (打印… / 另存为…); its temporary folder goes with it."""

    def __init__(self, parent: QWidget, title: str, folder: Path):
        super().__init__(parent)
        from shell.ui.pdf_preview import PdfPreview

        self.setObjectName("list-print-preview")
        self.setWindowTitle(f"打印预览：{title}")
        self.resize(1000, 760)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.preview = PdfPreview(self)
        self.preview.suggested_name = f"{title}.pdf"
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.preview, 1)
        layout.addWidget(buttons)
        self.finished.connect(lambda _r: shutil.rmtree(folder, ignore_errors=True))

    def show_pdf(self, path: Path, pages: int, rows: int, unit: str) -> None:
        self.preview.load(path)
        self.status.setText(f"共 {rows} {unit}，{pages} 页。请在上方点“打印…”送打印机，或“另存为…”保存 PDF。")
