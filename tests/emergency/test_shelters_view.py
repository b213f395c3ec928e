"""避难场所 page through the real widgets (pytest-qt): register a shelter, refusals at their field,
edit with status (capacity summary follows), a conflicting edit, masked phones and printing."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from plugins.emergency import services as sv
from plugins.emergency.models import Shelter
from plugins.emergency.views.shelters import ShelterDialog, SheltersPage
from shell.core.context import AppContext
from shell.core.models import Area

from .conftest import TODAY, clock_at, scoped_actor


@pytest.fixture
def path(world):
    ctx = world.ctx()
    sv.create_shelter(ctx, world.street, "和平街道中心公园避难场所", "和平路 1 号", 9000, 4500,
                      facilities="应急供水、应急厕所", manager="吴秀勇", manager_phone="15965806289")
    ctx.session.commit()
    with world.db.session_factory() as s:
        return s.get(Area, world.street).path


def make_page(qtbot, world, path, *perms):
    app = AppContext(world.db.session_factory, scoped_actor(path, *perms), clock=clock_at(TODAY))
    page = SheltersPage(app)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    return page


def click(qtbot, w):
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton)


def test_register_edit_and_summary(qtbot, world, path):
    page = make_page(qtbot, world, path, "emergency.view", "emergency.shelter.manage")
    assert page.summary.text() == "共 1 处避难场所，可用及启用中合计可容纳 4,500 人，总面积 9,000 ㎡"
    assert page.table.item(0, 7).text() == "159****6289"
    click(qtbot, page.new_button)
    d = page.dialog
    assert isinstance(d, ShelterDialog)
    d.name.setText("东湖小学操场避难场所")
    d.area.setCurrentText("东湖社区")
    d.location.setText("东湖路 8 号")
    click(qtbot, d.ok_button)
    assert d.isVisible() and d.form.error_text("area_m2") == "有效面积（平方米）必须大于 0（填写的是 0）。"
    d.area_m2.setValue(4000)
    d.capacity.setValue(1200)
    d.manager_phone.setText("12")
    click(qtbot, d.ok_button)
    assert d.isVisible() and d.form.error_text("manager_phone").startswith("负责人电话“12”格式不正确")
    d.manager_phone.setText("")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    assert page.selected().name == "东湖小学操场避难场所"
    assert "合计可容纳 5,700 人" in page.summary.text()
    click(qtbot, page.edit_button)
    d = page.dialog
    assert d.location.text() == "东湖路 8 号" and not d.area.isEnabled()
    d.status.setCurrentText("维护中")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    assert page.table.item(page.table.currentRow(), 8).text() == "维护中"
    assert "合计可容纳 4,500 人" in page.summary.text()


def test_conflicting_edit_keeps_the_other_change(qtbot, world, path, conflict_dialogs):
    page = make_page(qtbot, world, path, "emergency.view", "emergency.shelter.manage")
    page.table.selectRow(0)
    click(qtbot, page.edit_button)
    d = page.dialog
    ctx = world.ctx()
    sv.set_shelter_status(ctx, page.rows[0].id, "in_use")
    ctx.session.commit()
    d.capacity.setValue(100)
    click(qtbot, d.ok_button)
    assert d.isVisible() and d.form.general_error.isVisible()
    rows = {label: (mine, theirs) for label, mine, theirs in conflict_dialogs["seen"][0]["rows"]}
    assert rows["状态"] == ("可用", "启用中") and rows["可容纳人数"] == ("100", "4500")
    with world.db.session_factory() as s:
        sh = s.get(Shelter, page.rows[0].id)
        assert (sh.status, sh.capacity) == ("in_use", 4500)


def test_viewer_and_printing(qtbot, world, path):
    page = make_page(qtbot, world, path, "emergency.view")
    page.table.selectRow(0)
    assert not page.new_button.isEnabled() and not page.edit_button.isEnabled()
    click(qtbot, page.print_button)
    pd = page.print_dialog
    qtbot.waitUntil(lambda: pd.result is not None or "失败" in pd.status.text(), timeout=30000)
    assert pd.result is not None and pd.result.rows == 1
    pd.reject()
