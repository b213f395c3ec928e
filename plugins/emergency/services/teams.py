"""Emergency teams and members."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.core.locking import flush_or_conflict
from shell.core.models import Area
from shell.core.scope import get_in_scope
from shell.errors import ValidationError

from ..models import (
    TEAM_KINDS,
    Team,
    TeamMember,
)
from .common import _area, _choice, _phone, _text
from .settings import setting

# ----------------------------------------------------------------------------- teams

def _team(ctx: ServiceContext, team_id: int) -> Team:
    team = get_in_scope(ctx, Team, team_id, "队伍")
    return team


def create_team(ctx: ServiceContext, area_id: int, name: str, kind: str, leader: str | None = None,
                leader_phone: str | None = None) -> Team:
    ctx.actor.require("emergency.team.manage")
    _area(ctx, area_id)
    team = Team(area_id=area_id, name=_text(name, "name", "队伍名称"), kind=_choice(kind, TEAM_KINDS, "kind", "队伍类型"),
                leader=_text(leader, "leader", "队长", False, 50), leader_phone=_phone(leader_phone, "leader_phone", "队长电话"),
                created_by=ctx.actor.user_id)
    ctx.session.add(team)
    ctx.session.flush()
    return team


def add_member(ctx: ServiceContext, team_id: int, name: str, phone: str | None = None, skills: str | None = None,
               certificates: str | None = None) -> TeamMember:
    ctx.actor.require("emergency.team.manage")
    team = _team(ctx, team_id)
    name = _text(name, "name", "队员姓名", max_len=50)
    phone = _phone(phone, "phone", "联系电话")
    if phone and ctx.session.scalar(select(TeamMember.id).where(TeamMember.team_id == team.id, TeamMember.phone == phone,
                                                                TeamMember.active.is_(True))):
        raise ValidationError(f"“{team.name}”已有电话为 {phone} 的队员。", "phone", phone)
    m = TeamMember(team_id=team.id, name=name, phone=phone, skills=_text(skills, "skills", "技能特长", False, 200),
                   certificates=_text(certificates, "certificates", "资格证书", False, 200), created_by=ctx.actor.user_id)
    ctx.session.add(m)
    ctx.session.flush()
    return m


def remove_member(ctx: ServiceContext, member_id: int) -> TeamMember:
    """Members leave (active = False); the roster history stays."""
    ctx.actor.require("emergency.team.manage")
    m = get_in_scope(ctx, TeamMember, member_id, "队员")
    _team(ctx, m.team_id)
    m.active = False
    flush_or_conflict(ctx.session, m, "队员")
    return m


def team_members(ctx: ServiceContext, team_id: int) -> list[TeamMember]:
    ctx.actor.require("emergency.view")
    _team(ctx, team_id)
    return list(ctx.session.scalars(select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.active.is_(True))
                                    .order_by(TeamMember.id)))


def list_teams(ctx: ServiceContext) -> list[Team]:
    ctx.actor.require("emergency.view")
    return list(ctx.session.scalars(select(Team).where(Team.active.is_(True), scope_filter(Team.area_id, ctx.actor))
                                    .order_by(Team.area_id, Team.id)))


@dataclass(frozen=True)
class TeamRow:
    id: int
    area: str
    name: str
    kind: str
    leader: str | None
    leader_phone: str | None
    members: int


def team_rows(ctx: ServiceContext) -> list[TeamRow]:
    """Active teams in scope with their unit and number of active members. Read-only."""
    teams = list_teams(ctx)
    if not teams:
        return []
    ids = [t.id for t in teams]
    counts = dict(ctx.session.execute(select(TeamMember.team_id, func.count()).where(
        TeamMember.team_id.in_(ids), TeamMember.active.is_(True)).group_by(TeamMember.team_id)).all())
    areas = dict(ctx.session.execute(select(Area.id, Area.name).where(Area.id.in_({t.area_id for t in teams}))).all())
    return [TeamRow(t.id, areas.get(t.area_id, ""), t.name, t.kind, t.leader, t.leader_phone, counts.get(t.id, 0))
            for t in teams]


@dataclass(frozen=True)
class TeamSizeCheck:
    street_id: int
    street: str
    members: int
    norm: int

    @property
    def ok(self) -> bool:
        return self.members >= self.norm

    @property
    def shortfall(self) -> int:
        return max(0, self.norm - self.members)


def team_size_check(ctx: ServiceContext) -> list[TeamSizeCheck]:
    """Each street in scope: active members of its comprehensive rescue team(s) against the norm."""
    ctx.actor.require("emergency.view")
    norm = int(setting(ctx, "emergency.team_size_norm"))
    streets = ctx.session.scalars(select(Area).where(Area.level == "street", Area.closed_on.is_(None),
                                                     scope_filter(Area.id, ctx.actor)).order_by(Area.id)).all()
    counts = dict(ctx.session.execute(
        select(Team.area_id, func.count(TeamMember.id)).join(TeamMember, TeamMember.team_id == Team.id)
        .where(Team.kind == "comprehensive", Team.active.is_(True), TeamMember.active.is_(True))
        .group_by(Team.area_id)).all())
    return [TeamSizeCheck(s.id, s.name, counts.get(s.id, 0), norm) for s in streets]


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
