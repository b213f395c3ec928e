"""事件办理 page: indicators for this year, the event list (lazy, newest first) with a status filter and
"待我处理", the report form, and the event detail with the action buttons the user may press now and
the timeline. Every step goes through services.transition with the version the screen showed, so a
step taken meanwhile on another desktop is refused with the name of who took it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.clock import format_local
from shell.errors import JiedaoError, ValidationError
from shell.ui.widgets import Column, Form, LazyTableModel
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from ..models import Event, EventCategory
from .attachments import AttachmentPanel
from .residents import grid_choices

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
        self.comment.setPlaceholderText("办理意见（不予立案、处置、退回、督办时必填）")
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
            cat = ctx.session.get(EventCategory, ev.category_id)
            steps = svc.timeline(ctx, ev.id)
            allowed = set(svc.allowed_actions(ctx, ev))
            warning = svc.deadline_warning(ctx, ev.id)
            self.version = ev.version_id
            self.status = ev.status
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

    def act(self, action: str) -> None:
        self.message.clear()
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
        if ev.deadline_warning:
            self.message.setText(f"已立案，处置时限 {ev.deadline}。{ev.deadline_warning}。")


def indicator_text(app_ctx) -> str:
    """One line of this year's indicators (runs on the thread pool, in its own session)."""
    with app_ctx.service(commit=False) as ctx:
        today = ctx.today()
        ind = svc.indicators(ctx, today.replace(month=1, day=1), today)
    mean = "—" if ind.mean_hours is None else f"{ind.mean_hours:.1f} 小时"
    return (f"{today.year}年：立案 {ind.due} 件，结案 {ind.closed} 件，结案率 {ind.percent(ind.closure_rate)}，"
            f"按期结案率 {ind.percent(ind.on_time_rate)}，平均办理时长 {mean}")


class CategoryFormDialog(FormDialog):
    """新增 or 修改 an event category: its deadline in working days, whether it is a dispute (矛盾纠纷:
    the mediation fields), and whether it is still offered when reporting."""

    def __init__(self, app_ctx, parent: QWidget | None = None, category=None):
        super().__init__(parent, "修改事件类别" if category else "新增事件类别", "grid-category-form", ok_text="保存")
        self.app_ctx, self.category = app_ctx, category
        f = self.form
        f.add("name", "类别名称", QLineEdit(category.name if category else ""), required=True)
        days = QSpinBox()
        days.setRange(1, 365)
        days.setSuffix(" 个工作日")
        days.setValue(category.deadline_days if category else 5)
        f.add("deadline_days", "处置时限", days, hint="从立案次日起按工作日计算（含调休）")
        dispute = QCheckBox("矛盾纠纷类（办理时填写化解方式、化解情况）")
        dispute.setChecked(bool(category and category.is_dispute))
        f.add("is_dispute", "纠纷", dispute)
        active = QCheckBox("上报时可选")
        active.setChecked(category.active if category else True)
        f.add("active", "启用", active)
        self.finish_layout()

    def submit(self) -> bool:
        from .common import service_call

        f, c = self.form, self.category
        ok, _ = service_call(self, self.app_ctx, svc.save_category, f.value("name"), f.value("deadline_days"),
                             c.id if c else None, f.value("is_dispute"), f.value("active"),
                             c.version_id if c else None)
        return ok


class CategoriesDialog(QDialog):
    """事件类别与处置时限 (street-wide configuration, permission grid.category.manage)."""

    def __init__(self, app_ctx, parent: QWidget | None = None):
        from .common import fill, table

        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-categories")
        self.setWindowTitle("事件类别与处置时限")
        self.resize(560, 380)
        self._fill = fill
        self.table = table(self, ["类别", "处置时限", "矛盾纠纷", "状态"], "categories-table")
        self.table.doubleClicked.connect(lambda _i: self.edit())
        self.add_button = QPushButton("新增…", self)
        self.add_button.clicked.connect(lambda: self._open(None))
        self.edit_button = QPushButton("修改…", self)
        self.edit_button.clicked.connect(self.edit)
        close = QPushButton("关闭", self)
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.edit_button)
        row.addStretch(1)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        self.form: CategoryFormDialog | None = None
        self.reload()

    def reload(self) -> None:
        with self.app_ctx.service(commit=False) as ctx:
            cats = svc.list_categories(ctx, include_inactive=True)
            for c in cats:
                ctx.session.expunge(c)
        self.categories = {c.id: c for c in cats}
        self._fill(self.table, [(c.id, (c.name, f"{c.deadline_days} 个工作日", "是" if c.is_dispute else "",
                                        "启用" if c.active else "停用")) for c in cats])

    def edit(self) -> CategoryFormDialog | None:
        from .common import selected_id

        cid = selected_id(self.table)
        return self._open(self.categories[cid]) if cid is not None else None

    def _open(self, category) -> CategoryFormDialog:
        self.form = CategoryFormDialog(self.app_ctx, self, category)
        self.form.accepted.connect(self.reload)
        self.form.open()
        return self.form


