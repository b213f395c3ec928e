"""Dashboard charts (首页): approved service hours per month, points earned vs redeemed per month, and
the star-level distribution of active volunteers, all in the user's scope. Each ``load_*`` is a plain
function over the services (its own read-only session) that ``ChartView`` runs on the thread pool."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget

from shell.ui.widgets.charts import ChartData, ChartView

from .. import services as svc

MONTHS = 12


def _month_labels(months) -> list[str]:
    """"M月" for every other month counted back from the latest, so labels never touch in a tile."""
    n = len(months)
    return [f"{d.month}月" if (n - 1 - i) % 2 == 0 else "" for i, d in enumerate(months)]


def load_hours(app_ctx) -> ChartData:
    with app_ctx.service(commit=False) as ctx:
        rows = svc.hours_by_month(ctx, MONTHS)
    return ChartData(_month_labels([m for m, _ in rows]), [("服务时长", [round(v / 60, 1) for _, v in rows])],
                     kind="bar", y_label="小时", empty_text="近 12 个月没有审核计入的服务时长")


def load_points(app_ctx) -> ChartData:
    with app_ctx.service(commit=False) as ctx:
        rows = svc.points_by_month(ctx, MONTHS)
    return ChartData(_month_labels([m for m, _, _ in rows]),
                     [("获得积分", [e for _, e, _ in rows]), ("兑换积分", [r for _, _, r in rows])],
                     kind="bar", y_label="分", empty_text="近 12 个月没有积分变动")


def load_stars(app_ctx) -> ChartData:
    with app_ctx.service(commit=False) as ctx:
        rows = svc.star_distribution(ctx)
    return ChartData([label for label, _ in rows], [("志愿者人数", [n for _, n in rows])], kind="bar",
                     y_label="人", empty_text="暂无在册志愿者")


def hours_chart(app_ctx, parent: QWidget | None = None) -> ChartView:
    view = ChartView(lambda: load_hours(app_ctx), parent)
    view.setObjectName("volunteer-hours-chart")
    return view


def points_chart(app_ctx, parent: QWidget | None = None) -> ChartView:
    view = ChartView(lambda: load_points(app_ctx), parent)
    view.setObjectName("volunteer-points-chart")
    return view


def stars_chart(app_ctx, parent: QWidget | None = None) -> ChartView:
    view = ChartView(lambda: load_stars(app_ctx), parent)
    view.setObjectName("volunteer-stars-chart")
    return view
