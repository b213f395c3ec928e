"""The demo database with every built-in plugin: each plugin seeds without error, whatever the
random sequence the plugins before it left behind (they share one seeded rng)."""
import pytest

from shell.core import auth
from shell.core.demo import create_demo
from shell.plugins import BUILTIN_PLUGINS, make_plugin_manager, plugin_status
from shell.testing import ALL_BUILTINS, DEMO_SEED


@pytest.mark.parametrize("seed", [DEMO_SEED, 7, 31337])
def test_every_builtin_plugin_seeds_the_demo(tmp_path, seed, sqlite_templates):
    pm = make_plugin_manager(entry_points=False)
    assert [s.state for s in plugin_status(pm)] == ["loaded"] * len(BUILTIN_PLUGINS)
    if seed == DEMO_SEED:
        # The run's demo template is this very build (create_demo, every built-in plugin, the default
        # seed), made once for the suite: building it raises when a plugin's seed_demo failed.
        db = sqlite_templates.open(tmp_path / "demo.sqlite", ALL_BUILTINS, demo=True, pm=pm)
        assert db.is_demo
    else:
        db = create_demo(tmp_path / "demo.sqlite", pm=pm, seed=seed)
    try:
        assert db.seed_errors == {}
        actor = auth.login(db.session_factory, "grid_worker", "demo1234")
        assert actor.scope_paths  # a demo user of every default role, scoped
    finally:
        db.dispose()
