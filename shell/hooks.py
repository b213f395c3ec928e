"""Calling a hook on every plugin, each on its own (``call_each``): kept apart from the loader
(``shell.plugins``) so that the core's collectors (permissions, settings, reports …) call hooks
without importing the loader, which registers the core plugin and so sits above them."""
from __future__ import annotations

import logging
import traceback
from typing import Any

import pluggy

from shell.contracts import as_list

log = logging.getLogger("shell.plugins")   # the loader's log, as before the split


def _short_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def call_each(pm: pluggy.PluginManager, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call ``hook`` on each plugin separately and flatten list results: [(plugin name, item)].

    A plugin whose implementation raises is logged and its error recorded in its status; the others
    still answer. Results come in registration (load) order; pluggy itself calls them last-first."""
    out: list[tuple[str, Any]] = []
    caller = getattr(pm.hook, hook)
    for impl in caller.get_hookimpls():
        try:
            result = impl.function(*[kwargs[a] for a in impl.argnames])
        except Exception as exc:  # noqa: BLE001
            log.error("插件 %s 的 %s 出错：%s\n%s", impl.plugin_name, hook, exc, traceback.format_exc())
            st = pm.jiedao_status.get(impl.plugin_name)  # type: ignore[attr-defined]
            if st is not None and not st.error:
                st.error = f"{hook}: {_short_error(exc)}"
            continue
        out.extend((impl.plugin_name, item) for item in as_list(result))
    return out
