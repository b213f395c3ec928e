"""爱心超市兑换 counter page: find the volunteer (name, pinyin initials, 志愿者编号, ID number or phone),
see their points balance and whether they may redeem now, put items of their community's store in a
basket and confirm once. The redemption service does every check and writes in one transaction; a
refusal shows its Chinese message and keeps the basket. Lists mask ID numbers and phones (data rules)."""
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
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reports.masking import mask_phone
from shell.errors import JiedaoError
from shell.ui.errors import confirm
from shell.ui.widgets import SearchBox
from shell.ui.widgets.lazy_table import CENTER, RIGHT

from .. import services as svc
from ..labels import LIMIT_PERIODS

RESULTS = 20
OK_STYLE = "color: #1e7e34; font-weight: bold;"
BAD_STYLE = "color: #c0392b; font-weight: bold;"
MUTED_STYLE = "color: palette(mid);"


@dataclass
class Person:
    """The selected volunteer, read inside one service context (no ORM objects leave it)."""

    volunteer_id: int
    name: str
    number: str
    area_id: int
    area_name: str
    phone: str
    hours: str
    points: int
    refusal: str = ""          # why they may not redeem now; "" when they may


@dataclass
class Item:
    item_id: int
    name: str
    unit: str
    price: int
    stock: int
    limit: int
    period: str

    @property
    def limit_text(self) -> str:
        if not self.limit:
            return "不限"
        label = LIMIT_PERIODS.get(self.period, "") if self.period != "none" else ""
        return f"{label}限 {self.limit} {self.unit}"


@dataclass
class Counter:
    person: Person | None = None
    store_name: str = ""
    items: list[Item] = field(default_factory=list)


def load_counter(app_ctx, volunteer_id: int) -> Counter:
    with app_ctx.service(commit=False) as ctx:
        v = svc.get_volunteer(ctx, volunteer_id)
        points, minutes = svc.account(ctx, v.id)
        area_name = svc.area_name(ctx, v.area_id)
        person = Person(volunteer_id=v.id, name=v.name, number=v.number, area_id=v.area_id, area_name=area_name,
                        phone=mask_phone(v.phone) if v.phone else "", hours=svc.hours_text(minutes), points=points,
                        refusal=next((e.message for e in svc.redeem_eligibility(ctx, v.id, minutes=minutes)), ""))
        items = [Item(it.id, it.name, it.unit, it.points_price, it.stock, it.per_person_limit, it.limit_period)
                 for it in svc.list_items(ctx, area_id=v.area_id)]
        return Counter(person=person, store_name=f"{area_name}爱心超市", items=items)


def _cell(text, align=None) -> QTableWidgetItem:
    item = QTableWidgetItem(str(text))
    if align is not None:
        item.setTextAlignment(align)
    return item


