"""Transfers of the organisational relation: introduction letters (out), their receipts, cancellation and
incoming letters."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.scope import get_in_scope
from shell.db.retry import guard_busy
from shell.errors import ValidationError

from ..labels import STATUS_LABELS, TRANSFER_STATUS
from ..models import DuesPayment, Member, PartyOrg, Transfer
from ..numbering import next_number
from ..rules import MEMBER_MANAGE, TRANSFER, VIEW
from .common import _not_future, _require_text, month_key, normalize_id_number, parse_month, setting
from .members import _close_membership, _get_member, _member_in_scope, _member_org, create_member, join_org
from .orgs import _get_org, _org_in_scope


def format_letter_number(prefix: str, year: int, n: int) -> str:
    return f"{prefix}〔{year}〕第{n:04d}号"


def last_paid_month(session: Session, member_id: int) -> str | None:
    return session.scalar(select(func.max(DuesPayment.month)).where(DuesPayment.member_id == member_id))


# Who may issue a 组织关系介绍信: a 基层党委 (a 社区党委, the street 党工委); never a 党总支, 党支部 or 党小组.
LETTER_ISSUER_KINDS = ("working_committee", "community_committee")


def letter_issuer(session: Session, org: PartyOrg) -> PartyOrg:
    """The organisation that issues and seals the introduction letter of a member of ``org``: the
    nearest 基层党委 at or above it. The branch prepares the letter, the committee issues it."""
    ids = [int(i) for i in org.path.strip("/").split("/") if i] or [org.id]
    chain = {o.id: o for o in session.scalars(select(PartyOrg).where(PartyOrg.id.in_(ids)))}
    for oid in reversed(ids):
        anc = chain.get(oid)
        if anc is not None and anc.kind in LETTER_ISSUER_KINDS:
            return anc
    raise ValidationError(f"“{org.name}”（{org.kind_label}）及其上级中没有基层党委：组织关系介绍信只能由基层党委"
                          f"（社区党委、街道党工委）或县级以上党委组织部门开具，党总支、党支部、党小组不能开具。"
                          f"请先在组织树中把它挂到所属的基层党委下。", "org_id", org.id)


def check_letter_issuer(session: Session, org: PartyOrg) -> PartyOrg:
    """``org`` itself as the issuer of a letter: refused unless it is a 基层党委 (see ``letter_issuer``)."""
    if org.kind not in LETTER_ISSUER_KINDS:
        raise ValidationError(f"“{org.name}”是{org.kind_label}，不能开具党员组织关系介绍信：介绍信只能由基层党委"
                              f"（社区党委、街道党工委）或县级以上党委组织部门开具并盖章，{org.kind_label}只负责准备材料。",
                              "issuer_org_id", org.id)
    return org


@guard_busy   # the letter counter is one row every desktop of the street increments
def issue_transfer_letter(ctx: ServiceContext, member_id: int, destination: str, on: date | None = None,
                          dues_paid_to: str | None = None, valid_days: int | None = None,
                          reason: str = "", to_org_id: int | None = None,
                          issuer_org_id: int | None = None) -> Transfer:
    """开具组织关系介绍信. The member's current period closes on ``on``; ``to_org_id`` (an
    organisation of this street) moves them there at once, otherwise they leave the street's rolls
    until the letter is cancelled. The number is never reused, even for a cancelled letter."""
    ctx.actor.require(TRANSFER)
    m = _get_member(ctx, member_id)
    _member_in_scope(ctx, m)
    if not m.is_party_member or m.org_id is None or m.status != "normal":
        raise ValidationError(f"{m.name}目前不是本街道在册的党员（{m.stage_label}，{STATUS_LABELS.get(m.status, m.status)}），"
                              f"不能开具组织关系介绍信。", "member_id", member_id)
    destination = _require_text(destination, "接收党组织", "destination", 200)
    on = on or ctx.today()
    _not_future(ctx, on, "开具日期", "issued_on")
    max_days = setting(ctx.session, "partybuilding.transfer.max_valid_days")
    valid_days = max_days if valid_days is None else valid_days
    if not isinstance(valid_days, int) or not 1 <= valid_days <= max_days:
        raise ValidationError(f"介绍信有效期应为 1 至 {max_days} 天，填写的是 {valid_days}。", "valid_days", valid_days)
    if dues_paid_to is None:
        dues_paid_to = last_paid_month(ctx.session, m.id)
    elif dues_paid_to:
        dues_paid_to = parse_month(dues_paid_to, "dues_paid_to", "党费交至月份")
        if dues_paid_to > month_key(on):
            raise ValidationError(f"党费交至 {dues_paid_to}，晚于开信月份 {month_key(on)}。", "dues_paid_to", dues_paid_to)
    from_org = _get_org(ctx, m.org_id)
    # The issuer: the nearest 基层党委 above the member's organisation; one named by the caller must be
    # entitled (a 党支部 or 党小组 is refused) and must be that member's own committee or above it.
    issuer = letter_issuer(ctx.session, from_org)
    if issuer_org_id is not None:
        chosen = check_letter_issuer(ctx.session, _get_org(ctx, issuer_org_id))
        if chosen.id != issuer.id:
            raise ValidationError(f"“{chosen.name}”不是{m.name}所在“{from_org.name}”的基层党委，"
                                  f"介绍信应由“{issuer.name}”开具。", "issuer_org_id", issuer_org_id)
    to_org = None
    if to_org_id is not None:
        to_org = _member_org(ctx, to_org_id)
        if to_org.id == from_org.id:
            raise ValidationError(f"{m.name}已在“{to_org.name}”，无需转接。", "to_org_id", to_org_id)
    prefix = setting(ctx.session, "partybuilding.transfer.prefix") or "党组介字"
    n = next_number(ctx.session, f"transfer_letter:{on.year}")
    t = Transfer(direction="out", member_id=m.id, from_org_id=from_org.id, to_org_id=to_org.id if to_org else None,
                 letter_number=format_letter_number(prefix, on.year, n), other_party=destination, issued_on=on,
                 valid_days=valid_days, dues_paid_to=dues_paid_to or None, status="issued",
                 receipt_due_on=on + timedelta(days=setting(ctx.session, "partybuilding.transfer.receipt_days")),
                 reason=reason.strip() or None, created_by=ctx.actor.user_id)
    ctx.session.add(t)
    if to_org is not None:
        join_org(ctx, m.id, to_org.id, on, f"组织关系转接（{t.letter_number}）")
    else:
        _close_membership(ctx, m, on, f"转出至“{destination}”")
        m.org_id = None
        m.status = "transferred_out"
    ctx.session.flush()
    return t


def _get_transfer(ctx: ServiceContext, transfer_id: int) -> Transfer:
    t = get_in_scope(ctx, Transfer, transfer_id, "转接记录")
    org_id = t.from_org_id if t.direction == "out" else t.to_org_id
    if org_id is not None:
        _org_in_scope(ctx, _get_org(ctx, org_id))
    return t


def get_transfer(ctx: ServiceContext, transfer_id: int) -> Transfer:
    ctx.actor.require(VIEW)
    return _get_transfer(ctx, transfer_id)


def record_receipt(ctx: ServiceContext, transfer_id: int, on: date | None = None) -> Transfer:
    """The receiving committee's 回执 came back."""
    ctx.actor.require(TRANSFER)
    t = _get_transfer(ctx, transfer_id)
    if t.direction != "out" or t.status != "issued":
        raise ValidationError(f"介绍信 {t.letter_number or t.id} 的状态是“{TRANSFER_STATUS.get(t.status, t.status)}”，"
                              f"不能登记回执。",
                              "receipt_on")
    on = on or ctx.today()
    _not_future(ctx, on, "回执日期", "receipt_on")
    if on < t.issued_on:
        raise ValidationError(f"回执日期 {on} 早于开信日期 {t.issued_on}。", "receipt_on", on)
    t.receipt_on, t.status = on, "received"
    ctx.session.flush()
    return t


