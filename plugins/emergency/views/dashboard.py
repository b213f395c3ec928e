"""Dashboard tile of the emergency plugin: summary lines (stock alerts, drills behind, rescue team
against the norm, plans due for review) and two charts — stock alerts per warehouse (items below
minimum, batches expiring within the first band, expired batches) and this year's drills per unit.
Everything is computed on the thread pool."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from shell.ui.widgets.charts import ChartData, ChartView

from .. import services as svc

LINES = 4


def _short(name: str) -> str:
    """Warehouse names are long (“东湖社区应急物资储备点”): the axis shows the unit only."""
    for tail in ("应急物资储备库", "应急物资储备点", "储备库", "储备点"):
        if name.endswith(tail) and len(name) > len(tail):
            return name[: -len(tail)]
    return name


def summary_lines(app_ctx) -> list[str]:
    with app_ctx.service(commit=False) as ctx:
        today = ctx.today()
        b1, _b2, b3 = svc.alert_days(ctx)
        per_wh = svc.alerts_by_warehouse(ctx)
        soon = sum(1 for a in svc.expiry_alerts(ctx) if a.band and a.band <= b3)
        behind = svc.drills_behind(ctx, today.year)
        teams = svc.team_size_check(ctx)
        due = len(svc.plans_review_due(ctx))
    below = sum(w.below_minimum for w in per_wh)
    expired = sum(w.expired for w in per_wh)
    first = sum(w.expiring for w in per_wh)
    team_text = "；".join(f"{t.street}综合救援队 {t.members} 人（规范 ≥ {t.norm}"
                         + ("，达标）" if t.ok else f"，差 {t.shortfall} 人）") for t in teams) or "无街道"
    return [f"低于最低库存 {below} 项，已过期 {expired} 批，{b1} 天内到期 {first} 批，{b3} 天内到期共 {soon} 批",
            f"{today.year}年综合演练未完成：" + ("、".join(c.area for c in behind) if behind else "无，均已完成"),
            team_text,
            f"已到评审期或即将到期的预案 {due} 个"]


def stock_chart(app_ctx) -> ChartData:
    with app_ctx.service(commit=False) as ctx:
        b1 = svc.alert_days(ctx)[0]
        rows = svc.alerts_by_warehouse(ctx)
    return ChartData(categories=[_short(r.warehouse) for r in rows],
                     series=[("低于最低库存（项）", [r.below_minimum for r in rows]),
                             (f"{b1} 天内到期（批）", [r.expiring for r in rows]),
                             ("已过期（批）", [r.expired for r in rows])],
                     kind="bar", y_label="数量", empty_text="各仓库库存正常，没有预警")


def drills_chart(app_ctx) -> ChartData:
    with app_ctx.service(commit=False) as ctx:
        year = ctx.today().year
        rows = svc.drills_by_unit(ctx, year)
    return ChartData(categories=[name for name, _c, _s in rows],
                     series=[("综合演练", [c for _n, c, _s in rows]), ("单项演练", [s for _n, _c, s in rows])],
                     kind="bar", y_label="次", empty_text=f"{year}年还没有开展演练")


class EmergencyTile(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        from shell.ui.tasks import run_in_pool

        super().__init__(parent)
        self.setObjectName("emergency-tile")
        self.app_ctx = app_ctx
        self.loaded = False
        self.labels: list[QLabel] = []
        layout = QVBoxLayout(self)
        for i in range(LINES):
            label = QLabel("正在统计…" if i == 0 else "", self)
            label.setObjectName(f"emergency-tile-line{i}")
            label.setWordWrap(True)
            layout.addWidget(label)
            self.labels.append(label)
        self.tabs = QTabWidget(self)
        self.stock_chart = ChartView(lambda: stock_chart(app_ctx), self.tabs, min_height=200)
        # the second chart is built when its tab is first shown: a pyqtgraph plot costs 50–100 ms of
        # GUI time, and the 首页 should not pay for a chart nobody looks at yet
        self.drills_chart: ChartView | None = None
        self.tabs.addTab(self.stock_chart, "库存与预警（按仓库）")
        self.tabs.addTab(QWidget(self.tabs), "本年演练（按单位）")
        self.tabs.currentChanged.connect(self._tab_shown)
        layout.addWidget(self.tabs, 1)
        run_in_pool(lambda: summary_lines(app_ctx), self._show)

    def _tab_shown(self, index: int) -> None:
        if index != 1 or self.drills_chart is not None:
            return
        self.drills_chart = ChartView(lambda: drills_chart(self.app_ctx), self.tabs, min_height=200)
        self.tabs.blockSignals(True)
        placeholder = self.tabs.widget(1)
        self.tabs.removeTab(1)
        self.tabs.insertTab(1, self.drills_chart, "本年演练（按单位）")
        self.tabs.setCurrentIndex(1)
        self.tabs.blockSignals(False)
        placeholder.deleteLater()

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
