"""志愿服务证明 from the volunteer card: choose the service period (or all approved service), issue
the numbered certificate through the report engine (``shell.core.reporting.generate`` with the
plugin's ``volunteer.certificate`` definition, so it is permission-checked and audited like any
report) on the thread pool, and show it in the shared PDF preview with 打印… and 另存为….
Each generation takes a new number; numbers are never reused."""
from __future__ import annotations

import shutil
import tempfile
import weakref
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QCheckBox, QDateEdit, QDialog, QLabel, QVBoxLayout, QWidget

from shell.clock import LOCAL_TZ
from shell.core.reporting import generate
from shell.ui.pdf_preview import PdfPreview
from shell.ui.tasks import run_task
from shell.ui.widgets.form import FormDialog

from ..ledgers import REPORTS

CERTIFICATE_ID = "volunteer.certificate"


def certificate_definition():
    return next(d for d in REPORTS if d.id == CERTIFICATE_ID)


class CertificateDialog(FormDialog):
    """Period of the certificate; 出具 starts the generation and closes."""

    def __init__(self, parent: QWidget | None, name: str, number: str, today: date):
        super().__init__(parent, "出具志愿服务证明", "certificate-dialog",
                         f"为“{name}”（志愿者编号 {number}）出具志愿服务证明。证明列出期间内经负责人审核的服务记录，"
                         "编号自动生成、不会重复使用。", ok_text="出具并预览")
        self.limit = self.form.add("limit", "服务期间", QCheckBox("只证明以下期间的服务（不勾选则为全部已审核服务）"))
        self.limit.setObjectName("certificate-limit")
        self.date_from = self.form.add("date_from", "起始日期", QDateEdit())
        self.date_to = self.form.add("date_to", "截止日期", QDateEdit())
        for edit, value in ((self.date_from, date(today.year, 1, 1)), (self.date_to, today)):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setCalendarPopup(True)
            edit.setDate(QDate(value.year, value.month, value.day))
            edit.setEnabled(False)
        self.date_from.setObjectName("certificate-from")
        self.date_to.setObjectName("certificate-to")
        self.limit.toggled.connect(self.date_from.setEnabled)
        self.limit.toggled.connect(self.date_to.setEnabled)
        self.finish_layout()

    def period(self) -> tuple[date | None, date | None]:
        if not self.limit.isChecked():
            return None, None
        return self.date_from.date().toPython(), self.date_to.date().toPython()

    def submit(self) -> bool:
        start, end = self.period()
        if start and end and end < start:
            self.form.show_errors({"date_to": "截止日期不能早于起始日期。"})
            return False
        return True


class CertificatePreview(QDialog):
    """The issued certificate in the shared PDF preview (打印…, 另存为…)."""

    def __init__(self, parent: QWidget | None, path: Path, title: str, suggested_name: str):
        super().__init__(parent)
        self.setObjectName("certificate-preview")
        self.setWindowTitle(title)
        self.resize(820, 900)
        self.title_label = QLabel(title, self)
        self.title_label.setStyleSheet("font-size: 15px; font-weight: bold; padding: 6px 8px;")
        self.preview = PdfPreview(self)
        self.preview.suggested_name = suggested_name
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title_label)
        layout.addWidget(self.preview, 1)
        self.preview.load(path)


class CertificatePrinter(QWidget):
    """Runs the whole flow for one page; ``issued(number, path)`` after the preview opened and
    ``failed(message)`` when the service refused (no approved hours, no permission…)."""

    issued = Signal(str, str)
    failed = Signal(str)

    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.hide()
        self.app_ctx = app_ctx
        self.dialog: CertificateDialog | None = None
        self.preview: CertificatePreview | None = None
        self.task = None
        self._dir = tempfile.mkdtemp(prefix="jiedao-certificate-")
        self._seq = 0
        weakref.finalize(self, shutil.rmtree, self._dir, True)

    def start(self, volunteer_name: str, volunteer_number: str) -> CertificateDialog:
        today = self.app_ctx.clock().astimezone(LOCAL_TZ).date()
        dialog = CertificateDialog(self.parentWidget(), volunteer_name, volunteer_number, today)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._generate(volunteer_name, volunteer_number, *dialog.period()))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _generate(self, name: str, number: str, start: date | None, end: date | None) -> None:
        ctx = self.app_ctx
        definition = certificate_definition()
        params = {"number": number, "date_from": start, "date_to": end}
        self._seq += 1
        out = Path(self._dir) / f"certificate-{self._seq}.pdf"
        config = ctx.extras.get("config")
        font_path = getattr(config, "font_path", None) or None

        def work(progress):
            result = generate(ctx.session_factory, ctx.actor, definition, params, out, font_path=font_path)
            # The number the builder issued: the newest certificate of this volunteer.
            from .. import services as svc

            with ctx.service(commit=False) as sctx:
                return result, svc.latest_certificate_number(sctx, number)

        def done(payload) -> None:
            result, cert_number = payload
            title = f"志愿服务证明 {cert_number} — {name}"
            self.preview = CertificatePreview(self.parentWidget(), result.path, title,
                                              f"志愿服务证明-{name}-{cert_number}.pdf")
            self.preview.show()
            self.issued.emit(cert_number, str(result.path))

        def error(exc: BaseException) -> None:
            from shell.ui.errors import error_text

            self.failed.emit(error_text(exc)[1])

        self.task = run_task(self.parentWidget(), "出具志愿服务证明", work, on_done=done, on_error=error,
                             cancellable=False, label=f"正在出具“{name}”的志愿服务证明……")
