"""The event windows: 上报事件 and the event detail with the action buttons the user may press now,
the timeline and the attachments. Every step goes through services.transition with the version the
screen showed, so a step taken meanwhile on another desktop is refused with the name of who took it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.clock import format_local
from shell.errors import JiedaoError, ValidationError
from shell.ui.widgets import Form

from .. import services as svc
from .attachments import AttachmentPanel
from .common import grid_choices

MEDIATION_METHODS = ("人民调解", "行政调解", "司法调解", "行业性专业性调解", "其他")


class ReportEventDialog(QDialog):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.saved_id: int | None = None
        self.setWindowTitle("上报事件")
        self.form = Form(self)
        f = self.form
        grid = QComboBox(self)
        for label, area_id in grid_choices(app_ctx):
            grid.addItem(label, area_id)
        f.add("area_id", "所属网格", grid, required=True)
        cat = QComboBox(self)
        with app_ctx.service(commit=False) as ctx:
            for c in svc.list_categories(ctx):
                cat.addItem(f"{c.name}（{c.deadline_days} 个工作日）", c.id)
        f.add("category_id", "事件类别", cat, required=True)
        f.add("title", "事件名称", QLineEdit(self), required=True)
        f.add("address", "发生地点", QLineEdit(self))
        f.add("description", "情况描述", QPlainTextEdit(self))
        parties = QSpinBox(self)
        parties.setRange(0, 9999)
        f.add("party_count", "当事人数量", parties, hint="矛盾纠纷填写；其他类别可为 0")
        f.add("main_parties", "主要当事人", QLineEdit(self))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("上报")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(buttons)

    def save(self) -> None:
        f = self.form
        try:
            with self.app_ctx.service() as ctx:
                ev = svc.report_event(ctx, area_id=f.value("area_id"), category_id=f.value("category_id"),
                                      title=f.value("title"), address=f.value("address"),
                                      description=f.value("description"),
                                      party_count=f.value("party_count") or None,
                                      main_parties=f.value("main_parties"))
                self.saved_id = ev.id
        except ValidationError as exc:
            f.show_errors({exc.field: exc.message})
            return
        except JiedaoError as exc:
            f.show_errors({None: exc.message})
            return
        self.accept()


class EventDialog(QDialog):
    """Event detail: fields, the timeline, a comment box, an assignee box (for 派遣) and one button
    per action the user may take now."""

    def __init__(self, app_ctx, event_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.event_id = event_id
        self.version: int | None = None
        self.changed = False
        self.setObjectName("grid-event-dialog")
        self.resize(980, 640)
        self.info = QFormLayout()
        self.is_dispute = False
        fields = (("number", "编号"), ("title", "事件名称"), ("category", "类别"), ("status", "状态"),
                  ("deadline", "处置时限"), ("assignee", "派遣对象"), ("description", "情况描述"),
                  ("mediation", "纠纷化解"))
        self.labels = {k: QLabel(self) for k, _t in fields}
        for key, text in fields:
            self.labels[key].setWordWrap(True)
            self.labels[key].setObjectName(f"event-{key}")
            self.info.addRow(text + "：", self.labels[key])
            if key == "deadline":   # a deadline counted into a year without holiday calendar says so
                self.deadline_warning = QLabel(self)
                self.deadline_warning.setObjectName("event-deadline-warning")
                self.deadline_warning.setWordWrap(True)
                self.deadline_warning.setStyleSheet("color: #b9770e; font-weight: bold;")
                self.deadline_warning.setVisible(False)
                self.info.addRow("", self.deadline_warning)
        self.timeline = QTableWidget(0, 4, self)
        self.timeline.setHorizontalHeaderLabels(["时间", "环节", "经办人", "意见"])
        self.timeline.horizontalHeader().setStretchLastSection(True)
        self.timeline.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.timeline.verticalHeader().setVisible(False)
        self.timeline.setWordWrap(True)
        self.attachments = AttachmentPanel(app_ctx, event_id, self)
        self.comment = QPlainTextEdit(self)
        self.comment.setPlaceholderText("办理意见（不予立案、处置、退回、核查不通过、督办时必填）")
        self.comment.setMaximumHeight(70)
        # 矛盾纠纷: 化解方式 and 化解情况 are recorded with 处置
        self.mediation_box = QWidget(self)
        row = QHBoxLayout(self.mediation_box)
        row.setContentsMargins(0, 0, 0, 0)
        self.mediation_method = QComboBox(self.mediation_box)
        self.mediation_method.setObjectName("mediation-method")
        for m in MEDIATION_METHODS:
            self.mediation_method.addItem(m, m)
        self.mediation_result = QComboBox(self.mediation_box)
        self.mediation_result.setObjectName("mediation-result")
        self.mediation_result.setMinimumContentsLength(4)
        self.mediation_result.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for r in ("化解中", "成功", "失败"):
            self.mediation_result.addItem(r, r)
        row.addWidget(QLabel("化解方式：", self.mediation_box))
        row.addWidget(self.mediation_method)
        row.addWidget(QLabel("化解情况：", self.mediation_box))
        row.addWidget(self.mediation_result)
        row.addStretch(1)
        self.assignee = QLineEdit(self)
        self.assignee.setPlaceholderText("派遣对象：部门或人员")
        self.message = QLabel(self)
        self.message.setObjectName("event-message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b;")
        self.buttons_box = QHBoxLayout()
        self.action_buttons: dict[str, QPushButton] = {}
        for action, t in svc.TRANSITIONS.items():
            b = QPushButton(t.label, self)
            b.setObjectName(f"action-{action}")
            b.clicked.connect(lambda _=False, a=action: self.act(a))
            self.buttons_box.addWidget(b)
            self.action_buttons[action] = b
        self.action_buttons["verify_fail"].setToolTip("现场核查未处置到位：填写意见后退回原处置部门重新处置")
        self.confirm_box: QMessageBox | None = None
        self.satisfaction = QComboBox(self)
        for value in svc.SATISFACTION:
            self.satisfaction.addItem(value, value)
        self.callback_button = QPushButton("回访", self)
        self.callback_button.setObjectName("action-callback")
        self.callback_button.clicked.connect(self.callback)
        self.buttons_box.addWidget(self.satisfaction)
        self.buttons_box.addWidget(self.callback_button)
        self.buttons_box.addStretch(1)
        close = QPushButton("关闭", self)
        close.clicked.connect(self.accept)
        self.buttons_box.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(self.info)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("办理过程：", left))
        left_layout.addWidget(self.timeline, 1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(self.attachments)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([560, 380])
        layout.addWidget(split, 1)
        layout.addWidget(self.assignee)
        layout.addWidget(self.mediation_box)
        layout.addWidget(self.comment)
        layout.addWidget(self.message)
        layout.addLayout(self.buttons_box)
        self.reload()

    def reload(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            ev = svc.get_event(ctx, self.event_id)
            cat = svc.get_category(ctx, ev.category_id)
            steps = svc.timeline(ctx, ev.id)
            allowed = set(svc.allowed_actions(ctx, ev))
            warning = svc.deadline_warning(ctx, ev.id)
            self.version = ev.version_id
            self.status = ev.status
            self.number = ev.number
            self.handler_name = ev.assignee or "原处置人"
            self.setWindowTitle(f"事件 {ev.number}")
            overdue = ev.status in svc.OPEN_STATUSES and ev.deadline and ev.deadline < ctx.today()
            values = {"number": ev.number, "title": ev.title, "category": cat.name,
                      "status": svc.STATUS_LABELS[ev.status] + (f"（已督办 {ev.escalations} 次）" if ev.escalations else ""),
                      "deadline": (f"{ev.deadline}" + ("（已超期）" if overdue else "")) if ev.deadline else "立案后计算",
                      "assignee": ev.assignee or "", "description": ev.description}
            self.is_dispute = bool(cat.is_dispute)
            if self.is_dispute:
                parties = f"当事人 {ev.party_count} 人" if ev.party_count else "当事人未登记"
                if ev.main_parties:
                    parties += f"（{ev.main_parties}）"
                values["mediation"] = (f"{parties}；化解方式 {ev.mediation_method or '—'}，化解情况 "
                                       f"{ev.mediation_result or '—'}，化解时限 {ev.deadline or '立案后计算'}，"
                                       f"当事人满意度 {ev.satisfaction or '—'}")
            else:
                values["mediation"] = ""
            rows = [(format_local(s.at), svc.STEP_LABELS.get(s.action, s.action), s.actor_name, s.comment)
                    for s in steps]
        for k, v in values.items():
            self.labels[k].setText(v)
        self.deadline_warning.setText(f"注意：{warning}" if warning else "")
        self.deadline_warning.setVisible(bool(warning))
        self.labels["mediation"].setVisible(self.is_dispute)
        self.info.labelForField(self.labels["mediation"]).setVisible(self.is_dispute)
        self.timeline.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                self.timeline.setItem(r, c, QTableWidgetItem(v))
        for c in range(3):   # time, step, who fit their text; the comment takes the rest
            self.timeline.resizeColumnToContents(c)
        self.attachments.reload(self.status)
        for action, b in self.action_buttons.items():
            b.setVisible(action in allowed)
        self.assignee.setVisible("dispatch" in allowed)
        self.mediation_box.setVisible(self.is_dispute and "handle" in allowed)
        can_callback = self.status == "closed" and self.app_ctx.actor.can(svc.P_CLOSE)
        self.satisfaction.setVisible(can_callback)
        self.callback_button.setVisible(can_callback)

    def callback(self) -> None:
        """回访 after 结案: records the satisfaction with the comment."""
        self.message.clear()
        try:
            with self.app_ctx.service() as ctx:
                svc.record_callback(ctx, self.event_id, self.satisfaction.currentData(), self.comment.toPlainText())
        except JiedaoError as exc:
            self.message.setText(exc.message)
            return
        self.changed = True
        self.comment.clear()
        self.reload()

    def act(self, action: str, confirmed: bool = False) -> None:
        self.message.clear()
        opinion = self.comment.toPlainText().strip()
        if action == "verify_fail" and opinion and not confirmed:
            self.ask_verify_fail(opinion)    # sends the work back: asked first (an empty opinion the service refuses)
            return
        try:
            with self.app_ctx.service() as ctx:
                ev = svc.transition(ctx, self.event_id, action, self.comment.toPlainText(), expected_version=self.version,
                               assignee=self.assignee.text(),
                               mediation_method=self.mediation_method.currentData() if self.is_dispute else None,
                               mediation_result=self.mediation_result.currentData() if self.is_dispute else None)
        except JiedaoError as exc:
            self.message.setText(exc.message)
            if exc.title == "记录已被他人修改":
                self.reload()
            return
        self.changed = True
        self.comment.clear()
        self.assignee.clear()
        self.reload()
        if action == "verify_fail":
            self.message.setText(f"已退回{ev.assignee or '原处置人'}重新处置，待其处置后再核查。")
        if ev.deadline_warning:
            self.message.setText(f"已立案，处置时限 {ev.deadline}。{ev.deadline_warning}。")


    def ask_verify_fail(self, opinion: str) -> QMessageBox:
        """The confirmation of 核查不通过, with the opinion the handler will read; 退回 only on its button."""
        shown = opinion if len(opinion) <= 120 else opinion[:120] + "…"
        box = QMessageBox(QMessageBox.Icon.Question, "核查不通过",
                          f"事件 {self.number} 核查不通过，退回{self.handler_name}重新处置？\n\n意见：{shown}", parent=self)
        box.setObjectName("verify-fail-confirm")
        yes = box.addButton("退回重新处置", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)
        box.buttonClicked.connect(lambda b: self.act("verify_fail", confirmed=True) if b is yes else None)
        self.confirm_box = box
        box.open()
        return box
