"""部门与单位 through the real widgets: 设置 → 部门与单位 (register_settings_pages) adds and changes an
entry with its errors beside the fields, read-only without the permission; the events page's
department filter shows one department's worklist; the statistics page's 部门办理情况 table."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from plugins.grid import services as svc
from plugins.grid.views.events import EventsPage
from plugins.grid.views.stats import StatsPage
from shell.config import LocalConfig
from shell.core.context import AppContext
from shell.plugins import call_each
from shell.ui.settings import SettingsDialog

from .conftest import ALL, actor, make_pm


@pytest.fixture
def app(stree, grid_sqlite):
    return AppContext(grid_sqlite.session_factory, actor(stree.street, codes=ALL, name="王街道"), make_pm())


def _texts(t, col):
    return [t.item(r, col).text() for r in range(t.rowCount())]


def test_hook_register_settings_pages(qtbot, app, stree, grid_sqlite, tmp_path, monkeypatch):
    """The grid's page is offered by the hook and listed in 设置 before 审计日志 for whoever may view
    grid data; editing needs grid.department.manage."""
    monkeypatch.setenv("JIEDAO_CONFIG_DIR", str(tmp_path / "config"))
    specs = [s for _p, s in call_each(app.plugin_manager, "register_settings_pages", ctx=app)]
    assert [(s.id, s.title, s.permission) for s in specs] == [("grid.departments", "部门与单位", "grid.view")]
    dialog = SettingsDialog(app, LocalConfig.load())
    qtbot.addWidget(dialog)
    assert "grid.departments" in dialog.page_ids()
    page = dialog.open_page("grid.departments")
    assert dialog.heading.text() == "部门与单位" and page.can_edit
    # 新增: the errors beside their fields, then saved
    form = page._open(None)
    form.form.widget("name").setText("城管执法中队")
    form.form.widget("phone").setText("12ab")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert "联系电话“12ab”格式不对" in form.form.errors["phone"].text() and form.isVisible()
    form.form.widget("phone").setText("010-64123456")
    form.form.widget("contact").setText("刘队长")
    form.form.widget("deadline_days").setValue(3)
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted
    assert _texts(page.table, 0) == ["城管执法中队"]
    assert [page.table.item(0, c).text() for c in range(6)] == ["城管执法中队", "职能部门", "刘队长", "010-64123456",
                                                               "3 个工作日", "启用"]
    # 修改: 停用 and no default deadline
    page.table.selectRow(0)
    form = page.edit()
    form.form.widget("active").setChecked(False)
    form.form.widget("deadline_days").setValue(0)
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert [page.table.item(0, c).text() for c in (4, 5)] == ["按事件类别", "停用"]
    assert page.count_label.text() == "共 1 个（启用 0 个）"
    # a community worker sees the directory read-only; a user without grid.view does not see the page
    clerk = AppContext(grid_sqlite.session_factory, actor(stree.c1, codes={"grid.view"}), app.plugin_manager)
    ro = SettingsDialog(clerk, LocalConfig.load())
    qtbot.addWidget(ro)
    page = ro.open_page("grid.departments")
    assert not page.can_edit and page.add_button.isHidden() and _texts(page.table, 0) == ["城管执法中队"]
    none = AppContext(grid_sqlite.session_factory, actor(stree.c1, codes={"core.area.view"}), app.plugin_manager)
    hidden = SettingsDialog(none, LocalConfig.load())
    qtbot.addWidget(hidden)
    assert "grid.departments" not in hidden.page_ids()


def _dispatched(app, stree, items):
    """Events dispatched to directory entries: [(title, department name, steps after 派遣)]."""
    with app.service() as ctx:
        deps = {r.name: r.id for r in svc.department_rows(ctx)}
        for n, d in (("环卫所", 2), ("房管所", 5)):
            if n not in deps:
                deps[n] = svc.save_department(ctx, n, "职能部门", deadline_days=d).id
        cat = svc.list_categories(ctx)[1]
        for title, dep, after in items:
            ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title=title)
            svc.transition(ctx, ev.id, "register", "立案")
            svc.transition(ctx, ev.id, "dispatch", department_id=deps[dep])
            for a in after:
                svc.transition(ctx, ev.id, a, "意见")
    return deps


def test_events_page_filters_a_departments_worklist(qtbot, app, stree):
    deps = _dispatched(app, stree, [("垃圾清运不及时", "环卫所", ()), ("楼道墙皮脱落", "房管所", ()),
                                    ("公厕无人保洁", "环卫所", ("handle",))])
    page = EventsPage(app)
    qtbot.addWidget(page)
    chooser = page.department
    assert chooser.itemText(0) == "全部部门" and {chooser.itemText(i) for i in range(1, chooser.count())} == {
        "环卫所", "房管所"}
    assert page.count_label.text() == "共 3 件"
    chooser.setCurrentIndex(chooser.findData(deps["环卫所"]))
    qtbot.waitUntil(lambda: page.count_label.text() == "共 2 件")
    assert sorted(page.model.data(page.model.index(r, 1)) for r in range(2)) == ["公厕无人保洁", "垃圾清运不及时"]
    assert {page.model.data(page.model.index(r, 5)) for r in range(2)} == {"环卫所"}
    page.filter.setCurrentIndex(page.filter.findData("dispatched"))   # with the status: its open cases
    qtbot.waitUntil(lambda: page.count_label.text() == "共 1 件")
    page.show_filtered("", None)
    qtbot.waitUntil(lambda: page.count_label.text() == "共 3 件")
    assert chooser.currentText() == "全部部门"


def test_stats_page_shows_the_departments(qtbot, app, stree):
    _dispatched(app, stree, [("垃圾清运不及时", "环卫所", ("handle", "verify_fail")), ("楼道墙皮脱落", "房管所", ()),
                             ("公厕无人保洁", "环卫所", ("handle", "verify", "close"))])
    page = StatsPage(app)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.loaded)
    assert not page.departments_loaded and page.department_table.rowCount() == 0   # computed when shown
    page.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: page.departments_loaded)
    t = page.department_table
    assert [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())] == [
        "部门与单位", "派遣收件", "已处置", "核查不通过", "超期", "督办", "平均处置用时（天）"]
    rows = {t.item(r, 0).text(): [t.item(r, c).text() for c in range(1, 6)] for r in range(t.rowCount())}
    assert rows == {"环卫所": ["2", "2", "1", "0", "0"], "房管所": ["1", "0", "0", "0", "0"],
                    "合计": ["3", "2", "1", "0", "0"]}
    assert t.item(0, 6).text() == "0.0"       # handled at once in the test
    assert page.tabs.tabText(1) == "部门办理情况（2）"
    # 统计 again counts the shown tab again: a new 派遣 appears
    _dispatched(app, stree, [("路灯不亮", "房管所", ())])
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.departments_loaded)
    assert {t.item(r, 0).text(): t.item(r, 1).text() for r in range(t.rowCount())}["房管所"] == "2"
