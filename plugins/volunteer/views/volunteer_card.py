"""The card of the selected volunteer on the 志愿者 page: star level, approved hours, points balance
and the latest hours and points ledger entries (plain values read inside one service context)."""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reports.masking import mask_phone
from shell.clock import format_local
from shell.ui.widgets.lazy_table import RIGHT

from .. import services as svc
from ..labels import HOUR_KINDS, POINT_KINDS

HISTORY = 20


@dataclass
class CardData:
    """Plain values for the card, read inside one service context (no ORM objects leave it)."""

    volunteer_id: int
    name: str
    number: str
    gender: str
    area_name: str
    phone: str
    active: bool
    inactive_reason: str
    star: int
    star_label: str
    hours: str
    points: int
    minutes: int = 0
    teams: list[tuple[str, str]] = field(default_factory=list)
    hours_rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    points_rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def load_card(app_ctx, volunteer_id: int) -> CardData:
    with app_ctx.service(commit=False) as ctx:
        card = svc.volunteer_card(ctx, volunteer_id, history=HISTORY)
        v = card.volunteer
        hours_rows = [(str(e.service_date), HOUR_KINDS.get(e.kind, e.kind),
                       ("+" if e.minutes > 0 else "-" if e.minutes < 0 else "") + svc.hours_text(abs(e.minutes)),
                       svc.hours_text(e.balance_after), e.reason)
                      for e in svc.hours_history(ctx, volunteer_id, limit=HISTORY)]
        points_rows = [(format_local(e.at), POINT_KINDS.get(e.kind, e.kind), _signed(e.points), str(e.balance_after),
                        e.reason) for e in card.points_history]
        return CardData(volunteer_id=v.id, name=v.name, number=v.number, gender=v.gender, area_name=card.area_name,
                        phone=mask_phone(v.phone) if v.phone else "", active=v.active,
                        inactive_reason=v.inactive_reason, star=card.star, star_label=card.star_label,
                        hours=card.hours, points=card.points, minutes=card.minutes, teams=list(card.teams), hours_rows=hours_rows,
                        points_rows=points_rows)


def _stars(level: int) -> str:
    return "★" * level + "☆" * (5 - level)


class LedgerTable(QTableWidget):
    def __init__(self, headers: list[str], parent: QWidget | None = None):
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(headers)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        for column in range(len(headers) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

    def set_rows(self, rows: list[tuple]) -> None:
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem(value)
                if c in (2, 3):
                    item.setTextAlignment(RIGHT)
                if c == len(row) - 1 and value:
                    item.setToolTip(value)
                self.setItem(r, c, item)


class VolunteerCardPanel(QFrame):
    """The selected volunteer: identity, star level, hours, points and the latest ledger entries."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("volunteer-card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.data: CardData | None = None
        self.stack = QStackedWidget(self)
        self.empty_hint = QLabel("在左侧列表中选择一名志愿者，查看服务时长与积分。", self)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setStyleSheet("color: palette(mid);")
        self.stack.addWidget(self.empty_hint)

        body = QWidget(self)
        self.name_label = QLabel(body)
        font = self.name_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.name_label.setFont(font)
        self.status_label = QLabel(body)
        self.star_badge = QLabel(body)
        self.star_badge.setStyleSheet("color: #c98a00; font-size: 15px;")
        head = QHBoxLayout()
        head.addWidget(self.name_label)
        head.addWidget(self.status_label)
        head.addStretch(1)
        head.addWidget(self.star_badge)

        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(14)
        for key, title in (("number", "志愿者编号"), ("area", "所属社区"), ("star", "星级"),
                           ("hours", "累计服务时长"), ("points", "积分余额"), ("phone", "联系电话"),
                           ("teams", "所属队伍")):
            label = QLabel(body)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(key == "teams")
            self.fields[key] = label
            form.addRow(f"{title}：", label)
        for key in ("hours", "points"):
            f = self.fields[key].font()
            f.setBold(True)
            self.fields[key].setFont(f)

        self.edit_button = QPushButton("修改…", body)
        self.edit_button.setObjectName("volunteer-edit")
        self.active_button = QPushButton("停用…", body)
        self.active_button.setObjectName("volunteer-active")
        self.adjust_button = QPushButton("调整积分…", body)
        self.adjust_button.setObjectName("volunteer-adjust")
        buttons = QHBoxLayout()
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.active_button)
        buttons.addWidget(self.adjust_button)
        buttons.addStretch(1)
        self.certificate_button = QPushButton("出具志愿服务证明…", body)
        self.certificate_button.setObjectName("volunteer-certificate")
        self.certificate_button.setToolTip("按已审核的服务记录出具编号唯一的志愿服务证明，可预览、打印和保存")
        self.certificate_button.hide()
        buttons.addWidget(self.certificate_button)
        self.tabs = QTabWidget(body)
        self.hours_table = LedgerTable(["服务日期", "类别", "时长", "累计", "说明"], body)
        self.points_table = LedgerTable(["时间", "类别", "积分", "余额", "说明"], body)
        self.tabs.addTab(self.hours_table, "服务时长记录（小时）")
        self.tabs.addTab(self.points_table, "积分记录（分）")
        self.history_note = QLabel(f"各显示最近 {HISTORY} 条；完整台账见报表中心。", body)
        self.history_note.setStyleSheet("color: palette(mid);")

        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addLayout(head)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.history_note)
        self.message = QLabel(body)
        self.message.setObjectName("card-message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        self.stack.addWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

    def show_card(self, data: CardData | None) -> None:
        self.data = data
        if data is None:
            self.stack.setCurrentIndex(0)
            return
        self.name_label.setText(data.name)
        reason = f"：{data.inactive_reason}" if data.inactive_reason else ""
        self.status_label.setText("" if data.active else f"（已停用{reason}）")
        self.star_badge.setText(_stars(data.star))
        self.star_badge.setToolTip(data.star_label)
        self.fields["number"].setText(data.number)
        self.fields["area"].setText(data.area_name)
        self.fields["star"].setText(data.star_label)
        self.fields["hours"].setText(f"{data.hours} 小时")
        self.fields["points"].setText(f"{data.points} 分")
        self.fields["phone"].setText(data.phone or "—")
        self.fields["teams"].setText("、".join(f"{t}（{r}）" for t, r in data.teams) or "—")
        self.certificate_button.setEnabled(data.minutes > 0)
        self.active_button.setText("停用…" if data.active else "恢复在册")
        self.message.clear()
        self.hours_table.set_rows(data.hours_rows)
        self.points_table.set_rows(data.points_rows)
        self.stack.setCurrentIndex(1)

    def show_message(self, text: str) -> None:
        self.data = None
        self.empty_hint.setText(text)
        self.stack.setCurrentIndex(0)
