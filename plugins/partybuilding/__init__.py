"""党建 (party building): the five-level organisation tree, members and their development,
组织关系转接, 三会一课 and their compliance, 党费. Hook implementations only; everything heavy is
imported inside the hooks so loading the plugin costs nothing at start-up."""
from __future__ import annotations

from pathlib import Path

from shell import hookimpl

NAME = "partybuilding"


@hookimpl
def plugin_info():
    from shell.contracts import PluginInfo

    return PluginInfo(name=NAME, title="党建", version="0.1", icon="SP_DirHomeIcon",
                      description="五级党组织体系、党员与发展党员、组织关系转接、三会一课、党费收缴",
                      warm=("services", "views.dashboard"), preload=("ledgers", "importers", "views.*"))


@hookimpl
def register_migrations():
    from shell.contracts import MigrationBranch

    return MigrationBranch(NAME, Path(__file__).parent / "migrations")


@hookimpl
def register_permissions():
    from shell.contracts import Permission

    from .rules import PERMISSIONS

    return [Permission(code, label) for code, label in PERMISSIONS.items()]


@hookimpl
def register_roles():
    from shell.contracts import RoleTemplate

    from . import rules as s

    everything = tuple(s.PERMISSIONS)
    return [
        RoleTemplate("partybuilding_clerk", "党务工作者", everything, "党建办、社区党委的党务干事：全部党建功能"),
        RoleTemplate("partybuilding_secretary", "党支部书记",
                     (s.VIEW, s.MEMBER_MANAGE, s.MEETING, s.DUES), "记录本支部的组织生活、党员和党费"),
        RoleTemplate("street_staff", "街道工作人员", (s.VIEW,)),
        RoleTemplate("community_staff", "社区工作人员", (s.VIEW, s.MEETING, s.DUES)),
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
    from .ledgers import report_definitions

    return report_definitions()


@hookimpl
def register_importers():
    from .importers import importer_definitions

    return importer_definitions()


@hookimpl
def register_todo(ctx):
    """我的待办: probation due and overdue, transfer receipts owed, this quarter's 三会一课 not yet held."""
    from . import todo

    return todo.items(ctx)


@hookimpl
def open_record(ctx, kind, id):
    """A member (its card) or an organisation (the tree at that node) from the global search."""
    if kind not in ("partybuilding.member", "partybuilding.org") or "open_page" not in ctx.extras:
        return None
    if ctx.actor is None or not ctx.actor.can("partybuilding.view"):
        return None
    page = ctx.extras["open_page"]("partybuilding.orgs")
    if page is None or not hasattr(page, "open_card"):
        return None
    if kind == "partybuilding.member":
        return page.open_card(id) is not None
    page.reload(id)
    return page.selected_id() == id


def _org_page(ctx, parent=None):
    from .views.org_page import make_page

    return make_page(ctx, parent)


def _compliance_page(ctx, parent=None):
    from .views.compliance_page import make_page

    return make_page(ctx, parent)


def _alerts_page(ctx, parent=None):
    from .views.alerts_page import make_page

    return make_page(ctx, parent)


def _transfers_page(ctx, parent=None):
    from .views.transfers_page import make_page

    return make_page(ctx, parent)


def _meetings_page(ctx, parent=None):
    from .views.meetings_page import make_page

    return make_page(ctx, parent)


def _dues_page(ctx, parent=None):
    from .views.dues_page import make_page

    return make_page(ctx, parent)


def _community_page(ctx, parent=None):
    from .views.community_page import make_page

    return make_page(ctx, parent)


def _stats_page(ctx, parent=None):
    from .views.stats_page import make_page

    return make_page(ctx, parent)


def _tile(app_ctx, parent=None):
    from .views.dashboard import PartyTile

    return PartyTile(app_ctx, parent)


@hookimpl
def register_dashboard_widgets(ctx):
    from shell.contracts import DashboardWidgetSpec

    return [DashboardWidgetSpec(id="partybuilding.summary", title="党建", factory=_tile, order=30,
                                permission="partybuilding.view", span=2)]


@hookimpl
def register_pages(ctx):
    from shell.contracts import PageSpec

    return [
        PageSpec(id="partybuilding.orgs", title="党组织与党员", factory=_org_page, order=40,
                 permission="partybuilding.view", group="党建"),
        PageSpec(id="partybuilding.compliance", title="组织生活落实", factory=_compliance_page, order=41,
                 permission="partybuilding.view", group="党建"),
        PageSpec(id="partybuilding.transfers", title="组织关系转接", factory=_transfers_page, order=43,
                 permission="partybuilding.view", group="党建"),
        PageSpec(id="partybuilding.meetings", title="三会一课", factory=_meetings_page, order=44,
                 permission="partybuilding.view", group="党建"),
        PageSpec(id="partybuilding.dues", title="党费收缴", factory=_dues_page, order=45,
                 permission="partybuilding.view", group="党建"),
        PageSpec(id="partybuilding.community", title="在职党员双报到", factory=_community_page, order=46,
                 permission="partybuilding.view", group="党建"),
        PageSpec(id="partybuilding.stats", title="党员结构统计", factory=_stats_page, order=47,
                 permission="partybuilding.view", group="党建"),
        PageSpec(id="partybuilding.alerts", title="党员提醒", factory=_alerts_page, order=42,
                 permission="partybuilding.view", group="党建"),
    ]
