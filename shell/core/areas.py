"""The jurisdiction tree 街道 → 社区 → 网格 (→ 微网格) with a materialized path for subtree queries."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, func, literal, select, update
from sqlalchemy.orm import Session

from shell.core.context import ServiceContext
from shell.core.locking import check_version, flush_or_conflict
from shell.core.models import AREA_LEVEL_LABELS, AREA_LEVELS, Area
from shell.errors import NotFound, OutOfScope, ValidationError


def child_level(level: str) -> str | None:
    i = AREA_LEVELS.index(level)
    return AREA_LEVELS[i + 1] if i + 1 < len(AREA_LEVELS) else None


def _get(ctx: ServiceContext, area_id: int) -> Area:
    area = ctx.session.get(Area, area_id)
    if area is None:
        raise NotFound(f"辖区 {area_id} 不存在，可能已被他人删除。请刷新。")
    return area


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("请填写名称。", "name", name)
    if len(name) > 100:
        raise ValidationError(f"名称太长（{len(name)} 字，最多 100 字）。", "name", name)
    return name


def _check_sibling_name(session: Session, parent_id: int | None, name: str, exclude_id: int | None = None) -> None:
    q = select(Area.id).where(Area.name == name, Area.closed_on.is_(None),
                              Area.parent_id.is_(None) if parent_id is None else Area.parent_id == parent_id)
    if exclude_id is not None:
        q = q.where(Area.id != exclude_id)
    if session.scalar(q) is not None:
        raise ValidationError(f"同一上级下已有名为“{name}”的辖区。", "name", name)


def create_area(ctx: ServiceContext, name: str, level: str, parent_id: int | None = None,
                code: str | None = None, sort_order: int = 0, opened_on: date | None = None) -> Area:
    ctx.actor.require("core.area.manage")
    name = _check_name(name)
    if level not in AREA_LEVELS:
        raise ValidationError(f"未知的辖区层级“{level}”。", "level", level)
    if parent_id is None:
        if level != "street":
            raise ValidationError(f"{AREA_LEVEL_LABELS[level]}必须挂在上级辖区下面。", "parent_id")
        if not ctx.actor.is_superuser:
            raise OutOfScope("新建街道（顶级辖区）")
        parent = None
    else:
        parent = _get(ctx, parent_id)
        ctx.actor.require_scope(parent)
        if not parent.is_open:
            raise ValidationError(f"“{parent.name}”已撤销，不能在其下新建辖区。", "parent_id")
        expected = child_level(parent.level)
        if expected != level:
            raise ValidationError(
                f"“{parent.name}”是{parent.level_label}，其下只能建"
                f"{AREA_LEVEL_LABELS[expected] if expected else '（不能再建下级）'}，不能建{AREA_LEVEL_LABELS[level]}。",
                "level", level,
            )
    _check_sibling_name(ctx.session, parent_id, name)
    area = Area(name=name, level=level, parent_id=parent_id, code=(code or None), sort_order=sort_order,
                opened_on=opened_on or ctx.today(), created_by=ctx.actor.user_id, path="")
    ctx.session.add(area)
    ctx.session.flush()  # assigns the id the path is made of
    area.path = (parent.path if parent else "/") + f"{area.id}/"
    ctx.session.flush()
    return area


def rename_area(ctx: ServiceContext, area_id: int, name: str, code: str | None = None,
                expected_version: int | None = None) -> Area:
    ctx.actor.require("core.area.manage")
    area = _get(ctx, area_id)
    ctx.actor.require_scope(area)
    check_version(ctx.session, area, expected_version, "辖区")
    name = _check_name(name)
    _check_sibling_name(ctx.session, area.parent_id, name, exclude_id=area.id)
    area.name = name
    if code is not None:
        area.code = code.strip() or None
    flush_or_conflict(ctx.session, area, "辖区")
    return area


def move_area(ctx: ServiceContext, area_id: int, new_parent_id: int, expected_version: int | None = None) -> int:
    """Move ``area`` and its subtree under ``new_parent``. Returns how many areas moved (incl. itself)."""
    ctx.actor.require("core.area.manage")
    area = _get(ctx, area_id)
    new_parent = _get(ctx, new_parent_id)
    ctx.actor.require_scope(area)
    ctx.actor.require_scope(new_parent)
    check_version(ctx.session, area, expected_version, "辖区")
    if area.parent_id is None:
        raise ValidationError(f"“{area.name}”是顶级街道，不能移动。", "parent_id")
    if new_parent.path.startswith(area.path):
        raise ValidationError(f"不能把“{area.name}”移到它自己或它的下级“{new_parent.name}”下面。", "parent_id")
    if child_level(new_parent.level) != area.level:
        raise ValidationError(
            f"{area.level_label}“{area.name}”只能放在{AREA_LEVEL_LABELS[AREA_LEVELS[area.depth - 1]]}下，"
            f"“{new_parent.name}”是{new_parent.level_label}。", "parent_id")
    if not new_parent.is_open:
        raise ValidationError(f"“{new_parent.name}”已撤销，不能移入。", "parent_id")
    if new_parent.id == area.parent_id:
        return 0
    _check_sibling_name(ctx.session, new_parent.id, area.name, exclude_id=area.id)
    old_path = area.path
    new_path = new_parent.path + f"{area.id}/"
    count = ctx.session.scalar(select(func.count()).select_from(Area).where(Area.path.startswith(old_path))) or 0
    area.parent_id = new_parent.id
    area.path = new_path  # the moved node itself goes through the ORM, so it is audited
    ctx.session.flush()
    # Descendants' paths are derived data: one statement rewrites the prefix.
    ctx.session.execute(
        update(Area)
        .where(Area.path.startswith(old_path), Area.id != area.id)
        .values(path=literal(new_path, String).concat(func.substr(Area.path, len(old_path) + 1)),
                version_id=Area.version_id + 1)
        .execution_options(synchronize_session=False)
    )
    ctx.session.expire_all()
    return count


def close_area(ctx: ServiceContext, area_id: int, closed_on: date | None = None, reason: str = "",
               expected_version: int | None = None) -> Area:
    """Close (撤销) an area: it stays in the database with its history; its children must be closed first."""
    ctx.actor.require("core.area.manage")
    area = _get(ctx, area_id)
    ctx.actor.require_scope(area)
    check_version(ctx.session, area, expected_version, "辖区")
    if not area.is_open:
        raise ValidationError(f"“{area.name}”已于 {area.closed_on} 撤销。", "closed_on")
    open_children = ctx.session.scalar(
        select(func.count()).select_from(Area).where(Area.parent_id == area.id, Area.closed_on.is_(None))
    )
    if open_children:
        raise ValidationError(f"“{area.name}”下还有 {open_children} 个未撤销的下级辖区，请先撤销或移走它们。", "closed_on")
    area.closed_on = closed_on or ctx.today()
    area.closed_reason = reason.strip() or None
    ctx.session.flush()
    return area


def reopen_area(ctx: ServiceContext, area_id: int) -> Area:
    ctx.actor.require("core.area.manage")
    area = _get(ctx, area_id)
    ctx.actor.require_scope(area)
    if area.parent_id is not None and not _get(ctx, area.parent_id).is_open:
        raise ValidationError("上级辖区已撤销，不能恢复。", "closed_on")
    area.closed_on, area.closed_reason = None, None
    ctx.session.flush()
    return area


def get_area(ctx: ServiceContext, area_id: int) -> Area:
    ctx.actor.require("core.area.view")
    area = _get(ctx, area_id)
    ctx.actor.require_scope(area)
    return area


def visible_areas(ctx: ServiceContext, include_closed: bool = False, level: str | None = None) -> list[Area]:
    """Areas in the actor's scope, in tree order (by path, then sort order)."""
    ctx.actor.require("core.area.view")
    q = select(Area)
    if not ctx.actor.is_superuser:
        if not ctx.actor.scope_paths:
            return []
        from sqlalchemy import or_

        q = q.where(or_(*[Area.path.startswith(p) for p in ctx.actor.scope_paths]))
    if not include_closed:
        q = q.where(Area.closed_on.is_(None))
    if level:
        q = q.where(Area.level == level)
    return tree_sorted(ctx.session.scalars(q))