def cancel_letter(ctx: ServiceContext, transfer_id: int, reason: str, on: date | None = None) -> Transfer:
    """作废 an issued letter (not used, or returned): the member goes back to the organisation the
    letter was issued from. The number stays used."""
    ctx.actor.require(TRANSFER)
    t = _get_transfer(ctx, transfer_id)
    if t.direction != "out" or t.status != "issued":
        raise ValidationError("只有已开出、未收到回执的介绍信可以作废。", "status")
    reason = _require_text(reason, "作废原因", "reason", 200)
    on = on or ctx.today()
    m = _get_member(ctx, t.member_id)
    t.status, t.reason = "cancelled", ((t.reason or "") + f"；作废：{reason}").lstrip("；")[:200]
    if m.org_id == t.to_org_id or m.org_id is None:
        m.status = "normal"
        assert t.from_org_id is not None  # an outgoing letter is issued from an organisation
        join_org(ctx, m.id, t.from_org_id, max(on, t.issued_on), f"介绍信 {t.letter_number} 作废")
    ctx.session.flush()
    return t


def register_incoming(ctx: ServiceContext, *, org_id: int, origin: str, letter_number: str, on: date | None = None,
                      dues_paid_to: str | None = None, member_id: int | None = None, **member_fields) -> Transfer:
    """接收转入: a letter from ``origin``. An existing person (``member_id``, or the same ID number)
    rejoins; otherwise a member is created from ``member_fields`` (as for ``create_member``)."""
    ctx.actor.require(TRANSFER)
    origin = _require_text(origin, "转出党组织", "origin", 200)
    letter_number = _require_text(letter_number, "介绍信编号", "letter_number", 60)
    on = on or ctx.today()
    _not_future(ctx, on, "接收日期", "on")
    org = _member_org(ctx, org_id)
    if dues_paid_to:
        dues_paid_to = parse_month(dues_paid_to, "dues_paid_to", "党费交至月份")
    if member_id is None and member_fields.get("id_number"):
        number, _, _ = normalize_id_number(member_fields["id_number"])
        member_id = ctx.session.scalar(select(Member.id).where(Member.id_number == number))
    if member_id is not None:
        m = _get_member(ctx, member_id)
        if m.org_id is not None:
            raise ValidationError(f"{m.name}目前仍在“{_get_org(ctx, m.org_id).name}”，请按内部调整办理。", "member_id", member_id)
        if m.status in ("left", "deceased"):
            raise ValidationError(f"{m.name}的党籍状态为“{STATUS_LABELS[m.status]}”，不能接收。", "member_id", member_id)
        ctx.actor.require(MEMBER_MANAGE)
        m.status = "normal"
        join_org(ctx, m.id, org.id, on, f"由“{origin}”转入")
    else:
        member_fields.setdefault("stage", "full")
        if member_fields["stage"] not in ("probationary", "full"):
            raise ValidationError("转入的应为预备党员或正式党员。", "stage", member_fields["stage"])
        m = create_member(ctx, org_id=org.id, joined_on=on, **member_fields)
    t = Transfer(direction="in", member_id=m.id, to_org_id=org.id, other_party=origin, other_letter_number=letter_number,
                 issued_on=on, dues_paid_to=dues_paid_to or None, status="registered", created_by=ctx.actor.user_id)
    ctx.session.add(t)
    ctx.session.flush()
    return t


