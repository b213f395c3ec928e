"""The 爱心超市管理 page (pytest-qt, real widgets): a new item with opening stock, stock in / out /
stock-taking as append-only moves (stock == sum of moves), an over-large stock-out refused at its
field, 下架, and cancelling a redemption with a reason (points and stock back as new entries)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from plugins.volunteer import services as sv
from plugins.volunteer.models import PointsEntry, RedemptionOrder, RewardItem, StockMove
from plugins.volunteer.views.store import StorePage
from shell.core.context import Actor, AppContext, ServiceContext

from .conftest import T0, Clock, actor_for, id_number, make_pm, seed_areas

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def world(vol_sqlite):
    _street, (c1, p1), _c2 = seed_areas(vol_sqlite)
    clock = Clock(T0 + timedelta(days=2))
    with vol_sqlite.session_factory() as s:
        ctx = ServiceContext(s, Actor.system(), clock)
        v = sv.register_volunteer(ctx, name="赵敏", id_number=id_number(seq=190), area_id=c1)
        sv.adjust_points(ctx, v.id, 50, "期初")
        towel = sv.create_item(ctx, name="毛巾", area_id=c1, points_price=4, stock=10, unit="条")
        order = sv.redeem(ctx, v.id, {towel.id: 2})
        s.commit()
        ids = dict(volunteer=v.id, towel=towel.id, order=order.id)
    app = AppContext(vol_sqlite.session_factory, Actor.system(), make_pm(), clock=clock)
    return dict(db=vol_sqlite, app=app, c1=c1, p1=p1, **ids)


def _page(qtbot, app):
    page = StorePage(app)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    return page


def _stock_text(page, name):
    row = next(r for r, d in enumerate(page.items_data) if d.name == name)
    return page.items.item(row, 3).text()


def test_items_and_stock_moves(qtbot, world):
    db = world["db"]
    page = _page(qtbot, world["app"])
    assert _stock_text(page, "毛巾") == "8 条"
    qtbot.mouseClick(page.new_button, LEFT)
    dialog = page.dialog
    dialog.name.setText("大米（5kg）")                   # QTest cannot type Chinese
    dialog.unit.setText("袋")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.form.error_text("points_price") == "兑换所需积分应为正整数。"
    dialog.price.setValue(30)
    dialog.stock.setValue(20)
    dialog.limit.setValue(2)
    dialog.period.setCurrentIndex(dialog.period.findData("month"))
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert not dialog.isVisible() and page.message.text() == "物品已上架。"
    assert _stock_text(page, "大米（5kg）") == "20 袋"
    row = next(r for r, d in enumerate(page.items_data) if d.name == "大米（5kg）")
    assert page.items.item(row, 4).text() == "每月限 2 袋"

    page.select_item("毛巾")
    qtbot.mouseClick(page.in_button, LEFT)
    page.dialog.quantity.setValue(12)
    page.dialog.reason.setText("爱心企业捐赠")
    qtbot.mouseClick(page.dialog.ok_button, LEFT)
    assert _stock_text(page, "毛巾") == "20 条" and page.message.text() == "“毛巾”已入库 12。"

    qtbot.mouseClick(page.out_button, LEFT)
    out = page.dialog
    out.quantity.setValue(25)
    out.reason.setText("破损")
    qtbot.mouseClick(out.ok_button, LEFT)
    assert out.isVisible() and out.form.error_text("quantity") == "“毛巾”库存不足：现有 20，需要 25。"
    out.quantity.setValue(3)
    qtbot.mouseClick(out.ok_button, LEFT)
    assert _stock_text(page, "毛巾") == "17 条"

    qtbot.mouseClick(page.take_button, LEFT)
    take = page.dialog
    assert take.quantity.value() == 17
    take.quantity.setValue(15)
    qtbot.mouseClick(take.ok_button, LEFT)
    assert _stock_text(page, "毛巾") == "15 条" and page.message.text() == "“毛巾”已按实盘调整 -2。"
    with db.session_factory() as s:
        moves = [(m.kind, m.quantity, m.stock_after) for m in
                 s.scalars(select(StockMove).where(StockMove.item_id == world["towel"]).order_by(StockMove.id))]
        assert moves == [("in", 10, 10), ("redeem", -2, 8), ("in", 12, 20), ("out", -3, 17), ("adjust", -2, 15)]
        assert sv.check_consistency(s) == []

    qtbot.mouseClick(page.active_button, LEFT)
    assert page.message.text() == "“毛巾”已下架。"
    with db.session_factory() as s:
        assert s.get(RewardItem, world["towel"]).active is False
        assert sv.list_items(ServiceContext(s, Actor.system())) == [
            s.scalar(select(RewardItem).where(RewardItem.name == "大米（5kg）"))]


def test_cancel_a_redemption(qtbot, world):
    db = world["db"]
    page = _page(qtbot, world["app"])
    page.tabs.setCurrentIndex(1)
    assert page.orders_table.rowCount() == 1
    assert page.orders_table.item(0, 4).text() == "毛巾×2" and not page.cancel_button.isEnabled()
    page.select_order(world["order"])
    qtbot.mouseClick(page.cancel_button, LEFT)
    dialog = page.dialog
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.form.error_text("reason") == "请填写撤销原因。"
    dialog.reason.setText("拿错物品")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert page.orders_table.item(0, 6).text() == "已撤销（拿错物品）"
    assert page.message.text().startswith(f"兑换单 {world['order']} 已撤销：8 分已退回给赵敏")
    page.select_order(world["order"])
    assert not page.cancel_button.isEnabled()                 # a cancelled order cannot be cancelled again
    assert _stock_text(page, "毛巾") == "10 条"
    with db.session_factory() as s:
        assert s.get(RedemptionOrder, world["order"]).status == "cancelled"
        kinds = [(e.kind, e.points) for e in s.scalars(select(PointsEntry).where(
            PointsEntry.volunteer_id == world["volunteer"]).order_by(PointsEntry.id))]
        assert kinds == [("adjust", 50), ("redeem", -8), ("refund", 8)]
        assert sv.check_consistency(s) == []


def test_clerk_without_store_permission_only_cancels(qtbot, world):
    clerk = AppContext(world["db"].session_factory, actor_for(world["p1"], "volunteer.view", "volunteer.redeem"),
                       make_pm())
    page = _page(qtbot, clerk)
    assert not page.new_button.isVisible() and not page.in_button.isVisible()
    page.tabs.setCurrentIndex(1)
    assert page.cancel_button.isVisible()
