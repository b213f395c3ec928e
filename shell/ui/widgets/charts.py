"""Charts for dashboards and statistics pages, drawn with pyqtgraph.

``ChartView(load)`` runs ``load()`` (a plain function calling services, returning ``ChartData``) on
the thread pool and draws when the figures arrive, so neither the statistics nor the pyqtgraph
import (≈0.35 s) hold up the GUI thread or the start-up. Services build ``ChartData``-shaped values;
only this module knows pyqtgraph.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

from shell.ui.errors import error_text

# Distinguishable on screen and in grey print; the first is the application's accent.
PALETTE = ("#2f6fb2", "#e08a2c", "#3c9a5f", "#b8434b", "#7b5ea7", "#8c8c8c")


@dataclass
class ChartData:
    """``kind`` "bar" (grouped bars) or "line"; one value per category in every series."""

    categories: Sequence[str]
    series: Sequence[tuple[str, Sequence[float]]]
    kind: str = "bar"
    y_label: str = ""
    empty_text: str = "暂无数据"
    colors: Sequence[str] = field(default=PALETTE)

    def is_empty(self) -> bool:
        return not self.categories or all(not any(v) for _n, v in self.series)

    def is_counts(self) -> bool:
        """Every value a whole number: the axis counts things."""
        return all(float(x).is_integer() for _n, v in self.series for x in v)


def _new_plot(parent: QWidget) -> QWidget:
    import pyqtgraph as pg  # deferred: only a chart that has figures pays for the import

    # enableMenu=False: the view's context menu (a QMenu of some thirty widgets, each polished by the
    # style sheet) is never built; it halved the GUI time of a new chart.
    widget = pg.PlotWidget(parent=parent, background="w", enableMenu=False)
    widget.setObjectName("chart-plot")
    widget.setMenuEnabled(False)
    widget.setMouseEnabled(x=False, y=False)
    widget.hideButtons()
    item = widget.getPlotItem()
    item.showGrid(y=True, alpha=0.25)
    for side in ("bottom", "left"):
        item.getAxis(side).setTextPen("#333")
        item.getAxis(side).setPen("#999")
    return widget


def _draw(widget: QWidget, data: ChartData) -> None:
    """Draw ``data`` into a plot made by ``_new_plot`` (emptied first: a chart that is shown again
    reuses its plot, since building one costs 20–100 ms of GUI time)."""
    import pyqtgraph as pg

    item = widget.getPlotItem()
    item.clear()
    if item.legend is not None:
        item.legend.clear()
    n = len(data.categories)
    axis = item.getAxis("bottom")
    # Thin the labels when there are many categories so they never overlap.
    step = max(1, n // 12)
    axis.setTicks([[(i, str(c)) for i, c in enumerate(data.categories) if i % step == 0]])
    # The unit above the plot, read horizontally (a rotated Chinese label is hard to read).
    item.setTitle(data.y_label or None, color="#555", size="9pt", justify="left")
    legend = len(data.series) > 1
    if legend and item.legend is None:
        # Top right, with head-room kept free above the bars (see the y range below).
        item.addLegend(offset=(-8, 4), labelTextColor="#333", colCount=len(data.series))
    if item.legend is not None:
        item.legend.setVisible(legend)
    count = max(1, len(data.series))
    width = 0.8 / count
    for k, (name, values) in enumerate(data.series):
        color = data.colors[k % len(data.colors)]
        name = name if legend else None   # a named item joins the legend by itself
        if data.kind == "line":
            item.plot(list(range(n)), list(values), pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6,
                      symbolBrush=color, symbolPen=None, name=name)
        else:
            xs = [i - 0.4 + width * (k + 0.5) for i in range(n)]
            bars = pg.BarGraphItem(x=xs, height=list(values), width=width * 0.9, brush=color, pen=None, name=name)
            item.addItem(bars)
    item.setXRange(-0.6, n - 0.4, padding=0)
    top = max((max(v) if len(v) else 0) for _n, v in data.series) if data.series else 0
    y_top = max(1, top) * (1.3 if len(data.series) > 1 else 1.1)
    item.setYRange(0, y_top, padding=0)
    # Counts (件, 人, 次) get whole-number ticks: "2.5 件" on an axis reads as a mistake.
    left = item.getAxis("left")
    left.setTicks([[(v, str(v)) for v in count_ticks(y_top)]] if data.is_counts() else None)


def count_ticks(y_top: float, most: int = 6) -> list[int]:
    """Whole-number ticks from 0 up to ``y_top``, at a step of 1, 2 or 5 × 10ⁿ, at most ``most`` + 1."""
    step = 1
    while y_top / step > most:
        step = _next_step(step)
    return list(range(0, int(y_top) + 1, step))


def _next_step(step: int) -> int:
    """1 → 2 → 5 → 10 → 20 → 50 → 100 …"""
    digits = len(str(step)) - 1
    lead = step // 10 ** digits
    return {1: 2, 2: 5, 5: 10}[lead] * 10 ** digits


def _plot(data: ChartData, parent: QWidget) -> QWidget:
    widget = _new_plot(parent)
    _draw(widget, data)
    return widget


_DRAW_QUEUE: list[tuple[ChartView, ChartData]] = []


def _draw_later(view: ChartView, data: ChartData) -> None:
    """Draw charts one per turn of the event loop. A pyqtgraph plot costs 20–100 ms of GUI time to
    build; a page whose charts' figures arrive together froze for their sum, now for one at most."""
    _DRAW_QUEUE.append((view, data))
    if len(_DRAW_QUEUE) == 1:
        QTimer.singleShot(0, _draw_next)


