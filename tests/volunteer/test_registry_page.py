"""Registering, editing and deactivating volunteers on the 志愿者 page (pytest-qt, real widgets):
Chinese errors at their fields (ID number check digit, phone), gender and birth date derived from the
ID, optimistic locking on edit (a concurrent save is named, nothing overwritten), deactivation with
a reason."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel
from sqlalchemy import select

from plugins.volunteer import services as sv
from plugins.volunteer.models import Volunteer
from plugins.volunteer.views.volunteers import VolunteersPage
from shell.core.context import Actor, AppContext, ServiceContext

from .conftest import T0, Clock, actor_for, id_number, make_pm, seed_areas

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def world(vol_sqlite):
    _street, (c1, p1), (c2, _p2) = seed_areas(vol_sqlite)
    clock = Clock(T0 + timedelta(days=1))
    with vol_sqlite.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), clock)
        v = sv.register_volunteer(ctx, name="赵敏", id_number=id_number(seq=180), area_id=c1, phone="13800001111")
        s.commit()
        vid = v.id
    app = AppContext(vol_sqlite.session_factory, Actor.system(), make_pm(), clock=clock)
    return dict(db=vol_sqlite, app=app, c1=c1, c2=c2, p1=p1, vid=vid)


def _page(qtbot, app):
    page = VolunteersPage(app)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    return page


def test_register_through_the_form(qtbot, world):
    page = _page(qtbot, world["app"])
    assert page.count_label.text() == "共 1 名志愿者"
    qtbot.mouseClick(page.new_button, LEFT)
    dialog = page.dialog
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.form.error_text("name") == "请填写姓名。"
    dialog.name.setText("钱多多")                         # QTest cannot type Chinese
    good = id_number(birth="19850315", seq=182)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    qtbot.keyClicks(dialog.id_number, bad)
    qtbot.keyClicks(dialog.phone, "12345")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.isVisible() and "校验" in dialog.form.error_text("id_number")
    assert "格式不对" in dialog.form.error_text("phone")         # every error at once, each beside its field
    dialog.id_number.clear()
    qtbot.keyClicks(dialog.id_number, good)
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.form.error_text("phone").startswith("联系电话“12345”格式不对")
    dialog.phone.clear()
    qtbot.keyClicks(dialog.phone, "13900002222")
    dialog.area.setCurrentIndex(dialog.area.findData(world["c2"]))
    dialog.skills.setText("理发，助老陪护")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert not dialog.isVisible()
    assert page.card.name_label.text() == "钱多多" and page.card.fields["area"].text() == "幸福苑社区"
    assert page.card.message.text() == "已登记。"
    with world["db"].session_factory() as s:
        v = s.scalar(select(Volunteer).where(Volunteer.name == "钱多多"))
        assert (v.id_number, v.gender, v.birth_date, v.skills, v.area_id) == (
            good, "男" if int(good[16]) % 2 else "女", date(1985, 3, 15), "理发、助老陪护", world["c2"])
        assert v.number.startswith("ZY")

    # The same ID number again is refused at its field, naming the existing volunteer.
    qtbot.mouseClick(page.new_button, LEFT)
    again = page.dialog
    again.name.setText("钱二")
    qtbot.keyClicks(again.id_number, good)
    qtbot.mouseClick(again.ok_button, LEFT)
    assert again.form.error_text("id_number") == f"身份证号已登记为志愿者“钱多多”（编号 {v.number}），不能重复登记。"


def test_edit_with_conflict_and_deactivate(qtbot, world):
    db, vid = world["db"], world["vid"]
    page = _page(qtbot, world["app"])
    assert page.open_volunteer(vid)
    qtbot.mouseClick(page.card.edit_button, LEFT)
    dialog = page.dialog
    assert dialog.name.text() == "赵敏" and dialog.id_number.text() == ""       # the ID is not shown in full
    dialog.phone.clear()
    qtbot.keyClicks(dialog.phone, "13700003333")
    # Meanwhile another desktop saves the same record.
    with db.session_factory() as s:
        other = actor_for(world["p1"], "volunteer.view", "volunteer.manage", name="李干事")
        sv.update_volunteer(ServiceContext(s, other), vid, address="和平里 5 幢")
        s.commit()
    seen = {}

    def on_conflict():
        from PySide6.QtWidgets import QApplication

        conflict = QApplication.activeModalWidget()
        seen["message"] = conflict.findChild(QLabel, "conflict-message").text()
        qtbot.mouseClick(conflict.compare_button, LEFT)
        table = conflict.table
        seen["rows"] = {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
                        for r in range(table.rowCount())}
        qtbot.mouseClick(conflict.reload_button, LEFT)

    QTimer.singleShot(0, on_conflict)
    qtbot.mouseClick(dialog.ok_button, LEFT)               # the conflict dialog opens (modal)
    assert dialog.isVisible()
    assert "已被李干事" in seen["message"]
    assert seen["rows"]["住址"] == ("", "和平里 5 幢") and seen["rows"]["联系电话"] == ("13700003333", "13800001111")
    assert "身份证号" not in seen["rows"]                    # never the full ID number
    with db.session_factory() as s:
        assert (s.get(Volunteer, vid).phone, s.get(Volunteer, vid).address) == ("13800001111", "和平里 5 幢")
    # 重新载入 took the saved values into the form; the user types the phone again and saves.
    assert dialog.address.text() == "和平里 5 幢" and dialog.phone.text() == "13800001111"
    assert dialog.id_number.text() == ""
    dialog.phone.clear()
    qtbot.keyClicks(dialog.phone, "13700003333")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert not dialog.isVisible() and page.card.fields["phone"].text() == "137****3333"
    with db.session_factory() as s:
        assert (s.get(Volunteer, vid).phone, s.get(Volunteer, vid).address) == ("13700003333", "和平里 5 幢")

    assert page.card.active_button.text() == "停用…"
    qtbot.mouseClick(page.card.active_button, LEFT)
    stop = page.dialog
    qtbot.mouseClick(stop.ok_button, LEFT)
    assert stop.form.error_text("reason") == "请填写停用原因。"
    stop.reason.setText("迁出本街道")
    qtbot.mouseClick(stop.ok_button, LEFT)
    assert page.card.status_label.text() == "（已停用：迁出本街道）"
    assert page.card.active_button.text() == "恢复在册"
    qtbot.mouseClick(page.card.active_button, LEFT)
    assert page.card.status_label.text() == "" and page.card.message.text() == "已恢复在册。"
    with db.session_factory() as s:
        assert s.get(Volunteer, vid).active is True


def test_viewer_cannot_register_or_edit(qtbot, world):
    viewer = AppContext(world["db"].session_factory, actor_for(world["p1"], "volunteer.view"), make_pm())
    page = _page(qtbot, viewer)
    assert not page.new_button.isVisible()
    assert page.open_volunteer(world["vid"])
    assert not page.card.edit_button.isVisible() and not page.card.active_button.isVisible()


def test_adjust_points_from_the_card(qtbot, world):
    db, vid = world["db"], world["vid"]
    page = _page(qtbot, world["app"])
    assert page.open_volunteer(vid)
    assert page.card.fields["points"].text() == "0 分"
    qtbot.mouseClick(page.card.adjust_button, LEFT)
    dialog = page.dialog
    dialog.points.setValue(-5)
    dialog.reason.setText("更正")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.isVisible() and "积分余额不足：当前 0 分，需要 5 分" in dialog.form.error_text("points")
    dialog.points.setValue(12)
    dialog.reason.setText("优秀志愿者奖励")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert not dialog.isVisible()
    assert page.card.fields["points"].text() == "12 分" and page.card.message.text() == "积分已调整，现余 12 分。"
    assert page.card.points_table.item(0, 1).text() == "调整" and page.card.points_table.item(0, 4).text() == "优秀志愿者奖励"
    with db.session_factory() as s:
        assert sv.account(ServiceContext(s, Actor.system()), vid) == (12, 0)        # hours untouched
    viewer = AppContext(db.session_factory, actor_for(world["p1"], "volunteer.view", "volunteer.manage"), make_pm())
    other = _page(qtbot, viewer)
    assert other.open_volunteer(vid) and not other.card.adjust_button.isVisible()