def _table(headers: list[str], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    return table


class CounterPage(QWidget):
    ITEM_COLUMNS = ["物品", "所需积分", "库存", "每人限兑", "兑换数量", "小计"]
    SPIN_COLUMN = 4

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("volunteer-counter")
        self.counter = Counter()
        self.spins: dict[int, QSpinBox] = {}
        self._result_ids: list[int] = []

        # ---- left: find the volunteer, their balance and whether they may redeem now
        left = QWidget(self)
        self.search = SearchBox(left, placeholder="姓名、拼音、志愿者编号、身份证号或电话")
        self.results = _table(["志愿者编号", "姓名", "公民身份号码", "积分"], left)
        header = self.results.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.results.setMinimumHeight(150)
        self.results_hint = QLabel("输入姓名、拼音、编号、身份证号或电话查找志愿者。", left)
        self.results_hint.setWordWrap(True)
        self.results_hint.setStyleSheet(MUTED_STYLE)

        self.card = QFrame(left)
        self.card.setFrameShape(QFrame.Shape.StyledPanel)
        self.name_label = QLabel("未选择志愿者", self.card)
        self.name_label.setStyleSheet("font-size: 19px; font-weight: bold;")
        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(14)
        for key, title in (("number", "志愿者编号"), ("area", "所属社区"), ("phone", "联系电话"),
                           ("hours", "累计服务时长"), ("points", "积分余额")):
            label = QLabel("—", self.card)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = label
            form.addRow(f"{title}：", label)
        self.fields["points"].setStyleSheet("font-size: 17px; font-weight: bold; color: #1f6fb2;")
        self.eligibility_label = QLabel("", self.card)
        self.eligibility_label.setWordWrap(True)
        card_layout = QVBoxLayout(self.card)
        card_layout.setContentsMargins(12, 10, 12, 10)
        card_layout.addWidget(self.name_label)
        card_layout.addLayout(form)
        card_layout.addWidget(self.eligibility_label)

        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 6, 0)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.results, 1)
        left_layout.addWidget(self.results_hint)
        left_layout.addWidget(self.card)

        # ---- right: the store's items with a quantity each, the running total and the confirm button
        right = QWidget(self)
        self.store_label = QLabel("爱心超市", right)
        self.store_label.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.items_hint = QLabel("先在左侧选择志愿者，这里列出其所属社区爱心超市的在售物品。", right)
        self.items_hint.setWordWrap(True)
        self.items_hint.setStyleSheet(MUTED_STYLE)
        self.items = _table(self.ITEM_COLUMNS, right)
        self.items.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        ih = self.items.horizontalHeader()
        ih.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(self.ITEM_COLUMNS)):
            ih.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.items.verticalHeader().setDefaultSectionSize(36)

        self.total_label = QLabel("合计 0 分", right)
        self.total_label.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.remaining_label = QLabel("", right)
        self.clear_button = QPushButton("清空", right)
        self.clear_button.clicked.connect(self.clear_basket)
        self.confirm_button = QPushButton("确认兑换", right)
        self.confirm_button.setProperty("primary", True)
        self.confirm_button.setMinimumWidth(120)
        self.confirm_button.clicked.connect(self.confirm)
        # 兑换单: the paper the volunteer signs for the goods, for the last redemption made here
        self.receipt_button = QPushButton("打印兑换单…", right)
        self.receipt_button.setObjectName("print-receipt")
        self.receipt_button.setToolTip("预览并打印刚才这笔兑换的兑换单（领取人、经办人签字）")
        self.receipt_button.setEnabled(False)
        self.receipt_button.clicked.connect(self.print_receipt)
        self.last_order_id: int | None = None
        self.last_order_volunteer: int | None = None
        self.receipt_preview = None
        footer = QHBoxLayout()
        footer.addWidget(self.total_label)
        footer.addSpacing(12)
        footer.addWidget(self.remaining_label)
        footer.addStretch(1)
        footer.addWidget(self.receipt_button)
        footer.addWidget(self.clear_button)
        footer.addWidget(self.confirm_button)
        self.message_label = QLabel("", right)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 0, 0, 0)
        right_layout.addWidget(self.store_label)
        right_layout.addWidget(self.items_hint)
        right_layout.addWidget(self.items, 1)
        right_layout.addLayout(footer)
        right_layout.addWidget(self.message_label)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        left.setMinimumWidth(360)
        right.setMinimumWidth(440)
        self.splitter.setSizes([420, 620])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

        self.search.search.connect(self.find)
        self.results.currentCellChanged.connect(lambda row, _c, _pr, _pc: self.select_result(row))
        self.show_counter(Counter())
        self.find("")

    # ------------------------------------------------------------------ volunteer
    def find(self, text: str) -> None:
        self._result_ids = []
        self.results.setRowCount(0)
        text = (text or "").strip()
        try:
            with self.app_ctx.service(commit=False) as ctx:
                # before anything is typed: who redeemed or took part lately, in scope (never an empty list)
                found = (svc.volunteer_matches(ctx, text, active=True, limit=RESULTS + 1) if text else
                         svc.recent_volunteers(ctx, limit=RESULTS, redeemers_first=True))
                rows = [(m.volunteer_id, m.number, m.name, m.id_number, m.points)   # the ID number leaves masked
                        for m in found]
        except JiedaoError as exc:
            self.results_hint.setText(exc.message)
            return
        more = len(rows) > RESULTS
        rows = rows[:RESULTS]
        self.results.setRowCount(len(rows))
        for r, (vid, number, name, masked, points) in enumerate(rows):
            self._result_ids.append(vid)
            self.results.setItem(r, 0, _cell(number))
            self.results.setItem(r, 1, _cell(name))
            self.results.setItem(r, 2, _cell(masked))
            self.results.setItem(r, 3, _cell(points, RIGHT))
        if not text:
            self.results_hint.setText("最近兑换或参加活动的志愿者。输入姓名、拼音、编号、身份证号或电话查找其他人。"
                                      if rows else "辖区内还没有在册志愿者。")
            return
        if not rows:
            self.results_hint.setText("没有找到符合条件的在册志愿者。")
        elif more:
            self.results_hint.setText(f"只列出前 {RESULTS} 名，请输入更完整的姓名或编号。")
        else:
            self.results_hint.setText(f"找到 {len(rows)} 名志愿者，点选一名开始兑换。")
        if len(rows) == 1:
            self.select_result(0)

    def select_result(self, row: int) -> None:
        if row < 0 or row >= len(self._result_ids):
            return
        if self.results.currentRow() != row:
            self.results.setCurrentCell(row, 0)   # calls back here once
            return
        self.select_volunteer(self._result_ids[row])

    def select_volunteer(self, volunteer_id: int, keep_basket: bool = False) -> None:
        basket = self.basket() if keep_basket else {}
        # the receipt button prints the last redemption: only while its volunteer is at the counter
        self.receipt_button.setEnabled(self.last_order_id is not None and volunteer_id == self.last_order_volunteer)
        try:
            counter = load_counter(self.app_ctx, volunteer_id)
        except JiedaoError as exc:
            self.show_counter(Counter())
            self._message(exc.message, ok=False)
            return
        if not keep_basket:
            self._message("")
        self.show_counter(counter, basket)

    # ------------------------------------------------------------------ display
    def show_counter(self, counter: Counter, basket: dict[int, int] | None = None) -> None:
        self.counter = counter
        p = counter.person
        if p is None:
            self.name_label.setText("未选择志愿者")
            for label in self.fields.values():
                label.setText("—")
            self.eligibility_label.setText("")
        else:
            self.name_label.setText(p.name)
            self.fields["number"].setText(p.number)
            self.fields["area"].setText(p.area_name)
            self.fields["phone"].setText(p.phone or "—")
            self.fields["hours"].setText(f"{p.hours} 小时")
            self.fields["points"].setText(f"{p.points} 分")
            if p.refusal:
                self.eligibility_label.setText(f"暂不能兑换：{p.refusal}")
                self.eligibility_label.setStyleSheet(BAD_STYLE)
            else:
                self.eligibility_label.setText("✓ 现在可以兑换")
                self.eligibility_label.setStyleSheet(OK_STYLE)
        self.store_label.setText(counter.store_name or "爱心超市")
        if p is None:
            self.items_hint.setText("先在左侧选择志愿者，这里列出其所属社区爱心超市的在售物品。")
        elif not counter.items:
            self.items_hint.setText(f"{counter.store_name}暂无上架物品。")
        else:
            self.items_hint.setText("在“兑换数量”中填写要兑换的件数；库存为 0 的物品暂不能兑换。")
        self._fill_items(counter.items, basket or {})
        self.update_totals()

    def _fill_items(self, items: list[Item], basket: dict[int, int]) -> None:
        self.spins = {}
        self.items.setRowCount(len(items))
        for r, it in enumerate(items):
            self.items.setItem(r, 0, _cell(it.name))
            self.items.item(r, 0).setToolTip(f"单位：{it.unit}")
            self.items.setItem(r, 1, _cell(f"{it.price} 分", RIGHT))
            stock = _cell(f"{it.stock} {it.unit}", RIGHT)
            if it.stock == 0:
                stock.setForeground(Qt.GlobalColor.darkRed)
            self.items.setItem(r, 2, stock)
            self.items.setItem(r, 3, _cell(it.limit_text, CENTER))
            spin = QSpinBox(self.items)
            spin.setRange(0, max(it.stock, 0))
            spin.setEnabled(it.stock > 0)
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            spin.setMinimumWidth(72)
            spin.setValue(min(basket.get(it.item_id, 0), it.stock))
            spin.valueChanged.connect(lambda _v: self.update_totals())
            self.spins[it.item_id] = spin
            self.items.setCellWidget(r, self.SPIN_COLUMN, spin)
            self.items.setItem(r, 5, _cell("", RIGHT))
        self.items.resizeColumnsToContents()
        self.items.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def basket(self) -> dict[int, int]:
        return {item_id: spin.value() for item_id, spin in self.spins.items() if spin.value() > 0}

    def set_quantity(self, item_id: int, quantity: int) -> None:
        self.spins[item_id].setValue(quantity)

    def total(self) -> int:
        prices = {it.item_id: it.price for it in self.counter.items}
        return sum(prices[i] * q for i, q in self.basket().items())

    def update_totals(self) -> None:
        for r, it in enumerate(self.counter.items):
            qty = self.spins[it.item_id].value()
            cell = self.items.item(r, 5)
            if cell is not None:
                cell.setText(f"{qty * it.price} 分" if qty else "")
        total = self.total()
        p = self.counter.person
        self.total_label.setText(f"合计 {total} 分")
        if p is None:
            self.remaining_label.setText("")
        elif total > p.points:
            self.remaining_label.setText(f"超出余额 {total - p.points} 分（余额 {p.points} 分）")
            self.remaining_label.setStyleSheet(BAD_STYLE)
        else:
            self.remaining_label.setText(f"余额 {p.points} 分，兑换后剩 {p.points - total} 分")
            self.remaining_label.setStyleSheet("")
        self.confirm_button.setEnabled(p is not None and total > 0)
        self.clear_button.setEnabled(total > 0)

    def clear_basket(self) -> None:
        for spin in self.spins.values():
            spin.setValue(0)

    def _message(self, text: str, ok: bool = True) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet(OK_STYLE if ok else BAD_STYLE)

    # ------------------------------------------------------------------ redeem
    def confirm(self) -> None:
        p = self.counter.person
        basket = self.basket()
        if p is None or not basket:
            return
        total = self.total()
        if total <= p.points:   # over the balance the service refuses with its own message: no question first
            names = {it.item_id: (it.name, it.unit) for it in self.counter.items}
            what = "、".join(f"{names[i][0]} {q} {names[i][1]}" for i, q in basket.items())
            if not confirm(self, "确认兑换", f"为“{p.name}”兑换：{what}。\n共使用 {total} 分，兑换后剩 {p.points - total} 分。"
                                            "\n\n确认后立即扣减积分和库存；如需撤销，请到“爱心超市管理”撤销这张兑换单。"):
                return

        def work(ctx):
            order = svc.redeem(ctx, p.volunteer_id, basket)
            return order.id, order.total_points, svc.account(ctx, p.volunteer_id)[0]

        try:
            order_id, total, balance = svc.run_with_retry(self.app_ctx.session_factory, self.app_ctx.actor, work,
                                                          clock=self.app_ctx.clock)
        except JiedaoError as exc:
            self._message(f"兑换没有成功：{exc.message}", ok=False)
            self.refresh(keep_basket=True)   # show the current stock and balance; the basket stays
            return
        self.refresh(keep_basket=False)
        self.last_order_id, self.last_order_volunteer = order_id, p.volunteer_id
        self.receipt_button.setEnabled(True)
        self._message(f"兑换成功：兑换单号 {order_id}，{p.name}使用 {total} 分，现余 {balance} 分。"
                      "可点“打印兑换单…”请领取人签字。")

    def print_receipt(self):
        """The 兑换单 of the last redemption, previewed for printing (the shell's report preview: the
        report engine on the thread pool, permission-checked and audited like any report)."""
        from shell.ui.report_preview import print_report

        if self.last_order_id is None:
            return None
        self.receipt_preview = print_report(self.app_ctx, "volunteer.receipt", {"order": self.last_order_id}, self,
                                            f"兑换单-{self.last_order_id}.pdf")
        return self.receipt_preview

    def refresh(self, keep_basket: bool = True) -> None:
        if self.counter.person is not None:
            self.select_volunteer(self.counter.person.volunteer_id, keep_basket=keep_basket)
