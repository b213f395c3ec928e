import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select

import tests.testplugin as testplugin
from shell.contracts import ImporterDefinition, ImportResult, RowError
from shell.core import auth
from shell.core.models import AuditLog
from shell.core.transfer import run_export, run_import
from shell.errors import PermissionDenied
from shell.plugins import make_plugin_manager
from shell.testing import PluginSet


@pytest.fixture
def demo(tmp_path, sqlite_templates):
    """The demo street with the test plugin: a copy of the run's template."""
    pm = make_plugin_manager(builtins=(), extra=[testplugin], entry_points=False)
    db = sqlite_templates.open(tmp_path / "d.sqlite", PluginSet(builtins=(), extra=("tests.testplugin",)), demo=True,
                               pm=pm)
    yield db, pm
    db.dispose()


def _notes(db):
    with db.session_factory() as s:
        return s.scalar(select(func.count()).select_from(testplugin.Note))


def test_sloppy_importer_that_writes_before_failing_leaves_nothing(demo, tmp_path):
    """Even an importer that adds rows and then reports errors cannot leave half a file behind."""
    db, pm = demo
    before = _notes(db)

    def sloppy(ctx, path, valid_only):
        grid = ctx.session.scalar(select(testplugin.Note.area_id).limit(1))
        ctx.session.add(testplugin.Note(area_id=grid, title="不该留下"))
        ctx.session.flush()
        return ImportResult(total_rows=2, valid_rows=1, errors=[RowError(3, "标题", "", "标题不能为空")])

    admin = auth.login(db.session_factory, "admin", "demo1234")
    result = run_import(db.session_factory, admin, ImporterDefinition("sloppy", "马虎的导入", import_fn=sloppy),
                        tmp_path / "x.csv")
    assert not result.ok and _notes(db) == before


def test_import_export_roundtrip_is_audited(demo, tmp_path):
    db, pm = demo
    definition = testplugin.register_importers()[0]
    clerk = auth.login(db.session_factory, "testplug_clerk", "demo1234")
    with db.session_factory() as s:
        code = s.scalar(select(func.min(testplugin.Note.area_id)))
        from shell.core.models import Area
        code = s.get(Area, code).code
    src = tmp_path / "in.csv"
    src.write_text(f"辖区编码,标题\n{code},新便签\nNOPE,坏行\n", encoding="utf-8")
    before = _notes(db)
    bad = run_import(db.session_factory, clerk, definition, src)
    assert [str(e) for e in bad.errors] == ["第 3 行，“辖区编码”列，值“NOPE”：找不到这个辖区编码"]
    assert _notes(db) == before
    good = run_import(db.session_factory, clerk, definition, src, valid_only=True)
    assert good.written == 1 and _notes(db) == before + 1
    out = tmp_path / "out.csv"
    with pytest.raises(PermissionDenied):  # data leaving the program needs its own right
        run_export(db.session_factory, clerk, definition, out)
    clerk = dataclasses.replace(clerk, permissions=clerk.permissions | {"core.data.export"})
    assert run_export(db.session_factory, clerk, definition, out) == before + 1
    assert "新便签" in Path(out).read_text(encoding="utf-8")
    with db.session_factory() as s:
        actions = [r.action for r in s.scalars(select(AuditLog).where(AuditLog.entity == "testplug-notes"))]
    assert actions == ["import", "export"]


def test_import_needs_the_importers_permission(demo, tmp_path):
    db, pm = demo
    worker = auth.login(db.session_factory, "grid_worker", "demo1234")
    with pytest.raises(PermissionDenied):
        run_import(db.session_factory, worker, testplugin.register_importers()[0], tmp_path / "x.csv")
