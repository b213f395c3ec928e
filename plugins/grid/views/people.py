"""Record windows for 人 and 地: the person detail (basic data, household, housing history, special-group
records, visits), the household (head, members, relationships) and the house (data, rental status,
occupants and tenants with dates), with the forms that change them. Each opens by double-click in a
list and through the ``open_record`` hook (kinds grid.person, grid.household, grid.house); their forms
are in people_forms.py."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reports.masking import mask_id, mask_phone
from shell.clock import format_local
from shell.errors import JiedaoError

from .. import services as svc
from ..labels import PERSON_KINDS, PERSON_STATUS
from .common import fill, selected_id, table
from .people_forms import (
    AddMemberDialog,
    ChangeHeadDialog,
    HouseFormDialog,
    LeaveHouseDialog,
    MoveInDialog,
    MoveOutDialog,
    PersonEditDialog,
    RelationDialog,
)

MESSAGE_STYLE = "color: #c0392b;"


def _info_grid(parent: QWidget, fields: list[tuple[str, str]]) -> tuple[QWidget, dict[str, QLabel]]:
    """Two columns of "label：value" pairs."""
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    labels: dict[str, QLabel] = {}
    half = (len(fields) + 1) // 2
    for part in (fields[:half], fields[half:]):
        form = QFormLayout()
        for key, text in part:
            value = QLabel(box)
            value.setObjectName(f"value-{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(text + "：", value)
            labels[key] = value
        row.addLayout(form, 1)
    return box, labels


class RecordDialog(QDialog):
    """Base of the three record windows: a message line and child windows kept alive."""

    def __init__(self, app_ctx, parent: QWidget | None, name: str):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName(name)
        self.changed = False
        self.message = QLabel(self)
        self.message.setObjectName("record-message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(MESSAGE_STYLE)
        self.message.hide()
        self.children_: list[QDialog] = []

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def child(self, dialog: QDialog) -> QDialog:
        self.children_.append(dialog)
        dialog.finished.connect(lambda _r: self._child_done(dialog))
        dialog.open()
        return dialog

    def _child_done(self, dialog: QDialog) -> None:
        if dialog in self.children_:
            self.children_.remove(dialog)
        if dialog.result() == QDialog.DialogCode.Accepted or getattr(dialog, "changed", False):
            self.changed = True
            self.reload()


# =============================================================================================
# 人
# =============================================================================================
class PersonDetailDialog(RecordDialog):
    def __init__(self, app_ctx, person_id: int, parent: QWidget | None = None):
        super().__init__(app_ctx, parent, "grid-person-detail")
        self.person_id = person_id
        self.version: int | None = None
        self.household_id: int | None = None
        self.open_specials: dict[int, tuple[str, int]] = {}   # open special-group records: (group, visit days)
        self.resize(980, 640)
        fields = [("name", "姓名"), ("sex", "性别"), ("birth_date", "出生日期"), ("id_number", "公民身份号码"),
                  ("kind", "人口类别"), ("status", "状态"), ("grid", "责任网格"), ("phone", "联系电话"),
                  ("ethnicity", "民族"), ("political_status", "政治面貌"), ("education", "学历"),
                  ("marital_status", "婚姻状况"), ("occupation", "职业"), ("workplace", "服务处所"),
                  ("registered_address", "户籍地详址"), ("current_address", "现住址"), ("extra", "类别信息"),
                  ("notes", "备注")]
        info, self.labels = _info_grid(self, fields)
        self.reveal_button = QPushButton("显示完整号码", self)
        self.reveal_button.setObjectName("reveal-id")
        self.reveal_button.setToolTip("需要“查看完整个人信息”权限，查看记入审计日志")
        self.reveal_button.clicked.connect(self.reveal_id)
        self.reveal_button.setVisible(app_ctx.actor.can(svc.FULL_VIEW))
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("person-tabs")
        # 户
        hh_tab = QWidget(self)
        self.household_label = QLabel(hh_tab)
        self.household_label.setObjectName("person-household")
        self.open_household_button = QPushButton("打开本户", hh_tab)
        self.open_household_button.setObjectName("open-household")
        self.open_household_button.clicked.connect(self.open_household)
        self.members = table(hh_tab, ["姓名", "与户主关系", "性别", "出生日期", "公民身份号码"], "person-members")
        self.members.doubleClicked.connect(lambda _i: self.open_member())
        top = QHBoxLayout()
        top.addWidget(self.household_label, 1)
        top.addWidget(self.open_household_button)
        col = QVBoxLayout(hh_tab)
        col.addLayout(top)
        col.addWidget(self.members)
        self.tabs.addTab(hh_tab, "户")
        # 居住史
        self.housing = table(self, ["房屋编号", "地址", "与房主关系", "租住", "入住日期", "搬离日期", "搬离原因"],
                             "person-housing")
        self.housing.doubleClicked.connect(lambda _i: self.open_house())
        self.tabs.addTab(self.housing, "居住史")
        # 特殊人群与走访
        # 特殊人群: the person's records, and the card acts on them (列入名单, 登记走访) for who may
        special_tab = QWidget(self)
        self.specials = table(special_tab, ["类别", "开始日期", "结束日期", "帮扶人", "下次走访", "具体情况"],
                              "person-specials")
        self.add_special_button = QPushButton("列入特殊/关爱人群…", special_tab)
        self.add_special_button.setObjectName("person-add-special")
        self.add_special_button.clicked.connect(self.add_special)
        self.visit_button = QPushButton("登记走访…", special_tab)
        self.visit_button.setObjectName("person-record-visit")
        self.visit_button.setToolTip("为选中的（或唯一在列的）特殊/关爱人群记录登记一次走访")
        self.visit_button.clicked.connect(self.record_visit)
        can_special = app_ctx.actor.can(svc.P_SPECIAL)
        self.add_special_button.setVisible(can_special)
        self.visit_button.setVisible(can_special)
        special_buttons = QHBoxLayout()
        special_buttons.addWidget(self.add_special_button)
        special_buttons.addWidget(self.visit_button)
        special_buttons.addStretch(1)
        special_col = QVBoxLayout(special_tab)
        special_col.addLayout(special_buttons)
        special_col.addWidget(self.specials)
        self.tabs.addTab(special_tab, "特殊/关爱人群")
        self.visits = table(self, ["走访日期", "类别", "走访人", "走访情况", "下次走访日期"], "person-visits")
        self.tabs.addTab(self.visits, "走访记录")
        # actions
        self.edit_button = QPushButton("修改信息…", self)
        self.edit_button.setObjectName("edit-person")
        self.edit_button.clicked.connect(self.edit)
        self.move_out_button = QPushButton("迁出/注销…", self)
        self.move_out_button.setObjectName("move-out-person")
        self.move_out_button.clicked.connect(self.move_out)
        can_edit = app_ctx.actor.can(svc.P_PERSON)
        self.edit_button.setVisible(can_edit)
        self.move_out_button.setVisible(can_edit)
        close = QPushButton("关闭", self)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.move_out_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        id_row = QHBoxLayout()
        id_row.addStretch(1)
        id_row.addWidget(self.reveal_button)
        layout = QVBoxLayout(self)
        layout.addWidget(info)
        layout.addLayout(id_row)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.reload()

    def reload(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            p = svc.get_person(ctx, self.person_id)
            self.version, self.household_id, self.status = p.version_id, p.household_id, p.status
            extra = []
            if p.kind == "floating":
                extra = [f"办证类型 {p.permit_type or '—'}",
                         f"证件有效期 {p.permit_start or '—'} 至 {p.permit_end or '—'}",
                         f"流入原因 {p.inflow_reason or '—'}"] + (["重点关注"] if p.key_attention else [])
            elif p.kind == "overseas":
                extra = [f"外文姓名 {p.foreign_surname or ''} {p.foreign_given_name or ''}".strip(),
                         f"来华目的 {p.visit_purpose or '—'}", f"抵达 {p.arrival_date or '—'}",
                         f"预计离开 {p.expected_departure or '—'}"]
            elif p.relation_to_head or p.residence_match:
                extra = [f"人户一致情况 {p.residence_match or '—'}"]
            values = {
                "name": p.name, "sex": p.sex or "", "birth_date": str(p.birth_date or ""),
                "id_number": mask_id(p.id_number), "kind": PERSON_KINDS.get(p.kind, p.kind),
                "status": PERSON_STATUS.get(p.status, p.status), "grid": svc.area_name(ctx, p.area_id),
                "phone": mask_phone(p.phone) if p.phone else "", "ethnicity": p.ethnicity or "",
                "political_status": p.political_status or "", "education": p.education or "",
                "marital_status": p.marital_status or "", "occupation": p.occupation or "",
                "workplace": p.workplace or "", "registered_address": p.registered_address or "",
                "current_address": p.current_address or "", "extra": "；".join(extra), "notes": p.notes or "",
            }
            self.setWindowTitle(f"实有人口：{p.name}")
            members, hh_text = [], "未登记户籍信息（不属于任何户）"
            if p.household_id:
                hh = svc.get_household(ctx, p.household_id)
                head = svc.household_head(ctx, hh.id)
                hh_text = f"户号 {hh.number}　户主 {head.name if head else '（未指定）'}　{hh.address}"
                members = [(m.id, (m.name, m.relation_to_head or "", m.sex or "", m.birth_date, mask_id(m.id_number)))
                           for m in svc.household_members(ctx, hh.id)]
            housing = [(o.house_id, (o.house_code, o.address, o.relation_to_owner, "是" if o.is_tenant else "",
                                     o.start_date, o.end_date or "至今", o.end_reason or ""))
                       for o in svc.person_occupancies(ctx, p.id)]
            specials = []
            self.open_specials = {}
            for sp in svc.person_special_records(ctx, p.id):
                if sp.end_date is None:
                    self.open_specials[sp.id] = (svc.group_label(sp.group), sp.visit_interval_days)
                defs = {d.key: d.label for d in svc.ALL_GROUPS.get(sp.group, ("", ()))[1]}
                details = "；".join(f"{defs.get(k, k)}：{'是' if v is True else '否' if v is False else v}"
                                   for k, v in (sp.details or {}).items())
                specials.append((sp.id, (svc.group_label(sp.group), sp.start_date, sp.end_date or "",
                                         sp.helper or "", sp.next_visit_date or "", details)))
            visits = [(v.id, (v.visit_date, group, v.visitor_name, v.situation, v.next_visit_date or ""))
                      for group, v in svc.person_visits(ctx, p.id)]
        for k, v in values.items():
            self.labels[k].setText(v)
        self.household_label.setText(hh_text)
        self.open_household_button.setVisible(self.household_id is not None)
        fill(self.members, members)
        fill(self.housing, housing)
        fill(self.specials, specials)
        fill(self.visits, visits)
        for i, n in enumerate((len(members), len(housing), len(specials), len(visits))):
            self.tabs.setTabText(i, f"{('户', '居住史', '特殊/关爱人群', '走访记录')[i]}（{n}）")
        self.move_out_button.setEnabled(self.status == "active")

    def add_special(self) -> QDialog:
        """列入特殊/关爱人群 from the person's record: the form with this person already chosen."""
        from .special_forms import AddSpecialDialog

        label = f"{self.labels['name'].text()}　{self.labels['sex'].text()}　{self.labels['id_number'].text()}"
        return self.child(AddSpecialDialog(self.app_ctx, self, person=(self.person_id, label)))

    def record_visit(self) -> QDialog | None:
        """登记走访 for the record chosen in the tab, or the one open record when there is only one."""
        from .special_forms import VisitDialog

        chosen = selected_id(self.specials)
        if chosen not in self.open_specials:
            chosen = next(iter(self.open_specials)) if len(self.open_specials) == 1 else None
        if chosen is None:
            self.show_message("请先在“特殊/关爱人群”中选中一条在列的记录再登记走访。" if self.open_specials
                              else "此人不在任何特殊/关爱人群名单中，请先列入名单。")
            return None
        self.show_message("")
        group, interval = self.open_specials[chosen]
        return self.child(VisitDialog(self.app_ctx, chosen, f"{self.labels['name'].text()}（{group}）", interval, self))

    def reveal_id(self) -> None:
        try:
            with self.app_ctx.service() as ctx:   # committed: the look is audited
                number = svc.full_id_number(ctx, self.person_id)
        except JiedaoError as exc:
            self.show_message(exc.message)
            return
        self.labels["id_number"].setText(number)
        self.reveal_button.setEnabled(False)

    def open_household(self) -> QDialog | None:
        if self.household_id is None:
            return None
        return self.child(HouseholdDialog(self.app_ctx, self.household_id, self))

    def open_member(self) -> QDialog | None:
        pid = selected_id(self.members)
        if pid is None or pid == self.person_id:
            return None
        return self.child(PersonDetailDialog(self.app_ctx, pid, self))

    def open_house(self) -> QDialog | None:
        hid = selected_id(self.housing)
        return self.child(HouseDialog(self.app_ctx, hid, self)) if hid is not None else None

    def edit(self) -> QDialog:
        return self.child(PersonEditDialog(self.app_ctx, self.person_id, self))

    def move_out(self) -> QDialog:
        return self.child(MoveOutDialog(self.app_ctx, self.person_id, self))


