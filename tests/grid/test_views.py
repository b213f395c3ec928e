"""GUI through the real widgets (pytest-qt): register a person, find them by pinyin initials, report
an event, carry it through to 结案 with the detail window's buttons, and see the indicator change;
inline validation errors; a conflicting step from another desktop; the pages come from register_pages."""
from __future__ import annotations

from datetime import UTC

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from plugins.grid import services as svc
from plugins.grid.views.events import EventsPage
from plugins.grid.views.residents import ResidentsPage
from shell.core.context import AppContext
from shell.plugins import call_each

from .conftest import ALL, actor, make_id, make_pm


@pytest.fixture
def app(stree, grid_sqlite):
    return AppContext(grid_sqlite.session_factory, actor(stree.street, codes=ALL, name="王街道"), make_pm())


def _rows(model, col):
    return [model.data(model.index(r, col)) for r in range(model.rowCount())]


def _department(app, name, days=None, kind="职能部门"):
    with app.service() as ctx:
        return svc.save_department(ctx, name, kind, deadline_days=days).id


def _dispatch(qtbot, detail, name):
    """派遣 through the dialog: the button, the department typed into the chooser, 派遣."""
    qtbot.mouseClick(detail.action_buttons["dispatch"], Qt.MouseButton.LeftButton)
    dialog = detail.dispatch_dialog
    dialog.chooser.setCurrentIndex(dialog.chooser.findText(name))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted, dialog.form.errors
    return dialog


def _close(qtbot, detail):
    """结案 asks first (the loop ends there); the box's own 结案 button closes the case."""
    qtbot.mouseClick(detail.action_buttons["close"], Qt.MouseButton.LeftButton)
    box = detail.confirm_box
    assert box is not None and box.objectName() == "close-confirm" and detail.number in box.text()
    assert detail.labels["status"].text() == "核查"          # nothing happened yet
    yes = next(b for b in box.buttons() if b.text() == "结案")
    qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)


