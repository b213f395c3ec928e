"""The member card: the 16 items, the stage timeline with the one allowed next step, probation
extension, 党籍状态, 流动, 失联, organisation history, meetings attended and dues."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from reports.masking import mask_id, mask_phone
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from ..labels import CATEGORY_LABELS, STAGE_LABELS, STATUS_LABELS
from .common import PlainTable
from .member_dialogs import AdvanceDialog, ExtendDialog, JoinOrgDialog, SituationDialog
from .members import MemberFormDialog

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