def _scoped_transfers(ctx: ServiceContext):
    from sqlalchemy.orm import joinedload

    org_col = func.coalesce(Transfer.from_org_id, Transfer.to_org_id)
    return (select(Transfer).join(PartyOrg, PartyOrg.id == org_col)
            .where(scope_filter(PartyOrg.area_id, ctx.actor)).options(joinedload(Transfer.member)))


def awaiting_receipts(ctx: ServiceContext) -> list[Transfer]:
    """Outgoing letters still waiting for their receipt (开出、未回执、未作废), of every year, the
    receipt due first."""
    ctx.actor.require(VIEW)
    return list(ctx.session.scalars(_scoped_transfers(ctx).where(Transfer.direction == "out", Transfer.status == "issued")
                                    .order_by(Transfer.receipt_due_on, Transfer.id)))


def receipt_overdue(t: Transfer, on: date) -> bool:
    """The receipt of a letter still waiting for it is past due on ``on``."""
    return t.receipt_due_on is not None and t.receipt_due_on < on


def overdue_receipts(ctx: ServiceContext, on: date | None = None) -> list[Transfer]:
    """Outgoing letters whose receipt is past due."""
    on = on or ctx.today()
    return [t for t in awaiting_receipts(ctx) if receipt_overdue(t, on)]


def list_transfers(ctx: ServiceContext, start: date | None = None, end: date | None = None) -> list[Transfer]:
    ctx.actor.require(VIEW)
    q = _scoped_transfers(ctx)
    if start:
        q = q.where(Transfer.issued_on >= start)
    if end:
        q = q.where(Transfer.issued_on <= end)
    return list(ctx.session.scalars(q.order_by(Transfer.issued_on, Transfer.id)))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
