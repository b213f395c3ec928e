"""Members: the lazy member list (keyset paging), the member form (the national 16 items), and the
member card (stage timeline with the one allowed next step, probation extension, 党籍状态, 流动,
失联, organisation history, meetings attended, dues). Views call services only; lists mask IDs."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reports.masking import mask_id, mask_phone
from shell.errors import JiedaoError, ValidationError
from shell.ui.widgets import Column, LazyTableModel
from shell.ui.widgets.form import FormDialog, field_errors

from .. import services as svc
from ..models import CATEGORY_LABELS, STAGE_LABELS, STAGES, STATUS_LABELS, Member
from .common import PlainTable, date_edit, optional_date_edit, parse_date, yuan_to_fen

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
    """The member list over ``svc.member_list_query``: pages of 200 rows fetched as the user scrolls."""

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
                query = svc.member_list_query(ctx, org_id=org_id, text=text)
        except JiedaoError:
            self.model_.set_query(None)
            return
        self.model_.set_query(query, key_column=Member.id)

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


# ----------------------------------------------------------------------------- dialogs

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
        with self.app_ctx.service() as ctx:
            if self.member_id is None:
                ok, m = self.call(svc.create_member, ctx, id_number=self.form.value("id_number"), org_id=self.org_id,
                                  stage=self.form.value("stage"), joined_on=joined, **dates, **values)
            else:
                ok, m = self.call(svc.update_member, ctx, self.member_id, expected_version=self.expected_version, **values)
            if not ok:
                ctx.session.rollback()
                return False
            self.saved_id = m.id
        return True


class AdvanceDialog(FormDialog):
    def __init__(self, app_ctx, member_id: int, name: str, to_stage: str, today: date, parent=None):
        self.app_ctx, self.member_id, self.to_stage = app_ctx, member_id, to_stage
        intro = {"activist": "经支部委员会研究，确定为入党积极分子。",
                 "candidate": "经支部委员会研究、上级党委备案，列为发展对象。",
                 "probationary": "支部大会讨论通过、上级党委审批，接收为预备党员；预备期从支部大会通过之日起算一年。",
                 "full": "预备期满，经支部大会讨论通过、上级党委审批，转为正式党员。"}[to_stage]
        super().__init__(parent, f"{name}：转为{STAGE_LABELS[to_stage]}", "pb-advance", intro=intro,
                         ok_text=f"转为{STAGE_LABELS[to_stage]}")
        self.form.add("on", "日期" if to_stage != "probationary" else "支部大会通过日期", date_edit(today))
        self.finish_layout()

    def submit(self) -> bool:
        with self.app_ctx.service() as ctx:
            ok, _ = self.call(svc.advance_stage, ctx, self.member_id, self.to_stage, self.form.value("on"))
            if not ok:
                ctx.session.rollback()
        return ok


class ExtendDialog(FormDialog):
    def __init__(self, app_ctx, member_id: int, name: str, today: date, parent=None):
        self.app_ctx, self.member_id = app_ctx, member_id
        super().__init__(parent, f"{name}：延长预备期", "pb-extend",
                         intro="预备期只能延长一次，时间为半年至一年。", ok_text="延长")
        months = QSpinBox()
        months.setRange(1, 24)
        months.setValue(6)
        months.setSuffix(" 个月")
        self.form.add("extension_months", "延长", months)
        self.form.add("extended_on", "支部大会决定日期", date_edit(today))
        self.finish_layout()

    def submit(self) -> bool:
        with self.app_ctx.service() as ctx:
            ok, _ = self.call(svc.extend_probation, ctx, self.member_id, self.form.value("extension_months"),
                              self.form.value("extended_on"))
            if not ok:
                ctx.session.rollback()
        return ok


class JoinOrgDialog(FormDialog):
    """调整组织 inside the street: the current period closes that day and a new one opens."""

    def __init__(self, app_ctx, member_id: int, name: str, current_org_id: int | None, today: date, parent=None):
        self.app_ctx, self.member_id = app_ctx, member_id
        super().__init__(parent, f"{name}：调整所在党组织", "pb-join-org", ok_text="调整",
                         intro="本街道内调整支部或编入党小组；转出本街道请在“组织关系转接”开具介绍信。")
        orgs = QComboBox()
        with app_ctx.service(commit=False) as ctx:
            for o in svc.visible_orgs(ctx):
                if o.level >= 2 and o.id != current_org_id:
                    orgs.addItem(svc.org_label(ctx.session, o), o.id)
        self.form.add("org_id", "调整到", orgs)
        self.form.add("on", "调整日期", date_edit(today))
        self.form.add("reason", "原因", QLineEdit("调整组织"))
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        with self.app_ctx.service() as ctx:
            ok, _ = self.call(svc.join_org, ctx, self.member_id, f.value("org_id"), f.value("on"),
                              f.value("reason") or "调整组织")
            if not ok:
                ctx.session.rollback()
        return ok


class SituationDialog(FormDialog):
    """党籍状态, 流动党员 (where to, since) and 失联 (since) in one place."""

    def __init__(self, app_ctx, member_id: int, parent=None):
        self.app_ctx, self.member_id = app_ctx, member_id
        with app_ctx.service(commit=False) as ctx:
            m = svc.get_member(ctx, member_id)
            name, status, dest, since, lost = m.name, m.status, m.mobile_destination, m.mobile_since, m.lost_contact_on
        self.before = (status, dest or "", since, lost)
        super().__init__(parent, f"{name}：党籍与流动、失联情况", "pb-situation",
                         intro="外出 6 个月以上且地点固定的应转接组织关系；未转接的登记为流动党员。"
                               "失去联系满 6 个月列入失联党员。")
        st = QComboBox()
        for code in ("normal", "suspended", "left", "deceased"):
            st.addItem(STATUS_LABELS[code], code)
        st.setCurrentIndex(max(0, st.findData(status)))
        self.form.add("status", "党籍状态", st, hint="已出党、已去世将结束其组织关系")
        self.form.add("reason", "原因", QLineEdit())
        self.form.add("mobile_destination", "外出流向", QLineEdit(dest or ""), hint="空 = 不是流动党员")
        mob = optional_date_edit()
        mob.setText(str(since) if since else "")
        self.form.add("mobile_since", "外出日期", mob)
        lost_w = optional_date_edit()
        lost_w.setText(str(lost) if lost else "")
        self.form.add("lost_contact_on", "失去联系日期", lost_w, hint="空 = 联系正常")
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        try:
            since = parse_date(f.value("mobile_since"), "mobile_since", "外出日期")
            lost = parse_date(f.value("lost_contact_on"), "lost_contact_on", "失去联系日期")
        except ValidationError as exc:
            f.show_errors(field_errors(exc))
            return False
        dest = f.value("mobile_destination")
        with self.app_ctx.service() as ctx:
            steps = []
            if (dest, since) != (self.before[1], self.before[2]):
                steps.append((svc.set_mobile, (dest or None, since)))
            if lost != self.before[3]:
                steps.append((svc.set_lost_contact, (lost,)))
            if f.value("status") != self.before[0]:
                steps.append((svc.set_status, (f.value("status"), f.value("reason"))))
            for fn, args in steps:
                ok, _ = self.call(fn, ctx, self.member_id, *args)
                if not ok:
                    ctx.session.rollback()  # all or nothing
                    return False
        return True


# ----------------------------------------------------------------------------- the card

FORM_ITEMS = (("sex", "性别"), ("ethnicity", "民族"), ("id_number", "公民身份号码"), ("birth_date", "出生日期"),
              ("education", "学历"), ("category", "人员类别"), ("org", "所在党支部"), ("admitted_on", "加入党组织日期"),
              ("full_on", "转为正式党员日期"), ("job", "工作岗位"), ("phone", "联系电话"), ("address", "家庭住址"),
              ("status", "党籍状态"), ("lost", "是否失联"), ("mobile", "是否流动"), ("dues", "每月党费"))


class MemberCardDialog(QDialog):
    """党员卡片: the 16 items, the stage timeline with the allowed next step, and the history tabs.
    Action dialogs open window-modal (``open()``), so the card refreshes when they are accepted."""

    changed = Signal()

    def __init__(self, app_ctx, member_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx, self.member_id = app_ctx, member_id
        self.setObjectName("pb-member-card")
        self.setWindowTitle("党员信息")
        self.resize(900, 640)
        self.active_dialog: FormDialog | None = None
        self.card: svc.MemberCard | None = None
        self.title = QLabel()
        self.title.setObjectName("pb-card-title")
        self.title.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        for i, (key, label) in enumerate(FORM_ITEMS):
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            r, c = divmod(i, 2)
            grid.addWidget(QLabel(f"{label}："), r, 2 * c, Qt.AlignmentFlag.AlignRight)
            grid.addWidget(value, r, 2 * c + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.timeline = QLabel()
        self.timeline.setObjectName("pb-card-timeline")
        self.timeline.setWordWrap(True)
        self.timeline.setStyleSheet("background: #f3f6fa; padding: 6px; border-radius: 4px;")
        self.alert = QLabel()
        self.alert.setObjectName("pb-card-alert")
        self.alert.setWordWrap(True)
        self.alert.setStyleSheet("color: #b00020;")

        self.edit_button = QPushButton("编辑信息")
        self.advance_button = QPushButton("下一发展阶段")
        self.extend_button = QPushButton("延长预备期")
        self.situation_button = QPushButton("党籍/流动/失联")
        self.move_button = QPushButton("调整组织…")
        self.move_button.clicked.connect(lambda: self._open(
            JoinOrgDialog(app_ctx, member_id, self.member_name, self.current_org_id, self._today(), self)))
        self.edit_button.clicked.connect(lambda: self._open(MemberFormDialog(app_ctx, None, member_id, self)))
        self.advance_button.clicked.connect(self.open_advance)
        self.extend_button.clicked.connect(
            lambda: self._open(ExtendDialog(app_ctx, member_id, self.member_name, self._today(), self)))
        self.situation_button.clicked.connect(lambda: self._open(SituationDialog(app_ctx, member_id, self)))
        can = app_ctx.actor.can(svc.MEMBER_MANAGE)
        buttons = QHBoxLayout()
        for b in (self.edit_button, self.advance_button, self.extend_button, self.situation_button, self.move_button):
            b.setEnabled(can)
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.tabs = QTabWidget()
        self.periods = PlainTable(["起", "止", "党组织", "说明"])
        self.meetings = PlainTable(["日期", "会议", "主题", "党组织", "出席"])
        self.payments = PlainTable(["月份", "金额（元）", "缴纳日期"], right=(1,))
        self.tabs.addTab(self.periods, "组织关系")
        self.tabs.addTab(self.meetings, "参加组织生活")
        self.tabs.addTab(self.payments, "党费")
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addLayout(grid)
        lay.addWidget(self.timeline)
        lay.addWidget(self.alert)
        lay.addLayout(buttons)
        lay.addWidget(self.tabs, 1)
        self.refresh()

    def _today(self) -> date:
        from shell.clock import local_today

        return local_today(self.app_ctx.clock())

    def _open(self, dialog: FormDialog) -> None:
        self.active_dialog = dialog
        dialog.accepted.connect(self._after_change)
        dialog.open()

    def _after_change(self) -> None:
        self.refresh()
        self.changed.emit()

    def open_advance(self) -> None:
        c = self.card
        if c is None or c.next_stage is None:
            return
        self._open(AdvanceDialog(self.app_ctx, self.member_id, self.member_name, c.next_stage, self._today(), self))

    def refresh(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            c = svc.member_card(ctx, self.member_id)
            m = c.member
            self.card = c
            v = {"sex": m.sex, "ethnicity": m.ethnicity, "id_number": mask_id(m.id_number), "birth_date": m.birth_date,
                 "education": m.education or "", "category": CATEGORY_LABELS.get(m.category, m.category),
                 "org": c.org_label or "（不在册）", "admitted_on": m.admitted_on or "", "full_on": m.full_on or "",
                 "job": m.job or "", "phone": mask_phone(m.phone or ""), "address": m.address or "",
                 "status": STATUS_LABELS.get(m.status, m.status),
                 "lost": f"是（{m.lost_contact_on} 起）" if m.lost_contact_on else "否",
                 "mobile": f"是（{m.mobile_destination}，{m.mobile_since} 起）" if m.mobile_destination else "否",
                 "dues": f"{svc.fen_text(c.monthly_dues_fen)} 元" if c.monthly_dues_fen is not None else "—"}
            name, stage_label, stage, ext, status = m.name, m.stage_label, m.stage, m.extension_months, m.status
            self.current_org_id = m.org_id
            today = self._today()
        self.member_name = name
        self.setWindowTitle(f"党员信息 - {name}")
        self.title.setText(f"{name}　{stage_label}")
        for key, value in v.items():
            self.values[key].setText(str(value))
        steps = [f"{label} {d or '（日期未登记）'}" for label, d in c.timeline]
        text = " → ".join(steps)
        if c.probation_end is not None and stage == "probationary":
            text += f"\n预备期满：{c.probation_end}" + (f"（已延长 {ext} 个月）" if ext else "")
        if c.next_stage:
            text += f"\n下一步：{STAGE_LABELS[c.next_stage]}"
        self.timeline.setText(text)
        alerts = []
        if stage == "probationary" and c.probation_end is not None and c.probation_end < today:
            alerts.append(f"预备期已于 {c.probation_end} 期满，应及时讨论转正或延长预备期。")
        if c.arrears is not None and c.arrears.flagged:
            alerts.append(f"已连续 {c.arrears.trailing} 个月未交党费。")
        elif c.arrears is not None:
            alerts.append(f"欠交党费 {len(c.arrears.months)} 个月，{svc.fen_text(c.arrears.amount_fen)} 元。")
        self.alert.setText("\n".join(alerts))
        self.alert.setVisible(bool(alerts))
        self.advance_button.setText(f"转为{STAGE_LABELS[c.next_stage]}…" if c.next_stage else "已是正式党员")
        can = self.app_ctx.actor.can(svc.MEMBER_MANAGE)
        self.advance_button.setEnabled(can and c.next_stage is not None)
        self.extend_button.setEnabled(can and c.can_extend)
        self.edit_button.setEnabled(can and status != "transferred_out")
        self.move_button.setEnabled(can and self.current_org_id is not None)
        self.periods.set_rows([(s, e or "至今", o, r) for s, e, o, r in c.memberships])
        self.meetings.set_rows([(d, k, t, o, "出席" if p else f"缺席：{r}") for d, k, t, o, p, r in c.meetings])
        self.payments.set_rows([(mo, svc.fen_text(f), d) for mo, f, d in c.payments])
