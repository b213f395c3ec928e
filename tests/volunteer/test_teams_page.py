"""The 志愿队伍 page (pytest-qt, real widgets): create a team through the form (required name,
duplicate refused at its field), add volunteers with a role through the picker, take one off the
team (membership closed, history kept), edit and deactivate the team — checked in the database."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from plugins.volunteer import services as sv
from plugins.volunteer.models import Team, TeamMembership
from plugins.volunteer.views.teams import TeamsPage
from shell.core.context import Actor, AppContext, ServiceContext

from .conftest import T0, Clock, actor_for, id_number, make_pm, seed_areas

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def world(vol_sqlite):
    _street, (c1, p1), _c2 = seed_areas(vol_sqlite)
    clock = Clock(T0 + timedelta(days=3))
    with vol_sqlite.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), clock)
        vols = [sv.register_volunteer(ctx, name=n, id_number=id_number(seq=170 + i), area_id=c1)
                for i, n in enumerate(("赵敏", "钱多多", "孙立"))]
        old = sv.create_team(ctx, name="平安巡防队", area_id=c1)
        sv.add_member(ctx, old.id, vols[0].id, "队长")
        s.commit()
        numbers = {v.name: v.number for v in vols}
        ids = {v.name: v.id for v in vols}
    app = AppContext(vol_sqlite.session_factory, Actor.system(), make_pm(), clock=clock)
    return dict(db=vol_sqlite, app=app, c1=c1, p1=p1, numbers=numbers, ids=ids, clock=clock)


def _members(page):
    t = page.member_table
    return {t.item(r, 1).text(): t.item(r, 2).text() for r in range(t.rowCount())}


def test_create_team_add_and_remove_members(qtbot, world):
    db = world["db"]
    page = TeamsPage(world["app"])
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    assert page.count_label.text() == "共 1 支队伍"
    assert page.teams.item(0, 4).text() == "1"

    qtbot.mouseClick(page.new_button, LEFT)
    dialog = page.dialog
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.form.error_text("name") == "请填写队伍名称。"
    dialog.name.setText("平安巡防队")                 # QTest cannot type Chinese
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.isVisible() and dialog.form.error_text("name") == "“和平里社区”已有名为“平安巡防队”的志愿队伍。"
    dialog.name.setText("银龄互助队")
    dialog.leader.setText("钱多多")
    qtbot.keyClicks(dialog.phone, "13900001111")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert not dialog.isVisible()
    assert page.count_label.text() == "共 2 支队伍"
    assert page.current().name == "银龄互助队" and page.team_title.text() == "银龄互助队（和平里社区）"
    assert page.teams.item(page.teams.currentRow(), 3).text() == "139****1111"       # masked in the list

    # Two volunteers join as 副队长 through the picker (found by 志愿者编号).
    for name in ("钱多多", "孙立"):
        qtbot.mouseClick(page.add_button, LEFT)
        picker = page.dialog
        qtbot.keyClicks(picker.search, world["numbers"][name])
        picker.search.flush()
        assert picker.results.count() == 1
        picker.results.item(0).setSelected(True)
        picker.role.setCurrentIndex(picker.role.findData("副队长" if name == "钱多多" else "队员"))
        qtbot.mouseClick(picker.ok_button, LEFT)
    assert _members(page) == {"钱多多": "副队长", "孙立": "队员"}
    assert page.teams.item(page.teams.currentRow(), 4).text() == "2"

    page.select_members(["孙立"])
    assert page.remove_button.isEnabled()
    qtbot.mouseClick(page.remove_button, LEFT)
    assert _members(page) == {"钱多多": "副队长"}
    assert page.message.text().startswith("已将 孙立 移出队伍")
    with db.session_factory() as s:
        team = s.scalar(select(Team).where(Team.name == "银龄互助队"))
        rows = {(m.volunteer_id, m.role, m.left_on) for m in
                s.scalars(select(TeamMembership).where(TeamMembership.team_id == team.id))}
        today = world["clock"]().date()
        assert rows == {(world["ids"]["钱多多"], "副队长", None), (world["ids"]["孙立"], "队员", today)}
        assert (team.leader_name, team.phone) == ("钱多多", "13900001111")

    # Deactivating the team: no more members can be added.
    qtbot.mouseClick(page.edit_button, LEFT)
    edit = page.dialog
    assert edit.name.text() == "银龄互助队" and not edit.area.isEnabled()
    qtbot.mouseClick(edit.active, LEFT)
    qtbot.mouseClick(edit.ok_button, LEFT)
    assert page.team_title.text().endswith("· 已停用")
    assert not page.add_button.isEnabled()
    with db.session_factory() as s:
        assert s.scalar(select(Team.active).where(Team.name == "银龄互助队")) is False


def test_viewer_sees_teams_without_edit_buttons(qtbot, world):
    viewer = AppContext(world["db"].session_factory, actor_for(world["p1"], "volunteer.view"), make_pm())
    page = TeamsPage(viewer)
    qtbot.addWidget(page)
    page.show()
    assert page.count_label.text() == "共 1 支队伍"
    assert not page.new_button.isVisible() and not page.add_button.isVisible()
    page.teams.setCurrentCell(0, 0)
    assert _members(page) == {"赵敏": "队长"}