def _draw_next() -> None:
    view, data = _DRAW_QUEUE.pop(0)
    try:
        view.objectName()
    except RuntimeError:  # deleted while waiting its turn
        pass
    else:
        view.show_data(data)
    if _DRAW_QUEUE:
        QTimer.singleShot(0, _draw_next)


def charts_pending() -> int:
    """Charts whose figures arrived but which are not drawn yet (benchmarks and tests wait on it)."""
    return len(_DRAW_QUEUE)


class ChartView(QWidget):
    """Shows "正在统计…", then the chart, an empty-state line, or the error in Chinese.
    ``has_data(bool)`` says, each time figures arrive, whether there was anything to draw (the 首页
    leaves out a tile with nothing in it)."""

    has_data = Signal(bool)

    def __init__(self, load: Callable[[], ChartData], parent: QWidget | None = None, min_height: int = 220):
        super().__init__(parent)
        self.setObjectName("chart")
        self.setMinimumHeight(min_height)
        self.load = load
        self.data: ChartData | None = None
        self.plot: QWidget | None = None
        self._stack = QStackedLayout(self)
        self.message = QLabel("正在统计…", self)
        self.message.setObjectName("chart-message")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: #777;")
        self._stack.addWidget(self.message)
        self.refresh()

    def refresh(self) -> None:
        from shell.ui.tasks import run_in_pool

        self.message.setText("正在统计…")
        self._stack.setCurrentWidget(self.message)
        run_in_pool(self._load_and_import, self._loaded)

    def _load_and_import(self) -> ChartData:
        data = self.load()
        if not data.is_empty():
            # The first chart's import of pyqtgraph (≈0.35–0.5 s: numpy, its Qt shim) happens here, on
            # the pool, not in _plot on the GUI thread, where it froze the 首页 while its charts arrived.
            import pyqtgraph  # noqa: F401
        return data

    def _loaded(self, ok: bool, result) -> None:
        try:
            self.objectName()
        except RuntimeError:  # the widget was deleted while the figures were computed
            return
        if not ok:
            self.message.setText(f"统计失败：{error_text(result)[1]}")
            return
        _draw_later(self, result)

    def show_data(self, data: ChartData) -> None:
        self.data = data
        if data.is_empty():
            self.message.setText(data.empty_text)
            self._stack.setCurrentWidget(self.message)
            self.has_data.emit(False)
            return
        if self.plot is None:
            self.plot = _new_plot(self)
            self._stack.addWidget(self.plot)
        _draw(self.plot, data)
        self._stack.setCurrentWidget(self.plot)
        self.has_data.emit(True)
