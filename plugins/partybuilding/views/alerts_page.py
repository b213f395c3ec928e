"""党员提醒: the lists a branch secretary works through — 转正 due soon, probation over but not yet
转正, 失联党员 (≥ 6 months), 流动党员, and dues arrears with the 6-months-without-dues flag. The
lists are computed on the thread pool (a fixed number of queries, however many members); double-click
opens the card."""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from reports.masking import mask_phone
from shell.gcpause import without_gc
from shell.ui.errors import error_text

from .. import services as svc
from .common import PlainTable
from .member_card import MemberCardDialog

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


@without_gc
def load_lists(app_ctx) -> AlertLists:
    """The short lists (转正, 失联, 流动) as plain rows (member id first), on a pool thread."""
    with app_ctx.service(commit=False) as ctx:
        out = AlertLists(due_days=svc.setting_value(ctx, "partybuilding.probation.due_days"),
                         flag_months=svc.setting_value(ctx, "partybuilding.dues.flag_months"))
        due, overdue = svc.probation_lists(ctx)
        lost, mobile = svc.lost_contact_members(ctx), svc.mobile_members(ctx)
        # The names of these members' organisations only (not the street's 2,000).
        labels = svc.org_labels_for(ctx, [m.org_id for m, _e in due + overdue] + [m.org_id for m in lost + mobile])

        def label(m) -> str:
            return labels.get(m.org_id, "")

        for target, rows in ((out.due, due), (out.overdue, overdue)):
            for m, end in rows:
                target.append((m.id, m.name, label(m), m.admitted_on,
                               f"{m.extension_months} 个月" if m.extension_months else "", end))
        for m in lost:
            out.lost.append((m.id, m.name, label(m), m.lost_contact_on, mask_phone(m.phone or "")))
        for m in mobile:
            out.mobile.append((m.id, m.name, label(m), m.mobile_destination, m.mobile_since))
        return out


@without_gc
def load_arrears(app_ctx) -> list[tuple]:
    """Dues arrears of every member in scope (the long one: set-based, but every member's ledger)."""
    with app_ctx.service(commit=False) as ctx:
        arrears = svc.arrears(ctx)
        labels = svc.org_labels_for(ctx, [a.member.org_id for a in arrears])
        out = []
        for a in arrears:
            m = a.member
            out.append((m.id, m.name, labels.get(m.org_id, ""), len(a.months), a.months[0], a.months[-1],
                        svc.fen_text(a.amount_fen), a.trailing, a.flagged))
        out.sort(key=lambda r: (not r[-1], -r[7], r[0]))
        return out


def load_alerts(app_ctx) -> AlertLists:
    """Every list at once (for callers outside the page)."""
    out = load_lists(app_ctx)
    out.arrears = load_arrears(app_ctx)
    return out


# The tab of each probation list (show_filtered).
PROBATION_TABS = {"due": 0, "overdue": 1}


class AlertsPage(QWidget):
    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("partybuilding-alerts")
        self.data: AlertLists | None = None
        self.arrears_loaded = False
        self.card: MemberCardDialog | None = None
        self.wanted_tab: int | None = None   # from 我的待办: the list to show once counted
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

    def show_filtered(self, probation: str = "due") -> None:
        """From 我的待办: the 转正到期 ("due") or 预备期已满未转正 ("overdue") list, counted afresh;
        the other lists stay one tab away."""
        self.wanted_tab = PROBATION_TABS.get(probation, 0)
        if self.tabs.count():
            self.tabs.setCurrentIndex(self.wanted_tab)
        self.refresh()

    def refresh(self) -> None:
        """The short lists first (they show at once), then the arrears of every member; both on the
        thread pool. An answer to an earlier refresh is dropped."""
        from shell.ui.tasks import run_in_pool

        self._asked = getattr(self, "_asked", 0) + 1
        asked = self._asked
        self.arrears_loaded = False
        self.status.setText("正在统计…")
        run_in_pool(lambda: load_lists(self.app_ctx), lambda ok, result: self._loaded(asked, ok, result))

    def _alive(self, asked: int) -> bool:
        try:
            self.objectName()
        except RuntimeError:  # closed meanwhile
            return False
        return asked == self._asked

    def _loaded(self, asked: int, ok: bool, result) -> None:
        from shell.ui.tasks import run_in_pool

        if not self._alive(asked):
            return
        if not ok:
            self.status.setText("统计失败：" + error_text(result)[1])
            return
        self.show_lists(result)
        run_in_pool(lambda: load_arrears(self.app_ctx), lambda ok, rows: self._arrears_loaded(asked, ok, rows))

    def _arrears_loaded(self, asked: int, ok: bool, result) -> None:
        if not self._alive(asked):
            return
        if not ok:
            self.status.setText("党费欠交统计失败：" + error_text(result)[1])
            return
        self.show_arrears(result)

    def show_lists(self, d: AlertLists) -> None:
        self.data = d
        if self.tabs.count() == 0:   # once: adding a filled table to a shown tab widget lays it out again
            for table in (self.due, self.overdue, self.lost, self.mobile, self.arrears):
                self.tabs.addTab(table, "")
        if self.wanted_tab is not None:
            self.tabs.setCurrentIndex(self.wanted_tab)
            self.wanted_tab = None
        self.due.set_rows([r[1:] for r in d.due], data=[r[0] for r in d.due])
        self.overdue.set_rows([r[1:] for r in d.overdue], data=[r[0] for r in d.overdue],
                              colors=[RED] * len(d.overdue))
        self.lost.set_rows([r[1:] for r in d.lost], data=[r[0] for r in d.lost])
        self.mobile.set_rows([r[1:] for r in d.mobile], data=[r[0] for r in d.mobile])
        for i, text in enumerate((f"{d.due_days} 天内转正到期（{len(d.due)}）", f"预备期已满未转正（{len(d.overdue)}）",
                                  f"失联党员（{len(d.lost)}）", f"流动党员（{len(d.mobile)}）", "党费欠交（正在统计…）")):
            self.tabs.setTabText(i, text)
        if d.arrears:
            self.show_arrears(d.arrears)
        else:
            self._status()

    def show_arrears(self, rows: list[tuple]) -> None:
        d = self.data
        d.arrears = rows
        self.arrears.set_rows([r[1:8] + (f"连续 {d.flag_months} 个月以上未交，按规定视为自行脱党，应及时教育处理"
                                         if r[8] else "",) for r in rows],
                              data=[r[0] for r in rows], colors=[RED if r[8] else None for r in rows])
        flagged = sum(1 for r in rows if r[8])
        self.tabs.setTabText(self.tabs.indexOf(self.arrears),
                             f"党费欠交（{len(rows)}，其中连续 {d.flag_months} 个月 {flagged}）")
        self.arrears_loaded = True
        self._status()

    def _status(self) -> None:
        d = self.data
        arrears = f"欠交党费 {len(d.arrears)} 人。" if self.arrears_loaded else "党费欠交正在统计…"
        self.status.setText(f"转正到期 {len(d.due)} 人，预备期已满未转正 {len(d.overdue)} 人，失联 {len(d.lost)} 人，"
                            f"流动 {len(d.mobile)} 人，{arrears}")

    def open_card(self, member_id: int | None) -> MemberCardDialog | None:
        if member_id is None:
            return None
        self.card = MemberCardDialog(self.app_ctx, member_id, self)
        self.card.changed.connect(self.refresh)
        self.card.show()
        return self.card


def make_page(app_ctx, parent=None):
    return AlertsPage(app_ctx, parent)