def subtree_ids(session: Session, area: Area, include_closed: bool = True) -> list[int]:
    q = select(Area.id).where(Area.path.startswith(area.path))
    if not include_closed:
        q = q.where(Area.closed_on.is_(None))
    return list(session.scalars(q))


def subtree_filter(column, area: Area):
    """A WHERE clause for a plugin's ``area_id`` column: records anywhere in ``area``'s subtree."""
    return column.in_(select(Area.id).where(Area.path.startswith(area.path)).scalar_subquery())


def scope_filter(column, actor):
    """A WHERE clause restricting a plugin's ``area_id`` column to the actor's scope."""
    from sqlalchemy import false, or_, true

    if actor.is_superuser:
        return true()
    if not actor.scope_paths:
        return false()
    return column.in_(select(Area.id).where(or_(*[Area.path.startswith(p) for p in actor.scope_paths]))
                      .scalar_subquery())


def list_areas(session: Session, level: str | None = None, include_closed: bool = False) -> list[Area]:
    """Unchecked listing for seeders and maintenance code (no actor)."""
    q = select(Area)
    if level:
        q = q.where(Area.level == level)
    if not include_closed:
        q = q.where(Area.closed_on.is_(None))
    return tree_sorted(session.scalars(q))


def tree_sorted(areas: Iterable[Area]) -> list[Area]:
    """Parents before children, siblings by (sort_order, id) — the order people see in the tree.
    (Sorting by the path text would put "/1/12/" before "/1/2/".)"""
    areas = list(areas)
    order = {a.id: (a.sort_order or 0, a.id) for a in areas}

    def key(a: Area):
        return tuple(order.get(int(i), (0, int(i))) for i in a.path.strip("/").split("/") if i)

    return sorted(areas, key=key)


