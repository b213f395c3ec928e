"""The application look: one style sheet (style.qss) on the Fusion style, and the CJK font check."""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication

ACCENT = "#1f6fb2"
STYLE_PATH = Path(__file__).with_name("style.qss")

NO_CJK_FONT_MESSAGE = (
    "这台电脑上没有可以显示中文的字体，界面上的汉字会显示成方框。\n"
    "请安装中文字体后重新打开街道工作台：\n"
    "  • Debian / Ubuntu：sudo apt-get install fonts-wqy-zenhei\n"
    "  • Windows：系统自带宋体（SimSun），请确认未被删除或禁用。\n\n"
    "No Chinese (CJK) font found: Chinese text cannot be displayed. "
    "Install one, e.g. on Debian/Ubuntu: sudo apt-get install fonts-wqy-zenhei; "
    "on Windows the SimSun font ships with the system."
)


@lru_cache(maxsize=1)
def style_sheet() -> str:
    return STYLE_PATH.read_text(encoding="utf-8")


def apply_style(app: QApplication) -> None:
    # Fusion draws the same on Windows and Linux, so the style sheet looks the same everywhere.
    app.setStyle("Fusion")
    app.setStyleSheet(style_sheet())


def has_cjk_font() -> bool:
    return bool(QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese))


def check_cjk_font() -> str | None:
    """The warning to show (and print on stderr) when no font can draw Chinese, else None."""
    if has_cjk_font():
        return None
    print(NO_CJK_FONT_MESSAGE, file=sys.stderr)
    return NO_CJK_FONT_MESSAGE
