"""The organisation tree: 党工委 → 党委/党总支 → 党支部 → 党小组 → 党员中心户, its changes, member counts and
the §3 findings (too few full members, committee terms)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, func, literal, select, update
from sqlalchemy.orm import Session

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import AREA_LEVEL_LABELS, Area
from shell.core.scope import get_in_scope
from shell.errors import NotFound, ValidationError

from ..labels import LEVEL_LABELS, ORG_KINDS
from ..models import Member, Membership, OrgEvent, PartyOrg
from ..rules import ORG_MANAGE, VIEW
from .common import _not_future, _require_text, add_months, setting

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
    return get_in_scope(ctx, PartyOrg, org_id, "党组织")


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


def org_label_of(ctx: ServiceContext, org_id: int) -> str:
    """``org_label`` of one organisation in scope (“上级 / 名称”)."""
    return org_label(ctx.session, get_org(ctx, org_id))


def org_area(ctx: ServiceContext, org_id: int) -> Area:
    """The area an organisation in scope hangs on (a new child's area must lie inside it)."""
    return _org_in_scope(ctx, get_org(ctx, org_id))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
