"""GUI: build a branch under a community, add members, drag a 党小组 to another branch, see the
compliance view, print the 花名册 (pytest-qt, offscreen)."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDropEvent

from plugins.partybuilding import services as svc
from plugins.partybuilding.models import PartyOrg
from plugins.partybuilding.services import AttendanceEntry as A
from plugins.partybuilding.views import org_page as org_view
from plugins.partybuilding.views.compliance_page import CompliancePage
from plugins.partybuilding.views.org_page import OrgPage
from shell.core import reporting
from shell.plugins import call_each


def test_hook_register_pages(pm, app, qtbot):
    pages = {p.id: p for plugin, p in call_each(pm, "register_pages", ctx=app) if plugin != "core"}
    assert set(pages) == {"partybuilding.orgs", "partybuilding.compliance", "partybuilding.alerts",
                          "partybuilding.transfers", "partybuilding.meetings", "partybuilding.dues",
                          "partybuilding.community", "partybuilding.stats"}
    for spec in pages.values():
        w = spec.factory(app, None)
        qtbot.addWidget(w)
        assert spec.permission == "partybuilding.view"


def test_org_page_build_branch_add_members_drag_group(world, tree, app, qtbot, monkeypatch, tmp_path):
    page = OrgPage(app)
    qtbot.addWidget(page)
    assert page.tree.topLevelItemCount() == 1
    # Build a branch under the 东风 community committee.
    page.tree.setCurrentItem(page.item_for(tree.dfc.id))
    new_id = page.create_child(tree.dfc.id, "东风新建党支部", "branch", world.g12.id)
    assert new_id and page.selected_id() == new_id
    assert page.item_for(new_id).parent().data(0, org_view.ORG_ROLE) == tree.dfc.id
    # Add members (service calls, as the member form will) and see counts, findings and the list.
    with app.service() as sctx:
        [svc.create_member(sctx, name=f"新党员{i}", id_number=world.id_number(), org_id=new_id, stage="full",
                                 admitted_on=date(2015, 1, 1), full_on=date(2016, 1, 1), phone="13800138000").id
               for i in range(2)]
        svc.create_member(sctx, name="小组党员", id_number=world.id_number(), org_id=tree.g1.id, stage="full",
                          admitted_on=date(2015, 1, 1), full_on=date(2016, 1, 1))
    page.reload(new_id)
    assert page.item_for(new_id).text(2) == "2"
    assert "少于 3 名" in page.findings.text()
    assert page.members.rowCount() == 2 and "*" in page.members.text(0, 5)  # ID masked
    assert page.members.text(0, 3) == "中共东风社区委员会 / 东风新建党支部"  # with its parent
    page.search.setText("xdy1")
    page.search.flush()
    assert page.members.rowCount() == 1 and page.members.text(0, 0) == "新党员1"
    # Drag 1号楼党小组 onto the new branch: confirmation shows the counts, then it moves.
    asked = []
    monkeypatch.setattr(org_view, "confirm", lambda parent, title, text: asked.append(text) or True)
    page.tree.setCurrentItem(page.item_for(tree.g1.id))
    target = page.item_for(new_id)
    pos = page.tree.visualItemRect(target).center()
    mime = QMimeData()
    event = QDropEvent(QPointF(pos), Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(page.tree.move_requested, timeout=1000):
        page.tree.dropEvent(event)
    assert asked and "2 个党组织、1 名党员" in asked[0]
    with world.db.session_factory() as s:
        assert s.get(PartyOrg, tree.g1.id).parent_id == new_id
    assert page.item_for(tree.g1.id).parent().data(0, org_view.ORG_ROLE) == new_id
    assert page.item_for(new_id).text(2) == "3"
    # An illegal move is refused with the service's message, nothing changes.
    errors = []
    monkeypatch.setattr(org_view, "show_error", lambda parent, exc: errors.append(str(exc)))
    assert page.request_move(tree.g1.id, tree.dfc.id) is False
    assert "只能放在" in errors[-1]
    # Declining the confirmation changes nothing.
    monkeypatch.setattr(org_view, "confirm", lambda *a: False)
    assert page.request_move(tree.g1.id, tree.b1.id) is False
    with world.db.session_factory() as s:
        assert s.get(PartyOrg, tree.g1.id).parent_id == new_id
    # Print the 花名册 of the new branch.
    (d,) = [d for _, d in call_each(app.plugin_manager, "register_reports") if d.id == "partybuilding.roster"]
    out = tmp_path / "roster.pdf"
    gen = reporting.generate(app.session_factory, app.actor, d, reporting.parse_params(d, {"org": str(new_id)}), out)
    assert gen.rows == 3 and gen.pages == 1


def test_dissolve_from_page(world, tree, app, qtbot):
    page = OrgPage(app)
    qtbot.addWidget(page)
    page.tree.setCurrentItem(page.item_for(tree.g1.id))
    dlg = page.dissolve_selected()
    dlg.form.fields["reason"].setText("楼栋拆迁")
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert dlg.isVisible() and "未撤销的下级组织" in dlg.form.error_text("dissolved_on")   # its 中心户 first
    dlg.reject()
    page.tree.setCurrentItem(page.item_for(tree.h1.id))
    qtbot.mouseClick(page.dissolve_button, Qt.MouseButton.LeftButton)
    dlg = page.org_dialog
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert "请填写撤销原因" in dlg.form.error_text("reason")
    dlg.form.fields["dissolved_on"].setDate(date(2026, 11, 1))
    dlg.form.fields["reason"].setText("中心户户主搬离")
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible() and page.item_for(tree.h1.id) is None
    with world.db.session_factory() as s:
        org = s.get(PartyOrg, tree.h1.id)
        assert (org.dissolved_on, org.dissolved_reason) == (date(2026, 11, 1), "中心户户主搬离")


def test_new_and_edit_org_through_dialogs(world, tree, app, qtbot):
    page = OrgPage(app)
    qtbot.addWidget(page)
    page.tree.setCurrentItem(page.item_for(tree.hqz.id))
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    dlg = page.org_dialog
    f = dlg.form.fields
    assert [f["kind"].itemText(i) for i in range(f["kind"].count())] == ["党支部"]
    areas = [f["area_id"].itemText(i) for i in range(f["area_id"].count())]
    assert areas == ["社区 · 红旗社区", "网格 · 红旗一网格"]          # only inside 红旗社区
    f["name"].setText("红旗一网格党支部")
    f["area_id"].setCurrentIndex(1)
    f["has_committee"].setChecked(True)
    f["committee_size"].setValue(9)
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert "已有名为" in dlg.form.error_text("name")
    f["name"].setText("红旗二网格党支部")
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert "3 至 7 名" in dlg.form.error_text("committee_size") and not dlg.form.error_text("name")
    f["committee_size"].setValue(3)
    f["founded_on"].setDate(date(2026, 9, 1))
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible() and page.selected_id() == dlg.saved_id
    assert page.item_for(dlg.saved_id).parent().data(0, org_view.ORG_ROLE) == tree.hqz.id
    new_id = dlg.saved_id
    # Edit: rename with a date, new secretary, committee re-elected.
    qtbot.mouseClick(page.edit_button, Qt.MouseButton.LeftButton)
    dlg = page.org_dialog
    f = dlg.form.fields
    assert f["name"].text() == "红旗二网格党支部" and f["has_committee"].isChecked()
    f["name"].setText("红旗幸福里党支部")
    f["secretary"].setText("周书记")
    f["committee_elected_on"].setDate(date(2026, 10, 8))
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()
    assert page.item_for(new_id).text(0) == "红旗幸福里党支部"
    with world.db.session_factory() as s:
        org = s.get(PartyOrg, new_id)
        assert (org.secretary, org.committee_elected_on) == ("周书记", date(2026, 10, 8))
    with app.service(commit=False) as sctx:
        assert [e.event for e in svc.org_history(sctx, new_id)] == ["founded", "renamed"]
    assert page.history.text() == ("组织沿革：2026-09-01 成立，隶属“中共红旗社区总支部委员会”；"
                                   "2026-11-20 “红旗二网格党支部”更名为“红旗幸福里党支部”")
    # A 党员中心户 has nothing below it.
    page.tree.setCurrentItem(page.item_for(tree.h1.id))
    errors = []
    import plugins.partybuilding.views.org_page as op
    op_show = op.show_error
    op.show_error = lambda parent, exc: errors.append(str(exc))
    try:
        assert page.new_child() is None and "不能再建" in errors[0]
    finally:
        op.show_error = op_show


def test_committee_meeting_and_compliance_view(world, tree, app, qtbot):
    with app.service() as sctx:
        ms = [svc.create_member(sctx, name=f"委员{i}", id_number=world.id_number(), org_id=tree.b1.id, stage="full",
                                admitted_on=date(2015, 1, 1), full_on=date(2016, 1, 1), joined_on=date(2020, 1, 1)).id
              for i in range(3)]
        svc.record_meeting(sctx, tree.b1.id, "committee", date(2026, 10, 9), "10月支委会", host="书记", recorder="委员",
                           attendance=[A(ms[0]), A(ms[1]), A(ms[2], False, "出差")])
    page = CompliancePage(app)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: not page.loading, timeout=5000)
    assert page.period.currentText() == "第4季度" and page.show_mode.currentText() == "只看缺项"
    shown = {(page.table.item(r, 0).text(), page.table.item(r, 1).text(), page.table.item(r, 2).text())
             for r in range(page.table.rowCount())}
    assert ("中共东风社区委员会 / 东风一网格党支部", "支委会", "2026年10月") not in shown   # held with quorum
    assert ("中共东风社区委员会 / 东风一网格党支部", "主题党日", "2026年10月") in shown
    assert all(page.table.item(r, 5).text() == "缺" for r in range(page.table.rowCount()))
    page.period.setCurrentIndex(page.period.findText("10月"))
    qtbot.waitUntil(lambda: not page.loading, timeout=5000)
    rows = [(page.table.item(r, 0).text(), page.table.item(r, 1).text()) for r in range(page.table.rowCount())]
    assert ("中共东风社区委员会 / 东风一网格党支部", "支委会") not in rows
    assert ("东风一网格党支部 / 1号楼党小组", "党小组会") in rows
    page.show_mode.setCurrentIndex(page.show_mode.findData("all"))
    statuses = {page.table.item(r, 5).text() for r in range(page.table.rowCount())}
    assert "已完成" in statuses and "缺" in statuses
    assert "缺" in page.summary.text()


def test_find_org_in_tree_and_print_roster(world, tree, app, qtbot):
    from PySide6.QtTest import QTest

    svc.create_member(world.ctx, name="花名册甲", id_number=world.id_number(), org_id=tree.g1.id, stage="full",
                      admitted_on=date(2015, 1, 1), full_on=date(2016, 1, 1))
    svc.create_member(world.ctx, name="花名册乙", id_number=world.id_number(), org_id=tree.b1.id, stage="full",
                      admitted_on=date(2015, 1, 1), full_on=date(2016, 1, 1))
    world.session.commit()
    page = OrgPage(app)
    qtbot.addWidget(page)
    page.find_org.setText("wgdzb")            # 网格党支部, by pinyin initials
    page.find_org.flush()
    assert page.selected_id() == tree.b1.id
    QTest.keyClick(page.find_org, Qt.Key.Key_Return)
    QTest.qWait(80)
    QTest.keyClick(page.find_org, Qt.Key.Key_Return)
    assert page.selected_id() == tree.b2.id
    assert not page.find_next("不存在的组织") and "没有" in page.find_org.toolTip()
    # Print the 花名册 of 东风一网格党支部 (its 党小组 included) from the page.
    page.tree.setCurrentItem(page.item_for(tree.b1.id))
    qtbot.mouseClick(page.roster_button, Qt.MouseButton.LeftButton)
    handle = page.roster_handle
    qtbot.waitUntil(lambda: handle.is_finished, timeout=20000)
    assert handle.error is None and handle.result.rows == 2 and handle.result.pages == 1
    dlg = page._pb_pdf_dialog
    assert dlg.isVisible() and dlg.preview.page_count() == 1 and dlg.windowTitle() == "党员花名册-东风一网格党支部"
    dlg.close()
