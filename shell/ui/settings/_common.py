"""What every settings page shares: running a service with its errors shown, and small-job workers
that keep slow work (a server that does not answer, a big backup) off the GUI thread."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from shell.config import LocalConfig
from shell.core.context import AppContext, ServiceContext
from shell.errors import JiedaoError
from shell.ui.errors import show_error

log = logging.getLogger(__name__)

NOTE_STYLE = "color: #666;"
OK_STYLE = "color: #1e7e34;"
ERROR_STYLE = "color: #c0392b;"

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
