"""Plugin conformance (issue 16, the Tryton ``ModuleTestCase`` idea), run over every built-in plugin
and tests/testplugin: the same rooms exist (shell.testing.HOOK_ROOMS for every plugin, MODULE_ROOMS
for a work-line plugin), every permission a plugin registers is checked or attached somewhere in its
code, every report renders on the demo street, every importer's export goes back in cleanly (into a
bare copy of the street: its areas and users, no plugin data), and every page builds offscreen.

One demo template per plugin set (the suite's shared ones: every built-in plugin; the test plugin
alone), one bare street per set, all module-scoped. The reusable parts are in ``shell.testing``.
"""
from __future__ import annotations

import shutil

import pytest

from shell.core import auth
from shell.core.context import Actor, AppContext
from shell.core.database import open_database
from shell.core.reporting import available_reports, generate, parse_params
from shell.core.transfer import available_importers
from shell.plugins import BUILTIN_PLUGINS
from shell.testing import (
    ALL_BUILTINS,
    PluginSet,
    copy_rows,
    missing_rooms,
    plugins_under_test,
    round_trip,
    seed_bare_street,
    unused_permissions,
)

TESTPLUGIN = PluginSet(builtins=(), extra=("tests.testplugin",))
SUBJECTS = [(m.rsplit(".", 1)[-1], m, ALL_BUILTINS) for m in BUILTIN_PLUGINS] + [("testplug", "tests.testplugin", TESTPLUGIN)]
IDS = [name for name, _m, _s in SUBJECTS]


# Records an importer's sheet names but no importer of the plugin writes: copied from the demo into
# the bare street before the round trip.
PREREQUISITES = {"emergency": ("emergency_warehouses",), "partybuilding": ("partybuilding_orgs",)}


# Found by this test and left to the importer's owner (helper importers2, issue 16): the stock
# export lists the demo's expired batches, which the stock import refuses ("过期物资不能入库").
# Each entry must keep happening (the test says when to drop it); any other error fails.
KNOWN_ROUND_TRIP_ERRORS = {"emergency-stock": "过期，过期物资不能入库"}


@pytest.fixture(scope="module")
def streets(tmp_path_factory, sqlite_templates):
    """{plugin set key: (pm, demo db, bare street file, folder)}, made on first use, closed at the end."""
    opened: dict[str, tuple] = {}

    def get(plugins: PluginSet):
        if plugins.key not in opened:
            folder = tmp_path_factory.mktemp(f"conform-{len(opened)}")
            pm = plugins.manager()
            demo = sqlite_templates.open(folder / "demo.sqlite", plugins, demo=True, pm=pm)
            bare = seed_bare_street(sqlite_templates.open(folder / "bare.sqlite", plugins, demo=False, pm=pm))
            if plugins is ALL_BUILTINS:
                copy_rows(demo, bare, [t for tables in PREREQUISITES.values() for t in tables])
            bare.dispose()
            opened[plugins.key] = (pm, demo, folder / "bare.sqlite", folder)
        return opened[plugins.key]

    yield get
    for _pm, demo, _bare, _f in opened.values():
        demo.dispose()


def _subject(pm, name):
    found = [p for p in plugins_under_test(pm) if p.name == name]
    assert found, f"插件 {name} 没有加载：{[p.name for p in plugins_under_test(pm)]}"
    return found[0]


def _street_admin(pm, db) -> Actor:
    from sqlalchemy import select

    from shell.core.models import Area

    with db.session_factory() as s:
        street = s.scalars(select(Area).where(Area.level == "street")).first()
        path = street.path
    labels = auth.collect_permissions(pm)
    return Actor(user_id=None, username="admin", display_name="管理员", permissions=frozenset(labels),
                 scope_paths=(path,), labels=labels)


@pytest.mark.parametrize(("name", "module", "plugins"), SUBJECTS, ids=IDS)
def test_the_same_rooms_exist(name, module, plugins):
    pm = plugins.manager()
    subject = _subject(pm, name)
    assert subject.module == module
    assert subject.work_line == (module in BUILTIN_PLUGINS)   # the test plugin is one module: the hooks only
    assert missing_rooms(subject) == [], f"插件 {name} 缺少：{missing_rooms(subject)}"


@pytest.mark.parametrize(("name", "module", "plugins"), SUBJECTS, ids=IDS)
def test_every_permission_is_used(name, module, plugins):
    pm = plugins.manager()
    unused = unused_permissions(pm, _subject(pm, name))
    assert unused == [], f"插件 {name} 注册了却从不检查的权限：{unused}"


def _report_params(session, definition, every_builtin: bool):
    if every_builtin:   # the report test's own choice of a demo record per required parameter
        from tests.test_personal_data import _report_params as demo_params

        return demo_params(session, definition, False)
    return parse_params(definition, {})


