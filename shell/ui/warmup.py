"""What the desktop loads on the thread pool once its first page is up, so that nothing the user does
next imports it on the GUI thread: the plugins' ``PluginInfo.preload`` modules, the libraries the first
chart, report and Excel file need (pyqtgraph, ReportLab, openpyxl), and the CJK font. Then
``gc.freeze()``: the ≈300,000 objects these imports leave are moved out of the collector's sight. Left
in, every full collection walked them — 170–240 ms with the GIL held, on whichever thread allocated
at that moment, which froze the window in the middle of a report or an import."""
from __future__ import annotations

import gc
import importlib
import logging

from shell.plugins import warm_modules

log = logging.getLogger(__name__)

LIBRARIES = ("pyqtgraph", "reports.pdf", "reports.xlsx")
_frozen = False   # once per process: what a later window loads is the working set, not imports


def warm_up(pm, font_path: str | None = None) -> list[str]:
    """Returns the modules imported (for tests and the log). Failures are logged: the page that needs
    the module reports them in its own words."""
    done = warm_modules(pm, "preload")
    for name in LIBRARIES:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception:  # noqa: BLE001
            log.exception("预先加载 %s 失败", name)
    try:
        from reports import find_cjk_font

        find_cjk_font(font_path)   # parsed once and cached; the first report then starts at once
    except Exception as exc:  # noqa: BLE001 - no usable font: the report centre says which to install
        log.info("预先加载中文字体失败：%s", exc)
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
    return done
