"""Small pieces the grid pages share: a service call for FormDialogs that rolls back on error, read-only
tables, a person picker with search and date editors."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDateTimeEdit,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reports.masking import mask_id
from shell.clock import LOCAL_TZ, local_today, utcnow
from shell.ui.widgets import SearchBox

from .. import services as svc

ID_ROLE = Qt.ItemDataRole.UserRole
def service_call(dialog, app_ctx, fn: Callable, *args, **kwargs) -> tuple[bool, Any]:
    """Run ``fn(ctx, *args, **kwargs)`` in its own committed session through ``dialog.call`` (a
    FormDialog): an error rolls the whole session back before the form shows it, so a half-checked
    edit is never committed."""
    def work():
        with app_ctx.service() as ctx:
            return fn(ctx, *args, **kwargs)
    return dialog.call(work)


def date_edit(value: date | None = None, parent: QWidget | None = None) -> QDateEdit:
    edit = QDateEdit(parent)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setDate(QDate(value or local_today()))  # Beijing's date, not the computer's (QDate.currentDate)
    return edit


def datetime_edit(value: datetime | None = None, parent: QWidget | None = None) -> QDateTimeEdit:
    """Beijing wall-clock date and time to the minute (default now); read it with ``edited_datetime``."""
    local = (value or utcnow()).astimezone(LOCAL_TZ)
    edit = QDateTimeEdit(QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute)), parent)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    edit.setCalendarPopup(True)
    return edit


def edited_datetime(edit: QDateTimeEdit) -> datetime:
    """The editor's Beijing time as an aware UTC datetime (whole minutes)."""
    d, t = edit.date(), edit.time()
    return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=LOCAL_TZ).astimezone(UTC)


def table(parent: QWidget, headers: Sequence[str], name: str = "") -> QTableWidget:
    t = QTableWidget(0, len(headers), parent)
    if name:
        t.setObjectName(name)
    t.setHorizontalHeaderLabels(list(headers))
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setStretchLastSection(True)
    # Columns fit their contents (fill) judged by the first rows, not all of them: measuring every
    # cell of 400 grids' rows cost ~70 ms of GUI time each time the 网格力量 page was shown.
    t.horizontalHeader().setResizeContentsPrecision(60)
    return t


def fill(t: QTableWidget, rows: Sequence[tuple[Any, Sequence[Any]]]) -> None:
    """``rows`` = [(id kept on the first cell, cell values)]; None shows empty."""
    t.setRowCount(len(rows))
    for r, (row_id, values) in enumerate(rows):
        for c, v in enumerate(values):
            item = QTableWidgetItem("" if v is None else str(v))
            if c == 0:
                item.setData(ID_ROLE, row_id)
            t.setItem(r, c, item)
    header = t.horizontalHeader()
    for c in range(t.columnCount() - 1):
        header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)


def selected_id(t: QTableWidget) -> Any:
    row = t.currentRow()
    item = t.item(row, 0) if row >= 0 else None
    return item.data(ID_ROLE) if item is not None else None


class PersonPicker(QWidget):
    """Find a person in scope by name, pinyin initials, ID number or phone and pick one."""

    def __init__(self, app_ctx, parent: QWidget | None = None, limit: int = 30):
        super().__init__(parent)
        self.app_ctx, self.limit = app_ctx, limit
        self.search = SearchBox(self, placeholder="输入姓名、拼音、身份证号或电话查找")
        self.search.setObjectName("person-picker-search")
        self.results = QListWidget(self)
        self.results.setObjectName("person-picker-results")
        self.results.setMinimumHeight(110)
        self.results.setMaximumHeight(150)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.results)
        self.search.search.connect(self.find)

    def find(self, text: str) -> int:
        self.results.clear()
        if not text.strip():
            return 0
        with self.app_ctx.service(commit=False) as ctx:
            rows = svc.list_persons(ctx, text, limit=self.limit)
            labels = [(p.id, f"{p.name}　{p.sex or ''}　{mask_id(p.id_number)}　{svc.area_name(ctx, p.area_id)}")
                      for p in rows]
        for pid, label in labels:
            item = QListWidgetItem(label)
            item.setData(ID_ROLE, pid)
            self.results.addItem(item)
        if len(labels) == 1:
            self.results.setCurrentRow(0)
        return len(labels)

    def selected_id(self) -> int | None:
        item = self.results.currentItem()
        return item.data(ID_ROLE) if item is not None else None

    def preset(self, person_id: int, label: str) -> None:
        """The person is already chosen (a form opened from their record): shown, not searched."""
        self.results.clear()
        item = QListWidgetItem(label)
        item.setData(ID_ROLE, person_id)
        self.results.addItem(item)
        self.results.setCurrentRow(0)
        one_row = self.results.sizeHintForRow(0) + 2 * self.results.frameWidth() + 4
        self.results.setMinimumHeight(one_row)
        self.results.setMaximumHeight(one_row)
        self.search.hide()


def grid_label(page: Any, area_id: int) -> str:
    """A list page's label of a record's grid, read once per grid (``page._grids`` caches it):
    the lists of houses, households, tenants, organisations, visit logs and special groups share it
    as their ``grid_label`` method."""
    if area_id not in page._grids:
        with page.app_ctx.service(commit=False) as ctx:
            page._grids[area_id] = svc.area_name(ctx, area_id)
    return page._grids[area_id]


def grid_choices(app_ctx, ctx=None) -> list[tuple[str, int]]:
    """(label, id) of the open grids in the user's scope. A dialog that already holds a service
    context passes it: a second session on the same thread would take a second server connection
    (a desktop has two, see shell/db/engine.py BudgetPool) while the first is still held."""
    if ctx is not None:
        return svc.grid_choices(ctx)
    with app_ctx.service(commit=False) as ctx:
        return svc.grid_choices(ctx)


def show_listing(model: Any, listing: svc.Listing) -> None:
    """Give a lazy table the list a service built (query, key, order)."""
    model.set_query(listing.query, key_column=listing.key, descending=listing.descending)
