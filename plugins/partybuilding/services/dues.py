"""Dues: the rates, payments, arrears (set-based) and the monthly dues sheet."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import Integer, String, case, cast, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.models import Setting
from shell.db.retry import guard_busy
from shell.db.sql import StartsWith
from shell.errors import ValidationError

from ..labels import CATEGORY_LABELS
from ..models import DuesPayment, Member, Membership, PartyOrg, Transfer
from ..rules import DUES, VIEW
from .common import _SETTING_BY_KEY, _not_future, month_key, parse_month
from .members import _get_member, _member_in_scope
from .orgs import get_org, org_labels_for


def parse_bands(text: str, label: str = "党费比例") -> list[tuple[int | None, int]]:
    """"3000:0.5;5000:1;*:2" → [(300000 fen, 50 basis points), (500000, 100), (None, 200)]."""
    bands: list[tuple[int | None, int]] = []
    parts = [p.strip() for p in (text or "").replace("；", ";").replace("：", ":").split(";") if p.strip()]
    try:
        for p in parts:
            limit, _, rate = p.partition(":")
            bp = Decimal(rate.strip().rstrip("%")) * 100
            if bp != bp.to_integral_value() or bp < 0 or bp > 10000:
                raise ValueError
            lim = None if limit.strip() == "*" else int(Decimal(limit.strip()) * 100)
            if bands and (bands[-1][0] is None or (lim is not None and lim <= bands[-1][0])):
                raise ValueError
            bands.append((lim, int(bp)))
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{label}“{text}”格式不对，应写成“3000:0.5;5000:1;*:2”（上限元:比例%，由低到高，最后一档写 *）。",
                              "bands", text) from None
    if not bands or bands[-1][0] is not None:
        raise ValidationError(f"{label}“{text}”缺少最后一档（写作 *:比例）。", "bands", text)
    return bands


def rate_for(bands: list[tuple[int | None, int]], income_fen: int) -> int:
    for limit, bp in bands:
        if limit is None or income_fen <= limit:
            return bp
    return bands[-1][1]


class DuesRules:
    """The dues settings read once (a setting left at its default costs a query on every read); the
    bracket tables are parsed on first use, so a bad table fails only where it is needed."""

    KEYS = ("flat_fen", "farmer_fen", "flag_months", "bands_employed", "bands_retired", "since")

    def __init__(self, session: Session):
        keys = [f"partybuilding.dues.{k}" for k in self.KEYS]
        saved = {r.key: r.value for r in session.scalars(select(Setting).where(Setting.key.in_(keys)))}
        value = {k: saved.get(key, _SETTING_BY_KEY[key].default) for k, key in zip(self.KEYS, keys, strict=True)}
        self.flat_fen, self.farmer_fen, self.flag_months = value["flat_fen"], value["farmer_fen"], value["flag_months"]
        self._texts = {k: value[f"bands_{k}"] for k in ("employed", "retired")}
        self._since = (value["since"] or "").strip()
        self._bands: dict[str, list[tuple[int | None, int]]] = {}

    def bands(self, kind: str) -> list[tuple[int | None, int]]:
        if kind not in self._bands:
            self._bands[kind] = parse_bands(self._texts[kind])
        return self._bands[kind]

    @property
    def since(self) -> str:
        """The ledger's first month ("" = no limit)."""
        return parse_month(self._since, "partybuilding.dues.since", "党费台账起始月份") if self._since else ""

    def monthly_fen(self, member: Member) -> int:
        """The monthly dues of ``member`` in fen (rounded half up to the fen)."""
        cat = member.category
        if cat in ("student", "unemployed", "dibao"):
            return self.flat_fen
        if cat == "farmer":
            return member.fixed_dues_fen if member.fixed_dues_fen is not None else self.farmer_fen
        if member.fixed_dues_fen is not None:
            return member.fixed_dues_fen
        bands = self.bands("retired" if cat == "retired" else "employed")
        income = member.income_fen or 0
        return (income * rate_for(bands, income) + 5000) // 10000


def monthly_dues_fen(session: Session, member: Member) -> int:
    """The monthly dues of ``member`` in fen (rounded half up to the fen)."""
    return DuesRules(session).monthly_fen(member)


