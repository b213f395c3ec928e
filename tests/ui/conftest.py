"""Fixtures shared by the GUI tests."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QThreadPool

from shell.core import areas, auth
from shell.core.context import Actor, ServiceContext
from shell.core.database import open_database
from shell.testing import PluginSet
from tests.ui import PASSWORD, plugins_with_testplugin

# The start-up flow's plugins in these tests: only the test plugin (tests.ui.plugins_with_testplugin).
TESTPLUGIN = PluginSet(builtins=(), extra=("tests.testplugin",))


@pytest.fixture(scope="session")
def demo_template(sqlite_templates):
    """A demo database with the test plugin, made once per run; the tests copy it."""
    return sqlite_templates.path(TESTPLUGIN, demo=True)


@pytest.fixture
def plugin_db(tmp_path):
    """A fresh database with the test plugin's schema, a street and two users made by services."""
    pm = plugins_with_testplugin()
    db = open_database(tmp_path / "plug.sqlite", pm=pm, backup=False)
    with db.session_factory() as session:
        ctx = ServiceContext(session, Actor.system())
        street = areas.create_area(ctx, "青石街道", "street")
        auth.create_user(ctx, "clerk", "赵便签", PASSWORD, street.id, ["testplug_clerk"])
        auth.create_user(ctx, "staff", "钱街道", PASSWORD, street.id, ["street_staff"])
        session.commit()
    yield db
    db.dispose()


@pytest.fixture
def demo_db(demo_template, tmp_path):
    """A copy of the test plugin's demo street, opened (modules may define their own ``demo_db``)."""
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    db = open_database(path, pm=plugins_with_testplugin(), backup=False)
    yield db
    db.dispose()
    QThreadPool.globalInstance().waitForDone(5000)
