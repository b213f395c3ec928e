"""What every settings page shares: running a service with its errors shown, and small-job workers
that keep slow work (a server that does not answer, a big backup) off the GUI thread."""
from __future__ import annotations

import logging
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from shell.config import LocalConfig
from shell.core.context import AppContext, ServiceContext
from shell.errors import JiedaoError
from shell.ui.errors import show_error

log = logging.getLogger(__name__)

NOTE_STYLE = "color: #666;"
OK_STYLE = "color: #1e7e34;"
ERROR_STYLE = "color: #c0392b;"

# Jobs in flight: the Python objects must outlive the pool thread that runs them.
_RUNNING: set["_Job"] = set()


class _JobSignals(QObject):
    # Created in the GUI thread, so a worker's emit is queued onto the GUI thread.
    done = Signal(bool, object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any]):
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.signals = _JobSignals()

    def run(self) -> None:
        try:
            result, ok = self.fn(), True
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, never lost
            result, ok = exc, False
        try:
            self.signals.done.emit(ok, result)
        except RuntimeError:  # the dialog was closed meanwhile
            log.debug("后台任务结束时窗口已关闭")


def run_in_pool(fn: Callable[[], Any], on_done: Callable[[bool, Any], None]) -> None:
    """Run ``fn()`` on the global QThreadPool; ``on_done(ok, result_or_exception)`` in the GUI thread."""
    job = _Job(fn)
    _RUNNING.add(job)

    def finished(ok: bool, result: Any) -> None:
        _RUNNING.discard(job)
        on_done(ok, result)

    job.signals.done.connect(finished)
    QThreadPool.globalInstance().start(job)


def jobs_running() -> int:
    return len(_RUNNING)


class Page(QWidget):
    """Base of the settings pages. ``settings`` is the SettingsDialog (for ``database_changed``)."""

    def __init__(self, app_ctx: AppContext, config: LocalConfig, settings: Any = None):
        super().__init__(settings)
        self.app_ctx = app_ctx
        self.config = config
        self.settings = settings

    @property
    def actor(self):
        return self.app_ctx.actor

    def call(self, fn: Callable[..., Any], *args: Any, inline: Any = None, **kwargs: Any) -> tuple[bool, Any]:
        """Run ``fn(service_ctx, *args, **kwargs)`` in one transaction. A ValidationError goes to
        ``inline`` (a Form) when it knows the field; every other error is shown in a dialog."""
        try:
            with self.app_ctx.service() as sctx:
                return True, fn(sctx, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - typed errors shown as is, others logged with details
            if inline is not None and inline.show_exception(exc):
                return False, exc
            show_error(self, exc)
            return False, exc

    def read(self, fn: Callable[[ServiceContext], Any]) -> Any:
        """A read-only service call (rolled back)."""
        with self.app_ctx.service(commit=False) as sctx:
            return fn(sctx)


def note(text: str, parent: QWidget | None = None, style: str = NOTE_STYLE) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setStyleSheet(style)
    return label


def button_row(*buttons: QPushButton, stretch_first: bool = False) -> QHBoxLayout:
    row = QHBoxLayout()
    if stretch_first:
        row.addStretch(1)
    for b in buttons:
        row.addWidget(b)
    if not stretch_first:
        row.addStretch(1)
    return row


def make_button(text: str, name: str, slot: Callable[[], Any], parent: QWidget | None = None,
                tooltip: str = "") -> QPushButton:
    b = QPushButton(text, parent)
    b.setObjectName(name)
    if tooltip:
        b.setToolTip(tooltip)
    b.clicked.connect(lambda _checked=False: slot())
    return b


def message_of(exc: BaseException) -> str:
    if isinstance(exc, JiedaoError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"