def test_register_person_and_pinyin_search(qtbot, app, stree):
    page = ResidentsPage(app)
    qtbot.addWidget(page)
    page.show()
    assert page.count_label.text() == "共 0 人"
    dialog = page.open_person_dialog()
    f = dialog.form
    f.widget("name").setText("张三")
    f.widget("id_number").setText(make_id(seq=11)[:-1] + ("0" if make_id(seq=11)[-1] != "0" else "1"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "校验位" in f.errors["id_number"].text() and not f.errors["id_number"].isHidden()
    f.widget("id_number").setText(make_id(seq=11))
    f.widget("phone").setText("13812345678")
    grid_box = f.widget("area_id")
    grid_box.setCurrentIndex(grid_box.findText("和平里社区第一网格"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.saved_id
    qtbot.waitUntil(lambda: page.count_label.text() == "共 1 人")
    # masked in the list (no full-view right)
    assert _rows(page.model, 3) == [make_id(seq=11)[:4] + "**********" + make_id(seq=11)[-4:]]
    # a second person, then search by pinyin initials through the search box
    with app.service() as ctx:
        svc.register_person(ctx, area_id=stree.g12.id, name="李四", id_number=make_id(seq=13))
    page.search.setText("zs")
    page.search.flush()
    assert _rows(page.model, 0) == ["张三"]
    page.search.setText("")
    page.search.flush()
    assert sorted(_rows(page.model, 0)) == ["张三", "李四"]
    # a duplicate is refused with the pointer, inline
    dialog = page.open_person_dialog()
    dialog.form.widget("name").setText("张叁")
    dialog.form.widget("id_number").setText(make_id(seq=11))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.form.errors["id_number"].text() == "身份证号已登记：张三（和平里社区第一网格）"


def test_report_event_carry_to_close_and_indicator_changes(qtbot, app, stree):
    page = EventsPage(app)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: "立案 0 件" in page.indicator_label.text())
    dialog = page.open_report_dialog()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "请填写事件名称" in dialog.form.errors["title"].text()
    dialog.form.widget("title").setText("楼道堆放杂物")
    dialog.form.widget("description").setPlainText("3号楼楼道堆放纸箱")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    qtbot.waitUntil(lambda: page.count_label.text() == "共 1 件")
    page.table.selectRow(0)
    detail = page.open_selected()
    qtbot.addWidget(detail)
    assert detail.labels["status"].text() == "上报"
    visible = {a for a, b in detail.action_buttons.items() if not b.isHidden()}
    assert visible == {"register", "reject"}
    # 不予立案 without a reason is refused in place
    qtbot.mouseClick(detail.action_buttons["reject"], Qt.MouseButton.LeftButton)
    assert "不予立案的理由" in detail.message.text()
    qtbot.mouseClick(detail.action_buttons["register"], Qt.MouseButton.LeftButton)
    assert detail.labels["status"].text() == "立案" and detail.labels["deadline"].text() != "立案后计算"
    _department(app, "社区物业办")
    _dispatch(qtbot, detail, "社区物业办")
    detail.comment.setPlainText("已清理完毕")
    qtbot.mouseClick(detail.action_buttons["handle"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(detail.action_buttons["verify"], Qt.MouseButton.LeftButton)
    assert "结案率 —" in page.indicator_label.text() or "结案 0 件" in page.indicator_label.text()
    _close(qtbot, detail)
    assert detail.labels["status"].text() == "结案" and detail.message.text() == ""
    steps = [detail.timeline.item(r, 1).text() for r in range(detail.timeline.rowCount())]
    assert steps == ["上报", "立案", "派遣", "处置", "核查", "结案"]
    assert detail.timeline.item(3, 3).text() == "已清理完毕"
    assert all(b.isHidden() for b in detail.action_buttons.values())
    assert not detail.callback_button.isHidden()
    detail.satisfaction.setCurrentIndex(detail.satisfaction.findData("满意"))
    detail.comment.setPlainText("居民表示满意")
    qtbot.mouseClick(detail.callback_button, Qt.MouseButton.LeftButton)
    assert detail.timeline.item(detail.timeline.rowCount() - 1, 1).text() == "回访"
    assert detail.timeline.item(detail.timeline.rowCount() - 1, 3).text() == "回访：满意。居民表示满意"
    # 事件处理单: the whole record on paper, through the report engine into the preview
    qtbot.mouseClick(detail.print_button, Qt.MouseButton.LeftButton)
    preview = detail.print_dialog
    qtbot.waitUntil(lambda: preview.result is not None or "失败" in preview.status.text(), timeout=20000)
    assert preview.result is not None, preview.status.text()
    from pypdf import PdfReader

    pdf = "".join((pg.extract_text() or "") for pg in PdfReader(str(preview.result.path)).pages).replace(" ", "")
    for expected in ("事件处理单", detail.number, "楼道堆放杂物", "3号楼楼道堆放纸箱", "社区物业办", "已清理完毕",
                     "立案", "派遣", "处置", "核查", "结案", "回访：满意", "处置人", "核查人"):
        assert expected in pdf, expected
    detail.accept()
    qtbot.waitUntil(lambda: "结案 1 件，结案率 100.00%" in page.indicator_label.text())
    assert _rows(page.model, 2) == ["结案"]


def test_event_detail_conflict_from_another_desktop(qtbot, app, stree):
    with app.service() as ctx:
        cat = svc.list_categories(ctx)[0]
        ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title="邻里纠纷")
        event_id = ev.id
    page = EventsPage(app)
    qtbot.addWidget(page)
    detail = page.open_event(event_id)
    qtbot.addWidget(detail)
    other = AppContext(app.session_factory, actor(stree.street, name="另一台电脑的李四"), app.plugin_manager)
    with other.service() as ctx:
        svc.transition(ctx, event_id, "reject", "不属实")
    qtbot.mouseClick(detail.action_buttons["register"], Qt.MouseButton.LeftButton)
    assert "另一台电脑的李四" in detail.message.text()
    assert detail.labels["status"].text() == "不予立案"       # reloaded
    assert all(b.isHidden() for b in detail.action_buttons.values())
    assert detail.callback_button.isHidden()


def test_worker_sees_only_allowed_buttons_and_filters(qtbot, stree, grid_sqlite):
    boss = AppContext(grid_sqlite.session_factory, actor(stree.street), make_pm())
    with boss.service() as ctx:
        cat = svc.list_categories(ctx)[0]
        mine = svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title="本网格事件")
        svc.transition(ctx, mine.id, "register", "立案")
        svc.transition(ctx, mine.id, "dispatch", assignee="网格员")
        svc.report_event(ctx, area_id=stree.g21.id, category_id=cat.id, title="别的网格")
        mine_id = mine.id
    worker = AppContext(grid_sqlite.session_factory,
                        actor(stree.g11, codes={"grid.view", "grid.event.report", "grid.event.handle"}), make_pm())
    page = EventsPage(worker)
    qtbot.addWidget(page)
    assert _rows(page.model, 1) == ["本网格事件"]
    page.filter.setCurrentIndex(page.filter.findData("inbox"))
    assert _rows(page.model, 1) == ["本网格事件"]
    page.filter.setCurrentIndex(page.filter.findData("closed"))
    assert _rows(page.model, 1) == []
    detail = page.open_event(mine_id)
    qtbot.addWidget(detail)
    assert {a for a, b in detail.action_buttons.items() if not b.isHidden()} == {"handle", "send_back"}


def test_hook_register_pages_build(qtbot, app):
    specs = {s.id: s for plugin, s in call_each(make_pm(), "register_pages", ctx=app) if plugin != "core"}
    assert [s.title for s in specs.values()] == ["实有人口", "房屋与户", "组织", "事件办理", "事件统计", "特殊人群与走访",
                                                 "民情日志", "网格力量"]
    assert all(s.permission == "grid.view" for s in specs.values())
    for spec in specs.values():
        widget = spec.factory(app, None)
        qtbot.addWidget(widget)
        assert widget.objectName() == {"grid.residents": "grid-residents", "grid.houses": "grid-houses-page",
                                       "grid.organisations": "grid-organisations", "grid.events": "grid-events",
                                       "grid.special": "grid-special", "grid.logs": "grid-logs", "grid.stats": "grid-stats",
                                       "grid.staff": "grid-staff"}[spec.id]


def test_hook_open_record_opens_event(qtbot, app, stree):
    import plugins.grid as grid_plugin
    with app.service() as ctx:
        ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=svc.list_categories(ctx)[0].id, title="井盖缺失")
        event_id = ev.id
    pm = make_pm()
    assert pm.hook.open_record(ctx=app, kind="grid.event", id=event_id) is True
    dialog = grid_plugin._OPEN_DIALOGS[-1]
    qtbot.addWidget(dialog)
    assert dialog.labels["title"].text() == "井盖缺失"
    dialog.accept()
    assert dialog not in grid_plugin._OPEN_DIALOGS
    assert pm.hook.open_record(ctx=app, kind="volunteer.person", id=1) is None


def test_hook_register_dashboard_widgets(qtbot, app, stree):
    specs = [s for _, s in call_each(make_pm(), "register_dashboard_widgets", ctx=app)]
    assert [(s.id, s.permission) for s in specs] == [("grid.summary", "grid.view")]
    with app.service() as ctx:
        ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=svc.list_categories(ctx)[0].id, title="x")
        for a in ("register", "dispatch", "handle", "verify", "close"):
            svc.transition(ctx, ev.id, a, "意见", assignee="物业")
        svc.assign_staff(ctx, stree.g11.id, "worker", "网格员甲")
    with app.service() as ctx:
        from sqlalchemy import insert

        from plugins.grid.models import Household

        from .conftest import FIXED_NOW
        ctx.session.execute(insert(Household), [dict(area_id=stree.g12.id, number=f"N{i}", address="", notes="",
                                                     version_id=1, created_at=FIXED_NOW, updated_at=FIXED_NOW)
                                                for i in range(3)])
    tile = specs[0].factory(app, None)
    qtbot.addWidget(tile)
    # computed on the thread pool: the tile shows that it is counting, then the figures
    qtbot.waitUntil(lambda: tile.loaded)
    texts = [label.text() for label in tile.labels]
    assert "结案 1 件" in texts[0] and texts[1].startswith("结案率 100.00%")
    assert texts[4] == "网格员配比不达标网格 1 个"
    qtbot.waitUntil(lambda: tile.chart.data is not None)
    data = tile.chart.data
    # January … this month; the one event was reported and closed this month
    from shell.clock import local_today
    month = local_today().month
    assert list(data.categories) == [f"{m}月" for m in range(1, month + 1)]
    expected = [0] * (month - 1) + [1]
    assert [(name, list(values)) for name, values in data.series] == [("上报", expected), ("结案", expected)]


def test_event_categories_edited_from_events_page(qtbot, app, stree, grid_sqlite):
    page = EventsPage(app)
    qtbot.addWidget(page)
    assert not page.categories_button.isHidden()
    qtbot.mouseClick(page.categories_button, Qt.MouseButton.LeftButton)
    cats = page.dialog
    qtbot.addWidget(cats)
    names = [cats.table.item(r, 0).text() for r in range(cats.table.rowCount())]
    assert names == ["矛盾纠纷", "安全隐患", "民生诉求", "城市管理", "其他"]
    qtbot.mouseClick(cats.add_button, Qt.MouseButton.LeftButton)
    form = cats.form
    form.form.widget("name").setText("其他")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert form.form.error_text("name") == "已有名为“其他”的事件类别。"
    form.form.widget("name").setText("环境卫生")
    form.form.widget("deadline_days").setValue(2)
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted
    row = [cats.table.item(r, 0).text() for r in range(cats.table.rowCount())].index("环境卫生")
    assert cats.table.item(row, 1).text() == "2 个工作日"
    cats.table.setCurrentCell(row, 0)
    qtbot.mouseClick(cats.edit_button, Qt.MouseButton.LeftButton)
    cats.form.form.widget("active").setChecked(False)
    qtbot.mouseClick(cats.form.ok_button, Qt.MouseButton.LeftButton)
    assert cats.table.item(row, 3).text() == "停用"
    report = page.open_report_dialog()
    qtbot.addWidget(report)
    offered = [report.form.widget("category_id").itemText(i) for i in range(report.form.widget("category_id").count())]
    assert not any(t.startswith("环境卫生") for t in offered) and "其他（5 个工作日）" in offered
    worker = AppContext(grid_sqlite.session_factory, actor(stree.g11, codes={"grid.view", "grid.event.report"}),
                        make_pm())
    wpage = EventsPage(worker)
    qtbot.addWidget(wpage)
    assert wpage.categories_button.isHidden()


def test_dispute_mediation_fields_through_the_detail(qtbot, app, stree):
    page = EventsPage(app)
    qtbot.addWidget(page)
    dialog = page.open_report_dialog()
    f = dialog.form
    f.widget("category_id").setCurrentIndex(f.widget("category_id").findText("矛盾纠纷", Qt.MatchFlag.MatchStartsWith))
    f.widget("title").setText("楼上漏水邻里纠纷")
    f.widget("party_count").setValue(2)
    f.widget("main_parties").setText("王某、刘某")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    detail = page.open_event(dialog.saved_id)
    qtbot.addWidget(detail)
    assert detail.labels["mediation"].text().startswith("当事人 2 人（王某、刘某）；化解方式 —")
    assert detail.mediation_box.isHidden()                # only with 处置
    qtbot.mouseClick(detail.action_buttons["register"], Qt.MouseButton.LeftButton)
    _department(app, "人民调解委员会")
    _dispatch(qtbot, detail, "人民调解委员会")
    assert not detail.mediation_box.isHidden()
    detail.mediation_method.setCurrentIndex(detail.mediation_method.findData("人民调解"))
    detail.mediation_result.setCurrentIndex(detail.mediation_result.findData("成功"))
    detail.comment.setPlainText("调解达成协议，楼上赔偿维修费")
    qtbot.mouseClick(detail.action_buttons["handle"], Qt.MouseButton.LeftButton)
    assert "化解方式 人民调解，化解情况 成功" in detail.labels["mediation"].text()
    qtbot.mouseClick(detail.action_buttons["verify"], Qt.MouseButton.LeftButton)
    _close(qtbot, detail)
    detail.satisfaction.setCurrentIndex(detail.satisfaction.findData("基本满意"))
    qtbot.mouseClick(detail.callback_button, Qt.MouseButton.LeftButton)
    assert detail.labels["mediation"].text().endswith("当事人满意度 基本满意")
    # an ordinary category has no mediation line
    with app.service() as ctx:
        other = svc.report_event(ctx, area_id=stree.g11.id, category_id=svc.list_categories(ctx)[1].id, title="井盖")
    plain = page.open_event(other.id)
    qtbot.addWidget(plain)
    assert plain.labels["mediation"].isHidden()


def test_area_tree_narrows_the_resident_list(qtbot, app, stree, grid_sqlite):
    with app.service() as ctx:
        svc.register_person(ctx, area_id=stree.g11.id, name="张三", id_number=make_id(seq=21))
        svc.register_person(ctx, area_id=stree.g21.id, name="李四", id_number=make_id(seq=23))
    page = ResidentsPage(app)
    qtbot.addWidget(page)
    tree = page.tree
    assert tree.topLevelItem(0).text(0) == "全部（我的辖区）" and page.count_label.text() == "共 2 人"
    tree.select(stree.c2.id)
    assert _rows(page.model, 0) == ["李四"] and page.count_label.text() == "共 1 人"
    tree.select(stree.g11.id)
    assert _rows(page.model, 0) == ["张三"]
    page.search.setText("ls")
    page.search.flush()
    assert _rows(page.model, 0) == []            # 李四 is not in this grid
    tree.select(None)
    assert _rows(page.model, 0) == ["李四"]
    worker = AppContext(grid_sqlite.session_factory, actor(stree.g21, codes={"grid.view"}), make_pm())
    wpage = ResidentsPage(worker)
    qtbot.addWidget(wpage)
    assert sorted(wpage.tree.areas) == [stree.g21.id] and _rows(wpage.model, 0) == ["李四"]


def test_due_soon_and_overdue_markers_and_filters(qtbot, app, stree):
    from datetime import timedelta

    from sqlalchemy import update

    from plugins.grid.models import Event
    from shell.clock import local_today
    with app.service() as ctx:
        urgent = svc.save_category(ctx, "紧急隐患", 1)
        soon = svc.report_event(ctx, area_id=stree.g11.id, category_id=urgent.id, title="电线裸露")
        svc.transition(ctx, soon.id, "register", "立案")
        late = svc.report_event(ctx, area_id=stree.g11.id, category_id=urgent.id, title="井盖缺失")
        svc.transition(ctx, late.id, "register", "立案")
        ctx.session.execute(update(Event).where(Event.id == late.id)
                            .values(deadline=local_today() - timedelta(days=3)))
        svc.report_event(ctx, area_id=stree.g11.id, category_id=svc.list_categories(ctx)[0].id, title="未立案")
    page = EventsPage(app)
    qtbot.addWidget(page)
    marks = dict(zip(_rows(page.model, 1), _rows(page.model, 3), strict=True))
    assert marks["电线裸露"].endswith("即将到期") and marks["井盖缺失"].endswith("超期") and marks["未立案"] == ""
    page.filter.setCurrentIndex(page.filter.findData("due_soon"))
    assert _rows(page.model, 1) == ["电线裸露"]
    page.filter.setCurrentIndex(page.filter.findData("overdue"))
    assert _rows(page.model, 1) == ["井盖缺失"]


def test_stats_page_by_category_and_community(qtbot, app, stree):
    from plugins.grid.views.stats import StatsPage
    with app.service() as ctx:
        cats = {c.name: c.id for c in svc.list_categories(ctx)}
        for area, cat, close in ((stree.g11, "安全隐患", True), (stree.g11, "安全隐患", False),
                                 (stree.g21, "民生诉求", True)):
            ev = svc.report_event(ctx, area_id=area.id, category_id=cats[cat], title=f"{cat}事件")
            for a in ("register", "dispatch", "handle", "verify", "close") if close else ("register",):
                svc.transition(ctx, ev.id, a, "意见", assignee="物业")
    page = StatsPage(app)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.loaded)
    t = page.table
    rows = {t.item(r, 0).text(): [t.item(r, c).text() for c in range(1, 6)] for r in range(t.rowCount())}
    assert rows == {"和平里社区": ["2", "1", "1", "50.00%", "50.00%"], "幸福苑社区": ["1", "1", "1", "100.00%", "100.00%"],
                    "合计": ["3", "2", "2", "66.67%", "66.67%"]}
    assert t.horizontalHeaderItem(0).text() == "社区"
    page.by.setCurrentIndex(page.by.findData("category"))
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.loaded)
    assert [t.item(r, 0).text() for r in range(t.rowCount())] == ["安全隐患", "民生诉求", "合计"]
    assert t.horizontalHeaderItem(0).text() == "类别"
    data = page.chart.data
    assert list(data.categories) == ["安全隐患", "民生诉求"] and list(data.series[0][1]) == [50.0, 100.0]


