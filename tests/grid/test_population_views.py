"""The population screens through the real widgets: a person's detail opened by double-click in the
resident list (household, housing history, special groups, visits; the full ID number shown on request
and audited), the household window (add a member found by search, change the head, remove a member),
the house page (register with an inline error, move a tenant in and out), the organisation page
(credit code checked inline), and open_record for persons, households, houses and organisations."""
from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from sqlalchemy import select

import plugins.grid as grid_plugin
from plugins.grid import services as svc
from plugins.grid.views.houses import HousesPage
from plugins.grid.views.organisations import OrganisationsPage
from plugins.grid.views.people import HouseholdDialog
from plugins.grid.views.residents import ResidentsPage
from shell.core.context import AppContext
from shell.core.models import AuditLog
from shell.errors import OutOfScope

from .conftest import ALL, actor, make_id, make_pm
from .test_population import GOOD_USCC


@pytest.fixture
def app(stree, grid_sqlite):
    return AppContext(grid_sqlite.session_factory, actor(stree.street, codes=ALL, name="王街道"), make_pm())


@pytest.fixture
def family(app, stree):
    """A household of two in a house, plus a neighbour, one special-group record with a visit."""
    with app.service() as ctx:
        house = svc.create_house(ctx, area_id=stree.g11.id, code="F1001", address="和平里6号楼101",
                                 house_use="出租", owner_name="钱房东")
        hh = svc.create_household(ctx, stree.g11.id, "H1001", "和平里6号楼101")
        head = svc.register_person(ctx, area_id=stree.g11.id, name="郑国强", id_number=make_id(seq=501),
                                   household_id=hh.id, relation_to_head="户主", phone="13900001111")
        wife = svc.register_person(ctx, area_id=stree.g11.id, name="冯丽", id_number=make_id(birth="19920304", seq=502))
        svc.add_to_household(ctx, hh.id, wife.id, "配偶")
        svc.move_in(ctx, head.id, house.id, date(2023, 5, 1), "租客", is_tenant=True)
        neighbour = svc.register_person(ctx, area_id=stree.g11.id, name="卫东", id_number=make_id(seq=503))
        sp = svc.add_special(ctx, head.id, "disabled", {"disability_type": "肢体", "disability_grade": "三级"},
                             start=date(2024, 1, 1))
        svc.record_visit(ctx, sp.id, date(2024, 2, 1), "生活能自理，申请了轮椅", visitor_name="网格员甲")
        return dict(house=house.id, hh=hh.id, head=head.id, wife=wife.id, neighbour=neighbour.id)


def _texts(table, col):
    return [table.item(r, col).text() for r in range(table.rowCount())]


def _select(table, text, col=0):
    row = _texts(table, col).index(text)
    table.setCurrentCell(row, 0)


def test_person_detail_from_resident_list(qtbot, app, family, grid_sqlite):
    page = ResidentsPage(app)
    qtbot.addWidget(page)
    page.search.setText("郑国强")
    page.search.flush()
    assert page.model.rowCount() == 1
    index = page.model.index(0, 0)
    page.table.doubleClicked.emit(index)   # what a double-click on the row sends
    detail = page.dialog
    qtbot.addWidget(detail)
    assert detail.labels["name"].text() == "郑国强"
    assert detail.labels["id_number"].text() == make_id(seq=501)[:4] + "**********" + make_id(seq=501)[-4:]
    assert detail.labels["phone"].text() == "139****1111"
    assert "户号 H1001　户主 郑国强" in detail.household_label.text()
    assert _texts(detail.members, 0) == ["郑国强", "冯丽"] and _texts(detail.members, 1) == ["户主", "配偶"]
    assert _texts(detail.housing, 0) == ["F1001"] and _texts(detail.housing, 3) == ["是"]
    assert _texts(detail.housing, 5) == ["至今"]
    assert _texts(detail.specials, 0) == ["残疾人"] and "残疾等级：三级" in detail.specials.item(0, 5).text()
    assert _texts(detail.visits, 3) == ["生活能自理，申请了轮椅"]
    assert [detail.tabs.tabText(i) for i in range(4)] == ["户（2）", "居住史（1）", "特殊/关爱人群（1）", "走访记录（1）"]
    # this actor has no full-view right: no button; an actor with it sees the number, audited
    assert detail.reveal_button.isHidden()
    boss = AppContext(app.session_factory, actor(app.actor and None, codes=ALL | {"core.personal.full_view"},
                                                 superuser=True, name="管理员"), app.plugin_manager)
    page2 = ResidentsPage(boss)
    qtbot.addWidget(page2)
    full = page2.open_person(family["head"])
    qtbot.addWidget(full)
    qtbot.mouseClick(full.reveal_button, Qt.MouseButton.LeftButton)
    assert full.labels["id_number"].text() == make_id(seq=501)
    with grid_sqlite.session_factory() as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "view_full_id")) is not None


