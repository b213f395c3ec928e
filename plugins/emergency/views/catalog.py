"""物资目录与仓库 page: the supplies catalogue (GB/T 38565 code — structure checked as it is typed —
name, spec, unit) and the warehouses of the street and communities (keeper, address), with new
item / new warehouse / edit warehouse dialogs. The minimum stock of an item in a warehouse is set
from the 应急物资 page (``MinStockDialog`` here)."""
from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from reports.masking import mask_phone
from shell.errors import JiedaoError, ValidationError
from shell.ui.widgets import SearchBox
from shell.ui.widgets.form import FormDialog

from .. import services as svc
from ..labels import WAREHOUSE_LEVELS
from .forms import RecordFormDialog

HINT_OK, HINT_BAD = "color: #1e6b34;", "color: #c0392b;"


def code_hint(text: str) -> tuple[str, bool]:
    """What a (partly) typed code means, or what is wrong with it."""
    text = text.strip()
    if not text:
        return "7 位数字：第 1 位大类（1 生活保障、2 装备、3 工程材料），其后中类、小类、细类各 2 位", True
    try:
        code = svc.validate_item_code(text)
    except ValidationError as exc:
        if len(text) < 7 and text.isdigit() and (text[0] in svc.GBT_TOP):
            return f"大类：{svc.GBT_TOP[text[0]]}（还需 {7 - len(text)} 位）", True
        return exc.message, False
    return f"大类 {code[0]} {svc.GBT_TOP[code[0]]}，中类 {code[1:3]}，小类 {code[3:5]}，细类 {code[5:7]}", True


class ItemDialog(FormDialog):
    def __init__(self, page: CatalogPage):
        super().__init__(page, "新增物资", "emergency-item-dialog",
                         "按 GB/T 38565-2020《应急物资分类及编码》填写 7 位编码；同一编码可有不同规格。", "保存")
        self.app_ctx, self.saved_id = page.app_ctx, None
        f = self.form
        self.code = f.add("code", "物资编码", QLineEdit(self), required=True)
        self.code.setMaxLength(7)
        self.code_info = QLabel(self)
        self.code_info.setObjectName("code-info")
        f.add("code_info", "编码含义", self.code_info)
        self.name = f.add("name", "物资名称", QLineEdit(self), required=True)
        self.spec = f.add("spec", "规格型号", QLineEdit(self))
        self.unit = f.add("unit", "计量单位", QLineEdit(self), required=True)
        self.unit.setPlaceholderText("如 箱、台、顶、件")
        self.code.textChanged.connect(self._hint)
        self._hint("")
        self.finish_layout()

    def _hint(self, text: str) -> None:
        message, ok = code_hint(text)
        self.code_info.setText(message)
        self.code_info.setStyleSheet(HINT_OK if ok else HINT_BAD)

    def submit(self) -> bool:
        f = self.form

        def work():
            with self.app_ctx.service() as ctx:
                return svc.create_item(ctx, f.value("code"), f.value("name"), f.value("unit"), f.value("spec")).id

        ok, self.saved_id = self.call(work)
        return ok


class WarehouseDialog(RecordFormDialog):
    def __init__(self, page: CatalogPage, row=None):
        super().__init__(page, "新增仓库" if row is None else f"修改仓库 — {row.name}", "emergency-warehouse-dialog",
                         "应急仓库设在街道或社区。", "保存", expected_version=row.version_id if row else None)
        self.app_ctx, self.row, self.saved_id = page.app_ctx, row, None
        f = self.form
        self.name = f.add("name", "仓库名称", QLineEdit(row.name if row else "", self), required=True)
        self.area = f.add("area_id", "所属单位", QComboBox(self), required=True)
        for a in page.areas:
            self.area.addItem(a.name, a.id)
        self.address = f.add("address", "地址", QLineEdit(row.address or "" if row else "", self))
        self.keeper = f.add("keeper", "保管员", QLineEdit(row.keeper or "" if row else "", self))
        self.keeper_phone = f.add("keeper_phone", "保管员电话", QLineEdit(row.keeper_phone or "" if row else "", self))
        if row is not None:
            self.area.setCurrentIndex(max(0, self.area.findData(row.area_id)))
            self.area.setEnabled(False)
        self.finish_layout()

    def submit(self) -> bool:
        f = self.form

        def work():
            with self.app_ctx.service() as ctx:
                if self.row is None:
                    return svc.create_warehouse(ctx, self.area.currentData(), f.value("name"), f.value("address"),
                                                f.value("keeper"), f.value("keeper_phone")).id
                return svc.update_warehouse(ctx, self.row.id, expected_version=self.expected_version,
                                            name=f.value("name"), address=f.value("address"),
                                            keeper=f.value("keeper"), keeper_phone=f.value("keeper_phone")).id

        ok, self.saved_id = self.call(work)
        return ok


