"""入库 / 出库 dialogs through the real widgets (pytest-qt): code + Enter fills the item, a delivery
shows up on the stock page, the FEFO suggestion across two batches and its booking, refusals that
change nothing, the not-found message, and the buttons only for emergency.stock.manage."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from plugins.emergency import services as sv
from plugins.emergency.models import Batch
from plugins.emergency.views.moves import IssueDialog, ReceiveDialog
from plugins.emergency.views.stock import StockPage
from shell.core.context import AppContext
from shell.core.models import Area

from .conftest import TODAY, clock_at, scoped_actor

BATCH, QTY = 4, 6


@dataclass
class Data:
    main: int
    water: int
    street_path: str


@pytest.fixture
def data(world):
    early = world.ctx(day=TODAY - timedelta(days=100))
    main = sv.create_warehouse(early, world.street, "街道应急物资储备库")
    water = sv.create_item(early, "1010101", "饮用水", "箱", "550ml×24")
    sv.create_item(early, "2010101", "潜水泵", "台", "QDX-1.5kW")
    sv.receive(early, main.id, water.id, 10, "W-EXP", None, TODAY - timedelta(days=5))   # expired by TODAY
    early.session.commit()
    ctx = world.ctx()
    sv.receive(ctx, main.id, water.id, 5, "W-LATE", None, TODAY + timedelta(days=200))
    sv.receive(ctx, main.id, water.id, 8, "W-SOON", None, TODAY + timedelta(days=20))
    ctx.session.commit()
    with world.db.session_factory() as s:
        return Data(main.id, water.id, s.get(Area, world.street).path)


def make_page(qtbot, world, data, *perms):
    app = AppContext(world.db.session_factory, scoped_actor(data.street_path, *perms), clock=clock_at(TODAY))
    page = StockPage(app)
    qtbot.addWidget(page)
    page.show()
    return page


@pytest.fixture
def page(qtbot, world, data):
    return make_page(qtbot, world, data, "emergency.view", "emergency.stock.manage")


def qty_by_batch(page):
    m = page.model
    return {m.data(m.index(r, BATCH)): m.data(m.index(r, QTY)) for r in range(m.rowCount())}


def db_qty(world):
    with world.db.session_factory() as s:
        return {b.batch_no: b.qty for b in s.query(Batch).all()}


def scan(qtbot, dialog, code):
    dialog.code.clear()
    dialog.code.setFocus()
    qtbot.keyClicks(dialog.code, code)
    qtbot.keyClick(dialog.code, Qt.Key.Key_Return)


def open_dialog(qtbot, page, button, cls):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = page.move_dialog
    assert isinstance(dialog, cls) and dialog.isVisible()
    return dialog


def test_receive_by_scanning_a_code(qtbot, world, data, page):
    dialog = open_dialog(qtbot, page, page.receive_button, ReceiveDialog)
    assert "街道应急物资储备库" in dialog.windowTitle()
    scan(qtbot, dialog, "2010101")
    assert dialog.isVisible()                                  # Enter looked up, did not save
    assert dialog.item_label.text() == "潜水泵　QDX-1.5kW（单位：台）"
    assert dialog.qty.suffix() == " 台" and dialog.focusWidget() is dialog.batch_no
    qtbot.keyClicks(dialog.batch_no, "P-2026A")
    dialog.expiry_date.check.setChecked(True)
    dialog.expiry_date.edit.setDate(TODAY + timedelta(days=365))
    dialog.qty.setValue(3)
    dialog.party.setText("市应急管理局")          # (QTest cannot type Chinese)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert qty_by_batch(page)["P-2026A"] == "3"
    with world.db.session_factory() as s:
        b = s.query(Batch).filter_by(batch_no="P-2026A").one()
        assert (b.qty, b.expiry_date, b.warehouse_id) == (3, TODAY + timedelta(days=365), data.main)


def test_receive_errors_stay_in_the_dialog(qtbot, world, data, page):
    dialog = open_dialog(qtbot, page, page.receive_button, ReceiveDialog)
    before = db_qty(world)
    scan(qtbot, dialog, "1010101")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)          # no batch number
    assert dialog.isVisible() and dialog.form.error_text("batch_no") == "请填写批次号。"
    qtbot.keyClicks(dialog.batch_no, "W-OLD")
    dialog.expiry_date.check.setChecked(True)
    dialog.expiry_date.edit.setDate(TODAY - timedelta(days=1))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "过期物资不能入库" in dialog.form.error_text("expiry_date")
    assert dialog.isVisible() and db_qty(world) == before


def test_issue_spanning_two_batches_follows_fefo(qtbot, world, data, page, monkeypatch):
    from plugins.emergency.views import moves as moves_view

    questions: list[str] = []
    monkeypatch.setattr(moves_view, "confirm", lambda _p, title, text: questions.append(f"{title}|{text}") or True)
    dialog = open_dialog(qtbot, page, page.issue_button, IssueDialog)
    scan(qtbot, dialog, "1010101")
    assert dialog.isVisible() and db_qty(world) == {"W-EXP": 10, "W-SOON": 8, "W-LATE": 5}   # Enter did not issue
    assert dialog.item_label.text() == "饮用水　550ml×24（单位：箱）" and dialog.focusWidget() is dialog.qty
    dialog.qty.setValue(11)
    rows = [[dialog.table.item(r, c).text() for c in range(5)] for r in range(dialog.table.rowCount())]
    assert rows == [["W-SOON", (TODAY + timedelta(days=20)).isoformat(), "8", "8", "0"],
                    ["W-LATE", (TODAY + timedelta(days=200)).isoformat(), "5", "3", "2"]]
    assert dialog.suggest_label.text() == "共出库 11箱：批次 W-SOON 出 8箱，批次 W-LATE 出 3箱。"
    assert "已过期 10箱" in dialog.expired_label.text() and dialog.ok_button.isEnabled()
    dialog.party.setText("东湖社区防汛队")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert qty_by_batch(page) == {"W-EXP": "10", "W-SOON": "0", "W-LATE": "2"} or \
        qty_by_batch(page) == {"W-EXP": "10", "W-LATE": "2"}
    assert db_qty(world) == {"W-EXP": 10, "W-SOON": 0, "W-LATE": 2}
    # asked first (出库 cannot be undone), with what leaves and to whom
    assert len(questions) == 1 and questions[0].startswith("确认出库|")
    assert "批次 W-SOON 出 8箱，批次 W-LATE 出 3箱" in questions[0] and "东湖社区防汛队" in questions[0]
    # then the 出库单: its number on the notice, printed through the report engine into the preview
    box = page.issued_box
    qtbot.waitUntil(box.isVisible, timeout=2000)
    from sqlalchemy import text as sql

    with world.db.engine.connect() as conn:

        doc = conn.execute(sql("SELECT DISTINCT doc_no FROM emergency_stock_moves WHERE kind = 'out'")).scalars().all()
    assert len(doc) == 1 and doc[0] in box.text()
    button = next(b for b in box.buttons() if b.objectName() == "print-issue-note")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    preview = page.print_dialog
    qtbot.waitUntil(lambda: preview.result is not None, timeout=20000)
    from pypdf import PdfReader

    pdf = "".join((pg.extract_text() or "") for pg in PdfReader(str(preview.result.path)).pages).replace(" ", "")
    for expected in ("应急物资出库单", doc[0], "东湖社区防汛队", "W-SOON", "W-LATE", "领用人签字", "保管员签字"):
        assert expected in pdf, expected


def test_issue_more_than_usable_stock_is_refused(qtbot, world, data, page):
    dialog = open_dialog(qtbot, page, page.issue_button, IssueDialog)
    before = db_qty(world)
    scan(qtbot, dialog, "1010101")
    dialog.qty.setValue(14)                                    # 13 usable, 10 more expired
    message = "饮用水可发放（未过期）库存只有 13箱，不足 14箱。"
    assert dialog.form.error_text("qty") == message
    assert dialog.table.rowCount() == 0 and not dialog.ok_button.isEnabled()
    dialog.ok_button.setEnabled(True)                          # even if pressed anyway
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.form.error_text("qty") == message
    assert db_qty(world) == before


def test_only_expired_stock_is_refused(qtbot, world, data, page):
    ctx = world.ctx()
    sv.issue_fefo(ctx, data.main, data.water, 13)
    ctx.session.commit()
    page.reload()
    dialog = open_dialog(qtbot, page, page.issue_button, IssueDialog)
    scan(qtbot, dialog, "1010101")
    assert dialog.form.error_text("qty") == "饮用水可发放（未过期）库存只有 0箱，不足 1箱。"
    assert not dialog.ok_button.isEnabled()


def test_unknown_or_malformed_code(qtbot, page):
    dialog = open_dialog(qtbot, page, page.issue_button, IssueDialog)
    scan(qtbot, dialog, "1999901")
    assert dialog.form.error_text("code").startswith("找不到编码为“1999901”的物资")
    assert dialog.item is None and dialog.item_label.text() == "—" and dialog.isVisible()
    scan(qtbot, dialog, "12345")
    assert dialog.form.error_text("code") == "物资编码“12345”应为 7 位数字，现为 5 位。"
    scan(qtbot, dialog, "1010101")
    assert dialog.form.error_text("code") == "" and dialog.item is not None
    qtbot.keyClick(dialog.code, Qt.Key.Key_Backspace)          # editing the code drops the item
    assert dialog.item is None and dialog.table.rowCount() == 0


def test_buttons_need_the_manage_permission(qtbot, world, data):
    viewer = make_page(qtbot, world, data, "emergency.view")
    assert not viewer.receive_button.isEnabled() and not viewer.issue_button.isEnabled()
    assert "emergency.stock.manage" in viewer.receive_button.toolTip()
    keeper = make_page(qtbot, world, data, "emergency.view", "emergency.stock.manage")
    assert keeper.receive_button.isEnabled() and keeper.issue_button.isEnabled()
