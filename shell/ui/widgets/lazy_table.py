"""A table model that pages through a SQLAlchemy select with keyset queries as the view scrolls.

Keyset (``WHERE key > :last ORDER BY key LIMIT n``) instead of OFFSET: each page costs the same
however deep the user scrolls, and rows inserted meanwhile never shift a page. The key must be
unique (usually the primary key), otherwise rows with the same key would be skipped."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from sqlalchemy import Select, func, select
from sqlalchemy.orm import sessionmaker

from shell.core import personal

log = logging.getLogger(__name__)

LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter

_KEY_LABEL = "_lazy_key"


@dataclass(frozen=True)
class Column:
    """``value(row)`` returns what the cell shows (converted with ``str``; None shows empty)."""

    title: str
    value: Callable[[Any], Any]
    align: Qt.AlignmentFlag = LEFT
    tooltip: Callable[[Any], Any] | None = None


class LazyTableModel(QAbstractTableModel):
    """Rows of ``query`` fetched a page at a time. ``set_query`` swaps the query (a new filter)
    and resets the model. ``total`` is exact at once when every row fits on the first page;
    otherwise a COUNT query runs on the thread pool (``counting`` meanwhile) and ``count_changed``
    reports it: on a street of 200,000 residents a filtered COUNT scans what the first page does not,
    and it held the GUI thread for as long."""

    count_changed = Signal(int)
    failed = Signal(object)          # an exception from a page or count query

    def __init__(self, session_factory: sessionmaker, columns: list[Column] | tuple[Column, ...],
                 page_size: int = 200, parent=None, show_errors: bool = True):
        super().__init__(parent)
        # A failed page (a damaged file, a lost server) is shown to the user, not only logged: an
        # empty list with "共 0 人" would read as "no data". ``show_errors=False`` for a page that
        # shows ``failed`` itself.
        self._error_box = None
        if show_errors:
            self.failed.connect(self._show_failure)
        self._session_factory = session_factory
        self._columns = list(columns)
        self.page_size = page_size
        self._query: Select | None = None
        self._key = None
        self._descending = False
        self._rows: list[Any] = []
        self._last_key: Any = None
        self._exhausted = True
        self.total = 0
        self.counting = False
        self._generation = 0     # a count that returns after the query changed is dropped
        self.pages_fetched = 0   # for tests and diagnostics: how many page queries ran

    # --- query -----------------------------------------------------------------------------------
    def set_query(self, query: Select | None, key_column=None, descending: bool = False) -> None:
        """Show ``query`` ordered by the unique ``key_column`` (newest first with ``descending``)."""
        self.beginResetModel()
        self._query, self._key, self._descending = query, key_column, descending
        self._rows, self._last_key = [], None
        self._exhausted = query is None
        self.pages_fetched = 0
        self.total = 0
        self._generation += 1
        self.endResetModel()
        if query is None:
            self.counting = False
            self.count_changed.emit(0)
            return
        # The first page now, so a filter that matches nothing shows an empty table at once.
        self.fetchMore(QModelIndex())
        if self._exhausted:      # all of it is on the first page: that is the count
            self.counting = False
            self.total = len(self._rows)
            self.count_changed.emit(self.total)
        else:
            self._count()

    def _show_failure(self, exc: BaseException) -> None:
        from PySide6.QtWidgets import QWidget

        from shell.ui.errors import notify_error

        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        self._error_box = notify_error(parent, exc, self._error_box)

    def refresh(self) -> None:
        """Re-run the current query from the first page (after the data changed)."""
        self.set_query(self._query, self._key, self._descending)

    def _count(self) -> None:
        from shell.ui.tasks import run_in_pool

        generation, query, factory = self._generation, self._query, self._session_factory
        self.counting = True

        def count() -> int:
            with factory() as session:
                return int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)

        def counted(ok: bool, result) -> None:
            try:
                self.objectName()
            except RuntimeError:  # the model went with its page
                return
            if generation != self._generation:
                return
            self.counting = False
            if ok:
                self.total = result
            else:  # a broken filter must not take the window down
                log.error("计数查询失败：%s", result)
                self.total = len(self._rows)
                self.failed.emit(result)
            self.count_changed.emit(self.total)

        run_in_pool(count, counted)

    def _page_query(self) -> Select:
        key = self._key
        q = self._query.add_columns(key.label(_KEY_LABEL)).order_by(None)
        if self._last_key is not None:
            q = q.where(key < self._last_key if self._descending else key > self._last_key)
        return q.order_by(key.desc() if self._descending else key.asc()).limit(self.page_size)

    # --- fetching ----------------------------------------------------------------------------------
    def canFetchMore(self, parent=QModelIndex()) -> bool:  # Qt API
        if parent.isValid():
            return False
        return not self._exhausted

    def fetchMore(self, parent=QModelIndex()) -> None:  # Qt API
        if parent.isValid() or self._exhausted or self._query is None:
            return
        try:
            with self._session_factory() as session:
                rows = session.execute(self._page_query()).all()
        except Exception as exc:  # noqa: BLE001
            log.error("分页查询失败：%s", exc)
            self._exhausted = True
            self.failed.emit(exc)
            return
        self.pages_fetched += 1
        if len(rows) < self.page_size:
            self._exhausted = True
        if not rows:
            return
        self._last_key = rows[-1][-1]
        # One selected entity → the entity itself; several columns → the row without the key.
        items = [r[0] if len(r) == 2 else tuple(r[:-1]) for r in rows]
        # Lists mask ID numbers whoever looks: the rows leave the query as masked, read-only views.
        items = personal.masked(items)
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(items) - 1)
        self._rows.extend(items)
        self.endInsertRows()

    def fetch_all(self) -> None:
        """Load every remaining page (for exports of a filtered view; never called by the view)."""
        while self.canFetchMore():
            self.fetchMore()

    # --- Qt model -----------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def row_object(self, row: int) -> Any:
        return self._rows[row]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        col = self._columns[index.column()]
        obj = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = col.value(obj)
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(col.align)
        if role == Qt.ItemDataRole.ToolTipRole and col.tooltip is not None:
            return col.tooltip(obj)
        if role == Qt.ItemDataRole.UserRole:
            return obj
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._columns[section].title
        if role == Qt.ItemDataRole.TextAlignmentRole and orientation == Qt.Orientation.Horizontal:
            return int(self._columns[section].align)
        return None
