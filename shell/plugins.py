"""Loading plugins: built-in ones from a tuple, third-party ones from the entry-point group
``jiedao.plugins`` and, for the installed (frozen) program, from the ``plugins`` folder beside it
(``<program folder>/plugins/<name>/__init__.py`` or ``<name>.py``: no pip, no entry points). A plugin
that fails to import, to register or to pass validation is skipped, logged, and kept in
``pm.jiedao_status`` with its error so the shell can show it."""
from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy

from shell import PROJECT, hookspecs
from shell.builtins import BUILTIN_PLUGINS as BUILTIN_PLUGINS  # the list is kept there (plain data)
from shell.contracts import PluginInfo
from shell.core import plugin as core_plugin
from shell.hooks import call_each as call_each  # kept importable from here

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "jiedao.plugins"

PLUGIN_FOLDER = "plugins"


def default_plugin_dirs() -> list[Path]:
    """The ``plugins`` folder beside the program when it is the frozen build (PyInstaller sets
    ``sys.frozen``); a checkout or a pip install gets its plugins through entry points instead."""
    if getattr(sys, "frozen", False):
        return [Path(sys.executable).resolve().parent / PLUGIN_FOLDER]
    return []


def _folder_candidates(folder: Path) -> list[tuple[str, Path]]:
    """(module name, file to load) for each package (``name/__init__.py``) and module (``name.py``)
    directly in ``folder``, sorted by name; a missing folder has none."""
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir() and (entry / "__init__.py").is_file():
            found.append((entry.name, entry / "__init__.py"))
        elif entry.is_file() and entry.suffix == ".py":
            found.append((entry.stem, entry))
    return found