class MinStockDialog(FormDialog):
    """最低库存 of one item in one warehouse (below it the 应急物资 page marks the item red)."""

    def __init__(self, parent: QWidget, app_ctx, warehouse_id: int, warehouse_name: str, row: svc.BatchStockRow):
        super().__init__(parent, f"最低库存 — {warehouse_name}", "emergency-min-stock-dialog",
                         f"{row.name} {row.spec}（{row.code}）：可用（未过期）合计 {row.item_usable}{row.unit}。"
                         "低于最低库存时，库存页以红字提示，首页计入预警。", "保存")
        self.app_ctx, self.warehouse_id, self.row = app_ctx, warehouse_id, row
        self.min_qty = self.form.add("min_qty", "最低库存", QSpinBox(self), required=True, hint="0 表示不设下限")
        self.min_qty.setRange(0, 9_999_999)
        self.min_qty.setSuffix(f" {row.unit}")
        self.min_qty.setValue(row.min_qty or 0)
        self.finish_layout()

    def submit(self) -> bool:
        def work():
            with self.app_ctx.service() as ctx:
                svc.set_min_stock(ctx, self.warehouse_id, self.row.item_id, self.min_qty.value())

        ok, _ = self.call(work)
        return ok


def _table(parent, name, headers) -> QTableWidget:
    t = QTableWidget(0, len(headers), parent)
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.horizontalHeader().setStretchLastSection(True)
    return t


class CatalogPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("emergency-catalog")
        self.dialog = None
        self.items: list = []
        self.warehouses: list = []
        self.areas: list[svc.AreaChoice] = []
        self.can_manage = app_ctx.actor.can("emergency.catalog.manage")

        self.search = SearchBox(self, placeholder="物资编码（前几位）、名称或拼音首字母")
        self.new_item_button = QPushButton("新增物资…", self)
        self.item_count = QLabel(self)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.item_count)
        top.addWidget(self.new_item_button)
        self.item_table = _table(self, "item-table", ("物资编码", "大类", "物资名称", "规格型号", "单位"))
        for c, w in enumerate((90, 170, 200, 200)):
            self.item_table.horizontalHeader().resizeSection(c, w)
        items_tab = QWidget(self)
        il = QVBoxLayout(items_tab)
        il.addLayout(top)
        il.addWidget(self.item_table, 1)

        self.new_wh_button = QPushButton("新增仓库…", self)
        self.edit_wh_button = QPushButton("修改…", self)
        wtop = QHBoxLayout()
        self.wh_count = QLabel(self)
        wtop.addWidget(self.wh_count, 1)
        wtop.addWidget(self.new_wh_button)
        wtop.addWidget(self.edit_wh_button)
        self.wh_table = _table(self, "warehouse-table", ("仓库名称", "层级", "所属单位", "地址", "保管员", "联系电话"))
        for c, w in enumerate((230, 70, 110, 260, 80)):
            self.wh_table.horizontalHeader().resizeSection(c, w)
        wh_tab = QWidget(self)
        wl = QVBoxLayout(wh_tab)
        wl.addLayout(wtop)
        wl.addWidget(self.wh_table, 1)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(items_tab, "物资目录")
        self.tabs.addTab(wh_tab, "仓库")
        self.message = QLabel(self)
        self.message.setStyleSheet("color: #c0392b;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)

        self.search.search.connect(lambda _t: self.load_items())
        self.new_item_button.clicked.connect(self.open_new_item)
        self.new_wh_button.clicked.connect(self.open_new_warehouse)
        self.edit_wh_button.clicked.connect(self.open_edit_warehouse)
        self.wh_table.selectionModel().selectionChanged.connect(lambda *_a: self._buttons())
        self.wh_table.doubleClicked.connect(lambda _i: self.open_edit_warehouse())
        tip = "" if self.can_manage else "需要“维护应急仓库与物资目录”权限（emergency.catalog.manage）"
        for b in (self.new_item_button, self.new_wh_button, self.edit_wh_button):
            b.setToolTip(tip)
        self.reload()

    def reload(self) -> None:
        self.load_items()
        self.load_warehouses()

    def load_items(self) -> None:
        self.message.setText("")
        try:
            with self.app_ctx.service(commit=False) as ctx:
                self.items = [SimpleNamespace(id=i.id, code=i.code, name=i.name, spec=i.spec, unit=i.unit)
                              for i in svc.find_items(ctx, self.search.text(), limit=5000)]
        except JiedaoError as exc:
            self.message.setText(exc.message)
            self.items = []
        self.item_table.setRowCount(len(self.items))
        for r, i in enumerate(self.items):
            for c, text in enumerate((i.code, svc.GBT_TOP.get(i.code[0], ""), i.name, i.spec, i.unit)):
                self.item_table.setItem(r, c, QTableWidgetItem(text))
        self.item_count.setText(f"共 {len(self.items)} 种")
        self._buttons()

    def load_warehouses(self) -> None:
        try:
            with self.app_ctx.service(commit=False) as ctx:
                self.areas = svc.unit_areas(ctx)
                names = {a.id: a.name for a in self.areas}
                self.warehouses = [SimpleNamespace(id=w.id, version_id=w.version_id, area_id=w.area_id,
                                                   area=names.get(w.area_id, ""), name=w.name, level=w.level,
                                                   address=w.address, keeper=w.keeper, keeper_phone=w.keeper_phone)
                                   for w in svc.list_warehouses(ctx)]
        except JiedaoError as exc:
            self.message.setText(exc.message)
            self.warehouses = []
        self.wh_table.setRowCount(len(self.warehouses))
        for r, w in enumerate(self.warehouses):
            for c, text in enumerate((w.name, WAREHOUSE_LEVELS.get(w.level, w.level), w.area, w.address or "",
                                      w.keeper or "", mask_phone(w.keeper_phone) if w.keeper_phone else "")):
                self.wh_table.setItem(r, c, QTableWidgetItem(text))
        self.wh_count.setText(f"共 {len(self.warehouses)} 个仓库")
        self._buttons()

    def selected_warehouse(self):
        rows = self.wh_table.selectionModel().selectedRows()
        return self.warehouses[rows[0].row()] if rows else None

    def _buttons(self) -> None:
        self.new_item_button.setEnabled(self.can_manage)
        self.new_wh_button.setEnabled(self.can_manage)
        self.edit_wh_button.setEnabled(self.can_manage and self.selected_warehouse() is not None)

    def _show(self, dialog, after):
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(after)
        dialog.open()
        return dialog

    def open_new_item(self):
        if not self.can_manage:
            return None
        dialog = ItemDialog(self)

        def after():
            self.load_items()
            for r, i in enumerate(self.items):
                if i.id == dialog.saved_id:
                    self.item_table.selectRow(r)
        return self._show(dialog, after)

    def _after_warehouse(self, dialog):
        def after():
            self.load_warehouses()
            for r, w in enumerate(self.warehouses):
                if w.id == dialog.saved_id:
                    self.wh_table.selectRow(r)
        return after

    def open_new_warehouse(self):
        if not self.can_manage:
            return None
        dialog = WarehouseDialog(self)
        return self._show(dialog, self._after_warehouse(dialog))

    def open_edit_warehouse(self):
        row = self.selected_warehouse()
        if row is None or not self.can_manage:
            return None
        dialog = WarehouseDialog(self, row)
        return self._show(dialog, self._after_warehouse(dialog))
