"""Dashboard tile: party members by stage and the to-do counts, with two charts computed on the
thread pool — meetings held against those required this year, and the age structure."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from shell.gcpause import without_gc
from shell.ui.widgets.charts import ChartData, ChartView

from .. import services as svc

SHORT = {"民主评议党员": "民主评议", "组织生活会": "组织生活", "35岁及以下": "≤35岁", "66岁及以上": "≥66岁"}


@without_gc
def summary_lines(app_ctx) -> list[str]:
    with app_ctx.service(commit=False) as ctx:
        s = svc.party_summary(ctx)
    p = s.pipeline
    return [f"党员 {s.full + s.probationary} 名（正式 {s.full}，预备 {s.probationary}）",
            f"发展对象 {p['candidate']}，积极分子 {p['activist']}，入党申请人 {p['applicant']}",
            f"30 天内转正到期 {s.due} 人，预备期已满未转正 {s.overdue} 人",
            f"回执逾期 {s.receipts_overdue} 份，失联 {s.lost} 人，流动 {s.mobile} 人"]


@without_gc
def meetings_chart(app_ctx) -> ChartData:
    with app_ctx.service(commit=False) as ctx:
        year = ctx.today().year
        rows = svc.meeting_progress(ctx, year)
    # Short axis labels: seven kinds side by side in half a dashboard.
    return ChartData(categories=[SHORT.get(k, k) for k, _r, _h in rows],
                     series=[("应开", [r for _k, r, _h in rows]), ("已开", [h for _k, _r, h in rows])],
                     kind="bar", y_label="次", empty_text=f"{year}年暂无应开会议")


@without_gc
def age_chart(app_ctx) -> ChartData:
    with app_ctx.service(commit=False) as ctx:
        ages = svc.party_summary(ctx).ages
    return ChartData(categories=[SHORT.get(a, a) for a, _n in ages], series=[("党员", [n for _a, n in ages])], kind="bar",
                     y_label="人", empty_text="暂无党员")


class PartyTile(QWidget):
    def __init__(self, app_ctx, parent: QWidget | None = None):
        from shell.ui.tasks import run_in_pool

        super().__init__(parent)
        self.setObjectName("partybuilding-tile")
        self.loaded = False
        self.labels = [QLabel("正在统计…" if i == 0 else "", self) for i in range(4)]
        lay = QVBoxLayout(self)
        for i, label in enumerate(self.labels):
            label.setObjectName(f"pb-tile-line{i}")
            lay.addWidget(label)
        charts = QHBoxLayout()
        left, right = QVBoxLayout(), QVBoxLayout()
        left.addWidget(QLabel("本年组织生活：应开与已开"))
        self.meetings = ChartView(lambda: meetings_chart(app_ctx), self, min_height=200)
        left.addWidget(self.meetings, 1)
        right.addWidget(QLabel("党员年龄结构"))
        self.ages = ChartView(lambda: age_chart(app_ctx), self, min_height=200)
        right.addWidget(self.ages, 1)
        charts.addLayout(left, 3)
        charts.addLayout(right, 2)
        lay.addLayout(charts, 1)
        run_in_pool(lambda: summary_lines(app_ctx), self._show)

    def _show(self, ok: bool, result) -> None:
        try:
            self.objectName()
        except RuntimeError:
            return
        if not ok:
            from shell.ui.errors import error_text

            self.labels[0].setText(f"统计失败：{error_text(result)[1]}")
            return
        for label, line in zip(self.labels, result, strict=False):
            label.setText(line)
        self.loaded = True
