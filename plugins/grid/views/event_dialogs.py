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
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from .attachments import AttachmentPanel
from .common import grid_choices
from .departments import DepartmentChooser

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
        source = QComboBox(self)
        source.setEditable(True)
        for value in svc.EVENT_SOURCES:
            source.addItem(value, value)
        f.add("source", "来源", source)
        f.add("reporter_name", "上报人", QLineEdit(app_ctx.actor.display_name or "", self),
              hint="群众反映、热线转办时填写反映人")
        f.add("reporter_phone", "联系电话", QLineEdit(self), hint="手机号 11 位，固话如 010-62345678")
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
                                      source=f.widget("source").currentText(),
                                      reporter_name=f.value("reporter_name"),
                                      reporter_phone=f.value("reporter_phone"),
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


WEEKDAYS = "一二三四五六日"


class DispatchDialog(FormDialog):
    """派遣: the 派遣对象 chosen from the active 部门与单位 (type to narrow the list), the 处置时限 in
    working days — the department's default, from today by the holiday calendar — and an opinion."""

    def __init__(self, app_ctx, event_id: int, version: int | None, number: str, deadline, parent=None):
        super().__init__(parent, f"派遣事件 {number}", "grid-dispatch-dialog", ok_text="派遣")
        self.app_ctx, self.event_id, self.expected_version = app_ctx, event_id, version
        self.registered_deadline = deadline
        self.result_text: tuple | None = None
        with app_ctx.service(commit=False) as ctx:
            self.rows = svc.department_rows(ctx)
        f = self.form
        self.chooser = DepartmentChooser(self.rows, self)
        f.add("department_id", "派遣对象", self.chooser, required=False,
              hint="部门与单位目录中启用的单位（设置 → 部门与单位）" if self.rows else
              "部门与单位目录为空：请管理员先在 设置 → 部门与单位 中录入")
        self.days = QSpinBox(self)
        self.days.setObjectName("dispatch-days")
        self.days.setRange(0, svc.MAX_DEADLINE_DAYS)
        self.days.setSpecialValueText(f"按立案时限（{deadline or '未定'}）")
        self.days.setSuffix(" 个工作日")
        f.add("deadline_days", "处置时限", self.days)
        due_box = QWidget(self)
        due_rows = QVBoxLayout(due_box)
        due_rows.setContentsMargins(0, 0, 0, 0)
        self.due = QLabel(due_box)
        self.due.setObjectName("dispatch-due")
        # a year without holiday calendar: said under the date, wrapped (the date itself stays one line)
        self.due_warning = QLabel(due_box)
        self.due_warning.setObjectName("dispatch-due-warning")
        self.due_warning.setWordWrap(True)
        self.due_warning.setStyleSheet("color: #b9770e;")
        self.due_warning.setVisible(False)
        due_rows.addWidget(self.due)
        due_rows.addWidget(self.due_warning)
        f.add("due", "截止日期", due_box)
        self.comment = QPlainTextEdit(self)
        self.comment.setPlaceholderText("派遣意见（可不填；不填时办理过程记为“派遣至…”）")
        self.comment.setMaximumHeight(70)
        f.add("comment", "派遣意见", self.comment)
        self.setMinimumWidth(520)
        self.finish_layout()
        self.chooser.currentIndexChanged.connect(lambda _i: self.department_changed())
        self.days.valueChanged.connect(lambda _v: self.show_due())
        self.department_changed()

    def department_changed(self) -> None:
        """A department chosen: its default working days into the box (按立案时限 when it has none)."""
        dep = next((r for r in self.rows if r.id == self.chooser.department_id()), None)
        self.days.blockSignals(True)
        self.days.setValue((dep.deadline_days or 0) if dep else 0)
        self.days.blockSignals(False)
        self.show_due()

    def show_due(self) -> None:
        days = self.days.value()
        warning = ""
        if not days:
            self.due.setText(f"{self.registered_deadline}（立案时计算）" if self.registered_deadline else "立案后计算")
        else:
            with self.app_ctx.service(commit=False) as ctx:
                d = svc.dispatch_deadline(ctx, self.event_id, None, days)
            assert d.day is not None
            self.due.setText(f"{d.day}（星期{WEEKDAYS[d.day.weekday()]}），从今天起 {days} 个工作日")
            warning = d.warning
        self.due_warning.setText(f"注意：{warning}" if warning else "")
        self.due_warning.setVisible(bool(warning))

    def submit(self) -> bool:
        def work():
            with self.app_ctx.service() as ctx:
                ev = svc.transition(ctx, self.event_id, "dispatch", self.comment.toPlainText(), self.expected_version,
                                    department_id=self.chooser.department_id(), deadline_days=self.days.value())
                return ev.assignee, ev.deadline, ev.deadline_warning   # what the detail says afterwards
        ok, result = self.call(work)
        if ok:
            self.result_text = result
        return ok


