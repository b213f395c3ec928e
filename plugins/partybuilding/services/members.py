"""Members: registration, the form items, 党籍状态, 流动 / 失联, membership periods and the member list."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from sqlalchemy import or_, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.scope import get_in_scope
from shell.db.sql import StartsWith, spelled
from shell.errors import ValidationError, raise_if
from shell.text import name_pinyin

from ..labels import STATUS_LABELS
from ..models import Member, Membership, PartyOrg
from ..rules import MEMBER_MANAGE, VIEW
from ..validation import MEMBER_FIELDS, member_field_errors
from .common import Listing, _initials, _not_future, _require_text, add_months, setting
from .orgs import _get_org, _org_in_scope, get_org


def _get_member(ctx: ServiceContext, member_id: int) -> Member:
    return get_in_scope(ctx, Member, member_id, "人员")   # its scope: through the organisation (below)


def _member_in_scope(ctx: ServiceContext, m: Member) -> None:
    if m.org_id is not None:
        _org_in_scope(ctx, _get_org(ctx, m.org_id))
        return
    last = ctx.session.scalar(select(Membership.org_id).where(Membership.member_id == m.id)
                              .order_by(Membership.start_on.desc(), Membership.id.desc()).limit(1))
    if last is not None:
        _org_in_scope(ctx, _get_org(ctx, last))
    elif not ctx.actor.is_superuser:
        from shell.errors import OutOfScope

        raise OutOfScope(m.name)


def get_member(ctx: ServiceContext, member_id: int) -> Member:
    ctx.actor.require(VIEW)
    m = _get_member(ctx, member_id)
    _member_in_scope(ctx, m)
    return m


def _member_org(ctx: ServiceContext, org_id: int) -> PartyOrg:
    from ..validation import member_org

    return member_org(ctx, org_id)


def _check_member_fields(values: dict) -> dict:
    out, errors = member_field_errors(values)
    raise_if(errors)
    return out


def check_stage_dates(stage: str, dates: dict[str, date | None], birth: date, today: date) -> None:
    """The dates a member at ``stage`` must have (``validation.stage_date_errors``), the first error raised."""
    from ..validation import stage_date_errors

    raise_if(stage_date_errors(stage, dates, birth, today))


def create_member(ctx: ServiceContext, *, name: str, id_number: str, org_id: int, stage: str = "applicant",
                  joined_on: date | None = None, applied_on: date | None = None, activist_on: date | None = None,
                  candidate_on: date | None = None, admitted_on: date | None = None, full_on: date | None = None,
                  sex: str | None = None, ethnicity: str = "汉族", education: str | None = None,
                  category: str = "employed", job: str | None = None, phone: str | None = None,
                  address: str | None = None, income_fen: int | None = None, fixed_dues_fen: int | None = None) -> Member:
    """Register a person at ``stage`` (the dates up to that stage are required) in ``org``."""
    from ..validation import clean_member

    ctx.actor.require(MEMBER_MANAGE)
    values, errors = clean_member(dict(name=name, id_number=id_number, org_id=org_id, stage=stage, joined_on=joined_on,
                                       applied_on=applied_on, activist_on=activist_on, candidate_on=candidate_on,
                                       admitted_on=admitted_on, full_on=full_on, sex=sex, ethnicity=ethnicity,
                                       education=education, category=category, job=job, phone=phone, address=address,
                                       income_fen=income_fen, fixed_dues_fen=fixed_dues_fen), ctx)
    raise_if(errors)
    org = values["org"]
    items = {k: values[k] for k in MEMBER_FIELDS}
    dates = dict(applied_on=applied_on, activist_on=activist_on, candidate_on=candidate_on,
                 admitted_on=admitted_on, full_on=full_on)
    m = Member(id_number=values["id_number"], birth_date=values["birth_date"], stage=stage, org_id=org.id,
               initials=_initials(items["name"]),
    name_pinyin=name_pinyin(items["name"]), created_by=ctx.actor.user_id, status="normal", **items, **dates)
    ctx.session.add(m)
    ctx.session.flush()
    ctx.session.add(Membership(member_id=m.id, org_id=org.id, start_on=values["joined_on"], reason="登记"))
    ctx.session.flush()
    return m


def update_member(ctx: ServiceContext, member_id: int, expected_version: int | None = None, **changes) -> Member:
    """Edit the form items (not stage, organisation or status: those have their own services)."""
    ctx.actor.require(MEMBER_MANAGE)
    m = _get_member(ctx, member_id)
    _member_in_scope(ctx, m)
    check_version(ctx.session, m, expected_version, "党员信息")
    unknown = set(changes) - set(MEMBER_FIELDS)
    if unknown:
        raise ValidationError(f"这些项目不能在此修改：{'、'.join(sorted(unknown))}。", sorted(unknown)[0])
    from ..validation import clean_member

    values, errors = clean_member(changes, ctx, current=m)
    raise_if(errors)
    for k, v in values.items():
        setattr(m, k, v)
    if "name" in values:
        m.initials = _initials(m.name)
        m.name_pinyin = name_pinyin(m.name)
    flush_or_conflict(ctx.session, m, "党员信息")
    return m


def _scoped_members(ctx: ServiceContext):
    return select(Member).join(PartyOrg, Member.org_id == PartyOrg.id).where(scope_filter(PartyOrg.area_id, ctx.actor))


def set_status(ctx: ServiceContext, member_id: int, status: str, reason: str = "") -> Member:
    """党籍状态 (正常 / 停止党籍 / 已出党 / 已去世); leaving the Party closes the membership."""
    ctx.actor.require(MEMBER_MANAGE)
    m = _get_member(ctx, member_id)
    _member_in_scope(ctx, m)
    if status not in ("normal", "suspended", "left", "deceased"):
        raise ValidationError(f"党籍状态“{status}”无效。", "status", status)
    if status in ("left", "deceased") and m.org_id is not None:
        _close_membership(ctx, m, ctx.today(), STATUS_LABELS[status] + (f"：{reason}" if reason else ""))
        m.org_id = None
    m.status = status
    ctx.session.flush()
    return m


def set_mobile(ctx: ServiceContext, member_id: int, destination: str | None, since: date | None = None) -> Member:
    """流动党员: where to and since when; ``destination=None`` ends it."""
    ctx.actor.require(MEMBER_MANAGE)
    m = _get_member(ctx, member_id)
    _member_in_scope(ctx, m)
    if destination is None or not destination.strip():
        m.mobile_destination, m.mobile_since = None, None
    else:
        since = since or ctx.today()
        _not_future(ctx, since, "外出日期", "mobile_since")
        m.mobile_destination, m.mobile_since = _require_text(destination, "外出流向", "mobile_destination", 200), since
    ctx.session.flush()
    return m


def set_lost_contact(ctx: ServiceContext, member_id: int, since: date | None) -> Member:
    """Record the date contact was lost (None = back in contact)."""
    ctx.actor.require(MEMBER_MANAGE)
    m = _get_member(ctx, member_id)
    _member_in_scope(ctx, m)
    if since is not None:
        _not_future(ctx, since, "失去联系日期", "lost_contact_on")
    m.lost_contact_on = since
    ctx.session.flush()
    return m


def lost_contact_members(ctx: ServiceContext, on: date | None = None) -> list[Member]:
    """失联党员: out of contact for at least the configured months (6)."""
    ctx.actor.require(VIEW)
    on = on or ctx.today()
    limit = add_months(on, -setting(ctx.session, "partybuilding.lost_contact_months"))
    return list(ctx.session.scalars(_scoped_members(ctx).where(Member.lost_contact_on.is_not(None),
                                                                Member.lost_contact_on <= limit)
                                    .order_by(Member.lost_contact_on, Member.id)))


def mobile_members(ctx: ServiceContext) -> list[Member]:
    ctx.actor.require(VIEW)
    return list(ctx.session.scalars(_scoped_members(ctx).where(Member.mobile_destination.is_not(None))
                                    .order_by(Member.mobile_since, Member.id)))


def _current_membership(ctx: ServiceContext, m: Member) -> Membership | None:
    return ctx.session.scalar(select(Membership).where(Membership.member_id == m.id, Membership.end_on.is_(None))
                              .order_by(Membership.id.desc()).limit(1))


def _close_membership(ctx: ServiceContext, m: Member, on: date, reason: str) -> None:
    cur = _current_membership(ctx, m)
    if cur is None:
        return
    if on < cur.start_on:
        raise ValidationError(f"日期 {on} 早于{m.name}编入现组织的日期 {cur.start_on}。", "on", on)
    cur.end_on = on
    cur.reason = (cur.reason + "；" if cur.reason else "") + reason[:60]


def join_org(ctx: ServiceContext, member_id: int, org_id: int, on: date | None = None, reason: str = "调整组织") -> Member:
    """Put a member in ``org`` from ``on``: the current period is closed that day, a new one opened."""
    ctx.actor.require(MEMBER_MANAGE)
    m = _get_member(ctx, member_id)
    if m.org_id is not None:
        _member_in_scope(ctx, m)
    org = _member_org(ctx, org_id)
    on = on or ctx.today()
    _not_future(ctx, on, "编入日期", "on")
    if m.org_id == org.id:
        return m
    _close_membership(ctx, m, on, f"转入“{org.name}”")
    ctx.session.add(Membership(member_id=m.id, org_id=org.id, start_on=on, reason=reason[:100]))
    m.org_id = org.id
    if m.status == "transferred_out":
        m.status = "normal"
    ctx.session.flush()
    return m


def member_list_query(ctx: ServiceContext, org_id: int | None = None, text: str = "",
                      stages: Iterable[str] | None = None):
    """A SELECT of (Member, organisation name, parent organisation name) rows in scope, filtered as
    ``list_members``, for keyset paging by ``Member.id`` in the member list. The parent's name is
    there because branch and group names repeat across communities ("1号楼党小组")."""
    from sqlalchemy.orm import aliased

    ctx.actor.require(VIEW)
    parent = aliased(PartyOrg)
    q = (select(Member, PartyOrg.name, parent.name).join(PartyOrg, Member.org_id == PartyOrg.id)
         .outerjoin(parent, parent.id == PartyOrg.parent_id)
         .where(scope_filter(PartyOrg.area_id, ctx.actor)))
    return _member_filter(ctx, q, org_id, text, stages)


def memberships(ctx: ServiceContext, member_id: int) -> list[tuple[Membership, PartyOrg]]:
    get_member(ctx, member_id)
    return list(ctx.session.execute(select(Membership, PartyOrg).join(PartyOrg, Membership.org_id == PartyOrg.id)
                                    .where(Membership.member_id == member_id)
                                    .order_by(Membership.start_on, Membership.id)))


def _member_filter(ctx: ServiceContext, q, org_id: int | None, text: str, stages: Iterable[str] | None):
    if org_id is not None:
        root = get_org(ctx, org_id)
        q = q.where(PartyOrg.path.startswith(root.path))
    if stages:
        q = q.where(Member.stage.in_(list(stages)))
    text = (text or "").strip().replace(" ", "")
    if text:
        if re.fullmatch(r"\d{3,17}[\dXx]?", text):
            # Part of an ID number or of a phone number (11 digits starting with 1). Seven digits or
            # more: the start of either, through their indexes. Fewer (the last 4 or 6 people quote):
            # the end of either too, which scans the members (a street has about 10,000).
            up = text.upper()
            conds = [Member.id_number == up if len(up) == 18 else StartsWith(Member.id_number, up)]
            if text.isdigit() and len(text) <= 11:
                conds.append(StartsWith(Member.phone, text))
            if len(up) <= 6:
                conds += [Member.id_number.endswith(up), Member.phone.endswith(up)]
            q = q.where(or_(*conds))
        elif text.isascii():   # pinyin initials or full pinyin (Latin letters in a name are in both)
            q = q.where(spelled(Member.initials, Member.name_pinyin, text))
        else:
            q = q.where(Member.name.contains(text))
    return q


def list_members(ctx: ServiceContext, org_id: int | None = None, text: str = "", stages: Iterable[str] | None = None,
                 limit: int | None = None) -> list[Member]:
    """Current members in scope (of ``org_id``'s subtree), matching name / initials / ID number."""
    ctx.actor.require(VIEW)
    from sqlalchemy.orm import contains_eager

    q = _member_filter(ctx, _scoped_members(ctx), org_id, text, stages).options(contains_eager(Member.org))
    q = q.order_by(PartyOrg.path, Member.name, Member.id)
    if limit:
        q = q.limit(limit)
    return list(ctx.session.scalars(q))


def member_listing(ctx: ServiceContext, org_id: int | None = None, text: str = "",
                   stages: Iterable[str] | None = None) -> Listing:
    """``member_list_query`` with its key, for the lazy member list (keyset paging by member id)."""
    return Listing(member_list_query(ctx, org_id, text, stages), Member.id)


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
