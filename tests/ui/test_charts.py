"""ChartView: figures computed off the GUI thread, then drawn; empty and failing loads say so in Chinese."""
from __future__ import annotations

import threading

import pytest

from shell.errors import DatabaseError
from shell.ui.widgets.charts import ChartData, ChartView, count_ticks


def test_bar_chart_loads_off_the_gui_thread_and_draws(qtbot, tmp_path):
    threads = []

    def load():
        threads.append(threading.current_thread())
        return ChartData(categories=[f"{m}月" for m in range(1, 13)],
                         series=[("获得", [10, 20, 5, 0, 7, 9, 30, 12, 3, 4, 8, 1]),
                                 ("兑换", [3, 2, 1, 0, 5, 2, 9, 2, 1, 0, 3, 0])], y_label="积分")

    view = ChartView(load)
    qtbot.addWidget(view)
    view.resize(520, 260)
    view.show()
    assert view.message.text() == "正在统计…"
    qtbot.waitUntil(lambda: view.plot is not None, timeout=10000)
    assert threads and threads[0] is not threading.main_thread()
    item = view.plot.getPlotItem()
    ticks = item.getAxis("bottom")._tickLevels[0]
    assert [t[1] for t in ticks][:3] == ["1月", "2月", "3月"]
    assert len(item.items) == 2  # one bar group per series
    assert [label.text for _s, label in item.legend.items] == ["获得", "兑换"]
    view.grab().save(str(tmp_path / "chart.png"))


def test_line_chart_and_empty_state(qtbot):
    view = ChartView(lambda: ChartData(categories=["一", "二"], series=[("时长", [0, 0])], kind="line",
                                       empty_text="本年还没有服务时长"))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.data is not None, timeout=10000)
    assert view.plot is None and view.message.text() == "本年还没有服务时长"
    view.show_data(ChartData(categories=["一", "二"], series=[("时长", [1.5, 3])], kind="line"))
    assert view.plot is not None and len(view.plot.getPlotItem().listDataItems()) == 1


def test_failed_load_shows_the_error(qtbot):
    def load():
        raise DatabaseError("无法连接数据库服务器 127.0.0.1:5432。")

    view = ChartView(load)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.message.text().startswith("统计失败"), timeout=10000)
    assert view.message.text() == "统计失败：无法连接数据库服务器 127.0.0.1:5432。"


def test_a_chart_shown_again_reuses_its_plot(qtbot):
    view = ChartView(lambda: ChartData(categories=["一月", "二月"], series=[("获得", [1, 2]), ("兑换", [0, 1])],
                                       y_label="积分"))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.plot is not None, timeout=10000)
    plot = view.plot
    view.show_data(ChartData(categories=["一", "二", "三"], series=[("时长", [3, 4, 5])]))
    item = view.plot.getPlotItem()
    assert view.plot is plot                              # the same widget, emptied and drawn again
    assert len(item.items) == 1                           # the old two series are gone
    assert [label.text for _s, label in item.legend.items] == []
    assert [t[1] for t in item.getAxis("bottom")._tickLevels[0]] == ["一", "二", "三"]


@pytest.mark.parametrize(("y_top", "ticks"), [
    (1.1, [0, 1]), (3.3, [0, 1, 2, 3]), (6.6, [0, 2, 4, 6]), (13.0, [0, 5, 10]), (39.0, [0, 10, 20, 30]),
    (110.0, [0, 20, 40, 60, 80, 100]), (1300.0, [0, 500, 1000]),
])
def test_count_ticks_are_whole_numbers_at_a_readable_step(y_top, ticks):
    assert count_ticks(y_top) == ticks


def test_a_count_axis_has_whole_number_ticks_and_hours_keep_fractions(qtbot):
    """#17 §1: counts (件, 人) on an axis read 0, 1, 2 — not 0.5, 1.5."""
    view = ChartView(lambda: ChartData(categories=["一", "二"], series=[("事件", [1, 3])]))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.plot is not None, timeout=10000)
    left = view.plot.getPlotItem().getAxis("left")
    assert [label for _v, label in left._tickLevels[0]] == ["0", "1", "2", "3"]
    view.show_data(ChartData(categories=["一", "二"], series=[("时长", [1.5, 3])]))
    assert view.plot.getPlotItem().getAxis("left")._tickLevels is None  # pyqtgraph's own ticks again
