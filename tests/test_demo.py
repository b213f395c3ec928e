"""The demo database with every built-in plugin: each plugin seeds without error, whatever the
random sequence the plugins before it left behind (they share one seeded rng)."""
import pytest

from shell.core import auth
from shell.core.demo import create_demo
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager, plugin_status


@pytest.mark.parametrize("seed", [20261122, 7, 31337])
def test_every_builtin_plugin_seeds_the_demo(tmp_path, seed):
    pm = make_plugin_manager(entry_points=False)
    assert [s.state for s in plugin_status(pm)] == ["loaded"] * len(BUILTIN_PLUGINS)
    db = create_demo(tmp_path / "demo.sqlite", pm=pm, seed=seed)
    try:
        assert db.seed_errors == {}
        actor = auth.login(db.session_factory, "grid_worker", "demo1234")
        assert actor.scope_paths  # a demo user of every default role, scoped
    finally:
        db.dispose()
