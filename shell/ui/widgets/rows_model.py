"""``RowsModel``: a table over plain rows the page already holds in memory (a warehouse's batches, the
year's drills, an import's bad rows), beside ``LazyTableModel`` for lists fetched page by page. A
subclass names its ``headers`` and says what a cell shows in ``cell``; other roles (colours, tool tips,
alignment) go to ``role_data``."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
CENTER = int(Qt.AlignmentFlag.AlignCenter)


class RowsModel(QAbstractTableModel):
    headers: Sequence[str] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[Any] = []

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def cell(self, row: Any, column: int) -> str:
        """The text of ``column`` for ``row``."""
        return ""

    def role_data(self, row: Any, column: int, role: int) -> Any:
        """Any other role (background, foreground, tool tip, alignment); None for the default."""
        return None

    def rowCount(self, parent=QModelIndex()) -> int:  # Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # Qt API
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # Qt API
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(row, index.column())
        return self.role_data(row, index.column(), role)
