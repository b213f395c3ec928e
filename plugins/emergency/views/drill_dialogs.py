"""The drill dialogs: 计划演练, 登记实施 and the evaluation (评估) of a held drill."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.ui.widgets.form import FormDialog

from .. import services as svc
from ..labels import DRILL_CONTENTS, DRILL_FORMS, DRILL_PURPOSES
from .forms import RecordFormDialog

if TYPE_CHECKING:
    from .drills import DrillsPage


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
