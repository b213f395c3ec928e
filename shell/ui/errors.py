"""Showing errors to office staff: typed service errors as they are, anything else as a short
Chinese message with the details folded away (and logged)."""
from __future__ import annotations

import logging
import traceback

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from shell.errors import JiedaoError

log = logging.getLogger(__name__)


def error_text(exc: BaseException) -> tuple[str, str]:
    """(title, message) for a dialog or a status line."""
    if isinstance(exc, JiedaoError):
        return exc.title, exc.message
    from shell.db.engine import fault

    explained = fault(exc)  # a full disk while saving a file; the engine explains its own errors
    if explained is not None:
        return explained.title, explained.message
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):  # a driver error that reached the screen: say it in Chinese
        from shell.db.engine import explain

        err = explain(exc)
        return err.title, err.message
    return "程序出错", f"操作没有完成：{type(exc).__name__}: {exc}\n数据未被修改。如反复出现，请把详细信息发给技术支持。"


def show_error(parent: QWidget | None, exc: BaseException) -> None:
    title, message = error_text(exc)
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("error-box")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # to copy a command or path
    if not isinstance(exc, JiedaoError):
        log.error("未预期的错误：%s", "".join(traceback.format_exception(exc)))
        box.setDetailedText("".join(traceback.format_exception(exc)))
    box.exec()


def notify_error(parent: QWidget | None, exc: BaseException, previous: QMessageBox | None = None) -> QMessageBox:
    """The same message as ``show_error`` in a box that does not wait (for errors that arise while a
    list loads or scrolls, outside any button's handler). Pass the box it returned last time: while
    that one is still open it is updated instead of stacking a new one per keystroke of a filter."""
    title, message = error_text(exc)
    if not isinstance(exc, JiedaoError):
        log.error("未预期的错误：%s", "".join(traceback.format_exception(exc)))
    try:
        if previous is not None and previous.isVisible():
            previous.setWindowTitle(title)
            previous.setText(message)
            return previous
    except RuntimeError:  # the old box is gone
        pass
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("error-box")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def confirm(parent: QWidget | None, title: str, message: str) -> bool:
    answer = QMessageBox.question(parent, title, message,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
