"""Opening a database imports every plugin's models and configures the shared mapper registry, so a
page's query on one thread can never configure mappers while another thread is half-way through
importing a plugin's models (which broke that plugin until restart)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from shell.core.database import open_database
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
from shell.db.base import Base

assert not any(m.endswith(".models") and m.startswith("plugins.") for m in sys.modules), "imported too early"
db = open_database(sys.argv[1], pm=make_plugin_manager(builtins=list(BUILTIN_PLUGINS), entry_points=False),
                   backup=False)
loaded = sorted(m for m in sys.modules if m.startswith("plugins.") and m.endswith(".models"))
print(",".join(loaded))
print(Base.registry._new_mappers)
db.dispose()
"""


def test_open_database_loads_and_configures_every_plugins_models(tmp_path):
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "x.sqlite")], capture_output=True, text=True,
                          cwd=str(ROOT), env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded, pending = proc.stdout.split()
    assert loaded.split(",") == ["plugins.emergency.models", "plugins.grid.models", "plugins.partybuilding.models",
                                 "plugins.volunteer.models"]
    assert pending == "False"  # nothing left for a thread's first query to configure


APP_CHILD = """
import sys, time
from shell.ui.app import _open_in_background, setup_application
app = setup_application([])
from shell.core import auth
from shell.core.context import AppContext
from shell.config import LocalConfig
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager
from shell.ui.main_window import MainWindow
from shell.core.demo import create_demo
create_demo(sys.argv[1], pm=make_plugin_manager(builtins=[], entry_points=False)).dispose()
db, pm = _open_in_background(sys.argv[1], lambda d: make_plugin_manager(builtins=list(BUILTIN_PLUGINS),
                                                                        entry_points=False))
before = sorted(m for m in sys.modules if m.startswith("plugins.") and m.endswith(".models"))
actor = auth.login(db.session_factory, "admin", "demo1234")
w = MainWindow(AppContext(db.session_factory, actor, plugin_manager=pm), LocalConfig(), db)
w.show()
end = time.time() + 3
while time.time() < end and not w.pages:
    app.processEvents()
after = sorted(m for m in sys.modules if m.startswith("plugins.") and m.endswith(".models"))
from shell.db.base import Base
print(len(before), len(after), Base.registry._new_mappers)
"""


def test_the_desktop_loads_them_when_the_window_shows_before_any_page(tmp_path):
    """The app opens without them (a shorter start) and loads them before its first page's threads."""
    proc = subprocess.run([sys.executable, "-c", APP_CHILD, str(tmp_path / "d.sqlite")], capture_output=True,
                          text=True, cwd=str(ROOT), timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen",
                               "JIEDAO_CONFIG_DIR": str(tmp_path / "cfg"), "JIEDAO_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    before, after, pending = proc.stdout.split()[-3:]
    assert (before, after, pending) == ("0", "4", "False")
