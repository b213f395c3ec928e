"""志愿活动 page: the activities in scope (filters: team, date range, status, name), a form to create
or edit one (defaults from the street's rules), and the selected activity's attendance sheet —
enrolment, sign-in / sign-out at a chosen time (several people at once), hours computed from the
times with the activity's cap shown, cancel enrolment, close the activity. Approval happens in the
时长审核 page. Views call services only."""
from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from shell.clock import LOCAL_TZ, format_local
from shell.errors import JiedaoError
from shell.ui.widgets import SearchBox
from shell.ui.widgets.lazy_table import CENTER, RIGHT

from .. import services as svc
from ..labels import ACTIVITY_FILTER_LABELS, ACTIVITY_STATES
from ..rules import P_ACTIVITY
from .activity_form import ActivityDialog
from .activity_panel import STATUS_COLORS, ActivityPanel
from .common import (
    BAD_STYLE,
    OK_STYLE,
    cell,
    read_only_table,
)

# ---------------------------------------------------------------------------------------- sheet import

class ImportErrorsDialog(QDialog):
    """Row-level errors of an attendance sheet; nothing was written. The user may fix the file, or
    accept the valid rows explicitly (只导入正确的行)."""

    def __init__(self, parent: QWidget, file_name: str, result):
        super().__init__(parent)
        self.setObjectName("import-errors")
        self.setWindowTitle("签到表有错误")
        self.resize(760, 420)
        bad_rows = len({e.row for e in result.errors})
        intro = QLabel(f"“{file_name}”共 {result.total_rows} 行，其中 {bad_rows} 行有错误，尚未导入任何数据。"
                       f"请改正后重新导入，或只导入正确的 {result.valid_rows} 行。", self)
        intro.setWordWrap(True)
        self.table = read_only_table(["行号", "列", "内容", "问题"], self)
        self.table.setObjectName("import-error-list")
        self.table.setRowCount(len(result.errors))
        for r, e in enumerate(result.errors):
            self.table.setItem(r, 0, cell(e.row, RIGHT))
            self.table.setItem(r, 1, cell(e.column))
            self.table.setItem(r, 2, cell(e.value))
            self.table.setItem(r, 3, cell(e.reason))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.buttons = QDialogButtonBox(self)
        self.valid_button = self.buttons.addButton(f"只导入正确的 {result.valid_rows} 行",
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.valid_button.setObjectName("import-valid-only")
        self.valid_button.setEnabled(result.valid_rows > 0)
        self.cancel_button = self.buttons.addButton("取消（不导入）", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)


# ---------------------------------------------------------------------------------------- page

class ActivitiesPage(QWidget):
    LIST_COLUMNS = ["时间", "活动名称", "队伍", "社区", "状态", "报名", "待审核"]
    LIMIT = 200

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.dialog = None        # the last dialog opened (tests drive it)
        self.setObjectName("volunteer-activities")

        # ---- filters
        self.team_filter = QComboBox(self)
        self.team_filter.setObjectName("filter-team")
        self.team_filter.addItem("全部队伍", None)
        self.status_filter = QComboBox(self)
        self.status_filter.setObjectName("filter-status")
        self.status_filter.addItem("全部状态", None)
        for code, label in {**ACTIVITY_STATES, **ACTIVITY_FILTER_LABELS}.items():
            self.status_filter.addItem(label, code)
        self.date_check = QCheckBox("日期", self)
        self.date_check.setObjectName("filter-dates")
        today = app_ctx.clock()
        self.date_from = QDateEdit(self)
        self.date_to = QDateEdit(self)
        for edit, value in ((self.date_from, today - timedelta(days=90)), (self.date_to, today + timedelta(days=60))):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setCalendarPopup(True)
            local = value.astimezone(LOCAL_TZ)
            edit.setDate(QDate(local.year, local.month, local.day))
            edit.setEnabled(False)
            edit.dateChanged.connect(lambda _d: self.apply_filters())
        self.date_check.toggled.connect(self._dates_toggled)
        self.search = SearchBox(self, placeholder="活动名称或地点")
        self.new_button = QPushButton("新建活动…", self)
        self.new_button.setObjectName("activity-new")
        self.new_button.setProperty("primary", True)
        self.new_button.setEnabled(app_ctx.actor.can(P_ACTIVITY))
        self.new_button.clicked.connect(self.new_activity)
        self.import_button = QPushButton("导入签到表…", self)
        self.import_button.setObjectName("activity-import")
        self.import_button.setToolTip("从 Excel 签到表（活动编号、志愿者编号、签到时间、签退时间）批量登记签到签退")
        self.import_button.setEnabled(app_ctx.actor.can(P_ACTIVITY))
        self.import_button.clicked.connect(lambda: self.import_sheet())
        self.import_task = None
        bar = QHBoxLayout()
        bar.addWidget(self.search, 2)
        bar.addWidget(self.team_filter, 1)
        bar.addWidget(self.status_filter)
        bar.addWidget(self.date_check)
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel("至", self))
        bar.addWidget(self.date_to)
        bar.addWidget(self.import_button)
        bar.addWidget(self.new_button)

        # A street runs thousands of activities a year: the newest LIMIT matching the filters, ordered
        # by start time, are listed (one quick query); the filters narrow the rest.
        self.rows: list[svc.ActivityRow] = []
        self.total = 0
        self.count_label = QLabel(self)
        self.table = read_only_table(self.LIST_COLUMNS, self)
        self.table.setObjectName("activity-list")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.currentCellChanged.connect(lambda row, _c, _pr, _pc: self.show_row(row))
        self.panel = ActivityPanel(self)
        self.panel.setMinimumWidth(520)

        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 6, 0)
        ll.addWidget(self.table, 1)
        ll.addWidget(self.count_label)
        self.import_message = QLabel(left)
        self.import_message.setObjectName("import-message")
        self.import_message.setWordWrap(True)
        self.import_message.hide()
        ll.addWidget(self.import_message)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([590, 570])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

        self._load_teams()
        self.team_filter.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.status_filter.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.search.search.connect(lambda _t: self.apply_filters())
        self.apply_filters()

    def _load_teams(self) -> None:
        try:
            with self.app_ctx.service(commit=False) as ctx:
                teams = [(t.id, t.name) for t in svc.list_teams(ctx)]
                names = dict(svc.community_choices(ctx))
                area_of = {t.id: t.area_id for t in svc.list_teams(ctx)}
        except JiedaoError:
            return
        for team_id, name in teams:
            community = names.get(area_of[team_id], "")
            self.team_filter.addItem(f"{name}（{community}）" if community else name, team_id)

    def _dates_toggled(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)
        self.apply_filters()

    def show_filtered(self, status: str | None = None) -> None:
        """From 我的待办: every activity in scope of one 状态 choice (team, dates and name cleared)."""
        for box in (self.team_filter, self.status_filter, self.date_check, self.search):
            box.blockSignals(True)
        self.team_filter.setCurrentIndex(0)
        self.status_filter.setCurrentIndex(max(self.status_filter.findData(status), 0))
        self.date_check.setChecked(False)
        self.search.clear()
        for box in (self.team_filter, self.status_filter, self.date_check, self.search):
            box.blockSignals(False)
        self.date_from.setEnabled(False)
        self.date_to.setEnabled(False)
        self.apply_filters()

    def filters(self) -> dict:
        out = dict(team_id=self.team_filter.currentData(), status=self.status_filter.currentData(),
                   text=self.search.text().strip())
        if self.date_check.isChecked():
            out["date_from"] = self.date_from.date().toPython()
            out["date_to"] = self.date_to.date().toPython()
        return out

    def apply_filters(self, keep: int | None = None) -> None:
        """Re-read the list; ``keep`` stays selected (the panel is not reloaded then)."""
        try:
            with self.app_ctx.service(commit=False) as ctx:
                self.rows, self.total = svc.activity_rows(ctx, limit=self.LIMIT, **self.filters())
        except JiedaoError as exc:
            self.rows, self.total = [], 0
            self.count_label.setText(exc.message)
        else:
            more = f"，列出最近 {self.LIMIT} 个（可按队伍、日期筛选）" if self.total > len(self.rows) else ""
            self.count_label.setText(f"共 {self.total} 个活动{more}")
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            starts = format_local(row.starts_at)
            time_cell = cell(starts, data=row.activity_id)
            time_cell.setToolTip(f"{starts} 至 {format_local(row.ends_at)}")
            self.table.setItem(r, 0, time_cell)
            name = cell(row.name)
            name.setToolTip(row.content or row.name)
            self.table.setItem(r, 1, name)
            self.table.setItem(r, 2, cell(row.team_name or "—"))
            self.table.setItem(r, 3, cell(row.area_name))
            status = cell(ACTIVITY_STATES.get(row.status, row.status), CENTER)
            status.setForeground(QColor(STATUS_COLORS.get(row.status, "#333")))
            self.table.setItem(r, 4, status)
            self.table.setItem(r, 5, cell(row.enrolled, RIGHT))
            self.table.setItem(r, 6, cell(row.pending or "", RIGHT))
        self.table.blockSignals(False)
        row = self.row_of(keep) if keep is not None else -1
        if row >= 0:
            self.table.blockSignals(True)
            self.table.setCurrentCell(row, 0)
            self.table.blockSignals(False)
        else:
            self.table.setCurrentCell(-1, -1)
            self.panel.show_activity(None)

    def refresh_list(self, keep: int | None = None) -> None:
        """Re-read the list (counts changed) and keep ``keep`` selected without reloading the panel."""
        self.apply_filters(keep=keep)

    def show_row(self, row: int) -> None:
        if 0 <= row < len(self.rows):
            self.panel.show_activity(self.rows[row].activity_id)
        else:
            self.panel.show_activity(None)

    def row_of(self, activity_id: int) -> int:
        return next((r for r, row in enumerate(self.rows) if row.activity_id == activity_id), -1)

    def select_activity(self, activity_id: int) -> bool:
        row = self.row_of(activity_id)
        if row < 0:
            return False
        self.table.setCurrentCell(row, 0)
        return True

    def open_dialog(self, dialog, on_accepted) -> None:
        """Window-modal without blocking (``open``), so the page and tests carry on; ``on_accepted``
        runs when the user confirmed."""
        self.dialog = dialog
        dialog.accepted.connect(on_accepted)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def new_activity(self) -> None:
        dialog = ActivityDialog(self, self.app_ctx)

        def created():
            self.apply_filters()
            self.select_activity(dialog.saved_id)
            self.panel._message("活动已创建，可以登记报名。")
        self.open_dialog(dialog, created)

    # ------------------------------------------------------------------ attendance sheet import
    def import_sheet(self, path: str | None = None) -> None:
        """Validate the whole file first (nothing written when any row is bad); the row errors are
        listed and the valid rows imported only when the user says so."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "导入签到表", "", "Excel 工作簿 (*.xlsx)")
            if not path:
                return
        self._run_import(path, valid_only=False)

    def _import_message(self, text: str, ok: bool) -> None:
        self.import_message.setText(text)
        self.import_message.setStyleSheet(OK_STYLE if ok else BAD_STYLE)
        self.import_message.setVisible(bool(text))

    def _run_import(self, path: str, valid_only: bool) -> None:
        from pathlib import Path

        from shell.core.transfer import run_import
        from shell.ui.tasks import run_task

        from ..importers import IMPORTERS

        definition = next(d for d in IMPORTERS if d.kind == "volunteer-attendance")
        ctx = self.app_ctx

        def work(progress):
            return run_import(ctx.session_factory, ctx.actor, definition, Path(path), valid_only=valid_only)

        def done(result) -> None:
            if result.errors and not valid_only:
                dialog = ImportErrorsDialog(self, Path(path).name, result)
                self.open_dialog(dialog, lambda: self._run_import(path, valid_only=True))
                self._import_message(f"签到表有 {len(result.errors)} 处错误，未导入任何数据。", ok=False)
                return
            current = self.panel.detail.activity.id if self.panel.detail else None
            self.apply_filters()
            skipped = f"，跳过 {len(result.errors)} 处错误" if result.errors else ""
            self._import_message(f"已从“{Path(path).name}”导入 {result.written} 条签到签退记录{skipped}，"
                                 "等待时长审核。", ok=True)
            if current is not None:
                self.select_activity(current)

        def failed(exc) -> None:
            from shell.ui.errors import error_text

            self._import_message(f"导入失败：{error_text(exc)[1]}", ok=False)

        self.import_task = run_task(self, "导入签到表", work, on_done=done, on_error=failed, cancellable=False,
                                    label=f"正在检查并导入“{Path(path).name}”……")
