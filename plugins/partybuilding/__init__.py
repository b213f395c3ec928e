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
                      description="五级党组织体系、党员与发展党员、组织关系转接、三会一课、党费收缴")


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
def open_record(ctx, kind, id):
    # No party-building views yet: nothing to open (another plugin may handle the kind).
    return None


def _org_page(ctx, parent=None):
    from .views.org_page import make_page

    return make_page(ctx, parent)


def _compliance_page(ctx, parent=None):
    from .views.compliance_page import make_page

    return make_page(ctx, parent)


@hookimpl
def register_pages(ctx):
    from shell.contracts import PageSpec

    return [
        PageSpec(id="partybuilding.orgs", title="党组织与党员", factory=_org_page, order=40,
                 permission="partybuilding.view", group="党建"),
        PageSpec(id="partybuilding.compliance", title="组织生活落实", factory=_compliance_page, order=41,
                 permission="partybuilding.view", group="党建"),
    ]
