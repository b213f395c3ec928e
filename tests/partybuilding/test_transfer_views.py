"""GUI: the 组织关系转接 page — issue a letter (number from the counter), register an incoming
member, record a receipt, cancel a letter, the overdue receipts, and print the three-part letter."""
from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from plugins.partybuilding import services as svc
from plugins.partybuilding.models import Member, Transfer
from plugins.partybuilding.views.transfers_page import TransfersPage


def ok(qtbot, dialog):
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def test_issue_receipt_cancel_and_overdue(world, tree, app, qtbot):
    a = world.member(tree.b1, name="欧阳转出", joined_on=date(2020, 1, 1))
    b = world.member(tree.b2, name="司马作废", joined_on=date(2020, 1, 1))
    old = world.member(tree.b3, name="上官旧信", joined_on=date(2020, 1, 1))
    svc.issue_transfer_letter(world.ctx, old.id, "外区某社区党委", on=date(2026, 9, 1))  # receipt due 2026-10-01
    world.session.commit()
    page = TransfersPage(app)
    qtbot.addWidget(page)
    assert page.table.rowCount() == 1 and page.table.item(0, 10).text() == "回执逾期"
    assert "回执逾期 1 份" in page.summary.text()
    assert not page.receipt_button.isEnabled()   # nothing selected
    # Issue a letter: the member is found by pinyin initials.
    qtbot.mouseClick(page.issue_button, Qt.MouseButton.LeftButton)
    dlg = page.dialog
    ok(qtbot, dlg)
    assert "请填写接收党组织" in dlg.form.error_text("destination")
    dlg.form.fields["destination"].setText("中共某区某街道某社区委员会")
    ok(qtbot, dlg)
    assert "请先输入姓名" in dlg.form.error_text("member_id")
    picker = dlg.form.fields["member_id"]
    picker.search.setText("oyzc")
    picker.search.flush()
    assert picker.choice.count() == 1
    assert picker.choice.currentText().startswith("欧阳转出（中共东风社区委员会 / 东风一网格党支部")
    dlg.form.fields["valid_days"].setValue(120)
    ok(qtbot, dlg)
    assert "1 至 90 天" in dlg.form.error_text("valid_days")
    dlg.form.fields["valid_days"].setValue(60)
    dlg.form.fields["dues_paid_to"].setText("2026-13")
    ok(qtbot, dlg)
    assert "格式不对" in dlg.form.error_text("dues_paid_to")
    dlg.form.fields["dues_paid_to"].setText("2026-10")
    ok(qtbot, dlg)
    assert not dlg.isVisible() and dlg.letter_number == "党组介字〔2026〕第0002号"
    texts = page.table.column_texts(1)
    assert "党组介字〔2026〕第0002号" in texts
    with world.db.session_factory() as s:
        m = s.get(Member, a.id)
        assert (m.status, m.org_id) == ("transferred_out", None)
    # Receipt for the overdue one.
    page.select_transfer(svc_id := [r["id"] for r in page.rows if r["cells"][2] == "上官旧信"][0])
    assert page.receipt_button.isEnabled()
    qtbot.mouseClick(page.receipt_button, Qt.MouseButton.LeftButton)
    dlg = page.dialog
    dlg.form.fields["receipt_on"].setDate(date(2026, 8, 1))
    ok(qtbot, dlg)
    assert "早于开信日期" in dlg.form.error_text("receipt_on")
    dlg.form.fields["receipt_on"].setDate(date(2026, 10, 8))
    ok(qtbot, dlg)
    with world.db.session_factory() as s:
        assert s.get(Transfer, svc_id).status == "received"
    assert "回执逾期 0 份" in page.summary.text()
    # A second letter, cancelled: the member comes back, the number stays used.
    qtbot.mouseClick(page.issue_button, Qt.MouseButton.LeftButton)
    dlg = page.dialog
    dlg.form.fields["member_id"].find("司马")
    dlg.form.fields["destination"].setText("外省某党委")
    ok(qtbot, dlg)
    number = dlg.letter_number
    assert number == "党组介字〔2026〕第0003号"
    page.select_transfer(dlg.transfer_id)
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    cancel = page.dialog
    ok(qtbot, cancel)
    assert cancel.isVisible() and "请填写作废原因" in cancel.form.error_text("reason")
    cancel.form.fields["reason"].setText("本人暂缓转出")
    ok(qtbot, cancel)
    row = page.table.column_texts(1).index(number)
    assert page.table.item(row, 10).text() == "已作废"
    with world.db.session_factory() as s:
        assert s.get(Member, b.id).org_id == tree.b2.id
    # 只看回执逾期: the letter issued today is not overdue yet.
    page.show_mode.setCurrentIndex(page.show_mode.findData("overdue"))
    assert page.table.rowCount() == 0


def test_register_incoming_from_page(world, tree, app, qtbot):
    page = TransfersPage(app)
    qtbot.addWidget(page)
    qtbot.mouseClick(page.incoming_button, Qt.MouseButton.LeftButton)
    dlg = page.dialog
    f = dlg.form.fields
    f["org_id"].setCurrentIndex(f["org_id"].findText("中共红旗社区总支部委员会 / 红旗一网格党支部"))
    f["origin"].setText("中共某县某镇委员会")
    f["letter_number"].setText("某组介字〔2026〕第15号")
    f["dues_paid_to"].setText("2026-09")
    f["name"].setText("诸葛转入")
    f["id_number"].setText(world.id_number(date(1985, 2, 3)))
    f["admitted_on"].setText("2012-07-01")
    ok(qtbot, dlg)
    assert "转为正式党员日期" in dlg.form.error_text("full_on")   # a full member needs the date
    f["full_on"].setText("2013-07-01")
    ok(qtbot, dlg)
    assert not dlg.isVisible()
    assert page.table.item(0, 0).text() == "转入" and page.table.item(0, 2).text() == "诸葛转入"
    assert page.table.item(0, 4).text() == "中共红旗社区总支部委员会 / 红旗一网格党支部"
    with world.db.session_factory() as s:
        m = s.query(Member).filter_by(name="诸葛转入").one()
        assert (m.org_id, m.stage, m.status) == (tree.b3.id, "full", "normal")


def test_print_three_part_letter(world, tree, app, qtbot):
    m = world.member(tree.b1, name="打印测试", joined_on=date(2020, 1, 1))
    t = svc.issue_transfer_letter(world.ctx, m.id, "中共某社区委员会", on=date(2026, 11, 2))
    world.session.commit()
    page = TransfersPage(app)
    qtbot.addWidget(page)
    page.select_transfer(t.id)
    shown = []
    handle = page.print_selected(on_ready=shown.append)
    qtbot.waitUntil(lambda: handle.is_finished, timeout=20000)
    assert handle.error is None and len(shown) == 1
    preview = shown[0].preview
    assert preview.page_count() >= 1 and preview.path.name.startswith("组织关系介绍信-党组介字〔2026〕第0001号")
    shown[0].close()