def _load_from_file(name: str, path: Path) -> Any:
    """Import ``path`` as the top-level module ``name`` (a package's own relative imports work)."""
    if name in sys.modules:
        loaded = getattr(sys.modules[name], "__file__", None)
        if loaded is not None and Path(loaded).resolve() == path.resolve():
            return sys.modules[name]
        raise ImportError(f"插件文件夹中的 {path.name} 与已有的模块 {name} 重名，请给插件改名")
    is_package = path.name == "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[str(path.parent)] if is_package else None)
    if spec is None or spec.loader is None:
        raise ImportError(f"无法读取插件文件 {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


LOADED, DISABLED, FAILED = "loaded", "disabled", "error"
STATE_LABELS = {LOADED: "已加载", DISABLED: "已停用", FAILED: "出错"}


@dataclass
class PluginStatus:
    name: str
    source: str                  # "内置" | "扩展 (<distribution>)" | "测试"
    state: str = LOADED
    title: str = ""
    version: str = ""
    error: str = ""
    requires: tuple[str, ...] = ()

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def _short_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _info_of(plugin: Any) -> PluginInfo:
    fn = getattr(plugin, "plugin_info", None)
    if fn is None:
        raise ValueError("插件没有实现 plugin_info 钩子")
    info = fn()
    if not isinstance(info, PluginInfo):
        raise TypeError(f"plugin_info 应返回 PluginInfo，实际为 {type(info).__name__}")
    return info


def make_plugin_manager(
    disabled: Iterable[str] = (),
    builtins: Iterable[str] | None = None,
    extra: Iterable[Any] = (),
    entry_points: bool = True,
    plugin_dirs: Iterable[Path | str] | None = None,
) -> pluggy.PluginManager:
    """Return a fresh plugin manager with every loadable plugin registered.

    ``builtins``: module paths (default ``BUILTIN_PLUGINS``); ``extra``: already-imported plugin
    objects (tests); ``entry_points``: also load the ``jiedao.plugins`` group; ``disabled``: names
    blocked with ``set_blocked``; ``plugin_dirs``: folders whose packages and modules are plugins
    (default ``default_plugin_dirs()``). ``pm.jiedao_status`` lists every plugin seen, in load order.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    # The core first, like datasette's default plugins: its permissions, roles, settings, reports and
    # pages come through the same hooks, ahead of every plugin's. It has no status entry (it cannot
    # be disabled) and its name is taken, so a plugin called "core" fails to load.
    pm.register(core_plugin, name=core_plugin.NAME)
    status: dict[str, PluginStatus] = {}
    pm.jiedao_status = status  # type: ignore[attr-defined]
    blocked = set(disabled)

    candidates: list[tuple[str, str, Any]] = []  # (fallback name, source, loader)
    for modname in BUILTIN_PLUGINS if builtins is None else builtins:
        candidates.append((modname.rsplit(".", 1)[-1], "内置", lambda m=modname: importlib.import_module(m)))
    for obj in extra:
        candidates.append((getattr(obj, "__name__", repr(obj)).rsplit(".", 1)[-1], "测试", lambda o=obj: o))
    if entry_points:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist is not None else "?"
            candidates.append((ep.name, f"扩展 ({dist})", ep.load))
    for folder in default_plugin_dirs() if plugin_dirs is None else plugin_dirs:
        for modname, path in _folder_candidates(Path(folder)):
            candidates.append((modname, f"插件文件夹 ({Path(folder)})",
                               lambda n=modname, p=path: _load_from_file(n, p)))

    for fallback, source, load in candidates:
        name = fallback
        st: PluginStatus | None = None
        try:
            plugin = load()
            info = _info_of(plugin)
            name = info.name
            if name in status:
                raise ValueError(f"插件名 {name} 与已加载的插件重复")
            if name == core_plugin.NAME:
                raise ValueError(f"插件名 {name} 为核心保留，请给插件改名")
            st = PluginStatus(name, source, title=info.title, version=info.version, requires=tuple(info.requires))
            status[name] = st
            if name in blocked:
                pm.set_blocked(name)
                st.state = DISABLED
                continue
            pm.register(plugin, name=name)
            try:
                pm.check_pending()
            except Exception:
                pm.unregister(name=name)
                raise
        except Exception as exc:  # noqa: BLE001 - any plugin fault must not stop the app
            log.error("插件 %s 加载失败：%s\n%s", name, exc, traceback.format_exc())
            if st is None:  # failed before it got an entry: give it one, never reuse another's
                key, n = name, 2
                while key in status:
                    key, n = f"{name}#{n}", n + 1
                st = status[key] = PluginStatus(name, source)
            st.state, st.error = FAILED, _short_error(exc)

    # A plugin whose required plugins are not all loaded is unloaded too (repeat until stable).
    changed = True
    while changed:
        changed = False
        for st in status.values():
            if st.state != LOADED:
                continue
            missing = [r for r in st.requires if status.get(r) is None or status[r].state != LOADED]
            if missing:
                pm.unregister(name=st.name)
                st.state, st.error = FAILED, "缺少依赖插件：" + "、".join(missing)
                changed = True

    pm.check_pending()
    return pm


@functools.cache
def core_plugin_manager() -> pluggy.PluginManager:
    """A manager with the core alone, for a caller that has none (the main window's pages without a
    plugin manager: the core's own). Shared: never register anything into it."""
    return make_plugin_manager(builtins=(), entry_points=False, plugin_dirs=())


def plugin_status(pm: pluggy.PluginManager) -> list[PluginStatus]:
    return list(pm.jiedao_status.values())  # type: ignore[attr-defined]


def warm_modules(pm: pluggy.PluginManager | None, field: str = "warm") -> list[str]:
    """Import every plugin's ``PluginInfo.warm`` (or ``.preload``) modules; for a worker thread
    (importing a module of widgets defines classes but creates none). Returns the modules imported;
    a failure is logged and left for the page that needs the module to report."""
    import importlib
    import pkgutil

    done: list[str] = []
    if pm is None:
        return done
    for name, plugin in pm.list_name_plugin():
        info_fn = getattr(plugin, "plugin_info", None)
        package = getattr(plugin, "__name__", "")
        if info_fn is None or not package:
            continue
        try:
            for module in getattr(info_fn(), field, ()) or ():
                names = [f"{package}.{module}"]
                if module.endswith(".*"):  # every module of a sub-package, e.g. "views.*"
                    sub = importlib.import_module(f"{package}.{module[:-2]}")
                    names = [f"{sub.__name__}.{m.name}" for m in pkgutil.iter_modules(sub.__path__)]
                for name_ in names:
                    importlib.import_module(name_)
                    done.append(name_)
        except Exception:
            log.exception("插件 %s 的模块预先加载失败", name)
    return done
