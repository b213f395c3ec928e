"""Small pieces shared by the party-building pages: date fields, plain read-only tables, and
opening a PDF produced by the report engine off the GUI thread."""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDialog,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shell.clock import local_today
from shell.core import fields
from shell.errors import ValidationError

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class Refused(Exception):
    """Raised inside ``attempt(...)`` after a form's ``call`` was refused (the form shows why)."""


@contextmanager
def attempt(app_ctx) -> Iterator:
    """``app_ctx.service()`` for a form's submit: raising ``Refused`` in the block rolls the whole
    transaction back (all or nothing: an earlier step of the same submit is not saved either) and
    ends the block quietly. The view never touches the session itself."""
    try:
        with app_ctx.service() as ctx:
            yield ctx
    except Refused:
        pass


def date_edit(value: date | None = None) -> QDateEdit:
    w = QDateEdit()
    w.setCalendarPopup(True)
    w.setDisplayFormat("yyyy-MM-dd")
    w.setDate(QDate(value or local_today()))  # Beijing's date, not the computer's (QDate.currentDate)
    return w


def optional_date_edit() -> QLineEdit:
    """A date that may be left empty (QDateEdit cannot be empty)."""
    w = QLineEdit()
    w.setPlaceholderText("如 2020-07-01，可空")
    return w


def parse_date(text: str, field: str, label: str) -> date | None:
    """An optional date typed in a form, read by the shared rule (``shell.core.fields.parse_date``:
    2020-07-01, 2020/7/1, 2020.7.1, 20200701, 2020年7月1日, full-width digits); the form's wording
    when it is not a date."""
    text = (text or "").strip()
    try:
        return fields.parse_date(text, label, field, required=False)
    except ValidationError:
        raise ValidationError(f"{label}“{text}”不是有效日期，请写成 2020-07-01 这样的年-月-日。", field, text) from None


def yuan_to_fen(text: str, field: str, label: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = round(float(text) * 100)
    except ValueError:
        raise ValidationError(f"{label}“{text}”应为金额（元），如 4500 或 4500.50。", field, text) from None
    if value < 0:
        raise ValidationError(f"{label}不能为负数。", field, text)
    return value


class PlainTable(QTableWidget):
    """A read-only table filled from rows of strings; ``right`` columns are right-aligned."""

    def __init__(self, headers: list[str], right: tuple[int, ...] = (), parent: QWidget | None = None):
        super().__init__(0, len(headers), parent)
        self.right = right
        self.setHorizontalHeaderLabels(headers)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        for c in range(len(headers) - 1):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self._modes = [header.sectionResizeMode(c) for c in range(len(headers))]
        self.filling = False

    CHUNK = 500   # rows filled per turn of the event loop (a long list must not freeze the window)

    def set_rows(self, rows: list[tuple], data: list | None = None, colors: list[str | None] | None = None) -> None:
        """Replace the rows: the first ``CHUNK`` at once, the rest in further slices from the event
        loop (``filling`` is true meanwhile). Columns sized to their contents would be measured
        again after every item (thousands of rows took seconds, replacing them minutes): they are
        switched to fixed widths while filling and measured once afterwards, on the first rows."""
        self._generation = getattr(self, "_generation", 0) + 1
        self.setRowCount(0)
        self.setRowCount(len(rows))
        self.filling = True
        self._fill(self._generation, rows, data, colors, 0)

    def append_rows(self, rows: list[tuple], data: list | None = None, colors: list[str | None] | None = None) -> None:
        """Add rows at the end (the next page of a list), as ``set_rows`` fills them."""
        offset = self.rowCount()
        self.setRowCount(offset + len(rows))
        self.filling = True
        self._fill(getattr(self, "_generation", 0), rows, data, colors, 0, offset)

    def _fill(self, generation: int, rows, data, colors, start: int, offset: int = 0) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtGui import QBrush, QColor

        try:
            self.objectName()
        except RuntimeError:   # deleted meanwhile
            return
        if generation != self._generation:
            return
        end = min(len(rows), start + self.CHUNK)
        header = self.horizontalHeader()
        for c in range(self.columnCount()):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
        self.setUpdatesEnabled(False)
        try:
            brushes = {}
            for r in range(start, end):
                color = colors[r] if colors is not None else None
                if color and color not in brushes:
                    brushes[color] = QBrush(QColor(color))   # one brush (a QColor is converted per call)
                for c, value in enumerate(rows[r]):
                    item = QTableWidgetItem("" if value is None else str(value))
                    if c in self.right:
                        item.setTextAlignment(RIGHT)
                    if data is not None and c == 0:
                        item.setData(Qt.ItemDataRole.UserRole, data[r])
                    if color:
                        item.setForeground(brushes[color])
                    self.setItem(offset + r, c, item)
        finally:
            header.setResizeContentsPrecision(200)   # measure widths on the first rows only
            for c, mode in enumerate(self._modes):
                header.setSectionResizeMode(c, mode)
            self.setUpdatesEnabled(True)
        if end < len(rows):
            QTimer.singleShot(0, lambda: self._fill(generation, rows, data, colors, end, offset))
        else:
            self.filling = False

    def column_texts(self, column: int) -> list[str]:
        return [self.item(r, column).text() for r in range(self.rowCount())]

    def row_data(self, row: int):
        item = self.item(row, 0)
        return item.data(Qt.ItemDataRole.UserRole) if item else None


class PdfDialog(QDialog):
    """The shell's PDF preview (print, save) in a window of its own."""

    def __init__(self, path: Path, title: str, parent: QWidget | None = None):
        from shell.ui.pdf_preview import PdfPreview

        super().__init__(parent)
        self.setObjectName("pb-pdf-dialog")
        self.setWindowTitle(title)
        self.resize(900, 700)
        self.preview = PdfPreview(self)
        self.preview.suggested_name = f"{title}.pdf"
        self.preview.load(path)
        QVBoxLayout(self).addWidget(self.preview)


def print_report(parent: QWidget, app_ctx, report_id: str, params: dict, title: str, on_ready=None):
    """Generate a report of this plugin to a temporary PDF on the thread pool (progress + 取消), then
    show it in a preview window. ``on_ready(dialog)`` is called with the open preview."""
    from shell.core import reporting
    from shell.plugins import call_each
    from shell.ui.tasks import run_task

    defs = [d for _n, d in call_each(app_ctx.plugin_manager, "register_reports") if d.id == report_id]
    if not defs:
        raise ValidationError(f"找不到报表“{title}”。", None)
    definition = defs[0]
    out = Path(tempfile.mkdtemp(prefix="jiedao-pb-")) / f"{title}.pdf"
    parsed = reporting.parse_params(definition, {k: str(v) for k, v in params.items()})

    state: dict = {}
    config = app_ctx.extras.get("config")
    font_path = getattr(config, "font_path", None) or None

    def work(progress):
        from reports import Cancelled as RenderCancelled
        from shell.ui.tasks import Cancelled

        def cb(done, total=None, text=""):
            return progress(done or 0, total or 0, text)

        try:
            return reporting.generate(app_ctx.session_factory, app_ctx.actor, definition, parsed, out, progress=cb,
                                      cancel=lambda: "handle" in state and state["handle"].cancel_requested, font_path=font_path)
        except RenderCancelled:
            raise Cancelled() from None

    def done(_result):
        dlg = PdfDialog(out, title, parent)
        parent._pb_pdf_dialog = dlg  # keep it alive
        dlg.show()
        if on_ready is not None:
            on_ready(dlg)

    state["handle"] = run_task(parent, f"生成：{title}", work, on_done=done)
    return state["handle"]
