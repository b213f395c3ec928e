"""网格化管理 (grid): residents, houses, organisations, the event closed loop, grid staff, special
groups and visit logs. Hook implementations only; models, services and Qt are imported inside the
hooks so that loading the plugin at start-up stays cheap."""
from __future__ import annotations

from pathlib import Path

from shell import hookimpl
from shell.contracts import DashboardWidgetSpec, MigrationBranch, PageSpec, Permission, PluginInfo, RoleTemplate, SearchResult

NAME = "grid"

# Kept here (not imported from services) so registering permissions does not load SQLAlchemy models.
PERMISSIONS = (
    ("grid.view", "查看网格数据（人口、房屋、组织、事件）"),
    ("grid.person.edit", "登记和修改人口、户、房屋、组织"),
    ("grid.event.report", "上报事件"),
    ("grid.event.register", "事件立案或不予立案"),
    ("grid.event.dispatch", "派遣事件"),
    ("grid.event.handle", "处置事件（含退回）"),
    ("grid.event.verify", "核查事件"),
    ("grid.event.close", "事件结案"),
    ("grid.event.escalate", "督办事件"),
    ("grid.category.manage", "管理事件类别与处置时限"),
    ("grid.department.manage", "管理部门与单位目录（派遣对象）"),
    ("grid.staff.manage", "管理网格长、网格员配备"),
    ("grid.special.edit", "特殊人群管理与走访"),
    ("grid.log.edit", "填写民情日志"),
    ("grid.import", "导入导出人口数据"),
)

WORKER_CODES = ("grid.view", "grid.person.edit", "grid.event.report", "grid.event.handle", "grid.special.edit",
                "grid.log.edit")
COMMUNITY_CODES = WORKER_CODES + ("grid.event.register", "grid.event.dispatch", "grid.event.verify",
                                  "grid.event.close", "grid.staff.manage", "grid.import")
# the directory of 派遣对象 is the street's (the 网格中心 dispatches to street offices and units)
STREET_CODES = COMMUNITY_CODES + ("grid.event.escalate", "grid.category.manage", "grid.department.manage")


@hookimpl
def plugin_info():
    return PluginInfo(name=NAME, title="网格化管理", version="0.1", icon="SP_DirHomeIcon",
                      description="实有人口、房屋、组织，事件闭环，网格力量，特殊人群走访与民情日志",
                      warm=("services", "views.dashboard"),
                      preload=("ledgers", "ledgers_more", "importers", "importers_places", "views.*"))


@hookimpl
def register_migrations():
    return MigrationBranch(NAME, Path(__file__).parent / "migrations")


@hookimpl
def register_permissions():
    return [Permission(code, label) for code, label in PERMISSIONS]


@hookimpl
def register_roles():
    return [RoleTemplate("grid_worker", "网格员", WORKER_CODES),
            RoleTemplate("community_staff", "社区工作人员", COMMUNITY_CODES),
            RoleTemplate("street_staff", "街道工作人员", STREET_CODES)]


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
    from .services import global_search as search

    if not ctx.actor.can("grid.view"):
        return []
    with ctx.service(commit=False) as sctx:
        return [SearchResult(kind=k, id=i, title=t, subtitle=s, plugin=NAME) for k, i, t, s in search(sctx, text)]


@hookimpl
def seed_demo(session, scale, rng):
    from .demo import seed

    seed(session, scale, rng)


@hookimpl
def register_reports():
    from .ledgers import definitions
    from .ledgers_more import definitions as more_definitions

    return definitions() + more_definitions()


@hookimpl
def register_importers():
    from .importers import definitions
    from .importers_places import definitions as place_definitions

    return definitions() + place_definitions()


def _residents_page(app_ctx, parent=None):
    from .views.residents import ResidentsPage

    return ResidentsPage(app_ctx, parent)


def _events_page(app_ctx, parent=None):
    from .views.events import EventsPage

    return EventsPage(app_ctx, parent)


def _houses_page(app_ctx, parent=None):
    from .views.houses import HousesPage

    return HousesPage(app_ctx, parent)


def _organisations_page(app_ctx, parent=None):
    from .views.organisations import OrganisationsPage

    return OrganisationsPage(app_ctx, parent)


def _stats_page(app_ctx, parent=None):
    from .views.stats import StatsPage

    return StatsPage(app_ctx, parent)


def _special_page(app_ctx, parent=None):
    from .views.special import SpecialGroupsPage

    return SpecialGroupsPage(app_ctx, parent)