@guard_busy   # two desktops may record the same branch's month at once
def record_payment(ctx: ServiceContext, member_id: int, month: str, amount_fen: int | None = None,
                   paid_on: date | None = None) -> DuesPayment:
    """Record dues for one month (the amount defaults to the member's monthly dues)."""
    ctx.actor.require(DUES)
    m = _get_member(ctx, member_id)
    _member_in_scope(ctx, m)
    if not m.is_party_member:
        raise ValidationError(f"{m.name}是{m.stage_label}，尚未入党，不交党费。", "member_id", member_id)
    month = parse_month(month)
    assert m.admitted_on is not None  # a Party member was admitted on a day
    if month < month_key(m.admitted_on):
        raise ValidationError(f"{month} 早于{m.name}入党（{m.admitted_on}）的月份，不应交党费。", "month", month)
    paid_on = paid_on or ctx.today()
    _not_future(ctx, paid_on, "缴纳日期", "paid_on")
    if ctx.session.scalar(select(DuesPayment.id).where(DuesPayment.member_id == m.id, DuesPayment.month == month)):
        raise ValidationError(f"{m.name} {month} 的党费已登记，不能重复登记。", "month", month)
    if amount_fen is None:
        amount_fen = monthly_dues_fen(ctx.session, m)
    if not isinstance(amount_fen, int) or amount_fen < 0:
        raise ValidationError(f"金额应为不小于 0 的整数（分），填写的是 {amount_fen}。", "amount_fen", amount_fen)
    p = DuesPayment(member_id=m.id, month=month, amount_fen=amount_fen, base_fen=m.income_fen, paid_on=paid_on,
                    recorded_by=ctx.actor.user_id)
    ctx.session.add(p)
    ctx.session.flush()
    return p


@dataclass
class Arrears:
    member: Member
    months: list[str]
    amount_fen: int
    trailing: int                  # consecutive unpaid months up to the reference month
    flagged: bool                  # trailing ≥ the configured months (6): treated as leaving the Party

    @property
    def org_name(self) -> str:
        return self.member.org.name if self.member.org else ""


def arrears(ctx: ServiceContext, upto: str | None = None, org_id: int | None = None) -> list[Arrears]:
    """Members (预备 + 正式, 正常) with unpaid months from their dues start up to ``upto``, in the
    order of ``list_members``. Set-based: a fixed number of statements however many members."""
    ctx.actor.require(VIEW)
    upto = parse_month(upto) if upto else month_key(ctx.today())
    return [a for _m, a in dues_status(ctx, upto, org_id=org_id) if a is not None]


def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _index_month(i: int) -> str:
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


class _month_of(FunctionElement):
    """'YYYY-MM' of a DATE column, in SQL (SQLite keeps dates as ISO text)."""
    type = String()
    name = "month_of"
    inherit_cache = True


