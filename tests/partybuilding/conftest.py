"""Fixtures for the party-building plugin: a migrated database (SQLite, or both engines), a fixed
clock, a small jurisdiction, and helpers to build organisations and members."""
from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import pytest

from shell.core.areas import create_area
from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.plugins import make_plugin_manager
from shell.testing import only

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
PARTYBUILDING = only("plugins.partybuilding")


def clock():
    return NOW


def make_pm():
    return make_plugin_manager(builtins=["plugins.partybuilding"], entry_points=False)


@pytest.fixture(scope="session")
def pb_template(sqlite_templates):
    return sqlite_templates.path(PARTYBUILDING)


@pytest.fixture
def pm():
    return make_pm()


@pytest.fixture
def sdb(pb_template, tmp_path, pm):
    path = tmp_path / "pb.sqlite"
    shutil.copyfile(pb_template, path)
    db = open_database(path, pm=pm, backup=False)
    yield db
    db.dispose()


@pytest.fixture
def pgdb(pg_templates, pm):
    with pg_templates.clone(PARTYBUILDING) as url:
        db = open_database(url, pm=pm, backup=False)
        yield db
        db.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def anydb(request):
    return request.getfixturevalue("sdb" if request.param == "sqlite" else "pgdb")


class World:
    """A street with two communities and two grids each, on one session with the system actor."""

    def __init__(self, db, actor=None):
        self.db = db
        self.session = db.session_factory()
        self.ctx = ServiceContext(self.session, actor or Actor.system(), clock)
        c = self.ctx
        self.street = create_area(c, "幸福街道", "street")
        self.c1 = create_area(c, "东风社区", "community", self.street.id)
        self.c2 = create_area(c, "红旗社区", "community", self.street.id)
        self.g11 = create_area(c, "东风一网格", "grid", self.c1.id)
        self.g12 = create_area(c, "东风二网格", "grid", self.c1.id)
        self.g21 = create_area(c, "红旗一网格", "grid", self.c2.id)
        self.session.commit()
        self.seq = 0

    def as_actor(self, actor) -> ServiceContext:
        s = self.db.session_factory()
        return ServiceContext(s, actor, clock)

    def id_number(self, birth=date(1980, 5, 1), male=True) -> str:
        from stdnum.cn import ric

        self.seq += 1
        seq = self.seq * 2 + (1 if male else 0)
        body = f"110105{birth:%Y%m%d}{seq:03d}"
        return body + ric.calc_check_digit(body + "0")

    def member(self, org, stage="full", admitted=date(2010, 7, 1), birth=date(1980, 5, 1), name=None, **kw):
        from plugins.partybuilding import services as svc

        dates = {}
        if stage in ("probationary", "full"):
            dates["admitted_on"] = admitted
        if stage == "full":
            dates["full_on"] = svc.add_months(admitted, 12)
        if stage in ("applicant", "activist", "candidate"):
            dates["applied_on"] = kw.pop("applied_on", date(2024, 3, 1))
        if stage in ("activist", "candidate"):
            dates["activist_on"] = kw.pop("activist_on", date(2024, 6, 1))
        if stage == "candidate":
            dates["candidate_on"] = kw.pop("candidate_on", date(2025, 7, 1))
        dates.update({k: kw.pop(k) for k in list(kw) if k.endswith("_on") and k != "joined_on"})
        joined = kw.pop("joined_on", None) or max([date(2020, 1, 1)] + [d for d in dates.values() if d][:1])
        created = svc.create_member(self.ctx, name=name or f"党员{self.seq + 1}", id_number=self.id_number(birth),
                                    org_id=org.id, stage=stage, joined_on=joined, **dates, **kw)
        # The service hands back a masked view (shell/core/personal.py); the fixtures want the row.
        from shell.core import personal

        return personal.unmasked(created)

    def close(self):
        self.session.close()


@pytest.fixture
def world(sdb):
    w = World(sdb)
    yield w
    w.close()


@pytest.fixture
def anyworld(anydb):
    w = World(anydb)
    yield w
    w.close()


@pytest.fixture
def tree(world):
    """党工委 → 东风社区党委 → 东风一网格党支部 (with committee) → 1号楼党小组 → 中心户, plus
    东风二网格党支部 and 红旗社区党总支 → 红旗一网格党支部."""
    from plugins.partybuilding import services as svc

    c = world.ctx
    t = type("Tree", (), {})()
    t.top = svc.create_org(c, "中共幸福街道工作委员会", "working_committee", area_id=world.street.id,
                           founded_on=date(2005, 1, 1))
    t.dfc = svc.create_org(c, "中共东风社区委员会", "community_committee", t.top.id, world.c1.id, founded_on=date(2005, 1, 1))
    t.hqz = svc.create_org(c, "中共红旗社区总支部委员会", "general_branch", t.top.id, world.c2.id, founded_on=date(2005, 1, 1))
    t.b1 = svc.create_org(c, "东风一网格党支部", "branch", t.dfc.id, world.g11.id, founded_on=date(2010, 1, 1),
                          has_committee=True, committee_size=3, committee_elected_on=date(2023, 5, 1))
    t.b2 = svc.create_org(c, "东风二网格党支部", "branch", t.dfc.id, world.g12.id, founded_on=date(2010, 1, 1))
    t.b3 = svc.create_org(c, "红旗一网格党支部", "branch", t.hqz.id, world.g21.id, founded_on=date(2010, 1, 1))
    t.g1 = svc.create_org(c, "1号楼党小组", "group", t.b1.id, founded_on=date(2015, 1, 1))
    t.h1 = svc.create_org(c, "1号楼党员中心户", "household", t.g1.id, founded_on=date(2016, 1, 1))
    world.session.flush()
    return t


@pytest.fixture
def app(world, tree, pm):
    """An AppContext of the system actor on the world with its tree committed (for GUI tests)."""
    from shell.core.context import AppContext

    world.session.commit()
    return AppContext(world.db.session_factory, Actor.system(), pm, clock=clock)


@pytest.fixture(autouse=True)
def no_blocking_message_boxes(monkeypatch):
    """A message box nobody expected would block an offscreen test forever: fail with its text instead
    (tests that expect an error replace the view's ``show_error``)."""
    from PySide6.QtWidgets import QMessageBox

    def refuse(box, *a, **k):
        raise AssertionError(f"unexpected message box: {box.windowTitle()}: {box.text()}")

    monkeypatch.setattr(QMessageBox, "exec", refuse)
