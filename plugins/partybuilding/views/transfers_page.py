"""组织关系转接: the year's letters and registrations; issue an outgoing letter (its number is handed
out by the database counter and never reused), register an incoming member, record the receipt
(回执), cancel a letter, list overdue receipts, and print the three-part letter through the report
engine."""
from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget

from shell.clock import local_today
from shell.errors import ValidationError
from shell.ui.errors import show_error
from shell.ui.widgets import SearchBox
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from .common import PlainTable, Refused, attempt, date_edit, optional_date_edit, parse_date, print_report

RED = "#b00020"


def org_choices(app_ctx, min_level: int = 2) -> list[tuple[int, str]]:
    with app_ctx.service(commit=False) as ctx:
        return [(oid, label) for oid, label, _kind, _level in svc.org_options(ctx, min_level)]


class MemberPicker(QWidget):
    """Type a name, initials or ID digits; pick from the matching party members on the rolls."""

    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.search = SearchBox(self, placeholder="姓名、拼音或身份证号后几位")
        self.choice = QComboBox(self)
        self.choice.setMinimumWidth(260)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.search, 1)
        lay.addWidget(self.choice, 2)
        self.search.search.connect(self.find)

    def find(self, text: str) -> None:
        self.choice.clear()
        if not text.strip():
            return
        with self.app_ctx.service(commit=False) as ctx:
            found = svc.list_members(ctx, text=text, stages=("probationary", "full"), limit=30)
            labels = svc.org_labels_for(ctx, [m.org_id for m in found])
            for m in found:
                self.choice.addItem(f"{m.name}（{labels.get(m.org_id, '')}，身份证后四位 {m.id_number[-4:]}）", m.id)

    def member_id(self) -> int | None:
        return self.choice.currentData()


class IssueDialog(FormDialog):
    def __init__(self, app_ctx, today: date, parent=None):
        self.app_ctx = app_ctx
        self.transfer_id: int | None = None
        super().__init__(parent, "开具组织关系介绍信", "pb-issue-letter", ok_text="开具",
                         intro="编号由系统按年度顺序生成，作废的介绍信编号也不再使用。转到本街道其他党组织的，选择“接收党组织（本街道）”。")
        with app_ctx.service(commit=False) as ctx:
            max_days = svc.setting_value(ctx, "partybuilding.transfer.max_valid_days")
        f = self.form
        f.add("member_id", "党员", MemberPicker(app_ctx), required=False)
        f.add("destination", "接收党组织", QLineEdit(), required=True, hint="介绍信抬头，如“中共某某社区委员会”")
        inside = QComboBox()
        inside.addItem("（外单位）", None)
        for oid, label in org_choices(app_ctx):
            inside.addItem(label, oid)
        f.add("to_org_id", "接收党组织（本街道）", inside)
        f.add("on", "开具日期", date_edit(today))
        days = QSpinBox()
        days.setRange(1, 365)
        days.setValue(max_days)
        days.setSuffix(" 天")
        f.add("valid_days", "有效期", days)
        f.add("dues_paid_to", "党费交至", QLineEdit(), hint="如 2026-10；空 = 按党费台账最后缴纳月份")
        f.add("reason", "转接原因", QLineEdit())
        self.finish_layout()
        inside.currentIndexChanged.connect(self._inside_changed)

    def _inside_changed(self) -> None:
        combo = self.form.fields["to_org_id"]
        if combo.currentData() is not None:
            self.form.fields["destination"].setText(combo.currentText().split(" / ")[-1])

    def submit(self) -> bool:
        f = self.form
        picker: MemberPicker = f.fields["member_id"]
        if picker.member_id() is None:
            f.show_errors({"member_id": "请先输入姓名查找并选择党员。"})
            return False
        args = dict(member_id=picker.member_id(), destination=f.value("destination"), on=f.value("on"),
                    dues_paid_to=f.value("dues_paid_to") or None, valid_days=f.value("valid_days"),
                    reason=f.value("reason"), to_org_id=f.value("to_org_id"))

        def issue(ctx):
            t = svc.issue_transfer_letter(ctx, **args)
            return t.id, t.letter_number

        # Its own transaction, tried again while another desktop holds the letter counter.
        ok, issued = self.call(svc.run_with_retry, self.app_ctx.session_factory, self.app_ctx.actor, issue,
                               clock=self.app_ctx.clock)
        if ok:
            self.transfer_id, self.letter_number = issued
        return ok


