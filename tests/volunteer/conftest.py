"""Fixtures for the volunteer plugin: a migrated database with the plugin on SQLite and PostgreSQL,
a community to work in, and service contexts for the system actor and for limited users."""
from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta

import pytest

from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.core.models import Area
from shell.plugins import make_plugin_manager
from shell.testing import only

T0 = datetime(2026, 5, 10, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
VOLUNTEER = only("plugins.volunteer")


def make_pm():
    return make_plugin_manager(builtins=["plugins.volunteer"], entry_points=False)


@pytest.fixture(scope="session")
def vpm():
    return make_pm()


@pytest.fixture(scope="session")
def vol_template(sqlite_templates):
    return sqlite_templates.path(VOLUNTEER)


@pytest.fixture
def vol_sqlite(vol_template, tmp_path, vpm):
    path = tmp_path / "vol.sqlite"
    shutil.copyfile(vol_template, path)
    db = open_database(path, pm=vpm, backup=False)
    yield db
    db.dispose()


@pytest.fixture
def vol_pg(pg_templates, vpm):
    with pg_templates.clone(VOLUNTEER) as url:
        db = open_database(url, pm=vpm, backup=False)
        yield db
        db.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def vdb(request):
    return request.getfixturevalue("vol_sqlite" if request.param == "sqlite" else "vol_pg")


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **kw):
        self.now += timedelta(**kw)


@pytest.fixture
def clock():
    return Clock()


def seed_areas(db):
    """街道 → 两个社区; returns (street, c1, c2)."""
    with db.session_factory() as s:
        street = Area(name="青石街道", level="street", code="330102001", path="", opened_on=date(2020, 1, 1))
        s.add(street)
        s.flush()
        street.path = f"/{street.id}/"
        out = [street]
        for i, name in enumerate(("和平里社区", "幸福苑社区")):
            c = Area(name=name, level="community", parent_id=street.id, code=f"330102001{i + 1:03d}", path="",
                     opened_on=date(2020, 1, 1))
            s.add(c)
            s.flush()
            c.path = f"{street.path}{c.id}/"
            out.append(c)
        s.commit()
        return tuple((a.id, a.path) for a in out)


@pytest.fixture
def areas(vdb):
    return seed_areas(vdb)


@pytest.fixture
def sctx(vdb, clock):
    """A ServiceContext for the system actor with the test clock."""
    s = vdb.session_factory()
    yield ServiceContext(s, Actor.system(), clock)
    s.close()


def actor_for(path: str, *codes: str, name="社区干部") -> Actor:
    return Actor(user_id=None, username="u", display_name=name, permissions=frozenset(codes), scope_paths=(path,))


def id_number(birth="19900101", seq=123, region="330102") -> str:
    from stdnum.cn import ric

    body = f"{region}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")
