"""The meeting recorder — type, date, topic, host, recorder, place, attendance (出席 / 缺席 with a
reason / not on the list) and minutes — and a recorded meeting's detail. A 支委会 lists only
committee members: everyone starts as "不列入" there. A recorded meeting can be corrected with
optimistic locking."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from shell.ui.widgets.form import FormDialog

from .. import services as svc
from .common import PlainTable, Refused, attempt, date_edit

PRESENT, ABSENT, NOT_LISTED = "出席", "缺席", "不列入"


def org_choices(app_ctx) -> list[tuple[int, str, str]]:
    """(id, label, kind) of open branches and 党小组 (and 党委/党总支, which hold meetings too)."""
    with app_ctx.service(commit=False) as ctx:
        return [(oid, label, kind) for oid, label, kind, _level in svc.org_options(ctx, 2, 4)]


class AttendanceTable(QTableWidget):
    """One row per member of the organisation that day: 出席情况 (combo) and 缺席原因 (text)."""

    def __init__(self, parent=None):
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels(["姓名", "身份", "出席情况", "缺席原因"])
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.setColumnWidth(0, 90)
        self.setColumnWidth(1, 90)
        self.setColumnWidth(2, 90)
        self.member_ids: list[int] = []

    def load(self, members: list[tuple[int, str, str]], default: str) -> None:
        self.setRowCount(len(members))
        self.member_ids = [m[0] for m in members]
        for r, (_mid, name, stage) in enumerate(members):
            for c, text in enumerate((name, stage)):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.setItem(r, c, item)
            combo = QComboBox()
            combo.addItems([PRESENT, ABSENT, NOT_LISTED])
            combo.setCurrentText(default)
            self.setCellWidget(r, 2, combo)
            self.setItem(r, 3, QTableWidgetItem(""))

    def set_state(self, row: int, state: str, reason: str = "") -> None:
        self.cellWidget(row, 2).setCurrentText(state)
        self.item(row, 3).setText(reason)

    def row_of(self, name: str) -> int:
        return [self.item(r, 0).text() for r in range(self.rowCount())].index(name)

    def entries(self) -> list[svc.AttendanceEntry]:
        out = []
        for r, mid in enumerate(self.member_ids):
            state = self.cellWidget(r, 2).currentText()
            if state == NOT_LISTED:
                continue
            out.append(svc.AttendanceEntry(mid, state == PRESENT, self.item(r, 3).text().strip()))
        return out


class MeetingDialog(FormDialog):
    """Record a meeting, or with ``meeting_id`` correct a recorded one (topic, host, recorder, place,
    attendance, minutes; organisation, type and date stay). Editing is optimistically locked: the
    version read here goes to the service as ``expected_version``, and the shared conflict dialog
    shows who saved in between."""

    def __init__(self, app_ctx, today: date, org_id: int | None = None, parent=None, meeting_id: int | None = None):
        self.app_ctx = app_ctx
        self.meeting_id: int | None = meeting_id
        self.editing = meeting_id is not None
        if self.editing:
            super().__init__(parent, "修改会议记录", "pb-meeting-edit", ok_text="保存修改",
                             intro="更正会议主题、出席情况和会议记录；党组织、会议类型和日期不能改（记错的请另行记录）。"
                                   "修改会写入审计日志。")
        else:
            super().__init__(parent, "记录组织生活会议", "pb-meeting", ok_text="保存记录",
                             intro="按实际到会情况记录；缺席的须写明原因。支委会只列入支部委员，过半数到会方为有效。")
        self.resize(760, 720)
        f = self.form
        orgs = QComboBox()
        self.kinds_by_org: dict[int, str] = {}
        for oid, label, _kind in org_choices(app_ctx):
            orgs.addItem(label, oid)
        if org_id is not None and orgs.findData(org_id) >= 0:
            orgs.setCurrentIndex(orgs.findData(org_id))
        f.add("org_id", "党组织", orgs)
        f.add("kind", "会议类型", QComboBox())
        f.add("held_on", "会议日期", date_edit(today))
        f.add("topic", "会议主题", QLineEdit(), required=True)
        f.add("host", "主持人", QLineEdit())
        f.add("recorder", "记录人", QLineEdit())
        f.add("location", "地点", QLineEdit())
        self.attendance = AttendanceTable()
        self.attendance.setMinimumHeight(300)
        f.add("attendance", "出席情况", self.attendance)
        minutes = QPlainTextEdit()
        minutes.setMinimumHeight(90)
        minutes.setMaximumHeight(160)
        f.add("minutes", "会议记录", minutes)
        self.finish_layout()
        orgs.currentIndexChanged.connect(self.org_changed)
        f.fields["kind"].currentIndexChanged.connect(self.load_attendance)
        f.fields["held_on"].dateChanged.connect(self.load_attendance)
        if self.editing:
            self.load_meeting()
        else:
            self.org_changed()

    _filling = False

    def load_meeting(self) -> None:
        """Fill the form from the saved meeting and remember its version."""
        f = self.form
        with self.app_ctx.service(commit=False) as ctx:
            mt, att = svc.get_meeting(ctx, self.meeting_id)
            values = {k: getattr(mt, k) for k in ("org_id", "kind", "held_on", "topic", "host", "recorder",
                                                  "location", "minutes")}
            org_label = svc.org_label_of(ctx, mt.org_id)
            states = [(m.id, m.name, m.stage_label, a.present, a.absence_reason or "") for a, m in att]
            self.expected_version = mt.version_id
        orgs = f.fields["org_id"]
        if orgs.findData(values["org_id"]) < 0:   # a dissolved organisation, or one not offered for new meetings
            orgs.addItem(org_label, values["org_id"])
        self._filling = True
        for field in ("org_id", "held_on"):
            f.fields[field].blockSignals(True)
            f.set_value(field, values[field])
            f.fields[field].blockSignals(False)
        self.org_changed()
        self._filling = False
        kind = f.fields["kind"]
        if kind.findData(values["kind"]) < 0:
            kind.addItem(svc.MEETING_KINDS.get(values["kind"], values["kind"]), values["kind"])
        kind.blockSignals(True)
        f.set_value("kind", values["kind"])
        kind.blockSignals(False)
        for field in ("org_id", "kind", "held_on"):
            f.fields[field].setEnabled(False)
        for field in ("topic", "host", "recorder", "location", "minutes"):
            f.set_value(field, values[field])
        self.apply_attendance(states)

    def apply_attendance(self, states: list[tuple[int, str, str, bool, str]]) -> None:
        """The recorded attendance onto the list of that day's members: everyone else 不列入. Someone
        recorded who is no longer a member that day is listed too, so nothing is dropped unseen."""
        members = self.candidates()
        known = {m[0] for m in members}
        members += [(mid, name, stage) for mid, name, stage, _p, _r in states if mid not in known]
        t = self.attendance
        t.load(members, NOT_LISTED)
        for mid, _name, _stage, present, reason in states:
            t.set_state(t.member_ids.index(mid), PRESENT if present else ABSENT, reason)

    def reload_saved(self, current: dict) -> None:
        super().reload_saved(current)
        with self.app_ctx.service(commit=False) as ctx:
            _mt, att = svc.get_meeting(ctx, self.meeting_id)
            states = [(m.id, m.name, m.stage_label, a.present, a.absence_reason or "") for a, m in att]
        self.apply_attendance(states)

    def org_changed(self) -> None:
        kind = self.form.fields["kind"]
        kind.blockSignals(True)
        kind.clear()
        org_id = self.form.value("org_id")
        if org_id is not None:
            with self.app_ctx.service(commit=False) as ctx:
                for k in svc.meeting_kinds_for(svc.get_org(ctx, org_id)):
                    kind.addItem(svc.MEETING_KINDS[k], k)
        kind.blockSignals(False)
        self.load_attendance()

    def candidates(self) -> list[tuple[int, str, str]]:
        """(id, name, stage) of the organisation's members on the meeting date."""
        org_id = self.form.value("org_id")
        if org_id is None:
            return []
        with self.app_ctx.service(commit=False) as ctx:
            return [(m.id, m.name, m.stage_label)
                    for m in svc.meeting_candidates(ctx, org_id, self.form.value("held_on"))]

    def load_attendance(self) -> None:
        if self._filling:   # the saved meeting is being put into the form: its attendance comes last, once
            return
        self.attendance.load(self.candidates(), NOT_LISTED if self.form.value("kind") == "committee" else PRESENT)

    def submit(self) -> bool:
        f = self.form
        if self.editing:
            with attempt(self.app_ctx) as ctx:
                ok, mt = self.call(svc.update_meeting, ctx, self.meeting_id, topic=f.value("topic"),
                                   host=f.value("host"), recorder=f.value("recorder"), location=f.value("location"),
                                   minutes=f.value("minutes"), attendance=self.attendance.entries(),
                                   expected_version=self.expected_version)
                if not ok:
                    raise Refused
                self.quorum = svc.meeting_quorum(ctx, mt.id)
            return ok
        with attempt(self.app_ctx) as ctx:
            ok, mt = self.call(svc.record_meeting, ctx, f.value("org_id"), f.value("kind"), f.value("held_on"),
                               f.value("topic"), host=f.value("host"), recorder=f.value("recorder"),
                               minutes=f.value("minutes"), location=f.value("location"),
                               attendance=self.attendance.entries())
            if not ok:
                raise Refused
            self.meeting_id = mt.id
            self.quorum = svc.meeting_quorum(ctx, mt.id)
        return ok


