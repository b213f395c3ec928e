"""Fixtures for the emergency plugin: databases migrated with the plugin's branch (SQLite always,
PostgreSQL where SQL or concurrency matters), a street with two communities, and contexts."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pytest

from shell.clock import LOCAL_TZ
from shell.core.areas import create_area
from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.plugins import make_plugin_manager
from shell.testing import only

TODAY = date(2026, 6, 15)
EMERGENCY = only("plugins.emergency")


def clock_at(day: date):
    """A clock fixed at noon (Shanghai) of ``day``."""
    moment = datetime.combine(day, time(12, 0), LOCAL_TZ).astimezone(UTC)
    return lambda: moment


@pytest.fixture(scope="session")
def emergency_pm():
    return make_plugin_manager(builtins=["plugins.emergency"], entry_points=False)


@pytest.fixture(scope="session")
def em_sqlite_template(sqlite_templates):
    return sqlite_templates.path(EMERGENCY)


@pytest.fixture
def em_sqlite(em_sqlite_template, tmp_path, emergency_pm):
    path = tmp_path / "em.sqlite"
    shutil.copyfile(em_sqlite_template, path)
    db = open_database(path, pm=emergency_pm, backup=False)
    yield db
    db.dispose()


@pytest.fixture
def em_pg(pg_templates, emergency_pm):
    with pg_templates.clone(EMERGENCY) as url:
        db = open_database(url, pm=emergency_pm, backup=False)
        yield db
        db.dispose()


@pytest.fixture(params=["sqlite", "pg"])
def em_db(request):
    return request.getfixturevalue("em_sqlite" if request.param == "sqlite" else "em_pg")


@dataclass
class World:
    db: object
    street: int
    c1: int
    c2: int

    def ctx(self, actor: Actor | None = None, day: date = TODAY) -> ServiceContext:
        s = self.db.session_factory()
        _SESSIONS.append(s)
        return ServiceContext(s, actor or Actor.system(), clock=clock_at(day))


_SESSIONS: list = []


def build_world(db) -> World:
    with db.session_factory() as s:
        ctx = ServiceContext(s, Actor.system())
        street = create_area(ctx, "和平街道", "street")
        c1 = create_area(ctx, "东湖社区", "community", street.id)
        c2 = create_area(ctx, "西关社区", "community", street.id)
        s.commit()
        return World(db, street.id, c1.id, c2.id)


@pytest.fixture
def world(em_sqlite):
    w = build_world(em_sqlite)
    yield w
    while _SESSIONS:
        _SESSIONS.pop().close()


@pytest.fixture
def world_both(em_db):
    w = build_world(em_db)
    yield w
    while _SESSIONS:
        _SESSIONS.pop().close()


def scoped_actor(area_path: str, *perms: str) -> Actor:
    return Actor(user_id=None, username="clerk", display_name="社区保管员", permissions=frozenset(perms),
                 scope_paths=(area_path,))


@pytest.fixture
def conflict_dialogs(qtbot):
    """Answers the shell's modal 记录已被他人修改 dialog (it runs its own event loop): records what it
    showed — message and (label, mine, theirs) rows — then presses ``answer["button"]``
    ("keep" = 返回继续编辑, "reload" = 重新载入（放弃我的修改）)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel

    seen: list[dict] = []
    answer = {"button": "keep", "seen": seen}

    def poll():
        for w in QApplication.topLevelWidgets():
            if w.objectName() == "conflict-dialog" and w.isVisible():
                t = w.table
                seen.append({"message": w.findChild(QLabel, "conflict-message").text(),
                             "rows": [tuple(t.item(r, c).text() for c in range(3)) for r in range(t.rowCount())]})
                (w.reload_button if answer["button"] == "reload" else w.keep_button).click()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(30)
    yield answer
    timer.stop()
