"""特殊人群与走访 page: the special and cared-for groups in a lazy list (by group, name, and the
"逾期未走访" list), the visits of the chosen record, and the buttons that open the forms (special_forms.py)
to put a person on a list with the group's own fields, record a visit with 下次走访日期, and end a record
(history kept)."""
from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shell.clock import local_today
from shell.ui.widgets import Column, LazyTableModel, SearchBox

from .. import services as svc
from .common import fill, grid_label, show_listing, table
from .people import PersonDetailDialog
from .special_forms import AddSpecialDialog, EndSpecialDialog, VisitDialog

OVERDUE_COLOR = QColor("#c0392b")


def group_filters() -> list[tuple[str, str]]:
    return ([("", "全部"), ("special", "特殊人群（全部六类）")] + [(k, v[0]) for k, v in svc.SPECIAL_GROUPS.items()]
            + [("care", "关爱人群（全部）")] + [(k, v[0]) for k, v in svc.CARE_GROUPS.items()])


def _details_text(group: str, details: dict) -> str:
    labels = {d.key: d.label for d in svc.ALL_GROUPS.get(group, ("", ()))[1]} | {"end_reason": "结束原因"}
    return "；".join(f"{labels.get(k, k)}：{'是' if v is True else '否' if v is False else v}"
                    for k, v in (details or {}).items())


class SpecialGroupsPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-special")
        self.today = local_today()
        self.group = QComboBox(self)
        self.group.setObjectName("special-group-filter")
        self.group.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for key, label in group_filters():
            self.group.addItem(label, key)
        self.overdue = QCheckBox("只看逾期未走访", self)
        self.overdue.setObjectName("special-overdue")
        self.due_soon = QCheckBox("只看七天内应走访", self)
        self.due_soon.setObjectName("special-due-soon")
        self.search = SearchBox(self, placeholder="姓名或拼音")
        self.count_label = QLabel(self)
        can_edit = app_ctx.actor.can(svc.P_SPECIAL)
        self.add_button = QPushButton("列入名单…", self)
        self.add_button.setObjectName("special-add")
        self.add_button.clicked.connect(self.add)
        self.visit_button = QPushButton("登记走访…", self)
        self.visit_button.setObjectName("special-visit")
        self.visit_button.clicked.connect(self.visit)
        self.end_button = QPushButton("结束列管…", self)
        self.end_button.setObjectName("special-end")
        self.end_button.clicked.connect(self.end)
        self.person_button = QPushButton("查看人员", self)
        self.person_button.clicked.connect(self.open_person)
        for b in (self.add_button, self.visit_button, self.end_button):
            b.setVisible(can_edit)
        top = QHBoxLayout()
        top.addWidget(self.group)
        top.addWidget(self.overdue)
        top.addWidget(self.due_soon)
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        actions = QHBoxLayout()
        for b in (self.add_button, self.visit_button, self.end_button, self.person_button):
            actions.addWidget(b)
        actions.addStretch(1)

        def next_visit(row):
            sp = row[0]
            if sp.next_visit_date is None:
                return ""
            late = (self.today - sp.next_visit_date).days
            return f"{sp.next_visit_date}（逾期 {late} 天）" if late > 0 else str(sp.next_visit_date)

        columns = [
            Column("姓名", lambda r: r[1]),
            Column("类别", lambda r: svc.group_label(r[0].group)),
            Column("所属网格", lambda r: self.grid_label(r[0].area_id)),
            Column("帮扶人", lambda r: r[0].helper),
            Column("列管日期", lambda r: r[0].start_date, Qt.AlignmentFlag.AlignCenter),
            Column("下次走访", next_visit),
            Column("具体情况", lambda r: _details_text(r[0].group, r[0].details),
                   tooltip=lambda r: _details_text(r[0].group, r[0].details)),
        ]
        self._grids: dict[int, str] = {}
        self.model = SpecialModel(app_ctx.session_factory, columns, page_size=200, parent=self)
        self.model.today = self.today
        self.model.count_changed.connect(lambda n: self.count_label.setText(f"共 {n} 人"))
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((80, 130, 170, 80, 100, 190)):
            self.table.horizontalHeader().resizeSection(column, width)
        self.table.doubleClicked.connect(lambda _i: self.visit())
        self.visits = table(self, ["走访日期", "走访人", "走访情况", "下次走访日期"], "special-visits")
        self.visits_label = QLabel("走访记录：请在上方选择一人", self)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.visits_label)
        lower_layout.addWidget(self.visits)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setSizes([440, 200])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addLayout(actions)
        self.group.currentIndexChanged.connect(lambda _i: self.apply())
        self.overdue.toggled.connect(lambda _c: self.apply())
        self.due_soon.toggled.connect(lambda _c: self.apply())
        self.search.search.connect(lambda _t: self.apply())
        self.dialog: QDialog | None = None
        self.apply()
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.show_visits())

    grid_label = grid_label

    def apply(self) -> None:
        due = (self.today, self.today + timedelta(days=7)) if self.due_soon.isChecked() else None
        show_listing(self.model, svc.specials_listing(self.app_ctx.actor, self.group.currentData() or None,
                                                      self.search.text(),
                                                      overdue_on=self.today if self.overdue.isChecked() else None,
                                                      due_between=due))
        self.show_visits()

    def show_filtered(self, overdue: bool = False, due_days: int | None = None) -> None:
        """From 我的待办: 逾期未走访, or 应走访 within ``due_days`` (seven: the checkbox's span)."""
        for box, on in ((self.overdue, overdue), (self.due_soon, due_days is not None)):
            box.blockSignals(True)
            box.setChecked(on)
            box.blockSignals(False)
        self.group.setCurrentIndex(0)
        self.search.clear()
        self.apply()

    def current(self):
        index = self.table.currentIndex()
        return self.model.row_object(index.row()) if index.isValid() else None

    def show_visits(self) -> None:
        row = self.current()
        if row is None:
            self.visits_label.setText("走访记录：请在上方选择一人")
            fill(self.visits, [])
            return
        with self.app_ctx.service(commit=False) as ctx:
            rows = [(v.id, (v.visit_date, v.visitor_name, v.situation, v.next_visit_date or ""))
                    for v in svc.special_visits(ctx, row[0].id)]
        self.visits_label.setText(f"{row[1]}（{svc.group_label(row[0].group)}）的走访记录：{len(rows)} 次")
        fill(self.visits, rows)

    def _open(self, dialog: QDialog) -> QDialog:
        self.dialog = dialog
        dialog.accepted.connect(self.refresh)
        dialog.open()
        return dialog

    def refresh(self) -> None:
        current = self.table.currentIndex().row()
        self.model.refresh()
        if 0 <= current < self.model.rowCount():
            self.table.selectRow(current)
        self.show_visits()

    def add(self) -> QDialog:
        group = self.group.currentData()
        return self._open(AddSpecialDialog(self.app_ctx, self, group if group in svc.ALL_GROUPS else ""))

    def visit(self) -> QDialog | None:
        row = self.current()
        if row is None or not self.app_ctx.actor.can(svc.P_SPECIAL):
            return None
        return self._open(VisitDialog(self.app_ctx, row[0].id, row[1], row[0].visit_interval_days, self))

    def end(self) -> QDialog | None:
        row = self.current()
        return self._open(EndSpecialDialog(self.app_ctx, row[0].id, row[1], self)) if row is not None else None

    def open_person(self) -> QDialog | None:
        row = self.current()
        if row is None:
            return None
        self.dialog = PersonDetailDialog(self.app_ctx, row[0].person_id, self)
        self.dialog.open()
        return self.dialog


class SpecialModel(LazyTableModel):
    """Overdue visits in red, so the list reads at a glance."""

    today: date = date.today()

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and index.column() == 5:
            sp = self.row_object(index.row())[0]
            if sp.next_visit_date is not None and sp.next_visit_date < self.today:
                return OVERDUE_COLOR
        return super().data(index, role)

