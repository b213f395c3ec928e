"""Volunteer teams and their members."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.models import Area
from shell.core.scope import get_in_scope
from shell.errors import ValidationError

from ..models import (
    Team,
    TeamMembership,
    Volunteer,
)
from ..rules import P_MANAGE, P_VIEW
from .common import _area, _text, check_phone
from .volunteers import get_volunteer

# ============================================================================ teams

def create_team(ctx: ServiceContext, *, name: str, area_id: int, leader_name: str = "", phone: str = "",
                description: str = "") -> Team:
    ctx.actor.require(P_MANAGE)
    area = _area(ctx, area_id)
    name = _text(name, "队伍名称", "name")
    if ctx.session.scalar(select(Team.id).where(Team.area_id == area.id, Team.name == name)) is not None:
        raise ValidationError(f"“{area.name}”已有名为“{name}”的志愿队伍。", "name", name)
    team = Team(area_id=area.id, name=name, leader_name=_text(leader_name, "队长", "leader_name", False, 64),
                phone=check_phone(phone), description=description or "", created_by=ctx.actor.user_id)
    ctx.session.add(team)
    ctx.session.flush()
    return team


def _team(ctx: ServiceContext, team_id: int) -> Team:
    team = get_in_scope(ctx, Team, team_id, "志愿队伍")
    return team


def add_member(ctx: ServiceContext, team_id: int, volunteer_id: int, role: str = "队员",
               joined_on: date | None = None) -> TeamMembership:
    ctx.actor.require(P_MANAGE)
    team = _team(ctx, team_id)
    v = get_volunteer(ctx, volunteer_id)
    if not v.active:
        raise ValidationError(f"志愿者“{v.name}”已停用，不能加入队伍。", "volunteer_id", volunteer_id)
    if role not in ("队长", "副队长", "队员"):
        raise ValidationError(f"队内角色“{role}”无效（队长、副队长、队员）。", "role", role)
    open_ = ctx.session.scalar(select(TeamMembership).where(TeamMembership.team_id == team.id,
                                                             TeamMembership.volunteer_id == v.id,
                                                             TeamMembership.left_on.is_(None)))
    if open_ is not None:
        raise ValidationError(f"“{v.name}”已是“{team.name}”的成员。", "volunteer_id", volunteer_id)
    m = TeamMembership(team_id=team.id, volunteer_id=v.id, role=role, joined_on=joined_on or ctx.today(),
                       created_by=ctx.actor.user_id)
    ctx.session.add(m)
    ctx.session.flush()
    return m


def remove_member(ctx: ServiceContext, team_id: int, volunteer_id: int, left_on: date | None = None) -> TeamMembership:
    ctx.actor.require(P_MANAGE)
    team = _team(ctx, team_id)
    m = ctx.session.scalar(select(TeamMembership).where(TeamMembership.team_id == team.id,
                                                         TeamMembership.volunteer_id == volunteer_id,
                                                         TeamMembership.left_on.is_(None)))
    if m is None:
        raise ValidationError("该志愿者不是这支队伍的在队成员。", "volunteer_id", volunteer_id)
    left = left_on or ctx.today()
    if left < m.joined_on:
        raise ValidationError(f"离队日期不能早于入队日期 {m.joined_on}。", "left_on", left)
    m.left_on = left
    ctx.session.flush()
    return m


def team_members(ctx: ServiceContext, team_id: int) -> list[tuple[Volunteer, TeamMembership]]:
    ctx.actor.require(P_VIEW)
    _team(ctx, team_id)
    return list(ctx.session.execute(
        select(Volunteer, TeamMembership).join(TeamMembership, TeamMembership.volunteer_id == Volunteer.id)
        .where(TeamMembership.team_id == team_id, TeamMembership.left_on.is_(None)).order_by(Volunteer.name)))


TEAM_FIELDS = ("name", "leader_name", "phone", "description", "active")


def update_team(ctx: ServiceContext, team_id: int, expected_version: int | None = None, **changes: Any) -> Team:
    from shell.core.locking import check_version, flush_or_conflict

    ctx.actor.require(P_MANAGE)
    team = _team(ctx, team_id)
    check_version(ctx.session, team, expected_version, "志愿队伍")
    unknown = set(changes) - set(TEAM_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改这些字段：{'、'.join(sorted(unknown))}。", None)
    if "name" in changes:
        name = _text(changes["name"], "队伍名称", "name")
        if ctx.session.scalar(select(Team.id).where(Team.area_id == team.area_id, Team.name == name,
                                                    Team.id != team.id)) is not None:
            raise ValidationError(f"本社区已有名为“{name}”的志愿队伍。", "name", name)
        team.name = name
    if "leader_name" in changes:
        team.leader_name = _text(changes["leader_name"], "队长", "leader_name", False, 64)
    if "phone" in changes:
        team.phone = check_phone(changes["phone"])
    if "description" in changes:
        team.description = (changes["description"] or "").strip()
    if "active" in changes:
        team.active = bool(changes["active"])
    flush_or_conflict(ctx.session, team, "志愿队伍")
    return team


@dataclass
class TeamRow:
    team_id: int
    name: str
    area_id: int
    area_name: str
    leader_name: str
    phone: str
    description: str
    active: bool
    members: int
    version_id: int


def team_rows(ctx: ServiceContext) -> list[TeamRow]:
    """Teams in scope with their community and the number of current members."""
    ctx.actor.require(P_VIEW)
    members = (select(func.count()).select_from(TeamMembership)
               .where(TeamMembership.team_id == Team.id, TeamMembership.left_on.is_(None))
               .correlate(Team).scalar_subquery())
    q = (select(Team, Area.name, members).join(Area, Area.id == Team.area_id)
         .where(scope_filter(Team.area_id, ctx.actor)).order_by(Area.sort_order, Area.id, Team.name))
    return [TeamRow(t.id, t.name, t.area_id, area, t.leader_name, t.phone, t.description, t.active, int(n),
                    t.version_id) for t, area, n in ctx.session.execute(q)]


def community_choices(ctx: ServiceContext) -> list[tuple[int, str]]:
    """(id, name) of the open communities in the actor's scope, for choosing where a team or an
    activity belongs."""
    ctx.actor.require(P_VIEW)
    q = (select(Area.id, Area.name).where(scope_filter(Area.id, ctx.actor), Area.closed_on.is_(None),
                                          Area.level == "community")
         .order_by(Area.sort_order, Area.id))
    return [(i, n) for i, n in ctx.session.execute(q)]


def list_teams(ctx: ServiceContext) -> list[Team]:
    ctx.actor.require(P_VIEW)
    return list(ctx.session.scalars(select(Team).where(scope_filter(Team.area_id, ctx.actor)).order_by(Team.id)))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