def test_event_page_shows_the_missing_calendar_warning(qtbot, stree, grid_sqlite):
    """An event registered in December 2026 with a deadline in 2027 (no calendar yet): the register
    button's result and the detail window both say how the deadline was counted."""
    from datetime import datetime

    from plugins.grid.views.events import EventDialog

    december = AppContext(grid_sqlite.session_factory, actor(stree.street, codes=ALL, name="王街道"), make_pm(),
                          clock=lambda: datetime(2026, 12, 30, 2, 0, tzinfo=UTC))
    with december.service() as ctx:
        cat = next(c for c in svc.list_categories(ctx) if c.name == "安全隐患")
        ev_id = svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title="燃气管道老化").id
    detail = EventDialog(december, ev_id)
    qtbot.addWidget(detail)
    detail.show()
    assert detail.deadline_warning.isHidden()
    qtbot.mouseClick(detail.action_buttons["register"], Qt.MouseButton.LeftButton)
    warning = "2027 年节假日安排尚未录入，期限按周末计算，请管理员录入"
    assert detail.labels["deadline"].text() == "2027-01-04"
    assert detail.deadline_warning.isVisible() and detail.deadline_warning.text() == f"注意：{warning}"
    assert warning in detail.message.text() and "2027-01-04" in detail.message.text()
    again = EventDialog(december, ev_id)         # opened later: still says so
    qtbot.addWidget(again)
    again.show()
    assert again.deadline_warning.isVisible() and warning in again.deadline_warning.text()


