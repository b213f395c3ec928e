"""应急避难场所 page: registered shelters (location, area, capacity, facilities, person in charge with
masked phone, status), the capacity available, create / edit (status included, version-guarded), and
printing the 避难场所台账."""
from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reports.masking import mask_phone
from shell.errors import JiedaoError

from .. import services as svc
from ..labels import SHELTER_STATUS
from .drill_dialogs import _text_box
from .forms import RecordFormDialog

COLUMNS = ("场所名称", "所属单位", "位置", "面积(㎡)", "容纳人数", "配套设施", "负责人", "联系电话", "状态")
STATUS_FG = {"available": QColor("#1e6b34"), "in_use": QColor("#2f6fb2"), "maintenance": QColor("#a04000"),
             "closed": QColor("#777777")}
FIELDS = ("id", "version_id", "area_id", "name", "location", "area_m2", "capacity", "facilities", "manager",
          "manager_phone", "status")


class ShelterDialog(RecordFormDialog):
    def __init__(self, page: SheltersPage, row=None):
        super().__init__(page, "登记避难场所" if row is None else f"修改避难场所 — {row.name}", "emergency-shelter-dialog",
                         "", "保存", expected_version=row.version_id if row else None)
        self.app_ctx, self.row, self.saved_id = page.app_ctx, row, None
        f = self.form
        self.name = f.add("name", "场所名称", QLineEdit(self), required=True)
        self.area = f.add("area_id", "所属单位", QComboBox(self), required=True)
        for a in page.areas:
            self.area.addItem(a.name, a.id)
        self.location = f.add("location", "位置", QLineEdit(self), required=True)
        self.area_m2 = f.add("area_m2", "有效面积", QSpinBox(self), required=True)
        self.area_m2.setRange(0, 10_000_000)
        self.area_m2.setSuffix(" ㎡")
        self.capacity = f.add("capacity", "可容纳人数", QSpinBox(self), required=True)
        self.capacity.setRange(0, 1_000_000)
        self.capacity.setSuffix(" 人")
        self.facilities = f.add("facilities", "配套设施", _text_box(self, "如 应急供水、应急厕所、应急照明、医疗救护点"))
        self.manager = f.add("manager", "负责人", QLineEdit(self))
        self.manager_phone = f.add("manager_phone", "负责人电话", QLineEdit(self))
        self.status = f.add("status", "状态", QComboBox(self), required=True)
        for code, label in SHELTER_STATUS.items():
            self.status.addItem(label, code)
        if row is not None:
            self.name.setText(row.name)
            self.area.setCurrentIndex(max(0, self.area.findData(row.area_id)))
            self.area.setEnabled(False)
            self.location.setText(row.location)
            self.area_m2.setValue(row.area_m2)
            self.capacity.setValue(row.capacity)
            self.facilities.setPlainText(row.facilities or "")
            self.manager.setText(row.manager or "")
            self.manager_phone.setText(row.manager_phone or "")
            self.status.setCurrentIndex(self.status.findData(row.status))
        self.setMinimumWidth(520)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        values = dict(name=f.value("name"), location=f.value("location"), area_m2=self.area_m2.value(),
                      capacity=self.capacity.value(), facilities=f.value("facilities"), manager=f.value("manager"),
                      manager_phone=f.value("manager_phone"), status=self.status.currentData())

        def work():
            with self.app_ctx.service() as ctx:
                if self.row is None:
                    return svc.create_shelter(ctx, self.area.currentData(), **values).id
                return svc.update_shelter(ctx, self.row.id, expected_version=self.expected_version, **values).id

        ok, self.saved_id = self.call(work)
        return ok


class SheltersPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("emergency-shelters")
        self.rows: list = []
        self.areas: list[svc.AreaChoice] = []
        self.dialog = None
        self.print_dialog = None
        self.can_manage = app_ctx.actor.can("emergency.shelter.manage")
        self.summary = QLabel(self)
        self.summary.setObjectName("shelter-summary")
        self.summary.setStyleSheet("font-weight: bold;")
        self.new_button = QPushButton("登记场所…", self)
        self.edit_button = QPushButton("修改…", self)
        self.print_button = QPushButton("打印避难场所台账", self)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        for b in (self.new_button, self.edit_button, self.print_button):
            top.addWidget(b)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("shelter-table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        for c, w in enumerate((190, 90, 130, 80, 80, 250, 70, 110)):
            self.table.horizontalHeader().resizeSection(c, w)
        self.message = QLabel(self)
        self.message.setStyleSheet("color: #c0392b;")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        self.new_button.clicked.connect(self.open_new)
        self.edit_button.clicked.connect(self.open_edit)
        self.print_button.clicked.connect(self.print_ledger)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._buttons())
        self.table.doubleClicked.connect(lambda _i: self.open_edit())
        self.reload()

    def reload(self) -> None:
        self.message.setText("")
        try:
            with self.app_ctx.service(commit=False) as ctx:
                self.areas = svc.unit_areas(ctx)
                names = {a.id: a.name for a in self.areas}
                self.rows = [SimpleNamespace(**{k: getattr(s, k) for k in FIELDS}, area=names.get(s.area_id, ""))
                             for s in svc.list_shelters(ctx)]
        except JiedaoError as exc:
            self.message.setText(exc.message)
            self.rows = []
        self.table.setRowCount(len(self.rows))
        for r, s in enumerate(self.rows):
            values = (s.name, s.area, s.location, f"{s.area_m2:,}", f"{s.capacity:,}", s.facilities or "",
                      s.manager or "", mask_phone(s.manager_phone) if s.manager_phone else "", SHELTER_STATUS[s.status])
            for c, text in enumerate(values):
                cell = QTableWidgetItem(text)
                if c in (3, 4):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c in (0, 2, 5):
                    cell.setToolTip(text)     # long names and facility lists are cut in the column
                if c == 8:
                    cell.setForeground(QBrush(STATUS_FG[s.status]))
                self.table.setItem(r, c, cell)
        usable = sum(s.capacity for s in self.rows if s.status in ("available", "in_use"))
        self.summary.setText(f"共 {len(self.rows)} 处避难场所，可用及启用中合计可容纳 {usable:,} 人，"
                             f"总面积 {sum(s.area_m2 for s in self.rows):,} ㎡")
        self._buttons()

    def selected(self):
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def select_shelter(self, shelter_id: int) -> bool:
        for r, s in enumerate(self.rows):
            if s.id == shelter_id:
                self.table.selectRow(r)
                return True
        return False

    def _buttons(self) -> None:
        self.new_button.setEnabled(self.can_manage)
        self.edit_button.setEnabled(self.can_manage and self.selected() is not None)
        if not self.can_manage:
            for b in (self.new_button, self.edit_button):
                b.setToolTip("需要“维护避难场所”权限（emergency.shelter.manage）")

    def _show(self, dialog):
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def done():
            self.reload()
            if dialog.saved_id is not None:
                self.select_shelter(dialog.saved_id)

        dialog.accepted.connect(done)
        dialog.open()
        return dialog

    def open_new(self):
        return self._show(ShelterDialog(self)) if self.can_manage else None

    def open_edit(self):
        row = self.selected()
        return self._show(ShelterDialog(self, row)) if row is not None and self.can_manage else None

    def print_ledger(self):
        from .printing import print_report

        self.print_dialog = print_report(self.app_ctx, "emergency.shelters", {}, self, "应急避难场所台账.pdf")
        return self.print_dialog
