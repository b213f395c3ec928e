"""特殊人群与走访, 民情日志 and 网格力量 through the real widgets: a person put on a list with the
group's own fields (a missing required one shown beside it), a visit with 下次走访日期 taking the
person off the overdue list, ending a record; a log written and turned into an event in one step;
staff assigned with a linked user and the grids breaking the ratio highlighted; plus the services
behind them (scope, user links, household lookup)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from plugins.grid import services as svc
from plugins.grid.views.logs import VisitLogsPage
from plugins.grid.views.special import SpecialGroupsPage
from plugins.grid.views.staff import BREAK_BRUSH, GridStaffPage
from shell.clock import local_today
from shell.core.auth import create_user
from shell.core.context import Actor, AppContext, ServiceContext
from shell.errors import ValidationError

from .conftest import ALL, actor, make_id, make_pm
from .test_staff_special import _households


@pytest.fixture
def app(stree, grid_sqlite):
    return AppContext(grid_sqlite.session_factory, actor(stree.street, codes=ALL, name="王街道"), make_pm())


def _rows(model, col):
    return [model.data(model.index(r, col)) for r in range(model.rowCount())]


def _texts(table, col):
    return [table.item(r, col).text() for r in range(table.rowCount())]


def test_special_groups_page_add_visit_overdue_end(qtbot, app, stree):
    today = local_today()
    with app.service() as ctx:
        old = svc.register_person(ctx, area_id=stree.g11.id, name="褚大爷", id_number=make_id(birth="19450101", seq=701))
        sp = svc.add_special(ctx, old.id, "elderly_alone", {"living": "独居"}, start=today - timedelta(days=60))
        svc.register_person(ctx, area_id=stree.g12.id, name="卫小明", id_number=make_id(birth="20080101", seq=703))
        sp_id = sp.id
    page = SpecialGroupsPage(app)
    qtbot.addWidget(page)
    assert _rows(page.model, 0) == ["褚大爷"] and "逾期 30 天" in _rows(page.model, 5)[0]
    assert page.model.data(page.model.index(0, 5), Qt.ItemDataRole.ForegroundRole).name() == "#c0392b"
    # put a youth on the list: the group's required field is checked beside it
    page.group.setCurrentIndex(page.group.findData("youth"))
    assert page.model.rowCount() == 0
    add = page.add()
    qtbot.addWidget(add)
    assert add.group.currentData() == "youth"
    add.picker.search.setText("wxm")
    add.picker.search.flush()
    assert add.picker.selected_id() is not None
    assert [add.detail_form.labels[k].text().split("<")[0] for k in add.detail_form.fields] == [
        "人员类型", "帮扶人：", "帮扶手段："]
    add.detail_form.widget("help_means").setText("结对帮扶、每周谈心")
    add.form.widget("helper").setText("团委 陈老师")
    qtbot.mouseClick(add.ok_button, Qt.MouseButton.LeftButton)
    assert add.result() == QDialog.DialogCode.Accepted
    assert _rows(page.model, 0) == ["卫小明"] and _rows(page.model, 1) == ["重点青少年"]
    assert "帮扶手段：结对帮扶、每周谈心" in _rows(page.model, 6)[0]
    # the overdue list; a visit takes 褚大爷 off it
    page.group.setCurrentIndex(0)
    page.overdue.setChecked(True)
    assert _rows(page.model, 0) == ["褚大爷"]
    page.table.selectRow(0)
    assert page.visits_label.text() == "褚大爷（空巢/独居老人）的走访记录：0 次"
    qtbot.mouseClick(page.visit_button, Qt.MouseButton.LeftButton)
    visit = page.dialog
    qtbot.addWidget(visit)
    assert visit.next_date.date().toPython() == today + timedelta(days=30)
    qtbot.mouseClick(visit.ok_button, Qt.MouseButton.LeftButton)
    assert "请填写走访情况" in visit.form.error_text("situation")
    visit.form.widget("situation").setPlainText("老人身体尚好，已装烟感报警器")
    qtbot.mouseClick(visit.ok_button, Qt.MouseButton.LeftButton)
    assert visit.result() == QDialog.DialogCode.Accepted
    assert page.model.rowCount() == 0
    page.overdue.setChecked(False)
    page.search.setText("cdy")
    page.search.flush()
    page.table.selectRow(0)
    assert _texts(page.visits, 2) == ["老人身体尚好，已装烟感报警器"]
    assert _texts(page.visits, 3) == [str(today + timedelta(days=30))]
    # end the record: it leaves the list, the history stays
    qtbot.mouseClick(page.end_button, Qt.MouseButton.LeftButton)
    end = page.dialog
    qtbot.addWidget(end)
    end.form.widget("reason").setText("随子女迁居外地")
    qtbot.mouseClick(end.ok_button, Qt.MouseButton.LeftButton)
    assert end.result() == QDialog.DialogCode.Accepted and page.model.rowCount() == 0
    with app.service(commit=False) as ctx:
        assert len(svc.special_visits(ctx, sp_id)) == 1
        with pytest.raises(ValidationError, match="已于"):
            svc.end_special(ctx, sp_id)


def test_special_required_detail_shown_beside_field(qtbot, app, stree):
    with app.service() as ctx:
        svc.register_person(ctx, area_id=stree.g11.id, name="蒋某", id_number=make_id(seq=705))
    page = SpecialGroupsPage(app)
    qtbot.addWidget(page)
    add = page.add()
    qtbot.addWidget(add)
    add.group.setCurrentIndex(add.group.findData("mental"))
    add.picker.search.setText("蒋某")
    add.picker.search.flush()
    qtbot.mouseClick(add.ok_button, Qt.MouseButton.LeftButton)
    assert add.isVisible() and add.detail_form.error_text("guardian") == "请填写监护人。"


def test_logs_page_write_and_turn_into_event(qtbot, app, stree):
    with app.service() as ctx:
        svc.create_household(ctx, stree.g11.id, "H2001", "和平里9号楼101")
    page = VisitLogsPage(app)
    qtbot.addWidget(page)
    assert page.count_label.text() == "共 0 条"
    write = page.write()
    qtbot.addWidget(write)
    write.form.widget("household").setText("H9999")
    write.form.widget("content").setPlainText("入户走访")
    qtbot.mouseClick(write.ok_button, Qt.MouseButton.LeftButton)
    assert write.form.error_text("household") == "户号“H9999”没有登记。"
    write.form.widget("household").setText("H2001")
    write.form.widget("finding").setPlainText("楼顶水箱漏水，影响顶楼住户")
    qtbot.mouseClick(write.ok_button, Qt.MouseButton.LeftButton)
    assert write.result() == QDialog.DialogCode.Accepted
    qtbot.waitUntil(lambda: page.count_label.text() == "共 1 条")
    assert _rows(page.model, 5) == ["待转事件"]
    page.table.selectRow(0)
    to_event = page.to_event()
    qtbot.addWidget(to_event)
    assert to_event.form.widget("title").text() == "楼顶水箱漏水，影响顶楼住户"
    category = to_event.form.widget("category_id")
    category.setCurrentIndex(category.findText("民生诉求", Qt.MatchFlag.MatchStartsWith))
    qtbot.mouseClick(to_event.ok_button, Qt.MouseButton.LeftButton)
    assert to_event.result() == QDialog.DialogCode.Accepted and to_event.event_id
    number = _rows(page.model, 5)[0]
    assert number.startswith("SJ")
    page.table.selectRow(0)
    assert page.to_event() is None and page.message.text() == f"这条民情日志已转为事件 {number}。"
    detail = page.open_event()
    qtbot.addWidget(detail)
    assert detail.labels["status"].text() == "上报" and detail.labels["title"].text() == "楼顶水箱漏水，影响顶楼住户"
    steps = [detail.timeline.item(r, 1).text() for r in range(detail.timeline.rowCount())]
    assert steps == ["上报"]
    page.open_findings.setChecked(True)
    assert page.model.rowCount() == 0


def test_staff_page_ratio_and_assign(qtbot, app, stree, grid_sqlite):
    with grid_sqlite.session_factory() as s:
        uid = create_user(ServiceContext(s, Actor.system()), "wgy_zhao", "赵网格员", "Secret#2025x", stree.g12.id,
                          phone="13900002222").id
        create_user(ServiceContext(s, Actor.system()), "other", "外社区用户", "Secret#2025x", stree.g21.id)
        s.commit()
    _households(grid_sqlite, stree.g12.id, 160, "S")
    page = GridStaffPage(app)
    qtbot.addWidget(page)
    assert "共 4 个网格" in page.summary.text() and "不达标 1 个" in page.summary.text()
    names = _texts(page.grids, 0)
    assert names == ["和平里社区第一网格", "和平里社区第二网格", "幸福苑社区第一网格", "幸福苑社区第二网格"]
    row = names.index("和平里社区第二网格")
    assert page.grids.item(row, 5).text() == "不达标：需网格员 2 人，缺 2 人"
    assert page.grids.item(row, 0).background() == BREAK_BRUSH
    page.only_breaking.setChecked(True)
    assert _texts(page.grids, 0) == ["和平里社区第二网格"]
    page.grids.setCurrentCell(0, 0)
    qtbot.mouseClick(page.assign_button, Qt.MouseButton.LeftButton)
    assign = page.dialog
    qtbot.addWidget(assign)
    users = [assign.user.itemText(i) for i in range(assign.user.count())]
    assert "赵网格员" in users and "外社区用户" in users   # the street user's scope covers both communities
    assign.user.setCurrentIndex(assign.user.findData(uid))
    assert assign.name.text() == "赵网格员" and assign.phone.text() == "13900002222"
    qtbot.mouseClick(assign.ok_button, Qt.MouseButton.LeftButton)
    assert assign.result() == QDialog.DialogCode.Accepted
    assert _texts(page.staff, 0) == ["赵网格员"] and _texts(page.staff, 5) == ["系统用户：赵网格员"]
    assert page.grids.item(0, 5).text() == "不达标：需网格员 2 人，缺 1 人"
    page.staff.setCurrentCell(0, 0)
    qtbot.mouseClick(page.end_button, Qt.MouseButton.LeftButton)
    end = page.dialog
    qtbot.addWidget(end)
    qtbot.mouseClick(end.ok_button, Qt.MouseButton.LeftButton)
    assert end.result() == QDialog.DialogCode.Accepted and page.staff.rowCount() == 0
    page.show_ended.setChecked(True)
    assert _texts(page.staff, 4) == [str(local_today())]
    # a worker who is a registered resident, not a system user
    with app.service() as ctx:
        svc.register_person(ctx, area_id=stree.g12.id, name="郑志愿", id_number=make_id(seq=901), phone="13700009999")
    page.show_ended.setChecked(False)
    qtbot.mouseClick(page.assign_button, Qt.MouseButton.LeftButton)
    assign = page.dialog
    qtbot.addWidget(assign)
    assign.from_person.setChecked(True)
    qtbot.mouseClick(assign.ok_button, Qt.MouseButton.LeftButton)
    assert assign.form.error_text("name") or assign.form.error_text("person_id")
    assign.picker.search.setText("zzy")
    assign.picker.search.flush()
    assert assign.name.text() == "郑志愿" and assign.phone.text() == "13700009999"
    qtbot.mouseClick(assign.ok_button, Qt.MouseButton.LeftButton)
    assert assign.result() == QDialog.DialogCode.Accepted
    assert _texts(page.staff, 0) == ["郑志愿"] and _texts(page.staff, 5) == ["实有人口"]


def test_staff_user_link_checked_and_scoped(stree, grid_sqlite, ctx_for):
    with grid_sqlite.session_factory() as s:
        sys_ctx = ServiceContext(s, Actor.system())
        inside = create_user(sys_ctx, "in_c1", "和平里用户", "Secret#2025x", stree.g11.id).id
        outside = create_user(sys_ctx, "in_c2", "幸福苑用户", "Secret#2025x", stree.g21.id).id
        s.commit()
    community = ctx_for(grid_sqlite, actor(stree.c1))
    assert [n for _i, n, _p in svc.staff_candidates(community)] == ["和平里用户"]
    with pytest.raises(ValidationError) as e:
        svc.assign_staff(community, stree.g11.id, "worker", "冒名", user_id=outside)
    assert e.value.field == "user_id" and "不在您的管辖范围内" in e.value.message
    s = svc.assign_staff(community, stree.g11.id, "worker", "和平里用户", user_id=inside)
    assert [x.id for x in svc.list_staff(community, stree.g11.id)] == [s.id]


def test_specials_and_logs_queries_respect_scope(stree, grid_sqlite, ctx_for):
    ctx = ctx_for(grid_sqlite, actor(stree.street))
    a = svc.register_person(ctx, area_id=stree.g11.id, name="甲", id_number=make_id(seq=801))
    b = svc.register_person(ctx, area_id=stree.g21.id, name="乙", id_number=make_id(seq=803))
    svc.add_special(ctx, a.id, "drug", {}, start=date(2025, 1, 1))
    svc.add_special(ctx, b.id, "dibao", {}, start=date(2025, 6, 1))
    svc.write_log(ctx, stree.g11.id, "走访", "发现问题", log_date=date(2025, 6, 1))
    svc.write_log(ctx, stree.g21.id, "走访", "", log_date=date(2025, 6, 1))
    ctx.session.commit()
    rows = lambda q: ctx.session.execute(q).all()  # noqa: E731
    assert [n for _sp, n in rows(svc.specials_query(ctx.actor, "special"))] == ["甲"]
    assert [n for _sp, n in rows(svc.specials_query(ctx.actor, "care"))] == ["乙"]
    assert [n for _sp, n in rows(svc.specials_query(ctx.actor, overdue_on=date(2025, 6, 16)))] == ["甲"]
    worker = actor(stree.g21)
    assert [n for _sp, n in rows(svc.specials_query(worker))] == ["乙"]
    assert len(rows(svc.logs_query(ctx.actor))) == 2
    assert len(rows(svc.logs_query(ctx.actor, open_findings=True))) == 1
    assert [log.area_id for log, _n in rows(svc.logs_query(worker))] == [stree.g21.id]
