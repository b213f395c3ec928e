"""双报到 (in-service members report to their residential community and record service there) and
党员中心户 links to household records of another plugin, on both engines."""
from __future__ import annotations

from datetime import date

import pytest

from plugins.partybuilding import services as svc
from shell.core.context import Actor
from shell.errors import OutOfScope, PermissionDenied, ValidationError


def test_report_and_services(anyworld):
    w = anyworld
    c = w.ctx   # today 2026-11-20
    r = svc.register_report(c, area_id=w.c1.id, name="钱在职", workplace="区教育局", workplace_org="中共区教育局机关支部",
                            phone="13800001111", reported_on=date(2025, 3, 5))
    with pytest.raises(ValidationError, match="不必重复登记"):
        svc.register_report(c, area_id=w.c1.id, name="钱在职", workplace="区教育局", phone="13800001111")
    with pytest.raises(ValidationError, match="请选择社区"):
        svc.register_report(c, area_id=w.g11.id, name="孙在职", workplace="区医院")
    with pytest.raises(ValidationError, match="请填写工作单位"):
        svc.register_report(c, area_id=w.c2.id, name="孙在职", workplace=" ")
    with pytest.raises(ValidationError, match="不能晚于今天"):
        svc.register_report(c, area_id=w.c2.id, name="孙在职", workplace="区医院", reported_on=date(2026, 12, 1))
    other = svc.register_report(c, area_id=w.c2.id, name="孙在职", workplace="区医院")
    svc.record_community_service(c, r.id, date(2025, 12, 20), "慰问独居老人", 120)
    svc.record_community_service(c, r.id, date(2026, 5, 1), "垃圾分类宣传", 90)
    svc.record_community_service(c, r.id, date(2026, 10, 1), "国庆值守", 240)
    with pytest.raises(ValidationError, match="不在钱在职报到期间"):
        svc.record_community_service(c, r.id, date(2025, 1, 1), "早于报到", 60)
    with pytest.raises(ValidationError, match="1 分钟至 24 小时"):
        svc.record_community_service(c, r.id, date(2026, 6, 1), "太长", 25 * 60)
    with pytest.raises(ValidationError, match="请填写服务内容"):
        svc.record_community_service(c, r.id, date(2026, 6, 1), "", 30)
    w.session.commit()
    rows = svc.community_reports(c, 2026)
    assert [(x.name, x.community, x.services, x.minutes) for x in rows] == [("钱在职", "东风社区", 2, 330),
                                                                         ("孙在职", "红旗社区", 0, 0)]
    assert [x.name for x in svc.community_reports(c, 2026, area_id=w.c2.id)] == ["孙在职"]
    assert [s.content for s in svc.community_services(c, r.id)] == ["国庆值守", "垃圾分类宣传", "慰问独居老人"]
    # Ending a report keeps its services; services after the end are refused; a new report is possible.
    with pytest.raises(ValidationError, match="早于报到日期"):
        svc.end_report(c, other.id, date(2020, 1, 1))
    svc.end_report(c, r.id, date(2026, 10, 31))
    with pytest.raises(ValidationError, match="10-31 止"):
        svc.record_community_service(c, r.id, date(2026, 11, 2), "迟到", 30)
    again = svc.register_report(c, area_id=w.c1.id, name="钱在职", workplace="区教育局", phone="13800001111")
    w.session.commit()
    assert again.id != r.id
    assert [(x.name, x.ended_on) for x in svc.community_reports(c, 2026, area_id=w.c1.id)] == [
        ("钱在职", date(2026, 10, 31)), ("钱在职", None)]
    assert svc.community_reports(c, 2027, area_id=w.c1.id)[0].ended_on is None   # the ended one is gone in 2027


def test_report_scope_and_permission(world):
    from shell.core import auth

    c = world.ctx
    svc.register_report(c, area_id=world.c1.id, name="李在职", workplace="某公司")
    auth.create_user(c, "hqviewer", "红旗只读", "hqviewer1234", world.c2.id, ["street_staff"])
    auth.create_user(c, "hqclerk", "红旗党务", "hqclerk1234", world.c2.id, ["partybuilding_clerk"])
    world.session.commit()
    vctx = world.as_actor(auth.login(world.db.session_factory, "hqviewer", "hqviewer1234"))
    wctx = world.as_actor(auth.login(world.db.session_factory, "hqclerk", "hqclerk1234"))
    try:
        assert svc.community_reports(vctx, 2026) == []          # 东风 is outside 红旗's scope
        with pytest.raises(PermissionDenied):
            svc.register_report(vctx, area_id=world.c2.id, name="王在职", workplace="某公司")
        with pytest.raises(OutOfScope):
            svc.register_report(wctx, area_id=world.c1.id, name="王在职", workplace="某公司")
        assert svc.register_report(wctx, area_id=world.c2.id, name="王在职", workplace="某公司").area_id == world.c2.id
    finally:
        vctx.session.close()
        wctx.session.close()


