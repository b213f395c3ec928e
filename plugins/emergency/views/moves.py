"""入库 / 出库 / 调拨 / 调整 dialogs of the 应急物资 page. Both start from an item code field made for barcode
scanners: a 7-digit GB/T 38565 code followed by Enter looks the item up and shows its name, spec and
unit (or "找不到编码为…的物资"). 入库 books one delivery with services.receive; 出库 shows the
first-expiry-first-out suggestion of services.suggest_fefo (which batches, how many) and books it with
services.issue_fefo. Each save is one transaction: on any error nothing is written and the message
stays in the dialog, next to the field it is about. 调拨 and 调整 (batch_moves.py) act on the batch
selected on the page; a move is never edited."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.errors import JiedaoError, ValidationError
from shell.ui.errors import confirm
from shell.ui.widgets import Form
from shell.ui.widgets.form import field_errors

from .. import services as svc

MAX_QTY = 999_999
HINT_STYLE = "color: #777;"


def item_text(item) -> str:
    spec = f"　{item.spec}" if item.spec else ""
    return f"{item.name}{spec}（单位：{item.unit}）"


class OptionalDate(QWidget):
    """A date that may be left out: a check box switches the date editor on."""

    def __init__(self, label: str, today: date, parent: QWidget | None = None):
        super().__init__(parent)
        self.check = QCheckBox(label, self)
        self.edit = QDateEdit(self)
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd")
        self.edit.setDate(QDate(today.year, today.month, today.day))
        self.edit.setEnabled(False)
        self.check.toggled.connect(self.edit.setEnabled)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.check)
        row.addWidget(self.edit)
        row.addStretch(1)

    def value(self) -> date | None:
        return self.edit.date().toPython() if self.check.isChecked() else None

    def set_value(self, value: date | None) -> None:
        self.check.setChecked(value is not None)
        if value is not None:
            self.edit.setDate(QDate(value.year, value.month, value.day))


class MoveDialog(QDialog):
    """Common part: warehouse line, item code lookup, inline errors. Subclasses add their fields."""

    item_changed = Signal()
    ACTION = ""

    def __init__(self, app_ctx, warehouse_id: int, warehouse_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.warehouse_id = warehouse_id
        self.warehouse_name = warehouse_name
        self.item: svc.ItemChoice | None = None   # the item found for the code
        self.form = Form(self)
        f = self.form
        wh = QLabel(warehouse_name, self)
        wh.setStyleSheet("font-weight: bold;")
        f.add("warehouse_id", "仓库", wh)
        self.code = QLineEdit(self)
        self.code.setObjectName("item-code")
        self.code.setMaxLength(20)
        self.code.setPlaceholderText("扫码或输入 7 位物资编码后按回车")
        f.add("code", "物资编码", self.code, required=True)
        self.item_choice = QComboBox(self)   # only when several catalogue entries share one code
        self.item_choice.hide()
        self.item_label = QLabel("—", self)
        self.item_label.setObjectName("item-info")
        self.item_label.setWordWrap(False)      # a wrapped label in a form row is measured too short
        item_box = QWidget(self)
        col = QVBoxLayout(item_box)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.item_choice)
        col.addWidget(self.item_label)
        f.add("item_id", "物资", item_box)
        self.code.installEventFilter(self)
        self.code.textEdited.connect(lambda _t: self.set_item(None))
        self.item_choice.currentIndexChanged.connect(self._choose)
        self._matches: list = []

    # --- item lookup ------------------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # Qt API
        # Enter in the code field (typed, or sent by a scanner) looks the item up and is consumed
        # here, so it never reaches the dialog's default button.
        if watched is self.code and event.type() == QEvent.Type.KeyPress and \
                event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.lookup()
            return True
        return super().eventFilter(watched, event)

    def lookup(self) -> bool:
        """Find the item for the code typed or scanned; True when one is selected."""
        text = self.code.text().strip()
        self.form.clear_errors()
        try:
            with self.app_ctx.service(commit=False) as ctx:
                found = svc.item_choices(ctx, text)
        except ValidationError as exc:
            self.set_item(None)
            self.form.show_errors({"code": exc.message})
            return False
        except JiedaoError as exc:
            self.set_item(None)
            self.form.show_errors({None: exc.message})
            return False
        if not found:
            self.set_item(None)
            self.form.show_errors({"code": f"找不到编码为“{text}”的物资，请核对编码或先在物资目录中登记。"})
            return False
        self.code.setText(text)
        self._matches = found
        self.item_choice.blockSignals(True)
        self.item_choice.clear()
        for item in found:
            self.item_choice.addItem(f"{item.name} {item.spec}".strip(), item.id)
        self.item_choice.setCurrentIndex(0)
        self.item_choice.blockSignals(False)
        self.item_choice.setVisible(len(found) > 1)
        self.set_item(found[0])
        self.after_lookup()
        return True

    def _choose(self, index: int) -> None:
        if 0 <= index < len(self._matches):
            self.set_item(self._matches[index])

    def set_item(self, item) -> None:
        if item is None and self.item is None:
            return
        self.item = item
        if item is None:
            self._matches = []
            self.item_choice.hide()
            self.item_label.setText("—")
            self.item_label.setStyleSheet("")
        else:
            self.item_label.setText(item_text(item))
            self.item_label.setStyleSheet("color: #1e6b34;")
        self.item_changed.emit()

    def after_lookup(self) -> None:
        """Where the cursor goes once the item is known."""

    def ensure_item(self) -> bool:
        return self.item is not None or self.lookup()

    def show_error(self, exc: JiedaoError) -> None:
        if isinstance(exc, ValidationError):
            self.form.show_errors(field_errors(exc))   # all of a validator's errors, each beside its field
        else:
            self.form.show_errors({None: exc.message})

    def _buttons(self, ok_text: str) -> QDialogButtonBox:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.save)  # each dialog (receive / issue) defines its own save()
        buttons.rejected.connect(self.reject)
        return buttons


class ReceiveDialog(MoveDialog):
    """入库: one delivery of one item into one batch (new or existing) of the current warehouse."""

    def __init__(self, app_ctx, warehouse_id: int, warehouse_name: str, parent: QWidget | None = None):
        super().__init__(app_ctx, warehouse_id, warehouse_name, parent)
        self.setObjectName("emergency-receive-dialog")
        self.setWindowTitle(f"物资入库 — {warehouse_name}")
        self.saved_move = None
        today = app_ctx.clock().date()
        f = self.form
        self.batch_no = QLineEdit(self)
        self.batch_no.setMaxLength(50)
        self.batch_no.setPlaceholderText("如 2026-06-A；已有批次号则并入该批次")
        f.add("batch_no", "批次号", self.batch_no, required=True)
        self.production_date = OptionalDate("填写生产日期", today, self)
        f.add("production_date", "生产日期", self.production_date)
        self.expiry_date = OptionalDate("有保质期", today, self)
        f.add("expiry_date", "有效期至", self.expiry_date, hint="没有保质期的物资（如帐篷、水泵）不勾选")
        self.qty = QSpinBox(self)
        self.qty.setRange(1, MAX_QTY)
        self.qty.setMinimumWidth(120)
        f.add("qty", "入库数量", self.qty, required=True)
        self.party = QLineEdit(self)
        self.party.setMaxLength(100)
        self.party.setPlaceholderText("供货单位、捐赠单位或调入来源")
        f.add("party", "来源/供货单位", self.party)
        self.note = QLineEdit(self)
        self.note.setMaxLength(200)
        f.add("note", "备注", self.note)
        self.item_changed.connect(self._unit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self._buttons("入库"))
        self.setMinimumWidth(520)
        self.code.setFocus()

    def _unit(self) -> None:
        self.qty.setSuffix(f" {self.item.unit}" if self.item is not None else "")

    def after_lookup(self) -> None:
        self.batch_no.setFocus()

    def save(self) -> None:
        self.form.clear_errors()
        if not self.ensure_item():
            return
        missing = self.form.missing_required()
        missing.pop("code", None)
        if missing:
            self.form.show_errors(missing)
            return
        try:
            with self.app_ctx.service() as ctx:
                self.saved_move = svc.receive(ctx, self.warehouse_id, self.item.id, self.qty.value(), self.batch_no.text(),
                                        self.production_date.value(), self.expiry_date.value(),
                                        party=self.party.text(), note=self.note.text())
        except JiedaoError as exc:
            self.show_error(exc)
            return
        self.accept()


class IssueDialog(MoveDialog):
    """出库: the quantity of one item, taken from the batches that expire first (FEFO)."""

    SUGGEST_COLUMNS = ("批次号", "有效期至", "现有", "本次出库", "出库后")

    def __init__(self, app_ctx, warehouse_id: int, warehouse_name: str, parent: QWidget | None = None):
        super().__init__(app_ctx, warehouse_id, warehouse_name, parent)
        self.setObjectName("emergency-issue-dialog")
        self.setWindowTitle(f"物资出库 — {warehouse_name}")
        self.moves: list = []
        self.suggestion: list[svc.Allocation] = []
        f = self.form
        self.qty = QSpinBox(self)
        self.qty.setRange(1, MAX_QTY)
        self.qty.setMinimumWidth(120)
        f.add("qty", "出库数量", self.qty, required=True)
        self.party = QLineEdit(self)
        self.party.setMaxLength(100)
        self.party.setPlaceholderText("领用单位或领用人")
        f.add("party", "领用单位/人", self.party)
        self.note = QLineEdit(self)
        self.note.setMaxLength(200)
        self.note.setPlaceholderText("用途，如 防汛抢险")
        f.add("note", "备注", self.note)

        self.suggest_title = QLabel("出库建议（先到期先出）", self)
        self.suggest_title.setStyleSheet("font-weight: bold;")
        self.table = QTableWidget(0, len(self.SUGGEST_COLUMNS), self)
        self.table.setObjectName("fefo-suggestion")
        self.table.setHorizontalHeaderLabels(self.SUGGEST_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(130)
        self.suggest_label = QLabel(self)
        self.suggest_label.setObjectName("fefo-text")
        self.suggest_label.setWordWrap(True)
        self.expired_label = QLabel(self)
        self.expired_label.setObjectName("fefo-expired")
        self.expired_label.setWordWrap(True)
        self.expired_label.setStyleSheet("color: #a04000;")
        self.expired_label.hide()

        self.item_changed.connect(self.refresh_suggestion)
        self.qty.valueChanged.connect(lambda _v: self.refresh_suggestion())
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addSpacing(6)
        layout.addWidget(self.suggest_title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.suggest_label)
        layout.addWidget(self.expired_label)
        layout.addWidget(self._buttons("确认出库"))
        self.setMinimumWidth(560)
        self.refresh_suggestion()
        self.code.setFocus()

    def after_lookup(self) -> None:
        self.qty.setFocus()
        self.qty.selectAll()

    # --- the FEFO suggestion ----------------------------------------------------------------------
    def _show(self, allocations: list[svc.Allocation]) -> None:
        self.suggestion = list(allocations)
        self.table.setRowCount(len(allocations))
        for r, a in enumerate(allocations):
            values = (a.batch_no, a.expiry_date.isoformat() if a.expiry_date else "无保质期", str(a.available),
                      str(a.take), str(a.available - a.take))
            for c, text in enumerate(values):
                cell = QTableWidgetItem(text)
                cell.setTextAlignment((Qt.AlignmentFlag.AlignRight if c >= 2 else Qt.AlignmentFlag.AlignCenter)
                                      | Qt.AlignmentFlag.AlignVCenter)
                if c == 3:
                    font = cell.font()
                    font.setBold(True)
                    cell.setFont(font)
                self.table.setItem(r, c, cell)
        self.ok_button.setEnabled(bool(allocations))

    def suggestion_text(self) -> str:
        if not self.suggestion or self.item is None:
            return ""
        unit = self.item.unit
        parts = "，".join(f"批次 {a.batch_no} 出 {a.take}{unit}" for a in self.suggestion)
        return f"共出库 {sum(a.take for a in self.suggestion)}{unit}：{parts}。"

    def refresh_suggestion(self) -> None:
        """Ask suggest_fefo for the current item and quantity; a shortage shows at the quantity."""
        self._show([])
        self.form.errors["qty"].hide()
        self.expired_label.hide()
        expired = 0
        if self.item is None:
            self.suggest_label.setText("输入物资编码并按回车后，这里列出建议出库的批次。")
            self.suggest_label.setStyleSheet(HINT_STYLE)
            return
        try:
            with self.app_ctx.service(commit=False) as ctx:
                expired = sum(b.qty for b in svc.batches(ctx, self.warehouse_id, self.item.id)
                              if svc.is_expired(b, ctx.today()))
                allocations = svc.suggest_fefo(ctx, self.warehouse_id, self.item.id, self.qty.value())
        except JiedaoError as exc:
            self.suggest_label.setText("")
            self.show_error(exc)
        else:
            self._show(allocations)
            self.suggest_label.setText(self.suggestion_text())
            self.suggest_label.setStyleSheet("")
        if expired:
            self.expired_label.setText(f"另有已过期 {expired}{self.item.unit} 不能发放，请按“过期报废”做库存调整。")
            self.expired_label.show()

    def save(self) -> None:
        self.form.clear_errors()
        if not self.ensure_item():
            return
        shown = list(self.suggestion)
        party = self.party.text().strip()
        # 出库 cannot be undone (only corrected by an adjustment): the keeper confirms what leaves (with
        # no suggestion the service refuses with its own message: nothing to ask)
        if shown and not confirm(self, "确认出库", f"从“{self.warehouse_name}”出库{self.item.name}："
                                        f"{self.suggestion_text()}\n领用单位/人：{party or '（未填写）'}。"
                                        "\n\n出库后库存立即减少，不能撤销，差错只能做库存调整。"):
            return
        try:
            with self.app_ctx.service() as ctx:
                if svc.suggest_fefo(ctx, self.warehouse_id, self.item.id, self.qty.value()) != shown:
                    raise JiedaoError("库存刚有变动，出库建议已更新。请核对下方批次后再确认出库。")
                self.moves = svc.issue_fefo(ctx, self.warehouse_id, self.item.id, self.qty.value(),
                                            party=self.party.text(), note=self.note.text())
        except JiedaoError as exc:
            self.refresh_suggestion()
            self.show_error(exc)
            return
        self.accept()


