"""数据导入导出: every kind of data the plugins can bring in from Excel or write out, for the actor's
permissions. An import checks the whole file first; with any bad row nothing is written and every
bad row is listed (row, column, value, reason) — the user fixes the file, or imports only the rows
that are right after confirming. Imports and exports run off the GUI thread and are audited
(``shell.core.transfer``)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shell.clock import local_today
from shell.contracts import ImporterDefinition, ImportResult
from shell.ui.errors import confirm, error_text
from shell.ui.files import ask_open_path, ask_save_path, open_folder
from shell.ui.widgets.rows_model import RIGHT, RowsModel

KIND_ROLE = Qt.ItemDataRole.UserRole
OK_STYLE = "color: #1e7e34;"
ERROR_STYLE = "color: #c0392b;"
EXCEL_FILTER = "Excel 工作簿 (*.xlsx *.xlsm);;所有文件 (*)"
ERROR_HEADERS = ("行", "列", "值", "问题")


class ErrorsModel(RowsModel):
    """The bad rows of an import, read straight from the result: a file with ten thousand bad rows
    shows at once (a QTableWidget built 40,000 items on the GUI thread first)."""

    headers = ERROR_HEADERS

    def cell(self, e, column: int) -> str:
        return (str(e.row), e.column, "" if e.value is None else str(e.value), e.reason)[column]

    def role_data(self, e, column: int, role: int):
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.cell(e, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 0:
            return RIGHT
        return None


def _disabled_plugins() -> set[str]:
    from shell.config import LocalConfig

    try:
        return set(LocalConfig.load().disabled_plugins)
    except Exception:  # noqa: BLE001 - an unreadable local config hides nothing
        return set()


class ImportCentrePage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        from shell.core.transfer import available_importers

        self.setObjectName("import-centre")
        self.app_ctx = app_ctx
        self.definitions: dict[str, ImporterDefinition] = {
            d.kind: d for _p, d in available_importers(app_ctx.plugin_manager, app_ctx.actor, _disabled_plugins())}
        self.last_file: Path | None = None
        self.last_result: ImportResult | None = None
        self.task = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 14, 16, 14)
        title = QLabel("数据导入导出")
        title.setObjectName("page-heading")
        outer.addWidget(title)
        if not self.definitions:
            self.empty_label = QLabel("您没有可以导入或导出的数据。需要时请联系系统管理员分配相应的权限。")
            self.empty_label.setObjectName("import-empty")
            self.empty_label.setWordWrap(True)
            outer.addWidget(self.empty_label)
            outer.addStretch(1)
            return
        self.empty_label = None

        self.kinds = QListWidget()
        self.kinds.setObjectName("import-kinds")
        self.kinds.setMaximumWidth(260)
        self.kinds.setStyleSheet("QListWidget::item { padding: 6px 8px; }")
        for kind, d in self.definitions.items():
            item = QListWidgetItem(d.title)
            item.setData(KIND_ROLE, kind)
            item.setToolTip(kind)
            self.kinds.addItem(item)

        right = QWidget()
        col = QVBoxLayout(right)
        col.setContentsMargins(12, 0, 0, 0)
        self.kind_title = QLabel()
        self.kind_title.setObjectName("import-kind-title")
        self.kind_title.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.columns_label = QLabel()
        self.columns_label.setObjectName("import-columns")
        self.columns_label.setWordWrap(True)
        self.columns_label.setStyleSheet("color: #555;")
        buttons = QHBoxLayout()
        self.template_button = self._button("下载空白模板…", "import-template", self.save_template)
        self.import_button = self._button("从 Excel 导入…", "import-run", self.choose_and_import)
        self.export_button = self._button("导出到 Excel…", "import-export", self.choose_and_export)
        for b in (self.template_button, self.import_button, self.export_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.status = QLabel()
        self.status.setObjectName("import-status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.errors_model = ErrorsModel(self)
        self.errors = QTableView()
        self.errors.setObjectName("import-errors")
        self.errors.setModel(self.errors_model)
        self.errors.verticalHeader().hide()
        self.errors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.errors.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.errors.horizontalHeader()
        for c, width in enumerate((60, 130, 180)):
            header.resizeSection(c, width)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.errors.hide()
        self.valid_only_button = self._button("只导入正确的行…", "import-valid-only", self.import_valid_only)
        self.valid_only_button.hide()
        col.addWidget(self.kind_title)
        col.addWidget(self.columns_label)
        col.addLayout(buttons)
        self.open_folder_button = QPushButton("打开所在文件夹")
        self.open_folder_button.setObjectName("open-folder")
        self.open_folder_button.hide()
        self.saved_path: Path | None = None
        self.open_folder_button.clicked.connect(lambda: self.saved_path is not None and open_folder(self.saved_path))
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.open_folder_button, 0, Qt.AlignmentFlag.AlignTop)
        col.addLayout(status_row)
        col.addWidget(self.errors, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.valid_only_button)
        col.addLayout(row)
        col.addStretch(0)

        split = QSplitter()
        split.addWidget(self.kinds)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        outer.addWidget(split, 1)
        self.kinds.currentItemChanged.connect(lambda *_: self._kind_changed())
        self.kinds.setCurrentRow(0)

    def _button(self, text: str, name: str, slot) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.clicked.connect(lambda _checked=False: slot())
        return b

    # --- the chosen kind -----------------------------------------------------------------------------
    @property
    def current(self) -> ImporterDefinition | None:
        item = self.kinds.currentItem() if self.empty_label is None else None
        return self.definitions.get(item.data(KIND_ROLE)) if item is not None else None

    def kind_titles(self) -> list[str]:
        return [] if self.empty_label is not None else [self.kinds.item(i).text() for i in range(self.kinds.count())]

    def select_kind(self, kind: str) -> None:
        for i in range(self.kinds.count()):
            if self.kinds.item(i).data(KIND_ROLE) == kind:
                self.kinds.setCurrentRow(i)
                return
        raise KeyError(kind)

    def _kind_changed(self) -> None:
        d = self.current
        if d is None:
            return
        self.kind_title.setText(d.title)
        self.columns_label.setText("Excel 的第一行是列名，依次为：" + "、".join(d.columns) if d.columns else "")
        self.template_button.setEnabled(d.template_fn is not None)
        self.import_button.setEnabled(d.import_fn is not None)
        from shell.core.transfer import EXPORT_PERMISSION

        may_export = self.app_ctx.actor.can(EXPORT_PERMISSION)
        self.export_button.setEnabled(d.export_fn is not None and may_export)
        self.export_button.setToolTip("" if may_export else "导出需要“导出数据到 Excel”权限，请联系系统管理员。")
        self._clear()

    def _clear(self) -> None:
        self.status.clear()
        self.errors_model.set_rows([])
        self.errors.hide()
        self.valid_only_button.hide()
        self.last_result = None

    def _say(self, text: str, ok: bool = True, saved: Path | None = None) -> None:
        self.status.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.status.setText(text)
        self.saved_path = saved
        self.open_folder_button.setVisible(saved is not None)

    def _ask_save(self, caption: str, name: str) -> Path | None:
        return ask_save_path(self, caption, name, EXCEL_FILTER, ".xlsx")

    # --- template ------------------------------------------------------------------------------------
    def save_template(self, path: Path | None = None) -> None:
        d = self.current
        path = path or self._ask_save("保存空白模板", f"{d.title}-导入模板.xlsx")
        if path is None:
            return
        try:
            d.template_fn(path)
        except OSError as exc:
            self._say(f"无法保存模板“{path}”：{exc.strerror or exc}", ok=False)
            return
        self._say(f"已保存空白模板：{path}。按模板填好后用“从 Excel 导入”导入。", saved=path)

    # --- import ------------------------------------------------------------------------------------
    def choose_and_import(self, path: Path | None = None) -> None:
        if path is None:
            chosen = ask_open_path(self, f"选择要导入的{self.current.title}文件", EXCEL_FILTER)
            if chosen is None:
                return
            path = chosen
        self.run_import(Path(path), valid_only=False)

    def import_valid_only(self) -> None:
        result = self.last_result
        if result is None or self.last_file is None:
            return
        if not confirm(self, "只导入正确的行",
                       f"将导入“{self.last_file.name}”中正确的 {result.valid_rows} 行，跳过有错误的 "
                       f"{result.total_rows - result.valid_rows} 行（{len(result.errors)} 处错误）。确定吗？"):
            return
        self.run_import(self.last_file, valid_only=True)

    def run_import(self, path: Path, valid_only: bool) -> None:
        from shell.core.transfer import run_import
        from shell.ui.tasks import run_task

        d = self.current
        self._clear()
        self._say(f"正在检查并导入“{path.name}”……")
        self.last_file = path
        ctx = self.app_ctx

        state: dict = {}

        def work(progress):
            from shell.core.transfer import ImportCancelled
            from shell.ui.tasks import Cancelled

            progress(0, 0, f"正在检查“{path.name}”的每一行……")
            try:
                # 取消 takes effect before the commit: the whole file is rolled back.
                # importers on the engine report the rows checked and stop at 取消 while checking
                return run_import(ctx.session_factory, ctx.actor, d, path, valid_only,
                                  cancel=lambda: state.get("handle") is not None and state["handle"].cancel_requested,
                                  progress=lambda done, total: progress(done, total, f"已检查 {done:,} / {total:,} 行……"))
            except ImportCancelled:
                raise Cancelled() from None

        self.task = state["handle"] = run_task(
            self, f"导入{d.title}", work, label=f"正在导入{d.title}……",
            on_done=lambda result: self._imported(result, path, valid_only), on_error=self._failed,
            on_cancel=lambda: self._say(f"已取消导入“{path.name}”，没有写入任何数据。", ok=False))

    def _imported(self, result: ImportResult, path: Path, valid_only: bool) -> None:
        self.last_result = result
        if result.errors:
            self.errors_model.set_rows(result.errors)
            self.errors.show()
        if result.ok:
            self._say(f"已导入“{path.name}”：共 {result.total_rows} 行，写入 {result.written} 行。")
        elif valid_only:
            self._say(f"已导入“{path.name}”中正确的 {result.written} 行；下面 {len(result.errors)} 处错误所在的行没有导入。")
        else:
            self._say(f"“{path.name}”中有 {len(result.errors)} 处错误（共 {result.total_rows} 行，正确 {result.valid_rows} 行），"
                      "没有导入任何数据。请按下表改正后重新导入，或只导入正确的行。", ok=False)
            self.valid_only_button.setText(f"只导入正确的 {result.valid_rows} 行…")
            self.valid_only_button.setVisible(result.valid_rows > 0)

    def _failed(self, exc: BaseException) -> None:
        self._say(error_text(exc)[1], ok=False)

    def error_rows(self) -> list[list[str]]:
        """The error table as the user reads it."""
        m = self.errors_model
        return [[m.cell(e, c) for c in range(m.columnCount())] for e in m.rows]

    # --- export ------------------------------------------------------------------------------------
    def page_export(self) -> None:
        """Ctrl+E (shell/ui/main_window.py PAGE_KEYS)."""
        if self.export_button.isEnabled():
            self.choose_and_export()

    def choose_and_export(self, path: Path | None = None) -> None:
        from shell.core.transfer import run_export
        from shell.ui.tasks import run_task

        d = self.current
        path = path or self._ask_save(f"导出{d.title}", f"{d.title}-{local_today():%Y%m%d}.xlsx")
        if path is None:
            return
        self._clear()
        ctx = self.app_ctx

        def work(progress):
            progress(0, 0, f"正在导出{d.title}……")
            return run_export(ctx.session_factory, ctx.actor, d, path)

        self.task = run_task(self, f"导出{d.title}", work, cancellable=False, label=f"正在导出{d.title}……",
                             on_done=lambda count: self._say(f"已导出 {count} 行到 {path}。", saved=path),
                             on_error=self._failed)
