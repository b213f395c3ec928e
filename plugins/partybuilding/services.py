"""Party-building services (no Qt): the organisation tree, members and their development, transfers,
meetings and their compliance, dues. Every function takes a ``ServiceContext`` and checks the
permission (``partybuilding.*``) and the data scope (an organisation hangs on an area) itself.
Messages are Chinese and say what to do next."""
from __future__ import annotations

import calendar
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Integer, String, case, cast, func, literal, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from shell.core import personal as _personal
from shell.core import settings as core_settings
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import AREA_LEVEL_LABELS, Area, Setting
from shell.db.sql import StartsWith
from shell.errors import NotFound, ValidationError, raise_if
from shell.idnumber import parse_id_number

from .models import (
    CATEGORY_LABELS,
    LEVEL_LABELS,
    ORG_KINDS,
    STAGE_LABELS,
    STAGES,
    STATUS_LABELS,
    Attendance,
    CommunityReport,
    CommunityService,
    DuesPayment,
    HouseholdLink,
    Meeting,
    MeetingRule,
    Member,
    Membership,
    OrgEvent,
    PartyOrg,
    Transfer,
)
from .numbering import next_number  # the letter numbers; re-exported for callers and tests
from .rules import DUES, MEETING, MEMBER_MANAGE, ORG_MANAGE, RULES, SETTINGS, TRANSFER, VIEW
from .validation import MEMBER_FIELDS, member_field_errors

# ----------------------------------------------------------------------------- permissions & settings

_SETTING_BY_KEY = {d.key: d for d in SETTINGS}


def setting(session: Session, key: str):
    return core_settings.get(session, _SETTING_BY_KEY[key])


# ----------------------------------------------------------------------------- small helpers

def add_months(d: date, months: int) -> date:
    """Same day ``months`` later; the 31st becomes the month's last day."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_month(text: str, field_name: str = "month", label: str = "月份") -> str:
    m = _MONTH.match((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValidationError(f"{label}“{text}”格式不对，请写成 2026-03 这样的年-月。", field_name, text)
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def month_range(start: str, end: str) -> list[str]:
    y, m = int(start[:4]), int(start[5:])
    ey, em = int(end[:4]), int(end[5:])
    out = []
    while (y, m) <= (ey, em):
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def _require_text(value: str | None, label: str, field_name: str, max_len: int = 100) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(f"请填写{label}。", field_name, value)
    if len(value) > max_len:
        raise ValidationError(f"{label}太长（{len(value)} 字，最多 {max_len} 字）。", field_name, value)
    return value


def _not_future(ctx: ServiceContext, d: date, label: str, field_name: str) -> None:
    if d > ctx.today():
        raise ValidationError(f"{label}（{d}）不能晚于今天。", field_name, d)


def normalize_id_number(value: str) -> tuple[str, date, str]:
    """(18-digit number, birth date, sex) through the shared validator (15-digit numbers converted)."""
    info = parse_id_number(value)
    return info.number, info.birth_date, info.sex


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _age_text(birth: date, on: date) -> str:
    return f"{age_on(birth, on)}岁"


def _initials(name: str) -> str:
    from shell.text import pinyin_initials

    return pinyin_initials(name)[:64]


# ----------------------------------------------------------------------------- organisations

# Area levels an organisation of each level may hang on.
AREA_FIT: dict[int, tuple[str, ...]] = {
    1: ("street",),
    2: ("community",),
    3: ("community", "grid"),
    4: ("community", "grid", "microgrid"),
    5: ("community", "grid", "microgrid"),
}


def _get_org(ctx: ServiceContext, org_id: int) -> PartyOrg:
    org = ctx.session.get(PartyOrg, org_id)
    if org is None:
        raise NotFound(f"党组织 {org_id} 不存在，可能已被他人删除。请刷新。")
    return org


def _area(ctx: ServiceContext, area_id: int) -> Area:
    area = ctx.session.get(Area, area_id)
    if area is None:
        raise NotFound(f"辖区 {area_id} 不存在，请刷新后重选。")
    return area


def _org_in_scope(ctx: ServiceContext, org: PartyOrg) -> Area:
    area = _area(ctx, org.area_id)
    ctx.actor.require_scope(area)
    return area


def get_org(ctx: ServiceContext, org_id: int) -> PartyOrg:
    ctx.actor.require(VIEW)
    org = _get_org(ctx, org_id)
    _org_in_scope(ctx, org)
    return org


def _check_area_fit(ctx: ServiceContext, level: int, area: Area, parent_area: Area | None, name: str) -> None:
    if area.level not in AREA_FIT[level]:
        fits = "、".join(AREA_LEVEL_LABELS[a] for a in AREA_FIT[level])
        raise ValidationError(f"{LEVEL_LABELS[level]}“{name}”应挂在{fits}一级的辖区上，“{area.name}”是{area.level_label}。",
                              "area_id", area.id)
    if parent_area is not None and not area.path.startswith(parent_area.path):
        raise ValidationError(f"“{name}”所在辖区“{area.name}”不在上级党组织的辖区“{parent_area.name}”之内。",
                              "area_id", area.id)
    if not area.is_open:
        raise ValidationError(f"辖区“{area.name}”已撤销，不能挂党组织。", "area_id", area.id)


def _check_sibling_name(ctx: ServiceContext, parent_id: int | None, name: str, exclude_id: int | None = None) -> None:
    q = select(PartyOrg.id).where(PartyOrg.name == name, PartyOrg.dissolved_on.is_(None),
                                  PartyOrg.parent_id.is_(None) if parent_id is None else PartyOrg.parent_id == parent_id)
    if exclude_id is not None:
        q = q.where(PartyOrg.id != exclude_id)
    if ctx.session.scalar(q) is not None:
        raise ValidationError(f"同一上级党组织下已有名为“{name}”的组织。", "name", name)


def _event(ctx: ServiceContext, org: PartyOrg, on: date, event: str, detail: str = "") -> None:
    ctx.session.add(OrgEvent(org_id=org.id, on=on, event=event, detail=detail[:400]))


def create_org(ctx: ServiceContext, name: str, kind: str, parent_id: int | None = None, area_id: int | None = None,
               founded_on: date | None = None, secretary: str | None = None, has_committee: bool = False,
               committee_size: int | None = None, committee_elected_on: date | None = None,
               households: str | None = None, sort_order: int = 0) -> PartyOrg:
    """Create an organisation of ``kind`` under ``parent`` (a child is exactly one level below).
    Levels 4–5 without an area take their parent's area."""
    ctx.actor.require(ORG_MANAGE)
    name = _require_text(name, "组织名称", "name")
    if kind not in ORG_KINDS:
        raise ValidationError(f"未知的党组织类别“{kind}”。", "kind", kind)
    level = ORG_KINDS[kind][0]
    founded_on = founded_on or ctx.today()
    _not_future(ctx, founded_on, "成立日期", "founded_on")
    parent = None
    parent_area = None
    if parent_id is None:
        if level != 1:
            raise ValidationError(f"{ORG_KINDS[kind][1]}必须建在上级党组织下面。", "parent_id")
    else:
        parent = _get_org(ctx, parent_id)
        parent_area = _org_in_scope(ctx, parent)
        if not parent.is_open:
            raise ValidationError(f"“{parent.name}”已撤销，不能在其下新建组织。", "parent_id", parent_id)
        if level != parent.level + 1:
            expected = LEVEL_LABELS.get(parent.level + 1)
            raise ValidationError(
                f"“{parent.name}”是{parent.kind_label}，其下只能建{expected or '（党员中心户下不能再建组织）'}，"
                f"不能建{ORG_KINDS[kind][1]}。", "kind", kind)
    if area_id is None:
        if parent is None or level < 4:
            raise ValidationError(f"请为“{name}”选择所在辖区。", "area_id")
        area_id = parent.area_id
    area = _area(ctx, area_id)
    ctx.actor.require_scope(area)
    _check_area_fit(ctx, level, area, parent_area, name)
    _check_sibling_name(ctx, parent_id, name)
    if kind == "household" and has_committee:
        raise ValidationError("党员中心户不设委员会。", "has_committee")
    org = PartyOrg(name=name, kind=kind, level=level, parent_id=parent_id, area_id=area.id, founded_on=founded_on,
                   secretary=(secretary or "").strip() or None, sort_order=sort_order, path="",
                   households=(households or "").strip() or None, created_by=ctx.actor.user_id)
    _apply_committee(org, has_committee, committee_size, committee_elected_on)
    ctx.session.add(org)
    ctx.session.flush()
    org.path = (parent.path if parent else "/") + f"{org.id}/"
    _event(ctx, org, founded_on, "founded", f"成立，隶属“{parent.name}”" if parent else "成立")
    ctx.session.flush()
    return org


