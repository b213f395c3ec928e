"""The forms of the record windows for 人 and 地 (people.py): editing and moving out a person, a
household's members and relationships, registering and editing a house, moving in and out, and the
landlord's report of a tenant."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from reports.masking import mask_id
from shell.clock import format_local
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from ..labels import HOUSE_USES, PERSON_KINDS
from .common import PersonPicker, date_edit, datetime_edit, edited_datetime, grid_choices, service_call


class PersonEditDialog(FormDialog):
    """修改人口信息: the ID number (and so sex and birth date) is not edited here; a wrong number is a
    different person."""

    TEXT_FIELDS = (("ethnicity", "民族"), ("political_status", "政治面貌"), ("education", "学历"),
                   ("marital_status", "婚姻状况"), ("occupation", "职业"), ("workplace", "服务处所"),
                   ("registered_address", "户籍地详址"), ("current_address", "现住址"))

    def __init__(self, app_ctx, person_id: int, parent: QWidget | None = None):
        super().__init__(parent, "修改人口信息", "grid-person-edit", ok_text="保存")
        self.app_ctx, self.person_id = app_ctx, person_id
        with app_ctx.service(commit=False) as ctx:
            p = svc.get_person(ctx, person_id)
            self.expected_version = p.version_id
            f = self.form
            f.add("name", "姓名", QLineEdit(p.name), required=True)
            grid = QComboBox()
            for label, area_id in grid_choices(app_ctx, ctx):
                grid.addItem(label, area_id)
            grid.setCurrentIndex(max(0, grid.findData(p.area_id)))
            f.add("area_id", "责任网格", grid, required=True)
            kind = QComboBox()
            for code, label in PERSON_KINDS.items():
                kind.addItem(label, code)
            kind.setCurrentIndex(kind.findData(p.kind))
            f.add("kind", "人口类别", kind)
            f.add("phone", "联系电话", QLineEdit(p.phone or ""))
            for key, label in self.TEXT_FIELDS:
                f.add(key, label, QLineEdit(getattr(p, key) or ""))
            f.add("notes", "备注", QPlainTextEdit(p.notes or ""))
            f.widget("notes").setMaximumHeight(70)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        values = {k: f.value(k) for k, _ in self.TEXT_FIELDS}
        ok, _ = service_call(self, self.app_ctx, svc.update_person, self.person_id, self.expected_version,
                             name=f.value("name"), area_id=f.value("area_id"), kind=f.value("kind"),
                             phone=f.value("phone"), notes=f.value("notes"), **values)
        return ok


class MoveOutDialog(FormDialog):
    def __init__(self, app_ctx, person_id: int, parent: QWidget | None = None):
        super().__init__(parent, "迁出/注销", "grid-move-out",
                         "人员迁出或死亡后记录保留（不删除），现住房屋的居住登记同时结束。", ok_text="确定")
        self.app_ctx, self.person_id = app_ctx, person_id
        status = QComboBox()
        status.addItem("迁出", "moved_out")
        status.addItem("死亡", "deceased")
        self.form.add("status", "类型", status)
        self.form.add("on", "日期", date_edit(), required=True)
        self.form.add("reason", "原因/去向", QLineEdit("迁出"), required=True)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        ok, _ = service_call(self, self.app_ctx, svc.move_out, self.person_id, f.value("on"), f.value("reason"),
                             f.value("status"))
        return ok


def _relation_box(current: str = "", with_head: bool = False) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    for r in svc.RELATIONS:
        if r != "户主" or with_head:
            box.addItem(r, r)
    if current:
        box.setCurrentText(current)
    return box


class AddMemberDialog(FormDialog):
    def __init__(self, app_ctx, household_id: int, parent: QWidget | None = None):
        super().__init__(parent, "添加户成员", "grid-add-member", "查找已登记的人员，把他/她加入本户。")
        self.app_ctx, self.household_id = app_ctx, household_id
        self.picker = self.form.add("person_id", "人员", PersonPicker(app_ctx), required=True)
        self.relation = self.form.add("relation_to_head", "与户主关系", _relation_box(with_head=True), required=True)
        self.finish_layout()

    def submit(self) -> bool:
        pid = self.picker.selected_id()
        if pid is None:
            self.form.show_errors({"person_id": "请查找并选择一名人员。"})
            return False
        ok, _ = service_call(self, self.app_ctx, svc.add_to_household, self.household_id, pid,
                             self.relation.currentText())
        return ok


class RelationDialog(FormDialog):
    def __init__(self, app_ctx, household_id: int, person_id: int, parent: QWidget | None = None):
        super().__init__(parent, "修改与户主关系", "grid-relation")
        self.app_ctx, self.household_id, self.person_id = app_ctx, household_id, person_id
        with app_ctx.service(commit=False) as ctx:
            p = svc.get_person(ctx, person_id)
            name, current = p.name, p.relation_to_head or ""
        self.form.add("name", "成员", QLabel(name))
        self.relation = self.form.add("relation_to_head", "与户主关系", _relation_box(current), required=True)
        self.finish_layout()

    def submit(self) -> bool:
        ok, _ = service_call(self, self.app_ctx, svc.set_relation, self.household_id, self.person_id,
                             self.relation.currentText())
        return ok


class ChangeHeadDialog(FormDialog):
    def __init__(self, app_ctx, household_id: int, person_id: int, parent: QWidget | None = None):
        super().__init__(parent, "设为户主", "grid-change-head")
        self.app_ctx, self.household_id, self.person_id = app_ctx, household_id, person_id
        with app_ctx.service(commit=False) as ctx:
            name = svc.get_person(ctx, person_id).name
            old = svc.household_head(ctx, household_id)
            old_name = old.name if old and old.id != person_id else ""
        self.form.add("name", "新户主", QLabel(name))
        self.old_relation = _relation_box()
        if old_name:
            self.form.add("relation_to_head", f"原户主{old_name}改为", self.old_relation, required=True)
        self.finish_layout()

    def submit(self) -> bool:
        ok, _ = service_call(self, self.app_ctx, svc.change_head, self.household_id, self.person_id,
                             self.old_relation.currentText())
        return ok


class NewHouseholdDialog(FormDialog):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent, "新立户", "grid-new-household", ok_text="保存")
        self.app_ctx = app_ctx
        self.saved_id: int | None = None
        grid = QComboBox()
        for label, area_id in grid_choices(app_ctx):
            grid.addItem(label, area_id)
        self.form.add("area_id", "所属网格", grid, required=True)
        self.form.add("number", "户号", QLineEdit(), required=True)
        self.form.add("address", "地址", QLineEdit())
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        ok, hh = service_call(self, self.app_ctx, svc.create_household, f.value("area_id"), f.value("number"),
                              f.value("address"))
        self.saved_id = hh.id if ok else None
        return ok


HOUSE_FORM_FIELDS = ("address", "building_use", "floor_area", "house_use", "hazard", "owner_name", "owner_id_number",
                     "owner_phone", "rental_pledge_on")


class HouseFormDialog(FormDialog):
    """登记 or 修改 a house. The 房屋编号 and grid are fixed once registered."""

    def __init__(self, app_ctx, parent: QWidget | None = None, house_id: int | None = None):
        super().__init__(parent, "修改房屋" if house_id else "登记房屋", "grid-house-form", ok_text="保存")
        self.app_ctx, self.house_id = app_ctx, house_id
        self.saved_id: int | None = house_id
        h = None
        if house_id is not None:
            with app_ctx.service(commit=False) as ctx:
                house = svc.get_house(ctx, house_id)
                self.expected_version = house.version_id
                # read now: the form is built after the session closes (its rollback expires the row)
                h = SimpleNamespace(**{k: getattr(house, k) for k in HOUSE_FORM_FIELDS})
        f = self.form
        if h is None:
            grid = QComboBox()
            for label, area_id in grid_choices(app_ctx):
                grid.addItem(label, area_id)
            f.add("area_id", "责任网格", grid, required=True)
            f.add("code", "房屋编号", QLineEdit(), required=True)
        f.add("address", "地址", QLineEdit(h.address if h else ""), required=True)
        building = QComboBox()
        building.setEditable(True)
        building.addItems(["住宅", "商业", "商住两用", "办公", "厂房", "其他"])
        building.setCurrentText((h.building_use if h else None) or "住宅")
        f.add("building_use", "建筑用途", building)
        area = QDoubleSpinBox()
        area.setRange(0, 99999)
        area.setDecimals(2)
        area.setSuffix(" m²")
        area.setValue((h.floor_area or 0) if h else 0)
        f.add("floor_area", "建筑面积", area, hint="0 表示未知")
        use = QComboBox()
        for u in HOUSE_USES:
            use.addItem(u, u)
        use.setCurrentIndex(max(0, use.findData(h.house_use if h else "自住")))
        f.add("house_use", "房屋用途", use)
        f.add("hazard", "隐患类型", QLineEdit((h.hazard or "") if h else ""), hint="如：电线老化、群租、违规住人")
        f.add("owner_name", "房主姓名", QLineEdit((h.owner_name or "") if h else ""))
        # The registered number is never put into the form (lists and forms mask); typing replaces it.
        self.had_owner_id = bool(h and h.owner_id_number)
        hint = f"已登记 {mask_id(h.owner_id_number)}，留空则不修改" if self.had_owner_id else ""
        f.add("owner_id_number", "房主身份证号", QLineEdit(), hint=hint)
        f.add("owner_phone", "房主电话", QLineEdit((h.owner_phone or "") if h else ""))
        self.pledge = QCheckBox("已签订出租房屋治安责任书")
        self.pledge.setChecked(bool(h and h.rental_pledge_on))
        self.pledge_date = date_edit(h.rental_pledge_on if h else None)
        f.add("rental_pledge", "治安责任书", self.pledge)
        f.add("rental_pledge_on", "签订日期", self.pledge_date)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        values = dict(address=f.value("address"), building_use=self.form.widget("building_use").currentText(),
                      floor_area=f.value("floor_area") or None, house_use=f.value("house_use"),
                      hazard=f.value("hazard"), owner_name=f.value("owner_name"),
                      owner_id_number=f.value("owner_id_number"), owner_phone=f.value("owner_phone"),
                      rental_pledge_on=f.value("rental_pledge_on") if self.pledge.isChecked() else None)
        if self.had_owner_id and not values["owner_id_number"]:
            del values["owner_id_number"]
        if self.house_id is None:
            ok, house = service_call(self, self.app_ctx, lambda ctx: svc.create_house(
                ctx, area_id=f.value("area_id"), code=f.value("code"), **values))
            self.saved_id = house.id if ok else None
            return ok
        ok, _ = service_call(self, self.app_ctx, svc.update_house, self.house_id, self.expected_version, **values)
        return ok


class MoveInDialog(FormDialog):
    """登记入住; for a tenant also the landlord's report (租客报备): its time, or “尚未报备”."""

    def __init__(self, app_ctx, house_id: int, parent: QWidget | None = None):
        super().__init__(parent, "登记入住", "grid-move-in",
                         "登记人员住进这处房屋；此人此前的住处自动登记为前一天搬离（历史保留）。", ok_text="登记")
        self.app_ctx, self.house_id = app_ctx, house_id
        with app_ctx.service(commit=False) as ctx:
            hours = svc.report_hours(ctx)
        self.picker = self.form.add("person_id", "人员", PersonPicker(app_ctx), required=True)
        now = app_ctx.clock()
        self.moved = self.form.add("moved_in_at", "入住时间", datetime_edit(now), required=True, aliases=("start_date",))
        rel = QComboBox()
        rel.setEditable(True)
        rel.addItems(["本人", "亲属", "租客", "借住", "其他"])
        self.form.add("relation_to_owner", "与房主关系", rel)
        self.tenant = self.form.add("is_tenant", "租客", QCheckBox("承租人（出租房屋的租客）"))
        self.reported = self.form.add("reported_at", "报备时间", datetime_edit(now),
                                      hint=f"房东向网格报备租客的时间；应在入住后 {hours} 小时内")
        self.unreported = self.form.add("unreported", "报备情况", QCheckBox("房东尚未报备（如走访时发现）"))
        rel.currentTextChanged.connect(lambda t: self.tenant.setChecked(t == "租客"))
        self.tenant.toggled.connect(lambda _c: self._tenant_fields())
        self.unreported.toggled.connect(lambda _c: self._tenant_fields())
        self._tenant_fields()
        self.finish_layout()

    def _tenant_fields(self) -> None:
        tenant = self.tenant.isChecked()
        for field in ("reported_at", "unreported"):
            self.form.widget(field).setEnabled(tenant)
        self.reported.setEnabled(tenant and not self.unreported.isChecked())

    def submit(self) -> bool:
        pid = self.picker.selected_id()
        if pid is None:
            self.form.show_errors({"person_id": "请查找并选择一名人员。"})
            return False
        f = self.form
        tenant = f.value("is_tenant")
        reported = tenant and not f.value("unreported")
        ok, _ = service_call(self, self.app_ctx, svc.move_in, pid, self.house_id,
                             relation_to_owner=f.widget("relation_to_owner").currentText(), is_tenant=tenant,
                             moved_in_at=edited_datetime(self.moved),
                             reported_at=edited_datetime(self.reported) if reported else None, reported=reported)
        return ok


