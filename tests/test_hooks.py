"""One test per hook of shell/hookspecs.py (``test_hook_<name>``), each going through a real plugin
manager with the test plugin and checking that the shell's consumer does something with the answer.
A meta-test fails when a hook is added without such a test."""
from __future__ import annotations

import ast
import random
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

import tests.testplugin as testplugin
from shell import hookimpl
from shell.contracts import (
    DashboardWidgetSpec,
    ImporterDefinition,
    ImportResult,
    MigrationBranch,
    PluginInfo,
    SearchResult,
    SettingDefinition,
)
from shell.core import auth, settings
from shell.core.areas import list_areas
from shell.core.context import Actor, AppContext, ServiceContext
from shell.core.database import open_database
from shell.core.demo import DEFAULT_PASSWORD, create_demo, seed_plugins
from shell.core.models import Area, Role
from shell.db.migrate import alembic_config, current_revisions, plugin_branches
from shell.errors import PermissionDenied, ValidationError
from shell.plugins import call_each, make_plugin_manager, plugin_status
from shell.testing import PluginSet

ROOT = Path(__file__).resolve().parents[1]
Note = testplugin.Note
TESTPLUGIN = PluginSet(builtins=(), extra=("tests.testplugin",))


def make_pm(*extra, disabled=()):
    return make_plugin_manager(disabled=disabled, builtins=(), extra=(testplugin, *extra), entry_points=False)


@pytest.fixture
def pm():
    return make_pm()


@pytest.fixture(scope="session")
def demo_template(sqlite_templates):
    return sqlite_templates.path(TESTPLUGIN, demo=True)


@pytest.fixture
def demo(demo_template, tmp_path, pm):
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    db = open_database(path, pm=pm)
    yield db
    db.dispose()


def login(db, username):
    return auth.login(db.session_factory, username, DEFAULT_PASSWORD)


def app_ctx(db, actor, pm):
    return AppContext(db.session_factory, actor, pm)


def grid_count(db) -> int:
    with db.session_factory() as s:
        return len(list_areas(s, level="grid"))


def street_clerk(db):
    """A user with the test plugin's role, scoped to the whole street (not a superuser)."""
    with db.session_factory() as s:
        street = s.scalar(select(Area).where(Area.level == "street"))
        auth.create_user(ServiceContext(s, Actor.system()), "clerk", "便签员", "clerk1234", street.id,
                         ["testplug_clerk"])
        s.commit()
    return auth.login(db.session_factory, "clerk", "clerk1234")


# --- one test per hook -------------------------------------------------------------------------------
def test_hook_plugin_info(pm):
    infos = pm.hook.plugin_info()
    assert len(infos) == 1 and isinstance(infos[0], PluginInfo)
    st = {s.name: s for s in plugin_status(pm)}["testplug"]
    assert (st.name, st.title, st.version, st.state) == ("testplug", "测试插件", "1.0", "loaded")
    assert st.state_label == "已加载"
    # the name from plugin_info is the registration name, not the module's
    assert pm.get_plugin("testplug") is testplugin and pm.get_plugin("tests.testplugin") is None


def test_hook_register_migrations(pm, tmp_path):
    branches = plugin_branches(pm)
    assert branches == [MigrationBranch("testplug", Path(testplugin.__file__).parent / "migrations")]
    cfg = alembic_config(branches)
    assert str(branches[0].path) in cfg.get_main_option("version_locations")
    db = open_database(tmp_path / "m.sqlite", pm=pm, backup=False)
    try:
        assert "testplug_notes" in inspect(db.engine).get_table_names()
        with db.engine.connect() as conn:
            assert current_revisions(conn) == db.upgrade.after
        assert "t0001" in db.upgrade.after and "t0001" not in db.upgrade.before
        cols = {c["name"] for c in inspect(db.engine).get_columns("testplug_notes")}
        assert {"id", "area_id", "title", "version_id", "created_at"} <= cols
    finally:
        db.dispose()


