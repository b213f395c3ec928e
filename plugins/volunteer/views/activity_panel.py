"""The selected activity on the 志愿活动 page: its facts, the hour rule and the attendance sheet with
its actions (enrol, sign in/out, cancel, close)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from shell.clock import format_local
from shell.errors import JiedaoError
from shell.ui.widgets.lazy_table import CENTER, RIGHT

from .. import services as svc
from ..labels import ACTIVITY_STATES
from ..rules import P_ACTIVITY
from .activity_form import ActivityDialog, cap_rule_text
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
)

if TYPE_CHECKING:
    from .activities import ActivitiesPage

STATUS_COLORS = {"open": "#1e7e34", "closed": "#6b7785", "cancelled": "#c0392b"}


# ---------------------------------------------------------------------------------------- detail

def load_detail(app_ctx, activity_id: int) -> svc.ActivityDetail:
    with app_ctx.service(commit=False) as ctx:
        return svc.activity_detail(ctx, activity_id)


class ActivityPanel(QFrame):
    """The selected activity: its facts, the hour rule and the attendance sheet with its actions."""

    SHEET = ["志愿者编号", "姓名", "状态", "签到", "签退", "实际/小时", "计入/小时", "积分"]

    def __init__(self, page: ActivitiesPage):
        super().__init__(page)
        self.page = page
        self.app_ctx = page.app_ctx
        self.detail: svc.ActivityDetail | None = None
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
