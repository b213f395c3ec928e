"""The demo database: a plausible street with communities and grids, one user per default role,
and each plugin's own demo data through ``seed_demo``."""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import select

from shell.core import auth, chain, settings
from shell.core.database import Database, open_database
from shell.core.models import Area, Role, User
from shell.errors import DatabaseError

# communities, grids per community. large is the street of issue 9 (20 communities, 400 grids, about
# 200,000 residents once the plugins have seeded); medium is a tenth of it; small fits the test suite.
SCALES = {"small": (3, 4), "medium": (5, 8), "large": (20, 20)}
DEFAULT_PASSWORD = "demo1234"

COMMUNITY_NAMES = [
    "和平里", "幸福苑", "东湖", "西关", "南苑", "北辰", "青石桥", "柳荫", "春晖", "文昌", "锦绣", "安康",
    "翠竹", "金桂", "银杏", "枫林", "紫荆", "丹霞", "明珠", "长乐", "永安", "福寿", "朝阳", "兴华",
    "新民", "育才", "光明", "红旗", "建设", "团结", "民主", "友谊", "桃源", "梅园",
]
GRID_ORDINALS = "一二三四五六七八九十"


def _ordinal(n: int) -> str:
    if n <= 10:
        return GRID_ORDINALS[n - 1]
    if n < 20:
        return "十" + GRID_ORDINALS[n - 11]
    tens, ones = divmod(n, 10)
    return GRID_ORDINALS[tens - 1] + "十" + (GRID_ORDINALS[ones - 1] if ones else "")


def seed_areas(session, scale: str, street_name: str = "青石街道") -> Area:
    communities, grids = SCALES[scale]
    opened = date(2018, 1, 1)
    street = Area(name=street_name, level="street", code="330102001", opened_on=opened, path="")
    session.add(street)
    session.flush()
    street.path = f"/{street.id}/"
    for ci in range(communities):
        name = COMMUNITY_NAMES[ci % len(COMMUNITY_NAMES)] + ("社区" if ci < len(COMMUNITY_NAMES) else f"{ci}社区")
        c = Area(name=name, level="community", parent_id=street.id, code=f"330102001{ci + 1:03d}",
                 sort_order=ci, opened_on=opened, path="")
        session.add(c)
        session.flush()
        c.path = f"{street.path}{c.id}/"
        for gi in range(grids):
            g = Area(name=f"第{_ordinal(gi + 1)}网格", level="grid", parent_id=c.id, sort_order=gi,
                     code=f"{c.code}{gi + 1:02d}", opened_on=opened, path="")
            session.add(g)
            session.flush()
            g.path = f"{c.path}{g.id}/"
    session.flush()
    return street


DEMO_PEOPLE = {"admin": "管理员", "street_staff": "王街道", "community_staff": "李社区", "grid_worker": "张网格"}


def seed_users(session, street: Area, password: str) -> list[User]:
    # The first created, not the smallest path: as text "/1/12/" sorts before "/1/2/".
    community = session.scalar(select(Area).where(Area.level == "community").order_by(Area.sort_order, Area.id))
    grid = session.scalar(select(Area).where(Area.level == "grid", Area.parent_id == community.id)
                          .order_by(Area.sort_order, Area.id))
    scope_for = {"community_staff": community, "grid_worker": grid}
    users = []
    hashed = auth.hash_password(password)
    for role in session.scalars(select(Role).order_by(Role.id)):
        is_admin = role.name == "admin"
        area = None if is_admin else scope_for.get(role.name, street)
        u = User(username=role.name, display_name=DEMO_PEOPLE.get(role.name, role.title + "（演示）"),
                 password_hash=hashed, is_superuser=is_admin, area_id=area.id if area else None)
        u.roles = [role]
        session.add(u)
        users.append(u)
    session.flush()
    return users


def seed_plugins(session, pm, scale: str, rng: random.Random,
                 progress: Callable[[str, float], None] | None = None) -> dict[str, str]:
    """Each plugin seeds inside its own savepoint: a failing one leaves nothing half-written and the
    others still seed. Returns {plugin: error} for the failures; ``progress(plugin, seconds)`` is
    called after each plugin."""
    import logging

    errors = {}
    for impl in pm.hook.seed_demo.get_hookimpls():  # load order: a plugin seeds after those it requires
        started = time.perf_counter()
        try:
            with session.begin_nested():
                impl.function(session=session, scale=scale, rng=rng)
        except Exception as exc:
            logging.getLogger(__name__).exception("插件 %s 生成演示数据失败", impl.plugin_name)
            errors[impl.plugin_name] = f"{type(exc).__name__}: {exc}"
        if progress is not None:
            progress(impl.plugin_name, time.perf_counter() - started)
    return errors


def create_demo(target: str | Path, scale: str = "small", password: str = DEFAULT_PASSWORD, pm=None,
                seed: int = 20261122, force: bool = False,
                progress: Callable[[str, float], None] | None = None) -> Database:
    """Create a demo database at ``target`` (a SQLite path or URL of an empty database). Plugins
    whose ``seed_demo`` failed are in the result's ``seed_errors`` ({plugin: error}); the demo is
    usable without their data, so this does not raise. ``progress(step, seconds)`` hears of each
    step ("core", each plugin, "commit") as it finishes."""
    if scale not in SCALES:
        raise DatabaseError(f"未知的规模“{scale}”：可选 small、medium、large。")
    text_target = str(target)
    if "://" not in text_target:
        path = Path(text_target).expanduser().resolve()
        if path.exists():
            if not force:
                raise DatabaseError(f"文件“{path}”已存在。为免覆盖数据，请换一个文件名，或加 --force 重建演示数据库。")
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        target = path
    auth.check_password_policy(password)
    db = open_database(target, pm=pm, backup=False)
    rng = random.Random(seed)
    with db.session_factory() as session:
        session.info.update(actor_id=None, actor_name="演示数据")
        if auth.has_users(session):
            db.dispose()
            raise DatabaseError("目标数据库已有数据，不能在其上生成演示数据。请指定一个新的文件或空数据库。")
        started = time.perf_counter()
        street = seed_areas(session, scale)
        seed_users(session, street, password)
        settings.set_flag(session, settings.DEMO_FLAG, True)
        settings.set_flag(session, "core.unit_name", f"{street.name}办事处")
        if progress is not None:
            progress("core", time.perf_counter() - started)
        seed_errors = seed_plugins(session, pm, scale, rng, progress) if pm is not None else {}
        started = time.perf_counter()
        # Built here and chained as it went in: the tails are the verified heads, so the first
        # opening does not walk a whole street's ledgers (shell/core/chain.py).
        chain.remember_tails(session)
        session.commit()
        if db.engine.dialect.name == "postgresql":
            # Freshly bulk-filled tables have no planner statistics until autovacuum comes round:
            # meanwhile a name search took 35 ms instead of 3.
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        if progress is not None:
            progress("commit", time.perf_counter() - started)
    db.is_demo = True
    db.seed_errors = seed_errors
    return db
