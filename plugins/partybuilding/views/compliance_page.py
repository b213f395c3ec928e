"""组织生活落实情况: required meetings per branch and 党小组 for a year, quarter or month, with the
missing ones first."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.clock import local_today
from shell.errors import JiedaoError
from shell.gcpause import without_gc
from shell.ui.errors import show_error

from .. import services as svc


class RulesDialog(QDialog):
    """组织生活频次规则 as data: per meeting kind the period, the minimum count, and whether it is checked."""

    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("pb-rules")
        self.setWindowTitle("组织生活频次规则")
        self.resize(560, 380)
        with app_ctx.service(commit=False) as ctx:
            self.rules = svc.rules_in_force(ctx)
        self.kinds = list(svc.DEFAULT_RULES)
        self.table = QTableWidget(len(self.kinds), 4)
        self.table.setHorizontalHeaderLabels(["会议", "周期", "至少次数", "纳入检查"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 130)
        for r, kind in enumerate(self.kinds):
            rule = self.rules[kind]
            item = QTableWidgetItem(svc.MEETING_KINDS[kind])
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(r, 0, item)
            period = QComboBox()
            for code, label in svc.PERIOD_LABELS.items():
                period.addItem(label, code)
            period.setCurrentIndex(period.findData(rule.period))
            self.table.setCellWidget(r, 1, period)
            count = QSpinBox()
            count.setRange(1, 31)
            count.setValue(rule.min_count)
            self.table.setCellWidget(r, 2, count)
            active = QCheckBox()
            active.setChecked(rule.active)
            self.table.setCellWidget(r, 3, active)
        self.message = QLabel()
        self.message.setStyleSheet("color: #c0392b;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("保存")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("默认：党员大会每季度，支委会、党小组会和主题党日每月，党课每季度（各地做法不一），"
                             "组织生活会和民主评议党员每年。可按本地要求调整；改动对所有党支部生效。"))
        lay.itemAt(0).widget().setWordWrap(True)
        lay.addWidget(self.table)
        lay.addWidget(self.message)
        lay.addWidget(buttons)

    def row(self, kind: str) -> int:
        return self.kinds.index(kind)

    def save(self) -> None:
        changes = []
        for r, kind in enumerate(self.kinds):
            new = svc.Rule(kind, self.table.cellWidget(r, 1).currentData(), self.table.cellWidget(r, 2).value(),
                           self.table.cellWidget(r, 3).isChecked())
            if new != self.rules[kind]:
                changes.append(new)
        try:
            with self.app_ctx.service() as ctx:   # all rules or none
                for rule in changes:
                    svc.set_meeting_rule(ctx, rule.kind, rule.period, rule.min_count, rule.active)
        except JiedaoError as exc:
            self.message.setText(exc.message)
            return
        self.accept()

PERIODS = [("全年", None, None)] + [(f"第{q}季度", q, None) for q in range(1, 5)] + \
          [(f"{m}月", None, m) for m in range(1, 13)]


SHOW_MODES = (("只看缺项", "missing"), ("未落实（缺项和本期尚未开）", "open"), ("全部", "all"))


class CompliancePage(QWidget):
    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("partybuilding-compliance")
        today = local_today(app_ctx.clock())
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(today.year)
        self.period = QComboBox()
        for label, q, m in PERIODS:
            self.period.addItem(label, (q, m))
        self.period.setCurrentIndex((today.month - 1) // 3 + 1)
        # Which rows: 缺项 (periods ended short), 未落实 (those and the running periods not yet met), 全部.
        self.show_mode = QComboBox()
        self.show_mode.setObjectName("pb-compliance-show")
        for label, code in SHOW_MODES:
            self.show_mode.addItem(label, code)
        self.summary = QLabel()
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["党组织", "会议", "期间", "应开", "已开", "情况"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rules_button = QPushButton("频次规则…")
        self.rules_button.setObjectName("pb-rules-button")
        self.rules_button.setEnabled(app_ctx.actor.can(svc.RULES))
        self.rules_button.clicked.connect(self.open_rules)
        self.rules_dialog: RulesDialog | None = None
        bar = QHBoxLayout()
        for w in (QLabel("年度"), self.year, QLabel("期间"), self.period, QLabel("显示"), self.show_mode):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.rules_button)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.summary)
        lay.addWidget(self.table)
        self.year.valueChanged.connect(lambda *_: self.refresh())
        self.period.currentIndexChanged.connect(lambda *_: self.refresh())
        self.show_mode.currentIndexChanged.connect(lambda *_: self.show_rows() if not self.loading else None)
        self.rows: list = []
        self.loading = False
        self.refresh()

    def open_rules(self) -> RulesDialog:
        self.rules_dialog = RulesDialog(self.app_ctx, self)
        self.rules_dialog.accepted.connect(self.refresh)
        self.rules_dialog.open()
        return self.rules_dialog

    def show_filtered(self, year: int | None = None, quarter: int | None = None, month: int | None = None,
                      show: str = "open") -> None:
        """From 我的待办: one period (a quarter, a month or the year) with the rows of one 显示 choice
        ("open": 未落实, as ``svc.outstanding_meetings`` counts)."""
        for box in (self.year, self.period, self.show_mode):
            box.blockSignals(True)
        if year is not None:
            self.year.setValue(year)
        # findData cannot match a tuple: look through the periods' (quarter, month).
        wanted = next((i for i, (_label, q, m) in enumerate(PERIODS) if (q, m) == (quarter, month)), 0)
        self.period.setCurrentIndex(wanted)
        self.show_mode.setCurrentIndex(max(self.show_mode.findData(show), 0))
        for box in (self.year, self.period, self.show_mode):
            box.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        """Compute on the thread pool (a year of a street's meetings); an answer for a year or period
        no longer chosen is dropped."""
        from shell.ui.tasks import run_in_pool

        quarter, month = self.period.currentData()
        year, app_ctx = self.year.value(), self.app_ctx
        self._asked = getattr(self, "_asked", 0) + 1
        asked = self._asked
        self.loading = True
        self.summary.setText("正在统计……")

        @without_gc
        def work():
            with app_ctx.service(commit=False) as sctx:
                return svc.compliance(sctx, year, quarter=quarter, month=month)

        run_in_pool(work, lambda ok, result: self._loaded(asked, ok, result))

    def _loaded(self, asked: int, ok: bool, result) -> None:
        try:
            self.objectName()
        except RuntimeError:   # closed meanwhile
            return
        if asked != self._asked:
            return
        self.loading = False
        if not ok:
            self.summary.setText("")
            show_error(self, result)
            return
        self.rows = result
        self.show_rows()

    def show_rows(self) -> None:
        rows = self.rows
        missing = [r for r in rows if r.status == "missing"]
        orgs = len({r.org_id for r in missing})
        self.summary.setText(f"应开会议 {len(rows)} 项，缺 {len(missing)} 项，涉及 {orgs} 个党组织。" if rows
                             else "所选期间没有应开的会议。")
        mode = self.show_mode.currentData()
        if mode == "missing":
            shown = missing
        else:
            shown = sorted((r for r in rows if mode == "all" or r.status != "ok"), key=lambda r: r.status != "missing")
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(0)
        self.table.setRowCount(len(shown))
        red = QBrush(QColor("#b00020"))   # one brush for every cell (a QColor is converted per call)
        for i, r in enumerate(shown):
            for c, v in enumerate((r.org_name, r.kind_label, r.period_label, str(r.required), str(r.held), r.status_label)):
                item = QTableWidgetItem(v)
                if r.status == "missing":
                    item.setForeground(red)
                self.table.setItem(i, c, item)
        self.table.setUpdatesEnabled(True)


def make_page(app_ctx, parent=None):
    return CompliancePage(app_ctx, parent)
