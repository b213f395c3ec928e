"""应急管理 (emergency): warehouses and supplies with a stock ledger, plans, drills, rescue teams and
shelters. This module holds hook implementations only; the work is imported lazily inside them so
loading the plugin stays cheap."""
from __future__ import annotations

from pathlib import Path

from shell import hookimpl
from shell.contracts import DashboardWidgetSpec, MigrationBranch, PageSpec, Permission, PluginInfo, RoleTemplate

NAME = "emergency"
__version__ = "0.1.0"


@hookimpl
def plugin_info():
    return PluginInfo(name=NAME, title="应急管理", version=__version__, icon="SP_MessageBoxWarning",
                      description="应急物资仓库与出入库台账、应急预案、演练、救援队伍、避难场所",
                      warm=("services", "views.dashboard"), preload=("ledgers", "importers", "views.*"))


@hookimpl
def register_migrations():
    return MigrationBranch(NAME, Path(__file__).parent / "migrations")


@hookimpl
def register_permissions():
    from .rules import PERMISSIONS

    return [Permission(code, label) for code, label in PERMISSIONS.items()]


@hookimpl
def register_roles():
    from .rules import PERMISSIONS

    everything = tuple(PERMISSIONS)
    return [
        RoleTemplate("admin", "系统管理员", everything),
        RoleTemplate("street_staff", "街道工作人员", everything),
        RoleTemplate("community_staff", "社区工作人员",
                     ("emergency.view", "emergency.stock.manage", "emergency.stocktake", "emergency.drill.manage",
                      "emergency.team.manage", "emergency.shelter.manage")),
        RoleTemplate("emergency_keeper", "应急物资保管员",
                     ("emergency.view", "emergency.stock.manage", "emergency.stocktake", "emergency.import"),
                     "管理应急仓库的出入库、调拨和盘点"),
    ]


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
    from .services import search

    with ctx.service(commit=False) as sctx:
        return search(sctx, text)


@hookimpl
def seed_demo(session, scale, rng):
    from .demo import seed

    seed(session, scale, rng)


@hookimpl
def register_reports():
    from .ledgers import definitions

    return definitions()


@hookimpl
def register_importers():
    from .importers import definitions

    return definitions()


def _stock_page(app_ctx, parent=None):
    from .views.stock import StockPage

    return StockPage(app_ctx, parent)


def _drills_page(app_ctx, parent=None):
    from .views.drills import DrillsPage

    return DrillsPage(app_ctx, parent)


def _plans_page(app_ctx, parent=None):
    from .views.plans import PlansPage

    return PlansPage(app_ctx, parent)


def _teams_page(app_ctx, parent=None):
    from .views.teams import TeamsPage

    return TeamsPage(app_ctx, parent)


def _shelters_page(app_ctx, parent=None):
    from .views.shelters import SheltersPage

    return SheltersPage(app_ctx, parent)


def _catalog_page(app_ctx, parent=None):
    from .views.catalog import CatalogPage

    return CatalogPage(app_ctx, parent)


@hookimpl
def register_pages(ctx):
    return [PageSpec(id="emergency.stock", title="应急物资", factory=_stock_page, icon="SP_DriveHDIcon", order=60,
                     permission="emergency.view", group="应急管理"),
            PageSpec(id="emergency.drills", title="应急演练", factory=_drills_page, icon="SP_MediaPlay", order=61,
                     permission="emergency.view", group="应急管理"),
            PageSpec(id="emergency.plans", title="应急预案", factory=_plans_page, icon="SP_FileDialogDetailedView",
                     order=62, permission="emergency.view", group="应急管理"),
            PageSpec(id="emergency.teams", title="应急队伍与值班", factory=_teams_page, icon="SP_DirHomeIcon",
                     order=63, permission="emergency.view", group="应急管理"),
            PageSpec(id="emergency.shelters", title="避难场所", factory=_shelters_page, icon="SP_DirIcon",
                     order=64, permission="emergency.view", group="应急管理"),
            PageSpec(id="emergency.catalog", title="物资目录与仓库", factory=_catalog_page,
                     icon="SP_FileDialogListView", order=65, permission="emergency.view", group="应急管理")]


def _tile(app_ctx, parent=None):
    from .views.dashboard import EmergencyTile

    return EmergencyTile(app_ctx, parent)


@hookimpl
def register_dashboard_widgets(ctx):
    return [DashboardWidgetSpec(id="emergency.summary", title="应急管理", factory=_tile, order=60,
                                permission="emergency.view", span=2)]


@hookimpl
def register_todo(ctx):
    """我的待办: stock below its minimum, batches expiring or expired, plans due for review, units behind
    on this year's drills."""
    from . import todo

    return todo.items(ctx)


@hookimpl
def open_record(ctx, kind, id):
    """A warehouse or an item from the global search opens the 应急物资 page at it; a plan opens
    the 应急预案 page with the plan selected."""
    if kind not in ("emergency.warehouse", "emergency.item", "emergency.plan") or "open_page" not in ctx.extras:
        return None
    if kind == "emergency.plan":
        page = ctx.extras["open_page"]("emergency.plans")
        return page is not None and page.select_plan(id)
    from .views.stock import open_stock_record

    return open_stock_record(ctx, kind, id)
