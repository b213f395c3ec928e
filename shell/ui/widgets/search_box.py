"""A search field that waits until the user stops typing; names are found by pinyin too (full or initials)."""
from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLineEdit, QWidget

DEBOUNCE_MS = 250
PLACEHOLDER = "姓名、拼音或身份证号"
PINYIN_TIP = "姓名可以打全拼（zhangsan、zhang）或拼音首字母（zs），不分大小写"


class SearchBox(QLineEdit):
    """Emits ``search(text)`` 250 ms after the last keystroke, or at once on Enter."""

    search = Signal(str)

    def __init__(self, parent: QWidget | None = None, placeholder: str = PLACEHOLDER,
                 delay_ms: int = DEBOUNCE_MS):
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        if "拼音" in placeholder:
            self.setToolTip(PINYIN_TIP)
        self.setClearButtonEnabled(True)
        self._last_emitted: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._emit)
        self.textChanged.connect(lambda _t: self._timer.start())
        self.returnPressed.connect(self.flush)

    def flush(self) -> None:
        """Search now (Enter pressed) instead of waiting for the pause."""
        self._timer.stop()
        self._emit()

    def _emit(self) -> None:
        text = self.text().strip()
        if text == self._last_emitted:  # typing "a", deleting it again: no new query
            return
        self._last_emitted = text
        self.search.emit(text)
