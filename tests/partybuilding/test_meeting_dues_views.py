"""GUI: record a 支委会 with attendance in the meeting recorder (quorum, reasons, the list and the
compliance page follow), and the 党费收缴 page (dues by bracket, record, the 6-months flag)."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import QItemSelectionModel, Qt

from plugins.partybuilding import services as svc
from plugins.partybuilding.models import Attendance, DuesPayment, Meeting
from plugins.partybuilding.views.compliance_page import CompliancePage
from plugins.partybuilding.views.dues_page import DuesPage
from plugins.partybuilding.views.meetings_page import ABSENT, PRESENT, MeetingsPage


def ok(qtbot, dialog):
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def wait_loaded(qtbot, page):
    """The 党费收缴 sheet is read on the thread pool."""
    qtbot.waitUntil(lambda: not page.loading, timeout=10000)


def test_record_committee_meeting_with_attendance(world, tree, app, qtbot):
    for name in ("书记甲", "委员乙", "委员丙", "党员丁"):
        world.member(tree.b1, name=name, joined_on=date(2020, 1, 1))
    world.member(tree.g1, name="小组戊", joined_on=date(2020, 1, 1))
    world.session.commit()
    page = MeetingsPage(app)
    qtbot.addWidget(page)
    page.org.setCurrentIndex(page.org.findData(tree.b1.id))
    qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)
    dlg = page.dialog
    f = dlg.form.fields
    kinds = [f["kind"].itemText(i) for i in range(f["kind"].count())]
    assert "支委会" in kinds and "党小组会" not in kinds      # the branch has a committee, it is no group
    f["kind"].setCurrentIndex(f["kind"].findData("committee"))
    f["held_on"].setDate(date(2026, 10, 12))
    att = dlg.attendance
    assert sorted(att.item(r, 0).text() for r in range(att.rowCount())) == sorted(["书记甲", "委员乙", "委员丙", "党员丁",
                                                                                  "小组戊"])
    assert all(att.cellWidget(r, 2).currentText() == "不列入" for r in range(att.rowCount()))
    f["topic"].setText("研究10月主题党日安排")
    f["host"].setText("书记甲")
    f["recorder"].setText("委员乙")
    att.set_state(att.row_of("书记甲"), PRESENT)
    att.set_state(att.row_of("委员乙"), PRESENT)
    att.set_state(att.row_of("委员丙"), ABSENT)
    f["minutes"].setPlainText("一、传达上级精神；二、研究主题党日。")
    ok(qtbot, dlg)
    assert dlg.isVisible() and "委员丙缺席，请填写缺席原因" in dlg.form.error_text("attendance")
    att.set_state(att.row_of("委员丙"), ABSENT, "外出培训")
    ok(qtbot, dlg)
    assert not dlg.isVisible() and dlg.quorum      # 2 of a committee of 3
    with world.db.session_factory() as s:
        mt = s.get(Meeting, dlg.meeting_id)
        assert (mt.kind, mt.held_on, mt.host, mt.minutes) == ("committee", date(2026, 10, 12), "书记甲",
                                                              "一、传达上级精神；二、研究主题党日。")
        rows = {(a.member_id, a.present, a.absence_reason) for a in s.query(Attendance).filter_by(meeting_id=mt.id)}
        assert len(rows) == 3
    assert page.table.rowCount() == 1
    assert [page.table.item(0, c).text() for c in (0, 2, 6, 7, 8)] == ["2026-10-12", "支委会", "3", "2", "委员丙（外出培训）"]
    # Double-click shows the record as kept.
    page.table.cellDoubleClicked.emit(0, 3)
    detail = page.detail
    assert detail.isVisible() and detail.summary.text() == "应到 3 人，实到 2 人"
    assert detail.attendance.column_texts(2).count("出席") == 2 and "外出培训" in detail.attendance.column_texts(3)
    assert detail.minutes.toPlainText() == "一、传达上级精神；二、研究主题党日。"
    detail.close()
    # The compliance page no longer lists the October 支委会 as missing.
    comp = CompliancePage(app)
    qtbot.addWidget(comp)
    comp.period.setCurrentIndex(comp.period.findText("10月"))
    qtbot.waitUntil(lambda: not comp.loading, timeout=5000)
    shown = {(comp.table.item(r, 0).text(), comp.table.item(r, 1).text()) for r in range(comp.table.rowCount())}
    assert ("中共东风社区委员会 / 东风一网格党支部", "支委会") not in shown
    assert ("中共东风社区委员会 / 东风一网格党支部", "主题党日") in shown


def test_committee_without_quorum_is_marked(world, tree, app, qtbot):
    ids = [world.member(tree.b1, name=n, joined_on=date(2020, 1, 1)).id for n in ("甲", "乙", "丙")]
    world.session.commit()
    page = MeetingsPage(app)
    qtbot.addWidget(page)
    dlg = page.open_recorder()
    f = dlg.form.fields
    f["org_id"].setCurrentIndex(f["org_id"].findData(tree.b1.id))
    f["kind"].setCurrentIndex(f["kind"].findData("committee"))
    f["held_on"].setDate(date(2026, 11, 3))
    f["topic"].setText("支委会")
    dlg.attendance.set_state(dlg.attendance.row_of("甲"), PRESENT)
    dlg.attendance.set_state(dlg.attendance.row_of("乙"), ABSENT, "病假")
    dlg.attendance.set_state(dlg.attendance.row_of("丙"), ABSENT, "出差")
    ok(qtbot, dlg)
    assert not dlg.isVisible() and dlg.quorum is False
    assert page.table.item(0, 2).text() == "支委会（未过半）"
    assert len(ids) == 3


def test_dues_page_brackets_record_and_flag(world, tree, app, qtbot):
    c = world.ctx
    a = world.member(tree.b2, name="甲在职", income_fen=300000, joined_on=date(2026, 1, 1))    # 3000 元: 0.5 %
    b = world.member(tree.b2, name="乙在职", income_fen=300001, joined_on=date(2026, 1, 1))    # just above: 1 %
    r = world.member(tree.b2, name="丙退休", category="retired", income_fen=500000, joined_on=date(2026, 1, 1))
    lazy = world.member(tree.b2, name="丁欠交", income_fen=1000000, joined_on=date(2026, 1, 1))  # 10000: 1.5 %
    for m in (a, b, r):
        for mo in range(1, 11):
            svc.record_payment(c, m.id, f"2026-{mo:02d}", None, date(2026, mo, 20))
    for mo in range(1, 6):
        svc.record_payment(c, lazy.id, f"2026-{mo:02d}", None, date(2026, mo, 20))
    world.session.commit()
    page = DuesPage(app)
    qtbot.addWidget(page)
    page.org.setCurrentIndex(page.org.findData(tree.b2.id))
    assert page.loading and "正在读取" in page.summary.text() and not page.pay_button.isEnabled()
    wait_loaded(qtbot, page)
    assert page.month_text() == "2026-11"
    by_name = {page.table.item(i, 0).text(): i for i in range(page.table.rowCount())}
    assert page.table.item(by_name["甲在职"], 4).text() == "15.00"
    assert page.table.item(by_name["乙在职"], 4).text() == "30.00"
    assert page.table.item(by_name["丙退休"], 4).text() == "25.00"
    assert page.table.item(by_name["丁欠交"], 4).text() == "150.00"
    row = by_name["丁欠交"]
    assert page.table.item(row, 7).text() == "6" and "连续 6 个月" in page.table.item(row, 8).text()
    assert "连续 6 个月以上未交 1 人" in page.summary.text()
    # Record November for 甲 and 乙 together.
    sel = page.table.selectionModel()
    for name in ("甲在职", "乙在职"):
        sel.select(page.table.model().index(by_name[name], 0),
                   QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    assert page.pay_button.isEnabled()
    qtbot.mouseClick(page.pay_button, Qt.MouseButton.LeftButton)
    dlg = page.dialog
    assert not dlg.form.fields["amount_fen"].isEnabled()
    ok(qtbot, dlg)
    assert not dlg.isVisible()
    wait_loaded(qtbot, page)
    with world.db.session_factory() as s:
        got = {(p.member_id, p.amount_fen) for p in s.query(DuesPayment).filter_by(month="2026-11")}
    assert got == {(a.id, 1500), (b.id, 3000)}
    assert "已交 2 人 45.00 元" in page.summary.text()
    # One member with a custom amount; a bad amount is refused at the field.
    page.table.clearSelection()
    by_name = {page.table.item(i, 0).text(): i for i in range(page.table.rowCount())}
    page.table.selectRow(by_name["丁欠交"])
    dlg = page.pay_selected()
    assert dlg.form.fields["amount_fen"].text() == "150.00"
    dlg.form.fields["amount_fen"].setText("abc")
    ok(qtbot, dlg)
    assert "应为金额" in dlg.form.error_text("amount_fen")
    dlg.form.fields["amount_fen"].setText("200")
    ok(qtbot, dlg)
    wait_loaded(qtbot, page)
    by_name = {page.table.item(i, 0).text(): i for i in range(page.table.rowCount())}
    assert page.table.item(by_name["丁欠交"], 5).text() == "200.00" and page.table.item(by_name["丁欠交"], 8).text() == ""


def test_frequency_rules_dialog_changes_compliance(world, tree, app, qtbot):
    comp = CompliancePage(app)
    qtbot.addWidget(comp)
    comp.period.setCurrentIndex(comp.period.findText("10月"))
    qtbot.waitUntil(lambda: not comp.loading, timeout=5000)
    kinds = {comp.table.item(r, 1).text() for r in range(comp.table.rowCount())}
    assert "主题党日" in kinds
    qtbot.mouseClick(comp.rules_button, Qt.MouseButton.LeftButton)
    dlg = comp.rules_dialog
    row = dlg.row("theme_day")
    dlg.table.cellWidget(row, 1).setCurrentIndex(dlg.table.cellWidget(row, 1).findData("quarter"))
    dlg.table.cellWidget(dlg.row("group"), 3).setChecked(False)      # 党小组会 not checked
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()
    qtbot.waitUntil(lambda: not comp.loading, timeout=5000)
    kinds = {comp.table.item(r, 1).text() for r in range(comp.table.rowCount())}
    assert "主题党日" not in kinds and "党小组会" not in kinds       # a quarterly rule has no October row
    with app.service(commit=False) as sctx:
        rules = svc.meeting_rules(sctx.session)
    assert (rules["theme_day"].period, rules["group"].active, rules["committee"].period) == ("quarter", False, "month")


def test_dues_page_reads_off_the_gui_thread_and_drops_stale_answers(world, tree, app, qtbot, monkeypatch):
    import threading

    from shell.errors import ValidationError

    world.member(tree.b2, name="戊学生", category="student", joined_on=date(2026, 1, 1))
    world.session.commit()
    on_gui_thread = []
    real = svc.dues_sheet

    def spy(ctx, org_id, month):
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return real(ctx, org_id, month)

    monkeypatch.setattr(svc, "dues_sheet", spy)
    page = DuesPage(app)
    qtbot.addWidget(page)
    page.org.setCurrentIndex(page.org.findData(tree.b2.id))
    page.month.setValue(3)
    page.month.setValue(4)          # several sheets in flight: only the last one is shown
    wait_loaded(qtbot, page)
    assert on_gui_thread and not any(on_gui_thread)
    assert page.summary.text().startswith("2026-04：应交 1 人")
    assert page.table.item(0, 0).text() == "戊学生" and page.table.item(0, 7).text() == "4"
    qtbot.wait(50)                  # a late stale answer changes nothing
    assert page.summary.text().startswith("2026-04：")

    def broken(ctx, org_id, month):
        raise ValidationError("党费台账起始月份“x”格式不对。", "since", "x")

    monkeypatch.setattr(svc, "dues_sheet", broken)
    page.month.setValue(5)
    wait_loaded(qtbot, page)
    assert page.summary.text() == "读取党费失败：党费台账起始月份“x”格式不对。" and page.table.rowCount() == 0
    assert not page.pay_button.isEnabled()