class TenantReportDialog(FormDialog):
    """登记报备 for a tenant registered as not reported (or correct the time)."""

    def __init__(self, app_ctx, row: svc.TenantRow, parent: QWidget | None = None):
        super().__init__(parent, "登记租客报备", "grid-tenant-report",
                         f"{row.person_name}于 {format_local(row.moved_in_at)} 入住{row.address}。"
                         + (f"已登记的报备时间为 {format_local(row.reported_at)}，保存即更正。" if row.reported_at else ""),
                         ok_text="保存")
        self.app_ctx, self.row = app_ctx, row
        self.when = self.form.add("reported_at", "报备时间", datetime_edit(app_ctx.clock()), required=True)
        self.finish_layout()

    def submit(self) -> bool:
        ok, _ = service_call(self, self.app_ctx, svc.record_tenant_report, self.row.occupancy_id,
                             edited_datetime(self.when), self.row.version_id)
        return ok


class LeaveHouseDialog(FormDialog):
    def __init__(self, app_ctx, house_id: int, row: svc.OccupancyRow, parent: QWidget | None = None):
        super().__init__(parent, "登记搬离", "grid-leave-house", f"{row.person_name}自 {row.start_date} 起居住在此。")
        self.app_ctx, self.house_id, self.person_id = app_ctx, house_id, row.person_id
        self.form.add("on", "搬离日期", date_edit(), required=True)
        self.form.add("reason", "搬离原因", QLineEdit("搬离"), required=True)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        ok, _ = service_call(self, self.app_ctx, svc.move_out_of_house, self.person_id, self.house_id, f.value("on"),
                             f.value("reason"))
        return ok