def test_person_edit_and_move_out_from_detail(qtbot, app, family):
    page = ResidentsPage(app)
    qtbot.addWidget(page)
    detail = page.open_person(family["wife"])
    qtbot.addWidget(detail)
    qtbot.mouseClick(detail.edit_button, Qt.MouseButton.LeftButton)
    form = detail.children_[-1]
    form.form.widget("phone").setText("123")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert form.isVisible() and "联系电话“123”格式不对" in form.form.error_text("phone")
    form.form.widget("phone").setText("13811112222")
    form.form.widget("occupation").setText("护士")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted
    assert detail.labels["occupation"].text() == "护士" and detail.labels["phone"].text() == "138****2222"
    qtbot.mouseClick(detail.move_out_button, Qt.MouseButton.LeftButton)
    leave = detail.children_[-1]
    leave.form.widget("reason").setText("迁往上海")
    qtbot.mouseClick(leave.ok_button, Qt.MouseButton.LeftButton)
    assert detail.labels["status"].text() == "已迁出" and not detail.move_out_button.isEnabled()


def test_household_window_members_and_head(qtbot, app, family):
    pm = make_pm()
    assert pm.hook.open_record(ctx=app, kind="grid.household", id=family["hh"]) is True
    dialog = grid_plugin._OPEN_DIALOGS[-1]
    qtbot.addWidget(dialog)
    assert isinstance(dialog, HouseholdDialog) and dialog.labels["head"].text() == "郑国强"
    # add the neighbour, found by pinyin initials
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    add = dialog.children_[-1]
    qtbot.mouseClick(add.ok_button, Qt.MouseButton.LeftButton)
    assert add.form.error_text("person_id") == "请查找并选择一名人员。"
    add.picker.search.setText("wd")
    add.picker.search.flush()
    assert add.picker.results.count() == 1 and add.picker.results.item(0).text().startswith("卫东")
    add.relation.setCurrentText("兄弟姐妹")
    qtbot.mouseClick(add.ok_button, Qt.MouseButton.LeftButton)
    assert add.result() == QDialog.DialogCode.Accepted
    assert _texts(dialog.members, 0) == ["郑国强", "冯丽", "卫东"] and dialog.labels["count"].text() == "3 人"
    # removing the head while others remain is refused, in the window
    _select(dialog.members, "郑国强")
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "郑国强是户主：请先把另一名成员设为户主。"
    # 冯丽 becomes head; 郑国强 becomes 配偶
    _select(dialog.members, "冯丽")
    qtbot.mouseClick(dialog.head_button, Qt.MouseButton.LeftButton)
    change = dialog.children_[-1]
    change.old_relation.setCurrentText("配偶")
    qtbot.mouseClick(change.ok_button, Qt.MouseButton.LeftButton)
    assert change.result() == QDialog.DialogCode.Accepted
    assert dialog.labels["head"].text() == "冯丽"
    assert dict(zip(_texts(dialog.members, 0), _texts(dialog.members, 1), strict=True)) == {"冯丽": "户主", "郑国强": "配偶",
                                                                                "卫东": "兄弟姐妹"}
    _select(dialog.members, "卫东")
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert _texts(dialog.members, 0) == ["冯丽", "郑国强"] and dialog.message.isHidden()


