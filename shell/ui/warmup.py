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
_frozen: set[str] = set()   # stages frozen in this process: a later window's objects are its working set


def freeze_once(stage: str) -> bool:
    """``gc.freeze()`` the first time ``stage`` is reached in this process. Called when the plugins'
    models and first modules are loaded (before the 首页 builds its tiles: a full collection on the
    GUI thread over the import's objects froze it 200–300 ms there) and after the warm-up."""
    if stage in _frozen:
        return False
    _frozen.add(stage)
    gc.freeze()
    return True


def warm_up(pm, font_path: str | None = None) -> list[str]:
    """Returns the modules imported (for tests and the log). Failures are logged: the page that needs
    the module reports them in its own words."""
    done = warm_modules(pm, "preload")
    for name in LIBRARIES:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception:
            log.exception("预先加载 %s 失败", name)
    try:
        from reports import find_cjk_font

        find_cjk_font(font_path)   # parsed once and cached; the first report then starts at once
    except Exception as exc:  # noqa: BLE001 - no usable font: the report centre says which to install
        log.info("预先加载中文字体失败：%s", exc)
    freeze_once("warm-up")
    return done