def test_hook_register_permissions(pm, demo):
    perms = auth.collect_permissions(pm)
    assert perms["testplug.view"] == "查看测试便签" and perms["testplug.edit"] == "编辑测试便签"
    admin = Actor.system()
    with demo.session_factory() as s:
        ctx = ServiceContext(s, admin)
        role = auth.save_role(ctx, "notes_reader", "便签读者", ["testplug.edit"], known_codes=perms)
        assert role.codes == {"testplug.edit"}
        # without the plugin the code is unknown and refused
        with pytest.raises(ValidationError, match="testplug.edit"):
            auth.save_role(ctx, "notes_reader2", "便签读者", ["testplug.edit"],
                           known_codes=auth.collect_permissions(None))
        s.rollback()


def test_hook_register_roles(pm, demo):
    templates = {t.name: t for t in auth.collect_role_templates(pm)}
    assert templates["grid_worker"].permissions[0] == "core.area.view"
    assert "testplug.view" in templates["grid_worker"].permissions
    assert templates["testplug_clerk"].permissions == ("testplug.view", "testplug.edit")
    with demo.session_factory() as s:
        roles = {r.name: r for r in s.scalars(select(Role))}
        assert roles["testplug_clerk"].title == "便签管理员" and roles["testplug_clerk"].builtin
        assert roles["grid_worker"].codes == {"core.area.view", "core.data.export", "testplug.view"}
        # a code an administrator took away (here export and print of lists) stays away on the next start
        ctx = ServiceContext(s, Actor.system())
        auth.save_role(ctx, "grid_worker", "网格员", ["core.area.view"], known_codes=auth.collect_permissions(pm))
        s.commit()
    demo.dispose()
    again = open_database(demo.url, pm=pm)
    try:
        with again.session_factory() as s:
            assert s.scalar(select(Role).where(Role.name == "grid_worker")).codes == {"core.area.view"}
    finally:
        again.dispose()


def test_hook_register_pages(pm, demo, qtbot):
    grids = grid_count(demo)
    assert grids > 1
    for actor, expected in ((login(demo, "grid_worker"), 1), (street_clerk(demo), grids), (login(demo, "admin"), grids)):
        ctx = app_ctx(demo, actor, pm)
        pages = [p for n, p in call_each(pm, "register_pages", ctx=ctx) if n != "core"]
        assert [p.id for p in pages] == ["testplug.notes"]
        page = pages[0]
        assert page.title == "测试便签" and actor.can(page.permission)
        widget = page.factory(ctx, None)
        qtbot.addWidget(widget)
        assert widget.objectName() == "testplug-page"
        assert widget.text() == f"测试便签共 {expected} 条", actor.username
    # a user without the permission is not offered the page
    street_staff = login(demo, "street_staff")
    pages = [p for n, p in call_each(pm, "register_pages", ctx=app_ctx(demo, street_staff, pm)) if n != "core"]
    assert [p for p in pages if p.permission is None or street_staff.can(p.permission)] == []


def test_hook_register_dashboard_widgets(pm, demo, qtbot):
    actor = login(demo, "grid_worker")
    ctx = app_ctx(demo, actor, pm)
    tiles = call_each(pm, "register_dashboard_widgets", ctx=ctx)
    assert [(n, t.id) for n, t in tiles] == [("testplug", "testplug.tile")]
    tile = tiles[0][1]
    assert isinstance(tile, DashboardWidgetSpec) and actor.can(tile.permission)
    widget = tile.factory(ctx, None)
    qtbot.addWidget(widget)
    assert widget.text() == "测试插件磁贴"
    assert not login(demo, "street_staff").can(tile.permission)


def test_hook_register_reports(pm, demo):
    reports = {r.id: r for _n, r in call_each(pm, "register_reports")}
    report = reports["testplug.notes"]
    assert report.permission == "testplug.view"
    assert [(p.name, p.kind, p.default) for p in report.parameters] == [("year", "year", 2026)]
    with demo.session_factory() as s:
        expected = [(n.id, n.title) for n in s.scalars(select(Note).order_by(Note.id))]
        spec = report.builder(ServiceContext(s, login(demo, "admin")), {"year": 2026})
        rows = [tuple(r) for r in spec.rows]
    assert len(expected) == grid_count(demo)
    assert (spec.title, spec.period) == ("测试便签台账", "2026年")
    assert rows == expected


def _write_notes_file(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(["辖区编码,标题", *lines]), encoding="utf-8")
    return path


