"""三会一课: the year's meetings of a branch (or the whole street), a page at a time, with the
recorder and the detail (meeting_dialogs.py) opened from it."""
from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from shell.clock import local_today

from .. import services as svc
from .common import PlainTable

# The attendance states, re-exported for callers that know them from this page.
from .meeting_dialogs import ABSENT as ABSENT
from .meeting_dialogs import NOT_LISTED as NOT_LISTED
from .meeting_dialogs import PRESENT as PRESENT
from .meeting_dialogs import MeetingDetailDialog, MeetingDialog, org_choices


class MeetingsPage(QWidget):
    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("partybuilding-meetings")
        self.dialog: MeetingDialog | None = None
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(self.today().year)
        self.org = QComboBox()
        self.org.addItem("（全部）", None)
        for oid, label, _kind in org_choices(app_ctx):
            self.org.addItem(label, oid)
        self.record_button = QPushButton("记录会议…")
        self.record_button.setObjectName("pb-record-meeting")
        self.record_button.setEnabled(app_ctx.actor.can(svc.MEETING))
        self.record_button.clicked.connect(self.open_recorder)
        self.edit_button = QPushButton("修改所选会议…")
        self.edit_button.setObjectName("pb-edit-meeting")
        self.edit_button.setEnabled(False)
        self.edit_button.clicked.connect(lambda: self.open_editor(self.selected_meeting()))
        self.summary = QLabel()
        self.table = PlainTable(["日期", "党组织", "类型", "主题", "主持人", "记录人", "应到", "实到", "缺席人员及原因"],
                                right=(6, 7))
        self.table.setObjectName("pb-meetings")
        self.table.cellDoubleClicked.connect(lambda row, _c: self.open_detail(self.table.row_data(row)))
        self.table.itemSelectionChanged.connect(
            lambda: self.edit_button.setEnabled(app_ctx.actor.can(svc.MEETING) and self.selected_meeting() is not None))
        self.detail: MeetingDetailDialog | None = None
        bar = QHBoxLayout()
        for w in (QLabel("年度"), self.year, QLabel("党组织"), self.org):
            bar.addWidget(w)
        self.org.setMinimumWidth(300)
        bar.addStretch(1)
        bar.addWidget(self.edit_button)
        bar.addWidget(self.record_button)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.summary)
        lay.addWidget(self.table)
        self.year.valueChanged.connect(lambda *_: self.refresh())
        self.org.currentIndexChanged.connect(lambda *_: self.refresh())
        self.table.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.refresh()

    def today(self) -> date:
        return local_today(self.app_ctx.clock())

    def open_recorder(self) -> MeetingDialog:
        self.dialog = MeetingDialog(self.app_ctx, self.today(), self.org.currentData(), self)
        self.dialog.accepted.connect(self.refresh)
        self.dialog.open()
        return self.dialog

    def selected_meeting(self) -> int | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return self.table.row_data(rows.pop()) if len(rows) == 1 else None

    def open_editor(self, meeting_id: int | None) -> MeetingDialog | None:
        if meeting_id is None:
            return None
        self.dialog = MeetingDialog(self.app_ctx, self.today(), parent=self, meeting_id=meeting_id)
        self.dialog.accepted.connect(self.refresh)
        self.dialog.open()
        return self.dialog

    def open_detail(self, meeting_id: int | None) -> MeetingDetailDialog | None:
        if meeting_id is None:
            return None
        self.detail = MeetingDetailDialog(self.app_ctx, meeting_id, self)
        self.detail.show()
        return self.detail

    PAGE = 200   # meetings per page: a street's year holds tens of thousands

    def refresh(self) -> None:
        """The newest page of the year's meetings; the next page comes when the list is scrolled to
        its end (keyset on date and id, so each page costs the same)."""
        y = self.year.value()
        self._last: tuple | None = None
        self._exhausted = False
        with self.app_ctx.service(commit=False) as ctx:
            self.total = svc.count_meetings(ctx, date(y, 1, 1), date(y, 12, 31), org_id=self.org.currentData())
        self.table.set_rows([])
        self.load_more()

    def load_more(self) -> int:
        """Append the next page; returns how many rows came."""
        if self._exhausted:
            return 0
        y = self.year.value()
        with self.app_ctx.service(commit=False) as ctx:
            rows, tips, colors, ids = [], [], [], []
            page = svc.meeting_summaries(ctx, date(y, 1, 1), date(y, 12, 31), org_id=self.org.currentData(),
                                         limit=self.PAGE, before=self._last)
            for m in page:
                mt = m.meeting
                rows.append((mt.held_on, m.org_label, svc.MEETING_KINDS.get(mt.kind, mt.kind)
                             + ("" if m.quorum else "（未过半）"), mt.topic, mt.host or "", mt.recorder or "",
                             m.listed, m.present, "；".join(f"{n}（{r}）" for n, r in m.absent)))
                tips.append(mt.minutes or "")
                colors.append(None if m.quorum else "#b00020")
                ids.append(mt.id)
            if page:
                self._last = (page[-1].meeting.held_on, page[-1].meeting.id)
        self._exhausted = len(rows) < self.PAGE
        first = self.table.rowCount()
        self.table.append_rows(rows, data=ids, colors=colors)
        for r, tip in enumerate(tips):
            self.table.item(first + r, 3).setToolTip(tip or "（无会议记录）")
        shown = self.table.rowCount()
        more = f"，已显示最近 {shown} 次（向下滚动显示更多）" if shown < self.total else ""
        self.summary.setText(f"{y} 年共记录会议 {self.total} 次{more}。双击一行查看出席情况和会议记录；缺项见“组织生活落实”。")
        return len(rows)

    def _scrolled(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        if value >= bar.maximum() - 2 and not self._exhausted:
            self.load_more()


def make_page(app_ctx, parent=None):
    return MeetingsPage(app_ctx, parent)