@compiles(_month_of)
def _month_of_sqlite(element, compiler, **kw):
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(_month_of, "postgresql")
def _month_of_pg(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


class _joined(FunctionElement):
    """The group's values joined with commas (an aggregate): SQLite ``group_concat``, PostgreSQL ``string_agg``."""
    type = String()
    name = "joined"
    inherit_cache = True


@compiles(_joined)
def _joined_sqlite(element, compiler, **kw):
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(_joined, "postgresql")
def _joined_pg(element, compiler, **kw):
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


def _sql_month_index(expr):
    """year * 12 + month of a 'YYYY-MM' text expression, in SQL (portable substr / cast)."""
    return cast(func.substr(expr, 1, 4), Integer) * 12 + cast(func.substr(expr, 6, 2), Integer)


def _dues_start(m: Member, first_on: date | None, paid_to: str | None, since: str) -> str | None:
    """Dues are owed from the vote month (probationary members pay from the vote), and in this
    system from the month the member joined its rolls and the ledger's first month (setting), after
    any month paid before a transfer in."""
    if m.admitted_on is None:
        return None
    start = max(month_key(m.admitted_on), month_key(first_on) if first_on else "0000-00", since or "0000-00")
    if paid_to:
        start = max(start, _index_month(_month_index(paid_to) + 1))
    return start


def dues_status(ctx: ServiceContext, upto: str, org_id: int | None = None, member_id: int | None = None,
                rules: DuesRules | None = None) -> list[tuple[Member, Arrears | None]]:
    """Every party member (预备 + 正式, 正常) in scope (of ``org_id``'s subtree; or the one member
    ``member_id``, whose scope the caller has checked) with their arrears up to ``upto`` (None: paid up).

    Set-based, two statements (after the settings) however many members: (1) the members, with the
    start of their first membership period and the dues paid up to on their latest transfer in;
    (2) one GROUP BY over the payments inside each member's own owing window — the window's bounds
    are compared in SQL — giving the count, first and last paid month, and only for a member with a
    hole between those, the paid months themselves (joined into one string)."""
    ctx.actor.require(VIEW)
    root_path = get_org(ctx, org_id).path if org_id is not None and member_id is None else None
    return _dues_status(ctx, upto, root_path, member_id, rules)


def _dues_status(ctx: ServiceContext, upto: str, root_path: str | None, member_id: int | None,
                 rules: DuesRules | None) -> list[tuple[Member, Arrears | None]]:
    s = ctx.session
    rules = rules or DuesRules(s)
    since = rules.since
    # Per member by index lookups, robust whatever the planner's statistics say (joining GROUP BY
    # subqueries made PostgreSQL re-scan a whole aggregate per member on freshly loaded tables).
    first_on = (select(func.min(Membership.start_on)).where(Membership.member_id == Member.id)
                .correlate(Member).scalar_subquery())
    paid_to = (select(func.max(Transfer.dues_paid_to)).where(Transfer.member_id == Member.id, Transfer.direction == "in")
               .correlate(Member).scalar_subquery())

    def scoped(q):
        q = q.where(Member.stage.in_(("probationary", "full")), Member.status == "normal")
        if member_id is not None:
            return q.where(Member.id == member_id)
        q = q.join(PartyOrg, Member.org_id == PartyOrg.id).where(scope_filter(PartyOrg.area_id, ctx.actor))
        # GLOB on SQLite: the path index finds the subtree's organisations, then their members.
        return q.where(StartsWith(PartyOrg.path, root_path)) if root_path is not None else q

    q = scoped(select(Member, first_on, paid_to))
    if member_id is None:
        from sqlalchemy.orm import load_only

        # A street's members: only the columns the dues and their callers use (a third of the
        # time went into building full objects); anything else loads on access.
        q = q.options(load_only(Member.id, Member.name, Member.org_id, Member.stage, Member.status, Member.category,
                                Member.income_fen, Member.fixed_dues_fen, Member.admitted_on, Member.phone))
        q = q.order_by(PartyOrg.path, Member.name, Member.id)
    members = [(m, _dues_start(m, first, to, since)) for m, first, to in s.execute(q)]
    if not members:
        return []
    P = DuesPayment
    # Each member's owing window, computed once: OFFSET 0 keeps both engines from flattening the
    # subquery into the join, which would repeat the lookups for every payment row.
    owing = (scoped(select(Member.id.label("mid"), _month_of(Member.admitted_on).label("admitted"),
                           _month_of(first_on).label("first"), paid_to.label("paid_to")))
             .offset(0).subquery("owing"))
    window = [P.month <= upto, P.month >= owing.c.admitted, or_(owing.c.first.is_(None), P.month >= owing.c.first),
              or_(owing.c.paid_to.is_(None), P.month > owing.c.paid_to)]
    if since:
        window.append(P.month >= since)
    # Only a member with a hole between the first and last paid month needs the months themselves.
    hole = func.count() < _sql_month_index(func.max(P.month)) - _sql_month_index(func.min(P.month)) + 1
    q = (select(P.member_id, func.count(), func.min(P.month), func.max(P.month), case((hole, _joined(P.month)), else_=None))
         .join(owing, owing.c.mid == P.member_id).where(*window).group_by(P.member_id))
    paid: dict[int, tuple[int, int, int]] = {}
    holed: dict[int, set[str]] = {}
    for mid, n, lo, hi, months in s.execute(q):
        paid[mid] = (n, _month_index(lo), _month_index(hi))
        if months:
            holed[mid] = set(months.split(","))
    up = _month_index(upto)
    out: list[tuple[Member, Arrears | None]] = []
    for m, start in members:
        if start is None or start > upto:
            out.append((m, None))
            continue
        first = _month_index(start)
        n, lo, hi = paid.get(m.id, (0, 0, 0))   # lo, hi are read only when n
        if n == up - first + 1:
            out.append((m, None))
            continue
        if m.id in holed:
            unpaid = [mo for mo in map(_index_month, range(first, up + 1)) if mo not in holed[m.id]]
        elif n:
            unpaid = [_index_month(i) for i in (*range(first, lo), *range(hi + 1, up + 1))]
        else:
            unpaid = [_index_month(i) for i in range(first, up + 1)]
        trailing = up - hi if n else up - first + 1
        out.append((m, Arrears(m, unpaid, len(unpaid) * rules.monthly_fen(m), trailing,
                               trailing >= rules.flag_months)))
    return out


def payments(ctx: ServiceContext, start: str, end: str, org_id: int | None = None) -> list[tuple[DuesPayment, Member]]:
    ctx.actor.require(VIEW)
    start, end = parse_month(start), parse_month(end)
    q = (select(DuesPayment, Member).join(Member, Member.id == DuesPayment.member_id)
         .join(PartyOrg, PartyOrg.id == Member.org_id)
         .where(scope_filter(PartyOrg.area_id, ctx.actor), DuesPayment.month >= start, DuesPayment.month <= end))
    if org_id is not None:
        q = q.where(PartyOrg.path.startswith(get_org(ctx, org_id).path))
    return list(ctx.session.execute(q.order_by(PartyOrg.path, Member.name, DuesPayment.month)))


def fen_text(fen: int | None) -> str:
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


@dataclass
class DuesRow:
    member_id: int
    name: str
    org_label: str
    category: str
    base_fen: int | None
    monthly_fen: int
    paid_fen: int | None
    paid_on: date | None
    trailing: int
    flagged: bool


def dues_sheet(ctx: ServiceContext, org_id: int, month: str) -> list[DuesRow]:
    """One month's dues of every party member (预备 + 正式, 正常) in ``org``'s subtree: what is due,
    what was paid, and the consecutive unpaid months up to that month (flagged at 6). A fixed
    number of statements (``dues_status`` plus that month's payments and the organisations)."""
    ctx.actor.require(VIEW)
    month = parse_month(month)
    s = ctx.session
    rules = DuesRules(s)
    root = get_org(ctx, org_id)
    status = _dues_status(ctx, month, root.path, None, rules)
    if not status:
        return []
    # That month's payment of each member on the sheet, by the (member, month) unique index: a
    # filter on the month alone scanned every payment of the street (500,000 rows).
    ids = [m.id for m, _a in status]
    paid: dict[int, DuesPayment] = {}
    for k in range(0, len(ids), 500):
        paid.update((p.member_id, p) for p in s.scalars(select(DuesPayment).where(
            DuesPayment.member_id.in_(ids[k:k + 500]), DuesPayment.month == month)))
    labels = org_labels_for(ctx, [m.org_id for m, _a in status])
    out = []
    for m, a in status:
        p = paid.get(m.id)
        org_label = labels.get(m.org_id, "") if m.org_id is not None else ""
        out.append(DuesRow(m.id, m.name, org_label, CATEGORY_LABELS.get(m.category, m.category),
                           m.income_fen, rules.monthly_fen(m), p.amount_fen if p else None, p.paid_on if p else None,
                           a.trailing if a else 0, bool(a and a.flagged)))
    return out


@guard_busy
def record_payments(ctx: ServiceContext, member_ids: Iterable[int], month: str, paid_on: date | None = None,
                    amount_fen: int | None = None) -> list[DuesPayment]:
    """Record one month for several members in one transaction (each at their monthly dues unless
    ``amount_fen`` is given): all or nothing."""
    ids = list(member_ids)
    if not ids:
        raise ValidationError("请先选择要登记党费的党员。", "member_id")
    return [record_payment(ctx, mid, month, amount_fen, paid_on) for mid in ids]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