# =============================================================================================
# 户
# =============================================================================================
class HouseholdDialog(RecordDialog):
    def __init__(self, app_ctx, household_id: int, parent: QWidget | None = None):
        super().__init__(app_ctx, parent, "grid-household")
        self.household_id = household_id
        self.version: int | None = None
        self.resize(860, 520)
        info, self.labels = _info_grid(self, [("number", "户号"), ("head", "户主"), ("grid", "所属网格"),
                                              ("address", "地址"), ("house", "房屋"), ("count", "在册人数")])
        self.members = table(self, ["姓名", "与户主关系", "性别", "出生日期", "公民身份号码", "联系电话"],
                             "household-members")
        self.members.doubleClicked.connect(lambda _i: self.open_member())
        can_edit = app_ctx.actor.can(svc.P_PERSON)
        self.add_button = QPushButton("添加成员…", self)
        self.add_button.setObjectName("household-add")
        self.add_button.clicked.connect(self.add_member)
        self.relation_button = QPushButton("修改关系…", self)
        self.relation_button.setObjectName("household-relation")
        self.relation_button.clicked.connect(self.change_relation)
        self.head_button = QPushButton("设为户主…", self)
        self.head_button.setObjectName("household-head")
        self.head_button.clicked.connect(self.make_head)
        self.remove_button = QPushButton("移出本户", self)
        self.remove_button.setObjectName("household-remove")
        self.remove_button.clicked.connect(self.remove_member)
        self.open_button = QPushButton("查看人员", self)
        self.open_button.clicked.connect(self.open_member)
        close = QPushButton("关闭", self)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.relation_button, self.head_button, self.remove_button):
            b.setVisible(can_edit)
            buttons.addWidget(b)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(info)
        layout.addWidget(QLabel("户成员：", self))
        layout.addWidget(self.members, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.reload()

    def reload(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            hh = svc.get_household(ctx, self.household_id)
            self.version = hh.version_id
            members = svc.household_members(ctx, hh.id)
            head = next((m for m in members if m.relation_to_head == "户主"), None)
            house = svc.get_house(ctx, hh.house_id) if hh.house_id else None
            values = {"number": hh.number, "head": head.name if head else "（未指定户主）",
                      "grid": svc.area_name(ctx, hh.area_id), "address": hh.address,
                      "house": f"{house.code} {house.address}" if house else "", "count": f"{len(members)} 人"}
            rows = [(m.id, (m.name, m.relation_to_head or "", m.sex or "", m.birth_date, mask_id(m.id_number),
                            mask_phone(m.phone) if m.phone else "")) for m in members]
        self.setWindowTitle(f"户：{values['number']}")
        for k, v in values.items():
            self.labels[k].setText(v)
        fill(self.members, rows)

    def _member(self) -> int | None:
        pid = selected_id(self.members)
        if pid is None:
            self.show_message("请先在列表中选择一名成员。")
        return pid

    def _do(self, fn, *args) -> bool:
        try:
            with self.app_ctx.service() as ctx:
                fn(ctx, *args)
        except JiedaoError as exc:
            self.show_message(exc.message)
            return False
        self.show_message("")
        self.changed = True
        self.reload()
        return True

    def add_member(self) -> QDialog:
        return self.child(AddMemberDialog(self.app_ctx, self.household_id, self))

    def change_relation(self) -> QDialog | None:
        pid = self._member()
        return self.child(RelationDialog(self.app_ctx, self.household_id, pid, self)) if pid else None

    def make_head(self) -> QDialog | None:
        pid = self._member()
        return self.child(ChangeHeadDialog(self.app_ctx, self.household_id, pid, self)) if pid else None

    def remove_member(self) -> bool:
        pid = self._member()
        return self._do(svc.remove_from_household, self.household_id, pid) if pid else False

    def open_member(self) -> QDialog | None:
        pid = selected_id(self.members)
        return self.child(PersonDetailDialog(self.app_ctx, pid, self)) if pid is not None else None


# =============================================================================================
# 地
# =============================================================================================
class HouseDialog(RecordDialog):
    def __init__(self, app_ctx, house_id: int, parent: QWidget | None = None):
        super().__init__(app_ctx, parent, "grid-house")
        self.house_id = house_id
        self.resize(960, 560)
        info, self.labels = _info_grid(self, [
            ("code", "房屋编号"), ("address", "地址"), ("grid", "责任网格"), ("building_use", "建筑用途"),
            ("floor_area", "建筑面积"), ("house_use", "房屋用途"), ("rental", "出租情况"), ("hazard", "隐患类型"),
            ("owner", "房主"), ("owner_id", "房主证件号码"), ("owner_phone", "房主电话"), ("tenants", "现有租客")])
        self.current_only = QCheckBox("只看现住人员", self)
        self.current_only.setObjectName("house-current-only")
        self.current_only.toggled.connect(lambda _c: self.reload())
        self.occupants = table(self, ["姓名", "与房主关系", "租客", "入住时间", "报备时间", "搬离日期", "搬离原因"],
                               "house-occupants")
        self.occupants.doubleClicked.connect(lambda _i: self.open_person())
        can_edit = app_ctx.actor.can(svc.P_PERSON)
        self.edit_button = QPushButton("修改房屋…", self)
        self.edit_button.setObjectName("house-edit")
        self.edit_button.clicked.connect(self.edit)
        self.move_in_button = QPushButton("登记入住…", self)
        self.move_in_button.setObjectName("house-move-in")
        self.move_in_button.clicked.connect(self.move_in)
        self.move_out_button = QPushButton("登记搬离…", self)
        self.move_out_button.setObjectName("house-move-out")
        self.move_out_button.clicked.connect(self.move_out)
        close = QPushButton("关闭", self)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for b in (self.edit_button, self.move_in_button, self.move_out_button):
            b.setVisible(can_edit)
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        head = QHBoxLayout()
        head.addWidget(QLabel("使用人（人房关联）：", self))
        head.addStretch(1)
        head.addWidget(self.current_only)
        layout = QVBoxLayout(self)
        layout.addWidget(info)
        layout.addLayout(head)
        layout.addWidget(self.occupants, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.rows: list[svc.OccupancyRow] = []
        self.reload()

    def reload(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            h = svc.get_house(ctx, self.house_id)
            self.version = h.version_id
            rows = svc.house_occupancies(ctx, h.id)
            tenants = [r.person_name for r in rows if r.current and r.is_tenant]
            rental = "否"
            if h.is_rental:
                rental = "出租房屋，" + (f"治安责任书签订于 {h.rental_pledge_on}" if h.rental_pledge_on
                                     else "未签订治安责任书")
            values = {"code": h.code, "address": h.address, "grid": svc.area_name(ctx, h.area_id),
                      "building_use": h.building_use or "", "floor_area": f"{h.floor_area:g} m²" if h.floor_area else "",
                      "house_use": h.house_use, "rental": rental, "hazard": h.hazard or "无",
                      "owner": h.owner_name or "", "owner_id": mask_id(h.owner_id_number) if h.owner_id_number else "",
                      "owner_phone": mask_phone(h.owner_phone) if h.owner_phone else "",
                      "tenants": "、".join(tenants) if tenants else ("无" if h.is_rental else "—")}
        self.rows = rows
        self.setWindowTitle(f"房屋：{values['code']} {values['address']}")
        for k, v in values.items():
            self.labels[k].setText(v)
        shown = [r for r in rows if r.current] if self.current_only.isChecked() else rows
        fill(self.occupants, [(r.person_id, (r.person_name, r.relation_to_owner, "是" if r.is_tenant else "",
                                             format_local(r.moved_in_at) or r.start_date,
                                             (format_local(r.reported_at) or "未报备") if r.is_tenant else "",
                                             r.end_date or "至今", r.end_reason or "")) for r in shown])

    def open_person(self) -> QDialog | None:
        pid = selected_id(self.occupants)
        return self.child(PersonDetailDialog(self.app_ctx, pid, self)) if pid is not None else None

    def edit(self) -> QDialog:
        return self.child(HouseFormDialog(self.app_ctx, self, house_id=self.house_id))

    def move_in(self) -> QDialog:
        return self.child(MoveInDialog(self.app_ctx, self.house_id, self))

    def move_out(self) -> QDialog | None:
        pid = selected_id(self.occupants)
        row = next((r for r in self.rows if r.person_id == pid and r.current), None)
        if row is None:
            self.show_message("请先在列表中选择一名现住人员。")
            return None
        self.show_message("")
        return self.child(LeaveHouseDialog(self.app_ctx, self.house_id, row, self))

