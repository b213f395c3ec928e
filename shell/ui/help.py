"""帮助: the user manual shown in the program (F1 opens the current page's chapter) and the list of
keyboard shortcuts (帮助 → 快捷键).

The manual is Markdown shipped with the program: ``shell/manual/*.md`` for the shell's pages and
``<plugin package>/manual/<page id>.md`` for each plugin's pages (a plugin brings its own chapters,
with its screenshots beside them). A chapter's title is its first ``# `` heading."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

SHELL_MANUAL = Path(__file__).resolve().parent.parent / "manual"
INDEX_ID = "index"

# (key, what it does). The page keys act on the page that is open; a page that has no such action
# says so in the status bar.
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("F1", "打开本页的使用说明"),
    ("Ctrl+F", "在本页搜索（没有搜索框的页面：全局搜索）"),
    ("Ctrl+N", "在本页新建一条记录（登记、上报、新增）"),
    ("Ctrl+E", "把本页列表导出为 Excel"),
    ("Ctrl+P", "打印本页列表（先预览）"),
    ("F5", "刷新本页"),
    ("Ctrl+,", "打开设置"),
    ("Ctrl+Q", "退出程序"),
)


@dataclass(frozen=True)
class Chapter:
    id: str        # the page id, or "index"
    title: str
    path: Path


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem


def manual_folders(page_specs) -> list[Path]:
    """The shell's manual folder, then each page's: ``manual/`` in the package that defines the page's
    factory (or one of its parents, for factories in ``views/``)."""
    import sys

    folders = [SHELL_MANUAL]
    for spec in page_specs:
        module = sys.modules.get(getattr(spec.factory, "__module__", ""), None)
        file = getattr(module, "__file__", None)
        if not file:
            continue
        for parent in list(Path(file).resolve().parents)[:3]:
            candidate = parent / "manual"
            if candidate.is_dir() and candidate not in folders:
                folders.append(candidate)
                break
    return folders


def chapters(folders: list[Path], page_ids: list[str] | None = None) -> list[Chapter]:
    """Every chapter in ``folders`` (the first folder wins a clash). With ``page_ids``, the chapters in
    the order of the navigation list (pages without a chapter are left out), the index first."""
    found: dict[str, Chapter] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for md in sorted(folder.glob("*.md")):
            found.setdefault(md.stem, Chapter(md.stem, _title(md), md))
    if page_ids is None:
        return list(found.values())
    ordered = [found[INDEX_ID]] if INDEX_ID in found else []
    ordered += [found[p] for p in page_ids if p in found and p != INDEX_ID]
    return ordered


class HelpDialog(QDialog):
    """使用说明: the chapters on the left, the chapter on the right; links between chapters work."""

    def __init__(self, chapter_list: list[Chapter], current: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("help")
        self.setWindowTitle("街道工作台 — 使用说明")
        self.resize(980, 700)
        self.chapters = {c.id: c for c in chapter_list}
        layout = QVBoxLayout(self)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.contents = QListWidget()
        self.contents.setObjectName("help-contents")
        self.contents.setSpacing(3)
        for c in chapter_list:
            item = QListWidgetItem(c.title)
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            self.contents.addItem(item)
        self.browser = QTextBrowser()
        self.browser.setObjectName("help-text")
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._link)
        splitter.addWidget(self.contents)
        splitter.addWidget(self.browser)
        splitter.setSizes([220, 760])
        layout.addWidget(splitter, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.contents.currentItemChanged.connect(
            lambda item, _old: item is not None and self.show_chapter(item.data(Qt.ItemDataRole.UserRole)))
        self.current: str | None = None
        self.show_chapter(current if current in self.chapters else next(iter(self.chapters), None))

    def show_chapter(self, chapter_id: str | None) -> None:
        chapter = self.chapters.get(chapter_id or "")
        if chapter is None:
            return
        self.current = chapter.id
        # Screenshots are referenced relative to the chapter's folder.
        self.browser.setSearchPaths([str(chapter.path.parent)])
        self.browser.setMarkdown(chapter.path.read_text(encoding="utf-8"))
        row = list(self.chapters).index(chapter.id)
        if self.contents.currentRow() != row:
            self.contents.blockSignals(True)
            self.contents.setCurrentRow(row)
            self.contents.blockSignals(False)

    def _link(self, url: QUrl) -> None:
        target = url.toString()
        stem = Path(target.split("#")[0]).stem if target.endswith(".md") or ".md#" in target else ""
        if stem in self.chapters:
            self.show_chapter(stem)
        elif url.scheme() in ("http", "https"):
            from PySide6.QtGui import QDesktopServices

            QDesktopServices.openUrl(url)


class ShortcutsDialog(QDialog):
    """帮助 → 快捷键."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("shortcuts")
        self.setWindowTitle("快捷键")
        layout = QVBoxLayout(self)
        self.table = QTableWidget(len(SHORTCUTS), 2)
        self.table.setObjectName("shortcuts-table")
        self.table.setHorizontalHeaderLabels(["按键", "作用"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, (key, what) in enumerate(SHORTCUTS):
            self.table.setItem(r, 0, QTableWidgetItem(key))
            self.table.setItem(r, 1, QTableWidgetItem(what))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        layout.addWidget(self.table)
        row = QHBoxLayout()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.rejected.connect(self.reject)
        row.addWidget(buttons)
        layout.addLayout(row)
        height = self.table.horizontalHeader().height() + sum(self.table.rowHeight(r) for r in range(len(SHORTCUTS)))
        self.table.setMinimumHeight(height + 4)
        self.resize(520, height + 100)