class IncomingDialog(FormDialog):
    def __init__(self, app_ctx, today: date, parent=None):
        self.app_ctx = app_ctx
        self.transfer_id: int | None = None
        super().__init__(parent, "登记转入党员", "pb-incoming", ok_text="登记",
                         intro="凭转入介绍信登记。已在本系统登记过的人员（同一身份证号）恢复在册，不重复建档。")
        f = self.form
        orgs = QComboBox()
        for oid, label in org_choices(app_ctx):
            orgs.addItem(label, oid)
        f.add("org_id", "编入党组织", orgs)
        f.add("origin", "转出党组织", QLineEdit(), required=True)
        f.add("letter_number", "介绍信编号", QLineEdit(), required=True)
        f.add("on", "接收日期", date_edit(today))
        f.add("dues_paid_to", "党费交至", QLineEdit(), hint="如 2026-10，以介绍信为准")
        f.add("name", "姓名", QLineEdit(), required=True)
        f.add("id_number", "公民身份号码", QLineEdit(), required=True)
        stage = QComboBox()
        stage.addItem("正式党员", "full")
        stage.addItem("预备党员", "probationary")
        f.add("stage", "党员类别", stage)
        f.add("admitted_on", "加入党组织日期", optional_date_edit())
        f.add("full_on", "转为正式党员日期", optional_date_edit())
        f.add("phone", "联系电话", QLineEdit())
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form
        try:
            admitted = parse_date(f.value("admitted_on"), "admitted_on", "加入党组织日期")
            full = parse_date(f.value("full_on"), "full_on", "转为正式党员日期")
        except ValidationError as exc:
            f.show_errors({exc.field: exc.message})
            return False
        fields = dict(name=f.value("name"), id_number=f.value("id_number"), stage=f.value("stage"),
                      admitted_on=admitted, phone=f.value("phone") or None)
        if f.value("stage") == "full":
            fields["full_on"] = full
        with attempt(self.app_ctx) as ctx:
            ok, t = self.call(svc.register_incoming, ctx, org_id=f.value("org_id"), origin=f.value("origin"),
                              letter_number=f.value("letter_number"), on=f.value("on"),
                              dues_paid_to=f.value("dues_paid_to") or None, **fields)
            if not ok:
                raise Refused
            self.transfer_id = t.id
        return ok


class ReceiptDialog(FormDialog):
    def __init__(self, app_ctx, transfer_id: int, number: str, today: date, parent=None):
        self.app_ctx, self.transfer_id = app_ctx, transfer_id
        super().__init__(parent, f"登记回执：{number}", "pb-receipt", ok_text="登记回执")
        self.form.add("receipt_on", "回执收到日期", date_edit(today))
        self.finish_layout()

    def submit(self) -> bool:
        with attempt(self.app_ctx) as ctx:
            ok, _ = self.call(svc.record_receipt, ctx, self.transfer_id, self.form.value("receipt_on"))
            if not ok:
                raise Refused
        return ok


class CancelLetterDialog(FormDialog):
    def __init__(self, app_ctx, transfer_id: int, number: str, parent=None):
        self.app_ctx, self.transfer_id = app_ctx, transfer_id
        super().__init__(parent, f"作废介绍信：{number}", "pb-cancel-letter", ok_text="作废",
                         intro="作废后党员回到原党组织；此编号保留在登记簿中，不再使用。")
        self.form.add("reason", "作废原因", QLineEdit(), required=True)
        self.finish_layout()

    def submit(self) -> bool:
        with attempt(self.app_ctx) as ctx:
            ok, _ = self.call(svc.cancel_letter, ctx, self.transfer_id, self.form.value("reason"))
            if not ok:
                raise Refused
        return ok


