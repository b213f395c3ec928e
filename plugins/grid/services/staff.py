"""Grid staff (网格长, 网格员) and the households-per-worker ratio."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from shell.core import personal as _personal
from shell.core import settings
from shell.core.areas import scope_filter, subtree_filter
from shell.core.context import ServiceContext
from shell.core.locking import flush_or_conflict
from shell.core.models import Area
from shell.errors import ValidationError

from ..labels import STAFF_ROLES
from ..models import GridStaff, Household, Person
from ..rules import HOUSEHOLDS_PER_WORKER
from .common import P_STAFF, P_VIEW, _area_of, _get, _phone, _required


# =============================================================================================
# Grid staff and ratio
# =============================================================================================
def assign_staff(ctx: ServiceContext, grid_id: int, role: str, name: str, phone: str | None = None,
                 user_id: int | None = None, person_id: int | None = None, start: date | None = None) -> GridStaff:
    ctx.actor.require(P_STAFF)
    grid = _area_of(ctx, grid_id, "grid_id")
    if grid.level not in ("grid", "microgrid"):
        raise ValidationError(f"“{grid.name}”是{grid.level_label}，网格长和网格员只能配到网格。", "grid_id", grid_id)
    if role not in STAFF_ROLES:
        raise ValidationError(f"岗位“{role}”无效，应为网格长或网格员。", "role", role)
    name = _required(name, "name", "姓名")
    if role == "head":
        head = ctx.session.scalar(select(GridStaff).where(GridStaff.area_id == grid.id, GridStaff.role == "head",
                                                          GridStaff.end_date.is_(None)))
        if head is not None:
            raise ValidationError(f"“{grid.name}”已有网格长：{head.name}。请先办理卸任。", "role", role)
    if person_id is not None:
        _get(ctx, Person, person_id, "人员")
    if user_id is not None and user_id not in {u for u, _n, _p in staff_candidates(ctx)}:
        raise ValidationError(f"系统用户“{user_id}”不存在、已停用或不在您的管辖范围内。", "user_id", user_id)
    s = GridStaff(area_id=grid.id, role=role, name=name, phone=_phone(phone), user_id=user_id, person_id=person_id,
                  start_date=start or ctx.today(), created_by=ctx.actor.user_id)
    ctx.session.add(s)
    ctx.session.flush()
    return s


def end_staff(ctx: ServiceContext, staff_id: int, on: date | None = None) -> GridStaff:
    ctx.actor.require(P_STAFF)
    s = _get(ctx, GridStaff, staff_id, "网格人员")
    on = on or ctx.today()
    if s.end_date is not None:
        raise ValidationError(f"{s.name}已于 {s.end_date} 卸任。", "end_date", on)
    if on < s.start_date:
        raise ValidationError(f"卸任日期 {on} 早于任职日期 {s.start_date}。", "end_date", on)
    s.end_date = on
    flush_or_conflict(ctx.session, s, "网格人员")
    return s


def staff_candidates(ctx: ServiceContext) -> list[tuple[int, str, str | None]]:
    """(user id, display name, phone) of the active system users in the actor's scope, to link a
    网格长/网格员 to the account they log in with."""
    from shell.core.models import User

    ctx.actor.require(P_STAFF)
    q = (select(User.id, User.display_name, User.phone).join(Area, Area.id == User.area_id)
         .where(User.is_active.is_(True), scope_filter(Area.id, ctx.actor)).order_by(User.display_name, User.id))
    return [(i, n, p) for i, n, p in ctx.session.execute(q)]


def list_staff(ctx: ServiceContext, grid_id: int, include_ended: bool = False) -> list[GridStaff]:
    """A grid's 网格长 and 网格员 (head first), those still serving unless ``include_ended``."""
    ctx.actor.require(P_VIEW)
    grid = _get(ctx, Area, grid_id, "网格")
    ctx.actor.require_scope(grid)
    q = select(GridStaff).where(GridStaff.area_id == grid.id)
    if not include_ended:
        q = q.where(GridStaff.end_date.is_(None))
    return list(ctx.session.scalars(q.order_by(GridStaff.end_date.is_not(None), GridStaff.role != "head",
                                               GridStaff.start_date, GridStaff.id)))


@dataclass(frozen=True)
class GridRatio:
    grid_id: int
    grid_name: str
    households: int
    workers: int
    heads: int
    norm: int

    @property
    def per_worker(self) -> float | None:
        return None if not self.workers else self.households / self.workers

    @property
    def breaks_ratio(self) -> bool:
        return self.households > self.workers * self.norm

    @property
    def workers_needed(self) -> int:
        return -(-self.households // self.norm)


def grid_ratios(ctx: ServiceContext, area_id: int | None = None) -> list[GridRatio]:
    """Households per 网格员 for each grid in scope, against the norm grid.households_per_worker."""
    ctx.actor.require(P_VIEW)
    norm = int(settings.get(ctx.session, HOUSEHOLDS_PER_WORKER))
    gq = select(Area).where(Area.level == "grid", Area.closed_on.is_(None), scope_filter(Area.id, ctx.actor))
    if area_id is not None:
        gq = gq.where(subtree_filter(Area.id, _get(ctx, Area, area_id, "辖区")))
    from shell.core.areas import tree_sorted

    grids = tree_sorted(ctx.session.scalars(gq))
    hh = dict(ctx.session.execute(select(Household.area_id, func.count()).group_by(Household.area_id)).all())
    staff = ctx.session.execute(select(GridStaff.area_id, GridStaff.role, func.count())
                                .where(GridStaff.end_date.is_(None)).group_by(GridStaff.area_id, GridStaff.role))
    counts: dict[tuple[int, str], int] = {(a, r): n for a, r, n in staff}
    # the grids' parents in one query (area_label per grid was a query each: 400 on a large street)
    parent_ids = {g.parent_id for g in grids if g.parent_id}
    parents: dict[int | None, Area] = {a.id: a for a in ctx.session.scalars(select(Area).where(Area.id.in_(parent_ids)))}

    def label(g: Area) -> str:
        p = parents.get(g.parent_id)
        return f"{p.name}{g.name}" if p is not None and p.level != "street" else g.name
    return [GridRatio(g.id, label(g), hh.get(g.id, 0), counts.get((g.id, "worker"), 0),
                      counts.get((g.id, "head"), 0), norm) for g in grids]


def grids_breaking_ratio(ctx: ServiceContext, area_id: int | None = None) -> list[GridRatio]:
    return [r for r in grid_ratios(ctx, area_id) if r.breaks_ratio]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