def _apply_committee(org: PartyOrg, has_committee: bool, size: int | None, elected_on: date | None) -> None:
    if has_committee:
        if size is None or not 3 <= size <= 7:
            raise ValidationError(f"委员会应有 3 至 7 名委员（一般 3 至 5 名），填写的是 {size}。", "committee_size", size)
        if elected_on is None:
            raise ValidationError("请填写委员会的选举（换届）日期。", "committee_elected_on")
    org.has_committee = bool(has_committee)
    org.committee_size = size if has_committee else None
    org.committee_elected_on = elected_on if has_committee else None


def update_committee(ctx: ServiceContext, org_id: int, has_committee: bool, committee_size: int | None = None,
                     elected_on: date | None = None, secretary: str | None = None,
                     expected_version: int | None = None) -> PartyOrg:
    ctx.actor.require(ORG_MANAGE)
    org = _get_org(ctx, org_id)
    _org_in_scope(ctx, org)
    check_version(ctx.session, org, expected_version, "党组织")
    if org.kind == "household" and has_committee:
        raise ValidationError("党员中心户不设委员会。", "has_committee")
    if elected_on is not None:
        _not_future(ctx, elected_on, "换届日期", "committee_elected_on")
    _apply_committee(org, has_committee, committee_size, elected_on)
    if secretary is not None:
        org.secretary = secretary.strip() or None
    flush_or_conflict(ctx.session, org, "党组织")
    return org


def rename_org(ctx: ServiceContext, org_id: int, name: str, on: date | None = None,
               expected_version: int | None = None) -> PartyOrg:
    ctx.actor.require(ORG_MANAGE)
    org = _get_org(ctx, org_id)
    _org_in_scope(ctx, org)
    check_version(ctx.session, org, expected_version, "党组织")
    name = _require_text(name, "组织名称", "name")
    if name == org.name:
        return org
    _check_sibling_name(ctx, org.parent_id, name, exclude_id=org.id)
    on = on or ctx.today()
    _event(ctx, org, on, "renamed", f"“{org.name}”更名为“{name}”")
    org.name = name
    flush_or_conflict(ctx.session, org, "党组织")
    return org


def set_households(ctx: ServiceContext, org_id: int, households: Iterable[str]) -> PartyOrg:
    """党员中心户: the households it contacts (name / address, one per line)."""
    ctx.actor.require(ORG_MANAGE)
    org = _get_org(ctx, org_id)
    _org_in_scope(ctx, org)
    if org.kind != "household":
        raise ValidationError(f"“{org.name}”不是党员中心户，不能登记联系户。", "households")
    lines = [h.strip() for h in households if h and h.strip()]
    org.households = "\n".join(lines) or None
    ctx.session.flush()
    return org


def dissolve_org(ctx: ServiceContext, org_id: int, on: date | None = None, reason: str = "",
                 expected_version: int | None = None) -> PartyOrg:
    """撤销: the organisation stays with its history; open children and current members must go first."""
    ctx.actor.require(ORG_MANAGE)
    org = _get_org(ctx, org_id)
    _org_in_scope(ctx, org)
    check_version(ctx.session, org, expected_version, "党组织")
    if not org.is_open:
        raise ValidationError(f"“{org.name}”已于 {org.dissolved_on} 撤销。", "dissolved_on")
    on = on or ctx.today()
    _not_future(ctx, on, "撤销日期", "dissolved_on")
    if org.founded_on and on < org.founded_on:
        raise ValidationError(f"撤销日期 {on} 早于成立日期 {org.founded_on}。", "dissolved_on", on)
    children = ctx.session.scalar(select(func.count()).select_from(PartyOrg)
                                  .where(PartyOrg.parent_id == org.id, PartyOrg.dissolved_on.is_(None)))
    if children:
        raise ValidationError(f"“{org.name}”下还有 {children} 个未撤销的下级组织，请先撤销或调整它们的隶属关系。",
                              "dissolved_on")
    members = ctx.session.scalar(select(func.count()).select_from(Membership)
                                 .where(Membership.org_id == org.id, Membership.end_on.is_(None)))
    if members:
        raise ValidationError(f"“{org.name}”还有 {members} 名党员（含发展对象等），请先把他们转到其他组织。",
                              "dissolved_on")
    org.dissolved_on = on
    org.dissolved_reason = reason.strip() or None
    _event(ctx, org, on, "dissolved", reason.strip())
    flush_or_conflict(ctx.session, org, "党组织")
    return org


@dataclass(frozen=True)
class MoveResult:
    organisations: int
    members: int
    area_changed: bool = False

    @property
    def message(self) -> str:
        return f"将移动 {self.organisations} 个党组织、{self.members} 名党员" + \
            ("；移动后所在辖区改为新上级的辖区" if self.area_changed else "") + "。"


def _subtree_org_ids(session: Session, org: PartyOrg):
    return select(PartyOrg.id).where(PartyOrg.path.startswith(org.path))


def move_org(ctx: ServiceContext, org_id: int, new_parent_id: int, on: date | None = None, preview: bool = False,
             expected_version: int | None = None) -> MoveResult:
    """Move ``org`` and its subtree under ``new_parent`` (one level above it). ``preview=True``
    validates and returns the counts for the confirmation without changing anything. A 党小组 or
    党员中心户 that moves to a branch in another area takes that branch's area."""
    ctx.actor.require(ORG_MANAGE)
    org = _get_org(ctx, org_id)
    new_parent = _get_org(ctx, new_parent_id)
    area = _org_in_scope(ctx, org)
    parent_area = _org_in_scope(ctx, new_parent)
    check_version(ctx.session, org, expected_version, "党组织")
    if org.parent_id is None:
        raise ValidationError(f"“{org.name}”是最高一级党组织，不能移动。", "parent_id")
    if not org.is_open:
        raise ValidationError(f"“{org.name}”已撤销，不能移动。", "parent_id")
    if new_parent.path.startswith(org.path):
        raise ValidationError(f"不能把“{org.name}”移到它自己或它的下级“{new_parent.name}”下面。", "parent_id")
    if new_parent.level != org.level - 1:
        raise ValidationError(f"{org.kind_label}“{org.name}”只能放在{LEVEL_LABELS[org.level - 1]}下面，"
                              f"“{new_parent.name}”是{new_parent.kind_label}。", "parent_id")
    if not new_parent.is_open:
        raise ValidationError(f"“{new_parent.name}”已撤销，不能移入。", "parent_id")
    sub = _subtree_org_ids(ctx.session, org)
    n_orgs = ctx.session.scalar(select(func.count()).select_from(PartyOrg).where(PartyOrg.path.startswith(org.path))) or 0
    n_members = ctx.session.scalar(select(func.count()).select_from(Membership)
                                   .where(Membership.end_on.is_(None), Membership.org_id.in_(sub))) or 0
    area_changed = not area.path.startswith(parent_area.path)
    if area_changed:
        if org.level < 4:
            raise ValidationError(f"“{org.name}”所在辖区“{area.name}”不在“{new_parent.name}”的辖区“{parent_area.name}”之内；"
                                  f"请先调整辖区，或移到同一辖区的上级组织下。", "parent_id")
        ctx.actor.require_scope(parent_area)
    if new_parent.id == org.parent_id:
        return MoveResult(0, 0)
    _check_sibling_name(ctx, new_parent.id, org.name, exclude_id=org.id)
    if preview:
        return MoveResult(n_orgs, n_members, area_changed)
    on = on or ctx.today()
    old_parent = _get_org(ctx, org.parent_id)
    old_path, new_path = org.path, new_parent.path + f"{org.id}/"
    _event(ctx, org, on, "moved", f"从“{old_parent.name}”调整到“{new_parent.name}”（{n_orgs} 个组织、{n_members} 名党员）")
    org.parent_id = new_parent.id
    org.path = new_path  # through the ORM: audited
    if area_changed:
        org.area_id = new_parent.area_id
    flush_or_conflict(ctx.session, org, "党组织")
    values = dict(path=literal(new_path, String).concat(func.substr(PartyOrg.path, len(old_path) + 1)),
                  version_id=PartyOrg.version_id + 1)
    if area_changed:
        values["area_id"] = new_parent.area_id
    ctx.session.execute(update(PartyOrg).where(PartyOrg.path.startswith(old_path), PartyOrg.id != org.id)
                        .values(**values).execution_options(synchronize_session=False))
    ctx.session.expire_all()
    return MoveResult(n_orgs, n_members, area_changed)


