"""Qt's own Chinese: standard buttons (是 / 否 / 取消), context menus (复制 / 粘贴) and file dialogs.

PySide6 ships the translations (qtbase_zh_CN.qm); without them a QMessageBox with standard buttons
shows "Yes / No" in an otherwise Chinese program."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

CATALOGUES = ("qtbase_zh_CN",)


def translations_dir() -> Path:
    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))


def install_qt_translations(app: QCoreApplication) -> list[str]:
    """Load Qt's Chinese catalogues into ``app`` once; return the names loaded (empty when a build
    left them out — the program still works, with Qt's English on standard buttons)."""
    existing = app.property("jiedao_translators")
    if existing:
        return list(existing)
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    loaded: list[str] = []
    translators: list[QTranslator] = []
    for name in CATALOGUES:
        translator = QTranslator(app)
        if translator.load(name, str(translations_dir())):
            app.installTranslator(translator)
            translators.append(translator)
            loaded.append(name)
    # Keep Python references: a QTranslator collected by Python is removed from the application.
    app._jiedao_translators = translators  # type: ignore[attr-defined]
    app.setProperty("jiedao_translators", loaded)
    return loaded
