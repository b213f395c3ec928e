"""爱心超市管理 page: the reward items of the stores in scope with their points price, stock and
per-person limit; new items, stock in / out / stock-taking (each an append-only stock move, the
stock changed by a guarded statement), 上架 / 下架; and the latest redemptions, where a mistaken
one is cancelled with a reason (points refunded and stock returned as new entries). Views call
services only."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from shell.clock import format_local
from shell.errors import JiedaoError
from shell.ui.widgets import SearchBox
from shell.ui.widgets.form import FormDialog
from shell.ui.widgets.lazy_table import CENTER, RIGHT

from .. import services as svc
from ..labels import LIMIT_PERIODS, ORDER_STATES
from ..rules import P_REDEEM, P_STORE
from .common import BAD_STYLE, OK_STYLE, ReasonDialog, cell, read_only_table


class ItemDialog(FormDialog):
    """A new catalogue item with its opening stock."""

    def __init__(self, parent: QWidget, app_ctx):
        super().__init__(parent, "新增爱心超市物品", "item-dialog",
                         "物品上架后即可在兑换柜台兑换；期初库存记为一笔入库。", ok_text="新增")
        self.app_ctx = app_ctx
        self.saved_id: int | None = None
        with app_ctx.service(commit=False) as ctx:
            communities = svc.community_choices(ctx)
        f = self.form
        self.name = f.add("name", "物品名称", QLineEdit(), required=True)
        self.area = f.add("area_id", "所属社区", QComboBox(), required=True)
        for area_id, name in communities:
            self.area.addItem(f"{name}爱心超市", area_id)
        self.unit = f.add("unit", "单位", QLineEdit())
        self.unit.setText("件")
        self.price = f.add("points_price", "兑换积分", QSpinBox(), required=True)
        self.price.setRange(0, 100000)
        self.price.setSuffix(" 分")
        self.stock = f.add("stock", "期初库存", QSpinBox())
        self.stock.setRange(0, 1000000)
        self.limit = f.add("per_person_limit", "每人限兑", QSpinBox(), hint="0 表示不限")
        self.limit.setRange(0, 1000)
        self.period = f.add("limit_period", "限兑周期", QComboBox())
        for code, label in LIMIT_PERIODS.items():
            self.period.addItem(label, code)
        for key, w in (("name", self.name), ("area", self.area), ("price", self.price), ("stock", self.stock),
                       ("limit", self.limit), ("period", self.period)):
            w.setObjectName(f"item-{key}")
        self.area.setMinimumWidth(220)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form

        def save():
            with self.app_ctx.service() as ctx:
                return svc.create_item(ctx, name=f.value("name"), area_id=self.area.currentData(),
                                       points_price=self.price.value(), unit=f.value("unit") or "件",
                                       stock=self.stock.value(), per_person_limit=self.limit.value(),
                                       limit_period=self.period.currentData()).id

        ok, result = self.call(save)
        self.saved_id = result if ok else None
        return ok


class StockDialog(FormDialog):
    """入库 / 出库 / 盘点 of one item."""

    TITLES = {"in": ("入库", "入库数量"), "out": ("出库", "出库数量"), "take": ("盘点", "实盘数量")}

    def __init__(self, parent: QWidget, app_ctx, kind: str, item: svc.ItemRow):
        title, label = self.TITLES[kind]
        intros = {"in": f"“{item.name}”现有 {item.stock} {item.unit}，入库后增加。",
                  "out": f"“{item.name}”现有 {item.stock} {item.unit}。出库用于损坏、过期、丢失等，请写明原因。",
                  "take": f"“{item.name}”账面 {item.stock} {item.unit}。填写实际清点的数量，差额记为盘点调整。"}
        super().__init__(parent, f"{title}：{item.name}", "stock-dialog", intros[kind], ok_text=title)
        self.app_ctx, self.kind, self.item_id = app_ctx, kind, item.item_id
        self.quantity = self.form.add("quantity", label, QSpinBox(), required=True)
        self.quantity.setObjectName("stock-quantity")
        self.quantity.setRange(0, 1000000)
        self.quantity.setSuffix(f" {item.unit}")
        if kind == "take":
            self.quantity.setValue(item.stock)
        self.reason = self.form.add("reason", "原因" if kind == "out" else "说明", QLineEdit(), required=kind == "out")
        self.reason.setObjectName("stock-reason")
        self.reason.setPlaceholderText({"in": "如：街道配送、爱心企业捐赠", "out": "如：过期、破损",
                                        "take": "如：季度盘点"}[kind])
        self.result_text = ""
        self.finish_layout()

    def submit(self) -> bool:
        qty, reason = self.quantity.value(), self.form.value("reason")

        def save():
            with self.app_ctx.service() as ctx:
                if self.kind == "in":
                    svc.stock_in(ctx, self.item_id, qty, reason or "入库")
                elif self.kind == "out":
                    svc.stock_out(ctx, self.item_id, qty, reason)
                else:
                    move = svc.stock_take(ctx, self.item_id, qty, reason or "盘点")
                    return "账实相符，未作调整。" if move is None else f"已按实盘调整 {move.quantity:+d}。"
                return f"已{self.TITLES[self.kind][0]} {qty}。"

        ok, result = self.call(save)
        self.result_text = result or ""
        return ok


class StorePage(QWidget):
    ITEM_COLUMNS = ["爱心超市", "物品", "兑换积分", "库存", "每人限兑", "状态"]
    ORDER_COLUMNS = ["单号", "兑换时间", "志愿者", "编号", "兑换物品", "积分", "状态"]

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.dialog = None
        self.items_data: list = []
        self.orders: list[svc.OrderRow] = []
        self.setObjectName("volunteer-store")
        can_store = app_ctx.actor.can(P_STORE)

        # ---- items
        items_tab = QWidget(self)
        self.items = read_only_table(self.ITEM_COLUMNS, items_tab)
        self.items.setObjectName("store-items")
        ih = self.items.horizontalHeader()
        ih.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        ih.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.items.itemSelectionChanged.connect(self._update_buttons)
        self.new_button = QPushButton("新增物品…", items_tab)
        self.new_button.setObjectName("item-new")
        self.in_button = QPushButton("入库…", items_tab)
        self.in_button.setObjectName("stock-in")
        self.out_button = QPushButton("出库…", items_tab)
        self.out_button.setObjectName("stock-out")
        self.take_button = QPushButton("盘点…", items_tab)
        self.take_button.setObjectName("stock-take")
        self.active_button = QPushButton("下架", items_tab)
        self.active_button.setObjectName("item-active")
        self.new_button.clicked.connect(self.new_item)
        self.in_button.clicked.connect(lambda: self.stock("in"))
        self.out_button.clicked.connect(lambda: self.stock("out"))
        self.take_button.clicked.connect(lambda: self.stock("take"))
        self.active_button.clicked.connect(self.toggle_active)
        bar = QHBoxLayout()
        self.items_count = QLabel(items_tab)
        bar.addWidget(self.items_count)
        bar.addStretch(1)
        for b in (self.in_button, self.out_button, self.take_button, self.active_button, self.new_button):
            b.setVisible(can_store)
            bar.addWidget(b)
        il = QVBoxLayout(items_tab)
        il.addLayout(bar)
        il.addWidget(self.items, 1)

        # ---- redemptions
        orders_tab = QWidget(self)
        self.order_search = SearchBox(orders_tab, placeholder="志愿者姓名、志愿者编号或兑换单号")
        self.order_search.search.connect(lambda _t: self.load_orders())
        self.orders_table = read_only_table(self.ORDER_COLUMNS, orders_tab)
        self.orders_table.setObjectName("store-orders")
        oh = self.orders_table.horizontalHeader()
        oh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        oh.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.orders_table.itemSelectionChanged.connect(self._update_buttons)
        self.cancel_button = QPushButton("撤销兑换…", orders_tab)
        self.cancel_button.setObjectName("order-cancel")
        self.cancel_button.setVisible(app_ctx.actor.can(P_REDEEM))
        self.cancel_button.clicked.connect(self.cancel_order)
        obar = QHBoxLayout()
        obar.addWidget(self.order_search, 1)
        obar.addWidget(self.cancel_button)
        ol = QVBoxLayout(orders_tab)
        ol.addLayout(obar)
        ol.addWidget(self.orders_table, 1)
        note = QLabel("显示最近 200 张兑换单。撤销后积分退回、库存返还（均记为新的记录），原兑换单保留并标为已撤销。", orders_tab)
        note.setStyleSheet("color: #6b7785;")
        note.setWordWrap(True)
        ol.addWidget(note)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(items_tab, "物品与库存")
        self.tabs.addTab(orders_tab, "兑换记录")
        self.message = QLabel(self)
        self.message.setObjectName("store-message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        self.load_items()
        self.load_orders()

    # ------------------------------------------------------------------ lists
    def load_items(self, keep: int | None = None) -> None:
        try:
            with self.app_ctx.service(commit=False) as ctx:
                self.items_data = svc.item_rows(ctx)
        except JiedaoError as exc:
            self.items_data = []
            self._message(exc.message, ok=False)
        self.items.setRowCount(len(self.items_data))
        for r, it in enumerate(self.items_data):
            iid, area, name, unit, price, stock, limit, period, active = (
                it.item_id, it.area_name, it.name, it.unit, it.price, it.stock, it.limit, it.period, it.active)
            self.items.setItem(r, 0, cell(f"{area}爱心超市", data=iid))
            self.items.setItem(r, 1, cell(name))
            self.items.setItem(r, 2, cell(f"{price} 分", RIGHT))
            stock_cell = cell(f"{stock} {unit}", RIGHT)
            if stock == 0:
                stock_cell.setForeground(QColor("#c0392b"))
            self.items.setItem(r, 3, stock_cell)
            label = "不限" if not limit else f"{LIMIT_PERIODS.get(period, '') if period != 'none' else ''}限 {limit} {unit}"
            self.items.setItem(r, 4, cell(label, CENTER))
            self.items.setItem(r, 5, cell("在售" if active else "已下架", CENTER))
        self.items_count.setText(f"共 {len(self.items_data)} 种物品")
        if keep is not None:
            row = next((r for r, d in enumerate(self.items_data) if d.item_id == keep), -1)
            if row >= 0:
                self.items.selectRow(row)
        self._update_buttons()

    def load_orders(self) -> None:
        try:
            with self.app_ctx.service(commit=False) as ctx:
                self.orders = svc.order_rows(ctx, self.order_search.text())
        except JiedaoError as exc:
            self.orders = []
            self._message(exc.message, ok=False)
        self.orders_table.setRowCount(len(self.orders))
        for r, o in enumerate(self.orders):
            self.orders_table.setItem(r, 0, cell(o.order_id, RIGHT, data=o.order_id))
            self.orders_table.setItem(r, 1, cell(format_local(o.at)))
            self.orders_table.setItem(r, 2, cell(o.volunteer_name))
            self.orders_table.setItem(r, 3, cell(o.volunteer_number))
            self.orders_table.setItem(r, 4, cell(o.items))
            self.orders_table.setItem(r, 5, cell(o.total_points, RIGHT))
            status = ORDER_STATES.get(o.status, o.status) + (f"（{o.cancel_reason}）" if o.status == "cancelled" else "")
            self.orders_table.setItem(r, 6, cell(status))
        self._update_buttons()

    def selected_item(self):
        rows = self.items.selectionModel().selectedRows()
        return self.items_data[rows[0].row()] if rows else None

    def selected_order(self) -> svc.OrderRow | None:
        rows = self.orders_table.selectionModel().selectedRows()
        return self.orders[rows[0].row()] if rows else None

    def select_item(self, name: str) -> None:
        self.items.selectRow(next(r for r, d in enumerate(self.items_data) if d.name == name))

    def select_order(self, order_id: int) -> None:
        self.orders_table.selectRow(next(r for r, o in enumerate(self.orders) if o.order_id == order_id))

    def _update_buttons(self) -> None:
        item = self.selected_item()
        for b in (self.in_button, self.out_button, self.take_button, self.active_button):
            b.setEnabled(item is not None)
        self.active_button.setText("下架" if item is None or item.active else "重新上架")
        order = self.selected_order()
        self.cancel_button.setEnabled(order is not None and order.status == "done")

    def _message(self, text: str, ok: bool = True) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(OK_STYLE if ok else BAD_STYLE)

    # ------------------------------------------------------------------ actions
    def _open(self, dialog, on_accepted) -> None:
        self.dialog = dialog
        dialog.accepted.connect(on_accepted)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def new_item(self) -> None:
        dialog = ItemDialog(self, self.app_ctx)

        def created():
            self.load_items(keep=dialog.saved_id)
            self._message("物品已上架。")
        self._open(dialog, created)

    def stock(self, kind: str) -> None:
        data = self.selected_item()
        if data is None:
            return
        dialog = StockDialog(self, self.app_ctx, kind, data)

        def done():
            self.load_items(keep=data.item_id)
            self._message(f"“{data.name}”{dialog.result_text}")
        self._open(dialog, done)

    def toggle_active(self) -> None:
        data = self.selected_item()
        if data is None:
            return
        iid, name, active, version = data.item_id, data.name, data.active, data.version_id
        try:
            with self.app_ctx.service() as ctx:
                svc.set_item_active(ctx, iid, not active, version)
        except JiedaoError as exc:
            self._message(exc.message, ok=False)
            return
        self.load_items(keep=iid)
        self._message(f"“{name}”已{'下架' if active else '重新上架'}。")

    def cancel_order(self) -> None:
        order = self.selected_order()
        if order is None:
            return

        def action(reason):
            return svc.run_with_retry(self.app_ctx.session_factory, self.app_ctx.actor,
                                      lambda ctx: svc.cancel_redemption(ctx, order.order_id, reason).id,
                                      clock=self.app_ctx.clock)

        dialog = ReasonDialog(self, "撤销兑换", "cancel-order-dialog",
                              f"撤销兑换单 {order.order_id}（{order.volunteer_name}：{order.items}，{order.total_points} 分）："
                              "积分退回给志愿者，物品返还库存。", "撤销原因", action,
                              placeholder="如：拿错物品、重复兑换", ok_text="撤销兑换")

        def done():
            self.load_orders()
            self.load_items()
            self._message(f"兑换单 {order.order_id} 已撤销：{order.total_points} 分已退回给{order.volunteer_name}，"
                          f"物品已返还库存。")
        self._open(dialog, done)