def test_verify_fail_button_sends_the_case_back(qtbot, app, stree):
    """核查不通过 in the detail: refused without an opinion, asked before it acts (取消 leaves the case
    alone), then back to 派遣 with the whole opinion on the timeline and in the handler's 待我处理."""
    with app.service() as ctx:
        cat = svc.list_categories(ctx)[0]
        ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title="楼道堆放杂物")
        for a in ("register", "dispatch", "handle"):
            svc.transition(ctx, ev.id, a, "已清理", assignee="社区物业办")
        event_id = ev.id
    page = EventsPage(app)
    qtbot.addWidget(page)
    detail = page.open_event(event_id)
    qtbot.addWidget(detail)
    button = detail.action_buttons["verify_fail"]
    assert {a for a, b in detail.action_buttons.items() if not b.isHidden()} == {"verify", "verify_fail", "escalate"}
    assert button.text() == "核查不通过"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert "请填写核查不通过的意见" in detail.message.text() and detail.confirm_box is None
    opinion = "现场仍有纸箱堆放，楼道未清理干净，请物业当天清运并反馈照片。"
    detail.comment.setPlainText(opinion)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    box = detail.confirm_box
    assert box is not None and box.isVisible() and "退回社区物业办重新处置" in box.text() and opinion in box.text()
    assert sorted(b.text() for b in box.buttons()) == sorted(["退回重新处置", "取消"])
    qtbot.mouseClick(next(b for b in box.buttons() if b.text() == "取消"), Qt.MouseButton.LeftButton)
    assert detail.labels["status"].text() == "处置"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    box = detail.confirm_box
    qtbot.mouseClick(next(b for b in box.buttons() if b.text() == "退回重新处置"), Qt.MouseButton.LeftButton)
    assert detail.labels["status"].text() == "派遣"
    last = detail.timeline.rowCount() - 1
    assert detail.timeline.item(last, 1).text() == "核查不通过" and detail.timeline.item(last, 3).text() == opinion
    assert "已退回社区物业办重新处置" in detail.message.text()
    assert {a for a, b in detail.action_buttons.items() if not b.isHidden()} == {"handle", "send_back", "escalate"}
    detail.accept()
    worker = AppContext(app.session_factory, actor(stree.g11, codes={"grid.view", "grid.event.handle"}), make_pm())
    inbox = EventsPage(worker)
    qtbot.addWidget(inbox)
    inbox.filter.setCurrentIndex(inbox.filter.findData("inbox"))
    assert _rows(inbox.model, 1) == ["楼道堆放杂物"] and _rows(inbox.model, 2) == ["派遣"]


