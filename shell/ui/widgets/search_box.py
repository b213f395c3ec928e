"""A search field that waits until the user stops typing, and pinyin-initial matching for names."""
from __future__ import annotations

import re
from functools import lru_cache

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLineEdit, QWidget

DEBOUNCE_MS = 250
PLACEHOLDER = "姓名、拼音首字母或身份证号"
_ID_LIKE = re.compile(r"^\d{6,17}[\dXx]?$")


@lru_cache(maxsize=4096)
def pinyin_initials(text: str) -> str:
    """"张三" → "zs"; other characters are kept, lower-cased ("李A" → "la").

    pypinyin loads its dictionaries on first import (a few hundred ms), so it is imported here,
    not at start-up."""
    if not text:
        return ""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")).replace(" ", "").lower()


def looks_like_id_number(text: str) -> bool:
    """Digits (with a trailing X) long enough to be part of a 身份证号 rather than a name."""
    return bool(_ID_LIKE.match(text.strip()))


def matches_name(name: str, query: str) -> bool:
    """True when ``query`` is part of ``name`` or of its pinyin initials (case-insensitive)."""
    query = query.strip().lower()
    if not query:
        return True
    if query in (name or "").lower():
        return True
    return query.isascii() and query in pinyin_initials(name or "")


class SearchBox(QLineEdit):
    """Emits ``search(text)`` 250 ms after the last keystroke, or at once on Enter."""

    search = Signal(str)

    def __init__(self, parent: QWidget | None = None, placeholder: str = PLACEHOLDER,
                 delay_ms: int = DEBOUNCE_MS):
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
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
