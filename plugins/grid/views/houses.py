"""房屋与户 page: lazy lists (keyset paging) — 实有房屋 with a use filter, 户, and 出租房屋租客 with the
landlords' reports (入住时间 / 报备时间 / 是否逾期, a 逾期报备 filter and the count) — each with search,
登记 and a record window on double-click."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QPushButton, QTableView, QTabWidget, QVBoxLayout, QWidget

from reports.masking import mask_id
from shell.clock import format_local
from shell.ui.widgets import Column, LazyTableModel, SearchBox

from .. import services as svc
from ..labels import HOUSE_USES
from .common import grid_label, show_listing
from .people import HouseDialog, HouseholdDialog
from .people_forms import HouseFormDialog, NewHouseholdDialog, TenantReportDialog


def _table(parent: QWidget, model, widths) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().setVisible(False)
    for column, width in enumerate(widths):
        view.horizontalHeader().resizeSection(column, width)
    return view


class HousesTab(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-houses")
        self.search = SearchBox(self, placeholder="地址、房屋编号或房主姓名")
        self.use = QComboBox(self)
        self.use.setObjectName("house-use-filter")
        self.use.addItem("全部用途", "")
        for u in HOUSE_USES:
            self.use.addItem(u, u)
        self.use.currentIndexChanged.connect(lambda _i: self.apply())
        self.count_label = QLabel(self)
        self.add_button = QPushButton("登记房屋", self)
        self.add_button.setObjectName("house-add")
        self.add_button.setEnabled(app_ctx.actor.can(svc.P_PERSON))
        self.add_button.clicked.connect(self.new_house)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.use)
        top.addWidget(self.count_label)
        top.addWidget(self.add_button)
        columns = [
            Column("房屋编号", lambda h: h.code),
            Column("地址", lambda h: h.address),
            Column("房屋用途", lambda h: h.house_use, Qt.AlignmentFlag.AlignCenter),
            Column("建筑面积", lambda h: f"{h.floor_area:g} m²" if h.floor_area else "", Qt.AlignmentFlag.AlignRight
                   | Qt.AlignmentFlag.AlignVCenter),
            Column("房主", lambda h: h.owner_name),
            Column("房主证件", lambda h: mask_id(h.owner_id_number) if h.owner_id_number else ""),
            Column("隐患", lambda h: h.hazard),
        ]
        self.model = LazyTableModel(app_ctx.session_factory, columns, page_size=200, parent=self)
        self.model.count_changed.connect(lambda n: self.count_label.setText(f"共 {n} 处"))
        self.table = _table(self, self.model, (110, 260, 80, 90, 80, 170))
        self.table.doubleClicked.connect(lambda index: self.open_house(self.model.row_object(index.row()).id))
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.search.search.connect(lambda _t: self.apply())
        self.dialog: QDialog | None = None
        self.apply()

    def apply(self) -> None:
        show_listing(self.model, svc.houses_listing(self.app_ctx.actor, self.search.text(),
                                                    use=self.use.currentData() or None))

    def new_house(self) -> HouseFormDialog:
        self.dialog = HouseFormDialog(self.app_ctx, self)
        self.dialog.accepted.connect(self.model.refresh)
        self.dialog.open()
        return self.dialog

    def open_house(self, house_id: int) -> HouseDialog:
        self.dialog = HouseDialog(self.app_ctx, house_id, self)
        self.dialog.finished.connect(lambda _r: self.model.refresh() if self.dialog.changed else None)
        self.dialog.open()
        return self.dialog


class HouseholdsTab(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-households")
        self.search = SearchBox(self, placeholder="户号、地址或户主姓名")
        self.count_label = QLabel(self)
        self.add_button = QPushButton("新立户", self)
        self.add_button.setObjectName("household-new")
        self.add_button.setEnabled(app_ctx.actor.can(svc.P_PERSON))
        self.add_button.clicked.connect(self.new_household)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.add_button)
        self._heads: dict[int, tuple[str, int]] = {}
        columns = [
            Column("户号", lambda h: h.number),
            Column("户主", lambda h: self.head_of(h.id)[0]),
            Column("人数", lambda h: self.head_of(h.id)[1], Qt.AlignmentFlag.AlignCenter),
            Column("所属网格", lambda h: self.grid_label(h.area_id)),
            Column("地址", lambda h: h.address),
        ]
        self._grids: dict[int, str] = {}
        self.model = LazyTableModel(app_ctx.session_factory, columns, page_size=200, parent=self)
        self.model.count_changed.connect(lambda n: self.count_label.setText(f"共 {n} 户"))
        self.table = _table(self, self.model, (220, 90, 60, 170))
        self.table.doubleClicked.connect(lambda index: self.open_household(self.model.row_object(index.row()).id))
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self.search.search.connect(lambda _t: self.apply())
        self.dialog: QDialog | None = None
        self.apply()

    def head_of(self, household_id: int) -> tuple[str, int]:
        """Heads and member counts are read for the loaded rows in one query, not one per cell."""
        if household_id not in self._heads:
            ids = [self.model.row_object(r).id for r in range(self.model.rowCount())]
            missing = [i for i in ids if i not in self._heads] or [household_id]
            with self.app_ctx.service(commit=False) as ctx:
                found = svc.household_heads(ctx, missing)
            for i in missing:
                self._heads[i] = found.get(i, ("", 0))
        return self._heads.get(household_id, ("", 0))

    grid_label = grid_label

    def apply(self) -> None:
        self._heads.clear()
        show_listing(self.model, svc.households_listing(self.app_ctx.actor, self.search.text()))

    def refresh(self) -> None:
        self._heads.clear()
        self.model.refresh()

    def new_household(self) -> NewHouseholdDialog:
        self.dialog = NewHouseholdDialog(self.app_ctx, self)
        self.dialog.accepted.connect(self.refresh)
        self.dialog.open()
        return self.dialog

    def open_household(self, household_id: int) -> HouseholdDialog:
        self.dialog = HouseholdDialog(self.app_ctx, household_id, self)
        self.dialog.finished.connect(lambda _r: self.refresh() if self.dialog.changed else None)
        self.dialog.open()
        return self.dialog


class TenantsTab(QWidget):
    """出租房屋租客: current tenants with the move-in and report times and whether the landlord reported
    late (grid.rental_report_hours), filtered to 逾期报备 or 尚未报备; 登记报备 for the selected one."""

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.setObjectName("grid-tenants")
        self.search = SearchBox(self, placeholder="租客姓名、房屋编号或地址")
        self.status = QComboBox(self)
        self.status.setObjectName("tenant-filter")
        for key, label in svc.TENANT_FILTERS.items():
            self.status.addItem(label, key)
        self.status.currentIndexChanged.connect(lambda _i: self.apply())
        self.count_label = QLabel(self)
        self.late_label = QLabel(self)
        self.late_label.setObjectName("tenant-late-count")
        self.late_label.setStyleSheet("color: #c0392b;")
        self.report_button = QPushButton("登记报备…", self)
        self.report_button.setObjectName("tenant-report")
        self.report_button.setEnabled(app_ctx.actor.can(svc.P_PERSON))
        self.report_button.clicked.connect(self.record_report)
        self.message = QLabel(self)
        self.message.setStyleSheet("color: #c0392b;")
        self.message.hide()
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.status)
        top.addWidget(self.count_label)
        top.addWidget(self.late_label)
        top.addWidget(self.report_button)
        self.hours, self.now = 0, None
        self._grids: dict[int, str] = {}

        def row(r) -> svc.TenantRow:
            return svc.tenant_row(r)

        center = Qt.AlignmentFlag.AlignCenter
        columns = [
            Column("房屋编号", lambda r: row(r).house_code),
            Column("地址", lambda r: row(r).address),
            Column("租客", lambda r: row(r).person_name),
            Column("所属网格", lambda r: self.grid_label(row(r).area_id)),
            Column("入住时间", lambda r: format_local(row(r).moved_in_at), center),
            Column("报备时间", lambda r: format_local(row(r).reported_at) or "未报备", center),
            Column("是否逾期", lambda r: row(r).late_text(self.hours, self.now)),
        ]
        self.model = LazyTableModel(app_ctx.session_factory, columns, page_size=200, parent=self)
        self.model.count_changed.connect(lambda n: self.count_label.setText(f"共 {n} 人"))
        self.table = _table(self, self.model, (185, 290, 70, 140, 130, 130))
        self.table.doubleClicked.connect(lambda index: self.open_house(row(self.model.row_object(index.row())).house_id))
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.table)
        self.search.search.connect(lambda _t: self.apply())
        self.dialog: QDialog | None = None
        self.apply()

    grid_label = grid_label

    def apply(self) -> None:
        """The list and the count of late reports, judged by the norm and the clock as of now. The
        count reads every tenant of the scope (~0.1 s street-wide on the large street): on the pool."""
        from shell.ui.tasks import run_in_pool

        with self.app_ctx.service(commit=False) as ctx:
            self.hours, self.now = svc.report_hours(ctx), ctx.now()
            listing = svc.tenants_listing(ctx, self.search.text(), status=self.status.currentData())
        show_listing(self.model, listing)
        self.late_label.setText("正在统计逾期报备…")

        def count() -> svc.LateReportCount:
            with self.app_ctx.service(commit=False) as ctx:
                return svc.count_late_reports(ctx)

        run_in_pool(count, self._show_late)

    def _show_late(self, ok: bool, result) -> None:
        try:
            self.objectName()
        except RuntimeError:   # the page was closed meanwhile
            return
        if not ok:
            from shell.ui.errors import error_text

            self.late_label.setText(f"逾期报备统计失败：{error_text(result)[1]}")
            return
        self.late_label.setText(f"逾期报备 {result.late} 人（时限 {result.hours} 小时）")

    def selected(self) -> svc.TenantRow | None:
        index = self.table.currentIndex()
        return svc.tenant_row(self.model.row_object(index.row())) if index.isValid() else None

    def record_report(self) -> TenantReportDialog | None:
        chosen = self.selected()
        if chosen is None:
            self.message.setText("请先在列表中选择一名租客。")
            self.message.show()
            return None
        self.message.hide()
        self.dialog = TenantReportDialog(self.app_ctx, chosen, self)
        self.dialog.accepted.connect(self.apply)
        self.dialog.open()
        return self.dialog

    def open_house(self, house_id: int) -> HouseDialog:
        self.dialog = HouseDialog(self.app_ctx, house_id, self)
        self.dialog.finished.connect(lambda _r: self.apply() if self.dialog.changed else None)
        self.dialog.open()
        return self.dialog


class HousesPage(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("grid-houses-page")
        self.tabs = QTabWidget(self)
        self.houses = HousesTab(app_ctx, self)
        self.households = HouseholdsTab(app_ctx, self)
        self.tabs.addTab(self.houses, "实有房屋")
        self.tabs.addTab(self.households, "户")
        self.tenants = TenantsTab(app_ctx, self)
        self.tabs.addTab(self.tenants, "出租房屋租客")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

    def show_filtered(self, tenants: str = "all") -> None:
        """From 我的待办: the 出租房屋租客 tab with one TENANT_FILTERS filter (逾期报备 …)."""
        self.tabs.setCurrentWidget(self.tenants)
        index = self.tenants.status.findData(tenants)
        self.tenants.status.setCurrentIndex(max(index, 0))
        self.tenants.search.clear()
        self.tenants.apply()
