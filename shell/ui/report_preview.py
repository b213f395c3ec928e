"""Print a report straight from a page: the PDF is generated on the thread pool (``run_task``:
progress and 取消) into a temporary file and shown in the shared preview, which prints and saves.
The same path as the report centre (``shell.core.reporting.generate``: permission checked,
generation audited). Used by every plugin's pages (receipts at a counter, a warehouse's ledger, an
event's 处理单); a page names the report by its id."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from shell.core.reporting import find_report, generate
from shell.errors import JiedaoError
from shell.ui.errors import error_text
from shell.ui.pdf_preview import PdfPreview
from shell.ui.tasks import Cancelled as TaskCancelled
from shell.ui.tasks import run_task


class ReportPreviewDialog(QDialog):
    """Generates ``report_id`` with ``params`` and previews it; ``result`` is the GeneratedReport."""

    def __init__(self, app_ctx, report_id: str, params: dict, parent: QWidget | None = None,
                 file_name: str | None = None, definition=None):
        super().__init__(parent)
        self.app_ctx = app_ctx
        self.definition = definition or find_report(app_ctx.plugin_manager, report_id)[1]
        self.params = dict(params)
        self.result = None
        self.task = None
        self.setObjectName("report-preview")
        self.setWindowTitle(self.definition.title)
        self.resize(980, 720)
        self._dir = tempfile.mkdtemp(prefix="jiedao-report-")
        self.status = QLabel("正在生成……", self)
        self.status.setObjectName("report-status")
        self.status.setWordWrap(True)
        self.preview = PdfPreview(self)
        self.preview.suggested_name = file_name or f"{self.definition.title}.pdf"
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.preview, 1)
        layout.addWidget(buttons)
        self.finished.connect(lambda _r: shutil.rmtree(self._dir, ignore_errors=True))

    def start(self):
        out = Path(self._dir) / "report.pdf"
        config = self.app_ctx.extras.get("config")
        font_path = getattr(config, "font_path", None) or None
        state = {"handle": None}
        definition, params, ctx = self.definition, self.params, self.app_ctx

        def work(progress):
            from reports import Cancelled

            def report_progress(done, total=None, text=""):
                return progress(done or 0, total or 0, text)

            def cancel() -> bool:
                return state["handle"] is not None and state["handle"].cancel_requested

            try:
                return generate(ctx.session_factory, ctx.actor, definition, params, out,
                                progress=report_progress, cancel=cancel, font_path=font_path)
            except Cancelled:
                raise TaskCancelled() from None

        self.task = state["handle"] = run_task(self, f"生成：{definition.title}", work, on_done=self._done,
                                               on_error=self._failed, on_cancel=self._cancelled,
                                               label=f"正在生成“{definition.title}”……")
        return self.task

    def _done(self, result) -> None:
        try:
            self.preview.load(result.path)
        except JiedaoError as exc:
            self._failed(exc)
            return
        self.result = result
        counts = f"共 {result.pages} 页" + (f"，{result.rows} 行" if result.rows else "")
        self.status.setText(f"已生成“{self.definition.title}”：{counts}。可打印或另存为 PDF。")

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"生成失败：{error_text(exc)[1]}")
        self.status.setStyleSheet("color: #c0392b;")

    def _cancelled(self) -> None:
        self.status.setText("已取消生成。")


def print_report(app_ctx, report_id: str, params: dict, parent: QWidget | None = None,
                 file_name: str | None = None, definition=None) -> ReportPreviewDialog:
    """Open the preview of ``report_id`` with ``params`` and start generating it."""
    dialog = ReportPreviewDialog(app_ctx, report_id, params, parent, file_name, definition)
    dialog.open()
    dialog.start()
    return dialog
