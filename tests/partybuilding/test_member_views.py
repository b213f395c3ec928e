"""GUI: the member list pages lazily, the member form (add with row errors), and the member card
(stage timeline, probation extension, 转正 refused before the end, 流动/失联, history tabs)."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from plugins.partybuilding import services as svc
from plugins.partybuilding.models import Member
from plugins.partybuilding.views.org_page import OrgPage


def click_ok(qtbot, dialog):
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def test_member_list_pages_and_names_the_parent(world, tree, app, qtbot):
    for i in range(450):
        world.member(tree.b2, name=f"成员{i:03d}", joined_on=date(2020, 1, 1))
    world.member(tree.g1, name="小组成员")
    world.session.commit()
    page = OrgPage(app)
    qtbot.addWidget(page)
    page.tree.setCurrentItem(page.item_for(tree.b2.id))
    # Only the first page of 200 is loaded; the count is the whole branch (counted on the pool).
    qtbot.waitUntil(lambda: not page.members.model_.counting, timeout=5000)
    assert page.members.rowCount() == 200 and page.member_count.text() == "共 450 人"
    page.members.model_.fetchMore()
    assert page.members.rowCount() == 400
    page.tree.setCurrentItem(page.item_for(tree.g1.id))
    assert [page.members.text(r, 3) for r in range(page.members.rowCount())] == ["东风一网格党支部 / 1号楼党小组"]


def test_add_member_through_the_form(world, tree, app, qtbot):
    page = OrgPage(app)
    qtbot.addWidget(page)
    page.tree.setCurrentItem(page.item_for(tree.b2.id))
    qtbot.mouseClick(page.add_member_button, Qt.MouseButton.LeftButton)
    dlg = page.member_dialog
    assert dlg.isVisible()
    f = dlg.form.fields
    f["name"].setText("张晓燕")
    f["id_number"].setText("11010519900307")
    f["stage"].setCurrentIndex(f["stage"].findData("candidate"))
    click_ok(qtbot, dlg)
    assert dlg.isVisible() and "18 位" in dlg.form.error_text("id_number") or dlg.form.error_text("id_number")
    f["id_number"].setText(world.id_number(date(1990, 3, 7), male=False))
    f["applied_on"].setText("2024-03-01")
    f["activist_on"].setText("2024/06/01")
    f["candidate_on"].setText("2025-13-01")
    f["applied_on"].setText("去年")
    click_ok(qtbot, dlg)
    assert "不是有效日期" in dlg.form.error_text("candidate_on")
    assert "不是有效日期" in dlg.form.error_text("applied_on")      # every unreadable date at once
    f["applied_on"].setText("2024-03-01")
    f["candidate_on"].setText("2023-07-01")   # before the 积极分子 date
    click_ok(qtbot, dlg)
    assert "不能早于" in dlg.form.error_text("candidate_on") and dlg.isVisible()
    f["candidate_on"].setText("2025-07-01")
    f["income_fen"].setText("4500")
    click_ok(qtbot, dlg)
    assert not dlg.isVisible()
    with world.db.session_factory() as s:
        m = s.query(Member).filter_by(name="张晓燕").one()
        assert (m.stage, m.sex, m.org_id, m.income_fen, m.activist_on) == ("candidate", "女", tree.b2.id, 450000,
                                                                          date(2024, 6, 1))
    assert page.members.text(0, 0) == "张晓燕" and page.members.text(0, 2) == "发展对象"


def test_member_card_timeline_extension_and_situation(world, tree, app, qtbot):
    m = world.member(tree.b1, stage="probationary", admitted=date(2025, 11, 1), name="李预备", joined_on=date(2025, 11, 1))
    world.session.commit()
    page = OrgPage(app)
    qtbot.addWidget(page)
    page.tree.setCurrentItem(page.item_for(tree.b1.id))
    page.members.selectRow(0)
    qtbot.mouseClick(page.card_button, Qt.MouseButton.LeftButton)
    card = page.card
    assert card.isVisible() and card.title.text() == "李预备　预备党员"
    assert card.values["org"].text() == "中共东风社区委员会 / 东风一网格党支部"
    assert "*" in card.values["id_number"].text()
    assert "预备期满：2026-11-01" in card.timeline.text() and "下一步：正式党员" in card.timeline.text()
    assert "期满" in card.alert.text()          # overdue on 2026-11-20
    assert card.advance_button.text() == "转为正式党员…" and card.extend_button.isEnabled()
    # Extend by 13 months: refused at the field; 6 months accepted.
    qtbot.mouseClick(card.extend_button, Qt.MouseButton.LeftButton)
    dlg = card.active_dialog
    dlg.form.fields["extension_months"].setValue(13)
    click_ok(qtbot, dlg)
    assert "6 至 12" in dlg.form.error_text("extension_months")
    dlg.form.fields["extension_months"].setValue(6)
    click_ok(qtbot, dlg)
    assert not dlg.isVisible()
    assert "预备期满：2027-05-01（已延长 6 个月）" in card.timeline.text()
    assert not card.extend_button.isEnabled() and "期满" not in card.alert.text()
    assert "已连续 13 个月未交党费" in card.alert.text()   # dues owed from the vote month, 2025-11
    # 转正 today is refused: the extended probation has not ended.
    qtbot.mouseClick(card.advance_button, Qt.MouseButton.LeftButton)
    dlg = card.active_dialog
    click_ok(qtbot, dlg)
    assert dlg.isVisible() and "2027-05-01 才满" in dlg.form.general_error.text()
    dlg.reject()
    # 流动党员 and 失联 from one dialog.
    qtbot.mouseClick(card.situation_button, Qt.MouseButton.LeftButton)
    dlg = card.active_dialog
    dlg.form.fields["mobile_destination"].setText("广东省深圳市")
    dlg.form.fields["mobile_since"].setText("2026-03-01")
    dlg.form.fields["lost_contact_on"].setText("2027-01-01")
    click_ok(qtbot, dlg)
    assert "不能晚于今天" in dlg.form.error_text("lost_contact_on")
    with world.db.session_factory() as s:
        assert s.get(Member, m.id).mobile_destination is None   # nothing half-written
    dlg.form.fields["lost_contact_on"].setText("")
    click_ok(qtbot, dlg)
    assert card.values["mobile"].text() == "是（广东省深圳市，2026-03-01 起）"
    assert page.members.text(0, 6) == "正常·流动"
    assert card.periods.rowCount() == 1 and card.periods.item(0, 1).text() == "至今"


def test_advance_applicant_step_by_step_from_card(world, tree, app, qtbot):
    m = world.member(tree.b1, stage="applicant", name="王申请", applied_on=date(2025, 3, 1))
    full = world.member(tree.b1, name="赵正式", joined_on=date(2020, 1, 1))
    svc.record_payment(world.ctx, full.id, "2026-10", 1500, date(2026, 10, 10))
    world.session.commit()
    page = OrgPage(app)
    qtbot.addWidget(page)
    card = page.open_card(m.id)
    assert card.advance_button.text() == "转为入党积极分子…" and not card.extend_button.isEnabled()
    qtbot.mouseClick(card.advance_button, Qt.MouseButton.LeftButton)
    dlg = card.active_dialog
    dlg.form.fields["on"].setDate(date(2025, 9, 1))
    click_ok(qtbot, dlg)
    assert card.title.text() == "王申请　入党积极分子"
    assert "入党申请人 2025-03-01 → 入党积极分子 2025-09-01" in card.timeline.text()
    assert card.advance_button.text() == "转为发展对象…"
    card.close()
    card = page.open_card(full.id)
    assert card.advance_button.text() == "已是正式党员" and not card.advance_button.isEnabled()
    assert card.payments.item(0, 0).text() == "2026-10" and card.payments.item(0, 1).text() == "15.00"
    assert "欠交党费" in card.alert.text()   # 2026-11 not paid yet
    QApplication.processEvents()


def test_alerts_page_lists_due_overdue_lost_mobile_and_dues_flag(world, tree, app, qtbot):
    from plugins.partybuilding.views.alerts_page import AlertsPage

    c = world.ctx   # today 2026-11-20
    world.member(tree.b1, stage="probationary", admitted=date(2025, 12, 10), name="将满", joined_on=date(2025, 12, 10))
    late = world.member(tree.b2, stage="probationary", admitted=date(2025, 10, 1), name="已满",
                        joined_on=date(2025, 10, 1))
    lost = world.member(tree.b3, name="失联者", joined_on=date(2020, 1, 1))
    svc.set_lost_contact(c, lost.id, date(2026, 4, 1))
    mob = world.member(tree.b3, name="外出者", joined_on=date(2020, 1, 1))
    svc.set_mobile(c, mob.id, "浙江省杭州市", date(2026, 2, 1))
    world.member(tree.b3, name="五个月", joined_on=date(2026, 7, 1))   # 2026-07 … 11 unpaid: 5 months
    world.member(tree.b3, name="六个月", joined_on=date(2026, 6, 1))   # 2026-06 … 11: 6 months, flagged
    payer = world.member(tree.b3, name="按时交", joined_on=date(2026, 11, 1))
    svc.record_payment(c, payer.id, "2026-11", 1000, date(2026, 11, 5))
    world.session.commit()
    page = AlertsPage(app)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.data is not None and page.arrears_loaded, timeout=5000)
    assert page.due.column_texts(0) == ["将满"] and page.due.item(0, 4).text() == "2026-12-10"
    assert page.overdue.column_texts(0) == ["已满"] and page.overdue.item(0, 1).text() == "中共东风社区委员会 / 东风二网格党支部"
    assert page.lost.column_texts(0) == ["失联者"]
    assert page.mobile.column_texts(0) == ["外出者"] and page.mobile.item(0, 2).text() == "浙江省杭州市"
    names = page.arrears.column_texts(0)
    assert "按时交" not in names and "将满" in names
    flagged = {page.arrears.item(r, 0).text() for r in range(page.arrears.rowCount()) if page.arrears.item(r, 7).text()}
    assert "六个月" in flagged and "五个月" not in flagged and "五个月" in names
    row = names.index("六个月")
    assert page.arrears.item(row, 6).text() == "6" and page.arrears.item(row, 0).foreground().color().name() == "#b00020"
    tabs = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert tabs[0] == "30 天内转正到期（1）" and tabs[1] == "预备期已满未转正（1）"
    # Double-click opens the card; 转正 there refreshes the lists.
    card = page.open_card(page.overdue.row_data(0))
    assert card.title.text() == "已满　预备党员"
    qtbot.mouseClick(card.advance_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(card.active_dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.overdue.rowCount() == 0, timeout=5000)
    with world.db.session_factory() as s:
        assert s.get(Member, late.id).stage == "full"


def test_move_member_to_another_branch_from_card(world, tree, app, qtbot):
    m = world.member(tree.b1, name="调动者", joined_on=date(2020, 1, 1))
    world.session.commit()
    page = OrgPage(app)
    qtbot.addWidget(page)
    page.tree.setCurrentItem(page.item_for(tree.b1.id))
    card = page.open_card(m.id)
    qtbot.mouseClick(card.move_button, Qt.MouseButton.LeftButton)
    dlg = card.active_dialog
    f = dlg.form.fields
    f["org_id"].setCurrentIndex(f["org_id"].findData(tree.b3.id))
    f["on"].setDate(date(2019, 6, 1))
    click_ok(qtbot, dlg)
    assert "早于" in dlg.form.error_text("on")          # before the current period began
    f["on"].setDate(date(2026, 11, 1))
    click_ok(qtbot, dlg)
    assert not dlg.isVisible()
    assert [(card.periods.item(r, 0).text(), card.periods.item(r, 1).text(), card.periods.item(r, 2).text())
            for r in range(card.periods.rowCount())] == [
        ("2020-01-01", "2026-11-01", "中共东风社区委员会 / 东风一网格党支部"),
        ("2026-11-01", "至今", "中共红旗社区总支部委员会 / 红旗一网格党支部")]
    assert page.members.rowCount() == 0 and page.item_for(tree.b3.id).text(2) == "1"
