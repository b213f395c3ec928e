"""报表中心: every report the user may run (from ``register_reports``), grouped by plugin and category,
a parameter form built from the report's ``ReportParameter``s, generation on a background thread
with progress and 取消, an in-app preview with print, and save as PDF or Excel.

The main window adds it as a page: ``PageSpec(id="reports", title="报表中心",
factory=lambda ctx, parent=None: ReportCentrePage(ctx, parent), ...)``. All data work goes through
``shell.core.reporting`` (the same code as ``jiedao report``); this module only collects the values
the user typed and shows what came back.
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.clock import local_today
from shell.contracts import ReportDefinition, ReportParameter
from shell.core.reporting import GeneratedReport, available_reports, generate, parse_params
from shell.errors import JiedaoError, ValidationError
from shell.ui.errors import error_text, show_error
from shell.ui.files import ask_save_path, open_folder
from shell.ui.pdf_preview import PdfPreview
from shell.ui.tasks import Cancelled as TaskCancelled
from shell.ui.tasks import TaskHandle, run_task
from shell.ui.widgets.form import Form

log = logging.getLogger(__name__)

REPORT_ID_ROLE = Qt.ItemDataRole.UserRole
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1
YEAR_RANGE = (1000, 9999)   # the spin box takes any 4-digit year; parse_params says which are valid
INT_RANGE = (-999_999_999, 999_999_999)
_BAD_FILENAME_CHARS = re.compile(r'[\\/:*?"<>|\r\n\t]+')

EMPTY_TEXT = ("您的账号目前没有可以生成的报表。\n\n"
              "报表由各业务模块提供，生成时需要相应业务的查看权限。"
              "如需打印台账或统计表，请联系系统管理员为您的角色分配权限。")
NO_SELECTION_TEXT = "请在左侧选择一个报表。"
# With the application style sheet Fusion draws a spin box's buttons without arrows; giving the
# buttons a width brings the arrows back (style.qss could carry this for every page).
PAGE_STYLE = """
QSpinBox::up-button, QSpinBox::down-button { width: 18px; }
QToolButton:disabled { color: #9aa3af; }
"""
MISSING_CHARS_TEXT = "以下字符字体中没有，打印为空白：{chars}。请在“设置 → 报表 → 中文字体”中换用包含这些字符的字体（如宋体）。"


def safe_filename(text: str) -> str:
    """``text`` usable as a file name on Windows and Linux."""
    return _BAD_FILENAME_CHARS.sub("_", text).strip(" .") or "报表"


class MonthEdit(QWidget):
    """A year + month picker; ``value()`` is the first day of the month, ``text()`` "YYYY-MM"."""

    def __init__(self, value: _dt.date, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.year = QSpinBox(self)
        self.year.setRange(*YEAR_RANGE)
        self.year.setSuffix(" 年")
        self.year.setValue(value.year)
        self.month = QComboBox(self)
        for m in range(1, 13):
            self.month.addItem(f"{m} 月", m)
        self.month.setCurrentIndex(value.month - 1)
        row.addWidget(self.year, 1)
        row.addWidget(self.month, 1)
        self.setFocusProxy(self.year)

    def value(self) -> _dt.date:
        return _dt.date(self.year.value(), int(self.month.currentData()), 1)

    def text(self) -> str:
        return f"{self.year.value():04d}-{int(self.month.currentData()):02d}"

    def set_value(self, value: _dt.date) -> None:
        self.year.setValue(value.year)
        self.month.setCurrentIndex(value.month - 1)


def _as_date(value: Any) -> _dt.date | None:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return _dt.date.fromisoformat(text)
        except ValueError:
            try:
                y, m = text.split("-")[:2]
                return _dt.date(int(y), int(m), 1)
            except ValueError:
                return None
    return None


class ReportCentrePage(QWidget):
    """The 报表中心 page. ``ReportCentrePage(app_ctx, parent=None)``.

    Widgets tests and other code may use: ``tree``, ``filter_edit``, ``title_label``, ``form`` (the
    current report's ``Form``), ``generate_button``, ``save_pdf_button``, ``export_button``,
    ``status_label``, ``warning_label``, ``error_label``, ``preview`` (``PdfPreview``),
    ``empty_label`` (shown when the user may run no report) and ``task`` (the last ``TaskHandle``)."""

    report_generated = Signal(object)   # GeneratedReport, after a successful preview/save/export

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("report-centre")
        self.setStyleSheet(PAGE_STYLE)
        self.app_ctx = app_ctx
        self.current: ReportDefinition | None = None
        self.current_plugin: str | None = None
        self.task: TaskHandle | None = None
        self._busy = False
        self.last_result: GeneratedReport | None = None
        self.editors: dict[str, tuple[ReportParameter, QWidget]] = {}
        self.form: Form | None = None
        self._preview_dir = tempfile.mkdtemp(prefix="jiedao-preview-")
        self._preview_seq = 0
        weakref.finalize(self, shutil.rmtree, self._preview_dir, True)

        pm = app_ctx.plugin_manager
        self.reports: list[tuple[str, ReportDefinition]] = available_reports(pm, app_ctx.actor)
        # The program's own reports (the audit log) come after the plugins' business reports.
        self.plugin_titles = self._plugin_titles(pm) | {"core": "系统"}
        # Plugins in load order (as in the plugin list), reports by category then title within each.
        load_order = {name: i for i, name in enumerate(self.plugin_titles)}
        self.reports.sort(key=lambda pd: load_order.get(pd[0], len(load_order)))
        self._by_id = {d.id: (p, d) for p, d in self.reports}

        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 14, 16, 14)
        outer.setSpacing(10)
        heading = QLabel("报表中心")
        heading.setObjectName("page-heading")
        outer.addWidget(heading)

        self.empty_label: QLabel | None = None
        if not self.reports:
            self.empty_label = QLabel(EMPTY_TEXT)
            self.empty_label.setObjectName("empty-state")
            self.empty_label.setWordWrap(True)
            self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            outer.addWidget(self.empty_label)
            outer.addStretch(1)

        # --- left: filter + tree -------------------------------------------------------------------
        left = QWidget()
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(0, 0, 0, 0)
        lcol.setSpacing(6)
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("report-filter")
        self.filter_edit.setPlaceholderText("搜索报表名称、分类……")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.apply_filter)
        lcol.addWidget(self.filter_edit)
        self.tree = QTreeWidget()
        self.tree.setObjectName("report-tree")
        self.tree.setHeaderHidden(True)
        self.tree.setIndentation(16)
        self.tree.setUniformRowHeights(True)
        self.tree.currentItemChanged.connect(self._current_item_changed)
        lcol.addWidget(self.tree, 1)
        self.no_match_label = QLabel()
        self.no_match_label.setObjectName("hint")
        self.no_match_label.setWordWrap(True)
        self.no_match_label.hide()
        lcol.addWidget(self.no_match_label)
        self._fill_tree()

        # --- right: title, parameters, buttons, messages, preview -----------------------------------
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.setSpacing(8)
        head = QHBoxLayout()
        self.title_label = QLabel(NO_SELECTION_TEXT)
        self.title_label.setObjectName("report-title")
        self.title_label.setStyleSheet("font-size: 17px; font-weight: bold;")
        head.addWidget(self.title_label)
        self.subtitle_label = QLabel()
        self.subtitle_label.setObjectName("hint")
        head.addWidget(self.subtitle_label)
        head.addStretch(1)
        rcol.addLayout(head)

        self.params_box = QGroupBox("报表参数")
        self.params_layout = QVBoxLayout(self.params_box)
        self.params_layout.setContentsMargins(10, 6, 10, 8)
        self.no_params_label = QLabel("此报表没有参数，直接生成即可。")
        self.no_params_label.setObjectName("hint")
        self.params_layout.addWidget(self.no_params_label)

        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.generate_button = QPushButton("生成并预览")
        self.generate_button.setObjectName("report-generate")
        self.generate_button.setProperty("primary", True)
        self.generate_button.setToolTip("生成 PDF 并在下方预览，可打印或另存")
        self.generate_button.clicked.connect(self.generate_preview)
        self.save_pdf_button = QPushButton("另存为 PDF…")
        self.save_pdf_button.setObjectName("report-save-pdf")
        self.save_pdf_button.clicked.connect(self.save_pdf)
        self.export_button = QPushButton("导出 Excel…")
        self.export_button.setObjectName("report-export-xlsx")
        self.export_button.clicked.connect(self.export_excel)
        for b in (self.generate_button, self.save_pdf_button, self.export_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        params_and_buttons = QVBoxLayout()
        params_and_buttons.setSpacing(8)
        params_and_buttons.addWidget(self.params_box)
        params_and_buttons.addLayout(buttons)
        rcol.addLayout(params_and_buttons)

        self.status_label = QLabel()
        self.status_label.setObjectName("inline-ok")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning_label = QLabel()
        self.warning_label.setObjectName("dialog-warning")
        self.warning_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("inline-error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # 已保存… with 打开所在文件夹 beside it, after a PDF or Excel file was written.
        self.open_folder_button = QPushButton("打开所在文件夹")
        self.open_folder_button.setObjectName("open-folder")
        self.open_folder_button.clicked.connect(self._open_saved_folder)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.open_folder_button, 0, Qt.AlignmentFlag.AlignTop)
        self.saved_path: Path | None = None
        for lab in (self.status_label, self.warning_label, self.error_label, self.open_folder_button):
            lab.hide()
        rcol.addLayout(status_row)
        rcol.addWidget(self.warning_label)
        rcol.addWidget(self.error_label)

        self.preview = PdfPreview()
        preview_frame = QFrame()
        preview_frame.setObjectName("preview-frame")
        preview_frame.setStyleSheet("QFrame#preview-frame { border: 1px solid #dde1e7; background: #ffffff; }")
        pf = QVBoxLayout(preview_frame)
        pf.setContentsMargins(1, 1, 1, 1)
        pf.addWidget(self.preview)
        rcol.addWidget(preview_frame, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("report-splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 900])
        left.setMinimumWidth(200)
        outer.addWidget(self.splitter, 1)
        if not self.reports:
            self.splitter.hide()

        self._set_busy(False)
        first = self._first_report_item()
        if first is not None:
            self.tree.setCurrentItem(first)

    # --- the tree --------------------------------------------------------------------------------------
    @staticmethod
    def _plugin_titles(pm) -> dict[str, str]:
        if pm is None or not hasattr(pm, "jiedao_status"):
            return {}
        from shell.plugins import plugin_status

        return {st.name: st.title or st.name for st in plugin_status(pm)}

    def _fill_tree(self) -> None:
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        cats: dict[tuple[str, str], QTreeWidgetItem] = {}
        for plugin, d in self.reports:
            ptitle = self.plugin_titles.get(plugin, plugin)
            top = groups.get(plugin)
            if top is None:
                top = groups[plugin] = QTreeWidgetItem(self.tree, [ptitle])
                top.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = top.font(0)
                font.setBold(True)
                top.setFont(0, font)
            parent = top
            if d.category:
                parent = cats.get((plugin, d.category))
                if parent is None:
                    parent = cats[(plugin, d.category)] = QTreeWidgetItem(top, [d.category])
                    parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item = QTreeWidgetItem(parent, [d.title])
            item.setData(0, REPORT_ID_ROLE, d.id)
            item.setData(0, SEARCH_ROLE, " ".join([d.title, d.id, d.category, ptitle]).lower())
            item.setToolTip(0, f"{d.title}（{d.id}）")
        self.tree.expandAll()

    def _report_items(self) -> list[QTreeWidgetItem]:
        out = []

        def walk(item: QTreeWidgetItem) -> None:
            if item.data(0, REPORT_ID_ROLE):
                out.append(item)
            for i in range(item.childCount()):
                walk(item.child(i))

        for i in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(i))
        return out

    def _first_report_item(self) -> QTreeWidgetItem | None:
        items = [i for i in self._report_items() if not i.isHidden()]
        return items[0] if items else None

    def report_titles(self) -> list[str]:
        """Titles of the reports listed (visible under the current filter), in tree order."""
        return [i.text(0) for i in self._report_items() if not self._hidden_in_tree(i)]

    @staticmethod
    def _hidden_in_tree(item: QTreeWidgetItem) -> bool:
        while item is not None:
            if item.isHidden():
                return True
            item = item.parent()
        return False

    def item_for(self, report_id: str) -> QTreeWidgetItem | None:
        return next((i for i in self._report_items() if i.data(0, REPORT_ID_ROLE) == report_id), None)

    def select_report(self, report_id: str) -> bool:
        item = self.item_for(report_id)
        if item is None:
            return False
        self.tree.setCurrentItem(item)
        return True

    def apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        matches = 0

        def walk(item: QTreeWidgetItem) -> bool:
            if item.data(0, REPORT_ID_ROLE):
                visible = not needle or needle in (item.data(0, SEARCH_ROLE) or "")
            else:
                visible = False
                for i in range(item.childCount()):
                    visible = walk(item.child(i)) or visible
            item.setHidden(not visible)
            return visible

        for i in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(i))
        matches = len([i for i in self._report_items() if not self._hidden_in_tree(i)])
        self.tree.expandAll()
        if needle and not matches:
            self.no_match_label.setText(f"没有名称或分类包含“{text.strip()}”的报表。")
            self.no_match_label.show()
        else:
            self.no_match_label.hide()

    def _current_item_changed(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        report_id = item.data(0, REPORT_ID_ROLE) if item is not None else None
        if not report_id or report_id not in self._by_id:
            return
        plugin, definition = self._by_id[report_id]
        if self.current is definition:
            return
        self._show_report(plugin, definition)

    # --- the parameter form ---------------------------------------------------------------------------
    def _today(self) -> _dt.date:
        return local_today(self.app_ctx.clock())

    def _show_report(self, plugin: str, definition: ReportDefinition) -> None:
        self.current, self.current_plugin = definition, plugin
        self.title_label.setText(definition.title)
        parts = [self.plugin_titles.get(plugin, plugin)]
        if definition.category:
            parts.append(definition.category)
        self.subtitle_label.setText(" · ".join(parts))
        self._clear_messages()
        if self.form is not None:
            self.params_layout.removeWidget(self.form)
            self.form.deleteLater()
        self.form = Form(self.params_box)
        self.form.setObjectName("report-params")
        self.editors = {}
        for p in definition.parameters:
            widget, hint = self._editor_for(p)
            self.editors[p.name] = (p, widget)
            self.form.add(p.name, p.label, widget, required=p.required, hint=hint)
        self.params_layout.addWidget(self.form)
        self.no_params_label.setVisible(not definition.parameters)
        self.form.setVisible(bool(definition.parameters))
        self._set_busy()

    def _editor_for(self, p: ReportParameter) -> tuple[QWidget, str]:
        today = self._today()
        hint = ""
        if p.kind in ("year", "int"):
            w = QSpinBox()
            w.setRange(*(YEAR_RANGE if p.kind == "year" else INT_RANGE))
            if p.kind == "year":
                w.setSuffix(" 年")
                default = p.default if p.default is not None else today.year
            else:
                default = p.default if p.default is not None else 0
            try:
                w.setValue(int(default))
            except (TypeError, ValueError):
                pass
            w.setMaximumWidth(180)
        elif p.kind == "month":
            w = MonthEdit(_as_date(p.default) or today.replace(day=1))
            w.setMaximumWidth(260)
        elif p.kind == "date":
            w = QDateEdit()
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd")
            d = _as_date(p.default) or today
            w.setDate(QDate(d.year, d.month, d.day))
            w.setMaximumWidth(180)
        elif p.kind == "area":
            w = QComboBox()
            w.setMinimumContentsLength(18)
            hint = self._fill_areas(w, p)
        elif p.kind == "choice":
            w = QComboBox()
            w.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            w.setMinimumContentsLength(8)
            if not p.required:
                w.addItem("（不限）", None)
            for code, label in p.choices:
                w.addItem(label, code)
            if p.default is not None:
                i = w.findData(p.default)
                if i >= 0:
                    w.setCurrentIndex(i)
        else:  # text and anything unknown
            w = QLineEdit()
            if p.default is not None:
                w.setText(str(p.default))
            if not p.required:
                w.setPlaceholderText("可不填")
        w.setObjectName(f"param-{p.name}")
        return w, hint

    def _fill_areas(self, combo: QComboBox, p: ReportParameter) -> str:
        """Areas in the user's scope by full name ("青石街道 / 东苑社区 / 第一网格"); returns a hint."""
        from shell.core.areas import list_areas, visible_areas

        try:
            with self.app_ctx.service(commit=False) as sctx:
                visible = visible_areas(sctx)
                names = {a.id: a.name for a in list_areas(sctx.session, include_closed=True)}
                entries = []
                for a in visible:
                    ids = [int(x) for x in (a.path or "").strip("/").split("/") if x]
                    entries.append((a.id, " / ".join(names.get(i, "?") for i in ids) or a.name))
        except JiedaoError as exc:
            combo.addItem("（无法列出辖区）", None)
            combo.setEnabled(False)
            return error_text(exc)[1]
        if not p.required:
            combo.addItem("（全部辖区）", None)
        for area_id, name in entries:
            combo.addItem(name, area_id)
        if p.default is not None:
            i = combo.findData(int(p.default)) if str(p.default).isdigit() else -1
            if i >= 0:
                combo.setCurrentIndex(i)
        if not entries:
            return "您的管辖范围内没有辖区。"
        return ""

    def raw_values(self) -> dict[str, str]:
        """What the user entered, as the text ``parse_params`` validates (the same as the CLI's)."""
        out: dict[str, str] = {}
        for name, (_p, w) in self.editors.items():
            if isinstance(w, MonthEdit):
                out[name] = w.text()
            elif isinstance(w, QSpinBox):
                out[name] = str(w.value())
            elif isinstance(w, QDateEdit):
                out[name] = w.date().toPython().isoformat()
            elif isinstance(w, QComboBox):
                data = w.currentData()
                out[name] = "" if data is None else str(data)
            elif isinstance(w, QLineEdit):
                out[name] = w.text().strip()
        return out

    def editor(self, name: str) -> QWidget:
        return self.editors[name][1]

    def params(self) -> dict[str, Any] | None:
        """Typed parameters, or None after showing what is wrong next to the field."""
        if self.current is None or self.form is None:
            return None
        self.form.clear_errors()
        try:
            return parse_params(self.current, self.raw_values())
        except ValidationError as exc:
            self.form.show_exception(exc)
            return None

    # --- actions ----------------------------------------------------------------------------------------
    def default_filename(self, suffix: str, title: str | None = None) -> str:
        """"<报表标题>-<日期><suffix>", e.g. "实有人口登记台账-2026-11-22.pdf"."""
        title = title or (self.current.title if self.current is not None else "报表")
        return f"{safe_filename(title)}-{self._today().isoformat()}{suffix}"

    def font_path(self) -> str | None:
        config = self.app_ctx.extras.get("config")
        return getattr(config, "font_path", None) or None

    def _ask_path(self, caption: str, suffix: str, filter_text: str) -> Path | None:
        return ask_save_path(self, caption, self.default_filename(suffix), filter_text, suffix)

    def generate_preview(self) -> TaskHandle | None:
        """生成并预览: render the PDF into a temporary file and show it below."""
        if self.current is None:
            return None
        self._preview_seq += 1
        out = Path(self._preview_dir) / f"preview-{self._preview_seq}.pdf"
        return self._start(out, "preview")

    def save_pdf(self) -> TaskHandle | None:
        """另存为 PDF…: ask for a file name, then generate into it."""
        if self.current is None or self.params() is None:
            return None
        out = self._ask_path("另存为 PDF", ".pdf", "PDF 文件 (*.pdf)")
        return self._start(out, "pdf") if out is not None else None

    def export_excel(self) -> TaskHandle | None:
        """导出 Excel…: ask for a file name, then write the same ledger as .xlsx."""
        if self.current is None or self.params() is None:
            return None
        out = self._ask_path("导出 Excel", ".xlsx", "Excel 工作簿 (*.xlsx)")
        return self._start(out, "xlsx") if out is not None else None

    # --- keys (shell/ui/main_window.py PAGE_KEYS) ---------------------------------------------
    def page_export(self) -> TaskHandle | None:
        return self.export_excel() if self.export_button.isEnabled() else None

    def page_print(self) -> TaskHandle | None:
        """Ctrl+P: print what the preview shows; without a preview yet, make it first (look, then print)."""
        if self.preview.path is not None and not self._busy:
            self.preview.print_document()
            return None
        return self.generate_preview()

    def page_refresh(self) -> TaskHandle | None:
        return self.generate_preview()

    def _start(self, out: Path, purpose: str) -> TaskHandle | None:
        definition = self.current
        params = self.params()
        if definition is None or params is None:
            return None
        self._clear_messages()
        ctx = self.app_ctx
        font_path = self.font_path()
        state: dict[str, Any] = {"handle": None, "written": False}

        def cancel() -> bool:
            handle = state["handle"]
            return handle is not None and handle.cancel_requested

        def work(progress):
            from reports import Cancelled as RenderCancelled

            def report_progress(done, total=None, text=""):
                return progress(done or 0, total or 0, text)

            try:
                result = generate(ctx.session_factory, ctx.actor, definition, params, out,
                                  progress=report_progress, cancel=cancel, font_path=font_path)
            except RenderCancelled:
                raise TaskCancelled() from None
            if cancel():  # pressed 取消 just as the last page was written: keep nothing
                _unlink(out)
                raise TaskCancelled()
            state["written"] = True
            return result

        def on_done(result: GeneratedReport) -> None:
            self._set_busy(False)
            self._finished(definition, result, purpose)

        def on_error(exc: BaseException) -> None:
            self._set_busy(False)
            _unlink_partial(out)
            self._failed(exc)

        def on_cancel() -> None:
            self._set_busy(False)
            if state["written"]:
                _unlink(out)
            self._show_status("已取消生成，未保存任何文件。")

        verb = {"preview": "生成", "pdf": "生成 PDF", "xlsx": "导出 Excel"}[purpose]
        self._set_busy(True)
        handle = run_task(self, f"{verb}：{definition.title}", work, on_done=on_done, on_error=on_error,
                          on_cancel=on_cancel, label=f"正在{verb}“{definition.title}”……")
        state["handle"] = handle
        self.task = handle
        return handle

    def _finished(self, definition: ReportDefinition, result: GeneratedReport, purpose: str) -> None:
        self.last_result = result
        counts = f"共 {result.pages} 页，{result.rows} 行" if result.pages is not None else f"共 {result.rows} 行"
        if purpose == "preview":
            try:
                self.preview.load(result.path)
            except JiedaoError as exc:
                self._failed(exc)
                return
            self.preview.suggested_name = self.default_filename(".pdf", definition.title)
            self._remove_old_previews(keep=result.path)
            self._show_status(f"已生成“{definition.title}”：{counts}。")
        elif purpose == "pdf":
            self._show_status(f"已保存 PDF（{counts}）：{result.path}")
            self._offer_folder(result.path)
        else:
            self._show_status(f"已导出 Excel（{counts}）：{result.path}")
            self._offer_folder(result.path)
        if result.missing_chars:
            self.warning_label.setText("⚠ " + MISSING_CHARS_TEXT.format(chars=result.missing_chars))
            self.warning_label.show()
        self.report_generated.emit(result)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError) and self.form is not None and exc.field in self.form.fields:
            self.form.show_exception(exc)
            return
        if isinstance(exc, JiedaoError):
            title, message = error_text(exc)
            self.error_label.setText(f"<b>{_html(title)}</b>：{_html(message)}")
            self.error_label.show()
            return
        self.error_label.setText("<b>生成失败</b>：程序出错，报表没有生成。详细信息见弹出的窗口。")
        self.error_label.show()
        show_error(self, exc)

    # --- small helpers ------------------------------------------------------------------------------------
    def _clear_messages(self) -> None:
        for lab in (self.status_label, self.warning_label, self.error_label):
            lab.clear()
            lab.hide()
        self.open_folder_button.hide()
        self.saved_path = None
        if self.form is not None:
            self.form.clear_errors()

    def _offer_folder(self, path) -> None:
        self.saved_path = Path(path)
        self.open_folder_button.show()

    def _open_saved_folder(self) -> None:
        if self.saved_path is not None:
            open_folder(self.saved_path)

    def _show_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.show()

    def _set_busy(self, busy: bool | None = None) -> None:
        """Buttons off while a report is being generated (``None``: keep the state, refresh buttons)."""
        if busy is not None:
            self._busy = busy
        enabled = not self._busy and self.current is not None
        for b in (self.generate_button, self.save_pdf_button):
            b.setEnabled(enabled)
        from shell.core.transfer import EXPORT_PERMISSION

        may_export = self.app_ctx.actor.can(EXPORT_PERMISSION)
        self.export_button.setEnabled(enabled and may_export)
        self.export_button.setToolTip("" if may_export else "导出 Excel 需要“导出数据到 Excel”权限；可以打印或另存为 PDF。")

    def _remove_old_previews(self, keep: Path) -> None:
        for f in Path(self._preview_dir).glob("preview-*.pdf"):
            if f != Path(keep):
                _unlink(f)


def _html(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>"))


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _unlink_partial(path: Path) -> None:
    """The renderers write ``.<name>.*.part`` next to the target and remove it themselves; this is a
    safety net for a render that died mid-way."""
    for f in Path(path).parent.glob(f".{Path(path).name}.*.part"):
        _unlink(f)
