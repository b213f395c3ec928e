"""应急队伍与值班 page through the real widgets (pytest-qt): the team-size check against the norm,
creating a team, adding members (bad phone refused at its field), a member leaving, the roster
printed, and the duty roster week by week with its gaps."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from plugins.emergency import services as sv
from plugins.emergency.models import DutyShift, TeamMember
from plugins.emergency.views import teams as teams_view
from plugins.emergency.views.teams import DutyDialog, MemberDialog, TeamDialog, TeamsPage
from shell.core.context import AppContext
from shell.core.models import Area
from shell.core.settings import set_value

from .conftest import TODAY, clock_at, scoped_actor

MONDAY = TODAY - timedelta(days=TODAY.weekday())


@pytest.fixture
def path(world):
    ctx = world.ctx()
    team = sv.create_team(ctx, world.street, "和平街道综合应急救援队", "comprehensive", "张队长", "13800000000")
    for i in range(48):
        sv.add_member(ctx, team.id, f"队员{i:02d}", f"139{i:08d}", "搜救")
    sv.set_duty(ctx, world.street, MONDAY, "full", "王主任", "李明、张强", "13800001111")
    sv.set_duty(ctx, world.street, MONDAY + timedelta(days=1), "day", "王主任", "赵亮")
    ctx.session.commit()
    with world.db.session_factory() as s:
        return s.get(Area, world.street).path


def make_page(qtbot, world, path, *perms):
    app = AppContext(world.db.session_factory, scoped_actor(path, *perms), clock=clock_at(TODAY))
    page = TeamsPage(app)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    return page


@pytest.fixture
def page(qtbot, world, path):
    return make_page(qtbot, world, path, "emergency.view", "emergency.team.manage")


def click(qtbot, w):
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton)


def test_team_size_check_and_members(qtbot, world, page, monkeypatch):
    assert page.norm_label.text() == "和平街道综合应急救援队伍现有 48 人，规范要求不少于 50 人，还差 2 人。"
    assert page.members.rowCount() == 48 and page.members.item(0, 1).text() == "139****0000"
    click(qtbot, page.add_member_button)
    d = page.dialog
    assert isinstance(d, MemberDialog)
    d.name.setText("新队员")
    d.phone.setText("12345")
    click(qtbot, d.ok_button)
    assert d.isVisible() and d.form.error_text("phone").startswith("联系电话“12345”格式不正确")
    d.phone.setText("13900000048")
    d.certificates.setText("红十字救护员证")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    d = page.open_add_member()
    d.name.setText("另一名")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    assert page.norm_label.text() == "和平街道综合应急救援队伍现有 50 人，规范要求不少于 50 人，达标。"
    assert page.teams.item(0, 4).text() == "50"
    monkeypatch.setattr(teams_view, "confirm", lambda *_a: True)
    page.members.selectRow(0)
    click(qtbot, page.remove_member_button)
    assert "还差 1 人" in page.norm_label.text() and page.members.rowCount() == 49
    with world.db.session_factory() as s:
        assert s.query(TeamMember).filter_by(active=False).count() == 1      # history kept


def test_new_team_and_norm_setting(qtbot, world, page):
    click(qtbot, page.new_team_button)
    d = page.dialog
    assert isinstance(d, TeamDialog)
    d.name.setText("东湖社区应急志愿者队")
    d.area.setCurrentText("东湖社区")
    d.kind.setCurrentText("志愿者队伍")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    assert page.teams.rowCount() == 2 and page.members.rowCount() == 0
    assert page.members_title.text().startswith("东湖社区应急志愿者队：0 名队员")
    ctx = world.ctx()
    set_value(ctx, sv._SETTING["emergency.team_size_norm"], 40)
    ctx.session.commit()
    page.reload()
    assert page.norm_label.text().endswith("规范要求不少于 40 人，达标。")


def test_duty_roster_week_gaps_and_editing(qtbot, world, page, monkeypatch):
    page.tabs.setCurrentIndex(1)
    assert page.duty_area.currentText() == "和平街道"
    assert [page.duty.item(r, 1).text() for r in range(page.duty.rowCount())] == ["全天", "白班"]
    assert page.gaps_label.text().startswith(f"本周值班缺口：{MONDAY + timedelta(days=1):%m-%d}（周二）缺夜班，")
    click(qtbot, page.duty_add)
    d = page.dialog
    assert isinstance(d, DutyDialog)
    d.day.setDate(MONDAY + timedelta(days=1))
    d.shift.setCurrentText("全天")
    d.leader.setText("王主任")
    d.staff.setText("孙立")
    click(qtbot, d.ok_button)                                  # 全天 clashes with the 白班 already there
    assert d.isVisible() and "已排“白班”，不能再排“全天”" in d.form.error_text("shift")
    d.shift.setCurrentText("夜班")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    assert page.duty.rowCount() == 3 and "缺夜班" not in page.gaps_label.text()
    page.duty.selectRow(0)
    click(qtbot, page.duty_edit)
    d = page.dialog
    assert d.staff.text() == "李明、张强" and not d.day.isEnabled()
    d.staff.setText("李明")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    assert page.duty.item(0, 3).text() == "李明"
    monkeypatch.setattr(teams_view, "confirm", lambda *_a: True)
    page.duty.selectRow(0)
    click(qtbot, page.duty_remove)
    assert page.duty.rowCount() == 2
    click(qtbot, page.next_week)
    assert page.duty.rowCount() == 0 and page.gaps_label.text().count("无人值班") == 7
    click(qtbot, page.this_week)
    assert page.duty.rowCount() == 2
    click(qtbot, page.duty_print)
    pd = page.print_dialog
    qtbot.waitUntil(lambda: pd.result is not None or "失败" in pd.status.text(), timeout=30000)
    assert pd.result is not None and pd.result.rows == 2 and pd.windowTitle() == "应急值班表"
    pd.reject()
    with world.db.session_factory() as s:
        assert s.query(DutyShift).count() == 2


def test_viewer_sees_but_cannot_change_and_prints_roster(qtbot, world, path):
    viewer = make_page(qtbot, world, path, "emergency.view")
    assert not viewer.new_team_button.isEnabled() and not viewer.add_member_button.isEnabled()
    assert not viewer.duty_add.isEnabled() and "emergency.team.manage" in viewer.duty_add.toolTip()
    click(qtbot, viewer.print_button)
    pd = viewer.print_dialog
    qtbot.waitUntil(lambda: pd.result is not None or "失败" in pd.status.text(), timeout=30000)
    assert pd.result is not None and pd.result.rows == 48
    pd.reject()
