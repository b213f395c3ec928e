"""Long work off the GUI thread: ``run_task`` runs a function on ``QThreadPool`` behind a
``QProgressDialog`` with 取消, and hands the result or the error back to the GUI thread by signals."""
from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from shell.gcpause import paused_gc

# Progress signals are throttled: a loop over 100k rows must not flood the GUI event queue.
PROGRESS_INTERVAL_S = 0.05
# Quick tasks finish before the dialog would appear, so it never flashes.
SHOW_AFTER_MS = 300


class Cancelled(Exception):
    """Work may raise this after ``progress(...)`` returned False; the task then counts as cancelled."""


class _Signals(QObject):
    # Lives in the GUI thread; emitting from the worker queues the call onto the GUI thread.
    progress = Signal(int, int, str)
    done = Signal(object)
    failed = Signal(object)
    cancelled = Signal()


class TaskHandle(QObject):
    """One running task. ``finished`` fires once, after on_done/on_error/on_cancel ran."""

    finished = Signal()

    def __init__(self, title: str, parent: QObject | None = None):
        super().__init__(parent)
        self.title = title
        self.result: Any = None
        self.error: BaseException | None = None
        self.was_cancelled = False
        self.is_finished = False
        self.dialog: QProgressDialog | None = None
        self._cancel = threading.Event()
        self._signals = _Signals()
        self._callbacks: tuple = (None, None, None, None)

    def cancel(self) -> None:
        """Ask the work to stop; it stops at its next ``progress`` call."""
        self._cancel.set()
        if self.dialog is not None:
            self.dialog.setLabelText(f"{self.title}：正在取消……")

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    # --- GUI-thread side ---------------------------------------------------------------------
    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, text: str) -> None:
        dialog = self.dialog
        if self.is_finished or dialog is None:
            return
        if total > 0:
            dialog.setMaximum(total)
            dialog.setValue(min(done, total))
        else:
            dialog.setMaximum(0)
        if text and not self.cancel_requested:
            dialog.setLabelText(text)

    def _finish(self) -> None:
        self.is_finished = True
        _ACTIVE.discard(self)
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.canceled.disconnect(self.cancel)
            dialog.close()
            dialog.deleteLater()

    @Slot(object)
    def _on_done(self, result: Any) -> None:
        on_done = self._callbacks[0]
        self.result = result
        self._finish()
        try:
            if on_done is not None:
                on_done(result)
        finally:
            self.finished.emit()

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        on_error, parent = self._callbacks[1], self._callbacks[3]
        self.error = exc
        self._finish()
        try:
            if on_error is not None:
                on_error(exc)
            else:
                from shell.ui.errors import show_error

                show_error(parent, exc)
        finally:
            self.finished.emit()

    @Slot()
    def _on_cancelled(self) -> None:
        on_cancel = self._callbacks[2]
        self.was_cancelled = True
        self._finish()
        try:
            if on_cancel is not None:
                on_cancel()
        finally:
            self.finished.emit()


class _Runner(QRunnable):
    def __init__(self, handle: TaskHandle, fn: Callable[..., Any], args: tuple, kwargs: dict):
        super().__init__()
        self.setAutoDelete(True)
        self.handle, self.fn, self.args, self.kwargs = handle, fn, args, kwargs
        self._last_emit = 0.0

    def progress(self, done: int, total: int = 0, text: str = "") -> bool:
        """Called by the work from its own thread; False means the user pressed 取消."""
        now = time.monotonic()
        if now - self._last_emit >= PROGRESS_INTERVAL_S or (total and done >= total):
            self._last_emit = now
            self.handle._signals.progress.emit(int(done), int(total), str(text))
        return not self.handle._cancel.is_set()

    def run(self) -> None:
        signals = self.handle._signals
        try:
            with paused_gc():  # a full collection mid-work held the GIL and froze the window
                result = self.fn(*self.args, progress=self.progress, **self.kwargs)
        except Cancelled:
            signals.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - every error must reach the GUI thread
            exc.__jiedao_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
            signals.failed.emit(exc)
        else:
            if self.handle._cancel.is_set():
                signals.cancelled.emit()
            else:
                signals.done.emit(result)


_ACTIVE: set[TaskHandle] = set()  # keeps handles alive while their work runs


def run_task(parent: QWidget | None, title: str, fn: Callable[..., Any], *args: Any,
             on_done: Callable[[Any], None] | None = None,
             on_error: Callable[[BaseException], None] | None = None,
             on_cancel: Callable[[], None] | None = None,
             cancellable: bool = True, label: str = "", show_after_ms: int = SHOW_AFTER_MS,
             **kwargs: Any) -> TaskHandle:
    """Run ``fn(*args, progress=cb, **kwargs)`` on the thread pool with a progress dialog.

    ``cb(done, total, text)`` updates the dialog (``total`` 0 = busy indicator) and returns False once
    the user pressed 取消; the work should then return or raise ``Cancelled``. ``on_done(result)`` /
    ``on_error(exc)`` / ``on_cancel()`` run in the GUI thread; without ``on_error`` the error is shown
    with ``show_error``. Returns a ``TaskHandle`` (``finished`` signal, ``result``, ``error``)."""
    handle = TaskHandle(title)
    dialog = QProgressDialog(label or f"{title}……", "取消" if cancellable else "", 0, 0, parent)
    dialog.setObjectName("task-progress")
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal if parent is not None else Qt.WindowModality.ApplicationModal)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumDuration(show_after_ms)
    dialog.setMinimumWidth(360)
    if not cancellable:
        dialog.setCancelButton(None)
    dialog.canceled.connect(handle.cancel)
    handle.dialog = dialog
    _ACTIVE.add(handle)

    handle._callbacks = (on_done, on_error, on_cancel, parent)
    sig = handle._signals
    # Bound slots of a GUI-thread QObject: Qt queues these calls onto the GUI thread.
    sig.progress.connect(handle._on_progress)
    sig.done.connect(handle._on_done)
    sig.failed.connect(handle._on_failed)
    sig.cancelled.connect(handle._on_cancelled)
    QThreadPool.globalInstance().start(_Runner(handle, fn, args, kwargs))
    return handle


# --- small jobs without a dialog (a connection test, a search) -------------------------------
# Jobs in flight: the Python objects must outlive the pool thread that runs them.
_RUNNING: set[_Job] = set()


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
            with paused_gc():
                result, ok = self.fn(), True
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread, never lost
            result, ok = exc, False
        try:
            self.signals.done.emit(ok, result)
        except RuntimeError:
            pass  # the window that asked was closed meanwhile


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