def test_hook_register_importers(pm, demo, tmp_path):
    importers = {d.kind: d for _n, d in call_each(pm, "register_importers")}
    imp = importers["testplug-notes"]
    assert isinstance(imp, ImporterDefinition) and imp.columns == ("辖区编码", "标题")
    with demo.session_factory() as s:
        code = list_areas(s, level="grid")[0].code
        before = s.scalar(select(func.count()).select_from(Note))
    src = _write_notes_file(tmp_path / "notes.csv", [f"{code},好便签", "NOPE,坏编码", f"{code},第二条"])
    admin = login(demo, "admin")

    with demo.session_factory() as s:
        result = imp.import_fn(ServiceContext(s, admin), src, False)
        s.commit()
    assert isinstance(result, ImportResult) and not result.ok
    assert (result.total_rows, result.valid_rows, result.written) == (3, 2, 0)
    assert [(e.row, e.column, e.value) for e in result.errors] == [(3, "辖区编码", "NOPE")]
    assert "第 3 行" in str(result.errors[0])
    with demo.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Note)) == before  # nothing written

    with demo.session_factory() as s:
        result = imp.import_fn(ServiceContext(s, admin), src, True)
        s.commit()
    assert result.written == 2
    with demo.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Note)) == before + 2

    # the importer checks its permission itself
    with demo.session_factory() as s, pytest.raises(PermissionDenied):
        imp.import_fn(ServiceContext(s, login(demo, "grid_worker")), src, True)

    out = tmp_path / "out.csv"
    with demo.session_factory() as s:
        assert imp.export_fn(ServiceContext(s, admin), out) == before + 2
    assert out.read_text(encoding="utf-8").splitlines()[0] == "辖区编码,标题"


def test_hook_register_settings(pm, demo):
    defs = settings.definitions(pm)
    d = defs["testplug.per_grid"]
    assert isinstance(d, SettingDefinition) and (d.default, d.minimum, d.maximum) == (10, 1, 100)
    assert "core.unit_name" in defs
    assert "testplug.per_grid" not in settings.definitions(None)
    with demo.session_factory() as s:
        ctx = ServiceContext(s, login(demo, "admin"))
        assert settings.get(s, d) == 10
        with pytest.raises(ValidationError, match="不能小于"):
            settings.set_value(ctx, d, 0)
        with pytest.raises(ValidationError, match="不能大于"):
            settings.set_value(ctx, d, 101)
        with pytest.raises(ValidationError, match="格式不正确"):
            settings.set_value(ctx, d, "很多")
        assert settings.get(s, d) == 10
        assert settings.set_value(ctx, d, "50") == 50
        s.commit()
    with demo.session_factory() as s:
        assert settings.get(s, d) == 50
        assert settings.all_values(s, defs.values())["testplug.per_grid"] == 50
        with pytest.raises(PermissionDenied):
            settings.set_value(ServiceContext(s, login(demo, "grid_worker")), d, 20)


def test_hook_register_table_access(pm):
    from shell.contracts import TableAccess
    from shell.core.access import collect_table_access

    items = collect_table_access(pm)
    assert all(isinstance(t, TableAccess) for t in items)
    notes = [t for t in items if t.table == "testplug_notes"]
    assert notes == [TableAccess("testplug_notes", read=("testplug.view",), write=("testplug.edit",))]
    assert notes[0].rows() == [("testplug_notes", "testplug.view", "read"), ("testplug_notes", "testplug.edit", "write")]
    assert "testplug_notes" not in {t.table for t in collect_table_access(None)}
    assert {"core_users", "core_audit_log"} <= {t.table for t in collect_table_access(None)}


def test_hook_register_search(pm, demo):
    grids = grid_count(demo)
    admin = login(demo, "admin")
    worker = login(demo, "grid_worker")
    all_hits = call_each(pm, "register_search", ctx=app_ctx(demo, admin, pm), text="便签")
    assert len(all_hits) == grids
    assert all(isinstance(r, SearchResult) and r.kind == "testplug.note" and r.plugin == "testplug"
               for _n, r in all_hits)
    mine = call_each(pm, "register_search", ctx=app_ctx(demo, worker, pm), text="便签")
    assert len(mine) == 1
    with demo.session_factory() as s:
        note = s.get(Note, mine[0][1].id)
        assert worker.in_scope(s.get(Area, note.area_id).path)
    assert call_each(pm, "register_search", ctx=app_ctx(demo, admin, pm), text="不存在的字样") == []


