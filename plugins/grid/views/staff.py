"""网格力量 page: every grid in scope with its households, 网格长, 网格员 and households per worker
against the norm (setting grid.households_per_worker), the grids that break it highlighted; the staff
of the chosen grid with 配备 (a system user or a named person) and 卸任."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from shell.ui.widgets.form import FormDialog

from .. import services as svc
from ..labels import STAFF_ROLES
from .common import PersonPicker, date_edit, fill, selected_id, service_call, table

BREAK_BRUSH = QBrush(QColor("#fbe3e1"))


class AssignStaffDialog(FormDialog):
    def __init__(self, app_ctx, grid_id: int, grid_name: str, parent: QWidget | None = None):
        super().__init__(parent, "配备网格人员", "grid-assign-staff", f"为“{grid_name}”配备网格长或网格员。", ok_text="保存")
        self.app_ctx, self.grid_id = app_ctx, grid_id
        role = QComboBox()
        for code, label in STAFF_ROLES.items():
            role.addItem(label, code)
        role.setCurrentIndex(role.findData("worker"))
        self.form.add("role", "岗位", role, required=True)
        self.user = QComboBox()
        self.user.addItem("（不关联系统用户）", None)
        with app_ctx.service(commit=False) as ctx:
            self.candidates = {uid: (name, phone) for uid, name, phone in svc.staff_candidates(ctx)}
        for uid, (name, _phone) in self.candidates.items():
            self.user.addItem(name, uid)
        self.form.add("user_id", "系统用户", self.user, hint="关联后，此人登录即可在“待我处理”中收到本网格事件")
        self.from_person = QCheckBox("从实有人口中选择（非系统用户的网格员）")
        self.form.add("from_person", "登记人员", self.from_person)
        self.picker = self.form.add("person_id", "实有人口", PersonPicker(app_ctx))
        self.picker.setEnabled(False)
        self.from_person.toggled.connect(self.picker.setEnabled)
        self.picker.results.currentItemChanged.connect(lambda *_: self._fill_from_person())
        self.name = self.form.add("name", "姓名", QLineEdit(), required=True)
        self.phone = self.form.add("phone", "联系电话", QLineEdit())
        self.form.add("start", "任职日期", date_edit(), required=True)
        self.user.currentIndexChanged.connect(lambda _i: self._fill_from_user())
        self.finish_layout()

    def _fill_from_user(self) -> None:
        uid = self.user.currentData()
        if uid in self.candidates:
            name, phone = self.candidates[uid]
            self.name.setText(name)
            self.phone.setText(phone or "")

    def _fill_from_person(self) -> None:
        pid = self.picker.selected_id()
        if pid is None:
            return
        with self.app_ctx.service(commit=False) as ctx:
            person = svc.get_person(ctx, pid)
            name, phone = person.name, person.phone
        self.name.setText(name)
        self.phone.setText(phone or "")

    def submit(self) -> bool:
        f = self.form
        person_id = self.picker.selected_id() if self.from_person.isChecked() else None
        if self.from_person.isChecked() and person_id is None:
            f.show_errors({"person_id": "请查找并选择一名实有人口，或取消“从实有人口中选择”。"})
            return False
        ok, _ = service_call(self, self.app_ctx, svc.assign_staff, self.grid_id, f.value("role"), f.value("name"),
                             f.value("phone"), f.value("user_id"), person_id, f.value("start"))
        return ok


class EndStaffDialog(FormDialog):
    def __init__(self, app_ctx, staff_id: int, name: str, parent: QWidget | None = None):
        super().__init__(parent, "卸任", "grid-end-staff", f"{name}卸任后保留任职记录。")
        self.app_ctx, self.staff_id = app_ctx, staff_id
        self.form.add("on", "卸任日期", date_edit(), required=True)
        self.finish_layout()

    def submit(self) -> bool:
        ok, _ = service_call(self, self.app_ctx, svc.end_staff, self.staff_id, self.form.value("on"))
        return ok


class GridStaffPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-staff")
        self.summary = QLabel(self)
        self.summary.setObjectName("staff-summary")
        self.only_breaking = QCheckBox("只看配比不达标的网格", self)
        self.only_breaking.setObjectName("staff-only-breaking")
        self.only_breaking.toggled.connect(lambda _c: self.reload())
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.only_breaking)
        self.grids = table(self, ["网格", "户数", "网格长", "网格员", "每名网格员户数", "配比"], "staff-grids")
        self.grids.currentCellChanged.connect(lambda *_: self.show_staff())
        self.staff_label = QLabel("请在上方选择一个网格", self)
        self.staff = table(self, ["姓名", "岗位", "联系电话", "任职日期", "卸任日期", "关联"], "staff-list")
        self.show_ended = QCheckBox("含已卸任", self)
        self.show_ended.toggled.connect(lambda _c: self.show_staff())
        can_manage = app_ctx.actor.can(svc.P_STAFF)
        self.assign_button = QPushButton("配备人员…", self)
        self.assign_button.setObjectName("staff-assign")
        self.assign_button.clicked.connect(self.assign)
        self.end_button = QPushButton("卸任…", self)
        self.end_button.setObjectName("staff-end")
        self.end_button.clicked.connect(self.end)
        for b in (self.assign_button, self.end_button):
            b.setVisible(can_manage)
        self.message = QLabel(self)
        self.message.setStyleSheet("color: #c0392b;")
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.staff_label, 1)
        head.addWidget(self.show_ended)
        head.addWidget(self.assign_button)
        head.addWidget(self.end_button)
        lower_layout.addLayout(head)
        lower_layout.addWidget(self.staff)
        lower_layout.addWidget(self.message)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.grids)
        split.addWidget(lower)
        split.setSizes([420, 260])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.ratios: dict[int, svc.GridRatio] = {}
        self.users: dict[int, str] = {}
        self.dialog: QDialog | None = None
        self.reload()

    def reload(self) -> None:
        keep = selected_id(self.grids)
        with self.app_ctx.service(commit=False) as ctx:
            ratios = svc.grid_ratios(ctx)
        self.ratios = {r.grid_id: r for r in ratios}
        broken = [r for r in ratios if r.breaks_ratio]
        norm = ratios[0].norm if ratios else None
        self.summary.setText(f"共 {len(ratios)} 个网格，配比标准每名网格员 {norm} 户；不达标 {len(broken)} 个"
                             if ratios else "您的管辖范围内没有网格")
        shown = broken if self.only_breaking.isChecked() else ratios

        def status(r: svc.GridRatio) -> str:
            if not r.breaks_ratio:
                return "达标"
            return f"不达标：需网格员 {r.workers_needed} 人，缺 {r.workers_needed - r.workers} 人"

        fill(self.grids, [(r.grid_id, (r.grid_name, r.households, r.heads or "无", r.workers,
                                       "—" if r.per_worker is None else f"{r.per_worker:.0f}", status(r)))
                          for r in shown])
        for row, r in enumerate(shown):
            if r.breaks_ratio:
                for c in range(self.grids.columnCount()):
                    self.grids.item(row, c).setBackground(BREAK_BRUSH)
        ids = [r.grid_id for r in shown]
        if keep in ids:
            self.grids.setCurrentCell(ids.index(keep), 0)
        self.show_staff()

    def grid_id(self) -> int | None:
        return selected_id(self.grids)

    def show_staff(self) -> None:
        gid = self.grid_id()
        if gid is None:
            self.staff_label.setText("请在上方选择一个网格")
            fill(self.staff, [])
            self.assign_button.setEnabled(False)
            self.end_button.setEnabled(False)
            return
        with self.app_ctx.service(commit=False) as ctx:
            people = svc.list_staff(ctx, gid, include_ended=self.show_ended.isChecked())
            users = {}
            if any(s.user_id for s in people) and self.app_ctx.actor.can(svc.P_STAFF):
                users = {uid: name for uid, name, _p in svc.staff_candidates(ctx)}
            def link(s) -> str:
                if s.user_id:
                    return f"系统用户：{users.get(s.user_id, '已关联')}"
                return "实有人口" if s.person_id else ""

            rows = [(s.id, (s.name, STAFF_ROLES.get(s.role, s.role), s.phone or "", s.start_date, s.end_date or "",
                            link(s))) for s in people]
            self.serving = {s.id: (s.name, s.end_date is None) for s in people}
        ratio = self.ratios.get(gid)
        self.staff_label.setText(f"{ratio.grid_name if ratio else ''}的网格力量：")
        fill(self.staff, rows)
        self.assign_button.setEnabled(True)
        self.end_button.setEnabled(bool(rows))

    def assign(self) -> QDialog | None:
        gid = self.grid_id()
        if gid is None:
            return None
        self.dialog = AssignStaffDialog(self.app_ctx, gid, self.ratios[gid].grid_name, self)
        self.dialog.accepted.connect(self.reload)
        self.dialog.open()
        return self.dialog

    def end(self) -> QDialog | None:
        sid = selected_id(self.staff)
        if sid is None or not self.serving.get(sid, ("", False))[1]:
            self.message.setText("请先选择一名在任的人员。")
            return None
        self.message.clear()
        self.dialog = EndStaffDialog(self.app_ctx, sid, self.serving[sid][0], self)
        self.dialog.accepted.connect(self.reload)
        self.dialog.open()
        return self.dialog
