"""The tool bar's global search over persons, houses and events."""
from __future__ import annotations

import re

from sqlalchemy import select

from shell.core import personal as _personal
from shell.core.areas import scope_filter
from shell.core.context import ServiceContext
from shell.db.sql import StartsWith

from ..models import Event, House
from .common import P_VIEW, _code, _text, area_label
from .events import STATUS_LABELS
from .houses import search_houses
from .persons import list_persons


# --- global search -----------------------------------------------------------------------------
def global_search(ctx: ServiceContext, text: str, limit: int = 10) -> list[tuple[str, int, str, str]]:
    """(kind, id, title, subtitle) for the tool bar's search: persons by name, pinyin initials or ID
    number (masked), houses by address, events by number."""
    ctx.actor.require(P_VIEW)
    t = _text(text)
    if not t:
        return []
    out: list[tuple[str, int, str, str]] = []
    labels: dict[int, str] = {}
    for p in list_persons(ctx, t, limit=limit):  # list rows are masked already
        if p.area_id not in labels:
            labels[p.area_id] = area_label(ctx.session, p.area_id)
        out.append(("grid.person", p.id, p.name, f"实有人口 · {p.id_number} · {labels[p.area_id]}"))
    # Searching every address is a scan of the houses: only for text that can be part of an address
    # (a name, pinyin initials, an ID number or a phone never is); a 房屋编号 is looked up by its index.
    houses = search_houses(ctx, t, limit=limit) if looks_like_address(t) else \
        list(ctx.session.scalars(select(House).where(scope_filter(House.area_id, ctx.actor),
                                                     House.code == _code(t).upper()).limit(limit)))
    for h in houses:
        out.append(("grid.house", h.id, h.address, f"房屋 · {h.code} · {h.house_use}"))
    # 事件编号 SJ20250603-0001: by its prefix (the unique index), with or without the letters
    up = _code(t).upper()
    prefix = up if up.startswith("SJ") else f"SJ{up}" if re.fullmatch(r"20\d{0,6}(-\d{0,4})?", up) else None
    if prefix and len(prefix) >= 4:
        q = select(Event).where(scope_filter(Event.area_id, ctx.actor),
                                StartsWith(Event.number, prefix)).order_by(Event.number.desc()).limit(limit)
        for e in ctx.session.scalars(q):
            out.append(("grid.event", e.id, f"{e.number} {e.title}", f"事件 · {STATUS_LABELS[e.status]}"))
    return out


ADDRESS_CHARS = frozenset("路街道巷弄里号幢栋楼单元室层村组苑园区院坊庄湾")


def looks_like_address(text: str) -> bool:
    """Text that may be part of an address: a digit next to Chinese, or a typical address word."""
    has_cjk = any(not c.isascii() for c in text)
    return has_cjk and (any(c in ADDRESS_CHARS for c in text) or any(c.isdigit() for c in text))


# Every public service is a boundary for personal data (shell/core/personal.py): what it returns
# leaves with ID numbers masked, whoever calls; the full number only through an audited reveal.
_personal.guard_services(globals())
