"""调拨 / 调整 dialogs, the 盘点 screen and printing the reserve ledger from the 应急物资 page, through
the real widgets (pytest-qt): what the keeper sees, what ends up in the ledger, and refusals that
change nothing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from plugins.emergency import services as sv
from plugins.emergency.models import Batch, StockMove, Stocktake
from plugins.emergency.views import stocktake as stocktake_view
from plugins.emergency.views.batch_moves import AdjustDialog, TransferDialog
from plugins.emergency.views.stock import StockPage
from plugins.emergency.views.stocktake import StocktakeDialog
from shell.core.context import AppContext
from shell.core.models import Area

from .conftest import TODAY, clock_at, scoped_actor

QTY, BATCH = 6, 4


@dataclass
class Data:
    main: int
    east: int
    water: int
    street_path: str


@pytest.fixture
def data(world):
    early = world.ctx(day=TODAY - timedelta(days=100))
    main = sv.create_warehouse(early, world.street, "街道应急物资储备库")
    east = sv.create_warehouse(early, world.c1, "东湖社区储备点")
    water = sv.create_item(early, "1010101", "饮用水", "箱", "550ml×24")
    pump = sv.create_item(early, "2010101", "潜水泵", "台", "QDX-1.5kW")
    sv.receive(early, main.id, water.id, 10, "W-EXP", None, TODAY - timedelta(days=5))   # expired by TODAY
    early.session.commit()
    ctx = world.ctx()
    sv.receive(ctx, main.id, water.id, 20, "W-SOON", None, TODAY + timedelta(days=20))
    sv.receive(ctx, main.id, pump.id, 4, "P-1", None, None)
    ctx.session.commit()
    with world.db.session_factory() as s:
        return Data(main.id, east.id, water.id, s.get(Area, world.street).path)


def make_page(qtbot, world, data, *perms):
    app = AppContext(world.db.session_factory, scoped_actor(data.street_path, *perms), clock=clock_at(TODAY))
    page = StockPage(app)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    return page


@pytest.fixture
def page(qtbot, world, data):
    return make_page(qtbot, world, data, "emergency.view", "emergency.stock.manage", "emergency.stocktake")


def db_qty(world):
    with world.db.session_factory() as s:
        return {(b.warehouse_id, b.batch_no): b.qty for b in s.scalars(select(Batch))}


def moves(world):
    with world.db.session_factory() as s:
        return [(m.kind, m.warehouse_id, m.qty, m.reason, m.doc_no) for m in s.scalars(select(StockMove).order_by(StockMove.id))]


def click(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_transfer_and_adjust_need_a_selected_batch(qtbot, world, data, page):
    assert not page.transfer_button.isEnabled() and not page.adjust_button.isEnabled()
    assert page.transfer_button.toolTip() == "先在表格中选中一个批次"
    assert page.select_batch("W-SOON")
    assert page.transfer_button.isEnabled() and page.adjust_button.isEnabled()
    viewer = make_page(qtbot, world, data, "emergency.view")
    viewer.select_batch("W-SOON")
    assert not viewer.transfer_button.isEnabled() and "emergency.stock.manage" in viewer.transfer_button.toolTip()


def test_transfer_part_of_a_batch_to_a_community(qtbot, world, data, page):
    page.select_batch("W-SOON")
    click(qtbot, page.transfer_button)
    dialog = page.move_dialog
    assert isinstance(dialog, TransferDialog) and dialog.isVisible()
    info = dialog.findChild(type(dialog.form.fields["batch_id"]), "batch-info").text()
    assert info == (f"饮用水 550ml×24（1010101）\n批次 W-SOON，有效期至 {(TODAY + timedelta(days=20)).isoformat()}，"
                    "现有 20箱")
    assert [dialog.target.itemText(i) for i in range(dialog.target.count())] == ["东湖社区储备点"]
    assert dialog.qty.maximum() == 20
    dialog.qty.setValue(7)
    with qtbot.waitSignal(dialog.accepted):
        click(qtbot, dialog.ok_button)
    assert db_qty(world)[(data.main, "W-SOON")] == 13 and db_qty(world)[(data.east, "W-SOON")] == 7
    legs = [m for m in moves(world) if m[0].startswith("transfer")]
    assert [(k, w, q) for k, w, q, _r, _d in legs] == [("transfer_out", data.main, -7), ("transfer_in", data.east, 7)]
    assert legs[0][4] == legs[1][4] and legs[0][4].startswith("DB")
    rows = {page.model.rows[r].batch_no: page.model.rows[r].qty for r in range(len(page.model.rows))}
    assert rows["W-SOON"] == 13                                # the page reloaded
    page.show_warehouse(data.east)
    assert [(r.batch_no, r.qty, r.expiry_date) for r in page.model.rows] == [
        ("W-SOON", 7, TODAY + timedelta(days=20))]             # expiry travels with the batch


def test_transfer_more_than_the_batch_is_refused_and_changes_nothing(qtbot, world, data, page):
    page.select_batch("P-1")
    click(qtbot, page.transfer_button)
    dialog = page.move_dialog
    before, before_moves = db_qty(world), moves(world)
    ctx = world.ctx()                                           # another desktop issues 3 meanwhile
    sv.issue(ctx, ctx.session.scalar(select(Batch.id).where(Batch.batch_no == "P-1")), 3)
    ctx.session.commit()
    dialog.qty.setValue(4)
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()
    assert dialog.form.error_text("qty") == "库存不足：潜水泵（批次 P-1）现有 1台，本次需要 4台，库存不能为负数。"
    assert db_qty(world)[(data.main, "P-1")] == 1 and (data.east, "P-1") not in db_qty(world)   # all rolled back
    assert len(moves(world)) == len(before_moves) + 1 and before[(data.main, "P-1")] == 4


def test_adjust_with_a_reason(qtbot, world, data, page):
    page.select_batch("P-1")
    click(qtbot, page.adjust_button)
    dialog = page.move_dialog
    assert isinstance(dialog, AdjustDialog)
    dialog.qty.setValue(1)
    assert dialog.after.text() == "3台"
    dialog.reason.setCurrentText("损坏")
    dialog.note.setText("抽水试机烧毁")
    with qtbot.waitSignal(dialog.accepted):
        click(qtbot, dialog.ok_button)
    assert moves(world)[-1][:4] == ("adjust", data.main, -1, "损坏")
    assert db_qty(world)[(data.main, "P-1")] == 3


def test_adjust_other_needs_a_note_and_never_goes_negative(qtbot, world, data, page):
    page.select_batch("P-1")
    click(qtbot, page.adjust_button)
    dialog = page.move_dialog
    before = moves(world)
    dialog.reason.setCurrentText("其他")
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible() and dialog.form.error_text("note") == "请填写说明。"
    dialog.note.setText("账实不符")
    dialog.qty.setValue(5)
    assert dialog.after.text() == "-1台（库存不能为负数）"
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible() and "库存不能为负数" in dialog.form.error_text("qty")
    assert moves(world) == before


def test_expired_batch_is_offered_for_write_off(qtbot, world, data, page):
    page.select_batch("W-EXP")
    click(qtbot, page.adjust_button)
    dialog = page.move_dialog
    assert dialog.reason.currentText() == "过期报废" and dialog.qty.value() == 10
    assert dialog.direction.currentText() == "减少" and dialog.after.text() == "0箱"
    with qtbot.waitSignal(dialog.accepted):
        click(qtbot, dialog.ok_button)
    assert db_qty(world)[(data.main, "W-EXP")] == 0
    assert "W-EXP" not in [r.batch_no for r in page.model.rows]


def open_stocktake(qtbot, page) -> StocktakeDialog:
    click(qtbot, page.stocktake_button)
    dialog = page.move_dialog
    assert isinstance(dialog, StocktakeDialog) and dialog.isVisible()
    return dialog


def test_run_a_stocktake_through_the_screen(qtbot, world, data, page, monkeypatch):
    questions = []
    monkeypatch.setattr(stocktake_view, "confirm", lambda _p, title, text: questions.append(text) or True)
    dialog = open_stocktake(qtbot, page)
    assert "没有进行中的盘点" in dialog.state_label.text() and dialog.table.model().rowCount() == 0
    assert not dialog.post_button.isEnabled() and not dialog.print_button.isEnabled()
    dialog.counted_by.setText("王保管")
    click(qtbot, dialog.open_button)
    assert dialog.state_label.text().startswith("盘点单 PD") and "盘点人：王保管" in dialog.state_label.text()
    assert [(ln.batch_no, ln.expected) for ln in dialog.lines] == [("W-EXP", 10), ("W-SOON", 20), ("P-1", 4)]
    assert [dialog.count_text(r) for r in range(3)] == ["未录入"] * 3
    dialog.set_counted(dialog.row_for_batch("W-SOON"), 18)
    assert dialog.cell_text(dialog.row_for_batch("W-SOON"), 7) == "-2"
    assert "已录入 1 批" in dialog.summary.text() and "盘亏 1 批（合计 -2）" in dialog.summary.text()
    click(qtbot, dialog.save_button)                         # saved, not posted
    assert "已保存 1 批" in dialog.state_label.text() and db_qty(world)[(data.main, "W-SOON")] == 20

    click(qtbot, dialog.post_button)                         # two lines not counted yet
    assert "还有 2 项未录入实盘数" in dialog.error.text() and dialog.error.isVisible()
    assert db_qty(world)[(data.main, "W-SOON")] == 20

    dialog.close()                                           # reopened later: the counts were kept
    dialog = open_stocktake(qtbot, page)
    assert dialog.counted(dialog.row_for_batch("W-SOON")) == 18
    dialog.set_counted(dialog.row_for_batch("P-1"), 5)
    click(qtbot, dialog.fill_button)
    assert dialog.counted(dialog.row_for_batch("W-EXP")) == 10
    click(qtbot, dialog.post_button)
    assert "饮用水（W-SOON）-2箱" in questions[-1] and "潜水泵（P-1）+1台" in questions[-1]
    assert "已过账：记盘点差异 2 笔" in dialog.state_label.text()
    assert db_qty(world)[(data.main, "W-SOON")] == 18 and db_qty(world)[(data.main, "P-1")] == 5
    assert [(k, q, r) for k, _w, q, r, _d in moves(world) if k == "stocktake"] == [("stocktake", -2, "盘亏"),
                                                                                ("stocktake", 1, "盘盈")]
    assert dialog.take_id is None and dialog.print_button.isEnabled()
    click(qtbot, dialog.print_button)                          # the posted count, for the file
    pd = dialog.print_dialog
    qtbot.waitUntil(lambda: pd.result is not None or "失败" in pd.status.text(), timeout=30000)
    assert pd.result is not None and pd.result.rows == 3 and pd.windowTitle() == "应急物资盘点表"
    pd.reject()
    dialog.close()
    assert {r.batch_no: r.qty for r in page.model.rows}["W-SOON"] == 18


def test_stocktake_refused_when_stock_moved_then_cancelled(qtbot, world, data, page, monkeypatch):
    monkeypatch.setattr(stocktake_view, "confirm", lambda *_a: True)
    dialog = open_stocktake(qtbot, page)
    click(qtbot, dialog.open_button)
    click(qtbot, dialog.fill_button)
    ctx = world.ctx()                                        # an issue after the count was opened
    sv.issue(ctx, ctx.session.scalar(select(Batch.id).where(Batch.batch_no == "W-SOON")), 1)
    ctx.session.commit()
    before = moves(world)
    click(qtbot, dialog.post_button)
    assert "盘点开始后这些批次又有出入库：饮用水（W-SOON）" in dialog.error.text()
    assert moves(world) == before
    click(qtbot, dialog.cancel_button)
    assert dialog.take_id is None and not dialog.post_button.isEnabled()
    with world.db.session_factory() as s:
        assert [t.status for t in s.scalars(select(Stocktake))] == ["cancelled"]


def test_stocktake_screen_read_only_without_permission(qtbot, world, data):
    viewer = make_page(qtbot, world, data, "emergency.view")
    click(qtbot, viewer.stocktake_button)
    dialog = viewer.move_dialog
    assert not dialog.open_button.isEnabled() and "emergency.stocktake" in dialog.open_button.toolTip()


def test_print_the_reserve_ledger(qtbot, world, data, page):
    click(qtbot, page.print_button)
    dialog = page.print_dialog
    qtbot.waitUntil(lambda: dialog.result is not None or "失败" in dialog.status.text(), timeout=30000)
    assert dialog.result is not None, dialog.status.text()
    assert dialog.preview.page_count() == 1 and dialog.result.rows == 3
    assert dialog.status.text() == "已生成“应急物资储备台账”：共 1 页，3 行。可打印或另存为 PDF。"
    assert dialog.preview.suggested_name == "应急物资储备台账-街道应急物资储备库.pdf"
    dialog.reject()


def test_stocktake_count_typed_into_the_cell(qtbot, world, data, page):
    """The 实盘数 cell is edited through its delegate (a spin box only while editing — no widget per
    line, which made a 600-batch warehouse slow to show)."""
    from PySide6.QtWidgets import QSpinBox

    dialog = open_stocktake(qtbot, page)
    click(qtbot, dialog.open_button)
    assert dialog.table.findChildren(QSpinBox) == []
    row = dialog.row_for_batch("W-SOON")
    index = dialog.table.model().index(row, stocktake_view.COUNT_COL)
    dialog.table.setCurrentIndex(index)          # AllEditTriggers: the editor opens on the current cell
    editors = dialog.table.findChildren(QSpinBox)
    assert len(editors) == 1 and editors[0].text() == "未录入"
    editors[0].setValue(17)
    dialog.table.commitData(editors[0])          # what pressing Enter / leaving the cell does
    assert dialog.counted(row) == 17 and dialog.count_text(row) == "17 箱"
    assert dialog.cell_text(row, 7) == "-3" and "盘亏 1 批（合计 -3）" in dialog.summary.text()
    note = dialog.table.model().index(row, stocktake_view.NOTE_COL)      # the note cell edits in place
    dialog.table.model().setData(note, "外包装破损")
    assert dialog.note(row) == "外包装破损" and dialog.cell_text(row, stocktake_view.NOTE_COL) == "外包装破损"
    dialog.close()


def test_stock_page_filters_by_pinyin_initials(qtbot, world, data, page):
    page.search.setText("qsb")
    page.search.flush()
    assert {r.name for r in page.model.rows} == {"潜水泵"}
