"""盘点 screen of one warehouse: open a count (every batch with stock is snapshotted with its book
quantity), type the counted quantities into the table, see the differences as you go, save the
counts, and post them — each difference becomes a 盘点差异 move — or cancel the count. Posting is one
transaction: if any batch moved after the count was opened, nothing is posted and the screen says
which batches to count again."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shell.errors import JiedaoError
from shell.ui.errors import confirm

from .. import services as svc

NOT_COUNTED = -1
COLUMNS = ("物资编码", "物资名称", "规格型号", "批次号", "有效期至", "账面数", "实盘数", "差异", "备注")
COUNT_COL, DIFF_COL, NOTE_COL = 6, 7, 8
GAIN_FG, LOSS_FG = QColor("#1e6b34"), QColor("#c0392b")


@dataclass(frozen=True)
class Line:
    batch_id: int
    code: str
    name: str
    spec: str
    unit: str
    batch_no: str
    expiry_date: date | None
    expected: int
    counted: int | None
    note: str


class SheetModel(QAbstractTableModel):
    """The count sheet: lines from the dialog, the typed counts and notes kept here. A model rather
    than a QTableWidget: a street reserve has 600 batches, and creating 5,000 cell items took most of
    the time the sheet needed to show."""

    RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

    def __init__(self, dialog: StocktakeDialog):
        super().__init__(dialog)
        self.dialog = dialog
        self._editable = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
        self._read_only = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def reset(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.dialog.lines)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def flags(self, index):
        return self._editable if index.column() in (COUNT_COL, NOTE_COL) else self._read_only

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        d, r, c = self.dialog, index.row(), index.column()
        ln = d.lines[r]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return d.cell_text(r, c)
        if role == Qt.ItemDataRole.TextAlignmentRole and c in (5, COUNT_COL, DIFF_COL):
            return self.RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and c == DIFF_COL:
            counted = d.counts[r]
            if counted is not None and counted != ln.expected:
                return QBrush(GAIN_FG if counted > ln.expected else LOSS_FG)
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        if index.column() == NOTE_COL and role == Qt.ItemDataRole.EditRole:
            self.dialog.notes[index.row()] = str(value or "")
            self.dataChanged.emit(index, index)
            return True
        return False

    def row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, COUNT_COL), self.index(row, DIFF_COL))


class CountDelegate(QStyledItemDelegate):
    """The 实盘数 column: a spin box only while a cell is edited. (One QSpinBox per line made a
    600-batch warehouse take 0.7 s to show.)"""

    def __init__(self, dialog: StocktakeDialog):
        super().__init__(dialog.table)
        self.dialog = dialog

    def createEditor(self, parent, _option, index):
        spin = QSpinBox(parent)
        spin.setRange(NOT_COUNTED, 9_999_999)
        spin.setSpecialValueText("未录入")
        spin.setSuffix(f" {self.dialog.lines[index.row()].unit}")
        spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        return spin

    def setEditorData(self, editor, index):
        value = self.dialog.counted(index.row())
        editor.setValue(NOT_COUNTED if value is None else value)

    def setModelData(self, editor, _model, index):
        editor.interpretText()
        value = editor.value()
        self.dialog.set_counted(index.row(), None if value == NOT_COUNTED else value)


class StocktakeDialog(QDialog):
    def __init__(self, app_ctx, warehouse_id: int, warehouse_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx, self.warehouse_id, self.warehouse_name = app_ctx, warehouse_id, warehouse_name
        self.take_id: int | None = None
        self.lines: list[Line] = []
        self.counts: list[int | None] = []     # what was typed per line (None: not counted yet)
        self.posted_moves: list = []
        self.setObjectName("emergency-stocktake-dialog")
        self.setWindowTitle(f"库存盘点 — {warehouse_name}")
        self.resize(1100, 640)
        can = app_ctx.actor.can("emergency.stocktake")

        self.state_label = QLabel(self)
        self.state_label.setObjectName("stocktake-state")
        self.state_label.setStyleSheet("font-weight: bold;")
        self.counted_by = QLineEdit(self)
        self.counted_by.setObjectName("stocktake-counted-by")
        self.counted_by.setPlaceholderText("盘点人（可多人，用顿号分隔）")
        self.counted_by.setMaximumWidth(260)
        self.open_button = QPushButton("开始盘点", self)
        self.open_button.setObjectName("stocktake-open")
        top = QHBoxLayout()
        top.addWidget(self.state_label, 1)
        top.addWidget(self.counted_by)
        top.addWidget(self.open_button)

        self.notes: list[str] = []
        self.table = QTableView(self)
        self.table.setObjectName("stocktake-table")
        self.model = SheetModel(self)
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.table.setItemDelegateForColumn(COUNT_COL, CountDelegate(self))
        header = self.table.horizontalHeader()
        for col, width in enumerate((80, 150, 130, 130, 100, 70, 120, 80)):
            header.resizeSection(col, width)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)

        self.summary = QLabel(self)
        self.summary.setObjectName("stocktake-summary")
        self.error = QLabel(self)
        self.error.setObjectName("stocktake-error")
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setWordWrap(True)
        self.error.hide()

        self.fill_button = QPushButton("未录入的按账面数填入", self)
        self.fill_button.setObjectName("stocktake-fill")
        self.save_button = QPushButton("保存录入", self)
        self.save_button.setObjectName("stocktake-save")
        self.post_button = QPushButton("过账…", self)
        self.post_button.setObjectName("stocktake-post")
        self.cancel_button = QPushButton("作废本单…", self)
        self.cancel_button.setObjectName("stocktake-cancel")
        self.print_button = QPushButton("打印盘点表", self)
        self.print_button.setObjectName("stocktake-print")
        self.print_button.setToolTip("进行中的盘点单打印为空白盘点表（已保存的实盘数会印出），过账后打印结果")
        self.print_dialog = None
        self.last_posted: int | None = None
        self.close_button = QPushButton("关闭", self)
        bottom = QHBoxLayout()
        bottom.addWidget(self.fill_button)
        bottom.addWidget(self.print_button)
        bottom.addStretch(1)
        for b in (self.save_button, self.post_button, self.cancel_button, self.close_button):
            bottom.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addLayout(bottom)

        self.open_button.clicked.connect(self.open_count)
        self.fill_button.clicked.connect(self.fill_expected)
        self.save_button.clicked.connect(self.save)
        self.post_button.clicked.connect(self.post)
        self.cancel_button.clicked.connect(self.cancel_count)
        self.close_button.clicked.connect(self.accept)
        self.print_button.clicked.connect(self.print_sheet)
        if not can:
            self.open_button.setEnabled(False)
            self.open_button.setToolTip("需要“应急物资盘点”权限（emergency.stocktake）")
        self.load()

    # --- loading ------------------------------------------------------------------------------------
    def load(self) -> None:
        self.error.hide()
        try:
            with self.app_ctx.service(commit=False) as ctx:
                take = svc.current_stocktake(ctx, self.warehouse_id)
                self.take_id = take.id if take else None
                opened = (take.opened_on, take.counted_by) if take else None
                rows = svc.stocktake_sheet(ctx, take.id) if take else []
                self.lines = [Line(r.batch_id, r.code, r.name, r.spec, r.unit, r.batch_no, r.expiry_date, r.expected_qty,
                                   r.counted_qty, r.note or "") for r in rows]
        except JiedaoError as exc:
            self.show_error(exc.message)
            self.lines = []
            self.take_id = None
            opened = None
        self._fill_table()
        has = self.take_id is not None
        can = self.app_ctx.actor.can("emergency.stocktake")
        self.print_button.setEnabled(has or self.last_posted is not None)
        self.counted_by.setVisible(not has)
        self.open_button.setVisible(not has)
        for b in (self.fill_button, self.save_button, self.post_button, self.cancel_button):
            b.setEnabled(has and can)
        if has:
            who = f"，盘点人：{opened[1]}" if opened[1] else ""
            self.state_label.setText(f"盘点单 PD{self.take_id:06d}（{opened[0].isoformat()} 开始{who}）：盘点中。"
                                     "录入实盘数后可保存，全部录入后过账。")
        else:
            self.state_label.setText(f"“{self.warehouse_name}”没有进行中的盘点。开始盘点时按当前账面数生成盘点单。")
        self._update_summary()

    def _fill_table(self) -> None:
        self.counts = [ln.counted for ln in self.lines]
        self.notes = [ln.note for ln in self.lines]
        self.model.reset()

    def rows(self) -> int:
        return len(self.lines)

    def cell_text(self, row: int, column: int) -> str:
        ln = self.lines[row]
        if column < 6:
            return (ln.code, ln.name, ln.spec, ln.batch_no, ln.expiry_date.isoformat() if ln.expiry_date else "—",
                    f"{ln.expected}")[column]
        counted = self.counts[row]
        if column == COUNT_COL:
            return "未录入" if counted is None else f"{counted} {ln.unit}"
        if column == DIFF_COL:
            if counted is None:
                return ""
            d = counted - ln.expected
            return "0" if d == 0 else f"{d:+d}"
        return self.notes[row]

    # --- what the user typed ------------------------------------------------------------------------
    def counted(self, row: int) -> int | None:
        return self.counts[row]

    def count_text(self, row: int) -> str:
        return self.cell_text(row, COUNT_COL)

    def set_counted(self, row: int, value: int | None) -> None:
        self.counts[row] = None if value is None or value == NOT_COUNTED else value
        self._row_changed(row)

    def set_note(self, row: int, text: str) -> None:
        self.model.setData(self.model.index(row, NOTE_COL), text)

    def row_for_batch(self, batch_no: str) -> int:
        return next(r for r, ln in enumerate(self.lines) if ln.batch_no == batch_no)

    def note(self, row: int) -> str:
        return self.notes[row].strip()

    def _row_changed(self, row: int, summary: bool = True) -> None:
        self.model.row_changed(row)
        if summary:
            self._update_summary()

    def differences(self) -> list[tuple[Line, int]]:
        return [(ln, self.counted(r) - ln.expected) for r, ln in enumerate(self.lines)
                if self.counted(r) is not None and self.counted(r) != ln.expected]

    def _update_summary(self) -> None:
        if self.take_id is None:
            self.summary.setText("")
            return
        done = sum(1 for r in range(len(self.lines)) if self.counted(r) is not None)
        diffs = self.differences()
        gains = [d for _l, d in diffs if d > 0]
        losses = [d for _l, d in diffs if d < 0]
        self.summary.setText(f"共 {len(self.lines)} 批，已录入 {done} 批；盘盈 {len(gains)} 批（合计 +{sum(gains)}），"
                             f"盘亏 {len(losses)} 批（合计 {sum(losses)}），其余账实相符。")

    def fill_expected(self) -> None:
        for r, ln in enumerate(self.lines):
            if self.counted(r) is None:
                self.counts[r] = ln.expected
        if self.lines:
            self.model.dataChanged.emit(self.model.index(0, COUNT_COL), self.model.index(len(self.lines) - 1, DIFF_COL))
        self._update_summary()

    def _counts(self) -> dict[int, tuple[int | None, str | None]]:
        return {ln.batch_id: (self.counted(r), self.note(r)) for r, ln in enumerate(self.lines)}

    # --- actions ------------------------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def open_count(self) -> bool:
        self.error.hide()
        try:
            with self.app_ctx.service() as ctx:
                svc.open_stocktake(ctx, self.warehouse_id, counted_by=self.counted_by.text())
        except JiedaoError as exc:
            self.show_error(exc.message)
            return False
        self.load()
        return True

    def save(self) -> bool:
        self.error.hide()
        try:
            with self.app_ctx.service() as ctx:
                n = svc.record_counts(ctx, self.take_id, self._counts())
        except JiedaoError as exc:
            self.show_error(exc.message)
            return False
        self.state_label.setText(f"盘点单 PD{self.take_id:06d}：已保存 {n} 批的实盘数，可稍后继续录入。")
        return True

    def post(self) -> bool:
        self.error.hide()
        diffs = self.differences()
        text = "、".join(f"{ln.name}（{ln.batch_no}）{d:+d}{ln.unit}" for ln, d in diffs[:8])
        more = f" 等 {len(diffs)} 批" if len(diffs) > 8 else ""
        message = (f"将按实盘数过账：{text}{more}。\n过账后差异记为“盘点差异”出入库，不能撤销。是否过账？" if diffs
                   else "实盘数与账面数全部相符，过账后本单结束。是否过账？")
        if not confirm(self, "盘点过账", message):
            return False
        take_id = self.take_id
        try:
            with self.app_ctx.service() as ctx:
                svc.record_counts(ctx, take_id, self._counts())
                moves = svc.post_stocktake(ctx, take_id)
                self.posted_moves = [(m.batch_id, m.qty) for m in moves]
        except JiedaoError as exc:
            self.show_error(exc.message)
            return False
        self.last_posted = take_id
        self.load()
        self.state_label.setText(f"盘点单 PD{take_id:06d} 已过账：记盘点差异 {len(self.posted_moves)} 笔。"
                                 "可打印盘点表存档。")
        return True

    def print_sheet(self):
        """盘点表 of the count in progress (a sheet to count on), or of the one just posted."""
        from .printing import print_report

        take_id = self.take_id or self.last_posted
        if take_id is None:
            return None
        self.print_dialog = print_report(self.app_ctx, "emergency.stocktake", {"stocktake_id": take_id}, self,
                                         f"应急物资盘点表-PD{take_id:06d}.pdf")
        return self.print_dialog

    def cancel_count(self) -> bool:
        self.error.hide()
        if not confirm(self, "作废盘点单", f"作废盘点单 PD{self.take_id:06d}？已录入的实盘数不再使用，库存不变。"):
            return False
        try:
            with self.app_ctx.service() as ctx:
                svc.cancel_stocktake(ctx, self.take_id)
        except JiedaoError as exc:
            self.show_error(exc.message)
            return False
        self.load()
        return True
