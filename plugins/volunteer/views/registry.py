"""Registering and editing volunteers from the 志愿者 page: the record fields of DOMAIN §2 (gender and
birth date are derived from the ID number), optimistic locking on edit (a conflict names who saved
first), and deactivation with a reason. Views call services only."""
from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QComboBox, QDateEdit, QLineEdit, QPlainTextEdit, QSpinBox, QWidget

from reports.masking import mask_id
from shell.ui.widgets.form import FormDialog

from .. import services as svc


class VolunteerDialog(FormDialog):
    """New volunteer (``volunteer_id`` None) or edit of an existing one."""

    def __init__(self, parent: QWidget, app_ctx, volunteer_id: int | None = None):
        editing = volunteer_id is not None
        super().__init__(parent, "修改志愿者信息" if editing else "登记志愿者", "volunteer-dialog",
                         "性别和出生日期由身份证号自动得出。" if not editing else
                         "身份证号只在需要更正时填写；保存时如发现他人刚改过这条记录，会提示重新载入。",
                         ok_text="保存" if editing else "登记")
        self.app_ctx, self.volunteer_id = app_ctx, volunteer_id
        self.saved_id: int | None = None
        with app_ctx.service(commit=False) as ctx:
            communities = svc.community_choices(ctx)
            today = ctx.today()
            current = None
            if editing:
                v = svc.get_volunteer(ctx, volunteer_id)
                current = dict(name=v.name, number=v.number, id_number=mask_id(v.id_number), area_id=v.area_id,
                               phone=v.phone, skills=v.skills, address=v.address, notes=v.notes)
                self.expected_version = v.version_id
        f = self.form
        self.name = f.add("name", "姓名", QLineEdit(), required=True)
        self.id_number = f.add("id_number", "身份证号", QLineEdit(), required=not editing,
                               hint="18 位公民身份号码；15 位旧号码会自动升位" if not editing else
                               f"现为 {current['id_number']}，不更正请留空")
        self.area = f.add("area_id", "所属社区", QComboBox(), required=True)
        for area_id, name in communities:
            self.area.addItem(name, area_id)
        self.phone = f.add("phone", "联系电话", QLineEdit())
        self.skills = f.add("skills", "服务技能", QLineEdit(), hint="多项用顿号或逗号分隔，如：助老陪护、应急救护")
        self.address = f.add("address", "住址", QLineEdit())
        self.number = f.add("number", "志愿者编号", QLineEdit(), hint="留空自动编号" if not editing else "")
        self.registered = None
        if not editing:
            self.registered = f.add("registered_on", "登记日期", QDateEdit())
            self.registered.setDisplayFormat("yyyy-MM-dd")
            self.registered.setCalendarPopup(True)
            self.registered.setDate(QDate(today.year, today.month, today.day))
        self.notes = f.add("notes", "备注", QPlainTextEdit())
        self.notes.setFixedHeight(50)
        for key, w in (("name", self.name), ("id", self.id_number), ("area", self.area), ("phone", self.phone),
                       ("skills", self.skills), ("number", self.number)):
            w.setObjectName(f"volunteer-{key}")
        if current is not None:
            self.name.setText(current["name"])
            self.area.setCurrentIndex(max(0, self.area.findData(current["area_id"])))
            self.phone.setText(current["phone"])
            self.skills.setText(current["skills"])
            self.address.setText(current["address"])
            self.number.setText(current["number"])
            self.notes.setPlainText(current["notes"])
        self.area.setMinimumWidth(220)
        self.setMinimumWidth(480)
        self.finish_layout()

    # A conflict shows and reloads the saved record, but never its full ID number (data rules).
    def compare_rows(self, current: dict) -> list[tuple[str, str, str]]:
        return super().compare_rows({k: v for k, v in current.items() if k != "id_number"})

    def reload_saved(self, current: dict) -> None:
        super().reload_saved({k: v for k, v in current.items() if k != "id_number"})

    def submit(self) -> bool:
        f = self.form
        values = dict(name=f.value("name"), area_id=self.area.currentData(), phone=f.value("phone"),
                      skills=f.value("skills"), address=f.value("address"), notes=f.value("notes"))
        id_number = f.value("id_number")

        def save():
            with self.app_ctx.service() as ctx:
                if self.volunteer_id is None:
                    return svc.register_volunteer(ctx, id_number=id_number, number=f.value("number") or None,
                                                  registered_on=f.value("registered_on"), **values).id
                if id_number:
                    values["id_number"] = id_number
                return svc.update_volunteer(ctx, self.volunteer_id, self.expected_version,
                                            number=f.value("number"), **values).id

        ok, result = self.call(save)
        self.saved_id = result if ok else None
        return ok


class AdjustPointsDialog(FormDialog):
    """A manual points adjustment with a reason (append-only entry; the balance never below zero).
    Service hours are not touched."""

    def __init__(self, parent: QWidget, app_ctx, volunteer_id: int, name: str, balance: int):
        super().__init__(parent, "调整积分", "adjust-dialog",
                         f"为“{name}”增加或扣减积分（当前 {balance} 分）。调整记入积分台账，不影响服务时长。",
                         ok_text="调整")
        self.app_ctx, self.volunteer_id = app_ctx, volunteer_id
        self.points = self.form.add("points", "调整积分", QSpinBox(), required=True, hint="正数为增加，负数为扣减")
        self.points.setObjectName("adjust-points")
        self.points.setRange(-100000, 100000)
        self.points.setSuffix(" 分")
        self.reason = self.form.add("reason", "调整原因", QLineEdit(), required=True)
        self.reason.setObjectName("adjust-reason")
        self.reason.setPlaceholderText("如：优秀志愿者奖励、错误登记更正")
        self.finish_layout()

    def submit(self) -> bool:
        points, reason = self.points.value(), self.form.value("reason")

        def save():
            return svc.run_with_retry(self.app_ctx.session_factory, self.app_ctx.actor,
                                      lambda ctx: svc.adjust_points(ctx, self.volunteer_id, points, reason).balance_after,
                                      clock=self.app_ctx.clock)

        ok, _result = self.call(save)
        return ok