def visible_orgs(ctx: ServiceContext, include_dissolved: bool = False, kinds: Iterable[str] | None = None) -> list[PartyOrg]:
    ctx.actor.require(VIEW)
    q = select(PartyOrg).where(scope_filter(PartyOrg.area_id, ctx.actor))
    if not include_dissolved:
        q = q.where(PartyOrg.dissolved_on.is_(None))
    if kinds:
        q = q.where(PartyOrg.kind.in_(list(kinds)))
    return tree_sorted(ctx.session.scalars(q))


def tree_sorted(orgs: Iterable) -> list:
    """Organisations (or rows with id, path, sort_order) in tree order: siblings by sort order, id."""
    orgs = list(orgs)
    order = {str(o.id): (o.sort_order or 0, o.id) for o in orgs}
    return sorted(orgs, key=lambda o: [order.get(i) or (0, int(i)) for i in o.path[1:-1].split("/") if i])


@dataclass
class OrgNode:
    org: PartyOrg
    depth: int
    own_members: int       # party members (预备 + 正式) directly in this organisation
    members: int           # … in its whole subtree
    full_members: int      # 正式党员 in the subtree


def org_tree(ctx: ServiceContext, include_dissolved: bool = False) -> list[OrgNode]:
    """The visible tree in display order with member counts per node (two queries in all)."""
    orgs = visible_orgs(ctx, include_dissolved)
    counts: dict[int | None, list[int]] = {}   # org_id IS NOT NULL below
    q = (select(Member.org_id, Member.stage, func.count()).where(Member.org_id.is_not(None),
         Member.stage.in_(("probationary", "full")), Member.status == "normal")
         .group_by(Member.org_id, Member.stage))
    for org_id, stage, n in ctx.session.execute(q):
        c = counts.setdefault(org_id, [0, 0])
        c[0] += n
        if stage == "full":
            c[1] += n
    nodes = {o.id: OrgNode(o, o.path.count("/") - 2, counts.get(o.id, [0])[0], 0, 0) for o in orgs}
    for o in orgs:
        own, full = counts.get(o.id, [0, 0])
        for anc in o.path.strip("/").split("/"):
            node = nodes.get(int(anc))
            if node is not None:
                node.members += own
                node.full_members += full
    base = min((n.depth for n in nodes.values()), default=0)
    for node in nodes.values():
        node.depth -= base
    return [nodes[o.id] for o in orgs]


def org_history(ctx: ServiceContext, org_id: int) -> list[OrgEvent]:
    get_org(ctx, org_id)
    return list(ctx.session.scalars(select(OrgEvent).where(OrgEvent.org_id == org_id).order_by(OrgEvent.on, OrgEvent.id)))


@dataclass(frozen=True)
class Finding:
    org_id: int
    org_name: str
    code: str      # too_few_full | too_many | needs_committee | term_expired | committee_size
    message: str


def branch_findings(ctx: ServiceContext, org_id: int | None = None, on: date | None = None,
                    nodes: list[OrgNode] | None = None) -> list[Finding]:
    """Check the §3 rules for every open 党支部 (and committee terms of 党委/党总支) in scope,
    or only those in ``org_id``'s subtree. ``nodes``: an ``org_tree`` the caller already has."""
    ctx.actor.require(VIEW)
    on = on or ctx.today()
    s = ctx.session
    min_full = setting(s, "partybuilding.branch.min_full")
    max_members = setting(s, "partybuilding.branch.max_members")
    threshold = setting(s, "partybuilding.branch.committee_threshold")
    term = setting(s, "partybuilding.committee.term_years")
    everything = org_tree(ctx) if nodes is None else nodes
    nodes = everything
    if org_id is not None:
        root = get_org(ctx, org_id)
        nodes = [n for n in nodes if n.org.path.startswith(root.path)]
    found: list[Finding] = []
    every = {x.org.id: x.org for x in everything}
    for n in nodes:
        o = n.org
        # Branch names repeat across communities ("第一网格党支部"): say whose.
        parent = every.get(o.parent_id) if o.parent_id is not None else None
        label = f"{parent.name} / {o.name}" if parent is not None else o.name
        if o.kind == "branch":
            if n.full_members < min_full:
                found.append(Finding(o.id, o.name, "too_few_full",
                                     f"“{label}”只有 {n.full_members} 名正式党员，少于 {min_full} 名，应与邻近支部联合或调整。"))
            if n.members > max_members:
                found.append(Finding(o.id, o.name, "too_many",
                                     f"“{label}”有 {n.members} 名党员，超过 {max_members} 名，宜分设支部或设党总支。"))
            if n.full_members >= threshold and not o.has_committee:
                found.append(Finding(o.id, o.name, "needs_committee",
                                     f"“{label}”有 {n.full_members} 名正式党员（{threshold} 名以上），应设立支部委员会。"))
        if o.has_committee and o.kind in ("branch", "general_branch", "community_committee", "working_committee"):
            if o.committee_elected_on and add_months(o.committee_elected_on, 12 * term) <= on:
                found.append(Finding(o.id, o.name, "term_expired",
                                     f"“{label}”委员会于 {o.committee_elected_on} 选举，任期 {term} 年已满，应按期换届。"))
            if o.committee_size and o.kind == "branch" and o.committee_size > 5 and n.full_members < 50:
                found.append(Finding(o.id, o.name, "committee_size",
                                     f"“{label}”支委会有 {o.committee_size} 名委员，一般为 3 至 5 名。"))
    return found


# ----------------------------------------------------------------------------- members

def _get_member(ctx: ServiceContext, member_id: int) -> Member:
    m = ctx.session.get(Member, member_id)
    if m is None:
        raise NotFound(f"人员 {member_id} 不存在，可能已被他人删除。请刷新。")
    return m


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
    from .validation import member_org

    return member_org(ctx, org_id)


def _check_member_fields(values: dict) -> dict:
    out, errors = member_field_errors(values)
    raise_if(errors)
    return out


def check_stage_dates(stage: str, dates: dict[str, date | None], birth: date, today: date) -> None:
    """The dates a member at ``stage`` must have (``validation.stage_date_errors``), the first error raised."""
    from .validation import stage_date_errors

    raise_if(stage_date_errors(stage, dates, birth, today))


def create_member(ctx: ServiceContext, *, name: str, id_number: str, org_id: int, stage: str = "applicant",
                  joined_on: date | None = None, applied_on: date | None = None, activist_on: date | None = None,
                  candidate_on: date | None = None, admitted_on: date | None = None, full_on: date | None = None,
                  sex: str | None = None, ethnicity: str = "汉族", education: str | None = None,
                  category: str = "employed", job: str | None = None, phone: str | None = None,
                  address: str | None = None, income_fen: int | None = None, fixed_dues_fen: int | None = None) -> Member:
    """Register a person at ``stage`` (the dates up to that stage are required) in ``org``."""
    from .validation import clean_member

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
               initials=_initials(items["name"]), created_by=ctx.actor.user_id, status="normal", **items, **dates)
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
    from .validation import clean_member

    values, errors = clean_member(changes, ctx, current=m)
    raise_if(errors)
    for k, v in values.items():
        setattr(m, k, v)
    if "name" in values:
        m.initials = _initials(m.name)
    flush_or_conflict(ctx.session, m, "党员信息")
    return m


_STAGE_DATE = {"activist": "activist_on", "candidate": "candidate_on", "probationary": "admitted_on", "full": "full_on"}


def probation_end(m: Member) -> date | None:
    """One year from the vote, plus the extension (6–12 months) when granted."""
    if m.admitted_on is None:
        return None
    return add_months(m.admitted_on, 12 + (m.extension_months or 0))


