"""组织生活落实情况: required meetings per branch and 党小组 for a year, quarter or month, with the
missing ones first."""
from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QSpinBox,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from shell.clock import local_today
from shell.ui.errors import show_error

from .. import services as svc

PERIODS = [("全年", None, None)] + [(f"第{q}季度", q, None) for q in range(1, 5)] + \
          [(f"{m}月", None, m) for m in range(1, 13)]


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
        self.only_missing = QCheckBox("只看缺项")
        self.only_missing.setChecked(True)
        self.summary = QLabel()
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["党组织", "会议", "期间", "应开", "已开", "情况"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        bar = QHBoxLayout()
        for w in (QLabel("年度"), self.year, QLabel("期间"), self.period, self.only_missing):
            bar.addWidget(w)
        bar.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.summary)
        lay.addWidget(self.table)
        self.year.valueChanged.connect(lambda *_: self.refresh())
        self.period.currentIndexChanged.connect(lambda *_: self.refresh())
        self.only_missing.toggled.connect(lambda *_: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        quarter, month = self.period.currentData()
        try:
            with self.app_ctx.service(commit=False) as sctx:
                rows = svc.compliance(sctx, self.year.value(), quarter=quarter, month=month)
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc)
            return
        missing = [r for r in rows if r.status == "missing"]
        orgs = len({r.org_id for r in missing})
        self.summary.setText(f"应开会议 {len(rows)} 项，缺 {len(missing)} 项，涉及 {orgs} 个党组织。" if rows
                             else "所选期间没有应开的会议。")
        shown = missing if self.only_missing.isChecked() else sorted(rows, key=lambda r: r.status != "missing")
        self.table.setRowCount(len(shown))
        for i, r in enumerate(shown):
            for c, v in enumerate((r.org_name, r.kind_label, r.period_label, str(r.required), str(r.held), r.status_label)):
                item = QTableWidgetItem(v)
                if r.status == "missing":
                    item.setForeground(QColor("#b00020"))
                self.table.setItem(i, c, item)


def make_page(app_ctx, parent=None):
    return CompliancePage(app_ctx, parent)