@pytest.mark.parametrize(("name", "module", "plugins"), SUBJECTS, ids=IDS)
def test_every_report_renders_on_the_demo_street(name, module, plugins, streets, tmp_path):
    pm, demo, _bare, _f = streets(plugins)
    actor = _street_admin(pm, demo)
    mine = [d for plugin, d in available_reports(pm, actor) if plugin == name]
    assert mine, f"插件 {name} 没有报表"
    problems = []
    for d in mine:
        with demo.session_factory() as s:
            params = _report_params(s, d, plugins is ALL_BUILTINS)
        if params is None:
            problems.append(f"{d.id}: 演示数据里没有可打印的记录")
            continue
        out = generate(demo.session_factory, actor, d, params, tmp_path / f"{d.id}.pdf")
        if not out.path.exists() or out.path.stat().st_size == 0:
            problems.append(f"{d.id}: 没有生成文件")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("name", "module", "plugins"), SUBJECTS, ids=IDS)
def test_every_importer_round_trips_its_own_export(name, module, plugins, streets, tmp_path):
    pm, demo, bare, _f = streets(plugins)
    actor = _street_admin(pm, demo)
    mine = [d for plugin, d in available_importers(pm, actor) if plugin == name]
    copies = iter(range(1000))

    def fresh_target():
        path = tmp_path / f"target{next(copies)}.sqlite"
        shutil.copyfile(bare, path)
        return open_database(path, pm=pm, backup=False)

    exported, errors = round_trip(demo, fresh_target, actor, mine, tmp_path)
    assert exported and all(n > 0 for n in exported.values()), exported   # the demo has rows of each kind
    known = {k: reason for k, reason in KNOWN_ROUND_TRIP_ERRORS.items() if k in errors}
    for kind, reason in known.items():
        assert any(reason in e.reason for e in errors[kind]), f"{kind}: “{reason}” no longer happens: drop it from KNOWN"
        errors[kind] = [e for e in errors[kind] if reason not in e.reason]
    bad = {k: [f"第 {e.row} 行 {e.column}“{e.value}”：{e.reason}" for e in errs[:3]] for k, errs in errors.items() if errs}
    assert not bad, f"导出后再导入有错误：{bad}"


@pytest.mark.parametrize(("name", "module", "plugins"), SUBJECTS, ids=IDS)
def test_every_page_builds(name, module, plugins, streets, qtbot):
    from PySide6.QtCore import QThreadPool

    from shell.hooks import call_each
    from shell.plugins import warm_modules

    pm, demo, _bare, _f = streets(plugins)
    ctx = AppContext(demo.session_factory, _street_admin(pm, demo), pm, database_label="演示", is_demo=True)
    ctx.extras["open_page"] = lambda page_id: None
    pages = [spec for plugin, spec in call_each(pm, "register_pages", ctx=ctx) if plugin == name]
    assert pages, f"插件 {name} 没有页面"
    # The page modules imported here, on this thread, before any page starts work on the thread pool:
    # a module that builds a QBrush at import, imported while a pool thread imports Qt, has been
    # seen to fail in PySide6's lazy enum set-up ("QGradient has no attribute Preset").
    warm_modules(pm, "preload")
    for spec in pages:
        widget = spec.factory(ctx, None)
        qtbot.addWidget(widget)
        widget.show()
        assert widget.isVisible(), spec.id
        QThreadPool.globalInstance().waitForDone(20_000)   # its loading finished before the next page
        qtbot.wait(1)


def test_the_checks_can_fail(tmp_path, monkeypatch):
    """A plugin missing rooms and registering a code it never checks is caught by both helpers."""
    from shell.testing import PluginUnderTest, permission_references

    pkg = tmp_path / "halfhouse"
    (pkg / "views").mkdir(parents=True)
    (pkg / "views" / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "__init__.py").write_text(
        "from shell import hookimpl\n"
        "P_USED = 'half.used'\n"
        "ROLE_CODES = ('half.used', 'half.unused', 'half.role_only')\n"        # a role's list is no use
        "LABELS = {'half.unused': '从不检查'}\n"
        "@hookimpl\ndef plugin_info():\n    return None\n"
        "@hookimpl\ndef register_permissions():\n    return ['half.used', 'half.unused', 'half.role_only', 'half.call']\n"
        "def check(actor):\n    actor.require(P_USED)\n"
        "RULE = (dict(x=1), str('half.call'))\n", encoding="utf-8")
    (pkg / "services.py").write_text("from . import P_USED\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    subject = PluginUnderTest("half", "halfhouse", work_line=True)
    codes = {"half.used", "half.unused", "half.role_only", "half.call"}
    assert permission_references(subject, codes) == {"half.used", "half.call"}
    missing = missing_rooms(subject)
    assert "hook register_pages" in missing and "module models" in missing and "module views.dashboard" in missing
    assert "module services" not in missing and "hook plugin_info" not in missing