def advance_stage(ctx: ServiceContext, member_id: int, to_stage: str, on: date,
                  expected_version: int | None = None) -> Member:
    """Move a person one step along 入党申请人 → 积极分子 → 发展对象 → 预备党员 → 正式党员."""
    ctx.actor.require(MEMBER_MANAGE)
    m = _get_member(ctx, member_id)
    _member_in_scope(ctx, m)
    check_version(ctx.session, m, expected_version, "党员信息")
    if m.status != "normal" or m.org_id is None:
        raise ValidationError(f"{m.name}的党籍状态为“{STATUS_LABELS.get(m.status, m.status)}”，不能办理发展手续。", "stage")
    if to_stage not in _STAGE_DATE:
        raise ValidationError(f"不能转到“{STAGE_LABELS.get(to_stage, to_stage)}”。", "stage", to_stage)
    expected = STAGES[STAGES.index(m.stage) + 1] if m.stage != "full" else None
    if to_stage != expected:
        raise ValidationError(
            f"{m.name}目前是{m.stage_label}，" + (f"下一步只能是{STAGE_LABELS[expected]}" if expected else "已是正式党员")
            + f"，不能直接转为{STAGE_LABELS[to_stage]}。", "stage", to_stage)
    _not_future(ctx, on, "日期", _STAGE_DATE[to_stage])
    prev_date = m.applied_on if m.stage == "applicant" else getattr(m, _STAGE_DATE[m.stage])
    if prev_date and on < prev_date:
        raise ValidationError(f"日期 {on} 早于成为{m.stage_label}的日期 {prev_date}。", _STAGE_DATE[to_stage], on)
    if to_stage == "full":
        end = probation_end(m)
        assert end is not None  # a probationary member was admitted on a day
        if on < end:
            raise ValidationError(f"{m.name}的预备期到 {end} 才满，不能在 {on} 转正。", "full_on", on)
    setattr(m, _STAGE_DATE[to_stage], on)
    m.stage = to_stage
    flush_or_conflict(ctx.session, m, "党员信息")
    return m


def extend_probation(ctx: ServiceContext, member_id: int, months: int, on: date,
                     expected_version: int | None = None) -> Member:
    """延长预备期: once only, 6–12 months, decided before the member is made full."""
    ctx.actor.require(MEMBER_MANAGE)
    m = _get_member(ctx, member_id)
    _member_in_scope(ctx, m)
    check_version(ctx.session, m, expected_version, "党员信息")
    if m.stage != "probationary":
        raise ValidationError(f"{m.name}不是预备党员，不能延长预备期。", "extension_months")
    if m.extension_months:
        raise ValidationError(f"{m.name}的预备期已延长过一次（{m.extension_months} 个月），只能延长一次。", "extension_months")
    if not isinstance(months, int) or not 6 <= months <= 12:
        raise ValidationError(f"预备期可延长 6 至 12 个月，填写的是 {months}。", "extension_months", months)
    _not_future(ctx, on, "延长决定日期", "extended_on")
    assert m.admitted_on is not None  # a probationary member was admitted on a day
    if on < m.admitted_on:
        raise ValidationError(f"延长决定日期 {on} 早于接收为预备党员的日期 {m.admitted_on}。", "extended_on", on)
    m.extension_months, m.extended_on = months, on
    flush_or_conflict(ctx.session, m, "党员信息")
    return m


def _scoped_members(ctx: ServiceContext):
    return select(Member).join(PartyOrg, Member.org_id == PartyOrg.id).where(scope_filter(PartyOrg.area_id, ctx.actor))


def probation_lists(ctx: ServiceContext, on: date | None = None, within_days: int | None = None
                    ) -> tuple[list[tuple[Member, date]], list[tuple[Member, date]]]:
    """(转正 due: probation ends within ``within_days`` from ``on``; overdue: ended before ``on`` and
    not yet 转正), each as (member, probation end) sorted by end date."""
    ctx.actor.require(VIEW)
    on = on or ctx.today()
    days = setting(ctx.session, "partybuilding.probation.due_days") if within_days is None else within_days
    due, overdue = [], []
    for m in ctx.session.scalars(_scoped_members(ctx).where(Member.stage == "probationary", Member.status == "normal")):
        end = probation_end(m)
        assert end is not None  # a probationary member was admitted on a day
        if end < on:
            overdue.append((m, end))
        elif end <= on + timedelta(days=days):
            due.append((m, end))
    key = lambda t: (t[1], t[0].id)  # noqa: E731
    return sorted(due, key=key), sorted(overdue, key=key)


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


def org_label(session: Session, org: PartyOrg | None) -> str:
    """“上级 / 名称”: names of branches and groups repeat across communities."""
    if org is None:
        return ""
    parent = session.get(PartyOrg, org.parent_id) if org.parent_id is not None else None
    return f"{parent.name} / {org.name}" if parent is not None else org.name


def org_labels_for(ctx: ServiceContext, org_ids: Iterable[int | None]) -> dict[int, str]:
    """``org_label`` of just these organisations (and nothing of the other 2,000): their rows and
    their parents' names, a query per 500. Organisations outside the actor's scope are left out."""
    ctx.actor.require(VIEW)
    ids = sorted({i for i in org_ids if i is not None})
    rows: dict[int, Any] = {}
    for k in range(0, len(ids), 500):
        rows.update((r.id, r) for r in ctx.session.execute(
            select(PartyOrg.id, PartyOrg.parent_id, PartyOrg.name).where(
                PartyOrg.id.in_(ids[k:k + 500]), scope_filter(PartyOrg.area_id, ctx.actor))))
    names = {i: r.name for i, r in rows.items()}
    parents = sorted({r.parent_id for r in rows.values() if r.parent_id is not None} - set(names))
    for k in range(0, len(parents), 500):
        names.update(ctx.session.execute(select(PartyOrg.id, PartyOrg.name)
                                         .where(PartyOrg.id.in_(parents[k:k + 500]))).all())
    return {i: f"{names[r.parent_id]} / {r.name}" if r.parent_id in names else r.name for i, r in rows.items()}


def org_labels(ctx: ServiceContext) -> dict[int, str]:
    """``org_label`` of every organisation in scope (dissolved ones too), read in one column query."""
    return {oid: text for oid, text, _k, _l in org_options(ctx, include_dissolved=True)}


def org_options(ctx: ServiceContext, min_level: int = 1, max_level: int = 5,
                include_dissolved: bool = False) -> list[tuple[int, str, str, int]]:
    """(id, “上级 / 名称”, kind, level) of the organisations in scope, in tree order — for choosers.
    Plain columns in one query (not 2,000 ORM objects and a parent lookup each)."""
    ctx.actor.require(VIEW)
    q = select(PartyOrg.id, PartyOrg.parent_id, PartyOrg.name, PartyOrg.kind, PartyOrg.level, PartyOrg.path,
               PartyOrg.sort_order).where(scope_filter(PartyOrg.area_id, ctx.actor))
    if not include_dissolved:
        q = q.where(PartyOrg.dissolved_on.is_(None))
    rows = list(ctx.session.execute(q).all())
    names = {r.id: r.name for r in rows}
    order = {r.id: (r.sort_order or 0, r.id) for r in rows}
    rows.sort(key=lambda r: tuple(order.get(int(i), (0, int(i))) for i in r.path.strip("/").split("/") if i))
    return [(r.id, f"{names[r.parent_id]} / {r.name}" if r.parent_id in names else r.name, r.kind, r.level)
            for r in rows if min_level <= r.level <= max_level]


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
        elif text.isascii():   # pinyin initials (Latin letters in a name are in its initials too)
            q = q.where(StartsWith(Member.initials, text.lower()))
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


# ----------------------------------------------------------------------------- transfers

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
    t = ctx.session.get(Transfer, transfer_id)
    if t is None:
        raise NotFound(f"转接记录 {transfer_id} 不存在。")
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


TRANSFER_STATUS = {"issued": "已开出", "received": "已回执", "cancelled": "已作废", "registered": "已接收"}


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


def overdue_receipts(ctx: ServiceContext, on: date | None = None) -> list[Transfer]:
    """Outgoing letters whose receipt is past due."""
    ctx.actor.require(VIEW)
    on = on or ctx.today()
    return list(ctx.session.scalars(_scoped_transfers(ctx).where(Transfer.direction == "out", Transfer.status == "issued",
                                                                 Transfer.receipt_due_on < on)
                                    .order_by(Transfer.receipt_due_on, Transfer.id)))


def list_transfers(ctx: ServiceContext, start: date | None = None, end: date | None = None) -> list[Transfer]:
    ctx.actor.require(VIEW)
    q = _scoped_transfers(ctx)
    if start:
        q = q.where(Transfer.issued_on >= start)
    if end:
        q = q.where(Transfer.issued_on <= end)
    return list(ctx.session.scalars(q.order_by(Transfer.issued_on, Transfer.id)))


# ----------------------------------------------------------------------------- meetings

MEETING_KINDS: dict[str, str] = {
    "assembly": "党员大会", "committee": "支委会", "group": "党小组会", "lecture": "党课",
    "theme_day": "主题党日", "life_meeting": "组织生活会", "appraisal": "民主评议党员", "other": "其他会议",
}
PERIOD_LABELS = {"month": "每月", "quarter": "每季度", "year": "每年"}
# DOMAIN §3: 党员大会 quarterly, 支委会 monthly, 党小组会 monthly, 党课 quarterly (local practice),
# 主题党日 monthly, 组织生活会 and 民主评议党员 yearly.
DEFAULT_RULES: dict[str, tuple[str, int]] = {
    "assembly": ("quarter", 1), "committee": ("month", 1), "group": ("month", 1), "lecture": ("quarter", 1),
    "theme_day": ("month", 1), "life_meeting": ("year", 1), "appraisal": ("year", 1),
}


