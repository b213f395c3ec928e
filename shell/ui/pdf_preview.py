"""An in-app PDF preview (QtPdf) with page navigation, zoom, print (QPrintDialog + QPrinter) and save.

    preview = PdfPreview(parent)
    preview.load("ledger.pdf")          # raises ValidationError with a Chinese message when unreadable
    preview.page_count()                # 0 when nothing is loaded

Printing renders each PDF page with ``QPdfDocument.render`` into the printer's page rect (A4, the
orientation taken from the PDF's page size), honouring the page range chosen in the print dialog.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPoint, QPointF, QRect, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from shell.errors import ValidationError

ZOOM_STEP = 1.25
ZOOM_MIN, ZOOM_MAX = 0.25, 4.0
# Pages are rasterised for the printer at its resolution, but never finer than this: a 1200 dpi A4
# page would need half a gigabyte of memory, and 600 dpi is sharper than any office laser prints.
MAX_PRINT_DPI = 600
MIN_PRINT_DPI = 300


def _accepted(result) -> bool:
    accepted = QDialog.DialogCode.Accepted
    return result == accepted or result == getattr(accepted, "value", 1)


class PdfPreview(QWidget):
    """Multi-page view of one PDF file with a tool bar: 上一页 / 下一页, "第 x / y 页", 缩小 / 放大 /
    适合宽度, 打印…, 另存为….  ``suggested_name`` is the default file name offered by 另存为…."""

    loaded = Signal(int)            # page count, after a successful load
    printed = Signal(int)           # pages sent to the printer
    saved = Signal(str)             # path written by 另存为…

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("pdf-preview")
        self.path: Path | None = None
        self.suggested_name = "报表.pdf"
        self.printer: QPrinter | None = None   # kept, so the next print starts with the last choices

        self.document = QPdfDocument(self)
        self.view = QPdfView(self)
        self.view.setObjectName("pdf-view")
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setPageSpacing(12)
        self.view.setDocumentMargins(QMarginsF(12, 12, 12, 12).toMargins())
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        self.view.setStyleSheet("QPdfView { background: #d9dde3; }")
        nav = self.view.pageNavigator()
        nav.currentPageChanged.connect(self._update_controls)
        self.view.zoomFactorChanged.connect(self._update_controls)
        self.view.zoomModeChanged.connect(self._update_controls)

        # --- tool bar --------------------------------------------------------------------------
        bar = QFrame(self)
        bar.setObjectName("pdf-toolbar")
        bar.setStyleSheet("QFrame#pdf-toolbar { background: #ffffff; border-bottom: 1px solid #dde1e7; }")
        row = QHBoxLayout(bar)
        row.setContentsMargins(8, 4, 8, 4)
        row.setSpacing(4)

        def tool(text: str, tip: str, slot) -> QToolButton:
            b = QToolButton(bar)
            b.setText(text)
            b.setToolTip(tip)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.clicked.connect(slot)
            row.addWidget(b)
            return b

        self.prev_button = tool("上一页", "上一页（PgUp）", self.previous_page)
        self.prev_button.setShortcut("PgUp")
        self.page_label = QLabel(bar)
        self.page_label.setObjectName("pdf-page-label")
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.page_label.setMinimumWidth(130)
        row.addWidget(self.page_label)
        self.next_button = tool("下一页", "下一页（PgDown）", self.next_page)
        self.next_button.setShortcut("PgDown")
        row.addSpacing(12)
        self.zoom_out_button = tool("缩小", "缩小（Ctrl+-）", self.zoom_out)
        self.zoom_out_button.setShortcut("Ctrl+-")
        self.zoom_label = QLabel(bar)
        self.zoom_label.setObjectName("pdf-zoom-label")
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_label.setMinimumWidth(70)
        row.addWidget(self.zoom_label)
        self.zoom_in_button = tool("放大", "放大（Ctrl++）", self.zoom_in)
        self.zoom_in_button.setShortcut("Ctrl++")
        self.fit_button = tool("适合宽度", "按窗口宽度显示整页宽", self.fit_width)
        row.addStretch(1)
        self.print_button = QPushButton("打印…", bar)
        self.print_button.setObjectName("pdf-print")
        self.print_button.setToolTip("选择打印机和页码范围后打印（Ctrl+P）")
        self.print_button.setShortcut("Ctrl+P")
        self.print_button.clicked.connect(self.print_document)
        row.addWidget(self.print_button)
        self.save_button = QPushButton("另存为…", bar)
        self.save_button.setObjectName("pdf-save")
        self.save_button.setToolTip("把预览中的 PDF 保存到文件")
        self.save_button.clicked.connect(self.save_as)
        row.addWidget(self.save_button)

        self.empty_label = QLabel("还没有可预览的报表。\n选择报表、填写参数后点“生成并预览”，生成的 PDF 会显示在这里。", self)
        self.empty_label.setObjectName("pdf-empty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: #6b7785; background: #f8f9fb;")

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(self.view)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(bar)
        layout.addWidget(self.stack, 1)
        self._update_controls()

    # --- loading ---------------------------------------------------------------------------------
    def load(self, path: str | Path) -> int:
        """Show ``path``; returns the page count. A file QtPdf cannot read raises ValidationError."""
        path = Path(path)
        self.clear()
        error = self.document.load(str(path))
        if error != QPdfDocument.Error.None_ or self.document.pageCount() < 1:
            self.document.close()
            raise ValidationError(f"无法打开 PDF 文件“{path.name}”预览（{getattr(error, 'name', error)}）。"
                                  "文件可能已损坏或正在被其他程序写入。", "pdf", str(path))
        self.path = path
        self.stack.setCurrentWidget(self.view)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.pageNavigator().jump(0, QPointF(0, 0), 0)
        self._update_controls()
        self.loaded.emit(self.page_count())
        return self.page_count()

    def clear(self) -> None:
        """Close the document (releases the file, e.g. before it is deleted)."""
        self.document.close()
        self.path = None
        self.stack.setCurrentWidget(self.empty_label)
        self._update_controls()

    def page_count(self) -> int:
        return self.document.pageCount() if self.path is not None else 0

    def current_page(self) -> int:
        """1-based number of the page at the top of the view (0 when empty)."""
        if not self.page_count():
            return 0
        return self.view.pageNavigator().currentPage() + 1

    # --- navigation and zoom ---------------------------------------------------------------------
    def go_to_page(self, number: int) -> None:
        """Scroll to 1-based page ``number`` (clamped)."""
        n = self.page_count()
        if not n:
            return
        number = max(1, min(n, number))
        nav = self.view.pageNavigator()
        nav.jump(number - 1, QPointF(0, 0), nav.currentZoom())
        self._update_controls()

    def next_page(self) -> None:
        self.go_to_page(self.current_page() + 1)

    def previous_page(self) -> None:
        self.go_to_page(self.current_page() - 1)

    def zoom_factor(self) -> float:
        return self.view.zoomFactor()

    def _set_zoom(self, factor: float) -> None:
        page = self.current_page()
        self.view.setZoomMode(QPdfView.ZoomMode.Custom)
        self.view.setZoomFactor(max(ZOOM_MIN, min(ZOOM_MAX, factor)))
        if page:
            self.go_to_page(page)
        self._update_controls()

    def _effective_zoom(self) -> float:
        """The zoom the user sees, also in 适合宽度 mode (where QPdfView keeps zoomFactor at 1)."""
        if self.view.zoomMode() == QPdfView.ZoomMode.Custom or not self.page_count():
            return self.view.zoomFactor()
        page_w_pt = self.document.pagePointSize(max(0, self.current_page() - 1)).width()
        if page_w_pt <= 0:
            return 1.0
        margins = self.view.documentMargins()
        avail = self.view.viewport().width() - margins.left() - margins.right()
        # QPdfView draws a point as (logical dpi / 72) pixels at zoom 1.
        return max(0.01, avail / (page_w_pt * self.logicalDpiX() / 72.0))

    def zoom_in(self) -> None:
        self._set_zoom(self._effective_zoom() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self._set_zoom(self._effective_zoom() / ZOOM_STEP)

    def fit_width(self) -> None:
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self._update_controls()

    def _update_controls(self, *_args) -> None:
        n = self.page_count()
        cur = self.current_page()
        self.page_label.setText(f"第 {cur} / {n} 页（共 {n} 页）" if n else "尚无预览")
        self.zoom_label.setText(f"{round(self._effective_zoom() * 100)}%" if n else "")
        self.prev_button.setEnabled(n > 0 and cur > 1)
        self.next_button.setEnabled(n > 0 and cur < n)
        for b in (self.zoom_in_button, self.zoom_out_button, self.fit_button, self.print_button, self.save_button):
            b.setEnabled(n > 0)

    def resizeEvent(self, event) -> None:  # Qt API
        super().resizeEvent(event)
        self._update_controls()

    # --- save --------------------------------------------------------------------------------------
    def save_as(self) -> str | None:
        """Ask for a file name and copy the previewed PDF there; returns the path or None."""
        if self.path is None:
            return None
        from shell.ui.files import ask_save_path

        target_path = ask_save_path(self, "另存为 PDF", self.suggested_name, "PDF 文件 (*.pdf)", ".pdf")
        if target_path is None:
            return None
        try:
            if target_path.resolve() != self.path.resolve():
                shutil.copyfile(self.path, target_path)
        except OSError as exc:
            QMessageBox.warning(self, "保存失败", f"无法保存到“{target_path}”：{exc.strerror or exc}。\n"
                                "请检查该文件是否正被其他程序打开，或换一个文件夹。")
            return None
        self.saved.emit(str(target_path))
        return str(target_path)

    # --- print -------------------------------------------------------------------------------------
    def _prepare_printer(self) -> QPrinter:
        if self.printer is None:
            self.printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer = self.printer
        first = self.document.pagePointSize(0)
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        printer.setPageOrientation(QPageLayout.Orientation.Landscape if first.width() > first.height()
                                   else QPageLayout.Orientation.Portrait)
        # The PDF page carries its own margins (and the room for the seal): print it at true size.
        printer.setFullPage(True)
        printer.setPageMargins(QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)
        printer.setDocName(self.suggested_name.rsplit(".", 1)[0])
        return printer

    def print_document(self) -> int:
        """打印…: the print dialog, then the chosen pages; returns the number of pages printed."""
        n = self.page_count()
        if not n:
            return 0
        printer = self._prepare_printer()
        printer.setPrintRange(QPrinter.PrintRange.AllPages)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("打印")
        dialog.setMinMax(1, n)
        dialog.setFromTo(1, n)
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintPageRange, True)
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintCurrentPage, True)
        if not _accepted(dialog.exec()):
            return 0
        return self.print_to(printer, self.pages_to_print(printer))

    def pages_to_print(self, printer: QPrinter) -> list[int]:
        """1-based page numbers selected in the print dialog (all, the current page, or a range)."""
        n = self.page_count()
        rng = printer.printRange()
        if rng == QPrinter.PrintRange.CurrentPage:
            return [max(1, self.current_page())]
        if rng == QPrinter.PrintRange.PageRange:
            ranges = printer.pageRanges()
            if not ranges.isEmpty():
                return [p for p in range(1, n + 1) if ranges.contains(p)]
            first, last = printer.fromPage(), printer.toPage()
            if first > 0:
                return list(range(max(1, first), min(n, last or n) + 1))
        return list(range(1, n + 1))

    def print_to(self, printer: QPrinter, pages: list[int] | None = None) -> int:
        """Render ``pages`` (1-based; default all) onto ``printer``; returns the pages printed."""
        n = self.page_count()
        pages = [p for p in (pages or range(1, n + 1)) if 1 <= p <= n]
        if not pages:
            return 0
        painter = QPainter()
        if not painter.begin(printer):
            QMessageBox.warning(self, "无法打印", "打印机没有响应，无法开始打印。请检查打印机是否已连接并开机，"
                                "或在打印对话框中选择另一台打印机。")
            return 0
        progress = None
        if len(pages) > 3:
            progress = QProgressDialog("正在打印……", "取消", 0, len(pages), self)
            progress.setWindowTitle("打印")
            progress.setWindowModality(Qt.WindowModality.WindowModal)
            progress.setMinimumDuration(300)
        printed = 0
        try:
            page_px = printer.pageRect(QPrinter.Unit.DevicePixel)
            target_w, target_h = page_px.width(), page_px.height()
            device_dpi = printer.resolution()
            render_dpi = max(MIN_PRINT_DPI, min(MAX_PRINT_DPI, device_dpi))
            for i, number in enumerate(pages):
                if progress is not None:
                    progress.setValue(i)
                    progress.setLabelText(f"正在打印第 {number} 页（{i + 1}/{len(pages)}）……")
                    if progress.wasCanceled():
                        printer.abort()
                        break
                if i:
                    printer.newPage()
                size_pt: QSizeF = self.document.pagePointSize(number - 1)
                scale = min(target_w / size_pt.width(), target_h / size_pt.height())  # device px per point
                w, h = size_pt.width() * scale, size_pt.height() * scale
                target = QRect(QPoint(round((target_w - w) / 2), round((target_h - h) / 2)),
                               QSize(round(w), round(h)))
                # Rasterise at the printer's resolution (capped) and let the painter place it.
                ratio = render_dpi / device_dpi if device_dpi > 0 else 1.0
                image = self.document.render(number - 1, QSize(max(1, round(w * ratio)), max(1, round(h * ratio))))
                painter.drawImage(target, image)
                printed += 1
        finally:
            painter.end()
            if progress is not None:
                progress.close()
                progress.deleteLater()
        self.printed.emit(printed)
        return printed
