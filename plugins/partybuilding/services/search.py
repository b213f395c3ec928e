"""The global search hook's service: members and organisations."""
from __future__ import annotations

from sqlalchemy import select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext

from ..labels import ORG_KINDS
from ..models import PartyOrg
from ..rules import VIEW
from .members import list_members


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


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
