"""志愿活动 page: the activities in scope (filters: team, date range, status, name), a form to create
or edit one (defaults from the street's rules), and the selected activity's attendance sheet —
enrolment, sign-in / sign-out at a chosen time (several people at once), hours computed from the
times with the activity's cap shown, cancel enrolment, close the activity. Approval happens in the
时长审核 page. Views call services only."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from shell.clock import LOCAL_TZ, format_local
from shell.errors import JiedaoError
from shell.ui.widgets import SearchBox
from shell.ui.widgets.form import FormDialog
from shell.ui.widgets.lazy_table import CENTER, RIGHT

from .. import services as svc
from ..models import ACTIVITY_STATES, Activity
from ..rules import P_ACTIVITY, load_rules
from .common import (
    BAD_STYLE,
    MUTED_STYLE,
    OK_STYLE,
    VolunteerPicker,
    cell,
    datetime_edit,
    from_qdatetime,
    local_hm,
    read_only_table,
    to_qdatetime,
)

STATUS_COLORS = {"open": "#1e7e34", "closed": "#6b7785", "cancelled": "#c0392b"}


def cap_rule_text(cap_minutes: int, points_per_hour: int) -> str:
    cap = f"每次最多计入 {svc.hours_text(cap_minutes)} 小时" if cap_minutes else "时长不封顶"
    return f"{cap}；每小时计 {points_per_hour} 分（审核通过后计入）"


# ---------------------------------------------------------------------------------------- form

class ActivityDialog(FormDialog):
    """New activity (``activity`` None) or edit. Fields of the issue; defaults from the rules."""

    def __init__(self, parent: QWidget, app_ctx, activity: Activity | None = None):
        editing = activity is not None
        super().__init__(parent, "修改志愿活动" if editing else "新建志愿活动", "activity-dialog",
                         "时长封顶和每小时积分默认取自本街道的积分规则，可按活动修改；已审核的记录不受修改影响。",
                         ok_text="保存" if editing else "创建")
        self.app_ctx, self.activity = app_ctx, activity
        self.saved_id: int | None = None
        with app_ctx.service(commit=False) as ctx:
            rules = load_rules(ctx.session)
            communities = svc.community_choices(ctx)
            teams = [(t.id, t.name, t.area_id) for t in svc.list_teams(ctx) if t.active]
            now = ctx.now()
        f = self.form
        self.name = f.add("name", "活动名称", QLineEdit(), required=True)
        self.area = f.add("area_id", "所属社区", QComboBox(), required=True)
        for area_id, name in communities:
            self.area.addItem(name, area_id)
        self.team = f.add("team_id", "志愿队伍", QComboBox())
        self.teams = teams
        self._fill_teams()
        self.area.currentIndexChanged.connect(lambda _i: self._fill_teams())
        self.organiser = f.add("organiser", "组织单位", QLineEdit())
        start = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        self.starts = f.add("starts_at", "开始时间", datetime_edit(start), required=True)
        self.ends = f.add("ends_at", "结束时间", datetime_edit(start + timedelta(hours=2)), required=True)
        self.place = f.add("place", "服务地点", QLineEdit())
        self.target = f.add("target", "服务对象", QLineEdit())
        self.content = f.add("content", "服务内容", QPlainTextEdit())
        self.content.setFixedHeight(60)
        self.leader = f.add("leader_name", "负责人", QLineEdit(), hint="审核时长的活动负责人")
        self.recorder = f.add("recorder_name", "记录人", QLineEdit())
        self.capacity = f.add("capacity", "招募人数", QSpinBox())
        self.capacity.setRange(0, 10000)
        self.capacity.setSpecialValueText("不限")
        self.cap = f.add("cap_minutes", "每次最多计入", QSpinBox(), hint="0 表示不封顶")
        self.cap.setRange(0, 1440)
        self.cap.setSingleStep(30)
        self.cap.setSuffix(" 分钟")
        self.cap.setValue(rules.cap_minutes)
        self.pph = f.add("points_per_hour", "每小时积分", QSpinBox())
        self.pph.setRange(0, 100)
        self.pph.setSuffix(" 分")
        self.pph.setValue(rules.points_per_hour)
        for key, w in (("name", self.name), ("area", self.area), ("team", self.team), ("starts", self.starts),
                       ("ends", self.ends), ("place", self.place), ("leader", self.leader), ("capacity", self.capacity),
                       ("cap", self.cap), ("pph", self.pph)):
            w.setObjectName(f"activity-{key}")
        if editing:
            a = activity
            self.expected_version = a.version_id
            self.name.setText(a.name)
            self.area.setCurrentIndex(max(0, self.area.findData(a.area_id)))
            self.area.setEnabled(False)   # an activity stays in its community
            self.team.setCurrentIndex(max(0, self.team.findData(a.team_id)))
            self.organiser.setText(a.organiser)
            self.starts.setDateTime(datetime_edit(a.starts_at).dateTime())
            self.ends.setDateTime(datetime_edit(a.ends_at).dateTime())
            self.place.setText(a.place)
            self.target.setText(a.target)
            self.content.setPlainText(a.content)
            self.leader.setText(a.leader_name)
            self.recorder.setText(a.recorder_name)
            self.capacity.setValue(a.capacity or 0)
            self.cap.setValue(a.cap_minutes)
            self.pph.setValue(a.points_per_hour)
        elif communities:
            self.organiser.setText(f"{communities[0][1]}居委会")
        for w in (self.area, self.team, self.starts, self.ends):
            w.setMinimumWidth(220)
        self.setMinimumWidth(520)
        self.finish_layout()

    def reload_saved(self, current: dict) -> None:
        super().reload_saved(current)
        for key, edit in (("starts_at", self.starts), ("ends_at", self.ends)):
            if current.get(key) is not None:
                edit.setDateTime(to_qdatetime(current[key]))

    def _fill_teams(self) -> None:
        """Only the teams of the chosen community."""
        keep = self.team.currentData()
        self.team.clear()
        self.team.addItem("（不限队伍）", None)
        for team_id, name, area_id in self.teams:
            if area_id == self.area.currentData():
                self.team.addItem(name, team_id)
        self.team.setCurrentIndex(max(0, self.team.findData(keep)))

    def values(self) -> dict:
        f = self.form
        return dict(name=f.value("name"), team_id=self.team.currentData(), organiser=f.value("organiser"),
                    starts_at=from_qdatetime(self.starts.dateTime()), ends_at=from_qdatetime(self.ends.dateTime()),
                    place=f.value("place"), target=f.value("target"), content=f.value("content"),
                    leader_name=f.value("leader_name"), recorder_name=f.value("recorder_name"),
                    capacity=self.capacity.value() or None, cap_minutes=self.cap.value(),
                    points_per_hour=self.pph.value())

    def submit(self) -> bool:
        values = self.values()

        def save():
            with self.app_ctx.service() as ctx:
                if self.activity is None:
                    return svc.create_activity(ctx, area_id=self.area.currentData(), **values).id
                return svc.update_activity(ctx, self.activity.id, self.expected_version, **values).id

        ok, result = self.call(save)
        self.saved_id = result if ok else None
        return ok


# ---------------------------------------------------------------------------------------- detail

def snapshot(obj):
    """Plain column values of a row, read while its session is open (the session rolls back after)."""
    from types import SimpleNamespace

    return SimpleNamespace(**{c.key: getattr(obj, c.key) for c in obj.__table__.columns})


@dataclass
class ActivityDetail:
    activity: object          # snapshot of the Activity row
    team_name: str
    area_name: str
    rows: list[svc.AttendanceRow] = field(default_factory=list)


def load_detail(app_ctx, activity_id: int) -> ActivityDetail:
    with app_ctx.service(commit=False) as ctx:
        a = svc.get_activity(ctx, activity_id)
        from shell.core.models import Area

        from ..models import Team

        team = ctx.session.get(Team, a.team_id) if a.team_id else None
        area = ctx.session.get(Area, a.area_id)
        return ActivityDetail(snapshot(a), team.name if team else "", area.name if area else "",
                              svc.activity_attendances(ctx, a.id))


class ActivityPanel(QFrame):
    """The selected activity: its facts, the hour rule and the attendance sheet with its actions."""

    SHEET = ["志愿者编号", "姓名", "状态", "签到", "签退", "实际/小时", "计入/小时", "积分"]

    def __init__(self, page: ActivitiesPage):
        super().__init__(page)
        self.page = page
        self.app_ctx = page.app_ctx
        self.detail: ActivityDetail | None = None
        self.setObjectName("activity-panel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.stack = QStackedWidget(self)
        self.hint = QLabel("在左侧列表中选择一个活动，进行报名、签到签退。", self)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(MUTED_STYLE)
        self.stack.addWidget(self.hint)

        body = QWidget(self)
        self.title = QLabel(body)
        self.title.setStyleSheet("font-size: 17px; font-weight: bold;")
        self.status_label = QLabel(body)
        self.edit_button = QPushButton("修改…", body)
        self.edit_button.setObjectName("activity-edit")
        self.edit_button.clicked.connect(self.edit)
        self.close_button = QPushButton("结束活动", body)
        self.close_button.setObjectName("activity-close")
        self.close_button.clicked.connect(self.close_activity)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.status_label)
        head.addStretch(1)
        head.addWidget(self.edit_button)
        head.addWidget(self.close_button)

        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(3)
        for key, title in (("number", "活动编号"), ("time", "时间"), ("place", "地点"), ("team", "队伍 / 组织"),
                           ("people", "负责人 / 记录人"),
                           ("target", "服务对象"), ("rule", "计时规则"), ("count", "报名情况")):
            label = QLabel(body)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = label
            form.addRow(f"{title}：", label)
        self.fields["rule"].setStyleSheet("color: #1f6fb2;")

        self.sheet = read_only_table(self.SHEET, body, multi=True)
        self.sheet.setObjectName("attendance-sheet")
        header = self.sheet.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.sheet.itemSelectionChanged.connect(self._update_buttons)

        # The time the next sign-in / sign-out is recorded at: now by default, or a time typed in
        # (attendance written up after the activity).
        self.time_edit = datetime_edit(self.app_ctx.clock(), body)
        self.time_edit.setObjectName("attendance-time")
        self.time_edit.setMinimumWidth(150)
        self.now_button = QPushButton("现在", body)
        self.now_button.clicked.connect(self.reset_time)
        self.enrol_button = QPushButton("报名…", body)
        self.enrol_button.setObjectName("attendance-enrol")
        self.enrol_button.clicked.connect(self.enrol)
        self.sign_in_button = QPushButton("签到", body)
        self.sign_in_button.setObjectName("attendance-sign-in")
        self.sign_in_button.setProperty("primary", True)
        self.sign_in_button.clicked.connect(self.sign_in)
        self.sign_out_button = QPushButton("签退", body)
        self.sign_out_button.setObjectName("attendance-sign-out")
        self.sign_out_button.setProperty("primary", True)
        self.sign_out_button.clicked.connect(self.sign_out)
        self.cancel_button = QPushButton("取消报名", body)
        self.cancel_button.setObjectName("attendance-cancel")
        self.cancel_button.clicked.connect(self.cancel_enrolment)
        enrol_row = QHBoxLayout()
        enrol_row.addWidget(self.enrol_button)
        enrol_row.addWidget(self.cancel_button)
        enrol_row.addStretch(1)
        enrol_row.addWidget(QLabel("选中一人或按住 Ctrl 多选后签到、签退", body))
        actions = QHBoxLayout()
        actions.addWidget(QLabel("签到/签退时间：", body))
        actions.addWidget(self.time_edit)
        actions.addWidget(self.now_button)
        actions.addStretch(1)
        actions.addWidget(self.sign_in_button)
        actions.addWidget(self.sign_out_button)
        self.message = QLabel(body)
        self.message.setObjectName("attendance-message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.total_label = QLabel(body)
        self.total_label.setStyleSheet(MUTED_STYLE)

        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addLayout(head)
        layout.addLayout(form)
        layout.addWidget(self.sheet, 1)
        layout.addWidget(self.total_label)
        layout.addLayout(enrol_row)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        self.stack.addWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

    # ------------------------------------------------------------------ display
    def show_activity(self, activity_id: int | None, message: str = "", ok: bool = True) -> None:
        if activity_id is None:
            self.detail = None
            self.stack.setCurrentIndex(0)
            return
        try:
            d = load_detail(self.app_ctx, activity_id)
        except JiedaoError as exc:
            self.detail = None
            self.hint.setText(exc.message)
            self.stack.setCurrentIndex(0)
            return
        self.detail = d
        a = d.activity
        self.title.setText(a.name)
        self.status_label.setText(ACTIVITY_STATES.get(a.status, a.status))
        self.status_label.setStyleSheet(f"color: {STATUS_COLORS.get(a.status, '#333')}; font-weight: bold;")
        same_day = format_local(a.starts_at)[:10] == format_local(a.ends_at)[:10]
        end = local_hm(a.ends_at) if same_day else format_local(a.ends_at)
        self.fields["time"].setText(f"{format_local(a.starts_at)} 至 {end}")
        self.fields["number"].setText(f"{a.id}（导入签到表时用）")
        self.fields["place"].setText(a.place or "—")
        self.fields["team"].setText(" / ".join(x for x in (d.team_name or "不限队伍", a.organiser or d.area_name) if x))
        self.fields["people"].setText(f"{a.leader_name or '—'} / {a.recorder_name or '—'}")
        self.fields["target"].setText(a.target or "—")
        self.fields["rule"].setText(cap_rule_text(a.cap_minutes, a.points_per_hour))
        signed = sum(1 for r in d.rows if r.status != "enrolled")
        cap = f"（招募 {a.capacity} 人）" if a.capacity else ""
        self.fields["count"].setText(f"报名 {len(d.rows)} 人{cap}，已签到 {signed} 人")
        self.sheet.setRowCount(len(d.rows))
        for r, row in enumerate(d.rows):
            self.sheet.setItem(r, 0, cell(row.number, data=row.attendance_id))
            self.sheet.setItem(r, 1, cell(row.name))
            self.sheet.setItem(r, 2, cell(row.status_label, CENTER))
            self.sheet.setItem(r, 3, cell(local_hm(row.signed_in_at), CENTER))
            self.sheet.setItem(r, 4, cell(local_hm(row.signed_out_at), CENTER))
            done = row.signed_out_at is not None
            self.sheet.setItem(r, 5, cell(svc.hours_text(row.raw_minutes) if done else "", RIGHT))
            credited = cell((svc.hours_text(row.minutes) + ("（封顶）" if row.capped else "")) if done else "", RIGHT)
            if row.capped:
                credited.setToolTip(f"实际 {svc.hours_text(row.raw_minutes)} 小时，本活动每次最多计入 "
                                    f"{svc.hours_text(a.cap_minutes)} 小时")
            self.sheet.setItem(r, 6, credited)
            pts = row.points if row.status == "approved" else svc.points_for(row.minutes, a.points_per_hour)
            pts_cell = cell((f"{pts}" if row.status == "approved" else f"({pts})") if done else "", RIGHT)
            pts_cell.setToolTip("括号内为审核通过后将计入的积分")
            self.sheet.setItem(r, 7, pts_cell)
        credited = sum(r.minutes for r in d.rows if r.signed_out_at is not None)
        self.total_label.setText(f"计入时长合计 {svc.hours_text(credited)} 小时；括号内积分在时长审核通过后计入。")
        self._message(message, ok)
        self._update_buttons()
        self.stack.setCurrentIndex(1)

    def _message(self, text: str, ok: bool = True) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(OK_STYLE if ok else BAD_STYLE)

    def selected_rows(self) -> list[svc.AttendanceRow]:
        if self.detail is None:
            return []
        rows = sorted({i.row() for i in self.sheet.selectionModel().selectedRows()})
        return [self.detail.rows[r] for r in rows if r < len(self.detail.rows)]

    def select_volunteers(self, numbers: list[str]) -> None:
        """Select the sheet rows of these 志愿者编号 (as a user would with Ctrl+click)."""
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        for r, row in enumerate(self.detail.rows if self.detail else []):
            if row.number in numbers:
                selection.select(self.sheet.model().index(r, 0), self.sheet.model().index(r, len(self.SHEET) - 1))
        self.sheet.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _update_buttons(self) -> None:
        d = self.detail
        can = self.app_ctx.actor.can(P_ACTIVITY)
        is_open = d is not None and d.activity.status == "open"
        states = {r.status for r in self.selected_rows()}
        self.edit_button.setEnabled(can and is_open)
        self.close_button.setEnabled(can and is_open)
        self.enrol_button.setEnabled(can and is_open)
        self.sign_in_button.setEnabled(can and is_open and "enrolled" in states)
        self.sign_out_button.setEnabled(can and "signed_in" in states)
        self.cancel_button.setEnabled(can and is_open and "enrolled" in states)
        self.time_edit.setEnabled(can)

    def reset_time(self) -> None:
        self.time_edit.setDateTime(datetime_edit(self.app_ctx.clock()).dateTime())

    # ------------------------------------------------------------------ actions
    def _run(self, work, done_text) -> bool:
        """``work(ctx)`` in one transaction; all or nothing. Refreshes the sheet and the list."""
        activity_id = self.detail.activity.id
        try:
            with self.app_ctx.service() as ctx:
                result = work(ctx)
        except JiedaoError as exc:
            self.show_activity(activity_id, exc.message, ok=False)
            return False
        self.show_activity(activity_id, done_text(result) if callable(done_text) else done_text)
        self.page.refresh_list(keep=activity_id)
        return True

    def sign_in(self) -> None:
        rows = [r for r in self.selected_rows() if r.status == "enrolled"]
        if not rows:
            return
        at = from_qdatetime(self.time_edit.dateTime())
        aid = self.detail.activity.id

        def work(ctx):
            for r in rows:
                svc.sign_in(ctx, aid, r.volunteer_id, at)
        self._run(work, f"{'、'.join(r.name for r in rows)} 已于 {format_local(at)} 签到。")

    def sign_out(self) -> None:
        rows = [r for r in self.selected_rows() if r.status == "signed_in"]
        if not rows:
            return
        at = from_qdatetime(self.time_edit.dateTime())
        aid = self.detail.activity.id

        def work(ctx):
            return [svc.sign_out(ctx, aid, r.volunteer_id, at) for r in rows]

        def text(atts):
            parts = [f"{r.name} 计入 {svc.hours_text(att.minutes)} 小时"
                     + (f"（实际 {svc.hours_text(att.raw_minutes)} 小时，已按上限封顶）" if att.raw_minutes > att.minutes else "")
                     for r, att in zip(rows, atts, strict=True)]
            return f"已于 {format_local(at)} 签退：" + "；".join(parts) + "。待负责人审核后计入时长和积分。"
        self._run(work, text)

    def cancel_enrolment(self) -> None:
        rows = [r for r in self.selected_rows() if r.status == "enrolled"]
        if not rows:
            return

        def work(ctx):
            for r in rows:
                svc.cancel_enrolment(ctx, r.attendance_id)
        self._run(work, f"已取消 {'、'.join(r.name for r in rows)} 的报名。")

    def enrol(self) -> None:
        d = self.detail
        picker = VolunteerPicker(self, self.app_ctx, "活动报名", f"为“{d.activity.name}”登记报名的志愿者。",
                                 ok_text="报名", exclude={r.volunteer_id for r in d.rows})
        aid = d.activity.id

        def enrolled():
            ids = picker.chosen
            self._run(lambda ctx: [svc.enrol(ctx, aid, vid) for vid in ids], lambda atts: f"已报名 {len(atts)} 人。")
        self.page.open_dialog(picker, enrolled)

    def edit(self) -> None:
        dialog = ActivityDialog(self, self.app_ctx, self.detail.activity)

        def saved():
            self.page.refresh_list(keep=dialog.saved_id)
            self.show_activity(dialog.saved_id, "活动信息已保存。")
        self.page.open_dialog(dialog, saved)

    def close_activity(self) -> None:
        aid = self.detail.activity.id
        self._run(lambda ctx: svc.close_activity(ctx, aid),
                  "活动已结束，不再接受报名和签到；待审核的时长仍可在“时长审核”中审核。")


# ---------------------------------------------------------------------------------------- sheet import

class ImportErrorsDialog(QDialog):
    """Row-level errors of an attendance sheet; nothing was written. The user may fix the file, or
    accept the valid rows explicitly (只导入正确的行)."""

    def __init__(self, parent: QWidget, file_name: str, result):
        super().__init__(parent)
        self.setObjectName("import-errors")
        self.setWindowTitle("签到表有错误")
        self.resize(760, 420)
        bad_rows = len({e.row for e in result.errors})
        intro = QLabel(f"“{file_name}”共 {result.total_rows} 行，其中 {bad_rows} 行有错误，尚未导入任何数据。"
                       f"请改正后重新导入，或只导入正确的 {result.valid_rows} 行。", self)
        intro.setWordWrap(True)
        self.table = read_only_table(["行号", "列", "内容", "问题"], self)
        self.table.setObjectName("import-error-list")
        self.table.setRowCount(len(result.errors))
        for r, e in enumerate(result.errors):
            self.table.setItem(r, 0, cell(e.row, RIGHT))
            self.table.setItem(r, 1, cell(e.column))
            self.table.setItem(r, 2, cell(e.value))
            self.table.setItem(r, 3, cell(e.reason))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.buttons = QDialogButtonBox(self)
        self.valid_button = self.buttons.addButton(f"只导入正确的 {result.valid_rows} 行",
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.valid_button.setObjectName("import-valid-only")
        self.valid_button.setEnabled(result.valid_rows > 0)
        self.cancel_button = self.buttons.addButton("取消（不导入）", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)


# ---------------------------------------------------------------------------------------- page

class ActivitiesPage(QWidget):
    LIST_COLUMNS = ["时间", "活动名称", "队伍", "社区", "状态", "报名", "待审核"]
    LIMIT = 200

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.dialog = None        # the last dialog opened (tests drive it)
        self.setObjectName("volunteer-activities")

        # ---- filters
        self.team_filter = QComboBox(self)
        self.team_filter.setObjectName("filter-team")
        self.team_filter.addItem("全部队伍", None)
        self.status_filter = QComboBox(self)
        self.status_filter.setObjectName("filter-status")
        self.status_filter.addItem("全部状态", None)
        for code, label in ACTIVITY_STATES.items():
            self.status_filter.addItem(label, code)
        self.date_check = QCheckBox("日期", self)
        self.date_check.setObjectName("filter-dates")
        today = app_ctx.clock()
        self.date_from = QDateEdit(self)
        self.date_to = QDateEdit(self)
        for edit, value in ((self.date_from, today - timedelta(days=90)), (self.date_to, today + timedelta(days=60))):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setCalendarPopup(True)
            local = value.astimezone(LOCAL_TZ)
            edit.setDate(QDate(local.year, local.month, local.day))
            edit.setEnabled(False)
            edit.dateChanged.connect(lambda _d: self.apply_filters())
        self.date_check.toggled.connect(self._dates_toggled)
        self.search = SearchBox(self, placeholder="活动名称或地点")
        self.new_button = QPushButton("新建活动…", self)
        self.new_button.setObjectName("activity-new")
        self.new_button.setProperty("primary", True)
        self.new_button.setEnabled(app_ctx.actor.can(P_ACTIVITY))
        self.new_button.clicked.connect(self.new_activity)
        self.import_button = QPushButton("导入签到表…", self)
        self.import_button.setObjectName("activity-import")
        self.import_button.setToolTip("从 Excel 签到表（活动编号、志愿者编号、签到时间、签退时间）批量登记签到签退")
        self.import_button.setEnabled(app_ctx.actor.can(P_ACTIVITY))
        self.import_button.clicked.connect(lambda: self.import_sheet())
        self.import_task = None
        bar = QHBoxLayout()
        bar.addWidget(self.search, 2)
        bar.addWidget(self.team_filter, 1)
        bar.addWidget(self.status_filter)
        bar.addWidget(self.date_check)
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel("至", self))
        bar.addWidget(self.date_to)
        bar.addWidget(self.import_button)
        bar.addWidget(self.new_button)

        # A street runs thousands of activities a year: the newest LIMIT matching the filters, ordered
        # by start time, are listed (one quick query); the filters narrow the rest.
        self.rows: list[svc.ActivityRow] = []
        self.total = 0
        self.count_label = QLabel(self)
        self.table = read_only_table(self.LIST_COLUMNS, self)
        self.table.setObjectName("activity-list")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.currentCellChanged.connect(lambda row, _c, _pr, _pc: self.show_row(row))
        self.panel = ActivityPanel(self)
        self.panel.setMinimumWidth(520)

        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 6, 0)
        ll.addWidget(self.table, 1)
        ll.addWidget(self.count_label)
        self.import_message = QLabel(left)
        self.import_message.setObjectName("import-message")
        self.import_message.setWordWrap(True)
        self.import_message.hide()
        ll.addWidget(self.import_message)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([590, 570])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

        self._load_teams()
        self.team_filter.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.status_filter.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.search.search.connect(lambda _t: self.apply_filters())
        self.apply_filters()

    def _load_teams(self) -> None:
        try:
            with self.app_ctx.service(commit=False) as ctx:
                teams = [(t.id, t.name) for t in svc.list_teams(ctx)]
                names = dict(svc.community_choices(ctx))
                area_of = {t.id: t.area_id for t in svc.list_teams(ctx)}
        except JiedaoError:
            return
        for team_id, name in teams:
            community = names.get(area_of[team_id], "")
            self.team_filter.addItem(f"{name}（{community}）" if community else name, team_id)

    def _dates_toggled(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)
        self.apply_filters()

    def filters(self) -> dict:
        out = dict(team_id=self.team_filter.currentData(), status=self.status_filter.currentData(),
                   text=self.search.text().strip())
        if self.date_check.isChecked():
            out["date_from"] = self.date_from.date().toPython()
            out["date_to"] = self.date_to.date().toPython()
        return out

    def apply_filters(self, keep: int | None = None) -> None:
        """Re-read the list; ``keep`` stays selected (the panel is not reloaded then)."""
        try:
            with self.app_ctx.service(commit=False) as ctx:
                self.rows, self.total = svc.activity_rows(ctx, limit=self.LIMIT, **self.filters())
        except JiedaoError as exc:
            self.rows, self.total = [], 0
            self.count_label.setText(exc.message)
        else:
            more = f"，列出最近 {self.LIMIT} 个（可按队伍、日期筛选）" if self.total > len(self.rows) else ""
            self.count_label.setText(f"共 {self.total} 个活动{more}")
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            starts = format_local(row.starts_at)
            time_cell = cell(starts, data=row.activity_id)
            time_cell.setToolTip(f"{starts} 至 {format_local(row.ends_at)}")
            self.table.setItem(r, 0, time_cell)
            name = cell(row.name)
            name.setToolTip(row.content or row.name)
            self.table.setItem(r, 1, name)
            self.table.setItem(r, 2, cell(row.team_name or "—"))
            self.table.setItem(r, 3, cell(row.area_name))
            status = cell(ACTIVITY_STATES.get(row.status, row.status), CENTER)
            status.setForeground(QColor(STATUS_COLORS.get(row.status, "#333")))
            self.table.setItem(r, 4, status)
            self.table.setItem(r, 5, cell(row.enrolled, RIGHT))
            self.table.setItem(r, 6, cell(row.pending or "", RIGHT))
        self.table.blockSignals(False)
        row = self.row_of(keep) if keep is not None else -1
        if row >= 0:
            self.table.blockSignals(True)
            self.table.setCurrentCell(row, 0)
            self.table.blockSignals(False)
        else:
            self.table.setCurrentCell(-1, -1)
            self.panel.show_activity(None)

    def refresh_list(self, keep: int | None = None) -> None:
        """Re-read the list (counts changed) and keep ``keep`` selected without reloading the panel."""
        self.apply_filters(keep=keep)

    def show_row(self, row: int) -> None:
        if 0 <= row < len(self.rows):
            self.panel.show_activity(self.rows[row].activity_id)
        else:
            self.panel.show_activity(None)

    def row_of(self, activity_id: int) -> int:
        return next((r for r, row in enumerate(self.rows) if row.activity_id == activity_id), -1)

    def select_activity(self, activity_id: int) -> bool:
        row = self.row_of(activity_id)
        if row < 0:
            return False
        self.table.setCurrentCell(row, 0)
        return True

    def open_dialog(self, dialog, on_accepted) -> None:
        """Window-modal without blocking (``open``), so the page and tests carry on; ``on_accepted``
        runs when the user confirmed."""
        self.dialog = dialog
        dialog.accepted.connect(on_accepted)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def new_activity(self) -> None:
        dialog = ActivityDialog(self, self.app_ctx)

        def created():
            self.apply_filters()
            self.select_activity(dialog.saved_id)
            self.panel._message("活动已创建，可以登记报名。")
        self.open_dialog(dialog, created)

    # ------------------------------------------------------------------ attendance sheet import
    def import_sheet(self, path: str | None = None) -> None:
        """Validate the whole file first (nothing written when any row is bad); the row errors are
        listed and the valid rows imported only when the user says so."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "导入签到表", "", "Excel 工作簿 (*.xlsx)")
            if not path:
                return
        self._run_import(path, valid_only=False)

    def _import_message(self, text: str, ok: bool) -> None:
        self.import_message.setText(text)
        self.import_message.setStyleSheet(OK_STYLE if ok else BAD_STYLE)
        self.import_message.setVisible(bool(text))

    def _run_import(self, path: str, valid_only: bool) -> None:
        from pathlib import Path

        from shell.core.transfer import run_import
        from shell.ui.tasks import run_task

        from ..importers import IMPORTERS

        definition = next(d for d in IMPORTERS if d.kind == "volunteer-attendance")
        ctx = self.app_ctx

        def work(progress):
            return run_import(ctx.session_factory, ctx.actor, definition, Path(path), valid_only=valid_only)

        def done(result) -> None:
            if result.errors and not valid_only:
                dialog = ImportErrorsDialog(self, Path(path).name, result)
                self.open_dialog(dialog, lambda: self._run_import(path, valid_only=True))
                self._import_message(f"签到表有 {len(result.errors)} 处错误，未导入任何数据。", ok=False)
                return
            current = self.panel.detail.activity.id if self.panel.detail else None
            self.apply_filters()
            skipped = f"，跳过 {len(result.errors)} 处错误" if result.errors else ""
            self._import_message(f"已从“{Path(path).name}”导入 {result.written} 条签到签退记录{skipped}，"
                                 "等待时长审核。", ok=True)
            if current is not None:
                self.select_activity(current)

        def failed(exc) -> None:
            from shell.ui.errors import error_text

            self._import_message(f"导入失败：{error_text(exc)[1]}", ok=False)

        self.import_task = run_task(self, "导入签到表", work, on_done=done, on_error=failed, cancellable=False,
                                    label=f"正在检查并导入“{Path(path).name}”……")
