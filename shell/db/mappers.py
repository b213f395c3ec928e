"""Every model class imported and every mapper configured, once, before any thread queries.

All plugins share one ``Base.registry``. SQLAlchemy configures its mappers on the first query after
a class is added; if that query runs on one thread while another thread is still importing a
plugin's ``models`` module (half its classes defined), the configuration fails for good ("One or
more mappers failed to initialize") and that plugin is broken until restart. So the opening of a
database imports the core's and every loaded plugin's ``models`` and configures the registry
before the first page or chart starts a thread."""
from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Iterable

from sqlalchemy import MetaData

_lock = threading.Lock()


def plugin_module_names(pm) -> list[str]:
    """The importable module names of the plugins registered in ``pm``."""
    if pm is None:
        return []
    return [n for n in (getattr(p, "__name__", "") for _name, p in pm.list_name_plugin()) if n]


def load_models(module_names: Iterable[str] = ()) -> MetaData:
    """Import ``shell.core.models`` and each ``<module>.models`` that exists, configure every mapper,
    and return ``Base.metadata``."""
    from sqlalchemy.orm import configure_mappers

    with _lock:
        importlib.import_module("shell.core.models")
        for name in module_names:
            models = f"{name}.models"
            try:
                found = importlib.util.find_spec(models) is not None
            except (ModuleNotFoundError, ValueError):
                found = False
            if found:
                importlib.import_module(models)
        configure_mappers()
    from shell.db.base import Base

    return Base.metadata
