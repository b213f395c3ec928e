"""事件办理 page: indicators for this year and the event list (lazy, newest first) with a status filter
and "待我处理"; the report form and the event detail are in event_dialogs.py, the categories in
categories.py."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shell.clock import format_local
from shell.ui.widgets import Column, LazyTableModel

from .. import services as svc
from .categories import CategoriesDialog
from .common import show_listing
from .departments import DepartmentChooser
from .event_dialogs import EventDialog, ReportEventDialog


def indicator_text(app_ctx) -> str:
    """One line of this year's indicators (runs on the thread pool, in its own session)."""
    with app_ctx.service(commit=False) as ctx:
        today = ctx.today()
        ind = svc.indicators(ctx, today.replace(month=1, day=1), today)
    mean = "—" if ind.mean_hours is None else f"{ind.mean_hours:.1f} 小时"
    return (f"{today.year}年：立案 {ind.due} 件，结案 {ind.closed} 件，结案率 {ind.percent(ind.closure_rate)}，"
            f"按期结案率 {ind.percent(ind.on_time_rate)}，平均办理时长 {mean}")


STATUS_FILTERS = list(svc.EVENT_FILTERS.items())


class EventsPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-events")
        self.indicator_label = QLabel(self)
        self.indicator_label.setObjectName("grid-indicators")
        self._indicator_runs = 0
        self.filter = QComboBox(self)
        self.filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for code, label in STATUS_FILTERS:
            self.filter.addItem(label, code)
        self.filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        # a department's worklist: the cases dispatched to one entry of 部门与单位 (inactive ones too)
        with app_ctx.service(commit=False) as ctx:
            departments = svc.department_rows(ctx, include_inactive=True)
        self.department = DepartmentChooser(departments, self, empty="全部部门")
        self.department.setObjectName("events-department")
        self.department.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.count_label = QLabel(self)
        self.report_button = QPushButton("上报事件", self)
        self.report_button.setEnabled(app_ctx.actor.can(svc.P_REPORT))
        self.report_button.clicked.connect(self.open_report_dialog)
        self.open_button = QPushButton("查看办理", self)
        self.open_button.clicked.connect(self.open_selected)
        self.categories_button = QPushButton("事件类别…", self)
        self.categories_button.setObjectName("event-categories")
        self.categories_button.setVisible(app_ctx.actor.can(svc.P_CATEGORY))
        self.categories_button.clicked.connect(self.open_categories)
        top = QHBoxLayout()
        top.addWidget(QLabel("状态：", self))
        top.addWidget(self.filter)
        top.addWidget(QLabel("派遣对象：", self))
        top.addWidget(self.department)
        top.addWidget(self.count_label)
        top.addStretch(1)
        top.addWidget(self.categories_button)
        top.addWidget(self.open_button)
        top.addWidget(self.report_button)
        # 即将到期: the deadline is today or the next working day (the core holiday calendar)
        with app_ctx.service(commit=False) as ctx:
            self.today = today = ctx.today()
            self.soon = soon = svc.due_soon_limit(ctx, 1)

        def deadline(e) -> str:
            if not e.deadline:
                return ""
            if e.status not in svc.OPEN_STATUSES:
                return str(e.deadline)
            if e.deadline < today:
                return f"{e.deadline} 超期"
            return f"{e.deadline} 即将到期" if e.deadline <= soon else str(e.deadline)

        columns = [
            Column("编号", lambda e: e.number),
            Column("事件名称", lambda e: e.title),
            Column("状态", lambda e: svc.STATUS_LABELS[e.status], Qt.AlignmentFlag.AlignCenter),
            Column("处置时限", deadline),
            Column("上报时间", lambda e: format_local(e.reported_at)),
            Column("派遣对象", lambda e: e.assignee),
        ]
        self.model = LazyTableModel(app_ctx.session_factory, columns, page_size=200, parent=self)
        self.model.count_changed.connect(lambda n: self.count_label.setText(f"共 {n} 件"))
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((150, 220, 70, 140, 150)):  # number, title, state, deadline, reported
            self.table.horizontalHeader().resizeSection(column, width)
        self.table.doubleClicked.connect(lambda index: self.open_event(self.model.row_object(index.row()).id))
        layout = QVBoxLayout(self)
        layout.addWidget(self.indicator_label)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.dialog: QDialog | None = None
        self.refresh()

    def refresh(self) -> None:
        self.update_indicators()
        self.apply_filter()

    def show_filtered(self, code: str = "", department_id: int | None = None) -> None:
        """From 我的待办: the events of one EVENT_FILTERS code (a status, 待我处理, 超期 …), of one
        department's worklist with ``department_id``."""
        self.department.blockSignals(True)
        self.department.choose(department_id)
        self.department.blockSignals(False)
        index = self.filter.findData(code)
        self.filter.setCurrentIndex(max(index, 0))
        self.apply_filter()

    def update_indicators(self) -> None:
        """This year's indicators, computed on the thread pool (a year of events is a large read)."""
        from shell.ui.tasks import run_in_pool

        if not self.indicator_label.text():
            self.indicator_label.setText("正在统计本年度指标…")
        self._indicator_runs += 1
        run = self._indicator_runs
        run_in_pool(lambda: indicator_text(self.app_ctx), lambda ok, result: self._show_indicators(run, ok, result))

    def _show_indicators(self, run: int, ok: bool, result) -> None:
        try:
            label = self.indicator_label
            label.objectName()
        except RuntimeError:   # the page was closed while the figures were computed
            return
        if run != self._indicator_runs:   # a newer computation is on its way
            return
        if ok:
            label.setText(result)
        else:
            from shell.ui.errors import error_text

            label.setText(f"指标统计失败：{error_text(result)[1]}")

    def apply_filter(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            listing = svc.events_listing(ctx, self.filter.currentData() or "", self.department.department_id())
        show_listing(self.model, listing)

    def open_categories(self) -> CategoriesDialog:
        self.dialog = CategoriesDialog(self.app_ctx, self)
        self.dialog.open()
        return self.dialog

    def open_report_dialog(self) -> ReportEventDialog:
        self.dialog = ReportEventDialog(self.app_ctx, self)
        self.dialog.accepted.connect(self.refresh)
        self.dialog.open()
        return self.dialog

    def open_selected(self) -> EventDialog | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.open_event(self.model.row_object(rows[0].row()).id)

    def open_event(self, event_id: int) -> EventDialog:
        self.dialog = EventDialog(self.app_ctx, event_id, self)
        self.dialog.finished.connect(lambda _r: self.refresh())
        self.dialog.open()
        return self.dialog


def events_page(app_ctx, parent=None) -> EventsPage:
    return EventsPage(app_ctx, parent)

