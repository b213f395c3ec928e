"""Correcting a recorded meeting (topic, minutes, attendance) with optimistic locking, audited —
through the service and through the real widgets (the 三会一课 page's 修改 button, the shared
conflict dialog)."""
from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from plugins.partybuilding import services as svc
from plugins.partybuilding.models import Attendance, Meeting
from plugins.partybuilding.views.meetings_page import ABSENT, NOT_LISTED, PRESENT, MeetingsPage
from shell.core.models import AuditLog
from shell.errors import ConflictError, ValidationError

HELD = date(2026, 10, 12)


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.fixture
def meeting(world, tree):
    """A 主题党日 of 东风二网格党支部 with three members: 甲 and 乙 present, 丙 absent."""
    c = world.ctx
    ms = [world.member(tree.b2, name=n, joined_on=date(2026, 1, 1)) for n in ("甲", "乙", "丙")]
    mt = svc.record_meeting(c, tree.b2.id, "theme_day", HELD, "10月主题党日", host="书记", minutes="学习。",
                            attendance=[(ms[0].id, True), (ms[1].id, True), (ms[2].id, False, "出差")])
    world.session.commit()
    return mt, ms


@pytest.fixture
def conflict_dialogs(qtbot):
    """Answers the shell's modal conflict dialog (it runs its own event loop): records what it showed,
    then presses ``answer["button"]`` ("keep" = 返回继续编辑, "reload" = 重新载入)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel

    seen: list[dict] = []
    answer = {"button": "keep", "seen": seen}

    def poll():
        for w in QApplication.topLevelWidgets():
            if w.objectName() == "conflict-dialog" and w.isVisible():
                t = w.table
                seen.append({"message": w.findChild(QLabel, "conflict-message").text(),
                             "rows": [tuple(t.item(r, c).text() for c in range(3)) for r in range(t.rowCount())]})
                (w.reload_button if answer["button"] == "reload" else w.keep_button).click()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(30)
    yield answer
    timer.stop()


def attendance(world, meeting_id):
    with world.db.session_factory() as s:
        return {(a.member_id, a.present, a.absence_reason)
                for a in s.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id))}


def test_update_meeting_service(world, tree, meeting):
    mt, (a, b, c) = meeting
    v = mt.version_id
    ctx = world.as_actor(world.ctx.actor)
    svc.update_meeting(ctx, mt.id, topic="10月主题党日：学习党章", minutes="学习党章第一章。", host="书记",
                       attendance=[(a.id, True), (b.id, False, "生病")], expected_version=v)   # 丙 taken off the list
    ctx.session.commit()
    assert attendance(world, mt.id) == {(a.id, True, None), (b.id, False, "生病")}
    with world.db.session_factory() as s:
        saved = s.get(Meeting, mt.id)
        assert (saved.topic, saved.minutes, saved.version_id) == ("10月主题党日：学习党章", "学习党章第一章。", v + 1)
        audit = {(e.entity, e.action) for e in s.scalars(select(AuditLog).where(AuditLog.id > 0))}
    assert {("partybuilding_meetings", "update"), ("partybuilding_attendance", "update"),
            ("partybuilding_attendance", "delete")} <= audit
    # The attendance alone changed: the version moves on all the same, so a stale editor conflicts.
    svc.update_meeting(ctx, mt.id, topic="10月主题党日：学习党章", minutes="学习党章第一章。", host="书记",
                       attendance=[(a.id, True), (b.id, True), (c.id, True)], expected_version=v + 1)
    ctx.session.commit()
    assert ctx.session.get(Meeting, mt.id).version_id == v + 2
    with pytest.raises(ConflictError, match="已被.*修改"):
        svc.update_meeting(ctx, mt.id, topic="旧的编辑", attendance=[], expected_version=v + 1)
    ctx.session.rollback()
    with pytest.raises(ValidationError, match="缺席原因"):
        svc.update_meeting(ctx, mt.id, topic="x", attendance=[(a.id, False, " ")])
    with pytest.raises(ValidationError, match="会议主题"):
        svc.update_meeting(ctx, mt.id, topic=" ", attendance=[])
    ctx.session.close()


def open_editor(qtbot, world, tree, app):
    page = MeetingsPage(app)
    qtbot.addWidget(page)
    page.year.setValue(2026)
    assert not page.edit_button.isEnabled()
    page.table.selectRow(0)
    assert page.edit_button.isEnabled()
    click(qtbot, page.edit_button)
    return page, page.dialog


def test_edit_meeting_through_the_page(world, tree, meeting, app, qtbot):
    mt, (a, b, c) = meeting
    page, d = open_editor(qtbot, world, tree, app)
    assert d.windowTitle() == "修改会议记录" and d.expected_version == mt.version_id
    f = d.form
    assert f.value("topic") == "10月主题党日" and f.value("minutes") == "学习。" and f.value("host") == "书记"
    assert not f.fields["org_id"].isEnabled() and not f.fields["held_on"].isEnabled()
    assert f.value("kind") == "theme_day" and f.value("held_on") == HELD
    t = d.attendance
    states = {t.item(r, 0).text(): (t.cellWidget(r, 2).currentText(), t.item(r, 3).text()) for r in range(t.rowCount())}
    assert states == {"甲": (PRESENT, ""), "乙": (PRESENT, ""), "丙": (ABSENT, "出差")}
    # 乙 absent without a reason: refused at the field, nothing saved.
    t.set_state(t.row_of("乙"), ABSENT, "")
    click(qtbot, d.ok_button)
    assert d.isVisible() and "缺席原因" in f.error_text("attendance")
    t.set_state(t.row_of("乙"), ABSENT, "生病")
    t.set_state(t.row_of("丙"), NOT_LISTED)
    f.set_value("topic", "10月主题党日：学习党章")
    f.set_value("minutes", "学习党章第一章。")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    assert attendance(world, mt.id) == {(a.id, True, None), (b.id, False, "生病")}
    with world.db.session_factory() as s:
        saved = s.get(Meeting, mt.id)
        assert (saved.topic, saved.minutes, saved.version_id) == ("10月主题党日：学习党章", "学习党章第一章。",
                                                                  mt.version_id + 1)
        entries = list(s.scalars(select(AuditLog).where(AuditLog.entity == "partybuilding_meetings",
                                                        AuditLog.action == "update")))
        assert entries and entries[-1].after["topic"] == "10月主题党日：学习党章"
    # The list shows the correction.
    assert page.table.item(0, 3).text() == "10月主题党日：学习党章" and page.table.item(0, 7).text() == "1"
    assert page.table.item(0, 8).text() == "乙（生病）"


def test_edit_meeting_conflict_compare_and_reload(world, tree, meeting, app, qtbot, conflict_dialogs):
    mt, (a, b, c) = meeting
    page, d = open_editor(qtbot, world, tree, app)
    other = world.as_actor(world.ctx.actor)                       # another desktop saves first
    svc.update_meeting(other, mt.id, topic="10月主题党日（他人更正）", minutes="他人写的记录。", host="书记",
                       attendance=[(a.id, True), (b.id, True), (c.id, True)], expected_version=mt.version_id)
    other.session.commit()
    other.session.close()
    d.form.set_value("minutes", "我写的记录。")
    click(qtbot, d.ok_button)                                     # answered "返回继续编辑"
    assert d.isVisible() and "可以对比双方的内容" in d.form.general_error.text()
    seen = conflict_dialogs["seen"]
    assert len(seen) == 1
    rows = {label: (mine, theirs) for label, mine, theirs in seen[0]["rows"]}
    assert rows["会议主题"] == ("10月主题党日", "10月主题党日（他人更正）")
    assert rows["会议记录"] == ("我写的记录。", "他人写的记录。")
    with world.db.session_factory() as s:
        assert s.get(Meeting, mt.id).minutes == "他人写的记录。"     # nothing overwritten
    conflict_dialogs["button"] = "reload"
    click(qtbot, d.ok_button)
    f, t = d.form, d.attendance
    assert f.value("topic") == "10月主题党日（他人更正）" and f.value("minutes") == "他人写的记录。"
    assert t.cellWidget(t.row_of("丙"), 2).currentText() == PRESENT  # the attendance reloaded too
    assert d.expected_version == mt.version_id + 1
    f.set_value("minutes", "他人写的记录。补充：集中学习一小时。")
    with qtbot.waitSignal(d.accepted):                            # saved against the reloaded version
        click(qtbot, d.ok_button)
    with world.db.session_factory() as s:
        saved = s.get(Meeting, mt.id)
        assert saved.minutes == "他人写的记录。补充：集中学习一小时。" and saved.version_id == mt.version_id + 2
