"""应急预案 page through the real widgets (pytest-qt): create a plan with steps and an attached file,
edit it, steps locked once a drill was scored against them, the review-due tab, saving the file and
printing the catalogue."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from plugins.emergency import services as sv
from plugins.emergency.models import Plan, PlanStep
from plugins.emergency.views.plans import PlanDialog, PlansPage
from shell.core.context import AppContext
from shell.core.models import Area

from .conftest import TODAY, clock_at, scoped_actor


@pytest.fixture
def path(world):
    ctx = world.ctx()
    sv.create_plan(ctx, world.street, "街道突发事件总体应急预案", "自然灾害", "总体预案", "2.0",
                   review_on=TODAY + timedelta(days=10), steps=["接警", "响应"])
    sv.create_plan(ctx, world.c1, "东湖社区火灾现场处置方案", "事故灾难", "现场处置方案",
                   review_on=TODAY + timedelta(days=400))
    ctx.session.commit()
    with world.db.session_factory() as s:
        return s.get(Area, world.street).path


def make_page(qtbot, world, path, *perms):
    app = AppContext(world.db.session_factory, scoped_actor(path, *perms), clock=clock_at(TODAY))
    page = PlansPage(app)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    return page


@pytest.fixture
def page(qtbot, world, path):
    return make_page(qtbot, world, path, "emergency.view", "emergency.plan.manage")


def click(qtbot, w):
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton)


def titles(model):
    return [r.title for r in model.rows]


def test_catalogue_filter_and_review_due(page):
    m = page.model
    assert titles(m) == ["东湖社区火灾现场处置方案", "街道突发事件总体应急预案"]
    due_row = titles(m).index("街道突发事件总体应急预案")
    assert m.data(m.index(due_row, 6)) == f"{(TODAY + timedelta(days=10)).isoformat()}（待评审）"
    assert m.data(m.index(due_row, 7)) == "2 步"
    assert page.tabs.tabText(1) == "待评审（1）" and titles(page.due_model) == ["街道突发事件总体应急预案"]
    assert "30 天内到期的预案共 1 个" in page.due_label.text()
    page.category.setCurrentText("事故灾难")
    assert titles(m) == ["东湖社区火灾现场处置方案"]


def test_create_a_plan_with_steps_and_a_file(qtbot, world, page, tmp_path):
    click(qtbot, page.new_button)
    d = page.dialog
    assert isinstance(d, PlanDialog)
    click(qtbot, d.ok_button)
    assert d.isVisible() and d.form.error_text("title") == "请填写预案名称。"
    d.title_edit.setText("防汛防台专项应急预案")
    d.level.setCurrentText("专项预案")
    d.review_on.set_value(TODAY + timedelta(days=365))
    d.add_step("接警与信息报告", "值班室")
    d.add_step("人员转移", "社区")
    doc = tmp_path / "防汛预案.pdf"
    doc.write_bytes(b"%PDF-1.4 " + b"x" * 3000)
    d.set_file(doc)
    assert d.file_label.text() == "防汛预案.pdf（3 KB，保存时上传）"
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    row = page.selected()
    assert row.title == "防汛防台专项应急预案" and row.steps == 2 and row.file_name == "防汛预案.pdf"
    out = page.save_file(str(tmp_path / "copy.pdf"))
    assert out and (tmp_path / "copy.pdf").read_bytes() == doc.read_bytes()
    assert page.message.text().startswith("已保存附件")


def test_edit_plan_and_steps_locked_after_evaluation(qtbot, world, page):
    page.select_plan(next(r.id for r in page.model.rows if r.title.startswith("街道")))
    click(qtbot, page.edit_button)
    d = page.dialog
    assert [d.steps.item(r, 0).text() for r in range(d.steps.rowCount())] == ["接警", "响应"]
    assert not d.area.isEnabled() and not d.steps_locked
    d.version.setText("3.0")
    d.review_on.set_value(TODAY + timedelta(days=700))
    d.add_step("善后")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    row = page.selected()
    assert (row.version, row.steps, row.review_due) == ("3.0", 3, False)
    assert page.tabs.tabText(1) == "待评审（0）"

    ctx = world.ctx()                                         # a drill is evaluated against the steps
    drill = sv.plan_drill(ctx, row.area_id, "演练", "live", "comprehensive", "inspection", TODAY, plan_id=row.id)
    sv.record_drill_held(ctx, drill.id, TODAY, 10, place="广场")
    sv.evaluate_drill(ctx, drill.id, [dict(t, score=8) for t in sv.evaluation_template(ctx, drill.id)], "李明")
    ctx.session.commit()
    page.reload()
    page.select_plan(row.id)
    click(qtbot, page.edit_button)
    d = page.dialog
    assert d.steps_locked and not d.add_step_button.isEnabled()
    d.title_edit.setText("街道突发事件总体应急预案（修订）")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    with world.db.session_factory() as s:
        plan = s.get(Plan, row.id)
        assert plan.title == "街道突发事件总体应急预案（修订）"
        assert s.query(PlanStep).filter_by(plan_id=row.id).count() == 3


def test_edit_conflict_compare_and_reload(qtbot, world, page, conflict_dialogs):
    row = page.model.rows[0]
    page.select_plan(row.id)
    click(qtbot, page.edit_button)
    d = page.dialog
    ctx = world.ctx()                                         # another desktop saves first
    sv.update_plan(ctx, row.id, version="9.9", review_on=TODAY + timedelta(days=90))
    ctx.session.commit()
    d.version.setText("4.0")
    click(qtbot, d.ok_button)                                 # answered "返回继续编辑"
    assert d.isVisible() and d.form.general_error.isVisible()
    seen = conflict_dialogs["seen"]
    assert len(seen) == 1 and "可以对比双方的内容" in seen[0]["message"]
    rows = {label: (mine, theirs) for label, mine, theirs in seen[0]["rows"]}
    assert rows["版本号"] == ("4.0", "9.9")
    assert rows["评审日期"] == ((TODAY + timedelta(days=400)).isoformat(), (TODAY + timedelta(days=90)).isoformat())
    assert rows["预案名称"][0] == rows["预案名称"][1]
    with world.db.session_factory() as s:
        assert s.get(Plan, row.id).version == "9.9"             # nothing overwritten
    conflict_dialogs["button"] = "reload"
    click(qtbot, d.ok_button)
    assert d.version.text() == "9.9" and d.review_on.value() == TODAY + timedelta(days=90)
    d.version.setText("10.0")
    with qtbot.waitSignal(d.accepted):                        # saved against the reloaded version
        click(qtbot, d.ok_button)
    with world.db.session_factory() as s:
        assert s.get(Plan, row.id).version == "10.0"


def test_viewer_and_printing(qtbot, world, path):
    viewer = make_page(qtbot, world, path, "emergency.view")
    viewer.select_plan(viewer.model.rows[0].id)
    assert not viewer.new_button.isEnabled() and not viewer.edit_button.isEnabled()
    click(qtbot, viewer.print_button)
    pd = viewer.print_dialog
    qtbot.waitUntil(lambda: pd.result is not None or "失败" in pd.status.text(), timeout=30000)
    assert pd.result is not None and pd.result.rows == 2 and pd.preview.page_count() == 1
    pd.reject()


def test_open_record_selects_a_plan(qtbot, world, path):
    import plugins.emergency as plugin

    app = AppContext(world.db.session_factory, scoped_actor(path, "emergency.view"), clock=clock_at(TODAY))
    pages = {}

    def open_page(page_id):
        assert page_id == "emergency.plans"
        if "p" not in pages:
            pages["p"] = PlansPage(app)
            qtbot.addWidget(pages["p"])
        return pages["p"]

    app.extras["open_page"] = open_page
    with app.service(commit=False) as ctx:
        found = sv.search(ctx, "火灾")
    assert [r.kind for r in found] == ["emergency.plan"]
    assert plugin.open_record(ctx=app, kind="emergency.plan", id=found[0].id) is True
    assert pages["p"].selected().title == "东湖社区火灾现场处置方案"
    assert plugin.open_record(ctx=app, kind="emergency.plan", id=99999) is False
