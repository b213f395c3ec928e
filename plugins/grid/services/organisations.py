"""实有单位/组织: registering and editing organisations."""
from __future__ import annotations

from sqlalchemy import or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.errors import ValidationError

from ..labels import ORG_KINDS
from ..models import Organisation
from .common import P_PERSON, P_VIEW, Listing, _area_of, _check_uscc, _code, _get, _phone, _required, _text, area_label


# --- organisations -----------------------------------------------------------------------------
def register_organisation(ctx: ServiceContext, *, area_id: int, kind: str, name: str, credit_code: str,
                          legal_rep: str | None = None, security_head: str | None = None,
                          phone: str | None = None, address: str | None = None, hazard: str | None = None,
                          has_party_org: bool = False, party_members: int = 0) -> Organisation:
    ctx.actor.require(P_PERSON)
    area = _area_of(ctx, area_id)
    if kind not in ORG_KINDS:
        raise ValidationError(f"组织类别“{kind}”无效，应为{'或'.join(ORG_KINDS)}。", "kind", kind)
    code = _check_uscc(credit_code)
    other = ctx.session.scalar(select(Organisation).where(Organisation.credit_code == code))
    if other is not None:
        raise ValidationError(f"统一社会信用代码已登记：{other.name}（{area_label(ctx.session, other.area_id)}）",
                              "credit_code", credit_code)
    if party_members < 0:
        raise ValidationError(f"党员人数“{party_members}”不能为负。", "party_members", party_members)
    org = Organisation(area_id=area.id, kind=kind, name=_required(name, "name", "组织名称"), credit_code=code,
                       legal_rep=_text(legal_rep) or None, security_head=_text(security_head) or None,
                       phone=_phone(phone), address=_text(address) or None, hazard=_text(hazard) or None,
                       has_party_org=bool(has_party_org), party_members=int(party_members),
                       created_by=ctx.actor.user_id)
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
    for k, v in values.items():
        if k == "area_id":
            org.area_id = _area_of(ctx, v).id
        elif k == "kind":
            if v not in ORG_KINDS:
                raise ValidationError(f"组织类别“{v}”无效，应为{'或'.join(ORG_KINDS)}。", "kind", v)
            org.kind = v
        elif k == "name":
            org.name = _required(v, "name", "组织名称")
        elif k == "credit_code":
            code = _check_uscc(v)
            other = ctx.session.scalar(select(Organisation).where(Organisation.credit_code == code,
                                                                  Organisation.id != org.id))
            if other is not None:
                raise ValidationError(f"统一社会信用代码已登记：{other.name}（{area_label(ctx.session, other.area_id)}）",
                                      "credit_code", v)
            org.credit_code = code
        elif k == "phone":
            org.phone = _phone(v)
        elif k in ("legal_rep", "security_head", "address", "hazard"):
            setattr(org, k, _text(v) or None)
        elif k == "has_party_org":
            org.has_party_org = bool(v)
        elif k == "party_members":
            if not isinstance(v, int) or v < 0:
                raise ValidationError(f"党员人数“{v}”不能为负。", "party_members", v)
            org.party_members = v
        else:
            raise ValidationError(f"组织字段“{k}”不能修改。", k, v)
    flush_or_conflict(ctx.session, org, "组织信息")
    return org


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