@dataclass(frozen=True)
class Rule:
    kind: str
    period: str
    min_count: int
    active: bool = True

    @property
    def label(self) -> str:
        return f"{MEETING_KINDS[self.kind]}{PERIOD_LABELS[self.period]}至少 {self.min_count} 次"


def meeting_rules(session: Session) -> dict[str, Rule]:
    rules = {k: Rule(k, p, n) for k, (p, n) in DEFAULT_RULES.items()}
    for r in session.scalars(select(MeetingRule)):
        rules[r.kind] = Rule(r.kind, r.period, r.min_count, r.active)
    return rules


def set_meeting_rule(ctx: ServiceContext, kind: str, period: str, min_count: int, active: bool = True) -> Rule:
    ctx.actor.require(RULES)
    if kind not in DEFAULT_RULES:
        raise ValidationError(f"“{MEETING_KINDS.get(kind, kind)}”没有频次规则。", "kind", kind)
    if period not in PERIOD_LABELS:
        raise ValidationError(f"周期“{period}”无效，应为每月、每季度或每年。", "period", period)
    if not isinstance(min_count, int) or not 1 <= min_count <= 31:
        raise ValidationError(f"次数应为 1 至 31，填写的是 {min_count}。", "min_count", min_count)
    row = ctx.session.scalar(select(MeetingRule).where(MeetingRule.kind == kind))
    if row is None:
        ctx.session.add(MeetingRule(kind=kind, period=period, min_count=min_count, active=active))
    else:
        row.period, row.min_count, row.active = period, min_count, active
    ctx.session.flush()
    return Rule(kind, period, min_count, active)


def _applies(kind: str, org: PartyOrg) -> bool:
    if kind == "group":
        return org.kind == "group"
    if kind == "committee":
        return org.kind == "branch" and org.has_committee
    return org.kind == "branch"


def _members_of_subtree_on(ctx: ServiceContext, org: PartyOrg, on: date) -> set[int]:
    q = (select(Membership.member_id).join(PartyOrg, PartyOrg.id == Membership.org_id)
         .where(PartyOrg.path.startswith(org.path), Membership.start_on <= on,
                or_(Membership.end_on.is_(None), Membership.end_on > on)))
    return set(ctx.session.scalars(q))


@dataclass(frozen=True)
class AttendanceEntry:
    member_id: int
    present: bool = True
    reason: str = ""


def _check_attendance(ctx: ServiceContext, org: PartyOrg, held_on: date,
                      attendance: Iterable[AttendanceEntry | tuple]) -> list[AttendanceEntry]:
    """The attendance list checked: each person once, a member of ``org``'s subtree that day, and a
    reason for everyone absent."""
    entries = [a if isinstance(a, AttendanceEntry) else AttendanceEntry(*a) for a in attendance]
    allowed = _members_of_subtree_on(ctx, org, held_on)
    seen = set()
    for a in entries:
        if a.member_id in seen:
            raise ValidationError("同一人在出勤名单中重复出现。", "attendance", a.member_id)
        seen.add(a.member_id)
        if a.member_id not in allowed:
            who = ctx.session.get(Member, a.member_id)
            raise ValidationError(f"{who.name if who else a.member_id}在 {held_on} 不是“{org.name}”的成员，不能记入出勤。",
                                  "attendance", a.member_id)
        if not a.present and not (a.reason or "").strip():
            who = ctx.session.get_one(Member, a.member_id)
            raise ValidationError(f"{who.name}缺席，请填写缺席原因。", "attendance", a.member_id)
    return entries


def record_meeting(ctx: ServiceContext, org_id: int, kind: str, held_on: date, topic: str, host: str = "",
                   recorder: str = "", minutes: str = "", location: str = "",
                   attendance: Iterable[AttendanceEntry | tuple] = ()) -> Meeting:
    """Record a meeting with its attendance (present, or absent with a reason)."""
    ctx.actor.require(MEETING)
    org = _get_org(ctx, org_id)
    _org_in_scope(ctx, org)
    if kind not in MEETING_KINDS:
        raise ValidationError(f"未知的会议类型“{kind}”。", "kind", kind)
    if kind == "group" and org.kind != "group":
        raise ValidationError(f"党小组会应记在党小组下，“{org.name}”是{org.kind_label}。", "kind", kind)
    if kind == "committee" and not org.has_committee:
        raise ValidationError(f"“{org.name}”未设委员会，不能记录支委会。", "kind", kind)
    _not_future(ctx, held_on, "会议日期", "held_on")
    if (org.founded_on and held_on < org.founded_on) or (org.dissolved_on and held_on > org.dissolved_on):
        raise ValidationError(f"会议日期 {held_on} 不在“{org.name}”存续期间。", "held_on", held_on)
    topic = _require_text(topic, "会议主题", "topic", 200)
    entries = _check_attendance(ctx, org, held_on, attendance)
    mt = Meeting(org_id=org.id, kind=kind, held_on=held_on, topic=topic, host=host.strip() or None,
                 recorder=recorder.strip() or None, minutes=minutes.strip() or None, location=location.strip() or None,
                 created_by=ctx.actor.user_id)
    ctx.session.add(mt)
    ctx.session.flush()
    for a in entries:
        ctx.session.add(Attendance(meeting_id=mt.id, member_id=a.member_id, present=a.present,
                                   absence_reason=None if a.present else a.reason.strip()[:200]))
    ctx.session.flush()
    return mt


def update_meeting(ctx: ServiceContext, meeting_id: int, *, topic: str, minutes: str = "", host: str = "",
                   recorder: str = "", location: str = "", attendance: Iterable[AttendanceEntry | tuple] = (),
                   expected_version: int | None = None) -> Meeting:
    """Correct a recorded meeting — topic, host, recorder, place, minutes and the attendance (the
    organisation, type and date stay; a wrong one is a different meeting). Optimistic locking: when
    someone saved the meeting after ``expected_version`` was read, a ConflictError names them. Any
    change, the attendance alone included, moves the meeting's version on, so two desktops editing
    the attendance cannot overwrite each other; every row change is in the audit log."""
    ctx.actor.require(MEETING)
    s = ctx.session
    mt = s.get(Meeting, meeting_id)
    if mt is None:
        raise NotFound(f"会议记录 {meeting_id} 不存在，可能已被他人删除。请刷新。")
    org = _get_org(ctx, mt.org_id)
    _org_in_scope(ctx, org)
    check_version(s, mt, expected_version, "会议记录")
    topic = _require_text(topic, "会议主题", "topic", 200)
    entries = {a.member_id: a for a in _check_attendance(ctx, org, mt.held_on, attendance)}
    rows = list(s.scalars(select(Attendance).where(Attendance.meeting_id == mt.id)))  # read before changing (autoflush)
    mt.topic, mt.host, mt.recorder = topic, (host or "").strip() or None, (recorder or "").strip() or None
    mt.location, mt.minutes = (location or "").strip() or None, (minutes or "").strip() or None
    changed = False
    for row in rows:
        a = entries.pop(row.member_id, None)
        if a is None:
            s.delete(row)
            changed = True
            continue
        reason = None if a.present else a.reason.strip()[:200]
        if (row.present, row.absence_reason) != (a.present, reason):
            row.present, row.absence_reason = a.present, reason
            changed = True
    for a in entries.values():
        s.add(Attendance(meeting_id=mt.id, member_id=a.member_id, present=a.present,
                         absence_reason=None if a.present else a.reason.strip()[:200]))
        changed = True
    if changed and not s.is_modified(mt):
        mt.updated_at = ctx.now()   # the attendance alone changed: the meeting's version moves on all the same
    flush_or_conflict(s, mt, "会议记录")
    return mt


def attendance_of(session: Session, meeting_id: int) -> list[tuple[Attendance, Member]]:
    return list(session.execute(select(Attendance, Member).join(Member, Member.id == Attendance.member_id)
                                .where(Attendance.meeting_id == meeting_id).order_by(Attendance.id)))


def quorum_met(session: Session, meeting: Meeting) -> bool:
    """A 支委会 counts only with more than half the committee present (when attendance is recorded)."""
    if meeting.kind != "committee":
        return True
    org = session.get_one(PartyOrg, meeting.org_id)
    rows = attendance_of(session, meeting.id)
    if not rows or not org.committee_size:
        return True
    present = sum(1 for a, _ in rows if a.present)
    return present * 2 > org.committee_size


