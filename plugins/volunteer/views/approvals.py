"""时长审核 page: the approval queue across every activity in the user's scope. Signed-out records
wait here; the leader approves several at once (hours enter the hours ledger and the earned points
the points ledger) or rejects them with a reason. The 已审核 view lists approved records, and a
mistaken approval is taken back with a reversal (new entries in both ledgers, never an edit).
Views call services only."""
from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shell.clock import format_local
from shell.errors import JiedaoError
from shell.ui.widgets import Column, LazyTableModel, SearchBox
from shell.ui.widgets.lazy_table import CENTER, RIGHT

from .. import services as svc
from ..rules import P_APPROVE
from .common import BAD_STYLE, OK_STYLE, ReasonDialog, fit_columns, local_hm, minutes_text

QUALITIES = ("", "优秀", "良好", "合格")


def _points(r) -> str:
    att, _v, a = r
    if att.status == "approved":
        return str(att.points)
    return f"({svc.points_for(att.minutes, a.points_per_hour)})"


def _credited(r) -> str:
    att = r[0]
    return minutes_text(att.minutes) + ("（封顶）" if (att.raw_minutes or 0) > (att.minutes or 0) else "")


class ApprovalsPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.dialog = None
        self.setObjectName("volunteer-approvals")
        can = app_ctx.actor.can(P_APPROVE)

        self.pending_radio = QRadioButton("待审核", self)
        self.approved_radio = QRadioButton("已审核（可冲正）", self)
        self.rejected_radio = QRadioButton("未通过", self)
        self.pending_radio.setChecked(True)
        self.mode_group = QButtonGroup(self)
        for b in (self.pending_radio, self.approved_radio, self.rejected_radio):
            self.mode_group.addButton(b)
        self.mode_group.buttonToggled.connect(lambda _b, on: on and self.apply_filters())
        self.search = SearchBox(self, placeholder="志愿者姓名、拼音、编号或活动名称")
        self.search.search.connect(lambda _t: self.apply_filters())
        self.count_label = QLabel(self)
        top = QHBoxLayout()
        top.addWidget(self.pending_radio)
        top.addWidget(self.approved_radio)
        top.addWidget(self.rejected_radio)
        top.addSpacing(12)
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)

        columns = [
            Column("活动", lambda r: r[2].name),
            Column("日期", lambda r: format_local(r[2].starts_at)[:10]),
            Column("志愿者", lambda r: r[1].name),
            Column("编号", lambda r: r[1].number),
            Column("签到", lambda r: local_hm(r[0].signed_in_at), CENTER),
            Column("签退", lambda r: local_hm(r[0].signed_out_at), CENTER),
            Column("实际时长", lambda r: minutes_text(r[0].raw_minutes or 0), RIGHT),
            Column("计入时长", _credited, RIGHT,
                   tooltip=lambda r: (f"本活动每次最多计入 {svc.hours_text(r[2].cap_minutes)} 小时"
                                      if r[2].cap_minutes else "不封顶")),
            Column("积分", _points, RIGHT, tooltip=lambda r: "括号内为审核通过后将计入的积分"),
            Column("说明", lambda r: r[0].note or r[0].quality or ""),
        ]
        self.model = LazyTableModel(app_ctx.session_factory, columns, page_size=200, parent=self)
        self.model.count_changed.connect(self._count_changed)
        self.table = QTableView(self)
        self.table.setObjectName("approval-list")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        fit_columns(self.table, ("四点半课堂志愿服务", "2026-11-22", "欧阳某某", "ZY0000000", "08:30", "12:00",
                                 "3.5 小时", "2 小时（封顶）", "(20)"))
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())

        self.select_all_button = QPushButton("全选", self)
        self.select_all_button.clicked.connect(self.select_all)
        self.quality = QComboBox(self)
        self.quality.setObjectName("approval-quality")
        self.quality.setMinimumWidth(120)
        for q in QUALITIES:
            self.quality.addItem(q or "（不评价）", q)
        self.approve_button = QPushButton("审核通过", self)
        self.approve_button.setObjectName("approval-approve")
        self.approve_button.setProperty("primary", True)
        self.approve_button.clicked.connect(self.approve)
        self.reject_button = QPushButton("不予计入…", self)
        self.reject_button.setObjectName("approval-reject")
        self.reject_button.clicked.connect(self.reject)
        self.reverse_button = QPushButton("冲正…", self)
        self.reverse_button.setObjectName("approval-reverse")
        self.reverse_button.clicked.connect(self.reverse)
        for b in (self.approve_button, self.reject_button, self.reverse_button, self.quality):
            b.setVisible(can)
        self.quality_label = QLabel("质量评价：", self)
        self.quality_label.setVisible(can)
        actions = QHBoxLayout()
        actions.addWidget(self.select_all_button)
        actions.addStretch(1)
        actions.addWidget(self.quality_label)
        actions.addWidget(self.quality)
        actions.addWidget(self.approve_button)
        actions.addWidget(self.reject_button)
        actions.addWidget(self.reverse_button)
        self.message = QLabel(self)
        self.message.setObjectName("approval-message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #6b7785;")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        self.apply_filters()

    # ------------------------------------------------------------------ list
    def show_filtered(self, status: str = "signed_out") -> None:
        """From 我的待办: every record of one approval state in scope (the search box emptied)."""
        radio = {"approved": self.approved_radio, "rejected": self.rejected_radio}.get(status, self.pending_radio)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        if radio.isChecked():
            self.apply_filters()
        else:
            radio.setChecked(True)   # apply_filters through the group's toggle

    def mode(self) -> str:
        if self.approved_radio.isChecked():
            return "approved"
        if self.rejected_radio.isChecked():
            return "rejected"
        return "signed_out"

    def _count_changed(self, n: int) -> None:
        label = {"signed_out": "待审核", "approved": "已审核", "rejected": "未通过"}[self.mode()]
        self.count_label.setText(f"{label} {n} 条")

    def apply_filters(self) -> None:
        mode = self.mode()
        self.hint.setText({
            "signed_out": "已签退、等待活动负责人审核的服务记录。审核通过后时长和积分才计入；"
                          "可按住 Ctrl 或 Shift 多选后一次审核。",
            "approved": "已计入的服务记录。审核有误时用“冲正”撤回：两本台账各记一笔冲正，记录回到待审核，可更正后重新审核。",
            "rejected": "不予计入的服务记录（不计时长和积分）。",
        }[mode])
        try:
            with self.app_ctx.service(commit=False) as ctx:
                listing = svc.approval_listing(ctx, mode, text=self.search.text().strip())
        except JiedaoError as exc:
            self.model.set_query(None)
            self._message(exc.message, ok=False)
            return
        self.model.set_query(listing.query, key_column=listing.key, descending=listing.descending)
        self._update_buttons()

    def _update_buttons(self) -> None:
        mode = self.mode()
        picked = bool(self.selected_ids())
        self.approve_button.setEnabled(mode == "signed_out" and picked)
        self.reject_button.setEnabled(mode == "signed_out" and picked)
        self.quality.setEnabled(mode == "signed_out")
        self.reverse_button.setEnabled(mode == "approved" and len(self.selected_ids()) == 1)

    def selected_rows(self) -> list[tuple]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.row_object(r) for r in rows if r < self.model.rowCount()]

    def selected_ids(self) -> list[int]:
        return [r[0].id for r in self.selected_rows()]

    def select_all(self) -> None:
        while self.model.canFetchMore():
            self.model.fetchMore()
        self.table.selectAll()

    def select_ids(self, attendance_ids: list[int]) -> None:
        """Select the rows of these records (as Ctrl+click would)."""
        while self.model.canFetchMore():
            self.model.fetchMore()
        selection = QItemSelection()
        last = self.model.columnCount() - 1
        for r in range(self.model.rowCount()):
            if self.model.row_object(r)[0].id in attendance_ids:
                selection.select(self.model.index(r, 0), self.model.index(r, last))
        self.table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _message(self, text: str, ok: bool = True) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(OK_STYLE if ok else BAD_STYLE)

    # ------------------------------------------------------------------ actions
    def approve(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        quality = self.quality.currentData() or ""

        def work(ctx):
            result = svc.approve(ctx, ids, quality=quality)
            return result.approved, result.skipped

        try:
            approved, skipped = svc.run_with_retry(self.app_ctx.session_factory, self.app_ctx.actor, work,
                                                   clock=self.app_ctx.clock)
        except JiedaoError as exc:
            self._message(f"审核没有完成：{exc.message}", ok=False)
            return
        self.apply_filters()
        text = f"已审核通过 {len(approved)} 条，时长和积分已计入。"
        if skipped:
            text += " 未审核：" + "；".join(reason for _id, reason in skipped) + "。"
        self._message(text, ok=not skipped)

    def reject(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return

        def action(reason):
            with self.app_ctx.service() as ctx:
                return svc.reject(ctx, ids, reason)

        dialog = ReasonDialog(self, "不予计入", "reject-dialog", f"选中的 {len(ids)} 条服务记录不计入时长和积分。",
                              "原因", action, placeholder="例如：未实际参加、签到信息有误")

        def done():
            self.apply_filters()
            self._message(f"已将 {dialog.result_value} 条记录标为不予计入。")
        self._open(dialog, done)

    def reverse(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        att, v, a = rows[0]

        def action(reason):
            return svc.run_with_retry(self.app_ctx.session_factory, self.app_ctx.actor,
                                      lambda ctx: svc.reverse_attendance(ctx, att.id, reason).id,
                                      clock=self.app_ctx.clock)

        dialog = ReasonDialog(self, "冲正", "reverse-dialog",
                              f"撤回“{v.name}”在“{a.name}”的审核：服务时长记 -{svc.hours_text(att.minutes)} 小时，"
                              f"积分记 -{att.points} 分（均为新的冲正记录，原记录保留）。记录回到待审核。",
                              "冲正原因", action, placeholder="例如：签退时间登记错误", ok_text="冲正")

        def done():
            self.apply_filters()
            self._message(f"已冲正“{v.name}”在“{a.name}”的 {svc.hours_text(att.minutes)} 小时、{att.points} 分，记录回到待审核。")
        self._open(dialog, done)

    def _open(self, dialog, on_accepted) -> None:
        self.dialog = dialog
        dialog.accepted.connect(on_accepted)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
