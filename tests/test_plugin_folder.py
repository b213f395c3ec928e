"""Third-party plugins from a folder (the frozen build's ``plugins`` folder beside the program):
packages and modules load without entry points, faults are reported per plugin, and a folder
plugin's migrations are read from its folder."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from shell import plugins as plugins_mod

ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter: tests.testplugin may already be imported in this one, and its model
# table cannot be defined twice in one process.
CHILD = r"""
import json, sys
from shell.db.engine import make_engine
from shell.db.migrate import plugin_branches, upgrade
from shell.plugins import make_plugin_manager, plugin_status
pm = make_plugin_manager(builtins=(), entry_points=False, plugin_dirs=[sys.argv[1]])
again = make_plugin_manager(builtins=(), entry_points=False, plugin_dirs=[sys.argv[1]])  # a second manager
out = {s.name: {"state": s.state, "source": s.source, "error": s.error} for s in plugin_status(pm)}
out["again"] = sorted(s.name for s in plugin_status(again) if s.state == "loaded")
engine = make_engine(sys.argv[2])
upgrade(engine, plugin_branches(pm), backup=False)
from sqlalchemy import inspect
out["tables"] = sorted(inspect(engine).get_table_names())
print(json.dumps(out, ensure_ascii=False))
"""


def _run(folder: Path, db: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(db)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_folder_plugins_load_report_faults_and_migrate(tmp_path):
    folder = tmp_path / "plugins"
    shutil.copytree(ROOT / "tests" / "testplugin", folder / "testplugin",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "raises.py").write_text("raise RuntimeError('坏插件')\n", encoding="utf-8")
    (folder / "json.py").write_text("# shadows the standard library's json\n", encoding="utf-8")
    (folder / "readme.txt").write_text("不是插件\n", encoding="utf-8")
    (folder / "_private.py").write_text("raise SystemExit('never loaded')\n", encoding="utf-8")
    (folder / "emptydir").mkdir()

    out = _run(folder, tmp_path / "db.sqlite")

    cases = {  # name: (state, words in the error)
        "testplug": ("loaded", ""),
        "raises": ("error", "坏插件"),
        "json": ("error", "重名"),
    }
    for name, (state, error) in cases.items():
        assert out[name]["state"] == state, (name, out[name])
        assert error in out[name]["error"], (name, out[name])
        assert out[name]["source"] == f"插件文件夹 ({folder})"
    assert set(out) - {"again", "tables"} == set(cases)  # readme.txt, _private.py, emptydir are not plugins
    assert out["again"] == ["testplug"]
    assert "testplug_notes" in out["tables"]  # its migration was found in the copied folder


def test_default_folder_is_beside_the_frozen_program(tmp_path, monkeypatch):
    assert plugins_mod.default_plugin_dirs() == []
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "jiedao"))
    assert plugins_mod.default_plugin_dirs() == [tmp_path / "plugins"]


def test_a_missing_folder_has_no_plugins(tmp_path):
    pm = plugins_mod.make_plugin_manager(builtins=(), entry_points=False, plugin_dirs=[tmp_path / "nowhere"])
    assert plugins_mod.plugin_status(pm) == []
