"""GUI: build a branch under a community, add members, drag a 党小组 to another branch, see the
compliance view, print the 花名册 (pytest-qt, offscreen)."""
from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDropEvent

from plugins.partybuilding import services as svc
from plugins.partybuilding.models import PartyOrg
from plugins.partybuilding.services import AttendanceEntry as A
from plugins.partybuilding.views import org_page as org_view
from plugins.partybuilding.views.compliance_page import CompliancePage
from plugins.partybuilding.views.org_page import OrgPage
from shell.core import reporting
from shell.core.context import Actor, AppContext
from shell.plugins import call_each

from .conftest import clock


@pytest.fixture
def app(world, tree, pm):
    world.session.commit()
    return AppContext(world.db.session_factory, Actor.system(), pm, clock=clock)


def test_hook_register_pages(pm, app, qtbot):
    pages = {p.id: p for _, p in call_each(pm, "register_pages", ctx=app)}
    assert set(pages) == {"partybuilding.orgs", "partybuilding.compliance"}
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
    assert page.members.rowCount() == 2 and "*" in page.members.item(0, 5).text()  # ID masked
    page.search.setText("xdy1")
    assert page.members.rowCount() == 1 and page.members.item(0, 0).text() == "新党员1"
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


def test_dissolve_from_page(world, tree, app, qtbot, monkeypatch):
    page = OrgPage(app)
    qtbot.addWidget(page)
    monkeypatch.setattr(org_view, "confirm", lambda *a: True)
    page.tree.setCurrentItem(page.item_for(tree.h1.id))
    assert page.dissolve_selected(on=date(2026, 11, 1))
    assert page.item_for(tree.h1.id) is None


def test_committee_meeting_and_compliance_view(world, tree, app, qtbot):
    with app.service() as sctx:
        ms = [svc.create_member(sctx, name=f"委员{i}", id_number=world.id_number(), org_id=tree.b1.id, stage="full",
                                admitted_on=date(2015, 1, 1), full_on=date(2016, 1, 1), joined_on=date(2020, 1, 1)).id
              for i in range(3)]
        svc.record_meeting(sctx, tree.b1.id, "committee", date(2026, 10, 9), "10月支委会", host="书记", recorder="委员",
                           attendance=[A(ms[0]), A(ms[1]), A(ms[2], False, "出差")])
    page = CompliancePage(app)
    qtbot.addWidget(page)
    assert page.period.currentText() == "第4季度" and page.only_missing.isChecked()
    shown = {(page.table.item(r, 0).text(), page.table.item(r, 1).text(), page.table.item(r, 2).text())
             for r in range(page.table.rowCount())}
    assert ("中共东风社区委员会 / 东风一网格党支部", "支委会", "2026年10月") not in shown   # held with quorum
    assert ("中共东风社区委员会 / 东风一网格党支部", "主题党日", "2026年10月") in shown
    assert all(page.table.item(r, 5).text() == "缺" for r in range(page.table.rowCount()))
    page.period.setCurrentIndex(page.period.findText("10月"))
    rows = [(page.table.item(r, 0).text(), page.table.item(r, 1).text()) for r in range(page.table.rowCount())]
    assert ("中共东风社区委员会 / 东风一网格党支部", "支委会") not in rows
    assert ("东风一网格党支部 / 1号楼党小组", "党小组会") in rows
    page.only_missing.setChecked(False)
    statuses = {page.table.item(r, 5).text() for r in range(page.table.rowCount())}
    assert "已完成" in statuses and "缺" in statuses
    assert "缺" in page.summary.text()
