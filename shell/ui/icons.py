"""Icons by name: our own small SVGs (shell/ui/icons/<name>.svg), Qt standard pixmaps ("SP_FileIcon"),
or a file path — the three forms a ``PageSpec.icon`` / ``PluginInfo.icon`` may take."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

ICON_DIR = Path(__file__).with_name("icons")
FALLBACK = "page"


def _standard(name: str) -> QIcon | None:
    pixmap = getattr(QStyle.StandardPixmap, name, None)
    app = QApplication.instance()
    if pixmap is None or app is None:
        return None
    return app.style().standardIcon(pixmap)


@lru_cache(maxsize=256)
def icon(name: str | None) -> QIcon:
    """Never fails: an unknown name gives the generic page icon, so a plugin typo cannot break the nav."""
    name = (name or "").strip()
    if name.startswith("SP_"):
        found = _standard(name)
        if found is not None:
            return found
    elif name:
        own = ICON_DIR / f"{name}.svg"
        if own.is_file():
            return QIcon(str(own))
        path = Path(name).expanduser()
        if path.suffix.lower() in (".svg", ".png", ".ico", ".jpg") and path.is_file():
            return QIcon(str(path))
    return QIcon(str(ICON_DIR / f"{FALLBACK}.svg"))


def icon_path(name: str) -> str:
    """Path of one of our own SVGs (for style sheets and QLabel pixmaps)."""
    return str(ICON_DIR / f"{name}.svg")
