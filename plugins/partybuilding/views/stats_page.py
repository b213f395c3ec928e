"""党员结构统计: party members by organisation (社区党委/党总支), by age and by education — charts
whose figures are computed on the thread pool."""
from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from shell.gcpause import without_gc
from shell.ui.widgets.charts import ChartData, ChartView

from .. import services as svc

EDU_ORDER = ("研究生", "大学本科", "大学专科", "大专", "中专", "高中", "初中", "小学", "未填")


@without_gc
def by_org_chart(app_ctx) -> ChartData:
    with app_ctx.service(commit=False) as ctx:
        rows = svc.members_by_org(ctx, level=2)
    # "中共某某社区委员会" → "某某社区": the axis has room for short names only.
    names = [n.removeprefix("中共").removesuffix("总支部委员会").removesuffix("委员会") for n, _m, _f in rows]
    return ChartData(categories=names, series=[("正式党员", [f for _n, _m, f in rows]),
                                               ("预备党员", [m - f for _n, m, f in rows])],
                     kind="bar", y_label="人", empty_text="暂无党组织")


@without_gc
def age_chart(app_ctx) -> ChartData:
    with app_ctx.service(commit=False) as ctx:
        ages = svc.party_summary(ctx).ages
    return ChartData(categories=[a for a, _n in ages], series=[("党员", [n for _a, n in ages])], kind="bar",
                     y_label="人", empty_text="暂无党员")


@without_gc
def education_chart(app_ctx) -> ChartData:
    with app_ctx.service(commit=False) as ctx:
        edu = dict(svc.party_summary(ctx).education)
    keys = [k for k in EDU_ORDER if k in edu] + sorted(k for k in edu if k not in EDU_ORDER)
    return ChartData(categories=keys, series=[("党员", [edu[k] for k in keys])], kind="bar", y_label="人",
                     empty_text="暂无党员")


class StatsPage(QWidget):
    def __init__(self, app_ctx, parent=None):
        super().__init__(parent)
        self.setObjectName("partybuilding-stats")
        self.by_org = ChartView(lambda: by_org_chart(app_ctx), self, min_height=260)
        self.ages = ChartView(lambda: age_chart(app_ctx), self, min_height=240)
        self.education = ChartView(lambda: education_chart(app_ctx), self, min_height=240)
        grid = QGridLayout()
        grid.addWidget(QLabel("各社区党委（党总支）党员数"), 0, 0, 1, 2)
        grid.addWidget(self.by_org, 1, 0, 1, 2)
        grid.addWidget(QLabel("年龄结构"), 2, 0)
        grid.addWidget(QLabel("学历结构"), 2, 1)
        grid.addWidget(self.ages, 3, 0)
        grid.addWidget(self.education, 3, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(grid)

    def charts(self) -> list[ChartView]:
        return [self.by_org, self.ages, self.education]


def make_page(app_ctx, parent=None):
    return StatsPage(app_ctx, parent)
