"""Dashboard tile: this year's event indicators, overdue events, overdue visits, under-staffed grids
and tenants reported late in the user's scope, and a chart of events reported and closed per month. Both are computed on the
thread pool: a year of events is too much to read on the GUI thread."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from shell.ui.widgets.charts import ChartData, ChartView

from .. import services as svc

LINES = 6


def summary_lines(app_ctx) -> list[str]:
    from shell.gcpause import paused_gc

    with paused_gc(), app_ctx.service(commit=False) as ctx:
        today = ctx.today()
        ind = svc.indicators(ctx, today.replace(month=1, day=1), today)
        overdue = len(svc.overdue_events(ctx))
        visits = svc.count_overdue_visits(ctx)
        broken = len(svc.grids_breaking_ratio(ctx))
        late = svc.count_late_reports(ctx)
    mean = "—" if ind.mean_hours is None else f"{ind.mean_hours:.1f} 小时"
    return [f"{today.year}年立案 {ind.due} 件，结案 {ind.closed} 件",
            f"结案率 {ind.percent(ind.closure_rate)}，按期结案率 {ind.percent(ind.on_time_rate)}",
            f"平均办理时长 {mean}",
            f"超期未结事件 {overdue} 件，逾期未走访 {visits} 人",
            f"网格员配比不达标网格 {broken} 个",
            f"租客逾期报备 {late.late} 人" + (f"（其中未报备 {late.unreported} 人）" if late.unreported else "")]


def monthly_chart(app_ctx) -> ChartData:
    """Events reported vs closed per month of this year, up to the current month."""
    from shell.gcpause import paused_gc

    with paused_gc(), app_ctx.service(commit=False) as ctx:
        today = ctx.today()
        rows = svc.monthly_counts(ctx, today.year)[:today.month]
    return ChartData(categories=[f"{m}月" for m, _r, _c in rows],
                     series=[("上报", [r for _m, r, _c in rows]), ("结案", [c for _m, _r, c in rows])],
                     kind="bar", y_label="件", empty_text=f"{today.year}年暂无事件")


class GridTile(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        from shell.ui.tasks import run_in_pool

        super().__init__(parent)
        self.setObjectName("grid-tile")
        self.app_ctx = app_ctx
        self.labels: list[QLabel] = []
        layout = QVBoxLayout(self)
        for i in range(LINES):
            label = QLabel("正在统计…" if i == 0 else "", self)
            label.setObjectName(f"grid-tile-line{i}")
            layout.addWidget(label)
            self.labels.append(label)
        self.chart = ChartView(lambda: monthly_chart(app_ctx), self, min_height=200)
        layout.addWidget(self.chart, 1)
        self.loaded = False
        run_in_pool(lambda: summary_lines(app_ctx), self._show)

    def _show(self, ok: bool, result) -> None:
        try:
            self.objectName()
        except RuntimeError:   # the dashboard was closed meanwhile
            return
        if not ok:
            from shell.ui.errors import error_text

            self.labels[0].setText(f"统计失败：{error_text(result)[1]}")
            return
        for label, line in zip(self.labels, result, strict=False):
            label.setText(line)
        self.loaded = True