def test_report_linked_to_a_member_on_the_rolls(world, tree):
    c = world.ctx
    m = world.member(tree.b1, name="周党员")
    r = svc.register_report(c, area_id=world.c2.id, name="", workplace="街道办", member_id=m.id)
    assert (r.name, r.member_id) == ("周党员", m.id)
    applicant = world.member(tree.b1, stage="applicant", name="吴申请")
    with pytest.raises(ValidationError, match="不是党员"):
        svc.register_report(c, area_id=world.c2.id, name="", workplace="x", member_id=applicant.id)


def test_household_links(world, tree):
    c = world.ctx
    link = svc.link_household(c, tree.h1.id, "grid.household", 42, "1号楼1单元101 张大爷家")
    svc.link_household(c, tree.h1.id, "grid.household", 43, "1号楼1单元102 李阿姨家")
    with pytest.raises(ValidationError, match="已是"):
        svc.link_household(c, tree.h1.id, "grid.household", 42, "重复")
    with pytest.raises(ValidationError, match="不是党员中心户"):
        svc.link_household(c, tree.g1.id, "grid.household", 44, "x")
    with pytest.raises(ValidationError, match="不是住户档案"):
        svc.link_household(c, tree.h1.id, "grid.event", 1, "x")
    svc.link_household(c, tree.h1.id, "grid.person", 9, "户主 王五")   # a head of household
    assert [(x.record_id, x.label) for x in svc.household_links(c, tree.h1.id)] == [
        (42, "1号楼1单元101 张大爷家"), (43, "1号楼1单元102 李阿姨家"), (9, "户主 王五")]
    svc.unlink_household(c, link.id)
    assert [x.record_id for x in svc.household_links(c, tree.h1.id)] == [43, 9]
    assert Actor.system().can(svc.ORG_MANAGE)


def test_community_page_report_service_end(world, app, qtbot):
    from PySide6.QtCore import Qt

    from plugins.partybuilding.views.community_page import CommunityPage

    def ok(dialog):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    page = CommunityPage(app)
    qtbot.addWidget(page)
    assert page.table.rowCount() == 0 and not page.service_button.isEnabled()
    page.area.setCurrentIndex(page.area.findText("红旗社区"))
    qtbot.mouseClick(page.report_button, Qt.MouseButton.LeftButton)
    dlg = page.dialog
    assert dlg.form.fields["area_id"].currentText() == "红旗社区"
    dlg.form.fields["name"].setText("郑在职")
    dlg.form.fields["phone"].setText("电话")
    dlg.form.fields["workplace"].setText("区卫健委")
    ok(dlg)
    assert "格式不对" in dlg.form.error_text("phone")
    dlg.form.fields["phone"].setText("13912345678")
    dlg.form.fields["reported_on"].setDate(date(2026, 3, 1))
    ok(dlg)
    assert not dlg.isVisible()
    assert page.table.column_texts(0) == ["郑在职"] and page.table.item(0, 4).text() == "139****5678"
    page.select_report(dlg.report_id)
    assert page.service_button.isEnabled()
    qtbot.mouseClick(page.service_button, Qt.MouseButton.LeftButton)
    sd = page.dialog
    sd.form.fields["content"].setText("社区疫苗接种点值守")
    sd.form.fields["served_on"].setDate(date(2026, 2, 1))
    sd.form.fields["minutes"].setValue(150)
    ok(sd)
    assert "不在郑在职报到期间" in sd.form.error_text("served_on")
    sd.form.fields["served_on"].setDate(date(2026, 6, 6))
    ok(sd)
    assert not sd.isVisible()
    assert page.table.item(0, 7).text() == "1" and page.table.item(0, 8).text() == "2.5"
    assert page.services.column_texts(1) == ["社区疫苗接种点值守"] and "共 1 次" in page.services_title.text()
    qtbot.mouseClick(page.end_button, Qt.MouseButton.LeftButton)
    ok(page.dialog)
    assert page.table.rowCount() == 0          # ended reports are hidden by default
    page.show_ended.setChecked(True)
    assert page.table.item(0, 6).text() == "2026-11-20"


