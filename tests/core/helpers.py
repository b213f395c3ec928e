"""Small builders shared by the core tests."""
from __future__ import annotations

from shell.core import areas, auth
from shell.core.context import Actor, ServiceContext


def admin(db) -> Actor:
    with db.session_factory() as s:
        auth.create_first_admin(s, "admin", "管理员", "admin1234")
        s.commit()
    return auth.login(db.session_factory, "admin", "admin1234")


def build_tree(db, actor: Actor) -> dict[str, int]:
    """街道 → 2 社区 → 2 网格 each; returns name → id."""
    ids = {}
    with db.session_factory() as s:
        ctx = ServiceContext(s, actor)
        st = areas.create_area(ctx, "青石街道", "street")
        ids[st.name] = st.id
        for c in ("和平社区", "东湖社区"):
            ca = areas.create_area(ctx, c, "community", st.id)
            ids[c] = ca.id
            for g in ("第一网格", "第二网格"):
                ga = areas.create_area(ctx, g, "grid", ca.id)
                ids[f"{c}/{g}"] = ga.id
        s.commit()
    return ids


def user(db, by: Actor, username: str, area_id: int | None, roles=(), password="pass1234") -> Actor:
    with db.session_factory() as s:
        auth.create_user(ServiceContext(s, by), username, username, password, area_id, roles)
        s.commit()
    return auth.login(db.session_factory, username, password)