def test_houses_page_register_and_tenants(qtbot, app, family):
    page = HousesPage(app)
    qtbot.addWidget(page)
    tab = page.houses
    assert tab.count_label.text() == "共 1 处"
    form = tab.new_house()
    qtbot.addWidget(form)
    form.form.widget("code").setText("F1002")
    form.form.widget("address").setText("和平里7号楼202")
    form.form.widget("house_use").setCurrentIndex(form.form.widget("house_use").findData("出租"))
    form.form.widget("owner_id_number").setText("11010519900101123")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert form.isVisible() and form.form.error_text("owner_id_number")
    form.form.widget("owner_id_number").setText(make_id(seq=601))
    form.form.widget("owner_name").setText("褚房东")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted
    qtbot.waitUntil(lambda: tab.count_label.text() == "共 2 处")
    tab.use.setCurrentIndex(tab.use.findData("出租"))
    assert tab.model.rowCount() == 2
    tab.search.setText("7号楼")
    tab.search.flush()
    assert tab.model.rowCount() == 1
    tab.table.doubleClicked.emit(tab.model.index(0, 0))
    house = tab.dialog
    qtbot.addWidget(house)
    assert house.labels["rental"].text() == "出租房屋，未签订治安责任书" and house.labels["tenants"].text() == "无"
    qtbot.mouseClick(house.move_in_button, Qt.MouseButton.LeftButton)
    move = house.children_[-1]
    move.picker.search.setText("冯丽")
    move.picker.search.flush()
    move.form.widget("relation_to_owner").setCurrentText("租客")
    assert move.tenant.isChecked()
    qtbot.mouseClick(move.ok_button, Qt.MouseButton.LeftButton)
    assert move.result() == QDialog.DialogCode.Accepted
    assert _texts(house.occupants, 0) == ["冯丽"] and house.labels["tenants"].text() == "冯丽"
    house.occupants.setCurrentCell(0, 0)
    qtbot.mouseClick(house.move_out_button, Qt.MouseButton.LeftButton)
    leave = house.children_[-1]
    qtbot.mouseClick(leave.ok_button, Qt.MouseButton.LeftButton)
    assert leave.result() == QDialog.DialogCode.Accepted
    assert _texts(house.occupants, 5) != ["至今"] and house.labels["tenants"].text() == "无"
    house.current_only.setChecked(True)
    assert house.occupants.rowCount() == 0
    # the household tab lists the household with its head and size
    hh = page.households
    assert hh.model.rowCount() == 1
    assert [hh.model.data(hh.model.index(0, c)) for c in range(3)] == ["H1001", "郑国强", "2"]


def test_organisations_page_credit_code_inline(qtbot, app, stree):
    page = OrganisationsPage(app)
    qtbot.addWidget(page)
    form = page.open_form(None)
    qtbot.addWidget(form)
    form.form.widget("name").setText("和平里便民超市")
    form.form.widget("credit_code").setText(GOOD_USCC[:-1] + "0")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert form.isVisible() and "校验位不对" in form.form.error_text("credit_code")
    form.form.widget("credit_code").setText(" " + GOOD_USCC.lower())
    form.form.widget("legal_rep").setText("蒋老板")
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted
    qtbot.waitUntil(lambda: page.count_label.text() == "共 1 个")
    assert page.model.data(page.model.index(0, 2)) == GOOD_USCC
    page.table.doubleClicked.emit(page.model.index(0, 0))
    edit = page.dialog
    qtbot.addWidget(edit)
    assert edit.form.widget("legal_rep").text() == "蒋老板"
    edit.form.widget("has_party_org").setChecked(True)
    edit.form.widget("party_members").setValue(4)
    qtbot.mouseClick(edit.ok_button, Qt.MouseButton.LeftButton)
    assert edit.result() == QDialog.DialogCode.Accepted
    assert page.model.data(page.model.index(0, 5)) == "有（4 名党员）"


@pytest.mark.parametrize("kind,key,title", [("grid.person", "head", "实有人口：郑国强"),
                                            ("grid.house", "house", "房屋：F1001 和平里6号楼101"),
                                            ("grid.household", "hh", "户：H1001")])
def test_hook_open_record_population_kinds(qtbot, app, family, stree, kind, key, title):
    pm = make_pm()
    assert pm.hook.open_record(ctx=app, kind=kind, id=family[key]) is True
    dialog = grid_plugin._OPEN_DIALOGS[-1]
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == title and dialog.isVisible()
    dialog.accept()
    assert dialog not in grid_plugin._OPEN_DIALOGS
    outsider = AppContext(app.session_factory, actor(stree.g21), pm)
    with pytest.raises(OutOfScope):
        pm.hook.open_record(ctx=outsider, kind=kind, id=family[key])


def test_hook_open_record_organisation(qtbot, app, stree):
    with app.service() as ctx:
        org_id = svc.register_organisation(ctx, area_id=stree.g11.id, kind="社会组织", name="和平里书画协会",
                                           credit_code=GOOD_USCC).id
    pm = make_pm()
    viewer = AppContext(app.session_factory, actor(stree.c1, codes={"grid.view"}), pm)
    assert pm.hook.open_record(ctx=viewer, kind="grid.organisation", id=org_id) is True
    dialog = grid_plugin._OPEN_DIALOGS[-1]
    qtbot.addWidget(dialog)
    assert dialog.form.widget("name").text() == "和平里书画协会" and not dialog.ok_button.isEnabled()
    dialog.reject()
    assert pm.hook.open_record(ctx=app, kind="grid.organisation", id=org_id) is True
    editable = grid_plugin._OPEN_DIALOGS[-1]
    qtbot.addWidget(editable)
    assert editable.ok_button.isEnabled()
    editable.reject()


