"""Where files are saved and opened from, one rule for every page (issue #17 §3).

Save dialogs start in the user's 文档 folder (platformdirs; the home folder where there is none), or
in the folder the user last chose during this run; after saving, a notice offers 打开所在文件夹."""
from __future__ import annotations

from pathlib import Path

from platformdirs import user_documents_dir
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

_last_folder: Path | None = None


def documents_dir() -> Path:
    """The user's 文档 folder, or the home folder when the desktop has none."""
    folder = Path(user_documents_dir())
    return folder if folder.is_dir() else Path.home()


def start_folder() -> Path:
    folder = _last_folder
    return folder if folder is not None and folder.is_dir() else documents_dir()


def remember_folder(path: str | Path) -> None:
    global _last_folder
    p = Path(path)
    _last_folder = p if p.is_dir() else p.parent


def ask_save_path(parent: QWidget | None, caption: str, name: str, filter_text: str,
                  suffix: str | None = None) -> Path | None:
    """The save dialog started at ``start_folder()/name``; adds ``suffix`` when the user left it off."""
    target, _ = QFileDialog.getSaveFileName(parent, caption, str(start_folder() / Path(name).name), filter_text)
    if not target:
        return None
    path = Path(target)
    if suffix and path.suffix.lower() != suffix.lower():
        path = path.with_name(path.name + suffix)
    remember_folder(path)
    return path


def ask_open_path(parent: QWidget | None, caption: str, filter_text: str) -> Path | None:
    chosen, _ = QFileDialog.getOpenFileName(parent, caption, str(start_folder()), filter_text)
    if not chosen:
        return None
    remember_folder(chosen)
    return Path(chosen)


def open_folder(path: str | Path) -> bool:
    """Show the folder holding ``path`` in the system's file manager."""
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


class SavedNotice(QWidget):
    """"已保存到 <path>" with a 打开所在文件夹 button; hidden until ``show_saved``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("saved-notice")
        self.path: Path | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.label.setObjectName("inline-ok")
        self.label.setWordWrap(True)
        self.open_button = QPushButton("打开所在文件夹", self)
        self.open_button.setObjectName("open-folder")
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(lambda: self.path is not None and open_folder(self.path))
        row.addWidget(self.label, 1)
        row.addWidget(self.open_button)
        self.hide()

    def show_saved(self, path: str | Path, text: str | None = None) -> None:
        self.path = Path(path)
        self.label.setText(text or f"已保存到 {self.path}")
        self.show()

    def clear(self) -> None:
        self.path = None
        self.hide()
