"""实有单位/组织: registering and editing organisations."""
from __future__ import annotations

from sqlalchemy import or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.errors import FieldError, ValidationError, raise_if  # noqa: F401 (engine's validator wiring)

from ..models import Organisation
from ..validation import (
    clean_organisation,
    organisation_taken,
)
from .common import P_PERSON, P_VIEW, Listing, _area_of, _code, _get, _text, area_label


# --- organisations -----------------------------------------------------------------------------
def register_organisation(ctx: ServiceContext, *, area_id: int, kind: str, name: str, credit_code: str,
                          legal_rep: str | None = None, security_head: str | None = None,
                          phone: str | None = None, address: str | None = None, hazard: str | None = None,
                          has_party_org: bool = False, party_members: int = 0) -> Organisation:
    ctx.actor.require(P_PERSON)
    area = _area_of(ctx, area_id)
    values, errors = clean_organisation(dict(
        kind=kind, name=name, credit_code=credit_code, legal_rep=legal_rep, security_head=security_head, phone=phone,
        address=address, hazard=hazard, has_party_org=has_party_org, party_members=party_members), ctx)
    if "credit_code" in values:
        other = ctx.session.scalar(select(Organisation).where(Organisation.credit_code == values["credit_code"]))
        if other is not None:
            errors.append(FieldError("credit_code", organisation_taken(other.name, area_label(ctx.session, other.area_id)),
                                     credit_code))
    raise_if(errors)
    org = Organisation(area_id=area.id, created_by=ctx.actor.user_id, **values)
    ctx.session.add(org)
    ctx.session.flush()
    return org


def get_organisation(ctx: ServiceContext, org_id: int) -> Organisation:
    ctx.actor.require(P_VIEW)
    return _get(ctx, Organisation, org_id, "组织")


def organisations_query(actor, text: str = "", kind: str | None = None):
    q = select(Organisation).where(scope_filter(Organisation.area_id, actor))
    if kind:
        q = q.where(Organisation.kind == kind)
    t = _text(text)
    if t:
        q = q.where(or_(Organisation.name.contains(t, autoescape=True),
                        Organisation.credit_code.startswith(_code(t).upper(), autoescape=True),
                        Organisation.legal_rep.startswith(t, autoescape=True)))
    return q


def organisations_listing(actor, text: str = "", kind: str | None = None) -> Listing:
    """The organisation list: ``organisations_query`` paged by id."""
    return Listing(organisations_query(actor, text, kind), Organisation.id)


def update_organisation(ctx: ServiceContext, org_id: int, expected_version: int | None = None, **values) -> Organisation:
    """Edit an organisation; a changed 统一社会信用代码 is validated and checked for duplicates again."""
    ctx.actor.require(P_PERSON)
    org = _get(ctx, Organisation, org_id, "组织")
    check_version(ctx.session, org, expected_version, "组织信息")
    if "area_id" in values:
        org.area_id = _area_of(ctx, values.pop("area_id")).id
    cleaned, errors = clean_organisation(values, ctx, current=org)
    if "credit_code" in cleaned:
        other = ctx.session.scalar(select(Organisation).where(Organisation.credit_code == cleaned["credit_code"],
                                                              Organisation.id != org.id))
        if other is not None:
            errors.append(FieldError("credit_code", organisation_taken(other.name, area_label(ctx.session, other.area_id)),
                                     values["credit_code"]))
    raise_if(errors)
    for k, v in cleaned.items():
        setattr(org, k, v)
    flush_or_conflict(ctx.session, org, "组织信息")
    return org


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
