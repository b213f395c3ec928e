"""党员中心户 ↔ household records of other plugins (found through the search hook)."""
from __future__ import annotations

from sqlalchemy import select

from shell.core import personal as _personal
from shell.core.context import ServiceContext
from shell.errors import NotFound, ValidationError

from ..models import HouseholdLink
from ..rules import ORG_MANAGE
from .common import _require_text
from .orgs import _get_org, _org_in_scope, get_org

# A household record, or a person (the head of a household) while the grid search finds persons only.
LINKABLE_KINDS = ("grid.household", "grid.person")


def link_household(ctx: ServiceContext, org_id: int, record_kind: str, record_id: int, label: str):
    """Link a 党员中心户 to a household record of another plugin (found through the search hook)."""
    ctx.actor.require(ORG_MANAGE)
    org = _get_org(ctx, org_id)
    _org_in_scope(ctx, org)
    if org.kind != "household":
        raise ValidationError(f"“{org.name}”不是党员中心户，不能登记联系户。", "record_id")
    if record_kind not in LINKABLE_KINDS:
        raise ValidationError(f"“{record_kind}”不是住户档案，不能作为联系户。", "record_kind", record_kind)
    if ctx.session.scalar(select(HouseholdLink.id).where(HouseholdLink.org_id == org.id,
                                                         HouseholdLink.record_kind == record_kind,
                                                         HouseholdLink.record_id == record_id)):
        raise ValidationError(f"“{label}”已是“{org.name}”的联系户。", "record_id", record_id)
    link = HouseholdLink(org_id=org.id, record_kind=record_kind, record_id=int(record_id),
                         label=_require_text(label, "联系户名称", "label", 200))
    ctx.session.add(link)
    ctx.session.flush()
    return link


def unlink_household(ctx: ServiceContext, link_id: int) -> None:
    ctx.actor.require(ORG_MANAGE)
    link = ctx.session.get(HouseholdLink, link_id)
    if link is None:
        raise NotFound("该联系户已被移除，请刷新。")
    _org_in_scope(ctx, _get_org(ctx, link.org_id))
    ctx.session.delete(link)
    ctx.session.flush()


def household_links(ctx: ServiceContext, org_id: int) -> list:
    get_org(ctx, org_id)
    return list(ctx.session.scalars(select(HouseholdLink).where(HouseholdLink.org_id == org_id)
                                    .order_by(HouseholdLink.id)))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
