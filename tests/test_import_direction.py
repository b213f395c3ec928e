"""Dependencies point one way (ARCHITECTURE.md): services, models, importers, ledgers, demo data, the
core, the database layer, the plugin contract and reports/ never import Qt; a plugin never imports
another plugin; the shell never imports a plugin. Imports are read with ``ast`` (module level and
inside functions, plus ``importlib.import_module("…")``/``__import__("…")`` with a literal name)."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT_MODULES = {"PySide6", "pyqtgraph", "shiboken6"}
NON_UI_PLUGIN_FILES = {"services.py", "models.py", "importers.py", "ledgers.py", "demo.py", "validation.py"}
NON_UI_SHELL_FILES = ("contracts.py", "plugins.py", "hookspecs.py")
NON_UI_SHELL_DIRS = ("core", "db")


@dataclass(frozen=True)
class Imp:
    path: Path
    line: int
    module: str          # absolute dotted name

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.module}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(root: Path, path: Path) -> list[Imp]:
    """Every module a file imports, made absolute (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    me = module_name(root, path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: list[Imp] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Imp(path, node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append(Imp(path, node.lineno, mod))
            # "from plugins import grid" imports the module plugins.grid
            found += [Imp(path, node.lineno, f"{mod}.{a.name}") for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if name in ("import_module", "__import__"):
                found.append(Imp(path, node.lineno, node.args[0].value))
    return found


def py_files(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def non_ui_files(root: Path) -> list[Path]:
    files = []
    plugins = root / "plugins"
    if plugins.exists():
        for plugin in sorted(p for p in plugins.iterdir() if p.is_dir()):
            files += [plugin / n for n in sorted(NON_UI_PLUGIN_FILES) if (plugin / n).is_file()]
    shell = root / "shell"
    for d in NON_UI_SHELL_DIRS:
        files += py_files(shell / d)
    files += [shell / n for n in NON_UI_SHELL_FILES if (shell / n).is_file()]
    files += py_files(root / "reports")
    return files


def qt_violations(root: Path) -> list[str]:
    """One entry per offending import statement."""
    out: dict[tuple[Path, int], str] = {}
    for f in non_ui_files(root):
        for i in imports_of(root, f):
            if i.module.split(".")[0] in QT_MODULES:
                out.setdefault((i.path, i.line), str(i))
    return list(out.values())


def cross_plugin_violations(root: Path) -> list[str]:
    out = []
    plugins = root / "plugins"
    if not plugins.exists():
        return out
    for plugin in sorted(p for p in plugins.iterdir() if p.is_dir() and p.name != "__pycache__"):
        for f in py_files(plugin):
            for i in imports_of(root, f):
                parts = i.module.split(".")
                if parts[0] == "plugins" and len(parts) > 1 and parts[1] != plugin.name:
                    out.append(f"{i}  (plugin {plugin.name} imports plugin {parts[1]})")
    return out


def shell_to_plugin_violations(root: Path) -> list[str]:
    out = []
    for f in py_files(root / "shell"):
        for i in imports_of(root, f):
            parts = i.module.split(".")
            if parts[0] == "plugins" and len(parts) > 1:
                out.append(str(i))
    return out


# --- the real tree ---------------------------------------------------------------------------------
def test_scanned_set_is_not_empty():
    files = {f.relative_to(ROOT).as_posix() for f in non_ui_files(ROOT)}
    assert {"shell/contracts.py", "shell/plugins.py", "shell/hookspecs.py", "shell/core/database.py",
            "shell/db/engine.py"} <= files


def test_services_never_import_qt():
    bad = qt_violations(ROOT)
    assert not bad, "Qt imported by non-UI code (views → services → models):\n" + "\n".join(bad)


def test_plugins_never_import_each_other():
    bad = cross_plugin_violations(ROOT)
    assert not bad, "plugins must not import each other (use hooks, e.g. open_record):\n" + "\n".join(bad)


def test_shell_never_imports_plugins():
    bad = shell_to_plugin_violations(ROOT)
    assert not bad, "the shell must not import plugin modules (only name them in BUILTIN_PLUGINS):\n" + "\n".join(bad)


def test_builtin_plugin_names_are_strings():
    from shell.plugins import BUILTIN_PLUGINS

    assert all(isinstance(m, str) and m.startswith("plugins.") for m in BUILTIN_PLUGINS)


# --- the scanner can fail ----------------------------------------------------------------------------
def _write(root: Path, rel: str, text: str) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")


def test_scanner_finds_violations_in_a_synthetic_tree(tmp_path):
    for pkg in ("shell", "shell/core", "shell/db", "shell/ui", "plugins", "plugins/alpha", "plugins/alpha/views",
                "plugins/beta", "reports"):
        _write(tmp_path, f"{pkg}/__init__.py", "")
    # allowed
    _write(tmp_path, "shell/ui/window.py", "from PySide6.QtWidgets import QWidget\n")
    _write(tmp_path, "plugins/alpha/views/page.py", "import pyqtgraph\nfrom ..services import add\n")
    _write(tmp_path, "shell/plugins.py", 'import importlib\nBUILTIN_PLUGINS = ("plugins.alpha", "plugins.beta")\n'
                                         "def load(m):\n    return importlib.import_module(m)\n")
    _write(tmp_path, "plugins/alpha/models.py", "from shell.db.base import Base\nfrom . import services\n")
    # violations
    _write(tmp_path, "plugins/alpha/services.py", "def f():\n    from PySide6 import QtCore\n    return QtCore\n")
    _write(tmp_path, "shell/core/thing.py", "import shiboken6.Shiboken as s\n")
    _write(tmp_path, "reports/pdf.py", "import importlib\nQ = importlib.import_module('PySide6.QtPdf')\n")
    _write(tmp_path, "plugins/beta/demo.py", "from ..alpha.models import Thing\n")
    _write(tmp_path, "plugins/beta/views/x.py", "from plugins import alpha\n")
    _write(tmp_path, "shell/ui/nav.py", "def build():\n    import plugins.alpha.services\n")

    qt = qt_violations(tmp_path)
    assert len(qt) == 3 and any("plugins/alpha/services.py:2: PySide6" in v for v in qt), qt
    assert any("shell/core/thing.py" in v for v in qt) and any("reports/pdf.py" in v for v in qt)

    cross = cross_plugin_violations(tmp_path)
    assert any("plugins/beta/demo.py" in v and "plugins.alpha.models" in v for v in cross), cross
    assert any("plugins/beta/views/x.py" in v and "plugins.alpha" in v for v in cross), cross
    assert not any("plugins/alpha/" in v.split(":")[0] for v in cross), cross  # same-plugin imports are fine

    shell = shell_to_plugin_violations(tmp_path)
    assert len(shell) == 1 and "shell/ui/nav.py:2: plugins.alpha.services" in shell[0], shell


def test_relative_imports_are_resolved(tmp_path):
    _write(tmp_path, "plugins/alpha/sub/mod.py", "from ...beta import services\nfrom .. import models\n")
    mods = {i.module for i in imports_of(tmp_path, tmp_path / "plugins/alpha/sub/mod.py")}
    assert {"plugins.beta", "plugins.beta.services", "plugins.alpha", "plugins.alpha.models"} <= mods
