"""The database connection light in the status bar.

Every few seconds a ``SELECT 1`` runs on the thread pool (never on the GUI thread: a dropped network
can take seconds to fail). When it fails the light turns red and says so in Chinese, and the check
repeats quickly; the engine's pool pre-ping replaces dead connections, so once the server answers
again the desktop is back by itself — nothing to restart. Transactions that were cut off were rolled
back by the server, so no half-written change remains."""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from shell.db.engine import explain
from shell.ui.errors import error_text

OK_INTERVAL_MS = 15_000
DOWN_INTERVAL_MS = 3_000
OK_STYLE = "color: #2e7d32;"
DOWN_STYLE = "color: #c0392b; font-weight: bold;"


def ping(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()
    except DBAPIError as exc:
        raise explain(exc, engine.url) from None


class ConnectionMonitor(QObject):
    """``changed(ok, message)`` when the state flips; ``check_now()`` for an immediate check."""

    changed = Signal(bool, str)

    def __init__(self, engine: Engine, parent: QObject | None = None, ok_interval_ms: int = OK_INTERVAL_MS,
                 down_interval_ms: int = DOWN_INTERVAL_MS):
        super().__init__(parent)
        self.engine = engine
        self.ok = True
        self.failures = 0
        self.last_ok = time.monotonic()
        self.last_error = ""
        self.ok_interval_ms, self.down_interval_ms = ok_interval_ms, down_interval_ms
        self._busy = False
        self._stopped = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.check_now)
        self.timer.start(ok_interval_ms)

    def stop(self) -> None:
        self._stopped = True
        self.timer.stop()

    def check_now(self) -> None:
        if self._busy or self._stopped:
            return
        from shell.ui.tasks import run_in_pool

        self._busy = True
        run_in_pool(lambda: ping(self.engine), self._checked)

    def _checked(self, ok: bool, result) -> None:
        self._busy = False
        if self._stopped:
            return
        if ok:
            self.failures = 0
            self.last_ok = time.monotonic()
            if not self.ok:
                self.ok = True
                self.changed.emit(True, "已重新连接数据库")
        else:
            self.failures += 1
            self.last_error = error_text(result)[1]
            if self.ok:
                self.ok = False
                self.changed.emit(False, self.last_error)
        self.timer.start(self.ok_interval_ms if self.ok else self.down_interval_ms)


class ConnectionLight(QLabel):
    """The status-bar label driven by a ``ConnectionMonitor``."""

    def __init__(self, monitor: ConnectionMonitor, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("status-connection")
        self.monitor = monitor
        monitor.changed.connect(self._changed)
        self._show_ok()

    def _show_ok(self) -> None:
        self.setText("● 已连接")
        self.setStyleSheet(OK_STYLE)
        self.setToolTip("数据库连接正常")

    def _changed(self, ok: bool, message: str) -> None:
        if ok:
            self._show_ok()
            return
        self.setText("● 数据库连接中断，正在自动重试…")
        self.setStyleSheet(DOWN_STYLE)
        self.setToolTip(f"{message}\n正在自动重连；恢复后可继续工作。未保存成功的修改需要重新保存。")
