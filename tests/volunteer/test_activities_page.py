"""The 志愿活动 and 时长审核 pages (pytest-qt, real widgets, real clicks) on a small SQLite database:
create an activity through the form (defaults from the rules, errors at their fields), enrol,
take attendance (sign-in / sign-out at typed times, hours capped and shown), close the activity,
approve hours in bulk, reject with a reason and reverse an approval — each checked against the
ledgers in the database."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from sqlalchemy import func, select

from plugins.volunteer import services as sv
from plugins.volunteer.models import Activity, Attendance, HoursEntry, PointsEntry
from plugins.volunteer.rules import SETTING_BY_KEY
from plugins.volunteer.views.activities import ActivitiesPage
from plugins.volunteer.views.approvals import ApprovalsPage
from plugins.volunteer.views.common import to_qdatetime
from shell.core import settings
from shell.core.context import Actor, AppContext, ServiceContext
from shell.errors import ValidationError

from .conftest import T0, Clock, id_number, make_pm, seed_areas

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def world(vol_sqlite):
    """Two communities, four volunteers in the first, one activity there (09:00–12:00, cap 2 h,
    1 point per hour) with three of them enrolled."""
    _street, (c1, _p1), _c2 = seed_areas(vol_sqlite)
    clock = Clock(T0 + timedelta(hours=4))
    with vol_sqlite.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), clock)
        vols = [sv.register_volunteer(ctx, name=n, id_number=id_number(seq=100 + i), area_id=c1)
                for i, n in enumerate(("赵敏", "钱多多", "孙立", "李想"))]
        team = sv.create_team(ctx, name="银龄互助队", area_id=c1)
        a = sv.create_activity(ctx, name="敬老院陪伴", area_id=c1, team_id=team.id, starts_at=T0,
                               ends_at=T0 + timedelta(hours=3), place="敬老院", leader_name="王队长",
                               cap_minutes=120, points_per_hour=1)
        for v in vols[:3]:
            sv.enrol(ctx, a.id, v.id)
        s.commit()
        ids = {v.name: v.id for v in vols}
        numbers = {v.name: v.number for v in vols}
        aid, tid = a.id, team.id
    app = AppContext(vol_sqlite.session_factory, Actor.system(), make_pm(), clock=clock)
    return dict(db=vol_sqlite, app=app, c1=c1, ids=ids, numbers=numbers, activity=aid, team=tid, clock=clock)


def _page(qtbot, world) -> ActivitiesPage:
    page = ActivitiesPage(world["app"])
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    return page


def _sheet(page) -> dict[str, list[str]]:
    """The attendance sheet as the user sees it, by name."""
    t = page.panel.sheet
    return {t.item(r, 1).text(): [t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())}


def _at(page, dt) -> None:
    page.panel.time_edit.setDateTime(to_qdatetime(dt))


def _attendance(db, activity_id, volunteer_id):
    with db.session_factory() as s:
        return s.scalar(select(Attendance).where(Attendance.activity_id == activity_id,
                                                 Attendance.volunteer_id == volunteer_id))


def test_take_attendance_with_cap_and_close(qtbot, world):
    db, ids, aid = world["db"], world["ids"], world["activity"]
    page = _page(qtbot, world)
    assert page.count_label.text() == "共 1 个活动"
    assert page.select_activity(aid)
    panel = page.panel
    assert panel.title.text() == "敬老院陪伴"
    assert panel.fields["rule"].text() == "每次最多计入 2 小时；每小时计 1 分（审核通过后计入）"
    assert set(_sheet(page)) == {"赵敏", "钱多多", "孙立"}
    assert not panel.sign_in_button.isEnabled()        # nothing selected yet

    # Walk-up enrolment of the fourth volunteer through the picker.
    qtbot.mouseClick(panel.enrol_button, LEFT)
    picker = page.dialog
    qtbot.keyClicks(picker.search, world["numbers"]["李想"])
    picker.search.flush()
    assert picker.results.count() == 1
    picker.results.item(0).setSelected(True)
    qtbot.mouseClick(picker.ok_button, LEFT)
    assert "李想" in _sheet(page) and _sheet(page)["李想"][2] == "已报名"
    assert panel.message.text() == "已报名 1 人。"

    # Two sign in at 08:58, one at 09:20.
    panel.select_volunteers([world["numbers"]["赵敏"], world["numbers"]["钱多多"]])
    assert panel.sign_in_button.isEnabled() and not panel.sign_out_button.isEnabled()
    _at(page, T0 - timedelta(minutes=2))
    qtbot.mouseClick(panel.sign_in_button, LEFT)
    panel.select_volunteers([world["numbers"]["孙立"]])
    _at(page, T0 + timedelta(minutes=20))
    qtbot.mouseClick(panel.sign_in_button, LEFT)
    sheet = _sheet(page)
    assert [sheet[n][2:4] for n in ("赵敏", "钱多多", "孙立")] == [["已签到", "08:58"], ["已签到", "08:58"],
                                                                  ["已签到", "09:20"]]

    # 赵敏 stays 3 h 12 min: 2 h credited (capped); 钱多多 leaves after 1.5 h.
    panel.select_volunteers([world["numbers"]["赵敏"]])
    _at(page, T0 + timedelta(hours=3, minutes=10))
    qtbot.mouseClick(panel.sign_out_button, LEFT)
    assert "赵敏 计入 2 小时（实际 3.2 小时，已按上限封顶）" in panel.message.text()
    panel.select_volunteers([world["numbers"]["钱多多"]])
    _at(page, T0 + timedelta(minutes=88))
    qtbot.mouseClick(panel.sign_out_button, LEFT)
    sheet = _sheet(page)
    assert sheet["赵敏"][2:] == ["已签退", "08:58", "12:10", "3.2", "2（封顶）", "(2)"]
    assert sheet["钱多多"][2:] == ["已签退", "08:58", "10:28", "1.5", "1.5", "(1)"]

    # A sign-out before the sign-in, after the clock (13:00 now) or over an hour after the end
    # (12:00) is refused with the service's message naming the volunteer and the time; nothing changes.
    panel.select_volunteers([world["numbers"]["孙立"]])
    for at, text in ((T0, "孙立的签退时间 09:00 应晚于签到时间 09:20。"),
                     (T0 + timedelta(hours=4, minutes=40), "孙立的签退时间 13:40 晚于当前时间 13:00"),
                     (T0 + timedelta(hours=4, minutes=1), "孙立的签退时间 13:01 晚于当前时间 13:00")):
        _at(page, at)
        qtbot.mouseClick(panel.sign_out_button, LEFT)
        assert panel.message.text().startswith(text)
        assert _sheet(page)["孙立"][2] == "已签到"
    world["clock"].now = T0 + timedelta(hours=5)
    _at(page, T0 + timedelta(hours=4, minutes=1))
    qtbot.mouseClick(panel.sign_out_button, LEFT)
    assert panel.message.text().startswith("孙立的签退时间 13:01 晚于活动结束时间 12:00 超过 60 分钟")
    assert _sheet(page)["孙立"][2] == "已签到"

    # Closing is refused while 孙立 is still signed in.
    qtbot.mouseClick(panel.close_button, LEFT)
    assert "还有 1 人已签到未签退（孙立）" in panel.message.text()
    _at(page, T0 + timedelta(hours=2))
    panel.select_volunteers([world["numbers"]["孙立"]])
    qtbot.mouseClick(panel.sign_out_button, LEFT)
    qtbot.mouseClick(panel.close_button, LEFT)
    assert panel.status_label.text() == "已结束"
    assert not panel.enrol_button.isEnabled() and not panel.close_button.isEnabled()
    panel.select_volunteers([world["numbers"]["李想"]])              # still only enrolled
    assert not panel.sign_in_button.isEnabled()
    with db.session_factory() as s:
        with pytest.raises(ValidationError, match="已结束，不能再签到"):
            sv.sign_in(ServiceContext(s, Actor.system()), aid, ids["李想"], T0)

    # The database: times and capped minutes stored, nothing counted before approval.
    zm = _attendance(db, aid, ids["赵敏"])
    assert (zm.status, zm.raw_minutes, zm.minutes) == ("signed_out", 192, 120)
    assert _attendance(db, aid, ids["钱多多"]).minutes == 90
    assert _attendance(db, aid, ids["孙立"]).minutes == 100
    with db.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(HoursEntry)) == 0
        assert s.get(Activity, aid).status == "closed"
        ctx = ServiceContext(s, Actor.system())
        assert sv.account(ctx, ids["赵敏"]) == (0, 0)


def test_create_and_edit_activity_through_the_form(qtbot, world):
    db = world["db"]
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        settings.set_value(ctx, SETTING_BY_KEY["volunteer.cap_minutes"], 90)
        settings.set_value(ctx, SETTING_BY_KEY["volunteer.points_per_hour"], 10)
        s.commit()
    page = _page(qtbot, world)
    qtbot.mouseClick(page.new_button, LEFT)
    dialog = page.dialog
    assert (dialog.cap.value(), dialog.pph.value()) == (90, 10)      # defaults from the rules
    assert dialog.team.itemText(1) == "银龄互助队"
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.form.error_text("name") == "请填写活动名称。"
    dialog.name.setText("义务理发")     # QTest cannot type Chinese; the rest is clicked
    dialog.ends.setDateTime(dialog.starts.dateTime().addSecs(-3600))
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.isVisible()
    assert "结束时间应晚于开始时间" in dialog.form.general_error.text() + dialog.form.error_text("ends_at")
    dialog.ends.setDateTime(dialog.starts.dateTime().addSecs(2 * 3600))
    dialog.team.setCurrentIndex(1)
    dialog.place.setText("党群服务中心")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert not dialog.isVisible()
    assert page.count_label.text() == "共 2 个活动"
    assert page.panel.title.text() == "义务理发"
    assert page.panel.fields["rule"].text() == "每次最多计入 1.5 小时；每小时计 10 分（审核通过后计入）"
    with db.session_factory() as s:
        a = s.scalar(select(Activity).where(Activity.name == "义务理发"))
        assert (a.cap_minutes, a.points_per_hour, a.team_id, a.place, a.status) == (90, 10, world["team"],
                                                                                   "党群服务中心", "open")
        assert a.ends_at - a.starts_at == timedelta(hours=2)

    # Edit: the new cap shows at once.
    qtbot.mouseClick(page.panel.edit_button, LEFT)
    edit = page.dialog
    assert edit.name.text() == "义务理发" and not edit.area.isEnabled()
    edit.cap.setValue(60)
    qtbot.mouseClick(edit.ok_button, LEFT)
    assert page.panel.fields["rule"].text().startswith("每次最多计入 1 小时")
    with db.session_factory() as s:
        assert s.get(Activity, a.id).cap_minutes == 60


def test_filters_by_team_status_and_dates(qtbot, world):
    db = world["db"]
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), world["clock"])
        for k in range(3):
            sv.create_activity(ctx, name=f"巡逻{k}", area_id=world["c1"], starts_at=T0 + timedelta(days=30 * (k + 1)),
                               ends_at=T0 + timedelta(days=30 * (k + 1), hours=2))
        s.commit()
    page = _page(qtbot, world)
    assert page.count_label.text() == "共 4 个活动"
    page.team_filter.setCurrentIndex(page.team_filter.findData(world["team"]))
    assert page.count_label.text() == "共 1 个活动"
    page.team_filter.setCurrentIndex(0)
    page.date_check.setChecked(True)
    page.date_from.setDate(to_qdatetime(T0 + timedelta(days=25)).date())
    page.date_to.setDate(to_qdatetime(T0 + timedelta(days=65)).date())
    assert page.count_label.text() == "共 2 个活动"
    names = [page.table.item(r, 1).text() for r in range(page.table.rowCount())]
    assert names == ["巡逻1", "巡逻0"]                      # latest start first
    page.date_check.setChecked(False)
    page.status_filter.setCurrentIndex(page.status_filter.findData("closed"))
    assert page.count_label.text() == "共 0 个活动"


# ------------------------------------------------------------------------------- approval queue

@pytest.fixture
def signed_out(world):
    """All three enrolled volunteers signed out: 赵敏 3 h (2 h credited), 钱多多 1.5 h, 孙立 1 h."""
    db, ids, aid = world["db"], world["ids"], world["activity"]
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), world["clock"])
        for name, minutes in (("赵敏", 180), ("钱多多", 90), ("孙立", 60)):
            sv.record_attendance(ctx, aid, ids[name], T0, T0 + timedelta(minutes=minutes))
        s.commit()
        atts = {name: _attendance(db, aid, ids[name]).id for name in ("赵敏", "钱多多", "孙立")}
    return atts


def _approvals(qtbot, world) -> ApprovalsPage:
    page = ApprovalsPage(world["app"])
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    return page


def _names(page) -> list[str]:
    return sorted(page.model.row_object(r)[1].name for r in range(page.model.rowCount()))


def test_bulk_approve_reject_and_reverse(qtbot, world, signed_out):
    db, ids = world["db"], world["ids"]
    page = _approvals(qtbot, world)
    assert page.count_label.text() == "待审核 3 条"
    assert not page.approve_button.isEnabled()
    page.select_ids([signed_out["赵敏"], signed_out["钱多多"]])
    page.quality.setCurrentIndex(page.quality.findData("优秀"))
    qtbot.mouseClick(page.approve_button, LEFT)
    assert page.message.text() == "已审核通过 2 条，时长和积分已计入。"
    assert _names(page) == ["孙立"] and page.count_label.text() == "待审核 1 条"
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        assert sv.account(ctx, ids["赵敏"]) == (2, 120)      # capped hours, 1 point per hour
        assert sv.account(ctx, ids["钱多多"]) == (1, 90)
        assert s.get(Attendance, signed_out["赵敏"]).quality == "优秀"

    # 孙立 is rejected with a reason (the reason is required).
    page.select_ids([signed_out["孙立"]])
    qtbot.mouseClick(page.reject_button, LEFT)
    dialog = page.dialog
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.form.error_text("reason") == "请填写原因。"
    dialog.reason.setText("未实际参加")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert page.message.text() == "已将 1 条记录标为不予计入。"
    assert page.count_label.text() == "待审核 0 条"
    page.rejected_radio.setChecked(True)
    assert _names(page) == ["孙立"]

    # A mistaken approval is reversed: new entries in both ledgers, the record waits again.
    page.approved_radio.setChecked(True)
    assert _names(page) == ["赵敏", "钱多多"]
    page.select_ids([signed_out["赵敏"]])
    assert page.reverse_button.isEnabled()
    qtbot.mouseClick(page.reverse_button, LEFT)
    page.dialog.reason.setText("签退时间登记错误")
    qtbot.mouseClick(page.dialog.ok_button, LEFT)
    assert page.message.text() == "已冲正“赵敏”在“敬老院陪伴”的 2 小时、2 分，记录回到待审核。"
    assert _names(page) == ["钱多多"]
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        assert sv.account(ctx, ids["赵敏"]) == (0, 0)
        hours = [(e.kind, e.minutes) for e in s.scalars(select(HoursEntry).where(HoursEntry.volunteer_id == ids["赵敏"])
                                                         .order_by(HoursEntry.id))]
        points = [(e.kind, e.points) for e in s.scalars(select(PointsEntry).where(PointsEntry.volunteer_id == ids["赵敏"])
                                                         .order_by(PointsEntry.id))]
        assert hours == [("approve", 120), ("reverse", -120)]
        assert points == [("earn", 2), ("reverse", -2)]
        assert s.get(Attendance, signed_out["赵敏"]).status == "signed_out"
        assert sv.check_consistency(s) == []
    page.pending_radio.setChecked(True)
    assert _names(page) == ["赵敏"]


def test_reversal_refused_when_points_were_spent(qtbot, world, signed_out):
    db, ids = world["db"], world["ids"]
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), world["clock"])
        sv.approve(ctx, [signed_out["赵敏"]])
        item = sv.create_item(ctx, name="毛巾", area_id=world["c1"], points_price=2, stock=5)
        sv.redeem(ctx, ids["赵敏"], {item.id: 1})
        s.commit()
    page = _approvals(qtbot, world)
    page.approved_radio.setChecked(True)
    page.select_ids([signed_out["赵敏"]])
    qtbot.mouseClick(page.reverse_button, LEFT)
    dialog = page.dialog
    dialog.reason.setText("登记错误")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.isVisible()                          # refused: the dialog stays with the message
    assert "积分余额不足" in dialog.form.general_error.text() + dialog.form.error_text("reason")
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        assert sv.account(ctx, ids["赵敏"]) == (0, 120)
        assert s.get(Attendance, signed_out["赵敏"]).status == "approved"
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()


def test_import_attendance_sheet_from_the_page(qtbot, world, tmp_path, monkeypatch):
    from openpyxl import Workbook
    from PySide6.QtWidgets import QFileDialog

    from plugins.volunteer.views.activities import ImportErrorsDialog

    db, n, aid = world["db"], world["numbers"], world["activity"]
    wb = Workbook()
    ws = wb.active
    ws.append(["活动编号", "志愿者编号", "姓名", "签到时间", "签退时间"])
    ws.append([aid, n["赵敏"], "赵敏", "09:00", "11:30"])
    ws.append([aid, n["钱多多"], "", "10:00", "09:00"])
    path = tmp_path / "签到表.xlsx"
    wb.save(path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    page = _page(qtbot, world)
    page.select_activity(aid)
    assert page.panel.fields["number"].text().startswith(str(aid))
    qtbot.mouseClick(page.import_button, LEFT)
    qtbot.waitUntil(lambda: isinstance(page.dialog, ImportErrorsDialog), timeout=10000)
    errors = page.dialog
    assert errors.table.rowCount() == 1
    assert [errors.table.item(0, c).text() for c in (0, 1, 3)] == ["3", "签退时间",
                                                                   "钱多多的签退时间 09:00 应晚于签到时间 10:00。"]
    assert page.import_message.text() == "签到表有 1 处错误，未导入任何数据。"
    assert _attendance(db, aid, world["ids"]["赵敏"]).status == "enrolled"      # nothing written yet
    assert errors.valid_button.text() == "只导入正确的 1 行"
    qtbot.mouseClick(errors.valid_button, LEFT)
    qtbot.waitUntil(lambda: page.import_message.text().startswith("已从"), timeout=10000)
    assert page.import_message.text() == "已从“签到表.xlsx”导入 1 条签到签退记录，跳过 1 处错误，等待时长审核。"
    assert _sheet(page)["赵敏"][2:7] == ["已签退", "09:00", "11:30", "2.5", "2（封顶）"]
    att = _attendance(db, aid, world["ids"]["赵敏"])
    assert (att.status, att.raw_minutes, att.minutes) == ("signed_out", 150, 120)
