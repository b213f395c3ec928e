"""Small pieces the volunteer pages share: local date/time conversion for Qt editors, read-only
tables, a reason dialog and a volunteer picker. Views call services only."""
from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from reports.masking import mask_id
from shell.clock import LOCAL_TZ
from shell.errors import JiedaoError
from shell.ui.widgets import SearchBox
from shell.ui.widgets.form import FormDialog

from .. import services as svc

ID_ROLE = Qt.ItemDataRole.UserRole
OK_STYLE = "color: #1e7e34; font-weight: bold;"
BAD_STYLE = "color: #c0392b; font-weight: bold;"
MUTED_STYLE = "color: palette(mid);"
# Column widths are fitted to this many rows (Qt's default, 1000, calls the model for every loaded
# row: ≈0.1 s for a 200-row page of the large street).
RESIZE_ROWS = 30


def fit_columns(view, samples: tuple[str, ...]) -> None:
    """Column widths from typical contents, set once: sizing a lazy list from its rows on every new
    filter asks the model for every cell of the page (tens of ms per search on the large street)."""
    header = view.horizontalHeader()
    metrics = view.fontMetrics()
    for column, sample in enumerate(samples):
        title = view.model().headerData(column, Qt.Orientation.Horizontal) or ""
        header.resizeSection(column, max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(str(title)))
                             + 28)


def to_qdatetime(dt: datetime) -> QDateTime:
    """An aware datetime shown as Shanghai wall-clock time."""
    local = dt.astimezone(LOCAL_TZ)
    return QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute))


def from_qdatetime(value: QDateTime) -> datetime:
    """The Shanghai wall-clock time of an editor as an aware UTC datetime (whole minutes)."""
    d, t = value.date(), value.time()
    local = datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=LOCAL_TZ)
    return local.astimezone(UTC)


def local_hm(dt: datetime | None) -> str:
    return dt.astimezone(LOCAL_TZ).strftime("%H:%M") if dt is not None else ""


def datetime_edit(value: datetime, parent: QWidget | None = None) -> QDateTimeEdit:
    edit = QDateTimeEdit(to_qdatetime(value), parent)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    edit.setCalendarPopup(True)
    return edit


def cell(text, align=None, data=None) -> QTableWidgetItem:
    item = QTableWidgetItem("" if text is None else str(text))
    if align is not None:
        item.setTextAlignment(align)
    if data is not None:
        item.setData(ID_ROLE, data)
    return item


def read_only_table(headers: list[str], parent: QWidget, multi: bool = False) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if multi
                           else QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.horizontalHeader().setResizeContentsPrecision(RESIZE_ROWS)
    return table


def minutes_text(minutes: int) -> str:
    return f"{svc.hours_text(minutes)} 小时"


class ReasonDialog(FormDialog):
    """Asks for the reason of a rejection, reversal or correction; ``action(reason)`` does the work and
    its ValidationError is shown under the field."""

    def __init__(self, parent: QWidget | None, title: str, name: str, intro: str, label: str, action,
                 placeholder: str = "", ok_text: str = "确定"):
        super().__init__(parent, title, name, intro, ok_text=ok_text)
        self.action = action
        self.result_value = None
        self.reason = self.form.add("reason", label, QLineEdit(), required=True)
        self.reason.setObjectName(f"{name}-reason")
        self.reason.setPlaceholderText(placeholder)
        self.finish_layout()

    def submit(self) -> bool:
        ok, result = self.call(self.action, self.form.value("reason"))
        self.result_value = result
        return ok


class VolunteerPicker(FormDialog):
    """Find volunteers (name, pinyin initials, 志愿者编号, ID number, phone) and pick one or more."""

    LIMIT = 50

    def __init__(self, parent: QWidget | None, app_ctx, title: str, intro: str, ok_text: str = "确定",
                 exclude: set[int] | None = None, roles: tuple[str, ...] = ()):
        super().__init__(parent, title, "volunteer-picker", intro, ok_text=ok_text)
        self.app_ctx = app_ctx
        self.exclude = exclude or set()
        self.search = self.form.add("search", "查找", SearchBox(self, placeholder="姓名、拼音、编号、身份证号或电话"))
        self.results = self.form.add("volunteer_id", "志愿者", QListWidget(self), required=True,
                                     hint="可按住 Ctrl 多选")
        self.results.setObjectName("picker-results")
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.results.setMinimumHeight(220)
        self.results.itemDoubleClicked.connect(lambda _i: self._ok())
        self.search.search.connect(self.find)
        self.chosen: list[int] = []
        self.role = None
        if roles:
            self.role = self.form.add("role", "队内角色", QComboBox(self))
            for r in roles:
                self.role.addItem(r, r)
        self.finish_layout()
        self.find("")

    def find(self, text: str) -> None:
        """The volunteers matching ``text``; before anything is typed, the recent ones in scope."""
        self.results.clear()
        try:
            with self.app_ctx.service(commit=False) as ctx:
                if text.strip():
                    rows = [(v.id, v.number, v.name, mask_id(v.id_number))
                            for v in svc.list_volunteers(ctx, text, active=True, limit=self.LIMIT)]
                else:   # the ID number leaves the service masked
                    rows = [(m.volunteer_id, m.number, m.name, m.id_number)
                            for m in svc.recent_volunteers(ctx, limit=self.LIMIT)]
        except JiedaoError as exc:
            self.form.show_errors({None: exc.message})
            return
        self.results.setToolTip("" if text.strip() else "最近参加活动的志愿者；输入姓名、拼音、编号可查找其他人")
        for vid, number, name, masked in rows:
            item = QListWidgetItem(f"{name}　{number}　{masked}" + ("（已在名单中）" if vid in self.exclude else ""))
            item.setData(ID_ROLE, vid)
            if vid in self.exclude:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.results.addItem(item)
        if not rows:
            self.form.show_errors({"volunteer_id": "没有找到符合条件的在册志愿者。" if text.strip()
                                   else "辖区内还没有在册志愿者。"})
        else:
            self.form.clear_errors()

    def selected_ids(self) -> list[int]:
        return [item.data(ID_ROLE) for item in self.results.selectedItems()]

    def submit(self) -> bool:
        ids = self.selected_ids()
        if not ids:
            self.form.show_errors({"volunteer_id": "请先查找并选择志愿者。"})
            return False
        self.chosen = ids
        return True
