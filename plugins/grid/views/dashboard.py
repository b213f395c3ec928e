"""Dashboard tile: this year's event indicators, overdue events, overdue visits and under-staffed grids
in the user's scope."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .. import services as svc


def summary_lines(app_ctx) -> list[str]:
    with app_ctx.service(commit=False) as ctx:
        today = ctx.today()
        ind = svc.indicators(ctx, today.replace(month=1, day=1), today)
        overdue = len(svc.overdue_events(ctx))
        visits = len(svc.overdue_visits(ctx))
        broken = len(svc.grids_breaking_ratio(ctx))
    mean = "—" if ind.mean_hours is None else f"{ind.mean_hours:.1f} 小时"
    return [f"{today.year}年立案 {ind.due} 件，结案 {ind.closed} 件",
            f"结案率 {ind.percent(ind.closure_rate)}，按期结案率 {ind.percent(ind.on_time_rate)}",
            f"平均办理时长 {mean}",
            f"超期未结事件 {overdue} 件，逾期未走访 {visits} 人",
            f"网格员配比不达标网格 {broken} 个"]


class GridTile(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("grid-tile")
        self.labels = []
        layout = QVBoxLayout(self)
        for line in summary_lines(app_ctx):
            label = QLabel(line, self)
            layout.addWidget(label)
            self.labels.append(label)
        layout.addStretch(1)
