"""shell.testing, the test setup shipped for plugin authors: templates are copied, never shared —
what one test writes is not in the next test's database — and the demo actors are the demo users."""
from __future__ import annotations

import sys
import types

import pytest
from sqlalchemy import func, select, text

from shell.core.models import Area, User
from shell.testing import CORE, PluginSet, SqliteTemplates, plugin_manager

TESTPLUGIN = PluginSet(builtins=(), extra=("tests.testplugin",))


def _areas(database) -> int:
    with database.session_factory() as s:
        return s.scalar(select(func.count()).select_from(Area))


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_gets_its_own_copy(db, round_):
    # The same test twice on each engine: the area the first round wrote is not there in the second.
    assert _areas(db) == 0
    with db.session_factory() as s:
        s.add(Area(name=f"第{round_}轮", level="street", code="1", path="/x/"))
        s.commit()
    assert _areas(db) == 1


def test_pg_clones_are_independent(pg_templates):
    with pg_templates.clone(CORE) as a, pg_templates.clone(CORE) as b:
        assert a.database != b.database
        da, dbb = pg_templates.open(a), pg_templates.open(b)
        try:
            with da.session_factory() as s:
                s.add(Area(name="只在甲", level="street", code="1", path="/x/"))
                s.commit()
            assert (_areas(da), _areas(dbb)) == (1, 0)
        finally:
            da.dispose()
            dbb.dispose()
    # the template itself takes no connections, so a clone never finds it in use
    with pg_templates.admin.connect() as conn:
        allowed = conn.execute(text("SELECT datallowconn FROM pg_database WHERE datname = :n"),
                               {"n": pg_templates.name(CORE)}).scalar()
    assert allowed is False


def test_demo_actors_are_the_demo_users(sqlite_templates, tmp_path, demo_actors):
    db = sqlite_templates.open(tmp_path / "d.sqlite", TESTPLUGIN, demo=True)
    try:
        actors = demo_actors(db)
        assert set(actors) == {"admin", "street_staff", "community_staff", "grid_worker"}
        assert actors["admin"].is_superuser and not actors["grid_worker"].is_superuser
        with db.session_factory() as s:
            paths = {u.username: s.get(Area, u.area_id).path for u in s.scalars(select(User)) if u.area_id}
        for role in ("street_staff", "community_staff", "grid_worker"):
            assert actors[role].scope_paths == (paths[role],)
        assert actors["grid_worker"].can("testplug.view") and not actors["street_staff"].can("testplug.view")
    finally:
        db.dispose()


def test_a_demo_template_whose_seeding_failed_is_refused(tmp_path, monkeypatch):
    from shell import hookimpl
    from shell.contracts import PluginInfo

    broken = types.ModuleType("jd_test_failing_seed")

    @hookimpl
    def plugin_info():
        return PluginInfo(name="failseed", title="坏种子", version="0.1")

    @hookimpl
    def seed_demo(session, scale, rng):
        raise RuntimeError("演示数据坏了")

    broken.plugin_info, broken.seed_demo = plugin_info, seed_demo
    monkeypatch.setitem(sys.modules, "jd_test_failing_seed", broken)
    templates = SqliteTemplates(tmp_path)
    with pytest.raises(RuntimeError, match="did not seed completely.*failseed"):
        templates.path(PluginSet(builtins=(), extra=("jd_test_failing_seed",)), demo=True)
    assert not list(tmp_path.glob("*demo*.sqlite"))


def test_plugin_manager_loads_exactly_what_it_is_given():
    import tests.testplugin

    pm = plugin_manager(tests.testplugin)
    assert [name for name, _ in pm.list_name_plugin()] == ["core", "testplug"]   # the core plugin first
    assert TESTPLUGIN.manager().get_plugin("testplug") is not None


def test_the_run_hashes_cheaply_and_logins_still_check_passwords(sqlite_templates, tmp_path):
    # The suite's users (the demo template's too) are hashed at argon2's lowest cost; logging in
    # still checks the password for real.
    from shell.core import auth
    from shell.errors import AuthError

    assert auth.hash_password("x").startswith("$argon2id$v=19$m=8,t=1,p=1$")
    db = sqlite_templates.open(tmp_path / "d.sqlite", TESTPLUGIN, demo=True)
    try:
        with db.session_factory() as s:
            stored = s.scalar(select(User.password_hash).where(User.username == "admin"))
        assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
        assert auth.login(db.session_factory, "admin", "demo1234").username == "admin"
        with pytest.raises(AuthError):
            auth.login(db.session_factory, "admin", "demo1235")
    finally:
        db.dispose()


def test_production_password_hasher_is_the_programs_own_cost(production_password_hasher):
    from shell.core import auth

    stored = auth.hash_password("admin1234")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert auth.verify_password(stored, "admin1234") and not auth.verify_password(stored, "admin1235")