class EventDialog(QDialog):
    """Event detail: fields, the timeline, a comment box and one button per action the user may take
    now (派遣 opens DispatchDialog: the 派遣对象 from the 部门与单位 directory)."""

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
        # what was entered at report time, beside the case's state
        self.report_info = QFormLayout()
        reported = (("area", "所属网格"), ("address", "发生地点"), ("occurred_on", "发生日期"), ("source", "来源"),
                    ("reporter", "上报人"), ("reporter_phone", "联系电话"), ("reported_at", "上报时间"))
        for key, text in reported:
            label = self.labels[key] = QLabel(self)
            label.setWordWrap(True)
            label.setObjectName(f"event-{key}")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.report_info.addRow(text + "：", label)
        self.timeline = QTableWidget(0, 4, self)
        self.timeline.setHorizontalHeaderLabels(["时间", "环节", "经办人", "意见"])
        self.timeline.horizontalHeader().setStretchLastSection(True)
        self.timeline.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.timeline.verticalHeader().setVisible(False)
        self.timeline.setWordWrap(True)
        # rows follow the comment column's width (a long opinion wraps over several lines), measured
        # once the layout has settled
        self.timeline.horizontalHeader().sectionResized.connect(lambda *_a: self._fit_rows_later())
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
        self.dispatch_dialog: DispatchDialog | None = None
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
        self.print_button = QPushButton("打印处理单…", self)
        self.print_button.setObjectName("print-event-sheet")
        self.print_button.setToolTip("预览并打印这件事件的事件处理单：上报信息、办理过程和全部意见，供签字存档")
        self.print_button.clicked.connect(self.print_sheet)
        self.print_dialog = None
        self.buttons_box.addWidget(self.print_button)
        close = QPushButton("关闭", self)
        close.clicked.connect(self.accept)
        self.buttons_box.addWidget(close)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addLayout(self.info, 3)
        top.addSpacing(16)
        top.addLayout(self.report_info, 2)
        layout.addLayout(top)
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
            self.deadline = ev.deadline
            self.handler_name = ev.assignee or "原处置人"
            self.setWindowTitle(f"事件 {ev.number}")
            overdue = ev.status in svc.OPEN_STATUSES and ev.deadline and ev.deadline < ctx.today()
            values = {"number": ev.number, "title": ev.title, "category": cat.name,
                      "status": svc.STATUS_LABELS[ev.status] + (f"（已督办 {ev.escalations} 次）" if ev.escalations else ""),
                      "deadline": (f"{ev.deadline}" + ("（已超期）" if overdue else "")) if ev.deadline else "立案后计算",
                      "assignee": ev.assignee or "", "description": ev.description,
                      "area": svc.area_name(ctx, ev.area_id), "address": ev.address or "—",
                      "occurred_on": str(ev.occurred_on or "—"), "source": ev.source or "—",
                      "reporter": ev.reporter_name or "—", "reporter_phone": ev.reporter_phone or "—",
                      "reported_at": format_local(ev.reported_at)}
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
        # the whole opinion, wrapped over as many lines as it needs (never cut off with "…")
        self.timeline.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.timeline.resizeRowsToContents()
        self._fit_rows_later()
        self.attachments.reload(self.status)
        for action, b in self.action_buttons.items():
            b.setVisible(action in allowed)
        self.mediation_box.setVisible(self.is_dispute and "handle" in allowed)
        can_callback = self.status == "closed" and self.app_ctx.actor.can(svc.P_CLOSE)
        self.satisfaction.setVisible(can_callback)
        self.callback_button.setVisible(can_callback)

    def _fit_rows_later(self) -> None:
        from PySide6.QtCore import QTimer

        if not getattr(self, "_fit_pending", False):
            self._fit_pending = True
            QTimer.singleShot(0, self._fit_rows)

    def _fit_rows(self) -> None:
        self._fit_pending = False
        try:
            self.timeline.resizeRowsToContents()
        except RuntimeError:      # closed meanwhile
            pass

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit_rows_later()

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
        if action == "dispatch":
            self.open_dispatch()
            return
        if action == "verify_fail" and opinion and not confirmed:
            self.ask_verify_fail(opinion)    # sends the work back: asked first (an empty opinion the service refuses)
            return
        if action == "close" and not confirmed:
            self.ask_close()                 # 结案 ends the loop: asked first
            return
        try:
            with self.app_ctx.service() as ctx:
                ev = svc.transition(ctx, self.event_id, action, self.comment.toPlainText(), expected_version=self.version,
                               mediation_method=self.mediation_method.currentData() if self.is_dispute else None,
                               mediation_result=self.mediation_result.currentData() if self.is_dispute else None)
        except JiedaoError as exc:
            self.message.setText(exc.message)
            if exc.title == "记录已被他人修改":
                self.reload()
            return
        self.changed = True
        self.comment.clear()
        self.reload()
        if action == "verify_fail":
            self.message.setText(f"已退回{ev.assignee or '原处置人'}重新处置，待其处置后再核查。")
        if ev.deadline_warning:
            self.message.setText(f"已立案，处置时限 {ev.deadline}。{ev.deadline_warning}。")


    def open_dispatch(self) -> DispatchDialog:
        """派遣 in its own dialog (the directory chooser and the deadline); the detail reloads after."""
        self.dispatch_dialog = DispatchDialog(self.app_ctx, self.event_id, self.version, self.number,
                                              self.deadline, self)
        self.dispatch_dialog.accepted.connect(self.dispatched)
        self.dispatch_dialog.open()
        return self.dispatch_dialog

    def dispatched(self) -> None:
        self.changed = True
        self.reload()
        done = self.dispatch_dialog.result_text if self.dispatch_dialog is not None else None
        if done is not None:
            assignee, deadline, warning = done
            self.message.setText(f"已派遣至{assignee}，处置时限 {deadline}。" + (f"{warning}。" if warning else ""))

    def _ask(self, action: str, name: str, title: str, text: str, yes_text: str) -> QMessageBox:
        """A window-modal question with its own Chinese buttons; ``action`` runs only on ``yes_text``."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        box.setObjectName(name)
        yes = box.addButton(yes_text, QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("取消", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(cancel)
        box.buttonClicked.connect(lambda b: self.act(action, confirmed=True) if b is yes else None)
        self.confirm_box = box
        box.open()
        return box

    def ask_close(self) -> QMessageBox:
        """The confirmation of 结案: the case leaves every worklist and can then only be called back."""
        return self._ask("close", "close-confirm", "结案",
                         f"事件 {self.number} 核查已通过，确认结案？\n\n结案后不能再处置或退回，只能回访；"
                         "事件处理单可随时打印。", "结案")

    def ask_verify_fail(self, opinion: str) -> QMessageBox:
        """The confirmation of 核查不通过, with the opinion the handler will read; 退回 only on its button."""
        shown = opinion if len(opinion) <= 120 else opinion[:120] + "…"
        return self._ask("verify_fail", "verify-fail-confirm", "核查不通过",
                         f"事件 {self.number} 核查不通过，退回{self.handler_name}重新处置？\n\n意见：{shown}", "退回重新处置")

    def print_sheet(self):
        """事件处理单 of this event, previewed for printing (the report engine: scope, masking, audit)."""
        from shell.ui.report_preview import print_report

        self.print_dialog = print_report(self.app_ctx, "grid.event_sheet", {"event_number": self.number}, self,
                                         f"事件处理单-{self.number}.pdf")
        return self.print_dialog

