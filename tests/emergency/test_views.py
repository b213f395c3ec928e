"""应急物资 page through the real widgets (pytest-qt): batches with status text and alert colours,
the item filter, switching warehouse, the summary line, the visible warehouses of a scoped keeper,
and the page only for users with emergency.view. Fixture data is built through the services."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from plugins.emergency import services as sv
from plugins.emergency.models import Item
from plugins.emergency.views.stock import BAND_BG, BELOW_MIN_FG, EXPIRED_BG, StockPage
from shell.core.context import AppContext
from shell.core.models import Area
from shell.ui.main_window import collect_pages

from .conftest import TODAY, clock_at, scoped_actor

STATUS, NAME, BATCH = 8, 1, 4


@dataclass
class Stock:
    main: int
    east: int
    street_path: str
    c1_path: str


@pytest.fixture
def stock(world):
    early = world.ctx(day=TODAY - timedelta(days=100))
    main = sv.create_warehouse(early, world.street, "街道应急物资储备库")
    east = sv.create_warehouse(early, world.c1, "东湖社区储备点")
    water = sv.create_item(early, "1010101", "饮用水", "箱", "550ml×24")
    pump = sv.create_item(early, "2010101", "潜水泵", "台", "QDX-1.5kW")
    tent = sv.create_item(early, "1020101", "救灾帐篷", "顶", "12㎡")
    rope = sv.create_item(early, "2020101", "安全绳", "根", "30m")
    sv.receive(early, main.id, water.id, 10, "W-EXP", None, TODAY - timedelta(days=5))   # expired by TODAY
    early.session.commit()
    ctx = world.ctx()
    sv.receive(ctx, main.id, water.id, 30, "W-20", None, TODAY + timedelta(days=20))
    sv.receive(ctx, main.id, water.id, 5, "W-45", None, TODAY + timedelta(days=45))
    sv.receive(ctx, main.id, pump.id, 2, "P-80", None, TODAY + timedelta(days=80))
    sv.receive(ctx, main.id, tent.id, 10, "T-OK", None, TODAY + timedelta(days=400))
    sv.set_min_stock(ctx, main.id, water.id, 20)
    sv.set_min_stock(ctx, main.id, pump.id, 5)        # 2 < 5: below minimum
    sv.set_min_stock(ctx, main.id, rope.id, 4)        # nothing in stock at all
    sv.receive(ctx, east.id, water.id, 8, "E-1", None, None)
    ctx.session.commit()
    with world.db.session_factory() as s:
        return Stock(main.id, east.id, s.get(Area, world.street).path, s.get(Area, world.c1).path)


def app_for(world, path, *perms):
    return AppContext(world.db.session_factory, scoped_actor(path, *perms), clock=clock_at(TODAY))


@pytest.fixture
def page(qtbot, world, stock):
    p = StockPage(app_for(world, stock.street_path, "emergency.view"))
    qtbot.addWidget(p)
    p.show()
    return p


def cell(page, row, col, role=Qt.ItemDataRole.DisplayRole):
    return page.model.data(page.model.index(row, col), role)


def rows_by_batch(page):
    return {cell(page, r, BATCH): r for r in range(page.model.rowCount())}


def test_batches_status_text_and_colours(page, stock):
    assert page.warehouse.currentText() == "街道应急物资储备库"
    rows = rows_by_batch(page)
    assert list(rows) == ["W-EXP", "W-20", "W-45", "T-OK", "P-80", "—"]    # by item code, then expiry
    expect = {"W-EXP": ("已过期 5 天", EXPIRED_BG), "W-20": ("30 天内到期（剩 20 天）", BAND_BG[0]),
              "W-45": ("60 天内到期（剩 45 天）", BAND_BG[1]), "P-80": ("90 天内到期（剩 80 天）；低于最低库存", BAND_BG[2]),
              "T-OK": ("正常", None), "—": ("无库存；低于最低库存", None)}
    for batch, (text, colour) in expect.items():
        r = rows[batch]
        assert cell(page, r, STATUS) == text
        for col in range(page.model.columnCount()):
            brush = cell(page, r, col, Qt.ItemDataRole.BackgroundRole)
            assert (brush.color() if brush is not None else None) == colour, (batch, col)
    # below minimum: red text on the item (pump and rope), not on water (35 usable ≥ 20)
    for batch in ("P-80", "—"):
        assert cell(page, rows[batch], NAME, Qt.ItemDataRole.ForegroundRole).color() == BELOW_MIN_FG
    assert cell(page, rows["W-20"], NAME, Qt.ItemDataRole.ForegroundRole) is None
    r = rows["P-80"]
    assert [cell(page, r, c) for c in range(8)] == ["2010101", "潜水泵", "QDX-1.5kW", "台", "P-80",
                                                     (TODAY + timedelta(days=80)).isoformat(), "2", "5"]
    assert cell(page, rows["—"], NAME) == "安全绳" and cell(page, rows["—"], 6) == "0"
    assert page.count_label.text() == "共 4 种物资、5 批"


def test_summary_line(page):
    assert page.summary_label.text() == ("低于最低库存 2 项，已过期 1 批，30 天内到期 1 批，"
                                         "31–60 天到期 1 批，61–90 天到期 1 批")
    assert [c.text() for c in page.legend_chips] == ["已过期", "30 天内到期", "31–60 天", "61–90 天", "低于最低库存（红字）"]


def test_filter_by_name_or_code_narrows_rows(page):
    page.search.setText("水泵")
    page.search.flush()
    assert list(rows_by_batch(page)) == ["P-80"]
    page.search.setText("1010")                   # code prefix
    page.search.flush()
    assert list(rows_by_batch(page)) == ["W-EXP", "W-20", "W-45"]
    page.search.setText("不存在的物资")
    page.search.flush()
    assert page.model.rowCount() == 0 and page.count_label.text() == "共 0 种物资、0 批"
    # the summary is about the whole warehouse, whatever the filter
    assert page.summary_label.text().startswith("低于最低库存 2 项，已过期 1 批")
    page.search.setText("")
    page.search.flush()
    assert page.model.rowCount() == 6


def test_alerts_only_filter(qtbot, page):
    qtbot.mouseClick(page.alerts_only, Qt.MouseButton.LeftButton)
    assert page.alerts_only.isChecked()
    assert list(rows_by_batch(page)) == ["W-EXP", "W-20", "W-45", "P-80", "—"]     # T-OK is fine
    page.search.setText("绳")
    page.search.flush()
    assert list(rows_by_batch(page)) == ["—"]
    page.search.setText("")
    page.search.flush()
    qtbot.mouseClick(page.alerts_only, Qt.MouseButton.LeftButton)
    assert page.model.rowCount() == 6


def test_switching_warehouse_changes_rows(page):
    page.warehouse.setCurrentIndex(page.warehouse.findText("东湖社区储备点"))
    assert list(rows_by_batch(page)) == ["E-1"]
    assert cell(page, 0, STATUS) == "正常" and cell(page, 0, 5) == "—"
    assert page.summary_label.text() == ("低于最低库存 0 项，已过期 0 批，30 天内到期 0 批，"
                                         "31–60 天到期 0 批，61–90 天到期 0 批")
    page.warehouse.setCurrentIndex(page.warehouse.findText("街道应急物资储备库"))
    assert page.model.rowCount() == 6


def test_scoped_keeper_sees_only_visible_warehouses(qtbot, world, stock):
    p = StockPage(app_for(world, stock.c1_path, "emergency.view"))
    qtbot.addWidget(p)
    assert [p.warehouse.itemText(i) for i in range(p.warehouse.count())] == ["东湖社区储备点"]
    assert list(rows_by_batch(p)) == ["E-1"]


def test_no_warehouse_says_so(qtbot, world):
    p = StockPage(app_for(world, "/", "emergency.view"))
    qtbot.addWidget(p)
    assert not p.warehouse.isEnabled() and p.model.rowCount() == 0
    assert p.summary_label.text() == "没有可查看的应急仓库。"


def test_page_only_for_users_with_view_permission(qtbot, world, stock, emergency_pm):
    def page_ids(*perms):
        app = AppContext(world.db.session_factory, scoped_actor(stock.street_path, *perms), emergency_pm,
                         clock=clock_at(TODAY))
        return app, {s.id: s for s in collect_pages(app)}

    _, specs = page_ids("emergency.stock.manage")
    assert "emergency.stock" not in specs
    app, specs = page_ids("emergency.view")
    spec = specs["emergency.stock"]
    assert (spec.title, spec.permission, spec.order) == ("应急物资", "emergency.view", 60)
    widget = spec.factory(app, None)
    qtbot.addWidget(widget)
    assert isinstance(widget, StockPage) and widget.objectName() == "emergency-stock"


def test_read_services_need_view_permission_and_scope(world, stock):
    from shell.errors import OutOfScope, PermissionDenied

    ctx = world.ctx(scoped_actor(stock.c1_path, "emergency.stock.manage"))
    with pytest.raises(PermissionDenied):
        sv.warehouse_stock(ctx, stock.east)
    with pytest.raises(PermissionDenied):
        sv.stock_alert_summary(ctx, stock.east)
    ctx = world.ctx(scoped_actor(stock.c1_path, "emergency.view"))
    with pytest.raises(OutOfScope):
        sv.warehouse_stock(ctx, stock.main)
    with pytest.raises(OutOfScope):
        sv.stock_alert_summary(ctx, stock.main)
    summary = sv.stock_alert_summary(world.ctx(), stock.main)
    assert (summary.below_minimum, summary.expired, summary.expiring) == (2, 1, (1, 1, 1))


def test_open_record_shows_the_stock_page_at_a_warehouse_or_item(qtbot, world, stock):
    import plugins.emergency as plugin

    ctx = app_for(world, stock.street_path, "emergency.view")
    shown = {}

    def open_page(page_id):
        assert page_id == "emergency.stock"
        if "page" not in shown:
            shown["page"] = StockPage(ctx)
            qtbot.addWidget(shown["page"])
        return shown["page"]

    ctx.extras["open_page"] = open_page
    assert plugin.open_record(ctx=ctx, kind="emergency.warehouse", id=stock.east) is True
    assert shown["page"].warehouse.currentText() == "东湖社区储备点"
    with world.db.session_factory() as s:
        pump = s.scalar(select(Item.id).where(Item.code == "2010101"))
    assert plugin.open_record(ctx=ctx, kind="emergency.item", id=pump) is True
    page = shown["page"]
    assert page.warehouse.currentText() == "街道应急物资储备库" and page.search.text() == "2010101"
    assert set(rows_by_batch(page)) == {"P-80"}
    assert plugin.open_record(ctx=ctx, kind="grid.person", id=1) is None
