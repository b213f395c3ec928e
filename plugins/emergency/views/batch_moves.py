"""调拨 / 调整 of the batch selected on the 应急物资 page (FormDialog): a transfer books two moves with
one document number, an adjustment one move with a reason; and a batch's 流水 (every move, oldest first,
with the running balance)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.ui.widgets.form import FormDialog

from .. import services as svc
from ..labels import ADJUST_REASONS
from .moves import MAX_QTY

# ----------------------------------------------------------------------------- transfer & adjustment

def batch_text(row: svc.BatchStockRow) -> str:
    spec = f" {row.spec}" if row.spec else ""
    expiry = f"，有效期至 {row.expiry_date.isoformat()}" if row.expiry_date else "，无保质期"
    return f"{row.name}{spec}（{row.code}）\n批次 {row.batch_no}{expiry}，现有 {row.qty}{row.unit}"


class BatchMoveDialog(FormDialog):
    """Common part of 调拨 and 调整: they act on one batch, chosen on the stock page."""

    def __init__(self, app_ctx, row: svc.BatchStockRow, warehouse_name: str, parent: QWidget | None, title: str,
                 name: str, intro: str, ok_text: str):
        super().__init__(parent, f"{title} — {warehouse_name}", name, intro, ok_text)
        self.app_ctx, self.row = app_ctx, row
        self.moves: list = []
        label = QLabel(batch_text(row), self)
        label.setObjectName("batch-info")
        label.setStyleSheet("font-weight: bold;")
        self.form.add("batch_id", "批次", label)
        self.setMinimumWidth(560)

    def _spin(self, maximum: int) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(1, max(1, maximum))
        spin.setSuffix(f" {self.row.unit}")
        spin.setMinimumWidth(120)
        return spin

    def _run(self, fn, *args, **kwargs):
        """One service call in its own transaction (committed only when it succeeds)."""
        def work():
            with self.app_ctx.service() as ctx:
                return fn(ctx, *args, **kwargs)
        return self.call(work)


class TransferDialog(BatchMoveDialog):
    """调拨: part of one batch to another warehouse (two moves with one document number)."""

    def __init__(self, app_ctx, row: svc.BatchStockRow, warehouse_id: int, warehouse_name: str,
                 parent: QWidget | None = None):
        super().__init__(app_ctx, row, warehouse_name, parent, "物资调拨", "emergency-transfer-dialog",
                         "把本批次的一部分调往另一个仓库：调出、调入各记一笔，共用一个调拨单号；批次号和有效期随物资带走。",
                         "确认调拨")
        self.target = QComboBox(self)
        self.target.setObjectName("transfer-target")
        with app_ctx.service(commit=False) as ctx:
            for wh in svc.list_warehouses(ctx):
                if wh.id != warehouse_id:
                    self.target.addItem(wh.name, wh.id)
        self.form.add("to_warehouse_id", "调入仓库", self.target, required=True)
        self.qty = self.form.add("qty", "调拨数量", self._spin(row.qty), required=True)
        self.note = QLineEdit(self)
        self.note.setMaxLength(200)
        self.note.setPlaceholderText("如 汛期前调往社区储备点")
        self.form.add("note", "备注", self.note)
        if self.target.count() == 0:
            self.form.show_errors({"to_warehouse_id": "没有其他可调入的仓库。"})
            self.ok_button.setEnabled(False)
        self.finish_layout()

    def submit(self) -> bool:
        target = self.target.currentData()
        if target is None:
            self.form.show_errors({"to_warehouse_id": "请选择调入仓库。"})
            return False
        ok, moves = self._run(svc.transfer, self.row.batch_id, target, self.qty.value(), note=self.note.text())
        if ok:
            self.moves = list(moves)
        return ok


class AdjustDialog(BatchMoveDialog):
    """调整: a correction with a reason (lost, found, damaged, expired …) booked as a new move."""

    def __init__(self, app_ctx, row: svc.BatchStockRow, warehouse_name: str, parent: QWidget | None = None):
        super().__init__(app_ctx, row, warehouse_name, parent, "库存调整", "emergency-adjust-dialog",
                         "已记账的出入库不能修改。发现丢失、损坏、过期或登记差错时，在这里按原因记一笔调整。",
                         "确认调整")
        self.direction = QComboBox(self)
        self.direction.setObjectName("adjust-direction")
        self.direction.addItem("减少", -1)
        self.direction.addItem("增加", 1)
        self.form.add("direction", "调整方向", self.direction)
        self.qty = self.form.add("qty", "调整数量", self._spin(MAX_QTY), required=True)
        self.reason = QComboBox(self)
        self.reason.setObjectName("adjust-reason")
        for reason in ADJUST_REASONS:
            self.reason.addItem(reason, reason)
        self.form.add("reason", "调整原因", self.reason, required=True)
        self.note = QLineEdit(self)
        self.note.setMaxLength(200)
        self.note.setPlaceholderText("经过、责任人或单据号；原因为“其他”时必填")
        self.form.add("note", "说明", self.note)
        self.after = QLabel(self)
        self.after.setObjectName("adjust-after")
        self.form.add("after", "调整后", self.after)
        if row.band == 0:       # an expired batch is written off, never issued
            self.reason.setCurrentText("过期报废")
            self.qty.setValue(row.qty)
        for signal in (self.direction.currentIndexChanged, self.qty.valueChanged):
            signal.connect(lambda *_a: self._preview())
        self._preview()
        self.finish_layout()

    def delta(self) -> int:
        return self.direction.currentData() * self.qty.value()

    def _preview(self) -> None:
        after = self.row.qty + self.delta()
        self.after.setText(f"{after}{self.row.unit}" if after >= 0 else f"{after}{self.row.unit}（库存不能为负数）")
        self.after.setStyleSheet("" if after >= 0 else "color: #c0392b;")

    def submit(self) -> bool:
        ok, move = self._run(svc.adjust, self.row.batch_id, self.delta(), self.reason.currentData(),
                             note=self.note.text())
        if ok:
            self.moves = [move]
        return ok


class BatchMovesDialog(QDialog):
    """批次流水: every move of one batch, oldest first, with the running balance — the ledger that is
    never edited (corrections appear as their own lines)."""

    COLUMNS = ("时间", "类型", "数量", "结存", "单位/人", "原因/备注", "单号", "经办人")

    def __init__(self, app_ctx, row: svc.BatchStockRow, warehouse_name: str, parent: QWidget | None = None):
        from shell.clock import format_local

        from ..labels import MOVE_KINDS

        super().__init__(parent)
        self.setObjectName("emergency-batch-moves")
        self.setWindowTitle(f"批次流水 — {warehouse_name}")
        self.resize(980, 480)
        with app_ctx.service(commit=False) as ctx:
            moves = [(format_local(m.occurred_at), MOVE_KINDS.get(m.kind, m.kind), m.qty, m.balance_after, m.party or "",
                      "；".join(x for x in (m.reason, m.note) if x), m.doc_no or "", m.actor_name or "")
                     for m in svc.moves_of_batch(ctx, row.batch_id)]
        title = QLabel(batch_text(row).replace("\n", " "), self)
        title.setStyleSheet("font-weight: bold;")
        self.table = QTableWidget(len(moves), len(self.COLUMNS), self)
        self.table.setObjectName("batch-moves")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for r, values in enumerate(moves):
            for c, value in enumerate(values):
                text = f"{value:+d}" if c == 2 else str(value)
                cell = QTableWidgetItem(text)
                if c in (2, 3):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, cell)
        header = self.table.horizontalHeader()
        self.table.resizeColumnsToContents()
        for c, w in ((4, 150), (5, 200)):
            header.resizeSection(c, max(w, header.sectionSize(c)))
        header.setStretchLastSection(True)
        self.table.scrollToBottom()
        total = sum(m[2] for m in moves)
        foot = QLabel(f"共 {len(moves)} 笔，合计 {total:+d}{row.unit}，与结存 {row.qty}{row.unit} "
                      + ("一致。" if total == row.qty else "不一致，请联系管理员检查。"), self)
        foot.setObjectName("batch-moves-total")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.table, 1)
        layout.addWidget(foot)
        layout.addWidget(buttons)
        self.foot = foot
