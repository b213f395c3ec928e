"""Dashboard tile: the figures behind it (alerts per warehouse, drills per unit) on fixtures, and the
tile itself through pytest-qt — summary lines and both charts computed off the GUI thread."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from plugins.emergency import services as sv
from plugins.emergency.views.dashboard import EmergencyTile, drills_chart, stock_chart
from shell.core.context import AppContext
from shell.core.models import Area

from .conftest import TODAY, clock_at, scoped_actor


@pytest.fixture
def filled(world):
    early = world.ctx(day=TODAY - timedelta(days=100))
    main = sv.create_warehouse(early, world.street, "和平街道应急物资储备库")
    east = sv.create_warehouse(early, world.c1, "东湖社区应急物资储备点")
    water = sv.create_item(early, "1010101", "饮用水", "箱")
    pump = sv.create_item(early, "2010101", "潜水泵", "台")
    sv.receive(early, main.id, water.id, 10, "W-EXP", None, TODAY - timedelta(days=5))   # expired by TODAY
    early.session.commit()
    ctx = world.ctx()
    sv.receive(ctx, main.id, water.id, 5, "W-30", None, TODAY + timedelta(days=30))       # first band, boundary
    sv.receive(ctx, main.id, water.id, 5, "W-31", None, TODAY + timedelta(days=31))       # second band
    sv.receive(ctx, east.id, pump.id, 1, "P-1", None, None)
    sv.set_min_stock(ctx, east.id, pump.id, 3)                                            # below minimum
    sv.set_min_stock(ctx, main.id, pump.id, 2)                                            # none at all
    d = sv.plan_drill(ctx, world.street, "综合演练", "live", "comprehensive", "inspection", date(TODAY.year, 3, 1))
    sv.record_drill_held(ctx, d.id, date(TODAY.year, 3, 1), 100, place="广场")
    for i in range(2):
        d = sv.plan_drill(ctx, world.c1, f"单项{i}", "tabletop", "single", "inspection", date(TODAY.year, 4, 1))
        sv.record_drill_held(ctx, d.id, date(TODAY.year, 4, 1), 20, place="会议室")
    sv.plan_drill(ctx, world.c2, "计划中", "live", "comprehensive", "inspection", TODAY + timedelta(days=10))
    ctx.session.commit()
    with world.db.session_factory() as s:
        return main.id, east.id, s.get(Area, world.street).path


def test_alerts_by_warehouse_and_drills_by_unit(world, filled):
    main, east, _path = filled
    ctx = world.ctx()
    rows = {r.warehouse_id: r for r in sv.alerts_by_warehouse(ctx)}
    assert (rows[main].below_minimum, rows[main].expired, rows[main].expiring) == (1, 1, 1)
    assert (rows[east].below_minimum, rows[east].expired, rows[east].expiring) == (1, 0, 0)
    assert sv.drills_by_unit(ctx, TODAY.year) == [("和平街道", 1, 0), ("东湖社区", 0, 2), ("西关社区", 0, 0)]
    assert sv.drills_by_unit(ctx, TODAY.year - 1) == [("和平街道", 0, 0), ("东湖社区", 0, 0), ("西关社区", 0, 0)]


def test_tile_shows_lines_and_charts(qtbot, world, filled):
    app = AppContext(world.db.session_factory, scoped_actor(filled[2], "emergency.view"), clock=clock_at(TODAY))
    tile = EmergencyTile(app)
    qtbot.addWidget(tile)
    tile.resize(900, 460)
    tile.show()
    qtbot.waitUntil(lambda: tile.loaded and tile.stock_chart.data is not None, timeout=15000)
    lines = [label.text() for label in tile.labels]
    assert lines[0] == "低于最低库存 2 项，已过期 1 批，30 天内到期 1 批，90 天内到期共 2 批"
    assert lines[1] == f"{TODAY.year}年综合演练未完成：东湖社区、西关社区"
    assert lines[2] == "和平街道综合救援队 0 人（规范 ≥ 50，差 50 人）"
    data = tile.stock_chart.data
    assert list(data.categories) == ["和平街道", "东湖社区"]
    assert [list(v) for _n, v in data.series] == [[1, 1], [1, 0], [1, 0]]
    assert tile.drills_chart is None                  # built when its tab is first shown
    tile.tabs.setCurrentIndex(1)
    assert tile.tabs.currentWidget() is tile.drills_chart
    qtbot.waitUntil(lambda: tile.drills_chart.data is not None, timeout=15000)
    assert [list(v) for _n, v in tile.drills_chart.data.series] == [[1, 0, 0], [0, 2, 0]]


def test_chart_loaders_say_when_there_is_nothing(world):
    path = "/"
    app = AppContext(world.db.session_factory, scoped_actor(path, "emergency.view"), clock=clock_at(TODAY))
    assert stock_chart(app).is_empty() and stock_chart(app).empty_text == "各仓库库存正常，没有预警"
    assert drills_chart(app).is_empty() and drills_chart(app).empty_text == f"{TODAY.year}年还没有开展演练"
