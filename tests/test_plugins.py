"""The plugin contract end to end: the test plugin's contributions reach the shell; broken, badly
hooked, disabled, dependency-less and raising plugins are isolated and reported; third-party plugins
are discovered through the ``jiedao.plugins`` entry-point group; every call gets a fresh manager."""
from __future__ import annotations

import importlib
import shutil
import sys
import textwrap
import uuid

import pytest
from sqlalchemy import func, inspect, select

import tests.testplugin as testplugin
from shell import hookimpl
from shell.contracts import PageSpec, Permission, PluginInfo, ReportDefinition
from shell.core import auth
from shell.core.areas import list_areas
from shell.core.database import open_database
from shell.core.demo import DEFAULT_PASSWORD
from shell.core.models import Role
from shell.db.migrate import current_revisions
from shell.plugins import ENTRY_POINT_GROUP, call_each, make_plugin_manager, plugin_status
from shell.testing import PluginSet

BROKEN = "tests.testplugin.broken"
TESTPLUGIN = PluginSet(builtins=(), extra=("tests.testplugin",))
BADHOOK = "tests.testplugin.badhook"


def make_pm(*extra, disabled=(), builtins=()):
    return make_plugin_manager(disabled=disabled, builtins=builtins, extra=(testplugin, *extra), entry_points=False)


def status_of(pm, name):
    found = {s.name: s for s in plugin_status(pm)}
    assert name in found, f"{name} missing from plugin_status: {sorted(found)}"
    return found[name]


@pytest.fixture
def pm():
    return make_pm()


@pytest.fixture(scope="session")
def demo_template(sqlite_templates):
    """One demo database with the test plugin, copied per test (argon2 + migrations are slow)."""
    return sqlite_templates.path(TESTPLUGIN, demo=True)


