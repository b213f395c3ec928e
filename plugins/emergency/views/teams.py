"""应急队伍 page: rescue teams and their rosters (members with phone, skills and certificates; phones
masked in the list), the street's comprehensive team checked against the size norm, printing the
花名册 — and the duty roster (值班表) of a street or community, a week at a time, with the days not
covered."""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reports.masking import mask_phone
from shell.errors import JiedaoError
from shell.ui.errors import confirm

from .. import services as svc
from ..labels import DUTY_SHIFTS, TEAM_KINDS
from .team_dialogs import DutyDialog, MemberDialog, TeamDialog

BAD_FG, OK_FG = QColor("#c0392b"), QColor("#1e6b34")

WEEKDAYS = "一二三四五六日"


def _table(parent: QWidget, name: str, headers: tuple[str, ...]) -> QTableWidget:
    t = QTableWidget(0, len(headers), parent)
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def _fill(table: QTableWidget, rows: list[tuple], ids: list) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, text in enumerate(values):
            cell = QTableWidgetItem("" if text is None else str(text))
            if c == 0:
                cell.setData(Qt.ItemDataRole.UserRole, ids[r])
            table.setItem(r, c, cell)


def _selected_id(table: QTableWidget):
    rows = table.selectionModel().selectedRows()
    return table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole) if rows else None


def _select_id(table: QTableWidget, value) -> bool:
    for r in range(table.rowCount()):
        if table.item(r, 0).data(Qt.ItemDataRole.UserRole) == value:
            table.selectRow(r)
            return True
    return False


class TeamsPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("emergency-teams")
        self.dialog = None
        self.print_dialog = None
        self.areas: list[svc.AreaChoice] = []
        self.shifts: list = []
        self.can_manage = app_ctx.actor.can("emergency.team.manage")

        # --- teams tab ------------------------------------------------------------------------------
        self.norm_label = QLabel(self)
        self.norm_label.setObjectName("team-norm")
        self.norm_label.setWordWrap(True)
        self.norm_label.setStyleSheet("font-weight: bold;")
        self.new_team_button = QPushButton("新建队伍…", self)
        self.add_member_button = QPushButton("添加队员…", self)
        self.remove_member_button = QPushButton("队员离队…", self)
        self.print_button = QPushButton("打印花名册", self)
        bar = QHBoxLayout()
        bar.addWidget(self.norm_label, 1)
        for b in (self.new_team_button, self.add_member_button, self.remove_member_button, self.print_button):
            bar.addWidget(b)
        self.teams = _table(self, "team-table", ("队伍名称", "类型", "所属单位", "队长", "人数"))
        self.members = _table(self, "member-table", ("姓名", "联系电话", "技能特长", "资格证书"))
        for t, widths in ((self.teams, (180, 120, 90, 60)), (self.members, (80, 120, 180))):
            for c, w in enumerate(widths):
                t.horizontalHeader().resizeSection(c, w)
        self.members_title = QLabel(self)
        self.members_title.setObjectName("member-title")
        right = QWidget(self)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.members_title)
        rl.addWidget(self.members, 1)
        split = QSplitter(self)
        split.addWidget(self.teams)
        split.addWidget(right)
        split.setSizes([560, 620])
        teams_tab = QWidget(self)
        tl = QVBoxLayout(teams_tab)
        tl.addLayout(bar)
        tl.addWidget(split, 1)

        # --- duty tab -------------------------------------------------------------------------------
        self.duty_area = QComboBox(self)
        self.duty_area.setObjectName("duty-area")
        self.week_start = self._monday(self.today())
        self.prev_week = QPushButton("上一周", self)
        self.this_week = QPushButton("本周", self)
        self.next_week = QPushButton("下一周", self)
        self.week_label = QLabel(self)
        self.week_label.setObjectName("duty-week")
        self.duty_add = QPushButton("排班…", self)
        self.duty_edit = QPushButton("修改…", self)
        self.duty_remove = QPushButton("删除…", self)
        self.duty_print = QPushButton("打印值班表", self)
        dbar = QHBoxLayout()
        dbar.addWidget(QLabel("单位", self))
        dbar.addWidget(self.duty_area)
        for w in (self.prev_week, self.this_week, self.next_week, self.week_label):
            dbar.addWidget(w)
        dbar.addStretch(1)
        for b in (self.duty_add, self.duty_edit, self.duty_remove, self.duty_print):
            dbar.addWidget(b)
        self.duty = _table(self, "duty-table", ("日期", "班次", "带班领导", "值班人员", "值班电话", "备注"))
        for c, w in enumerate((130, 60, 100, 220, 120)):
            self.duty.horizontalHeader().resizeSection(c, w)
        self.gaps_label = QLabel(self)
        self.gaps_label.setObjectName("duty-gaps")
        self.gaps_label.setWordWrap(True)
        duty_tab = QWidget(self)
        dl = QVBoxLayout(duty_tab)
        dl.addLayout(dbar)
        dl.addWidget(self.duty, 1)
        dl.addWidget(self.gaps_label)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(teams_tab, "救援队伍")
        self.tabs.addTab(duty_tab, "值班表")
        self.message = QLabel(self)
        self.message.setStyleSheet("color: #c0392b;")
        self.message.setWordWrap(True)
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)

        self.new_team_button.clicked.connect(self.open_new_team)
        self.add_member_button.clicked.connect(self.open_add_member)
        self.remove_member_button.clicked.connect(self.remove_member)
        self.print_button.clicked.connect(self.print_roster)
        self.teams.selectionModel().selectionChanged.connect(lambda *_a: self.load_members())
        self.members.selectionModel().selectionChanged.connect(lambda *_a: self._buttons())
        self.duty.selectionModel().selectionChanged.connect(lambda *_a: self._buttons())
        self.duty_area.currentIndexChanged.connect(lambda _i: self.load_duty())
        self.prev_week.clicked.connect(lambda: self.move_week(-7))
        self.next_week.clicked.connect(lambda: self.move_week(7))
        self.this_week.clicked.connect(lambda: self.move_week(None))
        self.duty_add.clicked.connect(self.open_duty)
        self.duty_edit.clicked.connect(self.open_duty_edit)
        self.duty_remove.clicked.connect(self.remove_duty)
        self.duty_print.clicked.connect(self.print_duty)
        self.duty.doubleClicked.connect(lambda _i: self.open_duty_edit())
        self.reload()

    @staticmethod
    def _monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    def today(self) -> date:
        from shell.clock import to_local

        return to_local(self.app_ctx.clock()).date()

    def _error(self, exc: JiedaoError | None) -> None:
        self.message.setVisible(exc is not None)
        self.message.setText(exc.message if exc else "")

    # --- teams --------------------------------------------------------------------------------------
    def reload(self) -> None:
        self._error(None)
        team = _selected_id(self.teams)
        try:
            with self.app_ctx.service(commit=False) as ctx:
                rows = svc.team_rows(ctx)
                checks = svc.team_size_check(ctx)
                self.areas = svc.unit_areas(ctx)
        except JiedaoError as exc:
            self._error(exc)
            rows, checks = [], []
        _fill(self.teams, [(r.name, TEAM_KINDS[r.kind], r.area, r.leader, r.members) for r in rows], [r.id for r in rows])
        text = "；".join(f"{c.street}综合应急救援队伍现有 {c.members} 人，规范要求不少于 {c.norm} 人，"
                        + ("达标" if c.ok else f"还差 {c.shortfall} 人") for c in checks)
        self.norm_label.setText(text + "。" if text else "")
        self.norm_label.setStyleSheet("font-weight: bold; color: %s;" % (
            OK_FG.name() if checks and all(c.ok for c in checks) else BAD_FG.name()))
        if self.duty_area.count() == 0:
            self.duty_area.blockSignals(True)
            for a in self.areas:
                self.duty_area.addItem(a.name, a.id)
            self.duty_area.blockSignals(False)
        if team is None or not _select_id(self.teams, team):
            if self.teams.rowCount():
                self.teams.selectRow(0)
        self.load_members()
        self.load_duty()

    def selected_team(self):
        return _selected_id(self.teams)

    def load_members(self) -> None:
        team = self.selected_team()
        rows = []
        if team is not None:
            try:
                with self.app_ctx.service(commit=False) as ctx:
                    rows = [(m.id, m.name, mask_phone(m.phone) if m.phone else "", m.skills, m.certificates)
                            for m in svc.team_members(ctx, team)]
            except JiedaoError as exc:
                self._error(exc)
        _fill(self.members, [r[1:] for r in rows], [r[0] for r in rows])
        sel = self.teams.selectionModel().selectedRows()
        name = self.teams.item(sel[0].row(), 0).text() if sel else ""
        self.members_title.setText(f"{name}：{len(rows)} 名队员（电话已隐去中间四位）" if name else "请选择左侧队伍")
        self._buttons()

    def _buttons(self) -> None:
        m = self.can_manage
        self.new_team_button.setEnabled(m)
        self.add_member_button.setEnabled(m and self.selected_team() is not None)
        self.remove_member_button.setEnabled(m and _selected_id(self.members) is not None)
        self.duty_add.setEnabled(m and self.duty_area.count() > 0)
        self.duty_edit.setEnabled(m and _selected_id(self.duty) is not None)
        self.duty_remove.setEnabled(m and _selected_id(self.duty) is not None)
        if not m:
            for b in (self.new_team_button, self.add_member_button, self.remove_member_button, self.duty_add):
                b.setToolTip("需要“维护应急队伍”权限（emergency.team.manage）")

    def _show(self, dialog, after):
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(after)
        dialog.open()
        return dialog

    def open_new_team(self):
        dialog = TeamDialog(self)

        def after():
            self.reload()
            _select_id(self.teams, dialog.saved_id)
        return self._show(dialog, after)

    def open_add_member(self):
        team = self.selected_team()
        if team is None:
            return None
        name = self.teams.item(self.teams.selectionModel().selectedRows()[0].row(), 0).text()

        def after():
            self.reload()
            _select_id(self.teams, team)
        return self._show(MemberDialog(self, team, name), after)

    def remove_member(self) -> bool:
        member = _selected_id(self.members)
        if member is None:
            return False
        name = self.members.item(self.members.selectionModel().selectedRows()[0].row(), 0).text()
        if not confirm(self, "队员离队", f"“{name}”离队？花名册中不再列出，历史记录保留。"):
            return False
        try:
            with self.app_ctx.service() as ctx:
                svc.remove_member(ctx, member)
        except JiedaoError as exc:
            self._error(exc)
            return False
        self.reload()
        return True

    def print_roster(self):
        from .printing import print_report

        self.print_dialog = print_report(self.app_ctx, "emergency.roster", {}, self, "应急队伍花名册.pdf")
        return self.print_dialog

    # --- duty roster --------------------------------------------------------------------------------
    def move_week(self, days: int | None) -> None:
        self.week_start = self._monday(self.today()) if days is None else self.week_start + timedelta(days=days)
        self.load_duty()

    def load_duty(self) -> None:
        area = self.duty_area.currentData()
        start, end = self.week_start, self.week_start + timedelta(days=6)
        self.week_label.setText(f"{start:%Y-%m-%d} 至 {end:%m-%d}")
        self.shifts, gaps = [], []
        if area is not None:
            try:
                with self.app_ctx.service(commit=False) as ctx:
                    # plain copies: the ORM rows expire when the read-only session ends
                    self.shifts = [SimpleNamespace(id=d.id, version_id=d.version_id, duty_date=d.duty_date, shift=d.shift,
                                                   leader=d.leader, staff=d.staff, phone=d.phone, note=d.note)
                                   for d in svc.duty_roster(ctx, area, start, end)]
                    gaps = svc.duty_gaps(ctx, area, start, end)
            except JiedaoError as exc:
                self._error(exc)
        _fill(self.duty, [(f"{d.duty_date:%m-%d} 周{WEEKDAYS[d.duty_date.weekday()]}", DUTY_SHIFTS[d.shift], d.leader,
                           d.staff, d.phone, d.note) for d in self.shifts], [d.id for d in self.shifts])
        today = self.today()
        for r, d in enumerate(self.shifts):
            if d.duty_date == today:
                for c in range(self.duty.columnCount()):
                    self.duty.item(r, c).setBackground(QBrush(QColor("#e3effa")))
        if gaps:
            self.gaps_label.setText("本周值班缺口：" + "，".join(f"{d:%m-%d}（周{WEEKDAYS[d.weekday()]}）{what}"
                                                             for d, what in gaps))
            self.gaps_label.setStyleSheet(f"color: {BAD_FG.name()};")
        else:
            self.gaps_label.setText("本周每天均已排班。" if area is not None else "")
            self.gaps_label.setStyleSheet(f"color: {OK_FG.name()};")
        self._buttons()

    def selected_shift(self):
        sid = _selected_id(self.duty)
        return next((d for d in self.shifts if d.id == sid), None)

    def open_duty(self, day: date | None = None):
        if self.duty_area.currentData() is None:
            return None
        return self._show(DutyDialog(self, day or max(self.week_start, self.today())), self.load_duty)

    def open_duty_edit(self):
        shift = self.selected_shift()
        return self._show(DutyDialog(self, shift.duty_date, shift), self.load_duty) if shift and self.can_manage else None

    def print_duty(self):
        """应急值班表 of the unit and week shown."""
        from .printing import print_report

        area = self.duty_area.currentData()
        if area is None:
            return None
        start = self.week_start
        self.print_dialog = print_report(self.app_ctx, "emergency.duty",
                                         {"area_id": area, "start": start, "end": start + timedelta(days=6)}, self,
                                         f"应急值班表-{self.duty_area.currentText()}-{start:%Y%m%d}.pdf")
        return self.print_dialog

    def remove_duty(self) -> bool:
        shift = self.selected_shift()
        if shift is None or not confirm(self, "删除值班", f"删除 {shift.duty_date} 的{DUTY_SHIFTS[shift.shift]}？"):
            return False
        try:
            with self.app_ctx.service() as ctx:
                svc.remove_duty(ctx, shift.id)
        except JiedaoError as exc:
            self._error(exc)
            return False
        self.load_duty()
        return True
