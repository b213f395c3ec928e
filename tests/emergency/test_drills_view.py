"""应急演练 page through the real widgets (pytest-qt): plan a drill against a plan, record it held,
evaluate it step by step with the summary fields, print the 演练评估报告, and the yearly list of who is
behind on comprehensive drills."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from plugins.emergency import services as sv
from plugins.emergency.models import Drill, DrillScore
from plugins.emergency.views.drills import DrillEvaluationDialog, DrillHeldDialog, DrillPlanDialog, DrillsPage
from shell.core.context import AppContext
from shell.core.models import Area

from .conftest import TODAY, clock_at, scoped_actor

STEPS = [("接警与信息报告", "值班室"), ("人员疏散", "社区"), ("物资调配", "仓库")]


@pytest.fixture
def setup(world):
    ctx = world.ctx()
    plan = sv.create_plan(ctx, world.street, "防汛防台专项应急预案", "自然灾害", "专项预案", "2.0", steps=STEPS)
    street_drill = sv.plan_drill(ctx, world.street, "街道防汛综合演练", "live", "comprehensive", "demonstration",
                                 date(TODAY.year, 3, 1))
    sv.record_drill_held(ctx, street_drill.id, date(TODAY.year, 3, 1), 120, place="街道广场")
    ctx.session.commit()
    with world.db.session_factory() as s:
        return plan.id, s.get(Area, world.street).path


def make_page(qtbot, world, path, *perms):
    app = AppContext(world.db.session_factory, scoped_actor(path, *perms), clock=clock_at(TODAY))
    page = DrillsPage(app)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    return page


@pytest.fixture
def page(qtbot, world, setup):
    return make_page(qtbot, world, setup[1], "emergency.view", "emergency.drill.manage")


def click(qtbot, w):
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton)


def cells(page):
    m = page.model
    return [[m.data(m.index(r, c)) for c in range(m.columnCount())] for r in range(m.rowCount())]


def test_plan_hold_evaluate_and_print_a_drill(qtbot, world, setup, page):
    plan_id, _path = setup
    assert "尚未完成综合演练：东湖社区、西关社区" in page.behind_label.text()
    assert page.tabs.tabText(1) == "年度综合演练完成情况（2 个未完成）"

    click(qtbot, page.new_button)
    dialog = page.dialog
    assert isinstance(dialog, DrillPlanDialog)
    assert [dialog.area.itemText(i) for i in range(dialog.area.count())] == ["和平街道", "东湖社区", "西关社区"]
    click(qtbot, dialog.ok_button)                              # no title
    assert dialog.isVisible() and dialog.form.error_text("title") == "请填写演练名称。"
    dialog.title_edit.setText("东湖社区防汛转移综合演练")
    dialog.area.setCurrentText("东湖社区")
    dialog.form_kind.setCurrentText("实战演练")
    dialog.plan.setCurrentIndex(dialog.plan.findData(plan_id))
    dialog.planned_on.setDate(TODAY - timedelta(days=1))
    dialog.place.setText("东湖广场")
    dialog.units.setPlainText("东湖社区、物业、卫生站")
    dialog.aim.setPlainText("检验转移流程")
    with qtbot.waitSignal(dialog.accepted):
        click(qtbot, dialog.ok_button)
    row = page.selected()
    assert row is not None and row.title == "东湖社区防汛转移综合演练" and row.status == "planned"
    assert cells(page)[[r.id for r in page.model.rows].index(row.id)][2:10] == [
        "东湖社区防汛转移综合演练", "东湖社区", "实战", "综合", "检验性", "东湖广场", "—", "计划"]
    assert page.held_button.isEnabled() and not page.evaluate_button.isEnabled() and not page.print_button.isEnabled()

    click(qtbot, page.held_button)
    held = page.dialog
    assert isinstance(held, DrillHeldDialog) and held.place.text() == "东湖广场"
    held.participants.setValue(86)
    with qtbot.waitSignal(held.accepted):
        click(qtbot, held.ok_button)
    assert page.selected().status == "held" and page.evaluate_button.isEnabled()
    assert "东湖社区" not in page.behind_label.text() and "西关社区" in page.behind_label.text()

    click(qtbot, page.evaluate_button)
    ev = page.dialog
    assert isinstance(ev, DrillEvaluationDialog) and not ev.add_button.isVisible()
    assert [ev.table.item(r, 1).text() for r in range(ev.table.rowCount())] == ["接警与信息报告", "人员疏散", "物资调配"]
    assert ev.aim.toPlainText() == "检验转移流程"
    ev.set_row(0, "3 分钟内上报", 9)
    ev.set_row(1, "疏散慢", 6, "路线不清")
    assert ev.total_label.text() == "已评分 2/3 项"
    ev.evaluator.setText("李明")
    click(qtbot, ev.ok_button)
    assert ev.isVisible() and ev.form.error_text("scores") == "第 3 项还没有评分（0–10 分）。"
    ev.set_row(2, "到位", 8)
    assert ev.total_label.text() == "综合得分 77 分（满分 100）"
    ev.problems.setPlainText("疏散路线不清")
    ev.causes.setPlainText("标识不足")
    ev.lessons.setPlainText("入户告知有效")
    ev.improvements.setPlainText("增设指示牌")
    with qtbot.waitSignal(ev.accepted):
        click(qtbot, ev.ok_button)
    done = page.selected()
    assert done.status == "evaluated" and done.score == 77 and page.print_button.isEnabled()
    with world.db.session_factory() as s:
        d = s.get(Drill, done.id)
        assert (d.evaluator, d.problems, d.causes, d.lessons, d.improvements) == (
            "李明", "疏散路线不清", "标识不足", "入户告知有效", "增设指示牌")
        assert [(x.expected, x.observed, x.score, x.problem) for x in
                s.query(DrillScore).filter_by(drill_id=done.id).order_by(DrillScore.seq)] == [
            ("接警与信息报告", "3 分钟内上报", 9, None), ("人员疏散", "疏散慢", 6, "路线不清"), ("物资调配", "到位", 8, None)]

    click(qtbot, page.print_button)
    pd = page.print_dialog
    qtbot.waitUntil(lambda: pd.result is not None or "失败" in pd.status.text(), timeout=30000)
    assert pd.result is not None, pd.status.text()
    assert pd.windowTitle() == "应急演练评估报告" and pd.preview.page_count() >= 1
    assert pd.preview.suggested_name == "演练评估报告-东湖社区防汛转移综合演练.pdf"
    pd.reject()


def test_evaluation_without_a_plan_uses_free_rows(qtbot, world, setup, page):
    street_row = page.model.rows[0]
    page.select_drill(street_row.id)
    click(qtbot, page.evaluate_button)
    ev = page.dialog
    assert ev.free and ev.add_button.isVisible() and ev.table.rowCount() == 1
    click(qtbot, ev.add_button)
    ev.set_row(0, "5 分钟集结", 10, expected="队伍集结")
    ev.set_row(1, "搭建帐篷用时长", 5, "器材不熟", expected="安置点搭建")
    ev.evaluator.setText("王强")
    with qtbot.waitSignal(ev.accepted):
        click(qtbot, ev.ok_button)
    assert page.selected().score == 75


def test_evaluation_refused_when_someone_else_evaluated_first(qtbot, world, setup, page, conflict_dialogs):
    street_row = page.model.rows[0]
    page.select_drill(street_row.id)
    click(qtbot, page.evaluate_button)
    ev = page.dialog
    ctx = world.ctx()                                              # another desktop evaluates meanwhile
    sv.evaluate_drill(ctx, street_row.id, [{"expected": "集结", "score": 7}], "张三")
    ctx.session.commit()
    ev.set_row(0, "x", 9, expected="集结")
    ev.evaluator.setText("王强")
    click(qtbot, ev.ok_button)
    assert ev.isVisible() and ev.form.general_error.isVisible()
    rows = {label: (mine, theirs) for label, mine, theirs in conflict_dialogs["seen"][0]["rows"]}
    assert rows["评估人"] == ("王强", "张三")
    with world.db.session_factory() as s:
        assert s.get(Drill, street_row.id).evaluator == "张三"


def test_cancel_a_planned_drill(qtbot, world, setup, page, monkeypatch):
    import shell.ui.errors

    ctx = world.ctx()
    d = sv.plan_drill(ctx, world.c2, "西关综合演练", "live", "comprehensive", "inspection", TODAY + timedelta(days=5))
    ctx.session.commit()
    page.reload()
    page.select_drill(page.model.rows[0].id)                  # the held street drill
    assert not page.cancel_button.isEnabled()
    page.select_drill(d.id)
    assert page.cancel_button.isEnabled()
    monkeypatch.setattr(shell.ui.errors, "confirm", lambda *_a: True)
    click(qtbot, page.cancel_button)
    assert page.selected().status == "cancelled" and not page.cancel_button.isEnabled()
    assert cells(page)[[r.id for r in page.model.rows].index(d.id)][9] == "已取消"


def test_viewer_cannot_plan_or_evaluate(qtbot, world, setup):
    viewer = make_page(qtbot, world, setup[1], "emergency.view")
    viewer.select_drill(viewer.model.rows[0].id)
    assert not viewer.new_button.isEnabled() and not viewer.evaluate_button.isEnabled()
    assert "emergency.drill.manage" in viewer.new_button.toolTip()


def test_year_filter_and_compliance_table(qtbot, world, setup, page):
    comp = page.compliance
    rows = [[comp.item(r, c).text() for c in range(6)] for r in range(comp.rowCount())]
    assert rows == [["和平街道", "街道", "1", "0", "1", "已完成"], ["东湖社区", "社区", "0", "0", "1", "未完成（还差 1 次）"],
                    ["西关社区", "社区", "0", "0", "1", "未完成（还差 1 次）"]]
    page.year.setValue(TODAY.year - 1)
    assert page.model.rowCount() == 0 and "尚未完成综合演练：和平街道、东湖社区、西关社区" in page.behind_label.text()
    assert isinstance(page.behind_label, QLabel)