@pytest.fixture
def demo_path(demo_template, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    return path


# --- class-based helper plugins -------------------------------------------------------------------
class RaisingPlugin:
    """Loads fine, but its register_permissions raises when called."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="raiser", title="出错插件", version="0.1")

    @hookimpl
    def register_permissions(self):
        raise RuntimeError("权限钩子坏了")


class NeedsMissing:
    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="needy", title="依赖缺失插件", version="0.1", requires=("nosuchplugin",))

    @hookimpl
    def register_permissions(self):
        return Permission("needy.view", "不应出现")


class NeedsTestplug:
    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="child", title="依赖测试插件", version="0.1", requires=("testplug",))

    @hookimpl
    def register_permissions(self):
        return Permission("child.view", "子插件")


class Impostor:
    """Claims the name of the test plugin."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="testplug", title="冒名插件", version="9.9")

    @hookimpl
    def register_permissions(self):
        return Permission("impostor.view", "冒名")


# --- the test plugin's contributions appear ------------------------------------------------------
def test_testplugin_loaded_and_contributes(pm):
    st = status_of(pm, "testplug")
    assert (st.state, st.source, st.title, st.version, st.error) == ("loaded", "测试", "测试插件", "1.0", "")
    assert pm.get_plugin("testplug") is testplugin

    # the core is the first plugin: its pages and reports come first, through the same hooks
    pages = call_each(pm, "register_pages", ctx=None)
    assert [(n, p.id) for n, p in pages] == [("core", "reports"), ("core", "imports"), ("testplug", "testplug.notes")]
    assert isinstance(pages[-1][1], PageSpec) and pages[-1][1].permission == "testplug.view"

    reports = call_each(pm, "register_reports")
    assert [(n, r.id) for n, r in reports] == [("core", "core.audit"), ("testplug", "testplug.notes")]
    assert isinstance(reports[-1][1], ReportDefinition)

    perms = auth.collect_permissions(pm)
    assert perms["testplug.view"] == "查看测试便签"
    assert "core.area.view" in perms  # core codes still there
    assert "testplug.view" not in auth.collect_permissions(None)

    roles = {t.name: t for t in auth.collect_role_templates(pm)}
    assert roles["grid_worker"].title == "网格员"  # the core title wins, the plugin adds codes
    assert set(roles["grid_worker"].permissions) >= {"core.area.view", "testplug.view"}
    assert "testplug_clerk" in roles
    assert "testplug.view" not in {c for t in auth.collect_role_templates(None) for c in t.permissions}


def test_migration_and_roles_after_open_database(pm, tmp_path):
    db = open_database(tmp_path / "x.sqlite", pm=pm, backup=False)
    try:
        assert "testplug_notes" in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:
            assert "t0001" in current_revisions(conn)
        with db.session_factory() as s:
            roles = {r.name: r for r in s.scalars(select(Role))}
            assert "testplug.view" in roles["grid_worker"].codes
            assert "core.area.view" in roles["grid_worker"].codes
            assert roles["testplug_clerk"].codes == {"testplug.view", "testplug.edit"}
    finally:
        db.dispose()


def test_migration_absent_without_plugin(tmp_path):
    """The counterpart: without the plugin its table is not created, so the check above means something."""
    db = open_database(tmp_path / "core.sqlite", pm=make_plugin_manager(builtins=(), entry_points=False), backup=False)
    try:
        assert "testplug_notes" not in inspect(db.engine).get_table_names()
    finally:
        db.dispose()


def test_demo_data_one_note_per_grid(demo_path, pm):
    db = open_database(demo_path, pm=pm)
    try:
        with db.session_factory() as s:
            grids = list_areas(s, level="grid")
            assert len(grids) > 1
            per_grid = dict(s.execute(select(testplugin.Note.area_id, func.count())
                                      .group_by(testplugin.Note.area_id)).all())
            assert per_grid == {g.id: 1 for g in grids}
    finally:
        db.dispose()


def test_grid_worker_login_has_plugin_permission(demo_path, pm):
    db = open_database(demo_path, pm=pm)
    try:
        actor = auth.login(db.session_factory, "grid_worker", DEFAULT_PASSWORD)
        assert actor.can("testplug.view")
        assert not actor.can("testplug.edit")
        street = auth.login(db.session_factory, "street_staff", DEFAULT_PASSWORD)
        assert not street.can("testplug.view")
    finally:
        db.dispose()


# --- faulty plugins are skipped and reported ---------------------------------------------------
def test_broken_and_badhook_plugins_skipped_and_reported():
    pm = make_pm(builtins=(BROKEN, BADHOOK))
    broken = status_of(pm, "broken")
    assert broken.state == "error"
    assert "模拟的插件导入错误" in broken.error and "ImportError" in broken.error
    assert broken.source == "内置"

    bad = status_of(pm, "badhook")
    assert bad.state == "error"
    assert "register_everything" in bad.error
    assert pm.get_plugin("badhook") is None
    assert not pm.has_plugin("badhook")

    good = status_of(pm, "testplug")
    assert good.state == "loaded" and good.error == ""
    names = [n for n, _ in pm.list_name_plugin()]
    assert names == ["core", "testplug"]
    assert [n for n, _ in call_each(pm, "register_pages", ctx=None)] == ["core", "core", "testplug"]
    assert [s.state for s in plugin_status(pm)].count("error") == 2


def test_plugin_info_of_wrong_type_is_reported():
    class NoInfo:
        __name__ = "noinfo"

        @hookimpl
        def plugin_info(self):
            return {"name": "noinfo"}

    pm = make_pm(NoInfo())
    st = status_of(pm, "noinfo")
    assert st.state == "error" and "PluginInfo" in st.error
    assert status_of(pm, "testplug").state == "loaded"


def test_disabled_plugin_reported_and_not_called(monkeypatch):
    calls = []
    monkeypatch.setattr(testplugin, "OPENED", calls)
    pm = make_pm(disabled=["testplug"])
    st = status_of(pm, "testplug")
    assert st.state == "disabled" and st.state_label == "已停用"
    assert st.title == "测试插件"  # still listed with its info so it can be re-enabled
    assert not pm.has_plugin("testplug")
    assert {n for n, _ in call_each(pm, "register_pages", ctx=None)} == {"core"}
    assert {n for n, _ in call_each(pm, "register_permissions")} == {"core"}
    assert pm.hook.open_record(ctx=None, kind="testplug.note", id=1) is None
    assert calls == []
    assert "testplug.view" not in auth.collect_permissions(pm)


def test_plugin_with_missing_requirement_is_unloaded():
    pm = make_pm(NeedsMissing())
    st = status_of(pm, "needy")
    assert st.state == "error"
    assert "缺少依赖插件" in st.error and "nosuchplugin" in st.error
    assert not pm.has_plugin("needy")
    assert "needy.view" not in auth.collect_permissions(pm)
    assert status_of(pm, "testplug").state == "loaded"


def test_plugin_requiring_a_disabled_plugin_is_unloaded():
    pm = make_pm(NeedsTestplug(), disabled=["testplug"])
    st = status_of(pm, "child")
    assert st.state == "error" and "缺少依赖插件" in st.error and "testplug" in st.error
    assert not pm.has_plugin("child")
    # and with its requirement present it loads
    pm2 = make_pm(NeedsTestplug())
    assert status_of(pm2, "child").state == "loaded"
    assert "child.view" in auth.collect_permissions(pm2)


def test_hook_raising_at_call_time_is_isolated():
    pm = make_pm(RaisingPlugin())
    assert status_of(pm, "raiser").state == "loaded"
    results = [(n, p) for n, p in call_each(pm, "register_permissions") if n != "core"]
    assert {p.code for _n, p in results} == {"testplug.view", "testplug.edit"}
    assert {n for n, _ in results} == {"testplug"}
    err = status_of(pm, "raiser").error
    assert "register_permissions" in err and "权限钩子坏了" in err
    assert status_of(pm, "testplug").error == ""
    # the shell's consumers survive it too
    assert "testplug.view" in auth.collect_permissions(pm)


def test_duplicate_plugin_name_does_not_mark_the_loaded_one_as_failed():
    """A second plugin claiming an already-used name is refused; the first one keeps working and its
    status must keep saying so (otherwise the plugin list shows an active plugin as 出错)."""
    pm = make_pm(Impostor())
    assert pm.get_plugin("testplug") is testplugin
    assert "impostor.view" not in auth.collect_permissions(pm)
    statuses = plugin_status(pm)
    original = [s for s in statuses if s.name == "testplug" and s.title == "测试插件"]
    assert original and original[0].state == "loaded" and original[0].error == "", statuses
    assert any(s.state == "error" and "重复" in s.error for s in statuses), statuses


# --- entry points ----------------------------------------------------------------------------------
def test_entry_point_discovery(tmp_path, monkeypatch):
    suffix = uuid.uuid4().hex[:8]
    modname = f"jiedao_extplug_{suffix}"
    dist = f"jiedao-extplug-{suffix}"
    (tmp_path / f"{modname}.py").write_text(textwrap.dedent(f'''
        from shell import hookimpl
        from shell.contracts import Permission, PluginInfo

        @hookimpl
        def plugin_info():
            return PluginInfo(name="extplug{suffix}", title="扩展插件", version="1.0")

        @hookimpl
        def register_permissions():
            return [Permission("extplug.view", "查看扩展")]
    '''), encoding="utf-8")
    info = tmp_path / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nextplug{suffix} = {modname}\n", encoding="utf-8")
    monkeypatch.delitem(sys.modules, modname, raising=False)  # removed again at teardown
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()

    pm = make_plugin_manager(builtins=(), entry_points=True)
    st = status_of(pm, f"extplug{suffix}")
    assert st.state == "loaded", st.error
    assert st.source == f"扩展 ({dist})"
    assert st.title == "扩展插件"
    assert pm.get_plugin(f"extplug{suffix}") is sys.modules[modname]
    assert auth.collect_permissions(pm)["extplug.view"] == "查看扩展"

    # without entry points it is not seen
    pm_off = make_plugin_manager(builtins=(), entry_points=False)
    assert f"extplug{suffix}" not in {s.name for s in plugin_status(pm_off)}
    # and it can be disabled like any other
    pm_dis = make_plugin_manager(builtins=(), entry_points=True, disabled=[f"extplug{suffix}"])
    assert status_of(pm_dis, f"extplug{suffix}").state == "disabled"


# --- a fresh manager per call ------------------------------------------------------------------------
def test_fresh_plugin_manager_per_call():
    pm1 = make_pm()
    pm2 = make_pm()
    assert pm1 is not pm2
    assert pm1.jiedao_status is not pm2.jiedao_status
    pm1.register(RaisingPlugin(), name="raiser")
    assert pm1.has_plugin("raiser")
    assert not pm2.has_plugin("raiser")
    assert len(pm1.hook.register_permissions.get_hookimpls()) == 3   # the core, testplug, raiser
    assert len(pm2.hook.register_permissions.get_hookimpls()) == 2
    pm2.set_blocked("testplug")
    assert pm1.is_blocked("testplug") is False
    pm3 = make_pm()
    assert pm3.has_plugin("testplug") and not pm3.has_plugin("raiser")


def test_call_each_answers_in_load_order():
    import types

    from shell import hookimpl
    from shell.contracts import PluginInfo
    from shell.plugins import call_each, make_plugin_manager, plugin_status

    def plugin(name):
        mod = types.ModuleType(name)
        mod.plugin_info = hookimpl(lambda: PluginInfo(name=name, title=name, version="1"))
        mod.register_permissions = hookimpl(lambda: [])
        mod.register_settings = hookimpl(lambda: [name])
        return mod

    pm = make_plugin_manager(builtins=(), extra=[plugin("first"), plugin("second"), plugin("third")],
                             entry_points=False)
    assert [s.name for s in plugin_status(pm)] == ["first", "second", "third"]
    assert [p for p, _ in call_each(pm, "register_settings") if p != "core"] == ["first", "second", "third"]
    assert {p for p, _ in call_each(pm, "register_settings")[:5]} == {"core"}   # the core plugin first


def test_startup_hooks_of_builtin_plugins_import_no_models():
    """The hooks the shell calls before the window shows (migrations, permissions, roles, settings,
    pages) must not import a plugin's models or services: that is the start-up budget."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from shell.plugins import make_plugin_manager, call_each, BUILTIN_PLUGINS\n"
        "pm = make_plugin_manager(entry_points=False)\n"
        "for hook in ('register_migrations', 'register_permissions', 'register_roles', 'register_settings'):\n"
        "    call_each(pm, hook)\n"
        "heavy = sorted(m for m in sys.modules if m.startswith('plugins.') and m.split('.')[-1] in\n"
        "               ('models', 'services', 'views', 'ledgers', 'importers', 'demo'))\n"
        "print(len(BUILTIN_PLUGINS), heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split(" ", 1)
    assert int(out[0]) >= 1 and out[1].strip() == "[]"