def test_dispatch_dialog_chooses_from_the_directory(qtbot, app, stree):
    """The 派遣 dialog lists the active entries (typing narrows them), proposes the department's
    working days and shows the day they end on; nothing chosen is refused beside the box."""
    police = _department(app, "派出所", 2, "驻区单位")
    _department(app, "房管所")
    with app.service() as ctx:
        svc.save_department(ctx, "已撤销的单位", "其他", active=False)
        cat = next(c for c in svc.list_categories(ctx) if c.name == "民生诉求")
        ev = svc.report_event(ctx, area_id=stree.g11.id, category_id=cat.id, title="夜间施工扰民")
        svc.transition(ctx, ev.id, "register", "立案")
        event_id, registered_deadline = ev.id, ev.deadline
    page = EventsPage(app)
    qtbot.addWidget(page)
    detail = page.open_event(event_id)
    qtbot.addWidget(detail)
    qtbot.mouseClick(detail.action_buttons["dispatch"], Qt.MouseButton.LeftButton)
    dialog = detail.dispatch_dialog
    assert dialog.isVisible() and dialog.windowTitle().startswith("派遣事件 SJ")
    chooser = dialog.chooser
    assert [chooser.itemText(i) for i in range(chooser.count())] == ["房管所", "派出所（驻区单位）"]
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "请选择派遣对象" in dialog.form.errors["department_id"].text() and dialog.isVisible()
    # typing narrows the completer's list to the names containing the text (what the line edit's
    # textEdited hands the completer; QTest cannot type Chinese characters offscreen)
    chooser.lineEdit().setText("派出")
    completer = chooser.completer()
    completer.setCompletionPrefix("派出")
    assert completer.completionCount() == 1 and completer.currentCompletion() == "派出所（驻区单位）"
    chooser.setCurrentIndex(chooser.findData(police))
    assert dialog.days.value() == 2
    with app.service(commit=False) as ctx:
        due = svc.dispatch_deadline(ctx, event_id, police).day
    assert dialog.due.text().startswith(f"{due}（星期") and "2 个工作日" in dialog.due.text()
    dialog.days.setValue(0)
    assert dialog.due.text() == f"{registered_deadline}（立案时计算）"
    dialog.days.setValue(3)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert detail.labels["assignee"].text() == "派出所" and detail.labels["status"].text() == "派遣"
    with app.service(commit=False) as ctx:
        saved = svc.get_event(ctx, event_id)
        assert (saved.department_id, saved.dispatch_days) == (police, 3)
        deadline = saved.deadline
    assert detail.labels["deadline"].text() == str(deadline)
    assert f"已派遣至派出所，处置时限 {deadline}" in detail.message.text()


