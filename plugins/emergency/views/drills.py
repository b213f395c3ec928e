"""应急演练 page: the drills of a year (planned → held → evaluated) with the planner, the record of
the day it was held, the evaluation form scored against the linked plan's steps (expected action,
observed, score 0–10, problem) plus the summary report fields, printing the 演练评估报告, and the
yearly requirement (each community and the street, comprehensive drills) with who is behind."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from shell.errors import JiedaoError
from shell.ui.widgets.rows_model import CENTER as ALIGN_CENTER
from shell.ui.widgets.rows_model import RIGHT as ALIGN_RIGHT
from shell.ui.widgets.rows_model import RowsModel

from .. import services as svc
from ..labels import DRILL_CONTENTS, DRILL_FORMS, DRILL_PURPOSES, DRILL_STATUS
from .drill_dialogs import DrillEvaluationDialog, DrillHeldDialog, DrillPlanDialog

BEHIND_FG = QColor("#c0392b")
STATUS_BG = {"planned": None, "held": QColor("#fdf6c3"), "evaluated": QColor("#d5f0dc"), "cancelled": QColor("#e5e5e5")}
COLUMNS = ("计划日期", "实施日期", "演练名称", "组织单位", "形式", "内容", "目的", "地点", "人数", "状态", "评分")


class DrillModel(RowsModel):
    headers = COLUMNS

    def cell(self, r, col):
        return (r.planned_on.isoformat(), r.held_on.isoformat() if r.held_on else "—", r.title, r.area,
                DRILL_FORMS[r.form][:2], DRILL_CONTENTS[r.content][:2], DRILL_PURPOSES[r.purpose][:3],
                r.place or "—", "—" if r.participants is None else str(r.participants), DRILL_STATUS[r.status],
                "—" if r.score is None else str(r.score))[col]

    def role_data(self, r, col, role):
        if role == Qt.ItemDataRole.BackgroundRole:
            colour = STATUS_BG.get(r.status)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"依据预案：{r.plan_title}" if r.plan_title else "未关联预案"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col in (8, 10):
                return ALIGN_RIGHT
            if col in (0, 1, 4, 5, 6, 9):
                return ALIGN_CENTER
        return None


# ----------------------------------------------------------------------------- the page

class DrillsPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("emergency-drills")
        self.dialog = None
        self.print_dialog = None
        self.areas: list[svc.AreaChoice] = []
        self.plans: list[tuple[int, str]] = []
        self.can_manage = app_ctx.actor.can("emergency.drill.manage")

        self.year = QSpinBox(self)
        self.year.setObjectName("drill-year")
        self.year.setRange(2000, 2100)
        self.year.setValue(self.today().year)
        self.year.setSuffix(" 年")
        self.status = QComboBox(self)
        self.status.setObjectName("drill-status")
        self.status.addItem("全部状态", None)
        for code, label in DRILL_STATUS.items():
            self.status.addItem(label, code)
        self.new_button = QPushButton("新建演练…", self)
        self.new_button.setObjectName("drill-new")
        self.held_button = QPushButton("登记实施…", self)
        self.held_button.setObjectName("drill-held")
        self.evaluate_button = QPushButton("评估…", self)
        self.evaluate_button.setObjectName("drill-evaluate")
        self.print_button = QPushButton("打印评估报告", self)
        self.print_button.setObjectName("drill-print")
        self.cancel_button = QPushButton("取消演练…", self)
        self.cancel_button.setObjectName("drill-cancel")
        top = QHBoxLayout()
        top.addWidget(QLabel("年度", self))
        top.addWidget(self.year)
        top.addWidget(self.status)
        top.addStretch(1)
        for b in (self.new_button, self.held_button, self.evaluate_button, self.cancel_button, self.print_button):
            top.addWidget(b)

        self.model = DrillModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("drill-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for c, w in enumerate((90, 90, 240, 110, 50, 50, 60, 150, 50, 60)):
            header.resizeSection(c, w)
        header.setStretchLastSection(True)
        self.count_label = QLabel(self)

        self.compliance = QTableWidget(0, 6, self)
        self.compliance.setObjectName("drill-compliance")
        self.compliance.setHorizontalHeaderLabels(("单位", "层级", "已开展综合演练", "计划中", "年度要求", "完成情况"))
        self.compliance.verticalHeader().setVisible(False)
        self.compliance.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.compliance.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.behind_label = QLabel(self)
        self.behind_label.setObjectName("drill-behind")
        self.behind_label.setWordWrap(True)
        self.behind_label.setStyleSheet("font-weight: bold;")

        list_tab = QWidget(self)
        lt = QVBoxLayout(list_tab)
        lt.addWidget(self.table, 1)
        lt.addWidget(self.count_label)
        self.behind_only = QCheckBox("只看未完成的单位", self)
        self.behind_only.setObjectName("drill-behind-only")
        self.behind_only.toggled.connect(lambda _on: self._fill_compliance(self.comp, self.year.value()))
        self.comp: list[svc.DrillCompliance] = []
        comp_tab = QWidget(self)
        ct = QVBoxLayout(comp_tab)
        ct.addWidget(self.behind_label)
        ct.addWidget(self.behind_only)
        ct.addWidget(self.compliance, 1)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(list_tab, "演练记录")
        self.tabs.addTab(comp_tab, "年度综合演练完成情况")

        self.error = QLabel(self)
        self.error.setStyleSheet("color: #c0392b;")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.tabs, 1)

        self.year.valueChanged.connect(lambda _v: self.reload())
        self.status.currentIndexChanged.connect(lambda _i: self.reload())
        self.new_button.clicked.connect(self.open_plan)
        self.held_button.clicked.connect(self.open_held)
        self.evaluate_button.clicked.connect(self.open_evaluation)
        self.print_button.clicked.connect(self.print_evaluation)
        self.cancel_button.clicked.connect(self.cancel_drill)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selection_changed())
        self.table.doubleClicked.connect(lambda _i: self._default_action())
        self.reload()

    def today(self) -> date:
        from shell.clock import to_local

        return to_local(self.app_ctx.clock()).date()

    # --- data ---------------------------------------------------------------------------------------
    def reload(self) -> None:
        self.error.hide()
        year, status = self.year.value(), self.status.currentData()
        try:
            with self.app_ctx.service(commit=False) as ctx:
                rows = svc.drill_rows(ctx, year, status)
                comp = svc.drill_compliance(ctx, year)
                self.areas = svc.unit_areas(ctx)
                self.plans = [(p.id, f"{p.title}（第 {p.version} 版）") for p in svc.list_plans(ctx)]
        except JiedaoError as exc:
            self.error.setText(exc.message)
            self.error.show()
            rows, comp = [], []
        self.model.set_rows(rows)
        counts = {code: sum(1 for r in rows if r.status == code) for code in DRILL_STATUS}
        self.count_label.setText(f"共 {len(rows)} 次：" + "，".join(f"{DRILL_STATUS[c]} {n}" for c, n in counts.items()
                                                                   if n))
        self._fill_compliance(comp, year)
        self._selection_changed()

    def show_filtered(self, year: int | None = None, behind: bool = True) -> None:
        """From 我的待办: the year's 综合演练完成情况 with only the units still behind (as
        ``svc.drills_behind``); 只看未完成的单位 unticked shows every unit."""
        for box in (self.year, self.behind_only):
            box.blockSignals(True)
        if year is not None:
            self.year.setValue(year)
        self.behind_only.setChecked(behind)
        for box in (self.year, self.behind_only):
            box.blockSignals(False)
        self.reload()
        self.tabs.setCurrentIndex(1)

    def _fill_compliance(self, comp: list[svc.DrillCompliance], year: int) -> None:
        self.comp = comp
        shown = [c for c in comp if c.behind] if self.behind_only.isChecked() else comp
        self.compliance.setRowCount(len(shown))
        levels = {"street": "街道", "community": "社区"}
        for r, c in enumerate(shown):
            state = f"未完成（还差 {c.required - c.held} 次）" if c.behind else "已完成"
            for col, text in enumerate((c.area, levels.get(c.level, c.level), str(c.held), str(c.planned),
                                        str(c.required), state)):
                cell = QTableWidgetItem(text)
                if col >= 2:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if c.behind:
                    cell.setForeground(QBrush(BEHIND_FG))
                self.compliance.setItem(r, col, cell)
        behind = [c.area for c in comp if c.behind]
        self.behind_label.setText(f"{year} 年尚未完成综合演练：{'、'.join(behind)}（共 {len(behind)} 个单位）。"
                                  if behind else f"{year} 年街道和各社区均已完成综合演练。")
        self.behind_label.setStyleSheet("font-weight: bold;" + (" color: #c0392b;" if behind else " color: #1e6b34;"))
        self.tabs.setTabText(1, f"年度综合演练完成情况（{len(behind)} 个未完成）" if behind else "年度综合演练完成情况")

    def selected(self) -> svc.DrillRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def select_drill(self, drill_id: int) -> bool:
        for r, row in enumerate(self.model.rows):
            if row.id == drill_id:
                self.table.selectRow(r)
                return True
        return False

    def _selection_changed(self) -> None:
        row = self.selected()
        self.new_button.setEnabled(self.can_manage)
        self.held_button.setEnabled(self.can_manage and row is not None and row.status == "planned")
        self.evaluate_button.setEnabled(self.can_manage and row is not None and row.status == "held")
        self.print_button.setEnabled(row is not None and row.status == "evaluated")
        self.cancel_button.setEnabled(self.can_manage and row is not None and row.status == "planned")
        if not self.can_manage:
            for b in (self.new_button, self.held_button, self.evaluate_button, self.cancel_button):
                b.setToolTip("需要“组织与评估应急演练”权限（emergency.drill.manage）")

    def _default_action(self) -> None:
        row = self.selected()
        if row is None:
            return
        if row.status == "planned" and self.can_manage:
            self.open_held()
        elif row.status == "held" and self.can_manage:
            self.open_evaluation()
        elif row.status == "evaluated":
            self.print_evaluation()

    # --- actions ------------------------------------------------------------------------------------
    def _show(self, dialog, select_id=None):
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def done():
            self.reload()
            target = select_id if select_id is not None else getattr(dialog, "created_id", None)
            if target is not None:
                self.select_drill(target)

        dialog.accepted.connect(done)
        dialog.open()
        return dialog

    def open_plan(self):
        return self._show(DrillPlanDialog(self))

    def open_held(self):
        row = self.selected()
        return self._show(DrillHeldDialog(self, row), row.id) if row and row.status == "planned" else None

    def open_evaluation(self):
        row = self.selected()
        return self._show(DrillEvaluationDialog(self, row), row.id) if row and row.status == "held" else None

    def cancel_drill(self) -> bool:
        """A planned drill that will not take place (it stays on the list as 已取消)."""
        from shell.ui.errors import confirm

        row = self.selected()
        if row is None or row.status != "planned":
            return False
        if not confirm(self, "取消演练", f"取消计划中的演练“{row.title}”？取消后不计入年度演练。"):
            return False
        try:
            with self.app_ctx.service() as ctx:
                svc.cancel_drill(ctx, row.id)
        except JiedaoError as exc:
            self.error.setText(exc.message)
            self.error.show()
            return False
        self.reload()
        self.select_drill(row.id)
        return True

    def print_evaluation(self):
        from .printing import print_report

        row = self.selected()
        if row is None or row.status != "evaluated":
            return None
        self.print_dialog = print_report(self.app_ctx, "emergency.drill_evaluation", {"drill_id": row.id}, self,
                                         f"演练评估报告-{row.title}.pdf")
        return self.print_dialog
