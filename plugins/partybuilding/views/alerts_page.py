"""党员提醒: the lists a branch secretary works through — 转正 due soon, probation over but not yet
转正, 失联党员 (≥ 6 months), 流动党员, and dues arrears with the 6-months-without-dues flag. The
lists are computed on the thread pool (a fixed number of queries, however many members); double-click
opens the card."""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from reports.masking import mask_phone
from shell.ui.errors import error_text

from .. import services as svc
from .common import PlainTable
from .members import MemberCardDialog

RED = "#b00020"


@dataclass
class AlertLists:
    due: list[tuple] = field(default_factory=list)
    overdue: list[tuple] = field(default_factory=list)
    lost: list[tuple] = field(default_factory=list)
    mobile: list[tuple] = field(default_factory=list)
    arrears: list[tuple] = field(default_factory=list)   # last item: flagged
    due_days: int = 30
    flag_months: int = 6


def load_alerts(app_ctx) -> AlertLists:
    """Plain rows (member id first) read in one service context on a pool thread."""
    with app_ctx.service(commit=False) as ctx:
        s = ctx.session
        out = AlertLists(due_days=svc.setting(s, "partybuilding.probation.due_days"),
                         flag_months=svc.setting(s, "partybuilding.dues.flag_months"))
        labels = svc.org_labels(ctx)   # one query, not one lookup per member

        def label(m) -> str:
            return labels.get(m.org_id, "")

        due, overdue = svc.probation_lists(ctx)
        for target, rows in ((out.due, due), (out.overdue, overdue)):
            for m, end in rows:
                target.append((m.id, m.name, label(m), m.admitted_on,
                               f"{m.extension_months} 个月" if m.extension_months else "", end))
        for m in svc.lost_contact_members(ctx):
            out.lost.append((m.id, m.name, label(m), m.lost_contact_on, mask_phone(m.phone or "")))
        for m in svc.mobile_members(ctx):
            out.mobile.append((m.id, m.name, label(m), m.mobile_destination, m.mobile_since))
        for a in svc.arrears(ctx):
            m = a.member
            out.arrears.append((m.id, m.name, label(m), len(a.months), a.months[0], a.months[-1],
                                svc.fen_text(a.amount_fen), a.trailing, a.flagged))
        out.arrears.sort(key=lambda r: (not r[-1], -r[7], r[0]))
        return out


class AlertsPage(QWidget):
    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("partybuilding-alerts")
        self.data: AlertLists | None = None
        self.card: MemberCardDialog | None = None
        self.status = QLabel("正在统计…")
        self.status.setObjectName("pb-alerts-status")
        refresh = QPushButton("刷新")
        refresh.clicked.connect(self.refresh)
        self.tabs = QTabWidget()
        self.due = PlainTable(["姓名", "所在组织", "接收预备党员", "延长预备期", "预备期满"])
        self.overdue = PlainTable(["姓名", "所在组织", "接收预备党员", "延长预备期", "预备期满"])
        self.lost = PlainTable(["姓名", "所在组织", "失去联系日期", "联系电话"])
        self.mobile = PlainTable(["姓名", "所在组织", "外出流向", "外出日期"])
        self.arrears = PlainTable(["姓名", "所在组织", "欠交月数", "自", "至", "欠交金额（元）", "连续未交月数", "提示"],
                                  right=(2, 5, 6))
        for table in (self.due, self.overdue, self.lost, self.mobile, self.arrears):
            table.cellDoubleClicked.connect(lambda row, _c, t=table: self.open_card(t.row_data(row)))
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(refresh)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.tabs)
        lay.addWidget(QLabel("双击一行打开党员卡片，在卡片中办理转正、延长预备期或登记失联、流动情况。"))
        self.refresh()

    def refresh(self) -> None:
        from shell.ui.tasks import run_in_pool

        self.status.setText("正在统计…")
        run_in_pool(lambda: load_alerts(self.app_ctx), self._loaded)

    def _loaded(self, ok: bool, result) -> None:
        try:
            self.objectName()
        except RuntimeError:  # closed meanwhile
            return
        if not ok:
            self.status.setText("统计失败：" + error_text(result)[1])
            return
        self.show_lists(result)

    def show_lists(self, d: AlertLists) -> None:
        self.data = d
        self.tabs.clear()
        self.due.set_rows([r[1:] for r in d.due], data=[r[0] for r in d.due])
        self.overdue.set_rows([r[1:] for r in d.overdue], data=[r[0] for r in d.overdue],
                              colors=[RED] * len(d.overdue))
        self.lost.set_rows([r[1:] for r in d.lost], data=[r[0] for r in d.lost])
        self.mobile.set_rows([r[1:] for r in d.mobile], data=[r[0] for r in d.mobile])
        self.arrears.set_rows([r[1:8] + (f"连续 {d.flag_months} 个月以上未交，按规定视为自行脱党，应及时教育处理"
                                         if r[8] else "",) for r in d.arrears],
                              data=[r[0] for r in d.arrears], colors=[RED if r[8] else None for r in d.arrears])
        flagged = sum(1 for r in d.arrears if r[8])
        self.tabs.addTab(self.due, f"{d.due_days} 天内转正到期（{len(d.due)}）")
        self.tabs.addTab(self.overdue, f"预备期已满未转正（{len(d.overdue)}）")
        self.tabs.addTab(self.lost, f"失联党员（{len(d.lost)}）")
        self.tabs.addTab(self.mobile, f"流动党员（{len(d.mobile)}）")
        self.tabs.addTab(self.arrears, f"党费欠交（{len(d.arrears)}，其中连续 {d.flag_months} 个月 {flagged}）")
        self.status.setText(f"转正到期 {len(d.due)} 人，预备期已满未转正 {len(d.overdue)} 人，失联 {len(d.lost)} 人，"
                            f"流动 {len(d.mobile)} 人，欠交党费 {len(d.arrears)} 人。")

    def open_card(self, member_id: int | None) -> MemberCardDialog | None:
        if member_id is None:
            return None
        self.card = MemberCardDialog(self.app_ctx, member_id, self)
        self.card.changed.connect(self.refresh)
        self.card.show()
        return self.card


def make_page(app_ctx, parent=None):
    return AlertsPage(app_ctx, parent)
