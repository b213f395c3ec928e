"""志愿队伍 page: the teams in scope with their community, leader and member count; create or edit a
team; the selected team's current members, add volunteers (with their role in the team) and take
them off the team (the membership is closed on a date, never deleted, so history stays).
Views call services only."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from reports.masking import mask_phone
from shell.errors import JiedaoError
from shell.ui.widgets.form import FormDialog
from shell.ui.widgets.lazy_table import CENTER, RIGHT

from .. import services as svc
from ..rules import P_MANAGE
from .common import BAD_STYLE, MUTED_STYLE, OK_STYLE, VolunteerPicker, cell, read_only_table

ROLES = ("队员", "副队长", "队长")


class TeamDialog(FormDialog):
    """New team (``team`` None) or edit."""

    def __init__(self, parent: QWidget, app_ctx, team: svc.TeamRow | None = None):
        super().__init__(parent, "修改志愿队伍" if team else "新建志愿队伍", "team-dialog",
                         "志愿队伍属于一个社区；队员可以同时加入多支队伍。", ok_text="保存" if team else "创建")
        self.app_ctx, self.team = app_ctx, team
        self.saved_id: int | None = None
        with app_ctx.service(commit=False) as ctx:
            communities = svc.community_choices(ctx)
        f = self.form
        self.name = f.add("name", "队伍名称", QLineEdit(), required=True)
        self.area = f.add("area_id", "所属社区", QComboBox(), required=True)
        for area_id, name in communities:
            self.area.addItem(name, area_id)
        self.leader = f.add("leader_name", "队长", QLineEdit())
        self.phone = f.add("phone", "联系电话", QLineEdit())
        self.description = f.add("description", "服务方向", QPlainTextEdit())
        self.description.setFixedHeight(56)
        self.active = f.add("active", "状态", QCheckBox("在册（取消勾选即停用，历史记录保留）"))
        self.active.setChecked(True)
        for key, w in (("name", self.name), ("area", self.area), ("leader", self.leader), ("phone", self.phone)):
            w.setObjectName(f"team-{key}")
        if team is not None:
            self.expected_version = team.version_id
            self.name.setText(team.name)
            self.area.setCurrentIndex(max(0, self.area.findData(team.area_id)))
            self.area.setEnabled(False)
            self.leader.setText(team.leader_name)
            self.phone.setText(team.phone)
            self.description.setPlainText(team.description)
            self.active.setChecked(team.active)
        else:
            self.active.setEnabled(False)
        self.area.setMinimumWidth(220)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        values = dict(name=f.value("name"), leader_name=f.value("leader_name"), phone=f.value("phone"),
                      description=f.value("description"))

        def save():
            with self.app_ctx.service() as ctx:
                if self.team is None:
                    return svc.create_team(ctx, area_id=self.area.currentData(), **values).id
                return svc.update_team(ctx, self.team.team_id, self.expected_version, active=self.active.isChecked(),
                                       **values).id

        ok, result = self.call(save)
        self.saved_id = result if ok else None
        return ok


class TeamsPage(QWidget):
    TEAM_COLUMNS = ["队伍", "社区", "队长", "联系电话", "在队人数", "状态"]
    MEMBER_COLUMNS = ["志愿者编号", "姓名", "队内角色", "入队日期"]

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.dialog = None
        self.rows: list[svc.TeamRow] = []
        self.members: list[tuple[int, str, str, str, str]] = []   # (volunteer id, number, name, role, joined)
        self.setObjectName("volunteer-teams")
        can = app_ctx.actor.can(P_MANAGE)

        self.teams = read_only_table(self.TEAM_COLUMNS, self)
        self.teams.setObjectName("team-list")
        th = self.teams.horizontalHeader()
        th.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        th.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.teams.currentCellChanged.connect(lambda row, _c, _pr, _pc: self.show_team(row))
        self.new_button = QPushButton("新建队伍…", self)
        self.new_button.setObjectName("team-new")
        self.new_button.setProperty("primary", True)
        self.new_button.clicked.connect(self.new_team)
        self.edit_button = QPushButton("修改…", self)
        self.edit_button.setObjectName("team-edit")
        self.edit_button.clicked.connect(self.edit_team)
        self.count_label = QLabel(self)
        left_bar = QHBoxLayout()
        left_bar.addWidget(self.count_label)
        left_bar.addStretch(1)
        left_bar.addWidget(self.edit_button)
        left_bar.addWidget(self.new_button)
        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 6, 0)
        ll.addLayout(left_bar)
        ll.addWidget(self.teams, 1)

        right = QWidget(self)
        self.team_title = QLabel("在左侧选择一支队伍，查看和调整队员。", right)
        self.team_title.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.team_note = QLabel(right)
        self.team_note.setWordWrap(True)
        self.team_note.setStyleSheet(MUTED_STYLE)
        self.member_table = read_only_table(self.MEMBER_COLUMNS, right, multi=True)
        self.member_table.setObjectName("member-list")
        mh = self.member_table.horizontalHeader()
        mh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        mh.setStretchLastSection(True)
        self.member_table.itemSelectionChanged.connect(self._update_buttons)
        self.add_button = QPushButton("添加队员…", right)
        self.add_button.setObjectName("member-add")
        self.add_button.clicked.connect(self.add_members)
        self.remove_button = QPushButton("移出队伍", right)
        self.remove_button.setObjectName("member-remove")
        self.remove_button.clicked.connect(self.remove_members)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.remove_button)
        actions.addWidget(self.add_button)
        self.message = QLabel(right)
        self.message.setObjectName("team-message")
        self.message.setWordWrap(True)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 0, 0, 0)
        rl.addWidget(self.team_title)
        rl.addWidget(self.team_note)
        rl.addWidget(self.member_table, 1)
        rl.addLayout(actions)
        rl.addWidget(self.message)

        for b in (self.new_button, self.edit_button, self.add_button, self.remove_button):
            b.setVisible(can)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([620, 520])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self.reload()

    # ------------------------------------------------------------------ display
    def reload(self, keep: int | None = None) -> None:
        try:
            with self.app_ctx.service(commit=False) as ctx:
                self.rows = svc.team_rows(ctx)
        except JiedaoError as exc:
            self.rows = []
            self.count_label.setText(exc.message)
        self.teams.blockSignals(True)
        self.teams.setRowCount(len(self.rows))
        for r, t in enumerate(self.rows):
            self.teams.setItem(r, 0, cell(t.name, data=t.team_id))
            self.teams.item(r, 0).setToolTip(t.description or t.name)
            self.teams.setItem(r, 1, cell(t.area_name))
            self.teams.setItem(r, 2, cell(t.leader_name or "—"))
            self.teams.setItem(r, 3, cell(mask_phone(t.phone) if t.phone else ""))
            self.teams.setItem(r, 4, cell(t.members, RIGHT))
            self.teams.setItem(r, 5, cell("在册" if t.active else "停用", CENTER))
        self.teams.blockSignals(False)
        self.count_label.setText(f"共 {len(self.rows)} 支队伍")
        row = next((r for r, t in enumerate(self.rows) if t.team_id == keep), -1)
        if row >= 0:
            self.teams.setCurrentCell(row, 0)
        self.show_team(row if row >= 0 else self.teams.currentRow())

    def current(self) -> svc.TeamRow | None:
        row = self.teams.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def select_team(self, team_id: int) -> None:
        row = next(r for r, t in enumerate(self.rows) if t.team_id == team_id)
        self.teams.setCurrentCell(row, 0)

    def show_team(self, row: int) -> None:
        team = self.rows[row] if 0 <= row < len(self.rows) else None
        self.members = []
        if team is not None:
            try:
                with self.app_ctx.service(commit=False) as ctx:
                    self.members = [(v.id, v.number, v.name, m.role, str(m.joined_on))
                                    for v, m in svc.team_members(ctx, team.team_id)]
            except JiedaoError as exc:
                self._message(exc.message, ok=False)
            self.team_title.setText(f"{team.name}（{team.area_name}）" + ("" if team.active else " · 已停用"))
            self.team_note.setText(team.description or "")
        else:
            self.team_title.setText("在左侧选择一支队伍，查看和调整队员。")
            self.team_note.setText("")
        self.member_table.setRowCount(len(self.members))
        for r, (vid, number, name, role, joined) in enumerate(self.members):
            self.member_table.setItem(r, 0, cell(number, data=vid))
            self.member_table.setItem(r, 1, cell(name))
            self.member_table.setItem(r, 2, cell(role, CENTER))
            self.member_table.setItem(r, 3, cell(joined, CENTER))
        self._update_buttons()

    def _update_buttons(self) -> None:
        team = self.current()
        self.edit_button.setEnabled(team is not None)
        self.add_button.setEnabled(team is not None and team.active)
        self.remove_button.setEnabled(bool(self.selected_members()))

    def selected_members(self) -> list[tuple[int, str, str, str, str]]:
        rows = sorted({i.row() for i in self.member_table.selectionModel().selectedRows()})
        return [self.members[r] for r in rows if r < len(self.members)]

    def select_members(self, names: list[str]) -> None:
        """Select the member rows of these names (as Ctrl+click would)."""
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        model = self.member_table.model()
        for r, m in enumerate(self.members):
            if m[2] in names:
                selection.select(model.index(r, 0), model.index(r, len(self.MEMBER_COLUMNS) - 1))
        self.member_table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _message(self, text: str, ok: bool = True) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(OK_STYLE if ok else BAD_STYLE)

    # ------------------------------------------------------------------ actions
    def _open(self, dialog, on_accepted) -> None:
        self.dialog = dialog
        dialog.accepted.connect(on_accepted)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def new_team(self) -> None:
        dialog = TeamDialog(self, self.app_ctx)

        def created():
            self.reload(keep=dialog.saved_id)
            self._message("队伍已创建，可以添加队员。")
        self._open(dialog, created)

    def edit_team(self) -> None:
        team = self.current()
        if team is None:
            return
        dialog = TeamDialog(self, self.app_ctx, team)

        def saved():
            self.reload(keep=dialog.saved_id)
            self._message("队伍信息已保存。")
        self._open(dialog, saved)

    def add_members(self) -> None:
        team = self.current()
        if team is None:
            return
        picker = VolunteerPicker(self, self.app_ctx, "添加队员", f"把志愿者加入“{team.name}”。", ok_text="加入",
                                 exclude={m[0] for m in self.members}, roles=ROLES)

        def added():
            ids, role = picker.chosen, picker.role.currentData()
            try:
                with self.app_ctx.service() as ctx:
                    for vid in ids:
                        svc.add_member(ctx, team.team_id, vid, role)
            except JiedaoError as exc:
                self._message(f"没有加入：{exc.message}", ok=False)
                return
            self.reload(keep=team.team_id)
            self._message(f"已加入 {len(ids)} 人（{role}）。")
        self._open(picker, added)

    def remove_members(self) -> None:
        team = self.current()
        chosen = self.selected_members()
        if team is None or not chosen:
            return
        try:
            with self.app_ctx.service() as ctx:
                for vid, *_rest in chosen:
                    svc.remove_member(ctx, team.team_id, vid)
        except JiedaoError as exc:
            self._message(f"没有移出：{exc.message}", ok=False)
            return
        self.reload(keep=team.team_id)
        self._message(f"已将 {'、'.join(m[2] for m in chosen)} 移出队伍（离队日期为今天，服务记录保留）。")
