"""The 应急队伍 page's dialogs: a team, a member, a duty shift."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QLineEdit,
)

from shell.ui.widgets.form import FormDialog

from .. import services as svc
from ..labels import DUTY_SHIFTS, TEAM_KINDS
from .drill_dialogs import _date_edit
from .forms import RecordFormDialog

if TYPE_CHECKING:
    from .teams import TeamsPage


class TeamDialog(FormDialog):
    def __init__(self, page: TeamsPage):
        super().__init__(page, "新建应急队伍", "emergency-team-dialog", "", "保存")
        self.app_ctx, self.saved_id = page.app_ctx, None
        f = self.form
        self.name = f.add("name", "队伍名称", QLineEdit(self), required=True)
        self.area = f.add("area_id", "所属单位", QComboBox(self), required=True)
        for a in page.areas:
            self.area.addItem(a.name, a.id)
        self.kind = f.add("kind", "队伍类型", QComboBox(self), required=True,
                          hint="街道综合应急救援队伍计入人数规范")
        for code, label in TEAM_KINDS.items():
            self.kind.addItem(label, code)
        self.leader = f.add("leader", "队长", QLineEdit(self))
        self.leader_phone = f.add("leader_phone", "队长电话", QLineEdit(self))
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form

        def work():
            with self.app_ctx.service() as ctx:
                return svc.create_team(ctx, self.area.currentData(), f.value("name"), self.kind.currentData(),
                                       f.value("leader"), f.value("leader_phone")).id

        ok, self.saved_id = self.call(work)
        return ok


class MemberDialog(FormDialog):
    def __init__(self, page: TeamsPage, team_id: int, team_name: str):
        super().__init__(page, f"添加队员 — {team_name}", "emergency-member-dialog", "", "添加")
        self.app_ctx, self.team_id, self.saved_id = page.app_ctx, team_id, None
        f = self.form
        self.name = f.add("name", "姓名", QLineEdit(self), required=True)
        self.phone = f.add("phone", "联系电话", QLineEdit(self), hint="手机 11 位，或座机如 0571-87654321")
        self.skills = f.add("skills", "技能特长", QLineEdit(self))
        self.skills.setPlaceholderText("如 水上救援、医疗急救、电工")
        self.certificates = f.add("certificates", "资格证书", QLineEdit(self))
        self.certificates.setPlaceholderText("如 红十字救护员证、电工证")
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form

        def work():
            with self.app_ctx.service() as ctx:
                return svc.add_member(ctx, self.team_id, f.value("name"), f.value("phone"), f.value("skills"),
                                      f.value("certificates")).id

        ok, self.saved_id = self.call(work)
        return ok


class DutyDialog(RecordFormDialog):
    """排班 / 修改: one shift of the unit shown on the roster tab."""

    def __init__(self, page: TeamsPage, day: date, shift=None):
        super().__init__(page, "修改值班" if shift else "排班", "emergency-duty-dialog",
                         f"单位：{page.duty_area.currentText()}。全天与白班/夜班二选一。", "保存",
                         expected_version=shift.version_id if shift else None)
        self.app_ctx, self.area_id, self.shift_row = page.app_ctx, page.duty_area.currentData(), shift
        f = self.form
        self.day = f.add("duty_date", "值班日期", _date_edit(self, shift.duty_date if shift else day), required=True)
        self.shift = f.add("shift", "班次", QComboBox(self), required=True)
        for code, label in DUTY_SHIFTS.items():
            self.shift.addItem(label, code)
        self.leader = f.add("leader", "带班领导", QLineEdit(self), required=True)
        self.staff = f.add("staff", "值班人员", QLineEdit(self), required=True, hint="多人用顿号分隔")
        self.phone = f.add("phone", "值班电话", QLineEdit(self))
        self.note = f.add("note", "备注", QLineEdit(self))
        if shift is not None:
            self.day.setEnabled(False)
            self.shift.setCurrentIndex(self.shift.findData(shift.shift))
            self.shift.setEnabled(False)
            for w, v in ((self.leader, shift.leader), (self.staff, shift.staff), (self.phone, shift.phone),
                         (self.note, shift.note)):
                w.setText(v or "")
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form

        def work():
            with self.app_ctx.service() as ctx:
                svc.set_duty(ctx, self.area_id, self.day.date().toPython(), self.shift.currentData(), f.value("leader"),
                             f.value("staff"), f.value("phone"), f.value("note"),
                             expected_version=self.expected_version)

        ok, _ = self.call(work)
        return ok