class MeetingDetailDialog(QDialog):
    """One meeting as recorded: the facts, who attended or was absent (with the reason), the minutes."""

    def __init__(self, app_ctx, meeting_id: int, parent=None):
        super().__init__(parent)
        self.setObjectName("pb-meeting-detail")
        with app_ctx.service(commit=False) as ctx:
            mt, att = svc.get_meeting(ctx, meeting_id)
            org = svc.org_label_of(ctx, mt.org_id)
            quorum = svc.meeting_quorum(ctx, mt.id)
            facts = [("党组织", org), ("会议类型", svc.MEETING_KINDS.get(mt.kind, mt.kind)), ("日期", str(mt.held_on)),
                     ("主题", mt.topic), ("主持人", mt.host or ""), ("记录人", mt.recorder or ""),
                     ("地点", mt.location or "")]
            rows = [(m.name, m.stage_label, "出席" if a.present else "缺席", a.absence_reason or "") for a, m in att]
            minutes = mt.minutes or "（无会议记录）"
            topic = mt.topic
        self.setWindowTitle(f"会议记录：{topic}")
        self.resize(640, 560)
        form = QFormLayout()
        for label, value in facts:
            v = QLabel(value)
            v.setWordWrap(True)
            form.addRow(f"{label}：", v)
        present = sum(1 for r in rows if r[2] == "出席")
        self.summary = QLabel(f"应到 {len(rows)} 人，实到 {present} 人"
                              + ("" if quorum else "；支委会到会未过半数，不计入落实情况"))
        self.attendance = PlainTable(["姓名", "身份", "出席情况", "缺席原因"])
        self.attendance.set_rows(rows)
        self.minutes = QPlainTextEdit(minutes)
        self.minutes.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.summary)
        lay.addWidget(self.attendance, 3)
        lay.addWidget(QLabel("会议记录："))
        lay.addWidget(self.minutes, 2)
        lay.addWidget(buttons)
