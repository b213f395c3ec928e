"""应急演练 page: the drills of a year (planned → held → evaluated) with the planner, the record of
the day it was held, the evaluation form scored against the linked plan's steps (expected action,
observed, score 0–10, problem) plus the summary report fields, printing the 演练评估报告, and the
yearly requirement (each community and the street, comprehensive drills) with who is behind."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
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
from shell.ui.widgets.form import FormDialog
from shell.ui.widgets.rows_model import CENTER as ALIGN_CENTER
from shell.ui.widgets.rows_model import RIGHT as ALIGN_RIGHT
from shell.ui.widgets.rows_model import RowsModel

from .. import services as svc
from ..models import DRILL_CONTENTS, DRILL_FORMS, DRILL_PURPOSES, DRILL_STATUS
from .forms import RecordFormDialog

BEHIND_FG = QColor("#c0392b")
STATUS_BG = {"planned": None, "held": QColor("#fdf6c3"), "evaluated": QColor("#d5f0dc"), "cancelled": QColor("#e5e5e5")}
COLUMNS = ("计划日期", "实施日期", "演练名称", "组织单位", "形式", "内容", "目的", "地点", "人数", "状态", "评分")


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _date_edit(parent: QWidget, value: date) -> QDateEdit:
    edit = QDateEdit(parent)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setDate(_qdate(value))
    return edit


def _text_box(parent: QWidget, placeholder: str = "", height: int = 54) -> QPlainTextEdit:
    box = QPlainTextEdit(parent)
    box.setPlaceholderText(placeholder)
    box.setFixedHeight(height)
    box.setTabChangesFocus(True)
    return box


def _combo(parent: QWidget, choices: dict) -> QComboBox:
    combo = QComboBox(parent)
    for code, label in choices.items():
        combo.addItem(label, code)
    return combo


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


# ----------------------------------------------------------------------------- dialogs

class DrillPlanDialog(FormDialog):
    """演练计划: type by form, content and purpose, plan link, date, place, units and people."""

    def __init__(self, page: DrillsPage):
        super().__init__(page, "新建演练计划", "emergency-drill-plan-dialog",
                         "登记一次计划开展的演练。综合演练计入“每年至少一次综合演练”的要求。", "保存计划")
        self.page, self.app_ctx = page, page.app_ctx
        self.created_id: int | None = None
        f = self.form
        self.title_edit = f.add("title", "演练名称", QLineEdit(self), required=True)
        self.title_edit.setPlaceholderText("如 东湖社区防汛转移综合演练")
        self.area = f.add("area_id", "组织单位", QComboBox(self), required=True)
        for a in page.areas:
            self.area.addItem(a.name, a.id)
        self.form_kind = f.add("form", "演练形式", _combo(self, DRILL_FORMS), required=True)
        self.content = f.add("content", "演练内容", _combo(self, DRILL_CONTENTS), required=True)
        self.content.setCurrentIndex(1)
        self.purpose = f.add("purpose", "演练目的类型", _combo(self, DRILL_PURPOSES), required=True)
        self.plan = f.add("plan_id", "依据预案", QComboBox(self), hint="评估时按预案的处置步骤逐项打分")
        self.plan.addItem("（不关联预案）", None)
        for plan_id, title in page.plans:
            self.plan.addItem(title, plan_id)
        self.planned_on = f.add("planned_on", "计划日期", _date_edit(self, page.today()), required=True)
        self.place = f.add("place", "地点", QLineEdit(self))
        self.units = f.add("units", "参演单位", _text_box(self, "多个单位用顿号分隔"))
        self.participants = f.add("participants", "参演人数", QSpinBox(self), hint="0 表示待定")
        self.participants.setRange(0, 100000)
        self.aim = f.add("aim", "演练目的", _text_box(self, "如 检验预案的可操作性，锻炼队伍"))
        self.scenario = f.add("scenario", "情景概要", _text_box(self, "如 暴雨导致低洼地带积水，需转移行动不便居民"))
        self.setMinimumWidth(600)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form

        def work():
            with self.app_ctx.service() as ctx:
                return svc.plan_drill(ctx, self.area.currentData(), f.value("title"), self.form_kind.currentData(),
                                      self.content.currentData(), self.purpose.currentData(),
                                      self.planned_on.date().toPython(), plan_id=self.plan.currentData(),
                                      place=f.value("place"), units=f.value("units"),
                                      participants=self.participants.value() or None,
                                      scenario=f.value("scenario"), aim=f.value("aim")).id

        ok, self.created_id = self.call(work)
        return ok


class DrillHeldDialog(RecordFormDialog):
    """登记实施: the day it was held, place, units and the number of people who took part."""

    def __init__(self, page: DrillsPage, row: svc.DrillRow):
        super().__init__(page, f"登记实施 — {row.title}", "emergency-drill-held-dialog",
                         "演练结束后登记实际情况；登记后即可评估。", "登记实施", expected_version=row.version_id)
        self.page, self.app_ctx, self.row = page, page.app_ctx, row
        with self.app_ctx.service(commit=False) as ctx:
            drill = svc.get_drill(ctx, row.id)
            place, units, scenario, people = drill.place, drill.units, drill.scenario, drill.participants
        f = self.form
        self.held_on = f.add("held_on", "实施日期", _date_edit(self, min(page.today(), row.planned_on)), required=True)
        self.place = f.add("place", "地点", QLineEdit(place or "", self), required=True)
        self.participants = f.add("participants", "参演人数", QSpinBox(self), required=True)
        self.participants.setRange(0, 100000)
        self.participants.setValue(people or 0)
        self.units = f.add("units", "参演单位", _text_box(self))
        self.units.setPlainText(units or "")
        self.scenario = f.add("scenario", "情景概要", _text_box(self))
        self.scenario.setPlainText(scenario or "")
        self.setMinimumWidth(560)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form

        def work():
            with self.app_ctx.service() as ctx:
                svc.record_drill_held(ctx, self.row.id, self.held_on.date().toPython(), self.participants.value(),
                                      place=f.value("place"), units=f.value("units"), scenario=f.value("scenario"),
                                      expected_version=self.expected_version)

        ok, _ = self.call(work)
        return ok


SCORE_COLUMNS = ("序号", "预期行动（预案步骤）", "实际情况", "得分 (0–10)", "存在问题")


class DrillEvaluationDialog(RecordFormDialog):
    """评估: one row per step of the linked plan (or free rows without a plan), each scored 0–10,
    and the summary report: purpose, problems found and causes, lessons, improvements."""

    def __init__(self, page: DrillsPage, row: svc.DrillRow):
        super().__init__(page, f"演练评估 — {row.title}", "emergency-drill-evaluation-dialog",
                         "对照预案的处置步骤逐项记录实际情况并打分（每项 0–10 分，总分折算为百分制），再填写总结。",
                         "完成评估", expected_version=row.version_id)
        self.page, self.app_ctx, self.row = page, page.app_ctx, row
        with self.app_ctx.service(commit=False) as ctx:
            template = svc.evaluation_template(ctx, row.id)
            aim = svc.get_drill(ctx, row.id).aim
        self.free = not template          # no plan: the evaluator writes the expected actions
        self.table = QTableWidget(0, len(SCORE_COLUMNS), self)
        self.table.setObjectName("evaluation-table")
        self.table.setHorizontalHeaderLabels(SCORE_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(250)
        self.step_ids: list[int | None] = []
        for t in template:
            self.add_row(t["expected"], t["step_id"])
        if self.free:
            self.add_row("")
        box = QWidget(self)
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.table)
        line = QHBoxLayout()
        self.total_label = QLabel(self)
        self.total_label.setObjectName("evaluation-total")
        self.total_label.setStyleSheet("font-weight: bold;")
        line.addWidget(self.total_label, 1)
        self.add_button = QPushButton("添加评估项", self)
        self.add_button.setObjectName("evaluation-add-row")
        self.add_button.clicked.connect(lambda: self.add_row(""))
        self.add_button.setVisible(self.free)
        line.addWidget(self.add_button)
        col.addLayout(line)
        f = self.form
        f.add("scores", "分项评估", box)
        self.aim = f.add("aim", "演练目的", _text_box(self, height=40))
        self.aim.setPlainText(aim or "")
        self.problems = f.add("problems", "发现的问题", _text_box(self, height=40))
        self.causes = f.add("causes", "原因分析", _text_box(self, height=40))
        self.lessons = f.add("lessons", "经验教训", _text_box(self, height=40))
        self.improvements = f.add("improvements", "改进措施", _text_box(self, height=40))
        self.evaluator = f.add("evaluator", "评估人", QLineEdit(self), required=True)
        self.evaluated_on = f.add("evaluated_on", "评估日期", _date_edit(self, page.today()))
        self.setMinimumWidth(860)
        self.update_total()
        self.finish_layout()

    def add_row(self, expected: str, step_id: int | None = None) -> int:
        r = self.table.rowCount()
        self.table.insertRow(r)
        seq = QTableWidgetItem(str(r + 1))
        seq.setFlags(seq.flags() & ~Qt.ItemFlag.ItemIsEditable)
        seq.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table.setItem(r, 0, seq)
        exp = QTableWidgetItem(expected)
        if step_id is not None:
            exp.setFlags(exp.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.table.setItem(r, 1, exp)
        self.table.setItem(r, 2, QTableWidgetItem(""))
        spin = QSpinBox(self.table)
        spin.setRange(-1, 10)
        spin.setSpecialValueText("未评分")
        spin.setValue(-1)
        spin.valueChanged.connect(lambda _v: self.update_total())
        self.table.setCellWidget(r, 3, spin)
        self.table.setItem(r, 4, QTableWidgetItem(""))
        self.step_ids.append(step_id)
        self.update_total() if hasattr(self, "total_label") else None
        return r

    def set_row(self, r: int, observed: str, score: int, problem: str = "", expected: str | None = None) -> None:
        if expected is not None:
            self.table.item(r, 1).setText(expected)
        self.table.item(r, 2).setText(observed)
        self.table.cellWidget(r, 3).setValue(score)
        self.table.item(r, 4).setText(problem)

    def score(self, r: int) -> int | None:
        value = self.table.cellWidget(r, 3).value()
        return None if value < 0 else value

    def update_total(self) -> None:
        scores = [self.score(r) for r in range(self.table.rowCount())]
        done = [s for s in scores if s is not None]
        if not scores:
            self.total_label.setText("")
        elif len(done) < len(scores):
            self.total_label.setText(f"已评分 {len(done)}/{len(scores)} 项")
        else:
            self.total_label.setText(f"综合得分 {round(sum(done) * 10 / len(done))} 分（满分 100）")

    def scores(self) -> list[dict]:
        out = []
        for r in range(self.table.rowCount()):
            expected = self.table.item(r, 1).text().strip()
            score = self.score(r)
            if self.step_ids[r] is None and not expected and score is None:
                continue            # an empty free row
            out.append({"step_id": self.step_ids[r], "expected": expected or None,
                        "observed": self.table.item(r, 2).text(), "score": score,
                        "problem": self.table.item(r, 4).text()})
        return out

    def submit(self) -> bool:
        f = self.form
        unscored = [r + 1 for r in range(self.table.rowCount())
                    if self.score(r) is None and (self.step_ids[r] is not None or self.table.item(r, 1).text().strip())]
        if unscored:
            f.show_errors({"scores": "第 " + "、".join(map(str, unscored)) + " 项还没有评分（0–10 分）。"})
            return False

        def work():
            with self.app_ctx.service() as ctx:
                svc.evaluate_drill(ctx, self.row.id, self.scores(), f.value("evaluator"), problems=f.value("problems"),
                                   causes=f.value("causes"), lessons=f.value("lessons"),
                                   improvements=f.value("improvements"), aim=f.value("aim"),
                                   evaluated_on=self.evaluated_on.date().toPython(),
                                   expected_version=self.expected_version)

        ok, _ = self.call(work)
        return ok


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
        comp_tab = QWidget(self)
        ct = QVBoxLayout(comp_tab)
        ct.addWidget(self.behind_label)
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

    def _fill_compliance(self, comp: list[svc.DrillCompliance], year: int) -> None:
        self.compliance.setRowCount(len(comp))
        levels = {"street": "街道", "community": "社区"}
        for r, c in enumerate(comp):
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