def _logs_page(app_ctx, parent=None):
    from .views.logs import VisitLogsPage

    return VisitLogsPage(app_ctx, parent)


def _staff_page(app_ctx, parent=None):
    from .views.staff import GridStaffPage

    return GridStaffPage(app_ctx, parent)


@hookimpl
def register_pages(ctx):
    return [PageSpec(id="grid.residents", title="实有人口", factory=_residents_page, icon="SP_DirHomeIcon", order=20,
                     permission="grid.view", group="网格化管理"),
            PageSpec(id="grid.houses", title="房屋与户", factory=_houses_page, icon="SP_DirIcon", order=21,
                     permission="grid.view", group="网格化管理"),
            PageSpec(id="grid.organisations", title="组织", factory=_organisations_page, icon="SP_DriveNetIcon",
                     order=22, permission="grid.view", group="网格化管理"),
            PageSpec(id="grid.events", title="事件办理", factory=_events_page, icon="SP_MessageBoxWarning", order=23,
                     permission="grid.view", group="网格化管理"),
            PageSpec(id="grid.stats", title="事件统计", factory=_stats_page, icon="SP_FileDialogListView", order=23,
                     permission="grid.view", group="网格化管理"),
            PageSpec(id="grid.special", title="特殊人群与走访", factory=_special_page, icon="SP_FileDialogInfoView",
                     order=24, permission="grid.view", group="网格化管理"),
            PageSpec(id="grid.logs", title="民情日志", factory=_logs_page, icon="SP_FileDialogDetailedView", order=25,
                     permission="grid.view", group="网格化管理"),
            PageSpec(id="grid.staff", title="网格力量", factory=_staff_page, icon="SP_DirLinkIcon", order=26,
                     permission="grid.view", group="网格化管理")]


def _departments_page(app_ctx, parent=None):
    from .views.departments import DepartmentsPage

    return DepartmentsPage(app_ctx, parent)


@hookimpl
def register_settings_pages(ctx):
    """设置 → 部门与单位 (the 派遣对象 directory): read by every grid user, edited with
    grid.department.manage."""
    return [PageSpec(id="grid.departments", title="部门与单位", factory=_departments_page, icon="SP_DirLinkIcon",
                     order=30, permission="grid.view")]


def _tile(app_ctx, parent=None):
    from .views.dashboard import GridTile

    return GridTile(app_ctx, parent)


@hookimpl
def register_dashboard_widgets(ctx):
    return [DashboardWidgetSpec(id="grid.summary", title="网格化管理", factory=_tile, order=20,
                                permission="grid.view", span=2)]


@hookimpl
def register_todo(ctx):
    """我的待办: events at the actor's step, visits overdue and due, tenants reported late."""
    from . import todo

    return todo.items(ctx)


_OPEN_DIALOGS: list = []   # keep opened windows alive until they are closed


@hookimpl
def calendar_changed(ctx, days):
    """Open events' deadlines counted again over the changed days."""
    from . import services

    n = services.recount_deadlines(ctx, days)
    return f"已按新的节假日安排重算 {n} 件在办事件的处置时限（见各事件的办理过程）。" if n else None


RECORD_KINDS = ("grid.event", "grid.person", "grid.household", "grid.house", "grid.organisation")


@hookimpl
def open_record(ctx, kind, id):
    """Opens the record window of an event, person, household (e.g. a 党员中心户 linked by the
    party-building plugin), house or organisation. A record outside the user's scope or gone is
    reported by the window's own service call."""
    if kind not in RECORD_KINDS or not ctx.actor.can("grid.view"):
        return None
    if kind == "grid.event":
        from .views.event_dialogs import EventDialog as factory
    elif kind == "grid.organisation":
        from .views.organisations import OrganisationDialog

        def factory(app_ctx, record_id):
            return OrganisationDialog(app_ctx, None, record_id)
    else:
        from .views.people import HouseDialog, HouseholdDialog, PersonDetailDialog

        factory = {"grid.person": PersonDetailDialog, "grid.household": HouseholdDialog, "grid.house": HouseDialog}[kind]
    dialog = factory(ctx, id)
    _OPEN_DIALOGS.append(dialog)
    dialog.finished.connect(lambda _r: _OPEN_DIALOGS.remove(dialog) if dialog in _OPEN_DIALOGS else None)
    dialog.show()
    return True