STATUS_FILTERS = ([("", "全部"), ("inbox", "待我处理"), ("overdue", "已超期"), ("due_soon", "即将到期")]
                  + list(svc.STATUS_LABELS.items()))


class EventsPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-events")
        self.indicator_label = QLabel(self)
        self.indicator_label.setObjectName("grid-indicators")
        self._indicator_runs = 0
        self.filter = QComboBox(self)
        self.filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for code, label in STATUS_FILTERS:
            self.filter.addItem(label, code)
        self.filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.count_label = QLabel(self)
        self.report_button = QPushButton("上报事件", self)
        self.report_button.setEnabled(app_ctx.actor.can(svc.P_REPORT))
        self.report_button.clicked.connect(self.open_report_dialog)
        self.open_button = QPushButton("查看办理", self)
        self.open_button.clicked.connect(self.open_selected)
        self.categories_button = QPushButton("事件类别…", self)
        self.categories_button.setObjectName("event-categories")
        self.categories_button.setVisible(app_ctx.actor.can(svc.P_CATEGORY))
        self.categories_button.clicked.connect(self.open_categories)
        top = QHBoxLayout()
        top.addWidget(QLabel("状态：", self))
        top.addWidget(self.filter)
        top.addWidget(self.count_label)
        top.addStretch(1)
        top.addWidget(self.categories_button)
        top.addWidget(self.open_button)
        top.addWidget(self.report_button)
        # 即将到期: the deadline is today or the next working day (the core holiday calendar)
        with app_ctx.service(commit=False) as ctx:
            self.today = today = ctx.today()
            self.soon = soon = svc.due_soon_limit(ctx, 1)

        def deadline(e) -> str:
            if not e.deadline:
                return ""
            if e.status not in svc.OPEN_STATUSES:
                return str(e.deadline)
            if e.deadline < today:
                return f"{e.deadline} 超期"
            return f"{e.deadline} 即将到期" if e.deadline <= soon else str(e.deadline)

        columns = [
            Column("编号", lambda e: e.number),
            Column("事件名称", lambda e: e.title),
            Column("状态", lambda e: svc.STATUS_LABELS[e.status], Qt.AlignmentFlag.AlignCenter),
            Column("处置时限", deadline),
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
        """This year's indicators, computed on the thread pool (a year of events is a large read)."""
        from shell.ui.tasks import run_in_pool

        if not self.indicator_label.text():
            self.indicator_label.setText("正在统计本年度指标…")
        self._indicator_runs += 1
        run = self._indicator_runs
        run_in_pool(lambda: indicator_text(self.app_ctx), lambda ok, result: self._show_indicators(run, ok, result))

    def _show_indicators(self, run: int, ok: bool, result) -> None:
        try:
            label = self.indicator_label
            label.objectName()
        except RuntimeError:   # the page was closed while the figures were computed
            return
        if run != self._indicator_runs:   # a newer computation is on its way
            return
        if ok:
            label.setText(result)
        else:
            from shell.ui.errors import error_text

            label.setText(f"指标统计失败：{error_text(result)[1]}")

    def apply_filter(self) -> None:
        code = self.filter.currentData()
        actor = self.app_ctx.actor
        if code == "inbox":
            with self.app_ctx.service(commit=False) as ctx:
                ids = [e.id for e in svc.inbox(ctx)]
            q = svc.events_query(actor).where(Event.id.in_(ids or [-1]))
        elif code == "overdue":
            q = svc.events_query(actor).where(Event.status.in_(svc.OPEN_STATUSES), Event.deadline < self.today)
        elif code == "due_soon":
            q = svc.events_query(actor).where(Event.status.in_(svc.OPEN_STATUSES), Event.deadline >= self.today,
                                              Event.deadline <= self.soon)
        else:
            q = svc.events_query(actor, status=code or None)
        self.model.set_query(q, key_column=Event.id, descending=True)

    def open_categories(self) -> CategoriesDialog:
        self.dialog = CategoriesDialog(self.app_ctx, self)
        self.dialog.open()
        return self.dialog

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