class FakeGrid:
    """Stands in for the grid plugin: answers the search hook with household records and opens them
    through ``open_record`` — what the party-building plugin relies on, nothing more."""

    opened: list[tuple[str, int]] = []

    from shell import hookimpl as _impl

    @_impl
    def plugin_info(self):
        from shell.contracts import PluginInfo

        return PluginInfo(name="fakegrid", title="网格（测试）", version="0")

    @_impl
    def register_search(self, ctx, text):
        from shell.contracts import SearchResult

        homes = [SearchResult("grid.household", 7, "张大爷家", "住户 · 1号楼1单元101", "fakegrid"),
                 SearchResult("grid.household", 8, "张阿姨家", "住户 · 1号楼1单元102", "fakegrid"),
                 SearchResult("grid.person", 99, "张三", "实有人口", "fakegrid"),
                 SearchResult("grid.event", 5, "张家漏水", "事件", "fakegrid")]
        return [h for h in homes if text in h.title]

    @_impl
    def open_record(self, ctx, kind, id):
        if kind != "grid.household":
            return None
        FakeGrid.opened.append((kind, id))
        return True


def test_household_links_through_hooks(world, tree, qtbot):
    from PySide6.QtCore import Qt

    from plugins.partybuilding.views.org_page import OrgPage
    from shell.core.context import AppContext
    from shell.plugins import make_plugin_manager

    from .conftest import clock

    world.session.commit()
    fake = FakeGrid()
    pm = make_plugin_manager(builtins=["plugins.partybuilding"], extra=[fake], entry_points=False)
    app = AppContext(world.db.session_factory, Actor.system(), pm, clock=clock)
    page = OrgPage(app)
    qtbot.addWidget(page)
    page.tree.setCurrentItem(page.item_for(tree.g1.id))
    assert not page.households_button.isEnabled()
    page.tree.setCurrentItem(page.item_for(tree.h1.id))
    assert page.households_button.isEnabled()
    qtbot.mouseClick(page.households_button, Qt.MouseButton.LeftButton)
    dlg = page.households_dialog
    dlg.lines.setPlainText("3号楼2单元301室 王大爷家\n\n3号楼2单元302室 刘奶奶家")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    with world.db.session_factory() as s:
        from plugins.partybuilding.models import PartyOrg

        assert s.get(PartyOrg, tree.h1.id).households.splitlines() == ["3号楼2单元301室 王大爷家", "3号楼2单元302室 刘奶奶家"]
    dlg.search.setText("张")
    dlg.search.flush()
    assert [dlg.results.item(i).text() for i in range(dlg.results.count())] == [
        "张大爷家　住户 · 1号楼1单元101", "张阿姨家　住户 · 1号楼1单元102", "张三　实有人口"]   # not the event
    dlg.results.setCurrentRow(0)
    qtbot.mouseClick(dlg.link_button, Qt.MouseButton.LeftButton)
    assert dlg.table.column_texts(0) == ["张大爷家"] and dlg.table.item(0, 1).text() == "网格住户档案"
    qtbot.mouseClick(dlg.link_button, Qt.MouseButton.LeftButton)
    assert "已是" in dlg.message.text()
    dlg.table.selectRow(0)
    qtbot.mouseClick(dlg.open_button, Qt.MouseButton.LeftButton)
    assert FakeGrid.opened == [("grid.household", 7)]
    dlg.search.setText("李")
    dlg.search.flush()
    assert dlg.results.count() == 0 and "没有找到" in dlg.message.text()
    dlg.table.selectRow(0)
    qtbot.mouseClick(dlg.unlink_button, Qt.MouseButton.LeftButton)
    assert dlg.table.rowCount() == 0


def test_open_household_without_grid_plugin_says_so(world, tree, app, qtbot):
    from plugins.partybuilding.views.households import HouseholdsDialog

    svc.link_household(world.ctx, tree.h1.id, "grid.household", 5, "赵家")
    world.session.commit()
    dlg = HouseholdsDialog(app, tree.h1.id)
    qtbot.addWidget(dlg)
    dlg.table.selectRow(0)
    assert dlg.open_selected() is False and "网格插件未启用" in dlg.message.text()