class TransfersPage(QWidget):
    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("partybuilding-transfers")
        self.dialog: FormDialog | None = None
        self.rows: list[dict] = []
        today = self.today()
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(today.year)
        # What the list shows: the chosen year's letters, or the receipts still owed (every year).
        self.show_mode = QComboBox()
        self.show_mode.setObjectName("pb-transfer-show")
        for label, code in (("本年度全部", "year"), ("待收回执（各年度）", "awaiting"), ("回执逾期（各年度）", "overdue")):
            self.show_mode.addItem(label, code)
        self.summary = QLabel()
        self.summary.setObjectName("pb-transfer-summary")
        self.issue_button = QPushButton("开具介绍信…")
        self.incoming_button = QPushButton("登记转入…")
        self.receipt_button = QPushButton("登记回执…")
        self.cancel_button = QPushButton("作废…")
        self.print_button = QPushButton("打印介绍信")
        self.issue_button.clicked.connect(lambda: self._open(IssueDialog(app_ctx, self.today(), self)))
        self.incoming_button.clicked.connect(lambda: self._open(IncomingDialog(app_ctx, self.today(), self)))
        self.receipt_button.clicked.connect(self.receipt_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.print_button.clicked.connect(self.print_selected)
        can = app_ctx.actor.can(svc.TRANSFER)
        for b in (self.issue_button, self.incoming_button, self.receipt_button, self.cancel_button, self.print_button):
            b.setEnabled(can)
        self.table = PlainTable(["类别", "介绍信编号", "姓名", "转出党组织", "接收党组织", "日期", "有效期",
                                 "党费交至", "回执应退回", "回执日期", "状态"], right=(6,))
        self.table.setObjectName("pb-transfers")
        self.table.itemSelectionChanged.connect(self._update_buttons)
        bar = QHBoxLayout()
        for w in (QLabel("年度"), self.year, QLabel("显示"), self.show_mode):
            bar.addWidget(w)
        bar.addStretch(1)
        for b in (self.issue_button, self.incoming_button, self.receipt_button, self.cancel_button, self.print_button):
            bar.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.summary)
        lay.addWidget(self.table)
        self.year.valueChanged.connect(lambda *_: self.refresh())
        self.show_mode.currentIndexChanged.connect(lambda *_: self.refresh())
        self.refresh()

    def today(self) -> date:
        return local_today(self.app_ctx.clock())

    def _open(self, dialog: FormDialog) -> None:
        self.dialog = dialog
        dialog.accepted.connect(self.refresh)
        dialog.open()

    def show_filtered(self, receipts: str = "awaiting") -> None:
        """From 我的待办: the receipts still owed ("awaiting") or past due ("overdue"), every year;
        the 显示 box shows it, and 本年度全部 returns to the year's list."""
        index = self.show_mode.findData(receipts)
        self.show_mode.blockSignals(True)
        self.show_mode.setCurrentIndex(max(index, 0))
        self.show_mode.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        y = self.year.value()
        today = self.today()
        mode = self.show_mode.currentData()
        self.year.setEnabled(mode == "year")
        with self.app_ctx.service(commit=False) as ctx:
            awaiting = svc.awaiting_receipts(ctx)
            overdue = [t for t in awaiting if svc.receipt_overdue(t, today)]
            overdue_ids = {t.id for t in overdue}
            if mode == "overdue":
                items = overdue   # every year: an old receipt is still owed
            elif mode == "awaiting":
                items = awaiting
            else:
                items = svc.list_transfers(ctx, date(y, 1, 1), date(y, 12, 31))
            # Names of the organisations in one query (not a lookup per letter and per parent).
            labels = {oid: label for oid, label, _k, _l in svc.org_options(ctx, include_dissolved=True)}
            rows = []
            for t in items:
                out = t.direction == "out"
                status = "回执逾期" if t.id in overdue_ids else svc.TRANSFER_STATUS.get(t.status, t.status)
                rows.append(dict(id=t.id, out=out, status=t.status, number=t.letter_number or t.other_letter_number or "",
                                 cells=("转出" if out else "转入", t.letter_number or t.other_letter_number or "",
                                        t.member.name, labels.get(t.from_org_id, "") if out else t.other_party,
                                        (labels.get(t.to_org_id, "") if t.to_org_id else t.other_party) if out
                                        else labels.get(t.to_org_id, ""),
                                        t.issued_on, f"{t.valid_days} 天" if t.valid_days else "", t.dues_paid_to or "",
                                        t.receipt_due_on or "", t.receipt_on or "", status),
                                 overdue=t.id in overdue_ids))
            n_out = sum(1 for r in rows if r["out"])
        self.rows = rows
        self.table.set_rows([r["cells"] for r in rows], data=[r["id"] for r in rows],
                            colors=[RED if r["overdue"] else None for r in rows])
        if mode == "year":
            self.summary.setText(f"{y} 年转出 {n_out} 人、转入 {len(rows) - n_out} 人；"
                                 f"回执逾期 {len(overdue_ids)} 份（各年度合计）。")
        else:
            self.summary.setText(f"待收回执 {len(awaiting)} 份，其中回执逾期 {len(overdue_ids)} 份（各年度合计）。"
                                 "选“本年度全部”看全年的转接。")
        self._update_buttons()

    def selected(self) -> dict | None:
        row = self.table.currentRow()
        if row < 0 or row >= len(self.rows) or not self.table.selectionModel().hasSelection():
            return None
        return self.rows[row]

    def select_transfer(self, transfer_id: int) -> None:
        for i, r in enumerate(self.rows):
            if r["id"] == transfer_id:
                self.table.selectRow(i)
                return

    def _update_buttons(self) -> None:
        r = self.selected()
        can = self.app_ctx.actor.can(svc.TRANSFER)
        issued = r is not None and r["out"] and r["status"] == "issued"
        self.receipt_button.setEnabled(can and issued)
        self.cancel_button.setEnabled(can and issued)
        self.print_button.setEnabled(can and r is not None and r["out"])

    def receipt_selected(self) -> None:
        r = self.selected()
        if r is not None:
            self._open(ReceiptDialog(self.app_ctx, r["id"], r["number"], self.today(), self))

    def cancel_selected(self) -> None:
        r = self.selected()
        if r is not None:
            self._open(CancelLetterDialog(self.app_ctx, r["id"], r["number"], self))

    def print_selected(self, on_ready=None):
        r = self.selected()
        if r is None or not r["out"]:
            return None
        try:
            return print_report(self, self.app_ctx, "partybuilding.transfer_letter", {"transfer": r["id"]},
                                f"组织关系介绍信-{r['number']}", on_ready=on_ready)
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc)
            return None


def make_page(app_ctx, parent=None):
    return TransfersPage(app_ctx, parent)