def _meetings_query(ctx: ServiceContext, start: date, end: date, org_id: int | None):
    q = (select(Meeting).join(PartyOrg, PartyOrg.id == Meeting.org_id)
         .where(scope_filter(PartyOrg.area_id, ctx.actor), Meeting.held_on >= start, Meeting.held_on <= end))
    if org_id is not None:
        q = q.where(PartyOrg.path.startswith(get_org(ctx, org_id).path))
    return q


def list_meetings(ctx: ServiceContext, start: date, end: date, org_id: int | None = None, limit: int | None = None,
                  before: tuple[date, int] | None = None) -> list[Meeting]:
    """The meetings in scope (of ``org_id``'s subtree) between the dates, by organisation and date; with
    ``limit`` the newest first, a page at a time: ``before`` = (date, id) of the last one shown
    (keyset on the (held_on, id) index — a street's year holds tens of thousands of meetings)."""
    ctx.actor.require(VIEW)
    q = _meetings_query(ctx, start, end, org_id)
    if limit is None:
        return list(ctx.session.scalars(q.order_by(PartyOrg.path, Meeting.held_on, Meeting.id)))
    if before is not None:
        q = q.where(or_(Meeting.held_on < before[0], (Meeting.held_on == before[0]) & (Meeting.id < before[1])))
    return list(ctx.session.scalars(q.order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit)))


def count_meetings(ctx: ServiceContext, start: date, end: date, org_id: int | None = None) -> int:
    ctx.actor.require(VIEW)
    q = _meetings_query(ctx, start, end, org_id).with_only_columns(func.count(Meeting.id))
    return int(ctx.session.scalar(q) or 0)


@dataclass(frozen=True)
class ComplianceRow:
    org_id: int
    org_name: str
    kind: str
    period_label: str
    required: int
    held: int
    status: str          # ok | missing | pending (the period has not ended yet)

    @property
    def kind_label(self) -> str:
        return MEETING_KINDS[self.kind]

    @property
    def status_label(self) -> str:
        return {"ok": "已完成", "missing": "缺", "pending": "进行中"}[self.status]


