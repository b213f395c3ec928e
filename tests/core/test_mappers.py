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