def test_detail_shows_the_report_and_whole_opinions(qtbot, app, stree):
    """Everything entered at report time is in the detail (网格, 地点, 来源, 上报人, 电话), and a long
    opinion is shown whole on the timeline: wrapped, not cut off."""
    page = EventsPage(app)
    qtbot.addWidget(page)
    dialog = page.open_report_dialog()
    f = dialog.form
    f.widget("title").setText("小区门口占道经营")
    f.widget("address").setText("和平里3号院东门")
    f.widget("source").setCurrentIndex(f.widget("source").findText("12345热线"))
    f.widget("reporter_name").setText("赵大妈")
    f.widget("reporter_phone").setText("13812345678")
    long_text = "早晚高峰有三家流动摊贩在东门占道经营，影响行人和车辆通行，油烟扰民，居民多次反映。" * 6
    f.widget("description").setPlainText(long_text)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    detail = page.open_event(dialog.saved_id)
    qtbot.addWidget(detail)
    detail.show()
    qtbot.waitExposed(detail)
    shown = {k: detail.labels[k].text() for k in ("area", "address", "source", "reporter", "reporter_phone")}
    assert shown == {"area": "和平里社区第一网格", "address": "和平里3号院东门", "source": "12345热线",
                     "reporter": "赵大妈", "reporter_phone": "13812345678"}
    assert detail.labels["reported_at"].text().startswith("20")
    item = detail.timeline.item(0, 3)
    assert item.text() == long_text                                    # stored and shown whole
    # wrapped: the row is as tall as the text needs in the column's width
    width = detail.timeline.columnWidth(3)
    needed = detail.timeline.fontMetrics().boundingRect(0, 0, width - 8, 10_000, Qt.TextFlag.TextWordWrap,
                                                        long_text).height()
    assert detail.timeline.rowHeight(0) >= needed > detail.timeline.fontMetrics().height() * 2
