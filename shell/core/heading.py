"""The header of every printed ledger and document: the issuing unit and the scope the rows cover
(``heading(ctx, area)``, ``unit_name(ctx, area)``). Its own module so that report builders — the
core's audit ledger as well as the plugins' — use it without importing the report collection
(``shell.core.reporting``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from shell.core.context import ServiceContext
from shell.errors import NotFound

# --------------------------------------------------------------------------- header: unit and scope

@dataclass(frozen=True)
class Heading:
    """What a ledger's header says about who issues it and what it covers.

    ``unit``: the 填报单位 / issuer — the street office (core.unit_name, 青石街道办事处) for a
    street-wide ledger, "青石街道 和平里社区" for a community or anything below it; with
    ``party=True`` the Party organisation instead (中共青石街道工作委员会 / 中共和平里社区委员会),
    never the government office and never a 党小组. ``scope``: the area the rows cover, printed
    under the title as 范围：… ("青石街道", "和平里社区", "和平里社区 第一网格", or for a user with
    two grids "和平里社区 第一网格、第二网格"). ``area``: the area the scope names (None for a user
    with no scope at all)."""

    unit: str
    scope: str
    area: Any = None

    @property
    def fields(self) -> dict[str, str]:
        """``LedgerSpec(title=…, **heading(ctx, area).fields, …)``."""
        return {"unit_name": self.unit, "scope": self.scope}


def _street_of(session, chain: list) -> Any:
    from shell.core.models import Area

    for a in chain:
        if a.level == "street":
            return a
    return session.scalars(select(Area).where(Area.level == "street", Area.closed_on.is_(None))
                           .order_by(Area.sort_order, Area.id).limit(1)).first()


def _chain(session, area) -> list:
    from shell.core.areas import ancestors

    return ancestors(session, area) + [area]


def heading(ctx: ServiceContext, area: Any = None, party: bool = False, party_org: str | None = None) -> Heading:
    """The unit and printed scope of a ledger built for ``ctx.actor``.

    ``area``: the area the ledger was asked for (an ``Area`` or its id; the report's 辖区 parameter);
    None means the actor's own scope — the whole street for a street user, the community for a
    community worker, the grids of a grid worker. ``party=True``: headed by the Party organisation
    of that area; a plugin that keeps the organisations (partybuilding) passes their real name as
    ``party_org`` (e.g. a 社区党总支), otherwise the standard name is used (中共<街道>工作委员会 for the
    street, 中共<社区>委员会 for a community and below)."""
    from shell.core import settings
    from shell.core.models import Area

    session = ctx.session
    actor = ctx.actor
    if isinstance(area, int):
        found = session.get(Area, area)
        if found is None:
            raise NotFound(f"辖区 {area} 不存在。")
        area = found
    extra: list[str] = []  # the actor's several areas under one common one
    if area is None and not actor.is_superuser and actor.scope_paths:
        paths = sorted(set(actor.scope_paths))
        mine = list(session.scalars(select(Area).where(Area.path.in_(paths))))
        if len(mine) == 1:
            area = mine[0]
        elif mine:
            parts = [p.strip("/").split("/") for p in paths]
            common = []
            for seg in zip(*parts, strict=False):  # the common leading segments
                if len(set(seg)) != 1:
                    break
                common.append(seg[0])
            area = session.get(Area, int(common[-1])) if common else None
            if area is not None and area.path not in paths:
                from shell.core.areas import tree_sorted

                extra = [a.name for a in tree_sorted(mine)]
    chain = _chain(session, area) if area is not None else []
    street = _street_of(session, chain)
    street_name = street.name if street is not None else ""
    community = next((a for a in chain if a.level == "community"), None)
    if area is None and not actor.is_superuser and not actor.scope_paths:
        scope = ""  # a user with no area sees no rows; say nothing rather than the street
    else:
        below = [a.name for a in chain if a.level not in ("street",)]
        if extra:
            below.append("、".join(extra))
        scope = " ".join(below) or street_name
    if party:
        if party_org:
            unit = party_org
        elif community is not None:
            unit = f"中共{community.name}委员会"
        else:
            unit = f"中共{street_name}工作委员会" if street_name else "街道党工委"
    elif community is not None:
        unit = f"{street_name} {community.name}".strip()
    else:
        unit = (settings.core(session, "core.unit_name") or (f"{street_name}办事处" if street_name else "街道办事处"))
    return Heading(unit=unit, scope=scope, area=area if area is not None else street)


def unit_name(ctx: ServiceContext, area: Any = None, party: bool = False, party_org: str | None = None) -> str:
    """Just the unit of :func:`heading` (documents, whose issuer is a unit and carries no scope)."""
    return heading(ctx, area, party, party_org).unit