def ancestors(session: Session, area: Area) -> list[Area]:
    ids = [int(x) for x in area.path.strip("/").split("/") if x][:-1]
    if not ids:
        return []
    found = {a.id: a for a in session.scalars(select(Area).where(Area.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def full_name(session: Session, area: Area, sep: str = " / ") -> str:
    return sep.join([a.name for a in ancestors(session, area)] + [area.name])


def sort_key_children(areas: Iterable[Area]) -> list[Area]:
    return sorted(areas, key=lambda a: (a.sort_order, a.name))


def search_areas(ctx: ServiceContext, text: str, limit: int = 20):
    """Open areas in scope whose name (or its pinyin initials, or code) matches ``text``."""
    from shell.contracts import SearchResult
    from shell.text import matches_name

    if not ctx.actor.can("core.area.view"):
        return []
    text = text.strip()
    found = []
    for area in visible_areas(ctx):
        if matches_name(area.name, text) or (area.code and text.isdigit() and area.code.startswith(text)):
            found.append(SearchResult(kind="core.area", id=area.id, title=area.name,
                                      subtitle=f"{area.level_label} · {full_name(ctx.session, area)}", plugin="core"))
            if len(found) >= limit:
                break
    return found


def scope_name(session: Session, area: Area) -> str:
    """An area as people say it: the street alone, else the names below the street, e.g.
    "和平里社区 第一网格" (not a bare "第一网格", of which every community has one)."""
    if area.level == "street":
        return area.name
    names = [a.name for a in ancestors(session, area) if a.level != "street"]
    return " ".join(names + [area.name])


@dataclass(frozen=True)
class ScopeSummary:
    label: str                                 # "全部辖区", "青石街道", "和平里社区 第一网格"
    counts: tuple[tuple[int, str], ...]        # ((12, "个社区"), (48, "个网格")): levels below the scope only


def scope_summary(ctx: ServiceContext) -> ScopeSummary:
    """What the 首页 says about the actor's area scope: its name, and how many open areas of each
    level lie below it (a grid worker's scope has no communities below it: nothing to count)."""
    visible = [a for a in visible_areas(ctx) if a.is_open]
    if ctx.actor.is_superuser:
        tops = [a for a in visible if a.parent_id is None]
        label = "全部辖区"
    else:
        ids = {int(p.strip("/").split("/")[-1]) for p in ctx.actor.scope_paths if p.strip("/")}
        tops = [a for a in visible if a.id in ids]
        label = "、".join(scope_name(ctx.session, a) for a in tree_sorted(tops)) or "未设置"
    if not tops:
        return ScopeSummary(label, ())
    highest = min(AREA_LEVELS.index(a.level) for a in tops)
    counts = []
    for level in AREA_LEVELS[highest + 1:]:
        n = sum(1 for a in visible if a.level == level)
        if n or level in ("community", "grid"):
            counts.append((n, f"个{AREA_LEVEL_LABELS[level]}"))
    return ScopeSummary(label, tuple(counts))
