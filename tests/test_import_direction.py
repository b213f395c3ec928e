"""Dependencies point one way (ARCHITECTURE.md): services, models, importers, ledgers, demo data, the
core, the database layer, the plugin contract and reports/ never import Qt; a plugin never imports
another plugin; the shell never imports a plugin; a plugin's views stay above its services (no model,
no query, no session). Imports are read with ``ast`` (module level and inside functions, plus
``importlib.import_module("…")``/``__import__("…")`` with a literal name)."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT_MODULES = {"PySide6", "pyqtgraph", "shiboken6"}
# Everything of a plugin outside views/ is non-UI: services (a module or a services/ package), models,
# labels, validation, importers, ledgers, demo data, rules.
PLUGIN_UI_DIRS = ("views",)
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


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:`` (imported for annotations, never at run time)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
                (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
                or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")):
            for stmt in node.body:
                out |= {id(n) for n in ast.walk(stmt)}
    return out


def imports_of(root: Path, path: Path, runtime_only: bool = False) -> list[Imp]:
    """Every module a file imports, made absolute (relative imports resolved against its package);
    ``runtime_only`` leaves out the imports under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    me = module_name(root, path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: list[Imp] = []
    skip = _type_checking_only(tree) if runtime_only else set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
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
        for plugin in sorted(p for p in plugins.iterdir() if p.is_dir() and p.name != "__pycache__"):
            files += [f for f in py_files(plugin) if f.relative_to(plugin).parts[0] not in PLUGIN_UI_DIRS]
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


# A view calls services and shows what they return: it never imports a model or SQLAlchemy (choices and
# labels come from a plain-data module such as plugins/grid/labels.py, lists from a service's listing)
# and never touches a session (ctx.session, a session variable, or a session_factory() it opens).
# The lazy table is handed app_ctx.session_factory, which it opens itself.
VIEW_FORBIDDEN_MODULES = re.compile(r"^(plugins\.[^.]+\.models|shell\.core\.models|sqlalchemy)(\.|$)")


def view_files(root: Path) -> list[Path]:
    plugins = root / "plugins"
    if not plugins.exists():
        return []
    return [f for plugin in sorted(p for p in plugins.iterdir() if p.is_dir()) for d in PLUGIN_UI_DIRS
            for f in py_files(plugin / d)]


def view_violations(root: Path) -> list[str]:
    """One entry per offending line of a plugin view: a model or SQLAlchemy import, a session touched."""
    out: dict[tuple[Path, int], str] = {}
    for f in view_files(root):
        for i in imports_of(root, f):
            if VIEW_FORBIDDEN_MODULES.match(i.module):
                out.setdefault((i.path, i.line), f"{i}  (a view imports a model or SQLAlchemy)")
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"), filename=str(f))):
            what = None
            if isinstance(node, ast.Attribute) and node.attr == "session":
                what = ".session"
            elif isinstance(node, ast.Name) and node.id == "session":
                what = "session"
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "session_factory":
                what = "session_factory()"
            if what is not None:
                out.setdefault((f, node.lineno), f"{f}:{node.lineno}: {what}  (a view touches a session)")
    return list(out.values())


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


def test_views_stay_above_services():
    """Every plugin's views (issue #16 item 6)."""
    bad = view_violations(ROOT)
    assert not bad, ("a view imports a model or touches a session (views → services → models; labels in a "
                     "plain-data module, lists through a service's listing):\n" + "\n".join(bad))


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


def test_view_scanner_finds_models_and_sessions(tmp_path):
    for pkg in ("plugins", "plugins/alpha", "plugins/alpha/views"):
        _write(tmp_path, f"{pkg}/__init__.py", "")
    # allowed: services, labels, the lazy table handed the factory
    _write(tmp_path, "plugins/alpha/views/ok.py",
           "from .. import services as svc\nfrom ..labels import KINDS\n"
           "def page(app_ctx):\n    return Lazy(app_ctx.session_factory, svc.listing(app_ctx.actor))\n")
    # violations
    _write(tmp_path, "plugins/alpha/views/bad.py",
           "from ..models import Thing\nfrom sqlalchemy import select\n"
           "def load(app_ctx):\n    with app_ctx.service() as ctx:\n        return ctx.session.get(Thing, 1)\n"
           "def count(app_ctx):\n    with app_ctx.session_factory() as session:\n        return session.scalar(select(1))\n")
    _write(tmp_path, "plugins/alpha/views/deep/area.py", "def f():\n    from shell.core import models\n    return models\n")
    bad = view_violations(tmp_path)
    assert not any("ok.py" in v for v in bad), bad
    lines = sorted(v.split(":", 1)[1].split()[0] for v in bad if "bad.py" in v)
    assert lines == ["1:", "2:", "5:", "7:", "8:"], bad
    assert any("deep/area.py:2: shell.core.models" in v for v in bad), bad


def test_relative_imports_are_resolved(tmp_path):
    _write(tmp_path, "plugins/alpha/sub/mod.py", "from ...beta import services\nfrom .. import models\n")
    mods = {i.module for i in imports_of(tmp_path, tmp_path / "plugins/alpha/sub/mod.py")}
    assert {"plugins.beta", "plugins.beta.services", "plugins.alpha", "plugins.alpha.models"} <= mods


# --- partybuilding: views stay above the services (issue 16, item 6) ------------------------------
VIEW_FORBIDDEN = ("sqlalchemy", "shell.db", "shell.core.models")


def _mapped_names(root: Path, plugin: str) -> set[str]:
    """Class names of the plugin's models and the core's (every class there is a table)."""
    names: set[str] = set()
    for f in (root / "plugins" / plugin / "models.py", root / "shell" / "core" / "models.py"):
        if f.is_file():
            names |= {n.name for n in ast.walk(ast.parse(f.read_text(encoding="utf-8"))) if isinstance(n, ast.ClassDef)}
    return names


def views_past_services(root: Path, plugin: str) -> list[str]:
    """Where a view of ``plugin`` reaches past its services: it imports the plugin's models, SQLAlchemy,
    the database layer or the core's models; names a mapped class through another module
    (``svc.Member``, ``from ..services import Area``); or touches a session (``ctx.session``; the
    ``session_factory`` a lazy table pages with is the shell's, and allowed)."""
    models = f"plugins.{plugin}.models"
    mapped = _mapped_names(root, plugin)
    out = []
    for f in py_files(root / "plugins" / plugin / "views"):
        for i in imports_of(root, f):
            if i.module == models or i.module.startswith(models + ".") or any(
                    i.module == m or i.module.startswith(m + ".") for m in VIEW_FORBIDDEN):
                out.append(f"{i}  (imports a model or the database layer)")
            elif i.module.rpartition(".")[2] in mapped:
                out.append(f"{i}  (imports a mapped class)")
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "session" or \
                    isinstance(node, ast.Name) and node.id == "session":
                out.append(f"{f}:{node.lineno}: touches a session")
            elif isinstance(node, ast.Attribute) and node.attr in mapped and isinstance(node.value, ast.Name):
                out.append(f"{f}:{node.lineno}: {node.value.id}.{node.attr}  (a mapped class)")
    return out


def test_partybuilding_views_stay_above_services(tmp_path):
    bad = views_past_services(ROOT, "partybuilding")
    assert not bad, "partybuilding views must call services only (labels from labels.py):\n" + "\n".join(bad)
    # The services package and the labels module are non-UI code (the Qt scan above lists services.py only).
    pb = ROOT / "plugins" / "partybuilding"
    assert (pb / "services" / "__init__.py").is_file() and (pb / "labels.py").is_file()
    qt = [str(i) for f in [*py_files(pb / "services"), pb / "labels.py"] for i in imports_of(ROOT, f)
          if i.module.split(".")[0] in QT_MODULES]
    assert not qt, "Qt imported by the partybuilding services or labels:\n" + "\n".join(qt)
    for d in (p for p in (pb / "services").glob("*.py") if p.name != "__init__.py"):
        assert "guard_services(globals())" in d.read_text(encoding="utf-8"), f"{d.name}: results leave unmasked"

    # the scanner can fail
    for pkg in ("plugins", "plugins/alpha", "plugins/alpha/views", "shell", "shell/core"):
        _write(tmp_path, f"{pkg}/__init__.py", "")
    _write(tmp_path, "plugins/alpha/models.py", "class Thing(Base):\n    pass\n")
    _write(tmp_path, "shell/core/models.py", "class Area(Base):\n    pass\n")
    _write(tmp_path, "plugins/alpha/views/fine.py",
           "from .. import services as svc\nfrom ..labels import KINDS\n"
           "def page(app_ctx):\n    with app_ctx.service() as ctx:\n"
           "        return svc.things(ctx), KINDS, app_ctx.session_factory\n")
    _write(tmp_path, "plugins/alpha/views/bad.py",
           "from ..models import Thing\nfrom sqlalchemy import select\nfrom ..services import Area\n"
           "def page(ctx, svc):\n    ctx.session.rollback()\n    return svc.Thing\n")
    found = views_past_services(tmp_path, "alpha")
    assert not [v for v in found if "fine.py" in v], found
    for what in ("bad.py:1: plugins.alpha.models", "bad.py:2: sqlalchemy", "bad.py:3: plugins.alpha.services.Area",
                 "bad.py:5: touches a session", "bad.py:6: svc.Thing"):
        assert any(what in v for v in found), (what, found)
# --- no import loops (issue 16) ------------------------------------------------------------------
CYCLE_ROOTS = ("shell", "reports", "plugins")
# None allowed (the grid's people ↔ residents views loop was broken in issue #16; the volunteer
# attendance validator and its services share the time rule in validation.py).
ALLOWED_CYCLES: set[frozenset[str]] = set()


def import_graph(root: Path) -> dict[str, set[str]]:
    """module → the modules of the scanned tree it imports (at module level or inside a function —
    a late import still ties the two modules together), each import resolved to the longest known
    module; a module's own package (imported implicitly with it) is not an edge."""
    mods = {module_name(root, f): f for d in CYCLE_ROOTS for f in py_files(root / d)}
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, f in mods.items():
        for i in imports_of(root, f, runtime_only=True):  # annotation-only imports tie nothing
            parts = i.module.split(".")
            while parts and ".".join(parts) not in mods:
                parts.pop()
            target = ".".join(parts)
            if target and target != m and not m.startswith(target + "."):
                graph[m].add(target)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return sorted(out)


def test_no_import_cycles():
    graph = import_graph(ROOT)
    assert len(graph) > 100 and "reports.pdf" in graph and "plugins.grid.services" in graph  # it scans
    found = [c for c in import_cycles(graph) if frozenset(c) not in ALLOWED_CYCLES]
    lines = [" ↔ ".join(c) + "\n    " + "\n    ".join(f"{m} → {', '.join(sorted(graph[m] & set(c)))}" for m in c)
             for c in found]
    assert not found, "import loops (break them: move the shared part down a layer):\n" + "\n".join(lines)


def test_reports_do_not_import_the_shell():
    """reports/ is the bottom layer (a spec in, a PDF/XLSX out): the shell builds on it, never back."""
    bad = [str(i) for f in py_files(ROOT / "reports") for i in imports_of(ROOT, f) if i.module.split(".")[0] == "shell"]
    assert not bad, "reports/ imports the shell:\n" + "\n".join(bad)


def test_cycle_finder_can_fail(tmp_path):
    for pkg in ("shell", "shell/core", "shell/db", "reports", "plugins"):
        _write(tmp_path, f"{pkg}/__init__.py", "")
    _write(tmp_path, "shell/core/a.py", "from shell.db import b\n")
    _write(tmp_path, "shell/db/b.py", "def f():\n    from shell.core.a import x\n")      # a late import still loops
    _write(tmp_path, "shell/db/c.py", "from . import d\n")
    _write(tmp_path, "shell/db/d.py", "from shell.db.e import y\n")
    _write(tmp_path, "shell/db/e.py", "import shell.db.c\n")
    _write(tmp_path, "shell/db/f.py", "from shell.db import c\n")                         # into a loop, not part of it
    _write(tmp_path, "reports/pdf.py", "import shell.core\n")                            # a package's __init__: no loop
    assert import_cycles(import_graph(tmp_path)) == [
        ["shell.core.a", "shell.db.b"], ["shell.db.c", "shell.db.d", "shell.db.e"]]


def test_every_import_of_our_own_modules_resolves():
    """A relative import inside a function is not run until the function is (a module moved into a
    services/ package kept ``from .validation import …`` that only the demo hit): every import of
    shell, reports, plugins or tests names a module, or a name a module defines."""
    import importlib.util

    def spec_of(name):
        try:
            return importlib.util.find_spec(name)
        except ModuleNotFoundError:  # "shell.cli.main": a name in a module, not a module
            return None

    ours = ("shell", "reports", "plugins", "tests")
    bad = []
    for d in ours[:3]:
        for f in py_files(ROOT / d):
            for i in imports_of(ROOT, f):
                if i.module.split(".")[0] not in ours:
                    continue
                if spec_of(i.module) is not None:
                    continue
                parent, _, name = i.module.rpartition(".")
                spec = spec_of(parent) if parent else None
                if spec is not None and spec.origin and name in Path(spec.origin).read_text(encoding="utf-8"):
                    continue  # "from .x import NAME": NAME defined (or re-exported) in x
                bad.append(str(i))
    assert not bad, "imports of modules that do not exist:\n" + "\n".join(bad)