class FailingSeeder:
    """Writes a row, then fails: its savepoint must be rolled back and the others must still seed."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="badseed", title="坏种子", version="0.1")

    @hookimpl
    def seed_demo(self, session, scale, rng):
        grid = list_areas(session, level="grid")[0]
        session.add(Note(area_id=grid.id, title="不应留下"))
        session.flush()
        raise RuntimeError("生成失败")


def test_hook_seed_demo(tmp_path):
    pm = make_pm(FailingSeeder())
    db = create_demo(tmp_path / "seed.sqlite", pm=pm)
    try:
        with db.session_factory() as s:
            titles = list(s.scalars(select(Note.title)))
            assert len(titles) == grid_count(db)
            assert "不应留下" not in titles
            # seed_plugins reports the failure by plugin name, and is reproducible with the same seed
            errors = seed_plugins(s, pm, "small", random.Random(1))
            assert set(errors) == {"badseed"} and "生成失败" in errors["badseed"]
            s.rollback()
    finally:
        db.dispose()
    other = create_demo(tmp_path / "seed2.sqlite", pm=pm)
    try:
        with other.session_factory() as s:
            assert sorted(s.scalars(select(Note.title))) == sorted(titles)
    finally:
        other.dispose()


def test_hook_open_record(pm, monkeypatch):
    opened = []
    monkeypatch.setattr(testplugin, "OPENED", opened)
    assert pm.hook.open_record.spec.opts["firstresult"] is True
    assert pm.hook.open_record(ctx=None, kind="testplug.note", id=7) is True
    assert opened == [("testplug.note", 7)]
    assert pm.hook.open_record(ctx=None, kind="volunteer.person", id=7) is None
    assert opened == [("testplug.note", 7)]

    class Other:
        @hookimpl
        def plugin_info(self):
            return PluginInfo(name="other", title="别的插件", version="0.1")

        @hookimpl
        def open_record(self, ctx, kind, id):
            return True if kind == "other.thing" else None

    pm2 = make_pm(Other())
    assert pm2.hook.open_record(ctx=None, kind="other.thing", id=1) is True
    assert pm2.hook.open_record(ctx=None, kind="testplug.note", id=2) is True
    assert opened == [("testplug.note", 7), ("testplug.note", 2)]
    assert pm2.hook.open_record(ctx=None, kind="nobody.owns", id=3) is None


# --- every hook has its test ---------------------------------------------------------------------------
def hookspec_names(source: str) -> list[str]:
    names = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            target = dec.func if isinstance(dec, ast.Call) else dec
            if (isinstance(target, ast.Name) and target.id == "hookspec") or \
                    (isinstance(target, ast.Attribute) and target.attr == "hookspec"):
                names.append(node.name)
    return names


def defined_tests(root: Path) -> set[str]:
    """Names of ``test_hook_*`` functions found in the text of every .py file under ``root``."""
    out = set()
    for path in root.rglob("*.py"):
        out |= set(re.findall(r"^\s*(?:async\s+)?def\s+(test_hook_\w+)\s*\(", path.read_text(encoding="utf-8"),
                              flags=re.MULTILINE))
    return out


def test_every_hook_has_a_test():
    names = hookspec_names((ROOT / "shell" / "hookspecs.py").read_text(encoding="utf-8"))
    assert len(names) >= 12 and "open_record" in names and "plugin_info" in names
    have = defined_tests(ROOT / "tests")
    missing = [n for n in names if f"test_hook_{n}" not in have]
    assert not missing, f"hooks without a test_hook_<name>: {missing}"


def test_meta_test_can_fail(tmp_path):
    specs = ("from shell import hookspec\n\n@hookspec\ndef a():\n    pass\n\n"
             "@hookspec(firstresult=True)\ndef b(x):\n    pass\n\ndef helper():\n    pass\n")
    assert hookspec_names(specs) == ["a", "b"]
    (tmp_path / "test_x.py").write_text("def test_hook_a():\n    pass\n", encoding="utf-8")
    have = defined_tests(tmp_path)
    assert [n for n in hookspec_names(specs) if f"test_hook_{n}" not in have] == ["b"]