def _periods(year: int, quarter: int | None, month: int | None, period: str) -> list[tuple[str, date, date]]:
    """The periods of kind ``period`` inside the requested window (year / quarter / month)."""
    if month is not None:
        months = [month]
    elif quarter is not None:
        months = [3 * quarter - 2, 3 * quarter - 1, 3 * quarter]
    else:
        months = list(range(1, 13))

    def mend(y, m):
        return date(y, m, calendar.monthrange(y, m)[1])

    if period == "month":
        return [(f"{year}年{m}月", date(year, m, 1), mend(year, m)) for m in months]
    if period == "quarter":
        if month is not None:
            return []
        qs = sorted({(m - 1) // 3 + 1 for m in months})
        return [(f"{year}年第{q}季度", date(year, 3 * q - 2, 1), mend(year, 3 * q)) for q in qs]
    if month is not None or quarter is not None:
        return []
    return [(f"{year}年", date(year, 1, 1), date(year, 12, 31))]


def _meetings_held(ctx: ServiceContext, year: int, orgs: list[PartyOrg], start: date | None = None,
                   end: date | None = None) -> dict[tuple[int, str], list[date]]:
    """(organisation, kind) → sorted dates of the year's meetings that count, for ``orgs`` (the
    branches and 党小组 in scope). One statement, never one per meeting: the attendance of each
    支委会 is counted in the same query (a 支委会 with attendance recorded counts only with more than
    half the committee present, as ``quorum_met``)."""
    if not orgs:
        return {}
    size = {o.id: o.committee_size for o in orgs}

    def counted(*where):   # per 支委会 by an index lookup (robust whatever the planner's statistics say)
        return case((Meeting.kind == "committee",
                     select(func.count()).where(Attendance.meeting_id == Meeting.id, *where)
                     .correlate(Meeting).scalar_subquery()), else_=None)

    q = (select(Meeting.org_id, Meeting.kind, Meeting.held_on, counted(), counted(Attendance.present.is_(True)))
         .where(Meeting.org_id.in_(list(size)), Meeting.held_on >= (start or date(year, 1, 1)),
                Meeting.held_on <= (end or date(year, 12, 31))))
    held: dict[tuple[int, str], list[date]] = {}
    for org_id, kind, held_on, listed, present in ctx.session.execute(q):
        if org_id not in size:
            continue
        if kind == "committee" and listed and (seats := size[org_id]) and int(present or 0) * 2 <= seats:
            continue
        held.setdefault((org_id, kind), []).append(held_on)
    for dates in held.values():
        dates.sort()
    return held


def compliance(ctx: ServiceContext, year: int, quarter: int | None = None, month: int | None = None,
               org_id: int | None = None, on: date | None = None, only_missing: bool = False) -> list[ComplianceRow]:
    """Required meetings per branch (and 党小组) in the window: held vs required, per period. A
    period still running is "pending", not missing; an organisation counts only for periods it
    existed through; a 支委会 without quorum does not count."""
    ctx.actor.require(VIEW)
    if quarter is not None and not 1 <= quarter <= 4:
        raise ValidationError(f"季度应为 1 至 4，填写的是 {quarter}。", "quarter", quarter)
    if month is not None and not 1 <= month <= 12:
        raise ValidationError(f"月份应为 1 至 12，填写的是 {month}。", "month", month)
    on = on or ctx.today()
    rules = [r for r in meeting_rules(ctx.session).values() if r.active]
    # Plain columns (a street has 1,300 branches and groups: ORM objects were half the time).
    q = (select(PartyOrg.id, PartyOrg.parent_id, PartyOrg.name, PartyOrg.kind, PartyOrg.path, PartyOrg.sort_order,
                PartyOrg.has_committee, PartyOrg.committee_size, PartyOrg.founded_on, PartyOrg.dissolved_on)
         .where(scope_filter(PartyOrg.area_id, ctx.actor), PartyOrg.kind.in_(("branch", "group"))))
    orgs = tree_sorted(ctx.session.execute(q).all())
    if org_id is not None:
        root = get_org(ctx, org_id)
        orgs = [o for o in orgs if o.path.startswith(root.path)]
    # The periods of each rule, once; only their meetings are read (a quarter's view reads a quarter).
    periods = {r.kind: _periods(year, quarter, month, r.period) for r in rules}
    windows = [(p_start, p_end) for ps in periods.values() for _label, p_start, p_end in ps]
    if not windows:
        return []
    held = _meetings_held(ctx, year, orgs, min(w[0] for w in windows), max(w[1] for w in windows))
    # "1号楼党小组" exists under every branch: name each organisation with its parent.
    names = {o.id: o.name for o in orgs}
    missing = sorted({o.parent_id for o in orgs if o.parent_id is not None} - set(names))
    for k in range(0, len(missing), 500):
        names.update(ctx.session.execute(select(PartyOrg.id, PartyOrg.name)
                                         .where(PartyOrg.id.in_(missing[k:k + 500]))).all())
    labels = {o.id: f"{names[o.parent_id]} / {o.name}" if o.parent_id in names else o.name for o in orgs}

    def label(o) -> str:
        return labels.get(o.id, o.name)

    rows: list[ComplianceRow] = []
    for o in orgs:
        for r in rules:
            if not _applies(r.kind, o):
                continue
            for period, p_start, p_end in periods[r.kind]:
                if (o.founded_on and o.founded_on > p_start) or (o.dissolved_on and o.dissolved_on < p_end):
                    continue
                if p_start > on:
                    continue
                dates = held.get((o.id, r.kind), ())
                n = bisect_right(dates, p_end) - bisect_left(dates, p_start)
                status = "ok" if n >= r.min_count else ("pending" if p_end >= on else "missing")
                if only_missing and status != "missing":
                    continue
                rows.append(ComplianceRow(o.id, label(o), r.kind, period, r.min_count, n, status))
    return rows


# ----------------------------------------------------------------------------- dues

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


# ----------------------------------------------------------------------------- search

def search(ctx: ServiceContext, text: str, limit: int = 20):
    """Members by name / pinyin initials / ID number; organisations by name or initials."""
    from shell.contracts import SearchResult
    from shell.text import matches_name

    if not ctx.actor.can(VIEW):
        return []
    text = (text or "").strip()
    if not text:
        return []
    found = []
    for m in list_members(ctx, text=text, limit=limit):
        found.append(SearchResult(kind="partybuilding.member", id=m.id, title=m.name,
                                  subtitle=f"{m.stage_label} · {m.org.name if m.org else ''}", plugin="partybuilding"))
    if len(found) < limit and not text.isdigit():
        # Organisation names only (not 2,000 ORM objects in tree order): the hits, sorted by path.
        q = (select(PartyOrg.id, PartyOrg.name, PartyOrg.kind, PartyOrg.path)
             .where(scope_filter(PartyOrg.area_id, ctx.actor), PartyOrg.dissolved_on.is_(None)))
        hits = [(path, oid, name, kind) for oid, name, kind, path in ctx.session.execute(q) if matches_name(name, text)]
        for _path, oid, name, kind in sorted(hits)[:limit - len(found)]:
            found.append(SearchResult(kind="partybuilding.org", id=oid, title=name,
                                      subtitle=ORG_KINDS.get(kind, (0, kind))[1], plugin="partybuilding"))
    return found


# ----------------------------------------------------------------------------- the member card

def next_stage(m: Member) -> str | None:
    """The one stage a person may be advanced to now (None: full member, or not on the rolls)."""
    if m.status != "normal" or m.org_id is None or m.stage == "full":
        return None
    return STAGES[STAGES.index(m.stage) + 1]


@dataclass
class MemberCard:
    member: Member
    org_label: str
    probation_end: date | None
    next_stage: str | None
    can_extend: bool
    timeline: list[tuple[str, date | None]]              # (stage label, date) up to the current stage
    memberships: list[tuple[date, date | None, str, str]]  # start, end, organisation, reason
    meetings: list[tuple[date, str, str, str, bool, str]]  # date, kind, topic, organisation, present, reason
    payments: list[tuple[str, int, date]]                  # month, fen, paid on
    monthly_dues_fen: int | None
    arrears: Arrears | None


def member_card(ctx: ServiceContext, member_id: int, history: int = 20) -> MemberCard:
    """Everything the member card shows, read in one service context."""
    m = get_member(ctx, member_id)
    s = ctx.session
    org = s.get(PartyOrg, m.org_id) if m.org_id else None
    chain = [("applicant", m.applied_on), ("activist", m.activist_on), ("candidate", m.candidate_on),
             ("probationary", m.admitted_on), ("full", m.full_on)]
    timeline = [(STAGE_LABELS[k], d) for k, d in chain[:STAGES.index(m.stage) + 1]]
    periods = [(p.start_on, p.end_on, org_label(s, o), p.reason) for p, o in memberships(ctx, m.id)]
    q = (select(Meeting, Attendance).join(Attendance, Attendance.meeting_id == Meeting.id)
         .where(Attendance.member_id == m.id).order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(history))
    meetings = [(mt.held_on, MEETING_KINDS.get(mt.kind, mt.kind), mt.topic, org_label(s, s.get(PartyOrg, mt.org_id)),
                 a.present, a.absence_reason or "") for mt, a in s.execute(q)]
    pays = [(p.month, p.amount_fen, p.paid_on) for p in s.scalars(
        select(DuesPayment).where(DuesPayment.member_id == m.id).order_by(DuesPayment.month.desc()).limit(history))]
    dues = arrear = None
    if m.is_party_member:
        rules = DuesRules(s)
        dues = rules.monthly_fen(m)
        status = dues_status(ctx, month_key(ctx.today()), member_id=m.id, rules=rules)
        arrear = status[0][1] if status else None
    return MemberCard(m, org_label(s, org), probation_end(m), next_stage(m),
                      m.stage == "probationary" and not m.extension_months and m.status == "normal",
                      timeline, periods, meetings, pays, dues, arrear)


# ----------------------------------------------------------------------------- meeting recorder & dues sheet

def meeting_candidates(ctx: ServiceContext, org_id: int, on: date) -> list[Member]:
    """Who may be on the attendance list of a meeting of ``org`` on ``on``: members of its subtree that day."""
    org = get_org(ctx, org_id)
    ids = _members_of_subtree_on(ctx, org, on)
    if not ids:
        return []
    return list(ctx.session.scalars(select(Member).where(Member.id.in_(ids)).order_by(Member.name, Member.id)))


def meeting_kinds_for(org: PartyOrg) -> list[str]:
    """The meeting kinds that may be recorded for ``org`` (as ``record_meeting`` checks them)."""
    kinds = []
    for k in MEETING_KINDS:
        if k == "group" and org.kind != "group":
            continue
        if k == "committee" and not org.has_committee:
            continue
        kinds.append(k)
    return kinds


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


def record_payments(ctx: ServiceContext, member_ids: Iterable[int], month: str, paid_on: date | None = None,
                    amount_fen: int | None = None) -> list[DuesPayment]:
    """Record one month for several members in one transaction (each at their monthly dues unless
    ``amount_fen`` is given): all or nothing."""
    ids = list(member_ids)
    if not ids:
        raise ValidationError("请先选择要登记党费的党员。", "member_id")
    return [record_payment(ctx, mid, month, amount_fen, paid_on) for mid in ids]


@dataclass
class MeetingSummary:
    meeting: Meeting
    org_label: str
    listed: int
    present: int
    absent: list[tuple[str, str]]   # (name, reason)
    quorum: bool


def meeting_summaries(ctx: ServiceContext, start: date, end: date, org_id: int | None = None,
                      limit: int | None = None, before: tuple[date, int] | None = None) -> list[MeetingSummary]:
    """The meetings of ``list_meetings`` (a page of ``limit`` with ``before``) with their attendance
    read in one query per 500 meetings, newest first. Only the organisations they name are read."""
    meetings = list_meetings(ctx, start, end, org_id, limit=limit, before=before)
    if not meetings:
        return []
    s = ctx.session
    att: dict[int, list[tuple[bool, str, str]]] = {}
    ids = [m.id for m in meetings]
    for k in range(0, len(ids), 500):
        q = (select(Attendance.meeting_id, Attendance.present, Member.name, Attendance.absence_reason)
             .join(Member, Member.id == Attendance.member_id).where(Attendance.meeting_id.in_(ids[k:k + 500]))
             .order_by(Attendance.id))
        for mid, present, name, reason in s.execute(q):
            att.setdefault(mid, []).append((present, name, reason or ""))
    org_ids = {m.org_id for m in meetings}
    orgs = {o.id: o for o in s.scalars(select(PartyOrg).where(PartyOrg.id.in_(org_ids)))}
    parent_ids = {o.parent_id for o in orgs.values() if o.parent_id is not None} - set(orgs)
    if parent_ids:
        orgs.update({o.id: o for o in s.scalars(select(PartyOrg).where(PartyOrg.id.in_(parent_ids)))})

    def label(oid):
        o = orgs.get(oid)
        if o is None:
            return ""
        parent = orgs.get(o.parent_id) if o.parent_id else None
        return f"{parent.name} / {o.name}" if parent else o.name

    out = []
    for mt in sorted(meetings, key=lambda m: (m.held_on, m.id), reverse=True):
        rows = att.get(mt.id, [])
        n_present = sum(1 for p, _, _ in rows if p)
        org = orgs.get(mt.org_id)
        # As quorum_met: a 支委会 with attendance counts only with more than half the committee there.
        quorum = not (mt.kind == "committee" and rows and org is not None and org.committee_size
                      and n_present * 2 <= org.committee_size)
        out.append(MeetingSummary(mt, label(mt.org_id), len(rows), n_present,
                                  [(n, r) for p, n, r in rows if not p], quorum))
    return out


# ----------------------------------------------------------------------------- 双报到

def _community(ctx: ServiceContext, area_id: int) -> Area:
    area = _area(ctx, area_id)
    ctx.actor.require_scope(area)
    if area.level != "community":
        raise ValidationError(f"在职党员向居住地社区报到：“{area.name}”是{area.level_label}，请选择社区。", "area_id", area_id)
    if not area.is_open:
        raise ValidationError(f"社区“{area.name}”已撤销。", "area_id", area_id)
    return area


def register_report(ctx: ServiceContext, *, area_id: int, name: str, workplace: str, reported_on: date | None = None,
                    phone: str | None = None, workplace_org: str | None = None, address: str | None = None,
                    member_id: int | None = None):
    """在职党员到居住地社区报到. One open report per person (name + phone) and community."""
    ctx.actor.require(MEMBER_MANAGE)
    area = _community(ctx, area_id)
    if member_id is not None:  # on the street's rolls: the name comes from the member record
        m = get_member(ctx, member_id)
        if not m.is_party_member:
            raise ValidationError(f"{m.name}是{m.stage_label}，不是党员。", "member_id", member_id)
        name = m.name
    name = _require_text(name, "姓名", "name", 64)
    workplace = _require_text(workplace, "工作单位", "workplace", 200)
    phone = _check_member_fields({"phone": phone}).get("phone") if phone else None
    reported_on = reported_on or ctx.today()
    _not_future(ctx, reported_on, "报到日期", "reported_on")
    dup = ctx.session.scalar(select(CommunityReport).where(CommunityReport.area_id == area.id,
                                                           CommunityReport.name == name,
                                                           CommunityReport.ended_on.is_(None),
                                                           (CommunityReport.phone == phone) if phone
                                                           else CommunityReport.phone.is_(None)))
    if dup is not None:
        raise ValidationError(f"{name}已于 {dup.reported_on} 向{area.name}报到，不必重复登记。", "name", name)
    r = CommunityReport(area_id=area.id, member_id=member_id, name=name, phone=phone, workplace=workplace,
                        workplace_org=(workplace_org or "").strip() or None, address=(address or "").strip() or None,
                        reported_on=reported_on, created_by=ctx.actor.user_id)
    ctx.session.add(r)
    ctx.session.flush()
    return r


def _get_report(ctx: ServiceContext, report_id: int):
    r = ctx.session.get(CommunityReport, report_id)
    if r is None:
        raise NotFound(f"报到记录 {report_id} 不存在，请刷新。")
    ctx.actor.require_scope(_area(ctx, r.area_id))
    return r


def end_report(ctx: ServiceContext, report_id: int, on: date | None = None):
    """The member moved away or stopped: the report ends, its services stay."""
    ctx.actor.require(MEMBER_MANAGE)
    r = _get_report(ctx, report_id)
    if r.ended_on is not None:
        raise ValidationError(f"{r.name}的报到已于 {r.ended_on} 结束。", "ended_on")
    on = on or ctx.today()
    _not_future(ctx, on, "结束日期", "ended_on")
    if on < r.reported_on:
        raise ValidationError(f"结束日期 {on} 早于报到日期 {r.reported_on}。", "ended_on", on)
    r.ended_on = on
    flush_or_conflict(ctx.session, r, "报到记录")
    return r


def record_community_service(ctx: ServiceContext, report_id: int, served_on: date, content: str, minutes: int):
    """A service the reported member did in the community (while reported, not in the future)."""
    ctx.actor.require(MEMBER_MANAGE)
    r = _get_report(ctx, report_id)
    _not_future(ctx, served_on, "服务日期", "served_on")
    if served_on < r.reported_on or (r.ended_on and served_on > r.ended_on):
        raise ValidationError(f"服务日期 {served_on} 不在{r.name}报到期间（{r.reported_on} 起"
                              + (f"，{r.ended_on} 止" if r.ended_on else "") + "）。", "served_on", served_on)
    content = _require_text(content, "服务内容", "content", 200)
    if not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise ValidationError(f"服务时长应为 1 分钟至 24 小时，填写的是 {minutes} 分钟。", "minutes", minutes)
    row = CommunityService(report_id=r.id, served_on=served_on, content=content, minutes=minutes,
                           recorded_by=ctx.actor.user_id)
    ctx.session.add(row)
    ctx.session.flush()
    return row


@dataclass
class ReportRow:
    report_id: int
    name: str
    phone: str | None
    workplace: str
    workplace_org: str | None
    community: str
    reported_on: date
    ended_on: date | None
    services: int          # in the year
    minutes: int           # in the year


def community_reports(ctx: ServiceContext, year: int, area_id: int | None = None,
                      include_ended: bool = False) -> list[ReportRow]:
    """Reported in-service members in scope (of one community), with their services in ``year``."""
    ctx.actor.require(VIEW)
    svc_q = (select(CommunityService.report_id, func.count().label("n"), func.sum(CommunityService.minutes).label("m"))
             .where(CommunityService.served_on >= date(year, 1, 1), CommunityService.served_on <= date(year, 12, 31))
             .group_by(CommunityService.report_id).subquery())
    q = (select(CommunityReport, Area.name, svc_q.c.n, svc_q.c.m).join(Area, Area.id == CommunityReport.area_id)
         .outerjoin(svc_q, svc_q.c.report_id == CommunityReport.id)
         .where(scope_filter(CommunityReport.area_id, ctx.actor)))
    if area_id is not None:
        q = q.where(CommunityReport.area_id == area_id)
    if not include_ended:
        q = q.where(or_(CommunityReport.ended_on.is_(None), CommunityReport.ended_on >= date(year, 1, 1)))
    q = q.order_by(Area.path, CommunityReport.reported_on, CommunityReport.id)
    return [ReportRow(r.id, r.name, r.phone, r.workplace, r.workplace_org, area, r.reported_on, r.ended_on,
                      int(n or 0), int(m or 0)) for r, area, n, m in ctx.session.execute(q)]


def community_services(ctx: ServiceContext, report_id: int) -> list:
    ctx.actor.require(VIEW)
    _get_report(ctx, report_id)
    return list(ctx.session.scalars(select(CommunityService).where(CommunityService.report_id == report_id)
                                    .order_by(CommunityService.served_on.desc(), CommunityService.id.desc())))


# ----------------------------------------------------------------------------- 党员中心户 ↔ other plugins' records

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


# ----------------------------------------------------------------------------- statistics (dashboard)

AGE_BANDS = ((0, 35, "35岁及以下"), (36, 45, "36–45岁"), (46, 55, "46–55岁"), (56, 65, "56–65岁"), (66, 200, "66岁及以上"))


@dataclass
class PartySummary:
    full: int
    probationary: int
    pipeline: dict[str, int]             # applicant / activist / candidate → count
    ages: list[tuple[str, int]]          # party members by age band
    education: list[tuple[str, int]]
    due: int
    overdue: int
    receipts_overdue: int
    lost: int
    mobile: int


def party_summary(ctx: ServiceContext, on: date | None = None) -> PartySummary:
    """Counts for the dashboard, in scope: members by stage, age and education, and the to-do lists."""
    ctx.actor.require(VIEW)
    on = on or ctx.today()
    q = (select(Member.stage, Member.birth_date, Member.education)
         .join(PartyOrg, Member.org_id == PartyOrg.id)
         .where(scope_filter(PartyOrg.area_id, ctx.actor), Member.status == "normal"))
    stages = {k: 0 for k in STAGES}
    ages = [0] * len(AGE_BANDS)
    edu: dict[str, int] = {}
    for stage, birth, education in ctx.session.execute(q):
        stages[stage] = stages.get(stage, 0) + 1
        if stage in ("probationary", "full"):
            age = age_on(birth, on)
            for i, (lo, hi, _label) in enumerate(AGE_BANDS):
                if lo <= age <= hi:
                    ages[i] += 1
                    break
            key = education or "未填"
            edu[key] = edu.get(key, 0) + 1
    due, overdue = probation_lists(ctx, on)
    return PartySummary(stages["full"], stages["probationary"],
                        {k: stages[k] for k in ("applicant", "activist", "candidate")},
                        [(label, n) for (_lo, _hi, label), n in zip(AGE_BANDS, ages, strict=True)],
                        sorted(edu.items(), key=lambda kv: -kv[1]), len(due), len(overdue),
                        len(overdue_receipts(ctx, on)), len(lost_contact_members(ctx, on)), len(mobile_members(ctx)))


def meeting_progress(ctx: ServiceContext, year: int, on: date | None = None) -> list[tuple[str, int, int]]:
    """(meeting kind, required so far, held so far) for the year: periods that have begun count, a
    period's meetings beyond the required number do not."""
    rows = compliance(ctx, year, on=on)
    out: dict[str, list[int]] = {}
    for r in rows:
        acc = out.setdefault(r.kind, [0, 0])
        acc[0] += r.required
        acc[1] += min(r.held, r.required)
    return [(MEETING_KINDS[k], req, held) for k, (req, held) in out.items()]


def members_by_org(ctx: ServiceContext, level: int = 2) -> list[tuple[str, int, int]]:
    """(organisation, party members, of whom 正式) for every open organisation of ``level`` in scope."""
    return [(n.org.name, n.members, n.full_members) for n in org_tree(ctx) if n.org.level == level]


def get_meeting(ctx: ServiceContext, meeting_id: int) -> tuple[Meeting, list[tuple[Attendance, Member]]]:
    """A meeting with its attendance (in scope)."""
    ctx.actor.require(VIEW)
    mt = ctx.session.get(Meeting, meeting_id)
    if mt is None:
        raise NotFound(f"会议记录 {meeting_id} 不存在，请刷新。")
    _org_in_scope(ctx, _get_org(ctx, mt.org_id))
    return mt, attendance_of(ctx.session, mt.id)


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
