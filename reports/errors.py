"""The base of every error a user may see, kept in the lowest layer: the report engine raises it
(a missing font, a cancelled render, a page that cannot hold a form) without importing the shell,
and ``shell.errors`` builds every other typed error on it (``shell.errors.JiedaoError`` is this
class). ``message`` is Chinese and says what to do next."""
from __future__ import annotations


class JiedaoError(Exception):
    """Base of every error a user may see. ``message`` is Chinese and says what to do next."""

    title = "操作失败"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # the CLI prints str(exc)
        return self.message
