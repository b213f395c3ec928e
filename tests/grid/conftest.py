"""Grid fixtures: a database migrated with the grid plugin on SQLite (template copied per test) and
PostgreSQL, a small area tree (street → 2 communities → 2 grids each) and actors of each role."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

import plugins.grid as grid_plugin
from shell.core.areas import create_area
from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.plugins import make_plugin_manager
from shell.testing import only

ALL = frozenset(code for code, _ in grid_plugin.PERMISSIONS) | {"core.area.view"}
# 2025-06-16 10:00 Shanghai (a Monday)
FIXED_NOW = datetime(2025, 6, 16, 2, 0, tzinfo=UTC)


GRID = only("plugins.grid")


def make_pm():
    return make_plugin_manager(builtins=["plugins.grid"], entry_points=False)


@pytest.fixture(scope="session")
def grid_pm():
    return make_pm()


@pytest.fixture(scope="session")
def grid_template(sqlite_templates):
    return sqlite_templates.path(GRID)


@pytest.fixture
def grid_sqlite(grid_template, tmp_path, grid_pm):
    path = tmp_path / "grid.sqlite"
    shutil.copyfile(grid_template, path)
    db = open_database(path, pm=grid_pm, backup=False)
    yield db
    db.dispose()


@pytest.fixture
def grid_pg(pg_templates, grid_pm):
    with pg_templates.clone(GRID) as url:
        db = open_database(url, pm=grid_pm, backup=False)
        yield db
        db.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def gdb(request):
    return request.getfixturevalue("grid_sqlite" if request.param == "sqlite" else "grid_pg")


@dataclass
class Tree:
    street: object
    c1: object
    c2: object
    g11: object
    g12: object
    g21: object
    g22: object


def build_tree(db) -> Tree:
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = create_area(ctx, "青石街道", "street")
        c1 = create_area(ctx, "和平里社区", "community", street.id)
        c2 = create_area(ctx, "幸福苑社区", "community", street.id)
        g11 = create_area(ctx, "第一网格", "grid", c1.id)
        g12 = create_area(ctx, "第二网格", "grid", c1.id)
        g21 = create_area(ctx, "第一网格", "grid", c2.id)
        g22 = create_area(ctx, "第二网格", "grid", c2.id)
        s.commit()
        tree = Tree(street, c1, c2, g11, g12, g21, g22)
        for a in vars(tree).values():
            s.expunge(a)
        return tree


@pytest.fixture
def tree(gdb):
    return build_tree(gdb)


@pytest.fixture
def stree(grid_sqlite):
    return build_tree(grid_sqlite)


def actor(area=None, codes=ALL, name="测试员", user_id=None, superuser=False):
    return Actor(user_id=user_id, username=name, display_name=name, permissions=frozenset(codes),
                 scope_paths=(area.path,) if area is not None else (), is_superuser=superuser)


@pytest.fixture
def ctx_for():
    """ctx_for(db, actor, now=FIXED_NOW) -> ServiceContext on a new session (closed at teardown)."""
    sessions = []

    def factory(db, who, now=FIXED_NOW):
        s = db.session_factory()
        sessions.append(s)
        return ServiceContext(s, who, clock=(lambda: now) if not callable(now) else now)

    yield factory
    for s in sessions:
        s.close()


def make_id(region="110105", birth="19900101", seq=123) -> str:
    from stdnum.cn import ric

    base = f"{region}{birth}{seq:03d}"
    return base + ric.calc_check_digit(base + "0")
