"""民情日志 page: the visit logs in scope (lazy list, newest first), writing a log, and turning a log's
finding into an event in one step (转为事件), after which the log shows the event's number and opens it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shell.clock import local_today
from shell.ui.widgets import Column, LazyTableModel, SearchBox
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from .common import PersonPicker, date_edit, grid_choices, grid_label, service_call, show_listing


class LogDialog(FormDialog):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent, "写民情日志", "grid-log", ok_text="保存")
        self.app_ctx = app_ctx
        self.saved_id: int | None = None
        grid = QComboBox()
        for label, area_id in grid_choices(app_ctx):
            grid.addItem(label, area_id)
        self.form.add("area_id", "网格", grid, required=True)
        self.form.add("log_date", "日期", date_edit(local_today()), required=True)
        self.form.add("household", "走访户号", QLineEdit(), hint="可不填")
        self.with_person = QCheckBox("走访对象是已登记的人员")
        self.form.add("with_person", "走访对象", self.with_person)
        self.picker = self.form.add("person_id", "人员", PersonPicker(app_ctx))
        self.picker.setEnabled(False)
        self.with_person.toggled.connect(self.picker.setEnabled)
        content = QPlainTextEdit()
        content.setMaximumHeight(80)
        self.form.add("content", "走访内容", content, required=True)
        finding = QPlainTextEdit()
        finding.setMaximumHeight(80)
        finding.setPlaceholderText("发现的问题或居民诉求；有内容的日志可以“转为事件”")
        self.form.add("finding", "发现问题", finding)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        person_id = self.picker.selected_id() if self.with_person.isChecked() else None
        if self.with_person.isChecked() and person_id is None:
            f.show_errors({"person_id": "请查找并选择走访的人员，或取消“走访对象是已登记的人员”。"})
            return False

        def write(ctx):
            hh = svc.find_household(ctx, f.value("household"))
            return svc.write_log(ctx, f.value("area_id"), f.value("content"), f.value("finding"), f.value("log_date"),
                                 household_id=hh.id if hh else None, person_id=person_id)
        ok, log = service_call(self, self.app_ctx, write)
        self.saved_id = log.id if ok else None
        return ok


class ToEventDialog(FormDialog):
    """转为事件: the finding becomes an event in state 上报, source 民情日志, in the log's grid."""

    def __init__(self, app_ctx, log_id: int, parent: QWidget | None = None):
        super().__init__(parent, "转为事件", "grid-log-to-event", ok_text="上报事件")
        self.app_ctx, self.log_id = app_ctx, log_id
        self.event_id: int | None = None
        with app_ctx.service(commit=False) as ctx:
            log = svc.get_log(ctx, log_id)
            finding, grid = log.finding, svc.area_name(ctx, log.area_id)
            cats = [(f"{c.name}（{c.deadline_days} 个工作日）", c.id) for c in svc.list_categories(ctx)]
        text = QLabel(finding or "（这条日志没有记录发现的问题）")
        text.setWordWrap(True)
        self.form.add("finding", "发现问题", text)
        self.form.add("grid", "网格", QLabel(grid))
        cat = QComboBox()
        for label, cid in cats:
            cat.addItem(label, cid)
        self.form.add("category_id", "事件类别", cat, required=True)
        self.form.add("title", "事件名称", QLineEdit(finding[:50]), required=True)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        ok, ev = service_call(self, self.app_ctx, svc.log_to_event, self.log_id, f.value("category_id"),
                              f.value("title"))
        self.event_id = ev.id if ok else None
        return ok


class VisitLogsPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-logs")
        self.search = SearchBox(self, placeholder="走访内容、发现问题或网格员姓名")
        self.open_findings = QCheckBox("只看未转事件的问题", self)
        self.open_findings.setObjectName("logs-open-findings")
        self.count_label = QLabel(self)
        self.write_button = QPushButton("写日志…", self)
        self.write_button.setObjectName("log-write")
        self.write_button.setVisible(app_ctx.actor.can(svc.P_LOG))
        self.write_button.clicked.connect(self.write)
        self.to_event_button = QPushButton("转为事件…", self)
        self.to_event_button.setObjectName("log-to-event")
        self.to_event_button.setVisible(app_ctx.actor.can(svc.P_REPORT))
        self.to_event_button.clicked.connect(self.to_event)
        self.event_button = QPushButton("查看事件", self)
        self.event_button.setObjectName("log-open-event")
        self.event_button.clicked.connect(self.open_event)
        self.message = QLabel(self)
        self.message.setObjectName("logs-message")
        self.message.setStyleSheet("color: #c0392b;")
        self.message.hide()
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.open_findings)
        top.addWidget(self.count_label)
        top.addWidget(self.write_button)
        top.addWidget(self.to_event_button)
        top.addWidget(self.event_button)
        self._grids: dict[int, str] = {}
        columns = [
            Column("日期", lambda r: r[0].log_date, Qt.AlignmentFlag.AlignCenter),
            Column("网格", lambda r: self.grid_label(r[0].area_id)),
            Column("网格员", lambda r: r[0].worker_name),
            Column("走访内容", lambda r: r[0].content, tooltip=lambda r: r[0].content),
            Column("发现问题", lambda r: r[0].finding, tooltip=lambda r: r[0].finding),
            Column("事件", lambda r: r[1] or ("待转事件" if r[0].finding else "")),
        ]
        self.model = LazyTableModel(app_ctx.session_factory, columns, page_size=200, parent=self)
        self.model.count_changed.connect(lambda n: self.count_label.setText(f"共 {n} 条"))
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((100, 170, 80, 330, 260)):
            self.table.horizontalHeader().resizeSection(column, width)
        self.table.doubleClicked.connect(lambda _i: self.open_event() if self.current() and self.current()[0].event_id
                                         else self.to_event())
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.table)
        self.search.search.connect(lambda _t: self.apply())
        self.open_findings.toggled.connect(lambda _c: self.apply())
        self.dialog: QDialog | None = None
        self.apply()

    grid_label = grid_label

    def apply(self) -> None:
        show_listing(self.model, svc.logs_listing(self.app_ctx.actor, self.search.text(),
                                                  open_findings=self.open_findings.isChecked()))

    def say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def current(self):
        index = self.table.currentIndex()
        return self.model.row_object(index.row()) if index.isValid() else None

    def write(self) -> LogDialog:
        self.dialog = LogDialog(self.app_ctx, self)
        self.dialog.accepted.connect(self.model.refresh)
        self.dialog.open()
        return self.dialog

    def to_event(self) -> ToEventDialog | None:
        row = self.current()
        if row is None:
            self.say("请先选择一条民情日志。")
            return None
        log = row[0]
        if log.event_id is not None:
            self.say(f"这条民情日志已转为事件 {row[1]}。")
            return None
        if not log.finding:
            self.say("这条民情日志没有记录发现的问题，无法转为事件。")
            return None
        self.say("")
        self.dialog = ToEventDialog(self.app_ctx, log.id, self)
        self.dialog.accepted.connect(self.model.refresh)
        self.dialog.open()
        return self.dialog

    def open_event(self) -> QDialog | None:
        from .events import EventDialog

        row = self.current()
        if row is None or row[0].event_id is None:
            self.say("请先选择一条已转为事件的民情日志。")
            return None
        self.say("")
        self.dialog = EventDialog(self.app_ctx, row[0].event_id, self)
        self.dialog.open()
        return self.dialog
