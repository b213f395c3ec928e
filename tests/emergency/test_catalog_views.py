"""物资目录与仓库 page, the 最低库存 dialog and the 批次流水 window through the real widgets."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from plugins.emergency import services as sv
from plugins.emergency.models import Batch, Item, MinStock, Warehouse
from plugins.emergency.views.batch_moves import BatchMovesDialog
from plugins.emergency.views.catalog import CatalogPage, ItemDialog, MinStockDialog, WarehouseDialog
from plugins.emergency.views.stock import StockPage
from shell.core.context import AppContext
from shell.core.models import Area

from .conftest import TODAY, clock_at, scoped_actor


@pytest.fixture
def path(world):
    ctx = world.ctx()
    main = sv.create_warehouse(ctx, world.street, "和平街道应急物资储备库", keeper="王保管", keeper_phone="13812345678")
    water = sv.create_item(ctx, "1010101", "饮用水", "箱", "550ml×24")
    sv.receive(ctx, main.id, water.id, 30, "W-1", None, TODAY + timedelta(days=200), party="市应急管理局")
    ctx.session.commit()
    ctx = world.ctx()
    b = sv.issue(ctx, ctx.session.scalar(select(Batch.id)), 4, party="东湖社区")
    sv.adjust(ctx, b.batch_id, -1, "损坏", "搬运摔坏")
    ctx.session.commit()
    with world.db.session_factory() as s:
        return s.get(Area, world.street).path


def app(world, path, *perms):
    return AppContext(world.db.session_factory, scoped_actor(path, *perms), clock=clock_at(TODAY))


def click(qtbot, w):
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton)


def test_new_item_with_code_hint(qtbot, world, path):
    page = CatalogPage(app(world, path, "emergency.view", "emergency.catalog.manage"))
    qtbot.addWidget(page)
    page.show()
    assert page.item_count.text() == "共 1 种"
    click(qtbot, page.new_item_button)
    d = page.dialog
    assert isinstance(d, ItemDialog)
    qtbot.keyClicks(d.code, "20")
    assert d.code_info.text() == "大类：应急装备及配套物资（还需 5 位）"
    qtbot.keyClicks(d.code, "00101")
    assert d.code_info.text() == "物资编码“2000101”的第 2–3 位（中类）应为 01–99，现为“00”。"
    d.code.setText("2010101")
    assert d.code_info.text() == "大类 2 应急装备及配套物资，中类 01，小类 01，细类 01"
    d.name.setText("潜水泵")
    click(qtbot, d.ok_button)
    assert d.isVisible() and d.form.error_text("unit") == "请填写计量单位。"
    d.unit.setText("台")
    d.spec.setText("QDX-1.5kW")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    assert page.item_count.text() == "共 2 种"
    row = page.item_table.currentRow()
    assert [page.item_table.item(row, c).text() for c in range(5)] == [
        "2010101", "应急装备及配套物资", "潜水泵", "QDX-1.5kW", "台"]
    page.search.setText("201")
    page.load_items()
    assert page.item_count.text() == "共 1 种"


def test_warehouses_new_and_edit(qtbot, world, path):
    page = CatalogPage(app(world, path, "emergency.view", "emergency.catalog.manage"))
    qtbot.addWidget(page)
    page.show()
    assert page.wh_table.item(0, 5).text() == "138****5678"
    click(qtbot, page.new_wh_button)
    d = page.dialog
    assert isinstance(d, WarehouseDialog)
    d.name.setText("和平街道应急物资储备库")                   # same name in the same unit
    click(qtbot, d.ok_button)
    assert d.isVisible() and "已有名为“和平街道应急物资储备库”的仓库" in d.form.error_text("name")
    d.area.setCurrentText("东湖社区")
    d.name.setText("东湖社区应急物资储备点")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    assert page.wh_count.text() == "共 2 个仓库" and page.selected_warehouse().name == "东湖社区应急物资储备点"
    click(qtbot, page.edit_wh_button)
    d = page.dialog
    d.address.setText("东湖路 8 号")
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    with world.db.session_factory() as s:
        assert s.query(Warehouse).filter_by(name="东湖社区应急物资储备点").one().address == "东湖路 8 号"
    viewer = CatalogPage(app(world, path, "emergency.view"))
    qtbot.addWidget(viewer)
    assert not viewer.new_item_button.isEnabled() and not viewer.new_wh_button.isEnabled()


def test_min_stock_and_batch_history_from_the_stock_page(qtbot, world, path):
    page = StockPage(app(world, path, "emergency.view", "emergency.stock.manage", "emergency.catalog.manage"))
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    assert not page.min_button.isEnabled() and not page.history_button.isEnabled()
    page.select_batch("W-1")
    assert page.selected_label.text() == "选中：饮用水 550ml×24（1010101）批次 W-1，现有 25箱"
    click(qtbot, page.min_button)
    d = page.move_dialog
    assert isinstance(d, MinStockDialog) and d.min_qty.value() == 0
    d.min_qty.setValue(40)
    with qtbot.waitSignal(d.accepted):
        click(qtbot, d.ok_button)
    assert page.model.rows[0].below_minimum and "低于最低库存 1 项" in page.summary_label.text()
    with world.db.session_factory() as s:
        assert s.query(MinStock).one().min_qty == 40

    page.select_batch("W-1")
    click(qtbot, page.history_button)
    h = page.move_dialog
    assert isinstance(h, BatchMovesDialog)
    t = h.table
    rows = [[t.item(r, c).text() for c in (1, 2, 3, 4, 5)] for r in range(t.rowCount())]
    assert rows == [["入库", "+30", "30", "市应急管理局", ""], ["出库", "-4", "26", "东湖社区", ""],
                    ["调整", "-1", "25", "", "损坏；搬运摔坏"]]
    assert h.foot.text() == "共 3 笔，合计 +25箱，与结存 25箱 一致。"


def test_min_stock_needs_catalog_permission(qtbot, world, path):
    page = StockPage(app(world, path, "emergency.view", "emergency.stock.manage"))
    qtbot.addWidget(page)
    page.select_batch("W-1")
    assert not page.min_button.isEnabled() and "emergency.catalog.manage" in page.min_button.toolTip()
    assert page.history_button.isEnabled()
    with world.db.session_factory() as s:
        assert s.query(Item).count() == 1
