"""Permissions and the small helpers every grid aggregate uses (text, codes, phones, scope, area labels)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.fields import PHONE_RE as PHONE_RE  # re-exported: grid's rule is the shell's
from shell.core.fields import clean_text, code_text
from shell.core.fields import phone as check_phone
from shell.core.listing import Listing  # noqa: F401 - re-exported as svc.Listing
from shell.core.models import Area
from shell.core.scope import area_in_scope, get_in_scope
from shell.errors import ValidationError
from shell.text import name_initials as name_initials  # re-exported: the one rule is the shell's
from shell.text import name_pinyin as name_pinyin

# --- permissions -------------------------------------------------------------------------------
P_VIEW = "grid.view"
P_PERSON = "grid.person.edit"
P_REPORT = "grid.event.report"
P_REGISTER = "grid.event.register"
P_DISPATCH = "grid.event.dispatch"
P_HANDLE = "grid.event.handle"
P_VERIFY = "grid.event.verify"
P_CLOSE = "grid.event.close"
P_ESCALATE = "grid.event.escalate"
P_CATEGORY = "grid.category.manage"
P_DEPARTMENT = "grid.department.manage"
P_STAFF = "grid.staff.manage"
P_SPECIAL = "grid.special.edit"
P_LOG = "grid.log.edit"
P_IMPORT = "grid.import"
FULL_VIEW = "core.personal.full_view"

PERMISSION_LABELS = {
    P_VIEW: "查看网格数据（人口、房屋、组织、事件）",
    P_PERSON: "登记和修改人口、户、房屋、组织",
    P_REPORT: "上报事件",
    P_REGISTER: "事件立案或不予立案",
    P_DISPATCH: "派遣事件",
    P_HANDLE: "处置事件（含退回）",
    P_VERIFY: "核查事件",
    P_CLOSE: "事件结案",
    P_ESCALATE: "督办事件",
    P_CATEGORY: "管理事件类别与处置时限",
    P_DEPARTMENT: "管理部门与单位目录（派遣对象）",
    P_STAFF: "管理网格长、网格员配备",
    P_SPECIAL: "特殊人群管理与走访",
    P_LOG: "填写民情日志",
    P_IMPORT: "导入导出人口数据",
}



# --- small helpers -----------------------------------------------------------------------------
# Text, codes, phones and the scope rule are the shell's (shell.core.fields, shell.core.scope), one rule
# for every plugin; the bodies moved here from services.py call them by their old private names.
_text = clean_text
_code = code_text
_phone = check_phone
_get = get_in_scope
_area_of = area_in_scope


def _required(value: Any, field_name: str, label: str) -> str:
    v = _text(value)
    if not v:
        raise ValidationError(f"请填写{label}。", field_name, value)
    return v


def area_label(session, area_id: int | None) -> str:
    area = session.get(Area, area_id) if area_id else None
    if area is None:
        return ""
    if area.parent_id:
        parent = session.get(Area, area.parent_id)
        if parent is not None and parent.level != "street":
            return f"{parent.name}{area.name}"
    return area.name


def grids_in_scope(ctx: ServiceContext) -> list[Area]:
    """Open grids (and micro-grids) the actor may record on, in tree order."""
    from shell.core.areas import tree_sorted

    ctx.actor.require(P_VIEW)
    q = select(Area).where(Area.level.in_(("grid", "microgrid")), Area.closed_on.is_(None),
                           scope_filter(Area.id, ctx.actor))
    return tree_sorted(ctx.session.scalars(q))


def area_tree(ctx: ServiceContext) -> list[Area]:
    """The open areas in the actor's scope (street → community → grid → micro-grid), parents first,
    detached so a page can keep them: the tree beside the grid's lists."""
    from shell.core.areas import tree_sorted

    ctx.actor.require(P_VIEW)
    areas = tree_sorted(ctx.session.scalars(select(Area).where(Area.closed_on.is_(None),
                                                               scope_filter(Area.id, ctx.actor))))
    for a in areas:
        ctx.session.expunge(a)
    return areas


def area_name(ctx: ServiceContext, area_id: int | None) -> str:
    """``area_label`` for a page: a grid's name with its community's ("和平里社区第一网格")."""
    ctx.actor.require(P_VIEW)
    return area_label(ctx.session, area_id)


def grid_choices(ctx: ServiceContext) -> list[tuple[str, int]]:
    """(label, id) of the open grids in the actor's scope, for a form's 所属网格 box."""
    ctx.actor.require(P_VIEW)
    return [(area_label(ctx.session, a.id), a.id) for a in grids_in_scope(ctx)]


# --- ID numbers: shell.idnumber (one validator for every plugin) --------------------------------



# --- event services ----------------------------------------------------------------------------
def _local_date(dt: datetime) -> date:
    from shell.clock import to_local

    return to_local(dt).date()


# The helpers other modules of the plugin use (importers, ledgers, demo data), under public names
# (clean_text, code_text, check_phone and PHONE_RE come from shell.core.fields); the bodies moved here
# from services.py keep calling them by their old private names.
required_text = _required
local_date = _local_date


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
