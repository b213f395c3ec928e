"""应急物资 page: the stock of one warehouse batch by batch, with an item filter (code or name), alert
colours for expired and expiring batches and items below their minimum, and a summary line. Views
call services only; a warehouse holds at most a few hundred batches, so loading is direct."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shell.errors import JiedaoError
from shell.ui.widgets import SearchBox
from shell.ui.widgets.rows_model import CENTER as ALIGN_CENTER
from shell.ui.widgets.rows_model import RIGHT as ALIGN_RIGHT
from shell.ui.widgets.rows_model import RowsModel

from .. import services as svc

EXPIRED_BG = QColor("#f5b7b1")     # red
BAND_BG = (QColor("#fad7a0"),      # orange: first band (30 days)
           QColor("#fce8b2"),      # amber: second band (60 days)
           QColor("#fdf6c3"))      # yellow: third band (90 days)
BELOW_MIN_FG = QColor("#c0392b")   # red text on the item

# 仓库 (last) shows only for the lists across warehouses that 我的待办 opens.
COLUMNS = ("物资编码", "物资名称", "规格型号", "单位", "批次号", "有效期至", "数量", "最低库存", "状态", "仓库")
WAREHOUSE_COLUMN = 9
ITEM_COLUMNS = (0, 1, 2, 7)        # drawn in red when the item is below its minimum
RIGHT = (6, 7)


def status_text(row: svc.BatchStockRow) -> str:
    if row.batch_id is None:
        text = "无库存"
    elif row.days_left is None:
        text = "正常"
    elif row.band == 0:
        text = f"已过期 {-row.days_left} 天"
    elif row.band is not None:
        text = "今天到期" if row.days_left == 0 else f"{row.band} 天内到期（剩 {row.days_left} 天）"
    else:
        text = "正常"
    if row.below_minimum:
        text += "；低于最低库存"
    return text


def band_colour(row: svc.BatchStockRow, bands) -> QColor | None:
    if row.band is None:
        return None
    if row.band == 0:
        return EXPIRED_BG
    return BAND_BG[list(bands).index(row.band)]


def summary_text(s: svc.StockAlertSummary) -> str:
    b1, b2, b3 = s.bands
    n1, n2, n3 = s.expiring
    return (f"低于最低库存 {s.below_minimum} 项，已过期 {s.expired} 批，{b1} 天内到期 {n1} 批，"
            f"{b1 + 1}–{b2} 天到期 {n2} 批，{b2 + 1}–{b3} 天到期 {n3} 批")


class StockModel(RowsModel):
    headers = COLUMNS

    def __init__(self, parent=None):
        super().__init__(parent)
        self.bands: tuple[int, int, int] = (30, 60, 90)

    def set_rows(self, rows, bands=None) -> None:
        if bands is not None:
            self.bands = tuple(bands)
        super().set_rows(rows)

    def cell(self, r, col):
        return (r.code, r.name, r.spec, r.unit, r.batch_no or "—",
                r.expiry_date.isoformat() if r.expiry_date else "—", str(r.qty),
                "—" if r.min_qty is None else str(r.min_qty), status_text(r), r.warehouse)[col]

    def role_data(self, r, col, role):
        if role == Qt.ItemDataRole.BackgroundRole:
            colour = band_colour(r, self.bands)
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if r.below_minimum and (col in ITEM_COLUMNS or col == 8):
                return QBrush(BELOW_MIN_FG)
            return None
        if role == Qt.ItemDataRole.ToolTipRole and r.min_qty is not None:
            return f"{r.name}可用合计 {r.item_usable}{r.unit}，最低库存 {r.min_qty}{r.unit}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col in RIGHT:
                return ALIGN_RIGHT
            if col in (3, 5):
                return ALIGN_CENTER
        return None


def _chip(text: str, parent: QWidget, bg: QColor | None = None, fg: QColor | None = None) -> QLabel:
    label = QLabel(text, parent)
    style = "padding: 1px 6px; border-radius: 3px; border: 1px solid #d0d0d0;"
    if bg is not None:
        style += f" background: {bg.name()};"
    if fg is not None:
        style += f" color: {fg.name()};"
    label.setStyleSheet(style)
    return label


class StockPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("emergency-stock")
        self.warehouse = QComboBox(self)
        self.warehouse.setMinimumContentsLength(14)
        self.warehouse.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.search = SearchBox(self, placeholder="物资编码、名称或拼音首字母")
        self.refresh_button = QPushButton("刷新", self)
        self.alerts_only = QCheckBox("只看预警", self)
        self.alerts_only.setObjectName("emergency-alerts-only")
        self.alerts_only.setToolTip("只列出已过期、临期或低于最低库存的物资")
        self.receive_button = QPushButton("入库…", self)
        self.receive_button.setObjectName("emergency-receive")
        self.issue_button = QPushButton("出库…", self)
        self.issue_button.setObjectName("emergency-issue")
        self.transfer_button = QPushButton("调拨…", self)
        self.transfer_button.setObjectName("emergency-transfer")
        self.adjust_button = QPushButton("调整…", self)
        self.adjust_button.setObjectName("emergency-adjust")
        self.stocktake_button = QPushButton("盘点…", self)
        self.stocktake_button.setObjectName("emergency-stocktake")
        self.print_button = QPushButton("打印储备台账", self)
        self.print_button.setObjectName("emergency-print-reserve")
        self.min_button = QPushButton("最低库存…", self)
        self.min_button.setObjectName("emergency-min-stock")
        self.history_button = QPushButton("批次流水…", self)
        self.history_button.setObjectName("emergency-batch-history")
        self.move_dialog = None
        self.print_dialog = None
        self.alert_filter: str | None = None   # a STOCK_ALERTS list across warehouses (show_filtered)
        self.loading = False                   # that list is being counted on the thread pool
        self.filter_label = QLabel(self)
        self.filter_label.setObjectName("emergency-stock-filter")
        self.filter_label.setStyleSheet("color: #1f6fb2; font-weight: bold;")
        self.clear_filter_button = QPushButton("清除筛选", self)
        self.clear_filter_button.setObjectName("emergency-clear-filter")
        self.clear_filter_button.clicked.connect(self.clear_filter)
        filter_bar = QHBoxLayout()
        filter_bar.addWidget(self.filter_label, 1)
        filter_bar.addWidget(self.clear_filter_button)
        self.filter_label.hide()
        self.clear_filter_button.hide()
        top = QHBoxLayout()
        top.addWidget(QLabel("仓库", self))
        top.addWidget(self.warehouse)
        top.addSpacing(12)
        top.addWidget(QLabel("物资", self))
        top.addWidget(self.search, 1)
        top.addWidget(self.alerts_only)
        top.addWidget(self.refresh_button)
        top.addSpacing(12)
        for button in (self.receive_button, self.issue_button, self.stocktake_button, self.print_button):
            top.addWidget(button)
        # actions on the selected line
        selected = QHBoxLayout()
        self.selected_label = QLabel(self)
        self.selected_label.setObjectName("emergency-selected")
        selected.addWidget(self.selected_label, 1)
        for button in (self.transfer_button, self.adjust_button, self.min_button, self.history_button):
            selected.addWidget(button)

        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("emergency-stock-summary")
        self.summary_label.setStyleSheet("font-weight: bold;")
        self.count_label = QLabel(self)
        summary = QHBoxLayout()
        summary.addWidget(self.summary_label, 1)
        summary.addWidget(self.count_label)

        legend = QHBoxLayout()
        legend.addWidget(QLabel("图例：", self))
        self.legend_chips = [_chip("已过期", self, EXPIRED_BG)]
        for bg in BAND_BG:
            self.legend_chips.append(_chip("", self, bg))
        self.legend_chips.append(_chip("低于最低库存（红字）", self, fg=BELOW_MIN_FG))
        for chip in self.legend_chips:
            legend.addWidget(chip)
        legend.addStretch(1)

        self.model = StockModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        self._default_widths()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)

        self.table.setColumnHidden(WAREHOUSE_COLUMN, True)
        header.moveSection(WAREHOUSE_COLUMN, 0)   # across warehouses, the warehouse reads first
        self.table.doubleClicked.connect(lambda index: self._open_line(index.row()))

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filter_bar)
        layout.addLayout(summary)
        layout.addLayout(selected)
        layout.addWidget(self.table, 1)
        layout.addLayout(legend)

        self.load_warehouses()
        self.warehouse.currentIndexChanged.connect(lambda _i: self.reload())
        self.search.search.connect(lambda _t: self.reload())
        self.alerts_only.toggled.connect(lambda _on: self.reload())
        self.refresh_button.clicked.connect(self.reload)
        self.receive_button.clicked.connect(self.open_receive)
        self.issue_button.clicked.connect(self.open_issue)
        self.transfer_button.clicked.connect(self.open_transfer)
        self.adjust_button.clicked.connect(self.open_adjust)
        self.stocktake_button.clicked.connect(self.open_stocktake)
        self.print_button.clicked.connect(self.print_reserve)
        self.min_button.clicked.connect(self.open_min_stock)
        self.history_button.clicked.connect(self.open_history)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selection_changed())
        self.reload()

    def load_warehouses(self) -> None:
        self.warehouse.clear()
        try:
            with self.app_ctx.service(commit=False) as ctx:
                for wh in svc.list_warehouses(ctx):
                    self.warehouse.addItem(wh.name, wh.id)
        except JiedaoError as exc:
            self.summary_label.setText(exc.message)
        self._enable_actions()

    def _enable_actions(self) -> None:
        """The warehouse box and the buttons as the warehouses and the user's permissions allow."""
        self.warehouse.setEnabled(self.warehouse.count() > 0)
        manage = self.warehouse.count() > 0 and self.app_ctx.actor.can("emergency.stock.manage")
        tip = "" if manage else "需要“应急物资出入库、调拨与调整”权限（emergency.stock.manage）"
        self.can_manage = manage
        for button in (self.receive_button, self.issue_button):
            button.setEnabled(manage)
            button.setToolTip(tip)
        take = self.warehouse.count() > 0 and self.app_ctx.actor.can("emergency.stocktake")
        self.stocktake_button.setEnabled(self.warehouse.count() > 0)
        self.stocktake_button.setToolTip("" if take else "查看盘点；开始和过账盘点需要“应急物资盘点”权限")
        self.print_button.setEnabled(self.warehouse.count() > 0)
        self._selection_changed()

    def selected_row(self) -> svc.BatchStockRow | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        return self.model.rows[rows[0].row()]

    def select_batch(self, batch_no: str) -> bool:
        for r, row in enumerate(self.model.rows):
            if row.batch_no == batch_no:
                self.table.selectRow(r)
                return True
        return False

    def _selection_changed(self) -> None:
        if self.alert_filter is not None:
            # Moves are made in one warehouse: a double-click takes the line there.
            for button in (self.transfer_button, self.adjust_button, self.min_button, self.history_button):
                button.setEnabled(False)
            self.selected_label.setText("双击一行，到它所在的仓库办理入库、调拨或调整。")
            self.selected_label.setStyleSheet("color: #777;")
            return
        row = self.selected_row()
        usable = row is not None and row.batch_id is not None and getattr(self, "can_manage", False)
        tip = "" if usable else ("先在表格中选中一个批次" if getattr(self, "can_manage", False)
                                 else "需要“应急物资出入库、调拨与调整”权限（emergency.stock.manage）")
        for button in (self.transfer_button, self.adjust_button):
            button.setEnabled(usable)
            button.setToolTip(tip)
        can_catalog = self.app_ctx.actor.can("emergency.catalog.manage")
        self.min_button.setEnabled(row is not None and can_catalog)
        self.min_button.setToolTip("" if can_catalog else "需要“维护应急仓库与物资目录”权限（emergency.catalog.manage）")
        self.history_button.setEnabled(row is not None and row.batch_id is not None)
        if row is None:
            self.selected_label.setText("选中一行后可调拨、调整、设置最低库存或查看批次流水。")
            self.selected_label.setStyleSheet("color: #777;")
        else:
            batch = f"批次 {row.batch_no}，现有 {row.qty}{row.unit}" if row.batch_id is not None else "无库存"
            self.selected_label.setText(f"选中：{row.name} {row.spec}（{row.code}）{batch}")
            self.selected_label.setStyleSheet("")

    def open_receive(self):
        from .moves import ReceiveDialog

        return self._open_move(ReceiveDialog)

    def open_issue(self):
        from .moves import IssueDialog

        dialog = self._open_move(IssueDialog)
        if dialog is not None:   # 出库: the paper that goes with the goods, offered at once
            dialog.accepted.connect(lambda: self.issued([(m.doc_no, m.qty) for m in dialog.moves]))
        return dialog

    def open_transfer(self):
        from .batch_moves import TransferDialog

        row = self.selected_row()
        if row is None or row.batch_id is None:
            return None
        return self._show_dialog(TransferDialog(self.app_ctx, row, self.current_warehouse(),
                                                self.warehouse.currentText(), self))

    def open_adjust(self):
        from .batch_moves import AdjustDialog

        row = self.selected_row()
        if row is None or row.batch_id is None:
            return None
        return self._show_dialog(AdjustDialog(self.app_ctx, row, self.warehouse.currentText(), self))

    def open_min_stock(self):
        from .catalog import MinStockDialog

        row = self.selected_row()
        if row is None:
            return None
        return self._show_dialog(MinStockDialog(self, self.app_ctx, self.current_warehouse(),
                                                self.warehouse.currentText(), row))

    def open_history(self):
        from .batch_moves import BatchMovesDialog

        row = self.selected_row()
        if row is None or row.batch_id is None:
            return None
        return self._show_dialog(BatchMovesDialog(self.app_ctx, row, self.warehouse.currentText(), self))

    def open_stocktake(self):
        from .stocktake import StocktakeDialog

        wh = self.current_warehouse()
        if wh is None:
            return None
        dialog = self._show_dialog(StocktakeDialog(self.app_ctx, wh, self.warehouse.currentText(), self))
        dialog.finished.connect(lambda _r: self.reload())
        return dialog

    def print_reserve(self):
        """应急物资储备台账 of the current warehouse, previewed for printing."""
        from .printing import print_report

        wh = self.current_warehouse()
        if wh is None:
            return None
        self.print_dialog = print_report(self.app_ctx, "emergency.reserve", {"warehouse_id": wh}, self,
                                         f"应急物资储备台账-{self.warehouse.currentText()}.pdf")
        return self.print_dialog

    def _show_dialog(self, dialog):
        self.move_dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self.reload)
        dialog.open()
        return dialog

    def _open_move(self, dialog_class):
        """Open an 入库/出库 dialog for the current warehouse (window-modal); the page reloads after a save."""
        wh = self.current_warehouse()
        if wh is None:
            return None
        dialog = self.move_dialog = dialog_class(self.app_ctx, wh, self.warehouse.currentText(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self.reload)
        dialog.open()
        return dialog

    def issued(self, moves: list[tuple[str | None, int]]) -> QMessageBox | None:
        """After an 出库: say what left under which 出库单号 and offer to print the 出库单 (window-modal,
        not blocking: the page stays usable behind it)."""
        doc_no = next((doc for doc, _q in moves if doc), None)
        if doc_no is None:
            return None
        box = QMessageBox(QMessageBox.Icon.Information, "出库完成",
                          f"已出库，出库单号 {doc_no}（{len(moves)} 个批次）。\n请打印出库单，交领用人签字后随物资交付。",
                          QMessageBox.StandardButton.Close, self)
        box.setObjectName("emergency-issued")
        print_button = box.addButton("打印出库单…", QMessageBox.ButtonRole.AcceptRole)
        print_button.setObjectName("print-issue-note")
        print_button.clicked.connect(lambda: self.print_issue_note(doc_no))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.issued_box = box
        return box

    def print_issue_note(self, doc_no: str):
        """应急物资出库单 ``doc_no``, previewed for printing (the report centre reprints it by number)."""
        from .printing import print_report

        self.print_dialog = print_report(self.app_ctx, "emergency.issue_note", {"doc_no": doc_no}, self,
                                         f"应急物资出库单-{doc_no}.pdf")
        return self.print_dialog

    def current_warehouse(self) -> int | None:
        return self.warehouse.currentData()

    def show_warehouse(self, warehouse_id: int, text: str = "") -> bool:
        """Select a warehouse (and optionally filter by item code/name); False if not visible here."""
        index = self.warehouse.findData(warehouse_id)
        if index < 0:
            return False
        self.search.blockSignals(True)
        self.search.setText(text)
        self.search.blockSignals(False)
        if index == self.warehouse.currentIndex():
            self.reload()
        else:
            self.warehouse.setCurrentIndex(index)  # reloads
        return True

    def _default_widths(self) -> None:
        header = self.table.horizontalHeader()
        for column, width in enumerate((80, 150, 150, 50, 140, 100, 70, 80)):
            header.resizeSection(column, width)

    def show_filtered(self, alert: str = "below_min") -> None:
        """From 我的待办: one STOCK_ALERTS list across every warehouse in scope (低于最低库存的物资,
        已过期或临期的批次), named above the table with 清除筛选 beside it."""
        self.alert_filter = alert if alert in svc.STOCK_ALERTS else "below_min"
        self.reload()

    def clear_filter(self) -> None:
        """Back to one warehouse's stock."""
        self.alert_filter = None
        self.reload()

    def _open_line(self, row: int) -> None:
        """Double-click on a line across warehouses: that warehouse, filtered to the line's item."""
        if self.alert_filter is None or not 0 <= row < len(self.model.rows):
            return
        line = self.model.rows[row]
        self.alert_filter = None
        if line.warehouse_id is None or not self.show_warehouse(line.warehouse_id, line.code):
            self.reload()

    def _reload_alerts(self, alert: str) -> None:
        """On the thread pool: across the large street's 30 warehouses the list takes 0.4 s. An
        answer for a filter no longer chosen is dropped."""
        from shell.ui.tasks import run_in_pool

        app_ctx = self.app_ctx
        self._asked = getattr(self, "_asked", 0) + 1
        asked = self._asked
        self.loading = True
        self.summary_label.setText("正在统计各仓库的库存…")

        def work():
            with app_ctx.service(commit=False) as ctx:
                return svc.stock_alert_rows(ctx, alert), svc.alert_days(ctx)[0]

        run_in_pool(work, lambda ok, result: self._alerts_loaded(asked, alert, ok, result))

    def _alerts_loaded(self, asked: int, alert: str, ok: bool, result) -> None:
        try:
            self.objectName()
        except RuntimeError:   # closed meanwhile
            return
        if asked != self._asked or self.alert_filter != alert:
            return
        self.loading = False
        if not ok:
            from shell.ui.errors import error_text

            self.model.set_rows([], self.model.bands)
            self.summary_label.setText(error_text(result)[1])
            return
        rows, first = result
        self.model.set_rows(rows)
        items = len({(r.warehouse_id, r.item_id) for r in rows})
        batches = sum(1 for r in rows if r.batch_id is not None)
        title = f"已过期或 {first} 天内到期的批次" if alert == "expiring" else svc.STOCK_ALERTS[alert]
        self.filter_label.setText(f"筛选：各仓库{title}")
        self.summary_label.setText(f"低于最低库存的物资 {items} 项" if alert == "below_min"
                                   else f"已过期 {sum(1 for r in rows if r.band == 0)} 批，{first} 天内到期 "
                                        f"{sum(1 for r in rows if r.band == first)} 批")
        self.count_label.setText(f"共 {items} 项物资、{batches} 批")
        self.table.resizeColumnsToContents()   # the warehouse and the status whole, not cut off
        self._selection_changed()

    def reload(self) -> None:
        alert = self.alert_filter
        for w in (self.filter_label, self.clear_filter_button):
            w.setVisible(alert is not None)
        if alert is None and not self.table.isColumnHidden(WAREHOUSE_COLUMN):
            self._default_widths()   # back from a list across warehouses
        self.table.setColumnHidden(WAREHOUSE_COLUMN, alert is None)
        for w in (self.search, self.alerts_only):
            w.setEnabled(alert is None)
        if alert is not None:
            for w in (self.warehouse, self.receive_button, self.issue_button, self.stocktake_button, self.print_button):
                w.setEnabled(False)
            self._reload_alerts(alert)
            return
        self._enable_actions()
        self.loading = False
        wh = self.current_warehouse()
        if wh is None:
            self.model.set_rows([], self.model.bands)
            self.summary_label.setText("没有可查看的应急仓库。")
            self.count_label.setText("")
            return
        try:
            with self.app_ctx.service(commit=False) as ctx:
                rows, summary = svc.stock_view(ctx, wh, self.search.text().strip())
                if self.alerts_only.isChecked():
                    # an item below its minimum shows all its lines (where the stock is), a batch
                    # only when it is itself expired or expiring
                    rows = [r for r in rows if r.below_minimum or r.band is not None]
        except JiedaoError as exc:
            self.model.set_rows([], self.model.bands)
            self.summary_label.setText(exc.message)
            return
        self.model.set_rows(rows, summary.bands)
        self.summary_label.setText(summary_text(summary))
        b1, b2, b3 = summary.bands
        for chip, text in zip(self.legend_chips[1:4], (f"{b1} 天内到期", f"{b1 + 1}–{b2} 天", f"{b2 + 1}–{b3} 天"), strict=False):
            chip.setText(text)
        self._selection_changed()
        batches = sum(1 for r in rows if r.batch_id is not None)
        self.count_label.setText(f"共 {len({r.item_id for r in rows})} 种物资、{batches} 批")


def open_stock_record(app_ctx, kind: str, record_id: int) -> bool:
    """For open_record: show the stock page at a warehouse, or at the first warehouse holding an item."""
    page = app_ctx.extras["open_page"]("emergency.stock")
    if page is None:
        return False
    if kind == "emergency.warehouse":
        return page.show_warehouse(record_id)
    with app_ctx.service(commit=False) as ctx:
        item, holders = svc.item_locations(ctx, record_id)
        code = item.code
    target = holders[0] if holders else page.current_warehouse()
    return target is not None and page.show_warehouse(target, code)
