"""审计日志: who changed what and when, newest first, paged lazily (the log grows without end),
with filters and a before/after view of the selected entry. Times are shown in Asia/Shanghai."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QDate, QItemSelection, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
)

from shell.clock import format_local, local_today
from shell.core import audit_query
from shell.core.models import AuditLog
from shell.ui.errors import error_text
from shell.ui.settings._common import Page, make_button
from shell.ui.widgets.lazy_table import CENTER, RIGHT, Column, LazyTableModel

COLUMNS = (
    Column("时间", lambda e: format_local(e.at, seconds=True)),
    Column("用户", lambda e: e.actor_name),
    Column("操作", lambda e: audit_query.action_label(e.action), CENTER),
    Column("对象", lambda e: audit_query.entity_label(e.entity)),
    Column("编号", lambda e: e.entity_id or "", RIGHT),
    Column("说明", lambda e: e.summary or audit_query.short_summary(e),
           tooltip=lambda e: e.summary or audit_query.short_summary(e)),
)


def details_html(entry: AuditLog) -> str:
    esc = html.escape
    head = (f"<p><b>{esc(format_local(entry.at, seconds=True))}</b>　{esc(entry.actor_name or '（系统）')}　"
            f"{esc(audit_query.action_label(entry.action))}　{esc(audit_query.entity_label(entry.entity))}"
            f"{' #' + esc(entry.entity_id) if entry.entity_id else ''}</p>")
    if entry.summary:
        head += f"<p>{esc(entry.summary)}</p>"
    changes = audit_query.describe_changes(entry)
    if not changes:
        return head + "<p style='color:#777'>没有字段变化记录。</p>"
    rows = "".join(
        f"<tr><td>{esc(f)}</td><td style='color:#a33'>{esc(b)}</td><td style='color:#1e7e34'>{esc(a)}</td></tr>"
        for f, b, a in changes)
    return (head + "<table border='1' cellspacing='0' cellpadding='4' width='100%'>"
            "<tr><th align='left'>字段</th><th align='left'>修改前</th><th align='left'>修改后</th></tr>"
            f"{rows}</table>")


class AuditPage(Page):
    def __init__(self, app_ctx, config, settings=None):
        super().__init__(app_ctx, config, settings)
        self.entity = QComboBox(self)
        self.entity.setObjectName("audit-entity")
        self.action = QComboBox(self)
        self.action.setObjectName("audit-action")
        self.user = QLineEdit(self)
        self.user.setObjectName("audit-user")
        self.user.setPlaceholderText("用户姓名")
        self.user.setMaximumWidth(140)
        self.record = QLineEdit(self)
        self.record.setObjectName("audit-record")
        self.record.setPlaceholderText("记录编号")
        self.record.setMaximumWidth(90)
        self.record.returnPressed.connect(self.apply_filter)
        self.by_date = QCheckBox("日期", self)
        self.by_date.setObjectName("audit-by-date")
        today = QDate(local_today())
        self.since = QDateEdit(today.addDays(-30), self)
        self.until = QDateEdit(today, self)
        for w in (self.since, self.until):
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd")
            w.setEnabled(False)
        self.by_date.toggled.connect(self.since.setEnabled)
        self.by_date.toggled.connect(self.until.setEnabled)
        self.query_button = make_button("查询", "audit-query", self.apply_filter, self)
        self.export_button = make_button("导出…", "audit-export", self.export, self)
        self.export_button.setToolTip("把当前筛选出的审计日志导出为 Excel 或 PDF（导出本身也记入审计日志）")
        self.user.returnPressed.connect(self.apply_filter)

        filters = QHBoxLayout()
        for label, w in (("对象", self.entity), ("操作", self.action), ("用户", self.user), ("编号", self.record)):
            filters.addWidget(QLabel(label, self))
            filters.addWidget(w)
        filters.addWidget(self.by_date)
        filters.addWidget(self.since)
        filters.addWidget(QLabel("至", self))
        filters.addWidget(self.until)
        filters.addWidget(self.query_button)
        filters.addStretch(1)
        filters.addWidget(self.export_button)

        self.model = LazyTableModel(app_ctx.session_factory, COLUMNS, page_size=200, parent=self, show_errors=False)
        self.table = QTableView(self)
        self.table.setObjectName("audit-table")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for c, width in enumerate((170, 90, 70, 130, 60)):  # fits "2026-11-22 12:54" at 14px
            header.resizeSection(c, width)
        header.setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.details = QTextBrowser(self)
        self.details.setObjectName("audit-details")
        self.details.setPlaceholderText("选择一条记录查看修改前后的内容")

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.count = QLabel(self)
        self.count.setObjectName("audit-count")
        self.model.count_changed.connect(lambda n: self.count.setText(f"共 {n} 条"))
        self.model.failed.connect(lambda exc: self.count.setText(f"查询失败：{error_text(exc)[1]}"))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(split, 1)
        self.export_status = QLabel(self)
        self.export_status.setObjectName("audit-export-status")
        bottom = QHBoxLayout()
        bottom.addWidget(self.count)
        bottom.addStretch(1)
        bottom.addWidget(self.export_status)
        layout.addLayout(bottom)
        self._fill_choices()
        self.apply_filter()

    def _fill_choices(self) -> None:
        entities, actions = self.read(lambda s: (audit_query.audit_entities(s), audit_query.audit_actions(s)))
        for box, values, label in ((self.entity, entities, audit_query.entity_label),
                                   (self.action, actions, audit_query.action_label)):
            current = box.currentData()
            box.blockSignals(True)
            box.clear()
            box.addItem("全部", None)
            for v in values:
                box.addItem(label(v), v)
            i = box.findData(current)
            box.setCurrentIndex(max(i, 0))
            box.blockSignals(False)

    def refresh(self) -> None:
        """New entries were written (e.g. by another page): reload choices and the first page."""
        self._fill_choices()
        self.apply_filter()

    def filters(self) -> dict:
        """The filters as on screen, in the audit ledger's parameter names."""
        since = until = None
        if self.by_date.isChecked():
            since, until = self.since.date().toPython(), self.until.date().toPython()
            if since > until:
                since, until = until, since
        return {"entity": self.entity.currentData(), "action": self.action.currentData(),
                "user": self.user.text().strip() or None, "since": since, "until": until,
                "record": self.record.text().strip() or None}

    def apply_filter(self) -> None:
        f = self.filters()
        ok, query = self.call(lambda s: audit_query.audit_query(
            s, entity=f["entity"], action=f["action"], actor=f["user"], since=f["since"], until=f["until"],
            record=f["record"]))
        if ok:
            self.model.set_query(query, AuditLog.id, descending=True)
        self.details.clear()

    def showEvent(self, event):  # Qt API
        # Coming back to the page after editing users or areas: show those changes too.
        super().showEvent(event)
        if getattr(self, "_shown_once", False):
            self.refresh()
        self._shown_once = True

    def _selected(self, _sel: QItemSelection = None, _desel: QItemSelection = None) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.details.clear()
            return
        self.details.setHtml(details_html(self.model.row_object(rows[0].row())))

    def row_texts(self, limit: int = 50) -> list[list[str]]:
        m = self.model
        return [[m.data(m.index(r, c)) for c in range(m.columnCount())] for r in range(min(limit, m.rowCount()))]

    def export(self, path: str | Path | None = None) -> None:
        """Export what the filters select (the audit ledger, through the report engine, off the GUI
        thread); ``path`` skips the file dialog (tests)."""

        from shell.core.reporting import generate
        from shell.ui.tasks import run_task

        if path is None:
            from shell.ui.files import ask_save_path

            path = ask_save_path(self, "导出审计日志", f"审计日志-{local_today():%Y%m%d}.xlsx",
                                 "Excel 工作簿 (*.xlsx);;PDF 文件 (*.pdf)")
            if path is None:
                return
        definition = audit_query.core_reports()[0]
        params = self.filters()
        self.export_status.setText("正在导出……")

        def done(result) -> None:
            self.export_status.setText(f"已导出 {result.rows} 条到 {result.path}")
            self.refresh()  # the export itself is in the log now

        def work(progress):
            return generate(self.app_ctx.session_factory, self.app_ctx.actor, definition, params, path,
                            progress=lambda d, t=None, text="": progress(d or 0, t or 0, text),
                            font_path=getattr(self.config, "font_path", None) or None)

        self.export_task = run_task(self, "导出审计日志", work, on_done=done, cancellable=False)
