"""事件办理 page: indicators for this year, the event list (lazy, newest first) with a status filter and
"待我处理", the report form, and the event detail with the action buttons the user may press now and
the timeline. Every step goes through services.transition with the version the screen showed, so a
step taken meanwhile on another desktop is refused with the name of who took it."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QTableView, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from shell.clock import format_local
from shell.errors import JiedaoError, ValidationError
from shell.ui.widgets import Column, Form, LazyTableModel

from .. import services as svc
from ..models import Event, EventCategory
from .residents import grid_choices


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
                                      description=f.value("description"))
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
        self.resize(760, 560)
        self.info = QFormLayout()
        self.labels = {k: QLabel(self) for k in ("number", "title", "category", "status", "deadline", "assignee",
                                                 "description")}
        for key, text in (("number", "编号"), ("title", "事件名称"), ("category", "类别"), ("status", "状态"),
                          ("deadline", "处置时限"), ("assignee", "派遣对象"), ("description", "情况描述")):
            self.labels[key].setWordWrap(True)
            self.info.addRow(text + "：", self.labels[key])
        self.timeline = QTableWidget(0, 4, self)
        self.timeline.setHorizontalHeaderLabels(["时间", "环节", "经办人", "意见"])
        self.timeline.horizontalHeader().setStretchLastSection(True)
        self.timeline.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.comment = QPlainTextEdit(self)
        self.comment.setPlaceholderText("办理意见（不予立案、处置、退回、督办时必填）")
        self.comment.setMaximumHeight(70)
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
        layout.addWidget(QLabel("办理过程：", self))
        layout.addWidget(self.timeline, 1)
        layout.addWidget(self.assignee)
        layout.addWidget(self.comment)
        layout.addWidget(self.message)
        layout.addLayout(self.buttons_box)
        self.reload()

    def reload(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            ev = svc.get_event(ctx, self.event_id)
            cat = ctx.session.get(EventCategory, ev.category_id)
            steps = svc.timeline(ctx, ev.id)
            allowed = set(svc.allowed_actions(ctx, ev))
            self.version = ev.version_id
            self.status = ev.status
            self.setWindowTitle(f"事件 {ev.number}")
            overdue = ev.status in svc.OPEN_STATUSES and ev.deadline and ev.deadline < ctx.today()
            values = {"number": ev.number, "title": ev.title, "category": cat.name,
                      "status": svc.STATUS_LABELS[ev.status] + (f"（已督办 {ev.escalations} 次）" if ev.escalations else ""),
                      "deadline": (f"{ev.deadline}" + ("（已超期）" if overdue else "")) if ev.deadline else "立案后计算",
                      "assignee": ev.assignee or "", "description": ev.description}
            rows = [(format_local(s.at), svc.STEP_LABELS.get(s.action, s.action), s.actor_name, s.comment)
                    for s in steps]
        for k, v in values.items():
            self.labels[k].setText(v)
        self.timeline.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                self.timeline.setItem(r, c, QTableWidgetItem(v))
        for action, b in self.action_buttons.items():
            b.setVisible(action in allowed)
        self.assignee.setVisible("dispatch" in allowed)
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

    def act(self, action: str) -> None:
        self.message.clear()
        try:
            with self.app_ctx.service() as ctx:
                svc.transition(ctx, self.event_id, action, self.comment.toPlainText(), expected_version=self.version,
                               assignee=self.assignee.text())
        except JiedaoError as exc:
            self.message.setText(exc.message)
            if exc.title == "记录已被他人修改":
                self.reload()
            return
        self.changed = True
        self.comment.clear()
        self.assignee.clear()
        self.reload()


STATUS_FILTERS = [("", "全部"), ("inbox", "待我处理"), ("overdue", "已超期")] + list(svc.STATUS_LABELS.items())


class EventsPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-events")
        self.indicator_label = QLabel(self)
        self.indicator_label.setObjectName("grid-indicators")
        self.filter = QComboBox(self)
        for code, label in STATUS_FILTERS:
            self.filter.addItem(label, code)
        self.filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.count_label = QLabel(self)
        self.report_button = QPushButton("上报事件", self)
        self.report_button.setEnabled(app_ctx.actor.can(svc.P_REPORT))
        self.report_button.clicked.connect(self.open_report_dialog)
        self.open_button = QPushButton("查看办理", self)
        self.open_button.clicked.connect(self.open_selected)
        top = QHBoxLayout()
        top.addWidget(QLabel("状态：", self))
        top.addWidget(self.filter)
        top.addWidget(self.count_label)
        top.addStretch(1)
        top.addWidget(self.open_button)
        top.addWidget(self.report_button)
        today = date.today()
        columns = [
            Column("编号", lambda e: e.number),
            Column("事件名称", lambda e: e.title),
            Column("状态", lambda e: svc.STATUS_LABELS[e.status], Qt.AlignmentFlag.AlignCenter),
            Column("处置时限", lambda e: (f"{e.deadline}" + (" 超期" if e.status in svc.OPEN_STATUSES
                                                               and e.deadline < today else "")) if e.deadline else ""),
            Column("上报时间", lambda e: format_local(e.reported_at)),
            Column("派遣对象", lambda e: e.assignee),
        ]
        self.model = LazyTableModel(app_ctx.session_factory, columns, page_size=200, parent=self)
        self.model.count_changed.connect(lambda n: self.count_label.setText(f"共 {n} 件"))
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((150, 220, 70, 140, 150)):  # number, title, state, deadline, reported
            self.table.horizontalHeader().resizeSection(column, width)
        self.table.doubleClicked.connect(lambda index: self.open_event(self.model.row_object(index.row()).id))
        layout = QVBoxLayout(self)
        layout.addWidget(self.indicator_label)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.dialog: QDialog | None = None
        self.refresh()

    def refresh(self) -> None:
        self.update_indicators()
        self.apply_filter()

    def update_indicators(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            today = ctx.today()
            ind = svc.indicators(ctx, today.replace(month=1, day=1), today)
        mean = "—" if ind.mean_hours is None else f"{ind.mean_hours:.1f} 小时"
        self.indicator_label.setText(
            f"{today.year}年：立案 {ind.due} 件，结案 {ind.closed} 件，结案率 {ind.percent(ind.closure_rate)}，"
            f"按期结案率 {ind.percent(ind.on_time_rate)}，平均办理时长 {mean}")

    def apply_filter(self) -> None:
        code = self.filter.currentData()
        actor = self.app_ctx.actor
        if code == "inbox":
            with self.app_ctx.service(commit=False) as ctx:
                ids = [e.id for e in svc.inbox(ctx)]
            q = svc.events_query(actor).where(Event.id.in_(ids or [-1]))
        elif code == "overdue":
            q = svc.events_query(actor).where(Event.status.in_(svc.OPEN_STATUSES), Event.deadline < date.today())
        else:
            q = svc.events_query(actor, status=code or None)
        self.model.set_query(q, key_column=Event.id, descending=True)

    def open_report_dialog(self) -> ReportEventDialog:
        self.dialog = ReportEventDialog(self.app_ctx, self)
        self.dialog.accepted.connect(self.refresh)
        self.dialog.open()
        return self.dialog

    def open_selected(self) -> EventDialog | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.open_event(self.model.row_object(rows[0].row()).id)

    def open_event(self, event_id: int) -> EventDialog:
        self.dialog = EventDialog(self.app_ctx, event_id, self)
        self.dialog.finished.connect(lambda _r: self.refresh())
        self.dialog.open()
        return self.dialog


def events_page(app_ctx, parent=None) -> EventsPage:
    return EventsPage(app_ctx, parent)

