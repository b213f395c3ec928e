"""Members: the lazy member list (keyset paging over ``svc.member_listing``) and the member form
(the national 16 items and the stage dates). The card is in member_card.py, the actions it opens in
member_dialogs.py. Views call services only; lists mask IDs."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QLineEdit, QTableView, QWidget

from reports.masking import mask_id, mask_phone
from shell.errors import JiedaoError, ValidationError
from shell.ui.widgets import Column, LazyTableModel
from shell.ui.widgets.form import FormDialog, field_errors

from .. import services as svc
from ..labels import CATEGORY_LABELS, STAGE_LABELS, STAGES, STATUS_LABELS
from .common import Refused, attempt, optional_date_edit, parse_date, yuan_to_fen

EDUCATIONS = ("研究生", "大学本科", "大学专科", "中专", "高中", "初中", "小学")
STAGE_DATE_FIELDS = (("applied_on", "申请入党日期"), ("activist_on", "确定积极分子日期"),
                     ("candidate_on", "确定发展对象日期"), ("admitted_on", "接收预备党员日期"),
                     ("full_on", "转为正式党员日期"))


def org_text(row) -> str:
    _m, name, parent = row
    return f"{parent} / {name}" if parent else name


MEMBER_COLUMNS = [
    Column("姓名", lambda r: r[0].name),
    Column("性别", lambda r: r[0].sex),
    Column("阶段", lambda r: r[0].stage_label),
    # Branch and group names repeat across communities: show the parent too.
    Column("所在组织", org_text, tooltip=org_text),
    Column("联系电话", lambda r: mask_phone(r[0].phone or "")),
    Column("身份证号", lambda r: mask_id(r[0].id_number)),
    Column("党籍状态", lambda r: STATUS_LABELS.get(r[0].status, r[0].status)
           + ("·流动" if r[0].mobile_destination else "") + ("·失联" if r[0].lost_contact_on else "")),
]


class MemberTable(QTableView):
    """The member list over ``svc.member_listing``: pages of 200 rows fetched as the user scrolls."""

    open_member = Signal(int)

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("pb-members")
        self.model_ = LazyTableModel(app_ctx.session_factory, MEMBER_COLUMNS, page_size=200, parent=self)
        self.setModel(self.model_)
        self.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)
        # Fixed widths (measuring 200 rows of text on every filter change costs more than the query);
        # the organisation takes the rest, elided in the middle so the branch name stays readable.
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        for col, width in enumerate((64, 40, 92, 0, 102, 152, 66)):
            if width:
                self.setColumnWidth(col, width)
        header.setSectionResizeMode(3, header.ResizeMode.Stretch)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.doubleClicked.connect(lambda idx: self.open_member.emit(self.member_id(idx.row())))

    def show_query(self, org_id: int | None, text: str) -> None:
        if org_id is None:
            self.model_.set_query(None)
            return
        try:
            with self.app_ctx.service(commit=False) as ctx:
                listing = svc.member_listing(ctx, org_id=org_id, text=text)
        except JiedaoError:
            self.model_.set_query(None)
            return
        self.model_.set_query(listing.query, key_column=listing.key, descending=listing.descending)

    def rowCount(self) -> int:  # mirrors QTableWidget for callers and tests
        return self.model_.rowCount()

    def text(self, row: int, column: int) -> str:
        return self.model_.data(self.model_.index(row, column)) or ""

    def member_id(self, row: int) -> int | None:
        if row < 0 or row >= self.model_.rowCount():
            return None
        return self.model_.row_object(row)[0].id

    def current_member_id(self) -> int | None:
        return self.member_id(self.currentIndex().row())



class MemberFormDialog(FormDialog):
    """新增党员 (all 16 items and the stage dates) or 编辑 (the editable items, version-checked)."""

    def __init__(self, app_ctx, org_id: int | None, member_id: int | None = None, parent: QWidget | None = None):
        self.app_ctx, self.org_id, self.member_id = app_ctx, org_id, member_id
        self.saved_id: int | None = None
        self.expected_version: int | None = None
        editing = member_id is not None
        super().__init__(parent, "编辑党员信息" if editing else "新增党员或入党申请人", "pb-member-form",
                         intro="" if editing else "按全国党员信息采集表填写；性别和出生日期由身份证号自动确定。")
        f = self.form
        f.add("name", "姓名", QLineEdit(), required=True)
        if not editing:
            f.add("id_number", "公民身份号码", QLineEdit(), required=True)
        f.add("ethnicity", "民族", QLineEdit("汉族"))
        edu = QComboBox()
        edu.setEditable(True)
        edu.addItem("", None)
        for e in EDUCATIONS:
            edu.addItem(e, e)
        f.add("education", "学历", edu)
        cat = QComboBox()
        for code, label in CATEGORY_LABELS.items():
            cat.addItem(label, code)
        f.add("category", "人员类别", cat)
        if not editing:
            stage = QComboBox()
            for code in STAGES:
                stage.addItem(STAGE_LABELS[code], code)
            f.add("stage", "发展阶段", stage)
            for key, label in STAGE_DATE_FIELDS:
                f.add(key, label, optional_date_edit())
            f.add("joined_on", "编入本组织日期", optional_date_edit(), hint="空 = 今天")
        f.add("job", "工作岗位", QLineEdit())
        f.add("phone", "联系电话", QLineEdit())
        f.add("address", "家庭住址", QLineEdit())
        f.add("income_fen", "月收入（元）", QLineEdit(), hint="税后工资或退休费，用于计算党费；可空")
        self.finish_layout()
        if editing:
            self._load()

    def _load(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            m = svc.get_member(ctx, self.member_id)
            f = self.form.fields
            f["name"].setText(m.name)
            f["ethnicity"].setText(m.ethnicity)
            f["education"].setCurrentText(m.education or "")
            f["category"].setCurrentIndex(f["category"].findData(m.category))
            f["job"].setText(m.job or "")
            f["phone"].setText(m.phone or "")
            f["address"].setText(m.address or "")
            f["income_fen"].setText(svc.fen_text(m.income_fen))
            self.expected_version = m.version_id

    def values(self) -> dict:
        f = self.form
        edu = f.fields["education"].currentText().strip() or None
        return dict(name=f.value("name"), ethnicity=f.value("ethnicity") or "汉族", education=edu,
                    category=f.value("category"), job=f.value("job") or None, phone=f.value("phone") or None,
                    address=f.value("address") or None,
                    income_fen=yuan_to_fen(f.value("income_fen"), "income_fen", "月收入"))

    def submit(self) -> bool:
        # every unreadable entry at once, each beside its field (then the service's rules, all of them)
        problems: dict[str | None, str] = {}

        def read(fn, *args):
            try:
                return fn(*args)
            except ValidationError as exc:
                problems.update(field_errors(exc))
                return None
        values = read(self.values)
        if self.member_id is None:
            dates = {key: read(parse_date, self.form.value(key), key, label) for key, label in STAGE_DATE_FIELDS}
            joined = read(parse_date, self.form.value("joined_on"), "joined_on", "编入本组织日期")
        if problems:
            self.form.show_errors(problems)
            return False
        with attempt(self.app_ctx) as ctx:
            if self.member_id is None:
                ok, m = self.call(svc.create_member, ctx, id_number=self.form.value("id_number"), org_id=self.org_id,
                                  stage=self.form.value("stage"), joined_on=joined, **dates, **values)
            else:
                ok, m = self.call(svc.update_member, ctx, self.member_id, expected_version=self.expected_version, **values)
            if not ok:
                raise Refused
            self.saved_id = m.id
        return ok
