"""志愿服务 (volunteer service): volunteers and teams, activities with sign-in/out and approval, the
hours and points ledgers, the 爱心超市 reward store, certificates and ledgers.

Hook implementations only, and light: models, services, reports and Qt are imported inside the hooks."""
from __future__ import annotations

from pathlib import Path

from shell import hookimpl
from shell.contracts import MigrationBranch, PageSpec, PluginInfo

NAME = "volunteer"
KIND_VOLUNTEER = "volunteer.volunteer"


@hookimpl
def plugin_info():
    return PluginInfo(name=NAME, title="志愿服务", version="0.1", icon="SP_DialogYesButton",
                      description="志愿者与队伍、活动考勤与时长审核、积分台账、爱心超市兑换、志愿服务证明",
                      warm=("services", "views.dashboard"), preload=("ledgers", "importers", "views.*"))


@hookimpl
def register_migrations():
    return MigrationBranch(NAME, Path(__file__).parent / "migrations")


@hookimpl
def register_permissions():
    from .rules import PERMISSIONS

    return list(PERMISSIONS)


@hookimpl
def register_roles():
    from .rules import ROLES

    return list(ROLES)


@hookimpl
def register_table_access():
    from .rules import TABLE_ACCESS

    return list(TABLE_ACCESS)


@hookimpl
def register_settings():
    from .rules import SETTINGS

    return list(SETTINGS)


@hookimpl
def register_search(ctx, text):
    from reports.masking import mask_id, mask_phone
    from shell.contracts import SearchResult

    from . import services

    if not ctx.actor.can("volunteer.view") or not (text or "").strip():
        return []
    with ctx.service(commit=False) as sctx:
        return [SearchResult(kind=KIND_VOLUNTEER, id=v.id, title=v.name,
                             subtitle=f"志愿者 {v.number} · {mask_id(v.id_number)}"
                                      + (f" · {mask_phone(v.phone)}" if v.phone else "")
                                      + ("" if v.active else " · 已停用"),
                             plugin=NAME)
                for v in services.search_volunteers(sctx, text)]


@hookimpl
def seed_demo(session, scale, rng):
    from .demo import seed

    seed(session, scale, rng)


@hookimpl
def register_reports():
    from .ledgers import REPORTS

    return list(REPORTS)


@hookimpl
def register_importers():
    from .importers import IMPORTERS

    return list(IMPORTERS)


def _volunteers_page(app_ctx, parent=None):
    from .views.volunteers import VolunteersPage

    return VolunteersPage(app_ctx, parent)


def _counter_page(app_ctx, parent=None):
    from .views.counter import CounterPage

    return CounterPage(app_ctx, parent)


def _activities_page(app_ctx, parent=None):
    from .views.activities import ActivitiesPage

    return ActivitiesPage(app_ctx, parent)


def _approvals_page(app_ctx, parent=None):
    from .views.approvals import ApprovalsPage

    return ApprovalsPage(app_ctx, parent)


def _teams_page(app_ctx, parent=None):
    from .views.teams import TeamsPage

    return TeamsPage(app_ctx, parent)


def _store_page(app_ctx, parent=None):
    from .views.store import StorePage

    return StorePage(app_ctx, parent)


@hookimpl
def register_pages(ctx):
    # The permission codes are rules.P_VIEW / P_APPROVE / P_REDEEM, spelled out so the hook does not
    # import anything.
    return [PageSpec(id="volunteer.volunteers", title="志愿者", factory=_volunteers_page, icon="SP_DirHomeIcon",
                     order=30, permission="volunteer.view", group="志愿服务"),
            PageSpec(id="volunteer.activities", title="志愿活动", factory=_activities_page,
                     icon="SP_FileDialogDetailedView", order=31, permission="volunteer.view", group="志愿服务"),
            PageSpec(id="volunteer.teams", title="志愿队伍", factory=_teams_page, icon="SP_DirLinkIcon",
                     order=34, permission="volunteer.view", group="志愿服务"),
            PageSpec(id="volunteer.approvals", title="时长审核", factory=_approvals_page, icon="SP_DialogApplyButton",
                     order=32, permission="volunteer.approve", group="志愿服务"),
            PageSpec(id="volunteer.counter", title="爱心超市兑换", factory=_counter_page, icon="SP_DialogApplyButton",
                     order=33, permission="volunteer.redeem", group="志愿服务"),
            PageSpec(id="volunteer.store", title="爱心超市管理", factory=_store_page, icon="SP_DriveHDIcon",
                     order=35, permission="volunteer.store.manage", group="志愿服务")]


def _chart(name):
    def factory(app_ctx, parent=None):
        from .views import dashboard

        return getattr(dashboard, name)(app_ctx, parent)
    return factory


@hookimpl
def register_dashboard_widgets(ctx):
    from shell.contracts import DashboardWidgetSpec

    return [DashboardWidgetSpec(id="volunteer.hours_chart", title="志愿服务时长（近 12 个月）", factory=_chart("hours_chart"),
                                order=30, permission="volunteer.view"),
            DashboardWidgetSpec(id="volunteer.points_chart", title="积分获得与兑换（近 12 个月）",
                                factory=_chart("points_chart"), order=31, permission="volunteer.view"),
            DashboardWidgetSpec(id="volunteer.stars_chart", title="志愿者星级分布", factory=_chart("stars_chart"),
                                order=32, permission="volunteer.view")]


@hookimpl
def register_todo(ctx):
    """我的待办: service hours waiting for approval."""
    from . import todo

    return todo.items(ctx)


@hookimpl
def open_record(ctx, kind, id):
    """A volunteer (e.g. from the global search) opens the 志愿者 page with their card."""
    if kind != KIND_VOLUNTEER or "open_page" not in ctx.extras or not ctx.actor.can("volunteer.view"):
        return None
    page = ctx.extras["open_page"]("volunteer.volunteers")
    return page is not None and page.open_volunteer(id)