def test_person_edit_conflict_compare_reload_then_save(qtbot, app, family):
    """Another desktop changes the person while the form is open: the shared conflict dialog names
    the change, 重新载入 takes the saved values and the version, and the second save goes through."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from plugins.grid.views.people import PersonEditDialog

    dialog = PersonEditDialog(app, family["wife"])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.form.widget("phone").setText("13700000000")
    with app.service() as ctx:  # the other desktop
        svc.update_person(ctx, family["wife"], phone="13911112222")
    seen = {}

    def answer():
        w = QApplication.activeModalWidget()
        if w is None or w.objectName() != "conflict-dialog":
            QTimer.singleShot(20, answer)
            return
        w.compare_button.click()
        seen["rows"] = [tuple(w.table.item(r, c).text() for c in range(3)) for r in range(w.table.rowCount())]
        w.reload_button.click()

    QTimer.singleShot(0, answer)
    dialog.ok_button.click()
    assert ("联系电话", "13700000000", "13911112222") in seen["rows"]
    assert dialog.form.value("phone") == "13911112222" and dialog.isVisible()
    dialog.form.widget("phone").setText("13700000000")
    dialog.ok_button.click()  # saved on top of the other desktop's change
    assert not dialog.isVisible()
    with app.service(commit=False) as ctx:
        assert svc.get_person(ctx, family["wife"]).phone == "13700000000"


def test_resident_list_finds_full_pinyin_typed(qtbot, app, family):
    """Issue 17 §2: "zheng" and "zhengguoqiang" find 郑国强, as "zgq" always did; the box says so."""
    page = ResidentsPage(app)
    qtbot.addWidget(page)
    assert "全拼" in page.search.toolTip()
    for typed in ("zheng", "Zheng Guoqiang", "zhengguoq", "zgq"):
        page.search.setText(typed)
        page.search.flush()
        assert [page.model.index(r, 0).data() for r in range(page.model.rowCount())] == ["郑国强"], typed
    page.search.setText("weidong")
    page.search.flush()
    assert [page.model.index(r, 0).data() for r in range(page.model.rowCount())] == ["卫东"]


def test_person_card_lists_in_a_group_and_records_a_visit(qtbot, app, family):
    """Issue 17 §4: the resident card acts — 列入特殊/关爱人群 with this person already chosen, then
    登记走访 on that record (the only open one, or the one selected); both tabs count up."""
    page = ResidentsPage(app)
    qtbot.addWidget(page)
    detail = page.open_person(family["wife"])
    qtbot.addWidget(detail)
    assert detail.tabs.tabText(2) == "特殊/关爱人群（0）" and detail.tabs.tabText(3) == "走访记录（0）"
    assert not detail.add_special_button.isHidden()
    qtbot.mouseClick(detail.visit_button, Qt.MouseButton.LeftButton)       # nothing to visit yet
    assert "不在任何特殊/关爱人群名单中" in detail.message.text()
    qtbot.mouseClick(detail.add_special_button, Qt.MouseButton.LeftButton)
    form = detail.children_[-1]
    assert form.picker.selected_id() == family["wife"] and form.picker.search.isHidden()
    assert "冯丽" in form.picker.results.item(0).text()
    form.group.setCurrentIndex(form.group.findData("dibao"))
    qtbot.mouseClick(form.ok_button, Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted, form.form.errors
    assert detail.tabs.tabText(2) == "特殊/关爱人群（1）" and detail.specials.item(0, 0).text() == "低保对象"
    qtbot.mouseClick(detail.visit_button, Qt.MouseButton.LeftButton)        # the one open record
    visit = detail.children_[-1]
    from PySide6.QtWidgets import QLabel

    assert any("走访对象：冯丽（低保对象）" in lab.text() for lab in visit.findChildren(QLabel))
    visit.form.widget("situation").setPlainText("送去冬季慰问品，生活稳定")
    qtbot.mouseClick(visit.ok_button, Qt.MouseButton.LeftButton)
    assert visit.result() == QDialog.DialogCode.Accepted, visit.form.errors
    assert detail.tabs.tabText(3) == "走访记录（1）" and detail.visits.item(0, 3).text() == "送去冬季慰问品，生活稳定"
    with app.service() as ctx:
        assert [v.situation for _g, v in svc.person_visits(ctx, family["wife"])] == ["送去冬季慰问品，生活稳定"]


def test_person_card_actions_need_the_special_permission(qtbot, app, family, stree):
    reader = AppContext(app.session_factory, actor(stree.street, codes={"grid.view"}, name="只读"), make_pm())
    page = ResidentsPage(reader)
    qtbot.addWidget(page)
    detail = page.open_person(family["wife"])
    qtbot.addWidget(detail)
    assert detail.add_special_button.isHidden() and detail.visit_button.isHidden()
