"""事件统计 page: 结案率, 按期结案率, mean and median handling time for a period, per community, grid,
category or month, as a table with a total line and a chart; and on a second tab the departments'
work (部门办理情况: cases received, handled, 核查不通过, overdue, 督办, mean days to 处置). Computed on
the thread pool (a year of a large street's events is too much for the GUI thread); the chart reads
the same figures."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget

from shell.clock import local_today
from shell.ui.widgets.charts import ChartData, ChartView

from .. import services as svc
from .common import date_edit, fill, table

HEADERS = ["", "应结案", "结案", "按期结案", "结案率", "按期结案率", "平均办理时长（小时）", "中位办理时长（小时）"]
DEPARTMENT_NOTE = ("按派遣日期统计：所选期间派遣给各部门与单位的事件；超期 = 处置晚于处置时限，"
                   "或至今未处置且已过时限；核查不通过、督办按发生日期计。")
DEPARTMENT_HEADERS = ["部门与单位", "派遣收件", "已处置", "核查不通过", "超期", "督办", "平均处置用时（天）"]


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def compute(app_ctx, start: date, end: date, by: str) -> tuple[list[tuple[str, svc.Indicators]], svc.Indicators]:
    """On the thread pool: the table and its total from one read of the period's events."""
    from shell.gcpause import paused_gc

    with paused_gc(), app_ctx.service(commit=False) as ctx:
        result = svc.indicator_breakdown(ctx, start, end, by)
    if result[0]:
        # pyqtgraph's first import (≈0.4 s) here on the pool, not in the GUI thread's first drawing
        import pyqtgraph  # noqa: F401
    return result


def compute_departments(app_ctx, start: date, end: date) -> list[svc.DepartmentStats]:
    """On the thread pool, when the 部门办理情况 tab is shown: the departments' figures for the period
    (a read of its 派遣, 处置, 核查不通过 and 督办 steps; kept apart so the first tab does not wait for it)."""
    from shell.gcpause import paused_gc

    with paused_gc(), app_ctx.service(commit=False) as ctx:
        return svc.department_stats(ctx, start, end)


class StatsPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-stats")
        today = local_today()
        self.start = date_edit(today.replace(month=1, day=1), self)
        self.end = date_edit(today, self)
        self.by = QComboBox(self)
        self.by.setObjectName("stats-by")
        for code, label in svc.BREAKDOWNS.items():
            self.by.addItem(f"按{label}", code)
        self.run_button = QPushButton("统计", self)
        self.run_button.setObjectName("stats-run")
        self.run_button.clicked.connect(self.refresh)
        self.message = QLabel(self)
        self.message.setObjectName("stats-message")
        top = QHBoxLayout()
        top.addWidget(QLabel("立案日期：", self))
        top.addWidget(self.start)
        top.addWidget(QLabel("至", self))
        top.addWidget(self.end)
        top.addWidget(self.by)
        top.addWidget(self.run_button)
        top.addWidget(self.message, 1)
        self.table = table(self, HEADERS, "stats-table")
        self.rows: list[tuple[str, svc.Indicators]] = []
        self.chart = ChartView(self._chart_data, self, min_height=240)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(self.chart)
        split.setSizes([380, 300])
        self.department_table = table(self, DEPARTMENT_HEADERS, "stats-departments")
        self.department_table.horizontalHeader().setMinimumSectionSize(88)
        self.department_note = QLabel(DEPARTMENT_NOTE, self)
        self.department_note.setWordWrap(True)
        self.department_note.setStyleSheet("color: #555;")
        departments = QWidget(self)
        dep_layout = QVBoxLayout(departments)
        dep_layout.setContentsMargins(0, 4, 0, 0)
        dep_layout.addWidget(self.department_note)
        dep_layout.addWidget(self.department_table, 1)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("stats-tabs")
        self.tabs.addTab(split, "办理指标")
        self.tabs.addTab(departments, "部门办理情况")
        self.tabs.currentChanged.connect(lambda _i: self.refresh_departments())
        self.departments: list[svc.DepartmentStats] = []
        self.departments_loaded = False
        self._dep_runs = 0
        self._dep_params: tuple | None = None     # the period the department table shows
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self._runs = 0
        self.loaded = False
        self.refresh()

    def params(self) -> tuple[date, date, str]:
        return self.start.date().toPython(), self.end.date().toPython(), self.by.currentData()

    def refresh(self) -> None:
        from shell.ui.tasks import run_in_pool

        start, end, by = self.params()
        self._runs += 1
        run = self._runs
        self.loaded = False
        self.message.setText("正在统计…")
        self.message.setStyleSheet("color: #777;")
        run_in_pool(lambda: compute(self.app_ctx, start, end, by), lambda ok, result: self._show(run, ok, result))
        self._dep_params = None           # 统计 counts again what the department tab shows too
        self.refresh_departments()

    def refresh_departments(self) -> None:
        """The department table for the chosen period, computed when its tab is showing (again after
        统计 with another period)."""
        from shell.ui.tasks import run_in_pool

        start, end, _by = self.params()
        if self.tabs.currentIndex() != 1 or self._dep_params == (start, end):
            return
        self._dep_params = (start, end)
        self._dep_runs += 1
        run = self._dep_runs
        self.departments_loaded = False
        self.department_note.setText("正在统计各部门办理情况…")
        run_in_pool(lambda: compute_departments(self.app_ctx, start, end),
                    lambda ok, result: self._show_departments(run, ok, result))

    def _show_departments(self, run: int, ok: bool, result) -> None:
        try:
            self.objectName()
        except RuntimeError:   # closed meanwhile
            return
        if run != self._dep_runs:
            return
        if not ok:
            from shell.ui.errors import error_text

            self._dep_params = None
            self.department_note.setText(f"部门统计失败：{error_text(result)[1]}")
            return
        self.department_note.setText(DEPARTMENT_NOTE)
        self.departments = result
        self._fill_departments(result)
        self.departments_loaded = True

    def _show(self, run: int, ok: bool, result) -> None:
        try:
            self.objectName()
        except RuntimeError:   # closed meanwhile
            return
        if run != self._runs:
            return
        if not ok:
            from shell.ui.errors import error_text

            self.message.setText(error_text(result)[1])
            self.message.setStyleSheet("color: #c0392b;")
            return
        rows, total = result
        self.rows = rows
        label = svc.BREAKDOWNS[self.by.currentData()]
        self.table.setHorizontalHeaderLabels([label] + HEADERS[1:])
        P = svc.Indicators.percent
        lines = [(name, (name, i.due, i.closed, i.on_time, P(i.closure_rate), P(i.on_time_rate), _hours(i.mean_hours),
                         _hours(i.median_hours))) for name, i in rows]
        lines.append((None, ("合计", total.due, total.closed, total.on_time, P(total.closure_rate),
                             P(total.on_time_rate), _hours(total.mean_hours), _hours(total.median_hours))))
        fill(self.table, lines)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r in range(len(lines)):
            for c in range(1, self.table.columnCount()):
                self.table.item(r, c).setTextAlignment(right)
        font = self.table.item(len(lines) - 1, 0).font()
        font.setBold(True)
        for c in range(self.table.columnCount()):
            self.table.item(len(lines) - 1, c).setFont(font)
        self.message.setText(f"{len(rows)} 个{label}，共立案 {total.due} 件")
        self.message.setStyleSheet("color: #555;")
        # the chart on the next turn of the event loop: table and chart together froze the window
        # for their sum (a pyqtgraph plot costs 50–130 ms of GUI time here)
        QTimer.singleShot(0, lambda: self._draw(run))

    def _fill_departments(self, departments) -> None:
        from PySide6.QtWidgets import QHeaderView

        t = self.department_table
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        lines = [(d.department_id, (d.name, d.received, d.handled, d.returned, d.overdue, d.escalated, d.mean_text))
                 for d in departments]
        if departments:
            handled = sum(d.handled for d in departments)
            mean = (sum((d.mean_days or 0) * d.handled for d in departments) / handled) if handled else None
            lines.append((None, ("合计", sum(d.received for d in departments), handled,
                                 sum(d.returned for d in departments), sum(d.overdue for d in departments),
                                 sum(d.escalated for d in departments), "—" if mean is None else f"{mean:.1f}")))
        fill(t, lines)
        for r in range(len(lines)):
            for c in range(1, t.columnCount()):
                t.item(r, c).setTextAlignment(right)
        if departments:
            font = t.item(len(lines) - 1, 0).font()
            font.setBold(True)
            for c in range(t.columnCount()):
                t.item(len(lines) - 1, c).setFont(font)
        # figures beside their headings, not pushed to the far edge by a stretched last column
        t.horizontalHeader().setStretchLastSection(False)
        t.horizontalHeader().setSectionResizeMode(t.columnCount() - 1, QHeaderView.ResizeMode.ResizeToContents)
        self.tabs.setTabText(1, f"部门办理情况（{len(departments)}）")

    def _draw(self, run: int) -> None:
        try:
            self.objectName()
        except RuntimeError:
            return
        if run == self._runs:
            self.chart.show_data(self._chart_data())
            self.loaded = True

    def _chart_data(self) -> ChartData:
        """结案率 and 按期结案率 (percent) per row of the table; the table is the source."""
        rows = self.rows
        return ChartData(categories=[name for name, _i in rows],
                         series=[("结案率", [round((i.closure_rate or 0) * 100, 2) for _n, i in rows]),
                                 ("按期结案率", [round((i.on_time_rate or 0) * 100, 2) for _n, i in rows])],
                         kind="bar", y_label="%", empty_text="所选期间没有立案的事件")

