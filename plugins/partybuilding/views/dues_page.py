"""党费收缴: one month of a branch — each member's monthly dues (from the bracket table), what was
paid, and the consecutive unpaid months with the 6-months flag; record the selected members'
payments for the month in one transaction. The sheet is read on the thread pool."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from shell.clock import local_today
from shell.errors import ValidationError
from shell.gcpause import without_gc
from shell.ui.errors import error_text
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from .common import PlainTable, date_edit, yuan_to_fen

RED = "#b00020"


class PaymentDialog(FormDialog):
    def __init__(self, app_ctx, rows: list[svc.DuesRow], month: str, today: date, parent=None):
        self.app_ctx, self.rows, self.month = app_ctx, rows, month
        names = "、".join(r.name for r in rows[:6]) + (f" 等 {len(rows)} 人" if len(rows) > 6 else "")
        super().__init__(parent, f"登记 {month} 党费", "pb-payment", ok_text="登记",
                         intro=f"{names}。金额默认按各人月党费（比例表）计算。")
        self.form.add("paid_on", "缴纳日期", date_edit(today))
        amount = QLineEdit(svc.fen_text(rows[0].monthly_fen) if len(rows) == 1 else "")
        amount.setEnabled(len(rows) == 1)
        self.form.add("amount_fen", "金额（元）", amount, hint="多人一起登记时各按应交金额")
        self.finish_layout()

    def submit(self) -> bool:
        try:
            amount = yuan_to_fen(self.form.value("amount_fen"), "amount_fen", "金额") if len(self.rows) == 1 else None
        except ValidationError as exc:
            self.form.show_errors({exc.field: exc.message})
            return False
        ids, month, paid_on = [r.member_id for r in self.rows], self.month, self.form.value("paid_on")
        # One transaction for all of them (all or nothing), tried again while another desktop holds the lock.
        ok, _ = self.call(svc.run_with_retry, self.app_ctx.session_factory, self.app_ctx.actor,
                          lambda ctx: len(svc.record_payments(ctx, ids, month, paid_on, amount)), clock=self.app_ctx.clock)
        return ok


@without_gc
def load_sheet(app_ctx, org_id: int, month: str) -> list[svc.DuesRow]:
    """The sheet as plain rows, read in its own service context on a pool thread."""
    with app_ctx.service(commit=False) as ctx:
        return svc.dues_sheet(ctx, org_id, month)


class DuesPage(QWidget):
    loaded = Signal()   # a sheet is on the screen

    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("partybuilding-dues")
        self.dialog: PaymentDialog | None = None
        self.rows: list[svc.DuesRow] = []
        self.loading = False
        self._asked = 0
        today = self.today()
        self.org = QComboBox()
        with app_ctx.service(commit=False) as ctx:
            first_branch = None
            for oid, label, kind, _level in svc.org_options(ctx, 2, 3):
                self.org.addItem(label, oid)
                if first_branch is None and kind == "branch":
                    first_branch = self.org.count() - 1
            # Dues are collected branch by branch: open on the first 党支部 (a 社区党委's whole sheet
            # is one choice away).
            if first_branch is not None:
                self.org.setCurrentIndex(first_branch)
            self.flag_months = svc.setting_value(ctx, "partybuilding.dues.flag_months")
        self.org.setMinimumWidth(300)
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(today.year)
        self.month = QSpinBox()
        self.month.setRange(1, 12)
        self.month.setValue(today.month)
        self.month.setSuffix(" 月")
        self.pay_button = QPushButton("登记所选党员本月党费…")
        self.pay_button.setObjectName("pb-pay")
        self.pay_button.clicked.connect(self.pay_selected)
        self.summary = QLabel()
        self.summary.setObjectName("pb-dues-summary")
        self.table = PlainTable(["姓名", "所在组织", "人员类别", "计缴基数（元）", "月党费（元）", "本月已交（元）",
                                 "缴纳日期", "连续未交月数", "提示"], right=(3, 4, 5, 7))
        self.table.setObjectName("pb-dues")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.itemSelectionChanged.connect(self._update_button)
        bar = QHBoxLayout()
        for w in (QLabel("党组织"), self.org, QLabel("月份"), self.year, self.month):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.pay_button)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.summary)
        lay.addWidget(self.table)
        for w in (self.org, ):
            w.currentIndexChanged.connect(lambda *_: self.refresh())
        self.year.valueChanged.connect(lambda *_: self.refresh())
        self.month.valueChanged.connect(lambda *_: self.refresh())
        self.refresh()

    def today(self) -> date:
        return local_today(self.app_ctx.clock())

    def month_text(self) -> str:
        return f"{self.year.value():04d}-{self.month.value():02d}"

    def refresh(self) -> None:
        """Read the sheet on the thread pool; an answer for an organisation or month no longer shown
        is dropped (the user may change them while a community's sheet is read)."""
        from shell.ui.tasks import run_in_pool

        org_id, month = self.org.currentData(), self.month_text()
        self._asked += 1
        asked = self._asked
        if org_id is None:
            self.show_rows([])
            return
        self.loading = True
        self.pay_button.setEnabled(False)
        self.summary.setText(f"正在读取 {month} 党费……")
        run_in_pool(lambda: load_sheet(self.app_ctx, org_id, month), lambda ok, result: self._loaded(asked, ok, result))

    def _loaded(self, asked: int, ok: bool, result) -> None:
        try:
            self.objectName()
        except RuntimeError:  # the page was closed meanwhile
            return
        if asked != self._asked:
            return
        if not ok:
            self.loading = False
            self.rows = []
            self.table.set_rows([])
            self.summary.setText("读取党费失败：" + error_text(result)[1])
            self._update_button()
            return
        self.show_rows(result)

    def show_rows(self, rows: list[svc.DuesRow]) -> None:
        self.loading = False
        self.rows = sorted(rows, key=lambda r: (r.paid_fen is not None, not r.flagged, r.org_label, r.name))
        f = self.flag_months
        self.table.set_rows([(r.name, r.org_label, r.category, svc.fen_text(r.base_fen), svc.fen_text(r.monthly_fen),
                              svc.fen_text(r.paid_fen) if r.paid_fen is not None else "未交", r.paid_on or "",
                              r.trailing or "", f"连续 {f} 个月以上未交党费" if r.flagged else "")
                             for r in self.rows], data=[r.member_id for r in self.rows],
                            colors=[RED if r.flagged else None for r in self.rows])
        paid = [r for r in self.rows if r.paid_fen is not None]
        flagged = sum(1 for r in self.rows if r.flagged)
        self.summary.setText(f"{self.month_text()}：应交 {len(self.rows)} 人，已交 {len(paid)} 人 "
                             f"{svc.fen_text(sum(r.paid_fen for r in paid))} 元，未交 {len(self.rows) - len(paid)} 人；"
                             f"连续 {f} 个月以上未交 {flagged} 人。")
        self._update_button()
        self.loaded.emit()

    def selected_rows(self) -> list[svc.DuesRow]:
        picked = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.rows[r] for r in picked if self.rows[r].paid_fen is None]

    def _update_button(self) -> None:
        self.pay_button.setEnabled(self.app_ctx.actor.can(svc.DUES) and not self.loading and bool(self.selected_rows()))

    def pay_selected(self) -> PaymentDialog | None:
        rows = self.selected_rows()
        if not rows:
            return None
        self.dialog = PaymentDialog(self.app_ctx, rows, self.month_text(), self.today(), self)
        self.dialog.accepted.connect(self.refresh)
        self.dialog.open()
        return self.dialog


def make_page(app_ctx, parent=None):
    return DuesPage(app_ctx, parent)
